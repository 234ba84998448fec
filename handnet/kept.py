"""Results kept on disk: named by the code that made them, and kept to the newest few.

Every cache in handnet's cache folder (fitted readouts, training runs, maximizers, edge-likeness
refits) names an entry by a SHA-256 of its inputs and of the code that computes it; ``code_digest``
is the code's part. ``prune_oldest`` keeps a cache folder to its most recently used entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path


def code_digest(files, versions: str = "") -> bytes:
    """A SHA-256 of ``files``' names and bytes, in the order given, after ``versions`` (the library
    versions whose bits the result depends on, e.g. ``"2.4.6|1.16.0"``): an edit to any of those
    files, or another version, gives another digest."""
    digest = hashlib.sha256(versions.encode())
    for path in files:
        path = Path(path)
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def prune_oldest(folder, pattern: str, keep: int) -> None:
    """Delete all but the ``keep`` most recently modified files matching ``pattern`` in ``folder``: a
    cache folder's least recently used entries. A file another process removed first, or a folder
    that cannot be read or written, is passed over: a cache that cannot be pruned only costs room."""
    try:
        found = sorted(Path(folder).glob(pattern), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in found[: max(len(found) - keep, 0)]:
        with contextlib.suppress(OSError):
            os.unlink(old)
