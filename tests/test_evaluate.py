"""textmine evaluate: word pairs and analogies against gensim's KeyedVectors on small generated files."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from textmine.cli import cli
from textmine.errors import TextmineError
from textmine import evaluate as ev

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")


def make_vectors(tmp_path, n=60, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n)] + ["King", "king", "Queen"]
    vecs = rng.normal(size=(len(words), dim)).astype(np.float32)
    vecs[-2] = vecs[-3] * 0.9 + 0.1 * vecs[0]  # "king" close to "King"
    path = tmp_path / "v.vec"
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{len(words)} {dim}\n")
        for w, v in zip(words, vecs):
            f.write(w + " " + " ".join(f"{x:.6f}" for x in v) + "\n")
    kv = gensim_kv.KeyedVectors.load_word2vec_format(str(path), binary=False)
    return path, kv


def make_pairs(tmp_path, n=60, seed=1, sep="\t"):
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(40):
        a, b = rng.integers(0, n + 8, size=2)  # some out of vocabulary
        lines.append(sep.join([f"w{a}", f"w{b}", f"{rng.uniform(0, 10):.2f}"]))
    lines += [sep.join(["KING", "queen", "8.5"]), sep.join(["king", "w3", "1.0"])]
    path = tmp_path / "pairs.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_analogies(tmp_path, n=60, seed=2):
    rng = np.random.default_rng(seed)
    lines = []
    for s in range(3):
        lines.append(f": section-{s}")
        for _ in range(25):
            q = rng.integers(0, n + 4, size=4)
            lines.append(" ".join(f"w{i}" for i in q))
        lines.append("king w1 w2 queen")
    path = tmp_path / "q.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("ignore_case", [False, True])
@pytest.mark.parametrize("restrict", [None, 40])
def test_word_pairs_equal_gensim(tmp_path, ignore_case, restrict):
    vpath, kv = make_vectors(tmp_path)
    ppath = make_pairs(tmp_path)
    words, vecs = list(kv.index_to_key), kv.vectors
    got = ev.evaluate_word_pairs(words, vecs, ev.read_word_pairs(str(ppath)), restrict, ignore_case)
    pearson, spearman, oov_ratio = kv.evaluate_word_pairs(str(ppath), restrict_vocab=restrict or 10**9,
                                                          case_insensitive=ignore_case)
    assert got["spearman"] == pytest.approx(spearman[0], abs=1e-9)
    assert got["pearson"] == pytest.approx(pearson[0], abs=1e-6)
    assert got["oov"] / got["pairs"] * 100 == pytest.approx(oov_ratio)
    assert 0 < got["oov"] < got["pairs"]


def test_space_separated_pairs_score_column_and_header(tmp_path):
    _, kv = make_vectors(tmp_path)
    tab = ev.read_word_pairs(str(make_pairs(tmp_path)))
    p = tmp_path / "s.txt"
    p.write_text("word1 word2 extra score\n# comment\n" +
                 "".join(f"{a}  {b} x {s}\n" for a, b, s, _ in tab), encoding="utf-8")
    spaced = ev.read_word_pairs(str(p), score_column=4)
    assert [x[:3] for x in spaced] == [x[:3] for x in tab]
    with pytest.raises(TextmineError, match=r"s.txt:3: score 'x' is not a number"):
        ev.read_word_pairs(str(p), score_column=3)


@pytest.mark.parametrize("first", [True, False])
def test_an_empty_tab_column_is_an_error_not_a_header_or_a_shift(tmp_path, first):
    """'king<TAB><TAB>queen<TAB>9' as the first line read as a header (column 3, 'queen', is not a
    number) and was dropped without a word; anywhere else it is a FILE:LINE error too."""
    p = tmp_path / "p.tsv"
    good = "man\twoman\t8\nparis\tfrance\t7\n"
    p.write_text(("king\t\tqueen\t9\n" + good) if first else (good + "king\t\tqueen\t9\n"), encoding="utf-8")
    line = 1 if first else 3
    with pytest.raises(TextmineError, match=f"p.tsv:{line}: column 2 is empty"):
        ev.read_word_pairs(str(p))
    p.write_text("man\twoman\t\n", encoding="utf-8")
    with pytest.raises(TextmineError, match="p.tsv:1: column 3 is empty"):
        ev.read_word_pairs(str(p))


def test_a_skipped_header_is_said_on_stderr(tmp_path):
    vec, _ = make_vectors(tmp_path)
    ppath = make_pairs(tmp_path)
    body = ppath.read_text(encoding="utf-8")
    ppath.write_text("w1\tw2\tscore\n" + body, encoding="utf-8")
    stats = {}
    assert len(ev.read_word_pairs(str(ppath), stats=stats)) == len(body.splitlines())
    assert stats["header"] == (1, "w1\tw2\tscore")
    r = run(["evaluate", str(vec), "--pairs", str(ppath)])
    assert r.exit_code == 0 and ":1: skipped as a header (its column 3 is not a number): 'w1\\tw2\\tscore'" in r.stderr
    r = run(["evaluate", str(vec), "--pairs", str(ppath), "-q"])
    assert r.exit_code == 0 and r.stderr == ""


@pytest.mark.parametrize("ignore_case", [False, True])
@pytest.mark.parametrize("restrict", [None, 45])
def test_analogies_3cosadd_equal_gensim(tmp_path, ignore_case, restrict):
    _, kv = make_vectors(tmp_path)
    qpath = make_analogies(tmp_path)
    got = ev.evaluate_analogies(list(kv.index_to_key), kv.vectors, ev.read_analogies(str(qpath)), "3cosadd",
                                restrict, ignore_case)
    score, sections = kv.evaluate_word_analogies(str(qpath), restrict_vocab=restrict or 10**9,
                                                 case_insensitive=ignore_case)
    assert got["accuracy"] == pytest.approx(score)
    assert [(s["correct"], s["total"]) for s in got["sections"]] == \
        [(len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections[:-1]]
    assert got["total"] > 0 and got["oov"] > 0


def test_analogies_3cosmul_equal_gensim(tmp_path):
    _, kv = make_vectors(tmp_path)
    sections = ev.read_analogies(str(make_analogies(tmp_path)))
    got = ev.evaluate_analogies(list(kv.index_to_key), kv.vectors, sections, "3cosmul")
    correct = total = 0
    for _, qs in sections:
        for a, b, c, d, _ in qs:
            if all(w in kv.key_to_index for w in (a, b, c, d)):
                total += 1
                correct += kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0] == d
    assert (got["correct"], got["total"]) == (correct, total)


def test_an_exact_analogy_is_found(tmp_path):
    words = ["a", "b", "c", "d", "e"]
    vecs = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=np.float32)
    for m in ("3cosadd", "3cosmul"):
        r = ev.evaluate_analogies(words, vecs, [("s", [("a", "b", "c", "d", 2), ("a", "b", "c", "zz", 3)])], m)
        assert (r["correct"], r["total"], r["oov"]) == (1, 1, 1)


def test_bad_analogy_files(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text(": s\na b c d\na b c\n", encoding="utf-8")
    with pytest.raises(TextmineError, match=r"bad.txt:3: an analogy line is four words"):
        ev.read_analogies(str(p))
    p.write_text("a b c d\n", encoding="utf-8")
    with pytest.raises(TextmineError, match=r"bad.txt:1: a question before"):
        ev.read_analogies(str(p))


def run(args):
    return CliRunner().invoke(cli, args)


def test_cli_tsv_and_json(tmp_path):
    vpath, kv = make_vectors(tmp_path)
    ppath, qpath = make_pairs(tmp_path), make_analogies(tmp_path)
    r = run(["evaluate", str(vpath), "--pairs", str(ppath), "--analogies", str(qpath), "--method", "3cosadd",
             "--method", "3cosmul", "-q"])
    assert r.exit_code == 0, r.output
    rows = [line.split("\t") for line in r.output.splitlines()]
    assert rows[0][0] == "pairs" and float(rows[0][2]) == pytest.approx(kv.evaluate_word_pairs(
        str(ppath), case_insensitive=False)[1][0], abs=1e-6)
    totals = [x for x in rows if x[0] == "analogy" and x[3] == "total"]
    assert [x[2] for x in totals] == ["3cosadd", "3cosmul"]
    assert float(totals[0][4]) == pytest.approx(kv.evaluate_word_analogies(str(qpath), case_insensitive=False)[0],
                                                abs=1e-6)
    r = run(["evaluate", str(vpath), "--pairs", str(ppath), "--analogies", str(qpath), "--json", "-q"])
    data = json.loads(r.output)
    assert data["pairs"][0]["used"] + data["pairs"][0]["oov"] == 42
    assert [s["section"] for s in data["analogies"][0]["sections"]] == ["section-0", "section-1", "section-2"]


def test_cli_bad_input(tmp_path):
    vpath, _ = make_vectors(tmp_path)
    p = tmp_path / "oov.txt"
    p.write_text("zz yy 1\nxx ww 2\n", encoding="utf-8")
    r = run(["evaluate", str(vpath), "--pairs", str(p)])
    assert r.exit_code == 1 and "no usable pairs" in r.output and "Traceback" not in r.output
    q = tmp_path / "q.txt"
    q.write_text(": s\nw1 w2 w3\n", encoding="utf-8")
    r = run(["evaluate", str(vpath), "--analogies", str(q)])
    assert r.exit_code == 1 and "q.txt:2:" in r.output
    r = run(["evaluate", str(vpath)])
    assert r.exit_code == 2
    # a similarity file given as a second argument: the error says which option takes it
    r = run(["evaluate", str(vpath), str(p)])
    assert r.exit_code == 2 and f"unexpected argument '{p}'" in r.output and "--pairs FILE" in r.output
    r = run(["evaluate", str(vpath), "--pairs", str(p), "--no-such-option"])
    assert r.exit_code == 2 and "No such option" in r.output
