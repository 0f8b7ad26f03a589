#!/usr/bin/env bash
# Fashion-MNIST ResNet-20 feedback-mode study: the same budget for bp, fa, sign, ssfa and
# efficientgrad at P = 0.5 and 0.9; writes each run's metrics under OUT and a summary table.
# Usage: scripts/train_study.sh [OUT] [extra egtrain flags...]
#   env: EPOCHS (default 2), TRAIN_SUBSET (default 6000), TEST_SUBSET (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/train_study}"
shift || true
egtrain="${EGTRAIN:-build/bin/egtrain}"
epochs="${EPOCHS:-2}"
train_subset="${TRAIN_SUBSET:-6000}"
test_subset="${TEST_SUBSET:-2000}"
mkdir -p "$out"
run() {
  local name="$1"
  shift
  echo "== $name" >&2
  "$egtrain" --config configs/train/resnet20_fashion_mnist.json --epochs "$epochs" \
    --train-subset "$train_subset" --test-subset "$test_subset" --log-every 0 \
    --out "$out/$name" "$@" "${extra[@]}" >"$out/$name.log" 2>&1
}
extra=("$@")
run bp --mode bp --pruning-rate 0
run fa --mode fa --pruning-rate 0
run sign --mode sign --pruning-rate 0
run ssfa --mode ssfa --pruning-rate 0
run efficientgrad_p0.5 --mode efficientgrad --pruning-rate 0.5
run efficientgrad_p0.9 --mode efficientgrad --pruning-rate 0.9
{
  echo "| run | final train acc | final test acc | throughput |"
  echo "| --- | --- | --- | --- |"
  for r in bp fa sign ssfa efficientgrad_p0.5 efficientgrad_p0.9; do
    last=$(tail -n 1 "$out/$r/metrics.csv")
    tr=$(echo "$last" | cut -d, -f6)
    te=$(echo "$last" | cut -d, -f8)
    tp=$(grep -o 'train throughput: [0-9.]* images/s' "$out/$r.log" | grep -o '[0-9.]*' | head -1)
    printf "| %s | %.4f | %.4f | %s img/s |\n" "$r" "$tr" "$te" "$tp"
  done
  echo
  echo "efficientgrad P=0.9, last epoch, per layer (from layer_stats.csv):"
  echo "| layer | dy nonzero | before pruning | tau | angle to BP (deg) |"
  echo "| --- | --- | --- | --- | --- |"
  last_epoch=$(tail -n 1 "$out/efficientgrad_p0.9/layer_stats.csv" | cut -d, -f1)
  awk -F, -v e="$last_epoch" '$1==e {printf "| %s | %.4f | %.4f | %.3g | %.1f |\n", $2, $3, $4, $5, $6}' \
    "$out/efficientgrad_p0.9/layer_stats.csv"
} | tee "$out/summary.md"
