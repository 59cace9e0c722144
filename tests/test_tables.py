"""ResultsTable and scores_table: summaries, formats, files."""

import json
import math
import re

import numpy as np
import pytest

from skbrain.tables import ResultsTable

RECORDS = [
    {"model": "wide", "split": 0, "f1": 0.80, "roc_auc": 0.9, "fit_seconds": 12.0},
    {"model": "wide", "split": 1, "f1": 0.90, "roc_auc": float("nan"), "fit_seconds": 14.0},
    {"model": "deep", "split": 0, "f1": 0.70, "roc_auc": 0.8, "fit_seconds": 3.0},
    {"model": "deep", "split": 1, "f1": 0.74, "roc_auc": 0.7, "fit_seconds": 3.2},
]


def test_table_summarises_mean_and_sample_sd_skipping_nan():
    table = ResultsTable(RECORDS)
    assert table.metrics == ("f1", "roc_auc", "fit_seconds")
    wide, deep = table.rows
    assert wide["model"] == "wide" and wide["n_splits"] == 2
    assert wide["f1_mean"] == pytest.approx(0.85)
    assert wide["f1_std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert wide["roc_auc_mean"] == 0.9 and math.isnan(wide["roc_auc_std"])
    assert table.summary("f1")["deep"] == pytest.approx((0.72, np.std([0.7, 0.74], ddof=1)))
    text = str(table)
    assert text == repr(table)
    lines = text.splitlines()
    assert lines[0].split() == ["model", "F1", "ROC", "AUC", "fit", "(s)"]
    assert re.split(r"\s{2,}", lines[2]) == ["wide", "0.850 ± 0.071", "0.900", "13.0 ± 1.4"]
    assert lines[-1] == "(mean ± sd over 2 splits)"


def test_table_writes_csv_markdown_and_json(tmp_path):
    table = ResultsTable(RECORDS)
    csv_text = table.to_csv(tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == csv_text
    header, *rows = csv_text.strip().splitlines()
    assert header.split(",")[:4] == ["model", "n_splits", "f1_mean", "f1_std"]
    assert [r.split(",")[0] for r in rows] == ["wide", "deep"]
    assert ",," in rows[0]  # NaN sd is an empty cell
    markdown = table.to_markdown(tmp_path / "t.md")
    assert markdown.splitlines()[2] == "| wide | 0.850 ± 0.071 | 0.900 | 13.0 ± 1.4 |"
    data = json.loads(table.to_json(tmp_path / "t.json"))
    assert data["rows"][0]["roc_auc_std"] is None and len(data["records"]) == 4
    again = ResultsTable.read_json(tmp_path / "t.json")
    assert str(again) == str(table)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.json", "t.md"]


def test_table_sorts_and_needs_records():
    table = ResultsTable(RECORDS).sort_by("f1", descending=False)
    assert table.models == ["deep", "wide"]
    with pytest.raises(ValueError, match="metric must be one of"):
        table.summary("accuracy")
    with pytest.raises(ValueError, match="empty"):
        ResultsTable([])
    with pytest.raises(ValueError, match="'model' key"):
        ResultsTable([{"f1": 1.0}])


def test_single_split_shows_means_only():
    table = ResultsTable([{"model": "wide", "f1": 0.8, "accuracy": 0.75}])
    assert str(table).splitlines()[2].split() == ["wide", "0.750", "0.800"]


def test_to_pandas_or_a_clear_message():
    table = ResultsTable(RECORDS)
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            table.to_pandas()
    else:
        frame = table.to_pandas()
        assert list(frame["model"]) == ["wide", "deep"]
        assert len(table.to_pandas(records=True)) == 4
