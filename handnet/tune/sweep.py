"""Sweep one spec value and watch accuracy move: ``edges.upper_bar.fraction`` from 0.3 to 0.8, or a
stroke endpoint such as ``edges.upper_bar.strokes.0.line.1.1``; or two values at once over a grid
(``sweep_grid``), every pair of settings, for a heat map.

A dotted path addresses the spec's merged TOML data (after ``include``/``extends``): table keys
by name, list items by index. Each value is set in a copy of that data, which is then validated
and compiled exactly as a file would be, and evaluated on the test digits.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass

import numpy as np

from handnet.nn.evaluate import DIGITS
from handnet.views import NotebookView
from handnet.errors import HandnetError, SpecError
from handnet.spec import SpecData, read_spec_data



# ---- the spec as data ---------------------------------------------------------------------------
def allowed_keys(keys: tuple) -> set:
    """Fields a spec table may hold although the file leaves them out (defaults), by its path."""
    from handnet.spec import model as speclib

    if len(keys) == 0:
        return set(speclib.TOP_KEYS)
    if keys == ("network",):
        return set(speclib.NETWORK_KEYS)
    if len(keys) == 1 and keys[0] in speclib.LAYER_KEYS:
        return set(speclib.LAYER_KEYS[keys[0]])
    if len(keys) == 2 and keys[0] == "edges":
        return set(speclib.EDGE_KEYS)
    if len(keys) == 2 and keys[0] in ("parts", "digits"):
        return set(speclib.RULE_KEYS)
    return set()


# ---- dotted paths -------------------------------------------------------------------------------
def split_path(path: str) -> tuple:
    """``edges.upper_bar.strokes.0.line`` -> ``("edges", "upper_bar", "strokes", 0, "line")``."""
    if not path or any(not part for part in path.split(".")):
        raise HandnetError(f"--set {path!r}: expected a dotted path such as edges.upper_bar.fraction")
    # ASCII digits only: int() refuses some characters that str.isdigit() accepts (e.g. "²")
    return tuple(int(p) if p.isascii() and p.isdigit() and len(p) <= 9 else p for p in path.split("."))


def _near(container, allowed=()) -> str:
    if isinstance(container, dict):
        keys = sorted(set(map(str, container)) | set(allowed))
        return "keys here: " + ", ".join(keys) if keys else "this table is empty"
    if isinstance(container, list):
        if len(container) == 1:
            return "the only item here is 0"
        return f"items here: 0-{len(container) - 1}" if container else "this list is empty"
    return f"{container!r} is a value, not a table"


def get_path(data: dict, path: str, allowed=allowed_keys):
    """The value at a dotted path; a bad path is a one-line HandnetError naming the path and the
    valid keys where it went wrong. A key the file leaves out but the table allows gives None."""
    keys = split_path(path)
    node = data
    for depth, key in enumerate(keys):
        here = ".".join(map(str, keys[: depth + 1]))
        if isinstance(node, dict) and str(key) in node:
            node = node[str(key)]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        elif isinstance(node, dict) and depth == len(keys) - 1 and str(key) in allowed(keys[:depth]):
            return None
        else:
            hint = ""
            if isinstance(node, dict):
                options = set(map(str, node)) | set(allowed(keys[:depth]))
                match = difflib.get_close_matches(str(key), sorted(options), n=1, cutoff=0.5)
                hint = f" (did you mean {match[0]!r}?)" if match else ""
            raise HandnetError(f"--set {path}: no {here!r} in the spec{hint}; {_near(node, allowed(keys[:depth]) if isinstance(node, dict) else ())}")
    return node


def set_path(data: dict, path: str, value, allowed=allowed_keys) -> dict:
    """A deep copy of ``data`` with the value at the dotted path replaced (checked by ``get_path``)."""
    get_path(data, path, allowed)
    keys = split_path(path)
    out = copy.deepcopy(data)
    node = out
    for key in keys[:-1]:
        node = node[key if isinstance(node, list) else str(key)]
    last = keys[-1]
    node[last if isinstance(node, list) else str(last)] = value
    return out


def parse_range(text: str, path: str = "...") -> np.ndarray:
    """``"0.3:0.8:11"`` -> 11 evenly spaced values from 0.3 to 0.8 inclusive; ``"0.1,0.2,0.3"`` -> those values."""
    if ":" not in text:
        return _parse_list(text, path)
    parts = text.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        start, stop, steps = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise HandnetError(f"--set {path}={text}: expected START:STOP:STEPS, e.g. 0.3:0.8:11, or values "
                           "separated by commas, e.g. 0.1,0.2,0.3") from None
    if steps < 1 or steps > 1000:
        raise HandnetError(f"--set {path}={text}: STEPS must be 1-1000, got {steps}")
    if not (np.isfinite(start) and np.isfinite(stop)):
        raise HandnetError(f"--set {path}={text}: START and STOP must be finite numbers")
    return np.linspace(start, stop, steps)


def _parse_list(text: str, path: str) -> np.ndarray:
    items = [p.strip() for p in text.split(",")]
    try:
        values = np.array([float(p) for p in items])
    except ValueError:
        raise HandnetError(f"--set {path}={text}: expected START:STOP:STEPS, e.g. 0.3:0.8:11, or values separated by "
                           "commas, e.g. 0.1,0.2,0.3") from None
    if not np.all(np.isfinite(values)):
        raise HandnetError(f"--set {path}={text}: every value must be a finite number")
    if len(values) > 1000:
        raise HandnetError(f"--set {path}={text}: at most 1000 values, got {len(values)}")
    return values


def parse_assignment(text: str) -> tuple[str, np.ndarray]:
    """``"edges.upper_bar.fraction=0.3:0.8:11"`` -> ``("edges.upper_bar.fraction", values)``; the values
    may also be listed, ``"edges.fraction=0.1,0.2,0.3"``."""
    if "=" not in text:
        raise HandnetError(f"--set {text!r}: expected PATH=START:STOP:STEPS or PATH=V1,V2,..., e.g. "
                           "edges.upper_bar.fraction=0.3:0.8:11")
    path, _, spec_range = text.partition("=")
    split_path(path.strip())
    return path.strip(), parse_range(spec_range.strip(), path.strip())


# ---- the sweep ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepResult(NotebookView):
    """Accuracy at each value of one spec path. ``overall`` ``(n_values,)`` and ``per_digit``
    ``(n_values, 10)`` are fractions (NaN where the value did not compile, see ``errors``, or the
    digit is absent). ``current`` is the spec's own value (None if not a number)."""

    path: str
    values: np.ndarray
    overall: np.ndarray
    per_digit: np.ndarray
    errors: tuple
    current: float | None
    data: str
    scope: object = None  # handnet.nn.labels.Scope: which labels were scored, on how many digits

    def scored(self) -> list[int]:
        """The digits scored (columns of ``per_digit`` that hold numbers)."""
        return list(self.scope.labels) if self.scope is not None else list(range(10))

    def current_row(self) -> int | None:
        """Index of the swept value equal to the current one, if it was swept."""
        if self.current is None:
            return None
        hits = np.flatnonzero(np.isclose(self.values, self.current, rtol=0, atol=1e-9))
        return int(hits[0]) if hits.size else None

    def best(self) -> int:
        return int(np.nanargmax(self.overall))

    def to_dict(self) -> dict:
        rows = []
        for i, v in enumerate(self.values):
            rows.append({
                "value": float(v),
                "accuracy": None if np.isnan(self.overall[i]) else float(self.overall[i]),
                "per_digit": {DIGITS[k]: None if np.isnan(self.per_digit[i, k]) else float(self.per_digit[i, k])
                              for k in self.scored()},
                "error": self.errors[i],
                "current": self.current_row() == i,
            })
        return {"path": self.path, "current": self.current, "data": self.data, "rows": rows,
                "labels": self.scored(), "scope": self.scope.to_dict() if self.scope is not None else None,
                "best": float(self.values[self.best()]) if np.any(~np.isnan(self.overall)) else None}


    def format_text(self) -> str:
        scored = self.scored()
        lines = [f"sweep {self.path} (current value {'unset' if self.current is None else f'{self.current:g}'}); "
                 f"data: {self.data}"]
        if self.scope is not None:
            lines.append(self.scope.sentence())
        lines.append("value      all   " + "  ".join(f"{d:>5}" for d in scored))
        best = self.best() if np.any(~np.isnan(self.overall)) else None
        for i, v in enumerate(self.values):
            if self.errors[i]:
                lines.append(f"{v:<9.4g}  error: {self.errors[i]}")
                continue
            mark = (" <- current" if self.current_row() == i else "") + (" <- best" if best == i else "")
            digits = "  ".join("    -" if np.isnan(a) else f"{100 * a:5.1f}" for a in self.per_digit[i, scored])
            lines.append(f"{v:<9.4g} {100 * self.overall[i]:5.1f}   {digits}{mark}")
        return "\n".join(lines)


def _compiled_bias(spec, ref: str):
    """The bias the compiler gives a rule that writes none (e.g. "2 of 3" -> -1.5 x sharpness): the
    value a swept ``bias`` replaces. None for a spec that needs data to compile."""
    if spec.needs_data:
        return None
    from handnet.compiler.compile import compile_spec

    try:
        net = compile_spec(spec, None)
        unit = net.unit(ref)
    except (SpecError, HandnetError):
        return None
    return float(net.layers[unit.layer].biases[unit.index])


def _as_spec_value(value: float, current):
    """Whole numbers stay whole when the spec's own value is an int (e.g. ``at_least = 3``)."""
    if isinstance(current, int) and not isinstance(current, bool) and float(value).is_integer():
        return int(value)
    return float(value)


def current_value(source: SpecData, path: str):
    """The spec's value at ``path``: written in the file, or else the default the spec applies."""
    value = get_path(source.data, path)
    if value is not None:
        return value
    keys = split_path(path)
    try:
        spec = source.spec()
    except SpecError:
        return None
    if len(keys) == 3 and keys[0] in ("edges", "parts", "digits"):
        try:
            value = getattr(spec.unit(keys[0], keys[1]), str(keys[2]), None)
        except KeyError:
            return None
        if value is None and keys[0] in ("parts", "digits") and str(keys[2]) == "bias":
            return _compiled_bias(spec, f"{keys[0]}:{keys[1]}")
        return value
    if len(keys) == 2:
        from handnet.spec import model as speclib

        defaults = speclib.EDGE_DEFAULTS if keys[0] == "edges" else speclib.RULE_DEFAULTS
        return defaults.get(str(keys[1]))
    return None


def sweep(spec_path, path: str, values, dataset, data=None, progress=None, include_current: bool = True,
          digits=None) -> SweepResult:
    """Compile the spec with ``path`` set to each of ``values`` and evaluate each on ``dataset``.

    With ``include_current`` the spec's own value is swept too (inserted in order), so the plot
    can mark where the spec stands.
    ``data`` is the training data for fitted units (as ``compile_spec``). A value the spec rejects
    is recorded in ``errors``; if every value is rejected the first error is raised. Output units
    answer by name; ``digits`` scores only those labels (``handnet.nn.evaluate.evaluate``).
    """
    source = read_spec_data(spec_path)
    values, current, number = _axis(source, path, values, include_current)
    overall = np.full(len(values), np.nan)
    per_digit = np.full((len(values), 10), np.nan)
    errors: list = []
    point = _Point(source, dataset, data, digits)
    for i, v in enumerate(values):
        errors.append(point.run(((path, _as_spec_value(v, current)),), overall, per_digit, i))
        if progress is not None:
            progress(1)
    if all(errors):
        raise SpecError(f"--set {path}: no value compiled; at {values[0]:g}: {errors[0]}")
    return SweepResult(path, values, overall, per_digit, tuple(errors), float(current) if number else None,
                       dataset.describe(), point.scope)


def _axis(source: SpecData, path: str, values, include_current: bool):
    """The values swept along one path (with the spec's own inserted, when asked and a number), the
    spec's value there, and whether that is a number."""
    written = get_path(source.data, path)
    if isinstance(written, (dict, list)):
        kind = "a table" if isinstance(written, dict) else "a list"
        raise HandnetError(f"--set {path}: is {kind}, not a number; sweep one number inside it ({_near(written)})")
    current = current_value(source, path)
    values = np.asarray(values, dtype=float)
    number = isinstance(current, (int, float)) and not isinstance(current, bool)
    if include_current and number and not np.any(np.isclose(values, current, rtol=0, atol=1e-9)):
        values = np.sort(np.append(values, float(current)))
    return values, current, number


class _Point:
    """Compiles and scores one setting of the spec; the training data is read once for a whole sweep."""

    def __init__(self, source: SpecData, dataset, data, digits):
        self.source, self.dataset, self.data, self.digits = source, dataset, data, digits
        self.train, self.scope = None, None

    def run(self, assignments, overall, per_digit, at) -> str | None:
        """Set each ``(path, value)``, compile, evaluate, and write accuracy into ``overall[at]`` and
        ``per_digit[at]``; returns None, or the one-line reason the spec rejected the setting."""
        from handnet.compiler.compile import compile_spec
        from handnet.nn.evaluate import evaluate

        try:
            data = self.source.data
            for path, value in assignments:
                data = set_path(data, path, value)
            spec = self.source.spec(data)
            if self.train is None and spec.needs_data:
                from handnet.data.mnist import Dataset, load_train

                self.train = self.data if isinstance(self.data, Dataset) else load_train(self.data)
            ev = evaluate(compile_spec(spec, data=self.train), self.dataset, self.digits)
        except SpecError as e:
            return str(e).splitlines()[-1]
        self.scope = self.scope or ev.scope
        overall[at] = ev.accuracy
        for d, acc in ev.per_digit.items():
            per_digit[at + (int(d),) if isinstance(at, tuple) else (at, int(d))] = acc
        return None


# ---- two values at once -------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepGrid(NotebookView):
    """Accuracy at every pair of settings of two spec paths: ``overall`` ``(n_a, n_b)`` and
    ``per_digit`` ``(n_a, n_b, 10)`` fractions (NaN where the pair did not compile, see ``errors``
    ``[i][j]``, or the digit is absent). Rows follow ``paths[0]``, columns ``paths[1]``; ``current``
    are the spec's own values (None if not a number), swept too."""

    paths: tuple
    values: tuple
    overall: np.ndarray
    per_digit: np.ndarray
    errors: tuple
    current: tuple
    data: str
    scope: object = None
    as_written: float | None = None  # the spec's own accuracy, every value as the file has it: the baseline

    def scored(self) -> list[int]:
        return list(self.scope.labels) if self.scope is not None else list(range(10))

    def current_cell(self) -> tuple:
        """``(row, column)`` of the spec's own values (None on an axis whose value is not a number)."""
        def at(values, current):
            if current is None:
                return None
            hits = np.flatnonzero(np.isclose(values, current, rtol=0, atol=1e-9))
            return int(hits[0]) if hits.size else None
        return at(self.values[0], self.current[0]), at(self.values[1], self.current[1])

    def best(self) -> tuple[int, int]:
        i, j = np.unravel_index(int(np.nanargmax(self.overall)), self.overall.shape)
        return int(i), int(j)

    def to_dict(self) -> dict:
        def number(x):
            return None if np.isnan(x) else float(x)

        best = self.best()
        here = self.current_cell()
        return {
            "paths": list(self.paths), "values": [v.tolist() for v in self.values],
            "current": list(self.current), "data": self.data, "labels": self.scored(),
            "scope": self.scope.to_dict() if self.scope is not None else None,
            "accuracy": [[number(x) for x in row] for row in self.overall],
            "per_digit": [[{DIGITS[k]: number(self.per_digit[i, j, k]) for k in self.scored()}
                           for j in range(self.overall.shape[1])] for i in range(self.overall.shape[0])],
            "errors": [list(row) for row in self.errors],
            "best": {"values": [float(self.values[0][best[0]]), float(self.values[1][best[1]])],
                     "accuracy": number(self.overall[best])},
            "current_accuracy": number(self.overall[here]) if None not in here else None,
            "as_written": self.as_written,
        }

    def format_text(self) -> str:
        (a, b), (va, vb) = self.paths, self.values
        def shown(c):
            return "unset" if c is None else f"{c:g}"
        lines = [f"sweep {a} (rows, current value {shown(self.current[0])}) x {b} (columns, current value "
                 f"{shown(self.current[1])}); data: {self.data}"]
        if self.scope is not None:
            lines.append(self.scope.sentence())
        lines.append("accuracy (%) of every pair; [ ] marks the current values, * the best")
        width = max(9, max(len(f"{v:.4g}") for v in va) + 1)
        lines.append(f"{'':<{width}} " + " ".join(f"{v:>7.4g}" for v in vb))
        best, here = self.best(), self.current_cell()
        for i, v in enumerate(va):
            cells = []
            for j in range(len(vb)):
                x = self.overall[i, j]
                text = "  error" if self.errors[i][j] else f"{100 * x:5.1f}"
                if (i, j) == here:
                    text = f"[{text.strip()}]"
                if (i, j) == best:
                    text += "*"
                cells.append(f"{text:>7}")
            lines.append(f"{v:<{width}.4g} " + " ".join(cells))
        lines.append(f"best: {100 * self.overall[best]:.1f}% at {a} = {va[best[0]]:g}, {b} = {vb[best[1]]:g}"
                     + (f"; the spec as written: {100 * self.as_written:.1f}%" if self.as_written is not None else "")
                     + f"; guessing: {100 / max(len(self.scored()), 1):.0f}%")
        errors = [(va[i], vb[j], e) for i, row in enumerate(self.errors) for j, e in enumerate(row) if e]
        if errors:
            lines.append(f"{len(errors)} pair{'s' * (len(errors) != 1)} did not compile; at {errors[0][0]:g}, "
                         f"{errors[0][1]:g}: {errors[0][2]}")
        return "\n".join(lines)


def sweep_grid(spec_path, path_a: str, values_a, path_b: str, values_b, dataset, data=None, progress=None,
               include_current: bool = True, digits=None) -> SweepGrid:
    """Compile the spec at every pair of ``path_a`` in ``values_a`` and ``path_b`` in ``values_b`` and
    evaluate each on ``dataset`` (as ``sweep``, which this equals along each axis at the other's
    current value). ``progress(1)`` after each pair."""
    if split_path(path_a) == split_path(path_b):
        raise HandnetError(f"--set {path_a}: given twice; sweep two different values")
    source = read_spec_data(spec_path)
    va, ca, na = _axis(source, path_a, values_a, include_current)
    vb, cb, nb = _axis(source, path_b, values_b, include_current)
    overall = np.full((len(va), len(vb)), np.nan)
    per_digit = np.full((len(va), len(vb), 10), np.nan)
    errors = [[None] * len(vb) for _ in va]
    point = _Point(source, dataset, data, digits)
    for i, x in enumerate(va):
        for j, y in enumerate(vb):
            errors[i][j] = point.run(((path_a, _as_spec_value(x, ca)), (path_b, _as_spec_value(y, cb))),
                                     overall, per_digit, (i, j))
            if progress is not None:
                progress(1)
    if all(e for row in errors for e in row):
        raise SpecError(f"--set {path_a}, {path_b}: no pair compiled; at {va[0]:g}, {vb[0]:g}: {errors[0][0]}")
    here = np.full(1, np.nan)
    point.run((), here, np.full((1, 10), np.nan), 0)  # the baseline: the spec as the file has it
    return SweepGrid((path_a, path_b), (va, vb), overall, per_digit, tuple(tuple(r) for r in errors),
                     (float(ca) if na else None, float(cb) if nb else None), dataset.describe(), point.scope,
                     None if np.isnan(here[0]) else float(here[0]))


def grid_size(source_path, assignments, include_current: bool = True) -> int:
    """How many settings a sweep of ``assignments`` (``[(path, values)]``) compiles, the spec's own values included."""
    source = read_spec_data(source_path)
    total = 1
    for path, values in assignments:
        total *= len(_axis(source, path, values, include_current)[0])
    return total
