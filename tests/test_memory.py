"""``textmine count --memory-limit``: peak memory measured in a subprocess, and the pieces that
keep it bounded (long lines cut into pieces, the output ordered out of core) give the same counts."""
import os
import random
import subprocess
import sys

import pytest

from conftest import ROOT, shared_file
from naive_count import count_naive, sorted_items
from test_count import ALPHABET, random_lines, write
from textmine import count as cm
from textmine.count import count

sys.path.insert(0, str(ROOT / "bench"))
import gen_corpus  # noqa: E402
import peakrss  # noqa: E402

# what --help states: start-up memory of one process (Python, numpy, numba kernels, jieba's
# dictionary arrays) on top of --memory-limit
STARTUP_MB = 350


def long_lines(rng, n_lines=40):
    """Short lines and a few very long ones (a hundred times a piece), with and without spaces."""
    lines = random_lines(rng, n_lines, 30)
    word = [c for c in ALPHABET if c.isalnum()]
    lines[3] = "".join(rng.choice(ALPHABET) for _ in range(3000))
    lines[7] = "".join(rng.choice(word) for _ in range(2500))  # one run of word characters
    lines[-1] = "".join(rng.choice(ALPHABET) for _ in range(1500))
    return lines


@pytest.fixture
def tiny_pieces(monkeypatch):
    """Batches (and pieces of long lines) of 48 characters: every long line is cut many times."""
    monkeypatch.setattr(cm, "_BATCH_CHARS", (48, 48))


@pytest.mark.parametrize("tokenizer,min_n,max_n", [
    ("ngram", 1, 4), ("ngram", 2, 6), ("char", 1, 3), ("space", 1, 1), ("space", 2, 3),
])
@pytest.mark.parametrize("doc_per_file", [False, True])
def test_long_lines_in_pieces_match_naive(tmp_path, tiny_pieces, tokenizer, min_n, max_n, doc_per_file):
    lines = long_lines(random.Random(min_n * 10 + max_n))
    path = write(tmp_path, "long.txt", lines)
    ref = count_naive(["\n".join(lines)] if doc_per_file else lines, tokenizer, min_n, max_n)
    res = count([path], tokenizer=tokenizer, min_n=min_n, max_n=max_n, doc_per_file=doc_per_file,
                memory_limit=1 << 18)
    assert list(res.items()) == sorted_items(ref)
    assert res.lines == (1 if doc_per_file else len(lines))


@pytest.mark.parametrize("max_n", [1, 3])
def test_jieba_long_lines_cut_between_blocks(tmp_path, monkeypatch, max_n):
    # the same counts whether lines are whole or cut after characters outside jieba's blocks
    from conftest import SAMPLE

    text = SAMPLE.read_text(encoding="utf-8").splitlines()[:80]
    lines = ["".join(text[:30]), "".join(text[30:31]), " ".join(text[31:60]), *text[60:]]
    path = write(tmp_path, "j.txt", lines)
    ref = list(count([path], tokenizer="jieba", max_n=max_n).items())
    monkeypatch.setattr(cm, "_BATCH_CHARS", (64, 64))
    for j in ((1, 2) if max_n > 1 else (1,)):
        assert list(count([path], tokenizer="jieba", max_n=max_n, n_jobs=j, memory_limit=1 << 18).items()) == ref


def test_table_keys_interleave_with_out_of_core_packed_chunks(tmp_path):
    # keys of 5-6 characters and non-BMP keys (hash tables) merged with packed keys ordered in
    # many chunks (a 256 KiB budget: 4096 entries at a time)
    lines = random_lines(random.Random(21), 4000, 50)
    path = write(tmp_path, "t.txt", lines)
    with count([path], tokenizer="ngram", max_n=6, memory_limit=1 << 18, shard_bytes=1 << 16) as res:
        assert res.packed.n > 4 * res.packed.capacity
        assert list(res.items()) == sorted_items(count_naive(lines, "ngram", 1, 6))
        assert res.packed.passes > 3


def test_pieces_of_a_crlf_file_and_a_utf8_character_cut(tmp_path, tiny_pieces):
    # a piece boundary inside a multi-byte character or between \r and \n changes nothing
    lines = ["é" * 101 + "文字" * 50, "ab" * 80, "中" * 64]
    p = tmp_path / "crlf.txt"
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    got = list(count([str(p)], tokenizer="ngram", max_n=3, memory_limit=1 << 18).items())
    assert got == sorted_items(count_naive(lines, "ngram", 1, 3))


def _peak(path, limit, jobs=1, tokenizer="ngram"):
    cmd = [sys.executable, "-m", "textmine", "count", "-t", tokenizer, "-j", str(jobs), "-q", "-o", os.devnull,
           str(path)] + (["--memory-limit", limit] if limit else [])
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = peakrss.measure(cmd, env=env, cwd=str(ROOT))
    assert r["status"] == 0, r["stderr"]
    # each process's own peak (VmHWM), summed: an upper bound on the tree's peak that polling cannot miss
    return max(r["peak_sum"], r["hwm_sum"]) / 2 ** 20


def test_peak_memory_within_limit_and_flat_in_corpus_length(tmp_path):
    # the same distinct keys, 4x the text: the peak must not follow the corpus length; and it
    # stays within --memory-limit plus the start-up memory stated in --help
    shared_file("raw", "hongloumeng.txt")  # the generator repeats ../shared/data/raw
    small, big = tmp_path / "s.txt", tmp_path / "b.txt"
    gen_corpus.generate("repeat", 2.5, small)
    gen_corpus.generate("repeat", 10, big)
    p1 = _peak(small, "16M")
    p4 = _peak(big, "16M")
    assert p4 <= 1.25 * p1 + 30, (p1, p4)
    assert max(p1, p4) <= 16 + STARTUP_MB, (p1, p4)


@pytest.mark.slow
def test_peak_memory_two_jobs_and_one_long_line(tmp_path):
    shared_file("raw", "hongloumeng.txt")
    big = tmp_path / "b.txt"
    gen_corpus.generate("repeat", 20, big)
    assert _peak(big, "32M", jobs=2) <= 32 + 3 * STARTUP_MB
    line = tmp_path / "line.txt"
    gen_corpus.generate("oneline", 20, line)
    for tok in ("ngram", "jieba"):
        assert _peak(line, "32M", tokenizer=tok) <= 32 + STARTUP_MB


_HWM_AT_EXIT = ("import atexit, re, sys\n"
                "def hwm():\n"
                "    s = open('/proc/self/status').read()\n"
                "    sys.stderr.write('VmHWM %s\\n' % re.search(r'VmHWM:\\s+(\\d+)', s).group(1))\n"
                "atexit.register(hwm)\n"
                "from textmine.cli import main\n"
                "main(sys.argv[1:])\n")  # an explicit argv: the run ends by SystemExit, atexit runs


def _peak_at_exit(path, limit, args):
    """The peak RSS (MiB) of a one-process count, its own ``VmHWM`` read as it exits (exact for one
    process, whatever happens between polls)."""
    cmd = [sys.executable, "-c", _HWM_AT_EXIT, "count", "-j", "1", "-q", "-o", os.devnull, "--memory-limit", limit,
           *args, str(path)]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run(cmd, env=env, cwd=str(ROOT), stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    return int(r.stderr.rsplit("VmHWM ", 1)[1].split()[0]) / 1024


def test_peak_memory_of_long_keys_flat_in_corpus_length(tmp_path):
    # keys of 5-6 characters (counted in hash tables, not packed), distinct keys growing with the
    # text (a character bigram model): the sorted runs are merged through bounded windows, so 4x
    # the text and the keys costs no more than a little memory at the output
    shared_file("raw", "hongloumeng.txt")
    small, big = tmp_path / "s.txt", tmp_path / "b.txt"
    gen_corpus.generate("markov", 1, small)
    gen_corpus.generate("markov", 4, big)
    args = ["-t", "ngram", "--min-n", "5", "--n", "6", "--errors", "replace"]
    p1 = _peak_at_exit(small, "16M", args)
    p4 = _peak_at_exit(big, "16M", args)
    assert p4 <= p1 + 30, (p1, p4)
    assert max(p1, p4) <= 16 + STARTUP_MB, (p1, p4)
