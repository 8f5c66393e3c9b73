#!/bin/sh
# The optimizer benchmark suite in one command: builds the C++ side, runs every
# optimizer x problem x seed side by side, writes BUILD/bo-results*/summary.json
# and the table into docs/benchmarks.md ("Optimizer benchmark").
#
#   benchmarks/bo/run.sh [--quick] [--seeds N] [--jobs 2] [--deadline HH:MM] [suite.py options]
#
# BUILD defaults to build-bench in the repository (override: KT_BENCH_BUILD=dir);
# KT_BENCH_SOURCE=dir configures from another source tree (e.g. a `git archive`
# of a commit, to benchmark a committed optimizer while main is being edited).
# Options are described by: /usr/bin/python3 benchmarks/bo/suite.py --help
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${KT_BENCH_BUILD:-$root/build-bench}
source=${KT_BENCH_SOURCE:-$root}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$source" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKERNTUNE_BUILD_TESTS=OFF >/dev/null
fi
if ! nice -n 10 ninja -C "$build" kt_bench_eval kt_bench_run >"$build/bench-build.log" 2>&1; then
  tail -30 "$build/bench-build.log" >&2
  echo "run.sh: build failed (log: $build/bench-build.log)" >&2
  exit 1
fi
# Debian's python has optuna, openturns and scipy; a pyenv python3 on PATH does not.
exec /usr/bin/python3 "$root/benchmarks/bo/suite.py" --build "$build" --command "benchmarks/bo/run.sh $*" "$@"
