"""The device-dependent defaults (skbrain._device) and the data path they choose."""

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skbrain import SimpleCNNClassifier
from skbrain._base import _SkbrainNet
from skbrain._device import DEVICE_DEFAULTS, auto_batch_size, training_defaults
from skbrain.datasets import make_synthetic_mri

FAST = {"max_epochs": 2, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def images():
    data = make_synthetic_mri(40, image_size=24, random_state=0)
    X = np.round(data.data * 255).astype(np.uint8)
    return X, data.target


def test_cpu_keeps_batch_16_its_learning_rate_and_float32():
    settings = training_defaults("cpu", (1, 150, 150), batch_size="auto", lr=1e-3, amp="auto")
    assert (settings["batch_size"], settings["lr_factor"], settings["amp"]) == (16, 1.0, None)
    assert settings["channels_last"] is DEVICE_DEFAULTS["cpu"]["channels_last"]


@pytest.mark.parametrize(("bf16", "expected"), [(True, "bfloat16"), (False, "float16")])
def test_cuda_scales_batch_with_image_size_and_lr_with_batch(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    settings = training_defaults("cuda", (3, 150, 150), batch_size="auto", lr=1e-3,
                                 amp="auto", n_train=100_000)
    assert settings["batch_size"] == 128
    assert settings["lr_factor"] == pytest.approx(math.sqrt(128 / 16))
    # "auto" follows the table (float32 on CUDA until bf16 is measured to pay);
    # amp=True takes bf16 where the GPU has it, else float16 with a scaler.
    assert settings["amp"] == DEVICE_DEFAULTS["cuda"]["amp"]
    assert training_defaults("cuda", (3, 150, 150), batch_size="auto", lr=1e-3, amp=True,
                             n_train=100_000)["amp"] == expected
    assert auto_batch_size("cuda:0", (1, 300, 300), 100_000) == 32
    assert auto_batch_size("cuda", (1, 32, 32), 100_000) == 512
    # A small collection keeps at least 8 steps an epoch, and batches of at least 16.
    assert auto_batch_size("cuda", (1, 150, 150), 189) == 16
    assert auto_batch_size("cuda", (1, 150, 150), 60) == 16
    # An explicit batch size is used as given, with the learning rate as given.
    explicit = training_defaults("cuda", (3, 150, 150), batch_size=32, lr=1e-3, amp=False)
    assert (explicit["batch_size"], explicit["lr_factor"], explicit["amp"]) == (32, 1.0, None)
    assert training_defaults("cuda", (3, 64, 64), batch_size=8, lr=1e-3,
                             amp="float16")["amp"] == "float16"


def test_auto_is_stored_as_given_and_resolved_in_fitted_attributes(images):
    X, y = images
    clf = SimpleCNNClassifier(**FAST)
    assert clf.get_params()["batch_size"] == "auto" and clf.get_params()["amp"] == "auto"
    clf.fit(X, y)
    assert clf.get_params()["batch_size"] == "auto"
    assert (clf.batch_size_, clf.amp_, clf.device_) == (16, None, "cpu")
    assert clf.lr_ == clf.lr and clf.channels_last_
    explicit = SimpleCNNClassifier(batch_size=16, amp=False, **FAST).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), explicit.predict_proba(X))


def test_described_cuda_net_gets_the_auto_batch_scaled_lr_and_no_amp_without_cuda(images):
    X, y = images
    big = np.zeros((4000, 1, 150, 150), dtype=np.uint8)
    clf = SimpleCNNClassifier(**FAST)
    clf.classes_ = np.array([0, 1])
    clf.image_shape_ = big.shape[1:]
    # Described, never initialised: no GPU is needed to see what it would be built with.
    net = clf._build_net(len(big), 1, np.arange(2), 0, "cuda")
    assert net.batch_size == 128
    assert net.lr == pytest.approx(clf.lr * math.sqrt(8))
    schedule = dict(net.callbacks)["lr_schedule"]
    assert schedule.kwargs["max_lr"] == pytest.approx(net.lr)
    assert schedule.kwargs["total_steps"] == math.ceil(4000 / 128) * clf.max_epochs
    assert net.file_workers == training_defaults(
        "cuda", (1, 150, 150), batch_size=16, lr=1, amp=False)["num_workers"]


def test_auto_means_each_nets_own_reference_batch_and_scales_from_it(images):
    from skbrain import CNNClassifier, CompactCNNClassifier, WideCNNClassifier
    from skbrain.networks import ARCHITECTURE_SPECS

    # The wide net's kernels and batch were chosen together by CV: 8 on the CPU.
    assert ARCHITECTURE_SPECS["wide"].batch_size == 8
    assert auto_batch_size("cpu", (1, 150, 150), reference=8) == 8
    assert auto_batch_size("cuda", (1, 150, 150), 60, reference=8) == 8
    assert auto_batch_size("cuda", (1, 150, 150), 100_000, reference=8) == 128
    # A reference that is no power of two is still the floor.
    assert auto_batch_size("cuda", (1, 150, 150), 60, reference=12) == 12
    settings = training_defaults("cuda", (1, 150, 150), batch_size="auto", lr=1e-2, amp=False,
                                 n_train=100_000, reference_batch_size=8)
    assert settings["lr_factor"] == pytest.approx(math.sqrt(128 / 8))
    X, y = images
    wide = WideCNNClassifier(**FAST).fit(X, y)
    assert wide.get_params()["batch_size"] == "auto" and wide.batch_size_ == 8
    assert wide.lr_ == wide.lr
    same = WideCNNClassifier(**FAST, batch_size=8).fit(X, y)
    np.testing.assert_array_equal(wide.predict_proba(X), same.predict_proba(X))
    assert CNNClassifier(architecture="wide")._reference_batch_size() == 8
    assert CNNClassifier(architecture="compact")._reference_batch_size() == 16
    assert CompactCNNClassifier()._reference_batch_size() == 16


def test_parameters_are_validated_before_work(images):
    X, y = images
    for bad in ({"batch_size": "big"}, {"amp": "fp8"}, {"compile": "yes"},
                {"accelerator": "cpu"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SimpleCNNClassifier(**FAST, **bad).fit(X, y)
    SimpleCNNClassifier(**{**FAST, "max_epochs": 1}, amp="bfloat16").fit(X, y)


def test_batches_cut_in_one_index_equal_the_row_by_row_loader(images):
    X, y = images
    fast = SimpleCNNClassifier(**FAST).fit(X, y)
    assert type(fast.net_.get_dataset(X)).__name__ == "_BatchArrayDataset"
    # Any DataLoader setting of the user's sends the data through skorch's own loader.
    rows = SimpleCNNClassifier(**FAST, iterator_train__num_workers=0,
                               iterator_valid__num_workers=0).fit(X, y)
    np.testing.assert_array_equal(fast.predict_proba(X), rows.predict_proba(X))
    assert [h["train_loss"] for h in fast.history_] == [h["train_loss"] for h in rows.history_]


def test_losses_read_once_an_epoch_equal_those_read_every_batch(images, monkeypatch):
    X, y = images
    est = SimpleCNNClassifier(**FAST, early_stopping=True)
    every = clone(est).fit(X, y)
    monkeypatch.setattr(_SkbrainNet, "_defer_loss_reads", lambda self: True)
    once = clone(est).fit(X, y)
    for key in ("train_loss", "valid_loss"):
        assert [h[key] for h in once.history_] == [h[key] for h in every.history_]
        assert all(isinstance(b[key], float) for h in once.history_ for b in h["batches"]
                   if key in b)


def test_compile_trains_a_compiled_module_and_predicts_with_the_plain_one(images):
    X, y = images
    plain = SimpleCNNClassifier(**FAST).fit(X, y)
    compiled = SimpleCNNClassifier(**FAST, compile=True, compile__backend="eager").fit(X, y)
    assert not hasattr(compiled.module_, "_orig_mod")
    assert compiled.get_params()["compile"] is True
    np.testing.assert_allclose(compiled.predict_proba(X), plain.predict_proba(X), atol=1e-5)


def test_rows_read_from_files_get_background_workers_when_the_table_says(images, tmp_path):
    X, y = images
    path = tmp_path / "images.u8"
    X.tofile(path)
    mapped = np.memmap(path, dtype=np.uint8, mode="r", shape=X.shape)
    clf = SimpleCNNClassifier(**FAST).fit(mapped, y)
    dataset = clf.net_.get_dataset(mapped, y)
    assert type(dataset).__name__ == "_FileRowsDataset"
    assert clf.net_.get_iterator(dataset, training=True).num_workers == 0  # the CPU's table
    clf.net_.file_workers = 2  # what the CUDA row of the table gives
    loader = clf.net_.get_iterator(dataset, training=True)
    assert (loader.num_workers, loader.pin_memory, loader.batch_size) == (2, True, 16)
    clf.net_.iterator_train__num_workers = 0  # the user's own setting wins
    assert clf.net_.get_iterator(dataset, training=True).num_workers == 0
