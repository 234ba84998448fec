"""What changed between two versions of a network: which units, how (stroke geometry, threshold,
weights), and which test digits flipped from right to wrong or back.

Units are matched by layer and unit name (layers by name, else by position, so a hand-built net
can be diffed against a trained one of the same shape). What a unit *is* (its strokes, width,
rule...) comes from ``metadata["units"]``, which a compiled spec fills in, so two saved ``.npz``
files diff as well as two specs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from handnet.errors import HandnetError, UnitError
from handnet.views import NotebookView
from handnet.nn.network import Network


@dataclass(frozen=True)
class UnitChange:
    """One unit that differs. ``status`` is ``changed``, ``added`` (only in B) or ``removed`` (only in A).

    ``description`` lists what the unit's metadata says changed, e.g. ``strokes[0].line[1][0]: 20 -> 22``;
    ``bias`` is ``(before, after)`` (None on a missing side); ``max_weight_change`` the largest
    absolute change of an incoming weight (NaN for added/removed units).
    """

    unit: str
    status: str
    layer: str
    description: tuple[str, ...] = ()
    bias: tuple[float | None, float | None] = (None, None)
    max_weight_change: float = float("nan")
    n_weights_changed: int = 0
    unit_a: str | None = None  # the unit's ref in A when it differs (layers or units paired by position)

    @property
    def weights_changed(self) -> bool:
        return self.n_weights_changed > 0

    @property
    def bias_changed(self) -> bool:
        return self.bias[0] != self.bias[1]

    def summary(self) -> str:
        """One line: the unit and what changed in it."""
        if self.status != "changed":
            return f"{self.unit}: {self.status}"
        name = f"{self.unit_a} -> {self.unit}" if self.unit_a else self.unit
        parts = list(self.description)
        if self.bias_changed:
            parts.append(f"bias {self.bias[0]:.3f} -> {self.bias[1]:.3f} ({self.bias[1] - self.bias[0]:+.3f})")
        if self.weights_changed:
            parts.append(f"{self.n_weights_changed} weights changed (max |Δ| {self.max_weight_change:.3g})")
        return f"{name}: " + "; ".join(parts)

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "unit_a": self.unit_a or self.unit,
            "status": self.status,
            "layer": self.layer,
            "description": list(self.description),
            "bias": {"before": self.bias[0], "after": self.bias[1]},
            "n_weights_changed": self.n_weights_changed,
            "max_weight_change": self.max_weight_change,
        }


@dataclass(frozen=True)
class NetworkDiff:
    """Every unit that differs between networks A and B, in layer order, plus notes on the layers."""

    changes: tuple[UnitChange, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def unchanged(self) -> bool:
        return not self.changes and not self.notes

    def units(self, status: str | None = None) -> list[str]:
        return [c.unit for c in self.changes if status is None or c.status == status]

    def layer_changed(self, layer: str) -> bool:
        return any(c.layer == layer for c in self.changes)

    def to_dict(self) -> dict:
        return {"unchanged": self.unchanged, "notes": list(self.notes), "changes": [c.to_dict() for c in self.changes]}

    def format_text(self) -> str:
        if self.unchanged:
            return "no unit changed"
        return "\n".join([*self.notes, *(c.summary() for c in self.changes)])


def describe_changes(before, after, path: str = "") -> list[str]:
    """Paths where two JSON-like values differ, as ``path: before -> after`` lines.

    Dicts are compared key by key and lists of equal length item by item, so an edited stroke
    endpoint reads ``strokes[0].line[1][0]: 20 -> 22`` rather than two whole stroke lists.
    """
    if isinstance(before, dict) and isinstance(after, dict):
        lines = []
        for key in list(before) + [k for k in after if k not in before]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                lines.append(f"{sub}: removed (was {_short(before[key])})")
            elif key not in before:
                lines.append(f"{sub}: added ({_short(after[key])})")
            else:
                lines.extend(describe_changes(before[key], after[key], sub))
        return lines
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)) and len(before) == len(after):
        return [line for i, (b, a) in enumerate(zip(before, after)) for line in describe_changes(b, a, f"{path}[{i}]")]
    if _same(before, after):
        return []
    change = f"{_short(before)} -> {_short(after)}"
    if _number(before) and _number(after):
        change += f" ({after - before:+.4g})"
    return [f"{path or 'value'}: {change}"]


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _same(a, b) -> bool:
    if _number(a) and _number(b):
        return float(a) == float(b)
    return a == b


def _short(value, limit: int = 120) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _match_layers(a: Network, b: Network) -> tuple[list[tuple[int, int]], list[str]]:
    """Pairs of layer indexes (A, B) to compare, and notes on layers that do not pair up."""
    notes = []
    if a.layer_names == b.layer_names or len(a.layers) == len(b.layers):
        pairs = list(zip(range(len(a.layers)), range(len(b.layers))))
        for i, j in pairs:
            if a.layers[i].name != b.layers[j].name:
                notes.append(f"layer {i + 1} is named {a.layers[i].name} in A and {b.layers[j].name} in B")
        return pairs, notes
    pairs = [(i, b.layer_names.index(n)) for i, n in enumerate(a.layer_names) if n in b.layer_names]
    notes += [f"layer {n}: only in A" for n in a.layer_names if n not in b.layer_names]
    notes += [f"layer {n}: only in B" for n in b.layer_names if n not in a.layer_names]
    return pairs, notes


def diff_networks(a: Network, b: Network, atol: float = 0.0) -> NetworkDiff:
    """The units that differ between ``a`` and ``b`` (weights or bias beyond ``atol``, or metadata).

    A unit's incoming weights are compared by input name when the layers below have the same unit
    names, else by position; a layer whose input size changed counts every unit as changed.
    """
    pairs, notes = _match_layers(a, b)
    meta_a = a.metadata.get("units", {}) if isinstance(a.metadata.get("units"), dict) else {}
    meta_b = b.metadata.get("units", {}) if isinstance(b.metadata.get("units"), dict) else {}
    changes = []
    for i, j in pairs:
        la, lb = a.layers[i], b.layers[j]
        if la.activation != lb.activation:
            notes.append(f"layer {lb.name}: activation {la.activation} -> {lb.activation}")
        cols_a, cols_b = _input_columns(a, i, b, j)
        for ua, ub in _match_units(la, lb, notes):
            if ub is None:
                changes.append(UnitChange(f"{la.name}:{la.units[ua]}", "removed", lb.name,
                                          bias=(float(la.biases[ua]), None)))
                continue
            if ua is None:
                changes.append(UnitChange(f"{lb.name}:{lb.units[ub]}", "added", lb.name,
                                          bias=(None, float(lb.biases[ub]))))
                continue
            ref_a, ref_b = f"{la.name}:{la.units[ua]}", f"{lb.name}:{lb.units[ub]}"
            # what the unit is, when both sides say (a trained net's units carry no description);
            # the bias is reported from the weights themselves, below
            description = tuple(
                line for line in describe_changes(meta_a[ref_a], meta_b[ref_b]) if not line.startswith("bias:")
            ) if ref_a in meta_a and ref_b in meta_b else ()
            bias = (float(la.biases[ua]), float(lb.biases[ub]))
            if cols_a is None:
                n_changed, max_change = la.n_in + lb.n_in, float("nan")
            else:
                delta = np.abs(la.weights[ua, cols_a].astype(float) - lb.weights[ub, cols_b].astype(float))
                n_changed, max_change = int(np.sum(delta > atol)), float(delta.max()) if delta.size else 0.0
            if description or n_changed or abs(bias[0] - bias[1]) > atol:
                if abs(bias[0] - bias[1]) <= atol:
                    bias = (bias[0], bias[0])
                changes.append(UnitChange(ref_b, "changed", lb.name, description, bias, max_change, n_changed,
                                          ref_a if ref_a != ref_b else None))
    return NetworkDiff(tuple(changes), tuple(notes))


def _match_units(la, lb, notes: list) -> list[tuple[int | None, int | None]]:
    """Pairs of unit indexes (A, B), None on the side where a unit is missing. Units pair by name;
    two layers of the same size with no name in common (a hand-built and a trained layer) pair
    by position."""
    if not set(la.units) & set(lb.units) and la.n_out == lb.n_out:
        notes.append(f"layer {lb.name}: no unit names in common with {la.name}; units paired by position")
        return [(k, k) for k in range(la.n_out)]
    pairs = [(k, lb.units.index(u) if u in lb.units else None) for k, u in enumerate(la.units)]
    return pairs + [(None, k) for k, u in enumerate(lb.units) if u not in la.units]


def _input_columns(a: Network, i: int, b: Network, j: int):
    """Column indexes into layer i of A and layer j of B that hold the same input, or None if the
    inputs cannot be paired (different sizes), as ``(cols_a, cols_b)``."""
    la, lb = a.layers[i], b.layers[j]
    if i == 0 or j == 0:
        return (slice(None), slice(None)) if la.n_in == lb.n_in else (None, None)
    below_a, below_b = a.layers[i - 1].units, b.layers[j - 1].units
    if set(below_a) == set(below_b):
        return np.arange(len(below_a)), np.array([below_b.index(u) for u in below_a])
    return (slice(None), slice(None)) if la.n_in == lb.n_in else (None, None)


# ---- which digits flipped ------------------------------------------------------------------------
@dataclass(frozen=True)
class Flips:
    """Test digits whose verdict differs between A and B: ``broke`` right in A and wrong in B,
    ``fixed`` wrong in A and right in B; each ``(k,)`` int indexes into the dataset."""

    broke: np.ndarray
    fixed: np.ndarray

    def to_dict(self, labels, predictions_a, predictions_b, index=None) -> dict:
        """Each flip as ``{"index", "label", "a", "b"}``; ``index`` maps positions in the scored
        arrays to the dataset (when only some digits were scored)."""
        def rows(idx):
            return [
                {"index": int(k if index is None else index[k]), "label": int(labels[k]),
                 "a": int(predictions_a[k]), "b": int(predictions_b[k])}
                for k in idx
            ]

        return {"broke": rows(self.broke), "fixed": rows(self.fixed)}


def flips(labels, predictions_a, predictions_b) -> Flips:
    """Compare two networks' predictions ``(n,)`` on the same labelled digits."""
    labels, pa, pb = (np.asarray(v) for v in (labels, predictions_a, predictions_b))
    right_a, right_b = pa == labels, pb == labels
    return Flips(np.flatnonzero(right_a & ~right_b), np.flatnonzero(~right_a & right_b))


def accuracy_change_text(before, after) -> str:
    """``accuracy 91.2% (+0.4)`` then one ``d: 81.2% (+3.4)`` per digit; ``before`` may be None (first
    version). Both are Evaluations (``accuracy``, ``per_digit``)."""

    def delta(new, old):
        if old is None or old != old:
            return ""
        d = 100 * (new - old)
        return f" ({d:+.1f})" if abs(d) >= 0.05 else " (=)"

    head = f"accuracy {after.accuracy:.1%}{delta(after.accuracy, before.accuracy if before else None)}"
    digits = [
        f"{d}: {acc:.1%}{delta(acc, before.per_digit.get(d) if before else None)}" for d, acc in after.per_digit.items()
    ]
    return head + "\n" + "  ".join(digits)


def unit_row(net: Network, ref: str):
    try:
        u = net.unit(ref)
    except UnitError:
        return None
    return net.layers[u.layer].weights[u.index].astype(float)


# ---- two versions side by side -------------------------------------------------------------------
@dataclass(frozen=True)
class VersionComparison(NotebookView):
    """Networks A and B on the same digits: the unit diff, both Evaluations, and the flips."""

    a: Network
    b: Network
    diff: NetworkDiff
    eval_a: object
    eval_b: object
    flips: Flips

    def to_dict(self) -> dict:
        ea, eb = self.eval_a, self.eval_b
        return {
            "diff": self.diff.to_dict(),
            "data": eb.data,
            "labels": list(eb.scope.labels) if eb.scope is not None else list(range(10)),
            "scope": eb.scope.to_dict() if eb.scope is not None else None,
            "accuracy": {"a": ea.accuracy, "b": eb.accuracy, "change": eb.accuracy - ea.accuracy},
            "per_digit": {
                d: {"a": ea.per_digit.get(d), "b": eb.per_digit.get(d),
                    "change": eb.per_digit[d] - ea.per_digit[d] if d in ea.per_digit and d in eb.per_digit else None}
                for d in dict.fromkeys([*ea.per_digit, *eb.per_digit])
            },
            "flips": self.flips.to_dict(eb.labels, ea.predictions, eb.predictions, eb.index),
        }

    def format_text(self, name_a: str = "A", name_b: str = "B") -> str:
        ea, eb = self.eval_a, self.eval_b
        lines = [f"A: {name_a}", f"B: {name_b}", f"data: {eb.data}"]
        if eb.scope is not None:
            lines.append(eb.scope.sentence())
        lines += ["", self.diff.format_text(), ""]
        lines.append(f"accuracy  A {ea.accuracy:.1%}  B {eb.accuracy:.1%}  ({100 * (eb.accuracy - ea.accuracy):+.1f})")
        for d in dict.fromkeys([*ea.per_digit, *eb.per_digit]):
            pa, pb = ea.per_digit.get(d), eb.per_digit.get(d)
            if pa is not None and pb is not None:
                lines.append(f"  {d}: A {pa:6.1%}  B {pb:6.1%}  ({100 * (pb - pa):+.1f})")
        broke, fixed = self.flips.broke, self.flips.fixed
        lines.append("")
        lines.append(f"right in A, wrong in B: {len(broke)}" + _flip_list(broke, eb.labels, eb.predictions, eb.index))
        lines.append(f"wrong in A, right in B: {len(fixed)}" + _flip_list(fixed, eb.labels, ea.predictions, eb.index))
        return "\n".join(lines)

def _flip_list(idx, labels, predictions, index=None, limit: int = 12) -> str:
    if not len(idx):
        return ""
    shown = ", ".join(f"#{k if index is None else index[k]} ({labels[k]} as {predictions[k]})" for k in idx[:limit])
    return "\n  " + shown + (", ..." if len(idx) > limit else "")


def compare_versions(a: Network, b: Network, dataset, digits=None) -> VersionComparison:
    """Diff two networks and evaluate both on ``dataset`` (a ``Dataset``), on the same digits:
    those of the labels both answer, matched by name (or of ``digits``)."""
    from handnet.nn.evaluate import evaluate
    from handnet.nn.labels import shared_readouts

    try:
        read_a, read_b = shared_readouts([a, b], digits)
    except HandnetError as e:
        raise HandnetError(f"A and B: {e}") from None
    eval_a, eval_b = evaluate(a, dataset, read=read_a), evaluate(b, dataset, read=read_b)
    return VersionComparison(
        a, b, diff_networks(a, b), eval_a, eval_b, flips(eval_b.labels, eval_a.predictions, eval_b.predictions)
    )
