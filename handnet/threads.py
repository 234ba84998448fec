"""The BLAS thread policy: small products run on one thread.

On a shared 2-core machine two OpenBLAS threads spinning on a 16x16 product fight each other and
whatever else runs, and can be ten times slower than one. Everything in handnet whose matrices
are small runs inside ``one_blas_thread()``; only large training batches use more threads.
"""

from __future__ import annotations

import functools

from threadpoolctl import threadpool_limits


def blas_threads(n: int | None):
    """A context that limits BLAS to ``n`` threads (None: leave it as it is)."""
    return threadpool_limits(limits=n, user_api="blas")


def one_blas_thread():
    """A context in which BLAS runs single-threaded."""
    return blas_threads(1)


def single_threaded(func):
    """Decorate ``func`` to run in ``one_blas_thread()``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)

    return wrapper
