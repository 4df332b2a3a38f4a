"""Word vector files as users have them (compressed, binary, --limit, bad bytes), `similar` with
several words and query lists against gensim, and `embed --init` (issue 14 items 3-5)."""
import re

import numpy as np
import pytest
from click.testing import CliRunner

from textmine.cli import cli
from textmine.errors import TextmineError
from textmine.formats import read_word2vec, write_word2vec


def run(args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def one_error_line(r, code=1):
    """A user error: the exit code, one `Error:` line, no traceback."""
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output
    if code == 1:
        assert r.stderr.startswith("Error: ") and len(r.stderr.splitlines()) == 1, r.stderr
    return r.stderr


# --------------------------------------------------------------------------------- embed --init
CORPUS = "".join(f"the cat sat on the mat {i % 7} and the dog ran far\n" for i in range(60))


def _init_file(tmp_path, words, dim, seed=3, binary=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(len(words), dim)).astype(np.float32)
    p = tmp_path / ("init.bin" if binary else "init.vec")
    write_word2vec(str(p), words, x, binary=binary)
    return p, dict(zip(words, x))


@pytest.mark.parametrize("binary", [False, True])
def test_init_keeps_pretrained_vectors_with_a_tiny_step(tmp_path, binary):
    corpus = tmp_path / "c.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    # 'cat', 'dog' in the corpus; 'zebra' is not (ignored); 'mat' etc. absent from the file
    init, table = _init_file(tmp_path, ["cat", "zebra", "dog"], 8, binary=binary)
    common = ["--dim", 8, "--min-count", 1, "--iter", 1, "-j", 1, "--seed", 5, "--alpha", "1e-12", "-q"]
    with_init, without = tmp_path / "a.vec", tmp_path / "b.vec"
    r = run(["embed", corpus, "-o", with_init, "--init", init] + common)
    assert r.exit_code == 0, r.output
    assert run(["embed", corpus, "-o", without] + common).exit_code == 0
    wa, xa = read_word2vec(str(with_init))
    wb, xb = read_word2vec(str(without))
    assert wa == wb and "zebra" not in wa
    got = dict(zip(wa, xa))
    for w in ("cat", "dog"):
        want = table[w] / np.linalg.norm(table[w])
        assert np.allclose(got[w], want, atol=1e-5)
        assert not np.allclose(dict(zip(wb, xb))[w], want, atol=1e-2)
    for i, w in enumerate(wa):  # words absent from the file start as they do without --init
        if w not in ("cat", "dog"):
            assert np.allclose(xa[i], xb[i], atol=1e-5), w
    r = run(["embed", corpus, "-o", with_init, "--init", init] + common[:-1])
    assert f"2 of {len(wa)} words started from" in r.stderr and len(wa) == 16


def test_init_word_vectors_overwrites_only_file_words():
    from textmine.jose import init_word_vectors, random_unit_rows

    start = random_unit_rows(5, 4, np.random.default_rng(0))
    syn0 = start.copy()
    vecs = np.array([[3, 0, 0, 4], [0, 0, 0, 0], [1, 1, 1, 1], [9, 9, 9, 9]], dtype=np.float32)
    n = init_word_vectors(syn0, ["a", "b", "c", "d", "e"], ["c", "b", "a", "c"], vecs)
    assert n == 2  # 'b' has a zero vector: no direction, keeps its start; the second 'c' is ignored
    assert np.allclose(syn0[2], [0.6, 0, 0, 0.8]) and np.allclose(syn0[0], [0.5] * 4)
    assert np.array_equal(syn0[[1, 3, 4]], start[[1, 3, 4]])
    with pytest.raises(TextmineError, match="--init vectors have 4 dimensions but --dim is 3; give --dim 4"):
        init_word_vectors(np.zeros((2, 3), np.float32), ["a", "b"], ["a"] * 4, vecs)


def test_init_bad_input(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    init, _ = _init_file(tmp_path, ["cat", "dog"], 6)
    out = tmp_path / "o.vec"
    err = one_error_line(run(["embed", corpus, "-o", out, "--init", init, "--dim", 8, "-q"]))
    assert "--init vectors have 6 dimensions but --dim is 8; give --dim 6" in err and not out.exists()
    one_error_line(run(["embed", corpus, "-o", out, "--init", tmp_path / "none.vec"]))
    bad = tmp_path / "bad.vec"
    bad.write_text("2 3\na 1 2 3\nb 1 2\n", encoding="utf-8")
    assert ":3: expected a word and 3" in one_error_line(run(["embed", corpus, "-o", out, "--init", bad]))
    r = run(["embed", "-", "-o", out, "--init", "-"], input=CORPUS)
    one_error_line(r, 2)
    r = run(["embed", "--infer", tmp_path / "m.npz", corpus, "--init", init])
    assert r.exit_code == 2 and "--init cannot be used with --infer" in r.stderr


# ------------------------------------------------------------------------ vector files as users have them
def _table(n=40, d=5, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n - 3)] + ["中国", "人民", "é"]
    return words, rng.normal(size=(n, d)).astype(np.float32)


COMPRESS = {"plain": lambda b: b, "gz": __import__("gzip").compress, "bz2": __import__("bz2").compress,
            "xz": __import__("lzma").compress}


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_compressed_files_by_content_equal_gensim(tmp_path, binary, kind):
    KeyedVectors = pytest.importorskip("gensim.models").KeyedVectors

    words, x = _table()
    plain = tmp_path / "v.vec"
    write_word2vec(str(plain), words, x, binary=binary)
    ref = KeyedVectors.load_word2vec_format(str(plain), binary=binary)
    packed = COMPRESS[kind](plain.read_bytes())
    for name in (f"v.{kind}", "misnamed.txt"):  # by the first bytes, not by the name
        p = tmp_path / name
        p.write_bytes(packed)
        stats = {}
        got_words, got = read_word2vec(str(p), stats=stats)
        assert got_words == list(ref.index_to_key) and np.allclose(got, ref.vectors, atol=1e-6 if not binary else 0)
        assert stats["compression"] == {"plain": "plain", "gz": "gzip", "bz2": "bz2", "xz": "xz"}[kind]
        lw, lx = read_word2vec(str(p), limit=7)
        lim = KeyedVectors.load_word2vec_format(str(plain), binary=binary, limit=7)
        assert lw == list(lim.index_to_key) and np.allclose(lx, lim.vectors, atol=1e-6)
    r = run(["similar", "-", "中国", "-k", 3, "-q"], input=packed)
    want = "".join(f"{w}\t{s:.6f}\n" for w, s in ref.most_similar("中国", topn=3))
    assert r.exit_code == 0 and r.stdout == want


def test_limit_larger_than_the_file_and_the_rest_unchecked(tmp_path):
    p = tmp_path / "v.vec"
    p.write_text("3 2\na 1 0\nb 0 1\nc 1 x\n", encoding="utf-8")
    assert read_word2vec(str(p), limit=2)[0] == ["a", "b"]  # line 4 is never read
    with pytest.raises(TextmineError, match=r"v\.vec:4: non-numeric value in the vector of 'c'"):
        read_word2vec(str(p), limit=3)
    q = tmp_path / "q.vec"
    q.write_text("2 2\na 1 0\nb 0 1\n", encoding="utf-8")
    assert read_word2vec(str(q), limit=10)[0] == ["a", "b"]
    with pytest.raises(TextmineError, match="limit must be at least 1"):
        read_word2vec(str(q), limit=0)


@pytest.mark.parametrize("cmd", [["similar", "{}", "a"], ["neighbors", "{}"], ["evaluate", "{}", "--pairs", "{p}"]])
@pytest.mark.parametrize("value", ["0", "-3", "x"])
def test_limit_must_be_positive(tmp_path, cmd, value):
    p = tmp_path / "v.vec"
    p.write_text("2 2\na 1 0\nb 0 1\n", encoding="utf-8")
    pairs = tmp_path / "p.txt"
    pairs.write_text("a b 1\n", encoding="utf-8")
    args = [str(p) if a == "{}" else str(pairs) if a == "{p}" else a for a in cmd]
    r = run(args + ["--limit", value])
    assert r.exit_code == 2 and "--limit" in r.stderr and "Traceback" not in r.output


def test_limit_reads_only_the_first_vectors_of_a_large_compressed_file(tmp_path):
    import gzip
    import tracemalloc

    d = 50
    line = "w " + " ".join(["0.123456"] * d) + "\n"
    n = 60000  # about 25 MB of text
    p = tmp_path / "big.vec.gz"
    with gzip.open(p, "wb", compresslevel=1) as f:
        f.write(f"{n} {d}\n".encode())
        block = line.encode() * 1000
        for _ in range(n // 1000):
            f.write(block)
    read_word2vec(str(p), limit=1)  # imports (gzip, codecs) outside the measurement
    tracemalloc.start()
    try:
        words, x = read_word2vec(str(p), limit=10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert x.shape == (10, d) and words == ["w"] * 10
    assert peak < 4 << 20, f"{peak / 2**20:.1f} MB held to read 10 vectors of a 25 MB file"


def test_bad_utf8_names_the_line_or_the_byte_offset(tmp_path):
    p = tmp_path / "v.vec"
    p.write_bytes(b"3 2\na 1 0\nb\xff 0 1\nc 1 1\n")
    err = one_error_line(run(["similar", p, "a"]))
    assert f"{p}:3: cannot decode byte 0xff at byte offset 11 as utf-8" in err and "--errors replace" in err
    stats = {}
    words, _ = read_word2vec(str(p), errors="replace", stats=stats)
    assert words == ["a", "b\ufffd", "c"] and stats["replaced"] == 1
    r = run(["similar", p, "a", "--errors", "replace"])
    assert r.exit_code == 0 and "1 undecodable byte sequence replaced by U+FFFD" in r.stderr
    # binary: a bad byte in a word is a decoding error at its offset, not a truncated vector
    b = tmp_path / "v.bin"
    write_word2vec(str(b), ["ab", "cd", "ef"], np.eye(3, dtype=np.float32), binary=True)
    data = bytearray(b.read_bytes())
    k = data.index(b"cd")
    data[k + 1] = 0xC3  # a lead byte followed by a space: an incomplete sequence
    b.write_bytes(bytes(data))
    err = one_error_line(run(["neighbors", b]))
    assert f"cannot decode the word of binary vector 2 as utf-8 (byte 0xc3 at byte offset {k + 1})" in err
    assert "truncated" not in err
    words, x = read_word2vec(str(b), errors="replace")
    assert words == ["ab", "c\ufffd", "ef"] and np.array_equal(x, np.eye(3))


def test_truncated_and_corrupt_compressed_files(tmp_path):
    import gzip

    words, x = _table()
    plain = tmp_path / "v.bin"
    write_word2vec(str(plain), words, x, binary=True)
    data = gzip.compress(plain.read_bytes())
    cut = tmp_path / "cut.bin.gz"
    cut.write_bytes(data[:len(data) // 2])
    err = one_error_line(run(["neighbors", cut]))
    assert "cut.bin.gz" in err and ("corrupt or truncated" in err or "truncated binary vector" in err)
    short = tmp_path / "short.vec.gz"
    short.write_bytes(gzip.compress(b"5 2\na 1 0\nb 0 1\n"))
    err = one_error_line(run(["neighbors", short]))
    assert "the header promises 5 vectors of 2 values, but the file ends after 2" in err
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0xFF
    broken = tmp_path / "broken.bin.gz"
    broken.write_bytes(bytes(bad))
    one_error_line(run(["neighbors", broken]))


def test_mixed_dimension_names_the_line(tmp_path):
    p = tmp_path / "v.vec"
    p.write_text("3 3\na 1 0 0\nb 0 1\nc 1 1 1\n", encoding="utf-8")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("a c 1\na b 2\n", encoding="utf-8")
    for cmd in (["similar", p, "a"], ["neighbors", p], ["evaluate", p, "--pairs", pairs]):
        err = one_error_line(run(cmd))
        assert f"{p}:3: expected a word and 3 numbers (the header's dimension), got 2 values" in err


@pytest.mark.parametrize("kind", ["plain", "gz"])
def test_glove_text_without_header_equals_gensim_no_header(tmp_path, kind):
    """GloVe's files have no 'V D' line: the dimension is read off the first vector."""
    KeyedVectors = pytest.importorskip("gensim.models").KeyedVectors

    words, x = _table()
    w2v = tmp_path / "v.vec"
    write_word2vec(str(w2v), words, x)
    body = w2v.read_bytes().split(b"\n", 1)[1]
    p = tmp_path / "glove.txt"
    p.write_bytes(COMPRESS[kind](body))
    (tmp_path / "plain.txt").write_bytes(body)
    ref = KeyedVectors.load_word2vec_format(str(tmp_path / "plain.txt"), no_header=True)
    stats = {}
    got_words, got = read_word2vec(str(p), stats=stats)
    assert got_words == list(ref.index_to_key) and np.allclose(got, ref.vectors, atol=1e-6)
    assert stats["header"] is None
    assert read_word2vec(str(p), limit=5)[0] == got_words[:5]
    assert read_word2vec(str(p), limit=10 ** 6)[0] == got_words
    r = run(["similar", p, "中国", "-k", 3, "-q"])
    want = "".join(f"{w}\t{s:.6f}\n" for w, s in ref.most_similar("中国", topn=3))
    assert r.exit_code == 0 and r.stdout == want
    r = run(["similar", "-", "中国", "-k", 3, "-q"], input=p.read_bytes())  # stdin too
    assert r.exit_code == 0 and r.stdout == want


def test_glove_text_errors(tmp_path):
    p = tmp_path / "g.txt"
    for content, message in [(b"a 1 0\nb 0 1 2\n", ":2: expected a word and 2 numbers (the first line's dimension), got 3"),
                             (b"a 1 0\nb 0 x\n", ":2: non-numeric value in the vector of 'b'"),
                             (b"hello world\n", ":1: expected a word2vec 'V D' header or a first vector"),
                             (b"a 1 0\n\xff 0 1\n", ":2: cannot decode byte 0xff")]:
        p.write_bytes(content)
        with pytest.raises(TextmineError, match=re.escape(message)):
            read_word2vec(str(p))
        err = one_error_line(run(["similar", p, "a"]))
        assert message in err
    p.write_text("a 1 0\n", encoding="utf-8")
    with pytest.raises(TextmineError, match="binary word2vec file starts with a 'V D' header"):
        read_word2vec(str(p), binary=True)


# ------------------------------------------------------------------- similar: analogies and query lists
@pytest.fixture
def kv_file(tmp_path):
    KeyedVectors = pytest.importorskip("gensim.models").KeyedVectors

    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(200)] + ["king", "queen", "man", "woman", "-x"]
    x = rng.normal(size=(len(words), 12)).astype(np.float32)
    p = tmp_path / "v.bin"
    write_word2vec(str(p), words, x, binary=True)
    return p, KeyedVectors.load_word2vec_format(str(p), binary=True)


QUERIES = [(["king", "woman"], ["man"]), (["w1"], []), (["w2", "w3", "w4"], ["w5", "w6"]), (["-x", "w9"], ["w7"])]


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
@pytest.mark.parametrize("cosmul", [False, True])
def test_similar_equals_gensim_most_similar(kv_file, cosmul):
    from textmine.neighbors import most_similar_many

    p, kv = kv_file
    words, x = read_word2vec(str(p))
    got = most_similar_many(words, x, QUERIES, k=15, method="3cosmul" if cosmul else "3cosadd")
    ref_of = kv.most_similar_cosmul if cosmul else kv.most_similar
    for (pos, neg), answer in zip(QUERIES, got):
        ref = ref_of(positive=pos, negative=neg, topn=15)
        assert [w for w, _ in answer] == [w for w, _ in ref]
        assert np.allclose([s for _, s in answer], [s for _, s in ref], atol=1e-5)
    # the command line: positional words with --minus, and the same queries as a list on stdin
    flag = ["--cosmul"] if cosmul else []
    r = run(["similar", p, "king", "woman", "--minus", "man", "-k", 15, "-q"] + flag)
    assert r.exit_code == 0 and r.stdout == "".join(f"{w}\t{s:.6f}\n" for w, s in got[0])
    r = run(["similar", p, "king", "woman", "--negative", "man", "-k", 15, "-q"] + flag)  # gensim's name for it
    assert r.exit_code == 0 and r.stdout == "".join(f"{w}\t{s:.6f}\n" for w, s in got[0])
    lines = "king woman -man\n\n  w1\n+w2 w3 w4 -w5 -w6\n+-x w9 -w7\n"
    r = run(["similar", p, "--queries", "-", "-k", 15, "-q"] + flag, input=lines)
    texts = ["king woman -man", "w1", "w2 w3 w4 -w5 -w6", "+-x w9 -w7"]
    want = "".join(f"{t}\t{w}\t{s:.6f}\n" for t, answer in zip(texts, got) for w, s in answer)
    assert r.exit_code == 0 and r.stdout == want


def test_similar_queries_skip_unknown_words_and_bad_lines(kv_file, tmp_path):
    p, kv = kv_file
    q = tmp_path / "q.txt"
    q.write_text("king woman -man\nnope w1\nw2\n", encoding="utf-8")
    r = run(["similar", p, "--queries", q, "-k", 2, "--header", "-q"])
    assert r.exit_code == 0
    assert [line.split("\t")[0] for line in r.stdout.splitlines()] == ["query"] + ["king woman -man"] * 2 + ["w2"] * 2
    assert r.stderr == f"textmine similar: 1 query skipped, a word outside the vocabulary (first: {q}:2: 'nope')\n"
    q.write_text("w1\n-w2 -w3\n", encoding="utf-8")
    assert f"{q}:2: a query needs at least one positive word" in one_error_line(run(["similar", p, "--queries", q]))
    q.write_text("nope\n", encoding="utf-8")
    assert "no query to answer" in one_error_line(run(["similar", p, "--queries", q]))
    assert "'nope' is not in the vocabulary" in one_error_line(run(["similar", p, "king", "--minus", "nope"]))
    one_error_line(run(["similar", p]), 2)
    one_error_line(run(["similar", p, "king", "--queries", q]), 2)
    one_error_line(run(["similar", "-", "--queries", "-"], input=b""), 2)


# ----------------------------------------------------------------------------- evaluate: bad input
def test_evaluate_bad_input_is_one_line(tmp_path):
    v = tmp_path / "v.vec.gz"
    import gzip

    v.write_bytes(gzip.compress(b"3 2\na 1 0\nb 0 1\nc 1 1\n"))
    pairs = tmp_path / "p.txt"
    pairs.write_text("x y 1\nz a 2\n", encoding="utf-8")
    err = one_error_line(run(["evaluate", v, "--pairs", pairs]))
    assert err == f"Error: {pairs}: no usable pairs: 0 of 2 have both words in the vocabulary\n"
    pairs.write_text("# only a comment\n", encoding="utf-8")
    assert "no usable pairs (no line with two words and a score)" in one_error_line(
        run(["evaluate", v, "--pairs", pairs]))
    q = tmp_path / "q.txt"
    q.write_text(": s\na b c a\na b c\n", encoding="utf-8")
    assert f"{q}:3: an analogy line is four words (a b c d), not 3" in one_error_line(
        run(["evaluate", v, "--analogies", q]))
    q.write_text(": s\na b c zz\n", encoding="utf-8")
    assert "no usable questions: none of the 1 has its four words in the vocabulary" in one_error_line(
        run(["evaluate", v, "--analogies", q]))
    pairs.write_text("a b 1\na c 2\nb c 3\n", encoding="utf-8")
    r = run(["evaluate", v, "--pairs", pairs, "--limit", 2, "-q"])  # only a and b: one pair is too few
    assert "0 of 3" not in r.stderr and "1 of 3 have both words" in one_error_line(r)
    r = run(["evaluate", v, "--pairs", pairs, "-q"])
    assert r.exit_code == 0 and r.stdout.startswith(f"pairs\t{pairs}\t")
    one_error_line(run(["evaluate", "-", "--pairs", "-"], input=b""), 2)


@pytest.mark.parametrize("binary", [False, True])
def test_records_across_read_windows(tmp_path, binary):
    """Files larger than the reader's 1 MB window: records that straddle two reads."""
    import gzip

    rng = np.random.default_rng(3)
    words = [f"词{i}" * (1 + i % 5) for i in range(3000)]
    x = rng.normal(size=(3000, 97)).astype(np.float32)
    p = tmp_path / "v.vec"
    write_word2vec(str(p), words, x, binary=binary)
    assert p.stat().st_size > 1 << 20
    z = tmp_path / "v.gz"
    z.write_bytes(gzip.compress(p.read_bytes()))
    for path in (p, z):
        got_words, got = read_word2vec(str(path))
        assert got_words == words and np.allclose(got, x, atol=0 if binary else 1e-5)
        got_words, got = read_word2vec(str(path), limit=2500)
        assert got_words == words[:2500] and np.allclose(got, x[:2500], atol=0 if binary else 1e-5)
