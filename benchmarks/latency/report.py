#!/usr/bin/env python3
"""The latency showcase's figures (benchmarks/latency/run.sh) from its three
campaigns: per campaign the search-phase gain in p99 (each proposal against
the median of the campaign's search-phase baseline runs; feasible = GET rate
>= 95% of theirs), the confirmed ratio of the pick with its 95% interval over
interleaved fresh-boot rounds (geometric mean of per-round ratios, Student t
on their logs), the share of the search gain kept, the number of proposals
each needed to reach the cold campaign's final search gain, and verify's
re-measurement of the exported cold winner. Writes the block
'latency-showcase' of --doc."""
import argparse
import json
import os
import statistics as st
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quickstart"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from docblock import replace_block  # noqa: E402  (benchmarks/docblock.py)
from report import paired, rounds, show  # noqa: E402  (the quick start's pairing, shared)

P99, RPS = "get_p99", "get_rps"


def load(kerntune, db):
    run = lambda *a: subprocess.run([kerntune, *a, "--db", db, "--json"], capture_output=True, text=True).stdout  # noqa: E731
    trials = json.loads(run("trials") or "[]")
    best = json.loads(run("best") or "{}")
    return trials, best


def search_figures(trials):
    """(baseline p99, baseline rps, [(proposal index, seq, p99 ratio, feasible)])."""
    base = [t for i, t in enumerate(trials) if t.get("status") == "ok" and (t.get("kind") == "baseline" or (
        t.get("kind") == "rebaseline" and not (i + 1 < len(trials) and trials[i + 1].get("kind") == "confirm")))]
    bp = st.median(t["metrics"][P99] for t in base if P99 in t.get("metrics", {}))
    br = st.median(t["metrics"][RPS] for t in base if RPS in t.get("metrics", {}))
    props, k = [], 0
    for t in trials:
        if t.get("kind") != "proposal":
            continue
        k += 1
        m = t.get("metrics") or {}
        if t.get("status") != "ok" or P99 not in m:
            continue
        props.append((k, t["seq"], m[P99] / bp, m.get(RPS, 0) >= 0.95 * br))
    return bp, br, props


def reach(props, target):
    return next((k for k, _, r, ok in props if ok and r <= target), None)


def describe(name, trials, best, cold_final):
    bp, br, props = search_figures(trials)
    feas = [p for p in props if p[3]]
    out = [f"**{name}** — baseline (median of its search-phase runs of the defaults): p99 {bp:.2f} ms, "
           f"{br:.0f} GET/s; {len(props)} measured proposals, {len(feas)} kept the GET-rate limit."]
    final = min((r for _, _, r, _ in feas), default=None)
    if final is not None:
        k = reach(props, final)
        out.append(f"Best search-phase p99: {final:.3f} of the baseline ({(final - 1) * 100:+.1f}%), first reached at "
                   f"proposal {k}.")
    if cold_final is not None:
        k = reach(props, cold_final)
        out.append(f"Proposals to reach the cold campaign's final gain ({(cold_final - 1) * 100:+.1f}%): "
                   f"{k if k else 'not reached'}.")
    found = (best.get("recommendation") or {}).get("found")
    base = next((t for t in trials if t.get("kind") == "baseline"), {"params": {}})
    config = best.get("params") if found else None
    changed = {k: v for k, v in (config or {}).items() if base["params"].get(k) != v}
    if not found:
        out.append("`kerntune best`: no configuration kept every limit.")
    elif not changed:
        out.append("`kerntune best` recommends the defaults.")
    else:
        out.append(f"`kerntune best` picks trial {best['seq']}: "
                   + ", ".join(f"`{k}` {show(k, base['params'].get(k))} → {show(k, v)}" for k, v in changed.items()) + ".")
    confirmed = {json.dumps(t.get("params"), sort_keys=True) for t in trials if t.get("kind") == "confirm"}
    for cj in sorted(confirmed):
        c = json.loads(cj)
        seq = next((t["seq"] for t in trials if t.get("params") == c and t.get("kind") == "proposal"), "?")
        for metric in (P99, RPS):
            r = rounds(trials, c, metric)
            if len(r) < 2:
                continue
            g, lo, hi = paired(r)
            line = (f"Confirmation of trial {seq} ({'the pick' if c == config else 'not the pick'}), {metric}: "
                    f"{len(r)} interleaved rounds ({'; '.join(f'{a:.2f} → {b:.2f}' if a < 100 else f'{a:.0f} → {b:.0f}' for a, b in r)}), "
                    f"ratio **{g:.3f}**, 95% interval [{lo:.3f}, {hi:.3f}]")
            s = next((p[2] for p in props if p[1] == seq), None)
            if metric == P99 and s is not None and s != 1:
                line += f"; search phase {s:.3f}: **{(1 - g) / (1 - s):.0%} of the gain kept**"
            out.append(line + ".")
    if not confirmed:
        out.append("No candidate was confirmed.")
    return out, final


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kerntune", required=True)
    for k in ("related", "cold", "warm", "verify", "commit", "doc"):
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--load", default="")
    a = ap.parse_args()
    body = [f"Commit {a.commit}, `benchmarks/latency/run.sh` ({a.seconds / 60:.0f} min wall; host load averages "
            f"{a.load}).", ""]
    rel_t, rel_b = load(a.kerntune, a.related)
    lines, _ = describe("Related campaign (512 MiB guest)", rel_t, rel_b, None)
    body += lines + [""]
    cold_t, cold_b = load(a.kerntune, a.cold)
    lines, cold_final = describe("Cold (recipes/showcase-latency.yaml)", cold_t, cold_b, None)
    body += lines + [""]
    warm_t, warm_b = load(a.kerntune, a.warm)
    lines, _ = describe("Warm-started from the related campaign", warm_t, warm_b, cold_final)
    body += lines
    try:
        with open(a.verify) as f:
            v = json.load(f)
        m = v.get("measurement") or {}
        r = m.get("ratio")
        body += ["", f"`kerntune verify` of the exported cold winner: {m.get('metric')} "
                 + (f"ratio **{r['estimate']:.3f}**, 95% interval [{r['lo']:.3f}, {r['hi']:.3f}] over "
                    f"{len(m.get('baseline_values') or [])} interleaved rounds; decision `{m.get('decision')}`."
                    if r else f"{m.get('decision', 'no measurement')}: {m.get('message', '')}")]
    except (OSError, ValueError):
        body += ["", "`kerntune verify`: not run (no bundle: the defaults were recommended, or KERNTUNE_VERIFY_ROUNDS=0)."]
    text_body = "\n".join(body)
    replace_block(a.doc, "latency-showcase", "benchmarks/latency/run.sh", text_body)
    print(text_body)


if __name__ == "__main__":
    main()
