"""Writing files so none is half-written: atomic writes, JSON reports, figures.

The bottom layer of skbrain's storage: it imports nothing from skbrain, and
every file skbrain writes (models, metrics, figures, tables, cards) goes
through :func:`atomic_write`: it is written to a temporary file beside the
target and renamed over it, so an interrupted write never leaves a truncated
file.
"""

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "report_jsonable", "save_figure", "write_json"]


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


def report_jsonable(value):
    """A report's value as JSON: numpy to Python, NaN and infinity to None, others by repr.

    Unlike a model file's metadata (which refuses what it cannot keep), a
    report keeps every entry readable.

    Examples
    --------
    >>> import numpy as np
    >>> report_jsonable({"f1": np.float32(0.5), 1: [float("nan"), (2, 3)], "x": {1}})
    {'f1': 0.5, '1': [None, [2, 3]], 'x': '{1}'}
    """
    if isinstance(value, dict):
        return {str(k): report_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [report_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def write_json(path, data):
    """Write a report as indented JSON (:func:`report_jsonable`) through :func:`atomic_write`.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "report.json"
    >>> write_json(target, {"recall": float("nan")})
    >>> json.loads(target.read_text(encoding="utf-8"))
    {'recall': None}
    """
    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(report_jsonable(data), f, indent=2)
        f.write("\n")


def save_figure(fig, path, *, dpi=100):
    """Save a matplotlib figure as PNG through :func:`atomic_write`."""
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi)
