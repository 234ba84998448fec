"""``handnet demo``: the main job on the bundled data, end to end, as far as handnet goes today."""

from pathlib import Path

import click

from .common import note


@click.command("demo")
@click.option("-o", "--out", default="demo", show_default=True, type=click.Path(file_okay=False), help="Output folder.")
def demo(out):
    """Run the main job on the bundled sample: data, networks, figures, comparison.

    \b
    Example:
        handnet demo -o demo
    """
    from .. import data as datalib
    from ..network import random_network

    out = Path(out)
    splits = datalib.load_splits()
    click.echo(f"data: {splits.description}")
    net = random_network(seed=0)
    click.echo(f"untrained 784-16-16-10 network (seed 0): test accuracy {net.accuracy(splits.test.X, splits.test.y):.1%}")
    path = net.save(out / "random.npz")
    click.echo(f"saved {path}")
    note("not yet built: spec compiler, trainer, figures and comparison (see the open issues)")
