"""The one figure style: how every handnet figure is sized and coloured.

Weights use the lesson's picture: green for positive, red for negative, on black, brightness
proportional to |w|, with one colour scale per figure, symmetric around 0. ``palette="colorblind"``
swaps green/red for blue/orange, which stay distinct for red-green colour blindness. ``HAND`` and
``LEARNED`` colour the two sides of every comparison.
"""

from __future__ import annotations

import numpy as np

HAND, LEARNED = "#2b8cbe", "#e6550d"  # the two sides of every comparison

PALETTES = {
    # negative end, positive end; the middle (zero) is black in both
    "lesson": ("#ff2a2a", "#2aff4a"),
    "colorblind": ("#ff9f1c", "#3a8dff"),
}


def figure(width: float, height: float, layout: str | None = "constrained"):
    """A new Figure of ``width`` x ``height`` inches at 100 dpi (``layout=None`` to place axes by hand).

    Figure() directly, not pyplot: no global state, works headless, nothing to close.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout=layout)


def weight_cmap(palette: str = "lesson"):
    """The diverging colour map: negative colour -> black at 0 -> positive colour."""
    from matplotlib.colors import LinearSegmentedColormap

    if palette not in PALETTES:
        raise ValueError(f"palette {palette!r} is not one of {', '.join(PALETTES)}")
    negative, positive = PALETTES[palette]
    return LinearSegmentedColormap.from_list(f"handnet-{palette}", [negative, "#000000", positive])


def weight_norm(*arrays, vmax: float | None = None):
    """A colour scale symmetric around 0 covering every array: ``Normalize(-vmax, vmax)``."""
    from matplotlib.colors import Normalize

    if vmax is None:
        vmax = max((float(np.max(np.abs(a))) for a in arrays if np.size(a)), default=0.0)
    vmax = vmax if vmax > 0 else 1.0
    return Normalize(vmin=-vmax, vmax=vmax)
