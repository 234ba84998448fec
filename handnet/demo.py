"""The main job, end to end, as ``make demo`` runs it (``handnet demo``), and the figures of the
README (``handnet figures``).

spec -> hand-designed net -> check -> evaluate; trained twin -> evaluate; figures; the study
(ladder, comparison, surgery) and its report; the playground page. Uses every package above it; only
``cli`` uses it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

SPEC = Path("weight_specs/3b1b.toml")


def _no_progress(length: int, label: str):
    class _Bar:
        def update(self, n=1, status=None):
            pass

    return contextlib.nullcontext(_Bar())


def _accuracy_line(label, evaluation) -> str:
    per_digit = " ".join(f"{d}:{100 * a:.0f}" for d, a in evaluation.per_digit.items())
    return f"  {label:<34} {evaluation.accuracy:7.1%}   per digit % {per_digit}"


def run_demo(out="demo", spec_path=SPEC, seed: int = 0, seeds: int = 3, say=print, progress=_no_progress,
             palette: str = "lesson", config=None, data=None, split: str | None = None,
             jobs: int | None = 1) -> dict:
    """Build and check the hand-designed net (and its fitted-readout sibling ``<spec>-fitted.toml``
    when it exists), train the twin, evaluate all of them, draw the figures and write the report,
    everything under ``out``. ``say(text)`` gets the running commentary; ``progress(length, label)``
    is a context manager giving a bar with ``update(n, status=None)`` (a training record as status
    while training). ``palette`` colours the weights; ``config`` is the training recipe for the twin
    and the study (default: the trainer's recipe, ``TrainConfig()``; the twin gets ``seed``).
    ``data``/``split`` choose the digits as ``handnet.data.load_splits`` does (default: the bundled
    sample); the fitted readout is then fitted on that training split too. ``jobs`` processes run
    the study's independent training runs (None: the available cores), with the same results as
    ``jobs=1``. The twin is trained once: the ladder's seed-0 twin is the same net.

    Returns the numbers: ``{"data", "files", "report", "playground", "accuracy": {label: evaluation},
    "verdict", "ladder", "comparison", "surgery"}``.
    """
    from handnet.compare.runs import trained
    from handnet.compare.study import run_study
    from handnet.compiler import check_spec, compile_spec
    from handnet.compiler.compile import compile_steps
    from handnet.data import load_splits
    from handnet.nn.evaluate import evaluate
    from handnet.nn.train import TrainConfig, train
    from handnet.spec import load_spec
    from handnet.viz.gallery import figure_steps, write_figure_set
    from handnet.viz.playground import write_playground
    from handnet.viz.report import report_steps, write_report
    from handnet.viz.style import check_palette

    check_palette(palette)
    out = Path(out)
    spec_path = Path(spec_path)
    fitted_path = spec_path.with_name(f"{spec_path.stem}-fitted.toml")
    splits = load_splits(data, split)
    say(f"data: {splits.description}")

    say(f"\n1. the hand-designed network, every weight from {spec_path}")
    spec = load_spec(spec_path)
    hand = compile_spec(spec)
    say(f"   saved {hand.save(out / 'hand.npz')}")
    report = check_spec(spec)
    from handnet.compiler.check import plural

    verdict = "every unit responds as declared" if report.ok else plural(len(report.violations), "violation")
    if report.known:
        verdict += f", apart from {plural(len(report.known), 'known exception')} the spec explains (handnet check {spec_path})"
    say(f"   check: {len(report.units)} units, {verdict}")

    nets = {"hand-designed (spec only)": hand}
    if fitted_path.is_file():
        say(f"\n2. the same edges and parts with a readout fitted on the training digits ({fitted_path})")
        fitted_spec = load_spec(fitted_path)
        with progress(compile_steps(fitted_spec), "   fitting") as bar:
            fitted = compile_spec(fitted_spec, data=None if data is None else splits.train, progress=bar.update)
        say(f"   saved {fitted.save(out / 'hand-fitted.npz')}")
        nets["hand-designed, fitted readout"] = fitted

    recipe = config  # the study trains with it too (None: the trainer's own recipe)
    config = TrainConfig(seed=seed) if recipe is None else recipe.replace(seed=seed)
    say(f"\n3. the gradient-trained twin: {config.epochs} epochs of {config.optimizer}, {config.loss}, seed {config.seed}")
    X, y, described = splits.train.X, splits.train.y, splits.train.describe()
    with progress(config.epochs, "   training") as bar:
        runs = []

        def train_twin():
            runs.append(config)
            return train(X, y, config, progress=lambda record: bar.update(1, record), data=described).network

        # a demo run before on the same digits with the same recipe and trainer trained this very network
        twin = trained(train_twin, "twin", X, y, config, data=described)
        if not runs:
            bar.update(config.epochs, (twin.metadata.get("history") or [None])[-1])
    say(f"   saved {twin.save(out / 'twin.npz')}")
    nets["gradient-trained twin"] = twin

    say(f"\n4. accuracy on {splits.test.describe()} (guessing gets 10%)")
    evaluations = {label: evaluate(net, splits.test) for label, net in nets.items()}
    for label, evaluation in evaluations.items():
        say(_accuracy_line(label, evaluation))

    say(f"\n5. figures in {out / 'figures'}")
    written = []
    sets = [("hand", hand), ("twin", twin)]
    steps = sum(figure_steps(net, saved=True) for _, net in sets)
    with progress(steps, "   drawing") as bar:
        if jobs is None or jobs > 1:  # the two nets' figures side by side, one process each
            from handnet.compare.parallel import run_all
            from handnet.inside.maximize.search import remember

            done = run_all(_figure_set_task, sets, (splits.test.X, splits.test.y, out / "figures", palette), jobs,
                           progress=lambda k: None)
            for (prefix, net), (paths, maximizers) in zip(sets, done):
                remember(net, maximizers)  # the report and the playground ask for the same maximizers
                written += paths
                bar.update(figure_steps(net, saved=True))
        else:
            for prefix, net in sets:
                written += write_figure_set(net, splits.test.X, splits.test.y, out / "figures", prefix,
                                            palette=palette, progress=bar.update)
    say(f"   {len(written)} PNG files (weights, maximizing inputs, tuning, diagram)")

    say(f"\n6. hand-designed vs learned: the ladder, the comparison and the surgery ({seeds} seed{'s' * (seeds != 1)})")
    with progress(report_steps(seeds), "   measuring") as bar:
        study = run_study(spec_path, splits, seeds=seeds, config=recipe, progress=bar.update, jobs=jobs, twin=twin)
        page = write_report(study, out / "report", progress=bar.update, palette=palette, jobs=jobs)
    results = study.to_dict()
    say((out / "report" / "ladder.md").read_text())
    for side in ("a", "b"):
        prof = results["comparison"][side]
        likeness = ", ".join(f"{layer} {s['little_edge_median']:.2f} (stroke fit {s['median']:.2f})"
                             for layer, s in prof["edge_likeness"]["summary"].items())
        noise = prof["noise"]["noise"]
        say(
            f"   {prof['name']}: little-edge score (median) {likeness}; on uniform noise it answers with mean "
            f"confidence {noise['mean_confidence']:.2f} (digits: {prof['noise']['digits']['mean_confidence']:.2f})"
        )
    say("   (rung 0 is the lesson's story with no data, weight_specs/lesson.toml; 5b the twin trained the lesson's way."
        " Little-edge score: ~0.8 for a short straight bar, a drawn straight stroke clears 0.5, random weights 0.03;"
        " stroke fit: 1 = exactly a drawn stroke, 0.16 for random weights; confidence: 0.1 = no idea, 1 = certain)")
    say("   verdict (computed from these numbers with stated thresholds; each claim beside its baseline):")
    for claim in results["verdict"]["claims"]:
        say(f"   - {claim['text']}")
    say(f"   the whole report, offline: {page}")

    say("\n7. the playground: draw your own digit and watch both networks light up")
    with progress(len(hand.units()) + len(twin.units()), "   maximizing") as bar:
        playground = write_playground([(spec_path, hand), (out / "twin.npz", twin)], out / "playground.html",
                                      splits.test, labels=["hand-designed", "gradient-trained twin"],
                                      progress=bar.update)
    say(f"   open {playground} in a browser (offline, one file)")
    files = sorted(str(p) for p in out.rglob("*") if p.is_file())
    return {"data": splits.description, "files": files, "report": str(page), "playground": str(playground),
            "accuracy": evaluations, **results}


def _figure_set_task(shared, task):
    """One net's figure set in a worker process (``compare.parallel.run_all``): ``shared`` is
    ``(X, y, folder, palette)``, ``task`` ``(prefix, net)``. Returns the paths written and the net's
    maximizers (the parent process keeps them: its report asks for the same ones)."""
    from handnet.inside.maximize.search import maximize_units
    from handnet.viz.gallery import write_figure_set

    X, y, folder, palette = shared
    prefix, net = task
    paths = write_figure_set(net, X, y, folder, prefix, palette=palette)
    return paths, maximize_units(net)  # from this process's cache: no search again


def regenerate_figures(out, spec_path=SPEC, trained_path=None, dpi: int | None = None, note=print,
                       progress=_no_progress, palette: str = "lesson"):
    """Rebuild the committed ``figures/`` folder: ``hand-*`` from the spec, ``trained-*`` from its
    trained twin (loaded from ``trained_path``, or trained on the bundled sample with seed 0).

    A missing spec is skipped and said so through ``note``; ``progress`` is as in ``run_demo``.
    Returns ``(written paths, notes)``.
    """
    from handnet.compiler import compile_spec
    from handnet.data import load_splits
    from handnet.nn.network import Network
    from handnet.nn.train import TrainConfig, train
    from handnet.spec import load_spec
    from handnet.viz.gallery import figure_steps, write_figure_set
    from handnet.viz.style import DPI, check_palette

    check_palette(palette)
    notes = []

    def tell(message):
        notes.append(message)
        note(message)

    nets = []
    spec = Path(spec_path)
    if spec.is_file():
        nets.append(("hand", compile_spec(load_spec(spec))))
    else:
        tell(f"{spec}: not found, so no hand-designed net")
    splits = load_splits()
    if trained_path:
        nets.append(("trained", Network.load(trained_path)))
    else:
        config = TrainConfig(seed=0)
        with progress(config.epochs, f"training the twin on {splits.train.describe()} (seed 0)") as bar:
            twin = train(splits.train.X, splits.train.y, config, progress=lambda record: bar.update(1, record))
        nets.append(("trained", twin.network))
    written = []
    with progress(sum(figure_steps(net, saved=True) for _, net in nets),
                  "drawing " + " and ".join(f"{prefix}-*" for prefix, _ in nets)) as bar:
        for prefix, net in nets:
            written += write_figure_set(net, splits.test.X, splits.test.y, out, prefix, dpi or DPI, palette,
                                        progress=bar.update)
    return written, notes
