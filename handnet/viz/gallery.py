"""Figure sets for one network: the analyses (weights, maximize, tuning) run and handed to ``plots``.

Each function returns ``{file stem: Figure}``; the caller decides where and in what format to save.
Used by ``handnet render ...`` and ``handnet figures``.
"""

from __future__ import annotations

import numpy as np

from handnet.inside import maximize as mx
from handnet.viz import plots
from handnet.inside import tuning_curves as tuninglib
from handnet.inside import effective as weightlib
from handnet.nn.network import Network
from handnet.viz.style import DPI, sign_legend


def weight_figures(net: Network, unit=None, palette: str = "lesson") -> dict:
    """First layer: the 28x28 weight grid. Deeper layers: the strip over the layer below and the
    effective pixel templates (linear approximation). With ``unit``, only that unit."""
    figures = {}
    colours = sign_legend(palette)
    refs = None if unit is None else [net.unit(unit)]
    layers = range(len(net.layers)) if refs is None else [refs[0].layer]
    for li in layers:
        layer = net.layers[li]
        chosen = net.units(li) if refs is None else refs
        rows = [r.index for r in chosen]
        names = [r.unit_name if refs is None else str(r) for r in chosen]
        suffix = layer.name if refs is None else str(refs[0]).replace(":", "-")
        if li == 0:
            figures[f"weights-{suffix}"] = plots.plot_weight_grid(
                layer.weights[rows], names, palette,
                title=f"{layer.name}: each unit's 784 input weights as a 28x28 picture ({colours})",
                note="A unit lights up for ink on its bright pixels of the positive colour and is held back by ink on "
                     "those of the negative colour; black pixels have almost no weight. One colour scale for all units.",
            )
            continue
        weights, unit_names, input_names, biases = weightlib.incoming(net, li, chosen)
        figures[f"weights-{suffix}-strip"] = plots.plot_strip(
            weights, [n.split(":", 1)[1] for n in unit_names] if refs is None else unit_names, input_names, palette,
            title=f"{layer.name}: weights over {net.layers[li - 1].name} ({colours})", biases=biases,
        )
        chain = " · ".join(f"W{k + 1}" for k in range(li, -1, -1))
        figures[f"weights-{suffix}-templates"] = plots.plot_weight_grid(
            weightlib.effective_templates(net, li)[rows], names, palette,
            title=f"{layer.name}: the pixel pattern each unit looks for, {chain} (a linear approximation; {colours})",
            colorbar_label="weight summed over paths",
            note="The weight matrices multiplied through the layers below: what each unit would respond to if the "
                 "units in between were linear, so a rough guide, not exact.",
        )
    return figures


def maximize_figures(net: Network, unit=None, X=None, k: int = 5, progress=None, **options):
    """Optimized images (and the top ``k`` digits of ``X`` for each unit), one figure per layer or for
    ``unit``. Returns ``(figures, results)`` with every ``Maximizer``."""
    refs = net.units() if unit is None else [net.unit(unit)]
    results = mx.maximize_units(net, refs, progress=progress, **options)
    figures = {}
    by_layer = {}
    for ref, result in zip(refs, results):
        by_layer.setdefault(ref.layer, []).append((ref, result))
    for li, pairs in by_layer.items():
        top_images = top_values = None
        if X is not None and len(X):
            tops = mx.top_activating_units(net, [ref for ref, _ in pairs], X, k)  # one forward pass a layer
            top_images = np.stack([np.asarray(X)[idx] for idx, _ in tops])
            top_values = np.stack([vals for _, vals in tops])
        notes = [_note(r) for _, r in pairs]
        layer = net.layers[li]
        stem = f"maximize-{layer.name}" if unit is None else f"maximize-{str(refs[0]).replace(':', '-')}"
        what = "logit" if layer.activation == "softmax" and options.get("objective", "preactivation") == "preactivation" \
            else "activation"
        figures[stem] = plots.plot_maximizers(
            [r.image for _, r in pairs],
            [str(ref) if unit is not None else ref.unit_name for ref, _ in pairs],
            [r.activation for _, r in pairs],
            top_images,
            top_values,
            notes,
            title=f"{layer.name}: the image that maximizes each unit's {what}"
            + (f", and the {k} test digits that activate it most" if top_images is not None else ""),
        )
    return figures, results


def _note(result: mx.Maximizer) -> str:
    """``z`` reached and how it compares with the bound (or that it is exact)."""
    z = f"z {result.preactivation:.3g}"
    if result.exact:
        return f"{z}\nexact"
    if result.gap is None:
        return z
    return f"{z}\nat bound" if result.gap < 1e-4 else f"{z}\n{result.gap:.1%} < bound" if result.gap < 0.01 else f"{z}\n{result.gap:.0%} < bound"


def tuning_refs(net: Network, unit=None) -> list:
    """The units ``tuning_figures`` draws: ``unit``, or every edge (first-layer) and part (second-layer) unit."""
    if unit is not None:
        return [tuninglib.tunable(net, unit)]
    return net.units(0) + (net.units(1) if len(net.layers) > 2 else [])


def tuning_figures(net: Network, unit=None, progress=None) -> tuple[dict, list]:
    """Edge units' rotation/shift curves and part units' remove-an-edge panels (all, or ``unit``)."""
    results = []
    for ref in tuning_refs(net, unit):
        results.append(tuninglib.tuning(net, ref))
        if progress is not None:
            progress(1)
    figures = {}
    edges = [r for r in results if isinstance(r, tuninglib.EdgeTuning)]
    parts = [r for r in results if isinstance(r, tuninglib.PartTuning)]
    single = unit is not None
    if edges:
        stem = f"tuning-{edges[0].unit.replace(':', '-')}" if single else f"tuning-{net.layers[0].name}"
        figures[stem] = plots.plot_edge_tuning(
            [e.unit if single else e.unit.split(":", 1)[1] for e in edges],
            edges[0].angles, np.stack([e.angle_activations for e in edges]),
            edges[0].shifts, np.stack([e.shift_activations for e in edges]),
            np.stack([e.stimulus for e in edges]), [e.source for e in edges],
            title=f"{edges[0].unit if single else net.layers[0].name}: is each unit tuned to one stroke at one angle "
            "and place?",
        )
    if parts:
        stem = f"tuning-{parts[0].unit.replace(':', '-')}" if single else f"tuning-{net.layers[1].name}"
        figures[stem] = plots.plot_part_tuning(
            [p.unit if single else p.unit.split(":", 1)[1] for p in parts],
            [p.labels for p in parts],
            [p.activations for p in parts],
            [p.stimuli for p in parts],
            title=f"{parts[0].unit if single else net.layers[1].name}: does each unit need every edge it reads? "
            f"(edges from the {parts[0].source}; strokes: {edge_source(net)})",
        )
    return figures, results


def edge_source(net: Network) -> str:
    """Where the first layer's strokes come from: the spec, or lines fitted to the weights."""
    units = net.metadata.get("units") or {}
    return "spec" if any(u.get("strokes") for u in units.values() if isinstance(u, dict)) else "best-matching lines"


def diagram_figure(net: Network, image, label=None, top_k: int = 3, palette: str = "lesson", index=None,
                   unit=None):
    """The lit-up network for one image ``(784,)`` in [0, 1]; with ``unit`` (a reference), that
    unit's paths drawn in full (the inputs that carried it, its connections above) and the rest faded."""
    image = np.asarray(image, dtype=float).reshape(-1)
    ref = net.unit(unit) if unit is not None else None
    acts = net.forward(image[None])
    predicted = int(np.argmax(acts[-1][0]))
    names = [list(layer.units) for layer in net.layers]
    title = "the lit-up network"
    if index is not None:
        title += f" for test digit #{index}"
    if label is not None:
        title += f" (a {label}; predicted {names[-1][predicted]})"
    if ref is not None:
        title += (f"\npaths through {ref} (at {float(acts[ref.activation_index][0, ref.index]):.2f}): the inputs "
                  "that carried it and its connections above; the rest faded")
    return plots.plot_network_diagram(
        image, [a[0] for a in acts[1:]], [layer.weights for layer in net.layers], names,
        layer_names=net.layer_names, predicted=predicted, top_k=top_k, palette=palette, title=title,
        highlight=None if ref is None else (ref.layer, ref.index),
    )


def digit_figure(net: Network, X, y, unit=None, count: int = 40, k: int = 20, source: str = "test digits"):
    """Without ``unit``: the first ``count // 10`` digits of each digit the net answers (or the first
    ``count`` when that is under 10), with predictions (output units answer by name), wrong ones in red. With ``unit``: the top ``k``
    activating digits with their activations."""
    X = np.asarray(X)
    if unit is None:
        from handnet.viz.plots import pick_examples

        from handnet.errors import HandnetError
        from handnet.nn.labels import readout

        y = np.asarray(y)
        try:
            read = readout(net)  # output units answer by name
        except HandnetError:  # outputs that are not digits: show which unit is brightest, judge nothing
            read = None
        else:
            keep = np.flatnonzero(read.covers(y))  # only digits the network answers
            X, y = X[keep], y[keep]
        per_digit = count // max(1, len(read.labels) if read is not None else 10)
        if per_digit:
            # the first few of each digit: test splits may be sorted by label
            picks = [p for p in pick_examples(y, per_digit) if len(p)]
            # row r holds the r-th example of every digit, so each column is one digit
            chosen = np.array([p[r] for r in range(per_digit) for p in picks if r < len(p)], dtype=int)
            what = f"first {per_digit} {source} of each digit"
        else:
            chosen = np.arange(min(count, len(y)))
            what = f"first {len(chosen)} {source}"
        X, y = X[chosen], y[chosen]
        outputs = net.output(X)
        if read is None:
            names = net.layers[-1].units
            titles = [names[k] for k in np.argmax(outputs, axis=1)]
            return plots.plot_digits(X, titles, ncols=10, title=f"{what}: the brightest output unit "
                                     "(the outputs are not digits, so nothing is marked right or wrong)")
        predicted = read.predict(outputs)
        titles = [f"{p} (is {t})" if p != t else f"{p}" for p, t in zip(predicted, y)]
        accuracy = float(np.mean(predicted == y)) if len(y) else float("nan")
        return plots.plot_digits(X, titles, wrong=predicted != y, ncols=min(10, max(1, len(picks) if per_digit else 10)),
                                 title=f"{what}: the network's answer above each ({accuracy:.0%} of these right)",
                                 note="A red, framed answer is wrong; '(is 7)' gives the true digit. Guessing would get "
                                      "about 10% right.")
    ref = net.unit(unit)
    idx, acts = mx.top_activating(net, ref, X, k)
    titles = [f"#{i}: {a:.3g}" for i, a in zip(idx, acts)]
    return plots.plot_digits(X[idx], titles, title=f"the {len(idx)} {source} that most activate {ref}",
                             note="Above each: its index in the test split and the unit's activation on it (0 to 1 for "
                                  "a sigmoid unit). What they share is what the unit responds to.")


def figure_steps(net: Network, saved: bool = False) -> int:
    """How many progress steps ``figure_set`` reports for ``net`` (one per maximized unit, per tuning
    curve and per figure drawn), or with ``saved`` ``write_figure_set`` (one more per figure saved)."""
    n_figures = 1 + 2 * (len(net.layers) - 1) + len(net.layers) + 2
    tuned = tuning_refs(net) if len(net.layers) >= 2 else []
    n_figures += len({r.layer for r in tuned})
    return len(net.units()) + len(tuned) + n_figures * (2 if saved else 1)


def figure_set(net: Network, X, y, top_k: int = 3, palette: str = "lesson", progress=None) -> dict:
    """Every figure for one net: weights, maximizers (with the top ``top_k`` digits of ``X``), tuning
    curves, the lit-up diagram for ``X[0]``, and the first digits with predictions.
    ``progress(1)`` is called per maximized unit, per tuning curve and per figure drawn."""
    step = progress or (lambda k=1: None)
    figures = dict(weight_figures(net, palette=palette))
    step(len(figures))
    maxima = maximize_figures(net, X=X, k=top_k, progress=step)[0]
    figures.update(maxima)
    step(len(maxima))
    if len(net.layers) >= 2:
        tuned = tuning_figures(net, progress=step)[0]
        figures.update(tuned)
        step(len(tuned))
    figures["diagram-0"] = diagram_figure(net, X[0], int(y[0]), index=0, palette=palette)
    figures["digits"] = digit_figure(net, X, y)
    step(2)
    return figures


def write_figure_set(net: Network, X, y, out, prefix: str, dpi: int = DPI, palette: str = "lesson",
                     progress=None) -> list[str]:
    """Save ``figure_set(net, X, y)`` as ``out/PREFIX-STEM.png`` (atomically); returns the paths.
    ``progress(1)`` as in ``figure_set``, and once per file saved (``figure_steps(net, saved=True)`` in all)."""
    from pathlib import Path

    from handnet.atomic import save_figure

    step = progress or (lambda k=1: None)
    written = []
    for stem, fig in figure_set(net, X, y, palette=palette, progress=step).items():
        written.append(str(save_figure(fig, Path(out) / f"{prefix}-{stem}.png", dpi=dpi)))
        step(1)
    return written
