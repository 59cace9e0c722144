"""Where a detector trained without LGG-dev errs on LGG-dev: by slice level and tumor size.

LGG-dev's slices come from whole volumes, so a tumor-free slice may lie at the skull base, in
the mid-brain or at the top of the head. For each model (or saved held-out probabilities),
this prints and saves:

- ROC AUC on every slice;
- the mean probability of the tumor-free slices in each fifth of their patient's volume
  (by slice number, lowest first: the kaggle_3m slices run from the skull base up), and the
  share of them at 0.5 or above;
- ROC AUC of the tumors of each size (tumor area in pixels of the 256 x 256 slice) against
  every tumor-free slice;
- ROC AUC with the tumor-free slices of the lowest two fifths left out.

Models are ``bench_sites --save-base`` files (a resizer and the estimator; the estimator is
given the arrays' LGG-dev images); scores are a ``*_loco_scores.npz`` of bench_sites and a key
in it (LGG-dev held out, in the arrays' order).

Usage::

    python benchmarks/lgg_errors.py --arrays sites96.npz \
        --models seed2=v3_without_lgg_s2.skbrain \
        --scores coil=coil_s2_loco_scores.npz:compact-lesions-60/lgg_flair_dev/seed2
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import env_data_dir, write_json  # noqa: E402

FIFTHS = 5
SIZES = ((1, 600), (600, 1500), (1500, None))


def slice_positions(slices, groups):
    """Each slice's place in its patient's volume, 0 (lowest slice) to 1 (highest)."""
    position = np.zeros(len(slices))
    for group in np.unique(groups):
        at = groups == group
        low, high = slices[at].min(), slices[at].max()
        position[at] = (slices[at] - low) / max(1, high - low)
    return position


def lgg_slices(folder, near_copy):
    """Slice number and tumor area of LGG-dev's images as bench_sites' arrays order them."""
    from skbrain.datasets import load_lgg_flair

    bunch = load_lgg_flair(folder)
    if (bunch.slice < 0).any():
        raise SystemExit(f"{folder}: MANIFEST.csv gives no slice number for some images")
    keep = ~np.asarray(near_copy, dtype=bool)
    return bunch.slice[keep], bunch.tumor_area[keep]


def volume_fifth(position):
    """The fifth of the volume (0 lowest .. 4 highest) of each slice position."""
    return np.minimum((position * FIFTHS).astype(int), FIFTHS - 1)


def of_size(area, low, high):
    """The slices whose tumor area is in [low, high) pixels (``high`` None: no bound)."""
    return (area >= low) & (area < (high or np.inf))


def size_key(low, high):
    return f"roc_auc_tumor_{low}_{high or 'up'}px"


def errors(y, proba, position, area):
    """The figures of the module docstring for one set of probabilities."""
    negative = y == 0
    fifth = volume_fifth(position)
    by_fifth = [proba[negative & (fifth == f)] for f in range(FIFTHS)]
    # An empty fifth (a tiny test folder) gives None, not NaN, so the JSON stays valid.
    out = {"roc_auc": float(roc_auc_score(y, proba)),
           "tumor_free_mean_proba_by_fifth": [float(p.mean()) if len(p) else None
                                              for p in by_fifth],
           "tumor_free_share_at_half_by_fifth": [float((p >= 0.5).mean()) if len(p) else None
                                                 for p in by_fifth]}
    for low, high in SIZES:
        picked = negative | of_size(area, low, high)
        out[size_key(low, high)] = float(roc_auc_score(y[picked], proba[picked]))
    kept = ~(negative & (fifth < 2))
    out["roc_auc_without_lowest_two_fifths_tumor_free"] = float(roc_auc_score(y[kept],
                                                                                proba[kept]))
    return out


def named(items):
    pairs = [item.split("=", 1) for item in items]
    bad = [item for item, pair in zip(items, pairs, strict=True) if len(pair) != 2]
    if bad:
        raise SystemExit(f"expected NAME=VALUE, got {bad}")
    return dict(pairs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arrays", required=True, metavar="FILE.npz",
                        help="bench_sites --prepare arrays (LGG-dev's images and order)")
    parser.add_argument("--models", nargs="*", default=[], metavar="NAME=FILE.skbrain")
    parser.add_argument("--scores", nargs="*", default=[], metavar="NAME=FILE.npz:KEY")
    parser.add_argument("--output", default="benchmarks/results/lgg_errors.json")
    args = parser.parse_args(argv)
    models, scores = named(args.models), named(args.scores)
    for name, spec in scores.items():
        if ":" not in spec:
            raise SystemExit(f"--scores {name}: expected FILE.npz:KEY, got {spec!r}")
    for path in [*models.values(), *(s.rsplit(":", 1)[0] for s in scores.values()),
                 args.arrays]:
        if not os.path.exists(path):
            raise SystemExit(f"{path} not found")

    saved = np.load(args.arrays)
    near_copy = saved["lgg_flair_dev.near_copy"]
    y = saved["lgg_flair_dev.target"][~near_copy]
    groups = saved["lgg_flair_dev.groups"][~near_copy]
    folder = env_data_dir("SKBRAIN_DATA_LGG", "lgg_flair_dev", "MANIFEST.csv")
    slices, area = lgg_slices(folder, near_copy)
    position = slice_positions(slices, groups)

    probas = {}
    if models:
        from skbrain.persistence import load_model

        images = np.repeat(saved["lgg_flair_dev.X"][~near_copy], 3, axis=1)
        for name, path in models.items():
            probas[name] = load_model(path)[-1].predict_proba(images)[:, 1]
    for name, spec in scores.items():
        path, key = spec.rsplit(":", 1)
        probas[name] = np.load(path)[key]
        if len(probas[name]) != len(y):
            raise SystemExit(f"{spec}: {len(probas[name])} probabilities for {len(y)} slices")

    rows = {name: errors(y, p, position, area) for name, p in probas.items()}
    negative = y == 0
    fifth = volume_fifth(position)
    counts = {"tumor_free_by_fifth": [int((negative & (fifth == f)).sum())
                                      for f in range(FIFTHS)],
              "tumors_by_size": {f"{low}-{high or 'up'}px": int(of_size(area, low, high).sum())
                                 for low, high in SIZES}}
    print(f"LGG-dev: {len(y)} slices; tumor-free by fifth of the volume (lowest first) "
          f"{counts['tumor_free_by_fifth']}; tumors by size {counts['tumors_by_size']}")
    for name, row in rows.items():
        print(f"{name}: ROC AUC {row['roc_auc']:.3f}; tumor-free mean probability by fifth "
              + " ".join("-" if v is None else f"{v:.2f}"
                         for v in row["tumor_free_mean_proba_by_fifth"])
              + "; tumors against every tumor-free slice: "
              + ", ".join(f"{low}-{high or 'up'} px {row[size_key(low, high)]:.3f}"
                          for low, high in SIZES)
              + f"; without the lowest two fifths' tumor-free slices "
              f"{row['roc_auc_without_lowest_two_fifths_tumor_free']:.3f}")
    write_json(args.output, {"counts": counts, "rows": rows})


if __name__ == "__main__":
    main()
