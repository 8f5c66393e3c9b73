#!/usr/bin/env python3
"""Fast, slightly noisy black box for benchmarks/memory/run.sh."""
import json, math, os, random
with open(os.environ["KERNTUNE_PARAMS"]) as fh:
    p = json.load(fh)
f = (p["x"] - 2.5) ** 2 / 4 + (p["y"] - 0.3) ** 2 + (math.log2(p["n"]) - 8) ** 2 / 8
f += {"none": 1.0, "voluntary": 0.0, "full": 0.5}[p["mode"]] + (0.0 if p["fast"] else 0.4)
print("KERNTUNE_METRIC f %.6f" % (f + random.gauss(0, 0.01)))
