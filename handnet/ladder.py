"""The ladder: one spec, five networks, from every weight set by hand to every weight learned.

On one test split, for the same spec and shape:

1. ``spec``: every weight from the spec text alone (any ``threshold = { quantile = q }`` ignored,
   so the spec's own fraction/bias thresholds hold);
2. ``calibrated``: thresholds calibrated on the training data: the spec's own quantiles where it
   gives them, and ``CALIBRATION_QUANTILE`` for every other edge and part (each unit's bias set
   so that it stays below 0.5 on that fraction of training digits; digit units keep theirs);
3. ``readout``: rung 2 with its output layer refit on the training data (the layers below frozen);
4. ``fine-tuned``: every weight trained, starting from rung 2's hand weights;
5. ``trained``: every weight trained from a random start (the twin).

Rungs 3-5 are trained once per seed; accuracy is reported as mean, min, max and standard
deviation over seeds. Each rung gets the edge-likeness of its hidden units, and rung 4 the drift of
each unit from its hand-set weights (cosine of the incoming weight vectors; 1 = unchanged direction).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from . import edgelike
from .network import Network
from .similarity import cosine_matrix

CALIBRATION_QUANTILE = 0.8  # an edge or part is present in a minority of digits: fire on the top fifth

RUNGS = (
    ("spec", "every weight from the spec"),
    ("calibrated", "thresholds calibrated from data"),
    ("readout", "output layer fitted"),
    ("fine-tuned", "all weights trained from the hand weights"),
    ("trained", "all weights trained from random init (the twin)"),
)


@dataclass
class Rung:
    """One rung: its label, a description, accuracy per seed, edge-likeness summary and networks (one per seed)."""

    label: str
    description: str
    accuracies: list
    networks: list
    edges: list  # EdgeFits of the first network
    seeds: list = field(default_factory=list)

    def to_dict(self) -> dict:
        acc = np.array(self.accuracies, dtype=float)
        summary = edgelike.summarize(self.edges)
        first = next(iter(summary.values())) if summary else {}
        return {
            "label": self.label,
            "description": self.description,
            "seeds": self.seeds,
            "accuracy": self.accuracies,
            "accuracy_mean": float(acc.mean()),
            "accuracy_std": float(acc.std(ddof=1)) if acc.size > 1 else 0.0,
            "accuracy_min": float(acc.min()),
            "accuracy_max": float(acc.max()),
            "edge_likeness": summary,
            "edge_likeness_median": first.get("median", float("nan")),
        }


@dataclass
class Ladder:
    spec: str
    data: str
    rungs: list
    drift: list  # [{"unit", "cosine_mean", "cosine_per_seed"}] for the fine-tuned rung

    def rung(self, label: str) -> Rung:
        return next(r for r in self.rungs if r.label == label)

    def to_dict(self) -> dict:
        return {"spec": self.spec, "data": self.data, "rungs": [r.to_dict() for r in self.rungs], "drift": self.drift}


def unit_drift(before: Network, after: Network) -> list[dict]:
    """Cosine between each hidden unit's incoming weights before and after training (same units, same order)."""
    out = []
    for li, (a, b) in enumerate(zip(before.layers[:-1], after.layers[:-1])):
        cos = np.diag(cosine_matrix(a.weights, b.weights))
        out.extend({"unit": f"{a.name}:{u}", "cosine": float(c)} for u, c in zip(a.units, cos))
    return out


def spec_rungs(spec_path, train_set, quantile: float = CALIBRATION_QUANTILE):
    """Rungs 1 and 2: the spec compiled from its text alone, and with thresholds calibrated on ``train_set``.

    A spec whose readout is fitted (``[digits] fit = ...``) needs data even for rung 1: its edges
    and parts come from the text, its readout is fitted.
    """
    from .compile import compile_spec
    from .spec import load_spec

    spec = load_spec(spec_path)

    def with_quantile(units, q_default):
        return tuple(dataclasses.replace(u, quantile=u.quantile if q_default is None else (u.quantile or q_default))
                     for u in units)

    pure = dataclasses.replace(
        spec,
        edges=tuple(dataclasses.replace(u, quantile=None) for u in spec.edges),
        parts=tuple(dataclasses.replace(u, quantile=None) for u in spec.parts),
        digits=tuple(dataclasses.replace(u, quantile=None) for u in spec.digits),
    )
    calibrated = dataclasses.replace(spec, edges=with_quantile(spec.edges, quantile), parts=with_quantile(spec.parts, quantile))
    return compile_spec(pure, train_set if pure.needs_data else None), compile_spec(calibrated, train_set)


def _train(X, y, config, seed, init=None, freeze=()):
    from .train import train

    return train(X, y, dataclasses.replace(config, seed=seed), init=init, freeze=freeze).network


def ladder(spec_path, train_set, test_set, seeds: int = 3, config=None, progress=None) -> Ladder:
    """Run the five rungs for ``spec_path`` and score them on ``test_set`` (a ``data.Dataset``).

    ``train_set`` (a ``data.Dataset``) calibrates rung 2 and trains rungs 3-5; ``seeds`` training
    runs per trained rung, seeds 0..seeds-1. ``config`` is a ``train.TrainConfig`` (default: the
    trainer's recipe, with the spec's layer sizes). ``progress(1)`` is called after each network.
    """
    from .train import TrainConfig

    step = progress or (lambda k: None)
    X, y = train_set.X, train_set.y
    Xt, yt = test_set.X, test_set.y
    spec_net, calibrated = spec_rungs(spec_path, train_set)
    step(2)
    config = dataclasses.replace(config or TrainConfig(), sizes=tuple(calibrated.sizes))
    frozen_below_output = [layer.name for layer in calibrated.layers[:-1]]
    seed_list = list(range(seeds))
    trained_nets = {"readout": [], "fine-tuned": [], "trained": []}
    for seed in seed_list:
        trained_nets["readout"].append(_train(X, y, config, seed, init=calibrated, freeze=frozen_below_output))
        step(1)
        trained_nets["fine-tuned"].append(_train(X, y, config, seed, init=calibrated))
        step(1)
        trained_nets["trained"].append(_train(X, y, config, seed))
        step(1)
    nets = {"spec": [spec_net], "calibrated": [calibrated], **trained_nets}
    rungs = []
    for label, description in RUNGS:
        networks = nets[label]
        rungs.append(
            Rung(
                label=label,
                description=description,
                accuracies=[net.accuracy(Xt, yt) for net in networks],
                networks=networks,
                edges=edgelike.edge_likeness(networks[0]),
                seeds=seed_list if label in trained_nets else [],
            )
        )
    per_seed = [unit_drift(calibrated, net) for net in trained_nets["fine-tuned"]]
    drift = [
        {
            "unit": entries[0]["unit"],
            "cosine_mean": float(np.mean([e["cosine"] for e in entries])),
            "cosine_per_seed": [e["cosine"] for e in entries],
        }
        for entries in zip(*per_seed)
    ]
    return Ladder(str(spec_path), f"train: {train_set.describe()}; test: {test_set.describe()}", rungs, drift)


def ladder_steps(seeds: int) -> int:
    return 2 + 3 * seeds
