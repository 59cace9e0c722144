"""Behaviour every hand-made estimator shares, trained for real on tiny images."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import RandomizedSearchCV, StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from skbrain import (
    CNNClassifier,
    CompactCNNClassifier,
    DeepCNNClassifier,
    ImageResizer,
    PyramidCNNClassifier,
    SimpleCNNClassifier,
    TwoConvCNNClassifier,
    WideCNNClassifier,
    load_brain_mri,
)
from skbrain.networks import ARCHITECTURES

ESTIMATORS = [
    SimpleCNNClassifier,
    TwoConvCNNClassifier,
    WideCNNClassifier,
    DeepCNNClassifier,
    PyramidCNNClassifier,
    CompactCNNClassifier,
    CNNClassifier,
]
FAST = {"max_epochs": 2, "batch_size": 8, "random_state": 0}


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_predict_shapes_labels_and_probabilities(Estimator, synthetic_images):
    X, y = synthetic_images
    labels = np.where(y == 1, "yes", "no")
    clf = Estimator(**FAST).fit(X, labels)
    assert list(clf.classes_) == ["no", "yes"]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    pred = clf.predict(X)
    assert pred.dtype == labels.dtype and set(pred) <= {"no", "yes"}
    assert clf.n_features_in_ == 3 and clf.image_shape_ == (3, 32, 32)
    assert clf.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    assert len(clf.history_) == FAST["max_epochs"]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_init_stores_arguments_unchanged(Estimator):
    params = Estimator().get_params()
    assert Estimator(**params).get_params() == params
    assert not hasattr(Estimator(), "net_")


def test_same_random_state_gives_identical_predictions(synthetic_images):
    X, y = synthetic_images
    a = WideCNNClassifier(**FAST).fit(X, y).predict_proba(X)
    b = WideCNNClassifier(**FAST).fit(X, y).predict_proba(X)
    c = WideCNNClassifier(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_learns_synthetic_tumors_well_above_chance():
    from skbrain.datasets import make_synthetic_mri

    data = make_synthetic_mri(160, image_size=48, random_state=1)
    X = data.data[:, None]  # uint8 images, scaled by the estimator
    clf = CompactCNNClassifier(n_kernels=8, max_epochs=12, random_state=0)
    clf.fit(X[:120], data.target[:120])
    assert f1_score(data.target[120:], clf.predict(X[120:])) > 0.8


def test_pickle_round_trip_gives_identical_predictions(synthetic_images):
    X, y = synthetic_images
    clf = TwoConvCNNClassifier(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_clone_carries_no_fitted_state_and_routes_skorch_parameters(synthetic_images):
    X, y = synthetic_images
    clf = WideCNNClassifier(module__global_pool="avg", optimizer__betas=(0.8, 0.9), **FAST)
    fitted = clf.fit(X, y)
    copy = clone(fitted)
    assert not hasattr(copy, "net_")
    assert copy.get_params()["module__global_pool"] == "avg"
    assert fitted.module_.global_pool == "avg"
    assert fitted.net_.optimizer_.defaults["betas"] == (0.8, 0.9)
    copy.set_params(module__global_pool="max", n_kernels=4)
    assert copy.module__global_pool == "max" and copy.n_kernels == 4


def test_unknown_keyword_is_rejected_with_its_name():
    with pytest.raises(TypeError, match="'n_kernel'"):
        WideCNNClassifier(n_kernel=3)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_cnn_classifier_every_architecture_trains(architecture, synthetic_images):
    X, y = synthetic_images
    clf = CNNClassifier(architecture=architecture, n_kernels=4, n_kernels_2=6, **FAST)
    assert clf.fit(X, y).predict(X).shape == (len(X),)


def test_uint8_and_float_inputs_agree(synthetic_images):
    X, y = synthetic_images
    X8 = np.round(X * 255).astype(np.uint8)
    clf = SimpleCNNClassifier(**FAST).fit(X8, y)
    np.testing.assert_allclose(
        clf.predict_proba(X8), clf.predict_proba(X8.astype(np.float32) / 255), atol=1e-5
    )


def test_tta_averages_views_and_stays_a_distribution(synthetic_images):
    X, y = synthetic_images
    clf = DeepCNNClassifier(**FAST).fit(X, y)
    plain = clf.predict_proba(X)
    clf.set_params(tta=3)
    averaged = clf.predict_proba(X)
    np.testing.assert_allclose(averaged.sum(axis=1), 1, atol=1e-6)
    assert not np.allclose(plain, averaged)


def test_class_weight_balanced_and_dict_reach_the_loss(synthetic_images):
    X, y = synthetic_images
    clf = SimpleCNNClassifier(class_weight="balanced", **FAST).fit(X, y)
    weight = clf.net_.criterion_.weight
    counts = np.bincount(y)
    np.testing.assert_allclose(weight.cpu().numpy(), len(y) / (2 * counts), rtol=1e-6)
    labels = np.where(y == 1, "yes", "no")
    clf = SimpleCNNClassifier(class_weight={"yes": 3.0}, **FAST).fit(X, labels)
    np.testing.assert_allclose(clf.net_.criterion_.weight.cpu().numpy(), [1.0, 3.0])
    with pytest.raises(ValueError, match="class_weight names labels"):
        SimpleCNNClassifier(class_weight={"maybe": 2.0}, **FAST).fit(X, labels)


def test_early_stopping_holds_out_a_validation_split(synthetic_images):
    X, y = synthetic_images
    clf = SimpleCNNClassifier(early_stopping=1, max_epochs=6, random_state=0).fit(X, y)
    assert "valid_loss" in clf.history_[-1]
    assert len(clf.history_) <= 6


def test_verbose_prints_one_line_per_epoch(synthetic_images, capsys):
    X, y = synthetic_images
    SimpleCNNClassifier(verbose=1, **FAST).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()[:1].isdigit()]
    assert len(lines) == FAST["max_epochs"]


def test_search_over_a_pipeline_on_real_paths_sets_best_params(real_data):
    data = load_brain_mri(real_data)
    rng = np.random.RandomState(0)
    keep = rng.choice(len(data.data), 60, replace=False)
    pipe = Pipeline([("resize", ImageResizer(32)), ("cnn", WideCNNClassifier(**FAST))])
    search = RandomizedSearchCV(
        pipe,
        {"cnn__n_kernels": [4, 8], "cnn__kernel_size": [3, 5], "cnn__lr": [1e-3, 3e-3]},
        n_iter=2,
        cv=StratifiedGroupKFold(3),
        scoring="f1",
        random_state=0,
    )
    search.fit(data.data[keep], data.target[keep], groups=data.groups[keep])
    assert set(search.best_params_) == {"cnn__n_kernels", "cnn__kernel_size", "cnn__lr"}
    assert np.isfinite(search.best_score_)
    assert search.predict(data.data[keep[:5]]).shape == (5,)


def test_wide_net_on_real_images_beats_always_tumor(real_data):
    from sklearn.model_selection import GroupShuffleSplit

    data = load_brain_mri(real_data)
    X = ImageResizer(64, dtype="uint8").transform(data.data)
    train, test = next(GroupShuffleSplit(1, test_size=0.25, random_state=0).split(
        X, data.target, data.groups))
    clf = WideCNNClassifier(max_epochs=15, random_state=0).fit(X[train], data.target[train])
    f1 = f1_score(data.target[test], clf.predict(X[test]))
    baseline = f1_score(data.target[test], np.ones(len(test), dtype=int))
    assert f1 > baseline


@pytest.mark.parametrize(
    "Estimator, architecture",
    [
        (SimpleCNNClassifier, "simple"),
        (TwoConvCNNClassifier, "two-conv"),
        (WideCNNClassifier, "wide"),
        (DeepCNNClassifier, "deep"),
        (PyramidCNNClassifier, "pyramid"),
        (CompactCNNClassifier, "compact"),
    ],
)
def test_cnn_classifier_presets_match_the_named_classes(Estimator, architecture):
    from skbrain.networks import ARCHITECTURE_DEFAULTS

    named = Estimator().get_params()
    for name, value in ARCHITECTURE_DEFAULTS[architecture].items():
        assert named[name] == value
    module, general = CNNClassifier(architecture=architecture)._module_spec()
    assert general.pop("batch_norm") is True
    assert (module, general) == Estimator()._module_spec()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pool_first_reaches_the_network_and_both_orders_learn(Estimator, synthetic_images):
    X, y = synthetic_images
    kinds = {}
    for pool_first in (True, False):
        clf = Estimator(n_kernels=4, pool_first=pool_first, **FAST).fit(X, y)
        names = [type(m).__name__ for m in clf.module_.features]
        kinds[pool_first] = names[names.index("_ClampedMaxPool") - 1]
        assert np.isfinite(clf.predict_proba(X)).all()
    assert kinds == {True: "Conv2d", False: "ReLU"}


def test_compact_net_has_one_full_resolution_convolution_unless_asked(synthetic_images):
    X, y = synthetic_images

    def convs_before_first_pool(clf):
        names = [type(m).__name__ for m in clf.module_.features]
        return names[: names.index("_ClampedMaxPool")].count("Conv2d")

    default = CompactCNNClassifier(n_kernels=4, **FAST).fit(X, y)
    assert convs_before_first_pool(default) == 1
    classic = CompactCNNClassifier(n_kernels=4, module__first_block_convs=2, **FAST).fit(X, y)
    assert convs_before_first_pool(classic) == 2
    assert np.isfinite(classic.predict_proba(X)).all()
