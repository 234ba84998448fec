import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _headless_and_private_cache(tmp_path_factory):
    """Figures render headless; the bundled-data cache lives in one place shared by the whole run."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("HANDNET_CACHE", str(Path.home() / ".cache" / "handnet-tests"))
    os.environ.pop("HANDNET_DATA", None)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def shared_mnist():
    """The dev split in ../shared/mnist, when it is beside the project (CI has it)."""
    candidates = [os.environ.get("HANDNET_TEST_DATA"), ROOT.parent / "shared" / "mnist"]
    path = next((Path(c) for c in candidates if c and (Path(c) / "dev-images-idx3-ubyte.gz").is_file()), None)
    if path is None:
        pytest.skip("no MNIST dev split beside the project (../shared/mnist)")
    return path


# ---- shared, session-scoped data: built once per test process (each pytest-xdist worker builds its own) ----
@pytest.fixture(scope="session")
def small_splits():
    """1,500 training digits (a seeded draw from the bundled sample) and the first 400 test digits: enough
    for every stage of the pipeline to give meaningful numbers, small enough to keep whole commands quick."""
    from handnet.data import load_splits

    splits = load_splits()
    pick = np.random.default_rng(0).permutation(len(splits.train))[:1500]
    return splits.train.subset(pick), splits.test.subset(np.arange(400))


@pytest.fixture(scope="session")
def small_data_dir(small_splits, tmp_path_factory):
    """``small_splits`` as a data folder of MNIST IDX files (train-*, test-*), for ``--data`` on the command line."""
    from handnet.data.mnist import write_idx

    folder = tmp_path_factory.mktemp("small-digits")
    for split, dataset in zip(("train", "test"), small_splits):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", dataset.images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", dataset.labels)
    return folder
