#!/bin/sh
# The AVX-512 objects must not define an inline function the rest of the
# program shares: the linker keeps one copy of each, and an AVX-512 copy
# would crash a CPU without it. Every weak or global symbol they define must
# be ours (tg::activation::avx512, tg::lstm::avx512) or an xsimd template
# for avx512bw.
#   avx512_symbols.sh <build folder>
set -eu
for name in activation_avx512 lstm_avx512; do
  obj=$(find "$1" -name "$name.cpp.o" | head -n 1)
  [ -n "$obj" ] || { echo "avx512_symbols: no $name.cpp.o under $1" >&2; exit 1; }
  shared=$(nm -C --defined-only "$obj" | awk '$2 ~ /^[TWVu]$/' | cut -c20- |
    grep -v -e '^tg::activation::avx512::' -e '^tg::lstm::avx512::' -e 'xsimd::avx512bw' \
      -e '^DW.ref.__gxx_personality_v0$' || true)
  if [ -n "$shared" ]; then
    echo "symbols of $obj that other files may share, built for AVX-512:" >&2
    echo "$shared" >&2
    exit 1
  fi
  echo "ok: $name: $(nm --defined-only "$obj" | awk '$2 ~ /^[TWVu]$/' | wc -l) exported symbols, all AVX-512-only"
done
