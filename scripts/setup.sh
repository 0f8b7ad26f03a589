#!/usr/bin/env bash
# Installs every Debian package egsim needs to build, test and plot. Idempotent: when every package
# is already present it installs nothing (and needs no network).
#   scripts/setup.sh          the packages to build, test and plot
#   scripts/setup.sh --fuzz   those plus the fuzzing toolchain (scripts/fuzz.sh)
#   scripts/setup.sh --list   print the package names, one a line, and install nothing
#                             (scripts/check_deps.sh reads them)
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libsystemc-dev                 # SystemC 2.3.4 + TLM-2.0 (pkg-config: systemc)
  libboost-program-options-dev   # command-line flags
  nlohmann-json3-dev             # configs, manifests, reports
  catch2                         # unit tests (v2)
  libopenblas-dev                # GEMM for the reference trainer
  libdnnl-dev                    # oneDNN: the reference trainer's convolution kernels
  zlib1g-dev                     # gzipped Fashion-MNIST IDX files
  dataset-fashion-mnist          # /usr/share/datasets/fashion-mnist
  python3-matplotlib python3-numpy  # plots (Debian's /usr/bin/python3)
  clang-format
  time bc                        # /usr/bin/time -v and arithmetic in benchmark scripts
)

# Only for scripts/fuzz.sh: the libFuzzer harnesses of tests/fuzz build with clang.
fuzz_packages=(
  clang                          # the compiler libFuzzer needs
  libfuzzer-14-dev               # libFuzzer
  libclang-rt-14-dev             # -fsanitize=fuzzer,address,undefined runtimes (clang only recommends it)
  libomp-14-dev                  # OpenMP for clang (the trainer library uses it)
)

case "${1:-}" in
  "") ;;
  --fuzz) packages+=("${fuzz_packages[@]}") ;;
  --list) printf '%s\n' "${packages[@]}"; exit 0 ;;
  *) echo "usage: scripts/setup.sh [--fuzz | --list]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
