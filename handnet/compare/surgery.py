"""Surgery: put a hand-designed layer into a trained network and see how much accuracy it keeps.

Interpretability researchers asked this of curve detectors in a vision model: replace the learned
units with hand-written ones, and compare with removing them. Here one whole layer of the trained
net (e.g. its first hidden layer) is replaced by the hand-designed one, the layers above it are
refit on the training data (the layers at and below it stay frozen), and the test accuracy is
reported next to four references that isolate what the hand layer is worth:

* ``trained``: the trained network as it is;
* ``hand, no refit``: the hand layer swapped in, nothing refit (the layers above expect other units);
* ``hand, refit above``: the answer: the hand layer swapped in, layers above refit;
* ``trained, refit above``: the trained layer kept, the same refit (the ceiling of this procedure);
* ``random, refit above``: a random layer of the same shape, same refit (what any features give);
* ``removed, refit above``: the layer's units removed (each held at its mean activation over the
  training data, so they carry no information), same refit: the floor.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from handnet.compare.comparison import check_same_shape
from handnet.errors import HandnetError
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


@dataclass
class SurgeryResult:
    """Test accuracy of each variant (see the module docstring) and the fraction of the trained accuracy kept."""

    layer: str
    variants: list  # [{"label", "accuracy", "kept"}]
    networks: dict  # label -> Network
    data: str = ""

    def accuracy(self, label: str) -> float:
        return next(v["accuracy"] for v in self.variants if v["label"] == label)

    def to_dict(self) -> dict:
        return {"layer": self.layer, "data": self.data, "variants": self.variants}


def _refit(net: Network, frozen_through: int, X, y, config, seed: int, progress=None) -> Network:
    """Retrain the layers above ``frozen_through`` starting from ``net``'s weights."""
    from handnet.nn.train import TrainConfig, train

    config = config or TrainConfig(sizes=tuple(net.sizes))
    config = dataclasses.replace(config, sizes=tuple(net.sizes), seed=seed)
    freeze = [layer.name for layer in net.layers[: frozen_through + 1]]
    refit = train(X, y, config, init=net, freeze=freeze).network
    if progress is not None:
        progress(1)
    return refit


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
    if hand.layers[li].activation != trained.layers[li].activation:
        raise HandnetError(
            f"layer {layer!r}: the hand layer is {hand.layers[li].activation} but the trained one is "
            f"{trained.layers[li].activation}; surgery needs the same activation"
        )
    return li


def surgery(hand: Network, trained: Network, X_train, y_train, X_test, y_test, layer: str = "hidden1",
            config=None, seed: int = 0, data: str = "", progress=None) -> SurgeryResult:
    """Swap ``layer`` (name or alias, resolved in the hand net) of ``hand`` into ``trained`` and refit above.

    ``X_*`` (n, 784) float in [0, 1], ``y_*`` (n,) int. ``config`` is a ``train.TrainConfig`` for the
    refits (default: the trainer's recipe) and ``seed`` its seed. Returns a ``SurgeryResult``.
    ``progress(1)`` is called after each of the four refits.
    """
    li = check_surgery(hand, trained, layer)
    hand_layer = hand.layers[li].replace(name=trained.layers[li].name)
    with_hand = trained.replace_layer(li, hand_layer)
    mean_act = trained.forward(X_train)[li + 1].mean(axis=0)
    removed = trained.replace_layer(li, constant_layer(trained.layers[li], mean_act))
    random_layer = random_network(trained.sizes, seed=seed, activations=[l.activation for l in trained.layers]).layers[li]
    with_random = trained.replace_layer(li, random_layer.replace(name=trained.layers[li].name))
    nets = {
        "trained": trained,
        "hand, no refit": with_hand,
        "hand, refit above": _refit(with_hand, li, X_train, y_train, config, seed, progress),
        "trained, refit above": _refit(trained, li, X_train, y_train, config, seed, progress),
        "random, refit above": _refit(with_random, li, X_train, y_train, config, seed, progress),
        "removed, refit above": _refit(removed, li, X_train, y_train, config, seed, progress),
    }
    base = trained.accuracy(X_test, y_test)
    variants = []
    for label, net in nets.items():
        acc = net.accuracy(X_test, y_test)
        variants.append({"label": label, "accuracy": acc, "kept": acc / base if base > 0 else float("nan")})
    return SurgeryResult(f"{hand.layers[li].name} -> {trained.layers[li].name}", variants, nets, data)
