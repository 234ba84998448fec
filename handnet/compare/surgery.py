"""Surgery: put a hand-designed layer into a trained network and see how much accuracy it keeps.

Interpretability researchers asked this of curve detectors in a vision model: replace the learned
units with hand-written ones, and compare with removing them. Two procedures, both here:

**Layer swap, refit above.** One layer of the trained net (e.g. its first hidden layer) is
replaced by the hand-designed one, the layers above it are refit on the training data (the layers
at and below it stay frozen), and the test accuracy is reported next to references that isolate
what the hand layer is worth:

* ``trained``: the trained network as it is;
* ``hand, no refit``: the hand layer swapped in, nothing refit (the layers above expect other units);
* ``hand, refit above``: the answer: the hand layer swapped in, layers above refit;
* ``trained, refit above``: the trained layer kept, the same refit (the ceiling of this procedure);
* ``random, refit above``: a random layer of the same shape, same refit (what any features give);
* ``removed, refit above``: the layer's units removed (each held at its mean activation over the
  training data, so they carry no information), same refit: the floor.

A hand layer reads the hand layer below it: the parts read edges. When the trained net's layer
below is something else (its own learned first layer), swapping the hand parts alone would stack
them on units they were not built on, so the hand layer is swapped *together with the hand layers
under it* (and the random control likewise), and the result says so (``SurgeryResult.note``).
``alone=True`` asks for the lone swap anyway, labelled as such.

**Unit substitution, no retraining** (as in Distill's "Curve Circuits"): each unit of the trained
layer is replaced by its matched hand unit (Hungarian assignment on activation correlation over the
training digits), rescaled by least squares to the trained unit's range, and nothing is retrained.
Each substitution is scored against the unit's mean-ablation (the unit held at its mean): the
fraction of the ablation loss it recovers, ``(ablated - substituted) / (ablated - trained)``, is 1
when the hand unit does the trained unit's job and 0 when it is no better than the mean.

Labels are matched to output units by name (``handnet.nn.labels``); only the digits the trained
net answers (or ``digits``) are used, for training and testing alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from handnet.compare.comparison import check_same_shape
from handnet.compare.similarity import correlation_matrix, hungarian
from handnet.errors import HandnetError
from handnet.nn.forward import forward
from handnet.nn.labels import Readout, Scope, readout, scope
from handnet.nn.network import Network, random_network


MEANINGS = {  # what each variant's accuracy says, in one sentence for the learner
    "trained": "the trained network as it is",
    "hand, no refit": "hand layer swapped in, nothing refit: the layers above were trained on other units and now "
                      "read nonsense, so this can fall below guessing",
    "hand, refit above": "the answer: hand layer swapped in, the layers above retrained on it",
    "trained, refit above": "trained layer kept, the same retraining: the ceiling",
    "random, refit above": "a layer of random weights, the same retraining: what any features give",
    "removed, refit above": "the layer's units held constant, the same retraining: the floor",
}
SURGERY_REFITS = 4  # hand, trained, random and removed, each with the layers above retrained


@dataclass(frozen=True)
class UnitSubstitution:
    """One trained unit replaced by its matched hand unit, rescaled, nothing retrained.

    ``scale`` and ``shift`` map the hand unit's activation onto the trained unit's (least squares
    on the training digits); ``correlation`` is their Pearson correlation there. Losses are the
    mean cross-entropy of the answering outputs' softmax on the test digits; ``recovered`` is the
    fraction of the ablation loss the substitution wins back (None when ablating the unit costs
    nothing, so there is nothing to recover).
    """

    unit: str
    hand_unit: str
    correlation: float
    scale: float
    shift: float
    loss_trained: float
    loss_ablated: float
    loss_substituted: float
    accuracy_ablated: float
    accuracy_substituted: float

    @property
    def recovered(self) -> float | None:
        cost = self.loss_ablated - self.loss_trained
        if cost <= 1e-9:
            return None
        return (self.loss_ablated - self.loss_substituted) / cost

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "recovered": self.recovered}

    def format_text(self) -> str:
        rec = "ablating it costs nothing" if self.recovered is None else f"recovers {round(100 * self.recovered):d}%"
        return (f"{self.unit} <- {self.hand_unit} (r {self.correlation:+.2f}, x{self.scale:.2f} {self.shift:+.2f}): "
                f"loss +{self.loss_ablated - self.loss_trained:.3f} ablated, "
                f"{self.loss_substituted - self.loss_trained:+.3f} substituted; {rec}")


@dataclass
class SurgeryResult:
    """Test accuracy of each variant (see the module docstring) and the fraction of the trained accuracy kept.

    ``swapped`` lists the hand layers put in (more than one when the layer was swapped with the hand
    layers under it); ``note`` says why in a sentence; ``units`` are the unit substitutions.
    """

    layer: str
    variants: list  # [{"label", "accuracy", "kept"}]
    networks: dict  # label -> Network
    data: str = ""
    swapped: list = field(default_factory=list)
    note: str = ""
    units: list = field(default_factory=list)  # [UnitSubstitution]
    scope: Scope | None = None

    def accuracy(self, label: str) -> float:
        return next(v["accuracy"] for v in self.variants if v["label"] == label)

    def unit(self, ref: str) -> UnitSubstitution:
        return next(u for u in self.units if u.unit == ref)

    def to_dict(self) -> dict:
        return {"layer": self.layer, "data": self.data, "swapped": self.swapped, "note": self.note,
                "labels": list(self.scope.labels) if self.scope is not None else list(range(10)),
                "scope": self.scope.to_dict() if self.scope is not None else None,
                "variants": self.variants, "units": [u.to_dict() for u in self.units]}


def _refit(net: Network, frozen_through: int, X, y, config, seed: int, progress=None) -> Network:
    """Retrain the layers above ``frozen_through`` starting from ``net``'s weights."""
    from handnet.compare.runs import trained
    from handnet.nn.train import TrainConfig, train

    config = config or TrainConfig(sizes=tuple(net.sizes))
    config = dataclasses.replace(config, sizes=tuple(net.sizes), seed=seed)
    freeze = [layer.name for layer in net.layers[: frozen_through + 1]]
    refit = trained(lambda: train(X, y, config, init=net, freeze=freeze).network, "refit", X, y, config, init=net,
                    freeze=freeze)
    if progress is not None:
        progress(1)
    return refit


def _refit_task(data, task) -> Network:
    """One refit of ``parallel.run_all``: ``data`` is ``(X, y)``, ``task`` ``(net, frozen_through, config, seed)``."""
    net, frozen_through, config, seed = task
    return _refit(net, frozen_through, *data, config, seed)


def constant_layer(layer, mean_activation: np.ndarray):
    """A layer of the same shape whose units always output ``mean_activation`` (zero weights, fitted biases)."""
    mean = np.asarray(mean_activation, dtype=np.float64)
    if layer.activation == "sigmoid":
        m = np.clip(mean, 1e-6, 1 - 1e-6)
        biases = np.log(m / (1 - m))
    elif layer.activation == "relu":
        biases = np.maximum(mean, 0.0)
    else:
        raise HandnetError(f"layer {layer.name}: cannot remove units of a {layer.activation} layer")
    return layer.replace(weights=np.zeros_like(layer.weights), biases=biases.astype(layer.biases.dtype))


def check_surgery(hand: Network, trained: Network, layer: str) -> int:
    """Raise a one-line error unless ``layer`` of ``hand`` can replace the same layer of ``trained``; its index."""
    check_same_shape(hand, trained, ("the hand-designed net", "the trained net"))
    li = hand.layer_index(layer)
    if li == len(hand.layers) - 1:
        raise HandnetError(f"layer {layer!r} is the output layer; surgery replaces a hidden layer and refits above it")
    for k in range(li + 1):
        if hand.layers[k].activation != trained.layers[k].activation:
            raise HandnetError(
                f"layer {hand.layers[k].name!r}: the hand layer is {hand.layers[k].activation} but the trained one is "
                f"{trained.layers[k].activation}; surgery needs the same activation"
            )
    return li


def built_on_the_same(hand: Network, trained: Network, li: int) -> bool:
    """True when the layers under layer ``li`` are the same in both nets (always for the first layer),
    so the hand layer would read in the trained net what it was built to read."""
    return all(np.array_equal(h.weights, t.weights) and np.array_equal(h.biases, t.biases)
               for h, t in zip(hand.layers[:li], trained.layers[:li]))


def _swap(target: Network, source: Network, indices) -> Network:
    """``target`` with layers ``indices`` taken from ``source`` (keeping ``target``'s layer names, so
    freezing and reports name them the same way)."""
    for k in indices:
        target = target.replace_layer(k, source.layers[k].replace(name=target.layers[k].name))
    return target


def _logits(net: Network, li: int, layer_acts: np.ndarray, read: Readout) -> np.ndarray:
    """The answering outputs' pre-activations when layer ``li``'s activations are ``layer_acts``."""
    zs = forward(net.layers[li + 1 :], layer_acts)[1]
    return zs[-1][:, list(read.columns)]


def _loss_and_accuracy(z: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Mean softmax cross-entropy of pre-activations ``z`` (n, k) against column indices ``target`` (n,),
    and the fraction whose largest ``z`` is the target."""
    z = np.asarray(z, dtype=np.float64)
    top = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
    rows = np.arange(len(z))
    return float(np.mean(lse - z[rows, target])), float(np.mean(np.argmax(z, axis=1) == target))


def substitute_units(hand: Network, trained: Network, li: int, X_fit, X_test, y_test, read: Readout,
                     units=None) -> list[UnitSubstitution]:
    """Replace each unit of ``trained``'s layer ``li`` (or only ``units``, refs) by its matched hand
    unit of the same layer, rescaled, with no retraining (see the module docstring).

    The hand unit's activation is computed by the hand net itself (its own layers below), matched
    by the Hungarian assignment on activation correlation over ``X_fit`` (the training digits) and
    rescaled there by least squares; losses are measured on ``X_test``/``y_test``.
    """
    fit_t, fit_h = trained.forward(X_fit)[li + 1], hand.forward(X_fit)[li + 1]
    scores = correlation_matrix(fit_h, fit_t)  # (hand units, trained units)
    matched = hungarian(scores.T)  # trained unit j -> hand unit
    test_t, test_h = trained.forward(X_test)[li + 1], hand.forward(X_test)[li + 1]
    position = {label: k for k, label in enumerate(read.labels)}
    target = np.array([position[int(label)] for label in y_test], dtype=np.int64)
    base_loss, _ = _loss_and_accuracy(_logits(trained, li, test_t, read), target)
    layer, hand_layer = trained.layers[li], hand.layers[li]
    chosen = range(layer.n_out) if units is None else [trained.unit(u).index for u in units]
    out = []
    for j in chosen:
        i = int(matched[j])
        h, t = fit_h[:, i].astype(np.float64), fit_t[:, j].astype(np.float64)
        A = np.stack([h, np.ones_like(h)], axis=1)
        (scale, shift), *_ = np.linalg.lstsq(A, t, rcond=None)
        ablated, substituted = test_t.copy(), test_t.copy()
        ablated[:, j] = t.mean()
        substituted[:, j] = scale * test_h[:, i] + shift
        loss_ab, acc_ab = _loss_and_accuracy(_logits(trained, li, ablated, read), target)
        loss_sub, acc_sub = _loss_and_accuracy(_logits(trained, li, substituted, read), target)
        out.append(UnitSubstitution(f"{layer.name}:{layer.units[j]}", f"{hand_layer.name}:{hand_layer.units[i]}",
                                    float(scores[i, j]), float(scale), float(shift), base_loss, loss_ab, loss_sub,
                                    acc_ab, acc_sub))
    return out


def surgery(hand: Network, trained: Network, X_train, y_train, X_test, y_test, layer: str = "hidden1",
            config=None, seed: int = 0, data: str = "", progress=None, alone: bool = False, digits=None,
            units=None, jobs: int | None = 1) -> SurgeryResult:
    """Swap ``layer`` (name or alias, resolved in the hand net) of ``hand`` into ``trained`` and refit
    above; then substitute its units one at a time with no retraining (see the module docstring).

    ``X_*`` (n, 784) float in [0, 1], ``y_*`` (n,) int labels. When the trained layers below differ
    from the hand layers the hand layer was built on, it is swapped with the hand layers under it,
    unless ``alone``. ``config`` is a ``train.TrainConfig`` for the refits (default: the trainer's
    recipe) and ``seed`` its seed. ``digits`` scores only those labels; ``units`` (refs in the
    trained net) limits the substitutions. ``progress(1)`` is called after each of the four refits,
    which run in ``jobs`` processes (None: the available cores; ``compare.parallel``), with the
    same results as one by one.
    """
    li = check_surgery(hand, trained, layer)
    read = readout(trained, digits)
    keep_train, _ = scope(read, y_train)
    keep_test, sc = scope(read, y_test)
    if not sc.n or not keep_train.any():
        raise HandnetError(f"no training or test digit has a label the trained net answers ({', '.join(map(str, read.labels))})")
    X_train, y_train = np.asarray(X_train)[keep_train], np.asarray(y_train)[keep_train]
    X_test, y_test = np.asarray(X_test)[keep_test], np.asarray(y_test)[keep_test]
    same_below = built_on_the_same(hand, trained, li)
    swap = [li] if same_below or alone else list(range(li + 1))
    hand_names = [hand.layers[k].name for k in swap]
    trained_names = [trained.layers[k].name for k in swap]
    if same_below:
        note = ""
    elif alone:
        note = (f"the hand layer {hand.layers[li].name} was built on the hand layer {hand.layers[li - 1].name}, but "
                f"here it reads the trained net's {trained.layers[li - 1].name}, units it was not built on; it was "
                "swapped alone, as asked, so its accuracy says little about the hand layer itself")
    else:
        note = (f"the hand layer {hand.layers[li].name} was built on the hand layer {hand.layers[li - 1].name}, not on "
                f"the trained net's {trained.layers[li - 1].name}, so it was swapped together with the hand layers "
                f"under it ({' + '.join(hand_names)}; the random control likewise)")
    with_hand = _swap(trained, hand, swap)
    mean_act = trained.forward(X_train)[li + 1].mean(axis=0)
    removed = trained.replace_layer(li, constant_layer(trained.layers[li], mean_act))
    random_net = random_network(trained.sizes, seed=seed, activations=[lay.activation for lay in trained.layers])
    with_random = _swap(trained, random_net, swap)
    from handnet.compare.parallel import run_all

    refits = {"hand, refit above": with_hand, "trained, refit above": trained, "random, refit above": with_random,
              "removed, refit above": removed}
    done = run_all(_refit_task, [(net, li, config, seed) for net in refits.values()], (X_train, y_train), jobs,
                   progress)
    nets = {"trained": trained, "hand, no refit": with_hand, **dict(zip(refits, done))}
    base = _accuracy(trained, X_test, y_test, read)
    variants = []
    for label, net in nets.items():
        acc = _accuracy(net, X_test, y_test, read)
        variants.append({"label": label, "accuracy": acc, "kept": acc / base if base > 0 else float("nan")})
    substitutions = substitute_units(hand, trained, li, X_train, X_test, y_test, read, units)
    return SurgeryResult(f"{' + '.join(hand_names)} -> {' + '.join(trained_names)}", variants, nets, data,
                         hand_names, note, substitutions, sc)


def _accuracy(net: Network, X, y, read: Readout) -> float:
    return float(np.mean(read.predict(net.output(X)) == np.asarray(y)))
