"""How long a user waits for handnet's commands, idle and with one core busy.

Each command runs in a fresh process (what a user types), ``--repeats`` times; the figures are
medians of wall time and of CPU time (user + system of the child). "busy" runs the same command
beside one process spinning on a core (``while True: pass``), which this script starts and stops.
``--tree DIR`` times another checkout (e.g. the main branch) in the same run for a before/after ratio.

    PYTHONPATH=. python benchmarks/wait_times.py [--repeats 5] [--tree ../main] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (name, arguments after `handnet`, target idle: (metric, seconds), target busy wall / idle wall)
COMMANDS = [
    ("build 3b1b-fitted.toml", ["build", "{root}/weight_specs/3b1b-fitted.toml", "-o", "{tmp}/fitted.npz"],
     ("cpu", 0.5), 1.5),
    ("build 3b1b.toml", ["build", "{root}/weight_specs/3b1b.toml", "-o", "{tmp}/hand.npz"], ("cpu", 0.5), 1.5),
    ("render maximize hand.npz", ["render", "maximize", "{tmp}/hand.npz", "-o", "{tmp}/maximize"], ("wall", 1.5), None),
]

def run_once(argv, tree: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``handnet`` run from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from handnet.cli import main; main()", *argv], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(argv, tree: Path, repeats: int, busy: bool) -> dict:
    spinner = None
    if busy:
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)
    try:
        runs = [run_once(argv, tree) for _ in range(repeats)]
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    return {"wall": statistics.median(w for w, _ in runs), "cpu": statistics.median(c for _, c in runs)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="another checkout to time in the same run (before)")
    parser.add_argument("--json", action="store_true", dest="as_json")
    args = parser.parse_args()
    trees = [("this tree", ROOT)] + ([("--tree", args.tree.resolve())] if args.tree else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, template, (metric, target), busy_target in COMMANDS:
            argv = [a.format(root=ROOT, tmp=tmp) for a in template]
            run_once(argv, ROOT)  # warm the file cache and the bytecode (and write hand.npz for render)
            for label, tree in trees:
                idle = measure(argv, tree, args.repeats, busy=False)
                busy = measure(argv, tree, args.repeats, busy=True) if busy_target else None
                rows.append({"command": f"handnet {name}", "tree": label, "idle_wall_s": idle["wall"],
                             "idle_cpu_s": idle["cpu"], "busy_wall_s": busy and busy["wall"],
                             "busy_over_idle": busy and busy["wall"] / idle["wall"],
                             f"target_idle_{metric}_s": target, "target_busy_over_idle": busy_target})
    load = os.getloadavg()[0]
    if args.as_json:
        print(json.dumps({"repeats": args.repeats, "load_average_1min": load, "rows": rows}, indent=2))
        return
    print(f"median of {args.repeats} runs each; 1-minute load average at the end {load:.2f}")
    print(f"{'command':<34} {'tree':<10} {'idle wall':>9} {'idle CPU':>9} {'target':>12} "
          f"{'busy wall':>9} {'busy/idle':>9} {'target':>7}")
    for r in rows:
        target = next(f"{k.split('_')[2]} <{v}" for k, v in r.items() if k.startswith("target_idle"))
        busy = (f"{r['busy_wall_s']:8.2f}s {r['busy_over_idle']:8.2f}x {'<' + str(r['target_busy_over_idle']):>7}"
                if r["busy_wall_s"] is not None else "")
        print(f"{r['command']:<34} {r['tree']:<10} {r['idle_wall_s']:8.2f}s {r['idle_cpu_s']:8.2f}s {target:>12} {busy}")

if __name__ == "__main__":
    main()
