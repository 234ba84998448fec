"""docs/examples/3b1b-combined.toml, the candidate redesign of 3b1b.toml (issue 17): its parts
combine edges, and the loops respond to their constructed strokes as the rules say."""

from pathlib import Path

import numpy as np

import handnet
from handnet.spec import load_spec
from handnet.spec.strokes import ink

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "docs" / "examples" / "3b1b-combined.toml"


def _draw(spec, *edges):
    image = np.zeros(spec.canvas)
    for name in edges:
        edge = next(e for e in spec.edges if e.name == name)
        image = np.maximum(image, ink(edge.strokes, edge.ink_width, spec.canvas))
    return image.reshape(1, -1)


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
        both = net.forward(_draw(spec, left, right))[2][0, j]
        assert both > 0.5, loop
        for half in (left, right):
            assert net.forward(_draw(spec, half))[2][0, j] < 0.5, (loop, half)


def test_the_example_builds_byte_identically():
    a, b = handnet.build(SPEC), handnet.build(SPEC)
    for la, lb in zip(a.layers, b.layers):
        assert la.weights.tobytes() == lb.weights.tobytes() and la.biases.tobytes() == lb.biases.tobytes()
