"""Your own digit images through the CLI: ``predict``, ``render diagram --image FILE``, and a folder of images by
label as the digits of ``evaluate`` and ``render maximize --top``."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import handnet
from handnet.cli import main
from handnet.data import load_test
from handnet.nn.network import random_network

ROOT = Path(__file__).resolve().parent.parent
SPEC = str(ROOT / "weight_specs" / "3b1b.toml")


def save_digit(path: Path, grid: np.ndarray, dark_on_light: bool = True, scale: int = 8) -> Path:
    """A 28x28 digit in [0, 1] as a larger PNG, as a user's scan would be: dark ink on light paper."""
    from skimage.io import imsave

    big = np.kron(grid, np.ones((scale, scale)))
    pixels = (255 * (1 - big if dark_on_light else big)).round().astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    imsave(path, pixels, check_contrast=False)
    return path


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """Ten test digits saved as image files in label folders, half of them dark-on-light."""
    folder = tmp_path_factory.mktemp("my_digits")
    test = load_test()
    chosen = [int(np.flatnonzero(test.y == d)[0]) for d in range(10)]
    for k, i in enumerate(chosen):
        save_digit(folder / str(test.y[i]) / f"digit{i}.png", test.images[i] / 255.0, dark_on_light=k % 2 == 0)
    return folder, test, chosen


def test_predict_reads_an_image_file_as_its_mnist_digit(digits):
    folder, test, chosen = digits
    path = folder / "7" / f"digit{chosen[7]}.png"
    result = CliRunner().invoke(main, ["predict", SPEC, str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["images"][0]
    net = handnet.build(SPEC)
    x = handnet.load_image(path).reshape(-1)
    np.testing.assert_allclose(np.array(report["input"]).reshape(-1), x)
    acts = net.forward(x[None])
    for layer, a in zip(net.layers, acts[1:]):
        assert list(report["activations"][layer.name]) == list(layer.units)
        np.testing.assert_allclose(list(report["activations"][layer.name].values()), a[0], atol=1e-12)
    assert report["prediction"] == net.layers[-1].units[int(np.argmax(acts[-1]))]
    # the made digit is close to the test digit it was saved from (ink fixed, re-centred)
    assert np.corrcoef(x, test.X[chosen[7]])[0, 1] > 0.9


def test_predict_text_names_the_digit_for_each_image(digits):
    folder, test, chosen = digits
    paths = [str(folder / str(d) / f"digit{chosen[d]}.png") for d in (0, 1)]
    result = CliRunner().invoke(main, ["predict", SPEC, *paths])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "is the answer" in lines[0] and len(lines) == 3
    assert lines[1].startswith(paths[0] + ": ") and lines[2].startswith(paths[1] + ": ")


def test_predict_takes_a_npy_input_exactly(tmp_path):
    net = random_network(sizes=(784, 5, 3), seed=1)
    saved = net.save(tmp_path / "net.npz")
    x = np.random.default_rng(0).uniform(0, 1, (28, 28))
    np.save(tmp_path / "x.npy", x)
    result = CliRunner().invoke(main, ["predict", str(saved), str(tmp_path / "x.npy"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["images"][0]
    np.testing.assert_array_equal(np.array(report["input"]), x)
    np.testing.assert_allclose(list(report["outputs"].values()), net.output(x.reshape(1, -1))[0], atol=1e-12)


@pytest.mark.parametrize("make, message", [
    (lambda t: t / "missing.png", "missing.png: no such file"),
    (lambda t: (t / "empty.png").write_bytes(b"") or t / "empty.png", "empty.png: empty file"),
    (lambda t: (t / "text.png").write_text("not an image") and t / "text.png", "text.png: not an image"),
    (lambda t: save_digit(t / "blank.png", np.zeros((28, 28))), "no ink found"),
    (lambda t: np.save(t / "wide.npy", np.ones((3, 3))) or t / "wide.npy", "expected 28x28 numbers"),
    (lambda t: np.save(t / "bright.npy", np.full((28, 28), 2.0)) or t / "bright.npy", "in [0, 1]"),
])
def test_bad_images_get_one_line_errors(tmp_path, make, message):
    path = make(tmp_path)
    result = CliRunner().invoke(main, ["predict", SPEC, str(path)])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_image_files_need_a_28x28_network(tmp_path, digits):
    folder, _, chosen = digits
    net = random_network(sizes=(400, 4, 10), seed=0).save(tmp_path / "small.npz")
    result = CliRunner().invoke(main, ["predict", str(net), str(folder / "3" / f"digit{chosen[3]}.png")])
    assert result.exit_code == 1 and "this network reads 20x20 inputs" in result.output


def test_evaluate_scores_a_folder_of_images_by_label(digits):
    folder, test, chosen = digits
    result = CliRunner().invoke(main, ["evaluate", SPEC, "--data", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 10 and report["support"] == {str(d): 1 for d in range(10)}
    net = handnet.build(SPEC)
    made = handnet.data.load_images(folder)
    assert report["accuracy"] == pytest.approx(net.accuracy(made.X, made.y))
    result = CliRunner().invoke(main, ["evaluate", SPEC, "--data", str(folder), "--split", "dev"])
    assert result.exit_code == 1 and "has no splits" in result.output


def test_render_diagram_takes_an_image_file(tmp_path, digits):
    folder, _, chosen = digits
    path = folder / "2" / f"digit{chosen[2]}.png"
    result = CliRunner().invoke(main, ["render", "diagram", SPEC, "--image", str(path), "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)["files"]
    assert written == [str(tmp_path / f"3b1b-diagram-digit{chosen[2]}.png")]
    assert Path(written[0]).read_bytes()[:4] == b"\x89PNG"
    result = CliRunner().invoke(main, ["render", "diagram", SPEC, "--image", str(tmp_path / "nope.png"), "-o", str(tmp_path)])
    assert result.exit_code == 1 and "nope.png: no such file" in result.output


def test_render_maximize_top_digits_from_a_folder_of_images(tmp_path, digits):
    folder, _, _ = digits
    result = CliRunner().invoke(main, ["render", "maximize", SPEC, "--unit", "edges:upper_bar", "--top", "3",
                                       "--data", str(folder), "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == [str(tmp_path / "3b1b-maximize-edges-upper_bar.png")]
