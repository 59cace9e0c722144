"""The estimator base class that every skbrain classifier shares.

Design: a plain :class:`~sklearn.base.BaseEstimator` /
:class:`~sklearn.base.ClassifierMixin` that validates and label-encodes its
input, then builds a fresh skorch :class:`~skorch.NeuralNetClassifier` as
``net_`` inside :meth:`~BaseCNNClassifier.fit`. Subclassing
``NeuralNetClassifier`` directly breaks sklearn's contract (it sets attributes
in ``__init__``, fixes the class count and does no input validation); keeping
the skorch net inside keeps its callbacks, history and
``module__``/``optimizer__`` parameter routing, which pass straight through.

Subclasses only say which network to build (:meth:`_module_spec`) and list
their flat hyperparameters in ``__init__``.
"""

import copy
import inspect
import math
import os
import warnings
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    make_constraint,
)
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_is_fitted,
    check_random_state,
    column_or_1d,
)

from ._device import (
    REFERENCE_BATCH_SIZE,
    _deterministic_algorithms,
    _seeded,
    resolve_device,
    training_defaults,
)
from ._inputs import check_images
from ._malloc import tune_malloc
from ._net import (  # noqa: F401  (moved; re-exported for the old import path)
    LR_SCHEDULES,
    OPTIMIZERS,
    _BatchArrayDataset,
    _FileRowsDataset,
    _grouped_valid_split,
    _mapped_file,
    _SkbrainNet,
    build_net,
)
from ._params import fill_new_params
from ._transfer import _init_source, copy_matching_weights
from .augmentation import MAX_TTA, tta_views

__all__ = ["BaseCNNClassifier", "copy_matching_weights", "resolve_device"]

# Routed to the skorch net unchanged, as skorch itself routes them.
SKORCH_PREFIXES = (
    "module__",
    "optimizer__",
    "criterion__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
    "dataset__",
    "compile__",
)


class BaseCNNClassifier(ClassifierMixin, BaseEstimator):
    """Shared machinery of the skbrain classifiers; not used directly.

    Subclasses define ``__init__`` with their flat hyperparameters, passing
    the training parameters below through, and implement
    :meth:`_module_spec`.

    Training parameters
    -------------------
    lr : float
        Peak learning rate.
    max_epochs : int
        Passes over the training images.
    batch_size : int or "auto"
        Images per optimisation step. ``"auto"`` is the net's reference batch
        on the CPU (16; 8 for the wide net, :meth:`_reference_batch_size`)
        and, on CUDA, about 128 images of 150 x 150 pixels (fewer for larger
        images, at least 8 steps an epoch, never below the reference), with
        ``lr`` scaled by the square root of the batch's ratio to the reference
        (``skbrain._device``). The values used are ``batch_size_`` and ``lr_``.
    optimizer : {"adamw", "adam", "sgd", "rmsprop"} or torch optimizer class
        The optimizer; its other arguments go through ``optimizer__*``.
    weight_decay : float
        Weight decay of the optimizer.
    lr_schedule : {"onecycle", "cosine", None}
        Learning-rate schedule over the whole fit.
    augment : bool
        Random flips, small rotations, zooms, shifts and intensity changes of
        the training batches (never of validation or test images).
    augment_intensity : float in [0, 1]
        Strength of scanner-like changes of the training batches, per image:
        gamma, contrast, bias field, blur and noise
        (:func:`skbrain.augmentation.scanner_augment`); 0 turns them off.
    augment_lesions : float in [0, 1]
        Share of tumor-free training images that get a synthetic lesion
        (:func:`skbrain.augmentation.synthetic_lesions`) and are trained on as
        tumor, drawn anew each batch; 0 turns it off. The training loss is
        taken on logits shifted by the painted change of prior, so predicted
        probabilities keep the labels' prior. Two classes only; the tumor class
        is ``1``, else the later label.
    early_stopping : bool or int
        Hold out ``validation_fraction`` of the training images (stratified)
        and stop when the validation loss has not improved for this many
        epochs (``True`` means 5), keeping the best weights.
    validation_fraction : float
        Share of the training images held out for early stopping.
    class_weight : None, "balanced" or dict
        Weights of the classes in the loss, keyed by the original labels.
    tta : int
        Test-time augmentation: ``predict_proba`` averages the original image
        and this many flipped/rotated views (0 = off, at most 7).
    amp : "auto", bool, "bfloat16" or "float16"
        Mixed precision on CUDA. ``True`` means bfloat16 autocast without a
        gradient scaler on GPUs that support bfloat16, float16 with a scaler
        on older ones; ``False`` is float32; ``"auto"`` follows the device
        table (float32 until mixed precision is measured to pay). Ignored on
        the CPU. The precision used is ``amp_`` (None for float32).
    compile : bool
        Train a :func:`torch.compile`-d network (the first epoch compiles it;
        prediction runs the plain network).
    accelerator : None or accelerate.Accelerator
        Train through Hugging Face ``accelerate`` (skorch's
        ``AccelerateMixin``): data-parallel over the processes that
        ``accelerate launch`` starts, its mixed precision and device placement
        (``device`` and ``amp`` are then the accelerator's). Shared, not
        copied, by ``clone``; set it to None before saving the model.
    deterministic : bool
        Ask torch and cuDNN for deterministic algorithms during ``fit``
        (slower on CUDA; CPU runs with a ``random_state`` are repeatable
        without it).
    callbacks : list of skorch callbacks or None
        Extra callbacks (for example ``skorch.callbacks.TensorBoard``).
    device : str
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``... The device used is stored as ``device_``. The memory
        order of the network (channels-last on the CPU and CUDA), the meaning
        of ``batch_size="auto"`` and ``amp="auto"`` follow the device, from one
        table (``skbrain._device.DEVICE_DEFAULTS``); ``module__channels_last``
        overrides the memory order.
    random_state : int, RandomState or None
        Seeds weight initialisation, shuffling, augmentation and the
        validation split, so two fits with one seed agree on the CPU.
    verbose : int
        0 is silent; 1 prints skorch's table, one line per epoch.
    init_from : None, str, path-like or fitted skbrain model
        Start ``fit`` from another fitted model's weights (pretraining on a
        larger collection, then fine-tuning): every tensor whose name and
        shape match is copied; the classification head is left freshly
        initialised when the class count differs. See
        ``skbrain._transfer.copy_matching_weights``. A string that is not an
        existing path names a shipped detector
        (:func:`skbrain.weights.list_pretrained`).
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``,
        ``dataset__*`` and ``compile__*`` parameters, passed to the skorch net as
        skorch would.
    """

    #: 2-D X is refused; scikit-learn's common checks, which feed rows of
    #: features, run on test subclasses that set this to read them as one-row images.
    _accepts_tabular_X = False

    #: Valid values of each parameter, declared as scikit-learn declares them
    #: (:mod:`sklearn.utils._param_validation`); subclasses extend the dict.
    _parameter_constraints = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "lr_schedule": [StrOptions({"onecycle", "cosine"}), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "tta": [Interval(Integral, 0, MAX_TTA, closed="both")],
        "amp": [StrOptions({"auto", "bfloat16", "float16"}), "boolean"],
        "compile": ["boolean"],
        "accelerator": [None, HasMethods(["prepare", "backward"])],
        "augment_intensity": [Interval(Real, 0, 1, closed="both")],
        "augment_lesions": [Interval(Real, 0, 1, closed="both")],
        "init_from": [None, str, os.PathLike, HasMethods(["predict"])],
    }

    #: What the error message says is expected, where it says it better than
    #: the constraint's own description.
    _parameter_expected = {
        "lr": "a positive number",
        "max_epochs": "a positive integer",
        "batch_size": "a positive integer or 'auto'",
        "optimizer": f"one of {sorted(OPTIMIZERS)} or a torch optimizer class",
        "lr_schedule": f"one of {LR_SCHEDULES}",
        "validation_fraction": "in (0, 1)",
        "class_weight": "None, 'balanced' or a dict",
        "tta": f"an integer from 0 to {MAX_TTA}",
        "amp": "'auto', 'bfloat16', 'float16', True or False",
        "compile": "True or False",
        "accelerator": "None or an accelerate.Accelerator",
        "augment_intensity": "a number in [0, 1]",
        "augment_lesions": "a number in [0, 1]",
        "init_from": ("None, the path of a saved skbrain model, the name of a shipped "
                      "detector or a fitted skbrain model"),
    }

    def __init__(
        self,
        *,
        lr=1e-3,
        max_epochs=30,
        batch_size="auto",
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
        init_from=None,
        augment_intensity=0.0,
        augment_lesions=0.0,
        compile=False,
        accelerator=None,
        **kwargs,
    ):
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.augment = augment
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.tta = tta
        self.amp = amp
        self.deterministic = deterministic
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.init_from = init_from
        self.augment_intensity = augment_intensity
        self.augment_lesions = augment_lesions
        self.compile = compile
        self.accelerator = accelerator
        self._check_skorch_kwargs(kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    # ------------------------------------------------------------------ params
    @classmethod
    def _check_skorch_kwargs(cls, kwargs):
        for key in kwargs:
            if not key.startswith(SKORCH_PREFIXES):
                raise TypeError(
                    f"{cls.__name__} got an unexpected keyword argument {key!r}; "
                    f"extra arguments must start with one of {', '.join(SKORCH_PREFIXES)}"
                )

    def _skorch_kwargs(self):
        return {key: value for key, value in vars(self).items() if key.startswith(SKORCH_PREFIXES)}

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._skorch_kwargs())
        return params

    def set_params(self, **params):
        routed = {k: v for k, v in params.items() if k.startswith(SKORCH_PREFIXES)}
        for key, value in routed.items():
            setattr(self, key, value)
        rest = {k: v for k, v in params.items() if k not in routed}
        if rest:
            super().set_params(**rest)
        return self

    def __sklearn_clone__(self):
        # sklearn's clone would replace a fitted model given as init_from by an
        # unfitted copy; the source's weights are only read, so the clone shares it.
        # An accelerator stands for the processes of one launch: shared too.
        shared = {}
        source = getattr(self, "init_from", None)
        if source is not None and not isinstance(source, (str, os.PathLike)):
            shared["init_from"] = source
        if getattr(self, "accelerator", None) is not None:
            shared["accelerator"] = self.accelerator
        if not shared:
            return super().__sklearn_clone__()
        try:
            for name in shared:
                setattr(self, name, None)
            new = super().__sklearn_clone__()
        finally:
            for name, value in shared.items():
                setattr(self, name, value)
        for name, value in shared.items():
            setattr(new, name, value)
        return new

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.input_tags.two_d_array = self._accepts_tabular_X
        tags.input_tags.three_d_array = True
        tags.classifier_tags.poor_score = True
        return tags

    # -------------------------------------------------------------- subclass API
    def _module_spec(self):
        """Return ``(module_class, kwargs)`` for the network to train.

        ``in_channels`` and ``n_classes`` are added by :meth:`fit`.
        """
        raise NotImplementedError

    def _lr_groups(self):
        """``(optimizer__param_groups or None, max_lr)``: learning rates per group.

        One group at ``lr`` here; the pretrained estimators give the backbone
        its own rate.
        """
        return None, self.lr

    def _input_kind(self):
        """Name of the input the network expects, for error messages."""
        return "images"

    # -------------------------------------------------------------- validation
    def _validate_X(self, X, *, reset):
        return check_images(self, X, reset=reset)

    def _encode_y(self, y):
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y has only one class ({classes[0]!r}); a classifier needs at least two"
            )
        self.classes_ = classes
        if getattr(self, "augment_lesions", 0) and len(classes) != 2:
            raise ValueError(
                "augment_lesions paints tumors into tumor-free images, so it needs two "
                f"classes (tumor / no tumor); y has {len(classes)}: {classes.tolist()}"
            )
        return y_encoded.astype(np.int64)

    def _class_weight_tensor(self, y_encoded):
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, dict):
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(
                    f"class_weight names labels {sorted(map(str, unknown))} that are not in "
                    f"y (classes: {self.classes_.tolist()})"
                )
        weights = compute_class_weight(
            self.class_weight, classes=self.classes_, y=self.classes_[y_encoded]
        )
        return torch.as_tensor(weights, dtype=torch.float32)

    def _validate_params(self):
        """Check every declared parameter; raise naming it and what it must be.

        Reads :attr:`_parameter_constraints` with scikit-learn's machinery and
        words the error as ``"<name> must be <expected>; got <value>"``. Cheap
        (no data, no network), so a caller can check an unfitted estimator
        before any long work: ``skbrain train``'s pre-flight does.

        Raises
        ------
        sklearn.utils._param_validation.InvalidParameterError
            A subclass of both ``ValueError`` and ``TypeError``.
        """
        params = self.get_params(deep=False)
        if isinstance(params.get("optimizer"), str):
            params["optimizer"] = params["optimizer"].lower()  # names are case-insensitive
        if not params.get("early_stopping"):
            params.pop("validation_fraction", None)  # only read with early stopping
        for name, constraints in self._parameter_constraints.items():
            if name not in params:
                continue
            value = params[name]
            checks = [make_constraint(c) for c in constraints]
            if not any(check.is_satisfied_by(value) for check in checks):
                expected = self._parameter_expected.get(name) or " or ".join(map(str, checks))
                raise InvalidParameterError(f"{name} must be {expected}; got {value!r}")

    def _check_training_params(self):
        # The name the command line's pre-flight and older callers use.
        self._validate_params()

    # --------------------------------------------------------------------- fit
    def _training_settings(self, n_samples, device):
        """The device-dependent settings of this fit (``skbrain._device``'s table)."""
        accelerator = getattr(self, "accelerator", None)
        if accelerator is not None:
            device = str(accelerator.device)
        n_train = n_samples
        if self.early_stopping and n_samples is not None:
            n_train = n_samples - math.ceil(n_samples * self.validation_fraction)
        shape = getattr(self, "image_shape_", None) or (1, 150, 150)
        return training_defaults(device, shape, batch_size=self.batch_size, lr=self.lr,
                                 amp=self.amp, n_train=n_train,
                                 reference_batch_size=self._reference_batch_size())

    def _reference_batch_size(self):
        """The batch this net's defaults were chosen at: ``batch_size="auto"`` on the CPU."""
        return REFERENCE_BATCH_SIZE

    def _module_kwargs(self, in_channels, n_classes, channels_last):
        """``(module class, kwargs)`` of the network, before the ``module__*`` parameters."""
        module, module_kwargs = self._module_spec()
        module_kwargs = {"in_channels": in_channels, "n_classes": n_classes, **module_kwargs}
        if "channels_last" in inspect.signature(module).parameters:
            # The device table's memory order; a module__channels_last the user
            # sets still wins (skorch applies the module__* parameters over these).
            module_kwargs.setdefault("channels_last", channels_last)
        return module, module_kwargs

    def build_module(self, in_channels=None, n_classes=None, *, device=None, **module_params):
        """Build the network :meth:`fit` would train, untrained.

        The one way skbrain builds an estimator's network outside ``fit``
        (the model catalogue's checks, loading saved weights, explanations):
        the same class and arguments (``module__*`` parameters included), the
        device table's memory order, and with a ``random_state`` the same
        initial weights as ``fit``'s.

        Parameters
        ----------
        in_channels : int, default=None
            Image channels; None is ``n_features_in_`` once fitted, else 3.
        n_classes : int, default=None
            Outputs; None is the number of ``classes_`` once fitted, else 2.
        device : str, default=None
            Where to build it; None resolves ``device`` as ``fit`` does.
            ``"meta"`` allocates no memory and initialises nothing (checking
            hyperparameters or counting parameters of even a large network
            takes milliseconds); pretrained weights are then not loaded.
        **module_params
            Arguments of the network that override the estimator's, as its
            ``module__*`` parameters do (``pretrained=False`` for a network
            that saved weights will fill).

        Returns
        -------
        torch.nn.Module
            In training mode, on ``device``.

        Examples
        --------
        >>> from skbrain import SimpleCNNClassifier
        >>> module = SimpleCNNClassifier(n_kernels=8).build_module(in_channels=1, device="cpu")
        >>> module.features[0]
        Conv2d(1, 8, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2), bias=False)
        """
        fitted = self.__sklearn_is_fitted__()
        if in_channels is None:
            in_channels = self.n_features_in_ if fitted else 3
        if n_classes is None:
            n_classes = len(self.classes_) if fitted else 2
        if device is None:
            accelerator = getattr(self, "accelerator", None)
            device = (resolve_device(self.device) if accelerator is None
                      else str(accelerator.device))
        settings = self._training_settings(None, device)
        module, kwargs = self._module_kwargs(in_channels, n_classes, settings["channels_last"])
        prefix = "module__"
        kwargs.update({key[len(prefix):]: value for key, value in self._skorch_kwargs().items()
                       if key.startswith(prefix)})
        kwargs.update(module_params)
        random_state = self.random_state
        if isinstance(random_state, np.random.RandomState):
            random_state = copy.deepcopy(random_state)  # as fit will draw from it, untouched
        seed = None
        if random_state is not None:
            seed = int(check_random_state(random_state).randint(2**31 - 1))
        meta = torch.device(device).type == "meta"
        with _seeded(seed, "cpu"), warnings.catch_warnings():
            if meta:
                # Pretrained weights load as a no-op onto meta tensors; torch warns per tensor.
                warnings.filterwarnings("ignore",
                                        message=".*to a meta parameter in the current model")
            with torch.device("meta") if meta else nullcontext():
                built = module(**kwargs)
        return built if meta else built.to(device)

    def _build_net(self, n_samples, n_channels, y_encoded, seed, device, groups=None,
                   module=None):
        # n_samples=None: a net to load saved weights into, module= the network
        # build_module built for them (skbrain._net.build_net).
        return build_net(self, n_samples, n_channels, y_encoded, seed, device, groups=groups,
                         module=module)

    def fit(self, X, y, groups=None, **fit_params):
        """Train a new network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            Images as float (any range; ``ImageResizer`` gives [0, 1]) or uint8
            (scaled by 1/255). 3-D input is read as one channel; 2-D input is
            refused (reshape flattened images first).
        y : array-like of shape (n_samples,)
            Labels of any type (0/1, "yes"/"no", ...), at least two classes.
        groups : array-like of shape (n_samples,), default=None
            Group of each image (patient, or near-copies of one picture). With
            ``early_stopping``, the validation images are then whole groups, so
            no group straddles training and validation. Inside a Pipeline or
            search, route it with ``set_fit_request(groups=True)`` (sklearn's
            metadata routing).
        **fit_params
            Passed to the network's ``forward``.

        Returns
        -------
        self
        """
        self._check_training_params()
        X = self._validate_X(X, reset=True)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        y = column_or_1d(y, warn=True)
        if len(y) != len(X):
            raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}")
        source = None if self.init_from is None else _init_source(self.init_from)
        y_encoded = self._encode_y(y)
        self.image_shape_ = tuple(X.shape[1:])
        device = resolve_device(self.device)
        if device == "cpu":
            tune_malloc()
        seed = None
        if self.random_state is not None:
            seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        self.net_ = self._build_net(len(X), X.shape[1], y_encoded, seed, device, groups=groups)
        with _seeded(seed, device), _deterministic_algorithms(self.deterministic):
            if source is None:
                self.net_.fit(X, y_encoded, **fit_params)
            else:
                self.net_.initialize()
                copy_matching_weights(source.state_dict, self.net_.module_,
                                      len(source.classes_), len(self.classes_))
                self.net_.partial_fit(X, y_encoded, **fit_params)
        self._unwrap_compiled()
        accelerator = getattr(self, "accelerator", None)
        self.device_ = device if accelerator is None else str(accelerator.device)
        self.batch_size_ = self.net_.batch_size
        self.lr_ = self.net_.lr
        self.amp_ = self.net_.amp or None
        self.channels_last_ = getattr(self.net_.module_, "channels_last", False)
        return self

    def _unwrap_compiled(self):
        # Prediction, saving and explanation read the plain module; compiling
        # pays for the many steps of training.
        net = self.net_
        for name in net._modules + net._criteria:
            module = getattr(net, name + "_", None)
            if hasattr(module, "_orig_mod"):
                setattr(net, name + "_", module._orig_mod)
        net.compile = False

    # ----------------------------------------------------------------- predict
    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def predict_proba(self, X):
        """Class probabilities, averaged over ``tta`` extra views when set.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        if str(self.net_.device) == "cpu":
            tune_malloc()
        trained = getattr(self, "image_shape_", None)
        if trained is not None and X.shape[2:] != tuple(trained[1:]):
            warnings.warn(
                f"X has images of {X.shape[2]}x{X.shape[3]} pixels, but "
                f"{type(self).__name__} was trained on {trained[1]}x{trained[2]}; "
                "predictions at another size are unreliable (resize with "
                f"ImageResizer(size=({trained[1]}, {trained[2]})))",
                UserWarning,
                stacklevel=2,
            )
        views = tta_views(self.tta)
        if X.shape[-1] != X.shape[-2]:
            views = views[:4]  # quarter turns and transpositions need square images
        total = None
        for view in views:
            proba = self.net_.predict_proba(X, view=None if len(views) == 1 else view)
            total = proba if total is None else total + proba
        return (total / len(views)).astype(np.float64)

    def predict(self, X):
        """Predict the label of each image, as the labels given to ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def to_onnx(self, path, image_size=150):
        """Write the fitted network as an ONNX file (deprecated).

        .. deprecated:: 0.1
            Use :func:`skbrain.export.to_onnx` ``(model, path)``, which also
            takes pipelines and threshold wrappers; this method will be removed.

        Returns
        -------
        pathlib.Path
        """
        warnings.warn(
            f"{type(self).__name__}.to_onnx is deprecated in 0.1 and will be removed; use "
            "skbrain.export.to_onnx(model, path)",
            FutureWarning,
            stacklevel=2,
        )
        from .export import to_onnx  # deprecated shim: the one upward import, removed with to_onnx

        return to_onnx(self, path, image_size=image_size)

    @property
    def history_(self):
        """skorch's history of the last fit (losses and timings per epoch)."""
        check_is_fitted(self)
        return self.net_.history

    @property
    def module_(self):
        """The trained :class:`torch.nn.Module`."""
        check_is_fitted(self)
        return self.net_.module_

    def __setstate__(self, state):
        super().__setstate__(state)
        fill_new_params(self)
        net = state.get("net_")
        if net is not None and state.get("device_") != str(net.device):
            # skorch maps a CUDA-fitted net onto the CPU where CUDA is missing.
            self.device_ = str(net.device)
            if str(net.device) == "cpu":
                net.scaler_ = None
