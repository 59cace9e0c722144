"""Few labels from a detector shipped as a vote of seeds: fine-tune each base, average them.

``adapt_pretrained`` averages three fine-tunes of one base (seeds r, r + 100, r + 200). A
detector shipped as a soft vote of several seeds would be fine-tuned member by member, so its
few-label figure is the average of one fine-tune from each base. For each of bench_sites'
draws of k LGG-dev patients (``few_draw``), this fine-tunes every ``--bases`` file once at the
``--fine-tune`` settings (seed r, as bench_sites' single fine-tune), scores the other patients
with each fine-tune alone and with their probabilities averaged, each also with a horizontally
flipped view averaged in. Not part of skbrain: a measurement for the choice of what to ship.

Usage::

    python benchmarks/screens/base_vote.py --arrays sites96.npz \
        --bases v3_without_lgg_s2.skbrain v3_without_lgg_s3.skbrain v3_without_lgg_s4.skbrain \
        --k 5 --repeats 6 --fine-tune max_epochs=60 lr=0.01
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402
from _common import parse_set, write_json  # noqa: E402

from skbrain.persistence import load_model  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrays", required=True, metavar="FILE.npz")
    parser.add_argument("--bases", nargs="+", required=True, metavar="FILE.skbrain",
                        help="bench_sites --save-base files of one recipe without LGG-dev")
    parser.add_argument("--recipe", default="compact-lesions-60")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--fine-tune", nargs="*", default=["max_epochs=60", "lr=0.01"],
                        metavar="KEY=VALUE")
    parser.add_argument("--output", default="benchmarks/results/sites_few_base_vote.json")
    args = parser.parse_args(argv)
    missing = [b for b in [args.arrays, *args.bases] if not Path(b).is_file()]
    if missing:
        raise SystemExit(f"not found: {', '.join(missing)}")
    fine_tune = parse_set(args.fine_tune)
    bases = [load_model(b)[-1] for b in args.bases]
    lgg = bench_sites.for_recipe(bench_sites.load_arrays(args.arrays), args.recipe)[
        "lgg_flair_dev"]
    patients = np.unique(lgg.groups)
    rows = []
    for r in range(args.repeats):
        train = np.isin(lgg.groups, bench_sites.few_draw(patients, args.k, r))
        test = ~train
        y = lgg.target[test]
        probas = {0: [], 1: []}
        start = time.perf_counter()
        for base in bases:
            model = bench_sites.few_model(args.recipe, {}, r, init_from=base, **fine_tune)
            model.fit(lgg.data[train], lgg.target[train])
            for tta in (0, 1):
                bench_sites._set_tta(model, tta)
                probas[tta].append(model.predict_proba(lgg.data[test])[:, 1])
        row = {"draw": r, "k": args.k, "n_test": int(test.sum()),
               "seconds": round(time.perf_counter() - start, 1)}
        for tta, label in ((0, ""), (1, "_tta")):
            row["roc_auc_each" + label] = [float(roc_auc_score(y, p)) for p in probas[tta]]
            row["roc_auc_vote" + label] = float(roc_auc_score(y, np.mean(probas[tta], 0)))
        rows.append(row)
        print(f"draw {r}: each {', '.join(f'{v:.3f}' for v in row['roc_auc_each'])}; "
              f"vote {row['roc_auc_vote']:.3f}; with the flipped view: each "
              f"{', '.join(f'{v:.3f}' for v in row['roc_auc_each_tta'])}; vote "
              f"{row['roc_auc_vote_tta']:.3f} ({row['seconds']:.0f} s)", flush=True)
    mean = {key: np.mean([row[key] for row in rows], axis=0).round(4).tolist()
            for key in ("roc_auc_each", "roc_auc_vote", "roc_auc_each_tta", "roc_auc_vote_tta")}
    print(f"mean of {len(rows)} draws: each base {mean['roc_auc_each']}, vote "
          f"{mean['roc_auc_vote']:.3f}; with the flipped view {mean['roc_auc_each_tta']}, vote "
          f"{mean['roc_auc_vote_tta']:.3f}")
    write_json(args.output, {"recipe": args.recipe, "fine_tune": fine_tune, "rows": rows,
                             "mean": mean})


if __name__ == "__main__":
    main()
