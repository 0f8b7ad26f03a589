#!/usr/bin/env bash
# Training throughput (images/s) and peak RSS of egtrain, 2 threads, bp vs efficientgrad (P=0.9):
# ResNet-20 on 28x28x1 at batch 64 (Fashion-MNIST) and ResNet-18 (CIFAR form) on 32x32x3 at
# batch 16 (synthetic data of that shape; CIFAR-10 itself is not installed).
# Usage: scripts/bench_train.sh [ITERATIONS_R20] [ITERATIONS_R18]
set -euo pipefail
cd "$(dirname "$0")/.."
egtrain="${EGTRAIN:-build/bin/egtrain}"
it20="${1:-60}"
it18="${2:-20}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bench() {
  local label="$1"
  shift
  /usr/bin/time -v "$egtrain" --threads 2 --log-every 0 --test-subset 1 "$@" >"$tmp/out" 2>"$tmp/time"
  local ips rss
  ips=$(grep -o 'train throughput: [0-9.]*' "$tmp/out" | grep -o '[0-9.]*$')
  rss=$(grep 'Maximum resident set size' "$tmp/time" | grep -o '[0-9]*$')
  printf "| %s | %s | %.0f MiB |\n" "$label" "$ips" "$(echo "$rss / 1024" | bc -l)"
}
echo "| benchmark | images/s | peak RSS |"
echo "| --- | --- | --- |"
for mode in bp efficientgrad; do
  bench "resnet20 28x28x1 b64 $mode" --network resnet20 --dataset fashion-mnist --batch 64 \
    --train-subset $((64 * it20)) --iterations "$it20" --mode "$mode" --pruning-rate 0.9
done
for mode in bp efficientgrad; do
  bench "resnet18 32x32x3 b16 $mode" --network resnet18 --dataset synthetic --batch 16 \
    --synthetic-channels 3 --synthetic-height 32 --synthetic-width 32 \
    --synthetic-train-size $((16 * it18)) --synthetic-test-size 1 --iterations "$it18" \
    --mode "$mode" --pruning-rate 0.9
done
