"""``handnet render ...``: figures of what is inside a network.

Thin: each command loads a network, calls ``handnet.viz.gallery`` and saves what it returns.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from handnet.cli.common import (FiniteFloat, HandnetGroup, check_output, data_inputs, data_options, json_option, load_network,
                                palette_option, print_json, progress, scoring_digits, training_data)

FORMATS = ("png", "svg")


def _save(figures: dict, out, prefix: str, fmt: str, dpi: int) -> list[str]:
    from handnet.atomic import save_figure

    written = []
    with progress(len(figures), f"writing {len(figures)} figures into {out}") as bar:
        for stem, fig in figures.items():
            path = Path(out) / f"{prefix}{stem}.{fmt}"
            # as drawn: every figure keeps its text inside (style.text_problems, tested), so no
            # tight-box pass (a second layout of every label) is needed; the demo saves the same way
            save_figure(fig, path, dpi=dpi)
            written.append(str(path))
            bar.update(1)
    return written


def _report(as_json, net_path, written, **extra):
    if as_json:
        print_json({"network": str(net_path), "files": written, **extra})
    else:
        for path in written:
            click.echo(f"wrote {path}")


def figure_options(func):
    """NET, ``--unit``, ``-o``, ``--format``, ``--dpi``, ``--palette``, ``--json`` and the data options."""
    func = json_option(func)
    func = data_options(func)
    func = palette_option(func)
    func = click.option("--dpi", type=click.IntRange(20, 600), default=110, show_default=True,
                        help="Resolution of PNG files.")(func)
    func = click.option("--format", "fmt", type=click.Choice(FORMATS), default="png", show_default=True)(func)
    func = click.option("-o", "--out", default=".", show_default=True, type=click.Path(file_okay=False),
                        callback=_folder, help="Folder for the figures.")(func)
    func = click.option("--unit", default=None, metavar="REF",
                        help="One unit, e.g. edges:upper_bar, hidden2:7, digits:3 (default: every unit).")(func)
    func = click.argument("net", type=click.Path(dir_okay=False))(func)
    return func


def _folder(ctx, param, value):
    """The -o folder, refused at once if it exists and is no folder."""
    return check_output(value, folder=True) and value


def _prefix(net_path) -> str:
    return Path(net_path).stem + "-"


@click.group("render", cls=HandnetGroup)
def render():
    """Draw what is inside a network: weights, maximizing images, tuning curves, the lit-up diagram, digits.

    NET is a saved network (.npz) or a spec file (.toml, compiled on the spot). Figures are written
    to -o DIR as NETNAME-KIND-LAYER.png (or .svg).

    \b
    Example:
        handnet render weights demo/hand.npz -o figs
        handnet render maximize demo/hand.npz --unit digits:3 --format svg
    """


@render.command("weights")
@figure_options
def weights_cmd(net, unit, out, fmt, dpi, palette, data, split, as_json):
    """Weight pictures: first-layer units as 28x28 grids (green +, red -, on black, one symmetric colour
    scale); deeper units as a strip over the named units below, and as effective pixel templates
    (the product of the weight matrices: a linear approximation).

    \b
    Example:
        handnet render weights demo/hand.npz
        handnet render weights demo/hand.npz --unit parts:upper_loop --palette colorblind
    """
    from handnet.viz import gallery

    network = load_network(net, data)
    written = _save(gallery.weight_figures(network, unit, palette), out, _prefix(net), fmt, dpi)
    _report(as_json, net, written)


@render.command("maximize")
@figure_options
@click.option("--top", "top_k", type=click.IntRange(0, 50), default=5, show_default=True,
              help="Show this many real digits (from --data: MNIST files or your own images by label) that most "
                   "activate each unit.")
@click.option("--objective", type=click.Choice(["preactivation", "activation"]), default="preactivation",
              show_default=True, help="Maximize z (for softmax outputs: the logit) or the activation (probability).")
@click.option("--constraint", type=click.Choice(["box", "l2"]), default="box", show_default=True,
              help="box: pixels in [0, 1]; l2: also ||x|| <= 1.")
@click.option("--restarts", type=click.IntRange(1, 100), default=2, show_default=True,
              help="L-BFGS-B runs, from the best of the seeded screening starts.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@click.option("--l2", type=FiniteFloat(0, 1e6), default=0.0, help="Penalty on ||x||^2.")
@click.option("--tv", type=FiniteFloat(0, 1e6), default=0.0, help="Penalty on total variation.")
@click.option("--blur", type=FiniteFloat(0, 28), default=0.0, help="Blur the image by a Gaussian of this many pixels.")
@click.option("--npz", "npz_path", type=click.Path(dir_okay=False), default=None,
              help="Also write images, activations, pre-activations, bounds and methods to this .npz.")
def maximize_cmd(net, unit, out, fmt, dpi, palette, data, split, as_json, top_k, objective, constraint,
                 restarts, seed, l2, tv, blur, npz_path):
    """The input image that most activates each unit (exact for the first layer, L-BFGS-B deeper),
    beside the real digits that activate it most. With --json, prints per unit the activation reached,
    the bound where there is one and the seconds taken.

    \b
    Example:
        handnet render maximize demo/hand.npz --unit hidden2:7 --json
        handnet render maximize demo/hand.npz --data ../shared/mnist --npz maxima.npz
        handnet render maximize demo/hand.npz --top 3 --data my_digits/
    """
    from handnet.viz import gallery
    from handnet.inside import maximize as mx

    if npz_path:
        check_output(npz_path, [net, *data_inputs(data)], option="--npz")
    network = load_network(net, training_data(data))
    if unit is not None:
        network.unit(unit)  # a typo fails before any work
    X = scoring_digits(data, split).X if top_k else None
    n_units = 1 if unit is not None else len(network.units())
    started = time.perf_counter()
    with progress(n_units, "maximizing") as bar:
        figures, results = gallery.maximize_figures(
            network, unit, X, k=top_k, progress=bar.update, objective=objective, constraint=constraint,
            restarts=restarts, seed=seed, l2=l2, tv=tv, blur=blur,
        )
    seconds = time.perf_counter() - started
    written = _save(figures, out, _prefix(net), fmt, dpi)
    if npz_path:
        written.append(str(mx.save_maximizers(npz_path, results)))
    if as_json:
        _report(True, net, written, seconds=seconds, units=[r.to_dict() for r in results])
        return
    _report(False, net, written)
    for r in results:
        bound = "" if r.bound is None else f", bound {r.bound:.4g} (gap {r.gap:.1%})"
        click.echo(f"{r.unit}: activation {r.activation:.4g}, {r.objective} {r.value:.4g}{bound}; {r.method}, {r.seconds:.2f} s")
    click.echo(f"{len(results)} units in {seconds:.2f} s")


@render.command("tuning")
@figure_options
def tuning_cmd(net, unit, out, fmt, dpi, palette, data, split, as_json):
    """Tuning curves: edge units' activation as their stroke is rotated through 180 degrees and shifted
    across its position; part units' activation as each of their edges is removed. Strokes come from
    the net's spec metadata, or (trained nets) from the best-matching line.

    \b
    Example:
        handnet render tuning demo/hand.npz --unit edges:upper_bar
    """
    from handnet.viz import gallery

    network = load_network(net, data)
    refs = gallery.tuning_refs(network, unit)
    with progress(len(refs), "tuning curves") as bar:
        figures, results = gallery.tuning_figures(network, unit, progress=bar.update)
    written = _save(figures, out, _prefix(net), fmt, dpi)
    _report(as_json, net, written, units=[r.to_dict() for r in results] if as_json else None)


@render.command("diagram")
@figure_options
@click.option("--image", "image", default="0", show_default=True, metavar="INDEX|FILE",
              help="The digit to feed in: an index into the test digits, or an image file (PNG, JPEG, ...).")
@click.option("--top-k", type=click.IntRange(1, 50), default=3, show_default=True,
              help="Strongest incoming connections drawn per unit.")
def diagram_cmd(net, unit, out, fmt, dpi, palette, data, split, as_json, image, top_k):
    """The lit-up network for one digit: the image as the 784 inputs, every neuron shaded by its
    activation, each unit's strongest connections coloured by sign, the prediction highlighted.
    The digit is a test digit by index, or your own image file, made into an MNIST digit first.
    With --unit, that unit's paths are drawn in full (the inputs that carried it on this digit and
    its connections to the layer above) and the other connections faded.

    \b
    Example:
        handnet render diagram demo/hand.npz --image 7 --data ../shared/mnist
        handnet render diagram demo/hand.npz --unit parts:upper_loop
        handnet render diagram demo/hand.npz --image my7.png
    """
    from handnet.viz import gallery
    from handnet.errors import HandnetError

    network = load_network(net, training_data(data))
    if unit is not None:
        network.unit(unit)  # a typo fails before any work
    suffix = "" if unit is None else "-" + str(network.unit(unit)).replace(":", "-")
    if Path(image).is_file() or not image.isdigit():
        from handnet.cli.predict import image_input

        x = image_input(network, image)
        fig = gallery.diagram_figure(network, x, None, top_k, palette, unit=unit)
        fig.suptitle(f"{Path(image).name} as the network sees it", fontsize=9)
        stem = f"diagram-{Path(image).stem}" + suffix
    else:
        index = int(image)
        test = scoring_digits(data, split)
        if index >= len(test):
            raise HandnetError(f"--image {index}: the test split {test.name} has only {len(test)} digits (0-{len(test) - 1})")
        fig = gallery.diagram_figure(network, test.X[index], int(test.y[index]), top_k, palette, index, unit=unit)
        stem = f"diagram-{index}" + suffix
    written = _save({stem: fig}, out, _prefix(net), fmt, dpi)
    _report(as_json, net, written)


@render.command("digits")
@figure_options
@click.option("--count", type=click.IntRange(1, 400), default=40, show_default=True,
              help="Without --unit: how many test digits to show. With --unit: how many top digits.")
def digits_cmd(net, unit, out, fmt, dpi, palette, data, split, as_json, count):
    """Test digits through the net. Without --unit: the first COUNT test digits with the predicted digit
    (wrong ones in red). With --unit: the COUNT test digits that most activate that unit.

    \b
    Example:
        handnet render digits demo/hand.npz
        handnet render digits demo/hand.npz --unit parts:upper_loop --count 20
    """
    from handnet.viz import gallery

    network = load_network(net, training_data(data))
    if unit is not None:
        network.unit(unit)
    test = scoring_digits(data, split)
    fig = gallery.digit_figure(network, test.X, test.y, unit, count=count, k=count, source=f"{test.name} digits")
    stem = "digits" if unit is None else f"digits-{str(network.unit(unit)).replace(':', '-')}"
    written = _save({stem: fig}, out, _prefix(net), fmt, dpi)
    _report(as_json, net, written)


commands = [render]
