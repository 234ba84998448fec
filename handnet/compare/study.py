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
from handnet.compare.ladder import Ladder, ladder, ladder_steps
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

    def to_dict(self) -> dict:
        comparison = self.comparison.to_dict()
        return {"verdict": comparison["verdict"], "ladder": self.ladder.to_dict(), "comparison": comparison,
                "surgery": self.surgery.to_dict(), "memorization": self.memorization,
                "noise": self.noise}


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


def _train_task(data, task) -> Network:
    """One training run of ``parallel.run_all``: ``data`` is ``(X, y, shuffled y)``, ``task``
    ``(config, twin, shuffled)``."""
    from handnet.nn.train import train

    X, y, shuffled_y = data
    config, twin, shuffled = task
    return train(X, shuffled_y if shuffled else y, config, twin_of=twin).network


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
    comparison = compare(hand, twin, Xt, yt, names=("hand", "trained"), data=splits.test.describe(), digits=digits)
    twins = lad.rung("trained").networks
    if len(twins) > 1 and comparison.verdict is not None:  # the baseline for hand vs trained: trained vs trained
        from handnet.compare.verdict import twin_claims

        keep, _ = scope(readout(twin, digits), yt)
        comparison.verdict.claims += twin_claims(hand, twin, twins[1], np.asarray(Xt)[keep])
    if comparison.verdict is not None:  # what edge-likeness gives weights that are no edge detectors
        from handnet.compare.verdict import baseline_claim, edge_baselines

        def first_median(prof):
            return float(np.median([f.correlation for f in prof.edges if not f.linear_approximation]))

        comparison.verdict.claims.append(baseline_claim(edge_baselines(splits.train.X, splits.train.y, hand.sizes[1]),
                                                        first_median(comparison.a), first_median(comparison.b)))
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
    from handnet.nn.train import LESSON_RECIPE, train

    lesson_config = dataclasses.replace(LESSON_RECIPE, seed=0, sizes=tuple(twin.sizes),
                                        epochs=min(LESSON_RECIPE.epochs, (config or TrainConfig()).epochs))
    lesson_twin = train(train_in.X, train_in.y, lesson_config, twin_of=twin).network
    noise = noise_panel({"hand": hand, "twin": twin, "twin, lesson's recipe": lesson_twin}, test_in.X,
                        read_for=lambda net: readout(net, digits))
    noise["lesson_recipe_epochs"] = lesson_config.epochs
    step(1)
    return Study(str(spec_path), splits.description, lad, comparison, cut, hand, twin, memo, noise)


def study_steps(seeds: int) -> int:
    """How many progress steps ``run_study`` reports."""
    return ladder_steps(seeds) + 1 + SURGERY_REFITS + 2
