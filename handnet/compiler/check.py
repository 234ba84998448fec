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

from handnet.spec import strokes as strokelib
from handnet.nn.activations import sigmoid
from handnet.compiler.templates import edge_template

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


@dataclass
class _Case:
    check: UnitCheck
    stimulus: str  # what was drawn, in words
    expect: str  # "high" (> 0.5), "low" (< 0.5) or "lower" (below the unit's own stimulus)
    image: np.ndarray
    layer: int
    unit: int


def _edge_cases(spec, stim, layer_name: str, checks: list) -> list[_Case]:
    """Each edge: its own strokes (high), a blank canvas and every unrelated edge's strokes (low)."""
    positive = {e.name: np.clip(edge_template(e.strokes, e.width, e.surround, e.inhibition, shape=spec.canvas), 0, None)
                for e in spec.edges}
    cases = []
    for i, e in enumerate(spec.edges):
        uc = UnitCheck(f"{layer_name}:{e.name}")
        checks.append(uc)
        cases += [_Case(uc, "its own strokes", "high", stim.edges_image([e.name]), 0, i),
                  _Case(uc, "a blank canvas", "low", np.zeros(spec.canvas), 0, i)]
        own = float(np.sum(positive[e.name] * stim.edges_image([e.name])))
        for other in spec.edges:
            cover = float(np.sum(positive[e.name] * stim.edges_image([other.name]))) / max(own, 1e-12)
            if other.name != e.name and cover < UNRELATED_COVERAGE:
                cases.append(_Case(uc, f"unrelated edge {other.name}", "low", stim.edges_image([other.name]), 0, i))
    return cases


def _rule_cases(spec, stim, layer: int, rules, edges_of, checks: list) -> list[_Case]:
    """Each rule: its required inputs drawn (high), one fewer (low), an inhibitor on top (low; for
    ``weights`` rules, lower than without it), a blank canvas (low, unless the bias is positive).
    ``edges_of(names)`` gives the edges whose strokes draw the named inputs."""
    cases = []
    for i, rule in enumerate(rules):
        uc = UnitCheck(f"{spec.layer_names[layer]}:{rule.name}", note="bias calibrated on data" if rule.quantile else "")
        checks.append(uc)
        if rule.kind == "weights":
            pos, neg, k = [n for n, w in rule.weights if w > 0], [n for n, w in rule.weights if w < 0], None
        else:
            pos, neg, k = list(rule.reads), list(rule.none_of), rule.k

        def case(stimulus, expect, names):
            cases.append(_Case(uc, stimulus, expect, stim.edges_image(edges_of(names)), layer, i))

        if rule.kind != "weights" or (rule.bias or 0.0) <= 0:
            case("a blank canvas", "low", [])
        if not pos:
            continue
        need = pos if k is None else pos[:k]
        case(f"inked: {', '.join(need)}", "high", need)
        if k is not None and k < len(pos):
            case(f"inked: all of {', '.join(pos)}", "high", pos)
        if k is not None and k >= 2:
            case(f"only {k - 1} of {k} required: {', '.join(pos[: k - 1])}", "low", pos[: k - 1])
        for n in neg:
            if not set(edges_of([n])) <= set(edges_of(need)):  # else its strokes are already drawn
                case(f"inhibited by {n}", "lower" if k is None else "low", need + [n])
    return cases


def check_network(spec, net) -> CheckReport:
    """Run every unit's declared stimuli through ``net`` (compiled from ``spec``)."""
    stim = _Stimuli(spec)

    def part_edges(parts):
        return list(dict.fromkeys(e for p in parts for e in stim.required_edges(p, everything=True)))

    checks: list[UnitCheck] = []
    cases = _edge_cases(spec, stim, spec.layer_names[0], checks) + _rule_cases(spec, stim, 1, spec.parts, list, checks)
    if spec.fit is None:
        cases += _rule_cases(spec, stim, 2, spec.digits, part_edges, checks)
    else:
        checks += [UnitCheck(f"{spec.layer_names[2]}:{name}", note=f"fitted ({spec.fit}); nothing declared to check")
                   for name in spec.digit_names]

    acts, zs = net.forward(np.stack([c.image.ravel() for c in cases]), preactivations=True)
    values = []
    for row, c in enumerate(cases):
        # a softmax unit is judged by its own logic: the sigmoid of its pre-activation
        softmax = net.layers[c.layer].activation == "softmax"
        values.append(float(sigmoid(zs[c.layer][row : row + 1, c.unit])[0] if softmax else acts[c.layer + 1][row, c.unit]))
    own = {}
    for c, value in zip(cases, values):
        if c.expect == "high":
            own.setdefault(c.check.unit, value)  # the first high case is the unit's own stimulus
    for c, value in zip(cases, values):
        c.check.add(c.stimulus, c.expect, value, own.get(c.check.unit))
    return CheckReport(spec.path, checks)


def check_spec(spec, data=None) -> CheckReport:
    """Compile ``spec`` (a Spec or a path) and check every unit against its declared stimuli."""
    from handnet.compiler.compile import compile_spec
    from handnet.spec import load_spec

    if not hasattr(spec, "edges"):
        spec = load_spec(spec)
    return check_network(spec, compile_spec(spec, data))
