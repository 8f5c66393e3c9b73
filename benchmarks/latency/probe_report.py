#!/usr/bin/env python3
"""The latency probe's figures (benchmarks/latency/probe.sh): the first look's
p99 ratio of mitigations=off to the defaults (one boot each), then the gate's
interleaved pairs of fresh boots (the defaults, then off): each pair's p99,
the geometric-mean ratio with its Student-t 95% interval over the per-pair log
ratios, and the gate's own bootstrap interval and decision. Writes the block
'latency-probe' of --doc."""
import argparse
import json
import math
import os
import statistics as st
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quickstart"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block  # noqa: E402  (benchmarks/docblock.py)
from report import paired  # noqa: E402  (the quick start's pairing, shared)


def main():
    ap = argparse.ArgumentParser()
    for k in ("--kerntune", "--db", "--gate", "--commit", "--load", "--doc"):
        ap.add_argument(k, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    a = ap.parse_args()
    trials = json.loads(subprocess.run([a.kerntune, "trials", "--db", a.db, "--json"], capture_output=True,
                                       text=True).stdout or "[]")
    base = next(t for t in trials if t.get("kind") == "baseline")
    cand = next((t for t in trials if t.get("kind") == "proposal" and t.get("params") != base.get("params")), None)
    if cand is None or base.get("status") != "ok" or cand.get("status") != "ok":
        sys.exit("probe_report.py: the campaign has no measured proposal that differs from the defaults")
    if cand["seq"] != 1 or cand["params"].get("mitigations") != "off":
        sys.exit("probe_report.py: trial 1 is not mitigations=off (the gate ran --candidate 1)")
    pooled = "get_p99" in (cand.get("pooled") or [])
    search = cand["metrics"]["get_p99"] / base["metrics"]["get_p99"]
    with open(a.gate) as f:
        gate = json.load(f)
    pairs = list(zip(gate["baseline_values"], gate["candidate_values"]))
    lines = [f"Commit {a.commit}, `benchmarks/latency/probe.sh` ({a.seconds // 60} min wall; host load averages "
             f"{a.load}). p99 {'pooled over all requests of the 3 measured repeats (distribution metric)' if pooled else 'per repeat, median of 3'}.",
             "",
             f"First look, one boot each: defaults p99 {base['metrics']['get_p99']:.2f} ms, "
             f"`mitigations=off` {cand['metrics']['get_p99']:.2f} ms, ratio **{search:.3f}** ({(search - 1) * 100:+.1f}%).",
             ""]
    if len(pairs) >= 2:
        g, lo, hi = paired(pairs)
        lines += ["| metric | pairs of fresh boots | defaults → off, per pair | ratio (geometric mean) | 95% interval (t) | gate: bootstrap 95% | gate's decision |",
                  "|---|---|---|---|---|---|---|",
                  f"| get_p99 | {len(pairs)} | {'; '.join(f'{x:.2f} → {y:.2f}' for x, y in pairs)} | **{g:.3f}** "
                  f"({(g - 1) * 100:+.1f}%) | [{lo:.3f}, {hi:.3f}] | "
                  f"[{gate['ratio']['lo']:.3f}, {gate['ratio']['hi']:.3f}] | {gate['decision']} |"]
        sd = st.stdev(math.log(y / x) for x, y in pairs)
        effect = abs(math.log(g))
        if effect > 0:
            lines += ["", f"Spread of the per-pair log ratio: sd {sd:.3f}. Were the effect what these pairs measured "
                      f"({(g - 1) * 100:+.1f}%), an interval excluding no change would take about "
                      f"{math.ceil((1.96 * sd / effect) ** 2)} pairs, and 80% power to show it about "
                      f"{math.ceil(((1.96 + 0.84) * sd / effect) ** 2)} pairs."]
    else:
        lines.append(f"The gate measured no pairs: {gate.get('message', '')}")
    replace_block(a.doc, "latency-probe", "benchmarks/latency/probe.sh", "\n".join(lines))


if __name__ == "__main__":
    main()
