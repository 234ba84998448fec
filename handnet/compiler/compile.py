"""compile_spec: a validated Spec -> a Network, one stage per line.

    strokes -> edge templates and thresholds -> soft logic over edges -> readout over parts

Only the stages the spec asks for touch data: a fitted readout and biases calibrated to a
quantile. Everything else is computed from the spec text alone.
"""

from __future__ import annotations

import functools

from pathlib import Path

import numpy as np

from handnet.compiler import readout
from handnet.spec import strokes as strokelib
from handnet.errors import SpecError
from handnet.compiler.logic import logic_layer
from handnet.nn.forward import forward
from handnet.nn.network import Layer, Network
from handnet.compiler.templates import edge_template
from handnet.threads import single_threaded


@single_threaded  # every product here is (n, 784) x (784, 16) or smaller
def compile_spec(spec, data=None, progress=None) -> Network:
    """Compile ``spec`` (a Spec, or a path to one) into a Network with layers edges, parts, digits.

    ``data`` is the training data for fitted or calibrated units: a ``Dataset``, a directory
    of MNIST files (its training data per ``handnet.data.mnist.load_train``), or None for the default.
    It is read only when the spec fits or calibrates something. ``progress(1, next_stage)`` is
    called after each stage (``compile_steps(spec)`` in all).
    """
    if not hasattr(spec, "edges"):
        from handnet.spec import load_spec

        spec = load_spec(spec)
    step = progress or (lambda n=1, status=None: None)
    train = None
    if spec.needs_data:
        train = _training_data(data)
        step(1, "edges")
    edges = edge_layer(spec, train)
    step(1, "parts")
    parts = rule_layer(spec, 1, spec.parts, edges, train)
    step(1, f"fitting the readout ({spec.fit})" if spec.fit else "digits")
    digits = readout_layer(spec, parts, edges, train)
    step(1)
    return Network([edges, parts, digits], spec.canvas, metadata(spec, [edges, parts, digits], train))


def compile_steps(spec) -> int:
    """How many progress steps ``compile_spec`` reports for ``spec``."""
    return 4 if spec.needs_data else 3


def _training_data(data):
    from handnet.data import mnist as datalib

    if data is None or isinstance(data, (str, Path)):
        return datalib.load_train(data)
    return data


def _inputs(train, spec) -> np.ndarray:
    """Training images as ``(n, rows*cols)`` float64 in [0, 1]."""
    X = np.asarray(train.X, dtype=np.float64)
    if X.shape[1] != spec.sizes[0]:
        raise SpecError(f"{spec.path}: network.canvas: the training images have {X.shape[1]} pixels, "
                        f"the canvas {spec.sizes[0]}")
    return X


def edge_response(edge, canvas) -> tuple[np.ndarray, float, float]:
    """An edge's template ``canvas`` float, its weighted sum w.s on its own strokes inked at
    ``ink_width``, and the threshold theta: w.s_f on the first ``fraction`` of each stroke
    (beyond 1, ``fraction * w.s``). The template is read-only: it is shared between builds."""
    return _edge_response(edge.strokes, edge.width, edge.surround, edge.inhibition, edge.ink_width,
                          edge.fraction, tuple(canvas))


@functools.lru_cache(maxsize=1024)  # a rebuild after one edit (watch, sweep) redraws only what changed
def _edge_response(strokes, width, surround, inhibition, ink_width, fraction, canvas):
    template = edge_template(strokes, width, surround, inhibition, shape=canvas)
    template.setflags(write=False)
    own = float(np.sum(template * strokelib.ink(strokes, ink_width, canvas)))
    if fraction >= 1:
        return template, own, fraction * own
    part = strokelib.ink(strokelib.prefix(strokes, fraction), ink_width, canvas)
    return template, own, float(np.sum(template * part))


def edge_layer(spec, train=None) -> Layer:
    """The second layer: row i is ``gain * template_i`` with gain = sharpness / (w.s), and bias
    ``-gain * theta``, so the activation is 0.5 when the declared fraction of the stroke is inked
    and ``sharpness`` is the slope per whole stroke."""
    rows, biases, problems = [], [], []
    for edge in spec.edges:
        template, own, theta = edge_response(edge, spec.canvas)
        if own <= 1e-9:
            problems.append(f"{spec.path}: edges.{edge.name}: the template does not respond to its own stroke "
                            f"(w.s = {own:.3g}); lower inhibition or surround, or widen the stroke")
            own = 1.0
        rows.append(template.ravel() * (edge.sharpness / own))
        biases.append(edge.bias if edge.bias is not None else -edge.sharpness * theta / own)
    if problems:
        raise SpecError(problems[0] if len(problems) == 1 else "\n".join(problems), problems)
    W, b = np.array(rows), np.array(biases, dtype=np.float64)
    if train is not None:
        b = _calibrate(spec.edges, W, b, _inputs(train, spec))
    return Layer(spec.layer_names[0], W, b, spec.activations[0], tuple(e.name for e in spec.edges))


def _calibrate(units, W, b, inputs) -> np.ndarray:
    """Replace the bias of each unit with a ``quantile`` by the data's quantile (weights untouched)."""
    b = b.copy()
    chosen = [i for i, u in enumerate(units) if u.quantile is not None]
    if chosen:
        sums = inputs @ W[chosen].T
        for j, i in enumerate(chosen):
            b[i] = readout.quantile_bias(sums[:, j], units[i].quantile)
    return b


def _activations_below(spec, layers, train) -> np.ndarray:
    return forward(layers, _inputs(train, spec))[0][-1]


def rule_layer(spec, index: int, rules, below: Layer, train=None, lower=()) -> Layer:
    """Layer ``index`` (1 parts, 2 digits): soft-logic rules over the units of ``below`` (see
    handnet.compiler.logic). ``lower`` are the layers under ``below``, run when a bias is calibrated."""
    W, b = logic_layer(rules, list(below.units))
    if train is not None and any(r.quantile is not None for r in rules):
        b = _calibrate(rules, W, b, _activations_below(spec, list(lower) + [below], train))
    return Layer(spec.layer_names[index], W, b, spec.activations[index], tuple(r.name for r in rules))


def readout_layer(spec, parts: Layer, edges: Layer, train=None) -> Layer:
    """The output layer: hand-written rules over parts, or a readout fitted on the training data."""
    if spec.fit is None:
        return rule_layer(spec, 2, spec.digits, parts, train, lower=[edges])
    features = _activations_below(spec, [edges, parts], train)
    fit = readout.fitted_logistic if spec.fit == "logistic" else readout.fit_least_squares
    W, b = fit(features, np.asarray(train.y), n_classes=len(spec.digit_names), l2=spec.l2)
    return Layer(spec.layer_names[2], W, b, spec.activations[2], spec.digit_names)


def metadata(spec, layers, train) -> dict:
    """Provenance and, per unit, what it is: strokes for edges, the rule and what it reads for
    parts and digits. A saved network carries this, so it needs no spec to be explained."""
    edges, parts, digits = layers
    units = {}
    for i, e in enumerate(spec.edges):
        units[f"{edges.name}:{e.name}"] = {
            "strokes": [strokelib.to_dict(s) for s in e.strokes],
            "width": e.width, "surround": e.surround, "inhibition": e.inhibition, "ink_width": e.ink_width,
            "fraction": e.fraction, "sharpness": e.sharpness,
            "gain": float(edges.weights[i].max()),  # sharpness / (w.s): the weight on a fully covered stroke pixel
            "bias": float(edges.biases[i]),
            "threshold": "calibrated" if e.quantile is not None else ("bias" if e.bias is not None else "fraction"),
            "doc": e.doc,
            **({"digits": list(e.digits)} if e.digits is not None else {}),
        }
    for layer, rules, below in ((parts, spec.parts, edges), (digits, spec.digits, parts)):
        for i, r in enumerate(rules):
            units[f"{layer.name}:{r.name}"] = _rule_meta(r, layer, i, below)
    if spec.fit is not None:
        for i, name in enumerate(spec.digit_names):
            units[f"{digits.name}:{name}"] = {
                "rule": f"fit {spec.fit}",
                "reads": {f"{parts.name}:{p}": float(w) for p, w in zip(parts.units, digits.weights[i])},
                "bias": float(digits.biases[i]),
            }
    provenance = {"kind": "spec", "spec": spec.path, "sha256": spec.sha256, "name": spec.name}
    if len(spec.sources) > 1:
        provenance["includes"] = [{"spec": p, "sha256": h} for p, h in spec.sources[1:]]
    if train is not None:
        provenance["data"] = train.describe() if hasattr(train, "describe") else str(train)
    # which label each output unit answers (by its name, or the spec's label = N): scorers read this
    return {"provenance": provenance, "description": spec.description, "units": units, "labels": spec.labels}


def _rule_meta(rule, layer: Layer, i: int, below: Layer) -> dict:
    if rule.kind == "weights":
        text = "weights"
    else:
        text = f"at_least {rule.k} of" if rule.source.startswith("at_least") else rule.source
        text += f" {list(rule.reads)}" + (f", none_of {list(rule.none_of)}" if rule.none_of else "")
    reads = {f"{below.name}:{u}": float(w) for u, w in zip(below.units, layer.weights[i]) if w != 0}
    threshold = "calibrated" if rule.quantile is not None else ("bias" if rule.bias is not None else "rule")
    return {"rule": text, "reads": reads, "bias": float(layer.biases[i]), "sharpness": rule.sharpness,
            "threshold": threshold, "doc": rule.doc, **({"digits": list(rule.digits)} if rule.digits is not None else {})}
