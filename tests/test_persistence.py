"""Model files: round trips, refusals with clear messages, atomic writes, CUDA to CPU."""

import os
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from skbrain import ImageResizer, SimpleCNNClassifier
from skbrain.exceptions import ModelFileError
from skbrain.persistence import FORMAT_MAGIC, FORMAT_VERSION, atomic_write, load_model, save_model


@pytest.fixture(scope="module")
def fitted_pipeline(synthetic_images):
    X, y = synthetic_images
    images = [np.moveaxis(x, 0, -1) for x in X]
    clf = SimpleCNNClassifier(max_epochs=2, n_kernels=4, random_state=0, device="cpu")
    return Pipeline([("resize", ImageResizer(24)), ("cnn", clf)]).fit(images, y), images


def test_round_trip_keeps_predictions_metadata_and_versions(fitted_pipeline, tmp_path):
    pipe, images = fitted_pipeline
    path = save_model(pipe, tmp_path / "model.skbrain", metadata={"split": {"test": ["a"]}})
    assert path == tmp_path / "model.skbrain"
    model, info = load_model(path, return_info=True)
    np.testing.assert_array_equal(model.predict_proba(images), pipe.predict_proba(images))
    assert info["metadata"] == {"split": {"test": ["a"]}}
    assert info["format_version"] == FORMAT_VERSION
    assert set(info["versions"]) == {"skbrain", "torch", "sklearn", "skorch", "numpy", "python"}
    assert info["versions"]["torch"] == torch.__version__
    assert info["path"] == str(path) and info["created"].endswith("+00:00")
    assert type(load_model(str(path))) is Pipeline
    assert os.listdir(tmp_path) == ["model.skbrain"]


def test_the_file_is_a_joblib_dict_with_the_marker(fitted_pipeline, tmp_path):
    save_model(fitted_pipeline[0], tmp_path / "m.skbrain")
    payload = joblib.load(tmp_path / "m.skbrain")
    assert payload["magic"] == FORMAT_MAGIC
    assert set(payload) == {"magic", "format_version", "created", "versions", "metadata",
                            "model"}


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "noise.skbrain"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(ModelFileError, match=r"noise\.skbrain' is not an skbrain model file"):
        load_model(path)


def test_random_bytes_that_start_like_a_pickle_are_refused(tmp_path):
    path = tmp_path / "noise.skbrain"
    path.write_bytes(b"\x80\x04" + np.random.default_rng(1).bytes(2000))
    with pytest.raises(ModelFileError, match="is not an skbrain model file or is damaged"):
        load_model(path)


def test_a_plain_pickle_is_refused(tmp_path):
    path = tmp_path / "dict.pkl"
    with open(path, "wb") as f:
        pickle.dump({"model": "not really"}, f)
    with pytest.raises(ModelFileError, match="pickle of dict, without the skbrain marker"):
        load_model(path)


def test_a_bare_pickled_estimator_is_refused(fitted_pipeline, tmp_path):
    path = tmp_path / "bare.pkl"
    joblib.dump(fitted_pipeline[0], path)
    with pytest.raises(ModelFileError, match="pickle of Pipeline"):
        load_model(path)


def test_a_newer_major_format_is_refused_with_upgrade_advice(fitted_pipeline, tmp_path):
    path = tmp_path / "future.skbrain"
    save_model(fitted_pipeline[0], path)
    payload = joblib.load(path)
    payload["format_version"] = (FORMAT_VERSION[0] + 1, 0)
    payload["versions"]["skbrain"] = "9.0.0"
    joblib.dump(payload, path)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert f"format {FORMAT_VERSION[0] + 1}.0 (written by skbrain 9.0.0)" in message
    assert "upgrade skbrain" in message


def test_a_newer_minor_format_loads(fitted_pipeline, tmp_path):
    path = tmp_path / "minor.skbrain"
    save_model(fitted_pipeline[0], path)
    payload = joblib.load(path)
    payload["format_version"] = (FORMAT_VERSION[0], FORMAT_VERSION[1] + 1)
    payload["extra"] = "ignored"
    joblib.dump(payload, path)
    assert type(load_model(path)) is Pipeline


def test_missing_files_folders_and_unfitted_models(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file .* does not exist"):
        load_model(tmp_path / "nothing.skbrain")
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model(tmp_path)
    with pytest.raises(NotFittedError):
        save_model(SimpleCNNClassifier(), tmp_path / "unfitted.skbrain")
    assert os.listdir(tmp_path) == []


def test_bad_metadata_is_refused(fitted_pipeline, tmp_path):
    with pytest.raises(ValueError, match="metadata must be a dict"):
        save_model(fitted_pipeline[0], tmp_path / "x.skbrain", metadata=["not", "a", "dict"])


def test_a_failed_save_leaves_the_old_file_and_no_temporary(fitted_pipeline, tmp_path):
    path = tmp_path / "model.skbrain"
    save_model(fitted_pipeline[0], path, metadata={"version": 1})
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
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
    # Mark the fitted net as trained on CUDA, as it would be on a GPU machine:
    # skorch pickles its tensors with the device it records.
    cnn.net_.device, cnn.device_ = "cuda", "cuda"
    try:
        save_model(pipe, tmp_path / "gpu.skbrain")
    finally:
        cnn.net_.device, cnn.device_ = "cpu", "cpu"
    loaded = load_model(tmp_path / "gpu.skbrain")
    loaded_cnn = loaded.named_steps["cnn"]
    assert loaded_cnn.device_ == "cpu" and str(loaded_cnn.net_.device) == "cpu"
    assert next(loaded_cnn.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(images), expected, rtol=1e-6)


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
