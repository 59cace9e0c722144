"""Train one model and test it: the steps behind ``skbrain train``, for a notebook too.

:func:`fit_and_test` fits an estimator on training images (after an optional
grouped hyperparameter search, and an optional recall-first threshold) and
scores it on test images, which may come from the same folder or from another
collection. :func:`train_and_save` is all of ``skbrain train``: split (or
another collection), resize, fit, test, then write the model, its metrics
JSON, figures and model card. :func:`check_binary_options` refuses, before
any training starts, an option that only has a meaning for two classes, and
:func:`parse_set_options` reads ``--set key=value`` strings.

Errors about one argument start with its name (``"test_size: ..."``), so a
caller can tell the user which of its own options to change.
"""

import ast
import datetime
import time
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .evaluation import classification_scores, is_multiclass, predict_with_proba

__all__ = ["build_estimator", "check_binary_options", "check_output", "check_train_arguments",
           "fit_and_test", "parse_set_options", "resize_images", "search_model",
           "train_and_save"]

PREDICTION_FIGURE_IMAGES = 12


def parse_set_options(items):
    """Turn ``--set key=value`` strings into a parameter dict.

    Values are read as Python literals (``1``, ``3e-4``, ``True``, ``None``,
    ``(64, 64)``) where they parse as one, and kept as strings otherwise.

    Parameters
    ----------
    items : list of str or None

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        For an item that is not ``key=value`` or a key given twice.

    Examples
    --------
    >>> parse_set_options(["max_epochs=1", "lr=3e-4", "optimizer=sgd", "augment=False"])
    {'max_epochs': 1, 'lr': 0.0003, 'optimizer': 'sgd', 'augment': False}
    """
    params = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("__", "_").replace("_", "a").isalnum():
            raise ValueError(f"--set expects key=value with a parameter name as key; got {item!r}")
        if key in params:
            raise ValueError(f"--set gives {key!r} twice")
        raw = raw.strip()
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = raw
        params[key] = value
    return params


def build_estimator(name, params=None, **defaults):
    """A named estimator with ``params`` over ``defaults``, checked before any work starts.

    Parameters
    ----------
    name : str
        A model name (see :func:`skbrain.registry.list_models`).
    params : dict, default=None
        Parameters the user chose; a name the estimator does not have is an
        error (with the closest name suggested).
    **defaults
        Parameters the caller chooses (``random_state``, ``device`` ...),
        overridden by ``params``.

    Returns
    -------
    estimator

    Raises
    ------
    ValueError
        For an unknown parameter name, or a value the estimator or its
        network rejects (checked now, not after the images are decoded).

    Examples
    --------
    >>> build_estimator("wide", {"max_epochs": 2}).max_epochs
    2
    >>> build_estimator("wide", {"max_epoch": 2})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: wide has no parameter 'max_epoch' (did you mean 'max_epochs'?); ...
    """
    import difflib

    from . import registry
    from ._base import SKORCH_PREFIXES

    params = dict(params or {})
    valid = registry.get_estimator(name).get_params(deep=False)
    for key in params:
        if key in valid or key.startswith(SKORCH_PREFIXES):
            continue
        close = difflib.get_close_matches(key, list(valid), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{name} has no parameter {key!r}{hint}; its parameters are "
                         f"{', '.join(sorted(valid))}")
    estimator = registry.get_estimator(name, **{**defaults, **params})
    try:
        check = getattr(estimator, "_check_training_params", None)
        if check is not None:
            check()
        if hasattr(estimator, "_module_spec"):
            registry.build_module(estimator)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}: {exc}") from None
    return estimator


def check_binary_options(y, target_names=None, **options):
    """Refuse options that only apply to two classes when ``y`` has more.

    Parameters
    ----------
    y : array-like
        The labels of the task.
    target_names : sequence of str, default=None
        Class names, for the message.
    **options
        Option name to value; ``None`` and ``False`` mean "not asked for".

    Raises
    ------
    ValueError
        Naming the first option asked for, when ``y`` holds more than two classes.

    Examples
    --------
    >>> check_binary_options([0, 1, 2], min_recall=None)
    >>> check_binary_options([0, 1, 2], ["a", "b", "c"], min_recall=0.9)
    Traceback (most recent call last):
    ...
    ValueError: min_recall is for two classes (tumor / no tumor); the data has 3: a, b, c
    """
    asked = [name for name, value in options.items() if value is not None and value is not False]
    if not asked or not is_multiclass(y):
        return
    classes = np.unique(np.asarray(y))
    names = ([str(target_names[c]) for c in classes] if target_names is not None
             and np.issubdtype(classes.dtype, np.integer) else [str(c) for c in classes])
    raise ValueError(f"{asked[0]} is for two classes (tumor / no tumor); the data has "
                     f"{len(classes)}: {', '.join(names)}")


def fit_and_test(estimator, X_train, y_train, X_test, y_test, *, groups=None, search=None,
                 cv=3, fixed=(), min_recall=None, random_state=0, verbose=0):
    """Fit (optionally searched and thresholded), then score on the test images.

    Parameters
    ----------
    estimator : skbrain estimator
        Unfitted.
    X_train, y_train : array-like
        Resized training images and their labels.
    X_test, y_test : array-like
        Resized test images and their labels (any collection).
    groups : array-like of shape (n_train,), default=None
        Duplicate groups of the training images, for the search's and the
        threshold's cross-validation folds.
    search : int, default=None
        Candidates of a randomized search over the default space first
        (:func:`skbrain.search.search_best_estimator`); ``None``: no search.
    cv : int or iterable of (train, test) index arrays, default=3
        Folds of the search and of the threshold choice; the threshold also
        takes the splits themselves.
    fixed : iterable of str, default=()
        Parameters the search leaves alone.
    min_recall : float, default=None
        Two classes only: choose the decision threshold for this recall floor
        (:func:`skbrain.thresholds.tune_threshold_for_recall`).
    random_state : int, default=0
        Seeds the search and the folds.
    verbose : int, default=0

    Returns
    -------
    Bunch
        ``model`` (what decides: the estimator, or its threshold wrapper),
        ``estimator`` (the fitted skbrain estimator), ``scores``, ``y_pred``,
        ``proba`` (as :func:`~skbrain.evaluation.predict_with_proba`),
        ``search`` and ``threshold`` (summaries or None), ``fit_seconds``
        and ``predict_seconds``.
    """
    from .thresholds import threshold_report, tune_threshold_for_recall

    check_binary_options(y_train, min_recall=min_recall)
    start = time.perf_counter()
    search_info = threshold_info = None
    if search is not None:
        from .search import search_best_estimator

        estimator, search_info = search_best_estimator(
            estimator, X_train, y_train, groups, n_iter=search, cv=cv, fixed=fixed,
            random_state=random_state, verbose=verbose)
    elif min_recall is None:
        estimator.fit(X_train, y_train)
    model = estimator
    if min_recall is not None:
        model, threshold_info = tune_threshold_for_recall(
            estimator, X_train, y_train, groups, min_recall=min_recall, cv=cv,
            random_state=random_state)
        estimator = model.estimator_.estimator
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    y_pred, proba = predict_with_proba(model, X_test)
    predict_seconds = time.perf_counter() - start
    classes = np.asarray(estimator.classes_)
    scores = classification_scores(y_test, y_pred, proba, labels=classes)
    if threshold_info is not None:
        threshold_report(model, X_test, y_test, threshold_info)
    return Bunch(model=model, estimator=estimator, scores=scores, y_pred=y_pred, proba=proba,
                 search=search_info, threshold=threshold_info, fit_seconds=fit_seconds,
                 predict_seconds=predict_seconds)


def check_output(path, *folders, name="output"):
    """Refuse to write ``path`` inside any of the data ``folders``: the images stay untouched.

    Parameters
    ----------
    path : str or path-like
        A file to be written.
    *folders : str or path-like
        The data folders.
    name : str, default="output"
        The argument's name, which the message starts with.

    Raises
    ------
    ValueError
        Naming the path and the folder.

    Examples
    --------
    >>> check_output("model.skbrain", "/data/brain_mri")
    >>> check_output("/data/brain_mri/yes/model.skbrain", "/data/brain_mri")
    Traceback (most recent call last):
    ...
    ValueError: output: '/data/brain_mri/yes/model.skbrain' is inside the data folder ...
    """
    resolved = Path(path).resolve()
    for folder in folders:
        root = Path(folder).resolve()
        if resolved == root or root in resolved.parents:
            raise ValueError(f"{name}: '{path}' is inside the data folder '{root}'; skbrain "
                             "never writes there")


def check_train_arguments(output, *, cv=3, search=None, min_recall=None, test_data=None,
                          split_file=None):
    """The checks of :func:`train_and_save`'s arguments that need no images, done first.

    Raises
    ------
    ValueError
        Starting with the argument's name: ``cv`` below 2 with a search or a
        recall floor, an ``output`` that is a folder, or both ``test_data``
        and ``split_file``.

    Examples
    --------
    >>> check_train_arguments("model.skbrain", cv=1, min_recall=0.9)
    Traceback (most recent call last):
    ...
    ValueError: cv: must be at least 2 for the search and the threshold's cross-validation
    """
    if (search is not None or min_recall is not None) and cv < 2:
        raise ValueError("cv: must be at least 2 for the search and the threshold's "
                         "cross-validation")
    if Path(output).is_dir():
        raise ValueError(f"output: '{output}' is a folder; give a file name such as "
                         f"'{Path(output) / 'model.skbrain'}'")
    if test_data is not None and split_file:
        raise ValueError("test_data: give it or split_file, not both (each chooses the test "
                         "images)")


def resize_images(images, image_size, *, log=None, resizer=None):
    """Decode and resize images once, in threads, for the fits that follow.

    Parameters
    ----------
    images : sequence of paths
    image_size : int
        Side of the square images.
    log : callable, default=None
        Receives one line with the count and the time taken.
    resizer : ImageResizer, default=None
        Prepare the images as this one does (a clone, in threads; e.g. the
        resizer of a model to fine-tune from) instead of at the defaults.

    Returns
    -------
    resizer : :class:`~skbrain.preprocessing.ImageResizer`
        Fitted; the first step of the saved pipeline.
    X : ndarray
    seconds : float
    """
    from .preprocessing import ImageResizer

    if resizer is None:
        resizer = ImageResizer(size=image_size, n_jobs=-1)
    else:
        from sklearn.base import clone

        resizer = clone(resizer).set_params(size=image_size, n_jobs=-1)
    start = time.perf_counter()
    X = resizer.fit_transform([str(p) for p in images])
    seconds = time.perf_counter() - start
    if log is not None:
        log(f"decoded and resized {len(X)} images to {image_size}x{image_size} "
            f"in {seconds:.1f} s")
    return resizer, X, seconds


def _sibling(output, suffix):
    """``wide.skbrain`` -> ``wide.metrics.json`` for ``suffix=".metrics.json"``."""
    return output.with_name(output.stem + suffix) if output.suffix else Path(f"{output}{suffix}")


def _figure_sample(y_test, seed):
    """Positions of up to PREDICTION_FIGURE_IMAGES test images, every class alike."""
    rng = np.random.default_rng(seed)
    labels = np.unique(y_test)
    per_class = max(1, PREDICTION_FIGURE_IMAGES // len(labels))
    chosen = []
    for label in labels:
        members = np.flatnonzero(y_test == label)
        chosen += sorted(rng.permutation(members)[:per_class].tolist())
    return np.array(chosen[:PREDICTION_FIGURE_IMAGES])


def _prefixed(name, call, *args, **kwargs):
    """Run ``call``; a ValueError it raises gets ``name: `` in front."""
    try:
        return call(*args, **kwargs)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _split(data, split_file, test_size, seed):
    from .model_selection import grouped_holdout, read_split_file

    if split_file:
        train, test = _prefixed("split_file", read_split_file, split_file, data.relpaths,
                                data.root)
        return train, test, {"method": "file", "split_file": str(Path(split_file))}
    train, test = _prefixed("test_size", grouped_holdout, data.target, data.groups,
                            test_size, seed)
    return train, test, {"method": "grouped-stratified", "test_size": test_size, "seed": seed}


def _training_info(data, train, test, split_info, image_size, seed, threshold_info):
    """What the model card says about the training images."""
    from .datasets import describe_images

    y_train, names = data.target[train], data.class_names
    if split_info.get("method") == "other collection":
        split = (f"all {len(train)} images of the training folder; tested on {len(test)} "
                 f"images of {split_info['test_data']} ({split_info['near_copies']} "
                 "near-copies of training images " + ("kept)" if split_info["kept"] else
                                                      "left out)"))
    else:
        split = (f"{len(train)} training / {len(test)} test images "
                 f"({split_info.get('method')}, seed {seed})")
    if split_info.get("method") == "file":
        duplicates = "split read from --split-file; duplicates kept apart only if the file does"
    elif data.get("kind") == "dicom":
        duplicates = (f"the {len(data.data)} DICOM slices come from "
                      f"{len(np.unique(data.groups))} patients (PatientID); each patient lies "
                      "wholly in training or in test")
    else:
        duplicates = (f"the {len(data.data)} images are {len(np.unique(data.groups))} distinct "
                      "pictures (copies and near-copies grouped); each group lies wholly in "
                      "training or in test")
    info = {
        "n_images": len(train),
        "class_counts": {names.get(int(k), k): int((y_train == k).sum())
                         for k in np.unique(data.target)[::1 if data.multiclass else -1]},
        "source": f"{data.root} ({describe_images(data)} in all)",
        "duplicates": duplicates,
        "split": split,
        "image_size": f"{image_size}x{image_size}",
    }
    if not data.multiclass:  # the card's own names for 1 and 0
        info["class_counts"] = {1: info["class_counts"]["tumor"],
                                0: info["class_counts"]["no tumor"]}
    if threshold_info is not None:
        info["threshold_selection"] = (
            f"the highest threshold whose recall reached {threshold_info['min_recall']:g} in "
            f"{threshold_info['cv']}-fold grouped cross-validation on the training images "
            "(TunedThresholdClassifierCV), kept by FixedThresholdClassifier")
    return info


def train_and_save(name, data, output, *, estimator=None, params=None, test_data=None,
                   split_file=None, test_size=0.25, image_size=150, search=None, cv=3,
                   min_recall=None, keep_near_copies=False, random_state=0, verbose=0,
                   log=print, resizer=None, replay=None):
    """Split, train, test and save one model, with its metrics JSON, figures and model card.

    What ``skbrain train`` does, step by step: the test images are a
    duplicate-aware stratified share of ``data`` (or the images listed in
    ``split_file``, or all of ``test_data`` but the near-copies of training
    images); the images are resized; :func:`fit_and_test` fits (after an
    optional search, with an optional recall-first threshold) and scores;
    then the fitted ``Pipeline(resize, model)`` is saved to ``output``, and
    ``<stem>.metrics.json``, ``<stem>.predictions.png`` (and, for more than
    two classes, ``<stem>.confusion.png``) and ``<stem>.model_card.md`` are
    written beside it. Every file is written to a temporary name first.

    Parameters
    ----------
    name : str
        A model name (see :func:`skbrain.registry.list_models`).
    data : Bunch
        The training images, from :func:`skbrain.datasets.load_images`.
    output : str or path-like
        The model file; never inside a data folder.
    estimator : skbrain estimator, default=None
        Unfitted, when already built (:func:`build_estimator`), or a soft vote
        of them (``--n-models``); else built from ``name`` and ``params``.
    params : dict, default=None
        The parameters the user chose: recorded, and left alone by the search.
    test_data : Bunch, default=None
        Another collection to test on (same classes); then all of ``data``
        trains.
    split_file : str or path-like, default=None
        A list of the test images (:func:`skbrain.model_selection.read_split_file`).
    test_size : float or int, default=0.25
        Test share (or count) of the split, when neither of the above.
    image_size : int, default=150
        Side of the square images the network sees.
    search, cv, min_recall
        As :func:`fit_and_test`.
    keep_near_copies : bool, default=False
        With ``test_data``, also score the near-copies of training images.
    random_state : int, default=0
        Seeds the split, the estimator built here, the search and the figure.
    verbose : int, default=0
        Progress lines through ``log``, and the estimator's own.
    log : callable, default=print
        Receives the progress lines, and (always) the near-copies line.
    resizer : ImageResizer, default=None
        Prepare the images as this one does, at ``image_size`` (e.g. the
        resizer of the model ``init_from`` fine-tunes); default: an
        ``ImageResizer`` at its defaults.
    replay : tuple (images, labels), default=None
        Two classes only, and only when ``estimator`` fine-tunes a model
        (``init_from``): image paths and labels of the collections that model
        was trained on, as many of them as there are training images drawn
        at random (``random_state``) and mixed into the training, so that a
        few images of one site do not make it forget the rest (as
        :func:`skbrain.weights.adapt_pretrained`). They are never scored:
        with ``min_recall`` they join every threshold fold's training part.
        Not with ``search``.

    Returns
    -------
    Bunch
        ``model`` (the saved pipeline), ``estimator``, ``scores``,
        ``threshold`` (None or as :func:`~skbrain.thresholds.threshold_report`),
        ``test_description`` (a summary of the scored images), ``across``
        (True when tested on another collection), ``report`` (what the
        metrics JSON holds) and ``files`` (name -> path written). Trained
        through ``accelerate`` (an estimator with an ``accelerator``), only the
        main process writes; the others get empty ``files`` and no ``report``.

    Raises
    ------
    ValueError
        Before any training, for a bad argument; its message starts with
        the argument's name (``output``, ``test_data``, ``split_file``,
        ``test_size``, ``cv``, ``replay``; ``search`` or ``min_recall`` from
        the fit).
    """
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import Pipeline

    from ._fileio import report_jsonable, save_figure, write_json
    from ._unwrap import unwrap
    from .datasets import describe_images
    from .evaluation import cross_collection_near_copies
    from .model_card import model_card
    from .persistence import _versions, save_model
    from .plotting import plot_confusion_matrix, plot_predictions

    started = time.perf_counter()
    say = log if verbose else (lambda *_: None)
    params = dict(params or {})
    if estimator is None:
        estimator = build_estimator(name, params, random_state=random_state,
                                    verbose=int(verbose))
    check_train_arguments(output, cv=cv, search=search, min_recall=min_recall,
                          test_data=test_data, split_file=split_file)
    check_binary_options(data.target, data.target_names, min_recall=min_recall)
    if replay is not None:
        from .weights import _check_replay

        _check_replay(estimator, data.multiclass, search)
    output = Path(output)
    check_output(output, data.root, *([test_data.root] if test_data is not None else []))
    say(f"data: {describe_images(data)} in {data.root}")
    if test_data is not None:
        if data.multiclass and list(test_data.target_names) != list(data.target_names):
            raise ValueError(f"test_data: its classes {list(test_data.target_names)} are not "
                             f"those of the training images {list(data.target_names)}")
        if test_data.multiclass and not data.multiclass:
            raise ValueError(f"test_data: it has {len(test_data.target_names)} classes and the "
                             "training images two; join them with negative=NAME")
        say(f"test data: {describe_images(test_data)} in {test_data.root}")
        copies = cross_collection_near_copies(list(map(str, data.data)),
                                              list(map(str, test_data.data)), n_jobs=-1)
        n_copies = int(copies.sum())
        what = "kept (--keep-near-copies)" if keep_near_copies else "left out of the test scores"
        log(f"near-copies: {n_copies} of the {len(test_data.data)} test images have a "
            f"near-copy among the training images; {what}")
        if not keep_near_copies and copies.all():
            raise ValueError("every test image has a near-copy among the training images")
        train = np.arange(len(data.data))
        test = np.arange(len(copies)) if keep_near_copies else np.flatnonzero(~copies)
        split_info = {"method": "other collection", "test_data": str(test_data.root),
                      "near_copies": n_copies, "kept": bool(keep_near_copies)}
    else:
        test_data = data
        train, test, split_info = _split(data, split_file, test_size, random_state)
        say(f"split: train {describe_images(data, train)}, test {describe_images(data, test)}")

    resizer, X, load_seconds = resize_images(data.data, image_size, log=say, resizer=resizer)
    test_paths = [str(test_data.data[i]) for i in test]
    X_test = X[test] if test_data is data else resize_images(test_paths, image_size, log=say,
                                                             resizer=resizer)[1]
    y, y_test, groups = data.target, test_data.target[test], np.asarray(data.groups)
    say(f"training {name} ({type(estimator).__name__}) on {len(train)} images...")
    if search is not None or min_recall is not None:  # folds checked before fitting
        _prefixed("cv", lambda: next(StratifiedGroupKFold(cv).split(X[train], y[train],
                                                                    groups[train])))
    X_fit, y_fit, folds, replayed = X[train], y[train], cv, None
    if replay is not None:
        from .weights import _with_replay

        X_fit, y_fit, folds, replayed = _with_replay(replay, X_fit, y_fit, groups[train], cv,
                                                    resizer, random_state, log=say)
    try:
        result = fit_and_test(estimator, X_fit, y_fit, X_test, y_test,
                              groups=groups[train], search=search, cv=folds, fixed=params,
                              min_recall=min_recall, random_state=random_state,
                              verbose=int(verbose))
    except ValueError as exc:
        option = ("min_recall" if "threshold" in str(exc) else
                  "search" if "searchable" in str(exc) else None)
        if option is None:
            raise
        raise ValueError(f"{option}: {exc}") from None
    estimator, scores, names = result.estimator, result.scores, data.class_names
    found = unwrap(result.model)  # a vote's first member: the one whose settings the others share
    model = Pipeline([("resize", resizer), ("cnn", result.model)])
    accelerator = getattr(estimator, "accelerator", None)
    if accelerator is not None:
        # Every process of an accelerate launch holds the same weights and
        # scores; the main one writes, and a model file holds no accelerator.
        estimator.set_params(accelerator=None)
        if not accelerator.is_main_process:
            return Bunch(model=model, estimator=estimator, scores=scores,
                         threshold=result.threshold, report=None, files={},
                         test_description=describe_images(test_data, test),
                         across=test_data is not data)

    output.parent.mkdir(parents=True, exist_ok=True)
    files = {"model": output, "metrics": _sibling(output, ".metrics.json"),
             "figure": _sibling(output, ".predictions.png"),
             "model_card": _sibling(output, ".model_card.md")}
    counts = ({"n_tumor": int((y == 1).sum()), "n_no_tumor": int((y == 0).sum())}
              if not data.multiclass else {"class_counts": {
                  n: int((y == i).sum()) for i, n in enumerate(data.target_names)}})
    report = {
        "command": "train", "model": name, "estimator": type(found.estimator).__name__,
        "metrics": scores, "n_train": len(train), "n_test": len(test),
        "image_size": image_size, "device": getattr(found.estimator, "device_", None),
        "data": {"path": str(data.root), "n_images": len(data.data), **counts},
        "split": {**split_info, "train": [data.relpaths[i] for i in train],
                  "test": [test_data.relpaths[i] for i in test]},
        "replay": replayed,
        "set": params, "params": found.estimator.get_params(deep=False), "search": result.search,
        "vote_seeds": found.vote and [member.random_state for member in found.vote.estimators_],
        "threshold": result.threshold, "class_names": names,
        "timings": {"load_seconds": load_seconds, "fit_seconds": result.fit_seconds,
                    "predict_seconds": result.predict_seconds},
        "versions": _versions(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if data.get("negative"):
        report["data"]["negative"] = data.negative
    if data.get("kind") == "dicom":
        report["data"]["kind"] = "dicom"
    save_model(model, output, metadata=report_jsonable(report))
    shown = _figure_sample(y_test, random_state)
    fig = plot_predictions([test_paths[i] for i in shown], y_test[shown],
                           result.y_pred[shown], result.proba[shown], n=None,
                           class_names=names)
    fig.suptitle(f"{name}: test images, true and predicted labels")
    save_figure(fig, files["figure"])
    if data.multiclass:
        files["confusion"] = _sibling(output, ".confusion.png")
        save_figure(plot_confusion_matrix(y_test, result.y_pred, labels=estimator.classes_,
                                          class_names=names), files["confusion"])
    # The saved pipeline reads the test files itself, as it will in use.
    info = _training_info(data, train, test, split_info, image_size, random_state,
                          result.threshold)
    if replayed is not None:
        info["replay"] = (f"{replayed['n_images']} images of the fine-tuned model's own "
                          "training collections mixed into the training (drawn at random, "
                          "never scored)")
    model_card(model, test_paths, y_test, files["model_card"],
               class_names=names, training_info=info)
    report["timings"]["total_seconds"] = time.perf_counter() - started
    report["files"] = {k: str(v) for k, v in files.items()}
    write_json(files["metrics"], report)
    return Bunch(model=model, estimator=estimator, scores=scores, threshold=result.threshold,
                 test_description=describe_images(test_data, test),
                 across=test_data is not data, report=report, files=files)


def search_model(estimator, X, y, groups=None, *, fixed=(), n_iter=20, cv=3, scheduler=None,
                 random_state=0, verbose=0, log=print, name=None):
    """Randomized search over the model's default space, scored as ``skbrain search`` does.

    The parameters in ``fixed`` are left out of the space; the folds are
    grouped; candidates are ranked by F1 (two classes) or macro F1, and
    recall and ROC AUC (or balanced accuracy and one-vs-rest ROC AUC) are
    scored too.

    Parameters
    ----------
    estimator : skbrain estimator
        Unfitted.
    X : ndarray
        Resized images.
    y : array-like of shape (n_samples,)
    groups : array-like of shape (n_samples,), default=None
        Duplicate groups; each stays in one fold.
    fixed : iterable of str, default=()
        Parameters the user set.
    n_iter, cv : int, default=20, 3
    scheduler : str, default=None
        A Dask scheduler address (:func:`skbrain.search.run_search`).
    random_state : int, default=0
    verbose : int, default=0
        Progress, and a line through ``log`` naming the searched parameters.
    log : callable, default=print
    name : str, default=None
        The model's name in that line (default: the estimator's class).

    Returns
    -------
    Bunch
        ``search`` (the fitted search), ``report``
        (:func:`skbrain.search.search_report`) and ``score_name``
        (``"F1"`` or ``"macro F1"``).
    """
    from .evaluation import default_scoring
    from .search import default_search_space, run_search, search_report

    fixed = set(fixed)
    space = {k: v for k, v in default_search_space(estimator).items() if k not in fixed}
    if verbose:
        log(f"searching {len(space)} parameters of {name or type(estimator).__name__} "
            f"({', '.join(sorted(space))}): {n_iter} candidates x {cv} duplicate-aware "
            "folds...")
    main_score = default_scoring(y)
    scoring = ([main_score, "recall", "roc_auc"] if main_score == "f1" else
               [main_score, "balanced_accuracy", "roc_auc_ovr"])
    search = run_search(estimator, X, y, groups, param_distributions=space, n_iter=n_iter,
                        cv=cv, scoring=scoring, refit=main_score, random_state=random_state,
                        scheduler=scheduler, verbose=verbose)
    return Bunch(search=search, report=search_report(search),
                 score_name="F1" if main_score == "f1" else "macro F1")
