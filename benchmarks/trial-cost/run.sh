#!/bin/sh
# The cost of a trial by kind — rebooted (a new command line), restored (the
# booted VM's snapshot loaded: between_trials: restore, the qemu default) and
# reused (the VM as the last trial left it: between_trials: reuse) — from the
# stored per-stage timings of two campaigns run one after the other in this
# script: recipes/reuse-vs-reboot.yaml as shipped (restore) and the same
# recipe with between_trials: reuse. Sobol over `mitigations` and 9 sysctls
# makes some consecutive trials share the command line. Writes the block
# "trial-cost" of docs/benchmarks.md: each kind's median trial time over the
# median rebooted trial's, and each kind's median share by stage — ratios
# from one run, side by side, not absolute times.
#   benchmarks/trial-cost/run.sh [--db PREFIX]     (default: build/trial-cost; PREFIX-restore.db, PREFIX-reuse.db, replaced)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$root/build/trial-cost
if [ "${1:-}" = --db ]; then prefix=$2; fi
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "run.sh: build kerntune first (./scripts/setup)" >&2; exit 2; }
recipe=$root/recipes/reuse-vs-reboot.yaml
# The reuse variant sits beside the recipe (its search_spaces resolve from there).
variant=$root/recipes/.reuse-vs-reboot-reuse.yaml
trap 'rm -f "$variant"' EXIT
sed 's/^target:$/target:\n  between_trials: reuse/' "$recipe" > "$variant"
grep -q 'between_trials: reuse' "$variant" || { echo "run.sh: could not write the reuse variant" >&2; exit 1; }
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$prefix-restore.db" "$prefix-reuse.db"
"$kt" tune "$recipe" --db "$prefix-restore.db" --progress lines
"$kt" tune "$variant" --db "$prefix-reuse.db" --progress lines
exec /usr/bin/python3 "$root/benchmarks/trial-cost/report.py" --kerntune "$kt" \
  --db "$prefix-restore.db" --db "$prefix-reuse.db" \
  --commit "$(git -C "$root" rev-parse --short HEAD)" \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/benchmarks.md"
