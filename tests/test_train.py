"""The trainer: gradients against central finite differences, determinism, learning, freezing, the CLI."""

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from handnet.cli import main
from handnet.errors import HandnetError
from handnet.nn.network import Layer, Network
from handnet.nn.train import LESSON_RECIPE, TrainConfig, augment_images, gradients, learning_rate, loss_value, resolve_freeze, train


def small_net(rng, hidden="sigmoid", output="softmax", names=("edges", "parts", "digits"), n_in=12):
    """A 12-5-4-3 float64 net with named layers, random weights large enough to exercise the curvature."""
    sizes = [n_in, 5, 4, 3]
    layers = []
    for i, name in enumerate(names):
        activation = output if i == len(names) - 1 else hidden
        w = rng.normal(scale=0.8, size=(sizes[i + 1], sizes[i]))
        layers.append(Layer(name, w, rng.normal(scale=0.5, size=sizes[i + 1]), activation))
    return Network(layers, input_shape=(1, n_in))


def finite_difference_gradients(net, X, Y, loss, weight_decay, eps=1e-6):
    """Central differences of loss_value for every weight and bias (float64)."""
    result = []
    for i, layer in enumerate(net.layers):
        grads = []
        for array_name in ("weights", "biases"):
            base = getattr(layer, array_name)
            numeric = np.zeros_like(base)
            for index in np.ndindex(base.shape):
                values = []
                for sign in (1, -1):
                    changed = base.copy()
                    changed[index] += sign * eps
                    probe = net.replace_layer(i, layer.replace(**{array_name: changed}))
                    values.append(loss_value(probe, X, Y, loss, weight_decay=weight_decay))
                numeric[index] = (values[0] - values[1]) / (2 * eps)
            grads.append(numeric)
        result.append(tuple(grads))
    return result


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-12)


@pytest.mark.parametrize(
    "hidden, output, loss",
    [
        ("sigmoid", "softmax", "cross_entropy"),
        ("sigmoid", "softmax", "quadratic"),
        ("sigmoid", "sigmoid", "cross_entropy"),
        ("sigmoid", "sigmoid", "quadratic"),
        ("relu", "softmax", "cross_entropy"),
        ("relu", "sigmoid", "quadratic"),
        ("relu", "relu", "quadratic"),
    ],
)
@pytest.mark.parametrize("weight_decay", [0.0, 0.03])
def test_gradients_match_central_differences(rng, hidden, output, loss, weight_decay):
    net = small_net(rng, hidden, output)
    X = rng.uniform(size=(7, 12))
    y = rng.integers(0, 3, size=7)
    analytic = gradients(net, X, y, loss, weight_decay=weight_decay)
    numeric = finite_difference_gradients(net, X, y, loss, weight_decay)
    for layer, (dw, db), (nw, nb) in zip(net.layers, analytic, numeric):
        assert dw.dtype == np.float64 and dw.shape == layer.weights.shape and db.shape == layer.biases.shape
        assert np.linalg.norm(nw) > 1e-4  # the check is not vacuous
        assert relative_error(dw, nw) < 1e-6, layer.name
        assert relative_error(db, nb) < 1e-6, layer.name


@pytest.mark.parametrize("freeze", [["edges"], ["hidden2"], ["output"], ["edges", "parts"], ["hidden"]])
def test_gradients_with_frozen_layers(rng, freeze):
    net = small_net(rng)
    X = rng.uniform(size=(6, 12))
    y = rng.integers(0, 3, size=6)
    frozen = resolve_freeze(net, freeze)
    analytic = gradients(net, X, y, "cross_entropy", weight_decay=0.01, freeze=freeze)
    numeric = finite_difference_gradients(net, X, y, "cross_entropy", 0.01)
    for layer, (dw, db), (nw, nb) in zip(net.layers, analytic, numeric):
        if layer.name in frozen:
            assert not dw.any() and not db.any()
        else:
            assert relative_error(dw, nw) < 1e-6 and relative_error(db, nb) < 1e-6


def test_freeze_names_and_aliases(rng):
    net = small_net(rng)
    assert resolve_freeze(net, ["hidden1", "digits"]) == ["edges", "digits"]
    assert resolve_freeze(net, "output") == ["digits"]
    assert resolve_freeze(net, ["hidden"]) == ["edges", "parts"]
    with pytest.raises(HandnetError, match="freeze: unknown layer 'loops'"):
        resolve_freeze(net, ["loops"])


def separable_problem(rng, n=120, n_in=16):
    """Three classes, each lighting its own block of inputs: linearly separable by construction."""
    y = np.arange(n) % 3
    X = rng.uniform(0, 0.3, size=(n, n_in))
    for k in range(3):
        X[y == k, 5 * k : 5 * k + 5] += 0.7
    return X.astype(np.float32), y


def test_tiny_separable_problem_reaches_full_accuracy(rng):
    X, y = separable_problem(rng)
    for config in (
        TrainConfig(sizes=(16, 8, 3), epochs=40, batch_size=8, augment=False, lr=0.02),
        TrainConfig(sizes=(16, 8, 3), output="sigmoid", loss="quadratic", optimizer="sgd", lr=3.0, momentum=0.0,
                    epochs=60, batch_size=4, augment=False, schedule="constant", weight_decay=0.0),
    ):
        result = train(X, y, config, X_test=X, y_test=y)
        assert result.network.accuracy(X, y) == 1.0
        assert result.history[-1]["train_accuracy"] == 1.0
        assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_same_seed_same_weights_different_seed_different(rng):
    X = rng.uniform(size=(90, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=90)
    config = TrainConfig(epochs=2, batch_size=16, seed=5)
    first = train(X, y, config).network
    again = train(X, y, config).network
    other = train(X, y, config.replace(seed=6)).network
    for a, b, c in zip(first.layers, again.layers, other.layers):
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.biases, b.biases)
        assert not np.array_equal(a.weights, c.weights)


def test_float64_on_request_and_history_fields(rng):
    X, y = separable_problem(rng, n=30)
    result = train(X, y, TrainConfig(sizes=(16, 4, 3), epochs=3, dtype="float64", augment=False))
    assert all(layer.weights.dtype == np.float64 for layer in result.network.layers)
    assert [r["epoch"] for r in result.history] == [1, 2, 3]
    assert set(result.history[0]) == {"epoch", "lr", "loss", "train_accuracy", "test_accuracy", "val_accuracy", "seconds"}
    assert result.history[0]["test_accuracy"] is None


def test_frozen_layers_unchanged_and_names_kept_from_init(rng):
    init = small_net(rng, names=("edges", "parts", "digits"), output="sigmoid", n_in=16)
    init = Network(
        [layer.replace(units=tuple(f"{layer.name}_{j}" for j in range(layer.n_out))) for layer in init.layers],
        input_shape=(1, 16),
        metadata={"provenance": {"kind": "spec", "spec": "x.toml"}, "units": {"edges:edges_0": {"width": 1}}},
    )
    X, y = separable_problem(rng)
    config = TrainConfig(epochs=5, batch_size=10, augment=False, weight_decay=0.01)
    result = train(X, y, config, init=init, freeze=["edges"])
    net = result.network
    assert net.layer_names == ["edges", "parts", "digits"]
    assert [layer.units for layer in net.layers] == [layer.units for layer in init.layers]
    assert [layer.activation for layer in net.layers] == ["sigmoid", "sigmoid", "sigmoid"]
    assert np.array_equal(net.layers[0].weights, init.layers[0].weights)
    assert np.array_equal(net.layers[0].biases, init.layers[0].biases)
    assert not np.allclose(net.layers[1].weights, init.layers[1].weights)
    prov = net.metadata["provenance"]
    assert prov["kind"] == "trained" and prov["init"] == {"kind": "spec", "spec": "x.toml"}
    assert prov["freeze"] == ["edges"] and net.metadata["units"] == init.metadata["units"]
    readout = train(X, y, config, init=init, freeze=["hidden"]).network
    for before, after in zip(init.layers[:2], readout.layers[:2]):
        assert np.array_equal(before.weights, after.weights)
    assert not np.allclose(readout.layers[2].weights, init.layers[2].weights)


def test_config_validation_names_the_field():
    for changes, field in [
        ({"loss": "hinge"}, "loss"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"lr": 0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"epochs": -1}, "epochs"),
        ({"momentum": 1.5}, "momentum"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"schedule": "linear"}, "schedule"),
        ({"augment": (1, -2)}, "augment"),
        ({"augment": 3}, "augment"),
        ({"sizes": (784,)}, "sizes"),
        ({"dtype": "float16"}, "dtype"),
        ({"hidden_activation": "tanh"}, "hidden_activation"),
    ]:
        with pytest.raises(HandnetError, match=f"TrainConfig.{field}:"):
            TrainConfig(**changes)
    config = TrainConfig()
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig(augment=False).augment == (0.0, 0.0)


def test_bad_training_data_is_a_clear_error(rng):
    X, y = separable_problem(rng, n=12)
    config = TrainConfig(sizes=(16, 4, 3), epochs=1, augment=False)
    with pytest.raises(HandnetError, match="y: label 7"):
        train(X, np.full(12, 7), config)
    with pytest.raises(HandnetError, match="X: expected"):
        train(X[:, :5], y, config)
    with pytest.raises(HandnetError, match="diverged"):
        train(X * 1e6, y, config.replace(optimizer="sgd", lr=1e38, hidden_activation="relu"))


def test_schedules():
    config = TrainConfig(lr=1.0, epochs=4)
    assert [learning_rate(config.replace(schedule="constant"), e) for e in range(4)] == [1.0] * 4
    assert [learning_rate(config.replace(schedule="step"), e) for e in range(4)] == pytest.approx([1, 1, 0.1, 0.01])
    assert [learning_rate(config, e) for e in range(4)] == pytest.approx([1, 0.8535534, 0.5, 0.1464466])


def test_augmentation_is_seeded_and_moves_ink(rng):
    images = np.zeros((3, 28, 28), dtype=np.float32)
    images[:, 10:18, 12:16] = 1.0
    same = augment_images(images, np.random.default_rng(1), 2.0, 10.0)
    assert np.array_equal(same, augment_images(images, np.random.default_rng(1), 2.0, 10.0))
    assert not np.array_equal(same, augment_images(images, np.random.default_rng(2), 2.0, 10.0))
    assert same.shape == images.shape and same.min() >= 0 and same.max() <= 1
    # no shift, no rotation: the identity
    np.testing.assert_allclose(augment_images(images, np.random.default_rng(0), 0.0, 0.0), images, atol=1e-6)
    # a pure shift moves the ink's centre of mass by that shift (ink stays inside the frame)
    gen = np.random.default_rng(3)
    shifts = np.random.default_rng(3).uniform(-2, 2, size=(3, 2))
    moved = augment_images(images, gen, 2.0, 0.0)
    rows, cols = np.mgrid[0:28, 0:28]
    for k in range(3):
        centre = [np.sum(moved[k] * g) / moved[k].sum() for g in (rows, cols)]
        before = [np.sum(images[k] * g) / images[k].sum() for g in (rows, cols)]
        np.testing.assert_allclose(np.subtract(centre, before), shifts[k], atol=1e-4)


def test_augmenting_a_slice_in_any_order_gives_each_image_its_own_warp(rng):
    """The trainer warps a large set slice by slice in the order it visits the images: the same draws
    (made for all images, in image order) and the same bits as warping all of them at once."""
    images = rng.uniform(size=(150, 28, 28)).astype(np.float32)
    whole = augment_images(images, np.random.default_rng(4), 1.5, 8.0)
    visit = rng.permutation(150)[:70]
    part = augment_images(images, np.random.default_rng(4), 1.5, 8.0, index=visit)
    assert np.array_equal(part, whole[visit])
    # into a view of a wider buffer, as the trainer's rows (inputs, a 1, targets) are
    rows = np.full((150, 784 + 3), 7.0, dtype=np.float32)
    augment_images(images, np.random.default_rng(4), 1.5, 8.0, out=rows[:, :784].reshape(150, 28, 28))
    assert np.array_equal(rows[:, :784], whole.reshape(150, 784)) and np.all(rows[:, 784:] == 7)


def _same_run(a, b):
    """Two TrainResults with the same weights and history, bit for bit (wall-clock seconds aside)."""
    for p, q in zip(a.network.layers, b.network.layers):
        assert p.weights.dtype == q.weights.dtype
        assert np.array_equal(p.weights, q.weights) and np.array_equal(p.biases, q.biases)
    strip = lambda history: [{k: v for k, v in r.items() if k != "seconds"} for r in history]  # noqa: E731
    assert strip(a.history) == strip(b.history) and len(a.history) > 0


@pytest.mark.parametrize("augment", [True, False])
def test_a_large_training_set_trained_slice_by_slice_gives_the_same_run(rng, monkeypatch, augment):
    """Above RESIDENT_BYTES of rows the trainer gathers (and augments) one slice of the epoch's order at
    a time instead of copying the data whole, and reads each batch in place from it: the same seed must
    still give the same run, bit for bit (without augmentation the whole-data run gathers every batch
    into the workspace and runs the compiled tape: the two ways of making a step agree)."""
    import handnet.nn.train as train_module

    X = rng.uniform(size=(203, 784)).astype(np.float32)
    X_before = X.copy()
    y = np.arange(203) % 10
    config = TrainConfig(epochs=2, batch_size=16, augment=augment, seed=3)
    whole = train(X, y, config, X_test=X[:50], y_test=y[:50])
    monkeypatch.setattr(train_module, "RESIDENT_BYTES", 40 * (784 + 1 + 10) * 4)  # slices of 32 rows
    sliced = train(X, y, config, X_test=X[:50], y_test=y[:50])
    _same_run(whole, sliced)
    assert np.array_equal(X, X_before)  # augmentation writes into the trainer's rows, never the caller's digits


def _init_net(rng, sizes=(784, 12, 8, 10)):
    return train(rng.uniform(size=(40, 784)), np.arange(40) % 10, TrainConfig(sizes=sizes, epochs=1, augment=False)).network


@pytest.mark.parametrize("case", ["default", "quadratic_relu_sgd", "frozen_first_layer", "float64_sliced", "one_epoch"])
def test_prefetch_gives_the_same_run_bit_for_bit(rng, monkeypatch, case):
    """Helper threads that augment the next epoch's rows while the trainer works (prefetch) change nothing:
    the draws stay on the calling thread, in order. Odd batch sizes leave a short last batch; the
    frozen first layer makes the step end without the inputs' gradient; one helper and three."""
    import handnet.nn.train as train_module

    X = rng.uniform(size=(157, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=157)
    config, kwargs = TrainConfig(epochs=3, batch_size=10, seed=5), {}
    if case == "quadratic_relu_sgd":
        config = config.replace(hidden_activation="relu", output="sigmoid", loss="quadratic", optimizer="sgd", lr=0.5,
                                momentum=0.5, augment=(2.0, 20.0), batch_size=7)
    elif case == "frozen_first_layer":
        kwargs = {"init": _init_net(rng), "freeze": ["hidden1"]}
    elif case == "float64_sliced":
        config = config.replace(dtype="float64", batch_size=9)
        monkeypatch.setattr(train_module, "RESIDENT_BYTES", 45 * (784 + 1 + 10) * 8)  # slices of 45 rows
    elif case == "one_epoch":
        config = config.replace(epochs=1)
    serial = train(X, y, config, X_test=X[:30], y_test=y[:30], prefetch=False, **kwargs)
    assert serial.timing["helpers"] == 0 and serial.timing["data_wait_seconds"] > 0
    helped = train(X, y, config, X_test=X[:30], y_test=y[:30], prefetch=True, **kwargs)
    _same_run(serial, helped)
    # one epoch in one slice leaves nothing to fetch ahead: no helper is started
    assert helped.timing["helpers"] == (0 if case == "one_epoch" else 1 if train_module.available_cores() == 2 else
                                        min(3, train_module.available_cores() - 1))
    monkeypatch.setattr(train_module, "available_cores", lambda: 4)  # three helpers, each warping a third
    many = train(X, y, config, X_test=X[:30], y_test=y[:30], prefetch=True, **kwargs)
    assert many.timing["helpers"] == (0 if case == "one_epoch" else 3)
    _same_run(serial, many)


def _helpers_alive():
    import threading

    return [t for t in threading.enumerate() if t.name.startswith("handnet-prefetch")]


@pytest.mark.parametrize("stop", [KeyboardInterrupt, HandnetError])
def test_prefetch_helpers_stop_on_ctrl_c_and_on_errors(rng, stop):
    """Ctrl-C returns the best network so far and an error propagates; either way the helper threads
    have stopped when train returns (none left running, nothing hangs)."""
    X = rng.uniform(size=(120, 784)).astype(np.float32)
    y = np.arange(120) % 10
    config = TrainConfig(epochs=6, batch_size=10, seed=2)

    def stop_at_two(record):
        if record["epoch"] == 2:
            raise stop("stop")

    if stop is KeyboardInterrupt:
        result = train(X, y, config, prefetch=True, progress=stop_at_two)
        assert result.interrupted and len(result.history) == 2 and result.timing["prefetch"]
        # the same as a run of the two epochs without helpers
        short = train(X, y, config.replace(epochs=6), prefetch=False, progress=lambda r: None)
        assert [r["loss"] for r in short.history[:2]] == [r["loss"] for r in result.history]
    else:
        with pytest.raises(HandnetError, match="stop"):
            train(X, y, config, prefetch=True, progress=stop_at_two)
    assert _helpers_alive() == []


def test_an_error_in_a_prefetch_helper_reaches_the_caller(rng, monkeypatch):
    """A helper that fails (here: its warp, on the third epoch's digits) raises in train, which stops the others."""
    import handnet.nn.train as train_module

    calls = []
    real_warp = train_module.warp_images

    def failing_warp(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("no room for the warp")
        return real_warp(*args, **kwargs)

    monkeypatch.setattr(train_module, "warp_images", failing_warp)
    X = rng.uniform(size=(60, 784)).astype(np.float32)
    with pytest.raises(MemoryError, match="no room"):
        train(X, np.arange(60) % 10, TrainConfig(epochs=5, batch_size=10), prefetch=True)
    assert _helpers_alive() == []


def test_spare_cores_leave_workers_and_busy_machines_alone(monkeypatch):
    import handnet.threads as threads

    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.2, 1.0, 1.0))
    assert threads.spare_cores() == 2  # four cores, this process and a little more busy
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert threads.spare_cores() == 3  # all but this thread's own
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (7.0, 1.0, 1.0))
    assert threads.spare_cores() == 0  # a busy machine
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(threads, "_worker", [True])
    assert threads.spare_cores() == 0  # a worker of handnet.compare.parallel: the cores are the workers'


def test_lesson_recipe_is_the_plain_one():
    assert (LESSON_RECIPE.loss, LESSON_RECIPE.optimizer, LESSON_RECIPE.lr) == ("quadratic", "sgd", 3.0)
    assert (LESSON_RECIPE.batch_size, LESSON_RECIPE.epochs, LESSON_RECIPE.augment) == (10, 30, (0.0, 0.0))


# ---- the command --------------------------------------------------------------------------------
def test_cli_defaults_mirror_the_library():
    from handnet.cli.train import DEFAULTS

    config = TrainConfig()
    for key, value in DEFAULTS.items():
        assert getattr(config, key) == value, key
    assert config.augment == (1.5, 8.0)


def test_cli_train_writes_a_loadable_network_with_settings(tmp_path):
    out = tmp_path / "twin.npz"
    result = CliRunner().invoke(
        main,
        ["train", "--epochs", "2", "--limit", "300", "--batch-size", "20", "--seed", "3", "--lr", "0.01",
         "-o", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    import json

    summary = json.loads(result.stdout)
    net = Network.load(out)
    prov = net.metadata["provenance"]
    assert net.layer_names == ["hidden1", "hidden2", "digits"] and net.sizes == [784, 16, 16, 10]
    assert prov["kind"] == "trained" and prov["seed"] == 3
    assert prov["config"]["lr"] == 0.01 and prov["config"]["batch_size"] == 20 and prov["config"]["epochs"] == 2
    assert "300 training digits" in prov["data"] and "test (1000 digits" in prov["data"]
    assert len(net.metadata["history"]) == 2
    assert summary["test_accuracy"] == pytest.approx(net.metadata["history"][-1]["test_accuracy"])
    # every setting needed to repeat the run is there: the same settings give the same weights
    again = tmp_path / "again.npz"
    rerun = CliRunner().invoke(
        main, ["train", "--epochs", "2", "--limit", "300", "--batch-size", "20", "--seed", "3", "--lr", "0.01",
               "-o", str(again)],
    )
    assert rerun.exit_code == 0, rerun.output
    assert "saved" in rerun.stdout and "test accuracy" in rerun.stdout
    assert np.array_equal(Network.load(again).layers[0].weights, net.layers[0].weights)
    config = TrainConfig.from_dict(prov["config"])
    assert config.seed == 3 and config.epochs == 2


def test_cli_init_and_freeze(tmp_path, rng):
    init = Network(
        [Layer("edges", rng.normal(scale=0.1, size=(4, 784)), np.zeros(4), "sigmoid", ("a", "b", "c", "d")),
         Layer("parts", rng.normal(size=(3, 4)), np.zeros(3), "sigmoid", ("loop", "line", "arc")),
         Layer("digits", rng.normal(size=(10, 3)), np.zeros(10), "sigmoid")],
        metadata={"provenance": {"kind": "spec", "spec": "hand.toml"}},
    )
    init.save(tmp_path / "hand.npz")
    out = tmp_path / "tuned.npz"
    result = CliRunner().invoke(
        main, ["train", "--init", str(tmp_path / "hand.npz"), "--freeze", "edges", "--epochs", "1", "--limit", "200",
               "--no-augment", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    tuned = Network.load(out)
    assert tuned.layers[1].units == ("loop", "line", "arc")
    assert np.array_equal(tuned.layers[0].weights, init.layers[0].weights)
    assert tuned.metadata["provenance"]["freeze"] == ["edges"]
    bad = CliRunner().invoke(main, ["train", "--init", str(tmp_path / "hand.npz"), "--freeze", "loops",
                                    "-o", str(tmp_path / "x.npz")])
    assert bad.exit_code != 0 and "unknown layer 'loops'" in bad.output and not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "0"], "--epochs"),
        (["--batch-size", "-3"], "--batch-size"),
        (["--lr", "0"], "--lr"),
        (["--weight-decay", "-1"], "--weight-decay"),
        (["--optimizer", "rmsprop"], "--optimizer"),
        (["--loss", "hinge"], "--loss"),
        (["--momentum", "2"], "--momentum"),
        (["--sizes", "784,x"], "--sizes"),
        (["--init", "missing.npz"], "missing.npz"),
        (["--data", "no/such/dir"], "no/such/dir"),
    ],
)
def test_cli_bad_values_are_one_line_errors(tmp_path, args, message):
    out = tmp_path / "x.npz"
    result = CliRunner().invoke(main, ["train", *args, "-o", str(out)])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_cli_help_has_an_example():
    result = CliRunner().invoke(main, ["train", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "handnet train -o twin.npz" in result.output


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().lr = 1.0


@pytest.mark.parametrize("output, loss", [("softmax", "cross_entropy"), ("sigmoid", "cross_entropy"),
                                          ("softmax", "quadratic"), ("relu", "quadratic")])
def test_epoch_metrics_agree_with_loss_value(rng, output, loss):
    from handnet.nn.backprop import Engine as _Engine

    net = small_net(rng, output=output)
    X = rng.uniform(size=(9, 12))
    y = rng.integers(0, 3, size=9)
    engine = _Engine(net.layers, np.float64, loss, [True] * 3)
    mean_loss, accuracy = engine.evaluate(engine.with_ones(X), y)
    assert mean_loss == pytest.approx(loss_value(net, X, y, loss), rel=1e-12)
    assert accuracy == pytest.approx(net.accuracy(X, y))


@pytest.mark.parametrize("hidden, output", [("sigmoid", "softmax"), ("relu", "sigmoid"), ("sigmoid", "relu")])
def test_backprop_tape_runs_the_same_forward_pass(rng, hidden, output):
    """The engine's compiled tape and handnet.nn.forward are one computation, in two forms."""
    from handnet.nn.backprop import Engine as _Engine
    from handnet.nn.forward import forward

    net = small_net(rng, hidden=hidden, output=output)
    X = rng.uniform(size=(7, 12))
    engine = _Engine(net.layers, np.float64, "quadratic", [True] * 3)
    taped = engine.forward(engine.with_ones(X), engine.workspace(7))
    np.testing.assert_allclose(taped, forward(net.layers, X)[0][-1], rtol=1e-12, atol=1e-15)


def test_ctrl_c_returns_the_best_network_so_far(rng):
    X, y = separable_problem(rng, n=60)
    config = TrainConfig(sizes=(16, 6, 3), epochs=10, batch_size=6, augment=False, schedule="constant", lr=0.01)

    def stop_after_three(record):
        if record["epoch"] == 3:
            raise KeyboardInterrupt

    result = train(X[20:], y[20:], config, X_val=X[:20], y_val=y[:20], X_test=X[:20][::-1], y_test=y[:20][::-1],
                   progress=stop_after_three)
    assert result.interrupted and len(result.history) == 3 and result.chosen_by == "validation accuracy"
    scores = [r["val_accuracy"] for r in result.history]
    assert result.best_epoch == 1 + scores.index(max(scores))
    # the returned weights are those after the best epoch: a run stopped there gives the same
    short = train(X[20:], y[20:], config.replace(epochs=result.best_epoch)).network
    for a, b in zip(result.network.layers, short.layers):
        assert np.array_equal(a.weights, b.weights)
    prov = result.network.metadata["provenance"]
    assert prov["interrupted"] and prov["best_epoch"] == result.best_epoch and prov["epochs_completed"] == 3
    assert prov["best_chosen_by"] == "validation accuracy"


def test_ctrl_c_never_chooses_on_the_test_split(rng):
    """A test split whose accuracy peaks at another epoch than the training loss: the choice follows the loss."""
    X, y = separable_problem(rng, n=60)
    config = TrainConfig(sizes=(16, 6, 3), epochs=10, batch_size=6, augment=False, schedule="constant", lr=0.01)

    def stop_after_four(record):
        if record["epoch"] == 4:
            raise KeyboardInterrupt

    wrong = (y[:20] + 1) % 3  # a "test split" that rewards the worst network
    result = train(X, y, config, X_test=X[:20], y_test=wrong, progress=stop_after_four)
    losses = [r["loss"] for r in result.history]
    assert result.chosen_by == "training loss" and result.best_epoch == 1 + losses.index(min(losses))


def test_cli_ctrl_c_saves_and_says_so(tmp_path, monkeypatch):
    import handnet.nn.train as trainer

    real = trainer.learning_rate

    def interrupt_at_third(config, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return real(config, epoch)

    monkeypatch.setattr(trainer, "learning_rate", interrupt_at_third)
    out = tmp_path / "best.npz"
    result = CliRunner().invoke(main, ["train", "--epochs", "5", "--limit", "200", "--no-augment", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "interrupted after 2 of 5 epochs" in result.output and out.exists()
    assert "by validation accuracy" in result.output and "never the test split" in result.output
    assert "validation: 20 of the 200 training digits" in result.output
    prov = Network.load(out).metadata["provenance"]
    assert prov["interrupted"] is True and prov["best_chosen_by"] == "validation accuracy"


@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.9)])
def test_optimizer_steps_match_the_textbook_updates(rng, optimizer, momentum):
    """Full-batch steps, checked against the update rules written out with ``gradients``."""
    X, y = separable_problem(rng, n=24)
    init = small_net(rng, n_in=16)
    lr, wd, steps = 0.05, 0.01, 3
    config = TrainConfig(optimizer=optimizer, lr=lr, momentum=momentum, weight_decay=wd, batch_size=24, epochs=steps,
                         schedule="constant", augment=False, dtype="float64")
    trained = train(X, y, config, init=init).network
    net, state = init, None
    for t in range(1, steps + 1):
        grads = gradients(net, X, y, "cross_entropy", weight_decay=wd)
        layers = []
        for i, (layer, (dw, db)) in enumerate(zip(net.layers, grads)):
            new = []
            for j, (value, grad) in enumerate(((layer.weights, dw), (layer.biases, db))):
                key = (i, j)
                if optimizer == "sgd":
                    v = momentum * (state or {}).get(key, 0.0) - lr * grad
                    state = {**(state or {}), key: v}
                    new.append(value + v)
                else:
                    m0, v0 = (state or {}).get(key, (0.0, 0.0))
                    m, v = 0.9 * m0 + 0.1 * grad, 0.999 * v0 + 0.001 * grad**2
                    state = {**(state or {}), key: (m, v)}
                    new.append(value - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8))
            layers.append(layer.replace(weights=new[0], biases=new[1]))
        net = Network(layers, init.input_shape)
    for a, b in zip(trained.layers, net.layers):
        np.testing.assert_allclose(a.weights, b.weights, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.biases, b.biases, rtol=1e-9, atol=1e-12)


def test_everything_frozen_only_measures(rng):
    X, y = separable_problem(rng, n=30)
    init = small_net(rng, n_in=16)
    result = train(X, y, TrainConfig(epochs=2, augment=False), init=init, freeze=["edges", "parts", "digits"])
    assert len(result.history) == 2
    assert result.history[0]["loss"] == pytest.approx(loss_value(init, X, y), rel=1e-5)
    for a, b in zip(result.network.layers, init.layers):
        assert np.array_equal(a.weights, b.weights)


def test_epoch_accuracy_breaks_ties_like_argmax():
    from handnet.nn.backprop import Engine

    layer = Layer("digits", np.zeros((3, 2)), np.zeros(3), "softmax")
    engine = Engine([layer], np.float64, "cross_entropy", [True])
    z = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 1.0, 3.0], [0.0, 0.0, 5.0]])
    labels = np.array([1, 1, 0, 2])  # argmax picks 0, 1, 0, 2
    assert engine.score(z, labels)[1] == 3


def test_provenance_describes_the_network_trained_from_init(rng):
    X, y = separable_problem(rng, n=30)
    init = small_net(rng, hidden="relu", output="sigmoid", n_in=16)
    net = train(X, y, TrainConfig(epochs=1, augment=False), init=init).network
    config = net.metadata["provenance"]["config"]
    assert config["output"] == "sigmoid" and config["hidden_activation"] == "relu"
    assert config["sizes"] == [16, 5, 4, 3] and TrainConfig.from_dict(config).output == "sigmoid"


def test_blas_thread_policy_nests():
    # small products on one thread; large training batches get BLAS's default back even inside a one-thread
    # command (every CLI command runs in one_blas_thread)
    from threadpoolctl import threadpool_info

    from handnet.nn.train import MULTITHREAD_BATCH, _blas_threads
    from handnet.threads import default_blas_threads, many_blas_threads, one_blas_thread

    def counts():
        return {p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"}

    default = default_blas_threads()
    # threadpoolctl's limits are process-wide: a server thread of an earlier test that entered and left
    # one_blas_thread() out of step with the main thread can leave the count at 1, so start from the default
    with many_blas_threads():
        assert counts() == {default}
        with one_blas_thread():
            assert counts() == {1}
            with many_blas_threads():
                assert counts() == {default}
            with _blas_threads(MULTITHREAD_BATCH):
                assert counts() == {default}
            with _blas_threads(32):
                assert counts() == {1}
        assert counts() == {default}


def test_shuffled_labels_keep_the_counts_and_lose_the_meaning():
    from handnet.nn.train import shuffled_labels

    y = np.repeat(np.arange(10), 50)
    s = shuffled_labels(y, seed=0)
    assert np.array_equal(np.bincount(s), np.bincount(y)) and np.array_equal(s, shuffled_labels(y, seed=0))
    assert np.mean(s == y) < 0.2  # about a tenth keep their own label by chance


def test_cli_shuffle_labels_says_so_and_leaves_the_test_digits_alone(tmp_path):
    out = tmp_path / "memorized.npz"
    result = CliRunner().invoke(main, ["train", "--epochs", "2", "--limit", "300", "--no-augment", "--shuffle-labels",
                                       "--json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "labels shuffled (seed 0)" in result.stderr and "training labels shuffled" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["test_accuracy"] < 0.3 and "training labels shuffled (seed 0)" in summary["data"]
