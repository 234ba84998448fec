"""``handnet info``: what a saved network holds."""

import click

from handnet.cli.common import json_option, print_json


@click.command("info")
@click.argument("net", type=click.Path(dir_okay=False))
@json_option
def info(net, as_json):
    """Print a saved network's layers, unit names, parameter counts and provenance.

    \b
    Example:
        handnet info demo/hand.npz
    """
    from handnet.nn.network import Network

    network = Network.load(net)
    summary = network.describe()
    if as_json:
        print_json(summary)
        return
    click.echo(f"{net}: {'-'.join(map(str, network.sizes))} network, {network.n_parameters:,} parameters")
    for layer in summary["layers"]:
        aliases = "/".join(a for a in layer["aliases"] if a != layer["name"])
        click.echo(
            f"  {layer['name']}{f' ({aliases})' if aliases else ''}: {layer['n_out']} {layer['activation']} units "
            f"over {layer['n_in']} inputs, {layer['n_parameters']:,} parameters"
        )
        click.echo(f"    units: {', '.join(layer['units'])}")
    from handnet.nn.labels import output_labels

    answers = output_labels(network)
    if any(label is not None for label in answers):
        pairs = ", ".join(f"{u}={lab}" if u != str(lab) else u for u, lab in zip(network.layers[-1].units, answers)
                          if lab is not None)
        unnamed = [u for u, lab in zip(network.layers[-1].units, answers) if lab is None]
        click.echo(f"  output units answer (by name): {pairs}" + (f"; no digit: {', '.join(unnamed)}" if unnamed else ""))
    provenance = network.metadata.get("provenance")
    if provenance:
        click.echo("  provenance: " + ", ".join(f"{k}={v}" for k, v in provenance.items()))
