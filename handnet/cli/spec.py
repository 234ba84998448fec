"""``handnet build``, ``explain`` and ``check``: compile a spec, read it back unit by unit, and
verify that every unit responds as the spec declares."""

from pathlib import Path

import click

from handnet.cli.common import check_output, data_inputs, data_options, json_option, print_json, progress, spec_inputs


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

    try:
        refs = net.units() if unit is None else [net.unit(unit)]
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


@click.command("explain")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.argument("unit", required=False)
@data_options
@json_option
def explain(spec, unit, data, split, as_json):
    """Print what each unit reads, its compiled bias and gain, and for edges the stroke geometry.

    UNIT is a reference like edges:upper_bar, parts:upper_loop or digits:9 (default: every unit).

    \b
    Example:
        handnet explain weight_specs/3b1b.toml
        handnet explain weight_specs/3b1b.toml parts:upper_loop --json
    """
    parsed, net = _compile(spec, data, split)
    units = _explain_units(net, unit)
    if as_json:
        print_json({"spec": spec, "name": parsed.name, "sizes": net.sizes, "units": units})
        return
    if unit is None:
        click.echo(f"{parsed.name}: {'-'.join(map(str, net.sizes))} network from {spec}")
    for info in units:
        click.echo("\n".join(_describe(info)))


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
