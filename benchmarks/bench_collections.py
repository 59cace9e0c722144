"""Tumor types, pretraining and pooled training on the two collections.

Tasks (``--task``):

``four-class``
    grouped 75/25 splits of the 1,794 images of ``SKBRAIN_DATA_4CLASS``
    (glioma, meningioma, notumor, pituitary; neighbouring slices of one
    patient stay on one side), split ``k`` fitted with ``random_state=k``:
    macro F1, balanced accuracy, per-class F1, one-vs-rest ROC AUC, fit time.
``finetune``
    fit the model on the 1,794 (``--pretrain-classes four`` or ``binary``;
    the images with a near-copy among the 253 are left out), then fit it
    again with ``init_from=`` that model on the training part of each
    duplicate-aware split of the 253 (the splits of ``bench_quality.py``) and
    score the test part. The same splits are fitted from ImageNet weights
    alone (no ``init_from``) beside it (``--no-baseline`` skips them), so the two compare split
    by split.
``union``
    fit on the training part of each split of the 253 together with the
    1,794 as tumor / no tumor (:func:`skbrain.datasets.combine_collections`:
    groups join near-copies across the two, and every image whose group
    reaches the test part is left out), score the 253's test part.

Nothing here chooses a default: each estimator runs as shipped unless
``--set`` says otherwise. Targets of issue 18: four-class macro F1 >= 0.90
with a fit <= 10 minutes on 2 CPU cores; fine-tuned F1 >= 0.92 on the 253's
grouped splits.

Usage::

    python benchmarks/bench_collections.py --task four-class --models compact --seeds 0,1,2
    python benchmarks/bench_collections.py --task finetune --models timm:efficientnet_lite0 \\
        --pretrain-classes four --save-pretrained /tmp/lite0_four.skbrain
    python benchmarks/bench_collections.py --task union --models timm:efficientnet_lite0 \\
        --seeds 0,1
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, data_dir, grouped_split, parse_set, write_json  # noqa: E402

from skbrain import ImageResizer, get_estimator, load_brain_mri  # noqa: E402
from skbrain.datasets import combine_collections  # noqa: E402
from skbrain.evaluation import (  # noqa: E402
    ResultsTable,
    classification_scores,
    cross_collection_near_copies,
    train_test_split_grouped,
)
from skbrain.persistence import load_model, save_model  # noqa: E402

BINARY = ("f1", "roc_auc", "balanced_accuracy", "accuracy", "precision", "recall")
MULTI = ("f1_macro", "f1_weighted", "balanced_accuracy", "accuracy", "roc_auc")


def data_dir_4class():
    """``SKBRAIN_DATA_4CLASS``, else ``../shared/data/brain_tumor_mri_4class``."""
    path = Path(os.environ.get("SKBRAIN_DATA_4CLASS")
                or REPO_ROOT.parent / "shared/data/brain_tumor_mri_4class")
    if not (path / "notumor").is_dir():
        raise SystemExit(f"four-class images not found in {path}; set SKBRAIN_DATA_4CLASS")
    return path


def fit_and_score(model, params, X_fit, y_fit, X_test, y_test, seed, class_names=None):
    estimator = get_estimator(model, random_state=seed, **params)
    start = time.perf_counter()
    estimator.fit(X_fit, y_fit)
    fit_seconds = time.perf_counter() - start
    proba = estimator.predict_proba(X_test)
    if proba.shape[1] == 2:
        scores = classification_scores(y_test, (proba[:, 1] >= 0.5).astype(int), proba[:, 1])
        row = {m: scores[m] for m in BINARY}
    else:
        scores = classification_scores(y_test, estimator.predict(X_test), proba)
        row = {m: scores[m] for m in MULTI}
        for label, values in scores["per_class"].items():
            row[f"f1_{class_names[int(label)]}"] = values["f1"]
    return estimator, {"seed": seed, **row, "fit_seconds": fit_seconds,
                       "n_fit": len(y_fit), "n_test": len(y_test)}


def four_class(args, params, resizer):
    data = load_brain_mri(data_dir_4class())
    X = resizer.transform(data.data)
    y, names = data.target, list(data.target_names)
    raw = {}
    for model in args.models.split(","):
        print(f"== {model}", flush=True)
        raw[model] = []
        for seed in args.seeds:
            train, test = train_test_split_grouped(np.arange(len(y)), y, data.groups,
                                                   test_size=0.25, random_state=seed)[:2]
            _, row = fit_and_score(model, params, X[train], y[train], X[test], y[test], seed,
                                   names)
            raw[model].append(row)
            print(f"  split {seed}: macro F1 {row['f1_macro']:.3f}, balanced accuracy "
                  f"{row['balanced_accuracy']:.3f} ({row['fit_seconds']:.0f} s fit)", flush=True)
            yield raw, {"n_images": len(y), "classes": names}


def pretrained_source(args, params, resizer, model, small):
    if args.pretrained:
        return load_model(args.pretrained), {"pretrained": Path(args.pretrained).name}
    large = load_brain_mri(data_dir_4class(),
                           negative="notumor" if args.pretrain_classes == "binary" else None)
    # Pretraining images with a near-copy among the 253 would leak into their test parts.
    near = cross_collection_near_copies(small.data, large.data)
    keep = ~near
    print(f"pretraining on {int(keep.sum())} of {len(keep)} images ({int(near.sum())} with a "
          "near-copy among the 253 left out)", flush=True)
    X = resizer.transform(large.data[keep])
    start = time.perf_counter()
    source = get_estimator(model, random_state=args.pretrain_seed, **params).fit(
        X, large.target[keep])
    seconds = time.perf_counter() - start
    print(f"pretrained in {seconds:.0f} s", flush=True)
    if args.save_pretrained:
        save_model(source, args.save_pretrained)
    return source, {"pretrain_classes": args.pretrain_classes,
                    "pretrain_seed": args.pretrain_seed, "pretrain_seconds": seconds,
                    "n_pretrain": int(keep.sum())}


def finetune(args, params, resizer):
    small = load_brain_mri(data_dir())
    X, y = resizer.transform(small.data), small.target
    splits = [grouped_split(y, small.groups, seed) for seed in args.seeds]
    raw = {}
    for model in args.models.split(","):
        source, info = pretrained_source(args, params, resizer, model, small)
        variants = [("fine-tuned", {"init_from": source})]
        if not args.no_baseline:
            variants.append(("no init_from", {}))
        for label, extra in variants:
            name = f"{model} ({label})"
            print(f"== {name}", flush=True)
            raw[name] = []
            for seed, (train, test) in zip(args.seeds, splits, strict=True):
                _, row = fit_and_score(model, {**params, **extra}, X[train], y[train], X[test],
                                       y[test], seed)
                raw[name].append(row)
                print(f"  split {seed}: F1 {row['f1']:.3f}, ROC AUC {row['roc_auc']:.3f} "
                      f"({row['fit_seconds']:.0f} s fit)", flush=True)
                yield raw, info


def union(args, params, resizer):
    small = load_brain_mri(data_dir())
    large = load_brain_mri(data_dir_4class(), negative="notumor")
    both = combine_collections(small, large, names=["brain_mri", "4class"], n_jobs=-1)
    X, y = resizer.transform(both.data), both.target
    in_small = np.flatnonzero(both.collection == 0)
    raw = {}
    for model in args.models.split(","):
        name = f"{model} (253 + 1,794)"
        print(f"== {name}", flush=True)
        raw[name] = []
        for seed in args.seeds:
            # The same split of the 253 as bench_quality.py: its own groups are kept
            # inside the union, so the test part is the same images.
            train, test = grouped_split(y[in_small], small.groups, seed)
            test = in_small[test]
            fit = np.flatnonzero(~np.isin(both.groups, both.groups[test]))
            _, row = fit_and_score(model, params, X[fit], y[fit], X[test], y[test], seed)
            row["n_fit_other_collection"] = int((both.collection[fit] == 1).sum())
            raw[name].append(row)
            print(f"  split {seed}: F1 {row['f1']:.3f}, ROC AUC {row['roc_auc']:.3f} "
                  f"({row['fit_seconds']:.0f} s fit on {row['n_fit']} images)", flush=True)
            yield raw, {}


def summarize(runs):
    out = {}
    for key in runs[0]:
        values = np.array([r[key] for r in runs], dtype=float)
        out[key] = {"mean": float(values.mean()), "sd": float(values.std()),
                    "min": float(values.min())}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("four-class", "finetune", "union"), required=True)
    parser.add_argument("--models", default="compact")
    parser.add_argument("--seeds", default=None,
                        help="split seeds (default 0,1,2 for four-class, 0-4 otherwise)")
    parser.add_argument("--image-size", type=int, default=150)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="estimator parameters")
    parser.add_argument("--resize", nargs="*", default=[], metavar="KEY=VALUE",
                        help="ImageResizer options, e.g. crop_foreground=True")
    parser.add_argument("--pretrain-classes", choices=("four", "binary"), default="four")
    parser.add_argument("--pretrain-seed", type=int, default=0)
    parser.add_argument("--pretrained", default=None,
                        help="a saved model to fine-tune from instead of pretraining")
    parser.add_argument("--save-pretrained", default=None)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    default_seeds = "0,1,2" if args.task == "four-class" else "0,1,2,3,4"
    args.seeds = [int(s) for s in (args.seeds or default_seeds).split(",")]
    output = Path(args.output or f"benchmarks/results/collections_{args.task}.json")
    params, resize = parse_set(args.set), parse_set(args.resize)
    dtype = "float32" if resize.get("standardize") == "zscore" else "uint8"
    resizer = ImageResizer(args.image_size, **{"dtype": dtype, **resize})

    task = {"four-class": four_class, "finetune": finetune, "union": union}[args.task]
    table = None
    # Written after every fit, so a run cut short keeps what it measured.
    for raw, info in task(args, params, resizer):
        records = [{"model": name, **row} for name, runs in raw.items() for row in runs]
        shown = [k for k in records[0] if k not in ("model", "seed") and not k.startswith("n_")]
        table = ResultsTable(records, metrics=shown)
        output.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(output.with_suffix(".csv"))
        table.to_markdown(output.with_suffix(".md"))
        write_json(output, {"task": args.task, "image_size": args.image_size,
                            "params": params, "resize": resize,
                            "resizer": {k: v for k, v in resizer.get_params().items()
                                        if k not in ("n_jobs", "cache_dir")}, **info,
                            "summary": {name: summarize(runs) for name, runs in raw.items()},
                            "runs": raw})
    print()
    print(table)


if __name__ == "__main__":
    main()
