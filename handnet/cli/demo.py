"""``handnet demo``: the main job on the bundled data, end to end.

spec -> hand-designed net -> check -> evaluate; trained twin -> evaluate; figures; comparison.
"""

from pathlib import Path

import click

from .common import json_option, note, print_json, progress

SPEC = Path("weight_specs/3b1b.toml")
FITTED = Path("weight_specs/3b1b-fitted.toml")


def _accuracy_line(label, evaluation) -> str:
    per_digit = " ".join(f"{d}:{100 * a:.0f}" for d, a in evaluation.per_digit.items())
    return f"  {label:<34} {evaluation.accuracy:7.1%}   per digit % {per_digit}"


@click.command("demo")
@click.option("-o", "--out", default="demo", show_default=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--spec", "spec_path", default=str(SPEC), show_default=True, type=click.Path(dir_okay=False),
              help="The hand-designed network's spec.")
@click.option("--seed", default=0, show_default=True, help="Seed for training the twin.")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Training runs per trained rung of the ladder.")
@json_option
def demo(out, spec_path, seed, seeds, as_json):
    """Run the main job on the bundled sample: build the hand-designed 3b1b network from its spec, check
    it, train its gradient-trained twin, evaluate both, draw the figures, and compare hand-designed and
    learned along the ladder from every-weight-from-the-spec to fully trained.

    Everything is written under OUT: the networks (.npz), figures/ and report/index.html. With --json
    the running commentary goes to stderr and stdout gets one JSON object: the files written, the
    accuracy of each network and the report's numbers.

    \b
    Example:
        handnet demo -o demo
    """
    from .. import build
    from ..check import check_spec
    from ..data import load_splits
    from ..evaluate import evaluate
    from ..gallery import write_figure_set
    from ..report import build_report, report_steps
    from ..spec import load_spec
    from ..train import TrainConfig, train

    say = note if as_json else click.echo
    out = Path(out)
    spec_path = Path(spec_path)
    fitted_path = spec_path.with_name(f"{spec_path.stem}-fitted.toml")
    splits = load_splits()
    say(f"data: {splits.description}")

    say(f"\n1. the hand-designed network, every weight from {spec_path}")
    hand = build(spec_path)
    say(f"   saved {hand.save(out / 'hand.npz')}")
    report = check_spec(load_spec(spec_path))
    verdict = "every unit responds as declared" if report.ok else f"{len(report.violations)} violations"
    say(f"   check: {len(report.units)} units, {verdict}")

    nets = {"hand-designed (spec only)": hand}
    if fitted_path.is_file():
        say(f"\n2. the same edges and parts with a readout fitted on the training digits ({fitted_path})")
        fitted = build(fitted_path)
        say(f"   saved {fitted.save(out / 'hand-fitted.npz')}")
        nets["hand-designed, fitted readout"] = fitted

    config = TrainConfig(seed=seed)
    say(f"\n3. the gradient-trained twin: {config.epochs} epochs of {config.optimizer}, {config.loss}, seed {seed}")
    with progress(config.epochs, "   training") as bar:
        result = train(splits.train.X, splits.train.y, config, progress=lambda record: bar.update(1),
                       data=splits.train.describe())
    twin = result.network
    say(f"   saved {twin.save(out / 'twin.npz')}")
    nets["gradient-trained twin"] = twin

    say(f"\n4. accuracy on {splits.test.describe()}")
    evaluations = {label: evaluate(net, splits.test) for label, net in nets.items()}
    for label, evaluation in evaluations.items():
        say(_accuracy_line(label, evaluation))

    say(f"\n5. figures in {out / 'figures'}")
    for prefix, net in (("hand", hand), ("twin", twin)):
        write_figure_set(net, splits.test.X, splits.test.y, out / "figures", prefix)
    say(f"   {len(list((out / 'figures').glob('*.png')))} PNG files (weights, maximizing inputs, tuning, diagram)")

    say(f"\n6. hand-designed vs learned: the ladder, the comparison and the surgery ({seeds} seeds)")
    with progress(report_steps(seeds), "   measuring") as bar:
        page, results = build_report(spec_path, splits, out / "report", seeds=seeds, progress=bar.update)
    say((out / "report" / "ladder.md").read_text())
    for side in ("a", "b"):
        prof = results["comparison"][side]
        likeness = ", ".join(f"{layer} {s['median']:.2f}" for layer, s in prof["edge_likeness"]["summary"].items())
        noise = prof["noise"]["noise"]
        say(
            f"   {prof['name']}: edge-likeness (median) {likeness}; on uniform noise it answers with mean "
            f"confidence {noise['mean_confidence']:.2f} (digits: {prof['noise']['digits']['mean_confidence']:.2f})"
        )
    say(f"   the whole report, offline: {page}")
    if as_json:
        files = sorted(str(p) for p in out.rglob("*") if p.is_file())
        print_json({"data": splits.description, "files": files, "report": str(page),
                    "accuracy": {label: e.to_dict() for label, e in evaluations.items()}, **results})
    note("\ndone. Next: `handnet explain weight_specs/3b1b.toml`, `handnet render weights demo/twin.npz`")
