"""Models that carry over: ``init_from`` (pretrain, then fine-tune), scanner-like augmentation."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from skbrain import CompactCNNClassifier, TwoConvCNNClassifier
from skbrain.datasets import make_synthetic_mri
from skbrain.persistence import load_model, save_model


class _Snapshot(Callback):
    """The network's tensors as training is about to start (after ``init_from`` copied them)."""

    def on_train_begin(self, net, **kwargs):
        self.state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}


@pytest.fixture(scope="module")
def images():
    data = make_synthetic_mri(24, image_size=24, random_state=0)
    three = np.arange(24) % 3  # a three-class task on the same images
    return data.data, data.target, three


@pytest.fixture(scope="module")
def source(images):
    X, _, three = images
    return TwoConvCNNClassifier(n_kernels=4, n_kernels_2=4, max_epochs=1, batch_size=8,
                                device="cpu", random_state=0).fit(X, three)


def _fine_tune(images, init_from, **params):
    X, y, _ = images
    snapshot = _Snapshot()
    model = TwoConvCNNClassifier(n_kernels=4, n_kernels_2=4, max_epochs=1, batch_size=8,
                                 device="cpu", random_state=1, init_from=init_from,
                                 callbacks=[snapshot], **params)
    return model.fit(X, y), snapshot.state_


def test_init_from_copies_the_backbone_and_rebuilds_the_head(images, source):
    model, start = _fine_tune(images, source)
    theirs = source.module_.state_dict()
    head = [k for k in start if start[k].shape != theirs[k].shape]
    assert head and all(start[k].shape[0] == 2 and theirs[k].shape[0] == 3 for k in head)
    for name, tensor in start.items():
        if name not in head:
            assert torch.equal(tensor, theirs[name]), name
    assert model.predict_proba(images[0][:2]).shape == (2, 2)
    # Without init_from the same seed starts elsewhere.
    _, fresh = _fine_tune(images, None)
    conv = next(k for k in fresh if k.endswith("weight") and fresh[k].ndim == 4)
    assert not torch.equal(fresh[conv], theirs[conv])


def test_init_from_a_saved_file_and_saving_the_fine_tuned_model(images, source, tmp_path):
    path = save_model(source, tmp_path / "source.skbrain")
    model, start = _fine_tune(images, str(path))
    conv = next(k for k in start if start[k].ndim == 4)
    assert torch.equal(start[conv], source.module_.state_dict()[conv])
    model.set_params(callbacks=None)  # the test's snapshot is no plain value
    again = load_model(save_model(model, tmp_path / "tuned.skbrain"))
    assert again.init_from == str(path)
    np.testing.assert_allclose(again.predict_proba(images[0]), model.predict_proba(images[0]),
                               atol=1e-6)


def test_a_model_given_as_init_from_survives_clone_but_not_save(images, source, tmp_path):
    model, _ = _fine_tune(images, source)
    model.set_params(callbacks=None)
    assert clone(model).init_from is source  # still fitted, not an unfitted copy
    with pytest.raises(TypeError, match="init_from"):
        save_model(model, tmp_path / "tuned.skbrain")
    model.set_params(init_from=None, callbacks=None)
    assert load_model(save_model(model, tmp_path / "tuned.skbrain")).init_from is None


def test_init_from_another_architecture_names_the_tensor(images, source, tmp_path):
    X, y, _ = images
    with pytest.raises(ValueError, match=r"init_from: the architectures differ: tensor '"):
        CompactCNNClassifier(n_kernels=4, max_epochs=1, device="cpu",
                             init_from=source).fit(X, y)
    with pytest.raises(ValueError, match=r"has shape \(4, 1, "):
        TwoConvCNNClassifier(n_kernels=4, n_kernels_2=4, max_epochs=1, device="cpu",
                             init_from=source).fit(np.repeat(X[:, None], 3, axis=1), y)
    with pytest.raises(FileNotFoundError, match="init_from="):
        TwoConvCNNClassifier(init_from=str(tmp_path / "missing.skbrain")).fit(X, y)
    with pytest.raises(ValueError, match="init_from must be"):
        TwoConvCNNClassifier(init_from=3).fit(X, y)
