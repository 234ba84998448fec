"""fetch_mnist against a local HTTP server serving small generated IDX files with injected checksums."""

import functools
import http.server
import json
import threading

import pytest
from click.testing import CliRunner

from handnet.data import fetch as fetch_module
from handnet.cli import main
from handnet.data.mnist import load_split, write_idx
from handnet.errors import DataError
from handnet.data.fetch import MNIST_SHA256, default_fetch_dir, fetch_mnist, sha256_of


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list  # set per server

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def served(tmp_path, rng):
    """A directory of four small MNIST-named files, served on 127.0.0.1; yields (base URL, checksums, requests)."""
    root = tmp_path / "server"
    (root / "mnist").mkdir(parents=True)
    for split, n in (("train", 30), ("t10k", 12)):
        write_idx(root / "mnist" / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(root / "mnist" / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    checksums = {name: sha256_of(root / "mnist" / name) for name in MNIST_SHA256}
    requests = []
    handler = type("Handler", (QuietHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", checksums, requests, root / "mnist"
    server.shutdown()
    server.server_close()


def test_published_checksums_are_sha256_hex():
    assert set(MNIST_SHA256) == {
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    }
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in MNIST_SHA256.values())


def test_download_verifies_and_places_every_file(served, tmp_path):
    base, checksums, requests, source = served
    seen = {}
    target = tmp_path / "out" / "mnist"
    fetched = fetch_mnist(target, [base + "/mnist/"], checksums, progress=lambda n, d, t: seen.__setitem__(n, (d, t)))
    assert [f.status for f in fetched] == ["downloaded"] * 4
    assert sorted(p.name for p in target.iterdir()) == sorted(checksums)  # no temporary files left
    for f in fetched:
        assert f.path.read_bytes() == (source / f.name).read_bytes()
        assert f.url == f"{base}/mnist/{f.name}"
        size = (source / f.name).stat().st_size
        assert seen[f.name] == (size, size)  # the progress callback reached the full length
    assert load_split(target, "train").counts() == load_split(source, "train").counts()


def test_files_present_with_the_right_checksum_are_not_downloaded_again(served, tmp_path):
    base, checksums, requests, _ = served
    fetch_mnist(tmp_path, [base + "/mnist"], checksums)
    assert len(requests) == 4
    again = fetch_mnist(tmp_path, [base + "/mnist"], checksums)
    assert [f.status for f in again] == ["present"] * 4
    assert len(requests) == 4


def test_a_damaged_file_is_downloaded_again(served, tmp_path):
    base, checksums, requests, source = served
    name = "t10k-labels-idx1-ubyte.gz"
    (tmp_path / name).write_bytes(b"not the labels")
    fetched = {f.name: f for f in fetch_mnist(tmp_path, [base + "/mnist"], checksums)}
    assert fetched[name].status == "downloaded"
    assert (tmp_path / name).read_bytes() == (source / name).read_bytes()


def test_checksum_mismatch_names_the_file_and_both_digests_and_leaves_nothing(served, tmp_path):
    base, checksums, _, source = served
    wrong = dict(checksums, **{"train-labels-idx1-ubyte.gz": "0" * 64})
    target = tmp_path / "out"
    with pytest.raises(DataError) as err:
        fetch_mnist(target, [base + "/mnist"], wrong)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("train-labels-idx1-ubyte.gz: ")
    assert "checksum mismatch" in message
    assert "0" * 64 in message and checksums["train-labels-idx1-ubyte.gz"] in message
    # the file before it arrived intact; the bad one and its temporary file are gone
    assert sorted(p.name for p in target.iterdir()) == ["train-images-idx3-ubyte.gz"]


def test_server_down_gives_connection_refused_and_no_directory(served, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = tmp_path / "never"
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: could not download: .*connection refused"):
        fetch_mnist(target, [f"http://127.0.0.1:{port}/"], served[1], timeout=5)
    assert not target.exists()


def test_http_404_is_reported_with_the_url(served, tmp_path):
    base, checksums, _, _ = served
    with pytest.raises(DataError) as err:
        fetch_mnist(tmp_path / "out", [base + "/nowhere/"], checksums)
    assert str(err.value) == (
        f"train-images-idx3-ubyte.gz: could not download: {base}/nowhere/train-images-idx3-ubyte.gz: HTTP 404 File not found"
    )


def test_the_next_mirror_is_tried_when_one_fails(served, tmp_path):
    base, checksums, _, _ = served
    fetched = fetch_mnist(tmp_path, [base + "/nowhere", base + "/mnist"], checksums)
    assert all(f.url.startswith(base + "/mnist/") for f in fetched)


def test_default_directory_follows_handnet_data_then_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HANDNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HANDNET_DATA", raising=False)
    assert default_fetch_dir() == tmp_path / "cache" / "mnist"
    monkeypatch.setenv("HANDNET_DATA", str(tmp_path / "data"))
    assert default_fetch_dir() == tmp_path / "data"


def test_cli_fetch_then_fetch_again(served, tmp_path, monkeypatch):
    base, checksums, _, _ = served
    monkeypatch.setattr(fetch_module, "MNIST_SHA256", checksums)
    runner = CliRunner()
    args = ["data", "fetch", "--mirror", base + "/mnist/", "--dir", str(tmp_path / "m")]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "downloaded from" in first.output and f"--data {tmp_path / 'm'}" in first.output
    second = runner.invoke(main, args + ["--json"])
    assert second.exit_code == 0, second.output
    assert [f["status"] for f in json.loads(second.output)["files"]] == ["present"] * 4


def test_cli_fetch_failure_is_one_line(served, tmp_path):
    result = CliRunner().invoke(main, ["data", "fetch", "--mirror", served[0] + "/nowhere", "--dir", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: train-images-idx3-ubyte.gz: could not download:")
    assert "HTTP 404" in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
