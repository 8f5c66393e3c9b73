#!/bin/sh
# A probe of one boot parameter's p99 effect in the latency showcase's guest
# (docs/case-studies.md, "Latency"): benchmarks/latency/probe.yaml measures
# the defaults and mitigations=off on one boot each, then `kerntune gate`
# runs the two interleaved on ROUNDS (default 8) pairs of fresh boots
# whatever that first look said; benchmarks/latency/probe_report.py writes the block
# "latency-probe" of docs/case-studies.md: each pair's p99 and GET rate, the
# search-phase ratio and the confirmed one with its 95% interval over boots.
# Database build/latency-probe.db, gate result build/latency-probe-gate.json (replaced).
#   benchmarks/latency/probe.sh [ROUNDS]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "probe.sh: build kerntune first (./scripts/setup)" >&2; exit 2; }
rounds=${1:-8}
db=$root/build/latency-probe.db
gate=$root/build/latency-probe-gate.json
rm -f "$db" "$gate"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
"$kt" tune "$root/benchmarks/latency/probe.yaml" --db "$db" --progress lines
# Trial 1 is mitigations=off (Sobol's second point of the two-value choice); exit 1/3 are verdicts, not failures.
"$kt" gate --recipe "$root/benchmarks/latency/probe.yaml" --db "$db" --candidate 1 --repeats "$rounds" \
  --metric get_p99 --json > "$gate" || { rc=$?; [ "$rc" -eq 1 ] || [ "$rc" -eq 3 ]; }
end=$(date +%s)
exec /usr/bin/python3 "$root/benchmarks/latency/probe_report.py" --kerntune "$kt" --db "$db" --gate "$gate" \
  --seconds $((end - start)) --commit "$(git -C "$root" rev-parse --short HEAD)" \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/case-studies.md"
