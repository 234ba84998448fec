"""Independent training runs (the ladder's seeds and rungs, the surgery's refits) in parallel processes.

Each run is a pure function of its arguments (the seed is always passed explicitly), so running
them in worker processes gives the same networks bit for bit as running them one after another
here: every worker keeps BLAS on one thread (the policy of ``handnet.threads``; the small
mini-batches train on one thread anyway), and results come back in the order of the tasks.

``run_all(function, tasks, shared, jobs)`` calls ``function(shared, task)`` for every task;
``shared`` is what every task reads (e.g. the training digits). One pool of workers serves the
whole process (started on first use: a worker costs about half a second to start). Workers are
started with ``spawn`` (safe with threads and on every platform), so a script that asks for more
than one job needs the usual ``if __name__ == "__main__":`` guard; the library's functions
default to ``jobs=1`` (everything here, in this process, as ``--jobs 1``) and the CLI to the
available cores.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from handnet.threads import available_cores

_pool: list = []  # [(jobs, ProcessPoolExecutor)]: one pool for the process, started on first use


def _start_worker() -> None:
    from handnet.threads import one_blas_thread_for_life

    one_blas_thread_for_life()  # the cores are the workers: one BLAS thread each


def _call(function, shared, task):
    return function(shared, task)


def _executor(jobs: int) -> ProcessPoolExecutor:
    """The process's pool of ``jobs`` workers, kept between calls: starting a worker (a fresh Python
    importing NumPy and handnet) costs about half a second, and the demo asks four times."""
    if _pool and (_pool[0][0] != jobs or getattr(_pool[0][1], "_broken", False)):  # resized, or a worker died
        _pool.pop()[1].shutdown(wait=False, cancel_futures=True)
    if not _pool:
        context = multiprocessing.get_context("spawn")
        _pool.append((jobs, ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker)))
    return _pool[0][1]


def run_all(function, tasks, shared=None, jobs: int | None = 1, progress=None) -> list:
    """``[function(shared, task) for task in tasks]``, in up to ``jobs`` processes (None: the
    available cores; 1 or a single task: here, serially). ``function`` must be a module-level
    function (workers import it by name). ``progress(1)`` is called as each task finishes."""
    tasks = list(tasks)
    jobs = available_cores() if jobs is None else int(jobs)
    step = progress or (lambda k: None)
    if jobs <= 1 or len(tasks) <= 1:
        results = []
        for task in tasks:
            results.append(function(shared, task))
            step(1)
        return results
    pool = _executor(jobs)
    futures = [pool.submit(_call, function, shared, task) for task in tasks]
    try:
        for future in futures:  # in order: the progress bar moves as the runs finish, roughly
            future.result()
            step(1)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return [future.result() for future in futures]
