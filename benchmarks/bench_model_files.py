"""Size and load time of each default model's file in the pickle-free format.

Each model is built at its default architecture for 150x150 RGB images and
two classes, with its network initialised but not trained (the file size and
the load time do not depend on the weights' values), saved with
``save_model`` and loaded back with ``load_model``; the load time is the
median of ``--repeats`` loads. Pretrained families are built with
``pretrained=False`` (same tensors, no download); Lite0 is ``TimmClassifier``'s
default.

    python benchmarks/bench_model_files.py [--models simple,wide,...] [--repeats 3]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, machine  # noqa: E402

DEFAULT_MODELS = ("simple,two-conv,wide,deep,pyramid,compact,timm:efficientnet_lite0,"
                  "efficientnet-b0,resnet18,resnet50,vgg16")


def initialised(name, image_size=150):
    """The estimator ``name`` with a fitted-but-untrained network (as ``fit`` builds it)."""
    from skbrain.registry import get_estimator

    params = {} if name in ("simple", "two-conv", "wide", "deep", "pyramid", "compact") else {
        "pretrained": False}
    est = get_estimator(name, device="cpu", random_state=0, **params)
    est.classes_ = np.array([0, 1])
    est.n_features_in_ = 3
    est.image_shape_ = (3, image_size, image_size)
    est.net_ = est._build_net(64, 3, np.array([0, 1]), 0, "cpu")
    est.net_.initialize()
    est.device_ = "cpu"
    return est


def main():
    from skbrain.persistence import load_model, save_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(REPO_ROOT / "benchmarks/results/model_files.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            est = initialised(name)
            n_params = sum(p.numel() for p in est.module_.parameters())
            state_bytes = sum(t.numel() * t.element_size()
                              for t in est.module_.state_dict().values())
            path = save_model(est, Path(tmp) / "m.skbrain")
            size = path.stat().st_size
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                loaded = load_model(path)
                times.append(time.perf_counter() - start)
            x = np.random.default_rng(0).random((2, 3, 150, 150), dtype=np.float32)
            same = bool(np.array_equal(loaded.predict_proba(x), est.predict_proba(x)))
            rows.append({"model": name, "estimator": type(est).__name__,
                         "parameters": int(n_params), "file_bytes": int(size),
                         "tensor_bytes": int(state_bytes),
                         "overhead_bytes": int(size - state_bytes),
                         "load_seconds_median": statistics.median(times),
                         "load_seconds": times, "identical_predict_proba": same})
            print(f"{name:<26} {type(est).__name__:<24} {n_params / 1e6:8.2f} M params  "
                  f"{size / 2**20:9.2f} MiB  (tensors {state_bytes / 2**20:9.2f} MiB)  "
                  f"load {statistics.median(times):6.3f} s  identical={same}", flush=True)
    result = {"machine": machine(), "repeats": args.repeats, "image_size": 150, "rows": rows,
              "command": "python benchmarks/bench_model_files.py"}
    Path(args.output).write_text(json.dumps(result, indent=1))
    print(f"wrote {Path(args.output).relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
