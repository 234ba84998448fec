"""Shared pieces of the command line: the error-catching group, common options, JSON output.

Commands import the library inside their bodies, so ``handnet --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
from pathlib import Path

import click

from handnet.errors import HandnetError


INTERNAL_ERROR = 70  # EX_SOFTWARE (sysexits.h): handnet itself is at fault, not the input


class InternalError(click.ClickException):
    """An exception that is no HandnetError: a bug. One line, exit code 70, traceback kept in a file."""

    exit_code = INTERNAL_ERROR


def _debugging(ctx) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or os.environ.get("HANDNET_DEBUG", "") not in ("", "0")


def crash_report(error: BaseException, command: str) -> Path | None:
    """Write the traceback of ``error`` under the cache folder; return the file (None if unwritable)."""
    from handnet.atomic import write_text
    from handnet.data.mnist import cache_dir

    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = cache_dir() / "crashes" / f"handnet-{stamp}-{os.getpid()}.txt"
    text = (f"handnet {_version()} crashed in `{command}`\nargv: {sys.argv!r}\npython: {sys.version.split()[0]}\n\n"
            + "".join(traceback.format_exception(error)))
    try:
        write_text(path, text)
    except Exception:  # noqa: BLE001  (a report that cannot be written must not hide the error)
        return None
    return path


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("handnet")
    except Exception:  # noqa: BLE001
        return "(unknown version)"


def internal_error(command: str, error: BaseException) -> InternalError:
    """The one line a user sees for a bug: what failed, and where the traceback went."""
    from handnet.errors import reason

    saved = crash_report(error, command)
    where = f"the traceback is in {saved}" if saved else "rerun with --debug to see the traceback"
    return InternalError(f"internal error in `{command}`: {type(error).__name__}: {reason(error)}; "
                         f"this is a bug in handnet, please report this ({where})")


class HandnetGroup(click.Group):
    """A click group that turns library errors into one-line messages instead of tracebacks.

    A HandnetError (bad input) or an OSError becomes its own one-line message, exit code 1. Any
    other exception is a bug: one line saying so, exit code 70, and the traceback written to a
    file under the cache folder (or shown in full with ``handnet --debug``).
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
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
        except Exception as e:  # noqa: BLE001  (the last resort: never a traceback)
            if _debugging(ctx):
                raise
            command = ctx.command_path + (f" {ctx.invoked_subcommand}" if ctx.invoked_subcommand else "")
            raise internal_error(command, e) from None


class FiniteFloat(click.ParamType):
    """A float that is finite (no nan, inf) and within [min, max] where given."""

    name = "float"

    def __init__(self, min: float | None = None, max: float | None = None, min_open: bool = False):
        self.min, self.max, self.min_open = min, max, min_open

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"expected a number, got {value!r}", param, ctx)
        if not math.isfinite(number):
            self.fail(f"expected a finite number, got {value!r}", param, ctx)
        low_bad = self.min is not None and (number <= self.min if self.min_open else number < self.min)
        if low_bad or (self.max is not None and number > self.max):
            self.fail(f"expected a number in {self._range()}, got {value!r}", param, ctx)
        return number

    def _range(self) -> str:
        low = "(-inf" if self.min is None else ("(" if self.min_open else "[") + f"{self.min:g}"
        high = "inf)" if self.max is None else f"{self.max:g}]"
        return f"{low}, {high}"


def check_output(path, inputs=(), **kwargs):
    """``handnet.atomic.check_output``: refuse a destructive output before any work."""
    from handnet.atomic import check_output

    return check_output(path, inputs, **kwargs)


def spec_inputs(spec) -> list:
    """The spec file and every file it includes or extends (reading them, not validating them)."""
    from handnet.spec.read import read_spec_data

    return [spec] + [source for source, _ in read_spec_data(spec).sources]


def data_inputs(data) -> list:
    """The MNIST files a command reads from ``--data`` (empty for the bundled sample)."""
    from handnet.data.mnist import data_files

    return data_files(data)


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
