"""Validation of the ``[parts]`` and ``[digits]`` tables: soft-logic rules and the fitted readout."""

from __future__ import annotations

from handnet.spec.model import FITS, LAYER_KEYS, RULE_DEFAULTS, RULE_KEYS, Rule
from handnet.nn.labels import unit_label
from handnet.spec.problems import _closest, _show


class RuleTable:
    """Checks rules over the layer below (parts over edges, digits over parts) and the readout (a mixin of ``Validator``)."""

    def rules(self, layer: str, table: dict, below: list[str], below_layer: str, skip=()) -> list[Rule]:
        units = {k: v for k, v in table.items() if isinstance(v, dict) and k != "threshold"}
        plain = {k: v for k, v in table.items() if k not in units}
        self.unknown_keys((layer,), plain, LAYER_KEYS[layer])
        defaults = self.defaults(layer, {k: v for k, v in plain.items() if k in RULE_DEFAULTS}, RULE_DEFAULTS)
        layer_quantile = self.quantile((layer, "threshold"), plain.get("threshold"))
        defaults["inhibit_margin"] = self.margin((layer, "inhibit_margin"), plain.get("inhibit_margin"))
        if not units and layer == "parts":
            self.fail((layer,), "no part units; add a table like [parts.upper_loop] with all_of = [...]")
        return [self.rule((layer, name), unit, defaults, layer_quantile, below, below_layer)
                for name, unit in units.items()]

    def margin(self, where, value) -> float | None:
        """``inhibit_margin``: in ``check``, an inhibitor inked on top must lower the unit's
        pre-activation by at least this much (instead of bringing it below 0.5)."""
        if value is None:
            return None
        v = self.number(where, value, positive=True, high=1000)
        return None if v is None else float(v)

    def names(self, where, value, below, below_layer) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(where, f"expected a list of {below_layer} unit names, got {_show(value)}")
            return ()
        for v in value:
            if v not in below:
                self.fail(where, f"unknown {below_layer} unit {v!r}{_closest(v, below)}")
        dupes = sorted({v for v in value if value.count(v) > 1})
        if dupes:
            self.fail(where, f"{', '.join(dupes)} listed twice")
        return tuple(v for v in dict.fromkeys(value) if v in below)

    def rule(self, where, unit, defaults, layer_quantile, below, below_layer) -> Rule:
        self.unit_name(where, where[-1])
        self.unknown_keys(where, unit, RULE_KEYS)
        params = self.overrides(where, unit, {k: v for k, v in defaults.items() if k in RULE_DEFAULTS})
        clauses = [c for c in ("all_of", "any_of", "at_least", "weights") if c in unit]
        name = where[-1]
        doc = unit.get("doc", "")
        if not isinstance(doc, str):
            self.fail(where + ("doc",), f"expected a string, got {_show(doc)}")
            doc = ""
        bias = unit.get("bias")
        if bias is not None:
            bias = self.number(where + ("bias",), bias, low=-1e6, high=1e6)
            bias = None if bias is None else float(bias)
        quantile = self.quantile(where + ("threshold",), unit.get("threshold")) if "threshold" in unit else layer_quantile
        if bias is not None and "threshold" in unit:
            self.fail(where + ("bias",), "give either bias or threshold = { quantile = q }, not both")
        none_of = self.names(where + ("none_of",), unit["none_of"], below, below_layer) if "none_of" in unit else ()
        margin = self.margin(where + ("inhibit_margin",), unit["inhibit_margin"]) if "inhibit_margin" in unit \
            else defaults.get("inhibit_margin")
        exceptions = self.exceptions(where + ("exceptions",), unit.get("exceptions"), below, below_layer)
        digits = None
        if "digits" in unit:
            if where[0] == "digits":
                self.fail(where + ("digits",), "an output unit is meant for the digit it answers (its name or label); "
                                               "digits = [...] goes on edges and parts")
            else:
                digits = self.digit_list(where + ("digits",), unit["digits"])
        common = dict(none_of=none_of, digits=digits, sharpness=params["sharpness"], veto=params["veto"], bias=bias,
                      quantile=quantile, doc=doc, label=self.label(where, unit), inhibit_margin=margin,
                      exceptions=exceptions)
        if len(clauses) != 1:
            got = f"got {', '.join(clauses)}" if clauses else "got none"
            self.fail(where, f"expected exactly one of all_of, any_of, at_least (with of) or weights; {got}")
            return Rule(name, "at_least", **common)
        clause = clauses[0]
        if "of" in unit and clause != "at_least":
            self.fail(where + ("of",), "'of' goes with at_least = k")
        if clause == "weights":
            w = unit["weights"]
            if not isinstance(w, dict) or not w:
                self.fail(where + ("weights",), f"expected a table {{ unit = weight, ... }}, got {_show(w)}")
                return Rule(name, "weights", **common)
            pairs = []
            for k, v in w.items():
                if k not in below:
                    self.fail(where + ("weights", k), f"unknown {below_layer} unit {k!r}{_closest(k, below)}")
                elif self.number(where + ("weights", k), v, low=-1e6, high=1e6) is not None:
                    pairs.append((k, float(v)))
            if none_of:
                self.fail(where + ("none_of",), "none_of goes with all_of/any_of/at_least; with weights give negative weights")
            top = sum(max(v, 0.0) for _, v in pairs)
            if pairs and top + (bias or 0.0) <= 0 and quantile is None:
                self.fail(where + ("weights" if bias is None else "bias",),
                          f"the rule can never fire: positive weights sum to {top:g}, bias is {bias or 0.0:g}")
            return Rule(name, "weights", weights=tuple(pairs), source="weights", **common)
        if clause == "at_least":
            k = self.number(where + ("at_least",), unit["at_least"], integer=True)
            if "of" not in unit:
                self.fail(where + ("of",), "missing; at_least = k needs of = [names]")
                return Rule(name, "at_least", **common)
            reads = self.names(where + ("of",), unit["of"], below, below_layer)
            if k is not None and k < 1:
                self.fail(where + ("at_least",), f"expected k >= 1, got {k}")
            elif k is not None and isinstance(unit["of"], list) and k > len(unit["of"]):
                self.fail(where + ("at_least",), f"the rule can never fire: at least {k} of {len(unit['of'])} units")
            k = k if k is not None else 1
            source = f"at_least {k}"
        else:
            reads = self.names(where + (clause,), unit[clause], below, below_layer)
            if isinstance(unit[clause], list) and not unit[clause]:
                self.fail(where + (clause,), "the rule can never fire: the list is empty")
            k = len(reads) if clause == "all_of" else 1
            source = clause
        clash = sorted(set(reads) & set(none_of))
        if clash:
            self.fail(where + ("none_of",), f"the rule can never fire: {', '.join(clash)} is both required and inhibiting")
        if bias is not None and len(reads) * params["sharpness"] + bias <= 0 and quantile is None:
            self.fail(where + ("bias",), f"the rule can never fire with bias {bias:g}")
        return Rule(name, "at_least", reads=reads, k=max(1, min(k, max(len(reads), 1))), source=source, **common)

    def label(self, where, unit) -> int | None:
        """``label = N`` on an output unit: the digit it answers when its name is not one."""
        if "label" not in unit:
            return None
        if where[0] != "digits":
            self.fail(where + ("label",), "only output units (in [digits]) answer a label")
            return None
        value = self.number(where + ("label",), unit["label"], integer=True)
        if value is None:
            return None
        if not 0 <= value <= 9:
            self.fail(where + ("label",), f"expected a digit 0-9, got {value!r}")
            return None
        own = unit_label(where[-1])
        if own is not None and own != value:
            self.fail(where + ("label",), f"the unit is named {where[-1]}, so it answers {where[-1]}; label = {value} "
                                          "contradicts its name (rename the table, or drop label)")
            return None
        return value

    def unique_labels(self, digits) -> None:
        """No two output units may answer the same label (by name or by ``label = N``)."""
        seen: dict[int, str] = {}
        for d in digits:
            answer = d.answers
            if answer is None:
                continue
            if answer in seen:
                field = ("digits", d.name, "label") if d.label is not None else ("digits", d.name)
                self.fail(field, f"digits.{seen[answer]} already answers {answer}; each digit needs exactly one output unit")
            else:
                seen[answer] = d.name

    def readout(self, table: dict, parts: list[str]):
        plain = {k: v for k, v in table.items() if not isinstance(v, dict) or k == "threshold"}
        fit = plain.get("fit")
        l2 = 1e-3
        if "l2" in plain:
            l2 = self.number(("digits", "l2"), plain["l2"], low=0, high=1e6) or 0.0
        if fit is not None and fit not in FITS:
            self.fail(("digits", "fit"), f"expected one of {', '.join(FITS)}, got {_show(fit)}{_closest(fit, FITS)}")
            fit = None
        if fit is None:
            table = {k: v for k, v in table.items() if k not in ("replace",)}
            digits = self.rules("digits", table, parts, "parts")
            self.unique_labels(digits)
            if not digits:
                self.fail(("digits",), 'no digit units; add [digits.0] ... [digits.9] rules, or fit = "logistic"')
            return digits, [d.name for d in digits], None, l2
        units = [k for k, v in table.items() if isinstance(v, dict) and k != "threshold"]
        if units:
            self.fail(("digits", units[0]), "a fitted readout takes no hand-written units; remove them "
                                             "(or set replace = true in [digits] when extending a spec)")
        self.unknown_keys(("digits",), plain, LAYER_KEYS["digits"])
        return [], [str(d) for d in range(10)], fit, float(l2)
