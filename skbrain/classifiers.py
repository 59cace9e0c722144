"""The public hand-made CNN estimators.

Each named class fixes one architecture of :mod:`skbrain.networks`' catalogue
(``class DeepCNNClassifier(NamedCNNClassifier, architecture="deep")``) and
writes out its ``__init__``: the architecture's layer settings with their
defaults, then the training parameters of
:class:`skbrain._base.BaseCNNClassifier` (which stores them, so the sklearn
contract, devices, seeding and training live there), then ``**kwargs`` for
skorch's ``module__*``-style parameters.

What each parameter means is said once, in :data:`PARAMETER_DOCS`; the class
docstrings repeat it word for word so that ``help()``, IDEs and type checkers
show every parameter, and ``tests/test_signatures.py`` checks that signatures
and docstrings agree with it, with the architectures' defaults and with the
base's training parameters. The written-out signatures and docstrings of seven
classes are why this module is long.
"""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseCNNClassifier
from .networks import (
    ARCHITECTURE_SPECS,
    ConvNet,
    block_layout,
    conv_channels,
)

__all__ = [
    "CNNClassifier",
    "SimpleCNNClassifier",
    "TwoConvCNNClassifier",
    "WideCNNClassifier",
    "DeepCNNClassifier",
    "PyramidCNNClassifier",
    "CompactCNNClassifier",
]

#: What each training and layer parameter means: its type and text. The
#: docstrings here and in :mod:`skbrain.pretrained` repeat them word for word
#: after ``name : type, default=<the default as in the signature>``
#: (``{layers}`` is the architecture's ``layers``), as
#: ``tests/test_signatures.py`` checks.
PARAMETER_DOCS = {
    "lr": ("float", "Peak learning rate (of the one-cycle schedule)."),
    "max_epochs": ("int", "Passes over the training images."),
    "batch_size": ("int or \"auto\"", "Images per optimisation step. ``\"auto\"``: the net's "
                   "reference batch on the CPU, 16 (8 for the wide net, where cross-validation "
                   "chose it); on CUDA about 128 images of 150 x 150 pixels (fewer for larger "
                   "images, at least 8 steps an epoch, never below the reference) with ``lr`` "
                   "scaled by the square root of the batch over the reference. The values "
                   "used are ``batch_size_`` and ``lr_``."),
    "optimizer": ('{"adamw", "adam", "sgd", "rmsprop"} or optimizer class',
                  "The torch optimizer; further arguments go through ``optimizer__*``."),
    "weight_decay": ("float", "Weight decay of the optimizer."),
    "lr_schedule": ('{"onecycle", "cosine", None}', "Learning-rate schedule over the fit."),
    "augment": ("bool", "Random flips, small rotations, zooms, shifts and intensity changes "
                        "of training batches only."),
    "early_stopping": ("bool or int",
                       "Hold out ``validation_fraction`` of the training images and stop when "
                       "the validation loss stalls for this many epochs (``True``: 5), keeping "
                       "the best weights. Off by default: small data sets need every image."),
    "validation_fraction": ("float",
                            "Share of training images held out when ``early_stopping`` is on."),
    "class_weight": ('None, "balanced" or dict',
                     "Loss weight of each class, keyed by the original labels."),
    "tta": ("int", "Test-time augmentation: ``predict_proba`` averages the image and this "
                   "many flipped/rotated views (0 to 7)."),
    "amp": ('"auto", bool, "bfloat16" or "float16"',
            'Mixed precision on CUDA: ``True`` is bfloat16 autocast without a gradient scaler '
            'where the GPU supports it, float16 with a scaler on older GPUs; ``"auto"`` follows '
            'the device table (float32 until mixed precision is measured to pay); off on the '
            'CPU. The precision used is ``amp_``.'),
    "compile": ("bool", "Train a ``torch.compile``-d network (prediction runs the plain one)."),
    "accelerator": ("None or accelerate.Accelerator",
                    "Train through Hugging Face accelerate (data-parallel over the processes "
                    "of ``accelerate launch``); see the distributed training guide. Set it to "
                    "None before saving the model."),
    "deterministic": ("bool", "Deterministic algorithms in torch and cuDNN during ``fit``: on "
                      "CUDA, what makes ``random_state`` repeat a fit bit for bit."),
    "callbacks": ("list of skorch callbacks",
                  "Extra skorch callbacks, e.g. ``skorch.callbacks.TensorBoard``."),
    "device": ("str", '``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``, '
                      '``"cuda"``, ``"cuda:1"``...'),
    "random_state": ("int, RandomState instance or None",
                     "Seeds initialisation, shuffling, augmentation and splits."),
    "verbose": ("int", "1 prints one line per epoch."),
    "augment_intensity": ("float", "Strength (0 to 1; 0 is off) of scanner-like changes of "
                                   "training batches, drawn per image: gamma, contrast, bias "
                                   "field, blur and noise."),
    "augment_lesions": ("float", "Share (0 to 1; 0 is off) of tumor-free training images that "
                                 "get a synthetic lesion "
                                 "(:func:`skbrain.augmentation.synthetic_lesions`) and are "
                                 "trained on as tumor. Two classes only; the tumor class is "
                                 "``1`` or else the later label."),
    "init_from": ("None, str, path-like or fitted skbrain model",
                  "Start from another fitted model's weights (pretraining, then fine-tuning): "
                  "a model or the path of one saved with ``save_model``. Tensors of equal name "
                  "and shape are copied; the head is rebuilt when the class count differs. A "
                  "fitted model given here is shared by ``clone``, not copied; saving needs a "
                  "path or None here (``set_params(init_from=None)`` after fitting)."),
    # The layer settings of the hand-made nets.
    "n_kernels": ("int", "Kernels of the first conv layer; later layers follow the "
                         "architecture ({layers})."),
    "n_kernels_2": ("int", 'Kernels of the second conv layer of ``"two-conv"``.'),
    "kernel_size": ("int", "Side of the square conv kernels."),
    "pool_size": ("int", "Max-pooling window after each conv layer (or block)."),
    "dropout": ("float", "Dropout before the final linear layer."),
    "batch_norm": ("bool", "Batch normalisation after each convolution."),
    "pool_first": ("bool", "Max-pool right after each layer's convolution, before batch norm "
                           "and ReLU: nearly the same network (see "
                           ":class:`skbrain.networks.ConvNet`) at 1.1-2.1x the training speed."),
}

#: The ``**kwargs`` entry of every docstring.
KWARGS_DOC = """\
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``, ``dataset__*`` and ``compile__*``
        parameters, routed to the skorch net."""

#: The ``Attributes`` section of every docstring.
ATTRIBUTES_DOC = """\
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
"""

#: Training defaults of the hand-made estimators that differ from the base's.
TRAINING_DEFAULTS = {"lr": 1e-2}


def _conv_net(architecture, layers, pool_first, **extra):
    return ConvNet, {
        "channels": conv_channels(architecture, layers["n_kernels"], layers.get("n_kernels_2")),
        "kernel_size": layers["kernel_size"],
        "pool_size": layers["pool_size"],
        "dropout": layers["dropout"],
        **extra,
        **block_layout(architecture),
        "pool_first": pool_first,
    }


# What the hand-made nets add to the base's checks. Widths and kernel sizes
# are numbers the network rounds down, as before; ``None`` (the
# architecture's own value) only where CNNClassifier allows it.
_LAYER_CONSTRAINTS = {
    "n_kernels": [Interval(Real, 1, None, closed="left")],
    "n_kernels_2": [Interval(Real, 1, None, closed="left"), None],
    "kernel_size": [Interval(Real, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "pool_first": ["boolean"],
}
_LAYER_EXPECTED = {
    "n_kernels": "a positive integer",
    "n_kernels_2": "a positive integer or None",
    "kernel_size": "a positive integer",
    "dropout": "in [0, 1)",
    "pool_first": "True or False",
}


class _ArchitectureNames:
    """The ``architecture`` error's expected values, read when the error is raised."""

    def __str__(self):
        return f"one of {', '.join(map(repr, ARCHITECTURE_SPECS))}"


class CNNClassifier(BaseCNNClassifier):
    """A hand-made CNN whose architecture is itself a hyperparameter.

    The study's five designs (and skbrain's ``"compact"`` net) are values of
    ``architecture``, so one search can compare them::

        RandomizedSearchCV(CNNClassifier(), {"architecture": ["wide", "deep", "pyramid"]})

    Parameters an architecture does not use (``n_kernels_2`` outside
    ``"two-conv"``) are accepted and ignored, so such a search never breaks.
    Layer settings left at ``None`` take the architecture's own value from
    :data:`skbrain.networks.ARCHITECTURE_DEFAULTS` (the defaults of the named
    class), so ``CNNClassifier(architecture="deep")`` is ``DeepCNNClassifier()``.

    Parameters
    ----------
    architecture : str, default="wide"
        The layer layout: one of :data:`skbrain.networks.ARCHITECTURES`.
    n_kernels : int, default=None
        Kernels of the first conv layer; later layers follow the architecture
        (see ``architecture``).
    n_kernels_2 : int, default=None
        Kernels of the second conv layer of ``"two-conv"``.
    kernel_size : int, default=None
        Side of the square conv kernels.
    pool_size : int, default=None
        Max-pooling window after each conv layer (or block).
    dropout : float, default=None
        Dropout before the final linear layer.
    batch_norm : bool, default=True
        Batch normalisation after each convolution.
    pool_first : bool, default=True
        Max-pool right after each layer's convolution, before batch norm and
        ReLU: nearly the same network (see :class:`skbrain.networks.ConvNet`)
        at 1.1-2.1x the training speed.
    lr : float, default=0.01
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=30
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

    Examples
    --------
    >>> from skbrain import CNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **BaseCNNClassifier._parameter_constraints,
        **{name: [*constraints, None] for name, constraints in _LAYER_CONSTRAINTS.items()},
        "architecture": [StrOptions(ARCHITECTURE_SPECS.keys())],  # a live view
        "batch_norm": ["boolean"],
    }
    _parameter_expected = {
        **BaseCNNClassifier._parameter_expected,
        **{name: f"{text} or None" for name, text in _LAYER_EXPECTED.items()},
        "architecture": _ArchitectureNames(),
        "batch_norm": "True or False",
    }

    def __init__(self, architecture="wide", n_kernels=None, n_kernels_2=None, kernel_size=None,
                 pool_size=None, dropout=None, batch_norm=True, pool_first=True, *, lr=0.01,
                 max_epochs=30, batch_size="auto", optimizer="adamw", weight_decay=0.0001,
                 lr_schedule="onecycle", augment=True, early_stopping=False,
                 validation_fraction=0.1, class_weight=None, tta=0, amp="auto",
                 deterministic=False, callbacks=None, device="auto", random_state=None, verbose=0,
                 init_from=None, augment_intensity=0.0, augment_lesions=0.0,
                 compile=False, accelerator=None, **kwargs):
        self.architecture = architecture
        self.n_kernels = n_kernels
        self.n_kernels_2 = n_kernels_2
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.pool_first = pool_first
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)

    def _module_spec(self):
        spec = ARCHITECTURE_SPECS.get(self.architecture)
        if spec is None:
            conv_channels(self.architecture, 1)  # raises, naming the valid architectures
        preset = spec.defaults
        layers = {name: preset.get(name) if getattr(self, name) is None else getattr(self, name)
                  for name in ("n_kernels", "n_kernels_2", "kernel_size", "pool_size", "dropout")}
        return _conv_net(self.architecture, layers, self.pool_first, batch_norm=self.batch_norm)

    def _reference_batch_size(self):
        spec = ARCHITECTURE_SPECS.get(self.architecture)
        return super()._reference_batch_size() if spec is None else spec.batch_size



class NamedCNNClassifier(BaseCNNClassifier):
    """A :class:`CNNClassifier` with its architecture fixed: the base of the named classes.

    ``class DeepCNNClassifier(NamedCNNClassifier, architecture="deep")`` builds
    the network of the architecture's entry in
    :data:`skbrain.networks.ARCHITECTURE_SPECS`, whose defaults its written-out
    ``__init__`` repeats.
    """

    _parameter_constraints = {**BaseCNNClassifier._parameter_constraints, **_LAYER_CONSTRAINTS}
    _parameter_expected = {**BaseCNNClassifier._parameter_expected, **_LAYER_EXPECTED}

    def __init_subclass__(cls, *, architecture=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if architecture is not None:
            if architecture not in ARCHITECTURE_SPECS:
                raise ValueError(f"architecture must be one of {_ArchitectureNames()}; "
                                 f"got {architecture!r}")
            cls._architecture = architecture

    def _module_spec(self):
        layers = {name: getattr(self, name) for name in
                  ARCHITECTURE_SPECS[self._architecture].defaults}
        return _conv_net(self._architecture, layers, self.pool_first)

    def _reference_batch_size(self):
        return ARCHITECTURE_SPECS[self._architecture].batch_size


class SimpleCNNClassifier(NamedCNNClassifier, architecture="simple"):
    """The study's baseline: one conv layer, pooling and a linear layer.

    Parameters
    ----------
    n_kernels : int, default=32
        Kernels of the first conv layer; later layers follow the architecture
        (``[k]``).
    kernel_size : int, default=5
        Side of the square conv kernels.
    pool_size : int, default=4
        Max-pooling window after each conv layer (or block).
    dropout : float, default=0.0
        Dropout before the final linear layer.
    pool_first : bool, default=True
        Max-pool right after each layer's convolution, before batch norm and
        ReLU: nearly the same network (see :class:`skbrain.networks.ConvNet`)
        at 1.1-2.1x the training speed.
    lr : float, default=0.01
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=30
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

    Examples
    --------
    >>> from skbrain import SimpleCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = SimpleCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(self, n_kernels=32, kernel_size=5, pool_size=4, dropout=0.0, pool_first=True, *,
                 lr=0.01, max_epochs=30, batch_size="auto", optimizer="adamw", weight_decay=0.0001,
                 lr_schedule="onecycle", augment=True, early_stopping=False,
                 validation_fraction=0.1, class_weight=None, tta=0, amp="auto",
                 deterministic=False, callbacks=None, device="auto", random_state=None, verbose=0,
                 init_from=None, augment_intensity=0.0, augment_lesions=0.0,
                 compile=False, accelerator=None, **kwargs):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)


class TwoConvCNNClassifier(NamedCNNClassifier, architecture="two-conv"):
    """Two conv layers, each with its own kernel count.

    Parameters
    ----------
    n_kernels : int, default=32
        Kernels of the first conv layer; later layers follow the architecture
        (``[k, n_kernels_2]``).
    n_kernels_2 : int, default=64
        Kernels of the second conv layer of ``"two-conv"``.
    kernel_size : int, default=5
        Side of the square conv kernels.
    pool_size : int, default=3
        Max-pooling window after each conv layer (or block).
    dropout : float, default=0.3
        Dropout before the final linear layer.
    pool_first : bool, default=True
        Max-pool right after each layer's convolution, before batch norm and
        ReLU: nearly the same network (see :class:`skbrain.networks.ConvNet`)
        at 1.1-2.1x the training speed.
    lr : float, default=0.01
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=30
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

    Examples
    --------
    >>> from skbrain import TwoConvCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = TwoConvCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(self, n_kernels=32, n_kernels_2=64, kernel_size=5, pool_size=3, dropout=0.3,
                 pool_first=True, *, lr=0.01, max_epochs=30, batch_size="auto", optimizer="adamw",
                 weight_decay=0.0001, lr_schedule="onecycle", augment=True, early_stopping=False,
                 validation_fraction=0.1, class_weight=None, tta=0, amp="auto",
                 deterministic=False, callbacks=None, device="auto", random_state=None, verbose=0,
                 init_from=None, augment_intensity=0.0, augment_lesions=0.0,
                 compile=False, accelerator=None, **kwargs):
        self.n_kernels = n_kernels
        self.n_kernels_2 = n_kernels_2
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)


class WideCNNClassifier(NamedCNNClassifier, architecture="wide"):
    """One wide conv layer: many large kernels (the study's tuned winner).

    The study tuned this net to 40 kernels of 7x7, pooling 3 and dropout 0.3;
    skbrain adds batch normalisation and ReLU after the convolution (the
    study's had no non-linearity) and pools globally. Its kernels are 11x11
    and ``batch_size="auto"`` trains it at 8 images a step on the CPU: that
    cross-validated 0.021 +- 0.010 higher in F1 than 7x7 at 16, inside the
    253's training parts (``benchmarks/README.md``); ``kernel_size=7,
    batch_size=16`` gives back the earlier net.

    Parameters
    ----------
    n_kernels : int, default=40
        Kernels of the first conv layer; later layers follow the architecture
        (``[k]`` with a large kernel).
    kernel_size : int, default=11
        Side of the square conv kernels.
    pool_size : int, default=3
        Max-pooling window after each conv layer (or block).
    dropout : float, default=0.3
        Dropout before the final linear layer.
    pool_first : bool, default=True
        Max-pool right after each layer's convolution, before batch norm and
        ReLU: nearly the same network (see :class:`skbrain.networks.ConvNet`)
        at 1.1-2.1x the training speed.
    lr : float, default=0.01
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=30
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

    Examples
    --------
    >>> from skbrain import WideCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = WideCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(self, n_kernels=40, kernel_size=11, pool_size=3, dropout=0.3, pool_first=True, *,
                 lr=0.01, max_epochs=30, batch_size="auto", optimizer="adamw", weight_decay=0.0001,
                 lr_schedule="onecycle", augment=True, early_stopping=False,
                 validation_fraction=0.1, class_weight=None, tta=0, amp="auto",
                 deterministic=False, callbacks=None, device="auto", random_state=None, verbose=0,
                 init_from=None, augment_intensity=0.0, augment_lesions=0.0,
                 compile=False, accelerator=None, **kwargs):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)


class DeepCNNClassifier(NamedCNNClassifier, architecture="deep"):
    """Three conv layers with an increasing kernel count (``k, 2k, 4k``).

    Parameters
    ----------
    n_kernels : int, default=16
        Kernels of the first conv layer; later layers follow the architecture
        (``[k, 2k, 4k]`` (increasing)).
    kernel_size : int, default=3
        Side of the square conv kernels.
    pool_size : int, default=2
        Max-pooling window after each conv layer (or block).
    dropout : float, default=0.3
        Dropout before the final linear layer.
    pool_first : bool, default=True
        Max-pool right after each layer's convolution, before batch norm and
        ReLU: nearly the same network (see :class:`skbrain.networks.ConvNet`)
        at 1.1-2.1x the training speed.
    lr : float, default=0.01
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=30
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

    Examples
    --------
    >>> from skbrain import DeepCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = DeepCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(self, n_kernels=16, kernel_size=3, pool_size=2, dropout=0.3, pool_first=True, *,
                 lr=0.01, max_epochs=30, batch_size="auto", optimizer="adamw", weight_decay=0.0001,
                 lr_schedule="onecycle", augment=True, early_stopping=False,
                 validation_fraction=0.1, class_weight=None, tta=0, amp="auto",
                 deterministic=False, callbacks=None, device="auto", random_state=None, verbose=0,
                 init_from=None, augment_intensity=0.0, augment_lesions=0.0,
                 compile=False, accelerator=None, **kwargs):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)


class PyramidCNNClassifier(NamedCNNClassifier, architecture="pyramid"):
    """Three conv layers with a decreasing kernel count (``k, k/2, k/4``).

    Parameters
    ----------
    n_kernels : int, default=64
        Kernels of the first conv layer; later layers follow the architecture
        (``[k, k/2, k/4]`` (decreasing)).
    kernel_size : int, default=3
        Side of the square conv kernels.
    pool_size : int, default=2
        Max-pooling window after each conv layer (or block).
    dropout : float, default=0.3
        Dropout before the final linear layer.
    pool_first : bool, default=True
        Max-pool right after each layer's convolution, before batch norm and
        ReLU: nearly the same network (see :class:`skbrain.networks.ConvNet`)
        at 1.1-2.1x the training speed.
    lr : float, default=0.01
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=30
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

    Examples
    --------
    >>> from skbrain import PyramidCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = PyramidCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(self, n_kernels=64, kernel_size=3, pool_size=2, dropout=0.3, pool_first=True, *,
                 lr=0.01, max_epochs=30, batch_size="auto", optimizer="adamw", weight_decay=0.0001,
                 lr_schedule="onecycle", augment=True, early_stopping=False,
                 validation_fraction=0.1, class_weight=None, tta=0, amp="auto",
                 deterministic=False, callbacks=None, device="auto", random_state=None, verbose=0,
                 init_from=None, augment_intensity=0.0, augment_lesions=0.0,
                 compile=False, accelerator=None, **kwargs):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)


class CompactCNNClassifier(NamedCNNClassifier, architecture="compact"):
    """A small modern CNN: four blocks of 3x3 convolutions, batch norm and ReLU.

    Not one of the study's designs: skbrain adds it as the from-scratch
    network that a VGG-style stack of small kernels makes possible (kernel
    counts ``k, 2k, 4k, 8k``, global pooling). The first block, at full
    resolution, has one convolution and the other three have two
    (``module__first_block_convs=2`` gives the first block its second).

    Parameters
    ----------
    n_kernels : int, default=16
        Kernels of the first conv layer; later layers follow the architecture
        (``[k, 2k, 4k, 8k]``, 3x3, two convs per block (one in the first)).
    kernel_size : int, default=3
        Side of the square conv kernels.
    pool_size : int, default=2
        Max-pooling window after each conv layer (or block).
    dropout : float, default=0.3
        Dropout before the final linear layer.
    pool_first : bool, default=True
        Max-pool right after each layer's convolution, before batch norm and
        ReLU: nearly the same network (see :class:`skbrain.networks.ConvNet`)
        at 1.1-2.1x the training speed.
    lr : float, default=0.01
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=30
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

    Examples
    --------
    >>> from skbrain import CompactCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = CompactCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(self, n_kernels=16, kernel_size=3, pool_size=2, dropout=0.3, pool_first=True, *,
                 lr=0.01, max_epochs=30, batch_size="auto", optimizer="adamw", weight_decay=0.0001,
                 lr_schedule="onecycle", augment=True, early_stopping=False,
                 validation_fraction=0.1, class_weight=None, tta=0, amp="auto",
                 deterministic=False, callbacks=None, device="auto", random_state=None, verbose=0,
                 init_from=None, augment_intensity=0.0, augment_lesions=0.0,
                 compile=False, accelerator=None, **kwargs):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         weight_decay=weight_decay, lr_schedule=lr_schedule, augment=augment,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         class_weight=class_weight, tta=tta, amp=amp, deterministic=deterministic,
                         callbacks=callbacks, device=device, random_state=random_state,
                         verbose=verbose, init_from=init_from, augment_intensity=augment_intensity,
                         augment_lesions=augment_lesions,
                         compile=compile, accelerator=accelerator, **kwargs)
