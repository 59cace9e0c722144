"""Saving and loading fitted models, and writing files so that none is left half-written.

The skbrain model format
------------------------
A model file (by convention ``*.skbrain``) is a :mod:`joblib` pickle of one
dict::

    {
        "magic": "skbrain-model",          # tells a model file from any other pickle
        "format_version": (1, 0),          # (major, minor)
        "created": "2025-01-31T12:00:00+00:00",
        "versions": {"skbrain": ..., "torch": ..., "sklearn": ..., "skorch": ...,
                     "numpy": ..., "python": ...},
        "metadata": {...},                 # free-form, JSON-like: split, metrics, ...
        "model": <the fitted estimator or Pipeline>,
    }

A reader accepts every file of its own major version; a new minor version
only adds keys. A model fitted on CUDA loads on a machine without CUDA: skorch
maps its tensors to the CPU and the estimator's ``device_`` says ``"cpu"``.

Files are pickles: loading one runs code chosen by whoever wrote it, so load
only model files you trust.

Every file skbrain writes (models, metrics, figures, tables) goes through
:func:`atomic_write`: it is written to a temporary file beside the target and
renamed over it, so an interrupted write never leaves a truncated file.
"""

import datetime
import os
import platform
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import joblib

from ._version import __version__
from .exceptions import ModelFileError

__all__ = [
    "FORMAT_MAGIC",
    "FORMAT_VERSION",
    "atomic_write",
    "load_model",
    "save_model",
]

FORMAT_MAGIC = "skbrain-model"
FORMAT_VERSION = (1, 0)
_PAYLOAD_KEYS = ("magic", "format_version", "created", "versions", "metadata", "model")


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path, mode="wb", **open_kwargs):
    """Open a temporary file that replaces ``path`` only once it is complete.

    The temporary file is created in the target's folder (so the final
    :func:`os.replace` is atomic on POSIX and Windows), flushed and synced to
    disk before the rename, and deleted if the block raises.

    Parameters
    ----------
    path : str or path-like
        The file to write. Its folder must exist.
    mode : {"wb", "w"}, default="wb"
        Binary or text.
    **open_kwargs
        Passed to :func:`open` (``encoding=``, ``newline=``).

    Yields
    ------
    file object

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_write(target, "w", encoding="utf-8") as f:
    ...     _ = f.write("done")
    >>> target.read_text(encoding="utf-8")
    'done'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w'; got {mode!r}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: folder {str(path.parent)!r} "
                                "does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private; give it the permissions open() would.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _versions():
    import numpy
    import sklearn
    import skorch
    import torch

    return {
        "skbrain": __version__,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "skorch": skorch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def save_model(model, path, *, metadata=None):
    """Save a fitted estimator or Pipeline in the skbrain model format.

    Parameters
    ----------
    model : fitted estimator or :class:`~sklearn.pipeline.Pipeline`
        Usually ``Pipeline([("resize", ImageResizer(...)), ("cnn", estimator)])``.
    path : str or path-like
        The file to write (by convention ``*.skbrain``); its folder must
        exist. An existing file is replaced, atomically.
    metadata : dict, default=None
        Anything to keep beside the model: the split, metrics, parameters. Keep
        it JSON-like (str, numbers, lists, dicts) so any reader can use it.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The model is not fitted.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skbrain import SimpleCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = SimpleCNNClassifier(max_epochs=1, random_state=0).fit(data.data, data.target)
    >>> path = save_model(clf, pathlib.Path(tempfile.mkdtemp()) / "clf.skbrain",
    ...                   metadata={"note": "demo"})
    >>> model, info = load_model(path, return_info=True)
    >>> type(model).__name__, info["metadata"]["note"], info["format_version"]
    ('SimpleCNNClassifier', 'demo', (1, 0))
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict or None; got {type(metadata).__name__}")
    payload = {
        "magic": FORMAT_MAGIC,
        "format_version": FORMAT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "metadata": dict(metadata or {}),
        "model": model,
    }
    path = Path(path)
    with atomic_write(path, "wb") as f:
        joblib.dump(payload, f)
    return path


def _is_pickle_like(path):
    with open(path, "rb") as f:
        head = f.read(4)
    # Protocol 2+ pickles start with PROTO (0x80); joblib may compress with
    # zlib (0x78), gzip (1f 8b), bz2 ("BZ"), xz (fd 37) or lzma (5d 00).
    return head[:1] in (b"\x80", b"\x78", b"\x5d") or head[:2] in (b"\x1f\x8b", b"BZ",
                                                                   b"\xfd7")


def load_model(path, *, return_info=False):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model` (or ``skbrain train``). Load only
        files you trust: model files are pickles.
    return_info : bool, default=False
        Also return the file's information: ``format_version``, ``created``,
        ``versions`` (of the saving environment) and ``metadata``.

    Returns
    -------
    model : estimator or Pipeline
        Fitted; on a machine without CUDA, a CUDA-fitted model comes back on
        the CPU (its estimator's ``device_`` is ``"cpu"``).
    info : dict
        Only when ``return_info`` is true.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    skbrain.exceptions.ModelFileError
        The file is not an skbrain model, was written by a newer major format
        version, or cannot be unpickled here; the message says which.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "notes.skbrain"
    >>> _ = bad.write_text("hello")
    >>> load_model(bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skbrain.exceptions.ModelFileError: '...notes.skbrain' is not an skbrain model file ...
    """
    path = Path(path)
    name = repr(str(path))
    if not path.exists():
        raise FileNotFoundError(f"model file {name} does not exist")
    if path.is_dir():
        raise ModelFileError(f"{name} is a folder, not an skbrain model file")
    if not _is_pickle_like(path):
        raise ModelFileError(
            f"{name} is not an skbrain model file (it is not a pickle; models are written by "
            "skbrain.save_model or `skbrain train`)"
        )
    from skorch.exceptions import DeviceWarning

    try:
        with warnings.catch_warnings():
            # The CPU fallback for a CUDA-fitted model is intended and shows in device_.
            warnings.simplefilter("ignore", DeviceWarning)
            payload = joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as exc:
        raise ModelFileError(
            f"{name} could not be loaded: {exc}. It was probably saved with a different "
            "version of skbrain or of its dependencies"
        ) from exc
    except Exception as exc:
        raise ModelFileError(
            f"{name} is not an skbrain model file or is damaged "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("magic") != FORMAT_MAGIC:
        raise ModelFileError(
            f"{name} is not an skbrain model file (it is a pickle of "
            f"{type(payload).__name__}, without the skbrain marker)"
        )
    version = tuple(payload.get("format_version") or (0,))
    if version[0] > FORMAT_VERSION[0]:
        written_by = payload.get("versions", {}).get("skbrain", "a newer skbrain")
        raise ModelFileError(
            f"{name} uses skbrain model format {'.'.join(map(str, version))} (written by "
            f"skbrain {written_by}); skbrain {__version__} reads format "
            f"{FORMAT_VERSION[0]}.x: upgrade skbrain to load it"
        )
    missing = [key for key in _PAYLOAD_KEYS if key not in payload]
    if missing:
        raise ModelFileError(f"{name} is a damaged skbrain model file (missing {missing})")
    model = payload["model"]
    if not return_info:
        return model
    info = {key: payload[key] for key in _PAYLOAD_KEYS if key not in ("magic", "model")}
    info["format_version"] = version
    info["path"] = str(path)
    return model, info
