"""The Network: layers of weights ``(out, in)``, biases, activations and unit names.

Every neuron has one name in one grammar, ``layer:unit``: ``edges:upper_bar``, ``digits:9``, or
``hidden1:3`` for a trained net whose units have no names. The unit part may also be an index,
and the layer part may be a layer's name or its position alias (``hidden1``, ``hidden2``, ...,
``output``), so the same reference works on a hand-built and a trained net of the same shape.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handnet.views import NotebookView
from handnet.atomic import atomic_path
from handnet.errors import HandnetError, NetworkFileError, UnitError, reason
from handnet.nn.activations import ACTIVATIONS
from handnet.nn.forward import forward
from handnet.nn.labels import answers

FORMAT = "handnet-network"
FORMAT_VERSION = 1
# the grammar of layer and unit names (the spec validator uses it too)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")

# Limits on what a network file may declare, checked from the .npy headers before any array is
# allocated (docs/limits.md gives the reasons). The lesson's network holds 13,002 parameters.
MAX_ARRAY_BYTES = 1 << 30  # every array of a file together, as declared by their headers
MAX_LAYERS = 64
MAX_LAYER_UNITS = 1 << 20  # units in one layer (and inputs to the first)
MAX_METADATA_BYTES = 16 << 20  # the JSON metadata entry
MAX_METADATA_NESTING = 64  # objects and lists inside one another in the metadata


def nesting_depth(value, limit: int) -> int:
    """How deeply dicts and lists nest in ``value`` (a scalar is 0), counting no further than ``limit + 1``.

    Iterative, so a hostile file cannot exhaust the interpreter's stack while it is measured.
    """
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            level += 1
            deepest = max(deepest, level)
            if level <= limit:
                stack.extend((v, level) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


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
        if 0 in w.shape:
            raise HandnetError(f"layer {self.name}: weights have shape {w.shape}; a layer needs at least one unit "
                               "and one input")
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
        names = [n for i, layer in enumerate(self.layers) for n in [layer.name, *self._aliases(i)]]
        raise UnitError(f"unknown layer {name!r}{did_you_mean(name, names)}; layers are {self._layer_list()}")

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
            raise UnitError(f"unit reference {text!r} must look like layer:unit, e.g. {self.example_ref()}"
                            f"{self._suggest(text)}")
        layer_part, unit_part = (p.strip() for p in text.split(":"))
        try:
            li = self.layer_index(layer_part)
        except UnitError as error:
            elsewhere = self._suggest(unit_part, exact_unit=True)  # the unit, named right, in its own layer
            problem = f"unknown layer {layer_part!r}{elsewhere}; layers are {self._layer_list()}" if elsewhere else error
            raise UnitError(f"unit reference {text!r}: {problem}") from None
        layer = self.layers[li]
        if unit_part in layer.units:
            idx = layer.units.index(unit_part)
        elif unit_part.isascii() and unit_part.isdigit() and len(unit_part) <= 9 and int(unit_part) < layer.n_out:
            idx = int(unit_part)
        else:
            shown = ", ".join(layer.units[:40]) + (", ..." if layer.n_out > 40 else "")
            raise UnitError(
                f"unit reference {text!r}: layer {layer.name} has no unit {unit_part!r}"
                f"{self._suggest(unit_part, li)}; its units are {shown} (or an index 0-{layer.n_out - 1})"
            )
        return UnitRef(li, idx, layer.name, layer.units[idx])

    def _suggest(self, word: str, layer: int | None = None, exact_unit: bool = False) -> str:
        """`` (did you mean parts:upper_loop?)`` for a mistyped unit: the closest unit name in ``layer``,
        else the same or the closest name in any layer; "" when nothing is close."""
        word = str(word).strip()
        if word.isdigit():  # an index out of range: the message gives the range
            return ""
        refs = [str(u) for u in self.units()]
        exact = [r for r in refs if r.split(":", 1)[1] == word]
        if exact:
            return f" (did you mean {' or '.join(exact[:3])}?)"
        if exact_unit:
            return ""
        if layer is not None:
            hint = did_you_mean(word, self.layers[layer].units, prefix=f"{self.layers[layer].name}:")
            if hint:
                return hint
        bare = {r.split(":", 1)[1]: r for r in reversed(refs)}
        match = difflib.get_close_matches(word, list(bare) + refs, n=1, cutoff=0.6)
        return f" (did you mean {bare.get(match[0], match[0])}?)" if match else ""

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
        """The label of the brightest output unit per image, ``(n,)`` int64.

        Output units answer by name, not position: a unit named ``7`` answers 7 wherever it sits,
        and a spec's ``label = N`` names the label of any other unit (``handnet.nn.labels``). A net
        none of whose output units names a label answers with the brightest unit's position.
        """
        return answers(self).predict(self.output(X))

    def accuracy(self, X, y) -> float:
        """Fraction of images whose predicted label equals their label, over the images whose label
        one of the outputs answers (a net with outputs 0, 1 and 7 is scored on the 0s, 1s and 7s)."""
        read = answers(self)
        y = np.asarray(y)
        keep = read.covers(y)
        if not keep.any():
            return float("nan")
        X = self.as_inputs(X)
        if not keep.all():
            X, y = X[keep], y[keep]
        return float(np.mean(read.predict(self.output(X)) == y))

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
        for layer in self.layers:
            for what, arr in (("weights", layer.weights), ("biases", layer.biases)):
                if not np.all(np.isfinite(arr)):
                    raise HandnetError(f"{path}: not written: layer {layer.name}'s {what} hold NaN or infinite "
                                       "values (a file handnet would refuse to load)")
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
        """Load a network saved by ``save``; any problem is a one-line NetworkFileError.

        Like safetensors, nothing is allocated before the file's declared sizes are checked: each
        zip member's .npy header is read and checked against the limits first, and pickles,
        encryption and compression methods other than store and deflate are refused.
        """
        path = Path(path)
        if path.is_dir():
            raise NetworkFileError(f"{path}: is a folder, expected a .npz network file")
        if not path.is_file():
            raise NetworkFileError(f"{path}: no such network file" if not path.exists()
                                   else f"{path}: is a device, FIFO or socket, expected a .npz network file")
        try:
            with open(path, "rb") as f:
                if f.read(4) != b"PK\x03\x04":  # np.load would otherwise try other formats, pickle among them
                    raise NetworkFileError(f"{path}: not a readable .npz network file (no zip header)")
            with zipfile.ZipFile(path) as archive:
                contents = _read_members(path, archive)
        except NetworkFileError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, ValueError,
                NotImplementedError, RuntimeError) as e:
            raise NetworkFileError(f"{path}: not a readable .npz network file ({reason(e)})") from None
        return cls._from_arrays(path, contents)

    @classmethod
    def _from_arrays(cls, path, contents: dict) -> "Network":
        def fail(msg):
            raise NetworkFileError(f"{path}: {msg}")

        if "metadata" not in contents:
            fail("missing key 'metadata'; expected a file written by handnet")
        text = contents["metadata"]
        if text.dtype.kind != "U" or text.shape != ():
            fail(f"metadata is a {text.dtype} array of shape {text.shape}, expected one JSON string")
        try:
            meta = json.loads(str(text[()]))
        except (ValueError, TypeError) as e:
            fail(f"metadata is not valid JSON ({reason(e)})")
        except RecursionError:
            meta = None
            fail(f"metadata nests more than {MAX_METADATA_NESTING} deep")
        if nesting_depth(meta, MAX_METADATA_NESTING) > MAX_METADATA_NESTING:
            fail(f"metadata nests more than {MAX_METADATA_NESTING} deep")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            fail(f"metadata.format is {meta.get('format') if isinstance(meta, dict) else None!r}, expected {FORMAT!r}")
        version = meta.get("version")
        if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
            fail(f"metadata.version is {version!r}; this handnet reads versions 1-{FORMAT_VERSION}")
        layer_meta = meta.get("layers")
        if not isinstance(layer_meta, list) or not layer_meta:
            fail("metadata.layers is missing or empty")
        if len(layer_meta) > MAX_LAYERS:
            fail(f"metadata.layers lists {len(layer_meta)} layers; at most {MAX_LAYERS}")
        input_shape = meta.get("input_shape", [28, 28])
        if not (isinstance(input_shape, list) and len(input_shape) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_LAYER_UNITS for v in input_shape)):
            fail(f"metadata.input_shape is {_short(input_shape)}, expected [rows, cols], two whole numbers >= 1")
        user_meta = meta.get("metadata")
        problem = _metadata_problem(user_meta)
        if problem:
            fail(problem)
        layers = []
        for i, lm in enumerate(layer_meta):
            if not isinstance(lm, dict):
                fail(f"metadata.layers[{i}] is not an object")
            for key in ("name", "activation"):
                if not isinstance(lm.get(key), str):
                    fail(f"metadata.layers[{i}].{key} is {_short(lm.get(key))}, expected a string")
            units = lm.get("units")
            if units is not None and not (isinstance(units, list) and all(isinstance(u, (str, int)) for u in units)):
                fail(f"metadata.layers[{i}].units is {_short(units)}, expected a list of unit names")
            for key in (f"W{i}", f"b{i}"):
                if key not in contents:
                    fail(f"missing array {key!r} for layer {i} ({lm.get('name')})")
            w, b = contents[f"W{i}"], contents[f"b{i}"]
            if w.ndim == 2 and max(w.shape) > MAX_LAYER_UNITS:
                fail(f"array 'W{i}' has shape {w.shape}; a layer may have at most {MAX_LAYER_UNITS:,} units and inputs")
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
                        units=tuple(units or ()),
                    )
                )
            except HandnetError as e:
                fail(str(e))
        extra = sorted(set(contents) - {"metadata"} - {f"{p}{i}" for p in "Wb" for i in range(len(layers))})
        if extra:
            fail(f"unexpected arrays {', '.join(extra)}")
        try:
            return cls(layers, tuple(input_shape), user_meta or {})
        except (HandnetError, TypeError, ValueError) as e:
            fail(f"wrong shapes: {e}")


def _short(value, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 4] + " ..."


def _read_members(path, archive: zipfile.ZipFile) -> dict:
    """Every array of an .npz, each checked from its zip entry and .npy header before it is read."""
    members = archive.infolist()
    if len(members) > 2 * MAX_LAYERS + 1:
        raise NetworkFileError(f"{path}: holds {len(members)} entries; a network file has at most {2 * MAX_LAYERS + 1}")
    names = [m.filename for m in members]
    if len(set(names)) != len(names):
        raise NetworkFileError(f"{path}: the zip archive names an entry twice")
    total = 0
    contents = {}
    for member in members:
        name = member.filename
        where = f"{path}: entry {_short(name)}"
        if not name.endswith(".npy") or "/" in name or "\\" in name:
            raise NetworkFileError(f"{where} is not a .npy array; a network file holds only W0.npy, b0.npy, ... "
                                   "and metadata.npy")
        if member.flag_bits & 0x1:
            raise NetworkFileError(f"{where} is encrypted; handnet reads only unencrypted network files")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise NetworkFileError(f"{where} uses zip compression method {member.compress_type}; "
                                   "expected stored or deflated (as numpy.savez writes)")
        with archive.open(member) as f:
            try:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise NetworkFileError(f"{where} is a .npy file of version {version}; expected 1.0 or 2.0")
            except NetworkFileError:
                raise
            except Exception as e:  # noqa: BLE001  numpy's header parser raises many kinds; each means "malformed"
                raise NetworkFileError(f"{where} has a malformed .npy header ({reason(e)})") from None
            if any(n < 0 for n in shape):
                raise NetworkFileError(f"{where} has a malformed .npy header (shape {shape})")
            if dtype.hasobject:
                raise NetworkFileError(f"{where} holds pickled objects, which handnet refuses to load")
            if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "fU":
                raise NetworkFileError(f"{where} has dtype {dtype}; expected floating point (or the metadata string)")
            count = math.prod(shape)
            nbytes = count * dtype.itemsize
            total += nbytes
            limit = MAX_METADATA_BYTES * 4 if dtype.kind == "U" else MAX_ARRAY_BYTES
            if nbytes > limit or total > MAX_ARRAY_BYTES:
                raise NetworkFileError(f"{where} declares shape {shape} ({nbytes:,} bytes); a network file may hold "
                                       f"at most {MAX_ARRAY_BYTES:,} bytes of arrays (see docs/limits.md)")
            if member.file_size != f.tell() + nbytes:
                raise NetworkFileError(f"{where} declares shape {shape} ({nbytes:,} bytes of data) but holds "
                                       f"{member.file_size - f.tell():,}")
            buffer = bytearray(nbytes)
            if f.readinto(buffer) != nbytes or f.read(1):  # the read past the end makes zipfile check the CRC
                raise NetworkFileError(f"{where} is truncated")
        array = np.frombuffer(buffer, dtype=dtype).reshape(shape, order="F" if fortran else "C")
        contents[name[: -len(".npy")]] = array
    return contents


_UNIT_FIELDS = {"strokes": list, "reads": dict, "rule": str, "threshold": str, "doc": str, "digits": list}
_UNIT_NUMBERS = ("width", "surround", "inhibition", "ink_width", "fraction", "sharpness", "gain", "bias")


def _metadata_problem(meta) -> str | None:
    """What is wrong with a file's ``metadata`` object, in the places handnet reads it; None if nothing."""
    if meta is None:
        return None
    if not isinstance(meta, dict):
        return f"metadata.metadata is {_short(meta)}, expected an object"
    for key, kind in (("provenance", dict), ("units", dict), ("history", list), ("description", str)):
        if meta.get(key) is not None and not isinstance(meta[key], kind):
            return f"metadata.metadata.{key} is {_short(meta[key])}, expected {'an object' if kind is dict else 'a ' + kind.__name__}"
    for ref, unit in (meta.get("units") or {}).items():
        where = f"metadata.metadata.units.{_short(ref, 40)}"
        if not isinstance(unit, dict):
            return f"{where} is {_short(unit)}, expected an object"
        for key, kind in _UNIT_FIELDS.items():
            if unit.get(key) is not None and not isinstance(unit[key], kind):
                return f"{where}.{key} is {_short(unit[key])}, expected {'an object' if kind is dict else 'a ' + kind.__name__}"
        for key in _UNIT_NUMBERS:
            value = unit.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                return f"{where}.{key} is {_short(value)}, expected a number"
        for name, value in (unit.get("reads") or {}).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"{where}.reads.{_short(name, 40)} is {_short(value)}, expected a number"
        if any(not isinstance(s, dict) for s in unit.get("strokes") or ()):
            return f"{where}.strokes holds {_short(unit['strokes'])}, expected stroke objects"
    if any(not isinstance(record, dict) for record in meta.get("history") or ()):
        return "metadata.metadata.history holds something other than objects"
    return None


def did_you_mean(word: str, options, prefix: str = "") -> str:
    """`` (did you mean 'x'?)`` with the option closest to ``word``, or "" when none is close."""
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {prefix}{match[0]}?)" if match else ""


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
