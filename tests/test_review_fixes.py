"""The bugs of issue 28's review, each with the test that guards it."""

import numpy as np
import pytest
import torch

from skbrain import SimpleCNNClassifier


def test_one_cycle_schedule_counts_the_images_the_grouped_split_trains_on():
    # Groups of three: the grouped split holds out 3 or 6 images where the
    # plain fraction would hold out 4, so a schedule sized from the fraction
    # ran out of steps (seed 1: "Tried to step 5 times ... total steps is 4").
    X = np.random.default_rng(0).random((36, 1, 16, 16), dtype=np.float32)
    groups = np.arange(36) // 3
    y = groups % 2
    for seed in range(4):
        clf = SimpleCNNClassifier(n_kernels=2, max_epochs=2, batch_size=16, early_stopping=True,
                                  random_state=seed, device="cpu").fit(X, y, groups=groups)
        assert len(clf.history_) == 2
        valid = clf.net_.train_split.cv.test_fold == 0
        assert not set(groups[valid]) & set(groups[~valid])


def test_two_dimensional_X_is_refused_naming_the_image_shape():
    X = np.random.default_rng(0).random((12, 64), dtype=np.float32)
    y = np.array([0, 1] * 6)
    clf = SimpleCNNClassifier(n_kernels=2, max_epochs=1, device="cpu")
    expected = r"X must have shape \(n_samples, channels, height, width\); got a 2-D .*\(12, 64\)"
    with pytest.raises(ValueError, match=expected):
        clf.fit(X, y)
    assert not clf.__sklearn_is_fitted__()
    clf.fit(X.reshape(12, 1, 8, 8), y)
    with pytest.raises(ValueError, match=expected):
        clf.predict(X)
    assert clf.__sklearn_tags__().input_tags.two_d_array is False


def test_search_best_estimator_leaves_the_estimator_it_is_given_alone(synthetic_images):
    from skbrain.search import search_best_estimator

    X, y = synthetic_images
    given = SimpleCNNClassifier(n_kernels=2, max_epochs=1, verbose=1, device="cpu")
    before = given.get_params()
    best, summary = search_best_estimator(given, X, y, n_iter=1, cv=2, fixed=["lr"])
    assert given.get_params() == before and given.verbose == 1
    assert not given.__sklearn_is_fitted__()
    assert best is not given and best.__sklearn_is_fitted__() and best.verbose == 0


def test_export_refuses_a_calibrated_model_instead_of_exporting_one_fold(tmp_path):
    pytest.importorskip("onnx")
    from sklearn.calibration import CalibratedClassifierCV

    from skbrain._unwrap import unwrap
    from skbrain.export import check_onnx, to_onnx

    X = np.random.default_rng(0).random((16, 1, 16, 16), dtype=np.float32)
    y = np.array([0, 1] * 8)
    net = SimpleCNNClassifier(n_kernels=2, max_epochs=1, random_state=0, device="cpu")
    calibrated = CalibratedClassifierCV(net, cv=2).fit(X, y)
    for export in (lambda: to_onnx(calibrated, tmp_path / "m.onnx", image_size=16),
                   lambda: check_onnx(tmp_path / "m.onnx", calibrated)):
        with pytest.raises(ValueError, match=r"CalibratedClassifierCV \(method='sigmoid', 2 "
                                             r"fold network\(s\) averaged\).*uncalibrated"):
            export()
    assert not (tmp_path / "m.onnx").exists()
    assert unwrap(calibrated).calibration is calibrated  # the other tools still see inside
    fold = calibrated.calibrated_classifiers_[0].estimator
    assert to_onnx(fold, tmp_path / "fold.onnx", image_size=16).exists()


@pytest.fixture
def tiny_architecture():
    from skbrain.networks import ARCHITECTURE_SPECS, register_architecture

    register_architecture(
        "tiny-test", defaults={"n_kernels": 3, "kernel_size": 3, "pool_size": 2, "dropout": 0.0},
        description="a tiny net registered by a test", layers="``k``", study=True,
        search={"n_kernels": (2, 4), "kernel_size": [3], "pool_size": (2, 3)},
    )(lambda k, k2: [k])
    yield "tiny-test"
    del ARCHITECTURE_SPECS["tiny-test"]


def test_an_architecture_registered_after_import_is_found_everywhere(tiny_architecture, capsys):
    from skbrain import CNNClassifier, get_estimator, list_models
    from skbrain.cli import main
    from skbrain.networks import ARCHITECTURE_DEFAULTS, ARCHITECTURES
    from skbrain.registry import MODELS
    from skbrain.search import STUDY_ARCHITECTURES, default_search_space

    X = np.random.default_rng(0).random((12, 1, 16, 16), dtype=np.float32)
    y = np.array([0, 1] * 6)
    fast = {"max_epochs": 1, "random_state": 0, "device": "cpu"}
    by_class = CNNClassifier(architecture=tiny_architecture, **fast).fit(X, y)
    by_name = get_estimator(tiny_architecture, **fast).fit(X, y)
    for clf in (by_class, by_name):
        convs = [m for m in clf.module_.modules() if isinstance(m, torch.nn.Conv2d)]
        assert [c.out_channels for c in convs] == [3]  # the registered widths
        assert clf.predict(X).shape == (12,)
    assert tiny_architecture in ARCHITECTURES and tiny_architecture in STUDY_ARCHITECTURES
    assert ARCHITECTURE_DEFAULTS[tiny_architecture]["n_kernels"] == 3
    assert tiny_architecture in list_models() and MODELS[tiny_architecture].family == "hand-made"
    space = default_search_space(CNNClassifier(architecture=tiny_architecture))
    assert space["kernel_size"] == [3] and tiny_architecture in space["architecture"]
    assert main(["models"]) == 0
    assert "a tiny net registered by a test" in capsys.readouterr().out
    with pytest.raises(ValueError, match="'tiny-test'; got 'tiny-tset'"):
        CNNClassifier(architecture="tiny-tset").fit(X, y)


def test_a_family_registered_after_import_is_listed_and_built_by_name():
    from dataclasses import replace

    from skbrain import get_estimator, list_models
    from skbrain.backbones import FAMILIES, Variant, list_backbones, register_family

    resnet = FAMILIES["resnet"]
    register_family(replace(resnet, name="tiny-family", variants={
        "resnet18_again": Variant({"depth": 18}, "ResNet-18 again", 11177538)}))
    try:
        assert list_backbones("tiny-family") == ["resnet18_again"]
        assert "resnet18-again" in list_models()
        clf = get_estimator("resnet18-again", max_epochs=1)
        assert type(clf).__name__ == "ResNetClassifier" and clf.depth == 18
    finally:
        del FAMILIES["tiny-family"]
    assert "resnet18-again" not in list_models()


@pytest.mark.parametrize(("classes", "positive"), [
    ([0, 1], 1), (["no", "yes"], "yes"), ([1, 2], 1), (["healthy", "tumor"], "tumor"),
])
def test_one_positive_class_rule_for_predictions_scores_searches_and_figures(classes, positive):
    from sklearn.linear_model import LogisticRegression

    from skbrain._positive import positive_column, positive_label
    from skbrain._unwrap import default_pos_label
    from skbrain.evaluation import predict_with_proba
    from skbrain.plotting import plot_predictions
    from skbrain.search import binary_scoring

    column = classes.index(positive)
    assert positive_label(classes) == default_pos_label(classes) == positive
    assert positive_column(classes) == column
    rng = np.random.default_rng(0)
    X = rng.random((20, 3))
    y = np.array(classes * 10)
    model = LogisticRegression().fit(X + (y == positive)[:, None], y)
    _, proba = predict_with_proba(model, X)
    np.testing.assert_allclose(proba, model.predict_proba(X)[:, column])
    assert binary_scoring("f1", y)._kwargs["pos_label"] == positive
    two_columns = np.array([[0.9, 0.1], [0.2, 0.8]])
    figure = plot_predictions(np.zeros((2, 1, 8, 8)), classes, classes, two_columns, n=2)
    shown = [float(ax.get_title().split("p=")[1].rstrip(")")) for ax in figure.axes[:2]]
    assert shown == two_columns[:, column].tolist()
