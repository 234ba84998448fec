"""``conftest.build_once``: what several test files read is built once per run, whichever pytest-xdist worker
asks first, and the others wait for it (a file lock) and read the same folder."""

import threading
import time

import pytest

from conftest import build_once


class _Factory:
    """What ``build_once`` reads of pytest's ``tmp_path_factory``."""

    def __init__(self, base):
        self.base = base

    def getbasetemp(self):
        return self.base


def test_two_workers_asking_at_once_build_once_and_read_the_same_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")  # under xdist: the run's folder is above the worker's own
    builds, folders = [], []

    def build(folder):
        builds.append(folder)
        time.sleep(0.3)  # long enough for the other worker to arrive and have to wait
        (folder / "made").write_text("once")

    def worker(name):
        (tmp_path / name).mkdir()
        folders.append(build_once(_Factory(tmp_path / name), "thing", build))

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("popen-gw0", "popen-gw1")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and folders == [tmp_path / "thing"] * 2
    assert (tmp_path / "thing" / "made").read_text() == "once"
    # asked again later (another test), it is not built again
    assert build_once(_Factory(tmp_path / "popen-gw0"), "thing", build) == tmp_path / "thing" and len(builds) == 1


def test_a_failed_build_fails_every_asker_with_its_error_and_is_not_repeated(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # one process: its own temporary folder
    calls = []

    def build(folder):
        calls.append(folder)
        raise ValueError("the demo crashed")

    with pytest.raises(ValueError, match="the demo crashed"):
        build_once(_Factory(tmp_path), "thing", build)
    with pytest.raises(pytest.fail.Exception, match="the demo crashed"):
        build_once(_Factory(tmp_path), "thing", build)
    assert len(calls) == 1
