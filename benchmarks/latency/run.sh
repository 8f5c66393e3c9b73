#!/bin/sh
# The latency showcase end to end (docs/case-studies.md, "Latency"):
#   1. the related campaign (benchmarks/latency/related.yaml: a 512 MiB guest, 10 trials);
#   2. the showcase cold (recipes/showcase-latency.yaml: 256 MiB, 12 trials, best confirmed
#      on 5 interleaved pairs of fresh boots);
#   3. the same warm-started from 1 (benchmarks/latency/warm.yaml);
#   4. the cold winner exported (kerntune export --best) and re-measured against the
#      defaults on KERNTUNE_VERIFY_ROUNDS (default 5) more interleaved pairs (kerntune verify);
# then benchmarks/latency/report.py writes the block "latency-showcase" of
# docs/case-studies.md: each campaign's search-phase gain, the confirmed ratio
# with its 95% interval over fresh boots, the share of the gain kept, the
# trials the warm campaign needed to reach the cold one's final gain, and
# verify's figure. Databases in build/latency-{related,cold,warm}.db (replaced).
#   benchmarks/latency/run.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "run.sh: build kerntune first (./scripts/setup)" >&2; exit 2; }
b=$root/build
rm -f "$b/latency-related.db" "$b/latency-cold.db" "$b/latency-warm.db" "$b/latency-verify.json"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
"$kt" tune "$root/benchmarks/latency/related.yaml" --db "$b/latency-related.db" --progress lines
"$kt" tune "$root/recipes/showcase-latency.yaml" --db "$b/latency-cold.db" --progress lines
"$kt" tune "$root/benchmarks/latency/warm.yaml" --db "$b/latency-warm.db" --progress lines
rounds=${KERNTUNE_VERIFY_ROUNDS:-5}
if [ "$rounds" -gt 0 ]; then
  rm -rf "$b/latency-bundle"
  if "$kt" export --db "$b/latency-cold.db" --best --out "$b/latency-bundle"; then
    "$kt" verify "$b/latency-bundle" --recipe "$root/recipes/showcase-latency.yaml" --repeats "$rounds" \
      --json > "$b/latency-verify.json" || true
  fi
fi
end=$(date +%s)
exec /usr/bin/python3 "$root/benchmarks/latency/report.py" --kerntune "$kt" \
  --related "$b/latency-related.db" --cold "$b/latency-cold.db" --warm "$b/latency-warm.db" \
  --verify "$b/latency-verify.json" --seconds $((end - start)) \
  --commit "$(git -C "$root" rev-parse --short HEAD)" \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/case-studies.md"
