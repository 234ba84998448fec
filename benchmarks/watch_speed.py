"""How fast the tuning loop answers a save: `handnet watch`'s rebuild + evaluation of the 3b1b spec
on 5,000 test digits, after the first build, against a cold `handnet evaluate SPEC` run (what a
person would do without watch), measured in the same run.

Run from the project root:  PYTHONPATH=. python benchmarks/watch_speed.py [--data DIR] [--edits N]
Without --data it uses ../shared/mnist's dev split if present (5,000 digits), else the bundled
sample (5,000 digits). Prints figures; asserts nothing.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=None, help="a folder of MNIST IDX files (default: ../shared/mnist)")
    parser.add_argument("--split", default=None)
    parser.add_argument("--edits", type=int, default=20, help="saves to time")
    parser.add_argument("--spec", default=str(ROOT / "weight_specs" / "3b1b.toml"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from handnet.data.mnist import load_bundled, load_test
    from handnet.tune.watch import Watcher
    from handnet.viz.tune import render_units

    candidates = [ROOT.parent / "shared" / "mnist", ROOT.parent.parent / "shared" / "mnist"]
    shared = next((c for c in candidates if (c / "dev-images-idx3-ubyte.gz").is_file()), None)
    data = args.data or (str(shared) if shared else None)
    dataset = load_test(data, args.split) if data else load_bundled()
    print(f"spec: {args.spec} (each save changes the first edge's fraction)")
    print(f"digits: {dataset.describe()}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = tmp / Path(args.spec).name
        base.write_text(Path(args.spec).read_text())
        spec = tmp / "tuning.toml"
        from handnet.spec import load_spec

        edge = load_spec(base).edges[0].name  # the edit: this edge's threshold

        def save(fraction):
            before = spec.stat().st_mtime_ns if spec.exists() else 0
            spec.write_text(f'include = ["{base.name}"]\n[edges.{edge}]\nfraction = {fraction}\n')
            os.utime(spec, ns=(before + 10**9, before + 10**9))

        save(0.45)
        figures_out = tmp / "watch"
        quiet = Watcher(spec, dataset, None, render=None, data=data)
        start = time.perf_counter()
        quiet.poll()
        first = time.perf_counter() - start

        steps, builds, evals = [], [], []
        for k in range(args.edits):
            save(0.40 + 0.01 * (k % 10))
            start = time.perf_counter()
            report = quiet.poll()
            steps.append(time.perf_counter() - start)
            builds.append(report.seconds["build"])
            evals.append(report.seconds["evaluate"])
            assert report.ok and quiet.n_builds == k + 2

        drawn = Watcher(spec, dataset, figures_out, render=render_units, data=data)
        start = time.perf_counter()
        drawn.poll()
        first_drawn = time.perf_counter() - start
        drawn_steps, renders, n_drawn = [], [], []
        for k in range(min(args.edits, 6)):
            save(0.50 + 0.01 * k)
            start = time.perf_counter()
            report = drawn.poll()
            drawn_steps.append(time.perf_counter() - start)
            renders.append(report.seconds["render"])
            n_drawn.append(len(report.redrawn))

        quiet.poll()  # catch up with the saves made for the drawing watcher
        idle = [0.0] * 50
        for i in range(len(idle)):
            start = time.perf_counter()
            assert quiet.poll() is None
            idle[i] = time.perf_counter() - start

        env = dict(os.environ, PYTHONPATH=str(ROOT))
        command = [sys.executable, "-m", "handnet", "evaluate", str(spec), "--json"]
        if data:
            command += ["--data", data] + (["--split", args.split] if args.split else [])
        cold = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
            cold.append(time.perf_counter() - start)

    med = statistics.median
    print(f"first build + evaluation (imports, data cache): {first:.3f} s")
    print(f"each save, rebuild + evaluation, median of {len(steps)}: {med(steps) * 1000:.1f} ms "
          f"(build {med(builds) * 1000:.1f} ms, evaluate {med(evals) * 1000:.1f} ms; max {max(steps) * 1000:.1f} ms)")
    print(f"with pictures: first build draws every unit: {first_drawn:.2f} s; each save, median of "
          f"{len(drawn_steps)}: {med(drawn_steps) * 1000:.0f} ms (drawing {med(renders) * 1000:.0f} ms "
          f"for {med(n_drawn):.0f} units: the edited unit and those that read it)")
    print(f"a poll with nothing saved: {med(idle) * 1e6:.0f} us")
    print(f"cold `handnet evaluate SPEC` (new process), median of {len(cold)}: {med(cold):.2f} s")
    print(f"watch answers a save {med(cold) / med(steps):.0f}x faster than a cold evaluate run")


if __name__ == "__main__":
    main()
