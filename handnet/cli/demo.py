"""``handnet demo``: the main job on the bundled data, end to end (``handnet.demo.run_demo``)."""

import shlex
from pathlib import Path

import click

from handnet.cli.common import (activate_hint, check_output, command_name, data_options, jobs_option, json_option, note,
                                palette_option, print_json, progress)

SPEC = "weight_specs/3b1b.toml"


def next_steps(out, spec_path, command: str) -> list[str]:
    """The demo's last lines: what to run next, with the paths it really wrote and the way to run handnet."""
    out, q = Path(out), shlex.quote
    lines = [
        f"\ndone. Everything is in {out}/; open {out / 'report' / 'index.html'} in a browser for the whole comparison.",
        "Next:",
        f"  {command} explain {q(str(spec_path))} parts:upper_loop",
        "      what one hand-designed unit reads, and why",
        f"  {command} render maximize {q(str(out / 'twin.npz'))} --unit hidden2:7 -o {q(str(out / 'figures'))}",
        "      the image that excites one trained unit most, next to the digits that do",
        f"  {command} compare {q(str(out / 'hand.npz'))} {q(str(out / 'twin.npz'))}",
        "      the hand-designed net against the trained one, in numbers",
    ]
    hint = activate_hint(command)
    return lines + ([f"  {hint}"] if hint else [])


@click.command("demo")
@click.option("-o", "--out", default="demo", show_default=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--spec", "spec_path", default=SPEC, show_default=True, type=click.Path(dir_okay=False),
              help="The hand-designed network's spec.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed for training the twin.")
@click.option("--seeds", type=click.IntRange(1, 100), default=3, show_default=True,
              help="Training runs per trained rung of the ladder.")
@palette_option
@data_options
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Train every network for this many epochs instead of the trainer's recipe (60): a quick "
                   "look, with weaker trained networks.")
@jobs_option
@json_option
def demo(out, spec_path, seed, seeds, palette, data, split, epochs, jobs, as_json):
    """Run the main job on the bundled sample (or your --data): build the hand-designed 3b1b network from its spec, check
    it, train its gradient-trained twin, evaluate both, draw the figures, and compare hand-designed and
    learned along the ladder from every-weight-from-the-spec to fully trained.

    Everything is written under OUT: the networks (.npz), figures/, report/index.html and
    playground.html (draw a digit, watch both networks light up). With --json
    the running commentary goes to stderr and stdout gets one JSON object: the files written, the
    accuracy of each network and the report's numbers.

    \b
    Example:
        handnet demo -o demo
        handnet demo -o demo-cb --palette colorblind
        handnet demo -o demo-quick --seeds 1 --epochs 5 --data my-digits/
    """
    from handnet.demo import run_demo
    from handnet.nn.train import TrainConfig

    check_output(out, folder=True)

    say = note if as_json else click.echo
    config = None if epochs is None else TrainConfig().replace(epochs=epochs)
    results = run_demo(out, spec_path, seed, seeds, say=say, progress=progress, palette=palette, config=config,
                       data=data, split=split, jobs=jobs)
    if as_json:
        print_json(dict(results, accuracy={label: e.to_dict() for label, e in results["accuracy"].items()}))
    for line in next_steps(out, spec_path, command_name()):
        note(line)
