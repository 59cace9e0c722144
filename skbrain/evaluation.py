"""Evaluating models: on a saved split, on another collection, and against each other.

* :func:`evaluate_saved_model` scores a saved model again: on its saved test
  split where the folder is the one it was trained from, else on a whole
  folder without the near-copies of its training images.
* :func:`evaluate_across` scores a fitted model on another collection, and
  :func:`cross_collection_near_copies` finds the test images of that
  collection that have a near-copy among the training images.
* :func:`predict_with_proba` gives the labels and the positive class's
  probability, decoding the images once.
* :func:`compare_models` trains every estimator on the same splits and returns
  a :class:`~skbrain.tables.ResultsTable`.

The scores live in :mod:`skbrain.metrics`, the grouped splitters in
:mod:`skbrain.model_selection` and the tables in :mod:`skbrain.tables`; their
names (``classification_scores``, ``train_test_split_grouped``,
``ResultsTable``...) are importable from here too.
"""

import os
import sys
import time
from pathlib import Path

import numpy as np

from ._positive import positive_column, positive_label
from .metrics import (  # noqa: F401
    DEFAULT_METRICS,
    METRIC_LABELS,
    MULTICLASS_METRICS,
    classification_scores,
    default_scoring,
    expected_calibration_error,
    is_multiclass,
)
from .model_selection import (  # noqa: F401
    StratifiedGroupShuffleSplit,
    _make_splits,
    read_split_file,
    study_split,
    train_test_split_grouped,
)
from .tables import ResultsTable, scores_table  # noqa: F401

__all__ = [
    "compare_models",
    "cross_collection_near_copies",
    "evaluate_across",
    "evaluate_saved_model",
    "predict_with_proba",
]


# ------------------------------------------------------- across collections
def cross_collection_near_copies(train_images, test_images, *, n_jobs=None, **kwargs):
    """Which test images have a near-copy among the training images.

    Both collections go through :func:`skbrain.datasets.find_duplicate_groups`
    together; a test image is a near-copy when its duplicate group holds a
    training image (so a chain through other test images counts too).

    Parameters
    ----------
    train_images, test_images : sequence of path, PIL image or array
        The two collections.
    n_jobs : int, default=None
        Decoding threads (``-1``: all processors).
    **kwargs
        Passed to :func:`~skbrain.datasets.find_duplicate_groups` (``threshold``).

    Returns
    -------
    ndarray of bool, shape (len(test_images),)

    Examples
    --------
    >>> from skbrain.datasets import make_synthetic_mri
    >>> images = list(make_synthetic_mri(4, image_size=64, random_state=0).data)
    >>> cross_collection_near_copies(images[:2], [images[1], images[2], images[3]]).tolist()
    [True, False, False]
    """
    from .datasets import find_duplicate_groups

    train_images, test_images = list(train_images), list(test_images)
    groups = find_duplicate_groups(train_images + test_images, n_jobs=n_jobs, **kwargs)
    seen = set(groups[: len(train_images)].tolist())
    return np.isin(groups[len(train_images):], list(seen))


def predict_with_proba(model, X):
    """Labels as ``model.predict`` decides them, and the probabilities, decoding once.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        A Pipeline's leading steps (such as an ``ImageResizer``) run once.
    X : array-like
        Images or paths, as the model takes them.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
    proba : ndarray
        Two classes: the probability of the positive class (label 1 when it
        is one, else the later class: :func:`skbrain._positive.positive_label`),
        shape (n_samples,). More classes: ``predict_proba``'s output,
        shape (n_samples, n_classes), columns in the order of ``classes_``.
    """
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline) and len(model.steps) > 1:
        X = model[:-1].transform(X)
        model = model[-1]
    labels = np.asarray(model.predict(X))
    proba = model.predict_proba(X)
    classes = np.asarray(model.classes_)
    if len(classes) > 2:
        return labels, proba
    return labels, proba[:, positive_column(classes)]


def evaluate_across(model, test_images, y_test, *, train_images=None, drop_near_copies=True,
                    n_jobs=None):
    """Score a fitted model on another collection, without its near-copies of training images.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        It must take ``test_images`` as they are (paths, for a Pipeline that
        starts with an ``ImageResizer``).
    test_images : sequence
        The other collection's images.
    y_test : array-like of shape (n_samples,)
        Their labels, in the model's label set (for a two-class model, see
        ``load_brain_mri(..., negative=...)``).
    train_images : sequence, default=None
        The images the model was trained on; ``None`` skips the near-copy check.
    drop_near_copies : bool, default=True
        Leave out of the scores the test images that have a near-copy among
        ``train_images`` (:func:`cross_collection_near_copies`).
    n_jobs : int, default=None
        Decoding threads of the near-copy check.

    Returns
    -------
    Bunch
        ``scores`` (:func:`~skbrain.metrics.classification_scores`, with balanced accuracy
        and ROC AUC), ``near_copies`` (bool mask over ``test_images``),
        ``n_near_copies``, ``kept`` (positions scored), ``y_pred`` and
        ``proba`` (of the kept images).

    Raises
    ------
    ValueError
        If ``y_test`` holds a label the model does not know.
    """
    from sklearn.utils import Bunch

    y_test = np.asarray(y_test).ravel()
    classes = np.asarray(model.classes_)
    unknown = np.setdiff1d(np.unique(y_test), classes)
    if len(unknown):
        raise ValueError(f"the test labels {unknown.tolist()} are not among the model's classes "
                         f"{classes.tolist()}")
    test_images = list(test_images)
    if train_images is not None:
        copies = cross_collection_near_copies(train_images, test_images, n_jobs=n_jobs)
    else:
        copies = np.zeros(len(test_images), dtype=bool)
    kept = np.flatnonzero(~copies) if drop_near_copies else np.arange(len(test_images))
    if len(kept) == 0:
        raise ValueError("every test image has a near-copy among the training images")
    y_pred, proba = predict_with_proba(model, [test_images[i] for i in kept])
    pos_label = positive_label(classes)
    scores = classification_scores(y_test[kept], y_pred, proba, pos_label=pos_label,
                                   labels=classes)
    return Bunch(scores=scores, near_copies=copies, n_near_copies=int(copies.sum()), kept=kept,
                 y_pred=y_pred, proba=proba)


def evaluate_saved_model(model, data, metadata=None, *, keep_near_copies=False, n_jobs=-1):
    """Score a saved model on its saved test split, or on every image of another folder.

    Parameters
    ----------
    model : fitted Pipeline
        As :func:`skbrain.persistence.load_model` returns it.
    data : Bunch
        The images, from :func:`skbrain.datasets.load_images`.
    metadata : dict, default=None
        The model file's metadata (``skbrain train`` records the data
        folder, the split and the class names there).
    keep_near_copies : bool, default=False
        On another folder, also score the images that have a near-copy among
        the model's training images (when those can still be read).
    n_jobs : int, default=-1
        Decoding threads of the near-copy check.

    Returns
    -------
    Bunch
        ``name`` (the model), ``where`` (which images were scored, in words),
        ``rows`` (their positions in ``data``), ``scores``, ``across``
        (False only on the saved split of the training folder, where the
        metrics are the study's four), ``n_near_copies`` (None when not
        checked), ``class_names`` and ``report`` (what ``skbrain evaluate
        --json`` writes: the model, metrics, number of images, folder and the
        files scored).

    Raises
    ------
    ValueError
        Starting ``"data: "``, when the images' labels are not the model's.
    """
    from sklearn.utils import Bunch

    from .datasets import describe_images

    meta = metadata or {}
    saved_root = (meta.get("data") or {}).get("path")
    split = meta.get("split") or {}
    test_files = split.get("test")
    test_root = split.get("test_data") or saved_root
    same_folder = test_root is not None and Path(test_root).resolve() == data.root
    name = meta.get("model") or type(model).__name__
    paths = [str(p) for p in data.data]
    out = Bunch(name=name, class_names=meta.get("class_names") or {}, n_near_copies=None)
    if test_files and same_folder and set(test_files) <= set(data.relpaths):
        index = {rel: i for i, rel in enumerate(data.relpaths)}
        rows = np.array([index[rel] for rel in test_files])
        y_pred, proba = predict_with_proba(model, [paths[i] for i in rows])
        scores = classification_scores(data.target[rows], y_pred, proba,
                                       labels=np.asarray(model.classes_))
        out.update(where=f"the saved test split: {describe_images(data, rows)}", rows=rows,
                   scores=scores, across=test_root != saved_root)
        return _with_report(out, data)
    where = f"all {describe_images(data)} in {data.root}"
    train_root = Path(saved_root) if saved_root else None
    if train_root is not None and train_root.resolve() == data.root and not same_folder:
        where += " (the training folder: the model was trained on these images)"
    elif test_files:
        where += " (not the training folder, or changed: the saved split does not apply)"
    else:
        where += " (no saved split: the model may have been trained on some of them)"
    train_paths = None
    if split.get("train") and train_root is not None and train_root.is_dir() and (
            train_root.resolve() != data.root):
        train_paths = [str(train_root / rel) for rel in split["train"]]
        train_paths = [p for p in train_paths if os.path.exists(p)] or None
    try:
        result = evaluate_across(model, paths, data.target, train_images=train_paths,
                                 drop_near_copies=not keep_near_copies, n_jobs=n_jobs)
    except ValueError as exc:
        raise ValueError(f"data: {exc}") from None
    out.update(where=where, rows=result.kept, scores=result.scores, across=True,
               n_near_copies=None if train_paths is None else result.n_near_copies)
    return _with_report(out, data)


def _with_report(result, data):
    result.report = {"model": result.name, "metrics": result.scores,
                     "n_images": len(result.rows), "data": str(data.root),
                     "files": [data.relpaths[i] for i in result.rows]}
    return result


# ----------------------------------------------------------------- comparison
class _Scorer:
    """``cross_validate`` scoring callable: every scalar score from one prediction."""

    def __init__(self, pos_label, name, n_splits, verbose):
        self.pos_label, self.name, self.n_splits, self.verbose = (
            pos_label, name, n_splits, verbose)
        self.calls = 0

    def __call__(self, estimator, X_test, y_test):
        start = time.perf_counter()
        classes = np.asarray(getattr(estimator, "classes_", []))
        if hasattr(estimator, "predict_proba") and len(classes):
            proba = estimator.predict_proba(X_test)
            y_pred = classes[np.argmax(proba, axis=1)]
            if len(classes) <= 2:
                known = self.pos_label in classes.tolist()
                proba = proba[:, positive_column(classes, self.pos_label if known else None)]
        else:
            y_pred, proba = estimator.predict(X_test), None
        seconds = time.perf_counter() - start
        labels = classes if len(classes) > 2 else None
        scores = classification_scores(y_test, y_pred, proba, pos_label=self.pos_label,
                                       labels=labels)
        flat = {k: v for k, v in scores.items() if isinstance(v, float)}
        for label, values in scores.get("per_class", {}).items():
            flat[f"recall_{label}"] = values["recall"]
        flat["predict_seconds"] = seconds
        self.calls += 1
        if self.verbose:
            main = "f1" if "f1" in flat else "f1_macro"
            print(
                f"[compare] {self.name}  split {self.calls}/{self.n_splits}  "
                f"accuracy={flat['accuracy']:.3f}  {main}={flat[main]:.3f}  "
                f"roc_auc={flat.get('roc_auc', float('nan')):.3f}",
                file=sys.stdout, flush=True,
            )
        return flat


def compare_models(estimators, X, y, groups=None, *, cv=None, n_repeats=1, test_size=0.25,
                   random_state=0, metrics=None, pos_label=1, verbose=0, n_jobs=None):
    """Train and test several estimators on the same splits.

    Every estimator is cloned afresh for every split, fitted on its training
    side and scored on its test side with :func:`~skbrain.metrics.classification_scores`,
    through :func:`sklearn.model_selection.cross_validate` (so ``n_jobs`` and
    joblib's backends, Dask included, apply).

    Parameters
    ----------
    estimators : dict of str to estimator
        Names and unfitted estimators or Pipelines.
    X : array-like or list of length n_samples
        Images (arrays, for estimators) or paths (for Pipelines that start
        with an ``ImageResizer``). Resize once and pass arrays when comparing
        several models: each image is then decoded once, not once per fit.
    y : array-like of shape (n_samples,)
        Labels (two classes or more).
    groups : array-like of shape (n_samples,), default=None
        Duplicate-group ids; every group stays on one side of every split.
    cv : None, int, splitter or iterable of (train, test), default=None
        ``None``: ``n_repeats`` random duplicate-aware stratified holdout
        splits of ``test_size`` (:class:`~skbrain.model_selection.StratifiedGroupShuffleSplit`). An
        int ``k``: ``StratifiedGroupKFold(k)``, repeated ``n_repeats`` times
        with different shuffles. A splitter or explicit index pairs are used
        as given.
    n_repeats : int, default=1
        Number of holdout splits (``cv=None``) or of k-fold repetitions.
    test_size : float or int, default=0.25
        Test share of the holdout splits (``cv=None`` only).
    random_state : int, RandomState instance or None, default=0
        Seeds the splits (not the estimators: set their ``random_state``).
    metrics : sequence of str, default=None
        Columns of the summary; every record keeps all scalar scores (for
        more than two classes also ``recall_<label>`` per class). ``None``:
        :data:`~skbrain.metrics.DEFAULT_METRICS` for two classes,
        :data:`~skbrain.metrics.MULTICLASS_METRICS` for more.
    pos_label : int or str, default=1
        The positive class (tumor) of a two-class task.
    verbose : int, default=0
        1 prints one line per fit.
    n_jobs : int, default=None
        Splits fitted in parallel (``cross_validate``'s ``n_jobs``).

    Returns
    -------
    skbrain.tables.ResultsTable

    Examples
    --------
    >>> from skbrain import SimpleCNNClassifier, WideCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(40, image_size=32, random_state=0)
    >>> fast = {"max_epochs": 2, "random_state": 0}
    >>> table = compare_models(
    ...     {"simple": SimpleCNNClassifier(**fast), "wide": WideCNNClassifier(**fast)},
    ...     data.data, data.target, n_repeats=2)
    >>> table.models, table.rows[0]["n_splits"]
    (['simple', 'wide'], 2)
    """
    from sklearn.model_selection import cross_validate

    if not isinstance(estimators, dict) or not estimators:
        raise ValueError("estimators must be a non-empty dict of name to estimator")
    y = np.asarray(y).ravel()
    if len(X) != len(y):
        raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}")
    if groups is not None:
        groups = np.asarray(groups).ravel()
    if metrics is None:
        metrics = MULTICLASS_METRICS if is_multiclass(y) else DEFAULT_METRICS
    splits = _make_splits(cv, X, y, groups, n_repeats, test_size, random_state)
    records = []
    for name, estimator in estimators.items():
        scorer = _Scorer(pos_label, name, len(splits), verbose)
        result = cross_validate(estimator, X, y, cv=splits, scoring=scorer, n_jobs=n_jobs,
                                error_score="raise")
        keys = [k[len("test_"):] for k in result if k.startswith("test_")]
        for i, (train, test) in enumerate(splits):
            records.append({
                "model": str(name), "split": i, "n_train": len(train), "n_test": len(test),
                **{k: float(result[f"test_{k}"][i]) for k in keys if k != "predict_seconds"},
                "fit_seconds": float(result["fit_time"][i]),
                "predict_seconds": float(result["test_predict_seconds"][i]),
            })
    present = set().union(*records)
    return ResultsTable(records, metrics=[m for m in metrics if m in present])
