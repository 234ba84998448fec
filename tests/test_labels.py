"""Output units answer by name, in every command that scores.

Oracles: a spec whose digit tables are shuffled is the same network with its output rows permuted
and named, so every score must be exactly the ordered spec's; a spec with three of its digits is
the ten-digit net with only those rows, so it must score exactly like the ten-digit net narrowed
with ``--digits``; a margin decomposition must add up to the margin measured on the outputs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from handnet import build
from handnet.cli import main
from handnet.data.mnist import load_splits
from handnet.errors import HandnetError, SpecError
from handnet.nn.evaluate import evaluate
from handnet.nn.labels import output_labels, parse_digits, readout
from handnet.nn.network import Layer, Network

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "weight_specs" / "3b1b.toml"
ORDER = ["0", "1", "7", "2", "3", "4", "5", "6", "8", "9"]  # the learner's order: 0, 1, 7 first


def digit_tables(text: str) -> tuple[str, dict]:
    """The spec up to its [digits] tables, and each [digits.N] table by name."""
    head, tables = text.split("\n[digits.", 1)
    blocks = re.split(r"\n(?=\[digits\.)", "[digits." + tables)
    return head, {re.match(r"\[digits\.(\w+)\]", b).group(1): b for b in blocks}


def write_spec(folder: Path, name: str, order, sizes=None) -> Path:
    head, tables = digit_tables(SPEC.read_text())
    if sizes is not None:
        head = head.replace("sizes = [784, 16, 16, 10]", f"sizes = {sizes}")
    path = folder / name
    path.write_text(head + "\n" + "\n".join(tables[d].rstrip() for d in order) + "\n")
    return path


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("specs")
    return {
        "ordered": SPEC,
        "shuffled": write_spec(folder, "shuffled.toml", ORDER),
        "three": write_spec(folder, "three.toml", ["7", "0", "1"], "[784, 16, 16, 3]"),
    }


@pytest.fixture(scope="module")
def nets(specs):
    return {name: build(path) for name, path in specs.items()}


@pytest.fixture(scope="module")
def test_set():
    return load_splits().test


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# ---- shuffled digit tables score exactly like ordered ones -----------------------------------------
def test_the_shuffled_spec_is_the_ordered_net_with_its_outputs_permuted(nets):
    ordered, shuffled = nets["ordered"], nets["shuffled"]
    assert shuffled.layers[-1].units == tuple(ORDER)
    rows = [int(d) for d in ORDER]
    np.testing.assert_array_equal(shuffled.layers[-1].weights, ordered.layers[-1].weights[rows])
    assert output_labels(shuffled) == tuple(rows)


def test_a_shuffled_spec_scores_exactly_like_the_ordered_one(nets, test_set):
    a, b = evaluate(nets["ordered"], test_set), evaluate(nets["shuffled"], test_set)
    np.testing.assert_array_equal(a.confusion, b.confusion)
    np.testing.assert_array_equal(a.predictions, b.predictions)
    assert a.per_digit == b.per_digit and a.accuracy == b.accuracy
    np.testing.assert_array_equal(nets["shuffled"].predict(test_set.X), nets["ordered"].predict(test_set.X))
    assert nets["shuffled"].accuracy(test_set.X, test_set.y) == nets["ordered"].accuracy(test_set.X, test_set.y)


def test_compare_errors_and_diff_match_by_name(nets, test_set):
    from handnet.compare.comparison import compare
    from handnet.tune.diff import compare_versions
    from handnet.tune.mistakes import analyze_errors

    small = test_set.subset(np.arange(0, len(test_set), 4))
    result = compare(nets["ordered"], nets["shuffled"], small.X, small.y)
    assert result.agreement == 1.0
    np.testing.assert_array_equal(result.a.accuracy.confusion, result.b.accuracy.confusion)
    assert result.a.noise["digits"]["predicted_counts"] == result.b.noise["digits"]["predicted_counts"]
    assert [u["drop"] for u in result.a.ablation["units"]] == [u["drop"] for u in result.b.ablation["units"]]
    ea, eb = analyze_errors(nets["ordered"], test_set), analyze_errors(nets["shuffled"], test_set)
    assert [(g.true, g.predicted, g.count) for g in ea.groups] == [(g.true, g.predicted, g.count) for g in eb.groups]
    for ga, gb in zip(ea.groups[:5], eb.groups[:5]):
        np.testing.assert_allclose(ga.contributions, gb.contributions, atol=1e-12)
        assert ga.margin == pytest.approx(gb.margin, abs=1e-12)
    versions = compare_versions(nets["ordered"], nets["shuffled"], test_set)
    assert len(versions.flips.broke) == len(versions.flips.fixed) == 0
    assert versions.eval_a.accuracy == versions.eval_b.accuracy


def test_sweep_and_watch_score_a_shuffled_spec_like_the_ordered_one(specs, test_set, tmp_path):
    from handnet.tune.sweep import sweep
    from handnet.tune.watch import Watcher

    path = "edges.top_slope.fraction"
    ordered = sweep(specs["ordered"], path, [0.2, 0.3], test_set)
    shuffled = sweep(specs["shuffled"], path, [0.2, 0.3], test_set)
    np.testing.assert_array_equal(ordered.per_digit, shuffled.per_digit)
    watched = Watcher(specs["shuffled"], test_set, None, check=False).step(draw=False)
    assert watched.evaluation.accuracy == evaluate(build(specs["ordered"]), test_set).accuracy


def test_ladder_rungs_from_the_spec_score_a_shuffled_spec_like_the_ordered_one(specs):
    from handnet.compare.ladder import scored_digits, spec_rungs

    train = load_splits().train.subset(np.arange(0, 4000, 8))
    a = spec_rungs(specs["ordered"], train, quantiles=(0.6,))
    b = spec_rungs(specs["shuffled"], train, quantiles=(0.6,), read=scored_digits(specs["shuffled"]))
    assert a[2]["train_accuracy"] == b[2]["train_accuracy"]
    for na, nb in zip(a[:2], b[:2]):
        np.testing.assert_array_equal(na.predict(train.X), nb.predict(train.X))


def test_training_from_a_shuffled_net_trains_each_label_on_its_named_unit(nets):
    # permuting the output rows with their names makes training exactly permutation-equivariant
    from handnet.nn.train import TrainConfig, train

    data = load_splits().train.subset(np.arange(0, 4000, 10))
    config = TrainConfig(epochs=2, dtype="float64", augment=False, batch_size=50)
    a = train(data.X, data.y, config, init=nets["ordered"], freeze=["hidden"]).network
    b = train(data.X, data.y, config, init=nets["shuffled"], freeze=["hidden"]).network
    rows = [int(d) for d in ORDER]
    np.testing.assert_allclose(b.layers[-1].weights, a.layers[-1].weights[rows], atol=1e-10)
    np.testing.assert_array_equal(a.predict(data.X), b.predict(data.X))


# ---- a network with some of the digits ---------------------------------------------------------------
def test_a_three_digit_spec_scores_on_exactly_the_test_digits_of_its_labels(nets, test_set):
    three = evaluate(nets["three"], test_set)
    wanted = np.flatnonzero(np.isin(test_set.y, [0, 1, 7]))
    np.testing.assert_array_equal(three.index, wanted)
    assert three.n == len(wanted) and three.scope.labels == (0, 1, 7)
    assert set(np.unique(three.predictions)) <= {0, 1, 7}
    # the same rows inside the ten-digit net, narrowed to 0, 1, 7: exactly the same answers
    narrowed = evaluate(nets["ordered"], test_set, digits=(0, 1, 7))
    np.testing.assert_array_equal(three.predictions, narrowed.predictions)
    np.testing.assert_array_equal(three.confusion, narrowed.confusion)


def test_every_scoring_command_says_which_labels_and_how_many_digits(specs):
    n = int(np.isin(load_splits().test.y, [0, 1, 7]).sum())
    sentence = f"scored on labels 0, 1, 7 (the network's 3 outputs): {n} of the 1,000 test digits"
    for args in (["evaluate", specs["three"]], ["errors", specs["three"], "--top", "1"]):
        text = run(*args)
        assert text.exit_code == 0, text.output
        assert sentence in text.output
        data = json.loads(run(*args, "--json").stdout)
        assert data["labels"] == [0, 1, 7] and data["scope"]["n_digits"] == n and data["scope"]["n_available"] == 1000
    narrowed = json.loads(run("evaluate", specs["ordered"], "--digits", "7,0,1", "--json").stdout)
    assert narrowed["labels"] == [0, 1, 7] and "chosen with --digits" in narrowed["scope"]["how"]
    diff = json.loads(run("diff", specs["ordered"], specs["three"], "--json").stdout)
    assert diff["labels"] == [0, 1, 7] and diff["scope"]["how"].startswith("labels 0, 1, 7 (the labels both")
    sweep = run("sweep", specs["three"], "--set", "edges.top_slope.fraction=0.2:0.3:2", "-o",
                Path(specs["three"]).with_suffix(".png"), "--json")
    assert json.loads(sweep.stdout)["labels"] == [0, 1, 7]


def test_digits_option_errors_are_one_line():
    for value, message in (("0,x", "expected digits 0-9 separated by commas"), ("12", "expected digits 0-9")):
        result = run("evaluate", SPEC, "--digits", value)
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    with pytest.raises(HandnetError, match="expected digits 0-9"):
        parse_digits("١")  # an Arabic-Indic one is not an ASCII digit


def test_training_a_fresh_net_on_chosen_digits_names_its_outputs(tmp_path):
    out = tmp_path / "three.npz"
    result = run("train", "--digits", "0,1,7", "--epochs", "1", "--limit", "400", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    net = Network.load(out)
    assert net.layers[-1].units == ("0", "1", "7") and net.sizes[-1] == 3
    assert summary["labels"] == [0, 1, 7] and summary["n_test"] == int(np.isin(load_splits().test.y, [0, 1, 7]).sum())
    assert "only labels 0, 1, 7" in summary["data"]


# ---- names that are not digits, and label = N ---------------------------------------------------------
CORNER = """
[edges.top]
strokes = [{ line = [[6, 8], [6, 20]] }]
[edges.left]
strokes = [{ arc = { center = [14, 14], radii = [6, 6], start = 90, end = 270 } }]
[parts.corner]
all_of = ["top", "left"]
[parts.bar]
all_of = ["top"]
[digits.corner]
any_of = ["corner"]
[digits.1]
any_of = ["bar"]
none_of = ["corner"]
"""


def test_outputs_named_otherwise_are_refused_for_scoring_unless_mapped(tmp_path):
    plain = tmp_path / "corner.toml"
    plain.write_text(CORNER)
    result = run("evaluate", plain)
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "output unit digits:corner is not named after a digit" in result.output
    assert "[digits.corner] label = 7" in result.output
    # mapped with label = 7: scored on 1s and 7s, and the saved .npz keeps the map
    mapped = tmp_path / "mapped.toml"
    mapped.write_text(CORNER.replace('[digits.corner]\nany_of = ["corner"]', '[digits.corner]\nany_of = ["corner"]\nlabel = 7'))
    net = build(mapped)
    assert net.metadata["labels"] == {"corner": 7, "1": 1}
    saved = Network.load(net.save(tmp_path / "mapped.npz"))
    assert output_labels(saved) == (7, 1)
    top = np.zeros((1, 784)); top[0, 6 * 28 + 8 : 6 * 28 + 21] = 1.0
    assert saved.predict(top).tolist() == [net.predict(top)[0]] and set(saved.predict(np.zeros((2, 784)))) <= {1, 7}
    data = json.loads(run("evaluate", tmp_path / "mapped.npz", "--json").stdout)
    assert data["labels"] == [1, 7]


@pytest.mark.parametrize("edit, message", [
    ('[parts.corner]\nall_of = ["top", "left"]\nlabel = 3', "parts.corner.label: only output units (in [digits]) answer a label"),
    ('[digits.corner]\nany_of = ["corner"]\nlabel = 12', "digits.corner.label: expected a digit 0-9, got 12"),
    ('[digits.1]\nany_of = ["bar"]\nlabel = 4', "digits.1.label: the unit is named 1, so it answers 1"),
    ('[digits.corner]\nany_of = ["corner"]\nlabel = 1', "digits.1: digits.corner already answers 1"),
])
def test_label_mistakes_are_spec_errors(tmp_path, edit, message):
    path = tmp_path / "bad.toml"
    text = CORNER
    table = edit.split("\nlabel")[0]
    path.write_text(text.replace(table, edit))
    with pytest.raises(SpecError) as error:
        build(path)
    assert any(message in problem for problem in error.value.problems), error.value.problems


def test_readout_refuses_duplicates_and_outputs_beyond_nine():
    twice = Network([Layer("digits", np.zeros((2, 4)), np.zeros(2), "softmax", ("7", "x"))], (2, 2),
                    {"labels": {"x": 7}})
    with pytest.raises(HandnetError, match="digits:7 and digits:x both answer 7"):
        readout(twice)
    big = Network([Layer("out", np.zeros((11, 4)), np.zeros(11), "softmax")], (2, 2))
    with pytest.raises(HandnetError, match="out:10 answers 10, which is not a digit"):
        readout(big)
    assert readout(big, digits=(3, 4)).columns == (3, 4)


# ---- explanations that add up -------------------------------------------------------------------------
def test_every_error_decomposition_sums_to_its_margin(nets, test_set):
    from handnet.tune.mistakes import analyze_errors

    net = nets["shuffled"]  # output units out of order: the margin must take each label's own unit
    analysis = analyze_errors(net, test_set)
    acts, zs = net.forward(test_set.images, preactivations=True)  # the digits as stored: uint8, scaled by 1/255
    column = {int(u): k for k, u in enumerate(net.layers[-1].units)}
    for group in analysis.groups:
        measured = np.mean(zs[-1][group.indices, column[group.predicted]] - zs[-1][group.indices, column[group.true]])
        terms, bias, (n_rest, rest) = group.decomposition()
        assert sum(c for _, c in terms) + bias + rest == pytest.approx(measured, abs=1e-9)
        assert group.margin == pytest.approx(measured, abs=1e-9)
        assert n_rest == 16 - len(terms)
        sizes = [abs(c) for _, c in terms]
        assert sizes == sorted(sizes, reverse=True) and min(sizes) >= max(np.abs(np.delete(
            group.contributions, [list(group.units).index(u) for u, _ in terms])), default=0)
    text = analysis.format_text(top=1)
    line = next(x for x in text.splitlines() if "margin of" in x)
    assert re.search(r"\+ the other 13 units [+-]\d+\.\d\d$", line) and "and the rest" not in line


# ---- unit references ----------------------------------------------------------------------------------
@pytest.mark.parametrize("args, hint", [
    (["explain", SPEC, "parts:upper_lop"], "(did you mean parts:upper_loop?)"),
    (["explain", SPEC, "edges:upper_loop"], "(did you mean parts:upper_loop?)"),
    (["explain", SPEC, "upper_lop"], "(did you mean parts:upper_loop?)"),
    (["explain", SPEC, "prts:round_top"], "unknown layer 'prts' (did you mean parts:round_top?)"),
    (["render", "weights", SPEC, "--unit", "parts:lower_lop"], "(did you mean parts:lower_loop?)"),
    (["render", "diagram", SPEC, "--unit", "parts:diagnal"], "(did you mean parts:diagonal?)"),
])
def test_every_command_that_takes_a_unit_suggests_the_closest_name(args, hint, tmp_path):
    result = run(*args, *(["-o", tmp_path] if args[0] == "render" else []))
    assert result.exit_code == 1 and hint in result.output, result.output
    assert result.output.count("\n") == 1


def test_the_diagram_highlights_the_paths_of_the_chosen_unit(nets, test_set):
    from matplotlib.collections import LineCollection

    from handnet.viz.gallery import diagram_figure

    net = nets["ordered"]
    ref = net.unit("parts:upper_loop")
    fig = diagram_figure(net, test_set.X[3], unit="parts:upper_loop")
    ax = fig.axes[0]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    into, out_of = lines[1], lines[2]  # edges -> parts, parts -> digits
    x_unit, y_unit = None, None
    bright = [(seg, col) for seg, col in zip(into.get_segments(), into.get_colors()) if col[3] > 0.2]
    ends = {tuple(np.round(seg[1], 6)) for seg, _ in bright}
    assert len(ends) == 1  # every bright connection into the parts ends at the one unit
    (x_unit, y_unit), = ends
    reads = np.flatnonzero(net.layers[1].weights[ref.index])
    assert len(bright) == len(reads)  # exactly the edges it reads (those lit on this digit)
    starts = [seg[0] for seg, col in zip(out_of.get_segments(), out_of.get_colors()) if col[3] > 0.2]
    assert starts and all(abs(s[1] - y_unit) < 1e-6 for s in starts)  # bright ones above start at the unit
    assert "paths through parts:upper_loop" in fig.axes[0].get_title()
    plain = diagram_figure(net, test_set.X[3])
    assert all(c[3] > 0.2 for coll in plain.axes[0].collections if isinstance(coll, LineCollection)
               for c in coll.get_colors())  # nothing faded without --unit
