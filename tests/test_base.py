"""The estimator base: input validation, devices, parameter routing."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skbrain import SimpleCNNClassifier
from skbrain._base import resolve_device

FAST = {"max_epochs": 1, "batch_size": 8, "random_state": 0}


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else resolve_device())
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda:1")


def test_predict_before_fit_raises_not_fitted(synthetic_images):
    X, _ = synthetic_images
    with pytest.raises(NotFittedError):
        SimpleCNNClassifier().predict(X)


def test_file_paths_get_a_message_pointing_to_image_resizer():
    with pytest.raises(ValueError, match="ImageResizer"):
        SimpleCNNClassifier(**FAST).fit(["a.jpg", "b.jpg"], [0, 1])


def test_channels_last_input_is_refused_with_a_hint(synthetic_images):
    X, y = synthetic_images
    with pytest.raises(ValueError, match="channels-last"):
        SimpleCNNClassifier(**FAST).fit(X.transpose(0, 2, 3, 1), y)


def test_nan_images_are_refused(synthetic_images):
    X, y = synthetic_images
    X = X.copy()
    X[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SimpleCNNClassifier(**FAST).fit(X, y)


def test_one_class_and_length_mismatch_are_refused(synthetic_images):
    X, y = synthetic_images
    with pytest.raises(ValueError, match="only one class"):
        SimpleCNNClassifier(**FAST).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="different lengths|inconsistent numbers"):
        SimpleCNNClassifier(**FAST).fit(X, y[:-1])


def test_channel_count_must_match_at_predict(synthetic_images):
    X, y = synthetic_images
    clf = SimpleCNNClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :1])


@pytest.mark.parametrize(
    "param, value, message",
    [
        ("max_epochs", 0, "max_epochs must be a positive integer"),
        ("batch_size", 2.5, "batch_size must be a positive integer"),
        ("lr", -1.0, "lr must be a positive number"),
        ("lr_schedule", "step", "lr_schedule must be one of"),
        ("optimizer", "lbfgs2", "optimizer must be one of"),
        ("tta", 9, "tta must be an integer"),
        ("amp", "sometimes", "amp must be"),
        ("class_weight", "heavy", "class_weight must be"),
    ],
)
def test_bad_training_parameters_are_named(param, value, message, synthetic_images):
    X, y = synthetic_images
    with pytest.raises(ValueError, match=message):
        SimpleCNNClassifier(**{**FAST, param: value}).fit(X, y)


def test_grayscale_three_d_and_two_d_inputs(synthetic_images):
    X, y = synthetic_images
    gray = X[:, 0]
    clf = SimpleCNNClassifier(**FAST).fit(gray, y)
    assert clf.image_shape_ == (1, 32, 32)
    flat = gray.reshape(len(gray), -1)
    clf = SimpleCNNClassifier(**FAST).fit(flat, y)
    assert clf.n_features_in_ == flat.shape[1]
    assert clf.predict(flat).shape == (len(y),)


def test_fit_leaves_the_global_torch_rng_alone(synthetic_images):
    X, y = synthetic_images
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    SimpleCNNClassifier(**FAST).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_multiclass_labels_work(synthetic_images):
    X, y = synthetic_images
    labels = np.array(["a", "b", "c", "d"])[np.arange(len(y)) % 4]
    clf = SimpleCNNClassifier(**FAST).fit(X, labels)
    assert clf.predict_proba(X).shape == (len(X), 4)


def test_optimizer_class_and_sgd_without_weight_decay(synthetic_images):
    X, y = synthetic_images
    clf = SimpleCNNClassifier(optimizer=torch.optim.SGD, weight_decay=0, **FAST).fit(X, y)
    assert isinstance(clf.net_.optimizer_, torch.optim.SGD)
