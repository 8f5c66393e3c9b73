#!/usr/bin/env bash
# The gate's false-alarm rate and power on the `command` target.
# A black box (awk, so thousands of runs stay cheap) prints a runtime with
# multiplicative lognormal noise of sigma NOISE (~10% CV, like TCG); the
# candidate configuration (slow: true) is EFFECT times slower. Each of RUNS
# gates uses its own noise seed. Counts exit codes per scenario:
#   identical:  candidate = default      (a flag here is a false alarm)
#   regression: candidate = slow (+5%)   (a flag here is a detection)
# Usage: benchmarks/gate/run.sh [KERNTUNE] [RUNS] [REPEATS] [MAX_REGRESSION]
set -euo pipefail
kt=${1:-build/kerntune}; runs=${2:-40}; repeats=${3:-250}; maxreg=${4:-0%}
noise=${NOISE:-0.10}; effect=${EFFECT:-1.05}
kt=$(realpath "$kt")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat > "$work/box.awk" <<'AWK'
BEGIN {
  slow = 0
  while ((getline line < ENVIRON["KERNTUNE_PARAMS"]) > 0) if (line ~ /"slow": *true/) slow = 1
  # awk's first draws after srand() of nearby seeds are correlated: mix the
  # seed and discard a few draws.
  srand((ENVIRON["SEED"] * 7919 + ENVIRON["KERNTUNE_TRIAL"] * 104729) % 2147483647)
  for (k = 0; k < 16; k++) rand()
  u1 = rand(); if (u1 < 1e-12) u1 = 1e-12; u2 = rand()
  z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2)
  v = 100 * (slow ? ENVIRON["EFFECT"] : 1) * exp(ENVIRON["NOISE"] * z)
  printf "KERNTUNE_METRIC runtime %.6f s\n", v
}
AWK
recipe() {  # $1 name, $2 default of slow, $3 seed
  cat <<YAML
name: $1
parameters:
  - {name: slow, domain: generic, type: bool, default: $2}
target:
  kind: command
  argv: [awk, -f, box.awk]
  timeout: 10s
  env: {NOISE: "$noise", EFFECT: "$effect", SEED: "$3"}
objectives:
  - {metric: runtime, direction: minimize}
budget: {trials: 1}
YAML
}
# Trial 0 of this one-trial campaign is the slow configuration.
recipe slowcamp true 0 > "$work/slow.yaml"
(cd "$work" && "$kt" -q tune slow.yaml --db "$work/slow.db" --progress quiet > /dev/null)
declare -A count
for scenario in identical regression; do for code in 0 1 2 3; do count[$scenario,$code]=0; done; done
start=$(date +%s)
# The scenarios alternate run by run, so a run cut short still gives both figures.
for ((i = 1; i <= runs; i++)); do
  for scenario in identical regression; do
    recipe gate false $((i + 1000)) > "$work/gate.yaml"
    cand=default; [[ $scenario == regression ]] && cand=0
    set +e
    (cd "$work" && "$kt" -q gate --recipe gate.yaml --db "$work/slow.db" --candidate "$cand" \
        --repeats "$repeats" --max-regression "$maxreg" --seed "$i" --warmup 0 > "$work/out.txt")
    code=$?
    set -e
    count[$scenario,$code]=$(( ${count[$scenario,$code]:-0} + 1 ))
    echo "$scenario run $i: exit $code  $(head -1 "$work/out.txt")" >&2
  done
done
secs=$(( $(date +%s) - start ))
echo "gate benchmark: $runs runs per scenario, $repeats pairs each, --max-regression $maxreg, noise sigma $noise, effect $effect, ${secs}s"
printf "%-11s %6s %11s %7s %13s\n" scenario "pass" "regression" "error" "inconclusive"
for scenario in identical regression; do
  printf "%-11s %6s %11s %7s %13s\n" "$scenario" "${count[$scenario,0]}" "${count[$scenario,1]}" "${count[$scenario,2]}" "${count[$scenario,3]}"
done
echo "false alarms: ${count[identical,1]}/$runs; detections: ${count[regression,1]}/$runs"
