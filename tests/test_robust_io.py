"""Lose nothing, in any hands: write errors, symbolic links, signals, broken pipes, output paths
checked before the work, and the out-of-memory hint (issue 16, defects 3, 4, 5, 8 and 9).

Subprocess tests run ``python -m textmine`` with this checkout on ``PYTHONPATH`` and the usual
numba cache, so only the first run of a command compiles.
"""
import errno
import glob
import io
import os
import random
import resource
import signal
import subprocess
import sys
import time

import pytest

from conftest import JIT_DISABLED, ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX files and signals")
# runs of the real command in a child process: minutes with the JIT off (the coverage job)
heavy = pytest.mark.skipif(JIT_DISABLED, reason="runs the commands in child processes; slow without the JIT")

ENV = dict(os.environ, PYTHONPATH=str(ROOT))
HANZI = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动"


def textmine(*args, stdin=None, stdout=subprocess.PIPE, env=None, preexec_fn=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "textmine", *map(str, args)], stdin=stdin, stdout=stdout,
                          stderr=subprocess.PIPE, env=env or ENV, preexec_fn=preexec_fn, timeout=timeout)


def one_error_line(stderr):
    """The stderr of a failed run: no traceback, and its last line an ``Error: ...``."""
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    lines = [x for x in text.splitlines() if x.strip()]
    assert lines and lines[-1].startswith("Error: "), text
    return lines[-1]


# ---------------------------------------------------------------------------------------------
# inputs: tiny ones for every command, generated in tmp_path

def hanzi_corpus(path, lines, width=30, seed=0):
    rng = random.Random(seed)
    words = ["".join(rng.choice(HANZI) for _ in range(rng.randint(1, 3))) for _ in range(400)]
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(lines):
            f.write("".join(rng.choice(words) for _ in range(width // 2)) + "\n")
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    rng = random.Random(1)
    hanzi_corpus(d / "corpus.txt", 600)
    lex = d / "lex.tsv"
    lex.write_text("".join(f"{w}\t{rng.randint(1, 100)}\n" for w in sorted(set(
        "".join(rng.choice(HANZI) for _ in range(rng.randint(1, 3))) for _ in range(300)))), encoding="utf-8")
    words = [f"w{i}" for i in range(200)]
    (d / "spaced.txt").write_text("".join(" ".join(rng.choice(words) for _ in range(12)) + "\n"
                                          for _ in range(300)), encoding="utf-8")
    (d / "vecs.txt").write_text(f"{len(words)} 8\n" + "".join(
        w + " " + " ".join(f"{rng.gauss(0, 1):.4f}" for _ in range(8)) + "\n" for w in words), encoding="utf-8")
    (d / "links.tsv").write_text("".join(f"n{a}\tn{(a + rng.randint(1, 5)) % 300}\t1\n"
                                         for a in range(300) for _ in range(3)), encoding="utf-8")
    (d / "table.tsv").write_text("".join("\t".join(f"{rng.random():.5f}" for _ in range(16)) + "\n"
                                         for _ in range(40)), encoding="utf-8")
    return d


# command -> (arguments before the output option, does it write to stdout by default)
def command_args(name, d):
    return {
        "count": ["count", "-t", "char", "-n", "2", d / "corpus.txt"],
        "discover-words": ["discover-words", "--min-count", "2", d / "corpus.txt"],
        "segment": ["segment", "--dict", d / "lex.tsv", d / "corpus.txt"],
        "cluster": ["cluster", d / "links.tsv"],
        "neighbors": ["neighbors", d / "vecs.txt", "--min-sim", "-1", "--k", "5"],
        "similar": ["similar", d / "vecs.txt", "w1", "-k", "199"],
        "hsic": ["hsic", "--pairwise", d / "table.tsv"],
        "embed": ["embed", d / "spaced.txt", "--dim", "8", "--iter", "1", "--min-count", "1", "-j", "1"],
        "train-segmenter": ["train-segmenter", "--dict", d / "lex.tsv", "--samples", "300", "--epochs", "1",
                            "--bits", "12", "-j", "1"],
    }[name]


TO_STDOUT = ["count", "discover-words", "segment", "cluster", "neighbors", "similar", "hsic", "embed"]
WITH_O = ["count", "discover-words", "segment", "cluster", "neighbors", "hsic", "embed", "train-segmenter"]
FSIZE = 2048  # bytes: every command's output on the inputs above is larger


def _limit_fsize():
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE, FSIZE))


# ---------------------------------------------------------------------------------------------
# 3. write errors

class FaultySink:
    """Fault injection for :class:`textmine.formats._Sink`: writes at most ``short`` bytes a
    call, and raises ``OSError(ENOSPC)`` once ``room`` bytes are written."""

    def __init__(self, short=None, room=None):
        self.short, self.room, self.written = short, room, 0

    def install(self, monkeypatch):
        from textmine import formats

        original = formats._Sink._write_some
        fault = self

        def write_some(sink, view):
            if fault.room is not None:  # a disk that fills up: a short write, then ENOSPC
                if fault.written >= fault.room:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view = view[:fault.room - fault.written]
            if fault.short is not None:
                view = view[:fault.short]
            n = original(sink, view)
            fault.written += n
            return n

        monkeypatch.setattr(formats._Sink, "_write_some", write_some)


def test_short_writes_are_retried_until_everything_is_written(tmp_path, monkeypatch):
    from textmine.formats import atomic_output, write_counts

    FaultySink(short=5).install(monkeypatch)
    tokens = [f"词{i}" for i in range(3000)]
    out = tmp_path / "o.tsv"
    with atomic_output(str(out)) as f:
        write_counts(f, tokens, range(3000))
    assert out.read_text(encoding="utf-8") == "".join(f"{t}\t{c}\n" for t, c in zip(tokens, range(3000)))
    with atomic_output(str(tmp_path / "b.bin"), "wb") as f:
        f.write(bytes(range(256)) * 1000)
    assert (tmp_path / "b.bin").read_bytes() == bytes(range(256)) * 1000


def test_a_full_disk_is_one_error_and_leaves_the_old_file(tmp_path, monkeypatch):
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output, write_counts

    out = tmp_path / "o.tsv"
    out.write_text("old\n")
    FaultySink(short=1000, room=70000).install(monkeypatch)
    with pytest.raises(TextmineError, match=r"o\.tsv: cannot write \(No space left on device\)$"):
        with atomic_output(str(out)) as f:
            write_counts(f, [f"t{i}" for i in range(20000)], range(20000))
    assert out.read_text() == "old\n" and sorted(os.listdir(tmp_path)) == ["o.tsv"]


def test_stdout_without_a_descriptor_short_and_failing(monkeypatch):
    """The stream path (a test runner's stdout): short writes of a raw stream are completed, and
    an error is one TextmineError naming stdout."""
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output

    class ShortRaw(io.RawIOBase):
        def __init__(self, room):
            self.data, self.room = bytearray(), room

        def writable(self):
            return True

        def write(self, b):
            if len(self.data) >= self.room:
                raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
            chunk = bytes(b[:3])
            self.data += chunk
            return len(chunk)

    raw = ShortRaw(room=1 << 30)
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="utf-8"))
    with atomic_output("-") as f:
        f.write("春风又绿江南岸\n" * 100)
    assert raw.data.decode("utf-8") == "春风又绿江南岸\n" * 100
    raw = ShortRaw(room=50)
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="utf-8"))
    with pytest.raises(TextmineError, match=r"^stdout: cannot write \(File too large\)$"):
        with atomic_output("-", "wb") as f:
            f.write(b"x" * 1000)


def test_spill_files_fail_with_one_line(tmp_path, monkeypatch):
    """Scratch files (count's and discover-words' spills) go through the same sink."""
    import numpy as np

    from textmine.errors import TextmineError
    from textmine.formats import open_npy_memmap, save_npy

    a = np.arange(100000, dtype=np.int64)
    save_npy(str(tmp_path / "a.npy"), a)
    assert np.array_equal(np.load(tmp_path / "a.npy"), a)
    FaultySink(room=4096).install(monkeypatch)
    with pytest.raises(TextmineError, match=r"b\.npy: cannot write \(No space left on device\)"):
        save_npy(str(tmp_path / "b.npy"), a)
    m = open_npy_memmap(str(tmp_path / "m.npy"), np.uint32, 1000)
    m[:] = 7
    del m
    assert np.load(tmp_path / "m.npy").sum() == 7000


@heavy
@pytest.mark.parametrize("name", TO_STDOUT + ["train-segmenter"])
def test_write_errors_of_every_command(name, inputs, tmp_path):
    """/dev/full as stdout, and ``ulimit -f`` on an -o file: one line, exit 1, no file left."""
    args = command_args(name, inputs)
    ok = tmp_path / "ok.out"
    if name == "similar":  # stdout only
        p = textmine(*args)
        assert p.returncode == 0 and len(p.stdout) > FSIZE, p.stderr
    else:
        p = textmine(*args, "-o", ok)
        assert p.returncode == 0 and ok.stat().st_size > FSIZE, p.stderr
    if name in TO_STDOUT:
        with open("/dev/full", "wb") as full:
            p = textmine(*args, stdout=full)
        assert p.returncode == 1
        assert one_error_line(p.stderr) == "Error: stdout: cannot write (No space left on device)"
    if name in WITH_O:
        out = tmp_path / "o.out"
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        p = textmine(*args, "-o", out, preexec_fn=_limit_fsize, env=dict(ENV, TMPDIR=str(scratch)))
        assert p.returncode == 1
        line = one_error_line(p.stderr)
        if name == "discover-words" and line.startswith(f"Error: {scratch}"):
            # its passes spool the unit keys to $TMPDIR: that file can hit the limit first
            assert line.endswith(": cannot write (File too large)"), line
        else:
            assert line == f"Error: {out}: cannot write (File too large)"
        assert sorted(os.listdir(tmp_path)) == ["ok.out", "scratch"] and os.listdir(scratch) == []


@heavy
@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_stdout_into_a_file_size_limit_is_not_a_silent_success(inputs, tmp_path, unbuffered):
    """``textmine count corpus > fulldisk/o.tsv`` with PYTHONUNBUFFERED=1 exited 0 with half the data."""
    out = tmp_path / "o.tsv"
    with open(out, "wb") as f:
        p = textmine(*command_args("count", inputs), stdout=f, preexec_fn=_limit_fsize,
                     env=dict(ENV, PYTHONUNBUFFERED=unbuffered))
    assert p.returncode == 1
    assert one_error_line(p.stderr) == "Error: stdout: cannot write (File too large)"
    assert out.stat().st_size == FSIZE


@heavy
@pytest.mark.parametrize("unbuffered", ["", "1"])
@pytest.mark.parametrize("name", TO_STDOUT)
def test_broken_pipe_exits_1_quietly(name, inputs, unbuffered):
    """The reader is gone before the first write (as ``| head`` is after its lines): exit 1,
    nothing on stderr but the command's own statistics."""
    cmd = [sys.executable, "-m", "textmine", *map(str, command_args(name, inputs))] + (["-q"] if name != "similar" else [])
    r, w = os.pipe()
    os.close(r)
    p = subprocess.run(cmd, stdout=w, stderr=subprocess.PIPE, env=dict(ENV, PYTHONUNBUFFERED=unbuffered),
                       timeout=120)
    os.close(w)
    assert p.returncode == 1, p.stderr
    assert b"Traceback" not in p.stderr and b"Error" not in p.stderr, p.stderr


# ---------------------------------------------------------------------------------------------
# 4. symbolic links and devices

def test_atomic_output_follows_a_symlink_and_checks_the_target(tmp_path):
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output, check_output_path

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    target = tmp_path / "b" / "t.txt"
    target.write_text("old\n")
    link = tmp_path / "a" / "l.txt"
    link.symlink_to(os.path.relpath(target, link.parent))
    with atomic_output(str(link)) as f:
        f.write("new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert os.listdir(tmp_path / "a") == ["l.txt"] and os.listdir(tmp_path / "b") == ["t.txt"]
    for bad, reason in ((tmp_path / "no" / "x.txt", "does not exist"), (tmp_path / "a", "is a directory")):
        with pytest.raises(TextmineError, match=reason):
            check_output_path(str(bad))
    (tmp_path / "a" / "to_dir").symlink_to(tmp_path / "b")
    with pytest.raises(TextmineError, match="is a directory"):
        check_output_path(str(tmp_path / "a" / "to_dir"))
    check_output_path("-")


@heavy
def test_output_through_a_symlink_writes_its_target(inputs, tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "target.tsv"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    link = tmp_path / "link.tsv"
    link.symlink_to(target)
    p = textmine("count", "-q", "-t", "char", inputs / "corpus.txt", "-o", link)
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == textmine("count", "-q", "-t", "char", inputs / "corpus.txt").stdout
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)  # the replaced file's permissions kept
    assert sorted(os.listdir(tmp_path / "real")) == ["target.tsv"]
    # a dangling link: its target is created, the link kept
    dangling = tmp_path / "dangling.tsv"
    dangling.symlink_to(tmp_path / "real" / "new.tsv")
    p = textmine("count", "-q", "-t", "char", inputs / "corpus.txt", "-o", dangling)
    assert p.returncode == 0 and dangling.is_symlink()
    assert (tmp_path / "real" / "new.tsv").read_bytes() == target.read_bytes()


@heavy
@pytest.mark.parametrize("stdout_kind", ["pipe", "file"])
def test_dev_stdout_is_stdout_and_never_replaced(inputs, tmp_path, stdout_kind):
    before = os.lstat("/dev/stdout")
    expected = textmine("count", "-q", "-t", "char", inputs / "corpus.txt").stdout
    if stdout_kind == "pipe":
        p = textmine("count", "-q", "-t", "char", inputs / "corpus.txt", "-o", "/dev/stdout")
        got = p.stdout
    else:
        with open(tmp_path / "o.tsv", "wb") as f:
            f.write(b"first line\n")
            f.flush()
            p = textmine("count", "-q", "-t", "char", inputs / "corpus.txt", "-o", "/dev/stdout", stdout=f)
        got = (tmp_path / "o.tsv").read_bytes()
        expected = b"first line\n" + expected  # written at stdout's position, as '>' would
    assert p.returncode == 0, p.stderr
    assert got == expected
    after = os.lstat("/dev/stdout")
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert not [f for f in os.listdir("/dev") if f.startswith("stdout.tmp")]


@heavy
def test_a_fifo_is_written_in_place(inputs, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = subprocess.Popen([sys.executable, "-m", "textmine", "count", "-q", "-t", "char",
                          str(inputs / "corpus.txt"), "-o", str(fifo)], env=ENV, stderr=subprocess.PIPE)
    with open(fifo, "rb") as f:
        data = f.read()
    assert p.wait(timeout=120) == 0, p.stderr.read()
    assert data.count(b"\n") > 50 and sorted(os.listdir(tmp_path)) == ["fifo"]


# ---------------------------------------------------------------------------------------------
# 8. output paths checked before the work

def _bad_output_runs(name, inputs, bad):
    """The command with a bad output, reading a stdin that never ends where it reads text: only a
    check made before the work lets it exit."""
    texts = (str(inputs / "corpus.txt"), str(inputs / "spaced.txt"))
    args = ["-" if str(a) in texts else str(a) for a in command_args(name, inputs)]
    if name == "cluster":
        args = ["cluster", "-"]
    elif name == "hsic":
        args = ["hsic", "--pairwise", "-"]
    p = subprocess.Popen([sys.executable, "-m", "textmine", *args, *bad], env=ENV, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    return p.returncode, err


BAD_SECOND_OUTPUTS = [("embed", "--doc-output"), ("embed", "--context-output"), ("embed", "--save-model"),
                      ("hsic", "--null")]


@heavy
@pytest.mark.parametrize("name,option", [(n, "-o") for n in WITH_O] + BAD_SECOND_OUTPUTS)
def test_an_output_that_cannot_be_written_fails_before_the_work(name, option, inputs, tmp_path):
    for bad, reason in ((tmp_path / "no" / "such" / "o.txt", "does not exist"), (tmp_path, "is a directory")):
        rc, err = _bad_output_runs(name, inputs, [option, str(bad)])
        assert rc in (1, 2), err
        line = one_error_line(err)
        assert str(bad) in line and reason in line and option in line


@heavy
@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_directory_fails_before_the_work(inputs, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    rc, err = _bad_output_runs("count", inputs, ["-o", str(ro / "o.tsv")])
    assert rc == 2 and "permission denied" in one_error_line(err)


@heavy
def test_count_tmpdir_must_exist(inputs, tmp_path):
    p = textmine(*command_args("count", inputs), "--tmpdir", tmp_path / "nope")
    assert p.returncode == 2 and "does not exist" in one_error_line(p.stderr)


# ---------------------------------------------------------------------------------------------
# 5. signals, in a real child process with a private TMPDIR

def _wait_for(predicate, proc, timeout=90):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def _children(pid):
    kids = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(task) as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return kids


def _gone(pids, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        alive = []
        for q in pids:
            try:
                with open(f"/proc/{q}/stat") as f:
                    if f.read().split(") ")[-1].startswith("Z"):
                        continue  # a zombie waiting for init: ended
                alive.append(q)
            except OSError:
                pass
        if not alive:
            return True
        time.sleep(0.1)
    return False


def _start(args, tmpdir, cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL):
    # the signals back to their defaults in the child: a shell starts background jobs with SIGINT
    # ignored, and nohup ignores SIGHUP (which textmine then keeps ignoring, as it should)
    return subprocess.Popen([sys.executable, "-m", "textmine", *map(str, args)], env=dict(ENV, TMPDIR=str(tmpdir)),
                            cwd=cwd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, preexec_fn=_default_signals)


def _default_signals():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _ended(p, sig, timeout=60):
    import threading

    box = []
    reader = threading.Thread(target=lambda: box.append(p.stderr.read()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():  # hung after the signal (its workers keep stderr open): fail, do not hang the run
        for pid in _children(p.pid) + [p.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        pytest.fail(f"still running {timeout} s after signal {sig}")
    err = box[0]
    rc = p.wait(timeout=timeout)
    assert rc == 128 + sig, err
    assert b"Traceback" not in err and b"Error" not in err, err
    if sig == signal.SIGINT:
        assert err.strip().endswith(b"Interrupted"), err
    else:
        assert b"Interrupted" not in err
    return err


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory):
    return hanzi_corpus(tmp_path_factory.mktemp("big") / "big.txt", 60000, width=60)


@heavy
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_counting_with_workers_cleans_up(sig, tmp_path, big_corpus):
    """count -j 2 reading a stdin that stays open: the spill directory exists and the workers
    run; the signal ends it with 128+sig, no spill files, no workers, no output."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "o.tsv"
    p = _start(["count", "-q", "-t", "ngram", "-n", "4", "-j", "2", "--memory-limit", "16M", "-o", out, "-"],
               tmpdir, tmp_path, stdin=subprocess.PIPE)
    p.stdin.write(big_corpus.read_bytes())
    p.stdin.flush()
    assert _wait_for(lambda: os.listdir(tmpdir) and len(_children(p.pid)) >= 2, p), p.stderr.read()
    workers = _children(p.pid)
    p.send_signal(sig)
    _ended(p, sig)
    p.stdin.close()
    assert os.listdir(tmpdir) == [] and os.listdir(tmp_path) == ["tmp"]
    assert _gone(workers)


@heavy
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_discovering_removes_its_spills(sig, tmp_path, big_corpus):
    """discover-words spilling sorted runs (numba kernels busy): 128+sig, TMPDIR left empty.
    The corpus is read four times over (about 9 s of work here) so that a loaded machine, where
    this test may see the spills late, still signals the run before it has written its output."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    p = _start(["discover-words", "-q", "-j", "2", "--memory-limit", "1M", "--batch-chars", "100000",
                *[big_corpus] * 4, "-o", tmp_path / "lex.tsv"], tmpdir, tmp_path)
    assert _wait_for(lambda: os.listdir(tmpdir), p), p.stderr.read()
    time.sleep(0.3)  # into the kernels
    p.send_signal(sig)
    _ended(p, sig)
    assert os.listdir(tmpdir) == [] and os.listdir(tmp_path) == ["tmp"]


@heavy
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_while_writing_an_output_file_leaves_nothing(sig, tmp_path, inputs):
    """segment has its -o file open (out.tsv.tmpPID) while it reads stdin: the signal removes it."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "out.tsv"
    p = _start(["segment", "-q", "--dict", inputs / "lex.tsv", "-o", out, "-"], tmpdir, tmp_path,
               stdin=subprocess.PIPE)
    p.stdin.write((inputs / "corpus.txt").read_bytes())
    p.stdin.flush()
    assert _wait_for(lambda: [f for f in os.listdir(tmp_path) if f.startswith("out.tsv.tmp")], p), p.stderr.read()
    p.send_signal(sig)
    _ended(p, sig)
    p.stdin.close()
    assert sorted(os.listdir(tmp_path)) == ["tmp"] and os.listdir(tmpdir) == []


@heavy
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_blocked_writing_stdout(sig, tmp_path, big_corpus):
    """count writing to a pipe nobody reads any more: the blocked write is interrupted."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    p = _start(["count", "-q", "-t", "char", "-n", "3", "-j", "1", big_corpus], tmpdir, tmp_path,
               stdout=subprocess.PIPE)
    assert p.stdout.read(1000)  # writing has begun; the pipe then fills up
    time.sleep(0.5)
    p.send_signal(sig)
    _ended(p, sig)
    p.stdout.close()
    assert os.listdir(tmpdir) == []


POOL_SCRIPT = """
import gc, os, sys, threading, time
from textmine.mapreduce import LocalEngine

def big(i):
    return b"x" * (64 << 20)  # a result larger than a pipe's buffer, as discover-words' counts

def fds():
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0

if __name__ == "__main__":
    before = fds()
    for _ in range(8):
        try:
            with LocalEngine(2) as eng:
                for r in eng.map_unordered(big, range(12)):
                    raise RuntimeError("stop")  # the error path: workers still writing their results
        except RuntimeError:
            pass
    gc.collect()
    print("closed", flush=True)
    print("threads", threading.active_count(), "new fds", fds() - before, flush=True)
"""


def test_pool_stopped_while_workers_write_large_results(tmp_path):
    """Pool.terminate() waited for ever on the result queue's write lock, held by a worker blocked
    writing a large result into a pipe nobody read any more (about 1 run in 5 here; SIGTERM into
    discover-words -j 2 hung CI). Eight runs, each of which must end, and leave neither the pool's
    threads nor its pipes behind (they stayed blocked on a killed worker's lock or half message)."""
    script = tmp_path / "pool.py"
    script.write_text(POOL_SCRIPT, encoding="utf-8")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=ENV, timeout=120)
    assert r.returncode == 0 and r.stdout == "closed\nthreads 1 new fds 0\n" and r.stderr == "", (r.stdout, r.stderr)


def test_an_interrupt_wrapped_by_numba_is_still_an_interrupt(tmp_path, inputs, monkeypatch, capsys):
    """Ctrl-C as a numba kernel returns gave ``SystemError: CPUDispatcher(...) returned a result
    with an exception set`` (its cause the KeyboardInterrupt), exit 1: it is exit 130 now."""
    from textmine import infomap
    from textmine.cli import main

    def kernel(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as e:
            raise SystemError("CPUDispatcher(<function _kernel>) returned a result with an exception set") from e

    monkeypatch.setattr(infomap, "infomap", kernel)
    out = tmp_path / "o.tsv"
    with pytest.raises(SystemExit) as e:
        main(["cluster", str(inputs / "links.tsv"), "-o", str(out)])
    assert e.value.code == 130
    err = capsys.readouterr().err
    assert err.strip() == "Interrupted" and not out.exists()
    # and main restored the caller's handlers
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_workers_ignore_ctrl_c_and_die_quietly_on_sigterm():
    code = ("import os, signal, sys, time\n"
            "from textmine import _signals\n"
            "_signals.install()\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    _signals.worker_init()\n"
            "    os.kill(os.getpid(), signal.SIGINT)\n"
            "    time.sleep(0.2)\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    time.sleep(5)\n"
            "    os._exit(0)\n"
            "_, status = os.waitpid(pid, 0)\n"
            "print(os.WIFSIGNALED(status) and os.WTERMSIG(status))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert p.stdout.strip() == str(int(signal.SIGTERM)) and "Traceback" not in p.stderr, p.stderr


# ---------------------------------------------------------------------------------------------
# 9. the out-of-memory hint names only the command's own options

def test_memory_hint_names_only_options_the_command_has():
    import click

    from textmine.cli import COMMANDS, cli, memory_hint

    for name in COMMANDS:
        cmd = cli.get_command(None, name)
        hint = memory_hint(cmd)
        flags = {o for p in cmd.params if isinstance(p, click.Option) for o in p.opts}
        named = [w for w in hint.replace(",", " ").split() if w.startswith("-")]
        assert set(named) <= flags, (name, hint)
    assert memory_hint(cli.get_command(None, "count")) == \
        "out of memory; lower --memory-limit, lower -j or raise --min-count"
    assert "--memory-limit" not in memory_hint(cli.get_command(None, "hsic"))
    assert "--memory-limit" not in memory_hint(cli.get_command(None, "embed"))
    assert "--pvalue rff or block" in memory_hint(cli.get_command(None, "hsic"))


def test_memory_error_of_hsic_is_one_line(inputs, monkeypatch, capsys):
    from textmine import hsic
    from textmine.cli import main

    def boom(*a, **k):
        raise MemoryError

    monkeypatch.setattr(hsic, "hsic_pairwise", boom)
    with pytest.raises(SystemExit) as e:
        main(["hsic", "--pairwise", str(inputs / "table.tsv")])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: out of memory; ") and "--memory-limit" not in err and "Traceback" not in err


def test_a_write_error_no_writer_caught_is_still_one_line(monkeypatch, capsys, inputs):
    """An ENOSPC/EFBIG from code that is not textmine's writer (here: as from numba saving its
    cache) is one line naming what was written, not a traceback."""
    from textmine import graph
    from textmine.cli import main

    namespace = {"__name__": "numba.core.caching", "errno": errno, "os": os}
    exec("def save_overload(*a, **k):\n    raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))\n", namespace)
    monkeypatch.setattr(graph, "read_graph", namespace["save_overload"])
    with pytest.raises(SystemExit) as e:
        main(["cluster", str(inputs / "links.tsv")])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: numba cache: cannot write (File too large); set NUMBA_CACHE_DIR"), err


def test_an_end_of_file_is_an_error_not_an_interrupt(tmp_path, capsys):
    """Click calls an EOFError 'Abort', as it does Ctrl-C: an empty .npy said 'Interrupted', 130."""
    from textmine.cli import main

    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(SystemExit) as e:
        main(["hsic", str(tmp_path / "empty.npy")])
    err = capsys.readouterr().err
    assert e.value.code == 1 and "Interrupted" not in err and one_error_line(err.encode()).startswith("Error: ")


def test_outputs_together_appear_together_or_not_at_all(tmp_path):
    """A command with several outputs (embed: vectors, contexts, documents, model) never leaves
    one replaced and another not, and never deletes a file that existed before."""
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output, outputs_together

    a, b, target = tmp_path / "a.vec", tmp_path / "b.vec", tmp_path / "target.json"
    a.write_text("old a")
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    target.write_text("old target")
    with pytest.raises(TextmineError, match="boom"):
        with outputs_together():
            with atomic_output(str(a)) as f:
                f.write("new a")
            assert a.read_text() == "old a"  # not yet in place
            with atomic_output(str(link)) as f:
                f.write("new target")
            raise TextmineError("boom")
    assert a.read_text() == "old a" and target.read_text() == "old target" and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.vec", "link.json", "target.json"]
    with outputs_together():
        with atomic_output(str(a)) as f:
            f.write("new a")
        with outputs_together():  # nested: joins the outer block
            with atomic_output(str(b)) as f:
                f.write("new b")
        assert not b.exists()
        with atomic_output(str(link)) as f:
            f.write("new target")
    assert (a.read_text(), b.read_text(), target.read_text()) == ("new a", "new b", "new target")
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["a.vec", "b.vec", "link.json",
                                                                               "target.json"]


@heavy
def test_a_failed_model_save_keeps_the_old_files(tmp_path, monkeypatch):
    import json

    from textmine.jose import JoSE, sidecar_path

    docs = ["春风 又 绿 江南 岸", "明月 何时 照 我 还"] * 20
    model = JoSE(dim=8, n_iter=1, min_count=1, n_jobs=1).fit(docs)
    path = tmp_path / "m.npz"
    path.write_bytes(b"old model")
    monkeypatch.setattr(json, "dump", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(OSError):
        model.save(str(path))
    assert path.read_bytes() == b"old model" and not os.path.exists(sidecar_path(str(path)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
