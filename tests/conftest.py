import os
import shutil
import traceback
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    """The files reading the shared demo run first, then the other files holding ``slow`` tests, then the rest
    (each file's tests stay together and in order). ``make test`` hands out whole files to its workers in this
    order (``--dist loadfile --no-loadscope-reorder``), so the long files start early and the short ones fill
    the gaps: both workers finish at about the same time instead of one waiting for a long file handed out
    last. The first two files go to different workers: one builds the demo while the other runs the tests of
    test_surgery_ladder.py that do not read it."""
    demo = {item.path for item in items if "demo_run" in getattr(item, "fixturenames", ())}
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: 0 if item.path in demo else 1 if item.path in slow else 2)  # stable: order kept


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


# ---- built once per run, whatever the number of pytest-xdist workers -------------------------------------
def build_once(tmp_path_factory, name: str, build) -> Path:
    """A folder ``name`` that ``build(folder)`` fills once per test run and every worker then reads.

    Under pytest-xdist each worker is a process: the first to ask builds while holding a file lock in the
    run's shared temporary folder (the pattern pytest-xdist's documentation gives), the others wait for
    the lock and find the folder done. A build that failed is not repeated: every test asking for it fails
    with the same error. Readers must not change the folder.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above every worker's own
    folder, done, failed = base / name, base / f"{name}.done", base / f"{name}.failed"
    with _locked(base / f"{name}.lock"):
        if not done.is_file() and not failed.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                build(folder)
            except BaseException as error:
                failed.write_text("".join(traceback.format_exception(error)))
                raise
            done.touch()
    if failed.is_file():
        pytest.fail(f"building the shared {name} failed in another test:\n{failed.read_text()}", pytrace=False)
    return folder


class _locked:
    """An exclusive lock on ``path`` (fcntl.flock; released when the file closes, also when a worker dies)."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.file = open(self.path, "a")
        try:
            import fcntl
        except ImportError:  # not a POSIX system: a single pytest process needs no lock (pytest -n 0)
            return self
        fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.file.close()


# ---- shared, session-scoped data ---------------------------------------------------------------------------
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
    """``small_splits`` as a data folder of MNIST IDX files (train-*, test-*), for ``--data`` on the command
    line; one folder for the whole run (the shared demo names it)."""
    from handnet.data.mnist import write_idx

    def build(folder):
        for split, dataset in zip(("train", "test"), small_splits):
            write_idx(folder / f"{split}-images-idx3-ubyte.gz", dataset.images)
            write_idx(folder / f"{split}-labels-idx1-ubyte.gz", dataset.labels)

    return build_once(tmp_path_factory, "small-digits", build)


class DemoRun:
    """``handnet demo`` run once for the whole test run (see ``demo_run``): the folder it wrote, its exit
    code, what it printed (stdout: the --json summary; stderr: the running commentary and the hints) and
    the study it ran (``study()``: ``handnet.compare.study.run_study``'s result, kept as it returned it)."""

    EPOCHS = 8
    ARGS = ["--seeds", "1", "--epochs", str(EPOCHS), "--json"]

    def __init__(self, folder: Path):
        self.folder = folder
        self.out = folder / "elsewhere"  # not demo/: its closing hints must name the real paths
        self.exit_code = int((folder / "exit_code").read_text())
        self.stdout, self.stderr, self.output = ((folder / name).read_text() for name in ("stdout", "stderr", "output"))

    def study(self):
        import pickle

        return pickle.loads((self.folder / "study.pickle").read_bytes())


@pytest.fixture(scope="session")
def demo_run(small_data_dir, tmp_path_factory):
    """``handnet demo`` with small settings (``small_data_dir``: 1,500 training and 400 test digits; one
    seed, 8 epochs), run once per test run: it is the most expensive command, and the demo and report tests
    all read what it wrote (the networks, figures/, report/, playground.html), printed and measured."""

    def build(folder):
        import pickle

        from click.testing import CliRunner

        import handnet.compare.study
        from handnet.cli import main

        real = handnet.compare.study.run_study

        def keep(*args, **kwargs):  # the study the demo ran, as it ran it, for the report command's test
            study = real(*args, **kwargs)
            (folder / "study.pickle").write_bytes(pickle.dumps(study))
            return study

        out = folder / "elsewhere"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(handnet.compare.study, "run_study", keep)
            result = CliRunner().invoke(main, ["demo", "-o", str(out), "--data", str(small_data_dir), *DemoRun.ARGS])
        output = result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            output += "".join(traceback.format_exception(result.exception))
        for name, text in (("stdout", result.stdout), ("stderr", result.stderr), ("output", output)):
            (folder / name).write_text(text)
        (folder / "exit_code").write_text(str(result.exit_code))

    return DemoRun(build_once(tmp_path_factory, "demo-run", build))
