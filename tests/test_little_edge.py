"""The little-edge score (handnet.compare.edgelike.little_edge) on constructed weights whose answer is
known: an oriented bar or Gabor patch is a little edge at any angle and any scale; a blob, a ring,
white noise and smooth noise are not; digit-wide patterns sit between."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter, rotate

from handnet.compare.edgelike import little_edge, little_edge_scores
from handnet.compiler.templates import edge_template
from handnet.spec.strokes import Arc, Line

ROWS, COLS = np.mgrid[0:28, 0:28]


def gabor(angle_deg, sigma=2.5, wavelength=6.0, centre=(14, 14)):
    a = np.radians(angle_deg)
    u = (COLS - centre[1]) * np.sin(a) + (ROWS - centre[0]) * np.cos(a)  # across the stripes
    envelope = np.exp(-((COLS - centre[1]) ** 2 + (ROWS - centre[0]) ** 2) / (2 * sigma**2))
    return envelope * np.cos(2 * np.pi * u / wavelength)


def bar(angle_deg, length=10.0, centre=(14.0, 14.0)):
    """A drawn straight stroke in the spec's own template: ink on it, a negative band beside it."""
    a = np.radians(angle_deg)
    dr, dc = -np.sin(a) * length / 2, np.cos(a) * length / 2
    line = Line((centre[0] - dr, centre[1] - dc), (centre[0] + dr, centre[1] + dc))
    return edge_template([line], width=2.0, surround=2.0)


def test_an_oriented_gabor_patch_and_a_drawn_bar_score_near_one():
    assert little_edge(gabor(0)).score > 0.85
    assert little_edge(gabor(60)).score > 0.8
    b = little_edge(bar(0))
    assert b.score > 0.7 and b.locality > 0.95 and b.centre == (14, 14)


@pytest.mark.parametrize("angle", [0, 30, 45, 90, 135])
def test_the_angle_found_is_the_stroke_s_own(angle):
    found = little_edge(bar(angle)).angle
    assert min(abs(found - angle), 180 - abs(found - angle)) < 4


@pytest.mark.parametrize("turn", [17, 45, 70, 90])
def test_a_rotated_copy_scores_the_same(turn):
    for w in (bar(0), gabor(0)):
        turned = rotate(w, turn, reshape=False, order=1)
        assert little_edge(turned).score == pytest.approx(little_edge(w).score, abs=0.06)


def test_the_scale_and_sign_of_the_weights_do_not_matter():
    w = bar(30)
    base = little_edge(w).score
    for k in (1e-4, 0.3, 250.0, -1.0):
        assert little_edge(k * w).score == pytest.approx(base, rel=1e-9)
    assert little_edge(w + 5.0).score == pytest.approx(base, rel=1e-9)  # an offset is not an edge either


def test_a_blob_a_ring_and_white_noise_score_low():
    rng = np.random.default_rng(0)
    blob = np.exp(-((COLS - 14) ** 2 + (ROWS - 14) ** 2) / (2 * 2.5**2))
    ring = np.exp(-((np.hypot(COLS - 14, ROWS - 14) - 5) ** 2) / 2)
    whole_circle = edge_template([Arc((14, 14), (5, 5), 0, 360)])
    for w in (blob, ring, whole_circle):
        r = little_edge(w)
        assert r.locality > 0.8 and r.score < 0.1  # localized, but no single orientation
    noise = little_edge_scores(rng.standard_normal((20, 784)))
    assert np.median(noise) < 0.06
    smooth = little_edge_scores([gaussian_filter(rng.standard_normal((28, 28)), 2).ravel() for _ in range(20)])
    assert np.median(noise) < np.median(smooth) < 0.25


def test_a_long_line_across_the_canvas_is_oriented_but_not_little():
    long = little_edge(edge_template([Line((2, 14), (26, 14))]))
    assert long.orientation > 0.7 and long.locality < 0.75 and long.score < little_edge(bar(90)).score


def test_a_curve_scores_less_than_a_straight_stroke_as_it_turns():
    straight = little_edge(bar(0)).score
    quarter = little_edge(edge_template([Arc((14, 14), (5, 5), 45, 135)])).score
    half = little_edge(edge_template([Arc((14, 14), (5, 5), 0, 180)])).score
    assert straight > quarter > half and half < 0.15


def test_constant_weights_score_zero():
    assert little_edge(np.zeros(784)).score == 0.0
    assert little_edge(np.full(784, 3.0)).score == 0.0


def test_the_baselines_rank_as_the_lesson_means():
    """White noise < blurred noise < the digits' principal components and mean images < drawn strokes."""
    from handnet.compare.verdict import LITTLE_EDGE, little_edge_baselines
    from handnet.data.mnist import load_splits

    train = load_splits().train
    b = little_edge_baselines(train.X[::4], train.y[::4])
    digit_wide = min(b["principal components"], b["mean digit images"])
    assert b["white noise"] < b["blurred noise"] < digit_wide
    assert max(b.values()) < LITTLE_EDGE
    drawn = np.median(little_edge_scores([bar(a, centre=(10 + a % 9, 10 + a % 7)).ravel() for a in range(0, 180, 12)]))
    assert drawn > LITTLE_EDGE + 0.15
