"""The HTML report: self-contained (no external references) and rendered with its images by headless Chromium."""

import re
import shutil
import subprocess

import pytest

from handnet.compare import compare
from handnet.data import load_splits
from handnet.network import random_network
from handnet.report import render_report

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHECK = """<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var out = document.createElement('div'); out.id = 'image-check';
  out.setAttribute('data-result', ok + '/' + imgs.length); document.body.appendChild(out);
});
</script></body>"""


@pytest.fixture(scope="module")
def page():
    splits = load_splits()
    test = splits.test.subset(slice(0, 300))
    a, b = random_network(seed=0), random_network(seed=1)
    comparison = compare(a, b, test.X, test.y, names=("hand", "trained"), data=test.describe())
    return render_report("handnet report: test", "intro", comparison=comparison)


def test_report_is_self_contained(page):
    assert page.startswith("<!DOCTYPE html>")
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) >= 8 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(src|href)="(http|//)', page)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_renders_with_its_images_in_headless_chromium(page, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("no headless browser installed (apt-get install -y chromium)")
    html_file = tmp_path / "index.html"
    html_file.write_text(page.replace("</body>", CHECK))
    result = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--dump-dom", html_file.as_uri()],
        capture_output=True, text=True, timeout=60,
    )
    found = re.search(r'id="image-check" data-result="(\d+)/(\d+)"', result.stdout)
    assert found, f"no image check in the rendered DOM: {result.stderr[-500:]}"
    ok, total = map(int, found.groups())
    assert total == page.count("<img ") and ok == total
