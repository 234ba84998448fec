"""The verdict: the numbers in words, on constructed cases whose answer is known (identical nets,
random nets, a net of pure stroke templates)."""

import numpy as np
import pytest

from handnet.compare import verdict as V
from handnet.compare.comparison import compare
from handnet.data.mnist import load_splits
from handnet.nn.network import random_network


@pytest.fixture(scope="module")
def digits():
    test = load_splits().test
    return test.X[:300], test.y[:300]


@pytest.fixture(scope="module")
def hand():
    from pathlib import Path

    from handnet import build

    return build(Path(__file__).resolve().parent.parent / "weight_specs" / "3b1b.toml")


def claims(result, topic):
    return [c for c in result.verdict.claims if c.topic == topic]


def test_identical_nets_are_the_same_within_noise(digits, hand):
    X, y = digits
    result = compare(hand, hand, X, y, names=("hand", "hand again"))
    (diff,) = claims(result, "accuracy difference")
    assert diff.value == 0 and diff.within_noise and "equally accurate within noise" in diff.text
    for c in claims(result, "representation"):
        assert c.value == pytest.approx(1.0) and "same representation" in c.text and not c.within_noise
    # every claim cites its number, interval and baseline
    for c in result.verdict.claims:
        assert c.interval is not None and c.baselines and "95% CI" in c.text and "against" in c.text
    d = result.to_dict()["verdict"]
    assert d["thresholds"]["little_edge"] == V.LITTLE_EDGE and len(d["claims"]) == len(result.verdict.claims)


def stroke_net(hand):
    """``hand`` with its first layer replaced by 16 drawn straight strokes (the spec's templates), each
    8 px long, at 16 places and orientations: a first layer of pure little edges."""
    from handnet.compiler.templates import edge_template
    from handnet.spec.strokes import Line

    rows = []
    for k in range(16):
        a = np.radians(11.25 * k)
        r, c = 8 + 4 * (k % 4), 8 + 4 * (k // 4)
        dr, dc = -np.sin(a) * 4, np.cos(a) * 4
        rows.append(6.0 * edge_template([Line((r - dr, c - dc), (r + dr, c + dc))]).ravel())
    return hand.replace_layer(0, hand.layers[0].replace(weights=np.array(rows)))


def test_a_net_of_stroke_templates_is_made_of_little_edges_and_a_random_net_is_not(digits, hand):
    X, y = digits
    strokes = stroke_net(hand)
    rand = random_network(hand.sizes, seed=7)
    result = compare(strokes, rand, X, y, names=("strokes", "random"))
    edge_strokes, edge_rand = claims(result, "edge-likeness")
    assert edge_strokes.interval[0] >= V.LITTLE_EDGE and "is made of little edges" in edge_strokes.text
    assert "not made of little edges" in edge_rand.text and "white noise" in edge_rand.text and edge_rand.within_noise
    assert edge_rand.interval[1] <= edge_rand.baselines["blurred noise"]
    # the baselines rank as the lesson means, all below the threshold: white < blurred < digit-wide patterns
    b = edge_strokes.baselines
    assert b["white noise"] < b["blurred noise"] < b["principal components"] < V.LITTLE_EDGE


def test_two_random_nets_share_no_more_than_random_nets_do(digits):
    X, y = digits
    a, b = random_network(seed=11), random_network(seed=12)
    result = compare(a, b, X, y, names=("random 11", "random 12"))
    for c in claims(result, "representation"):
        assert c.within_noise and "no more than a random net" in c.text
    for c in claims(result, "edge-likeness"):
        assert "not made of little edges" in c.text and c.within_noise


def test_interval_helpers_are_seeded_and_honest():
    values = np.linspace(0, 1, 17)
    assert V.bootstrap_median(values) == V.bootstrap_median(values)
    lo, hi = V.bootstrap_median(values)
    assert lo < 0.5 < hi
    diff, (lo, hi) = V.paired_difference([1, 0, 1, 0] * 50, [1, 1, 1, 0] * 50)
    assert diff == pytest.approx(0.25) and lo > 0


def test_hand_vs_trained_is_judged_against_trained_vs_trained(digits, hand):
    X, _ = digits
    twin = random_network(hand.sizes, seed=3)
    # a "second seed" identical to the twin: nothing else can be as alike to it
    for c in V.twin_claims(hand, twin, twin, X, n=50):
        assert c.baselines["trained vs trained"] == pytest.approx(1.0) and not c.within_noise
        assert "less alike to the twin than a second trained seed" in c.text
    # the twin against itself, with itself as the second seed: no difference, within noise
    for c in V.twin_claims(twin, twin, twin, X, n=50):
        assert c.value == pytest.approx(0.0) and c.within_noise


def test_the_baseline_claim_says_when_edge_likeness_does_not_separate_strokes_from_blobs():
    baselines = {"white noise": 0.16, "blurred noise": 0.41, "principal components": 0.59, "mean digit images": 0.60}
    c = V.baseline_claim(baselines, hand_median=0.94, twin_median=0.56)
    assert c.within_noise and "does not separate strokes from blobs" in c.text and "mean digit images" in c.text
    c = V.baseline_claim(baselines, hand_median=0.94, twin_median=0.9)
    assert not c.within_noise and "above every non-edge baseline" in c.text
    little = {"white noise": 0.03, "blurred noise": 0.11, "principal components": 0.3, "mean digit images": 0.26}
    c = V.baseline_claim(baselines, 0.94, 0.56, little, hand_little=0.6, twin_little=0.38)
    assert "white noise 0.03 < blurred noise 0.11 < mean digit images 0.26 < principal components 0.30" in c.text
    assert "it separates little edges from blobs" in c.text and c.baselines["little-edge score: white noise"] == 0.03
    c = V.baseline_claim(baselines, 0.94, 0.56, {**little, "mean digit images": 0.7}, 0.6, 0.38)
    assert "it too fails to separate them" in c.text


def test_units_firing_per_digit_counts_first_layer_units_above_one_half():
    from handnet.compare.comparison import firing_counts

    acts = np.array([[0.9, 0.9, 0.1], [0.9, 0.2, 0.2], [0.6, 0.6, 0.6]])
    f = firing_counts(acts, np.array([1, 1, 7]))
    assert f["mean"] == pytest.approx(2.0) and f["per_digit"] == {"1": 1.5, "7": 3.0} and f["units"] == 3
    c = V.firing_claim("net", {**f, "ci95": [8.5, 9.5]})
    assert "as many as the lesson hopes" in c.text and not c.within_noise
    c = V.firing_claim("net", {**f, "mean": 5.4, "ci95": [5.2, 5.6]})
    assert "fewer than the lesson hopes" in c.text


def test_principal_axes_are_the_svd_of_the_centred_digits_made_once_per_set(tmp_path, monkeypatch):
    from handnet.compare.verdict import _axes, principal_axes

    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path))
    from handnet.threads import one_blas_thread

    rng = np.random.default_rng(3)
    X, other = rng.random((300, 784)), rng.random((300, 784))
    with one_blas_thread():  # as the baselines always computed it: the same bits
        _, _, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    axes = principal_axes(X)
    np.testing.assert_array_equal(axes, vt)
    assert principal_axes(X.copy()) is axes and not axes.flags.writeable  # the same digits: computed once
    assert not np.array_equal(principal_axes(other), axes)
    _axes.clear()  # a new process: the axes come from the cache folder, not from another SVD
    monkeypatch.setattr(np.linalg, "svd", lambda *a, **k: pytest.fail("computed again"))
    np.testing.assert_array_equal(principal_axes(X), vt)
