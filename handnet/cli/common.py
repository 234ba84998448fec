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
        from handnet.threads import one_blas_thread

        try:
            with one_blas_thread():  # handnet's products are small; training's large batches opt back in
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


def jobs_option(func):
    """``--jobs N``: independent training runs (seeds, refits) in N processes, the same results as ``--jobs 1``."""
    from handnet.threads import available_cores

    return click.option("--jobs", type=click.IntRange(1), default=available_cores(), show_default="the available cores",
                        help="Processes for the independent training runs (seeds, refits); the results are the same "
                             "bit for bit with --jobs 1, which runs them one after another.")(func)


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


def _seconds(t: float) -> str:
    return f"{t:.0f} s" if t < 90 else f"{t / 60:.1f} min"


def training_status(record: dict) -> str:
    """A training epoch's record (``handnet.nn.train``) as the one status line every trainer shows."""
    parts = [f"loss {record['loss']:.4f}"] if record.get("loss") is not None else []
    for key, name in (("train_accuracy", "train"), ("test_accuracy", "test")):
        if record.get(key) is not None:
            parts.append(f"{name} {record[key]:.1%}")
    return "  ".join(parts)


class Progress:
    """What is happening, how far it got and how long is left, on stderr: a bar with the count and
    an ETA on a terminal; otherwise (a log, a pipe, CI) plain lines, ``label: done/total ... (about
    N s left)``, at most one every ``interval`` seconds and always one when the step ends, so a
    quick step is one line and a long one shows it is moving.

    ``update(n=1, status=None)`` advances by ``n`` steps; ``status`` is a short text shown beside the
    count (a dict is read as a training record: loss and accuracy). ``update(0, status)`` changes the
    status only, which on a terminal shows that work goes on and otherwise prints nothing.
    """

    def __init__(self, length: int, label: str, file=None, terminal: bool | None = None, interval: float = 5.0):
        self.length, self.label, self.interval = max(int(length), 1), label, interval
        self.file = file if file is not None else sys.stderr
        self.terminal = bool(getattr(self.file, "isatty", lambda: False)()) if terminal is None else terminal
        self.done, self.started, self.shown, self._bar = 0, time.monotonic(), None, None

    def __enter__(self):
        self.started = time.monotonic()
        if self.terminal:
            self._bar = click.progressbar(length=self.length, label=self.label, file=self.file, show_pos=True,
                                          show_eta=True, item_show_func=lambda status: status)
            self._bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)
        return False

    def update(self, n: int = 1, status=None) -> None:
        if isinstance(status, dict):
            status = training_status(status)
        self.done = min(self.done + n, self.length)
        if self._bar is not None:
            self._bar.update(n, status)
            return
        now = time.monotonic()
        finished = self.done >= self.length
        if n == 0 or self.shown == "end" or not (finished or now - (self.shown or self.started) >= self.interval):
            return
        self.shown, elapsed = now, now - self.started
        line = f"{self.label.strip()}: {self.done}/{self.length}" + (f"  {status}" if status else "")
        if finished:
            line += f"  (done in {_seconds(elapsed)})"
        else:
            line += f"  ({_seconds(elapsed)} so far, about {_seconds(elapsed * (self.length - self.done) / self.done)} left)"
        click.echo(f"{self.label[: len(self.label) - len(self.label.lstrip())]}{line}", file=self.file)
        if finished:
            self.shown = "end"


def progress(length: int, label: str) -> Progress:
    """The one progress display: ``with progress(n, "what") as bar: ... bar.update(1)`` (see ``Progress``)."""
    return Progress(length, label)


def load_network(path, data=None):
    """``handnet.load``: a saved network, or a spec compiled on the spot; a spec that fits or
    calibrates on training digits shows its progress while it does."""
    from pathlib import Path

    from handnet import load

    if Path(path).suffix.lower() != ".toml" or not Path(path).is_file():
        return load(path, data)
    from handnet.compiler.compile import compile_spec, compile_steps
    from handnet.spec import load_spec

    spec = load_spec(path)
    if not spec.needs_data:
        return compile_spec(spec)
    where = "the bundled training sample" if data is None else data
    with progress(compile_steps(spec), f"compiling {path} (fitting on {where})") as bar:
        return compile_spec(spec, data, progress=bar.update)


def palette_option(func):
    """``--palette``, the weight colours of every figure a command draws (``handnet.viz.style``)."""
    from handnet.viz.style import PALETTE_HELP, PALETTES

    return click.option("--palette", type=click.Choice(list(PALETTES)), default="lesson", show_default=True,
                        help=PALETTE_HELP)(func)


def command_name() -> str:
    """How to run handnet again from this shell, for hints: ``handnet`` when that is on PATH, else the
    path it was run by (``.venv/bin/handnet`` after ``make demo``), else ``PYTHON -m handnet``."""
    import os
    import shlex
    import shutil
    from pathlib import Path

    def shown(path) -> str:
        path = Path(path)
        try:
            path = path.resolve().relative_to(Path.cwd().resolve()) if path.is_absolute() else path
        except ValueError:
            pass
        text = str(path)
        return shlex.quote(text if "/" in text or path.is_absolute() else f"./{text}")

    on_path = shutil.which("handnet")
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.stem == "handnet" and argv0.is_file():
        if on_path and os.path.samefile(on_path, argv0):
            return "handnet"
        return shown(argv0)
    if on_path and Path(on_path).parent == Path(sys.executable).parent:
        return "handnet"
    return f"{shown(sys.executable)} -m handnet"


def activate_hint(command: str) -> str | None:
    """When ``command`` is a virtualenv's handnet, how to make plain ``handnet`` work in this shell."""
    from pathlib import Path

    if command in ("handnet",) or " " in command:
        return None
    activate = Path(command).parent / "activate"
    return f"(or run `. {activate}` once, and plain `handnet` works in this shell)" if activate.is_file() else None


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
