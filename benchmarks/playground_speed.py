"""How fast the playground page redraws while you draw, and how big the file is.

    .venv/bin/python benchmarks/playground_speed.py [NET ...]

Writes the playground page for two networks (default: demo/hand.npz and demo/twin.npz when `make demo`
has run, else the 3b1b spec beside a 784-16-16-10 net of seed 0), opens it in headless Chromium
(Playwright, Debian's chromium), draws strokes with mouse events and reads the page's own
performance.now() timings: the time from each stroke point to the end of the redraw (the input
made from the drawing, both forward passes, both lit-up networks, the output bars). Prints the
median, 95th percentile and maximum per stroke point, and the page's size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the browser helpers the tests use


def networks(paths):
    import handnet
    from handnet.nn.network import random_network

    if paths:
        return [(p, handnet.load(p)) for p in paths]
    demo = [ROOT / "demo" / "hand.npz", ROOT / "demo" / "twin.npz"]
    if all(p.is_file() for p in demo):
        return [(p, handnet.load(p)) for p in demo]
    spec = ROOT / "weight_specs" / "3b1b.toml"
    return [(spec, handnet.build(spec)), (Path("random-seed0.npz"), random_network(seed=0))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nets", nargs="*", help="networks (.npz or .toml); default: the demo's pair")
    parser.add_argument("--strokes", type=int, default=4, help="times to draw the 7-and-0 strokes")
    args = parser.parse_args()

    from browser import SEVEN, ZERO, chromium_path, draw, launch, open_page  # noqa: E402
    from handnet.data import load_test
    from handnet.viz.playground import write_playground

    if chromium_path() is None:
        sys.exit("no Chromium found (apt-get install -y chromium)")
    nets = networks(args.nets)
    with tempfile.TemporaryDirectory() as folder:
        page_path = write_playground(nets, Path(folder) / "playground.html", load_test())
        size = page_path.stat().st_size
        with launch() as browser:
            rows = []
            for width in (1920, 360):
                page = open_page(browser, page_path.as_uri(), width=width, height=1000)
                page.evaluate("handnetPlayground.timings.length = 0")
                moves = 0
                for _ in range(args.strokes):
                    moves += draw(page, SEVEN + ZERO, steps=25)
                    page.click("#clear")
                times = np.array(page.evaluate("handnetPlayground.timings"))
                rows.append((width, len(times), np.median(times), np.percentile(times, 95), times.max()))
                page.close()
    print(f"networks: {', '.join(f'{p} ({chr(45).join(map(str, n.sizes))})' for p, n in nets)}")
    print(f"page: {size / 1e6:.2f} MB ({size:,} bytes; the limit is 2 MB)")
    print("| window | stroke points | median | 95th percentile | max |")
    print("|---|---|---|---|---|")
    for width, n, median, p95, worst in rows:
        print(f"| {width} px | {n} | {median:.1f} ms | {p95:.1f} ms | {worst:.1f} ms |")
    print("(a frame at 60 Hz is 16.7 ms; timings come from the page's performance.now(), rounded by Chromium to 0.1 ms)")


if __name__ == "__main__":
    main()
