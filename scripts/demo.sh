#!/usr/bin/env bash
# The main job: install, build, train a small ResNet-20 on Fashion-MNIST (short run), write the trace of one
# training iteration, simulate it on the EfficientGrad and the Eyeriss-v2-style baseline configs, print the
# comparison and write the reports, plots and HTML page under out/demo/.
#   EGSIM_DEMO_ITERATIONS  training mini-batches before the trace is taken (default 100)
#   EGSIM_JOBS             build parallelism (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh
jobs="${EGSIM_JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEGSIM_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$jobs" --target egtrain egsim

out="$root/out/demo"
iters="${EGSIM_DEMO_ITERATIONS:-100}"
mkdir -p "$out"
common=(--config configs/train/resnet20_fashion_mnist.json --width 0.5 --batch 16 --iterations "$iters"
        --trace-iteration "$iters" --test-subset 2000 --threads "$jobs" --seed 1)

echo "== training ResNet-20 (width 0.5) on Fashion-MNIST, $iters mini-batches, efficientgrad P=0.9"
build/bin/egtrain "${common[@]}" --mode efficientgrad --pruning-rate 0.9 \
  --out "$out/train-efficientgrad" --trace-out "$out/trace-efficientgrad"
echo "== same budget with back-propagation (the baseline's algorithm)"
build/bin/egtrain "${common[@]}" --mode bp --pruning-rate 0 \
  --out "$out/train-bp" --trace-out "$out/trace-bp"

echo "== simulating one training iteration on each accelerator"
build/bin/egsim run --config configs/hw/efficientgrad.json --trace "$out/trace-efficientgrad" \
  --out "$out/sim-efficientgrad" --html
build/bin/egsim run --config configs/hw/eyeriss_v2_bp.json --trace "$out/trace-bp" \
  --out "$out/sim-baseline" --html

echo "== EfficientGrad (P=0.9) against the Eyeriss-v2-style BP baseline"
build/bin/egsim compare "$out/sim-baseline/report.json" "$out/sim-efficientgrad/report.json" \
  --out "$out/compare.json"
echo
echo "reports: $out/sim-efficientgrad/report.{json,csv,html}, $out/sim-baseline/report.{json,csv,html},"
echo "         comparison $out/compare.json"
