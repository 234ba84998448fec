"""How much of a training epoch the augmentation takes, with the default recipe on the bundled digits.

In interleaved rounds: the CPU seconds of one ``augment_images`` pass over the 5,000 bundled digits (what
the trainer does once per epoch, as it does it) and of one training epoch of the default recipe
(``TrainConfig()``: Adam, batch 32, augmentation on) on one BLAS thread, after a warm-up epoch. Each
figure is the best of its rounds (the least disturbed by other work on a shared machine); the share is
augmentation / epoch. Process CPU time, so other programs on the machine do not inflate it.

    PYTHONPATH=. python benchmarks/augment_share.py [--rounds N] [--epochs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from handnet.data.augment import augment_images
from handnet.data.mnist import load_bundled
from handnet.nn.train import DEFAULT_AUGMENT, TrainConfig, train
from handnet.threads import one_blas_thread


def epoch_seconds(X, y, config: TrainConfig, epochs: int) -> float:
    stamps = []  # CPU time at the end of every epoch, after one warm-up epoch
    train(X, y, config.replace(epochs=epochs + 1), progress=lambda record: stamps.append(time.process_time()))
    return (stamps[-1] - stamps[0]) / epochs


def augment_seconds(images, passes: int) -> float:
    rng = np.random.default_rng(0)
    started = time.process_time()
    for _ in range(passes):
        augment_images(images, rng, *DEFAULT_AUGMENT)
    return (time.process_time() - started) / passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per round (default 4)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    digits = load_bundled()
    X, y = digits.X, digits.y
    images = np.ascontiguousarray(X, dtype=np.float32).reshape(len(X), 28, 28)
    best = {"augment": float("inf"), "epoch": float("inf"), "epoch_without": float("inf")}
    with one_blas_thread():
        for _ in range(args.rounds):
            best["augment"] = min(best["augment"], augment_seconds(images, args.epochs))
            best["epoch"] = min(best["epoch"], epoch_seconds(X, y, TrainConfig(), args.epochs))
            best["epoch_without"] = min(best["epoch_without"], epoch_seconds(X, y, TrainConfig(augment=False), args.epochs))
    best["share"] = best["augment"] / best["epoch"]
    if args.json:
        print(json.dumps(best, indent=2))
        return
    print(f"{len(X)} digits, default recipe, one BLAS thread, CPU time, best of {args.rounds} rounds of {args.epochs} epochs:")
    print(f"  augmentation {1000 * best['augment']:.1f} ms per epoch; an epoch {1000 * best['epoch']:.1f} ms with it, "
          f"{1000 * best['epoch_without']:.1f} ms without; augmentation is {100 * best['share']:.0f}% of the epoch")


if __name__ == "__main__":
    main()
