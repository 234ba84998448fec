"""Activation maximization against oracles: closed forms, finite differences, a net whose optimum is known."""

import numpy as np
import pytest

from handnet.inside import maximize as mx
from handnet.inside.maximize import search
from handnet.inside.maximize.objectives import total_variation
from handnet.errors import HandnetError, UnitError
from handnet.nn.activations import sigmoid
from handnet.nn.network import Layer, Network, random_network


def known_optimum_net():
    """A 784-3-2-2 net whose second-layer unit ``parts:both`` has a reachable bound.

    ``edges:a`` wants pixels 0-59 on and 60-119 off, ``edges:b`` wants 200-259 on and 300-359
    off, ``edges:c`` fires on 400-459. ``parts:both`` reads +a +b -c: the three wishes are
    compatible, so its best image is exactly pixels 0-59 and 200-259 on, everything else off.
    Weights are small enough that no sigmoid saturates, so the optimizer must really find it.
    """
    W1 = np.zeros((3, 784))
    W1[0, :60], W1[0, 60:120] = 0.05, -0.05
    W1[1, 200:260], W1[1, 300:360] = 0.04, -0.06
    W1[2, 400:460] = 0.05
    b1 = np.array([-1.0, -1.2, -1.5])
    W2 = np.array([[2.0, 1.5, -2.5], [-1.0, 1.0, 0.5]])
    b2 = np.array([-1.0, 0.2])
    W3 = np.array([[1.0, -1.0], [-0.5, 2.0]])
    layers = [
        Layer("edges", W1, b1, "sigmoid", ("a", "b", "c")),
        Layer("parts", W2, b2, "sigmoid", ("both", "other")),
        Layer("digits", W3, np.zeros(2), "softmax", ("0", "1")),
    ]
    return Network(layers)


def expected_best_image():
    x = np.zeros(784)
    x[:60] = 1
    x[200:260] = 1
    return x


def test_first_layer_units_equal_the_closed_form():
    net = random_network(seed=3)
    for ref in net.units("hidden1"):
        w = net.layers[0].weights[ref.index]
        result = mx.maximize(net, ref)
        assert result.exact
        np.testing.assert_array_equal(result.image, (w > 0).astype(float))
        assert result.preactivation == pytest.approx(net.layers[0].biases[ref.index] + w[w > 0].sum())
        assert result.gap < 1e-12
        assert result.activation == pytest.approx(sigmoid(np.array([result.bound]))[0])


def test_first_layer_closed_form_beats_every_random_image(rng):
    net = random_network(seed=5)
    result = mx.maximize(net, "hidden2:2")
    X = rng.uniform(0, 1, size=(2000, 784))
    X[:1000] = np.round(X[:1000])  # box corners too
    z, _ = mx.unit_values(net, "hidden2:2", X)
    assert z.max() < result.preactivation


def test_unit_l2_constraint_closed_form(rng):
    net = random_network(seed=4)
    w = net.layers[0].weights[1]
    result = mx.maximize(net, "hidden1:1", constraint="l2")
    wp = np.maximum(w, 0)
    np.testing.assert_allclose(result.image, wp / np.linalg.norm(wp))
    assert np.linalg.norm(result.image) == pytest.approx(1.0)
    assert result.image.min() >= 0 and result.image.max() <= 1
    # no other non-negative unit-norm image does better
    X = np.abs(rng.normal(size=(3000, 784)))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    assert (X @ w).max() < result.image @ w
    assert result.bound == pytest.approx(result.preactivation)


def test_l2_penalty_closed_form_matches_numerical_optimum():
    net = random_network(seed=6)
    w = net.layers[0].weights[0]
    lam = 0.5
    result = mx.maximize(net, "hidden1:0", l2=lam)
    np.testing.assert_allclose(result.image, np.clip(w / (2 * lam), 0, 1))
    problem = mx.Problem(net, net.unit("hidden1:0"), "preactivation", lam, 0.0, 0.0)
    x, value, _ = search._lbfgsb(problem, np.full(784, 0.5), 500)
    np.testing.assert_allclose(x, result.image, atol=1e-4)


@pytest.mark.parametrize("objective", ["preactivation", "activation"])
@pytest.mark.parametrize("activations", [("sigmoid", "sigmoid", "softmax"), ("relu", "sigmoid", "sigmoid")])
def test_input_gradient_matches_finite_differences(rng, objective, activations):
    net = random_network((784, 16, 16, 10), seed=7, activations=activations)
    X = rng.uniform(0.2, 0.8, size=(3, 784))
    for ref in ("hidden1:3", "hidden2:5", "digits:4"):
        values, grads = mx.input_gradient(net, ref, X, objective)
        z, a = mx.unit_values(net, ref, X)
        np.testing.assert_allclose(values, z if objective == "preactivation" else a)
        for i in rng.choice(784, size=12, replace=False):
            h = 1e-6
            Xp, Xm = X.copy(), X.copy()
            Xp[:, i] += h
            Xm[:, i] -= h
            vp, _ = mx.input_gradient(net, ref, Xp, objective)
            vm, _ = mx.input_gradient(net, ref, Xm, objective)
            np.testing.assert_allclose(grads[:, i], (vp - vm) / (2 * h), rtol=1e-5, atol=1e-8)


def test_flattened_sigmoid_gradient_matches_finite_differences(rng):
    net = random_network(seed=9)
    problem = mx.Problem(net, net.unit("digits:2"), "preactivation", 0.0, 0.0, 0.0)
    problem.gradient.temperature = np.array([[4.0], [2.0]])
    X = rng.uniform(0, 1, size=(2, 784))
    _, grads = problem.value_and_grad(X)
    for i in rng.choice(784, size=8, replace=False):
        h = 1e-6
        Xp, Xm = X.copy(), X.copy()
        Xp[:, i] += h
        Xm[:, i] -= h
        fd = (problem.value_and_grad(Xp)[0] - problem.value_and_grad(Xm)[0]) / (2 * h)
        np.testing.assert_allclose(grads[:, i], fd, rtol=1e-5, atol=1e-8)


def test_total_variation_gradient_matches_finite_differences(rng):
    x = rng.uniform(0, 1, size=(2, 784))
    _, g = total_variation(x, (28, 28))
    for i in rng.choice(784, size=10, replace=False):
        h = 1e-6
        xp, xm = x.copy(), x.copy()
        xp[:, i] += h
        xm[:, i] -= h
        np.testing.assert_allclose(g[:, i], (total_variation(xp, (28, 28))[0] - total_variation(xm, (28, 28))[0]) / (2 * h), rtol=1e-4, atol=1e-7)


def test_interval_bounds_hold_for_random_images(rng):
    net = random_network(seed=8)
    X = rng.uniform(0, 1, size=(500, 784))
    X[:250] = np.round(X[:250])
    _, zs = net.forward(X, preactivations=True)
    for (lo, hi), z in zip(mx.interval_bounds(net), zs):
        assert np.all(z <= hi + 1e-9) and np.all(z >= lo - 1e-9)
    lo, hi = mx.objective_bounds(net, "digits:3", "activation")
    p = net.forward(X)[-1][:, 3]
    assert np.all(p <= hi) and np.all(p >= lo)


def test_deeper_unit_with_known_optimum_is_found():
    net = known_optimum_net()
    result = mx.maximize(net, "parts:both")
    # the bound is b + sum of the best each edge can do: reachable here, so it is the optimum
    z1 = net.layers[0].biases + net.layers[0].weights @ expected_best_image()
    optimum = -1.0 + 2.0 * sigmoid(z1[[0]])[0] + 1.5 * sigmoid(z1[[1]])[0] - 2.5 * sigmoid(z1[[2]])[0]
    assert result.bound == pytest.approx(optimum)
    assert result.preactivation == pytest.approx(optimum, abs=1e-9)
    assert result.gap < 1e-9
    np.testing.assert_allclose(result.image, expected_best_image(), atol=1e-6)
    assert not result.exact and "L-BFGS-B" in result.method
    _, baseline = mx.random_start_baseline(net, "parts:both", n_starts=100, seed=1)
    assert result.value >= baseline - 1e-12


def test_deeper_units_match_or_beat_100_random_start_runs():
    net = random_network(seed=11)
    for ref in ("hidden2:3", "hidden2:9", "digits:2", "digits:7"):
        result = mx.maximize(net, ref)
        _, baseline = mx.random_start_baseline(net, ref, n_starts=100, seed=1)
        assert result.value >= baseline - 1e-9, ref
        assert result.value <= result.bound + 1e-9


def test_probability_objective_for_softmax_outputs():
    net = random_network(seed=12)
    logit = mx.maximize(net, "digits:5")
    prob = mx.maximize(net, "digits:5", objective="activation")
    assert prob.objective == "activation" and prob.value == prob.activation
    assert prob.activation >= logit.activation - 1e-6
    assert prob.bound <= 1.0


def test_penalties_and_blur_keep_the_image_in_the_box_and_smooth_it():
    net = random_network(seed=13)
    plain = mx.maximize(net, "hidden2:1")
    smooth = mx.maximize(net, "hidden2:1", tv=0.05, blur=1.0)
    assert smooth.penalties == {"tv": 0.05, "blur": 1.0}
    for r in (plain, smooth):
        assert r.image.shape == (784,) and r.image.min() >= 0 and r.image.max() <= 1

    def roughness(img):
        return np.abs(np.diff(img.reshape(28, 28), axis=0)).sum() + np.abs(np.diff(img.reshape(28, 28), axis=1)).sum()

    assert roughness(smooth.image) < roughness(plain.image)
    first = mx.maximize(net, "hidden1:0", tv=0.1)
    assert not first.exact  # TV has no closed form: the optimizer runs


def test_deeper_unit_under_l2_constraint_stays_on_the_ball():
    net = random_network(seed=14)
    result = mx.maximize(net, "hidden2:4", constraint="l2")
    assert np.linalg.norm(result.image) <= 1 + 1e-9 and result.image.min() >= 0
    assert result.value <= result.bound + 1e-9


def test_seeded_results_repeat():
    net = random_network(seed=15)
    a = mx.maximize(net, "digits:1", seed=3)
    b = mx.maximize(net, "digits:1", seed=3)
    np.testing.assert_array_equal(a.image, b.image)


def test_top_activating_orders_images():
    net = known_optimum_net()
    X = np.zeros((5, 784))
    X[2] = expected_best_image()
    X[4, :60] = 1
    idx, acts = mx.top_activating(net, "parts:both", X, k=3)
    assert list(idx[:2]) == [2, 4]
    assert np.all(np.diff(acts) <= 0)


def test_save_maximizers_round_trip(tmp_path):
    net = known_optimum_net()
    results = mx.maximize_units(net)
    path = mx.save_maximizers(tmp_path / "m.npz", results)
    with np.load(path, allow_pickle=False) as f:
        assert list(f["units"]) == ["edges:a", "edges:b", "edges:c", "parts:both", "parts:other", "digits:0", "digits:1"]
        np.testing.assert_array_equal(f["images"][3], results[3].image)
        assert f["activations"][0] == results[0].activation


def test_bad_references_and_options_are_one_line_errors():
    net = known_optimum_net()
    with pytest.raises(UnitError, match="no unit 'nope'"):
        mx.maximize(net, "edges:nope")
    with pytest.raises(UnitError, match="unknown layer"):
        mx.maximize(net, "loops:a")
    with pytest.raises(HandnetError, match="objective"):
        mx.maximize(net, "parts:both", objective="fun")
    with pytest.raises(HandnetError, match="restarts"):
        mx.maximize(net, "parts:both", restarts=0)


def test_top_activating_units_is_one_pass_with_the_per_unit_answers():
    # oracle: each unit's activations from its own forward pass, sorted high to low, ties by index
    net = random_network(seed=3)
    X = np.random.default_rng(0).random((300, 784))
    X[7] = X[8]  # a tie
    refs = net.units()
    got = mx.top_activating_units(net, refs, X, k=6)
    for ref, (idx, acts) in zip(refs, got):
        _, a = mx.unit_values(net, ref, X)
        order = np.lexsort((np.arange(len(a)), -a))[:6]
        assert np.array_equal(idx, order) and np.array_equal(acts, a[order])
        single = mx.top_activating(net, ref, X, k=6)
        assert np.array_equal(single[0], idx) and np.array_equal(single[1], acts)


def test_a_cached_maximizer_has_the_bits_of_a_fresh_search():
    net = random_network(seed=4)
    search.clear_cache()
    first = mx.maximize(net, "hidden2:2", seed=1)
    fresh = search._search(net, net.unit("hidden2:2"), seed=1)
    first.image[:] = -1  # a caller writing into its image does not reach the cache
    again = mx.maximize(net, "hidden2:2", seed=1)
    np.testing.assert_array_equal(again.image, fresh.image)
    assert again.activation == fresh.activation and again.preactivation == fresh.preactivation
    other = random_network(seed=4)
    other.layers[1].weights[2, 0] += 1.0  # other weights: searched again
    changed = mx.maximize(other, "hidden2:2", seed=1)
    np.testing.assert_array_equal(changed.image, search._search(other, other.unit("hidden2:2"), seed=1).image)
    assert mx.maximize(net, "hidden2:2", seed=2).seed == 2


def test_a_polish_from_a_vertex_skips_scipy_with_its_answer():
    # oracle: SciPy's L-BFGS-B itself, which stops before its first iteration at such a start
    from scipy.optimize import Bounds, minimize

    net = known_optimum_net()
    problem = mx.Problem(net, net.unit("parts:both"), "preactivation", 0.0, 0.0, 0.0)

    def scipy_polish(start):
        res = minimize(lambda p: tuple(-np.asarray(r)[0] for r in problem.value_and_grad(p[None])), start, jac=True,
                       method="L-BFGS-B", bounds=Bounds(np.zeros(784), np.ones(784)),
                       options={"maxiter": 200, "ftol": 1e-14, "gtol": search.PGTOL})
        return np.clip(res.x, 0, 1), -float(res.fun), int(res.nit)

    vertex = expected_best_image()
    x, value, nit = search._lbfgsb(problem, vertex, 200)
    ref_x, ref_value, ref_nit = scipy_polish(vertex)
    assert nit == ref_nit == 0 and value == ref_value
    np.testing.assert_array_equal(x, ref_x)
    grey = np.full(784, 0.5)  # not a vertex: SciPy runs, and finds the optimum
    x, value, nit = search._lbfgsb(problem, grey, 200)
    assert nit > 0 and value == pytest.approx(scipy_polish(grey)[1], abs=1e-12)


def test_fewer_restarts_reuse_the_polish_with_the_bits_of_a_fresh_search():
    net = random_network(seed=4)
    search.clear_cache()
    mx.maximize(net, "digits:6", seed=1)  # 2 restarts: polishes the two best screened starts
    reused = mx.maximize(net, "digits:6", seed=1, restarts=1)
    assert reused.restarts == 1
    search.clear_cache()
    fresh = mx.maximize(net, "digits:6", seed=1, restarts=1)
    np.testing.assert_array_equal(reused.image, fresh.image)
    assert reused.preactivation == fresh.preactivation


def test_a_maximizer_kept_on_disk_has_the_bits_of_a_fresh_search(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path))
    net = random_network(seed=5)
    search.clear_cache()
    fresh = mx.maximize_units(net, ["hidden1:0", "hidden2:3", "digits:1"], seed=2)
    assert len(list(search.kept_dir().glob("*.npz"))) == 3
    with search._cache_lock:  # a new process: nothing in memory, the folder kept
        search._cache.clear()
    monkeypatch.setattr(search, "_search", lambda *a, **k: pytest.fail("searched again"))
    kept = mx.maximize_units(net, ["hidden1:0", "hidden2:3", "digits:1"], seed=2)
    for a, b in zip(fresh, kept):
        np.testing.assert_array_equal(a.image, b.image)
        assert a.to_dict() == b.to_dict() and a.unit == b.unit
    monkeypatch.undo()
    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path))
    # other options or other weights are another search; a damaged file is searched again
    with search._cache_lock:
        search._cache.clear()
    for path in search.kept_dir().glob("*.npz"):
        path.write_bytes(b"damaged")
    again = mx.maximize(net, "hidden2:3", seed=2)
    np.testing.assert_array_equal(again.image, fresh[1].image)
    assert mx.maximize(net, "hidden2:3", seed=3).seed == 3
    search.clear_cache()
    assert not search.kept_dir().exists()
