"""``handnet evaluate``: accuracy overall and per digit, and the confusion matrix."""

from pathlib import Path

import click

from .common import data_options, json_option, print_json


def load_network(path, data=None):
    """A saved network (``.npz``), or a spec (``.toml``) compiled on the spot with ``handnet.build``."""
    from ..errors import HandnetError

    suffix = Path(path).suffix.lower()
    if suffix == ".toml":
        try:
            from .. import build
        except ImportError:
            raise HandnetError(f"{path}: spec files are not supported yet by this handnet; pass a saved .npz") from None
        return build(path, data=data)
    if suffix != ".npz":
        raise HandnetError(f"{path}: expected a saved network (.npz) or a spec file (.toml), got {suffix or 'no suffix'!r}")
    from ..network import Network

    return Network.load(path)


@click.command("evaluate")
@click.argument("net", type=click.Path(dir_okay=False))
@data_options
@json_option
def evaluate(net, data, split, as_json):
    """Score a network: accuracy overall and per digit, and a confusion matrix.

    NET is a saved network (.npz) or a spec file (.toml), which is compiled first.
    Without --data the digits are the bundled sample's fixed 1,000-digit test split.

    \b
    Example:
        handnet evaluate demo/random.npz
        handnet evaluate demo/random.npz --data ../shared/mnist --split dev --json
    """
    from .. import data as datalib
    from ..evaluate import evaluate as run_evaluation

    network = load_network(net, data)
    dataset = datalib.load_test(data, split)
    result = run_evaluation(network, dataset)
    if as_json:
        print_json({"network": str(net), **result.to_dict()})
        return
    click.echo(f"network: {net}")
    click.echo(result.format_text())


commands = [evaluate]
