"""The Network: layers of weights ``(out, in)``, biases, activations and unit names.

Every neuron has one name in one grammar, ``layer:unit``: ``edges:upper_bar``, ``digits:9``, or
``hidden1:3`` for a trained net whose units have no names. The unit part may also be an index,
and the layer part may be a layer's name or its position alias (``hidden1``, ``hidden2``, ...,
``output``), so the same reference works on a hand-built and a trained net of the same shape.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handnet.views import NotebookView
from handnet.atomic import atomic_path
from handnet.errors import HandnetError, NetworkFileError, UnitError
from handnet.nn.activations import ACTIVATIONS
from handnet.nn.forward import forward

FORMAT = "handnet-network"
FORMAT_VERSION = 1
# the grammar of layer and unit names (the spec validator uses it too)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Layer:
    """One layer: ``weights`` (out, in), ``biases`` (out,), an activation, and one name per unit."""

    name: str
    weights: np.ndarray
    biases: np.ndarray
    activation: str = "sigmoid"
    units: tuple[str, ...] = ()

    def __post_init__(self):
        w = np.asarray(self.weights)
        b = np.asarray(self.biases)
        if w.ndim != 2:
            raise HandnetError(f"layer {self.name}: weights must be 2-D (out, in), got shape {w.shape}")
        if b.shape != (w.shape[0],):
            raise HandnetError(f"layer {self.name}: biases must have shape ({w.shape[0]},), got {b.shape}")
        if self.activation not in ACTIVATIONS:
            raise HandnetError(
                f"layer {self.name}: activation {self.activation!r} is not one of {', '.join(ACTIVATIONS)}"
            )
        if not NAME_PATTERN.match(self.name) or self.name.isdigit():
            raise HandnetError(f"layer name {self.name!r} must be letters, digits and _ (not a bare number)")
        units = tuple(str(u) for u in self.units) if self.units else tuple(str(i) for i in range(w.shape[0]))
        if len(units) != w.shape[0]:
            raise HandnetError(f"layer {self.name}: {len(units)} unit names for {w.shape[0]} units")
        for u in units:
            if not NAME_PATTERN.match(u):
                raise HandnetError(f"layer {self.name}: unit name {u!r} must be letters, digits, _, . and -")
        dupes = sorted({u for u in units if units.count(u) > 1})
        if dupes:
            raise HandnetError(f"layer {self.name}: duplicate unit names {', '.join(dupes)}")
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "biases", b)
        object.__setattr__(self, "units", units)

    @property
    def n_in(self) -> int:
        return self.weights.shape[1]

    @property
    def n_out(self) -> int:
        return self.weights.shape[0]

    def replace(self, **changes) -> "Layer":
        """A copy with some fields changed (e.g. ``weights=...``)."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        return f"<Layer {self.name}: {self.n_out} {self.activation} units over {self.n_in} inputs: {_names(self.units)}>"


def _names(units, shown: int = 4) -> str:
    """Unit names, the first few of a long list (``top_slope, upper_bar, ... (16 in all)``), or
    ``0-15`` for units named by their index."""
    units = list(units)
    if len(units) > 2 and units == [str(i) for i in range(len(units))]:
        return f"0-{len(units) - 1}"
    return ", ".join(units[:shown]) + (f", ... ({len(units)} in all)" if len(units) > shown else "")


@dataclass(frozen=True)
class UnitRef:
    """A resolved unit reference: ``layer`` indexes ``Network.layers``, ``index`` the unit in it."""

    layer: int
    index: int
    layer_name: str
    unit_name: str

    @property
    def activation_index(self) -> int:
        """Index of this unit's layer in the list that ``Network.forward`` returns (0 is the input)."""
        return self.layer + 1

    def __str__(self) -> str:
        return f"{self.layer_name}:{self.unit_name}"


@dataclass
class Network(NotebookView):
    """A feed-forward network of sigmoid/relu/softmax layers over 28x28 images.

    ``metadata`` holds provenance (spec file and SHA-256, or training settings and seed) and
    anything else worth keeping with the weights; it is saved as JSON.
    """

    layers: list[Layer]
    input_shape: tuple[int, int] = (28, 28)
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        self.layers = list(self.layers)
        self.input_shape = tuple(int(s) for s in self.input_shape)
        if not self.layers:
            raise HandnetError("a network needs at least one layer")
        n_in = int(np.prod(self.input_shape))
        for i, layer in enumerate(self.layers):
            if layer.n_in != n_in:
                raise HandnetError(
                    f"layer {layer.name}: expects {layer.n_in} inputs but the layer below gives {n_in}"
                )
            n_in = layer.n_out
        names = [layer.name for layer in self.layers]
        for i, name in enumerate(names):
            if names.count(name) > 1:
                raise HandnetError(f"duplicate layer name {name!r}")
            alias_of = {a: j for j in range(len(names)) for a in self._aliases(j)}
            if name in alias_of and alias_of[name] != i:
                raise HandnetError(f"layer name {name!r} is the position alias of another layer")

    # ---- shape and names -------------------------------------------------------------------
    @property
    def sizes(self) -> list[int]:
        """Layer sizes from input to output, e.g. ``[784, 16, 16, 10]``."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def n_parameters(self) -> int:
        return sum(layer.weights.size + layer.biases.size for layer in self.layers)

    def _aliases(self, i: int) -> list[str]:
        if i == len(self.layers) - 1:
            return ["output"]
        return [f"hidden{i + 1}"]

    def layer_index(self, name: str) -> int:
        """The index in ``layers`` of a layer given by name or position alias."""
        for i, layer in enumerate(self.layers):
            if name == layer.name or name in self._aliases(i):
                return i
        raise UnitError(f"unknown layer {name!r}; layers are {self._layer_list()}")

    def _layer_list(self) -> str:
        return ", ".join(
            layer.name + (f" ({'/'.join(self._aliases(i))})" if layer.name not in self._aliases(i) else "")
            for i, layer in enumerate(self.layers)
        )

    def unit(self, ref: str | UnitRef) -> UnitRef:
        """Resolve ``layer:unit`` (unit by name, else by index) to a UnitRef."""
        if isinstance(ref, UnitRef):
            return ref
        text = str(ref).strip()
        if text.count(":") != 1:
            raise UnitError(f"unit reference {text!r} must look like layer:unit, e.g. {self.example_ref()}")
        layer_part, unit_part = (p.strip() for p in text.split(":"))
        li = self.layer_index(layer_part)
        layer = self.layers[li]
        if unit_part in layer.units:
            idx = layer.units.index(unit_part)
        elif unit_part.isdigit() and int(unit_part) < layer.n_out:
            idx = int(unit_part)
        else:
            shown = ", ".join(layer.units[:40]) + (", ..." if layer.n_out > 40 else "")
            raise UnitError(
                f"unit reference {text!r}: layer {layer.name} has no unit {unit_part!r}; "
                f"its units are {shown} (or an index 0-{layer.n_out - 1})"
            )
        return UnitRef(li, idx, layer.name, layer.units[idx])

    def units(self, layer: str | int | None = None) -> list[UnitRef]:
        """Every unit of one layer (by name, alias or index), or of all layers when ``layer`` is None."""
        if layer is None:
            chosen = range(len(self.layers))
        else:
            chosen = [layer if isinstance(layer, int) else self.layer_index(layer)]
        return [
            UnitRef(li, j, self.layers[li].name, u) for li in chosen for j, u in enumerate(self.layers[li].units)
        ]

    def example_ref(self) -> str:
        layer = self.layers[0]
        return f"{layer.name}:{layer.units[0]}"

    # ---- computing -------------------------------------------------------------------------
    def as_inputs(self, X) -> np.ndarray:
        """Inputs as ``(n, 784)`` floats in [0, 1]; uint8 images are scaled by 1/255."""
        X = np.asarray(X)
        n_in = self.layers[0].n_in
        if X.ndim == 1 or X.shape == self.input_shape:
            X = X.reshape(1, -1)
        X = X.reshape(X.shape[0], -1)
        if X.shape[1] != n_in:
            raise HandnetError(f"inputs have {X.shape[1]} values per image, the network expects {n_in}")
        dtype = np.result_type(self.layers[0].weights.dtype, np.float32)
        if np.issubdtype(X.dtype, np.integer):
            return X.astype(dtype) / 255.0
        return X.astype(dtype, copy=False)

    def forward(self, X, preactivations: bool = False):
        """Every layer's activations: ``[X, a1, ..., aL]``, each ``(n, layer size)``.

        With ``preactivations=True`` returns ``(activations, [z1, ..., zL])`` too.
        """
        acts, zs = forward(self.layers, self.as_inputs(X))
        return (acts, zs) if preactivations else acts

    def output(self, X) -> np.ndarray:
        """The output layer's activations ``(n, n_outputs)``."""
        return self.forward(X)[-1]

    def predict(self, X) -> np.ndarray:
        """The brightest output unit per image, ``(n,)`` int."""
        return np.argmax(self.output(X), axis=1)

    def accuracy(self, X, y) -> float:
        """Fraction of images whose prediction equals the label."""
        y = np.asarray(y)
        return float(np.mean(self.predict(X) == y)) if len(y) else float("nan")

    def replace_layer(self, i: int | str, layer: Layer) -> "Network":
        """A new Network with layer ``i`` replaced."""
        li = i if isinstance(i, int) else self.layer_index(i)
        layers = list(self.layers)
        layers[li] = layer
        return Network(layers, self.input_shape, dict(self.metadata))

    def copy(self) -> "Network":
        """A deep copy (weights and metadata)."""
        layers = [layer.replace(weights=layer.weights.copy(), biases=layer.biases.copy()) for layer in self.layers]
        return Network(layers, self.input_shape, json.loads(json.dumps(self.metadata)))

    def origin(self) -> str:
        """Where the network came from, in words, from its provenance: a spec, training, an import."""
        p = self.metadata.get("provenance") or {}
        kind = p.get("kind")
        if kind == "spec":
            fitted = f", fitted on {p['data']}" if p.get("data") else ""
            return f"compiled from the spec {p.get('spec')}{fitted}"
        if kind == "trained":
            config = p.get("config") or {}
            init = p.get("init") or {}
            start = (f", starting from {Network(self.layers, metadata={'provenance': init}).origin()}"
                     if init.get("kind") else "")
            on = f" on {p['data']}" if p.get("data") else ""
            return (f"trained by gradient descent: {p.get('epochs_completed')} epochs of {config.get('optimizer')}, "
                    f"seed {p.get('seed')}{on}{start}")
        if kind == "random":
            return f"random initial weights, seed {p.get('seed')}"
        if kind in ("sklearn", "torch"):
            source = p.get("file") or p.get("estimator") or p.get("class") or ""
            return f"imported from {kind}" + (f" ({source})" if source else "")
        return str(kind) if kind else "no provenance recorded"

    def format_text(self) -> str:
        """A short summary: shape, parameter count, one line per layer with its unit names, and where
        the network came from. It is also the network's ``repr``, so a plain Python prompt shows it."""
        lines = [f"Network {'-'.join(map(str, self.sizes))}, {self.n_parameters:,} parameters: {self.origin()}"]
        for i, layer in enumerate(self.layers):
            aliases = "/".join(a for a in self._aliases(i) if a != layer.name)
            lines.append(f"  {layer.name}{f' ({aliases})' if aliases else ''}: {layer.n_out} {layer.activation} units "
                         f"over {layer.n_in} inputs: {_names(layer.units)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.format_text()

    def describe(self) -> dict:
        """A JSON-ready summary: sizes, layers, unit names, parameter count, metadata."""
        return {
            "sizes": self.sizes,
            "n_parameters": self.n_parameters,
            "input_shape": list(self.input_shape),
            "layers": [
                {
                    "name": layer.name,
                    "aliases": self._aliases(i),
                    "activation": layer.activation,
                    "n_in": layer.n_in,
                    "n_out": layer.n_out,
                    "n_parameters": layer.weights.size + layer.biases.size,
                    "units": list(layer.units),
                }
                for i, layer in enumerate(self.layers)
            ],
            "metadata": self.metadata,
        }

    # ---- files -----------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Save as ``.npz`` (no pickles): arrays ``W0, b0, W1, b1, ...`` and a JSON ``metadata`` entry."""
        path = Path(path)
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "input_shape": list(self.input_shape),
            "layers": [
                {"name": layer.name, "activation": layer.activation, "units": list(layer.units)}
                for layer in self.layers
            ],
            "metadata": self.metadata,
        }
        arrays = {"metadata": np.array(json.dumps(meta, sort_keys=True))}
        for i, layer in enumerate(self.layers):
            arrays[f"W{i}"] = layer.weights
            arrays[f"b{i}"] = layer.biases
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        return path

    @classmethod
    def load(cls, path) -> "Network":
        """Load a network saved by ``save``; any problem is a one-line NetworkFileError."""
        path = Path(path)
        if not path.is_file():
            raise NetworkFileError(f"{path}: no such network file")
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":  # np.load would otherwise try other formats, pickle among them
                raise NetworkFileError(f"{path}: not a readable .npz network file (no zip header)")
        try:
            with np.load(path, allow_pickle=False) as npz:
                contents = {key: npz[key] for key in npz.files}
        except ValueError as e:
            if "pickle" in str(e).lower() or "object" in str(e).lower():
                raise NetworkFileError(f"{path}: holds pickled objects, which handnet refuses to load") from None
            raise NetworkFileError(f"{path}: not a handnet network file ({e})") from None
        except (zipfile.BadZipFile, OSError, EOFError, KeyError) as e:
            raise NetworkFileError(f"{path}: not a readable .npz network file ({e})") from None
        return cls._from_arrays(path, contents)

    @classmethod
    def _from_arrays(cls, path, contents: dict) -> "Network":
        def fail(msg):
            raise NetworkFileError(f"{path}: {msg}")

        if "metadata" not in contents:
            fail("missing key 'metadata'; expected a file written by handnet")
        try:
            meta = json.loads(str(contents["metadata"][()]))
        except (ValueError, TypeError) as e:
            fail(f"metadata is not valid JSON ({e})")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            fail(f"metadata.format is {meta.get('format') if isinstance(meta, dict) else None!r}, expected {FORMAT!r}")
        version = meta.get("version")
        if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
            fail(f"metadata.version is {version!r}; this handnet reads versions 1-{FORMAT_VERSION}")
        layer_meta = meta.get("layers")
        if not isinstance(layer_meta, list) or not layer_meta:
            fail("metadata.layers is missing or empty")
        layers = []
        for i, lm in enumerate(layer_meta):
            if not isinstance(lm, dict):
                fail(f"metadata.layers[{i}] is not an object")
            for key in (f"W{i}", f"b{i}"):
                if key not in contents:
                    fail(f"missing array {key!r} for layer {i} ({lm.get('name')})")
            w, b = contents[f"W{i}"], contents[f"b{i}"]
            for key, arr in ((f"W{i}", w), (f"b{i}", b)):
                if not np.issubdtype(arr.dtype, np.floating):
                    fail(f"array {key!r} has dtype {arr.dtype}, expected floating point")
                if not np.all(np.isfinite(arr)):
                    fail(f"array {key!r} contains NaN or infinite values")
            try:
                layers.append(
                    Layer(
                        name=str(lm.get("name")),
                        weights=w,
                        biases=b,
                        activation=str(lm.get("activation")),
                        units=tuple(lm.get("units") or ()),
                    )
                )
            except HandnetError as e:
                fail(str(e))
        extra = sorted(set(contents) - {"metadata"} - {f"{p}{i}" for p in "Wb" for i in range(len(layers))})
        if extra:
            fail(f"unexpected arrays {', '.join(extra)}")
        try:
            return cls(layers, tuple(meta.get("input_shape", (28, 28))), meta.get("metadata") or {})
        except (HandnetError, TypeError, ValueError) as e:
            fail(f"wrong shapes: {e}")


def default_layer_names(n_layers: int, n_outputs: int) -> list[str]:
    """Names for an unnamed net: ``hidden1 ... hiddenK`` and ``digits`` (or ``output``)."""
    return [f"hidden{i + 1}" for i in range(n_layers - 1)] + ["digits" if n_outputs == 10 else "output"]


def random_network(
    sizes=(784, 16, 16, 10),
    seed: int | np.random.Generator = 0,
    activations=None,
    names=None,
    dtype=np.float64,
) -> Network:
    """A freshly initialized network (Glorot-uniform weights, zero biases) from an explicit seed."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    sizes = [int(s) for s in sizes]
    n_layers = len(sizes) - 1
    activations = list(activations or ["sigmoid"] * n_layers)
    names = list(names or default_layer_names(n_layers, sizes[-1]))
    side = int(round(np.sqrt(sizes[0])))
    input_shape = (side, side) if side * side == sizes[0] else (1, sizes[0])
    layers = []
    for i in range(n_layers):
        fan_in, fan_out = sizes[i], sizes[i + 1]
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        if activations[i] == "sigmoid":
            limit *= 4.0  # Glorot's factor for the logistic function
        w = rng.uniform(-limit, limit, size=(fan_out, fan_in)).astype(dtype)
        units = [str(d) for d in range(fan_out)]
        layers.append(Layer(names[i], w, np.zeros(fan_out, dtype=dtype), activations[i], tuple(units)))
    seed_value = None if isinstance(seed, np.random.Generator) else int(seed)
    return Network(layers, input_shape, {"provenance": {"kind": "random", "seed": seed_value}})
