"""handnet check / build / explain: the spec as executable documentation, through the CLI."""

import json
from pathlib import Path

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
    assert [(u, c["stimulus"]) for u, c in report.violations] == [("parts:both", "only 1 of 2 required: top")]
    result = run("check", path, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["n_violations"] == 1


def test_check_command_passes_and_lists_every_unit(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    result = run("check", path)
    assert result.exit_code == 0, result.output
    assert "ok   edges:top" in result.output and "0 violations" in result.output
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
    (["explain", "{spec}", "parts:bth"], "layer parts has no unit 'bth'; its units are both"),
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
