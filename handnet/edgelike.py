"""Edge-likeness: how well one stroke template explains a unit's weights.

The lesson hopes the first hidden layer detects little edges. For each hidden unit this module
finds the single straight stroke whose edge template (``templates.edge_template``: positive on
the stroke, a negative band beside it) correlates best with the unit's 784 weights, searching a
fixed bank of positions, orientations, lengths and widths. The correlation is the unit's
edge-likeness: near 1 for a hand-built edge detector, low for weights with no stroke in them.

Deeper units are scored on their pixel template (the product of weights down to the pixels),
which is a linear approximation and labelled as one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .network import Network
from .similarity import pixel_templates
from .strokes import Line, to_dict

SHAPE = (28, 28)
# The search grid. Centres every 2 px over the canvas, 12 orientations (a line at 180 degrees is
# the same line), lengths from a dash to half the digit, the widths MNIST pen strokes have.
CENTRES = np.arange(2.0, 26.0, 2.0)
ANGLES = np.arange(0.0, 180.0, 15.0)
LENGTHS = (4.0, 7.0, 11.0, 16.0)
WIDTHS = (1.5, 2.5, 3.5)
SURROUND = 2.0


@dataclass(frozen=True)
class TemplateBank:
    """Candidate strokes and their templates: ``templates`` (n, 784) float32, each centred and of unit norm.

    ``lines`` (n, 4) holds each stroke's start row, start col, end row, end col; ``widths`` (n,).
    """

    lines: np.ndarray
    widths: np.ndarray
    templates: np.ndarray

    def __len__(self) -> int:
        return len(self.widths)

    def stroke(self, i: int) -> Line:
        r0, c0, r1, c1 = (round(float(v), 3) for v in self.lines[i])
        return Line((r0, c0), (r1, c1))


def _segment_distances(lines: np.ndarray, shape=SHAPE) -> np.ndarray:
    """Distance from every pixel centre to each segment: ``(n_lines, rows * cols)`` float32."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    pr, pc = rows.ravel().astype(np.float32)[None], cols.ravel().astype(np.float32)[None]
    lines = np.asarray(lines, dtype=np.float32)
    ar, ac = lines[:, 0:1], lines[:, 1:2]
    abr, abc = lines[:, 2:3] - ar, lines[:, 3:4] - ac
    t = ((pr - ar) * abr + (pc - ac) * abc) / np.maximum(abr * abr + abc * abc, 1e-12)
    np.clip(t, 0.0, 1.0, out=t)
    dr = pr - ar - t * abr
    dc = pc - ac - t * abc
    return np.sqrt(dr * dr + dc * dc)


def _edge_templates(distances: np.ndarray, width: float, surround: float = SURROUND) -> np.ndarray:
    """``templates.edge_template`` for many strokes at once, from their distance maps ``(n, pixels)``.

    The same formula as ``edge_template`` (inhibition 1), vectorized; a test checks the two agree.
    """
    centre = np.clip(np.float32(width / 2.0 + 0.5) - distances, 0.0, 1.0)
    ring = np.clip(np.float32(width / 2.0 + 0.5 + surround) - distances, 0.0, 1.0)
    ring -= centre
    scale = centre.sum(axis=1, keepdims=True) / np.maximum(ring.sum(axis=1, keepdims=True), 1e-12)
    ring *= scale
    centre -= ring
    return centre


def candidate_lines(centres=CENTRES, angles=ANGLES, lengths=LENGTHS, shape=SHAPE) -> np.ndarray:
    """Every line segment of the grid that lies on the canvas: ``(n, 4)`` (start row, col, end row, col)."""
    cr, cc, ang, ln = np.meshgrid(centres, centres, np.radians(angles), lengths, indexing="ij")
    cr, cc, ang, ln = (v.ravel() for v in (cr, cc, ang, ln))
    # angle 0 points right, 90 up the image (rows grow downwards)
    dr, dc = -np.sin(ang) * ln / 2.0, np.cos(ang) * ln / 2.0
    lines = np.stack([cr - dr, cc - dc, cr + dr, cc + dc], axis=1)
    inside = np.all((lines >= -0.5) & (lines <= np.array([shape[0], shape[1]] * 2) - 0.5), axis=1)
    return lines[inside]


@functools.lru_cache(maxsize=2)
def template_bank(widths: tuple = WIDTHS, surround: float = SURROUND) -> TemplateBank:
    """The bank of stroke templates searched by ``edge_likeness`` (built once, then cached)."""
    lines = candidate_lines()
    distances = _segment_distances(lines)
    blocks, all_lines, all_widths = [], [], []
    for width in widths:
        t = _edge_templates(distances, width, surround)
        t -= t.mean(axis=1, keepdims=True)
        t /= np.linalg.norm(t, axis=1, keepdims=True)
        blocks.append(t.astype(np.float32))
        all_lines.append(lines)
        all_widths.append(np.full(len(lines), width))
    return TemplateBank(np.concatenate(all_lines), np.concatenate(all_widths), np.concatenate(blocks))


@dataclass(frozen=True)
class EdgeFit:
    """The best single stroke for one unit: Pearson ``correlation`` in [0, 1] (absolute value),
    ``polarity`` +1 when ink on the stroke excites the unit and -1 when it inhibits it, the fitted
    ``stroke`` and its ``width``; ``linear_approximation`` is True for units above the first layer."""

    unit: str
    correlation: float
    polarity: int
    stroke: Line | None
    width: float
    linear_approximation: bool

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "correlation": self.correlation,
            "polarity": self.polarity,
            "stroke": to_dict(self.stroke) if self.stroke is not None else None,
            "width": self.width,
            "linear_approximation": self.linear_approximation,
        }


def fit_strokes(weights, bank: TemplateBank | None = None) -> list[tuple[float, int, int]]:
    """For each row of ``weights`` (units, 784): ``(|correlation|, polarity, bank index)`` of the best template.

    One matrix product against the whole bank. A row with no variation scores 0 with no stroke (-1).
    """
    bank = bank or template_bank()
    W = np.asarray(weights, dtype=np.float64).reshape(len(weights), -1)
    Wc = W - W.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(Wc, axis=1)
    corr = bank.templates @ (Wc / np.where(norms > 0, norms, 1.0)[:, None]).T.astype(np.float32)  # (bank, units)
    best = np.argmax(np.abs(corr), axis=0)
    results = []
    for u, i in enumerate(best):
        c = float(corr[i, u])
        if norms[u] == 0:
            results.append((0.0, 0, -1))
        else:
            results.append((min(abs(c), 1.0), 1 if c >= 0 else -1, int(i)))
    return results


def _line_params(line):
    (r0, c0, r1, c1) = line
    centre = ((r0 + r1) / 2.0, (c0 + c1) / 2.0)
    angle = np.degrees(np.arctan2(-(r1 - r0), c1 - c0))
    return centre, angle, float(np.hypot(r1 - r0, c1 - c0))


def refine(weights_row: np.ndarray, line: np.ndarray, width: float, surround: float = SURROUND):
    """Polish one coarse fit on a finer local grid (half-pixel shifts, 5-degree turns, +-2 px lengths, +-0.5 px widths).

    Returns ``(|correlation|, polarity, line (4,), width)`` of the best local candidate, which is
    never worse than the coarse one (it is in the grid).
    """
    (cr, cc), angle, length = _line_params(line)
    steps = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    r, c, a, ln = np.meshgrid(cr + steps, cc + steps, np.radians(angle + np.array([-5.0, 0.0, 5.0])),
                              np.maximum(2.0, length + np.array([-2.0, 0.0, 2.0])), indexing="ij")
    r, c, a, ln = (v.ravel() for v in (r, c, a, ln))
    dr, dc = -np.sin(a) * ln / 2.0, np.cos(a) * ln / 2.0
    lines = np.stack([r - dr, c - dc, r + dr, c + dc], axis=1)
    distances = _segment_distances(lines)
    w = weights_row - weights_row.mean()
    w = w / np.linalg.norm(w)
    best = (-1.0, 1, line, width)
    for wd in (max(1.0, width - 0.5), width, width + 0.5):
        t = _edge_templates(distances, wd, surround)
        t -= t.mean(axis=1, keepdims=True)
        corr = (t @ w) / np.maximum(np.linalg.norm(t, axis=1), 1e-12)
        i = int(np.argmax(np.abs(corr)))
        if abs(corr[i]) > best[0]:
            best = (float(min(abs(corr[i]), 1.0)), 1 if corr[i] >= 0 else -1, lines[i], wd)
    return best


def edge_likeness(net: Network, layer=None, refined: bool = True) -> list[EdgeFit]:
    """Edge-likeness of every hidden unit (or of one layer, by name, alias or index).

    The coarse search is one matrix product against ``template_bank()``; with ``refined`` each
    unit's best stroke is then polished on a finer local grid (``refine``).
    """
    bank = template_bank()
    hidden = range(len(net.layers) - 1)
    chosen = hidden if layer is None else [layer if isinstance(layer, int) else net.layer_index(layer)]
    fits = []
    for li in chosen:
        templates = pixel_templates(net, li)
        for j, (corr, polarity, i) in enumerate(fit_strokes(templates, bank)):
            stroke, width = (bank.stroke(i), float(bank.widths[i])) if i >= 0 else (None, float("nan"))
            if refined and i >= 0:
                corr, polarity, line, width = refine(templates[j], bank.lines[i], width)
                stroke = Line(*(tuple(round(float(v), 3) for v in pair) for pair in (line[:2], line[2:])))
            fits.append(
                EdgeFit(
                    unit=f"{net.layers[li].name}:{net.layers[li].units[j]}",
                    correlation=corr,
                    polarity=polarity,
                    stroke=stroke,
                    width=width,
                    linear_approximation=li > 0,
                )
            )
    return fits


def summarize(fits: list[EdgeFit]) -> dict:
    """Distribution of edge-likeness per layer: n, mean, median, min, max, fraction above 0.5 and 0.7."""
    by_layer: dict[str, list[float]] = {}
    for f in fits:
        by_layer.setdefault(f.unit.split(":")[0], []).append(f.correlation)
    out = {}
    for name, values in by_layer.items():
        v = np.array(values)
        out[name] = {
            "n": int(v.size),
            "mean": float(v.mean()),
            "median": float(np.median(v)),
            "min": float(v.min()),
            "max": float(v.max()),
            "above_0.5": float(np.mean(v > 0.5)),
            "above_0.7": float(np.mean(v > 0.7)),
        }
    return out
