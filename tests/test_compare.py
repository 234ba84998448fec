"""Hand vs learned measurements, each against an oracle: CKA invariances, matching a permuted copy,
edge-likeness of pure strokes and of noise, ablation of a unit nothing reads, Wilson intervals."""

import numpy as np
import pytest

from handnet.compare import edgelike, similarity
from handnet.inside import probes
from handnet.compare.comparison import accuracy_report, compare, wilson_interval
from handnet.errors import HandnetError
from handnet.nn.network import Layer, Network, random_network
from handnet.spec.strokes import Arc, Line
from handnet.compiler.templates import edge_template


def permuted_copy(net: Network, rng):
    """The same function with every hidden layer's units shuffled; returns the copy and the permutations."""
    layers, perms = list(net.layers), []
    for i in range(len(layers) - 1):
        p = rng.permutation(layers[i].n_out)
        perms.append(p)
        layers[i] = layers[i].replace(weights=layers[i].weights[p], biases=layers[i].biases[p],
                                      units=tuple(layers[i].units[k] for k in p))
        layers[i + 1] = layers[i + 1].replace(weights=layers[i + 1].weights[:, p])
    return Network(layers, net.input_shape, {}), perms


def images(rng, n=400):
    return rng.uniform(0, 1, size=(n, 784)) * (rng.uniform(size=(n, 784)) < 0.2)


# ---- CKA -------------------------------------------------------------------------------------------
def test_cka_of_a_layer_with_itself_is_one(rng):
    X = rng.normal(size=(200, 16))
    assert similarity.linear_cka(X, X) == pytest.approx(1.0, abs=1e-12)


def test_cka_is_invariant_to_orthogonal_transforms_and_isotropic_scaling(rng):
    X = rng.normal(size=(300, 16))
    Q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    Y = rng.normal(size=(300, 16))
    base = similarity.linear_cka(X, Y)
    assert similarity.linear_cka(X, 3.7 * X @ Q + 5.0) == pytest.approx(1.0, abs=1e-10)
    assert similarity.linear_cka(X @ Q * 0.2, Y) == pytest.approx(base, abs=1e-10)
    assert base < 0.3  # independent random layers are far from 1


def test_cka_is_not_invariant_to_non_isotropic_scaling(rng):
    X = rng.normal(size=(300, 4)) * [1, 1, 1, 1]
    assert similarity.linear_cka(X, X * [10, 1, 1, 1]) < 0.9


# ---- matching --------------------------------------------------------------------------------------
@pytest.mark.parametrize("criterion", ["activation", "weights"])
def test_matching_recovers_a_permutation(rng, criterion):
    net = random_network(seed=3)
    copy, perms = permuted_copy(net, rng)
    X = images(rng)
    assert np.allclose(net.output(X), copy.output(X))
    for layer, p in enumerate(perms):
        m = similarity.match_units(net, copy, layer, criterion, X=X)
        # unit i of the copy is unit p[i] of the original
        assert np.array_equal(p[m.permutation], np.arange(len(p)))
        assert m.mean_score == pytest.approx(1.0, abs=1e-9)


# ---- edge-likeness ---------------------------------------------------------------------------------
def test_vectorized_bank_matches_edge_template():
    bank = edgelike.template_bank()
    for i in (0, len(bank) // 3, len(bank) - 1):
        t = edge_template([bank.stroke(i)], width=bank.widths[i], surround=edgelike.SURROUND).ravel()
        t = (t - t.mean()) / np.linalg.norm(t - t.mean())
        assert np.corrcoef(t, bank.templates[i])[0, 1] > 0.999


def test_edge_likeness_of_a_stroke_template_is_one_and_of_noise_is_low(rng):
    on_grid = edge_template([Line((6.0, 8.5), (6.0, 19.5))], width=2.5, surround=2.0)
    off_grid = edge_template([Line((9.3, 5.2), (17.8, 13.1))], width=2.0, surround=2.0)
    weights = np.stack([on_grid.ravel(), -off_grid.ravel(), rng.normal(size=784), rng.uniform(-1, 1, size=784)])
    net = Network([Layer("edges", weights, np.zeros(4)), Layer("digits", rng.normal(size=(10, 4)), np.zeros(10), "softmax")])
    fits = edgelike.edge_likeness(net)
    assert len(fits) == 4
    assert fits[0].correlation > 0.99 and fits[0].polarity == 1
    start, end = sorted([fits[0].stroke.start, fits[0].stroke.end])
    assert np.allclose(start, (6.0, 8.5), atol=0.01) and np.allclose(end, (6.0, 19.5), atol=0.01)
    assert fits[1].correlation > 0.85 and fits[1].polarity == -1
    assert fits[2].correlation < 0.25 and fits[3].correlation < 0.25
    assert not fits[0].linear_approximation


def test_edge_likeness_recovers_width_surround_and_inhibition():
    # on the grid (centre (14, 14), horizontal, 11 px), but wider and with a weaker, wider surround
    template = edge_template([Line((14.0, 8.5), (14.0, 19.5))], width=4.0, surround=4.0, inhibition=0.7)
    net = Network([Layer("edges", template.reshape(1, -1), np.zeros(1)), Layer("digits", np.ones((10, 1)), np.zeros(10), "softmax")])
    fit = edgelike.edge_likeness(net)[0]
    assert fit.correlation > 0.995
    assert (fit.width, fit.surround) == (4.0, 4.0) and fit.inhibition == pytest.approx(0.7, abs=0.03)


def test_best_inhibition_is_the_least_squares_optimum(rng):
    centre, ring = rng.uniform(size=(3, 784)), rng.uniform(size=(3, 784))
    w = centre[1] - 0.4 * ring[1] + 0.01 * rng.normal(size=784)
    corr, k = edgelike.best_inhibition(w, centre, ring)
    assert k[1] == pytest.approx(0.4, abs=0.05) and corr[1] > 0.99
    grid = np.linspace(0, 3, 3001)  # brute force over k >= 0 agrees with the closed form
    for i in range(3):
        brute = [np.corrcoef(w, centre[i] - g * ring[i])[0, 1] for g in grid]
        assert abs(corr[i]) == pytest.approx(np.max(np.abs(brute)), abs=1e-4)


def test_edge_likeness_finds_an_arc_like_the_specs_loops():
    arc = edge_template([Arc((10.0, 14.5), (4.5, 4.5), 100.0, 260.0)], width=2.0, surround=2.0, inhibition=0.6)
    net = Network([Layer("edges", arc.reshape(1, -1), np.zeros(1)), Layer("digits", np.ones((10, 1)), np.zeros(10), "softmax")])
    fit = edgelike.edge_likeness(net)[0]
    assert fit.correlation > 0.95 and isinstance(fit.stroke, Arc)
    assert np.allclose(fit.stroke.center, (10.0, 14.5), atol=1.0) and abs(fit.stroke.radii[0] - 4.5) <= 1.0


def test_deeper_units_are_scored_on_their_pixel_template(rng):
    stroke = edge_template([Line((14.0, 4.5), (14.0, 15.5))], width=2.5).ravel()
    first = np.stack([stroke, rng.normal(size=784)])
    net = Network([Layer("edges", first, np.zeros(2)), Layer("parts", np.array([[2.0, 0.0]]), np.zeros(1)),
                   Layer("digits", np.ones((10, 1)), np.zeros(10), "softmax")])
    fit = edgelike.edge_likeness(net, "parts")[0]
    assert fit.linear_approximation and fit.correlation > 0.99


# ---- probes ----------------------------------------------------------------------------------------
def test_ablating_a_unit_nothing_reads_changes_nothing(rng):
    net = random_network(seed=5)
    w = net.layers[1].weights.copy()
    w[:, 7] = 0.0  # nothing reads hidden1:7
    net = net.replace_layer(1, net.layers[1].replace(weights=w))
    X, y = images(rng), rng.integers(0, 10, size=400)
    for mode in ("zero", "mean"):
        result = probes.ablation(net, X, y, mode=mode)
        unit = next(u for u in result["units"] if u["unit"] == "hidden1:7")
        assert unit["drop"] == 0.0 and all(d == 0.0 or np.isnan(d) for d in unit["per_digit_drop"])
        assert len(result["units"]) == 32


def test_ablating_the_only_path_drops_to_what_the_bias_says(rng):
    # one hidden unit carries the answer: silencing it leaves the output to the biases alone
    w1 = np.zeros((2, 784)); w1[0, :392] = 1.0
    net = Network([Layer("h", w1, np.array([-50.0, 0.0])), Layer("digits", np.array([[-20.0, 0.0], [20.0, 0.0]]), np.array([10.0, -10.0]), "softmax")],
                  input_shape=(28, 28))
    X = np.zeros((100, 784)); X[50:, :392] = 1.0
    y = np.r_[np.zeros(50, int), np.ones(50, int)]
    assert net.accuracy(X, y) == 1.0
    result = probes.ablation(net, X, y, mode="zero")
    assert result["units"][0]["drop"] == pytest.approx(0.5)
    assert result["units"][1]["drop"] == 0.0


def test_noise_test_reports_confidence_on_noise_blank_and_digits(rng):
    # a network whose output ignores the image is equally confident on everything
    net = Network([Layer("h", np.zeros((3, 784)), np.zeros(3)),
                   Layer("digits", np.zeros((10, 3)), np.r_[10.0, np.zeros(9)], "softmax")])
    result = probes.noise_test(net, images(rng, 50), n_noise=20, seed=1)
    for key in ("noise", "blank", "digits"):
        assert result[key]["mean_confidence"] == pytest.approx(np.exp(10) / (np.exp(10) + 9))
        assert result[key]["predicted_counts"][0] == result[key]["n"]
    assert np.array_equal(probes.noise_images(5, 2), probes.noise_images(5, 2))
    # on a softmax output the normalized top output is the raw one
    assert result["noise"]["mean_normalized"] == pytest.approx(result["noise"]["mean_confidence"])


def test_noise_variants_have_the_digits_ink_and_sigmoid_outputs_read_on_one_scale(rng):
    ink = probes.ink_noise_images(200, 0.13, seed=0)
    blobs = probes.blob_images(50, 0.13, seed=0)
    assert ink.mean() == pytest.approx(0.13, abs=0.01) and blobs.mean() == pytest.approx(0.13, abs=0.01)
    assert 0 <= blobs.min() and blobs.max() <= 1 and np.mean(blobs == 0) > 0.5  # ink on a dark ground, like a digit
    # ten sigmoid outputs all at 0.95: raw confidence 0.95, but a share of only a tenth
    net = Network([Layer("h", np.zeros((3, 784)), np.zeros(3)),
                   Layer("digits", np.zeros((10, 3)), np.full(10, np.log(0.95 / 0.05)), "sigmoid")])
    result = probes.noise_test(net, images(rng, 20), n_noise=10, seed=1)
    for key in ("noise", "ink_noise", "blobs"):
        assert result[key]["fraction_confident"] == 1.0 and result[key]["fraction_confident_normalized"] == 0.0
        assert result[key]["mean_normalized"] == pytest.approx(0.1)


def test_blobs_are_the_ones_made_one_image_at_a_time():
    """The blobs are made all at once; the oracle is the definition, one image at a time: blur,
    keep the brightest third, rescale to the mean ink. The same bits, for several sizes and seeds."""
    from scipy.ndimage import gaussian_filter

    for n, ink, seed, sigma in [(60, 0.13, 0, 2.0), (7, 0.3, 4, 1.0), (1, 0.05, 2, 3.5)]:
        rng = np.random.default_rng(seed)
        expected = np.empty((n, 784))
        for i in range(n):
            b = gaussian_filter(rng.standard_normal((28, 28)), sigma)
            b = np.clip(b - np.quantile(b, 2 / 3), 0, None)
            expected[i] = np.clip(b / max(float(b.mean()), 1e-12) * ink, 0.0, 1.0).ravel()
        got = probes.blob_images(n, ink, seed=seed, sigma=sigma)
        assert got.shape == (n, 784) and np.array_equal(got.view(np.uint64), expected.view(np.uint64))


def test_noise_panel_shares_on_nets_built_to_be_always_or_never_confident(rng):
    """A softmax net whose output is fixed on digit 3 calls every image a 3 with confidence ~1 on both
    scales; one whose outputs are all equal gives each digit 0.1, never >= 0.9; sigmoid outputs all at
    0.95 are confident raw but a tenth normalized."""
    from handnet.compare.study import noise_panel

    def fixed(biases, activation):
        return Network([Layer("h", np.zeros((3, 784)), np.zeros(3)),
                        Layer("digits", np.zeros((10, 3)), np.asarray(biases, dtype=float), activation)])

    sure = np.zeros(10)
    sure[3] = 20.0
    nets = {"always": fixed(sure, "softmax"), "never": fixed(np.zeros(10), "softmax"),
            "all bright": fixed(np.full(10, np.log(0.95 / 0.05)), "sigmoid")}
    panel = noise_panel(nets, images(rng, 30))
    assert panel["confident"] == 0.9 and set(panel["networks"]) == set(nets)
    for kind, st in panel["networks"]["always"].items():
        assert st["fraction_confident"] == 1.0 and st["fraction_confident_normalized"] == 1.0, kind
        assert st["predicted_counts"][3] == st["n"]
    for kind, st in panel["networks"]["never"].items():
        assert st["fraction_confident"] == 0.0 and st["mean_confidence"] == pytest.approx(0.1), kind
    for kind, st in panel["networks"]["all bright"].items():
        assert st["fraction_confident"] == 1.0 and st["fraction_confident_normalized"] == 0.0, kind
    assert panel["networks"]["always"]["maximized"]["n"] == 10  # one maximizing input per digit output


# ---- accuracy --------------------------------------------------------------------------------------
def test_wilson_interval_against_known_values():
    # Wilson (1927) / Newcombe (1998) table: 8 of 10 -> (0.490, 0.943); 0 of 10 -> (0, 0.278)
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert all(np.isnan(wilson_interval(0, 0)))


def test_accuracy_report_counts_per_digit_and_confusion(rng):
    net = random_network(seed=1)
    X, y = images(rng, 300), rng.integers(0, 10, size=300)
    report = accuracy_report(net, X, y)
    pred = net.predict(X)
    assert report.accuracy == pytest.approx(np.mean(pred == y))
    assert report.confusion.sum() == 300 and np.trace(report.confusion) == np.sum(pred == y)
    assert report.confusion[3].sum() == np.sum(y == 3)
    assert report.per_digit[3] == pytest.approx(np.mean(pred[y == 3] == 3))


def test_compare_a_network_with_a_permuted_copy(rng):
    net = random_network(seed=2)
    copy, _ = permuted_copy(net, rng)
    X, y = images(rng, 300), rng.integers(0, 10, size=300)
    result = compare(net, copy, X, y).to_dict()
    assert result["agreement"] == 1.0
    assert all(c["cka"] == pytest.approx(1.0) for c in result["cka"]["corresponding"])
    for crit in ("activation", "weights"):
        assert all(m["mean_score"] == pytest.approx(1.0) for m in result["matching"][crit])
    assert result["a"]["accuracy"]["accuracy"] == result["b"]["accuracy"]["accuracy"]


def test_compare_refuses_networks_of_different_shapes():
    with pytest.raises(HandnetError, match="same shape"):
        compare(random_network(seed=0), random_network((784, 10, 10), seed=0), np.zeros((2, 784)), [0, 1])


def test_edge_fits_kept_on_disk_are_the_fits_made_fresh(tmp_path, monkeypatch):
    from handnet.compare import edgelike

    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path))
    net = random_network((784, 6, 10), seed=21)
    edgelike._refits.clear()
    fresh = edgelike.edge_likeness(net)
    assert len(list((tmp_path / "refits").glob("*.npz"))) == 6
    edgelike._refits.clear()  # a new process: the refits come from the cache folder
    monkeypatch.setattr(edgelike, "refine", lambda *a, **k: pytest.fail("refined again"))
    kept = edgelike.edge_likeness(net)
    assert [repr(f) for f in kept] == [repr(f) for f in fresh]
    assert [type(f.width) for f in kept] == [type(f.width) for f in fresh]
