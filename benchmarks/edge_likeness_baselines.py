"""Does edge-likeness separate little edges from blobs? Both measures on every baseline, with intervals.

For each set of weight vectors (white noise, blurred noise, the digits' principal components, mean
digit images, freshly initialized first layers, drawn straight strokes and quarter arcs in the
spec's template, the shipped specs' edge layers, and the first layer of twins trained with the
default recipe and with the lesson's), the median little-edge score (``edgelike.little_edge``:
localized and oriented, what the verdict uses) and the median stroke fit (``edgelike.edge_likeness``,
the best stroke template's correlation), each with a 95% bootstrap interval over units (400
resamples, seed 0). The lesson's ranking is white noise < blurred noise < digit-wide patterns
(principal components, mean digits) < drawn little edges.

    PYTHONPATH=. python benchmarks/edge_likeness_baselines.py [--data DIR] [--seeds N] [--epochs N] [--json]

Baselines come from the training digits of ``--data`` (default: the bundled sample's 4,000-digit
train split); twins are trained there, ``--seeds`` per recipe (default 1; 0 skips training).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handnet import build  # noqa: E402
from handnet.compare import edgelike  # noqa: E402
from handnet.compare.verdict import LITTLE_EDGE, bootstrap_median, non_edge_weights  # noqa: E402
from handnet.compiler.templates import edge_template  # noqa: E402
from handnet.data.mnist import load_splits  # noqa: E402
from handnet.nn.network import random_network  # noqa: E402
from handnet.spec.strokes import Arc, Line  # noqa: E402
from handnet.threads import one_blas_thread  # noqa: E402


def drawn(kind: str, count: int = 16, seed: int = 0) -> np.ndarray:
    """``count`` drawn strokes in the spec's template (width 2, surround 2), at seeded places and angles:
    straight strokes 6-10 px long, or quarter arcs of radius 3.5-5."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        r, c = rng.uniform(8, 20, size=2)
        if kind == "line":
            a, half = np.radians(rng.uniform(0, 180)), rng.uniform(3, 5)
            stroke = Line((r + np.sin(a) * half, c - np.cos(a) * half), (r - np.sin(a) * half, c + np.cos(a) * half))
        else:
            start = rng.uniform(0, 360)
            stroke = Arc((r, c), (rng.uniform(3.5, 5),) * 2, start, start + 90)
        rows.append(edge_template([stroke]).ravel())
    return np.array(rows)


def measure(W) -> dict:
    W = np.asarray(W, dtype=float)
    little = edgelike.little_edge_scores(W)
    net = random_network((784, len(W), 10), seed=0)
    net = net.replace_layer(0, net.layers[0].replace(weights=W))
    stroke = [f.correlation for f in edgelike.edge_likeness(net, layer=0)]
    return {"units": len(W), "little_edge": float(np.median(little)), "little_edge_ci95": list(bootstrap_median(little)),
            "stroke_fit": float(np.median(stroke)), "stroke_fit_ci95": list(bootstrap_median(stroke))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--seeds", type=int, default=1, help="twins trained per recipe (0: none)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per twin (default: each recipe's own)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    splits = load_splits(args.data)
    X, y = splits.train.X, splits.train.y
    sets = dict(non_edge_weights(X, y, units=16, seed=0))
    for seed in range(3):
        sets[f"random init (seed {seed})"] = random_network(seed=seed).layers[0].weights
    sets["drawn straight strokes"] = drawn("line")
    sets["drawn quarter arcs"] = drawn("arc")
    for spec in ("lesson.toml", "3b1b.toml"):
        sets[f"{spec} edges"] = build(ROOT / "weight_specs" / spec).layers[0].weights
    if args.seeds:
        from handnet.nn.train import LESSON_RECIPE, TrainConfig, train

        for name, recipe in (("twin, default recipe", TrainConfig()), ("twin, lesson's recipe", LESSON_RECIPE)):
            for seed in range(args.seeds):
                config = dataclasses.replace(recipe, seed=seed, **({"epochs": args.epochs} if args.epochs else {}))
                sets[f"{name} (seed {seed})"] = train(X, y, config).network.layers[0].weights
    results = {}
    start = time.process_time()
    with one_blas_thread():
        for name, W in sets.items():
            results[name] = measure(W)
    seconds = time.process_time() - start
    if args.json:
        print(json.dumps({"data": splits.train.describe(), "threshold": LITTLE_EDGE, "results": results}, indent=2))
        return 0
    print(f"baselines from: {splits.train.describe()}; median over units, 95% bootstrap CI (400 resamples, seed 0)")
    print(f"{'weights':34} {'units':>5}  {'little-edge score':>22}  {'stroke fit':>22}")
    for name, r in sorted(results.items(), key=lambda kv: kv[1]["little_edge"]):
        lo, hi = r["little_edge_ci95"]
        slo, shi = r["stroke_fit_ci95"]
        print(f"{name:34} {r['units']:5}  {r['little_edge']:5.2f} ({lo:.2f}-{hi:.2f})     "
              f"{r['stroke_fit']:5.2f} ({slo:.2f}-{shi:.2f})")
    print(f"a drawn straight stroke clears {LITTLE_EDGE} (the verdict's threshold); measuring took {seconds:.1f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
