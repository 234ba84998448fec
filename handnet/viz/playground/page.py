"""The playground page: networks and test digits in, one offline HTML file out.

``Playground`` holds the networks shown side by side (each with its label, source file and
SHA-256), the test digits, and each network's maximizing inputs once computed; ``render_page``
lays them out as HTML (the page's JavaScript runs the networks); ``write_playground`` does it
all for files on disk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from handnet.atomic import write_text
from handnet.errors import HandnetError
from handnet.nn.network import Network
from handnet.viz.playground.payload import DigitPool, check_drawable, compute_maximizers, file_sha256, network_payload
from handnet.viz.style import PALETTES

TITLE = "handnet playground"
MAX_NETWORKS = 4


def asset(name: str) -> str:
    """The text of one of the page's parts shipped beside this module."""
    return resources.files("handnet.viz.playground").joinpath(name).read_text(encoding="utf-8")


@dataclass
class Shown:
    """One network on the page: the Network, its label, where it came from, and its maximizers (or None)."""

    network: Network
    label: str
    source: str
    sha256: str | None = None
    maximizers: list | None = None


@dataclass
class Playground:
    """What the page shows: networks side by side, the test digits they are explained with, a palette."""

    shown: list[Shown]
    test: object = None  # a handnet.data Dataset, or None for no test digits
    palette: str = "lesson"
    errors: list[str] = field(default_factory=list)
    version: int = 1

    def pool(self) -> DigitPool:
        if self.test is None:
            import numpy as np

            return DigitPool(np.zeros((0, 784)), np.zeros(0, dtype=int), "no")
        return DigitPool(self.test.X, self.test.y, self.test.describe() if hasattr(self.test, "describe") else "test")

    def data(self, as_lists: bool = False) -> dict:
        """The page's data as one JSON-ready dict (also what ``/network.json`` serves, with lists)."""
        if self.palette not in PALETTES:
            raise HandnetError(f"palette {self.palette!r} is not one of {', '.join(PALETTES)}")
        pool = self.pool()
        starters = pool.starters() if len(pool.X) else []
        networks = [
            network_payload(s.network, label=s.label, source=s.source, sha256=s.sha256, pool=pool,
                            maximizers=s.maximizers, as_lists=as_lists)
            for s in self.shown
        ]
        negative, positive = PALETTES[self.palette]
        return {
            "version": self.version,
            "networks": networks,
            "pool": pool.to_dict(as_lists),
            "starters": starters,
            "palette": {"name": self.palette, "negative": negative, "positive": positive},
            "errors": list(self.errors),
        }


def render_page(data: dict, live: bool = False, poll_ms: int = 300, title: str = TITLE) -> str:
    """The whole page as one HTML string: CSS and JavaScript inline, ``data`` embedded as JSON."""
    data = dict(data, live=bool(live), poll_ms=int(poll_ms))
    # "</" would end the script element early; "<\/" means the same in JSON
    text = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = asset("page.html")
    for key, value in (("__CSS__", asset("playground.css")), ("__JS__", asset("playground.js")),
                       ("__TITLE__", title)):
        page = page.replace(key, value)
    return page.replace("__DATA__", text)


def label_for(path, index: int, network: Network) -> str:
    """A short label for a network on the page: its spec name, else its file name."""
    name = (network.metadata.get("provenance") or {}).get("name")
    return str(name or Path(path).stem or f"network {index + 1}")


def write_playground(networks, out, test=None, palette: str = "lesson", labels=None, progress=None) -> Path:
    """Write the page for ``networks`` (``[(path, Network), ...]``) to ``out``; returns the path.

    ``test`` is the Dataset the unit panels take their top digits from; ``progress(n)`` is
    called once per unit as maximizing inputs are computed.
    """
    networks = list(networks)
    if not 1 <= len(networks) <= MAX_NETWORKS:
        raise HandnetError(f"the playground shows 1 to {MAX_NETWORKS} networks side by side, got {len(networks)}")
    for path, net in networks:
        check_drawable(net, str(path))  # before the slow part
    shown = []
    for i, (path, net) in enumerate(networks):
        label = labels[i] if labels else label_for(path, i, net)
        shown.append(Shown(net, label, str(path), file_sha256(path), compute_maximizers(net, progress)))
    page = render_page(Playground(shown, test, palette).data())
    out = Path(out)
    write_text(out, page)
    return out
