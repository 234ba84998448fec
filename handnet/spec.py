"""Spec files: what each neuron should detect, in TOML, parsed into frozen dataclasses.

A spec has three layers: ``edges`` (strokes drawn on the canvas), ``parts`` (soft logic over
named edges) and ``digits`` (soft logic over named parts, or a readout fitted on data). Layer
tables hold defaults as plain keys and one sub-table per unit::

    [edges]
    sharpness = 12
    [edges.top_bar]
    strokes = [{ line = [[6, 9], [6, 19]] }]

``load_spec(path)`` reads a file, merges the files it ``extends``/``include``s, and validates
everything at once: every problem names the file, the table and the field, and all of them are
reported together in one ``SpecError``. See docs/spec.md for the full reference.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import strokes as strokelib
from .errors import SpecError

LAYERS = ("edges", "parts", "digits")
ACTIVATIONS = ("sigmoid", "relu", "softmax")
FITS = ("logistic", "least_squares")
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")

# Defaults, overridable per layer (plain keys in the layer table) and per unit.
EDGE_DEFAULTS = {
    "width": 2.0,  # template: width of the positive centre along the stroke, px
    "surround": 2.0,  # template: width of the negative band beside it, px
    "inhibition": 1.0,  # template: negative total as a multiple of the positive total
    "ink_width": 2.5,  # the pen width of a realistic stimulus (thresholds and `check` use it)
    "fraction": 0.5,  # fraction of the stroke that must be inked for activation 0.5
    "sharpness": 10.0,  # slope of the activation per unit of inked fraction
}
RULE_DEFAULTS = {"sharpness": 6.0, "veto": 1.0}
# Largest sensible value of each parameter; beyond it weights overflow or the template leaves the canvas.
LIMITS = {"width": 64.0, "surround": 64.0, "inhibition": 100.0, "ink_width": 64.0, "fraction": 1.5,
          "sharpness": 1000.0, "veto": 1000.0}
LAYER_KEYS = {
    "edges": set(EDGE_DEFAULTS) | {"threshold", "replace"},
    "parts": set(RULE_DEFAULTS) | {"threshold", "replace"},
    "digits": set(RULE_DEFAULTS) | {"threshold", "fit", "l2", "replace"},
}
EDGE_KEYS = set(EDGE_DEFAULTS) | {"strokes", "bias", "threshold", "doc"}
RULE_KEYS = set(RULE_DEFAULTS) | {"all_of", "any_of", "at_least", "of", "none_of", "weights", "bias", "threshold", "doc"}
NETWORK_KEYS = {"name", "description", "canvas", "sizes", "activations", "layers"}
TOP_KEYS = {"network", "extends", "include", *LAYERS}


@dataclass(frozen=True)
class Edge:
    """A second-layer unit: strokes drawn as a centre-positive, surround-negative template.

    Activation = sigmoid(sharpness * (w.x / w.s - fraction)), where ``w`` is the template and
    ``s`` the stroke inked at ``ink_width``, unless ``bias`` or ``threshold`` says otherwise.
    """

    name: str
    strokes: tuple
    width: float
    surround: float
    inhibition: float
    ink_width: float
    fraction: float
    sharpness: float
    bias: float | None = None
    quantile: float | None = None  # calibrate the bias on data: this fraction of digits stays below 0.5
    doc: str = ""


@dataclass(frozen=True)
class Rule:
    """A part or hand-written digit unit: soft logic over named units of the layer below.

    ``kind`` is ``at_least`` (``all_of`` and ``any_of`` become at_least n and at_least 1) or
    ``weights``. ``reads`` are the positive inputs, ``k`` how many must be on, ``none_of`` inhibit.
    """

    name: str
    kind: str
    reads: tuple[str, ...] = ()
    k: int = 0
    none_of: tuple[str, ...] = ()
    weights: tuple[tuple[str, float], ...] = ()
    sharpness: float = 6.0
    veto: float = 1.0
    bias: float | None = None
    quantile: float | None = None
    source: str = ""  # the rule as written, e.g. "all_of" or "at_least 3"
    doc: str = ""

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every unit of the layer below that this rule names."""
        return tuple(dict.fromkeys(self.reads + self.none_of + tuple(n for n, _ in self.weights)))


@dataclass(frozen=True)
class Spec:
    """A validated spec. ``digits`` is empty when the readout is fitted (``fit`` is set)."""

    path: str
    sha256: str
    name: str
    description: str
    canvas: tuple[int, int]
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    layer_names: tuple[str, ...]
    edges: tuple[Edge, ...]
    parts: tuple[Rule, ...]
    digits: tuple[Rule, ...]
    digit_names: tuple[str, ...]
    fit: str | None = None
    l2: float = 1e-3
    sources: tuple[tuple[str, str], ...] = field(default=())  # (path, sha256) of every file read

    @property
    def needs_data(self) -> bool:
        """True when something is fitted or calibrated on data."""
        units = self.edges + self.parts + self.digits
        return self.fit is not None or any(u.quantile is not None for u in units)

    def unit(self, layer: str, name: str):
        """The Edge or Rule called ``name`` in layer ``layer`` (edges, parts or digits)."""
        return {u.name: u for u in getattr(self, layer)}[name]


# ---- reading and merging files -----------------------------------------------------------------
def _read_toml(path: Path) -> tuple[dict, bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a directory, expected a .toml spec file") from None
    except OSError as e:
        raise SpecError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return tomllib.loads(raw.decode("utf-8")), raw
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text, expected a TOML spec") from None
    except tomllib.TOMLDecodeError as e:
        hint = " (a duplicate unit name?)" if "twice" in str(e) else ""
        raise SpecError(f"{path}: TOML syntax error: {e}{hint}") from None


def _merge(base: dict, over: dict, origin: dict, path: str, prefix: tuple = ()) -> dict:
    """Deep-merge ``over`` onto ``base``; remember which file last set each unit table."""
    out = dict(base)
    for key, value in over.items():
        here = prefix + (key,)
        if len(here) <= 2:
            origin[here] = path
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not value.get("replace"):
            out[key] = _merge(out[key], value, origin, path, here)
        else:
            out[key] = value
            if isinstance(value, dict):
                for sub in value:
                    origin[here + (sub,)] = path
    return out


def _load_raw(path: Path, seen: tuple, origin: dict, sources: list) -> dict:
    data, raw = _read_toml(path)
    sources.append((str(path), hashlib.sha256(raw).hexdigest()))
    bases = []
    for key in ("include", "extends"):
        value = data.pop(key, None)
        if value is None:
            continue
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SpecError(f"{path}: {key}: expected a file name or a list of file names, got {value!r}")
        bases += [(key, n) for n in names]
    merged: dict = {}
    for key, name in bases:
        base_path = (path.parent / name).resolve()
        if base_path in seen:
            raise SpecError(f"{path}: {key}: {name!r} includes itself (cycle {' -> '.join(p.name for p in seen)})")
        if not base_path.is_file():
            raise SpecError(f"{path}: {key}: no spec file {name!r} beside it")
        merged = _merge(merged, _load_raw(base_path, seen + (base_path,), origin, sources), origin, str(base_path))
    return _merge(merged, data, origin, str(path))


@dataclass(frozen=True)
class SpecData:
    """A spec file read and merged (includes and bases) but not yet validated.

    ``data`` is the merged TOML tables; ``origin`` maps each table to the file that last wrote it, so
    problems found later still name the right file. Tools that edit a spec in memory (``sweep``) change
    a copy of ``data`` and call ``spec(data)``.
    """

    path: Path
    data: dict
    origin: dict
    sources: tuple

    def spec(self, data: dict | None = None) -> "Spec":
        """Validate ``data`` (default: the file's own) as if it had been read from ``path``."""
        chosen = copy.deepcopy(self.data if data is None else data)
        return _Validator(self.path, chosen, dict(self.origin), list(self.sources)).spec()


def read_spec_data(path) -> SpecData:
    """Read and merge a spec file and what it includes, without validating it."""
    path = Path(path)
    origin: dict = {}
    sources: list = []
    data = _load_raw(path, (path.resolve(),), origin, sources)
    return SpecData(path, data, origin, tuple(sources))


def load_spec(path) -> Spec:
    """Read, merge and validate a spec file; raise one SpecError listing every problem found."""
    return read_spec_data(path).spec()


# ---- validation --------------------------------------------------------------------------------
def _closest(word: str, options) -> str:
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Validator:
    """Collects every problem in a merged spec, then builds the Spec or raises one SpecError."""

    def __init__(self, path: Path, data: dict, origin: dict, sources: list):
        self.path, self.data, self.origin, self.sources = path, data, origin, sources
        self.problems: list[str] = []

    def fail(self, where: tuple, message: str) -> None:
        # the file that last wrote this table (an included base or the spec itself)
        src = next((self.origin[where[:n]] for n in (2, 1) if where[:n] in self.origin), str(self.path))
        self.problems.append(f"{src}: {'.'.join(str(w) for w in where)}: {message}")

    def number(self, where, value, low=None, high=None, positive=False, integer=False):
        if integer and not (isinstance(value, int) and not isinstance(value, bool)):
            self.fail(where, f"expected a whole number, got {value!r}")
            return None
        if not _is_number(value):
            self.fail(where, f"expected a number, got {value!r}")
            return None
        if positive and value <= 0:
            self.fail(where, f"expected a number > 0, got {value!r}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(where, f"expected a number in [{low}, {high}], got {value!r}")
            return None
        return value

    def parameter(self, where, key: str, value):
        """A template or logic parameter: > 0 (inhibition >= 0) and at most LIMITS[key]."""
        v = self.number(where, value, positive=key != "inhibition", low=0 if key == "inhibition" else None)
        if v is not None and v > LIMITS[key]:
            self.fail(where, f"expected at most {LIMITS[key]:g}, got {value!r}")
            return None
        return v

    def unknown_keys(self, where, table: dict, allowed) -> None:
        for key in table:
            if key not in allowed:
                self.fail(where + (key,), f"unknown field{_closest(key, allowed)}; expected one of {', '.join(sorted(allowed))}")

    # -- top level
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
            self.fail(("network", "name"), f"expected a non-empty string, got {name!r}")
        description = net.get("description", "")
        if not isinstance(description, str):
            self.fail(("network", "description"), f"expected a string, got {description!r}")
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
                                                                   and 4 <= v <= 512 for v in value)):
            return (value[0], value[1])
        self.fail(("network", "canvas"), f"expected [rows, cols], two whole numbers in 4-512, got {value!r}")
        return (28, 28)

    def layer_names(self, value) -> tuple[str, ...]:
        ok = isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) and NAME.match(v)
                                                                  and not v.isdigit() for v in value)
        if not ok:
            self.fail(("network", "layers"), f"expected three layer names (letters, digits, _), got {value!r}")
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
            self.fail(("network", "activations"), f"expected three of {', '.join(ACTIVATIONS)}, got {value!r}")
            return ("sigmoid", "sigmoid", "sigmoid")
        return tuple(value)

    def sizes(self, value, canvas, counts) -> tuple[int, ...]:
        actual = (canvas[0] * canvas[1],) + tuple(counts)
        if value is None:
            return actual
        if not (isinstance(value, list) and len(value) == 4 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            self.fail(("network", "sizes"), f"expected four whole numbers like [784, 16, 16, 10], got {value!r}")
            return actual
        labels = ("input", "edges", "parts", "digits")
        for i, (want, have) in enumerate(zip(value, actual)):
            if want != have:
                what = f"a {canvas[0]}x{canvas[1]} canvas" if i == 0 else f"{have} {labels[i]} units in the spec"
                self.fail(("network", "sizes"), f"{labels[i]} size is {want} but there are {what}")
        return tuple(value)

    # -- edges
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
        out = []
        for name, unit in units.items():
            where = ("edges", name)
            self.unit_name(where, name)
            self.unknown_keys(where, unit, EDGE_KEYS)
            params = dict(defaults)
            for key in EDGE_DEFAULTS:
                if key in unit:
                    v = self.parameter(where + (key,), key, unit[key])
                    if v is not None:
                        params[key] = float(v)
            strokes = self.strokes(where + ("strokes",), unit.get("strokes"), canvas)
            bias = unit.get("bias")
            if bias is not None:
                bias = self.number(where + ("bias",), bias, low=-1e6, high=1e6)
            quantile = self.quantile(where + ("threshold",), unit.get("threshold")) if "threshold" in unit else layer_quantile
            if bias is not None and "threshold" in unit:
                self.fail(where + ("bias",), "give either bias or threshold = { quantile = q }, not both")
            doc = unit.get("doc", "")
            if not isinstance(doc, str):
                self.fail(where + ("doc",), f"expected a string, got {doc!r}")
                doc = ""
            out.append(Edge(name, tuple(strokes), params["width"], params["surround"], params["inhibition"],
                            params["ink_width"], params["fraction"], params["sharpness"],
                            None if bias is None else float(bias), quantile, doc))
        return out

    def strokes(self, where, value, canvas) -> list:
        if value is None:
            self.fail(where, "missing; expected a list of strokes like [{ line = [[6, 9], [6, 19]] }]")
            return []
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not value:
            self.fail(where, f"expected a non-empty list of strokes, got {value!r}")
            return []
        out = []
        for i, item in enumerate(value):
            here = where[:-1] + (f"strokes[{i}]",)
            stroke = self.stroke(here, item)
            if stroke is None:
                continue
            off = strokelib.outside(stroke, canvas)
            if off:
                rows, cols = canvas[0] - 1, canvas[1] - 1
                # name the point that strays farthest, usually the one the user typed
                r, c = max(off, key=lambda p: max(-p[0], p[0] - rows, -p[1], p[1] - cols))
                self.fail(here, f"point ({r:.1f}, {c:.1f}) is outside the {canvas[0]}x{canvas[1]} canvas "
                                f"(rows 0-{canvas[0] - 1}, cols 0-{canvas[1] - 1})")
                continue
            out.append(stroke)
        return out

    def point(self, where, p) -> bool:
        if isinstance(p, list) and len(p) == 2 and all(_is_number(v) for v in p):
            return True
        self.fail(where, f"expected a point [row, col], got {p!r}")
        return False

    def stroke(self, where, item):
        kinds = ("line", "polyline", "bezier", "arc")
        if not isinstance(item, dict) or len(item) != 1:
            self.fail(where, f"expected one of {{ line = ... }}, {{ polyline = ... }}, {{ bezier = ... }}, {{ arc = ... }}, got {item!r}")
            return None
        (kind, value), = item.items()
        here = where + (kind,)
        if kind not in kinds:
            self.fail(here, f"unknown stroke type{_closest(kind, kinds)}; expected one of {', '.join(kinds)}")
            return None
        if kind in ("line", "polyline", "bezier"):
            counts = {"line": (2,), "polyline": tuple(range(2, 1000)), "bezier": (3, 4)}[kind]
            if not isinstance(value, list) or len(value) not in counts:
                want = {"line": "2 points", "polyline": "2 or more points", "bezier": "3 or 4 control points"}[kind]
                self.fail(here, f"expected {want} [row, col], got {value!r}")
                return None
            if not all(self.point(here, p) for p in value):
                return None
        else:
            if not isinstance(value, dict):
                self.fail(here, f"expected a table {{ center = [r, c], radii = [ry, rx], start = deg, end = deg }}, got {value!r}")
                return None
            self.unknown_keys(here, value, {"center", "radii", "start", "end", "rotation"})
            if "center" not in value or "radii" not in value:
                self.fail(here, "needs center = [row, col] and radii = r or [ry, rx]")
                return None
            if not self.point(here + ("center",), value["center"]):
                return None
            radii = value["radii"]
            radii = [radii, radii] if _is_number(radii) else radii
            if not (isinstance(radii, list) and len(radii) == 2 and all(_is_number(r) and r > 0 for r in radii)):
                self.fail(here + ("radii",), f"expected a radius > 0 or [ry, rx], got {value['radii']!r}")
                return None
            for key in ("start", "end", "rotation"):
                if key in value and self.number(here + (key,), value[key]) is None:
                    return None
            if value.get("end", 360.0) <= value.get("start", 0.0):
                self.fail(here + ("end",), f"end ({value.get('end', 360.0)}) must be greater than start ({value.get('start', 0.0)})")
                return None
        try:
            return strokelib.from_dict({kind: value})
        except (ValueError, TypeError, KeyError) as e:
            self.fail(here, str(e))
            return None

    def quantile(self, where, value):
        if value is None:
            return None
        if not (isinstance(value, dict) and set(value) == {"quantile"}):
            self.fail(where, f"expected {{ quantile = q }} with q in (0, 1), got {value!r}")
            return None
        q = value["quantile"]
        if not (_is_number(q) and 0 < q < 1):
            self.fail(where + ("quantile",), f"expected a number in (0, 1), got {q!r}")
            return None
        return float(q)

    def unit_name(self, where, name) -> None:
        if not NAME.match(str(name)):
            self.fail(where, "unit names are letters, digits, _, . and - (no spaces or colons)")

    # -- parts and hand-written digits
    def rules(self, layer: str, table: dict, below: list[str], below_layer: str, skip=()) -> list[Rule]:
        units = {k: v for k, v in table.items() if isinstance(v, dict) and k != "threshold"}
        plain = {k: v for k, v in table.items() if k not in units}
        self.unknown_keys((layer,), plain, LAYER_KEYS[layer])
        defaults = self.defaults(layer, {k: v for k, v in plain.items() if k in RULE_DEFAULTS}, RULE_DEFAULTS)
        layer_quantile = self.quantile((layer, "threshold"), plain.get("threshold"))
        if not units and layer == "parts":
            self.fail((layer,), "no part units; add a table like [parts.upper_loop] with all_of = [...]")
        return [self.rule((layer, name), unit, defaults, layer_quantile, below, below_layer)
                for name, unit in units.items()]

    def names(self, where, value, below, below_layer) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(where, f"expected a list of {below_layer} unit names, got {value!r}")
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
        params = dict(defaults)
        for key in RULE_DEFAULTS:
            if key in unit:
                v = self.parameter(where + (key,), key, unit[key])
                if v is not None:
                    params[key] = float(v)
        clauses = [c for c in ("all_of", "any_of", "at_least", "weights") if c in unit]
        name = where[-1]
        doc = unit.get("doc", "")
        if not isinstance(doc, str):
            self.fail(where + ("doc",), f"expected a string, got {doc!r}")
            doc = ""
        bias = unit.get("bias")
        if bias is not None:
            bias = self.number(where + ("bias",), bias, low=-1e6, high=1e6)
            bias = None if bias is None else float(bias)
        quantile = self.quantile(where + ("threshold",), unit.get("threshold")) if "threshold" in unit else layer_quantile
        if bias is not None and "threshold" in unit:
            self.fail(where + ("bias",), "give either bias or threshold = { quantile = q }, not both")
        none_of = self.names(where + ("none_of",), unit["none_of"], below, below_layer) if "none_of" in unit else ()
        common = dict(none_of=none_of, sharpness=params["sharpness"], veto=params["veto"], bias=bias,
                      quantile=quantile, doc=doc)
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
                self.fail(where + ("weights",), f"expected a table {{ unit = weight, ... }}, got {w!r}")
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

    def readout(self, table: dict, parts: list[str]):
        plain = {k: v for k, v in table.items() if not isinstance(v, dict) or k == "threshold"}
        fit = plain.get("fit")
        l2 = 1e-3
        if "l2" in plain:
            l2 = self.number(("digits", "l2"), plain["l2"], low=0) or 0.0
        if fit is not None and fit not in FITS:
            self.fail(("digits", "fit"), f"expected one of {', '.join(FITS)}, got {fit!r}{_closest(fit, FITS)}")
            fit = None
        if fit is None:
            table = {k: v for k, v in table.items() if k not in ("replace",)}
            digits = self.rules("digits", table, parts, "parts")
            if not digits:
                self.fail(("digits",), 'no digit units; add [digits.0] ... [digits.9] rules, or fit = "logistic"')
            return digits, [d.name for d in digits], None, l2
        units = [k for k, v in table.items() if isinstance(v, dict) and k != "threshold"]
        if units:
            self.fail(("digits", units[0]), "a fitted readout takes no hand-written units; remove them "
                                             "(or set replace = true in [digits] when extending a spec)")
        self.unknown_keys(("digits",), plain, LAYER_KEYS["digits"])
        return [], [str(d) for d in range(10)], fit, float(l2)
