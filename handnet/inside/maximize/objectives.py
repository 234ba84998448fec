"""What is maximized: one unit's pre-activation or activation, its exact input gradient, and the
penalties (L2, total variation) that ``Problem`` subtracts from it.

What is maximized by default is the unit's pre-activation ``z`` (objective ``"preactivation"``).
For sigmoid and ReLU units this has the same best image as the activation (the activation is
monotone in ``z``), and it does not saturate, so the optimizer keeps a useful gradient. For the
softmax output units ``z`` is the digit's logit: the evidence for that digit alone. Objective
``"activation"`` maximizes the softmax probability instead, which can also be raised by
suppressing the other nine digits; it is offered, but the logit says what the unit looks for.
"""

from __future__ import annotations

import numpy as np

from handnet.errors import HandnetError
from handnet.inside.maximize.parameterizations import blur_operator
from handnet.nn.activations import activation
from handnet.nn.forward import backward, forward
from handnet.nn.network import Network, UnitRef

OBJECTIVES = ("preactivation", "activation")


def unit_values(net: Network, ref, X):
    """The unit's pre-activation and activation for each image: two ``(n,)`` arrays."""
    ref = net.unit(ref)
    acts, zs = net.forward(np.asarray(X, dtype=float).reshape(-1, net.sizes[0]), preactivations=True)
    return zs[ref.layer][:, ref.index], acts[ref.activation_index][:, ref.index]


def input_gradient(net: Network, ref, X, objective: str = "preactivation"):
    """The objective for each image and its gradient with respect to the pixels.

    ``X`` is ``(n, 784)`` float; returns ``(values (n,), gradients (n, 784))``, computed by one
    backward pass from the chosen unit's pre-activation (or activation) down to the input.
    """
    return UnitObjective(net, net.unit(ref), objective)(np.asarray(X, dtype=float).reshape(-1, net.sizes[0]))


class UnitObjective:
    """The objective and its input gradient for one unit, through the layers below it held as
    float64 copies (the optimizer calls this thousands of times, so it skips all checking).
    The passes are ``handnet.nn.forward``'s ``forward`` and ``backward``."""

    def __init__(self, net: Network, ref: UnitRef, objective: str, log_probability: bool = False):
        if objective not in OBJECTIVES:
            raise HandnetError(f"objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
        self.layers = [layer.replace(weights=np.asarray(layer.weights, dtype=float),
                                     biases=np.asarray(layer.biases, dtype=float))
                       for layer in net.layers[: ref.layer + 1]]
        self.index, self.objective = ref.index, objective
        # > 1 flattens the sigmoids below the unit (a smoother landscape); 1 is the real network
        self.temperature = 1.0
        # a softmax probability saturates; its logarithm has the same maximizer and a steady gradient
        self.log_probability = log_probability and objective == "activation" and self.layers[-1].activation == "softmax"

    def __call__(self, X):
        acts, zs = forward(self.layers, X, temperature=self.temperature)
        top, n = self.layers[-1], X.shape[0]
        last = len(self.layers) - 1
        if self.objective == "preactivation":
            values = zs[-1][:, self.index]
            # only one unit's z matters: start the backward pass at its weight row
            g = np.broadcast_to(top.weights[self.index], (n, top.n_in))
            start = last - 1
        elif self.log_probability:
            p = acts[-1]
            values = np.log(np.maximum(p[:, self.index], 1e-300))
            dz = -p
            dz[:, self.index] += 1.0
            g = dz @ top.weights
            start = last - 1
        else:
            values = acts[-1][:, self.index]
            g = np.zeros((n, top.n_out))
            g[:, self.index] = 1.0
            start = last
        if start >= 0:
            g = backward(self.layers, acts, zs, g, temperature=self.temperature, top=start)
        return values, np.array(g, dtype=float)


def total_variation(x, shape, eps=1e-3):
    """Smoothed total variation of flat images ``(n, 784)``, and its gradient."""
    img = x.reshape(-1, *shape)
    dr = np.diff(img, axis=1)
    dc = np.diff(img, axis=2)
    sr, sc = np.sqrt(dr**2 + eps**2), np.sqrt(dc**2 + eps**2)
    value = sr.sum(axis=(1, 2)) + sc.sum(axis=(1, 2))
    g = np.zeros_like(img)
    gr, gc = dr / sr, dc / sc
    g[:, 1:, :] += gr
    g[:, :-1, :] -= gr
    g[:, :, 1:] += gc
    g[:, :, :-1] -= gc
    return value, g.reshape(x.shape)


class Problem:
    """The penalized objective over the optimized variables ``p`` (the image is ``blur(p)``)."""

    def __init__(self, net, ref, objective, l2, tv, blur):
        self.gradient = UnitObjective(net, ref, objective, log_probability=True)
        self.l2, self.tv = float(l2), float(tv)
        self.shape = net.input_shape
        self.blur = blur_operator(blur, self.shape)

    def image(self, p):
        return self.blur(p) if self.blur else p

    def value_and_grad(self, P):
        """Penalized objective and gradient for a batch ``P`` (n, 784)."""
        X = self.image(P)
        values, grads = self.gradient(X)
        if self.l2:
            values = values - self.l2 * np.sum(X**2, axis=1)
            grads = grads - 2.0 * self.l2 * X
        if self.tv:
            tv, tv_grad = total_variation(X, self.shape)
            values = values - self.tv * tv
            grads = grads - self.tv * tv_grad
        if self.blur:
            grads = self.blur(grads)
        return values, grads




class LayerScreen:
    """The pre-activations of many units of one layer at once, each row of a batch its own unit:
    the maximizer's screen, in ``dtype`` (float32: the screen only ranks starting points, which
    the float64 polish then refines).

    ``rows`` (one unit index per row of every batch) fixes which unit each row serves. Exposes
    the interface ``projected_gradient`` drives: ``value_and_grad(P)`` and ``gradient.temperature``
    (one temperature per row, ``(n, 1)``, or a scalar). In float64 with one row it is also the
    polish's objective: the same values as ``Problem`` without penalties, with less overhead.
    """

    def image(self, p):
        return p

    def __init__(self, net: Network, layer: int, rows, dtype=np.float32):
        self.below = [(np.asarray(lay.weights, dtype=dtype), np.asarray(lay.biases, dtype=dtype),
                       activation(lay.activation)) for lay in net.layers[:layer]]
        top = net.layers[layer]
        rows = np.asarray(rows, dtype=np.intp)
        self.top_weights = np.ascontiguousarray(np.asarray(top.weights, dtype=dtype)[rows])  # (n, units below)
        self.top_biases = np.asarray(top.biases, dtype=dtype)[rows]
        self.temperature = 1.0
        self.gradient = self  # projected_gradient anneals through ``problem.gradient.temperature``

    def values(self, P):
        """The pre-activations alone: ``value_and_grad(P)[0]`` without the backward pass."""
        t = self.temperature
        flatten = not (isinstance(t, float) and t == 1.0) and bool(np.any(np.asarray(t) != 1.0))
        a = P
        for W, b, act in self.below:
            z = a @ W.T + b
            if flatten:
                z = z / t
            a = act.value(z)
        return np.einsum("ij,ij->i", a, self.top_weights) + self.top_biases

    def value_and_grad(self, P):
        t = self.temperature
        flatten = not (isinstance(t, float) and t == 1.0) and bool(np.any(np.asarray(t) != 1.0))
        acts, zs, a = [], [], P
        for W, b, act in self.below:
            z = a @ W.T + b
            if flatten:
                z = z / t
            acts.append(a)
            zs.append(z)
            a = act.value(z)
        values = np.einsum("ij,ij->i", a, self.top_weights) + self.top_biases
        g = self.top_weights
        for (W, _, act), z, a_in, a_out in zip(reversed(self.below), reversed(zs), reversed(acts),
                                               reversed(acts[1:] + [a])):
            dz = act.backward(z, a_out, g)
            if flatten:
                dz = dz / t
            g = dz @ W
        return values, g
