"""``handnet train``: the gradient-trained twin, over ``handnet.nn.train``."""

import click

from handnet.cli.common import data_options, json_option, note, print_json, progress

DEFAULTS = {  # mirrors handnet.nn.train.TrainConfig() so --help stays fast (checked by the tests)
    "epochs": 60,
    "batch_size": 32,
    "optimizer": "adam",
    "loss": "cross_entropy",
    "lr": 0.01,
    "momentum": 0.9,
    "weight_decay": 3e-4,
    "schedule": "cosine",
    "seed": 0,
    "dtype": "float32",
    "hidden_activation": "sigmoid",
    "output": "softmax",
}


def _positive_int(name):
    def check(ctx, param, value):
        if value is not None and value < 1:
            raise click.BadParameter(f"expected a whole number >= 1, got {value}", param_hint=name)
        return value

    return check


def _non_negative(name, strict=False):
    def check(ctx, param, value):
        if value is not None and (value <= 0 if strict else value < 0):
            raise click.BadParameter(f"expected a number {'>' if strict else '>='} 0, got {value}", param_hint=name)
        return value

    return check


@click.command("train")
@data_options
@click.option("--epochs", type=int, default=DEFAULTS["epochs"], show_default=True, callback=_positive_int("--epochs"))
@click.option(
    "--batch-size", type=int, default=DEFAULTS["batch_size"], show_default=True, callback=_positive_int("--batch-size")
)
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default=DEFAULTS["optimizer"], show_default=True)
@click.option(
    "--loss",
    type=click.Choice(["cross_entropy", "quadratic"]),
    default=DEFAULTS["loss"],
    show_default=True,
    help="cross_entropy: softmax output (binary per unit on a sigmoid output); quadratic: the lesson's cost.",
)
@click.option("--lr", type=float, default=DEFAULTS["lr"], show_default=True, callback=_non_negative("--lr", True),
              help="Learning rate (the peak rate for the step and cosine schedules).")
@click.option("--momentum", type=float, default=DEFAULTS["momentum"], show_default=True,
              help="SGD momentum (0 = plain SGD); unused by Adam.")
@click.option("--weight-decay", type=float, default=DEFAULTS["weight_decay"], show_default=True,
              callback=_non_negative("--weight-decay"), help="L2 penalty: adds weight_decay/2 * sum(w^2) to the loss.")
@click.option("--schedule", type=click.Choice(["constant", "step", "cosine"]), default=DEFAULTS["schedule"],
              show_default=True, help="Learning-rate schedule over the epochs.")
@click.option("--augment/--no-augment", default=True, show_default=True,
              help="Random shifts and rotations of the training digits each epoch.")
@click.option("--max-shift", type=float, default=1.5, show_default=True, callback=_non_negative("--max-shift"),
              help="Augmentation: largest shift in pixels.")
@click.option("--max-rotation", type=float, default=8.0, show_default=True, callback=_non_negative("--max-rotation"),
              help="Augmentation: largest rotation in degrees.")
@click.option("--hidden-activation", type=click.Choice(["sigmoid", "relu"]), default=DEFAULTS["hidden_activation"],
              show_default=True, help="Hidden units of a fresh network (ignored with --init).")
@click.option("--output", "output_activation", type=click.Choice(["softmax", "sigmoid"]), default=DEFAULTS["output"],
              show_default=True, help="Output units of a fresh network (ignored with --init).")
@click.option("--sizes", default="784,16,16,10", show_default=True, metavar="N,N,...",
              help="Layer sizes of a fresh network (ignored with --init).")
@click.option("--seed", type=int, default=DEFAULTS["seed"], show_default=True, callback=_non_negative("--seed"))
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default=DEFAULTS["dtype"], show_default=True)
@click.option("--init", "init_path", type=click.Path(dir_okay=False), default=None, metavar="NET.npz",
              help="Start from this network (e.g. a hand-built one); its layers and unit names are kept.")
@click.option("--freeze", multiple=True, metavar="LAYER",
              help="Keep a layer fixed (name or alias: edges, hidden1, ...); repeat for more.")
@click.option("--readout-only", is_flag=True, help="Freeze every hidden layer: train only the output layer.")
@click.option("--limit", type=int, default=None, hidden=True, callback=_positive_int("--limit"),
              help="Train on the first N training digits only (for quick checks).")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Where to save the trained network.")
@json_option
def train(data, split, epochs, batch_size, optimizer, loss, lr, momentum, weight_decay, schedule, augment, max_shift,
          max_rotation, hidden_activation, output_activation, sizes, seed, dtype, init_path, freeze, readout_only,
          limit, out, as_json):
    """Train a network by gradient descent and save it; the defaults give the accurate twin.

    The default recipe (cross-entropy on a softmax output, Adam, weight decay, cosine schedule,
    light augmentation, 60 epochs of batch 32) trains the lesson's 784-16-16-10 sigmoid network.
    The lesson's plain recipe is: --loss quadratic --output sigmoid --optimizer sgd --momentum 0
    --lr 3 --batch-size 10 --epochs 30 --weight-decay 0 --schedule constant --no-augment.
    Training digits: the bundled sample (4,000, or all 5,000 with a --data folder lacking a train
    split); the test split is measured after every epoch. Ctrl-C stops and saves the best network
    so far.

    \b
    Example:
        handnet train -o twin.npz
        handnet train --data ../shared/mnist --split dev -o twin.npz
        handnet train --init demo/hand.npz --freeze edges --epochs 20 -o tuned.npz
    """
    import numpy as np

    from handnet.data import mnist as datalib
    from handnet.errors import HandnetError
    from handnet.nn.network import Network
    from handnet.nn.train import TrainConfig, resolve_freeze
    from handnet.nn.train import train as run_training

    try:
        size_list = tuple(int(s) for s in sizes.split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated whole numbers, got {sizes!r}", param_hint="--sizes")
    try:
        config = TrainConfig(
            sizes=size_list, hidden_activation=hidden_activation, output=output_activation, loss=loss,
            optimizer=optimizer, lr=lr, momentum=momentum, batch_size=batch_size, epochs=epochs,
            weight_decay=weight_decay, schedule=schedule, augment=(max_shift, max_rotation) if augment else False,
            seed=seed, dtype=dtype,
        )
    except HandnetError as e:
        # name the option, not the dataclass field
        field = str(e).split(":")[0].removeprefix("TrainConfig.").replace("_", "-")
        raise click.BadParameter(str(e).split(": ", 1)[1], param_hint=f"--{field}") from None

    init = Network.load(init_path) if init_path else None
    splits = datalib.load_splits(data, split)
    train_set = splits.train if limit is None else splits.train.subset(np.arange(min(limit, len(splits.train))))
    description = splits.description if limit is None else f"{splits.description} (first {len(train_set)} training digits)"
    frozen = list(freeze) + (["hidden"] if readout_only else [])
    if init is not None:
        resolve_freeze(init, frozen)  # fail on a bad layer name before any work
    note(f"data: {description}")

    with progress(epochs, f"training ({epochs} epochs)") as bar:
        result = run_training(
            train_set.X, train_set.y, config, init=init, freeze=frozen, X_test=splits.test.X, y_test=splits.test.y,
            progress=lambda record: bar.update(1, record), data=description,
        )
    network = result.network
    path = network.save(out)
    final = result.history[result.best_epoch - 1] if result.best_epoch else result.final
    # the saved network measured on both sets (the history's train figures are per mini-batch)
    test_accuracy = network.accuracy(splits.test.X, splits.test.y)
    train_accuracy = network.accuracy(train_set.X, train_set.y)
    if result.interrupted:
        note(
            f"interrupted after {len(result.history)} of {epochs} epochs; saved the best network so far "
            f"(epoch {result.best_epoch})" if result.best_epoch else
            "interrupted before the first epoch finished; saved the starting network"
        )
    summary = {
        "path": str(path),
        "test_accuracy": test_accuracy,
        "train_accuracy": train_accuracy,
        "loss": final.get("loss"),
        "epochs_completed": len(result.history),
        "interrupted": result.interrupted,
        "best_epoch": result.best_epoch,
        "data": description,
        "settings": network.metadata["provenance"]["config"],
        "freeze": network.metadata["provenance"]["freeze"],
        "init": init_path,
        "history": result.history,
    }
    if as_json:
        print_json(summary)
        return
    shape = "-".join(map(str, network.sizes))
    trained = (
        f", train accuracy {train_accuracy:.2%}, {len(result.history)} epochs in "
        f"{sum(r['seconds'] for r in result.history):.1f} s"
        if final else ", no epoch completed"
    )
    click.echo(f"trained {shape} network: test accuracy {test_accuracy:.2%} on {splits.test.describe()}{trained}")
    click.echo(f"saved {path}")


commands = [train]
