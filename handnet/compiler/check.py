"""The spec as executable documentation: does every unit respond as the spec declares?

For each unit, stimuli are drawn from the spec itself and run through the compiled network:

- an edge must fire (> 0.5) on its own strokes inked at ``ink_width`` and stay low (< 0.5) on
  a blank canvas and on the strokes of every other edge that covers little of its own stroke;
- a part ``at_least k`` of n listed edges must fire on the strokes of every k of them (and of all
  n), stay low on every k-1 of them (every subset, not only the first: a part that fires on any
  single side of a loop is caught), and stay low when an inhibiting (``none_of``) edge is inked on
  top of k required ones;
- a ``weights`` rule must fire on the strokes of its positive inputs (with none: on a blank
  canvas, its prototype) and fall below 0.5 when a negatively weighted input is inked on top;
- a hand-written digit likewise, with parts drawn as the strokes of the edges they require.

An inhibitor must bring the unit below 0.5, unless the spec states a margin (``inhibit_margin =
m``, for soft evidence read by the brightest-wins output): then it must lower the unit's
pre-activation by at least m. Every failed case carries a
one-line reason: which inputs carried the activation, and whether their strokes were drawn. A
unit with no case (a fitted readout declares nothing) is listed as unchecked.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from handnet.spec import strokes as strokelib
from handnet.nn.activations import sigmoid
from handnet.compiler.templates import edge_template

UNRELATED_COVERAGE = 0.2  # another edge whose ink covers less than this of a stroke is unrelated to it
MAX_SUBSETS = 256  # subsets of one size drawn per unit; beyond this the first ones, in order, and a note


@dataclass
class UnitCheck:
    """One unit's verdict. Each case is a dict: ``stimulus`` (in words), ``expect`` ('high' > 0.5,
    'low' < 0.5, or 'drop': the pre-activation falls by ``margin``), ``activation``, ``ok``, and for a
    failure ``why``, one line naming the inputs that carried the activation."""

    unit: str
    cases: list = field(default_factory=list)
    note: str = ""
    exceptions: tuple = ()  # the spec's KnownExceptions for this unit
    stale: list = field(default_factory=list)  # exceptions whose case passes (or was not drawn): no longer needed

    @property
    def ok(self) -> bool:
        """Every case passes, or fails as a known exception the spec gives a reason for."""
        return all(c["ok"] or c.get("known") for c in self.cases)

    @property
    def checked(self) -> bool:
        """False when no case could be drawn for the unit (e.g. a fitted readout): nothing was verified."""
        return bool(self.cases)

    def add(self, stimulus: str, expect: str, activation: float, ok: bool, **extra) -> None:
        self.cases.append({"stimulus": stimulus, "expect": expect, "activation": float(activation), "ok": bool(ok),
                           **extra})

    def to_dict(self) -> dict:
        return {"unit": self.unit, "ok": self.ok, "checked": self.checked, "note": self.note, "cases": self.cases,
                "stale_exceptions": [e.describe() for e in self.stale]}


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 violation``, ``2 violations``."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


@dataclass
class CheckReport:
    spec: str
    units: list[UnitCheck]

    @property
    def ok(self) -> bool:
        return all(u.ok for u in self.units)

    @property
    def violations(self) -> list[tuple[str, dict]]:
        """Failed cases, except the known exceptions the spec gives a reason for."""
        return [(u.unit, c) for u in self.units for c in u.cases if not c["ok"] and not c.get("known")]

    @property
    def known(self) -> list[tuple[str, dict]]:
        """Failed cases the spec marks as known exceptions (each with ``known``: the reason)."""
        return [(u.unit, c) for u in self.units for c in u.cases if not c["ok"] and c.get("known")]

    @property
    def stale(self) -> list[tuple[str, object]]:
        """Known exceptions the spec declares whose case now passes: ``(unit, KnownException)``."""
        return [(u.unit, e) for u in self.units for e in u.stale]

    @property
    def unchecked(self) -> list[UnitCheck]:
        """Units with no case: the spec declares nothing the check could draw for them."""
        return [u for u in self.units if not u.checked]

    def summary(self) -> str:
        """One sentence: the count of units, cases and violations, and what the check means."""
        n_cases = sum(len(u.cases) for u in self.units)
        bad = len(self.violations)
        failing = sum(1 for u in self.units if not u.ok)
        head = (f"{self.spec}: {plural(len(self.units), 'unit')}, {plural(n_cases, 'case')}, "
                f"{plural(bad, 'violation')}" + (f" in {plural(failing, 'unit')}" if bad else ""))
        if self.known:
            head += f", {plural(len(self.known), 'known exception')}"
        if self.unchecked:
            head += f", {len(self.unchecked)} unchecked"
        if bad:
            meaning = ("A violation is a unit that did not fire (> 0.5) on the strokes its spec names, or did not "
                       "stay below 0.5 (or drop by its inhibit_margin) on what it must ignore")
        else:
            meaning = ("Every" + (" checked" if self.unchecked else "") + " unit fired (> 0.5) on the strokes its "
                       "spec names and stayed below 0.5 (or dropped by its inhibit_margin) on what it must ignore"
                       + (", apart from the known exceptions the spec gives reasons for" if self.known else ""))
        return f"{head}. {meaning}; each stimulus is drawn from the spec's own strokes."

    def to_dict(self) -> dict:
        n_cases = sum(len(u.cases) for u in self.units)
        return {"spec": self.spec, "ok": self.ok, "n_units": len(self.units), "n_cases": n_cases,
                "n_violations": len(self.violations), "n_known": len(self.known),
                "unchecked": [u.unit for u in self.unchecked],
                "stale_exceptions": [{"unit": u, "case": e.describe()} for u, e in self.stale],
                "summary": self.summary(), "units": [u.to_dict() for u in self.units]}


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
    expect: str  # "high" (> 0.5), "low" (< 0.5) or "drop" (pre-activation lowered by ``margin``)
    image: np.ndarray
    layer: int
    unit: int
    drawn: tuple = ()  # the units of the layer below whose strokes are inked (names)
    base: np.ndarray | None = None  # "drop": the same stimulus without the inhibitor
    margin: float | None = None  # "drop": how far the pre-activation must fall
    inhibitor: str | None = None


def _edge_cases(spec, stim, layer_name: str, checks: list) -> list[_Case]:
    """Each edge: its own strokes (high), a blank canvas and every unrelated edge's strokes (low)."""
    positive = {e.name: np.clip(edge_template(e.strokes, e.width, e.surround, e.inhibition, shape=spec.canvas), 0, None)
                for e in spec.edges}
    cases = []
    for i, e in enumerate(spec.edges):
        uc = UnitCheck(f"{layer_name}:{e.name}", exceptions=e.exceptions)
        checks.append(uc)
        cases += [_Case(uc, "its own strokes", "high", stim.edges_image([e.name]), 0, i, (e.name,)),
                  _Case(uc, "a blank canvas", "low", np.zeros(spec.canvas), 0, i)]
        own = float(np.sum(positive[e.name] * stim.edges_image([e.name])))
        for other in spec.edges:
            cover = float(np.sum(positive[e.name] * stim.edges_image([other.name]))) / max(own, 1e-12)
            if other.name != e.name and cover < UNRELATED_COVERAGE:
                cases.append(_Case(uc, f"unrelated edge {other.name}", "low", stim.edges_image([other.name]), 0, i,
                                   (other.name,)))
    return cases


def _subsets(names, size: int) -> tuple[list[tuple[str, ...]], int]:
    """The first ``MAX_SUBSETS`` subsets of ``names`` of ``size``, in order, and how many there are."""
    total = math.comb(len(names), size)
    return list(itertools.islice(itertools.combinations(names, size), MAX_SUBSETS)), total


def _rule_cases(spec, stim, layer: int, rules, edges_of, checks: list) -> list[_Case]:
    """Each rule: its required inputs drawn (high: every k of them, and all), one fewer (low: every
    k-1 of them), an inhibitor on top (low, or lowered by the stated margin), a blank canvas (low,
    unless the bias is positive). ``edges_of(names)`` gives the edges whose strokes draw the named inputs."""
    cases = []
    for i, rule in enumerate(rules):
        uc = UnitCheck(f"{spec.layer_names[layer]}:{rule.name}", note="bias calibrated on data" if rule.quantile else "",
                       exceptions=rule.exceptions)
        checks.append(uc)
        if rule.kind == "weights":
            pos, neg, k = [n for n, w in rule.weights if w > 0], [n for n, w in rule.weights if w < 0], None
        else:
            pos, neg, k = list(rule.reads), list(rule.none_of), rule.k

        def image(names):
            return stim.edges_image(edges_of(names))

        def case(stimulus, expect, names, base=None, inhibitor=None):
            cases.append(_Case(uc, stimulus, expect, image(names), layer, i, tuple(names),
                               None if base is None else image(base), rule.inhibit_margin, inhibitor))

        if not pos:  # nothing to draw: the rule's prototype is the blank canvas (e.g. "what remains")
            if (rule.bias or 0.0) > 0:
                case("a blank canvas (it reads no positive input: this is its prototype)", "high", [])
                need = []
            else:
                continue
        else:
            if rule.kind != "weights" or (rule.bias or 0.0) <= 0:
                case("a blank canvas", "low", [])
            need = pos if k is None else pos[:k]
            if k is None or k == len(pos):
                case(f"inked: {', '.join(need)}", "high", need)
            else:
                chosen, total = _subsets(pos, k)
                for subset in chosen:
                    case(f"inked: {', '.join(subset)} ({k} of {len(pos)})", "high", list(subset))
                case(f"inked: all of {', '.join(pos)}", "high", pos)
                if total > len(chosen):
                    uc.note = (uc.note + "; " if uc.note else "") + f"drew the first {len(chosen)} of {total} sets of {k}"
            if k is not None and k >= 2:
                chosen, total = _subsets(pos, k - 1)
                for subset in chosen:
                    case(f"only {k - 1} of {k} required: {', '.join(subset)}", "low", list(subset))
                if total > len(chosen):
                    uc.note = (uc.note + "; " if uc.note else "") + f"drew the first {len(chosen)} of {total} sets of {k - 1}"
        for n in neg:
            if need and set(edges_of([n])) <= set(edges_of(need)):  # its strokes are already drawn
                continue
            if rule.inhibit_margin is not None:
                case(f"inhibited by {n}", "drop", need + [n], base=need, inhibitor=n)
            else:
                case(f"inhibited by {n}", "low", need + [n], inhibitor=n)
    return cases


def _why(case: _Case, net, acts: list, zs: list, row: int, base_row: int | None, value: float) -> str:
    """One line: which inputs carried the unit's activation on this stimulus, and were they drawn."""
    layer = net.layers[case.layer]
    w, bias = layer.weights[case.unit].astype(float), float(layer.biases[case.unit])
    below = acts[case.layer][row].astype(float)
    name = f"{layer.name}:{layer.units[case.unit]}"
    if case.layer == 0:
        total = w * below
        centre, band = float(total[w > 0].sum()), float(total[w < 0].sum())
        return (f"{name} is at {value:.2f}: the ink gives {centre:+.2f} on its positive centre and {band:+.2f} on "
                f"its negative band, against a bias of {bias:+.2f}")
    inputs = net.layers[case.layer - 1]
    drawn = set(case.drawn)

    def told(j):
        if inputs.units[j] in drawn:
            return "drawn"
        return "not drawn: it fires on this ink" if below[j] >= 0.5 else "not drawn"

    def term(j, c):
        return f"{inputs.name}:{inputs.units[j]} {c:+.2f} (at {below[j]:.2f}, {told(j)})"

    contributions = w * below
    if case.expect == "low":
        order = [j for j in np.argsort(-contributions, kind="stable") if contributions[j] > 0.05][:3]
        carried = ", ".join(term(j, contributions[j]) for j in order) or "no input"
        text = f"{name} fires at {value:.2f}, carried by {carried}; bias {bias:+.2f}"
        if case.inhibitor in inputs.units:
            j = inputs.units.index(case.inhibitor)
            text += (f"; the inhibitor {inputs.name}:{case.inhibitor} gives only {contributions[j]:+.2f} "
                     f"(at {below[j]:.2f})")
        return text
    if case.expect == "high":
        against = [j for j in np.argsort(contributions, kind="stable") if contributions[j] < -0.05][:2]
        dark = [inputs.units[j] for j in range(len(w)) if w[j] > 0 and inputs.units[j] in drawn and below[j] < 0.5]
        reasons = []
        if against:
            vetoes = []
            for j in against:
                why = "whose strokes this stimulus inks" if inputs.units[j] in drawn else told(j)
                vetoes.append(f"{inputs.name}:{inputs.units[j]} {contributions[j]:+.2f} (at {below[j]:.2f}, {why})")
            reasons.append("vetoed by " + ", ".join(vetoes))
        if dark:
            reasons.append("drawn but dark: " + ", ".join(f"{inputs.name}:{u} at {below[inputs.units.index(u)]:.2f}"
                                                         for u in dark))
        reasons.append(f"positive inputs give {float(contributions[contributions > 0].sum()):+.2f}, bias {bias:+.2f}")
        return f"{name} stays at {value:.2f}: " + "; ".join(reasons)
    # "drop": what moved between the stimulus without and with the inhibitor
    before = w * acts[case.layer][base_row].astype(float)
    delta = contributions - before
    fell = [j for j in np.argsort(delta, kind="stable") if delta[j] < -0.05][:2]
    rose = [j for j in np.argsort(-delta, kind="stable") if delta[j] > 0.05][:2]
    z0, z1 = float(zs[case.layer][base_row, case.unit]), float(zs[case.layer][row, case.unit])
    text = f"{name}'s pre-activation fell by only {z0 - z1:.2f} ({z0:+.2f} -> {z1:+.2f})"
    if case.inhibitor in inputs.units:
        j = inputs.units.index(case.inhibitor)
        a0, a1 = float(acts[case.layer][base_row, j]), float(below[j])
        text += f"; {inputs.name}:{case.inhibitor} went from {a0:.2f} to {a1:.2f}"
        if a0 >= 0.5:
            text += " (it already fires on the stimulus without it)"
    if fell:
        text += "; down: " + ", ".join(f"{inputs.name}:{inputs.units[j]} {delta[j]:+.2f}" for j in fell)
    if rose:
        text += "; up, as the added ink also lights them: " + ", ".join(
            f"{inputs.name}:{inputs.units[j]} {delta[j]:+.2f}" for j in rose)
    return text


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

    images = [c.image.ravel() for c in cases]
    base_rows = {}
    for k, c in enumerate(cases):
        if c.base is not None:
            base_rows[k] = len(images)
            images.append(c.base.ravel())
    acts, zs = net.forward(np.stack(images), preactivations=True)
    used = set()  # (unit, KnownException) that covered a failed case
    for row, c in enumerate(cases):
        # a softmax unit is judged by its own logic: the sigmoid of its pre-activation
        softmax = net.layers[c.layer].activation == "softmax"
        value = float(sigmoid(zs[c.layer][row : row + 1, c.unit])[0] if softmax else acts[c.layer + 1][row, c.unit])
        extra = {}
        if c.inhibitor is not None:
            extra["inhibitor"] = c.inhibitor
        if c.expect == "drop":
            base = base_rows[row]
            drop = float(zs[c.layer][base, c.unit] - zs[c.layer][row, c.unit])
            inputs = net.layers[c.layer - 1].units
            weight = abs(float(net.layers[c.layer].weights[c.unit, inputs.index(c.inhibitor)]))
            ok = drop >= c.margin
            extra.update(margin=c.margin, weight=-weight, drop=drop)
        else:
            ok = value > 0.5 if c.expect == "high" else value < 0.5
        if not ok:
            extra["why"] = _why(c, net, acts, zs, row, base_rows.get(row), value)
            known = _known(c)
            if known is not None:
                extra["known"] = known.reason
                used.add((c.check.unit, known))
        c.check.add(c.stimulus, c.expect, value, ok, **extra)
    for uc in checks:
        uc.stale = [e for e in uc.exceptions if (uc.unit, e) not in used]
    return CheckReport(spec.path, checks)


def _known(case: _Case):
    """The spec's known exception that covers this failed case, if any."""
    for e in case.check.exceptions:
        if e.inhibitor is not None and e.inhibitor == case.inhibitor:
            return e
        if e.inked is not None and case.inhibitor is None and set(e.inked) == set(case.drawn):
            return e
    return None


def check_spec(spec, data=None) -> CheckReport:
    """Compile ``spec`` (a Spec or a path) and check every unit against its declared stimuli."""
    from handnet.compiler.compile import compile_spec
    from handnet.spec import load_spec

    if not hasattr(spec, "edges"):
        spec = load_spec(spec)
    return check_network(spec, compile_spec(spec, data))
