"""The forward pass, written once.

``forward(layers, a)`` runs activations ``a`` up through ``layers`` (anything with ``weights``
``(out, in)``, ``biases`` and an ``activation`` name) and returns every layer's activations and
pre-activations. ``Network.forward``, the maximizer's input gradient, the probes that start
above the input and the compiler's calibration all call it; backprop's compiled tapes are
tested against it.
"""

from __future__ import annotations

import numpy as np

from handnet.nn.activations import activation


def forward(layers, a, *, temperature=1.0):
    """``([a, a1, ..., aL], [z1, ..., zL])`` for inputs ``a`` ``(n, n_in)``.

    The weights are used in ``a``'s dtype. ``temperature`` > 1 divides the pre-activations of
    every layer but the last (the maximizer's flattened landscape); 1 is the network itself.
    """
    acts, zs = [a], []
    flatten = bool(np.any(np.asarray(temperature) != 1.0))
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        z = a @ layer.weights.T.astype(a.dtype, copy=False) + layer.biases.astype(a.dtype, copy=False)
        if flatten and i < last:
            z = z / temperature
        a = activation(layer.activation).value(z)
        zs.append(z)
        acts.append(a)
    return acts, zs


def backward(layers, acts, zs, g, *, temperature=1.0, top=None):
    """Back from ``g = dL/da`` of layer ``top`` (default the last) to ``dL/dinput``.

    ``acts``/``zs`` are ``forward``'s results for the same ``layers`` and ``temperature``.
    """
    last = len(layers) - 1
    top = last if top is None else top
    flatten = bool(np.any(np.asarray(temperature) != 1.0))
    for i in range(top, -1, -1):
        dz = activation(layers[i].activation).backward(zs[i], acts[i + 1], g)
        if flatten and i < last:
            dz = dz / temperature
        g = dz @ layers[i].weights
    return g
