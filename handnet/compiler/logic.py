"""Soft logic: a rule over named units in [0, 1] compiled to one neuron's weights and bias.

With g = sharpness, n positive inputs of which at least k must be on, and activation
sigmoid(w.a + b):

- each positive input gets weight ``g``;
- the bias is ``-g * (k - 1/2)``, so k inputs fully on give ``+g/2`` and k-1 give ``-g/2``;
- each ``none_of`` input gets weight ``-veto * 2g * (n - k + 1/2)``: with every positive input
  on, one inhibitor at activation 0.5 (for veto = 1) brings the sum back to 0.

``all_of`` is at_least n, ``any_of`` is at_least 1. ``weights`` rules use the given weights and
bias (default 0) as they are. An explicit ``bias`` replaces the formula's bias.
"""

from __future__ import annotations

import numpy as np


def rule_weights(rule, inputs: list[str]) -> tuple[np.ndarray, float]:
    """One row of weights ``(len(inputs),)`` over the named ``inputs`` and the bias for ``rule``."""
    index = {name: i for i, name in enumerate(inputs)}
    w = np.zeros(len(inputs))
    if rule.kind == "weights":
        for name, value in rule.weights:
            w[index[name]] = value
        return w, (rule.bias if rule.bias is not None else 0.0)
    g, n, k = rule.sharpness, len(rule.reads), rule.k
    for name in rule.reads:
        w[index[name]] = g
    for name in rule.none_of:
        w[index[name]] = -rule.veto * 2.0 * g * (n - k + 0.5)
    bias = -g * (k - 0.5)
    return w, (rule.bias if rule.bias is not None else bias)


def logic_layer(rules, inputs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(len(rules), len(inputs))`` and biases ``(len(rules),)`` for a layer of rules."""
    rows = [rule_weights(rule, inputs) for rule in rules]
    return np.array([w for w, _ in rows]).reshape(len(rules), len(inputs)), np.array([b for _, b in rows])
