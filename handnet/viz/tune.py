"""Figures for the tuning loop: arrays in, matplotlib Figures out (saving happens at the edge).

Weight pictures use ``handnet.viz.plots``'s colour scale, the lesson's: green for positive weights,
red for negative, brightness for magnitude, near-zero weights dark.
"""

from __future__ import annotations

import numpy as np

from handnet.nn.evaluate import DIGITS
from handnet.viz.style import (
    DPI, HAND, LABEL, LEARNED, NEUTRAL, SMALL, TITLE, caption, figure, sign_colours, sign_legend, weight_cmap,
    weight_norm, wrap,
)



def _figure(width: float, height: float, layout: str | None = None):
    return figure(width, height, layout=layout)


def _show_weights(ax, weights, scale, title, palette: str = "lesson"):
    """Weights on the lesson's scale (``handnet.viz.style``: green +, magenta - by default, on black),
    symmetric to ``scale`` (default: the largest absolute weight)."""
    ax.imshow(weights, cmap=weight_cmap(palette), norm=weight_norm(weights, vmax=scale), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=SMALL)


def plot_weight_changes(before: np.ndarray, after: np.ndarray, names, biases=None, palette: str = "lesson"):
    """One row per unit: its weight grid before, after, and the difference (after - before).

    ``before``/``after`` ``(n_units, 28, 28)`` float; ``names`` one label per unit; ``biases`` an
    optional list of ``(before, after)`` pairs shown in the titles. A missing side (a unit added or
    removed) may be all-NaN and is drawn blank.
    """
    n = len(names)
    fig = _figure(6.0, 2.1 * max(n, 1) + 0.9, "constrained")
    axes = fig.subplots(max(n, 1), 3, squeeze=False)
    for i, name in enumerate(names):
        b, a = np.nan_to_num(before[i]), np.nan_to_num(after[i])
        scale = max(float(np.abs(b).max()), float(np.abs(a).max()), 1e-12)
        d = a - b
        bias = biases[i] if biases is not None else None
        titles = [
            f"{name} before" + (f"\nbias {bias[0]:.2f}" if bias and bias[0] is not None else ""),
            "after" + (f"\nbias {bias[1]:.2f}" if bias and bias[1] is not None else ""),
            f"difference\nmax |Δ| {np.abs(d).max():.3g}",
        ]
        for j, (img, t) in enumerate(zip((before[i], after[i], d), titles)):
            if np.all(np.isnan(img)):
                axes[i, j].set_axis_off()
                axes[i, j].set_title(t + " (none)", fontsize=SMALL)
                continue
            # the difference gets its own scale so small edits stay visible
            _show_weights(axes[i, j], np.nan_to_num(img), scale if j < 2 else max(np.abs(d).max(), 1e-12), t, palette)
    if n == 0:
        axes[0, 0].text(0.5, 0.5, "no unit changed", ha="center", va="center", fontsize=LABEL)
        for ax in axes[0]:
            ax.set_axis_off()
    fig.suptitle("what changed: each unit's weights before, after, and after minus before", fontsize=TITLE)
    caption(fig, f"Weights: {sign_legend(palette)}, black near 0. Before and after share one scale; the difference has "
            "its own, so a small edit still shows.")
    return fig


def plot_unit(weights: np.ndarray, name: str, bias: float | None = None, maximizing: np.ndarray | None = None,
              palette: str = "lesson"):
    """One unit's weight grid ``(28, 28)`` and, when given, the input ``(28, 28)`` in [0, 1] that
    excites it most."""
    panels = 2 if maximizing is not None else 1
    fig = _figure(2.6 * panels, 3.1)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    scale = float(np.max(np.abs(weights)))
    title = f"{name}\nmax |w| {scale:.3g}" + (f", bias {bias:.2f}" if bias is not None else "")
    _show_weights(axes[0], weights, None, title, palette)
    axes[0].set_xlabel(sign_legend(palette), fontsize=SMALL)
    if maximizing is not None:
        axes[1].imshow(maximizing, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[1].set_xticks([])
        axes[1].set_yticks([])
        axes[1].set_title("input it responds to most", fontsize=SMALL)
    fig.tight_layout()
    return fig


def plot_readout(weights: np.ndarray, inputs, name: str, bias: float | None = None,
                 maximizing: np.ndarray | None = None, palette: str = "lesson"):
    """A unit that reads named units (a part or a digit): its incoming weights ``(n_inputs,)`` as
    bars over the input names and, when given, the input ``(28, 28)`` in [0, 1] that excites it most."""
    weights = np.asarray(weights, dtype=float)
    bars = max(3.0, 0.32 * len(inputs) + 1.2)
    fig = _figure(bars + (2.6 if maximizing is not None else 0), 3.6)
    # a fixed layout: the layout engines cost more than drawing, and watch redraws often
    grid = fig.add_gridspec(1, 2 if maximizing is not None else 1,
                            width_ratios=[bars, 2.6] if maximizing is not None else [1],
                            left=0.9 / fig.get_figwidth(), right=0.98, bottom=0.4, top=0.86, wspace=0.15)
    ax = fig.add_subplot(grid[0, 0])
    negative, positive = sign_colours(palette)
    ax.bar(range(len(weights)), weights, color=[positive if w >= 0 else negative for w in weights],
           edgecolor="0.3", linewidth=0.5)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(range(len(inputs)))
    ax.set_xticklabels(inputs, rotation=90, fontsize=SMALL)
    ax.tick_params(axis="y", labelsize=SMALL)
    ax.set_ylabel("weight", fontsize=SMALL)
    ax.set_title(f"{name}" + (f"  (bias {bias:.2f})" if bias is not None else "") + f"\nincoming weights: "
                 f"{sign_legend(palette)}", fontsize=SMALL)
    if maximizing is not None:
        ax = fig.add_subplot(grid[0, 1])
        ax.imshow(maximizing, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("input it responds to most", fontsize=SMALL)
    return fig


def plot_gallery(images: np.ndarray, captions, title: str = "", columns: int = 10, note: str | None = None):
    """Thumbnails ``(n, 28, 28)`` (uint8 or float in [0, 1]) with one caption each
    (``handnet.viz.plots.plot_digits``); a small "none" figure when there are none, so a stale
    gallery from an earlier run never stays in place."""
    from handnet.viz.plots import plot_digits

    images = np.asarray(images)
    if len(images) == 0:
        text = wrap(f"{title}\n(none)" if title else "none", 5.6, LABEL)
        fig = _figure(6.0, 0.5 + 0.22 * (text.count("\n") + 1))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=LABEL)
        return fig
    scaled = images.reshape(len(images), -1).astype(float) / (255.0 if images.dtype == np.uint8 else 1.0)
    return plot_digits(scaled, captions, ncols=columns, title=title or None, note=note)


def plot_accuracy_pair(per_digit_a: dict, per_digit_b: dict, overall: tuple[float, float], labels=("A", "B")):
    """Accuracy per digit of two networks side by side, overall accuracy in the title."""
    fig = _figure(6.8, 3.6, "constrained")
    ax = fig.subplots()
    x = np.arange(10)
    a = [per_digit_a.get(d, np.nan) * 100 for d in DIGITS]
    b = [per_digit_b.get(d, np.nan) * 100 for d in DIGITS]
    ax.bar(x - 0.2, a, width=0.4, label=f"{labels[0]} ({overall[0]:.1%})", color=NEUTRAL)
    ax.bar(x + 0.2, b, width=0.4, label=f"{labels[1]} ({overall[1]:.1%})", color=HAND)
    ax.axhline(10, color="black", ls="--", lw=0.8, label="guessing (10%)")
    ax.set_xticks(x)
    ax.set_xlabel("digit", fontsize=LABEL)
    ax.set_ylabel("accuracy (%)", fontsize=LABEL)
    ax.tick_params(labelsize=SMALL)
    ax.set_ylim(0, 100)
    ax.set_title(f"accuracy per digit: {labels[0]} against {labels[1]}", fontsize=TITLE)
    ax.legend(fontsize=SMALL, loc="lower right")
    return fig


def plot_sweep(values: np.ndarray, overall: np.ndarray, per_digit: np.ndarray, current: float | None, label: str):
    """Accuracy against one swept spec value: ``overall`` ``(n_values,)`` and ``per_digit``
    ``(n_values, 10)`` fractions (NaN for an absent digit or a value that did not compile); a dashed
    line marks the spec's current value."""
    import matplotlib

    fig = _figure(7.4, 4.4, "constrained")
    ax = fig.subplots()
    cmap = matplotlib.colormaps["tab10"]
    for d in range(10):
        if np.all(np.isnan(per_digit[:, d])):  # a digit not scored (or absent): no line, no legend entry
            continue
        ax.plot(values, per_digit[:, d] * 100, color=cmap(d), lw=1, alpha=0.8, marker=".", label=str(d))
    ax.plot(values, overall * 100, color="black", lw=2.5, marker="o", label="all")
    if current is not None:
        ax.axvline(current, color="black", ls="--", lw=1)
        ax.annotate("current", (current, 1), xycoords=("data", "axes fraction"), fontsize=SMALL,
                    ha="left", va="top", xytext=(3, -3), textcoords="offset points")
    ax.set_xlabel(label, fontsize=LABEL)
    ax.set_ylabel("accuracy (%)", fontsize=LABEL)
    ax.tick_params(labelsize=SMALL)
    ax.set_title(f"accuracy as {label} changes (thick: all digits)", fontsize=TITLE)
    ax.legend(fontsize=SMALL, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5), title="digit",
              title_fontsize=SMALL)
    return fig


def plot_error_group(images: np.ndarray, units, group: np.ndarray, correct: np.ndarray, contributions: np.ndarray,
                     title: str, contribution_units=None):
    """One group of mistakes: some of its digits ``(k, 28, 28)``, each hidden unit's mean activation
    over the group vs over correct digits of the true class ``(n_units,)``, and each last-hidden
    unit's push towards the wrong answer ``(n_last,)``."""
    from matplotlib.patches import Patch

    def short(names):
        return [str(u).split(":", 1)[-1] for u in names]

    fig = _figure(12.5, 4.6, "constrained")
    grid = fig.add_gridspec(2, 7, width_ratios=[1, 1, 1, 1, 0.2, 4, 4])
    for k in range(8):
        ax = fig.add_subplot(grid[k // 4, k % 4])
        ax.set_axis_off()
        if k < len(images):
            ax.imshow(images[k], cmap="gray", interpolation="nearest")
    x = np.arange(len(units))
    ax = fig.add_subplot(grid[:, 5])
    ax.bar(x - 0.2, group, width=0.4, color=LEARNED, label="these mistakes")
    ax.bar(x + 0.2, np.nan_to_num(correct), width=0.4, color=NEUTRAL, label="correct, same digit")
    ax.set_xticks(x)
    ax.set_xticklabels(short(units), rotation=90, fontsize=SMALL)
    ax.tick_params(axis="y", labelsize=SMALL)
    top = np.nanmax(np.concatenate([np.ravel(group), np.ravel(correct), [1.0]]))
    ax.set_ylim(0, top)
    ax.set_title("mean activation of each unit", fontsize=LABEL)
    ax.legend(fontsize=SMALL)
    cunits = contribution_units if contribution_units is not None else units
    ax = fig.add_subplot(grid[:, 6])
    ax.bar(np.arange(len(cunits)), contributions, color=[LEARNED if c > 0 else HAND for c in contributions])
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(np.arange(len(cunits)))
    ax.set_xticklabels(short(cunits), rotation=90, fontsize=SMALL)
    ax.tick_params(axis="y", labelsize=SMALL)
    ax.set_title(wrap("push towards the wrong answer (weight × activation, and the biases)", 3.2, LABEL),
                 fontsize=LABEL)
    ax.legend(handles=[Patch(color=LEARNED, label="towards the wrong answer"),
                       Patch(color=HAND, label="towards the right one")], fontsize=SMALL)
    fig.suptitle(title, fontsize=TITLE)
    return fig


def plot_readout_changes(before: np.ndarray, after: np.ndarray, inputs, names, biases=None):
    """Units that read named inputs (parts, digits): incoming weights before and after as bars.

    ``before``/``after`` ``(n_units, n_inputs)`` float (all-NaN rows for a missing side); ``inputs``
    names the ``n_inputs`` columns; ``names`` the units; ``biases`` optional ``(before, after)`` pairs.
    """
    n = len(names)
    fig = _figure(max(4.5, 0.3 * len(inputs) + 1.8), 3.0 * max(n, 1) + 0.4, "constrained")
    axes = fig.subplots(max(n, 1), 1, squeeze=False)[:, 0]
    x = np.arange(len(inputs))
    for i, name in enumerate(names):
        ax = axes[i]
        ax.bar(x - 0.2, np.nan_to_num(before[i]), width=0.4, color=NEUTRAL, label="before")
        ax.bar(x + 0.2, np.nan_to_num(after[i]), width=0.4, color=HAND, label="after")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks(x)
        ax.set_xticklabels(inputs, rotation=90, fontsize=SMALL)
        ax.tick_params(axis="y", labelsize=SMALL)
        bias = biases[i] if biases is not None else (None, None)
        shown = " -> ".join("none" if b is None else f"{b:.2f}" for b in bias) if bias != (None, None) else ""
        ax.set_title(f"{name}: incoming weights" + (f"   bias {shown}" if shown else ""), fontsize=LABEL)
        ax.legend(fontsize=SMALL)
    fig.suptitle("what changed: the weights each unit gives the units it reads", fontsize=TITLE)
    return fig


# ---- figures of a diff, and of watch's units ---------------------------------------------------
def changed_unit_figures(a, b, diff) -> dict:
    """Figures of the changed units, keyed by file stem: ``<layer>_changes`` per layer with changes.

    First-layer units show their 28x28 weight grids before, after and the difference; deeper units
    show their incoming weights before and after as bars over the names of the units they read.
    """
    from handnet.tune.diff import unit_row

    figures = {}
    for layer in dict.fromkeys(c.layer for c in diff.changes):
        changes = [c for c in diff.changes if c.layer == layer]
        rows_a = [unit_row(a, c.unit_a or c.unit) for c in changes]
        rows_b = [unit_row(b, c.unit) for c in changes]
        n_in = next(len(r) for r in rows_a + rows_b if r is not None)
        if any(r is not None and len(r) != n_in for r in rows_a + rows_b):
            continue  # the layer's input size changed: nothing to overlay
        blank = np.full(n_in, np.nan)
        before = np.array([r if r is not None else blank for r in rows_a])
        after = np.array([r if r is not None else blank for r in rows_b])
        names = [c.unit for c in changes]
        li = b.layer_index(layer) if layer in b.layer_names else a.layer_index(layer)
        if li == 0:
            shape = (len(names),) + tuple(b.input_shape)
            figures[f"{layer}_changes"] = plot_weight_changes(
                before.reshape(shape), after.reshape(shape), names, [c.bias for c in changes]
            )
        else:
            net = b if layer in b.layer_names else a
            figures[f"{layer}_changes"] = plot_readout_changes(
                before, after, net.layers[li - 1].units, names, [c.bias for c in changes]
            )
    return figures


def version_figures(comparison, dataset, limit: int = 60) -> dict:
    """Figures of a ``tune.diff.VersionComparison`` keyed by file stem: ``<layer>_changes``,
    ``accuracy``, ``broke`` and ``fixed``; galleries show at most ``limit`` digits each."""
    ea, eb = comparison.eval_a, comparison.eval_b
    figures = changed_unit_figures(comparison.a, comparison.b, comparison.diff)
    figures["accuracy"] = plot_accuracy_pair(ea.per_digit, eb.per_digit, (ea.accuracy, eb.accuracy))
    for name, idx, title in (
        ("broke", comparison.flips.broke, "right in A, wrong in B"),
        ("fixed", comparison.flips.fixed, "wrong in A, right in B"),
    ):
        shown = idx[:limit]
        captions = [f"{ea.predictions[k]} → {eb.predictions[k]}" for k in shown]
        more = f" (first {limit} of {len(idx)})" if len(idx) > limit else ""
        where = shown if eb.index is None else eb.index[shown]  # flips index the scored digits
        figures[name] = plot_gallery(
            dataset.images[where], captions, f"{title}: {len(idx)} digits{more}",
            note="Above each digit: A's answer → B's.",
        )
    return figures


def render_units(net, refs, out, restarts: int = 1, maxiter: int = 30, screen: int = 8, progress=None) -> list:
    """Draw each unit's weight grid (first layer) or incoming weights (deeper), beside the input
    that excites it most, as ``out/<layer>_<unit>.png`` (atomic). Returns the paths written.

    This is ``handnet watch``'s renderer (``Watcher(render=render_units)``). The maximizing input is
    exact for first-layer units; deeper units get a short search (``screen`` screening starts, then
    ``maxiter`` L-BFGS-B steps from the best), a preview that keeps a save's pictures near a
    second; ``handnet render`` searches thoroughly. ``progress(1)`` is called after each unit."""
    from pathlib import Path

    from handnet.atomic import save_figure
    from handnet.inside.maximize import maximize
    from handnet.tune.watch import unit_filename

    paths = []
    for ref in refs:
        u = net.unit(ref)
        layer = net.layers[u.layer]
        best = maximize(net, u, restarts=restarts, maxiter=maxiter, screen=screen, screen_steps=50)
        best = best.image.reshape(net.input_shape)
        bias = float(layer.biases[u.index])
        if u.layer == 0:
            fig = plot_unit(layer.weights[u.index].reshape(net.input_shape), str(u), bias, best)
        else:
            fig = plot_readout(layer.weights[u.index], net.layers[u.layer - 1].units, str(u), bias, best)
        paths.append(save_figure(fig, Path(out) / unit_filename(str(u)), dpi=DPI))
        if progress is not None:
            progress(1)
    return paths


def plot_sweep_grid(values_a, values_b, overall, current=(None, None), paths=("a", "b"), data: str = "",
                    as_written: float | None = None, chance: float = 0.1):
    """A heat map of accuracy over every pair of two swept spec values: ``overall`` ``(n_a, n_b)``
    fractions (NaN where the pair did not compile: grey, marked x), rows ``values_a``, columns
    ``values_b``. The spec's current pair is framed in black, the best pair in white; with few
    enough cells each shows its accuracy."""
    import matplotlib
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    overall = np.asarray(overall, dtype=float)
    n_a, n_b = overall.shape
    cell = 0.55 if n_b <= 12 else max(0.18, 6.6 / n_b)
    width = max(5.6, n_b * cell + 2.6)
    title = wrap(f"accuracy (%) at every pair of {paths[0]} and {paths[1]}", width - 0.2, TITLE)
    def index(values, value):
        if value is None:
            return None
        hits = np.flatnonzero(np.isclose(values, value, rtol=0, atol=1e-9))
        return int(hits[0]) if hits.size else None
    here = (index(values_a, current[0]), index(values_b, current[1]))
    baseline = (f"the spec as written scores {100 * as_written:.1f}%, guessing {100 * chance:.0f}%"
                if as_written is not None else f"guessing scores {100 * chance:.0f}%")
    note = wrap(f"Each cell compiles the spec with both values set and scores it on {data or 'the test digits'}; "
                f"{baseline}. White frame: the best pair"
                + ("; black frame: the spec's own values" if None not in here else "")
                + ("; grey x: the spec rejects that pair." if np.isnan(overall).any() else "."), width - 0.2, SMALL)
    height = max(3.0, n_a * min(cell, 0.45) + 1.3 + 0.2 * title.count("\n") + 0.15 * note.count("\n"))
    fig = _figure(width, height, "constrained")
    ax = fig.subplots()
    shown = np.ma.masked_invalid(overall * 100)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#bdbdbd")
    finite = overall[np.isfinite(overall)] * 100
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 100.0)
    image = ax.imshow(shown, cmap=cmap, norm=Normalize(low, high if high > low else low + 1), aspect="auto",
                      interpolation="nearest", origin="lower")
    annotate = n_a <= 12 and n_b <= 12
    for i in range(n_a):
        for j in range(n_b):
            if np.isnan(overall[i, j]):
                ax.text(j, i, "x", ha="center", va="center", fontsize=SMALL, color="black")
            elif annotate:
                bright = (overall[i, j] * 100 - low) / max(high - low, 1e-9) > 0.6
                ax.text(j, i, f"{100 * overall[i, j]:.1f}", ha="center", va="center", fontsize=SMALL,
                        color="black" if bright else "white")
    if finite.size:
        bi, bj = np.unravel_index(int(np.nanargmax(overall)), overall.shape)
        ax.add_patch(Rectangle((bj - 0.5, bi - 0.5), 1, 1, fill=False, edgecolor="white", lw=2.5))
    if None not in here:
        ax.add_patch(Rectangle((here[1] - 0.45, here[0] - 0.45), 0.9, 0.9, fill=False, edgecolor="black", lw=2))
    step_b, step_a = max(1, int(np.ceil(n_b / 12))), max(1, int(np.ceil(n_a / 14)))
    ax.set_xticks(range(0, n_b, step_b), [f"{v:.3g}" for v in np.asarray(values_b)[::step_b]], fontsize=SMALL,
                  rotation=45 if n_b > 6 else 0)
    ax.set_yticks(range(0, n_a, step_a), [f"{v:.3g}" for v in np.asarray(values_a)[::step_a]], fontsize=SMALL)
    ax.set_xlabel(paths[1], fontsize=LABEL)
    ax.set_ylabel(paths[0], fontsize=LABEL)
    bar = fig.colorbar(image, ax=ax, shrink=0.85)
    bar.set_label("accuracy (%)", fontsize=LABEL)
    bar.ax.tick_params(labelsize=SMALL)
    ax.set_title(title, fontsize=TITLE)
    fig.supxlabel(note, fontsize=SMALL, color="0.25")
    return fig
