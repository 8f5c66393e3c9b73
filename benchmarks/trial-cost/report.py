#!/usr/bin/env python3
"""Rebooted, restored (snapshot loaded) and reused-VM trials from the stored
timings of the campaigns of benchmarks/trial-cost/run.sh: each kind's median
trial time over the median rebooted trial's and the median share of each
stage, written into the block 'trial-cost' of --doc."""
import argparse
import json
import os
import statistics as st
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block  # noqa: E402  (benchmarks/docblock.py)

NOT_STAGES = {"total", "optimizer", "cache_hit", "kernel_builds", "ccache_hits", "ccache_misses"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kerntune", required=True)
    ap.add_argument("--db", required=True, action="append")
    ap.add_argument("--commit", required=True)
    ap.add_argument("--load", default="")
    ap.add_argument("--doc", required=True)
    a = ap.parse_args()
    kinds = {"rebooted": [], "restored": [], "reused": []}
    for db in a.db:
        out = subprocess.run([a.kerntune, "trials", "--db", db, "--json"], check=True, capture_output=True,
                             text=True).stdout
        for t in json.loads(out):
            tm = t.get("timings") or {}
            if t.get("status") != "ok" or not tm.get("total"):
                continue
            kind = "rebooted" if tm.get("boot", 0) > 0 else "restored" if tm.get("snapshot_load", 0) > 0 else "reused"
            kinds[kind].append(tm)
    rows = ["| trial kind | trials | median time / median rebooted trial's | median share by stage |", "|---|---|---|---|"]
    ref = st.median(t["total"] for t in kinds["rebooted"]) if kinds["rebooted"] else None
    for k, ts in kinds.items():
        if not ts:
            rows.append(f"| {k} | 0 | — | — |")
            continue
        med = st.median(t["total"] for t in ts)
        stages = {}
        for t in ts:
            for s, v in t.items():
                if s not in NOT_STAGES:
                    stages.setdefault(s, []).append(v / t["total"])
        shares = ", ".join(f"{s} {st.median(v):.0%}" for s, v in sorted(stages.items(), key=lambda kv: -st.median(kv[1])))
        rows.append(f"| {k} | {len(ts)} | {med / ref:.3f} | {shares} |" if ref else f"| {k} | {len(ts)} | — | {shares} |")
    body = (f"Commit {a.commit}, `benchmarks/trial-cost/run.sh` (recipes/reuse-vs-reboot.yaml as shipped and with "
            f"between_trials: reuse, one campaign each, one after the other; "
            f"host load averages {a.load}).\n\n" + "\n".join(rows))
    replace_block(a.doc, "trial-cost", "benchmarks/trial-cost", body)
    print(body)


if __name__ == "__main__":
    main()
