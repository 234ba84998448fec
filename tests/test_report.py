"""The HTML report: self-contained (no external references) and rendered with its images by headless Chromium."""

import re
import shutil
import subprocess

import numpy as np
import pytest

from handnet.compare.comparison import compare
from handnet.data.mnist import load_splits
from handnet.nn.network import random_network
from handnet.viz.report import render_report

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
def comparison():
    splits = load_splits()
    test = splits.test.subset(slice(0, 300))
    a, b = random_network(seed=0), random_network(seed=1)
    return compare(a, b, test.X, test.y, names=("hand", "trained"), data=test.describe())


@pytest.fixture(scope="module")
def page(comparison):
    return render_report("handnet report: test", "intro", comparison=comparison)


def test_sections_drawn_in_worker_processes_make_the_same_page(comparison):
    nets = {"hand": comparison.a.network}
    pages = [render_report("t", "intro", comparison=comparison, nets=nets, jobs=jobs) for jobs in (1, 2)]
    stamp = re.compile(r"Made by handnet on [^.]*\.")
    assert stamp.sub("", pages[0]) == stamp.sub("", pages[1])
    # the comparison (the longest section, drawn first by a worker), then the side-by-side pictures: in page order
    assert pages[1].index("<h2>hand vs trained</h2>") < pages[1].index("<h2>Inside: weights") and pages[1].count("<h2>") == 2


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


def test_ladder_surgery_and_drift_figures_from_arrays(tmp_path):
    from handnet.atomic import save_figure
    from handnet.viz import compare as plots

    rungs = [{"label": f"rung {k}", "accuracy_mean": 0.5 + 0.1 * k, "accuracy_min": 0.45 + 0.1 * k,
              "accuracy_max": 0.55 + 0.1 * k, "edge_likeness_median": 0.9 - 0.1 * k} for k in range(5)]
    fig = plots.plot_ladder(rungs)
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 5
    assert [p.get_height() for p in fig.axes[1].patches] == pytest.approx([r["edge_likeness_median"] for r in rungs])
    save_figure(fig, tmp_path / "ladder.png")
    assert (tmp_path / "ladder.png").stat().st_size > 1000
    fig = plots.plot_surgery([{"label": "trained", "accuracy": 0.9}, {"label": "hand, refit above", "accuracy": 0.8}])
    assert [p.get_width() for p in fig.axes[0].patches] == pytest.approx([0.9, 0.8])
    fig = plots.plot_drift(["edges:a", "edges:b"], [0.2, 0.9])
    assert [p.get_height() for p in fig.axes[0].patches] == pytest.approx([0.2, 0.9])


def test_weight_mosaic_colours_follow_the_lesson():
    from handnet.viz.compare import mosaic

    w = np.zeros(784)
    w[0], w[1] = 1.0, -1.0
    tile = mosaic([w], columns=1, gap=0)
    assert tile[0, 0, 1] > 0.5 and tile[0, 0, 0] < 0.3  # positive: green
    assert tile[0, 1, 0] > 0.5 and tile[0, 1, 1] < 0.3  # negative: red
    assert np.all(tile[5, 5] < 0.05)  # zero: dark
