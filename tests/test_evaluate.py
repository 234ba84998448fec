"""evaluate() against an oracle: a network that reads out one pixel, so every prediction is known."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from handnet.nn import evaluate as evaluate_module
from handnet.cli import main
from handnet.data.mnist import Dataset
from handnet.errors import DataError, HandnetError
from handnet.nn.evaluate import confusion_matrix, evaluate
from handnet.nn.network import Layer, Network

# (true label, pixel lit) pairs; the pixel-reader network predicts the lit pixel's index
CASES = [(0, 0), (0, 3), (1, 1), (1, 1), (1, 2), (2, 2), (9, 9), (9, 4)]
EXPECTED_CONFUSION = {(0, 0): 1, (0, 3): 1, (1, 1): 2, (1, 2): 1, (2, 2): 1, (9, 9): 1, (9, 4): 1}


def pixel_reader() -> Network:
    """Output unit d reads pixel d (row 0, column d): the brightest of the first ten pixels wins."""
    weights = np.zeros((10, 784))
    weights[np.arange(10), np.arange(10)] = 10.0
    return Network([Layer("digits", weights, np.zeros(10), "softmax")])


def lit_images(pixels) -> np.ndarray:
    images = np.zeros((len(pixels), 28, 28), dtype=np.uint8)
    images[np.arange(len(pixels)), 0, pixels] = 255
    return images


@pytest.fixture
def oracle_data() -> Dataset:
    labels, pixels = zip(*CASES)
    return Dataset("oracle", lit_images(pixels), np.array(labels, dtype=np.int64), "constructed")


def test_confusion_per_digit_and_accuracy_match_the_oracle(oracle_data):
    result = evaluate(pixel_reader(), oracle_data)
    expected = np.zeros((10, 10), dtype=np.int64)
    for (true, pred), count in EXPECTED_CONFUSION.items():
        expected[true, pred] = count
    np.testing.assert_array_equal(result.confusion, expected)
    assert result.n == 8
    assert result.accuracy == pytest.approx(5 / 8)
    # digits absent from the data are left out, so every value is a real fraction
    assert result.per_digit == pytest.approx({"0": 0.5, "1": 2 / 3, "2": 1.0, "9": 0.5})
    assert result.support == {"0": 2, "1": 3, "2": 1, "9": 2}
    np.testing.assert_array_equal(result.predictions, [p for _, p in CASES])
    np.testing.assert_array_equal(result.labels, [t for t, _ in CASES])
    assert result.mistakes() == [(0, 3, 1), (1, 2, 1), (9, 4, 1)]


def test_to_dict_is_json_ready_and_nan_free(oracle_data):
    d = evaluate(pixel_reader(), oracle_data).to_dict()
    text = json.dumps(d)  # no numpy types left
    assert "NaN" not in text
    assert 0 <= d["accuracy"] <= 1 and d["n"] == 8 and d["n_correct"] == 5
    assert set(d["per_digit"]) == {"0", "1", "2", "9"}
    assert all(math.isfinite(v) and 0 <= v <= 1 for v in d["per_digit"].values())
    assert d["confusion"][1] == [0, 2, 1, 0, 0, 0, 0, 0, 0, 0]
    assert d["data"] == "oracle (8 digits, constructed)"


def test_format_text_shows_table_matrix_and_absent_digits(oracle_data):
    text = evaluate(pixel_reader(), oracle_data).format_text()
    assert "accuracy: 62.50% (5 of 8 digits)" in text
    assert "oracle (8 digits, constructed)" in text
    assert "absent from the data" in text
    matrix = text.split("columns: predicted digit)")[1]
    row_one = next(line for line in matrix.splitlines() if line.startswith("    1 "))
    assert row_one.split() == ["1", "0", "2", "1", "0", "0", "0", "0", "0", "0", "0"]


def test_batches_give_the_same_answer_as_one_pass(monkeypatch, rng):
    pixels = rng.integers(0, 10, size=50)
    labels = rng.integers(0, 10, size=50)
    data = Dataset("random", lit_images(pixels), labels, "constructed")
    whole = evaluate(pixel_reader(), data)
    monkeypatch.setattr(evaluate_module, "BATCH", 7)
    batched = evaluate(pixel_reader(), data)
    np.testing.assert_array_equal(whole.predictions, pixels)
    np.testing.assert_array_equal(batched.predictions, whole.predictions)
    np.testing.assert_array_equal(whole.confusion, confusion_matrix(labels, pixels))


def test_empty_data_and_outputs_that_are_not_digits_are_one_line_errors(oracle_data):
    empty = oracle_data.subset(np.array([], dtype=int))
    with pytest.raises(DataError, match="no digits to evaluate"):
        evaluate(pixel_reader(), empty)
    corner = Network([Layer("out", np.zeros((2, 784)), np.zeros(2), "softmax", ("corner", "7"))])
    with pytest.raises(HandnetError, match=r"output unit out:corner is not named after a digit.*label = 7"):
        evaluate(corner, oracle_data)
    two = Network([Layer("digits", np.zeros((2, 784)), np.zeros(2), "softmax", ("1", "7"))])
    with pytest.raises(HandnetError, match="no output unit for 5; its outputs answer 1, 7"):
        evaluate(two, oracle_data, digits=(1, 5))


def test_output_units_answer_by_name_whatever_their_order(oracle_data):
    # the pixel reader with its output units shuffled (rows and names together) is the same reader
    order = [3, 9, 0, 7, 1, 2, 8, 4, 6, 5]
    reader = pixel_reader().layers[0]
    shuffled = Network([reader.replace(weights=reader.weights[order], biases=reader.biases[order],
                                       units=tuple(str(d) for d in order))])
    same, reordered = evaluate(pixel_reader(), oracle_data), evaluate(shuffled, oracle_data)
    np.testing.assert_array_equal(same.confusion, reordered.confusion)
    np.testing.assert_array_equal(same.predictions, reordered.predictions)
    np.testing.assert_array_equal(shuffled.predict(lit_images([7, 2])), [7, 2])
    # renaming the rows without moving them changes the answers: names, not positions, decide
    renamed = Network([reader.replace(units=tuple(str(d) for d in order))])
    np.testing.assert_array_equal(renamed.predict(lit_images([0, 1])), [order[0], order[1]])


def test_a_network_with_some_digits_is_scored_on_those_digits_only(oracle_data):
    # outputs 0, 1 and 9 (reading pixels 0, 1, 9): the 2 is not scored, a lit pixel 3 or 4 reads as one of them
    rows = [0, 1, 9]
    three = Network([Layer("digits", pixel_reader().layers[0].weights[rows], np.zeros(3), "softmax", ("0", "1", "9"))])
    result = evaluate(three, oracle_data)
    keep = [k for k, (label, _) in enumerate(CASES) if label in (0, 1, 9)]
    assert result.n == len(keep) == 7 and result.scope.labels == (0, 1, 9)
    np.testing.assert_array_equal(result.index, keep)
    assert result.per_digit.keys() == {"0", "1", "9"} and result.support == {"0": 2, "1": 3, "9": 2}
    assert "scored on labels 0, 1, 9 (the network's 3 outputs): 7 of the 8 test digits" in result.format_text()
    d = result.to_dict()
    assert d["labels"] == [0, 1, 9] and d["scope"]["n_digits"] == 7 and d["scope"]["n_available"] == 8
    # --digits narrows a ten-output net to exactly what a net with only those outputs does
    narrowed = evaluate(pixel_reader(), oracle_data, digits=(0, 1, 9))
    np.testing.assert_array_equal(narrowed.confusion, result.confusion)
    np.testing.assert_array_equal(narrowed.predictions, result.predictions)
    assert "chosen with --digits" in narrowed.scope.how


def write_oracle_dir(directory):
    from handnet.data.mnist import write_idx

    labels, pixels = zip(*CASES)
    write_idx(directory / "oracle-images-idx3-ubyte.gz", lit_images(pixels))
    write_idx(directory / "oracle-labels-idx1-ubyte.gz", np.array(labels, dtype=np.uint8))


def test_cli_evaluate_text_and_json(tmp_path):
    write_oracle_dir(tmp_path)
    net = pixel_reader().save(tmp_path / "reader.npz")
    runner = CliRunner()
    text = runner.invoke(main, ["evaluate", str(net), "--data", str(tmp_path)])
    assert text.exit_code == 0, text.output
    assert "accuracy: 62.50%" in text.output and f"oracle (8 digits, {tmp_path})" in text.output
    js = runner.invoke(main, ["evaluate", str(net), "--data", str(tmp_path), "--split", "oracle", "--json"])
    assert js.exit_code == 0, js.output
    d = json.loads(js.output)
    assert d["accuracy"] == pytest.approx(5 / 8) and d["n"] == 8 and d["confusion"][0][3] == 1
    assert d["network"] == str(net)


def test_cli_evaluate_on_the_bundled_test_split(tmp_path):
    net = pixel_reader().save(tmp_path / "reader.npz")
    result = CliRunner().invoke(main, ["evaluate", str(net), "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.output)
    assert d["n"] == 1000 and d["support"] == {str(k): 100 for k in range(10)}
    assert "bundled sample" in d["data"]


@pytest.mark.parametrize(
    "name, message",
    [("missing.npz", "no such network file"), ("net.txt", "expected a saved network (.npz) or a spec file")],
)
def test_cli_evaluate_bad_network_argument(tmp_path, name, message):
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / name)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_evaluate_spec_goes_through_build(tmp_path, monkeypatch):
    """A .toml NET is compiled with handnet.build(path, data=...), whichever helper provides it."""
    import handnet

    calls = []

    def fake_build(path, data=None):
        calls.append((path, data))
        return pixel_reader()

    monkeypatch.setattr(handnet, "build", fake_build, raising=False)
    write_oracle_dir(tmp_path)
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "hand.toml"), "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert calls == [(str(tmp_path / "hand.toml"), str(tmp_path))]
    assert json.loads(result.output)["n"] == 8
