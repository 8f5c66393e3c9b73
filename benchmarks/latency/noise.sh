#!/bin/sh
# The latency showcase's noise under this host's QEMU (docs/case-studies.md,
# "Latency"): BOOTS fresh boots of a 256 MiB, 1-vCPU guest of Debian's 6.1 at
# the defaults, each measuring recipes/workloads/redis-latency.yaml (1 warm-up
# + 3 runs of 4000 GETs), then the spread of p99, p50 and the request rate
# within a boot and between boots, and how many interleaved pairs of fresh
# boots a 12% p99 claim would need (benchmarks/quickstart/noise.py --claim
# 0.88), written into the block "latency-noise" of docs/case-studies.md.
#   benchmarks/latency/noise.sh [BOOTS] [--db-dir DIR]   (default 6 boots, build/)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
boots=${1:-6}
dir=$root/build
if [ "${2:-}" = --db-dir ]; then dir=$3; fi
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "noise.sh: build kerntune first" >&2; exit 2; }
db=$dir/latency-noise.db
rm -f "$db"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
"$kt" tune "$root/benchmarks/latency/baseline-boots.yaml" --db "$db" --trials "$boots" --progress lines
exec /usr/bin/python3 "$root/benchmarks/quickstart/noise.py" --kerntune "$kt" --db "$db" \
  --metric get_p99 --metric get_p50 --metric get_rps --claim 0.88 \
  --block latency-noise --script benchmarks/latency/noise.sh \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/case-studies.md"
