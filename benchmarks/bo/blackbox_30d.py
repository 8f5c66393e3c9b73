"""Black box of benchmarks/bo/recipe-30d.yaml: Hartmann6 on 6 of 30 inputs plus
a small smooth term on the others (so no input is exactly inert).
Reads KERNTUNE_PARAMS, prints `KERNTUNE_METRIC y VALUE`. Standard library only."""
import json
import math
import os

A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
     [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]
ACTIVE = [3, 7, 12, 18, 22, 27]

p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
x = [float(p[f"x{i:02d}"]) for i in range(30)]
z = [x[i] for i in ACTIVE]
h = -sum(a * math.exp(-sum(A[i][j] * (z[j] - P[i][j]) ** 2 for j in range(6))) for i, a in enumerate(ALPHA))
rest = sum(0.01 * (x[i] - 0.5) ** 2 for i in range(30) if i not in ACTIVE)
print(f"KERNTUNE_METRIC y {h + rest:.9f}")
