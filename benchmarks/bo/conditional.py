#!/usr/bin/python3
"""Conditional groups (issue 18, docs/bo.md §2): kerntune variants side by side
on the suite's conditional problems and on non-conditional controls.

  benchmarks/bo/conditional.py --variant new=BUILD \\
      --variant flat=BUILD:KT_BENCH_FLAT_CONDITIONAL=1 --variant old=OLD_BUILD \\
      [--problems cond_branches,cond_scheduler,kernel_like,mixed_ackley] [--seeds 5]
      [--peers random,tpe] [--results DIR] [--jobs 2] [--identical mixed_ackley]

Each variant is a bench build folder (benchmarks/bo/run.sh builds one; an
`old` one can be configured from a `git archive` of an earlier commit) and
optional NAME=VALUE environment settings for kt_bench_run. suite.py runs
kerntune for every variant into RESULTS/<variant>; the peers (random is the
score's normalizer) run once and are linked into every variant's folder. The
table gives, per problem, the median over seeds of the suite's normalized
score (0 = optimum, 1 = random search's median) at 25/50/100% of the budget.
--identical lists problems on which the first and last variants must propose
exactly the same points (seed by seed): the check that a space without
`when:` conditions is optimized exactly as before.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import analyze  # noqa: E402


def parse_variant(text):
    name, _, rest = text.partition("=")
    build, *env = rest.split(":")
    return name, os.path.abspath(build), dict(e.split("=", 1) for e in env)


def run_suite(build, results, optimizers, problems, seeds, jobs, env):
    cmd = ["/usr/bin/python3", os.path.join(HERE, "suite.py"), "--build", build, "--results", results,
           "--optimizers", ",".join(optimizers), "--problems", ",".join(problems),
           "--seeds", str(seeds), "--jobs", str(jobs), "--no-docs"]
    subprocess.run(cmd, check=True, env={**os.environ, **env}, stdout=subprocess.DEVNULL)


def points(results, problem, seed):
    _, evals, _ = analyze.load_run(os.path.join(results, problem, "kerntune", f"seed{seed}.jsonl"))
    return [e["x"] for e in evals]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", required=True, help="NAME=BUILD[:VAR=VALUE...]")
    ap.add_argument("--problems", default="cond_branches,cond_scheduler,kernel_like,mixed_ackley")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--peers", default="random,tpe")
    ap.add_argument("--results", default=os.path.join(os.path.dirname(os.path.dirname(HERE)),
                                                      "build-bench", "conditional"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--identical", default="", help="problems whose proposals first and last variant must share")
    a = ap.parse_args()
    a.results = os.path.abspath(a.results)
    variants = [parse_variant(v) for v in a.variant]
    problems = a.problems.split(",")
    peers = [p for p in a.peers.split(",") if p]
    if "random" not in peers:
        sys.exit("conditional.py: the peers must include random (the score's normalizer)")
    first = variants[0]
    peer_dir = os.path.join(a.results, "peers")
    run_suite(first[1], peer_dir, peers, problems, a.seeds, a.jobs, {})
    for name, build, env in variants:
        vdir = os.path.join(a.results, name)
        run_suite(build, vdir, ["kerntune"], problems, a.seeds, a.jobs, env)
        for p in problems:
            for o in peers:
                link = os.path.join(vdir, p, o)
                if os.path.islink(link) and not os.path.exists(link):
                    os.remove(link)  # dangling
                if not os.path.lexists(link):
                    os.symlink(os.path.join(peer_dir, p, o), link)
    described = json.loads(subprocess.run([os.path.join(first[1], "benchmarks", "bo", "kt_bench_eval"), "--list"],
                                          check=True, capture_output=True, text=True).stdout)
    described = [p for p in described if p["name"] in problems]
    summaries = {name: analyze.analyze(os.path.join(a.results, name), described) for name, _, _ in variants}

    def cell(info):
        if not info:
            return "–"
        return " / ".join(analyze.fmt(x) for x in info["median"])

    cols = [n for n, _, _ in variants] + [p for p in peers if p != "random"]
    lines = ["| problem | conditional | " + " | ".join(cols) + " |", "|---" * (len(cols) + 2) + "|"]
    for i, p in enumerate(described):
        cond = "yes" if p.get("has_conditional") else "no"
        row = [cell(summaries[n]["problems"][i]["optimizers"].get("kerntune")) for n, _, _ in variants]
        row += [cell(summaries[first[0]]["problems"][i]["optimizers"].get(o)) for o in peers if o != "random"]
        lines.append(f"| {p['name']} | {cond} | " + " | ".join(row) + " |")
    cpu = []
    for n, _, _ in variants:
        per = [summaries[n]["problems"][i]["optimizers"]["kerntune"].get("opt_cpu_s", float("nan"))
               for i in range(len(described)) if "kerntune" in summaries[n]["problems"][i]["optimizers"]]
        per = [x for x in per if x == x]
        cpu.append(f"{n} {statistics.fmean(per) * 1000:.0f} ms" if per else f"{n} –")
    print(f"Median normalized score over {a.seeds} seeds at 25% / 50% / 100% of the budget "
          "(0 = optimum, 1 = random search's median):\n")
    print("\n".join(lines))
    print("\nMean optimizer CPU per ask over these problems: " + ", ".join(cpu))
    others = [o for o in peers if o != "random"]
    print("\nMean score at 25% / 50% / 100%, and each peer's final scores against that variant's "
          "(Wilcoxon signed-rank, paired by seed; ▲ variant better, ▼ worse, p < 0.05):\n")
    lines = ["| problem | variant | mean | " + " | ".join(f"vs {o}: p" for o in others) + " |",
             "|---" * (3 + len(others)) + "|"]
    for i, p in enumerate(described):
        for n, _, _ in variants:
            info = summaries[n]["problems"][i]["optimizers"].get("kerntune")
            if not info:
                continue
            tests = []
            for o in others:
                peer = summaries[n]["problems"][i]["optimizers"].get(o, {})
                if "p_value" not in peer:
                    tests.append("–")
                    continue
                mark = {"better": " ▲", "worse": " ▼"}.get(analyze.verdict(peer), "")
                tests.append(f"{peer['p_value']:.3f}{mark}")
            lines.append(f"| {p['name']} | {n} | " + " / ".join(analyze.fmt(x) for x in info["mean"]) + " | " +
                         " | ".join(tests) + " |")
        for o in others:
            info = summaries[first[0]]["problems"][i]["optimizers"].get(o)
            if info:
                lines.append(f"| {p['name']} | {o} | " + " / ".join(analyze.fmt(x) for x in info["mean"]) + " |" +
                             " |" * len(others))
    print("\n".join(lines))
    for p in [p for p in a.identical.split(",") if p]:
        same = all(points(os.path.join(a.results, variants[0][0]), p, s) ==
                   points(os.path.join(a.results, variants[-1][0]), p, s) for s in range(a.seeds))
        print(f"\n{p}: proposals of '{variants[0][0]}' and '{variants[-1][0]}' identical for all "
              f"{a.seeds} seeds: {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
