"""discover-words --exclude and --reference (textmine/keyness.py)."""
import math
import random
import re
from collections import Counter

import pytest
from click.testing import CliRunner

from naive_discover import naive_fold
from naive_segment import naive_scores, naive_segment
from test_discover import make_corpus
from textmine import keyness as km
from textmine.cli import cli
from textmine.errors import TextmineError


# --------------------------------------------------------------------------------------------- statistics
def slow_g2(a, b, c, d):
    """2 Σ O ln(O/E) over the four cells, written out."""
    n = c + d
    table = [[a, b], [c - a, d - b]]
    rows = [a + b, n - a - b]
    cols = [c, d]
    g = 0.0
    for i in range(2):
        for j in range(2):
            o = table[i][j]
            if o > 0:
                g += o * math.log(o / (rows[i] * cols[j] / n))
    return 2 * g


def test_llr_anchors():
    # ALGORITHMS-2.md §4.3: 52 in 50 000 vs 57 in 75 000 -> 4-cell G2 2.654, log ratio 0.453
    assert km.log_likelihood(52, 57, 50000, 75000) == pytest.approx(2.654, abs=5e-4)
    assert km.log_ratio(52, 57, 50000, 75000) == pytest.approx(0.453, abs=5e-4)
    # 10 in 10^6 vs 0 in 10^6 -> 13.86, log ratio log2(10/0.5) = 4.32
    assert km.log_likelihood(10, 0, 10**6, 10**6) == pytest.approx(13.86, abs=5e-3)
    assert km.log_ratio(10, 0, 10**6, 10**6) == pytest.approx(math.log2(20))


def test_llr_matches_slow_formula_and_scipy():
    from scipy.stats import chi2_contingency
    rng = random.Random(3)
    a_, b_, c_, d_ = [], [], [], []
    for _ in range(300):
        c = rng.randint(1, 10**rng.randint(1, 7))
        d = rng.randint(1, 10**rng.randint(1, 7))
        a = rng.choice([0, rng.randint(0, c), c])
        b = rng.choice([0, rng.randint(0, d), d])
        a_.append(a), b_.append(b), c_.append(c), d_.append(d)
    got = km.log_likelihood(a_, b_, c_, d_)
    for g, a, b, c, d in zip(got, a_, b_, c_, d_):
        assert g == pytest.approx(slow_g2(a, b, c, d), rel=1e-9, abs=1e-7)
        if 0 < a + b < c + d:  # scipy needs every expected frequency > 0
            stat = chi2_contingency([[a, b], [c - a, d - b]], correction=False, lambda_="log-likelihood")[0]
            assert g == pytest.approx(stat, rel=1e-7, abs=1e-7)
    lr = km.log_ratio(a_, b_, c_, d_)
    for x, a, b, c, d in zip(lr, a_, b_, c_, d_):
        assert x == pytest.approx(math.log2((max(a, 0.5) / c) / (max(b, 0.5) / d)))


# --------------------------------------------------------------------------------------------- exclude
def test_read_exclude_kinds(tmp_path):
    jieba = tmp_path / "dict.txt"
    jieba.write_text("中国 100 ns\n人民 20\n\n# comment\nＡＢ 3 n\n", encoding="utf-8")
    assert km.read_exclude(str(jieba)) == {"中国", "人民", "AB"}
    lex = tmp_path / "lex.tsv"
    lex.write_text("中国\t5\t1.2\n大会\t3\n", encoding="utf-8")
    assert km.read_exclude(str(lex)) == {"中国", "大会"}
    plain = tmp_path / "words.txt"
    plain.write_text("\ufeff中国\nnew york\r\n人民\n", encoding="utf-8")
    assert km.read_exclude(str(plain)) == {"中国", "new york", "人民"}


@pytest.mark.parametrize("text, line", [
    ("中国 100 ns\n人民 x\n", 2),          # jieba dictionary, frequency not a number
    ("中国 100\n人民 1 n extra\n", 2),     # jieba dictionary, too many fields
    ("中国\t5\n人民\n", 2),                # lexicon line without a TAB
    ("中国\t5\n人民\tabc\n", 2),           # lexicon count not a number
    ("中国\n人民\n大会\t3\n", 3),          # TAB in a plain word list
])
def test_read_exclude_malformed(tmp_path, text, line):
    p = tmp_path / "bad.txt"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(TextmineError, match=f"bad.txt:{line}:"):
        km.read_exclude(str(p))


def naive_read_exclude(text):
    """Words of an exclusion file, line by line (the module docstring's rules), or the bad line's number."""
    kind, words = None, set()
    for lineno, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        num = lambda x: re.fullmatch(r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?", x) is not None  # noqa: E731
        if kind is None:
            kind = "lexicon" if "\t" in s else "jieba" if len(s.split()) >= 2 and num(s.split()[1]) else "list"
        if kind == "lexicon":
            parts = s.split("\t")
            if len(parts) < 2 or not parts[0].strip() or not num(parts[1].strip()):
                return lineno
            w = parts[0].strip()
        elif kind == "jieba":
            parts = s.split()
            if not 2 <= len(parts) <= 3 or not num(parts[1]):
                return lineno
            w = parts[0]
        else:
            if "\t" in s:
                return lineno
            w = s
        words.add(naive_fold(w))
    return words


@pytest.mark.parametrize("seed", range(6))
def test_read_exclude_matches_naive_reader(tmp_path, seed):
    # several 1 MiB blocks (line numbers carry across them); odd lines
    # (tags, comments, blank lines, full-width letters, extra spaces, a TAB, a bad one) land anywhere
    rng = random.Random(seed)
    odd = ["", "# 注释 1", "  词语  7  ", "ＡＢＣ 3 n", "词\t5", "词 1e3 v", "#词 3", " 词 4"]
    lines = []
    for k in range(150000):
        if rng.random() < 0.00003:
            lines.append(rng.choice(odd))
        else:
            lines.append(f"新词语{k} {rng.randint(0, 999)}" + rng.choice(["", " n", " ns"]))
    if seed % 2:  # one bad line, past the first block
        lines[rng.randint(60000, 149999)] = rng.choice(["词 5 n x", "词 abc", "词语", "词 -3"])
    text = "\n".join(lines) + "\n"
    p = tmp_path / "d.txt"
    p.write_text(text, encoding="utf-8")
    assert p.stat().st_size > 2 << 20
    want = naive_read_exclude(text)
    assert isinstance(want, int) == bool(seed % 2)
    if isinstance(want, int):
        with pytest.raises(TextmineError, match=f"d.txt:{want}:"):
            km.read_exclude(str(p))
    else:
        assert km.read_exclude(str(p)) == want


def test_read_exclude_empty(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(TextmineError, match="no word"):
        km.read_exclude(str(p))


# --------------------------------------------------------------------------------------------- reference
@pytest.mark.parametrize("seed", [1, 2])
def test_reference_counts_are_the_naive_segmentation(tmp_path, seed):
    lines, vocab = make_corpus(seed, n_lines=80)
    rng = random.Random(seed)
    words = vocab[:40] + ["AK47"]
    counts = [rng.randint(1, 50) for _ in words]
    ref = tmp_path / "ref.txt"
    ref.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = km.count_reference(words, counts, str(ref))
    scores, total = naive_scores(words, counts)
    tally = Counter()
    for line in lines:
        for t in naive_segment(line, scores, math.log(1.0 / total)):
            if any(ch.isalnum() for ch in t):
                tally[naive_fold(t)] += 1
    assert got.kind == "text"
    assert got.size == sum(tally.values())
    assert got.counts.tolist() == [tally[naive_fold(w)] for w in words]


def test_reference_count_tsv(tmp_path):
    p = tmp_path / "counts.tsv"
    p.write_text("中国\t7\n人民\t3\n，\t500\n大会\t90\n", encoding="utf-8")  # punctuation is no token
    got = km.count_reference(["人民", "中国", "春天"], [1, 1, 1], str(p))
    assert got.kind == "counts" and got.size == 100 and got.counts.tolist() == [3, 7, 0]
    p.write_text("token\tcount\n中国\t7\n人民\t3\n", encoding="utf-8")  # textmine count --header
    got = km.count_reference(["人民", "中国"], [1, 1], str(p))
    assert got.kind == "counts" and got.size == 10 and got.counts.tolist() == [3, 7]
    p.write_text("中国\t7\n人民 3\n", encoding="utf-8")
    with pytest.raises(TextmineError, match="counts.tsv:2:"):
        km.count_reference(["中国"], [1], str(p))


def test_reference_empty_or_disjoint(tmp_path):
    p = tmp_path / "ref.txt"
    p.write_text("\n，。\n", encoding="utf-8")
    with pytest.raises(TextmineError, match="empty"):
        km.count_reference(["中国"], [3], str(p))
    p.write_text("hello world\n", encoding="utf-8")
    with pytest.raises(TextmineError, match="shares no word"):
        km.count_reference(["中国"], [3], str(p))


# --------------------------------------------------------------------------------------------- CLI
def _rows(text):
    return [line.split("\t") for line in text.splitlines()]


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    d = tmp_path_factory.mktemp("keyness")
    lines, vocab = make_corpus(7, n_lines=400)
    ref_lines, _ = make_corpus(8, n_lines=400)
    target = d / "target.txt"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ref = d / "ref.txt"
    ref.write_text("\n".join(ref_lines + lines[:100]) + "\n", encoding="utf-8")
    return target, ref


def test_cli_exclude(corpora, tmp_path):
    target, _ = corpora
    full = CliRunner().invoke(cli, ["discover-words", str(target), "-q"])
    assert full.exit_code == 0, full.output
    rows = _rows(full.stdout)
    dropped = {rows[i][0] for i in range(0, len(rows), 3)}
    a = tmp_path / "a.txt"
    a.write_text("".join(f"{w} 5 n\n" for w in sorted(dropped)[::2]), encoding="utf-8")
    b = tmp_path / "b.txt"
    b.write_text("".join(f"{w}\n" for w in sorted(dropped)[1::2]) + "不在语料\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["discover-words", str(target), "--exclude", str(a), "--exclude", str(b)])
    assert res.exit_code == 0, res.output
    # the same rows, with the same statistics, minus the excluded words
    assert _rows(res.stdout) == [r for r in rows if r[0] not in dropped]
    assert f"--exclude: {len(dropped)} of {len(rows)} discovered words" in res.stderr


def test_cli_exclude_malformed(corpora, tmp_path):
    target, _ = corpora
    bad = tmp_path / "bad.txt"
    bad.write_text("中国 3\n人民 x\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["discover-words", str(target), "--exclude", str(bad)])
    assert res.exit_code == 1 and "bad.txt:2:" in res.output and "Traceback" not in res.output
    # checked before discovery: on a corpus discovery would refuse, the error is still the file's
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    res = CliRunner().invoke(cli, ["discover-words", str(empty), "--exclude", str(bad)])
    assert res.exit_code == 1 and "bad.txt:2:" in res.output
    res = CliRunner().invoke(cli, ["discover-words", str(empty), "--reference", str(tmp_path / "missing.txt")])
    assert res.exit_code == 1 and "missing.txt" in res.output


def test_cli_reference(corpora):
    target, ref = corpora
    full = _rows(CliRunner().invoke(cli, ["discover-words", str(target), "-q"]).stdout)
    counts = {r[0]: int(r[1]) for r in full}
    c = sum(counts.values())
    res = CliRunner().invoke(cli, ["discover-words", str(target), "--reference", str(ref), "--header",
                                   "--min-llr", "3.84"])
    assert res.exit_code == 0, res.output
    rows = _rows(res.stdout)
    assert rows[0] == ["word", "count", "cohesion", "pmi", "gain", "ref_count", "llr", "log_ratio"]
    rows = rows[1:]
    assert rows, "some word must be key"
    by_word = {r[0]: r for r in full}
    words = [r[0] for r in full]
    ref_counts = km.count_reference(words, [counts[w] for w in words], str(ref))
    d = ref_counts.size
    b_of = dict(zip(words, ref_counts.counts.tolist()))
    llrs = []
    for r in rows:
        w, a, b, llr, lr = r[0], int(r[1]), int(r[5]), float(r[6]), float(r[7])
        assert r[:5] == by_word[w]
        assert b == b_of[w]
        assert a / c > b / d
        assert llr == pytest.approx(slow_g2(a, b, c, d), abs=1e-4)
        assert llr >= 3.84
        assert lr == pytest.approx(math.log2((a / c) / (max(b, 0.5) / d)), abs=1e-4)
        llrs.append(llr)
    assert llrs == sorted(llrs, reverse=True)
    # every word left out is under-represented or below the threshold
    kept = {r[0] for r in rows}
    for w in words:
        if w not in kept:
            a, b = counts[w], b_of[w]
            assert not (a / c > b / d and slow_g2(a, b, c, d) >= 3.84 + 1e-6)
    # the default threshold is 10.83
    dflt = _rows(CliRunner().invoke(cli, ["discover-words", str(target), "--reference", str(ref), "-q"]).stdout)
    assert dflt == [r for r in rows if float(r[6]) >= 10.83]
    # --sort log_ratio
    by_lr = _rows(CliRunner().invoke(cli, ["discover-words", str(target), "--reference", str(ref), "-q",
                                           "--sort", "log_ratio"]).stdout)
    assert sorted(by_lr) == sorted(dflt)
    assert [float(r[7]) for r in by_lr] == sorted((float(r[7]) for r in by_lr), reverse=True)


def test_cli_reference_jobs_identical(corpora):
    target, ref = corpora
    a = CliRunner().invoke(cli, ["discover-words", str(target), "--reference", str(ref), "-q", "-j", "1"])
    b = CliRunner().invoke(cli, ["discover-words", str(target), "--reference", str(ref), "-q", "-j", "2",
                                 "--batch-chars", "2000"])
    assert a.exit_code == 0 and a.stdout == b.stdout


def test_cli_reference_errors(corpora, tmp_path):
    target, _ = corpora
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    res = CliRunner().invoke(cli, ["discover-words", str(target), "--reference", str(empty)])
    assert res.exit_code == 1 and "empty" in res.output and "Traceback" not in res.output
    latin = tmp_path / "latin.txt"
    latin.write_text("the quick brown fox\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["discover-words", str(target), "--reference", str(latin)])
    assert res.exit_code == 1 and "shares no word" in res.output
    for args in (["--sort", "llr"], ["--min-llr", "3"]):
        res = CliRunner().invoke(cli, ["discover-words", str(target)] + args)
        assert res.exit_code == 2 and "needs --reference" in res.output


def test_cli_reference_from_count_output(corpora, tmp_path):
    target, ref = corpora
    counts = tmp_path / "ref_counts.tsv"
    res = CliRunner().invoke(cli, ["count", "-t", "char", str(ref), "--header", "-q", "-o", str(counts)])
    assert res.exit_code == 0, res.output
    table = dict(line.split("\t") for line in counts.read_text(encoding="utf-8").splitlines()[1:])
    d = sum(int(n) for t, n in table.items() if any(ch.isalnum() for ch in t))
    res = CliRunner().invoke(cli, ["discover-words", str(target), "--reference", str(counts), "--min-llr", "0"])
    assert res.exit_code == 0, res.output
    full = _rows(CliRunner().invoke(cli, ["discover-words", str(target), "-q"]).stdout)
    c = sum(int(r[1]) for r in full)
    rows = _rows(res.stdout)
    assert rows and f"reference {d} tokens (counts)" in res.stderr
    for r in rows:
        a, b = int(r[1]), int(r[5])
        assert b == int(table.get(r[0], 0))  # char counts: only single characters can be found
        assert float(r[6]) == pytest.approx(slow_g2(a, b, c, d), abs=1e-4) and a / c > b / d
