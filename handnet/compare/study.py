"""The study behind ``handnet report``: the ladder, the hand-designed net against its trained twin,
and the surgery, computed once for one spec and one set of digits.

``run_study(spec_path, splits)`` returns a ``Study``; ``handnet.viz.report.write_report`` lays it
out as a page, and ``Study.to_dict()`` gives every number for ``--json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from handnet.compare.comparison import Comparison, compare
from handnet.compare.ladder import Ladder, ladder, ladder_steps
from handnet.compare.surgery import SURGERY_REFITS, surgery
from handnet.nn.network import Network


@dataclass
class Study:
    """What a report shows. ``hand`` is the ladder's spec rung (every weight from the spec),
    ``twin`` its first trained network (seed 0)."""

    spec_path: str
    data: str
    ladder: Ladder
    comparison: Comparison
    surgery: object
    hand: Network
    twin: Network

    def to_dict(self) -> dict:
        return {"ladder": self.ladder.to_dict(), "comparison": self.comparison.to_dict(),
                "surgery": self.surgery.to_dict()}


def run_study(spec_path, splits, seeds: int = 3, config=None, layer: str = "hidden1", progress=None,
              digits=None) -> Study:
    """Run the ladder for ``spec_path`` on ``splits`` (a ``data.DataSplits``), then compare its
    hand-designed net with its trained twin and do the surgery on ``layer``.

    Output units answer by name: everything is trained and scored on the digits of the labels the
    spec's outputs answer (or ``digits``). ``progress(k)`` is called as work is done (total
    ``study_steps(seeds)``).
    """
    step = progress or (lambda k: None)
    lad = ladder(spec_path, splits.train, splits.test, seeds=seeds, config=config, progress=step, digits=digits)
    hand = lad.rung("spec").networks[0]  # the hand-designed net: every weight from the spec
    twin = lad.rung("trained").networks[0]
    Xt, yt = splits.test.X, splits.test.y
    comparison = compare(hand, twin, Xt, yt, names=("hand", "trained"), data=splits.test.describe(), digits=digits)
    step(1)
    cut = surgery(hand, twin, splits.train.X, splits.train.y, Xt, yt, layer=layer, config=config,
                  data=splits.description, digits=digits, progress=step)  # one step per refit
    return Study(str(spec_path), splits.description, lad, comparison, cut, hand, twin)


def study_steps(seeds: int) -> int:
    """How many progress steps ``run_study`` reports."""
    return ladder_steps(seeds) + 1 + SURGERY_REFITS
