#!/usr/bin/env bash
# Install what is missing, build, and run the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPEGRAD_BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh" libopenmpi-dev openmpi-bin
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
