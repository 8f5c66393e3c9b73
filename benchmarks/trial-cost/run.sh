#!/bin/sh
# The cost of a trial that reuses the booted VM (sysctls only) against one that
# reboots (a new command line), from the stored per-stage timings of one
# campaign (recipes/reuse-vs-reboot.yaml: Sobol over `mitigations` and 9
# sysctls, so some consecutive trials share the command line). Writes the
# block "trial-cost" of docs/benchmarks.md: the ratio of the median trial
# times, reused / rebooted, and each kind's median share by stage — ratios
# from one run, side by side, not absolute times.
#   benchmarks/trial-cost/run.sh [--db PATH]     (default: build/trial-cost.db, replaced)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
db=$root/build/trial-cost.db
if [ "${1:-}" = --db ]; then db=$2; fi
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "run.sh: build kerntune first (./scripts/setup)" >&2; exit 2; }
rm -f "$db"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
"$kt" tune "$root/recipes/reuse-vs-reboot.yaml" --db "$db" --progress lines
exec /usr/bin/python3 "$root/benchmarks/trial-cost/report.py" --kerntune "$kt" --db "$db" \
  --commit "$(git -C "$root" rev-parse --short HEAD)" \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/benchmarks.md"
