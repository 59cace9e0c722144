"""Heat maps of where a fitted network found its evidence, and how well they localise.

Methods (``method=``):

* ``"hirescam"`` (the default): HiResCAM (Draelos & Carin, 2020), the
  element-wise product of a layer's feature maps and the gradient of the
  class score with respect to them, summed over channels. For a head that
  is linear in globally pooled features, as every skbrain network's is, the
  map adds up to the score itself (less the bias): it shows where the
  evidence is, and is exact for skbrain's ``mean + max`` pooled heads.
* ``"occlusion"``: the drop in the score when a square patch (an eighth of
  the side) is set to the image's background, slid at half its side
  (Zeiler & Fergus, 2014); through captum.
* ``"integrated_gradients"``: integrated gradients (Sundararajan et al.,
  2017) from a background-valued image, summed over channels and smoothed
  over a sixteenth of the side; through captum.

Why these libraries: captum (the PyTorch team's interpretability library)
implements occlusion and integrated gradients with batching and baselines,
so skbrain uses it for them (``pip install skbrain[explain]``); the two
class-activation maps are a few lines of hooks here, because captum has no
HiResCAM and pytorch-grad-cam (``grad-cam``) would bring OpenCV for what is
one product and one sum. Grad-CAM++ was tried and left out: on the wide net
of :class:`Explainer`'s Notes it put more of its mass in the lesion for the
*no tumor* class than for the tumor class, failing the sanity check of
``tests/test_explain.py``. Layer methods explain :func:`default_target_layer`,
chosen per architecture.

``"gradcam"``, Grad-CAM (Selvaraju et al., 2017), each feature map weighed
by its mean gradient, is still accepted (and :class:`GradCAM` kept) for
code written before, but not offered: it equals HiResCAM for a head that
only averages, but a channel read through the global *maximum* gets its
weight spread over the whole map, so where that channel also covers the
rest of the brain the map is negative everywhere and comes out all zero
(see :class:`Explainer`'s Notes); and on a one-layer wide net whose maps
are not empty, its maps keep a rank correlation of 0.55 with those of the
same net with random weights, failing the sanity check of Adebayo et al.
(2018) that the offered methods pass (below 0.3).

Every method explains the same score, the target class's logit minus the
mean of the others (the log-odds for two classes), keeps its positive part
(evidence *for* the class; negative evidence, for the other class, is the
other class's map) and scales each map to [0, 1] on its own. A map with no
positive value is reported, not hidden: :attr:`Explainer.empty_` flags it
and the figures say so.

Maps come back in each input image's own geometry: the head crop, resize
and padding of the pipeline's :class:`~skbrain.preprocessing.ImageResizer`
are undone (:meth:`~skbrain.preprocessing.ImageResizer.geometry`), so a map
lies on the file the user gave, and :func:`localization_scores` compares it
with a mask of that file.

:class:`Explainer` works on any fitted skbrain estimator, hand-made or
pretrained, and on anything that wraps one (a
:class:`~sklearn.pipeline.Pipeline`, threshold wrappers, searches).
It leaves the network as it found it: hooks are removed, the training mode
is restored and no parameter gradient is stored.
"""

import numbers
import os

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._unwrap import default_pos_label, unwrap
from .datasets._folder import class_name
from .networks import _ClampedMaxPool

__all__ = [
    "METHODS",
    "Explainer",
    "GradCAM",
    "default_target_layer",
    "localization_scores",
    "save_gradcam_overlays",
]

#: The explanation methods, by the name ``method=`` takes.
METHODS = ("hirescam", "occlusion", "integrated_gradients")
# Grad-CAM stays for GradCAM and method="gradcam", not among the methods offered.
_ACCEPTED = (*METHODS, "gradcam")
_LAYER_METHODS = ("hirescam", "gradcam")
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
    method : str, default="hirescam"
        One of :data:`METHODS`; see the module's description.
        ``"occlusion"`` and ``"integrated_gradients"`` need captum
        (``pip install skbrain[explain]``).
    layer : str, torch.nn.Module or None, default=None
        For the layer methods (``"hirescam"``, ``"gradcam"``): the layer
        whose feature maps are used, a name from
        ``estimator.module_.named_modules()`` or the module itself. ``None``
        picks :func:`default_target_layer`. Ignored by the others.

    Attributes
    ----------
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

    def __init__(self, estimator, method="hirescam", layer=None):
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
            if self.method in _LAYER_METHODS:
                name, layer = self._resolve_layer(module)
                self.layer_name_ = name
                raw = _layer_maps(module, layer, name, self.method, X, targets, device,
                                  batch_size)
            else:
                self.layer_name_ = None
                raw = _input_maps(module, self.method, X, targets, device, batch_size)
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
    if method not in _ACCEPTED:
        raise ValueError(f"method must be one of {list(_ACCEPTED)}; got {method!r}")


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
            f"method={method!r} needs captum: pip install 'skbrain[explain]' (or pip "
            "install captum); 'hirescam' and 'gradcam' need nothing more"
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
    """Positive part, each map scaled to [0, 1] on its own (an all-zero map stays zero)."""
    cam = np.maximum(np.nan_to_num(raw, nan=0.0), 0).astype(np.float32)
    flat = cam.reshape(len(cam), -1)
    low, high = flat.min(axis=1), flat.max(axis=1)
    span = (high - low)[:, None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(span > 0, (cam - low[:, None, None]) / np.where(span > 0, span, 1),
                          0)
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


def localization_scores(model, images, masks, *, method="hirescam", target=None, tolerance=15,
                        layer=None, batch_size=32):
    """How well a model's heat maps point at the lesions that masks outline.

    Parameters
    ----------
    model : fitted skbrain estimator, or anything that wraps one
        As for :class:`Explainer`.
    images : list of paths, or array-like of images
        What the model reads; typically tumor images (each mask must
        outline something).
    masks : list of paths or arrays, or array of shape (n, H, W)
        One mask per image, in that image's own size (the size of the file
        given, or of the array when the model takes arrays): a file (read as
        grayscale, pixels above 127 are lesion) or an array (non-zero is
        lesion).
    method : str, default="hirescam"
        One of :data:`METHODS`.
    target : label or None, default=None
        The class explained; ``None`` is the positive class (1 for 0/1
        labels, else the later class).
    tolerance : float, default=15
        Pixels (of the image's own geometry) by which the map's peak may miss
        the mask and still count as a hit, as in Zhang et al.'s (2018)
        pointing game.
    layer : str, torch.nn.Module or None, default=None
        See :class:`Explainer`.
    batch_size : int, default=32
        Images per pass.

    Returns
    -------
    dict
        ``pointing_game``
            Share of images whose map's maximum lies inside the mask or
            within ``tolerance`` pixels of it (an empty map is a miss).
        ``mass_ratio``
            Mean over images of the share of the map's mass inside the mask
            divided by the mask's share of the image's area: 1 is what a
            uniform map scores, higher is better (an empty map scores 0).
        ``mass_inside``
            Mean share of the map's mass inside the mask (0 for empty maps).
        ``empty_share``
            Share of maps with no positive value (all zero): images in which
            nothing pointed to the target class.
        ``n``, ``method``, ``tolerance``
            The number of images and the settings used.
        ``per_image``
            A dict of arrays, one entry per image: ``hit``, ``mass_ratio``,
            ``mass_inside``, ``empty``.

    Raises
    ------
    ValueError
        If the numbers of images and masks differ, a mask is empty or its
        shape is not its image's (the message names the index), before any
        map is computed where the masks are files.

    Examples
    --------
    >>> from skbrain import CompactCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = CompactCNNClassifier(n_kernels=4, max_epochs=1, random_state=0)
    >>> clf = clf.fit(data.data, data.target)
    >>> tumor = data.target == 1
    >>> scores = localization_scores(clf, data.data[tumor], data.masks[tumor], tolerance=0)
    >>> sorted(k for k in scores if k != "per_image")
    ['empty_share', 'mass_inside', 'mass_ratio', 'method', 'n', 'pointing_game', 'tolerance']
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or tolerance < 0:
        raise ValueError(f"tolerance must be a number of pixels >= 0; got {tolerance!r}")
    n = len(images)
    if len(masks) != n:
        raise ValueError(f"masks has {len(masks)} entries for {n} images; give one per image")
    if n == 0:
        raise ValueError("images is empty; give at least one image with its mask")
    _check_method(method)
    masks = [_read_mask(m, i) for i, m in enumerate(masks)]
    found = unwrap(model, caller="localization_scores")
    if target is None:
        target = default_pos_label(found.estimator.classes_)
    explainer = Explainer(model, method=method, layer=layer)
    maps = explainer.explain(images, target=target, geometry="input", batch_size=batch_size)
    hit = np.zeros(n, dtype=bool)
    ratio = np.zeros(n)
    inside = np.zeros(n)
    empty = np.zeros(n, dtype=bool)
    for i, (cam, mask) in enumerate(zip(maps, masks, strict=True)):
        if cam.shape != mask.shape:
            raise ValueError(
                f"masks[{i}] has shape {mask.shape}, its image {cam.shape}; a mask must be in "
                "its image's own size"
            )
        total = float(cam.sum())
        if total <= 0:
            empty[i] = True
            continue
        inside[i] = float(cam[mask].sum()) / total
        ratio[i] = inside[i] / mask.mean()
        peak = np.array(np.unravel_index(int(np.argmax(cam)), cam.shape))
        if mask[tuple(peak)]:
            hit[i] = True
        elif tolerance > 0:
            distance = np.sqrt(((np.argwhere(mask) - peak) ** 2).sum(axis=1)).min()
            hit[i] = distance <= tolerance
    return {
        "pointing_game": float(hit.mean()),
        "mass_ratio": float(ratio.mean()),
        "mass_inside": float(inside.mean()),
        "empty_share": float(empty.mean()),
        "n": n,
        "method": method,
        "tolerance": float(tolerance),
        "per_image": {"hit": hit, "mass_ratio": ratio, "mass_inside": inside, "empty": empty},
    }


def _read_mask(mask, index):
    if isinstance(mask, (str, bytes, os.PathLike)):
        from PIL import Image

        try:
            with Image.open(mask) as img:
                array = np.asarray(img.convert("L")) > 127
        except (OSError, ValueError) as exc:
            raise ValueError(f"masks[{index}]: cannot read {os.fspath(mask)!r} ({exc})") from None
    else:
        array = np.asarray(mask)
        if array.ndim != 2:
            raise ValueError(f"masks[{index}] must be 2-D (height, width); got shape "
                             f"{array.shape}")
        array = array != 0
    if not array.any():
        raise ValueError(f"masks[{index}] outlines nothing; localisation needs a lesion in "
                         "every mask")
    return array


def save_gradcam_overlays(model, images, output, *, target=None, layer=None, class_names=None,
                          method="hirescam"):
    """Write one PNG per image: the image, its heat map, the prediction and probability.

    The map lies on the file given (in its own geometry); a map with no
    positive value says so in the title rather than showing nothing.

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
    method : str, default="hirescam"
        One of :data:`METHODS`.

    Returns
    -------
    list of dict
        Per image: ``image``, ``figure`` (the PNG written), ``label`` (predicted),
        ``probability`` (of the predicted label), ``target`` (class shown) and
        ``empty`` (True where the map had no positive value).
    """
    from collections import Counter
    from pathlib import Path

    from ._fileio import atomic_write
    from .plotting import plot_gradcam

    _check_method(method)
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
    explainer = Explainer(model, method=method, layer=layer)
    heatmaps = explainer.explain(paths, target=targets, geometry="input")
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
        note = " - EMPTY: no evidence for it" if explainer.empty_[i] else ""
        fig.axes[0].set_title(f"predicted: {class_name(labels[i], class_names)} "
                              f"(p={proba[i, column]:.2f})\n{_METHOD_NAMES[method]} of the "
                              f"{shown}{note}", fontsize=10)
        fig.suptitle(Path(path).name, fontsize=9)
        with atomic_write(output / name, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
        plt.close(fig)
        written.append({"image": path, "figure": str(output / name),
                        "label": labels[i].item() if hasattr(labels[i], "item") else labels[i],
                        "probability": float(proba[i, column]),
                        "target": targets[i].item() if hasattr(targets[i], "item")
                        else targets[i], "empty": bool(explainer.empty_[i])})
    return written
