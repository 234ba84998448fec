"""``handnet train``: the gradient-trained twin, over ``handnet.nn.train``."""

import click

from handnet.cli.common import FiniteFloat, check_output, data_inputs, data_options, digits_option, json_option, note, print_json, progress

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
@click.option("--lr", type=FiniteFloat(0, min_open=True), default=DEFAULTS["lr"], show_default=True,
              help="Learning rate (the peak rate for the step and cosine schedules).")
@click.option("--momentum", type=FiniteFloat(0, 0.999999), default=DEFAULTS["momentum"], show_default=True,
              help="SGD momentum (0 = plain SGD); unused by Adam.")
@click.option("--weight-decay", type=FiniteFloat(0), default=DEFAULTS["weight_decay"], show_default=True,
              help="L2 penalty: adds weight_decay/2 * sum(w^2) to the loss.")
@click.option("--schedule", type=click.Choice(["constant", "step", "cosine"]), default=DEFAULTS["schedule"],
              show_default=True, help="Learning-rate schedule over the epochs.")
@click.option("--augment/--no-augment", default=True, show_default=True,
              help="Random shifts and rotations of the training digits each epoch.")
@click.option("--max-shift", type=FiniteFloat(0, 28), default=1.5, show_default=True,
              help="Augmentation: largest shift in pixels.")
@click.option("--max-rotation", type=FiniteFloat(0, 180), default=8.0, show_default=True,
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
@click.option("--validation", type=click.FloatRange(0, 0.5), default=0.1, show_default=True,
              help="Share of the training digits held out (seed 0) to choose the best network on Ctrl-C; "
                   "0 = choose by training loss. Never the test split.")
@click.option("--shuffle-labels", is_flag=True,
              help="Shuffle the training labels (seed --seed): the memorization experiment; test accuracy falls to guessing.")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Where to save the trained network.")
@digits_option
@json_option
def train(data, split, epochs, batch_size, optimizer, loss, lr, momentum, weight_decay, schedule, augment, max_shift,
          max_rotation, hidden_activation, output_activation, sizes, seed, dtype, init_path, freeze, readout_only,
          limit, validation, shuffle_labels, out, digits, as_json):
    """Train a network by gradient descent and save it; the defaults give the accurate twin.

    The default recipe (cross-entropy on a softmax output, Adam, weight decay, cosine schedule,
    light augmentation, 60 epochs of batch 32) trains the lesson's 784-16-16-10 sigmoid network.
    The lesson's plain recipe is: --loss quadratic --output sigmoid --optimizer sgd --momentum 0
    --lr 3 --batch-size 10 --epochs 30 --weight-decay 0 --schedule constant --no-augment.
    Training digits: the bundled sample (4,000, or all 5,000 with a --data folder lacking a train
    split), less a validation share (--validation) held out to choose the best network so far; the
    test split is measured after every epoch and never chooses anything. Ctrl-C stops and saves the
    best network so far, by validation accuracy. Labels train the output unit named after them, wherever it sits (--init: a spec's
    `label = N` too); only digits the network answers are used, and --digits keeps fewer (a fresh
    network then gets one output per chosen digit).

    \b
    Example:
        handnet train -o twin.npz
        handnet train --data ../shared/mnist --split dev -o twin.npz
        handnet train --init demo/hand.npz --freeze edges --epochs 20 -o tuned.npz
        handnet train --digits 0,1,7 -o three.npz
        handnet train --shuffle-labels --epochs 300 -o memorized.npz
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

    from handnet.nn.labels import outputs_only, readout, scope
    from handnet.nn.train import check_training_size

    check_output(out, [init_path, *data_inputs(data)])
    if init_path is None:
        check_training_size(config.sizes, batch_size, dtype)  # refuse an impossible request before any work
    init = Network.load(init_path) if init_path else None
    output_units = None
    if init is not None:
        scored = readout(init, digits)  # the labels its outputs answer, by name
    else:
        if digits is not None and len(digits) != size_list[-1]:
            if size_list[-1] != 10 or sizes != "784,16,16,10":
                raise click.BadParameter(f"{len(digits)} digits need {len(digits)} output units, but --sizes ends in "
                                         f"{size_list[-1]}", param_hint="--digits")
            size_list = size_list[:-1] + (len(digits),)
            config = config.replace(sizes=size_list)
        output_units = tuple(str(d) for d in digits) if digits is not None else None
        names = output_units or tuple(str(k) for k in range(size_list[-1]))
        scored = readout(outputs_only(names), None, digits_only=False)
    splits = datalib.load_splits(data, split)
    train_set, description = splits.train, splits.description
    train_keep, train_scope = scope(scored, train_set.y)  # only digits the network answers
    test_keep = scored.covers(splits.test.y)
    if not train_scope.n:
        raise click.ClickException(f"no training digit has a label the network answers ({', '.join(map(str, scored.digits))})")
    if train_scope.n < train_scope.n_total:
        train_set = train_set.subset(np.flatnonzero(train_keep))
        description += f"; only labels {', '.join(map(str, scored.digits))}: {train_scope.n:,} training digits"
    if limit is not None:
        train_set = train_set.subset(np.arange(min(limit, len(train_set))))
        description += f" (first {len(train_set)} training digits)"
    test = splits.test if test_keep.all() else splits.test.subset(np.flatnonzero(test_keep))
    if not len(test):
        raise click.ClickException(f"no test digit has a label the network answers ({', '.join(map(str, scored.digits))})")
    if shuffle_labels:
        from handnet.data.mnist import Dataset
        from handnet.nn.train import shuffled_labels

        labels = shuffled_labels(train_set.labels, seed)
        own = float(np.mean(labels == train_set.labels))
        train_set = Dataset(train_set.name, train_set.images, labels, train_set.source)
        description += f"; training labels shuffled (seed {seed})"
        note(f"labels shuffled (seed {seed}): {own:.0%} of the training digits keep their own label, so only "
             "memorization can fit them; the test digits keep theirs (guessing gets about 10%)")
    val_set = None
    if validation > 0 and len(train_set) >= 2:
        order = np.random.default_rng(0).permutation(len(train_set))
        k = min(len(train_set) - 1, max(1, round(validation * len(train_set))))
        val_set, n_all = train_set.subset(np.sort(order[:k])), len(train_set)
        train_set = train_set.subset(np.sort(order[k:]))
        description += f"; {len(val_set):,} of them held out for validation (seed 0)"
        note(f"validation: {len(val_set):,} of the {n_all:,} training digits (seed 0), held out to choose the best "
             f"network on Ctrl-C; trained on the other {len(train_set):,}; the test split chooses nothing")
    frozen = list(freeze) + (["hidden"] if readout_only else [])
    if init is not None:
        resolve_freeze(init, frozen)  # fail on a bad layer name before any work
    note(f"data: {description}")

    with progress(epochs, f"training ({epochs} epochs)") as bar:
        result = run_training(
            train_set.X, train_set.y, config, init=init, freeze=frozen, X_test=test.X, y_test=test.y,
            X_val=None if val_set is None else val_set.X, y_val=None if val_set is None else val_set.y,
            progress=lambda record: bar.update(1, record), data=description, output_units=output_units,
        )
    network = result.network
    path = network.save(out)
    summary = result.summary(train_set, test, description, path, init_path, scored)
    summary["n_validation"] = 0 if val_set is None else len(val_set)
    test_accuracy, train_accuracy = summary["test_accuracy"], summary["train_accuracy"]
    if result.interrupted:
        note(
            f"interrupted after {len(result.history)} of {epochs} epochs; saved the best network so far "
            f"(epoch {result.best_epoch}, by {result.chosen_by}, never the test split)" if result.best_epoch else
            "interrupted before the first epoch finished; saved the starting network"
        )
    if as_json:
        print_json(summary)
        return
    shape = "-".join(map(str, network.sizes))
    trained = (
        f", train accuracy {train_accuracy:.2%}, {len(result.history)} epochs in "
        f"{sum(r['seconds'] for r in result.history):.1f} s"
        if result.history else ", no epoch completed"
    )
    labels = "" if scored.digits == tuple(range(10)) else f" (labels {', '.join(map(str, scored.digits))} only)"
    click.echo(f"trained {shape} network: test accuracy {test_accuracy:.2%} on {test.describe()}{labels}{trained}")
    click.echo(f"saved {path}")


commands = [train]
