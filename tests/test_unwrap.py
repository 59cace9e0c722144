"""One helper finds the skbrain estimator inside every wrapper the tools meet."""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    FixedThresholdClassifier,
    GridSearchCV,
    TunedThresholdClassifierCV,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skbrain import SimpleCNNClassifier
from skbrain._unwrap import positive_column, unwrap
from skbrain.datasets import make_synthetic_mri


def _pipe():
    scale = FunctionTransformer(lambda X: X)  # stands for ImageResizer on arrays
    return Pipeline([("scale", scale), ("cnn", SimpleCNNClassifier(n_kernels=2, max_epochs=1,
                                                                    random_state=0))])


def _vote():
    return VotingClassifier([(f"s{i}", SimpleCNNClassifier(n_kernels=2, max_epochs=1,
                                                           random_state=i)) for i in range(2)],
                            voting="soft")


@pytest.fixture(scope="module")
def data():
    bunch = make_synthetic_mri(24, image_size=24, random_state=0)
    return bunch.data, bunch.target


WRAPPERS = {
    "bare": lambda: SimpleCNNClassifier(n_kernels=2, max_epochs=1, random_state=0),
    "pipeline": _pipe,
    "fixed": lambda: FixedThresholdClassifier(_pipe(), threshold=0.3),
    "tuned": lambda: TunedThresholdClassifierCV(_pipe(), cv=2, random_state=0),
    "calibrated": lambda: CalibratedClassifierCV(_pipe(), cv=2),
    "search": lambda: GridSearchCV(_pipe(), {"cnn__lr": [1e-3]}, cv=2),
    "fixed-search": lambda: FixedThresholdClassifier(
        GridSearchCV(_pipe(), {"cnn__lr": [1e-3]}, cv=2), threshold=0.7),
    "vote": lambda: Pipeline([("scale", FunctionTransformer(lambda X: X)), ("cnn", _vote())]),
}


@pytest.mark.parametrize("kind", list(WRAPPERS))
def test_finds_the_fitted_estimator_its_steps_and_threshold(kind, data):
    X, y = data
    model = WRAPPERS[kind]().fit(X, y)
    found = unwrap(model)
    assert isinstance(found.estimator, SimpleCNNClassifier)
    assert hasattr(found.estimator, "net_")
    assert [name for name, _ in found.steps] == ([] if kind == "bare" else ["scale"])
    np.testing.assert_array_equal(found.transform(X[:2]), X[:2])
    expected = {"fixed": 0.3, "fixed-search": 0.7}.get(kind)
    if kind == "tuned":
        assert found.threshold == pytest.approx(model.best_threshold_)
        assert found.threshold_source.startswith("tuned by cross-validation")
    else:
        assert found.threshold == expected
    assert (found.calibration is not None) == (kind == "calibrated")
    if kind == "vote":  # its first member stands for the others
        assert found.vote is model[-1] and found.estimator is model[-1].estimators_[0]
        with pytest.raises(ValueError, match="holds a VotingClassifier of 2 .* estimators_"):
            unwrap(model, export=True)
    else:
        assert found.vote is None


def test_a_frozen_estimator_is_stepped_through_not_taken_for_what_it_forwards(data):
    from sklearn.frozen import FrozenEstimator

    X, y = data
    vote = _vote().fit(X, y)
    found = unwrap(FixedThresholdClassifier(FrozenEstimator(vote), threshold=0.2).fit(X, y))
    assert type(found.vote) is VotingClassifier and found.vote is vote
    assert found.estimator is vote.estimators_[0] and found.threshold == 0.2
    tuned = TunedThresholdClassifierCV(_pipe(), cv=2, random_state=0).fit(X, y)
    found = unwrap(FrozenEstimator(tuned))
    assert "(TunedThresholdClassifierCV, scoring=" in found.threshold_source
    assert found.vote is None and found.steps[0][0] == "scale"


def test_refuses_a_model_without_a_skbrain_estimator_and_names_it():
    with pytest.raises(TypeError, match="found LogisticRegression inside Pipeline"):
        unwrap(Pipeline([("lr", LogisticRegression())]), fitted=False)


def test_unfitted_estimator_is_refused_only_when_fitted_is_asked():
    with pytest.raises(NotFittedError):
        unwrap(_pipe())
    assert isinstance(unwrap(_pipe(), fitted=False).estimator, SimpleCNNClassifier)


def test_positive_column_follows_classes_and_refuses_unknown_labels():
    assert positive_column(np.array([0, 1]), 1) == 1
    assert positive_column(["tumor", "healthy"], "tumor") == 0
    with pytest.raises(ValueError, match="pos_label 'x' is not one of"):
        positive_column(["a", "b"], "x")
