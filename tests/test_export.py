"""ONNX export: the exported graph gives predict_proba's probabilities in onnxruntime."""

import json
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from skbrain import CompactCNNClassifier, ImageResizer
from skbrain.datasets import make_synthetic_mri
from skbrain.export import to_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

SIZE = 32


@pytest.fixture(scope="module")
def data():
    return make_synthetic_mri(24, image_size=SIZE, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    clf = CompactCNNClassifier(n_kernels=4, max_epochs=2, random_state=0)
    return clf.fit(data.data, data.target)


def _run(path, images):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"images": images})


def test_probabilities_match_predict_proba_for_any_batch_size(fitted, data, tmp_path):
    path = to_onnx(fitted, tmp_path / "compact.onnx", image_size=SIZE)
    assert path == tmp_path / "compact.onnx"
    rng = np.random.default_rng(0)
    for n in (1, 7):  # the batch axis is dynamic
        images = rng.random((n, 1, SIZE, SIZE), dtype=np.float32)
        proba, logits = _run(path, images)
        assert proba.shape == logits.shape == (n, 2)
        np.testing.assert_allclose(proba, fitted.predict_proba(images), rtol=0, atol=1e-4)
    # uint8 images: the graph takes them scaled to [0, 1], as the estimator scales them.
    proba, _ = _run(path, data.data[:, None].astype(np.float32) / 255)
    difference = np.abs(proba - fitted.predict_proba(data.data)).max()
    assert difference < 1e-4
    print(f"max |onnxruntime - predict_proba| = {difference:.2e}")


def test_graph_has_named_dynamic_axes_and_metadata(fitted, tmp_path):
    path = to_onnx(fitted, tmp_path / "model.onnx", image_size=SIZE)
    model = onnx.load(str(path))
    (graph_input,) = model.graph.input
    assert graph_input.name == "images"
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    assert [d.dim_value for d in dims[1:]] == [1, SIZE, SIZE]
    assert [o.name for o in model.graph.output] == ["probabilities", "logits"]
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["classes"]) == [0, 1]
    assert meta["estimator"] == "CompactCNNClassifier"
    assert model.producer_name == "skbrain"


def test_pipeline_exports_its_classifier_at_another_size(tmp_path, data):
    labels = np.where(data.target == 1, "yes", "no")
    pipe = Pipeline([("resize", ImageResizer(SIZE)),
                     ("cnn", CompactCNNClassifier(n_kernels=4, max_epochs=1, random_state=0))])
    pipe.fit(list(data.data), labels)
    path = to_onnx(pipe, tmp_path / "pipe.onnx", image_size=(40, 48))
    images = np.random.default_rng(1).random((3, 3, 40, 48), dtype=np.float32)
    proba, _ = _run(path, images)
    np.testing.assert_allclose(proba, pipe[-1].predict_proba(images), atol=1e-4)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["classes"]) == ["no", "yes"]


def test_overwrites_atomically_and_leaves_module_mode(fitted, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    fitted.module_.train()
    to_onnx(fitted, path, image_size=SIZE)
    assert fitted.module_.training
    fitted.module_.eval()
    assert onnx.load(str(path)).graph.input[0].name == "images"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        to_onnx(fitted, tmp_path / "missing" / "model.onnx", image_size=SIZE)


def test_bad_inputs_are_named(fitted, tmp_path):
    with pytest.raises(NotFittedError):
        to_onnx(CompactCNNClassifier(), tmp_path / "m.onnx")
    with pytest.raises(TypeError, match="to_onnx needs a skbrain estimator.*LogisticRegression"):
        to_onnx(LogisticRegression(), tmp_path / "m.onnx")
    for bad in (0, -3, 2.5, "big", (32,), True):
        with pytest.raises(ValueError, match="image_size"):
            to_onnx(fitted, tmp_path / "m.onnx", image_size=bad)


def test_missing_onnx_names_the_extra(fitted, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"skbrain\[onnx\]"):
        to_onnx(fitted, tmp_path / "m.onnx", image_size=SIZE)
    assert not (tmp_path / "m.onnx").exists()


def test_the_to_onnx_method_is_deprecated_and_still_writes_the_file(fitted, tmp_path):
    with pytest.warns(FutureWarning, match=r"to_onnx is deprecated.*skbrain\.export\.to_onnx"):
        path = fitted.to_onnx(tmp_path / "old.onnx", image_size=SIZE)
    assert path == tmp_path / "old.onnx" and path.exists()
