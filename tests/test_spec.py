"""Spec files: parsing, includes, and validation that names file, table and field."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from handnet.errors import SpecError
from handnet.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "weight_specs").glob("*.toml"))

SMALL = """
[network]
name = "small"
sizes = [784, 2, 1, 1]

[edges.top]
strokes = [{ line = [[6, 8], [6, 20]] }]
[edges.side]
strokes = [{ arc = { center = [14, 14], radii = [6, 6], start = 90, end = 270 } }]

[parts.both]
all_of = ["top", "side"]

[digits.x]
any_of = ["both"]
"""


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(tmp_path, text):
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    return info.value.problems, str(info.value)


def test_small_spec_parses_with_defaults(tmp_path):
    spec = load_spec(write(tmp_path, SMALL))
    assert [e.name for e in spec.edges] == ["top", "side"]
    assert spec.sizes == (784, 2, 1, 1) and spec.layer_names == ("edges", "parts", "digits")
    assert spec.parts[0].k == 2 and spec.parts[0].reads == ("top", "side")
    assert spec.digits[0].k == 1 and not spec.needs_data
    assert len(spec.sha256) == 64


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_shipped_specs_load(path):
    spec = load_spec(path)
    assert spec.sizes[0] == 784 and len(spec.edges) == spec.sizes[1] and len(spec.parts) == spec.sizes[2]


def test_unknown_unit_suggests_the_closest_name(tmp_path):
    found, message = problems(tmp_path, SMALL.replace('all_of = ["top", "side"]', 'all_of = ["top", "sdie"]'))
    assert len(found) == 1
    assert "spec.toml: parts.both.all_of: unknown edges unit 'sdie' (did you mean 'side'?)" in message


def test_every_problem_is_reported_together_each_naming_file_table_field(tmp_path):
    text = SMALL.replace("[[6, 8], [6, 20]]", "[[6, 8], [6, 40]]").replace("sizes = [784, 2, 1, 1]", "sizes = [784, 3, 1, 1]")
    text = text.replace('any_of = ["both"]', 'any_of = ["bth"]\nsharpness = "high"')
    found, message = problems(tmp_path, text)
    assert len(found) == 4 and message.split("\n") == found
    assert all(p.startswith(str(tmp_path / "spec.toml") + ": ") for p in found)
    joined = "\n".join(found)
    assert "edges.top.strokes[0]: point (6.0, 40.0) is outside the 28x28 canvas" in joined
    assert "network.sizes: edges size is 3 but there are 2 edges units in the spec" in joined
    assert "digits.x.any_of: unknown parts unit 'bth' (did you mean 'both'?)" in joined
    assert "digits.x.sharpness: expected a number, got 'high'" in joined


@pytest.mark.parametrize("change, expected", [
    (('all_of = ["top", "side"]', 'at_least = 3\nof = ["top", "side"]'), "parts.both.at_least: the rule can never fire: at least 3 of 2"),
    (('all_of = ["top", "side"]', 'all_of = []'), "parts.both.all_of: the rule can never fire: the list is empty"),
    (('all_of = ["top", "side"]', 'all_of = ["top"]\nnone_of = ["top"]'), "parts.both.none_of: the rule can never fire"),
    (('all_of = ["top", "side"]', 'weights = { top = -1.0, side = -2.0 }'), "parts.both.weights: the rule can never fire"),
    (('all_of = ["top", "side"]', 'all_of = ["top", "top"]'), "parts.both.all_of: top listed twice"),
    (('all_of = ["top", "side"]', 'all_of = ["top"]\nany_of = ["side"]'), "parts.both: expected exactly one of"),
    (("[edges.side]", "[edges.side]\nwidht = 3"), "edges.side.widht: unknown field (did you mean 'width'?)"),
    (("[edges.side]", "[edges.side]\nfraction = -0.5"), "edges.side.fraction: expected a number > 0"),
    (("{ line = [[6, 8], [6, 20]] }", "{ lime = [[6, 8], [6, 20]] }"), "edges.top.strokes[0].lime: unknown stroke type (did you mean 'line'?)"),
    (("{ line = [[6, 8], [6, 20]] }", "{ bezier = [[6, 8], [6, 20]] }"), "edges.top.strokes[0].bezier: expected 3 or 4 control points"),
    (("radii = [6, 6]", "radii = [6, -1]"), "edges.side.strokes[0].arc.radii: expected a radius > 0"),
    (('name = "small"', 'name = "small"\nactivations = ["sigmoid", "tanh", "sigmoid"]'), "network.activations: expected three of"),
    (('[digits.x]', '[digits]\nfit = "logistics"\n[digits.x]'), "digits.fit: expected one of logistic, least_squares"),
    (("[edges.side]", "[edges.side]\nthreshold = { quantile = 2 }"), "edges.side.threshold.quantile: expected a number in (0, 1)"),
    (("[edges.side]", "[edges.side]\nbias = -1\nthreshold = { quantile = 0.5 }"), "edges.side.bias: give either bias or threshold"),
])
def test_each_kind_of_mistake_is_named(tmp_path, change, expected):
    old, new = change
    assert old in SMALL
    _, message = problems(tmp_path, SMALL.replace(old, new))
    assert expected in message
    assert "Traceback" not in message


def test_toml_syntax_error_names_the_line(tmp_path):
    _, message = problems(tmp_path, SMALL.replace('all_of = ["top", "side"]', 'all_of = ["top", "side"'))
    assert "spec.toml: TOML syntax error" in message and "line" in message


def test_duplicate_unit_is_a_syntax_error_with_its_line(tmp_path):
    _, message = problems(tmp_path, SMALL + '\n[edges.top]\nstrokes = [{ line = [[1, 1], [1, 5]] }]\n')
    assert "TOML syntax error" in message and "line 17" in message and "duplicate unit name" in message


def test_missing_file_and_directory_are_one_line_errors(tmp_path):
    for target in (tmp_path / "nope.toml", tmp_path):
        with pytest.raises(SpecError) as info:
            load_spec(target)
        assert "\n" not in str(info.value) and str(target) in str(info.value)


def test_extends_merges_units_and_replace_drops_a_table(tmp_path):
    write(tmp_path, SMALL, "base.toml")
    child = write(tmp_path, 'extends = "base.toml"\n[network]\nname = "child"\nsizes = [784, 2, 1, 10]\n[edges.top]\nsharpness = 20\n'
                            '[digits]\nreplace = true\nfit = "least_squares"\n', "child.toml")
    spec = load_spec(child)
    assert spec.name == "child" and spec.fit == "least_squares" and spec.digits == ()
    assert spec.unit("edges", "top").sharpness == 20 and spec.unit("edges", "side").sharpness == 10
    assert spec.sources[0][0] == str(child) and spec.sources[1][0].endswith("base.toml")
    assert spec.needs_data and spec.digit_names == tuple("0123456789")


def test_problems_in_a_base_file_name_that_file(tmp_path):
    write(tmp_path, SMALL.replace('any_of = ["both"]', 'any_of = ["bth"]'), "base.toml")
    child = write(tmp_path, 'extends = "base.toml"\n[network]\nname = "child"\n', "child.toml")
    with pytest.raises(SpecError) as info:
        load_spec(child)
    assert "base.toml: digits.x.any_of: unknown parts unit 'bth'" in str(info.value)


def test_include_cycle_is_reported(tmp_path):
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(SpecError, match="includes itself"):
        load_spec(tmp_path / "a.toml")


# ---- property: random mutations of the shipped specs never raise anything but SpecError ---------
def _mutations():
    values = st.one_of(st.integers(-50, 900), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
                       st.booleans(), st.lists(st.integers(-5, 40), max_size=5), st.just([[0, 0], [40, 3]]),
                       st.just({"quantile": 0.5}), st.just(["upper_loop"]), st.just({}))
    return st.tuples(st.sampled_from(SPECS), st.integers(0, 10_000), st.sampled_from(["set", "delete", "rename", "text"]), values)


def _flatten(d, prefix=()):
    for k, v in d.items():
        yield prefix + (k,), v
        if isinstance(v, dict):
            yield from _flatten(v, prefix + (k,))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=_mutations())
def test_mutated_specs_give_a_network_or_a_spec_error(tmp_path, mutation):
    import tomllib

    from handnet.compiler.compile import compile_spec
    from handnet.nn.network import Network

    path, pick, how, value = mutation
    text = path.read_text()
    if how == "text":
        cut = pick % max(1, len(text))
        mutated = text[:cut] + str(value)[:8] + text[cut + 1:]
    else:
        data = tomllib.loads(text)
        data.pop("extends", None)
        keys = list(_flatten(data))
        where, _ = keys[pick % len(keys)]
        parent = data
        for k in where[:-1]:
            parent = parent[k]
        if how == "set":
            parent[where[-1]] = value
        elif how == "delete":
            del parent[where[-1]]
        else:
            parent[where[-1] + "x"] = parent.pop(where[-1])
        mutated = _dump(data)
    target = tmp_path / path.name
    target.write_text(mutated)
    for sibling in SPECS:  # includes resolve beside the file
        if sibling.name != path.name:
            (tmp_path / sibling.name).write_text(sibling.read_text())
    try:
        spec = load_spec(target)
        if spec.needs_data:
            return  # fitting is covered elsewhere; here only parsing and the hand layers matter
        assert isinstance(compile_spec(spec), Network)
    except SpecError as e:
        assert e.problems and all(p for p in e.problems)


def _dump(value, prefix=()):
    """A tiny TOML writer for the mutation test (tables as dotted headers, values inline)."""
    import json

    def inline(v):
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(str(k))} = {inline(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(inline(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return repr(v) if v == v and v not in (float("inf"), float("-inf")) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
        if isinstance(v, int):
            return str(v)
        return json.dumps(str(v))

    lines, tables = [], []
    for k, v in value.items():
        if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()) or (isinstance(v, dict) and len(prefix) < 2 and k in ("network", "edges", "parts", "digits")):
            tables.append((k, v))
        else:
            lines.append(f"{json.dumps(str(k))} = {inline(v)}")
    out = ""
    if prefix and lines:
        out += "[" + ".".join(json.dumps(str(p)) for p in prefix) + "]\n"
    out += "\n".join(lines) + ("\n" if lines else "")
    for k, v in tables:
        out += _dump(v, prefix + (k,))
    return out
