"""The positive class of a two-class model: one rule, for every tool.

Label ``1`` when it is one of the classes (the tumor label of skbrain's
loaders), else the later of the sorted classes (scikit-learn's
``classes_[1]``, so ``"yes"`` over ``"no"``). Scores, thresholds, searches,
figures, model cards and predictions all ask :func:`positive_label` or
:func:`positive_column`, so they agree on which probability is the tumor's.
"""

import numpy as np

__all__ = ["positive_column", "positive_label", "positive_proba"]


def _as_list(classes):
    return list(np.asarray(classes).tolist())


def positive_label(classes):
    """The positive class among ``classes``: 1 when it is a label, else the later class.

    Examples
    --------
    >>> positive_label([0, 1]), positive_label(["no", "yes"]), positive_label([1, 2])
    (1, 'yes', 1)
    """
    classes = _as_list(classes)
    return 1 if 1 in classes else sorted(classes)[-1]


def positive_column(classes, pos_label=None):
    """Index of ``pos_label`` (default: :func:`positive_label`) among ``classes``.

    ``classes`` are the columns of ``predict_proba`` (a fitted model's
    ``classes_``).

    Examples
    --------
    >>> positive_column(["no", "yes"]), positive_column([1, 2]), positive_column([0, 1], 0)
    (1, 0, 0)
    """
    classes = _as_list(classes)
    if pos_label is None:
        pos_label = positive_label(classes)
    label = pos_label.item() if hasattr(pos_label, "item") else pos_label
    if label not in classes:
        raise ValueError(f"pos_label {pos_label!r} is not one of the classes {classes}")
    return classes.index(label)


def positive_proba(proba, classes, pos_label=None):
    """The positive class's column of ``predict_proba``'s output, shape (n_samples,).

    Examples
    --------
    >>> positive_proba([[0.8, 0.2], [0.3, 0.7]], ["tumor", "yes"])
    array([0.2, 0.7])
    """
    return np.asarray(proba)[:, positive_column(classes, pos_label)]
