"""The estimator base: input validation, devices, parameter routing."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skbrain import ResNetClassifier, SimpleCNNClassifier
from skbrain._device import DEVICE_DEFAULTS, resolve_device

FAST = {"max_epochs": 1, "batch_size": 8, "random_state": 0}


@pytest.mark.parametrize(("cuda", "mps", "expected"),
                         [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_device_prefers_cuda_then_mps_then_the_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert resolve_device("auto") == resolve_device() == resolve_device(None) == expected


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
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


def test_grayscale_three_d_input_is_one_channel_and_flattened_images_are_refused(
        synthetic_images):
    X, y = synthetic_images
    gray = X[:, 0]
    clf = SimpleCNNClassifier(**FAST).fit(gray, y)
    assert clf.image_shape_ == (1, 32, 32)
    assert clf.predict(gray).shape == (len(y),)
    flat = gray.reshape(len(gray), -1)
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, channels, height"):
        SimpleCNNClassifier(**FAST).fit(flat, y)


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


@pytest.mark.parametrize("estimator", [
    SimpleCNNClassifier(device="cpu", **FAST),
    ResNetClassifier(18, pretrained=False, device="cpu", **FAST),
], ids=["hand-made", "backbone"])
def test_channels_last_follows_the_device_table_unless_set(estimator, synthetic_images):

    X, y = synthetic_images
    fitted = clone(estimator).fit(X[:16], y[:16])
    assert fitted.net_.module_.channels_last and fitted.channels_last_
    y_encoded = fitted._encode_y(y)
    # The net for another device is only described here, never initialised, so
    # no GPU is needed to see what it would be built with.
    for device in ("cuda", "mps"):
        assert (fitted._build_net(len(X), 3, y_encoded, 0, device).module__channels_last
                is DEVICE_DEFAULTS[device]["channels_last"])
    forced = clone(estimator).set_params(module__channels_last=True)
    forced.classes_ = fitted.classes_
    assert forced._build_net(len(X), 3, y_encoded, 0, "cuda").module__channels_last is True
    off = clone(estimator).set_params(module__channels_last=False).fit(X[:16], y[:16])
    assert not off.net_.module_.channels_last
    assert not next(off.net_.module_.parameters()).is_contiguous(memory_format=torch.channels_last)


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@needs_cuda
def test_cuda_is_picked_by_default_at_the_device_tables_precision(synthetic_images):
    X, y = synthetic_images
    clf = SimpleCNNClassifier(**FAST).fit((X * 255).astype(np.uint8), y)
    assert clf.device_ == "cuda"
    assert next(clf.net_.module_.parameters()).device.type == "cuda"
    # amp="auto" follows the device table (float32 on CUDA until mixed precision pays).
    assert bool(clf.net_.amp) == (DEVICE_DEFAULTS["cuda"]["amp"] is not None)
    assert clf.net_.module_.channels_last == DEVICE_DEFAULTS["cuda"]["channels_last"]
    assert np.isfinite(clf.history_[:, "train_loss"]).all()
    proba = clf.predict_proba((X * 255).astype(np.uint8))
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


@needs_cuda
def test_cuda_without_amp_matches_its_weights_on_the_cpu(synthetic_images):
    import copy

    X, y = synthetic_images
    clf = SimpleCNNClassifier(amp=False, **FAST).fit(X, y)
    assert clf.net_.scaler_ is None
    cpu = copy.deepcopy(clf)
    cpu.net_.module_.to("cpu")
    cpu.net_.device = "cpu"
    np.testing.assert_allclose(cpu.predict_proba(X), clf.predict_proba(X), atol=1e-4)


def test_build_module_is_the_network_fit_starts_from(synthetic_images):
    from skorch.callbacks import Callback

    class FirstWeights(Callback):
        def on_train_begin(self, net, **kwargs):
            self.state = {k: v.clone() for k, v in net.module_.state_dict().items()}

    X, y = synthetic_images
    seen = FirstWeights()
    clf = SimpleCNNClassifier(n_kernels=4, callbacks=[seen], module__channels_last=False,
                              device="cpu", **{**FAST, "random_state": 3})
    built = clf.build_module(in_channels=3, n_classes=2)
    assert built.channels_last is False and built.training
    clf.fit(X[:16], y[:16])
    assert seen.state.keys() == built.state_dict().keys()
    for name, tensor in built.state_dict().items():
        assert torch.equal(tensor, seen.state[name]), name
    # Fitted, it defaults to the fitted channels and classes; a RandomState is not drawn from.
    assert clf.build_module().features[0].in_channels == 3
    state = np.random.RandomState(0)
    before = state.get_state()[1].copy()
    SimpleCNNClassifier(random_state=state).build_module(device="meta")
    np.testing.assert_array_equal(state.get_state()[1], before)


def test_the_base_imports_neither_storage_nor_export():
    import ast
    from pathlib import Path

    import skbrain

    root = Path(skbrain.__file__).parent
    shim = "# deprecated shim: the one upward import, removed with to_onnx"
    for name in ("_base.py", "_net.py", "_transfer.py", "_device.py", "_inputs.py"):
        source = (root / name).read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = (node.module or "").split(".")[0]
                if target in ("export", "persistence", "hub"):
                    assert name == "_base.py" and target == "export", (name, node.lineno)
                    assert lines[node.lineno - 1].endswith(shim)


def test_a_net_to_load_weights_into_takes_the_network_build_module_built(synthetic_images):
    X, y = synthetic_images
    fitted = SimpleCNNClassifier(n_kernels=4, device="cpu", **FAST).fit(X[:16], y[:16])
    module = fitted.build_module(device="cpu", dropout=0.25)
    module.load_state_dict(fitted.module_.state_dict())
    net = fitted._build_net(None, 3, np.arange(2), None, "cpu", module=module).initialize()
    assert net.module_ is module and net.get_params()["module__in_channels"] == 3
    assert "given_module" not in net.prefixes_
    np.testing.assert_allclose(net.predict_proba(X[:4]), fitted.net_.predict_proba(X[:4]),
                               atol=1e-6)
    assert net.initialize().module_ is not module  # used once: a later fit builds afresh
