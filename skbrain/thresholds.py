"""Recall-first decision thresholds for tumor / no-tumor models.

A screening model should miss few tumors. :func:`tune_threshold_for_recall`
chooses, by grouped cross-validation on the training images only, the highest
tumor-probability threshold whose recall stays at or above a floor, refits the
model on all of them and returns it wrapped in scikit-learn's
:class:`~sklearn.model_selection.FixedThresholdClassifier` at that threshold.
:func:`threshold_report` then gives the test precision and recall at the
default 0.5 decision and at the chosen threshold. ``skbrain train --min-recall``
is these two calls.
"""

import numbers

import numpy as np

__all__ = [
    "decide_at",
    "describe_threshold",
    "min_recall_score",
    "threshold_report",
    "tune_threshold_for_recall",
]


def min_recall_score(y_true, y_pred, *, min_recall, pos_label=1):
    """Objective whose best threshold is the highest one keeping recall >= ``min_recall``.

    Thresholds that keep the recall floor score 1 plus the share of images
    called negative (which only grows with the threshold); the others score
    their recall minus 1, so the floor always wins and, where no threshold
    reaches it, the closest one does. Use it through
    :func:`sklearn.metrics.make_scorer` in
    :class:`~sklearn.model_selection.TunedThresholdClassifierCV`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    min_recall : float
        The recall floor, in (0, 1].
    pos_label : int or str, default=1
        The positive class (tumor).

    Returns
    -------
    float
        In [-1, 0) below the floor, in [1, 2] at or above it.

    Examples
    --------
    >>> min_recall_score([1, 1, 0, 0], [1, 1, 0, 1], min_recall=1.0)
    1.25
    >>> min_recall_score([1, 1, 0, 0], [1, 0, 0, 0], min_recall=1.0)
    -0.5
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    positive = y_true == pos_label
    recall = float(np.mean(y_pred[positive] == pos_label)) if positive.any() else 1.0
    if recall + 1e-12 < min_recall:
        return recall - 1.0
    return 1.0 + float(np.mean(y_pred != pos_label))


def decide_at(model, threshold, *, pos_label=None):
    """A fitted binary classifier that decides at ``threshold`` of its probability.

    Wraps ``model`` in :class:`~sklearn.model_selection.FixedThresholdClassifier`
    around :class:`~sklearn.frozen.FrozenEstimator`, so it is never trained
    again: ``predict`` gives ``pos_label`` where ``predict_proba`` for it is at
    least ``threshold``, and :func:`skbrain.save_model` keeps the threshold.

    Parameters
    ----------
    model : fitted classifier
        Two classes, with ``predict_proba`` and ``classes_``.
    threshold : float
        The probability of ``pos_label`` from which it is predicted.
    pos_label : int or str, default=None
        The positive class (tumor), one of ``model.classes_``; ``None`` is
        the second of them, as in scikit-learn.

    Returns
    -------
    FixedThresholdClassifier
        Fitted; ``estimator_.estimator`` is ``model`` itself.

    Raises
    ------
    ValueError
        If ``model`` is not a fitted two-class classifier or ``pos_label`` is
        not one of its classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> model = decide_at(LogisticRegression().fit(X, y), 0.9)
    >>> model.threshold, model.predict(X).tolist()
    (0.9, [0, 0, 0, 0])
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier

    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2:
        raise ValueError("model: deciding at a threshold needs a fitted two-class classifier; "
                         f"got {type(model).__name__} with classes {classes!r}")
    if pos_label is not None and pos_label not in list(classes):
        raise ValueError(f"pos_label {pos_label!r} is not one of the model's classes "
                         f"{list(classes)}")
    # A frozen fit neither trains nor reads X (classes_ comes from the model), so the
    # model's own classes stand in for labels and one zero feature each for images.
    return FixedThresholdClassifier(FrozenEstimator(model), threshold=float(threshold),
                                    response_method="predict_proba",
                                    pos_label=pos_label).fit(np.zeros((2, 1)), classes)


def _check_two_classes(y, what):
    classes = np.unique(np.asarray(y))
    if len(classes) != 2:
        raise ValueError(f"{what} is for two classes (tumor / no tumor); the labels have "
                         f"{len(classes)}: {classes.tolist()}")


def tune_threshold_for_recall(estimator, X, y, groups=None, *, min_recall, cv=3,
                              random_state=0, pos_label=1, thresholds=200):
    """Choose the decision threshold for a recall floor by grouped cross-validation.

    Parameters
    ----------
    estimator : classifier
        An unfitted binary classifier with ``predict_proba``.
    X, y : array-like
        The training images and labels (two classes).
    groups : array-like of shape (n_samples,), default=None
        Duplicate-group ids; each group stays in one fold.
    min_recall : float
        The recall floor, in (0, 1].
    cv : int or iterable of (train, test) index arrays, default=3
        Folds of :class:`~sklearn.model_selection.StratifiedGroupKFold`, or
        the splits themselves (``groups`` and ``random_state`` then unused),
        e.g. to keep images out of every test part.
    random_state : int, default=0
        Seeds the fold shuffle.
    pos_label : int or str, default=1
        The positive class (tumor).
    thresholds : int, default=200
        Candidate thresholds tried.

    Returns
    -------
    model : FixedThresholdClassifier
        The estimator refitted on all of ``X``, frozen, deciding at the
        chosen threshold.
    summary : dict
        ``min_recall``, ``threshold``, ``cv``, ``cv_reaches_min_recall``
        (False when no threshold reached the floor and the closest was
        taken) and ``method``.

    Raises
    ------
    ValueError
        If ``y`` does not hold two classes, the folds cannot be made, or the
        cross-validated models predict one probability for every image.
    """
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import TunedThresholdClassifierCV

    from .model_selection import grouped_cv

    _check_two_classes(y, "min_recall")
    if isinstance(cv, numbers.Integral):
        folds = grouped_cv(cv, random_state=random_state)
        splits = list(folds.split(X, y, groups if groups is not None else np.arange(len(y))))
    else:
        splits = list(cv)
    scorer = make_scorer(min_recall_score, min_recall=min_recall, pos_label=pos_label)
    tuned = TunedThresholdClassifierCV(estimator, scoring=scorer, thresholds=thresholds,
                                       response_method="predict_proba", cv=splits, refit=True)
    try:
        tuned.fit(X, y)
    except ValueError as exc:
        if "constant predictions" in str(exc):
            raise ValueError("the cross-validated models predict the same probability for "
                             "every image, so no threshold can be chosen; train longer "
                             "(max_epochs)") from None
        raise
    threshold = float(tuned.best_threshold_)
    fixed = decide_at(tuned.estimator_, threshold, pos_label=pos_label)
    summary = {"min_recall": min_recall, "threshold": threshold, "cv": len(splits),
               "cv_reaches_min_recall": bool(tuned.best_score_ >= 1.0),
               "method": "TunedThresholdClassifierCV, grouped StratifiedGroupKFold on the "
                         "training images; the highest threshold whose recall >= min_recall"}
    return fixed, summary


def threshold_report(model, X_test, y_test, summary, *, pos_label=1):
    """Test precision and recall at the default decision and at the tuned threshold.

    Parameters
    ----------
    model : FixedThresholdClassifier
        As returned by :func:`tune_threshold_for_recall`.
    X_test, y_test : array-like
        Test images and labels.
    summary : dict
        Its summary; the test figures are added to it.

    Returns
    -------
    dict
        ``summary`` with ``test_default`` and ``test_threshold`` (precision
        and recall each) and ``precision_cost``.
    """
    from .evaluation import classification_scores

    base = model.estimator_.estimator
    default = classification_scores(y_test, base.predict(X_test), pos_label=pos_label)
    tuned = classification_scores(y_test, model.predict(X_test), pos_label=pos_label)
    summary["test_default"] = {k: default[k] for k in ("precision", "recall")}
    summary["test_threshold"] = {k: tuned[k] for k in ("precision", "recall")}
    summary["precision_cost"] = default["precision"] - tuned["precision"]
    return summary


def describe_threshold(summary):
    """One line on a threshold chosen for recall and what it costs on the test images.

    Parameters
    ----------
    summary : dict
        As :func:`threshold_report` completes it.

    Returns
    -------
    str
    """
    t = summary
    return (f"threshold {t['threshold']:.4f} (recall >= {t['min_recall']:g} in {t['cv']}-fold "
            "grouped CV on the training images"
            + ("" if t["cv_reaches_min_recall"] else "; not reached, closest taken")
            + f"): test recall {t['test_default']['recall']:.3f} -> "
            f"{t['test_threshold']['recall']:.3f}, precision "
            f"{t['test_default']['precision']:.3f} -> {t['test_threshold']['precision']:.3f} "
            f"(costs {t['precision_cost']:+.3f}) against the default 0.5 decision")
