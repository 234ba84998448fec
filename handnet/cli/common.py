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
        help="Folder of MNIST IDX files (<split>-images-idx3-ubyte[.gz]), or of your own digit images in "
        "folders named by label (7/my7.png); default: the bundled sample.",
    )(func)
    return func


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


LABEL_FOLDERS = {str(d) for d in range(10)}


def is_image_folder(data) -> bool:
    """True when ``--data`` names a folder of digit images sorted into label folders (``7/my7.png``)
    rather than MNIST IDX files."""
    from pathlib import Path

    if data is None or not Path(data).is_dir():
        return False
    from handnet.data.mnist import find_splits

    try:
        if find_splits(data):
            return False
    except HandnetError:
        return False
    return any(entry.is_dir() and entry.name in LABEL_FOLDERS for entry in Path(data).iterdir())


def scoring_digits(data, split):
    """The digits a command scores or draws: ``--data``'s test split, or a folder of images by label."""
    if is_image_folder(data):
        if split:
            raise HandnetError(f"--split {split}: {data} is a folder of images sorted by label, which has no splits")
        from handnet.data.images import load_images

        return load_images(data)
    from handnet.data.mnist import load_test

    return load_test(data, split)


def training_data(data):
    """``--data`` as training data for specs that fit or calibrate: None (the bundled sample) when it is
    a folder of the user's own test images."""
    return None if is_image_folder(data) else data
