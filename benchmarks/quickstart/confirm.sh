#!/bin/sh
# Re-measures one trial of the quick-start campaign against the defaults on
# fresh boots, interleaved (kerntune gate: A B B A …, one fresh boot per run),
# for the memory objective: the confirmed figure of a candidate that the
# campaign's recommendation did not confirm (docs/case-studies.md).
#   benchmarks/quickstart/confirm.sh TRIAL [ROUNDS]   (db: build/quickstart-bench.db; default 5 rounds)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
trial=$1
rounds=${2:-5}
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "confirm.sh: build kerntune first" >&2; exit 2; }
"$kt" gate --recipe "$root/recipes/quickstart.yaml" --db "$root/build/quickstart-bench.db" --candidate "$trial" \
  --repeats "$rounds" --metric sys.workload_mem_mean_kb --max-regression 2% --json > "$root/build/quickstart-confirm-$trial.json" || true
/usr/bin/python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))
print(json.dumps({k: g.get(k) for k in ("metric", "decision", "ratio", "message", "baseline_values", "candidate_values")}, indent=1))
' "$root/build/quickstart-confirm-$trial.json"
