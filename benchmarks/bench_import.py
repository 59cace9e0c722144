"""Cold start: time ``import skbrain`` against its own dependencies, side by side.

Each measurement runs in a fresh interpreter (``python -c ...``), alternating
between the two statements so that a busy machine slows both alike; the
median of ``--repeat`` runs is reported, with their ratio (issue 21's target:
``import skbrain`` at most 1.3 times ``import torch, sklearn, skorch``).
It also reports whether torchvision's model zoo or timm were imported by
``import skbrain`` and by the code path of ``skbrain models`` (which should
never load them).

Usage::

    python benchmarks/bench_import.py [--repeat 7] [--output benchmarks/results/import.json]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

STATEMENTS = {
    "skbrain": "import skbrain",
    "dependencies": "import torch, sklearn, skorch",
}

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_json  # noqa: E402

ZOOS = ("torchvision.models", "timm")

PROBES = {
    "import skbrain": "import skbrain",
    "skbrain models": (
        "import contextlib, io, skbrain.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    skbrain.cli.main(['models'])"
    ),
}


def _time(statement):
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    return float(out.stdout.strip().splitlines()[-1]), wall


def _loaded(statement):
    code = (f"{statement}\nimport json, sys\n"
            f"print(json.dumps([m in sys.modules for m in {ZOOS!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(zip(ZOOS, json.loads(out.stdout.strip().splitlines()[-1]), strict=True))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each statement")
    parser.add_argument("--output", default=None, help="write the result as JSON here")
    args = parser.parse_args(argv)

    _time(STATEMENTS["skbrain"])  # warm the file cache once, not measured
    times = {name: [] for name in STATEMENTS}
    for _ in range(args.repeat):
        for name, statement in STATEMENTS.items():
            times[name].append(_time(statement)[0])
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, statement in STATEMENTS.items():
        spread = f"{min(times[name]):.2f}-{max(times[name]):.2f}"
        print(f"{statement:32s} median {medians[name]:.2f} s  (range {spread}, "
              f"{args.repeat} runs)")
    ratio = medians["skbrain"] / medians["dependencies"]
    print(f"ratio import skbrain / import torch, sklearn, skorch: {ratio:.2f}x "
          f"(target <= 1.3x: {'met' if ratio <= 1.3 else 'missed'})")
    zoos = {}
    for label, statement in PROBES.items():
        zoos[label] = loaded = _loaded(statement)
        print(f"after {label!r}: " + ", ".join(
            f"{module} {'imported' if flag else 'not imported'}" for module, flag in loaded.items()
        ))
    result = {"seconds": times, "median_seconds": medians, "ratio": ratio, "zoos_imported": zoos}
    if args.output:
        write_json(args.output, result)
    return result


if __name__ == "__main__":
    main()
