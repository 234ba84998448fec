"""The one table of activation functions: each name with its function and its derivative.

Every part of handnet that applies an activation or backs a gradient through one looks it up
here: the forward pass, backprop's compiled tapes, the maximizer's input gradient, the spec
validator (which names are allowed) and interval bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from handnet.errors import HandnetError


def sigmoid(z):
    """The logistic function 1 / (1 + e^-z), without overflow: e^-|z| never exceeds 1."""
    e = np.exp(-np.abs(z))
    d = 1.0 + e
    return np.where(z >= 0, 1.0 / d, e / d)


def relu(z):
    """max(0, z)."""
    return np.maximum(z, 0)


def softmax(z):
    """Softmax over the last axis."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid_backward(z, a, g):
    return g * a * (1.0 - a)


def _relu_backward(z, a, g):
    return g * (z > 0)


def _softmax_backward(z, a, g):
    # the Jacobian diag(a) - a a^T is symmetric
    return a * (g - np.sum(g * a, axis=-1, keepdims=True))


# The same functions as NumPy calls with every buffer bound (``out=``), for backprop's compiled
# tapes: ``s`` holds one layer's scratch buffers ("t": like z, "col": (n, 1), "mask": bool like z).
# Ufuncs and reductions take ``out`` positionally to skip wrappers.
def _sigmoid_tape(z, out, s, dtype) -> list:
    t = s["t"]  # 1 / (1 + e^-z): four fast ufunc calls; e^-z overflows to inf for z << 0, and 1/inf is 0
    return [partial(np.negative, z, t), partial(np.exp, t, t), partial(np.add, t, dtype.type(1), t),
            partial(np.reciprocal, t, out)]


def _relu_tape(z, out, s, dtype) -> list:
    return [partial(np.maximum, z, dtype.type(0), out=out)]


def _softmax_tape(z, out, s, dtype) -> list:
    col = s["col"]  # shifted by the row maximum so exp cannot overflow
    return [partial(np.maximum.reduce, z, 1, None, col, True), partial(np.subtract, z, col, out),
            partial(np.exp, out, out), partial(np.add.reduce, out, 1, None, col, True),
            partial(np.divide, out, col, out)]


def _sigmoid_backward_tape(d, z, a, s, dtype) -> list:
    t = s["t"]  # σ' = a (1 - a)
    return [partial(np.subtract, dtype.type(1), a, t), partial(np.multiply, t, a, t), partial(np.multiply, d, t, d)]


def _relu_backward_tape(d, z, a, s, dtype) -> list:
    mask = s["mask"]
    return [partial(np.greater, z, dtype.type(0), mask), partial(np.multiply, d, mask, d)]


def _softmax_backward_tape(d, z, a, s, dtype) -> list:
    t, col = s["t"], s["col"]  # dz = a * (da - Σ_k a_k da_k)
    return [partial(np.multiply, d, a, t), partial(np.add.reduce, t, 1, None, col, True),
            partial(np.subtract, d, col, d), partial(np.multiply, d, a, d)]


@dataclass(frozen=True)
class Activation:
    """One activation function, in the two forms handnet runs it in.

    ``value(z) -> a`` and ``backward(z, a, g) -> dL/dz`` (given ``g = dL/da``; all ``(n, units)``)
    for the forward pass and the maximizer; ``tape(z, out, scratch, dtype)`` and
    ``backward_tape(d, z, a, scratch, dtype)`` the same as lists of bound in-place calls, for
    backprop (``d`` holds dL/da and becomes dL/dz).
    """

    name: str
    value: Callable
    backward: Callable
    tape: Callable
    backward_tape: Callable
    monotone: bool  # each output rises with its own pre-activation alone (not softmax)


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_backward, _sigmoid_tape, _sigmoid_backward_tape, True),
    "relu": Activation("relu", relu, _relu_backward, _relu_tape, _relu_backward_tape, True),
    "softmax": Activation("softmax", softmax, _softmax_backward, _softmax_tape, _softmax_backward_tape, False),
}


def activation(name: str) -> Activation:
    """The table entry for ``name``, or a HandnetError that lists the known ones."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise HandnetError(f"activation {name!r} is not one of {', '.join(ACTIVATIONS)}") from None


def activate(z, name: str):
    """Apply the named activation to pre-activations ``z``."""
    return activation(name).value(z)
