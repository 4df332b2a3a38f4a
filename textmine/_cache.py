"""Where textmine keeps what it can rebuild: compiled kernels and prepared dictionaries.

Nothing is ever written inside the installed package (a leftover ``__pycache__`` of compiled
kernels in ``site-packages/textmine`` survives ``pip uninstall`` and then shadows a later
editable install). The root is, in order:

1. ``$TEXTMINE_CACHE_DIR``;
2. ``$XDG_CACHE_HOME/textmine``, else ``~/.cache/textmine`` (``%LOCALAPPDATA%\\textmine`` on
   Windows);
3. when that is not writable (a read-only or missing ``$HOME``), ``$TMPDIR/textmine-cache-UID``,
   made private to the user.

Compiled numba kernels go to ``ROOT/numba/<textmine>-<install>-py<X.Y>-numba<V>`` (one folder
per textmine version, install location, Python and numba version, so upgrades and side-by-side
checkouts never trade cache files) unless ``NUMBA_CACHE_DIR`` is set, which numba then honours
for every function. This module imports neither numpy nor numba: the CLI asks it whether the
kernel cache is cold before anything heavy is loaded.
"""
import hashlib
import os
import sys
import tempfile

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    env = os.environ.get("TEXTMINE_CACHE_DIR")
    if env:
        yield env
        return
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        yield os.path.join(os.environ["LOCALAPPDATA"], "textmine")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        yield os.path.join(base, "textmine")
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    yield os.path.join(tempfile.gettempdir(), f"textmine-cache-{uid}")


def _usable(path):
    """Make ``path`` (private to the user) and check that a file can be created in it."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        if hasattr(os, "getuid") and os.stat(path).st_uid != os.getuid():
            return False  # someone else's folder in a shared /tmp: never trust it
        fd, probe = tempfile.mkstemp(dir=path, prefix=".probe")
        os.close(fd)
        os.unlink(probe)
        return True
    except OSError:
        return False


def cache_root():
    """The first usable cache folder of the list above, or ``None`` when none is writable."""
    return next((p for p in _candidates() if _usable(p)), None)


def tried():
    """The folders :func:`cache_root` tries, for messages."""
    return list(_candidates())


def _numba_version():
    try:
        from importlib.metadata import version
        return version("numba")
    except Exception:  # noqa: BLE001 - not installed through pip: ask the module itself
        import numba
        return numba.__version__


def numba_cache_dir():
    """The folder for compiled kernels (``NUMBA_CACHE_DIR`` wins), or ``None`` when no folder is
    writable (kernels are then compiled on every run)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    root = cache_root()
    if root is None:
        return None
    from textmine import __version__

    install = hashlib.sha1(_PACKAGE_DIR.encode()).hexdigest()[:8]
    name = f"{__version__}-{install}-py{sys.version_info[0]}.{sys.version_info[1]}-numba{_numba_version()}"
    return os.path.join(root, "numba", name)


def kernels_cached():
    """Whether the kernel cache folder holds any compiled kernel yet (a cheap cold-start test)."""
    d = numba_cache_dir()
    if d is None or not os.path.isdir(d):
        return False
    for _, _, files in os.walk(d):
        if any(f.endswith(".nbi") for f in files):
            return True
    return False
