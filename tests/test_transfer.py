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


def test_gamma_moves_mid_greys_monotonically_and_keeps_black_and_white():
    from skbrain.augmentation import _gamma

    ramp = torch.linspace(0, 1, 11).view(1, 1, 1, 11).repeat(3, 1, 1, 1)
    out = _gamma(ramp, torch.tensor([0.5, 1.0, 2.0]))[:, 0, 0]
    assert torch.all(out[:, 1:] > out[:, :-1])  # each image stays in order
    assert torch.allclose(out[:, [0, -1]], torch.tensor([0.0, 1.0]).expand(3, 2))
    assert out[0, 5] > out[1, 5] > out[2, 5]  # mid grey: brighter, unchanged, darker
    torch.testing.assert_close(out[1], ramp[0, 0, 0])


def test_blur_is_per_image_and_keeps_the_mean():
    from skbrain.augmentation import _blur

    x = torch.zeros(2, 1, 15, 15)
    x[:, :, 7, 7] = 1.0
    out = _blur(x, torch.tensor([0.0, 1.5]))
    torch.testing.assert_close(out[0], x[0], atol=1e-6, rtol=0)  # sigma 0: unchanged
    assert out[1, 0, 7, 7] < 0.2 and out[1, 0, 7, 8] > 0.05
    torch.testing.assert_close(out[1].sum(), torch.tensor(1.0))


def test_scanner_augment_strength_zero_is_identity_and_a_seed_repeats():
    from skbrain.augmentation import scanner_augment

    x = make_synthetic_mri(8, image_size=32, random_state=0).data[:, None] / 255.0
    x = torch.as_tensor(x, dtype=torch.float32)
    assert scanner_augment(x, 0.0) is x
    changes = []
    for strength in (0.25, 1.0):
        torch.manual_seed(3)
        a = scanner_augment(x, strength)
        torch.manual_seed(3)
        assert torch.equal(a, scanner_augment(x, strength))
        assert a.shape == x.shape and a.dtype == x.dtype
        changes.append(float((a - x).abs().mean()))
    assert 0 < changes[0] < changes[1] < 0.25  # stronger, yet still the same pictures
    # Any intensity range: z-scored images change like [0, 1] ones, scaled.
    torch.manual_seed(3)
    z = scanner_augment(x * 4 - 2, 1.0)
    torch.testing.assert_close(z, a * 4 - 2, atol=1e-4, rtol=1e-4)


def test_augment_intensity_is_a_training_parameter(images):
    X, y, _ = images
    common = dict(n_kernels=4, n_kernels_2=4, max_epochs=1, batch_size=8, device="cpu",
                  random_state=0)
    plain = TwoConvCNNClassifier(**common).fit(X, y)
    scanner = TwoConvCNNClassifier(augment_intensity=0.5, **common).fit(X, y)
    assert scanner.net_.augment_intensity == 0.5
    assert not np.allclose(plain.predict_proba(X), scanner.predict_proba(X))
    with pytest.raises(ValueError, match=r"augment_intensity must be a number in \[0, 1\]"):
        TwoConvCNNClassifier(augment_intensity=2).fit(X, y)


def test_init_from_a_saved_pipeline_reads_tensors_without_building_a_model(images, source,
                                                                           tmp_path,
                                                                           monkeypatch):
    from sklearn.pipeline import Pipeline

    import skbrain.persistence

    path = save_model(Pipeline([("cnn", source)]), tmp_path / "pipe.skbrain")

    def refuse(*args, **kwargs):
        raise AssertionError("init_from built a model to read its tensors")

    monkeypatch.setattr(skbrain.persistence, "load_model", refuse)
    _, start = _fine_tune(images, path)
    theirs = source.module_.state_dict()
    copied = [k for k in start if start[k].shape == theirs[k].shape]
    assert len(copied) < len(start)  # the three-class head is left as initialised
    assert all(torch.equal(start[k], theirs[k]) for k in copied)


class _Batches(Callback):
    """The labels of every training batch as the loss saw them (callbacks get the batch
    as the loader gave it)."""

    def on_train_begin(self, net, **kwargs):
        self.labels_ = []
        get_loss = net.get_loss

        def recording(y_pred, y_true, *args, training=False, **kw):
            if training:
                self.labels_.append(torch.as_tensor(y_true).clone())
            return get_loss(y_pred, y_true, *args, training=training, **kw)

        vars(net)["get_loss"] = recording


def test_augment_lesions_trains_on_painted_tumor_free_images_as_tumor(images):
    X, y, _ = images
    labels = np.where(y == 1, "tumor", "none")
    common = dict(n_kernels=4, n_kernels_2=4, max_epochs=2, batch_size=8, device="cpu",
                  random_state=0)
    seen = _Batches()
    model = TwoConvCNNClassifier(augment_lesions=1.0, callbacks=[seen], **common).fit(X, labels)
    assert model.net_.lesion_classes == (0, 1)  # "none" is column 0, "tumor" column 1
    # Every tumor-free image was painted and relabelled: the loss saw only tumors.
    assert all(bool((b == 1).all()) for b in seen.labels_)
    plain = TwoConvCNNClassifier(callbacks=[_Batches()], **common).fit(X, labels)
    assert (torch.cat(plain.callbacks[0].labels_) == 0).sum() == 2 * (labels == "none").sum()
    # Repeatable under random_state, and different from training without lesions.
    again = TwoConvCNNClassifier(augment_lesions=1.0, **common).fit(X, labels)
    np.testing.assert_allclose(again.predict_proba(X), model.predict_proba(X), atol=1e-6)
    assert not np.allclose(plain.predict_proba(X), model.predict_proba(X))


def test_augment_lesions_follows_the_positive_label_and_refuses_many_classes(images):
    X, y, three = images
    common = dict(n_kernels=4, n_kernels_2=4, max_epochs=1, batch_size=8, device="cpu")
    # Labels 1 and 2: 1 is the tumor (skbrain's loaders' label), so column 0.
    model = TwoConvCNNClassifier(augment_lesions=0.5, **common).fit(X, y + 1)
    assert model.net_.lesion_classes == (1, 0)
    # Trained on logits + log(painted prior / labels' prior): half the tumor-free images
    # become tumors, so the tumor class's prior grows by half the tumor-free share.
    tumor, free = (y == 0).mean(), (y == 1).mean()
    np.testing.assert_allclose(model.net_.lesion_logit_offset,
                               [np.log((tumor + free / 2) / tumor), np.log(0.5)], rtol=1e-6)
    logits, target = torch.tensor([[0.3, -0.2], [1.0, 2.0]]), torch.tensor([0, 1])
    offset = torch.tensor(model.net_.lesion_logit_offset, dtype=torch.float32)
    torch.testing.assert_close(model.net_.get_loss(logits, target, training=True),
                               torch.nn.functional.cross_entropy(logits + offset, target))
    # Validation and scoring losses see the plain logits.
    torch.testing.assert_close(model.net_.get_loss(logits, target, training=False),
                               torch.nn.functional.cross_entropy(logits, target))
    assert TwoConvCNNClassifier(**common).fit(X, y).net_.lesion_classes is None
    with pytest.raises(ValueError, match="augment_lesions .* needs two classes .* y has 3"):
        TwoConvCNNClassifier(augment_lesions=0.5, **common).fit(X, three)
    with pytest.raises(ValueError, match=r"augment_lesions must be a number in \[0, 1\]"):
        TwoConvCNNClassifier(augment_lesions=-0.1).fit(X, y)
