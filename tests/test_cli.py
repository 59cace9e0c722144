"""The ``skbrain`` command, run in-process on small synthetic folders (and once for real)."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skbrain.cli import main, parse_set_options
from skbrain.datasets import make_synthetic_mri
from skbrain.persistence import load_model

REPO_ROOT = Path(__file__).resolve().parents[1]
FAST = ["--image-size", "32", "--set", "max_epochs=1", "--set", "n_kernels=4"]


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """32 synthetic 32x32 scans in yes/ and no/, some names with spaces."""
    folder = tmp_path_factory.mktemp("scans")
    data = make_synthetic_mri(32, image_size=32, random_state=0)
    for i, (image, label) in enumerate(zip(data.data, data.target, strict=True)):
        sub = folder / ("yes" if label else "no")
        sub.mkdir(exist_ok=True)
        Image.fromarray(image).save(sub / f"scan {i}.png")
    return folder


def _snapshot(folder):
    return sorted(
        (p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    )


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(image_folder, tmp_path_factory):
    """One model trained by the command, shared by the tests that read it."""
    out = tmp_path_factory.mktemp("run") / "nested" / "simple.skbrain"
    before = _snapshot(image_folder)
    code = main(["train", "--model", "simple", "--data", str(image_folder), *FAST,
                 "--quiet", "--output", str(out)])
    assert code == 0
    assert _snapshot(image_folder) == before
    return out


def test_train_writes_model_metrics_and_figure(trained, image_folder):
    metrics_path = trained.with_name("simple.metrics.json")
    figure_path = trained.with_name("simple.predictions.png")
    assert sorted(p.name for p in trained.parent.iterdir()) == [
        "simple.metrics.json", "simple.model_card.md", "simple.predictions.png",
        "simple.skbrain"]
    report = json.loads(metrics_path.read_text())
    for key in ("model", "estimator", "metrics", "split", "params", "set", "data", "timings",
                "versions", "image_size", "files"):
        assert key in report
    assert report["model"] == "simple" and report["estimator"] == "SimpleCNNClassifier"
    assert set(report["metrics"]) >= {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert report["set"] == {"max_epochs": 1, "n_kernels": 4}
    assert report["params"]["max_epochs"] == 1 and report["params"]["random_state"] == 0
    assert report["data"] == {"path": str(image_folder.resolve()), "n_images": 32,
                              "n_tumor": 16, "n_no_tumor": 16}
    train, test = report["split"]["train"], report["split"]["test"]
    assert len(test) == report["n_test"] == 8 and len(train) == 24
    assert set(train).isdisjoint(test)
    assert sorted(train + test) == sorted(
        p.relative_to(image_folder).as_posix() for p in image_folder.glob("*/*.png"))
    assert sum(name.startswith("yes/") for name in test) == 4
    assert report["timings"]["fit_seconds"] > 0
    with Image.open(figure_path) as figure:
        assert figure.format == "PNG" and figure.size[0] > 400

    model, info = load_model(trained, return_info=True)
    assert [name for name, _ in model.steps] == ["resize", "cnn"]
    assert model.named_steps["resize"].size == 32
    assert info["metadata"]["split"]["test"] == test


def test_train_prints_the_score_table(image_folder, tmp_path, capsys):
    code, out, err = run(capsys, "train", "--model", "wide", "--data", image_folder, *FAST,
                         "--output", tmp_path / "wide.skbrain")
    assert code == 0, err
    lines = out.splitlines()
    assert any("train_loss" in line for line in lines)  # skorch's epoch table
    header = lines.index(next(line for line in lines if line.startswith("model ")))
    assert lines[header].split() == ["model", "accuracy", "balanced", "acc.", "precision",
                                     "recall", "F1", "ROC", "AUC"]
    assert lines[header + 2].split()[0] == "wide"
    report = json.loads((tmp_path / "wide.metrics.json").read_text())
    shown = [float(v) for v in lines[header + 2].split()[1:]]
    expected = [report["metrics"][k] for k in ("accuracy", "balanced_accuracy", "precision",
                                               "recall", "f1", "roc_auc")]
    np.testing.assert_allclose(shown, expected, atol=5e-4)


def test_evaluate_reproduces_the_saved_test_metrics(trained, image_folder, tmp_path, capsys):
    code, out, err = run(capsys, "evaluate", trained, "--data", image_folder,
                         "--json", tmp_path / "eval.json")
    assert code == 0, err
    assert "on the saved test split: 8 images" in out
    saved = json.loads(trained.with_name("simple.metrics.json").read_text())["metrics"]
    again = json.loads((tmp_path / "eval.json").read_text())["metrics"]
    assert again.keys() == saved.keys()
    for key in saved:
        assert again[key] == pytest.approx(saved[key], abs=1e-6)


def test_evaluate_on_another_folder_scores_every_image(trained, image_folder, tmp_path,
                                                       capsys):
    other = tmp_path / "copy"
    for sub in ("yes", "no"):
        (other / sub).mkdir(parents=True)
        for p in sorted((image_folder / sub).iterdir())[:3]:
            (other / sub / p.name).write_bytes(p.read_bytes())
    code, out, err = run(capsys, "evaluate", trained, "--data", other)
    assert code == 0, err
    assert f"all 6 images (3 tumor, 3 no tumor) in {other.resolve()}" in out


def test_predict_prints_one_row_per_file(trained, image_folder, capsys):
    files = sorted(str(p) for p in image_folder.glob("*/*.png"))[:3]
    code, out, err = run(capsys, "predict", trained, *files)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["file", "label", "p_tumor"]
    assert len(lines) == 4
    for line, path in zip(lines[1:], files, strict=True):
        assert line.startswith(path)
        assert line.split()[-1].replace(".", "").isdigit()

    code, out, _ = run(capsys, "predict", trained, "--csv", *files)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["file"] for r in rows] == files
    assert {r["label"] for r in rows} <= {"tumor", "no tumor"}
    model = load_model(trained)
    expected = model.predict_proba(files)[:, 1]
    np.testing.assert_allclose([float(r["p_tumor"]) for r in rows], expected, atol=1e-4)


def test_predict_takes_a_folder(trained, image_folder, capsys):
    code, out, _ = run(capsys, "predict", trained, "--csv", image_folder / "yes")
    assert code == 0 and len(out.splitlines()) == 1 + 16


def test_split_files_in_json_csv_and_metrics_form(trained, image_folder, tmp_path, capsys):
    test = json.loads(trained.with_name("simple.metrics.json").read_text())["split"]["test"]
    listing = tmp_path / "test.json"
    listing.write_text(json.dumps(test[:5]))
    table = tmp_path / "split.csv"
    with open(table, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["relpath", "split"])
        for rel in test[:6]:
            writer.writerow([rel, "test"])
        writer.writerow(["yes/scan 999.png", "train"])  # train rows are not looked up
    for split_file, n_test in [(listing, 5), (table, 6),
                               (trained.with_name("simple.metrics.json"), 8)]:
        out_file = tmp_path / f"{split_file.stem}.skbrain"
        code, _, err = run(capsys, "train", "--model", "simple", "--data", image_folder,
                           *FAST, "--quiet", "--split-file", split_file, "--output", out_file)
        assert code == 0, err
        report = json.loads(out_file.with_name(f"{split_file.stem}.metrics.json").read_text())
        assert report["n_test"] == n_test and report["split"]["method"] == "file"
        assert report["split"]["test"] == sorted(test[:n_test])


def test_data_comes_from_skbrain_data_when_not_given(image_folder, tmp_path, capsys,
                                                     monkeypatch):
    monkeypatch.setenv("SKBRAIN_DATA", str(image_folder))
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "train", "--model", "simple", *FAST, "--quiet",
                       "--test-size", "10", "--seed", "3")
    assert code == 0, err
    report = json.loads((tmp_path / "skbrain-model.metrics.json").read_text())
    assert report["data"]["path"] == str(image_folder.resolve())
    assert report["n_test"] == 10 and report["split"]["seed"] == 3
    assert (tmp_path / "skbrain-model.skbrain").is_file()


def test_compare_writes_one_row_per_model(image_folder, tmp_path, capsys):
    before = _snapshot(image_folder)
    code, out, err = run(capsys, "compare", "--models", "simple,Wide", "--repeats", "2",
                         "--data", image_folder, *FAST, "--output", tmp_path / "results")
    assert code == 0, err
    assert _snapshot(image_folder) == before
    assert sum(line.startswith("[compare]") for line in out.splitlines()) == 4
    assert "(mean ± sd over 2 splits)" in out
    written = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert written == ["comparison.csv", "comparison.json", "comparison.md", "comparison.png"]
    rows = list(csv.DictReader(open(tmp_path / "results" / "comparison.csv")))
    assert [r["model"] for r in rows] == ["simple", "wide"]
    assert all(r["n_splits"] == "2" for r in rows)
    for column in ("accuracy_mean", "precision_std", "recall_mean", "f1_mean",
                   "roc_auc_mean", "fit_seconds_mean"):
        assert column in rows[0]
    markdown = (tmp_path / "results" / "comparison.md").read_text().splitlines()
    assert markdown[0] == "| model | accuracy | precision | recall | F1 | ROC AUC | fit (s) |"
    assert len(markdown) == 4


def test_models_lists_every_name_with_parameter_counts(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    for name in ("simple", "two-conv", "wide", "deep", "pyramid", "compact", "efficientnet-b7",
                 "resnet152", "vgg19", "vgg11-bn", "timm:<name>"):
        assert name in rows
    assert "WideCNNClassifier" in rows["wide"] and "14,762" in rows["wide"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--model", "wyde"], "unknown model 'wyde' (did you mean 'wide'?); valid "
                                       "names: simple, two-conv, wide"),
        (["compare", "--models", "wide,nonet"], "unknown model 'nonet'"),
        (["train", "--model", "wide", "--data", "/no/such/folder"],
         "--data: folder '/no/such/folder' does not exist"),
        (["train", "--model", "wide", "--set", "max_epochs"], "--set expects key=value"),
        (["train", "--model", "wide", "--set", "max_epoch=3"],
         "wide has no parameter 'max_epoch' (did you mean 'max_epochs'?)"),
        (["train", "--model", "wide", "--set", "max_epochs=many"],
         "max_epochs must be a positive integer; got 'many'"),
        (["train", "--model", "wide", "--set", "dropout=1.5"], "dropout must be in [0, 1)"),
        (["train", "--model", "wide", "--device", "tpu"], "--device: device must be"),
        (["train", "--model", "wide", "--test-size", "1.5"], "argument --test-size"),
        (["train"], "--model is required (or --init-from NAME"),
        (["fly"], "invalid choice: 'fly'"),
        (["predict", "m.skbrain", "a.png", "--min-head", "1.5"],
         "argument --min-head: expected a number in [0, 1); got '1.5'"),
        (["evaluate", "missing.skbrain"], "model file 'missing.skbrain' does not exist"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("skbrain: error: ")
    assert message in err
    assert "Traceback" not in out + err


def test_bad_files_exit_2_with_one_line(trained, image_folder, tmp_path, capsys):
    noise = tmp_path / "noise.skbrain"
    noise.write_bytes(np.random.default_rng(0).bytes(500))
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    cases = [
        (["evaluate", noise], "is not an skbrain model file"),
        (["predict", noise, text], "is not an skbrain model file"),
        (["predict", trained, text], "notes.jpg"),
        (["predict", trained, tmp_path / "absent.png"], "does not exist"),
        (["train", "--model", "simple", "--data", image_folder, "--output",
          image_folder / "model.skbrain"], "is inside the data folder"),
        (["train", "--model", "simple", "--data", image_folder, "--split-file",
          tmp_path / "none.json"], "--split-file: "),
        (["compare", "--models", "simple,simple"], "names a model twice"),
    ]
    listing = tmp_path / "unknown.json"
    listing.write_text(json.dumps(["yes/not-there.png"]))
    cases.append((["train", "--model", "simple", "--data", image_folder, "--split-file",
                   listing], "'yes/not-there.png' not found in"))
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert code == 2, argv
        assert err.count("\n") == 1 and message in err, (argv, err)
        assert "Traceback" not in err


def test_set_values_are_python_literals_or_strings():
    assert parse_set_options(["lr=1e-3", "module__dropout=0.2", "optimizer=adam",
                              "class_weight={'yes': 2}", "early_stopping=True"]) == {
        "lr": 1e-3, "module__dropout": 0.2, "optimizer": "adam",
        "class_weight": {"yes": 2}, "early_stopping": True}
    assert parse_set_options(None) == {}


def test_search_tunes_before_the_final_fit(image_folder, tmp_path, capsys):
    pytest.importorskip("skbrain.search")
    out_file = tmp_path / "searched.skbrain"
    code, _, err = run(capsys, "train", "--model", "simple", "--data", image_folder, *FAST,
                       "--set", "batch_size=8", "--quiet", "--search", "2", "--cv", "2",
                       "--output", out_file)
    assert code == 0, err
    report = json.loads(out_file.with_name("searched.metrics.json").read_text())
    search = report["search"]
    assert search["n_iter"] == 2 and search["cv"] == 2 and search["scoring"] == "f1"
    # What --set fixed is not searched.
    assert not {"max_epochs", "n_kernels", "batch_size"} & set(search["best_params"])
    assert search["best_params"]
    assert report["params"]["max_epochs"] == 1
    for key, value in search["best_params"].items():
        assert report["params"][key] == pytest.approx(value)


def test_python_m_skbrain_help_runs_in_a_subprocess():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "skbrain", "--help"], capture_output=True,
                            text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    for command in ("models", "train", "evaluate", "predict", "compare"):
        assert command in result.stdout
    assert result.stdout.startswith("usage: skbrain")


@pytest.mark.real_data
def test_train_and_evaluate_on_the_real_images(real_data, tmp_path, capsys):
    before = _snapshot(real_data)
    out_file = tmp_path / "real.skbrain"
    code, out, err = run(capsys, "train", "--model", "simple", "--data", real_data,
                         "--image-size", "48", "--set", "max_epochs=2", "--quiet",
                         "--output", out_file)
    assert code == 0, err
    report = json.loads((tmp_path / "real.metrics.json").read_text())
    assert report["data"]["n_images"] == 253 and report["n_test"] == 64
    assert report["metrics"]["accuracy"] > 0.5
    code, out, err = run(capsys, "evaluate", out_file, "--data", real_data,
                         "--json", tmp_path / "again.json")
    assert code == 0, err
    again = json.loads((tmp_path / "again.json").read_text())["metrics"]
    assert again["f1"] == pytest.approx(report["metrics"]["f1"], abs=1e-6)
    assert _snapshot(real_data) == before


def test_search_writes_a_ranked_report_and_plot(image_folder, tmp_path, capsys):
    out = tmp_path / "search"
    code = main(["search", "--model", "simple", "--data", str(image_folder), "--n-iter", "2",
                 "--cv", "2", "--image-size", "32", "--set", "max_epochs=1", "--set",
                 "batch_size=8", "--quiet", "--output", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["search.csv", "search.md", "search.png"]
    text = capsys.readouterr().out
    assert "best parameters" in text
    rows = (out / "search.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 2  # header and one row per candidate
