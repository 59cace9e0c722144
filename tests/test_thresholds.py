"""Recall-first decisions and calibration with sklearn's wrappers around skbrain models,
and ``skbrain train --min-recall``."""

import json

import numpy as np
import pytest
from PIL import Image
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import make_scorer, precision_score, recall_score
from sklearn.model_selection import (
    FixedThresholdClassifier,
    StratifiedKFold,
    TunedThresholdClassifierCV,
)
from sklearn.pipeline import Pipeline

from skbrain import ImageResizer, SimpleCNNClassifier
from skbrain.cli import main
from skbrain.datasets import make_synthetic_mri
from skbrain.evaluation import classification_scores
from skbrain.persistence import load_model, save_model
from skbrain.thresholds import decide_at, min_recall_score, tune_threshold_for_recall

SIZE = 32
FAST = {"n_kernels": 4, "kernel_size": 5, "max_epochs": 3, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    train = make_synthetic_mri(48, image_size=SIZE, random_state=0)
    test = make_synthetic_mri(24, image_size=SIZE, random_state=1)
    return train.data, train.target, test.data, test.target


def make_pipe():
    return Pipeline([("resize", ImageResizer(SIZE, channels=1)),
                     ("cnn", SimpleCNNClassifier(**FAST))])


def precision_at_recall(y_true, y_pred, *, min_recall=0.95):
    """Precision where recall reaches ``min_recall``; below it, recall - 1."""
    recall = recall_score(y_true, y_pred)
    if recall < min_recall:
        return recall - 1
    return precision_score(y_true, y_pred, zero_division=0)


def test_tuned_threshold_balanced_accuracy_around_a_pipeline(data):
    X, y, X_test, _ = data
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    tuned = TunedThresholdClassifierCV(make_pipe(), scoring="balanced_accuracy", cv=cv,
                                       store_cv_results=True).fit(X, y)
    assert 0 < tuned.best_threshold_ < 1
    assert tuned.best_score_ == pytest.approx(tuned.cv_results_["scores"].max())
    proba = tuned.predict_proba(X_test)[:, 1]
    np.testing.assert_array_equal(tuned.predict(X_test),
                                  (proba >= tuned.best_threshold_).astype(int))


def test_tuned_threshold_for_recall_of_95_percent(data):
    X, y, X_test, y_test = data
    scorer = make_scorer(precision_at_recall, min_recall=0.95)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    tuned = TunedThresholdClassifierCV(make_pipe(), scoring=scorer, cv=cv,
                                       store_cv_results=True).fit(X, y)
    # The best cross-validated objective is a precision: recall 0.95 was reached.
    assert tuned.best_score_ >= 0
    feasible = tuned.cv_results_["scores"] >= 0
    assert feasible.any() and not feasible.all()
    # Every threshold above the highest feasible one misses the recall floor.
    highest = tuned.cv_results_["thresholds"][feasible].max()
    assert tuned.best_threshold_ <= highest
    default = tuned.estimator_.predict(X_test)
    recall_first = tuned.predict(X_test)
    assert recall_score(y_test, recall_first) >= recall_score(y_test, default)


def test_min_recall_objective_prefers_the_highest_threshold_meeting_the_floor():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    proba = np.array([0.9, 0.8, 0.6, 0.3, 0.5, 0.2, 0.1, 0.05])
    scores = {t: min_recall_score(y, (proba >= t).astype(int), min_recall=0.75)
              for t in (0.1, 0.25, 0.55, 0.7)}
    assert max(scores, key=scores.get) == 0.55  # recall 3/4, fewest positive calls
    assert scores[0.7] < 0 < scores[0.1] < scores[0.25] < scores[0.55]


def test_fixed_threshold_around_a_pipeline(data):
    X, y, X_test, _ = data
    pipe = make_pipe().fit(X, y)
    proba = pipe.predict_proba(X_test)[:, 1]
    for threshold in (0.2, 0.5, 0.8):
        fixed = FixedThresholdClassifier(pipe, threshold=threshold).fit(X, y)
        expected = (fixed.estimator_.predict_proba(X_test)[:, 1] >= threshold).astype(int)
        np.testing.assert_array_equal(fixed.predict(X_test), expected)
    # The wrapper refits a clone: same seed, same probabilities.
    np.testing.assert_allclose(fixed.predict_proba(X_test)[:, 1], proba, atol=1e-6)
    low = FixedThresholdClassifier(pipe, threshold=0.2).fit(X, y).predict(X_test).sum()
    high = FixedThresholdClassifier(pipe, threshold=0.8).fit(X, y).predict(X_test).sum()
    assert low >= high


def test_calibrated_classifier_cv_around_a_pipeline(data):
    X, y, X_test, y_test = data
    calibrated = CalibratedClassifierCV(make_pipe(), cv=3).fit(X, y)
    assert len(calibrated.calibrated_classifiers_) == 3
    proba = calibrated.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    scores = classification_scores(y_test, calibrated.predict(X_test), proba)
    assert 0 <= scores["brier"] <= 1 and 0 <= scores["ece"] <= 1


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scans")
    data = make_synthetic_mri(36, image_size=SIZE, random_state=2)
    for i, (image, label) in enumerate(zip(data.data, data.target, strict=True)):
        sub = folder / ("yes" if label else "no")
        sub.mkdir(exist_ok=True)
        Image.fromarray(image).save(sub / f"scan{i}.png")
    return folder


def test_cli_train_min_recall_writes_threshold_and_model_card(image_folder, tmp_path, capsys):
    out = tmp_path / "simple.skbrain"
    code = main(["train", "--model", "simple", "--data", str(image_folder), "--image-size",
                 str(SIZE), "--set", "max_epochs=3", "--set", "n_kernels=4", "--quiet",
                 "--min-recall", "0.95", "--output", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "threshold" in printed and "precision" in printed
    report = json.loads(out.with_name("simple.metrics.json").read_text())
    info = report["threshold"]
    assert info["min_recall"] == 0.95 and info["cv"] == 3
    assert 0 <= info["threshold"] <= 1
    assert set(info["test_default"]) == set(info["test_threshold"]) == {"precision", "recall"}
    assert info["precision_cost"] == pytest.approx(
        info["test_default"]["precision"] - info["test_threshold"]["precision"])
    model = load_model(out)
    assert isinstance(model[-1], FixedThresholdClassifier)
    assert model[-1].threshold == pytest.approx(info["threshold"])
    paths = sorted(str(p) for p in image_folder.glob("*/*.png"))
    proba = model.predict_proba(paths)[:, 1]
    np.testing.assert_array_equal(model.predict(paths), (proba >= info["threshold"]).astype(int))
    card = out.with_name("simple.model_card.md").read_text()
    assert f"{info['threshold']:.4f}" in card
    assert "not a diagnostic device" in card
    assert "distinct pictures" in card and "Chosen as the highest threshold" in card


def test_cli_min_recall_must_be_a_share(capsys):
    assert main(["train", "--model", "simple", "--min-recall", "1.5"]) == 2
    assert "--min-recall" in capsys.readouterr().err


def test_decide_at_freezes_a_fitted_pipeline_with_any_labels_and_saves(data, tmp_path):
    X, y, X_test, _ = data
    labels = np.array(["none", "tumor"])[y]
    pipe = make_pipe().fit(X, labels)
    proba = pipe.predict_proba(X_test)[:, 1]
    threshold = float(np.median(proba))
    fixed = decide_at(pipe, threshold, pos_label="tumor")
    assert fixed.estimator_.estimator is pipe
    np.testing.assert_array_equal(fixed.predict(X_test),
                                  np.where(proba >= threshold, "tumor", "none"))
    path = tmp_path / "at_median.skbrain"
    save_model(fixed, path)
    loaded = load_model(path)
    assert loaded.threshold == pytest.approx(threshold)
    np.testing.assert_array_equal(loaded.predict(X_test), fixed.predict(X_test))
    # pos_label=None: the second class, as in scikit-learn.
    np.testing.assert_array_equal(decide_at(pipe, threshold).predict(X_test),
                                  fixed.predict(X_test))


def test_decide_at_refuses_an_unfitted_model_and_an_unknown_class(data):
    X, y, _, _ = data
    with pytest.raises(ValueError, match="needs a fitted two-class classifier"):
        decide_at(make_pipe(), 0.5)
    with pytest.raises(ValueError, match="pos_label 'yes' is not one of"):
        decide_at(make_pipe().fit(X, y), 0.5, pos_label="yes")


def test_tune_threshold_refuses_more_than_two_classes():
    X = np.zeros((9, 3, SIZE, SIZE), dtype=np.float32)
    with pytest.raises(ValueError, match="min_recall is for two classes"):
        tune_threshold_for_recall(SimpleCNNClassifier(**FAST), X, np.arange(9) % 3,
                                  min_recall=0.9)
