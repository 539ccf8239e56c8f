#!/usr/bin/env bash
# Build and test for any x86-64 CPU (no AVX2 needed): -march=x86-64 in place
# of the default x86-64-v3, into build-x86-64/. Checks that no object but the
# AVX-512 kernels (compiled for their target, run only after a CPU check)
# holds an AVX instruction, then runs the suite. Arguments go to CTest, e.g.
#   scripts/build_portable.sh -R gradcheck
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPEGRAD_BUILD_DIR:-$root/build-x86-64}"
TAPEGRAD_BUILD_DIR="$build" TAPEGRAD_TARGETS="${TAPEGRAD_TARGETS:-}" \
  TAPEGRAD_CMAKE_ARGS="-DTAPEGRAD_ARCH=x86-64" "$root/scripts/setup.sh" python3-torch python3-nbformat \
  python3-nbconvert jupyter-nbconvert binutils
# An AVX register (ymm/zmm) in code compiled for plain x86-64 would be an
# illegal instruction on an older CPU. The *_avx512 objects are exempt.
found=0
while IFS= read -r -d '' object; do
  if objdump -d --no-show-raw-insn "$object" | grep -qE '%[yz]mm[0-9]'; then
    echo "build_portable: $object uses AVX registers" >&2
    found=1
  fi
done < <(find "$build" -name '*.o' ! -name '*avx512*' -print0)
((found == 0)) || exit 1
echo "build_portable: no AVX instruction outside the AVX-512 kernels"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
