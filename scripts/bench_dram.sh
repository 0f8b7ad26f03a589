#!/usr/bin/env bash
# LPDDR4 model benchmark: row empty/hit/conflict latencies, streaming read bandwidth against the
# configured peak and the refresh ceiling, a read and a write stream at once (bus turnaround), and
# model speed (bursts and simulated MB per host second).
# Usage: scripts/bench_dram.sh [CONFIG.json] [STREAM_MIB]   (EGSIM_BUILD_DIR defaults to build)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${EGSIM_BUILD_DIR:-build}"
config="${1:-configs/dram/lpddr4_3200_x32.json}"
mib="${2:-256}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"${EGSIM_JOBS:-2}" --target egsim_bench_dram >/dev/null
SC_COPYRIGHT_MESSAGE=DISABLE "$build/bin/egsim_bench_dram" "$config" "$mib" 2>&1 |
  grep -v "Simulation stopped by user" | sed '/^$/d'
