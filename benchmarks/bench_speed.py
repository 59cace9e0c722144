"""How close skbrain runs to the hardware, on the real images.

In one run, for the default ``WideCNNClassifier`` and an (untrained) ResNet-18:

* fit throughput of the skbrain estimator vs a hand-written PyTorch loop over
  the same module, batch size, optimizer and learning-rate schedule (ratio);
* achieved training GFLOP/s (FLOPs counted by ``torch.utils.flop_counter``)
  vs the machine's fp32 matrix-multiply GFLOP/s, measured before and after
  the fits in the same run (ratio);
* the gain of skbrain's two CPU speed-ups, each switched off in turn:
  ``channels_last`` (in the hand-written loop) and the glibc ``mallopt``
  tuning (opt-in since issue 28: the skbrain fits run with
  ``SKBRAIN_TUNE_MALLOC=1``, and a fresh process at the default, untuned, is
  compared);
* ``predict_proba`` images/s and the peak resident memory of each model's
  process;
* ``ImageResizer`` on the 253 real images vs torchvision
  ``ImageFolder`` + ``Resize`` + ``ToTensor`` (ratio), as a plain resize like
  torchvision's, and at its defaults (head crop and standardisation).

Timed fits are like with like: no augmentation, no test-time augmentation,
no early stopping; one warm-up epoch is not timed.

Usage::

    python benchmarks/bench_speed.py                    # ~8 min on 2 cores
    python benchmarks/bench_speed.py --epochs 2 --models wide
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, emit, load_real_images, run_fresh, write_json  # noqa: E402

N_TRAIN = 190  # the training part of a 75/25 split of the 253 images
SIZE = 150
MODELS = {
    "wide": ("wide", {}),
    "resnet18": ("resnet18", {"pretrained": False}),
}


def matmul_gflops(n=2048, repeats=10, trials=5):
    """fp32 matrix-multiply speed, the machine's practical peak (best of ``trials``)."""
    a, b = torch.rand(n, n), torch.rand(n, n)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(trials):
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = max(best, repeats * 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def training_flops(module, x, y):
    """FLOPs of one forward + backward pass over the batch ``x``."""
    from torch.utils.flop_counter import FlopCounterMode

    module.train()
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(module(x), y).backward()
    module.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def hand_loop(module, X, y, *, epochs, batch_size, lr, weight_decay, channels_last):
    """The plain PyTorch loop a user would write: float tensors, shuffle, AdamW, one-cycle."""
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    module = module.to(memory_format=fmt)
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    steps = epochs * ((len(X) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps + 1)
    Xt = torch.from_numpy(X).float().div_(255)
    yt = torch.from_numpy(y).long()
    module.train()
    timings = []
    for _ in range(epochs):
        start = time.perf_counter()
        for idx in torch.randperm(len(Xt)).split(batch_size):
            xb = Xt[idx]
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(module(xb), yt[idx])
            loss.backward()
            optimizer.step()
            schedule.step()
        timings.append(time.perf_counter() - start)
    return timings


def worker(model, epochs, rounds):
    """Measure one model in this process; print a JSON line."""
    from skbrain import get_estimator
    from skbrain.registry import build_module

    torch.set_num_threads(os.cpu_count() or 1)
    X, data = load_real_images(SIZE)
    y = data.target
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    train = order[:N_TRAIN]
    name, extra = MODELS[model]
    params = dict(augment=False, tta=0, early_stopping=False, random_state=0, **extra)
    estimator = get_estimator(name, max_epochs=epochs + 1, **params)

    def skbrain_fit():
        # Epoch times from skorch's history, without the warm-up epoch.
        estimator.fit(X[train], y[train])
        return N_TRAIN * epochs / sum(estimator.net_.history[:, "dur"][1:])

    def hand_fit(channels_last):
        # A fresh copy of the same module; the loop sets the memory format itself.
        torch.manual_seed(0)
        module = build_module(estimator, in_channels=X.shape[1], device="cpu")
        if hasattr(module, "channels_last"):
            module.channels_last = False
        timings = hand_loop(module, X[train], y[train], epochs=epochs + 1,
                            batch_size=estimator.batch_size, lr=estimator.lr,
                            weight_decay=estimator.weight_decay, channels_last=channels_last)
        return N_TRAIN * epochs / sum(timings[1:]), module

    # Interleaved rounds, best of each, so neither side gains from running
    # second on a warmer allocator or a quieter machine.
    skbrain_ips, hand_ips = [], []
    for _ in range(rounds):
        skbrain_ips.append(skbrain_fit())
        hand_ips.append(hand_fit(channels_last=True)[0])
    hand_nchw_ips, module = hand_fit(channels_last=False)
    module.to(memory_format=torch.channels_last)

    start = time.perf_counter()
    estimator.predict_proba(X)
    predict_ips = len(X) / (time.perf_counter() - start)

    xb = torch.from_numpy(X[train[: estimator.batch_size]]).float().div_(255)
    xb = xb.contiguous(memory_format=torch.channels_last)
    flops = training_flops(module, xb, torch.from_numpy(y[train[: len(xb)]]).long())
    result = {"model": model, "epochs": epochs, "rounds": rounds,
              "skbrain_images_per_s": max(skbrain_ips), "hand_images_per_s": max(hand_ips),
              "skbrain_rounds": skbrain_ips, "hand_rounds": hand_ips,
              "hand_nchw_images_per_s": hand_nchw_ips, "predict_images_per_s": predict_ips,
              "train_gflop_per_image": flops / len(xb) / 1e9,
              "batch_size": estimator.batch_size, "lr": estimator.lr}
    emit(result)


def run_worker(model, epochs, rounds, env=None):
    return run_fresh(__file__, ["--worker", model, "--epochs", epochs, "--rounds", rounds], env)


def resize_benchmark(repeats=5):
    """ImageResizer (both decoders) vs the torchvision loop on the 253 real images.

    Every loader runs once per round, in turn, and the best of ``repeats``
    rounds counts, so a busy moment of the shared machine hits all of them alike.
    """
    from torchvision import datasets, transforms

    from skbrain import ImageResizer, load_brain_mri
    from skbrain._imageio import turbo_available

    paths = load_brain_mri(data_dir()).data
    folder = datasets.ImageFolder(
        str(data_dir()),
        transform=transforms.Compose([transforms.Resize((SIZE, SIZE)), transforms.ToTensor()]),
    )
    cores = os.cpu_count() or 1

    def torchvision_loop():
        # One thread, like ImageResizer(n_jobs=None): ToTensor's division would
        # otherwise start torch's intra-op threads, which stall on a busy machine.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            torch.stack([folder[i][0] for i in range(len(folder))])
        finally:
            torch.set_num_threads(threads)

    def torchvision_workers():
        loader = torch.utils.data.DataLoader(folder, batch_size=32, num_workers=cores)
        torch.cat([x for x, _ in loader])

    # Like with like: torchvision's loop only resizes, so ImageResizer does too (no head
    # crop, no standardisation); the defaults' cost is timed beside it.
    plain = {"crop_foreground": False, "standardize": None}
    loaders = {
        # n_jobs=None: one thread, like the plain torchvision loop.
        "skbrain": lambda: ImageResizer(SIZE, **plain).fit_transform(paths),
        "skbrain_all_cores": lambda: ImageResizer(SIZE, n_jobs=-1, **plain).fit_transform(paths),
        "skbrain_pillow": lambda: ImageResizer(SIZE, decoder="pillow",
                                               **plain).fit_transform(paths),
        "skbrain_pillow_all_cores": lambda: ImageResizer(
            SIZE, decoder="pillow", n_jobs=-1, **plain).fit_transform(paths),
        "skbrain_defaults": lambda: ImageResizer(SIZE).fit_transform(paths),
        "skbrain_defaults_all_cores": lambda: ImageResizer(SIZE, n_jobs=-1).fit_transform(paths),
        "torchvision": torchvision_loop,
        "torchvision_workers": torchvision_workers,
        "decode_only": lambda: decode_only(paths),
    }
    if turbo_available():
        loaders["decode_only_turbo"] = lambda: decode_only_turbo(paths, draft_scale=True)
        loaders["decode_only_turbo_m8"] = lambda: decode_only_turbo(paths, draft_scale=False)
    times = {key: [] for key in loaders}
    for _ in range(repeats):
        for key, run in loaders.items():
            start = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - start)
    return {key: min(value) for key, value in times.items()} | {
        "n_images": len(paths), "cores": cores, "turbo": turbo_available(),
        "rounds": times}


def decode_only(paths):
    """Read and decode each file as ImageResizer's Pillow path does (JPEGs at the reduced
    DCT scale, colour JPEGs left in YCbCr), and nothing else: no resizing, no
    mode handling, no copy into an array. A lower bound on ImageResizer's time."""
    for path in paths:
        with open(path, "rb") as fp:
            img = Image.open(io.BytesIO(fp.read()))
        if img.format == "JPEG":
            img.draft("YCbCr" if img.mode == "RGB" else img.mode, (SIZE, SIZE))
        img.load()


def decode_only_turbo(paths, draft_scale):
    """Decode each JPEG with libjpeg-turbo (simplejpeg), other files with Pillow.

    ``draft_scale``: at the power-of-two scale ImageResizer uses; otherwise at
    the smallest M/8 scale that covers the target (the scale the issue proposed).
    """
    import simplejpeg

    for path in paths:
        with open(path, "rb") as fp:
            data = fp.read()
        if not simplejpeg.is_jpeg(data):
            Image.open(io.BytesIO(data)).load()
            continue
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
        space = "GRAY" if colorspace == "Gray" else "RGB"
        if draft_scale:
            scale = max((s for s in (8, 4, 2, 1) if s <= min(height, width) // SIZE), default=1)
            simplejpeg.decode_jpeg(data, space, min_height=-(-height // scale),
                                   min_width=-(-width // scale))
        else:
            simplejpeg.decode_jpeg(data, space, min_height=SIZE, min_width=SIZE)


def report_resize(resize):
    """Print the loader comparison; return the ratios to the torchvision loaders."""
    base = resize["skbrain"]
    print(f"\nDecoding and resizing {resize['n_images']} real images to {SIZE}x{SIZE} "
          f"({resize['cores']} cores; simplejpeg installed: {resize['turbo']}):")
    labels = (("skbrain", "ImageResizer, plain resize, 1 thread"),
              ("skbrain_all_cores", "ImageResizer, plain resize, n_jobs=-1"),
              ("skbrain_pillow", "ImageResizer(decoder='pillow'), plain, 1 thread"),
              ("skbrain_pillow_all_cores", "ImageResizer(decoder='pillow'), plain, n_jobs=-1"),
              ("skbrain_defaults", "ImageResizer defaults (crop, percentile), 1 thread"),
              ("skbrain_defaults_all_cores", "ImageResizer defaults, n_jobs=-1"),
              ("torchvision", "torchvision ImageFolder+Resize+ToTensor loop"),
              ("torchvision_workers", f"the same, {resize['cores']}-worker DataLoader"),
              ("decode_only", "Pillow decoding alone, draft scale, 1 thread"),
              ("decode_only_turbo", "libjpeg-turbo decoding alone, draft scale"),
              ("decode_only_turbo_m8", "libjpeg-turbo decoding alone, M/8 scale"))
    for key, label in labels:
        if key in resize:
            print(f"  {label:48s} {resize[key]:.3f} s  (x{resize[key] / base:.2f})")
    ratios = {
        "one_thread": resize["torchvision"] / resize["skbrain"],
        "all_cores": resize["torchvision"] / resize["skbrain_all_cores"],
        "all_cores_vs_workers": resize["torchvision_workers"] / resize["skbrain_all_cores"],
        "pillow_one_thread": resize["torchvision"] / resize["skbrain_pillow"],
        "pillow_all_cores": resize["torchvision"] / resize["skbrain_pillow_all_cores"],
    }
    print(f"  torchvision loop / ImageResizer: x{ratios['one_thread']:.2f} on one thread "
          f"(target 3), x{ratios['all_cores']:.2f} with all cores (target 5); "
          f"the {resize['cores']}-worker DataLoader / ImageResizer(n_jobs=-1): "
          f"x{ratios['all_cores_vs_workers']:.2f}")
    print(f"  with decoder='pillow': x{ratios['pillow_one_thread']:.2f} and "
          f"x{ratios['pillow_all_cores']:.2f}")
    return ratios


HAND_MADE = ("simple", "two-conv", "wide", "deep", "pyramid", "compact")


def predict_worker(model, n_images, rounds):
    """predict_proba images/s of one default hand-made model, and of its ONNX export.

    The weights come from a one-epoch fit on 64 real images: throughput does
    not depend on them. Both sides get the same uint8 images; ONNX Runtime
    takes float32 in [0, 1], so its side converts each batch, as a caller must.
    """
    import tempfile

    from skbrain import get_estimator

    torch.set_num_threads(os.cpu_count() or 1)
    X, data = load_real_images(SIZE)
    some = np.random.default_rng(0).permutation(len(X))[:64]
    estimator = get_estimator(model, max_epochs=1, random_state=0)
    estimator.fit(X[some], data.target[some])
    X = np.resize(X, (n_images, *X.shape[1:]))
    estimator.predict_proba(X[:64])  # warm-up
    skbrain_s = []
    for _ in range(rounds):
        start = time.perf_counter()
        proba = estimator.predict_proba(X)
        skbrain_s.append(time.perf_counter() - start)
    result = {"model": model, "n_images": n_images, "batch_size": estimator.batch_size,
              "skbrain_images_per_s": n_images / min(skbrain_s)}
    try:
        import onnxruntime

        from skbrain.export import to_onnx
    except ImportError:
        emit(result)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = to_onnx(estimator, Path(tmp) / "model.onnx", image_size=SIZE)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        session = onnxruntime.InferenceSession(str(path), options,
                                               providers=["CPUExecutionProvider"])
        batch = 64

        def run_onnx():
            out = []
            for start in range(0, n_images, batch):
                images = X[start:start + batch].astype(np.float32) / np.float32(255)
                out.append(session.run(["probabilities"], {"images": images})[0])
            return np.concatenate(out)

        run_onnx()  # warm-up
        onnx_s = []
        for _ in range(rounds):
            start = time.perf_counter()
            onnx_proba = run_onnx()
            onnx_s.append(time.perf_counter() - start)
    result.update(onnx_images_per_s=n_images / min(onnx_s), onnx_batch_size=batch,
                  onnx_max_abs_diff=float(np.abs(onnx_proba - proba).max()),
                  onnxruntime=onnxruntime.__version__)
    emit(result)


def report_predict(rows):
    print(f"\npredict_proba on {rows[0]['n_images']} real images at {SIZE}x{SIZE}, "
          f"{os.cpu_count()} cores (best of the rounds):")
    print(f"  {'model':10s} {'skbrain img/s':>14s} {'ONNX Runtime img/s':>19s} {'ratio':>6s} "
          f"{'max |dp|':>9s}")
    for r in rows:
        onnx = r.get("onnx_images_per_s")
        cells = (f"{onnx:19.0f} {onnx / r['skbrain_images_per_s']:6.2f} "
                 f"{r['onnx_max_abs_diff']:9.1e}" if onnx else f"{'(no onnxruntime)':>19s}")
        print(f"  {r['model']:10s} {r['skbrain_images_per_s']:14.0f} {cells}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per fit")
    parser.add_argument("--rounds", type=int, default=2,
                        help="interleaved skbrain / hand-loop fits; the best of each counts")
    parser.add_argument("--output", default=None,
                        help="default: benchmarks/results/speed.json (resize.json with "
                             "--resize-only, predict.json with --predict-only)")
    parser.add_argument("--resize-only", action="store_true",
                        help="only the ImageResizer vs torchvision comparison")
    parser.add_argument("--repeats", type=int, default=5,
                        help="rounds of the loader comparison (the best counts)")
    parser.add_argument("--predict-only", action="store_true",
                        help="only predict images/s of each default hand-made model, skbrain "
                             "and ONNX Runtime")
    parser.add_argument("--predict-n", type=int, default=1024,
                        help="images per prediction run with --predict-only")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--predict-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.predict_worker:
        predict_worker(args.predict_worker, args.predict_n, args.rounds)
        return
    if args.worker:
        worker(args.worker, args.epochs, args.rounds)
        return

    if args.output is None:
        name = "resize" if args.resize_only else "predict" if args.predict_only else "speed"
        args.output = f"benchmarks/results/{name}.json"
    if args.predict_only:
        rows = []
        models = args.models.split(",") if args.models != ",".join(MODELS) else HAND_MADE
        for model in models:
            print(f"[speed] predict {model}...", flush=True)
            rows.append(run_fresh(__file__, ["--predict-worker", model, "--predict-n",
                                             args.predict_n, "--rounds", args.rounds]))
        report_predict(rows)
        write_json(args.output, {"predict": rows})
        return
    if args.resize_only:
        resize = resize_benchmark(args.repeats)
        ratios = report_resize(resize)
        write_json(args.output, {"resize_seconds": resize, "resize_ratios": ratios})
        return

    matmul_before = matmul_gflops()
    print(f"fp32 matmul: {matmul_before:.0f} GFLOP/s", flush=True)
    rows = []
    for model in args.models.split(","):
        print(f"[speed] {model}: {args.epochs}+1 epochs on {N_TRAIN} images...", flush=True)
        row = run_worker(model, args.epochs, args.rounds, {"SKBRAIN_TUNE_MALLOC": "1"})
        row["skbrain_no_malloc_images_per_s"] = run_worker(
            model, args.epochs, 1, {"SKBRAIN_TUNE_MALLOC": "0"})["skbrain_images_per_s"]
        rows.append(row)
    matmul_after = matmul_gflops()
    print(f"fp32 matmul after the fits: {matmul_after:.0f} GFLOP/s", flush=True)
    matmul = max(matmul_before, matmul_after)
    resize = resize_benchmark(args.repeats)

    print(f"\nfp32 matmul peak {matmul:.0f} GFLOP/s ({matmul_before:.0f} before, "
          f"{matmul_after:.0f} after the fits)")
    header = ("model", "skbrain img/s", "hand loop img/s", "ratio", "median ratio", "GFLOP/s",
              "of matmul", "NCHW loop", "no mallopt", "predict img/s", "peak RSS MB")
    print("  ".join(f"{h:>13s}" for h in header))
    for r in rows:
        gflops = r["skbrain_images_per_s"] * r["train_gflop_per_image"]
        r["skbrain_gflops"] = gflops
        r["fit_ratio_vs_hand_loop"] = r["skbrain_images_per_s"] / r["hand_images_per_s"]
        # The loop's rounds scatter more than skorch's on a shared machine, so
        # one lucky round can decide the best-of ratio; the medians' is steadier.
        r["fit_ratio_of_medians"] = (float(np.median(r["skbrain_rounds"]))
                                     / float(np.median(r["hand_rounds"])))
        r["fraction_of_matmul"] = gflops / matmul
        r["channels_last_gain"] = r["hand_images_per_s"] / r["hand_nchw_images_per_s"]
        # First fit of a fresh process on both sides: like with like.
        r["mallopt_gain"] = r["skbrain_rounds"][0] / r["skbrain_no_malloc_images_per_s"]
        cells = (r["model"], f"{r['skbrain_images_per_s']:.1f}", f"{r['hand_images_per_s']:.1f}",
                 f"{r['fit_ratio_vs_hand_loop']:.2f}", f"{r['fit_ratio_of_medians']:.2f}",
                 f"{gflops:.0f}",
                 f"{r['fraction_of_matmul']:.0%}", f"x{r['channels_last_gain']:.2f}",
                 f"x{r['mallopt_gain']:.2f}", f"{r['predict_images_per_s']:.0f}",
                 f"{r['peak_rss_mb']:.0f}")
        print("  ".join(f"{c:>13s}" for c in cells))
    ratio = report_resize(resize)
    write_json(args.output, {
        "matmul_gflops_before": matmul_before, "matmul_gflops_after": matmul_after,
        "models": rows, "resize_seconds": resize, "resize_ratio": ratio,
    })


if __name__ == "__main__":
    main()
