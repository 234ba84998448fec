"""Driving a real browser for the playground tests: Playwright for Python with Debian's Chromium.

Playwright's own browser download is not reachable here, so Chromium is launched by its path.
``launch()`` skips the calling test, with the reason, when Playwright or Chromium is absent.
"""

from __future__ import annotations

import contextlib
import shutil

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# a 7: the bar, then down to the bottom left; as fractions of the drawing canvas
SEVEN = [[(0.25, 0.22), (0.74, 0.22), (0.45, 0.84)]]
# a 1 drawn off-centre and small, then a second stroke: the page must crop, scale and centre it
ONE = [[(0.62, 0.30), (0.60, 0.62)]]
ZERO = [[(0.5, 0.2), (0.7, 0.35), (0.7, 0.65), (0.5, 0.82), (0.3, 0.65), (0.3, 0.35), (0.5, 0.2)]]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextlib.contextmanager
def launch():
    """A headless Chromium browser, or a skip saying what is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                                   "(pip install -e '.[test]')")
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium on this machine (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str, width: int = 1280, height: int = 900):
    """A new page at ``url``, once the playground has drawn itself; JavaScript errors are collected
    in ``page.errors``."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    return page


def draw(page, strokes, steps: int = 12) -> int:
    """Draw ``strokes`` (lists of (x, y) fractions of the canvas) with mouse events; returns the
    number of pointer moves made."""
    box = page.locator("#canvas").bounding_box()

    def at(point):
        return box["x"] + box["width"] * point[0], box["y"] + box["height"] * point[1]

    moves = 0
    for stroke in strokes:
        page.mouse.move(*at(stroke[0]))
        page.mouse.down()
        for a, b in zip(stroke, stroke[1:]):
            for k in range(1, steps + 1):
                t = k / steps
                page.mouse.move(*at((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)))
                moves += 1
        page.mouse.up()
    return moves
