#!/bin/sh
# tapegrad's imdb_lstm against its PyTorch twin on the same settings, one
# after the other, single-threaded BLAS; prints bench/torch/compare.py's table.
#
#   bench/imdb.sh [--max-batches N] [--epochs E] [--layers L] [--seed S]
#
# Defaults: --max-batches 50 --epochs 1 (a quick speed comparison without
# evaluation); --max-batches 0 runs whole epochs with evaluation (the full
# protocol: ~10 minutes per epoch and side on a loaded 2-core machine).
# Environment: TAPEGRAD_BUILD_DIR (build folder, default build/; the imdb_lstm target is
# built first), PYTHON (default /usr/bin/python3), OUT (folder for the logs,
# default a fresh temporary folder). The data must be in the cache
# (~/.cache/tapegrad/imdb or $TAPEGRAD_DATA/imdb).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
max_batches=50
epochs=1
layers=1
seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    --max-batches) max_batches=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "imdb.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
build=${TAPEGRAD_BUILD_DIR:-${BUILD:-$root/build}}
python=${PYTHON:-/usr/bin/python3}
out=${OUT:-$(mktemp -d /tmp/imdb_bench.XXXXXX)}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1

cmake --build "$build" --target imdb_lstm -j2 >/dev/null
bin=$build/apps/imdb_lstm/imdb_lstm
args="--max-batches $max_batches --epochs $epochs --layers $layers --seed $seed"

echo "== tapegrad: imdb_lstm $args  (log $out/tapegrad.log)"
"$bin" $args --threads 1 >"$out/tapegrad.log" 2>&1 || { tail "$out/tapegrad.log"; exit 1; }
grep -E '^epoch|^RESULT' "$out/tapegrad.log"
echo "== torch: imdb_twin.py $args  (log $out/torch.log)"
"$python" "$here/torch/imdb_twin.py" $args --threads 1 >"$out/torch.log" 2>&1 || { tail "$out/torch.log"; exit 1; }
grep -E '^epoch|RESULT' "$out/torch.log" | sed 's/^.*\(RESULT\)/\1/'
echo
"$python" "$here/torch/compare.py" "$out/tapegrad.log" "$out/torch.log"
