"""The compiler against oracles: constructed inputs for the logic, the declared threshold for
edges, the drawn pixels for templates, and hashes for determinism."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from handnet import build
from handnet.compiler.compile import compile_spec, edge_response
from handnet.nn.network import Network
from handnet.spec import load_spec
from handnet.spec.strokes import Line, ink

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "weight_specs").glob("*.toml"))

FOUR = """
[network]
name = "four"
[edges]
sharpness = 12
[edges.n]
strokes = [{ line = [[5, 8], [5, 20]] }]
[edges.s]
strokes = [{ line = [[22, 8], [22, 20]] }]
[edges.w]
strokes = [{ line = [[9, 5], [18, 5]] }]
[edges.e]
strokes = [{ line = [[9, 22], [18, 22]] }]
[edges.x]
strokes = [{ arc = { center = [13.5, 13.5], radii = [2.5, 2.5] } }]

[parts.three]
at_least = 3
of = ["n", "s", "w", "e"]
[parts.boxed]
all_of = ["n", "s"]
none_of = ["x"]
[parts.free]
weights = { n = 4.0, x = -4.0 }
bias = -2.0

[digits.0]
any_of = ["three"]
"""


def four(tmp_path):
    path = tmp_path / "four.toml"
    path.write_text(FOUR)
    spec = load_spec(path)
    return spec, compile_spec(spec)


def stimulus(spec, names):
    image = np.zeros((28, 28))
    for e in spec.edges:
        if e.name in names:
            image = np.maximum(image, ink(e.strokes, e.ink_width))
    return image


def unit(net, ref, image):
    r = net.unit(ref)
    return net.forward(image[None])[r.activation_index][0, r.index]


def test_at_least_three_of_four_fires_on_three_or_four_and_not_two(tmp_path):
    spec, net = four(tmp_path)
    import itertools

    for k in (2, 3, 4):
        for chosen in itertools.combinations("nswe", k):
            a = unit(net, "parts:three", stimulus(spec, chosen))
            assert (a > 0.5) == (k >= 3), (chosen, a)
    # and on the compiled formula itself: inputs exactly 0/1
    layer = net.layers[1]
    for k in range(5):
        a = np.zeros(5)
        a[:k] = 1
        z = layer.weights[0] @ a + layer.biases[0]
        assert (z > 0) == (k >= 3) and abs(z) == pytest.approx(6.0 / 2 if k in (2, 3) else abs(z))


def test_none_of_inhibits(tmp_path):
    spec, net = four(tmp_path)
    assert unit(net, "parts:boxed", stimulus(spec, "ns")) > 0.5
    assert unit(net, "parts:boxed", stimulus(spec, "nsx")) < 0.5
    assert unit(net, "parts:free", stimulus(spec, "n")) > 0.5
    assert unit(net, "parts:free", stimulus(spec, "nx")) < 0.5


def test_edge_crosses_one_half_at_its_declared_inked_fraction(tmp_path):
    # a stroke inked from one end: the activation must cross 0.5 where the declared fraction of
    # it is inked (tolerance: the 1/95 grid of the sweep)
    spec_text = FOUR.replace("[edges.n]", "[edges.n]\nfraction = 0.6")
    path = tmp_path / "frac.toml"
    path.write_text(spec_text)
    net = build(path)
    start, end = np.array([5.0, 8.0]), np.array([5.0, 20.0])
    fractions = np.linspace(0.05, 1.0, 96)
    acts = []
    for f in fractions:
        image = ink([Line(tuple(start), tuple(start + f * (end - start)))], 2.5)
        acts.append(unit(net, "edges:n", image))
    acts = np.array(acts)
    assert np.all(np.diff(acts) >= -1e-9)
    crossing = fractions[np.argmax(acts > 0.5)]
    assert crossing == pytest.approx(0.6, abs=0.011)
    assert acts[-1] > 0.9 and acts[0] < 0.1


def test_template_peaks_on_the_drawn_pixels_with_the_negative_surround_beside_them(tmp_path):
    spec, net = four(tmp_path)
    w = net.layers[0].weights[net.unit("edges:w").index].reshape(28, 28)
    drawn = ink([Line((9, 5), (18, 5))], 1.0) > 0.5  # the pixels the spec drew (col 5, rows 9-18)
    assert w[drawn].min() > 0 and w.max() == pytest.approx(w[drawn].max())
    assert np.all(w[~(ink([Line((9, 5), (18, 5))], 4.0) > 0)] <= 0)  # nothing positive away from the stroke
    beside = w[9:19, 7]
    assert np.all(beside < 0)  # two columns to the right of the stroke: the negative band
    assert np.all(w[9:19, 14] == 0)  # far away: no weight at all


def test_edge_layer_matches_the_threshold_formula(tmp_path):
    spec, net = four(tmp_path)
    edge = spec.unit("edges", "e")
    template, own, theta = edge_response(edge, spec.canvas)
    row = net.layers[0].weights[3]
    assert np.allclose(row, template.ravel() * edge.sharpness / own)
    assert net.layers[0].biases[3] == pytest.approx(-edge.sharpness * theta / own)
    assert net.metadata["units"]["edges:e"]["gain"] == pytest.approx(edge.sharpness / own)
    # theta is the response to the first half of the stroke (fraction 0.5), about half of w.s
    assert theta == pytest.approx(np.sum(template * ink([Line((9, 22), (13.5, 22))], 2.5)))
    assert 0.4 * own < theta < 0.7 * own  # more than half: the pen cap at the start is inked too


def test_explicit_bias_overrides_the_threshold(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text(FOUR.replace("[edges.n]", "[edges.n]\nbias = -1.25"))
    assert build(path).layers[0].biases[0] == -1.25


def test_metadata_knows_strokes_rules_and_provenance(tmp_path):
    spec, net = four(tmp_path)
    units = net.metadata["units"]
    assert units["edges:n"]["strokes"] == [{"line": [[5.0, 8.0], [5.0, 20.0]]}]
    assert units["parts:three"]["reads"] == {f"edges:{e}": 6.0 for e in "nswe"}
    assert "at_least 3" in units["parts:three"]["rule"]
    prov = net.metadata["provenance"]
    assert prov["kind"] == "spec" and prov["sha256"] == hashlib.sha256(FOUR.encode()).hexdigest()
    saved = Network.load(net.save(tmp_path / "four.npz"))
    assert saved.metadata == net.metadata and saved.unit("parts:boxed").index == 1


def _digest(net, tmp_path, name):
    path = net.save(tmp_path / name)
    with np.load(path) as npz:
        return hashlib.sha256(b"".join(npz[k].tobytes() for k in sorted(npz.files) if k != "metadata")).hexdigest()


@pytest.mark.parametrize("path", [p for p in SPECS if "fitted" not in p.name], ids=lambda p: p.name)
def test_same_spec_gives_byte_identical_weights(path, tmp_path):
    assert _digest(build(path), tmp_path, "a.npz") == _digest(build(path), tmp_path, "b.npz")


@pytest.fixture(scope="module")
def bundled():
    from handnet.data.mnist import bundled_splits

    return bundled_splits()


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_shipped_specs_compile_and_evaluate(path, bundled):
    net = build(path, bundled["train"])
    assert net.sizes == list(load_spec(path).sizes)
    assert [layer.name for layer in net.layers] == ["edges", "parts", "digits"]
    accuracy = net.accuracy(bundled["test"].X, bundled["test"].y)
    # the teaching spec draws calculator digits, not handwriting: it is only evaluated
    floor = {"3b1b.toml": 0.7, "3b1b-fitted.toml": 0.82}.get(path.name, 0.0)  # the floors, on bundled test
    assert floor <= accuracy <= 1


def test_fitted_readout_keeps_the_hand_layers_and_is_deterministic(bundled, tmp_path):
    hand = build(ROOT / "weight_specs" / "3b1b.toml")
    sample = bundled["train"].subset(np.arange(0, 4000, 4))
    fitted = build(ROOT / "weight_specs" / "3b1b-fitted.toml", sample)
    for i in (0, 1):
        assert np.array_equal(hand.layers[i].weights, fitted.layers[i].weights)
        assert np.array_equal(hand.layers[i].biases, fitted.layers[i].biases)
    assert _digest(fitted, tmp_path, "a.npz") == _digest(build(ROOT / "weight_specs" / "3b1b-fitted.toml", sample), tmp_path, "b.npz")
    assert fitted.accuracy(sample.X, sample.y) > hand.accuracy(sample.X, sample.y)


def test_a_cached_fitted_readout_has_the_bits_of_a_fresh_fit(bundled, tmp_path, monkeypatch):
    from handnet.compiler import readout

    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path / "cache"))
    sample = bundled["train"].subset(np.arange(0, 4000, 8))
    spec = ROOT / "weight_specs" / "3b1b-fitted.toml"
    fresh = build(spec, sample)
    (kept,) = readout.fits_dir().glob("logistic-*.npy")
    calls = []
    monkeypatch.setattr(readout, "fit_logistic", lambda *a, **k: calls.append(a) or pytest.fail("fitted again"))
    cached = build(spec, sample)
    assert not calls and _digest(cached, tmp_path, "cached.npz") == _digest(fresh, tmp_path, "fresh.npz")
    monkeypatch.undo()
    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path / "cache"))
    # other data or another l2 is another fit; a damaged file is fitted again and replaced
    build(spec, bundled["train"].subset(np.arange(1, 4000, 8)))
    assert len(list(readout.fits_dir().glob("logistic-*.npy"))) == 2
    kept.write_bytes(b"not an array")
    assert _digest(build(spec, sample), tmp_path, "again.npz") == _digest(fresh, tmp_path, "fresh.npz")
    assert np.load(kept).shape == (10 * 17,)
    X, y = np.random.default_rng(2).random((50, 3)), np.arange(50) % 3
    assert readout.fit_key(X, y, 3, 0.01) != readout.fit_key(X, y, 3, 0.02) != readout.fit_key(X, y[::-1], 3, 0.02)


def test_least_squares_readout_is_the_closed_form_optimum(tmp_path, bundled):
    from handnet.compiler.readout import fit_least_squares

    rng = np.random.default_rng(0)
    X = rng.random((300, 5))
    y = rng.integers(0, 10, 300)
    W, b = fit_least_squares(X, y, l2=0.0)
    A = np.c_[X, np.ones(300)]
    ref = np.linalg.lstsq(A, np.eye(10)[y], rcond=None)[0]
    assert np.allclose(W.T, ref[:5], atol=1e-8) and np.allclose(b, ref[5], atol=1e-8)


def test_logistic_readout_gradient_vanishes_at_the_optimum():
    from handnet.compiler.readout import fit_logistic

    rng = np.random.default_rng(1)
    X = rng.random((200, 4))
    y = (X[:, 0] * 3 + rng.random(200)).astype(int) % 3
    W, b = fit_logistic(X, y, n_classes=3, l2=0.01)
    z = X @ W.T + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    grad_w = (p - np.eye(3)[y]).T @ X / 200 + 0.01 * W
    assert np.abs(grad_w).max() < 1e-5


def test_quantile_calibration_changes_only_biases(tmp_path, bundled):
    path = tmp_path / "q.toml"
    path.write_text(FOUR.replace("[edges]\n", "[edges]\nthreshold = { quantile = 0.9 }\n"))
    base = tmp_path / "base.toml"
    base.write_text(FOUR)
    sample = bundled["train"].subset(np.arange(0, 4000, 8))
    calibrated, plain = build(path, sample), build(base)
    assert np.array_equal(calibrated.layers[0].weights, plain.layers[0].weights)
    assert not np.allclose(calibrated.layers[0].biases, plain.layers[0].biases)
    on = calibrated.forward(sample.X)[1] > 0.5
    assert np.allclose(on.mean(axis=0), 0.1, atol=0.01)  # 90% of the digits stay below 0.5
