"""Networks out to other tools: safetensors files, and the PyTorch code that loads them.

A safetensors file is an 8-byte little-endian header length, a JSON header naming each tensor's
dtype, shape and byte range, then the raw little-endian bytes. handnet writes it with NumPy
alone. Tensor names follow ``torch.nn.Sequential``: layer ``i``'s weights ``(out, in)`` are
``"{2i}.weight"`` and its biases ``"{2i}.bias"``, because the Sequential alternates Linear and
activation modules (``torch_snippet`` prints it). ``__metadata__`` keeps what handnet knows
beyond the numbers (layer names, activations, unit names, provenance) as JSON strings, so
``load_safetensors`` gives back the same Network.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from handnet.atomic import atomic_path
from handnet.errors import NetworkFileError
from handnet.nn.network import FORMAT, Layer, Network

DTYPES = {"float32": ("F32", "<f4"), "float64": ("F64", "<f8")}
READ_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "u1"}
TORCH_MODULES = {"sigmoid": "nn.Sigmoid()", "relu": "nn.ReLU()", "softmax": "nn.Softmax(dim=-1)"}
MAX_HEADER = 100_000_000  # the safetensors library's own limit on the JSON header


def tensor_names(i: int) -> tuple[str, str]:
    """The names of layer ``i``'s weights and biases: ``("{2i}.weight", "{2i}.bias")``."""
    return f"{2 * i}.weight", f"{2 * i}.bias"


def network_tensors(net: Network, dtype: str = "float32") -> dict[str, np.ndarray]:
    """Every layer's weights ``(out, in)`` and biases ``(out,)`` under their Sequential names, in ``dtype``."""
    if dtype not in DTYPES:
        raise NetworkFileError(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    tensors = {}
    for i, layer in enumerate(net.layers):
        w_name, b_name = tensor_names(i)
        tensors[w_name] = np.asarray(layer.weights, dtype=DTYPES[dtype][1])
        tensors[b_name] = np.asarray(layer.biases, dtype=DTYPES[dtype][1])
    return tensors


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors encoding of ``tensors`` (float32/float64 arrays) and string ``metadata``."""
    header, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.asarray(array)
        code = {(np.dtype("f4").kind, 4): "F32", (np.dtype("f8").kind, 8): "F64"}.get((array.dtype.kind, array.dtype.itemsize))
        if code is None:
            raise NetworkFileError(f"tensor {name}: dtype {array.dtype} cannot be exported (float32 or float64)")
        data = np.ascontiguousarray(array, dtype=f"<f{array.dtype.itemsize}").tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as the safetensors library writes it
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def network_metadata(net: Network) -> dict[str, str]:
    """What handnet keeps in ``__metadata__``: the format, input shape, layers and the net's metadata."""
    layers = [{"name": layer.name, "activation": layer.activation, "units": list(layer.units),
               "weight": tensor_names(i)[0], "bias": tensor_names(i)[1]} for i, layer in enumerate(net.layers)]
    return {
        "format": FORMAT,
        "input_shape": json.dumps(list(net.input_shape)),
        "layers": json.dumps(layers),
        "metadata": json.dumps(net.metadata, default=str),
    }


def write_safetensors(net: Network, path, dtype: str = "float32") -> Path:
    """Write ``net`` to ``path`` as safetensors (atomically); see the module docstring for the names."""
    data = safetensors_bytes(network_tensors(net, dtype), network_metadata(net))
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def read_safetensors(path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse a safetensors file: ``(tensors by name, metadata)``; any problem is a one-line NetworkFileError."""
    path = Path(path)
    if not path.is_file():
        raise NetworkFileError(f"{path}: no such file")
    blob = path.read_bytes()

    def fail(message):
        raise NetworkFileError(f"{path}: not a readable safetensors file ({message})")

    if len(blob) < 8:
        fail("shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > min(MAX_HEADER, len(blob) - 8):
        fail(f"header length {n} runs past the end of the file")
    try:
        header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        fail(f"header is not JSON: {e}")
    if not isinstance(header, dict):
        fail("header is not a JSON object")
    data = memoryview(blob)[8 + n :]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, entry in header.items():
        try:
            dtype = np.dtype(READ_DTYPES[entry["dtype"]])
            shape = tuple(int(s) for s in entry["shape"])
            begin, end = (int(o) for o in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            fail(f"tensor {name}: expected dtype (one of {', '.join(READ_DTYPES)}), shape and data_offsets")
        if not 0 <= begin <= end <= len(data) or end - begin != dtype.itemsize * int(np.prod(shape)):
            fail(f"tensor {name}: data_offsets [{begin}, {end}] do not fit shape {list(shape)} of {entry['dtype']}")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
    return tensors, metadata


def load_safetensors(path) -> Network:
    """The Network in a safetensors file written by ``write_safetensors`` (its metadata names the layers)."""
    tensors, metadata = read_safetensors(path)
    if metadata.get("format") != FORMAT:
        raise NetworkFileError(f"{path}: __metadata__.format is {metadata.get('format')!r}, expected {FORMAT!r} "
                               "(a file exported by handnet)")
    try:
        layer_meta = json.loads(metadata["layers"])
        input_shape = tuple(json.loads(metadata.get("input_shape", "[28, 28]")))
        extra = json.loads(metadata.get("metadata", "{}"))
    except (KeyError, ValueError) as e:
        raise NetworkFileError(f"{path}: __metadata__ is incomplete ({e})") from None
    layers = []
    for i, lm in enumerate(layer_meta):
        w_name, b_name = tensor_names(i)
        if w_name not in tensors or b_name not in tensors:
            raise NetworkFileError(f"{path}: layer {i} ({lm.get('name')}) needs tensors {w_name} and {b_name}")
        layers.append(Layer(lm["name"], tensors[w_name].astype(np.float64), tensors[b_name].astype(np.float64),
                            lm["activation"], tuple(lm.get("units") or ())))
    return Network(layers, input_shape, extra)


def torch_snippet(net: Network, path, dtype: str = "float32") -> str:
    """Python code that builds the ``nn.Sequential`` for ``net`` and loads the safetensors file at ``path``."""
    lines = [
        f"# {'-'.join(map(str, net.sizes))} network exported by handnet. Input: (n, {net.sizes[0]}) pixels in [0, 1],",
        f"# ink bright on dark, a {net.input_shape[0]}x{net.input_shape[1]} image row by row (MNIST's convention).",
        "import torch",
        "from torch import nn",
        "from safetensors.torch import load_file",
        "",
        "model = nn.Sequential(",
    ]
    for layer in net.layers:
        lines.append(f"    nn.Linear({layer.n_in}, {layer.n_out}),  # {layer.name}")
        lines.append(f"    {TORCH_MODULES[layer.activation]},")
    lines.append(")" + (".double()" if dtype == "float64" else ""))
    lines.append(f"model.load_state_dict(load_file({str(path)!r}))")
    lines.append("model.eval()")
    output = net.layers[-1]
    shown = ", ".join(output.units[:12]) + (", ..." if output.n_out > 12 else "")
    lines.append(f"output_units = {list(output.units)!r}  # {output.name}: {shown}")
    lines.append("")
    lines.append(f"# with torch.no_grad(): answer = output_units[model(x.reshape(-1, {net.sizes[0]})).argmax(-1)[0]]")
    return "\n".join(lines) + "\n"
