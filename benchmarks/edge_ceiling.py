"""How far can any parts layer go over a spec's own edges? The ceiling its edges set, beside issue 17's floor.

Usage:
    PYTHONPATH=. python benchmarks/edge_ceiling.py [--data DIR] [--spec PATH ...] [--seeds N] [--epochs N] [--json]

For each spec (default: the 16-16 specs shipped or proposed for the lesson's network) this prints, on the test
split of the data (with --data ../shared/mnist: the 5,000 dev digits; anything trained sees the training digits
that go with it, by default the bundled 4,000):

- ``spec``: the spec as written (every weight from the spec; a fitted spec fits its readout);
- ``fitted``: the same edges and parts with a logistic readout fitted on the training digits (its ``-fitted``
  sibling, e.g. 3b1b-fitted.toml);
- ``edges -> readout``: a logistic readout straight from the 16 edges (no parts at all);
- ``edges -> trained parts``: the parts AND digit layers trained by gradient descent (handnet's default
  recipe without augmentation, ``freeze=["edges"]``, from the spec's own network) over the spec's frozen edges.
  No hand-written parts layer of the same size can be expected to beat this: it is the ceiling the edges set.

A fitted readout over hand parts (``fitted``) can only reach 88% (issue 17's floor) if the ceiling is above it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handnet import build  # noqa: E402
from handnet.data.mnist import load_splits  # noqa: E402
from handnet.nn.evaluate import evaluate  # noqa: E402

SPECS = ["weight_specs/3b1b.toml", "docs/examples/3b1b-combined.toml", "docs/examples/3b1b-story.toml",
         "weight_specs/lesson.toml"]
FLOOR = 0.88  # issue 17: a fitted readout over the same edges and parts


def fitted_spec(path: Path, folder: Path) -> Path:
    """The spec's fitted sibling (``NAME-fitted.toml`` beside it), else one written as 3b1b-fitted.toml is."""
    sibling = path.with_name(f"{path.stem}-fitted.toml")
    if sibling.is_file():
        return sibling
    written = folder / f"{path.stem}-fitted.toml"
    written.write_text(f'extends = "{path.resolve()}"\n\n[network]\nactivations = ["sigmoid", "sigmoid", "softmax"]\n\n'
                       '[digits]\nreplace = true\nfit = "logistic"\nl2 = 0.0001\n')
    return written


def edges_readout(net, splits) -> float:
    """A logistic readout fitted straight from the first layer's activations (handnet's own fitter)."""
    from handnet.compiler.readout import fit_logistic

    first = lambda X: net.forward(X)[1]  # noqa: E731
    W, b = fit_logistic(first(splits.train.X), splits.train.y, l2=1e-4)  # as the fitted specs
    scores = first(splits.test.X) @ W.T + b
    return float((scores.argmax(1) == splits.test.y).mean())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("HANDNET_DATA"))
    parser.add_argument("--split", default=None)
    parser.add_argument("--spec", action="append", default=None)
    parser.add_argument("--seeds", type=int, default=2, help="training runs of the parts-and-digits ceiling")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import tempfile

    import numpy as np

    from handnet.nn.train import TrainConfig, train

    splits = load_splits(args.data, args.split)
    rows = []
    for name in args.spec or SPECS:
        path = (ROOT / name) if not Path(name).is_absolute() else Path(name)
        net = build(path, splits.train)
        with tempfile.TemporaryDirectory() as folder:
            fitted = build(fitted_spec(path, Path(folder)), splits.train)
        ceiling = []
        for seed in range(args.seeds):
            config = TrainConfig(sizes=tuple(net.sizes), epochs=args.epochs, seed=seed, augment=False)
            run = train(splits.train.X, splits.train.y, config, init=net, freeze=["edges"])
            ceiling.append(evaluate(run.network, splits.test).accuracy)
        rows.append({"spec": name, "spec_accuracy": evaluate(net, splits.test).accuracy,
                     "fitted": evaluate(fitted, splits.test).accuracy, "edges_readout": edges_readout(net, splits),
                     "trained_parts": float(np.mean(ceiling)), "trained_parts_runs": ceiling})
    if args.json:
        print(json.dumps({"data": splits.description, "floor": FLOOR, "epochs": args.epochs, "rows": rows}, indent=2))
        return 0
    print(f"data: {splits.description}; ceiling: parts + digits trained over the frozen edges, {args.epochs} epochs, "
          f"{args.seeds} seed(s), no augmentation")
    print("| spec | as written | fitted readout | edges -> readout | edges -> trained parts (ceiling) | floor |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        spread = f" ({min(r['trained_parts_runs']):.1%}-{max(r['trained_parts_runs']):.1%})" if args.seeds > 1 else ""
        print(f"| `{r['spec']}` | {r['spec_accuracy']:.1%} | {r['fitted']:.1%} | {r['edges_readout']:.1%} | "
              f"{r['trained_parts']:.1%}{spread} | {FLOOR:.0%} |")
    print("(a hand-written parts layer of the same size cannot be expected to pass the ceiling; the fitted readout "
          f"over hand parts must reach {FLOOR:.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
