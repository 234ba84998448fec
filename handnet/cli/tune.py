"""The tuning loop: ``handnet watch``, ``diff``, ``sweep`` and ``errors``.

Each command is a few lines over ``handnet.tune.watch``, ``handnet.tune.diff``, ``handnet.tune.sweep`` and
``handnet.tune.mistakes``.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from handnet.cli.common import (FiniteFloat, _clean, check_output, data_inputs, data_options, digits_option, json_option,
                                load_network, note, print_json, progress, scorable, spec_inputs)


def _save(fig, path) -> Path:
    from handnet.atomic import save_figure

    save_figure(fig, path, dpi=100)
    return Path(path)


@click.command("errors")
@click.argument("net", type=click.Path(dir_okay=False))
@data_options
@click.option("--digit", type=click.IntRange(0, 9), default=None, help="Only mistakes on this true digit.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Groups to show and draw.")
@click.option("-o", "--out", type=click.Path(file_okay=False), default=None, help="Folder for one figure per group.")
@digits_option
@json_option
def errors(net, data, split, digit, top, out, digits, as_json):
    """Show where a network goes wrong: its mistakes grouped by (true, predicted) digit, most
    frequent first, with the hidden units that fired (or stayed dark) and pushed the wrong answer.

    NET is a saved network (.npz) or a spec (.toml). For each group, hidden activations are
    averaged over the group and over the correctly read digits of the same class; the output
    margin is split exactly into weight x activation per unit of the last hidden layer plus the
    biases: the largest terms are shown and the rest summed, so the terms add up to the margin.

    \b
    Example:
        handnet errors demo/hand.npz --data ../shared/mnist --digit 4 -o errors/
    """
    from handnet.data.mnist import load_test
    from handnet.tune.mistakes import analyze_errors

    if out:
        check_output(out, folder=True)
    network = load_network(net, data)
    scorable(network, net, digits)
    dataset = load_test(data, split)
    analysis = analyze_errors(network, dataset, digit=digit, digits=digits)
    saved = []
    if out:
        from handnet.viz.tune import plot_error_group

        for g in analysis.groups[:top]:
            last = g.layers[-1] if g.layers else None
            units = list(last.units) if last else []
            fig = plot_error_group(
                dataset.images[g.indices[:8]],
                units,
                last.group if last else [],
                last.correct if last else [],
                list(g.contributions) + [g.margin_bias],
                f"{g.label}: {g.count} digits ({dataset.describe()}); "
                f"margin {g.margin:+.2f}, the sum of the right-hand bars",
                contribution_units=list(g.units) + ["biases"],
            )
            saved.append(str(_save(fig, Path(out) / f"{g.true}_as_{g.predicted}.png")))
    if as_json:
        result = analysis.to_dict()
        result["groups"] = result["groups"][:top] if top else result["groups"]
        result["n_groups"] = len(analysis.groups)
        result["figures"] = saved
        print_json(result)
        return
    click.echo(analysis.format_text(top=top))
    for path in saved:
        note(f"saved {path}")


@click.command("diff")
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@data_options
@click.option("-o", "--out", type=click.Path(file_okay=False), default=None,
              help="Folder for figures: weight changes, accuracy, flipped digits.")
@digits_option
@json_option
def diff(a, b, data, split, out, digits, as_json):
    """Compare two versions of a network: which units changed and how, accuracy overall and per
    digit for both, and the test digits that flipped (right in A and wrong in B, and the reverse).

    A and B are specs (.toml) or saved networks (.npz), in any mix. Output units answer by name;
    both are scored on the test digits of the labels both answer (or --digits).

    \b
    Example:
        handnet diff weight_specs/3b1b.toml my_edit.toml --data ../shared/mnist -o diff/
    """
    from handnet.data.mnist import load_test
    from handnet.tune.diff import compare_versions

    if out:
        check_output(out, folder=True)
    net_a, net_b = load_network(a, data), load_network(b, data)
    dataset = load_test(data, split)
    comparison = compare_versions(net_a, net_b, dataset, digits)
    saved = []
    if out:
        from handnet.atomic import save_figure
        from handnet.viz.tune import version_figures

        saved = [str(save_figure(fig, Path(out) / f"{name}.png", dpi=100))
                 for name, fig in version_figures(comparison, dataset).items()]
    if as_json:
        result = comparison.to_dict()
        result.update(a=a, b=b, figures=saved)
        print_json(result)
        return
    click.echo(comparison.format_text(a, b))
    for path in saved:
        note(f"saved {path}")


@click.command("watch")
@click.argument("spec", type=click.Path(dir_okay=False))
@data_options
@click.option("-o", "--out", default="watch", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the pictures of changed units and report.json (with --json: only when -o is given).")
@click.option("--once", is_flag=True, help="Build, report and exit (for scripts and tests).")
@click.option("--interval", type=FiniteFloat(0.01, 3600), default=0.25, show_default=True,
              help="Seconds between looks at the files.")
@click.option("--no-figures", is_flag=True, help="Report accuracy only; draw nothing.")
@digits_option
@json_option
def watch(spec, data, split, out, once, interval, no_figures, digits, as_json):
    """Watch a spec and, on every save, rebuild it and show what changed: the units whose
    weights moved (their weight grids and maximizing inputs are redrawn into -o, atomically, so an
    image viewer that reloads shows the new version), the conformance check, and accuracy overall
    and per digit with the change since the previous version, e.g. `7: 81.2% (+3.4)`.

    A spec error is printed (file, table, field) and the last good network stays in place.
    Ctrl-C stops. With --json, one JSON object per rebuild, one per line, and nothing is written
    unless -o names a folder.

    \b
    Example:
        handnet watch weight_specs/3b1b.toml --data ../shared/mnist -o watch/
    """
    import json
    import time

    from handnet.data.mnist import load_test
    from handnet.tune.watch import Watcher
    from handnet.viz import tune as tune_figures

    check_output(out, folder=True)

    dataset = load_test(data, split)
    if as_json and click.get_current_context().get_parameter_source("out") is ParameterSource.DEFAULT:
        out, no_figures = None, True  # a script asked for numbers: no pictures, no report.json unasked

    def render(net, refs, folder):
        # render_units is looked up at each call, so a test can swap in a quicker renderer
        with progress(len(refs), f"  drawing {len(refs)} unit picture{'s' * (len(refs) != 1)} into {Path(folder)}/") as bar:
            return tune_figures.render_units(net, refs, folder, progress=bar.update)

    watcher = Watcher(spec, dataset, out, render=None if no_figures else render, data=data, digits=digits)

    def show(report):
        if as_json:
            click.echo(json.dumps(_clean(report.to_dict())))
        else:
            click.echo(report.format_text(), err=not report.ok)

    def draw(report):
        if report.ok and watcher.pending and not no_figures:
            started = time.perf_counter()
            done = watcher.draw(report)
            if not as_json:
                note(f"  drew {len(done.redrawn)} unit picture{'s' * (len(done.redrawn) != 1)} into {Path(out)}/ "
                     f"in {time.perf_counter() - started:.1f}s")
        if not as_json:
            click.echo("")

    if not once:
        note(f"watching {spec} (Ctrl-C to stop)" + (f"; pictures in {Path(out)}/" if out and not no_figures else ""))

    first = watcher.step(draw=False)
    if once and not first.ok:
        raise click.ClickException("; ".join(first.problems))
    show(first)
    try:
        draw(first)
        if once:
            return
        while True:
            time.sleep(interval)
            report = watcher.poll(draw=False)  # numbers first, pictures right after
            if report is not None:
                show(report)
                draw(report)
    except KeyboardInterrupt:
        note("stopped")


@click.command("sweep")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.argument("assignments", nargs=-1, metavar="[PATH=VALUES]...")
@click.option("--set", "assignment", multiple=True, metavar="PATH=START:STOP:STEPS",
              help="The spec value to sweep, e.g. edges.upper_bar.fraction=0.3:0.8:11 or "
                   "edges.upper_bar.strokes.0.line.1.1=16:24:9 (STEPS values, both ends included), or listed: "
                   "edges.upper_bar.fraction=0.3,0.4,0.6. Give it twice (or two PATH=VALUES) to sweep every pair.")
@data_options
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False), metavar="PATH",
              help="Also draw the plot here (.png or .svg): accuracy overall and per digit against the value, the "
                   "current value marked; for two values a heat map of accuracy over every pair. Without -o nothing "
                   "is written.")
@digits_option
@json_option
def sweep(spec, assignments, assignment, data, split, out, digits, as_json):
    """Sweep one spec value, or two at once, and see accuracy at each setting.

    PATH is dotted through the spec's tables (after includes), with list items by index. The
    spec's current value is swept too and marked. A value the spec rejects is reported in its row.
    One value: a table of accuracy overall and per digit. Two values (--set twice, or two
    PATH=VALUES after the spec): every pair is compiled and scored, a grid of accuracy with rows for
    the first and columns for the second; -o draws it as a heat map. Prints text (or, with --json,
    one JSON object); writes a plot only when -o names one.

    \b
    Example:
        handnet sweep weight_specs/3b1b.toml --set edges.upper_bar.fraction=0.3:0.8:11 --data ../shared/mnist
        handnet sweep weight_specs/3b1b.toml --set edges.upper_bar.fraction=0.3:0.8:11 -o sweep.png
        handnet sweep weight_specs/3b1b.toml parts.upper_loop.bias=-9:-3:7 edges.fraction=0.3,0.5,0.7 -o grid.png
    """
    from handnet.data.mnist import load_test
    from handnet.tune.sweep import grid_size, parse_assignment, sweep as run_sweep, sweep_grid

    texts = list(assignments) + list(assignment)  # rows: the first PATH=VALUES (else the first --set)
    if not texts:
        raise click.UsageError("name the value to sweep: --set PATH=START:STOP:STEPS, e.g. "
                               "--set edges.upper_bar.fraction=0.3:0.8:11")
    if len(texts) > 2:
        raise click.UsageError(f"sweep takes one or two values to sweep, got {len(texts)}: {', '.join(texts)}")
    if out:
        check_output(out, spec_inputs(spec) + data_inputs(data), figure=True)
    parsed = [parse_assignment(t) for t in texts]
    dataset = load_test(data, split)
    if len(parsed) == 2:
        (path_a, values_a), (path_b, values_b) = parsed
        with _progress(grid_size(spec, parsed), f"sweeping {path_a} x {path_b}") as bar:
            grid = sweep_grid(spec, path_a, values_a, path_b, values_b, dataset, data=data, progress=bar.update,
                              digits=digits)
        if out:
            from handnet.atomic import save_figure
            from handnet.viz.tune import plot_sweep_grid

            save_figure(plot_sweep_grid(grid.values[0], grid.values[1], grid.overall, grid.current, grid.paths,
                                        grid.data, grid.as_written, 1 / max(len(grid.scored()), 1)), out, dpi=100)
        if as_json:
            print_json({**grid.to_dict(), "figure": out})
            return
        click.echo(grid.format_text())
        note(f"saved {out}" if out else "(add -o grid.png to draw this as a heat map)")
        return
    path, values = parsed[0]
    with _progress(len(values) + 1, f"sweeping {path}") as bar:
        result = run_sweep(spec, path, values, dataset, data=data, progress=bar.update, digits=digits)
    if out:
        from handnet.atomic import save_figure
        from handnet.viz.tune import plot_sweep

        save_figure(plot_sweep(result.values, result.overall, result.per_digit, result.current, path), out, dpi=100)
    if as_json:
        payload = result.to_dict()
        payload["figure"] = out
        print_json(payload)
        return
    click.echo(result.format_text())
    note(f"saved {out}" if out else "(add -o sweep.png to draw this as a plot)")


def _progress(length, label):
    return progress(length, label)


commands = [watch, diff, sweep, errors]  # click commands registered on the main group by handnet/cli/__init__.py
