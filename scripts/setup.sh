#!/usr/bin/env bash
# Installs every Debian package egsim needs to build, test and plot. Idempotent: when every package
# is already present it installs nothing (and needs no network).
#   --list   print the package names, one a line, and install nothing (scripts/check_deps.sh reads them)
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

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

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
