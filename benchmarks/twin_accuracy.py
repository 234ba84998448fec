"""Accuracy of the trained twin (784-16-16-10 sigmoid): the default recipe and the lesson's plain one.

Each recipe trains on the bundled digits and is scored, over several seeds, on

* ``dev``: trained on all 5,000 bundled digits, tested on the ``dev`` split of ``--data``
  (default ``HANDNET_DATA``), skipped when no folder is given;
* ``bundled_test``: trained on the bundled 4,000-digit ``train`` split, tested on its fixed
  1,000-digit ``test`` split (the held-out part the recipe was chosen on, see choose_recipe.py).

    PYTHONPATH=. python benchmarks/twin_accuracy.py [--data DIR] [--split dev] [--seeds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from handnet.data.mnist import load_splits
from handnet.errors import HandnetError
from handnet.nn.train import LESSON_RECIPE, TrainConfig, train

RECIPES = {"default": TrainConfig(), "lesson": LESSON_RECIPE}


def summarize(scores: list[float]) -> dict:
    return {
        "mean": statistics.mean(scores),
        "std": statistics.stdev(scores) if len(scores) > 1 else 0.0,
        "min": min(scores),
        "max": max(scores),
        "scores": scores,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("HANDNET_DATA"))
    parser.add_argument("--split", default="dev")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    settings = {"bundled_test": load_splits(None, "test")}
    try:
        if args.data:
            settings[args.split] = load_splits(args.data, args.split)
    except HandnetError as e:
        print(f"skipping {args.data}: {e}")
    results = {}
    for recipe in args.recipes:
        config = RECIPES[recipe]
        results[recipe] = {"config": config.to_dict()}
        for where, splits in settings.items():
            scores, seconds = [], []
            for seed in range(args.seeds):
                started = time.perf_counter()
                net = train(splits.train.X, splits.train.y, config.replace(seed=seed)).network
                seconds.append(time.perf_counter() - started)
                scores.append(net.accuracy(splits.test.X, splits.test.y))
            results[recipe][where] = {
                **summarize(scores),
                "data": splits.description,
                "seconds_per_run": statistics.mean(seconds),
            }
            if not args.json:
                s = results[recipe][where]
                print(
                    f"{recipe:8s} {where:13s} {s['mean']:.2%} ± {s['std']:.2%} (min {s['min']:.2%}, max {s['max']:.2%},"
                    f" {args.seeds} seeds, {s['seconds_per_run']:.1f} s/run)  [{splits.description}]",
                    flush=True,
                )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
