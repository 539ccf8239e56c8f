#!/usr/bin/env bash
# Shared by main.sh, test.sh and bench.sh: install missing Debian packages,
# configure once, build incrementally. Usage: setup.sh [extra packages...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPEGRAD_BUILD_DIR:-$root/build}"

packages=(g++ make cmake pkg-config libxtensor-dev libxtensor-blas-dev liblapack-dev libxsimd-dev
          libopenblas-dev catch2 libfmt-dev nlohmann-json3-dev libbenchmark-dev libcli11-dev
          gnuplot-nox "$@")  # gnuplot: the figures of --report
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j "$(nproc)" ${TAPEGRAD_TARGETS:+--target $TAPEGRAD_TARGETS}
