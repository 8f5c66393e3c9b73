#!/usr/bin/env bash
# Kconfig build times through kerntune's Builder (linux-source-6.1,
# recipes/kconfig-tiny.yaml's tinyconfig plus serial console/initramfs essentials): a cold build (empty ccache, empty
# build cache), a one-symbol change (PRINTK_TIME, incremental in the same O=
# folder through ccache), and a cache hit (a proposal that resolves to an
# already built .config). Writes the "## Kconfig builds" section of
# docs/benchmarks.md (only that section).
#
# usage: benchmarks/kconfig/build-times.sh [BUILD_DIR]   (default: build)
# Needs: scripts/fetch-linux-source; the builder_build_test target built:
#   ninja -C BUILD_DIR builder_build_test
# Runs `nice -n 19 make -j2`: expect 15–60 minutes on a shared 2-core machine.
# Do not run it while the kconfig tests run (they share the build folder).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
exe=$build/tests/kbuild/builder_build_test
[[ -x $exe ]] || { echo "build-times: $exe missing (ninja -C $build builder_build_test)" >&2; exit 2; }
"$here/scripts/fetch-linux-source" >/dev/null
rm -rf "$build/kconfig-campaign-cache"   # no cached images, no earlier O= folder (shared with the kconfig tests)
ccache_dir=$(mktemp -d)
trap 'rm -rf "$ccache_dir"' EXIT
log=$(mktemp)
echo "build-times: running a cold build with an empty ccache ($ccache_dir); log $log" >&2
CCACHE_DIR=$ccache_dir "$exe" --gtest_filter='BuilderBuild.*' | tee "$log" >&2
line=$(grep -E '^cold build [0-9.]+ s, cache hit [0-9.]+ s, one-symbol rebuild [0-9.]+ s' "$log" | tail -n1)
[[ -n $line ]] || { echo "build-times: the builder test did not report times" >&2; exit 1; }
read -r cold hit incr < <(sed -E 's/^cold build ([0-9.]+) s, cache hit ([0-9.]+) s, one-symbol rebuild ([0-9.]+) s.*/\1 \2 \3/' <<<"$line")
cores=$(nproc)
load=$(cut -d' ' -f1-3 /proc/loadavg)
section=$(python3 - "$cold" "$hit" "$incr" "$cores" "$load" <<'PY'
import sys, datetime
cold, hit, incr = map(float, sys.argv[1:4]); cores, load = sys.argv[4], sys.argv[5]
print(f"""## Kconfig builds

`benchmarks/kconfig/build-times.sh` ({datetime.date.today()}, {cores} cores, load average
{load} at the end; `nice -n 19 make -j2`, other engineers compiling alongside):
linux-source-6.1, tinyconfig plus the serial console and initramfs essentials,
built by kerntune's Builder (`tests/kbuild/builder_build_test.cpp`; the kernel of
`recipes/kconfig-tiny.yaml`).

| step | seconds | ratio to the cold build |
|---|---:|---:|
| cold build (empty ccache, empty build cache) | {cold:.1f} | 1 |
| one-symbol change (PRINTK_TIME, same O= folder, ccache) | {incr:.1f} | {incr/cold:.3f} |
| cache hit (proposal resolving to a built .config: olddefconfig only) | {hit:.1f} | {hit/cold:.4f} |

A cache hit costs one `make olddefconfig`; a narrow symbol rebuilds a few
files and relinks; wide symbols (HZ, ACPI) rebuild most of the tree (see
docs/kconfig.md, "Choosing symbols").
""")
PY
)
python3 - "$here/docs/benchmarks.md" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
text = open(path).read() if __import__("os").path.exists(path) else "# Benchmarks\n"
pat = re.compile(r"^## Kconfig builds\n.*?(?=^## |\Z)", re.S | re.M)
text = pat.sub(lambda m: section + "\n", text) if pat.search(text) else text.rstrip() + "\n\n" + section
open(path, "w").write(text)
PY
echo "build-times: wrote the Kconfig builds section of docs/benchmarks.md" >&2
