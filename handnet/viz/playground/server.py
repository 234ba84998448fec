"""``handnet serve``: the playground page, live, from the standard library's HTTP server.

``LiveServer(paths)`` builds each spec (or loads each saved net), serves the page on 127.0.0.1
and looks at the files every ``interval`` seconds. A save rebuilds the network and bumps the
version; the open page polls ``/version`` and fetches ``/network.json`` when it changes, keeping
the drawing. A broken spec keeps the last good network and its errors go to the page.
Maximizing inputs are computed in a background thread after each rebuild (only for the units
whose weights, or whose inputs' weights, changed), so the new weights reach the page at once.

Routes: ``GET /`` (the page), ``GET /network.json`` (weights as lists, unit names, SHA-256 of
each source file, errors), ``GET /version``; nothing else. Requests whose Host header is not
this server's own address are refused (a guard against DNS rebinding).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from handnet.tune.watch import file_signature
from handnet.errors import HandnetError
from handnet.nn.network import Network
from handnet.viz.playground.page import MAX_NETWORKS, Playground, Shown, label_for, render_page
from handnet.viz.playground.payload import check_drawable, file_sha256

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
SETTLE = 0.03  # seconds a changed file must stay unchanged before it is rebuilt


@dataclass
class Source:
    """One file on the page: what it built last (``shown``), the files it reads, and their signature."""

    path: Path
    shown: Shown | None = None
    files: tuple[Path, ...] = ()
    seen: tuple = ()
    errors: list[str] = field(default_factory=list)
    maximized: dict = field(default_factory=dict)  # unit name -> (weights fingerprint, Maximizer)


def build_source(path: Path, data=None, cache=None) -> tuple[Network, tuple[Path, ...]]:
    """The network at ``path`` (a spec compiled, or a saved net loaded) and every file it was made from."""
    if path.suffix.lower() == ".toml":
        from handnet.tune.watch import spec_build

        built = spec_build(path, data, cache)
        return built.network, tuple(dict.fromkeys((path, *built.sources)))
    if path.suffix.lower() == ".npz":
        return Network.load(path), (path,)
    raise HandnetError(f"{path}: expected a spec (.toml) or a saved network (.npz)")


def _fingerprints(net: Network) -> dict[str, bytes]:
    """Per unit, a digest of everything its maximizing input depends on: its own weights and those below."""
    import hashlib

    below = hashlib.sha256()
    out = {}
    for layer in net.layers:
        digest_below = below.copy()
        for j, ref in enumerate(net.units(layer.name)):
            h = digest_below.copy()
            h.update(layer.weights[j].tobytes() + layer.biases[j:j + 1].tobytes() + layer.activation.encode())
            out[str(ref)] = h.digest()
        below.update(layer.weights.tobytes() + layer.biases.tobytes() + layer.activation.encode())
    return out


class LiveServer:
    """The playground served live (see the module docstring). ``start()`` binds and serves in a
    background thread; ``serve_forever()`` blocks until Ctrl-C; ``stop()`` shuts everything down."""

    def __init__(self, paths, test=None, palette: str = "lesson", host: str = "127.0.0.1", port: int = 8000,
                 data=None, interval: float = 0.2, labels=None, maximize: bool = True):
        paths = [Path(p) for p in paths]
        if not 1 <= len(paths) <= MAX_NETWORKS:
            raise HandnetError(f"serve shows 1 to {MAX_NETWORKS} networks side by side, got {len(paths)}")
        self.sources = [Source(p) for p in paths]
        self.labels = labels
        self.test = test
        self.palette = palette
        self.host, self.port = host, int(port)
        self.data = data
        self.interval = interval
        self.maximize = maximize
        self.version = 0
        self._cache: dict = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake_maximizer = threading.Event()
        self._responses: dict = {}
        self._threads: list[threading.Thread] = []
        self.httpd: ThreadingHTTPServer | None = None
        for i, source in enumerate(self.sources):
            self._rebuild(i, first=True)

    # ---- building -------------------------------------------------------------------------------
    def _rebuild(self, i: int, first: bool = False) -> bool:
        """Build source ``i`` again; on an error keep the last good network and record the error."""
        source = self.sources[i]
        # taken before building, so a save during the build triggers another one
        before = {entry[0]: entry for entry in file_signature(source.files or (source.path,))}
        try:
            net, files = build_source(source.path, self.data, self._cache)
            check_drawable(net, str(source.path))
        except (HandnetError, OSError) as e:
            if first:
                raise
            problems = getattr(e, "problems", None) or [str(e) if isinstance(e, HandnetError)
                                                        else f"{e.filename or source.path}: {e.strerror or e}"]
            with self._lock:
                # an error in a file not watched yet (an include just added): watch it too
                named = [Path(str(p).split(": ", 1)[0]) for p in problems]
                extra = tuple(p for p in named if p.is_file() and p not in (source.files or (source.path,)))
                source.files = tuple(dict.fromkeys((*(source.files or (source.path,)), *extra)))
                source.seen = tuple(before.get(str(p)) or file_signature([p])[0] for p in source.files)
                source.errors = [str(p) for p in problems]
                self._bump()
            return False
        label = self.labels[i] if self.labels else label_for(source.path, i, net)
        shown = Shown(net, label, str(source.path), file_sha256(source.path))
        fingerprints = _fingerprints(net)
        with self._lock:
            kept = [source.maximized.get(str(ref)) for ref in net.units()]
            if all(k is not None and k[0] == fingerprints[str(ref)] for k, ref in zip(kept, net.units())):
                shown.maximizers = [k[1] for k in kept]
            source.shown, source.files, source.errors = shown, files, []
            source.seen = tuple(before.get(str(p)) or file_signature([p])[0] for p in files)
            self._bump()
        self._wake_maximizer.set()
        return True

    def _bump(self) -> None:
        self.version += 1
        self._responses = {}

    def poll(self) -> bool:
        """Rebuild every source whose files changed since its last build; True if any did."""
        changed = False
        for i, source in enumerate(self.sources):
            files = source.files or (source.path,)
            now = file_signature(files)
            if now != source.seen:
                # an editor may write a file in several steps: build once it has been still for a moment
                for _ in range(10):
                    time.sleep(SETTLE)
                    now, before = file_signature(files), now
                    if now == before:
                        break
                self._rebuild(i)
                changed = True
        return changed

    def _maximize_pending(self) -> None:
        """Compute the maximizing inputs the current networks lack, unit by unit; start over if a
        network changes meanwhile."""
        from handnet.inside.maximize import maximize

        for source in self.sources:
            with self._lock:
                shown = source.shown
            if shown is None or shown.maximizers is not None:
                continue
            fingerprints = _fingerprints(shown.network)
            results = []
            for ref in shown.network.units():
                if self._stop.is_set() or source.shown is not shown:
                    return
                known = source.maximized.get(str(ref))
                if known is None or known[0] != fingerprints[str(ref)]:
                    known = (fingerprints[str(ref)], maximize(shown.network, ref, restarts=1, seed=0))
                    with self._lock:
                        source.maximized[str(ref)] = known
                results.append(known[1])
            with self._lock:
                if source.shown is shown:
                    source.shown = replace(shown, maximizers=results)
                    self._bump()

    # ---- what is served -------------------------------------------------------------------------
    def playground(self) -> Playground:
        with self._lock:
            shown = [s.shown for s in self.sources]
            errors = [e for s in self.sources for e in s.errors]
            return Playground(shown, self.test, self.palette, errors, self.version)

    def status(self) -> dict:
        with self._lock:
            return {"version": self.version, "errors": [e for s in self.sources for e in s.errors],
                    "watching": [str(s.path) for s in self.sources]}

    def response(self, route: str) -> bytes:
        """The body of ``/``, ``/network.json`` or ``/version``, cached per version."""
        if route == "/version":
            return json.dumps(self.status()).encode("utf-8")
        with self._lock:
            key = (route, self.version)
            if key not in self._responses:
                data = self.playground().data(as_lists=route == "/network.json")
                body = json.dumps(data) if route == "/network.json" else render_page(data, live=True)
                self._responses[key] = body.encode("utf-8")
            return self._responses[key]

    # ---- running ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host if ':' not in self.host else f'[{self.host}]'}:{self.port}/"

    def allowed_hosts(self) -> set[str]:
        names = set(LOOPBACK) | ({self.host} if self.host not in ("0.0.0.0", "::", "") else set())
        return {f"{n}:{self.port}".lower() for n in names} | ({n.lower() for n in names} if self.port == 80 else set())

    def start(self) -> "LiveServer":
        """Bind the port and start serving, watching and maximizing in background threads."""
        try:
            self.httpd = ThreadingHTTPServer((self.host, self.port), _handler(self))
        except OSError as e:
            raise HandnetError(f"cannot listen on {self.host}:{self.port} ({e.strerror or e}); "
                               "choose another port with --port") from None
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        for target in (self.httpd.serve_forever, self._watch_loop, self._maximize_loop):
            thread = threading.Thread(target=target, daemon=True, name=f"handnet-serve-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        return self

    def _watch_loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception as e:  # a watcher must outlive any one bad save
                with self._lock:
                    self.sources[0].errors = [f"unexpected error while rebuilding: {e}"]
                    self._bump()

    def _maximize_loop(self) -> None:
        while not self._stop.is_set():
            if self._wake_maximizer.wait(0.5):
                self._wake_maximizer.clear()
                if self.maximize:
                    try:
                        self._maximize_pending()
                    except Exception:  # pictures are a nicety; the page still works without them
                        pass

    def serve_forever(self) -> None:
        """Block until Ctrl-C (or ``stop()`` from another thread), then shut down cleanly."""
        try:
            while not self._stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._wake_maximizer.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        self._threads = []


def _handler(server: LiveServer):
    routes = {"/": "text/html; charset=utf-8", "/index.html": "text/html; charset=utf-8",
              "/network.json": "application/json", "/version": "application/json"}

    class Handler(BaseHTTPRequestHandler):
        server_version = "handnet-serve"
        sys_version = ""

        def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8", head=False):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _answer(self, head: bool) -> None:
            host = (self.headers.get("Host") or "").strip().lower()
            if host not in server.allowed_hosts():
                self._send(403, f"handnet serve answers only requests addressed to {server.url}\n".encode(), head=head)
                return
            route = urlsplit(self.path).path
            if route not in routes:
                self._send(404, b"not found: handnet serve has /, /network.json and /version\n", head=head)
                return
            body = server.response("/" if route == "/index.html" else route)
            self._send(200, body, routes[route], head=head)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            self._answer(head=False)

        def do_HEAD(self):  # noqa: N802
            self._answer(head=True)

        def log_message(self, format, *args):  # the page polls several times a second: keep the terminal quiet
            pass

    return Handler


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.05) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds pass (for tests and scripts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
