"""`handnet demo`, the README's first command, end to end on the bundled sample (about a minute)."""

import json

from click.testing import CliRunner

from handnet.cli import main
from handnet.nn.network import Network


def test_demo_writes_networks_figures_and_report(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "-o", str(out), "--seeds", "1", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
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
    assert [r["label"] for r in summary["ladder"]["rungs"]] == ["spec", "calibrated", "readout", "fine-tuned", "trained"]
