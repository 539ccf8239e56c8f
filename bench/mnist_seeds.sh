#!/usr/bin/env bash
# The MNIST seed table of docs/mnist_rnn.md: mnist_rnn at seeds 1-5 (or
# SEEDS="1 2 3"), each run twice, with OpenBLAS as the environment sets it and
# with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, one BLAS thread; prints
# each run's final test accuracy and the means. Arguments go to mnist_rnn:
#   bench/mnist_seeds.sh --cell lstm
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exe="${TAPEGRAD_BUILD_DIR:-$root/build}/apps/mnist_rnn/mnist_rnn"
export OPENBLAS_NUM_THREADS=1
# The final test accuracy of one run: `env [-u VAR...] mnist_rnn ARGS --quiet`.
acc() { env "$@" --quiet 2>/dev/null | sed -n 's/^RESULT .* test_acc=\([0-9.]*\) .*/\1/p'; }
for s in ${SEEDS:-1 2 3 4 5}; do
  echo "$s $(acc "$exe" "$@" --seed "$s") $(acc -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$exe" "$@" --seed "$s")"
done | awk '{ print; a += $2; u += $3; n++; if (min_a == "" || $2 < min_a) min_a = $2; if (min_u == "" || $3 < min_u) min_u = $3 }
            BEGIN { print "seed as-is unset" }
            END { printf "mean %.4f %.4f\nmin %s %s\n", a / n, u / n, min_a, min_u }'
