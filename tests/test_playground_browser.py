"""The playground in a real browser (Chromium through Playwright): drawing with the mouse and a finger,
the page's forward pass against handnet's to 1e-5, the unit panel, phone and desktop widths, the
redraw time per stroke point, and live reload under ``handnet serve``.

Skipped, with the reason, where Playwright or Chromium is not installed (.ci/run installs both).
"""

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from click.testing import CliRunner

import handnet
from browser import ONE, SEVEN, ZERO, draw, launch, open_page
from handnet.cli import main
from handnet.data import load_test
from handnet.nn.network import random_network
from handnet.nn.train import TrainConfig, train
from handnet.viz.playground import write_playground
from handnet.viz.playground.payload import output_answers
from handnet.viz.playground.server import LiveServer, wait_for
from test_playground import LABELLED, SPEC, TINY, edit, page_data

pytestmark = pytest.mark.slow  # a real browser, started once per module: about 25 s in all
FRAME_MS = 16.0  # one frame at 60 Hz
SCREENSHOTS = os.environ.get("HANDNET_SCREENSHOTS")  # a folder to keep the screenshots in, for a person to look at


@pytest.fixture(scope="module")
def browser():
    with launch() as b:
        yield b


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory):
    """The hand-designed 3b1b net beside a net trained by gradient descent (a different shape: 784-30-10,
    relu then softmax, float32), as a user's own pair might be."""
    folder = tmp_path_factory.mktemp("browser")
    splits = handnet.data.load_splits()
    hand = handnet.build(SPEC)
    config = TrainConfig(sizes=(784, 30, 10), hidden_activation="relu", epochs=2, seed=0, augment=False)
    twin = train(splits.train.X, splits.train.y, config).network
    twin_path = twin.save(folder / "twin.npz")
    out = write_playground([(SPEC, hand), (twin_path, twin)], folder / "playground.html", splits.test)
    return out, [hand, twin]


def page_state(page, n: int):
    state = page.evaluate(f"({{input: handnetPlayground.input({n}), acts: handnetPlayground.activations({n}),"
                          f" prediction: document.getElementById({'prediction' if n == 0 else f'prediction-{n}'!r}).textContent}})")
    return np.array(state["input"]), [np.array(a) for a in state["acts"]], state["prediction"]


def assert_page_matches_python(page, nets):
    """The page's activations for its own input equal ``Network.forward`` on that input, to 1e-5."""
    for n, net in enumerate(nets):
        x, acts, prediction = page_state(page, n)
        expected = net.forward(x[None, :])
        assert len(acts) == len(net.layers)
        for page_a, python_a in zip(acts, expected[1:]):
            np.testing.assert_allclose(page_a, python_a[0], atol=1e-5, rtol=0)
        best = int(np.argmax(expected[-1][0]))
        answer = output_answers(net)[best]
        assert prediction == (net.layers[-1].units[best] if answer is None else str(answer))


def test_drawing_a_seven_lights_up_both_networks_as_python_computes_them(browser, demo_page):
    path, nets = demo_page
    page = open_page(browser, path.as_uri())
    assert page.text_content("#prediction") == "\u2013"  # nothing drawn yet
    moves = draw(page, SEVEN)
    x, acts, prediction = page_state(page, 0)
    assert prediction in [str(d) for d in range(10)]
    assert x.shape == (784,) and 0 <= x.min() and x.max() <= 1 and x.sum() > 20
    # MNIST's recipe: the ink sits in a 20x20 box, centred by its centre of mass near (14, 14)
    rows, cols = np.nonzero(x.reshape(28, 28) > 0.05)
    assert rows.max() - rows.min() <= 21 and cols.max() - cols.min() <= 21
    grid = x.reshape(28, 28)
    centre = [(grid.sum(axis=1) * np.arange(28)).sum() / grid.sum(), (grid.sum(axis=0) * np.arange(28)).sum() / grid.sum()]
    assert np.allclose(centre, 14, atol=0.6), centre
    assert_page_matches_python(page, nets)
    assert page.text_content("#prediction") == "7"  # both the 3b1b spec and the trained net read this 7
    # and `handnet predict` on the page's own 28x28 input says the same, to 1e-5
    np.save(path.parent / "page-input.npy", x.reshape(28, 28))
    for n, source in enumerate([SPEC, path.parent / "twin.npz"]):
        result = CliRunner().invoke(main, ["predict", str(source), str(path.parent / "page-input.npy"), "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)["images"][0]
        _, acts, prediction = page_state(page, n)
        for layer, page_a in zip(nets[n].layers, acts):
            np.testing.assert_allclose(list(report["activations"][layer.name].values()), page_a, atol=1e-5, rtol=0)
        assert report["prediction"] == prediction
    assert page.evaluate("handnetPlayground.timings.length") >= moves
    assert "every weight compiled from a spec" in page.text_content(".net[data-net='0'] .summary")
    assert "trained by gradient descent" in page.text_content(".net[data-net='1'] .summary")
    assert not page.errors


def test_every_stroke_point_redraws_both_networks_and_is_timed(browser, demo_page):
    # Speed is measured by benchmarks/playground_speed.py (median and 95th percentile against a 60 Hz
    # frame), not asserted here: a timed test fails on a busy machine, not on slow code.
    path, _ = demo_page
    page = open_page(browser, path.as_uri())
    page.evaluate("handnetPlayground.timings.length = 0")
    moves = draw(page, SEVEN + ZERO, steps=25)
    times = np.array(page.evaluate("handnetPlayground.timings"))
    assert len(times) >= moves, "the page must redraw on every stroke point, not batch them"
    assert np.all(np.isfinite(times)) and np.all(times >= 0)
    print(f"redraw per stroke point, two networks: median {np.median(times):.2f} ms over {len(times)} points "
          f"(benchmarks/playground_speed.py measures it against a {FRAME_MS:.0f} ms frame)")


def test_a_test_digit_is_fed_exactly_and_read_as_python_reads_it(browser, demo_page):
    path, nets = demo_page
    data = page_data(path.read_text())
    test = load_test()
    page = open_page(browser, path.as_uri())
    for k in range(3):
        page.click("#test-digit")
        index = data["pool"]["indices"][data["starters"][k]]
        x, _, prediction = page_state(page, 0)
        np.testing.assert_array_equal(x, test.images[index].reshape(-1) / 255.0)
        assert f"#{index}" in page.text_content("#digit-source")
        assert_page_matches_python(page, nets)


def test_undo_and_clear(browser, demo_page):
    path, nets = demo_page
    page = open_page(browser, path.as_uri())
    draw(page, ONE)
    after_one, _, _ = page_state(page, 0)
    draw(page, [[(0.3, 0.3), (0.7, 0.3)]])
    assert not np.array_equal(page_state(page, 0)[0], after_one)
    page.click("#undo")
    np.testing.assert_array_equal(page_state(page, 0)[0], after_one)
    page.click("#clear")
    x, _, prediction = page_state(page, 0)
    assert prediction == "\u2013" and x.sum() == 0


def test_a_finger_draws_too(browser, demo_page):
    """Touch and pen arrive as pointer events of another pointerType; the page takes them alike."""
    path, nets = demo_page
    page = open_page(browser, path.as_uri(), width=390, height=844)
    page.evaluate("""() => {
        const c = document.getElementById('canvas'), r = c.getBoundingClientRect();
        const at = (fx, fy) => ({clientX: r.left + fx * r.width, clientY: r.top + fy * r.height,
                                 pointerId: 7, pointerType: 'touch', isPrimary: true, bubbles: true});
        c.dispatchEvent(new PointerEvent('pointerdown', at(0.5, 0.2)));
        for (let k = 1; k <= 20; k++) c.dispatchEvent(new PointerEvent('pointermove', at(0.5, 0.2 + 0.6 * k / 20)));
        c.dispatchEvent(new PointerEvent('pointerup', at(0.5, 0.8)));
    }""")
    x, _, prediction = page_state(page, 0)
    assert x.sum() > 10 and prediction != "\u2013"
    assert_page_matches_python(page, nets)


def test_clicking_a_unit_opens_its_panel(browser, demo_page):
    path, nets = demo_page
    hand = nets[0]
    page = open_page(browser, path.as_uri())
    draw(page, SEVEN)
    ref = hand.unit("parts:upper_loop")
    position = page.evaluate(f"handnetPlayground.unitPosition(0, {ref.layer}, {ref.index})")
    box = page.locator(".net[data-net='0'] .diagram").bounding_box()
    page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
    panel = page.locator("#unit-panel")
    assert panel.is_visible()
    text = panel.text_content()
    assert "parts:upper_loop" in text
    assert hand.metadata["units"]["parts:upper_loop"]["doc"] in text and "Spec rule" in text
    assert "Effective template" in text and "fire hardest" in text and "test digits that activate it most" in text
    activation = float(page.text_content("#unit-activation").split(":")[1].split()[0])
    x, _, _ = page_state(page, 0)
    assert activation == pytest.approx(hand.forward(x[None])[ref.activation_index][0, ref.index], abs=1e-3)
    # a first-layer unit shows its own 784 weights instead
    edge = hand.unit("edges:upper_bar")
    page.evaluate(f"handnetPlayground.selectUnit(0, {edge.layer}, {edge.index})")
    assert "784 incoming weights" in panel.text_content()
    # one of its top digits, clicked, becomes the input
    page.locator("#unit-panel .thumbs canvas").first.click()
    assert "Test digit #" in page.text_content("#digit-source")
    assert_page_matches_python(page, nets)
    page.click("#unit-close")
    assert not panel.is_visible()
    assert not page.errors


def test_an_output_named_after_a_shape_shows_the_digit_its_label_gives(browser, tmp_path):
    """A spec whose outputs are ``one`` (label = 1), ``seven`` (label = 7) and ``dash`` (no label): an
    upright stroke lights ``one``, and the page answers 1, as ``handnet predict`` does."""
    spec = tmp_path / "labelled.toml"
    spec.write_text(LABELLED)
    net = handnet.build(spec)
    out = write_playground([(spec, net)], tmp_path / "p.html", load_test())
    page = open_page(browser, out.as_uri())
    bars = [t.strip() for t in page.locator(".bar-label").all_text_contents()]
    assert bars == ["one (1)", "seven (7)", "dash"]
    draw(page, [[(0.5, 0.15), (0.5, 0.85)]])
    x, acts, prediction = page_state(page, 0)
    assert net.layers[-1].units[int(np.argmax(acts[-1]))] == "one"
    assert prediction == "1"
    assert "its output neuron one, which answers 1, is the brightest" in page.text_content(".confidence")
    assert page.evaluate("handnetPlayground.prediction(0)") == "1"
    np.save(tmp_path / "page-input.npy", x.reshape(28, 28))
    result = CliRunner().invoke(main, ["predict", str(spec), str(tmp_path / "page-input.npy"), "--json"])
    assert result.exit_code == 0, result.output
    read = json.loads(result.stdout)["images"][0]
    assert (read["prediction"], read["digit"]) == ("one", 1)
    assert_page_matches_python(page, [net])
    assert not page.errors


def test_networks_we_did_not_design(browser, tmp_path):
    """A 3-output spec and a 784-8-10 net on a 20x20 canvas, on one page: each gets its own input."""
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    tiny = handnet.build(spec)
    small = random_network(sizes=(400, 8, 10), seed=3)
    out = write_playground([(spec, tiny), (tmp_path / "small.npz", small)], tmp_path / "p.html", load_test())
    page = open_page(browser, out.as_uri())
    draw(page, SEVEN)
    assert page.text_content("#prediction") in ("one", "seven", "dash")
    assert_page_matches_python(page, [tiny, small])
    assert len(page_state(page, 1)[0]) == 400
    bars = page.locator(".net[data-net='0'] .bar-label").all_text_contents()
    assert bars == ["one", "seven", "dash"]
    assert not page.errors


@pytest.mark.parametrize("width", [360, 1920])
def test_the_page_fits_a_phone_and_a_wide_screen(browser, demo_page, tmp_path, width):
    path, _ = demo_page
    page = open_page(browser, path.as_uri(), width=width, height=900)
    draw(page, SEVEN)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow} px of horizontal scrolling at {width} px"
    nets = page.locator(".net")
    first, second = nets.nth(0).bounding_box(), nets.nth(1).bounding_box()
    for element in ("#canvas", ".net .diagram", ".net .bars"):
        box = page.locator(element).first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, element
    if width >= 1920:
        assert abs(first["y"] - second["y"]) < 1  # side by side
    else:
        assert second["y"] > first["y"] + first["height"] - 1  # stacked
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"playground-{width}.png"), full_page=True)


def test_serve_updates_the_open_page_on_save_and_keeps_the_drawing(browser, tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    server = LiveServer([spec], load_test(), port=0, interval=0.1).start()
    try:
        page = open_page(browser, server.url)
        draw(page, SEVEN)
        drawn, before, _ = page_state(page, 0)
        assert_page_matches_python(page, [handnet.build(spec)])
        edit(spec, "[edges.bar]\n", "[edges.bar]\nfraction = 0.3\n")
        saved = time.monotonic()
        # the page has the new network when it has the new file's SHA-256 (the version also moves when
        # maximizing inputs arrive for the old one)
        sha = hashlib.sha256(spec.read_bytes()).hexdigest()
        # 20 s only bounds a hang: how soon the page updates (issue 12: under a second) is measured by
        # benchmarks/playground_speed.py --reload, not asserted here (a timed test fails on a busy machine)
        page.wait_for_function(f"handnetPlayground.networks()[0].sha256 === {sha!r}", timeout=20000)
        print(f"the page updated {time.monotonic() - saved:.2f} s after the save")
        now, after, _ = page_state(page, 0)
        np.testing.assert_array_equal(now, drawn)  # the drawing is kept
        assert not np.allclose(after[0], before[0])
        assert_page_matches_python(page, [handnet.build(spec)])
        assert page.locator("#errors").is_hidden()

        good = handnet.build(spec)
        edit(spec, "fraction = 0.3", "fraction = 99")
        page.wait_for_selector("#errors", state="visible", timeout=5000)
        assert "fraction" in page.text_content("#errors") and "last network that built" in page.text_content("#errors")
        assert_page_matches_python(page, [good])  # the last good network stays
        np.testing.assert_array_equal(page_state(page, 0)[0], drawn)

        edit(spec, "fraction = 99", "fraction = 0.4")
        page.wait_for_selector("#errors", state="hidden", timeout=5000)
        wait_for(lambda: json.loads(json.dumps(page.evaluate("handnetPlayground.networks()")))[0]["sha256"]
                 == server.playground().shown[0].sha256)
        assert_page_matches_python(page, [handnet.build(spec)])
        assert not page.errors
    finally:
        server.stop()
