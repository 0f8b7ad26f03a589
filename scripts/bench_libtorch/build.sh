#!/usr/bin/env bash
# Builds the optional LibTorch side-by-side benchmark (needs Debian's libtorch-dev; never part of
# the main CMake build or the tests). Output: build/bench_libtorch/libtorch_train_step, or the
# directory given as $1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../build/bench_libtorch}"
if [ ! -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then
  echo "bench_libtorch: LibTorch headers not found; install them with: apt-get install -y libtorch-dev" >&2
  exit 1
fi
mkdir -p "$out"
g++ -std=c++17 -O2 -DNDEBUG -I/usr/include/torch/csrc/api/include "$here/train_step.cpp" \
  -o "$out/libtorch_train_step.tmp" -ltorch -ltorch_cpu -lc10 -lpthread
mv "$out/libtorch_train_step.tmp" "$out/libtorch_train_step"
echo "$out/libtorch_train_step"
