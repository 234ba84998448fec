"""`handnet demo`, the README's first command, end to end, with small settings (1,500 training and 400
test digits from the bundled sample via --data, a few epochs, one seed), written somewhere other than
demo/ so its closing hints must name the real paths. The run is shared (``demo_run`` in conftest.py):
the report tests read the same folder."""

import json
import shlex
from pathlib import Path

import pytest

from handnet.nn.network import Network


@pytest.mark.slow
def test_demo_writes_networks_figures_and_report_and_names_them(demo_run, small_data_dir):
    out = demo_run.out
    assert demo_run.exit_code == 0, demo_run.output
    summary = json.loads(demo_run.stdout)
    # the digits it was given, named (the fitted readout is fitted on them too)
    assert summary["data"] == f"train: train (1500 digits, {small_data_dir}); test: test (400 digits, {small_data_dir})"
    for name in ("hand.npz", "hand-fitted.npz", "twin.npz"):
        assert str(out / name) in summary["files"]
        Network.load(out / name)
    assert (out / "report" / "index.html").stat().st_size > 10_000
    playground = out / "playground.html"
    assert summary["playground"] == str(playground) and str(playground) in summary["files"]
    assert 100_000 < playground.stat().st_size < 2_000_000 and 'id="canvas"' in playground.read_text()
    assert len(list((out / "figures").glob("*.png"))) >= 20
    accuracy = summary["accuracy"]
    assert set(accuracy) == {"hand-designed (spec only)", "hand-designed, fitted readout", "gradient-trained twin"}
    # the lesson's ordering: hand-designed < fitted readout < trained, each well above chance
    hand, fitted, twin = (accuracy[k]["accuracy"] for k in accuracy)
    assert 0.5 < hand < fitted < twin
    assert [r["label"] for r in summary["ladder"]["rungs"]] == ["lesson", "spec", "calibrated", "readout", "fine-tuned", "trained",
                                                                        "trained, lesson's recipe"]

    # the closing hints: every path they name is one the demo wrote (or the spec it read), none is demo/...
    stderr = demo_run.stderr
    hints = stderr[stderr.index("\ndone."):]
    assert f"{out}/" in hints and str(out / "report" / "index.html") in hints
    named = [word for line in hints.splitlines() if line.startswith("  ") and "handnet" in line
             for word in shlex.split(line) if word.endswith((".npz", ".toml", ".html"))]
    assert len(named) >= 3 and all(Path(word).is_file() for word in named), named
    assert str(out / "twin.npz") in named and "demo/" not in hints.replace(str(out), "OUT")
    # the same progress style for every step when stderr is not a terminal: what, how far, how long
    for label in ("fitting", "training", "drawing", "measuring"):
        assert any(line.strip().startswith(f"{label}: ") and "done in" in line for line in stderr.splitlines())
    epochs = f"{demo_run.EPOCHS}/{demo_run.EPOCHS}"
    assert any(line.strip().startswith(f"training: {epochs}") and "loss" in line for line in stderr.splitlines())
