"""``handnet figures``: regenerate the README's figures/ folder (``handnet.demo.regenerate_figures``)."""

import click

from handnet.cli.common import check_output, json_option, note, print_json


@click.command("figures")
@click.option("-o", "--out", default="figures", show_default=True, type=click.Path(file_okay=False))
@click.option("--spec", "spec_path", default="weight_specs/3b1b.toml", show_default=True,
              type=click.Path(dir_okay=False), help="The hand-designed net's spec.")
@click.option("--trained", "trained_path", default=None, type=click.Path(dir_okay=False),
              help="A saved trained twin (.npz); default: train one on the bundled sample (seed 0).")
@click.option("--dpi", type=click.IntRange(20, 600), default=80, show_default=True)
@json_option
def figures(out, spec_path, trained_path, dpi, as_json):
    """Regenerate the committed figures/ folder: weights, maximizing images, tuning curves, the lit-up
    diagram and digits, for the hand-designed net (from --spec) and its trained twin (from --trained,
    or trained here on the bundled sample with seed 0).

    \b
    Example:
        handnet figures -o figures
    """
    from handnet.demo import regenerate_figures

    check_output(out, folder=True)

    written, notes = regenerate_figures(out, spec_path, trained_path, dpi=dpi, note=note)
    if as_json:
        print_json({"files": written, "notes": notes})
    else:
        for path in written:
            click.echo(f"wrote {path}")


commands = [figures]
