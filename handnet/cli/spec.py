"""``handnet build``, ``explain`` and ``check``: compile a spec, read it back unit by unit, and
verify that every unit responds as the spec declares."""

from pathlib import Path

import click

from handnet.cli.common import (FiniteFloat, check_output, data_inputs, data_options, json_option, load_network, note,
                                print_json, progress, scoring_digits, spec_inputs, training_data)


def _data(data, split):
    """Training data for fitted or calibrated units, chosen the way every command chooses digits."""
    if data is None:
        return None
    from handnet.data import mnist as datalib

    return datalib.load_splits(data, split).train


def _compile(spec_path, data, split):
    from handnet.compiler.compile import compile_spec, compile_steps
    from handnet.spec import load_spec

    spec = load_spec(spec_path)
    if not spec.needs_data:
        return spec, compile_spec(spec)
    where = "the bundled training sample" if data is None else data
    with progress(compile_steps(spec), f"{spec_path}: fitting/calibrating on {where}") as bar:
        return spec, compile_spec(spec, _data(data, split), progress=bar.update)


def _default_out(spec_path) -> Path:
    """Where ``build`` writes without -o: ``<spec stem>.npz`` here, unless that file holds something
    else (a trained network, a net from another spec, not a network): then it refuses, in one line."""
    from handnet.errors import HandnetError, NetworkFileError
    from handnet.nn.network import Network

    out = Path(Path(spec_path).stem + ".npz")
    if not out.exists():
        return out
    try:
        provenance = Network.load(out).metadata.get("provenance") or {}
    except NetworkFileError:
        provenance = {}
    if provenance.get("kind") != "spec" or Path(str(provenance.get("spec", ""))).name != Path(spec_path).name:
        held = {"trained": "a trained network", "spec": f"a network built from {provenance.get('spec')}"}.get(
            provenance.get("kind"), "something build did not write")
        raise HandnetError(f"{out} already exists and holds {held}; build will not overwrite it unasked: "
                           f"choose the file with -o, e.g. -o nets/{out}")
    return out


@click.command("build")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False),
              help="Output .npz (default: <spec stem>.npz in the current folder, replaced only if built from the "
                   "same spec).")
@data_options
@json_option
def build(spec, out, data, split, as_json):
    """Compile a spec file into a network (.npz); data is read only if the spec fits or calibrates.

    \b
    Example:
        handnet build weight_specs/3b1b.toml -o nets/3b1b.npz
        handnet build weight_specs/3b1b-fitted.toml --data ../shared/mnist -o nets/3b1b-fitted.npz
    """
    inputs = spec_inputs(spec) + data_inputs(data)  # neither the spec, its includes nor the data is overwritten
    target = Path(out) if out else _default_out(spec)
    check_output(target, inputs)
    parsed, net = _compile(spec, data, split)
    path = net.save(target)
    summary = {"spec": spec, "out": str(path), "sha256": parsed.sha256, "sizes": net.sizes,
               "n_parameters": net.n_parameters, "layers": {layer.name: list(layer.units) for layer in net.layers},
               "fitted": parsed.fit, "provenance": net.metadata["provenance"]}
    if as_json:
        print_json(summary)
        return
    click.echo(f"{spec} -> {path}: {'-'.join(map(str, net.sizes))} network, {net.n_parameters:,} parameters"
               + (f", readout fitted ({parsed.fit})" if parsed.fit else ""))


def _explain_units(net, unit):
    from handnet.errors import UnitError
    from handnet.inside.selectivity import resolve_units

    try:
        refs = resolve_units(net, unit)
    except UnitError as e:
        if "its units are" in str(e):
            raise
        raise UnitError(f"{e}; the units are {', '.join(str(r) for r in net.units())}") from None
    out = []
    for ref in refs:
        layer = net.layers[ref.layer]
        info = dict(net.metadata.get("units", {}).get(str(ref), {}))
        w = layer.weights[ref.index]
        if ref.layer == len(net.layers) - 1:
            from handnet.nn.labels import output_labels

            info["answers"] = output_labels(net)[ref.index]  # the digit this output unit answers, by name or label
        info.update({"unit": str(ref), "bias": float(layer.biases[ref.index]),
                     "gain": float(info.get("gain", abs(w).max())), "positive_total": float(w[w > 0].sum()),
                     "negative_total": float(w[w < 0].sum())})
        out.append(info)
    return out


def _describe(info) -> list[str]:
    lines = [f"{info['unit']}: bias {info['bias']:+.3f}, gain {info['gain']:.3f}"
             + (f"  ({info['doc']})" if info.get("doc") else "")]
    if "strokes" in info:
        geometry = "; ".join(_stroke_text(s) for s in info["strokes"])
        lines.append(f"    strokes: {geometry}")
        lines.append(f"    template: width {info['width']:g}, surround {info['surround']:g}, inhibition "
                     f"{info['inhibition']:g}; fires at {info['fraction']:.0%} of the stroke inked "
                     f"(sharpness {info['sharpness']:g}, threshold from {info['threshold']})")
    if "answers" in info:
        answer = info["answers"]
        lines.append(f"    answers: {answer}" + (" (label = N in the spec)" if answer is not None and
                                                    info["unit"].split(":", 1)[1] != str(answer) else "")
                     if answer is not None else "    answers: no digit (name it 0-9 or add label = N to score it)")
    if "rule" in info:
        lines.append(f"    rule: {info['rule']}")
        reads = ", ".join(f"{k} {v:+.2f}" for k, v in info["reads"].items())
        lines.append(f"    reads: {reads or '(nothing)'}")
    return lines


def _stroke_text(s: dict) -> str:
    (kind, value), = s.items()
    if kind == "arc":
        return (f"arc centre ({value['center'][0]:g}, {value['center'][1]:g}) radii ({value['radii'][0]:g}, "
                f"{value['radii'][1]:g}) {value['start']:g}..{value['end']:g} deg"
                + (f" rotated {value['rotation']:g}" if value["rotation"] else ""))
    return f"{kind} " + " - ".join(f"({p[0]:g}, {p[1]:g})" for p in value)


def _is_spec(path) -> bool:
    return Path(path).suffix.lower() == ".toml"


def _parse_by_digit(ctx, param, value):
    if value is None or value == "all":
        return value
    from handnet.errors import HandnetError
    from handnet.nn.labels import parse_digits

    try:
        return parse_digits(value)
    except HandnetError:
        raise click.BadParameter(f"expected digits 0-9 separated by commas, e.g. 0,1,7, or nothing; got {value!r} "
                                 "(put UNIT before --digits: handnet explain NET parts:upper_loop --digits)",
                                 param_hint="--digits") from None


@click.command("explain")
@click.argument("spec", metavar="SPEC_OR_NET", type=click.Path(dir_okay=False))
@click.argument("unit", required=False)
@click.option("--digits", "by_digit", is_flag=False, flag_value="all", default=None, metavar="[D,D,...]",
              callback=_parse_by_digit,
              help="Also measure how often each unit fires on each digit's test images, beside the baseline (the "
                   "unit's share over all digits) and the digits its spec names; --digits 0,1,7 keeps those labels. "
                   "Put it after UNIT.")
@click.option("--threshold", type=FiniteFloat(0, 1, min_open=True), default=0.5, show_default=True,
              help="With --digits: a unit fires on an image when its activation is above this.")
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False), metavar="PATH",
              help="With --digits: draw the test digits each unit wrongly fires on (digits its spec does not name) "
                   "as one mosaic, .png or .svg.")
@click.option("--per-row", type=click.IntRange(1, 40), default=12, show_default=True,
              help="With -o: thumbnails per row (per wrongly fired digit for one unit, per unit for several).")
@data_options
@json_option
def explain(spec, unit, by_digit, threshold, out, per_row, data, split, as_json):
    """Print what each unit reads, its compiled bias and gain, and for edges the stroke geometry.

    SPEC_OR_NET is a spec (.toml) or a saved network (.npz). UNIT is a reference like
    edges:upper_bar, parts:upper_loop or digits:9, or a whole layer such as parts (default: every
    unit). With --digits it also prints each unit's firing rate per digit on the test digits
    (--data/--split): a unit fires on an image when its activation is above 0.5, and its rate on a
    digit is the share of that digit's images it fires on. The baseline is its rate over all digits
    (what a unit that ignored the digit would show in every column); * marks the digits the unit is
    meant for (the spec's digits = [...], else the digits its doc names, else the label an output
    answers) and ! a digit it is not meant for but fires on at least half the time. -o draws the
    images behind the ! marks: the test digits it fires on although its spec does not name them.

    \b
    Example:
        handnet explain weight_specs/3b1b.toml
        handnet explain weight_specs/3b1b.toml parts:upper_loop --json
        handnet explain weight_specs/3b1b.toml parts --digits --data ../shared/mnist
        handnet explain weight_specs/3b1b.toml parts:upper_loop --digits -o wrong.png
        handnet explain nets/trained.npz hidden1:3 --digits 1,7
    """
    if out is not None and by_digit is None:
        raise click.UsageError("-o draws the digits a unit wrongly fires on: add --digits")
    if out:
        check_output(out, (spec_inputs(spec) if _is_spec(spec) else [spec]) + data_inputs(data), figure=True)
    if _is_spec(spec):
        parsed, net = _compile(spec, training_data(data), split)
        name = parsed.name
    else:
        net = load_network(spec, training_data(data))
        name = str(net.metadata.get("description") or "") or Path(spec).stem
    units = _explain_units(net, unit)
    table = None
    if by_digit is not None:
        from handnet.inside.selectivity import selectivity

        dataset = scoring_digits(data, split)
        table = selectivity(net, dataset, unit, threshold=threshold,
                            digits=None if by_digit == "all" else by_digit)
    figure = _draw_wrong(table, dataset, out, per_row) if out else None
    if as_json:
        payload = {"spec": spec, "name": name, "sizes": net.sizes, "units": units}
        if table is not None:
            payload.update(selectivity=table.to_dict(), figure=figure)
        print_json(payload)
        return
    if unit is None and table is None:
        click.echo(f"{name}: {'-'.join(map(str, net.sizes))} network from {spec}")
    if table is None or len(units) == 1:
        for info in units:
            click.echo("\n".join(_describe(info)))
    if table is not None:
        click.echo(("\n" if len(units) == 1 else "") + table.format_text())
    if figure:
        note(f"saved {figure}")
    elif table is not None and not as_json:
        note("(add -o wrong.png to see the test digits a unit wrongly fires on)")


def _draw_wrong(table, dataset, out, per_row) -> str:
    from handnet.atomic import save_figure
    from handnet.viz.plots import wrong_fires_figure

    return str(save_figure(wrong_fires_figure(table, dataset.images, per_row), out, dpi=100))


@click.command("check")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Also fail (exit 1) when a unit has no case to check (e.g. a fitted readout).")
@data_options
@json_option
def check(spec, strict, data, split, as_json):
    """Check that every unit responds as the spec declares, on stimuli drawn from the spec itself.

    Edges must fire on their own strokes and stay low on blank and unrelated strokes. A part or
    digit of "at least k" inputs must fire on every k of them and stay low on every k-1; a weights
    rule must fire on its positive inputs; an inhibitor inked on top must bring the unit below 0.5
    (or lower it by the spec's inhibit_margin). Each failure says why, in one line: which inputs
    carried the activation and whether their strokes were drawn. A failing case the spec lists
    under `exceptions` (with a reason) is shown with that reason and not counted. Units with no case
    are listed as unchecked. Exits with status 1 on any violation (with --strict, also on an
    unchecked unit or an exception the spec declares that no longer fails).

    \b
    Example:
        handnet check weight_specs/3b1b.toml
        handnet check weight_specs/3b1b-fitted.toml --strict
        handnet check weight_specs/seven-segment.toml --json
    """
    from handnet.compiler.check import check_network

    parsed, net = _compile(spec, data, split)
    report = check_network(parsed, net)
    if as_json:
        print_json({**report.to_dict(), "strict": strict})
    else:
        for u in report.units:
            bad = [c for c in u.cases if not c["ok"]]
            extra = f" ({u.note})" if u.note else ""
            if not u.checked:
                click.echo(f"---- {u.unit}: unchecked{extra}")
                continue
            status = "FAIL" if not u.ok else ("ok* " if bad or u.stale else "ok  ")
            click.echo(f"{status} {u.unit}: {len(u.cases) - len(bad)}/{len(u.cases)} cases{extra}")
            for c in bad:
                if c["expect"] == "drop":
                    click.echo(f"       expected {c['inhibitor']} inked on top (weight {c['weight']:+.2f}) to lower the "
                               f"pre-activation by >= {c['margin']:g} (inhibit_margin), got {c['drop']:.2f}")
                else:
                    click.echo(f"       expected {c['expect']} on {c['stimulus']}, got {c['activation']:.3f}")
                click.echo(f"         why: {c['why']}")
                if c.get("known"):
                    click.echo(f"         known exception (the spec says): {c['known']}")
            for e in u.stale:
                click.echo(f"       stale exception: {e.describe()} is declared to fail but passes; remove it from the spec")
        click.echo(report.summary())
        if report.unchecked:
            click.echo(f"unchecked ({len(report.unchecked)}): {', '.join(u.unit for u in report.unchecked)}"
                       + ("" if strict else "; --strict fails on them"))
        if report.known:
            click.echo(f"ok* marks a unit whose failing case{'s' * (len(report.known) != 1)} the spec lists as known "
                       "exceptions, with the reason shown")
    if not report.ok or (strict and (report.unchecked or report.stale)):
        click.get_current_context().exit(1)


commands = [build, explain, check]  # registered on the main group by handnet/cli/__init__.py
