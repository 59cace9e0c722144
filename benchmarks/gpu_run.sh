#!/usr/bin/env bash
# The GPU run of issue 29, as the lead starts it on the lent machine from the repository root:
#   run(command="bash benchmarks/gpu_run.sh", carry=[".whl"], timeout_s=300)
# The machine has Python 3.12, torch, timm, accelerate, numpy, scikit-learn and Pillow, but not
# skorch: the wheels carried in .whl/ (pip download --no-deps skorch==<version>) go to /tmp/site.
# skbrain runs from the checkout (PYTHONPATH=.), without installing it.
set -uo pipefail
OUT=${OUT:-runs/gpu_run}
mkdir -p "$OUT/gpu"
python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:.
export PYTHONUNBUFFERED=1
nvidia-smi
python3 -c "import torch; print('torch', torch.__version__, 'bf16', torch.cuda.is_bf16_supported())"
timeout 270 python3 benchmarks/bench_gpu.py --output "$OUT/gpu" --budget 150 --repeats 2 --other-layout --compile default,reduce-overhead "$@" 2>&1 | tee "$OUT/gpu/bench_gpu.log"
