#!/usr/bin/python3
"""Runs the optimizer benchmark suite side by side and renders its table.

Every optimizer x problem x seed is one job writing JSON lines into
RESULTS/PROBLEM/OPTIMIZER/seedN.jsonl; finished jobs are kept, so an
interrupted run resumes. Within a problem jobs run in seed order (so a
--deadline cuts its optimizers at about the same seed); across problems the
next job comes from the problem that has used the least time, so cheap
problems collect more seeds than expensive ones. See benchmarks/README.md.
"""
import argparse
import concurrent.futures as cf
import datetime as dt
import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import analyze  # noqa: E402

CPP = ("kerntune", "kerntune_parego", "random", "sobol", "dlib")
PY = ("tpe", "cmaes", "ot_ego")
SLOW = ("ot_ego",)
ALL = ("kerntune", "kerntune_parego", "random", "sobol", "tpe", "cmaes", "ot_ego", "dlib")


def applies(optimizer, problem):
    single = problem["n_objectives"] == 1
    if optimizer == "kerntune_parego":  # kerntune with multi_objective: parego in place of EHVI
        return not single
    if optimizer in ("cmaes", "dlib"):
        return single
    if optimizer == "ot_ego":
        return single and problem["continuous_only"]
    return True


class JobTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise JobTimeout()


def _init_worker():
    os.nice(10)


def run_job(job):
    """Runs one job in a worker process; returns (job, status, seconds)."""
    start = time.monotonic()
    final = job["out"]
    partial = final + ".partial"
    os.makedirs(os.path.dirname(final), exist_ok=True)
    status = "ok"
    if job["optimizer"] in CPP:
        cmd = [job["run_exe"], "--optimizer", job["optimizer"], "--problem", job["problem"],
               "--seed", str(job["seed"]), "--budget", str(job["budget"]), "--out", partial]
        try:
            r = subprocess.run(cmd, timeout=job["timeout"], stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                status = "error: " + r.stderr.strip()[-300:]
        except subprocess.TimeoutExpired:
            status = "timeout"
    else:
        import peers
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(int(job["timeout"]))
        try:
            with open(partial, "w") as out:
                peers.run(job["eval_exe"], job["optimizer"], job["problem"], job["seed"], job["budget"], out)
        except JobTimeout:
            status = "timeout"
        except Exception as e:  # noqa: BLE001 - reported, the suite goes on
            status = f"error: {type(e).__name__}: {e}"
        finally:
            signal.alarm(0)
    if status == "timeout":
        # Keep the prefix: the table scores what was evaluated before the cut.
        with open(partial, "a") as out:
            out.write(json.dumps({"done": True, "truncated": True,
                                  "seconds": time.monotonic() - start}) + "\n")
        os.replace(partial, final)
    elif status == "ok":
        os.replace(partial, final)
    return job, status, time.monotonic() - start


def is_done(path):
    try:
        with open(path) as f:
            last = f.read().rstrip().rsplit("\n", 1)[-1]
        return json.loads(last).get("done", False)
    except (OSError, ValueError):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"), help="CMake build folder")
    ap.add_argument("--results", help="results folder (default BUILD/bo-results[-quick])")
    ap.add_argument("--quick", action="store_true", help="3 seeds, 40%% budgets: a smoke check")
    ap.add_argument("--seeds", type=int, help="seeds per optimizer and problem (default 20; quick 3)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--problems", help="comma-separated subset")
    ap.add_argument("--optimizers", help="comma-separated subset of " + ",".join(ALL))
    ap.add_argument("--deadline", help="UTC HH:MM: start no job after it (results so far are rendered); "
                    "a time already past today is tomorrow's")
    ap.add_argument("--cap", default="", help="fewer seeds for slow optimizers, e.g. ot_ego=10")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per job; the prefix is kept")
    ap.add_argument("--slow-timeout", type=float, default=300, help="seconds per job of a slow optimizer (EGO)")
    ap.add_argument("--docs", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    ap.add_argument("--section", default="bo-benchmark",
                    help="generated block of --docs to write (default bo-benchmark, the main table)")
    ap.add_argument("--analyze-only", action="store_true")
    ap.add_argument("--command", help=argparse.SUPPRESS)  # the command line to quote in the docs
    a = ap.parse_args()

    bo_dir = os.path.join(a.build, "benchmarks", "bo")
    eval_exe = os.path.join(bo_dir, "kt_bench_eval")
    run_exe = os.path.join(bo_dir, "kt_bench_run")
    for exe in (eval_exe, run_exe):
        if not os.access(exe, os.X_OK):
            sys.exit(f"suite.py: {exe} missing: build it (benchmarks/bo/run.sh does)")
    problems = json.loads(subprocess.run([eval_exe, "--list"], check=True, capture_output=True,
                                         text=True).stdout)
    if a.problems:
        wanted = a.problems.split(",")
        unknown = set(wanted) - {p["name"] for p in problems}
        if unknown:
            sys.exit(f"suite.py: unknown problems {sorted(unknown)}")
        problems = [p for p in problems if p["name"] in wanted]
    optimizers = a.optimizers.split(",") if a.optimizers else list(ALL)
    if set(optimizers) - set(ALL):
        sys.exit(f"suite.py: unknown optimizers {sorted(set(optimizers) - set(ALL))}")
    seeds = a.seeds or (3 if a.quick else 20)
    scale = 0.4 if a.quick else 1.0
    results = a.results or os.path.join(a.build, "bo-results-quick" if a.quick else "bo-results")
    deadline = None
    if a.deadline:
        h, m = map(int, a.deadline.split(":"))
        now = dt.datetime.now(dt.timezone.utc)
        deadline = now.replace(hour=h, minute=m, second=0, microsecond=0)
        if deadline <= now:  # a time already past today means tomorrow (a run across midnight)
            deadline += dt.timedelta(days=1)

    caps = {k: int(v) for k, v in (c.split("=") for c in a.cap.split(",") if c)}
    jobs = []
    for seed in range(seeds):
        for p in problems:
            budget = max(10, int(round(p["budget"] * scale)))
            for o in optimizers:
                if not applies(o, p) or seed >= caps.get(o, seeds):
                    continue
                out = os.path.join(results, p["name"], o, f"seed{seed}.jsonl")
                if is_done(out):
                    continue
                jobs.append(dict(problem=p["name"], optimizer=o, seed=seed, budget=budget, out=out,
                                 eval_exe=eval_exe, run_exe=run_exe,
                                 timeout=min(a.timeout, a.slow_timeout) if o in SLOW else a.timeout))
    started = time.monotonic()
    statuses = {}
    if not a.analyze_only and jobs:
        print(f"suite.py: {len(jobs)} jobs, {a.jobs} at a time, results in {results}", flush=True)
        ctx = multiprocessing.get_context("fork")
        with cf.ProcessPoolExecutor(max_workers=a.jobs, mp_context=ctx, initializer=_init_worker) as pool:
            pending = set()
            running = {}
            spent = {}
            queue = list(jobs)
            done_count = 0
            while queue or pending:
                while queue and len(pending) < a.jobs:
                    if deadline and dt.datetime.now(dt.timezone.utc) >= deadline:
                        print(f"suite.py: deadline {a.deadline} reached; {len(queue)} jobs not started",
                              flush=True)
                        queue.clear()
                        break
                    # Slow optimizers (EGO) take at most one worker, so the others keep moving.
                    busy_slow = any(running[f]["optimizer"] in SLOW for f in pending)
                    eligible = [i for i, j in enumerate(queue) if not (busy_slow and j["optimizer"] in SLOW)]
                    if not eligible:
                        break
                    # Time-fair across problems: the next job comes from the problem that has
                    # used the least time so far, so cheap problems collect more seeds before a
                    # deadline (within a problem, jobs stay in seed order).
                    pick = min(eligible, key=lambda i: (spent.get(queue[i]["problem"], 0.0), i))
                    job = queue.pop(pick)
                    fut = pool.submit(run_job, job)
                    running[fut] = job
                    pending.add(fut)
                if not pending:
                    break
                finished, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    job, status, secs = fut.result()
                    running.pop(fut, None)
                    spent[job["problem"]] = spent.get(job["problem"], 0.0) + secs
                    done_count += 1
                    statuses[status.split(":")[0]] = statuses.get(status.split(":")[0], 0) + 1
                    if status != "ok":
                        print(f"  {job['problem']}/{job['optimizer']}/seed{job['seed']}: {status}", flush=True)
                    if done_count % 25 == 0 or status != "ok":
                        print(f"  [{done_count}/{len(jobs)}] {time.monotonic() - started:.0f} s", flush=True)
    previous = {}
    summary_path = os.path.join(results, "summary.json")
    if a.analyze_only and os.path.exists(summary_path):
        # Re-rendering a finished run keeps that run's wall time, statuses and load.
        with open(summary_path) as f:
            previous = json.load(f)
    summary = analyze.analyze(results, problems)
    summary["command"] = a.command or previous.get("command") or " ".join(["benchmarks/bo/run.sh"] + sys.argv[1:])
    summary["wall_seconds"] = previous.get("wall_seconds", time.monotonic() - started)
    summary["statuses"] = previous.get("statuses", statuses)
    summary["quick"] = a.quick
    summary["loadavg"] = previous.get("loadavg", os.getloadavg()[1])
    summary["nice"] = previous.get("nice", min(19, os.nice(0) + 10))  # the workers add 10
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    md = analyze.render(summary)
    print(md)
    if not a.no_docs:
        analyze.write_section(a.docs, a.section, md)
        print(f"suite.py: wrote the table into {a.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
