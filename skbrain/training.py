"""Train one model and test it: the steps behind ``skbrain train``, for a notebook too.

:func:`fit_and_test` fits an estimator on training images (after an optional
grouped hyperparameter search, and an optional recall-first threshold) and
scores it on test images, which may come from the same folder or from another
collection. :func:`check_binary_options` refuses, before any training starts,
an option that only has a meaning for two classes.
"""

import time

import numpy as np
from sklearn.utils import Bunch

from .evaluation import classification_scores, is_multiclass, predict_with_proba

__all__ = ["build_estimator", "check_binary_options", "fit_and_test"]


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
    cv : int, default=3
        Folds of the search and of the threshold choice.
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
