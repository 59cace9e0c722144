"""Scores and scorers, for two classes (tumor / no tumor) or more.

* :func:`classification_scores` gives the study's four test scores (accuracy,
  precision, recall, F1) plus balanced accuracy, ROC AUC, the Brier score and
  the expected calibration error when probabilities are given; for more than
  two classes macro and weighted F1, per-class precision and recall,
  one-vs-rest ROC AUC and the confusion matrix.
* :func:`expected_calibration_error` says how far predicted probabilities are
  from the observed frequencies.
* :func:`binary_scoring` turns metric names into scikit-learn scorers that
  know which label is the positive one, so ``"f1"`` works with
  ``"yes"``/``"no"`` labels.
* :func:`is_multiclass` and :func:`default_scoring` pick the two-class or
  multi-class variant; :data:`DEFAULT_METRICS`, :data:`MULTICLASS_METRICS`
  and :data:`METRIC_LABELS` name the summary columns of result tables.

The positive class is the one of :mod:`skbrain._positive`: label 1 when it is
one, else the later of the sorted labels.
"""

import numbers

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    get_scorer,
    jaccard_score,
    make_scorer,
    precision_score,
    recall_score,
    roc_auc_score,
)

from ._positive import positive_column, positive_label

__all__ = [
    "DEFAULT_METRICS",
    "METRIC_LABELS",
    "MULTICLASS_METRICS",
    "binary_scoring",
    "classification_scores",
    "default_scoring",
    "expected_calibration_error",
    "is_multiclass",
]

#: The summary columns for two classes.
DEFAULT_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "fit_seconds")
#: The summary columns for more than two classes.
MULTICLASS_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted", "roc_auc",
                      "fit_seconds")

#: Column titles of the metrics in printed tables.
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


# ----------------------------------------------------------------------- scorers
_LABEL_METRICS = {
    "f1": f1_score,
    "recall": recall_score,
    "precision": precision_score,
    "jaccard": jaccard_score,
}


def _positive_label(y, pos_label):
    classes = np.unique(np.asarray(y))
    if pos_label is not None:
        if pos_label not in classes.tolist():
            raise ValueError(
                f"pos_label={pos_label!r} is not a label of y (labels: {classes.tolist()})"
            )
        return pos_label
    if len(classes) != 2:
        raise ValueError(
            f"binary_scoring needs two classes in y; got {len(classes)}: {classes.tolist()}"
        )
    return positive_label(classes)


def binary_scoring(scoring, y, pos_label=None):
    """Turn metric names into scorers that know the positive label.

    sklearn's ``"f1"``, ``"recall"`` and ``"precision"`` scorers assume the
    positive label is ``1``, so they fail on ``"yes"``/``"no"`` labels.
    ``"roc_auc"`` needs no positive label: it scores the probability of the
    larger label (``classes_[1]``). This function builds the label-based ones
    with an explicit ``pos_label``; other names go to
    :func:`sklearn.metrics.get_scorer` unchanged.

    Parameters
    ----------
    scoring : str, callable, list, tuple or dict
        A metric name or scorer, or several (a dict maps names to names or
        scorers).
    y : array-like of shape (n_samples,)
        The labels the search will see.
    pos_label : label, default=None
        The positive class; ``None`` means label ``1`` when it is one, else the
        larger of the two labels (``"yes"`` for ``"no"``/``"yes"``, ``"tumor"``
        for ``"no_tumor"``/``"tumor"``), the rule every skbrain tool follows.

    Returns
    -------
    scorer or dict of scorers
        One scorer for one name, otherwise ``{name: scorer}``.

    Examples
    --------
    >>> from skbrain.metrics import binary_scoring
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = [[0], [0], [0]], ["no", "yes", "yes"]
    >>> scorers = binary_scoring(["f1", "roc_auc"], y)
    >>> sorted(scorers)
    ['f1', 'roc_auc']
    >>> always_yes = DummyClassifier(strategy="constant", constant="yes").fit(X, y)
    >>> round(scorers["f1"](always_yes, X, y), 2)
    0.8
    """
    if scoring is None:
        return None

    def build(item):
        if callable(item):
            return item
        if item in _LABEL_METRICS:
            return make_scorer(_LABEL_METRICS[item], pos_label=_positive_label(y, pos_label))
        if item == "average_precision":
            return make_scorer(
                average_precision_score,
                response_method="predict_proba",
                pos_label=_positive_label(y, pos_label),
            )
        return get_scorer(item)

    if isinstance(scoring, dict):
        return {name: build(item) for name, item in scoring.items()}
    if isinstance(scoring, (list, tuple, set)):
        return {name: build(name) for name in scoring}
    return build(scoring)
