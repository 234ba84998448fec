"""Surgery and the ladder, on small data so they stay fast. They need the trainer and the spec compiler."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

train_module = pytest.importorskip("handnet.train", reason="the trainer (handnet.train) has not landed")
pytest.importorskip("handnet.compile", reason="the spec compiler (handnet.compile) has not landed")

from handnet.cli import main  # noqa: E402
from handnet.data import load_splits  # noqa: E402
from handnet.ladder import spec_rungs  # noqa: E402
from handnet.surgery import surgery  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "weight_specs" / "3b1b.toml"
FAST = train_module.TrainConfig(epochs=3)


@pytest.fixture(scope="module")
def small():
    splits = load_splits()
    rng = np.random.default_rng(0)
    return splits.train.subset(rng.permutation(len(splits.train))[:1500]), splits.test.subset(np.arange(400))


@pytest.fixture(scope="module")
def twin(small):
    train_set, _ = small
    return train_module.train(train_set.X, train_set.y, FAST).network


def test_surgery_with_its_own_layer_keeps_everything(small, twin):
    train_set, test_set = small
    result = surgery(twin, twin, train_set.X, train_set.y, test_set.X, test_set.y, layer="hidden1", config=FAST)
    base = result.accuracy("trained")
    assert result.accuracy("hand, no refit") == base  # the same network
    # swapping a layer for itself changes nothing: the refit is the trained net's own refit, seed for seed
    assert result.accuracy("hand, refit above") == result.accuracy("trained, refit above")
    kept = next(v["kept"] for v in result.variants if v["label"] == "hand, refit above")
    assert kept >= 0.97
    assert result.accuracy("removed, refit above") < 0.25  # no information left: near chance
    # frozen layers stay exactly as they were
    refit = result.networks["hand, refit above"]
    assert np.array_equal(refit.layers[0].weights, twin.layers[0].weights)
    assert {v["label"] for v in result.to_dict()["variants"]} == set(result.networks)


@pytest.mark.skipif(not SPEC.is_file(), reason="no weight_specs/3b1b.toml")
def test_spec_rungs_differ_only_in_thresholds(small):
    train_set, _ = small
    pure, calibrated = spec_rungs(SPEC, train_set)
    for a, b in zip(pure.layers[:2], calibrated.layers[:2]):
        assert np.array_equal(a.weights, b.weights)
    assert not np.array_equal(pure.layers[0].biases, calibrated.layers[0].biases)
    # calibrated: each edge stays below 0.5 on about 80% of the training digits
    below = np.mean(calibrated.forward(train_set.X)[1] < 0.5, axis=0)
    assert np.allclose(below, 0.8, atol=0.02)


@pytest.mark.skipif(not SPEC.is_file(), reason="no weight_specs/3b1b.toml")
def test_ladder_cli_json(small, tmp_path):
    result = CliRunner().invoke(main, ["ladder", str(SPEC), "--seeds", "1", "--epochs", "2", "--json",
                                       "--figure", str(tmp_path / "ladder.png")])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    labels = [r["label"] for r in out["rungs"]]
    assert labels == ["spec", "calibrated", "readout", "fine-tuned", "trained"]
    by = {r["label"]: r for r in out["rungs"]}
    # hand-drawn edges are strokes; the readout rung keeps them frozen
    assert by["spec"]["edge_likeness_median"] > 0.8
    assert by["readout"]["edge_likeness"]["edges"] == by["calibrated"]["edge_likeness"]["edges"]
    assert len(out["drift"]) == 32 and all(-1 <= d["cosine_mean"] <= 1 for d in out["drift"])
    assert (tmp_path / "ladder.png").stat().st_size > 1000


@pytest.mark.skipif(not SPEC.is_file(), reason="no weight_specs/3b1b.toml")
def test_report_command_writes_one_self_contained_page(tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", str(SPEC), "--seeds", "1", "--epochs", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    assert page.count("<img ") == page.count('<img src="data:image/png;base64,') >= 12
    assert not re.search(r'(src|href)="(http|//)', page)  # nothing fetched from elsewhere
    for heading in ("The ladder", "hand vs trained", "Surgery", "maximizing inputs"):
        assert heading in page
    numbers = json.loads((out / "report.json").read_text())
    assert set(numbers) == {"ladder", "comparison", "surgery"}
    assert "| 5. trained |" in (out / "ladder.md").read_text() and "bundled sample" in result.output
