"""Hand-designed vs learned: the numbers that answer the lesson's question.

``compare(a, b, dataset)`` measures two networks of the same shape on the same test digits:
accuracy overall and per digit with 95% Wilson intervals and confusion matrices; unit matching
(Hungarian assignment on activation correlation and on weight-template cosine); linear CKA between
layers, each beside random nets of the same shape (and a second trained seed, when given); the
little-edge score and the stroke fit of every hidden unit; confidence on noise and blank images; and the accuracy
each hidden unit carries (ablation); and the verdict, those numbers in words beside their
baselines (``handnet.compare.verdict``). ``Comparison.to_dict()`` is the JSON documented in
docs/compare.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from handnet.compare import edgelike, similarity, verdict
from handnet.compare.verdict import Z95, wilson_interval  # noqa: F401  (defined with the verdict, which cites it)
from handnet.inside import probes
from handnet.errors import HandnetError
from handnet.nn.labels import Readout, Scope, readout, scope, shared_readouts
from handnet.nn.network import Network


@dataclass(frozen=True)
class AccuracyReport:
    """Accuracy of one network on one test set: overall and per digit, each with a 95% Wilson interval.

    ``confusion`` (classes, classes) int, rows = true digit, columns = predicted.
    """

    accuracy: float
    interval: tuple[float, float]
    n: int
    per_digit: list[float]
    per_digit_interval: list[tuple[float, float]]
    per_digit_n: list[int]
    confusion: np.ndarray

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "ci95": list(self.interval),
            "n": self.n,
            "per_digit": {
                str(d): {"accuracy": a, "ci95": list(ci), "n": k}
                for d, (a, ci, k) in enumerate(zip(self.per_digit, self.per_digit_interval, self.per_digit_n))
            },
            "confusion": self.confusion.tolist(),
        }


def accuracy_report(net: Network, X, y, outputs=None, read: Readout | None = None) -> AccuracyReport:
    """Accuracy of ``net`` on images ``X`` (n, 784) with labels ``y`` (n,) int in 0-9, its output
    units read by name (``read``: a ``handnet.nn.labels.Readout``, default the net's own). Only
    the digits whose label the readout answers count. ``outputs``: the net's outputs on ``X``,
    when already computed."""
    from handnet.nn.evaluate import confusion_matrix

    read = read if read is not None else check_digit_outputs(net)
    y = np.asarray(y)
    keep = read.covers(y)
    outputs = net.output(X) if outputs is None else np.asarray(outputs)
    predictions = read.predict(outputs[keep])
    confusion = confusion_matrix(y[keep], predictions)
    per_n = confusion.sum(axis=1).tolist()
    per_k = np.diag(confusion).tolist()
    n, k = int(confusion.sum()), int(np.trace(confusion))
    return AccuracyReport(
        accuracy=k / n if n else float("nan"),
        interval=wilson_interval(k, n),
        n=n,
        per_digit=[c / m if m else float("nan") for c, m in zip(per_k, per_n)],
        per_digit_interval=[wilson_interval(c, m) for c, m in zip(per_k, per_n)],
        per_digit_n=[int(m) for m in per_n],
        confusion=confusion,
    )


def check_digit_outputs(net: Network, name: str = "the network", digits=None) -> Readout:
    """The net's readout (output units matched to digits by name); a one-line error naming ``name``
    when its outputs cannot be read as digits."""
    try:
        return readout(net, digits)
    except HandnetError as e:
        raise HandnetError(f"{name}: {e}") from None


def check_same_shape(a: Network, b: Network, names=("A", "B")) -> None:
    """Raise a one-line error unless the two networks have the same layer sizes."""
    if a.sizes != b.sizes:
        raise HandnetError(
            f"{names[0]} is {'-'.join(map(str, a.sizes))} but {names[1]} is {'-'.join(map(str, b.sizes))}; "
            "compare needs two networks of the same shape"
        )


@dataclass
class NetworkProfile:
    """Everything measured about one network on its own: accuracy, edge-likeness, noise test, ablation."""

    name: str
    network: Network
    accuracy: AccuracyReport
    edges: list
    noise: dict
    ablation: dict
    firing: dict = field(default_factory=dict)  # first hidden layer units above FIRING per digit (see firing_counts)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "sizes": self.network.sizes,
            "layers": self.network.layer_names,
            "provenance": self.network.metadata.get("provenance"),
            "accuracy": self.accuracy.to_dict(),
            "edge_likeness": {
                "units": [f.to_dict() for f in self.edges],
                "summary": edgelike.summarize(self.edges),
            },
            "noise": self.noise,
            "ablation": self.ablation,
            "first_layer_firing": self.firing,
        }


FIRING = 0.5  # a unit "fires" on a digit when its activation is above this
LESSON_FIRING = (8, 10)  # the lesson hopes a digit lights up 8-10 of the 16 edge units


def firing_counts(first_layer_acts, y) -> dict:
    """How many first-hidden-layer units fire (activation > ``FIRING``) per test digit: the mean
    with a 95% normal interval, and the mean per digit."""
    counts = (np.asarray(first_layer_acts) > FIRING).sum(axis=1).astype(float)
    y = np.asarray(y)
    n = counts.size
    mean = float(counts.mean()) if n else float("nan")
    half = Z95 * float(counts.std(ddof=1)) / np.sqrt(n) if n > 1 else 0.0
    return {"mean": mean, "ci95": [mean - half, mean + half], "threshold": FIRING, "units": int(np.shape(first_layer_acts)[1]),
            "n_digits": int(n),
            "definition": (f"for each test digit, the number of first-hidden-layer units with activation > {FIRING}; "
                           f"the mean over the {n:,} test digits scored"),
            "per_digit": {str(d): float(counts[y == d].mean()) for d in np.unique(y)}}


def profile(net: Network, X, y, name: str = "", ablation_mode: str = "zero", noise_seed: int = 0, progress=None,
            acts=None, read: Readout | None = None):
    """Measure one network on test images ``X`` (n, 784) and labels ``y``, its outputs read by
    ``read`` (default: the net's own readout).

    ``acts`` is ``net.forward(X)`` when the caller has it: every measurement here shares it.
    """
    acts = net.forward(X) if acts is None else acts
    read = read if read is not None else check_digit_outputs(net, name or "the network")
    return NetworkProfile(
        name=name,
        network=net,
        accuracy=accuracy_report(net, X, y, outputs=acts[-1], read=read),
        edges=edgelike.edge_likeness(net),
        noise=probes.noise_test(net, X, seed=noise_seed, digit_outputs=acts[-1], read=read),
        ablation=probes.ablation(net, X, y, mode=ablation_mode, progress=progress, acts=acts, read=read),
        firing=firing_counts(acts[1], y) if len(net.layers) > 1 else {},
    )


@dataclass
class Comparison:
    """Two networks measured side by side on one test set (see ``compare``)."""

    a: NetworkProfile
    b: NetworkProfile
    data: str
    matchings: dict = field(default_factory=dict)  # {"activation": [Matching per hidden layer], "weights": [...]}
    cka_layers: list = field(default_factory=list)  # corresponding layers: [{"layer_a", "layer_b", "cka"}]
    cka_matrix: np.ndarray | None = None  # (layers of A, layers of B)
    scope: Scope | None = None  # which labels were scored, and how many test digits that is

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "labels": list(self.scope.labels) if self.scope is not None else list(range(10)),
            "scope": self.scope.to_dict() if self.scope is not None else None,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "agreement": self.agreement,
            "matching": {crit: [m.to_dict() for m in ms] for crit, ms in self.matchings.items()},
            "cka": {
                "corresponding": self.cka_layers,
                "matrix": {
                    "rows": self.a.network.layer_names,
                    "columns": self.b.network.layer_names,
                    "values": self.cka_matrix.tolist() if self.cka_matrix is not None else None,
                },
            },
            "verdict": self.verdict.to_dict() if self.verdict is not None else None,
            "baselines": self.baselines,
            "noise_panel": self.noise_panel,
        }

    agreement: float = float("nan")  # fraction of test images on which A and B give the same answer (label)
    verdict: object = None  # handnet.compare.verdict.Verdict: the numbers in words, beside their baselines
    baselines: dict = field(default_factory=dict)  # see similarity_baselines: CKA and matching against references
    noise_panel: dict | None = None  # compare.study.noise_comparison: A, B and the lesson's recipe on one scale


def similarity_baselines(a: Network, b: Network, X, acts, second: Network | None = None,
                         seeds=None) -> dict:
    """What the CKA and matching numbers between A and B should be read against, per hidden layer.

    ``random``: the same measure between B and a network of the same shape with random weights
    (``verdict.RANDOM_SEEDS``, one value per seed), and between A and those nets; ``second``: between
    B and ``second`` (a second trained seed of B: how alike two nets trained the same way are), when
    given. Returns ``{"seeds", "layers": [{"layer", "cka": {"value", "random_b", "random_a", "second"},
    "matching": {criterion: {...the same}}}]}``; ``acts`` is ``(a.forward(X), b.forward(X))``.
    """
    from handnet.nn.network import random_network

    seeds = list(verdict.RANDOM_SEEDS if seeds is None else seeds)
    full_a, full_b = acts
    randoms = [random_network(b.sizes, seed=s, activations=[lay.activation for lay in b.layers]) for s in seeds]
    rand_acts = [r.forward(X) for r in randoms]
    second_acts = second.forward(X) if second is not None else None
    criteria = ("activation", "weights")

    def matched(net_x, net_y, li, criterion, ax, ay):
        return similarity.match_units(net_x, net_y, li, criterion, X=X, acts=(ax, ay)).mean_score

    layers = []
    for li in range(len(a.layers) - 1):
        entry = {"layer": f"{a.layers[li].name} / {b.layers[li].name}",
                 "cka": {"value": similarity.linear_cka(full_a[li + 1], full_b[li + 1]),
                         "random_b": [similarity.linear_cka(r[li + 1], full_b[li + 1]) for r in rand_acts],
                         "random_a": [similarity.linear_cka(full_a[li + 1], r[li + 1]) for r in rand_acts],
                         "second": (similarity.linear_cka(second_acts[li + 1], full_b[li + 1])
                                    if second is not None else None)},
                 "matching": {}}
        for criterion in criteria:
            entry["matching"][criterion] = {
                "value": matched(a, b, li, criterion, full_a, full_b),
                "random_b": [matched(r, b, li, criterion, ra, full_b) for r, ra in zip(randoms, rand_acts)],
                "random_a": [matched(a, r, li, criterion, full_a, ra) for r, ra in zip(randoms, rand_acts)],
                "second": matched(second, b, li, criterion, second_acts, full_b) if second is not None else None,
            }
        layers.append(entry)
    return {"seeds": seeds, "second": second is not None, "layers": layers}


def compare(a: Network, b: Network, X, y, names=("A", "B"), data: str = "", ablation_mode: str = "zero",
            noise_seed: int = 0, progress=None, digits=None, second: Network | None = None) -> Comparison:
    """Compare two networks of the same shape on test images ``X`` (n, 784) float in [0, 1] and labels ``y``.

    Both are scored on the same digits: those of the labels both answer (their output units are
    matched to labels by name), or of ``digits`` when given; every measurement uses only those
    test digits. ``progress(k)`` is called as work is done (total ``compare_steps(a)``).
    ``second``: a second trained seed of B, the reference for how alike two trained nets are
    (``similarity_baselines``); without it CKA and matching are read against random nets only.
    """
    check_same_shape(a, b, names)
    if second is not None:
        check_same_shape(b, second, (names[1], "the second seed"))
    try:
        read_a, read_b = shared_readouts([a, b], digits)
    except HandnetError as e:
        raise HandnetError(f"{names[0]} and {names[1]}: {e}") from None
    keep, sc = scope(read_a, y)
    if not sc.n:
        raise HandnetError(f"no test digit has a label both networks answer ({', '.join(map(str, sc.labels))})")
    if not keep.all():
        X, y = np.asarray(X)[keep], np.asarray(y)[keep]
    step = progress or (lambda k: None)
    # every analysis below reads the same test activations: compute them once per network
    full_a, full_b = a.forward(X), b.forward(X)
    prof_a = profile(a, X, y, names[0], ablation_mode, noise_seed, step, acts=full_a, read=read_a)
    prof_b = profile(b, X, y, names[1], ablation_mode, noise_seed, step, acts=full_b, read=read_b)
    acts_a, acts_b = full_a[1:], full_b[1:]
    hidden = range(len(a.layers) - 1)
    matchings = {
        criterion: [similarity.match_units(a, b, li, criterion, X=X, acts=(full_a, full_b)) for li in hidden]
        for criterion in ("activation", "weights")
    }
    step(1)
    cka_layers = [
        {"layer_a": a.layers[i].name, "layer_b": b.layers[i].name, "cka": similarity.linear_cka(acts_a[i], acts_b[i])}
        for i in range(len(a.layers))
    ]
    matrix = similarity.cka_matrix(acts_a, acts_b)
    step(1)
    # the same answer means the same label, wherever each net keeps the unit that gives it
    answers_a, answers_b = read_a.predict(acts_a[-1]), read_b.predict(acts_b[-1])
    agreement = float(np.mean(answers_a == answers_b))
    result = Comparison(prof_a, prof_b, data, matchings, cka_layers, matrix, sc, agreement)
    result.baselines = similarity_baselines(a, b, X, (full_a, full_b), second)
    y = np.asarray(y)
    result.verdict = verdict.verdict(result, X, answers_a == y, answers_b == y, acts=(full_a, full_b), y=y)
    return result


def compare_steps(net: Network) -> int:
    """How many progress steps ``compare`` reports for networks of this shape."""
    return 2 * sum(layer.n_out for layer in net.layers[:-1]) + 2
