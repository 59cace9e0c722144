"""Every grouped splitter of skbrain, once: duplicate groups and patients stay on one side.

The brain MRI images hold byte-identical and re-encoded copies, and a patient
gives many slices; a split that puts one copy (or slice) in training and
another in testing scores memory, not skill.

* :class:`StratifiedGroupShuffleSplit` and :func:`train_test_split_grouped`
  split so that every group stays on one side, with the class balance kept as
  closely as the groups allow; :func:`grouped_holdout` is the same split as
  two index arrays (the estimators' validation split for early stopping).
* :func:`grouped_cv` is the grouped, stratified, shuffled K-fold of searches.
* :func:`study_split` reproduces the original study's fixed split, for
  comparisons with its numbers; :func:`read_split_file` reads a listed one.

This module sits low: it needs numpy and scikit-learn only.
"""

import csv
import io
import json
import math
import numbers
from pathlib import Path

import numpy as np
from sklearn.model_selection import BaseCrossValidator, StratifiedGroupKFold, StratifiedKFold
from sklearn.utils import _safe_indexing, check_random_state

__all__ = [
    "StratifiedGroupShuffleSplit",
    "grouped_cv",
    "grouped_holdout",
    "read_split_file",
    "study_split",
    "train_test_split_grouped",
]


def _n_test(test_size, n_samples):
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        if not 0 < test_size < n_samples:
            raise ValueError(
                f"test_size={test_size} must be between 1 and {n_samples - 1} "
                f"for {n_samples} samples"
            )
        return int(test_size)
    if isinstance(test_size, numbers.Real) and 0 < test_size < 1:
        n_test = math.ceil(test_size * n_samples)
        if not 0 < n_test < n_samples:
            raise ValueError(f"test_size={test_size} leaves no training or test samples")
        return n_test
    raise ValueError(f"test_size must be a float in (0, 1) or a positive integer; got "
                     f"{test_size!r}")


def _class_targets(class_totals, n_test):
    """Split ``n_test`` over the classes in proportion, by largest remainder."""
    exact = class_totals * n_test / class_totals.sum()
    targets = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - targets), kind="stable")[: n_test - targets.sum()]:
        targets[i] += 1
    return targets


class StratifiedGroupShuffleSplit(BaseCrossValidator):
    """Random train/test splits that keep groups whole and classes balanced.

    sklearn has ``GroupShuffleSplit`` (groups whole, classes ignored) and
    ``StratifiedGroupKFold`` (folds, not a chosen test size); a small
    duplicate-laden image set needs both at once. Groups are visited in random
    order and each goes to the test side while its class still has room there,
    so the test side gets each class's share of ``test_size`` exactly when the
    groups allow it. A group's class is its most common label.

    Parameters
    ----------
    n_splits : int, default=5
        Number of independent splits.
    test_size : float or int, default=0.25
        Share (float) or number (int) of samples in the test side.
    random_state : int, RandomState instance or None, default=None
        Seeds the order in which groups are visited.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0] * 8 + [1] * 12)
    >>> groups = np.repeat(np.arange(10), 2)  # pairs of duplicates
    >>> cv = StratifiedGroupShuffleSplit(n_splits=2, test_size=0.2, random_state=0)
    >>> for train, test in cv.split(np.zeros(20), y, groups):
    ...     print(len(test), y[test].tolist(), set(groups[train]).isdisjoint(groups[test]))
    4 [0, 0, 1, 1] True
    4 [0, 0, 1, 1] True
    """

    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, test_size=0.25, random_state=None):
        self.n_splits = n_splits
        self.test_size = test_size
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits, ``n_splits``."""
        return self.n_splits

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError  # split() is overridden

    def split(self, X, y, groups=None):
        """Yield ``(train_indices, test_indices)`` for each split.

        Parameters
        ----------
        X : array-like of length n_samples
            Only its length is used.
        y : array-like of shape (n_samples,)
            Labels to stratify by.
        groups : array-like of shape (n_samples,), default=None
            Group of each sample (duplicates share one); ``None`` treats every
            sample as its own group.
        """
        if not isinstance(self.n_splits, numbers.Integral) or self.n_splits < 1:
            raise ValueError(f"n_splits must be a positive integer; got {self.n_splits!r}")
        if y is None:
            raise ValueError("StratifiedGroupShuffleSplit needs y to stratify by")
        y = np.asarray(y).ravel()
        n_samples = len(y)
        if X is not None and len(X) != n_samples:
            raise ValueError(f"X and y have different lengths: {len(X)} and {n_samples}")
        groups = np.arange(n_samples) if groups is None else np.asarray(groups).ravel()
        if len(groups) != n_samples:
            raise ValueError(
                f"groups and y have different lengths: {len(groups)} and {n_samples}"
            )
        n_test = _n_test(self.test_size, n_samples)
        _, y_index = np.unique(y, return_inverse=True)
        _, g_index = np.unique(groups, return_inverse=True)
        counts = np.zeros((g_index.max() + 1, y_index.max() + 1), dtype=int)
        np.add.at(counts, (g_index, y_index), 1)
        group_size = counts.sum(axis=1)
        group_class = counts.argmax(axis=1)
        class_totals = np.bincount(group_class, weights=group_size).astype(int)
        targets = _class_targets(class_totals, n_test)
        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            taken = np.zeros(len(targets), dtype=int)
            in_test = np.zeros(len(group_size), dtype=bool)
            for g in rng.permutation(len(group_size)):
                c = group_class[g]
                if taken[c] + group_size[g] <= targets[c]:
                    taken[c] += group_size[g]
                    in_test[g] = True
            test_mask = in_test[g_index]
            if test_mask.all() or not test_mask.any():
                raise ValueError(
                    "cannot split: the groups are too large for test_size="
                    f"{self.test_size!r}"
                )
            yield np.flatnonzero(~test_mask), np.flatnonzero(test_mask)


def grouped_holdout(y, groups=None, test_size=0.25, random_state=0):
    """One stratified split with every group on one side, as index arrays.

    The split of :func:`train_test_split_grouped` (one
    :class:`StratifiedGroupShuffleSplit` split), for callers that index
    themselves, such as an estimator's validation split for early stopping.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels to stratify by (any labels, or their codes).
    groups : array-like of shape (n_samples,), default=None
        Group of each sample (near-copies or a patient's slices share one);
        ``None`` makes a plain stratified split.
    test_size : float or int, default=0.25
        Share (float, rounded up) or number (int) of samples in the test side.
        Whole groups go there while their class has room, so it can get fewer.
    random_state : int, RandomState instance or None, default=0
        Seeds the order in which groups are visited; the same seed gives the
        same split.

    Returns
    -------
    train, test : ndarray of int
        Positions in ``y``, ascending, disjoint, together every position;
        no group has positions in both.

    Raises
    ------
    ValueError
        If ``groups`` and ``y`` differ in length, ``test_size`` is not a share
        or a count that leaves both sides, or the groups are too large to
        leave both sides non-empty (a single group, for instance).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
    >>> groups = np.array([0, 0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9])
    >>> train, test = grouped_holdout(y, groups, test_size=0.25, random_state=0)
    >>> len(train), y[test].tolist()
    (9, [0, 1, 1])
    """
    splitter = StratifiedGroupShuffleSplit(1, test_size=test_size, random_state=random_state)
    return next(splitter.split(None, y, groups))


def train_test_split_grouped(X, y, groups, *, test_size=0.25, random_state=0):
    """Split into train and test sets, keeping duplicate groups on one side.

    Like :func:`sklearn.model_selection.train_test_split` with
    ``stratify=y``, except that all samples of a group (copies of one image)
    land on the same side. See :class:`StratifiedGroupShuffleSplit`.

    Parameters
    ----------
    X : array-like or list of length n_samples
        Images or file paths.
    y : array-like of shape (n_samples,)
        Labels.
    groups : array-like of shape (n_samples,) or None
        Duplicate-group id of each sample, such as ``load_brain_mri().groups``;
        ``None`` makes a plain stratified split.
    test_size : float or int, default=0.25
        Share or number of test samples.
    random_state : int, RandomState instance or None, default=0

    Returns
    -------
    X_train, X_test, y_train, y_test

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12).reshape(12, 1)
    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
    >>> groups = np.array([0, 0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9])
    >>> X_train, X_test, y_train, y_test = train_test_split_grouped(X, y, groups)
    >>> len(X_test), sorted(y_test.tolist())
    (3, [0, 1, 1])
    """
    train, test = grouped_holdout(y, groups, test_size=test_size, random_state=random_state)
    if len(X) != len(y):
        raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}")
    y = np.asarray(y)
    return _safe_indexing(X, train), _safe_indexing(X, test), y[train], y[test]


def grouped_cv(n_splits=3, random_state=None):
    """A stratified, grouped, shuffled K-fold splitter.

    Every group (for example a set of duplicate images from
    :func:`~skbrain.load_brain_mri`'s ``groups``) lands wholly in training or
    wholly in validation, and each fold keeps the class balance as far as the
    groups allow. Pass the groups to the search's ``fit``.

    Parameters
    ----------
    n_splits : int, default=3
        Number of folds.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the groups.

    Returns
    -------
    sklearn.model_selection.StratifiedGroupKFold

    Examples
    --------
    >>> import numpy as np
    >>> from skbrain.model_selection import grouped_cv
    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1])
    >>> groups = np.array([0, 0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9])
    >>> for train, test in grouped_cv(3, random_state=0).split(y, y, groups):
    ...     assert not set(groups[train]) & set(groups[test])
    """
    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)


def _resolve_cv(cv, groups, random_state):
    """A search's ``cv``: an int becomes grouped folds with ``groups``, else stratified ones."""
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if groups is not None:
            return grouped_cv(int(cv), random_state=random_state)
        return StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=random_state)
    return cv


def _make_splits(cv, X, y, groups, n_repeats, test_size, random_state):
    """The ``(train, test)`` pairs of ``compare_models``'s ``cv`` argument."""
    if not isinstance(n_repeats, numbers.Integral) or n_repeats < 1:
        raise ValueError(f"n_repeats must be a positive integer; got {n_repeats!r}")
    if cv is None:
        splitter = StratifiedGroupShuffleSplit(
            n_repeats, test_size=test_size, random_state=random_state
        )
        return list(splitter.split(X, y, groups))
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        seeds = check_random_state(random_state).randint(2**31 - 1, size=n_repeats)
        group_ids = np.arange(len(y)) if groups is None else groups
        splits = []
        for seed in seeds:
            splits += list(grouped_cv(int(cv), random_state=int(seed)).split(X, y, group_ids))
        return splits
    if n_repeats != 1:
        raise ValueError("n_repeats only applies when cv is None or an int")
    if hasattr(cv, "split"):
        return list(cv.split(X, y, groups))
    return [(np.asarray(train), np.asarray(test)) for train, test in cv]


def _relpath_key(filename):
    parts = Path(filename).as_posix().split("/")
    return "/".join(parts[-2:])


def study_split(filenames):
    """The original study's fixed split: every third image is a test image.

    The study listed ``no/`` then ``yes/`` (each sorted by name) and put the
    images at positions 0, 3, 6, ... of that list in the test set: 85 of the
    253 images. Duplicates were not kept together, so copies of one picture
    can fall on both sides; use it only to compare with the study's numbers,
    and :func:`train_test_split_grouped` for honest estimates.

    Parameters
    ----------
    filenames : sequence of str or path-like
        Image paths whose last two parts are ``no/<name>`` or ``yes/<name>``,
        in any order.

    Returns
    -------
    train_indices, test_indices : ndarray of int
        Positions in ``filenames``, ascending.

    Examples
    --------
    >>> files = ["/data/yes/Y1.jpg", "/data/no/N2.jpg", "/data/no/N1.jpg", "/data/yes/Y2.jpg"]
    >>> train, test = study_split(files)
    >>> [files[i] for i in test]
    ['/data/no/N1.jpg', '/data/yes/Y2.jpg']
    """
    keys = [_relpath_key(f) for f in filenames]
    if len(set(keys)) != len(keys):
        raise ValueError("filenames holds the same <folder>/<name> twice")
    order = sorted(range(len(keys)), key=keys.__getitem__)
    test = np.zeros(len(keys), dtype=bool)
    test[[i for rank, i in enumerate(order) if rank % 3 == 0]] = True
    return np.flatnonzero(~test), np.flatnonzero(test)


def read_split_file(path, relpaths, root=None):
    """Train and test positions from a file that lists the test images.

    Parameters
    ----------
    path : str or os.PathLike
        A JSON list of test files; a JSON object with a ``"test"`` list (or
        a ``"split"`` object holding one, as in ``skbrain train``'s metrics
        JSON); a CSV with a ``relpath``/``file``/``path``/``filename``
        column (and, where there is a ``split`` column, only its ``test``
        rows); or a text file of one path per line.
    relpaths : sequence of str
        Every image's path inside the data folder, ``/``-separated.
    root : str or os.PathLike, default=None
        The data folder, for entries given as absolute paths.

    Returns
    -------
    train, test : ndarray of int
        Positions in ``relpaths``, ascending. An entry matches its relpath,
        else the last two parts (``<class>/<file>``).

    Raises
    ------
    ValueError
        If the file is missing, unreadable, lists no or unknown images, or
        every image.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> listing = pathlib.Path(tempfile.mkdtemp()) / "test.json"
    >>> _ = listing.write_text(json.dumps(["yes/Y1.jpg", "data/no/N2.jpg"]))
    >>> train, test = read_split_file(listing, ["no/N1.jpg", "no/N2.jpg", "yes/Y1.jpg"])
    >>> train.tolist(), test.tolist()
    ([0], [1, 2])
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"'{path}' does not exist")
    entries = _split_file_entries(path, path.read_text(encoding="utf-8-sig"))
    if not entries:
        raise ValueError(f"'{path}' lists no test files")
    root = Path(root).resolve() if root is not None else None
    index = {rel: i for i, rel in enumerate(relpaths)}
    by_tail = {"/".join(rel.split("/")[-2:]): i for i, rel in enumerate(relpaths)}
    test, unknown = set(), []
    for entry in entries:
        posix = Path(entry).as_posix()
        if Path(entry).is_absolute() and root is not None:
            try:
                posix = Path(entry).resolve().relative_to(root).as_posix()
            except ValueError:
                pass
        i = index.get(posix, by_tail.get("/".join(posix.split("/")[-2:])))
        if i is None:
            unknown.append(entry)
        else:
            test.add(i)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise ValueError(f"{shown}{more} not found in '{root or 'the data folder'}'")
    test = np.array(sorted(test))
    train = np.setdiff1d(np.arange(len(relpaths)), test)
    if len(train) == 0:
        raise ValueError("it lists every image; nothing is left to train on")
    return train, test


def _split_file_entries(path, text):
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        try:
            content = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"'{path}' is not valid JSON ({exc})") from None
        if isinstance(content, dict):
            content = content.get("split", content)
            content = content.get("test") if isinstance(content, dict) else None
        if isinstance(content, list) and all(isinstance(e, str) for e in content):
            return content
        raise ValueError(f"'{path}' must hold a list of test files, or an object with a "
                         "'test' list")
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(row)]
    header = [c.strip().lower() for c in rows[0]] if rows else []
    column = next((header.index(c) for c in ("relpath", "file", "path", "filename")
                   if c in header), None)
    if column is None:
        return [row[0].strip() for row in rows]
    if "split" in header:
        split = header.index("split")
        return [row[column].strip() for row in rows[1:] if row[split].strip().lower() == "test"]
    return [row[column].strip() for row in rows[1:]]
