"""Executors for the map-reduce stages: local processes (default) or Dask ``distributed``.

An engine runs a picklable module-level function over a list of tasks and yields results as they
complete (unordered); callers make their output independent of completion order.

* ``local``: ``-j 1`` runs in-process; ``-j N`` uses a ``multiprocessing`` pool of N processes
  (works under fork, forkserver and spawn: tasks and functions pickle, and numba kernels come from
  the on-disk cache). Ctrl-C terminates the workers.
* ``dask``: tasks submitted to a Dask cluster. ``scheduler='tcp://HOST:PORT'`` (or
  ``DASK_SCHEDULER_ADDRESS``) joins an existing cluster, whose workers must see the same files
  (paths are made absolute); otherwise a local cluster of N single-threaded worker processes
  starts. A cluster without workers for ``TEXTMINE_DASK_NO_WORKER_TIMEOUT`` seconds (60) is an
  error, not a hang.
"""
import multiprocessing
import os
import queue
import signal

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
            pool, self._pool = self._pool, None
            if terminate:
                _kill_pool(pool)
            else:
                pool.close()
                pool.join()


def _kill_pool(pool):
    """Stop a ``multiprocessing`` pool at once: workers killed first, then the pool's handler threads
    let out, so that a long-lived caller keeps neither threads nor pipes from a failed ``-j N`` call.

    ``Pool.terminate()`` puts a sentinel on the result queue before it stops the workers, and its
    result thread quits at the first result after the request. A worker then writing a large result
    (discover-words' counts) fills the pipe that nobody reads any more while holding the queue's
    write lock, and ``terminate()`` waits for that lock for ever: SIGTERM during ``discover-words -j
    2`` hung (CI, 2026-12-05; about 1 run in 5 with 64 MB results, tests/test_robust_io.py). So the
    workers are killed first. A killed worker can leave the result queue's write lock taken and half a
    message in its pipe, which kept the task thread (waiting for that lock) and the result thread
    (waiting for the rest of the message) blocked for the life of the process; with every worker dead,
    :func:`_let_handlers_out` ends both."""
    from multiprocessing import pool as mp_pool

    handlers = [getattr(pool, name, None) for name in ("_worker_handler", "_task_handler", "_result_handler")]
    finalizer = getattr(pool, "_terminate", None)
    if None in handlers or not hasattr(finalizer, "cancel"):  # another Pool than CPython's: its own way
        pool.terminate()
        pool.join()
        return
    for h in handlers:  # the worker handler must not start new workers for the killed ones
        h._state = mp_pool.TERMINATE
    pool._state = mp_pool.TERMINATE
    for _ in range(2):  # a worker the handler started just before it saw the state: the second round
        procs = list(pool._pool)
        for p in procs:
            if p.exitcode is None:
                p.kill()
        for p in procs:
            p.join(10)
        handlers[0].join(1)
    finalizer.cancel()
    if all(p.exitcode is not None for p in pool._pool):
        _let_handlers_out(pool, handlers[1:])


def _let_handlers_out(pool, threads, timeout=1.0):
    """End a pool's task and result threads once its workers are all dead (CPython's Pool).

    The pipes' ends the workers held are closed with them, so closing the parent's write end of the
    result pipe gives the result thread end-of-file (also in the middle of a message), and closing
    the parent's read end of the task pipe makes a task write fail (EPIPE), both of which the threads
    take as the end. The result queue's write lock is taken first, so that the task thread is not
    writing while its pipe is closed; if a killed worker holds it, it is released after the close, and
    the task thread's sentinel then fails on the closed pipe. Threads still alive after ``timeout``
    seconds (a pipe end held by another process forked meanwhile) stay as before: daemons."""
    outqueue, inqueue = getattr(pool, "_outqueue", None), getattr(pool, "_inqueue", None)
    needed = ((outqueue, "_wlock"), (outqueue, "_writer"), (inqueue, "_reader"), (inqueue, "_rlock"))
    if any(getattr(obj, name, None) is None for obj, name in needed):
        return
    # Taken, or not taken in time: held by a killed worker. Either way it is free after the release.
    outqueue._wlock.acquire(timeout=0.2)  # the task thread holds it only to write a short sentinel
    outqueue._writer.close()
    try:
        outqueue._wlock.release()
    except ValueError:  # released in the meantime by a worker that was not quite dead
        pass
    # Only workers take the task pipe's read lock: free it whether a killed worker holds it or not.
    inqueue._rlock.acquire(block=False)
    inqueue._rlock.release()
    inqueue._reader.close()
    for t in threads:
        t.join(timeout)


_CLUSTER_SCRIPT = """
import sys
try:
    from distributed import LocalCluster
    with LocalCluster(n_workers=int(sys.argv[1]), threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster:
        print(cluster.scheduler_address, flush=True)
        sys.stdin.read()
except (BrokenPipeError, KeyboardInterrupt):  # textmine went away first
    pass
"""


class _LocalCluster:
    """A ``distributed.LocalCluster`` of ``n`` single-threaded worker processes in a child process
    of its own session; ``address`` is its scheduler's. Its log (stderr) goes to a temporary file,
    shown when the cluster does not start."""

    def __init__(self, n):
        import subprocess
        import sys
        import tempfile

        # the workers import this textmine, also when it runs from a checkout (bin/textmine)
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen([sys.executable, "-c", _CLUSTER_SCRIPT, str(n)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._log, env=env,
                                      start_new_session=hasattr(os, "killpg"))
        try:
            line = self._proc.stdout.readline().decode().strip()
        except BaseException:  # Ctrl-C while it starts
            self.close(terminate=True)
            raise
        if not line:
            self._log.seek(0)
            tail = self._log.read().decode("utf-8", "replace").strip().splitlines()[-1:]
            self.close(terminate=True)
            raise TextmineError("the local Dask cluster did not start" + (f": {tail[0]}" if tail else ""))
        self.address = line

    def close(self, terminate=False, timeout=10):
        """Close stdin, so the cluster shuts down cleanly; after ``timeout`` seconds, kill it."""
        import subprocess

        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        try:
            proc.stdin.close()
            proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            kill = getattr(os, "killpg", None) or os.kill  # no process groups on Windows
            for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
                try:
                    kill(proc.pid, sig)
                    proc.wait(timeout / 2)
                    break
                except (OSError, subprocess.TimeoutExpired):
                    pass
        finally:
            self._log.close()


#: Seconds a Dask run waits while its cluster has no worker before it gives up (default 60).
NO_WORKER_TIMEOUT_ENV = "TEXTMINE_DASK_NO_WORKER_TIMEOUT"


def _absolute_paths(task):
    """``task`` with every :class:`~textmine.corpus.Shard` path made absolute, so that a worker
    started in another directory (or on another machine with the same mounts) finds the file.
    Tuples are walked; anything else (a batch of lines, a config) is left as it is."""
    import dataclasses

    from textmine.corpus import STDIN, Shard

    if isinstance(task, Shard):
        return task if task.path == STDIN else dataclasses.replace(task, path=os.path.abspath(task.path))
    if isinstance(task, tuple):
        return tuple(_absolute_paths(t) for t in task)
    return task


def _quiet_dask_logs():
    """Silence distributed's loggers: used while a cluster is torn down after Ctrl-C or an error,
    when workers and comms report the cancelled work at length."""
    import logging

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


class DaskEngine:
    """Tasks on a Dask ``distributed`` cluster (``pip install textmine[dask]``).

    * Shard paths are made absolute before tasks are shipped (workers may run in another directory).
    * When the cluster has had no worker for ``no_worker_timeout`` seconds (default: the
      ``TEXTMINE_DASK_NO_WORKER_TIMEOUT`` environment variable, else 60) the run stops with an
      error instead of waiting forever.
    * A local cluster runs in a process session of its own: Ctrl-C reaches the parent only, which
      closes the cluster quietly (no worker tracebacks) and exits 130.
    """

    name = "dask"

    def __init__(self, n_jobs=1, scheduler=None, no_worker_timeout=None):
        try:
            from distributed import Client
        except ImportError:
            raise TextmineError("--engine dask needs dask[distributed]: pip install 'textmine[dask]'") from None
        if no_worker_timeout is None:
            raw = os.environ.get(NO_WORKER_TIMEOUT_ENV, "60")
            try:
                no_worker_timeout = float(raw)
            except ValueError:
                raise TextmineError(f"{NO_WORKER_TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
        if not no_worker_timeout > 0:
            raise TextmineError(f"the no-worker timeout must be a positive number of seconds, not {no_worker_timeout}")
        self.no_worker_timeout = float(no_worker_timeout)
        scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
        self._cluster = None
        self.client = None
        self.n_workers = max(1, int(n_jobs))
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="10s")
                self.n_workers = max(1, len(self.client.scheduler_info().get("workers", {})))
            else:
                self._cluster = _LocalCluster(max(1, int(n_jobs)))
                self.client = Client(self._cluster.address, timeout="30s")
        except (OSError, TimeoutError) as e:
            self.close(terminate=True)
            raise TextmineError(f"cannot reach the Dask scheduler {scheduler}: {e}") from None
        except BaseException:
            self.close(terminate=True)
            raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(terminate=exc_type is not None)

    def _workers_now(self):
        try:
            return len(self.client.nthreads())
        except (OSError, TimeoutError) as e:
            raise TextmineError(f"lost the Dask scheduler: {e}") from None

    def _wait_some(self, pending):
        """Block until at least one of ``pending`` is done; raise when the cluster has had no
        worker for :attr:`no_worker_timeout` seconds."""
        import time

        from distributed import wait

        poll = min(1.0, self.no_worker_timeout / 4)
        since = None  # when the cluster was first seen without a worker
        while True:
            try:
                done, _ = wait(list(pending), timeout=poll, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = ()
            if done:
                return done
            if self._workers_now():
                since = None
            elif since is None:
                since = time.monotonic()
            elif time.monotonic() - since >= self.no_worker_timeout:
                raise TextmineError(
                    f"the Dask cluster has had no worker for {self.no_worker_timeout:g} s with {len(pending)} "
                    f"task{'s' if len(pending) != 1 else ''} waiting; start workers, or set "
                    f"{NO_WORKER_TIMEOUT_ENV} to wait longer")

    def map_unordered(self, fn, tasks):
        """Yield ``fn(task)`` as tasks complete, with at most ``2 * n_workers`` tasks in flight."""
        from distributed import KilledWorker

        import warnings

        def submit(task):
            with warnings.catch_warnings():  # reduce tasks carry their partials: not a user's concern
                warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
                return self.client.submit(fn, task, pure=False)

        it = (_absolute_paths(t) for t in tasks)
        pending = {submit(t) for _, t in zip(range(2 * self.n_workers), it)}
        try:
            while pending:
                for fut in self._wait_some(pending):
                    pending.discard(fut)
                    try:
                        result = fut.result()
                    except KilledWorker as e:
                        raise TextmineError(f"Dask workers kept dying while running a task ({e}); "
                                            "see the workers' logs (out of memory?)") from None
                    for t in it:
                        pending.add(submit(t))
                        break
                    yield result
        except BaseException:
            _quiet_dask_logs()
            for fut in pending:
                fut.cancel()
            raise

    def close(self, terminate=False):
        """Close the client and a local cluster; after an error or Ctrl-C quietly and within seconds."""
        if terminate:
            _quiet_dask_logs()
        for part in (self.client, self._cluster):
            if part is None:
                continue
            try:
                if part is self._cluster:
                    part.close(terminate=terminate)
                else:
                    part.close(**({"timeout": 5} if terminate else {}))
            except Exception:
                if not terminate:
                    raise
        self.client = self._cluster = None


# A local Dask cluster runs in its own process session, so the terminal's Ctrl-C reaches textmine
# only (which then closes it) and never the workers; it lives until its stdin closes, so it goes
# away with textmine however textmine ends.
def make_engine(engine="local", n_jobs=1, scheduler=None):
    if engine == "local":
        if scheduler:
            raise TextmineError("--scheduler needs --engine dask")
        return LocalEngine(n_jobs)
    if engine == "dask":
        return DaskEngine(n_jobs, scheduler)
    raise TextmineError(f"unknown engine {engine!r}; choose local or dask")
