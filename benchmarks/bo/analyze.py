"""Scores the benchmark runs and renders the Markdown tables (used by suite.py).

Score (Bayesmark's normalized score): for a run and a checkpoint k (25/50/100%
of the budget), the recommended point is the best observed one among the first
k evaluations (by the value the optimizer saw, so noisy problems recommend by
the noisy value) and it is scored by its noise-free value:
    score = (f(rec) - f*) / (median over seeds of random search's (f(best) - f*) at k)
0 = the optimum, 1 = random search's median. Several objectives: f(rec) - f* is
replaced by (maximal hypervolume - hypervolume of the first k points). A run
with no successful evaluation yet scores the problem's fallback (the default
configuration). Per problem, kerntune is compared with each peer by a Wilcoxon
signed-rank test on the final scores, paired by seed.
"""
import json
import math
import os
import re
import statistics

try:
    from scipy import stats
except ImportError:  # scores still compute; the paired test falls back to wilcoxon_p below
    stats = None


def wilcoxon_p(a, b):
    """Two-sided Wilcoxon signed-rank p-value of the pairs (a, b), as scipy's
    default: zero differences dropped; the exact null distribution for n <= 50
    without tied |differences|, else the normal approximation (tie-corrected).
    Used when scipy is not installed."""
    d = [x - y for x, y in zip(a, b) if x != y]
    n = len(d)
    if n == 0:
        return 1.0
    order = sorted(range(n), key=lambda i: abs(d[i]))
    ranks = [0.0] * n
    i, ties = 0, []
    while i < n:
        j = i
        while j + 1 < n and abs(d[order[j + 1]]) == abs(d[order[i]]):
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    w_plus = sum(r for r, x in zip(ranks, d) if x > 0)
    w = min(w_plus, n * (n + 1) / 2 - w_plus)
    if n <= 50 and not ties:
        counts = [1] + [0] * (n * (n + 1) // 2)  # subsets of {1..n} by rank sum
        for r in range(1, n + 1):
            for t in range(len(counts) - 1, r - 1, -1):
                counts[t] += counts[t - r]
        return min(1.0, 2 * sum(counts[: int(w) + 1]) / 2 ** n)
    mean = n * (n + 1) / 4
    var = n * (n + 1) * (2 * n + 1) / 24 - sum(t ** 3 - t for t in ties) / 48
    z = (w - mean) / math.sqrt(var)
    return min(1.0, math.erfc(-z / math.sqrt(2)))

CHECKPOINTS = (0.25, 0.5, 1.0)
ORDER = ("kerntune", "kerntune_parego", "random", "sobol", "tpe", "cmaes", "ot_ego", "dlib")
LABEL = {"kerntune": "kerntune", "kerntune_parego": "kerntune ParEGO", "random": "random", "sobol": "Sobol", "tpe": "Optuna TPE",
         "cmaes": "Optuna CMA-ES", "ot_ego": "OpenTURNS EGO", "dlib": "dlib"}
ALPHA = 0.05


def nmean(xs):
    xs = [x for x in xs if x == x]
    return statistics.fmean(xs) if xs else math.nan


def load_run(path):
    header, evals, tail = None, [], {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            j = json.loads(line)
            if header is None:
                header = j
            elif "i" in j:
                evals.append(j)
            elif j.get("done"):
                tail = j
    return header, evals, tail


def hypervolume_2d(points, ref):
    pts = sorted(p for p in points if p[0] < ref[0] and p[1] < ref[1])
    volume, best = 0.0, ref[1]
    for a, b in pts:
        if b < best:
            volume += (ref[0] - a) * (best - b)
            best = b
    return volume


def hypervolume(points, ref):
    """Dominated hypervolume (minimized), any number of objectives: slices
    along the last objective down to the 2-D sweep."""
    pts = [p for p in points if all(v < r for v, r in zip(p, ref))]
    if len(ref) <= 2:
        return hypervolume_2d(pts, ref) if len(ref) == 2 else (ref[0] - min((p[0] for p in pts), default=ref[0]))
    pts.sort(key=lambda p: p[-1])
    total = 0.0
    for j in range(1, len(pts) + 1):
        top = ref[-1] if j == len(pts) else pts[j][-1]
        if top > pts[j - 1][-1]:
            total += (top - pts[j - 1][-1]) * hypervolume([p[:-1] for p in pts[:j]], ref[:-1])
    return total


def gap(problem, evals, k):
    """Distance from the optimum of the recommendation after k evaluations."""
    prefix = [e for e in evals[:k] if not e["failed"]]
    if problem["n_objectives"] >= 2:
        hv = hypervolume([tuple(e["truth"]) for e in prefix], problem["reference"])
        return problem["optimum"] - hv
    if not prefix:
        fallback = problem["fallback"]
        return (fallback if fallback is not None else math.inf) - problem["optimum"]
    best = min(prefix, key=lambda e: e["observed"][0])
    return best["truth"][0] - problem["optimum"]


def category(problem):
    kinds = {q["type"] for q in problem["params"]}
    tags = []
    if kinds - {"real"}:
        tags.append("mixed")
    if problem["noise_sd"] > 0:
        tags.append("noisy")
    if problem["can_fail"]:
        tags.append("failure")
    if problem["n_objectives"] > 1:
        tags.append(f"{problem['n_objectives']}-objective")
    return tags


def analyze(results, problems):
    out = {"problems": [], "checkpoints": list(CHECKPOINTS)}
    for p in problems:
        pdir = os.path.join(results, p["name"])
        runs = {}
        for o in ORDER:
            odir = os.path.join(pdir, o)
            if not os.path.isdir(odir):
                continue
            for fn in sorted(os.listdir(odir)):
                m = re.fullmatch(r"seed(\d+)\.jsonl", fn)
                if not m:
                    continue
                header, evals, tail = load_run(os.path.join(odir, fn))
                if not tail:
                    continue
                runs.setdefault(o, {})[int(m.group(1))] = (header["budget"], evals, tail)
        entry = {"name": p["name"], "description": p["description"], "dims": len(p["params"]),
                 "tags": category(p), "optimizers": {}}
        if "random" not in runs:
            out["problems"].append(entry)
            continue
        budget = next(iter(runs["random"].values()))[0]
        entry["budget"] = budget
        ks = [max(1, math.ceil(budget * c)) for c in CHECKPOINTS]
        norm = []
        for k in ks:
            med = statistics.median(gap(p, ev, k) for _, ev, _ in runs["random"].values())
            norm.append(med if med > 0 else math.nan)
        # A run cut by the timeout counts only at the checkpoints it reached.
        scores = {}
        for o, by_seed in runs.items():
            scores[o] = {s: [gap(p, ev, k) / n if n == n and len(ev) >= k else math.nan
                             for k, n in zip(ks, norm)]
                         for s, (_, ev, _) in by_seed.items()}

        def column(sc, i, f):
            vals = [v[i] for v in sc.values() if v[i] == v[i]]
            return f(vals) if vals else math.nan

        for o, by_seed in runs.items():
            sc = scores[o]
            info = {"seeds": len(sc),
                    "seeds_full": sum(1 for v in sc.values() if v[-1] == v[-1]),
                    "mean": [column(sc, i, statistics.fmean) for i in range(len(ks))],
                    "median": [column(sc, i, statistics.median) for i in range(len(ks))],
                    "truncated": sum(1 for _, _, t in by_seed.values() if t.get("truncated")),
                    "evaluations": statistics.fmean(len(ev) for _, ev, _ in by_seed.values()),
                    "failures": statistics.fmean(sum(e["failed"] for e in ev) for _, ev, _ in by_seed.values()),
                    "opt_s": statistics.fmean(statistics.fmean(e["opt_s"] for e in ev) if ev else 0
                                              for _, ev, _ in by_seed.values())}
            cpu = [e["opt_cpu_s"] for _, ev, _ in by_seed.values() for e in ev if "opt_cpu_s" in e]
            if cpu:
                info["opt_cpu_s"] = statistics.fmean(cpu)
            if o != "kerntune" and "kerntune" in scores:
                common = sorted(s for s in set(sc) & set(scores["kerntune"])
                                if sc[s][-1] == sc[s][-1] and scores["kerntune"][s][-1] == scores["kerntune"][s][-1])
                a = [scores["kerntune"][s][-1] for s in common]
                b = [sc[s][-1] for s in common]
                diffs = [x - y for x, y in zip(a, b)]
                p_value = 1.0
                if len(common) >= 5 and any(abs(d) > 1e-12 for d in diffs):
                    p_value = float(stats.wilcoxon(a, b).pvalue) if stats is not None else wilcoxon_p(a, b)
                info["paired_seeds"] = len(common)
                info["p_value"] = p_value
                # negative: kerntune's scores are lower (better) than the peer's
                info["mean_diff"] = statistics.fmean(diffs) if diffs else 0.0
                info["median_diff"] = statistics.median(diffs) if diffs else 0.0
            entry["optimizers"][o] = info
        out["problems"].append(entry)
    return out


def verdict(info):
    """'better' / 'worse' / '' for kerntune against this peer (Wilcoxon, alpha 0.05)."""
    if "p_value" not in info or info["p_value"] >= ALPHA:
        return ""
    return "better" if info["median_diff"] < 0 or (info["median_diff"] == 0 and info["mean_diff"] < 0) else "worse"


def fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.2f}" if abs(x) < 100 else f"{x:.0f}"


def render(summary):
    probs = [p for p in summary["problems"] if p["optimizers"]]
    present = [o for o in ORDER if any(o in p["optimizers"] for p in probs)]
    lines = []
    seeds = sorted({i["seeds"] for p in probs for i in p["optimizers"].values()})
    mode = "quick mode (40% budgets, few seeds — a smoke check, not a result)" if summary.get("quick") else "full budgets"
    lines.append(f"Command: `{summary['command']}` — {mode}; seeds per cell: "
                 f"{seeds[0]}–{seeds[-1]}" if seeds and seeds[0] != seeds[-1] else
                 f"Command: `{summary['command']}` — {mode}; seeds per cell: {seeds[0] if seeds else 0}")
    lines.append(f"(wall time {summary.get('wall_seconds', 0) / 60:.0f} min on the shared 2-core machine, "
                 f"5-minute load average {summary.get('loadavg', 0):.0f} at the end; jobs ran at nice "
                 f"{summary.get('nice', 10)}).")
    lines.append("")
    lines.append("Mean normalized score at 100% of the budget (0 = optimum, 1 = random search's median; "
                 "lower is better). ▲ / ▼: kerntune significantly better / worse than that optimizer on "
                 "that problem (Wilcoxon signed-rank, paired by seed, p < 0.05). Bold: best mean in the row. "
                 "– : does not apply.")
    lines.append("")
    lines.append("| problem | d | budget | " + " | ".join(LABEL[o] for o in present) + " |")
    lines.append("|---|---|---|" + "---|" * len(present))
    for p in probs:
        row = [f"{p['name']}" + (f" ({', '.join(p['tags'])})" if p["tags"] else ""), str(p["dims"]),
               str(p.get("budget", "–"))]
        means = {o: p["optimizers"][o]["mean"][-1] for o in present if o in p["optimizers"]}
        max_seeds = max(i["seeds_full"] for i in p["optimizers"].values())
        best = min((v for v in means.values() if v == v), default=None)
        for o in present:
            if o not in p["optimizers"]:
                row.append("–")
                continue
            info = p["optimizers"][o]
            cell = fmt(info["mean"][-1])
            if best is not None and info["mean"][-1] == best:
                cell = f"**{cell}**"
            v = verdict(info)
            cell += " ▲" if v == "better" else " ▼" if v == "worse" else ""
            if info["truncated"]:
                cell += f" ({info['truncated']} cut)"
            if info["seeds_full"] < max_seeds:
                cell += f" n={info['seeds_full']}"
            row.append(cell)
        lines.append("| " + " | ".join(row) + " |")
    # suite means: over every problem an optimizer runs, and over the problems all
    # the well-covered optimizers (scores on at least 5 problems) run
    common = common_problems(probs, present)
    lines.append("| **mean, all problems it runs** | | | " + " | ".join(
        fmt(nmean(p["optimizers"][o]["mean"][-1] for p in probs if o in p["optimizers"]))
        + f" ({sum(o in p['optimizers'] and p['optimizers'][o]['mean'][-1] == p['optimizers'][o]['mean'][-1] for p in probs)})"
        for o in present) + " |")
    if common:
        lines.append(f"| **mean, the {len(common)} problems all run** | | | " + " | ".join(
            fmt(nmean(p["optimizers"][o]["mean"][-1] for p in common)) if o in covered(probs, present) else "–"
            for o in present) + " |")
    lines.append("")
    lines.append("Mean score at 25% / 50% of the budget:")
    lines.append("")
    lines.append("| problem | " + " | ".join(LABEL[o] for o in present) + " |")
    lines.append("|---|" + "---|" * len(present))
    for p in probs:
        cells = []
        for o in present:
            info = p["optimizers"].get(o)
            cells.append("–" if info is None else f"{fmt(info['mean'][0])} / {fmt(info['mean'][1])}")
        lines.append(f"| {p['name']} | " + " | ".join(cells) + " |")
    peers = [o for o in present if o != "kerntune"]
    if any("kerntune" in p["optimizers"] for p in probs) and peers:
        lines.append("")
        lines.append("Half budget (issue 18): kerntune's mean score at 50% of the budget beside each peer's at "
                     "100%. ✓: kerntune at half the budget is at least as good as the best peer with the whole "
                     "budget.")
        lines.append("")
        lines.append("| problem | kerntune at 50% | " + " | ".join(f"{LABEL[o]} at 100%" for o in peers) + " | |")
        lines.append("|---|---|" + "---|" * len(peers) + "---|")
        for p in probs:
            k = p["optimizers"].get("kerntune")
            if not k:
                continue
            finals = {o: p["optimizers"][o]["mean"][-1] for o in peers if o in p["optimizers"]}
            best_peer = min((v for v in finals.values() if v == v), default=None)
            mark = "✓" if best_peer is not None and k["mean"][1] <= best_peer else ""
            lines.append(f"| {p['name']} | {fmt(k['mean'][1])} | " +
                         " | ".join(fmt(finals[o]) if o in finals else "–" for o in peers) + f" | {mark} |")
    fail_probs = [p for p in probs if "failure" in p["tags"]]
    for p in fail_probs:
        lines.append("")
        lines.append(f"Failed evaluations on `{p['name']}` (mean per run of {p.get('budget')}; "
                     "▲ / ▼ as above refer to the score):")
        lines.append("")
        lines.append("| " + " | ".join(LABEL[o] for o in present if o in p["optimizers"]) + " |")
        lines.append("|" + "---|" * sum(o in p["optimizers"] for o in present))
        lines.append("| " + " | ".join(fmt(p["optimizers"][o]["failures"]) for o in present
                                       if o in p["optimizers"]) + " |")
    lines.append("")
    lines.append("Optimizer time per proposal (mean seconds, all problems; includes Python/Optuna overhead "
                 "for the Python peers):")
    lines.append("")
    lines.append("| " + " | ".join(LABEL[o] for o in present) + " |")
    lines.append("|" + "---|" * len(present))
    lines.append("| " + " | ".join(
        f"{statistics.fmean(p['optimizers'][o]['opt_s'] for p in probs if o in p['optimizers']):.3f}"
        for o in present) + " |")
    cpu_rows = [(p["name"], p["optimizers"]["kerntune"]["opt_cpu_s"]) for p in probs
                if "opt_cpu_s" in p["optimizers"].get("kerntune", {})]
    if cpu_rows:
        lines.append("")
        lines.append("These are wall times, stretched by the machine's load. kerntune's own CPU time per "
                     "proposal (thread CPU time, mean): " +
                     ", ".join(f"{name} {v:.3f} s" for name, v in cpu_rows) + ".")
    lines.append("")
    lines.extend(goals(summary, probs, present))
    return "\n".join(lines)


def scored(info):
    return info is not None and info["mean"][-1] == info["mean"][-1]


def covered(probs, present):
    """Optimizers with a final score on at least 5 problems (EGO applies to few, and may be cut)."""
    return [o for o in present if sum(scored(p["optimizers"].get(o)) for p in probs) >= 5]


def common_problems(probs, present):
    wide = covered(probs, present)
    return [p for p in probs if all(scored(p["optimizers"].get(o)) for o in wide)]


def goals(summary, probs, present):
    """The issue's goals, checked against this run."""
    out = ["Goals (issues 4 and 18), checked automatically against this run:", ""]
    if not any("kerntune" in p["optimizers"] for p in probs):
        return out + ["* kerntune has no runs."]
    wide = covered(probs, present)
    means = {o: nmean(p["optimizers"][o]["mean"][-1] for p in probs if o in p["optimizers"])
             for o in wide}
    if not means:  # a run of fewer than 5 problems (e.g. --problems kernel_like)
        return out + ["* Best mean score over the suite: not judged (fewer than 5 problems in this run)."]
    best = min(means, key=means.get)
    common = common_problems(probs, present)
    cm = {o: nmean(p["optimizers"][o]["mean"][-1] for p in common) for o in wide} if common else {}
    cbest = min(cm, key=cm.get) if cm else None
    ok = best == "kerntune"
    out.append(f"* Best mean score over the suite (optimizers scored on at least 5 problems): "
               f"{'met' if ok else 'NOT met'} — lowest mean over all the problems each runs: {LABEL[best]} ({fmt(means[best])}; kerntune {fmt(means['kerntune'])})"
               + (f"; over the {len(common)} problems all run: {LABEL[cbest]} ({fmt(cm[cbest])}; kerntune "
                  f"{fmt(cm['kerntune'])})." if cm else "."))
    not_better = [p["name"] for p in probs if "random" in p["optimizers"]
                  and verdict(p["optimizers"]["random"]) != "better"]
    out.append("* Significantly better than random on every problem: "
               + ("met." if not not_better else f"NOT met on {', '.join(not_better)}."))
    worse = [f"{p['name']} vs {LABEL[o]}" for p in probs
             if set(p["tags"]) & {"mixed", "noisy", "failure"}
             for o, info in p["optimizers"].items() if o != "kerntune" and verdict(info) == "worse"]
    out.append("* Never significantly worse than a peer on the mixed, noisy and failure problems: "
               + ("met." if not worse else f"NOT met: {', '.join(worse)}."))
    for p in probs:
        if "failure" not in p["tags"] or "kerntune" not in p["optimizers"]:
            continue
        f = {o: i["failures"] for o, i in p["optimizers"].items()}
        fewest = min(f, key=f.get)
        met = f["kerntune"] <= f[fewest]
        out.append(f"* Fewest failed evaluations on {p['name']}: {'met' if met else 'NOT met'} — kerntune "
                   f"{fmt(f['kerntune'])}, fewest {LABEL[fewest]} {fmt(f[fewest])}.")
    # Issue 18: anytime strength.
    for k, label in ((0, "25%"), (1, "50%")):
        at = {o: nmean(p["optimizers"][o]["mean"][k] for p in common) for o in wide} if common else {}
        if at:
            lead = min(at, key=at.get)
            out.append(f"* Best mean score at {label} of the budget (issue 18; the {len(common)} problems all run): "
                       f"{'met' if lead == 'kerntune' else 'NOT met'} — " +
                       ", ".join(f"{LABEL[o]} {fmt(v)}" for o, v in sorted(at.items(), key=lambda kv: kv[1])) + ".")
    half = []
    for p in probs:
        kt = p["optimizers"].get("kerntune")
        finals = [i["mean"][-1] for o, i in p["optimizers"].items() if o != "kerntune" and i["mean"][-1] == i["mean"][-1]]
        if kt and finals:
            half.append((p["name"], kt["mean"][1] <= min(finals)))
    if half:
        n_ok = sum(ok for _, ok in half)
        out.append(f"* At 50% of the budget at least as good as the best peer at 100% on most problems (issue 18): "
                   f"{'met' if 2 * n_ok > len(half) else 'NOT met'} — on {n_ok} of {len(half)}"
                   + (f" ({', '.join(n for n, ok in half if ok)})" if n_ok else "") + ".")
    wallclock = [f"{p['name']}/{LABEL[o]} ({i['truncated']})" for p in probs
                 for o, i in p["optimizers"].items() if i["truncated"]]
    if wallclock:
        out.append("* Runs cut by the per-job timeout (scored on the evaluations made): "
                   + ", ".join(wallclock) + ".")
    return out


def write_section(path, key, body):
    """Replaces the generated block KEY in the Markdown file (creating file and block if needed)."""
    begin = f"<!-- BEGIN generated:{key} (benchmarks/bo; do not edit by hand) -->"
    end = f"<!-- END generated:{key} -->"
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        a = text.index(begin)
        b = text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    else:
        if not text:
            text = "# Benchmarks\n\nMeasured results of kerntune's own benchmarks, with the commands that produce them.\n"
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
