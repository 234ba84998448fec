"""``handnet predict``: your own digit images through a network.

Each image is made into an MNIST digit by ``handnet.data.images.load_image`` (grey, polarity fixed,
cropped to the ink, scaled into a 20x20 box, centred by its centre of mass in 28x28); a ``.npy``
array is taken as the network's input as it is, so an input printed by ``--json`` (or taken from
the playground page) can be fed back exactly.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from handnet import load
from handnet.cli.common import data_options, json_option, print_json, training_data


def image_input(network, path) -> np.ndarray:
    """The input ``(pixels,)`` in [0, 1] that ``network`` reads for the file at ``path``."""
    from handnet.errors import DataError

    path = Path(path)
    rows, cols = network.input_shape
    if path.suffix.lower() == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(f"{path}: not a readable .npy array ({e})") from None
        if x.size != rows * cols or not np.issubdtype(x.dtype, np.number):
            raise DataError(f"{path}: holds a {x.dtype} array of shape {x.shape}; expected {rows}x{cols} numbers in [0, 1]")
        x = x.astype(np.float64).reshape(-1)
        if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
            raise DataError(f"{path}: values must be finite and in [0, 1] (ink bright on dark), "
                            f"got {np.nanmin(x):.3g} to {np.nanmax(x):.3g}")
        return x
    if (rows, cols) != (28, 28):
        raise DataError(f"{path}: image files become 28x28 digits, but this network reads {rows}x{cols} inputs; "
                        f"give it a .npy array of {rows}x{cols} values instead")
    from handnet.data.images import load_image

    return load_image(path).reshape(-1)


@click.command("predict")
@click.argument("net", type=click.Path(dir_okay=False))
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--top", type=click.IntRange(1, 100), default=3, show_default=True, help="Output units listed per image.")
@data_options
@json_option
def predict(net, images, top, data, split, as_json):
    """Read your own digit images: print the digit the network sees in each, and its output activations.

    NET is a saved network (.npz) or a spec (.toml). IMAGES are PNG, JPEG or any common format: a photo
    of dark ink on paper or white on black alike. Each is made into an MNIST digit first: grey, ink
    made bright, cropped to the ink, scaled into a 20x20 box and centred in 28x28 by its centre of mass.
    A .npy array of 28x28 values in [0, 1] is used as it is. With --json: every unit's activation and the
    28x28 input the network actually saw.

    \b
    Example:
        handnet predict demo/hand.npz my7.png
        handnet predict weight_specs/3b1b.toml photo.jpg --json
    """
    from handnet.errors import HandnetError
    from handnet.nn.labels import answers, output_labels

    network = load(net, training_data(data))
    output = network.layers[-1]
    try:  # which digit each output answers, by name or the spec's label = N
        read = answers(network)
        label_of = dict(zip(read.columns, read.labels))
    except HandnetError:  # some outputs answer no digit: those answer by their names, the others by their labels
        try:
            label_of = {i: lab for i, lab in enumerate(output_labels(network)) if lab is not None}
        except HandnetError:
            label_of = {}
    results = []
    for path in images:
        x = image_input(network, path)
        acts = network.forward(x[None, :])
        out = acts[-1][0]
        best = int(np.argmax(out))
        results.append({
            "image": str(path),
            "prediction": output.units[best],
            "digit": label_of.get(best),
            "outputs": {u: float(v) for u, v in zip(output.units, out)},
            "activations": {layer.name: {u: float(v) for u, v in zip(layer.units, a[0])}
                            for layer, a in zip(network.layers, acts[1:])},
            "input": x.reshape(network.input_shape).tolist(),
        })
    if as_json:
        print_json({"network": str(net), "images": results})
        return
    click.echo(f"{net}: the brightest of the {output.n_out} {output.name} units is the answer; each value is that "
               "unit's activation, 0 (off) to 1 (fully on).")
    for r in results:
        ranked = sorted(r["outputs"].items(), key=lambda kv: -kv[1])[:top]
        shown = ", ".join(f"{u} {v:.2f}" for u, v in ranked)
        reads = "" if r["digit"] is None or str(r["digit"]) == r["prediction"] else f" (reads as {r['digit']})"
        click.echo(f"{r['image']}: {r['prediction']}{reads}   ({shown})")


commands = [predict]
