"""The validator's core: it collects every problem in a merged spec, each naming the file that wrote
the table, the field and what was expected, so that one SpecError can list them all."""

from __future__ import annotations

import difflib
import math
from pathlib import Path

from handnet.spec.model import LIMITS, NAME, KnownException


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

    def digit_list(self, where, value) -> tuple[int, ...] | None:
        """``digits = [9, 8, 0]``: the digits a unit is meant to fire on, distinct, each 0-9 (an empty
        list: none). ``explain --digits`` reads it in place of the digits the doc names."""
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            self.fail(where, f"expected a list of digits 0-9 such as [9, 8, 0], got {_show(value)}")
            return None
        bad = [v for v in value if not 0 <= v <= 9]
        if bad:
            self.fail(where, f"expected digits 0-9, got {bad[0]}")
            return None
        dupes = sorted({v for v in value if value.count(v) > 1})
        if dupes:
            self.fail(where, f"{', '.join(map(str, dupes))} listed twice")
            return None
        return tuple(value)

    def unit_name(self, where, name) -> None:
        if not NAME.match(str(name)):
            self.fail(where, "unit names are letters, digits, _, . and - (no spaces or colons)")

    def exceptions(self, where, value, names, what: str) -> tuple[KnownException, ...]:
        """``exceptions = [{ inked = [...], reason = "..." }, { inhibitor = "x", reason = "..." }]``:
        check cases the spec knows fail, each with the reason ``check`` prints. ``names`` are the
        units ``inked`` and ``inhibitor`` may name (``what``: their layer)."""
        if value is None:
            return ()
        expected = 'a list like [{ inked = ["top_bar"], reason = "..." }] or [{ inhibitor = "stem", reason = "..." }]'
        if not isinstance(value, list):
            self.fail(where, f"expected {expected}, got {value!r}")
            return ()
        out = []
        for k, item in enumerate(value):
            here = where[:-1] + (f"{where[-1]}[{k}]",)
            if not isinstance(item, dict) or set(item) - {"inked", "inhibitor", "reason"}:
                self.fail(here, f"expected a table with reason and one of inked or inhibitor, got {item!r}")
                continue
            reason = item.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                self.fail(here + ("reason",), "expected a sentence saying why the case is allowed to fail")
                continue
            if ("inked" in item) == ("inhibitor" in item):
                self.fail(here, "give exactly one of inked = [unit names] or inhibitor = \"name\"")
                continue
            if "inhibitor" in item:
                name = item["inhibitor"]
                if not isinstance(name, str) or name not in names:
                    self.fail(here + ("inhibitor",), f"unknown {what} unit {name!r}{_closest(str(name), names)}")
                    continue
                out.append(KnownException(reason.strip(), inhibitor=name))
                continue
            inked = item["inked"]
            if not isinstance(inked, list) or not all(isinstance(n, str) for n in inked):
                self.fail(here + ("inked",), f"expected a list of {what} unit names, got {inked!r}")
                continue
            unknown = [n for n in inked if n not in names]
            for n in unknown:
                self.fail(here + ("inked",), f"unknown {what} unit {n!r}{_closest(n, names)}")
            if not unknown:
                out.append(KnownException(reason.strip(), inked=tuple(inked)))
        return tuple(out)
