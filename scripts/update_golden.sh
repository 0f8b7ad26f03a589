#!/usr/bin/env bash
# Rewrites tests/golden/ from the current model: the per-layer, per-phase cycles, PE-cycle classes,
# energy and DRAM figures of a fixed small trace on both shipped configs. Run it after a deliberate
# timing or energy change, read `git diff tests/golden`, and explain the difference in the commit.
# usage: scripts/update_golden.sh [build_dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
cmake --build "$build" -j2 --target test_golden_timing egsim egsim_make_trace >/dev/null
EGSIM_UPDATE_GOLDEN=1 SC_COPYRIGHT_MESSAGE=DISABLE "$build/tests/test_golden_timing" >/dev/null
git --no-pager diff --stat -- tests/golden
