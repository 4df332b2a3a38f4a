"""How a run ends on a signal: Ctrl-C (SIGINT), SIGTERM (``timeout``, ``kill``, ``docker stop``)
and SIGHUP (the terminal closed) all unwind the main thread the same way.

:func:`install` (called by the ``textmine`` command) makes SIGTERM and SIGHUP raise
:class:`Terminated`, a :class:`KeyboardInterrupt`, in the main thread, so every ``finally`` and
``except BaseException`` that cleans up after Ctrl-C (temporary output files, spill directories,
worker pools) also runs on them. The CLI then exits ``128 + signal``: 130 with ``Interrupted``
for Ctrl-C, 143 and 129 quietly. A signal that the process started with ignored (``nohup``, a
background job of a non-interactive shell) stays ignored.

Once a signal has been taken, more signals within :data:`GRACE` seconds are recorded but do not
raise, so a second Ctrl-C or a group-wide SIGTERM cannot cut the clean-up short; after that a
signal raises again (the way out of a clean-up that hangs).

A signal that lands while numba's own Python code runs (typing, compiling, loading its cache,
called from the dispatcher's C code) is put off and taken again 20 ms later: raised there, it
could crash the dispatcher (a segmentation fault). One that lands as a kernel returns can
still surface as a ``SystemError`` whose ``__cause__`` is the :class:`KeyboardInterrupt`;
:func:`interrupted` recognises any exception with an interrupt in its chain.
"""
import os
import signal
import threading
import time

GRACE = 3.0

#: the first signal taken by :func:`install`'s handler in this process (``None``: none yet)
received = None
_raised_at = 0.0
_deferred = None  # a signal put off while numba was compiling, sent again by a timer


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C's :class:`KeyboardInterrupt` so the same clean-up runs."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class Stop(BaseException):
    """Raised by the CLI in place of an interrupt once it has unwound the command: exit
    ``128 + signum`` (Click turns a :class:`KeyboardInterrupt` into ``Abort``; this passes it by)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _in_numba(frame):
    """Whether the main thread is inside numba or llvmlite (typing, compiling, loading the cache):
    an exception raised there can leave the dispatcher's C code with an error it does not
    expect (a segmentation fault, or a ``SystemError``)."""
    while frame is not None:
        name = frame.f_globals.get("__name__") or ""
        if name.startswith(("numba.", "llvmlite.")) or name in ("numba", "llvmlite"):
            return True
        frame = frame.f_back
    return False


def _resend(signum):
    try:
        os.kill(os.getpid(), signum)
    except OSError:
        pass


def _handler(signum, frame):
    global received, _raised_at, _deferred
    if received is None:
        received = signum
    elif signum != _deferred and (_deferred is not None or time.monotonic() - _raised_at < GRACE):
        return  # one is being taken, or its clean-up is under way: let it finish
    if _in_numba(frame):  # take it again in 20 ms, once back in textmine's own code
        _deferred = signum
        timer = threading.Timer(0.02, _resend, (signum,))
        timer.daemon = True
        timer.start()
        return
    _deferred, _raised_at = None, time.monotonic()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


def _signals():
    return [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]


def install():
    """Route SIGINT, SIGTERM and SIGHUP to :func:`_handler` (main thread only; a signal that is
    ignored or has someone else's handler is left alone). Resets :data:`received`. Returns the
    previous handlers, for :func:`restore`."""
    global received, _deferred
    received = _deferred = None
    previous = {}
    for sig in _signals():
        try:
            current = signal.getsignal(sig)
            if current in (signal.SIG_DFL, signal.default_int_handler):
                signal.signal(sig, _handler)
                previous[sig] = current
        except (ValueError, OSError):  # not the main thread, or not settable here
            pass
    return previous


def restore(previous):
    """Put back the handlers that :func:`install` replaced."""
    for sig, handler in previous.items():
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):
            pass


def worker_init():
    """Initializer of worker processes: Ctrl-C is the parent's (it terminates the pool), and
    SIGTERM/SIGHUP end a worker at once and silently (no traceback from a worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in _signals():
        if sig != signal.SIGINT and signal.getsignal(sig) is _handler:
            signal.signal(sig, signal.SIG_DFL)


def _chain(exc):
    """``exc`` and every exception it was caused by or raised while handling."""
    stack, seen = [exc], set()
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack += [e.__context__, e.__cause__]


def interrupted(exc):
    """Whether ``exc`` is, or was caused by or raised while handling, an interrupt."""
    return any(isinstance(e, (KeyboardInterrupt, Stop)) for e in _chain(exc))


def signal_of(exc=None):
    """The signal number an interrupt stands for: the one in the chain of ``exc``, else the
    one taken by the handler, else SIGINT."""
    for e in _chain(exc):
        if isinstance(e, (Terminated, Stop)):
            return e.signum
    return received if received is not None else signal.SIGINT
