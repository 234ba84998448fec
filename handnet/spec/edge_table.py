"""Validation of the ``[edges]`` table: template parameters, biases, thresholds and strokes."""

from __future__ import annotations

from handnet.spec import strokes as strokelib
from handnet.spec.model import (EDGE_DEFAULTS, EDGE_KEYS, LAYER_KEYS, MAX_ANGLE, MAX_EDGE_WEIGHTS, MAX_POLYLINE_POINTS,
                                 MAX_SPEC_TRACE, MAX_STROKES, MAX_SWEEP, Edge)
from handnet.spec.problems import _closest, _is_number, _show


class EdgeTable:
    """Checks the ``[edges]`` table and every stroke in it (a mixin of ``Validator``)."""

    def defaults(self, layer: str, table: dict, base: dict) -> dict:
        out = dict(base)
        for key in base:
            if key in table:
                v = self.parameter((layer, key), key, table[key])
                if v is not None:
                    out[key] = float(v)
        return out

    def edges(self, table: dict, canvas) -> list[Edge]:
        units = {k: v for k, v in table.items() if isinstance(v, dict) and k != "threshold"}
        plain = {k: v for k, v in table.items() if k not in units}
        self.unknown_keys(("edges",), plain, LAYER_KEYS["edges"])
        defaults = self.defaults("edges", plain, EDGE_DEFAULTS)
        layer_quantile = self.quantile(("edges", "threshold"), plain.get("threshold"))
        if not units:
            self.fail(("edges",), "no edge units; add a table like [edges.top_bar] with strokes = [...]")
        if len(units) * canvas[0] * canvas[1] > MAX_EDGE_WEIGHTS:
            self.fail(("edges",), f"{len(units)} edge units on a {canvas[0]}x{canvas[1]} canvas make "
                                  f"{len(units) * canvas[0] * canvas[1]:,} weights; at most {MAX_EDGE_WEIGHTS:,} "
                                  "(see docs/limits.md)")
            return []
        self.traced = 0
        out = []
        names = list(units)
        for name, unit in units.items():
            where = ("edges", name)
            self.unit_name(where, name)
            self.unknown_keys(where, unit, EDGE_KEYS)
            params = self.overrides(where, unit, defaults)
            strokes = self.strokes(where + ("strokes",), unit.get("strokes"), canvas)
            bias = unit.get("bias")
            if bias is not None:
                bias = self.number(where + ("bias",), bias, low=-1e6, high=1e6)
            quantile = self.quantile(where + ("threshold",), unit.get("threshold")) if "threshold" in unit else layer_quantile
            if bias is not None and "threshold" in unit:
                self.fail(where + ("bias",), "give either bias or threshold = { quantile = q }, not both")
            doc = unit.get("doc", "")
            if not isinstance(doc, str):
                self.fail(where + ("doc",), f"expected a string, got {_show(doc)}")
                doc = ""
            exceptions = self.exceptions(where + ("exceptions",), unit.get("exceptions"), names, "edges")
            out.append(Edge(name, tuple(strokes), params["width"], params["surround"], params["inhibition"],
                            params["ink_width"], params["fraction"], params["sharpness"],
                            None if bias is None else float(bias), quantile, doc, exceptions,
                            self.digit_list(where + ("digits",), unit["digits"]) if "digits" in unit else None))
        return out

    def strokes(self, where, value, canvas) -> list:
        if value is None:
            self.fail(where, "missing; expected a list of strokes like [{ line = [[6, 9], [6, 19]] }]")
            return []
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not value:
            self.fail(where, f"expected a non-empty list of strokes, got {_show(value)}")
            return []
        if len(value) > MAX_STROKES:
            self.fail(where, f"{len(value)} strokes; an edge unit may have at most {MAX_STROKES} (see docs/limits.md)")
            return []
        out = []
        for i, item in enumerate(value):
            here = where[:-1] + (f"strokes[{i}]",)
            stroke = self.stroke(here, item, canvas)
            if stroke is None:
                continue
            try:
                n_points = strokelib.n_trace_points(stroke)
                if self.traced + n_points > MAX_SPEC_TRACE:
                    raise ValueError(f"the strokes so far trace more than {MAX_SPEC_TRACE:,} points, the most one "
                                     "spec may (see docs/limits.md)")
                self.traced += n_points
                off = strokelib.outside(stroke, canvas)
            except ValueError as e:
                self.fail(here, str(e))
                continue
            if off:
                rows, cols = canvas[0] - 1, canvas[1] - 1
                # name the point that strays farthest, usually the one the user typed
                r, c = max(off, key=lambda p: max(-p[0], p[0] - rows, -p[1], p[1] - cols))
                self.fail(here, f"point ({r:.1f}, {c:.1f}) is outside the {canvas[0]}x{canvas[1]} canvas "
                                f"(rows 0-{canvas[0] - 1}, cols 0-{canvas[1] - 1})")
                continue
            out.append(stroke)
        return out

    def point(self, where, p, canvas) -> bool:
        if not (isinstance(p, list) and len(p) == 2 and all(_is_number(v) for v in p)):
            self.fail(where, f"expected a point [row, col], got {_show(p)}")
            return False
        # control points may lie off the canvas (a Bezier's curve stays inside their hull), but not far
        for v, size, axis in zip(p, canvas, ("row", "col")):
            if not -size <= v <= 2 * size:
                self.fail(where, f"{axis} {v:g} is far outside the {canvas[0]}x{canvas[1]} canvas; expected "
                                 f"{-size} to {2 * size}")
                return False
        return True

    def stroke(self, where, item, canvas=(28, 28)):
        kinds = ("line", "polyline", "bezier", "arc")
        if not isinstance(item, dict) or len(item) != 1:
            self.fail(where, f"expected one of {{ line = ... }}, {{ polyline = ... }}, {{ bezier = ... }}, {{ arc = ... }}, got {_show(item)}")
            return None
        (kind, value), = item.items()
        here = where + (kind,)
        if kind not in kinds:
            self.fail(here, f"unknown stroke type{_closest(kind, kinds)}; expected one of {', '.join(kinds)}")
            return None
        if kind in ("line", "polyline", "bezier"):
            low, high = {"line": (2, 2), "polyline": (2, MAX_POLYLINE_POINTS), "bezier": (3, 4)}[kind]
            if not isinstance(value, list) or not low <= len(value) <= high:
                want = {"line": "2 points", "polyline": f"2 to {MAX_POLYLINE_POINTS} points",
                        "bezier": "3 or 4 control points"}[kind]
                got = f"{len(value)} points" if isinstance(value, list) else _show(value)
                self.fail(here, f"expected {want} [row, col], got {got}")
                return None
            if not all(self.point(here, p, canvas) for p in value):
                return None
        else:
            if not isinstance(value, dict):
                self.fail(here, f"expected a table {{ center = [r, c], radii = [ry, rx], start = deg, end = deg }}, got {_show(value)}")
                return None
            self.unknown_keys(here, value, {"center", "radii", "start", "end", "rotation"})
            if "center" not in value or "radii" not in value:
                self.fail(here, "needs center = [row, col] and radii = r or [ry, rx]")
                return None
            if not self.point(here + ("center",), value["center"], canvas):
                return None
            radii = value["radii"]
            radii = [radii, radii] if _is_number(radii) else radii
            largest = 2 * max(canvas)
            if not (isinstance(radii, list) and len(radii) == 2 and all(_is_number(r) and 0 < r <= largest for r in radii)):
                self.fail(here + ("radii",), f"expected a radius > 0 (at most {largest}) or [ry, rx], got {_show(value['radii'])}")
                return None
            for key in ("start", "end", "rotation"):
                if key in value and self.number(here + (key,), value[key], low=-MAX_ANGLE, high=MAX_ANGLE) is None:
                    return None
            start, end = value.get("start", 0.0), value.get("end", 360.0)
            if end <= start:
                self.fail(here + ("end",), f"end ({end:g}) must be greater than start ({start:g})")
                return None
            if end - start > MAX_SWEEP:
                self.fail(here + ("end",), f"the arc sweeps {end - start:g} degrees (start {start:g} to end {end:g}); "
                                           f"at most {MAX_SWEEP:g}")
                return None
        try:
            return strokelib.from_dict({kind: value})
        except (ValueError, TypeError, KeyError) as e:
            self.fail(here, str(e))
            return None
