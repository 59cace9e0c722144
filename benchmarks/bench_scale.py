"""How fit time and memory grow with the number of images.

Fits the default ``WideCNNClassifier`` (one epoch, so the cost per image is
what is compared) on 250, 1,000 and 4,000 synthetic 150x150 images, and runs
``predict`` on 10,000, each in a fresh process so its peak resident memory is
its own. Images go through ``ImageResizer(150, dtype="uint8")``, the
memory-lean path: 3 x 150 x 150 bytes per image, converted to float a batch at
a time inside the estimator.

Usage::

    python benchmarks/bench_scale.py                 # ~3 min on 2 cores
    python benchmarks/bench_scale.py --sizes 250,1000 --predict 2000
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, peak_rss_mb, run_fresh, write_json  # noqa: E402

SIZE = 150


def images(n):
    """``n`` uint8 images of shape (3, 150, 150): 1,000 distinct ones, tiled."""
    from skbrain import ImageResizer, make_synthetic_mri

    data = make_synthetic_mri(min(n, 1000), image_size=SIZE, random_state=0)
    X = ImageResizer(SIZE, dtype="uint8").fit_transform(data.data)
    reps = -(-n // len(X))
    return np.tile(X, (reps, 1, 1, 1))[:n], np.tile(data.target, reps)[:n]


def worker(task, n):
    from skbrain import WideCNNClassifier

    X, y = images(n)
    base_rss = peak_rss_mb()
    if task == "fit":
        clf = WideCNNClassifier(max_epochs=1, random_state=0)
        start = time.perf_counter()
        clf.fit(X, y)
    else:
        clf = WideCNNClassifier(max_epochs=1, random_state=0).fit(X[:64], y[:64])
        start = time.perf_counter()
        clf.predict(X)
    seconds = time.perf_counter() - start
    emit({"task": task, "n_images": n, "seconds": seconds, "images_per_s": n / seconds,
          "data_mb": X.nbytes / 2**20, "rss_after_data_mb": base_rss})


def run_worker(task, n):
    return run_fresh(__file__, ["--worker", task, "--n", n])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,1000,4000")
    parser.add_argument("--predict", type=int, default=10_000)
    parser.add_argument("--output", default="benchmarks/results/scale.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.n)
        return

    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        print(f"[scale] fit one epoch on {n} images...", flush=True)
        rows.append(run_worker("fit", n))
    print(f"[scale] predict on {args.predict} images...", flush=True)
    rows.append(run_worker("predict", args.predict))

    print(f"\n{'task':>8s} {'images':>8s} {'seconds':>9s} {'img/s':>7s} {'data MB':>8s} "
          f"{'peak RSS MB':>12s}")
    for r in rows:
        print(f"{r['task']:>8s} {r['n_images']:>8d} {r['seconds']:>9.1f} "
              f"{r['images_per_s']:>7.1f} {r['data_mb']:>8.0f} {r['peak_rss_mb']:>12.0f}")
    fits = [r for r in rows if r["task"] == "fit"]
    growth = None
    if len(fits) >= 2:
        small, large = fits[-2], fits[-1]
        growth = (large["seconds"] / small["seconds"]) / (large["n_images"] / small["n_images"])
        print(f"\nfit time {small['n_images']} -> {large['n_images']} images: "
              f"x{large['seconds'] / small['seconds']:.2f} for x"
              f"{large['n_images'] / small['n_images']:.0f} the images "
              f"(1.00 = linear; measured {growth:.2f})")
    write_json(args.output, {"rows": rows, "fit_growth_vs_linear": growth})


if __name__ == "__main__":
    main()
