"""The ``handnet`` command: a thin layer of click commands over the library.

Each command group keeps its commands in its own module (listed in ``commands``), a few lines over
one package; this one assembles them. The cli may use every package; nothing imports the cli.
Commands import the library inside their bodies, so ``handnet --help`` stays fast.
"""

import click

from handnet.cli import compare, data, demo, evaluate, figures, network, playground, predict, render, spec, train, tune
from handnet.cli.common import HandnetGroup


@click.group(cls=HandnetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="handnet")
@click.option("--debug", is_flag=True, envvar="HANDNET_DEBUG",
              help="Show the full traceback of an internal error instead of saving it under the cache folder.")
def main(debug):
    """handnet: hand-designed and gradient-trained 784-16-16-10 digit networks, and tools to look inside.

    \b
    Example:
        handnet data info
        handnet info demo/hand.npz
    """


for command in [data.data, network.info, demo.demo]:
    main.add_command(command)
for area in (spec, evaluate, predict, train, render, figures, compare, tune, playground):
    for command in area.commands:
        main.add_command(command)
