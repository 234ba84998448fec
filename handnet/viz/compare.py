"""Figures for the hand-vs-learned comparison: arrays in, matplotlib Figure out (never shown).

Weight pictures follow the lesson: green for positive weights, red for negative, brightness for
magnitude, so weights near zero are dark.
"""

from __future__ import annotations

import numpy as np

from handnet.viz.style import HAND, LEARNED, figure as _figure, weight_cmap, weight_norm  # noqa: F401  (HAND, LEARNED: re-exported)


def weight_rgb(weights, scale: float | None = None) -> np.ndarray:
    """A weight picture ``(28, 28)`` as RGB ``(28, 28, 3)`` in [0, 1], in ``plots``' colours (the
    lesson's green positive, red negative, dark near 0); ``scale`` is the magnitude shown at full
    brightness (default: the largest |weight|)."""
    w = np.asarray(weights, dtype=np.float64)
    return weight_cmap()(weight_norm(w, vmax=scale)(w))[..., :3]


def image_rgb(image) -> np.ndarray:
    """An image in [0, 1] ``(28, 28)`` as grey RGB ``(28, 28, 3)``: ink bright on black, as MNIST stores it."""
    return np.repeat(np.clip(np.asarray(image, dtype=np.float64), 0, 1)[..., None], 3, axis=2)


def mosaic(templates, columns: int, gap: int = 2, shape=(28, 28), scale: float | None = None, images: bool = False) -> np.ndarray:
    """Weight pictures ``(k, 784)`` tiled into one RGB image, ``columns`` across, ``gap`` px of grey between.

    Each picture is scaled by its own largest |weight| unless ``scale`` is given; with ``images``
    the rows are images in [0, 1] drawn in grey instead.
    """
    k = len(templates)
    rows = max(1, int(np.ceil(k / columns)))
    h, w = shape
    canvas = np.full((rows * (h + gap) + gap, columns * (w + gap) + gap, 3), 0.35)
    for n, t in enumerate(templates):
        r, c = divmod(n, columns)
        top, left = gap + r * (h + gap), gap + c * (w + gap)
        t = np.asarray(t).reshape(shape)
        canvas[top : top + h, left : left + w] = image_rgb(t) if images else weight_rgb(t, scale)
    return canvas


def _tiles(ax, templates, labels, columns, gap=2, label_size=7, label_below=False, images=False):
    """Draw a mosaic of weight pictures (or images) on ``ax`` with one label per tile (one imshow: fast)."""
    ax.imshow(mosaic(templates, columns, gap, images=images), interpolation="nearest")
    for n, label in enumerate(labels):
        r, c = divmod(n, columns)
        x = gap + c * (28 + gap) + 14
        y = gap + r * (28 + gap) + (29 if label_below else -0.5)
        ax.text(x, y, label, ha="center", va="top" if label_below else "bottom", fontsize=label_size, clip_on=False)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def plot_template_mosaic(templates, labels, title: str = "", columns: int = 8, images: bool = False):
    """One weight picture per row of ``templates`` (units, 784), labelled, in a grid (``images``: grey images in [0, 1])."""
    n = len(templates)
    columns = min(columns, max(n, 1))
    rows = max(1, int(np.ceil(n / columns)))
    fig = _figure(columns * 1.05 + 0.3, rows * 1.2 + 0.5)
    ax = fig.subplots()
    # a wide gap leaves room for each tile's label above it
    _tiles(ax, templates, labels, columns, gap=9, label_size=6.5, images=images)
    if title:
        ax.set_title(title, fontsize=9, pad=4)
    return fig


def plot_confusions(confusions, names):
    """Confusion matrices ``(10, 10)`` side by side (rows = true digit), one per network."""
    fig = _figure(4.2 * len(confusions), 3.9)
    axes = fig.subplots(1, len(confusions), squeeze=False)[0]
    for ax, conf, name in zip(axes, confusions, names):
        conf = np.asarray(conf)
        rates = conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)
        ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
        for (i, j), v in np.ndenumerate(conf):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=6,
                        color="white" if rates[i, j] > 0.5 else "black")
        ax.set_title(f"{name}: {np.trace(conf) / max(conf.sum(), 1):.1%} correct", fontsize=9)
        ax.set_xlabel("predicted digit")
        ax.set_ylabel("true digit")
        ax.set_xticks(range(conf.shape[1]))
        ax.set_yticks(range(conf.shape[0]))
    return fig


def plot_matched_pairs(templates_a, templates_b, pairs, names, title: str = ""):
    """Matched units side by side: for each ``(i, j, score, label_a, label_b)`` in ``pairs``, A's unit i
    above B's unit j, with the matching score. ``templates_a`` / ``templates_b`` (units, 784)."""
    n = len(pairs)
    fig = _figure(max(4.0, n * 0.75 + 1.0), 2.9)
    ax_a, ax_b = fig.subplots(2, 1)
    _tiles(ax_a, [templates_a[p[0]] for p in pairs], [p[3] for p in pairs], n)
    _tiles(ax_b, [templates_b[p[1]] for p in pairs], [f"{p[4]}\n{p[2]:+.2f}" for p in pairs], n, label_below=True)
    ax_a.set_ylabel(names[0], fontsize=8)
    ax_b.set_ylabel(names[1], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def plot_cka(matrix, rows, columns, names):
    """Linear CKA between every layer of A (rows) and every layer of B (columns)."""
    matrix = np.asarray(matrix)
    fig = _figure(1.2 * len(columns) + 1.8, 1.0 * len(rows) + 1.2)
    ax = fig.subplots()
    im = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white" if v < 0.6 else "black", fontsize=9)
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel(names[1])
    ax.set_ylabel(names[0])
    ax.set_title("linear CKA between layers", fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def plot_edge_likeness(groups: dict, colours: dict | None = None):
    """Edge-likeness per unit: ``groups`` maps a label (e.g. "hand edges") to a list of correlations in [0, 1];
    ``colours`` maps a label to its colour (default: alternating)."""
    labels = list(groups)
    fig = _figure(max(4.0, 1.1 * len(labels) + 1.5), 3.2)
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # jitter only, so points do not hide each other
    for k, label in enumerate(labels):
        v = np.asarray(groups[label], dtype=float)
        colour = (colours or {}).get(label, HAND if k % 2 == 0 else LEARNED)
        ax.scatter(k + rng.uniform(-0.15, 0.15, v.size), v, s=14, color=colour, alpha=0.8)
        if v.size:
            ax.hlines(np.median(v), k - 0.3, k + 0.3, color="black", lw=1.5)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("best stroke correlation")
    ax.set_title("edge-likeness of hidden units (bar: median)", fontsize=10)
    return fig


def plot_noise(results: dict):
    """Mean output confidence on noise, blank and real digits; ``results`` maps a network name to ``noise_test``."""
    kinds = ("digits", "noise", "blank")
    names = list(results)
    fig = _figure(4.8, 3.0)
    ax = fig.subplots()
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        values = [results[name][kind]["mean_confidence"] for kind in kinds]
        ax.bar(np.arange(3) + (k - (len(names) - 1) / 2) * width, values, width, label=name,
               color=HAND if k % 2 == 0 else LEARNED)
    ax.set_xticks(range(3), ["real digits", "uniform noise", "blank image"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean confidence (brightest output)")
    ax.legend(fontsize=8)
    return fig


def plot_ablation(drops: dict):
    """Accuracy drop when each hidden unit is silenced; ``drops`` maps a network name to (unit labels, drops)."""
    names = list(drops)
    fig = _figure(7.5, 2.2 * len(names) + 0.4)
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for k, (ax, name) in enumerate(zip(axes, names)):
        labels, values = drops[name]
        ax.bar(range(len(values)), values, color=HAND if k % 2 == 0 else LEARNED)
        ax.set_xticks(range(len(values)), labels, rotation=90, fontsize=6)
        ax.set_ylabel("accuracy drop")
        ax.set_title(name, fontsize=9)
        ax.axhline(0, color="black", lw=0.5)
    return fig


def plot_ladder(rungs: list):
    """The ladder: accuracy (mean with min-max over seeds) and median first-layer edge-likeness per rung.

    ``rungs``: dicts with ``label``, ``accuracy_mean``, ``accuracy_min``, ``accuracy_max``, ``edge_likeness_median``.
    """
    fig = _figure(8.0, 3.2)
    ax_acc, ax_edge = fig.subplots(1, 2)
    x = np.arange(len(rungs))
    labels = [r["label"] for r in rungs]
    mean = np.array([r["accuracy_mean"] for r in rungs])
    err = np.array([[m - r["accuracy_min"], r["accuracy_max"] - m] for m, r in zip(mean, rungs)]).T
    colours = [HAND] * (len(rungs) - 1) + [LEARNED]
    ax_acc.bar(x, mean, yerr=err, color=colours, capsize=3)
    ax_acc.set_ylim(0, 1)
    ax_acc.set_ylabel("test accuracy")
    ax_edge.bar(x, [r["edge_likeness_median"] for r in rungs], color=colours)
    ax_edge.set_ylim(0, 1)
    ax_edge.set_ylabel("median edge-likeness, first layer")
    for ax in (ax_acc, ax_edge):
        ax.set_xticks(x, labels, rotation=25, ha="right", fontsize=8)
    return fig


def plot_drift(units, cosines):
    """Cosine between each unit's fine-tuned weights and its hand-set weights (1 = unchanged direction)."""
    fig = _figure(max(4.0, 0.3 * len(units) + 1.0), 2.6)
    ax = fig.subplots()
    ax.bar(range(len(cosines)), cosines, color=HAND)
    ax.set_xticks(range(len(units)), units, rotation=90, fontsize=6)
    ax.set_ylim(min(0.0, float(np.min(cosines)) if len(cosines) else 0.0), 1.0)
    ax.set_ylabel("cosine to hand weights")
    ax.set_title("drift of fine-tuned units from their hand-set weights", fontsize=10)
    return fig


def plot_surgery(rows: list):
    """Accuracy after each surgery variant: ``rows`` of dicts with ``label`` and ``accuracy``."""
    fig = _figure(6.0, 2.8)
    ax = fig.subplots()
    colours = [HAND if r["label"].startswith("hand") else LEARNED if r["label"].startswith("trained") else "#999999"
               for r in rows]
    ax.barh(range(len(rows)), [r["accuracy"] for r in rows], color=colours)
    ax.set_yticks(range(len(rows)), [r["label"] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("test accuracy")
    return fig
