"""What a unit's weights say, in arrays ready for ``plots``.

* First-layer units: their 784 input weights, one 28x28 picture each.
* Deeper units: their weights over the (named) units of the layer below, and their effective
  pixel template ``W_l[j] @ W_(l-1) @ ... @ W_1``: the composition of the weights down to the
  pixels. That is a linear approximation: it treats every sigmoid below as a straight line
  (and ignores biases), so it shows which pixels push the unit up or down through the strongest
  paths, not what it computes exactly (activation maximization answers that).
"""

from __future__ import annotations

import numpy as np

from handnet.errors import UnitError
from handnet.nn.network import Network


def _layer(net: Network, layer) -> int:
    return layer if isinstance(layer, int) else net.layer_index(layer)


def effective_templates(net: Network, layer) -> np.ndarray:
    """``W_l @ ... @ W_1`` for layer ``l``: ``(n_units, 784)``, each row a unit's linear pixel template."""
    li = _layer(net, layer)
    template = np.asarray(net.layers[li].weights, dtype=float)
    for below in range(li - 1, -1, -1):
        template = template @ np.asarray(net.layers[below].weights, dtype=float)
    return template


def incoming(net: Network, layer, units=None):
    """A deeper layer's weights over the layer below: ``(weights (n, n_below), unit names, input names,
    biases (n,))``; ``units`` picks some units (refs), default all."""
    li = _layer(net, layer)
    if li == 0:
        raise UnitError(f"layer {net.layers[0].name} reads pixels, not named units; draw it as a weight grid")
    refs = net.units(li) if units is None else [net.unit(u) for u in units]
    rows = [r.index for r in refs]
    layer_obj = net.layers[li]
    return (
        np.asarray(layer_obj.weights, dtype=float)[rows],
        [str(r) for r in refs],
        list(net.layers[li - 1].units),
        np.asarray(layer_obj.biases, dtype=float)[rows],
    )
