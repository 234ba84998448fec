"""The compare command end to end, its one-line errors, and every command's --help example."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from handnet.cli import compare as compare_cli
from handnet.cli import main
from handnet.nn.network import random_network


@pytest.fixture(scope="module")
def two_nets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nets")
    a, b = folder / "hand.npz", folder / "trained.npz"
    random_network(seed=0).save(a)
    random_network(seed=1).save(b)
    return a, b


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for command in compare_cli.commands:
        result = runner.invoke(main, [command.name, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command.name
    result = runner.invoke(main, ["import", "torch", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


@pytest.mark.slow
def test_compare_json_has_the_documented_keys(two_nets, tmp_path):
    a, b = two_nets
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--json", "--figures", str(tmp_path / "figs")])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"data", "labels", "scope", "a", "b", "agreement", "matching", "cka", "verdict", "baselines",
                        "noise_panel"}
    assert {c["topic"] for c in out["verdict"]["claims"]} == {"accuracy", "accuracy difference", "edge-likeness",
                                                              "representation", "noise", "units firing per digit"}
    assert all(c["ci95"] and c["baselines"] for c in out["verdict"]["claims"]) and out["verdict"]["thresholds"]
    assert out["labels"] == list(range(10)) and out["scope"]["n_digits"] == out["scope"]["n_available"]
    for side in ("a", "b"):
        assert set(out[side]) == {"name", "sizes", "layers", "provenance", "accuracy", "edge_likeness", "noise", "ablation",
                                 "first_layer_firing"}
        assert set(out[side]["accuracy"]["per_digit"]) == {str(d) for d in range(10)}
        assert len(out[side]["edge_likeness"]["units"]) == 32
        assert len(out[side]["ablation"]["units"]) == 32
    assert set(out["matching"]) == {"activation", "weights"} and len(out["matching"]["weights"][0]["pairs"]) == 16
    assert np.array(out["cka"]["matrix"]["values"]).shape == (3, 3)
    assert "bundled sample" in out["data"]
    assert (tmp_path / "figs" / "confusions.png").stat().st_size > 1000
    assert (tmp_path / "figs" / "matched_hidden1_weights.png").is_file()
    assert (tmp_path / "figs" / "matching_baselines.png").is_file()
    # the baselines drawn beside CKA and matching: random nets of the same shape, one value per seed
    layer = out["baselines"]["layers"][0]
    assert len(layer["cka"]["random_b"]) == len(out["baselines"]["seeds"]) == 3 and layer["cka"]["second"] is None
    assert set(layer["matching"]) == {"activation", "weights"}
    assert layer["cka"]["value"] == pytest.approx(out["cka"]["corresponding"][0]["cka"])
    # the noise test on one scale: A, B and a net trained with the lesson's recipe, on every kind of input
    panel = out["noise_panel"]
    assert list(panel["networks"]) == ["hand", "trained", "lesson's recipe"] and panel["lesson_recipe_epochs"] == 30
    for kinds in panel["networks"].values():
        assert set(kinds) == {"digits", "noise", "ink_noise", "blobs", "maximized"}
        assert all(0 <= st["fraction_confident"] <= 1 and 0 <= st["fraction_confident_normalized"] <= 1
                   for st in kinds.values())
    assert any(c["text"].startswith("A net trained with the lesson's recipe") for c in out["verdict"]["claims"])
    assert "first_layer_firing" in out["a"] and "test digits scored" in out["a"]["first_layer_firing"]["definition"]


def test_compare_text_output(two_nets):
    a, b = two_nets
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--ablation", "mean"])
    assert result.exit_code == 0, result.output
    for phrase in ("accuracy", "95% CI", "little edges", "stroke fit", "linear CKA", "noise",
                   "ablation (activation set to its mean)", "verdict (each claim", "against 10.0% for guessing",
                   "for white noise", "the noise test on one scale", "lesson's recipe", "digit-maximizing inputs"):
        assert phrase in result.output
    quick = CliRunner().invoke(main, ["compare", str(a), str(b), "--no-lesson-twin"])
    assert quick.exit_code == 0 and "the noise test on one scale" not in quick.output


def test_a_second_seed_is_read_as_the_reference_for_two_nets_trained_alike(two_nets):
    """--second NET: B against NET. Oracles: B against itself is 1 on every measure; A given as the
    second equals A against B (CKA is symmetric), and the text puts it beside the random nets."""
    a, b = two_nets
    runner = CliRunner()
    itself = json.loads(runner.invoke(main, ["compare", str(a), str(b), "--second", str(b), "--no-lesson-twin",
                                             "--json"]).stdout)["baselines"]
    assert itself["second"] is True
    for layer in itself["layers"]:
        assert layer["cka"]["second"] == pytest.approx(1.0)
        assert layer["matching"]["activation"]["second"] == pytest.approx(1.0)
        assert layer["matching"]["weights"]["second"] == pytest.approx(1.0)
    result = runner.invoke(main, ["compare", str(a), str(b), "--second", str(a), "--no-lesson-twin"])
    assert result.exit_code == 0, result.output
    swapped = json.loads(runner.invoke(main, ["compare", str(a), str(b), "--second", str(a), "--no-lesson-twin",
                                              "--json"]).stdout)["baselines"]
    for layer in swapped["layers"]:
        assert layer["cka"]["second"] == pytest.approx(layer["cka"]["value"])
        line = next(t for t in result.output.splitlines() if t.strip().startswith(layer["layer"] + ":"))
        random_mean = sum(layer["cka"]["random_b"]) / len(layer["cka"]["random_b"])
        assert line.strip() == (f"{layer['layer']}: {layer['cka']['value']:.2f} (random nets {random_mean:.2f}, "
                                f"second seed {layer['cka']['second']:.2f})")
    assert "against a second trained seed" in result.output


def test_compare_errors_are_one_line(two_nets, tmp_path):
    a, _ = two_nets
    other = tmp_path / "small.npz"
    random_network((784, 10, 10), seed=0).save(other)
    runner = CliRunner()
    for args, expected in [
        ([str(a), str(other)], "same shape"),
        ([str(a), str(tmp_path / "nope.npz")], "nope.npz"),
        ([str(a), str(a), "--data", str(tmp_path)], str(tmp_path)),
        ([str(a), str(a), "--second", str(other)], "--second"),
        ([str(a), str(a), "--second", str(tmp_path / "gone.npz")], "gone.npz"),
    ]:
        result = runner.invoke(main, ["compare", *args])
        assert result.exit_code == 1, result.output
        assert expected in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
