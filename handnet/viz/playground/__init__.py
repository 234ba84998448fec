"""The playground: one self-contained HTML page where a learner draws a digit and watches networks light up.

``page`` assembles the page from its parts (``page.html``, ``playground.css``, ``playground.js``,
shipped as package data) and the networks' data from ``payload``; ``server`` serves the same page
live for ``handnet serve``, rebuilding a spec on every save. Uses ``handnet.inside`` (maximizing
inputs), ``handnet.tune`` (the watch loop), ``handnet.nn``, ``handnet.data`` and the foundation.
"""

from handnet.viz.playground.page import Playground, render_page, write_playground

__all__ = ["Playground", "render_page", "write_playground"]
