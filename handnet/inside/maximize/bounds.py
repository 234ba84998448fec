"""Upper and lower bounds on what a unit can reach, by interval bound propagation.

Each unit's pre-activation over the whole input box is bounded layer by layer by
``b + sum_j max(w_j lo_j, w_j hi_j)``, where ``[lo_j, hi_j]`` bounds unit ``j`` below. For a
first-layer unit the bound is exact; for a second-layer unit it is reached exactly when the best
images of the units it reads are compatible. ``Maximizer.gap`` says how far below the bound a
result is, as a fraction of the unit's whole interval ``[z_lo, z_hi]``.
"""

from __future__ import annotations

import numpy as np

from handnet.nn.activations import activate
from handnet.nn.network import Network


def interval_bounds(net: Network, constraint: str = "box"):
    """Bounds on every layer's pre-activations over all allowed images.

    Returns a list of ``(z_lo, z_hi)`` pairs, one per layer, each ``(units,)``. The first layer's
    bounds are exact (each is reached by its closed-form image); deeper ones come from interval
    bound propagation and are reached only when the units below can peak together.
    """
    bounds = []
    lo = hi = None
    for li, layer in enumerate(net.layers):
        W, b = layer.weights.astype(float), layer.biases.astype(float)
        if li == 0:
            Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
            if constraint == "l2":
                z_hi = b + np.linalg.norm(Wp, axis=1)
                z_lo = b - np.linalg.norm(Wn, axis=1)
            else:
                z_hi = b + Wp.sum(axis=1)
                z_lo = b + Wn.sum(axis=1)
        else:
            Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
            z_hi = b + Wp @ hi + Wn @ lo
            z_lo = b + Wp @ lo + Wn @ hi
        bounds.append((z_lo, z_hi))
        if layer.activation == "softmax":
            # each probability lies between its worst and best case against the others
            lo, hi = _softmax_bounds(z_lo, z_hi)
        else:
            lo, hi = activate(z_lo, layer.activation), activate(z_hi, layer.activation)
    return bounds


def _softmax_bounds(z_lo, z_hi):
    n = len(z_lo)
    lo, hi = np.empty(n), np.empty(n)
    for k in range(n):
        others = np.arange(n) != k
        hi[k] = 1.0 / (1.0 + np.sum(np.exp(z_lo[others] - z_hi[k])))
        lo[k] = 1.0 / (1.0 + np.sum(np.exp(z_hi[others] - z_lo[k])))
    return lo, hi


def objective_bounds(net: Network, ref, objective: str = "preactivation", constraint: str = "box"):
    """``(lower, upper)`` bounds on the unit's objective over all allowed images."""
    ref = net.unit(ref)
    bounds = interval_bounds(net, constraint)
    z_lo, z_hi = bounds[ref.layer]
    if objective == "preactivation":
        return float(z_lo[ref.index]), float(z_hi[ref.index])
    layer = net.layers[ref.layer]
    if layer.activation == "softmax":
        lo, hi = _softmax_bounds(z_lo, z_hi)
        return float(lo[ref.index]), float(hi[ref.index])
    lo = activate(z_lo[[ref.index]], layer.activation)[0]
    hi = activate(z_hi[[ref.index]], layer.activation)[0]
    return float(lo), float(hi)


