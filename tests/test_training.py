"""What ``skbrain train`` and ``evaluate`` do, called from a notebook: the public library steps."""

import json

import numpy as np
import pytest
from PIL import Image

from skbrain.datasets import describe_images, load_images, make_synthetic_mri
from skbrain.evaluation import evaluate_saved_model
from skbrain.persistence import load_model
from skbrain.training import (
    check_output,
    check_train_arguments,
    parse_set_options,
    train_and_save,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three classes of 32x32 synthetic scans: two kinds of tumor and none."""
    root = tmp_path_factory.mktemp("classes")
    data = make_synthetic_mri(36, image_size=32, random_state=1)
    for i, (image, label) in enumerate(zip(data.data, data.target, strict=True)):
        sub = root / ("glioma" if label and i % 2 else "pituitary" if label else "notumor")
        sub.mkdir(exist_ok=True)
        Image.fromarray(image).save(sub / f"{i}.png")
    return root


def test_load_images_summarises_and_joins_classes(folder):
    data = load_images(folder)
    assert data.kind == "images" and data.multiclass and data.root == folder.resolve()
    assert data.relpaths[0].startswith("glioma/") and len(data.relpaths) == 36
    assert data.class_names == {0: "glioma", 1: "notumor", 2: "pituitary"}
    binary = load_images(folder, negative="notumor")
    assert not binary.multiclass and binary.class_names == {0: "no tumor", 1: "tumor"}
    assert describe_images(binary) == f"36 images ({(binary.target == 1).sum()} tumor, " \
                                      f"{(binary.target == 0).sum()} no tumor)"
    with pytest.raises(ValueError, match="^negative: 'none' is not a class folder"):
        load_images(folder, negative="none")
    with pytest.raises(ValueError, match="does not exist"):
        load_images(folder / "absent")


def test_train_and_save_then_evaluate_saved_model(folder, tmp_path):
    data = load_images(folder, negative="notumor")
    lines = []
    result = train_and_save("simple", data, tmp_path / "m.skbrain", image_size=32,
                            params={"max_epochs": 1, "n_kernels": 4, "verbose": 0},
                            test_size=0.25, random_state=0, verbose=1, log=lines.append)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "m.metrics.json", "m.model_card.md", "m.predictions.png", "m.skbrain"]
    assert lines[0].startswith("data: 36 images") and lines[1].startswith("split: train 2")
    report = json.loads((tmp_path / "m.metrics.json").read_text())
    assert report["data"]["negative"] == "notumor" and report["set"]["n_kernels"] == 4
    assert report["n_train"] + report["n_test"] == 36 and not result.across
    assert report["metrics"]["accuracy"] == pytest.approx(result.scores["accuracy"])

    model, info = load_model(tmp_path / "m.skbrain", return_info=True)
    again = evaluate_saved_model(model, data, info["metadata"])
    assert again.where.startswith(f"the saved test split: {report['n_test']} images")
    assert again.report["files"] == report["split"]["test"]
    # The saved pipeline reads the files itself: the same scores again.
    assert again.scores["accuracy"] == pytest.approx(result.scores["accuracy"])
    assert np.isclose(again.scores["f1"], result.scores["f1"], equal_nan=True)


def test_arguments_are_checked_before_any_work(folder, tmp_path):
    with pytest.raises(ValueError, match="^output: .* is inside the data folder"):
        check_output(folder / "glioma" / "m.skbrain", folder)
    with pytest.raises(ValueError, match="^output: .* is a folder"):
        check_train_arguments(tmp_path)
    with pytest.raises(ValueError, match="^cv: must be at least 2"):
        check_train_arguments(tmp_path / "m.skbrain", cv=1, search=2)
    with pytest.raises(ValueError, match="--set gives 'lr' twice"):
        parse_set_options(["lr=1", "lr=2"])
    data = load_images(folder, negative="notumor")
    with pytest.raises(ValueError, match="^split_file: "):
        train_and_save("simple", data, tmp_path / "m.skbrain", split_file=tmp_path / "no.json")
    assert not list(tmp_path.iterdir())
