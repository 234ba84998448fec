"""Strokes on a pixel canvas: line segments, arcs, Bezier curves and polylines, drawn as ink.

Coordinates are ``(row, col)`` in pixels, as numpy indexes images: row 0 is the top, col 0 the
left, and the centre of pixel ``(r, c)`` is at ``(r, c)``. Angles are in degrees, 0 pointing
right and 90 pointing up the image, as on paper. This module knows nothing of networks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Point = tuple[float, float]
SAMPLE_STEP = 0.25  # pixels between the points that trace a curve
# Bounds on every number a stroke holds and on the work tracing one may cost (docs/limits.md): a stroke
# from a spec, a sweep or a saved network's metadata is refused before any array is allocated.
MAX_COORDINATE = 10_000.0  # |row|, |col|, radii, pixels
MAX_ANGLE = 3600.0  # |start|, |end|, |rotation|, degrees
MAX_TRACE_POINTS = 200_000  # points traced along one stroke: 50,000 px at SAMPLE_STEP


def _pt(p) -> Point:
    return (_coordinate(p[0]), _coordinate(p[1]))


def _coordinate(v, limit: float = MAX_COORDINATE, what: str = "coordinate") -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what} {v!r} is not a number")
    v = float(v)
    if not math.isfinite(v) or abs(v) > limit:
        raise ValueError(f"{what} {v:g} is outside -{limit:g} to {limit:g}")
    return v


def _rotate_point(p: Point, angle: float, about: Point) -> Point:
    # counterclockwise on screen: rows grow downwards, so the row axis is flipped
    a = math.radians(angle)
    dr, dc = p[0] - about[0], p[1] - about[1]
    return (about[0] + dr * math.cos(a) - dc * math.sin(a), about[1] + dc * math.cos(a) + dr * math.sin(a))


def _n_samples(length: float) -> int:
    if not math.isfinite(length) or length / SAMPLE_STEP > MAX_TRACE_POINTS:
        raise ValueError(f"the stroke is {length:,.0f} px long; one stroke may trace at most "
                         f"{MAX_TRACE_POINTS * SAMPLE_STEP:,.0f} px (see docs/limits.md)")
    return max(2, int(math.ceil(length / SAMPLE_STEP)) + 1)


def n_trace_points(stroke) -> int:
    """How many points ``stroke.points()`` will trace, found without tracing; ValueError past the limit."""
    return stroke.n_points()


@dataclass(frozen=True)
class Line:
    """A straight segment from ``start`` to ``end``."""

    start: Point
    end: Point

    def n_points(self) -> int:
        return _n_samples(math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1]))

    def points(self) -> np.ndarray:
        a, b = np.array(self.start), np.array(self.end)
        t = np.linspace(0.0, 1.0, self.n_points())[:, None]
        return a + t * (b - a)

    def control_points(self) -> list[Point]:
        return [self.start, self.end]

    def moved(self, shift: Point = (0.0, 0.0), angle: float = 0.0, about: Point | None = None) -> "Line":
        f = _mover(self, shift, angle, about)
        return Line(f(self.start), f(self.end))


@dataclass(frozen=True)
class Polyline:
    """Straight segments through ``points`` in order."""

    vertices: tuple[Point, ...]

    def n_points(self) -> int:
        total = sum(Line(a, b).n_points() for a, b in zip(self.vertices[:-1], self.vertices[1:]))
        if total > MAX_TRACE_POINTS:
            raise ValueError(f"the polyline traces {total:,} points; one stroke may trace at most "
                             f"{MAX_TRACE_POINTS:,} (see docs/limits.md)")
        return max(total, 1)

    def points(self) -> np.ndarray:
        self.n_points()
        parts = [Line(a, b).points() for a, b in zip(self.vertices[:-1], self.vertices[1:])]
        return np.concatenate(parts) if parts else np.array([self.vertices[0]], dtype=float)

    def control_points(self) -> list[Point]:
        return list(self.vertices)

    def moved(self, shift: Point = (0.0, 0.0), angle: float = 0.0, about: Point | None = None) -> "Polyline":
        f = _mover(self, shift, angle, about)
        return Polyline(tuple(f(p) for p in self.vertices))


@dataclass(frozen=True)
class Arc:
    """An elliptical arc: ``center``, ``radii`` (vertical, horizontal), from ``start`` to ``end`` degrees.

    The arc runs counterclockwise from ``start`` to ``end`` (use ``end > start``; 0 to 360 is a
    full ellipse). ``rotation`` turns the whole ellipse counterclockwise.
    """

    center: Point
    radii: tuple[float, float]
    start: float = 0.0
    end: float = 360.0
    rotation: float = 0.0

    def n_points(self) -> int:
        return _n_samples(abs(math.radians(self.end - self.start)) * max(abs(self.radii[0]), abs(self.radii[1])))

    def points(self) -> np.ndarray:
        ry, rx = self.radii
        sweep = math.radians(self.end - self.start)
        t = np.radians(self.start) + np.linspace(0.0, sweep, self.n_points())
        rows = -ry * np.sin(t)
        cols = rx * np.cos(t)
        a = math.radians(self.rotation)
        r = rows * math.cos(a) - cols * math.sin(a)
        c = cols * math.cos(a) + rows * math.sin(a)
        return np.stack([self.center[0] + r, self.center[1] + c], axis=1)

    def control_points(self) -> list[Point]:
        return [tuple(p) for p in self.points()[[0, -1]]] + [self.center]

    def moved(self, shift: Point = (0.0, 0.0), angle: float = 0.0, about: Point | None = None) -> "Arc":
        f = _mover(self, shift, angle, about)
        return Arc(f(self.center), self.radii, self.start, self.end, self.rotation + angle)


@dataclass(frozen=True)
class Bezier:
    """A quadratic (3 control points) or cubic (4 control points) Bezier curve."""

    control: tuple[Point, ...]

    def n_points(self) -> int:
        c = self.control
        return _n_samples(sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(c[:-1], c[1:])))

    def points(self) -> np.ndarray:
        c = np.array(self.control, dtype=float)
        t = np.linspace(0.0, 1.0, self.n_points())[:, None]
        if len(c) == 3:
            return (1 - t) ** 2 * c[0] + 2 * (1 - t) * t * c[1] + t**2 * c[2]
        if len(c) == 4:
            return (1 - t) ** 3 * c[0] + 3 * (1 - t) ** 2 * t * c[1] + 3 * (1 - t) * t**2 * c[2] + t**3 * c[3]
        raise ValueError(f"a Bezier curve takes 3 or 4 control points, got {len(c)}")

    def control_points(self) -> list[Point]:
        return list(self.control)

    def moved(self, shift: Point = (0.0, 0.0), angle: float = 0.0, about: Point | None = None) -> "Bezier":
        f = _mover(self, shift, angle, about)
        return Bezier(tuple(f(p) for p in self.control))


Stroke = Line | Polyline | Arc | Bezier


def _mover(stroke, shift, angle, about):
    pivot = _pt(about) if about is not None else centroid([stroke])

    def f(p):
        p = _rotate_point(_pt(p), angle, pivot) if angle else _pt(p)
        return (p[0] + shift[0], p[1] + shift[1])

    return f


def trace(strokes) -> np.ndarray:
    """All strokes as one ``(k, 2)`` array of (row, col) points, ``SAMPLE_STEP`` pixels apart."""
    return np.concatenate([s.points() for s in strokes])


def centroid(strokes) -> Point:
    """The mean point of the traced strokes."""
    p = trace(strokes).mean(axis=0)
    return (float(p[0]), float(p[1]))


def length(strokes) -> float:
    """Total traced length in pixels."""
    return float(sum(np.sum(np.hypot(*np.diff(s.points(), axis=0).T)) for s in strokes))


def moved(strokes, shift: Point = (0.0, 0.0), angle: float = 0.0, about: Point | None = None) -> list:
    """Strokes shifted by ``shift`` (rows, cols) and rotated by ``angle`` degrees about ``about``
    (default: their common centroid)."""
    pivot = about if about is not None else centroid(strokes)
    return [s.moved(shift, angle, pivot) for s in strokes]


def prefix(strokes, fraction: float) -> list:
    """The first ``fraction`` (0-1) of each stroke by length, as polylines along the traced points:
    what a pen has drawn when it is that far through every stroke."""
    out = []
    for s in strokes:
        p = s.points()
        run = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(p, axis=0).T))])
        stop = max(0.0, min(1.0, fraction)) * run[-1]
        keep = p[run < stop]
        if len(keep) == 0:
            keep = p[:1]
        i = min(len(keep), len(p) - 1)
        span = run[i] - run[i - 1] if i > 0 else 0.0
        t = (stop - run[i - 1]) / span if span > 0 else 0.0
        end = p[i - 1] + t * (p[i] - p[i - 1]) if i > 0 else p[0]
        out.append(Polyline(tuple(_pt(q) for q in np.vstack([keep, end]))))
    return out


def distance_map(strokes, shape=(28, 28)) -> np.ndarray:
    """Distance in pixels from each pixel centre to the nearest traced point of any stroke.

    Brute force over (pixels, traced points): a few hundred points against 784 pixels is faster
    than importing a KD-tree, and gives the same bits (sqrt of the least squared distance).
    """
    points = np.asarray(trace(strokes), dtype=float)
    rows = np.arange(shape[0], dtype=float)[:, None, None] - points[:, 0]
    cols = np.arange(shape[1], dtype=float)[None, :, None] - points[:, 1]
    squared = rows * rows + cols * cols  # (rows, cols, points)
    return np.sqrt(squared.min(axis=2))


def ink(strokes, width: float = 2.5, shape=(28, 28)) -> np.ndarray:
    """The strokes drawn as anti-aliased ink ``width`` pixels wide: ``shape`` float in [0, 1].

    A pixel is fully inked within ``width / 2`` of the centreline and fades to 0 over one more
    pixel, which is how MNIST's anti-aliased pen strokes look.
    """
    d = distance_map(strokes, shape)
    return np.clip(width / 2.0 + 0.5 - d, 0.0, 1.0)


def outside(stroke, shape=(28, 28)) -> list[Point]:
    """The traced points of ``stroke`` that fall outside the canvas (empty if it fits)."""
    p = stroke.points()
    bad = (p[:, 0] < 0) | (p[:, 0] > shape[0] - 1) | (p[:, 1] < 0) | (p[:, 1] > shape[1] - 1)
    return [(float(r), float(c)) for r, c in p[bad]]


# ---- plain-data form, for specs and for saved networks' metadata ------------------------------
def to_dict(stroke) -> dict:
    """A stroke as JSON/TOML-ready data, e.g. ``{"line": [[4, 8], [4, 20]]}``."""
    if isinstance(stroke, Line):
        return {"line": [list(stroke.start), list(stroke.end)]}
    if isinstance(stroke, Polyline):
        return {"polyline": [list(p) for p in stroke.vertices]}
    if isinstance(stroke, Bezier):
        return {"bezier": [list(p) for p in stroke.control]}
    if isinstance(stroke, Arc):
        return {
            "arc": {
                "center": list(stroke.center),
                "radii": list(stroke.radii),
                "start": stroke.start,
                "end": stroke.end,
                "rotation": stroke.rotation,
            }
        }
    raise TypeError(f"not a stroke: {stroke!r}")


def to_toml(stroke, step: float = 0.5) -> str:
    """A stroke as a TOML inline table for a spec file, e.g. ``{ line = [[4, 8], [4, 20]] }``, its
    coordinates and radii rounded to multiples of ``step`` pixels (searches write specs this way)."""

    def num(x):
        return f"{round(float(x) / step) * step:g}"

    (kind, value), = to_dict(stroke).items()
    if kind != "arc":
        return f"{{ {kind} = [" + ", ".join(f"[{num(r)}, {num(c)}]" for r, c in value) + "] }"
    r0, r1 = value["radii"]
    radii = num(r0) if num(r0) == num(r1) else f"[{num(r0)}, {num(r1)}]"
    rotation = f", rotation = {value['rotation']:g}" if value["rotation"] else ""
    return (f"{{ arc = {{ center = [{num(value['center'][0])}, {num(value['center'][1])}], radii = {radii}, "
            f"start = {value['start']:g}, end = {value['end']:g}{rotation} }} }}")


def from_dict(data: dict):
    """The inverse of ``to_dict``. Raises ValueError (with the field) on malformed data."""
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError("a stroke is one of line, polyline, bezier or arc")
    (kind, value), = data.items()
    if kind in ("line", "polyline", "bezier"):
        if not isinstance(value, (list, tuple)) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
            raise ValueError(f"{kind}: expected a list of [row, col] points")
    if kind == "line":
        if len(value) != 2:
            raise ValueError(f"line: takes 2 points, got {len(value)}")
        start, end = value
        return Line(_pt(start), _pt(end))
    if kind == "polyline":
        if not value:
            raise ValueError("polyline: takes 2 or more points, got none")
        stroke = Polyline(tuple(_pt(p) for p in value))
        stroke.n_points()  # a polyline too long to trace is refused here, not when it is drawn
        return stroke
    if kind == "bezier":
        if len(value) not in (3, 4):
            raise ValueError(f"bezier: takes 3 or 4 control points, got {len(value)}")
        return Bezier(tuple(_pt(p) for p in value))
    if kind == "arc":
        if not isinstance(value, dict) or "center" not in value or "radii" not in value:
            raise ValueError("arc: expected a table with center and radii")
        radii = value["radii"]
        radii = (radii, radii) if not isinstance(radii, (list, tuple)) else tuple(radii)
        if len(radii) != 2:
            raise ValueError(f"arc: radii takes 1 or 2 numbers, got {len(radii)}")
        radii = tuple(_coordinate(r, what="radius") for r in radii)
        if min(radii) <= 0:
            raise ValueError(f"arc: radii must be > 0, got {radii}")
        center = value["center"]
        if not (isinstance(center, (list, tuple)) and len(center) == 2):
            raise ValueError("arc: center takes [row, col]")
        angles = [_coordinate(value.get(k, d), MAX_ANGLE, k) for k, d in (("start", 0.0), ("end", 360.0), ("rotation", 0.0))]
        return Arc(_pt(center), radii, *angles)
    raise ValueError(f"unknown stroke type {kind!r}; expected line, polyline, bezier or arc")
