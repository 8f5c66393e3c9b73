#!/usr/bin/env python3
"""The quick start's measurement noise from campaigns of fresh boots at the
defaults (benchmarks/quickstart/noise.sh): per metric the spread between
boots and within a boot, the share of the variance that is boot to boot, and
how many interleaved pairs of fresh boots a paired claim would need.

A paired claim "the candidate loses at most 5%" needs the 95% interval of the
mean per-pair log ratio (docs/recommendation.md) to end above log(0.95) when
the true ratio is 1: t(0.975, n-1) * sd_pair / sqrt(n) <= |log 0.95|, sd_pair
being the spread of log(b/a) over pairs of fresh boots. Pairs of two boots of
the same (default) configuration measure it directly (an A/A test); with
independent boots sd_pair = sqrt(2) * sd(log per-boot value). --claim R sets
the ratio of the claim (default 0.95: a 5% claim; 0.88 for a 12% latency
claim), the margin being |log R|."""
import argparse
import json
import math
import os
import statistics as st
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block  # noqa: E402  (benchmarks/docblock.py)

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t975(df):
    keys = sorted(T975)
    for k in keys:
        if df <= k:
            return T975[k]
    return 1.96


def pairs_needed(sd_pair, margin=-math.log(0.95)):
    for n in range(2, 100000):
        if t975(n - 1) * sd_pair / math.sqrt(n) <= margin:
            return n
    return None


def trials(kerntune, db):
    out = subprocess.run([kerntune, "trials", "--db", db, "--json"], check=True, capture_output=True, text=True).stdout
    return [t for t in json.loads(out) if t.get("status") == "ok"]


def analyse(ts, metric, margin):
    boots = [t["samples"][metric] for t in ts if t.get("samples", {}).get(metric)]
    if len(boots) < 2:
        return None
    per_boot = [st.median(s) for s in boots]
    logs = [math.log(v) for v in per_boot]
    within_cv = math.sqrt(st.mean([(st.stdev(s) / st.mean(s)) ** 2 for s in boots if len(s) >= 2]))
    # One-way random effects on log values: within-boot variance of one
    # repeat, and the boot component left in the boot means beyond it.
    w = st.mean([st.variance([math.log(x) for x in s]) for s in boots if len(s) >= 2])
    n_rep = st.mean([len(s) for s in boots])
    between = max(0.0, st.variance([st.mean([math.log(x) for x in s]) for s in boots]) - w / n_rep)
    sd_log = st.stdev(logs)
    adjacent = [logs[i + 1] - logs[i] for i in range(0, len(logs) - 1, 2)]
    sd_pair_iid = math.sqrt(2) * sd_log
    return {
        "boots": len(boots), "repeats": round(n_rep, 1),
        "per_boot": [round(v, 1) for v in per_boot],
        "boot_cv": st.stdev(per_boot) / st.mean(per_boot),
        "within_cv": within_cv,
        "boot_share": between / (between + w) if between + w > 0 else 0.0,
        "sd_pair": sd_pair_iid,
        "sd_pair_aa": st.stdev(adjacent) if len(adjacent) >= 2 else None,
        "pairs": pairs_needed(sd_pair_iid, margin),
        "first_vs_rest": st.mean([s[0] / st.median(s[1:]) for s in boots if len(s) >= 3]),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kerntune", required=True)
    ap.add_argument("--db", action="append", required=True)
    ap.add_argument("--metric", action="append")
    ap.add_argument("--doc", help="write the table into this file's block 'noise' instead of stdout")
    ap.add_argument("--load", default="", help="host load averages while it ran (one line)")
    ap.add_argument("--claim", type=float, default=0.95,
                    help="ratio of the claim the pairs are counted for (0.95: a 5%% claim)")
    ap.add_argument("--block", default="noise", help="name of the generated block in --doc")
    ap.add_argument("--script", default="benchmarks/quickstart/noise.sh", help="the script named in the block")
    a = ap.parse_args()
    if not 0 < a.claim < 1:
        ap.error("--claim must be between 0 and 1")
    margin = -math.log(a.claim)
    claim = f"{1 - a.claim:.0%}"
    metrics = a.metric or ["get_rps", "get_p50", "sys.workload_mem_mean_kb"]
    rows = []
    print = rows.append  # noqa: A001 (the table is collected, then printed or written)
    print("| campaign | metric | boots × repeats | per-boot medians | CV between boots | CV within a boot (one repeat) "
          "| boot-to-boot share of variance | first measured repeat / median of the rest | sd of log pair ratio | "
          f"pairs of fresh boots for a {claim} claim |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for db in a.db:
        ts = trials(a.kerntune, db)
        for m in metrics:
            r = analyse(ts, m, margin)
            if not r:
                continue
            print(f"| {db.rsplit('/', 1)[-1]} | {m} | {r['boots']} × {r['repeats']} | {', '.join(map(str, r['per_boot']))} | "
                  f"{r['boot_cv']:.1%} | {r['within_cv']:.1%} | {r['boot_share']:.0%} | {r['first_vs_rest']:.3f} | "
                  f"{r['sd_pair']:.3f} | {r['pairs'] if r['pairs'] else '> 100000'} ({2 * r['pairs'] if r['pairs'] else '—'} boots) |")
    table = "\n".join(rows)
    if a.load:
        table += f"\n\nHost load (1/5/15-minute load averages of the 2-core host) at the start and the end: {a.load}."
    if not a.doc:
        __builtins__.print(table)
        return
    replace_block(a.doc, a.block, a.script, table)


if __name__ == "__main__":
    main()
