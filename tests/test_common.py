"""scikit-learn's common estimator checks on every public estimator.

Small settings keep the module fast. The estimators refuse 2-D X (flattened
images must not train silently), and sklearn's checks feed 2-D tabular data:
they run on a subclass of each estimator, of the same name, that reads rows of
features as one-row grayscale images, so almost every check applies.
"""

import types

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbrain.classifiers import (
    CNNClassifier,
    CompactCNNClassifier,
    DeepCNNClassifier,
    PyramidCNNClassifier,
    SimpleCNNClassifier,
    TwoConvCNNClassifier,
    WideCNNClassifier,
)
from skbrain.preprocessing import ImageResizer
from skbrain.pretrained import TimmClassifier

# sklearn's tabular data lies outside [0, 1]; the pretrained estimator rightly
# warns that it expects images there.
pytestmark = pytest.mark.filterwarnings(
    "ignore:TimmClassifier normalises its input itself:UserWarning"
)

FAST = {"max_epochs": 3, "batch_size": 32, "augment": False, "random_state": 0}


class Tabular:
    """Holds the tabular-reading subclasses, so that pickle finds them by name."""


def _tabular(cls):
    kwds = {"architecture": cls._architecture} if hasattr(cls, "_architecture") else {}
    sub = types.new_class(cls.__name__, (cls,), kwds,
                          lambda ns: ns.update(_accepts_tabular_X=True, __module__=__name__,
                                                    __doc__=cls.__doc__))
    sub.__qualname__ = f"Tabular.{cls.__name__}"
    sub.__doc__ = None  # its class's examples would run again as doctests of this module
    setattr(Tabular, cls.__name__, sub)
    return sub


CLASSIFIERS = [
    _tabular(SimpleCNNClassifier)(n_kernels=4, **FAST),
    _tabular(TwoConvCNNClassifier)(n_kernels=4, n_kernels_2=4, **FAST),
    _tabular(WideCNNClassifier)(n_kernels=4, **FAST),
    _tabular(DeepCNNClassifier)(n_kernels=4, **FAST),
    _tabular(PyramidCNNClassifier)(n_kernels=4, **FAST),
    _tabular(CompactCNNClassifier)(n_kernels=4, **FAST),
    _tabular(CNNClassifier)(architecture="deep", n_kernels=4, **FAST),
    _tabular(TimmClassifier)("mobilenetv3_small_050", pretrained=False,
                             **{**FAST, "max_epochs": 2}),
]
# ImageResizer takes images, not 2-D tabular X (its tags say so), so
# parametrize_with_checks skips it with a SkipTestWarning; the checks that
# need no data run on it below. The classifiers share their sklearn contract
# (BaseCNNClassifier) and differ in their network only, so make test runs the
# checks on the simple net and on CNNClassifier; the other named nets' and the
# timm network's take minutes on two cores (about 650 s of loaded runs), so
# they run in the second tier.
FIRST_TIER = (SimpleCNNClassifier, CNNClassifier)
ESTIMATORS = [clf for clf in CLASSIFIERS if type(clf).__bases__[0] in FIRST_TIER]
SECOND_TIER = [clf for clf in CLASSIFIERS if type(clf).__bases__[0] not in FIRST_TIER]

# Checks that cannot apply, each with its reason.
EXPECTED_FAILED_CHECKS = {
    "check_do_not_raise_errors_in_init_or_set_params": (
        "the check passes the **kwargs catch-all as a parameter literally named "
        "'kwargs'; extra keywords must carry a skorch prefix (module__, optimizer__...) "
        "to be routed, and a misspelt one raises TypeError at construction as any "
        "Python callable does, instead of being silently ignored"
    ),
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.tier2
@parametrize_with_checks(SECOND_TIER, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator_second_tier(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check_name",
    [
        "check_estimator_cloneable",
        "check_estimator_repr",
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_do_not_raise_errors_in_init_or_set_params",
        "check_estimator_tags_renamed",
        "check_valid_tag_types",
        "check_mixin_order",
    ],
)
def test_image_resizer_passes_the_checks_that_need_no_tabular_data(check_name):
    getattr(estimator_checks, check_name)("ImageResizer", ImageResizer(size=8))


def test_image_resizer_is_stateless_fit_idempotent_and_keeps_the_input():
    X = np.random.RandomState(0).randint(0, 256, (5, 12, 9), dtype=np.uint8)
    X_before = X.copy()
    resizer = ImageResizer(size=8, channels=1)
    unfitted = resizer.transform(X)
    assert resizer.fit(X) is resizer and not [k for k in vars(resizer) if k.endswith("_")]
    np.testing.assert_array_equal(resizer.fit_transform(X), unfitted)
    np.testing.assert_array_equal(resizer.transform(X[2:3])[0], unfitted[2])
    np.testing.assert_array_equal(X, X_before)


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.RandomState(0)
    X = rng.rand(12, 1, 8, 8).astype(np.float32)
    y = np.array(["no", "yes"] * 6)
    X[y == "yes", :, 2:6, 2:6] += 0.5
    return X, y


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=lambda e: type(e).__name__)
def test_params_round_trip_through_clone_and_set_params(estimator):
    params = estimator.get_params()
    twin = clone(estimator)
    assert twin.get_params() == params
    assert twin.set_params(**params).get_params() == params
    twin.set_params(max_epochs=1, iterator_train__num_workers=0)
    assert twin.max_epochs == 1 and twin.get_params()["iterator_train__num_workers"] == 0
    assert clone(twin).get_params()["iterator_train__num_workers"] == 0
    assert estimator.get_params() == params


def test_unknown_keyword_is_refused_naming_the_prefixes():
    with pytest.raises(TypeError, match="unexpected keyword argument 'epochs'.*module__"):
        SimpleCNNClassifier(epochs=3)


def test_fitted_state_n_features_in_and_not_fitted_error(tiny):
    X, y = tiny
    clf = SimpleCNNClassifier(n_kernels=4, **FAST)
    assert not clf.__sklearn_is_fitted__()
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            method(X)
    clf.fit(X, y)
    assert clf.__sklearn_is_fitted__()
    # n_features_in_ counts the channels of images, the columns of tabular X.
    assert clf.n_features_in_ == 1 and clf.image_shape_ == (1, 8, 8)
    assert clf.predict_proba(X).shape == (12, 2)
    assert not clone(clf).__sklearn_is_fitted__()
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, channels"):
        clf.predict(X[:, 0, 0, :])
    tabular = Tabular.SimpleCNNClassifier(n_kernels=4, **FAST).fit(X[:, 0, 0, :], y)
    assert tabular.n_features_in_ == 8 and tabular.image_shape_ == (1, 1, 8)
    with pytest.raises(ValueError, match="X has 5 features, but SimpleCNNClassifier is "
                                         "expecting 8"):
        tabular.predict(X[:, 0, 0, :5])
