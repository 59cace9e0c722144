"""Grad-CAM: where in an image a fitted network found its evidence.

Gradient-weighted class activation mapping (Selvaraju et al., 2017) weighs
each feature map of a convolutional layer by the mean gradient of a class
score with respect to it, sums the weighted maps, keeps the positive part and
scales it to the input image. Bright regions are those whose features pushed
the score of the chosen class up.

:class:`GradCAM` works on any fitted skbrain estimator, hand-made or
pretrained, and on a fitted :class:`~sklearn.pipeline.Pipeline` ending in
one (its other steps transform the input first, so file paths work too).
It leaves the network as it found it: hooks are removed, the training mode
is restored and no parameter gradient is stored.
"""

import numbers

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._unwrap import unwrap
from .datasets._folder import class_name
from .networks import _ClampedMaxPool

__all__ = ["GradCAM", "default_target_layer", "save_gradcam_overlays"]

_POOLING = (nn.MaxPool2d, nn.AvgPool2d, _ClampedMaxPool)

# Layers that finish a convolution block; the default target layer moves
# past them so the maps are taken from the block's rectified output.
_BLOCK_TAIL = (
    nn.BatchNorm2d,
    nn.GroupNorm,
    nn.ReLU,
    nn.ReLU6,
    nn.SiLU,
    nn.GELU,
    nn.LeakyReLU,
    nn.ELU,
    nn.Hardswish,
)


def default_target_layer(module):
    """Name of the layer Grad-CAM explains by default.

    * ResNet backbones: ``backbone.layer4``, the last residual stage (its
      output is the sum of the convolution path and the shortcut, which is
      what the head sees).
    * Every other network: the last :class:`~torch.nn.Conv2d`, extended over
      the normalisation and activation layers that directly follow it in the
      same :class:`~torch.nn.Sequential`, so the map comes from the block's
      rectified output (and over a pooling layer between them, as in
      skbrain's ``pool_first`` nets). For :class:`~skbrain.networks.ConvNet`
      that is the last conv block's ReLU; for EfficientNet the 1x1 head
      convolution's SiLU just before pooling (``backbone.features.8.2``); for
      VGG the ReLU after the last convolution.

    Parameters
    ----------
    module : torch.nn.Module
        A network, such as a fitted estimator's ``module_``.

    Returns
    -------
    str
        A name from ``module.named_modules()``.

    Examples
    --------
    >>> from skbrain.networks import ConvNet
    >>> default_target_layer(ConvNet(channels=[4, 8], kernel_size=3))
    'features.7'
    """
    if getattr(module, "family", None) == "resnet" and hasattr(module, "backbone"):
        return "backbone.layer4"
    modules = dict(module.named_modules())
    convs = [name for name, layer in modules.items() if isinstance(layer, nn.Conv2d)]
    if not convs:
        raise ValueError(
            f"{type(module).__name__} has no Conv2d layer for Grad-CAM to explain; pass "
            "layer= with the name or module of a layer that outputs feature maps"
        )
    name = convs[-1]
    parent_name, _, child = name.rpartition(".")
    parent = modules[parent_name]
    if isinstance(parent, nn.Sequential):
        children = list(parent.named_children())
        position = [n for n, _ in children].index(child)
        for next_name, layer in children[position + 1:]:
            if isinstance(layer, _POOLING):
                # Skbrain's nets pool before normalising (pool_first); move
                # past a pooling layer only when normalisation or activation
                # follows it, never to end on the pooled output itself.
                continue
            if not isinstance(layer, _BLOCK_TAIL):
                break
            name = f"{parent_name}.{next_name}" if parent_name else next_name
    return name


class GradCAM:
    """Grad-CAM heat maps of a fitted skbrain estimator or pipeline.

    Parameters
    ----------
    estimator : fitted skbrain estimator or Pipeline ending in one
        The model to explain. A pipeline's steps before the last transform
        the input (for example :class:`~skbrain.preprocessing.ImageResizer`
        turning file paths into arrays) before the network sees it.
    layer : str, torch.nn.Module or None, default=None
        The layer whose feature maps are weighed: a name from
        ``estimator.module_.named_modules()`` or the module itself. ``None``
        picks :func:`default_target_layer` (the last convolution block).

    Attributes
    ----------
    layer_name_ : str
        The layer explained by the last call to :meth:`explain`.

    Notes
    -----
    The score explained is the target class's logit minus the mean of the
    other logits (for two classes, the log-odds of the target), which is
    what the softmax probabilities depend on; the raw logit alone can move
    with every class's logit alike. For two classes the map of one class
    is then the positive part of minus the other's (before scaling): where
    a tumor map is all zero, nothing pointed to a tumor.

    The maps explain the single image, not the test-time augmentation views
    that ``tta`` averages in ``predict_proba``. Each map is scaled on its
    own to [0, 1] (its minimum to 0, its maximum to 1; an all-zero map stays
    zero), so maps show where, not how strongly, across images.

    Examples
    --------
    >>> from skbrain import CompactCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> from skbrain.explain import GradCAM
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = CompactCNNClassifier(n_kernels=4, max_epochs=1, random_state=0)
    >>> clf = clf.fit(data.data, data.target)
    >>> heatmaps = GradCAM(clf).explain(data.data[:3])
    >>> heatmaps.shape, heatmaps.dtype, bool(heatmaps.min() >= 0 and heatmaps.max() <= 1)
    ((3, 32, 32), dtype('float32'), True)
    """

    def __init__(self, estimator, layer=None):
        self.estimator = estimator
        self.layer = layer

    def _resolve_layer(self, module):
        if self.layer is None:
            name = default_target_layer(module)
            return name, module.get_submodule(name)
        if isinstance(self.layer, nn.Module):
            for name, candidate in module.named_modules():
                if candidate is self.layer:
                    return name, candidate
            raise ValueError(
                f"layer={type(self.layer).__name__}(...) is not a submodule of the fitted "
                f"network {type(module).__name__}; pass a layer of estimator.module_"
            )
        if isinstance(self.layer, str):
            try:
                return self.layer, module.get_submodule(self.layer)
            except AttributeError:
                names = [n for n, m in module.named_modules() if isinstance(m, nn.Conv2d)]
                raise ValueError(
                    f"layer={self.layer!r} is not a layer of {type(module).__name__}; its "
                    f"convolutions are {names}"
                ) from None
        raise TypeError(
            f"layer must be None, a layer name or a torch.nn.Module; got {self.layer!r}"
        )

    def _target_indices(self, target, classes, n):
        if target is None:
            return np.full(n, len(classes) - 1)
        targets = np.asarray(target)
        if targets.ndim == 0:
            targets = np.full(n, targets.item())
        if targets.shape != (n,):
            raise ValueError(
                f"target must be one label or one label per image ({n}); got shape "
                f"{targets.shape}"
            )
        lookup = {label: i for i, label in enumerate(classes.tolist())}
        try:
            return np.array([lookup[t] for t in targets.tolist()])
        except KeyError as exc:
            raise ValueError(
                f"target {exc.args[0]!r} is not one of the estimator's classes "
                f"{classes.tolist()}"
            ) from None

    def explain(self, X, target=None, *, batch_size=32):
        """Compute one heat map per image.

        Parameters
        ----------
        X : array-like
            Images as the estimator (or the pipeline) takes them: arrays of
            shape (n, C, H, W) or (n, H, W), float in [0, 1] or uint8 (scaled
            by 1/255 exactly as in ``predict_proba``), or whatever the
            pipeline's first step reads, such as file paths.
        target : label, array-like of labels or None, default=None
            The class whose score is explained, as a label of ``classes_``
            (one for all images, or one per image, e.g. the predictions).
            ``None`` explains the last class, the positive one (tumor, label
            1) for binary labels.
        batch_size : int, default=32
            Images per forward/backward pass.

        Returns
        -------
        ndarray of shape (n, H, W), float32
            Heat maps in [0, 1] at the resolution the network sees (after the
            pipeline's transforms), upsampled bilinearly from the layer's
            feature maps.
        """
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        found = unwrap(self.estimator, caller="GradCAM")
        final = found.estimator
        X = found.transform(X)
        X = final._validate_X(X, reset=False)
        module = final.module_
        name, layer = self._resolve_layer(module)
        self.layer_name_ = name
        targets = self._target_indices(target, np.asarray(final.classes_), len(X))
        device = torch.device(final.net_.device)

        captured = {}

        def keep_output(_module, _inputs, output):
            if not isinstance(output, torch.Tensor):
                raise TypeError(
                    f"layer {name!r} returns {type(output).__name__}, not a tensor of "
                    "feature maps; choose another layer"
                )
            captured["maps"] = output
            # Later in-place layers (ReLU(inplace=True)) must not overwrite
            # the maps whose gradient is taken.
            return output.clone()

        heatmaps = np.empty((len(X), *X.shape[-2:]), dtype=np.float32)
        was_training = module.training
        handle = layer.register_forward_hook(keep_output)
        try:
            module.eval()
            with torch.enable_grad():
                for start in range(0, len(X), batch_size):
                    stop = min(start + batch_size, len(X))
                    x = torch.as_tensor(X[start:stop], device=device)
                    x = x.float().div(255.0) if x.dtype == torch.uint8 else x.float()
                    # Gradients reach the maps even where the layer is frozen.
                    x.requires_grad_(True)
                    logits = module(x)
                    score = _log_odds(logits, targets[start:stop]).sum()
                    maps = captured.pop("maps")
                    (grads,) = torch.autograd.grad(score, maps)
                    heatmaps[start:stop] = _cam(maps.detach(), grads, X.shape[-2:])
        finally:
            handle.remove()
            module.train(was_training)
        return heatmaps


def _log_odds(logits, targets):
    """The target logit minus the mean of the others: what the softmax depends on.

    The raw logit of one class can rise or fall with every class's logit
    alike; only its margin over the others changes the prediction. For two
    classes this is the log-odds of the target class.
    """
    index = torch.as_tensor(targets, device=logits.device)[:, None]
    chosen = logits.gather(1, index)[:, 0]
    if logits.shape[1] == 1:
        return chosen
    others = (logits.sum(dim=1) - chosen) / (logits.shape[1] - 1)
    return chosen - others


def _cam(maps, grads, size):
    if maps.ndim != 4:
        raise ValueError(
            f"the explained layer outputs shape {tuple(maps.shape)}; Grad-CAM needs feature "
            "maps of shape (n, channels, height, width)"
        )
    weights = grads.float().mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * maps.float()).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=tuple(size), mode="bilinear", align_corners=False)[:, 0]
    low = cam.amin(dim=(1, 2), keepdim=True)
    span = cam.amax(dim=(1, 2), keepdim=True) - low
    cam = torch.where(span > 0, (cam - low) / span.clamp_min(1e-12), torch.zeros_like(cam))
    return cam.clamp_(0, 1).cpu().numpy()


def save_gradcam_overlays(model, images, output, *, target=None, layer=None, class_names=None):
    """Write one PNG per image: the image, its Grad-CAM map, the prediction and probability.

    Parameters
    ----------
    model : fitted skbrain estimator, or anything that wraps one
        Pipelines, threshold wrappers, fitted searches; the predicted label is
        the whole model's (so a tuned threshold counts).
    images : list of paths
        Image files, read by the model's first step (an ``ImageResizer``).
    output : str or path-like
        Folder for the figures (created if needed); each is named after its
        image, ``<name>.gradcam.png`` (``<name>.<i>.gradcam.png`` when two
        images share a name).
    target : label or None, default=None
        The class whose evidence is shown; ``None`` shows the predicted class
        of each image.
    layer : str or None, default=None
        See :class:`GradCAM`.
    class_names : dict or sequence, default=None
        Display names of the labels, as in :func:`skbrain.plotting.plot_gradcam`.

    Returns
    -------
    list of dict
        Per image: ``image``, ``figure`` (the PNG written), ``label`` (predicted),
        ``probability`` (of the predicted label) and ``target`` (class shown).
    """
    from collections import Counter
    from pathlib import Path

    from .persistence import atomic_write
    from .plotting import plot_gradcam

    found = unwrap(model, caller="save_gradcam_overlays")
    classes = np.asarray(found.estimator.classes_)
    paths = [str(p) for p in images]
    if not paths:
        raise ValueError("images is empty; give at least one image file")
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise ValueError(f"output {str(output)!r} is a file, not a folder")
    proba = np.asarray(model.predict_proba(paths))
    labels = np.asarray(model.predict(paths))
    targets = labels if target is None else np.full(len(paths), target, dtype=object)
    heatmaps = GradCAM(model, layer=layer).explain(paths, target=targets)
    output.mkdir(parents=True, exist_ok=True)
    stems = Counter(Path(p).stem for p in paths)
    written = []
    import matplotlib.pyplot as plt

    for i, path in enumerate(paths):
        stem = Path(path).stem
        name = f"{stem}.gradcam.png" if stems[stem] == 1 else f"{stem}.{i}.gradcam.png"
        column = int(np.flatnonzero(classes == labels[i])[0])
        # The title is set here: plot_gradcam's own fails without y_true (colour None).
        fig = plot_gradcam([path], heatmaps[i:i + 1], n=1)
        shown = "predicted class" if target is None else f"class {class_name(target, class_names)}"
        fig.axes[0].set_title(f"predicted: {class_name(labels[i], class_names)} "
                              f"(p={proba[i, column]:.2f})\nGrad-CAM of the {shown}",
                              fontsize=10)
        fig.suptitle(Path(path).name, fontsize=9)
        with atomic_write(output / name, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
        plt.close(fig)
        written.append({"image": path, "figure": str(output / name),
                        "label": labels[i].item() if hasattr(labels[i], "item") else labels[i],
                        "probability": float(proba[i, column]),
                        "target": targets[i].item() if hasattr(targets[i], "item")
                        else targets[i]})
    return written
