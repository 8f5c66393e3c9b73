#!/bin/sh
# Cost-aware search once for real in QEMU (issue 20 item 2): the mixed
# boot-parameter + sysctl campaign of recipes/reuse-vs-reboot.yaml (the
# `mitigations` boot parameter and 9 sysctls, sysbench memory bandwidth, the
# qemu default between_trials: restore) with kind bo and TRIALS trials, run
# with optimizer.cost_aware off and on, one after the other, without a
# confirmation phase (its fresh boots cost the same in both arms). Reports each
# campaign's wall time, its trials by kind (rebooted / restored) and the best
# bandwidth it observed, into the block "trial-cost-aware-qemu" of
# docs/benchmarks.md. One campaign per arm: the wall time and the reboots
# are what it measures; one run cannot compare final quality (the command-
# target benchmark, cost-aware.sh, does over seeds).
#   benchmarks/trial-cost/cost-aware-qemu.sh [--trials N] [--db PREFIX]   (default 24, build/cost-aware-qemu)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
trials=24
prefix=$root/build/cost-aware-qemu
while [ $# -gt 0 ]; do
  case $1 in
    --trials) trials=$2; shift 2 ;;
    --db) prefix=$2; shift 2 ;;
    *) echo "cost-aware-qemu.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "cost-aware-qemu.sh: build kerntune first (./scripts/setup)" >&2; exit 2; }
recipe=$root/recipes/reuse-vs-reboot.yaml
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for arm in off on; do
  # The variant sits beside the recipe (its search_spaces resolve from there).
  variant=$root/recipes/.cost-aware-$arm.yaml
  sed -e "s/^name: reuse-vs-reboot$/name: cost-aware-qemu-$arm/" \
      -e "s/^  trials: 8$/  trials: $trials/" \
      -e "s/^optimizer: {kind: sobol}$/optimizer: {kind: bo, cost_aware: $arm}\nnoise: {confirm_top: 0}/" "$recipe" > "$variant"
  grep -q "cost_aware: $arm" "$variant" && grep -q "trials: $trials" "$variant" ||
    { rm -f "$variant"; echo "cost-aware-qemu.sh: could not write the $arm variant" >&2; exit 1; }
  rm -f "$prefix-$arm.db"
  "$kt" tune "$variant" --db "$prefix-$arm.db" --progress lines || { rm -f "$variant"; exit 1; }
  rm -f "$variant"
done
exec /usr/bin/python3 "$root/benchmarks/trial-cost/cost_aware_qemu_report.py" --kerntune "$kt" \
  --off "$prefix-off.db" --on "$prefix-on.db" --trials "$trials" \
  --commit "$(git -C "$root" rev-parse --short HEAD)" \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/benchmarks.md"
