#!/bin/sh
# Regenerates the quick-start figure of docs/benchmarks.md: runs
# recipes/quickstart.yaml into a fresh database and writes `kerntune best`,
# the trial table's memory/throughput/swap columns and the wall time into the
# generated block "quickstart" of docs/benchmarks.md, and the confirmed
# figures (ratios with 95% intervals over the confirmation rounds, share of the
# gain kept) into the block "memory-showcase" of docs/case-studies.md. Then
# exports the recommendation (kerntune export, build/quickstart-bundle) and
# re-measures the bundle against the defaults on fresh boots, interleaved
# (kerntune verify --recipe, KERNTUNE_VERIFY_ROUNDS rounds, default 5), and
# writes whether that agrees with the confirmation's interval.
#   benchmarks/quickstart/run.sh [--db PATH]     (default: build/quickstart-bench.db, replaced)
#   benchmarks/quickstart/run.sh --recipe recipes/showcase-memory.yaml
#       the memory showcase: the same workload with the budget of a real
#       campaign, into build/showcase-memory-bench.db, writing the blocks
#       "showcase-memory" (benchmarks.md) and "memory-showcase-full"
#       (case-studies.md)
#   KERNTUNE_VERIFY_ROUNDS=0 skips the export and verify step
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
recipe=recipes/quickstart.yaml db= doc_block=quickstart case_block=memory-showcase
while [ $# -gt 0 ]; do
  case $1 in
    --db) db=$2; shift 2 ;;
    --recipe) recipe=$2; shift 2 ;;
    *) echo "run.sh: unknown argument '$1' (see the comment at the top)" >&2; exit 2 ;;
  esac
done
name=$(basename "$recipe" .yaml)
if [ "$name" != quickstart ]; then doc_block=$name case_block=memory-showcase-full; fi
[ -n "$db" ] || db=$root/build/$name-bench.db
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "run.sh: build kerntune first (scripts/setup, or ninja -C build kerntune)" >&2; exit 2; }
rm -f "$db"
start=$(date +%s)
"$kt" tune "$root/$recipe" --db "$db" --progress lines
end=$(date +%s)
rounds=${KERNTUNE_VERIFY_ROUNDS:-5}
verify_json=$root/build/$name-verify.json bundle=$root/build/$name-bundle
rm -f "$verify_json"
if [ "$rounds" -gt 0 ]; then
  rm -rf "$bundle"
  # (the defaults recommended: the bundle holds them, and verify measures no change)
  if "$kt" export --db "$db" --best --out "$bundle"; then
    "$kt" verify "$bundle" --recipe "$root/$recipe" --repeats "$rounds" --json > "$verify_json" || true
  fi
fi
vend=$(date +%s)
exec /usr/bin/python3 "$root/benchmarks/quickstart/report.py" --kerntune "$kt" --db "$db" \
  --seconds $((end - start)) --verify-seconds $((vend - end)) --verify "$verify_json" \
  --commit "$(git -C "$root" rev-parse --short HEAD)" --recipe "$recipe" \
  --doc-block "$doc_block" --case-block "$case_block" \
  --command "benchmarks/quickstart/run.sh$( [ "$name" = quickstart ] || echo " --recipe $recipe")" \
  --doc "$root/docs/benchmarks.md" --case-study "$root/docs/case-studies.md"
