"""How the default training recipe was chosen: candidates scored on held-out bundled digits only.

Every candidate trains the 784-16-16-10 sigmoid net on the bundled sample's fixed 4,000-digit
``train`` split and is scored on its 1,000-digit ``test`` split (never on the dev split), over a
few seeds. Round 2's winner became ``TrainConfig()``'s defaults; ``twin_accuracy.py`` then reports dev.

    PYTHONPATH=. python benchmarks/choose_recipe.py [--seeds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from handnet.data.mnist import bundled_splits
from handnet.nn.train import TrainConfig, train

# Round 1 varies one setting at a time around a first guess; round 2 combines round 1's winners
# (lr 0.01, weight decay 1e-3, lighter augmentation) and varies around that; round 3 combines
# round 2's (lr 0.02, weight decay 3e-4, augmentation 1.5 px / 8 degrees) and checks it over 3 seeds.
FIRST_GUESS = TrainConfig(
    optimizer="adam", lr=0.005, batch_size=32, epochs=60, weight_decay=1e-4, schedule="cosine", augment=(2.0, 10.0)
)
ROUNDS = {
    "round 1": (
        FIRST_GUESS,
        {
            "first guess": {},
            "no augmentation": {"augment": False},
            "lr 0.002": {"lr": 0.002},
            "lr 0.01": {"lr": 0.01},
            "batch 64": {"batch_size": 64},
            "batch 16": {"batch_size": 16},
            "weight decay 0": {"weight_decay": 0.0},
            "weight decay 1e-3": {"weight_decay": 1e-3},
            "augment 1px 5deg": {"augment": (1.0, 5.0)},
            "augment 3px 15deg": {"augment": (3.0, 15.0)},
            "30 epochs": {"epochs": 30},
            "100 epochs": {"epochs": 100},
            "constant schedule": {"schedule": "constant"},
            "sgd momentum 0.9 lr 0.5": {"optimizer": "sgd", "lr": 0.5},
            "sgd momentum 0.9 lr 0.2": {"optimizer": "sgd", "lr": 0.2},
        },
    ),
    "round 2": (
        FIRST_GUESS.replace(lr=0.01, weight_decay=1e-3, augment=(1.0, 5.0)),
        {
            "combined": {},
            "lr 0.02": {"lr": 0.02},
            "weight decay 3e-4": {"weight_decay": 3e-4},
            "augment 1.5px 8deg": {"augment": (1.5, 8.0)},
            "no augmentation": {"augment": False},
            "100 epochs": {"epochs": 100},
            "batch 16": {"batch_size": 16},
            "sgd momentum 0.9 lr 0.5": {"optimizer": "sgd", "lr": 0.5},
        },
    ),
    "round 3": (
        FIRST_GUESS.replace(lr=0.02, weight_decay=3e-4, augment=(1.5, 8.0)),
        {
            "combined": {},
            "lr 0.01": {"lr": 0.01},
            "weight decay 1e-3": {"weight_decay": 1e-3},
            "augment 1px 5deg": {"augment": (1.0, 5.0)},
        },
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--rounds", nargs="*", default=list(ROUNDS), choices=list(ROUNDS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    parts = bundled_splits()
    train_set, held_out = parts["train"], parts["test"]
    results = {}
    for round_name in args.rounds:
        base, candidates = ROUNDS[round_name]
        if not args.json:
            print(f"{round_name}: around {base}", flush=True)
        results[round_name] = {"base": base.to_dict(), "candidates": run_round(base, candidates, args, train_set, held_out)}
    if args.json:
        print(json.dumps(results, indent=2))


def run_round(base, candidates, args, train_set, held_out) -> dict:
    results = {}
    for name, changes in candidates.items():
        scores, seconds = [], 0.0
        for seed in range(args.seeds):
            config = base.replace(seed=seed, **changes)
            started = time.perf_counter()
            net = train(train_set.X, train_set.y, config).network
            seconds += time.perf_counter() - started
            scores.append(net.accuracy(held_out.X, held_out.y))
        results[name] = {
            "changes": {k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()},
            "mean": statistics.mean(scores),
            "scores": scores,
            "seconds_per_run": seconds / args.seeds,
        }
        if not args.json:
            print(f"{name:28s} {statistics.mean(scores):.2%}  {scores}  {seconds / args.seeds:.1f} s/run", flush=True)
    return results


if __name__ == "__main__":
    main()
