"""Networks from whatever a person tuning weights points at: a spec file (compiled on the spot)
or a saved network (``.npz``), and the files a spec is made of, so they can be watched.
"""

from __future__ import annotations

from pathlib import Path

from .errors import HandnetError
from .network import Network

SPEC_SUFFIXES = (".toml",)


def is_spec(path) -> bool:
    return Path(path).suffix.lower() in SPEC_SUFFIXES


def open_network(path, data=None) -> Network:
    """A Network from a spec (``.toml``, compiled) or a saved network (``.npz``)."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return Network.load(path)
    if is_spec(path):
        from .compile import compile_spec
        from .spec import load_spec

        return compile_spec(load_spec(path), data=data)
    raise HandnetError(f"{path}: expected a spec (.toml) or a saved network (.npz), got {path.suffix or 'no suffix'!r}")
