"""The shipped detectors: the skbrain-weights distribution, its lookup, loading, fine-tuning.

A tiny real model is fitted on generated images, written into a temporary copy
of the distribution with ``add_to_distribution`` and found through it (the
lookup is pointed there); the installed distribution itself is checked too.
"""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline
from skorch.callbacks import Callback

import skbrain
from skbrain import ImageResizer, SimpleCNNClassifier, _shipped, load_model
from skbrain.cli import main
from skbrain.datasets import make_synthetic_mri
from skbrain.exceptions import ModelFileError
from skbrain.model_card import detector_card, sites_table
from skbrain.weights import (
    WeightsNotInstalledError,
    adapt_pretrained,
    add_to_distribution,
    fine_tune_parts,
    list_pretrained,
    load_pretrained,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_SOURCE = REPO_ROOT / "weights" / "skbrain-weights"
SITES = [
    {"recipe": "joint", "held_out": "lgg", "subset": "all", "trained_on": "253 + 1,794",
     "n": 891, "roc_auc": 0.71, "roc_auc_low": 0.65, "roc_auc_high": 0.77,
     "balanced_accuracy": 0.62, "recall": 0.55, "specificity": 0.69},
    {"recipe": "joint", "held_out": "253", "subset": "all", "trained_on": "1,794 + lgg",
     "n": 253, "roc_auc": 0.88, "roc_auc_low": 0.83, "roc_auc_high": 0.92,
     "balanced_accuracy": 0.80, "recall": 0.85, "specificity": 0.75},
]


class _Snapshot(Callback):
    """The network's tensors as training is about to start (after ``init_from`` copied them)."""

    def on_train_begin(self, net, **kwargs):
        self.state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}


def _write_images(folder, n, seed):
    data = make_synthetic_mri(n, image_size=48, random_state=seed)
    paths = []
    for i, (image, label) in enumerate(zip(data.data, data.target, strict=True)):
        path = folder / ("yes" if label else "no") / f"img{seed}_{i:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
        paths.append(str(path))
    return paths, data.target


def _tiny_model(paths, y):
    return Pipeline([("resize", ImageResizer(32)),
                     ("cnn", SimpleCNNClassifier(n_kernels=4, max_epochs=2, batch_size=8,
                                                 device="cpu", random_state=0))]).fit(paths, y)


def _card(model, name):
    return detector_card(model, name, collections=["brain_mri", "brain_tumor_mri_4class",
                                                   "lgg_flair_dev"],
                         sites=SITES, terms="research use only (test)",
                         training={"recipe": "two epochs on generated images"})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the distribution folder holding one fitted model, and its images."""
    root = tmp_path_factory.mktemp("weights")
    images = root / "images"
    paths, y = _write_images(images, 24, seed=0)
    model = _tiny_model(paths, y)
    dist = root / "skbrain-weights"
    shutil.copytree(WEIGHTS_SOURCE, dist, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "*.skbrain", "*.model_card.md"))
    (dist / "skbrain_weights" / "MANIFEST.json").write_text(json.dumps(
        {"format": _shipped.MANIFEST_FORMAT, "format_version": 1, "models": []}))
    entry = add_to_distribution(model, "tiny", dist, description="a tiny test detector",
                                model_card=_card(model, "tiny"), default=True,
                                licence="test only")
    return {"dist": dist, "package": dist / "skbrain_weights", "model": model, "paths": paths,
            "y": y, "images": images, "entry": entry}


@pytest.fixture
def shipped(built, monkeypatch):
    """The lookup points at the temporary distribution."""
    monkeypatch.setattr(_shipped, "distribution_folder", lambda: built["package"])
    return built


def test_list_pretrained_names_the_shipped_detectors_default_first(shipped, capsys):
    assert list_pretrained() == skbrain.list_pretrained() == {"tiny": "a tiny test detector"}
    entry = shipped["entry"]
    assert entry["file"] == "models/tiny.skbrain" and entry["image_size"] == 32
    assert entry["sha256"] == _shipped.sha256_of(shipped["package"] / entry["file"])
    assert main(["pretrained"]) == 0
    assert capsys.readouterr().out.split() == ["tiny", "a", "tiny", "test", "detector",
                                               "(default)"]


def test_load_pretrained_predicts_on_image_paths(shipped):
    paths = shipped["paths"]
    model, info = load_pretrained(return_info=True)
    assert isinstance(model, Pipeline) and isinstance(model[0], ImageResizer)
    proba = model.predict_proba(paths)
    assert proba.shape == (len(paths), 2)
    np.testing.assert_allclose(proba, shipped["model"].predict_proba(paths), atol=1e-6)
    assert set(model.predict(paths)) <= {0, 1}
    assert info["shipped"]["name"] == "tiny" and info["metadata"]["shipped_name"] == "tiny"
    np.testing.assert_allclose(load_pretrained("tiny").predict_proba(paths[:3]), proba[:3],
                               atol=1e-6)
    card = Path(info["shipped"]["card_path"]).read_text(encoding="utf-8")
    for text in ("# Model card: tiny", "not a diagnostic device", "CC BY-NC-SA 4.0",
                 "no licence found", "| lgg | all | 253 + 1,794 | 891 | 0.710 (0.650 - 0.770)",
                 "## Known limits", "research use only (test)"):
        assert text in card, text


def test_a_changed_model_file_is_refused(shipped, tmp_path, monkeypatch):
    package = tmp_path / "skbrain_weights"
    shutil.copytree(shipped["package"], package)
    monkeypatch.setattr(_shipped, "distribution_folder", lambda: package)
    with open(package / "models" / "tiny.skbrain", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelFileError, match="SHA-256 .* not the manifest's"):
        load_pretrained("tiny")
    (package / "models" / "tiny.skbrain").unlink()
    with pytest.raises(ModelFileError, match="is missing"):
        load_pretrained("tiny")


def test_unknown_names_and_a_missing_distribution_are_clear(shipped, monkeypatch, capsys):
    with pytest.raises(ValueError, match="'nope' is not a shipped detector; the shipped "
                                         "detectors are: tiny"):
        load_pretrained("nope")
    assert main(["predict", "--model", "nope", shipped["paths"][0]]) == 2
    assert "--model: 'nope' is not a shipped detector; the shipped detectors are: tiny" in (
        capsys.readouterr().err)
    with pytest.raises(FileNotFoundError, match="nor a shipped detector .*: tiny"):
        SimpleCNNClassifier(init_from="nope", max_epochs=1).fit(
            np.zeros((4, 1, 16, 16), np.float32), [0, 1, 0, 1])
    monkeypatch.undo()
    monkeypatch.setattr(_shipped, "PACKAGE", "skbrain_weights_not_installed")
    for call in (list_pretrained, load_pretrained):
        with pytest.raises(WeightsNotInstalledError, match=r"pip install 'skbrain\[detector\]'"):
            call()
    assert main(["predict", "--model", "tiny", shipped["paths"][0]]) == 1
    assert "pip install 'skbrain[detector]'" in capsys.readouterr().err


def test_predict_with_a_shipped_name_and_with_a_model_file(shipped, tmp_path, capsys):
    paths = shipped["paths"][:3]
    assert main(["predict", "--model", "tiny", *paths]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert rows[0].split() == ["file", "label", "p_tumor"] and len(rows) == 4
    expected = shipped["model"].predict_proba(paths)[:, 1]
    for row, path, p in zip(rows[1:], paths, expected, strict=True):
        assert row.startswith(path) and abs(float(row.split()[-1]) - p) < 1e-3
    file = skbrain.save_model(shipped["model"], tmp_path / "own.skbrain")
    assert main(["predict", str(file), *paths, "--csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "file,label,p_tumor,kind,n_slices,scan,counted" and len(lines) == 4
    assert main(["predict", "--model", "tiny"]) == 2  # no image given


def test_init_from_a_shipped_name_starts_from_its_weights(shipped):
    X = ImageResizer(32).fit_transform(shipped["paths"])
    snapshot = _Snapshot()
    tuned = SimpleCNNClassifier(n_kernels=4, max_epochs=1, batch_size=8, device="cpu",
                                random_state=1, init_from="tiny", callbacks=[snapshot])
    tuned.fit(X, shipped["y"])
    theirs = shipped["model"][-1].module_.state_dict()
    assert set(snapshot.state_) == set(theirs)
    for name, tensor in snapshot.state_.items():
        assert torch.equal(tensor, theirs[name]), name
    resizer, estimator = fine_tune_parts("tiny", {"max_epochs": 3})
    assert resizer.size == 32 and estimator.n_kernels == 4 and estimator.max_epochs == 3
    assert estimator.init_from == "tiny" and not hasattr(estimator, "net_")


def test_train_init_from_a_shipped_name_on_the_command_line(shipped, tmp_path, capsys):
    data = tmp_path / "site"
    _write_images(data, 16, seed=1)
    output = tmp_path / "tuned.skbrain"
    code = main(["train", "--init-from", "tiny", "--data", str(data), "--set", "max_epochs=1",
                 "--output", str(output), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "test scores of tiny" in out and "balanced acc." in out and "ROC AUC" in out
    tuned = load_model(output)
    assert tuned[0].size == 32 and tuned[-1].init_from == "tiny"
    assert tuned[-1].n_kernels == 4 and tuned[-1].max_epochs == 1
    metrics = json.loads(output.with_name("tuned.metrics.json").read_text())
    assert {"balanced_accuracy", "roc_auc", "f1"} <= set(metrics["metrics"])
    assert main(["train", "--init-from", "tiny", "--image-size", "64", "--data", str(data),
                 "--output", str(tmp_path / "x.skbrain")]) == 2
    assert "--image-size: the model of --init-from sees 32 px" in capsys.readouterr().err


def test_adapt_pretrained_fine_tunes_and_chooses_the_threshold_out_of_fold(shipped, tmp_path,
                                                                          capsys):
    paths, y = _write_images(tmp_path, 16, seed=2)
    groups = np.arange(len(y)) // 4  # four "patients" of four slices
    y = np.asarray(y)
    groups[y == 1] += 10
    model = adapt_pretrained(paths, y, "tiny", groups=groups, params={"max_epochs": 1}, cv=2)
    assert isinstance(model[0], ImageResizer) and model[0].size == 32
    assert isinstance(model[-1], FixedThresholdClassifier)
    assert 0.0 <= model[-1].threshold <= 1.0
    # Three fine-tunes of the detector's seed + 0, 100, 200, each with a flipped view.
    vote = model[-1].estimator_
    members = vote.estimators_
    assert [m.random_state for m in members] == [0, 100, 200]
    assert all(m.tta == 1 and m.init_from == "tiny" and m.max_epochs == 1 for m in members)
    resized = model[0].transform(paths)
    mean = np.mean([m.predict_proba(resized) for m in members], axis=0)
    np.testing.assert_allclose(model.predict_proba(paths), mean, rtol=1e-6)
    assert not np.allclose(members[0].predict_proba(resized), members[1].predict_proba(resized))
    # The vote of three networks saves into one model file and comes back the same.
    loaded = load_model(skbrain.save_model(model, tmp_path / "adapted.skbrain"))
    np.testing.assert_allclose(loaded.predict_proba(paths), model.predict_proba(paths),
                               rtol=1e-6)
    np.testing.assert_array_equal(loaded.predict(paths), model.predict(paths))
    assert loaded[-1].threshold == model[-1].threshold
    assert main(["predict", str(tmp_path / "adapted.skbrain"), *paths[:2], "--csv"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    expected = model.predict_proba(paths[:2])[:, 1]
    assert [abs(float(row.split(",")[2]) - p) < 1e-3 for row, p in zip(rows, expected,
                                                                       strict=True)] == [True] * 2
    plain = adapt_pretrained(paths, y, None, params={"max_epochs": 1, "tta": 0},
                             decision="none", n_models=1)
    assert isinstance(plain[-1], SimpleCNNClassifier) and plain[-1].init_from == "tiny"
    assert plain[-1].tta == 0
    floor = adapt_pretrained(paths, y, "tiny", groups=groups, params={"max_epochs": 1}, cv=2,
                             n_models=2, min_recall=0.9)
    assert len(floor[-1].estimator_.estimators_) == 2 and 0.0 <= floor[-1].threshold <= 1.0
    assert (floor.predict_proba(paths)[:, 1] >= floor[-1].threshold)[y == 1].mean() >= 0.5
    with pytest.raises(ValueError, match="n_models must be a positive integer; got 0"):
        adapt_pretrained(paths, y, "tiny", n_models=0)
    with pytest.raises(ValueError, match="decision must be one of"):
        adapt_pretrained(paths, y, "tiny", decision="accuracy")
    with pytest.raises(ValueError, match="groups: .* at least two groups"):
        adapt_pretrained(paths, y, "tiny", groups=(y == 1).astype(int))


@pytest.fixture
def recorded_threshold_cv(monkeypatch):
    """What each ``TunedThresholdClassifierCV`` fit sees: its images (``X``) and folds (``cv``)."""
    import sklearn.model_selection

    seen = {}

    class Recording(sklearn.model_selection.TunedThresholdClassifierCV):
        def fit(self, X, y, **params):
            seen["X"], seen["cv"] = X, self.cv
            return super().fit(X, y, **params)

    monkeypatch.setattr(sklearn.model_selection, "TunedThresholdClassifierCV", Recording)
    return seen


def test_adapt_pretrained_replays_source_images_outside_the_scored_folds(shipped, tmp_path,
                                                                          recorded_threshold_cv):
    paths, y = _write_images(tmp_path / "site", 12, seed=3)
    source, source_y = _write_images(tmp_path / "source", 30, seed=4)
    y, groups = np.asarray(y), np.arange(12)
    seen = recorded_threshold_cv
    model = adapt_pretrained(paths, y, "tiny", groups=groups, params={"max_epochs": 1}, cv=2,
                             replay=(source, source_y), random_state=5)
    # As many source images as the site gives, in every fold's training part, never scored.
    assert len(seen["X"]) == 24
    for train, test in seen["cv"]:
        assert set(range(12, 24)) <= set(train) and test.max() < 12
    resized = ImageResizer(32).fit_transform(source)
    drawn = [next(i for i, r in enumerate(resized) if np.array_equal(r, x))
             for x in seen["X"][12:]]
    assert len(set(drawn)) == 12
    # The model that decides was fine-tuned on the site's and the drawn images.
    history = model[-1].estimator_.estimators_[0].net_.history
    assert sum(history[-1, "batches", :, "train_batch_size"]) == 24
    with pytest.raises(ValueError, match=r"replay: labels \['tumor'\] are not among y's"):
        adapt_pretrained(paths, y, "tiny", replay=(source, ["tumor"] * 30))
    with pytest.raises(ValueError, match="replay: the images and labels have different"):
        adapt_pretrained(paths, y, "tiny", replay=(source, source_y[:3]))
    with pytest.raises(ValueError, match="replay: expected a pair"):
        adapt_pretrained(paths, y, "tiny", replay=source)


def test_train_init_from_replays_a_folder_outside_the_scored_folds(shipped, tmp_path, capsys,
                                                                    recorded_threshold_cv):
    site, source = tmp_path / "site", tmp_path / "source"
    _write_images(site, 16, seed=6)
    paths, labels = _write_images(source, 30, seed=7)
    for path, label in zip(paths, labels, strict=True):  # other names for the same two classes
        moved = source / ("tumor" if label else "notumor") / Path(path).name
        moved.parent.mkdir(exist_ok=True)
        Path(path).rename(moved)
    for name in ("yes", "no"):
        (source / name).rmdir()
    seen = recorded_threshold_cv
    output = tmp_path / "tuned.skbrain"
    code = main(["train", "--init-from", "tiny", "--data", str(site), "--replay", str(source),
                 "--min-recall", "0.5", "--cv", "2", "--set", "max_epochs=1", "--set",
                 "verbose=0", "--output", str(output)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert f"replay: {source} (notumor as no, tumor as yes)" in out
    metrics = json.loads(output.with_name("tuned.metrics.json").read_text())
    n_train = metrics["n_train"]
    assert metrics["replay"]["n_images"] == n_train == len(metrics["split"]["train"])
    # The threshold's folds score the site's training images only.
    assert len(seen["X"]) == 2 * n_train
    for train, test in seen["cv"]:
        assert set(range(n_train, 2 * n_train)) <= set(train) and test.max() < n_train
    history = load_model(output)[-1].estimator_.estimator.net_.history
    assert sum(history[-1, "batches", :, "train_batch_size"]) == 2 * n_train
    card = output.with_name("tuned.model_card.md").read_text()
    assert f"{n_train} images of the fine-tuned model's own training collections" in card
    assert main(["train", "--model", "simple", "--data", str(site), "--replay", str(source),
                 "--output", str(tmp_path / "x.skbrain")]) == 2
    assert "--replay: mixes in the images a model was trained on" in capsys.readouterr().err
    from skbrain.datasets import load_images
    from skbrain.training import train_and_save

    with pytest.raises(ValueError, match=r"replay: mixes in .* needs a fine-tune \(init_from"):
        train_and_save("simple", load_images(site), tmp_path / "y.skbrain",
                       replay=(paths, labels))
    assert not (tmp_path / "y.skbrain").exists()
    four = tmp_path / "four"
    for k, name in enumerate(("glioma", "notumor", "pituitary")):
        shutil.copytree(site / ("yes" if k != 1 else "no"), four / name)
    assert main(["train", "--init-from", "tiny", "--data", str(site), "--replay", str(four),
                 "--output", str(tmp_path / "x.skbrain")]) == 2
    assert (f"--replay: {four} has 3 classes (glioma, notumor, pituitary)"
            in capsys.readouterr().err)


def test_add_to_distribution_replaces_an_entry_and_keeps_one_default(built, tmp_path):
    dist = tmp_path / "dist"
    shutil.copytree(built["dist"], dist)
    model = built["model"]
    add_to_distribution(model, "second", dist, description="another", model_card="# card",
                        default=True)
    add_to_distribution(model, "tiny", dist, description="tiny again", model_card="# card")
    models = _shipped.read_manifest(dist / "skbrain_weights")["models"]
    assert [(e["name"], e["default"], e["description"]) for e in models] == [
        ("second", True, "another"), ("tiny", False, "tiny again")]
    with pytest.raises(ValueError, match="model: a shipped detector takes image paths"):
        add_to_distribution(model[-1], "bare", dist, description="x", model_card="# card")
    with pytest.raises(ValueError, match="name: "):
        add_to_distribution(model, "../up", dist, description="x", model_card="# card")
    with pytest.raises(ValueError, match="model_card: "):
        add_to_distribution(model, "nocard", dist, description="x", model_card="")


def test_a_malformed_manifest_is_refused(tmp_path):
    (tmp_path / "MANIFEST.json").write_text(json.dumps({
        "format": _shipped.MANIFEST_FORMAT, "format_version": 1,
        "models": [{"name": "a", "file": "/abs.skbrain", "sha256": "0" * 64,
                    "description": "", "default": True, "model_card": "a.md"}]}))
    with pytest.raises(ModelFileError, match="file must be a path inside the package"):
        _shipped.read_manifest(tmp_path)
    (tmp_path / "MANIFEST.json").write_text("{")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        _shipped.read_manifest(tmp_path)


def test_the_installed_distribution_and_the_repository_copy_are_well_formed():
    """Every model the manifests list exists, matches its SHA-256 and has its card."""
    for folder in (None, WEIGHTS_SOURCE / "skbrain_weights"):
        manifest = _shipped.read_manifest(folder)
        assert sum(e["default"] for e in manifest["models"]) == (1 if manifest["models"]
                                                                 else 0)
        for entry in manifest["models"]:
            found = _shipped.find(entry["name"], folder)
            assert _shipped.verified_path(found).is_file()
            assert "not a diagnostic device" in found["card_path"].read_text(encoding="utf-8")
    installed = _shipped.read_manifest()["models"]
    assert list(list_pretrained()) == [e["name"] for e in sorted(installed,
                                                                 key=lambda e: not e["default"])]


def test_the_weights_distribution_builds_a_wheel_holding_its_models(built, tmp_path):
    pytest.importorskip("build", reason="the dev extra (build) is not installed")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--skip-dependency-check",
         "--outdir", str(tmp_path / "dist"), str(built["dist"])],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("skbrain_weights-*.whl")  # built from the sdist
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("skbrain_weights/MANIFEST.json"))
        assert _shipped.sha256_of(built["package"] / "models" / "tiny.skbrain") == (
            manifest["models"][0]["sha256"])
    for entry in manifest["models"]:
        assert f"skbrain_weights/{entry['file']}" in names
        assert f"skbrain_weights/{entry['model_card']}" in names
    assert "skbrain_weights/__init__.py" in names


def test_sites_table_reads_records_files_and_recipes(tmp_path):
    path = tmp_path / "sites.json"
    path.write_text(json.dumps({"records": SITES}))
    text = sites_table(path)
    assert text.splitlines()[0] == ("| recipe | held out | subset | trained on | images | "
                                    "ROC AUC | balanced accuracy | recall | specificity |")
    assert sites_table({"joint": [{k: v for k, v in r.items() if k != "recipe"}
                                  for r in SITES]}) == text
    with pytest.raises(ValueError, match="no roc_auc"):
        sites_table([{"held_out": "lgg"}])
    with pytest.raises(ValueError, match="terms: "):
        detector_card(None, "x", collections=["brain_mri"], sites=SITES, terms=" ")


def test_predict_with_a_shipped_name_reads_dicom_series_and_nifti_volumes(shipped, tmp_path,
                                                                          capsys):
    import nibabel as nib

    from skbrain.datasets._medical import _write_demo_series

    _write_demo_series(tmp_path / "dicom", patients=("P1",), n_slices=3, size=32)
    series = next((tmp_path / "dicom").glob("*/P1"))
    volume = np.stack(make_synthetic_mri(4, image_size=32, random_state=3).data, axis=-1)
    nib.save(nib.Nifti1Image(volume.astype(np.float32), np.eye(4)), tmp_path / "vol.nii.gz")
    jpeg = tmp_path / "one.jpg"
    Image.open(shipped["paths"][0]).convert("RGB").save(jpeg)
    assert main(["predict", "--model", "tiny", "--csv", str(series),
                 str(tmp_path / "vol.nii.gz"), str(jpeg)]) == 0
    rows = [line.split(",") for line in capsys.readouterr().out.strip().splitlines()[1:]]
    kinds = [row[3] for row in rows]
    assert kinds.count("scan") == 2 and kinds.count("slice") == 3 + 4 + 1
    assert {row[1] for row in rows} <= {"tumor", "no tumor"}
    assert all(0.0 <= float(row[2]) <= 1.0 for row in rows)



def test_train_init_from_averages_n_fine_tunes_into_one_file(shipped, tmp_path, capsys):
    data = tmp_path / "site"
    _write_images(data, 16, seed=1)
    output = tmp_path / "tuned.skbrain"
    code = main(["train", "--init-from", "tiny", "--data", str(data), "--set", "max_epochs=1",
                 "--n-models", "3", "--seed", "4", "--min-recall", "0.5", "--cv", "2",
                 "--output", str(output), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    tuned = load_model(output)
    assert isinstance(tuned[-1], FixedThresholdClassifier)
    vote = tuned[-1].estimator_
    assert [m.random_state for m in vote.estimators_] == [4, 104, 204]
    assert all(m.init_from == "tiny" and m.max_epochs == 1 for m in vote.estimators_)
    paths = sorted(str(p) for p in data.rglob("*.png"))
    resized = tuned[0].transform(paths)
    np.testing.assert_allclose(
        tuned.predict_proba(paths),
        np.mean([m.predict_proba(resized) for m in vote.estimators_], axis=0), rtol=1e-6)
    metrics = json.loads(output.with_name("tuned.metrics.json").read_text())
    assert metrics["vote_seeds"] == [4, 104, 204]
    assert metrics["estimator"] == "SimpleCNNClassifier" and metrics["params"]["random_state"] == 4
    card = output.with_name("tuned.model_card.md").read_text()
    assert "**Vote:** the probabilities of 3 networks" in card
    assert "(VotingClassifier, voting='soft')" in card  # not the FrozenEstimator around it
    for args, message in (
            (["--model", "simple"], "--n-models: averages fine-tunes of a shipped detector"),
            (["--init-from", "tiny", "--search", "2"], "--n-models: not with --search")):
        assert main(["train", *args, "--n-models", "2", "--data", str(data),
                     "--output", str(tmp_path / "x.skbrain")]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "x.skbrain").exists()
