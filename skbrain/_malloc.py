"""Keep glibc from unmapping large activation buffers after every batch.

glibc serves allocations above ``M_MMAP_THRESHOLD`` (a few MiB, adjusted as
the program runs) with a fresh ``mmap`` and returns them with ``munmap`` when
freed, and trims the heap top above ``M_TRIM_THRESHOLD``. A training batch of
16 images at 150x150 px with 40 feature maps needs ~58 MB per activation
tensor, so every forward and backward pass maps, page-faults, zeroes and
unmaps hundreds of megabytes. Raising both thresholds lets the allocator reuse
those pages: 1.45x faster CPU training of the wide net on this project's
machine (``benchmarks/bench_speed.py``); networks whose tensors stay below
glibc's largest automatic threshold (32 MiB) gain little. The cost is that the
process keeps its peak heap instead of handing it back between batches.

The thresholds are the whole process's, and glibc cannot give its automatic
threshold back once set, so this is opt-in: :func:`tune_malloc` is called by
every CPU ``fit`` and ``predict_proba`` of the skbrain estimators and acts, on
the first call of the process, only when ``SKBRAIN_TUNE_MALLOC=1`` is in the
environment (``benchmarks/bench_speed.py`` measures its gain and
``benchmarks/bench_scale.py --tune-malloc`` the memory it keeps). Even then it
does nothing where it cannot help or where the user has decided: not on glibc
(macOS, Windows, musl), or when ``MALLOC_MMAP_THRESHOLD_`` /
``MALLOC_TRIM_THRESHOLD_`` are set (glibc has then read the user's own values).
"""

import ctypes
import ctypes.util
import os
import platform

__all__ = ["tune_malloc"]

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Both thresholds are set to this many bytes: above a batch of 64 images of
#: 150x150 px with 64 feature maps (~370 MB), below any sane single buffer.
THRESHOLD_BYTES = 1 << 30

_state = {"done": False, "applied": False}


def opted_in():
    """Whether ``SKBRAIN_TUNE_MALLOC`` asks for the tuning (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get("SKBRAIN_TUNE_MALLOC", "").strip().lower() in ("1", "true", "yes", "on")


def tune_malloc(force=False):
    """Raise glibc's mmap and trim thresholds for this process, once, if opted in.

    Parameters
    ----------
    force : bool, default=False
        Decide again even if an earlier call already decided.

    Returns
    -------
    bool
        Whether the thresholds are now raised by skbrain.

    Examples
    --------
    >>> from skbrain._malloc import tune_malloc
    >>> isinstance(tune_malloc(), bool)
    True
    """
    if _state["done"] and not force:
        return _state["applied"]
    _state["done"] = True
    _state["applied"] = False
    if not opted_in():
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, THRESHOLD_BYTES) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, THRESHOLD_BYTES) == 1 and ok
    _state["applied"] = ok
    return ok
