#!/usr/bin/env python3
"""Cost-aware search on against off (benchmarks/trial-cost/cost-aware.sh):
per seed, each arm's wall time (first trial's start to last trial's end, the
optimizer included), its reboots, and its best-so-far curve (the true f of
the best observed configuration after each trial, against the time since
the start); the time the cost-aware arm needs to reach the cost-blind arm's
final quality, as a share of the cost-blind arm's whole time. Medians and
ratios into the block 'trial-cost-aware-bBOOT-wWORK' of --doc."""
import argparse
import math
import os
import statistics as st
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block  # noqa: E402  (benchmarks/docblock.py)
from kt import kt_json, quartiles, true_value  # noqa: E402  (benchmarks/kt.py)


def measure(a, arm, seed):
    db = os.path.join(a.dir, f"{arm}-{seed}.db")
    trials = sorted(kt_json(a.kerntune, "trials", "--db", db, "--json"), key=lambda t: t["seq"])
    full = curve_of(a, trials)
    equal = curve_of(a, trials[: a.trials])  # as many trials as the cost-blind arm
    equal["curve"] = full["curve"]  # time to reach reads the whole run
    return equal


def curve_of(a, trials):
    start = min(t["started_at"] for t in trials)
    curve, best_y, best_true = [], math.inf, math.inf
    for t in trials:
        y = t["metrics"].get("y") if t["status"] == "ok" else None
        if y is not None and y < best_y:
            best_y, best_true = y, true_value(a.eval, t["params"])
        curve.append((t["finished_at"] - start, best_true))
    reboots = sum(1 for t in trials if t["timings"].get("boot", 0) > 0)
    return {"seconds": curve[-1][0], "final": curve[-1][1], "curve": curve, "reboots": reboots, "trials": len(trials)}


def time_to_reach(curve, quality):
    for seconds, value in curve:
        if value <= quality + 1e-12:
            return seconds
    return math.inf


def main():
    ap = argparse.ArgumentParser()
    for k in ("--kerntune", "--dir", "--eval", "--commit", "--doc"):
        ap.add_argument(k, required=True)
    ap.add_argument("--seeds", type=int, required=True)
    ap.add_argument("--boot", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--trials", type=int, required=True)
    ap.add_argument("--load", default="")
    a = ap.parse_args()
    rows = {arm: [measure(a, arm, s) for s in range(1, a.seeds + 1)] for arm in ("off", "on")}
    reach = [time_to_reach(on["curve"], off["final"]) / off["seconds"] for on, off in zip(rows["on"], rows["off"])]
    ratio_wall = [on["seconds"] / off["seconds"] for on, off in zip(rows["on"], rows["off"])]
    q_on = [r["final"] for r in rows["on"]]
    q_off = [r["final"] for r in rows["off"]]
    # Quality at equal time: the cost-aware arm's best at the moment the cost-blind one ended, or at its own end.
    at_blind_end = []
    for on, off in zip(rows["on"], rows["off"]):
        done = [v for s, v in on["curve"] if s <= off["seconds"]]
        at_blind_end.append(done[-1] if done else math.inf)
    wins = sum(1 for x, y in zip(q_on, q_off) if x < y - 1e-12)
    ties = sum(1 for x, y in zip(q_on, q_off) if abs(x - y) <= 1e-12)
    reached = sum(1 for r in reach if math.isfinite(r))

    med_reach = st.median(reach)
    goal = med_reach <= 0.5
    cost_ratio = float(a.work) / (float(a.boot) + float(a.work))
    lines = [
        f"Commit {a.commit}, `benchmarks/trial-cost/cost-aware.sh --seeds {a.seeds} --boot {a.boot} --work {a.work} "
        f"--trials {a.trials}` (command target, boot_eval.py: 3 boot parameters, 4 sysctls, optimum 1.0, lognormal "
        f"noise σ 0.03; a reboot {a.boot} s, a workload {a.work} s, so a kept-boot trial costs {cost_ratio:.2f} of a "
        f"rebooted one; BO, {a.trials} trials cost-blind and up to {2 * a.trials} cost-aware, the arms interleaved seed by "
        f"seed; host load averages {a.load}).",
        "",
        "| | cost-blind (`cost_aware: off`) | cost-aware (`cost_aware: on`) |",
        "|---|---|---|",
        f"| reboots in {a.trials} trials, median [quartiles] | {quartiles([r['reboots'] for r in rows['off']], '{:.0f}')} | "
        f"{quartiles([r['reboots'] for r in rows['on']], '{:.0f}')} |",
        f"| wall time of {a.trials} trials over the cost-blind campaign's, median [quartiles] | 1 | {quartiles(ratio_wall)} |",
        f"| true f of the best observed configuration after {a.trials} trials, median [quartiles] | {quartiles(q_off)} | {quartiles(q_on)} |",
        f"| … when the cost-blind campaign ended (the cost-aware one runs on, up to {2 * a.trials} trials) | "
    f"{quartiles(q_off)} | {quartiles(at_blind_end)} |",
        "",
        f"Time the cost-aware campaign needs to reach the cost-blind campaign's final quality, over the cost-blind "
        f"campaign's wall time, per seed: median **{med_reach:.3f}**"
        + (f" (reached on {reached} of {a.seeds} seeds; "
           + ", ".join("never" if not math.isfinite(r) else f"{r:.2f}" for r in reach) + ")")
        + f". Final quality at equal trials: cost-aware better on {wins}, equal on {ties}, worse on "
        f"{a.seeds - wins - ties} of {a.seeds} seeds.",
        "",
        f"Goal (the same final quality in ≤ 50% of the cost-blind wall time): "
        + ("**met**" if goal else "**not met**") + f" at these costs (median {med_reach:.2f}).",
    ]
    key = f"trial-cost-aware-b{a.boot}-w{a.work}"
    replace_block(a.doc, key, "benchmarks/trial-cost/cost-aware.sh", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
