"""The study behind ``handnet report``: the ladder, the hand-designed net against its trained twin,
the surgery, and the memorization experiment (the twin's recipe on shuffled labels), computed once
for one spec and one set of digits.

``run_study(spec_path, splits)`` returns a ``Study``; ``handnet.viz.report.write_report`` lays it
out as a page, and ``Study.to_dict()`` gives every number for ``--json``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from handnet.compare.comparison import Comparison, compare
from handnet.compare.ladder import Ladder, ladder, ladder_steps, lesson_recipe
from handnet.compare.surgery import SURGERY_REFITS, surgery
from handnet.nn.labels import readout, scope
from handnet.nn.network import Network
from handnet.nn.train import TrainConfig


@dataclass
class Study:
    """What a report shows. ``hand`` is the ladder's spec rung (every weight from the spec),
    ``twin`` its first trained network (seed 0)."""

    spec_path: str
    data: str
    ladder: Ladder
    comparison: Comparison
    surgery: object
    hand: Network
    twin: Network
    memorization: dict | None = None  # see ``memorization``
    noise: dict | None = None  # see ``noise_panel``
    selectivity: object = None  # handnet.inside.selectivity.Selectivity: the hand net's hidden units per digit

    def to_dict(self) -> dict:
        comparison = self.comparison.to_dict()
        return {"verdict": comparison["verdict"], "ladder": self.ladder.to_dict(), "comparison": comparison,
                "surgery": self.surgery.to_dict(), "memorization": self.memorization,
                "noise": self.noise,
                "selectivity": self.selectivity.to_dict() if self.selectivity is not None else None}


NOISE_PANEL_KINDS = ("digits", "noise", "ink_noise", "blobs", "maximized")


def noise_panel(nets: dict, X_digits, read_for=None, seed: int = 0) -> dict:
    """The lesson's noise test on one scale for several networks (``nets``: name -> Network): the
    confidence (raw top output, and normalized: its share of all outputs) on real digits, uniform
    noise, noise at the digits' mean ink, blurred blobs and the ten inputs that maximize each digit
    output (``inside.maximize``, seed ``seed``). Returns ``{name: {kind: confidence_stats}}`` plus
    ``"confident": 0.9``."""
    from handnet.inside import probes
    from handnet.inside.maximize import maximize

    out = {}
    for name, net in nets.items():
        read = read_for(net) if read_for is not None else readout(net)
        result = probes.noise_test(net, X_digits, seed=seed, read=read)
        outputs = [net.units(len(net.layers) - 1)[c] for c in read.columns]
        images = np.stack([maximize(net, ref, restarts=1, seed=seed, maxiter=100).image for ref in outputs])
        result["maximized"] = probes.confidence_stats(net.output(images), read)
        out[name] = {kind: result[kind] for kind in NOISE_PANEL_KINDS if kind in result}
    return {"networks": out, "confident": 0.9, "seed": seed}


LESSON_TWIN = "lesson's recipe"  # the noise panel's name for a net trained with the lesson's recipe


def lesson_twin(like: Network, train_set, digits=None, seed: int = 0, epochs: int | None = None) -> Network:
    """A net of ``like``'s shape and output units trained from random weights with the lesson's recipe
    (``nn.train.LESSON_RECIPE``: sigmoid outputs, quadratic cost, plain SGD; ``epochs`` at most its 30)
    on the training digits whose labels ``like`` answers (or ``digits``), seed ``seed``."""
    from handnet.compare.runs import trained
    from handnet.nn.train import TrainConfig, train

    read = readout(like, digits)
    keep, _ = scope(read, train_set.y)
    subset = train_set.subset(np.flatnonzero(keep)) if not keep.all() else train_set
    config = lesson_recipe(TrainConfig(epochs=epochs) if epochs else None)
    config = dataclasses.replace(config, seed=seed, sizes=tuple(like.sizes))
    X, y = subset.X, subset.y
    return trained(lambda: train(X, y, config, twin_of=like).network, "lesson-twin", X, y, config, twin_of=like)


def noise_comparison(comparison: Comparison, train_set, X_test, y_test, seed: int = 0, epochs: int | None = None) -> dict:
    """The lesson's noise test on one scale for A, B and a net of B's shape trained with the lesson's
    recipe (``lesson_twin``, seed ``seed``, on the training digits of the labels ``comparison`` scored):
    ``noise_panel`` on the test digits of those labels. Stores the panel in ``comparison.noise_panel``
    and adds the third net's noise claims to its verdict; returns the panel."""
    a, b = comparison.a.network, comparison.b.network
    labels = list(comparison.scope.labels) if comparison.scope is not None else None
    third = lesson_twin(b, train_set, labels, seed=seed, epochs=epochs)
    keep, _ = scope(readout(b, labels), y_test)
    names = (comparison.a.name or "A", comparison.b.name or "B")
    panel = noise_panel({names[0]: a, names[1]: b, LESSON_TWIN: third}, np.asarray(X_test)[keep],
                        read_for=lambda net: readout(net, labels), seed=seed)
    panel["lesson_recipe_epochs"] = lesson_recipe(TrainConfig(epochs=epochs) if epochs else None).epochs
    comparison.noise_panel = panel
    if comparison.verdict is not None:
        from handnet.compare.verdict import noise_claims

        comparison.verdict.claims += noise_claims(f"A net trained with the {LESSON_TWIN}", panel["networks"][LESSON_TWIN])
    return panel


def _train_task(data, task) -> Network:
    """One training run of ``parallel.run_all``: ``data`` is ``(X, y, shuffled y)``, ``task``
    ``(config, twin, shuffled)``."""
    from handnet.compare.runs import trained
    from handnet.nn.train import train

    X, y, shuffled_y = data
    config, twin, shuffled = task
    labels = shuffled_y if shuffled else y
    return trained(lambda: train(X, labels, config, twin_of=twin).network, "memorization", X, labels, config,
                   twin_of=twin)


def memorization(twin: Network, train_set, test_set, config=None, seed: int = 0, read=None,
                 jobs: int | None = 1) -> dict:
    """The memorization experiment the lesson cites: the twin's recipe (``config``, seed ``seed``)
    without augmentation or weight decay (as in Zhang et al. 2017: nothing that resists memorizing),
    trained on the real labels and on the same training digits with their labels shuffled
    (``nn.train.shuffled_labels``, seed ``seed``).

    ``twin`` gives the shape and the output units; the test accuracy of both runs is measured. Returns ``{"seed", "epochs", "real": [{"epoch", "loss", "train_accuracy"}],
    "shuffled": [...], "test_accuracy": {"real", "shuffled"}, "guessing"}``; train accuracy is measured
    on the mini-batches as they were trained on (augmented when the recipe augments).

    The two runs are independent and run in ``jobs`` processes (``compare.parallel``), with the same
    results as one after the other.
    """
    from handnet.nn.train import shuffled_labels

    def curve(history):
        return [{k: r[k] for k in ("epoch", "loss", "train_accuracy")} for r in history]

    read = read if read is not None else readout(twin)
    labels = shuffled_labels(train_set.y, seed)
    config = dataclasses.replace(config or TrainConfig(), seed=seed, sizes=tuple(twin.sizes), augment=False,
                                 weight_decay=0.0)
    from handnet.compare.parallel import run_all

    real, shuffled = run_all(_train_task, [(config, twin, False), (config, twin, True)],
                             (train_set.X, train_set.y, labels), jobs)

    def accuracy(net):
        return float(np.mean(read.predict(net.output(test_set.X)) == test_set.y))

    return {"seed": seed, "epochs": config.epochs, "recipe": "the twin's, without augmentation or weight decay",
            "real": curve(real.metadata.get("history", [])),
            "shuffled": curve(shuffled.metadata.get("history", [])),
            "own_label_share": float(np.mean(labels == train_set.y)),
            "test_accuracy": {"real": accuracy(real), "shuffled": accuracy(shuffled)},
            "guessing": 1.0 / len(read.labels)}


def run_study(spec_path, splits, seeds: int = 3, config=None, layer: str = "hidden1", progress=None,
              digits=None, jobs: int | None = 1, twin: Network | None = None) -> Study:
    """Run the ladder for ``spec_path`` on ``splits`` (a ``data.DataSplits``), then compare its
    hand-designed net with its trained twin and do the surgery on ``layer``.

    Output units answer by name: everything is trained and scored on the digits of the labels the
    spec's outputs answer (or ``digits``). ``progress(k)`` is called as work is done (total
    ``study_steps(seeds)``). Independent training runs (the ladder's, the surgery's refits, the
    memorization's two) run in ``jobs`` processes (None: the available cores), with the same results
    as ``jobs=1``. ``twin``: the ladder's seed-0 trained net if already trained (``ladder``).
    """
    step = progress or (lambda k: None)
    lad = ladder(spec_path, splits.train, splits.test, seeds=seeds, config=config, progress=step, digits=digits,
                 jobs=jobs, twin=twin)
    hand = lad.rung("spec").networks[0]  # the hand-designed net: every weight from the spec
    twin = lad.rung("trained").networks[0]
    Xt, yt = splits.test.X, splits.test.y
    twins = lad.rung("trained").networks
    comparison = compare(hand, twin, Xt, yt, names=("hand", "trained"), data=splits.test.describe(), digits=digits,
                         second=twins[1] if len(twins) > 1 else None)
    if len(twins) > 1 and comparison.verdict is not None:  # the baseline for hand vs trained: trained vs trained
        from handnet.compare.verdict import twin_claims

        keep, _ = scope(readout(twin, digits), yt)
        comparison.verdict.claims += twin_claims(hand, twin, twins[1], np.asarray(Xt)[keep])
    if comparison.verdict is not None:  # what edge-likeness gives weights that are no edge detectors
        from handnet.compare.verdict import baseline_claim, edge_baselines, little_edge_baselines

        def first_median(prof, little=False):
            return float(np.median([f.little_edge_score if little else f.correlation
                                    for f in prof.edges if not f.linear_approximation]))

        comparison.verdict.claims.append(baseline_claim(
            edge_baselines(splits.train.X, splits.train.y, hand.sizes[1]), first_median(comparison.a),
            first_median(comparison.b), little_edge_baselines(splits.train.X, splits.train.y, hand.sizes[1]),
            first_median(comparison.a, True), first_median(comparison.b, True)))
    step(1)
    cut = surgery(hand, twin, splits.train.X, splits.train.y, Xt, yt, layer=layer, config=config,
                  data=splits.description, digits=digits, progress=step, jobs=jobs)  # one step per refit
    read = readout(twin, digits)
    train_set, test_set = splits.train, splits.test
    keep_train, _ = scope(read, train_set.y)
    keep_test, _ = scope(read, test_set.y)
    train_in, test_in = train_set.subset(np.flatnonzero(keep_train)), test_set.subset(np.flatnonzero(keep_test))
    memo = memorization(twin, train_in, test_in, config, seed=0, read=read, jobs=jobs)
    step(1)
    lesson_net = lad.rung("trained, lesson's recipe").networks[0]  # rung 5b, seed 0: trained once, in the ladder
    noise = noise_panel({"hand": hand, "twin": twin, "twin, lesson's recipe": lesson_net}, test_in.X,
                        read_for=lambda net: readout(net, digits))
    noise["lesson_recipe_epochs"] = lesson_recipe(config).epochs
    step(1)
    return Study(str(spec_path), splits.description, lad, comparison, cut, hand, twin, memo, noise,
                 hand_selectivity(hand, splits.test, digits))


def hand_selectivity(hand: Network, test_set, digits=None):
    """Each hidden unit of the hand net (edges, parts): its firing rate per digit on the test digits
    of the labels scored, beside the digits its spec names (``handnet.inside.selectivity``)."""
    from handnet.inside.selectivity import selectivity

    labels = readout(hand, digits).digits
    return selectivity(hand, test_set, [layer.name for layer in hand.layers[:-1]], digits=labels)


def study_steps(seeds: int) -> int:
    """How many progress steps ``run_study`` reports."""
    return ladder_steps(seeds) + 1 + SURGERY_REFITS + 2
