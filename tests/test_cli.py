"""The command line as a whole: help everywhere, a light import, and one-line errors for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from handnet.cli import main
from handnet.nn.network import random_network

ROOT = Path(__file__).resolve().parent.parent


def all_commands(group: click.Group, path=()):
    """Every (path, command) under a group, recursively, the group itself included."""
    yield path, group
    for name in sorted(group.list_commands(None)):
        command = group.get_command(None, name)
        if isinstance(command, click.Group):
            yield from all_commands(command, path + (name,))
        else:
            yield path + (name,), command


def test_main_help():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    for name in ("data", "info", "evaluate"):
        assert name in result.output


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    paths = [path for path, _ in all_commands(main)]
    assert ("data", "info") in paths and ("data", "fetch") in paths and ("evaluate",) in paths
    for path, _ in all_commands(main):
        result = runner.invoke(main, [*path, "--help"])
        where = "handnet " + " ".join(path)
        assert result.exit_code == 0, f"{where} --help: {result.output}"
        assert "Example" in result.output, f"{where} --help has no Example block"


def test_importing_the_cli_stays_light():
    """Heavy libraries load inside commands, which is what keeps `handnet --help` fast."""
    code = (
        "import sys, handnet.cli\n"
        "heavy = [m for m in ('matplotlib', 'scipy.optimize', 'skimage', 'torch', 'mlxtend') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"handnet.cli imports {result.stdout.strip()} at import time"


def test_data_info_text_and_json():
    runner = CliRunner()
    text = runner.invoke(main, ["data", "info"])
    assert text.exit_code == 0, text.output
    assert "bundled" in text.output and "sample: 5000 digits" in text.output
    js = runner.invoke(main, ["data", "info", "--json", "--split", "test"])
    assert js.exit_code == 0, js.output
    report = json.loads(js.output)
    assert list(report["splits"]) == ["test"]
    test = report["splits"]["test"]
    assert test["n"] == 1000 and test["per_digit"] == {str(d): 100 for d in range(10)}
    assert 0 < test["pixel_mean"] < 1 and 0 < test["ink_fraction"] < 1


def test_data_info_thumbnails(tmp_path):
    out = tmp_path / "figs" / "digits.png"
    result = CliRunner().invoke(main, ["data", "info", "--split", "test", "--thumbnails", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["thumbnails"] == {"path": str(out), "split": "test"}
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["digits.png"]  # no temporary file left


def test_data_info_on_a_directory(tmp_path, rng):
    from handnet.data.mnist import write_idx

    write_idx(tmp_path / "dev-images-idx3-ubyte.gz", rng.integers(0, 256, (12, 28, 28)))
    write_idx(tmp_path / "dev-labels-idx1-ubyte.gz", np.arange(12) % 10)
    result = CliRunner().invoke(main, ["data", "info", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["source"] == str(tmp_path)
    assert report["splits"]["dev"]["per_digit"]["0"] == 2 and report["splits"]["dev"]["per_digit"]["9"] == 1


@pytest.fixture
def saved_net(tmp_path):
    return random_network(seed=3).save(tmp_path / "net.npz")


def test_info_on_a_saved_network(saved_net):
    runner = CliRunner()
    text = runner.invoke(main, ["info", str(saved_net)])
    assert text.exit_code == 0, text.output
    assert "784-16-16-10 network, 13,002 parameters" in text.output
    assert "hidden1" in text.output and "seed=3" in text.output
    js = runner.invoke(main, ["info", str(saved_net), "--json"])
    assert js.exit_code == 0, js.output
    summary = json.loads(js.output)
    assert summary["sizes"] == [784, 16, 16, 10] and summary["n_parameters"] == 13002
    assert summary["metadata"]["provenance"] == {"kind": "random", "seed": 3}


def bad_npz(tmp_path):
    """A real .npz that is not a handnet network."""
    path = tmp_path / "bad.npz"
    np.savez(path, x=np.zeros(3))
    return path


def garbage_npz(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"this is not a zip file")
    return path


def corrupt_data_dir(tmp_path):
    directory = tmp_path / "corrupt"
    directory.mkdir()
    (directory / "t10k-images-idx3-ubyte").write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 9]))
    (directory / "t10k-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 0]))
    return directory


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda t, net: ["info", str(t / "missing.npz")], "missing.npz: no such network file"),
        (lambda t, net: ["info", str(bad_npz(t))], "bad.npz: missing key 'metadata'"),
        (lambda t, net: ["evaluate", str(bad_npz(t))], "bad.npz: missing key 'metadata'"),
        (lambda t, net: ["info", str(garbage_npz(t))], "garbage.npz: not a readable .npz network file"),
        (lambda t, net: ["data", "info", "--data", str(t / "nowhere")], "nowhere: no such directory"),
        (lambda t, net: ["data", "info", "--data", str(t)], "no MNIST files"),
        (lambda t, net: ["data", "info", "--split", "dev"], "no split 'dev'"),
        (lambda t, net: ["data", "info", "--data", str(corrupt_data_dir(t))], "truncated header"),
        (lambda t, net: ["evaluate", str(net), "--data", str(t / "nowhere")], "nowhere: no such directory"),
        (lambda t, net: ["evaluate", str(net), "--data", str(corrupt_data_dir(t))], "truncated header"),
    ],
)
def test_bad_input_is_one_error_line_without_traceback(tmp_path, saved_net, make_args, message):
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    result = CliRunner().invoke(main, make_args(data_dir, saved_net))
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert message in lines[0]
    assert "Traceback" not in result.output
