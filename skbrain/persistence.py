"""Saving and loading fitted models without pickle, and writing files so none is half-written.

The skbrain model format
------------------------
A model is saved as a zip file (by convention ``*.skbrain``) or, with
``folder=True``, as a folder (the layout a Hugging Face Hub model repository
serves). Either holds two members:

``config.json``
    The format name and version (``"skbrain-model"``, ``[2, 0]``), when it was
    written and with which versions of skbrain, torch, scikit-learn, skorch
    and numpy, free-form ``metadata`` (split, metrics...) and the model as a
    tree of nodes: each node names its class and its parameters (plain JSON
    values only), Pipeline steps and wrapped estimators are child nodes, and
    the skbrain estimator's node also holds its fitted state (``classes_``,
    image shape, how its network was built, the training history).
``model.safetensors``
    The network's tensors (parameters and buffers such as batch-norm running
    statistics), each stored once, in the `safetensors
    <https://huggingface.co/docs/safetensors>`_ format, which holds numbers
    only.

Loading never unpickles: it rebuilds objects only from an allow-list (the
skbrain estimators, :class:`~skbrain.ImageResizer`,
:class:`~sklearn.pipeline.Pipeline`,
:class:`~sklearn.model_selection.FixedThresholdClassifier` and
:class:`~sklearn.frozen.FrozenEstimator`) and refuses any other class name
before importing anything. The skbrain estimator is constructed with its
saved parameters, its network is built again without training and without
downloading pretrained weights, and the saved tensors are loaded into it
(``strict``: every tensor must exist and have the expected shape).

Some fitted objects are saved in an equivalent, simpler form, said in the
file's ``config.json`` under ``"saved_as"``: a fitted search
(:class:`~sklearn.model_selection.GridSearchCV`, ...) as its
``best_estimator_``; a fitted
:class:`~sklearn.model_selection.TunedThresholdClassifierCV` as a
:class:`~sklearn.model_selection.FixedThresholdClassifier` at its tuned
``best_threshold_`` (its scorer and folds are not needed to predict).

A reader accepts every file of its own major format version; a new minor
version only adds keys. A model fitted on CUDA loads on a machine without
CUDA, on the CPU (its estimator's ``device_`` says ``"cpu"``).

Files of format 1 (skbrain 0.x up to this version) are pickles: loading one
runs code chosen by whoever wrote it, so :func:`load_model` opens them only
with ``allow_pickle=True``, for files you trust; save them again to convert
them.

Every file skbrain writes (models, metrics, figures, tables) goes through
:func:`atomic_write`: it is written to a temporary file beside the target and
renamed over it, so an interrupted write never leaves a truncated file.
"""

import datetime
import json
import platform
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ._fileio import atomic_write, report_jsonable, save_figure, write_json  # noqa: F401
from ._modelfile import (  # noqa: F401  (the format's names stay importable from here)
    CONFIG_NAME,
    FORMAT_MAGIC,
    FORMAT_VERSION,
    PICKLE_FORMAT_VERSION,
    README_NAME,
    WEIGHTS_NAME,
    decode_value,
    encode_value,
    is_pickle_like,
    is_zip,
    jsonable,
    load_into,
    parse_config,
    read_config,
    read_tensors,
    state_tensors,
    with_aliases,
    write_model,
)
from ._params import former_defaults
from ._version import __version__
from .exceptions import ModelFileError

__all__ = [
    "FORMAT_MAGIC",
    "FORMAT_VERSION",
    "PickleFileWarning",
    "atomic_write",
    "report_jsonable",
    "save_figure",
    "write_json",
    "hub_readme",
    "load_model",
    "push_to_hub",
    "save_model",
]

_PAYLOAD_KEYS = ("magic", "format_version", "created", "versions", "metadata", "model")


class PickleFileWarning(UserWarning):
    """A model file in the old pickle format was loaded (``allow_pickle=True``)."""


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


# ----------------------------------------------------------------- allow-list
_SKLEARN_CLASSES = {
    "sklearn.pipeline.Pipeline": ("sklearn.pipeline", "Pipeline"),
    "sklearn.model_selection.FixedThresholdClassifier": (
        "sklearn.model_selection", "FixedThresholdClassifier"),
    "sklearn.frozen.FrozenEstimator": ("sklearn.frozen", "FrozenEstimator"),
}


def _allowed_classes():
    """Map each class name a model file may use to its class.

    The names are fixed strings and public paths (``skbrain.ResNetClassifier``);
    a name from a file is looked up here, never imported.
    """
    import importlib

    from . import classifiers, pretrained  # noqa: F401  (defines the estimator classes)
    from ._base import BaseCNNClassifier
    from .preprocessing import ImageResizer

    table = {name: getattr(importlib.import_module(module), attr)
             for name, (module, attr) in _SKLEARN_CLASSES.items()}
    table["skbrain.ImageResizer"] = ImageResizer
    stack = [BaseCNNClassifier]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("skbrain.") and not sub.__name__.startswith("_"):
                table[f"skbrain.{sub.__name__}"] = sub
    return table


def _class_name(obj, table):
    for name, cls in table.items():
        if type(obj) is cls:
            return name
    return None


# ------------------------------------------------------------------- encoding
def _params(obj, skip, where):
    params = obj.get_params(deep=False)
    return {key: encode_value(value, f"{where}.{key}") for key, value in params.items()
            if key not in skip}


class _Encoder:
    def __init__(self):
        self.table = _allowed_classes()
        self.tensors = None
        self.saved_as = []

    def node(self, obj, where):
        from ._unwrap import _is_skbrain

        name = _class_name(obj, self.table)
        kind = type(obj).__name__
        if name is not None and _is_skbrain(obj):
            return self.estimator(obj, name, where)
        if name == "skbrain.ImageResizer":
            return {"class": name, "params": _params(obj, (), where)}
        if name == "sklearn.pipeline.Pipeline":
            steps = []
            for step_name, step in obj.steps:
                child = step if step is None or step == "passthrough" else self.node(
                    step, f"{where}[{step_name!r}]")
                steps.append([step_name, child])
            return {"class": name, "params": _params(obj, ("steps",), where), "steps": steps}
        if name == "sklearn.frozen.FrozenEstimator":
            return {"class": name, "estimator": self.node(obj.estimator, f"{where}.estimator")}
        if name == "sklearn.model_selection.FixedThresholdClassifier":
            inner = getattr(obj, "estimator_", obj.estimator)
            return {"class": name, "params": _params(obj, ("estimator",), where),
                    "estimator": self.node(inner, f"{where}.estimator")}
        if hasattr(obj, "best_threshold_") and hasattr(obj, "estimator_"):
            self.saved_as.append(f"{where}: {kind} as FixedThresholdClassifier at its tuned "
                                 f"best_threshold_ {float(obj.best_threshold_)!r}")
            name = "sklearn.model_selection.FixedThresholdClassifier"
            pos_label = obj._get_pos_label() if hasattr(obj, "_get_pos_label") else None
            params = {"threshold": float(obj.best_threshold_),
                      "pos_label": encode_value(pos_label, f"{where}.pos_label"),
                      "response_method": obj.response_method}
            return {"class": name, "params": params,
                    "estimator": self.node(obj.estimator_, f"{where}.estimator")}
        if hasattr(obj, "best_estimator_") and hasattr(obj, "cv_results_"):
            self.saved_as.append(f"{where}: {kind} as its best_estimator_")
            return self.node(obj.best_estimator_, where)
        allowed = ", ".join(sorted(n.rsplit(".", 1)[1] for n in self.table))
        raise TypeError(
            f"cannot save {where}: {type(obj).__module__}.{kind} is not one of the classes the "
            f"skbrain model format holds ({allowed}; fitted searches are saved as their "
            "best_estimator_, TunedThresholdClassifierCV as FixedThresholdClassifier)"
        )

    def estimator(self, est, name, where):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(est)
        if self.tensors is not None:
            raise TypeError(f"cannot save {where}: the model holds more than one skbrain "
                            "estimator, and a model file holds one network")
        net = est.net_
        module = net.module_
        self.tensors, aliases = state_tensors(module)
        module_kwargs = {key[len("module__"):]: value for key, value in net.get_params().items()
                         if key.startswith("module__")}
        weights_source = getattr(module, "weights_source", None)
        criterion_weight = getattr(net.criterion_, "weight", None)
        try:
            history = jsonable(list(net.history))
        except TypeError:
            history = None
        fitted = {
            "classes_": encode_value(est.classes_, f"{where}.classes_"),
            "n_features_in_": int(est.n_features_in_),
            "image_shape_": [int(v) for v in est.image_shape_],
            "device_": str(est.device_),
            "module_kwargs": encode_value(module_kwargs, f"{where}.net_.module"),
            "weights_source": weights_source,
            # How timm built it beyond its defaults (the EfficientNet-Lite0 package
            # weights need TF padding): the rebuilt network must have the same.
            "timm_build": getattr(module, "timm_options", None),
            "criterion_weight": (None if criterion_weight is None
                                 else criterion_weight.detach().cpu().tolist()),
            "tensor_aliases": aliases,
            "history": history,
        }
        return {"class": name, "params": _params(est, (), where), "fitted": fitted}


# ------------------------------------------------------------------- decoding
def _loading_device(saved):
    from ._base import resolve_device

    try:
        return resolve_device(saved or "cpu")
    except ValueError:
        return "cpu"  # fitted on CUDA or MPS, loaded where there is none


class _Decoder:
    def __init__(self, tensors, name):
        self.table = _allowed_classes()
        self.tensors = tensors
        self.name = name

    def error(self, message):
        return ModelFileError(f"{self.name}: {message}")

    def cls(self, node, where):
        if not isinstance(node, dict) or not isinstance(node.get("class"), str):
            raise self.error(f"config.json: {where} is not a model node (no 'class')")
        name = node["class"]
        if name not in self.table:
            raise self.error(
                f"config.json names the class {name!r} at {where}, which is not one the skbrain "
                "model format may build (allowed: "
                f"{', '.join(sorted(self.table))}); refusing to load it"
            )
        return name, self.table[name]

    def params(self, node, where):
        params = node.get("params", {})
        if not isinstance(params, dict):
            raise self.error(f"config.json: the params of {where} are not a mapping")
        return {key: decode_value(value, f"{where}.{key}") for key, value in params.items()}

    def build(self, cls, params, where):
        # Parameters a file lacks were not there when it was saved: the old behaviour.
        params = {**former_defaults(cls), **params}
        try:
            return cls(**params)
        except TypeError as exc:
            raise self.error(f"config.json: {where} ({cls.__name__}) cannot be built with its "
                             f"saved parameters ({exc}); was it saved by a newer skbrain?"
                             ) from None

    def node(self, node, where="model"):
        from ._unwrap import _is_skbrain

        name, cls = self.cls(node, where)
        if name == "sklearn.pipeline.Pipeline":
            steps = []
            for entry in node.get("steps") or []:
                step_name, child = entry
                if child is not None and child != "passthrough":
                    child = self.node(child, f"{where}[{step_name!r}]")
                steps.append((step_name, child))
            return self.build(cls, {**self.params(node, where), "steps": steps}, where)
        if name == "sklearn.frozen.FrozenEstimator":
            return cls(self.node(node.get("estimator"), f"{where}.estimator"))
        if name == "sklearn.model_selection.FixedThresholdClassifier":
            inner = self.node(node.get("estimator"), f"{where}.estimator")
            model = self.build(cls, {**self.params(node, where), "estimator": inner}, where)
            model.estimator_ = inner
            return model
        if _is_skbrain(cls):
            return self.estimator(cls, node, where)
        return self.build(cls, self.params(node, where), where)

    def estimator(self, cls, node, where):
        import torch
        from skorch.history import History

        from ._base import SKORCH_PREFIXES

        params = self.params(node, where)
        est = self.build(cls, {k: v for k, v in params.items()
                               if not k.startswith(SKORCH_PREFIXES)}, where)
        est.set_params(**{k: v for k, v in params.items() if k.startswith(SKORCH_PREFIXES)})
        fitted = node.get("fitted")
        if not isinstance(fitted, dict):
            raise self.error(f"config.json: {where} ({cls.__name__}) has no fitted state")
        try:
            est.classes_ = np.asarray(decode_value(fitted["classes_"], f"{where}.classes_"))
            est.n_features_in_ = int(fitted["n_features_in_"])
            est.image_shape_ = tuple(int(v) for v in fitted["image_shape_"])
            module_kwargs = decode_value(fitted["module_kwargs"], f"{where}.module")
        except (KeyError, TypeError, ValueError) as exc:
            raise self.error(f"config.json: the fitted state of {where} is incomplete or "
                             f"malformed ({type(exc).__name__}: {exc})") from None
        device = _loading_device(fitted.get("device_"))
        n_classes = len(est.classes_)
        # The network is built as fit builds it, but never trained and never
        # given downloaded weights: its tensors come from the file.
        net = est._build_net(None, est.n_features_in_,
                             np.arange(n_classes), None, device)
        net.set_params(**{f"module__{k}": v for k, v in module_kwargs.items()})
        if "pretrained" in module_kwargs:
            net.set_params(module__pretrained=False, module__weights=None)
        if fitted.get("timm_build"):
            net.set_params(module__timm_options=dict(fitted["timm_build"]))
        if fitted.get("criterion_weight") is not None:
            net.set_params(criterion__weight=torch.tensor(fitted["criterion_weight"],
                                                          dtype=torch.float32))
        net.initialize()
        self.load_tensors(net.module_, fitted.get("tensor_aliases") or {})
        if hasattr(net.module_, "weights_source"):
            net.module_.weights_source = fitted.get("weights_source")
        net.history_ = History(fitted.get("history") or [])
        est.net_ = net
        est.device_ = device
        return est

    def load_tensors(self, module, aliases):
        if self.tensors is None:
            raise self.error(f"{WEIGHTS_NAME} was read twice; a model holds one network")
        tensors, self.tensors = with_aliases(self.tensors, aliases), None
        load_into(module, tensors, self.name)


# --------------------------------------------------------------- save / load
def _config_and_tensors(model, metadata):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict or None; got {type(metadata).__name__}")
    try:
        metadata = jsonable(dict(metadata or {}))
    except TypeError as exc:
        raise TypeError(f"metadata must hold plain JSON values (str, numbers, lists, dicts); "
                        f"it holds a {exc}") from None
    encoder = _Encoder()
    tree = encoder.node(model, "model")
    if encoder.tensors is None:
        raise TypeError(f"cannot save {type(model).__name__}: there is no skbrain estimator in it")
    import safetensors
    import skorch

    versions = {**_versions(), "safetensors": safetensors.__version__}
    versions.setdefault("skorch", skorch.__version__)
    config = {
        "format": FORMAT_MAGIC,
        "format_version": list(FORMAT_VERSION),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions,
        "saved_as": encoder.saved_as,
        "metadata": metadata,
        "model": tree,
    }
    return config, encoder.tensors


def save_model(model, path, *, metadata=None, folder=False, model_card=None):
    """Save a fitted estimator or Pipeline in the skbrain model format (no pickle).

    Parameters
    ----------
    model : fitted estimator or :class:`~sklearn.pipeline.Pipeline`
        A skbrain estimator, or a Pipeline of :class:`~skbrain.ImageResizer` and
        one, possibly inside :class:`~sklearn.model_selection.FixedThresholdClassifier`,
        a fitted ``TunedThresholdClassifierCV`` or a fitted search (see the
        module notes for how those are kept). Every parameter must be a plain
        value (no callables, callbacks or classes).
    path : str or path-like
        The file to write (by convention ``*.skbrain``; its folder must exist,
        an existing file is replaced atomically), or with ``folder=True`` the
        folder to write ``config.json``, ``model.safetensors`` and
        ``README.md`` into (created if needed).
    metadata : dict, default=None
        Anything to keep beside the model (the split, metrics, parameters), as
        plain JSON values.
    folder : bool, default=False
        Write a folder (the layout of a Hugging Face Hub model repository)
        instead of one zip file.
    model_card : str or path-like, default=None
        Only with ``folder=True``: a Markdown model card (text, or the path of
        a file such as the ``.model_card.md`` that ``skbrain train`` writes)
        used as the README, under the Hub's metadata header.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The model is not fitted.
    TypeError
        The model holds a class outside the format's allow-list or a
        parameter that is not a plain value; the message names it.

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
    ('SimpleCNNClassifier', 'demo', (2, 0))
    """
    import safetensors.torch

    config, tensors = _config_and_tensors(model, metadata)
    weights = safetensors.torch.save(tensors, metadata={"format": "pt"})
    if folder:
        return write_model(path, config, weights, readme=hub_readme(config, model_card))
    if model_card is not None:
        raise ValueError("model_card= goes with folder=True (a zip file holds no README)")
    return write_model(path, config, weights)


def load_model(path, *, return_info=False, allow_pickle=False):
    """Load a model saved by :func:`save_model`, without unpickling anything.

    Parameters
    ----------
    path : str or path-like
        A model file or folder written by :func:`save_model` (or ``skbrain
        train``), or ``"hf://owner/name"`` (optionally ``@revision``) for a
        model repository on the Hugging Face Hub (needs ``huggingface_hub``;
        ``HF_HUB_OFFLINE=1`` loads from its cache only).
    return_info : bool, default=False
        Also return the file's information: ``format_version``, ``created``,
        ``versions`` (of the saving environment), ``metadata``, ``saved_as``
        and ``path``.
    allow_pickle : bool, default=False
        Also load files of the old pickle format (format 1). Loading a pickle
        runs code chosen by whoever wrote the file: allow it only for files
        you trust, then save them again to convert them.

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
        The file is not an skbrain model, is damaged, was written by a newer
        major format version, names a class outside the allow-list, holds
        tensors that do not fit its network, or is an old pickle file and
        ``allow_pickle`` is false; the message says which.

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
    if isinstance(path, str) and path.startswith(HUB_PREFIX):
        path = _hub_folder(path)
    path = Path(path)
    name = repr(str(path))
    if allow_pickle and path.is_file() and not is_zip(path) and is_pickle_like(path):
        warnings.warn(
            f"loading {name}, a model file in the old pickle format, because allow_pickle=True: "
            "this ran any code the file holds. Save it again with save_model to get a file "
            "that loads without unpickling",
            PickleFileWarning,
            stacklevel=2,
        )
        return _load_pickle(path, name, return_info)
    config, weights = read_config(path)
    tensors = read_tensors(weights, name)
    try:
        model = _Decoder(tensors, name).node(config["model"])
    except ModelFileError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise ModelFileError(f"{name}: {CONFIG_NAME} is malformed ({type(exc).__name__}: "
                             f"{exc})") from exc
    if not return_info:
        return model
    info = {
        "format_version": tuple(config["format_version"]),
        "created": config.get("created"),
        "versions": config.get("versions") or {},
        "metadata": config.get("metadata") or {},
        "saved_as": config.get("saved_as") or [],
        "path": str(path),
    }
    return model, info


def _load_pickle(path, name, return_info):
    """Format 1: a joblib pickle of a dict (skbrain 0.x)."""
    import joblib
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
    if version[0] > PICKLE_FORMAT_VERSION[0]:
        raise ModelFileError(f"{name}: a pickle of format {version} is not one skbrain wrote")
    missing = [key for key in _PAYLOAD_KEYS if key not in payload]
    if missing:
        raise ModelFileError(f"{name} is a damaged skbrain model file (missing {missing})")
    model = payload["model"]
    if not return_info:
        return model
    info = {key: payload[key] for key in _PAYLOAD_KEYS if key not in ("magic", "model")}
    info["format_version"] = version
    info["saved_as"] = []
    info["path"] = str(path)
    return model, info


# ------------------------------------------------------------------------ Hub
HUB_PREFIX = "hf://"
_HUB_FILES = [CONFIG_NAME, WEIGHTS_NAME, README_NAME]


def _import_hub():
    try:
        import huggingface_hub
    except ImportError:
        raise ImportError("the Hugging Face Hub needs huggingface_hub: "
                          "pip install 'skbrain[hub]'") from None
    return huggingface_hub


def _hub_folder(address):
    """Download (or find in the Hub cache) ``hf://owner/name[@revision]``; return its folder."""
    repo_id, _, revision = address[len(HUB_PREFIX):].partition("@")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"a Hub model address is 'hf://owner/name' or "
                         f"'hf://owner/name@revision'; got {address!r}")
    hub = _import_hub()
    try:
        folder = hub.snapshot_download(repo_id, revision=revision or None,
                                       allow_patterns=_HUB_FILES)
    except Exception as exc:  # network, offline-and-not-cached, unknown repository
        raise ModelFileError(f"{address}: could not get the model from the Hugging Face Hub "
                             f"({type(exc).__name__}: {exc})") from None
    return Path(folder)


def hub_readme(config, model_card=None):
    """The README of a Hub model repository: the Hub's YAML header, then the model card.

    Parameters
    ----------
    config : dict
        A model's ``config.json`` contents (its ``metadata`` gives the
        license, datasets and metrics when it has them).
    model_card : str or path-like, default=None
        Markdown text, or the path of a Markdown file; a short description is
        written when None.

    Returns
    -------
    str
    """
    metadata = config.get("metadata") or {}
    tree = config.get("model") or {}
    estimator = _estimator_class(tree)
    metrics = metadata.get("metrics") if isinstance(metadata.get("metrics"), dict) else {}
    datasets = metadata.get("datasets") or ["brain-mri"]
    header = {
        "license": metadata.get("license", "bsd-3-clause"),
        "library_name": "skbrain",
        "tags": ["skbrain", "image-classification", "brain-mri", "medical-imaging", "pytorch",
                 "safetensors"] + ([estimator] if estimator else []),
        "datasets": list(datasets) if isinstance(datasets, (list, tuple)) else [str(datasets)],
        "metrics": sorted(str(k) for k in metrics),
        "pipeline_tag": "image-classification",
    }
    lines = ["---"]
    for key, value in header.items():
        if isinstance(value, list):
            lines.append(f"{key}:" + ("" if value else " []"))
            lines += [f"- {json.dumps(item)}" for item in value]
        else:
            lines.append(f"{key}: {json.dumps(value)}")
    lines.append("---")
    if model_card is None:
        body = (f"# {estimator or 'skbrain model'}\n\nA brain MRI image classifier saved by "
                f"skbrain {config.get('versions', {}).get('skbrain', '')} in its pickle-free "
                "model format (`config.json` + `model.safetensors`).\n\n```python\n"
                "from skbrain import load_model\nmodel = load_model(\"hf://OWNER/NAME\")\n```\n")
        if metrics:
            body += "\n## Test scores\n\n" + "\n".join(
                f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}"
                for k, v in sorted(metrics.items())) + "\n"
    else:
        text = str(model_card)
        body = (Path(text).read_text(encoding="utf-8")
                if "\n" not in text and Path(text).is_file() else text)
        if body.startswith("---\n"):  # the card's own header gives way to this one
            end = body.find("\n---", 4)
            body = body[end + 4:].lstrip("\n") if end != -1 else body
    return "\n".join(lines) + "\n\n" + body


def _estimator_class(node):
    for _ in range(20):
        if not isinstance(node, dict):
            return None
        if "fitted" in node:
            return str(node.get("class", "")).rsplit(".", 1)[-1]
        if "steps" in node and node["steps"]:
            node = node["steps"][-1][1]
        else:
            node = node.get("estimator")
    return None


def push_to_hub(model, repo_id, *, metadata=None, model_card=None, private=None, token=None,
                commit_message="Upload skbrain model", api=None):
    """Upload a fitted model to a Hugging Face Hub model repository.

    Writes the folder layout of :func:`save_model` (``config.json``,
    ``model.safetensors`` and ``README.md``, the model card under the Hub's
    metadata header) and uploads it in one commit. Load it back with
    ``load_model("hf://" + repo_id)``. Needs ``pip install 'skbrain[hub]'``.

    Parameters
    ----------
    model : fitted estimator or Pipeline
    repo_id : str
        ``"owner/name"``; the repository is created if it does not exist.
    metadata : dict, default=None
        As in :func:`save_model`; ``license`` and ``datasets`` keys fill the
        README header.
    model_card : str or path-like, default=None
        Markdown text or file for the README (see :func:`hub_readme`).
    private : bool, default=None
        Visibility of a repository created here.
    token : str, default=None
        Hub token; by default the one ``huggingface-cli login`` stored.
    commit_message : str
    api : huggingface_hub.HfApi, default=None
        The client to use (one is created otherwise).

    Returns
    -------
    huggingface_hub.CommitInfo
    """
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise ValueError(f"repo_id must be 'owner/name'; got {repo_id!r}")
    hub = _import_hub()
    api = api if api is not None else hub.HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="skbrain-hub-") as tmp:
        folder = save_model(model, Path(tmp) / "model", metadata=metadata, folder=True,
                            model_card=model_card)
        readme = folder / README_NAME
        readme.write_text(readme.read_text(encoding="utf-8").replace(
            f"{HUB_PREFIX}OWNER/NAME", f"{HUB_PREFIX}{repo_id}"), encoding="utf-8")
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        return api.upload_folder(repo_id=repo_id, repo_type="model", folder_path=str(folder),
                                 commit_message=commit_message)
