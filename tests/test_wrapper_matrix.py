"""Every model ``skbrain train`` writes works with every tool after a save/load round trip."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from skbrain.cli import main
from skbrain.datasets import make_synthetic_mri
from skbrain.explain import GradCAM
from skbrain.model_card import model_card
from skbrain.persistence import load_model
from skbrain.plotting import plot_gradcam, plot_history

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

FAST = ["--image-size", "32", "--set", "max_epochs=2", "--set", "n_kernels=4", "--quiet"]
KINDS = {
    "plain": [],
    "search": ["--search", "2", "--cv", "2"],
    "min_recall": ["--min-recall", "0.95", "--cv", "2"],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("scans")
    data = make_synthetic_mri(32, image_size=32, random_state=0)
    for i, (image, label) in enumerate(zip(data.data, data.target, strict=True)):
        (root / ("yes" if label else "no")).mkdir(exist_ok=True)
        Image.fromarray(image).save(root / ("yes" if label else "no") / f"scan{i}.png")
    return root


@pytest.fixture(scope="module", params=list(KINDS))
def trained(request, folder, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "model.skbrain"
    assert main(["train", "--model", "simple", "--data", str(folder), *FAST,
                 *KINDS[request.param], "--output", str(out)]) == 0
    return request.param, out


def test_every_tool_takes_the_saved_model(trained, folder, tmp_path, capsys):
    kind, path = trained
    model = load_model(path)
    wrapper = {"plain": "SimpleCNNClassifier", "search": "SimpleCNNClassifier",
               "min_recall": "FixedThresholdClassifier"}[kind]
    assert type(model.named_steps["cnn"]).__name__ == wrapper
    images = [str(p) for sub in ("no", "yes") for p in sorted((folder / sub).glob("*.png"))[:2]]
    labels = [int("/yes/" in p) for p in images]

    heatmaps = GradCAM(model).explain(images)
    assert heatmaps.shape == (4, 32, 32) and 0 <= heatmaps.min() and heatmaps.max() <= 1
    # Any class can be explained, by its label.
    assert not np.array_equal(GradCAM(model).explain(images, target=0), heatmaps)

    from skbrain.export import check_onnx, to_onnx

    onnx_path = to_onnx(model, tmp_path / "m.onnx", image_size=32)
    assert check_onnx(onnx_path, model) < 1e-4

    card = model_card(model, images, labels, tmp_path / "card.md", n_bootstrap=20)
    assert "SimpleCNNClassifier" in (tmp_path / "card.md").read_text() and card
    if kind == "min_recall":
        assert "FixedThresholdClassifier" in (tmp_path / "card.md").read_text()
    assert len(plot_history(model).axes) >= 1
    assert len(plot_gradcam(images, heatmaps).axes) >= 4
    plt.close("all")

    capsys.readouterr()
    assert main(["evaluate", str(path), "--data", str(folder)]) == 0
    assert "test scores of simple on the saved test split" in capsys.readouterr().out
    assert main(["predict", str(path), *images]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 5
    assert main(["explain", str(path), *images, "--output", str(tmp_path / "cam")]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "cam").iterdir()) == sorted(
        p.rsplit("/", 1)[1].replace(".png", ".gradcam.png") for p in images)
    assert len(re.findall(r"p=\d\.\d{4}", out)) == 4
    assert main(["export", str(path), "--onnx", str(tmp_path / "cli.onnx")]) == 0
    out = capsys.readouterr().out
    difference = float(re.search(r"max \|onnxruntime - predict_proba\| = (\S+)", out)[1])
    assert difference < 1e-4
    if kind == "min_recall":
        assert "the ONNX graph gives probabilities only" in out
        assert main(["explain", str(path), images[0], "-o", str(tmp_path / "no"),
                     "--target", "no tumor"]) == 0
        assert "wrote 1 explanation figure(s) (hirescam)" in capsys.readouterr().out
        assert main(["explain", str(path), images[0], "-o", str(tmp_path), "--target",
                     "cat"]) == 2
        assert "--target: 'cat' is not one of the model's classes (no tumor, tumor)" in (
            capsys.readouterr().err)

