"""Running kerntune from the benchmark scripts: its JSON answers."""
import json
import subprocess
import sys


def kt_json(kt, *args):
    """`kt ARGS` parsed as JSON; exits with its stderr unless it ended 0 or 1."""
    r = subprocess.run([kt, *args], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"{kt} {' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


def true_value(evaluator, params):
    """The noise-free objective of `params` from a benchmark's black box (`EVALUATOR --true JSON`)."""
    r = subprocess.run([sys.executable, evaluator, "--true", json.dumps(params)], capture_output=True, text=True,
                       check=True)
    return float(r.stdout)


def quartiles(values, fmt="{:.3f}"):
    """'median [first quartile, third quartile]' of `values`, each formatted with `fmt`."""
    import statistics as st
    v = sorted(values)
    q = st.quantiles(v, n=4) if len(v) > 1 else [v[0], v[0], v[0]]
    return f"{fmt.format(st.median(v))} [{fmt.format(q[0])}, {fmt.format(q[2])}]"
