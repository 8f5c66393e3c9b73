#!/usr/bin/env python3
"""The latency probe's figures (benchmarks/latency/probe.sh): the search-phase
p99 ratio of mitigations=off to the defaults (one boot each), then the
confirmation's pairs of fresh boots (the defaults, then off) for p99 and the
GET rate, with the geometric-mean ratio and its Student-t 95% interval over
the per-pair log ratios, and the share of the search-phase gain that the
confirmation kept. Writes the block 'latency-probe' of --doc."""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quickstart"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block  # noqa: E402  (benchmarks/docblock.py)
from report import paired, rounds  # noqa: E402  (the quick start's pairing, shared)


def main():
    ap = argparse.ArgumentParser()
    for k in ("--kerntune", "--db", "--commit", "--load", "--doc"):
        ap.add_argument(k, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    a = ap.parse_args()
    trials = json.loads(subprocess.run([a.kerntune, "trials", "--db", a.db, "--json"], capture_output=True,
                                       text=True).stdout or "[]")
    base = next(t for t in trials if t.get("kind") == "baseline")
    cand = next((t for t in trials if t.get("kind") == "proposal" and t.get("params") != base.get("params")), None)
    if cand is None or base.get("status") != "ok" or cand.get("status") != "ok":
        sys.exit("probe_report.py: the campaign has no measured proposal that differs from the defaults")
    pooled = "get_p99" in (cand.get("pooled") or [])
    search = cand["metrics"]["get_p99"] / base["metrics"]["get_p99"]
    lines = [f"Commit {a.commit}, `benchmarks/latency/probe.sh` ({a.seconds // 60} min wall; host load averages "
             f"{a.load}). p99 {'pooled over all requests of the 3 measured repeats (distribution metric)' if pooled else 'per repeat, median of 3'}.",
             "",
             f"Search phase, one boot each: defaults p99 {base['metrics']['get_p99']:.2f} ms, "
             f"`mitigations=off` {cand['metrics']['get_p99']:.2f} ms, ratio **{search:.3f}** ({(search - 1) * 100:+.1f}%).",
             "",
             "| metric | pairs of fresh boots | defaults → off, per pair | ratio (geometric mean) | 95% interval |",
             "|---|---|---|---|---|"]
    kept = None
    for metric in ("get_p99", "get_rps"):
        r = rounds(trials, cand["params"], metric)
        if not r:
            continue
        g, lo, hi = paired(r)
        iv = "—" if lo is None else f"[{lo:.3f}, {hi:.3f}]"
        pairs = "; ".join(f"{x:.0f} → {y:.0f}" if x > 100 else f"{x:.2f} → {y:.2f}" for x, y in r)
        lines.append(f"| {metric} | {len(r)} | {pairs} | **{g:.3f}** ({(g - 1) * 100:+.1f}%) | {iv} |")
        if metric == "get_p99" and search < 1:
            kept = (1 - g) / (1 - search)
    if kept is not None:
        lines += ["", f"Share of the search-phase p99 gain kept on fresh boots: **{kept * 100:.0f}%**."]
    replace_block(a.doc, "latency-probe", "benchmarks/latency/probe.sh", "\n".join(lines))


if __name__ == "__main__":
    main()
