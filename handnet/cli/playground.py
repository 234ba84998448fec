"""``handnet playground``, ``serve`` and ``export``: your own digit through the network, live in a
browser, and the network out to other tools.

Each command is a few lines over ``handnet.viz.playground`` (the page and its server) or
``handnet.nn.export`` (safetensors).
"""

from __future__ import annotations

from pathlib import Path

import click

from handnet import load
from handnet.cli.common import data_options, json_option, note, print_json, progress, scoring_digits, training_data

PALETTES = ("lesson", "colorblind")


def palette_option(func):
    return click.option("--palette", type=click.Choice(PALETTES), default="lesson", show_default=True,
                        help="Weight colours: lesson green +/red -; colorblind blue +/orange -.")(func)


def _label_option(func):
    return click.option("--label", "labels", multiple=True, metavar="TEXT",
                        help="A name for each network on the page, in order (default: the spec's name or file name).")(func)


def _labels(labels, nets):
    from handnet.errors import HandnetError

    if labels and len(labels) != len(nets):
        raise HandnetError(f"--label given {len(labels)} times for {len(nets)} networks; give one per network or none")
    return list(labels) or None


@click.command("playground")
@click.argument("nets", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--out", default="playground.html", show_default=True, type=click.Path(dir_okay=False),
              help="The HTML file to write.")
@_label_option
@palette_option
@data_options
@json_option
def playground(nets, out, labels, palette, data, split, as_json):
    """Write one self-contained HTML page where you draw a digit and watch the networks light up.

    NETS are 1 to 4 saved networks (.npz) or specs (.toml), shown side by side. The page works offline
    (no server, no internet): the weights are inside it and the network runs in the browser. Click
    any neuron to see its weights, its maximizing input and the test digits (from --data) that
    activate it most.

    \b
    Example:
        handnet playground demo/hand.npz demo/twin.npz -o playground.html
        handnet playground weight_specs/3b1b.toml --palette colorblind
    """
    from handnet.viz.playground import write_playground

    networks = [(path, load(path, training_data(data))) for path in nets]
    test = scoring_digits(data, split)
    total = sum(len(net.units()) for _, net in networks)
    with progress(total, "maximizing inputs") as bar:
        path = write_playground(networks, out, test, palette, _labels(labels, nets), progress=bar.update)
    size = Path(path).stat().st_size
    if as_json:
        print_json({"out": str(path), "bytes": size, "networks": list(nets)})
        return
    click.echo(f"wrote {path} ({size / 1e6:.2f} MB): open it in a browser and draw a digit")


@click.command("serve")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Only this machine can reach the default.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=0.2, show_default=True,
              help="Seconds between looks at the spec files.")
@_label_option
@palette_option
@data_options
def serve(specs, port, host, interval, labels, palette, data, split):
    """Serve the playground live: save a spec and the open page updates within a second, keeping
    your drawing. A broken spec shows its errors on the page and the last good network stays.

    SPECS are 1 to 4 specs (.toml) or saved networks (.npz). The server listens on 127.0.0.1 only,
    answers only requests addressed to it, and serves /, /network.json (weights, unit names and
    each file's SHA-256) and /version. Ctrl-C stops it.

    \b
    Example:
        handnet serve weight_specs/3b1b.toml
        handnet serve weight_specs/3b1b.toml demo/twin.npz --port 8001
    """
    from handnet.viz.playground.server import LiveServer

    server = LiveServer(specs, scoring_digits(data, split), palette, host, port, data=training_data(data), interval=interval,
                        labels=_labels(labels, specs))
    try:  # a Ctrl-C at any moment from here on stops the server cleanly (serve_forever handles the usual one)
        server.start()
        click.echo(f"serving {', '.join(specs)} at {server.url}  (Ctrl-C stops)")
        if host not in ("127.0.0.1", "localhost", "::1"):
            note(f"warning: listening on {host}, so other machines on the network can open the page")
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
    click.echo("stopped")


@click.command("export")
@click.argument("net", type=click.Path(dir_okay=False))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="The .safetensors file to write.")
@click.option("--format", "fmt", type=click.Choice(["safetensors", "torch-snippet"]), default="safetensors",
              show_default=True, help="torch-snippet: also print the PyTorch code that loads the file.")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True,
              help="Number type of the tensors (PyTorch's default is float32).")
@data_options
@json_option
def export(net, out, fmt, dtype, data, split, as_json):
    """Export a network as safetensors, readable by the safetensors package in NumPy and PyTorch.

    Layer i's weights (out, in) are the tensor "{2i}.weight" and its biases "{2i}.bias": the names
    of an nn.Sequential alternating Linear and activation modules, so model.load_state_dict reads
    the file as it is. Layer names, activations and unit names are in the file's metadata.

    \b
    Example:
        handnet export demo/hand.npz -o hand.safetensors
        handnet export weight_specs/3b1b.toml -o 3b1b.safetensors --format torch-snippet
    """
    from handnet.nn.export import network_tensors, torch_snippet, write_safetensors

    network = load(net, data)
    path = write_safetensors(network, out, dtype)
    tensors = {name: list(t.shape) for name, t in network_tensors(network, dtype).items()}
    if as_json:
        print_json({"network": net, "out": str(path), "dtype": dtype, "tensors": tensors,
                    "snippet": torch_snippet(network, path, dtype) if fmt == "torch-snippet" else None})
        return
    if fmt == "torch-snippet":
        click.echo(torch_snippet(network, path, dtype), nl=False)
        note(f"wrote {path}")
        return
    click.echo(f"wrote {path}: " + ", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in tensors.items())
               + f" ({dtype})")


commands = [playground, serve, export]
