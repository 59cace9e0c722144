"""``skbrain predict`` on a folder of many images: peak memory, progress, rows as they come.

Issue 21's target: ``skbrain predict`` on a folder of 10,000 images holds at most
2 GB (peak resident memory), shows a progress bar, and writes its results as they
come rather than at the end.

The script writes ``--n-images`` generated JPEG files (256 x 256 grey "heads" with
noise, so every image is decoded and resized as a real one is) into a temporary
folder, trains a default model with ``skbrain train`` on a small generated folder
(one epoch: the speed and memory of prediction do not depend on the weights),
then runs the real command

    skbrain predict MODEL FOLDER --output rows.csv

in a fresh process whose stderr is a terminal (a pseudo-terminal), since the
command shows its progress bar only there. While it runs, the script counts the
rows already in ``rows.csv`` every 0.2 s. Reported: the command's wall time and
images/s, its peak resident memory (``ru_maxrss`` of that process), when its first
row reached the file against when it ended, and whether a tqdm bar was drawn.

Usage::

    python benchmarks/bench_predict_folder.py                  # 10,000 images, ~5 min
    python benchmarks/bench_predict_folder.py --n-images 500 --model simple
"""

import argparse
import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_json  # noqa: E402

# The command run through the library's entry point, reporting its own peak memory:
# the console script ``skbrain`` calls exactly this ``main``.
RUNNER = (
    "import resource, sys\n"
    "from skbrain.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def head(rng, side=256, tumor=False):
    """A grey ellipse with noise on black, and a bright blob when ``tumor``."""
    yy, xx = np.mgrid[:side, :side] / side - 0.5
    a, b = rng.uniform(0.3, 0.42, 2)
    image = ((xx / a) ** 2 + (yy / b) ** 2 < 1) * rng.uniform(90, 160)
    if tumor:
        cy, cx = rng.uniform(-0.15, 0.15, 2)
        image = image + 80 * ((xx - cx) ** 2 + (yy - cy) ** 2 < rng.uniform(0.003, 0.01))
    image = image + rng.normal(0, 12, image.shape)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def write_images(folder, n, seed, classes=None):
    rng = np.random.RandomState(seed)
    folder.mkdir(parents=True)
    for i in range(n):
        if classes:
            label = classes[i % len(classes)]
            (folder / label).mkdir(exist_ok=True)
            head(rng, tumor=label == "yes").save(folder / label / f"{i:06d}.jpg", quality=90)
        else:
            head(rng, tumor=bool(i % 2)).save(folder / f"{i:06d}.jpg", quality=90)


def count_rows(path):
    try:
        with open(path, "rb") as fp:
            return max(sum(1 for _ in fp) - 1, 0)  # less the header
    except FileNotFoundError:
        return 0


def predict_on_a_terminal(model, folder, rows_csv):
    """Run ``skbrain predict`` with a pseudo-terminal for stderr; return what was seen."""
    master, slave = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    cmd = [sys.executable, "-c", RUNNER, "predict", str(model), str(folder),
           "--output", str(rows_csv)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []

    def drain():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other end closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    first_row_s, samples = None, []
    while proc.poll() is None:
        rows = count_rows(rows_csv)
        now = time.perf_counter() - start
        samples.append((round(now, 1), rows))
        if rows and first_row_s is None:
            first_row_s = now
        time.sleep(0.2)
    total_s = time.perf_counter() - start
    reader.join(timeout=5)
    os.close(master)
    stderr = b"".join(chunks).decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"skbrain predict failed ({proc.returncode}):\n{stderr[-2000:]}")
    peak_kb = int(next(line.split()[1] for line in stderr.splitlines()
                       if line.startswith("PEAK_RSS_KB")))
    return {"seconds": total_s, "first_row_s": first_row_s, "peak_rss_mb": peak_kb / 1024,
            "progress_bar": "img/s" in stderr or "img]" in stderr,
            "rows_written": count_rows(rows_csv),
            "rows_over_time": samples[::max(1, len(samples) // 20)]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=10_000)
    parser.add_argument("--model", default="wide", help="the catalogue name to train")
    parser.add_argument("--output", default=None, help="write the result as JSON here")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="skbrain-predict-folder-"))
    try:
        started = time.perf_counter()
        write_images(scratch / "train", 64, seed=1, classes=["no", "yes"])
        write_images(scratch / "folder", args.n_images, seed=2)
        print(f"wrote {args.n_images} images in {time.perf_counter() - started:.0f} s", flush=True)
        model = scratch / "model.skbrain"
        subprocess.run([sys.executable, "-m", "skbrain", "train", "--model", args.model,
                        "--data", str(scratch / "train"), "--set", "max_epochs=1",
                        "--quiet", "--output", str(model)], check=True)
        result = predict_on_a_terminal(model, scratch / "folder", scratch / "rows.csv")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    result.update(n_images=args.n_images, model=args.model,
                  images_per_s=args.n_images / result["seconds"])
    print(f"skbrain predict on {args.n_images} images ({args.model}): "
          f"{result['seconds']:.1f} s, {result['images_per_s']:.0f} img/s, "
          f"peak RSS {result['peak_rss_mb']:.0f} MiB (target <= 2 GB: "
          f"{'met' if result['peak_rss_mb'] <= 2048 else 'missed'}); first row after "
          f"{result['first_row_s']:.1f} s; progress bar drawn: {result['progress_bar']}; "
          f"{result['rows_written']} rows")
    if args.output:
        write_json(args.output, result)
    return result


if __name__ == "__main__":
    main()
