#!/usr/bin/python3
"""The optimizer's own cost per trial in a real campaign: runs
`kerntune tune benchmarks/bo/recipe-30d.yaml` (30 real parameters, 150 trials,
a tiny Python black box) into a fresh SQLite store and reads the per-trial
`optimizer` stage timing back from it (docs/store.md: trials.timings_json).

  benchmarks/bo/tune_cost.py [--build DIR] [--kerntune PATH] [--trials N] [--no-docs]

Renders the result into docs/benchmarks.md ("Optimizer speed", block
bo-tune-cost). Goal (issue 4): under 0.25 s per trial at 150 trials.
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import analyze  # noqa: E402

GOAL = 0.25


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--kerntune", help="the kerntune executable (default BUILD/src/cli/kerntune)")
    ap.add_argument("--recipe", default=os.path.join(HERE, "recipe-30d.yaml"))
    ap.add_argument("--trials", type=int, help="override the recipe's budget")
    ap.add_argument("--docs", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--no-docs", action="store_true")
    a = ap.parse_args()
    # The recipe's command runs in its own folder: every path handed to
    # kerntune must be absolute (a relative --build made every trial fail).
    a.build = os.path.abspath(a.build)
    if a.kerntune:
        a.kerntune = os.path.abspath(a.kerntune)
    exe = a.kerntune or os.path.join(a.build, "kerntune")  # the CLI sits at the top of a build folder
    if not os.access(exe, os.X_OK):
        sys.exit(f"tune_cost.py: {exe} not found; build the `kerntune` target first")
    work = os.path.join(a.build, "bo-tune-cost")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    db = os.path.join(work, "kerntune.db")
    cmd = [exe, "tune", a.recipe, "--db", db, "--work-dir", os.path.join(work, "work"), "--progress", "lines"]
    if a.trials:
        cmd += ["--trials", str(a.trials)]
    start = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - start
    with open(os.path.join(work, "tune.log"), "w") as f:
        f.write(r.stdout)
    if r.returncode != 0:
        print(r.stdout[-3000:], file=sys.stderr)
        sys.exit(f"tune_cost.py: kerntune tune exited {r.returncode} (log {work}/tune.log)")
    con = sqlite3.connect(db)
    rows = con.execute("SELECT seq, status, json_extract(timings_json, '$.optimizer') FROM trials "
                       "WHERE kind = 'proposal' ORDER BY seq").fetchall()
    opt = [(seq, t) for seq, _, t in rows if t is not None]
    if not opt:
        sys.exit("tune_cost.py: no trial has an `optimizer` timing in the store")
    seqs = np.array([s for s, _ in opt])
    t = np.array([v for _, v in opt], dtype=float)
    last = t[-min(25, len(t)):]
    failed = sum(1 for _, s, _ in rows if s != "ok")
    md = "\n".join([
        f"Command: `benchmarks/bo/tune_cost.py` — `kerntune tune benchmarks/bo/recipe-30d.yaml` "
        f"(30 real parameters, {len(rows)} proposals + baseline, command target with a Python black box; "
        f"{failed} failed trials), wall time {wall:.0f} s on the shared 2-core machine. "
        "Optimizer stage per trial, read from the store (`trials.timings_json`, key `optimizer`):",
        "",
        "| trials | mean (s) | p50 (s) | p95 (s) | max (s) |",
        "|---|---|---|---|---|",
        f"| all {len(t)} | {t.mean():.3f} | {np.percentile(t, 50):.3f} | {np.percentile(t, 95):.3f} | {t.max():.3f} |",
        f"| last {len(last)} (seq {seqs[-len(last)]}–{seqs[-1]}) | {last.mean():.3f} | "
        f"{np.percentile(last, 50):.3f} | {np.percentile(last, 95):.3f} | {last.max():.3f} |",
        "",
        f"Goal: under {GOAL} s per trial at 150 trials — "
        + ("**met**" if np.percentile(last, 95) < GOAL else "**NOT met**")
        + f" (p95 of the last {len(last)} trials: {np.percentile(last, 95):.3f} s).",
    ])
    print(md)
    if not a.no_docs:
        analyze.write_section(a.docs, "bo-tune-cost", md)
        print(f"tune_cost.py: wrote the table into {a.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
