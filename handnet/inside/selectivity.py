"""Selectivity by digit: how often each unit fires on each digit's images, against what a unit that
ignored the digit would show, and which digits it fires on that its spec does not name.

``selectivity(net, dataset)`` runs the network once over the digits. A unit *fires* on an image
when its activation is above ``threshold`` (0.5); its *rate* on a digit is the share of that digit's
images it fires on. The baseline is the unit's overall rate: a unit that ignored the digit would
fire on about that share of every digit (within a 95% binomial band for that digit's count).

The digits a unit is *meant* to fire on come, in order, from the spec's ``digits = [...]`` field
(kept in the network's metadata), from the digits its ``doc`` names ("a loop in the upper half
(9, 8, 0)"; "never in a 7" is a negative mention), or, for an output unit, from the label it
answers (``handnet.nn.labels``). A trained unit (``hidden1:3``) names none: it gets the table alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from handnet.errors import DataError, UnitError
from handnet.nn.labels import join_labels, output_labels, parse_digits
from handnet.nn.network import Network
from handnet.threads import single_threaded
from handnet.views import NotebookView

FIRING = 0.5  # a unit fires on an image when its activation is above this
OFTEN = 0.5  # a unit fires on a digit when it fires on at least this share of the digit's images
Z95 = 1.959964  # the 95% band of a unit that ignores the digit
BATCH = 4096

# ---- the digits a doc names ---------------------------------------------------------------------
# a lone digit 0-9 ("7", "7's", "7s"), not part of a number, a name or a measure ("28x28", "0.5", "3b1b", "8-10")
_DIGIT = re.compile(r"(?<![\w.+\-])([0-9])(?!(?!s\b)[\w%]|\.[0-9]|-[0-9])")
# words after which the digits of a clause are ones the unit should stay dark on
_NEGATION = re.compile(r"\b(never|not|no|nor|nothing|without|except|unlike|rather than|open in|instead of)\b", re.I)
_CLAUSES = re.compile(r"[;()\[\]]|:\s")


def doc_digits(doc: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The digits a unit's doc names: ``(named, never)``, each in the order written.

    ``"a short stroke at the lower left (2, 6, 0; never in a 3, 5 or 7)"`` -> ``((2, 6, 0), (3, 5, 7))``.
    A negation (never, not, no, without, except, open in, ...) makes the digits after it in the same
    clause (up to ``;``, ``:`` or a bracket) negative mentions. A digit named both ways counts as named.
    """
    named: list[int] = []
    never: list[int] = []
    for clause in _CLAUSES.split(str(doc or "")):
        negation = _NEGATION.search(clause)
        for m in _DIGIT.finditer(clause):
            (never if negation is not None and m.start() > negation.start() else named).append(int(m.group(1)))
    named = list(dict.fromkeys(named))
    return tuple(named), tuple(d for d in dict.fromkeys(never) if d not in named)


def intended_digits(net: Network, ref) -> tuple[tuple[int, ...] | None, tuple[int, ...], str]:
    """What ``ref`` (a UnitRef) is meant to fire on: ``(named or None, never, where from)``.

    From the spec's ``digits`` field, else its doc, else (an output unit) the label it answers;
    ``None`` when nothing names any digit."""
    info = (net.metadata.get("units") or {}).get(str(ref)) or {}
    _, never = doc_digits(info.get("doc", ""))
    if isinstance(info.get("digits"), list):
        named = tuple(d for d in info["digits"] if isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 9)
        return named, tuple(d for d in never if d not in named), "its digits field"
    if ref.layer == len(net.layers) - 1:
        label = output_labels(net)[ref.index]
        if label is not None:
            return (label,), (), "the label it answers"
    named, never = doc_digits(info.get("doc", ""))
    if named:
        return named, never, "its doc"
    return None, never, "its doc" if never else ""


# ---- the measurement ----------------------------------------------------------------------------
def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _often(rate: float, often: float) -> bool:
    """``rate >= often`` as the table shows them (whole percents), so a printed 50% never reads as a miss."""
    return round(100 * rate) >= round(100 * often)


@dataclass(frozen=True)
class UnitSelectivity:
    """One unit's firing rate per digit. ``rates[d]`` is the share of digit ``d``'s images it fires on
    (None when the data has no ``d``), ``fired[d]`` and ``counts[d]`` the numbers behind it; ``overall``
    is the rate over every image in the table, the baseline. ``named`` are the digits it is meant to
    fire on (None: nothing names any), ``never`` the ones its doc says it should not, ``source``
    where they came from."""

    unit: str
    rates: dict
    fired: dict
    counts: dict
    overall: float
    n: int
    named: tuple[int, ...] | None
    never: tuple[int, ...]
    source: str
    doc: str = ""
    often: float = OFTEN

    def band(self, digit: int) -> tuple[float, float]:
        """The 95% range of the rate on ``digit`` for a unit that ignored the digit (fired on
        ``overall`` of every digit), given how many images of ``digit`` there are."""
        n = self.counts.get(digit, 0)
        if not n:
            return (0.0, 1.0)
        half = Z95 * math.sqrt(self.overall * (1 - self.overall) / n)
        return (max(0.0, self.overall - half), min(1.0, self.overall + half))

    def versus_baseline(self, digit: int) -> int:
        """+1 when the rate on ``digit`` is above the band of a unit that ignores the digit, -1 below, 0 within."""
        rate = self.rates.get(digit)
        if rate is None:
            return 0
        low, high = self.band(digit)
        return 1 if rate > high else -1 if rate < low else 0

    @property
    def present(self) -> list[int]:
        return [d for d, r in self.rates.items() if r is not None]

    @property
    def absent(self) -> list[int]:
        return [d for d, r in self.rates.items() if r is None]

    def most(self, top: int = 3) -> list[int]:
        """The digits it fires on most (above its overall rate), at most ``top``, highest first."""
        ranked = sorted(self.present, key=lambda d: (-self.rates[d], d))
        return [d for d in ranked[:top] if self.rates[d] > self.overall]

    @property
    def fires_on(self) -> list[int]:
        """The digits whose images it fires on at least ``often`` of the time."""
        return [d for d in self.present if _often(self.rates[d], self.often)]

    @property
    def hits(self) -> list[int]:
        """Named digits it fires on (at least ``often`` of their images)."""
        return [d for d in (self.named or ()) if self.rates.get(d) is not None and _often(self.rates[d], self.often)]

    @property
    def misses(self) -> list[int]:
        """Named digits present in the data that it fires on less than ``often`` of the time."""
        return [d for d in (self.named or ()) if self.rates.get(d) is not None and not _often(self.rates[d], self.often)]

    @property
    def wrong(self) -> list[int]:
        """Digits not named that it fires on at least ``often`` of the time, highest first (empty when
        nothing names any digit: then no firing is wrong)."""
        if self.named is None:
            return []
        return sorted((d for d in self.fires_on if d not in self.named), key=lambda d: (-self.rates[d], d))

    def is_wrong(self, digit: int) -> bool:
        """True when firing on an image of ``digit`` is firing where the unit is not meant to."""
        return self.named is not None and digit not in self.named

    def summary(self) -> str:
        """One sentence: what it fires on most, and against its named digits, what it hits, misses and
        wrongly fires on."""
        def listed(ds):
            return ", ".join(f"{d} ({_pct(self.rates[d])})" for d in ds)

        most = self.most()
        text = (f"{self.unit} fires most on {listed(most)}" if most else
                f"{self.unit} fires on no digit more than on the others")
        text += f", against {_pct(self.overall)} of all digits"
        if self.named is None:
            return text + " (it names no digits, so none is wrong)" + self._absent_note()
        hits, misses, wrong = self.hits, self.misses, self.wrong
        text += f"; meant for {join_labels(self.named) if self.named else 'no digit'} ({self.source})"
        parts = []
        if hits:
            parts.append(f"fires on {', '.join(map(str, hits))}")
        if misses:
            parts.append(f"misses {listed(misses)}")
        if wrong:
            said = [d for d in wrong if d in self.never]
            parts.append(f"wrongly fires on {listed(wrong)}" + (
                f", though the doc says never {join_labels(said)}" if said else ""))
        elif self.named:
            parts.append("fires on no other digit")
        unknown = [d for d in self.named if d in self.absent]
        if unknown:
            parts.append(f"cannot tell for {join_labels(unknown)} (not in the data)")
        return text + (": " + "; ".join(parts) if parts else "") + self._absent_note(named_too=False)

    def _absent_note(self, named_too: bool = True) -> str:
        absent = [d for d in self.absent if named_too or d not in (self.named or ())]
        return f"; no {join_labels(absent)} in the data" if absent else ""

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "rates": {str(d): r for d, r in self.rates.items()},
            "fired": {str(d): k for d, k in self.fired.items()},
            "counts": {str(d): k for d, k in self.counts.items()},
            "overall": self.overall,
            "n": self.n,
            "baseline_band": {str(d): list(self.band(d)) for d in self.present},
            "versus_baseline": {str(d): self.versus_baseline(d) for d in self.present},
            "named": None if self.named is None else list(self.named),
            "never": list(self.never),
            "source": self.source,
            "doc": self.doc,
            "fires_on": self.fires_on,
            "misses": self.misses,
            "wrong": self.wrong,
            "summary": self.summary(),
        }


@dataclass(frozen=True, eq=False)  # arrays inside
class Selectivity(NotebookView):
    """Every chosen unit's rate per digit on one set of images.

    ``digits`` are the labels in the table (columns), ``counts`` how many images of each the data has
    (0: absent). ``activations`` ``(n, len(units))`` float are the units' activations on the images
    used, whose labels are ``labels`` ``(n,)`` and whose positions in the dataset are ``index`` ``(n,)``
    (for thumbnails: ``examples``)."""

    units: tuple[UnitSelectivity, ...]
    digits: tuple[int, ...]
    counts: dict
    threshold: float
    often: float
    data: str
    activations: np.ndarray
    labels: np.ndarray
    index: np.ndarray

    def unit(self, name: str) -> UnitSelectivity:
        for u in self.units:
            if u.unit == name:
                return u
        raise UnitError(f"{name} is not in this selectivity table; it has {', '.join(u.unit for u in self.units)}")

    def meaning(self) -> str:
        """What the numbers mean, in one sentence, with the baseline."""
        return (f"Each number is the share of that digit's images on which the unit fires (activation > "
                f"{self.threshold:g}); 'all' is its share over every digit, the baseline: a unit that ignored "
                f"the digit would show about that number in every column. * marks a digit the unit is meant for, "
                f"! one it is not meant for but fires on at least {self.often:.0%} of the time.")

    def examples(self, unit: str, per_digit: int = 8, wrong_only: bool = True) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """The images ``unit`` fires on, grouped by digit: ``[(digit, dataset indices (k,), activations
        (k,))]``, strongest first within a digit, at most ``per_digit`` each; digits with the highest
        rate first. With ``wrong_only``, only digits the unit is not meant for (none when it names no digit)."""
        u = self.unit(unit)
        column = self.activations[:, [x.unit for x in self.units].index(unit)]
        out = []
        for d in sorted(u.present, key=lambda d: (-u.rates[d], d)):
            if wrong_only and not u.is_wrong(d):
                continue
            hit = np.flatnonzero((self.labels == d) & (column > self.threshold))
            if not hit.size:
                continue
            order = hit[np.argsort(-column[hit], kind="stable")][:per_digit]
            out.append((d, self.index[order], column[order]))
        return out

    def format_text(self) -> str:
        """The table the CLI prints: a row per unit (rates in %, * named, ! wrongly fired on), the
        images per digit, then one sentence per unit."""
        width = max(12, max((len(u.unit) for u in self.units), default=4))
        lines = [f"data: {self.data}",
                 f"{'unit':<{width}}  {'all':>4}  " + " ".join(f"{d:>4}" for d in self.digits),
                 f"{'(images)':<{width}}  {sum(self.counts[d] for d in self.digits):>4}  "
                 + " ".join(f"{self.counts[d]:>4}" for d in self.digits)]
        for u in self.units:
            cells = []
            for d in self.digits:
                r = u.rates[d]
                mark = "*" if u.named and d in u.named else "!" if d in u.wrong else " "
                cells.append("   -" if r is None else f"{100 * r:3.0f}{mark}")
            lines.append(f"{u.unit:<{width}}  {100 * u.overall:3.0f}%  " + " ".join(cells))
        lines += ["", self.meaning(), ""]
        lines += [u.summary() for u in self.units]
        absent = [d for d in self.digits if not self.counts[d]]
        if absent:
            lines.append(f"(the data has no {join_labels(absent)}: those columns are empty)")
        return "\n".join(lines)

    def markdown(self) -> str:
        """The table as Markdown: rates in %, * named, ! wrongly fired on."""
        head = "| unit | all | " + " | ".join(str(d) for d in self.digits) + " |"
        rule = "|---|---:|" + "---:|" * len(self.digits)
        rows = [f"| {u.unit} | {100 * u.overall:.0f}% | " + " | ".join(
            "-" if u.rates[d] is None else f"{100 * u.rates[d]:.0f}" + (
                "*" if u.named and d in u.named else "!" if d in u.wrong else "") for d in self.digits) + " |"
            for u in self.units]
        counts = "| (images) | " + f"{sum(self.counts[d] for d in self.digits)} | " + " | ".join(
            str(self.counts[d]) for d in self.digits) + " |"
        return "\n".join([head, rule, counts] + rows)

    def to_dict(self) -> dict:
        return {"data": self.data, "threshold": self.threshold, "often": self.often, "digits": list(self.digits),
                "counts": {str(d): self.counts[d] for d in self.digits}, "meaning": self.meaning(),
                "units": [u.to_dict() for u in self.units]}


def resolve_units(net: Network, units=None) -> list:
    """UnitRefs for ``units``: None (every unit), a layer name or index (``"parts"``), a unit
    reference (``"parts:upper_loop"``), or a list of these. A bad name is a one-line UnitError."""
    if units is None:
        return net.units()
    items = [units] if isinstance(units, (str, int)) else list(units)
    refs = []
    for item in items:
        text = str(item).strip() if not isinstance(item, int) else item
        if isinstance(text, int) or (":" not in text and _is_layer(net, text)):
            refs += net.units(text)
        else:
            refs.append(net.unit(text))
    return list(dict.fromkeys(refs))


def _is_layer(net: Network, name: str) -> bool:
    try:
        net.layer_index(name)
    except UnitError:
        return False
    return True


@single_threaded
def selectivity(net: Network, dataset, units=None, threshold: float = FIRING, digits=None,
                often: float = OFTEN) -> Selectivity:
    """How often each unit fires on each digit's images of ``dataset`` (a ``handnet.data`` Dataset).

    ``units``: None (every unit), a layer (``"parts"``), a unit (``"parts:upper_loop"``) or a list.
    ``digits`` (e.g. ``(0, 1, 7)`` or ``"0,1,7"``) keeps only the images of those labels, and the
    columns for them; by default every digit 0-9 is a column, and one the data lacks is empty
    (``rates[d]`` None), never a division by zero. The baseline (``overall``) is over the images kept.
    """
    if not math.isfinite(threshold):
        raise ValueError(f"threshold {threshold!r} must be a finite number")
    refs = resolve_units(net, units)
    chosen = tuple(range(10)) if digits is None else (parse_digits(digits) if isinstance(digits, str)
                                                      else tuple(sorted(set(int(d) for d in digits))))
    labels_all = np.asarray(dataset.labels, dtype=np.int64)
    keep = np.flatnonzero(np.isin(labels_all, chosen))
    if not keep.size:
        raise DataError(f"{dataset.describe()}: no images of {join_labels(chosen)} to measure selectivity on")
    images = dataset.images[keep]
    columns = []
    for start in range(0, len(keep), BATCH):
        acts = net.forward(images[start:start + BATCH])
        columns.append(np.stack([acts[r.layer + 1][:, r.index] for r in refs], axis=1))
    activations = np.concatenate(columns).astype(np.float64)
    labels = labels_all[keep]
    on = activations > threshold
    counts = {d: int(np.sum(labels == d)) for d in chosen}
    rows = []
    for j, ref in enumerate(refs):
        fired = {d: int(on[labels == d, j].sum()) for d in chosen}
        rates = {d: (fired[d] / counts[d] if counts[d] else None) for d in chosen}
        named, never, source = intended_digits(net, ref)
        info = (net.metadata.get("units") or {}).get(str(ref)) or {}
        rows.append(UnitSelectivity(str(ref), rates, fired, counts, float(on[:, j].mean()), int(len(labels)),
                                    named, never, source, str(info.get("doc") or ""), often))
    return Selectivity(tuple(rows), chosen, counts, float(threshold), float(often), dataset.describe(),
                       activations, labels, keep)
