#!/usr/bin/env bash
# EfficientGrad vs the Eyeriss-v2 BP baseline on one ResNet-18 (CIFAR shape) training iteration:
# throughput, power, energy and DRAM traffic ratios with their breakdown (egsim compare), forward
# energy per MAC by component, and simulation speed with the LPDDR4 model vs the ideal memory.
# usage: scripts/bench_compare.sh BUILD_DIR EGTRAIN [WORK_DIR] [BATCH]
#   EGTRAIN: path to egtrain (traces: CIFAR-shaped 3x32x32 synthetic data, --batch BATCH (default
#   2), efficientgrad at P=0.9, bp). A WORK_DIR that already holds the traces reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."
build="$1"
egtrain="$2"
work="${3:-$(mktemp -d)}"
batch="${4:-2}"
mkdir -p "$work"
export SC_COPYRIGHT_MESSAGE=DISABLE
for mode in efficientgrad bp; do
  p=0.9
  [ "$mode" = bp ] && p=0
  [ -f "$work/t_$mode/manifest.json" ] ||
    "$egtrain" --network resnet18 --dataset synthetic --synthetic-channels 3 \
      --synthetic-height 32 --synthetic-width 32 --synthetic-train-size "$((2 * batch))" \
      --synthetic-test-size 1 --batch "$batch" --iterations 1 \
      --trace-iteration 1 --mode "$mode" --pruning-rate "$p" --trace-out "$work/t_$mode" \
      --out "$work/o_$mode" >"$work/train_$mode.log"
done
ideal_cfg="$work/efficientgrad_ideal.json"
/usr/bin/python3 - configs/hw/efficientgrad.json "$ideal_cfg" <<'PY'
import json, os, sys
c = json.load(open(sys.argv[1]))
c["offchip"]["model"] = "ideal"
base = os.path.dirname(os.path.abspath(sys.argv[1]))
c["offchip"]["dram_config"] = os.path.normpath(os.path.join(base, c["offchip"]["dram_config"]))
c["energy_table"] = os.path.normpath(os.path.join(base, c["energy_table"]))
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
run() {  # name config trace
  /usr/bin/time -f "$1: wall %e s, peak RSS %M KiB" "$build/bin/egsim" run --config "$2" \
    --trace "$3" --out "$work/r_$1" --no-check 2>&1 | grep -v "^wrote"
}
run eg configs/hw/efficientgrad.json "$work/t_efficientgrad"
run bp configs/hw/eyeriss_v2_bp.json "$work/t_bp"
run eg_ideal "$ideal_cfg" "$work/t_efficientgrad"
echo
"$build/bin/egsim" compare "$work/r_bp/report.json" "$work/r_eg/report.json" \
  --out "$work/compare.json" 2>&1 | head -60 || true
/usr/bin/python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
eg = json.load(open(f"{w}/r_eg/report.json")); bp = json.load(open(f"{w}/r_bp/report.json"))
print("\nheadline (EfficientGrad / baseline; paper: throughput 2.44x, power 0.48x)")
def ratio(key, f=lambda t, k: t[k]):
    return f(eg["totals"], key) / f(bp["totals"], key)
# Throughput as the paper means it: training iterations per second, the same work on both, so
# dense-equivalent (effective) GOPS; issued GOPS would count EfficientGrad's skipped MACs as lost.
print(f"  throughput          {ratio('effective_gops'):.3f}x   (iterations per second; issued-MAC GOPS {ratio('gops'):.3f}x)")
print(f"  chip power (mW)     {ratio('chip_power_mw'):.3f}x   ({eg['totals']['chip_power_mw']:.1f} vs {bp['totals']['chip_power_mw']:.1f}; dynamic + leakage, the paper's kind of figure)")
print(f"  total power (mW)    {ratio('power_mw'):.3f}x   ({eg['totals']['power_mw']:.1f} vs {bp['totals']['power_mw']:.1f}; chip + DRAM)")
print(f"  energy (pJ)         {eg['totals']['energy_pj']['total']/bp['totals']['energy_pj']['total']:.3f}x")
tr = lambda t: t["dram"]["read_bytes"] + t["dram"]["write_bytes"]
print(f"  DRAM traffic        {tr(eg['totals'])/tr(bp['totals']):.3f}x   ({tr(eg['totals'])/1e6:.2f} MB vs {tr(bp['totals'])/1e6:.2f} MB)")
print("\nenergy by component (uJ)        EG        BP")
for c in ["mac", "spad", "noc", "glb", "dram", "ppu", "leakage", "total"]:
    print(f"  {c:7s} {eg['totals']['energy_pj'][c]/1e6:16.2f} {bp['totals']['energy_pj'][c]/1e6:9.2f}")
print("\nDRAM bytes by phase and class (MB)   EG read/write      BP read/write")
for ph in ["forward", "backward", "weight_gradient", "weight_update"]:
    for cl, v in eg["phases"][ph]["dram"]["by_class"].items():
        b = bp["phases"][ph]["dram"]["by_class"][cl]
        if v["read_bytes"] + v["write_bytes"] + b["read_bytes"] + b["write_bytes"] == 0: continue
        print(f"  {ph:16s} {cl:17s} {v['read_bytes']/1e6:7.3f}/{v['write_bytes']/1e6:7.3f}   {b['read_bytes']/1e6:7.3f}/{b['write_bytes']/1e6:7.3f}")
print("\ncycles by phase (M) and PE-cycle shares: busy / input stall / output stall / idle")
print(f"  {'phase':16s} {'EG':>8s} {'BP':>8s} {'BP/EG':>6s}   {'EG shares':>23s}   {'BP shares':>23s}")
def shares(f):
    s = f["stalls"]; t = f["busy_pe_cycles"] + s["input"] + s["output"] + s["idle"]
    return " ".join(f"{v / t:5.2f}" if t else "    -" for v in
                    [f["busy_pe_cycles"], s["input"], s["output"], s["idle"]])
for ph in ["forward", "backward", "weight_gradient", "weight_update"]:
    e, b = eg['phases'][ph], bp['phases'][ph]
    print(f"  {ph:16s} {e['cycles']/1e6:8.2f} {b['cycles']/1e6:8.2f} {b['cycles']/max(e['cycles'],1):6.2f}"
          f"   {shares(e)}   {shares(b)}")
for name, r in [("EG", eg), ("BP", bp)]:
    f = r["phases"]["forward"]; macs = f["macs_issued"]
    print(f"\n{name} forward energy per MAC (pJ/MAC): " + ", ".join(
        f"{c} {f['energy_pj'][c]/macs:.3f}" for c in ["mac", "spad", "noc", "glb", "dram", "ppu", "leakage",
                                                   "total"]))
PY
