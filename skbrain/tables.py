"""Result tables: per-split scores of several models, summarised as mean ± sd.

* :class:`ResultsTable` holds one record per model and split; it prints as an
  aligned table, writes CSV, Markdown and JSON, reads its JSON back, and
  becomes a DataFrame where pandas is installed.
* :func:`scores_table` prints the scores of one model (with one row per class
  for more than two classes).

Why a table class and not a DataFrame
-------------------------------------
pandas is not a dependency of skbrain, so :func:`~skbrain.evaluation.compare_models`
and the search reports return a small :class:`ResultsTable`: it prints as an
aligned table of mean ± standard deviation, writes CSV, Markdown and JSON,
keeps every per-split record, and becomes a DataFrame with
:meth:`ResultsTable.to_pandas` where pandas is installed. The return type never
depends on what is installed.
"""

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from ._fileio import atomic_write, save_figure
from .metrics import DEFAULT_METRICS, METRIC_LABELS, MULTICLASS_METRICS

__all__ = ["ResultsTable", "scores_table"]


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
        :data:`~skbrain.metrics.DEFAULT_METRICS` that appear in the records (for records of
        more than two classes, with ``f1_macro`` and no ``f1``,
        :data:`~skbrain.metrics.MULTICLASS_METRICS`).

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
            Saved too, as a PNG.

        Returns
        -------
        list of str
            The file names written, in order.
        """
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
        As :func:`~skbrain.metrics.classification_scores` returns them.
    metrics : sequence of str, default=None
        Columns; ``None``: :data:`~skbrain.metrics.DEFAULT_METRICS` (two classes) or
        :data:`~skbrain.metrics.MULTICLASS_METRICS`, without the timings.
    class_names : dict, default=None
        Label (or its string) to name, for the per-class rows.

    Returns
    -------
    str

    Examples
    --------
    >>> from skbrain.metrics import classification_scores
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
