"""Figures for the hand-vs-learned comparison: arrays in, matplotlib Figure out (never shown).

Weight pictures follow the lesson (``handnet.viz.style``): green for positive weights, magenta for
negative by default, brightness for magnitude, so weights near zero are dark. The hand-designed
side of a comparison is blue, the learned side orange, references grey; each figure says so in a
legend or caption, and draws the baseline a number should be read against (chance, random weights).
"""

from __future__ import annotations

import numpy as np

from handnet.compare.edgelike import RANDOM_EDGE_LIKENESS, WHITE_NOISE_LITTLE_EDGE
from handnet.compare.verdict import LITTLE_EDGE
from handnet.compare.surgery import MEANINGS as SURGERY_MEANINGS  # noqa: F401  (re-exported)
from handnet.viz.plots import tile_grid
from handnet.viz.style import (  # noqa: F401  (HAND, LEARNED: re-exported)
    HAND, LABEL, LEARNED, NEUTRAL, SMALL, TITLE, caption, figure as _figure, sign_legend, weight_cmap, weight_norm,
    wrap, wrap_name,
)

CHANCE = 0.1  # accuracy of guessing one of ten digits


def weight_rgb(weights, scale: float | None = None, palette: str = "lesson") -> np.ndarray:
    """A weight picture ``(28, 28)`` as RGB ``(28, 28, 3)`` in [0, 1], in ``plots``' colours (the
    lesson's green positive, magenta negative by default, dark near 0); ``scale`` is the magnitude
    shown at full brightness (default: the largest |weight|)."""
    w = np.asarray(weights, dtype=np.float64)
    return weight_cmap(palette)(weight_norm(w, vmax=scale)(w))[..., :3]


def image_rgb(image) -> np.ndarray:
    """An image in [0, 1] ``(28, 28)`` as grey RGB ``(28, 28, 3)``: ink bright on black, as MNIST stores it."""
    return np.repeat(np.clip(np.asarray(image, dtype=np.float64), 0, 1)[..., None], 3, axis=2)


def mosaic(templates, columns: int, gap: int = 2, shape=(28, 28), scale: float | None = None, images: bool = False,
           palette: str = "lesson") -> np.ndarray:
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
        canvas[top : top + h, left : left + w] = image_rgb(t) if images else weight_rgb(t, scale, palette)
    return canvas


def _tile(ax, picture, images: bool, palette: str, shape=(28, 28)):
    """One weight picture (each scaled by its own largest |weight|) or grey image on ``ax``, without ticks."""
    t = np.asarray(picture).reshape(shape)
    ax.imshow(image_rgb(t) if images else weight_rgb(t, palette=palette), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_template_mosaic(templates, labels, title: str = "", columns: int = 8, images: bool = False,
                         palette: str = "lesson", note: str | None = None):
    """One weight picture per row of ``templates`` (units, 784), labelled, in a grid (``images``: grey
    images in [0, 1]); each picture has its own brightness scale. ``note`` is a caption under it."""
    n = len(templates)
    columns = min(columns, max(n, 1))
    rows = max(1, int(np.ceil(n / columns)))
    labels = [wrap_name(label, 12) for label in labels]
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    width = max(4.2, columns * 1.1 + 0.3)
    title = wrap(title, width - 0.2, TITLE) if title else ""
    fig = _figure(width, rows * (1.05 + 0.15 * lines) + 0.25 * (title.count("\n") + 1) + (0.5 if note else 0.1))
    tile_grid(fig.subplots(), [_picture(t, images, palette) for t in templates], labels, columns,
              cell=(1.1, 1.0 + 0.15 * lines), tile_in=0.85)
    if title:
        fig.suptitle(title, fontsize=TITLE)
    if note:
        caption(fig, note)
    return fig


def _picture(picture, images: bool, palette: str, shape=(28, 28)) -> np.ndarray:
    """One weight picture (scaled by its own largest |weight|) or grey image as RGB ``(28, 28, 3)``."""
    t = np.asarray(picture).reshape(shape)
    return image_rgb(t) if images else weight_rgb(t, palette=palette)


def plot_confusions(confusions, names):
    """Confusion matrices ``(10, 10)`` side by side (rows = true digit), one per network."""
    fig = _figure(4.4 * len(confusions), 4.5)
    axes = fig.subplots(1, len(confusions), squeeze=False)[0]
    for ax, conf, name in zip(axes, confusions, names):
        conf = np.asarray(conf)
        rates = conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)
        ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
        for (i, j), v in np.ndenumerate(conf):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=SMALL,
                        color="white" if rates[i, j] > 0.5 else "black")
        ax.set_title(f"{name}: {np.trace(conf) / max(conf.sum(), 1):.1%} correct", fontsize=LABEL)
        ax.set_xlabel("predicted digit", fontsize=LABEL)
        ax.set_ylabel("true digit", fontsize=LABEL)
        ax.set_xticks(range(conf.shape[1]))
        ax.set_yticks(range(conf.shape[0]))
        ax.tick_params(labelsize=SMALL)
    caption(fig, "Each row is one true digit: the number in a square counts the test digits read as that column's "
            "digit. The diagonal is right; bright squares off it are the common mistakes.")
    return fig


def plot_matched_pairs(templates_a, templates_b, pairs, names, title: str = "", palette: str = "lesson",
                       columns: int = 8, baseline: dict | None = None):
    """Matched units side by side: for each ``(i, j, score, label_a, label_b)`` in ``pairs``, A's unit i
    above B's unit j, with the matching score. ``templates_a`` / ``templates_b`` (units, 784). More
    pairs than ``columns`` wrap into blocks, one under the other."""
    n = len(pairs)
    columns = min(columns, max(n, 1))
    blocks = max(1, int(np.ceil(n / columns)))
    label_a = [wrap_name(p[3], 12) for p in pairs]
    label_b = [f"{wrap_name(p[4], 12)}\n{p[2]:+.2f}" for p in pairs]
    lines = max((lbl.count("\n") + 1 for lbl in label_a + label_b), default=1)
    width = max(4.5, columns * 1.12 + 0.9)
    title = wrap(title, width - 0.2, TITLE) if title else ""
    fig = _figure(width, blocks * 2 * (1.05 + 0.15 * lines) + 0.25 * (title.count("\n") + 1) + 0.5)
    # rows alternate A, B: block b's top row is A's units, the row under it their partners in B
    tiles, labels = [], []
    blank = np.ones((28, 28, 4)) * [1, 1, 1, 0]
    for block in range(blocks):
        chunk = list(range(block * columns, min(n, (block + 1) * columns)))
        pad = [None] * (columns - len(chunk))
        for side, (templates, names_of, which) in enumerate(((templates_a, label_a, 0), (templates_b, label_b, 1))):
            for k in chunk + pad:
                if k is None:
                    tiles.append(blank)
                    labels.append("")
                else:
                    rgb = weight_rgb(np.asarray(templates[pairs[k][which]]).reshape(28, 28), palette=palette)
                    tiles.append(np.concatenate([rgb, np.ones((28, 28, 1))], axis=-1))
                    labels.append(names_of[k])
    tile_grid(fig.subplots(), tiles, labels, columns, cell=(1.12, 1.0 + 0.15 * lines), tile_in=0.85,
              row_labels=[names[r % 2] for r in range(2 * blocks)])
    if title:
        fig.suptitle(title, fontsize=TITLE)
    reference = ""
    if baseline is not None:
        rb = np.asarray(baseline["random_b"], dtype=float)
        reference = (f" Mean score {baseline['value']:.2f}, against {rb.mean():.2f} (up to {rb.max():.2f}) for "
                     f"{names[1]} matched with a random net of the same shape"
                     + (f" and {baseline['second']:.2f} with a second trained seed" if baseline.get("second") is not None
                        else "") + ".")
    caption(fig, f"Each column pairs a unit of {names[0]} (top) with the unit of {names[1]} matched to it (below, "
            "with the score: 1 = the same, 0 = unrelated, negative = opposite). Weights: "
            f"{sign_legend(palette)}, each picture on its own scale." + reference)
    return fig


def _reference_panel(ax, layers, names, measure: str, ylabel: str) -> None:
    """Per hidden layer: A vs B (a big dot), beside B vs random nets of the same shape (grey crosses, one
    per seed), A vs those nets (grey pluses) and B vs a second trained seed (a diamond), when known."""
    x = np.arange(len(layers))
    for k, entry in enumerate(layers):
        m = entry[measure] if measure == "cka" else entry["matching"][measure]
        rb, ra = np.asarray(m["random_b"], dtype=float), np.asarray(m["random_a"], dtype=float)
        ax.scatter(np.full(rb.size, k - 0.18), rb, marker="x", color=NEUTRAL, s=26, zorder=2)
        ax.scatter(np.full(ra.size, k - 0.18), ra, marker="+", color=NEUTRAL, s=34, zorder=2)
        if m.get("second") is not None:
            ax.scatter([k + 0.18], [m["second"]], marker="D", color=LEARNED, s=34, zorder=3)
        ax.scatter([k], [m["value"]], marker="o", color=HAND, s=48, zorder=4)
        ax.text(k + 0.08, m["value"], f" {m['value']:.2f}", va="center", fontsize=SMALL)
    ax.set_xticks(x, [e["layer"].replace(" / ", "\n/ ") for e in layers], fontsize=SMALL)
    ax.set_xlim(-0.6, len(layers) - 0.4)
    ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.02)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_ylabel(ylabel, fontsize=LABEL)
    ax.tick_params(axis="y", labelsize=SMALL)


def _reference_legend(fig, names, has_second: bool) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", color=HAND, label=f"{names[0]} vs {names[1]}"),
               Line2D([], [], marker="x", ls="", color=NEUTRAL, label=f"{names[1]} vs a random net of the same shape"),
               Line2D([], [], marker="+", ls="", color=NEUTRAL, label=f"{names[0]} vs a random net of the same shape")]
    if has_second:
        handles.append(Line2D([], [], marker="D", ls="", color=LEARNED, label=f"{names[1]} vs a second trained seed"))
    fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize=SMALL, frameon=False)


def plot_cka(matrix, rows, columns, names, baselines: dict | None = None):
    """Linear CKA between every layer of A (rows) and every layer of B (columns); with ``baselines``
    (``compare.comparison.similarity_baselines``) a second panel draws, per hidden layer, A vs B beside
    random nets of the same shape and a second trained seed."""
    matrix = np.asarray(matrix)
    layers = (baselines or {}).get("layers") or []
    width = max(4.4, 1.2 * len(columns) + 2.2) + (3.4 if layers else 0)
    fig = _figure(width, 1.0 * len(rows) + 1.9 + (0.7 if layers else 0))
    if layers:
        ax, ax_ref = fig.subplots(1, 2, width_ratios=[1.3, 1])
    else:
        ax, ax_ref = fig.subplots(), None
    im = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white" if v < 0.6 else "black", fontsize=LABEL)
    ax.set_xticks(range(len(columns)), columns, fontsize=SMALL)
    ax.set_yticks(range(len(rows)), rows, fontsize=SMALL)
    ax.set_xlabel(names[1], fontsize=LABEL)
    ax.set_ylabel(names[0], fontsize=LABEL)
    ax.set_title("linear CKA between layers", fontsize=TITLE)
    bar = fig.colorbar(im, ax=ax, shrink=0.8)
    bar.ax.tick_params(labelsize=SMALL)
    if ax_ref is not None:
        _reference_panel(ax_ref, layers, names, "cka", "linear CKA")
        ax_ref.set_title("each hidden layer beside its references", fontsize=TITLE)
        _reference_legend(fig, names, bool(baselines.get("second")))
    caption(fig, "1 = the two layers arrange the test digits the same way (up to rotation and scale); 0 = unrelated."
            + (" Right: a value means something only above the random nets (grey) and against how alike two nets "
               "trained the same way are (diamond)." if ax_ref is not None else ""))
    return fig


def plot_matching_baselines(baselines: dict, names):
    """Mean matched score per hidden layer, on activation correlation and on weight cosine, A vs B beside
    random nets of the same shape and a second trained seed (``compare.comparison.similarity_baselines``)."""
    layers = baselines["layers"]
    fig = _figure(max(6.4, 2.4 * len(layers) + 2.0), 4.0)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, criterion, what in zip(axes, ("activation", "weights"), ("activation correlation", "weight cosine")):
        _reference_panel(ax, layers, names, criterion, "mean matched score")
        ax.set_title(f"units matched on {what}", fontsize=TITLE)
    _reference_legend(fig, names, bool(baselines.get("second")))
    caption(fig, "Each unit of one net paired with one of the other (Hungarian), the paired scores averaged: 1 = every "
            "unit has an identical partner. Read A vs B against the random nets (grey: what any units of this shape "
            "give) and a second trained seed (diamond).")
    return fig


def plot_edge_likeness(groups: dict, colours: dict | None = None, baselines: dict | None = None,
                       threshold: float | None = None, measure: str = "little edge"):
    """Edge-likeness per unit: ``groups`` maps a label (e.g. "hand edges") to a list of scores in [0, 1];
    ``colours`` maps a label to its colour (default: alternating). ``measure`` is ``"little edge"``
    (``edgelike.little_edge``, the default) or ``"stroke fit"`` (the best stroke correlation).
    ``baselines`` (name -> median score of weights with no edge in them) are drawn as grey lines, each
    labelled; ``threshold`` as a dotted line (what a drawn straight stroke clears)."""
    labels = list(groups)
    fig = _figure(max(5.6, 1.2 * len(labels) + 3.4), 3.9)
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # jitter only, so points do not hide each other
    for k, label in enumerate(labels):
        v = np.asarray(groups[label], dtype=float)
        colour = (colours or {}).get(label, HAND if k % 2 == 0 else LEARNED)
        ax.scatter(k + rng.uniform(-0.15, 0.15, v.size), v, s=14, color=colour, alpha=0.8)
        if v.size:
            ax.hlines(np.median(v), k - 0.3, k + 0.3, color="black", lw=1.5)
    little = measure == "little edge"
    if baselines is None:
        baselines = {"random weights": WHITE_NOISE_LITTLE_EDGE if little else RANDOM_EDGE_LIKENESS}
    styles = ["--", "-.", (0, (5, 1)), (0, (1, 1)), (0, (3, 1, 1, 1))]
    for k, (name, value) in enumerate(sorted(baselines.items(), key=lambda kv: kv[1])):
        ax.axhline(value, color=NEUTRAL, ls=styles[k % len(styles)], lw=1.1, label=f"{name} ({value:.2f})")
    if threshold is not None:
        ax.axhline(threshold, color="black", ls=":", lw=1.2, label=f"a drawn straight stroke clears ({threshold:.2f})")
    ax.legend(fontsize=SMALL, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", rotation_mode="anchor", fontsize=SMALL)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("little-edge score" if little else "best stroke correlation", fontsize=LABEL)
    ax.tick_params(axis="y", labelsize=SMALL)
    ax.set_title(("how much each hidden unit is a little edge" if little else "stroke fit of hidden units")
                 + " (black bar: median)", fontsize=TITLE)
    caption(fig, ("Each dot is one unit: how localized and oriented its weights are (1 = a short straight bar; a blob, "
                  "a ring or noise near 0; deeper units through their pixel pattern, a linear approximation). Grey "
                  "lines: weights with no edge in them.") if little else
            ("Each dot is one unit: how well one drawn stroke explains its weights (1 = exactly a stroke "
             "detector; deeper units through their pixel pattern, a linear approximation)."))
    return fig


def plot_noise(results: dict):
    """Mean output confidence on noise, blank and real digits; ``results`` maps a network name to ``noise_test``."""
    kinds = ("digits", "noise", "blank")
    names = list(results)
    fig = _figure(5.4, 3.8)
    ax = fig.subplots()
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        values = [results[name][kind]["mean_confidence"] for kind in kinds]
        ax.bar(np.arange(3) + (k - (len(names) - 1) / 2) * width, values, width, label=name,
               color=HAND if k % 2 == 0 else LEARNED)
    ax.axhline(CHANCE, color=NEUTRAL, ls="--", lw=1, label="no idea (0.1 on each digit)")
    ax.set_xticks(range(3), ["real digits", "uniform noise", "blank image"], fontsize=SMALL)
    ax.tick_params(axis="y", labelsize=SMALL)
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean confidence\n(brightest output)", fontsize=LABEL)
    ax.set_title("how sure each network is, on digits and on nonsense", fontsize=TITLE)
    ax.legend(fontsize=SMALL, loc="upper right")
    caption(fig, "A network that knew when it does not know would stay near the dashed line on noise and blank images; "
            "one trained only on digits answers them with confidence anyway.")
    return fig


def _layer_groups(labels) -> list[tuple[str, int, int]]:
    """``layer:unit`` labels in order -> ``(layer, first index, last index)`` per run of one layer."""
    groups = []
    for i, label in enumerate(labels):
        layer = str(label).split(":", 1)[0] if ":" in str(label) else ""
        if groups and groups[-1][0] == layer:
            groups[-1] = (layer, groups[-1][1], i)
        else:
            groups.append((layer, i, i))
    return groups


def _unit_axis(ax, labels) -> None:
    """Bars over units: tick labels without the layer, the layer named over each run of its units."""
    ax.set_xticks(range(len(labels)), [str(u).split(":", 1)[-1] for u in labels], rotation=90, fontsize=SMALL)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    for layer, first, last in _layer_groups(labels):
        if first:
            ax.axvline(first - 0.5, color="0.6", lw=0.8)
        if layer:
            ax.text((first + last) / 2, 1.0, layer, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=SMALL, color="0.3")


def plot_ablation(drops: dict):
    """Accuracy drop when each hidden unit is silenced; ``drops`` maps a network name to (unit labels, drops)."""
    names = list(drops)
    n_units = max((len(drops[n][0]) for n in names), default=1)
    fig = _figure(max(6.0, 0.24 * n_units + 1.6), 3.3 * len(names) + 0.6)
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for k, (ax, name) in enumerate(zip(axes, names)):
        labels, values = drops[name]
        ax.bar(range(len(values)), 100 * np.asarray(values, dtype=float), color=HAND if k % 2 == 0 else LEARNED)
        _unit_axis(ax, labels)
        ax.tick_params(axis="y", labelsize=SMALL)
        ax.set_ylabel("accuracy lost\n(points)", fontsize=LABEL)
        ax.set_title(f"{name}: silencing one hidden unit at a time", fontsize=LABEL, pad=14)
        ax.axhline(0, color="black", lw=0.5)
    caption(fig, "A tall bar is a unit the network relies on; a bar near 0 is one it can do without; a bar below 0 "
            "means the network does better without that unit.")
    return fig


def plot_ladder(rungs: list):
    """The ladder: accuracy (mean with min-max over seeds) and the first layer's median little-edge score per rung.

    ``rungs``: dicts with ``label``, ``accuracy_mean``, ``accuracy_min``, ``accuracy_max``, ``little_edge_median``
    (or, from an older ladder, ``edge_likeness_median``), and optionally ``number`` ("0" to "5b").
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = _figure(8.6, 4.1)
    ax_acc, ax_edge = fig.subplots(1, 2)
    x = np.arange(len(rungs))
    labels = [f"{r['number']}. {r['label']}" if r.get("number") else r["label"] for r in rungs]
    mean = np.array([r["accuracy_mean"] for r in rungs])
    err = np.array([[m - r["accuracy_min"], r["accuracy_max"] - m] for m, r in zip(mean, rungs)]).T
    # rung 0 (no data at all) is a reference, grey; the rungs trained from random weights orange
    colours = [NEUTRAL if r["label"] == "lesson" else LEARNED if r["label"].startswith("trained") else HAND
               for r in rungs]
    if not any(r["label"].startswith("trained") for r in rungs):  # a ladder from before the labels: the last learned
        colours[-1] = LEARNED
    ax_acc.bar(x, mean, yerr=err, color=colours, capsize=3)
    ax_acc.axhline(CHANCE, color=NEUTRAL, ls="--", lw=1.2)
    ax_acc.set_ylim(0, 1)
    ax_acc.set_ylabel("test accuracy", fontsize=LABEL)
    ax_acc.set_title("accuracy on the test digits", fontsize=TITLE)
    ax_edge.bar(x, [r.get("little_edge_median", r["edge_likeness_median"]) for r in rungs], color=colours)
    ax_edge.axhline(LITTLE_EDGE, color="black", ls=":", lw=1.2)
    ax_edge.axhline(WHITE_NOISE_LITTLE_EDGE, color=NEUTRAL, ls="--", lw=1.2)
    ax_edge.set_ylim(0, 1)
    ax_edge.set_ylabel("median little-edge score, first layer", fontsize=LABEL)
    ax_edge.set_title("how much the first layer looks like little edges", fontsize=TITLE)
    for ax in (ax_acc, ax_edge):
        ax.set_xticks(x, labels, rotation=25, ha="right", rotation_mode="anchor", fontsize=SMALL)
        ax.tick_params(axis="y", labelsize=SMALL)
    handles = [Patch(color=HAND, label="starts from the hand-set weights"),
               Patch(color=LEARNED, label="trained from random weights"),
               Line2D([], [], color=NEUTRAL, ls="--", lw=1.2, label="guessing (left), random weights (right)"),
               Line2D([], [], color="black", ls=":", lw=1.2, label=f"a drawn straight stroke clears {LITTLE_EDGE:.2f}")]
    if any(r["label"] == "lesson" for r in rungs):
        handles.insert(0, Patch(color=NEUTRAL, label="the lesson's story, no data (reference)"))
    fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize=SMALL, frameon=False)
    caption(fig, "From every weight set by hand (left) to every weight learned (right): accuracy against how much the "
            "first layer's units are little edges (localized and oriented; 1 = a straight bar, random weights "
            f"{WHITE_NOISE_LITTLE_EDGE:.2f}). Error bars: min-max over seeds.")
    return fig


def plot_memorization(memo: dict):
    """Training cost and training accuracy per epoch, real labels against shuffled ones
    (``compare.study.memorization``)."""
    from matplotlib.lines import Line2D

    fig = _figure(8.6, 3.9)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for key, colour, style in (("real", LEARNED, "-"), ("shuffled", HAND, "--")):
        curve = memo[key]
        epochs = [r["epoch"] for r in curve]
        ax_loss.plot(epochs, [r["loss"] for r in curve], color=colour, ls=style, lw=1.6)
        ax_acc.plot(epochs, [r["train_accuracy"] for r in curve], color=colour, ls=style, lw=1.6)
    ax_acc.axhline(memo.get("guessing", CHANCE), color=NEUTRAL, ls=":", lw=1.2)
    ax_acc.set_ylim(0, 1)
    ax_loss.set_ylabel("training cost (per image)", fontsize=LABEL)
    ax_acc.set_ylabel("training accuracy", fontsize=LABEL)
    ax_loss.set_title("cost on the training digits", fontsize=TITLE)
    ax_acc.set_title("accuracy on the training digits", fontsize=TITLE)
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch", fontsize=LABEL)
        ax.tick_params(labelsize=SMALL)
    fig.legend(handles=[Line2D([], [], color=LEARNED, lw=1.6, label="real labels"),
                        Line2D([], [], color=HAND, ls="--", lw=1.6, label="shuffled labels"),
                        Line2D([], [], color=NEUTRAL, ls=":", lw=1.2, label="guessing")],
               loc="outside upper center", ncols=3, fontsize=SMALL, frameon=False)
    caption(fig, "The same recipe on the same digits: real labels are learned in a few epochs; shuffled ones can only be "
            "memorized, slowly, and teach nothing about new digits.")
    return fig


def plot_drift(units, cosines):
    """Cosine between each unit's fine-tuned weights and its hand-set weights (1 = unchanged direction)."""
    fig = _figure(max(5.0, 0.24 * len(units) + 1.6), 3.6)
    ax = fig.subplots()
    ax.bar(range(len(cosines)), cosines, color=HAND)
    _unit_axis(ax, units)
    ax.tick_params(axis="y", labelsize=SMALL)
    ax.set_ylim(min(0.0, float(np.min(cosines)) if len(cosines) else 0.0), 1.0)
    ax.set_ylabel("cosine to hand weights", fontsize=LABEL)
    ax.set_title("how far fine-tuning moved each hand-set unit", fontsize=TITLE, pad=14)
    caption(fig, "1 = the fine-tuned unit's weights still point the way the spec set them; 0 = unrelated to them.")
    return fig


def plot_surgery(rows: list):
    """Accuracy after each surgery variant: ``rows`` of dicts with ``label`` and ``accuracy``."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = _figure(7.6, 0.42 * len(rows) + 2.2)
    ax = fig.subplots()
    colours = [HAND if r["label"].startswith("hand") else LEARNED if r["label"].startswith("trained") else NEUTRAL
               for r in rows]
    ax.barh(range(len(rows)), [r["accuracy"] for r in rows], color=colours)
    for i, r in enumerate(rows):
        ax.text(r["accuracy"] + 0.01, i, f"{r['accuracy']:.1%}", va="center", fontsize=SMALL)
    ax.axvline(CHANCE, color="black", ls="--", lw=1)
    ax.set_yticks(range(len(rows)), [r["label"] for r in rows], fontsize=SMALL)
    ax.tick_params(axis="x", labelsize=SMALL)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("test accuracy", fontsize=LABEL)
    ax.set_title("the hand-designed layer inside the trained network", fontsize=TITLE)
    # the caption rides in the legend's title: constrained layout stacks figure legends but not a supxlabel
    explanation = ("The hand layer is worth what 'hand, refit above' keeps beyond 'random, refit above'; "
                   "'trained, refit above' is the most any layer could give here.")
    fig.legend(handles=[Patch(color=HAND, label="hand-designed layer"), Patch(color=LEARNED, label="trained layer"),
                        Patch(color=NEUTRAL, label="controls: random or no layer"),
                        Line2D([], [], color="black", ls="--", lw=1, label="guessing (10%)")],
               loc="outside lower center", ncols=4, fontsize=SMALL, frameon=False,
               title=wrap(explanation, 7.3, SMALL), title_fontsize=SMALL)
    return fig


def plot_hand_units(rows: list):
    """Accuracy against the number of hidden units: hand-designed networks beside the trained twin of the
    same sizes.

    ``rows``: dicts with ``units`` (hidden units, both layers), ``kind`` (``"hand, fitted readout"``,
    ``"hand, pure"`` or ``"trained twin"``), ``accuracy``, ``label``, and ``family``: rows of one family
    (e.g. ``"tiled"``, ``"twin"``) are joined by a line; rows without one are single points, labelled.
    """
    fig = _figure(7.6, 4.4)
    ax = fig.subplots()
    styles = {"hand, pure": dict(color=HAND, marker="s", mfc="white"),
              "hand, fitted readout": dict(color=HAND, marker="o"),
              "trained twin": dict(color=LEARNED, marker="^")}
    shown = set()
    for family in sorted({r["family"] for r in rows if r.get("family")}):
        pts = sorted((r["units"], r["accuracy"], r["kind"]) for r in rows if r.get("family") == family)
        kind = pts[0][2]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1.5, label=kind if kind not in shown else None,
                **styles[kind])
        shown.add(kind)
    singles = sorted((r for r in rows if not r.get("family")), key=lambda r: -r["accuracy"])
    for k, r in enumerate(singles):
        ax.plot([r["units"]], [r["accuracy"]], ls="none", label=r["kind"] if r["kind"] not in shown else None,
                **styles[r["kind"]])
        shown.add(r["kind"])
        ax.annotate(f"{r['label']} {r['accuracy']:.1%}", (r["units"], r["accuracy"]), fontsize=SMALL,
                    xytext=(14, -22 - 11 * k), textcoords="offset points",
                    arrowprops=dict(arrowstyle="-", color=NEUTRAL, lw=0.6))
    for r in rows:
        if r.get("family") and r.get("label"):
            ax.annotate(r["label"], (r["units"], r["accuracy"]), fontsize=SMALL, xytext=(4, -11),
                        textcoords="offset points")
    ax.axhline(CHANCE, color=NEUTRAL, ls="--", lw=1.2, label="guessing")
    ax.set_xscale("log")
    units = sorted({r["units"] for r in rows})
    ax.set_xticks(units, [str(u) for u in units], fontsize=SMALL)
    ax.minorticks_off()
    ax.set_ylim(0, 1)
    ax.set_xlabel("hidden units (both hidden layers)", fontsize=LABEL)
    ax.set_ylabel("test accuracy", fontsize=LABEL)
    ax.set_title("how many hand-designed units does it take?", fontsize=TITLE)
    ax.tick_params(labelsize=SMALL)
    ax.legend(fontsize=SMALL, frameon=False, loc="center right")
    caption(fig, "Hand-designed networks (little strokes tiling the canvas, and the 16-16 specs) against networks "
            "of the same sizes trained from random weights; dashed: guessing.")
    return fig
