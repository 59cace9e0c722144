"""Nothing skbrain does touches the images it reads, and interrupted saves lose nothing."""

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.pipeline import make_pipeline

from skbrain.classifiers import SimpleCNNClassifier
from skbrain.cli import main
from skbrain.datasets import load_brain_mri, make_synthetic_mri
from skbrain.persistence import load_model, save_model
from skbrain.preprocessing import ImageResizer


def snapshot(folder):
    """Every path under ``folder`` with its size, mtime and content hash."""
    return sorted(
        (
            p.relative_to(folder).as_posix(),
            p.stat().st_size,
            p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None,
        )
        for p in Path(folder).rglob("*")
    )


@pytest.fixture
def scans(tmp_path):
    """A yes/no folder as people export it: PNG, JPEG, EXIF-rotated, 16-bit, odd names."""
    folder = tmp_path / "scans"
    data = make_synthetic_mri(24, image_size=32, random_state=0)
    for i, (image, label) in enumerate(zip(data.data, data.target, strict=True)):
        sub = folder / ("yes" if label else "no")
        sub.mkdir(parents=True, exist_ok=True)
        if i % 4 == 0:
            Image.fromarray(image).convert("RGB").save(sub / f"Scan {i}.JPG", quality=90)
        elif i % 4 == 1:
            exif = Image.Exif()
            exif[0x0112] = 6
            Image.fromarray(image).save(sub / f"scan_{i}.jpeg", exif=exif)
        elif i % 4 == 2:
            Image.fromarray(image.astype(np.uint16) * 257).save(sub / f"scan {i}.png")
        else:
            Image.fromarray(image).save(sub / f"scan ({i}).png")
    (folder / "no" / "notes.txt").write_text("exported from the viewer\n")
    return folder


def test_loading_resizing_fitting_and_predicting_leave_the_folder_alone(scans):
    before = snapshot(scans)
    data = load_brain_mri(scans)
    assert len(data.data) == 24
    pipe = make_pipeline(ImageResizer(32, channels=1),
                         SimpleCNNClassifier(max_epochs=1, n_kernels=4, random_state=0))
    pipe.fit(data.data, data.target)
    assert pipe.predict(data.data).shape == (24,)
    assert pipe.predict_proba(list(map(Path, data.data))).shape == (24, 2)
    assert snapshot(scans) == before


def test_the_command_line_leaves_the_folder_alone(scans, tmp_path, capsys):
    before = snapshot(scans)
    model = tmp_path / "out" / "simple.skbrain"
    assert main(["train", "--model", "simple", "--data", str(scans), "--image-size", "32",
                 "--set", "max_epochs=1", "--set", "n_kernels=4", "--quiet",
                 "--output", str(model)]) == 0
    assert main(["predict", str(model), "--csv", str(scans / "yes")]) == 0
    assert main(["predict", str(model), *map(str, sorted((scans / "no").glob("*.png")))]) == 0
    capsys.readouterr()
    assert snapshot(scans) == before
    assert not [p for p in model.parent.iterdir() if p.name.endswith(".tmp")]


def test_the_real_folder_is_read_only_to_skbrain(real_data):
    before = snapshot(real_data)
    data = load_brain_mri(real_data)
    picked = np.r_[0:6, -6:0]
    X = ImageResizer(32).transform(data.data[picked])
    clf = SimpleCNNClassifier(max_epochs=1, n_kernels=4, random_state=0).fit(
        X, data.target[picked])
    clf.predict(X)
    assert snapshot(real_data) == before


class Interrupted(KeyboardInterrupt):
    pass


def test_an_interrupted_save_keeps_the_old_model_and_leaves_no_partial_file(
    tmp_path, monkeypatch
):
    data = make_synthetic_mri(16, image_size=16, random_state=0)
    old = SimpleCNNClassifier(max_epochs=1, n_kernels=4, random_state=0).fit(
        data.data, data.target)
    path = tmp_path / "model.skbrain"
    save_model(old, path, metadata={"version": 1})
    old_bytes = path.read_bytes()
    new = SimpleCNNClassifier(max_epochs=1, n_kernels=8, random_state=1).fit(
        data.data, data.target)

    real_writestr = zipfile.ZipFile.writestr

    def write_half_then_interrupt(self, name, data, *args, **kwargs):
        if name != "model.safetensors":
            return real_writestr(self, name, data, *args, **kwargs)
        self.fp.write(data[: len(data) // 2])
        self.fp.flush()
        raise Interrupted

    monkeypatch.setattr(zipfile.ZipFile, "writestr", write_half_then_interrupt)
    with pytest.raises(Interrupted):
        save_model(new, path, metadata={"version": 2})
    monkeypatch.undo()

    assert os.listdir(tmp_path) == ["model.skbrain"]
    assert path.read_bytes() == old_bytes
    model, info = load_model(path, return_info=True)
    assert info["metadata"] == {"version": 1} and model.n_kernels == 4

    # A first save that is interrupted leaves nothing at all.
    monkeypatch.setattr(zipfile.ZipFile, "writestr", write_half_then_interrupt)
    with pytest.raises(Interrupted):
        save_model(new, tmp_path / "first.skbrain")
    assert os.listdir(tmp_path) == ["model.skbrain"]
