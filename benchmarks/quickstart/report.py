#!/usr/bin/env python3
"""Writes the quick-start block of docs/benchmarks.md from a finished
campaign database: the `kerntune best` output verbatim, and per trial the
memory held, the GET rate and the swap traffic (from `kerntune trials --json`).
With --case-study, also the confirmed figures of docs/case-studies.md: the
pick's change from the defaults, its memory and GET-rate ratios over the
interleaved confirmation rounds with 95% intervals, and the share of the
search phase's gain the confirmation kept."""
import argparse
import json
import math
import os
import statistics as st
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block as write_block  # noqa: E402  (benchmarks/docblock.py)

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def run(cmd):
    return subprocess.run(cmd, check=False, capture_output=True, text=True).stdout


def rounds(trials, config, metric):
    """(baseline, candidate) per confirmation round: each ok confirm trial of
    `config` with the ok rebaseline right before it (as kerntune pairs them)."""
    out = []
    for prev, t in zip(trials, trials[1:]):
        if t.get("kind") != "confirm" or t.get("params") != config or prev.get("kind") != "rebaseline":
            continue
        a, b = (prev.get("metrics") or {}).get(metric), (t.get("metrics") or {}).get(metric)
        if t.get("status") == "ok" and prev.get("status") == "ok" and a and b:
            out.append((a, b))
    return out


def paired(r):
    """Geometric-mean ratio and Student-t 95% interval over the per-round log ratios."""
    d = [math.log(b / a) for a, b in r]
    m = st.mean(d)
    if len(d) < 2:
        return math.exp(m), None, None
    half = T975.get(len(d) - 1, 2.0) * st.stdev(d) / math.sqrt(len(d))
    return math.exp(m), math.exp(m - half), math.exp(m + half)


def show(k, v):
    if k.endswith("memory.high") and isinstance(v, (int, float)):
        return f"{v / 1048576:.1f} MiB"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def confirmed_table(trials, config):
    """Rows of the confirmation rounds of `config`, and its ratios per metric."""
    rows, ratios = [], {}
    for metric in ("sys.workload_mem_mean_kb", "get_rps", "get_p50"):
        r = rounds(trials, config, metric)
        if not r:
            continue
        g, lo, hi = paired(r)
        ratios[metric] = (g, lo, hi)
        iv = "—" if lo is None else f"[{lo:.3f}, {hi:.3f}] ({(lo - 1) * 100:+.1f}% … {(hi - 1) * 100:+.1f}%)"
        pairs = "; ".join(f"{x:.0f} → {y:.0f}" if x > 100 else f"{x:.2f} → {y:.2f}" for x, y in r)
        rows.append(f"| {metric} | {len(r)} | {pairs} | {g:.3f} ({(g - 1) * 100:+.1f}%) | {iv} |")
    return rows, ratios


def case_study(a, trials, best):
    base = next(t for t in trials if t.get("kind") == "baseline")
    out = []
    found = best.get("recommendation", {}).get("found")
    changed = {k: v for k, v in (best.get("params") or {}).items() if base["params"].get(k) != v} if found else {}
    if not found:
        out.append("No recommendation: no configuration kept every limit (`kerntune best` in benchmarks.md says which broke it).")
    elif not changed:
        out.append("`kerntune best` recommends the defaults: no configuration was confirmed better within the limits.")
    else:
        out.append(f"Pick: trial {best['seq']}; changed from the defaults: "
                   + ", ".join(f"`{k}` {show(k, base['params'].get(k))} → {show(k, v)}" for k, v in changed.items()) + ".")
    confirmed = []
    for t in trials:
        if t.get("kind") == "confirm" and t.get("params") not in confirmed:
            confirmed.append(t.get("params"))
    for config in confirmed:
        seq = next((t["seq"] for t in trials if t.get("params") == config and t.get("kind") == "proposal"), "?")
        is_pick = found and config == best.get("params")
        rows, ratios = confirmed_table(trials, config)
        diff = ", ".join(f"`{k}` {show(k, v)}" for k, v in config.items() if base["params"].get(k) != v)
        out += ["", f"Confirmation of trial {seq} ({'the pick' if is_pick else 'not the pick'}; {diff}), "
                    "interleaved with the baseline on fresh boots:", "",
                "| metric | rounds | per-round baseline → candidate | ratio | 95% interval over rounds |",
                "|---|---|---|---|---|"] + rows
        mem = "sys.workload_mem_mean_kb"
        search = [t for t in trials if t.get("kind") == "proposal" and t.get("params") == config]
        if search and mem in ratios and base.get("metrics", {}).get(mem):
            s_ratio = median([t["metrics"][mem] for t in search if mem in t.get("metrics", {})]) / base["metrics"][mem]
            g = ratios[mem][0]
            kept = (1 - g) / (1 - s_ratio) if s_ratio != 1 else float("nan")
            out += ["", f"Search phase: {mem} {s_ratio:.3f} of trial 0's ({(s_ratio - 1) * 100:+.1f}%); confirmed "
                        f"{g:.3f} ({(g - 1) * 100:+.1f}%): **{kept:.0%} of the gain kept**."]
    out += verify_lines(a, trials, best, confirmed)
    if not confirmed:
        out += ["", "No candidate was confirmed (the confirmation phase re-measures only candidates that kept every limit "
                    "in the search)."]
    return "\n".join(out)


def verify_lines(a, trials, best, confirmed):
    """The exported bundle re-measured by `kerntune verify` (run.sh), compared
    with the confirmation of the same configuration."""
    if not a.verify:
        return []
    try:
        with open(a.verify) as f:
            v = json.load(f)
    except (OSError, ValueError):
        return ["", f"`kerntune verify` of the exported bundle: no result ({a.verify} missing or not JSON)."]
    m = v.get("measurement") or {}
    r = m.get("ratio")
    if not r:
        return ["", f"`kerntune verify` of the exported bundle: {m.get('decision', 'no measurement')}: {m.get('message', '')}"]
    n = len(m.get("baseline_values") or [])
    out = ["", f"The exported bundle (`kerntune export --best`, {v.get('files')} files, checksums ok) re-measured by "
               f"`kerntune verify --recipe {a.recipe} --repeats {n}` on {2 * n} more fresh boots, interleaved "
               f"({a.verify_seconds / 60:.0f} min): {m.get('metric')} ratio **{r['estimate']:.3f}**, 95% interval "
               f"[{r['lo']:.3f}, {r['hi']:.3f}] ({r.get('method')}); decision `{m.get('decision')}`."]
    config = best.get("params")
    mem = "sys.workload_mem_mean_kb"
    if config in confirmed and m.get("metric") == mem:
        rows = rounds(trials, config, mem)
        if len(rows) >= 2:
            g, lo, hi = paired(rows)
            overlap = r["lo"] <= hi and lo <= r["hi"]
            inside = lo <= r["estimate"] <= hi
            out.append(f"Against the confirmation ({g:.3f}, [{lo:.3f}, {hi:.3f}]): the intervals "
                       f"{'overlap' if overlap else 'do not overlap'}, and verify's estimate is "
                       f"{'inside' if inside else 'outside'} the confirmation's interval "
                       f"({(r['estimate'] / g - 1) * 100:+.1f}% from it).")
            base = next((t for t in trials if t.get("kind") == "baseline"), {})
            search = [t["metrics"][mem] for t in trials if t.get("kind") == "proposal" and t.get("params") == config
                      and mem in (t.get("metrics") or {})]
            if search and (base.get("metrics") or {}).get(mem):
                s_ratio = median(search) / base["metrics"][mem]
                if s_ratio != 1:
                    out.append(f"Share of the search phase's gain kept by the re-measured bundle: "
                               f"**{(1 - r['estimate']) / (1 - s_ratio):.0%}**.")
    return out


def replace_block(path, key, body):
    write_block(path, key, "benchmarks/quickstart", body)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


NOT_STAGES = {"total", "optimizer", "cache_hit", "kernel_builds", "ccache_hits", "ccache_misses"}


def overhead_lines(trials):
    """kerntune's own time per trial from the stored per-stage timings: the
    trial's total minus the target's stages (initramfs, boot, apply, setup,
    workload, restore, build), i.e. the optimizer's proposal plus recording,
    as a share of the total; and the median share of each stage."""
    shares, opt, stages = [], [], {}
    for t in trials:
        tm = t.get("timings") or {}
        total = tm.get("total")
        if t.get("status") != "ok" or not total:
            continue
        spent = sum(v for k, v in tm.items() if k not in NOT_STAGES)
        shares.append(max(0.0, total - spent) / total)
        opt.append(tm.get("optimizer", 0.0) / total)
        for k, v in tm.items():
            if k not in NOT_STAGES:
                stages.setdefault(k, []).append(v / total)
    if not shares:
        return ""
    parts = ", ".join(f"{k} {median(v):.0%}" for k, v in sorted(stages.items(), key=lambda kv: -median(kv[1])))
    return (f"\n\nkerntune's own time per trial (the trial's total minus the target's stages: the optimizer's "
            f"proposal and recording), from the stored per-stage timings of the {len(shares)} measured trials: "
            f"**median {median(shares):.2%}, max {max(shares):.2%}** of the trial's time (the proposal alone: "
            f"median {median(opt):.2%}, max {max(opt):.2%}). Median share of a trial's time by stage: {parts}.")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kerntune", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--verify", help="kerntune verify --json output of the exported recommendation")
    ap.add_argument("--verify-seconds", type=int, default=0)
    ap.add_argument("--case-study", help="also write the confirmed figures into this file's block --case-block")
    ap.add_argument("--doc-block", default="quickstart", help="the block of --doc to write (default quickstart)")
    ap.add_argument("--case-block", default="memory-showcase",
                    help="the block of --case-study to write (default memory-showcase)")
    ap.add_argument("--recipe", default="recipes/quickstart.yaml", help="the recipe, as named in the blocks")
    ap.add_argument("--command", default="benchmarks/quickstart/run.sh", help="the command named in the blocks")
    a = ap.parse_args()
    best = run([a.kerntune, "best", "--db", a.db]).rstrip()
    trials = json.loads(run([a.kerntune, "trials", "--db", a.db, "--json"]) or "[]")
    rows = ["| seq | kind | memory held (mean kB) | GET/s | swap out (pages) | zswap out (pages) | memory.high |",
            "|---|---|---|---|---|---|---|"]
    for t in trials:
        m = t.get("metrics") or {}
        p = t.get("params") or {}

        def fmt(key, digits=0):
            v = m.get(key)
            return "—" if v is None else f"{v:.{digits}f}"
        high = p.get("fs/cgroup/kerntune/memory.high")
        rows.append(f"| {t.get('seq')} | {t.get('kind')} | {fmt('sys.workload_mem_mean_kb')} | {fmt('get_rps')} | "
                    f"{fmt('sys.swap_out_pages')} | {fmt('sys.zswap_out_pages')} | "
                    f"{'—' if high is None else f'{high / 1048576:.0f} MiB'} |")
    body = (f"Commit {a.commit}, `{a.command}`, {a.seconds} s wall "
            f"({a.seconds / 60:.1f} min) on this machine.\n\n```\n$ kerntune best\n{best}\n```\n\n"
            "Per trial (medians over the trial's repeats; confirmation runs included):\n\n" + "\n".join(rows)
            + overhead_lines(trials))
    replace_block(a.doc, a.doc_block, body)
    if a.case_study:
        best_json = json.loads(run([a.kerntune, "best", "--db", a.db, "--json"]) or "{}")
        replace_block(a.case_study, a.case_block,
                      f"Commit {a.commit}, `{a.command}` ({a.seconds / 60:.0f} min wall).\n\n"
                      + case_study(a, trials, best_json))


if __name__ == "__main__":
    main()
