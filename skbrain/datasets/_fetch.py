"""Downloading the Kaggle brain MRI images from public mirrors, checked by sha256."""

import contextlib
import csv
import hashlib
import http.client
import io
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from importlib import resources
from pathlib import PurePosixPath

from .._version import __version__
from ..exceptions import DataNotFoundError
from ._brain_mri import ENV_VAR, get_data_home, load_brain_mri

__all__ = ["fetch_brain_mri"]

DEFAULT_MIRRORS = (
    "https://raw.githubusercontent.com/MohamedAliHabib/Brain-Tumor-Detection/"
    "30470ae8eb2e4a523df7dc45dd5323903cb98365",
    "https://raw.githubusercontent.com/Yehiahesham86/brain-tumor-model/"
    "0d2a3921677e5583f06e64dcfdd67aa920ebd242",
)
_CHUNK = 1 << 16


def _read_manifest():
    """Return the (relpath, sha256) pairs of the shipped manifest.

    The tests replace this function to fetch from a small fake mirror.
    """
    text = (
        resources.files(__package__)
        .joinpath("data", "brain_mri_manifest.csv")
        .read_text(encoding="utf-8")
    )
    return [(row["relpath"], row["sha256"]) for row in csv.DictReader(io.StringIO(text))]


def fetch_brain_mri(data_home=None, *, download_if_missing=True, mirrors=None, timeout=30):
    """Load the Kaggle brain MRI images, downloading the files that are missing.

    Every file listed in skbrain's manifest (253 images, 155 ``yes`` and 98
    ``no``) is looked for under ``data_home`` and checked against its
    sha256. Files that are missing, or whose content differs, are downloaded
    over HTTPS from public GitHub copies of the Kaggle data pinned to fixed
    commits; see ``DESCR`` for where they come from and their licence
    situation. The images are never shipped with skbrain.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        The folder for the images (holding ``yes/`` and ``no/``). ``None``
        uses :func:`get_data_home`: ``SKBRAIN_DATA`` when set, else
        ``~/skbrain_data/brain_mri``.
    download_if_missing : bool, default=True
        If False, raise instead of downloading when files are missing or
        differ from the manifest.
    mirrors : list of str, default=None
        Base URLs to download from, tried in order; a file's URL is the base
        URL, ``/``, and its URL-quoted path such as ``no/1%20no.jpeg``.
        ``None`` uses the two GitHub copies.
    timeout : float, default=30
        Seconds to wait for a server before giving up on it.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As returned by :func:`load_brain_mri` for ``data_home``: ``data``
        (file paths), ``target``, ``target_names``, ``filenames``, ``groups``
        and ``DESCR``.

    Raises
    ------
    skbrain.exceptions.DataNotFoundError
        If files are missing or corrupt and could not be downloaded (or
        ``download_if_missing`` is False). The message says which files,
        where to put them, and that ``SKBRAIN_DATA`` can point to a copy.

    Notes
    -----
    Each download is written to a hidden temporary file next to its target,
    checked against the manifest's sha256, and only then renamed into place,
    so an interrupted or wrong download never leaves a bad image behind. A
    mirror that cannot be reached is not asked again for the other files.
    Progress goes to stderr (through ``tqdm`` when it is installed).

    Examples
    --------
    >>> from skbrain.datasets import fetch_brain_mri
    >>> data = fetch_brain_mri()  # doctest: +SKIP
    >>> data.data.shape, data.target_names  # doctest: +SKIP
    ((253,), array(['no', 'yes'], dtype='<U3'))
    """
    folder = get_data_home(data_home)
    if mirrors is None:
        mirrors = DEFAULT_MIRRORS
    elif isinstance(mirrors, str):
        mirrors = [mirrors]
    mirrors = [str(m).rstrip("/") for m in mirrors]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")

    entries = _read_manifest()
    for rel, _ in entries:
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or ".." in parts or not parts:
            raise ValueError(f"manifest path {rel!r} must be relative and stay in the folder")
    todo, corrupt = [], []
    for rel, sha in entries:
        target = folder / rel
        if target.is_file():
            if _sha256_file(target) == sha:
                continue
            corrupt.append(rel)
        todo.append((rel, sha))

    if todo and not download_if_missing:
        raise DataNotFoundError(
            _problem(folder, entries, todo, corrupt, "and download_if_missing=False.")
        )
    if todo:
        failures = _download_all(folder, todo, mirrors, timeout)
        if failures:
            failed = [(rel, sha) for rel, sha in todo if rel in failures]
            first = next(iter(failures.values()))
            raise DataNotFoundError(
                _problem(
                    folder,
                    entries,
                    failed,
                    [rel for rel in corrupt if rel in failures],
                    f"and could not be downloaded ({first}).",
                )
            )
    return load_brain_mri(folder)


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        for chunk in iter(lambda: fp.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _problem(folder, entries, todo, corrupt, why):
    """One message: which files, why, where to put them, and SKBRAIN_DATA."""

    def listing(names):
        return ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")

    missing = [rel for rel, _ in todo if rel not in corrupt]
    parts = []
    if missing:
        parts.append(
            f"{len(missing)} of {len(entries)} brain MRI image files are missing from "
            f"{str(folder)!r} ({listing(missing)})"
        )
    if corrupt:
        parts.append(
            f"{len(corrupt)} of {len(entries)} files in {str(folder)!r} differ from the "
            f"expected sha256 ({listing(corrupt)})"
        )
    classes = sorted({rel.split("/")[0] for rel, _ in entries if "/" in rel})
    layout = " and ".join(f"{folder}{os.sep}{c}{os.sep}" for c in classes) or str(folder)
    return (
        f"{' and '.join(parts)}, {why} Put the Kaggle images there as {layout} (one "
        f"sub-folder per class, original file names), or set {ENV_VAR} to a folder that "
        "already holds them."
    )


class _MirrorDown(Exception):
    """The server itself could not be reached; do not ask it for other files."""


def _download_all(folder, todo, mirrors, timeout):
    """Download ``todo`` into ``folder``; return {relpath: reason} for files that failed."""
    alive = list(mirrors)
    failures = {}
    created = []
    with _Progress(len(todo), folder) as progress:
        for rel, sha in todo:
            if not alive:
                failures[rel] = "no mirror could be reached"
                continue
            target = folder / rel
            created += _make_dirs(target.parent)
            reasons = []
            for base in list(alive):
                url = f"{base}/{urllib.parse.quote(rel)}"
                try:
                    _download(url, target, sha, timeout)
                except _MirrorDown as exc:
                    alive.remove(base)
                    reasons.append(str(exc))
                except OSError as exc:
                    reasons.append(f"{url}: {exc}")
                else:
                    break
            else:
                failures[rel] = "; ".join(reasons)
            progress.step(rel)
    # Leave no empty folders behind when nothing could be downloaded into them.
    for path in reversed(created):
        with contextlib.suppress(OSError):
            path.rmdir()
    return failures


def _make_dirs(path):
    """Create ``path`` and its missing parents; return the folders created, outermost first."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
    return list(reversed(missing))


def _download(url, target, sha, timeout):
    """Fetch ``url`` to ``target`` through a checked temporary file, or raise OSError."""
    tmp = None
    try:
        try:
            request = urllib.request.Request(url, headers={"User-Agent": f"skbrain/{__version__}"})
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            raise OSError(f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, ValueError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _MirrorDown(f"{url}: cannot reach the server ({reason})") from None
        with response:
            fd, tmp = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".part", dir=target.parent
            )
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
        if digest.hexdigest() != sha:
            raise OSError(f"sha256 mismatch, download rejected (got {digest.hexdigest()[:12]}...)")
        os.replace(tmp, target)
        tmp = None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        raise OSError(f"download interrupted ({exc!r})") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


class _Progress:
    """A per-file count on stderr, through tqdm when it is installed."""

    def __init__(self, total, folder):
        self.total, self.done = total, 0
        self.bar = None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        desc = f"skbrain: downloading {total} brain MRI image file(s) to {folder}"
        if tqdm is not None:
            self.bar = tqdm(total=total, desc="skbrain: downloading", unit="file", file=sys.stderr)
        else:
            print(desc, file=sys.stderr, flush=True)
        self.tty = sys.stderr.isatty() if hasattr(sys.stderr, "isatty") else False

    def __enter__(self):
        return self

    def step(self, name):
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            return
        line = f"  [{self.done}/{self.total}] {name}"
        if self.tty:
            print(f"\r{line[:79]:<79}", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def __exit__(self, *exc_info):
        if self.bar is not None:
            self.bar.close()
        elif self.tty:
            print(file=sys.stderr, flush=True)
        return False
