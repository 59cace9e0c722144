"""An on-disk cache of resized images, memory-mapped back (``ImageResizer(cache_dir=...)``).

Layout: ``<cache_dir>/skbrain-images-<settings>/`` holds, for each list of
files transformed, ``<request>.npy`` (uint8, ``(n, channels, height,
width)``, read back with :func:`numpy.load` ``mmap_mode="r"``) and
``<request>.keys.json`` (the content key of each row). ``<settings>``
hashes every setting that changes the stored pixels plus the versions of
the code that makes them; ``<request>`` hashes the ordered content keys.
A file is keyed by a hash of its bytes, not its name, size or modification
time: a file rewritten in place within the same second, or restored with
its old time stamp, still misses the cache, and renamed or copied files
still hit it. The price is reading every file once per ``transform``,
which is cheap beside decoding it (hashing runs at about 1 GB/s).

Rows already stored under another request (the full list, when a
cross-validation fold asks for a subset) are copied, not decoded again.
Files are written under a temporary name and renamed, so an interrupted
run leaves no half-written entry.
"""

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from ._imageio import read_file

__all__ = ["clear_image_cache"]

#: Bump when decoding or resizing changes the pixels it gives for the same settings.
CACHE_FORMAT = 1
_PREFIX = "skbrain-images-"


def settings_folder(cache_dir, settings):
    """The folder of ``cache_dir`` for one set of pixel settings (a JSON-able dict)."""
    text = json.dumps({"format": CACHE_FORMAT, **settings}, sort_keys=True, default=str)
    digest = hashlib.blake2b(text.encode(), digest_size=10).hexdigest()
    return Path(cache_dir).expanduser() / f"{_PREFIX}{digest}"


def content_key(path):
    """Hash of a file's bytes (raises ImageLoadError naming a missing file)."""
    _, data = read_file(path)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def check_outside_data(cache_dir, paths):
    """Refuse a cache folder inside the folder (or class folder) of any image file."""
    cache = Path(cache_dir).expanduser().resolve()
    seen = set()
    for path in paths:
        parent = Path(os.fsdecode(os.fspath(path))).resolve().parent
        for folder in (parent, parent.parent):
            if folder in seen or folder == folder.parent:
                continue
            seen.add(folder)
            if cache == folder or folder in cache.parents:
                raise ValueError(
                    f"cache_dir {os.fspath(cache_dir)!r} is inside the image folder "
                    f"{str(folder)!r}; skbrain never writes into your data: choose a "
                    "folder elsewhere, e.g. ~/.cache/skbrain"
                )


def cached_pixels(folder, keys, shape, fill):
    """Return the stored pixels for ``keys``, building what is missing.

    Parameters
    ----------
    folder : Path
        The settings folder (see :func:`settings_folder`).
    keys : list of str
        The content key of each image, in order.
    shape : tuple
        ``(channels, height, width)`` of one image.
    fill : callable
        ``fill(indices, out)`` decodes the images at ``indices`` into the
        uint8 rows ``out[indices]``.

    Returns
    -------
    numpy.memmap
        Read-only, so the file always holds what the array shows, and the
        classifiers can read its rows from the file (see ``skbrain._base``).
    """
    request = hashlib.blake2b("\n".join(keys).encode(), digest_size=16).hexdigest()
    data_path = folder / f"{request}.npy"
    if data_path.exists():
        return np.load(data_path, mmap_mode="r")
    folder.mkdir(parents=True, exist_ok=True)
    known = _index(folder)
    tmp = folder / f".{request}.{uuid.uuid4().hex}.tmp.npy"
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(keys), *shape))
        missing, sources = [], {}
        for i, key in enumerate(keys):
            if key in known:
                sources.setdefault(known[key][0], []).append((i, known[key][1]))
            else:
                missing.append(i)
        for name, pairs in sources.items():
            stored = np.load(folder / name, mmap_mode="r")
            # In chunks, so a subset of a collection larger than memory is never in memory.
            for start in range(0, len(pairs), 1024):
                chunk = pairs[start : start + 1024]
                out[[i for i, _ in chunk]] = stored[[row for _, row in chunk]]
            del stored
        if missing:
            fill(missing, out)
        out.flush()
        del out
        keys_tmp = folder / f".{request}.{uuid.uuid4().hex}.tmp.json"
        keys_tmp.write_text(json.dumps(keys))
        os.replace(tmp, data_path)
        os.replace(keys_tmp, folder / f"{request}.keys.json")
    finally:
        if tmp.exists():
            tmp.unlink()
    return np.load(data_path, mmap_mode="r")


def _index(folder):
    """``content key -> (data file name, row)`` over every complete entry of ``folder``."""
    known = {}
    for keys_file in folder.glob("*.keys.json"):
        name = keys_file.name[: -len(".keys.json")] + ".npy"
        if not (folder / name).exists():
            continue
        try:
            keys = json.loads(keys_file.read_text())
        except (OSError, ValueError):
            continue
        for row, key in enumerate(keys):
            known.setdefault(key, (name, row))
    return known


def clear_image_cache(cache_dir):
    """Delete every image cache skbrain wrote in ``cache_dir``; return how many bytes it freed.

    Only the ``skbrain-images-*`` folders are removed; anything else in
    ``cache_dir`` stays.

    Parameters
    ----------
    cache_dir : str or os.PathLike
        The folder given to ``ImageResizer(cache_dir=...)``.

    Returns
    -------
    int
        Bytes freed.

    Examples
    --------
    >>> import tempfile
    >>> from skbrain.preprocessing import clear_image_cache
    >>> clear_image_cache(tempfile.mkdtemp())
    0
    """
    root = Path(cache_dir).expanduser()
    freed = 0
    if not root.is_dir():
        return 0
    for folder in root.glob(f"{_PREFIX}*"):
        if folder.is_dir():
            freed += sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
            shutil.rmtree(folder)
    return freed
