#!/usr/bin/env python3
"""Early stopping on against off (benchmarks/trial-cost/early-stop.sh): per
seed, the repeats run (workload time in units of one repeat), the measured
workload seconds and the true objective of the recommended configuration;
medians and ratios into the block 'trial-cost-early-stop' of --doc."""
import argparse
import os
import statistics as st
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block  # noqa: E402  (benchmarks/docblock.py)
from kt import kt_json, quartiles, true_value  # noqa: E402  (benchmarks/kt.py)


def measure(a, arm, seed):
    db = os.path.join(a.dir, f"{arm}-{seed}.db")
    trials = kt_json(a.kerntune, "trials", "--db", db, "--json")
    repeats = sum(len(t["samples"].get("y", [])) for t in trials)
    seconds = sum(t["timings"].get("workload", 0) for t in trials)
    stopped = sum(1 for t in trials if t.get("early_stop"))
    extended = sum(1 for t in trials if t.get("extra_repeats"))
    proposals = sum(1 for t in trials if t["kind"] == "proposal")
    best = kt_json(a.kerntune, "best", "--db", db, "--json")
    params = best["params"] if best.get("params") is not None else best["chosen"]["params"]
    true = true_value(a.eval, params)
    return {"repeats": repeats, "seconds": seconds, "stopped": stopped, "extended": extended, "proposals": proposals, "true": true}


def main():
    ap = argparse.ArgumentParser()
    for k in ("--kerntune", "--dir", "--eval", "--commit", "--doc"):
        ap.add_argument(k, required=True)
    ap.add_argument("--seeds", type=int, required=True)
    ap.add_argument("--sigma", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--max-repeats", type=int, default=0)
    ap.add_argument("--load", default="")
    a = ap.parse_args()
    rows = {arm: [measure(a, arm, s) for s in range(1, a.seeds + 1)] for arm in ("off", "on")}
    ratio_rep = [on["repeats"] / off["repeats"] for on, off in zip(rows["on"], rows["off"])]
    ratio_sec = [on["seconds"] / off["seconds"] for on, off in zip(rows["on"], rows["off"])]
    q_on = [r["true"] for r in rows["on"]]
    q_off = [r["true"] for r in rows["off"]]
    wins = sum(1 for x, y in zip(q_on, q_off) if x < y)
    ties = sum(1 for x, y in zip(q_on, q_off) if x == y)

    saving = 1 - st.median(ratio_rep)
    goal = saving >= 0.30
    equal = st.median(q_on) <= st.median(q_off) * 1.02
    adaptive = a.max_repeats > a.repeats
    on_label = "early stopping on (alpha 0.05, min_repeats 2" + (f", max_repeats {a.max_repeats})" if adaptive else ")")
    lines = [
        f"Commit {a.commit}, `benchmarks/trial-cost/early-stop.sh --seeds {a.seeds} --sigma {a.sigma} --repeats {a.repeats}"
        + (f" --max-repeats {a.max_repeats}" if a.max_repeats else "") + "` "
        f"(command target, f(x) = 1 + Σ(xᵢ − cᵢ)²/10 on [0, 10]⁴, optimum 1, times lognormal noise σ = {a.sigma}; "
        f"{a.repeats} repeats a trial, BO, 30 trials + confirmation of the best 2 on 2 rounds; host load averages {a.load}).",
        "",
        f"| | early stopping off | {on_label} |",
        "|---|---|---|",
        f"| repeats run per campaign, median [quartiles] | {quartiles([r['repeats'] for r in rows['off']])} | "
        f"{quartiles([r['repeats'] for r in rows['on']])} |",
        f"| proposals stopped early, median | 0 | {st.median([r['stopped'] for r in rows['on']]):.1f} of "
        f"{st.median([r['proposals'] for r in rows['on']]):.0f} |",
        *([f"| proposals given extra repeats (close contenders), median | 0 | "
           f"{st.median([r['extended'] for r in rows['on']]):.1f} |"] if adaptive else []),
        f"| true f of the recommended configuration, median [quartiles] | {quartiles(q_off)} | {quartiles(q_on)} |",
        "",
        f"Per seed, on/off: repeats run (workload time in units of one repeat) median ratio "
        f"**{st.median(ratio_rep):.3f}** (range {min(ratio_rep):.3f}–{max(ratio_rep):.3f}), measured workload "
        f"seconds median ratio {st.median(ratio_sec):.3f}; the recommendation with early stopping is better on "
        f"{wins}, equal on {ties}, worse on {a.seeds - wins - ties} of {a.seeds} seeds.",
        "",
        f"Goal (≥ 30% less workload time at equal final quality): saving {saving:.0%} — "
        + ("met" if goal and equal else "not met") + (
            "" if equal else " (the median true f is more than 2% worse with early stopping)") + ".",
    ]
    body = "\n".join(lines)
    key = "trial-cost-early-stop" + ("" if a.repeats == 5 and not adaptive else f"-r{a.repeats}") + (
        f"-m{a.max_repeats}" if adaptive else "")
    replace_block(a.doc, key, "benchmarks/trial-cost/early-stop.sh", body)
    print(body)
    for arm in ("off", "on"):
        for s, r in enumerate(rows[arm], 1):
            print(f"  {arm} seed {s}: {r}", file=sys.stderr)


if __name__ == "__main__":
    main()
