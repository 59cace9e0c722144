"""Hyperparameter and architecture search with plain scikit-learn.

Everything here feeds or reads a :class:`~sklearn.model_selection.RandomizedSearchCV`
(or any ``*SearchCV``); skbrain adds no search class of its own:

- :func:`default_search_space` gives each estimator's shipped distributions,
  keyed by its own flat parameter names (``cnn__n_kernels`` inside a
  :class:`~sklearn.pipeline.Pipeline`).
- :func:`~skbrain.model_selection.grouped_cv` is the leak-free splitter:
  stratified, and every group of duplicate images (``load_brain_mri().groups``)
  on one side of each split.
- :func:`~skbrain.metrics.binary_scoring` turns metric names into scorers that
  know which label is the positive one, so ``"f1"`` works with ``"yes"``/``"no"``.
- :func:`run_search` wires these together, locally or on a Dask cluster
  (``scheduler="tcp://host:8786"``, ``pip install skbrain[distributed]``; the user
  guide's *Distributed training and search* shows each setup, several GPUs included).
  Several jobs on one GPU get a warning (:func:`check_n_jobs_device`).
- :func:`search_report` and :func:`architecture_scores` read a fitted search
  as a ranked table; :func:`skbrain.plotting.plot_search` draws the score
  against each hyperparameter.

Architecture as a hyperparameter
--------------------------------
:class:`~skbrain.CNNClassifier` takes ``architecture`` as a parameter, so the
study's wide / deep / pyramid comparison is one search::

    RandomizedSearchCV(CNNClassifier(), {"architecture": ["wide", "deep", "pyramid"], ...})

and :func:`architecture_scores` summarises it per architecture.

Leak-free cross-validation
--------------------------
The brain MRI set holds near-duplicate images; a split that puts one copy in
training and another in validation overstates every score. Pass the groups::

    data = load_brain_mri()
    search.fit(X, data.target, groups=data.groups)   # with cv=grouped_cv(3, random_state=0)

Each fold fits a fresh :func:`~sklearn.base.clone` of the estimator; a clone
of a skbrain estimator carries its hyperparameters only, never ``net_``.
"""

import math
import numbers
import warnings
from contextlib import nullcontext

import numpy as np
from joblib import effective_n_jobs
from scipy.stats import loguniform, randint, uniform
from sklearn.base import clone
from sklearn.model_selection import RandomizedSearchCV
from sklearn.utils.validation import check_is_fitted

from ._base import BaseCNNClassifier
from ._live import LiveNames
from .metrics import binary_scoring, default_scoring
from .model_selection import _resolve_cv, grouped_cv  # noqa: F401
from .networks import ARCHITECTURE_SPECS
from .tables import ResultsTable

__all__ = [
    "STUDY_ARCHITECTURES",
    "architecture_scores",
    "check_n_jobs_device",
    "default_search_space",
    "run_search",
    "search_best_estimator",
    "search_report",
]

STUDY_ARCHITECTURES = LiveNames(
    lambda: [name for name, spec in ARCHITECTURE_SPECS.items() if spec.study])
"""The architectures the study compared (and any registered with ``study=True``): the
default space of ``architecture``, read at each use."""


# ---------------------------------------------------------------- search spaces
def _hand_made_space(params, architecture):
    # Each architecture's layer ranges are in its catalogue entry: a tuple is
    # an integer range, both ends included, a list the values to choose from.
    space = {
        name: randint(values[0], values[1] + 1) if isinstance(values, tuple) else list(values)
        for name, values in ARCHITECTURE_SPECS[architecture].search.items()
    }
    space.update(
        {
            "n_kernels_2": randint(25, 76),
            "dropout": uniform(0.0, 0.9),
            "max_epochs": randint(5, 41),
            "batch_size": randint(3, 33),
            "lr": loguniform(1e-4, 3e-2),
        }
    )
    if "architecture" in params:
        space["architecture"] = list(STUDY_ARCHITECTURES)
    return space


def _pretrained_space(params):
    freeze = params.get("freeze")
    if isinstance(freeze, bool):
        freeze_values = [True, False]
    else:
        freeze_values = ["backbone", "none", 1, 2]
    return {
        "lr": loguniform(1e-5, 1e-2),
        "freeze": freeze_values,
        "dropout": uniform(0.0, 0.7),
        "max_epochs": randint(3, 31),
        "batch_size": randint(4, 33),
    }


def default_search_space(estimator, step=None):
    """The shipped search space of a skbrain estimator.

    Parameters
    ----------
    estimator : skbrain estimator or Pipeline
        The estimator to tune, or a :class:`~sklearn.pipeline.Pipeline` that
        contains one.
    step : str, default=None
        Name of the pipeline step to tune; ``None`` means the pipeline's last
        step. The keys are then prefixed ``"<step>__"``. Only valid with a
        pipeline.

    Returns
    -------
    dict
        ``{parameter name: scipy.stats distribution or list}``, ready for
        :class:`~sklearn.model_selection.RandomizedSearchCV`. Only parameters
        the estimator has are included. The hand-made nets search
        ``n_kernels`` 25-75 (8-48 for the compact net), ``kernel_size``
        1/3/5/7 (3/5 for the compact net), ``n_kernels_2`` 25-75 where it
        exists, ``pool_size`` 2-8 (2-4 for the compact net), ``dropout``
        0-0.9, ``max_epochs`` 5-40, ``batch_size`` 3-32, ``lr`` log-uniform
        1e-4-3e-2 and, for
        :class:`~skbrain.CNNClassifier`, ``architecture`` over
        :data:`STUDY_ARCHITECTURES`. The pretrained nets search ``lr``
        log-uniform 1e-5-1e-2, ``freeze``, head ``dropout`` 0-0.7,
        ``max_epochs`` 3-30 and ``batch_size`` 4-32.

    Raises
    ------
    TypeError
        If skbrain ships no space for the estimator, or ``step`` is given
        for something that is not a pipeline.
    ValueError
        If the pipeline has no step called ``step``.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from skbrain import WideCNNClassifier
    >>> from skbrain.search import default_search_space
    >>> sorted(default_search_space(WideCNNClassifier()))
    ['batch_size', 'dropout', 'kernel_size', 'lr', 'max_epochs', 'n_kernels', 'pool_size']
    >>> pipe = Pipeline([("cnn", WideCNNClassifier())])
    >>> sorted(default_search_space(pipe, step="cnn"))[:3]
    ['cnn__batch_size', 'cnn__dropout', 'cnn__kernel_size']
    """
    prefix = ""
    target = estimator
    if hasattr(estimator, "named_steps"):
        names = list(estimator.named_steps)
        if step is None:
            step = names[-1]
        if step not in estimator.named_steps:
            raise ValueError(
                f"step={step!r} is not a step of the pipeline; its steps are {names}"
            )
        target = estimator.named_steps[step]
        prefix = f"{step}__"
    elif step is not None:
        raise TypeError(
            f"step={step!r} names a pipeline step, but the estimator is a "
            f"{type(estimator).__name__}, not a Pipeline"
        )

    if not isinstance(target, BaseCNNClassifier):
        raise TypeError(
            f"skbrain has no search space for {type(target).__name__}; "
            "default_search_space knows skbrain's classifiers. Pass your own "
            "param_distributions to RandomizedSearchCV instead"
        )
    params = target.get_params(deep=False)
    if "n_kernels" in params:
        architecture = getattr(target, "_architecture", None) or params.get("architecture")
        if architecture not in ARCHITECTURE_SPECS:
            architecture = "wide"  # the study's ranges, which every architecture accepts
        space = _hand_made_space(params, architecture)
    elif "freeze" in params or "pretrained" in params:
        space = _pretrained_space(params)
    else:
        raise TypeError(
            f"skbrain has no search space for {type(target).__name__}: it has neither the "
            "hand-made nets' n_kernels nor the pretrained nets' freeze parameter"
        )
    return {prefix + name: dist for name, dist in space.items() if name in params}


# --------------------------------------------------------------------- devices
def check_n_jobs_device(n_jobs, device):
    """Warn when several jobs would train on one GPU at the same time.

    Parameters
    ----------
    n_jobs : int or None
        The search's ``n_jobs`` (``None``: 1, ``-1``: every core).
    device : str
        The estimator's ``device`` (``"auto"``, ``"cuda"``, ``"cuda:1"``,
        ``"cpu"``...).

    Returns
    -------
    bool
        True when it warned.

    Warns
    -----
    UserWarning
        When more than one job would run and the device is a GPU: every job
        uses the same card (``"cuda"`` means the first visible one), holds its
        own CUDA context and shares its memory. The search still runs.

    Examples
    --------
    >>> from skbrain.search import check_n_jobs_device
    >>> check_n_jobs_device(4, "cpu")
    False
    """
    device = "auto" if device is None else str(device)
    if device == "auto":
        import torch

        on_gpu = torch.cuda.is_available()
        device = "cuda" if on_gpu else "cpu"
    else:
        on_gpu = device.startswith("cuda")
    if not on_gpu:
        return False
    jobs = effective_n_jobs(n_jobs)
    if jobs <= 1:
        return False
    warnings.warn(
        f"n_jobs={n_jobs} runs {jobs} fits at the same time on one GPU ({device!r}): each "
        "holds its own CUDA context and they share the card's memory and compute, which is "
        "rarely faster than n_jobs=1 and can run out of memory. Use n_jobs=1 on one GPU, or "
        "one Dask worker per GPU (see skbrain.search)",
        UserWarning,
        stacklevel=2,
    )
    return True


def _devices(estimator):
    params = estimator.get_params(deep=True)
    return [v for k, v in params.items() if k == "device" or k.endswith("__device")]


def _seed_estimator(estimator, random_state):
    params = estimator.get_params(deep=True)
    unset = {
        key: random_state
        for key, value in params.items()
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    }
    return estimator.set_params(**unset) if unset else estimator


# -------------------------------------------------------------------- run_search
def run_search(
    estimator,
    X,
    y,
    groups=None,
    *,
    param_distributions=None,
    n_iter=20,
    cv=3,
    scoring="f1",
    refit=None,
    pos_label=None,
    random_state=0,
    scheduler=None,
    n_jobs=None,
    error_score=np.nan,
    verbose=0,
):
    """Run a leak-free randomized search, locally or on a Dask cluster.

    Parameters
    ----------
    estimator : skbrain estimator or Pipeline
        What to tune. It is cloned; estimator parameters named
        ``random_state`` that are ``None`` get ``random_state``.
    X : array-like
        Training input (images, or file paths for a pipeline that reads them).
    y : array-like of shape (n_samples,)
        Labels (0/1, ``"yes"``/``"no"``...).
    groups : array-like of shape (n_samples,), default=None
        Duplicate groups (``load_brain_mri().groups``). With an integer
        ``cv`` they make the folds grouped (:func:`~skbrain.model_selection.grouped_cv`);
        without them the folds are stratified only.
    param_distributions : dict or list of dict, default=None
        The space to sample; ``None`` means :func:`default_search_space`.
    n_iter : int, default=20
        Candidates sampled.
    cv : int or CV splitter, default=3
        Folds, or any sklearn splitter.
    scoring : str, list, tuple or dict, default="f1"
        Metric names or scorers, read by :func:`~skbrain.metrics.binary_scoring` so label-based
        metrics know the positive class.
    refit : str, bool or None, default=None
        Which scorer picks ``best_params_`` and refits on all of ``X``;
        ``None`` means the first one.
    pos_label : label, default=None
        The positive class for label-based metrics (``None``: the larger
        label, e.g. ``1`` or ``"yes"``).
    random_state : int or None, default=0
        Seeds the sampling of candidates, the folds and the estimators.
    scheduler : str, dask.distributed.Client, LocalCluster or None, default=None
        A Dask scheduler address (``"tcp://host:8786"``), client or cluster:
        the fits then run on its workers through joblib's ``"dask"`` backend
        (a client passed in is left open). Arrays travel with the tasks; file
        paths must be readable on every worker. Needs
        ``pip install skbrain[distributed]``.
    n_jobs : int or None, default=None
        Parallel fits; with a ``scheduler`` ``None`` means ``-1`` (all
        workers). Several jobs on one GPU give a warning
        (:func:`check_n_jobs_device`).
    error_score : "raise" or float, default=np.nan
        What a failing fit scores (sklearn's default: NaN with a warning).
    verbose : int, default=0
        Verbosity of the search.

    Returns
    -------
    sklearn.model_selection.RandomizedSearchCV
        The fitted search.

    Examples
    --------
    >>> from skbrain import WideCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> from skbrain.search import run_search
    >>> data = make_synthetic_mri(24, image_size=24, random_state=0)
    >>> search = run_search(
    ...     WideCNNClassifier(max_epochs=1, device="cpu"), data.data, data.target,
    ...     param_distributions={"n_kernels": [4, 8]}, n_iter=2, cv=2,
    ... )
    >>> sorted(search.best_params_)
    ['n_kernels']
    """
    estimator = _seed_estimator(clone(estimator), random_state)
    if param_distributions is None:
        param_distributions = default_search_space(estimator)
    if isinstance(scoring, str):
        scoring = [scoring]
    scorers = binary_scoring(scoring, y, pos_label=pos_label)
    if refit is None:
        refit = next(iter(scorers)) if isinstance(scorers, dict) else True
    if scheduler is not None and n_jobs is None:
        n_jobs = -1
    if scheduler is None:
        for device in _devices(estimator):
            if check_n_jobs_device(n_jobs, device):
                break

    search = RandomizedSearchCV(
        estimator,
        param_distributions,
        n_iter=n_iter,
        scoring=scorers,
        refit=refit,
        cv=_resolve_cv(cv, groups, random_state),
        n_jobs=n_jobs,
        random_state=random_state,
        error_score=error_score,
        verbose=verbose,
    )
    client, own_client = _dask_client(scheduler)
    try:
        backend = nullcontext()
        if client is not None:
            import joblib

            backend = joblib.parallel_backend("dask")
        with backend:
            search.fit(X, y, groups=groups)
    finally:
        if own_client:
            client.close()
    return search


def _dask_client(scheduler):
    if scheduler is None:
        return None, False
    try:
        from distributed import Client
    except ImportError:
        raise ImportError(
            "run_search(scheduler=...) needs dask.distributed; install it with "
            "`pip install skbrain[distributed]`"
        ) from None
    if isinstance(scheduler, Client):
        return scheduler, False
    return Client(scheduler), True


# ------------------------------------------------------------- reading a search
def _scorer_names(search):
    check_is_fitted(search, "cv_results_")
    results = search.cv_results_
    if "mean_test_score" in results:
        return ["score"]
    return [key[len("mean_test_"):] for key in results if key.startswith("mean_test_")]


def _display_name(search, name):
    if name == "score" and isinstance(search.scoring, str):
        return search.scoring
    return name


def _pick_scorers(search, scorers):
    available = _scorer_names(search)
    if scorers is None:
        refit = getattr(search, "refit", None)
        first = refit if isinstance(refit, str) and refit in available else available[0]
        return [first] + [name for name in available if name != first]
    if isinstance(scorers, str):
        scorers = [scorers]
    internal = {_display_name(search, name): name for name in available}
    internal.update({name: name for name in available})
    picked = []
    for name in scorers:
        if name not in internal:
            raise ValueError(
                f"the search has no scorer {name!r}; its scorers are "
                f"{[_display_name(search, a) for a in available]}"
            )
        picked.append(internal[name])
    return picked


def _searched_params(search):
    names = []
    for params in search.cv_results_["params"]:
        for name in params:
            if name not in names:
                names.append(name)
    return names


def _format_value(value):
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        text = f"{float(value):.3g}"
        return text if any(c in text for c in ".en") else text + ".0"
    return str(value)


def _candidate_labels(search, params):
    # Inside a pipeline every name starts with "<step>__"; the label drops a
    # prefix all of them share.
    prefix = ""
    if params and all("__" in name for name in params):
        heads = {name.rsplit("__", 1)[0] for name in params}
        if len(heads) == 1:
            prefix = heads.pop() + "__"
    labels, seen = [], set()
    for i, candidate in enumerate(search.cv_results_["params"]):
        label = ", ".join(
            f"{name[len(prefix):]}={_format_value(candidate[name])}"
            for name in params
            if name in candidate
        ) or "defaults"
        if label in seen:
            label += f" (candidate {i})"
        seen.add(label)
        labels.append(label)
    return labels


def _split_records(search, i, names, label, extra):
    results = search.cv_results_
    records = []
    for split in range(search.n_splits_):
        record = {"model": label, "split": split}
        for name in names:
            record[_display_name(search, name)] = float(
                results[f"split{split}_test_{name}"][i]
            )
        # cv_results_ keeps only the mean fit time, not one per split.
        record["fit_seconds"] = float(results["mean_fit_time"][i]) if split == 0 else math.nan
        record.update(extra)
        records.append(record)
    return records


def search_report(search, *, scorers=None):
    """Rank a fitted search's candidates in a readable table.

    Parameters
    ----------
    search : fitted ``*SearchCV``
        A fitted :class:`~sklearn.model_selection.RandomizedSearchCV` or
        :class:`~sklearn.model_selection.GridSearchCV`.
    scorers : str or list of str, default=None
        Scorers to show, the first ranking the rows; ``None`` shows all,
        ranked by the refit scorer.

    Returns
    -------
    skbrain.tables.ResultsTable
        One row per candidate, best first, named by its parameter values,
        with each scorer as mean ± sd over the folds (sample standard
        deviation; sklearn's ``std_test_*`` divides by the number of folds)
        and the mean fit time in seconds. Its ``records`` hold one entry per
        candidate and fold with ``rank``, ``candidate`` (the row of
        ``cv_results_``) and each parameter value.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skbrain.search import search_report
    >>> X, y = np.zeros((8, 1)), [0, 1, 1, 1, 0, 1, 1, 1]
    >>> grid = {"strategy": ["most_frequent", "uniform"]}
    >>> search = GridSearchCV(DummyClassifier(random_state=0), grid, cv=2,
    ...                       scoring=["accuracy", "recall"], refit="accuracy").fit(X, y)
    >>> report = search_report(search)
    >>> report.metrics
    ('accuracy', 'recall', 'fit_seconds')
    >>> report.models
    ['strategy=most_frequent', 'strategy=uniform']
    >>> report.rows[0]["accuracy_mean"]
    0.75
    """
    names = _pick_scorers(search, scorers)
    results = search.cv_results_
    params = _searched_params(search)
    labels = _candidate_labels(search, params)
    ranks = np.asarray(results[f"rank_test_{names[0]}"])
    means = np.asarray(results[f"mean_test_{names[0]}"], dtype=float)
    order = np.lexsort((-np.nan_to_num(means, nan=-np.inf), ranks))
    records = []
    for i in order:
        extra = {"rank": int(ranks[i]), "candidate": int(i), **results["params"][i]}
        records += _split_records(search, i, names, labels[i], extra)
    metrics = [_display_name(search, name) for name in names] + ["fit_seconds"]
    return ResultsTable(records, metrics=metrics)


def architecture_scores(search, *, scorers=None, param=None):
    """Compare the architectures (or the values of any parameter) of a search.

    Parameters
    ----------
    search : fitted ``*SearchCV``
        A search whose space includes the architecture.
    scorers : str or list of str, default=None
        Scorers to show, the first choosing each architecture's best
        candidate and ordering the rows; ``None`` shows all, led by the refit
        scorer.
    param : str, default=None
        The parameter to group by; ``None`` finds the one called
        ``architecture`` (or ``<step>__architecture``).

    Returns
    -------
    skbrain.tables.ResultsTable
        One row per value, best first, named by the value: the scores of its
        best candidate as mean ± sd over the folds, and its fit time. The
        records also hold ``candidates`` (how many candidates had that value)
        and ``params`` (the best candidate's parameters).

    Raises
    ------
    ValueError
        If the search did not vary ``param``.

    Examples
    --------
    >>> from skbrain import CNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> from skbrain.search import architecture_scores, run_search
    >>> data = make_synthetic_mri(16, image_size=24, random_state=0)
    >>> search = run_search(
    ...     CNNClassifier(n_kernels=4, max_epochs=1, device="cpu"), data.data, data.target,
    ...     param_distributions={"architecture": ["wide", "deep"]}, n_iter=2, cv=2,
    ... )
    >>> sorted(architecture_scores(search).models)
    ['deep', 'wide']
    """
    names = _pick_scorers(search, scorers)
    searched = _searched_params(search)
    if param is None:
        found = [p for p in searched if p == "architecture" or p.endswith("__architecture")]
        if not found:
            raise ValueError(
                f"the search did not vary an architecture parameter; it searched {searched}"
            )
        param = found[0]
    elif param not in searched:
        raise ValueError(f"the search did not vary {param!r}; it searched {searched}")
    results = search.cv_results_
    means = np.nan_to_num(
        np.asarray(results[f"mean_test_{names[0]}"], dtype=float), nan=-np.inf
    )
    groups = {}
    for i, candidate in enumerate(results["params"]):
        if param in candidate:
            groups.setdefault(candidate[param], []).append(i)
    best = {value: max(idx, key=lambda i: means[i]) for value, idx in groups.items()}
    records = []
    for value in sorted(best, key=lambda v: -means[best[v]]):
        i = best[value]
        extra = {"candidates": len(groups[value]), "params": results["params"][i]}
        records += _split_records(search, i, names, str(value), extra)
    metrics = [_display_name(search, name) for name in names] + ["fit_seconds"]
    return ResultsTable(records, metrics=metrics)


# ------------------------------------------------------- search, then refit
def search_best_estimator(estimator, X, y, groups=None, *, n_iter=20, cv=3, fixed=(),
                          scoring=None, random_state=0, verbose=0):
    """Tune an estimator over its default space on already-resized images; return the best.

    What ``skbrain train --search N`` does: a grouped :func:`run_search` over
    :func:`default_search_space`, leaving out the parameters in ``fixed``, with
    the best candidate refitted on all of ``X``.

    Parameters
    ----------
    estimator : skbrain estimator
        Its parameters outside the space are kept; it is cloned, not changed.
    X : ndarray
        Resized images (the search skips the resize step).
    y : array-like of shape (n_samples,)
        Labels.
    groups : array-like of shape (n_samples,), default=None
        Duplicate groups; each stays in one fold.
    n_iter, cv : int, default=20, 3
        Candidates and folds.
    fixed : iterable of str, default=()
        Parameter names that are not searched (the ones a user set).
    scoring : str, default=None
        ``None``: ``"f1"`` for two classes, ``"f1_macro"`` for more
        (:func:`skbrain.metrics.default_scoring`).
    random_state : int, default=0
    verbose : int, default=0

    Returns
    -------
    best : estimator
        The best candidate, refitted on all of ``X``.
    summary : dict
        ``n_iter``, ``cv``, ``scoring``, ``best_params`` and ``best_score``.

    Raises
    ------
    ValueError
        If every searchable parameter is in ``fixed``.
    """
    from sklearn.pipeline import Pipeline

    scoring = scoring or default_scoring(y)
    # The images are resized already, so the searched pipeline skips that step.
    pipe = Pipeline([("resize", "passthrough"), ("cnn", clone(estimator).set_params(verbose=0))])
    fixed = set(fixed)
    space = {k: v for k, v in default_search_space(pipe, step="cnn").items()
             if k[len("cnn__"):] not in fixed}
    if not space:
        raise ValueError("every searchable parameter is fixed")
    search = run_search(pipe, X, y, groups, param_distributions=space, n_iter=n_iter, cv=cv,
                        scoring=scoring, random_state=random_state, verbose=verbose)
    summary = {
        "n_iter": n_iter, "cv": cv, "scoring": scoring,
        "best_params": {k[len("cnn__"):]: v for k, v in search.best_params_.items()},
        "best_score": float(search.best_score_),
    }
    return search.best_estimator_.named_steps["cnn"], summary


def __getattr__(name):
    # The old path of plot_search, which moved up to skbrain.plotting; deprecated.
    if name == "plot_search":
        warnings.warn("skbrain.search.plot_search moved to skbrain.plotting.plot_search; the "
                      "old path will be removed in a later release", FutureWarning, stacklevel=2)
        from .plotting import plot_search

        return plot_search
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
