"""How fit time and memory grow with the number of images.

Two modes:

* the default: fits the default ``WideCNNClassifier`` (one epoch, so the cost
  per image is what is compared) on 250, 1,000 and 4,000 synthetic 150x150
  images held in memory, and runs ``predict`` on 10,000, each in a fresh
  process so its peak resident memory is its own. Images go through
  ``ImageResizer(150, dtype="uint8")``: 3 x 150 x 150 bytes per image,
  converted to float a batch at a time inside the estimator.
* ``--n-images 10000,30000,100000``: the larger-than-memory path. For each
  size, in a fresh process, the images are written to a uint8 ``.npy`` file on
  disk a chunk at a time and memory-mapped back (read-only), which is
  what ``ImageResizer(cache_dir=..., dtype="uint8")`` returns; then one epoch
  of ``fit`` and a ``predict_proba`` over all of them read it batch by batch.
  The classifiers read each row of a read-only memory map from its file
  (``pread``), so pages of the file do not stay resident in the process.
  Reported: seconds per image of each, peak resident memory and the peak
  anonymous memory (the process's own allocations), sampled every 0.2 s.

``--tune-malloc`` runs every process with ``SKBRAIN_TUNE_MALLOC=1``, the
glibc thresholds skbrain raised by default before issue 28 (now opt-in, see
``skbrain/_malloc.py``): the memory behaviour of the results recorded before.

Usage::

    python benchmarks/bench_scale.py                 # ~3 min on 2 cores
    python benchmarks/bench_scale.py --sizes 250,1000 --predict 2000
    python benchmarks/bench_scale.py --n-images 10000,30000
"""

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, peak_rss_mb, run_fresh, write_json  # noqa: E402

SIZE = 150
WORKER_ENV = {}


def images(n):
    """``n`` uint8 images of shape (3, 150, 150): 1,000 distinct ones, tiled."""
    from skbrain import ImageResizer, make_synthetic_mri

    data = make_synthetic_mri(min(n, 1000), image_size=SIZE, random_state=0)
    X = ImageResizer(SIZE, dtype="uint8").fit_transform(data.data)
    reps = -(-n // len(X))
    return np.tile(X, (reps, 1, 1, 1))[:n], np.tile(data.target, reps)[:n]


def images_on_disk(n, folder):
    """``n`` images as a memory-mapped uint8 ``.npy`` file, written 1,000 at a time."""
    base, y = images(1000)
    path = Path(folder) / "images.npy"
    # The header (and a sparse file) only: written through a mapping, every page would
    # stay resident in this process and count in its peak memory.
    header = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8,
                                       shape=(n, *base.shape[1:]))
    offset = header.offset
    del header
    with open(path, "r+b") as fp:
        fp.seek(offset)
        for start in range(0, n, len(base)):
            fp.write(base[: min(n, start + len(base)) - start].tobytes())
    return np.load(path, mmap_mode="r"), np.resize(y, n)


class MemorySampler(threading.Thread):
    """Peak RssAnon and RssFile of this process (``/proc/self/status``), in MiB."""

    def __init__(self, every=0.2):
        super().__init__(daemon=True)
        self.every, self.peak, self._stop_event = every, {"RssAnon": 0.0, "RssFile": 0.0}, \
            threading.Event()

    def read(self):
        try:
            lines = Path("/proc/self/status").read_text().splitlines()
        except OSError:
            return
        for line in lines:
            key, _, value = line.partition(":")
            if key in self.peak:
                self.peak[key] = max(self.peak[key], int(value.split()[0]) / 1024)

    def run(self):
        while not self._stop_event.wait(self.every):
            self.read()

    def stop(self):
        self._stop_event.set()
        self.join()
        self.read()
        return self.peak


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


def stream_worker(n):
    """Fit one epoch and predict on ``n`` memory-mapped images; emit times and memory."""
    from skbrain import WideCNNClassifier

    folder = tempfile.mkdtemp(prefix="skbrain-scale-")
    try:
        sampler = MemorySampler()
        sampler.start()
        X, y = images_on_disk(n, folder)
        clf = WideCNNClassifier(max_epochs=1, random_state=0)
        start = time.perf_counter()
        clf.fit(X, y)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        clf.predict_proba(X)
        predict_s = time.perf_counter() - start
        peak = sampler.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    emit({"task": "stream", "n_images": n, "fit_s": fit_s, "predict_s": predict_s,
          "fit_ms_per_image": 1000 * fit_s / n, "predict_ms_per_image": 1000 * predict_s / n,
          "data_mb": X.nbytes / 2**20, "peak_anon_mb": peak["RssAnon"],
          "peak_file_mb": peak["RssFile"]})


def run_worker(task, n):
    return run_fresh(__file__, ["--worker", task, "--n", n], WORKER_ENV)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,1000,4000")
    parser.add_argument("--predict", type=int, default=10_000)
    parser.add_argument("--n-images", default=None,
                        help="comma-separated sizes for the memory-mapped fit + predict "
                             "(e.g. 10000,30000); replaces the in-memory runs")
    parser.add_argument("--output", default=None,
                        help="default: benchmarks/results/scale.json (scale_stream.json with "
                             "--n-images)")
    parser.add_argument("--tune-malloc", action="store_true",
                        help="run with SKBRAIN_TUNE_MALLOC=1 (glibc keeps the peak heap)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    WORKER_ENV["SKBRAIN_TUNE_MALLOC"] = "1" if args.tune_malloc else "0"
    if args.worker == "stream":
        stream_worker(args.n)
        return
    if args.worker:
        worker(args.worker, args.n)
        return
    if args.n_images:
        stream(args)
        return
    output = args.output or "benchmarks/results/scale.json"

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
    write_json(output, {"rows": rows, "fit_growth_vs_linear": growth,
                        "tune_malloc": args.tune_malloc})


def stream(args):
    rows = []
    for n in [int(s) for s in args.n_images.split(",")]:
        print(f"[scale] memory-mapped: fit one epoch and predict on {n} images...", flush=True)
        rows.append(run_worker("stream", n))
    print(f"\n{'images':>8s} {'fit s':>8s} {'fit ms/img':>10s} {'predict s':>9s} "
          f"{'pred ms/img':>11s} {'data MB':>8s} {'peak RSS MB':>11s} {'peak anon MB':>12s}")
    for r in rows:
        print(f"{r['n_images']:>8d} {r['fit_s']:>8.1f} {r['fit_ms_per_image']:>10.2f} "
              f"{r['predict_s']:>9.1f} {r['predict_ms_per_image']:>11.2f} {r['data_mb']:>8.0f} "
              f"{r['peak_rss_mb']:>11.0f} {r['peak_anon_mb']:>12.0f}")
    ratios = {}
    if len(rows) >= 2:
        small = rows[0]
        for r in rows[1:]:
            ratios[str(r["n_images"])] = {
                "fit_time_per_image_vs_smallest": r["fit_ms_per_image"]
                / small["fit_ms_per_image"],
                "predict_time_per_image_vs_smallest": r["predict_ms_per_image"]
                / small["predict_ms_per_image"],
            }
            ratio = ratios[str(r["n_images"])]
            print(f"{r['n_images']} vs {small['n_images']} images, time per image: fit "
                  f"x{ratio['fit_time_per_image_vs_smallest']:.2f}, predict "
                  f"x{ratio['predict_time_per_image_vs_smallest']:.2f} (target <= 1.2)")
    write_json(args.output or "benchmarks/results/scale_stream.json",
               {"rows": rows, "per_image_ratios": ratios, "tune_malloc": args.tune_malloc})


if __name__ == "__main__":
    main()
