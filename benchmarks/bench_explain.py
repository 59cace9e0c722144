"""Do the explanations point at the tumor? Localisation on LGG-dev's masked slices, by method.

Each model is fitted as in the cross-site benchmark (``bench_sites.py``): on
the 253 Kaggle images (``SKBRAIN_DATA``) and the 1,794 of the four-class
collection as tumor / no tumor (``SKBRAIN_DATA_4CLASS``), joined with
:func:`skbrain.datasets.combine_collections`, behind an
:class:`~skbrain.ImageResizer` at its defaults so that it takes file paths.
It is then scored on LGG-dev's tumor slices (``SKBRAIN_DATA_LGG``) whose mask
covers at least ``--min-area`` pixels, with
:func:`skbrain.explain.localization_scores` for each method: the pointing
game (peak within 15 px of the mask), the mass ratio (share of the map inside
the mask over the mask's share of the image), the share of empty maps among
all slices and among those the model calls tumor, and the model's recall on
those slices. The shipped detector (:func:`skbrain.load_pretrained`) is
scored too when the installed skbrain ships one.

``--time-report MODEL`` instead times ``skbrain report MODEL --data ...`` (the
command, in a fresh process) on the 253 images and on LGG-dev, and writes
``explain_report.{json,md}`` (target: under 2 minutes each on 2 cores for a
hand-made net).

``--epochs`` overrides every hand-made model's ``max_epochs`` (fewer than
the defaults on a CPU: say so with the figures); ``--limit`` scores an
evenly spaced subset of the slices (occlusion costs one forward pass per
patch position).

Usage::

    python benchmarks/bench_explain.py --models compact,wide
    python benchmarks/bench_explain.py --models compact,wide --epochs 5 --limit 120
    python benchmarks/bench_explain.py --models "" --limit 60   # the shipped detector only
    python benchmarks/bench_explain.py --models "" --no-shipped --limit 60 \
        --model-file lite0-without-lgg=/tmp/few/lite0_without_lgg.skbrain
    python benchmarks/bench_explain.py --time-report /tmp/models/compact.skbrain
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    REPO_ROOT,
    data_dir,
    env_data_dir,
    machine,
    recorded_command,
    scratch_name,
)

from skbrain.explain import METHODS, localization_scores  # noqa: E402

COLUMNS = ("model", "method", "n", "recall", "pointing_game", "mass_ratio", "mass_inside",
           "empty_share", "empty_share_called_tumor", "seconds")


def training_collection():
    from skbrain import load_brain_mri
    from skbrain.datasets import combine_collections

    small = load_brain_mri(data_dir())
    large = load_brain_mri(env_data_dir("SKBRAIN_DATA_4CLASS", "brain_tumor_mri_4class",
                                    "notumor"), negative="notumor")
    return combine_collections(small, large, names=["brain_mri", "tumor_mri_1794"], n_jobs=-1)


def lgg_slices(min_area, limit):
    from skbrain.datasets import load_lgg_flair

    lgg = load_lgg_flair(env_data_dir("SKBRAIN_DATA_LGG", "lgg_flair_dev", "MANIFEST.csv"))
    keep = np.flatnonzero((lgg.target == 1) & (lgg.tumor_area >= min_area))
    if limit and limit < len(keep):
        keep = keep[np.linspace(0, len(keep) - 1, limit).round().astype(int)]
    return [str(p) for p in lgg.data[keep]], [str(m) for m in lgg.masks[keep]], lgg.patient[keep]


def fit_model(name, train, epochs, seed):
    from sklearn.pipeline import Pipeline

    from skbrain import ImageResizer, get_estimator

    params = {"random_state": seed}
    if epochs is not None:
        params["max_epochs"] = epochs
    model = Pipeline([("resize", ImageResizer(n_jobs=-1)),
                      ("cnn", get_estimator(name, **params))])
    start = time.perf_counter()
    model.fit(list(train.data), train.target)
    print(f"{name}: fitted on {len(train.data)} images in {time.perf_counter() - start:.0f} s",
          flush=True)
    return model


def shipped_detector():
    """(name, model) of the default shipped detector, or (None, why not)."""
    import skbrain

    if not hasattr(skbrain, "list_pretrained"):
        return None, "this skbrain has no list_pretrained: no shipped detector scored"
    try:
        names = list(skbrain.list_pretrained())
    except Exception as exc:  # the weights distribution is not installed
        return None, f"no shipped detector scored ({type(exc).__name__}: {exc})"
    if not names:
        return None, "list_pretrained names no detector: none scored"
    return names[0], skbrain.load_pretrained(names[0])


def score(label, model, paths, masks, methods):
    rows = []
    called = np.asarray(model.predict(paths)) == 1
    for method in methods:
        start = time.perf_counter()
        s = localization_scores(model, paths, masks, method=method)
        empty = s["per_image"]["empty"]
        rows.append({"model": label, "method": method, "n": s["n"],
                     "recall": float(called.mean()),
                     "pointing_game": s["pointing_game"], "mass_ratio": s["mass_ratio"],
                     "mass_inside": s["mass_inside"], "empty_share": s["empty_share"],
                     "empty_share_called_tumor": float(empty[called].mean())
                     if called.any() else float("nan"),
                     "seconds": time.perf_counter() - start})
        print(format_row(rows[-1]), flush=True)
    return rows


def format_row(row):
    return (f"{row['model']:<22} {row['method']:<21} {row['n']:>4} {row['recall']:>6.3f} "
            f"{row['pointing_game']:>8.3f} {row['mass_ratio']:>7.2f} {row['mass_inside']:>7.3f} "
            f"{row['empty_share']:>6.3f} {row['empty_share_called_tumor']:>7.3f} "
            f"{row['seconds']:>7.0f}")


HEADER = (f"{'model':<22} {'method':<21} {'n':>4} {'recall':>6} {'pointing':>8} "
          f"{'mass x':>7} {'inside':>7} {'empty':>6} {'empty|T':>7} {'s':>7}")


def write(output, rows, info):
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    payload = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
               "command": recorded_command(sys.argv), **info, "rows": rows}
    output.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    lines = ["| model | method | n | recall | pointing game | mass ratio | mass inside | "
             "empty | empty (called tumor) |", "|" + "---|" * 9]
    lines += [f"| {r['model']} | {r['method']} | {r['n']} | {r['recall']:.3f} | "
              f"{r['pointing_game']:.3f} | {r['mass_ratio']:.2f} | {r['mass_inside']:.3f} | "
              f"{r['empty_share']:.3f} | {r['empty_share_called_tumor']:.3f} |" for r in rows]
    notes = [f"- {k}: {v}" for k, v in info.items()]
    output.with_suffix(".md").write_text("\n".join(lines + [""] + notes) + "\n")
    print(f"wrote {output.with_suffix('.csv')}, .json, .md")


def time_report(model, output):
    lgg = env_data_dir("SKBRAIN_DATA_LGG", "lgg_flair_dev", "MANIFEST.csv")
    rows = []
    for name, folder in (("brain_mri (253)", data_dir()), ("lgg_flair_dev", lgg)):
        # The pages hold every image's thumbnails (megabytes): written outside the repository.
        page = Path(tempfile.gettempdir()) / f"skbrain_report_{folder.name}.html"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "skbrain", "report", str(model), "--data",
                               str(folder), "--output", str(page)], capture_output=True,
                              text=True)
        seconds = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f"skbrain report failed on {folder}:\n{done.stderr[-2000:]}")
        print(done.stdout.strip())
        rows.append({"data": name, "seconds": seconds, "page_mb": page.stat().st_size / 2**20,
                     "target_s": 120, "met": seconds < 120})
        print(f"{name}: {seconds:.0f} s (target < 120 s), page {rows[-1]['page_mb']:.1f} MiB",
              flush=True)
    output = Path(output)
    payload = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
               "threads": os.environ.get("OMP_NUM_THREADS", "all"),
               "command": recorded_command(sys.argv), "model": Path(model).name, "rows": rows}
    output.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = ["| data | seconds | page MiB | under 2 min |", "|---|---|---|---|"]
    lines += [f"| {r['data']} | {r['seconds']:.0f} | {r['page_mb']:.1f} | "
              f"{'yes' if r['met'] else 'no'} |" for r in rows]
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {output.with_suffix('.json')}, .md")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="compact,wide",
                        help="hand-made or zoo model names (default: compact,wide)")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"explanation methods (default: {','.join(METHODS)})")
    parser.add_argument("--epochs", type=int, default=None,
                        help="max_epochs of every fitted model (default: the model's own)")
    parser.add_argument("--min-area", type=int, default=300,
                        help="smallest mask, in pixels (default: 300)")
    parser.add_argument("--limit", type=int, default=None,
                        help="score this many evenly spaced slices (default: all)")
    parser.add_argument("--model-file", action="append", default=[], metavar="LABEL=PATH",
                        help="also score a saved model (taking image paths), e.g. the "
                             "detector's recipe trained without LGG-dev that bench_sites.py "
                             "--save-base writes; repeatable")
    parser.add_argument("--no-shipped", action="store_true",
                        help="leave the shipped detector out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-dir", default=None,
                        help="also save each fitted model as DIR/<name>.skbrain")
    parser.add_argument("--output", default=str(REPO_ROOT / "benchmarks/results/explain"),
                        help="results path without suffix (default: benchmarks/results/explain)")
    parser.add_argument("--time-report", metavar="MODEL", default=None,
                        help="time skbrain report MODEL on the 253 images and LGG-dev instead")
    args = parser.parse_args(argv)
    if args.time_report:
        time_report(args.time_report, REPO_ROOT / "benchmarks/results/explain_report")
        return
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS) - {"gradcam"})
    if unknown:
        parser.error(f"--methods: unknown {unknown}; choose from {list(METHODS)} or gradcam")
    paths, masks, patients = lgg_slices(args.min_area, args.limit)
    print(f"LGG-dev: {len(paths)} tumor slices with a mask of at least {args.min_area} px, "
          f"{len(set(patients))} patients", flush=True)
    names = [m for m in args.models.split(",") if m]
    info = {"slices": len(paths), "patients": len(set(patients)), "min_area": args.min_area}
    if names:  # what the models fitted here saw; files and the shipped detector say their own
        info["epochs"] = args.epochs if args.epochs is not None else "model defaults"
        info["trained_on"] = ("brain_mri (253) + tumor_mri_1794 as tumor/no tumor, "
                              "ImageResizer() defaults")
    rows = []
    if not args.no_shipped:
        name, model = shipped_detector()
        if name is None:
            print(model)
            info["shipped_detector"] = model
        else:
            print(f"shipped detector: {name}")
            info["shipped_detector"] = name
            print(HEADER)
            rows += score(f"shipped:{name}", model, paths, masks, methods)
    for item in args.model_file:
        from skbrain.persistence import load_model

        label, _, path = item.partition("=")
        if not path:
            parser.error(f"--model-file: expected LABEL=PATH, got {item!r}")
        info[f"model_file {label}"] = scratch_name(path)
        print(HEADER)
        rows += score(label, load_model(path), paths, masks, methods)
        write(args.output, rows, info)
    train = training_collection() if names else None
    for name in names:
        model = fit_model(name, train, args.epochs, args.seed)
        if args.save_dir:
            from skbrain.persistence import save_model

            Path(args.save_dir).mkdir(parents=True, exist_ok=True)
            save_model(model, Path(args.save_dir) / f"{name}.skbrain")
        print(HEADER)
        rows += score(name, model, paths, masks, methods)
        write(args.output, rows, info)
    print()
    print(HEADER)
    for row in rows:
        print(format_row(row))
    write(args.output, rows, info)


if __name__ == "__main__":
    main()
