"""The spec model: frozen dataclasses for edges, rules and the whole spec, with the defaults and limits
every spec field is checked against (one place for each default)."""

from __future__ import annotations

from dataclasses import dataclass, field

from handnet.nn.activations import ACTIVATIONS  # noqa: F401  (the names a spec may use)
from handnet.nn.labels import unit_label
from handnet.nn.network import NAME_PATTERN

LAYERS = ("edges", "parts", "digits")
FITS = ("logistic", "least_squares")
NAME = NAME_PATTERN

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
# Limits on what a spec may ask for, checked before any stroke is traced (docs/limits.md gives the reasons).
MAX_SPEC_BYTES = 4 << 20  # a spec file, and each file it includes
MAX_SPEC_FILES = 64  # files read through include/extends, the spec itself among them
MAX_NESTING = 32  # tables and lists inside one another (a spec needs 7)
MAX_CANVAS = 512  # rows and cols of the canvas
MAX_UNITS = 1024  # units in one layer of a spec
MAX_EDGE_WEIGHTS = 1 << 25  # edge units x canvas pixels: the first weight matrix, 256 MiB in float64
MAX_STROKES = 64  # strokes in one edge unit
MAX_POLYLINE_POINTS = 1000  # points in one polyline
MAX_ANGLE = 3600.0  # |start|, |end|, |rotation| of an arc, degrees
MAX_SWEEP = 720.0  # end - start of an arc, degrees
MAX_SPEC_TRACE = 4_000_000  # traced points over every stroke of a spec (each stroke is capped in strokes.py)
LAYER_KEYS = {
    "edges": set(EDGE_DEFAULTS) | {"threshold", "replace"},
    "parts": set(RULE_DEFAULTS) | {"threshold", "replace", "inhibit_margin"},
    "digits": set(RULE_DEFAULTS) | {"threshold", "fit", "l2", "replace", "inhibit_margin"},
}
EDGE_KEYS = set(EDGE_DEFAULTS) | {"strokes", "bias", "threshold", "doc", "digits", "exceptions"}
RULE_KEYS = set(RULE_DEFAULTS) | {"all_of", "any_of", "at_least", "of", "none_of", "weights", "bias", "threshold", "doc",
                                  "label", "inhibit_margin", "exceptions", "digits"}
NETWORK_KEYS = {"name", "description", "canvas", "sizes", "activations", "layers"}
TOP_KEYS = {"network", "extends", "include", *LAYERS}


@dataclass(frozen=True)
class KnownException:
    """A ``check`` case the spec knows fails, and why: the case whose stimulus inks exactly the units
    ``inked`` (of the layer below; for an edge, edges), or the case where ``inhibitor`` is inked on top.
    ``check`` prints the reason and does not count the case as a violation."""

    reason: str
    inked: tuple[str, ...] | None = None
    inhibitor: str | None = None

    def describe(self) -> str:
        if self.inhibitor is not None:
            return f"inhibited by {self.inhibitor}"
        return f"inked: {', '.join(self.inked) if self.inked else 'nothing'}"


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
    exceptions: tuple[KnownException, ...] = ()
    digits: tuple[int, ...] | None = None  # the digits it is meant to fire on (``explain --digits``); None: see doc


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
    sharpness: float = RULE_DEFAULTS["sharpness"]
    veto: float = RULE_DEFAULTS["veto"]
    bias: float | None = None
    quantile: float | None = None
    source: str = ""  # the rule as written, e.g. "all_of" or "at_least 3"
    doc: str = ""
    label: int | None = None  # output units only: the digit this unit answers when its name is not one
    inhibit_margin: float | None = None  # check: an inhibitor must lower the pre-activation this much (else: below 0.5)
    exceptions: tuple[KnownException, ...] = ()
    digits: tuple[int, ...] | None = None  # parts only: the digits it is meant to fire on (``explain --digits``)

    @property
    def answers(self) -> int | None:
        """The label an output unit answers: ``label``, else its name when that is a digit."""
        return self.label if self.label is not None else unit_label(self.name)

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

    @property
    def labels(self) -> dict[str, int]:
        """Each output unit that answers a label, by name: ``{"0": 0, "corner": 7}`` (a fitted readout: 0-9)."""
        if self.fit is not None:
            return {name: int(name) for name in self.digit_names}
        return {d.name: d.answers for d in self.digits if d.answers is not None}

    def unit(self, layer: str, name: str):
        """The Edge or Rule called ``name`` in layer ``layer`` (edges, parts or digits)."""
        return {u.name: u for u in getattr(self, layer)}[name]
