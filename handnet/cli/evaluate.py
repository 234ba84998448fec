"""``handnet evaluate``: accuracy overall and per digit, and the confusion matrix."""

import click

from handnet.cli.common import data_options, json_option, load_network, print_json


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
        handnet evaluate demo/hand.npz
        handnet evaluate demo/hand.npz --data ../shared/mnist --split dev --json
    """
    from handnet.data import mnist as datalib
    from handnet.nn.evaluate import evaluate as run_evaluation

    network = load_network(net, data)
    dataset = datalib.load_test(data, split)
    result = run_evaluation(network, dataset)
    if as_json:
        print_json({"network": str(net), **result.to_dict()})
        return
    click.echo(f"network: {net}")
    click.echo(result.format_text())


commands = [evaluate]
