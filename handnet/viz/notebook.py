"""How a Network, an Evaluation and a sweep show themselves in Jupyter: small HTML summaries with
pictures drawn inline (weights green positive, red negative, as in the lesson).

Importing this module registers the views with ``handnet.views`` (``import handnet`` does), so the
classes themselves never import figures. Other results show their ``format_text()``.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np

from handnet.nn.evaluate import DIGITS
from handnet.views import register, text_html



def png_bytes(fig, dpi: int = 100) -> bytes:
    """A matplotlib Figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _img(fig, alt: str) -> str:
    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"/>'


def network_png(net) -> bytes:
    """The first layer's weight grids as one PNG (``Network._repr_png_``)."""
    return png_bytes(_first_layer_figure(net))


def _first_layer_figure(net):
    from handnet.viz.plots import plot_weight_grid

    first = net.layers[0]
    return plot_weight_grid(first.weights, [f"{first.name}:{u}" for u in first.units], ncols=8,
                            shape=tuple(net.input_shape),
                            title=f"{first.name}: each unit's input weights as a picture")


def network_html(net) -> str:
    """A Network as HTML: shape, one row per layer, provenance, and the first layer's pictures."""
    rows = "".join(
        f"<tr><td>{html.escape(layer.name)}</td><td>{layer.n_out}</td><td>{layer.activation}</td>"
        f"<td>{layer.weights.size + layer.biases.size:,}</td>"
        f"<td style='text-align:left'>{html.escape(', '.join(layer.units[:16]))}{', ...' if layer.n_out > 16 else ''}</td></tr>"
        for layer in net.layers
    )
    provenance = net.metadata.get("provenance") or {}
    prov = ", ".join(f"{html.escape(str(k))}={html.escape(str(v))}" for k, v in provenance.items()
                     if not isinstance(v, (list, dict)))
    first = net.layers[0]
    picture = ""
    if first.n_in == int(np.prod(net.input_shape)):
        picture = _img(_first_layer_figure(net), f"weights of {first.name}")
    return (
        f"<div><b>Network {'-'.join(map(str, net.sizes))}</b>, {net.n_parameters:,} parameters"
        + (f"<br/><small>{prov}</small>" if prov else "")
        + "<table><tr><th>layer</th><th>units</th><th>activation</th><th>parameters</th><th>unit names</th></tr>"
        + rows + "</table>" + picture + "</div>"
    )


def evaluation_html(ev) -> str:
    """An Evaluation as HTML: accuracy, a per-digit bar table, the confusion matrix shaded by count."""
    support = ev.support
    digit_rows = "".join(
        f"<tr><td>{d}</td><td>{support.get(d, 0)}</td><td>{acc:.1%}</td>"
        f"<td style='text-align:left'><div style='background:#4a4;height:0.8em;width:{100 * acc:.0f}px'></div></td></tr>"
        for d, acc in ev.per_digit.items()
    )
    peak = max(int(ev.confusion.max()), 1)

    def cell(i, j):
        c = int(ev.confusion[i, j])
        shade = 1 - 0.7 * c / peak
        color = f"rgb({int(255 * shade)},{int(255 * shade)},255)" if i == j else f"rgb(255,{int(255 * shade)},{int(255 * shade)})"
        return f"<td style='background:{color}'>{c if c else ''}</td>"

    scored = [int(d) for d in getattr(ev, "scored", DIGITS)]  # only the labels the network answers
    confusion = "".join(
        f"<tr><th>{i}</th>" + "".join(cell(i, j) for j in scored) + "</tr>" for i in scored
    )
    mistakes = ", ".join(f"{t} read as {p} ({c})" for t, p, c in ev.mistakes(3))
    scope = getattr(ev, "scope", None)
    return (
        f"<div><b>accuracy {ev.accuracy:.2%}</b> ({ev.n_correct:,} of {ev.n:,} digits; {html.escape(ev.data)})"
        + (f"<br/>{html.escape(scope.sentence())}" if scope is not None else "")
        + (f"<br/>most common mistakes: {mistakes}" if mistakes else "")
        + "<div style='display:flex;gap:2em'><table><tr><th>digit</th><th>n</th><th>accuracy</th><th></th></tr>"
        + digit_rows + "</table>"
        + "<table><tr><th>true \\ pred</th>" + "".join(f"<th>{d}</th>" for d in scored) + "</tr>"
        + confusion + "</table></div></div>"
    )


def sweep_html(result) -> str:
    """A SweepResult as HTML: its plot (accuracy against the value, current value marked) and table."""
    from handnet.viz.tune import plot_sweep

    fig = plot_sweep(result.values, result.overall, result.per_digit, result.current, result.path)
    return f"<div>{_img(fig, f'sweep of {result.path}')}{text_html(result.format_text())}</div>"


def sweep_grid_html(grid) -> str:
    """A SweepGrid as HTML: its heat map (accuracy over every pair, current and best framed) and table."""
    from handnet.viz.tune import plot_sweep_grid

    fig = plot_sweep_grid(grid.values[0], grid.values[1], grid.overall, grid.current, grid.paths, grid.data,
                          grid.as_written, 1 / max(len(grid.scored()), 1))
    return f"<div>{_img(fig, f'sweep of {grid.paths[0]} x {grid.paths[1]}')}{text_html(grid.format_text())}</div>"


register("handnet.nn.network.Network", html_view=network_html, png_view=network_png)
register("handnet.nn.evaluate.Evaluation", html_view=evaluation_html)
register("handnet.tune.sweep.SweepResult", html_view=sweep_html)
register("handnet.tune.sweep.SweepGrid", html_view=sweep_grid_html)
