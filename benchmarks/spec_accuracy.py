"""Accuracy of every shipped spec: overall and per digit.

Usage:
    PYTHONPATH=. python benchmarks/spec_accuracy.py [--data DIR] [--split NAME] [--spec PATH ...] [--json]

Default data: HANDNET_DATA, else the bundled sample's test split. Anything fitted or calibrated
is trained on the training data that goes with it (handnet.data.mnist.load_splits): the bundled
4,000-digit train split, or all 5,000 bundled digits when DIR has no train split.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handnet import build  # noqa: E402
from handnet.data.mnist import load_splits  # noqa: E402
from handnet.nn.evaluate import evaluate  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("HANDNET_DATA"))
    parser.add_argument("--split", default=None)
    parser.add_argument("--spec", action="append", default=None, help="spec(s) to measure (default: weight_specs/*.toml)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    splits = load_splits(args.data, args.split)
    results = []
    paths = [Path(p).resolve() for p in args.spec] if args.spec else sorted((ROOT / "weight_specs").glob("*.toml"))
    for path in paths:
        start = time.perf_counter()
        net = build(path, splits.train)
        result = evaluate(net, splits.test)
        results.append({
            "spec": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
            "accuracy": result.accuracy,
            "per_digit": result.per_digit,
            "labels": list(result.scope.labels),  # a spec with some digits is scored on those
            "build_seconds": round(time.perf_counter() - start, 2),
        })
    if args.json:
        print(json.dumps({"data": splits.description, "n": len(splits.test), "results": results}, indent=2))
        return 0
    print(f"data: {splits.description}")
    print(f"{'spec':34} {'all':>6} " + " ".join(f"{d:>5}" for d in range(10)))
    for r in results:
        print(f"{r['spec']:34} {r['accuracy']:6.1%} "
              + " ".join(f"{r['per_digit'][str(d)]:5.0%}" if str(d) in r["per_digit"] else "    -" for d in range(10)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
