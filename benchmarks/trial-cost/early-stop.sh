#!/bin/sh
# Early stopping side by side (issue 20 item 4): the same campaign on the
# `command` target — a known 4-parameter function with multiplicative
# lognormal noise (benchmarks/trial-cost/noisy_eval.py), 5 repeats a trial,
# BO, 30 trials, confirmation of the best 2 on 2 rounds — with
# `noise.early_stop: {alpha: 0.05, min_repeats: 2}` and without, over the same
# seeds. Reports the workload time (repeats run × the cost of one; and the
# measured seconds) and the final quality (the true f of the configuration
# `best` recommends) as medians and ratios, into the block
# "trial-cost-early-stop" of docs/benchmarks.md.
#   benchmarks/trial-cost/early-stop.sh [--seeds N] [--sigma S] [--repeats R] [--max-repeats M] [--out DIR]
#   (default 8 seeds, sigma 0.1, 5 repeats, build/early-stop; --repeats other than 5 writes block
#   "trial-cost-early-stop-rR"; --max-repeats M turns on adaptive repeats in the "on" arm —
#   close contenders run up to M — and writes block "trial-cost-early-stop-rR-mM")
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
seeds=8
sigma=0.1
repeats=5
max_repeats=0
out=$root/build/early-stop
while [ $# -gt 0 ]; do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --sigma) sigma=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --max-repeats) max_repeats=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "early-stop.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "early-stop.sh: build kerntune first (ninja -C build kerntune)" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
seed=1
while [ "$seed" -le "$seeds" ]; do
  for arm in off on; do
    if [ "$arm" = on ]; then es="{alpha: 0.05, min_repeats: 2, max_repeats: $max_repeats}"; else es=off; fi
    cat > "$out/$arm-$seed.yaml" <<YAML
name: early-stop-$arm-$seed
seed: $seed
parameters:
  - {name: x1, domain: generic, type: real, range: [0, 10], default: 5}
  - {name: x2, domain: generic, type: real, range: [0, 10], default: 5}
  - {name: x3, domain: generic, type: real, range: [0, 10], default: 5}
  - {name: x4, domain: generic, type: real, range: [0, 10], default: 5}
target:
  kind: command
  argv: [/usr/bin/python3, $root/benchmarks/trial-cost/noisy_eval.py]
  env: {BENCH_SEED: "$seed", NOISE_SIGMA: "$sigma"}
repeats: $repeats
objectives: [{metric: y, direction: minimize}]
budget: {trials: 30}
noise: {confirm_top: 2, confirm_rounds: 2, early_stop: $es}
YAML
    nice "$kt" tune "$out/$arm-$seed.yaml" --db "$out/$arm-$seed.db" --progress quiet >/dev/null
  done
  seed=$((seed + 1))
done
exec /usr/bin/python3 "$root/benchmarks/trial-cost/early_stop_report.py" --kerntune "$kt" --dir "$out" --seeds "$seeds" \
  --sigma "$sigma" --repeats "$repeats" --max-repeats "$max_repeats" --eval "$root/benchmarks/trial-cost/noisy_eval.py" \
  --commit "$(git -C "$root" rev-parse --short HEAD)" \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/benchmarks.md"
