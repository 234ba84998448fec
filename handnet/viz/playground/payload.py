"""What the playground page knows about a network, as JSON-ready dicts.

``network_payload(net, ...)`` gives every layer's weights and biases (exactly: float64, so the
page's forward pass can agree with ``Network.forward`` to rounding), unit names, what each unit
is (a spec's ``doc`` and rule, from the net's metadata), each unit's maximizing input and the
test digits that activate it most. Digits are kept once in a ``DigitPool`` that the page's
"load a test digit" button draws from too.

Arrays are encoded as ``{"dtype", "shape", "base64"}`` (little-endian bytes) for the page, or as
nested lists (``as_lists=True``) for ``/network.json``, which scripts read.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import numpy as np

from handnet.errors import HandnetError
from handnet.nn.network import Network

TOP_DIGITS = 5  # test digits shown per unit
STARTERS_PER_DIGIT = 3  # test digits the "load a test digit" button cycles through, per label


def encode_array(array, dtype: str = "float64", as_lists: bool = False) -> dict | list:
    """An array for the page: ``{"dtype", "shape", "base64"}`` of little-endian bytes, or nested lists."""
    array = np.asarray(array)
    if as_lists:
        return array.astype(np.float64).tolist() if dtype.startswith("float") else array.tolist()
    codes = {"float64": "<f8", "float32": "<f4", "uint8": "u1"}
    data = np.ascontiguousarray(array, dtype=codes[dtype]).tobytes()
    return {"dtype": dtype, "shape": list(array.shape), "base64": base64.b64encode(data).decode("ascii")}


def as_pixels(images) -> np.ndarray:
    """Images in [0, 1] as uint8 0-255 (for pictures only; the network never sees these)."""
    return np.round(np.clip(np.asarray(images, dtype=float), 0, 1) * 255).astype(np.uint8)


class DigitPool:
    """Test digits the page shows, each stored once: ``add(index)`` returns its place in the pool.

    ``X`` is ``(n, pixels)`` in [0, 1] and ``y`` ``(n,)`` labels; ``name`` says where they are from.
    """

    def __init__(self, X, y, name: str):
        self.X = np.asarray(X)
        self.y = np.asarray(y)
        self.name = name
        self.places: dict[int, int] = {}

    def add(self, index: int) -> int:
        return self.places.setdefault(int(index), len(self.places))

    def starters(self, per_digit: int = STARTERS_PER_DIGIT) -> list[int]:
        """Places of the first ``per_digit`` test digits of each label, interleaved 0, 1, ..., 9, 0, ..."""
        picks = []
        for round_ in range(per_digit):
            for label in np.unique(self.y):
                found = np.flatnonzero(self.y == label)
                if round_ < len(found):
                    picks.append(self.add(found[round_]))
        return picks

    def to_dict(self, as_lists: bool = False) -> dict:
        order = sorted(self.places, key=self.places.get)
        images = self.X[order] if order else np.zeros((0, self.X.shape[1] if self.X.ndim == 2 else 784))
        return {
            "name": self.name,
            "indices": order,
            "labels": [int(v) for v in self.y[order]] if order else [],
            "shape": [len(order), int(images.shape[1])],
            # the exact values the network reads: a test digit is uint8 / 255
            "images": encode_array(as_pixels(images), "uint8", as_lists),
        }


def file_sha256(path) -> str | None:
    """The SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def check_drawable(net: Network, source: str) -> None:
    """The page draws digits on a grid: refuse a network whose input is not a picture."""
    rows, cols = net.input_shape
    if rows < 4 or cols < 4 or rows * cols != net.sizes[0]:
        raise HandnetError(f"{source}: the playground needs a network that reads an image; this one reads "
                           f"{net.sizes[0]} inputs shaped {rows}x{cols}")


def unit_notes(net: Network) -> dict[str, dict]:
    """Per unit ``layer:unit``, what the net's metadata says about it: ``doc``, ``rule``, ``reads``, ``threshold``."""
    notes = {}
    for ref, info in (net.metadata.get("units") or {}).items():
        if isinstance(info, dict):
            kept = {k: info[k] for k in ("doc", "rule", "threshold") if info.get(k)}
            if isinstance(info.get("reads"), dict):
                kept["reads"] = {str(k): float(v) for k, v in info["reads"].items()}
            if "strokes" in info:
                kept["rule"] = kept.get("rule") or "a stroke detector: " + ", ".join(
                    next(iter(s)) for s in info["strokes"] if isinstance(s, dict)) + " (see handnet explain)"
            notes[str(ref)] = kept
    return notes


def top_digits(net: Network, pool: DigitPool, k: int = TOP_DIGITS) -> list[dict]:
    """Per layer, the ``k`` pool digits that activate each unit most: ``{"places": (units, k), "values": (units, k)}``."""
    X = net.as_inputs(pool.X)
    acts = net.forward(X)
    out = []
    for a in acts[1:]:
        order = np.argsort(-a, axis=0, kind="stable")[:k].T  # (units, k)
        places = [[pool.add(i) for i in row] for row in order]
        values = np.take_along_axis(a.T, order, axis=1)
        out.append({"places": places, "values": values.round(4).tolist()})
    return out


def output_answers(net: Network) -> list:
    """The digit each output unit answers, in layer order (``None`` where it answers none): by its
    name (``7``) or by the spec's ``label = N`` (a unit ``corner`` with ``label = 7`` answers 7),
    as ``handnet predict`` and every score read them."""
    from handnet.nn.labels import output_labels

    try:
        return list(output_labels(net))
    except HandnetError:  # a broken label map in the metadata: the page shows the unit names alone
        return [None] * net.layers[-1].n_out


def network_payload(
    net: Network,
    *,
    label: str,
    source: str,
    sha256: str | None,
    pool: DigitPool | None = None,
    maximizers=None,
    as_lists: bool = False,
) -> dict:
    """Everything the page shows of ``net`` (see the module docstring).

    ``maximizers`` are ``handnet.inside.maximize.Maximizer`` results in ``net.units()`` order, or
    None (the page then says they are still being computed).
    """
    check_drawable(net, source)
    layers = []
    for layer in net.layers:
        layers.append({
            "name": layer.name,
            "activation": layer.activation,
            "units": list(layer.units),
            "weights": encode_array(layer.weights, "float64", as_lists),
            "biases": encode_array(layer.biases, "float64", as_lists),
        })
    payload = {
        "label": label,
        "source": source,
        "sha256": sha256,
        "sizes": net.sizes,
        "input_shape": list(net.input_shape),
        "n_parameters": net.n_parameters,
        "provenance": net.metadata.get("provenance", {}),
        "layers": layers,
        "notes": unit_notes(net),
        "answers": output_answers(net),
        "maximizers": None,
        "top_digits": None,
    }
    if maximizers is not None:
        per_layer = [[] for _ in net.layers]
        for ref, result in zip(net.units(), maximizers):
            per_layer[ref.layer].append(result)
        payload["maximizers"] = [
            {"images": encode_array(as_pixels([r.image for r in results]), "uint8", as_lists),
             "activations": [round(float(r.activation), 4) for r in results],
             "methods": [r.method for r in results]}
            for results in per_layer
        ]
    if pool is not None and len(pool.X) and pool.X.shape[1] == net.sizes[0]:
        payload["top_digits"] = top_digits(net, pool)
    return payload


def compute_maximizers(net: Network, progress=None):
    """Every unit's maximizing input (``handnet.inside.maximize.maximize_units``, seed 0, 1 restart)."""
    from handnet.inside.maximize import maximize_units

    return maximize_units(net, progress=progress, restarts=1, seed=0)
