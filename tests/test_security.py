"""Loading a model file runs no code from it: crafted files fail clearly and have no effect."""

import importlib
import json
import os
import pickle
import sys
import zipfile

import numpy as np
import pytest
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from sklearn.pipeline import Pipeline

from skbrain import ImageResizer, SimpleCNNClassifier
from skbrain.cli import main
from skbrain.exceptions import ModelFileError
from skbrain.persistence import load_model, save_model


class _WritesMarker:
    """Unpickling this creates a file: what a malicious model file would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, synthetic_images):
    X, y = synthetic_images
    pipe = Pipeline([("resize", ImageResizer(16)),
                     ("cnn", SimpleCNNClassifier(n_kernels=2, max_epochs=1, random_state=0,
                                                 device="cpu"))])
    pipe.fit([np.moveaxis(x, 0, -1) for x in X[:8]], y[:8])
    path = save_model(pipe, tmp_path_factory.mktemp("model") / "good.skbrain")
    load_model(path)  # imports everything a load needs, before the snapshots below
    with zipfile.ZipFile(path) as archive:
        return path, json.loads(archive.read("config.json")), archive.read("model.safetensors")


def _write(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data if isinstance(data, bytes) else json.dumps(data))
    return path


@pytest.mark.parametrize("kind", ["joblib", "pickle", "torch"])
def test_a_pickle_payload_is_never_run(kind, tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.skbrain"
    payload = {"magic": "skbrain-model", "model": _WritesMarker(marker)}
    if kind == "joblib":
        import joblib

        joblib.dump(payload, path)
    elif kind == "pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, path)  # a zip holding a pickle
    expected = ("old pickle format .*allow_pickle=True" if kind != "torch"
                else "damaged skbrain model file: the zip has no config.json")
    with pytest.raises(ModelFileError, match=expected):
        load_model(path)
    assert main(["predict", str(path), str(path)]) == 2
    assert not marker.exists()
    assert sorted(os.listdir(tmp_path)) == ["evil.skbrain"]
    if kind != "torch":
        # The payload is real: allowed, the pickle runs it.
        with pytest.warns(UserWarning), pytest.raises(ModelFileError):
            load_model(path, allow_pickle=True)
        assert marker.exists()


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "sklearn.svm.SVC",
                                  "skbrain.persistence.save_model", "subprocess.Popen"])
def test_a_class_outside_the_allow_list_is_refused_and_nothing_imported(
        name, model_file, tmp_path, monkeypatch):
    _, config, weights = model_file
    config = json.loads(json.dumps(config))
    config["model"]["steps"][0][1] = {"class": name, "params": {"command": "touch marker"}}
    path = _write(tmp_path / "evil.skbrain", {"config.json": config, "model.safetensors": weights})
    imported = []
    real_import = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda module, *a: imported.append(module) or real_import(module, *a))
    modules = set(sys.modules)
    with pytest.raises(ModelFileError, match=f"names the class '{name}' at model\\['resize'\\], "
                                             "which is not one the skbrain model format may "
                                             "build"):
        load_model(path)
    assert set(sys.modules) == modules
    assert not any(name.rsplit(".", 1)[0] in module for module in imported)
    assert sorted(os.listdir(tmp_path)) == ["evil.skbrain"]


def test_a_tensor_of_the_wrong_shape_is_named(model_file, tmp_path):
    _, config, weights = model_file
    tensors = load_tensors(weights)
    key = next(k for k in tensors if k.endswith("weight") and tensors[k].ndim == 4)
    tensors[key] = torch.zeros(tensors[key].shape[0] + 1, *tensors[key].shape[1:])
    path = _write(tmp_path / "bad.skbrain",
                  {"config.json": config, "model.safetensors": save_tensors(tensors)})
    with pytest.raises(ModelFileError, match=f"tensor '{key}' has shape .* but the network "
                                             "config.json describes needs"):
        load_model(path)
    del tensors[key]
    _write(path, {"config.json": config, "model.safetensors": save_tensors(tensors)})
    with pytest.raises(ModelFileError, match=f"missing tensors \\['{key}'\\]"):
        load_model(path)


def test_damaged_files_give_clear_errors_and_write_nothing(model_file, tmp_path):
    good, config, weights = model_file
    data = good.read_bytes()
    cases = {
        "truncated.skbrain": (data[: len(data) // 2], "damaged skbrain model file .*truncated"),
        "no_weights.skbrain": (_write(tmp_path / "x", {"config.json": config}).read_bytes(),
                               "the zip has no model.safetensors"),
        "future.skbrain": (_write(tmp_path / "x", {
            "config.json": {**config, "format_version": [99, 0]},
            "model.safetensors": weights}).read_bytes(), r"format 99\.0 .*upgrade skbrain"),
        "unversioned.skbrain": (_write(tmp_path / "x", {
            "config.json": {k: v for k, v in config.items() if k != "format_version"},
            "model.safetensors": weights}).read_bytes(), "no valid format_version"),
        "not_json.skbrain": (_write(tmp_path / "x", {"config.json": b"{oops",
                                                     "model.safetensors": weights}).read_bytes(),
                             "config.json is not valid JSON"),
        "bad_weights.skbrain": (_write(tmp_path / "x", {"config.json": config,
                                                        "model.safetensors": b"\x00" * 20}
                                       ).read_bytes(), "model.safetensors is damaged"),
        "bad_steps.skbrain": (_write(tmp_path / "x", {
            "config.json": {**config, "model": {**config["model"], "steps": [["only-a-name"]]}},
            "model.safetensors": weights}).read_bytes(), "config.json is malformed"),
    }
    os.unlink(tmp_path / "x")
    for name, (content, _) in cases.items():
        (tmp_path / name).write_bytes(content)
    before = sorted(os.listdir(tmp_path))
    for name, (_, message) in cases.items():
        with pytest.raises(ModelFileError, match=message):
            load_model(tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == before


def test_a_plain_value_never_becomes_an_object(model_file, tmp_path):
    _, config, weights = model_file
    config = json.loads(json.dumps(config))
    resize = config["model"]["steps"][0][1]
    resize["params"]["normalize"] = {"class": "os.system", "params": {"command": "x"}}
    path = _write(tmp_path / "m.skbrain", {"config.json": config, "model.safetensors": weights})
    model = load_model(path)
    assert model.named_steps["resize"].normalize == {"class": "os.system",
                                                     "params": {"command": "x"}}
