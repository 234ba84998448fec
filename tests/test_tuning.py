"""Tuning curves on a hand-built net (strokes from metadata) and on nets without strokes."""

import numpy as np
import pytest

from handnet.spec import strokes
from handnet.inside import tuning_curves as tuning
from handnet.errors import UnitError
from handnet.nn.network import Network, random_network
from handnet.compiler.templates import edge_template
from inside_nets import EDGES, hand_net


def test_edge_unit_prefers_its_own_stroke_unrotated_and_unshifted():
    net = hand_net()
    result = tuning.edge_tuning(net, "hidden1:top_bar")
    assert result.unit == "edges:top_bar" and result.source == "spec strokes"
    assert result.preferred_angle == 0.0 and result.preferred_shift == 0.0
    np.testing.assert_allclose(result.stimulus, strokes.ink(EDGES["top_bar"], 2.5).ravel())
    at = dict(zip(result.angles, result.angle_activations))
    assert at[0.0] > 0.95 and at[90.0] < 0.1 and at[-90.0] < 0.1
    by_shift = dict(zip(result.shifts, result.shift_activations))
    assert by_shift[0.0] > 0.95 and by_shift[5.0] < 0.05 and by_shift[-5.0] < 0.05
    # the curves are the network's own activations on the drawn stimuli
    rotated = strokes.ink(strokes.moved(EDGES["top_bar"], angle=45.0), 2.5)
    expected = net.forward(rotated.ravel()[None])[1][0, 0]
    assert at[45.0] == pytest.approx(expected)


def test_part_unit_drops_when_any_of_its_edges_is_removed():
    net = hand_net()
    result = tuning.part_tuning(net, "parts:box")
    assert result.source == "spec reads"
    assert result.labels[0] == "all its edges"
    assert result.labels[1:5] == ["without top_bar", "without left_bar", "without right_bar", "without bottom_bar"]
    assert result.labels[5] == "plus slash (-)"
    full = result.activations[0]
    assert full > 0.7
    assert np.all(result.activations[1:] < full - 0.4)
    union = np.max([strokes.ink(EDGES[e], 2.5) for e in ("top_bar", "left_bar", "right_bar", "bottom_bar")], axis=0)
    np.testing.assert_allclose(result.stimuli[0], union.ravel())


def test_best_line_recovers_the_stroke_behind_a_template():
    for line in (strokes.Line((6.0, 10.0), (6.0, 18.0)), strokes.Line((20.0, 8.0), (8.0, 8.0))):
        found = tuning.best_line(edge_template([line]))
        ends = {tuple(np.round(found.start, 3)), tuple(np.round(found.end, 3))}
        assert ends == {tuple(line.start), tuple(line.end)}


def test_trained_net_without_metadata_uses_best_matching_lines():
    hand = hand_net()
    plain = Network(hand.layers, metadata={})  # same weights, strokes forgotten
    edge = tuning.edge_tuning(plain, "edges:left_bar")
    assert edge.source == "best-matching line"
    assert edge.preferred_angle == 0.0 and abs(edge.preferred_shift) <= 0.5
    assert edge.angle_activations.max() > 0.8
    part = tuning.part_tuning(plain, "parts:corner")
    assert part.source == "strongest weights"
    assert part.labels[:3] == ["all its edges", "without top_bar", "without left_bar"]
    assert part.activations[0] > part.activations[1] and part.activations[0] > part.activations[2]


def test_random_net_tuning_runs_on_hidden_units():
    net = random_network(seed=2)
    assert isinstance(tuning.tuning(net, "hidden1:3"), tuning.EdgeTuning)
    assert isinstance(tuning.tuning(net, "hidden2:3"), tuning.PartTuning)


def test_tuning_rejects_output_units_and_strokeless_deep_units():
    net = hand_net()
    with pytest.raises(UnitError, match="tuning curves are for edge"):
        tuning.tuning(net, "digits:3")
    with pytest.raises(UnitError, match="not a first-layer"):
        tuning.unit_strokes(net, "parts:box")
    with pytest.raises(UnitError, match="not a second-layer"):
        tuning.part_tuning(net, "edges:top_bar")
