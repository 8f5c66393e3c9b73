#!/usr/bin/env bash
# Memory and time of a long campaign (docs/benchmarks.md, "Memory and time").
#   benchmarks/memory/run.sh flat [TRIALS] [DEADLINE_S]   peak RSS + optimizer time per trial
#   benchmarks/memory/run.sh leaks [TRIALS]               the campaign under LeakSanitizer
# flat: runs recipe-flat.yaml (GP optimizer, fast black box) with TRIALS
#   (default 2000) through `/usr/bin/time -v`; with DEADLINE_S the campaign is
#   stopped by SIGTERM at the deadline (it resumes: run the same command again;
#   peak RSS is then the highest over the runs). Needs ./build/kerntune
#   (KERNTUNE_BIN overrides). Prints peak RSS and the stored `optimizer`
#   timings per trial, binned by n.
# leaks: a TRIALS-trial (default 50) campaign by the ASan build's kerntune
#   (./build-asan from scripts/test-sanitized; KERNTUNE_ASAN_BIN overrides)
#   with detect_leaks=1: exit 0 means no leak was reported.
#   benchmarks/memory/run.sh valgrind [TRIALS]          the same campaign (default
#   50 trials) of ./build/kerntune under valgrind memcheck (--leak-check=full).
# Work folder: ./build-memory (KERNTUNE_MEMORY_DIR).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:-}
work=${KERNTUNE_MEMORY_DIR:-$here/build-memory}
mkdir -p "$work"
cp "$here/benchmarks/memory/blackbox.py" "$work/"

case $mode in
  flat)
    trials=${2:-2000} deadline=${3:-0}
    bin=${KERNTUNE_BIN:-$here/build/kerntune}
    sed "s/trials: 2000/trials: $trials/" "$here/benchmarks/memory/recipe-flat.yaml" >"$work/flat.yaml"
    db=$work/flat-$trials.db
    cmd=(/usr/bin/time -v -o "$work/time-$trials.txt" nice -n 10 "$bin" tune "$work/flat.yaml" --db "$db" --progress quiet)
    start=$(date +%s)
    status=0
    if ((deadline > 0)); then
      (cd "$work" && timeout --signal=TERM --kill-after=60 "$deadline" "${cmd[@]}") || status=$?
    else
      (cd "$work" && "${cmd[@]}") || status=$?
    fi
    echo "memory: tune exit $status after $(($(date +%s) - start)) s" >&2
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time-$trials.txt")
    echo "$rss_kb" >>"$work/peak-rss-$trials.kb"
    "$bin" trials --db "$db" --json >"$work/trials-$trials.json"
    python3 - "$work/trials-$trials.json" "$work/peak-rss-$trials.kb" <<'PY'
import json, statistics, sys
trials = json.load(open(sys.argv[1]))
peak = max(int(x) for x in open(sys.argv[2]).read().split())
opt = [(t["seq"], t["timings"].get("optimizer", 0.0)) for t in trials if t.get("kind") == "proposal"]
print(f"trials stored: {len(trials)}; peak RSS over the runs: {peak / 1024:.1f} MiB")
print("| trials n | proposals | optimizer s/trial median | p95 | max |")
print("|---|---|---|---|---|")
edges = [1, 50, 100, 200, 300, 500, 750, 1000, 1250, 1500, 1750, 2001]
for lo, hi in zip(edges, edges[1:]):
    xs = sorted(s for n, s in opt if lo <= n < hi)
    if not xs:
        continue
    p95 = xs[min(len(xs) - 1, int(0.95 * len(xs)))]
    print(f"| {lo}–{hi - 1} | {len(xs)} | {statistics.median(xs):.3f} | {p95:.3f} | {xs[-1]:.3f} |")
total = sum(s for _, s in opt)
print(f"optimizer total: {total:.0f} s over {len(opt)} proposals")
PY
    ;;
  leaks)
    trials=${2:-50}
    bin=${KERNTUNE_ASAN_BIN:-$here/build-asan/kerntune}
    sed "s/trials: 2000/trials: $trials/" "$here/benchmarks/memory/recipe-flat.yaml" >"$work/leaks.yaml"
    rm -f "$work/leaks.db"*
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
    export LSAN_OPTIONS=exitcode=23:report_objects=1
    status=0
    (cd "$work" && "$bin" tune "$work/leaks.yaml" --db "$work/leaks.db" --progress quiet) 2>"$work/leaks.log" || status=$?
    n=$("$bin" trials --db "$work/leaks.db" --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    if ((status == 0)); then
      echo "leaks: $n trials, exit 0, no leak reported by LeakSanitizer"
    else
      echo "leaks: $n trials, exit $status (23 = LeakSanitizer found leaks); see $work/leaks.log"
      grep -m5 -E 'ERROR|SUMMARY' "$work/leaks.log" || true
      exit 1
    fi
    ;;
  valgrind)
    trials=${2:-50}
    bin=${KERNTUNE_BIN:-$here/build/kerntune}
    sed "s/trials: 2000/trials: $trials/" "$here/benchmarks/memory/recipe-flat.yaml" >"$work/valgrind.yaml"
    rm -f "$work/valgrind.db"*
    status=0
    (cd "$work" && nice -n 10 valgrind --leak-check=full --show-leak-kinds=definite,indirect \
      --errors-for-leak-kinds=definite,indirect --error-exitcode=42 --log-file="$work/valgrind.log" \
      "$bin" tune "$work/valgrind.yaml" --db "$work/valgrind.db" --progress quiet) >/dev/null || status=$?
    n=$("$bin" trials --db "$work/valgrind.db" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    echo "valgrind: $n trials, exit $status (42 = memcheck errors or definite/indirect leaks)"
    grep -E 'definitely lost|indirectly lost|possibly lost|still reachable|ERROR SUMMARY' "$work/valgrind.log" || true
    ((status == 0)) || exit 1
    ;;
  *) sed -n '2,18p' "$0"; exit 2 ;;
esac
