"""Atomic file writes: write to a temporary file beside the target, then rename.

A reader never sees a half-written file, and a failed write leaves the old file intact. A writer
killed outright (SIGKILL, power loss) cannot remove its temporary file; the temporary name holds
the writer's process id, so the next write into the same folder removes the leftovers of writers
that are no longer running.

``check_output`` refuses, before any work, an output path that would destroy something: a device,
FIFO or other non-regular file, a folder, one of the command's own inputs, or a figure name whose
suffix no figure writer knows.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from pathlib import Path

from handnet.errors import OutputError

# .NAME.<pid>.<random>.tmp<suffix>, as made by atomic_path below
_TMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp(\.[^.]*)?$")
# figure formats matplotlib writes without extra software (a fixed list keeps this check import-free)
FIGURE_FORMATS = ("png", "svg", "svgz", "pdf", "ps", "eps", "jpg", "jpeg", "tif", "tiff", "webp")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # someone else's process, or a number no process can have
    return True


def clean_leftovers(folder) -> list[Path]:
    """Remove the temporary files that killed writers left in ``folder``; return what was removed.

    Only files named as ``atomic_path`` names them whose writer process no longer exists are touched.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_NAME.match(entry.name)
        if not m or _alive(int(m["pid"])):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _refuse_non_regular(path: Path) -> None:
    try:
        st = os.stat(path)  # follows links: a link to a device is a device
    except FileNotFoundError:
        return
    except OSError as e:
        raise OutputError(f"{path}: cannot be used as an output file ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: is a folder; expected the name of a file to write")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{path}: is a device, FIFO or socket, not a regular file; refusing to replace it")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary name keeps ``path``'s suffix, so writers that add a suffix of their own
    (``numpy.savez``, ``Figure.savefig``) write exactly where they are told. An existing ``path``
    that is not a regular file (a device, a FIFO, a folder) is refused, never replaced.
    """
    path = Path(path)
    _refuse_non_regular(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    # mkstemp makes the file private (0600); give it the mode an ordinary new file would have
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))



def figure_format(path) -> str:
    """The figure format a path's suffix asks for (``png`` when it has none); OutputError if unknown."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt not in FIGURE_FORMATS:
        raise OutputError(f"{path}: unknown figure format {path.suffix!r}; expected one of "
                          f"{', '.join('.' + f for f in FIGURE_FORMATS)}")
    return fmt


def save_figure(fig, path, **savefig_kwargs) -> Path:
    """Save a matplotlib Figure atomically; the format follows the path's suffix."""
    path = Path(path)
    fmt = figure_format(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, **savefig_kwargs)
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_output(path, inputs=(), *, folder: bool = False, figure: bool = False, option: str = "-o") -> Path:
    """Refuse, before any work, an output that would destroy something; return it as a Path.

    A file output (the default) must not be a folder, a device, a FIFO or a socket, nor be one of
    ``inputs`` (the spec, the data files, the network read). A ``folder`` output must be a folder
    if it exists. A ``figure`` output must also have a suffix that names a known figure format.
    """
    if str(path) == "":
        raise OutputError(f"{option}: expected a path, got an empty string")
    path = Path(path)
    if folder:
        if path.exists() and not path.is_dir():
            raise OutputError(f"{option} {path}: exists and is not a folder; expected a folder for the output files")
        return path
    _refuse_non_regular(path)
    for given in inputs:
        if given is not None and _same_file(path, Path(given)):
            raise OutputError(f"{option} {path}: is also an input of this command; writing it would destroy "
                              "the input, choose another output name")
    if figure:
        figure_format(path)
    return path
