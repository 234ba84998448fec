"""The one figure style: how every handnet figure is sized, lettered and coloured.

Weights use the lesson's picture: green for positive, a second colour for negative, on black,
brightness proportional to |w|, with one colour scale per figure, symmetric around 0. The default
palette, ``lesson``, keeps the lesson's green and draws negative weights magenta rather than red:
under the common red-green colour-vision deficiencies (deuteranopia, protanopia) the lesson's red
and green both turn olive, while green and magenta stay apart. ``red-green`` is the lesson's exact
colours; ``colorblind`` is blue/orange. ``HAND`` and ``LEARNED`` colour the two sides of every
comparison.

Text is never smaller than ``SMALL`` points at the size a figure is saved, and no two labels overlap
or leave the figure: ``text_problems(fig)`` checks both, and the tests run it over every figure.
"""

from __future__ import annotations

import textwrap

import numpy as np

HAND, LEARNED = "#2b8cbe", "#e6550d"  # the two sides of every comparison (blue, orange: apart under CVD)
NEUTRAL = "#8c8c8c"  # references and controls (random, removed, chance)

# type sizes in points, at the size a figure is saved
SMALL = 8  # the smallest text anywhere: panel captions, tick labels, values
LABEL = 9  # axis labels, legends, panel titles
TITLE = 10  # the figure's title: what to look at
DPI = 100  # saved PNGs

PALETTES = {
    # negative end, positive end; the middle (zero) is black in each
    "lesson": ("#ff33cc", "#2aff4a"),
    "red-green": ("#ff2a2a", "#2aff4a"),
    "colorblind": ("#ff9f1c", "#3a8dff"),
}
COLOUR_NAMES = {"lesson": ("magenta", "green"), "red-green": ("red", "green"), "colorblind": ("orange", "blue")}
PALETTE_HELP = ("Weight colours: lesson green + / magenta - (the default; readable with red-green colour "
                "blindness); red-green, the lesson's exact colours; colorblind blue + / orange -.")


def check_palette(palette: str) -> str:
    if palette not in PALETTES:
        raise ValueError(f"palette {palette!r} is not one of {', '.join(PALETTES)}")
    return palette


def sign_colours(palette: str = "lesson") -> tuple[str, str]:
    """``(negative, positive)`` colours of ``palette``, for bars and lines coloured by sign."""
    return PALETTES[check_palette(palette)]


def sign_legend(palette: str = "lesson") -> str:
    """How a palette reads, for titles and captions: ``"green +, magenta -"``."""
    negative, positive = COLOUR_NAMES[check_palette(palette)]
    return f"{positive} +, {negative} -"


def figure(width: float, height: float, layout: str | None = "constrained"):
    """A new Figure of ``width`` x ``height`` inches at ``DPI`` (``layout=None`` to place axes by hand).

    Figure() directly, not pyplot: no global state, works headless, nothing to close.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout=layout)


def wrap(text: str, width_inches: float, size: float = TITLE) -> str:
    """``text`` broken into lines that fit ``width_inches`` at ``size`` points (about 0.55 em a character)."""
    chars = max(12, int(width_inches * 72 / (0.58 * size)))
    return "\n".join("\n".join(textwrap.wrap(line, chars, break_on_hyphens=False)) or line
                     for line in text.split("\n"))


def wrap_name(name: str, chars: int = 11) -> str:
    """A unit name broken after its underscores into lines of at most about ``chars`` characters:
    ``upper_right_slope`` -> ``upper_right_`` / ``slope``."""
    parts = str(name).split("_")
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 1 + len(part) <= chars:
            lines[-1] += "_" + part
        else:
            lines[-1] += "_"
            lines.append(part)
    return "\n".join(lines)


def caption(fig, text: str) -> None:
    """One or two sentences under the figure saying what it shows, wrapped to the figure's width."""
    fig.supxlabel(wrap(text, fig.get_figwidth() - 0.2, SMALL), fontsize=SMALL, color="0.25")


def weight_cmap(palette: str = "lesson"):
    """The diverging colour map: negative colour -> black at 0 -> positive colour."""
    from matplotlib.colors import LinearSegmentedColormap

    negative, positive = PALETTES[check_palette(palette)]
    return LinearSegmentedColormap.from_list(f"handnet-{palette}", [negative, "#000000", positive])


def weight_norm(*arrays, vmax: float | None = None):
    """A colour scale symmetric around 0 covering every array: ``Normalize(-vmax, vmax)``."""
    from matplotlib.colors import Normalize

    if vmax is None:
        vmax = max((float(np.max(np.abs(a))) for a in arrays if np.size(a)), default=0.0)
    vmax = vmax if vmax > 0 else 1.0
    return Normalize(vmin=-vmax, vmax=vmax)


# ---- checking that a figure reads --------------------------------------------------------------
def drawn_texts(fig) -> list:
    """Every piece of text the figure draws (visible, not empty), after laying it out once with Agg
    (every artist placed and measured, no pixel rasterized: the boxes are the ones a saved PNG has)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    drawn = []
    original = Text.draw

    def recording(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    Text.draw = recording
    try:
        with renderer._draw_disabled():  # what Figure.draw_without_rendering does, on this canvas's renderer
            fig.draw(renderer)
    finally:
        Text.draw = original
    return list(dict.fromkeys(drawn))


def _corners(text, renderer) -> np.ndarray:
    """The four corners ``(4, 2)`` in pixels of ``text``'s box, turned with the text."""
    box = text.get_window_extent(renderer)
    angle = text.get_rotation() % 180
    if min(angle % 90, 90 - angle % 90) < 1e-6:
        return np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    # a turned box sits centred in its upright bounding box; its own size comes from the unturned text
    centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
    text.set_rotation(0)
    flat = text.get_window_extent(renderer)
    text.set_rotation(angle)
    w, h = flat.width / 2, flat.height / 2
    t = np.deg2rad(angle)
    turn = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return centre + np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) @ turn.T


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """How deep two convex quadrilaterals overlap, in pixels (0 when apart): separating axes."""
    depth = np.inf
    for poly in (a, b):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            axis = np.array([-edge[1], edge[0]])
            norm = np.hypot(*axis)
            if norm == 0:
                continue
            axis /= norm
            pa, pb = a @ axis, b @ axis
            depth = min(depth, min(pa.max(), pb.max()) - max(pa.min(), pb.min()))
            if depth <= 0:
                return 0.0
    return float(depth)


def text_problems(fig, min_size: float = SMALL, tolerance: float = 1.0) -> list[str]:
    """What keeps a figure from reading, as one line each (empty when it reads): text smaller than
    ``min_size`` points, text reaching outside the figure (it would be clipped), and two texts
    overlapping by more than ``tolerance`` pixels."""
    texts = drawn_texts(fig)
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    problems, boxes = [], []
    for t in texts:
        label = repr(t.get_text()[:40])
        if t.get_fontsize() < min_size - 1e-6:
            problems.append(f"{label} is {t.get_fontsize():g} pt, under {min_size:g} pt")
        corners = _corners(t, renderer)
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        if x0 < -tolerance or y0 < -tolerance or x1 > width + tolerance or y1 > height + tolerance:
            problems.append(f"{label} reaches outside the figure ({x0:.0f}..{x1:.0f} x {y0:.0f}..{y1:.0f} "
                            f"in {width:.0f} x {height:.0f} px)")
        boxes.append((label, corners))
    if boxes:
        # only pairs whose upright boxes meet can overlap: find them all at once, then test each exactly
        corners = np.array([c for _, c in boxes])
        low, high = corners.min(axis=1), corners.max(axis=1)
        meet = np.all((low[:, None] < high[None] - tolerance) & (low[None] < high[:, None] - tolerance), axis=2)
        for i, j in zip(*np.nonzero(np.triu(meet, 1))):
            depth = _overlap(boxes[i][1], boxes[j][1])
            if depth > tolerance:
                problems.append(f"{boxes[i][0]} overlaps {boxes[j][0]} by {depth:.1f} px")
    return problems
