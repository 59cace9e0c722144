"""Training images/s: skbrain's fit against a raw PyTorch loop over the same module.

For each default model (the hand-made nets and EfficientNet-Lite0 from timm,
untrained) on generated uint8 images (``--channels`` x 150 x 150), at batch 16
and at the batch ``batch_size="auto"`` picks on the device, in float32 and in
mixed precision (bfloat16 autocast; float16 with a gradient scaler too, unless
``--no-fp16``):

* **skbrain**: ``fit`` of the estimator at its defaults but for ``batch_size``
  and ``amp`` (so augmentation on, AdamW, one-cycle schedule, channels-last
  where skbrain's device table says), two epochs of ``--steps`` batches; the
  second epoch is timed (``torch.cuda.synchronize`` at both ends), the first
  is the warm-up.
* **raw**: a hand-written loop over the same ``nn.Module`` (``est.module_``, the
  network skbrain built, in its memory order) doing the same work per step:
  the uint8 images held on the device, a random permutation, ``float()/255``,
  skbrain's ``augment_batch``, autocast forward, cross-entropy, backward,
  AdamW and one-cycle steps, and no read of the loss inside the epoch. One
  warm-up epoch, one timed epoch of ``--steps`` batches.

Each row gives images/s of both, their ratio and the peak CUDA memory of each.
``--device cpu`` measures the CPU target instead: the wide net, batch 16,
float32, ``--threads`` (2) threads, skbrain against the same loop with the
images in host memory, best of ``--repeats`` alternating runs; and once more
timed by this process's CPU time (``time.process_time``), which other jobs on
a shared machine do not inflate. A GPU run adds
that CPU row at the end unless ``--no-cpu``.

Usage::

    PYTHONPATH=. python3 benchmarks/bench_gpu.py --output runs/gpu   # ~2-3 min on one H200
    python benchmarks/bench_gpu.py --device cpu --output runs/cpu    # the CPU row, ~1 min
    python benchmarks/bench_gpu.py --device cpu --quick              # a dry run of every path

It needs no data set and no download, and imports no optional extra.
"""

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

# Runs from a checkout without installing skbrain (PYTHONPATH=. or not).
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from _common import machine  # noqa: E402

# Lite0 first: its figures are the headline, and a spent --budget skips the last ones.
MODELS = ("timm:efficientnet_lite0", "compact", "wide", "simple", "two-conv", "deep", "pyramid")
PRECISIONS = {"fp32": False, "bf16": "bfloat16", "fp16": "float16"}
# What the measurements read: wall time, or (for the CPU row's second figure) this process's
# CPU time, which other jobs on a shared machine do not inflate.
CLOCK = [time.perf_counter]
COLUMNS = ("device", "model", "batch", "precision", "channels_last", "skbrain_img_s",
           "raw_img_s", "ratio", "skbrain_peak_mb", "raw_peak_mb", "cpu_time_ratio", "note")


def sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


def reset_peak(device):
    if str(device).startswith("cuda"):
        sync(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_mb(device):
    if str(device).startswith("cuda"):
        return torch.cuda.max_memory_allocated(device) / 2**20
    return float("nan")


def estimator(model, device, batch, precision, channels_last=None, compile_mode=None):
    from skbrain.registry import get_estimator

    params = {"device": device, "batch_size": batch, "amp": PRECISIONS[precision],
              "random_state": 0, "max_epochs": 2}
    if compile_mode is not None:
        params["compile"] = True
        if compile_mode != "default":
            params["compile__mode"] = compile_mode
    if channels_last is not None:
        params["module__channels_last"] = channels_last
    if model.startswith("timm:"):
        params["pretrained"] = False
    return get_estimator(model, **params)


def images(n, channels, size, seed=0):
    """``n`` uint8 images: a pool of 2,048 random ones, repeated."""
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 256, (min(n, 2048), channels, size, size), dtype=np.uint8)
    X = np.ascontiguousarray(pool[np.resize(np.arange(len(pool)), n)])
    return X, (np.arange(n) % 2).astype(np.int64)


def time_skbrain(est, X, y, device):
    """Seconds of the second epoch of ``est.fit`` (the first is the warm-up)."""
    from skorch.callbacks import Callback

    class EpochClock(Callback):
        def initialize(self):
            self.seconds = []
            return self

        def on_epoch_begin(self, net, **kwargs):
            sync(device)
            self.start = CLOCK[0]()

        def on_epoch_end(self, net, **kwargs):
            sync(device)
            self.seconds.append(CLOCK[0]() - self.start)

    clock = EpochClock()
    est.set_params(callbacks=[("clock", clock)])
    reset_peak(device)
    est.fit(X, y)
    sync(device)
    return clock.seconds[-1], peak_mb(device)


def time_raw(module, X, y, device, batch, precision, augment, steps, compile_mode=None):
    """Seconds of one epoch of ``steps`` batches of a hand-written loop, after a warm-up epoch."""
    from skbrain.augmentation import augment_batch

    cuda = str(device).startswith("cuda")
    module = module.to(device).train()
    parameters = list(module.parameters())
    if compile_mode is not None:
        # The warm-up epoch compiles it, as skbrain's first epoch does.
        module = torch.compile(module, mode=None if compile_mode == "default" else compile_mode)
    optimizer = torch.optim.AdamW(parameters, lr=1e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3,
                                                   total_steps=2 * steps + 1)
    loss_fn = nn.CrossEntropyLoss()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler("cuda") if cuda and dtype == torch.float16 else None
    reset_peak(device)
    # On the GPU the images live there (uint8), the fastest a hand-written loop gets.
    X_all = torch.from_numpy(X).to(device) if cuda else torch.from_numpy(X)
    y_all = torch.from_numpy(y).to(device) if cuda else torch.from_numpy(y)

    def epoch():
        order = torch.randperm(len(X_all), device=X_all.device)
        for step in range(steps):
            index = order[step * batch:(step + 1) * batch]
            x = X_all[index].to(device, non_blocking=True).float().div_(255.0)
            target = y_all[index].to(device, non_blocking=True)
            if augment:
                x = augment_batch(x)
            with (torch.autocast("cuda", dtype=dtype) if cuda and dtype is not None
                  else torch.autocast("cpu", enabled=False)):
                loss = loss_fn(module(x).float(), target)
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            schedule.step()
        return loss

    epoch()
    sync(device)
    start = CLOCK[0]()
    float(epoch().detach())
    sync(device)
    return CLOCK[0]() - start, peak_mb(device)


def measure(model, device, batch, precision, channels, size, steps, augment=True,
            channels_last=None, compile_mode=None):
    """One row: skbrain's fit and the raw loop at one batch size, precision, layout and
    compilation (``compile_mode``: None, or a :func:`torch.compile` mode; "reduce-overhead"
    records CUDA graphs)."""
    from skbrain._device import auto_batch_size

    size_used = auto_batch_size(device, (channels, size, size)) if batch == "auto" else batch
    n = steps * size_used
    X, y = images(n, channels, size)
    est = estimator(model, device, batch, precision, channels_last, compile_mode)
    seconds, skbrain_peak = time_skbrain(est, X, y, device)
    assert est.batch_size_ == size_used, (est.batch_size_, size_used)
    module = est.module_
    n_batches = math.ceil(n / size_used)
    raw_seconds, raw_peak = time_raw(module, X, y, device, size_used, precision, augment,
                                     n_batches, compile_mode)
    skbrain_rate, raw_rate = n / seconds, n / raw_seconds
    channels_last = bool(est.channels_last_)
    del est, module
    if str(device).startswith("cuda"):
        torch.cuda.empty_cache()
    return {"device": str(device), "model": model, "batch": size_used,
            "precision": precision, "channels_last": channels_last,
            "skbrain_img_s": skbrain_rate, "raw_img_s": raw_rate,
            "ratio": skbrain_rate / raw_rate, "skbrain_peak_mb": skbrain_peak,
            "raw_peak_mb": raw_peak, "cpu_time_ratio": float("nan"),
            "note": "" if compile_mode is None else f"compiled ({compile_mode})"}


def _table_channels_last(device):
    from skbrain._device import DEVICE_DEFAULTS

    return DEVICE_DEFAULTS[torch.device(device).type]["channels_last"]


def _table_precision(device):
    """The precision skbrain's device table picks (``amp=None``: its default)."""
    from skbrain._device import DEVICE_DEFAULTS

    amp = DEVICE_DEFAULTS[torch.device(device).type].get("amp")
    return {None: "fp32", False: "fp32", True: "bf16"}.get(amp, "fp32")


def cpu_rows(args, compile_mode=None):
    """The CPU target: wide, batch 16, float32, ``--threads`` threads, best of ``--repeats``."""
    previous = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        steps = 2 if args.quick else args.cpu_steps
        size = 32 if args.quick else args.size
        best = None
        for _ in range(1 if args.quick else args.repeats):
            row = measure("wide", "cpu", 16, "fp32", args.channels, size, steps,
                          compile_mode=compile_mode)
            if best is None:
                best = row
            else:
                best["skbrain_img_s"] = max(best["skbrain_img_s"], row["skbrain_img_s"])
                best["raw_img_s"] = max(best["raw_img_s"], row["raw_img_s"])
            print(f"  cpu run: skbrain {row['skbrain_img_s']:.1f} img/s, raw "
                  f"{row['raw_img_s']:.1f} img/s ({row['ratio']:.3f}x)", flush=True)
        best["ratio"] = best["skbrain_img_s"] / best["raw_img_s"]
        CLOCK[0] = time.process_time
        try:
            by_cpu = measure("wide", "cpu", 16, "fp32", args.channels, size, steps,
                             compile_mode=compile_mode)
        finally:
            CLOCK[0] = time.perf_counter
        best["cpu_time_ratio"] = by_cpu["ratio"]
        print(f"  by CPU time: {by_cpu['ratio']:.3f}x", flush=True)
        best["note"] = (f"{args.threads} threads, best of {1 if args.quick else args.repeats}, "
                        f"{size} px; by CPU time {by_cpu['ratio']:.3f}x"
                        + ("" if compile_mode is None else f"; compiled ({compile_mode})"))
        return [best]
    finally:
        torch.set_num_threads(previous)


def markdown(rows):
    head = ("| device | model | batch | precision | layout | skbrain img/s | raw img/s | ratio "
            "| skbrain peak MiB | raw peak MiB | note |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r['device']} | {r['model']} | {r['batch']} | {r['precision']} | "
            f"{'NHWC' if r['channels_last'] else 'NCHW'} | "
            f"{r['skbrain_img_s']:,.0f} | {r['raw_img_s']:,.0f} | {r['ratio']:.2f} | "
            f"{r['skbrain_peak_mb']:,.0f} | {r['raw_peak_mb']:,.0f} | {r['note']} |")
    return "\n".join(lines) + "\n"


def write(rows, meta, output):
    output.mkdir(parents=True, exist_ok=True)
    with open(output / "bench_gpu.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (output / "bench_gpu.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
    (output / "bench_gpu.md").write_text(f"{meta['machine']}\n\n" + markdown(rows))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models", default=None, help="comma-separated (default: the seven "
                        "default models on CUDA; none besides the CPU row with --device cpu)")
    parser.add_argument("--steps", type=int, default=30, help="timed batches per measurement")
    parser.add_argument("--size", type=int, default=150)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--batches", default="16,auto")
    parser.add_argument("--no-fp16", action="store_true")
    parser.add_argument("--other-layout", action="store_true",
                        help="after every row at the table's memory order, rows at each "
                        "batch of --batches in fp32 and bf16 with the other order")
    parser.add_argument("--compile", default="",
                        help='comma-separated torch.compile modes ("default", '
                        '"reduce-overhead": CUDA graphs, "max-autotune"): after the other rows, '
                        "each model at the automatic batch and its default precision, compiled "
                        "(skbrain compile=True, compile__mode; the raw loop compiles the same "
                        "module the same way); on the CPU, the CPU row's setting compiled")
    parser.add_argument("--compile-models", default="timm:efficientnet_lite0,compact",
                        help="the models of the --compile rows (compiling takes a minute each)")
    parser.add_argument("--no-cpu", action="store_true", help="no CPU row")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu-steps", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=200.0,
                        help="seconds; GPU measurements left when it is spent are skipped")
    parser.add_argument("--quick", action="store_true", help="tiny images and steps: a dry run")
    parser.add_argument("--output", default=None, help="folder for CSV, JSON and Markdown")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here; use --device cpu")
    print(machine(), flush=True)
    rows = []
    compile_modes = [m for m in args.compile.split(",") if m]
    models = args.models.split(",") if args.models else MODELS if cuda else ()
    if models:
        size = 32 if args.quick else args.size
        steps = 3 if args.quick else args.steps
        precisions = [p for p in PRECISIONS if not (p == "fp16" and args.no_fp16)]
        batches = [b if b == "auto" else int(b) for b in args.batches.split(",")]
        plan = [(m, b, p, None) for m in models for b in batches for p in precisions]
        if args.other_layout:
            other = not _table_channels_last(args.device)
            plan += [(m, b, p, other) for m in models for b in batches for p in ("fp32", "bf16")]
        plan = [(m, b, p, layout, None) for m, b, p, layout in plan]
        default_precision = _table_precision(args.device)
        plan += [(m, "auto", default_precision, None, mode) for mode in compile_modes
                 for m in args.compile_models.split(",") if m in models]
        for model, batch, precision, layout, mode in plan:
            what = f"{model} batch {batch} {precision}" + (
                "" if layout is None else f" channels_last={layout}") + (
                "" if mode is None else f" compiled ({mode})")
            if time.perf_counter() - started > args.budget:
                print(f"{what}: skipped (budget)", flush=True)
                continue
            try:
                row = measure(model, args.device, batch, precision, args.channels, size, steps,
                              channels_last=layout, compile_mode=mode)
            except Exception as exc:  # one failing model must not lose the others
                print(f"{what}: FAILED {exc!r}", flush=True)
                continue
            rows.append(row)
            print(f"{model:>24} batch {row['batch']:>4} {precision} "
                  f"{'NHWC' if row['channels_last'] else 'NCHW'}: skbrain "
                  f"{row['skbrain_img_s']:8,.0f} img/s, raw {row['raw_img_s']:8,.0f} "
                  f"img/s ({row['ratio']:.2f}x), peak {row['skbrain_peak_mb']:,.0f} / "
                  f"{row['raw_peak_mb']:,.0f} MiB {row['note']}", flush=True)
    if not args.no_cpu:
        rows += cpu_rows(args)
        r = rows[-1]
        print(f"CPU wide batch 16 fp32: skbrain {r['skbrain_img_s']:.1f} img/s, raw "
              f"{r['raw_img_s']:.1f} img/s: {r['ratio']:.3f}x (target >= 0.95)", flush=True)
        plain = r["skbrain_img_s"]
        # CUDA graphs are CUDA's: the CPU row has no "reduce-overhead".
        for mode in [m for m in compile_modes if m != "reduce-overhead"]:
            rows += cpu_rows(args, compile_mode=mode)
            r = rows[-1]
            print(f"CPU wide batch 16 fp32 compiled ({mode}): skbrain "
                  f"{r['skbrain_img_s']:.1f} img/s, raw {r['raw_img_s']:.1f} img/s: "
                  f"{r['ratio']:.3f}x; {r['skbrain_img_s'] / plain:.2f}x uncompiled skbrain",
                  flush=True)
    print()
    print(markdown(rows))
    meta = {"machine": machine(), "command": " ".join(sys.argv),
            "torch": torch.__version__, "seconds": time.perf_counter() - started,
            "steps": args.steps, "size": args.size, "channels": args.channels}
    if args.output:
        write(rows, meta, Path(args.output))
        print(f"wrote {args.output}/bench_gpu.csv, .json and .md")
    print(f"{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
