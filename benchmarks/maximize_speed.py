"""How fast and how good activation maximization is on a 784-16-16-10 net.

Maximizes all 42 hidden and output units (16 + 16 + 10) with ``handnet.inside.maximize.search.maximize_units``
and compares every deeper unit with the yardstick: the best of 100 random-start
projected-gradient runs (200 steps each), timed in the same run.

    PYTHONPATH=. python benchmarks/maximize_speed.py [NET.npz ...] [--seed N]

With no networks, uses seeded random nets (Glorot init, which saturates the first layer).
"""

import argparse
import time

import numpy as np

from handnet.inside import maximize as mx
from handnet.inside.maximize import search
from handnet.nn.network import Network, random_network


def bench(name, net):
    mx.maximize(net, net.units()[-1])  # warm up: imports scipy.optimize
    search.clear_cache()  # time the search, not the cache
    started = time.perf_counter()
    results = mx.maximize_units(net)
    total = time.perf_counter() - started
    deeper = [r for r in results if not r.exact]
    started = time.perf_counter()
    baselines = [mx.random_start_baseline(net, r.unit, n_starts=100, seed=1)[1] for r in deeper]
    baseline_total = time.perf_counter() - started
    # equal up to rounding counts as a match: saturated sigmoids leave differences of ~1e-8
    beats = sum(r.value >= b - 1e-6 * max(1.0, abs(b)) for r, b in zip(deeper, baselines))
    margins = [r.value - b for r, b in zip(deeper, baselines)]
    gaps = np.array([r.gap for r in deeper])
    print(
        f"{name:<28} {len(results):>3} units {total:6.2f} s   "
        f"{len(results) - len(deeper):>2} exact, {len(deeper):>2} optimized: "
        f">= baseline {beats}/{len(deeper)} (worst margin {min(margins):+.2e}), "
        f"within 1% of bound {int(np.sum(gaps <= 0.01))}/{len(deeper)} (largest gap {gaps.max():.1%})   "
        f"baseline (100 starts, deeper units only) {baseline_total:6.2f} s = {baseline_total / total:4.1f}x"
    )
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nets", nargs="*", help="saved networks (.npz)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    nets = [(path, Network.load(path)) for path in args.nets] or [
        (f"random 784-16-16-10 seed {s}", random_network(seed=s)) for s in range(args.seed, args.seed + 3)
    ]
    totals = [bench(name, net) for name, net in nets]
    print(f"all 42 units: median {np.median(totals):.2f} s over {len(totals)} nets (target < 0.4 s; screen batched per layer in float32)")


if __name__ == "__main__":
    main()
