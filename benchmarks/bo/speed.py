#!/usr/bin/python3
"""Optimizer speed: kerntune's fit + propose time against scikit-learn's
GaussianProcessRegressor fit on the same data, in the same run.

  benchmarks/bo/speed.py [--build DIR] [--cases 50x10:20,200x30:10,500x30:5,1000x60:5]
                         [--sklearn-repeats 3] [--no-docs]

kt_bench_speed writes the data sets and its timings; this script fits
scikit-learn's GaussianProcessRegressor (ConstantKernel * Matern(nu=2.5, ARD
lengthscales) + WhiteKernel, normalize_y, the default optimizer and restarts)
on the first data sets of each case, then renders p50/p95 and the ratio into
docs/benchmarks.md ("Optimizer speed"). Run with /usr/bin/python3.
"""
import argparse
import json
import os
import subprocess
import sys
import time

# One BLAS thread, like kerntune's single-threaded Eigen: on a loaded 2-core
# machine multithreaded BLAS oversubscribes and measures contention instead.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import analyze  # noqa: E402

GOALS = {(200, 30): 0.1, (1000, 60): 2.0}


def pct(values, p):
    return float(np.percentile(np.asarray(values), p))


def sklearn_fit(path):
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    data = np.loadtxt(path, delimiter=",")
    x, y = data[:, :-1], data[:, -1]
    kernel = ConstantKernel(1.0) * Matern(length_scale=np.ones(x.shape[1]), nu=2.5) + WhiteKernel()
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=0)
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x, y)
    return time.perf_counter() - start, time.process_time() - cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--cases", default="50x10:20,200x30:10,500x30:5,1000x60:5")
    ap.add_argument("--sklearn-repeats", type=int, default=3)
    ap.add_argument("--sklearn-max-n", type=int, default=1000, help="skip scikit-learn above this n")
    ap.add_argument("--docs", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--no-docs", action="store_true")
    ap.add_argument("--reuse-kerntune", action="store_true",
                    help="keep BUILD/bo-speed/kerntune.json and its data sets; time scikit-learn only")
    ap.add_argument("--render-only", action="store_true", help="re-render BUILD/bo-speed/summary.json")
    ap.add_argument("--command", help=argparse.SUPPRESS)
    a = ap.parse_args()
    exe = os.path.join(a.build, "benchmarks", "bo", "kt_bench_speed")
    out = os.path.join(a.build, "bo-speed")
    if a.render_only:
        summary = json.load(open(os.path.join(out, "summary.json")))
        sk = {tuple(int(v) for v in k.split("x")): t for k, t in summary["sklearn"].items()}
        md = render(summary, sk)
        print(md)
        if not a.no_docs:
            analyze.write_section(a.docs, "bo-speed", md)
        return 0
    os.makedirs(out, exist_ok=True)
    started = time.monotonic()
    if not a.reuse_kerntune:
        subprocess.run([exe, "--out", out, "--cases", a.cases, "--q", "1,4"], check=True)
    kt = json.load(open(os.path.join(out, "kerntune.json")))
    rows = []
    for case in kt["cases"]:
        n, d, q = case["n"], case["d"], case["q"]
        row = {"n": n, "d": d, "q": q, "repeats": len(case["seconds"]),
               "p50": pct(case["seconds"], 50), "p95": pct(case["seconds"], 95),
               "cpu_p50": pct(case["cpu_seconds"], 50), "cpu_p95": pct(case["cpu_seconds"], 95)}
        rows.append(row)
    # scikit-learn fits are slow (minutes at n = 500 on a loaded machine): each is
    # cached in BUILD/bo-speed/sklearn.json as it finishes, so a rerun with
    # --reuse-kerntune only adds the missing ones.
    cache_path = os.path.join(out, "sklearn.json")
    cache = json.load(open(cache_path)) if a.reuse_kerntune and os.path.exists(cache_path) else {}
    sk = {}
    for row in rows:
        key = (row["n"], row["d"])
        if key in sk:
            continue
        name = f"{key[0]}x{key[1]}"
        times = cache.setdefault(name, [])
        if key[0] > a.sklearn_max_n:
            sk[key] = times
            continue
        # n >= 1000: one fit (minutes, and ~0.5 GB for the gradient tensor at d = 60)
        reps = 1 if key[0] >= 1000 else a.sklearn_repeats
        for r in range(len(times), min(reps, row["repeats"])):
            t = sklearn_fit(os.path.join(out, f"data_n{key[0]}_d{key[1]}_r{r}.csv"))
            print(f"speed.py: sklearn fit n={key[0]} d={key[1]} repeat {r}: {t[0]:.3f} s wall, {t[1]:.3f} s cpu",
                  file=sys.stderr)
            times.append(t)
            json.dump(cache, open(cache_path, "w"))
        sk[key] = times
    summary = {"rows": rows, "sklearn": {f"{n}x{d}": t for (n, d), t in sk.items()},
               "wall_seconds": time.monotonic() - started, "loadavg": os.getloadavg()[1], "nice": os.nice(0),
               "command": a.command or " ".join(["benchmarks/bo/speed.py"] + sys.argv[1:])}
    json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
    md = render(summary, sk)
    print(md)
    if not a.no_docs:
        analyze.write_section(a.docs, "bo-speed", md)
        print(f"speed.py: wrote the table into {a.docs}")
    return 0


def render(summary, sk):
    lines = [f"Command: `{summary['command']}` (wall time {summary['wall_seconds'] / 60:.1f} min on the "
             f"shared 2-core machine, other engineers' builds running: 5-minute load average "
             f"{summary.get('loadavg', 0):.0f} at the end; run at nice {summary.get('nice', 10)}).", "",
             "kerntune: `tell` of the last observation + `ask(q)` on a fresh optimizer (the GP fit with its "
             "hyperparameter restarts and the acquisition optimization). scikit-learn: "
             "`GaussianProcessRegressor(ConstantKernel*Matern(nu=2.5, ARD)+WhiteKernel, normalize_y=True)`"
             "`.fit` only (default L-BFGS-B, no restarts; one BLAS thread), on the same data sets. "
             "CPU = the process's CPU time, which the other engineers' load hardly distorts; wall = elapsed "
             "time, inflated by the load. Ratio = scikit-learn fit CPU p50 ÷ kerntune fit+propose CPU p50 "
             "(above 1: kerntune faster).", "",
             "| n | d | q | repeats | kerntune CPU p50 / p95 (s) | kerntune wall p50 / p95 (s) | goal (p95) | "
             "sklearn fit CPU p50 (s) (repeats) | ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in summary["rows"]:
        key = (r["n"], r["d"])
        goal = GOALS.get(key)
        goal_cell = "–"
        if goal is not None:
            goal_cell = (f"< {goal:g} s: CPU " + ("met" if r["cpu_p95"] < goal else "**NOT met**")
                         + ", wall " + ("met" if r["p95"] < goal else "**NOT met**"))
        st = [t[1] for t in sk.get(key, [])]
        if not st:
            lines.append(f"| {r['n']} | {r['d']} | {r['q']} | {r['repeats']} | {r['cpu_p50']:.3f} / "
                         f"{r['cpu_p95']:.3f} | {r['p50']:.3f} / {r['p95']:.3f} | {goal_cell} | not run | – |")
            continue
        sk50 = pct(st, 50) if st else float("nan")
        ratio = sk50 / r["cpu_p50"] if st and r["cpu_p50"] > 0 else float("nan")
        lines.append(f"| {r['n']} | {r['d']} | {r['q']} | {r['repeats']} | {r['cpu_p50']:.3f} / {r['cpu_p95']:.3f} | "
                     f"{r['p50']:.3f} / {r['p95']:.3f} | {goal_cell} | {sk50:.3f} ({len(st)}) | {ratio:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
