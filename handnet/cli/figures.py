"""``handnet figures``: regenerate the README's figures/ folder (``handnet.demo.regenerate_figures``)."""

import click

from handnet.cli.common import check_output, json_option, note, palette_option, print_json, progress


@click.command("figures")
@click.option("-o", "--out", default="figures", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the PNG files (hand-*.png, trained-*.png).")
@click.option("--spec", "spec_path", default="weight_specs/3b1b.toml", show_default=True,
              type=click.Path(dir_okay=False), help="The hand-designed net's spec.")
@click.option("--trained", "trained_path", default=None, type=click.Path(dir_okay=False),
              help="A saved trained twin (.npz); default: train one on the bundled sample (seed 0).")
@click.option("--dpi", type=click.IntRange(20, 600), default=100, show_default=True)
@palette_option
@json_option
def figures(out, spec_path, trained_path, dpi, palette, as_json):
    """Regenerate the committed figures/ folder: weights, maximizing images, tuning curves, the lit-up
    diagram and digits, for the hand-designed net (from --spec) and its trained twin (from --trained,
    or trained here on the bundled sample with seed 0).

    \b
    Example:
        handnet figures -o figures
        handnet figures -o figures-cb --palette colorblind --trained demo/twin.npz
    """
    from handnet.demo import regenerate_figures

    check_output(out, folder=True)

    written, notes = regenerate_figures(out, spec_path, trained_path, dpi=dpi, note=note, progress=progress,
                                        palette=palette)
    if as_json:
        print_json({"files": written, "notes": notes})
    else:
        for path in written:
            click.echo(f"wrote {path}")


commands = [figures]
