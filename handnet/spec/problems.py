"""The validator's core: it collects every problem in a merged spec, each naming the file that wrote
the table, the field and what was expected, so that one SpecError can list them all."""

from __future__ import annotations

import difflib
import math
from pathlib import Path

from handnet.spec.model import LIMITS, NAME


def _closest(word: str, options) -> str:
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _show(value, width: int = 80) -> str:
    """``repr(value)``, cut to ``width`` characters: a message quotes the value, not a whole table."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 4] + " ..."


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _range(low, high) -> str:
    """``a number in [0, 1]``, ``a number >= 0`` or ``a number <= 1``, as the bounds given say."""
    if low is not None and high is not None:
        return f"a number in [{low:g}, {high:g}]"
    return f"a number >= {low:g}" if low is not None else f"a number <= {high:g}"


class Problems:
    """Collects problems: ``fail`` records one; ``number``, ``parameter`` and ``unknown_keys`` check a field."""

    def __init__(self, path: Path, data: dict, origin: dict, sources: list):
        self.path, self.data, self.origin, self.sources = path, data, origin, sources
        self.problems: list[str] = []

    def fail(self, where: tuple, message: str) -> None:
        # the file that last wrote this table (an included base or the spec itself)
        src = next((self.origin[where[:n]] for n in (2, 1) if where[:n] in self.origin), str(self.path))
        self.problems.append(f"{src}: {'.'.join(str(w) for w in where)}: {message}")

    def number(self, where, value, low=None, high=None, positive=False, integer=False):
        if integer and not (isinstance(value, int) and not isinstance(value, bool)):
            self.fail(where, f"expected a whole number, got {_show(value)}")
            return None
        if not _is_number(value):
            self.fail(where, f"expected a number, got {_show(value)}")
            return None
        if positive and value <= 0:
            self.fail(where, f"expected a number > 0, got {_show(value)}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(where, f"expected {_range(low, high)}, got {_show(value)}")
            return None
        return value

    def parameter(self, where, key: str, value):
        """A template or logic parameter: > 0 (inhibition >= 0) and at most LIMITS[key]."""
        v = self.number(where, value, positive=key != "inhibition", low=0 if key == "inhibition" else None)
        if v is not None and v > LIMITS[key]:
            self.fail(where, f"expected at most {LIMITS[key]:g}, got {_show(value)}")
            return None
        return v

    def overrides(self, where, unit: dict, defaults: dict) -> dict:
        """``defaults`` with the unit's own values of those parameters, each checked by ``parameter``."""
        params = dict(defaults)
        for key in defaults:
            if key in unit:
                v = self.parameter(where + (key,), key, unit[key])
                if v is not None:
                    params[key] = float(v)
        return params

    def unknown_keys(self, where, table: dict, allowed) -> None:
        for key in table:
            if key not in allowed:
                self.fail(where + (key,), f"unknown field{_closest(key, allowed)}; expected one of {', '.join(sorted(allowed))}")

    def quantile(self, where, value):
        if value is None:
            return None
        if not (isinstance(value, dict) and set(value) == {"quantile"}):
            self.fail(where, f"expected {{ quantile = q }} with q in (0, 1), got {_show(value)}")
            return None
        q = value["quantile"]
        if not (_is_number(q) and 0 < q < 1):
            self.fail(where + ("quantile",), f"expected a number in (0, 1), got {_show(q)}")
            return None
        return float(q)

    def unit_name(self, where, name) -> None:
        if not NAME.match(str(name)):
            self.fail(where, "unit names are letters, digits, _, . and - (no spaces or colons)")
