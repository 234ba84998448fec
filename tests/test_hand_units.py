"""benchmarks/hand_units.py's tiled specs (3b1b-wide.toml is one): drawn by rule, they pass their own
check, their parts respond to constructed strokes as their rules say, and the shipped file is in sync."""

import sys
from pathlib import Path

import numpy as np
import pytest

import handnet
from handnet.compiler.check import check_spec
from handnet.spec.strokes import Line, ink

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.hand_units import tiled_spec  # noqa: E402


@pytest.fixture(scope="module")
def tiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiled") / "tiled-3.toml"
    path.write_text(tiled_spec(3))
    return path


def test_the_wide_spec_is_what_the_generator_writes():
    assert (ROOT / "weight_specs" / "3b1b-wide.toml").read_text() == tiled_spec(6, "3b1b-wide")


def test_a_tiled_spec_passes_its_own_check(tiled):
    report = check_spec(tiled)
    assert report.ok and not report.violations
    assert len(report.units) == 3 * 3 * 4 + 3 * 3 + (6 + 6 + 4 + 4) + 10


def test_a_long_line_lights_the_line_part_and_half_of_it_does_not(tiled):
    net = handnet.build(tiled)
    parts = list(net.layers[1].units)
    # places (6, 6), (6, 14), (6, 22): a bar along row 6 over the first two places is the line across_0_0
    long_bar = ink([Line((6, 2), (6, 18))], 2.5).reshape(1, -1)
    short_bar = ink([Line((6, 2), (6, 9))], 2.5).reshape(1, -1)
    line, ink_here = parts.index("across_line_0_0"), parts.index("ink_0_0")
    assert net.forward(long_bar)[2][0, line] > 0.5
    assert net.forward(short_bar)[2][0, line] < 0.5
    assert net.forward(short_bar)[2][0, ink_here] > 0.5  # ink at the first place, at any angle
    blank = net.forward(np.zeros((1, 784)))[2][0]
    assert blank.max() < 0.5


def test_the_figure_joins_each_family_and_labels_the_single_specs():
    from handnet.viz.compare import plot_hand_units

    rows = [{"units": u, "kind": "hand, fitted readout", "accuracy": a, "label": f"tiled {u}", "family": "tiled"}
            for u, a in [(26, 0.4), (65, 0.76)]]
    rows += [{"units": u, "kind": "trained twin", "accuracy": a, "label": "", "family": "twin"}
             for u, a in [(26, 0.9), (65, 0.95)]]
    rows += [{"units": 32, "kind": "hand, pure", "accuracy": 0.77, "label": "3b1b.toml"}]
    fig = plot_hand_units(rows)
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2]
    assert len(lines) == 3  # two families and the guessing line
    assert any("3b1b.toml 77.0%" in t.get_text() for t in ax.texts)
