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
