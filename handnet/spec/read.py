"""Reading spec files: TOML in, includes and bases merged, then validated into a ``Spec``.

A spec has three layers: ``edges`` (strokes drawn on the canvas), ``parts`` (soft logic over
named edges) and ``digits`` (soft logic over named parts, or a readout fitted on data). Layer
tables hold defaults as plain keys and one sub-table per unit::

    [edges]
    sharpness = 12
    [edges.top_bar]
    strokes = [{ line = [[6, 9], [6, 19]] }]

``load_spec(path)`` reads a file, merges the files it ``extends``/``include``s, and validates
everything at once: every problem names the file, the table and the field, and all of them are
reported together in one ``SpecError``. See docs/spec.md for the full reference.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from handnet.errors import SpecError
from handnet.nn.network import nesting_depth
from handnet.spec.model import MAX_NESTING, MAX_SPEC_BYTES, MAX_SPEC_FILES, Spec
from handnet.spec.validate import Validator


def _read_toml(path: Path) -> tuple[dict, bytes]:
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            raise SpecError(f"{path}: is a device, FIFO or socket, expected a .toml spec file")
        with open(path, "rb") as f:
            raw = f.read(MAX_SPEC_BYTES + 1)  # never more, whatever the file claims
        if len(raw) > MAX_SPEC_BYTES:
            raise SpecError(f"{path}: more than the {MAX_SPEC_BYTES:,} bytes a spec file may have (see docs/limits.md)")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a directory, expected a .toml spec file") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise SpecError(f"{path}: a symbolic link that leads back to itself, expected a .toml spec file") from None
        raise SpecError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text, expected a TOML spec") from None
    except tomllib.TOMLDecodeError as e:
        hint = " (a duplicate unit name?)" if "twice" in str(e) else ""
        raise SpecError(f"{path}: TOML syntax error: {e}{hint}") from None
    except RecursionError:
        data = None
    if data is None or nesting_depth(data, MAX_NESTING) > MAX_NESTING:
        raise SpecError(f"{path}: tables and lists nest more than {MAX_NESTING} deep, the most a spec may "
                        "(see docs/limits.md)")
    return data, raw


def _resolve(path: Path, where: str) -> Path:
    """``path`` resolved; ``where`` (``"spec.toml: "`` or ``"spec.toml: include: 'base.toml' "``) starts the message."""
    try:
        return path.resolve(strict=True)
    except FileNotFoundError:
        raise SpecError(f"{where}no such spec file") from None
    except (OSError, RuntimeError):  # RuntimeError: Python 3.11's pathlib on a symlink loop
        raise SpecError(f"{where}is a symbolic link that leads back to itself (directly or through others)") from None


def _merge(base: dict, over: dict, origin: dict, path: str, prefix: tuple = ()) -> dict:
    """Deep-merge ``over`` onto ``base``; remember which file last set each unit table."""
    out = dict(base)
    for key, value in over.items():
        here = prefix + (key,)
        if len(here) <= 2:
            origin[here] = path
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not value.get("replace"):
            out[key] = _merge(out[key], value, origin, path, here)
        else:
            out[key] = value
            if isinstance(value, dict):
                for sub in value:
                    origin[here + (sub,)] = path
    return out


def _load_raw(path: Path, seen: tuple, origin: dict, sources: list) -> dict:
    data, raw = _read_toml(path)
    sources.append((str(path), hashlib.sha256(raw).hexdigest()))
    bases = []
    for key in ("include", "extends"):
        value = data.pop(key, None)
        if value is None:
            continue
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SpecError(f"{path}: {key}: expected a file name or a list of file names, got {value!r}")
        bases += [(key, n) for n in names]
    if len(seen) + len(bases) > MAX_SPEC_FILES or len(sources) > MAX_SPEC_FILES:
        raise SpecError(f"{path}: more than {MAX_SPEC_FILES} spec files included, the most a spec may "
                        "read (see docs/limits.md)")
    merged: dict = {}
    for key, name in bases:
        if not (path.parent / name).exists() and not (path.parent / name).is_symlink():
            raise SpecError(f"{path}: {key}: no spec file {name!r} beside it")
        base_path = _resolve(path.parent / name, f"{path}: {key}: {name!r} ")
        if base_path in seen:
            raise SpecError(f"{path}: {key}: {name!r} includes itself (cycle {' -> '.join(p.name for p in seen)})")
        if not base_path.is_file():
            raise SpecError(f"{path}: {key}: no spec file {name!r} beside it")
        merged = _merge(merged, _load_raw(base_path, seen + (base_path,), origin, sources), origin, str(base_path))
    return _merge(merged, data, origin, str(path))


@dataclass(frozen=True)
class SpecData:
    """A spec file read and merged (includes and bases) but not yet validated.

    ``data`` is the merged TOML tables; ``origin`` maps each table to the file that last wrote it, so
    problems found later still name the right file. Tools that edit a spec in memory (``sweep``) change
    a copy of ``data`` and call ``spec(data)``.
    """

    path: Path
    data: dict
    origin: dict
    sources: tuple

    def spec(self, data: dict | None = None) -> "Spec":
        """Validate ``data`` (default: the file's own) as if it had been read from ``path``."""
        chosen = copy.deepcopy(self.data if data is None else data)
        return Validator(self.path, chosen, dict(self.origin), list(self.sources)).spec()


def read_spec_data(path) -> SpecData:
    """Read and merge a spec file and what it includes, without validating it."""
    path = Path(path)
    origin: dict = {}
    sources: list = []
    if not path.exists() and not path.is_symlink():
        raise SpecError(f"{path}: no such spec file")
    data = _load_raw(path, (_resolve(path, f"{path}: "),), origin, sources)
    return SpecData(path, data, origin, tuple(sources))


def load_spec(path) -> Spec:
    """Read, merge and validate a spec file; raise one SpecError listing every problem found."""
    return read_spec_data(path).spec()
