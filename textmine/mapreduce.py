"""Executors for the map-reduce stages: local processes (default) or Dask ``distributed``.

An engine runs a picklable module-level function over a list of tasks and yields results as they
complete (unordered); callers make their output independent of completion order.

* ``local``: ``-j 1`` runs in-process; ``-j N`` uses a ``multiprocessing`` pool of N processes
  (works under fork, forkserver and spawn: tasks and functions pickle, and numba kernels come from
  the on-disk cache). Ctrl-C terminates the workers.
* ``dask``: ``client.map`` on a Dask cluster. ``scheduler='tcp://HOST:PORT'`` (or
  ``DASK_SCHEDULER_ADDRESS``) joins an existing cluster, whose workers must see the same files;
  otherwise a local cluster of N single-threaded worker processes starts.
"""
import multiprocessing
import os
import queue

from textmine.errors import TextmineError


def _ignore_sigint():
    """Workers leave Ctrl-C to the parent, which terminates them and exits 130; SIGTERM and
    SIGHUP end a worker silently (:func:`textmine._signals.worker_init`)."""
    from textmine._signals import worker_init

    worker_init()


class LocalEngine:
    """In-process for one job, a process pool otherwise."""

    name = "local"

    def __init__(self, n_jobs=1):
        self.n_jobs = max(1, int(n_jobs))
        self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(terminate=exc_type is not None)

    def map_unordered(self, fn, tasks):
        """Yield ``fn(task)`` as tasks complete; at most ``2 * n_jobs`` tasks are in flight, so a
        lazy task iterator (e.g. batches read from stdin) is consumed with bounded memory."""
        if self.n_jobs == 1:
            for t in tasks:
                yield fn(t)
            return
        if self._pool is None:
            self._pool = multiprocessing.get_context().Pool(self.n_jobs, initializer=_ignore_sigint)
        done = queue.Queue()
        it = iter(tasks)
        in_flight = 0

        def submit():
            nonlocal in_flight
            for t in it:
                self._pool.apply_async(fn, (t,), callback=lambda r: done.put((True, r)),
                                       error_callback=lambda e: done.put((False, e)))
                in_flight += 1
                return True
            return False

        for _ in range(2 * self.n_jobs):
            if not submit():
                break
        while in_flight:
            ok, value = done.get()
            in_flight -= 1
            if not ok:
                raise value
            submit()
            yield value

    def close(self, terminate=False):
        if self._pool is not None:
            if terminate:
                self._pool.terminate()
            else:
                self._pool.close()
            self._pool.join()
            self._pool = None


class DaskEngine:
    """Tasks on a Dask ``distributed`` cluster (``pip install textmine[dask]``)."""

    name = "dask"

    def __init__(self, n_jobs=1, scheduler=None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise TextmineError("--engine dask needs dask[distributed]: pip install 'textmine[dask]'") from None
        scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
        self._cluster = None
        self.n_workers = max(1, int(n_jobs))
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="10s")
                self.n_workers = max(1, len(self.client.scheduler_info().get("workers", {})))
            else:
                self._cluster = LocalCluster(n_workers=max(1, int(n_jobs)), threads_per_worker=1,
                                             processes=True, dashboard_address=None, silence_logs=40)
                self.client = Client(self._cluster)
        except (OSError, TimeoutError) as e:
            raise TextmineError(f"cannot reach the Dask scheduler {scheduler}: {e}") from None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def map_unordered(self, fn, tasks):
        from distributed import as_completed

        it = iter(tasks)
        first = [self.client.submit(fn, t, pure=False) for _, t in zip(range(2 * self.n_workers), it)]
        ac = as_completed(first)
        try:
            for fut in ac:
                result = fut.result()
                for t in it:
                    ac.add(self.client.submit(fn, t, pure=False))
                    break
                yield result
        finally:
            ac.clear()

    def close(self, terminate=False):
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_engine(engine="local", n_jobs=1, scheduler=None):
    if engine == "local":
        if scheduler:
            raise TextmineError("--scheduler needs --engine dask")
        return LocalEngine(n_jobs)
    if engine == "dask":
        return DaskEngine(n_jobs, scheduler)
    raise TextmineError(f"unknown engine {engine!r}; choose local or dask")
