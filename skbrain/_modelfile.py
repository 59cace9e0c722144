"""The skbrain model file, read and written without building or importing an estimator.

The format (see :mod:`skbrain.persistence`) is a zip file or a folder holding
``config.json`` (the model as a tree of nodes, plain JSON values only) and
``model.safetensors`` (the network's tensors). This module holds what needs
no estimator class: the format's names and version, the encoding of plain
parameter values, reading and checking the members of a file or folder,
writing them, loading tensors into a network, and
:func:`read_estimator_state`, which gives the saved network's tensors,
classes and hyperparameters straight from a file (what ``init_from`` needs).

It sits low: it imports torch, safetensors and numpy, and from skbrain only
:mod:`skbrain._fileio`, :mod:`skbrain._version` and
:mod:`skbrain.exceptions` (two leaf modules), never an estimator and never
:mod:`skbrain.persistence`, which builds the objects on top of it.
"""

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._fileio import atomic_write
from ._version import __version__
from .exceptions import ModelFileError

__all__ = [
    "CONFIG_NAME",
    "FORMAT_MAGIC",
    "FORMAT_VERSION",
    "PICKLE_FORMAT_VERSION",
    "README_NAME",
    "VOTE_PREFIX",
    "WEIGHTS_NAME",
    "EstimatorState",
    "read_estimator_state",
]

FORMAT_MAGIC = "skbrain-model"
FORMAT_VERSION = (2, 1)  # 2.1: a VotingClassifier of networks
#: The joblib-pickle format of skbrain 0.x, read only with ``allow_pickle=True``.
PICKLE_FORMAT_VERSION = (1, 0)
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
#: The safetensors key prefix of a vote's member ``i``'s tensors (a file of one
#: network has none, as before votes could be saved).
VOTE_PREFIX = "vote.{}."
README_NAME = "README.md"
# A config.json larger than this is not one skbrain wrote (a long history is ~100 kB).
_MAX_CONFIG_BYTES = 64 * 2**20
# Deeper than any model skbrain saves (a Pipeline in two threshold wrappers is 4).
_MAX_DEPTH = 20


# --------------------------------------------------------------- plain values
def encode_value(value, where):
    """Turn a parameter value into JSON, refusing anything but plain values."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        if value.dtype.kind in "biufU":
            return {"__scalar__": value.dtype.str, "value": value.item()}
    elif isinstance(value, (int, float)):
        return value
    elif isinstance(value, np.ndarray):
        if value.dtype.kind in "biufU":
            items = value.ravel().tolist()
        elif value.dtype.kind == "O":
            items = [encode_value(item, f"{where}[{i}]") for i, item in
                     enumerate(value.ravel().tolist())]
        else:
            items = None
        if items is not None:
            return {"__ndarray__": items, "dtype": value.dtype.str, "shape": list(value.shape)}
    elif isinstance(value, tuple):
        return {"__tuple__": [encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    elif isinstance(value, list):
        return [encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    elif isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode_value(v, f"{where}[{k!r}]") for k, v in value.items()}
        return {"__dict__": [[encode_value(k, where), encode_value(v, f"{where}[{k!r}]")]
                             for k, v in value.items()]}
    shown = " ".join(repr(value).split())[:80]
    raise TypeError(
        f"cannot save {where} = {shown}: the skbrain model format holds only plain values "
        "(None, bools, numbers, strings, numpy scalars and arrays, and lists, tuples and "
        "dicts of them), never code or objects; set it to such a value (an optimizer by "
        "its name, for example) or leave it at its default before saving"
    )


def _checked_dtype(text, where):
    dtype = np.dtype(text) if isinstance(text, str) and len(text) < 16 else None
    if dtype is None or dtype.kind not in "biufUO":
        raise ModelFileError(f"config.json: {where} has an unsupported dtype {text!r}")
    return dtype


def decode_value(value, where):
    """The value :func:`encode_value` encoded."""
    if isinstance(value, list):
        return [decode_value(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(decode_value(v, where) for v in value["__tuple__"])
    if "__scalar__" in value:
        return _checked_dtype(value["__scalar__"], where).type(value["value"])
    if "__ndarray__" in value:
        dtype = _checked_dtype(value["dtype"], where)
        items = [decode_value(v, where) for v in value["__ndarray__"]]
        array = np.empty(len(items), dtype=dtype)
        array[:] = items
        return array.reshape(value["shape"])
    if "__dict__" in value:
        return {decode_value(k, where): decode_value(v, where) for k, v in value["__dict__"]}
    return {k: decode_value(v, where) for k, v in value.items()}


def jsonable(value):
    """JSON form of free-form data (metadata, history): numpy to Python, others refused."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__}")


# -------------------------------------------------------------------- tensors
def state_tensors(module):
    """The module's tensors, contiguous on the CPU, each storage once.

    Returns the tensors and ``{name: name of the same tensor kept}`` for tied ones.
    """
    tensors, aliases, seen = {}, {}, {}
    for key, tensor in module.state_dict(keep_vars=False).items():
        ident = (tensor.device, tensor.untyped_storage().data_ptr(), tensor.storage_offset(),
                 tuple(tensor.shape), tuple(tensor.stride()), tensor.dtype)
        if ident in seen and tensor.numel():
            aliases[key] = seen[ident]
            continue
        seen[ident] = key
        tensors[key] = tensor.detach().to("cpu").contiguous()
    return tensors, aliases


def with_aliases(tensors, aliases):
    """``tensors`` plus each tied tensor under its own name again."""
    tensors = dict(tensors)
    for key, kept in aliases.items():
        if kept in tensors:
            tensors[key] = tensors[kept]
    return tensors


def split_member(tensors, prefix):
    """A vote member's tensors (``prefix`` taken off their names), and all the others."""
    own, rest = {}, {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            own[key[len(prefix):]] = value
        else:
            rest[key] = value
    return own, rest


def load_into(module, tensors, name):
    """Load the file's ``tensors`` into ``module``: every one, each of the expected shape."""
    import torch

    expected = module.state_dict()
    missing = [key for key in expected if key not in tensors]
    unexpected = [key for key in tensors if key not in expected]
    if missing or unexpected:
        raise ModelFileError(
            f"{name}: {WEIGHTS_NAME} does not match the network config.json describes: "
            + "; ".join(part for part in (
                f"missing tensors {missing[:5]}" if missing else "",
                f"unexpected tensors {unexpected[:5]}" if unexpected else "") if part)
        )
    tensors = dict(tensors)
    for key, tensor in tensors.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise ModelFileError(
                f"{name}: {WEIGHTS_NAME}: tensor {key!r} has shape {tuple(tensor.shape)}, but "
                f"the network config.json describes needs {tuple(expected[key].shape)}"
            )
        if tensor.dtype != expected[key].dtype:
            tensors[key] = tensor.to(expected[key].dtype)
    with torch.no_grad():
        module.load_state_dict(tensors, strict=True)


# -------------------------------------------------------------------- reading
def is_pickle_like(path):
    with open(path, "rb") as f:
        head = f.read(4)
    # Protocol 2+ pickles start with PROTO (0x80); joblib may compress with
    # zlib (0x78), gzip (1f 8b), bz2 ("BZ"), xz (fd 37) or lzma (5d 00).
    return head[:1] in (b"\x80", b"\x78", b"\x5d") or head[:2] in (b"\x1f\x8b", b"BZ",
                                                                   b"\xfd7")


def is_zip(path):
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def read_members(path, name):
    """Return ``(config bytes, weights bytes or path)`` of a model file or folder."""
    if path.is_dir():
        missing = [m for m in (CONFIG_NAME, WEIGHTS_NAME) if not (path / m).is_file()]
        if missing:
            raise ModelFileError(f"{name} is a folder without {' and '.join(missing)}, not an "
                                 "skbrain model folder (written by save_model(..., folder=True))")
        if (path / CONFIG_NAME).stat().st_size > _MAX_CONFIG_BYTES:
            raise ModelFileError(f"{name}: {CONFIG_NAME} is too large for a model config")
        return (path / CONFIG_NAME).read_bytes(), path / WEIGHTS_NAME
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            missing = [m for m in (CONFIG_NAME, WEIGHTS_NAME) if m not in members]
            if missing:
                raise ModelFileError(f"{name} is a damaged skbrain model file: the zip has no "
                                     f"{' and no '.join(missing)}")
            if members[CONFIG_NAME].file_size > _MAX_CONFIG_BYTES:
                raise ModelFileError(f"{name}: {CONFIG_NAME} is too large for a model config")
            return archive.read(CONFIG_NAME), archive.read(WEIGHTS_NAME)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ModelFileError(f"{name} is a damaged skbrain model file (truncated or corrupt "
                             f"zip: {exc})") from None


def parse_config(data, name):
    """The checked ``config.json``: skbrain's format, a major version this skbrain reads."""
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{name}: {CONFIG_NAME} is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_MAGIC:
        raise ModelFileError(f"{name}: {CONFIG_NAME} is not an skbrain model config (its "
                             f"'format' is not {FORMAT_MAGIC!r})")
    version = config.get("format_version")
    if (not isinstance(version, list) or len(version) != 2
            or not all(isinstance(v, int) for v in version)):
        raise ModelFileError(f"{name}: {CONFIG_NAME} has no valid format_version "
                             f"(got {version!r})")
    if version[0] != FORMAT_VERSION[0]:
        written_by = (config.get("versions") or {}).get("skbrain", "another skbrain")
        advice = ("upgrade skbrain to load it" if version[0] > FORMAT_VERSION[0] else
                  "this skbrain reads it only as the old pickle format")
        raise ModelFileError(
            f"{name} uses skbrain model format {'.'.join(map(str, version))} (written by "
            f"skbrain {written_by}); skbrain {__version__} reads format "
            f"{FORMAT_VERSION[0]}.x: {advice}"
        )
    if "model" not in config:
        raise ModelFileError(f"{name}: {CONFIG_NAME} has no 'model'")
    return config


def read_tensors(weights, name):
    """The tensors of ``model.safetensors`` (bytes, or the path of the file), on the CPU."""
    import safetensors.torch

    try:
        if isinstance(weights, Path):
            return safetensors.torch.load_file(weights, device="cpu")
        return safetensors.torch.load(weights)
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise ModelFileError(f"{name}: {WEIGHTS_NAME} is damaged ({type(exc).__name__}: "
                             f"{exc})") from None


def pickle_refused(name):
    """The error for a file of the old pickle format loaded without ``allow_pickle``."""
    return ModelFileError(
        f"{name} is a model file in skbrain's old pickle format (format 1), and loading "
        "a pickle runs code chosen by whoever wrote the file. If you trust it, load it "
        "with load_model(path, allow_pickle=True) (on the command line: "
        "--allow-pickle), then save it again with save_model to convert it"
    )


def read_config(path):
    """Read a saved model's file or folder: ``(config, weights bytes or path)``.

    Raises the errors :func:`skbrain.persistence.load_model` raises for a
    missing, damaged, foreign or newer file, and for an old pickle file.
    """
    name = repr(str(path))
    if not path.exists():
        raise FileNotFoundError(f"model file {name} does not exist")
    if path.is_dir() or is_zip(path):
        config_bytes, weights = read_members(path, name)
    elif is_pickle_like(path):
        raise pickle_refused(name)
    else:
        raise ModelFileError(
            f"{name} is not an skbrain model file (neither a zip nor a folder holding "
            f"{CONFIG_NAME} and {WEIGHTS_NAME}; models are written by skbrain.save_model or "
            "`skbrain train`)"
        )
    return parse_config(config_bytes, name), weights


def estimator_node(tree):
    """The skbrain estimator's node in a config's model tree, and the wrappers around it.

    Follows a Pipeline's last step, the ``estimator`` of
    ``FixedThresholdClassifier`` and ``FrozenEstimator`` and a
    ``VotingClassifier``'s first member: the wrappers a model file holds (a
    tuned threshold is saved as a fixed one, a search as its best estimator,
    and calibration is not saved). Returns ``(None, wrappers)`` when there is
    none.
    """
    node, wrappers = tree, []
    for _ in range(_MAX_DEPTH):
        if not isinstance(node, dict):
            break
        if "fitted" in node:
            return node, tuple(wrappers)
        wrappers.append(str(node.get("class", "")).rsplit(".", 1)[-1])
        if node.get("steps"):
            node = node["steps"][-1][1]
        elif isinstance(node.get("estimators"), list) and node["estimators"]:
            first = node["estimators"][0]  # a vote: [[name, member], ...]
            node = first[1] if isinstance(first, list) and len(first) == 2 else None
        else:
            node = node.get("estimator")
    return None, tuple(wrappers)


# -------------------------------------------------------------------- writing
def config_bytes(config):
    return json.dumps(config, indent=1, allow_nan=True).encode("utf-8")


def write_model(path, config, weights, *, readme=None):
    """Write ``config`` and the safetensors bytes ``weights`` as a zip file, or as a
    folder (with ``README.md``) when ``readme`` is given; return the path."""
    path = Path(path)
    if readme is not None:
        if path.exists() and not path.is_dir():
            raise FileExistsError(f"cannot write folder {str(path)!r}: a file of that name "
                                  "exists")
        path.mkdir(parents=True, exist_ok=True)
        with atomic_write(path / WEIGHTS_NAME, "wb") as f:
            f.write(weights)
        with atomic_write(path / README_NAME, "w", encoding="utf-8") as f:
            f.write(readme)
        # config.json last: a folder without it is not taken for a model.
        with atomic_write(path / CONFIG_NAME, "wb") as f:
            f.write(config_bytes(config))
        return path
    with atomic_write(path, "wb") as f, zipfile.ZipFile(f, "w") as archive:
        archive.writestr(CONFIG_NAME, config_bytes(config), compress_type=zipfile.ZIP_DEFLATED)
        # Stored, not deflated: float tensors barely compress and this keeps loading fast.
        archive.writestr(WEIGHTS_NAME, weights, compress_type=zipfile.ZIP_STORED)
    return path


# ------------------------------------------------------------ estimator state
@dataclass(frozen=True)
class EstimatorState:
    """What a saved model holds of its skbrain estimator, read without building it.

    Attributes
    ----------
    state_dict : dict of str to torch.Tensor
        The tensors of the estimator's network (its ``module_``), on the CPU,
        under their ``state_dict`` names (tied tensors under each name).
    classes_ : numpy.ndarray
        The estimator's classes, in the order of the network's outputs.
    class_name : str
        The estimator's class, as the file names it (``"SimpleCNNClassifier"``).
    params : dict
        The estimator's saved hyperparameters (``get_params(deep=False)`` at
        save time), decoded; a parameter added to skbrain after the file was
        written is absent.
    module_kwargs : dict
        The keyword arguments its network was built with.
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the images it was fitted on.
    wrappers : tuple of str
        The class names of the wrappers around it in the file, outermost
        first (``("Pipeline",)``).
    metadata : dict
        The file's free-form metadata.
    """

    state_dict: dict
    classes_: np.ndarray
    class_name: str
    params: dict
    module_kwargs: dict = field(default_factory=dict)
    image_shape_: tuple = ()
    wrappers: tuple = ()
    metadata: dict = field(default_factory=dict)


def read_estimator_state(path):
    """Read the skbrain estimator's network tensors, classes and parameters from a model file.

    Builds no estimator and imports no estimator class, so it is what
    ``init_from=<path>`` needs to copy weights. The estimator is found inside
    the wrappers a model file holds: a :class:`~sklearn.pipeline.Pipeline`
    (its last step), :class:`~sklearn.model_selection.FixedThresholdClassifier`
    (a saved ``TunedThresholdClassifierCV`` is one) and
    :class:`~sklearn.frozen.FrozenEstimator`, nested in any order (a saved
    search is its ``best_estimator_``; calibration wrappers are not saved); of
    a :class:`~sklearn.ensemble.VotingClassifier`, its first member.

    Parameters
    ----------
    path : str or path-like
        A model file or folder written by :func:`skbrain.persistence.save_model`.

    Returns
    -------
    EstimatorState

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    skbrain.exceptions.ModelFileError
        As :func:`skbrain.persistence.load_model` (not a model file, damaged,
        a newer major format, an old pickle file), or the file holds no
        skbrain estimator.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skbrain import SimpleCNNClassifier, save_model
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = SimpleCNNClassifier(max_epochs=1, random_state=0).fit(data.data, data.target)
    >>> state = read_estimator_state(save_model(clf, pathlib.Path(tempfile.mkdtemp()) / "m"))
    >>> state.class_name, state.classes_.tolist(), state.params["max_epochs"]
    ('SimpleCNNClassifier', [0, 1], 1)
    """
    path = Path(path)
    name = repr(str(path))
    config, weights = read_config(path)
    node, wrappers = estimator_node(config["model"])
    if node is None:
        raise ModelFileError(f"{name}: {CONFIG_NAME} holds no skbrain estimator")
    where = "model"
    try:
        fitted = node["fitted"]
        classes = np.asarray(decode_value(fitted["classes_"], f"{where}.classes_"))
        params = {key: decode_value(value, f"{where}.{key}")
                  for key, value in (node.get("params") or {}).items()}
        module_kwargs = decode_value(fitted.get("module_kwargs") or {}, f"{where}.module")
        image_shape = tuple(int(v) for v in fitted.get("image_shape_") or ())
        aliases = dict(fitted.get("tensor_aliases") or {})
        prefix = str(fitted.get("tensor_prefix") or "")
        class_name = str(node["class"]).rsplit(".", 1)[-1]
    except ModelFileError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise ModelFileError(f"{name}: {CONFIG_NAME} is malformed ({type(exc).__name__}: "
                             f"{exc})") from None
    tensors = read_tensors(weights, name)
    if prefix:  # a vote's member: its own tensors only
        tensors = split_member(tensors, prefix)[0]
    tensors = with_aliases(tensors, aliases)
    metadata = config.get("metadata")
    return EstimatorState(tensors, classes, class_name, params, module_kwargs, image_shape,
                          wrappers, metadata if isinstance(metadata, dict) else {})
