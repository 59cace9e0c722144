"""Compare two settings' ``bench_quality.py`` runs over several seed sets, split by split.

Each ``--a`` and ``--b`` file is one ``bench_quality.py`` run (five grouped splits, one fit
each); files of the same ``--seed-offset`` are paired, and within them the same split. For
every metric and model it prints and saves:

- each seed set's mean over the splits, for A and for B;
- the seed-to-seed spread: the standard deviation of those means (how far one run of five
  fits moves with the networks' seeds alone);
- the difference A - B: its mean over every (seed set, split) pair, that mean's standard
  error, and in how many pairs A is higher.

Nothing here chooses a default; it says whether a difference is larger than the seed alone
makes it (``benchmarks/README.md``, "The seed spread on the test parts").

Usage::

    python benchmarks/compare_quality.py \\
        --a benchmarks/results/quality_seeds/default_seed*.json \\
        --b benchmarks/results/quality_seeds/plain_seed*.json \\
        --output benchmarks/results/quality_seeds/summary.json
"""

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_json  # noqa: E402

METRICS = ("f1", "roc_auc", "recall", "precision")


def _by_offset(paths, option):
    runs = {}
    for path in paths:
        result = json.loads(Path(path).read_text())
        offset = result["params"].get("seed_offset", 0)
        if offset in runs:
            raise SystemExit(f"{option}: two files of seed offset {offset} ({path})")
        runs[offset] = result
    return runs


def _spread(means):
    """Sample sd of the seed sets' means (None for one seed set)."""
    return float(means.std(ddof=1)) if len(means) > 1 else None


def compare(a_runs, b_runs, metrics=METRICS):
    """One row per (model, metric): the seed sets' means, their spread, the paired difference.

    ``a_runs`` and ``b_runs`` map a seed offset to a ``bench_quality.py`` result; only the
    offsets, models and ``metrics`` that both hold are compared.
    """
    offsets = sorted(set(a_runs) & set(b_runs))
    if not offsets:
        raise ValueError(f"no seed offset in both: {sorted(a_runs)} and {sorted(b_runs)}")
    models = [m for m in a_runs[offsets[0]]["runs"] if all(
        m in runs[o]["runs"] for runs in (a_runs, b_runs) for o in offsets)]
    rows = []
    for model in models:
        first = a_runs[offsets[0]]["runs"][model]["splits"][0]
        for metric in [m for m in metrics if m in first]:
            a, b = ([[s[metric] for s in runs[o]["runs"][model]["splits"]] for o in offsets]
                    for runs in (a_runs, b_runs))
            a, b = np.array(a, dtype=float), np.array(b, dtype=float)
            if a.shape != b.shape:
                raise ValueError(f"{model}: A and B have different numbers of splits")
            diff = (a - b).ravel()
            rows.append({
                "model": model, "metric": metric, "seed_offsets": offsets,
                "a_means": a.mean(axis=1).tolist(), "b_means": b.mean(axis=1).tolist(),
                "a": float(a.mean()), "b": float(b.mean()),
                "a_seed_sd": _spread(a.mean(axis=1)), "b_seed_sd": _spread(b.mean(axis=1)),
                "difference": float(diff.mean()),
                "difference_se": float(diff.std(ddof=1) / np.sqrt(len(diff))),
                "pairs_higher": int((diff > 0).sum()), "pairs": int(len(diff)),
            })
    return rows


def _num(value):
    return "" if value is None else f"{value:.3f}"


def markdown(rows):
    lines = ["| " + " | ".join(rows[0]) + " |", "|:--|:--|" + "--:|" * (len(rows[0]) - 2)]
    lines += ["| " + " | ".join(str(v) for v in r.values()) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", nargs="+", required=True, help="bench_quality results of A")
    parser.add_argument("--b", nargs="+", required=True, help="bench_quality results of B")
    parser.add_argument("--output", default="benchmarks/results/compare_quality.json")
    args = parser.parse_args(argv)
    rows = compare(_by_offset(args.a, "--a"), _by_offset(args.b, "--b"))
    shown = [{"model": r["model"], "metric": r["metric"],
              "A (seed sets)": " / ".join(f"{v:.3f}" for v in r["a_means"]),
              "B (seed sets)": " / ".join(f"{v:.3f}" for v in r["b_means"]),
              "A seed sd": _num(r["a_seed_sd"]), "B seed sd": _num(r["b_seed_sd"]),
              "A - B": f"{r['difference']:+.3f} ± {r['difference_se']:.3f}",
              "pairs A higher": f"{r['pairs_higher']} / {r['pairs']}"} for r in rows]
    text = markdown(shown)
    print(text)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".md").write_text(text, encoding="utf-8")
    with output.with_suffix(".csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, list(shown[0]))
        writer.writeheader()
        writer.writerows(shown)
    write_json(output, {"a": [str(p) for p in args.a], "b": [str(p) for p in args.b],
                        "rows": rows})


if __name__ == "__main__":
    main()
