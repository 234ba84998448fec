"""``handnet evaluate``: accuracy overall and per digit, and the confusion matrix."""

import click

from handnet.cli.common import (data_options, digits_option, json_option, load_network, print_json, scorable, scoring_digits,
                                training_data)


@click.command("evaluate")
@click.argument("net", type=click.Path(dir_okay=False))
@data_options
@digits_option
@json_option
def evaluate(net, data, split, digits, as_json):
    """Score a network: accuracy overall and per digit, and a confusion matrix.

    NET is a saved network (.npz) or a spec file (.toml), which is compiled first.
    Without --data the digits are the bundled sample's fixed 1,000-digit test split. --data may also
    be a folder of your own digit images sorted into folders named by label (my_digits/7/my7.png).
    Output units answer by name (a unit named 7 answers 7 wherever it sits); a network
    whose outputs cover some digits is scored on the test digits of those labels.

    \b
    Example:
        handnet evaluate demo/hand.npz
        handnet evaluate demo/hand.npz --data ../shared/mnist --split dev --json
        handnet evaluate demo/hand.npz --digits 0,1,7
        handnet evaluate demo/hand.npz --data my_digits/
    """
    from handnet.nn.evaluate import evaluate as run_evaluation

    network = load_network(net, training_data(data))
    read = scorable(network, net, digits)
    dataset = scoring_digits(data, split)
    result = run_evaluation(network, dataset, read=read)
    if as_json:
        print_json({"network": str(net), **result.to_dict()})
        return
    click.echo(f"network: {net}")
    click.echo(result.format_text())


commands = [evaluate]
