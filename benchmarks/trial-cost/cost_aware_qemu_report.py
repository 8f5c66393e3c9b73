#!/usr/bin/env python3
"""Cost-aware off against on in QEMU (benchmarks/trial-cost/cost-aware-qemu.sh):
each campaign's wall time, trials by kind and best observed bandwidth, and
the ratios, into the block 'trial-cost-aware-qemu' of --doc."""
import argparse
import json
import os
import statistics as st
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block  # noqa: E402  (benchmarks/docblock.py)


def kind(t):
    tm = t["timings"]
    if tm.get("build", 0) > 0:
        return "kernel build"
    if tm.get("boot", 0) > 0:
        return "reboot"
    if tm.get("snapshot_load", 0) > 0:
        return "restored"
    return "reused"


def measure(kt, db):
    r = subprocess.run([kt, "trials", "--db", db, "--json"], capture_output=True, text=True, check=True)
    trials = sorted(json.loads(r.stdout), key=lambda t: t["seq"])
    kinds = {}
    for t in trials:
        kinds[kind(t)] = kinds.get(kind(t), 0) + 1
    ok = [t["metrics"]["bandwidth"] for t in trials if t["status"] == "ok" and "bandwidth" in t["metrics"]]
    base = next((t["metrics"].get("bandwidth") for t in trials if t["kind"] == "baseline"), None)
    secs = [t["finished_at"] - t["started_at"] for t in trials]
    return {"wall": trials[-1]["finished_at"] - trials[0]["started_at"], "kinds": kinds, "best": max(ok),
            "base": base, "median_trial": st.median(secs), "n": len(trials)}


def main():
    ap = argparse.ArgumentParser()
    for k in ("--kerntune", "--off", "--on", "--commit", "--doc"):
        ap.add_argument(k, required=True)
    ap.add_argument("--trials", type=int, required=True)
    ap.add_argument("--load", default="")
    a = ap.parse_args()
    off, on = measure(a.kerntune, a.off), measure(a.kerntune, a.on)

    def kinds(m):
        return ", ".join(f"{n} {k}" for k, n in sorted(m["kinds"].items()))

    lines = [
        f"Commit {a.commit}, `benchmarks/trial-cost/cost-aware-qemu.sh --trials {a.trials}` (recipes/reuse-vs-reboot.yaml "
        f"with kind bo: `mitigations` and 9 sysctls, sysbench memory bandwidth, between_trials: restore; one campaign "
        f"per arm, off then on; host load averages {a.load}).",
        "",
        "| | cost-blind (`cost_aware: off`) | cost-aware (`cost_aware: on`) |",
        "|---|---|---|",
        f"| trials by kind | {kinds(off)} | {kinds(on)} |",
        f"| campaign wall time, on over off | 1 | **{on['wall'] / off['wall']:.3f}** |",
        f"| median trial time, on over off | 1 | {on['median_trial'] / off['median_trial']:.3f} |",
        f"| best observed bandwidth over the campaign's baseline run | {off['best'] / off['base']:.3f} | "
        f"{on['best'] / on['base']:.3f} |",
        "",
        "One campaign per arm: the wall time and the kinds are the measurement; the bandwidth column is one "
        "noisy run each and does not compare final quality.",
    ]
    replace_block(a.doc, "trial-cost-aware-qemu", "benchmarks/trial-cost/cost-aware-qemu.sh", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
