"""Where a network goes wrong: its mistakes grouped by (true, predicted) digit, most frequent first,
each with the hidden units that drove the wrong answer.

For a group such as "4 read as 9" it compares each hidden unit's mean activation over the group
with its mean over the 4s the network gets right (which parts fired that should not have, which
stayed dark), and splits the output margin ``z_9 - z_4`` into per-unit contributions
``(W[9, j] - W[4, j]) * a_j`` of the last hidden layer, so the units that pushed towards 9 stand out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handnet.views import NotebookView
from handnet.data.mnist import Dataset
from handnet.errors import HandnetError
from handnet.nn.evaluate import confusion_matrix
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
    group: how much each unit of the last hidden layer pushed the answer from ``true`` to ``predicted``
    (``margin_bias`` is the biases' share, so contributions + margin_bias = the mean margin).
    """

    true: int
    predicted: int
    indices: np.ndarray
    layers: tuple[LayerContrast, ...]
    contributions: np.ndarray
    margin_bias: float

    @property
    def count(self) -> int:
        return len(self.indices)

    @property
    def label(self) -> str:
        return f"{self.true} read as {self.predicted}"

    def pushers(self, top: int = 3) -> list[tuple[str, float]]:
        """The last hidden layer's units that pushed hardest towards the wrong answer."""
        units = self.layers[-1].units if self.layers else ()
        order = np.argsort(-self.contributions, kind="stable")
        return [(units[i], float(self.contributions[i])) for i in order[:top] if self.contributions[i] > 0]

    def to_dict(self) -> dict:
        units = self.layers[-1].units if self.layers else ()
        return {
            "true": self.true,
            "predicted": self.predicted,
            "count": self.count,
            "indices": self.indices.tolist(),
            "hidden": [layer.to_dict() for layer in self.layers],
            "margin_contributions": {u: float(c) for u, c in zip(units, self.contributions)},
            "margin_bias": self.margin_bias,
        }


@dataclass(frozen=True)
class ErrorAnalysis(NotebookView):
    """All mistakes of one network on one dataset, grouped; ``groups`` are most frequent first."""

    n: int
    n_errors: int
    groups: tuple[ErrorGroup, ...]
    data: str
    digit: int | None = None

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "digit": self.digit,
            "n": self.n,
            "n_errors": self.n_errors,
            "groups": [g.to_dict() for g in self.groups],
        }


    def format_text(self, top: int = 10) -> str:
        """The report the CLI prints: one paragraph per group, most frequent first."""
        scope = f" of true digit {self.digit}" if self.digit is not None else ""
        rate = self.n_errors / self.n if self.n else 0.0
        lines = [f"data: {self.data}", f"{self.n_errors:,} of {self.n:,} digits{scope} misclassified ({rate:.2%})"]
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
            pushers = ", ".join(f"{u} {c:+.2f}" for u, c in g.pushers())
            margin = float(g.contributions.sum() + g.margin_bias)
            lines.append(
                f"  margin of {g.predicted} over {g.true} (output pre-activations): {margin:+.2f} = "
                + (f"{pushers}, " if pushers else "") + f"biases {g.margin_bias:+.2f}, and the rest"
            )
        if len(self.groups) > top:
            rest = sum(g.count for g in self.groups[top:])
            lines.append(f"\n... {len(self.groups) - top} more pairs ({rest} digits)")
        return "\n".join(lines)


def analyze_errors(net: Network, dataset: Dataset, digit: int | None = None) -> ErrorAnalysis:
    """Group ``net``'s mistakes on ``dataset`` by (true, predicted), most frequent pairs first.

    With ``digit`` only digits whose true class is ``digit`` are considered. Group counts sum to
    ``n_errors``, the number of misclassified digits considered.
    """
    if net.sizes[-1] != 10:
        raise HandnetError(f"the network has {net.sizes[-1]} output units; error analysis needs 10 (one per digit)")
    if digit is not None and not 0 <= int(digit) <= 9:
        raise HandnetError(f"--digit {digit}: expected a digit 0-9")
    if len(dataset) == 0:
        raise HandnetError(f"{dataset.describe()}: no digits to analyse")
    acts = net.forward(dataset.images)
    hidden = acts[1:-1]
    predictions = np.argmax(acts[-1], axis=1)
    labels = np.asarray(dataset.labels, dtype=np.int64)
    considered = np.ones(len(labels), bool) if digit is None else labels == int(digit)
    wrong = considered & (predictions != labels)
    counts = confusion_matrix(labels[wrong], predictions[wrong]).ravel()  # index = true * 10 + predicted
    # most frequent first; ties in (true, predicted) order so the report is stable
    order = sorted((p for p in range(100) if counts[p]), key=lambda p: (-counts[p], p))
    out_w, out_b = net.layers[-1].weights, net.layers[-1].biases
    groups = []
    for pair in order:
        true, pred = divmod(int(pair), 10)
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
        last = hidden[-1] if hidden else acts[0]
        contributions = ((out_w[pred] - out_w[true]) * last[in_group]).mean(axis=0).astype(float)
        groups.append(
            ErrorGroup(true, pred, np.flatnonzero(in_group), layers, contributions, float(out_b[pred] - out_b[true]))
        )
    return ErrorAnalysis(len(labels) if digit is None else int(considered.sum()), int(wrong.sum()), tuple(groups),
                         dataset.describe(), None if digit is None else int(digit))
