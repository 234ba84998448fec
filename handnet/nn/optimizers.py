"""Optimizers: SGD (optional momentum) and Adam steps on the training engine's flat parameter buffer.

Like the engine's passes, each step is compiled once into a "tape" of NumPy calls with every buffer
bound, so a step costs one call per operation. ``tests/test_train.py`` checks the steps against the
textbook update rules.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from handnet.nn.backprop import Engine

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


class Optimizer:
    """SGD (with optional momentum) or Adam, with L2 weight decay, on the trainable span of the
    flat parameter buffer, compiled into a tape of NumPy calls like the engine's passes.

    ``set_lr`` once per epoch; ``advance`` before every step (Adam's bias corrections).
    """

    def __init__(self, config, engine: Engine):
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
