"""Networks trained elsewhere, turned into handnet Networks so their features can be compared.

* ``from_sklearn(clf)``: a fitted scikit-learn ``MLPClassifier`` (logistic or relu hidden layers).
* ``load_torch(path)``: a PyTorch ``nn.Sequential`` of ``Linear`` layers with ``Sigmoid`` / ``ReLU``
  between them, saved as a state_dict, as a dict ``{"state_dict": ..., "activations": [...]}``, or
  as a TorchScript module. Files are read with ``torch.load(weights_only=True)`` (no arbitrary
  pickles) or ``torch.jit.load``. PyTorch is optional: without it this raises a one-line error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handnet.errors import HandnetError, NetworkFileError
from handnet.nn.network import MAX_ARRAY_BYTES, MAX_METADATA_BYTES, Layer, Network, default_layer_names

SKLEARN_ACTIVATIONS = {"logistic": "sigmoid", "relu": "relu"}
TORCH_ACTIVATIONS = {"Sigmoid": "sigmoid", "ReLU": "relu", "Softmax": "softmax"}
# the most a PyTorch file may hold (on disk, and unpacked from its zip): what a handnet network file may
MAX_TORCH_BYTES = MAX_ARRAY_BYTES + MAX_METADATA_BYTES


def _layers(weights, biases, activations, units_out=None) -> list[Layer]:
    names = default_layer_names(len(weights), weights[-1].shape[0])
    layers = []
    for i, (w, b, act) in enumerate(zip(weights, biases, activations)):
        units = units_out if (i == len(weights) - 1 and units_out is not None) else ()
        layers.append(Layer(names[i], np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64), act, units))
    return layers


def _check_finite(source, weights, biases, error=HandnetError) -> None:
    """Refuse NaN or infinite weights at the door: a network holding them is never written."""
    for i, (w, b) in enumerate(zip(weights, biases)):
        for what, arr in (("weights", w), ("biases", b)):
            arr = np.asarray(arr, dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
                raise error(f"{source}: layer {i} {what} hold {bad} NaN or infinite value{'s' * (bad != 1)}; "
                            "expected finite numbers (was the model trained to divergence?)")


def _input_shape(n_in: int) -> tuple[int, int]:
    side = int(round(np.sqrt(n_in)))
    return (side, side) if side * side == n_in else (1, n_in)


def from_sklearn(clf, pixel_max: float = 1.0) -> Network:
    """A Network computing the same ``predict_proba`` as a fitted ``sklearn.neural_network.MLPClassifier``.

    ``pixel_max`` is the brightest pixel value the classifier was trained on: 1.0 for images in
    [0, 1] (handnet's convention), 255.0 for raw bytes; the first layer's weights are scaled so the
    Network reads images in [0, 1]. A two-class classifier (one logistic output) becomes a two-unit
    softmax, since softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)]. Output units are named after
    ``clf.classes_``.
    """
    what = type(clf).__name__
    if not hasattr(clf, "coefs_") or not hasattr(clf, "intercepts_"):
        raise HandnetError(f"{what}: not a fitted MLPClassifier (no coefs_/intercepts_; call fit first)")
    if clf.activation not in SKLEARN_ACTIVATIONS:
        raise HandnetError(
            f"{what}: activation {clf.activation!r} is not supported; handnet reads 'logistic' or 'relu' hidden layers"
        )
    weights = [np.asarray(w, dtype=np.float64).T for w in clf.coefs_]  # sklearn stores (in, out)
    biases = [np.asarray(b, dtype=np.float64) for b in clf.intercepts_]
    weights[0] = weights[0] * float(pixel_max)
    out = getattr(clf, "out_activation_", "softmax")
    if out == "logistic" and weights[-1].shape[0] == 1:
        weights[-1] = np.vstack([np.zeros_like(weights[-1]), weights[-1]])
        biases[-1] = np.concatenate([[0.0], biases[-1]])
    elif out != "softmax":
        raise HandnetError(f"{what}: output activation {out!r} (multi-label?) is not supported; expected softmax")
    _check_finite(what, weights, biases)
    classes = [str(c) for c in getattr(clf, "classes_", range(weights[-1].shape[0]))]
    hidden = SKLEARN_ACTIVATIONS[clf.activation]
    activations = [hidden] * (len(weights) - 1) + ["softmax"]
    layers = _layers(weights, biases, activations, units_out=classes)
    provenance = {
        "kind": "sklearn",
        "class": f"{type(clf).__module__}.{what}",
        "activation": clf.activation,
        "pixel_max": float(pixel_max),
    }
    return Network(layers, _input_shape(weights[0].shape[1]), {"provenance": provenance})


def _torch():
    try:
        import torch
    except ImportError:
        raise HandnetError("importing PyTorch files needs PyTorch, which is not installed (pip install torch)") from None
    return torch


def _linear_state(path, state: dict) -> tuple[list, list]:
    """The (weight, bias) pairs of a Sequential's state_dict, in layer order."""
    for key, value in state.items():
        if not isinstance(key, str) or not hasattr(value, "detach"):
            raise NetworkFileError(f"{path}: state_dict entry {str(key)[:60]!r} holds a {type(value).__name__}, "
                                   "expected a tensor")
    weights = {k[: -len(".weight")]: v for k, v in state.items() if k.endswith(".weight")}
    biases = {k[: -len(".bias")]: v for k, v in state.items() if k.endswith(".bias")}
    if not weights:
        raise NetworkFileError(f"{path}: state_dict has no '<layer>.weight' entries; expected an nn.Sequential of Linear")

    def order(key):
        return [int(p) if p.isascii() and p.isdigit() else p for p in key.split(".")]

    ws, bs = [], []
    for key in sorted(weights, key=order):
        w = np.asarray(weights[key].detach().cpu().double().numpy())
        if w.ndim != 2:
            raise NetworkFileError(f"{path}: {key}.weight has shape {tuple(w.shape)}; expected a Linear layer's (out, in)")
        b = biases.get(key)
        ws.append(w)
        bs.append(np.zeros(w.shape[0]) if b is None else np.asarray(b.detach().cpu().double().numpy()))
    return ws, bs


def _check_chain(path, weights):
    for i in range(1, len(weights)):
        if weights[i].shape[1] != weights[i - 1].shape[0]:
            raise NetworkFileError(
                f"{path}: layer {i} takes {weights[i].shape[1]} inputs but layer {i - 1} gives {weights[i - 1].shape[0]}"
            )


def _from_scripted(path, module) -> Network:
    """A TorchScript nn.Sequential: read its Linear layers and the activation modules after them."""
    weights, biases, activations = [], [], []
    for name, child in module.named_children():
        kind = getattr(child, "original_name", type(child).__name__)
        if kind == "Linear":
            weights.append(child.weight.detach().double().numpy())
            bias = getattr(child, "bias", None)
            biases.append(np.zeros(weights[-1].shape[0]) if bias is None else bias.detach().double().numpy())
            activations.append(None)
        elif kind in TORCH_ACTIVATIONS and activations and activations[-1] is None:
            activations[-1] = TORCH_ACTIVATIONS[kind]
        elif kind in ("Flatten", "Identity", "Dropout"):
            continue
        else:
            raise NetworkFileError(
                f"{path}: module {name} is a {kind}; handnet reads Linear layers followed by Sigmoid, ReLU or Softmax"
            )
    if not weights:
        raise NetworkFileError(f"{path}: the TorchScript module has no Linear layers")
    missing = [i for i, a in enumerate(activations[:-1]) if a is None]
    if missing:
        raise NetworkFileError(f"{path}: Linear layer {missing[0]} has no Sigmoid or ReLU after it")
    if activations[-1] is None:
        # raw logits (as trained with CrossEntropyLoss): softmax keeps every prediction
        activations[-1] = "softmax"
    elif activations[-1] == "relu":
        raise NetworkFileError(f"{path}: the last Linear layer ends in ReLU; expected logits, Sigmoid or Softmax")
    return weights, biases, activations


def _check_torch_size(path: Path) -> None:
    """Refuse, before PyTorch reads a byte, a file larger than ``MAX_TORCH_BYTES`` on disk or once
    unpacked (a zip's members as their headers declare them: a small file can unpack to gigabytes)."""
    import zipfile

    limit = f"handnet reads network files of at most {MAX_TORCH_BYTES:,} bytes (see docs/limits.md)"
    size = path.stat().st_size
    if size > MAX_TORCH_BYTES:
        raise NetworkFileError(f"{path}: is {size:,} bytes; {limit}")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                unpacked = sum(info.file_size for info in z.infolist())
        except (zipfile.BadZipFile, OSError) as e:
            raise NetworkFileError(f"{path}: not a readable zip archive ({e})") from None
        if unpacked > MAX_TORCH_BYTES:
            raise NetworkFileError(f"{path}: unpacks to {unpacked:,} bytes; {limit}")


def load_torch(path, hidden_activation: str = "sigmoid", output_activation: str = "softmax") -> Network:
    """A Network from a PyTorch file holding an ``nn.Sequential`` of Linear + Sigmoid/ReLU layers.

    Accepted (see docs/compare.md):

    * ``torch.save(model.state_dict(), path)``: the weights; activations come from the arguments
      (``hidden_activation`` sigmoid|relu, ``output_activation`` softmax|sigmoid, softmax for logits);
    * ``torch.save({"state_dict": model.state_dict(), "activations": ["sigmoid", "sigmoid", "softmax"]}, path)``;
    * ``torch.jit.script(model).save(path)``: activations read from the module.

    A whole pickled module (``torch.save(model, path)``) is refused: loading it would run arbitrary code.
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkFileError(f"{path}: no such file")
    _check_torch_size(path)
    torch = _torch()
    if hidden_activation not in ("sigmoid", "relu"):
        raise HandnetError(f"hidden activation {hidden_activation!r} is not sigmoid or relu")
    if output_activation not in ("softmax", "sigmoid"):
        raise HandnetError(f"output activation {output_activation!r} is not softmax or sigmoid")
    import zipfile

    is_script = False
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            is_script = any(name.endswith("constants.pkl") or "/code/" in name for name in z.namelist())
    if is_script:
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # jit.load works; the notice is for authors
                module = torch.jit.load(str(path), map_location="cpu")
        except Exception as e:  # torch raises many kinds; any of them means "not readable"
            raise NetworkFileError(f"{path}: not a readable TorchScript module ({str(e).splitlines()[0]})") from None
        weights, biases, activations = _from_scripted(path, module)
        kind = "torchscript"
    else:
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise NetworkFileError(
                f"{path}: cannot be read with torch.load(weights_only=True) ({first[:160]}); "
                "save model.state_dict() or torch.jit.script(model) instead of the whole module"
            ) from None
        activations = None
        if isinstance(state, dict) and "state_dict" in state:
            activations = state.get("activations")
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise NetworkFileError(f"{path}: holds a {type(state).__name__}, expected a state_dict (dict of tensors)")
        weights, biases = _linear_state(path, state)
        if activations is None:
            activations = [hidden_activation] * (len(weights) - 1) + [output_activation]
        activations = [str(a).lower() for a in activations]
        if len(activations) != len(weights):
            raise NetworkFileError(f"{path}: {len(activations)} activations for {len(weights)} Linear layers")
        bad = [a for a in activations if a not in ("sigmoid", "relu", "softmax")]
        if bad:
            raise NetworkFileError(f"{path}: activation {bad[0]!r} is not sigmoid, relu or softmax")
        kind = "state_dict"
    _check_chain(path, weights)
    _check_finite(path, weights, biases, NetworkFileError)
    layers = _layers(weights, biases, activations)
    provenance = {"kind": "torch", "file": str(path), "format": kind}
    return Network(layers, _input_shape(weights[0].shape[1]), {"provenance": provenance})


def _deprecated_from_sklearn(cls, clf, pixel_max: float = 1.0) -> Network:
    """Deprecated: use ``handnet.nn.convert.from_sklearn`` (this alias goes away in handnet 0.3)."""
    import warnings

    warnings.warn("Network.from_sklearn is now handnet.nn.convert.from_sklearn; the alias goes away in handnet 0.3",
                  DeprecationWarning, stacklevel=2)
    return from_sklearn(clf, pixel_max)


# handnet 0.1's Network.from_sklearn, attached from here so that network.py need not import this module
Network.from_sklearn = classmethod(_deprecated_from_sklearn)
