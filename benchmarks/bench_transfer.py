"""Does a model carry over to another collection? Fit on one folder, test on the other.

Directions (``--direction``):

``253-to-1794`` (default)
    fit on all 253 images of ``SKBRAIN_DATA`` at the defaults (ImageNet weights
    only, nothing learned from the other collection), test on the 1,794 of
    ``SKBRAIN_DATA_4CLASS`` as tumor / no tumor (``negative="notumor"``).
``1794-to-253``
    the reverse: fit on the 1,794 as tumor / no tumor, test on the 253.

Before scoring, near-copies across the two folders are looked for with
:func:`skbrain.evaluation.cross_collection_near_copies` and dropped from the
test side. Reported per model and seed: ROC AUC, balanced accuracy, F1, recall
per tumor type (glioma, meningioma, pituitary; ``253-to-1794`` only) and the
same scores with one image per duplicate group of the test collection
("grouped": neighbouring slices of one patient count once). Summary: mean
and minimum over seeds. Nothing here chooses a default.

Usage::

    python benchmarks/bench_transfer.py --models timm:efficientnet_lite0,two-conv --seeds 0,1,2
    python benchmarks/bench_transfer.py --models timm:efficientnet_lite0 --seeds 0 \\
        --direction 1794-to-253 --output benchmarks/results/transfer_reverse.json
    python benchmarks/bench_transfer.py --models two-conv --seeds 0 \
        --resize standardize=percentile crop_foreground=True --set augment_intensity=0.5
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, data_dir, parse_set, write_json  # noqa: E402

from skbrain import ImageResizer, get_estimator, load_brain_mri  # noqa: E402
from skbrain.evaluation import (  # noqa: E402
    ResultsTable,
    classification_scores,
    cross_collection_near_copies,
)
from skbrain.persistence import save_model  # noqa: E402

METRICS = ("roc_auc", "balanced_accuracy", "f1", "recall", "precision")


def data_dir_4class():
    """``SKBRAIN_DATA_4CLASS``, else ``../shared/data/brain_tumor_mri_4class``."""
    path = Path(os.environ.get("SKBRAIN_DATA_4CLASS")
                or REPO_ROOT.parent / "shared/data/brain_tumor_mri_4class")
    if not (path / "notumor").is_dir():
        raise SystemExit(f"four-class images not found in {path}; set SKBRAIN_DATA_4CLASS")
    return path


def score(y, proba, subtype=None, subtype_names=()):
    scores = classification_scores(y, (proba >= 0.5).astype(int), proba)
    out = {m: scores[m] for m in METRICS}
    if subtype is not None:
        for k, name in enumerate(subtype_names):
            members = subtype == k
            if name != "notumor" and members.any():
                out[f"recall_{name}"] = float(np.mean(proba[members] >= 0.5))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="timm:efficientnet_lite0,two-conv")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--direction", choices=("253-to-1794", "1794-to-253"),
                        default="253-to-1794")
    parser.add_argument("--image-size", type=int, default=150)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="estimator parameters, e.g. augment_intensity=0.5")
    parser.add_argument("--resize", nargs="*", default=[], metavar="KEY=VALUE",
                        help="ImageResizer options, e.g. standardize=percentile "
                             "crop_foreground=True")
    parser.add_argument("--save-models", default=None, metavar="DIR",
                        help="save each fitted model here (e.g. to fine-tune from it with "
                             "bench_collections.py --pretrained)")
    parser.add_argument("--output", default="benchmarks/results/transfer.json")
    args = parser.parse_args(argv)
    params = parse_set(args.set)
    resize = parse_set(args.resize)
    seeds = [int(s) for s in args.seeds.split(",")]

    small = load_brain_mri(data_dir())
    large = load_brain_mri(data_dir_4class(), negative="notumor")
    train, test = (small, large) if args.direction == "253-to-1794" else (large, small)
    start = time.perf_counter()
    copies = cross_collection_near_copies(train.data, test.data)
    print(f"{int(copies.sum())} of {len(test.data)} test images have a near-copy in the "
          f"training collection ({time.perf_counter() - start:.0f} s); dropped", flush=True)
    keep = ~copies
    # uint8 keeps the arrays small unless a z-score (negative values) is asked for.
    dtype = "float32" if resize.get("standardize") == "zscore" else "uint8"
    resizer = ImageResizer(args.image_size, **{"dtype": dtype, **resize})
    X_train = resizer.transform(train.data)
    X_test = resizer.transform(test.data[keep])
    y_train, y_test = train.target, test.target[keep]
    subtype = test.get("original_target")
    subtype = subtype[keep] if subtype is not None else None
    subtype_names = test.get("original_target_names", ())
    # One image per duplicate group: neighbouring slices of one patient count once.
    _, first = np.unique(test.groups[keep], return_index=True)

    raw = {}
    for model in args.models.split(","):
        print(f"== {model}", flush=True)
        runs = []
        for seed in seeds:
            estimator = get_estimator(model, random_state=seed, **params)
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            fit_seconds = time.perf_counter() - start
            if args.save_models:
                name = model.replace(":", "_")
                save_model(estimator, Path(args.save_models) / f"{name}_seed{seed}.skbrain")
            proba = estimator.predict_proba(X_test)[:, 1]
            run = {"seed": seed, **score(y_test, proba, subtype, subtype_names),
                   "grouped": score(y_test[first], proba[first]),
                   "fit_seconds": fit_seconds}
            runs.append(run)
            print(f"  seed {seed}: ROC AUC {run['roc_auc']:.3f}, balanced accuracy "
                  f"{run['balanced_accuracy']:.3f}, F1 {run['f1']:.3f} "
                  f"({fit_seconds:.0f} s fit)", flush=True)
            raw[model] = runs
            # Written after every seed, so a run cut short keeps what it measured.
            table = write_results(args, params, raw, {
                "n_train": len(y_train), "n_test": int(keep.sum()),
                "n_near_copies_dropped": int(copies.sum()),
                "n_test_groups": len(first), "resizer": resizer_settings(resizer)})
    print()
    print(table)


def resizer_settings(resizer):
    """Every ImageResizer setting that changes the pixels, so a result file says what ran."""
    return {k: v for k, v in resizer.get_params().items() if k not in ("n_jobs", "cache_dir")}


def summarize(runs):
    keys = [k for k in runs[0] if k not in ("seed", "grouped")]
    out = {}
    for k in keys:
        values = np.array([r[k] for r in runs], dtype=float)
        out[k] = {"mean": float(values.mean()), "min": float(values.min())}
    for k in runs[0]["grouped"]:
        values = np.array([r["grouped"][k] for r in runs], dtype=float)
        out[f"grouped_{k}"] = {"mean": float(values.mean()), "min": float(values.min())}
    return out


def write_results(args, params, raw, info):
    records = [{"model": model, **{k: v for k, v in r.items() if k != "grouped"},
                **{f"grouped_{k}": v for k, v in r["grouped"].items()}}
               for model, runs in raw.items() for r in runs]
    shown = ["roc_auc", "balanced_accuracy", "f1", "recall_glioma", "recall_meningioma",
             "recall_pituitary", "grouped_roc_auc", "fit_seconds"]
    table = ResultsTable(records, metrics=[m for m in shown if m in records[0]])
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(output.with_suffix(".csv"))
    table.to_markdown(output.with_suffix(".md"))
    write_json(output, {"direction": args.direction, "image_size": args.image_size,
                        "params": params, "resize": parse_set(args.resize), **info,
                        "summary": {m: summarize(runs) for m, runs in raw.items()},
                        "runs": raw})
    return table


if __name__ == "__main__":
    main()
