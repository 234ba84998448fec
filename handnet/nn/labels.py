"""Which label each output unit stands for, and which test digits a network is scored on.

Output units are matched to labels by NAME, never by position: a unit named ``7`` answers 7
wherever it sits in its layer. A spec may give another name a label (``[digits.corner]`` with
``label = 7``); the compiled network keeps that map in ``metadata["labels"]``, so a saved ``.npz``
reads the same way. A network whose outputs cover some of the digits (``0``, ``1``, ``7``) is
scored on the test digits of those labels only, and ``digits=`` narrows any network to chosen
labels: it is then scored as if it had only those outputs (test digits of those labels, the
answer the brightest of those outputs).

Every scorer in handnet goes through ``readout``: evaluate, compare, the ladder, surgery, sweep,
diff, watch, errors, the report, and training from a given network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from handnet.errors import HandnetError

DIGITS = tuple(range(10))
_WHOLE = re.compile(r"0|[1-9][0-9]{0,8}")  # a label written as a unit name: ASCII, no leading zeros


def unit_label(name: str) -> int | None:
    """The label a unit name stands for by itself: ``"7"`` -> 7, ``"corner"`` -> None."""
    name = str(name)
    return int(name) if _WHOLE.fullmatch(name) else None


def label_map(metadata: dict) -> dict[str, int]:
    """The explicit labels kept in a network's metadata (``{"corner": 7}``), checked."""
    mapping = (metadata or {}).get("labels") or {}
    if not isinstance(mapping, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in mapping.values()
    ):
        raise HandnetError(f"metadata.labels is {mapping!r}; expected {{output unit name: label >= 0}}")
    return {str(k): int(v) for k, v in mapping.items()}


def output_labels(net) -> tuple[int | None, ...]:
    """The label of each output unit, in layer order: the metadata's map first, else the unit's
    own name when it is a whole number, else None."""
    mapping = label_map(net.metadata)
    return tuple(mapping[u] if u in mapping else unit_label(u) for u in net.layers[-1].units)


def join_labels(labels) -> str:
    """``(0, 1, 7)`` -> ``"0, 1, 7"``; a run of all ten digits -> ``"0-9"``."""
    labels = sorted(labels)
    if labels == list(DIGITS):
        return "0-9"
    return ", ".join(str(d) for d in labels)


@dataclass(frozen=True)
class Readout:
    """How one network's answers are read as labels.

    ``columns`` are the output units that take part (indices into the output layer, in layer
    order) and ``labels`` the label each stands for. ``chosen`` says why these: "outputs" (all of
    the network's), "digits" (narrowed by ``--digits``) or "shared" (the labels two networks share).
    """

    layer: str
    units: tuple[str, ...]
    columns: tuple[int, ...]
    labels: tuple[int, ...]
    n_outputs: int
    chosen: str = "outputs"

    @property
    def digits(self) -> tuple[int, ...]:
        """The labels scored, ascending."""
        return tuple(sorted(self.labels))

    @property
    def identity(self) -> bool:
        """True when output unit i is label i for every output (the answer is the plain argmax)."""
        return self.n_outputs == len(self.columns) and self.labels == tuple(range(self.n_outputs))

    def predict(self, outputs) -> np.ndarray:
        """The label of the brightest taking-part output, ``(n,)`` int64, from outputs ``(n, n_outputs)``."""
        outputs = np.asarray(outputs)
        if self.identity:
            return np.argmax(outputs, axis=1).astype(np.int64)
        chosen = np.argmax(outputs[:, list(self.columns)], axis=1)
        return np.asarray(self.labels, dtype=np.int64)[chosen]

    def column(self, label: int) -> int:
        """The output unit (its index in the output layer) that answers ``label``."""
        try:
            return self.columns[self.labels.index(int(label))]
        except ValueError:
            raise HandnetError(f"no output unit answers {label}; this network reads {join_labels(self.labels)}") from None

    def to_columns(self, y) -> np.ndarray:
        """Labels ``(n,)`` -> the output unit that answers each, ``(n,)`` int64 (for training targets)."""
        y = np.asarray(y, dtype=np.int64)
        lookup = np.full(max(max(self.labels), int(y.max(initial=0))) + 1, -1, dtype=np.int64)
        lookup[list(self.labels)] = self.columns
        out = lookup[y] if len(y) else y
        bad = np.flatnonzero(out < 0) if len(y) else []
        if len(bad):
            raise HandnetError(f"label {int(y[bad[0]])} (at index {int(bad[0])}) has no output unit; this network "
                               f"reads {join_labels(self.labels)}")
        return out

    def covers(self, y) -> np.ndarray:
        """``(n,)`` bool: which labels this readout scores."""
        return np.isin(np.asarray(y), self.labels)

    def describe(self) -> str:
        """What is scored, in words: ``labels 0, 1, 7 (the network's 3 outputs)``."""
        n = len(self.columns)
        if self.chosen == "digits":
            how = f"chosen with --digits, of the network's {self.n_outputs} outputs"
        elif self.chosen == "shared":
            how = f"the labels both networks answer; this one has {self.n_outputs} outputs"
        else:
            how = f"the network's {n} output{'s' * (n != 1)}"
        return f"label{'s' * (n != 1)} {join_labels(self.labels)} ({how})"

    def to_dict(self) -> dict:
        return {"labels": list(self.digits), "units": [f"{self.layer}:{u}" for u in self.units],
                "chosen": self.chosen, "n_outputs": self.n_outputs}


def parse_digits(text) -> tuple[int, ...] | None:
    """``"0,1,7"`` (or a list of ints) -> ``(0, 1, 7)``; None or "" -> None (every output)."""
    if text is None or text == "":
        return None
    items = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    out = []
    for item in items:
        value = item if isinstance(item, int) and not isinstance(item, bool) else None
        if value is None and isinstance(item, str) and item.isascii() and item.isdigit():
            value = int(item)
        if value is None or not 0 <= value <= 9:
            raise HandnetError(f"--digits {text}: expected digits 0-9 separated by commas, e.g. 0,1,7; got {item!r}")
        out.append(value)
    if not out:
        raise HandnetError(f"--digits {text}: expected digits 0-9 separated by commas, e.g. 0,1,7")
    return tuple(sorted(set(out)))


@dataclass(frozen=True)
class _OutputLayer:
    name: str
    units: tuple[str, ...]

    @property
    def n_out(self) -> int:
        return len(self.units)


@dataclass(frozen=True)
class _Outputs:
    """What ``readout`` reads of a network: its output layer's name and units, and its metadata."""

    layers: tuple
    metadata: dict


def outputs_only(units, labels: dict | None = None, layer: str = "digits") -> _Outputs:
    """A stand-in for a network with these output unit names (and label map), for asking how a
    network would be read before it exists (a spec before it is compiled, a net before training)."""
    return _Outputs((_OutputLayer(layer, tuple(str(u) for u in units)),), {"labels": dict(labels or {})})


def readout(net, digits=None, *, digits_only: bool = True) -> Readout:
    """How ``net``'s outputs are read: every output unit must stand for a label (by its name or
    the spec's ``label = N``), no two for the same one, and with ``digits_only`` each a digit 0-9.
    ``digits`` (labels) keeps only the outputs for those labels. A one-line HandnetError says
    what is wrong and how to fix it."""
    layer = net.layers[-1]
    labels = output_labels(net)
    ref = f"{layer.name}:"
    if digits is not None:
        digits = parse_digits(digits) if isinstance(digits, str) else tuple(sorted(set(int(d) for d in digits)))
        absent = [d for d in digits if d not in labels]
        if absent:
            have = [lab for lab in labels if lab is not None]
            raise HandnetError(
                f"--digits {','.join(map(str, digits))}: the network has no output unit for "
                f"{join_labels(absent)}; its outputs answer {join_labels(have) if have else 'no digit'}")
        chosen = [i for i, lab in enumerate(labels) if lab in digits]
    else:
        unnamed = [u for u, lab in zip(layer.units, labels) if lab is None]
        if unnamed:
            shown = ", ".join(ref + u for u in unnamed[:5]) + (", ..." if len(unnamed) > 5 else "")
            raise HandnetError(
                f"output unit{'s' * (len(unnamed) != 1)} {shown} {'are' if len(unnamed) != 1 else 'is'} not named "
                f"after a digit, so handnet cannot score {'them' if len(unnamed) != 1 else 'it'} against MNIST labels: "
                f"name output units 0-9, map a name in the spec (e.g. [digits.{unnamed[0]}] label = 7), "
                f"or score only the digit outputs with --digits")
        chosen = list(range(layer.n_out))
    seen: dict[int, str] = {}
    for i in chosen:
        lab = labels[i]
        if lab in seen:
            raise HandnetError(f"output units {ref}{seen[lab]} and {ref}{layer.units[i]} both answer {lab}; "
                               "each label needs exactly one output unit")
        seen[lab] = layer.units[i]
        if digits_only and lab > 9:
            raise HandnetError(f"output unit {ref}{layer.units[i]} answers {lab}, which is not a digit 0-9")
    return Readout(layer.name, tuple(layer.units[i] for i in chosen), tuple(chosen),
                   tuple(int(labels[i]) for i in chosen), layer.n_out, "outputs" if digits is None else "digits")


def answers(net) -> Readout:
    """The readout ``Network.predict`` uses: labels by name (``readout`` without the digit limit),
    or, for a network none of whose outputs names a label, the output positions."""
    labels = output_labels(net)
    if all(lab is None for lab in labels):
        layer = net.layers[-1]
        n = layer.n_out
        return Readout(layer.name, tuple(layer.units), tuple(range(n)), tuple(range(n)), n)
    return readout(net, digits_only=False)


def shared_readouts(nets, digits=None) -> list[Readout]:
    """Readouts of several networks scored on the same digits: ``digits`` if given, else the labels
    every network answers (when they differ, each is narrowed to those, ``chosen="shared"``)."""
    readouts = [readout(net, digits) for net in nets]
    if digits is not None:
        return readouts
    sets = [set(r.labels) for r in readouts]
    common = set.intersection(*sets)
    if all(s == common for s in sets):
        return readouts
    if not common:
        raise HandnetError("the networks answer no label in common (" + "; ".join(
            join_labels(s) for s in sets) + "), so they cannot be scored on the same digits")
    out = []
    for net in nets:
        r = readout(net, sorted(common))
        out.append(Readout(r.layer, r.units, r.columns, r.labels, r.n_outputs, "shared"))
    return out


@dataclass(frozen=True)
class Scope:
    """Which test digits were scored: those whose label is in ``labels``, ``n`` of the ``n_total``
    in the data. ``how`` says where the labels came from (``Readout.describe``)."""

    labels: tuple[int, ...]
    n: int
    n_total: int
    how: str

    def sentence(self) -> str:
        """``scored on labels 0, 1, 7 (the network's 3 outputs): 312 of the 1,000 test digits``."""
        return f"scored on {self.how}: {self.n:,} of the {self.n_total:,} test digits"

    def to_dict(self) -> dict:
        return {"labels": list(self.labels), "n_digits": self.n, "n_available": self.n_total, "how": self.how}


def scope(read: Readout, y) -> tuple[np.ndarray, Scope]:
    """The test digits ``read`` scores among labels ``y``: a ``(n,)`` bool mask and its Scope."""
    mask = read.covers(y)
    return mask, Scope(read.digits, int(mask.sum()), int(len(mask)), read.describe())
