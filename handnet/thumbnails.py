"""A grid of example digits: one row per digit, so a glance shows what the data looks like."""

from __future__ import annotations

import numpy as np


def pick_examples(labels, per_digit: int = 10) -> list[np.ndarray]:
    """For each digit 0-9, the indices of its first ``per_digit`` images (fewer if the data has fewer)."""
    labels = np.asarray(labels)
    return [np.flatnonzero(labels == digit)[:per_digit] for digit in range(10)]


def digit_grid(images, labels, per_digit: int = 10, title: str | None = None):
    """A matplotlib Figure with one labelled row per digit 0-9 and up to ``per_digit`` examples in each.

    ``images`` is ``(n, 28, 28)`` (uint8 0-255 or float in [0, 1]; ink is bright, drawn white on
    black as MNIST stores it) and ``labels`` is ``(n,)`` int in 0-9. The first ``per_digit`` images
    of each digit are shown, so the same data always gives the same picture; a digit absent from
    the data gets an empty row marked "none".
    """
    from matplotlib.figure import Figure

    images = np.asarray(images)
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"images must be (n, rows, cols) with one label each, got {images.shape} and {len(labels)}")
    vmax = 255 if np.issubdtype(images.dtype, np.integer) else 1.0
    chosen = pick_examples(labels, per_digit)
    fig = Figure(figsize=(0.6 * per_digit + 0.6, 6.4 + (0.4 if title else 0)))
    axes = fig.subplots(10, per_digit, squeeze=False, gridspec_kw={"wspace": 0.05, "hspace": 0.05})
    for digit, row in enumerate(axes):
        for column, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if column < len(chosen[digit]):
                ax.imshow(images[chosen[digit][column]], cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
            else:
                ax.set_facecolor("white")
        row[0].set_ylabel(str(digit), rotation=0, fontsize=12, labelpad=12, va="center")
        if len(chosen[digit]) == 0:
            row[0].text(0.5, 0.5, "none", transform=row[0].transAxes, ha="center", va="center", fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.02, top=0.94 if title else 0.98)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
