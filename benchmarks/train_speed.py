"""Seconds per training epoch: handnet vs scikit-learn's MLPClassifier vs PyTorch CPU, and the FLOP bound.

All three train the same 784-16-16-10 logistic network on the 5,000 bundled digits with mini-batch
SGD (momentum 0.9, L2 1e-4, cross-entropy on a softmax output) at batch sizes 10, 32 and 256, in
float32, in one process, each with the thread count handnet uses at that batch size (one BLAS
thread below MULTITHREAD_BATCH = 1,024 images per batch, else all of NumPy's BLAS threads): NumPy's
BLAS is limited to it for handnet and scikit-learn, and ``torch.set_num_threads`` gets it. The
tools run in interleaved rounds; in each round a tool trains a few epochs (handnet and PyTorch
after one untimed warm-up epoch; scikit-learn one ``fit``, its input checks included) and its
figure is the mean seconds per epoch of its best round. On one thread the seconds are the
process's CPU time, which other programs on a shared machine do not inflate (wall time
otherwise). A handnet epoch includes its loss/accuracy bookkeeping and shuffling; the others'
include their own.

The FLOP-bound limit is the epoch's matrix-product work (forward, weight gradients and the
backward products; 2 FLOPs per multiply-add) divided by a measured float32 matmul rate. Two
rates are measured and printed:

* ``limit``: the rate BLAS reaches on the epoch's own matrix shapes at that batch size (e.g.
  (256, 784) @ (784, 16)): the time the products alone need, so handnet / limit is the overhead
  of everything that is not a matrix product;
* ``limit_peak``: the rate of a large square product (2048 x 2048) on the same threads, the
  machine's peak; thin products like (256, 784) @ (784, 16) cannot reach it, so this bound is
  not attainable.

Issue 15's targets are printed beside the figures (and under "targets" with --json): handnet at least
3.5x faster than scikit-learn at batch 32, at least 5x faster than PyTorch at batch 10, and at most 1.5x
the per-shape limit at batch 256. PyTorch is optional (not a handnet dependency): its figures read n/a
when it is not importable.

    PYTHONPATH=. python benchmarks/train_speed.py [--epochs N] [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import numpy as np

from handnet.data.mnist import load_bundled
from handnet.nn.train import MULTITHREAD_BATCH, TrainConfig, train

SIZES = (784, 16, 16, 10)
# issue 15: (batch size, what, the floor or ceiling)
TARGETS = (
    (32, "sklearn_ratio", ">=", 3.5),  # scikit-learn's seconds per epoch over handnet's
    (10, "torch_ratio", ">=", 5.0),  # PyTorch's over handnet's
    (256, "limit_ratio", "<=", 1.5),  # handnet's over the per-shape FLOP limit
)
BATCH_SIZES = (10, 32, 256)
LR, MOMENTUM, L2 = 0.1, 0.9, 1e-4


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses (threadpoolctl comes with scikit-learn)."""
    try:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return int(max(counts))
    except ImportError:
        pass
    import os

    return os.cpu_count() or 1


def _limit(threads: int):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def matmul_shapes(batch: int) -> list[tuple[int, int, int]]:
    """(m, k, n) of every matrix product in one training step of SIZES at this batch size."""
    shapes = []
    for i in range(len(SIZES) - 1):
        n_in, n_out = SIZES[i], SIZES[i + 1]
        shapes.append((batch, n_in, n_out))  # forward: a @ W.T
        shapes.append((n_out, batch, n_in))  # weight gradient: delta.T @ a
        if i > 0:
            shapes.append((batch, n_out, n_in))  # backward: delta @ W
    return shapes


def epoch_flops(n: int, batch: int) -> float:
    """Matrix-product FLOPs of one epoch over n images."""
    full, rest = divmod(n, batch)
    per_step = lambda b: sum(2 * m * k * q for m, k, q in matmul_shapes(b))  # noqa: E731
    return full * per_step(batch) + (per_step(rest) if rest else 0)


def time_matmul(m: int, k: int, n: int, min_seconds: float = 0.2, clock=time.perf_counter) -> float:
    """Seconds per float32 product of (m, k) by (k, n), written into a preallocated output."""
    rng = np.random.default_rng(0)
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    reps, elapsed = 1, 0.0
    while elapsed < min_seconds:
        reps *= 4
        started = clock()
        for _ in range(reps):
            np.matmul(a, b, out=out)
        elapsed = clock() - started
    return elapsed / reps


def limits(n: int, batch: int, clock=time.perf_counter) -> dict:
    """The FLOP-bound seconds per epoch at this batch size: at the shapes' own rate and at peak."""
    full, rest = divmod(n, batch)
    at_shape_rate = sum(full * time_matmul(*s, clock=clock) for s in matmul_shapes(batch))
    if rest:
        at_shape_rate += sum(time_matmul(*s, clock=clock) for s in matmul_shapes(rest))
    peak = 2 * 2048**3 / time_matmul(2048, 2048, 2048, 0.5, clock=clock)
    return {"limit": at_shape_rate, "limit_peak": epoch_flops(n, batch) / peak, "peak_gflops": peak / 1e9}


def handnet_epochs(X, y, batch: int, epochs: int, clock) -> float:
    """Mean seconds per epoch over ``epochs`` epochs, after one warm-up epoch."""
    config = TrainConfig(
        optimizer="sgd", lr=LR, momentum=MOMENTUM, weight_decay=L2, batch_size=batch, epochs=epochs + 1,
        schedule="constant", augment=False, seed=0,
    )
    stamps = []  # the clock at the end of every epoch (progress is called once per epoch)
    train(X, y, config, progress=lambda record: stamps.append(clock()))
    return (stamps[-1] - stamps[0]) / epochs


def sklearn_epochs(X, y, batch: int, epochs: int, clock) -> float | None:
    """Mean seconds per epoch of one ``fit`` of ``epochs`` epochs (its input checks included)."""
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    model = MLPClassifier(
        hidden_layer_sizes=SIZES[1:-1], activation="logistic", solver="sgd", batch_size=batch,
        learning_rate_init=LR, momentum=MOMENTUM, nesterovs_momentum=False, alpha=L2, max_iter=epochs,
        tol=0.0, n_iter_no_change=epochs + 1, shuffle=True, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = clock()
        model.fit(X, y)
    return (clock() - started) / model.n_iter_


def torch_epochs(X, y, batch: int, epochs: int, threads: int, clock) -> float | None:
    """Mean seconds per epoch over ``epochs`` epochs, after one warm-up epoch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(torch.nn.Linear(SIZES[i], SIZES[i + 1]))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=L2)
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(0)
    stamps = []
    for _ in range(epochs + 1):
        order = torch.randperm(len(inputs), generator=generator)
        for s in range(0, len(inputs), batch):
            idx = order[s : s + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs[idx]), labels[idx])
            loss.backward()
            optimizer.step()
        stamps.append(clock())
    return (stamps[-1] - stamps[0]) / epochs


def seconds_clock(threads: int):
    """The clock that times a tool: CPU time of this process when everything runs on one thread
    (it does not count time other programs take from us on a shared machine), else wall time."""
    return time.process_time if threads == 1 else time.perf_counter


def measure(X, y, batch: int, epochs: int, rounds: int, threads: int) -> dict:
    """Each tool's seconds per epoch: the best of ``rounds`` interleaved rounds, each the mean of ``epochs`` epochs.

    The best round is the one least disturbed by other work on the machine; interleaving the
    tools spreads any disturbance evenly. Every tool runs with the same BLAS/torch thread count.
    """
    clock = seconds_clock(threads)
    runners = {
        "handnet": lambda: handnet_epochs(X, y, batch, epochs, clock),
        "torch": lambda: torch_epochs(X, y, batch, epochs, threads, clock),
        "sklearn": lambda: sklearn_epochs(X, y, batch, epochs, clock),
    }
    best: dict[str, float | None] = {}
    for _ in range(rounds):
        with _limit(threads):
            for tool, run in runners.items():
                seconds = run()
                best[tool] = None if seconds is None else min(seconds, best.get(tool) or float("inf"))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per tool per round (default 4)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per batch size (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    digits = load_bundled()
    X, y = digits.X, digits.y
    machine_threads = blas_threads()
    load_before = os.getloadavg()[0]
    results = {}
    for batch in BATCH_SIZES:
        # handnet trains small mini-batches on one BLAS thread; every tool gets what handnet uses
        threads = 1 if batch < MULTITHREAD_BATCH else machine_threads
        row = measure(X, y, batch, args.epochs, args.rounds, threads)
        with _limit(threads):
            row.update(limits(len(X), batch, seconds_clock(threads)))
        row["threads"] = threads
        row["clock"] = "process CPU time" if threads == 1 else "wall time"
        for tool in ("sklearn", "torch"):
            row[f"{tool}_ratio"] = None if row[tool] is None else row[tool] / row["handnet"]
        row["limit_ratio"] = row["handnet"] / row["limit"]
        row["limit_peak_ratio"] = row["handnet"] / row["limit_peak"]
        results[str(batch)] = row
        if not args.json:
            fmt = lambda v: "    n/a" if v is None else f"{v:7.4f}"  # noqa: E731
            ratio = lambda v: "n/a" if v is None else f"{v:.1f}x"  # noqa: E731
            print(
                f"batch {batch:3d}: handnet {fmt(row['handnet'])} s  torch {fmt(row['torch'])} s ({ratio(row['torch_ratio'])})"
                f"  sklearn {fmt(row['sklearn'])} s ({ratio(row['sklearn_ratio'])})  limit {row['limit']:.4f} s"
                f" (handnet {row['limit_ratio']:.1f}x)  peak limit {row['limit_peak']:.4f} s"
                f" (handnet {row['limit_peak_ratio']:.1f}x)",
                flush=True,
            )
    targets = []
    for batch, what, sense, bound in TARGETS:
        value = results[str(batch)][what]
        met = None if value is None else (value >= bound if sense == ">=" else value <= bound)
        targets.append({"batch": batch, "figure": what, "value": value, "target": f"{sense} {bound}", "met": met})
    load = {"cores": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()[0]}
    if args.json:
        print(json.dumps({"batches": results, "targets": targets, "machine": load}, indent=2))
        return
    print(
        f"{len(X)} images, 784-16-16-10, float32; best of {args.rounds} rounds of {args.epochs} epochs per tool; "
        f"threads per batch size (BLAS and torch alike): "
        + ", ".join(f"{b}: {results[str(b)]['threads']}" for b in BATCH_SIZES)
        + f"; {load['cores']} cores, load average {load_before:.1f} before, {load['load_after']:.1f} after"
    )
    names = {"sklearn_ratio": "scikit-learn / handnet", "torch_ratio": "PyTorch / handnet", "limit_ratio": "handnet / per-shape limit"}
    for t in targets:
        state = "n/a (not installed)" if t["met"] is None else "met" if t["met"] else "NOT met"
        value = "n/a" if t["value"] is None else f"{t['value']:.2f}x"
        print(f"  target, batch {t['batch']}: {names[t['figure']]} {value} (issue 15: {t['target']}x): {state}")


if __name__ == "__main__":
    main()
