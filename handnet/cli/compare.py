"""``handnet compare``, ``surgery``, ``ladder``, ``import`` and ``report``: hand-designed vs learned.

Each command is a few lines over the library (handnet/compare.py, surgery.py, ladder.py,
imports.py, report.py); heavy modules are imported inside the commands.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from handnet.cli.common import (HandnetGroup, check_output, data_inputs, data_options, digits_option, jobs_option, json_option,
                                load_network, note, palette_option, print_json, progress, spec_inputs)


def _pct(x) -> str:
    return "  n/a" if x is None or x != x else f"{100 * x:5.1f}%"


def _stepper(bar):
    return lambda k=1: bar.update(k)


@click.command("compare")
@click.argument("net_a", metavar="A", type=click.Path(dir_okay=False))
@click.argument("net_b", metavar="B", type=click.Path(dir_okay=False))
@data_options
@click.option("--ablation", "ablation_mode", type=click.Choice(["zero", "mean"]), default="zero", show_default=True,
              help="Silence a unit by setting its activation to 0, or to its mean over the test digits.")
@click.option("--figures", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Also write the comparison figures (PNG) into DIR.")
@click.option("--lesson-twin/--no-lesson-twin", default=True, show_default=True,
              help="Also train a net of B's shape with the lesson's recipe (sigmoid outputs, quadratic cost, plain SGD; "
                   "seed 0) and put it beside A and B in the noise test (about 3 s more CPU).")
@click.option("--second", type=click.Path(dir_okay=False), default=None, metavar="NET",
              help="A second network trained like B (another seed, same shape): CKA and unit matching are then also "
                   "read against how alike two nets trained the same way are, not only against random nets.")
@digits_option
@palette_option
@json_option
def compare(net_a, net_b, data, split, ablation_mode, figures, lesson_twin, second, digits, palette, as_json):
    """Compare two networks of the same shape on one test split. A and B are saved networks (.npz)
    or specs (.toml, compiled on the spot).

    Accuracy overall and per digit (95% Wilson intervals) and confusion matrices; units matched
    by the Hungarian assignment on activation correlation and on weight-template cosine; linear
    CKA between layers (beside random nets of the same shape); of every hidden unit, its little-edge
    score (localized and oriented) and its stroke fit (best single stroke template);
    confidence on noise and blank images; the accuracy drop when each hidden unit is silenced;
    the lesson's noise test on one scale for A, B and a net trained with the lesson's recipe
    (--no-lesson-twin leaves that net out). Output units answer by name; both nets are scored on
    the test digits of the labels both answer (or --digits). The --json keys are documented in
    docs/compare.md.

    \b
    Example:
        handnet compare demo/hand.npz demo/twin.npz --data ../shared/mnist --split dev
        handnet compare demo/hand.npz demo/twin.npz --json > comparison.json
        handnet train --seed 1 -o twin-seed1.npz && handnet compare demo/hand.npz demo/twin.npz --second twin-seed1.npz
    """
    from handnet.compare.comparison import check_digit_outputs, check_same_shape, compare as run_compare, compare_steps
    from handnet.data.mnist import load_test

    if figures:
        check_output(figures, folder=True, option="--figures")

    a, b = load_network(net_a, data), load_network(net_b, data)
    names = (Path(net_a).stem, Path(net_b).stem)
    if names[0] == names[1]:
        names = (f"A:{names[0]}", f"B:{names[1]}")
    check_same_shape(a, b, names)
    second_net = None
    if second is not None:
        second_net = load_network(second, data)
        check_same_shape(b, second_net, (names[1], f"--second {second}"))
    check_digit_outputs(a, names[0], digits)
    check_digit_outputs(b, names[1], digits)
    if lesson_twin:
        from handnet.data.mnist import load_splits

        splits = load_splits(data, split)
        test = splits.test
    else:
        test = load_test(data, split)
    with progress(compare_steps(a) + (1 if lesson_twin else 0), "comparing") as bar:
        result = run_compare(a, b, test.X, test.y, names=names, data=test.describe(),
                             ablation_mode=ablation_mode, progress=_stepper(bar), digits=digits, second=second_net)
        if lesson_twin:
            from handnet.compare.study import noise_comparison

            noise_comparison(result, splits.train, test.X, test.y)
            bar.update(1)
    if figures:
        from handnet.viz.report import comparison_figures

        for name, fig in comparison_figures(result, palette).items():
            from handnet.atomic import save_figure

            save_figure(fig, Path(figures) / f"{name}.png")
        note(f"figures written to {figures}")
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(text_summary(result))


def text_summary(result) -> str:
    """The comparison as a few readable lines."""
    from handnet.compare.edgelike import summarize

    a, b = result.a, result.b
    lines = [f"test data: {result.data}"]
    if result.scope is not None:
        lines.append(result.scope.sentence())
    lines.append("")
    w = max(len(a.name), len(b.name), 10)
    lines.append(f"{'':14}{a.name:>{w}}  {b.name:>{w}}")
    for label, fa, fb in [
        ("accuracy", a.accuracy, b.accuracy),
    ]:
        ia, ib = fa.interval, fb.interval
        lines.append(f"{label:14}{_pct(fa.accuracy):>{w}}  {_pct(fb.accuracy):>{w}}")
        lines.append(f"{'  95% CI':14}{f'{100*ia[0]:.1f}-{100*ia[1]:.1f}':>{w}}  {f'{100*ib[0]:.1f}-{100*ib[1]:.1f}':>{w}}")
    for d in (result.scope.labels if result.scope is not None else range(len(a.accuracy.per_digit))):
        lines.append(f"{'  digit ' + str(d):14}{_pct(a.accuracy.per_digit[d]):>{w}}  {_pct(b.accuracy.per_digit[d]):>{w}}")
    lines.append(f"{'agreement':14}{_pct(result.agreement):>{w}}  (same answer on the same digit)")
    lines.append("")
    lines.append("little edges (median little-edge score per hidden layer: localized and oriented; a short straight bar "
                 "~0.8, a drawn straight stroke clears 0.5, random weights 0.03; deeper layers are linear approximations)")
    sa, sb = summarize(a.edges), summarize(b.edges)
    for (la, va), (lb, vb) in zip(sa.items(), sb.items()):
        lines.append(f"  {la} {va['little_edge_median']:.2f} (>0.5: {va['little_edge_above_0.5']:.0%})   "
                     f"{lb} {vb['little_edge_median']:.2f} (>0.5: {vb['little_edge_above_0.5']:.0%})")
    lines.append("stroke fit (median best-stroke correlation per hidden layer: 1 = exactly a drawn stroke, random weights "
                 "0.16, but smooth blobs score 0.41)")
    for (la, va), (lb, vb) in zip(sa.items(), sb.items()):
        lines.append(f"  {la} {va['median']:.2f} (>0.7: {va['above_0.7']:.0%})   {lb} {vb['median']:.2f} (>0.7: {vb['above_0.7']:.0%})")
    refs = {entry["layer"]: entry for entry in (result.baselines or {}).get("layers") or []}
    lines.append("linear CKA between corresponding layers (1 = the same arrangement of the digits, 0 = unrelated), "
                 f"beside {b.name} against random nets of its shape" + (" and against a second trained seed" if
                                                                      (result.baselines or {}).get("second") else ""))
    for c in result.cka_layers:
        ref = refs.get(f"{c['layer_a']} / {c['layer_b']}")
        lines.append(f"  {c['layer_a']} / {c['layer_b']}: {c['cka']:.2f}" + (_reference_text(ref["cka"]) if ref else ""))
    lines.append("unit matching (Hungarian; mean matched score: 1 = every unit has an identical partner; hidden layers "
                 "beside the same references)")
    for crit, matchings in result.matchings.items():
        parts = []
        for m in matchings:
            ref = refs.get(f"{m.layer_a} / {m.layer_b}")
            parts.append(f"{m.layer_a}/{m.layer_b} {m.mean_score:+.2f}"
                         + (_reference_text(ref["matching"][crit], signed=True) if ref else ""))
        lines.append(f"  {'activation correlation' if crit == 'activation' else 'weight cosine':24}{', '.join(parts)}")
    lines.append("confidence (mean brightest output) on real digits / uniform noise / a blank image (0.1 = no idea)")
    for p in (a, b):
        n = p.noise
        lines.append(
            f"  {p.name}: {n['digits']['mean_confidence']:.2f} / {n['noise']['mean_confidence']:.2f} / "
            f"{n['blank']['mean_confidence']:.2f}   ({n['noise']['fraction_confident']:.0%} of noise images called a digit "
            f"with confidence >= {n['confident_threshold']})"
        )
    lines.append(f"ablation (activation set to {'0' if a.ablation['mode'] == 'zero' else 'its mean'}): units that matter "
                 "most, by the accuracy lost without them")
    for p in (a, b):
        top = sorted(p.ablation["units"], key=lambda u: -u["drop"])[:3]
        lines.append(f"  {p.name}: " + ", ".join(f"{u['unit']} -{100 * u['drop']:.1f} pts" for u in top))
    if result.noise_panel is not None:
        lines += noise_panel_lines(result.noise_panel)
    if result.verdict is not None:
        lines += ["", "verdict (each claim: its number, 95% interval and baseline; thresholds in --json under verdict)"]
        lines += [f"  - {line}" for line in result.verdict.lines()]
    return "\n".join(lines)


def _reference_text(ref: dict, signed: bool = False) -> str:
    """`` (random nets 0.12, second seed 0.71)``: one measure's baselines (``similarity_baselines``)."""
    fmt = "{:+.2f}" if signed else "{:.2f}"
    text = f" (random nets {fmt.format(sum(ref['random_b']) / len(ref['random_b']))}"
    if ref.get("second") is not None:
        text += f", second seed {fmt.format(ref['second'])}"
    return text + ")"


NOISE_KINDS = (("digits", "real digits"), ("noise", "uniform noise"), ("ink_noise", "noise at the digits' ink"),
               ("blobs", "blurred blobs"), ("maximized", "digit-maximizing inputs"))


def noise_panel_lines(panel: dict) -> list[str]:
    """The lesson's noise test on one scale (``compare.study.noise_panel``) as text."""
    lines = ["", f"the noise test on one scale: share called a digit at >= {panel['confident']} by the raw top output / by "
             "its share of all outputs (a softmax's scale), and the mean raw and normalized top output (0.1 = no idea)"]
    width = max(len(n) for n in panel["networks"]) + 2
    lines.append(f"  {'':{width}}" + "".join(f" {what:>27}" for _, what in NOISE_KINDS))
    for name, kinds in panel["networks"].items():
        cells = []
        for kind, _ in NOISE_KINDS:
            st = kinds.get(kind)
            cells.append("-" if st is None else f"{_pct(st['fraction_confident']).strip()} / "
                         f"{_pct(st['fraction_confident_normalized']).strip()} ({st['mean_confidence']:.2f}/"
                         f"{st['mean_normalized']:.2f})")
        lines.append(f"  {name:{width}}" + "".join(f" {c:>27}" for c in cells))
    lines.append(f"  (lesson's recipe: sigmoid outputs, quadratic cost, plain SGD, {panel.get('lesson_recipe_epochs', '?')} "
                 f"epochs, seed {panel['seed']}; {panel['networks'][next(iter(panel['networks']))]['noise']['n']:,} "
                 "images of each kind of noise, 10 maximizing inputs)")
    return lines


# ---- import ----------------------------------------------------------------------------------------
@click.group("import", cls=HandnetGroup)
def import_group():
    """Turn networks trained elsewhere into handnet .npz files, to compare their features.

    \b
    Example:
        handnet import torch model.pt -o torch.npz
    """


@import_group.command("torch")
@click.argument("file", metavar="FILE.pt", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Network file to write (.npz).")
@click.option("--hidden", "hidden_activation", type=click.Choice(["sigmoid", "relu"]), default="sigmoid",
              show_default=True, help="Hidden activation, for a bare state_dict (which does not record it).")
@click.option("--output-activation", type=click.Choice(["softmax", "sigmoid"]), default="softmax", show_default=True,
              help="Output activation for a bare state_dict (softmax for logits).")
@json_option
def import_torch(file, output, hidden_activation, output_activation, as_json):
    """Import a PyTorch nn.Sequential of Linear + Sigmoid/ReLU layers.

    Accepted: a state_dict (torch.save(model.state_dict(), FILE)); a dict {"state_dict": ...,
    "activations": ["sigmoid", "sigmoid", "softmax"]}; a TorchScript module
    (torch.jit.script(model).save(FILE)). Read with torch.load(weights_only=True): a whole pickled
    module is refused. Needs PyTorch installed.

    \b
    Example:
        handnet import torch model.pt -o torch.npz
        handnet compare demo/hand.npz torch.npz
    """
    from handnet.nn.convert import load_torch

    check_output(output, [file])
    net = load_torch(file, hidden_activation, output_activation)
    net.save(output)
    summary = {"input": file, "output": output, "sizes": net.sizes,
               "activations": [layer.activation for layer in net.layers],
               "format": net.metadata["provenance"]["format"]}
    if as_json:
        print_json(summary)
        return
    click.echo(f"{output}: {'-'.join(map(str, net.sizes))} network from {file} ({summary['format']}; "
               f"activations {', '.join(summary['activations'])})")


def _config(epochs):
    """The trainer's default recipe, with ``--epochs`` if given."""
    from handnet.nn.train import TrainConfig

    return TrainConfig() if epochs is None else TrainConfig().replace(epochs=epochs)


epochs_option = click.option("--epochs", type=click.IntRange(min=1), default=None,
                             help="Training epochs for every fit (default: the trainer's recipe).")


# ---- surgery ---------------------------------------------------------------------------------------
@click.command("surgery")
@click.argument("hand", metavar="HAND.npz", type=click.Path(dir_okay=False))
@click.argument("trained", metavar="TRAINED.npz", type=click.Path(dir_okay=False))
@click.option("--layer", default="hidden1", show_default=True, metavar="NAME",
              help="The hand net's layer to swap in (name or alias, e.g. edges or hidden1).")
@click.option("--alone", is_flag=True,
              help="Swap only that layer even when the trained layers below differ from the hand layers it was built on.")
@click.option("--unit", "units", multiple=True, metavar="REF",
              help="Substitute only this trained unit (e.g. hidden2:3); repeat for more (default: every unit of the layer).")
@data_options
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Seed for the refits and the random control layer.")
@epochs_option
@digits_option
@jobs_option
@json_option
def surgery(hand, trained, layer, alone, units, data, split, seed, epochs, digits, jobs, as_json):
    """Put a hand-designed layer into a trained network, refit the layers above, and report the accuracy kept;
    then replace each trained unit of that layer by its matched hand unit, rescaled, with nothing retrained.

    Next to the swap: the trained layer under the same refit (the ceiling), a random layer (what any
    features give) and the layer's units removed (held at their mean: the floor). A hand layer reads
    the hand layer below it, so when the trained net's layers below differ, the hand layer goes in
    together with the hand layers under it (say --alone to swap it by itself). Each unit substitution
    reports how much of the loss that ablating the unit costs it wins back (1 = the hand unit does the
    trained unit's job).

    \b
    Example:
        handnet surgery demo/hand.npz demo/twin.npz --layer edges
        handnet surgery demo/hand.npz demo/twin.npz --layer parts --unit hidden2:3
        handnet surgery demo/hand.npz demo/twin.npz --layer edges --data ../shared/mnist --split dev --json
    """
    from handnet.data.mnist import load_splits
    from handnet.compare.surgery import MEANINGS, SURGERY_REFITS, check_surgery, surgery as run_surgery

    hand_net, trained_net = load_network(hand, data), load_network(trained, data)
    check_surgery(hand_net, trained_net, layer)
    for ref in units:
        trained_net.unit(ref)  # a typo fails before any training
    splits = load_splits(data, split)
    config = _config(epochs)
    with progress(SURGERY_REFITS, f"refitting the layers above {layer}, 4 times") as bar:
        result = run_surgery(hand_net, trained_net, splits.train.X, splits.train.y, splits.test.X, splits.test.y,
                             layer=layer, config=config, seed=seed, data=splits.description, progress=_stepper(bar),
                             alone=alone, digits=digits, units=list(units) or None, jobs=jobs)
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(f"surgery on layer {result.layer}; {result.data}")
    if result.scope is not None:
        click.echo(result.scope.sentence())
    if result.note:
        click.echo(f"note: {result.note}")
    for v in result.variants:
        click.echo(f"  {v['label']:22}{_pct(v['accuracy'])}  ({_pct(v['kept']).strip():>6} of trained)  "
                   f"{MEANINGS.get(v['label'], '')}")
    click.echo(textwrap.fill(
        "Guessing gets 10%. If 'hand, refit above' is near 'trained, refit above', the hand layer carries what the "
        "network needs; if it is no better than 'random, refit above', it adds nothing any features would not.",
        100, initial_indent="  ", subsequent_indent="  "))
    click.echo("unit substitution, nothing retrained (loss: cross-entropy on the test digits; 'recovers' = the share "
               "of the loss lost by holding the unit at its mean that the hand unit wins back):")
    for u in result.units:
        click.echo("  " + u.format_text())


# ---- ladder ----------------------------------------------------------------------------------------
@click.command("ladder")
@click.argument("spec", metavar="SPEC", type=click.Path(dir_okay=False))
@data_options
@click.option("--seeds", type=click.IntRange(1, 100), default=3, show_default=True, help="Training runs per trained rung.")
@epochs_option
@click.option("--figure", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Also write the ladder figure (PNG or SVG by suffix).")
@digits_option
@jobs_option
@json_option
def ladder(spec, data, split, seeds, epochs, figure, digits, jobs, as_json):
    """From hand-designed to trained, on one test split: five networks from the same spec, and two references.

    (0) the lesson's story with no data at all (always weight_specs/lesson.toml, whatever SPEC is:
    the reference your spec is read against); (1) every weight from the spec; (2) thresholds
    calibrated from data; (3) rung 1 with its output layer fitted; (4) fine-tuned from rung 1's hand weights; (5) trained from random init (the twin); (5b) the
    same trained with the lesson's own recipe (sigmoid outputs, quadratic cost, plain SGD). Accuracy (mean
    and spread over seeds), the little-edge score and stroke fit of hidden units, and for (4) each unit's drift from its
    hand-set weights. A spec whose outputs are some of the digits is trained and scored on the
    digits of those labels (or --digits), and its twin answers the same labels.

    \b
    Example:
        handnet ladder weight_specs/3b1b.toml --seeds 3
        handnet ladder weight_specs/3b1b.toml --data ../shared/mnist --split dev --figure ladder.png
    """
    from handnet.data.mnist import load_splits
    from handnet.compare.ladder import ladder as run_ladder, ladder_steps
    from handnet.compare.ladder import calibration_note, ladder_rows
    from handnet.compare.ladder import scored_digits

    if figure:
        check_output(figure, spec_inputs(spec) + data_inputs(data), figure=True, option="--figure")
    scored_digits(spec, digits)  # a bad spec, or outputs that answer no digit, fail here in one line
    splits = load_splits(data, split)
    config = _config(epochs)
    with progress(ladder_steps(seeds), "ladder") as bar:
        result = run_ladder(spec, splits.train, splits.test, seeds=seeds, config=config, progress=_stepper(bar),
                            digits=digits, jobs=jobs)
    if figure:
        from handnet.atomic import save_figure
        from handnet.viz.compare import plot_ladder

        save_figure(plot_ladder([r.to_dict() for r in result.rungs]), figure)
        note(f"figure written to {figure}")
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(f"{spec}; {result.data}")
    if result.scope is not None:
        click.echo(f"test digits {result.scope.sentence()}")
    for row in ladder_rows(result):
        click.echo(f"  {row[0]:30}{row[2]:40} little edges {row[3]}, stroke fit {', '.join(row[4:])}")
    click.echo("  " + calibration_note(result))
    click.echo("  Guessing gets 10%. Columns: the little-edge score of the first hidden layer (a drawn straight stroke "
               "clears 0.5, random weights 0.03), then the stroke fit per hidden layer (1 = exactly a drawn stroke, "
               "random weights 0.16).")
    if result.drift:
        low = sorted(result.drift, key=lambda d: d["cosine_mean"])[:3]
        click.echo("  fine-tuning moved most: " + ", ".join(f"{d['unit']} (cosine {d['cosine_mean']:.2f})" for d in low))


# ---- report ----------------------------------------------------------------------------------------
@click.command("report")
@click.argument("spec", metavar="SPEC", type=click.Path(dir_okay=False))
@data_options
@click.option("-o", "--output", default="report", show_default=True, type=click.Path(file_okay=False),
              help="Folder for index.html (self-contained), report.json, ladder.md and selectivity.md.")
@click.option("--seeds", type=click.IntRange(1, 100), default=3, show_default=True, help="Training runs per trained rung.")
@click.option("--layer", default="hidden1", show_default=True, metavar="NAME", help="Layer for the surgery.")
@epochs_option
@digits_option
@palette_option
@jobs_option
@json_option
def report(spec, data, split, output, seeds, layer, epochs, digits, palette, jobs, as_json):
    """One self-contained HTML page: the ladder, hand vs trained, the surgery, weights side by side.

    Figures are embedded as base64 PNG, so index.html reads offline and can be mailed as one
    file. Also writes report.json (every number), ladder.md (the ladder as a Markdown table,
    with the data it used) and selectivity.md (how often each hand unit fires on each digit).

    \b
    Example:
        handnet report weight_specs/3b1b.toml -o report/
        handnet report weight_specs/3b1b.toml --data ../shared/mnist --split dev -o report-dev/
        handnet report weight_specs/3b1b.toml --palette colorblind -o report-cb/
    """
    import json

    from handnet.atomic import write_text
    from handnet.data.mnist import load_splits
    from handnet.cli.common import _clean
    from handnet.compare.study import run_study
    from handnet.compare.ladder import scored_digits
    from handnet.viz.report import report_steps, write_report

    check_output(output, folder=True)
    scored_digits(spec, digits)  # a bad spec, or outputs that answer no digit, fail here in one line
    splits = load_splits(data, split)
    with progress(report_steps(seeds), "report") as bar:
        study = run_study(spec, splits, seeds=seeds, config=_config(epochs), layer=layer, progress=_stepper(bar),
                          digits=digits, jobs=jobs)
        path = write_report(study, output, progress=_stepper(bar), palette=palette, jobs=jobs)
    results = study.to_dict()
    write_text(Path(output) / "report.json", json.dumps(_clean(results), indent=2))
    if as_json:
        print_json({"html": str(path), "json": str(Path(output) / "report.json"), **results})
        return
    click.echo(f"report written to {path}")
    click.echo(Path(output, "ladder.md").read_text())
    click.echo("Guessing gets 10%; the little-edge score is about 0.8 for a short straight bar (a drawn straight stroke "
               "clears 0.5) and 0.03 for random weights; the stroke fit is 1 for exactly a drawn stroke and about 0.16 "
               "for random weights.")
    click.echo("\nVerdict, hand-designed (rung 1) vs trained (the twin, seed 0); each claim beside its baseline:")
    for claim in results["verdict"]["claims"]:
        click.echo(f"  - {claim['text']}")


commands = [compare, surgery, ladder, import_group, report]
