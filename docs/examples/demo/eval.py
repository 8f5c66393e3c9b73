#!/usr/bin/env python3
"""A black box for the `command` target: reads the trial's parameters from the
JSON file named by KERNTUNE_PARAMS and prints one KERNTUNE_METRIC line.

y is smallest near x = 2.5, n = 256, mode = voluntary, fast with depth 16,
level = y; its minimum is 0.
"""
import json
import math
import os

with open(os.environ["KERNTUNE_PARAMS"]) as f:
    p = json.load(f)

y = (p["x"] - 2.5) ** 2 / 4.0
y += (math.log2(p["n"]) - 8.0) ** 2 / 8.0
y += {"none": 1.0, "voluntary": 0.0, "full": 0.5}[p["mode"]]
y += {"n": 0.6, "m": 0.3, "y": 0.0}[p["level"]]
if p["fast"]:
    y += (math.log2(p["depth"]) - 4.0) ** 2 / 16.0
else:
    y += 0.4
print(f"KERNTUNE_METRIC y {y:.6f}")
