"""Peak memory of training on 60,000 digits, against the size of the digits themselves.

Synthetic digits: the 5,000 bundled digits repeated 12 times (60,000 x 784 float32, 179 MiB, the size
of MNIST's training set), trained with the default recipe (augmentation on) for one epoch (``--epochs``)
on a 10,000-digit test set measured after each epoch. Prints the extra memory training allocated
(tracemalloc's peak, which counts NumPy's arrays) and the process's peak resident size
(``ru_maxrss``: interpreter, libraries and the data included), each as a multiple of the data.

    PYTHONPATH=. python benchmarks/train_memory.py [--epochs N] [--no-augment] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc

import numpy as np

from handnet.data.mnist import load_bundled
from handnet.nn.train import TrainConfig, train


def peak_rss_bytes() -> int:
    scale = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="epochs to train (default 1)")
    parser.add_argument("--no-augment", action="store_true", help="train without augmentation")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    digits = load_bundled()
    X = np.tile(digits.X.astype(np.float32), (12, 1))  # 60,000 x 784
    y = np.tile(digits.y, 12)
    X_test, y_test = X[:10_000], y[:10_000]  # a view: no extra memory
    data = X.nbytes
    config = TrainConfig(epochs=args.epochs, augment=not args.no_augment, seed=0)
    rss_before = peak_rss_bytes()
    tracemalloc.start()
    started = time.perf_counter()
    train(X, y, config, X_test=X_test, y_test=y_test)
    seconds = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {
        "images": len(X), "data_mib": data / 2**20, "epochs": args.epochs, "augment": config.augmenting,
        "extra_peak_mib": traced_peak / 2**20, "peak_rss_mib": peak_rss_bytes() / 2**20,
        "peak_rss_before_training_mib": rss_before / 2**20, "seconds": seconds,
    }
    result["extra_over_data"] = result["extra_peak_mib"] / result["data_mib"]
    result["peak_rss_over_data"] = result["peak_rss_mib"] / result["data_mib"]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(X):,} digits, {result['data_mib']:.0f} MiB of float32 inputs; {args.epochs} epoch(s), "
          f"augmentation {'on' if config.augmenting else 'off'}, {seconds:.1f} s")
    print(f"  allocated by training at its peak (tracemalloc): {result['extra_peak_mib']:.0f} MiB "
          f"= {result['extra_over_data']:.2f}x the data")
    print(f"  process peak resident size (interpreter, libraries, data and training): {result['peak_rss_mib']:.0f} MiB "
          f"= {result['peak_rss_over_data']:.2f}x the data (before training: {result['peak_rss_before_training_mib']:.0f} MiB)")


if __name__ == "__main__":
    main()
