"""Will a model work at a new site? Leave one collection out and score it there.

A model trained and tested inside one collection learns that collection's
scanners, protocols and selection of slices as much as it learns tumors; its
cross-validated score says little about another hospital's images.
:func:`leave_one_collection_out` trains on every collection but one and scores
the one left out, for each in turn: the closest a developer can get to a new
site. Scores come with a bootstrap interval over groups (patients, or copies
of one picture), since slices of one patient are not independent.

:func:`site_scores` is the scoring of one held-out collection,
:func:`grouped_bootstrap` the interval, and :func:`balanced_collection_indices`
the per-collection resampling that keeps a large collection from drowning the
others in a joint fit.
"""

import time

import numpy as np
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.utils import Bunch, check_random_state

from .evaluation import ResultsTable, cross_collection_near_copies, predict_with_proba

__all__ = [
    "balanced_collection_indices",
    "grouped_bootstrap",
    "leave_one_collection_out",
    "site_scores",
]

#: The columns :func:`leave_one_collection_out` shows, in order.
SITE_METRICS = ("roc_auc", "roc_auc_low", "roc_auc_high", "balanced_accuracy", "recall",
                "specificity")


def grouped_bootstrap(metric, y_true, y_score, groups=None, *, n_bootstrap=1000,
                      confidence=0.95, random_state=0):
    """A percentile bootstrap interval of ``metric``, resampling whole groups.

    Each round draws as many groups as there are, with replacement, and
    scores every image of the drawn groups (a group drawn twice counts
    twice). Rounds whose draw holds one class only are skipped.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_score) -> float``, such as
        :func:`sklearn.metrics.roc_auc_score`.
    y_true, y_score : array-like of shape (n_samples,)
    groups : array-like of shape (n_samples,), default=None
        Patients or duplicate groups; ``None`` resamples images.
    n_bootstrap : int, default=1000
    confidence : float, default=0.95
    random_state : int, RandomState or None, default=0

    Returns
    -------
    (low, high) : tuple of float
        NaN when no round held both classes.

    Examples
    --------
    >>> from sklearn.metrics import roc_auc_score
    >>> y = [0, 0, 1, 1, 0, 1, 0, 1]
    >>> s = [0.1, 0.2, 0.8, 0.9, 0.3, 0.7, 0.6, 0.4]
    >>> low, high = grouped_bootstrap(roc_auc_score, y, s, [0, 0, 1, 1, 2, 2, 3, 3],
    ...                               n_bootstrap=200)
    >>> bool(0.0 <= low <= high <= 1.0)
    True
    """
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    groups = np.arange(len(y_true)) if groups is None else np.asarray(groups)
    _, codes = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(codes == g) for g in range(codes.max() + 1)]
    rng = check_random_state(random_state)
    values = []
    for _ in range(n_bootstrap):
        idx = np.concatenate([members[g] for g in rng.randint(len(members), size=len(members))])
        if len(np.unique(y_true[idx])) < 2:
            continue
        values.append(metric(y_true[idx], y_score[idx]))
    if not values:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def site_scores(y_true, proba, y_pred=None, groups=None, *, subtype=None, subtype_names=(),
                n_bootstrap=1000, random_state=0):
    """The scores of a binary model on one collection, with a grouped interval for ROC AUC.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for tumor, 0 for none.
    proba : array-like of shape (n_samples,)
        The model's probability of tumor.
    y_pred : array-like of shape (n_samples,), default=None
        The model's labels at its own threshold; ``None`` thresholds
        ``proba`` at 0.5.
    groups : array-like of shape (n_samples,), default=None
        Patients or duplicate groups, for the bootstrap.
    subtype : array-like of shape (n_samples,), default=None
        Each image's original class (an index into ``subtype_names``), for
        the recall per tumor type.
    subtype_names : sequence of str, default=()
    n_bootstrap : int, default=1000
    random_state : int, default=0

    Returns
    -------
    dict
        ``roc_auc`` with ``roc_auc_low`` / ``roc_auc_high`` (95 % bootstrap
        over groups), ``balanced_accuracy``, ``recall`` (of tumor),
        ``specificity`` (recall of no tumor), ``n``, ``n_groups`` and
        ``recall_<type>`` for each tumor type present.

    Examples
    --------
    >>> scores = site_scores([0, 0, 1, 1], [0.2, 0.6, 0.7, 0.9], n_bootstrap=50)
    >>> scores["roc_auc"], scores["specificity"], scores["recall"]
    (1.0, 0.5, 1.0)
    """
    y_true = np.asarray(y_true).astype(int)
    proba = np.asarray(proba, dtype=float)
    y_pred = (proba >= 0.5).astype(int) if y_pred is None else np.asarray(y_pred).astype(int)
    both = len(np.unique(y_true)) == 2
    out = {"n": len(y_true),
           "n_groups": len(np.unique(groups)) if groups is not None else len(y_true)}
    out["roc_auc"] = float(roc_auc_score(y_true, proba)) if both else float("nan")
    low, high = (grouped_bootstrap(roc_auc_score, y_true, proba, groups,
                                   n_bootstrap=n_bootstrap, random_state=random_state)
                 if both else (float("nan"), float("nan")))
    out["roc_auc_low"], out["roc_auc_high"] = low, high
    out["balanced_accuracy"] = (float(balanced_accuracy_score(y_true, y_pred)) if both
                                else float("nan"))
    out["recall"] = float(np.mean(y_pred[y_true == 1] == 1)) if (y_true == 1).any() else np.nan
    out["specificity"] = (float(np.mean(y_pred[y_true == 0] == 0)) if (y_true == 0).any()
                          else float("nan"))
    if subtype is not None:
        subtype = np.asarray(subtype)
        for k, name in enumerate(subtype_names):
            members = (subtype == k) & (y_true == 1)
            if members.any():
                out[f"recall_{name}"] = float(np.mean(y_pred[members] == 1))
    return out


def balanced_collection_indices(collection, *, y=None, weights=None, random_state=None):
    """Indices that give every collection as many training images as the largest has.

    The images of each smaller collection are repeated (every image the same
    number of times, the remainder drawn at random) so that each collection
    weighs alike in a joint fit; with augmentation on, the repeats are seen
    under different transforms.

    Parameters
    ----------
    collection : array-like of shape (n_samples,)
        Which collection each image comes from.
    y : array-like of shape (n_samples,), default=None
        The labels: with them, every (collection, class) pair gets as many
        images as the largest pair has, so that the collection tells
        nothing about the label.
    weights : dict, default=None
        Collection -> weight (a positive number; 1 for a collection not
        named): a collection gets ``weight`` times as many images as the
        largest has (rounded), every (collection, class) pair with ``y``.
        Images are never dropped: a weight below 1 must still leave a
        collection at least its own size.
    random_state : int, RandomState or None, default=None

    Returns
    -------
    ndarray of int
        Positions into ``collection``, shuffled.

    Raises
    ------
    ValueError
        If ``weights`` names a collection that is not in ``collection``, or
        gives one a weight that is not positive or that would leave out
        some of its images.

    Examples
    --------
    >>> idx = balanced_collection_indices([0, 0, 0, 0, 1, 1], random_state=0)
    >>> np.bincount(np.asarray([0, 0, 0, 0, 1, 1])[idx]).tolist()
    [4, 4]
    >>> idx = balanced_collection_indices([0, 0, 0, 0, 1, 1], y=[1, 1, 1, 0, 1, 0],
    ...                                   random_state=0)
    >>> len(idx)  # four pairs of three (collection 0's tumors)
    12
    >>> idx = balanced_collection_indices([0, 0, 0, 0, 1, 1], weights={1: 2}, random_state=0)
    >>> np.bincount(np.asarray([0, 0, 0, 0, 1, 1])[idx]).tolist()
    [4, 8]
    """
    collection = np.asarray(collection)
    weights = dict(weights or {})
    unknown = [k for k in weights if not np.any(collection == k)]
    if unknown:
        raise ValueError(f"weights names {unknown}, not among the collections "
                         f"{np.unique(collection).tolist()}")
    owner = collection
    if y is not None:
        collection = np.array([f"{c}/{t}" for c, t in zip(collection, y, strict=True)])
    rng = check_random_state(random_state)
    names, counts = np.unique(collection, return_counts=True)
    largest = counts.max()
    parts = []
    for name, count in zip(names, counts, strict=True):
        own = np.flatnonzero(collection == name)
        key = owner[own[0]].item()
        weight = weights.get(key, 1)
        target = round(weight * largest)
        if not weight > 0 or target < count:
            raise ValueError(f"weights[{key!r}] = {weight!r}: expected a "
                             f"positive weight that keeps all {count} of its images (at least "
                             f"{count / largest:.3g})")
        repeats, rest = divmod(target, count)
        parts.append(np.concatenate([np.tile(own, repeats),
                                     rng.choice(own, size=rest, replace=False)]))
    out = np.concatenate(parts)
    rng.shuffle(out)
    return out


def _pictures(data):
    """Channels-first arrays (as the estimators take them) in the duplicate finder's layout."""
    if isinstance(data, np.ndarray) and data.ndim == 4 and data.shape[1] in (1, 3):
        data = np.moveaxis(data, 1, -1)
        return data[..., 0] if data.shape[-1] == 1 else data
    return data


def _take(data, idx):
    if isinstance(data, np.ndarray):
        return data[idx]
    return [data[i] for i in idx]


def leave_one_collection_out(estimator, collections, *, balance=False, weights=None,
                             subsets=None, drop_near_copies=True, fit_params=None,
                             n_bootstrap=1000, random_state=0, verbose=True,
                             return_models=False, held_out=None):
    """Train on every collection but one, score the one left out, for each in turn.

    Parameters
    ----------
    estimator : classifier
        Unfitted; cloned for every fold. It must take the collections'
        ``data`` as they are (paths for a Pipeline that starts with an
        :class:`~skbrain.ImageResizer`, arrays for a bare skbrain classifier)
        and predict 1 for tumor.
    collections : dict of str to Bunch
        Each with ``data``, ``target`` (1 = tumor), ``target_names`` and
        ``groups``, as :func:`~skbrain.load_brain_mri` (with ``negative=``)
        and :func:`~skbrain.datasets.load_lgg_flair` return them; an
        ``original_target`` / ``original_target_names`` pair adds the recall
        per tumor type. Three or more make the evaluation meaningful; two
        work.
    balance : bool or {"collection", "collection_and_class"}, default=False
        Resample the training images (:func:`balanced_collection_indices`):
        ``True`` or ``"collection"`` gives every training collection the
        same size; ``"collection_and_class"`` gives every (collection, class)
        pair the same size, so that which collection an image comes from
        tells nothing about its label (a model cannot learn "this
        collection's look means tumor").
    weights : dict of str to float, default=None
        With ``balance``: collection name -> its weight in the resampling
        (:func:`balanced_collection_indices`); a weight of a held-out
        collection is not used in its fold.
    subsets : dict of str to dict of str to array of bool, default=None
        Extra rows: ``{"lgg": {"mid-brain": mask}}`` also scores the
        held-out ``lgg`` images where ``mask`` is True.
    drop_near_copies : bool, default=True
        Leave out of the held-out scores the images that have a near-copy in
        the training collections
        (:func:`~skbrain.evaluation.cross_collection_near_copies`); with file
        paths this decodes both sides once per fold.
    fit_params : dict, default=None
        Passed to ``fit``.
    n_bootstrap : int, default=1000
        Rounds of the grouped bootstrap of ROC AUC.
    random_state : int, default=0
        Seeds the resampling and the bootstrap (the estimator keeps its own).
    verbose : bool, default=True
        Print a line per fold.
    return_models : bool, default=False
        Keep each fold's fitted model in the result.
    held_out : sequence of str, default=None
        Hold out only these collections (one fold each), in the collections'
        order; None holds out each in turn.

    Returns
    -------
    Bunch
        ``records`` (one dict per held-out collection and subset, with
        :func:`site_scores`' keys, ``held_out``, ``subset``, ``n_train`` and
        ``fit_seconds``), ``table`` (a :class:`~skbrain.tables.ResultsTable`
        with one row per held-out collection and subset), ``proba``
        (held-out name -> each of its images' probability of tumor, in the
        collection's order, NaN for a near-copy left out) and, with
        ``return_models``, ``models`` (held-out name -> fitted model).

    Raises
    ------
    ValueError
        If fewer than two collections are given, a subset names an unknown
        collection or has the wrong length, ``held_out`` or ``weights``
        names an unknown collection, or ``weights`` is given without
        ``balance``.
    """
    names = list(collections)
    if len(names) < 2:
        raise ValueError(f"leave_one_collection_out needs two or more collections; got "
                         f"{len(names)}")
    unknown = [n for n in (held_out or ()) if n not in collections]
    if isinstance(held_out, str) or unknown:
        raise ValueError(f"held_out must be a list of collection names out of {names}; got "
                         f"{held_out!r}")
    if balance not in (False, True, "collection", "collection_and_class"):
        raise ValueError("balance must be False, True, 'collection' or 'collection_and_class'; "
                         f"got {balance!r}")
    weights = dict(weights or {})
    if weights and not balance:
        raise ValueError("weights are the collections' weights in the resampling: give them "
                         "with balance=True or 'collection_and_class'")
    if any(n not in collections for n in weights):
        raise ValueError(f"weights must name collections out of {names}; got {list(weights)}")
    subsets = dict(subsets or {})
    for name, masks in subsets.items():
        if name not in collections:
            raise ValueError(f"subsets: {name!r} is not one of the collections {names}")
        for label, mask in masks.items():
            if len(mask) != len(collections[name].target):
                raise ValueError(f"subsets[{name!r}][{label!r}] has {len(mask)} entries; "
                                 f"the collection has {len(collections[name].target)} images")
    records, models, probabilities = [], {}, {}
    folds = [n for n in names if held_out is None or n in held_out]
    for left_out in folds:
        # The seed of a fold does not depend on which folds run.
        k = names.index(left_out)
        rest = [n for n in names if n != left_out]
        train = _union([collections[n] for n in rest])
        by_class = train.target if balance == "collection_and_class" else None
        idx = (balanced_collection_indices(train.collection, y=by_class,
                                           weights={rest.index(n): w
                                                    for n, w in weights.items()
                                                    if n != left_out},
                                           random_state=random_state + k)
               if balance else np.arange(len(train.target)))
        model = clone(estimator)
        start = time.perf_counter()
        model.fit(_take(train.data, idx), train.target[idx], **(fit_params or {}))
        fit_seconds = time.perf_counter() - start
        test = collections[left_out]
        keep = np.ones(len(test.target), dtype=bool)
        if drop_near_copies:
            keep = ~cross_collection_near_copies(_pictures(train.data), _pictures(test.data))
        rows = {"all": keep}
        for label, mask in subsets.get(left_out, {}).items():
            rows[label] = keep & np.asarray(mask, dtype=bool)
        y_pred, proba = predict_with_proba(model, _take(test.data, np.flatnonzero(keep)))
        probabilities[left_out] = np.full(len(keep), np.nan)
        probabilities[left_out][keep] = proba
        pos = np.full(len(keep), -1)
        pos[keep] = np.arange(int(keep.sum()))
        for label, mask in rows.items():
            at = pos[mask]
            subtype = test.get("original_target")
            scores = site_scores(
                test.target[mask], proba[at], y_pred[at], np.asarray(test.groups)[mask],
                subtype=None if subtype is None else np.asarray(subtype)[mask],
                subtype_names=test.get("original_target_names", ()),
                n_bootstrap=n_bootstrap, random_state=random_state)
            records.append({"model": f"{left_out} ({label})" if label != "all" else left_out,
                            "held_out": left_out, "subset": label,
                            "trained_on": " + ".join(rest), "n_train": len(idx),
                            "n_near_copies_dropped": int((~keep).sum()),
                            "fit_seconds": fit_seconds, **scores})
            if verbose:
                print(f"held out {left_out} ({label}): ROC AUC {scores['roc_auc']:.3f} "
                      f"({scores['roc_auc_low']:.3f}-{scores['roc_auc_high']:.3f}), balanced "
                      f"accuracy {scores['balanced_accuracy']:.3f}, recall "
                      f"{scores['recall']:.3f}, specificity {scores['specificity']:.3f}, "
                      f"{scores['n']} images ({fit_seconds:.0f} s fit)", flush=True)
        if return_models:
            models[left_out] = model
    table = ResultsTable(records, metrics=list(SITE_METRICS) + ["fit_seconds"])
    result = Bunch(records=records, table=table, proba=probabilities)
    if return_models:
        result.models = models
    return result


def _union(bunches):
    """The training collections as one: data, target and which collection each image is from."""
    datas = [b.data for b in bunches]
    if all(isinstance(d, np.ndarray) for d in datas):
        data = np.concatenate(datas)
    else:
        data = [x for d in datas for x in d]
    return Bunch(data=data,
                 target=np.concatenate([np.asarray(b.target) for b in bunches]),
                 collection=np.repeat(np.arange(len(bunches)), [len(b.target) for b in bunches]))
