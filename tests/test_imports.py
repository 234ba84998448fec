"""Networks trained elsewhere: the imported Network computes exactly what the original computes."""

import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from handnet.cli import main
from handnet.errors import HandnetError, NetworkFileError
from handnet.nn.convert import from_sklearn, load_torch
from handnet.nn.network import Network


def fitted_mlp(activation="logistic", n_classes=10, hidden=(16, 16), seed=0):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(200, 784))
    y = np.arange(200) % n_classes
    clf = MLPClassifier(hidden_layer_sizes=hidden, activation=activation, max_iter=5, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf


@pytest.mark.parametrize("activation", ["logistic", "relu"])
def test_from_sklearn_gives_predict_proba(rng, activation):
    clf = fitted_mlp(activation)
    net = from_sklearn(clf)
    X = rng.uniform(0, 1, size=(50, 784))
    assert net.sizes == [784, 16, 16, 10]
    assert np.allclose(net.output(X), clf.predict_proba(X), atol=1e-10)
    assert np.array_equal(net.predict(X), clf.predict(X))
    with pytest.warns(DeprecationWarning):
        assert np.array_equal(Network.from_sklearn(clf).output(X), net.output(X))


def test_from_sklearn_binary_and_pixel_scale(rng):
    clf = fitted_mlp(n_classes=2, hidden=(8,))
    net = from_sklearn(clf)
    X = rng.uniform(0, 1, size=(30, 784))
    assert np.allclose(net.output(X), clf.predict_proba(X), atol=1e-10)
    raw = fitted_mlp(hidden=(8,))
    scaled = from_sklearn(raw, pixel_max=255.0)
    assert np.allclose(scaled.output(X), raw.predict_proba(X * 255.0), atol=1e-10)


def test_from_sklearn_refuses_what_it_cannot_represent():
    with pytest.raises(HandnetError, match="tanh"):
        from_sklearn(fitted_mlp("tanh", hidden=(4,)))
    from sklearn.neural_network import MLPClassifier

    with pytest.raises(HandnetError, match="not a fitted"):
        from_sklearn(MLPClassifier())




def torch_model(final=None, hidden=("Sigmoid", "Sigmoid")):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mods = [torch.nn.Linear(784, 16), getattr(torch.nn, hidden[0])(), torch.nn.Linear(16, 16),
            getattr(torch.nn, hidden[1])(), torch.nn.Linear(16, 10)]
    if final:
        mods.append(final)
    return torch.nn.Sequential(*mods).double()


def test_torch_state_dict_round_trip(tmp_path, rng):
    torch = pytest.importorskip("torch")
    model = torch_model()
    path = tmp_path / "net.pt"
    torch.save(model.state_dict(), path)
    net = load_torch(path)
    X = rng.uniform(0, 1, size=(40, 784))
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()
    assert np.allclose(net.output(X), expected, atol=1e-12)
    relu = torch_model(hidden=("ReLU", "ReLU"))
    torch.save({"state_dict": relu.state_dict(), "activations": ["relu", "relu", "softmax"]}, path)
    with torch.no_grad():
        expected = torch.softmax(relu(torch.from_numpy(X)), dim=1).numpy()
    assert np.allclose(load_torch(path).output(X), expected, atol=1e-12)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_round_trip_reads_activations(tmp_path, rng):
    torch = pytest.importorskip("torch")
    model = torch_model(final=torch.nn.Sigmoid(), hidden=("ReLU", "Sigmoid"))
    path = tmp_path / "net.pt"
    torch.jit.script(model).save(str(path))
    net = load_torch(path)
    assert [layer.activation for layer in net.layers] == ["relu", "sigmoid", "sigmoid"]
    X = rng.uniform(0, 1, size=(40, 784))
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    assert np.allclose(net.output(X), expected, atol=1e-12)


def test_torch_whole_pickled_module_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "whole.pt"
    torch.save(torch_model(), path)
    with pytest.raises(NetworkFileError, match="weights_only"):
        load_torch(path)
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(NetworkFileError, match="junk.pt"):
        load_torch(tmp_path / "junk.pt")


def test_cli_import_torch_writes_a_network(tmp_path, rng):
    torch = pytest.importorskip("torch")
    model = torch_model()
    torch.save(model.state_dict(), tmp_path / "net.pt")
    out = tmp_path / "net.npz"
    result = CliRunner().invoke(main, ["import", "torch", str(tmp_path / "net.pt"), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    X = rng.uniform(0, 1, size=(10, 784))
    assert np.allclose(Network.load(out).output(X), load_torch(tmp_path / "net.pt").output(X))
    bad = CliRunner().invoke(main, ["import", "torch", str(tmp_path / "missing.pt"), "-o", str(out)])
    assert bad.exit_code == 1 and "Traceback" not in bad.output and "missing.pt" in bad.output


def test_an_oversized_torch_file_is_refused_before_pytorch_reads_it(tmp_path, monkeypatch):
    """On disk and unpacked (a small zip can declare gigabytes): one line, whether or not PyTorch is installed."""
    import zipfile

    from handnet.errors import NetworkFileError
    from handnet.nn import convert

    monkeypatch.setattr(convert, "MAX_TORCH_BYTES", 4096)
    monkeypatch.setattr(convert, "_torch", lambda: pytest.fail("PyTorch was asked to read an oversized file"))
    big = tmp_path / "big.pt"
    with open(big, "wb") as f:
        f.truncate(4097)
    with pytest.raises(NetworkFileError, match=r"big\.pt: is 4,097 bytes; handnet reads network files of at most 4,096"):
        load_torch(big)
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data/0", bytes(100_000))
    assert bomb.stat().st_size < 4096
    with pytest.raises(NetworkFileError, match=r"bomb\.pt: unpacks to 100,000 bytes"):
        load_torch(bomb)
    # at the limit, the size check lets it through to PyTorch
    small = tmp_path / "small.pt"
    small.write_bytes(bytes(4096))
    monkeypatch.setattr(convert, "_torch", lambda: (_ for _ in ()).throw(RuntimeError("reached PyTorch")))
    with pytest.raises(RuntimeError, match="reached PyTorch"):
        load_torch(small)
