"""Quality of skbrain's estimators, with their defaults, on the real images.

Two protocols, both printed beside the study's own numbers:

(a) the study's split: sorted file names, ``no`` then ``yes``, every third
    file to test (85 images). 25 of those test images have a near-duplicate in
    the training part, so these numbers are optimistic;
(b) five duplicate-aware stratified 75/25 splits (seeds 0-4): the honest
    measure, mean ± sd.

Nothing here chooses a default: the estimators run exactly as shipped.

Usage::

    python benchmarks/bench_quality.py                      # all hand-made nets
    python benchmarks/bench_quality.py --models wide,compact --image-size 128
    python benchmarks/bench_quality.py --models timm:efficientnet_lite0 --set max_epochs=20
    python benchmarks/bench_quality.py --models wide --update  # rerun one, keep the others
    python benchmarks/bench_quality.py --models two-conv --seed-offset 100 \
        --set resize.crop_foreground=False resize.standardize=None  # other seeds, plain resize

``--set`` keys that start with ``resize.`` are ``ImageResizer`` options, as in
``cv_defaults.py``. ``--seed-offset`` changes the networks' seeds (``random_state`` is the
offset plus the split's index), never the splits, so two offsets measure the seed-to-seed
spread on the same test images.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    grouped_split,
    load_real_images,
    parse_set,
    pop_resize,
    write_json,
)

from skbrain import get_estimator  # noqa: E402
from skbrain.evaluation import ResultsTable, classification_scores, study_split  # noqa: E402

STUDY_F1 = {"wide": 0.814, "efficientnet-b7": 0.860}
METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def run(model, X, y, train, test, params, seed):
    estimator = get_estimator(model, random_state=seed, **params)
    start = time.perf_counter()
    estimator.fit(X[train], y[train])
    seconds = time.perf_counter() - start
    proba = estimator.predict_proba(X[test])[:, 1]
    scores = classification_scores(y[test], (proba >= 0.5).astype(int), proba)
    return {**{m: scores[m] for m in METRICS}, "fit_seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="simple,two-conv,wide,deep,pyramid,compact")
    parser.add_argument("--image-size", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--seed-offset", type=int, default=0,
                        help="random_state = this plus the split's index (the splits stay)")
    parser.add_argument("--output", default="benchmarks/results/quality.json")
    parser.add_argument("--update", action="store_true",
                        help="keep the runs of models in --output that this run does not repeat")
    args = parser.parse_args(argv)

    params = parse_set(args.set)
    resize = pop_resize(params)
    X, data = load_real_images(args.image_size, **resize)
    y, groups = data.target, data.groups
    recorded = {**params, **{f"resize.{k}": v for k, v in resize.items()}}
    if args.seed_offset:
        recorded["seed_offset"] = args.seed_offset
    study = study_split(data.filenames)
    splits = [grouped_split(y, groups, seed) for seed in range(args.repeats)]

    raw = {}
    if args.update and Path(args.output).exists():
        previous = json.loads(Path(args.output).read_text())
        if previous["image_size"] != args.image_size or previous["params"] != recorded:
            parser.error(f"--update: {args.output} was measured with other settings")
        raw = previous["runs"]
    for model in args.models.split(","):
        print(f"== {model}", flush=True)
        study_scores = run(model, X, y, *study, params, seed=args.seed_offset)
        print(f"  study split: F1 {study_scores['f1']:.3f} ({study_scores['fit_seconds']:.0f} s)")
        split_scores = []
        for seed, (train, test) in enumerate(splits):
            split_scores.append(run(model, X, y, train, test, params,
                                    seed=args.seed_offset + seed))
            print(f"  split {seed}: F1 {split_scores[-1]['f1']:.3f} "
                  f"({split_scores[-1]['fit_seconds']:.0f} s)", flush=True)
        raw[model] = {"study_split": study_scores, "splits": split_scores}
        # Written after every model, so a long run cut short keeps what it measured.
        table = write_results(args, recorded, raw)

    print()
    print(table)
    for model in raw:
        if model in STUDY_F1:
            print(f"the study reported F1 {STUDY_F1[model]:.3f} for {model} on its split")


def write_results(args, params, raw):
    records = []
    for model, runs in raw.items():
        records.append({"model": f"{model} (study split)", **runs["study_split"]})
        records += [{"model": f"{model} (grouped splits)", **r} for r in runs["splits"]]
    table = ResultsTable(records, metrics=(*METRICS, "fit_seconds"))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(output.with_suffix(".csv"))
    table.to_markdown(output.with_suffix(".md"))
    write_json(output, {"image_size": args.image_size,
                        "params": params, "summary": table.rows, "runs": raw})
    return table


if __name__ == "__main__":
    main()
