"""A fuzz corpus: hostile specs, IDX bytes, network archives and command lines (issue 14).

Each test draws inputs with Hypothesis and asserts the same contract: a clean error (a HandnetError in the
library, exit code 1 or 2 with one "Error:" line on the command line) or a valid result; never a
traceback, never a hang (every example runs in a time box), never a changed input file. The draws are
derandomized and the example counts modest, so the corpus is the same on every run and takes seconds.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from handnet.cli import main
from handnet.compiler.compile import compile_spec
from handnet.data import mnist
from handnet.errors import HandnetError
from handnet.nn.network import Network
from handnet.spec import load_spec
from hostile import SMALL_SPEC, digests, npy_bytes, time_box, tiny_data_dir, write_zip


def corpus(examples: int):
    """Deterministic, modest, and without a database folder left behind."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Inputs shared by the corpus: a spec with an include, a compiled network, a tiny MNIST folder."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "base.toml").write_text(SMALL_SPEC)
    spec = root / "spec.toml"
    spec.write_text('include = "base.toml"\n[edges.top]\nfraction = 0.6\n')
    data = tiny_data_dir(root / "data", n=40)
    net = compile_spec(load_spec(spec)).save(root / "net.npz")
    return root, spec, net, data


# ---- specs: valid TOML, hostile values -----------------------------------------------------------------
HUGE = [0, -1, 1, 0.5, 1e6, 1e6 + 1, 511, 512, 513, 720.0001, 3600, 3601, 1e300, -1e300, 1.7976931348623157e308,
        5e-324, 2**63 - 1, -(2**63), float("nan"), float("inf"), float("-inf")]
numbers = st.one_of(st.sampled_from(HUGE), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(0, 27), st.floats(0.1, 27.0))  # the last two: values a spec may well hold
scalars = st.one_of(numbers, st.booleans(), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["line", "arc", "center", "radii", "start", "end", "x"]), inner, max_size=3)),
    max_leaves=12)
# values a spec or a metadata field may well hold, so that valid results are exercised too
benign = st.one_of(st.integers(1, 20), st.floats(0.05, 0.95), st.sampled_from(["sigmoid", "logistic", "top", ["top"],
                                                                              [10, 10], [14, 14], {"quantile": 0.5}]))
mixed = st.one_of(values, benign, benign)
points = st.lists(st.lists(numbers, min_size=2, max_size=2), min_size=0, max_size=6)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else "-inf" if v == float("-inf") else repr(v))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items()) + " }"


def toml_document(doc: dict) -> str:
    return "\n".join(f"{key} = {toml_value(value)}" for key, value in doc.items()) + "\n"


def base_spec() -> dict:
    return {
        "network": {"name": "small"},
        "edges": {"top": {"strokes": [{"line": [[6, 8], [6, 20]]}]},
                  "side": {"strokes": [{"arc": {"center": [14, 14], "radii": [6, 6], "start": 90, "end": 270}}]}},
        "parts": {"both": {"all_of": ["top", "side"]}},
        "digits": {"x": {"any_of": ["both"]}},
    }


SLOTS = [
    ("network", "canvas"), ("network", "sizes"), ("network", "layers"), ("network", "activations"),
    ("edges", "top", "strokes"), ("edges", "top", "strokes", 0, "line"), ("edges", "top", "strokes", 0, "line", 1),
    ("edges", "top", "strokes", 0, "line", 1, 0), ("edges", "side", "strokes", 0, "arc", "radii"),
    ("edges", "side", "strokes", 0, "arc", "start"), ("edges", "side", "strokes", 0, "arc", "end"),
    ("edges", "side", "strokes", 0, "arc", "rotation"), ("edges", "side", "strokes", 0, "arc", "center"),
    ("edges", "top", "fraction"), ("edges", "top", "width"), ("edges", "top", "sharpness"), ("edges", "top", "bias"),
    ("edges", "top", "threshold"), ("edges", "sharpness"), ("edges", "inhibition"), ("parts", "both", "at_least"),
    ("parts", "both", "weights"), ("parts", "both", "bias"), ("parts", "veto"), ("digits", "l2"), ("digits", "fit"),
    ("digits", "x", "any_of"), ("edges", "top"), ("edges",), ("include",),
]


def put(doc, path, value):
    here = doc
    for key in path[:-1]:
        here = here[key]
    here[path[-1]] = value


@st.composite
def hostile_specs(draw) -> dict:
    doc = base_spec()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["slot", "slot", "polyline", "bezier", "many"]))
        if kind == "slot":
            try:
                put(doc, draw(st.sampled_from(SLOTS)), draw(mixed))
            except (KeyError, IndexError, TypeError):
                pass  # an earlier change removed the table this slot lives in
        elif kind == "polyline":
            n = draw(st.sampled_from([0, 1, 2, 999, 1000, 1001]))
            point = draw(st.lists(numbers, min_size=2, max_size=2))
            doc["edges"]["top"]["strokes"] = [{"polyline": [point] * n}]
        elif kind == "bezier":
            doc["edges"]["top"]["strokes"] = [{"bezier": draw(points)}]
        else:
            stroke = {"arc": {"center": draw(st.lists(numbers, min_size=2, max_size=2)), "radii": draw(numbers),
                              "start": draw(numbers), "end": draw(numbers)}}
            doc["edges"]["top"]["strokes"] = [stroke] * draw(st.sampled_from([1, 2, 64, 65]))
    return doc


@corpus(100)
@pytest.mark.slow
@given(doc=hostile_specs())
def test_hostile_specs_compile_or_fail_cleanly(workspace, doc):
    root = Path(tempfile.mkdtemp(dir=workspace[0]))
    path = root / "hostile.toml"
    path.write_text(toml_document(doc))
    before = digests(root)
    with time_box(20):
        try:
            spec = load_spec(path)
            net = compile_spec(spec, mnist.load_split(workspace[3], "train") if spec.needs_data else None)
        except HandnetError as e:
            assert str(e).strip() and all(line.startswith(str(path)) for line in str(e).splitlines())
            net = None
    event("compiled" if net is not None else "refused")
    if net is not None:  # a valid result is a real one
        assert net.sizes[1:] == [len(spec.edges), len(spec.parts), len(spec.digit_names)]
        assert all(np.isfinite(layer.weights).all() and np.isfinite(layer.biases).all() for layer in net.layers)
    assert digests(root) == before


# ---- IDX bytes ---------------------------------------------------------------------------------------
DIMS = [0, 1, 2, 3, 10, 28, 255, 65535, 65536, 2**31, 2**32 - 1]


@st.composite
def idx_files(draw, kind: str = "images", n: int = 3) -> bytes:
    if draw(st.integers(0, 2)) == 0:  # well formed, so that the reading path is exercised too
        shape = (n, 28, 28) if kind == "images" else (n,)
        payload = draw(st.binary(min_size=n * 784, max_size=n * 784)) if kind == "images" else bytes(
            draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)))
        raw = bytes([0, 0, 8, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape) + payload
        packed = draw(st.booleans())
        return (gzip.compress(raw, mtime=0) if packed else raw), packed
    magic = draw(st.one_of(st.sampled_from([b"\x00\x00\x08\x03", b"\x00\x00\x08\x01", b"\x00\x00\x08\x04",
                                            b"\x00\x00\x09\x03", b"\x00\x00\x08\x00"]), st.binary(min_size=0, max_size=4)))
    ndim = magic[3] if len(magic) == 4 else 0
    dims = draw(st.lists(st.one_of(st.sampled_from(DIMS), st.integers(0, 2**32 - 1)), min_size=ndim, max_size=ndim))
    header = magic + b"".join(d.to_bytes(4, "big") for d in dims)
    size = int(np.prod(dims, dtype=object)) if dims else 0
    exact = size if size <= 4000 else 0
    data_len = draw(st.one_of(st.just(exact), st.integers(0, 4000)))
    raw = header[: draw(st.integers(0, len(header)))] if draw(st.integers(0, 9)) == 0 else header
    raw += bytes(draw(st.binary(min_size=min(data_len, 64), max_size=min(data_len, 64)))) + bytes(max(0, data_len - 64))
    wrap = draw(st.sampled_from(["raw", "gzip", "gzip", "corrupt", "truncated"]))
    if wrap == "raw":
        return raw, False
    packed = bytearray(gzip.compress(raw, mtime=0))
    if wrap == "corrupt" and len(packed) > 20:
        at = draw(st.integers(10, len(packed) - 9))
        packed[at] ^= draw(st.integers(1, 255))
    if wrap == "truncated":
        packed = packed[: draw(st.integers(0, len(packed) - 1))]
    return bytes(packed), True


@st.composite
def idx_pairs(draw):
    n = draw(st.integers(0, 4))
    return draw(idx_files("images", n)), draw(idx_files("labels", n))


@corpus(150)
@given(pair=idx_pairs())
def test_idx_bytes_read_or_fail_cleanly(workspace, pair):
    images, labels = pair
    root = Path(tempfile.mkdtemp(dir=workspace[0]))
    for kind, (payload, packed) in (("images-idx3", images), ("labels-idx1", labels)):
        (root / f"x-{kind}-ubyte{'.gz' if packed else ''}").write_bytes(payload)
    before = digests(root)
    with time_box(10):
        try:
            dataset = mnist.load_split(root, "x")
        except HandnetError as e:
            assert "\n" not in str(e) and "()" not in str(e)
            dataset = None
    event("read" if dataset is not None else "refused")
    if dataset is not None:
        assert dataset.images.shape == (len(dataset.labels), 28, 28) and dataset.labels.max(initial=0) <= 9
    assert digests(root) == before


# ---- network archives ---------------------------------------------------------------------------------------
META_PATHS = [("format",), ("version",), ("input_shape",), ("layers",), ("layers", 0), ("layers", 0, "name"),
              ("layers", 0, "units"), ("layers", 1, "activation"), ("metadata",), ("metadata", "provenance"),
              ("metadata", "units"), ("metadata", "units", "edges:top"), ("metadata", "units", "edges:top", "strokes"),
              ("metadata", "units", "edges:top", "width"), ("metadata", "units", "parts:both", "reads"),
              ("metadata", "history"), ("metadata", "description")]
arrays = hnp.arrays(dtype=st.sampled_from(["<f8", "<f4", "<f2", ">f8", "<i4", "|u1", "<c8", "|b1", "<U3"]),
                    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))


@st.composite
def archives(draw, members: dict) -> tuple[dict, int]:
    members = dict(members)
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["meta", "meta", "meta", "array", "header", "drop", "add"]))
        if kind == "meta":
            try:
                meta = json.loads(str(np.load(io.BytesIO(members["metadata.npy"]), allow_pickle=False)[()]))
            except Exception:  # an earlier change replaced or dropped the metadata
                continue
            path = draw(st.sampled_from(META_PATHS))
            try:
                put(meta, path, draw(mixed))
            except (KeyError, IndexError, TypeError):
                pass
            members["metadata.npy"] = npy_bytes(np.array(json.dumps(meta)))
        elif kind == "array":
            members[draw(st.sampled_from(["W0.npy", "b0.npy", "W2.npy", "metadata.npy"]))] = npy_bytes(draw(arrays))
        elif kind == "header":
            header = draw(st.one_of(st.text(max_size=80), st.sampled_from([
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999,), }",
                "{'descr': '<f8', 'fortran_order': True, 'shape': (-1, 3), }",
                "{'descr': 'O', 'fortran_order': False, 'shape': (1,), }",
                "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }"])))
            members[draw(st.sampled_from(["W1.npy", "b1.npy"]))] = npy_bytes(header=header, data=bytes(draw(st.integers(0, 64))))
        elif kind == "drop" and len(members) > 1:
            members.pop(draw(st.sampled_from(sorted(members))))
        else:
            members[draw(st.sampled_from(["x.npy", "W9.npy", "../W0.npy", "notes.txt", "dir/W0.npy"]))] = draw(st.binary(max_size=40))
    return members, draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]))


@corpus(100)
@given(data=st.data())
def test_network_archives_load_or_fail_cleanly(workspace, data):
    with zipfile.ZipFile(workspace[2]) as archive:
        saved_members = {name: archive.read(name) for name in archive.namelist()}
    members, compression = data.draw(archives(saved_members))
    root = Path(tempfile.mkdtemp(dir=workspace[0]))
    path = write_zip(root / "net.npz", members, compression)
    if data.draw(st.integers(0, 5)) == 0:  # flip a byte of the archive itself
        raw = bytearray(path.read_bytes())
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= 0xFF
        path.write_bytes(bytes(raw))
    before = digests(root)
    with time_box(20):
        try:
            net = Network.load(path)
        except HandnetError as e:
            assert str(e).startswith(str(path)) and "\n" not in str(e)
            net = None
        event("loaded" if net is not None else "refused")
        if net is not None:  # what later code reads from a loaded network must hold up too
            from handnet.tune.diff import diff_networks

            net.describe()
            net.forward(np.zeros((2, net.sizes[0])))
            diff_networks(net, net)
            result = CliRunner().invoke(main, ["info", str(path)])
            assert result.exit_code == 0, result.output
    assert digests(root) == before


# ---- command lines ----------------------------------------------------------------------------------------------
HOSTILE_ARGS = ["nan", "inf", "-inf", "-1", "0", "1e309", "", "²", "٣", "9" * 5000, "/dev/null", "..", "-", "x.gif",
                "a:b:c", "hidden1:99999999999999999999"]


def argument(kind: str, ws, out: Path):
    root, spec, net, data = ws
    pools = {
        "SPEC": [str(spec), str(root / "base.toml"), str(net), str(root / "missing.toml")],
        "NET": [str(net), str(spec), str(data / "t10k-images-idx3-ubyte"), str(root / "missing.npz")],
        "DATA": [str(data), str(root), str(data / "t10k-labels-idx1-ubyte")],
        "OUT": [str(out / "o.npz"), str(spec), str(net), str(out), str(data / "train-images-idx3-ubyte")],
        "FIG": [str(out / "f.png"), str(out / "f.svg"), str(out / "f.bmp"), str(spec)],
        "DIR": [str(out / "figs"), str(spec), str(out)],
        "REF": ["edges:top", "parts:both", "hidden1:0", "digits:x", "edges:", "edges:top:x"],
        "SIZES": ["784,8,10", "784,0,10", "784,100000000,10", "10", "784,x,10"],
        "NUM": ["1", "0.5", "3", "40"],
        "SET": ["edges.top.fraction=0.3:0.6:2", "edges.top.strokes.0.line.1.1=10:200:2", "edges.x.y=1:2:2", "bad"],
    }
    good = st.sampled_from(pools[kind])
    return st.one_of(good, good, good, st.sampled_from(HOSTILE_ARGS)) if kind in pools else st.just(kind)


COMMANDS = [
    ["info", "NET"], ["info", "NET", "--json"],
    ["build", "SPEC", "-o", "OUT"], ["build", "SPEC", "-o", "OUT", "--data", "DATA"],
    ["explain", "SPEC", "REF"], ["check", "SPEC", "--json"],
    ["evaluate", "NET", "--data", "DATA", "--split", "t10k"],
    ["data", "info", "--data", "DATA", "--thumbnails", "FIG"],
    ["train", "--data", "DATA", "--limit", "NUM", "--epochs", "1", "--no-augment", "--sizes", "SIZES", "--lr", "NUM",
     "-o", "OUT"],
    ["train", "--data", "DATA", "--init", "NET", "--epochs", "1", "--limit", "20", "-o", "OUT"],
    ["sweep", "SPEC", "--set", "SET", "--data", "DATA", "-o", "FIG"],
    ["render", "digits", "NET", "--data", "DATA", "--count", "NUM", "--unit", "REF", "-o", "DIR"],
    ["diff", "SPEC", "NET", "--data", "DATA"],
    ["errors", "NET", "--data", "DATA", "--top", "NUM", "-o", "DIR"],
]


INPUT_WORDS = ("SPEC", "NET", "DATA")


def _exists(name) -> bool:
    try:
        return Path(name).exists()
    except OSError:  # a name too long for the file system
        return False


@st.composite
def command_lines(draw, ws, out):
    """An argument list, and the files it names as the command's inputs (with a spec's include)."""
    root = ws[0]
    template = draw(st.sampled_from(COMMANDS))
    args, inputs = [], []
    for word in template:
        value = draw(argument(word, ws, out)) if word.isupper() else word
        args.append(value)
        if word in INPUT_WORDS and value and _exists(value):
            path = Path(value)
            inputs += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            if path == ws[1]:
                inputs.append(root / "base.toml")
    return args, [p for p in inputs if p.is_file() and not str(p).startswith("/dev/")]


@pytest.fixture(scope="module")
def snapshot(workspace):
    """Every file of the workspace as it was: a command may rightly overwrite a file that is not its input."""
    root = workspace[0]
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


@corpus(50)
@pytest.mark.slow
@given(data=st.data())
def test_command_lines_end_cleanly(workspace, snapshot, data, monkeypatch):
    root = workspace[0]
    out = Path(tempfile.mkdtemp(dir=root))
    args, inputs = data.draw(command_lines(workspace, out))
    monkeypatch.chdir(out)
    monkeypatch.setenv("HANDNET_CACHE", str(root / "cache"))
    before = {p: p.read_bytes() for p in inputs}
    try:
        with time_box(60):
            result = CliRunner().invoke(main, args)
        event(f"{args[0]}: exit {result.exit_code}")
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
        assert "Traceback" not in result.output
        if result.exit_code:
            errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
            assert len(errors) == 1, (args, result.output)  # a spec's problems follow it, one line each
        for path, content in before.items():
            assert path.read_bytes() == content, (args, path)
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    finally:
        for path, content in snapshot.items():  # the next example starts from the same files
            if not path.is_file() or path.read_bytes() != content:
                if path.is_dir():
                    import shutil

                    shutil.rmtree(path)
                path.write_bytes(content)
