"""Surgery and the ladder, on small data so they stay fast. They need the trainer and the spec compiler."""

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import handnet.nn.train as train_module
from handnet.cli import main
from handnet.compare.ladder import spec_rungs
from handnet.compare.surgery import surgery

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "weight_specs" / "3b1b.toml"
FAST = train_module.TrainConfig(epochs=3)


@pytest.fixture(scope="module")
def small(small_splits):
    return small_splits  # 1,500 training and 400 test digits (tests/conftest.py)


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


@pytest.mark.slow
def test_the_study_runs_the_ladder_and_writes_one_self_contained_page(demo_run, small):
    """The study and its page as ``handnet demo`` wrote them (shared with the demo's test: tests/conftest.py;
    1,500 training and 400 test digits, one seed, 8 epochs); ``handnet report`` writes the same (next test)."""
    assert demo_run.exit_code == 0, demo_run.output
    out = demo_run.out / "report"
    numbers = json.loads(demo_run.stdout)  # the demo's --json: the report's numbers, as report.json has them
    ladder = numbers["ladder"]
    assert [r["label"] for r in ladder["rungs"]] == ["lesson", "spec", "calibrated", "readout", "fine-tuned", "trained",
                                                                        "trained, lesson's recipe"]
    by = {r["label"]: r for r in ladder["rungs"]}
    # hand-drawn edges are strokes; the readout rung keeps them frozen; a few epochs of training do not make edges
    assert by["spec"]["edge_likeness_median"] > 0.8 > by["trained"]["edge_likeness_median"]
    assert by["readout"]["edge_likeness"]["edges"] == by["spec"]["edge_likeness"]["edges"]
    assert len(ladder["drift"]) == 32 and all(-1 <= d["cosine_mean"] <= 1 for d in ladder["drift"])
    assert ladder["calibration"]["source"] in ("spec", "search")
    page = (out / "index.html").read_text()
    assert page.count("<img ") == page.count('<img src="data:image/png;base64,') >= 12
    assert not re.search(r'(src|href)="(http|//)', page)  # nothing fetched from elsewhere
    for heading in ("The ladder", "hand vs trained", "Surgery", "maximizing inputs"):
        assert heading in page
    # every number beside its baseline, and the surprising one explained
    for sentence in ("Guessing gets 10%", "random weights 0.16", "0.03 is random weights'", "clears 0.50",
                     "Rung 0 is the lesson's story", "0.1 to each of the ten digits",
                     "can fall below guessing", "what any features give", "Weight pictures: green +, magenta -"):
        assert sentence in page, sentence
    assert {"verdict", "ladder", "comparison", "surgery", "memorization", "noise", "selectivity"} <= set(numbers)
    # the hand net's edges and parts, each digit's rate; the table's counts are the test split's
    table = numbers["selectivity"]
    assert len(table["units"]) == 32 and table["counts"] == {str(d): int((small[1].labels == d).sum()) for d in range(10)}
    assert "What each hand unit fires on" in page and "the baseline" in page
    assert "| unit | all |" in (out / "selectivity.md").read_text()
    panel = numbers["noise"]["networks"]
    assert set(panel) == {"hand", "twin", "twin, lesson's recipe"}
    assert all(set(kinds) == {"digits", "noise", "ink_noise", "blobs", "maximized"} for kinds in panel.values())
    assert panel["twin"]["maximized"]["n"] == 10 and "noise test, on one scale" in page
    memo = numbers["memorization"]
    assert len(memo["real"]) == len(memo["shuffled"]) == demo_run.EPOCHS and memo["own_label_share"] < 0.2
    assert "Memorization: real against shuffled labels" in page
    assert numbers["verdict"] == numbers["comparison"]["verdict"] and numbers["verdict"]["claims"]
    (base,) = [c for c in numbers["verdict"]["claims"] if c["topic"] == "edge-likeness baselines"]
    b = base["baselines"]
    # smoother, more digit-like, higher: on both measures
    assert b["stroke fit: white noise"] < b["stroke fit: blurred noise"] < b["stroke fit: principal components"]
    assert (b["little-edge score: white noise"] < b["little-edge score: blurred noise"]
            < b["little-edge score: principal components"] < 0.5)
    assert "Verdict" in page and "little edges" in page
    # the CKA and matching references: random nets of the same shape (one seed here: no second trained seed)
    assert numbers["comparison"]["baselines"]["second"] is False
    assert "B vs random nets (mean, max)" in page
    ladder_md = (out / "ladder.md").read_text()
    assert "| 5. trained |" in ladder_md and "| 0. lesson |" in ladder_md and "train (1500 digits" in ladder_md


@pytest.mark.slow
def test_report_command_writes_the_study_as_a_page_json_and_tables(demo_run, small_data_dir, tmp_path, monkeypatch):
    """``handnet report`` end to end, but for the study itself: ``run_study`` on the same spec, digits and
    recipe as the shared demo ran it gives the same study (the ladder reuses the demo's twin only when it is
    the same net: test_the_ladder_reuses_...), so the demo's is handed back, and the page, report.json and the
    tables are written from it here, in another palette."""
    import handnet.compare.study
    from handnet.nn.train import TrainConfig

    assert demo_run.exit_code == 0, demo_run.output
    calls = []

    def run_study(spec, splits, **kwargs):
        calls.append((spec, splits.description, kwargs))
        return demo_run.study()

    monkeypatch.setattr(handnet.compare.study, "run_study", run_study)
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", str(SPEC), "--data", str(small_data_dir), "--seeds", "1",
                                       "--epochs", str(demo_run.EPOCHS), "--palette", "colorblind", "-o", str(out)])
    assert result.exit_code == 0, result.output
    (spec, data, kwargs), = calls
    assert spec == str(SPEC) and data == json.loads(demo_run.stdout)["data"]
    assert kwargs["seeds"] == 1 and kwargs["config"] == TrainConfig().replace(epochs=demo_run.EPOCHS)
    assert kwargs["layer"] == "hidden1" and kwargs["digits"] is None
    numbers = json.loads((out / "report.json").read_text())
    assert set(numbers) == {"verdict", "ladder", "comparison", "surgery", "memorization", "noise", "selectivity"}
    demo_numbers = json.loads(demo_run.stdout)
    assert all(numbers[key] == demo_numbers[key] for key in numbers)  # every number of the study, written out
    page = (out / "index.html").read_text()
    assert page.count("<img ") == page.count('<img src="data:image/png;base64,') >= 12
    assert not re.search(r'(src|href)="(http|//)', page)
    assert "Weight pictures: blue +, orange -" in page and "Weight pictures: green +" not in page  # --palette
    assert page.count("<img ") == (demo_run.out / "report" / "index.html").read_text().count("<img ")
    assert "| unit | all |" in (out / "selectivity.md").read_text()
    ladder_md = (out / "ladder.md").read_text()
    assert "| 5. trained |" in ladder_md and "| 0. lesson |" in ladder_md and "train (1500 digits" in result.output
    assert "Verdict, hand-designed (rung 1) vs trained" in result.output


# ---- surgery that says what it means -------------------------------------------------------------
@pytest.fixture(scope="module")
def hand():
    from handnet import build

    return build(SPEC)


def test_a_hand_layer_built_on_other_units_is_swapped_with_the_hand_layers_under_it(small, twin, hand):
    train_set, test_set = small
    one = train_module.TrainConfig(epochs=1)
    result = surgery(hand, twin, train_set.X, train_set.y, test_set.X, test_set.y, layer="parts", config=one)
    assert result.swapped == ["edges", "parts"] and result.layer == "edges + parts -> hidden1 + hidden2"
    assert "built on the hand layer edges, not on the trained net's hidden1" in result.note
    put_in = result.networks["hand, no refit"]
    for k in (0, 1):  # the hand edges and parts both went in, the trained output layer stayed
        assert np.array_equal(put_in.layers[k].weights, hand.layers[k].weights)
    assert np.array_equal(put_in.layers[2].weights, twin.layers[2].weights)
    alone = surgery(hand, twin, train_set.X, train_set.y, test_set.X, test_set.y, layer="parts", config=one, alone=True)
    assert alone.swapped == ["parts"] and "swapped alone, as asked" in alone.note
    assert np.array_equal(alone.networks["hand, no refit"].layers[0].weights, twin.layers[0].weights)
    # the first layer reads pixels in both nets: nothing to say
    first = surgery(hand, twin, train_set.X, train_set.y, test_set.X, test_set.y, layer="edges", config=one)
    assert first.swapped == ["edges"] and first.note == ""
    data = first.to_dict()
    assert data["units"] and {"unit", "hand_unit", "recovered", "loss_ablated"} <= set(data["units"][0])


def test_unit_substitution_recovers_all_of_a_units_job_when_the_hand_unit_is_that_unit(small, twin):
    from handnet.compare.surgery import substitute_units
    from handnet.nn.labels import readout

    train_set, test_set = small
    # the "hand" net: the trained net with its second hidden layer's units shuffled, so each trained
    # unit's match is itself, found by the assignment; a dead unit stands in for one of them
    order = np.random.default_rng(1).permutation(16)
    layer = twin.layers[1]
    shuffled = twin.replace_layer(1, layer.replace(weights=layer.weights[order], biases=layer.biases[order],
                                                   units=tuple(layer.units[k] for k in order)))
    subs = substitute_units(shuffled, twin, 1, train_set.X, test_set.X, test_set.y, readout(twin))
    assert [s.hand_unit for s in subs] == [f"hidden2:{layer.units[j]}" for j in range(16)]
    for s in subs:
        assert s.correlation == pytest.approx(1.0) and s.scale == pytest.approx(1.0, abs=1e-6)
        assert s.shift == pytest.approx(0.0, abs=1e-6) and s.loss_substituted == pytest.approx(s.loss_trained, abs=1e-9)
        assert s.recovered is None or s.recovered == pytest.approx(1.0, abs=1e-6)
    dead = shuffled.replace_layer(1, shuffled.layers[1].replace(
        weights=np.zeros_like(layer.weights), biases=np.zeros_like(layer.biases)))
    for s in substitute_units(dead, twin, 1, train_set.X, test_set.X, test_set.y, readout(twin)):
        # a constant hand unit rescaled is the trained unit's mean: no better than ablating it
        assert s.loss_substituted == pytest.approx(s.loss_ablated, abs=1e-9)
        assert s.recovered is None or s.recovered == pytest.approx(0.0, abs=1e-6)


def test_surgery_command_says_when_the_layer_below_differs_and_lists_unit_substitutions(small, twin, hand, tmp_path):
    train_set, test_set = small
    hand_path, twin_path = hand.save(tmp_path / "hand.npz"), twin.save(tmp_path / "twin.npz")
    from handnet.data.mnist import write_idx

    folder = tmp_path / "digits"
    for split, dataset in zip(("train", "test"), (train_set, test_set)):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", dataset.images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", dataset.labels)
    result = CliRunner().invoke(main, ["surgery", str(hand_path), str(twin_path), "--layer", "parts", "--epochs", "1",
                                       "--data", str(folder), "--unit", "hidden2:3"])
    assert result.exit_code == 0, result.output
    assert "note: the hand layer parts was built on the hand layer edges" in result.output
    assert "hidden2:3 <- parts:" in result.output and ("recovers" in result.output or "costs nothing" in result.output)
    typo = CliRunner().invoke(main, ["surgery", str(hand_path), str(twin_path), "--unit", "hiden2:3"])
    assert typo.exit_code == 1 and "did you mean hidden2" in typo.output


@pytest.fixture(scope="module")
def one_epoch_ladder(small):
    """The ladder of the shipped spec, one seed, one epoch per training run."""
    from handnet.compare.ladder import ladder

    train_set, test_set = small
    return ladder(SPEC, train_set, test_set, seeds=1, config=train_module.TrainConfig(epochs=1))


def test_readout_and_fine_tuned_rungs_start_from_the_spec_net_not_the_calibrated_one(small, one_epoch_ladder):
    _, test_set = small
    lad = one_epoch_ladder
    spec_net = lad.rung("spec").networks[0]
    readout_net = lad.rung("readout").networks[0]
    # the readout rung keeps rung 1's layers below the output exactly, biases included (not rung 2's calibrated ones)
    for a, b in zip(spec_net.layers[:-1], readout_net.layers[:-1]):
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.biases, b.biases)
    assert not np.array_equal(lad.rung("calibrated").networks[0].layers[0].biases, readout_net.layers[0].biases)
    # drift is measured from rung 1: with one epoch the fine-tuned net stays close to the spec's weights
    assert np.mean([d["cosine_mean"] for d in lad.drift]) > 0.5
    # rung 0 is the lesson's story with no data, whatever the spec: lesson.toml compiled from its text, scored alike
    from handnet import build
    from handnet.compare.ladder import LESSON_SPEC, ladder_markdown

    zero = lad.rung("lesson")
    lesson = build(LESSON_SPEC)
    assert zero.to_dict()["number"] == "0" and zero.seeds == [] and "no data" in zero.description
    assert np.array_equal(zero.networks[0].layers[0].weights, lesson.layers[0].weights)
    assert zero.accuracies == [lesson.accuracy(test_set.X, test_set.y)]
    assert [r.label for r in lad.rungs][:2] == ["lesson", "spec"]
    # rung 5b: the twin trained the lesson's way (sigmoid outputs, quadratic cost), one net per seed
    lesson_recipe = lad.rung("trained, lesson's recipe")
    assert lesson_recipe.seeds == [0] and lesson_recipe.networks[0].layers[-1].activation == "sigmoid"
    assert lesson_recipe.networks[0].layers[-1].units == spec_net.layers[-1].units
    table = ladder_markdown(lad)
    assert "| 0. lesson | the lesson's story, no data at all (lesson.toml) |" in table
    assert "| 5b. trained, lesson's recipe |" in table and "little-edge score, hidden layer 1" in table


def test_the_ladder_s_reference_rung_can_be_left_out_or_named_and_a_missing_one_is_one_line(small, tmp_path):
    from handnet.compare.ladder import ladder

    train_set, test_set = small
    seven = ROOT / "weight_specs" / "seven-segment.toml"
    quick = train_module.TrainConfig(epochs=1)
    lad = ladder(seven, train_set, test_set, seeds=1, config=quick, reference=None)
    assert not lad.has("lesson") and lad.rungs[0].label == "spec"
    # the spec itself as the reference: the same net twice, said so; other hidden sizes than the lesson's are fine
    lad = ladder(seven, train_set, test_set, seeds=1, config=quick, reference=seven)
    assert "the same spec as rung 1" in lad.rung("lesson").description
    assert lad.rung("lesson").accuracies == lad.rung("spec").accuracies
    with pytest.raises(Exception, match="nope.toml: the ladder's rung 0 reference spec is missing"):
        ladder(seven, train_set, test_set, seeds=1, config=quick, reference=tmp_path / "nope.toml")


def _forget_runs() -> None:
    """Empty the cache of trained networks (``compare.runs``; the workers share its folder)."""
    import shutil

    from handnet.compare.runs import runs_dir

    shutil.rmtree(runs_dir(), ignore_errors=True)


def _same_weights(a, b) -> bool:
    return all(np.array_equal(x.weights, y.weights) and np.array_equal(x.biases, y.biases)
               for x, y in zip(a.layers, b.layers))


def test_ladder_and_surgery_in_parallel_processes_equal_the_serial_run_bit_for_bit(small):
    from handnet.compare.ladder import ladder

    train_set, test_set = small
    config = train_module.TrainConfig(epochs=1)
    _forget_runs()  # every run trained here, serially, then again in the workers: none from the cache
    serial = ladder(SPEC, train_set, test_set, seeds=2, config=config, jobs=1)
    _forget_runs()
    steps = []
    parallel = ladder(SPEC, train_set, test_set, seeds=2, config=config, jobs=2, progress=steps.append)
    assert sum(steps) == 2 + 4 * 2  # every network reported once
    for a, b in zip(serial.rungs, parallel.rungs):
        assert len(a.networks) == len(b.networks)
        assert all(_same_weights(x, y) for x, y in zip(a.networks, b.networks)), a.label
    assert serial.to_dict() == parallel.to_dict()
    # the seeds differ from each other (each run got its own seed, not a copy of one)
    assert not _same_weights(*parallel.rung("trained").networks)

    hand, twin = serial.rung("spec").networks[0], serial.rung("trained").networks[0]
    args = (hand, twin, train_set.X, train_set.y, test_set.X, test_set.y)
    _forget_runs()
    one = surgery(*args, config=config, jobs=1)
    _forget_runs()
    two = surgery(*args, config=config, jobs=2)
    assert one.to_dict() == two.to_dict()
    assert all(_same_weights(one.networks[k], two.networks[k]) for k in one.networks)


def test_the_ladder_reuses_a_twin_trained_as_its_seed_0_only_when_the_provenance_matches(small, one_epoch_ladder,
                                                                                          monkeypatch):
    import dataclasses

    from handnet.compare import ladder as ladder_module

    train_set, test_set = small
    config = train_module.TrainConfig(epochs=1)
    twin = train_module.train(train_set.X, train_set.y, config.replace(seed=0)).network  # as the demo trains it
    fresh = one_epoch_ladder  # ladder(SPEC, train_set, test_set, seeds=1, config=config), trained afresh
    assert _same_weights(fresh.rung("trained").networks[0], twin)  # the same net: training it twice is waste
    calls = []
    real_train = ladder_module._train
    monkeypatch.setattr(ladder_module, "_train", lambda *a, **k: calls.append(k) or real_train(*a, **k))
    reused = ladder_module.ladder(SPEC, train_set, test_set, seeds=1, config=config, twin=twin)
    assert len(calls) == 3 and reused.rung("trained").networks[0] is twin
    assert reused.to_dict() == fresh.to_dict()
    # another recipe or seed is not the ladder's twin: trained afresh
    other = train_module.train(train_set.X, train_set.y, dataclasses.replace(config, seed=1)).network
    assert not ladder_module.trained_like(other, config, fresh.rung("spec").networks[0])
    calls.clear()
    ladder_module.ladder(SPEC, train_set, test_set, seeds=1, config=config, twin=other)
    assert len(calls) == 4


def test_a_twin_the_ladder_reuses_is_kept_as_its_seed_0_run(small, tmp_path, monkeypatch):
    """The demo's twin, reused by the demo's ladder, is kept under the name of the run it stands for:
    the report after the demo finds it there instead of training the same network again."""
    from handnet.compare import ladder as ladder_module

    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path))
    train_set, test_set = small
    config = train_module.TrainConfig(epochs=1)
    twin = train_module.train(train_set.X, train_set.y, config.replace(seed=0), data=train_set.describe()).network
    ladder_module.ladder(SPEC, train_set, test_set, seeds=1, config=config, twin=twin)
    spec_net = ladder_module.spec_rungs(SPEC, train_set)[0]

    def forbidden(*args, **kwargs):
        raise AssertionError("trained again")

    with monkeypatch.context() as m:
        m.setattr(train_module, "train", forbidden)
        kept = ladder_module._train(train_set.X, train_set.y, dataclasses.replace(config, sizes=tuple(spec_net.sizes)),
                                    0, twin_of=spec_net, data=train_set.describe())
    assert _same_weights(kept, twin) and kept.metadata == twin.metadata


def test_a_training_run_kept_on_disk_is_the_network_trained_fresh(small, tmp_path, monkeypatch):
    from handnet.compare import ladder as ladder_module, runs, surgery as surgery_module

    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path))
    train_set, _ = small
    X, y, config = train_set.X[:600], train_set.y[:600], train_module.TrainConfig(epochs=1)
    fresh = ladder_module._train(X, y, config, 3)
    refit = surgery_module._refit(fresh, 0, X, y, config, 0)
    assert len(list(runs.runs_dir().glob("*.npz"))) == 2

    def forbidden(*args, **kwargs):
        raise AssertionError("trained again")

    with monkeypatch.context() as m:
        m.setattr(train_module, "train", forbidden)
        kept, kept_refit = ladder_module._train(X, y, config, 3), surgery_module._refit(fresh, 0, X, y, config, 0)
    for a, b in ((fresh, kept), (refit, kept_refit)):
        assert _same_weights(a, b) and a.metadata == b.metadata and a.input_shape == b.input_shape
        assert all(x.weights.dtype == z.weights.dtype and x.units == z.units for x, z in zip(a.layers, b.layers))
    # another seed, other labels or a damaged file: trained (again)
    assert not _same_weights(ladder_module._train(X, y, config, 4), fresh)
    assert runs.run_key("ladder", X, y, config) != runs.run_key("ladder", X, y[::-1], config)
    assert runs.run_key("twin", X, y, config, data="train") != runs.run_key("twin", X, y, config, data="sample")
    # what the trainer does not read is no part of the name: a start's history (its timings), a twin's weights
    timed = fresh.copy()
    timed.metadata["history"] = [{"seconds": 1.0}]
    assert runs.run_key("refit", X, y, config, init=timed) == runs.run_key("refit", X, y, config, init=fresh)
    timed.metadata["provenance"] = {"kind": "given"}  # the trained net's provenance quotes its start's
    assert runs.run_key("refit", X, y, config, init=timed) != runs.run_key("refit", X, y, config, init=fresh)
    other = fresh.replace_layer(0, fresh.layers[0].replace(weights=fresh.layers[0].weights + 1))
    assert runs.run_key("ladder", X, y, config, twin_of=other) == runs.run_key("ladder", X, y, config, twin_of=fresh)
    for path in runs.runs_dir().glob("ladder-*.npz"):
        path.write_bytes(b"damaged")
    assert _same_weights(ladder_module._train(X, y, config, 3), fresh)
