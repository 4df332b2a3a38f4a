"""Where compiled kernels and prepared dictionaries are kept: a per-user, per-version folder,
never the installed package, with a private fallback when $HOME is read-only."""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from conftest import JIT_DISABLED, ROOT

pytestmark = pytest.mark.skipif(JIT_DISABLED, reason="needs the JIT")

# a module of the user's own, jitted once with textmine's decorator and once with numba's
USER_MODULE = textwrap.dedent("""
    import numba
    from textmine._numba import njit

    @njit
    def ours(n):
        return n + 1

    @numba.njit(cache=True)
    def theirs(n):
        return n + 2
""")
RUN = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import usermod
    from textmine import _numba
    assert usermod.ours(1) == 2 and usermod.theirs(1) == 3
    print(_numba.CACHE_DIR)
""")


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "TEXTMINE_CACHE_DIR", "XDG_CACHE_HOME", "TEXTMINE_COMPILE_NOTICE")}
    env.update(PYTHONPATH=str(ROOT), HOME=str(tmp_path / "home"), **extra)
    return env


def _files(folder, suffixes=(".nbi", ".nbc")):
    return sorted(p for p in pathlib.Path(folder).rglob("*") if p.suffix in suffixes)


def _run_user_module(tmp_path, env):
    mod = tmp_path / "mod"
    mod.mkdir(exist_ok=True)
    (mod / "usermod.py").write_text(USER_MODULE)
    p = subprocess.run([sys.executable, "-c", RUN, str(mod)], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    return pathlib.Path(p.stdout.strip()), p.stderr, mod


def test_kernels_are_cached_per_user_and_version_never_beside_the_code(tmp_path):
    before = _files(ROOT / "textmine")
    cache, err, mod = _run_user_module(tmp_path, _env(tmp_path, XDG_CACHE_HOME=str(tmp_path / "xdg")))
    assert err == ""
    # ours: in $XDG_CACHE_HOME/textmine/numba/<textmine>-<install>-py<X.Y>-numba<V>
    assert cache.parent == tmp_path / "xdg" / "textmine" / "numba"
    from textmine import __version__
    assert cache.name.startswith(__version__ + "-") and f"-py{sys.version_info[0]}.{sys.version_info[1]}-numba" in cache.name
    ours = _files(cache)
    assert any("ours" in p.name for p in ours) and not any("theirs" in p.name for p in ours)
    # the user's own cache=True function keeps numba's default place (its __pycache__)
    assert any("theirs" in p.name for p in _files(mod / "__pycache__"))
    assert not any("ours" in p.name for p in _files(mod / "__pycache__"))
    # nothing was written inside the textmine package
    assert _files(ROOT / "textmine") == before
    # a second process loads instead of compiling: the cache files are not rewritten
    stamps = {p: p.stat().st_mtime_ns for p in ours}
    _run_user_module(tmp_path, _env(tmp_path, XDG_CACHE_HOME=str(tmp_path / "xdg")))
    assert {p: p.stat().st_mtime_ns for p in _files(cache)} == stamps


def test_numba_cache_dir_and_textmine_cache_dir_are_honoured(tmp_path):
    cache, _, _ = _run_user_module(tmp_path, _env(tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "nb")))
    assert cache == tmp_path / "nb" and any("ours" in p.name for p in _files(cache))
    cache, _, _ = _run_user_module(tmp_path, _env(tmp_path, TEXTMINE_CACHE_DIR=str(tmp_path / "tm")))
    assert cache.parent == tmp_path / "tm" / "numba"


def test_read_only_home_falls_back_to_a_private_temporary_folder(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")  # $XDG_CACHE_HOME/textmine cannot be made under a file (even as root)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = _env(tmp_path, XDG_CACHE_HOME=str(blocker), TMPDIR=str(tmp))
    cache, err, _ = _run_user_module(tmp_path, env)
    assert err == ""
    root = tmp / f"textmine-cache-{os.getuid()}"
    assert cache.parent == root / "numba" and any("ours" in p.name for p in _files(cache))
    assert (root.stat().st_mode & 0o777) == 0o700
    # nowhere writable at all (an explicit TEXTMINE_CACHE_DIR is the only place tried): it still
    # works, and says once that nothing is kept
    env = _env(tmp_path, TEXTMINE_CACHE_DIR=str(blocker / "sub"))
    p = subprocess.run([sys.executable, "-c", RUN, str(tmp_path / "mod")], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and p.stdout.strip() == "None"
    assert p.stderr.count("no writable cache folder") == 1 and "TEXTMINE_CACHE_DIR" in p.stderr


def test_a_cold_run_says_it_is_compiling_unless_quiet(tmp_path):
    table = tmp_path / "t.tsv"
    table.write_text("".join(f"{i % 7}\t{(i * 3) % 5}\n" for i in range(40)))
    cmd = [sys.executable, "-m", "textmine", "hsic", str(table)]
    env = _env(tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "cold"))
    quiet = subprocess.run(cmd + ["-q"], capture_output=True, text=True, env=env)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    env = _env(tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "cold2"))
    loud = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert loud.returncode == 0 and loud.stdout == quiet.stdout
    assert loud.stderr.count("compiling numba kernels") == 1 and str(tmp_path / "cold2") in loud.stderr
    warm = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert warm.returncode == 0 and "compiling" not in warm.stderr
