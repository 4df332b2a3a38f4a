import gzip
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from textmine.corpus import (ReadOptions, Shard, iter_batches, iter_documents, iter_line_blocks, iter_lines, make_shards,
                             resolve_inputs)
from textmine.errors import TextmineError


def test_shards_cover_every_line_exactly_once(tmp_path):
    rng = random.Random(0)
    lines = ["".join(rng.choice("ab中文 \r") for _ in range(rng.randint(0, 30))).rstrip("\r") for _ in range(500)]
    p = tmp_path / "x.txt"
    p.write_bytes("\ufeff".encode() + "\r\n".join(lines).encode() + b"\r\n")
    whole = list(iter_lines(Shard(str(p))))
    assert whole == lines
    for size in (1, 7, 64, 1000):
        shards = make_shards([str(p)], size)
        got = [ln for s in shards for ln in iter_lines(s)]
        assert got == lines, size


def naive_lines(data):
    """The reference: split after each b"\\n" as readline does, decode, drop one BOM and the line end."""
    out = []
    for i, raw in enumerate(_readlines(data)):
        line = raw.decode("utf-8")
        if i == 0 and line.startswith("\ufeff"):
            line = line[1:]
        if line.endswith("\r\n"):
            line = line[:-2]
        elif line.endswith("\n") or line.endswith("\r"):
            line = line[:-1]
        out.append(line)
    return out


def _readlines(data):
    lines, start = [], 0
    while start < len(data):
        j = data.find(b"\n", start)
        end = len(data) if j < 0 else j + 1
        lines.append(data[start:end])
        start = end
    return lines


@pytest.mark.parametrize("seed", range(4))
def test_block_reader_equals_line_reader_on_random_bytes(tmp_path, seed):
    rng = random.Random(seed)
    parts = ["a", "中", "\r", "\n", "\r\n", " ", "\U00020000", "é"]
    text = ("\ufeff" if seed % 2 else "") + "".join(rng.choice(parts) for _ in range(rng.randint(0, 3000)))
    data = text.encode()
    p = tmp_path / "r.txt"
    p.write_bytes(data)
    ref = naive_lines(data)
    for block in (1, 5, 64, 1 << 20):
        assert [x for b in iter_line_blocks(Shard(str(p)), block_bytes=block) for x in b] == ref, block
        for size in (3, 50, 700):
            got = [x for s in make_shards([str(p)], size) for b in iter_line_blocks(s, block_bytes=block) for x in b]
            assert got == ref, (block, size)


def test_block_reader_reports_nul_and_decode_offsets(tmp_path):
    p = tmp_path / "n.txt"
    p.write_bytes(b"abc\n" * 50 + b"x\x00y\n")
    for block in (4, 7, 1 << 20):
        with pytest.raises(TextmineError, match="NUL byte at offset 201"):
            list(iter_line_blocks(Shard(str(p)), block_bytes=block))
    q = tmp_path / "d.txt"
    q.write_bytes("好\n".encode() * 10 + b"ab\xffcd\n")
    for block in (3, 8, 1 << 20):
        with pytest.raises(TextmineError, match="offset 42"):
            list(iter_line_blocks(Shard(str(q)), block_bytes=block))


def test_batches_and_documents(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("1\n2\n3\n", encoding="utf-8")
    b.write_text("4\n5", encoding="utf-8")
    assert [x for bt in iter_batches(Shard(str(a)), batch_chars=4) for x in bt] == ["1", "2", "3"]
    assert list(iter_documents([str(a), str(b)])) == ["1", "2", "3", "4", "5"]
    assert list(iter_documents([str(a), str(b)], doc_per_file=True)) == ["1\n2\n3", "4\n5"]


def test_compressed_and_wide_encodings(tmp_path):
    g = tmp_path / "c.txt.gz"
    with gzip.open(g, "wb") as f:
        f.write("甲\n乙\n".encode())
    assert make_shards([str(g)], 1) == [Shard(str(g))]
    assert list(iter_lines(Shard(str(g)))) == ["甲", "乙"]
    u = tmp_path / "u16.txt"
    u.write_bytes("甲\n乙\n".encode("utf-16"))
    assert list(iter_lines(Shard(str(u)), ReadOptions("utf-16"))) == ["甲", "乙"]


def test_resolve_inputs_sorted_glob_and_errors(tmp_path):
    (tmp_path / "d" / "z").mkdir(parents=True)
    for name in ("b.txt", "a.txt", "z/c.txt", "z/skip.md", ".hidden.txt"):
        (tmp_path / "d" / name).write_text("x", encoding="utf-8")
    got = resolve_inputs([str(tmp_path / "d")], "*.txt")
    assert [os.path.relpath(p, tmp_path / "d") for p in got] == ["a.txt", "b.txt", "z/c.txt"]
    assert resolve_inputs([]) == ["-"]
    with pytest.raises(TextmineError, match="no such file"):
        resolve_inputs([str(tmp_path / "nope")])
    with pytest.raises(TextmineError, match="no files matching"):
        resolve_inputs([str(tmp_path / "d")], "*.csv")


def test_decode_error_names_file_and_offset(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes("好\n".encode() * 10 + b"ab\xffcd\n")
    shards = make_shards([str(p)], 8)
    with pytest.raises(TextmineError, match=r"bad.txt: cannot decode byte 0xff at offset 42 as utf-8"):
        for s in shards:
            list(iter_lines(s))
    assert list(iter_lines(Shard(str(p)), ReadOptions("utf-8", "replace")))[-1] == "ab\ufffdcd"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_exits_130_and_leaves_no_file(tmp_path):
    rng = random.Random(0)
    data = "\n".join("".join(rng.choice("的一是了我不人在他有这个上们来到时大地为子中") for _ in range(80))
                     for _ in range(60000)).encode() + b"\n"
    out = tmp_path / "out.tsv"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "textmine", "count", "-t", "ngram", "-n", "6", "-j", "2", "-o", str(out), "-"]
    # stdin stays open, so the run is still going (workers busy or the parent reading) at the interrupt.
    # SIGINT back to its default in the child: a shell starts background jobs with it ignored (then
    # Python, rightly, keeps ignoring it), as a terminal's Ctrl-C never is.
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    p.stdin.write(data)
    p.stdin.flush()
    time.sleep(4)
    p.send_signal(signal.SIGINT)
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    err = p.stderr.read()
    assert p.wait(timeout=60) == 130, err
    assert b"Traceback" not in err
    assert not out.exists() and not [f for f in os.listdir(tmp_path) if ".tmp" in f]


def test_atomic_output_never_replaces_a_device(tmp_path):
    import stat

    from textmine.formats import atomic_output

    with atomic_output("/dev/null") as f:
        f.write("x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    target = tmp_path / "o.txt"
    with pytest.raises(RuntimeError):
        with atomic_output(str(target)) as f:
            f.write("partial")
            raise RuntimeError("boom")
    assert not target.exists() and os.listdir(tmp_path) == []


def test_wide_encodings_are_never_cut_into_byte_ranges(tmp_path):
    """In UTF-16 a byte offset is no line start: a file is one shard, and a shard cut inside one
    anyway reads nothing (the shard at 0 reads it all), so no line is counted twice."""
    from textmine.corpus import ReadOptions, Shard, iter_line_blocks, make_shards

    lines = [f"第{i}行 文本 {i % 13}" for i in range(5000)]
    path = tmp_path / "u16.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-16")
    opts = ReadOptions("utf-16")
    assert make_shards([str(path)], shard_bytes=1000, opts=opts) == [Shard(str(path), 0, None)]
    cut = make_shards([str(path)], shard_bytes=1000)  # the caller forgot the encoding
    assert len(cut) > 10
    got = [x for shard in cut for block in iter_line_blocks(shard, opts) for x in block]
    assert got == lines


def test_count_of_a_utf16_file_is_the_same_for_any_jobs(tmp_path):
    from click.testing import CliRunner

    from textmine.cli import cli

    text = "春风又绿江南岸，明月何时照我还。\n" * 3000 + "千里江陵一日还\n" * 500
    path = tmp_path / "u16.txt"
    path.write_text(text, encoding="utf-16")
    outs = []
    for j in ("1", "2"):
        r = CliRunner().invoke(cli, ["count", "-t", "char", "--encoding", "utf-16", "-j", j, "-q", str(path)])
        assert r.exit_code == 0, r.output
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    import collections
    want = collections.Counter(c for c in text if not c.isspace())
    assert {t: int(c) for t, c in (x.split("\t") for x in outs[0].splitlines())} == want
