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
    provenance = network.metadata.get("provenance")
    if provenance:
        click.echo("  provenance: " + ", ".join(f"{k}={v}" for k, v in provenance.items()))
