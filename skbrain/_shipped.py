"""Where the shipped detectors are: the ``skbrain-weights`` distribution's manifest.

A low-level lookup with no estimator imports, so that the estimator base can
resolve ``init_from="<name>"`` and :mod:`skbrain.weights` can load a model
without either importing the other. The distribution (built from
``weights/skbrain-weights/`` in skbrain's repository, installed by
``pip install 'skbrain[detector]'``) holds the package ``skbrain_weights``:
``MANIFEST.json`` and the model files it lists. The manifest is read at call
time, so a detector added to an installed distribution is listed at once.

``MANIFEST.json``::

    {"format": "skbrain-weights-manifest", "format_version": 1,
     "models": [{"name": ..., "file": ..., "sha256": ..., "description": ...,
                 "default": true, "model_card": ..., ...}]}

``file`` and ``model_card`` are relative to the package folder; other keys
(``model``, ``image_size``, ``licence``, ``trained_on`` ...) are kept as given.
"""

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from .exceptions import ModelFileError

DISTRIBUTION = "skbrain-weights"
PACKAGE = "skbrain_weights"
MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = "skbrain-weights-manifest"
MANIFEST_VERSION = 1
REQUIRED_KEYS = ("name", "file", "sha256", "description", "default", "model_card")
INSTALL_HINT = ("pip install 'skbrain[detector]' (from a checkout of skbrain: pip install "
                "./weights/skbrain-weights)")

_verified = {}


class WeightsNotInstalledError(ImportError):
    """The ``skbrain-weights`` distribution, which holds the shipped detectors, is not installed.

    Examples
    --------
    >>> from skbrain._shipped import WeightsNotInstalledError
    >>> issubclass(WeightsNotInstalledError, ImportError)
    True
    """


def distribution_folder():
    """The installed ``skbrain_weights`` package folder, found without importing it.

    Raises
    ------
    WeightsNotInstalledError
        The distribution is not installed; the message says how to install it.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotInstalledError(
            f"the shipped detectors are not installed (no package {PACKAGE!r}): {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def _check_entry(entry, where, seen):
    if not isinstance(entry, dict):
        raise ModelFileError(f"{where}: each model is a JSON object; got {entry!r}")
    missing = [k for k in REQUIRED_KEYS if k not in entry]
    if missing:
        raise ModelFileError(f"{where}: model {entry.get('name', '?')!r} has no "
                             f"{', '.join(missing)}")
    name = entry["name"]
    if not isinstance(name, str) or not name or os.sep in name or "/" in name:
        raise ModelFileError(f"{where}: model name {name!r} is not a plain non-empty name")
    if name in seen:
        raise ModelFileError(f"{where}: model {name!r} is listed twice")
    for key in ("file", "model_card"):
        value = entry[key]
        if (not isinstance(value, str) or not value or Path(value).is_absolute()
                or ".." in Path(value).parts):
            raise ModelFileError(f"{where}: model {name!r}: {key} must be a path inside the "
                                 f"package; got {value!r}")
    sha = entry["sha256"]
    if not (isinstance(sha, str) and len(sha) == 64
            and all(c in "0123456789abcdef" for c in sha)):
        raise ModelFileError(f"{where}: model {name!r}: sha256 must be 64 lowercase hex "
                             f"digits; got {sha!r}")
    if not isinstance(entry["default"], bool):
        raise ModelFileError(f"{where}: model {name!r}: default must be true or false")


def read_manifest(folder=None):
    """The manifest of the shipped detectors, checked.

    Parameters
    ----------
    folder : path-like, default=None
        A package folder holding ``MANIFEST.json``; by default the installed
        distribution's.

    Returns
    -------
    dict
        ``folder`` (a Path) and ``models`` (a list of dicts, as listed).

    Raises
    ------
    WeightsNotInstalledError
        No folder given and the distribution is not installed.
    skbrain.exceptions.ModelFileError
        The manifest is missing or malformed: not JSON, a model without one of
        the required keys, a name listed twice, or more than one default.
    """
    folder = distribution_folder() if folder is None else Path(folder)
    path = folder / MANIFEST_NAME
    where = str(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{where} does not exist: the {DISTRIBUTION} distribution is "
                             f"damaged; reinstall it: {INSTALL_HINT}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{where} is not valid JSON ({exc})") from None
    if (not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT
            or not isinstance(manifest.get("models"), list)):
        raise ModelFileError(f"{where}: not a {MANIFEST_FORMAT} (a 'format' of "
                             f"{MANIFEST_FORMAT!r} and a list of 'models')")
    if manifest.get("format_version") != MANIFEST_VERSION:
        raise ModelFileError(f"{where}: format_version {manifest.get('format_version')!r}; "
                             f"this skbrain reads {MANIFEST_VERSION}")
    seen = set()
    for entry in manifest["models"]:
        _check_entry(entry, where, seen)
        seen.add(entry["name"])
    defaults = [e["name"] for e in manifest["models"] if e["default"]]
    if len(defaults) > 1:
        raise ModelFileError(f"{where}: more than one default model ({', '.join(defaults)})")
    return {"folder": folder, "models": [dict(e) for e in manifest["models"]]}


def model_names(folder=None):
    """The shipped detectors' names, in the manifest's order (empty when not installed)."""
    try:
        return [e["name"] for e in read_manifest(folder)["models"]]
    except WeightsNotInstalledError:
        return []


def describe_known(folder=None):
    """The shipped names for a message: listed, or why there are none."""
    try:
        names = [e["name"] for e in read_manifest(folder)["models"]]
    except WeightsNotInstalledError:
        return f"none, {DISTRIBUTION} is not installed: {INSTALL_HINT}"
    return ", ".join(names) or f"none (the installed {DISTRIBUTION} lists no model yet)"


def find(name=None, folder=None):
    """The manifest entry of a shipped detector, with ``path`` and ``card_path`` added.

    Parameters
    ----------
    name : str, default=None
        A name of the manifest; None: the default detector.
    folder : path-like, default=None
        As :func:`read_manifest`.

    Returns
    -------
    dict

    Raises
    ------
    WeightsNotInstalledError
        The distribution is not installed.
    ValueError
        ``name`` is not shipped (the message lists the shipped names), or
        none is marked as the default.
    """
    manifest = read_manifest(folder)
    models = manifest["models"]
    known = describe_known(folder)
    if name is None:
        entry = next((e for e in models if e["default"]), None)
        if entry is None:
            raise ValueError(f"no shipped detector is marked as the default; the shipped "
                             f"detectors are: {known}")
    else:
        entry = next((e for e in models if e["name"] == name), None)
        if entry is None:
            raise ValueError(f"{name!r} is not a shipped detector; the shipped detectors are: "
                             f"{known}")
    root = manifest["folder"]
    return {**entry, "path": root / entry["file"], "card_path": root / entry["model_card"]}


def sha256_of(path, chunk=1 << 20):
    """The SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verified_path(entry):
    """The model file of a :func:`find` entry, after checking its SHA-256.

    The check is done once per file version (path, size and modification time)
    in a process.

    Raises
    ------
    skbrain.exceptions.ModelFileError
        The file is missing or its SHA-256 is not the manifest's.
    """
    path = Path(entry["path"])
    if not path.is_file():
        raise ModelFileError(f"shipped detector {entry['name']!r}: its file {str(path)!r} is "
                             f"missing; reinstall {DISTRIBUTION}: {INSTALL_HINT}")
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if _verified.get(key) != entry["sha256"]:
        actual = sha256_of(path)
        if actual != entry["sha256"]:
            raise ModelFileError(
                f"shipped detector {entry['name']!r}: {str(path)!r} has SHA-256 {actual}, not "
                f"the manifest's {entry['sha256']}; the file is damaged or was replaced. "
                f"Reinstall {DISTRIBUTION}: {INSTALL_HINT}")
        _verified[key] = actual
    return path


def resolve_name(name):
    """The verified file of shipped detector ``name``, or None when it is not one.

    For callers that take a file path or a detector name (``init_from``):
    None when the distribution is not installed or does not list ``name``.
    """
    if not isinstance(name, str) or name not in model_names():
        return None
    return verified_path(find(name))
