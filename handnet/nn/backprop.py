"""Backpropagation, vectorized over a mini-batch: the engine behind ``handnet.nn.train``.

``Engine`` holds a layered net's parameters in one flat buffer and compiles its forward and
backward passes, once per batch size, into "tapes": lists of NumPy calls with every argument
bound (preallocated buffers, views, ``out=``), so a mini-batch costs one call per operation and no
Python bookkeeping; ``handnet.nn.optimizers`` steps the flat buffer the same way. Everything here
is exact: ``tests/test_train.py`` checks the gradients against central finite differences.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from handnet.errors import HandnetError
from handnet.nn.activations import activate, activation
from handnet.nn.network import Layer

LOSSES = ("cross_entropy", "quadratic")
HIDDEN_ACTIVATIONS = ("sigmoid", "relu")
OUTPUTS = ("softmax", "sigmoid")
EVAL_CHUNK = 4096  # images per forward pass when measuring loss and accuracy


class Engine:
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
        check_activations(self.activations, loss)
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
    # no Python bookkeeping. The activations' calls come from the one table, handnet.nn.activations.
    def tapes(self, n: int) -> tuple[list, list]:
        """The ``(forward, backward)`` tapes for a batch of ``n`` images held in ``workspace(n)``."""
        ws = self.workspace(n)
        if "tapes" not in ws:
            ws["tapes"] = (self._forward_tape(ws), self._backward_tape(ws, n))
        return ws["tapes"]

    def step_around_inputs(self, n: int) -> tuple[list, list, bool]:
        """``tapes(n)`` split around the three calls that read the batch's inputs and targets, so a
        trainer can point them at any ``(n, in + 1)``/``(n, out)`` views (rows of a larger buffer)
        instead of gathering them into the workspace first. The step for inputs ``x`` and targets
        ``y`` is then, with ``ws = workspace(n)``:

        ``matmul(x, P[0], z[0])``, the forward rest, ``subtract(a[-1], y, d[-1])``, the backward middle,
        and, when the last item is True, ``matmul(x.T, d[0], gP[0])`` (the first layer's gradient):
        the same calls in the same order as ``tapes(n)``, so the same bits.
        """
        forward, backward = self.tapes(n)
        ws = self.workspace(n)
        first, diff = forward[0], backward[0]
        assert first.func is np.matmul and first.args[0] is ws["x"], "the forward tape starts with x @ P[0]"
        assert diff.func is np.subtract and diff.args[1] is ws["y"], "the backward tape starts with a - y"
        ends = self.trainable[0] and self.first == 0
        if ends:
            last = backward[-1]
            assert last.func is np.matmul and last.args[2] is self.gP[0], "the backward tape ends with x.T @ d"
        return forward[1:], backward[1:-1] if ends else backward[1:], ends

    def _forward_tape(self, ws) -> list:
        tape, a = [], ws["x"]
        for l in range(self.n_layers):
            z, out = ws["z"][l], ws["a"][l]
            if l == 0:  # the inputs carry the column of ones: one product does weights and biases
                tape.append(partial(np.matmul, a, self.P[l], z))
            else:  # small hidden layers stay contiguous; their biases are added
                tape += [partial(np.matmul, a, self.P_weights[l], z), partial(np.add, z, self.P[l][-1], z)]
            tape += activation(self.activations[l]).tape(z, out, self._scratch(ws, l), self.dtype)
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
        return activation(self.activations[l]).backward_tape(d, ws["z"][l], ws["a"][l], self._scratch(ws, l), self.dtype)

    @staticmethod
    def _scratch(ws, l: int) -> dict:
        return {"t": ws["t"][l], "col": ws["col"], "mask": ws["mask"][l]}

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

    def evaluate(self, X, labels, ones: bool = True) -> tuple[float, float]:
        """Mean data loss and accuracy over ``X`` (n, n_in + 1), in chunks; with ``ones=False``
        ``X`` is (n, n_in) and each chunk gets its column of ones in the workspace (no copy of ``X``)."""
        total_loss, correct = 0.0, 0
        for start in range(0, len(X), EVAL_CHUNK):
            part = slice(start, start + EVAL_CHUNK)
            ws = self.workspace(len(X[part]))
            if ones:
                self.forward(X[part], ws)
            else:
                ws["x"][:, :-1] = X[part]
                ws["x"][:, -1] = 1
                self.forward(ws["x"], ws)
            loss, right = self.score(ws["z"][-1], labels[part])
            total_loss += loss * len(X[part])
            correct += right
        return total_loss / len(X), correct / len(X)

    def score(self, z, labels) -> tuple[float, int]:
        """Mean data loss and number correct, from output pre-activations ``z`` (n, n_out).

        Works on ``z`` transposed, so every reduction runs across rows of a contiguous array
        (reductions along a short last axis are slow in NumPy).
        """
        output = self.activations[-1]
        zt = np.ascontiguousarray(z.T)  # (n_out, n)
        columns = np.arange(zt.shape[1])
        if self.loss == "cross_entropy" and output == "softmax":  # the common case, without one-hot targets
            zmax = zt.max(axis=0)
            lse = zmax + np.log(np.exp(zt - zmax).sum(axis=0, dtype=np.float64))
            loss = float(np.mean(lse - zt[labels, columns]))
        else:
            z64 = z.astype(np.float64)
            a = activate(z64, output)
            loss = float(np.mean(per_image_loss(z64, a, one_hot(labels, z.shape[1], np.float64), self.loss, output)))
        # the brightest unit (the first, on ties): softmax and sigmoid are monotone in z
        brightness = np.maximum(zt, 0) if output == "relu" else zt
        return loss, int(np.count_nonzero(brightness.argmax(axis=0) == labels))

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


def check_activations(activations: list[str], loss: str) -> None:
    for i, kind in enumerate(activations[:-1]):
        if kind not in HIDDEN_ACTIVATIONS:
            raise HandnetError(
                f"layer {i}: hidden activation {kind!r} cannot be trained; expected one of {', '.join(HIDDEN_ACTIVATIONS)}"
            )
    if loss == "cross_entropy" and activations[-1] not in OUTPUTS:
        raise HandnetError(
            f"loss cross_entropy needs a softmax or sigmoid output layer, not {activations[-1]!r}; use loss quadratic"
        )


def per_image_loss(z, a, Y, loss: str, output: str) -> np.ndarray:
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


def one_hot(y: np.ndarray, n_outputs: int, dtype) -> np.ndarray:
    Y = np.zeros((len(y), n_outputs), dtype=dtype)
    Y[np.arange(len(y)), y] = 1
    return Y
