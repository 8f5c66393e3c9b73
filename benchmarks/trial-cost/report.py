#!/usr/bin/env python3
"""Reused-VM against rebooted trials from one campaign's stored timings
(benchmarks/trial-cost/run.sh): the ratio of the median trial times and the
median share of each stage, written into the block 'trial-cost' of --doc."""
import argparse
import json
import statistics as st
import subprocess

NOT_STAGES = {"total", "optimizer", "cache_hit", "kernel_builds"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kerntune", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--load", default="")
    ap.add_argument("--doc", required=True)
    a = ap.parse_args()
    out = subprocess.run([a.kerntune, "trials", "--db", a.db, "--json"], check=True, capture_output=True,
                         text=True).stdout
    kinds = {"rebooted": [], "reused": []}
    for t in json.loads(out):
        tm = t.get("timings") or {}
        if t.get("status") != "ok" or not tm.get("total"):
            continue
        kinds["rebooted" if tm.get("boot", 0) > 0 else "reused"].append(tm)
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
    body = (f"Commit {a.commit}, `benchmarks/trial-cost/run.sh` (recipes/reuse-vs-reboot.yaml, one campaign; "
            f"host load averages {a.load}).\n\n" + "\n".join(rows))
    begin = "<!-- BEGIN generated:trial-cost (benchmarks/trial-cost; do not edit by hand) -->"
    end = "<!-- END generated:trial-cost -->"
    with open(a.doc) as f:
        text = f.read()
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text += "\n" + block + "\n"
    with open(a.doc, "w") as f:
        f.write(text)
    print(body)


if __name__ == "__main__":
    main()
