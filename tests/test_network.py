import json

import numpy as np
import pytest

from handnet.errors import HandnetError, NetworkFileError, UnitError
from handnet.nn.activations import sigmoid
from handnet.nn.network import Layer, Network, random_network


def small_named_net(rng):
    edges = Layer("edges", rng.normal(size=(3, 784)), rng.normal(size=3), "sigmoid", ("a", "b", "c"))
    parts = Layer("parts", rng.normal(size=(2, 3)), rng.normal(size=2), "relu", ("loop", "line"))
    digits = Layer("digits", rng.normal(size=(10, 2)), rng.normal(size=10), "softmax")
    return Network([edges, parts, digits], metadata={"provenance": {"kind": "test"}})


def test_forward_matches_hand_computation(rng):
    net = small_named_net(rng)
    X = rng.uniform(size=(5, 784))
    acts = net.forward(X)
    a1 = 1 / (1 + np.exp(-(X @ net.layers[0].weights.T + net.layers[0].biases)))
    a2 = np.maximum(a1 @ net.layers[1].weights.T + net.layers[1].biases, 0)
    z3 = a2 @ net.layers[2].weights.T + net.layers[2].biases
    a3 = np.exp(z3) / np.exp(z3).sum(axis=1, keepdims=True)
    assert [a.shape for a in acts] == [(5, 784), (5, 3), (5, 2), (5, 10)]
    np.testing.assert_allclose(acts[1], a1)
    np.testing.assert_allclose(acts[2], a2)
    np.testing.assert_allclose(acts[3], a3)
    assert np.array_equal(net.predict(X), a3.argmax(axis=1))


def test_uint8_images_are_scaled(rng):
    net = small_named_net(rng)
    images = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    np.testing.assert_allclose(net.forward(images)[1], net.forward(images.reshape(4, -1) / 255.0)[1], rtol=1e-6)


def test_sigmoid_is_stable_at_extremes():
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    s = sigmoid(z)
    assert np.all(np.isfinite(s)) and s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5


def test_parameter_count_of_the_lessons_network():
    assert random_network((784, 16, 16, 10), seed=0).n_parameters == 13002


def test_unit_references_by_name_index_and_alias(rng):
    net = small_named_net(rng)
    assert str(net.unit("edges:b")) == "edges:b"
    assert net.unit("edges:1") == net.unit("edges:b")
    assert net.unit("hidden1:2") == net.unit("edges:c")
    assert net.unit("hidden2:loop").layer == 1
    assert net.unit("output:9") == net.unit("digits:9")
    assert net.unit("digits:9").activation_index == 3


@pytest.mark.parametrize(
    "ref, fragment",
    [
        ("edges:zz", "its units are a, b, c"),
        ("nolayer:1", "layers are edges (hidden1), parts (hidden2), digits (output)"),
        ("edges", "must look like layer:unit"),
        ("edges:3", "index 0-2"),
        ("a:b:c", "must look like layer:unit"),
    ],
)
def test_bad_unit_references_say_what_is_valid(rng, ref, fragment):
    net = small_named_net(rng)
    with pytest.raises(UnitError) as info:
        net.unit(ref)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_trained_style_names():
    net = random_network(seed=3)
    assert net.layer_names == ["hidden1", "hidden2", "digits"]
    assert [str(u) for u in net.units("hidden1")][:2] == ["hidden1:0", "hidden1:1"]


def test_same_seed_same_weights_different_seed_different():
    a, b, c = random_network(seed=7), random_network(seed=7), random_network(seed=8)
    assert all(np.array_equal(x.weights, y.weights) for x, y in zip(a.layers, b.layers))
    assert not np.array_equal(a.layers[0].weights, c.layers[0].weights)


def test_save_load_round_trip(rng, tmp_path):
    net = small_named_net(rng)
    path = net.save(tmp_path / "net.npz")
    back = Network.load(path)
    assert back.layer_names == net.layer_names
    assert [l.units for l in back.layers] == [l.units for l in net.layers]
    assert [l.activation for l in back.layers] == [l.activation for l in net.layers]
    assert back.metadata == net.metadata
    for x, y in zip(net.layers, back.layers):
        assert np.array_equal(x.weights, y.weights) and np.array_equal(x.biases, y.biases)
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file is left behind"


def _write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def _good_arrays(rng):
    net = random_network((784, 4, 10), seed=1)
    meta = {
        "format": "handnet-network",
        "version": 1,
        "input_shape": [28, 28],
        "layers": [{"name": l.name, "activation": l.activation, "units": list(l.units)} for l in net.layers],
        "metadata": {},
    }
    arrays = {"metadata": np.array(json.dumps(meta))}
    for i, l in enumerate(net.layers):
        arrays[f"W{i}"], arrays[f"b{i}"] = l.weights, l.biases
    return arrays, meta


def test_the_good_arrays_load(rng, tmp_path):
    arrays, _ = _good_arrays(rng)
    assert Network.load(_write_npz(tmp_path / "ok.npz", **arrays)).sizes == [784, 4, 10]


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda a, m: a.pop("metadata"), "missing key 'metadata'"),
        (lambda a, m: a.pop("W1"), "missing array 'W1'"),
        (lambda a, m: a.__setitem__("W0", np.zeros((4, 783))), "wrong shapes"),
        (lambda a, m: a.__setitem__("b0", np.zeros(5)), "biases must have shape"),
        (lambda a, m: a["W1"].__setitem__((0, 0), np.nan), "NaN or infinite"),
        (lambda a, m: a["b1"].__setitem__(0, np.inf), "NaN or infinite"),
        (lambda a, m: a.__setitem__("metadata", np.array(json.dumps({**m, "version": 99}))), "version is 99"),
        (lambda a, m: a.__setitem__("metadata", np.array(json.dumps({**m, "format": "x"}))), "expected 'handnet-network'"),
        (lambda a, m: a.__setitem__("metadata", np.array("{not json")), "not valid JSON"),
        (lambda a, m: a.__setitem__("W0", np.zeros((4, 784), dtype=np.int32)), "expected floating point"),
        (lambda a, m: a.__setitem__("extra", np.zeros(3)), "unexpected arrays extra"),
    ],
)
def test_bad_network_files_are_refused_with_one_line(rng, tmp_path, mutate, fragment):
    arrays, meta = _good_arrays(rng)
    arrays = {k: v.copy() for k, v in arrays.items()}
    mutate(arrays, meta)
    path = _write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(NetworkFileError) as info:
        Network.load(path)
    assert fragment in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "pickle.npz"
    with open(path, "wb") as f:
        np.savez(f, metadata=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(NetworkFileError, match="pickled objects"):
        Network.load(path)


def test_not_an_npz_and_missing_file(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"this is not a zip file")
    with pytest.raises(NetworkFileError, match="junk.npz"):
        Network.load(junk)
    with pytest.raises(NetworkFileError, match="no such network file"):
        Network.load(tmp_path / "absent.npz")


def test_failed_save_leaves_the_old_file_intact(rng, tmp_path, monkeypatch):
    net = small_named_net(rng)
    path = net.save(tmp_path / "net.npz")
    before = path.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(RuntimeError):
        net.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]


def test_layers_must_chain():
    with pytest.raises(HandnetError, match="expects 5 inputs"):
        Network([Layer("a", np.zeros((3, 784)), np.zeros(3)), Layer("b", np.zeros((2, 5)), np.zeros(2))])


def test_saved_files_get_the_ordinary_mode(rng, tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        path = small_named_net(rng).save(tmp_path / "net.npz")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
