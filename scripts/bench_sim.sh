#!/usr/bin/env bash
# Simulation speed of `egsim run` on ResNet-18 (CIFAR shape) conv layers at batch 1: accelerator
# cycles ticked per host second, peak RSS, and per-layer utilisation and cycles of every phase.
# usage: scripts/bench_sim.sh [build_dir] [dy_zero_fraction]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
zeros="${2:-0.9}"
cmake --build "$build" -j2 --target egsim egsim_make_trace >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$build/bin/egsim_make_trace" "$work/trace" resnet18 "$zeros"
for cfg in efficientgrad eyeriss_v2_bp; do
  echo "== $cfg"
  /usr/bin/time -f "peak RSS %M KiB, wall %e s" "$build/bin/egsim" run \
    --config "configs/hw/$cfg.json" --trace "$work/trace" --out "$work/out-$cfg" 2>&1
  /usr/bin/python3 - "$work/out-$cfg/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{'layer':18s} {'fwd util':>8s} {'bwd util':>8s} {'wg util':>8s} {'fwd cycles':>11s} "
      f"{'bwd cycles':>11s} {'wgrad cycles':>12s}")
for l in r["layers"]:
    p = l["phases"]
    print(f"{l['name']:18s} {p['forward']['utilization']:8.3f} {p['backward']['utilization']:8.3f} "
          f"{p['weight_gradient']['utilization']:8.3f} {p['forward']['cycles']:11d} "
          f"{p['backward']['cycles']:11d} {p['weight_gradient']['cycles']:12d}")
for ph, f in r["phases"].items():
    print(f"total {ph:16s} cycles {f['cycles']:10d} utilization {f['utilization']:.3f}")
PY
done
