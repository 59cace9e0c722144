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
from contextlib import contextmanager, nullcontext
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
    validate_data,
)
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.dataset import Dataset, ValidSplit, unpack_data
from skorch.utils import multi_indexing, to_device, to_numpy, to_tensor
from torch import nn

from ._malloc import tune_malloc
from ._params import fill_new_params
from .augmentation import MAX_TTA, augment_batch, scanner_augment, tta_views

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
)

OPTIMIZERS = {
    "adamw": torch.optim.AdamW,
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

LR_SCHEDULES = (None, "onecycle", "cosine")


def resolve_device(device="auto"):
    """Turn a device request into a concrete torch device string.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        ``"auto"`` picks CUDA when available, then Apple's MPS, else the CPU;
        anything else (``"cpu"``, ``"cuda"``, ``"cuda:1"``) is checked and
        returned.

    Returns
    -------
    str

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    """
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; got {device!r}"
        ) from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was asked for, but CUDA is not available")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was asked for, but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist"
            )
    return str(resolved)


class _SkbrainNet(NeuralNetClassifier):
    """skorch's classifier with skbrain's batch handling.

    Every batch is moved to the device as stored (uint8 images travel at a
    quarter of the float size), converted to float there, augmented while
    training, transformed for test-time augmentation while predicting, and
    run under CUDA autocast when ``amp`` is on.
    """

    #: The autocast type under ``amp``. float16 needs loss scaling (a
    #: GradScaler); bfloat16, which ``benchmarks/gpu_check.py --bf16`` tries,
    #: has float32's exponent range and does not.
    amp_dtype = torch.float16

    def __init__(self, *args, augment=False, augment_intensity=0.0, amp=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.augment = augment
        self.augment_intensity = augment_intensity
        self.amp = amp

    def _amp_on_cuda(self):
        return bool(self.amp) and str(self.device).startswith("cuda")

    def _autocast(self):
        if self._amp_on_cuda():
            return torch.autocast("cuda", dtype=self.amp_dtype)
        return nullcontext()

    def infer(self, x, view=None, **fit_params):
        x = to_tensor(x, device=self.device)
        if x.dtype == torch.uint8:
            x = x.float().div_(255.0)
        elif x.dtype != torch.float32:
            x = x.float()
        if self.module_.training:
            if self.augment:
                x = augment_batch(x)
            x = scanner_augment(x, getattr(self, "augment_intensity", 0.0))
        elif view is not None:
            x = view(x)
        with self._autocast():
            y = self.module_(x, **fit_params)
        return y.float()

    # skorch's prediction path, with a test-time-augmentation view passed down
    # to infer, which applies it to each batch on the device.
    def predict_proba(self, X, view=None):
        nonlin = self._get_predict_nonlinearity()
        y_probas = []
        for yp in self.forward_iter(X, training=False, view=view):
            y_probas.append(to_numpy(nonlin(yp[0] if isinstance(yp, tuple) else yp)))
        return np.concatenate(y_probas, 0)

    def forward_iter(self, X, training=False, device="cpu", view=None):
        iterator = self.get_iterator(self.get_dataset(X), training=training)
        for batch in iterator:
            yield to_device(self.evaluation_step(batch, training=training, view=view), device)

    def evaluation_step(self, batch, training=False, view=None):
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        with torch.set_grad_enabled(training):
            self._set_training(training)
            return self.infer(Xi, view=view)

    def get_dataset(self, X, y=None):
        if self.dataset is Dataset and not self.get_params_for("dataset"):
            mapped = _mapped_file(X)
            if mapped is not None:
                return _FileRowsDataset(X, y, *mapped)
        return super().get_dataset(X, y)

    def initialize(self):
        super().initialize()
        use_scaler = self._amp_on_cuda() and self.amp_dtype == torch.float16
        self.scaler_ = torch.amp.GradScaler("cuda") if use_scaler else None
        return self

    def __getstate__(self):
        state = super().__getstate__()
        # A fitted LRScheduler holds the optimizer, whose parameters and state
        # would be pickled a second time beside skorch's own copy (2-6x the
        # file size). Its scheduler is rebuilt at the next fit anyway.
        copies = {}
        for key in ("callbacks", "callbacks_"):
            entries = state.get(key)
            if not entries:
                continue
            replaced = []
            for entry in entries:
                name, callback = entry if isinstance(entry, tuple) else (None, entry)
                if getattr(callback, "lr_scheduler_", None) is not None:
                    if id(callback) not in copies:
                        copies[id(callback)] = copy.copy(callback)
                        copies[id(callback)].lr_scheduler_ = None
                    callback = copies[id(callback)]
                replaced.append(callback if name is None else (name, callback))
            state[key] = replaced
        return state

    def train_step_single(self, batch, **fit_params):
        if self.scaler_ is None:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.scaler_.scale(loss).backward()
        return {"loss": loss, "y_pred": y_pred}

    def _step_optimizer(self, step_fn):
        if getattr(self, "scaler_", None) is None:
            return super()._step_optimizer(step_fn)
        step_fn()
        for name in self._optimizers:
            self.scaler_.step(getattr(self, name + "_"))
        self.scaler_.update()
        return None


class _FileRowsDataset(Dataset):
    """The rows of a read-only memory-mapped array, each read from its file with ``pread``.

    Read through the mapping, every page an epoch touches stays resident in
    this process, so its memory would grow to the size of the data
    (``ImageResizer(cache_dir=...)`` returns such arrays for collections
    larger than memory); a read leaves only the batch.
    """

    def __init__(self, X, y, path, offset):
        super().__init__(X, y)
        self._path = path
        self._fd = None
        self._offset = offset
        self._row_shape = X.shape[1:]
        self._row_bytes = X[:1].nbytes
        self._dtype = X.dtype

    def __getstate__(self):
        # A DataLoader worker started by spawn opens the file itself; the rows stay on disk.
        return {**self.__dict__, "_fd": None, "X": None}

    def __getitem__(self, i):
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDONLY)
        data = os.pread(self._fd, self._row_bytes, self._offset + int(i) * self._row_bytes)
        Xi = np.frombuffer(bytearray(data), dtype=self._dtype).reshape(self._row_shape)
        return self.transform(Xi, multi_indexing(self.y, i, self.y_indexing))

    def __del__(self):
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            os.close(fd)


def _mapped_file(X):
    """``(path, byte offset)`` of a C-contiguous view of a read-only ``numpy.memmap``, or None.

    Only read-only maps: the file then holds exactly what the array shows.
    """
    if (
        not hasattr(os, "pread")
        or not isinstance(X, np.ndarray)
        or X.ndim < 2
        or len(X) == 0
        or X.flags.writeable
        or not X.flags.c_contiguous
    ):
        return None
    # The innermost memmap owns the mapping: its first byte is at ``offset`` in the file
    # (slices of it are memmaps too, with the same ``offset`` but a later first byte).
    owner, base = None, X
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            owner = base
        base = base.base
    if owner is None or owner.mode != "r" or owner.filename is None:
        return None
    start = X.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return owner.filename, owner.offset + start


def _holds_paths_or_images(X):
    # Object arrays of numbers (as pandas gives) are converted like any array;
    # those of paths, PIL images or per-image arrays need ImageResizer.
    if X.ndim < 2:
        return True
    if not X.size:
        return False
    first = X.flat[0]
    return isinstance(first, (str, bytes, np.ndarray)) or hasattr(first, "__fspath__") or (
        hasattr(first, "getbands")
    )


def _looks_like_paths(X):
    if isinstance(X, (str, bytes)):
        return True
    first = X[0] if len(X) else None
    return isinstance(first, (str, bytes)) or hasattr(first, "__fspath__")


@contextmanager
def _seeded(seed, device):
    """Seed torch inside a forked RNG state so the caller's state is untouched."""
    if seed is None:
        yield
        return
    cuda = str(device).startswith("cuda")
    devices = [torch.device(device).index or 0] if cuda else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextmanager
def _deterministic_algorithms(enabled):
    if not enabled:
        yield
        return
    previous = torch.are_deterministic_algorithms_enabled()
    cudnn_previous = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn_previous


def _grouped_valid_split(y_encoded, groups, fraction, seed):
    """Early stopping's split with whole groups on the validation side.

    Stratified by class where the groups allow (StratifiedGroupKFold's first
    fold, about ``fraction`` of the images), else a plain group shuffle split.
    """
    from sklearn.model_selection import GroupShuffleSplit, PredefinedSplit, StratifiedGroupKFold

    groups = column_or_1d(groups)
    if len(groups) != len(y_encoded):
        raise ValueError(f"groups has {len(groups)} entries for {len(y_encoded)} images")
    if len(np.unique(groups)) < 2:
        raise ValueError("groups has a single group; early stopping needs at least two, one "
                         "for validation")
    index = np.arange(len(y_encoded))
    try:
        cv = StratifiedGroupKFold(n_splits=max(2, round(1 / fraction)), shuffle=True,
                                  random_state=seed)
        _, valid = next(cv.split(index, y_encoded, groups))
    except ValueError:  # fewer groups than folds
        cv = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        _, valid = next(cv.split(index, y_encoded, groups))
    test_fold = np.full(len(index), -1)
    test_fold[valid] = 0
    return ValidSplit(PredefinedSplit(test_fold))


def _init_source(init_from):
    """The fitted skbrain estimator that ``init_from`` names (a model, a saved file or
    the name of a shipped detector)."""
    from ._unwrap import unwrap

    if isinstance(init_from, (str, os.PathLike)):
        from .persistence import load_model

        if not os.path.exists(init_from):
            from ._shipped import describe_known, resolve_name

            shipped = resolve_name(init_from) if isinstance(init_from, str) else None
            if shipped is None:
                raise FileNotFoundError(
                    f"init_from={os.fspath(init_from)!r}: no such file or folder, nor a shipped "
                    f"detector (expected a model saved with save_model, or one of the shipped "
                    f"detectors: {describe_known()})")
            init_from = shipped
        init_from = load_model(init_from)
    return unwrap(init_from, fitted=True, caller="init_from").estimator


def copy_matching_weights(source, target, n_classes_source, n_classes_target):
    """Copy every weight of ``source`` into ``target`` except a head for other classes.

    The two networks must have the same tensors (names and shapes), but for
    those whose first dimension is the class count when the counts differ:
    that is the classification head, left as ``target`` initialised it.

    Parameters
    ----------
    source, target : torch.nn.Module
    n_classes_source, n_classes_target : int

    Returns
    -------
    list of str
        The names of the tensors left as they were (the head), empty when the
        class counts agree.

    Raises
    ------
    ValueError
        The architectures differ; the message names the first tensor that does not match.

    Examples
    --------
    >>> from torch import nn
    >>> a, b = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 2)), nn.Sequential(
    ...     nn.Conv2d(1, 4, 3), nn.Linear(4, 3))
    >>> copy_matching_weights(a, b, 2, 3)
    ['1.weight', '1.bias']
    >>> bool((a[0].weight == b[0].weight).all())
    True
    """
    theirs, ours = source.state_dict(), target.state_dict()
    copied, kept = {}, []
    for name in list(ours) + [name for name in theirs if name not in ours]:
        if name not in theirs or name not in ours:
            where = "the source network" if name not in theirs else "this network"
            raise ValueError(
                f"init_from: the architectures differ: tensor {name!r} is missing from "
                f"{where}; init_from needs a model of the same architecture"
            )
        a, b = theirs[name], ours[name]
        if a.shape == b.shape:
            copied[name] = a
        elif (n_classes_source != n_classes_target and a.ndim and b.ndim
              and a.shape[0] == n_classes_source and b.shape[0] == n_classes_target
              and a.shape[1:] == b.shape[1:]):
            kept.append(name)
        else:
            raise ValueError(
                f"init_from: the architectures differ: tensor {name!r} has shape "
                f"{tuple(a.shape)} in the source network and {tuple(b.shape)} here; only the "
                "classification head may differ (by the number of classes), so the "
                "architecture, its width and the image channels must be the same"
            )
    with torch.no_grad():
        target.load_state_dict(copied, strict=False)
    return kept


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
    batch_size : int
        Images per optimisation step.
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
    amp : "auto" or bool
        Mixed precision on CUDA; ``"auto"`` turns it on there. Ignored on CPU.
    deterministic : bool
        Ask torch and cuDNN for deterministic algorithms during ``fit``
        (slower on CUDA; CPU runs with a ``random_state`` are repeatable
        without it).
    callbacks : list of skorch callbacks or None
        Extra callbacks (for example ``skorch.callbacks.TensorBoard``).
    device : str
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``... The device used is stored as ``device_``. On the CPU
        the network runs in channels-last memory order, which is faster there;
        on other devices in PyTorch's default order, which measured faster on
        CUDA (``module__channels_last`` overrides either).
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
        ``skbrain._base.copy_matching_weights``. A string that is not an
        existing path names a shipped detector
        (:func:`skbrain.weights.list_pretrained`).
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*`` and
        ``dataset__*`` parameters, passed to the skorch net as skorch would.
    """

    #: Valid values of each parameter, declared as scikit-learn declares them
    #: (:mod:`sklearn.utils._param_validation`); subclasses extend the dict.
    _parameter_constraints = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "lr_schedule": [StrOptions({"onecycle", "cosine"}), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "tta": [Interval(Integral, 0, MAX_TTA, closed="both")],
        "amp": [StrOptions({"auto"}), "boolean"],
        "augment_intensity": [Interval(Real, 0, 1, closed="both")],
        "init_from": [None, str, os.PathLike, HasMethods(["predict"])],
    }

    #: What the error message says is expected, where it says it better than
    #: the constraint's own description.
    _parameter_expected = {
        "lr": "a positive number",
        "max_epochs": "a positive integer",
        "batch_size": "a positive integer",
        "optimizer": f"one of {sorted(OPTIMIZERS)} or a torch optimizer class",
        "lr_schedule": f"one of {LR_SCHEDULES}",
        "validation_fraction": "in (0, 1)",
        "class_weight": "None, 'balanced' or a dict",
        "tta": f"an integer from 0 to {MAX_TTA}",
        "amp": "'auto', True or False",
        "augment_intensity": "a number in [0, 1]",
        "init_from": ("None, the path of a saved skbrain model, the name of a shipped "
                      "detector or a fitted skbrain model"),
    }

    def __init__(
        self,
        *,
        lr=1e-3,
        max_epochs=30,
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
        init_from=None,
        augment_intensity=0.0,
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
        source = getattr(self, "init_from", None)
        if source is None or isinstance(source, (str, os.PathLike)):
            return super().__sklearn_clone__()
        try:
            self.init_from = None
            new = super().__sklearn_clone__()
        finally:
            self.init_from = source
        new.init_from = source
        return new

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
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
        if not hasattr(X, "shape") and not hasattr(X, "__array__"):
            try:
                if _looks_like_paths(X):
                    raise TypeError
                X = np.asarray(X)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{type(self).__name__} takes image arrays of shape (n_samples, "
                    "channels, height, width), not file paths or images; put "
                    "skbrain.ImageResizer(...) before it in a Pipeline"
                ) from None
        if getattr(X, "dtype", None) is not None and (
            X.dtype.kind in "US" or (X.dtype.kind == "O" and _holds_paths_or_images(X))
        ):
            raise ValueError(
                f"{type(self).__name__} takes image arrays of shape (n_samples, channels, "
                "height, width), not file paths or images; put skbrain.ImageResizer(...) "
                "before it in a Pipeline"
            )
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        if getattr(X, "ndim", None) == 3:
            X = np.asarray(X)[:, None]
        keep_uint8 = getattr(X, "dtype", None) == np.uint8
        try:
            X = validate_data(
                self,
                X,
                reset=reset,
                allow_nd=True,
                dtype=None if keep_uint8 else np.float32,
                ensure_min_features=1,
            )
        except ValueError as exc:
            if getattr(X, "ndim", None) == 4 and "features, but" in str(exc):
                # sklearn's wording (its checks match it) plus what it means for images.
                raise ValueError(
                    f"{exc} For images the features are the channels: it was fitted on "
                    f"{self.n_features_in_}-channel images and got {X.shape[1]}-channel ones; "
                    f"resize with ImageResizer(..., channels={self.n_features_in_})"
                ) from None
            raise
        if X.ndim == 2:
            # Tabular input (sklearn's own checks use it) becomes one-row
            # grayscale images, so every estimator still accepts it.
            X = X[:, None, None, :]
        elif X.ndim != 4:
            raise ValueError(
                f"X must have shape (n_samples, channels, height, width); got an array of "
                f"shape {X.shape}"
            )
        elif X.shape[1] > 4 and X.shape[-1] in (1, 3, 4):
            raise ValueError(
                f"X has shape {X.shape}, which looks channels-last; skbrain estimators take "
                "(n_samples, channels, height, width): use X.transpose(0, 3, 1, 2)"
            )
        return np.ascontiguousarray(X)

    def _encode_y(self, y):
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y has only one class ({classes[0]!r}); a classifier needs at least two"
            )
        self.classes_ = classes
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
    def _build_net(self, n_samples, n_channels, y_encoded, seed, device):
        module, module_kwargs = self._module_spec()
        module_kwargs = {
            "in_channels": n_channels,
            "n_classes": len(self.classes_),
            **module_kwargs,
        }
        if "channels_last" in inspect.signature(module).parameters:
            # NHWC trains 1.2-1.7x faster on the CPU (bench_speed.py) but slowed
            # every family down on CUDA, 1.2-3.3x (gpu_check.py on an H200).
            # A module__channels_last the user sets still wins (see below).
            module_kwargs.setdefault("channels_last", device == "cpu")
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = OPTIMIZERS[optimizer.lower()]

        callbacks = list(self.callbacks or [])
        train_split = None
        n_train = n_samples
        if self.early_stopping:
            patience = 5 if self.early_stopping is True else int(self.early_stopping)
            train_split = ValidSplit(self.validation_fraction, stratified=True, random_state=seed)
            n_train = n_samples - math.ceil(n_samples * self.validation_fraction)
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(monitor="valid_loss", patience=patience, load_best=True),
                )
            )
        param_groups, max_lr = self._lr_groups()
        if self.lr_schedule == "onecycle":
            steps = max(1, math.ceil(n_train / self.batch_size)) * self.max_epochs
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(
                        torch.optim.lr_scheduler.OneCycleLR,
                        max_lr=max_lr,
                        total_steps=steps,
                        step_every="batch",
                    ),
                )
            )
        elif self.lr_schedule == "cosine":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_epochs),
                )
            )

        kwargs = {f"module__{k}": v for k, v in module_kwargs.items()}
        if n_train > 1 and n_train % self.batch_size == 1:
            # A last batch of one image breaks batch norm in training mode.
            kwargs["iterator_train__drop_last"] = True
        if optimizer is not torch.optim.SGD or self.weight_decay:
            kwargs["optimizer__weight_decay"] = self.weight_decay
        weight = self._class_weight_tensor(y_encoded)
        if weight is not None:
            kwargs["criterion__weight"] = weight
        if param_groups is not None:
            kwargs["optimizer__param_groups"] = param_groups
        kwargs.update(self._skorch_kwargs())
        return _SkbrainNet(
            module=module,
            criterion=nn.CrossEntropyLoss,
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks or None,
            classes=list(range(len(self.classes_))),
            device=device,
            verbose=self.verbose,
            iterator_train__shuffle=True,
            augment=bool(self.augment),
            augment_intensity=float(self.augment_intensity),
            amp=self.amp is True or (self.amp == "auto" and device.startswith("cuda")),
            **kwargs,
        )

    def fit(self, X, y, groups=None, **fit_params):
        """Train a new network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            Images as float (any range; ``ImageResizer`` gives [0, 1]) or uint8
            (scaled by 1/255). 3-D input is read as one channel; 2-D input as
            one-row, one-channel images.
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
        self.net_ = self._build_net(len(X), X.shape[1], y_encoded, seed, device)
        if groups is not None and self.early_stopping:
            self.net_.set_params(train_split=_grouped_valid_split(
                y_encoded, groups, self.validation_fraction, seed))
        with _seeded(seed, device), _deterministic_algorithms(self.deterministic):
            if source is None:
                self.net_.fit(X, y_encoded, **fit_params)
            else:
                self.net_.initialize()
                copy_matching_weights(source.module_, self.net_.module_,
                                      len(source.classes_), len(self.classes_))
                self.net_.partial_fit(X, y_encoded, **fit_params)
        self.device_ = device
        return self

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
        """Write the fitted network, ending in a softmax, as an ONNX file.

        See :func:`skbrain.export.to_onnx`: float32 input ``(batch, channels,
        image_size, image_size)`` in [0, 1] with a dynamic batch axis; first
        output the class probabilities. Needs ``pip install 'skbrain[onnx]'``.

        Returns
        -------
        pathlib.Path
        """
        from .export import to_onnx

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
