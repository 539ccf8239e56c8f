#!/usr/bin/env bash
# tapegrad as a user gets it: installed into a prefix and used from a project
# of their own (examples/consumer), or added with add_subdirectory.
#
#   package_test.sh MODE SOURCE_DIR BUILD_DIR WORK_DIR CXX [CXXFLAGS]
#
# CXXFLAGS: the build's CMAKE_CXX_FLAGS, given to every consumer build too
# (a build with -fsanitize=... needs its consumers to link the runtime).
#
#   install       cmake --install BUILD_DIR into WORK_DIR/prefix (fresh), and
#                 check what is there
#   find_package  configure examples/consumer against the prefix
#                 (CMAKE_PREFIX_PATH), build it, run it
#   build_tree    the same against the build tree, without installing
#                 (tapegrad_DIR=BUILD_DIR)
#   pkg_config    compile and link examples/consumer/main.cpp with the flags
#                 of pkg-config --cflags --libs tapegrad alone, run it
#   headers       every installed header includes only <tapegrad/...> and
#                 system headers, and all of them compile in one file
#                 without our -march
#   subproject    a project that add_subdirectory()s the source tree and the
#                 examples: nothing but the library is added, no cache
#                 variable is forced, no -march reaches the consumer, and
#                 the example's file compiles with the flags it gets
#   char_rnn      build examples/char_rnn against the prefix; its float64
#                 gradcheck passes; on a small generated text the held-out
#                 bits per character fall well below the unigram entropy and
#                 log2 of the vocabulary, but not below the text's own
#                 entropy; a second run with the same seed prints the same
#                 figures and the same sample
#   seq2seq       build examples/seq2seq against the prefix; its float64
#                 gradcheck passes, a bad flag fails with a message, and a
#                 short training run decodes held-out dates far above chance
#
# Each check that fails says what it found and exits 1.
set -euo pipefail
mode=$1 src=$2 build=$3 work=$4 cxx=$5 cxxflags=${6:-}
prefix="$work/prefix"
fail() { echo "package_test $mode: FAILED: $*" >&2; exit 1; }

# Builds examples/$1 against the prefix into $work/$1 (sets out_dir and exe)
# and runs its float64 gradcheck (--check), whose output must match $2.
build_example() {
  out_dir="$work/$1"
  rm -rf "$out_dir"
  cmake -S "$src/examples/$1" -B "$out_dir" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$out_dir" >/dev/null
  exe="$out_dir/$1"
  local check
  check=$("$exe" --check) || fail "$1 --check exited non-zero: $check"
  echo "$check"
  grep -q "$2" <<<"$check" || fail "no '$2' in the output of $1 --check"
}

# Runs the example built at $1: it must exit 0 and say that it passed.
run_example() {
  local out code=0
  out=$("$1") || code=$?
  echo "$out"
  ((code == 0)) || fail "the example $1 exited $code"
  grep -q '^gradcheck projection: ok' <<<"$out" || fail "no 'gradcheck projection: ok' in the example's output"
  grep -q '^gradcheck jacobian: ok' <<<"$out" || fail "no 'gradcheck jacobian: ok' in the example's output"
  grep -q '^consumer ok: ' <<<"$out" || fail "the example did not print 'consumer ok:'"
}

# compile_commands.json's command for examples/consumer/main.cpp must not
# carry -march or put the source root on the include path.
check_consumer_flags() {
  python3 - "$1" "$src" <<'PY'
import json, shlex, sys
commands, src = json.load(open(sys.argv[1])), sys.argv[2].rstrip("/")
entry = [c for c in commands if c["file"].endswith("examples/consumer/main.cpp")]
if len(entry) != 1:
    sys.exit(f"{sys.argv[1]}: {len(entry)} entries for examples/consumer/main.cpp, not 1")
args = shlex.split(entry[0]["command"])
bad = [a for a in args if a.startswith("-march")]
if bad:
    sys.exit(f"the consumer is compiled with {bad}: an architecture flag leaked")
includes = [a[2:] for a in args if a.startswith("-I")] + \
           [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-I", "-isystem")]
if src in [i.rstrip("/") for i in includes]:
    sys.exit(f"the source root {src} is on the consumer's include path: {includes}")
print("consumer flags ok: includes", includes, "definitions", [a for a in args if a.startswith("-D")])
PY
}

case "$mode" in
install)
  rm -rf "$prefix"
  cmake --install "$build" --prefix "$prefix" >/dev/null
  for f in include/tapegrad/autograd/tape.hpp include/tapegrad/layers/torch_io.hpp \
           include/tapegrad/datasets/slots/vocab.hpp include/tapegrad/train/trainer.hpp \
           include/tapegrad/io/safetensors.hpp include/tapegrad/checkpoint/state.hpp \
           lib/libtapegrad_autograd.a lib/libtapegrad_backend.a lib/libtapegrad_train.a \
           lib/libtapegrad_io.a lib/libtapegrad_checkpoint.a \
           lib/cmake/tapegrad/tapegradConfig.cmake lib/cmake/tapegrad/tapegradConfigVersion.cmake \
           lib/cmake/tapegrad/tapegradTargets.cmake lib/pkgconfig/tapegrad.pc; do
    [[ -f "$prefix/$f" ]] || fail "$prefix/$f was not installed"
  done
  for d in include/tapegrad/apps include/tapegrad/tests include/autograd; do
    [[ ! -e "$prefix/$d" ]] || fail "$prefix/$d is installed: only the library's folders belong under include/tapegrad"
  done
  if grep -rq -- '-march' "$prefix/lib/cmake/tapegrad" "$prefix/lib/pkgconfig/tapegrad.pc"; then
    fail "an -march flag is in the installed package files: $(grep -rl -- -march "$prefix/lib")"
  fi
  echo "installed $(find "$prefix" -type f | wc -l) files into $prefix"
  ;;
find_package | build_tree)
  out_dir="$work/$mode"
  rm -rf "$out_dir"
  if [[ $mode == find_package ]]; then
    where=(-DCMAKE_PREFIX_PATH="$prefix") want="$prefix/lib/cmake/tapegrad"
  else
    where=(-Dtapegrad_DIR="$build") want="$build"
  fi
  cmake -S "$src/examples/consumer" -B "$out_dir" "${where[@]}" \
        -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  found=$(sed -n 's/^tapegrad_DIR:[A-Z]*=//p' "$out_dir/CMakeCache.txt")
  [[ "$found" == "$want" ]] || fail "find_package found tapegrad in '$found', not in $want"
  check_consumer_flags "$out_dir/compile_commands.json"
  cmake --build "$out_dir" >/dev/null
  run_example "$out_dir/attention_pooling"
  ;;
pkg_config)
  out_dir="$work/pkg_config"
  rm -rf "$out_dir" && mkdir -p "$out_dir"
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
  pkg-config --exists tapegrad || fail "pkg-config does not find tapegrad in $PKG_CONFIG_PATH"
  cflags=$(pkg-config --cflags tapegrad) libs=$(pkg-config --libs tapegrad)
  echo "pkg-config --cflags: $cflags"
  echo "pkg-config --libs: $libs"
  # shellcheck disable=SC2086
  "$cxx" -std=c++17 -O2 $cxxflags $cflags "$src/examples/consumer/main.cpp" -o "$out_dir/attention_pooling" $libs \
    || fail "the example does not build with pkg-config's flags"
  run_example "$out_dir/attention_pooling"
  ;;
headers)
  out_dir="$work/headers"
  rm -rf "$out_dir" && mkdir -p "$out_dir"
  mapfile -t headers < <(cd "$prefix/include" && find tapegrad -name '*.hpp' | sort)
  ((${#headers[@]} > 40)) || fail "only ${#headers[@]} headers under $prefix/include/tapegrad"
  if quoted=$(cd "$prefix/include" && grep -n '#include "' "${headers[@]}"); then
    fail "installed headers include by quotes, not <tapegrad/...>:"$'\n'"$quoted"
  fi
  printf '#include <%s>\n' "${headers[@]}" > "$out_dir/all_headers.cpp"
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
  # shellcheck disable=SC2086
  "$cxx" -std=c++17 -fsyntax-only -Wall -Wextra $cxxflags $(pkg-config --cflags tapegrad) "$out_dir/all_headers.cpp" \
    || fail "the installed headers do not compile together"
  echo "${#headers[@]} installed headers compile in one file, without -march"
  ;;
subproject)
  out_dir="$work/subproject"
  rm -rf "$out_dir" && mkdir -p "$out_dir/user"
  cat > "$out_dir/user/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.19)
project(user LANGUAGES CXX)
add_subdirectory("$src" tapegrad)
add_subdirectory("$src/examples/consumer" consumer)
add_subdirectory("$src/examples/char_rnn" char_rnn)
CMAKE
  cmake -S "$out_dir/user" -B "$out_dir/build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$cxxflags" \
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  cache="$out_dir/build/CMakeCache.txt"
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
  [[ -z "$build_type" ]] || fail "CMAKE_BUILD_TYPE is '$build_type' in the consumer's cache: tapegrad set it"
  for option in TAPEGRAD_BUILD_TESTS TAPEGRAD_BUILD_APPS TAPEGRAD_BUILD_BENCH TAPEGRAD_INSTALL; do
    grep -q "^$option:BOOL=OFF$" "$cache" || fail "$option is not OFF in a subproject: $(grep "^$option:" "$cache")"
  done
  targets=$(cmake --build "$out_dir/build" --target help)
  for t in tapegrad_autograd attention_pooling char_rnn; do
    grep -qw "$t" <<<"$targets" || fail "no target $t in the subproject build"
  done
  for t in test_autograd mnist_rnn fuzz_idx bench_tape; do
    ! grep -qw "$t" <<<"$targets" || fail "target $t is built in a subproject"
  done
  check_consumer_flags "$out_dir/build/compile_commands.json"
  # The example's own file, with the flags the consumer gets.
  python3 - "$out_dir/build/compile_commands.json" <<'PY' || fail "examples/consumer/main.cpp does not compile in the subproject"
import json, subprocess, sys
entry = [c for c in json.load(open(sys.argv[1])) if c["file"].endswith("examples/consumer/main.cpp")][0]
sys.exit(subprocess.call(entry["command"], shell=True, cwd=entry["directory"]))
PY
  echo "subproject ok: only the library and the examples, build type left empty, no -march"
  ;;
char_rnn)
  build_example char_rnn '^gradcheck: ok'
  # Sentences from a small grammar: 216 equally likely ones, log2(216) bits
  # in 26.7 characters on average, 0.29 bits per character; the characters'
  # frequencies alone carry about 3.9.
  python3 - "$out_dir/text.txt" <<'PY'
import random, sys
r = random.Random(1)
subjects = ["the cat", "a dog", "the old man", "my sister", "a bird", "the teacher"]
verbs = ["sees", "eats", "likes", "follows", "draws", "finds"]
objects = ["the fish", "a red ball", "the moon", "an apple", "the small house", "a letter"]
open(sys.argv[1], "w").write(" ".join(f"{r.choice(subjects)} {r.choice(verbs)} {r.choice(objects)}." for _ in range(250)))
PY
  args=(--text "$out_dir/text.txt" --steps 200 --eval-every 50 --hidden 64 --layers 1 --embed 16
        --seq-len 32 --batch 16 --lr 0.01 --prime "the " --sample-chars 200 --seed 7)
  first=$("$exe" "${args[@]}") || fail "char_rnn exited non-zero"
  echo "$first"
  second=$("$exe" "${args[@]}") || fail "char_rnn's second run exited non-zero"
  # The figures and the sample, without the times.
  figures() { grep -v '^trained' <<<"$1" | sed 's/  \[train .*//'; }
  [[ "$(figures "$first")" == "$(figures "$second")" ]] \
    || fail "two runs with the same seed differ:"$'\n'"$(diff <(figures "$first") <(figures "$second"))"
  echo "$first" >"$out_dir/run.txt"
  python3 - "$out_dir/text.txt" "$out_dir/run.txt" <<'PY' || fail "the held-out bits per character or the sample are not as they should be"
import collections, math, re, sys
text = open(sys.argv[1], "rb").read()
held_out = text[len(text) * 9 // 10:]
counts = collections.Counter(held_out)
unigram = -sum(n / len(held_out) * math.log2(n / len(held_out)) for n in counts.values())
out = open(sys.argv[2]).read()
bpc = float(re.findall(r"^step .* held_out_bpc ([0-9.]+)", out, re.M)[-1])
sample = out.split("sample (seed 7, temperature 0.8):\n", 1)[1].rstrip("\n")
vocabulary = len(set(text))
print(f"held-out bits per character {bpc:.4f}, unigram entropy {unigram:.4f}, log2 of the vocabulary {math.log2(vocabulary):.4f}")
if not bpc < min(1.0, unigram / 2, math.log2(vocabulary) - 2):
    sys.exit(f"held-out bits per character {bpc} not below min(1, {unigram:.4f} / 2, log2({vocabulary}) - 2)")
if not bpc > 0.2:
    sys.exit(f"held-out bits per character {bpc}: below the grammar's own 0.29 by too much; do the targets leak into the inputs?")
if len(sample) != len("the ") + 200 or not sample.startswith("the "):
    sys.exit(f"the sample is not 'the ' and 200 characters: {sample!r}")
PY
  # Bad input: a clear error naming the file, exit non-zero.
  : >"$out_dir/empty.txt"
  for bad in "$out_dir/empty.txt" "$out_dir/missing.txt"; do
    if err=$("$exe" --text "$bad" 2>&1); then fail "char_rnn --text $bad exited 0"; fi
    grep -q "error: $bad" <<<"$err" || fail "char_rnn --text $bad: the error does not name the file: $err"
  done
  echo "char_rnn ok: gradcheck, bits per character, the same sample from the same seed, errors on bad files"
  ;;
seq2seq)
  build_example seq2seq '^gradcheck seq2seq: ok'
  code=0
  err=$("$exe" --steps ten 2>&1) || code=$?
  ((code != 0)) || fail "seq2seq --steps ten exited 0"
  grep -q -- "--steps needs a positive integer" <<<"$err" || fail "seq2seq --steps ten said: $err"
  # 150 steps of a small model, a few seconds: a guess gets a held-out date
  # right about once in 36525; the model must get 90% of them.
  out=$("$exe" --steps 150 --hidden 32 --batch 32 --lr 0.01 --eval-every 50) || fail "the training run exited $?"
  echo "$out"
  exact=$(sed -n 's/^held-out exact match \([0-9.]*\),.*/\1/p' <<<"$out")
  [[ -n "$exact" ]] || fail "no 'held-out exact match' line in the output"
  awk -v e="$exact" 'BEGIN { exit !(e >= 0.9) }' || fail "held-out exact match $exact is under 0.9"
  echo "seq2seq ok: gradcheck passed, held-out exact match $exact"
  ;;
*)
  fail "unknown mode '$mode' (install, find_package, build_tree, pkg_config, headers, subproject, char_rnn, seq2seq)"
  ;;
esac
