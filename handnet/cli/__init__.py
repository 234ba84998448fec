"""The ``handnet`` command: a thin layer of click commands over the library.

Each area keeps its commands in its own module; this one assembles them.
"""

import click

from . import data, demo, network
from .common import HandnetGroup


@click.group(cls=HandnetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="handnet")
def main():
    """handnet: hand-designed and gradient-trained 784-16-16-10 digit networks, and tools to look inside.

    \b
    Example:
        handnet data info
        handnet info demo/3b1b.npz
    """


main.add_command(data.data)
main.add_command(network.info)
main.add_command(demo.demo)
