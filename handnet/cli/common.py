"""Shared pieces of the command line: the error-catching group, common options, JSON output.

Commands import the library inside their bodies, so ``handnet --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import sys

import click

from handnet.errors import HandnetError


class HandnetGroup(click.Group):
    """A click group that turns library errors into one-line messages instead of tracebacks."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HandnetError as e:
            raise click.ClickException(str(e)) from None
        except FileNotFoundError as e:
            raise click.ClickException(f"{e.filename}: no such file or directory") from None
        except PermissionError as e:
            raise click.ClickException(f"{e.filename}: permission denied") from None
        except IsADirectoryError as e:
            raise click.ClickException(f"{e.filename}: is a directory, expected a file") from None
        except OSError as e:
            where = f"{e.filename}: " if getattr(e, "filename", None) else ""
            raise click.ClickException(f"{where}{e.strerror or e}") from None


def data_options(func):
    """``--data DIR`` and ``--split NAME``, the way every command chooses digits."""
    func = click.option(
        "--split",
        default=None,
        metavar="NAME",
        help="Test split in the data directory (default: t10k/test, or its only split; bundled: test).",
    )(func)
    func = click.option(
        "--data",
        default=None,
        envvar="HANDNET_DATA",
        metavar="DIR",
        type=click.Path(file_okay=False),
        help="Folder of MNIST IDX files (<split>-images-idx3-ubyte[.gz]); default: the bundled sample.",
    )(func)
    return func


def _parse_digits(ctx, param, value):
    from handnet.nn.labels import parse_digits

    try:
        return parse_digits(value)
    except HandnetError as e:
        raise click.BadParameter(str(e).split(": ", 1)[1], param_hint="--digits") from None


digits_option = click.option(
    "--digits", default=None, metavar="D,D,...", callback=_parse_digits,
    help="Score only these labels, e.g. 0,1,7: their test digits, the answer the brightest of their outputs "
         "(default: every label the network's outputs answer, matched by name).")

def scorable(network, path, digits=None):
    """The network's readout (output units matched to digits by name), or a one-line error naming the file."""
    from handnet.nn.labels import readout

    try:
        return readout(network, digits)
    except HandnetError as e:
        raise HandnetError(f"{path}: {e}") from None


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of text.")


def _clean(obj):
    """Make numpy scalars/arrays and non-finite floats JSON-safe."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def print_json(obj) -> None:
    """Print one JSON object on stdout."""
    click.echo(json.dumps(_clean(obj), indent=2, sort_keys=False))


def note(message: str) -> None:
    """A remark for the person at the terminal: stderr, so stdout stays clean for --json."""
    click.echo(message, err=True)


def progress(length: int, label: str):
    """A progress bar on stderr (hidden when stderr is not a terminal)."""
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)
