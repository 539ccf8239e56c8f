#!/usr/bin/env bash
# Fuzzes the input readers with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (docs/reliability.md, "Fuzzing").
#
#   scripts/fuzz.sh NAME [SECONDS]   one target: safetensors idx imdb slots vocab
#   scripts/fuzz.sh all [SECONDS]    every target, one after the other
#
# SECONDS is per target (default 60). The first run configures build-fuzz/
# (TAPEGRAD_FUZZ_BUILD_DIR) with clang (CC/CXX, default clang/clang++),
# -DTAPEGRAD_FUZZ=ON and the sanitizers on every library; later runs only
# rebuild what changed. Each run starts from a fresh copy of
# fuzz/corpus/NAME in build-fuzz/runs/NAME/corpus (the tree is not
# touched) and prints executions, exec/s, corpus size and any crash file.
# Extra libFuzzer flags: TAPEGRAD_FUZZ_FLAGS (e.g. "-max_len=65536").
# Exit status: 0 when no target found anything, 1 otherwise.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPEGRAD_FUZZ_BUILD_DIR:-$root/build-fuzz}"
targets=(safetensors idx imdb slots vocab)

usage() {
  echo "usage: scripts/fuzz.sh NAME|all [SECONDS]   (NAME: ${targets[*]})" >&2
  exit 2
}
(($# >= 1 && $# <= 2)) || usage
seconds="${2:-60}"
[[ $seconds =~ ^[1-9][0-9]*$ ]] || usage
if [[ $1 == all ]]; then
  run=("${targets[@]}")
else
  [[ " ${targets[*]} " == *" $1 "* ]] || usage
  run=("$1")
fi

export CC="${CC:-clang}" CXX="${CXX:-clang++}"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  # -fsanitize=fuzzer-no-link instruments the libraries for coverage; the
  # targets add -fsanitize=fuzzer at link time (fuzz/CMakeLists.txt).
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEGRAD_BUILD_BENCH=OFF \
    -DTAPEGRAD_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
    >/dev/null
fi
cmake --build "$build" -j "${TAPEGRAD_JOBS:-2}" --target "${run[@]/#/fuzz_}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
summary=()
found=0
for name in "${run[@]}"; do
  dir="$build/runs/$name"
  rm -rf "$dir"
  mkdir -p "$dir/corpus"
  cp "$root/fuzz/corpus/$name"/* "$dir/corpus/"
  seeds=$(find "$dir/corpus" -type f | wc -l)
  dict=()
  [[ -f "$root/fuzz/$name.dict" ]] && dict=("-dict=$root/fuzz/$name.dict")
  echo "fuzz: $name for $seconds s from $seeds seeds (log: $dir/log)"
  # One process at a time (no -jobs/-workers). -timeout: an input taking
  # over 10 s is a hang; -rss_limit_mb: over 2 GB (or one malloc over
  # 2 GB) is a finding, as a huge declared size must be refused first.
  set +e
  # shellcheck disable=SC2086
  "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/" "${dict[@]}" ${TAPEGRAD_FUZZ_FLAGS:-} \
    "$dir/corpus" >"$dir/log" 2>&1
  status=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$dir/log" | tail -1)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  crashes=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | sort)
  line="$name: ${execs:-?} executions, ${rate:-?} exec/s, corpus $seeds -> $corpus inputs, peak RSS ${rss:-?} MB"
  if [[ -n $crashes || $status -ne 0 ]]; then
    found=1
    line+=", FINDING (exit $status): ${crashes:-see the log}"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz: invariant|terminate called)' "$dir/log" | head -5 >&2 || true
  else
    line+=", no crash"
  fi
  echo "fuzz: $line"
  summary+=("$line")
done
if ((${#run[@]} > 1)); then
  echo "fuzz: summary ($seconds s each, $(date -u +%Y-%m-%d)):"
  printf '  %s\n' "${summary[@]}"
fi
exit "$found"
