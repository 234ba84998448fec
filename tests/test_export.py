"""handnet export: safetensors written with NumPy, read back by our parser, by the safetensors package and
by PyTorch (each where installed), always matching handnet's own outputs."""

import json
import struct

import numpy as np
import pytest
from click.testing import CliRunner

import handnet
from handnet.cli import main
from handnet.errors import NetworkFileError
from handnet.nn.export import load_safetensors, read_safetensors, torch_snippet, write_safetensors
from handnet.nn.network import Layer, Network, random_network

SPEC = "weight_specs/seven-segment.toml"


def odd_net():
    """A net we did not design: 3 outputs, relu then softmax, a 12x10 canvas, unit names of its own."""
    rng = np.random.default_rng(7)
    layers = [
        Layer("strokes", rng.normal(size=(5, 120)), rng.normal(size=5), "relu", ("a", "b", "c", "d", "e")),
        Layer("answer", rng.normal(size=(3, 5)), rng.normal(size=3), "softmax", ("yes", "no", "maybe")),
    ]
    return Network(layers, (12, 10), {"provenance": {"kind": "test"}})


@pytest.mark.parametrize("make", [lambda: random_network(seed=2), odd_net, lambda: handnet.build(SPEC)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_through_our_own_parser(tmp_path, make, dtype):
    net = make()
    path = write_safetensors(net, tmp_path / "net.safetensors", dtype)
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    assert (8 + n) % 8 == 0  # the data is 8-byte aligned
    assert header["0.weight"]["shape"] == list(net.layers[0].weights.shape)
    assert header["0.weight"]["dtype"] == {"float32": "F32", "float64": "F64"}[dtype]
    tensors, meta = read_safetensors(path)
    assert sorted(tensors) == sorted(f"{2 * i}.{k}" for i in range(len(net.layers)) for k in ("weight", "bias"))
    for i, layer in enumerate(net.layers):
        np.testing.assert_array_equal(tensors[f"{2 * i}.weight"], layer.weights.astype(dtype))
        np.testing.assert_array_equal(tensors[f"{2 * i}.bias"], layer.biases.astype(dtype))
    back = load_safetensors(path)
    assert back.layer_names == net.layer_names and back.input_shape == net.input_shape
    assert [layer.units for layer in back.layers] == [layer.units for layer in net.layers]
    assert back.metadata == json.loads(json.dumps(net.metadata))
    X = np.random.default_rng(0).uniform(0, 1, (20, net.sizes[0]))
    tolerance = 0 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(back.output(X), net.output(X), atol=tolerance, rtol=0)


def test_handnet_load_reads_its_export(tmp_path):
    net = random_network(seed=4)
    path = write_safetensors(net, tmp_path / "net.safetensors", "float64")
    np.testing.assert_array_equal(handnet.load(path).layers[1].weights, net.layers[1].weights)


@pytest.mark.parametrize("blob, message", [
    (b"", "shorter than its 8-byte header length"),
    (struct.pack("<Q", 10_000) + b"{}", "runs past the end"),
    (struct.pack("<Q", 4) + b"nope", "header is not JSON"),
    (struct.pack("<Q", 80) + json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).ljust(80).encode()
     + bytes(8), r"do not fit shape \[4\]"),
])
def test_damaged_files_get_one_line_errors(tmp_path, blob, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    with pytest.raises(NetworkFileError, match=message) as caught:
        read_safetensors(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_a_file_from_elsewhere_is_parsed_but_not_taken_for_a_network(tmp_path):
    from handnet.nn.export import safetensors_bytes

    path = tmp_path / "other.safetensors"
    path.write_bytes(safetensors_bytes({"x": np.arange(3, dtype=np.float32)}))
    tensors, meta = read_safetensors(path)
    np.testing.assert_array_equal(tensors["x"], [0, 1, 2]) and meta == {}
    with pytest.raises(NetworkFileError, match="a file exported by handnet"):
        load_safetensors(path)


def test_the_safetensors_package_reads_it_in_numpy(tmp_path):
    numpy_reader = pytest.importorskip("safetensors.numpy", reason="the safetensors package is not installed")
    net = handnet.build(SPEC)
    path = write_safetensors(net, tmp_path / "net.safetensors")
    tensors = numpy_reader.load_file(str(path))
    for i, layer in enumerate(net.layers):
        np.testing.assert_array_equal(tensors[f"{2 * i}.weight"], layer.weights.astype(np.float32))


@pytest.mark.parametrize("make", [lambda: handnet.build(SPEC), odd_net])
def test_pytorch_runs_the_printed_snippet_and_matches_handnet(tmp_path, make):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    pytest.importorskip("safetensors.torch", reason="the safetensors package is not installed")
    net = make()
    path = write_safetensors(net, tmp_path / "net.safetensors")
    scope = {}
    exec(torch_snippet(net, path), scope)  # the code a user copies is the code tested
    X = np.random.default_rng(1).uniform(0, 1, (32, net.sizes[0]))
    with torch.no_grad():
        out = scope["model"](torch.from_numpy(X.astype(np.float32))).numpy()
    np.testing.assert_allclose(out, net.output(X), atol=1e-5, rtol=0)
    assert scope["output_units"] == list(net.layers[-1].units)


def test_export_command_prints_shapes_and_the_snippet(tmp_path):
    runner = CliRunner()
    out = tmp_path / "seven.safetensors"
    result = runner.invoke(main, ["export", SPEC, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "0.weight 7x784" in result.output and "4.bias 10" in result.output
    result = runner.invoke(main, ["export", SPEC, "-o", str(out), "--format", "torch-snippet"])
    assert result.exit_code == 0, result.output
    assert "nn.Linear(784, 7),  # edges" in result.output and "load_file(" in result.output
    result = runner.invoke(main, ["export", SPEC, "-o", str(out), "--json", "--dtype", "float64"])
    report = json.loads(result.output)
    assert report["tensors"]["2.weight"] == [9, 7] and report["dtype"] == "float64"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seven.safetensors"]  # no temporary file left


def test_export_of_a_missing_net_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["export", str(tmp_path / "nope.npz"), "-o", str(tmp_path / "x.safetensors")])
    assert result.exit_code == 1 and "nope.npz: no such network file" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.safetensors").exists()
