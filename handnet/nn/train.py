"""The gradient-trained twin: a vectorized NumPy backprop trainer for any Network layout.

``train(X, y, config)`` runs mini-batch gradient descent (SGD with optional momentum, or Adam) on
the quadratic cost of the lesson or on cross-entropy, with L2 weight decay, a learning-rate
schedule and optional seeded augmentation (small random shifts and rotations). It can start from
a hand-built network (``init=``) and keep chosen layers frozen (``freeze=["edges"]``).

The arithmetic lives in ``handnet.nn.backprop`` (passes compiled into lists of NumPy calls over one
flat parameter buffer, no per-example or per-layer Python work per batch) and the augmentation in
``handnet.data.augment``; this module holds the settings, the epoch loop and what is saved.
``gradients`` exposes the same backward pass for the finite-difference tests.

Losses, per image, averaged over the images of a batch:

* ``quadratic``: ½ Σ_k (a_k - y_k)², the lesson's cost (Nielsen's C = 1/2n Σ ||y - a||²);
* ``cross_entropy``: -Σ_k y_k log a_k on a softmax output; on a sigmoid output (a hand-built net's
  digits) the per-unit binary cross-entropy -Σ_k [y_k log a_k + (1 - y_k) log(1 - a_k)].

plus ½ · weight_decay · Σ w² over the weights (not the biases) of the layers being trained.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import call

import numpy as np

from handnet.data.augment import augment_draws, augment_images, warp_images  # noqa: F401 (augment_images: re-exported)
from handnet.nn.backprop import EVAL_CHUNK, HIDDEN_ACTIVATIONS, LOSSES, OUTPUTS, Engine, check_activations, one_hot, per_image_loss
from handnet.nn.optimizers import Optimizer
from handnet.errors import HandnetError, ResourceError
from handnet.threads import available_cores, many_blas_threads, one_blas_thread, spare_cores
from handnet.nn.labels import output_labels, readout
from handnet.nn.network import Network, default_layer_names

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "step", "cosine")
DTYPES = ("float32", "float64")
DEFAULT_AUGMENT = (1.5, 8.0)  # max shift in pixels, max rotation in degrees
STEP_MILESTONES = (0.5, 0.75)  # the "step" schedule divides the rate by 10 at these fractions of the run
MULTITHREAD_BATCH = 1024  # smaller mini-batches train on one BLAS thread (see _blas_threads)
# Training sets up to this many bytes of rows (inputs, a 1, targets) are copied once into one array; larger
# ones are gathered (and augmented) slice by slice in the order training visits them, so memory stays
# about the caller's own data plus this much (twice with prefetch helpers: docs/training.md). Both ways give
# the same bits.
RESIDENT_BYTES = 64 << 20
ROWS_PER_CHUNK = 4096  # images per slice when checking or evaluating large arrays
MAX_HELPERS = 3  # helper threads that lay out (augment) the next epoch's rows; more would wait for the trainer


# The most memory one training run may plan to use (docs/limits.md); the lesson's network needs under 50 MB.
MAX_TRAIN_BYTES = 4 << 30


def training_bytes(sizes, batch_size: int, dtype: str, n_train: int = 0, n_test: int = 0) -> int:
    """An estimate of the memory a training run needs, in bytes, from its shape alone.

    Parameters five times over (weights, gradients, Adam's two moments, the best network so far)
    plus the saved float64 copy; activations, pre-activations and their gradients for a mini-batch
    and for an evaluation chunk; the training and test inputs with their one-hot targets.
    """
    itemsize = np.dtype(dtype).itemsize
    sizes = [int(v) for v in sizes]
    params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    rows = max(min(batch_size, n_train), EVAL_CHUNK) if n_train else EVAL_CHUNK  # no data yet: the shape alone
    per_batch = 3 * rows * sum(sizes) * itemsize
    data = (n_train + n_test) * (sizes[0] + 1 + sizes[-1]) * itemsize * 2
    return params * (5 * itemsize + 8) + per_batch + data


def check_training_size(sizes, batch_size: int, dtype: str, n_train: int = 0, n_test: int = 0) -> int:
    """``training_bytes``, or a ResourceError quoting it when it is over ``MAX_TRAIN_BYTES``."""
    need = training_bytes(sizes, batch_size, dtype, n_train, n_test)
    if need > MAX_TRAIN_BYTES:
        params = sum((int(a) + 1) * int(b) for a, b in zip(sizes[:-1], sizes[1:]))
        raise ResourceError(
            f"sizes {','.join(map(str, sizes))}: training would need about {_size(need)} of memory "
            f"({params:,} parameters, batch {batch_size}, {dtype}); handnet allows at most {_size(MAX_TRAIN_BYTES)} "
            "per run (see docs/limits.md)"
        )
    return need


def _size(n: int) -> str:
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n / 1024:,.0f} KiB"


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
        # a trained network's provenance also records what the network itself says
        d = {k: v for k, v in d.items() if k not in ("activations", "layer_names")}
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
    ``test_accuracy`` (after the epoch; None without a test set), ``val_accuracy`` (on the validation
    digits, None without them) and ``seconds``. ``interrupted`` is True when Ctrl-C stopped the
    run; the network is then the best one seen so far (``best_epoch``), chosen by ``chosen_by``
    (``"validation accuracy"`` or ``"training loss"``; never the test split).
    """

    network: Network
    history: list = field(default_factory=list)
    interrupted: bool = False
    best_epoch: int | None = None
    chosen_by: str = "training loss"
    # where the run's time went (not saved with the network): "prefetch" (whether helper threads laid
    # out the rows), "helpers" (how many), "data_wait_seconds" (how long the training steps waited for their rows:
    # augmenting or gathering them, or waiting for the helper), "data_cpu_seconds" (CPU time spent
    # on that, on whichever thread) and "seconds" (the epochs' wall time)
    timing: dict = field(default_factory=dict)

    @property
    def final(self) -> dict:
        """The last completed epoch's record (empty if none completed)."""
        return self.history[-1] if self.history else {}

    def summary(self, train_set, test_set, data: str = "", path=None, init=None, scored=None) -> dict:
        """The numbers ``handnet train`` reports: the trained network measured on both sets (the
        history's train figures are per mini-batch), its loss, epochs, settings and history.
        ``train_set``/``test_set`` are ``data.Dataset``s; ``path`` where it was saved; ``init`` the
        starting network's file, if any; ``scored`` the ``nn.labels`` readout that says which digit
        each output answers (default: the network's own)."""
        from handnet.nn.labels import readout

        scored = scored if scored is not None else readout(self.network, digits_only=False)
        final = self.history[self.best_epoch - 1] if self.best_epoch else self.final
        provenance = self.network.metadata["provenance"]

        def accuracy(dataset) -> float:
            return float(np.mean(scored.predict(self.network.output(dataset.X)) == dataset.y))

        return {
            "path": None if path is None else str(path),
            "test_accuracy": accuracy(test_set),
            "train_accuracy": accuracy(train_set),
            "loss": final.get("loss"),
            "epochs_completed": len(self.history),
            "interrupted": self.interrupted,
            "best_epoch": self.best_epoch,
            "best_chosen_by": self.chosen_by,
            "data": data,
            "labels": list(scored.digits),
            "n_test": len(test_set),
            "settings": provenance["config"],
            "freeze": provenance["freeze"],
            "init": init,
            "history": self.history,
        }


def shuffled_labels(y, seed: int = 0) -> np.ndarray:
    """The memorization experiment's labels (Zhang et al. 2017, cited by the lesson): ``y`` permuted
    with a fixed ``seed``, so every digit keeps a label that is almost never its own and the labels'
    counts stay the same. A network can then only memorize; nothing it learns carries to new digits."""
    return np.random.default_rng(seed).permutation(np.asarray(y))


def loss_value(network: Network, X, Y, loss: str = "cross_entropy", *, weight_decay: float = 0.0) -> float:
    """The mean loss over images (plus ½ weight_decay Σ w² over all weights), via ``Network.forward``.

    ``Y`` is ``(n, n_outputs)`` targets or ``(n,)`` integer labels. This is the quantity whose
    gradient ``gradients`` returns; it does not use the trainer's own forward pass.
    """
    if loss not in LOSSES:
        raise HandnetError(f"loss {loss!r} is not one of {', '.join(LOSSES)}")
    check_activations([layer.activation for layer in network.layers], loss)
    acts, zs = network.forward(X, preactivations=True)
    Y = _targets(Y, network, len(acts[0]), np.float64)
    data = float(np.mean(per_image_loss(zs[-1], acts[-1], Y, loss, network.layers[-1].activation)))
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
    engine = Engine(network.layers, dtype, loss, [layer.name not in frozen for layer in network.layers])
    X = network.as_inputs(X).astype(dtype, copy=False)
    Y = _targets(Y, network, len(X), dtype)
    if loss == "cross_entropy" and network.layers[-1].activation == "softmax" and not np.allclose(Y.sum(axis=1), 1):
        raise HandnetError("targets: for cross-entropy on a softmax output each row must sum to 1")
    x = engine.with_ones(X)
    ws = engine.workspace(len(x))
    engine.forward(x, ws)
    engine.backward(x, Y, ws)
    for op in engine.decay_tape(weight_decay, np.empty(engine.hi - engine.lo, dtype=dtype)):
        op()
    return [(np.ascontiguousarray(block[:-1].T), block[-1].copy()) for block in engine.gP]


def _targets(Y, network: Network, n: int, dtype) -> np.ndarray:
    """One-hot targets ``(n, n_outputs)`` from integer labels (each on the output unit that answers
    it, ``target_columns``), or validated target rows."""
    Y = np.asarray(Y)
    n_outputs = network.sizes[-1]
    if Y.ndim == 1:
        if len(Y) != n:
            _labels(Y, n_outputs, n, "labels")  # the one-line shape error
        return one_hot(target_columns(network, Y, "labels"), n_outputs, dtype)
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


# ---- schedules ------------------------------------------------------------------
def learning_rate(config: TrainConfig, epoch: int) -> float:
    """The learning rate for ``epoch`` (0-based) under the config's schedule."""
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1 + math.cos(math.pi * epoch / max(config.epochs, 1)))
    if config.schedule == "step":
        passed = sum(epoch >= int(m * config.epochs) for m in STEP_MILESTONES)
        return config.lr * 0.1**passed
    return config.lr


# ---- training -----------------------------------------------------------------------------------
def _blas_threads(batch_size: int):
    """Limit NumPy's BLAS to one thread for small mini-batches, where threads cost more than they give;
    large ones get BLAS's default count, even inside a caller's ``one_blas_thread()``."""
    return many_blas_threads() if batch_size >= MULTITHREAD_BATCH else one_blas_thread()


def _fresh_network(config: TrainConfig, rng: np.random.Generator, twin_of: Network | None = None,
                   output_units=None) -> Network:
    from handnet.nn.network import random_network

    n_layers = len(config.sizes) - 1
    activations = [config.hidden_activation] * (n_layers - 1) + [config.output]
    net = random_network(config.sizes, rng, activations, default_layer_names(n_layers, config.sizes[-1]))
    units = twin_of.layers[-1].units if twin_of is not None else output_units
    if units is not None:  # answer the given labels (the twin's: the same output units)
        units = tuple(str(u) for u in units)
        if len(units) != config.sizes[-1]:
            raise HandnetError(f"output units {', '.join(units)}: {len(units)} names for sizes {list(config.sizes)}")
        net = net.replace_layer(len(net.layers) - 1, net.layers[-1].replace(units=units))
        if twin_of is not None and twin_of.metadata.get("labels"):
            net.metadata["labels"] = dict(twin_of.metadata["labels"])
    return net


def target_columns(net: Network, y, what: str = "y") -> np.ndarray:
    """The output unit each label ``y`` ``(n,)`` trains, ``(n,)`` int64.

    Output units answer by name (``handnet.nn.labels``): label 7 trains the unit named 7 (or the
    one the spec maps to 7) wherever it sits. A net none of whose outputs names a label takes
    ``y`` as output positions 0..n_outputs-1.
    """
    n_out = net.sizes[-1]
    labels = output_labels(net)
    if all(label is None for label in labels) or labels == tuple(range(n_out)):
        return _labels(y, n_out, len(np.asarray(y)), what)
    read = readout(net, digits_only=False)
    y = np.asarray(y)
    if y.ndim != 1:
        _labels(y, n_out, len(y), what)  # the one-line shape error
    if len(y) and (not np.all(np.mod(y, 1) == 0) or y.min() < 0):
        raise HandnetError(f"{what}: labels must be whole numbers, the outputs answering {', '.join(map(str, read.digits))}")
    try:
        return read.to_columns(y.astype(np.int64))
    except HandnetError as e:
        raise HandnetError(f"{what}: {e}") from None


def _inputs(X, n_in: int, dtype, what: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim < 2 or int(np.prod(X.shape[1:])) != n_in:
        raise HandnetError(f"{what}: expected (n, {n_in}) inputs or (n, 28, 28) images, got shape {X.shape}")
    X = X.reshape(len(X), -1)
    if np.issubdtype(X.dtype, np.integer):
        scaled = X.astype(dtype, order="C")  # one copy, scaled in place
        return np.divide(scaled, dtype.type(255), out=scaled)
    if not np.issubdtype(X.dtype, np.floating):
        raise HandnetError(f"{what}: expected numbers, got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=dtype)  # the caller's own array when it already is one
    for start in range(0, len(X), ROWS_PER_CHUNK):  # checked in slices: no full-size temporary
        if not np.isfinite(X[start : start + ROWS_PER_CHUNK]).all():
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
    X_val=None,
    y_val=None,
    progress=None,
    data: str | None = None,
    twin_of: Network | None = None,
    output_units=None,
    prefetch: bool | None = None,
) -> TrainResult:
    """Train a network on ``X`` ``(n, 784)`` float in [0, 1] (or uint8 images) and labels ``y`` ``(n,)``.

    ``init``: start from this network (its layout, activations, unit names and non-provenance
    metadata are kept; the config's ``sizes``/``hidden_activation``/``output`` are then unused).
    ``freeze``: layer names or aliases whose weights stay exactly as they are (``"hidden"`` freezes
    every hidden layer, i.e. trains only the readout). ``X_test``/``y_test``: measured after every
    epoch, for the record only: no choice is ever made on them. ``X_val``/``y_val``: validation
    digits (carved from the training digits, never the test split), measured after every epoch and
    used for the one choice training makes, the best network so far. ``progress``: called with each epoch's history record. ``data``: a sentence saying
    where the digits came from, kept in the provenance. ``twin_of``: a fresh network takes this
    network's output unit names and labels, so the two answer the same way; ``output_units``: names
    for a fresh network's output units instead of ``0``..``n-1`` (e.g. ``("0", "1", "7")``).

    Labels train the output unit that answers them by name (``target_columns``): label 7 trains
    the unit named 7 wherever it sits; a label no output answers is an error (keep only the
    digits the network answers, e.g. ``handnet.nn.labels.restrict``).

    ``prefetch``: augment the next epoch's digits in helper threads (up to ``MAX_HELPERS``) while this
    epoch trains, like a data loader's workers; None (the default) does so when the machine has cores
    to spare (``handnet.threads.spare_cores``: none in a ``--jobs`` worker or on a busy machine) and the
    batches train on one BLAS thread; True always starts at least one. The run is the same bit for bit
    either way; ``TrainResult.timing`` says how long the steps waited for their digits.

    Ctrl-C (KeyboardInterrupt) during training returns the best network so far (by validation
    accuracy when validation digits are given, else by training loss; never by test accuracy) with
    ``interrupted=True``; ``TrainResult.chosen_by`` says which.
    """
    config = config or TrainConfig()
    if not isinstance(config, TrainConfig):
        raise HandnetError(f"config: expected a TrainConfig, got {type(config).__name__}")
    dtype = np.dtype(config.dtype)
    seeds = np.random.SeedSequence(config.seed).spawn(3)
    init_rng, order_rng, augment_rng = (np.random.default_rng(s) for s in seeds)

    n_train = len(X) if hasattr(X, "__len__") else 0
    n_test = len(X_test) if X_test is not None and hasattr(X_test, "__len__") else 0
    check_training_size(init.sizes if isinstance(init, Network) else config.sizes, config.batch_size, config.dtype,
                        n_train, n_test)
    start_net = init if init is not None else _fresh_network(config, init_rng, twin_of, output_units)
    if not isinstance(start_net, Network):
        raise HandnetError(f"init: expected a Network, got {type(start_net).__name__}")
    frozen = resolve_freeze(start_net, freeze)
    n_in, n_out = start_net.sizes[0], start_net.sizes[-1]
    X = _inputs(X, n_in, dtype, "X")
    y = target_columns(start_net, y, "y") if len(np.asarray(y)) == len(X) else _labels(y, n_out, len(X), "y")
    if len(X) == 0:
        raise HandnetError("X: no training images")
    Y = one_hot(y, n_out, dtype)
    has_test = X_test is not None
    if has_test:
        X_test = _inputs(X_test, n_in, dtype, "X_test")
        y_test = target_columns(start_net, y_test, "y_test") if len(np.asarray(y_test)) == len(X_test) \
            else _labels(y_test, n_out, len(X_test), "y_test")
    has_val = X_val is not None
    if has_val:
        X_val = _inputs(X_val, n_in, dtype, "X_val")
        y_val = target_columns(start_net, y_val, "y_val") if len(np.asarray(y_val)) == len(X_val) \
            else _labels(y_val, n_out, len(X_val), "y_val")
    chosen_by = "validation accuracy" if has_val else "training loss"
    augmenting = config.augmenting and config.epochs > 0
    if augmenting and n_in != start_net.input_shape[0] * start_net.input_shape[1]:
        raise HandnetError(f"augment needs image inputs; the network's input shape is {start_net.input_shape}")

    engine = Engine(start_net.layers, dtype, config.loss, [layer.name not in frozen for layer in start_net.layers])
    optimizer = Optimizer(config, engine)
    n, batch = len(X), min(config.batch_size, len(X))
    if prefetch is None:  # helper threads only where they have cores of their own and BLAS keeps to one
        helpers = min(MAX_HELPERS, spare_cores()) if batch < MULTITHREAD_BATCH else 0
    else:
        helpers = max(1, min(MAX_HELPERS, available_cores() - 1)) if prefetch else 0
    # each row: an image's inputs, a 1 for the bias, its one-hot target; gathered batch by batch from one
    # array of all of them, or laid out (and augmented) in the order training visits them (_Rows)
    rows = _Rows(engine, X, Y, batch, start_net.input_shape if augmenting else None, config.augment, augment_rng,
                 order_rng, config.epochs, helpers)
    # the output pre-activations of every training image as it was trained on, for the epoch's metrics
    epoch_z = np.empty((n, n_out), dtype=dtype)

    plans: dict[int, tuple] = {}  # batch size -> (workspace, every call of one training step)

    def plan(size: int) -> tuple:
        forward, backward = engine.tapes(size)
        plans[size] = (engine.workspace(size), forward + backward + optimizer.tape)
        return plans[size]

    # the same step for a batch read in place from rows in visiting order (no gather): the calls that read
    # the batch's inputs and targets are made here, between the tapes' other calls (same calls, same order)
    in_place: dict[int, tuple] = {}

    def place(size: int) -> tuple:
        ws = engine.workspace(size)
        forward, middle, ends = engine.step_around_inputs(size)
        in_place[size] = (ws["z"][0], ws["a"][-1], ws["d"][-1], ws["d"][0] if ends else None, ws["z"][-1], forward,
                          middle + ([] if ends else optimizer.tape))
        return in_place[size]

    adam = config.optimizer == "adam"
    history: list[dict] = []
    best = {"score": None, "params": engine.params.copy(), "epoch": None}
    interrupted = False
    feed = rows.epochs()
    P0, gP0, opt_tape, n_x = engine.P[0], engine.gP[0], optimizer.tape, n_in + 1
    try:
        # divergence is checked after each epoch; small products run fastest on one BLAS thread
        with np.errstate(over="ignore", under="ignore", invalid="ignore"), _blas_threads(batch):
            for epoch in range(config.epochs):
                started = time.perf_counter()
                lr = learning_rate(config, epoch)
                optimizer.set_lr(lr)
                order, slices = next(feed)  # this epoch's order, and its rows slice by slice
                if engine.first < engine.n_layers:
                    for first, source, positions in slices:
                        if positions is None:  # the rows are in visiting order: each batch is read in place
                            for s in range(0, len(source), batch):
                                part = source[s : s + batch]
                                z0, a_out, d_out, d0, z_out, forward, rest = (
                                    in_place[len(part)] if len(part) in in_place else place(len(part)))
                                x = part[:, :n_x]
                                if adam:
                                    optimizer.advance()
                                np.matmul(x, P0, z0)
                                deque(map(call, forward), 0)
                                np.subtract(a_out, part[:, n_x:], d_out)
                                deque(map(call, rest), 0)
                                if d0 is not None:  # the first layer's gradient, then the optimizer's step
                                    np.matmul(x.T, d0, gP0)
                                    deque(map(call, opt_tape), 0)
                                np.copyto(epoch_z[first + s : first + s + batch], z_out)
                            continue
                        for s in range(0, len(positions), batch):
                            idx = positions[s : s + batch]
                            ws, ops = plans[len(idx)] if len(idx) in plans else plan(len(idx))
                            # mode="clip" lets take write straight into the buffer (indices are in range)
                            source.take(idx, 0, ws["xy"], "clip")
                            if adam:
                                optimizer.advance()
                            deque(map(call, ops), 0)  # run every call of the step, without a Python loop
                            np.copyto(epoch_z[first + s : first + s + batch], ws["z"][-1])
                else:  # nothing to train: measure the network as it is
                    for first, source, positions in slices:
                        for s in range(0, len(source if positions is None else positions), EVAL_CHUNK):
                            part = source[s : s + EVAL_CHUNK] if positions is None else source[positions[s : s + EVAL_CHUNK]]
                            ws = engine.workspace(len(part))
                            engine.forward(part[:, :n_x], ws)
                            epoch_z[first + s : first + s + EVAL_CHUNK] = ws["z"][-1]
                if not np.all(np.isfinite(engine.params)):
                    raise HandnetError(
                        f"training diverged at epoch {epoch + 1} (weights became NaN or infinite); "
                        f"lower the learning rate (lr {config.lr:g})"
                    )
                loss, correct = engine.score(epoch_z, y[order])
                test_acc = engine.evaluate(X_test, y_test, ones=False)[1] if has_test else None
                val_acc = engine.evaluate(X_val, y_val, ones=False)[1] if has_val else None
                record = {
                    "epoch": epoch + 1,
                    "lr": lr,
                    "loss": loss,
                    "train_accuracy": correct / n,
                    "test_accuracy": test_acc,
                    "val_accuracy": val_acc,
                    "seconds": time.perf_counter() - started,
                }
                history.append(record)
                score = val_acc if has_val else -loss  # never the test split
                if best["score"] is None or score > best["score"]:
                    best = {"score": score, "params": engine.params.copy(), "epoch": epoch + 1}
                if progress is not None:
                    progress(record)
    except KeyboardInterrupt:
        # the best completed epoch, or the starting weights if none completed
        interrupted = True
        engine.params[...] = best["params"]
    finally:
        rows.close()  # the helper thread, if any, finishes the slice it is filling and stops

    network = Network(engine.layers_like(start_net.layers), start_net.input_shape, _metadata(
        start_net, init, config, frozen, history, interrupted, best["epoch"] if interrupted else None, data
    ))
    network.metadata["provenance"]["best_chosen_by"] = chosen_by
    timing = {"prefetch": rows.helpers > 0, "helpers": rows.helpers, "data_wait_seconds": rows.waited,
              "data_cpu_seconds": sum(rows.fill_seconds), "seconds": sum(r["seconds"] for r in history)}
    return TrainResult(network, history, interrupted, best["epoch"] if interrupted else None, chosen_by, timing)


class _Rows:
    """The training rows (an image's inputs, a 1 for the bias, its one-hot target) as training visits them.

    Two layouts, the same bits:

    * gathered: without augmentation and with ``RESIDENT_BYTES`` or less of rows, one array of all of
      them, from which the trainer gathers each mini-batch (``take``) in the epoch's order;
    * in visiting order: otherwise, a buffer for the epoch's order (or, above ``RESIDENT_BYTES``, for a
      slice of it: a whole number of mini-batches) filled in that order, augmented as it is filled, so
      each mini-batch is a run of consecutive rows the step reads in place and no full-size copy of the
      data is ever made. Each image gets the shift and angle drawn for it in image order.

    With ``helpers`` > 0, that many helper threads fill the next slice (the next epoch's, when an epoch
    is one slice; each helper a part of it) into a second buffer while the trainer works on the
    current one, like a data loader's workers. NumPy releases the GIL in its loops, so the warp runs
    beside the training steps. Every random draw (the epoch's shifts and angles from ``rng``, its order
    from ``order_rng``) is still made on the calling thread, in the same order, and each image's warp
    depends on its own draws alone, so the run is the same bit for bit with or without them.
    ``waited`` counts the seconds the trainer waited for its rows (filling them itself, without
    helpers); ``fill_seconds`` the CPU seconds each fill took, on whichever thread.
    """

    def __init__(self, engine, X, Y, batch: int, image_shape, augment, rng, order_rng, epochs: int, helpers: int):
        self.X, self.Y, self.rng, self.order_rng, self.augment, self.epochs_total = X, Y, rng, order_rng, augment, epochs
        n, self.n_in = X.shape
        self.image_shape = image_shape  # None: no augmentation
        width = self.n_in + 1 + Y.shape[1]
        resident = n * width * engine.dtype.itemsize <= RESIDENT_BYTES
        self.gathered = resident and image_shape is None
        if resident:
            self.size = n
        else:  # about RESIDENT_BYTES of rows per slice, a whole number of mini-batches
            self.size = max(batch, RESIDENT_BYTES // (width * engine.dtype.itemsize) // batch * batch)
        slices = epochs * -(-n // self.size)
        self.helpers = helpers if not self.gathered and slices > 1 else 0
        self.buffers = [np.empty((self.size, width), dtype=engine.dtype) for _ in range(2 if self.helpers else 1)]
        for rows in self.buffers:
            rows[:, self.n_in] = 1
        if self.gathered:
            self.buffers[0][:, : self.n_in] = X
            self.buffers[0][:, self.n_in + 1 :] = Y
        self.waited = 0.0
        self.fill_seconds: list[float] = []  # appended by whichever thread fills
        self._helper = ThreadPoolExecutor(self.helpers, thread_name_prefix="handnet-prefetch") if self.helpers else None
        self._pending = None

    def _images(self, rows):
        """``rows``' input columns as ``(m, *image_shape)`` (a view, written by the warp)."""
        return rows[:, : self.n_in].reshape(len(rows), *self.image_shape)

    def _draw(self):
        """The epoch's augmentation draws for every image (in image order), or None."""
        if self.image_shape is None:
            return None
        return augment_draws(len(self.X), self.rng, *self.augment, dtype=self.buffers[0].dtype)

    def epochs(self):
        """Per epoch, ``(order, slices)``: ``slices`` yields ``(first, rows, positions)`` per slice of
        ``order``: the rows of ``order[first:first + m]`` are ``rows[positions]``, or, when ``positions``
        is None, ``rows`` (``m`` rows) in that order."""
        n = len(self.X)
        if self.gathered:
            for _ in range(self.epochs_total):
                order = self.order_rng.permutation(n)
                yield order, iter([(0, self.buffers[0], order)])
            return
        tasks = self._tasks()  # drawn here, on the calling thread, as the slices are asked for
        task = next(tasks, None)
        self._pending = self._start(task, self.buffers[0])
        slot = 0
        while task is not None:
            epoch, order = task[0], task[1]

            def slices():
                nonlocal task, slot
                while task is not None and task[0] == epoch:
                    first, rows = task[2], self._wait(self._pending)
                    task = next(tasks, None)  # the next slice (maybe the next epoch's) into the other buffer
                    slot = (slot + 1) % len(self.buffers)
                    self._pending = None if task is None else self._start(task, self.buffers[slot])
                    yield first, rows, None

            yield order, slices()

    def _tasks(self):
        n = len(self.X)
        for epoch in range(self.epochs_total):
            draws = self._draw()  # this epoch's shifts and angles, if augmenting, then its order
            order = self.order_rng.permutation(n)
            for first in range(0, n, self.size):
                yield epoch, order, first, order[first : first + self.size], draws

    def _start(self, task, buffer):
        """Start filling ``buffer`` with ``task``'s rows (the helpers, each a part), or leave it for ``_wait``."""
        if task is None:
            return None
        parts = None
        if self._helper is not None:
            m = len(task[3])
            cuts = [m * k // self.helpers for k in range(self.helpers + 1)]
            parts = [self._helper.submit(self._fill, task, buffer, lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:]) if hi > lo]
        return task, buffer, parts

    def _wait(self, pending):
        """The rows of a started fill, once they are ready (filled here, without helpers)."""
        task, buffer, parts = pending
        started = time.perf_counter()
        if parts is None:
            self._fill(task, buffer, 0, len(task[3]))
        else:
            for part in parts:
                part.result()
        self.waited += time.perf_counter() - started
        return buffer[: len(task[3])]

    def _fill(self, task, buffer, lo: int, hi: int):
        """Lay out (and augment) rows ``lo:hi`` of ``task``'s slice of the order in ``buffer``."""
        started = time.thread_time()
        idx, draws = task[3][lo:hi], task[4]
        rows = buffer[lo:hi]
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # the caller's state is per thread
            if draws is None:
                for s in range(0, len(idx), 1024):  # small temporaries: rows' input columns are not contiguous
                    rows[s : s + 1024, : self.n_in] = self.X[idx[s : s + 1024]]
            else:
                images = self.X.reshape(len(self.X), *self.image_shape)
                warp_images(images, *draws, out=self._images(rows), index=idx)
            rows[:, self.n_in + 1 :] = self.Y[idx]
        self.fill_seconds.append(time.thread_time() - started)

    def close(self) -> None:
        """Stop the helper threads: a part they are filling is finished (milliseconds), parts not
        started are dropped; no thread is left running."""
        if self._helper is not None:
            self._helper.shutdown(wait=True, cancel_futures=True)
            self._helper = None


def _metadata(start_net, init, config, frozen, history, interrupted, best_epoch, data) -> dict:
    meta = {k: v for k, v in (init.metadata if init is not None else {}).items() if k not in ("provenance", "history")}
    settings = config.to_dict()
    activations = [layer.activation for layer in start_net.layers]
    settings.update(sizes=list(start_net.sizes), activations=activations, layer_names=list(start_net.layer_names))
    # with init=, say what the network really is rather than the unused defaults for a fresh one
    if activations[-1] in OUTPUTS:
        settings["output"] = activations[-1]
    if len(set(activations[:-1])) == 1 and activations[0] in HIDDEN_ACTIVATIONS:
        settings["hidden_activation"] = activations[0]
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
