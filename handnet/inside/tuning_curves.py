"""Tuning curves: how a unit responds as its preferred stimulus is changed, like a neuroscientist's.

* An edge (first-layer) unit: its stroke is drawn as ink, then rotated through 180 degrees about
  its centre, and shifted sideways (across the stroke) through its position; the unit's activation
  is recorded for each.
* A part (second-layer) unit: the strokes of the edges it reads are drawn together; then each
  edge it relies on is removed in turn (and each edge that inhibits it is added), and the unit's
  activation is recorded for each stimulus.

Where the strokes come from: a hand-built net keeps them in its metadata
(``metadata["units"]["edges:NAME"]["strokes"]``, and a part's edges in
``metadata["units"]["parts:NAME"]["reads"]``). A trained net has none, so for each first-layer
unit handnet searches straight lines over positions, orientations and lengths for the ink pattern
best aligned with its weights (largest ``w . ink / ||ink||``), and for a second-layer unit uses
the first-layer units it weights most strongly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from handnet.spec import strokes as strokelib
from handnet.errors import HandnetError, UnitError
from handnet.nn.network import Network, UnitRef

DEFAULT_WIDTH = 2.5  # MNIST pen strokes are about 2-3 pixels wide
ANGLES = np.arange(-90.0, 90.1, 5.0)
SHIFTS = np.arange(-6.0, 6.01, 0.5)


@dataclass(frozen=True)
class EdgeTuning:
    """An edge unit's responses: ``angle_activations`` ``(len(angles),)`` for the stroke rotated by
    ``angles`` degrees, ``shift_activations`` for it shifted ``shifts`` pixels across itself."""

    unit: str
    source: str
    stimulus: np.ndarray
    angles: np.ndarray
    angle_activations: np.ndarray
    shifts: np.ndarray
    shift_activations: np.ndarray

    @property
    def preferred_angle(self) -> float:
        return float(self.angles[int(np.argmax(self.angle_activations))])

    @property
    def preferred_shift(self) -> float:
        return float(self.shifts[int(np.argmax(self.shift_activations))])

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "source": self.source,
            "preferred_angle": self.preferred_angle,
            "preferred_shift": self.preferred_shift,
            "angles": self.angles,
            "angle_activations": self.angle_activations,
            "shifts": self.shifts,
            "shift_activations": self.shift_activations,
        }


@dataclass(frozen=True)
class PartTuning:
    """A part unit's responses: ``labels[i]`` names stimulus ``stimuli[i]`` (784,), ``activations[i]``
    the unit's activation on it. The first stimulus holds every edge the part relies on."""

    unit: str
    source: str
    labels: list
    activations: np.ndarray
    stimuli: np.ndarray

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "source": self.source,
            "conditions": [{"stimulus": l, "activation": a} for l, a in zip(self.labels, self.activations)],
        }


# ---- finding strokes ---------------------------------------------------------------------------
def _unit_metadata(net: Network, ref: UnitRef) -> dict:
    return (net.metadata.get("units") or {}).get(str(ref)) or {}


def unit_strokes(net: Network, ref) -> tuple[list, float, str]:
    """The strokes an edge unit looks for: ``(strokes, width, source)``.

    From the net's metadata when it was built from a spec; otherwise (first layer only) the
    best-matching straight line, see ``best_line``.
    """
    ref = net.unit(ref)
    meta = _unit_metadata(net, ref)
    if meta.get("strokes"):
        try:
            found = [strokelib.from_dict(d) for d in meta["strokes"]]
        except (ValueError, TypeError, KeyError) as e:
            raise HandnetError(f"metadata.units.{ref}.strokes: not valid strokes ({e})") from None
        # the spec may say how wide its strokes are drawn as ink, apart from its template width
        width = meta.get("ink_width") or meta.get("width") or DEFAULT_WIDTH
        return found, float(width), "spec strokes"
    if ref.layer != 0:
        raise UnitError(f"unit {ref} is not a first-layer (edge) unit and has no strokes in its metadata")
    line = best_line(net.layers[0].weights[ref.index].reshape(net.input_shape))
    return [line], DEFAULT_WIDTH, "best-matching line"


def best_line(weights, lengths=(5.0, 8.0, 12.0), angles=np.arange(0.0, 180.0, 15.0), width: float = DEFAULT_WIDTH,
              min_visible: float = 0.6) -> strokelib.Line:
    """The straight line whose ink best matches a 28x28 weight picture: largest ``w . ink / ||ink||``
    over every integer position, the given ``angles`` (degrees) and ``lengths`` (pixels).

    A line's ink at integer shifts is the same picture moved, so one drawing per angle and length,
    slid over the canvas, scores every position exactly (ink that slides off the canvas is lost,
    as when the moved line is drawn; lines less than ``min_visible`` on the canvas are skipped).
    The same weights give the same line without searching again (a part's edges are shared).
    """
    w = np.ascontiguousarray(weights, dtype=float)
    return _best_line(w.tobytes(), w.shape, tuple(float(x) for x in lengths), tuple(float(a) for a in angles),
                      float(width), float(min_visible))


@functools.lru_cache(maxsize=256)
def _best_line(data: bytes, shape, lengths, angles, width, min_visible) -> strokelib.Line:
    from numpy.lib.stride_tricks import sliding_window_view

    w = np.frombuffer(data).reshape(shape)
    h, wd = shape
    best = (-np.inf, None)
    for length in lengths:
        for angle in angles:
            padded, half, norm, visible = _sliding_line(length, angle, width, shape)
            windows = sliding_window_view(padded, (h, wd))  # windows[a, b] = the line shifted by (h - a, wd - b)
            score = np.where(visible >= min_visible, np.einsum("abij,ij->ab", windows, w) / norm, -np.inf)
            i, j = np.unravel_index(int(np.argmax(score)), score.shape)
            if score[i, j] > best[0]:
                centre = np.array((h // 2, wd // 2))
                shift = np.array([h - i, wd - j], dtype=float)
                best = (score[i, j], strokelib.Line(_point(centre - half + shift), _point(centre + half + shift)))
    if best[1] is None:
        raise HandnetError("no line fits on the canvas")
    return best[1]


@functools.lru_cache(maxsize=128)
def _sliding_line(length: float, angle: float, width: float, shape):
    """A centred line's ink on a canvas padded by one canvas each side, its half-extent, and for every
    shift the norm of its ink and the fraction of it left on the canvas (these do not depend on weights)."""
    from numpy.lib.stride_tricks import sliding_window_view

    h, wd = shape
    a = np.radians(angle)
    half = np.array([-np.sin(a), np.cos(a)]) * length / 2  # (row, col): 90 degrees points up
    centre = np.array((h // 2, wd // 2))
    kernel = strokelib.ink([strokelib.Line(_point(centre - half), _point(centre + half))], width, (h, wd))
    padded = np.zeros((3 * h, 3 * wd))
    padded[h : 2 * h, wd : 2 * wd] = kernel
    padded.setflags(write=False)
    sq = np.einsum("abij,abij->ab", *(2 * [sliding_window_view(padded, (h, wd))]))
    return padded, half, np.sqrt(np.maximum(sq, 1e-12)), sq / (kernel**2).sum()


def _point(p) -> tuple[float, float]:
    return (round(float(p[0]), 6), round(float(p[1]), 6))


def _direction(strokes) -> np.ndarray:
    """The strokes' main direction as a (row, col) unit vector (first principal axis of the trace)."""
    p = strokelib.trace(strokes)
    p = p - p.mean(axis=0)
    _, _, vt = np.linalg.svd(p, full_matrices=False)
    return vt[0]


# ---- curves ------------------------------------------------------------------------------------
def _activations(net: Network, ref: UnitRef, images) -> np.ndarray:
    acts = net.forward(np.asarray(images, dtype=float).reshape(len(images), -1))
    return acts[ref.activation_index][:, ref.index]


def edge_tuning(net: Network, ref, angles=ANGLES, shifts=SHIFTS) -> EdgeTuning:
    """Rotate and shift an edge unit's stroke and record its activation."""
    ref = net.unit(ref)
    found, width, source = unit_strokes(net, ref)
    shape = net.input_shape
    direction = _direction(found)
    across = np.array([-direction[1], direction[0]])  # perpendicular, in (row, col)
    rotated = [strokelib.ink(strokelib.moved(found, angle=float(a)), width, shape) for a in angles]
    shifted = [strokelib.ink(strokelib.moved(found, shift=tuple(s * across)), width, shape) for s in shifts]
    return EdgeTuning(
        unit=str(ref),
        source=source,
        stimulus=strokelib.ink(found, width, shape).ravel(),
        angles=np.asarray(angles, dtype=float),
        angle_activations=_activations(net, ref, rotated),
        shifts=np.asarray(shifts, dtype=float),
        shift_activations=_activations(net, ref, shifted),
    )


def part_edges(net: Network, ref, max_edges: int = 4) -> tuple[dict, str]:
    """The first-layer units a part reads, with their weights: ``({edge ref: weight}, source)``."""
    ref = net.unit(ref)
    if ref.layer != 1:
        raise UnitError(f"unit {ref} is not a second-layer (part) unit; parts read the first layer")
    reads = _unit_metadata(net, ref).get("reads")
    if reads:
        resolved = {str(net.unit(edge)): float(weight) for edge, weight in reads.items()}
        return resolved, "spec reads"
    w = net.layers[1].weights[ref.index]
    order = np.argsort(-np.abs(w), kind="stable")
    positive = [i for i in order if w[i] > 0][:max_edges]
    negative = [i for i in order if w[i] < 0][:2]
    edges = net.units(0)
    return {str(edges[i]): float(w[i]) for i in positive + negative}, "strongest weights"


def part_tuning(net: Network, ref) -> PartTuning:
    """Draw every edge a part relies on, then remove each one (and add each inhibitor)."""
    ref = net.unit(ref)
    reads, source = part_edges(net, ref)
    shape = net.input_shape
    inks = {}
    for edge in reads:
        found, width, _ = unit_strokes(net, edge)
        inks[edge] = strokelib.ink(found, width, shape)
    helpers = [e for e, w in reads.items() if w > 0]
    inhibitors = [e for e, w in reads.items() if w < 0]

    def union(edges):
        return np.max([inks[e] for e in edges], axis=0) if edges else np.zeros(shape)

    labels, stimuli = ["all its edges"], [union(helpers)]
    for edge in helpers:
        labels.append(f"without {edge.split(':', 1)[1]}")
        stimuli.append(union([e for e in helpers if e != edge]))
    for edge in inhibitors:
        labels.append(f"plus {edge.split(':', 1)[1]} (-)")
        stimuli.append(union(helpers + [edge]))
    stimuli = np.stack([s.ravel() for s in stimuli])
    return PartTuning(str(ref), source, labels, _activations(net, ref, stimuli), stimuli)


def tunable(net: Network, ref) -> UnitRef:
    """The resolved reference if the unit has tuning curves (first or second layer), else a UnitError."""
    ref = net.unit(ref)
    if ref.layer > 1:
        raise UnitError(
            f"unit {ref}: tuning curves are for edge (first-layer) and part (second-layer) units; "
            f"for {ref.layer_name} use maximize or weights"
        )
    return ref


def tuning(net: Network, ref):
    """``edge_tuning`` for a first-layer unit, ``part_tuning`` for a second-layer unit."""
    ref = tunable(net, ref)
    return edge_tuning(net, ref) if ref.layer == 0 else part_tuning(net, ref)
