#!/bin/sh
# A probe of one boot parameter's p99 effect in the latency showcase's guest
# (docs/case-studies.md, "Latency"): benchmarks/latency/probe.yaml measures
# the defaults and mitigations=off, then confirms the pick on 8 interleaved
# pairs of fresh boots; benchmarks/latency/probe_report.py writes the block
# "latency-probe" of docs/case-studies.md: each pair's p99 and GET rate, the
# search-phase ratio and the confirmed one with its 95% interval over boots.
# Database build/latency-probe.db (replaced).
#   benchmarks/latency/probe.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "probe.sh: build kerntune first (./scripts/setup)" >&2; exit 2; }
db=$root/build/latency-probe.db
rm -f "$db"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
"$kt" tune "$root/benchmarks/latency/probe.yaml" --db "$db" --progress lines
end=$(date +%s)
exec /usr/bin/python3 "$root/benchmarks/latency/probe_report.py" --kerntune "$kt" --db "$db" \
  --seconds $((end - start)) --commit "$(git -C "$root" rev-parse --short HEAD)" \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/case-studies.md"
