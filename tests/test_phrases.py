"""discover-words --units tokens: phrases of whitespace-separated tokens (naive twin, -j and engine
identity, error cases, CLI)."""
import random

import pytest
from click.testing import CliRunner

from naive_discover import naive_discover, naive_token_segments
from textmine import discover as dm
from textmine.cli import cli
from textmine.errors import TextmineError

WORDS = ["the", "of", "a", "new", "york", "city", "los", "angeles", "united", "states", "man", "said", "was", "in",
         "it", "he", "she", "time", "day", "old", "house", "white", "black", "sea", "whale", "sperm", "mr.", "brown",
         "中国", "人民", "银行", "发展", "ｗｗｗ", "1998年", "don't", "it's", "U.S.", "data", "base", "on", "and"]
PHRASES = [("new", "york"), ("los", "angeles"), ("united", "states"), ("sperm", "whale"), ("white", "house"),
           ("中国", "人民", "银行"), ("new", "york", "city"), ("mr.", "brown")]
PUNCT = [",", ".", "--", "，", "。", "——", "''", "!?"]


def make_token_corpus(seed, n_lines=300):
    """Lines of Zipf-distributed tokens and planted phrases, with punctuation tokens and odd spacing."""
    rng = random.Random(seed)
    weights = [1.0 / (k + 1) for k in range(len(WORDS))]
    lines = []
    for _ in range(n_lines):
        toks = []
        for _ in range(rng.randint(0, 14)):
            r = rng.random()
            if r < 0.08:
                toks.append(rng.choice(PUNCT))
            elif r < 0.25:
                toks.extend(rng.choice(PHRASES))
            else:
                toks.append(rng.choices(WORDS, weights)[0])
        sep = rng.choice([" ", "  ", "\t", " \u3000"])
        lines.append(sep.join(toks) + rng.choice(["", " "]))
    return lines


def batches_of(lines, size=37):
    return [lines[i:i + size] for i in range(0, len(lines), size)]


def _table(r):
    return [(w, c, f"{a:.12g}", f"{b:.12g}", f"{g:.12g}") for w, c, a, b, g in zip(r.words, r.counts, r.cohesion,
                                                                             r.pmi, r.gain)]


def test_naive_token_segments():
    assert naive_token_segments("new york , los angeles .  the") == [["new", "york"], ["los", "angeles"], ["the"]]
    assert naive_token_segments(" 中国  人民 ——  ｗｗｗ\t1998年 ") == [["中国", "人民"], ["ｗｗｗ", "1998年"]]


def test_token_encoder_matches_naive_segments():
    """Unit keys of the encoder: one key per token as written, -1 at punctuation tokens and line ends."""
    lines = make_token_corpus(7, n_lines=80)
    enc = dm._TokenEncoder()
    segs, strings = [], {v: k for k, v in enc.runs.items()}
    for batch in batches_of(lines, 9):
        keys, n_chars = enc.encode(batch)
        assert n_chars == sum(map(len, batch))
        strings = {v: k for k, v in enc.runs.items()}
        cur = []
        assert keys.shape[0] == 0 or keys[0] != -1
        for k in keys.tolist():
            if k == -1:
                assert cur  # never two splits in a row
                segs.append(cur)
                cur = []
            else:
                cur.append(strings[k])
        assert not cur  # every batch ends with a split
    assert segs == [s for line in lines for s in naive_token_segments(line)]
    assert enc.gaps == sum(max(len(line.split()) - 1, 0) for line in lines)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_n,min_pmi,redundancy,joiner", [(3, "1,2", "len-1", " "), (4, "0.5,1.5", "none", "_"),
                                                             (2, "1", "2.0", ""), (3, "4.5,5.5", "len-1", " ")])
def test_token_discover_matches_naive(seed, max_n, min_pmi, redundancy, joiner):
    lines = make_token_corpus(seed)
    r = dm.discover_words(batches_of(lines), units="tokens", min_count=3, max_n=max_n, min_pmi=min_pmi,
                          redundancy=redundancy, joiner=joiner)
    thr = dm._parse_thresholds(min_pmi, max_n)
    words, counts = naive_discover(lines, 3, max_n, thr, dm.parse_redundancy(redundancy), units="tokens",
                                   joiner=joiner)
    assert r.words == words
    assert r.counts == counts
    if joiner == " " and min_pmi == "1,2":
        assert "new york" in r.words and "los angeles" in r.words  # planted phrases are found


def test_token_defaults_and_scores():
    lines = make_token_corpus(3, n_lines=2000)
    r = dm.discover_words(batches_of(lines, 200), units="tokens")
    d = dm.DEFAULTS["tokens"]
    words, counts = naive_discover(lines, d["min_count"], d["max_n"], dm._parse_thresholds(d["min_pmi"], d["max_n"]),
                                   dm.parse_redundancy(d["redundancy"]), units="tokens")
    assert (r.words, r.counts) == (words, counts)
    assert r.stats["unit"] == "token" and r.stats["units"] == sum(len(s) for line in lines
                                                                    for s in naive_token_segments(line))
    for w, coh, pmi in zip(r.words, r.cohesion, r.pmi):
        if " " in w:  # a phrase is cohesive by the 2-gram default threshold
            assert coh >= 4.5 and pmi == pmi
        else:
            assert coh != coh and pmi != pmi  # NaN for one token


def test_token_discover_independent_of_jobs_batches_and_spills():
    lines = make_token_corpus(4, n_lines=500)
    a = dm.discover_words(batches_of(lines, 13), units="tokens", min_pmi="1,2", n_jobs=1)
    b = dm.discover_words(batches_of(lines, 200), units="tokens", min_pmi="1,2", n_jobs=2)
    c = dm.discover_words(batches_of(lines, 20), units="tokens", min_pmi="1,2", n_jobs=2, memory_limit=3000)
    assert _table(a) == _table(b) == _table(c)
    assert any(" " in w for w in a.words)


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_token_discover_on_shards_is_independent_of_shards_jobs_and_engine(tmp_path, engine):
    if engine == "dask":
        pytest.importorskip("distributed")
    lines = make_token_corpus(5, n_lines=600)
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    ref = _table(dm.discover_words(batches_of(lines, 50), units="tokens", min_pmi="1,2"))
    runs = [dict(n_jobs=1), dict(n_jobs=2, shard_bytes=3000), dict(n_jobs=2, shard_bytes=2000, memory_limit=3000)]
    if engine == "dask":
        runs = runs[1:2]
    for kw in runs:
        got = dm.discover_words(paths=[str(path)], engine=engine, tmpdir=str(work), batch_chars=1000,
                                units="tokens", min_pmi="1,2", **kw)
        assert _table(got) == ref
        assert list(work.iterdir()) == []


def test_token_errors():
    with pytest.raises(TextmineError, match="segment it first"):  # no whitespace: one token per line
        dm.discover_words([["我爱北京天安门", "今天天气很好"] * 5], units="tokens")
    with pytest.raises(TextmineError, match="average 16 characters"):  # whitespace, but not between words
        dm.discover_words([["今天天气很好我爱北京天安门，我们都 喜欢去公园散步然后回家吃饭睡觉"] * 5], units="tokens")
    with pytest.raises(TextmineError, match="empty"):
        dm.discover_words([[", . --", "!!"]], units="tokens")
    with pytest.raises(TextmineError, match="units"):
        dm.discover_words([["a b"]], units="words")
    with pytest.raises(TextmineError, match="--units tokens"):  # character mode on English points to tokens
        dm.discover_words([["hello world"] * 10])


@pytest.fixture
def token_file(tmp_path):
    p = tmp_path / "tokens.txt"
    p.write_text("\n".join(make_token_corpus(6, n_lines=800)) + "\n", encoding="utf-8")
    return p


def test_cli_tokens_jobs_identical_stdin_and_joiner(token_file):
    args = ["discover-words", "--units", "tokens", "--min-pmi", "1,2", "-q"]
    a = CliRunner().invoke(cli, args + [str(token_file), "-j", "1"])
    b = CliRunner().invoke(cli, args + [str(token_file), "-j", "2", "--batch-chars", "2000"])
    c = CliRunner().invoke(cli, args + ["-"], input=token_file.read_text(encoding="utf-8"))
    d = CliRunner().invoke(cli, args + [str(token_file), "--joiner", "_"])
    assert a.exit_code == b.exit_code == c.exit_code == d.exit_code == 0, a.output
    assert a.stdout == b.stdout == c.stdout
    assert "new york\t" in a.stdout and "los angeles\t" in a.stdout
    assert d.stdout == "".join(line.split("\t")[0].replace(" ", "_") + "\t" + line.split("\t", 1)[1] + "\n"
                               for line in a.stdout.splitlines())
    e = CliRunner().invoke(cli, args[:-1] + [str(token_file)])
    assert "per-token information" in e.stderr


@pytest.mark.parametrize("args,code,message", [
    (["--joiner", "_"], 2, "needs --units tokens"),
    (["--units", "tokens", "--format", "jieba"], 2, "--joiner"),
    (["--units", "tokens", "--counts", "x"], 2, "--counts"),
    (["--units", "tokens", "--reference", "x"], 2, "--reference"),
    (["--units", "tokens", "--joiner", "\t"], 2, "TAB"),
])
def test_cli_token_usage_errors(token_file, args, code, message):
    res = CliRunner().invoke(cli, ["discover-words", str(token_file), *args])
    assert res.exit_code == code
    assert message in res.stderr and res.stdout == "" and "Traceback" not in res.stderr


@pytest.mark.parametrize("content,message", [("中国人民银行发展很快\n" * 10, "segment it first"),
                                             ("hello, world!\n... ---\n" * 9, "--units tokens")])
def test_cli_unsegmented_and_english_hints(tmp_path, content, message):
    p = tmp_path / "c.txt"
    p.write_text(content, encoding="utf-8")
    units = ["--units", "tokens"] if message == "segment it first" else []
    res = CliRunner().invoke(cli, ["discover-words", str(p), *units])
    assert res.exit_code == 1
    assert message in res.stderr and "Traceback" not in res.stderr and res.stdout == ""


def test_cli_jieba_format_with_joiner(token_file):
    res = CliRunner().invoke(cli, ["discover-words", str(token_file), "--units", "tokens", "--min-pmi", "1,2",
                                   "--format", "jieba", "--joiner", "_", "-q"])
    assert res.exit_code == 0
    rows = [line.split(" ") for line in res.stdout.splitlines()]
    assert all(len(r) == 2 and int(r[1]) >= 1 for r in rows)
    assert any(r[0] == "new_york" for r in rows)


def test_cli_tokens_exclude_drops_listed_phrases(token_file, tmp_path):
    args = ["discover-words", str(token_file), "--units", "tokens", "--min-pmi", "1,2", "-q"]
    listed = tmp_path / "known.txt"
    listed.write_text("new york\nthe\n", encoding="utf-8")
    a = CliRunner().invoke(cli, args)
    b = CliRunner().invoke(cli, args + ["--exclude", str(listed)])
    assert a.exit_code == b.exit_code == 0
    rows = a.stdout.splitlines()
    assert b.stdout.splitlines() == [r for r in rows if r.split("\t")[0] not in ("new york", "the")]
    assert len(rows) - len(b.stdout.splitlines()) == 2
