#!/bin/sh
# tapegrad's imdb_lstm against its PyTorch twin on the same settings, one
# after the other, single-threaded BLAS; prints bench/torch/compare.py's table.
#
#   bench/imdb.sh [--steps N] [--epochs E] [--layers L] [--seed S] [--eval]
#
# Defaults: --steps 50 (the first N training steps of epoch 1 on each side,
# N <= 391, without evaluation: a quick speed comparison); --steps 0 runs E
# whole epochs (default 1) with evaluation after each (the full protocol:
# ~10 minutes per epoch and side on a loaded 2-core machine).
# --eval: one training step on each side, then the evaluation of all 50,000
# reviews (both splits, 500 at a time), timed as eval_seconds.
# --max-batches N is the old name of --steps N.
# Environment: TAPEGRAD_BUILD_DIR (build folder, default build/; the imdb_lstm target is
# built first), PYTHON (default /usr/bin/python3), OUT (folder for the logs,
# default a fresh temporary folder). The data must be in the cache
# (~/.cache/tapegrad/imdb or $TAPEGRAD_DATA/imdb).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=50
epochs=1
layers=1
seed=1
eval=no
while [ $# -gt 0 ]; do
  case "$1" in
    --steps|--max-batches) steps=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --eval) eval=yes; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "imdb.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
# The twin counts steps per epoch (--max-batches): N steps are N batches of
# its first epoch, which has 391.
if [ "$steps" -gt 391 ]; then
  echo "imdb.sh: --steps $steps: at most 391 (one epoch; --steps 0 runs whole epochs)" >&2
  exit 2
fi
build=${TAPEGRAD_BUILD_DIR:-${BUILD:-$root/build}}
python=${PYTHON:-/usr/bin/python3}
out=${OUT:-$(mktemp -d /tmp/imdb_bench.XXXXXX)}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1

cmake --build "$build" --target imdb_lstm -j2 >/dev/null
bin=$build/apps/imdb_lstm/imdb_lstm
common="--layers $layers --seed $seed --threads 1"
protocol="--protocol"  # the twin runs the homework's protocol (ours defaults to the recipe)
if [ "$eval" = yes ]; then
  ours="--steps 1 --eval both --eval-batch 500 $protocol $common"
  theirs="--max-batches 1 --epochs 1 --eval yes --eval-batch 500 $common"
elif [ "$steps" -gt 0 ]; then
  ours="--steps $steps --eval none $protocol $common"        # train N steps, evaluate nothing
  theirs="--max-batches $steps --epochs 1 $common"   # its first N batches; no evaluation
else
  ours="--epochs $epochs $protocol $common"
  theirs="--epochs $epochs $common"
fi

echo "== tapegrad: imdb_lstm $ours  (log $out/tapegrad.log)"
"$bin" $ours --quiet >"$out/tapegrad.log" 2>&1 || { tail "$out/tapegrad.log"; exit 1; }
grep -E '^epoch|^step|^RESULT' "$out/tapegrad.log"
echo "== torch: imdb_twin.py $theirs  (log $out/torch.log)"
"$python" "$here/torch/imdb_twin.py" $theirs >"$out/torch.log" 2>&1 || { tail "$out/torch.log"; exit 1; }
grep -E '^epoch|RESULT' "$out/torch.log" | sed 's/^.*\(RESULT\)/\1/'
echo
"$python" "$here/torch/compare.py" "$out/tapegrad.log" "$out/torch.log"
