#!/bin/sh
# The quick start's throughput noise (docs/case-studies.md, "Noise"): fresh
# boots of its guest at the defaults, measured as the quick start measures
# (1 warm-up + 5 runs of 1500 GETs per boot) and with a longer warm-up and
# more runs (3 + 12), then the spread within a boot, between boots and what a
# paired claim would need (noise.py), written into the block "noise" of
# docs/case-studies.md.
#   benchmarks/quickstart/noise.sh [BOOTS] [--db-dir DIR]   (default 5 boots each, build/)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
boots=${1:-5}
dir=$root/build
if [ "${2:-}" = --db-dir ]; then dir=$3; fi
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "noise.sh: build kerntune first" >&2; exit 2; }
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for v in baseline-boots baseline-boots-long; do
  "$kt" tune "$root/benchmarks/quickstart/noise/$v.yaml" --db "$dir/noise-$v.db" --trials "$boots" --progress lines
done
exec /usr/bin/python3 "$root/benchmarks/quickstart/noise.py" --kerntune "$kt" \
  --db "$dir/noise-baseline-boots.db" --db "$dir/noise-baseline-boots-long.db" \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/case-studies.md"
