"""How heat maps are computed: the methods, the layer they read and the maps' geometry.

The public face is :mod:`skbrain.explain` (its description says what each
method does and why these); this module holds the machinery: the layer
methods' hooks (HiResCAM, Grad-CAM), captum's input methods (occlusion,
integrated gradients), scaling and the way back to each input's geometry.
"""

import numbers

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._unwrap import unwrap
from .backbones import BackboneNet
from .networks import _ClampedMaxPool

#: The explanation methods, by the name ``method=`` takes.
METHODS = ("hirescam", "occlusion", "integrated_gradients")
# Grad-CAM stays for GradCAM and method="gradcam", not among the methods offered.
_ACCEPTED = (*METHODS, "gradcam")
_LAYER_METHODS = ("hirescam", "gradcam")
#: What ``method="auto"`` (the default) explains with, by kind of network. Chosen on
#: LGG-dev's tumor masks with models that never saw LGG-dev
#: (``benchmarks/bench_explain.py``; the user guide's page on trust has the table).
DEFAULT_METHODS = {"hand-made": "hirescam", "pretrained": "integrated_gradients"}
_METHOD_NAMES = {"hirescam": "HiResCAM", "gradcam": "Grad-CAM", "occlusion": "occlusion",
                 "integrated_gradients": "integrated gradients"}

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


class Explainer:
    """Heat maps of a fitted skbrain estimator's evidence, by one of :data:`METHODS`.

    Parameters
    ----------
    estimator : fitted skbrain estimator, or anything that wraps one
        The model to explain. A pipeline's steps before the estimator
        transform the input (for example
        :class:`~skbrain.preprocessing.ImageResizer` turning file paths into
        arrays) before the network sees it.
    method : str, default="auto"
        One of :data:`METHODS`, or ``"auto"``: :func:`default_method`
        (integrated gradients for a pretrained backbone, HiResCAM for a
        hand-made net); see :mod:`skbrain.explain`'s description.
    layer : str, torch.nn.Module or None, default=None
        For the layer methods (``"hirescam"``, ``"gradcam"``): the layer
        whose feature maps are used, a name from
        ``estimator.module_.named_modules()`` or the module itself. ``None``
        picks :func:`default_target_layer`. Ignored by the others.

    Attributes
    ----------
    method_ : str
        The method of the last call to :meth:`explain` (``"auto"`` resolved).
    layer_name_ : str or None
        The layer explained by the last call to :meth:`explain` (``None``
        for the input methods).
    empty_ : ndarray of bool
        Per image of the last call: True where the map had no positive
        value (nothing pointed to the target class); such a map is all zero.

    Notes
    -----
    Why Grad-CAM can be empty while the model is sure: skbrain's nets pool
    each channel by its mean *and* its maximum. In a one-layer wide net
    fitted on generated lesions with percentile standardisation, the
    channels read through the maximum carry the tumor evidence (+7 log-odds
    from the peak at the lesion) while those read through the mean count
    against it (-2 from the whole brain). Grad-CAM's mean gradient spreads
    each maximum's weight over all the pixels, so the negative mean
    channels win everywhere and the rectified map is zero for 20 of 20
    tumor images; HiResCAM keeps each gradient where it acts and puts the
    peak inside the lesion for all 20.

    Examples
    --------
    >>> from skbrain import CompactCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> from skbrain.explain import Explainer
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = CompactCNNClassifier(n_kernels=4, max_epochs=1, random_state=0)
    >>> clf = clf.fit(data.data, data.target)
    >>> maps = Explainer(clf).explain(data.data[:3])
    >>> maps.shape, maps.dtype, bool(maps.min() >= 0 and maps.max() <= 1)
    ((3, 32, 32), dtype('float32'), True)
    """

    _default_geometry = "input"

    def __init__(self, estimator, method="auto", layer=None):
        self.estimator = estimator
        self.method = method
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

    def explain(self, X, target=None, *, geometry=None, batch_size=32):
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
        geometry : {"input", "network"} or None, default=None
            ``"input"``: each map in its image's own size and place (the
            pipeline's :class:`~skbrain.preprocessing.ImageResizer` crop,
            resize and padding undone; zero outside the crop, which the
            network did not see). ``"network"``: at the resolution the
            network sees. ``None``: ``"input"`` for :class:`Explainer`,
            ``"network"`` for :class:`GradCAM` (as before this option).
        batch_size : int, default=32
            Images per forward/backward pass.

        Returns
        -------
        ndarray of shape (n, H, W), float32, or list of such 2-D arrays
            Maps in [0, 1]. A list when ``geometry="input"`` and the images
            differ in size.
        """
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        _check_method(self.method)
        geometry = self._default_geometry if geometry is None else geometry
        if geometry not in ("input", "network"):
            raise ValueError(f"geometry must be 'input' or 'network'; got {geometry!r}")
        found = unwrap(self.estimator, caller=type(self).__name__)
        return self._explain(found, found.transform(X), X, target, geometry, batch_size)

    def _explain(self, found, X, original, target, geometry, batch_size, resizer=None):
        """:meth:`explain` of ``X``, the input already transformed by ``found``'s steps.

        ``resizer`` replaces the first step's ImageResizer for measuring the geometry
        (the report's runs on every core).
        """
        final = found.estimator
        X = final._validate_X(X, reset=False)
        module = final.module_
        targets = self._target_indices(target, np.asarray(final.classes_), len(X))
        device = torch.device(final.net_.device)
        was_training = module.training
        try:
            module.eval()
            method = self.method_ = (default_method(final) if self.method == "auto"
                                     else self.method)
            if method in _LAYER_METHODS:
                name, layer = self._resolve_layer(module)
                self.layer_name_ = name
                raw = _layer_maps(module, layer, name, method, X, targets, device,
                                  batch_size)
            else:
                self.layer_name_ = None
                raw = _input_maps(module, method, X, targets, device, batch_size)
        finally:
            module.train(was_training)
        heatmaps = _scale(raw)
        self.empty_ = heatmaps.reshape(len(heatmaps), -1).max(axis=1) <= 0
        if geometry == "network":
            return heatmaps
        return _to_input_geometry(heatmaps, found, original, resizer)


class GradCAM(Explainer):
    """Grad-CAM heat maps: :class:`Explainer` with ``method="gradcam"``.

    Kept for the code written before the other methods; its maps come at the
    network's resolution unless ``geometry="input"`` is asked. Prefer
    ``Explainer(estimator)`` (HiResCAM), which does not go blank on
    skbrain's max-pooled heads (see :class:`Explainer`'s Notes).

    Parameters
    ----------
    estimator : fitted skbrain estimator, or anything that wraps one
        See :class:`Explainer`.
    layer : str, torch.nn.Module or None, default=None
        See :class:`Explainer`.

    Examples
    --------
    >>> from skbrain import CompactCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = CompactCNNClassifier(n_kernels=4, max_epochs=1, random_state=0)
    >>> clf = clf.fit(data.data, data.target)
    >>> GradCAM(clf).explain(data.data[:3]).shape
    (3, 32, 32)
    """

    _default_geometry = "network"

    def __init__(self, estimator, layer=None):
        super().__init__(estimator, method="gradcam", layer=layer)


def _check_method(method):
    if method != "auto" and method not in _ACCEPTED:
        raise ValueError(f"method must be 'auto' or one of {list(_ACCEPTED)}; got {method!r}")


def default_method(estimator):
    """The method ``method="auto"`` explains a fitted estimator with.

    :data:`DEFAULT_METHODS` by kind of network: integrated gradients for a
    pretrained backbone, HiResCAM for a hand-made net.

    Parameters
    ----------
    estimator : fitted skbrain estimator, or anything that wraps one

    Returns
    -------
    str
        One of :data:`METHODS`.
    """
    final = unwrap(estimator, fitted=True, caller="default_method").estimator
    kind = "pretrained" if isinstance(final.module_, BackboneNet) else "hand-made"
    return DEFAULT_METHODS[kind]


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


def _all_log_odds(logits):
    """:func:`_log_odds` of every class, as columns."""
    if logits.shape[1] == 1:
        return logits
    k = logits.shape[1]
    return logits - (logits.sum(dim=1, keepdim=True) - logits) / (k - 1)


def _as_input(batch, device):
    x = torch.as_tensor(batch, device=device)
    return x.float().div(255.0) if x.dtype == torch.uint8 else x.float()


def _layer_maps(module, layer, name, method, X, targets, device, batch_size):
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

    out = np.empty((len(X), *X.shape[-2:]), dtype=np.float32)
    handle = layer.register_forward_hook(keep_output)
    try:
        with torch.enable_grad():
            for start in range(0, len(X), batch_size):
                stop = min(start + batch_size, len(X))
                x = _as_input(X[start:stop], device)
                # Gradients reach the maps even where the layer is frozen.
                x.requires_grad_(True)
                score = _log_odds(module(x), targets[start:stop]).sum()
                maps = captured.pop("maps")
                (grads,) = torch.autograd.grad(score, maps)
                out[start:stop] = _cam(maps.detach(), grads, X.shape[-2:], method)
    finally:
        handle.remove()
    return out


def _cam(maps, grads, size, method):
    if maps.ndim != 4:
        raise ValueError(
            f"the explained layer outputs shape {tuple(maps.shape)}; class activation maps "
            "need feature maps of shape (n, channels, height, width)"
        )
    maps, grads = maps.float(), grads.float()
    if method == "hirescam":
        cam = (grads * maps).sum(dim=1, keepdim=True)
    else:
        cam = (grads.mean(dim=(2, 3), keepdim=True) * maps).sum(dim=1, keepdim=True)
    cam = F.interpolate(cam, size=tuple(size), mode="bilinear", align_corners=False)[:, 0]
    return cam.cpu().numpy()


def _input_maps(module, method, X, targets, device, batch_size):
    try:
        from captum import attr
    except ImportError:
        raise ImportError(
            f"method={method!r} needs captum, a dependency of skbrain that is missing here: "
            "pip install captum; 'hirescam' and 'gradcam' need nothing more"
        ) from None
    channels, height, width = X.shape[1:]
    side = min(height, width)

    def forward(x):
        return _all_log_odds(module(x))

    out = np.empty((len(X), height, width), dtype=np.float32)
    with torch.enable_grad():
        for start in range(0, len(X), batch_size):
            stop = min(start + batch_size, len(X))
            x = _as_input(X[start:stop], device)
            # The background: each image's darkest value (black, after any normalisation).
            baseline = x.amin(dim=(1, 2, 3), keepdim=True).expand_as(x).contiguous()
            target = torch.as_tensor(targets[start:stop], device=device)
            if method == "occlusion":
                window = max(3, side // 8)
                stride = max(1, window // 2)
                a = attr.Occlusion(forward).attribute(
                    x, sliding_window_shapes=(channels, window, window),
                    strides=(channels, stride, stride), baselines=baseline, target=target)
            else:
                a = attr.IntegratedGradients(forward).attribute(
                    x, baselines=baseline, target=target, n_steps=32,
                    internal_batch_size=len(x) * 8)
                k = max(3, side // 16) | 1
                a = F.avg_pool2d(a.sum(dim=1, keepdim=True), k, stride=1, padding=k // 2,
                                 count_include_pad=False)
            out[start:stop] = a.sum(dim=1).detach().cpu().numpy()
    return out


def _scale(raw):
    """Positive part, each map scaled to [0, 1] on its own (an all-zero map stays zero).

    A positive map that is flat, its values apart by no more than float32 rounding (a layer
    of one pixel, upsampled), is uniform: all ones, on every device. Min-max scaling would
    stretch the CPU's rounding noise to a full-range map, and give CUDA's exact constant zero.
    """
    cam = np.maximum(np.nan_to_num(raw, nan=0.0), 0).astype(np.float32)
    flat = cam.reshape(len(cam), -1)
    low, high = flat.min(axis=1), flat.max(axis=1)
    span = high - low
    uniform = (high > 0) & (span <= 1e-5 * high)
    span = np.where(uniform, 0, span)[:, None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(span > 0, (cam - low[:, None, None]) / np.where(span > 0, span, 1),
                          0)
    scaled[uniform] = 1
    return np.clip(scaled, 0, 1).astype(np.float32)


def _to_input_geometry(heatmaps, found, X, resizer=None):
    """Undo the first step's crop, resize and padding when it is an ImageResizer."""
    from .preprocessing import ImageResizer

    if not found.steps or not isinstance(found.steps[0][1], ImageResizer):
        return heatmaps
    resizer = found.steps[0][1] if resizer is None else resizer
    geometry = resizer.geometry(X)
    out = []
    net_h, net_w = heatmaps.shape[-2:]
    for cam, (height, width, left, top, right, bottom, w_top, w_left) in zip(
            heatmaps, geometry, strict=True):
        box_h, box_w = bottom - top, right - left
        _, _, win_h, win_w = _window(box_w, box_h, net_w, net_h, resizer.keep_aspect)
        window = torch.as_tensor(cam[w_top:w_top + win_h, w_left:w_left + win_w])
        full = np.zeros((height, width), dtype=np.float32)
        full[top:bottom, left:right] = F.interpolate(
            window[None, None], size=(int(box_h), int(box_w)), mode="bilinear",
            align_corners=False)[0, 0].clamp_(0, 1).numpy()
        out.append(full)
    if len({m.shape for m in out}) == 1:
        return np.stack(out)
    return out


def _window(w0, h0, width, height, keep_aspect):
    from .preprocessing import _fit_window

    return _fit_window(int(w0), int(h0), int(width), int(height), bool(keep_aspect))
