#!/usr/bin/python3
"""Ask speed with two objectives: EHVI against ParEGO, side by side.

  benchmarks/bo/speed_mo.py [--build DIR] [--cases 30x6:10,100x10:6] [--q 1,4] [--no-docs]

Runs kt_bench_speed --objectives 2 --multi parego,ehvi: for each case n x d
and repeat, the same data set (two conflicting smooth objectives plus noise)
is told to a fresh optimizer of each method (same seed), then tell(last) +
ask(q) is timed in CPU seconds, the two methods alternating within a repeat.
Renders the medians and the ratio EHVI/ParEGO into docs/benchmarks.md
("Optimizer speed", block bo-speed-multi-objective). Run with /usr/bin/python3.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import analyze  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--cases", default="30x6:10,100x10:6")
    ap.add_argument("--q", default="1,4")
    ap.add_argument("--docs", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--no-docs", action="store_true")
    a = ap.parse_args()
    exe = os.path.join(a.build, "benchmarks", "bo", "kt_bench_speed")
    if not os.access(exe, os.X_OK):
        sys.exit(f"speed_mo.py: {exe} missing: build it (ninja -C {a.build} kt_bench_speed)")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["nice", "-n", "10", exe, "--out", out, "--cases", a.cases, "--q", a.q, "--objectives", "2",
                        "--multi", "parego,ehvi"], check=True, stderr=subprocess.DEVNULL)
        with open(os.path.join(out, "kerntune.json")) as f:
            cases = json.load(f)["cases"]
    by = {}
    for c in cases:
        by.setdefault((c["n"], c["d"], c["q"]), {})[c["multi"]] = c["cpu_seconds"]
    cmd = "benchmarks/bo/speed_mo.py" + "".join(f" {x}" for x in sys.argv[1:] if x != "--no-docs")
    lines = [f"Command: `{cmd}` (CPU seconds of tell + ask(q), median over repeats; "
             "each repeat times both methods on the same data in the same run).", "",
             "| n | d | q | repeats | ParEGO median | EHVI median | EHVI / ParEGO (median of per-repeat ratios) |",
             "|---|---|---|---|---|---|---|"]
    for (n, d, q), m in sorted(by.items()):
        p, e = m["parego"], m["ehvi"]
        ratio = statistics.median(x / y for x, y in zip(e, p))
        lines.append(f"| {n} | {d} | {q} | {len(p)} | {statistics.median(p):.3f} s | {statistics.median(e):.3f} s "
                     f"| {ratio:.2f} |")
    md = "\n".join(lines)
    print(md)
    if not a.no_docs:
        analyze.write_section(a.docs, "bo-speed-multi-objective", md)
        print(f"speed_mo.py: wrote the table into {a.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
