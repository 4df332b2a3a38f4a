"""The one place that sets numba JIT options.

* ``TEXTMINE_NUMBA_CACHE`` (default ``1``) turns on-disk caching of compiled kernels on or off.
  The cache lives where numba puts it (``NUMBA_CACHE_DIR`` overrides; per user).
* ``FASTMATH`` is a subset without ``nnan``/``ninf``: entropy code meets ``log(0)`` and ``inf``.
* ``NUMBA_DISABLE_JIT=1`` runs every kernel as plain Python (used for coverage).

Other modules import ``njit`` / ``njit_parallel`` from here and never call ``numba.njit`` directly.
"""
import functools
import os
import types

import numba

CACHE = os.environ.get("TEXTMINE_NUMBA_CACHE", "1").lower() not in ("0", "false", "no", "off", "")
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("0", "")

njit = functools.partial(numba.njit, cache=CACHE, nogil=True)
njit_fast = functools.partial(numba.njit, cache=CACHE, nogil=True, fastmath=FASTMATH)
njit_parallel = functools.partial(numba.njit, cache=CACHE, nogil=True, parallel=True)
njit_parallel_fast = functools.partial(numba.njit, cache=CACHE, nogil=True, parallel=True, fastmath=FASTMATH)
prange = numba.prange


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
