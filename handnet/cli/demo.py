"""``handnet demo``: the main job on the bundled data, end to end.

spec -> hand-designed net -> check -> evaluate; trained twin -> evaluate; figures; comparison.
"""

from pathlib import Path

import click

from .common import note

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
def demo(out, spec_path, seed, seeds):
    """Run the main job on the bundled sample: build the hand-designed 3b1b network from its spec, check
    it, train its gradient-trained twin, evaluate both, draw the figures, and compare hand-designed and
    learned along the ladder from every-weight-from-the-spec to fully trained.

    Everything is written under OUT: the networks (.npz), figures/ and report/index.html.

    \b
    Example:
        handnet demo -o demo
    """
    from .. import build
    from ..atomic import save_figure
    from ..check import check_spec
    from ..data import load_splits
    from ..evaluate import evaluate
    from ..gallery import figure_set
    from ..report import build_report, report_steps
    from ..spec import load_spec
    from ..train import TrainConfig, train

    out = Path(out)
    spec_path = Path(spec_path)
    fitted_path = spec_path.with_name(f"{spec_path.stem}-fitted.toml")
    splits = load_splits()
    click.echo(f"data: {splits.description}")

    click.echo(f"\n1. the hand-designed network, every weight from {spec_path}")
    hand = build(spec_path)
    click.echo(f"   saved {hand.save(out / 'hand.npz')}")
    report = check_spec(load_spec(spec_path))
    verdict = "every unit responds as declared" if report.ok else f"{len(report.violations)} violations"
    click.echo(f"   check: {len(report.units)} units, {verdict}")

    nets = {"hand-designed (spec only)": hand}
    if fitted_path.is_file():
        click.echo(f"\n2. the same edges and parts with a readout fitted on the training digits ({fitted_path})")
        fitted = build(fitted_path)
        click.echo(f"   saved {fitted.save(out / 'hand-fitted.npz')}")
        nets["hand-designed, fitted readout"] = fitted

    config = TrainConfig(seed=seed)
    click.echo(f"\n3. the gradient-trained twin: {config.epochs} epochs of {config.optimizer}, {config.loss}, seed {seed}")
    with click.progressbar(length=config.epochs, label="   training", file=click.get_text_stream("stderr")) as bar:
        result = train(splits.train.X, splits.train.y, config, progress=lambda record: bar.update(1),
                       data=splits.train.describe())
    twin = result.network
    click.echo(f"   saved {twin.save(out / 'twin.npz')}")
    nets["gradient-trained twin"] = twin

    click.echo(f"\n4. accuracy on {splits.test.describe()}")
    for label, net in nets.items():
        click.echo(_accuracy_line(label, evaluate(net, splits.test)))

    click.echo(f"\n5. figures in {out / 'figures'}")
    for prefix, net in (("hand", hand), ("twin", twin)):
        for stem, fig in figure_set(net, splits.test.X, splits.test.y).items():
            save_figure(fig, out / "figures" / f"{prefix}-{stem}.png", dpi=80, bbox_inches="tight")
    click.echo(f"   {len(list((out / 'figures').glob('*.png')))} PNG files (weights, maximizing inputs, tuning, diagram)")

    click.echo(f"\n6. hand-designed vs learned: the ladder, the comparison and the surgery ({seeds} seeds)")
    with click.progressbar(length=report_steps(seeds), label="   measuring", file=click.get_text_stream("stderr")) as bar:
        page, results = build_report(spec_path, splits, out / "report", seeds=seeds, progress=bar.update)
    click.echo((out / "report" / "ladder.md").read_text())
    for side in ("a", "b"):
        prof = results["comparison"][side]
        likeness = ", ".join(f"{layer} {s['median']:.2f}" for layer, s in prof["edge_likeness"]["summary"].items())
        noise = prof["noise"]["noise"]
        click.echo(
            f"   {prof['name']}: edge-likeness (median) {likeness}; on uniform noise it answers with mean "
            f"confidence {noise['mean_confidence']:.2f} (digits: {prof['noise']['digits']['mean_confidence']:.2f})"
        )
    click.echo(f"   the whole report, offline: {page}")
    note("\ndone. Next: `handnet explain weight_specs/3b1b.toml`, `handnet render weights demo/twin.npz`")
