"""Word vector files as users have them (compressed, binary, --limit, bad bytes), `similar` with
several words and query lists against gensim, and `embed --init` (issue 14 items 3-5)."""
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
