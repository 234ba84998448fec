"""Training runs kept on disk by what made them, so a study repeated on the same digits trains nothing.

A training run is a pure function of its inputs (the digits, the labels, the recipe with its seed,
the starting network, the frozen layers, the output units and labels of the network it is a twin of)
and of the trainer's code. ``trained(make, ...)`` names a run by a SHA-256 of all of them: the inputs' bytes,
every file of ``handnet/nn`` and ``handnet/data/augment.py``, and the NumPy version. The first time
it calls ``make()`` and keeps the network in ``$HANDNET_CACHE/runs/``; the next time (the report
after the demo, a second ``make demo``, a report with another palette) it loads the very same
network, weights and metadata (its history included), bit for bit. Anything else (another seed,
other digits, an edit to the trainer) is another name, so it is trained afresh. A missing, damaged
or unwritable cache only costs the training time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from handnet.kept import code_digest, prune_oldest
from handnet.nn.network import Network

RUNS_KEPT = 64  # networks kept (about 0.1 MB each for 784-16-16-10); the least recently used go first


@functools.lru_cache(maxsize=1)
def _trainer_digest() -> bytes:
    """The trainer's code: every module of ``handnet.nn`` and the augmentation, and NumPy's version."""
    import handnet.data
    import handnet.nn

    files = sorted(Path(handnet.nn.__file__).parent.glob("*.py")) + [Path(handnet.data.__file__).parent / "augment.py"]
    return code_digest(files, np.__version__)


def _start_bytes(net: Network | None) -> bytes:
    """What training reads of a starting network: its layers (names, activations, units, weights,
    biases) and its metadata but its history (whose timings differ run to run; the trainer drops it)."""
    if net is None:
        return b"none"
    metadata = {k: v for k, v in net.metadata.items() if k != "history"}
    digest = hashlib.sha256(json.dumps([list(net.input_shape), metadata], sort_keys=True, default=str).encode())
    for layer in net.layers:
        weights, biases = np.ascontiguousarray(layer.weights), np.ascontiguousarray(layer.biases)
        digest.update(json.dumps([layer.name, layer.activation, list(layer.units), str(weights.dtype),
                                  weights.shape, str(biases.dtype)]).encode())
        digest.update(weights.tobytes())
        digest.update(biases.tobytes())
    return digest.digest()


def _twin_bytes(net: Network | None) -> bytes:
    """What training reads of the network it makes a twin of: its output units and their labels."""
    if net is None:
        return b"none"
    return json.dumps([list(net.layers[-1].units), net.metadata.get("labels")], sort_keys=True, default=str).encode()


def run_key(kind: str, X, y, config, init=None, freeze=(), twin_of=None, data: str | None = None) -> str:
    """The digest naming one training run (see the module docstring); ``data``: the description of
    the digits the trainer writes into the provenance."""
    X, y = np.ascontiguousarray(X), np.ascontiguousarray(y)
    digest = hashlib.sha256(_trainer_digest())
    digest.update(json.dumps([kind, str(X.dtype), X.shape, str(y.dtype), y.shape, repr(config), list(freeze),
                              data]).encode())
    digest.update(X.tobytes())
    digest.update(y.tobytes())
    digest.update(_start_bytes(init))
    digest.update(b"|" + _twin_bytes(twin_of))
    return digest.hexdigest()


def runs_dir() -> Path:
    """Where trained networks are kept: ``runs/`` in handnet's cache folder (``HANDNET_CACHE``)."""
    from handnet.data.mnist import cache_dir

    return cache_dir() / "runs"


def trained(make, kind: str, X, y, config, init=None, freeze=(), twin_of=None, data: str | None = None) -> Network:
    """``make()`` (a training run returning a Network, from exactly the arguments given here), or
    the network it returned before for the same arguments and trainer code."""
    path = runs_dir() / f"{kind}-{run_key(kind, X, y, config, init, freeze, twin_of, data)}.npz"
    if path.is_file():
        try:
            net = Network.load(path)
            os.utime(path)  # recently used: kept longest
            return net
        except Exception:  # noqa: BLE001  (a damaged entry is trained again and replaced)
            pass
    net = make()
    try:
        net.save(path)
    except (OSError, ValueError):
        return net  # an unwritable cache folder, or a network that cannot be saved, only costs time
    prune_oldest(path.parent, "*.npz", RUNS_KEPT)
    return net
