#!/usr/bin/env bash
# Shared by main.sh, test.sh and bench.sh: install missing Debian packages,
# configure once, build incrementally. Usage: setup.sh [extra packages...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPEGRAD_BUILD_DIR:-$root/build}"

# Every package that changes the configuration is here, whichever script runs
# first (Open MPI: the data-parallel build and its tests), so main.sh then
# test.sh and test.sh then main.sh end with the same build.
packages=(g++ make cmake pkg-config libxtensor-dev libxtensor-blas-dev liblapack-dev libxsimd-dev
          libopenblas-dev catch2 libfmt-dev nlohmann-json3-dev libbenchmark-dev libcli11-dev
          libopenmpi-dev openmpi-bin gnuplot-nox python3 "$@")  # gnuplot: the figures of --report;
# python3: the docs' programs are written out at configure time (tests/CMakeLists.txt)
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

# What the configuration found that a later install can change: an MPI, and
# python3 (the docs' programs).
# When it differs from what the build was configured with (Open MPI
# installed by hand since), configure again so the build picks it up
# instead of keeping the cached answer.
found="mpi=$(command -v mpicxx >/dev/null 2>&1 && echo yes || echo no)"
found+=" python3=$(command -v python3 >/dev/null 2>&1 && echo yes || echo no)"
stamp="$build/tapegrad-configured-with"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  # TAPEGRAD_CMAKE_ARGS: options of a first configuration (build_portable.sh's -march)
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release ${TAPEGRAD_CMAKE_ARGS:-} >/dev/null
elif [[ "$(cat "$stamp" 2>/dev/null)" != "$found" ]]; then
  echo "setup: configuring $build again ($found now)" >&2
  cmake -S "$root" -B "$build" -U 'MPI_*' -U TAPEGRAD_MPI -U TAPEGRAD_PYTHON3 >/dev/null
fi
echo "$found" > "$stamp"
cmake --build "$build" -j "$(nproc)" ${TAPEGRAD_TARGETS:+--target $TAPEGRAD_TARGETS}
