"""handnet check / build / explain: the spec as executable documentation, through the CLI."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from handnet.compiler.check import check_spec
from handnet.cli import main
from handnet.nn.network import Network

ROOT = Path(__file__).resolve().parent.parent

TINY = """
[edges.top]
strokes = [{ line = [[6, 8], [6, 20]] }]
[edges.bottom]
strokes = [{ line = [[22, 8], [22, 20]] }]
[parts.both]
all_of = ["top", "bottom"]
[digits.yes]
any_of = ["both"]
"""


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("path", sorted((ROOT / "weight_specs").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_specs_pass_their_own_check(path):
    from handnet.data.mnist import bundled_splits

    sample = bundled_splits()["train"].subset(slice(0, None, 8))  # only a fitted readout reads it
    report = check_spec(path, sample)
    assert report.ok, report.violations
    assert sum(len(u.cases) for u in report.units) > 3 * len(report.units)


def test_check_catches_a_unit_that_does_not_do_what_it_says(tmp_path):
    # the bias makes "both" fire on one edge alone: "only 1 of 2 required" must be flagged
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace('all_of = ["top", "bottom"]', 'all_of = ["top", "bottom"]\nbias = -2.0'))
    report = check_spec(path)
    assert not report.ok
    assert [(u, c["stimulus"]) for u, c in report.violations] == [
        ("parts:both", "only 1 of 2 required: top"), ("parts:both", "only 1 of 2 required: bottom")]
    result = run("check", path, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["n_violations"] == 2


def test_check_command_passes_and_lists_every_unit(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    result = run("check", path)
    assert result.exit_code == 0, result.output
    assert "ok   edges:top" in result.output and "0 violations. Every unit fired (> 0.5)" in result.output
    data = json.loads(run("check", path, "--json").output)
    assert [u["unit"] for u in data["units"]] == ["edges:top", "edges:bottom", "parts:both", "digits:yes"]


def test_build_writes_a_network_with_provenance(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    out = tmp_path / "out" / "tiny.npz"
    result = run("build", spec, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["sizes"] == [784, 2, 1, 1] and summary["out"] == str(out)
    net = Network.load(out)
    assert net.metadata["provenance"]["sha256"] == summary["sha256"]
    assert net.metadata["units"]["edges:top"]["strokes"] == [{"line": [[6.0, 8.0], [6.0, 20.0]]}]


def test_explain_shows_geometry_rules_and_compiled_numbers(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    text = run("explain", spec).output
    assert "edges:top: bias" in text and "line (6, 8) - (6, 20)" in text
    assert "rule: all_of ['top', 'bottom']" in text and "edges:top +6.00" in text
    one = json.loads(run("explain", spec, "parts:both", "--json").output)
    assert [u["unit"] for u in one["units"]] == ["parts:both"] and one["units"][0]["bias"] == pytest.approx(-9.0)


@pytest.mark.parametrize("args, expected", [
    (["explain", "{spec}", "parts:bth"], "layer parts has no unit 'bth' (did you mean parts:both?); its units are both"),
    (["explain", "{spec}", "both"], "the units are edges:top, edges:bottom, parts:both, digits:yes"),
    (["build", "{dir}/missing.toml"], "missing.toml: no such spec file"),
    (["check", "{bad}"], "bad.toml: parts.both.all_of: unknown edges unit 'tpo' (did you mean 'top'?)"),
])
def test_errors_are_one_line_without_traceback(tmp_path, args, expected):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace('["top", "bottom"]', '["tpo", "bottom"]'))
    result = run(*[a.format(spec=spec, dir=tmp_path, bad=bad) for a in args])
    assert result.exit_code == 1
    assert expected in result.output and result.output.startswith("Error: ")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_commands_have_help_with_an_example():
    for name in ("build", "explain", "check"):
        result = run(name, "--help")
        assert result.exit_code == 0 and "Example:" in result.output


@pytest.mark.parametrize("doc", ["README.md", "docs/spec.md"])
def test_the_documented_example_specs_pass_check(doc, tmp_path):
    text = (ROOT / doc).read_text()
    start = text.index("```toml") + len("```toml")
    path = tmp_path / "example.toml"
    path.write_text(text[start:text.index("```", start)])
    assert check_spec(path).ok


def test_check_catches_what_threshold_calibration_breaks():
    # the documented example: data-set edge thresholds alone, a real (not constructed) regression
    from handnet.data.mnist import bundled_splits

    sample = bundled_splits()["train"].subset(slice(0, None, 4))
    report = check_spec(ROOT / "docs" / "examples" / "3b1b-calibrated.toml", sample)
    failing = {unit for unit, _ in report.violations}
    assert not report.ok and {"parts:lower_loop", "digits:8"} <= failing


# ---- every subset, real inhibition, unchecked units, reasons ------------------------------------------
THREE_SIDES = """
[edges.top]
strokes = [{ line = [[6, 8], [6, 20]] }]
[edges.bottom]
strokes = [{ line = [[22, 8], [22, 20]] }]
[edges.left]
strokes = [{ line = [[8, 6], [20, 6]] }]
[edges.box]                       # one stroke that runs over all three sides
strokes = [{ polyline = [[6, 20], [6, 8], [22, 8], [22, 20]] }]
[parts.frame]
at_least = 2
of = ["left", "top", "box"]
[digits.7]
any_of = ["frame"]
"""


def test_at_least_k_is_tested_on_every_k_minus_1_subset_not_only_the_first(tmp_path):
    # "box" is listed last: the first k-1 units (left) keep the frame off, but box's own stroke inks the
    # top edge as well, so the frame fires on box alone. Only a check of every subset can see it.
    path = tmp_path / "frame.toml"
    path.write_text(THREE_SIDES)
    report = check_spec(path)
    failing = [(u, c["stimulus"]) for u, c in report.violations]
    assert ("parts:frame", "only 1 of 2 required: box") in failing
    assert ("parts:frame", "only 1 of 2 required: left") not in failing
    stimuli = [c["stimulus"] for c in next(u for u in report.units if u.unit == "parts:frame").cases]
    assert {"only 1 of 2 required: left", "only 1 of 2 required: top", "only 1 of 2 required: box"} <= set(stimuli)
    assert {"inked: left, top (2 of 3)", "inked: left, box (2 of 3)", "inked: top, box (2 of 3)"} <= set(stimuli)
    result = run("check", path)
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "only 1 of 2 required: box" in x)
    why = result.output.splitlines()[result.output.splitlines().index(line) + 1]
    # the reason names the inputs that carried it, and which of them were not drawn
    assert "why: parts:frame fires at" in why and "edges:box" in why and "edges:top" in why
    assert "edges:top" in why.split("edges:box")[1] and "not drawn: it fires on this ink" in why
    assert "1 violation in 1 unit" in result.output  # singular, not "1 violations"


WEIGHTED = """
[edges.top]
strokes = [{ line = [[6, 8], [6, 20]] }]
[edges.stem]
strokes = [{ line = [[8, 14], [22, 14]] }]
[parts.top]
all_of = ["top"]
[parts.stem]
all_of = ["stem"]
[digits.7]
weights = { top = 8, stem = -0.2 }
bias = -2
"""


def test_an_inhibitor_must_bring_the_unit_below_half_or_by_the_stated_margin(tmp_path):
    # a weight of -0.2 against a digit at 0.998 is a trivial drop: it must be reported, not passed
    path = tmp_path / "weak.toml"
    path.write_text(WEIGHTED)
    report = check_spec(path)
    (unit, case), = report.violations
    assert unit == "digits:7" and case["stimulus"] == "inhibited by stem" and case["expect"] == "low"
    assert case["activation"] > 0.99 and "the inhibitor parts:stem gives only" in case["why"]
    # a stated margin: the pre-activation must fall by it (about 0.2: short of 1, more than 0.1)
    strict = tmp_path / "margin.toml"
    strict.write_text(WEIGHTED.replace("bias = -2", "bias = -2\ninhibit_margin = 1"))
    (_, case), = check_spec(strict).violations
    # oracle: the pre-activation of digits:7 on the top's ink, minus on the top's and the stem's
    from handnet import build
    from handnet.spec import load_spec
    from handnet.spec.strokes import ink

    spec, net = load_spec(strict), build(strict)
    top, stem = (ink(spec.unit("edges", n).strokes, 2.5, (28, 28)) for n in ("top", "stem"))
    z = net.forward(np.stack([top.ravel(), np.maximum(top, stem).ravel()]), preactivations=True)[1][-1][:, 0]
    assert case["expect"] == "drop" and case["drop"] == pytest.approx(z[0] - z[1], abs=1e-9) and z[0] - z[1] < 0.25
    assert "pre-activation fell by only" in case["why"] and "went from" in case["why"]
    loose = tmp_path / "loose.toml"
    loose.write_text(WEIGHTED.replace("bias = -2", "bias = -2\ninhibit_margin = 0.1"))
    assert check_spec(loose).ok
    text = run("check", strict).output
    assert "expected stem inked on top (weight -0.20) to lower the pre-activation by >= 1 (inhibit_margin)" in text


def test_a_rule_with_no_positive_input_is_checked_on_its_prototype_the_blank_canvas(tmp_path):
    path = tmp_path / "rest.toml"
    path.write_text(WEIGHTED.replace("weights = { top = 8, stem = -0.2 }\nbias = -2",
                                     "weights = { top = -8, stem = -8 }\nbias = 3"))
    unit = next(u for u in check_spec(path).units if u.unit == "digits:7")
    assert unit.checked and unit.ok
    assert [(c["stimulus"].split(" (")[0], c["expect"]) for c in unit.cases] == [
        ("a blank canvas", "high"), ("inhibited by top", "low"), ("inhibited by stem", "low")]


def test_units_without_cases_are_listed_as_unchecked_and_fail_under_strict(tmp_path):
    from handnet.data.mnist import bundled_splits

    path = tmp_path / "fitted.toml"
    path.write_text(TINY.split("[digits.yes]")[0] + '[digits]\nfit = "least_squares"\n')
    sample = bundled_splits()["train"].subset(slice(0, None, 20))
    report = check_spec(path, sample)
    assert report.ok and [u.unit for u in report.unchecked] == [f"digits:{d}" for d in range(10)]
    relaxed = run("check", path)
    assert relaxed.exit_code == 0 and "---- digits:3: unchecked" in relaxed.output
    assert "10 unchecked" in relaxed.output and "--strict fails on them" in relaxed.output
    assert run("check", path, "--strict").exit_code == 1
    assert json.loads(run("check", path, "--json").stdout)["unchecked"] == [f"digits:{d}" for d in range(10)]


def test_known_exceptions_are_printed_with_their_reason_and_stale_ones_are_flagged(tmp_path):
    reason = "box is the whole frame drawn at once; it is meant to light the sides"
    path = tmp_path / "known.toml"
    path.write_text(THREE_SIDES.replace('of = ["left", "top", "box"]',
                                        f'of = ["left", "top", "box"]\nexceptions = [{{ inked = ["box"], reason = "{reason}" }}]'))
    report = check_spec(path)
    assert report.ok and [(u, c["known"]) for u, c in report.known] == [("parts:frame", reason)]
    result = run("check", path)
    assert result.exit_code == 0 and f"known exception (the spec says): {reason}" in result.output
    assert "ok*  parts:frame" in result.output and "1 known exception" in result.output
    # an exception whose case passes is stale: said, and --strict fails on it
    stale = tmp_path / "stale.toml"
    stale.write_text(TINY.replace('all_of = ["top", "bottom"]',
                                  'all_of = ["top", "bottom"]\nexceptions = [{ inked = ["top"], reason = "old" }]'))
    assert check_spec(stale).ok and [u for u, _ in check_spec(stale).stale] == ["parts:both"]
    assert "stale exception: inked: top" in run("check", stale).output
    assert run("check", stale, "--strict").exit_code == 1


@pytest.mark.parametrize("field, message", [
    ('exceptions = [{ inked = ["tpo"], reason = "x" }]', "parts.both.exceptions[0].inked: unknown edges unit 'tpo' (did you mean 'top'?)"),
    ('exceptions = [{ inked = ["top"] }]', "parts.both.exceptions[0].reason: expected a sentence"),
    ('exceptions = [{ inked = ["top"], inhibitor = "top", reason = "x" }]', "give exactly one of inked"),
    ("inhibit_margin = -1", "parts.both.inhibit_margin: expected a number > 0"),
])
def test_bad_check_fields_are_spec_errors(tmp_path, field, message):
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace('all_of = ["top", "bottom"]', f'all_of = ["top", "bottom"]\n{field}'))
    result = run("check", path)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_the_shipped_spec_states_its_exceptions_and_check_prints_them():
    result = run("check", ROOT / "weight_specs" / "3b1b.toml")
    assert result.exit_code == 0, result.output
    assert "0 violations" in result.output and "known exception" in result.output
    # the finding, now stated in the spec with its cost: one side of a loop fires the loop
    assert "ok*  parts:upper_loop" in result.output and "ok*  parts:lower_loop" in result.output
    assert "stale exception" not in result.output
    assert "0 violations" in run("check", ROOT / "weight_specs" / "3b1b.toml", "--strict").output


def test_a_unit_vetoed_by_what_its_own_stimulus_inks_says_so(tmp_path):
    # "left" runs along the left half of the top bar: inking the top lights it, and it vetoes the part
    path = tmp_path / "veto.toml"
    path.write_text("""
[edges.top]
strokes = [{ line = [[6, 8], [6, 20]] }]
[edges.left]
strokes = [{ line = [[6, 8], [6, 14]] }]
[parts.bar]
all_of = ["top"]
none_of = ["left"]
[digits.1]
any_of = ["bar"]
""")
    report = check_spec(path)
    case = next(c for u, c in report.violations if u == "parts:bar" and c["expect"] == "high")
    assert case["stimulus"] == "inked: top"
    assert re.search(r"parts:bar stays at 0\.\d\d: vetoed by edges:left -\d+\.\d\d \(at 0\.\d\d, not drawn: it fires on "
                     r"this ink\); positive inputs give \+\d\.\d\d, bias -3\.00", case["why"]), case["why"]
