"""Shared pieces of the robustness and fuzz tests: a time box, file digests, and builders of hostile files."""

from __future__ import annotations

import contextlib
import hashlib
import io
import signal
import zipfile
from pathlib import Path

import numpy as np

SMALL_SPEC = """
[network]
name = "small"

[edges.top]
strokes = [{ line = [[6, 8], [6, 20]] }]
[edges.side]
strokes = [{ arc = { center = [14, 14], radii = [6, 6], start = 90, end = 270 } }]

[parts.both]
all_of = ["top", "side"]

[digits.x]
any_of = ["both"]
"""


class Hang(Exception):
    """Raised inside a time box that ran out: the code under test hangs (or is far too slow)."""


@contextlib.contextmanager
def time_box(seconds: float):
    """Fail with Hang if the block runs longer than ``seconds`` (SIGALRM: main thread, Unix)."""

    def expire(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def digests(folder) -> dict:
    """SHA-256 of every regular file under ``folder``, by relative path: to prove inputs unchanged."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def npy_bytes(array=None, header: str | None = None, data: bytes | None = None, version=(1, 0)) -> bytes:
    """A .npy file: from ``array``, or from a hand-written ``header`` dict literal and raw ``data``."""
    if header is None:
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.asarray(array), version=version, allow_pickle=True)
        return buffer.getvalue()
    text = header.encode("latin1", "replace")
    pad = 64 - (10 + len(text) + 1) % 64
    text = text + b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes(version) + len(text).to_bytes(2, "little") + text + (data or b"")


def write_zip(path, members: dict, compression=zipfile.ZIP_DEFLATED) -> Path:
    """A zip archive holding ``members`` ``{name: bytes}``."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return Path(path)


def network_members(net) -> dict:
    """The zip members of a saved network, ``{name: bytes}``, to mutate and write back."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = net.save(Path(folder) / "net.npz")
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}


def mark_encrypted(path) -> None:
    """Set the 'encrypted' flag bit of every entry, in the local headers and the central directory."""
    raw = bytearray(Path(path).read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := raw.find(signature, start)) >= 0:
            raw[at + flag_offset] |= 0x01
            start = at + 4
    Path(path).write_bytes(bytes(raw))


def tiny_data_dir(folder, n: int = 60, seed: int = 7) -> Path:
    """A folder with a ``train`` and a ``t10k`` split of ``n`` random digits each (IDX, uncompressed)."""
    from handnet.data.mnist import write_idx

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "t10k"):
        write_idx(folder / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{split}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)
    return folder
