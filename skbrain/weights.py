"""skbrain's shipped brain-MRI tumor detectors: list, load, adapt to a new site, package.

The detectors live in a separate distribution, ``skbrain-weights`` (``pip
install 'skbrain[detector]'``; from a checkout, ``pip install
./weights/skbrain-weights``), so that they load offline. Each is a fitted
Pipeline, :class:`~skbrain.ImageResizer` then a classifier (possibly inside a
decision-threshold wrapper), in skbrain's safe model format; its SHA-256 is
checked before it is loaded.

* :func:`list_pretrained` names them, with one line each;
* :func:`load_pretrained` returns one, ready for ``predict`` and
  ``predict_proba`` on image paths (JPEG, PNG, DICOM, NIfTI slice references);
* ``init_from="<name>"`` (every skbrain estimator) and :func:`adapt_pretrained`
  fine-tune one on local images, the latter choosing the decision threshold on
  those few labelled images too, with :func:`load_replay`'s images of the
  detector's own collections mixed in if given;
* :func:`add_to_distribution` writes a fitted model, its card and its entry in
  the manifest into the distribution's folder (for the script that trains them).

On the command line: ``skbrain pretrained``, ``skbrain predict --model NAME
FILES...`` and ``skbrain train --init-from NAME [--replay DIR]``.
"""

import json
import numbers
import os
from pathlib import Path

import numpy as np

from . import _shipped
from ._shipped import WeightsNotInstalledError

__all__ = [
    "WeightsNotInstalledError",
    "adapt_pretrained",
    "add_to_distribution",
    "fine_tune_parts",
    "list_pretrained",
    "load_pretrained",
    "load_replay",
]

DECISIONS = ("balanced_accuracy", "f1", "none")


def list_pretrained():
    """The shipped detectors: name to one-line description, the default first.

    Read from the installed distribution's manifest at each call.

    Returns
    -------
    dict of str to str
        Empty when the installed distribution lists no detector yet.

    Raises
    ------
    WeightsNotInstalledError
        The ``skbrain-weights`` distribution is not installed; the message says
        ``pip install 'skbrain[detector]'``.
    """
    models = _shipped.read_manifest()["models"]
    models = sorted(models, key=lambda e: not e["default"])
    return {e["name"]: e["description"] for e in models}


def load_pretrained(name=None, *, return_info=False):
    """A shipped detector, fitted, taking image paths.

    Parameters
    ----------
    name : str, default=None
        A name of :func:`list_pretrained`; None loads the default detector.
    return_info : bool, default=False
        Also return what :func:`skbrain.load_model` returns with
        ``return_info=True``, plus ``shipped``: the manifest's entry (name,
        description, licence ..., and ``path`` and ``card_path``, the model
        file and its Markdown model card).

    Returns
    -------
    model : Pipeline
        ``ImageResizer`` then the classifier: ``model.predict(paths)`` and
        ``model.predict_proba(paths)`` (column 1: tumor).
    info : dict
        Only when ``return_info`` is true.

    Raises
    ------
    WeightsNotInstalledError
        The distribution is not installed (the message says how to install it).
    ValueError
        ``name`` is not shipped (the message lists the shipped names).
    skbrain.exceptions.ModelFileError
        The model file is missing, or its SHA-256 differs from the manifest's.
    """
    from .persistence import load_model

    entry = _shipped.find(name)
    model, info = load_model(_shipped.verified_path(entry), return_info=True)
    info["shipped"] = entry
    return (model, info) if return_info else model


def _source(source):
    """The fitted model ``source`` names: a shipped name, a saved file, or a model."""
    from .persistence import load_model

    if isinstance(source, (str, os.PathLike)):
        if os.path.exists(source):
            return load_model(source)
        if isinstance(source, str) and source in _shipped.model_names():
            return load_pretrained(source)
        raise FileNotFoundError(f"{os.fspath(source)!r}: no such file or folder, nor a shipped "
                                f"detector (shipped: {_shipped.describe_known()})")
    return source


def fine_tune_parts(source=None, params=None):
    """The resizer and the unfitted estimator that fine-tune from ``source``.

    The estimator is a clone of the source's, with ``params`` set and
    ``init_from`` pointing at the source, so that ``fit`` starts from its
    weights, and ``device="auto"`` unless ``params`` says otherwise (the
    source may have been trained on a GPU this machine lacks); the resizer
    is a clone of the source's, so that local images are prepared exactly as
    the source's training images were.

    Parameters
    ----------
    source : str, path-like or fitted model, default=None
        A shipped detector's name (None: the default one), a model file saved
        with :func:`skbrain.save_model`, or a fitted model.
    params : dict, default=None
        Estimator parameters to change, e.g. ``{"max_epochs": 5, "lr": 1e-4}``.

    Returns
    -------
    resizer : ImageResizer or None
        None when the source has no resizer in front (it takes arrays).
    estimator : skbrain estimator
        Unfitted.

    Examples
    --------
    >>> from skbrain import SimpleCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = SimpleCNNClassifier(n_kernels=4, max_epochs=1, random_state=0)
    >>> clf = clf.fit(data.data, data.target)
    >>> resizer, tuned = fine_tune_parts(clf, {"max_epochs": 1})
    >>> resizer is None, tuned.init_from is clf, tuned.n_kernels
    (True, True, 4)
    """
    from sklearn.base import clone

    from ._unwrap import unwrap
    from .preprocessing import ImageResizer

    if source is None:
        source = _shipped.find(None)["name"]
    found = unwrap(_source(source), fitted=True, caller="fine_tune_parts")
    estimator = clone(found.estimator)
    estimator.set_params(**{"device": "auto", **dict(params or {}), "init_from": source})
    resizers = [step for _, step in found.steps if isinstance(step, ImageResizer)]
    return (clone(resizers[0]) if resizers else None), estimator


def _threshold_folds(y, groups, cv, random_state):
    """Grouped, stratified folds for the threshold, as many as the groups allow."""
    from .model_selection import grouped_cv

    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    per_class = min(len(np.unique(groups[y == c])) for c in np.unique(y))
    n_splits = min(cv, per_class)
    if n_splits < 2:
        raise ValueError(f"groups: choosing a threshold needs images of both classes from at "
                         f"least two groups (patients) each; the smallest class has "
                         f"{per_class}. Give more labelled patients, or decision='none'")
    return list(grouped_cv(n_splits, random_state=random_state).split(np.zeros(len(y)), y,
                                                                        groups))


def _replay_draw(replay, y, random_state):
    """As many of ``replay``'s images as ``y`` has, drawn at random; none without replay."""
    if replay is None:
        return [], np.empty(0, dtype=y.dtype)
    try:
        images, labels = replay
    except (TypeError, ValueError):
        raise ValueError("replay: expected a pair (image paths, labels), e.g. a dataset "
                         "Bunch's (data, target)") from None
    images, labels = [str(p) for p in images], np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"replay: the images and labels have different lengths: "
                         f"{len(images)} and {len(labels)}")
    unknown = set(np.unique(labels).tolist()) - set(np.unique(y).tolist())
    if unknown:
        raise ValueError(f"replay: labels {sorted(unknown)} are not among y's "
                         f"{np.unique(y).tolist()}; give tumor and no tumor as y gives them")
    pick = np.random.RandomState(random_state).choice(
        len(labels), size=min(len(y), len(labels)), replace=False)
    return [images[i] for i in pick], labels[pick]


def load_replay(*folders, negative=None):
    """Image folders of a detector's own training collections, as ``replay=`` takes them.

    Each folder's two classes are taken in sorted order (no tumor, tumor:
    ``no``/``yes`` and ``notumor``/``tumor`` alike), labels 0 and 1, as
    :func:`skbrain.datasets.load_images` reads a two-class folder.

    Parameters
    ----------
    *folders : str or path-like
        Folders with one subfolder per class.
    negative : str, default=None
        The tumor-free class of a folder with more classes (e.g. ``notumor``
        for the four-class collection); the others are joined as tumor.
        Folders without that class are read as they are.

    Returns
    -------
    images : list of str
    labels : ndarray of int
    class_names : list of tuple
        Each folder's two class names, (no tumor, tumor).

    Raises
    ------
    ValueError
        A folder that :func:`~skbrain.datasets.load_images` cannot read, or
        one of more than two classes once ``negative`` is applied (the
        message names it).
    """
    from .datasets import load_images

    if not folders:
        raise ValueError("replay: give at least one folder")
    images, labels, names = [], [], []
    for folder in folders:
        found = load_images(folder, negative=negative)
        if found.multiclass:
            raise ValueError(f"replay: {folder} has {len(found.target_names)} classes "
                             f"({', '.join(map(str, found.target_names))}); give a two-class "
                             "folder, or negative=NAME (--negative) for its tumor-free class")
        images += [str(p) for p in found.data]
        labels.append(np.asarray(found.target))
        names.append(tuple(str(n) for n in found.target_names))
    return images, np.concatenate(labels), names


def _check_replay(estimator, multiclass, search=None):
    """``replay``'s checks for ``skbrain train`` that need no images, done first."""
    from ._unwrap import unwrap

    if multiclass:
        raise ValueError("replay: for two classes (tumor / no tumor); join the data's classes "
                         "with negative=NAME (--negative)")
    if getattr(unwrap(estimator, fitted=False).estimator, "init_from", None) is None:
        raise ValueError("replay: mixes in the images a model was trained on, so it needs a "
                         "fine-tune (init_from, --init-from NAME)")
    if search is not None:
        raise ValueError("replay: not with search (the search's folds would score replayed "
                         "images)")


def _append_replay(X, y, folds, drawn, resizer):
    """``X``, ``y`` with the drawn replay images (resized) appended, and the folds.

    Every fold's training part gets every replayed image, its scored part
    none, so that no threshold is chosen on them; ``folds`` may be None.
    """
    images, labels = drawn
    if not len(labels):
        return X, y, folds
    extra = np.arange(len(y), len(y) + len(labels))
    if folds is not None:
        folds = [(np.concatenate([train, extra]), test) for train, test in folds]
    return (np.concatenate([X, resizer.transform(images)]), np.concatenate([y, labels]),
            folds)


def _with_replay(replay, X, y, groups, cv, resizer, random_state, *, log=None):
    """For ``skbrain train``: the replay drawn and appended, the folds, a summary.

    The folds are the training images' own grouped folds (``cv`` of them, as
    the threshold would make them), extended by :func:`_append_replay`.
    """
    from .model_selection import grouped_cv

    drawn = _replay_draw(replay, y, random_state)
    if log is not None:
        log(f"replay: {len(drawn[1])} images of the model's own training collections")
    folds = list(grouped_cv(cv, random_state=random_state).split(X, y, groups))
    summary = {"n_images": len(drawn[1]), "class_counts": {
        str(c): int((drawn[1] == c).sum()) for c in np.unique(drawn[1])}}
    return (*_append_replay(X, y, folds, drawn, resizer), summary)


def adapt_pretrained(images, y, name=None, *, groups=None, params=None, n_models=3,
                     decision="balanced_accuracy", min_recall=None, cv=3, replay=None,
                     random_state=0):
    """Fine-tune a shipped detector on a few labelled images of a new site.

    The detector's weights are the start (``init_from``); its resizer prepares
    the images. The decision threshold is then chosen on the same few images,
    by grouped cross-validation: each fold fine-tunes on the other patients
    and predicts the held-out ones, the threshold that scores best on those
    out-of-fold probabilities is kept, and the model fine-tuned on all of the
    images decides at it. So the threshold is never chosen on probabilities
    of images the model was trained on.

    With ``replay``, images of the collections the detector was trained on are
    mixed into every fine-tune (as many as the new site's images, drawn at
    random), so that a few images of one site do not make it forget the rest;
    they are never in a threshold fold's scored part.

    The fine-tune is ``n_models`` fine-tunes of other seeds with their
    probabilities averaged (a soft :class:`~sklearn.ensemble.VotingClassifier`),
    each with a horizontally flipped view averaged in (``tta=1``): with five
    labelled LGG-dev patients, three fine-tunes and the flipped view ranked the
    five's own out-of-fold slices 0.891 against one fine-tune's 0.871 (six
    draws; ``benchmarks/README.md``, "Five patients: three fine-tunes
    averaged"), and the other patients 0.911 against 0.903.

    Parameters
    ----------
    images : sequence of str
        Image paths (or slice references) of the new site.
    y : array-like of shape (n_images,)
        Their labels: 1 tumor, 0 no tumor.
    name : str, default=None
        The shipped detector to start from (None: the default); a model file
        or a fitted model works too.
    groups : array-like of shape (n_images,), default=None
        Patient of each image: folds never split a patient. None treats every
        image as its own patient.
    params : dict, default=None
        Estimator parameters for the fine-tune (e.g. ``{"max_epochs": 10,
        "lr": 3e-4}``); the detector's own schedule otherwise, which ranked
        new-site patients better than 10 epochs at lr 3e-4 at each number of
        labelled patients measured (``benchmarks/README.md``, "The detector's
        own schedule"), and ``tta=1`` unless ``params`` gives ``tta``.
    n_models : int, default=3
        Fine-tunes averaged, of the detector estimator's ``random_state``,
        ``+ 100``, ``+ 200``... (or each its own draw when it has none); 1
        gives the fine-tuned estimator itself, at a third of the time.
    decision : {"balanced_accuracy", "f1", "none"}, default="balanced_accuracy"
        What the threshold maximises; ``"none"`` keeps the model's argmax (no
        cross-validation, one fine-tune).
    min_recall : float, default=None
        Instead of ``decision``: the highest threshold whose recall stays at or
        above this (:func:`skbrain.thresholds.tune_threshold_for_recall`).
    cv : int, default=3
        Folds at most; fewer when there are fewer patients per class.
    replay : tuple (images, y), default=None
        Image paths and labels (the same labels as ``y``) of the detector's
        own training collections, e.g. the ``data`` and ``target`` of
        :func:`skbrain.load_brain_mri`, or :func:`load_replay`'s folders.
        It keeps those collections in the fine-tune: the default recipe
        trained on the 1,794 and the 253 only, fine-tuned on five labelled
        LGG-dev patients, still ranked the 1,794 at 0.99 with replay and
        0.88-0.97 without; the new site's patients it ranked a little lower
        (0.901 against 0.914, six draws; ``benchmarks/README.md``, "The
        detector's own schedule").
    random_state : int, default=0
        Seeds the folds and the replay draw.

    Returns
    -------
    Pipeline
        ``("resize", ImageResizer)`` then ``("cnn", model)``, where ``model``
        is the vote of the fine-tuned estimators (the estimator itself when
        ``n_models=1``) inside a
        :class:`~sklearn.model_selection.FixedThresholdClassifier` (its
        ``threshold`` is the chosen one) unless ``decision="none"``. Save it
        with :func:`skbrain.save_model`.

    Raises
    ------
    ValueError
        For a ``decision`` not listed, ``n_models`` not a positive integer,
        labels other than two classes, too few groups for the folds, or a
        ``replay`` of other labels (before any training).
    """
    from sklearn.model_selection import TunedThresholdClassifierCV
    from sklearn.pipeline import Pipeline

    from .thresholds import decide_at, tune_threshold_for_recall

    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}; got {decision!r}")
    if isinstance(n_models, bool) or not isinstance(n_models, numbers.Integral) or n_models < 1:
        raise ValueError(f"n_models must be a positive integer; got {n_models!r}")
    images, y = [str(p) for p in images], np.asarray(y)
    if len(images) != len(y):
        raise ValueError(f"images and y have different lengths: {len(images)} and {len(y)}")
    if len(np.unique(y)) != 2:
        raise ValueError(f"y: adapting a detector needs labelled images of both classes; got "
                         f"{np.unique(y).tolist()}")
    tune = min_recall is not None or decision != "none"
    folds = _threshold_folds(y, groups, cv, random_state) if tune else None
    drawn = _replay_draw(replay, y, random_state)
    resizer, estimator = fine_tune_parts(name, {"tta": 1, **dict(params or {})})
    estimator = _seed_vote(estimator, n_models)
    if resizer is None:
        raise ValueError("name: the model takes arrays, not image paths (no ImageResizer in "
                         "front); adapt_pretrained needs one that reads images")
    X, y, folds = _append_replay(resizer.fit_transform(images), y, folds, drawn, resizer)
    if min_recall is not None:
        model, _ = tune_threshold_for_recall(estimator, X, y, min_recall=min_recall, cv=folds)
    elif decision == "none":
        model = estimator.fit(X, y)
    else:
        tuned = TunedThresholdClassifierCV(estimator, scoring=decision, cv=folds, refit=True,
                                           response_method="predict_proba", thresholds=200)
        tuned.fit(X, y)
        model = decide_at(tuned.estimator_, tuned.best_threshold_)
    return Pipeline([("resize", resizer), ("cnn", model)])


def _seed_vote(estimator, n_models):
    """``n_models`` copies of ``estimator`` of seeds ``+ 0, + 100, ...``, soft-voting."""
    from sklearn.base import clone
    from sklearn.ensemble import VotingClassifier

    if n_models == 1:
        return estimator
    seed = estimator.random_state
    if not isinstance(seed, numbers.Integral):
        seed = None  # None or a RandomState: each copy draws its own
    members = [(f"seed{j}", clone(estimator).set_params(
        random_state=None if seed is None else int(seed) + 100 * j)) for j in range(n_models)]
    return VotingClassifier(members, voting="soft")


def _read_card(card):
    if card is None:
        return None
    if isinstance(card, os.PathLike) or (isinstance(card, str) and "\n" not in card
                                         and Path(card).is_file()):
        return Path(card).read_text(encoding="utf-8")
    return str(card)


def _plain(size):
    return [int(v) for v in size] if isinstance(size, (tuple, list)) else int(size)


def add_to_distribution(model, name, folder, *, description, model_card, default=False,
                        metadata=None, **fields):
    """Write a fitted detector into the ``skbrain-weights`` folder and list it in the manifest.

    For the script that trains the shipped weights. Writes
    ``<folder>/skbrain_weights/models/<name>.skbrain`` (with
    :func:`skbrain.save_model`) and ``<name>.model_card.md`` beside it, then
    the manifest entry with the file's SHA-256 (replacing an entry of the same
    name). Rebuild and reinstall the distribution afterwards (``pip install
    ./weights/skbrain-weights``).

    Parameters
    ----------
    model : fitted Pipeline
        :class:`~skbrain.ImageResizer` then a skbrain classifier (possibly in
        a threshold wrapper), so that it takes image paths.
    name : str
        Letters, digits, ``-``, ``_`` and ``.``; what users pass to
        :func:`load_pretrained` and ``--model``.
    folder : str or path-like
        The distribution's folder (holding ``pyproject.toml`` and
        ``skbrain_weights/``).
    description : str
        One line for :func:`list_pretrained`.
    model_card : str or path-like
        The card (Markdown text, or a file), e.g. from
        :func:`skbrain.model_card.detector_card`.
    default : bool, default=False
        Make this the default detector (any other loses the mark).
    metadata : dict, default=None
        Kept in the model file (plain JSON values).
    **fields
        More keys of the entry, as JSON values (``licence``, ``trained_on``,
        ``image_size`` ...).

    Returns
    -------
    dict
        The manifest entry written.

    Raises
    ------
    ValueError
        A bad name or description, a model that does not take image paths, or
        a folder without ``skbrain_weights/MANIFEST.json``.
    """
    import re

    from sklearn.pipeline import Pipeline

    from ._fileio import atomic_write
    from ._unwrap import unwrap
    from .persistence import save_model
    from .preprocessing import ImageResizer

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise ValueError(f"name: {name!r} is not a plain name (letters, digits, '-', '_', '.')")
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        raise ValueError("description: give one non-empty line")
    if not (isinstance(model, Pipeline) and isinstance(model.steps[0][1], ImageResizer)):
        raise ValueError("model: a shipped detector takes image paths: give a fitted Pipeline "
                         "whose first step is an ImageResizer")
    found = unwrap(model, fitted=True, caller="add_to_distribution")
    card = _read_card(model_card)
    if not card:
        raise ValueError("model_card: every shipped detector needs its model card")
    package = Path(folder) / _shipped.PACKAGE
    manifest = _shipped.read_manifest(package)
    models_dir = package / "models"
    models_dir.mkdir(exist_ok=True)
    file = models_dir / f"{name}.skbrain"
    card_file = models_dir / f"{name}.model_card.md"
    meta = {"shipped_name": name, "description": description, **(metadata or {})}
    meta.setdefault("class_names", {"0": "no tumor", "1": "tumor"})
    save_model(model, file, metadata=meta)
    with atomic_write(card_file, "w", encoding="utf-8") as f:
        f.write(card)
    entry = {"name": name, "file": file.relative_to(package).as_posix(),
             "sha256": _shipped.sha256_of(file), "description": description.strip(),
             "default": bool(default),
             "model_card": card_file.relative_to(package).as_posix(),
             "estimator": type(found.estimator).__name__,
             "image_size": _plain(model.steps[0][1].size),
             **fields}
    json.dumps(entry)  # plain JSON values only, before anything is replaced
    models = [e for e in manifest["models"] if e["name"] != name]
    if default:
        for e in models:
            e["default"] = False
    models.append(entry)
    text = json.dumps({"format": _shipped.MANIFEST_FORMAT,
                       "format_version": _shipped.MANIFEST_VERSION, "models": models},
                      indent=1) + "\n"
    with atomic_write(package / _shipped.MANIFEST_NAME, "w", encoding="utf-8") as f:
        f.write(text)
    return entry
