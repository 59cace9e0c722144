"""Scores, duplicate-aware splits and model comparison tables.

* :func:`classification_scores` gives the study's four test scores (accuracy,
  precision, recall, F1) plus ROC AUC, the Brier score and the expected
  calibration error when probabilities are given.
* :class:`StratifiedGroupShuffleSplit` and :func:`train_test_split_grouped`
  split so that every group of duplicate images stays on one side, with the
  class balance kept as closely as the groups allow. The brain MRI images hold
  byte-identical and re-encoded copies; a split that puts one copy in training
  and another in testing scores memory, not skill.
* :func:`study_split` reproduces the original study's fixed split, for
  comparisons with its numbers.
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
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import BaseCrossValidator, StratifiedGroupKFold
from sklearn.utils import _safe_indexing, check_random_state

from .persistence import atomic_write

__all__ = [
    "DEFAULT_METRICS",
    "ResultsTable",
    "StratifiedGroupShuffleSplit",
    "classification_scores",
    "compare_models",
    "expected_calibration_error",
    "study_split",
    "train_test_split_grouped",
]

DEFAULT_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "fit_seconds")

METRIC_LABELS = {
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
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
        col = 0 if len(labels) == 2 and labels[0] == pos_label else 1
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


def classification_scores(y_true, y_pred, y_proba=None, *, pos_label=1, n_bins=10):
    """The test scores of a binary classifier, as one dict.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (two classes).
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    y_proba : array-like of shape (n_samples,) or (n_samples, 2), default=None
        Probability of ``pos_label``, or ``predict_proba``'s output with
        columns in sorted label order. Adds ``roc_auc``, ``brier`` and ``ece``.
    pos_label : int or str, default=1
        The positive class (tumor) for precision, recall, F1 and the
        probability scores.
    n_bins : int, default=10
        Bins of the expected calibration error.

    Returns
    -------
    dict
        ``accuracy``, ``precision``, ``recall``, ``f1`` (precision is 0 when
        nothing is predicted positive), and with ``y_proba`` also ``roc_auc``
        (NaN when ``y_true`` has one class), ``brier`` and ``ece``.

    Examples
    --------
    >>> scores = classification_scores([0, 0, 1, 1], [0, 1, 1, 1], [0.1, 0.6, 0.7, 0.9])
    >>> {name: round(value, 3) for name, value in scores.items()}
    {'accuracy': 0.75, 'precision': 0.667, 'recall': 1.0, 'f1': 0.8, 'roc_auc': 1.0, \
'brier': 0.118, 'ece': 0.275}
    """
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred have different lengths: {len(y_true)} and {len(y_pred)}"
        )
    if len(y_true) == 0:
        raise ValueError("y_true is empty")
    labels = np.unique(np.concatenate([y_true, y_pred]))
    if len(labels) > 2:
        raise ValueError(
            f"classification_scores is for two classes; got labels {labels.tolist()}"
        )
    if pos_label not in labels.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} is not among the labels {labels.tolist()}"
        )
    scores = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
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


# --------------------------------------------------------------------- splits
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
    cv = StratifiedGroupShuffleSplit(1, test_size=test_size, random_state=random_state)
    train, test = next(cv.split(None, y, groups))
    if len(X) != len(y):
        raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}")
    y = np.asarray(y)
    return _safe_indexing(X, train), _safe_indexing(X, test), y[train], y[test]


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
        :data:`DEFAULT_METRICS` that appear in the records.

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
            metrics = [m for m in DEFAULT_METRICS if m in present]
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


# ----------------------------------------------------------------- comparison
def _make_splits(cv, X, y, groups, n_repeats, test_size, random_state):
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
            folds = StratifiedGroupKFold(int(cv), shuffle=True, random_state=int(seed))
            splits += list(folds.split(X, y, group_ids))
        return splits
    if n_repeats != 1:
        raise ValueError("n_repeats only applies when cv is None or an int")
    if hasattr(cv, "split"):
        return list(cv.split(X, y, groups))
    return [(np.asarray(train), np.asarray(test)) for train, test in cv]


def _score_fitted(estimator, X_test, y_test, pos_label):
    start = time.perf_counter()
    if hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
        proba = estimator.predict_proba(X_test)
        classes = np.asarray(estimator.classes_)
        y_pred = classes[np.argmax(proba, axis=1)]
        hits = np.flatnonzero(classes == pos_label)
        proba = proba[:, hits[0] if len(hits) else -1]
    else:
        y_pred, proba = estimator.predict(X_test), None
    seconds = time.perf_counter() - start
    return classification_scores(y_test, y_pred, proba, pos_label=pos_label), seconds


def compare_models(estimators, X, y, groups=None, *, cv=None, n_repeats=1, test_size=0.25,
                   random_state=0, metrics=DEFAULT_METRICS, pos_label=1, verbose=0):
    """Train and test several estimators on the same splits.

    Every estimator is cloned afresh for every split, fitted on its training
    side and scored on its test side with :func:`classification_scores`.

    Parameters
    ----------
    estimators : dict of str to estimator
        Names and unfitted estimators or Pipelines.
    X : array-like or list of length n_samples
        Images (arrays, for estimators) or paths (for Pipelines that start
        with an ``ImageResizer``). Resize once and pass arrays when comparing
        several models: each image is then decoded once, not once per fit.
    y : array-like of shape (n_samples,)
        Labels.
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
    metrics : sequence of str, default=DEFAULT_METRICS
        Columns of the summary; every record keeps all scores.
    pos_label : int or str, default=1
        The positive class (tumor).
    verbose : int, default=0
        1 prints one line per fit.

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
    if not isinstance(estimators, dict) or not estimators:
        raise ValueError("estimators must be a non-empty dict of name to estimator")
    y = np.asarray(y).ravel()
    if len(X) != len(y):
        raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}")
    if groups is not None:
        groups = np.asarray(groups).ravel()
    splits = _make_splits(cv, X, y, groups, n_repeats, test_size, random_state)
    records = []
    for name, estimator in estimators.items():
        for i, (train, test) in enumerate(splits):
            model = clone(estimator)
            X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
            start = time.perf_counter()
            model.fit(X_train, y[train])
            fit_seconds = time.perf_counter() - start
            scores, predict_seconds = _score_fitted(model, X_test, y[test], pos_label)
            records.append({
                "model": str(name), "split": i, "n_train": len(train), "n_test": len(test),
                **scores, "fit_seconds": fit_seconds, "predict_seconds": predict_seconds,
            })
            if verbose:
                auc = scores.get("roc_auc", float("nan"))
                print(
                    f"[compare] {name}  split {i + 1}/{len(splits)}  "
                    f"accuracy={scores['accuracy']:.3f}  f1={scores['f1']:.3f}  "
                    f"roc_auc={auc:.3f}  fit {fit_seconds:.1f} s",
                    file=sys.stdout, flush=True,
                )
    present = set().union(*records)
    return ResultsTable(records, metrics=[m for m in metrics if m in present])
