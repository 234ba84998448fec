"""The ``handnet`` command: a thin layer of click commands over the library.

Each area keeps its commands in its own module (listed in ``commands``); this one assembles them.
"""

import click

from . import compare, data, demo, evaluate, network, render, spec, train, tune
from .common import HandnetGroup


@click.group(cls=HandnetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="handnet")
def main():
    """handnet: hand-designed and gradient-trained 784-16-16-10 digit networks, and tools to look inside.

    \b
    Example:
        handnet data info
        handnet info demo/hand.npz
    """


for command in [data.data, network.info, demo.demo]:
    main.add_command(command)
for area in (spec, evaluate, train, render, compare, tune):
    for command in area.commands:
        main.add_command(command)
