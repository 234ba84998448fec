"""The ladder: one spec, five networks, from every weight set by hand to every weight learned,
beside two references: the lesson's story with no data at all, and the twin trained the lesson's way.

On one test split, for the same spec and shape:

0. ``lesson``: the reference, always ``weight_specs/lesson.toml`` whatever spec is given (its
   edges, parts and digit rules were written from the lesson's story without looking at any
   digits; a user's own spec is rung 1). It is scored on the same test digits, its outputs read
   by name. Pass ``reference=None`` to leave it out, or another spec path to use that instead;
1. ``spec``: every weight from the spec text alone (any ``threshold = { quantile = q }`` ignored,
   so the spec's own fraction/bias thresholds hold);
2. ``calibrated``: thresholds calibrated on the training data. A spec that names quantiles
   (``threshold = { quantile = q }``) is compiled as written, with data. Otherwise every edge and
   every part gets a quantile (its bias set so that it stays below 0.5 on that fraction of the
   training digits), one for the edges and one for the parts, chosen from
   ``CALIBRATION_QUANTILES`` by training accuracy; digit units keep their thresholds;
3. ``readout``: rung 1 (the spec net) with its output layer refit on the training data (the layers
   below frozen, exactly as the spec set them);
4. ``fine-tuned``: every weight trained, starting from rung 1's hand weights (the spec's own, not
   the calibrated ones);
5. ``trained``: every weight trained from a random start (the twin);
5b. ``trained, lesson's recipe``: the same from a random start, trained with the lesson's own recipe
   (``nn.train.LESSON_RECIPE``: sigmoid outputs, quadratic cost, plain SGD, mini-batches of 10),
   at most as many epochs as the other trained rungs.

Rungs 3-5b are trained once per seed; accuracy is reported as mean, min, max and standard
deviation over seeds. Output units answer by name (``handnet.nn.labels``): a spec whose outputs are
some of the digits is trained and scored on the digits of those labels only (or of ``digits``),
and its twin gets the same output units. Each rung gets the edge-likeness of its hidden units, and rung 4 the drift of
each unit from its hand-set weights, rung 1's (cosine of the incoming weight vectors; 1 = unchanged direction).

Rungs 3 and 4 start from rung 1, not rung 2: calibration is a choice made on data that rung 1 does
not need, and starting from it would let a worse calibrated net drag the readout rung below what the
spec's own edges and parts give with a fitted readout (``3b1b-fitted.toml``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handnet.compare import edgelike
from handnet.errors import HandnetError
from handnet.nn.labels import Readout, Scope, join_labels, output_labels, outputs_only, readout, scope
from handnet.nn.network import Network
from handnet.compare.similarity import cosine_matrix

CALIBRATION_QUANTILES = (0.5, 0.65, 0.8)  # an edge or part is in a minority of digits: fire on at most half

RUNGS = (
    ("lesson", "the lesson's story, no data at all (lesson.toml)"),
    ("spec", "every weight from the spec"),
    ("calibrated", "thresholds calibrated from data"),
    ("readout", "rung 1 with its output layer fitted"),
    ("fine-tuned", "all weights trained from rung 1's hand weights"),
    ("trained", "all weights trained from random init (the twin)"),
    ("trained, lesson's recipe", "the twin trained the lesson's way: sigmoid outputs, quadratic cost, plain SGD"),
)
RUNG_NUMBERS = {"lesson": "0", "spec": "1", "calibrated": "2", "readout": "3", "fine-tuned": "4", "trained": "5",
                "trained, lesson's recipe": "5b"}
LESSON_SPEC = Path(__file__).resolve().parents[2] / "weight_specs" / "lesson.toml"  # rung 0


@dataclass
class Rung:
    """One rung: its label, a description, accuracy per seed, edge-likeness summary and networks (one per seed)."""

    label: str
    description: str
    accuracies: list
    networks: list
    edges: list  # EdgeFits of the first network
    seeds: list = field(default_factory=list)

    def to_dict(self) -> dict:
        acc = np.array(self.accuracies, dtype=float)
        summary = edgelike.summarize(self.edges)
        first = next(iter(summary.values())) if summary else {}
        return {
            "label": self.label,
            "number": RUNG_NUMBERS.get(self.label, ""),
            "description": self.description,
            "seeds": self.seeds,
            "accuracy": self.accuracies,
            "accuracy_mean": float(acc.mean()),
            "accuracy_std": float(acc.std(ddof=1)) if acc.size > 1 else 0.0,
            "accuracy_min": float(acc.min()),
            "accuracy_max": float(acc.max()),
            "edge_likeness": summary,
            "edge_likeness_median": first.get("median", float("nan")),  # stroke fit, first hidden layer
            "little_edge_median": first.get("little_edge_median", float("nan")),  # little-edge score, first hidden layer
        }


@dataclass
class Ladder:
    spec: str
    data: str
    rungs: list
    drift: list  # [{"unit", "cosine_mean", "cosine_per_seed"}] for the fine-tuned rung
    calibration: dict = field(default_factory=dict)  # how rung 2's thresholds were chosen (see spec_rungs)
    scope: Scope | None = None  # which labels were scored, on how many test digits

    def rung(self, label: str) -> Rung:
        return next(r for r in self.rungs if r.label == label)

    def has(self, label: str) -> bool:
        return any(r.label == label for r in self.rungs)

    def to_dict(self) -> dict:
        return {"spec": self.spec, "data": self.data, "calibration": self.calibration,
                "labels": list(self.scope.labels) if self.scope is not None else list(range(10)),
                "scope": self.scope.to_dict() if self.scope is not None else None,
                "rungs": [r.to_dict() for r in self.rungs], "drift": self.drift}


def unit_drift(before: Network, after: Network) -> list[dict]:
    """Cosine between each hidden unit's incoming weights before and after training (same units, same order)."""
    out = []
    for li, (a, b) in enumerate(zip(before.layers[:-1], after.layers[:-1])):
        cos = np.diag(cosine_matrix(a.weights, b.weights))
        out.extend({"unit": f"{a.name}:{u}", "cosine": float(c)} for u, c in zip(a.units, cos))
    return out


def _score(net: Network, X, y, read: Readout | None) -> float:
    """Accuracy with the outputs read by ``read`` (default: the net's own labels, by name)."""
    if read is None:
        return net.accuracy(X, y)
    return float(np.mean(read.predict(net.output(X)) == np.asarray(y)))


def spec_rungs(spec_path, train_set, quantiles=CALIBRATION_QUANTILES, read: Readout | None = None):
    """Rungs 1 and 2: the spec compiled from its text alone, and with thresholds calibrated on ``train_set``.

    Returns ``(spec net, calibrated net, calibration)``, where ``calibration`` says how rung 2 was
    made: ``{"source": "spec"}`` or ``{"source": "search", "edges": q, "parts": q, "train_accuracy": a}``.
    A spec whose readout is fitted (``[digits] fit = ...``) needs data even for rung 1: its edges
    and parts come from the text, its readout is fitted. ``read`` says how training accuracy is
    scored (default: every label the outputs answer).
    """
    from handnet.compiler.compile import compile_spec
    from handnet.spec import load_spec

    spec = load_spec(spec_path)

    def quantiled(units, q):
        return tuple(dataclasses.replace(u, quantile=q) for u in units)

    pure = dataclasses.replace(spec, edges=quantiled(spec.edges, None), parts=quantiled(spec.parts, None),
                               digits=quantiled(spec.digits, None))
    spec_net = compile_spec(pure, train_set if pure.needs_data else None)
    if any(u.quantile is not None for u in spec.edges + spec.parts + spec.digits):
        return spec_net, compile_spec(spec, train_set), {"source": "spec"}
    best = None
    for q_edges in quantiles:
        for q_parts in quantiles:
            net = compile_spec(dataclasses.replace(spec, edges=quantiled(spec.edges, q_edges),
                                                   parts=quantiled(spec.parts, q_parts)), train_set)
            accuracy = _score(net, train_set.X, train_set.y, read)
            if best is None or accuracy > best[0]:
                best = (accuracy, net, {"source": "search", "edges": q_edges, "parts": q_parts,
                                        "train_accuracy": accuracy})
    return spec_net, best[1], best[2]


def _train(X, y, config, seed, init=None, freeze=(), twin_of=None, data=None):
    from handnet.compare.runs import trained
    from handnet.nn.train import train

    config = dataclasses.replace(config, seed=seed)
    return trained(lambda: train(X, y, config, init=init, freeze=freeze, twin_of=twin_of, data=data).network,
                   "ladder", X, y, config, init=init, freeze=freeze, twin_of=twin_of, data=data)


def _keep_as_run(net, X, y, config, seed, options) -> None:
    """Keep ``net`` (a twin that ``trained_like`` found to be this run) under the name ``_train`` gives
    the run, so a later study on the same digits (the report after the demo) finds it instead of
    training it again; an entry already kept is left as it is."""
    from handnet.compare.runs import trained

    config = dataclasses.replace(config, seed=seed)
    trained(lambda: net, "ladder", X, y, config, init=options.get("init"), freeze=options.get("freeze", ()),
            twin_of=options.get("twin_of"), data=options.get("data"))


def _train_task(data, task):
    """One training run of ``parallel.run_all``: ``data`` is ``(X, y)``, ``task`` ``(config, seed, options)``."""
    config, seed, options = task
    return _train(*data, config, seed, **options)


def trained_like(net, config, like: Network) -> bool:
    """Whether ``net`` is what the ladder's trained rung trains for seed 0 with ``config`` (the
    same recipe and seed, a fresh start, ``like``'s output units), as its provenance says;
    the caller vouches that it was trained on the same digits."""
    from handnet.nn.train import TrainConfig

    prov = (net.metadata or {}).get("provenance") or {}
    try:
        recipe = TrainConfig.from_dict(prov["config"])
    except (KeyError, TypeError, HandnetError):
        return False
    return (prov.get("kind") == "trained" and prov.get("init") is None and not prov.get("freeze")
            and not prov.get("interrupted") and recipe == dataclasses.replace(config, seed=0)
            and tuple(net.layers[-1].units) == tuple(like.layers[-1].units)
            and output_labels(net) == output_labels(like))  # the same units answer the same labels


def scored_digits(spec_path, digits=None) -> Readout:
    """How the spec's output units are read (by name; ``digits`` keeps only those labels): the
    labels every rung is trained and scored on. A spec error, or outputs that answer no digit,
    fail here in one line, before any training."""
    from handnet.spec import load_spec

    spec = load_spec(spec_path)
    try:
        return readout(outputs_only(spec.digit_names, spec.labels, spec.layer_names[2]), digits)
    except HandnetError as e:
        raise HandnetError(f"{spec_path}: {e}") from None


def lesson_rung_net(reference):
    """Rung 0: the reference spec (default ``LESSON_SPEC``) compiled from its text alone, or None
    when ``reference`` is None (or is the default and handnet was installed without the project's
    ``weight_specs/``). Another missing reference file is a one-line error naming it."""
    if reference is None:
        return None
    from handnet.compiler.compile import compile_spec
    from handnet.spec import load_spec

    path = Path(reference)
    if not path.is_file() and path == LESSON_SPEC:
        return None  # handnet installed without the project's weight_specs/: no rung 0, the other rungs as ever
    if not path.is_file():
        raise HandnetError(f"{path}: the ladder's rung 0 reference spec is missing (pass reference=None to leave it out)")
    spec = load_spec(path)
    if spec.needs_data:
        raise HandnetError(f"{path}: rung 0 must be built without data, but this spec fits or calibrates something")
    return compile_spec(spec, None)


def ladder(spec_path, train_set, test_set, seeds: int = 3, config=None, progress=None, digits=None,
           reference=LESSON_SPEC, jobs: int | None = 1, twin: Network | None = None) -> Ladder:
    """Run the rungs for ``spec_path`` and score them on ``test_set`` (a ``data.Dataset``).

    ``train_set`` (a ``data.Dataset``) calibrates rung 2 and trains rungs 3-5 (3 and 4 from rung 1); ``seeds`` training
    runs per trained rung, seeds 0..seeds-1. ``config`` is a ``train.TrainConfig`` (default: the
    trainer's recipe, with the spec's layer sizes). ``progress(1)`` is called after each network.
    ``reference``: rung 0's spec (default ``weight_specs/lesson.toml``; None leaves rung 0 out).
    Only the digits whose label the spec's outputs answer (or ``digits``) are used, in training and
    testing alike. The training runs are independent and run in ``jobs`` processes (None: the
    available cores; ``compare.parallel``), with the same results as one by one (``jobs=1``).
    ``twin``: a network already trained on ``train_set`` as rung 5's seed 0 would be (the demo's
    twin); used instead of training it again when its provenance says so (``trained_like``).
    """
    from handnet.nn.train import TrainConfig

    step = progress or (lambda k: None)
    read = scored_digits(spec_path, digits)
    keep_train, train_scope = scope(read, train_set.y)
    keep_test, test_scope = scope(read, test_set.y)
    if not train_scope.n or not test_scope.n:
        raise HandnetError(f"no training or test digit has a label the spec answers ({join_labels(read.labels)})")
    if not keep_train.all():
        train_set = train_set.subset(np.flatnonzero(keep_train))
    if not keep_test.all():
        test_set = test_set.subset(np.flatnonzero(keep_test))
    X, y = train_set.X, train_set.y
    Xt, yt = test_set.X, test_set.y
    lesson_net = lesson_rung_net(reference)
    spec_net, calibrated, calibration = spec_rungs(spec_path, train_set, read=read)
    step(2)
    config = dataclasses.replace(config or TrainConfig(), sizes=tuple(spec_net.sizes))
    frozen_below_output = [layer.name for layer in spec_net.layers[:-1]]
    seed_list = list(range(seeds))
    lesson_config = lesson_recipe(config)
    configs = {"readout": config, "fine-tuned": config, "trained": config, "trained, lesson's recipe": lesson_config}
    options = {"readout": {"init": spec_net, "freeze": frozen_below_output}, "fine-tuned": {"init": spec_net},
               "trained": {"twin_of": spec_net}, "trained, lesson's recipe": {"twin_of": spec_net}}
    for chosen in options.values():  # each trained net says which digits trained it, as the demo's twin does
        chosen["data"] = train_set.describe()
    known = {}
    if twin is not None and keep_train.all() and trained_like(twin, config, spec_net):
        known[("trained", 0)] = twin
        _keep_as_run(twin, X, y, configs["trained"], 0, options["trained"])
        step(1)
    runs = [(label, seed) for seed in seed_list for label in options if (label, seed) not in known]
    from handnet.compare.parallel import run_all

    done = run_all(_train_task, [(configs[label], seed, options[label]) for label, seed in runs], (X, y), jobs, step)
    known.update(zip(runs, done))
    trained_nets = {label: [known[(label, seed)] for seed in seed_list] for label in options}
    nets = {"spec": [spec_net], "calibrated": [calibrated], **trained_nets}
    if lesson_net is not None:
        nets["lesson"] = [lesson_net]
    rungs = []
    for label, description in RUNGS:
        if label not in nets:
            continue
        networks = nets[label]
        # rung 0 is another net: its outputs are read by its own names, on the labels the spec answers
        rung_read = readout(networks[0], read.labels) if label == "lesson" else read
        if label == "lesson" and reference is not None and Path(reference).resolve() != LESSON_SPEC:
            description = f"the reference spec, no data at all ({Path(reference).name})"
        if label == "lesson" and Path(spec_path).resolve() == Path(reference).resolve():
            description += "; the same spec as rung 1"
        rungs.append(
            Rung(
                label=label,
                description=description,
                accuracies=[_score(net, Xt, yt, rung_read) for net in networks],
                networks=networks,
                edges=edgelike.edge_likeness(networks[0]),
                seeds=seed_list if label in trained_nets else [],
            )
        )
    per_seed = [unit_drift(spec_net, net) for net in trained_nets["fine-tuned"]]
    drift = [
        {
            "unit": entries[0]["unit"],
            "cosine_mean": float(np.mean([e["cosine"] for e in entries])),
            "cosine_per_seed": [e["cosine"] for e in entries],
        }
        for entries in zip(*per_seed)
    ]
    return Ladder(str(spec_path), f"train: {train_set.describe()}; test: {test_set.describe()}", rungs, drift, calibration,
                  test_scope)


def lesson_recipe(config=None):
    """The lesson's recipe (``nn.train.LESSON_RECIPE``) for the ladder's rung 5b: at most as many
    epochs as ``config`` (the other trained rungs'), so a quick ladder stays quick."""
    from handnet.nn.train import LESSON_RECIPE, TrainConfig

    config = config or TrainConfig()
    return dataclasses.replace(LESSON_RECIPE, sizes=tuple(config.sizes), epochs=min(LESSON_RECIPE.epochs, config.epochs))


def ladder_steps(seeds: int) -> int:
    return 2 + 4 * seeds


# ---- the ladder as text ---------------------------------------------------------------------------
def _pct(x) -> str:
    return "n/a" if x is None or x != x else f"{100 * x:.1f}%"


def ladder_rows(ladder) -> list[list[str]]:
    """The ladder as table rows: rung, what it is, accuracy (mean ± sd, range), edge-likeness medians."""
    rows = []
    for rung in ladder.rungs:
        d = rung.to_dict()
        k = RUNG_NUMBERS.get(rung.label, "?")
        n = len(d["accuracy"])
        acc = _pct(d["accuracy_mean"]) + (
            f" ± {100 * d['accuracy_std']:.1f} ({_pct(d['accuracy_min'])}-{_pct(d['accuracy_max'])}, {n} seeds)" if n > 1 else ""
        )
        medians = [f"{v['median']:.2f}" for v in d["edge_likeness"].values()]
        width = len(edge_headers(ladder)) - 1  # a reference net with other hidden layers: pad or cut to the spec's
        medians = [f"{d['little_edge_median']:.2f}"] + (medians + ["-"] * width)[:width]
        rows.append([f"{k}. {rung.label}", rung.description, acc] + medians)
    return rows


def edge_headers(ladder) -> list[str]:
    """Column titles for the edge-likeness medians, by position (hand and trained nets name layers differently):
    the little-edge score of the first hidden layer, then the stroke fit of each hidden layer."""
    n = len((ladder.rung("spec") if ladder.has("spec") else ladder.rungs[0]).to_dict()["edge_likeness"])
    return (["little-edge score, hidden layer 1 (median)"]
            + [f"stroke fit, hidden layer {k + 1} (median)" for k in range(n)])


def calibration_note(ladder) -> str:
    """One sentence on how rung 2's thresholds were calibrated."""
    c = ladder.calibration or {}
    if c.get("source") == "search":
        return (f"Rung 2 sets every edge's bias at the {c['edges']:.0%} quantile of its input over the training digits "
                f"and every part's at the {c['parts']:.0%} quantile (chosen on training accuracy).")
    if c.get("source") == "spec":
        return "Rung 2 calibrates the thresholds the spec marks with a quantile."
    return ""


def ladder_markdown(ladder) -> str:
    """The ladder as a Markdown table (for the README), with the data it used."""
    header = ["rung", "weights", "test accuracy"] + edge_headers(ladder)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in ladder_rows(ladder)]
    scored = f" Test digits {ladder.scope.sentence()}." if ladder.scope is not None else ""
    return "\n".join(lines) + f"\n\nData: {ladder.data}.{scored} {calibration_note(ladder)}"
