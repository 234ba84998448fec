"""``handnet render ...`` and ``handnet figures`` through click's CliRunner."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from handnet.cli import main
from inside_nets import hand_net


@pytest.fixture(scope="module")
def net_path(tmp_path_factory):
    return str(hand_net().save(tmp_path_factory.mktemp("nets") / "hand.npz"))


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


EXPECTED = {
    "weights": ["hand-weights-edges", "hand-weights-parts-strip", "hand-weights-parts-templates",
                "hand-weights-digits-strip", "hand-weights-digits-templates"],
    "maximize": ["hand-maximize-edges", "hand-maximize-parts", "hand-maximize-digits"],
    "tuning": ["hand-tuning-edges", "hand-tuning-parts"],
    "diagram": ["hand-diagram-0"],
    "digits": ["hand-digits"],
}


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_every_render_command_writes_its_files(tmp_path, net_path, kind, fmt):
    result = run("render", kind, net_path, "-o", tmp_path, "--format", fmt, "--dpi", 40, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = sorted(str(tmp_path / f"{stem}.{fmt}") for stem in EXPECTED[kind])
    assert sorted(report["files"]) == expected
    for path in expected:
        with open(path, "rb") as f:
            head = f.read(200)
        assert head.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in head or b"<?xml" in head
    assert not list(tmp_path.glob(".*tmp*")), "no temporary files left behind"


@pytest.mark.parametrize("kind", ["weights", "maximize", "tuning", "digits"])
def test_render_one_unit(tmp_path, net_path, kind):
    result = run("render", kind, net_path, "--unit", "parts:box", "-o", tmp_path, "--dpi", 40)
    assert result.exit_code == 0, result.output
    assert any("parts-box" in p.name for p in tmp_path.iterdir())


def test_maximize_json_reports_activation_bound_and_seconds(tmp_path, net_path):
    npz = tmp_path / "maxima.npz"
    result = run("render", "maximize", net_path, "--unit", "hidden2:box", "--top", 0, "-o", tmp_path,
                 "--npz", npz, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (unit,) = report["units"]
    assert unit["unit"] == "parts:box"
    assert 0 < unit["activation"] <= 1 and unit["bound"] >= unit["preactivation"] and unit["seconds"] >= 0
    with np.load(npz, allow_pickle=False) as f:
        assert f["images"].shape == (1, 784) and list(f["units"]) == ["parts:box"]
        assert f["activations"][0] == pytest.approx(unit["activation"])


def test_maximize_text_output(tmp_path, net_path):
    result = run("render", "maximize", net_path, "--unit", "edges:top_bar", "--top", 2, "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert "edges:top_bar: activation" in result.stdout and "closed form" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["render", "weights", "NET", "--unit", "edges:nope"], "no unit 'nope'"),
        (["render", "maximize", "NET", "--unit", "loops:3"], "unknown layer 'loops'"),
        (["render", "tuning", "NET", "--unit", "digits:3"], "tuning curves are for edge"),
        (["render", "digits", "NET", "--unit", "top_bar"], "must look like layer:unit"),
        (["render", "diagram", "NET", "--image", "99999"], "has only"),
        (["render", "weights", "missing.npz"], "missing.npz: no such network file"),
        (["render", "weights", "missing.toml"], "missing.toml"),
        (["render", "weights", "net.txt"], "expected a saved network (.npz) or a spec file (.toml)"),
    ],
)
def test_bad_input_is_a_one_line_error(tmp_path, net_path, args, message):
    args = [net_path if a == "NET" else a for a in args] + ["-o", tmp_path]
    result = run(*args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output
    assert not any(p.suffix in (".png", ".svg") for p in tmp_path.iterdir())


@pytest.mark.slow
def test_figures_from_a_saved_trained_twin(tmp_path, net_path):
    result = run("figures", "-o", tmp_path, "--spec", tmp_path / "none.toml", "--trained", net_path, "--dpi", 30, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "trained-weights-edges.png" in names and "trained-diagram-0.png" in names
    assert "trained-tuning-parts.png" in names and "trained-maximize-digits.png" in names
    assert any("not found" in n for n in report["notes"])


def test_every_command_has_help_with_an_example():
    for args in [["render"], ["figures"]] + [["render", k] for k in EXPECTED]:
        result = run(*args, "--help")
        assert result.exit_code == 0 and "Example:" in result.output, args
