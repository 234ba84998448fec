"""Surgery and the ladder, on small data so they stay fast. They need the trainer and the spec compiler."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import handnet.nn.train as train_module
from handnet.cli import main
from handnet.data.mnist import load_splits
from handnet.compare.ladder import spec_rungs
from handnet.compare.surgery import surgery

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


def test_spec_rungs_differ_only_in_thresholds(small):
    train_set, _ = small
    pure, calibrated, calibration = spec_rungs(SPEC, train_set, quantiles=(0.7,))
    for a, b in zip(pure.layers[:2], calibrated.layers[:2]):
        assert np.array_equal(a.weights, b.weights)
    assert not np.array_equal(pure.layers[0].biases, calibrated.layers[0].biases)
    assert calibration == {"source": "search", "edges": 0.7, "parts": 0.7, "train_accuracy": calibration["train_accuracy"]}
    # calibrated: each edge stays below 0.5 on 70% of the training digits
    below = np.mean(calibrated.forward(train_set.X)[1] < 0.5, axis=0)
    assert np.allclose(below, 0.7, atol=0.02)


def test_ladder_and_report_refuse_a_bad_spec_in_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[network]\nsizes = 'many'\n")
    for command in (["ladder", str(bad)], ["report", str(bad), "-o", str(tmp_path / "r")], ["ladder", str(tmp_path / "no.toml")]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1 and result.output.startswith("Error: ") and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_report_command_runs_the_ladder_and_writes_one_self_contained_page(small, tmp_path):
    # a small data folder (1,500 training, 400 test digits) keeps the whole pipeline quick
    from handnet.data.mnist import write_idx

    folder = tmp_path / "digits"
    for split, dataset in zip(("train", "test"), small):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", dataset.images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", dataset.labels)
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", str(SPEC), "--data", str(folder), "--seeds", "1", "--epochs", "1",
                                       "--palette", "colorblind", "-o", str(out)])
    assert result.exit_code == 0, result.output
    ladder = json.loads((out / "report.json").read_text())["ladder"]
    assert [r["label"] for r in ladder["rungs"]] == ["spec", "calibrated", "readout", "fine-tuned", "trained"]
    by = {r["label"]: r for r in ladder["rungs"]}
    # hand-drawn edges are strokes; the readout rung keeps them frozen; one epoch of training does not make edges
    assert by["spec"]["edge_likeness_median"] > 0.8 > by["trained"]["edge_likeness_median"]
    assert by["readout"]["edge_likeness"]["edges"] == by["calibrated"]["edge_likeness"]["edges"]
    assert len(ladder["drift"]) == 32 and all(-1 <= d["cosine_mean"] <= 1 for d in ladder["drift"])
    assert ladder["calibration"]["source"] in ("spec", "search")
    page = (out / "index.html").read_text()
    assert page.count("<img ") == page.count('<img src="data:image/png;base64,') >= 12
    assert not re.search(r'(src|href)="(http|//)', page)  # nothing fetched from elsewhere
    for heading in ("The ladder", "hand vs trained", "Surgery", "maximizing inputs"):
        assert heading in page
    # every number beside its baseline, and the surprising one explained
    for sentence in ("Guessing gets 10%", "random weights score about 0.16", "0.1 to each of the ten digits",
                     "can fall below guessing", "what any features give", "Weight pictures: blue +, orange -"):
        assert sentence in page, sentence
    numbers = json.loads((out / "report.json").read_text())
    assert set(numbers) == {"ladder", "comparison", "surgery"}
    assert "| 5. trained |" in (out / "ladder.md").read_text() and "train (1500 digits" in result.output
