"""What the benchmark scripts share: where the images are and how results are written."""

import ast
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir():
    """The real images: ``SKBRAIN_DATA``, else ``../shared/data/brain_mri`` beside the repo."""
    path = Path(os.environ.get("SKBRAIN_DATA") or REPO_ROOT.parent / "shared/data/brain_mri")
    if not (path / "yes").is_dir():
        raise SystemExit(f"real images not found in {path}; set SKBRAIN_DATA")
    return path


def env_data_dir(var, default, probe):
    """A collection's folder: ``$var``, else ``../shared/data/<default>`` beside the repo."""
    path = Path(os.environ.get(var) or REPO_ROOT.parent / "shared/data" / default)
    if not (path / probe).exists():
        raise SystemExit(f"{default} not found in {path}; set {var}")
    return path


def machine():
    """A one-line description of the machine, for the result files."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} cores, {gpu}, torch {torch.__version__}"


def load_real_images(image_size, **resize):
    """The real images as uint8 ``(n, 3, size, size)``, with the loader's Bunch.

    ``resize`` are ``ImageResizer`` options (its defaults where not given).
    """
    from skbrain import ImageResizer, load_brain_mri

    data = load_brain_mri(data_dir())
    return ImageResizer(image_size, dtype="uint8", **resize).transform(data.data), data


def grouped_split(y, groups, seed):
    """Train and test indices of duplicate-aware 75/25 split ``seed``, as every script cuts it."""
    from skbrain.evaluation import train_test_split_grouped

    train, test = train_test_split_grouped(np.arange(len(y)), y, groups, test_size=0.25,
                                           random_state=seed)[:2]
    return train, test


def parse_set(pairs):
    """``["lr=0.01", "optimizer=sgd"]`` -> ``{"lr": 0.01, "optimizer": "sgd"}``."""
    params = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return params


def pop_resize(params):
    """Take the ``resize.*`` keys out of ``params``: ``ImageResizer`` options, by name.

    ``{"lr": 0.01, "resize.standardize": None}`` leaves ``{"lr": 0.01}`` and
    returns ``{"standardize": None}``.
    """
    return {k.removeprefix("resize."): params.pop(k) for k in list(params)
            if k.startswith("resize.")}


def scratch_name(path):
    """``path`` as a result file records it: an absolute one outside the repository as
    ``SCRATCH/<name>``, any other as given.

    A scratch file or folder (a saved model) is named by its file name alone: a
    machine-specific path would only mislead whoever reruns the command.
    """
    path = str(path)
    if os.path.isabs(path) and not Path(path).resolve().is_relative_to(REPO_ROOT):
        return f"SCRATCH/{Path(path).name}"
    return path


def recorded_command(argv):
    """The command line that made a result file, for rerunning it from the repository root.

    An ``--output`` outside the repository (a GPU machine's output folder, a scratch
    folder) is left out: the file is copied into ``benchmarks/results/`` afterwards, and a
    machine-specific path would only mislead whoever reruns the command. Other absolute
    paths outside the repository (saved models), alone or as the value of ``KEY=PATH``,
    become ``SCRATCH/<name>`` (:func:`scratch_name`).
    """
    args = [os.path.relpath(argv[0], REPO_ROOT) if os.path.isabs(argv[0]) else argv[0]]
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name == "--output":
            value = value if eq else (rest.pop(0) if rest else "")
            output = Path(value).resolve()
            if output.is_relative_to(REPO_ROOT):
                args.append(f"--output {output.relative_to(REPO_ROOT)}")
            continue
        if os.path.isabs(arg):
            arg = scratch_name(arg)
        elif eq:  # e.g. --model-file LABEL=/scratch/model.skbrain
            arg = f"{name}={scratch_name(value)}"
        args.append(arg)
    return "python " + " ".join(args)


def write_json(path, payload):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
               "command": recorded_command(sys.argv), **payload}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {path}")


def peak_rss_mb():
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(result):
    """Print a worker's result, with its peak memory, for :func:`run_fresh` to read."""
    print("RESULT " + json.dumps({**result, "peak_rss_mb": peak_rss_mb()}), flush=True)


def run_fresh(script, args, env=None):
    """Run ``script --worker ...`` in a fresh interpreter and return what it emitted.

    A fresh process per measurement gives each its own peak memory and its own
    allocator settings.
    """
    cmd = [sys.executable, str(script), *map(str, args)]
    out = subprocess.run(cmd, env={**os.environ, **(env or {})}, check=True,
                         capture_output=True, text=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])
