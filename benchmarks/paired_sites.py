"""Two recipes on the same images: ROC AUC of each and their paired difference.

Reads what ``bench_sites.py`` saved for two runs on the same arrays and scores the
second minus the first on exactly the same images, with a 95 % interval that
resamples whole groups (patients, duplicate groups) and keeps each image's two
probabilities together, so that what the two runs share (the test patients) does
not widen it:

* the threshold part's out-of-fold probabilities (``*_threshold_oof.npz``): one
  row per collection;
* the institutions part's (``*_institutions_scores.npz``): one row per LGG-dev
  institution left out, for all its slices and the mid-brain ones.

Usage (from the repository root)::

    python benchmarks/paired_sites.py --arrays sites96.npz \\
        A_threshold_oof.npz B_threshold_oof.npz --names v3,v4 --output paired.json

prints the table and writes it as JSON and CSV (``--output`` with ``.csv``).
"""

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sites  # noqa: E402
from _common import write_json  # noqa: E402

from skbrain.sites import grouped_bootstrap  # noqa: E402


def _difference(y, scores):
    return roc_auc_score(y, scores[:, 1]) - roc_auc_score(y, scores[:, 0])


def paired_row(name, y, first, second, groups, random_state=0):
    """ROC AUC of both, second minus first, and its paired interval over ``groups``."""
    a, b = roc_auc_score(y, first), roc_auc_score(y, second)
    low, high = grouped_bootstrap(_difference, y, np.column_stack([first, second]), groups,
                                  random_state=random_state)
    return {"part": name, "n": len(y), "n_groups": len(np.unique(groups)), "first": a,
            "second": b, "difference": b - a, "low": low, "high": high}


def threshold_rows(found, first, second):
    """One row per collection of two threshold parts' out-of-fold probabilities."""
    keep = [~s["train_only"] if "train_only" in s.files else np.ones(len(s["y"]), bool)
            for s in (first, second)]
    for key in ("y", "collection"):
        if not np.array_equal(first[key][keep[0]], second[key][keep[1]]):
            raise SystemExit(f"the two files' {key} differ: not the same images")
    y, collection = first["y"][keep[0]], first["collection"][keep[0]]
    names = list(first["collection_names"])
    if names != list(found):
        raise SystemExit(f"the files name the collections {names}, the arrays {list(found)}")
    groups = bench_sites.stacked_groups(found)
    if len(groups) != len(y):
        raise SystemExit(f"the arrays hold {len(groups)} images, the files {len(y)}")
    p1, p2 = first["proba"][keep[0]], second["proba"][keep[1]]
    return [paired_row(name, y[collection == c], p1[collection == c], p2[collection == c],
                       groups[collection == c]) for c, name in enumerate(names)]


def institution_rows(found, first, second, collection="lgg_flair_dev"):
    """One row per institution left out in both runs, all slices and mid-brain ones."""
    data = found[collection]
    keys = [[k for k in s.files if not k.endswith("/index")] for s in (first, second)]
    by_institution = [{k.split("/")[1]: k for k in ks} for ks in keys]
    rows = []
    for site in sorted(set(by_institution[0]) & set(by_institution[1])):
        k1, k2 = by_institution[0][site], by_institution[1][site]
        index = first[f"{k1}/index"]
        if not np.array_equal(index, second[f"{k2}/index"]):
            raise SystemExit(f"{site}: the two runs left out different images")
        y, groups = data.target[index], data.groups[index]
        mid = data.head_fraction[index] >= bench_sites.MID_BRAIN
        for subset, keep in (("all", slice(None)), ("mid-brain", mid)):
            rows.append(paired_row(f"{site} left out" + ("" if subset == "all"
                                                         else f" ({subset})"),
                                   y[keep], first[k1][keep], second[k2][keep], groups[keep]))
    if not rows:
        raise SystemExit("the two files leave out no institution in common")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--arrays", required=True, metavar="FILE.npz",
                        help="bench_sites.py --prepare's file both runs used")
    parser.add_argument("--names", default="first,second",
                        help="the two runs' names, comma-separated")
    parser.add_argument("--output", default=None, help="JSON file (a CSV beside it)")
    args = parser.parse_args(argv)
    names = args.names.split(",")
    if len(names) != 2:
        raise SystemExit(f"--names: expected two names, got {args.names!r}")
    first, second = np.load(args.first), np.load(args.second)
    found = bench_sites.load_arrays(args.arrays)
    if "proba" in first.files and "proba" in second.files:
        rows = threshold_rows(found, first, second)
    elif "proba" in first.files or "proba" in second.files:
        raise SystemExit("one file is a threshold part's, the other not: nothing to pair")
    else:
        rows = institution_rows(found, first, second)
    a, b = names
    print(f"| | n (groups) | {a} | {b} | {b} - {a} (95 % over groups) |")
    print("|:--|--:|--:|--:|:--|")
    for r in rows:
        print(f"| {r['part']} | {r['n']} ({r['n_groups']}) | {r['first']:.3f} | "
              f"{r['second']:.3f} | {r['difference']:+.3f} ({r['low']:+.3f} to "
              f"{r['high']:+.3f}) |")
    if args.output:
        out = Path(args.output)
        renamed = [{**{k: v for k, v in r.items() if k not in ("first", "second")},
                    a: r["first"], b: r["second"]} for r in rows]
        write_json(out, {"first": Path(args.first).name, "second": Path(args.second).name,
                         "rows": renamed})
        with open(out.with_suffix(".csv"), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(renamed[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(renamed)
    return rows


if __name__ == "__main__":
    main()
