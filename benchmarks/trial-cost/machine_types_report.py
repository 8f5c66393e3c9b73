#!/usr/bin/env python3
"""Boot time by QEMU machine type (benchmarks/trial-cost/machine-types.sh):
per type the boots that came up, the median boot seconds (timings.boot of the
one trial) and the median over rounds of its boot divided by the same round's
`pc` boot. Writes the block 'trial-cost-machine-types' of --doc."""
import argparse
import os
import statistics as st
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block  # noqa: E402  (benchmarks/docblock.py)
from kt import kt_json  # noqa: E402  (benchmarks/kt.py)

TYPES = [("pc", "`pc` (i440FX, QEMU's default)"), ("q35", "`q35`"), ("microvm", "`microvm,acpi=off`")]


def boot(kerntune, db):
    if not os.path.exists(db):
        return None
    trials = kt_json(kerntune, "trials", "--db", db, "--json") or []
    t = next((t for t in trials if t.get("kind") == "baseline"), None)
    if not t or t.get("status") != "ok":
        return None
    return t["timings"].get("boot")


def main():
    ap = argparse.ArgumentParser()
    for k in ("--kerntune", "--dir", "--commit", "--load", "--doc"):
        ap.add_argument(k, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    a = ap.parse_args()
    boots = {m: [boot(a.kerntune, os.path.join(a.dir, f"{m}-{r}.db")) for r in range(1, a.rounds + 1)]
             for m, _ in TYPES}
    lines = [f"Commit {a.commit}, `benchmarks/trial-cost/machine-types.sh {a.rounds}` (1 GiB, 1 vCPU, TCG, direct "
             f"kernel boot of Debian's 6.1; round-robin, {a.rounds} rounds; host load averages {a.load}).",
             "",
             "| machine type | boots up | median boot (s) | boot / the same round's `pc` boot, median [range] |",
             "|---|---|---|---|"]
    for m, label in TYPES:
        ok = [b for b in boots[m] if b is not None]
        ratios = [b / p for b, p in zip(boots[m], boots["pc"]) if b is not None and p]
        med = f"{st.median(ok):.2f}" if ok else "—"
        rat = f"{st.median(ratios):.3f} [{min(ratios):.3f}, {max(ratios):.3f}]" if ratios else "—"
        lines.append(f"| {label} | {len(ok)} of {a.rounds} | {med} | {rat} |")
    body = "\n".join(lines)
    replace_block(a.doc, "trial-cost-machine-types", "benchmarks/trial-cost/machine-types.sh", body)
    print(body)


if __name__ == "__main__":
    main()
