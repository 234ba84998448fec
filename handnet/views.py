"""How the library's results show themselves in Jupyter, without the library importing figures.

A result class inherits ``NotebookView``. Jupyter asks it for HTML (and PNG); it answers with the
view that ``handnet.viz.notebook`` registered for its class, or else with its own ``format_text()``
as preformatted text. ``import handnet`` imports ``handnet.viz.notebook``, which registers the
views, so the classes below ``viz`` never import it.
"""

from __future__ import annotations

import html
from typing import Callable

_VIEWS: dict[str, dict[str, Callable]] = {"html": {}, "png": {}}


def register(class_path: str, *, html_view: Callable | None = None, png_view: Callable | None = None) -> None:
    """Use ``html_view(obj) -> str`` / ``png_view(obj) -> bytes`` for the class ``module.Name``."""
    if html_view is not None:
        _VIEWS["html"][class_path] = html_view
    if png_view is not None:
        _VIEWS["png"][class_path] = png_view


def text_html(text: str) -> str:
    """A text report as preformatted HTML."""
    return f"<pre>{html.escape(text)}</pre>"


def _key(obj) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


class NotebookView:
    """Mixin: the Jupyter view registered for the class, else ``format_text()`` as ``<pre>`` text."""

    def _repr_html_(self):
        view = _VIEWS["html"].get(_key(self))
        if view is not None:
            return view(self)
        format_text = getattr(self, "format_text", None)
        return text_html(format_text()) if format_text is not None else None

    def _repr_png_(self):
        view = _VIEWS["png"].get(_key(self))
        return view(self) if view is not None else None
