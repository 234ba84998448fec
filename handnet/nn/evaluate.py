"""How well a network reads a set of digits: accuracy overall and per digit, and the confusion matrix.

``evaluate(net, dataset)`` runs the network once over the digits and keeps every prediction, so
the numbers it reports can be traced back to single images (``Evaluation.predictions``). Output
units answer by name (``handnet.nn.labels``): a unit named 7 answers 7 wherever it sits, and a net
whose outputs cover some digits is scored on the test digits of those labels (``Evaluation.scope``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handnet.views import NotebookView
from handnet.data.mnist import Dataset
from handnet.errors import DataError
from handnet.nn.labels import Readout, Scope, join_labels, readout, scope
from handnet.nn.network import Network
from handnet.threads import single_threaded

DIGITS = tuple(str(d) for d in range(10))
BATCH = 4096  # images per forward pass: keeps memory flat on the full 10,000-digit test set


@dataclass(frozen=True, eq=False)  # arrays inside: compare fields, not objects
class Evaluation(NotebookView):
    """One network's answers on one set of digits.

    ``per_digit`` maps ``"0"``..``"9"`` to the fraction of that digit read correctly; a digit absent
    from the data or not scored is left out (there is nothing to measure), so every value is a
    real fraction. ``confusion`` is ``(10, 10)`` int64 with rows = true digit and columns =
    predicted digit (rows and columns of labels not scored are zero). ``predictions`` (the label
    answered) and ``labels`` are ``(n,)`` int64 over the scored digits; ``index`` ``(n,)`` says
    where each sits in the dataset. ``data`` says which digits were used and ``scope`` which
    labels were scored and how many digits that is.
    """

    accuracy: float
    n: int
    per_digit: dict[str, float]
    confusion: np.ndarray
    predictions: np.ndarray
    labels: np.ndarray
    data: str
    scope: Scope | None = None
    index: np.ndarray | None = None

    @property
    def scored(self) -> tuple[str, ...]:
        """The labels scored, as ``"0"``..``"9"`` strings (every digit when no scope is known)."""
        return tuple(str(d) for d in self.scope.labels) if self.scope is not None else DIGITS

    @property
    def support(self) -> dict[str, int]:
        """How many images of each digit present, ``"0"``..``"9"`` -> count."""
        counts = self.confusion.sum(axis=1)
        return {d: int(counts[i]) for i, d in enumerate(DIGITS) if counts[i] > 0}

    @property
    def n_correct(self) -> int:
        return int(np.trace(self.confusion))

    def mistakes(self, top: int = 5) -> list[tuple[int, int, int]]:
        """The most frequent confusions as ``(true, predicted, count)``, largest first."""
        off = self.confusion.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(-off, axis=None, kind="stable")[:top]
        return [(int(i // 10), int(i % 10), int(off.flat[i])) for i in order if off.flat[i] > 0]

    def to_dict(self) -> dict:
        """A JSON-ready summary (predictions are left out; they are one number per image)."""
        return {
            "accuracy": self.accuracy,
            "n": self.n,
            "n_correct": self.n_correct,
            "per_digit": dict(self.per_digit),
            "support": self.support,
            "confusion": self.confusion.tolist(),
            "mistakes": [{"true": t, "predicted": p, "count": c} for t, p, c in self.mistakes()],
            "data": self.data,
            "labels": [int(d) for d in self.scored],
            "scope": self.scope.to_dict() if self.scope is not None else None,
        }

    def format_text(self) -> str:
        """The report the CLI prints: accuracy, a per-digit table, the confusion matrix."""
        chance = 1 / max(len(self.per_digit), 1)
        lines = [f"data: {self.data}"]
        if self.scope is not None:
            lines.append(self.scope.sentence())
        lines += [
            f"accuracy: {self.accuracy:.2%} ({self.n_correct:,} of {self.n:,} digits); guessing gets {chance:.0%}, the "
            "lesson's trained network about 96%",
            "",
            "digit      n  correct  accuracy",
        ]
        support = self.support
        scored = self.scored
        for d in scored:
            if d in self.per_digit:
                correct = int(self.confusion[int(d), int(d)])
                lines.append(f"    {d}  {support[d]:5d}  {correct:7d}  {self.per_digit[d]:8.2%}")
            else:
                lines.append(f"    {d}      0        -         -  (absent from the data)")
        lines += ["", "confusion (rows: true digit, columns: predicted digit)"]
        width = max(4, len(str(int(self.confusion.max()))) + 1)
        lines.append("true\\pred " + "".join(f"{d:>{width}}" for d in scored))
        for d in scored:
            lines.append(f"    {d}     " + "".join(f"{int(self.confusion[int(d), int(c)]):>{width}}" for c in scored))
        mistakes = self.mistakes()
        if mistakes:
            lines += ["", "most common mistakes: " + ", ".join(f"{t} read as {p} ({c})" for t, p, c in mistakes)]
        return "\n".join(lines)


def confusion_matrix(labels, predictions) -> np.ndarray:
    """``(10, 10)`` int64 counts, rows = true digit, columns = predicted digit."""
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    return np.bincount(labels * 10 + predictions, minlength=100).reshape(10, 10)


@single_threaded  # (n, 784) x (784, 16): one thread is fastest
def evaluate(net: Network, dataset: Dataset, digits=None, read: Readout | None = None) -> Evaluation:
    """Run ``net`` over ``dataset`` and score its answers against the labels.

    Output units answer by name (``handnet.nn.labels.readout``); only the digits whose label the
    network answers are scored, or with ``digits`` (e.g. ``(0, 1, 7)``) only those labels, the
    answer being the brightest of their outputs. ``read`` gives the readout outright (the same
    digits for two networks: ``handnet.nn.labels.shared_readouts``).
    """
    if len(dataset) == 0:
        raise DataError(f"{dataset.describe()}: no digits to evaluate")
    read = read if read is not None else readout(net, digits)
    labels_all = np.asarray(dataset.labels, dtype=np.int64)
    mask, sc = scope(read, labels_all)
    if not sc.n:
        raise DataError(f"{dataset.describe()}: no digit with a label the network answers ({join_labels(read.labels)})")
    index = np.flatnonzero(mask)
    images = dataset.images if mask.all() else dataset.images[index]
    predictions = np.concatenate(
        [read.predict(net.output(images[start : start + BATCH])) for start in range(0, len(images), BATCH)]
    ).astype(np.int64)
    labels = labels_all[index]
    confusion = confusion_matrix(labels, predictions)
    counts = confusion.sum(axis=1)
    per_digit = {d: float(confusion[i, i] / counts[i]) for i, d in enumerate(DIGITS) if counts[i] > 0}
    return Evaluation(
        accuracy=float(np.trace(confusion) / len(labels)),
        n=len(labels),
        per_digit=per_digit,
        confusion=confusion,
        predictions=predictions,
        labels=labels,
        data=dataset.describe(),
        scope=sc,
        index=index,
    )
