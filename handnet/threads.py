"""The BLAS thread policy: small products run on one thread.

On a shared 2-core machine two OpenBLAS threads spinning on a 16x16 product fight each other and
whatever else runs, and can be ten times slower than one. Everything in handnet whose matrices
are small runs inside ``one_blas_thread()`` (every CLI command does); only large training
batches use ``many_blas_threads()``.

threadpoolctl limits the BLAS libraries loaded when a context is entered: SciPy brings its own
OpenBLAS, so code that calls SciPy imports it first and then enters ``one_blas_thread()``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading

_default: list[int] = []  # BLAS's thread count before handnet first limited it
_worker: list[bool] = []  # [True] in a worker process of handnet.compare.parallel (its cores are the workers)


def _threadpool_limits(n):
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n, user_api="blas")


def default_blas_threads() -> int:
    """How many threads BLAS used before handnet limited it (what large products get)."""
    if not _default:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        _default.append(max(counts, default=1))
    return _default[0]


_local = threading.local()  # each thread's stack of limits entered through blas_threads


@contextlib.contextmanager
def blas_threads(n: int | None):
    """A context that limits BLAS to ``n`` threads (None: leave it as it is).

    Entering the limit this thread is already inside costs nothing (threadpoolctl's limit takes
    about a millisecond, and the maximizer nests hundreds of them), unless SciPy was imported
    since: its BLAS is then limited too."""
    stack = _local.__dict__.setdefault("limits", [])
    # SciPy brings its own BLAS: a limit entered before SciPy was imported does not cover it
    libraries = "scipy" in sys.modules
    if n is None or (stack and stack[-1] == (n, libraries)):
        yield
        return
    default_blas_threads()  # remember the count before the first limit
    with _threadpool_limits(n):
        stack.append((n, libraries))
        try:
            yield
        finally:
            stack.pop()


def one_blas_thread():
    """A context in which BLAS runs single-threaded."""
    return blas_threads(1)


def many_blas_threads():
    """A context in which BLAS has its default thread count again, even inside ``one_blas_thread()``."""
    return blas_threads(default_blas_threads())


def single_threaded(func):
    """Decorate ``func`` to run in ``one_blas_thread()``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)

    return wrapper


def available_cores() -> int:
    """The cores this process may run on (the default for ``--jobs``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity mask
        return max(1, os.cpu_count() or 1)


def one_blas_thread_for_life() -> None:
    """Limit BLAS to one thread for the rest of this process, ``many_blas_threads()`` included (a
    worker process of ``handnet.compare.parallel``: the cores are the workers)."""
    _default[:] = [1]
    _worker[:] = [True]
    _threadpool_limits(1)  # applied at once, never undone


def spare_cores() -> int:
    """How many cores helper threads (the trainer's data prefetch) could have beside this thread: the
    cores this process may run on, less one for itself and less the machine's other work (the
    1-minute load average, which counts this process when it is busy); 0 in a worker process of
    ``handnet.compare.parallel``, whose cores are the other workers'."""
    if _worker:
        return 0
    cores = available_cores()
    try:
        idle = (os.cpu_count() or cores) - os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows): trust the affinity mask
        idle = cores
    return max(0, min(cores - 1, int(idle)))
