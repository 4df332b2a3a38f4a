"""The one place that sets numba JIT options.

* ``TEXTMINE_NUMBA_CACHE`` (default ``1``) turns on-disk caching of compiled kernels on or off.
  The cache lives in a per-user, per-version folder (:mod:`textmine._cache`; ``NUMBA_CACHE_DIR``
  overrides), never inside the installed package. With no writable folder anywhere, kernels are
  compiled on every run and stderr says so once.
* When the CLI asks for it (``TEXTMINE_COMPILE_NOTICE=1``, set unless ``-q``), the first compile
  of a process says so on stderr: a cold run takes seconds longer and should not look hung.
* ``FASTMATH`` is a subset without ``nnan``/``ninf``: entropy code meets ``log(0)`` and ``inf``.
* ``NUMBA_DISABLE_JIT=1`` runs every kernel as plain Python (used for coverage).

Other modules import ``njit`` / ``njit_parallel`` from here and never call ``numba.njit`` directly.
"""
import contextlib
import os
import sys
import types

import numba
from numba.core import config as _config
from numba.core import event as _event

from textmine import _cache

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("0", "")
CACHE_DIR = _cache.numba_cache_dir()
CACHE = (os.environ.get("TEXTMINE_NUMBA_CACHE", "1").lower() not in ("0", "false", "no", "off", "")
         and CACHE_DIR is not None)
if CACHE_DIR is None and not JIT_DISABLED:
    sys.stderr.write("textmine: no writable cache folder (tried " + ", ".join(_cache.tried())
                     + "); compiled kernels are not kept and every run compiles them again; "
                     "set TEXTMINE_CACHE_DIR\n")


@contextlib.contextmanager
def _our_cache_dir():
    """numba picks a function's cache folder when it is decorated: point it at ours for the
    decoration only, so a user's own numba functions in the same process keep numba's default."""
    saved = _config.CACHE_DIR
    _config.CACHE_DIR = CACHE_DIR
    try:
        yield
    finally:
        _config.CACHE_DIR = saved


def _jit(**base):
    """A decorator like ``numba.njit`` with textmine's options; usable bare or with keywords."""
    def decorator(func=None, **options):
        opts = dict(base, **options)

        def build(f):
            if not opts.get("cache"):
                return numba.njit(**opts)(f)
            with _our_cache_dir():
                return numba.njit(**opts)(f)
        return build if func is None else build(func)
    return decorator


njit = _jit(cache=CACHE, nogil=True)
njit_fast = _jit(cache=CACHE, nogil=True, fastmath=FASTMATH)
njit_parallel = _jit(cache=CACHE, nogil=True, parallel=True)
njit_parallel_fast = _jit(cache=CACHE, nogil=True, parallel=True, fastmath=FASTMATH)
prange = numba.prange


class _CompileNotice(_event.Listener):
    """Says once per process, on the first real compile (a cache load is not one), that kernels
    are being compiled; only in the main process and when the CLI asked for it."""

    said = False

    def on_start(self, event):
        if self.said or os.environ.get("TEXTMINE_COMPILE_NOTICE") != "1":
            return
        import multiprocessing

        if multiprocessing.parent_process() is not None:
            return
        type(self).said = True
        os.environ["TEXTMINE_COMPILE_NOTICE"] = "said"
        where = f"; they are kept in {CACHE_DIR}" if CACHE else ""
        sys.stderr.write(f"textmine: compiling numba kernels (first use{where})...\n")
        sys.stderr.flush()

    def on_end(self, event):
        pass


_event.register("numba:compile", _CompileNotice())


def renamed(py_func, name):
    """A copy of the Python function ``py_func`` under another name.

    numba's on-disk cache is keyed by the function's qualified name and line, not by the
    ``parallel`` or ``fastmath`` flags: wrapping one function twice would make both builds load
    whichever was compiled first (a "parallel" kernel then silently runs on one thread).
    """
    g = types.FunctionType(py_func.__code__, py_func.__globals__, name, py_func.__defaults__,
                           py_func.__closure__)
    g.__qualname__ = name
    g.__doc__ = py_func.__doc__
    return g


def serial_and_parallel(py_func, fast=False):
    """Both builds of one kernel, made once at import under distinct cache names.

    Returns ``(serial, parallel)``; in the serial build ``prange`` runs as ``range``. With
    ``fast`` both use the :data:`FASTMATH` flags.
    """
    serial = (njit_fast if fast else njit)(renamed(py_func, py_func.__name__ + "_serial"))
    parallel = (njit_parallel_fast if fast else njit_parallel)(renamed(py_func, py_func.__name__ + "_parallel"))
    return serial, parallel


def set_num_threads(n):
    """Set numba's thread count for parallel kernels, clamped to what numba allows."""
    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    return n
