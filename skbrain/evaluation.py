"""Scores, duplicate-aware splits and model comparison tables.

* :func:`classification_scores` gives the study's four test scores (accuracy,
  precision, recall, F1) plus balanced accuracy, ROC AUC, the Brier score and
  the expected calibration error when probabilities are given; for more than
  two classes macro and weighted F1, per-class precision and recall,
  one-vs-rest ROC AUC and the confusion matrix.
* :func:`evaluate_saved_model` scores a saved model again: on its saved test
  split where the folder is the one it was trained from, else on a whole
  folder without the near-copies of its training images.
* :func:`cross_collection_near_copies` finds the test images of another
  collection that have a near-copy among the training images.
* The grouped splitters (:class:`~skbrain.model_selection.StratifiedGroupShuffleSplit`,
  :func:`~skbrain.model_selection.train_test_split_grouped`,
  :func:`~skbrain.model_selection.study_split`) live in :mod:`skbrain.model_selection`;
  they are importable from here too.
* :func:`compare_models` trains every estimator on the same splits and returns
  a :class:`ResultsTable`.

Why a table class and not a DataFrame
-------------------------------------
pandas is not a dependency of skbrain, so :func:`compare_models` returns a
small :class:`ResultsTable`: it prints as an aligned table of mean ± standard
deviation, writes CSV, Markdown and JSON, keeps every per-split record, and
becomes a DataFrame with :meth:`ResultsTable.to_pandas` where pandas is
installed. The return type never depends on what is installed.
"""

import csv
import io
import json
import math
import numbers
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from ._fileio import atomic_write
from ._positive import positive_column, positive_label
from .model_selection import (  # noqa: F401
    StratifiedGroupShuffleSplit,
    _make_splits,
    read_split_file,
    study_split,
    train_test_split_grouped,
)

__all__ = [
    "DEFAULT_METRICS",
    "ResultsTable",
    "classification_scores",
    "compare_models",
    "cross_collection_near_copies",
    "default_scoring",
    "evaluate_across",
    "evaluate_saved_model",
    "is_multiclass",
    "predict_with_proba",
    "scores_table",
    "expected_calibration_error",
]

DEFAULT_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "fit_seconds")
#: The summary columns for more than two classes.
MULTICLASS_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted", "roc_auc",
                      "fit_seconds")

METRIC_LABELS = {
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "balanced_accuracy": "balanced acc.",
    "f1_macro": "macro F1",
    "f1_weighted": "weighted F1",
    "precision_macro": "macro precision",
    "recall_macro": "macro recall",
    "roc_auc": "ROC AUC",
    "brier": "Brier",
    "ece": "ECE",
    "fit_seconds": "fit (s)",
    "predict_seconds": "predict (s)",
}


# --------------------------------------------------------------------- scores
def _positive_proba(y_proba, labels, pos_label):
    proba = np.asarray(y_proba, dtype=np.float64)
    if proba.ndim == 2 and proba.shape[1] == 1:
        proba = proba[:, 0]
    elif proba.ndim == 2 and proba.shape[1] == 2:
        # Columns follow the sorted labels, as predict_proba's follow classes_.
        labels = np.asarray(labels).tolist()
        col = (positive_column(labels, pos_label) if len(labels) == 2 and pos_label in labels
               else 1)
        proba = proba[:, col]
    elif proba.ndim != 1:
        raise ValueError(
            "y_proba must be the positive class's probabilities, shape (n_samples,), or "
            f"predict_proba's output, shape (n_samples, 2); got shape {proba.shape}"
        )
    if not np.all(np.isfinite(proba)) or proba.min(initial=0) < 0 or proba.max(initial=0) > 1:
        raise ValueError("y_proba must hold probabilities in [0, 1]")
    return proba


def expected_calibration_error(y_true, y_proba, n_bins=10, *, pos_label=1):
    """Expected calibration error of binary probabilities.

    The probabilities of the positive class are put into ``n_bins`` equal-width
    bins; the error is the average, weighted by bin size, of the gap between
    the mean predicted probability and the share of positives in each bin. 0
    means that a predicted 80 % comes true 80 % of the time.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_proba : array-like of shape (n_samples,) or (n_samples, 2)
        Probability of ``pos_label``, or ``predict_proba``'s output with
        columns in sorted label order.
    n_bins : int, default=10
        Number of equal-width bins over [0, 1].
    pos_label : int or str, default=1
        The positive class (tumor).

    Returns
    -------
    float

    Examples
    --------
    >>> expected_calibration_error([0, 0, 1, 1], [0.2, 0.2, 0.8, 0.8])
    0.2
    >>> expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])
    0.0
    """
    if not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}")
    y_true = np.asarray(y_true).ravel()
    if len(np.unique(y_true)) > 2:
        raise ValueError("expected_calibration_error is for two classes (tumor / no tumor); "
                         f"y_true has {len(np.unique(y_true))}")
    proba = _positive_proba(y_proba, np.unique(y_true), pos_label)
    if len(proba) != len(y_true):
        raise ValueError(
            f"y_true and y_proba have different lengths: {len(y_true)} and {len(proba)}"
        )
    if len(y_true) == 0:
        raise ValueError("y_true is empty")
    positive = (y_true == pos_label).astype(np.float64)
    bins = np.minimum((proba * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        total += in_bin.sum() * abs(positive[in_bin].mean() - proba[in_bin].mean())
    return round(float(total / len(y_true)), 12)


def classification_scores(y_true, y_pred, y_proba=None, *, pos_label=1, n_bins=10,
                          labels=None):
    """The test scores of a classifier, as one dict (two classes or more).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes), default=None
        Two classes: the probability of ``pos_label``, or ``predict_proba``'s
        output with columns in sorted label order. More classes:
        ``predict_proba``'s output, columns in the order of ``labels``. Adds
        ``roc_auc`` (and, for two classes, ``brier`` and ``ece``).
    pos_label : int or str, default=1
        The positive class (tumor) of a two-class task, for precision,
        recall, F1 and the probability scores. Ignored for more classes.
    n_bins : int, default=10
        Bins of the expected calibration error.
    labels : array-like, default=None
        Every class, in the order of ``y_proba``'s columns (a model's
        ``classes_``); ``None`` takes the sorted labels seen. Give it when a
        test part may miss a class.

    Returns
    -------
    dict
        Two classes: ``accuracy``, ``balanced_accuracy``, ``precision``,
        ``recall``, ``f1`` (precision is 0 when nothing is predicted
        positive), and with ``y_proba`` also ``roc_auc`` (NaN when ``y_true``
        has one class), ``brier`` and ``ece``.

        More classes: ``accuracy``, ``balanced_accuracy``, ``f1_macro``,
        ``f1_weighted``, ``precision_macro``, ``recall_macro``, ``labels``,
        ``per_class`` (``{label: {"precision", "recall", "f1", "support"}}``)
        and ``confusion_matrix`` (rows: true, columns: predicted, in the
        order of ``labels``); with ``y_proba`` also ``roc_auc``, the
        unweighted mean of the one-vs-rest ROC AUCs of the classes present.

    Examples
    --------
    >>> scores = classification_scores([0, 0, 1, 1], [0, 1, 1, 1], [0.1, 0.6, 0.7, 0.9])
    >>> {name: round(value, 3) for name, value in scores.items()}
    {'accuracy': 0.75, 'balanced_accuracy': 0.75, 'precision': 0.667, 'recall': 1.0, \
'f1': 0.8, 'roc_auc': 1.0, 'brier': 0.118, 'ece': 0.275}
    >>> scores = classification_scores(["a", "b", "c", "c"], ["a", "b", "c", "b"])
    >>> round(scores["f1_macro"], 3), scores["confusion_matrix"]
    (0.778, [[1, 0, 0], [0, 1, 0], [0, 1, 1]])
    """
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred have different lengths: {len(y_true)} and {len(y_pred)}"
        )
    if len(y_true) == 0:
        raise ValueError("y_true is empty")
    seen = np.unique(np.concatenate([y_true, y_pred]))
    if labels is None:
        labels = seen
    else:
        labels = np.asarray(labels).ravel()
        missing = np.setdiff1d(seen, labels)
        if len(missing):
            raise ValueError(f"labels {missing.tolist()} are not among labels={labels.tolist()}")
    proba_columns = np.ndim(y_proba) == 2 and np.shape(y_proba)[1] > 2
    if len(labels) > 2 or proba_columns:
        return _multiclass_scores(y_true, y_pred, y_proba, labels)
    if pos_label not in labels.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} is not among the labels {labels.tolist()}"
        )
    scores = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        # Mean recall over the classes present: balanced_accuracy_score, minus its warning
        # for a one-class test part.
        "balanced_accuracy": float(recall_score(y_true, y_pred, labels=np.unique(y_true),
                                                average="macro", zero_division=0)),
        "precision": float(precision_score(y_true, y_pred, pos_label=pos_label,
                                           zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, pos_label=pos_label, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, pos_label=pos_label, zero_division=0)),
    }
    if y_proba is None:
        return scores
    proba = _positive_proba(y_proba, labels, pos_label)
    if len(proba) != len(y_true):
        raise ValueError(
            f"y_true and y_proba have different lengths: {len(y_true)} and {len(proba)}"
        )
    positive = y_true == pos_label
    if positive.all() or not positive.any():
        scores["roc_auc"] = float("nan")
    else:
        scores["roc_auc"] = float(roc_auc_score(positive, proba))
    scores["brier"] = float(np.mean((proba - positive) ** 2))
    scores["ece"] = expected_calibration_error(positive, proba, n_bins, pos_label=True)
    return scores


def _multiclass_scores(y_true, y_pred, y_proba, labels):
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    present = support > 0
    scores = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(recall[present].mean()),
        "f1_macro": float(f1[present].mean()),
        "f1_weighted": float(np.average(f1, weights=support)),
        "precision_macro": float(precision[present].mean()),
        "recall_macro": float(recall[present].mean()),
    }
    if y_proba is not None:
        proba = np.asarray(y_proba, dtype=np.float64)
        if proba.shape != (len(y_true), len(labels)):
            raise ValueError(
                f"y_proba must have shape (n_samples, n_classes) = ({len(y_true)}, "
                f"{len(labels)}) with columns in the order of labels; got {proba.shape}")
        # One-vs-rest per class present, so a test part that misses a class still scores.
        aucs = [roc_auc_score(y_true == label, proba[:, k]) for k, label in enumerate(labels)
                if 0 < np.sum(y_true == label) < len(y_true)]
        scores["roc_auc"] = float(np.mean(aucs)) if aucs else float("nan")
    label_list = [v.item() if isinstance(v, np.generic) else v for v in labels]
    scores["labels"] = label_list
    scores["per_class"] = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
        for label, p, r, f, n in zip(label_list, precision, recall, f1, support, strict=True)}
    scores["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return scores


def is_multiclass(y):
    """True when ``y`` holds more than two classes.

    Examples
    --------
    >>> is_multiclass([0, 1, 1]), is_multiclass(["glioma", "notumor", "pituitary"])
    (False, True)
    """
    return len(np.unique(np.asarray(y))) > 2


def default_scoring(y):
    """The default scorer name for labels ``y``: ``"f1"`` for two classes, else ``"f1_macro"``.

    Examples
    --------
    >>> default_scoring([0, 1]), default_scoring([0, 1, 2])
    ('f1', 'f1_macro')
    """
    return "f1_macro" if is_multiclass(y) else "f1"


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
        ``scores`` (:func:`classification_scores`, with balanced accuracy
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


# ---------------------------------------------------------------------- table
def _is_missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def _decimals(mean, metric):
    if metric.endswith("_seconds"):
        return 2 if _is_missing(mean) or abs(mean) < 10 else 1
    return 3


def _format_cell(mean, std, metric):
    if _is_missing(mean):
        return "n/a"
    decimals = _decimals(mean, metric)
    cell = f"{mean:.{decimals}f}"
    if not _is_missing(std):
        cell += f" ± {std:.{decimals}f}"
    return cell


class ResultsTable:
    """Per-split results of several models, summarised as mean ± sd.

    Parameters
    ----------
    records : list of dict
        One dict per model and split, with a ``"model"`` key and one numeric
        entry per metric (``compare_models`` adds ``"split"``, ``"n_train"``,
        ``"n_test"`` and the timings).
    metrics : sequence of str, default=None
        The metrics to summarise and show, in order; ``None`` takes
        :data:`DEFAULT_METRICS` that appear in the records (for records of
        more than two classes, with ``f1_macro`` and no ``f1``,
        :data:`MULTICLASS_METRICS`).

    Attributes
    ----------
    records : list of dict
        The per-split results, as given.
    metrics : tuple of str
    models : list of str
        Model names in order of first appearance.
    rows : list of dict
        One summary per model: ``model``, ``n_splits`` and
        ``<metric>_mean`` / ``<metric>_std`` (sample standard deviation,
        ``ddof=1``; NaN with one split). Splits where a metric is NaN (ROC
        AUC of a one-class test set) are left out of its mean.

    Examples
    --------
    >>> table = ResultsTable([
    ...     {"model": "wide", "split": 0, "f1": 0.80, "fit_seconds": 12.0},
    ...     {"model": "wide", "split": 1, "f1": 0.90, "fit_seconds": 14.0},
    ...     {"model": "simple", "split": 0, "f1": 0.70, "fit_seconds": 3.0},
    ...     {"model": "simple", "split": 1, "f1": 0.74, "fit_seconds": 3.2},
    ... ])
    >>> print(table)
    model   F1             fit (s)
    ------  -------------  -----------
    wide    0.850 ± 0.071  13.0 ± 1.4
    simple  0.720 ± 0.028  3.10 ± 0.14
    (mean ± sd over 2 splits)
    >>> print(table.to_markdown())
    | model | F1 | fit (s) |
    |:--|--:|--:|
    | wide | 0.850 ± 0.071 | 13.0 ± 1.4 |
    | simple | 0.720 ± 0.028 | 3.10 ± 0.14 |
    >>> round(table.rows[1]["f1_mean"], 3)
    0.72
    """

    def __init__(self, records, *, metrics=None):
        self.records = [dict(r) for r in records]
        if not self.records:
            raise ValueError("records is empty")
        if any("model" not in r for r in self.records):
            raise ValueError("every record needs a 'model' key")
        if metrics is None:
            present = set().union(*self.records)
            multiclass = "f1_macro" in present and "f1" not in present
            metrics = [m for m in (MULTICLASS_METRICS if multiclass else DEFAULT_METRICS)
                       if m in present]
        self.metrics = tuple(metrics)
        self.models = list(dict.fromkeys(str(r["model"]) for r in self.records))

    @property
    def rows(self):
        rows = []
        for model in self.models:
            mine = [r for r in self.records if str(r["model"]) == model]
            row = {"model": model, "n_splits": len(mine)}
            for metric in self.metrics:
                values = np.array(
                    [np.nan if _is_missing(r.get(metric)) else float(r[metric]) for r in mine]
                )
                values = values[~np.isnan(values)]
                row[f"{metric}_mean"] = float(values.mean()) if len(values) else float("nan")
                row[f"{metric}_std"] = (
                    float(values.std(ddof=1)) if len(values) > 1 else float("nan")
                )
            rows.append(row)
        return rows

    def summary(self, metric):
        """Return ``{model: (mean, sd)}`` for one metric."""
        if metric not in self.metrics:
            raise ValueError(f"metric must be one of {list(self.metrics)}; got {metric!r}")
        return {
            row["model"]: (row[f"{metric}_mean"], row[f"{metric}_std"]) for row in self.rows
        }

    def sort_by(self, metric, *, descending=True):
        """Return a new table with the models ordered by a metric's mean."""
        means = {model: mean for model, (mean, _) in self.summary(metric).items()}

        def key(model):
            value = means[model]
            return (math.isnan(value), -value if descending else value)

        order = {model: i for i, model in enumerate(sorted(self.models, key=key))}
        records = sorted(self.records, key=lambda r: order[str(r["model"])])
        return ResultsTable(records, metrics=self.metrics)

    def _cells(self):
        header = ["model"] + [METRIC_LABELS.get(m, m) for m in self.metrics]
        body = []
        for row in self.rows:
            cells = [row["model"]]
            for metric in self.metrics:
                cells.append(_format_cell(row[f"{metric}_mean"], row[f"{metric}_std"], metric))
            body.append(cells)
        return header, body

    def __str__(self):
        header, body = self._cells()
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

        def line(cells):
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        lines = [line(header), line(["-" * w for w in widths])] + [line(r) for r in body]
        n_splits = {row["n_splits"] for row in self.rows}
        if max(n_splits) > 1:
            count = n_splits.pop() if len(n_splits) == 1 else "several"
            lines.append(f"(mean ± sd over {count} splits)")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_markdown_(self):  # rendered by Jupyter
        return self.to_markdown()

    def to_markdown(self, path=None):
        """The summary as a GitHub Markdown table (written to ``path`` if given)."""
        header, body = self._cells()
        lines = [
            "| " + " | ".join(header) + " |",
            "|:--|" + "--:|" * (len(header) - 1),
        ] + ["| " + " | ".join(cells) + " |" for cells in body]
        return self._emit("\n".join(lines) + "\n", path).rstrip("\n")

    def to_csv(self, path=None):
        """The summary rows as CSV, one row per model (written to ``path`` if given).

        Columns: ``model``, ``n_splits``, then ``<metric>_mean`` and
        ``<metric>_std`` per metric; NaN is an empty cell.
        """
        rows = self.rows
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if _is_missing(v) else v for k, v in row.items()})
        return self._emit(out.getvalue(), path)

    def save(self, folder, stem, *, formats=("csv", "md", "json"), figure=None):
        """Write the table as ``<stem>.<format>`` files (and ``figure`` as ``<stem>.png``).

        Parameters
        ----------
        folder : str or path-like
            Created if needed.
        stem : str
            File name without the suffix, e.g. ``"comparison"``.
        formats : iterable of {"csv", "md", "json"}, default=("csv", "md", "json")
        figure : matplotlib Figure, default=None
            Saved too (:func:`skbrain.persistence.save_figure`).

        Returns
        -------
        list of str
            The file names written, in order.
        """
        from ._fileio import save_figure

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        writers = {"csv": self.to_csv, "md": self.to_markdown, "json": self.to_json}
        names = []
        for suffix in formats:
            writers[suffix](folder / f"{stem}.{suffix}")
            names.append(f"{stem}.{suffix}")
        if figure is not None:
            save_figure(figure, folder / f"{stem}.png")
            names.append(f"{stem}.png")
        return names

    def to_json(self, path=None):
        """``{"metrics", "rows", "records"}`` as JSON text, NaN as ``null``."""

        def clean(value):
            if isinstance(value, dict):
                return {str(k): clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            if isinstance(value, np.generic):
                value = value.item()
            return None if _is_missing(value) else value

        data = clean({"metrics": list(self.metrics), "rows": self.rows,
                      "records": self.records})
        return self._emit(json.dumps(data, indent=2) + "\n", path)

    @classmethod
    def read_json(cls, path):
        """Rebuild a table from a file written by :meth:`to_json`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        records = [
            {k: float("nan") if v is None else v for k, v in record.items()}
            for record in data["records"]
        ]
        return cls(records, metrics=data["metrics"])

    def to_pandas(self, *, records=False):
        """The summary rows (or every record) as a :class:`pandas.DataFrame`."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("ResultsTable.to_pandas needs pandas: pip install pandas") from None
        return pd.DataFrame(self.records if records else self.rows)

    @staticmethod
    def _emit(text, path):
        if path is not None:
            with atomic_write(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        return text


def scores_table(name, scores, metrics=None, *, class_names=None):
    """Scores of one model as printed text; for more classes also one row per class.

    Parameters
    ----------
    name : str
        The model's name, the first cell.
    scores : dict
        As :func:`classification_scores` returns them.
    metrics : sequence of str, default=None
        Columns; ``None``: :data:`DEFAULT_METRICS` (two classes) or
        :data:`MULTICLASS_METRICS`, without the timings.
    class_names : dict, default=None
        Label (or its string) to name, for the per-class rows.

    Returns
    -------
    str

    Examples
    --------
    >>> print(scores_table("wide", classification_scores([0, 1, 1], [0, 1, 0])))
    model  accuracy  precision  recall  F1
    -----  --------  ---------  ------  -----
    wide   0.667     1.000      0.500   0.667
    """
    multiclass = "per_class" in scores
    if multiclass or metrics is None:
        metrics = MULTICLASS_METRICS if multiclass else DEFAULT_METRICS
    text = str(ResultsTable([{"model": name, **scores}],
                            metrics=[m for m in metrics if m in scores]))
    if multiclass:
        names = class_names or {}
        rows = [{"model": str(names.get(str(k), names.get(k, k))), **v}
                for k, v in scores["per_class"].items()]
        per_class = ResultsTable(rows, metrics=["precision", "recall", "f1"])
        text += "\n\n" + str(per_class).replace("model", "class", 1)
    return text


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
                hits = np.flatnonzero(classes == self.pos_label)
                proba = proba[:, hits[0] if len(hits) else -1]
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
    side and scored on its test side with :func:`classification_scores`,
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
        splits of ``test_size`` (:class:`StratifiedGroupShuffleSplit`). An
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
        :data:`DEFAULT_METRICS` for two classes, :data:`MULTICLASS_METRICS`
        for more.
    pos_label : int or str, default=1
        The positive class (tumor) of a two-class task.
    verbose : int, default=0
        1 prints one line per fit.
    n_jobs : int, default=None
        Splits fitted in parallel (``cross_validate``'s ``n_jobs``).

    Returns
    -------
    ResultsTable

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
