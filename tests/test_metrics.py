"""Scores of skbrain.metrics: two classes and more, probabilities, calibration."""

import math

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, f1_score, roc_auc_score

from skbrain.metrics import classification_scores, expected_calibration_error


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
