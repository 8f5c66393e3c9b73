#!/usr/bin/env bash
# Times the README's first Quick start command from a clean clone, as a new
# user meets it: clone → `scripts/setup && build/kerntune tune
# recipes/quickstart.yaml`, every output line stamped with the seconds since
# the start, then reads the store for when the first trial finished. On a
# fresh Debian 12 machine this measures the whole first ten minutes (apt, the
# kernel image, the build, the first boot); on a machine that already has the
# packages it measures only what is left (the build, ccache permitting, and
# the campaign) — say which when quoting it.
#   benchmarks/quickstart/fresh.sh [CLONE_DIR]     (default /tmp/kerntune-fresh; replaced)
# Prints: seconds to setup done, to the first finished trial, to the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-/tmp/kerntune-fresh}
rm -rf "$dir"
git clone -q "$root" "$dir"
cd "$dir"
log=$dir/fresh.log
start=$(date +%s)
stamp() { while IFS= read -r line; do printf '%6d %s\n' "$(($(date +%s) - start))" "$line"; done; }
set +e
( ./scripts/setup && stdbuf -oL -eL ./build/kerntune tune recipes/quickstart.yaml ) 2>&1 | stamp > "$log"
rc=${PIPESTATUS[0]}
set -e
end=$(date +%s)
setup_done=$(awk '/setup: built/ {print $1; exit}' "$log")
first=$(sqlite3 "$dir/kerntune.db" "select min(finished_at) from trials" 2>/dev/null || true)
echo "fresh.sh: exit $rc; log $log"
echo "setup done after ${setup_done:-?} s"
if [[ -n $first ]]; then
  python3 -c "print(f'first trial finished after {float($first) - $start:.0f} s')"
fi
echo "quick start ended after $((end - start)) s"
