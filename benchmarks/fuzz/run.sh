#!/usr/bin/env bash
# Fuzzes one libFuzzer target (or all) for a bounded time under ASan + UBSan
# and prints its figures. Not part of CI (docs/hardening.md, "Fuzzing").
#   benchmarks/fuzz/run.sh TARGET SECONDS         TARGET: expr space recipe kconfig metrics guest_protocol store_json export | all
#   benchmarks/fuzz/run.sh --cpu TARGET SECONDS   SECONDS of the fuzzer's CPU time (user + sys), however
#                                                 long that takes at nice 19 on a loaded machine: the
#                                                 fuzzer is stopped by SIGINT (libFuzzer then prints its
#                                                 final stats); KERNTUNE_FUZZ_MAX_WALL (default 6 h) caps
#                                                 the wall time
#   KERNTUNE_FUZZ_TIMEOUT (default 10): libFuzzer's -timeout, in seconds of wall time per input; raise it
#   on a loaded machine, where a 50,001-term expr chain (~0.4 CPU-s under ASan) takes > 10 s at nice 19
# Builds with clang++-16 into ./build-fuzz (KERNTUNE_FUZZ=ON; installs clang-16
# and libclang-rt-16-dev through apt when missing), starts from the seed corpus
# tests/fuzz/corpus/TARGET plus what earlier runs found (build-fuzz/corpus/TARGET),
# runs at nice 19 on one core, and writes:
#   build-fuzz/logs/TARGET.log          libFuzzer's output
#   build-fuzz/artifacts/TARGET/        crash-*, timeout-*, leak-*, oom-* inputs (and slow-unit-* reports)
#   build-fuzz/results.tsv              one line per run: date target wall-seconds cpu-seconds execs
#                                       exec/s cov ft corpus crashes
# A crash input found goes to tests/fuzz/regressions/TARGET/ (by hand, with the
# fix): the unit test fuzz_replay_TARGET then replays it in every build.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
targets_all=(expr space recipe kconfig metrics guest_protocol store_json export)
cpu_mode=0
if [[ ${1:-} == --cpu ]]; then cpu_mode=1; shift; fi
if (($# != 2)); then sed -n '2,21p' "$0"; exit 2; fi
target=$1 seconds=$2
[[ $seconds =~ ^[0-9]+$ ]] || { echo "run.sh: SECONDS must be a whole number" >&2; exit 2; }
if [[ $target == all ]]; then
  flag=(); ((cpu_mode)) && flag=(--cpu)
  for t in "${targets_all[@]}"; do "$0" "${flag[@]}" "$t" "$seconds"; done
  exit 0
fi
[[ " ${targets_all[*]} " == *" $target "* ]] || { echo "run.sh: unknown target '$target' (${targets_all[*]} | all)" >&2; exit 2; }

build=${KERNTUNE_FUZZ_BUILD_DIR:-$here/build-fuzz}
if ! command -v clang++-16 >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-16-dev 2>/dev/null | grep -q 'ok installed'; then
  echo "run.sh: installing clang-16 libclang-rt-16-dev" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang-16 libclang-rt-16-dev >/dev/null
fi
if [[ ! -f $build/build.ninja ]]; then
  CXX=clang++-16 CC=clang-16 cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=None \
    "-DCMAKE_CXX_FLAGS=-O1 -g" -DKERNTUNE_FUZZ=ON -DKERNTUNE_BUILD_BENCHMARKS=OFF \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
fi
# KERNTUNE_FUZZ_NO_BUILD=1: use the executable as it is (e.g. while ninja runs).
[[ ${KERNTUNE_FUZZ_NO_BUILD:-0} == 1 ]] || nice -n 19 ninja -C "$build" "fuzz_$target" >/dev/null

work=$build/corpus/$target artifacts=$build/artifacts/$target
mkdir -p "$work" "$artifacts" "$build/logs"
log=$build/logs/$target.log
wall=$seconds
((cpu_mode)) && wall=${KERNTUNE_FUZZ_MAX_WALL:-21600}
echo "run.sh: fuzzing $target for $seconds $( ((cpu_mode)) && echo CPU-)s (log: $log)" >&2
# -max_len bounds an input (16 KiB holds every seed); -timeout flags a hang
# (one input taking KERNTUNE_FUZZ_TIMEOUT s of wall time); -rss_limit_mb flags
# runaway memory; LSan is on.
status=0 started=$(date +%s)
stamp=$build/logs/$target.started
touch "$stamp"
(cd "$artifacts" && exec /usr/bin/time -f 'cpu_seconds %U %S' -o "$build/logs/$target.cpu" nice -n 19 "$build/tests/fuzz/fuzz_$target" \
  -max_total_time="$wall" -max_len=16384 -timeout="${KERNTUNE_FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$work" "$here/tests/fuzz/corpus/$target") >"$log" 2>&1 &
timer=$!
interrupted=0
if ((cpu_mode)); then
  # The fuzzer is the child of /usr/bin/time; its utime + stime (clock ticks,
  # /proc/PID/stat fields 14 and 15) are polled until the budget is spent.
  tick=$(getconf CLK_TCK) fuzzer=
  while kill -0 "$timer" 2>/dev/null; do
    [[ -n $fuzzer ]] || fuzzer=$(pgrep -P "$timer" | head -n1 || true)
    if [[ -n $fuzzer && -r /proc/$fuzzer/stat ]]; then
      used=$(awk -v t="$tick" '{sub(/^.*\) /, ""); printf "%d", ($12 + $13) / t}' "/proc/$fuzzer/stat" 2>/dev/null || echo 0)
      if ((used >= seconds)); then kill -INT "$fuzzer" 2>/dev/null || true; interrupted=1; break; fi
    fi
    sleep 2
  done
fi
wait "$timer" || status=$?
# libFuzzer exits 72 (-interrupted_exit_code) after a SIGINT it handled.
((interrupted && status == 72)) && status=0

# Figures: the last status line and the final stats.
last=$(grep -E '^#[0-9]+' "$log" | tail -n1 || true)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
# slow-unit-* files are libFuzzer's reports of inputs over 10 s of wall time,
# not failures; artifacts of earlier runs (older than this run's start) are not counted.
crashes=$(find "$artifacts" -type f ! -name 'slow-unit-*' -newer "$stamp" | wc -l)
cpu=$(awk '/^cpu_seconds/ {printf "%.0f", $2 + $3}' "$build/logs/$target.cpu" 2>/dev/null || true)
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$(($(date +%s) - started))" "${cpu:-?}" "${execs:-?}" \
  "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" | tee -a "$build/results.tsv"
if ((status != 0)) || ((crashes > 0)); then
  echo "run.sh: $target: libFuzzer exit $status, $crashes new artifact(s) in $artifacts" >&2
  grep -m3 -E 'ERROR|SUMMARY|runtime error' "$log" >&2 || true
  exit 1
fi
