#!/bin/sh
# Boot time by QEMU machine type (issue 20 item 3, docs/benchmarks.md "A trial
# by kind"): the same 1 GiB, 1-vCPU guest of Debian's 6.1 (direct kernel boot,
# kerntune's initramfs and agent) booted as `pc` (QEMU's default, i440FX),
# `q35` and `microvm,acpi=off` (no PCI, no ACPI: with ACPI on, the 6.1 kernel
# finds no timer to calibrate its TSC under TCG and hangs), round-robin over
# ROUNDS rounds so each round's three boots share the host's phase. Each boot
# is the baseline trial of a one-trial campaign (sysbench-memory, 1 repeat);
# benchmarks/trial-cost/machine_types_report.py writes the block
# "trial-cost-machine-types": per type its median boot time, the median of its
# per-round ratio to pc's boot, and whether every boot came up.
#   benchmarks/trial-cost/machine-types.sh [ROUNDS]    (default 5; databases in build/machine-types/)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-5}
kt=$root/build/kerntune
[ -x "$kt" ] || { echo "machine-types.sh: build kerntune first (./scripts/setup)" >&2; exit 2; }
out=$root/build/machine-types
rm -rf "$out"
mkdir -p "$out"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
r=1
while [ "$r" -le "$rounds" ]; do
  for m in pc q35 microvm; do
    case $m in
      pc) opts="[]" ;;
      q35) opts="[-M, q35]" ;;
      microvm) opts='[-M, "microvm,acpi=off"]' ;;
    esac
    cat > "$out/$m-$r.yaml" <<YAML
name: machine-$m-$r
seed: 1
search_spaces:
  - {file: $root/search-spaces/sysctl-vm.yaml, only: [vm.swappiness]}
target:
  kind: qemu
  memory: 1024M
  cpus: 1
  boot_timeout: 90s
  accel: tcg          # the host's KVM aborts; every type boots under TCG alike
  between_trials: reboot
  qemu_options: $opts
workload: $root/recipes/workloads/sysbench-memory.yaml
repeats: 1
warmup: 0
objectives: [{metric: bandwidth, direction: maximize}]
budget: {trials: 1}
noise: {confirm_top: 0}
YAML
    "$kt" tune "$out/$m-$r.yaml" --db "$out/$m-$r.db" --progress quiet > /dev/null 2>&1 || true
  done
  r=$((r + 1))
done
exec /usr/bin/python3 "$root/benchmarks/trial-cost/machine_types_report.py" --kerntune "$kt" --dir "$out" \
  --rounds "$rounds" --commit "$(git -C "$root" rev-parse --short HEAD)" \
  --load "$load_start → $(cut -d' ' -f1-3 /proc/loadavg)" --doc "$root/docs/benchmarks.md"
