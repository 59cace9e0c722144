"""Saving and loading fitted models without pickle, and writing files so none is half-written.

The skbrain model format
------------------------
A model is saved as a zip file (by convention ``*.skbrain``) or, with
``folder=True``, as a folder (the layout a Hugging Face Hub model repository
serves). Either holds two members:

``config.json``
    The format name and version (``"skbrain-model"``, ``[2, 1]``), when it was
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
    only. A :class:`~sklearn.ensemble.VotingClassifier` of skbrain estimators
    (format 2.1) keeps each member's tensors under the prefix ``vote.<i>.``.

Loading never unpickles: it rebuilds objects only from an allow-list (the
skbrain estimators, :class:`~skbrain.ImageResizer`,
:class:`~sklearn.pipeline.Pipeline`,
:class:`~sklearn.model_selection.FixedThresholdClassifier`,
:class:`~sklearn.frozen.FrozenEstimator` and
:class:`~sklearn.ensemble.VotingClassifier`) and refuses any other class name
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

This module turns objects into the format and back (the allow-list, the
encoder and the decoder). Below it, ``skbrain._modelfile`` reads and writes
the file itself and gives a saved network's tensors without building an
estimator, and ``skbrain._fileio`` writes files atomically; beside it,
:mod:`skbrain.hub` pushes to and loads from the Hugging Face Hub
(:func:`~skbrain.hub.push_to_hub` and :func:`~skbrain.hub.hub_readme` are
importable from here too) and ``skbrain._legacy_pickle`` reads format 1.
"""

import datetime
import platform
import warnings
from pathlib import Path

import numpy as np

from ._fileio import atomic_write, report_jsonable, save_figure, write_json  # noqa: F401
from ._legacy_pickle import load_pickle
from ._modelfile import (  # noqa: F401  (the format's names stay importable from here)
    CONFIG_NAME,
    FORMAT_MAGIC,
    FORMAT_VERSION,
    PICKLE_FORMAT_VERSION,
    README_NAME,
    VOTE_PREFIX,
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
    split_member,
    state_tensors,
    with_aliases,
    write_model,
)
from ._params import former_defaults
from ._version import __version__
from .exceptions import ModelFileError
from .hub import HUB_PREFIX, _hub_folder, hub_readme, push_to_hub  # noqa: F401  (moved)

__all__ = [
    "FORMAT_MAGIC",
    "FORMAT_VERSION",
    "PickleFileWarning",
    "atomic_write",
    "report_jsonable",
    "save_figure",
    "write_json",
    "load_model",
    "save_model",
]

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
    "sklearn.ensemble.VotingClassifier": ("sklearn.ensemble", "VotingClassifier"),
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
        self.prefix = ""  # set while a vote's member is encoded

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
        if name == "sklearn.ensemble.VotingClassifier":
            return self.vote(obj, name, where)
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

    def vote(self, obj, name, where):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(obj)
        if self.prefix or self.tensors is not None:
            raise TypeError(f"cannot save {where}: a model file holds one network or one "
                            "VotingClassifier of networks, not more")
        named = list(obj.estimators)
        if any(est is None or est == "drop" for _, est in named):
            raise TypeError(f"cannot save {where}: a VotingClassifier with 'drop' members")
        members = []
        for i, ((member, _), fitted) in enumerate(zip(named, obj.estimators_, strict=True)):
            self.prefix = VOTE_PREFIX.format(i)
            child = self.node(fitted, f"{where}.estimators_[{i}]")
            if "fitted" not in child:
                raise TypeError(f"cannot save {where}: its member {member!r} is a "
                                f"{type(fitted).__name__}; a saved vote holds skbrain "
                                "estimators only")
            members.append([member, child])
        self.prefix = ""
        return {"class": name, "params": _params(obj, ("estimators",), where),
                "estimators": members,
                "classes_": encode_value(obj.classes_, f"{where}.classes_")}

    def estimator(self, est, name, where):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(est)
        if self.tensors is not None and not self.prefix:
            raise TypeError(f"cannot save {where}: the model holds more than one skbrain "
                            "estimator, and a model file holds one network (or one "
                            "VotingClassifier of networks)")
        net = est.net_
        module = net.module_
        tensors, aliases = state_tensors(module)
        # A vote's members share one safetensors file, each under its own prefix;
        # the aliases stay the member's own names.
        self.tensors = {**(self.tensors or {}),
                        **{self.prefix + key: value for key, value in tensors.items()}}
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
        if self.prefix:
            fitted["tensor_prefix"] = self.prefix
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
        self.voting = False

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
        if name == "sklearn.ensemble.VotingClassifier":
            return self.vote(cls, node, where)
        if _is_skbrain(cls):
            return self.estimator(cls, node, where)
        return self.build(cls, self.params(node, where), where)

    def vote(self, cls, node, where):
        from sklearn.preprocessing import LabelEncoder
        from sklearn.utils import Bunch

        entries = node.get("estimators")
        if self.voting or not isinstance(entries, list) or not entries:
            raise self.error(f"config.json: {where} is a vote without members, or inside "
                             "another vote")
        self.voting = True
        members = []
        for i, entry in enumerate(entries):
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                    and isinstance(entry[1], dict) and "fitted" in entry[1]):
                raise self.error(f"config.json: member {i} of {where} is not a "
                                 "[name, skbrain estimator] pair")
            prefix = entry[1]["fitted"].get("tensor_prefix")
            if prefix != VOTE_PREFIX.format(i):
                raise self.error(f"config.json: member {i} of {where} has the tensor prefix "
                                 f"{prefix!r}, not {VOTE_PREFIX.format(i)!r}")
            members.append((entry[0], self.node(entry[1], f"{where}.estimators_[{i}]")))
        leftover = sorted(self.tensors)
        if leftover:
            raise self.error(f"{WEIGHTS_NAME} holds tensors no member of {where} takes: "
                             f"{leftover[:5]}")
        self.tensors = None
        model = self.build(cls, {**self.params(node, where), "estimators": members}, where)
        # VotingClassifier's fitted state, as its fit leaves it.
        model.estimators_ = [member for _, member in members]
        model.named_estimators_ = Bunch(**dict(members))
        model.le_ = LabelEncoder().fit(
            np.asarray(decode_value(node.get("classes_"), f"{where}.classes_")))
        model.classes_ = model.le_.classes_
        return model

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
        module_kwargs = dict(module_kwargs)
        if "pretrained" in module_kwargs:
            module_kwargs.update(pretrained=False, weights=None)
        if fitted.get("timm_build"):
            module_kwargs["timm_options"] = dict(fitted["timm_build"])
        # The network is built as fit builds it (est.build_module), but never
        # trained and never given downloaded weights: its tensors come from the file.
        module = est.build_module(est.n_features_in_, n_classes, device=device, **{
            k: v for k, v in module_kwargs.items() if k not in ("in_channels", "n_classes")})
        net = est._build_net(None, est.n_features_in_, np.arange(n_classes), None, device,
                             module=module)
        net.set_params(**{f"module__{k}": v for k, v in module_kwargs.items()})
        if fitted.get("criterion_weight") is not None:
            net.set_params(criterion__weight=torch.tensor(fitted["criterion_weight"],
                                                          dtype=torch.float32))
        net.initialize()
        self.load_tensors(net.module_, fitted.get("tensor_aliases") or {},
                          fitted.get("tensor_prefix") or "")
        if hasattr(net.module_, "weights_source"):
            net.module_.weights_source = fitted.get("weights_source")
        net.history_ = History(fitted.get("history") or [])
        est.net_ = net
        est.device_ = device
        return est

    def load_tensors(self, module, aliases, prefix=""):
        if self.tensors is None or bool(prefix) != self.voting:
            raise self.error(f"{WEIGHTS_NAME} was read twice, or a tensor prefix outside a "
                             "vote; a model holds one network or one vote of networks")
        if prefix:
            own, self.tensors = split_member(self.tensors, prefix)
        else:
            own, self.tensors = self.tensors, None
        load_into(module, with_aliases(own, aliases), self.name)


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
        module notes for how those are kept); the one may also be a
        :class:`~sklearn.ensemble.VotingClassifier` of skbrain estimators (what
        :func:`skbrain.weights.adapt_pretrained` returns). Every parameter must be a plain
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
    ('SimpleCNNClassifier', 'demo', (2, 1))
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
        return load_pickle(path, name, return_info)
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
