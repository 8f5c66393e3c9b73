#!/bin/sh
# A libvirt trial against a qemu trial, side by side in one run: the same
# recipe (recipes: written here; sysctls vm.swappiness and vm.dirty_ratio, a
# probe workload, reuse_vm: false so that every trial boots) on `kind: qemu`
# and on `kind: libvirt`, campaigns alternating qemu, libvirt, qemu, libvirt…
# (ROUNDS each, TRIALS trials per campaign), both with accel: tcg. Prints the
# median trial time and the median boot time of each kind and their ratios,
# libvirt / qemu — ratios from one run, not absolute times.
#   benchmarks/libvirt/run.sh [ROUNDS] [TRIALS]     (default 2 rounds x 3 trials)
# Needs: build/kerntune, a kernel (scripts/fetch-kernel or $KERNTUNE_KERNEL),
# libvirtd (scripts/libvirt-start, run here).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-2}
trials=${2:-3}
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "run.sh: build kerntune first (./scripts/setup)" >&2; exit 2; }
"$root/scripts/libvirt-start" >/dev/null
work=$(mktemp -d /tmp/kt-bench-libvirt.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/probe.yaml" <<'Y'
name: probe
command: [sh, -c, "echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness)"]
repeats: 1
warmup: 0
timeout: 60s
metrics:
  - {name: swappiness, kerntune_metric: true}
Y
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
i=0
while [ "$i" -lt "$rounds" ]; do
  for kind in qemu libvirt; do
    cat >"$work/$kind-$i.yaml" <<Y
name: bench-$kind-$i
seed: $i
parameters:
  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 200], default: 60}
  - {name: vm.dirty_ratio, domain: sysctl, type: int, range: [5, 60], default: 20}
target: {kind: $kind, memory: 256M, accel: tcg, boot_timeout: 180s, reuse_vm: false}
workload: probe.yaml
optimizer: {kind: random}
objectives: [{metric: swappiness, direction: minimize}]
budget: {trials: $trials}
Y
    "$kt" tune "$work/$kind-$i.yaml" --db "$work/$kind-$i.db" --work-dir "$work/work" >/dev/null 2>"$work/$kind-$i.log" \
      || { echo "run.sh: the $kind campaign failed:" >&2; tail -n 20 "$work/$kind-$i.log" >&2; exit 1; }
    "$kt" trials --db "$work/$kind-$i.db" --campaign "bench-$kind-$i" --json >"$work/$kind-$i.json"
  done
  i=$((i + 1))
done
echo "kerntune $(git -C "$root" rev-parse --short HEAD), $rounds rounds x $trials trials per kind, accel tcg, reuse_vm false"
echo "load: $load_start -> $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$work" <<'PY'
import glob, json, os, statistics as st, sys
def load(kind):
    ts = []
    for p in sorted(glob.glob(os.path.join(sys.argv[1], kind + "-*.json"))):
        ts += [t.get("timings") or {} for t in json.load(open(p)) if t.get("status") == "ok"]
    return [t for t in ts if t.get("total")]
q, l = load("qemu"), load("libvirt")
print("| kind | ok trials | median trial / median qemu trial | median boot / median qemu boot |")
print("|---|---|---|---|")
qt, qb = st.median(t["total"] for t in q), st.median(t["boot"] for t in q)
for name, ts in (("qemu", q), ("libvirt", l)):
    print(f"| {name} | {len(ts)} | {st.median(t['total'] for t in ts) / qt:.2f} | {st.median(t['boot'] for t in ts) / qb:.2f} |")
PY
