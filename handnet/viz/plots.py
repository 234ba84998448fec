"""Figures: arrays in, matplotlib Figure out (headless Agg; nothing here shows or saves).

Weights use the lesson's picture: green for positive, red for negative, on black, brightness
proportional to |w|, with one colour scale per figure, symmetric around 0 and shared by every
panel. ``palette="colorblind"`` swaps green/red for blue/orange, which stay distinct for
red-green colour blindness. Images of digits are drawn as MNIST stores them: bright ink on black.
"""

from __future__ import annotations

import math

import numpy as np

from handnet.viz.style import PALETTES, figure as _figure, weight_cmap, weight_norm  # noqa: F401  (PALETTES: re-exported)

def _grid(n, ncols=None):
    ncols = ncols or min(n, 8 if n > 16 else 4 if n > 4 else n)
    return max(1, math.ceil(n / ncols)), max(1, ncols)


def _hide(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def plot_weight_grid(weights, names, palette: str = "lesson", title: str | None = None, ncols=None,
                     shape=(28, 28), vmax=None, colorbar_label: str = "weight"):
    """Each unit's input weights as a ``shape`` image, one panel per unit.

    ``weights`` is ``(n_units, 784)``; ``names`` gives each panel's title. Every panel shares one
    colour scale, symmetric around 0, shown by one colour bar.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    n = len(weights)
    rows, cols = _grid(n, ncols)
    width = max(3.9, 1.55 * cols + 0.9)
    fig = _figure(width, 1.65 * rows + (0.35 if title else 0.1) + (0.25 if title and width < 5 else 0))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    cmap, norm = weight_cmap(palette), weight_norm(weights, vmax=vmax)
    image = None
    for ax, w, name in zip(axes, weights, names):
        image = ax.imshow(w.reshape(shape), cmap=cmap, norm=norm, interpolation="nearest")
        ax.set_title(str(name), fontsize=8)
        _hide(ax)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.colorbar(image, ax=axes.tolist(), shrink=0.8, label=colorbar_label)
    if title:
        fig.suptitle(_wrap(title, width), fontsize=10 if width >= 5 else 8.5)
    return fig


def _wrap(text: str, width_inches: float) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, max(30, int(width_inches * 13))))


def plot_strip(weights, unit_names, input_names, palette: str = "lesson", title: str | None = None, biases=None):
    """Deeper units' weights over the named units of the layer below: one labelled row per unit.

    ``weights`` is ``(n_units, n_inputs)``; columns are labelled with ``input_names``. ``biases``,
    if given, are printed at the end of each row.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    n_units, n_inputs = weights.shape
    fig = _figure(max(4.0, 0.42 * n_inputs + 2.6), max(1.6, 0.36 * n_units + 1.6))
    ax = fig.subplots()
    cmap, norm = weight_cmap(palette), weight_norm(weights)
    image = ax.imshow(weights, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(n_inputs), [str(s) for s in input_names], rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n_units), [str(s) for s in unit_names], fontsize=7)
    if biases is not None:
        for i, b in enumerate(np.atleast_1d(biases)):
            ax.text(n_inputs - 0.4, i, f" b={b:+.2g}", va="center", ha="left", fontsize=6, clip_on=False)
    ax.set_xlabel("unit in the layer below")
    fig.colorbar(image, ax=ax, shrink=0.9, label="weight", pad=0.12 if biases is not None else 0.02)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_maximizers(images, names, activations, top_images=None, top_activations=None, notes=None,
                    title: str | None = None, shape=(28, 28)):
    """Per unit, one column: its optimized image on top, then the real digits that most activate it.

    ``images`` is ``(n_units, 784)`` in [0, 1]; ``activations`` ``(n_units,)`` the activation each
    reaches; ``top_images`` ``(n_units, k, 784)`` and ``top_activations`` ``(n_units, k)`` are
    optional; ``notes`` adds a short line per unit (e.g. how close to the bound).
    """
    images = np.atleast_2d(np.asarray(images, dtype=float))
    n = len(images)
    k = 0 if top_images is None else np.asarray(top_images).shape[1]
    # one unit reads best as a row: optimized image, then its top digits
    across = n == 1
    width = 0.95 * (1 + k) + 0.7 if across else 0.95 * n + 0.7
    height = 1.9 if across else 1.0 * (1 + k) + 0.55
    fig = _figure(max(width, 3.0), height + (0.3 if title else 0))
    axes = fig.subplots(1, 1 + k, squeeze=False) if across else fig.subplots(1 + k, n, squeeze=False)

    def panel(i, j):
        return axes[0, j] if across else axes[j, i]

    for i in range(n):
        ax = panel(i, 0)
        ax.imshow(images[i].reshape(shape), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        label = f"{names[i]}\n{activations[i]:.3g}"
        if notes is not None and notes[i]:
            label += f"\n{notes[i]}"
        ax.set_title(label, fontsize=6.5)
        _hide(ax)
        for j in range(k):
            ax = panel(i, 1 + j)
            ax.imshow(np.asarray(top_images[i][j], dtype=float).reshape(shape), cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
            ax.set_title(f"top {j + 1}: {top_activations[i][j]:.3g}" if across else f"{top_activations[i][j]:.3g}",
                         fontsize=6)
            _hide(ax)
    panel(0, 0).set_ylabel("optimized" if not across else "", fontsize=7)
    if not across:
        for j in range(k):
            axes[1 + j, 0].set_ylabel(f"top {j + 1}", fontsize=7)
    if title:
        fig.suptitle(_wrap(title, max(width, 3.0)), fontsize=9)
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
    fig = _figure(4.4 * per_row, 1.45 * rows + 0.35 + (0.3 if title else 0))
    axes = fig.subplots(rows, 3 * per_row, squeeze=False, width_ratios=[0.6, 1, 1] * per_row)
    for i in range(rows * per_row):
        r, c = divmod(i, per_row)
        thumb, rot, shift = axes[r, 3 * c], axes[r, 3 * c + 1], axes[r, 3 * c + 2]
        if i >= n:
            for ax in (thumb, rot, shift):
                ax.set_visible(False)
            continue
        thumb.imshow(np.asarray(stimuli[i]).reshape(28, 28), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        _hide(thumb)
        thumb.set_title(str(names[i]) + (f"\n({sources[i]})" if sources is not None else ""), fontsize=6.5)
        for ax, x, y, color in ((rot, angles, angle_activations[i], "#2a9d4a"),
                                (shift, shifts, shift_activations[i], "#3a6dd8")):
            ax.plot(x, y, color=color)
            ax.axvline(0, color="0.7", lw=0.6)
            ax.set_ylim(-0.03, 1.03)
            ax.tick_params(labelsize=5.5)
        rot.set_xticks([-90, 0, 90])
        if r == 0:
            rot.set_title("rotated by (deg)", fontsize=7)
            shift.set_title("shifted across (px)", fontsize=7)
        if c > 0:
            rot.set_yticklabels([])
        shift.set_yticklabels([])
    axes[0, 1].set_ylabel("activation", fontsize=6.5)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def plot_part_tuning(names, labels, activations, stimuli, title: str | None = None):
    """Part units, one row each: the stimulus with all its edges, then with each edge removed (or an
    inhibiting edge added), titled with the unit's activation. ``labels[i]`` and ``activations[i]``
    ``(c,)`` per unit, ``stimuli[i]`` ``(c, 784)``. A panel's frame turns red as the activation drops
    below the full stimulus's."""
    n = len(names)
    c_max = max(len(l) for l in labels)
    fig = _figure(max(4.8, 0.95 * c_max + 1.3), 1.2 * n + 0.2 + (0.5 if title else 0))
    axes = fig.subplots(n, c_max, squeeze=False)
    for i in range(n):
        full = float(activations[i][0])
        for j in range(c_max):
            ax = axes[i, j]
            if j >= len(labels[i]):
                ax.set_visible(False)
                continue
            ax.imshow(np.asarray(stimuli[i][j]).reshape(28, 28), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            _hide(ax)
            a = float(activations[i][j])
            ax.set_title(f"{labels[i][j]}\n{a:.2f}", fontsize=5.5)
            drop = np.clip((full - a) / max(full, 1e-9), 0, 1) if j else 0.0
            color = (0.2 + 0.8 * drop, 0.75 * (1 - drop), 0.2) if j else (0.16, 0.62, 0.29)
            for spine in ax.spines.values():
                spine.set_edgecolor(color)
                spine.set_linewidth(2.2)
        axes[i, 0].set_ylabel(str(names[i]), fontsize=6.5, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def plot_digits(images, titles, wrong=None, ncols: int = 10, title: str | None = None):
    """A grid of digit images ``(n, 784)`` in [0, 1] with a title each; ``wrong`` (n,) bool marks
    panels in red (e.g. misclassified)."""
    images = np.atleast_2d(np.asarray(images, dtype=float))
    n = len(images)
    rows, cols = _grid(n, min(ncols, n))
    fig = _figure(1.05 * cols + 0.2, 1.2 * rows + (0.4 if title else 0.1))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        if i >= n:
            ax.set_visible(False)
            continue
        ax.imshow(images[i].reshape(28, 28), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        _hide(ax)
        bad = wrong is not None and bool(wrong[i])
        ax.set_title(str(titles[i]), fontsize=7, color="#d62020" if bad else "black")
        if bad:
            for spine in ax.spines.values():
                spine.set_edgecolor("#d62020")
                spine.set_linewidth(2)
    if title:
        fig.suptitle(title, fontsize=10)
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
    fig = Figure(figsize=(0.6 * per_digit + 0.6, 6.4 + (0.4 if title else 0)))
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
            row[0].text(0.5, 0.5, "none", transform=row[0].transAxes, ha="center", va="center", fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.02, top=0.94 if title else 0.98)
    if title:
        fig.suptitle(title, fontsize=10)
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
    from matplotlib.patches import Circle

    negative, positive = PALETTES[palette]
    n_layers = len(activations)
    fig = _figure(3.0 + 2.6 * n_layers, 6.4)
    ax = fig.subplots()
    ax.set_xlim(-0.2, 5.6 + 2.6 * n_layers)
    ax.set_ylim(-0.6, 10.6)
    ax.set_aspect("equal")
    ax.axis("off")
    # the input: the digit itself, pixels as the 784 input neurons
    size = 4.6
    left, bottom = 0.0, 5.0 - size / 2
    ax.imshow(np.asarray(image, dtype=float).reshape(28, 28), cmap="gray", vmin=0, vmax=1,
              extent=(left, left + size, bottom, bottom + size), interpolation="nearest", zorder=2.5)
    pixel_xy = np.array([(left + (c + 0.5) * size / 28, bottom + size - (r + 0.5) * size / 28)
                         for r in range(28) for c in range(28)])
    ax.text(left + size / 2, bottom - 0.45, "784 inputs", ha="center", fontsize=8)
    positions = [pixel_xy]
    for li, acts in enumerate(activations):
        n = len(acts)
        x = 6.8 + 2.6 * li
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
                alpha = (0.25 + 0.7 * strength) if hl is None else (0.45 + 0.55 * strength if on_path else 0.07)
                colors.append(np.array(_hex_rgb(positive if W[j, i] > 0 else negative) + (alpha,)))
                widths.append(0.4 + 2.0 * strength + (1.0 if hl is not None and on_path else 0.0))
        # pixel connections pass under the image, so they seem to leave it at its edge
        ax.add_collection(LineCollection(segments, colors=colors, linewidths=widths, zorder=2 if li else 1))
    for li, acts in enumerate(activations):
        xy = positions[li + 1]
        last = li == n_layers - 1
        for j, a in enumerate(acts):
            a = float(np.clip(a, 0, 1))
            chosen_unit = li == hl and j == hj
            edge = "#00bcd4" if chosen_unit else ("#ffd700" if last and predicted == j else "0.55")
            ax.add_patch(Circle(xy[j], radius, facecolor=(a, a, a), edgecolor=edge,
                                linewidth=2.5 if edge != "0.55" else 0.8, zorder=3))
            label = str(names[li][j]) if names is not None else str(j)
            side = 1 if last else -1
            if chosen_unit and not last:
                ax.text(xy[j][0] + radius + 0.08, xy[j][1] + 0.3, f"{label} {a:.2f}", ha="left", va="center",
                        fontsize=7, fontweight="bold", color="#007c8c", zorder=4,
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.5})
            elif last or not label.isdigit():
                ax.text(xy[j][0] + side * (radius + 0.08), xy[j][1] + (0 if last else 0.3), label,
                        ha="left" if last else "right", va="center", fontsize=7 if last else 5.5,
                        fontweight="bold" if last and predicted == j else "normal", zorder=4)
            if last:
                ax.text(xy[j][0] + radius + 0.55, xy[j][1], f"{a:.2f}", ha="left", va="center", fontsize=6, color="0.35")
        header = layer_names[li] if layer_names is not None else f"layer {li + 1}"
        ax.text(xy[0][0], 10.45, f"{header} ({len(acts)})", ha="center", fontsize=8)
    if predicted is not None:
        ax.text(positions[-1][0][0], -0.5, f"prediction: {names[-1][predicted] if names else predicted}",
                ha="center", fontsize=9, fontweight="bold", color="#b08c00")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _hex_rgb(color: str):
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) / 255 for i in (0, 2, 4))
