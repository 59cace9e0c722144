"""Devices and seeding: which device a fit runs on and what ``"auto"`` means there.

:func:`resolve_device` turns ``device="auto"`` into a concrete device; the
seeding and determinism context managers wrap a fit without touching the
caller's random state or torch settings.

Every rule that turns an estimator's ``"auto"`` (``batch_size``, ``amp``) or an
unset setting (channels-last memory order, DataLoader workers, keeping the
training images on the GPU) into a value lives in :data:`DEVICE_DEFAULTS` and
:func:`training_defaults`; the estimator base only reads the result, which
``fit`` stores in attributes ending in ``_`` (``batch_size_``, ``lr_``,
``amp_``, ``channels_last_``). Change a default here, after measuring it with
``benchmarks/bench_gpu.py``.
"""

import math
import os
from contextlib import contextmanager

import torch

__all__ = [
    "DEVICE_DEFAULTS",
    "REFERENCE_BATCH_SIZE",
    "auto_batch_size",
    "resolve_device",
    "training_defaults",
]

#: The batch size the learning-rate defaults were tuned at (on the CPU), unless a
#: net says otherwise (the wide net: 8, ``ArchitectureSpec.batch_size``). With
#: ``batch_size="auto"`` the learning rate is scaled from it (:func:`training_defaults`).
REFERENCE_BATCH_SIZE = 16

#: Per device type. ``batch_pixels``: pixels per batch that ``batch_size="auto"``
#: aims for (None keeps the reference batch); ``max_batch_size``: its cap (the
#: reference where that is larger); ``min_steps_per_epoch``: ``"auto"`` never gives
#: fewer optimizer steps an epoch than this (small collections keep small batches);
#: ``lr_scaling``: how the learning rate follows an automatic batch size
#: (``"sqrt"``, ``"linear"`` or None); ``amp``: what ``amp="auto"`` means
#: (``"bfloat16"``: bf16 autocast without a gradient scaler where the GPU supports
#: bf16, else float16 with a scaler; None: float32); ``channels_last``: the
#: networks' memory order; ``num_workers``/``pin_memory``: DataLoader settings for
#: images read from files (memory-mapped collections); ``resident_fraction``:
#: in-memory training images are copied to the device once, as stored (uint8), when
#: they take at most this share of its free memory (0: batch by batch).
DEVICE_DEFAULTS = {
    "cpu": {
        "batch_pixels": None,
        "max_batch_size": REFERENCE_BATCH_SIZE,
        "min_steps_per_epoch": 1,
        "lr_scaling": None,
        "amp": None,
        "channels_last": True,
        "num_workers": 0,
        "pin_memory": False,
        "resident_fraction": 0.0,
    },
    "cuda": {
        "batch_pixels": 128 * 150 * 150,
        "max_batch_size": 512,
        "min_steps_per_epoch": 8,
        "lr_scaling": "sqrt",
        # Off until bench_gpu.py shows bf16 paying: on an H200 at 150 px, bf16 autocast
        # made a raw Lite0 loop slower at batch 16 (502 vs 639 img/s) and at 64 (1,975 vs
        # 2,124), and float16 slowed every hand-made net (issue 29, gpu_check_nhwc.md); on an
        # H100 at batch 128, bf16 was 0.95x / 1.07x / 0.82x of float32 for Lite0 / compact /
        # wide (bench_gpu_h100.md).
        "amp": None,
        # NCHW: channels_last made EfficientNet-b0 2.5x slower there at batch 16
        # (gpu_check_nchw_b0.json against gpu_check_nhwc.md). At batch 128 on an H100 it was
        # 1.30x / 1.57x / 1.03x faster (bench_gpu_h100.md); batch 16 is not measured there yet.
        "channels_last": False,
        "num_workers": 4,
        "pin_memory": True,
        "resident_fraction": 0.25,
    },
    "mps": {
        "batch_pixels": None,
        "max_batch_size": REFERENCE_BATCH_SIZE,
        "min_steps_per_epoch": 1,
        "lr_scaling": None,
        "amp": None,
        "channels_last": False,
        "num_workers": 0,
        "pin_memory": False,
        "resident_fraction": 0.0,
    },
}


def _rules(device):
    kind = torch.device(device).type if device is not None else "cpu"
    return DEVICE_DEFAULTS.get(kind, DEVICE_DEFAULTS["cpu"])


def auto_batch_size(device, image_shape, n_train=None, reference=REFERENCE_BATCH_SIZE):
    """The batch size ``batch_size="auto"`` picks.

    ``batch_pixels / (height * width)`` rounded down to a power of two, between
    ``reference`` and the device's ``max_batch_size``, and no larger than
    ``n_train / min_steps_per_epoch`` (but never below the reference); the
    reference itself where the device has no ``batch_pixels``.

    Parameters
    ----------
    device : str
        A resolved device (``"cpu"``, ``"cuda:0"``...).
    image_shape : tuple of int
        ``(channels, height, width)`` of the training images.
    n_train : int, default=None
        Training images per epoch, when known.
    reference : int, default=REFERENCE_BATCH_SIZE
        The batch the net's defaults were chosen at.

    Returns
    -------
    int

    Examples
    --------
    >>> auto_batch_size("cpu", (1, 150, 150))
    16
    >>> auto_batch_size("cpu", (1, 150, 150), reference=8)
    8
    """
    rules = _rules(device)
    reference = int(reference)
    if rules["batch_pixels"] is None:
        return reference
    pixels = max(1, int(image_shape[-1]) * int(image_shape[-2]))
    size = min(rules["max_batch_size"], max(1, rules["batch_pixels"] // pixels))
    if n_train is not None:
        size = min(size, max(1, n_train // rules["min_steps_per_epoch"]))
    # A power of two, but never below the reference (which need not be one).
    return max(reference, 2 ** int(math.floor(math.log2(size))))


def _amp_dtype(device, amp):
    if amp is False or amp is None or torch.device(device).type != "cuda":
        return None
    if amp in ("bfloat16", "float16"):
        return amp
    choice = _rules(device)["amp"] if amp == "auto" else "bfloat16"
    if choice == "bfloat16":
        supported = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return "bfloat16" if supported else "float16"
    return choice


def training_defaults(device, image_shape, *, batch_size, lr, amp, n_train=None,
                      reference_batch_size=REFERENCE_BATCH_SIZE):
    """Resolve the device-dependent training settings of one ``fit``.

    Parameters
    ----------
    device : str
        The resolved device.
    image_shape : tuple of int
        ``(channels, height, width)`` of the training images.
    batch_size : int or "auto"
        The estimator's parameter.
    lr : float
        The estimator's learning rate, meant at ``reference_batch_size`` when
        ``batch_size="auto"``.
    amp : "auto", bool, "bfloat16" or "float16"
        The estimator's parameter. ``True`` is bfloat16 where the GPU supports
        it, else float16; mixed precision is CUDA-only.
    n_train : int, default=None
        Training images per epoch.
    reference_batch_size : int, default=REFERENCE_BATCH_SIZE
        The batch the net's defaults were chosen at (the wide net's: 8):
        ``batch_size="auto"`` on the CPU, and what a CUDA batch and its
        learning rate are scaled from.

    Returns
    -------
    dict
        ``batch_size`` (int), ``lr_factor`` (float multiplying every learning
        rate), ``amp`` (``"bfloat16"``, ``"float16"`` or None), ``channels_last``,
        ``num_workers``, ``pin_memory`` and ``resident_fraction``.

    Examples
    --------
    >>> d = training_defaults("cpu", (1, 150, 150), batch_size="auto", lr=1e-3, amp="auto")
    >>> d["batch_size"], d["lr_factor"], d["amp"]
    (16, 1.0, None)
    """
    rules = _rules(device)
    factor = 1.0
    if batch_size == "auto":
        batch_size = auto_batch_size(device, image_shape, n_train, reference_batch_size)
        ratio = batch_size / reference_batch_size
        factor = {"sqrt": math.sqrt(ratio), "linear": ratio}.get(rules["lr_scaling"], 1.0)
    workers = rules["num_workers"]
    if workers:
        workers = min(workers, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1))
    return {
        "batch_size": int(batch_size),
        "lr_factor": factor,
        "amp": _amp_dtype(device, amp),
        "channels_last": rules["channels_last"],
        "num_workers": workers,
        "pin_memory": rules["pin_memory"],
        "resident_fraction": rules["resident_fraction"],
    }


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
