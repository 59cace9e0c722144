"""Model cards: the sections, numbers that match the evaluation functions, wrappers."""

import re

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline

from skbrain import ImageResizer, SimpleCNNClassifier
from skbrain.datasets import make_synthetic_mri
from skbrain.evaluation import classification_scores
from skbrain.model_card import _resample_scores, model_card
from skbrain.networks import count_parameters

SIZE = 32


@pytest.fixture(scope="module")
def fitted():
    train = make_synthetic_mri(40, image_size=SIZE, random_state=0)
    test = make_synthetic_mri(30, image_size=SIZE, random_state=1)
    pipe = Pipeline([("resize", ImageResizer(SIZE, channels=1)),
                     ("cnn", SimpleCNNClassifier(n_kernels=4, kernel_size=5, max_epochs=3,
                                                 random_state=0))])
    pipe.fit(list(train.data), train.target)
    return pipe, list(test.data), test.target


def _row(card, metric):
    match = re.search(rf"^\| {re.escape(metric)} \| (\S+) \| (\S+) - (\S+) \|$", card, re.M)
    assert match, f"no row for {metric!r}"
    return tuple(float(v) for v in match.groups())


def _without_date(card):
    return "\n".join(line for line in card.splitlines() if not line.startswith("Created "))


def test_card_has_every_section_with_the_right_numbers(fitted):
    pipe, X_test, y_test = fitted
    info = {"class_counts": {1: 20, 0: 20}, "duplicates": "grouped split, 3 groups merged",
            "source": "make_synthetic_mri", "seed": 0}
    card = model_card(pipe, X_test, y_test, training_info=info)
    for heading in ("# Model card: SimpleCNNClassifier", "## Model", "## Training data",
                    "## Evaluation", "## Decision threshold", "## Calibration",
                    "## Intended use", "## Warning"):
        assert heading in card.splitlines()
    assert card.count("not a diagnostic device") == 2  # at the top and in the warning
    module = pipe[-1].module_
    assert f"**Parameters:** {count_parameters(module):,}" in card
    assert "ImageResizer(" in card and "32x32 pixels, 1 channel" in card
    assert "**Training images:** 40 (tumor: 20, no tumor: 20)" in card
    assert "**Duplicate handling:** grouped split, 3 groups merged" in card
    assert "**seed:** 0" in card
    assert "**Images per training epoch:** 40" in card
    assert "Test images: 30 (no tumor: 15, tumor: 15)" in card

    proba = pipe.predict_proba(X_test)
    expected = classification_scores(y_test, pipe.predict(X_test), proba)
    for key, label in (("accuracy", "accuracy"), ("recall", "recall (sensitivity)"),
                       ("f1", "F1"), ("roc_auc", "ROC AUC"),
                       ("brier", "Brier score (lower is better)"),
                       ("ece", "expected calibration error (lower is better)")):
        value, low, high = _row(card, label)
        assert value == pytest.approx(expected[key], abs=5e-4)
        assert low <= value + 5e-4 and value - 5e-4 <= high
    low, high = _row(card, "ROC AUC")[1:]
    assert 0 < high - low < 1
    assert "None: the most probable class is predicted" in card
    # Seeded: the same card again (apart from its date).
    assert _without_date(model_card(pipe, X_test, y_test, training_info=info)) == \
        _without_date(card)


def test_bootstrap_scores_equal_classification_scores_on_each_resample():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    proba = np.round(rng.random(60), 1)  # ties, as real probabilities can have
    y_pred = (proba >= 0.5).astype(int)
    indices = rng.integers(0, 60, (6, 60))
    scores = _resample_scores(y, y_pred, proba, 1, indices)
    for b, rows in enumerate(indices):
        expected = classification_scores(y[rows], y_pred[rows], proba[rows])
        for key, value in expected.items():
            assert scores[key][b] == pytest.approx(value, abs=1e-12), key


def test_threshold_given_or_read_from_a_wrapper(fitted, tmp_path):
    pipe, X_test, y_test = fitted
    path = tmp_path / "card.md"
    card = model_card(pipe, X_test, y_test, path, threshold=0.0, n_bootstrap=50)
    assert path.read_text(encoding="utf-8") == card
    assert "0.0000, given to model_card" in card
    # Threshold 0 calls every image a tumor.
    assert _row(card, "recall (sensitivity)")[0] == 1.0
    assert _row(card, "specificity")[0] == 0.0

    fixed = FixedThresholdClassifier(FrozenEstimator(pipe), threshold=0.3).fit(X_test, y_test)
    card = model_card(fixed, X_test, y_test, n_bootstrap=50)
    assert "0.3000, fixed (FixedThresholdClassifier)" in card
    expected = classification_scores(y_test, fixed.predict(X_test), pos_label=1)
    assert _row(card, "recall (sensitivity)")[0] == pytest.approx(expected["recall"], abs=5e-4)


def test_calibration_wrapper_is_reported(fitted):
    pipe, X_test, y_test = fitted
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipe), method="sigmoid")
    calibrated.fit(X_test[:15], y_test[:15])
    card = model_card(calibrated, X_test[15:], y_test[15:], n_bootstrap=50)
    assert "Calibration step: CalibratedClassifierCV(method='sigmoid'" in card
    assert "# Model card: SimpleCNNClassifier" in card


def test_a_vote_of_networks_is_reported(fitted):
    from sklearn.ensemble import VotingClassifier

    pipe, X_test, y_test = fitted
    vote = VotingClassifier([(f"s{i}", FrozenEstimator(pipe[-1])) for i in range(2)],
                            voting="soft").fit(pipe[0].transform(X_test[:4]), y_test[:4])
    card = model_card(Pipeline([("resize", pipe[0]), ("vote", vote)]), X_test, y_test,
                      n_bootstrap=50)
    assert ("* **Vote:** the probabilities of 2 networks like the one described (each its own "
            "seed) averaged (VotingClassifier, voting='soft')") in card
    assert "* **Vote:**" not in model_card(pipe, X_test, y_test, n_bootstrap=50)


def test_bad_arguments_are_named(fitted):
    pipe, X_test, y_test = fitted
    with pytest.raises(ValueError, match="threshold must be"):
        model_card(pipe, X_test, y_test, threshold=1.5)
    with pytest.raises(ValueError, match="n_bootstrap"):
        model_card(pipe, X_test, y_test, n_bootstrap=0)
    with pytest.raises(ValueError, match="different lengths"):
        model_card(pipe, X_test, y_test[:-1])
    logistic = LogisticRegression().fit(np.random.default_rng(0).random((10, 2)), [0, 1] * 5)
    with pytest.raises(TypeError, match="skbrain estimator"):
        model_card(logistic, np.zeros((4, 2)), [0, 1, 0, 1])
