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
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, Subset

from ._device import training_defaults
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
    "compile__",
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
    run under CUDA autocast when ``amp`` is on. In-memory arrays are cut into
    batches with one fancy index per batch (no per-image Python), and on CUDA
    are copied to the device once when ``resident_fraction`` of its free
    memory holds them; batch losses are read back once an epoch on CUDA, so
    the host never waits on the GPU inside an epoch.
    """

    #: The autocast type of ``amp=True`` in nets pickled before ``amp`` named
    #: a dtype. float16 needs loss scaling (a GradScaler); bfloat16 has
    #: float32's exponent range and does not.
    amp_dtype = torch.float16

    def __init__(self, *args, augment=False, augment_intensity=0.0, amp=False,
                 resident_fraction=0.0, file_workers=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.augment = augment
        self.augment_intensity = augment_intensity
        self.amp = amp
        self.resident_fraction = resident_fraction
        self.file_workers = file_workers

    def _amp_on_cuda(self):
        return bool(self.amp) and str(self.device).startswith("cuda")

    def _autocast_dtype(self):
        if isinstance(self.amp, str):
            return getattr(torch, self.amp)
        return self.amp_dtype

    def _autocast(self):
        if self._amp_on_cuda():
            return torch.autocast("cuda", dtype=self._autocast_dtype())
        return nullcontext()

    def infer(self, x, view=None, **fit_params):
        if isinstance(x, torch.Tensor) and x.is_pinned():
            x = x.to(self.device, non_blocking=True)
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
            if _BatchArrayDataset.takes(X, y) and self._plain_loaders():
                return _BatchArrayDataset(X, y, self.device,
                                          getattr(self, "resident_fraction", 0.0))
        return super().get_dataset(X, y)

    def _plain_loaders(self):
        # DataLoaders with no setting but these can be replaced by batch-at-a-time ones.
        settings = {*self.get_params_for("iterator_train"), *self.get_params_for("iterator_valid")}
        return (self.iterator_train is DataLoader and self.iterator_valid is DataLoader
                and not settings - {"shuffle", "drop_last", "batch_size"})

    def get_iterator(self, dataset, training=False):
        base = dataset.dataset if isinstance(dataset, Subset) else dataset
        kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
        workers = getattr(self, "file_workers", 0)
        if (isinstance(base, _FileRowsDataset) and workers
                and not {"num_workers", "pin_memory"} & set(kwargs)):
            # Rows read from files in background processes, into pinned memory on CUDA.
            kwargs.setdefault("batch_size", self.batch_size)
            iterator = self.iterator_train if training else self.iterator_valid
            return iterator(dataset, num_workers=workers, pin_memory=True, **kwargs)
        if not isinstance(base, _BatchArrayDataset) or not self._plain_loaders():
            return super().get_iterator(dataset, training=training)
        batch_size = kwargs.get("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
        # What DataLoader(shuffle=...) samples, in the same order from the same
        # generator, handed to the dataset a whole batch of indices at a time.
        sampler = RandomSampler(dataset) if kwargs.get("shuffle") else SequentialSampler(dataset)
        batches = BatchSampler(sampler, batch_size, kwargs.get("drop_last", False))
        # Batches not already on the GPU are pinned, so that infer copies them without waiting.
        pin = str(self.device).startswith("cuda") and not isinstance(base.X, torch.Tensor)
        return DataLoader(dataset, sampler=batches, batch_size=None, pin_memory=pin)

    def _defer_loss_reads(self):
        # Reading a loss waits for the GPU; the CPU has nothing to wait for.
        return str(self.device).startswith("cuda")

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None or not self._defer_loss_reads():
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        batch_count, losses = 0, []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            self.history.record_batch(prefix + "_loss", losses[-1])
            self.history.record_batch(prefix + "_batch_size", len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        if losses:
            values = torch.stack(losses).float().tolist()
            batches = self.history[-1]["batches"][-batch_count:]
            for entry, value in zip(batches, values, strict=True):
                entry[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", batch_count)

    def initialize(self):
        super().initialize()
        use_scaler = self._amp_on_cuda() and self._autocast_dtype() == torch.float16
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


class _BatchArrayDataset(torch.utils.data.Dataset):
    """An in-memory image array (and labels) indexed a whole batch at a time.

    ``dataset[indices]`` returns ``(X[indices], y[indices])`` as tensors in one
    fancy index, where skorch's :class:`~skorch.dataset.Dataset` returns one
    row per call and the DataLoader stacks them. On CUDA, when the array
    (stored as uint8 or float) takes at most ``resident_fraction`` of the
    device's free memory, it is copied there once and indexed there.
    """

    def __init__(self, X, y, device, resident_fraction=0.0):
        self.X = X
        self.y = y
        self._length = len(X)
        nbytes = X.nbytes + (0 if y is None else np.asarray(y).nbytes)
        if (resident_fraction and str(device).startswith("cuda")
                and nbytes <= resident_fraction * torch.cuda.mem_get_info(device)[0]):
            self.X = torch.as_tensor(X).to(device)
            self.y = None if y is None else torch.as_tensor(np.asarray(y)).to(device)

    @staticmethod
    def takes(X, y):
        def plain(a):
            return (isinstance(a, np.ndarray) and not isinstance(a, np.memmap)
                    and a.dtype.kind in "biuf")
        return plain(X) and X.ndim >= 2 and (y is None or plain(y) and len(y) == len(X))

    def __len__(self):
        return self._length

    def __getitem__(self, indices):
        if isinstance(self.X, torch.Tensor):
            index = torch.as_tensor(indices, device=self.X.device)
            Xi = self.X[index]
            yi = self.y[index] if self.y is not None else torch.zeros(len(index))
            return Xi, yi
        index = np.asarray(indices)
        Xi = torch.from_numpy(self.X[index])
        yi = torch.from_numpy(np.asarray(self.y[index])) if self.y is not None else (
            torch.zeros(len(index)))
        return Xi, yi


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
    return ValidSplit(PredefinedSplit(test_fold)), len(valid)


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
    batch_size : int or "auto"
        Images per optimisation step. ``"auto"`` is 16 on the CPU and, on CUDA,
        about 128 images of 150 x 150 pixels (fewer for larger images, at
        least 8 steps an epoch, never below 16), with ``lr`` scaled by the
        square root of the batch's ratio to 16 (``skbrain._device``). The
        values used are ``batch_size_`` and ``lr_``.
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
        ``skbrain._base.copy_matching_weights``. A string that is not an
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
        if getattr(X, "ndim", None) == 2 and not self._accepts_tabular_X:
            raise ValueError(
                f"X must have shape (n_samples, channels, height, width); got a 2-D array of "
                f"shape {X.shape}, which {type(self).__name__} does not read as images: "
                "reshape flattened images with X.reshape(n_samples, channels, height, width), "
                "or put skbrain.ImageResizer(...) before it to read image files"
            )
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
        if X.ndim == 2:  # only with _accepts_tabular_X: one-row grayscale images
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
                                 amp=self.amp, n_train=n_train)

    def _build_net(self, n_samples, n_channels, y_encoded, seed, device, groups=None):
        settings = self._training_settings(n_samples, device)
        batch_size, lr_factor = settings["batch_size"], settings["lr_factor"]
        if n_samples is None:  # a net to load saved weights into
            n_samples = 2 * batch_size
        module, module_kwargs = self._module_spec()
        module_kwargs = {
            "in_channels": n_channels,
            "n_classes": len(self.classes_),
            **module_kwargs,
        }
        if "channels_last" in inspect.signature(module).parameters:
            # The device table's memory order; a module__channels_last the user
            # sets still wins (see below).
            module_kwargs.setdefault("channels_last", settings["channels_last"])
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = OPTIMIZERS[optimizer.lower()]

        callbacks = list(self.callbacks or [])
        train_split = None
        n_train = n_samples
        if self.early_stopping:
            patience = 5 if self.early_stopping is True else int(self.early_stopping)
            if groups is None:
                train_split = ValidSplit(self.validation_fraction, stratified=True,
                                         random_state=seed)
                n_train = n_samples - math.ceil(n_samples * self.validation_fraction)
            else:  # the schedule's steps count the images the grouped split trains on
                train_split, n_valid = _grouped_valid_split(
                    y_encoded, groups, self.validation_fraction, seed)
                n_train = n_samples - n_valid
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(monitor="valid_loss", patience=patience, load_best=True),
                )
            )
        param_groups, max_lr = self._lr_groups()
        if lr_factor != 1.0:
            max_lr = (max_lr * lr_factor if np.isscalar(max_lr)
                      else [value * lr_factor for value in max_lr])
            if param_groups is not None:
                param_groups = [(pattern, {**group, "lr": group["lr"] * lr_factor}
                                 if "lr" in group else group)
                                for pattern, group in param_groups]
        if self.lr_schedule == "onecycle":
            steps = max(1, math.ceil(n_train / batch_size)) * self.max_epochs
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
        if n_train > 1 and n_train % batch_size == 1:
            # A last batch of one image breaks batch norm in training mode.
            kwargs["iterator_train__drop_last"] = True
        if optimizer is not torch.optim.SGD or self.weight_decay:
            kwargs["optimizer__weight_decay"] = self.weight_decay
        weight = self._class_weight_tensor(y_encoded)
        if weight is not None:
            kwargs["criterion__weight"] = weight
        if param_groups is not None:
            kwargs["optimizer__param_groups"] = param_groups
        kwargs["iterator_train__shuffle"] = True
        kwargs.update(self._skorch_kwargs())
        net_class, amp = _SkbrainNet, settings["amp"]
        if getattr(self, "accelerator", None) is not None:
            from ._accelerate import accelerated_net_class

            net_class, device, amp = accelerated_net_class(), None, None
            kwargs["accelerator"] = self.accelerator
        elif device.startswith("cuda") and "iterator_train__num_workers" not in kwargs:
            kwargs["file_workers"] = settings["num_workers"]
        return net_class(
            module=module,
            criterion=nn.CrossEntropyLoss,
            optimizer=optimizer,
            lr=self.lr * lr_factor,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks or None,
            classes=list(range(len(self.classes_))),
            device=device,
            verbose=self.verbose,
            augment=bool(self.augment),
            augment_intensity=float(self.augment_intensity),
            amp=amp or False,
            resident_fraction=settings["resident_fraction"],
            compile=bool(getattr(self, "compile", False)),
            **kwargs,
        )

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
                copy_matching_weights(source.module_, self.net_.module_,
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
