"""docs/examples/3b1b-story.toml, the third candidate redesign of 3b1b.toml (issue 17): little
edges, a 4 built from its three lines, and parts that pass check with no known exception."""

from pathlib import Path

import numpy as np
import pytest

import handnet
from handnet.spec import load_spec
from spec_drawing import draw_edges
from handnet.spec.strokes import Line, ink

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "docs" / "examples" / "3b1b-story.toml"


@pytest.fixture(scope="module")
def story():
    return load_spec(SPEC), handnet.build(SPEC)


def _part(net, image, name):
    return float(net.forward(image)[2][0, list(net.layers[1].units).index(name)])


def test_every_part_combines_two_or_more_edges_and_names_its_digits(story):
    spec, _ = story
    assert len(spec.parts) == 16 and len(spec.edges) == 16
    for rule in spec.parts:
        assert len(rule.reads) + len(rule.none_of) >= 2, rule.name
        assert rule.digits, rule.name


def test_the_four_part_is_two_of_its_three_lines_with_an_open_top(story):
    """Constructed from the spec's own strokes: every two of the 4's lines fire it, one line does
    not, and the top of a loop inked over them (a 9's closed top) turns it off."""
    spec, net = story
    rule = next(r for r in spec.parts if r.name == "four")
    lines, (veto,) = list(rule.reads), rule.none_of
    assert rule.k == 2 and len(lines) == 3
    for i in range(3):
        assert _part(net, draw_edges(spec, lines[i]), "four") < 0.5, lines[i]
        pair = [n for j, n in enumerate(lines) if j != i]
        assert _part(net, draw_edges(spec, *pair), "four") > 0.5, pair
        assert _part(net, draw_edges(spec, *pair, veto), "four") < 0.5, pair
    assert _part(net, draw_edges(spec, *lines), "four") > 0.5


@pytest.mark.parametrize("shift", [(0, 0), (1, 0), (0, 1), (-1, -1)])
def test_a_hand_drawn_four_reads_as_4_and_closing_its_top_makes_it_a_9(story, shift):
    """A 4 of our own, three straight strokes not taken from the spec, moved by a pixel: the 4 part
    fires and the net answers 4; a bar closing the top between its two uprights makes it a 9."""
    _, net = story
    dr, dc = shift
    four = [Line((6 + dr, 9 + dc), (16 + dr, 8 + dc)), Line((16 + dr, 8 + dc), (15 + dr, 21 + dc)),
            Line((6 + dr, 17 + dc), (24 + dr, 15 + dc))]
    image = ink(four, 2.5).reshape(1, -1)
    assert _part(net, image, "four") > 0.5
    assert int(net.forward(image)[3][0].argmax()) == 4
    closed = ink(four + [Line((6 + dr, 9 + dc), (6 + dr, 17 + dc))], 2.5).reshape(1, -1)
    assert _part(net, closed, "four") < 0.5
    assert int(net.forward(closed)[3][0].argmax()) == 9


def test_the_example_passes_check_with_no_known_exception():
    from handnet.compiler.check import check_spec

    report = check_spec(SPEC)
    assert report.violations == [] and report.known == []


def test_a_blank_canvas_reads_no_digit_and_the_build_is_byte_identical(story):
    _, net = story
    assert net.forward(np.zeros((1, 784)))[3][0].max() < 0.5
    again = handnet.build(SPEC)
    for la, lb in zip(net.layers, again.layers):
        assert la.weights.tobytes() == lb.weights.tobytes() and la.biases.tobytes() == lb.biases.tobytes()


def test_an_inhibiting_part_lowers_its_digit(story):
    """Constructed strokes: each digit's positive parts drawn, then each part it weighs against
    inked on top (where its strokes are not already drawn) lowers the pre-activation by >= 1."""
    spec, net = story
    parts = {r.name: r for r in spec.parts}
    tested = 0
    for digit in spec.digits:
        pos = list(dict.fromkeys(e for n, w in digit.weights if w > 0 for e in parts[n].reads))
        d = list(net.layers[2].units).index(digit.name)
        base = net.forward(draw_edges(spec, *pos), preactivations=True)[1][2][0, d]
        assert base > 0, digit.name
        for n, w in digit.weights:
            if w < 0 and not set(parts[n].reads) <= set(pos):
                z = net.forward(draw_edges(spec, *dict.fromkeys(pos + list(parts[n].reads))), preactivations=True)[1][2][0, d]
                assert z <= base - 1, (digit.name, n)
                tested += 1
    assert tested >= 20
