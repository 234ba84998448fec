"""The gradient-trained twin: a vectorized NumPy backprop trainer for any Network layout.

``train(X, y, config)`` runs mini-batch gradient descent (SGD with optional momentum, or Adam) on
the quadratic cost of the lesson or on cross-entropy, with L2 weight decay, a learning-rate
schedule and optional seeded augmentation (small random shifts and rotations). It can start from
a hand-built network (``init=``) and keep chosen layers frozen (``freeze=["edges"]``).

Speed comes from doing everything per mini-batch as a few whole-array operations: all parameters
live in one flat buffer (so an optimizer step is a handful of vector operations, whatever the
layout), every intermediate array is preallocated per batch size and written with ``out=``, and
there is no per-example Python loop. ``gradients`` exposes the same backward pass for the
finite-difference tests.

Losses, per image, averaged over the images of a batch:

* ``quadratic``: ½ Σ_k (a_k - y_k)², the lesson's cost (Nielsen's C = 1/2n Σ ||y - a||²);
* ``cross_entropy``: -Σ_k y_k log a_k on a softmax output; on a sigmoid output (a hand-built net's
  digits) the per-unit binary cross-entropy -Σ_k [y_k log a_k + (1 - y_k) log(1 - a_k)].

plus ½ · weight_decay · Σ w² over the weights (not the biases) of the layers being trained.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from operator import call

import numpy as np

from .errors import HandnetError
from .network import Layer, Network, activate, default_layer_names

LOSSES = ("cross_entropy", "quadratic")
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "step", "cosine")
HIDDEN_ACTIVATIONS = ("sigmoid", "relu")
OUTPUTS = ("softmax", "sigmoid")
DTYPES = ("float32", "float64")
DEFAULT_AUGMENT = (1.5, 8.0)  # max shift in pixels, max rotation in degrees
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
STEP_MILESTONES = (0.5, 0.75)  # the "step" schedule divides the rate by 10 at these fractions of the run
EVAL_CHUNK = 4096  # images per forward pass when measuring loss and accuracy
MULTITHREAD_BATCH = 1024  # smaller mini-batches train on one BLAS thread (see _blas_threads)
AUGMENT_CHUNK = 64  # images per vectorized warp


def _fail(field_name: str, value, expected: str):
    raise HandnetError(f"TrainConfig.{field_name}: got {value!r}, expected {expected}")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run. The defaults are the good recipe (see the README).

    ``augment`` is ``(max shift in pixels, max rotation in degrees)``; ``False``/``0`` turns it
    off and ``True`` means ``DEFAULT_AUGMENT``. ``sizes``, ``hidden_activation`` and ``output``
    describe a fresh network; with ``train(init=net)`` the given net's layout is used instead.
    """

    sizes: tuple = (784, 16, 16, 10)
    hidden_activation: str = "sigmoid"
    output: str = "softmax"
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 60
    weight_decay: float = 3e-4
    schedule: str = "cosine"
    augment: tuple | bool = DEFAULT_AUGMENT
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self):
        def choice(name, options):
            value = getattr(self, name)
            if value not in options:
                _fail(name, value, "one of " + ", ".join(options))

        def number(name, low, *, integer=False, strict=True, high=None):
            value = getattr(self, name)
            ok_type = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float, np.number))
            if isinstance(value, bool) or not ok_type or not math.isfinite(value):
                _fail(name, value, "an integer" if integer else "a number")
            if (value <= low if strict else value < low) or (high is not None and value > high):
                bound = f"{'>' if strict else '>='} {low}" + (f" and <= {high}" if high is not None else "")
                _fail(name, value, f"a {'whole ' if integer else ''}number {bound}")
            object.__setattr__(self, name, int(value) if integer else float(value))

        try:
            sizes = tuple(int(s) for s in self.sizes)
            bad = len(sizes) < 2 or any(s < 1 for s in sizes) or any(s != t for s, t in zip(sizes, self.sizes))
        except (TypeError, ValueError):
            bad = True
        if bad:
            _fail("sizes", self.sizes, "at least two positive layer sizes, e.g. (784, 16, 16, 10)")
        object.__setattr__(self, "sizes", sizes)
        choice("hidden_activation", HIDDEN_ACTIVATIONS)
        choice("output", OUTPUTS)
        choice("loss", LOSSES)
        choice("optimizer", OPTIMIZERS)
        choice("schedule", SCHEDULES)
        choice("dtype", DTYPES)
        number("lr", 0)
        number("momentum", 0, strict=False, high=0.999999)
        number("batch_size", 0, integer=True)
        number("epochs", 0, integer=True, strict=False)
        number("weight_decay", 0, strict=False)
        number("seed", 0, integer=True, strict=False)
        object.__setattr__(self, "augment", _normalize_augment(self.augment))

    @property
    def augmenting(self) -> bool:
        return any(v > 0 for v in self.augment)

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some settings changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Every setting as JSON-ready values."""
        d = dataclasses.asdict(self)
        d["sizes"] = list(self.sizes)
        d["augment"] = {"max_shift_px": self.augment[0], "max_rotation_deg": self.augment[1]}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """The inverse of ``to_dict`` (as saved in a trained network's provenance)."""
        d = dict(d)
        aug = d.get("augment")
        if isinstance(aug, dict):
            d["augment"] = (aug.get("max_shift_px", 0.0), aug.get("max_rotation_deg", 0.0))
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise HandnetError(f"TrainConfig: unknown settings {', '.join(unknown)}")
        return cls(**d)


def _normalize_augment(value) -> tuple[float, float]:
    expected = "True/False or (max shift in pixels >= 0, max rotation in degrees >= 0)"
    if value is None or value is False:
        return (0.0, 0.0)
    if value is True:
        return DEFAULT_AUGMENT
    if isinstance(value, (int, float)) and value == 0:
        return (0.0, 0.0)
    try:
        shift, degrees = (float(v) for v in value)
    except (TypeError, ValueError):
        _fail("augment", value, expected)
    if not (math.isfinite(shift) and math.isfinite(degrees)) or shift < 0 or degrees < 0 or degrees > 180:
        _fail("augment", value, expected)
    return (shift, degrees)


# The lesson's plain recipe (Nielsen's network.py): quadratic cost on sigmoid outputs, plain SGD.
LESSON_RECIPE = TrainConfig(
    output="sigmoid",
    loss="quadratic",
    optimizer="sgd",
    lr=3.0,
    momentum=0.0,
    batch_size=10,
    epochs=30,
    weight_decay=0.0,
    schedule="constant",
    augment=False,
)


@dataclass
class TrainResult:
    """A trained ``network`` and its ``history``: one dict per completed epoch.

    Each history entry holds ``epoch`` (1-based), ``lr``, ``loss`` and ``train_accuracy`` (the
    mean data loss and the accuracy over the epoch's mini-batches, each measured as it was
    trained on, augmented if augmentation is on, like scikit-learn's ``loss_curve_``),
    ``test_accuracy`` (after the epoch; None without a test set) and ``seconds``. ``interrupted`` is True when Ctrl-C stopped the
    run; the network is then the best one seen so far (``best_epoch``).
    """

    network: Network
    history: list = field(default_factory=list)
    interrupted: bool = False
    best_epoch: int | None = None

    @property
    def final(self) -> dict:
        """The last completed epoch's record (empty if none completed)."""
        return self.history[-1] if self.history else {}


# ---- the engine: parameters in one flat buffer, a forward/backward pass per mini-batch -----------
class _Engine:
    """A layered net's parameters in one flat buffer, with the vectorized forward and backward pass.

    Layer ``l`` is stored as one block ``P[l]`` of shape ``(in + 1, out)``: its weights transposed,
    with the biases as the last row. The inputs carry a trailing column of ones, so the big first
    layer is a single matrix product (``z = [x, 1] @ P``) and its whole gradient another
    (``dP = [x, 1].T @ delta``); the small hidden layers stay contiguous and add their biases.
    ``W(l)`` and ``b(l)`` give the usual ``(out, in)`` and ``(out,)`` views; ``grad`` mirrors
    ``params``.
    """

    def __init__(self, layers: list[Layer], dtype, loss: str, trainable: list[bool]):
        self.dtype = np.dtype(dtype)
        self.loss = loss
        self.activations = [layer.activation for layer in layers]
        self.shapes = [layer.weights.shape for layer in layers]
        self.trainable = list(trainable)
        _check_activations(self.activations, loss)
        sizes = [(inp + 1) * out for out, inp in self.shapes]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.params = np.empty(offsets[-1], dtype=self.dtype)
        self.grad = np.zeros(offsets[-1], dtype=self.dtype)
        self.P, self.gP = [], []
        for (out, inp), start, stop in zip(self.shapes, offsets[:-1], offsets[1:]):
            self.P.append(self.params[start:stop].reshape(inp + 1, out))
            self.gP.append(self.grad[start:stop].reshape(inp + 1, out))
        for layer, block in zip(layers, self.P):
            block[:-1] = layer.weights.T
            block[-1] = layer.biases
        self.P_weights = [block[:-1] for block in self.P]  # (in, out) views used by the backward pass
        trained = [i for i, t in enumerate(self.trainable) if t]
        self.first = trained[0] if trained else len(layers)
        # the optimizer only touches the span of the flat buffer that holds trainable layers
        self.lo = int(offsets[trained[0]]) if trained else 0
        self.hi = int(offsets[trained[-1] + 1]) if trained else 0
        decay_mask = np.zeros(offsets[-1], dtype=self.dtype)
        for i in trained:  # weights only: the bias row of each block is not decayed
            decay_mask[offsets[i] : offsets[i + 1] - self.shapes[i][0]] = 1
        self.decay_mask = decay_mask[self.lo : self.hi]
        self._workspaces: dict[int, dict] = {}
        self.gradient_factor = 1.0  # grad holds gradient_factor x the gradient (see set_gradient_factor)

    @property
    def n_layers(self) -> int:
        return len(self.shapes)

    def W(self, l: int) -> np.ndarray:
        return self.P[l][:-1].T

    def b(self, l: int) -> np.ndarray:
        return self.P[l][-1]

    def with_ones(self, X) -> np.ndarray:
        """``X`` (n, n_in) as a new ``(n, n_in + 1)`` array in the engine's dtype, last column 1."""
        out = np.empty((len(X), X.shape[1] + 1), dtype=self.dtype)
        out[:, :-1] = X
        out[:, -1] = 1
        return out

    def workspace(self, n: int) -> dict:
        """Preallocated arrays for a batch of ``n`` images (``x``/``y``: the batch's inputs and targets)."""
        ws = self._workspaces.get(n)
        if ws is None:
            outs = [s[0] for s in self.shapes]
            new = lambda k: np.empty((n, k), dtype=self.dtype)  # noqa: E731
            ws = {
                # one row per image: its inputs, a 1 (the bias input) and its targets, gathered at once
                "xy": np.ones((n, self.shapes[0][1] + 1 + outs[-1]), dtype=self.dtype),
                "z": [new(k) for k in outs],
                "a": [new(k) for k in outs],
                "d": [new(k) for k in outs],
                "t": [new(k) for k in outs],
                "mask": [np.empty((n, k), dtype=bool) for k in outs],
                "col": np.empty((n, 1), dtype=self.dtype),
                "scale": np.array(self.gradient_factor / n, dtype=self.dtype),  # 0-d: read by the backward tape
            }
            ws["x"], ws["y"] = ws["xy"][:, : self.shapes[0][1] + 1], ws["xy"][:, self.shapes[0][1] + 1 :]
            self._workspaces[n] = ws
        return ws

    def set_gradient_factor(self, factor: float) -> None:
        """Make the backward pass leave ``factor`` x the gradient in ``grad``.

        Plain SGD passes its learning rate, so the step needs no separate scaling call.
        """
        self.gradient_factor = factor
        for n, ws in self._workspaces.items():
            ws["scale"][...] = factor / n

    # The passes are compiled, once per batch size, into "tapes": lists of NumPy calls with every
    # argument bound (buffers, views, ``out=``), so a mini-batch costs one call per operation and
    # no Python bookkeeping. Ufuncs and reductions take ``out`` positionally to skip wrappers.
    def tapes(self, n: int) -> tuple[list, list]:
        """The ``(forward, backward)`` tapes for a batch of ``n`` images held in ``workspace(n)``."""
        ws = self.workspace(n)
        if "tapes" not in ws:
            ws["tapes"] = (self._forward_tape(ws), self._backward_tape(ws, n))
        return ws["tapes"]

    def _forward_tape(self, ws) -> list:
        tape, a = [], ws["x"]
        for l in range(self.n_layers):
            z, out = ws["z"][l], ws["a"][l]
            if l == 0:  # the inputs carry the column of ones: one product does weights and biases
                tape.append(partial(np.matmul, a, self.P[l], z))
            else:  # small hidden layers stay contiguous; their biases are added
                tape += [partial(np.matmul, a, self.P_weights[l], z), partial(np.add, z, self.P[l][-1], z)]
            kind = self.activations[l]
            if kind == "sigmoid":  # 1 / (1 + e^-z): four fast ufunc calls beat one scipy expit here
                t = ws["t"][l]
                tape += [
                    partial(np.negative, z, t),
                    partial(np.exp, t, t),  # overflows to inf for z << 0, and 1/inf is the right 0
                    partial(np.add, t, self.dtype.type(1), t),
                    partial(np.reciprocal, t, out),
                ]
            elif kind == "relu":
                tape.append(partial(np.maximum, z, self.dtype.type(0), out=out))
            else:  # softmax over units, shifted by the row maximum so exp cannot overflow
                col = ws["col"]
                tape += [
                    partial(np.maximum.reduce, z, 1, None, col, True),
                    partial(np.subtract, z, col, out),
                    partial(np.exp, out, out),
                    partial(np.add.reduce, out, 1, None, col, True),
                    partial(np.divide, out, col, out),
                ]
            a = ws["a"][l]
        return tape

    def _backward_tape(self, ws, n: int) -> list:
        """Batch-mean gradient of the data loss into ``grad``; frozen layers are skipped.

        The pass stops at the lowest trainable layer; frozen layers' entries of ``grad`` stay zero.
        """
        L = self.n_layers
        d = ws["d"][L - 1]
        # dL/da for quadratic; dL/dz for cross-entropy on its own output (softmax or sigmoid)
        tape = [partial(np.subtract, ws["a"][L - 1], ws["y"], d)]
        if self.loss == "quadratic":
            tape += self._activation_tape(L - 1, d, ws)
        tape.append(partial(np.multiply, d, ws["scale"], d))
        for l in range(L - 1, self.first - 1, -1):
            if self.trainable[l] and l == 0:
                tape.append(partial(np.matmul, ws["x"].T, d, self.gP[l]))
            elif self.trainable[l]:
                tape += [
                    partial(np.matmul, ws["a"][l - 1].T, d, self.gP[l][:-1]),
                    partial(np.add.reduce, d, 0, None, self.gP[l][-1]),
                ]
            if l > self.first:
                prev = ws["d"][l - 1]
                tape.append(partial(np.matmul, d, self.P_weights[l].T, prev))
                tape += self._activation_tape(l - 1, prev, ws)
                d = prev
        return tape

    def _activation_tape(self, l: int, d, ws) -> list:
        """Calls that turn dL/da of layer ``l`` (in ``d``) into dL/dz, in place."""
        kind, a, t = self.activations[l], ws["a"][l], ws["t"][l]
        if kind == "sigmoid":  # σ' = a (1 - a)
            return [
                partial(np.subtract, self.dtype.type(1), a, t),
                partial(np.multiply, t, a, t),
                partial(np.multiply, d, t, d),
            ]
        if kind == "relu":
            mask = ws["mask"][l]
            return [partial(np.greater, ws["z"][l], self.dtype.type(0), mask), partial(np.multiply, d, mask, d)]
        col = ws["col"]  # softmax: dz = a * (da - Σ_k a_k da_k)
        return [
            partial(np.multiply, d, a, t),
            partial(np.add.reduce, t, 1, None, col, True),
            partial(np.subtract, d, col, d),
            partial(np.multiply, d, a, d),
        ]

    def forward(self, x, ws) -> np.ndarray:
        """The output activations for inputs ``x`` (n, n_in + 1), filling ``ws`` (``workspace(n)``)."""
        if x is not ws["x"]:
            ws["x"][...] = x
        with np.errstate(over="ignore"):
            for op in self.tapes(len(x))[0]:
                op()
        return ws["a"][-1]

    def backward(self, x, Y, ws) -> None:
        """Fill ``grad`` with the batch-mean gradient of the data loss, after ``forward(x, ws)``."""
        if Y is not ws["y"]:
            ws["y"][...] = Y
        for op in self.tapes(len(x))[1]:
            op()

    def decay_tape(self, weight_decay: float, scratch) -> list:
        """Calls that add ``weight_decay * w`` to the gradient of every trainable weight (not biases)."""
        if not weight_decay or self.hi == self.lo:
            return []
        p, g = self.params[self.lo : self.hi], self.grad[self.lo : self.hi]
        decay = self.decay_mask * self.dtype.type(weight_decay)
        return [partial(np.multiply, p, decay, scratch), partial(np.add, g, scratch, g)]

    def evaluate(self, X, labels) -> tuple[float, float]:
        """Mean data loss and accuracy over ``X`` (n, n_in + 1), in chunks."""
        total_loss, correct = 0.0, 0
        for start in range(0, len(X), EVAL_CHUNK):
            part = slice(start, start + EVAL_CHUNK)
            ws = self.workspace(len(X[part]))
            self.forward(X[part], ws)
            loss, right = self.score(ws["z"][-1], labels[part])
            total_loss += loss * len(X[part])
            correct += right
        return total_loss / len(X), correct / len(X)

    def score(self, z, labels) -> tuple[float, int]:
        """Mean data loss and number correct, from output pre-activations ``z`` (n, n_out)."""
        output = self.activations[-1]
        z = z.astype(np.float64)
        if self.loss == "cross_entropy" and output == "softmax":  # the common case, without one-hot targets
            zmax = z.max(axis=1)
            lse = zmax + np.log(np.exp(z - zmax[:, None]).sum(axis=1))
            loss = float(np.mean(lse - z[np.arange(len(z)), labels]))
        else:
            a = activate(z, output)
            loss = float(np.mean(_per_image_loss(z, a, _one_hot(labels, z.shape[1], np.float64), self.loss, output)))
        # softmax and sigmoid are monotone, so the largest pre-activation is the brightest unit
        brightest = np.argmax(np.maximum(z, 0) if output == "relu" else z, axis=1)
        return loss, int(np.count_nonzero(brightest == labels))

    def layers_like(self, layers: list[Layer]) -> list[Layer]:
        """Copies of ``layers`` holding the current parameters.

        Frozen layers are returned exactly as given (their own dtype), not rounded to the
        training dtype, so a frozen hand-built layer stays bit-identical.
        """
        return [
            layer.replace(weights=np.ascontiguousarray(self.W(l)), biases=self.b(l).copy())
            if self.trainable[l]
            else layer.replace(weights=layer.weights.copy(), biases=layer.biases.copy())
            for l, layer in enumerate(layers)
        ]


def _check_activations(activations: list[str], loss: str) -> None:
    for i, kind in enumerate(activations[:-1]):
        if kind not in HIDDEN_ACTIVATIONS:
            raise HandnetError(
                f"layer {i}: hidden activation {kind!r} cannot be trained; expected one of {', '.join(HIDDEN_ACTIVATIONS)}"
            )
    if loss == "cross_entropy" and activations[-1] not in OUTPUTS:
        raise HandnetError(
            f"loss cross_entropy needs a softmax or sigmoid output layer, not {activations[-1]!r}; use loss quadratic"
        )


def _per_image_loss(z, a, Y, loss: str, output: str) -> np.ndarray:
    """Each image's data loss from the output pre-activations ``z`` and activations ``a``, ``(n,)``."""
    z = z.astype(np.float64)
    if loss == "quadratic":
        diff = a.astype(np.float64) - Y
        return 0.5 * np.einsum("ij,ij->i", diff, diff)
    if output == "softmax":  # -log softmax(z)_y = logsumexp(z) - z·y, computed stably
        zmax = z.max(axis=1, keepdims=True)
        lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
        return lse * Y.sum(axis=1) - np.einsum("ij,ij->i", z, Y)
    # sigmoid outputs: -[y log σ(z) + (1-y) log(1-σ(z))] = log(1 + e^z) - y z
    return np.sum(np.logaddexp(0.0, z) - Y * z, axis=1)


def loss_value(network: Network, X, Y, loss: str = "cross_entropy", *, weight_decay: float = 0.0) -> float:
    """The mean loss over images (plus ½ weight_decay Σ w² over all weights), via ``Network.forward``.

    ``Y`` is ``(n, n_outputs)`` targets or ``(n,)`` integer labels. This is the quantity whose
    gradient ``gradients`` returns; it does not use the trainer's own forward pass.
    """
    if loss not in LOSSES:
        raise HandnetError(f"loss {loss!r} is not one of {', '.join(LOSSES)}")
    _check_activations([layer.activation for layer in network.layers], loss)
    acts, zs = network.forward(X, preactivations=True)
    Y = _targets(Y, network.sizes[-1], len(acts[0]), np.float64)
    data = float(np.mean(_per_image_loss(zs[-1], acts[-1], Y, loss, network.layers[-1].activation)))
    penalty = 0.5 * weight_decay * sum(float(np.sum(layer.weights.astype(np.float64) ** 2)) for layer in network.layers)
    return data + penalty


def gradients(network: Network, X, Y, loss: str = "cross_entropy", *, weight_decay: float = 0.0, freeze=()):
    """The gradient of ``loss_value`` for every layer: a list of ``(dW (out, in), db (out,))``.

    Computed by the trainer's own vectorized backward pass, in the network's floating dtype.
    Frozen layers (names or aliases) get zero gradients.
    """
    if loss not in LOSSES:
        raise HandnetError(f"loss {loss!r} is not one of {', '.join(LOSSES)}")
    dtype = np.result_type(network.layers[0].weights.dtype, np.float32)
    frozen = resolve_freeze(network, freeze)
    engine = _Engine(network.layers, dtype, loss, [layer.name not in frozen for layer in network.layers])
    X = network.as_inputs(X).astype(dtype, copy=False)
    Y = _targets(Y, network.sizes[-1], len(X), dtype)
    if loss == "cross_entropy" and network.layers[-1].activation == "softmax" and not np.allclose(Y.sum(axis=1), 1):
        raise HandnetError("targets: for cross-entropy on a softmax output each row must sum to 1")
    x = engine.with_ones(X)
    ws = engine.workspace(len(x))
    engine.forward(x, ws)
    engine.backward(x, Y, ws)
    for op in engine.decay_tape(weight_decay, np.empty(engine.hi - engine.lo, dtype=dtype)):
        op()
    return [(np.ascontiguousarray(block[:-1].T), block[-1].copy()) for block in engine.gP]


def _targets(Y, n_outputs: int, n: int, dtype) -> np.ndarray:
    """One-hot targets ``(n, n_outputs)`` from integer labels, or validated target rows."""
    Y = np.asarray(Y)
    if Y.ndim == 1:
        return _one_hot(_labels(Y, n_outputs, n, "labels"), n_outputs, dtype)
    if Y.shape != (n, n_outputs):
        raise HandnetError(f"targets have shape {Y.shape}, expected ({n}, {n_outputs}) or ({n},) labels")
    return Y.astype(dtype)


def _labels(y, n_outputs: int, n: int, what: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise HandnetError(f"{what}: expected {n} integer labels, got an array of shape {y.shape}")
    if len(y) and not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.mod(y, 1) == 0):
            raise HandnetError(f"{what}: labels must be whole numbers 0-{n_outputs - 1}")
    y = y.astype(np.int64)
    bad = np.flatnonzero((y < 0) | (y >= n_outputs))
    if bad.size:
        raise HandnetError(
            f"{what}: label {int(y[bad[0]])} at index {int(bad[0])} is outside 0-{n_outputs - 1} (the network has {n_outputs} outputs)"
        )
    return y


def _one_hot(y: np.ndarray, n_outputs: int, dtype) -> np.ndarray:
    Y = np.zeros((len(y), n_outputs), dtype=dtype)
    Y[np.arange(len(y)), y] = 1
    return Y


# ---- freezing ---------------------------------------------------------------------------------------
HIDDEN = "hidden"  # freeze token for "every layer but the output": train only the readout


def resolve_freeze(network: Network, freeze) -> list[str]:
    """Layer names to keep fixed, from names, aliases (``hidden1``, ``output``) or ``hidden`` (all hidden)."""
    if isinstance(freeze, str):
        freeze = [freeze]
    names = []
    for item in freeze or ():
        if item == HIDDEN and HIDDEN not in network.layer_names:
            names.extend(network.layer_names[:-1])
            continue
        try:
            names.append(network.layers[network.layer_index(str(item))].name)
        except HandnetError:
            raise HandnetError(
                f"freeze: unknown layer {item!r}; layers are {', '.join(network.layer_names)} "
                f"(or hidden1, hidden2, ..., output, or 'hidden' for every hidden layer)"
            ) from None
    return [name for name in network.layer_names if name in names]


# ---- augmentation -----------------------------------------------------------------------------------
def augment_images(images, rng: np.random.Generator, max_shift: float, max_rotation: float) -> np.ndarray:
    """Each image shifted by up to ``max_shift`` pixels and rotated by up to ``max_rotation`` degrees.

    ``images`` is ``(n, rows, cols)`` float; returns a new ``(n, rows, cols)`` array of the same
    dtype. A bilinear warp vectorized over the images (the rotation is about the image centre;
    ink moved in from outside the frame is black). Shifts and angles are uniform, drawn from ``rng``.
    """
    images = np.asarray(images)
    n, rows, cols = images.shape
    dtype = images.dtype if np.issubdtype(images.dtype, np.floating) else np.float32
    shifts = rng.uniform(-max_shift, max_shift, size=(n, 2)).astype(dtype)
    angles = np.deg2rad(rng.uniform(-max_rotation, max_rotation, size=n)).astype(dtype)
    out = np.empty((n, rows, cols), dtype=dtype)
    for start in range(0, n, AUGMENT_CHUNK):  # chunks keep the temporaries in cache
        part = slice(start, start + AUGMENT_CHUNK)
        out[part] = _warp(images[part], shifts[part], angles[part], dtype)
    return out


def _warp(images, shifts, angles, dtype) -> np.ndarray:
    """Bilinear rotation by ``angles`` (radians) and shift by ``shifts`` (pixels), one per image."""
    n, rows, cols = images.shape
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    r, c = np.mgrid[0:rows, 0:cols].astype(dtype)
    r = (r - (rows - 1) / 2).ravel()[None, :]
    c = (c - (cols - 1) / 2).ravel()[None, :]
    # where each output pixel comes from: the inverse rotation of the output grid, minus the shift
    src_r = np.clip(cos * r + sin * c + ((rows - 1) / 2 - shifts[:, :1]), -1, rows)
    src_c = np.clip(-sin * r + cos * c + ((cols - 1) / 2 - shifts[:, 1:]), -1, cols)
    # a zero border (1 before, 2 after) makes every clipped neighbour read black ink
    width = cols + 3
    padded = np.zeros((n, rows + 3, width), dtype=dtype)
    padded[:, 1 : rows + 1, 1 : cols + 1] = images
    flat = padded.ravel()
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = src_r - r0, src_c - c0
    base = (r0.astype(np.int32) + 1) * width + (c0.astype(np.int32) + 1)
    base += (np.arange(n, dtype=np.int32) * (rows + 3) * width)[:, None]
    v00, v01 = flat.take(base), flat.take(base + 1)
    v10, v11 = flat.take(base + width), flat.take(base + width + 1)
    top = v00 + fc * (v01 - v00)
    bottom = v10 + fc * (v11 - v10)
    return (top + fr * (bottom - top)).reshape(n, rows, cols)


# ---- schedules and optimizers ------------------------------------------------------------------
def learning_rate(config: TrainConfig, epoch: int) -> float:
    """The learning rate for ``epoch`` (0-based) under the config's schedule."""
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1 + math.cos(math.pi * epoch / max(config.epochs, 1)))
    if config.schedule == "step":
        passed = sum(epoch >= int(m * config.epochs) for m in STEP_MILESTONES)
        return config.lr * 0.1**passed
    return config.lr


class _Optimizer:
    """SGD (with optional momentum) or Adam, with L2 weight decay, on the trainable span of the
    flat parameter buffer, compiled into a tape of NumPy calls like the engine's passes.

    ``set_lr`` once per epoch; ``advance`` before every step (Adam's bias corrections).
    """

    def __init__(self, config: TrainConfig, engine: _Engine):
        self.kind = config.optimizer
        dtype = engine.dtype
        span = engine.hi - engine.lo
        p = engine.params[engine.lo : engine.hi]
        g = engine.grad[engine.lo : engine.hi]
        s = np.empty(span, dtype=dtype)
        self.scale = np.zeros((), dtype=dtype)  # 0-d arrays: the tape reads their current value
        self.eps = np.zeros((), dtype=dtype)
        self.t = 0
        tape = []
        self.engine = engine
        self.weight_decay = config.weight_decay
        if self.kind == "sgd":
            # the backward pass already scales the gradient g by the learning rate (set_lr), so
            # with decay d = lr * weight_decay on the weights: v = mu v - g - d w; w += v
            self.decay = np.zeros(span, dtype=dtype)
            if config.weight_decay:
                tape.append(partial(np.multiply, p, self.decay, s))
            if config.momentum:
                v = np.zeros(span, dtype=dtype)
                tape += [partial(np.multiply, v, dtype.type(config.momentum), v), partial(np.subtract, v, g, v)]
                if config.weight_decay:
                    tape.append(partial(np.subtract, v, s, v))
                tape.append(partial(np.add, p, v, p))
            else:
                tape.append(partial(np.subtract, p, g, p))
                if config.weight_decay:
                    tape.append(partial(np.subtract, p, s, p))
        else:
            b1, b2 = (dtype.type(b) for b in ADAM_BETAS)
            m, v = np.zeros(span, dtype=dtype), np.zeros(span, dtype=dtype)
            tape += engine.decay_tape(config.weight_decay, s)
            tape += [
                partial(np.subtract, g, m, s),  # m += (1 - b1)(g - m)
                partial(np.multiply, s, 1 - b1, s),
                partial(np.add, m, s, m),
                partial(np.multiply, g, g, s),  # v += (1 - b2)(g² - v)
                partial(np.subtract, s, v, s),
                partial(np.multiply, s, 1 - b2, s),
                partial(np.add, v, s, v),
                partial(np.sqrt, v, s),  # w -= scale * m / (sqrt(v) + eps), corrections folded in
                partial(np.add, s, self.eps, s),
                partial(np.divide, m, s, s),
                partial(np.multiply, s, self.scale, s),
                partial(np.subtract, p, s, p),
            ]
        self.tape = tape

    def set_lr(self, lr: float) -> None:
        self._lr = lr
        if self.kind == "sgd":
            self.engine.set_gradient_factor(lr)
            np.multiply(self.engine.decay_mask, lr * self.weight_decay, out=self.decay)

    def advance(self) -> None:
        """Update the step-dependent scalars before a step (Adam's bias corrections)."""
        if self.kind == "adam":
            b1, b2 = ADAM_BETAS
            self.t += 1
            correction = math.sqrt(1 - b2**self.t)
            self.eps[...] = ADAM_EPS * correction
            self.scale[...] = self._lr * correction / (1 - b1**self.t)


# ---- training -----------------------------------------------------------------------------------
def _blas_threads(batch_size: int):
    """Limit NumPy's BLAS to one thread for small mini-batches, where threads cost more than they give.

    Uses threadpoolctl when it is installed (it comes with scikit-learn); otherwise a no-op.
    """
    if batch_size >= MULTITHREAD_BATCH:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _fresh_network(config: TrainConfig, rng: np.random.Generator) -> Network:
    from .network import random_network

    n_layers = len(config.sizes) - 1
    activations = [config.hidden_activation] * (n_layers - 1) + [config.output]
    net = random_network(config.sizes, rng, activations, default_layer_names(n_layers, config.sizes[-1]))
    return net


def _inputs(X, n_in: int, dtype, what: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim < 2 or int(np.prod(X.shape[1:])) != n_in:
        raise HandnetError(f"{what}: expected (n, {n_in}) inputs or (n, 28, 28) images, got shape {X.shape}")
    X = X.reshape(len(X), -1)
    if np.issubdtype(X.dtype, np.integer):
        return np.ascontiguousarray(X, dtype=dtype) / dtype.type(255)
    if not np.issubdtype(X.dtype, np.floating):
        raise HandnetError(f"{what}: expected numbers, got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=dtype)
    if not np.all(np.isfinite(X)):
        raise HandnetError(f"{what}: contains NaN or infinite values")
    return X


def train(
    X,
    y,
    config: TrainConfig | None = None,
    *,
    init: Network | None = None,
    freeze=(),
    X_test=None,
    y_test=None,
    progress=None,
    data: str | None = None,
) -> TrainResult:
    """Train a network on ``X`` ``(n, 784)`` float in [0, 1] (or uint8 images) and labels ``y`` ``(n,)``.

    ``init``: start from this network (its layout, activations, unit names and non-provenance
    metadata are kept; the config's ``sizes``/``hidden_activation``/``output`` are then unused).
    ``freeze``: layer names or aliases whose weights stay exactly as they are (``"hidden"`` freezes
    every hidden layer, i.e. trains only the readout). ``X_test``/``y_test``: measured after every
    epoch. ``progress``: called with each epoch's history record. ``data``: a sentence saying
    where the digits came from, kept in the provenance.

    Ctrl-C (KeyboardInterrupt) during training returns the best network so far (by test accuracy
    when a test set is given, else by training loss) with ``interrupted=True``.
    """
    config = config or TrainConfig()
    if not isinstance(config, TrainConfig):
        raise HandnetError(f"config: expected a TrainConfig, got {type(config).__name__}")
    dtype = np.dtype(config.dtype)
    seeds = np.random.SeedSequence(config.seed).spawn(3)
    init_rng, order_rng, augment_rng = (np.random.default_rng(s) for s in seeds)

    start_net = init if init is not None else _fresh_network(config, init_rng)
    if not isinstance(start_net, Network):
        raise HandnetError(f"init: expected a Network, got {type(start_net).__name__}")
    frozen = resolve_freeze(start_net, freeze)
    n_in, n_out = start_net.sizes[0], start_net.sizes[-1]
    X = _inputs(X, n_in, dtype, "X")
    y = _labels(y, n_out, len(X), "y")
    if len(X) == 0:
        raise HandnetError("X: no training images")
    Y = _one_hot(y, n_out, dtype)
    has_test = X_test is not None
    if has_test:
        X_test = _inputs(X_test, n_in, dtype, "X_test")
        y_test = _labels(y_test, n_out, len(X_test), "y_test")
    augmenting = config.augmenting and config.epochs > 0
    if augmenting and n_in != start_net.input_shape[0] * start_net.input_shape[1]:
        raise HandnetError(f"augment needs image inputs; the network's input shape is {start_net.input_shape}")

    engine = _Engine(start_net.layers, dtype, config.loss, [layer.name not in frozen for layer in start_net.layers])
    optimizer = _Optimizer(config, engine)
    n, batch = len(X), min(config.batch_size, len(X))
    # each row: an image's inputs, a 1 for the bias, its one-hot target (inputs augmented in place each epoch)
    source = np.concatenate([engine.with_ones(X), Y], axis=1)
    images = X.reshape(n, *start_net.input_shape) if augmenting else None
    X_test_ones = engine.with_ones(X_test) if has_test else None
    # the output pre-activations of every training image as it was trained on, for the epoch's metrics
    epoch_z = np.empty((n, n_out), dtype=dtype)

    plans: dict[int, tuple] = {}  # batch size -> (workspace, every call of one training step)

    def plan(size: int) -> tuple:
        forward, backward = engine.tapes(size)
        plans[size] = (engine.workspace(size), forward + backward + optimizer.tape)
        return plans[size]

    adam = config.optimizer == "adam"
    history: list[dict] = []
    best = {"score": None, "params": engine.params.copy(), "epoch": None}
    interrupted = False
    try:
        # divergence is checked after each epoch; small products run fastest on one BLAS thread
        with np.errstate(over="ignore", under="ignore", invalid="ignore"), _blas_threads(batch):
            for epoch in range(config.epochs):
                started = time.perf_counter()
                lr = learning_rate(config, epoch)
                optimizer.set_lr(lr)
                if augmenting:
                    source[:, :n_in] = augment_images(images, augment_rng, *config.augment).reshape(n, -1)
                order = order_rng.permutation(n)
                if engine.first < engine.n_layers:
                    for s in range(0, n, batch):
                        idx = order[s : s + batch]
                        ws, ops = plans[len(idx)] if len(idx) in plans else plan(len(idx))
                        # mode="clip" lets take write straight into the buffer (indices are in range)
                        np.take(source, idx, 0, ws["xy"], "clip")
                        if adam:
                            optimizer.advance()
                        deque(map(call, ops), 0)  # run every call of the step, without a Python loop
                        np.copyto(epoch_z[s : s + batch], ws["z"][-1])
                else:  # nothing to train: measure the network as it is
                    for s in range(0, n, EVAL_CHUNK):
                        ws = engine.workspace(len(order[s : s + EVAL_CHUNK]))
                        engine.forward(source[order[s : s + EVAL_CHUNK], : n_in + 1], ws)
                        epoch_z[s : s + EVAL_CHUNK] = ws["z"][-1]
                if not np.all(np.isfinite(engine.params)):
                    raise HandnetError(
                        f"training diverged at epoch {epoch + 1} (weights became NaN or infinite); "
                        f"lower the learning rate (lr {config.lr:g})"
                    )
                loss, correct = engine.score(epoch_z, y[order])
                test_acc = engine.evaluate(X_test_ones, y_test)[1] if has_test else None
                record = {
                    "epoch": epoch + 1,
                    "lr": lr,
                    "loss": loss,
                    "train_accuracy": correct / n,
                    "test_accuracy": test_acc,
                    "seconds": time.perf_counter() - started,
                }
                history.append(record)
                score = test_acc if has_test else -loss
                if best["score"] is None or score > best["score"]:
                    best = {"score": score, "params": engine.params.copy(), "epoch": epoch + 1}
                if progress is not None:
                    progress(record)
    except KeyboardInterrupt:
        interrupted = True
        if best["epoch"] is not None:
            engine.params[...] = best["params"]

    network = Network(engine.layers_like(start_net.layers), start_net.input_shape, _metadata(
        start_net, init, config, frozen, history, interrupted, best["epoch"] if interrupted else None, data
    ))
    return TrainResult(network, history, interrupted, best["epoch"] if interrupted else None)


def _metadata(start_net, init, config, frozen, history, interrupted, best_epoch, data) -> dict:
    meta = {k: v for k, v in (init.metadata if init is not None else {}).items() if k not in ("provenance", "history")}
    settings = config.to_dict()
    settings.update(
        sizes=list(start_net.sizes),
        activations=[layer.activation for layer in start_net.layers],
        layer_names=list(start_net.layer_names),
    )
    meta["provenance"] = {
        "kind": "trained",
        "config": settings,
        "seed": config.seed,
        "data": data,
        "init": (init.metadata.get("provenance") or {"kind": "given"}) if init is not None else None,
        "freeze": list(frozen),
        "epochs_completed": len(history),
        "interrupted": interrupted,
        "best_epoch": best_epoch,
    }
    meta["history"] = [dict(r) for r in history]
    return meta
