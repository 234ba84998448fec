"""``handnet demo``: the main job on the bundled data, end to end (``handnet.demo.run_demo``)."""

import click

from handnet.cli.common import check_output, json_option, note, print_json, progress

SPEC = "weight_specs/3b1b.toml"


@click.command("demo")
@click.option("-o", "--out", default="demo", show_default=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--spec", "spec_path", default=SPEC, show_default=True, type=click.Path(dir_okay=False),
              help="The hand-designed network's spec.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed for training the twin.")
@click.option("--seeds", type=click.IntRange(1, 100), default=3, show_default=True,
              help="Training runs per trained rung of the ladder.")
@json_option
def demo(out, spec_path, seed, seeds, as_json):
    """Run the main job on the bundled sample: build the hand-designed 3b1b network from its spec, check
    it, train its gradient-trained twin, evaluate both, draw the figures, and compare hand-designed and
    learned along the ladder from every-weight-from-the-spec to fully trained.

    Everything is written under OUT: the networks (.npz), figures/, report/index.html and
    playground.html (draw a digit, watch both networks light up). With --json
    the running commentary goes to stderr and stdout gets one JSON object: the files written, the
    accuracy of each network and the report's numbers.

    \b
    Example:
        handnet demo -o demo
    """
    from handnet.demo import run_demo

    check_output(out, folder=True)

    say = note if as_json else click.echo
    results = run_demo(out, spec_path, seed, seeds, say=say, progress=progress)
    if as_json:
        print_json(dict(results, accuracy={label: e.to_dict() for label, e in results["accuracy"].items()}))
    note("\ndone. Next: `handnet explain weight_specs/3b1b.toml`, `handnet render weights demo/twin.npz`")
