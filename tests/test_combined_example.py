"""docs/examples/3b1b-combined.toml, the candidate redesign of 3b1b.toml (issue 17): its parts
combine edges, and the loops respond to their constructed strokes as the rules say."""

from pathlib import Path

import numpy as np

import handnet
from handnet.spec import load_spec
from spec_drawing import draw_edges

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "docs" / "examples" / "3b1b-combined.toml"


def test_every_part_combines_two_or_more_edges():
    spec = load_spec(SPEC)
    assert len(spec.parts) == 16 and len(spec.edges) == 16
    for rule in spec.parts:
        assert len(rule.reads) + len(rule.none_of) >= 2, rule.name


def test_a_loop_needs_both_of_its_halves():
    spec = load_spec(SPEC)
    net = handnet.build(SPEC)
    parts = list(net.layers[1].units)
    for loop, left, right in [("upper_loop", "upper_left_half", "upper_right_half"),
                              ("lower_loop", "lower_left_half", "lower_right_half")]:
        j = parts.index(loop)
        both = net.forward(draw_edges(spec, left, right))[2][0, j]
        assert both > 0.5, loop
        for half in (left, right):
            assert net.forward(draw_edges(spec, half))[2][0, j] < 0.5, (loop, half)


def test_the_example_builds_byte_identically():
    a, b = handnet.build(SPEC), handnet.build(SPEC)
    for la, lb in zip(a.layers, b.layers):
        assert la.weights.tobytes() == lb.weights.tobytes() and la.biases.tobytes() == lb.biases.tobytes()


def test_the_example_passes_check_with_its_digit_rules():
    """The digit weights were fitted under check's own cases: every positive part's strokes fire
    the digit and every negatively weighted part inked on top lowers it by the spec's margin."""
    from handnet.compiler.check import check_spec

    report = check_spec(SPEC)
    assert report.violations == []
    assert {unit for unit, _ in report.known} <= {"parts:round_bottom", "parts:right_of_centre", "parts:upper_caps",
                                                  "parts:three_caps", "parts:long_stroke"}


def test_every_part_names_its_digits_and_a_blank_canvas_reads_no_digit():
    spec = load_spec(SPEC)
    assert all(rule.digits for rule in spec.parts)
    out = handnet.build(SPEC).forward(np.zeros((1, 784)))[3][0]
    assert out.max() < 0.5


def test_an_inhibiting_part_lowers_its_digit():
    """Constructed strokes: a 0's positive parts drawn, then a part it weighs against inked on top."""
    spec = load_spec(SPEC)
    net = handnet.build(SPEC)
    zero = next(r for r in spec.digits if r.name == "0")
    against = [n for n, w in zero.weights if w < 0]
    assert against
    parts = {r.name: r for r in spec.parts}
    pos = [e for n, w in zero.weights if w > 0 for e in parts[n].reads]
    d = list(net.layers[2].units).index("0")
    base = net.forward(draw_edges(spec, *dict.fromkeys(pos)), preactivations=True)[1][2][0, d]
    assert base > 0  # the 0's own strokes fire it
    for n in against:
        z = net.forward(draw_edges(spec, *dict.fromkeys(pos + list(parts[n].reads))), preactivations=True)[1][2][0, d]
        assert z <= base - 1, n
