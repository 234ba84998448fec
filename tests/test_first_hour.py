"""The first hour of a new user (issue 16): how to run handnet after `make demo`, progress on every
slow step in one style, no file written unasked, a readable `repr(net)`, `--palette` wherever weights
are drawn, and a sentence of meaning beside the numbers a learner meets."""

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from handnet.cli import main
from handnet.cli.common import Progress, activate_hint, command_name
from handnet.nn.network import random_network

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "weight_specs" / "3b1b.toml"
FITTED = ROOT / "weight_specs" / "3b1b-fitted.toml"
RECORD = {"epoch": 1, "loss": 0.25, "train_accuracy": 0.9, "test_accuracy": 0.875}


# ---- progress -----------------------------------------------------------------------------------
def test_progress_off_a_terminal_says_what_how_far_and_how_long():
    out = io.StringIO()
    with Progress(3, "   training", file=out, interval=0) as bar:
        for _ in range(3):
            bar.update(1, RECORD)
        bar.update(0, "no line for a status alone")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("   training: 1/3  loss 0.2500  train 90.0%  test 87.5%") and "left)" in lines[0]
    assert lines[-1].startswith("   training: 3/3") and "(done in" in lines[-1]


def test_progress_off_a_terminal_is_one_line_for_a_quick_step():
    out = io.StringIO()
    with Progress(50, "drawing", file=out) as bar:
        for _ in range(50):
            bar.update(1)
        bar.update(1)  # a step too many prints nothing more
    assert out.getvalue().count("\n") == 1 and out.getvalue().startswith("drawing: 50/50  (done in")


def test_progress_on_a_terminal_is_a_bar_with_an_eta():
    bar = Progress(10, "training", file=io.StringIO(), terminal=True)
    with bar:
        bar.update(1, RECORD)
        assert bar._bar.show_eta and bar._bar.show_pos
    assert bar.done == 1


def test_train_shows_the_same_progress_as_the_demo(tmp_path):
    result = CliRunner().invoke(main, ["train", "--epochs", "2", "--limit", "300", "-o", str(tmp_path / "t.npz")])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stderr.splitlines() if line.startswith("training"))
    assert line.startswith("training (2 epochs): 2/2  loss ") and " train " in line and " test " in line
    assert "(done in" in line


def test_building_a_fitted_spec_shows_its_progress(tmp_path):
    result = CliRunner().invoke(main, ["build", str(FITTED), "-o", str(tmp_path / "f.npz")])
    assert result.exit_code == 0, result.output
    assert f"{FITTED}: fitting/calibrating on the bundled training sample: 4/4" in result.stderr
    assert "(done in" in result.stderr


# ---- how to run handnet again -------------------------------------------------------------------
def test_hints_name_the_command_that_works_in_this_shell(tmp_path, monkeypatch):
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "handnet").write_text("#!/bin/sh\n")
    (bin_dir / "handnet").chmod(0o755)
    (bin_dir / "activate").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(bin_dir / "handnet"), "demo"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert command_name() == ".venv/bin/handnet"  # after `make demo`: the venv is not activated
    assert ". .venv/bin/activate" in activate_hint(command_name())
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    assert command_name() == "handnet" and activate_hint("handnet") is None
    monkeypatch.setattr(sys, "argv", ["/somewhere/pytest"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert command_name().endswith(" -m handnet")


def test_readme_says_how_to_run_handnet_after_make_demo():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme[readme.index("## Quick start"):readme.index("## From the command line")]
    assert ".venv/bin/handnet" in quick_start and ". .venv/bin/activate" in quick_start


# ---- no file unasked ----------------------------------------------------------------------------
def test_sweep_writes_no_file_unless_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sweep.png").write_bytes(b"an earlier plot")
    args = ["sweep", str(SPEC), "--set", "edges.upper_bar.fraction=0.4:0.6:2"]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0, text.output
    assert "-o sweep.png" in text.stderr
    as_json = CliRunner().invoke(main, args + ["--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["figure"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.png"]
    assert (tmp_path / "sweep.png").read_bytes() == b"an earlier plot"
    drawn = CliRunner().invoke(main, args + ["--json", "-o", "plots/s.png"])
    assert drawn.exit_code == 0 and (tmp_path / "plots" / "s.png").stat().st_size > 1000


def test_watch_with_json_writes_nothing_unless_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["watch", str(SPEC), "--once", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] and list(tmp_path.iterdir()) == []


def test_build_never_overwrites_another_commands_file_unasked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    random_network(seed=0).save(tmp_path / "3b1b.npz")  # as if `handnet train -o 3b1b.npz` had written it
    before = (tmp_path / "3b1b.npz").read_bytes()
    refused = CliRunner().invoke(main, ["build", str(SPEC)])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "3b1b.npz already exists" in refused.output and "-o" in refused.output
    assert (tmp_path / "3b1b.npz").read_bytes() == before
    (tmp_path / "3b1b.npz").unlink()
    for _ in range(2):  # its own earlier output is replaced
        built = CliRunner().invoke(main, ["build", str(SPEC)])
        assert built.exit_code == 0, built.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3b1b.npz"]


def test_docs_examples_leave_no_network_in_the_repository_root():
    """The README's and the docs' build examples write into nets/ (git-ignored), not the root."""
    import re

    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in page.read_text().splitlines():
            if re.search(r"handnet build \S+\.toml", line) and "tiny.toml" not in line:
                assert " -o nets/" in line, f"{page.name}: {line.strip()}"
    assert "/nets/" in (ROOT / ".gitignore").read_text().split()


# ---- repr ---------------------------------------------------------------------------------------
def test_repr_of_a_network_is_a_short_summary():
    import handnet

    text = repr(handnet.build(SPEC))
    lines = text.splitlines()
    assert lines[0] == f"Network 784-16-16-10, 13,002 parameters: compiled from the spec {SPEC}"
    assert lines[1].startswith("  edges (hidden1): 16 sigmoid units over 784 inputs: top_slope, upper_bar")
    assert lines[3] == "  digits (output): 10 sigmoid units over 16 inputs: 0-9"
    assert len(lines) == 4 and "array" not in text and len(text) < 500
    assert "random initial weights, seed 3" in repr(random_network(seed=3))
    assert repr(handnet.build(SPEC).layers[1]).startswith("<Layer parts: 16 sigmoid units over 16 inputs: round_top")


def test_repr_of_a_trained_network_says_how_it_was_trained(tmp_path):
    from handnet.nn.train import TrainConfig, train

    X = np.random.default_rng(0).uniform(0, 1, (64, 784))
    net = train(X, np.arange(64) % 10, TrainConfig(epochs=1, seed=5), data="64 noise images").network
    assert "trained by gradient descent: 1 epochs of adam, seed 5 on 64 noise images" in repr(net)


# ---- palettes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["demo"], ["figures"], ["report"], ["render", "weights"], ["compare"]])
def test_every_command_that_draws_weights_takes_a_palette(command):
    result = CliRunner().invoke(main, command + ["--help"])
    assert "--palette [lesson|red-green|colorblind]" in result.output


def test_the_palette_reaches_the_picture(tmp_path):
    from matplotlib.image import imread

    from handnet.viz.style import PALETTES

    written = {}
    for palette in ("lesson", "colorblind"):
        result = CliRunner().invoke(main, ["render", "weights", str(SPEC), "--unit", "edges:top_slope", "--palette",
                                           palette, "-o", str(tmp_path / palette), "--json"])
        assert result.exit_code == 0, result.output
        written[palette] = imread(json.loads(result.stdout)["files"][0])[..., :3].reshape(-1, 3)

    def has(pixels, colour):
        rgb = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        return bool(np.any(np.abs(pixels - rgb).max(axis=1) < 0.05))

    assert has(written["lesson"], PALETTES["lesson"][1]) and not has(written["lesson"], PALETTES["colorblind"][1])
    assert has(written["colorblind"], PALETTES["colorblind"][1]) and not has(written["colorblind"], PALETTES["lesson"][1])


# ---- meaning --------------------------------------------------------------------------------------
def test_surgery_says_what_each_number_means(tmp_path):
    import handnet

    hand = tmp_path / "hand.npz"
    handnet.build(SPEC).save(hand)
    twin = tmp_path / "twin.npz"
    random_network(seed=0).save(twin)
    result = CliRunner().invoke(main, ["surgery", str(hand), str(twin), "--epochs", "1"])
    assert result.exit_code == 0, result.output
    no_refit = next(line for line in result.stdout.splitlines() if line.strip().startswith("hand, no refit"))
    assert "below guessing" in no_refit
    assert "Guessing gets 10%" in result.stdout
    assert "refitting the layers above hidden1, 4 times: 4/4" in result.stderr
