"""Properties every numba kernel of the package must have."""
import importlib
import pkgutil

import pytest

import textmine
from conftest import JIT_DISABLED


def _dispatchers():
    from numba.core.dispatcher import Dispatcher

    found = []
    for info in pkgutil.iter_modules(textmine.__path__, "textmine."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == module.__name__:
                found.append((f"{module.__name__}.{name}", obj))
    return found


@pytest.mark.skipif(JIT_DISABLED, reason="no dispatchers without the JIT")
def test_no_two_builds_share_a_cache_entry():
    """numba's on-disk cache keys a kernel by its function's qualified name and first line, not by
    its options: two builds of one function (serial and parallel) would both load whichever was
    compiled first. Every build must come from its own function (``_numba.serial_and_parallel``)."""
    seen = {}
    for name, d in _dispatchers():
        key = (d.py_func.__code__.co_filename, d.py_func.__code__.co_firstlineno, d.py_func.__qualname__)
        seen.setdefault(key, set()).add(id(d))
        assert len(seen[key]) == 1, f"{name} shares its cache entry {key} with another build"
    assert len(seen) > 50


@pytest.mark.skipif(JIT_DISABLED, reason="no dispatchers without the JIT")
def test_every_kernel_is_cached_outside_the_package():
    """A compiled kernel cached beside the code ends up in site-packages/textmine/__pycache__,
    which `pip uninstall` leaves behind and which then shadows an editable install."""
    import os

    from textmine import _numba

    if not _numba.CACHE:
        pytest.skip("caching is off here")
    package = os.path.dirname(textmine.__file__)
    for name, d in _dispatchers():
        path = os.path.abspath(d._cache._cache_path)
        assert path.startswith(os.path.abspath(_numba.CACHE_DIR)), (name, path)
        assert not path.startswith(package + os.sep), (name, path)
