"""Figures: arrays in, matplotlib Figure out (headless Agg; nothing here shows or saves).

Weights use the lesson's picture (``handnet.viz.style``): green for positive, magenta for negative
by default, on black, brightness proportional to |w|, with one colour scale per figure, symmetric
around 0 and shared by every panel. Images of digits are drawn as MNIST stores them: bright ink on
black. Every figure has a title saying what to look at and, where a colour, a frame or a number
needs it, a one-sentence caption.
"""

from __future__ import annotations

import math

import numpy as np

from handnet.viz.style import (  # noqa: F401  (PALETTES: re-exported)
    HAND, LABEL, LEARNED, PALETTES, SMALL, TITLE, caption, figure as _figure, sign_colours, sign_legend, weight_cmap,
    weight_norm, wrap, wrap_name,
)


def _grid(n, ncols=None):
    ncols = ncols or min(n, 8 if n > 16 else 4 if n > 4 else n)
    return max(1, math.ceil(n / ncols)), max(1, ncols)


def _hide(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _title(fig, title: str | None, width: float) -> None:
    if title:
        fig.suptitle(wrap(title, width - 0.2, TITLE), fontsize=TITLE)


def _title_height(title: str | None, width: float) -> float:
    """Inches a suptitle of ``title`` wrapped to ``width`` takes."""
    return 0.2 * (wrap(title, width - 0.2, TITLE).count("\n") + 1) + 0.1 if title else 0.0


def tile_grid(ax, tiles, labels, columns: int, cell=(1.3, 1.45), tile_in: float = 0.9, label_colors=None,
              frames=None, row_labels=None, frame_styles=None, corner_texts=None, row_label_size=LABEL,
              row_margin: float = 0.35):
    """Draw ``tiles`` (n, h, w, 3) RGB (or RGBA) pictures on one Axes as one mosaic image, ``columns``
    across, each ``cell`` inches (width, height) with the picture ``tile_in`` inches wide at the
    bottom of its cell and its label (``labels``, 8 pt) centred above it: one image and n texts,
    not n Axes, which is most of a grid figure's drawing time. ``label_colors`` colours labels,
    ``frames`` (n,) bool draws a red frame round a tile and makes its label bold, ``frame_styles``
    (n,) ``(colour, line width)`` or None any frame; ``corner_texts`` (n,) puts a short text (8 pt,
    white on black) in a tile's lower right corner; ``row_labels`` label each row at the left
    (``row_label_size`` points; at 8 pt written level, else turned up the side; ``row_margin``
    inches of room for them). Tiles of an
    incomplete last row, and None tiles, are left empty. The gaps are transparent (the figure's
    white shows)."""
    from matplotlib.patches import Rectangle

    tiles = np.asarray(tiles, dtype=float)
    n, h, w = tiles.shape[:3]
    if tiles.shape[-1] == 3:
        tiles = np.concatenate([tiles, np.ones((n, h, w, 1))], axis=-1)
    rows = max(1, math.ceil(n / columns))
    px = w / tile_in  # mosaic pixels per inch
    cell_w, cell_h = round(cell[0] * px), round(cell[1] * px)
    cell_w, cell_h = max(cell_w, w + 2), max(cell_h, h + 2)
    canvas = np.zeros((rows * cell_h, columns * cell_w, 4))
    boxes = []
    for i in range(n):
        r, c = divmod(i, columns)
        top, left = r * cell_h + cell_h - h - 1, c * cell_w + (cell_w - w) // 2
        boxes.append((top, left, h, w))
        canvas[top : top + h, left : left + w] = tiles[i]
        if labels[i]:
            ax.text(left + w / 2 - 0.5, top - 0.04 * px - 0.5, labels[i], fontsize=SMALL, ha="center",
                    va="bottom",
                    color=(label_colors[i] if label_colors is not None else "black"),
                    fontweight="bold" if frames is not None and frames[i] else "normal")
        style = ("#c01818", 2.5) if frames is not None and frames[i] else None
        style = frame_styles[i] if frame_styles is not None and frame_styles[i] is not None else style
        if style is not None:
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor=style[0], linewidth=style[1]))
        if corner_texts is not None and corner_texts[i]:
            ax.text(left + w - 1.5, top + h - 1.5, corner_texts[i], ha="right", va="bottom", fontsize=SMALL,
                    color="white", bbox={"facecolor": "black", "edgecolor": "none", "pad": 1})
    image = ax.imshow(canvas, interpolation="nearest")
    image.tile_boxes = boxes  # (top, left, height, width) of each tile in the mosaic, for tests and readers
    ax.set_xlim(-0.5 - (row_margin * px if row_labels else 0), columns * cell_w - 0.5)
    ax.set_ylim(rows * cell_h - 0.5, -0.5)
    ax.axis("off")
    for r, label in enumerate(row_labels or []):
        ax.text(-0.1 * px, r * cell_h + cell_h - h / 2 - 1, label, fontsize=row_label_size, ha="right", va="center",
                rotation=0 if row_label_size <= SMALL else 90)
    return canvas


def plot_weight_grid(weights, names, palette: str = "lesson", title: str | None = None, ncols=None,
                     shape=(28, 28), vmax=None, colorbar_label: str = "weight", note: str | None = None):
    """Each unit's input weights as a ``shape`` image, one panel per unit.

    ``weights`` is ``(n_units, 784)``; ``names`` gives each panel's title. Every panel shares one
    colour scale, symmetric around 0, shown by one colour bar. ``note`` is a caption under the figure.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    n = len(weights)
    rows, cols = _grid(n, ncols)
    width = max(4.2, 1.3 * cols + 1.2)
    title_lines = wrap(title, width - 0.2, TITLE).count("\n") + 1 if title else 0
    fig = _figure(width, 1.45 * rows + 0.25 * title_lines + (0.45 if note else 0.1))
    ax = fig.subplots()
    cmap, norm = weight_cmap(palette), weight_norm(weights, vmax=vmax)
    labels = [wrap_name(name, 14) for name in names]
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    tile_grid(ax, cmap(norm(weights.reshape(n, *shape))), labels, cols, cell=(1.3, 1.1 + 0.15 * lines))
    from matplotlib.cm import ScalarMappable

    bar = fig.colorbar(ScalarMappable(norm, cmap), ax=ax, shrink=0.8, label=f"{colorbar_label} ({sign_legend(palette)})")
    bar.ax.tick_params(labelsize=SMALL)
    _title(fig, title, width)
    if note:
        caption(fig, note)
    return fig


def plot_strip(weights, unit_names, input_names, palette: str = "lesson", title: str | None = None, biases=None):
    """Deeper units' weights over the named units of the layer below: one labelled row per unit.

    ``weights`` is ``(n_units, n_inputs)``; columns are labelled with ``input_names``. ``biases``,
    if given, are printed at the end of each row.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    n_units, n_inputs = weights.shape
    width = max(5.0, 0.36 * n_inputs + 3.4)
    fig = _figure(width, max(2.4, 0.3 * n_units + 2.9))
    ax = fig.subplots()
    cmap, norm = weight_cmap(palette), weight_norm(weights)
    image = ax.imshow(weights, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(n_inputs), [str(s) for s in input_names], rotation=60, ha="right", rotation_mode="anchor",
                  fontsize=SMALL)
    ax.set_yticks(range(n_units), [str(s) for s in unit_names], fontsize=SMALL)
    if biases is not None:
        for i, b in enumerate(np.atleast_1d(biases)):
            ax.text(n_inputs - 0.4, i, f" b={b:+.2g}", va="center", ha="left", fontsize=SMALL, clip_on=False)
    ax.set_xlabel("unit in the layer below", fontsize=LABEL)
    bar = fig.colorbar(image, ax=ax, shrink=0.9, label=f"weight\n({sign_legend(palette)})",
                       pad=0.14 if biases is not None else 0.02)
    bar.ax.tick_params(labelsize=SMALL)
    if title:
        ax.set_title(wrap(title, width - 1.5, TITLE), fontsize=TITLE)
    caption(fig, "Each row is one unit; each square is the weight it gives one unit of the layer below"
            + (", and b its bias: the unit lights up when the weighted sum plus b is above 0." if biases is not None
               else "."))
    return fig


def _gray_on_white():
    """Gray for images in [0, 1]; NaN (the gaps between mosaic tiles) is the figure's white."""
    import matplotlib

    return matplotlib.colormaps["gray"].with_extremes(bad=(1, 1, 1, 0))


def _maximizer_label(name, activation, note) -> str:
    label = f"{wrap_name(name, 11)}\n{activation:.3g}"
    return label + (f"\n{note}" if note else "")


def plot_maximizers(images, names, activations, top_images=None, top_activations=None, notes=None,
                    title: str | None = None, shape=(28, 28), columns: int | None = None):
    """Per unit, one column: its optimized image on top, then the real digits that most activate it.

    ``images`` is ``(n_units, 784)`` in [0, 1]; ``activations`` ``(n_units,)`` the activation each
    reaches; ``top_images`` ``(n_units, k, 784)`` and ``top_activations`` ``(n_units, k)`` are
    optional; ``notes`` adds a short line per unit (e.g. how close to the bound). More units than
    ``columns`` (default 8, or all of up to 10) wrap into blocks, one under the other.
    """
    images = np.atleast_2d(np.asarray(images, dtype=float))
    n = len(images)
    k = 0 if top_images is None else np.asarray(top_images).shape[1]
    notes = notes if notes is not None else [None] * n
    if n == 1:  # one unit reads best as a row: optimized image, then its top digits
        width = max(4.2, 1.05 * (1 + k) + 0.4)
        fig = _figure(width, 2.75 + _title_height(title, width))
        axes = fig.subplots(1, 1 + k, squeeze=False)[0]
        axes[0].imshow(images[0].reshape(shape), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[0].set_title(_maximizer_label(names[0], activations[0], notes[0]), fontsize=SMALL)
        for j in range(k):
            axes[1 + j].imshow(np.asarray(top_images[0][j], dtype=float).reshape(shape), cmap="gray", vmin=0, vmax=1,
                               interpolation="nearest")
            axes[1 + j].set_title(f"top {j + 1}\n{top_activations[0][j]:.3g}", fontsize=SMALL)
        for ax in axes:
            _hide(ax)
    else:
        columns = columns or (n if n <= 10 else 8)
        blocks = math.ceil(n / columns)
        width = 1.08 * columns + 0.9
        labels = [_maximizer_label(nm, a, nt) for nm, a, nt in zip(names, activations, notes)]
        name_lines = max(label.count("\n") + 1 for label in labels)
        block_height = 0.95 + 0.15 * name_lines + k * 1.1 + 0.1
        fig = _figure(width, blocks * block_height + _title_height(title, width) + 0.75)
        # each block is one image (a mosaic of tiles) with its labels placed in the gaps: one Axes,
        # not one per tile, which is most of the drawing time
        axes = fig.subplots(blocks, 1, squeeze=False)[:, 0]
        tile_in = 0.8  # a tile's side in inches at the figure's nominal size
        px = shape[1] / tile_in  # mosaic pixels per inch
        gap_x = round((1.08 - tile_in) * px)
        line = 0.15 * px  # one 8 pt line, in mosaic pixels
        head = round(line * name_lines + 0.1 * px)  # room above the optimized row for each unit's label
        gap_y = round(line + 0.12 * px)  # room above each top-digit row for its number
        rows_y = [head] + [head + shape[0] + gap_y + j * (shape[0] + gap_y) for j in range(k)]
        mosaic_h = rows_y[-1] + shape[0]
        mosaic_w = columns * shape[1] + (columns - 1) * gap_x
        for block, ax in enumerate(axes):
            mosaic = np.full((mosaic_h, mosaic_w), np.nan)
            for c, i in enumerate(range(block * columns, min(n, (block + 1) * columns))):
                x = c * (shape[1] + gap_x)
                tiles = [images[i]] + [np.asarray(top_images[i][j], dtype=float) for j in range(k)]
                for y, tile in zip(rows_y, tiles):
                    mosaic[y : y + shape[0], x : x + shape[1]] = tile.reshape(shape)
                centre = x + shape[1] / 2 - 0.5
                ax.text(centre, rows_y[0] - 0.04 * px - 0.5, labels[i], fontsize=SMALL, ha="center", va="bottom")
                for j in range(k):
                    ax.text(centre, rows_y[1 + j] - 0.04 * px - 0.5, f"{top_activations[i][j]:.3g}", fontsize=SMALL,
                            ha="center", va="bottom")
            cmap = _gray_on_white()
            ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
            ax.set_xlim(-0.5, mosaic_w - 0.5)
            ax.set_ylim(mosaic_h - 0.5, -0.5)
            ax.axis("off")
            for y, label in zip(rows_y, ["optimized"] + [f"top {j + 1}" for j in range(k)]):
                ax.text(-0.08 * px, y + shape[0] / 2, label, fontsize=SMALL, ha="right", va="center", rotation=90)
    _title(fig, title, width)
    bound = notes is not None and any(notes)
    caption(fig, "The optimized image is the input in [0, 1] per pixel that drives the unit hardest; the number under "
            "its name is the activation it reaches" + (" and z the weighted sum plus bias (exact: the best possible, "
            "computed in closed form; at bound: provably within 0.01% of the best possible; x% < bound: at most x% "
            "short of it)" if bound else "") + ((". Right of it: " if n == 1 else ". Below it: ")
                                                 + "the real test digits that activate the unit most." if k else "."))
    return fig


def plot_edge_tuning(names, angles, angle_activations, shifts, shift_activations, stimuli, sources=None,
                     title: str | None = None, per_row: int | None = None):
    """Tuning curves of edge units: activation vs the stroke's rotation and vs its sideways shift.

    ``angles`` ``(a,)`` degrees and ``angle_activations`` ``(n_units, a)``; ``shifts`` ``(s,)`` pixels
    and ``shift_activations`` ``(n_units, s)``; ``stimuli`` ``(n_units, 784)`` the unrotated stroke.
    Each unit gets three panels (stimulus, rotation curve, shift curve), ``per_row`` units a row.
    """
    n = len(names)
    per_row = per_row or (1 if n == 1 else 2)
    rows = math.ceil(n / per_row)
    shared = sources is not None and len(set(sources)) == 1
    width = 4.9 * per_row + 0.3
    fig = _figure(width, 1.75 * rows + 1.0 + _title_height(title, width))
    # one Axes in inches for every unit's three panels (thumbnail, rotation curve, shift curve): text,
    # lines and 16 thumbnails, not 3 Axes a unit, which were most of the drawing time
    from matplotlib.patches import Rectangle

    ax = fig.subplots()
    cell_w, cell_h, label_w, thumb, panel_w, panel_h, gap, between = 4.9, 1.75, 0.9, 0.95, 1.2, 1.05, 0.32, 0.3
    top = 0.3  # room for the column titles
    panels = ((angles, angle_activations, HAND, [-90, 0, 90]),
              (shifts, shift_activations, LEARNED, _ticks(np.asarray(shifts, dtype=float))))
    for i in range(n):
        r, c = divmod(i, per_row)
        x0, y0 = c * cell_w + label_w, top + r * cell_h
        ax.imshow(np.asarray(stimuli[i]).reshape(28, 28), cmap="gray", vmin=0, vmax=1, interpolation="nearest",
                  extent=(x0, x0 + thumb, y0 + thumb, y0))
        label = wrap_name(names[i], 11) + (f"\n({sources[i]})" if sources is not None and not shared else "")
        ax.text(x0 - 0.08, y0 + thumb / 2, label, fontsize=SMALL, ha="right", va="center")
        bottom_row = i + per_row >= n
        for k, (x, y, colour, ticks) in enumerate(panels):
            px = x0 + thumb + gap + k * (panel_w + between)
            x = np.asarray(x, dtype=float)
            lo, hi = float(x.min()), float(x.max())

            def to_x(v, px=px, lo=lo, hi=hi):
                return px + (np.asarray(v, dtype=float) - lo) / max(hi - lo, 1e-12) * panel_w

            def to_y(v, y0=y0):
                return y0 + panel_h - (np.asarray(v, dtype=float) + 0.03) / 1.06 * panel_h

            ax.add_patch(Rectangle((px, y0), panel_w, panel_h, fill=False, edgecolor="black", linewidth=0.8))
            if lo <= 0 <= hi:
                ax.plot([to_x(0)] * 2, [y0, y0 + panel_h], color="0.7", lw=0.6)
            ax.plot(to_x(x), to_y(np.asarray(y[i], dtype=float)), color=colour)
            for t in ticks:  # x ticks; labelled on the last row of each column
                ax.plot([to_x(t)] * 2, [y0 + panel_h, y0 + panel_h + 0.04], color="black", lw=0.6)
                if bottom_row:
                    ax.text(to_x(t), y0 + panel_h + 0.06, f"{t:g}", fontsize=SMALL, ha="center", va="top")
            for t in (0, 0.5, 1):  # y ticks; labelled on the first panel of each row's first unit
                ax.plot([px - 0.04, px], [to_y(t)] * 2, color="black", lw=0.6)
                if k == 0 and c == 0:
                    ax.text(px - 0.06, to_y(t), f"{t:g}", fontsize=SMALL, ha="right", va="center")
            if r == 0:
                ax.text(px + panel_w / 2, y0 - 0.08, ("rotated by (degrees)", "shifted across (pixels)")[k],
                        fontsize=SMALL, ha="center", va="bottom")
    ax.set_xlim(0, (per_row - 1) * cell_w + label_w + thumb + gap + 2 * panel_w + between + 0.15)
    ax.set_ylim(top + rows * cell_h - 0.3, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    _title(fig, title, width)
    caption(fig, "Left: the unit's own stroke" + (f" ({sources[0]})" if shared else "") + ". Middle: its activation (0 "
            "to 1) as that stroke is turned about its centre; right: as it is moved sideways. A single sharp peak at "
            "0 means the unit detects that stroke at that angle and place; a flat curve means it does not care.")
    return fig


def _ticks(values: np.ndarray) -> list:
    """Three round ticks across ``values``: the ends rounded inwards and 0 when it is inside."""
    lo, hi = math.ceil(values.min()), math.floor(values.max())
    return sorted({lo, hi} | ({0} if lo < 0 < hi else set()))


def _part_label(label: str) -> str:
    """``tuning_curves``' condition labels, short enough for a panel: a verb, then the edge's name wrapped."""
    for prefix, short in (("without ", "without"), ("plus ", "plus")):
        if label.startswith(prefix):
            return f"{short}\n{wrap_name(label[len(prefix):].removesuffix(' (-)'), 11)}"
    return "all its\nedges" if label == "all its edges" else wrap_name(label, 11)


FULL_FRAME, DROP_FRAME, KEPT_FRAME = HAND, LEARNED, "0.7"


def plot_part_tuning(names, labels, activations, stimuli, title: str | None = None):
    """Part units, one row each: the stimulus with all its edges, then with each edge removed (or an
    inhibiting edge added), each with the unit's activation. ``labels[i]`` and ``activations[i]``
    ``(c,)`` per unit, ``stimuli[i]`` ``(c, 784)``. The first panel has a blue frame; a panel whose
    activation falls below half of the first's has a thick orange frame (the unit needs that edge,
    or is switched off by the added one); the legend says so."""
    from matplotlib.patches import Patch

    n = len(names)
    c_max = max(len(l) for l in labels)
    lines = max(_part_label(l).count("\n") + 1 for ls in labels for l in ls)
    width = max(5.6, 1.0 * c_max + 1.6)
    fig = _figure(width, (0.95 + 0.14 * lines) * n + 1.4 + _title_height(title, width))
    # one mosaic: a row per unit, a tile per stimulus (one Axes, not n x c_max)
    tiles, tile_labels, corners, styles = [], [], [], []
    blank = np.zeros((28, 28, 4))
    for i in range(n):
        full = float(activations[i][0])
        for j in range(c_max):
            if j >= len(labels[i]):
                tiles.append(blank)
                tile_labels.append("")
                corners.append(None)
                styles.append(None)
                continue
            grey = np.clip(np.asarray(stimuli[i][j], dtype=float).reshape(28, 28), 0, 1)
            tiles.append(np.concatenate([np.repeat(grey[..., None], 3, axis=-1), np.ones((28, 28, 1))], axis=-1))
            a = float(activations[i][j])
            tile_labels.append(_part_label(labels[i][j]))
            corners.append(f"{a:.2f}")
            styles.append((FULL_FRAME, 2.5) if j == 0 else (DROP_FRAME, 3.0) if a < full / 2 else (KEPT_FRAME, 1.0))
    unit_names = [wrap_name(name, 11) for name in names]
    tile_grid(fig.subplots(), tiles, tile_labels, c_max, cell=(1.0, 0.95 + 0.14 * lines), tile_in=0.75,
              frame_styles=styles, corner_texts=corners, row_labels=unit_names, row_label_size=SMALL, row_margin=0.9)
    # the caption rides in the legend's title: constrained layout stacks figure legends but not a supxlabel
    explanation = ("Each row is one unit, shown the strokes of the edges it reads (number: its activation). "
                   "'without X' removes one edge: an orange frame means the unit needs it. 'plus X' adds an edge the "
                   "unit reads with a negative weight: an orange frame there means that edge switches the unit off, "
                   "as intended.")
    fig.legend(handles=[Patch(facecolor="white", edgecolor=FULL_FRAME, linewidth=2.5, label="all its edges"),
                        Patch(facecolor="white", edgecolor=DROP_FRAME, linewidth=3, label="activation falls below half"),
                        Patch(facecolor="white", edgecolor=KEPT_FRAME, label="activation stays above half")],
               loc="outside lower center", ncols=3, fontsize=SMALL, frameon=False,
               title=wrap(explanation, width - 0.3, SMALL), title_fontsize=SMALL)
    _title(fig, title, width)
    return fig


def plot_digits(images, titles, wrong=None, ncols: int = 10, title: str | None = None, note: str | None = None):
    """A grid of digit images ``(n, 784)`` in [0, 1] with a title each; ``wrong`` (n,) bool marks
    panels with a thick frame and red title (e.g. misclassified). ``note`` is a caption under it."""
    images = np.atleast_2d(np.asarray(images, dtype=float))
    n = len(images)
    rows, cols = _grid(n, min(ncols, n))
    width = max(4.2, 1.05 * cols + 0.3)
    title_lines = wrap(title, width - 0.2, TITLE).count("\n") + 1 if title else 0
    fig = _figure(width, 1.2 * rows + 0.25 * title_lines + 0.15 + (0.4 if note else 0))
    ax = fig.subplots()
    labels = [str(t) for t in titles]
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    bad = [wrong is not None and bool(wrong[i]) for i in range(n)]
    grey = np.repeat(np.clip(images.reshape(n, 28, 28), 0, 1)[..., None], 3, axis=-1)
    tile_grid(ax, grey, labels, cols, cell=(1.05, 0.95 + 0.15 * lines), tile_in=0.8,
              label_colors=["#c01818" if b else "black" for b in bad], frames=bad)
    _title(fig, title, width)
    if note:
        caption(fig, note)
    return fig


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
    width = 0.6 * per_digit + 0.6
    title = wrap(title, width - 0.2, TITLE) if title else None
    title_lines = title.count("\n") + 1 if title else 0
    height = 6.4 + 0.25 * title_lines
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(10, per_digit, squeeze=False, gridspec_kw={"wspace": 0.05, "hspace": 0.05})
    for digit, row in enumerate(axes):
        for column, ax in enumerate(row):
            _hide(ax)
            for spine in ax.spines.values():
                spine.set_visible(False)
            if column < len(chosen[digit]):
                ax.imshow(images[chosen[digit][column]], cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
            else:
                ax.set_facecolor("white")
        row[0].set_ylabel(str(digit), rotation=0, fontsize=12, labelpad=12, va="center")
        if len(chosen[digit]) == 0:
            row[0].text(0.5, 0.5, "none", transform=row[0].transAxes, ha="center", va="center", fontsize=SMALL)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.02, top=1 - (0.1 + 0.25 * title_lines) / height)
    if title:
        fig.suptitle(title, fontsize=TITLE)
    return fig


def plot_network_diagram(image, activations, weights, names, layer_names=None, predicted: int | None = None,
                         top_k: int = 3, palette: str = "lesson", title: str | None = None,
                         highlight: tuple[int, int] | None = None):
    """The lesson's lit-up network for one input image.

    ``image`` is ``(784,)`` in [0, 1], drawn as the input layer; ``activations`` lists each layer's
    activations (e.g. ``(16,), (16,), (10,)``), drawn as circles shaded from black (0) to white (1);
    ``weights`` lists each layer's ``(out, in)`` weights; for every unit its ``top_k`` strongest
    incoming connections are drawn, coloured by sign and with width and opacity by strength (the
    pixel ones end at their pixel). ``names`` lists each layer's unit names; ``predicted`` (an
    output index) is ringed and labelled. ``highlight`` ``(layer, unit)`` (indexes into
    ``activations``) draws that unit's paths in full and fades the rest: the inputs that carried it
    on this image (largest weight x activation) and its connection to every unit of the layer above.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle

    negative, positive = sign_colours(palette)
    n_layers = len(activations)
    gap = 3.4  # between layers, room for the unit names on the left of each
    first = 7.7
    right = first + gap * (n_layers - 1) + 2.2
    extra_lines = title.count("\n") if title else 0  # a second title line (a highlighted unit) needs room
    fig = _figure(0.62 * right + 0.4, 8.3 + 0.45 * extra_lines)
    ax = fig.subplots()
    ax.set_xlim(-0.2, right)
    ax.set_ylim(-0.9, 10.8)
    ax.set_aspect("equal")
    ax.axis("off")
    # the input: the digit itself, pixels as the 784 input neurons
    size = 4.6
    left, bottom = 0.0, 5.0 - size / 2
    ax.imshow(np.asarray(image, dtype=float).reshape(28, 28), cmap="gray", vmin=0, vmax=1,
              extent=(left, left + size, bottom, bottom + size), interpolation="nearest", zorder=2.5)
    pixel_xy = np.array([(left + (c + 0.5) * size / 28, bottom + size - (r + 0.5) * size / 28)
                         for r in range(28) for c in range(28)])
    ax.text(left + size / 2, bottom - 0.3, f"{len(image)} input pixels", ha="center", va="top", fontsize=LABEL)
    positions = [pixel_xy]
    for li, acts in enumerate(activations):
        n = len(acts)
        x = first + gap * li
        ys = np.linspace(10.0, 0.0, n) if n > 1 else np.array([5.0])
        if n <= 10:
            ys = 5.0 + (ys - 5.0) * (n / 16 + 0.3)
        positions.append(np.stack([np.full(n, x), ys], axis=1))
    radius = 0.24
    hl, hj = highlight if highlight is not None else (None, None)
    for li, W in enumerate(weights):
        W = np.asarray(W, dtype=float)
        source, target = positions[li], positions[li + 1]
        scale = np.max(np.abs(W)) or 1.0
        below = np.asarray(image if li == 0 else activations[li - 1], dtype=float).reshape(-1)
        segments, colors, widths = [], [], []
        for j in range(W.shape[0]):
            chosen = list(np.argsort(-np.abs(W[j]), kind="stable")[:top_k])
            if li == hl and j == hj:  # the inputs that carried the highlighted unit on this image
                carried = np.abs(W[j] * below)
                chosen = [i for i in np.argsort(-carried, kind="stable")[: max(top_k, 8)] if carried[i] > 0]
            elif hl is not None and li == hl + 1 and hj not in chosen and W[j, hj] != 0:  # its paths above
                chosen.append(hj)
            for i in chosen:
                if W[j, i] == 0:  # no connection: nothing to draw (a zero would show as a faint negative line)
                    continue
                strength = abs(W[j, i]) / scale
                start = source[i] + (np.array([radius, 0]) if li > 0 else 0)
                segments.append([start, target[j] - np.array([radius, 0])])
                on_path = hl is None or (li == hl and j == hj) or (li == hl + 1 and i == hj)
                alpha = (0.3 + 0.65 * strength) if hl is None else (0.45 + 0.55 * strength if on_path else 0.07)
                colors.append(np.array(_hex_rgb(positive if W[j, i] > 0 else negative) + (alpha,)))
                widths.append(0.5 + 2.0 * strength + (1.0 if hl is not None and on_path else 0.0))
        # pixel connections pass under the image, so they seem to leave it at its edge
        ax.add_collection(LineCollection(segments, colors=colors, linewidths=widths, zorder=2 if li else 1))
    for li, acts in enumerate(activations):
        xy = positions[li + 1]
        last = li == n_layers - 1
        for j, a in enumerate(acts):
            a = float(np.clip(a, 0, 1))
            chosen = last and predicted == j
            chosen_unit = li == hl and j == hj
            edge = "#00838f" if chosen_unit else ("black" if chosen else "0.55")
            ax.add_patch(Circle(xy[j], radius, facecolor=(a, a, a), edgecolor=edge,
                                linewidth=3.0 if edge != "0.55" else 0.8, zorder=3))
            label = str(names[li][j]) if names is not None else str(j)
            if chosen_unit and not last:
                ax.text(xy[j][0] - radius - 0.1, xy[j][1], f"{label} {a:.2f}", ha="right", va="center",
                        fontsize=SMALL, fontweight="bold", color="#00838f", zorder=4,
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.3})
                continue
            if last:
                ax.text(xy[j][0] + radius + 0.12, xy[j][1], f"{label}  {a:.2f}", ha="left", va="center",
                        fontsize=LABEL, fontweight="bold" if chosen else "normal", zorder=4)
            elif not label.isdigit():
                ax.text(xy[j][0] - radius - 0.1, xy[j][1], label, ha="right", va="center", fontsize=SMALL, zorder=4,
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.3})
        header = layer_names[li] if layer_names is not None else f"layer {li + 1}"
        ax.text(xy[0][0], 10.55, f"{header} ({len(acts)})", ha="center", fontsize=LABEL)
    if predicted is not None:
        ax.text(positions[-1][0][0], -0.75, f"prediction: {names[-1][predicted] if names else predicted}",
                ha="center", fontsize=LABEL, fontweight="bold", color="black")
    ax.legend(handles=[Line2D([], [], color=positive, lw=2.5, label="positive weight"),
                       Line2D([], [], color=negative, lw=2.5, label="negative weight")],
              loc="lower left", fontsize=SMALL, frameon=False)
    if title:
        ax.set_title(wrap(title, fig.get_figwidth() - 0.4, TITLE), fontsize=TITLE)
    caption(fig, f"Each circle is a neuron, shaded by its activation (black 0, white 1); each line is one of a neuron's "
            f"{top_k} strongest incoming weights, thicker when stronger. The output with the brightest circle (ringed) "
            "is the network's answer.")
    return fig


def _hex_rgb(color: str):
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) / 255 for i in (0, 2, 4))


def plot_wrong_fires(rows, row_labels, tile_labels, title: str, note: str | None = None, columns: int = 12):
    """Rows of digit thumbnails in one mosaic image (one Axes, one ``imshow``): ``rows`` is a list of
    image arrays ``(k_i, 784)`` or ``(k_i, 28, 28)`` in [0, 1] or uint8, at most ``columns`` each;
    ``row_labels`` name the rows on the left and ``tile_labels`` (a list of strings per row) are
    written in each thumbnail's top-left corner. An empty row reads "(none)"."""
    n_rows = max(1, len(rows))
    columns = max(1, min(columns, max((len(r) for r in rows), default=1)))
    side, gap = 28, 2
    canvas = np.full((n_rows * (side + gap) + gap, columns * (side + gap) + gap, 3), 0.35)
    for r, images in enumerate(rows):
        images = np.asarray(images)
        scale = 255.0 if images.dtype == np.uint8 else 1.0
        for c, image in enumerate(images[:columns]):
            top, left = gap + r * (side + gap), gap + c * (side + gap)
            grey = np.clip(np.asarray(image, dtype=float).reshape(side, side) / scale, 0, 1)  # ink bright on black
            canvas[top:top + side, left:left + side] = grey[..., None]
    tile = 0.62  # inches a thumbnail takes: its 8-pt corner label stays inside it
    label_width = 0.09 * max((len(str(s)) for s in row_labels), default=4) + 0.3
    width = max(5.0, columns * tile + label_width + 0.4)
    title_text = wrap(title, width - 0.2, TITLE)
    note_text = wrap(note, width - 0.2, SMALL) if note else ""
    height = n_rows * tile + 0.25 * (title_text.count("\n") + 1) + 0.16 * (note_text.count("\n") + 1) + 0.45
    fig = _figure(width, height)
    ax = fig.subplots()
    ax.imshow(canvas, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([gap + r * (side + gap) + side / 2 for r in range(len(rows))], [str(s) for s in row_labels],
                  fontsize=SMALL)
    ax.tick_params(length=0)
    if not len(rows):
        ax.text(canvas.shape[1] / 2, canvas.shape[0] / 2, "(none)", color="white", fontsize=SMALL, ha="center",
                va="center")
    for r, labels in enumerate(tile_labels):
        if not len(rows[r]):
            ax.text(gap + 2, gap + r * (side + gap) + side / 2, "(none)", color="white", fontsize=SMALL, va="center")
        for c, text in enumerate(list(labels)[:columns]):
            ax.text(gap + c * (side + gap) + 1, gap + r * (side + gap) + 1, str(text), color="#ffd54a",
                    fontsize=SMALL, ha="left", va="top")
    fig.suptitle(title_text, fontsize=TITLE)
    if note_text:
        fig.supxlabel(note_text, fontsize=SMALL, color="0.25")
    return fig


def wrong_fires_figure(table, images, per_row: int = 12):
    """The test digits each unit of a ``handnet.inside.selectivity.Selectivity`` wrongly fires on (for a
    unit that names no digits: every digit it fires on) as one mosaic (``plot_wrong_fires``): for one
    unit a row per digit, for several a row per unit. ``images`` are the dataset's ``(n, 28, 28)``."""
    rows, labels, tiles = [], [], []
    single = len(table.units) == 1
    for u in table.units:
        groups = table.examples(u.unit, per_digit=per_row, wrong_only=u.named is not None)
        if single:
            for digit, index, acts in groups:
                rows.append(images[index])
                labels.append(f"{digit}: fires on {100 * u.rates[digit]:.0f}% of {u.counts[digit]}")
                tiles.append([f"{a:.2f}" for a in acts])
        else:
            picked = sorted(((a, d, i) for d, index, acts in groups for i, a in zip(index, acts)),
                            key=lambda t: -t[0])[:per_row]
            rows.append(images[[i for _, _, i in picked]] if picked else images[:0])
            labels.append(u.unit if u.named is not None else f"{u.unit} (any digit)")
            tiles.append([str(d) for _, d, _ in picked])
    if single:
        u = table.units[0]
        if u.named is not None:
            title = (f"{u.unit}: the test digits it fires on although its spec does not name them (meant for "
                     f"{', '.join(map(str, u.named)) or 'no digit'})")
            first = "Each row is one digit the unit is not meant for"
        else:
            title = f"{u.unit} names no digits (no doc or digits field), so none is wrong: the digits it fires on"
            first = "Each row is one digit"
        note_text = (f"{first}: the share of that digit's test images with activation > {table.threshold:g}, then "
                     f"up to {per_row} of them, strongest first (the activation in each corner). "
                     + ("An empty figure: it fires on no digit it is not meant for. " if not rows else "")
                     + f"Data: {table.data}.")
    else:
        title = "the test digits each unit fires on although its spec does not name them"
        note_text = (f"Each row is one unit: up to {per_row} test images of digits it is not meant for on which its "
                     f"activation is above {table.threshold:g}, strongest first, each with its true digit in the "
                     "corner ('any digit': the unit names none, so these are the images it fires on most). "
                     f"An empty row: it fired on none. Data: {table.data}.")
    return plot_wrong_fires(rows, labels, tiles, title, note_text, columns=per_row)
