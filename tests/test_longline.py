"""One very long line, wherever it comes from (standard input, a UTF-16/32 file, a compressed file,
``-t lexicon:FILE``), is read in bounded pieces and counted as if it were read whole."""
import gzip
import io
import os
import random
import re
import sys

import pytest

from conftest import ROOT, shared_file
from naive_count import count_naive, sorted_items
from test_count import ALPHABET, random_lines
from textmine import corpus as cp
from textmine import count as cm
from textmine.count import count

sys.path.insert(0, str(ROOT / "bench"))
import gen_corpus  # noqa: E402
import peakrss  # noqa: E402

WIDE = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]


def long_lines(rng, n_lines=30):
    """Short lines and a few long ones (tens of pieces), with and without spaces, a BOM and ``\\r``."""
    lines = random_lines(rng, n_lines, 30)
    word = [c for c in ALPHABET if c.isalnum()]
    lines[2] = "".join(rng.choice(ALPHABET) for _ in range(2000))
    lines[5] = "".join(rng.choice(word) for _ in range(1500))  # one run of word characters
    lines[9] = "\ufeff" + "".join(rng.choice(ALPHABET + ["\r"]) for _ in range(900)) + "\r"
    lines[-1] = "".join(rng.choice(ALPHABET) for _ in range(1200))
    return lines


def universal_lines(text):
    """The naive twin of the wide reader: ``\\r\\n``, ``\\r`` and ``\\n`` end a line."""
    lines = re.split("\r\n|\r|\n", text)
    if lines[-1] == "":
        lines.pop()
    return lines


def joined(pieces):
    """Lines from ``(lines, open_end)`` lists, the pieces of a long line put together."""
    out, cont = [], False
    for lines, open_end in pieces:
        for i, x in enumerate(lines):
            if i == 0 and cont:
                out[-1] += x
            else:
                out.append(x)
        cont = open_end
    return out


@pytest.mark.parametrize("encoding", WIDE)
def test_wide_reader_in_pieces_matches_universal_newlines(tmp_path, encoding):
    rng = random.Random(encoding)
    alpha = ["a", "中", "\U00020000", " ", "\r", "\n", "\n", "\ufeff", "é"]
    p = tmp_path / "w.txt"
    for trial in range(60):
        text = "".join(rng.choice(alpha) for _ in range(rng.randrange(1, 400)))
        p.write_bytes(text.encode(encoding))
        want = universal_lines(text[1:] if text[0] == "\ufeff" else text)  # a BOM is dropped
        if not want:
            continue
        opts = cp.ReadOptions(encoding)
        assert list(cp.iter_lines(cp.Shard(str(p)), opts)) == want
        for block, max_line in ((1, 4), (3, 8), (7, 40), (64, 1 << 20)):
            pieces = list(cp.iter_line_pieces(cp.Shard(str(p)), opts, block, max_line))
            assert joined(pieces) == want
            # no piece longer than max_line // 4 characters plus what one block decodes to
            assert max(len(x) for ls, _ in pieces for x in ls) <= max_line // 4 + block + 1


def test_wide_reader_errors(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes("甲乙".encode("utf-16-le") + b"\x00\xd8" + "丙".encode("utf-16-le"))  # a lone high surrogate
    with pytest.raises(cp.TextmineError, match=r"cannot decode as utf-16-le .* at byte offset 4"):
        list(cp.iter_line_pieces(cp.Shard(str(p)), cp.ReadOptions("utf-16-le"), 2, 8))
    p.write_bytes("甲\x00乙".encode("utf-16"))
    with pytest.raises(cp.TextmineError, match="NUL character"):
        list(cp.iter_lines(cp.Shard(str(p)), cp.ReadOptions("utf-16")))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32-be"])
@pytest.mark.parametrize("tokenizer,min_n,max_n", [("ngram", 1, 4), ("space", 2, 3)])
def test_count_of_long_wide_lines_in_pieces(tmp_path, monkeypatch, encoding, tokenizer, min_n, max_n):
    lines = long_lines(random.Random(encoding + tokenizer))
    p = tmp_path / "w.txt"
    p.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    ref = sorted_items(count_naive(universal_lines("\n".join(lines)), tokenizer, min_n, max_n))
    monkeypatch.setattr(cm, "_BATCH_CHARS", (48, 48))  # pieces of 48 characters
    for j in (1, 2):
        res = count([str(p)], tokenizer=tokenizer, min_n=min_n, max_n=max_n, n_jobs=j, memory_limit=1 << 18,
                    read=cp.ReadOptions(encoding))
        assert list(res.items()) == ref


def _stdin(monkeypatch, data):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))  # peek, as a real stdin


def _spool_items(monkeypatch, data, opts, batch_bytes, directory, whole=False):
    _stdin(monkeypatch, data)
    return list(cp.spool_long_lines(cp.Shard(cp.STDIN), opts, batch_bytes, directory, whole))


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16-le"])
def test_spool_long_lines_gives_back_every_line(tmp_path, monkeypatch, encoding):
    rng = random.Random(encoding)
    # (in UTF-16 a \r ends a line: without it, lines are long enough to be spooled)
    alpha = ["a", "中", "\U00020000", " ", "\ufeff"] + (["\r"] if encoding != "utf-16-le" else [])
    ref = tmp_path / "ref.txt"
    spooled = 0
    for trial in range(40):
        p = rng.choice([0.003, 0.01, 0.1])  # of a line end
        text = "".join("\n" if rng.random() < p else rng.choice(alpha) for _ in range(rng.randrange(0, 6000)))
        text += rng.choice(["", "\n", "\r\r\n", "\r"])
        data = text.encode(encoding)
        ref.write_bytes(data)
        opts = cp.ReadOptions(encoding)
        want = list(cp.iter_lines(cp.Shard(str(ref)), opts))  # the file, read whole
        d = tmp_path / f"spool{trial}"
        d.mkdir()
        got, short = [], 0
        for item in _spool_items(monkeypatch, data, opts, 256, str(d)):
            if isinstance(item, cp.Shard):
                spooled += 1
                assert os.path.dirname(item.path) == str(d)
                one = list(cp.iter_lines(item, cp.SPOOL_READ))
                assert len(one) == 1
                if len(one[0].encode(encoding)) <= 200:  # only the last line, open when the input ends
                    short += 1
                    assert short == 1 and not text.endswith("\n") and one[0] == want[-1]
                got.extend(one)
            else:
                # a batch ends with the line that takes it to batch_bytes; a whole line holds at
                # most a block (4 KiB at least) and batch_bytes
                assert sum(len(x) + 1 for x in item[:-1]) < 256
                assert max(len(x) for x in item) <= 4096 + 256
                got.extend(item)
        assert sorted(got) == sorted(want)  # the same lines (a long one counted where it ends)
        whole = _spool_items(monkeypatch, data, opts, 256, str(d), whole=True)
        assert len(whole) == 1
        assert list(cp.iter_lines(whole[0], cp.SPOOL_READ)) == want
    assert spooled > (20 if encoding != "utf-16-le" else 10)  # UTF-16: a line is cut at a block's end only


def test_spool_of_undecodable_bytes_round_trips(tmp_path, monkeypatch):
    data = b"ab\xff" * 3000 + b"\n" + "中".encode() * 10 + b"\n"
    opts = cp.ReadOptions("utf-8", "surrogateescape")
    items = _spool_items(monkeypatch, data, opts, 256, str(tmp_path))
    assert isinstance(items[0], cp.Shard)
    assert list(cp.iter_lines(items[0], cp.SPOOL_READ)) == [data.split(b"\n")[0].decode("utf-8", "surrogateescape")]
    assert items[1] == ["中" * 10]


@pytest.fixture
def small_stdin_batches(monkeypatch):
    """stdin batches (and spooled lines) past 300 bytes, pieces of 48 characters; counts the lines
    spooled (a list: one item per spooled file)."""
    spooled = []
    tasks = cm._stdin_tasks

    def small(cfg, batch_bytes, spool=None):
        for source, c in tasks(cfg, 300, spool):
            if isinstance(source, cp.Shard):
                spooled.append(source)
            yield source, c

    monkeypatch.setattr(cm, "_stdin_tasks", small)
    monkeypatch.setattr(cm, "_BATCH_CHARS", (48, 48))
    return spooled


@pytest.mark.parametrize("tokenizer,min_n,max_n", [("ngram", 1, 4), ("ngram", 2, 6), ("space", 2, 3), ("char", 1, 2)])
@pytest.mark.parametrize("doc_per_file", [False, True])
def test_long_lines_on_stdin_match_naive(tmp_path, monkeypatch, small_stdin_batches, tokenizer, min_n, max_n,
                                         doc_per_file):
    lines = long_lines(random.Random(tokenizer + str(max_n)))
    data = ("\r\n".join(lines)).encode("utf-8")  # CRLF, no line end at the end
    ref = sorted_items(count_naive(["\n".join(lines)] if doc_per_file else lines, tokenizer, min_n, max_n))
    for j in (1, 2):
        _stdin(monkeypatch, data)
        res = count([cp.STDIN], tokenizer=tokenizer, min_n=min_n, max_n=max_n, n_jobs=j, memory_limit=1 << 18,
                    doc_per_file=doc_per_file, tmpdir=str(tmp_path))
        assert list(res.items()) == ref
        assert res.lines == (1 if doc_per_file else len(lines))
        res.close()
    # long lines went to disk (those that cross the end of a 4 KiB block); with doc_per_file, all of stdin
    assert len(small_stdin_batches) == 2 if doc_per_file else len(small_stdin_batches) >= 4
    assert os.listdir(tmp_path) == []  # and is gone with the result


def test_utf16_stdin_in_pieces(tmp_path, monkeypatch, small_stdin_batches):
    lines = long_lines(random.Random(16))
    data = ("\n".join(lines) + "\n").encode("utf-16")
    ref = sorted_items(count_naive(universal_lines("\n".join(lines)), "ngram", 1, 3))
    for j in (1, 2):
        _stdin(monkeypatch, data)
        res = count([cp.STDIN], tokenizer="ngram", max_n=3, n_jobs=j, memory_limit=1 << 18,
                    read=cp.ReadOptions("utf-16"))
        assert list(res.items()) == ref
    assert small_stdin_batches


def test_gzip_long_line_in_pieces(tmp_path, monkeypatch):
    lines = long_lines(random.Random(7))
    p = tmp_path / "c.txt.gz"
    with gzip.open(p, "wb") as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    pieces = list(cp.iter_line_pieces(cp.Shard(str(p)), cp.ReadOptions(), 64, 256))
    assert joined(pieces) == [x.removesuffix("\r") for x in lines]  # "...\r\n" is a CRLF line end
    assert max(len(x.encode()) for ls, _ in pieces for x in ls) <= 64 + 256 + 3
    monkeypatch.setattr(cm, "_BATCH_CHARS", (48, 48))
    assert list(count([str(p)], tokenizer="ngram", max_n=4, memory_limit=1 << 18).items()) == \
        sorted_items(count_naive(lines, "ngram", 1, 4))


@pytest.mark.parametrize("max_n", [1, 3])
def test_lexicon_long_lines_cut_between_blocks(tmp_path, monkeypatch, max_n):
    from conftest import SAMPLE

    words = {}
    text = SAMPLE.read_text(encoding="utf-8").splitlines()[:80]
    for line in text:
        for k in range(0, len(line) - 1, 3):
            words[line[k:k + 2]] = words.get(line[k:k + 2], 0) + 1
    lex = tmp_path / "lex.tsv"
    lex.write_text("".join(f"{w}\t{c}\n" for w, c in words.items() if not any(ch.isspace() for ch in w)),
                   encoding="utf-8")
    # long lines: no spaces (cut only after punctuation), spaces, runs of one symbol, numbers
    lines = ["".join(text[:30]), " ".join(text[30:50]), "——".join(text[50:60]) + "3.14%" * 40, *text[60:]]
    path = tmp_path / "l.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tok = f"lexicon:{lex}"
    ref = list(count([str(path)], tokenizer=tok, max_n=max_n).items())
    from textmine.segment import load_lexicon

    seg = load_lexicon(str(lex))
    toks = [" ".join(seg.cut(x)) for x in lines]
    assert ref == sorted_items(count_naive(toks, "space", 1, max_n))
    monkeypatch.setattr(cm, "_BATCH_CHARS", (64, 64))
    for j in (1, 2):
        assert list(count([str(path)], tokenizer=tok, max_n=max_n, n_jobs=j, memory_limit=1 << 18).items()) == ref


def test_lexicon_cut_positions():
    cut = cm._after_lexicon_block
    assert cut("中国，人民") == 3  # after the comma
    assert cut("中国 人民") == 3  # after the space
    assert cut("中国——人民") == 4  # not inside the run of dashes
    assert cut("中国——") == 0  # the run may go on
    assert cut("价格3.5") == 0 and cut("3%x") == 0  # a number's point or percent sign
    assert cut("人民") == 0


def test_peak_memory_of_a_long_line_on_stdin(tmp_path):
    # a 30 MB line arriving on stdin: spooled and counted in pieces, within the limit plus start-up
    shared_file("raw", "hongloumeng.txt")
    line = tmp_path / "line.txt"
    gen_corpus.generate("oneline", 30, line)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TMPDIR=str(tmp_path))
    cmd = ["sh", "-c", f'exec "{sys.executable}" -m textmine count -t ngram --n 4 -j 1 -q -o /dev/null '
           f'--memory-limit 64M - < "{line}"']
    r = peakrss.measure(cmd, env=env, cwd=str(ROOT))
    assert r["status"] == 0, r["stderr"]
    peak = max(r["peak_sum"], r["hwm_sum"]) / 2 ** 20
    from test_memory import STARTUP_MB

    assert peak <= 64 + STARTUP_MB, peak  # main: about 1 GB
    assert [x for x in os.listdir(tmp_path) if x != "line.txt"] == []
