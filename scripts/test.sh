#!/usr/bin/env bash
# Install what is missing, build, and run the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPEGRAD_BUILD_DIR:-$root/build}"
# python3-torch: tests/layers/test_torch_io runs PyTorch on our exported models;
# python3-nbformat and jupyter-nbconvert: tests/apps/test_report validates and
# converts the apps' reports. (Open MPI, for the data-parallel tests under
# mpirun -np 2, is in setup.sh's own list: it changes the build.)
"$root/scripts/setup.sh" python3-torch python3-nbformat python3-nbconvert jupyter-nbconvert
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
