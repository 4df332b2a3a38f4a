"""The one place that sets numba JIT options.

* ``TEXTMINE_NUMBA_CACHE`` (default ``1``) turns on-disk caching of compiled kernels on or off.
  The cache lives where numba puts it (``NUMBA_CACHE_DIR`` overrides; per user).
* ``FASTMATH`` is a subset without ``nnan``/``ninf``: entropy code meets ``log(0)`` and ``inf``.
* ``NUMBA_DISABLE_JIT=1`` runs every kernel as plain Python (used for coverage).

Other modules import ``njit`` / ``njit_parallel`` from here and never call ``numba.njit`` directly.
"""
import functools
import os

import numba

CACHE = os.environ.get("TEXTMINE_NUMBA_CACHE", "1").lower() not in ("0", "false", "no", "off", "")
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("0", "")

njit = functools.partial(numba.njit, cache=CACHE, nogil=True)
njit_fast = functools.partial(numba.njit, cache=CACHE, nogil=True, fastmath=FASTMATH)
njit_parallel = functools.partial(numba.njit, cache=CACHE, nogil=True, parallel=True)
prange = numba.prange


def set_num_threads(n):
    """Set numba's thread count for parallel kernels, clamped to what numba allows."""
    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    return n
