#!/usr/bin/env bash
# Side-by-side training throughput, 2 threads, synthetic data (data loading out of the picture):
# egtrain (bp and efficientgrad P=0.9) against the same model's train step in LibTorch
# (scripts/bench_libtorch, optional; needs Debian's libtorch-dev). The machine is shared and
# noisy, so the programs run alternately (egtrain bp, LibTorch, egtrain efficientgrad, repeated
# PAIRS times) and the script prints medians and the median of the per-round ratios.
# Both figures leave out the first iteration (buffer allocation, kernel compilation): egtrain's
# steady-state figure, LibTorch's untimed warm-up. egtrain's still includes its last iteration,
# which also runs a reference BP pass for the per-layer statistics (LibTorch has no such work).
# Usage: scripts/bench_train_vs_libtorch.sh [PAIRS (default 3)] [ITER_R20 (30)] [ITER_R18 (10)]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-3}"
it20="${2:-30}"
it18="${3:-10}"
threads=2
egtrain="${EGTRAIN:-build/bin/egtrain}"
torch_bin="${LIBTORCH_BENCH:-build/bench_libtorch/libtorch_train_step}"
[ -x "$egtrain" ] || { echo "bench: $egtrain not found (build egtrain first)" >&2; exit 1; }
[ -x "$torch_bin" ] || scripts/bench_libtorch/build.sh "$(dirname "$torch_bin")" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

throughput() { grep -o 'train throughput: [0-9.]*' "$1" | grep -o '[0-9.]*$'; }
steady_throughput() { grep -o 'steady state (after the first): [0-9.]*' "$1" | grep -o '[0-9.]*$'; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# run_eg MODE NET BATCH ITER C H W -> appends images/s to $tmp/eg_MODE, peak RSS (KiB) to _rss
run_eg() {
  local mode="$1" net="$2" batch="$3" it="$4" c="$5" h="$6" w="$7"
  /usr/bin/time -v "$egtrain" --threads "$threads" --log-every 0 --network "$net" \
    --dataset synthetic --synthetic-channels "$c" --synthetic-height "$h" --synthetic-width "$w" \
    --synthetic-train-size $((batch * (it + 1))) --synthetic-test-size 1 --batch "$batch" \
    --iterations "$it" --mode "$mode" --pruning-rate 0.9 >"$tmp/out" 2>"$tmp/time"
  steady_throughput "$tmp/out" >>"$tmp/eg_$mode"
  grep 'Maximum resident set size' "$tmp/time" | grep -o '[0-9]*$' >>"$tmp/eg_${mode}_rss"
}
run_torch() {
  local net="$1" batch="$2" it="$3" c="$4" h="$5" w="$6"
  # LibTorch's OpenMP and OpenBLAS pools read these; pin them to the same thread count.
  OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$torch_bin" --threads "$threads" \
    --network "$net" --batch "$batch" --iterations "$it" --channels "$c" --height "$h" \
    --width "$w" >"$tmp/out"
  throughput "$tmp/out" >>"$tmp/torch"
}

bench() {
  local label="$1"
  shift
  rm -f "$tmp"/eg_* "$tmp/torch"
  for ((i = 0; i < pairs; ++i)); do
    run_eg bp "$@"
    run_torch "$@"
    run_eg efficientgrad "$@"
  done
  local bp torch eg rounds
  bp=$(median <"$tmp/eg_bp")
  torch=$(median <"$tmp/torch")
  eg=$(median <"$tmp/eg_efficientgrad")
  # Per-round ratios: each compares runs made seconds apart, under similar load.
  rounds=$(paste "$tmp/eg_bp" "$tmp/torch" "$tmp/eg_efficientgrad")
  local r_torch r_eg
  r_torch=$(echo "$rounds" | awk '{print $1/$2}' | median)
  r_eg=$(echo "$rounds" | awk '{print $1/$3}' | median)
  printf "| %s | %s | %s | %s | %.2f | %.2f | %.0f MiB |\n" "$label" "$bp" "$torch" "$eg" \
    "$r_torch" "$r_eg" "$(sort -g "$tmp/eg_bp_rss" "$tmp/eg_efficientgrad_rss" | tail -1 |
      awk '{print $1/1024}')"
  echo "  rounds (egtrain bp, LibTorch, egtrain efficientgrad):" $(echo "$rounds" | tr '\t\n' ', ')
}

echo "| benchmark (2 threads, median of $pairs rounds) | egtrain bp img/s | LibTorch img/s | egtrain efficientgrad img/s | bp / LibTorch | efficientgrad step / bp step | egtrain peak RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
bench "resnet20 28x28x1 batch 64" resnet20 64 "$it20" 1 28 28
bench "resnet18 32x32x3 batch 16" resnet18 16 "$it18" 3 32 32
