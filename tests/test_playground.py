"""The playground page as a file and as served (no browser here; tests/test_playground_browser.py runs it)."""

import base64
import hashlib
import http.client
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import handnet
from handnet.cli import main
from handnet.data import load_test
from handnet.errors import HandnetError
from handnet.nn.network import Layer, Network, random_network
from handnet.viz.playground import Playground, render_page, write_playground
from handnet.viz.playground.page import Shown
from handnet.viz.playground.server import LiveServer, wait_for

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "weight_specs" / "3b1b.toml"
TINY = """
[network]
name = "tiny"
description = "Three answers from two strokes."
sizes = [784, 2, 2, 3]

[edges.bar]
strokes = [{ line = [[6, 8], [6, 20]] }]
doc = "a bar across the top"
[edges.stem]
strokes = [{ line = [[6, 14], [22, 14]] }]

[parts.top]
all_of = ["bar"]
[parts.upright]
all_of = ["stem"]

[digits.one]
all_of = ["upright"]
none_of = ["top"]
[digits.seven]
all_of = ["top", "upright"]
[digits.dash]
all_of = ["top"]
none_of = ["upright"]
"""


def page_data(html: str) -> dict:
    found = re.search(r'<script id="playground-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


def decode(entry) -> np.ndarray:
    dtype = {"float64": "<f8", "float32": "<f4", "uint8": "u1"}[entry["dtype"]]
    return np.frombuffer(base64.b64decode(entry["base64"]), dtype=dtype).reshape(entry["shape"])


@pytest.fixture(scope="module")
def two_nets_page(tmp_path_factory):
    """The demo's pair: the hand-designed 3b1b net and a 784-16-16-10 net of the trained twin's size."""
    folder = tmp_path_factory.mktemp("page")
    hand = handnet.build(SPEC)
    twin = random_network(seed=5)
    twin_path = twin.save(folder / "twin.npz")
    out = write_playground([(SPEC, hand), (twin_path, twin)], folder / "playground.html", load_test())
    return out, hand, twin


def test_the_page_is_one_offline_file_under_2_mb(two_nets_page):
    path, hand, twin = two_nets_page
    html = path.read_text()
    size = path.stat().st_size
    assert size < 2_000_000, f"{size} bytes for two networks"
    assert html.startswith("<!DOCTYPE html>")
    # nothing is fetched from anywhere: no external scripts, styles, images or fonts
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html)
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="icon" href="data:,">']  # no favicon request either
    assert "@import" not in html and "url(" not in html
    assert 'id="canvas"' in html and "prediction" in html


def test_the_page_embeds_the_exact_weights_unit_names_and_sha256(two_nets_page):
    path, hand, twin = two_nets_page
    data = page_data(path.read_text())
    assert [n["label"] for n in data["networks"]] == ["3b1b", "twin"]
    for payload, net in zip(data["networks"], (hand, twin)):
        assert payload["sizes"] == net.sizes
        for entry, layer in zip(payload["layers"], net.layers):
            np.testing.assert_array_equal(decode(entry["weights"]), layer.weights)  # exact: float64
            np.testing.assert_array_equal(decode(entry["biases"]), layer.biases)
            assert entry["units"] == list(layer.units)
        # every unit has a maximizing input, and it is the image that unit scores on
        for li, layer in enumerate(net.layers):
            images = decode(payload["maximizers"][li]["images"]) / 255.0
            assert images.shape == (layer.n_out, 784)
    assert data["networks"][0]["sha256"] == hashlib.sha256(SPEC.read_bytes()).hexdigest()
    notes = data["networks"][0]["notes"]
    assert notes["parts:upper_loop"]["doc"] and "at_least" in notes["parts:upper_loop"]["rule"]


def test_top_digits_are_the_ones_that_activate_each_unit_most(two_nets_page):
    path, hand, _ = two_nets_page
    data = page_data(path.read_text())
    test = load_test()
    # the pool holds real test digits, found by index, with their labels
    np.testing.assert_array_equal(decode(data["pool"]["images"]),
                                  test.images.reshape(len(test), -1)[data["pool"]["indices"]])
    assert data["pool"]["labels"] == [int(test.y[i]) for i in data["pool"]["indices"]]
    top = data["networks"][0]["top_digits"]
    acts = hand.forward(test.X)
    ref = hand.unit("parts:upper_loop")
    places = top[ref.layer]["places"][ref.index]
    indices = [data["pool"]["indices"][p] for p in places]
    expected = np.argsort(-acts[ref.activation_index][:, ref.index], kind="stable")[:5]
    assert indices == list(expected)
    # the starters cycle through every label
    assert sorted({data["pool"]["labels"][p] for p in data["starters"]}) == list(range(10))


LABELLED = TINY.replace('[digits.one]\n', '[digits.one]\nlabel = 1\n').replace('[digits.seven]\n', '[digits.seven]\nlabel = 7\n')


def test_the_page_says_which_digit_each_output_answers(tmp_path):
    """Outputs named after what they detect answer the digit their spec's ``label`` gives (as
    ``handnet predict`` reads them); a unit with no label answers nothing but its own name."""
    spec = tmp_path / "labelled.toml"
    spec.write_text(LABELLED)
    net = handnet.build(spec)
    assert net.metadata["labels"] == {"one": 1, "seven": 7}
    page = write_playground([(spec, net)], tmp_path / "p.html", load_test())
    [shown] = page_data(page.read_text())["networks"]
    assert shown["layers"][-1]["units"] == ["one", "seven", "dash"]
    assert shown["answers"] == [1, 7, None]
    # digits named 0-9 answer themselves, wherever their tables sit
    shuffled = handnet.build(SPEC)
    from handnet.viz.playground.payload import output_answers
    assert output_answers(shuffled) == [int(u) for u in shuffled.layers[-1].units]


def test_a_network_that_is_not_an_image_is_refused():
    net = Network([Layer("h", np.ones((3, 10)), np.zeros(3))], (1, 10))
    with pytest.raises(HandnetError, match="needs a network that reads an image"):
        write_playground([("flat.npz", net)], "never.html")
    with pytest.raises(HandnetError, match="1 to 4 networks"):
        write_playground([], "never.html")


def test_playground_command_writes_the_page(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    out = tmp_path / "page.html"
    result = CliRunner().invoke(main, ["playground", str(spec), "-o", str(out), "--palette", "colorblind", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["out"] == str(out) and report["bytes"] == out.stat().st_size
    data = page_data(out.read_text())
    assert data["palette"]["name"] == "colorblind" and data["networks"][0]["layers"][-1]["units"] == ["one", "seven", "dash"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html", "tiny.toml"]


def test_playground_command_errors_are_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["playground", str(tmp_path / "nope.toml"), "-o", str(tmp_path / "p.html")])
    assert result.exit_code == 1 and "nope.toml" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["playground", str(SPEC), "--label", "a", "--label", "b", "-o", str(tmp_path / "p.html")])
    assert result.exit_code == 1 and "--label given 2 times for 1 networks" in result.output
    assert not (tmp_path / "p.html").exists()


# ---- serve ---------------------------------------------------------------------------------------
def get(server, route, host=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Host": host} if host else {}
    connection.request("GET", route, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


@pytest.fixture
def live(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    server = LiveServer([spec], load_test(), port=0, interval=0.05).start()
    try:
        yield server, spec
    finally:
        server.stop()


def edit(spec: Path, old: str, new: str) -> None:
    """Save an edit as most editors do, to a temporary file renamed over the spec, so the 0.1 s watcher
    never reads a half-written file (a truncated spec would be a real, if brief, spec error)."""
    import os

    text = spec.read_text()
    assert old in text
    tmp = spec.with_name(f".{spec.name}.edit")
    tmp.write_text(text.replace(old, new))
    os.replace(tmp, spec)


def test_serve_answers_network_json_with_weights_units_and_sha256(live):
    server, spec = live
    status, body = get(server, "/network.json", host=f"127.0.0.1:{server.port}")
    assert status == 200
    data = json.loads(body)
    net = handnet.build(spec)
    payload = data["networks"][0]
    assert payload["sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    assert [layer["units"] for layer in payload["layers"]] == [list(layer.units) for layer in net.layers]
    np.testing.assert_array_equal(np.array(payload["layers"][0]["weights"]), net.layers[0].weights)
    status, body = get(server, "/", host=f"localhost:{server.port}")
    assert status == 200 and b'id="canvas"' in body and b'"live":true' in body


@pytest.mark.parametrize("host", ["evil.example:8000", "attacker.test", "127.0.0.1:1", ""])
def test_serve_refuses_other_host_headers(live, host):
    server, _ = live
    status, body = get(server, "/network.json", host=host or None)
    if host == "":  # http.client sends the address it connected to, which is allowed
        assert status == 200
    else:
        assert status == 403 and b"answers only requests addressed to" in body


def test_serve_has_only_its_own_routes(live):
    server, _ = live
    here = f"127.0.0.1:{server.port}"
    for route in ("/etc/passwd", "/../tiny.toml", "/tiny.toml", "/static/x.js", "/network.json/.."):
        status, _ = get(server, route, host=here)
        assert status == 404, route
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/network.json", body=b"{}", headers={"Host": here})
    assert connection.getresponse().status == 501
    connection.close()
    assert server.host == "127.0.0.1"


def test_serve_rebuilds_on_save_and_keeps_the_last_good_network_on_errors(live):
    server, spec = live
    here = f"127.0.0.1:{server.port}"
    before = json.loads(get(server, "/network.json", host=here)[1])["networks"][0]
    edit(spec, 'strokes = [{ line = [[6, 8], [6, 20]] }]', 'strokes = [{ line = [[5, 8], [5, 20]] }]')
    started = time.monotonic()
    sha = hashlib.sha256(spec.read_bytes()).hexdigest()
    # the version also moves when maximizing inputs arrive: wait for the new file's network itself
    assert wait_for(lambda: json.loads(get(server, "/network.json", host=here)[1])["networks"][0]["sha256"] == sha,
                    timeout=5)
    assert time.monotonic() - started < 1.0
    after = json.loads(get(server, "/network.json", host=here)[1])["networks"][0]
    np.testing.assert_array_equal(np.array(after["layers"][0]["weights"]), handnet.build(spec).layers[0].weights)
    assert after["sha256"] != before["sha256"]

    good = after
    edit(spec, "all_of = [\"stem\"]", "all_of = [\"stem\", \"no_such_edge\"]")
    assert wait_for(lambda: any("no_such_edge" in e for e in json.loads(get(server, "/version", host=here)[1])["errors"]),
                    timeout=5)
    kept = json.loads(get(server, "/network.json", host=here)[1])
    assert kept["networks"][0]["layers"][0]["weights"] == good["layers"][0]["weights"]
    assert any("no_such_edge" in e for e in kept["errors"])

    edit(spec, "\"stem\", \"no_such_edge\"", "\"stem\"")
    assert wait_for(lambda: not json.loads(get(server, "/version", host=here)[1])["errors"], timeout=5)


def test_serve_fills_in_maximizing_inputs_after_a_rebuild(live):
    server, spec = live
    here = f"127.0.0.1:{server.port}"
    assert wait_for(lambda: json.loads(get(server, "/network.json", host=here)[1])["networks"][0]["maximizers"], timeout=20)
    data = json.loads(get(server, "/network.json", host=here)[1])
    images = np.array(data["networks"][0]["maximizers"][0]["images"])
    assert images.shape == (2, 784)


def test_serve_refuses_a_broken_spec_at_start_and_a_busy_port(tmp_path):
    spec = tmp_path / "broken.toml"
    spec.write_text(TINY.replace('all_of = ["bar"]', 'all_of = ["nothing"]'))
    with pytest.raises(HandnetError, match="nothing"):
        LiveServer([spec], load_test(), port=0)
    good = tmp_path / "good.toml"
    good.write_text(TINY)
    first = LiveServer([good], load_test(), port=0, maximize=False).start()
    try:
        with pytest.raises(HandnetError, match="choose another port with --port"):
            LiveServer([good], load_test(), port=first.port, maximize=False).start()
    finally:
        first.stop()


def test_serve_stops_cleanly_and_frees_its_port(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    server = LiveServer([spec], load_test(), port=0, maximize=False).start()
    port = server.port
    assert get(server, "/version", host=f"127.0.0.1:{port}")[0] == 200
    server.stop()
    assert all(not t.is_alive() for t in server._threads)
    again = LiveServer([spec], load_test(), port=port, maximize=False).start()  # the port is free again
    again.stop()


def test_serve_command_help_and_bad_input(tmp_path):
    result = CliRunner().invoke(main, ["serve", str(tmp_path / "missing.toml"), "--port", "0"])
    assert result.exit_code == 1 and "missing.toml" in result.output and "Traceback" not in result.output


def test_render_page_escapes_script_endings():
    net = random_network(sizes=(784, 3, 2), seed=0)
    net = Network([net.layers[0].replace(units=("a", "b", "c")), net.layers[1]], net.input_shape,
                  {"units": {"output:0": {"doc": "</script><script>alert(1)</script>"}}})
    html = render_page(Playground([Shown(net, "x", "x.npz")]).data())
    assert html.count("</script>") == 2  # the data block's and the code's own
    assert page_data(html)["networks"][0]["notes"]["output:0"]["doc"].startswith("</script>")


def test_serve_watches_saved_networks_too(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    saved = random_network(sizes=(784, 4, 10), seed=0).save(tmp_path / "net.npz")
    server = LiveServer([spec, saved], load_test(), port=0, interval=0.05, maximize=False).start()
    try:
        here = f"127.0.0.1:{server.port}"
        data = json.loads(get(server, "/network.json", host=here)[1])
        assert [n["label"] for n in data["networks"]] == ["tiny", "net"]
        replacement = random_network(sizes=(784, 4, 10), seed=1)
        replacement.save(saved)
        assert wait_for(lambda: json.loads(get(server, "/network.json", host=here)[1])["networks"][1]["sha256"]
                        == hashlib.sha256(saved.read_bytes()).hexdigest(), timeout=5)
        data = json.loads(get(server, "/network.json", host=here)[1])
        np.testing.assert_array_equal(np.array(data["networks"][1]["layers"][1]["weights"]), replacement.layers[1].weights)
    finally:
        server.stop()


def test_maximizing_inputs_are_recomputed_only_where_the_weights_below_changed():
    from handnet.viz.playground.server import _fingerprints

    net = random_network(seed=0)
    changed_top = net.replace_layer(2, net.layers[2].replace(weights=net.layers[2].weights + 1))
    changed_middle = net.replace_layer(1, net.layers[1].replace(biases=net.layers[1].biases + 1))
    before, top, middle = _fingerprints(net), _fingerprints(changed_top), _fingerprints(changed_middle)
    names = [str(r) for r in net.units()]
    assert [before[n] == top[n] for n in names] == [not n.startswith("digits") for n in names]
    assert [before[n] == middle[n] for n in names] == [n.startswith("hidden1") for n in names]


def test_ctrl_c_stops_the_serve_command_cleanly(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # Ctrl-C as a terminal sends it: SIGINT handled as by default in the child, even when the process running the
    # tests ignores it (a pytest-xdist worker can, and a child inherits an ignored signal: Python then never raises
    # KeyboardInterrupt, and the server would rightly keep serving)
    process = subprocess.Popen([sys.executable, "-m", "handnet", "serve", str(spec), "--port", "0"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = process.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)/", line).group(1))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/version")
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/version")
