#!/bin/sh
# tapegrad's mnist_rnn against its PyTorch twin (bench/torch/mnist_twin.py) on
# the MNIST protocol (docs/protocols.md section 3), one after the other in one
# command, single-threaded BLAS; prints bench/torch/compare.py's table
# (ratio tapegrad/torch below 1: tapegrad is faster).
#
#   bench/mnist.sh [rnn|lstm|gru] [extra args]
#
# The cell defaults to rnn. Extra args go to both programs, so use the flags
# they share: --steps N --batch N --hidden N --lr X --eval-every N --seed S
# --data DIR. Both time the training steps only (evaluation excluded; ours
# counts the batch assembly too, the twin does not) and print a RESULT line:
# train_seconds (wall),
# train_cpu_seconds, ms_per_step, test_acc, peak_mib.
# Environment: TAPEGRAD_BUILD_DIR (build folder, default build/; configured
# if needed, then the mnist_rnn target is built), PYTHON (the twin's
# interpreter, default /usr/bin/python3 with torch), OUT (folder for the two
# logs, default a fresh temporary folder). The data must be in the cache
# (~/.cache/tapegrad/mnist or $TAPEGRAD_DATA/mnist) or given with --data.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cell=rnn
case "${1:-}" in
  rnn|lstm|gru) cell=$1; shift ;;
  -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*|"") ;;
  *) echo "mnist.sh: unknown cell '$1' (expected rnn, lstm or gru; try --help)" >&2; exit 2 ;;
esac
build=${TAPEGRAD_BUILD_DIR:-$root/build}
python=${PYTHON:-/usr/bin/python3}
out=${OUT:-$(mktemp -d /tmp/mnist_bench.XXXXXX)}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1

[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" --target mnist_rnn -j2 >/dev/null
bin=$build/apps/mnist_rnn/mnist_rnn

echo "== tapegrad: mnist_rnn --cell $cell $*  (log $out/tapegrad.log)"
"$bin" --cell "$cell" --threads 1 "$@" >"$out/tapegrad.log" 2>&1 || { tail "$out/tapegrad.log"; exit 1; }
grep -E '^step|^RESULT' "$out/tapegrad.log"
echo "== torch: mnist_twin.py --cell $cell $*  (log $out/torch.log)"
"$python" "$here/torch/mnist_twin.py" --cell "$cell" --threads 1 "$@" >"$out/torch.log" 2>&1 || { tail "$out/torch.log"; exit 1; }
grep -E '^step|RESULT' "$out/torch.log" | sed 's/^.*\(RESULT\)/\1/'
echo
grep -h '^RESULT' "$out/tapegrad.log" "$out/torch.log" | python3 "$here/torch/compare.py"
