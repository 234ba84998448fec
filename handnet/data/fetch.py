"""Download the four official MNIST files, checked against their published SHA-256 digests.

``fetch_mnist(directory)`` tries each mirror in turn for each file, streams it to a temporary
file beside the target while hashing it, and renames it into place only when the digest
matches, so a failed or interrupted download leaves nothing behind. Files already present
with the right digest are not downloaded again. Only the standard library is used (urllib).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from handnet.atomic import atomic_path
from handnet.data.mnist import cache_dir
from handnet.errors import DataError

# The digests published with the files (the same ones torchvision, TensorFlow and others check).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# torchvision's S3 mirror, TensorFlow's mirror, then the original site (often unavailable now)
DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
CHUNK = 1 << 16
TIMEOUT = 30.0

# called as progress(file name, bytes so far, total bytes or None)
Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class Fetched:
    """One file after fetching: where it is, its digest, and whether it was ``downloaded`` or already ``present``."""

    name: str
    path: Path
    sha256: str
    status: str
    url: str | None = None


def default_fetch_dir() -> Path:
    """``HANDNET_DATA`` if set, else ``<cache dir>/mnist``."""
    if os.environ.get("HANDNET_DATA"):
        return Path(os.environ["HANDNET_DATA"])
    return cache_dir() / "mnist"


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _reason(error: BaseException) -> str:
    """A short human reason for a failed download."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        error = error.reason if isinstance(error.reason, BaseException) else error
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "host not found (offline?)"
    if isinstance(error, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, http.client.HTTPException):
        return f"connection broke off ({type(error).__name__})"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _summarize(failures: list[str]) -> str:
    """Each mirror's failure, or one reason when every mirror failed the same way (e.g. offline)."""
    reasons = {f.rsplit(": ", 1)[-1] for f in failures}
    if len(failures) > 1 and len(reasons) == 1 and "checksum" not in failures[0]:
        return f"{reasons.pop()} for all {len(failures)} mirrors ({', '.join(f.rsplit(': ', 1)[0] for f in failures)})"
    return "; ".join(failures)


def _download(url: str, target: Path, name: str, expected: str, progress: Progress | None, timeout: float) -> str:
    """Stream ``url`` into ``target`` atomically; return its digest, or raise DataError on a mismatch."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with atomic_path(target) as tmp:
            done = 0
            with open(tmp, "wb") as out:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(name, done, total)
            found = digest.hexdigest()
            if found != expected:
                # raising inside atomic_path removes the temporary file
                raise DataError(f"{name}: checksum mismatch from {url}: expected sha256 {expected}, found {found}")
    return found


def fetch_mnist(
    directory=None,
    mirrors=None,
    checksums: dict[str, str] | None = None,
    progress: Progress | None = None,
    timeout: float = TIMEOUT,
) -> list[Fetched]:
    """Fetch MNIST's IDX files into ``directory`` (default: ``default_fetch_dir()``).

    ``mirrors`` are base URLs tried in order (default ``DEFAULT_MIRRORS``); ``checksums`` maps each
    file name to its SHA-256 (default ``MNIST_SHA256``; tests inject their own). A file that no
    mirror delivers intact raises a one-line DataError naming the file and each mirror's failure.
    """
    directory = Path(directory) if directory is not None else default_fetch_dir()
    mirrors = list(mirrors or DEFAULT_MIRRORS)
    checksums = dict(checksums or MNIST_SHA256)
    if directory.exists() and not directory.is_dir():
        raise DataError(f"{directory}: exists and is not a directory")
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        return _fetch_all(directory, mirrors, checksums, progress, timeout)
    except BaseException:
        if created and not any(directory.iterdir()):
            directory.rmdir()  # a failed first fetch leaves no trace
        raise


def _fetch_all(directory: Path, mirrors, checksums, progress, timeout) -> list[Fetched]:
    results = []
    for name, expected in checksums.items():
        expected = expected.lower()
        target = directory / name
        if target.is_file() and sha256_of(target) == expected:
            results.append(Fetched(name, target, expected, "present"))
            continue
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                found = _download(url, target, name, expected, progress, timeout)
            except DataError as e:
                failures.append(str(e).removeprefix(f"{name}: "))
                continue
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
                # ValueError: a mirror that is not a URL urllib understands
                failures.append(f"{url}: {_reason(e)}")
                continue
            results.append(Fetched(name, target, found, "downloaded", url))
            break
        else:
            raise DataError(f"{name}: could not download: {_summarize(failures)}")
    return results
