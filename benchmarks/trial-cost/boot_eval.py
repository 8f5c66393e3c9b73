#!/usr/bin/env python3
"""The synthetic target of cost-aware.sh: a mixed boot-parameter + sysctl
system with a known latency-like objective and a simulated cost per kind of
trial. Three parameters are boot parameters (domain cmdline): when any of
them differs from the previous trial's (kept in the file STATE), the program
"reboots": it sleeps BOOT_S seconds and reports `KERNTUNE_STAGE boot`. Every
trial then "runs its workload": it sleeps WORK_S seconds and prints
y = f(params) times lognormal noise (sigma NOISE_SIGMA) drawn from
(BENCH_SEED, KERNTUNE_TRIAL). --true prints the noise-free f of a JSON
assignment instead (how the benchmark scores a recommendation)."""
import json
import math
import os
import random
import sys
import time

BOOT = ("boot.mode", "boot.ticks", "boot.poll")
SYSCTLS = ("net.s1", "net.s2", "net.s3", "net.s4")


def f(p):
    mode = {"a": 0, "b": 1, "c": 2}[p["boot.mode"]]
    base = (0.3, 0.0, 0.5)[mode] + 0.015 * (int(p["boot.ticks"]) - 7) ** 2 + (0.0 if p["boot.poll"] else 0.2)
    # The sysctls' optimum moves with the boot mode: the two levels interact.
    centre = [0.25 + 0.1 * mode, 0.7, 0.4 - 0.1 * mode, 0.6]
    weight = [1.0, 0.8, 0.6, 0.4]
    g = sum(w * (float(p[k]) - c) ** 2 for k, c, w in zip(SYSCTLS, centre, weight))
    return 1.0 + base + 2.0 * g


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--true":
        print(f"{f(json.loads(sys.argv[2])):.9g}")
        return
    p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
    boot = {k: p[k] for k in BOOT}
    state = os.environ["STATE"]
    try:
        held = json.load(open(state))
    except (OSError, ValueError):
        held = None
    if held != boot:
        seconds = float(os.environ.get("BOOT_S", "0.5"))
        time.sleep(seconds)
        with open(state, "w") as out:
            json.dump(boot, out)
        print(f"KERNTUNE_STAGE boot {seconds}")
    time.sleep(float(os.environ.get("WORK_S", "0.5")))
    rng = random.Random(f"{os.environ.get('BENCH_SEED', '0')}/{os.environ.get('KERNTUNE_TRIAL', '0')}")
    sigma = float(os.environ.get("NOISE_SIGMA", "0.03"))
    print(f"KERNTUNE_METRIC y {f(p) * math.exp(rng.gauss(0, sigma)):.9g}")


if __name__ == "__main__":
    main()
