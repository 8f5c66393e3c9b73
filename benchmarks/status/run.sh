#!/usr/bin/env bash
# Does `kerntune status --watch` slow a running campaign down?
# Runs the demo campaign (random optimizer, so trial time is the black box's,
# not the GP's) ROUNDS times without and ROUNDS times with a `status --watch`
# polling the same database, interleaved (A B A B …) so slow phases of a shared
# host hit both sides alike, and prints the median throughput of each side and
# their ratio.
#
#   benchmarks/status/run.sh BUILD/kerntune [ROUNDS=5] [TRIALS=30] [INTERVAL=0.5]
#
# INTERVAL is the watch's refresh period; the default 2 s of `status --watch`
# is gentler than the 0.5 s used here.
set -euo pipefail
bin=$(realpath "${1:?usage: run.sh KERNTUNE [ROUNDS] [TRIALS] [INTERVAL]}")
rounds=${2:-5} trials=${3:-30} interval=${4:-0.5}
here=$(cd "$(dirname "$0")" && pwd)
demo=$here/../../docs/examples/demo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$demo/eval.py" "$work/"
sed -e "s/trials: 40/trials: $trials/" "$demo/recipe.yaml" > "$work/recipe.yaml"
echo "optimizer: {kind: random}" >> "$work/recipe.yaml"

run_one() {  # run_one DB WATCH(0|1) → prints trials per second
  local db=$1 watch=$2 start end wpid=""
  start=$(date +%s.%N)
  "$bin" -q tune "$work/recipe.yaml" --db "$db" --progress quiet >/dev/null &
  local tpid=$!
  if [ "$watch" = 1 ]; then
    while [ ! -s "$db" ]; do sleep 0.05; done
    "$bin" status --db "$db" --watch --interval "$interval" >/dev/null 2>&1 &
    wpid=$!
  fi
  wait "$tpid"
  end=$(date +%s.%N)
  if [ -n "$wpid" ]; then kill "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true; fi
  python3 -c "print($trials / ($end - $start))"
}

without=() with=()
for ((r = 1; r <= rounds; r++)); do
  without+=("$(run_one "$work/a$r.db" 0)")
  with+=("$(run_one "$work/b$r.db" 1)")
  echo "round $r: without ${without[-1]} trials/s, with ${with[-1]} trials/s" >&2
done
python3 - "${without[*]}" "${with[*]}" "$rounds" "$trials" "$interval" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
ma, mb = statistics.median(a), statistics.median(b)
pairs = sorted(y / x for x, y in zip(a, b))
print(f"rounds {sys.argv[3]}, {sys.argv[4]} trials each, watch interval {sys.argv[5]} s")
print(f"median throughput without status --watch: {ma:.3f} trials/s")
print(f"median throughput with    status --watch: {mb:.3f} trials/s")
print(f"ratio with/without (medians): {mb / ma:.3f}; per-round ratios {', '.join(f'{p:.3f}' for p in pairs)}")
PY
