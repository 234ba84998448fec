"""The spec as executable documentation: does every unit respond as the spec declares?

For each unit, stimuli are drawn from the spec itself and run through the compiled network:

- an edge must fire (> 0.5) on its own strokes inked at ``ink_width`` and stay low (< 0.5) on
  a blank canvas and on the strokes of every other edge that covers little of its own stroke;
- a part must fire when the strokes of the edges it requires are inked (k of them for
  at_least k, and all of them), stay low with one required edge fewer, and stay low when an
  inhibiting (``none_of``) edge is inked on top (for ``weights`` rules: a negatively weighted
  input inked on top must lower the activation);
- a hand-written digit likewise, with parts drawn as the strokes of the edges they require.

Fitted readout units declare nothing, so they are listed as such and not judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import strokes as strokelib
from .network import sigmoid
from .templates import edge_template

UNRELATED_COVERAGE = 0.2  # another edge whose ink covers less than this of a stroke is unrelated to it


@dataclass
class UnitCheck:
    """One unit's verdict: each case is (stimulus, expected 'high'/'low', activation, ok)."""

    unit: str
    cases: list = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.cases)

    def add(self, stimulus: str, expect: str, activation: float, reference: float | None = None) -> None:
        # "lower": a negative weight must pull the unit below its response to its own stimulus
        if expect == "lower":
            ok = activation < reference
        else:
            ok = activation > 0.5 if expect == "high" else activation < 0.5
        self.cases.append({"stimulus": stimulus, "expect": expect, "activation": float(activation), "ok": bool(ok)})

    def to_dict(self) -> dict:
        return {"unit": self.unit, "ok": self.ok, "note": self.note, "cases": self.cases}


@dataclass
class CheckReport:
    spec: str
    units: list[UnitCheck]

    @property
    def ok(self) -> bool:
        return all(u.ok for u in self.units)

    @property
    def violations(self) -> list[tuple[str, dict]]:
        return [(u.unit, c) for u in self.units for c in u.cases if not c["ok"]]

    def to_dict(self) -> dict:
        n_cases = sum(len(u.cases) for u in self.units)
        return {"spec": self.spec, "ok": self.ok, "n_units": len(self.units), "n_cases": n_cases,
                "n_violations": len(self.violations), "units": [u.to_dict() for u in self.units]}


class _Stimuli:
    """Ink images drawn from the spec's strokes, one per set of edge names."""

    def __init__(self, spec):
        self.spec = spec
        self.edges = {e.name: e for e in spec.edges}
        self.parts = {p.name: p for p in spec.parts}
        self._ink = {name: strokelib.ink(e.strokes, e.ink_width, spec.canvas) for name, e in self.edges.items()}

    def edges_image(self, names) -> np.ndarray:
        image = np.zeros(self.spec.canvas)
        for name in names:
            image = np.maximum(image, self._ink[name])
        return image

    def required_edges(self, part: str, everything: bool = False) -> list[str]:
        """The edges a part needs to fire: its first k positive inputs (or all of them, except
        for any_of, whose inputs are alternatives)."""
        rule = self.parts[part]
        if rule.kind == "weights":
            return [n for n, w in rule.weights if w > 0]
        if everything and rule.source != "any_of":  # any_of lists alternatives: one of them is the prototype
            return list(rule.reads)
        return list(rule.reads[: rule.k])


def _positive_inputs(rule):
    if rule.kind == "weights":
        return [n for n, w in rule.weights if w > 0], [n for n, w in rule.weights if w < 0], None
    return list(rule.reads), list(rule.none_of), rule.k


def check_network(spec, net) -> CheckReport:
    """Run every unit's declared stimuli through ``net`` (compiled from ``spec``)."""
    stim = _Stimuli(spec)
    cases: list[tuple[UnitCheck, str, str, np.ndarray, int, int]] = []  # (check, stimulus, expect, image, layer, unit)
    checks: list[UnitCheck] = []
    names = spec.layer_names
    blank = np.zeros(spec.canvas)

    # edges: own strokes, blank, unrelated strokes
    positive = {}
    for e in spec.edges:
        t = edge_template(e.strokes, e.width, e.surround, e.inhibition, shape=spec.canvas)
        positive[e.name] = np.clip(t, 0, None)
    for i, e in enumerate(spec.edges):
        uc = UnitCheck(f"{names[0]}:{e.name}")
        checks.append(uc)
        cases.append((uc, "its own strokes", "high", stim.edges_image([e.name]), 0, i))
        cases.append((uc, "a blank canvas", "low", blank, 0, i))
        own = float(np.sum(positive[e.name] * stim.edges_image([e.name])))
        for other in spec.edges:
            if other.name == e.name:
                continue
            cover = float(np.sum(positive[e.name] * stim.edges_image([other.name]))) / max(own, 1e-12)
            if cover < UNRELATED_COVERAGE:
                cases.append((uc, f"unrelated edge {other.name}", "low", stim.edges_image([other.name]), 0, i))

    # parts and hand-written digits
    def rule_cases(layer_index, rules, edges_of):
        for i, rule in enumerate(rules):
            uc = UnitCheck(f"{names[layer_index]}:{rule.name}")
            checks.append(uc)
            pos, neg, k = _positive_inputs(rule)
            if rule.quantile is not None:
                uc.note = "bias calibrated on data"
            if rule.kind != "weights" or (rule.bias or 0.0) <= 0:
                cases.append((uc, "a blank canvas", "low", blank, layer_index, i))
            if not pos:
                continue
            need = pos if k is None else pos[:k]
            cases.append((uc, f"inked: {', '.join(need)}", "high", stim.edges_image(edges_of(need)), layer_index, i))
            if k is not None and k < len(pos):
                cases.append((uc, f"inked: all of {', '.join(pos)}", "high", stim.edges_image(edges_of(pos)),
                              layer_index, i))
            if k is not None and k >= 2:
                fewer = pos[: k - 1]
                cases.append((uc, f"only {k - 1} of {k} required: {', '.join(fewer)}", "low",
                              stim.edges_image(edges_of(fewer)), layer_index, i))
            expect = "lower" if k is None else "low"
            for n in neg:
                if set(edges_of([n])) <= set(edges_of(need)):
                    continue  # its strokes are already part of the unit's own stimulus
                cases.append((uc, f"inhibited by {n}", expect, stim.edges_image(edges_of(need + [n])), layer_index, i))

    rule_cases(1, spec.parts, lambda parts_or_edges: parts_or_edges)
    if spec.fit is None:
        def part_edges(parts):
            return list(dict.fromkeys(e for p in parts for e in stim.required_edges(p, everything=True)))

        rule_cases(2, spec.digits, part_edges)
    else:
        for name in spec.digit_names:
            checks.append(UnitCheck(f"{names[2]}:{name}", note=f"fitted ({spec.fit}); nothing declared to check"))

    if cases:
        images = np.stack([c[3].ravel() for c in cases])
        acts, zs = net.forward(images, preactivations=True)
        values = []
        for row, (uc, stimulus, expect, _, layer_index, unit) in enumerate(cases):
            # a softmax unit is judged by its own logic: sigmoid of its pre-activation
            softmax = net.layers[layer_index].activation == "softmax"
            values.append(sigmoid(zs[layer_index][row : row + 1, unit])[0] if softmax else acts[layer_index + 1][row, unit])
        own = {}
        for (uc, stimulus, expect, *_), value in zip(cases, values):
            if expect == "high":
                own.setdefault(uc.unit, value)  # the first high case is the unit's own stimulus
        for (uc, stimulus, expect, *_), value in zip(cases, values):
            uc.add(stimulus, expect, value, own.get(uc.unit))
    return CheckReport(spec.path, checks)


def check_spec(spec, data=None) -> CheckReport:
    """Compile ``spec`` (a Spec or a path) and check every unit against its declared stimuli."""
    from .compile import compile_spec
    from .spec import load_spec

    if not hasattr(spec, "edges"):
        spec = load_spec(spec)
    return check_network(spec, compile_spec(spec, data))
