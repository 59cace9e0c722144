#!/usr/bin/env bash
# The GPU check, as run on a lent H100 on 2026-12-05 (results/bench_gpu_h100.*): the tier-1 suite
# on CUDA, then bench_gpu.py alone on the GPU. From the repository root:
#   run(command="bash benchmarks/gpu_run.sh", carry=[".gpu", "skbrain.egg-info",
#       "weights/skbrain-weights/skbrain_weights.egg-info"], timeout_s=400)
# The machine has Python 3.12, torch, timm, accelerate, numpy, scikit-learn and Pillow, but not
# skorch, captum, pydicom or nibabel: their wheels travel in the ignored folder .gpu/whl
#   pip download --no-deps --only-binary=:all: --python-version 3.12 -d .gpu/whl skorch captum \
#       pydicom nibabel
# and the 253 images in .gpu/data/brain_mri (the real-data tests). skbrain and skbrain-weights
# run from the checkout (PYTHONPATH), their egg-info carried for importlib.metadata.
set -uo pipefail
OUT=${OUT:-runs/gpu_run}
T0=$SECONDS
mkdir -p "$OUT/gpu"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD:$PWD/weights/skbrain-weights PYTHONUNBUFFERED=1 MPLBACKEND=Agg
export SKBRAIN_DATA=$PWD/.gpu/data/brain_mri
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, 'bf16', torch.cuda.is_bf16_supported())"
timeout 200 python3 benchmarks/bench_gpu.py --output "$OUT/gpu" --budget 150 --repeats 2 \
  --models timm:efficientnet_lite0,compact,wide --other-layout --compile default \
  --compile-models timm:efficientnet_lite0 --no-cpu "$@" 2>&1 | tee "$OUT/gpu/bench_gpu.log"
OMP_NUM_THREADS=2 timeout 150 python3 -m pytest -q -n 6 -p no:cacheprovider --timeout 120 \
  --junitxml="$OUT/tier1.xml" > "$OUT/tier1.log" 2>&1
echo "tier 1 exit $? at $((SECONDS - T0)) s"; grep -E "^(FAILED|ERROR)|passed|failed" "$OUT/tier1.log"
