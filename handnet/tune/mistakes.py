"""Where a network goes wrong: its mistakes grouped by (true, predicted) digit, most frequent first,
each with the hidden units that drove the wrong answer.

For a group such as "4 read as 9" it compares each hidden unit's mean activation over the group
with its mean over the 4s the network gets right (which parts fired that should not have, which
stayed dark), and splits the output margin ``z_9 - z_4`` into per-unit contributions
``(W[9, j] - W[4, j]) * a_j`` of the last hidden layer plus the biases' share, so the units that
pushed towards 9 stand out. The split is exact: its terms sum to the margin. Output units answer
by name (``handnet.nn.labels``), so ``W[9]`` is the row of the unit that answers 9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handnet.views import NotebookView
from handnet.data.mnist import Dataset
from handnet.errors import HandnetError
from handnet.nn.evaluate import confusion_matrix
from handnet.nn.labels import Scope, join_labels, readout, scope
from handnet.nn.network import Network


@dataclass(frozen=True)
class LayerContrast:
    """One hidden layer's activations over a group of mistakes vs over correct digits of the true class.

    ``units`` are refs like ``parts:upper_loop``; ``group`` and ``correct`` are ``(n_units,)`` mean
    activations; ``correct`` is NaN when the network gets no digit of the true class right.
    """

    layer: str
    units: tuple[str, ...]
    group: np.ndarray
    correct: np.ndarray

    @property
    def difference(self) -> np.ndarray:
        """``group - correct``: positive where a unit fired more than it does on correct digits."""
        return self.group - self.correct

    def fired(self, top: int = 3, threshold: float = 0.1) -> list[tuple[str, float, float]]:
        """Units that fired more on the mistakes than on correct digits: ``(unit, group, correct)``."""
        return self._extreme(top, threshold, sign=1)

    def silent(self, top: int = 3, threshold: float = 0.1) -> list[tuple[str, float, float]]:
        """Units that fired less on the mistakes than on correct digits: ``(unit, group, correct)``."""
        return self._extreme(top, threshold, sign=-1)

    def _extreme(self, top, threshold, sign):
        d = np.nan_to_num(sign * self.difference, nan=0.0)
        order = np.argsort(-d, kind="stable")
        return [
            (self.units[i], float(self.group[i]), float(self.correct[i])) for i in order[:top] if d[i] > threshold
        ]

    def to_dict(self) -> dict:
        return {
            "layer": self.layer,
            "units": [
                {"unit": u, "group": float(g), "correct": float(c), "difference": float(g - c)}
                for u, g, c in zip(self.units, self.group, self.correct)
            ],
        }


@dataclass(frozen=True)
class ErrorGroup:
    """The digits of class ``true`` that the network read as ``predicted``.

    ``indices`` ``(count,)`` index the dataset; ``layers`` holds one LayerContrast per hidden layer;
    ``contributions`` ``(n_last_hidden,)`` is the mean of ``(W[pred, j] - W[true, j]) * a_j`` over the
    group: how much each unit of the last hidden layer pushed the answer from ``true`` to ``predicted``;
    ``margin_bias`` is the biases' share, and ``margin`` the mean of ``z_pred - z_true`` measured on
    the output pre-activations, which contributions + margin_bias equal exactly.
    """

    true: int
    predicted: int
    indices: np.ndarray
    layers: tuple[LayerContrast, ...]
    contributions: np.ndarray
    margin_bias: float
    margin: float = float("nan")
    units: tuple[str, ...] = ()  # the units of ``contributions``, e.g. parts:upper_loop

    @property
    def count(self) -> int:
        return len(self.indices)

    @property
    def label(self) -> str:
        return f"{self.true} read as {self.predicted}"

    def _units(self) -> tuple[str, ...]:
        return self.units or (self.layers[-1].units if self.layers else ())

    def pushers(self, top: int = 3) -> list[tuple[str, float]]:
        """The last hidden layer's units that pushed hardest towards the wrong answer."""
        units = self._units()
        order = np.argsort(-self.contributions, kind="stable")
        return [(units[i], float(self.contributions[i])) for i in order[:top] if self.contributions[i] > 0]

    def decomposition(self, top: int = 3) -> tuple[list[tuple[str, float]], float, tuple[int, float]]:
        """The margin as ``(largest terms, biases, (n other units, their sum))``: the ``top`` units
        with the largest contributions (by size, either sign), the biases' share, and the rest.
        Everything sums to ``margin``."""
        units = self._units()
        order = np.argsort(-np.abs(self.contributions), kind="stable")
        shown = [int(i) for i in order[:top]]
        rest = [int(i) for i in order[top:]]
        return ([(units[i], float(self.contributions[i])) for i in shown], float(self.margin_bias),
                (len(rest), float(np.sum(self.contributions[rest])) if rest else 0.0))

    def margin_text(self, top: int = 3) -> str:
        """``margin of 9 over 4 ...: +0.69 = a +0.91 + b +0.28 + biases +3.50 + the other 13 units -4.27``."""
        terms, bias, (n_rest, rest) = self.decomposition(top)
        parts = [f"{u} {c:+.2f}" for u, c in terms] + [f"biases {bias:+.2f}"]
        if n_rest:
            parts.append(f"the other {n_rest} unit{'s' * (n_rest != 1)} {rest:+.2f}")
        return (f"margin of {self.predicted} over {self.true} (output pre-activations, mean over the group): "
                f"{self.margin:+.2f} = " + " + ".join(parts))

    def to_dict(self) -> dict:
        units = self._units()
        terms, bias, (n_rest, rest) = self.decomposition()
        return {
            "true": self.true,
            "predicted": self.predicted,
            "count": self.count,
            "indices": self.indices.tolist(),
            "hidden": [layer.to_dict() for layer in self.layers],
            "margin": self.margin,
            "margin_contributions": {u: float(c) for u, c in zip(units, self.contributions)},
            "margin_bias": self.margin_bias,
            "margin_terms": [{"unit": u, "value": c} for u, c in terms],
            "margin_rest": {"units": n_rest, "value": rest},
        }


@dataclass(frozen=True)
class ErrorAnalysis(NotebookView):
    """All mistakes of one network on one dataset, grouped; ``groups`` are most frequent first."""

    n: int
    n_errors: int
    groups: tuple[ErrorGroup, ...]
    data: str
    digit: int | None = None
    scope: Scope | None = None

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "labels": list(self.scope.labels) if self.scope is not None else list(range(10)),
            "scope": self.scope.to_dict() if self.scope is not None else None,
            "digit": self.digit,
            "n": self.n,
            "n_errors": self.n_errors,
            "groups": [g.to_dict() for g in self.groups],
        }


    def format_text(self, top: int = 10) -> str:
        """The report the CLI prints: one paragraph per group, most frequent first."""
        scope = f" of true digit {self.digit}" if self.digit is not None else ""
        rate = self.n_errors / self.n if self.n else 0.0
        lines = [f"data: {self.data}"] + ([self.scope.sentence()] if self.scope is not None else [])
        lines.append(f"{self.n_errors:,} of {self.n:,} digits{scope} misclassified ({rate:.2%})")
        for g in self.groups[:top]:
            lines.append(f"\n{g.label}: {g.count} digit{'s' * (g.count != 1)}")
            if g.layers and np.all(np.isnan(g.layers[0].correct)):
                lines.append(f"  no {g.true} is read correctly, so there is nothing to compare these with")
            for layer in g.layers:
                fired = ", ".join(f"{u} {a:.2f} vs {c:.2f}" for u, a, c in layer.fired())
                silent = ", ".join(f"{u} {a:.2f} vs {c:.2f}" for u, a, c in layer.silent())
                if fired:
                    lines.append(f"  {layer.layer} fired more than on correct {g.true}s: {fired}")
                if silent:
                    lines.append(f"  {layer.layer} fired less than on correct {g.true}s: {silent}")
            lines.append("  " + g.margin_text())
        if len(self.groups) > top:
            rest = sum(g.count for g in self.groups[top:])
            lines.append(f"\n... {len(self.groups) - top} more pairs ({rest} digits)")
        return "\n".join(lines)


def analyze_errors(net: Network, dataset: Dataset, digit: int | None = None, digits=None) -> ErrorAnalysis:
    """Group ``net``'s mistakes on ``dataset`` by (true, predicted), most frequent pairs first.

    Output units answer by name; only digits whose label the network answers are considered (or
    of ``digits``, the answer then the brightest of their outputs). With ``digit`` only digits
    whose true class is ``digit`` are considered. Group counts sum to ``n_errors``, the number of
    misclassified digits considered.
    """
    read = readout(net, digits)
    if digit is not None and int(digit) not in read.labels:
        raise HandnetError(f"--digit {digit}: expected one of the labels scored, {join_labels(read.labels)}")
    if len(dataset) == 0:
        raise HandnetError(f"{dataset.describe()}: no digits to analyse")
    labels_all = np.asarray(dataset.labels, dtype=np.int64)
    keep, sc = scope(read, labels_all)
    if not sc.n:
        raise HandnetError(f"{dataset.describe()}: no digit with a label the network answers ({join_labels(read.labels)})")
    positions = np.flatnonzero(keep)
    acts, zs = net.forward(dataset.images[positions], preactivations=True)
    hidden = acts[1:-1]
    predictions = read.predict(acts[-1])
    labels = labels_all[positions]
    considered = np.ones(len(labels), bool) if digit is None else labels == int(digit)
    wrong = considered & (predictions != labels)
    counts = confusion_matrix(labels[wrong], predictions[wrong]).ravel()  # index = true * 10 + predicted
    # most frequent first; ties in (true, predicted) order so the report is stable
    order = sorted((p for p in range(100) if counts[p]), key=lambda p: (-counts[p], p))
    out_w, out_b = net.layers[-1].weights, net.layers[-1].biases
    last = hidden[-1] if hidden else acts[0]
    last_layer = net.layers[-2] if hidden else None
    last_units = tuple(f"{last_layer.name}:{u}" for u in last_layer.units) if last_layer is not None \
        else tuple(f"pixel:{k}" for k in range(last.shape[1]))
    groups = []
    for pair in order:
        true, pred = divmod(int(pair), 10)
        col_t, col_p = read.column(true), read.column(pred)
        in_group = wrong & (labels == true) & (predictions == pred)
        right = (labels == true) & (predictions == labels)
        layers = tuple(
            LayerContrast(
                net.layers[li].name,
                tuple(f"{net.layers[li].name}:{u}" for u in net.layers[li].units),
                a[in_group].mean(axis=0).astype(float),
                a[right].mean(axis=0).astype(float) if right.any() else np.full(a.shape[1], np.nan),
            )
            for li, a in enumerate(hidden)
        )
        contributions = ((out_w[col_p] - out_w[col_t]) * last[in_group]).mean(axis=0).astype(float)
        margin = float(np.mean(zs[-1][in_group, col_p] - zs[-1][in_group, col_t]))
        groups.append(ErrorGroup(true, pred, positions[in_group], layers, contributions,
                                 float(out_b[col_p] - out_b[col_t]), margin, last_units))
    return ErrorAnalysis(len(labels) if digit is None else int(considered.sum()), int(wrong.sum()), tuple(groups),
                         dataset.describe(), None if digit is None else int(digit), sc)
