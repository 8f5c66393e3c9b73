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
