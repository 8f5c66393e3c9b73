#!/usr/bin/env bash
# Does `kerntune status --watch` slow a running campaign down?
# Runs the demo campaign (random optimizer, so trial time is the black box's,
# not the GP's) ROUNDS times without and ROUNDS times with a `status --watch`
# polling the same database. The two runs of a round are back to back and
# their order alternates (A B, B A, A B, …) so slow phases of a shared host
# hit both sides alike. Per round: the throughput ratio with/without (wall
# clock) and the ratio of tune's own CPU time (user+sys, which contention from
# the watcher would raise and which host load disturbs less). Prints the
# median of each per-round ratio with a 95% percentile bootstrap interval.
#
#   benchmarks/status/run.sh BUILD/kerntune [ROUNDS=16] [TRIALS=20] [INTERVAL=0.5]
#
# INTERVAL is the watch's refresh period; the default 2 s of `status --watch`
# is gentler than the 0.5 s used here. Run it under `nice -n 19` on a shared host.
set -euo pipefail
bin=$(realpath "${1:?usage: run.sh KERNTUNE [ROUNDS] [TRIALS] [INTERVAL]}")
rounds=${2:-16} trials=${3:-20} interval=${4:-0.5}
here=$(cd "$(dirname "$0")" && pwd)
demo=$here/../../docs/examples/demo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$demo/eval.py" "$work/"
sed -e "s/trials: 40/trials: $trials/" "$demo/recipe.yaml" > "$work/recipe.yaml"
echo "optimizer: {kind: random}" >> "$work/recipe.yaml"

python3 - "$bin" "$work" "$rounds" "$trials" "$interval" <<'PY'
import os, random, statistics, subprocess, sys, time

bin_, work, rounds, trials, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def run_one(db, watch):
    """Throughput (trials/s) and tune's CPU seconds (user+sys) of one campaign."""
    start = time.monotonic()
    tune = subprocess.Popen([bin_, "-q", "tune", f"{work}/recipe.yaml", "--db", db, "--progress", "quiet"],
                            stdout=subprocess.DEVNULL, cwd=work)
    watcher = None
    if watch:
        while not (os.path.exists(db) and os.path.getsize(db) > 0):
            time.sleep(0.05)
        watcher = subprocess.Popen([bin_, "status", "--db", db, "--watch", "--interval", interval],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(tune.pid, 0)
    tune.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    if watcher:
        watcher.terminate()
        watcher.wait()
    if tune.returncode != 0:
        sys.exit(f"tune failed with exit {tune.returncode}")
    return trials / wall, usage.ru_utime + usage.ru_stime

def median_ci(values, resamples=10000, seed=1):
    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    return statistics.median(values), meds[int(0.025 * resamples)], meds[int(0.975 * resamples) - 1]

tput_ratio, cpu_ratio, without, with_ = [], [], [], []
for r in range(rounds):
    order = (False, True) if r % 2 == 0 else (True, False)
    res = {}
    for watch in order:
        res[watch] = run_one(f"{work}/r{r}-{int(watch)}.db", watch)
    without.append(res[False][0])
    with_.append(res[True][0])
    tput_ratio.append(res[True][0] / res[False][0])
    cpu_ratio.append(res[True][1] / res[False][1])
    print(f"round {r + 1}: without {res[False][0]:.3f} trials/s ({res[False][1]:.2f} s CPU), "
          f"with {res[True][0]:.3f} trials/s ({res[True][1]:.2f} s CPU)", file=sys.stderr, flush=True)

print(f"rounds {rounds} (order alternating), {trials} trials each, watch interval {interval} s")
print(f"median throughput without status --watch: {statistics.median(without):.3f} trials/s")
print(f"median throughput with    status --watch: {statistics.median(with_):.3f} trials/s")
m, lo, hi = median_ci(tput_ratio)
print(f"throughput ratio with/without, median of per-round ratios: {m:.3f} [95% CI {lo:.3f}, {hi:.3f}]")
m, lo, hi = median_ci(cpu_ratio)
print(f"tune CPU time ratio with/without, median of per-round ratios: {m:.3f} [95% CI {lo:.3f}, {hi:.3f}]")
print("per-round throughput ratios: " + ", ".join(f"{x:.3f}" for x in tput_ratio))
PY
