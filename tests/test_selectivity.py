"""Selectivity by digit (``handnet.inside.selectivity``, ``explain --digits``) and the two-value sweep.

The oracle for the rates is a constructed network whose unit fires exactly when the top-left pixel
is inked, on images made for it, so every rate is a known fraction; the two-value sweep is checked
against one-value sweeps along each axis.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from handnet.cli import main
from handnet.data.mnist import Dataset, load_splits
from handnet.errors import DataError, HandnetError, SpecError
from handnet.inside.selectivity import doc_digits, selectivity
from handnet.nn.network import Layer, Network

ROOT = Path(__file__).resolve().parent.parent
SPEC_3B1B = ROOT / "weight_specs" / "3b1b.toml"

CORNER_INK = [255, 200, 180, 160]  # the four 3s that carry the corner pixel, strongest first


def corner_net() -> Network:
    """``feat:corner`` fires (activation > 0.5) exactly when pixel 0 is inked; ``feat:dark`` never fires.
    Output ``out:seven`` (label 7) copies the corner, ``out:one`` (label 1) is its opposite."""
    W1 = np.zeros((2, 784))
    W1[0, 0] = 20.0
    feat = Layer("feat", W1, np.array([-10.0, -1.0]), "sigmoid", ("corner", "dark"))
    out = Layer("out", np.array([[20.0, 0.0], [-20.0, 0.0]]), np.array([-10.0, 10.0]), "sigmoid", ("seven", "one"))
    units = {"feat:corner": {"doc": "the top-left pixel of a 7 (never in a 1)"}}
    return Network([feat, out], metadata={"provenance": {"kind": "test"}, "units": units,
                                          "labels": {"seven": 7, "one": 1}})


def corner_data() -> Dataset:
    """Ten 3s (four with the corner inked, at CORNER_INK), five 7s (all inked), eight 1s (none); no other digit."""
    images, labels = [], []
    for digit, inks in ((3, CORNER_INK + [0] * 6), (7, [255] * 5), (1, [0] * 8)):
        for ink in inks:
            image = np.zeros((28, 28), np.uint8)
            image[14, 10:18] = 255  # some ink elsewhere, which no unit reads
            image[0, 0] = ink
            images.append(image)
            labels.append(digit)
    return Dataset("made", np.array(images), np.array(labels, dtype=np.int64), "constructed")


def test_rates_counts_and_baseline_are_exact():
    table = selectivity(corner_net(), corner_data())
    corner = table.unit("feat:corner")
    assert corner.counts[3] == 10 and corner.fired[3] == 4 and corner.rates[3] == pytest.approx(0.4)
    assert corner.rates[7] == 1.0 and corner.rates[1] == 0.0
    assert corner.overall == pytest.approx(9 / 23) and corner.n == 23
    assert all(corner.rates[d] is None for d in (0, 2, 4, 5, 6, 8, 9))  # absent: no rate, no division by zero
    assert corner.versus_baseline(7) == 1 and corner.versus_baseline(1) == -1
    low, high = corner.band(3)  # an indifferent unit: 9/23 +- 1.96 sqrt(p(1-p)/10)
    half = 1.959964 * np.sqrt(9 / 23 * 14 / 23 / 10)
    assert (low, high) == pytest.approx((9 / 23 - half, 9 / 23 + half))
    assert table.unit("feat:dark").overall == 0.0 and table.unit("feat:dark").named is None
    # meant for 7 (its doc), never 1; 3 fires 40% of the time: under "often" (50%), so not wrong
    assert corner.named == (7,) and corner.never == (1,) and corner.source == "its doc"
    assert corner.hits == [7] and corner.misses == [] and corner.wrong == []
    assert corner.fires_on == [7]
    looser = selectivity(corner_net(), corner_data(), "feat:corner", often=0.4).unit("feat:corner")
    assert looser.wrong == [3] and "wrongly fires on 3 (40%)" in looser.summary()


def test_output_units_are_meant_for_the_label_they_answer():
    table = selectivity(corner_net(), corner_data(), "out")
    seven, one = table.unit("out:seven"), table.unit("out:one")
    assert seven.named == (7,) and one.named == (1,) and seven.source == "the label it answers"
    assert seven.rates == table.unit("out:seven").rates and seven.rates[7] == 1.0
    assert one.rates[3] == pytest.approx(0.6) and one.wrong == [3]  # the six blank-corner 3s
    assert "wrongly fires on 3 (60%)" in one.summary()


def test_a_subset_of_digits_and_digits_the_data_lacks():
    sub = selectivity(corner_net(), corner_data(), "feat:corner", digits=(3, 7)).unit("feat:corner")
    assert list(sub.rates) == [3, 7] and sub.overall == pytest.approx(9 / 15)  # the baseline over the kept images
    lacking = selectivity(corner_net(), corner_data(), "feat:corner", digits="0,7")
    unit = lacking.unit("feat:corner")
    assert unit.rates == {0: None, 7: 1.0} and unit.overall == 1.0
    assert "no 0 in the data" in unit.summary() and "the data has no 0" in lacking.format_text()
    with pytest.raises(DataError, match="no images of 2, 4"):
        selectivity(corner_net(), corner_data(), digits=(2, 4))
    # a named digit the data lacks is said, not scored
    net = corner_net()
    net.metadata["units"]["feat:corner"]["doc"] = "a 7 or a 5"
    assert "cannot tell for 5 (not in the data)" in selectivity(net, corner_data(), "feat:corner").unit(
        "feat:corner").summary()


def test_examples_are_the_wrong_fires_strongest_first():
    data = corner_data()
    table = selectivity(corner_net(), data, "feat:corner")
    (digit, index, acts), = table.examples("feat:corner")
    assert digit == 3 and list(data.images[index][:, 0, 0]) == CORNER_INK and np.all(np.diff(acts) < 0)
    assert table.examples("feat:corner", per_digit=2)[0][1].tolist() == index[:2].tolist()
    everything = table.examples("feat:corner", wrong_only=False)
    assert [d for d, _, _ in everything] == [7, 3]  # highest rate first
    assert selectivity(corner_net(), data, "feat:dark").examples("feat:dark") == []


@pytest.mark.parametrize("doc, named, never", [
    ("a loop in the upper half: its left curve, right side and top (9, 8, 0)", (9, 8, 0), ()),
    ("a short stroke at the lower left (2, 6, 0; never in a 3, 5 or 7)", (2, 6, 0), (3, 5, 7)),
    ("the corner at the top right of a 7 (never in a 6)", (7,), (6,)),
    ("a loop in the lower half (8, 6, 0; not 1, 7, 9)", (8, 6, 0), (1, 7, 9)),
    ("the left side of a lower loop: closed in 6, 0 and 8, open in 3 and 5", (6, 0, 8), (3, 5)),
    ("a bump right of the upper left: 3's and 5's upper turn, a 1's stroke", (3, 5, 1), ()),
    ("a cap at the lower right (6, 2, a 7's stem, 4)", (6, 2, 7, 4), ()),
    ("weights from 3b1b on a 28x28 canvas, fires at 0.5, 8-10 units, bias -1", (), ()),
    ("no digit at all", (), ()),
    ("the bowls of 3s and 5s, not 7s", (3, 5), (7,)),
    ("", (), ()),
])
def test_doc_digits(doc, named, never):
    assert doc_digits(doc) == (named, never)


TINY = """
[edges.top]
strokes = [{ line = [[6, 8], [6, 20]] }]
doc = "a bar at the top (7, 5)"
{top_extra}
[edges.bottom]
strokes = [{ line = [[22, 8], [22, 20]] }]
[parts.both]
all_of = ["top", "bottom"]
{part_extra}
[digits.yes]
any_of = ["both"]
label = 3
{digit_extra}
"""


def tiny(tmp_path, top_extra="", part_extra="", digit_extra="") -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.replace("{top_extra}", top_extra).replace("{part_extra}", part_extra)
                    .replace("{digit_extra}", digit_extra))
    return path


def test_a_spec_names_its_digits_explicitly(tmp_path):
    import handnet
    from handnet.inside.selectivity import intended_digits

    net = handnet.build(tiny(tmp_path, "digits = [7, 9]", "digits = []"))
    assert net.metadata["units"]["edges:top"]["digits"] == [7, 9]  # the field wins over the doc's (7, 5)
    assert intended_digits(net, net.unit("edges:top"))[::2] == ((7, 9), "its digits field")
    assert intended_digits(net, net.unit("parts:both"))[0] == ()  # meant for no digit: every firing is wrong
    assert intended_digits(net, net.unit("edges:bottom"))[0] is None  # no doc, no field: nothing named
    assert intended_digits(net, net.unit("digits:yes"))[0] == (3,)  # label = 3
    saved = Network.load(net.save(tmp_path / "tiny.npz"))
    assert intended_digits(saved, saved.unit("edges:top"))[0] == (7, 9)


@pytest.mark.parametrize("extra, message", [
    ({"top_extra": "digits = [7, 7]"}, "tiny.toml: edges.top.digits: 7 listed twice"),
    ({"top_extra": "digits = [12]"}, "edges.top.digits: expected digits 0-9, got 12"),
    ({"part_extra": 'digits = "7"'}, "parts.both.digits: expected a list of digits 0-9 such as [9, 8, 0]"),
    ({"digit_extra": "digits = [3]"}, "digits.yes.digits: an output unit is meant for the digit it answers"),
])
def test_a_bad_digits_field_is_one_line(tmp_path, extra, message):
    import handnet

    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        handnet.build(tiny(tmp_path, **extra))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_explain_digits_prints_the_table_and_the_baseline(tmp_path):
    single = run("explain", SPEC_3B1B, "parts:upper_loop", "--digits")
    assert single.exit_code == 0, single.output
    assert "parts:upper_loop: bias" in single.output  # what it reads, then how it fires
    assert "'all' is its share over every digit, the baseline" in single.output
    assert "parts:upper_loop fires most on" in single.output and "(its doc)" in single.output
    layer = json.loads(run("explain", SPEC_3B1B, "parts", "--digits", "0,1,7", "--json").stdout)
    sel = layer["selectivity"]
    assert sel["digits"] == [0, 1, 7] and len(sel["units"]) == len(layer["units"]) == 16
    first = sel["units"][0]
    assert set(first["rates"]) == {"0", "1", "7"} and 0 <= first["overall"] <= 1
    assert first["fired"]["0"] == round(first["rates"]["0"] * first["counts"]["0"])


def test_explain_digits_on_a_trained_net_and_the_wrong_fire_mosaic(tmp_path):
    from handnet.nn.network import random_network

    net = random_network([784, 16, 16, 10], np.random.default_rng(0))
    path = net.save(tmp_path / "trained.npz")
    unit = f"{net.layers[0].name}:3"
    text = run("explain", path, unit, "--digits")
    assert text.exit_code == 0, text.output
    assert "names no digits, so none is wrong" in text.output
    mosaic = run("explain", path, unit, "--digits", "-o", tmp_path / "fires.png")
    assert mosaic.exit_code == 0 and (tmp_path / "fires.png").is_file()
    out = tmp_path / "wrong.png"
    spec_run = run("explain", SPEC_3B1B, "parts:upper_loop", "--digits", "-o", out)
    assert spec_run.exit_code == 0 and out.is_file() and out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, expected", [
    (["parts:upper_lop", "--digits"], "(did you mean parts:upper_loop?)"),
    (["--digits", "parts"], "put UNIT before --digits"),
    (["parts:upper_loop", "-o", "{tmp}/w.png"], "-o draws the digits a unit wrongly fires on: add --digits"),
    (["parts:upper_loop", "--digits", "--threshold", "1.5"], "--threshold"),
])
def test_explain_digits_errors_are_one_line(tmp_path, args, expected):
    result = run("explain", SPEC_3B1B, *[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code != 0 and expected in result.output and "Traceback" not in result.output
    assert not (tmp_path / "w.png").exists()


def test_the_figures_read():
    from handnet.viz.plots import plot_wrong_fires
    from handnet.viz.style import text_problems
    from handnet.viz.tune import plot_sweep_grid

    rng = np.random.default_rng(0)
    rows = [rng.random((12, 784)), rng.random((3, 784)), np.zeros((0, 784))]
    fig = plot_wrong_fires(rows, ["2: fires on 50% of 500", "5: fires on 9% of 448", "parts:lower_left_stroke"],
                           [[f"{a:.2f}" for a in rng.random(12)], ["3"] * 3, []],
                           "parts:upper_loop: the test digits it fires on although its spec does not name them",
                           "Each row is one digit the unit is not meant for.")
    assert text_problems(fig) == []
    assert len(fig.axes) == 1 and len(fig.axes[0].images) == 1  # one mosaic, not an Axes per thumbnail
    grid = rng.uniform(0.3, 0.8, (4, 5))
    grid[1, 2] = np.nan
    fig = plot_sweep_grid(np.linspace(-9, -3, 4), np.linspace(0.1, 0.5, 5), grid, (-7.0, 0.3),
                          ("parts.upper_loop.bias", "edges.fraction"), "dev (5000 digits)", 0.76)
    assert text_problems(fig) == []
    assert text_problems(plot_wrong_fires([], [], [], "nothing wrong", "An empty figure.")) == []
    from handnet.viz.plots import wrong_fires_figure

    data = corner_data()
    one = wrong_fires_figure(selectivity(corner_net(), data, "feat:corner"), data.images)
    assert text_problems(one) == [] and [t.get_text() for t in one.axes[0].get_yticklabels()] == ["3: fires on 40% of 10"]
    both = wrong_fires_figure(selectivity(corner_net(), data), data.images, per_row=3)
    labels = [t.get_text() for t in both.axes[0].get_yticklabels()]
    assert text_problems(both) == [] and labels == ["feat:corner", "feat:dark (any digit)", "out:seven", "out:one"]
    big = plot_sweep_grid(np.arange(30.0), np.arange(40.0), rng.random((30, 40)), (None, None), ("a", "b"))
    assert text_problems(big) == []


# ---- sweeping two values at once ---------------------------------------------------------------
@pytest.fixture(scope="module")
def test_digits():
    return load_splits().test.subset(slice(0, 1500))


def _units():
    from handnet.spec import load_spec

    spec = load_spec(SPEC_3B1B)
    counting = next(r for r in spec.parts if r.kind == "at_least" and r.source.startswith("at_least"))
    return spec.edges[0], counting


def test_the_grid_equals_the_one_value_sweeps_along_each_axis(test_digits):
    from handnet.tune.sweep import sweep, sweep_grid

    edge, part = _units()
    a, b = f"edges.{edge.name}.fraction", f"parts.{part.name}.at_least"
    fractions, ks = [edge.fraction / 2, edge.fraction + 0.3], [1, len(part.reads)]
    grid = sweep_grid(SPEC_3B1B, a, fractions, b, ks, test_digits)
    assert grid.overall.shape == (3, len(set(ks) | {part.k})) and grid.current == (edge.fraction, part.k)
    i, j = grid.current_cell()
    along_a = sweep(SPEC_3B1B, a, fractions, test_digits)
    along_b = sweep(SPEC_3B1B, b, ks, test_digits)
    assert np.array_equal(grid.values[0], along_a.values) and np.array_equal(grid.values[1], along_b.values)
    assert np.array_equal(grid.overall[:, j], along_a.overall) and np.array_equal(grid.overall[i, :], along_b.overall)
    assert np.array_equal(grid.per_digit[:, j], along_a.per_digit, equal_nan=True)
    assert grid.as_written == grid.overall[i, j]  # the spec as the file has it sits at the current cell
    assert len(set(grid.overall.ravel().tolist())) > 2  # both values matter
    best = grid.best()
    assert grid.overall[best] == np.nanmax(grid.overall)


def test_the_grid_records_a_rejected_pair_and_the_command(test_digits, tmp_path):
    from handnet.tune.sweep import parse_assignment, sweep_grid

    edge, part = _units()
    a, b = f"edges.{edge.name}.fraction", f"edges.{edge.name}.sharpness"
    grid = sweep_grid(SPEC_3B1B, a, [-0.5, 0.5], b, [5.0], test_digits, include_current=False)
    assert "expected a number > 0" in grid.errors[0][0] and np.isnan(grid.overall[0, 0])
    assert grid.errors[1][0] is None and not np.isnan(grid.overall[1, 0])
    assert "1 pair did not compile" in grid.format_text()
    with pytest.raises(HandnetError, match="given twice"):
        sweep_grid(SPEC_3B1B, a, [0.3], a, [0.4], test_digits)
    assert parse_assignment(f"{a}=0.1, 0.3,0.7")[1].tolist() == [0.1, 0.3, 0.7]

    out = tmp_path / "grid.png"
    result = run("sweep", SPEC_3B1B, f"{a}=0.3,0.6", "--set", f"parts.{part.name}.at_least=1:2:2", "--json", "-o", out)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["paths"] == [a, f"parts.{part.name}.at_least"] and payload["figure"] == str(out) and out.is_file()
    assert len(payload["accuracy"]) == len(payload["values"][0]) and payload["as_written"] is not None
    for args, expected in [
        ([f"{a}=0.3", f"{b}=5", "--set", f"{b}=6"], "sweep takes one or two values to sweep, got 3"),
        ([f"{a}=0.3;0.5"], "expected START:STOP:STEPS, e.g. 0.3:0.8:11, or values separated by commas"),
        ([f"{a}=0.3", f"edges.{edge.name}.fracton=0.2"], "did you mean 'fraction'"),
        ([], "name the value to sweep"),
    ]:
        bad = run("sweep", SPEC_3B1B, *args, "-o", tmp_path / "bad.png")
        assert bad.exit_code != 0 and expected in bad.output and "Traceback" not in bad.output, (args, bad.output)
        assert not (tmp_path / "bad.png").exists()


def test_the_grid_shows_itself_in_jupyter(test_digits):
    from handnet.tune.sweep import sweep_grid

    edge, _ = _units()
    grid = sweep_grid(SPEC_3B1B, f"edges.{edge.name}.fraction", [0.3], f"edges.{edge.name}.sharpness", [8.0],
                      test_digits)
    page = grid._repr_html_()
    assert "<img" in page and "accuracy (%) of every pair" in page
    assert "<pre>" in selectivity(corner_net(), corner_data())._repr_html_()


def test_the_report_shows_the_table_with_its_meaning():
    from handnet.viz.report import render_report

    table = selectivity(corner_net(), corner_data(), "feat")
    page = render_report("t", selectivity=table)
    assert "What each hand unit fires on, digit by digit" in page and "the baseline" in page
    assert "<td>feat:corner</td><td class=num>39</td>" in page  # 9 of 23 digits
    assert "background: rgba(43, 140, 190, 0.75)'>100*</td>" in page  # every 7, a digit it is meant for
    assert "| feat:corner | 39% | - | 0 | - | 40 | - | - | - | 100* | - | - |" in table.markdown()
