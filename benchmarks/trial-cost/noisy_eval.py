#!/usr/bin/env python3
"""The synthetic black box of early-stop.sh: y = f(x) times lognormal noise
(multiplicative, sigma NOISE_SIGMA on the log scale, default 0.1), drawn from
(BENCH_SEED, KERNTUNE_TRIAL, KERNTUNE_REPEAT) so that a campaign is
reproducible. f is known: --true prints f for a JSON assignment instead."""
import json
import math
import os
import random
import sys

CENTRE = {"x1": 2.5, "x2": 7.0, "x3": 4.0, "x4": 6.0}


def f(p):
    return 1.0 + sum((float(p[k]) - c) ** 2 for k, c in CENTRE.items()) / 10.0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--true":
        print(f"{f(json.loads(sys.argv[2])):.9g}")
        return
    p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
    key = f"{os.environ.get('BENCH_SEED', '0')}/{os.environ.get('KERNTUNE_TRIAL', '0')}/{os.environ.get('KERNTUNE_REPEAT', '0')}"
    rng = random.Random(key)
    sigma = float(os.environ.get("NOISE_SIGMA", "0.1"))
    print(f"KERNTUNE_METRIC y {f(p) * math.exp(rng.gauss(0, sigma)):.9g}")


if __name__ == "__main__":
    main()
