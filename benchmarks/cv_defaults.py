"""Choose a default by cross-validation inside a training part, never on a test part.

Takes the training part of duplicate-aware split 0 (the same split
``bench_quality.py`` uses first), cuts it into grouped stratified folds, and
scores each candidate setting by mean F1 over the folds. With
``--outer-splits N`` it does the same inside the training parts of splits
0 to N-1 and pools their folds: 3 folds of ~42 images score F1 with an sd of
about 0.04, too coarse to tell most settings apart, and pooling five training
parts halves the standard error. Test-time augmentation only changes
``predict``, so every ``--tta`` value is scored on the same fitted model.
Grid keys that start with ``resize.`` are ``ImageResizer`` options (the
images are resized again for each of their values).

Usage::

    python benchmarks/cv_defaults.py --model wide --grid lr=1e-2,1e-3
    python benchmarks/cv_defaults.py --model timm:efficientnet_lite0 --tta 0,1
    python benchmarks/cv_defaults.py --model deep --grid max_epochs=30,60 --outer-splits 5
    python benchmarks/cv_defaults.py --model compact --outer-splits 5 --seed-offset 100
    python benchmarks/cv_defaults.py --model timm:efficientnet_lite0 --outer-splits 5 \
        --grid resize.crop_foreground=False,True
"""

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    grouped_split,
    load_real_images,
    parse_set,
    pop_resize,
    write_json,
)

from skbrain import ImageResizer, get_estimator  # noqa: E402
from skbrain.evaluation import classification_scores  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--image-size", type=int, default=150)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="fixed settings for every candidate")
    parser.add_argument("--grid", nargs="*", default=[], metavar="KEY=V1,V2",
                        help="settings to compare (all combinations)")
    parser.add_argument("--tta", default="0", help="test-time augmentation values to compare")
    parser.add_argument("--outer-splits", type=int, default=1,
                        help="cross-validate inside the training parts of this many splits")
    parser.add_argument("--seed-offset", type=int, default=0,
                        help="fold k trains with random_state k + this; another value "
                             "measures how far a CV mean moves with the seed alone")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    X, data = load_real_images(args.image_size)
    y, groups = data.target, data.groups
    # (fit indices, validation indices) into X, all inside training parts.
    folds = []
    for seed in range(args.outer_splits):
        train, _ = grouped_split(y, groups, seed=seed)
        folds += [(train[a], train[b]) for a, b in StratifiedGroupKFold(
            args.folds, shuffle=True, random_state=0).split(train, y[train], groups[train])]

    fixed = parse_set(args.set)
    names, values = [], []
    for item in args.grid:
        key, _, options = item.partition("=")
        names.append(key)
        values.append([parse_set([f"{key}={v}"])[key] for v in options.split(",")])
    ttas = [int(t) for t in args.tta.split(",")]

    results = []
    resized = {(): X}
    for combo in itertools.product(*values) if values else [()]:
        params = {**fixed, **dict(zip(names, combo, strict=True))}
        resize = tuple(pop_resize(params).items())
        if resize not in resized:
            resized[resize] = ImageResizer(args.image_size, dtype="uint8",
                                           **dict(resize)).transform(data.data)
        X = resized[resize]
        params_shown = {**params, **{f"resize.{k}": v for k, v in resize}}
        scores = {t: [] for t in ttas}
        start = time.perf_counter()
        for k, (fit_idx, val_idx) in enumerate(folds):
            estimator = get_estimator(args.model, random_state=k + args.seed_offset,
                                      **params)
            estimator.fit(X[fit_idx], y[fit_idx])
            for t in ttas:
                estimator.set_params(tta=t)
                proba = estimator.predict_proba(X[val_idx])[:, 1]
                scores[t].append(classification_scores(
                    y[val_idx], (proba >= 0.5).astype(int), proba)["f1"])
        seconds = (time.perf_counter() - start) / len(folds)
        for t in ttas:
            row = {"params": params_shown, "tta": t, "f1_mean": float(np.mean(scores[t])),
                   "f1_std": float(np.std(scores[t])), "f1_folds": scores[t],
                   "fit_seconds": seconds}
            paired = ""
            if results:
                # Same folds for every candidate, so compare fold by fold.
                diff = np.subtract(scores[t], results[0]["f1_folds"])
                row["paired_difference"] = float(diff.mean())
                row["paired_difference_se"] = float(diff.std(ddof=1) / np.sqrt(len(diff)))
                paired = (f"; vs the first: {row['paired_difference']:+.3f} "
                          f"± {row['paired_difference_se']:.3f} (se)")
            results.append(row)
            print(f"{params_shown} tta={t}: CV F1 {row['f1_mean']:.3f} ± {row['f1_std']:.3f} "
                  f"({seconds:.0f} s per fit){paired}", flush=True)
    if args.output:
        write_json(args.output, {"model": args.model, "outer_splits": args.outer_splits,
                                 "folds": args.folds, "seed_offset": args.seed_offset,
                                 "results": results})


if __name__ == "__main__":
    main()
