#!/usr/bin/env bash
# One command per comparison: build our benchmark, run it, run its PyTorch
# twin right after (never at the same time), print both and the ratios.
#   bench/run.sh tape     # per-op cost of the tape, recurrent step (issue: 1/10 of PyTorch's overhead)
#   bench/run.sh lstm     # LSTM layer fwd+bwd, batch 64, time 200, 128 -> 128; MNIST-shaped layers
#   bench/run.sh all
# Results also land in bench/results/<what>-<date>.txt. One thread on both sides.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPEGRAD_BUILD_DIR:-$root/build}"
what="${1:-all}"
case "$what" in tape|lstm|all) ;; *) echo "usage: bench/run.sh tape|lstm|all" >&2; exit 2 ;; esac
TAPEGRAD_TARGETS="bench_tape bench_layers" "$root/scripts/setup.sh" python3-torch
export OPENBLAS_NUM_THREADS=1
mkdir -p "$root/bench/results"
out="$root/bench/results/$what-$(date +%Y%m%d-%H%M%S).txt"
run() { echo "+ $*" >&2; "$@" | tee -a "$out"; }
if [[ $what == tape || $what == all ]]; then
  run "$build/bench/bench_tape" --benchmark_color=false
  run /usr/bin/python3 "$root/bench/torch/tape_chain.py" 2>/dev/null
fi
if [[ $what == lstm || $what == all ]]; then
  run "$build/bench/bench_layers" --benchmark_color=false
  run /usr/bin/python3 "$root/bench/torch/lstm_layer.py" 2>/dev/null
fi
echo
python3 "$root/bench/torch/compare.py" "$out"
echo "(raw output: $out)"
