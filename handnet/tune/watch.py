"""The tuning loop: watch a spec, and on every save rebuild, re-draw what changed, and report.

``Watcher(spec, dataset).poll()`` looks at the modification times of the spec and the files it
includes; if any changed it calls ``step()``, which rebuilds the network, evaluates it on the
test digits, finds the units whose pictures changed, re-renders their weight grids and
maximizing inputs into the output folder (atomically, so an image viewer that reloads shows the
new version), runs the spec's conformance check, and returns a ``WatchReport`` with accuracy
overall and per digit and the change since the previous good version. A spec error is reported
and the last good network stays in place. Nothing here sleeps: the CLI loops ``poll()``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from handnet.views import NotebookView
from handnet.errors import HandnetError
from handnet.nn.network import Network


@dataclass(frozen=True)
class Build:
    """What a build function returns: the network and every file it was made from (spec + includes)."""

    network: Network
    sources: tuple[Path, ...]
    spec: object = None


@dataclass(frozen=True)
class WatchReport(NotebookView):
    """One rebuild. ``ok`` is False when the spec had an error (``error``, ``problems``); then
    ``network`` and ``evaluation`` are the last good ones, kept in place. ``affected`` are the
    units whose pictures changed (see ``affected_units``), ``redrawn`` those drawn into the
    output folder (none when rendering is off)."""

    version: int
    ok: bool
    network: Network | None
    evaluation: object | None
    previous: object | None = None
    diff: object | None = None
    affected: tuple[str, ...] = ()
    redrawn: tuple[str, ...] = ()
    figures: tuple[Path, ...] = ()
    check: tuple[str, ...] | None = None
    known: tuple[str, ...] = ()  # check cases that fail as the spec's known exceptions (each with its reason)
    stale: tuple[str, ...] = ()  # known exceptions whose case now passes: the spec can drop them
    error: str | None = None
    problems: tuple[str, ...] = ()
    seconds: dict = field(default_factory=dict)

    @property
    def first(self) -> bool:
        return self.previous is None

    def accuracy_change(self) -> dict:
        """``{"all": (accuracy, change or None), "0": (...), ...}``: fractions; change vs the previous version."""
        ev, prev = self.evaluation, self.previous
        out = {"all": (ev.accuracy, None if prev is None else ev.accuracy - prev.accuracy)}
        for d, acc in ev.per_digit.items():
            before = None if prev is None else prev.per_digit.get(d)
            out[d] = (acc, None if before is None else acc - before)
        return out

    def format_text(self) -> str:
        stamp = f"[v{self.version}]"
        if not self.ok:
            lines = [f"{stamp} spec error; keeping the last good network"]
            lines += [f"  {p}" for p in (self.problems or (self.error,))]
            return "\n".join(lines)
        from handnet.tune.diff import accuracy_change_text

        lines = [f"{stamp} rebuilt in {self.seconds.get('build', 0):.2f}s, evaluated in {self.seconds.get('evaluate', 0):.2f}s"
                 f" ({self.evaluation.data})"]
        if self.evaluation.scope is not None and (self.first or self.previous.scope != self.evaluation.scope):
            lines.append("  " + self.evaluation.scope.sentence())
        if self.diff is not None:
            lines.append("  " + self.diff.format_text().replace("\n", "\n  "))
        lines.append(accuracy_change_text(self.previous, self.evaluation))
        if self.redrawn and self.first:
            lines.append(f"  drew all {len(self.redrawn)} units")
        elif self.redrawn:
            lines.append(f"  redrew {len(self.redrawn)} unit{'s' * (len(self.redrawn) != 1)}: "
                         + ", ".join(self.redrawn[:12]) + (", ..." if len(self.redrawn) > 12 else ""))
        if self.check:
            shown = self.check[:8] + ((f"... {len(self.check) - 8} more",) if len(self.check) > 8 else ())
            lines.append(f"  check: {len(self.check)} case{'s' * (len(self.check) != 1)} off spec")
            lines += [f"    {line}" for line in shown]
        elif self.check is not None:
            lines.append("  check: every unit responds to its declared stimuli"
                         + (f", apart from {len(self.known)} known exception{'s' * (len(self.known) != 1)} the spec "
                            "gives reasons for" if self.known else ""))
        if self.check and self.known:
            lines.append(f"  check: and {len(self.known)} known exception{'s' * (len(self.known) != 1)} the spec gives "
                         "reasons for (handnet check SPEC lists them)")
        if self.stale:
            lines.append(f"  check: {len(self.stale)} known exception{'s' * (len(self.stale) != 1)} no longer needed "
                         "(the case passes now; remove it from the spec):")
            lines += [f"    {line}" for line in self.stale[:8]] + (
                [f"    ... {len(self.stale) - 8} more"] if len(self.stale) > 8 else [])
        return "\n".join(lines)


    def to_dict(self) -> dict:
        out = {"version": self.version, "ok": self.ok, "seconds": self.seconds}
        if not self.ok:
            out.update(error=self.error, problems=list(self.problems))
        if self.evaluation is not None:
            out["accuracy"] = {k: {"value": v, "change": c} for k, (v, c) in self.accuracy_change().items()}
            scope = getattr(self.evaluation, "scope", None)
            out["labels"] = list(scope.labels) if scope is not None else list(range(10))
            out["scope"] = scope.to_dict() if scope is not None else None
        if self.ok:
            out.update(
                changes=self.diff.to_dict() if self.diff is not None else None,
                affected=list(self.affected),
                redrawn=list(self.redrawn),
                figures=[str(p) for p in self.figures],
                check=None if self.check is None else list(self.check),
                known_exceptions=list(self.known),
                stale_exceptions=list(self.stale),
            )
        return out


def file_signature(paths) -> tuple:
    """``(path, mtime_ns, size)`` of each file (None, None when it is gone): changes when any is saved."""
    sig = []
    for p in paths:
        try:
            st = Path(p).stat()
            sig.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            sig.append((str(p), None, None))
    return tuple(sig)


def spec_build(path, data=None, cache: dict | None = None) -> Build:
    """The default build: load and compile a spec. ``data`` is the training data for fitted or
    calibrated units (as ``compile_spec``); with a ``cache`` dict it is read once and kept there,
    so a rebuild costs only the compile."""
    from handnet.compiler.compile import compile_spec
    from handnet.spec import load_spec

    spec = load_spec(path)
    if spec.needs_data and cache is not None:
        if "train" not in cache:
            from handnet.data.mnist import Dataset, load_train

            cache["train"] = data if isinstance(data, Dataset) else load_train(data)
        data = cache["train"]
    sources = tuple(Path(p) for p, _ in getattr(spec, "sources", ())) or (Path(path),)
    return Build(compile_spec(spec, data=data), sources, spec)


class Watcher:
    """Rebuild a spec whenever its files change; keep the last good network.

    ``build(path) -> Network | Build`` makes the network (default: ``spec_build``);
    ``check(build) -> list[str] | None`` returns conformance problems (default: ``default_check``,
    the spec's own check; None or False for none; a result with ``known`` and ``stale`` lists, as
    ``CheckLines``, also reports the spec's known exceptions);
    ``render(net, refs, out) -> list[Path]`` draws units into ``out`` (``handnet watch`` passes
    ``handnet.viz.tune.render_units``; the default None draws nothing). ``dataset`` is the test ``Dataset`` every version is evaluated on.
    """

    def __init__(
        self,
        spec,
        dataset,
        out="watch",
        *,
        build: Callable | None = None,
        check: Callable | None | bool = True,
        render: Callable | None = None,
        data=None,
        digits=None,
    ):
        self.spec = Path(spec)
        self.dataset = dataset
        self.out = Path(out) if out is not None else None
        self._cache: dict = {}
        self.build = build or (lambda path: spec_build(path, data, self._cache))
        self.check = default_check if check is True else (check or None)
        self.render = render
        self.digits = digits  # score only these labels (default: every label the outputs answer)
        self.sources: tuple[Path, ...] = (self.spec,)
        self.network: Network | None = None
        self.evaluation = None
        self.version = 0
        self.n_builds = 0
        self._seen: tuple | None = None  # file signature at the last build
        self.pending: tuple[str, ...] = ()  # units whose pictures are out of date

    def changed(self) -> bool:
        """True if any watched file's modification time or size differs from the last build."""
        return self._seen is None or file_signature(self.sources) != self._seen

    def poll(self, draw: bool = True) -> WatchReport | None:
        """Rebuild and report if a watched file changed since the last build, else None."""
        return self.step(draw) if self.changed() else None

    def step(self, draw: bool = True) -> WatchReport:
        """Rebuild now, evaluate, redraw what changed, and report (see the module docstring).

        With ``draw=False`` the pictures are left for ``draw()``, so a caller can show the
        numbers first (drawing maximizing inputs takes longer than the rebuild).
        """
        from handnet.nn.evaluate import evaluate
        from handnet.tune.diff import diff_networks

        # the signature is taken before building, so a save during the build triggers another one
        seen = {entry[0]: entry for entry in file_signature(self.sources)}
        self._seen = tuple(seen.values())
        self.version += 1
        self.n_builds += 1
        timer = time.perf_counter()
        try:
            built = self.build(self.spec)
        except HandnetError as e:
            return self._failed(e)
        except OSError as e:  # the file vanished mid-save: report it, try again on the next change
            return self._failed(HandnetError(f"{e.filename or self.spec}: {e.strerror or e}"))
        if not isinstance(built, Build):
            built = Build(built, (self.spec,))
        seconds = {"build": time.perf_counter() - timer}
        sources = tuple(dict.fromkeys((self.spec, *built.sources)))
        if sources != self.sources:  # includes changed: watch the new set from now on
            self.sources = sources
            self._seen = tuple(seen.get(str(p)) or file_signature([p])[0] for p in sources)
        net = built.network

        timer = time.perf_counter()
        try:  # outputs the edit made unscorable (a digit renamed away) are reported like a spec error
            evaluation = evaluate(net, self.dataset, self.digits)
        except HandnetError as e:
            return self._failed(e)
        seconds["evaluate"] = time.perf_counter() - timer

        timer = time.perf_counter()
        problems = self.check(built) if self.check is not None else None
        check = None if problems is None else tuple(problems)
        known, stale = tuple(getattr(problems, "known", ())), tuple(getattr(problems, "stale", ()))
        seconds["check"] = time.perf_counter() - timer

        previous_net, previous = self.network, self.evaluation
        diff = diff_networks(previous_net, net) if previous_net is not None else None
        affected = tuple(affected_units(previous_net, net, diff))
        if self.render is not None and self.out is not None and diff is not None:
            for gone in diff.units("removed"):  # a renamed or deleted unit's picture would mislead
                (self.out / unit_filename(gone)).unlink(missing_ok=True)
        self.network, self.evaluation = net, evaluation
        self.pending = affected
        report = WatchReport(self.version, True, net, evaluation, previous, diff, affected, check=check,
                             known=known, stale=stale, seconds=seconds)
        if draw:
            report = self.draw(report)
        elif self.out is not None:
            self._write_report(report)
        return report

    def draw(self, report: WatchReport | None = None) -> WatchReport | None:
        """Draw the units still waiting to be drawn (``pending``) for the current network into the
        output folder; return ``report`` with ``figures``/``redrawn`` filled in."""
        timer = time.perf_counter()
        figures, redrawn = (), ()
        if self.render is not None and self.out is not None and self.pending and self.network is not None:
            figures, redrawn = tuple(self.render(self.network, self.pending, self.out)), tuple(self.pending)
        self.pending = ()
        if report is None:
            return None
        seconds = dict(report.seconds, render=time.perf_counter() - timer)
        report = dataclasses.replace(report, figures=figures, redrawn=redrawn, seconds=seconds)
        if self.out is not None:
            self._write_report(report)
        return report

    def _failed(self, error: HandnetError) -> WatchReport:
        problems = tuple(getattr(error, "problems", None) or (str(error),))
        # keep watching the files we knew; and if the error is in a file we did not know (an
        # include just added), watch that too, so fixing it triggers a rebuild
        for problem in problems:
            named = Path(problem.split(": ", 1)[0])
            if named.is_file() and named.resolve() not in {p.resolve() for p in self.sources}:
                self.sources += (named,)
                self._seen += file_signature([named])
        report = WatchReport(self.version, False, self.network, self.evaluation, None, error=str(error).splitlines()[0],
                             problems=problems)
        if self.out is not None:
            self._write_report(report)
        return report

    def _write_report(self, report: WatchReport) -> None:
        import json

        from handnet.atomic import write_text

        text = json.dumps(report.to_dict(), indent=2, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
        write_text(self.out / "report.json", text + "\n")


def affected_units(before: Network | None, after: Network, diff) -> list[str]:
    """Units of ``after`` whose pictures changed: every unit on the first build; else the changed
    or added units and every unit above that reads one of them (its maximizing input changes too)."""
    if before is None or diff is None:
        return [str(u) for u in after.units()]
    present = {str(u) for u in after.units()}
    dirty = {c.unit for c in diff.changes if c.status != "removed" and c.unit in present}
    for li in range(1, len(after.layers)):
        below = after.layers[li - 1]
        changed_below = np.array([f"{below.name}:{u}" in dirty for u in below.units])
        if changed_below.any():
            layer = after.layers[li]
            reads = np.abs(layer.weights[:, changed_below]).max(axis=1) > 0
            dirty |= {f"{layer.name}:{layer.units[i]}" for i in np.flatnonzero(reads)}
    return [str(u) for u in after.units() if str(u) in dirty]


def unit_filename(ref: str) -> str:
    """``edges:upper_bar`` -> ``edges_upper_bar.png``."""
    return ref.replace(":", "_") + ".png"


class CheckLines(list):
    """``default_check``'s result: the violations as lines (a list), with ``known`` (cases failing as
    the spec's known exceptions, each with its reason) and ``stale`` (known exceptions whose case
    passes now) beside them."""

    def __init__(self, violations, known=(), stale=()):
        super().__init__(violations)
        self.known, self.stale = list(known), list(stale)


def default_check(build: Build) -> CheckLines | None:
    """The spec's conformance check (``handnet.compiler.check``): one line per unit that does not respond
    to its declared stimuli as the spec says, e.g. ``edges:upper_bar: expected high on its own
    strokes, got 0.42``. Empty when every unit conforms; None when there is no spec to check.
    Known exceptions are listed apart (``known``, ``stale``): they are not violations."""
    if build.spec is None:
        return None
    from handnet.compiler.check import check_network

    report = check_network(build.spec, build.network)

    def line(unit, case):
        return f"{unit}: expected {case['expect']} on {case['stimulus']}, got {case['activation']:.2f}"

    return CheckLines(
        [line(unit, case) for unit, case in report.violations],
        [f"{line(unit, case)} (known: {case['known']})" for unit, case in report.known],
        [f"{unit}: {exception.describe()}" for unit, exception in report.stale],
    )
