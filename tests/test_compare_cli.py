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
    assert set(out) == {"data", "labels", "scope", "a", "b", "agreement", "matching", "cka", "verdict"}
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


def test_compare_text_output(two_nets):
    a, b = two_nets
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--ablation", "mean"])
    assert result.exit_code == 0, result.output
    for phrase in ("accuracy", "95% CI", "edge-likeness", "linear CKA", "noise", "ablation (activation set to its mean)",
                   "verdict (each claim", "against 10.0% for guessing", "for random weights"):
        assert phrase in result.output


def test_compare_errors_are_one_line(two_nets, tmp_path):
    a, _ = two_nets
    other = tmp_path / "small.npz"
    random_network((784, 10, 10), seed=0).save(other)
    runner = CliRunner()
    for args, expected in [
        ([str(a), str(other)], "same shape"),
        ([str(a), str(tmp_path / "nope.npz")], "nope.npz"),
        ([str(a), str(a), "--data", str(tmp_path)], str(tmp_path)),
    ]:
        result = runner.invoke(main, ["compare", *args])
        assert result.exit_code == 1, result.output
        assert expected in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
