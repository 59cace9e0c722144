"""The skorch network inside every fitted estimator: its class, datasets and assembly.

:class:`_SkbrainNet` is skorch's :class:`~skorch.NeuralNetClassifier` with
skbrain's batch handling (device-side conversion and augmentation, test-time
views, CUDA autocast); :class:`_BatchArrayDataset` and
:class:`_FileRowsDataset` cut in-memory arrays and read-only memory maps into
batches. :func:`build_net` turns an estimator's training parameters into such
a net (optimizer, early stopping and its grouped split, learning-rate
schedule, class weights), which the estimator base fits as ``net_``.
"""

import copy
import math
import os
from contextlib import nullcontext

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.dataset import Dataset, ValidSplit, unpack_data
from skorch.utils import multi_indexing, to_device, to_numpy, to_tensor
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, Subset

from ._positive import positive_column
from .augmentation import augment_batch, scanner_augment, synthetic_lesions

OPTIMIZERS = {
    "adamw": torch.optim.AdamW,
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

LR_SCHEDULES = (None, "onecycle", "cosine")


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

    def __init__(self, *args, augment=False, augment_intensity=0.0, augment_lesions=0.0,
                 lesion_classes=None, lesion_logit_offset=None, amp=False,
                 resident_fraction=0.0, file_workers=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.augment = augment
        self.augment_intensity = augment_intensity
        self.augment_lesions = augment_lesions
        self.lesion_classes = lesion_classes
        self.lesion_logit_offset = lesion_logit_offset
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
        x = self._float_batch(x)
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

    def initialize_module(self):
        # A network built beforehand (BaseCNNClassifier.build_module, to load saved
        # weights into) is used once, by the next initialize; later fits build afresh.
        given = vars(self).pop("_given_module", None)
        if given is None:
            return super().initialize_module()
        self.module_ = given
        return self

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

    # train_step, not train_step_single: accelerate's mixin replaces the latter and calls
    # this one, so both nets paint lesions here.
    def train_step(self, batch, **fit_params):
        share = getattr(self, "augment_lesions", 0.0)
        if share:
            batch = self._with_lesions(batch, share)
        return super().train_step(batch, **fit_params)

    # Logit adjustment (Menon et al. 2021), not class weights: the painted tumors raise the
    # tumor prior of the training batches, and training on logits plus log(painted prior /
    # labels' prior) leaves the model's own probabilities at the labels' prior while every
    # image weighs the same (class weights tripled a tumor-free image's weight at 0.5).
    def get_loss(self, y_pred, y_true, *args, training=False, **kwargs):
        offset = getattr(self, "lesion_logit_offset", None)
        if training and offset is not None:
            y_pred = y_pred + torch.as_tensor(offset, device=y_pred.device, dtype=y_pred.dtype)
        return super().get_loss(y_pred, y_true, *args, training=training, **kwargs)

    def _float_batch(self, x):
        """Images on the device as float32; uint8 scaled to [0, 1]."""
        x = to_tensor(x, device=self.device)
        if x.dtype == torch.uint8:
            return x.float().div_(255.0)
        return x if x.dtype == torch.float32 else x.float()

    def _with_lesions(self, batch, share):
        """The batch with a lesion in ``share`` of its tumor-free images, relabelled tumor."""
        Xi, yi = unpack_data(batch)
        x = self._float_batch(Xi)
        y = to_tensor(yi, device=self.device).clone()
        negative, positive = self.lesion_classes
        pick = (y == negative) & (torch.rand(len(y), device=y.device) < share)
        if pick.any():
            painted, ok = synthetic_lesions(x[pick])
            x = x.clone()
            x[pick] = painted
            y[torch.nonzero(pick).flatten()[ok]] = positive
        return x, y

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


def _grouped_valid_split(y_encoded, groups, fraction, seed):
    """Early stopping's split with whole groups on the validation side.

    :func:`skbrain.model_selection.grouped_holdout` with ``fraction`` of the
    images, stratified by class as closely as the groups allow; where no
    whole group fits in a class's share, the validation side grows a group's
    size at a time until one does (at most half the images).
    """
    from sklearn.model_selection import PredefinedSplit
    from sklearn.utils.validation import column_or_1d

    from .model_selection import grouped_holdout

    groups = column_or_1d(groups)
    n = len(groups)
    if n != len(y_encoded):
        raise ValueError(f"groups has {n} entries for {len(y_encoded)} images")
    _, sizes = np.unique(groups, return_counts=True)
    if len(sizes) < 2:
        raise ValueError("groups has a single group; early stopping needs at least two, one "
                         "for validation")
    n_valid = math.ceil(fraction * n)
    while True:
        try:
            _, valid = grouped_holdout(y_encoded, groups, test_size=n_valid, random_state=seed)
            break
        except ValueError:
            n_valid += int(sizes.min())
            if n_valid > n // 2:
                raise ValueError(
                    f"early stopping with groups: no split of the {n} images keeps every "
                    f"group whole with at most half of them for validation (the smallest "
                    f"group has {sizes.min()} images); fit without groups or with "
                    "early_stopping=False"
                ) from None
    test_fold = np.full(n, -1)
    test_fold[valid] = 0
    return ValidSplit(PredefinedSplit(test_fold)), len(valid)


def _lesion_logit_offset(estimator, y_encoded):
    """log(painted prior / labels' prior) per class, added to the logits in training.

    Painting lesions into a share ``p`` of the tumor-free images moves ``p`` of
    them to the tumor class.
    """
    share = float(getattr(estimator, "augment_lesions", 0.0))
    if not share:
        return None
    negative, positive = _lesion_classes(estimator)
    prior = np.bincount(y_encoded, minlength=len(estimator.classes_)) / len(y_encoded)
    painted = prior.copy()
    painted[negative] = max((1 - share) * prior[negative], 1e-6)
    painted[positive] = prior[positive] + share * prior[negative]
    return np.log(painted / prior).tolist()


def _lesion_classes(estimator):
    """(tumor-free, tumor) as indices of ``classes_``, for ``augment_lesions``; else None."""
    if not getattr(estimator, "augment_lesions", 0.0):
        return None
    column = positive_column(estimator.classes_)
    return (1 - column, column)


def build_net(estimator, n_samples, n_channels, y_encoded, seed, device, groups=None,
              module=None):
    """The skorch net that ``estimator.fit`` trains, configured from its parameters.

    The device table's batch size, learning-rate factor, precision and memory
    order (:func:`skbrain._device.training_defaults`), the optimizer, early
    stopping (with a grouped validation split when ``groups`` is given), the
    learning-rate schedule sized from the images the net trains on, class
    weights and the ``module__*``-style parameters. ``n_samples=None`` builds a
    net to load saved weights into; ``module``, a network built beforehand by
    ``estimator.build_module``, is then what its next ``initialize`` takes as
    ``module_`` instead of building one.
    """
    settings = estimator._training_settings(n_samples, device)
    batch_size, lr_factor = settings["batch_size"], settings["lr_factor"]
    if n_samples is None:  # a net to load saved weights into
        n_samples = 2 * batch_size
    module_class, module_kwargs = estimator._module_kwargs(
        n_channels, len(estimator.classes_), settings["channels_last"])
    optimizer = estimator.optimizer
    if isinstance(optimizer, str):
        optimizer = OPTIMIZERS[optimizer.lower()]

    callbacks = list(estimator.callbacks or [])
    train_split = None
    n_train = n_samples
    if estimator.early_stopping:
        patience = 5 if estimator.early_stopping is True else int(estimator.early_stopping)
        if groups is None:
            train_split = ValidSplit(estimator.validation_fraction, stratified=True,
                                     random_state=seed)
            n_train = n_samples - math.ceil(n_samples * estimator.validation_fraction)
        else:  # the schedule's steps count the images the grouped split trains on
            train_split, n_valid = _grouped_valid_split(
                y_encoded, groups, estimator.validation_fraction, seed)
            n_train = n_samples - n_valid
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(monitor="valid_loss", patience=patience, load_best=True),
            )
        )
    param_groups, max_lr = estimator._lr_groups()
    if lr_factor != 1.0:
        max_lr = (max_lr * lr_factor if np.isscalar(max_lr)
                  else [value * lr_factor for value in max_lr])
        if param_groups is not None:
            param_groups = [(pattern, {**group, "lr": group["lr"] * lr_factor}
                             if "lr" in group else group)
                            for pattern, group in param_groups]
    if estimator.lr_schedule == "onecycle":
        steps = max(1, math.ceil(n_train / batch_size)) * estimator.max_epochs
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
    elif estimator.lr_schedule == "cosine":
        callbacks.append(
            (
                "lr_schedule",
                LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR,
                            T_max=estimator.max_epochs),
            )
        )

    kwargs = {f"module__{k}": v for k, v in module_kwargs.items()}
    if n_train > 1 and n_train % batch_size == 1:
        # A last batch of one image breaks batch norm in training mode.
        kwargs["iterator_train__drop_last"] = True
    if optimizer is not torch.optim.SGD or estimator.weight_decay:
        kwargs["optimizer__weight_decay"] = estimator.weight_decay
    weight = estimator._class_weight_tensor(y_encoded)
    if weight is not None:
        kwargs["criterion__weight"] = weight
    if param_groups is not None:
        kwargs["optimizer__param_groups"] = param_groups
    kwargs["iterator_train__shuffle"] = True
    kwargs.update(estimator._skorch_kwargs())
    net_class, amp = _SkbrainNet, settings["amp"]
    if getattr(estimator, "accelerator", None) is not None:
        from ._accelerate import accelerated_net_class

        net_class, device, amp = accelerated_net_class(), None, None
        kwargs["accelerator"] = estimator.accelerator
    elif device.startswith("cuda") and "iterator_train__num_workers" not in kwargs:
        kwargs["file_workers"] = settings["num_workers"]
    net = net_class(
        module=module_class,
        criterion=nn.CrossEntropyLoss,
        optimizer=optimizer,
        lr=estimator.lr * lr_factor,
        max_epochs=estimator.max_epochs,
        batch_size=batch_size,
        train_split=train_split,
        callbacks=callbacks or None,
        classes=list(range(len(estimator.classes_))),
        device=device,
        verbose=estimator.verbose,
        augment=bool(estimator.augment),
        augment_intensity=float(estimator.augment_intensity),
        augment_lesions=float(getattr(estimator, "augment_lesions", 0.0)),
        lesion_classes=_lesion_classes(estimator),
        lesion_logit_offset=_lesion_logit_offset(estimator, y_encoded),
        amp=amp or False,
        resident_fraction=settings["resident_fraction"],
        compile=bool(getattr(estimator, "compile", False)),
        **kwargs,
    )
    if module is not None:
        vars(net)["_given_module"] = module  # not skorch's setattr: no module to register
    return net
