#!/usr/bin/python3
"""Python peers of the optimizer benchmark: Optuna 3.1 TPE (multivariate) and
CMA-ES, OpenTURNS EGO. The problems are evaluated by kt_bench_eval over a pipe,
so they are the very functions the C++ runner uses.

  peers.py --eval BUILD/benchmarks/bo/kt_bench_eval --optimizer tpe|cmaes|ot_ego \
           --problem NAME --seed N [--budget B] [--out FILE]

Output: the same JSON lines as kt_bench_run (header, one line per evaluation,
a final {"done": true}). Exit code 3: the optimizer does not apply to the
problem (CMA-ES and EGO: single objective; EGO: continuous problems only).
Run with Debian's /usr/bin/python3 (it has optuna, openturns, scipy).
"""
import argparse
import json
import math
import subprocess
import sys
import time
import warnings


class Evaluator:
    """One kt_bench_eval process; writes every evaluation to `out` as it happens."""

    def __init__(self, exe, problem, seed, optimizer, budget, out):
        self.proc = subprocess.Popen([exe, problem, str(seed)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        self.problem = json.loads(self.proc.stdout.readline())
        self.budget = budget or self.problem["budget"]
        self.out = out
        self.count = 0
        self.start = time.monotonic()
        self.last = time.monotonic()
        out.write(json.dumps({"problem": problem, "optimizer": optimizer, "seed": seed,
                              "budget": self.budget}) + "\n")
        out.flush()

    def __call__(self, values):
        """values: natural units (None = inactive). Returns the reply dict."""
        opt_s = time.monotonic() - self.last
        req = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if self.count < self.budget:
            line = dict(reply, i=self.count, opt_s=opt_s)
            self.out.write(json.dumps(line) + "\n")
            self.out.flush()
        self.count += 1
        self.last = time.monotonic()
        return reply

    def finish(self):
        self.out.write(json.dumps({"done": True, "seconds": time.monotonic() - self.start}) + "\n")
        self.out.flush()


def run_optuna(ev, kind, seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    p = ev.problem
    if kind == "tpe":
        # multivariate TPE; `group` is Optuna's documented way to model
        # conditional (define-by-run) spaces jointly.
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True,
                                             group=p["has_conditional"])
    else:
        if p["n_objectives"] != 1:
            return False
        # Categorical parameters fall back to Optuna's independent (random) sampler.
        sampler = optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    directions = ["minimize"] * p["n_objectives"]
    study = optuna.create_study(directions=directions, sampler=sampler)
    params = p["params"]
    for _ in range(ev.budget):
        trial = study.ask()
        values = []
        for q in params:
            if q["parent"] >= 0:
                parent = values[q["parent"]]
                if parent is None or int(parent) not in q["parent_values"]:
                    values.append(None)
                    continue
            if q["type"] == "real":
                values.append(trial.suggest_float(q["name"], q["lo"], q["hi"], log=q["log"]))
            elif q["type"] == "integer":
                values.append(trial.suggest_int(q["name"], int(q["lo"]), int(q["hi"]), log=q["log"]))
            else:
                values.append(trial.suggest_categorical(q["name"], list(range(q["categories"]))))
        reply = ev(values)
        if reply["failed"]:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            obs = reply["observed"]
            study.tell(trial, obs[0] if len(obs) == 1 else obs)
    return True


def run_ot_ego(ev, seed):
    import openturns as ot
    p = ev.problem
    if not p["continuous_only"] or p["n_objectives"] != 1:
        return False
    ot.Log.Show(ot.Log.NONE)
    ot.RandomGenerator.SetSeed(seed)
    d = len(p["params"])
    lo = [q["lo"] for q in p["params"]]
    hi = [q["hi"] for q in p["params"]]

    xs, ys = [], []

    def f(x):
        if ev.count >= ev.budget:
            raise RuntimeError("budget spent")
        y = ev(list(x))["observed"][0]
        xs.append(list(x))
        ys.append([y])
        return [y]

    model = ot.PythonFunction(d, 1, f)
    problem = ot.OptimizationProblem(model)
    problem.setMinimization(True)
    problem.setBounds(ot.Interval(lo, hi))
    dist = ot.ComposedDistribution([ot.Uniform(a, b) for a, b in zip(lo, hi)])
    # Initial Latin hypercube: 2d points, at least 5, at most a third of the budget.
    n0 = min(max(5, 2 * d), ev.budget // 3)
    model(ot.LHSExperiment(dist, n0).generate())
    # EGO raises when its EI maximization finds nothing ("None of the local
    # searches succeeded"), which happens on flat or noisy surfaces. Then the
    # kriging is refitted on all data and EGO restarted; after a restart that
    # made no progress one random point is added first.
    restarts, last_count = 0, -1
    while ev.count < ev.budget:
        if ev.count == last_count:
            model(dist.getSample(1))
            continue
        last_count = ev.count
        cov = ot.MaternModel([(b - a) / 2 for a, b in zip(lo, hi)], [1.0], 2.5)
        basis = ot.ConstantBasisFactory(d).build()
        kriging = ot.KrigingAlgorithm(ot.Sample(xs), ot.Sample(ys), cov, basis)
        kriging.run()
        algo = ot.EfficientGlobalOptimization(problem, kriging.getResult())
        left = ev.budget - ev.count
        algo.setMaximumEvaluationNumber(left)
        algo.setMaximumIterationNumber(left)
        for setter in ("setMaximumAbsoluteError", "setMaximumRelativeError", "setMaximumResidualError"):
            getattr(algo, setter)(0.0)  # stop on the budget only
        try:
            algo.run()
        except Exception as e:  # noqa: BLE001 - see above
            if "budget spent" not in str(e):
                restarts += 1
    if restarts:
        print(f"peers.py: ot_ego restarted {restarts} times", file=sys.stderr)
    return True


def run(eval_exe, optimizer, problem, seed, budget, out):
    """Runs one peer; returns False when it does not apply to the problem."""
    ev = Evaluator(eval_exe, problem, seed, optimizer, budget, out)
    try:
        if optimizer == "ot_ego":
            applies = run_ot_ego(ev, seed)
        else:
            applies = run_optuna(ev, optimizer, seed)
    finally:
        if ev.proc.poll() is None:
            ev.proc.stdin.close()
            ev.proc.wait()
    if applies:
        ev.finish()
    return applies


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", required=True, help="path to kt_bench_eval")
    ap.add_argument("--optimizer", required=True, choices=["tpe", "cmaes", "ot_ego"])
    ap.add_argument("--problem", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--budget", type=int, default=0)
    ap.add_argument("--out")
    a = ap.parse_args()
    out = open(a.out, "w") if a.out else sys.stdout
    if not run(a.eval, a.optimizer, a.problem, a.seed, a.budget, out):
        print(f"peers.py: {a.optimizer} does not apply to {a.problem}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
