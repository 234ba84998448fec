"""Validation of the top level and the ``[network]`` table: name, canvas, layer names, activations, sizes."""

from __future__ import annotations

import re

from handnet.errors import SpecError
from handnet.spec.problems import _show
from handnet.spec.model import ACTIVATIONS, LAYERS, MAX_CANVAS, MAX_UNITS, NAME, NETWORK_KEYS, TOP_KEYS, Spec


class NetworkTable:
    """Checks the spec as a whole and its ``[network]`` table (a mixin of ``Validator``)."""

    def spec(self) -> Spec:
        d = self.data
        self.unknown_keys((), d, TOP_KEYS)
        net = d.get("network", {})
        if not isinstance(net, dict):
            self.fail(("network",), "expected a table")
            net = {}
        self.unknown_keys(("network",), net, NETWORK_KEYS)
        name = net.get("name", self.path.stem)
        if not isinstance(name, str) or not name:
            self.fail(("network", "name"), f"expected a non-empty string, got {_show(name)}")
        description = net.get("description", "")
        if not isinstance(description, str):
            self.fail(("network", "description"), f"expected a string, got {_show(description)}")
            description = ""
        canvas = self.canvas(net.get("canvas", [28, 28]))
        layer_names = self.layer_names(net.get("layers", list(LAYERS)))
        activations = self.activations(net.get("activations", ["sigmoid", "sigmoid", "sigmoid"]))
        tables = {}
        for layer in LAYERS:
            t = d.get(layer, {})
            if not isinstance(t, dict):
                self.fail((layer,), "expected a table of units")
                t = {}
            n_units = sum(isinstance(v, dict) for v in t.values())
            if n_units > MAX_UNITS:
                self.fail((layer,), f"{n_units} units; a spec layer may have at most {MAX_UNITS} (see docs/limits.md)")
                t = {}
            tables[layer] = t
        edges = self.edges(tables["edges"], canvas)
        parts = self.rules("parts", tables["parts"], [e.name for e in edges], "edges")
        digits, digit_names, fit, l2 = self.readout(tables["digits"], [p.name for p in parts])
        sizes = self.sizes(net.get("sizes"), canvas, (len(edges), len(parts), len(digit_names)))
        if self.problems:
            raise SpecError("\n".join(self.problems), self.problems)  # one line per problem
        return Spec(
            path=str(self.path),
            sha256=self.sources[0][1],
            name=name,
            description=description,
            canvas=canvas,
            sizes=sizes,
            activations=activations,
            layer_names=layer_names,
            edges=tuple(edges),
            parts=tuple(parts),
            digits=tuple(digits),
            digit_names=tuple(digit_names),
            fit=fit,
            l2=l2,
            sources=tuple(self.sources),
        )

    def canvas(self, value) -> tuple[int, int]:
        if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                   and 4 <= v <= MAX_CANVAS for v in value)):
            return (value[0], value[1])
        self.fail(("network", "canvas"), f"expected [rows, cols], two whole numbers in 4-{MAX_CANVAS}, got {_show(value)}")
        return (28, 28)

    def layer_names(self, value) -> tuple[str, ...]:
        ok = isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) and NAME.match(v)
                                                                  and not v.isdigit() for v in value)
        if not ok:
            self.fail(("network", "layers"), f"expected three layer names (letters, digits, _), got {_show(value)}")
            return LAYERS
        if len(set(value)) != 3:
            self.fail(("network", "layers"), f"duplicate layer name in {value!r}")
        bad = [v for v in value if re.fullmatch(r"hidden\d+|output", v) and v != ["hidden1", "hidden2", "output"][value.index(v)]]
        if bad:
            self.fail(("network", "layers"), f"{bad[0]!r} is the position alias of another layer")
        return tuple(value)

    def activations(self, value) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value] * 3
        if not (isinstance(value, list) and len(value) == 3 and all(v in ACTIVATIONS for v in value)):
            self.fail(("network", "activations"), f"expected three of {', '.join(ACTIVATIONS)}, got {_show(value)}")
            return ("sigmoid", "sigmoid", "sigmoid")
        return tuple(value)

    def sizes(self, value, canvas, counts) -> tuple[int, ...]:
        actual = (canvas[0] * canvas[1],) + tuple(counts)
        if value is None:
            return actual
        if not (isinstance(value, list) and len(value) == 4 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            self.fail(("network", "sizes"), f"expected four whole numbers like [784, 16, 16, 10], got {_show(value)}")
            return actual
        labels = ("input", "edges", "parts", "digits")
        for i, (want, have) in enumerate(zip(value, actual)):
            if want != have:
                what = f"a {canvas[0]}x{canvas[1]} canvas" if i == 0 else f"{have} {labels[i]} units in the spec"
                self.fail(("network", "sizes"), f"{labels[i]} size is {want} but there are {what}")
        return tuple(value)
