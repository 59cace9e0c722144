"""Scores, duplicate-aware splits and model comparison tables."""

import json
import math
import re

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, f1_score, roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skbrain import SimpleCNNClassifier
from skbrain.evaluation import (
    ResultsTable,
    StratifiedGroupShuffleSplit,
    classification_scores,
    compare_models,
    expected_calibration_error,
    study_split,
    train_test_split_grouped,
)


def _flat_logistic():
    """A fast non-CNN estimator: compare_models takes any classifier."""
    return make_pipeline(
        FunctionTransformer(lambda X: np.asarray(X).reshape(len(X), -1)),
        LogisticRegression(max_iter=200),
    )


# --------------------------------------------------------------------- scores
def test_scores_match_sklearn_and_include_probability_scores():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    proba = np.clip(y * 0.6 + rng.random(200) * 0.5, 0, 1)
    pred = (proba > 0.5).astype(int)
    scores = classification_scores(y, pred, proba)
    assert list(scores) == ["accuracy", "balanced_accuracy", "precision", "recall", "f1",
                            "roc_auc", "brier", "ece"]
    assert scores["f1"] == pytest.approx(f1_score(y, pred))
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(y, proba))
    assert scores["brier"] == pytest.approx(brier_score_loss(y, proba))
    assert 0 < scores["ece"] < 1


def test_two_column_probabilities_and_string_labels_follow_pos_label():
    y = np.array(["no", "yes", "yes", "no"])
    pred = np.array(["no", "yes", "no", "no"])
    matrix = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])  # columns: no, yes
    scores = classification_scores(y, pred, matrix, pos_label="yes")
    assert scores["recall"] == 0.5 and scores["precision"] == 1.0
    assert scores["roc_auc"] == 1.0
    flipped = classification_scores(y, pred, matrix, pos_label="no")
    assert flipped["roc_auc"] == 1.0 and flipped["recall"] == 1.0


def test_no_predicted_positive_gives_zero_precision_without_warning():
    with np.errstate(all="raise"):
        scores = classification_scores([0, 1, 1], [0, 0, 0])
    assert scores["precision"] == 0 and scores["recall"] == 0 and "roc_auc" not in scores


def test_multiclass_scores_match_sklearn():
    rng = np.random.default_rng(0)
    names = np.array(["glioma", "meningioma", "notumor", "pituitary"])
    y = names[rng.integers(0, 4, 300)]
    proba = rng.random((300, 4)) + 2.0 * (y[:, None] == names[None, :])
    proba /= proba.sum(axis=1, keepdims=True)
    pred = names[proba.argmax(axis=1)]
    scores = classification_scores(y, pred, proba, labels=names)
    assert scores["f1_macro"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert scores["f1_weighted"] == pytest.approx(f1_score(y, pred, average="weighted"))
    assert scores["roc_auc"] == pytest.approx(
        roc_auc_score(y, proba, multi_class="ovr", labels=names))
    assert scores["labels"] == names.tolist()
    matrix = np.array(scores["confusion_matrix"])
    assert matrix.sum() == 300 and np.trace(matrix) == int((pred == y).sum())
    assert scores["per_class"]["notumor"]["recall"] == pytest.approx(
        float(np.mean(pred[y == "notumor"] == "notumor")))
    assert "precision" not in scores and "f1" not in scores


def test_multiclass_test_part_missing_a_class_still_scores():
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    scores = classification_scores([0, 1, 0], [0, 1, 0], proba, labels=[0, 1, 2])
    assert scores["roc_auc"] == 1.0 and scores["f1_macro"] == 1.0
    assert scores["per_class"][2]["support"] == 0


def test_one_class_test_set_gives_nan_roc_auc():
    scores = classification_scores([1, 1, 1], [1, 0, 1], [0.9, 0.4, 0.8])
    assert math.isnan(scores["roc_auc"]) and scores["accuracy"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0, 1], [0]), "different lengths: 2 and 1"),
        (([0, 1, 2], [0, 1, 2], [[0.5, 0.5]] * 3), r"shape \(n_samples, n_classes\)"),
        (([0, 1], [0, 1], [0.2, 1.5]), r"probabilities in \[0, 1\]"),
        (([0, 1], [0, 1], [[0.1, 0.2, 0.7]] * 2), "shape"),
        (([], []), "empty"),
    ],
)
def test_bad_score_input_names_the_problem(args, message):
    with pytest.raises(ValueError, match=message):
        classification_scores(*args)
    with pytest.raises(ValueError, match="pos_label=5"):
        classification_scores([0, 1], [0, 1], pos_label=5)


def test_expected_calibration_error():
    assert expected_calibration_error([0, 0, 1, 1], [0.0, 0.0, 1.0, 1.0]) == 0
    assert expected_calibration_error([0, 0, 1, 1], [0.2, 0.2, 0.8, 0.8]) == pytest.approx(0.2)
    # Always 0.9 sure, right half the time: off by 0.4.
    assert expected_calibration_error([0, 1] * 5, [0.9] * 10) == pytest.approx(0.4)
    # A calibrated forecaster, measured on many samples, is close to 0.
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    assert expected_calibration_error(rng.random(20000) < p, p, pos_label=True) < 0.02
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([0, 1], [0.1, 0.9], n_bins=0)


# --------------------------------------------------------------------- splits
def _duplicate_groups(n, seed):
    """Labels and groups where a fifth of the samples come in copies of 2-4."""
    rng = np.random.default_rng(seed)
    groups, y = [], []
    g = 0
    while len(groups) < n:
        size = rng.choice([1, 1, 1, 1, 2, 3, 4])
        label = int(rng.random() < 0.6)
        groups += [g] * size
        y += [label] * size
        g += 1
    return np.array(y[:n]), np.array(groups[:n])


def test_grouped_split_keeps_groups_whole_and_classes_in_proportion():
    y, groups = _duplicate_groups(253, seed=1)
    cv = StratifiedGroupShuffleSplit(n_splits=10, test_size=0.25, random_state=0)
    tests = []
    for train, test in cv.split(np.zeros(len(y)), y, groups):
        assert set(groups[train]).isdisjoint(groups[test])
        assert len(train) + len(test) == len(y)
        assert abs(len(test) - 64) <= 1
        share = y[test].mean()
        assert abs(share - y.mean()) < 0.03
        tests.append(frozenset(test))
    assert len(set(tests)) == 10
    again = [frozenset(t) for _, t in cv.split(None, y, groups)]
    assert again == tests


def test_grouped_split_is_a_drop_in_sklearn_cv():
    rng = np.random.default_rng(0)
    y, groups = _duplicate_groups(120, seed=2)
    X = rng.normal(size=(120, 3)) + y[:, None]
    cv = StratifiedGroupShuffleSplit(3, test_size=0.3, random_state=0)
    scores = cross_val_score(LogisticRegression(), X, y, groups=groups, cv=cv)
    assert len(scores) == 3 and scores.mean() > 0.7
    assert cv.get_n_splits() == 3
    assert "StratifiedGroupShuffleSplit(n_splits=3" in repr(cv)


def test_grouped_split_errors():
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="test_size"):
        next(StratifiedGroupShuffleSplit(1, test_size=1.5).split(None, y))
    with pytest.raises(ValueError, match="too large"):
        next(StratifiedGroupShuffleSplit(1, test_size=0.5).split(None, y, [0, 0, 0, 0]))
    with pytest.raises(ValueError, match="groups and y have different lengths"):
        next(StratifiedGroupShuffleSplit(1).split(None, y, [0, 1]))


def test_train_test_split_grouped_handles_path_lists():
    y, groups = _duplicate_groups(40, seed=3)
    paths = [f"img{i}.png" for i in range(40)]
    p_train, p_test, y_train, y_test = train_test_split_grouped(
        paths, y, groups, test_size=10, random_state=0
    )
    assert isinstance(p_train, list) and len(p_test) == len(y_test) == 10
    index = {p: i for i, p in enumerate(paths)}
    assert set(groups[[index[p] for p in p_train]]).isdisjoint(
        groups[[index[p] for p in p_test]]
    )
    assert [y[index[p]] for p in p_test] == y_test.tolist()


def test_study_split_takes_every_third_of_the_sorted_relpaths():
    names = [f"/x/no/N{i:03d}.jpg" for i in range(98)] + [f"/x/yes/Y{i:03d}.jpg"
                                                           for i in range(155)]
    shuffled = list(np.random.default_rng(0).permutation(names))
    train, test = study_split(shuffled)
    assert len(test) == 85 and len(train) == 168
    chosen = sorted(shuffled[i] for i in test)
    assert chosen == sorted(names)[::3]
    with pytest.raises(ValueError, match="twice"):
        study_split(["a/no/1.jpg", "b/no/1.jpg"])


def test_study_split_on_the_real_folder(real_data):
    files = sorted(str(p) for p in real_data.glob("*/*") if p.parent.name in ("yes", "no"))
    train, test = study_split(files)
    assert (len(train), len(test)) == (168, 85)


# ---------------------------------------------------------------------- table
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


# ----------------------------------------------------------------- comparison
def test_compare_models_trains_fresh_clones_on_the_same_splits(synthetic_images):
    X, y = synthetic_images
    groups = np.arange(len(y)) // 2  # pairs of "duplicates"
    cnn = SimpleCNNClassifier(max_epochs=2, n_kernels=4, random_state=0)
    table = compare_models({"cnn": cnn, "logistic": _flat_logistic()}, X, y, groups,
                           n_repeats=2, random_state=0)
    assert not hasattr(cnn, "net_")
    assert table.models == ["cnn", "logistic"]
    assert table.metrics == ("accuracy", "precision", "recall", "f1", "roc_auc", "fit_seconds")
    assert len(table.records) == 4
    by_split = {}
    for record in table.records:
        assert 0 <= record["f1"] <= 1 and record["fit_seconds"] > 0
        assert record["n_train"] + record["n_test"] == len(y)
        by_split.setdefault(record["split"], set()).add(record["n_test"])
    assert all(len(sizes) == 1 for sizes in by_split.values())
    # The logistic model separates the synthetic blobs well.
    assert table.summary("accuracy")["logistic"][0] > 0.6


def test_compare_models_cv_options(synthetic_images):
    X, y = synthetic_images
    estimators = {"logistic": _flat_logistic()}
    kfold = compare_models(estimators, X, y, cv=4, n_repeats=2)
    assert len(kfold.records) == 8
    assert {r["n_test"] for r in kfold.records} == {10}
    explicit = [(np.arange(30), np.arange(30, 40))]
    single = compare_models(estimators, X, y, cv=explicit)
    assert single.records[0]["n_test"] == 10
    with pytest.raises(ValueError, match="n_repeats only applies"):
        compare_models(estimators, X, y, cv=explicit, n_repeats=2)
    with pytest.raises(ValueError, match="non-empty dict"):
        compare_models([], X, y)
    with pytest.raises(ValueError, match="different lengths"):
        compare_models(estimators, X[:5], y)


def test_compare_models_prints_progress_when_verbose(synthetic_images, capsys):
    X, y = synthetic_images
    compare_models({"logistic": _flat_logistic()}, X, y, n_repeats=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("[compare] logistic  split 1/2")


def test_compare_models_multiclass_reports_macro_scores(synthetic_images):
    X, y = synthetic_images
    y3 = np.where(y == 1, np.arange(len(y)) % 2 + 1, 0)  # three classes
    table = compare_models({"logistic": _flat_logistic()}, X, y3, n_repeats=2)
    assert table.metrics == ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted",
                             "roc_auc", "fit_seconds")
    record = table.records[0]
    assert 0 <= record["f1_macro"] <= 1 and {"recall_0", "recall_1", "recall_2"} <= set(record)
    assert "macro F1" in str(table)
