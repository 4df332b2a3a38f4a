import math
import random

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import JIT_DISABLED, shared_file
from naive_segment import naive_best_score, naive_scores, naive_segment
from textmine.cli import cli
from textmine.errors import TextmineError
from textmine.segment import Segmenter, load_lexicon

CHARS = "中国人民大会堂经济发展世纪新的了是"


def random_lexicon(rng, n_words=40):
    words, counts = [], []
    while len(words) < n_words:
        w = "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 4)))
        if w not in words:
            words.append(w)
            counts.append(rng.randint(0, 500) + rng.random())
    words += ["AK47", "ＡＫ", "2001年", "3.5%"]
    counts += [7, 3, 9, 4]
    return words, counts


def random_text(rng, n):
    alphabet = CHARS * 3 + "AK47ＡＫ2001年3.5%，。 —…x\u3000"
    return "".join(rng.choice(alphabet) for _ in range(n))


@pytest.mark.parametrize("seed", range(6))
def test_segment_matches_naive(seed):
    rng = random.Random(seed)
    words, counts = random_lexicon(rng)
    unknown = None if seed % 2 else -25.0
    seg = Segmenter(words, counts, unknown_score=unknown)
    scores, total = naive_scores(words, counts)
    unk = math.log(1 / total) if unknown is None else unknown
    for _ in range(30):
        text = random_text(rng, rng.randint(0, 60))
        assert seg.cut(text) == naive_segment(text, scores, unk), text


@pytest.mark.parametrize("seed", range(4))
def test_segment_is_optimal(seed):
    """The DP's total score equals the brute-force best over every segmentation."""
    rng = random.Random(100 + seed)
    words, counts = random_lexicon(rng)
    seg = Segmenter(words, counts)
    scores, total = naive_scores(words, counts)
    unk = math.log(1 / total)
    for _ in range(30):
        text = "".join(rng.choice(CHARS + "AK47") for _ in range(rng.randint(1, 11)))
        toks = seg.cut(text)
        assert "".join(toks) == text
        got = sum(scores.get(t.translate({0xFF21: "A", 0xFF2B: "K"}), unk) for t in toks)
        assert got == pytest.approx(naive_best_score(text, scores, unk), abs=1e-9)


def test_segment_lines_order_and_jobs():
    rng = random.Random(9)
    words, counts = random_lexicon(rng)
    seg = Segmenter(words, counts)
    lines = [random_text(rng, rng.randint(0, 30)) for _ in range(500)] + ["", "   "]
    a = seg.segment_lines(lines)
    b = seg.segment_lines(lines, n_jobs=3, batch_size=7)
    assert a == b == [seg.cut(ln) for ln in lines]
    assert len(a) == len(lines) and a[-1] == [] and a[-2] == []
    assert seg.segment_lines([]) == []


def test_rules():
    seg = Segmenter(["中国", "人民", "中国人", "AK47", "１２月"], [10, 10, 1, 5, 4])
    assert seg.cut("中国人民") == ["中国", "人民"]
    assert seg.cut("用AK47打") == ["用", "AK47", "打"]          # a word; unknown characters alone
    assert seg.cut("AK4712月") == ["AK4712", "月"]             # Latin/digit runs are never cut inside
    assert seg.cut("12月，3.5%") == ["12月", "，", "3.5%"]      # full-width entry matches ASCII text
    assert seg.cut("好——啊……  吧") == ["好", "——", "啊", "……", "吧"]
    assert seg.cut("") == []


def test_bad_lexicon(tmp_path):
    p = tmp_path / "lex.tsv"
    p.write_text("中国\t3\n人民\tmany\n", encoding="utf-8")
    with pytest.raises(TextmineError, match=r"lex.tsv:2"):
        load_lexicon(str(p))
    with pytest.raises(TextmineError):
        Segmenter([], [])
    with pytest.raises(TextmineError):
        Segmenter(["a"], [1], unknown_score=float("nan"))


def test_load_jieba_and_textmine_formats(tmp_path):
    tsv = tmp_path / "lex.tsv"
    tsv.write_text("中国\t10\t3.2\t1\t0.1\n人民\t10\t\t\t\n", encoding="utf-8")
    jb = tmp_path / "dict.txt"
    jb.write_text("中国 10 ns\n人民 10\n", encoding="utf-8")
    assert load_lexicon(str(tsv)).cut("中国人民") == load_lexicon(str(jb)).cut("中国人民") == ["中国", "人民"]


# ------------------------------------------------------------------------------------- CLI

@pytest.fixture
def lexicon(tmp_path):
    p = tmp_path / "lex.tsv"
    p.write_text("中国\t10\n人民\t10\n中国人\t1\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("mode", ["argument", "stdin"])
def test_cli_segment(lexicon, tmp_path, mode):
    text = "中国人民，你好\n\n  中国 AK47\n"
    if mode == "argument":
        f = tmp_path / "in.txt"
        f.write_text(text, encoding="utf-8")
        res = CliRunner().invoke(cli, ["segment", "--dict", str(lexicon), str(f)])
    else:
        res = CliRunner().invoke(cli, ["segment", "--dict", str(lexicon), "-"], input=text)
    assert res.exit_code == 0, res.output
    assert res.stdout == "中国 人民 ， 你 好\n\n中国 AK47\n"
    # a summary on stderr (3 lines, 16 characters without the line ends, 7 words); none with -q
    assert res.stderr.startswith("textmine segment: 3 lines, 16 characters, 7 words, "), res.stderr
    args = ["segment", "-q", "--dict", str(lexicon)] + ([str(f)] if mode == "argument" else ["-"])
    quiet = CliRunner().invoke(cli, args, input=None if mode == "argument" else text)
    assert quiet.exit_code == 0 and quiet.stdout == res.stdout and quiet.stderr == ""


def test_cli_segment_sep_and_jobs(lexicon, tmp_path):
    rng = random.Random(3)
    f = tmp_path / "in.txt"
    f.write_text("\n".join(random_text(rng, 40) for _ in range(3000)) + "\n", encoding="utf-8")
    a = CliRunner().invoke(cli, ["segment", "--dict", str(lexicon), str(f), "-j", "1", "--sep", "/"])
    b = CliRunner().invoke(cli, ["segment", "--dict", str(lexicon), str(f), "-j", "3", "--sep", "/",
                                 "--batch-lines", "10"])
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout
    assert len(a.stdout.splitlines()) == 3000


def test_cli_segment_errors(lexicon, tmp_path):
    f = tmp_path / "in.txt"
    f.write_text("中国\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["segment", str(f)])
    assert r.exit_code == 2 and "exactly one of --dict" in r.stderr
    r = CliRunner().invoke(cli, ["segment", "--dict", str(lexicon), "--model", "m", str(f)])
    assert r.exit_code == 2
    bad = tmp_path / "bad.tsv"
    bad.write_text("中国\t1\n人民\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["segment", "--dict", str(bad), str(f)])
    assert r.exit_code == 1 and "bad.tsv:2" in r.stderr and "Traceback" not in r.stderr
    r = CliRunner().invoke(cli, ["segment", "--dict", str(tmp_path / "missing.tsv"), str(f)])
    assert r.exit_code in (1, 2) and "Traceback" not in r.stderr
    out = tmp_path / "out.txt"
    r = CliRunner().invoke(cli, ["segment", "--dict", str(bad), str(f), "-o", str(out)])
    assert r.exit_code == 1 and not out.exists()


def test_cli_segment_model_matches_library_and_dict_layout(tmp_path):
    from textmine.tagger import load_model

    d = tmp_path / "dict.txt"
    d.write_text("中国 100\n人民 80\n中国人民 30\n银行 50\n人 60\n民 10\n在 90\n的 200\n\n", encoding="utf-8")
    model = tmp_path / "m.npz"
    r = CliRunner().invoke(cli, ["train-segmenter", "--dict", str(d), "-o", str(model), "--samples", "2000",
                                 "--epochs", "2", "-q"])
    assert r.exit_code == 0, r.output
    f = tmp_path / "in.txt"
    lines = ["中国人民银行 在 中国", "", "人民的银行，ABC 123"]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["segment", "--model", str(model), str(f)])
    assert r.exit_code == 0, r.output
    want = [" ".join(w for w in ws if not w.isspace()) for ws in load_model(str(model)).segment_lines(lines)]
    assert r.stdout.splitlines() == want
    r2 = CliRunner().invoke(cli, ["segment", "--dict", str(d), str(f)])
    assert len(r2.stdout.splitlines()) == len(want) == 3
    assert [ln.replace(" ", "") for ln in r.stdout.splitlines()] == [ln.replace(" ", "") for ln in r2.stdout.splitlines()]
    r = CliRunner().invoke(cli, ["segment", "--model", str(tmp_path / "missing.npz"), str(f)])
    assert r.exit_code == 1 and "Traceback" not in r.stderr


def test_pku_with_gold_words():
    """With the PKU gold's own words as the lexicon, segmentation is near perfect (sanity check)."""
    if JIT_DISABLED:
        pytest.skip("slow without the JIT")
    from collections import Counter

    from textmine.evaluate import score_segmentation

    gold = shared_file("cws", "pku_test_gold.utf8").read_text(encoding="utf-8").splitlines()
    test = shared_file("cws", "pku_test.utf8").read_text(encoding="utf-8").splitlines()
    counts = Counter(w for ln in gold for w in ln.split())
    seg = Segmenter(list(counts), list(counts.values()))
    score = score_segmentation(gold, seg.segment_lines(test))
    assert score.f1 > 0.97


# ---------------------------------------------------------------------------------------------
# user dictionaries


@pytest.mark.parametrize("seed", range(6))
def test_user_spans_match_naive(seed):
    from naive_segment import user_spans
    from textmine.segment import UserDict

    rng = random.Random(seed)
    alphabet = "ABC+&1"
    forced = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(6)}
    ud = UserDict([(w, None) for w in forced])
    for _ in range(30):
        line = "".join(rng.choice(alphabet + " 中") for _ in range(rng.randint(0, 20)))
        assert ud.spans(line) == user_spans(line, forced)


@pytest.mark.parametrize("seed", range(4))
def test_user_apply_matches_naive_on_batches(seed):
    from naive_segment import user_spans
    from textmine.segment import UserDict

    rng = random.Random(100 + seed)
    alphabet = "AB+中国"
    forced = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3))) for _ in range(5)}
    ud = UserDict([(w, None) for w in forced])
    lines = ["".join(rng.choice(alphabet + " ") for _ in range(rng.randint(0, 12))) for _ in range(20)]
    got = ud.apply(lines, lambda ls: [list(x) for x in ls])
    want = []
    for line in lines:
        words, pos = [], 0
        for s, e in user_spans(line, forced):
            words += list(line[pos:s]) + [line[s:e]]
            pos = e
        want.append(words + list(line[pos:]))
    assert got == want


def test_user_dict_overlaps_longest_then_leftmost():
    from textmine.segment import UserDict

    ud = UserDict([("AB", None), ("BC", None), ("ABCD", None), ("DE", None)])
    assert ud.spans("ABCDE") == [(0, 4)]           # the longest wins
    assert ud.spans("ABC") == [(0, 2)]             # equal lengths: the leftmost wins
    # later entries (files) win: a forced word given a frequency afterwards only tunes
    ud = UserDict([("AB", None), ("AB", 5.0), ("CD", 3.0), ("CD", None)])
    assert ud.forced == {"CD"} and ud.weighted == {"AB": 5.0}


def _user_cli(tmp_path, args, text, user_lines):
    paths = []
    for k, lines in enumerate(user_lines):
        p = tmp_path / f"user{k}.txt"
        p.write_text(lines, encoding="utf-8")
        paths += ["--user-dict", str(p)]
    inp = tmp_path / "in.txt"
    inp.write_text(text, encoding="utf-8")
    return CliRunner().invoke(cli, ["segment", "-q", *args, *paths, str(inp)])


@pytest.fixture()
def small_lexicon(tmp_path):
    p = tmp_path / "lex.txt"
    p.write_text("中国 10\n人民 100\n银行 100\n的 20\n用 5\n写 5\n", encoding="utf-8")
    return str(p)


def test_cli_user_dict_forces_words_whole(small_lexicon, tmp_path):
    text = "中国人民银行用C++写的AT&T\n人民银行的iPhone14\n"
    r = _user_cli(tmp_path, ["--dict", small_lexicon], text, [])
    assert r.exit_code == 0 and "人民银行" not in r.output.split() and "C++" not in r.output.split()
    for jobs in ("1", "2"):
        r = _user_cli(tmp_path, ["--dict", small_lexicon, "-j", jobs, "--batch-lines", "1"], text,
                      ["C++\n人民银行\n", "AT&T\niPhone14 \n# comment\n\n"])
        assert r.exit_code == 0, r.output
        lines = [ln.split() for ln in r.output.splitlines()]
        assert lines == [["中国", "人民银行", "用", "C++", "写", "的", "AT&T"], ["人民银行", "的", "iPhone14"]]


def test_cli_user_dict_frequency_tunes(small_lexicon, tmp_path):
    text = "人民银行\n"
    r = _user_cli(tmp_path, ["--dict", small_lexicon], text, ["人民银行 1000\n"])
    assert r.output.split() == ["人民银行"]
    r = _user_cli(tmp_path, ["--dict", small_lexicon], text, ["人民银行 1\n"])  # too rare to win
    assert r.output.split() == ["人民", "银行"]
    # the later file wins: forced in the first, tuned (rare) in the second, and the other way round
    r = _user_cli(tmp_path, ["--dict", small_lexicon], text, ["人民银行\n", "人民银行 1\n"])
    assert r.output.split() == ["人民", "银行"]
    r = _user_cli(tmp_path, ["--dict", small_lexicon], text, ["人民银行 1\n", "人民银行\n"])
    assert r.output.split() == ["人民银行"]


@pytest.mark.parametrize("content,message", [
    ("好 x\n", "user0.txt:1: frequency 'x'"),
    ("好 1\n坏 -3\n", "user0.txt:2: frequency '-3'"),
    ("a b c d\n", "user0.txt:1: expected"),
    ("\t5\n", "user0.txt:1: the line starts with whitespace, so its word is empty"),
    ("好\n\u3000 3\n", "user0.txt:2: the line starts with whitespace"),
    ("好\n \u3000\t好的\n", "user0.txt:2: the line starts with whitespace"),
])
def test_cli_user_dict_errors(small_lexicon, tmp_path, content, message):
    r = _user_cli(tmp_path, ["--dict", small_lexicon, "-o", str(tmp_path / "out.txt")], "中国\n", [content])
    assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "out.txt").exists()


def test_user_dict_rejects_empty_and_whitespace_words():
    from textmine.segment import UserDict

    for bad in ("", " ", "\u3000", "AT T"):
        with pytest.raises(TextmineError, match="cannot be empty or hold whitespace"):
            UserDict([("好", None), (bad, 3.0)])


def test_cli_user_dict_with_model(tmp_path):
    from textmine.tagger import train_segmenter_gold

    sents = [["中国", "人民", "的", "银行"], ["人民", "的", "中国"], ["银行", "和", "尚未", "结婚"]] * 20
    model = train_segmenter_gold(sents, epochs=3, nbits=14)
    mpath = tmp_path / "m.model"
    model.save(str(mpath))
    text = "中国人民的银行用C++\n"
    r = _user_cli(tmp_path, ["--model", str(mpath)], text, [])
    assert "国人民" not in r.output.split()
    r = _user_cli(tmp_path, ["--model", str(mpath)], text, ["国人民\nC++\n"])
    assert r.exit_code == 0, r.output
    words = r.output.split()
    assert "国人民" in words and "C++" in words and "".join(words) == text.strip()
    assert words[:2] == ["中", "国人民"]
    # a frequency changes the model's dictionary (its features), it does not force
    tuned = model.with_words({"国人民": 1e9})
    assert "国人民" in tuned.words_ and "国人民" not in model.words_


def test_cli_lexicon_words_with_punctuation_stay_whole(tmp_path):
    lex = tmp_path / "lex.txt"
    lex.write_text("中国 10\nC++ 3\n《留守女士》 2\n糖类抗原19-9 2\nAT&T 1\n", encoding="utf-8")
    text = "看《留守女士》用C++测糖类抗原19-9和AT&T，C+\n"
    r = _user_cli(tmp_path, ["--dict", str(lex)], text, [])
    assert r.exit_code == 0, r.output
    assert r.output.split() == ["看", "《留守女士》", "用", "C++", "测", "糖类抗原19-9", "和", "AT&T", "，", "C", "+"]
    # a user dictionary's line for the same word wins: with a frequency it no longer forces
    r = _user_cli(tmp_path, ["--dict", str(lex)], "C++\n", ["C++ 5\n"])
    assert r.output.split() == ["C", "++"]


# ---------------------------------------------------------------------------------------------
# boundary marginals (forward-backward over the unigram lattice)


@pytest.mark.parametrize("seed", range(6))
def test_marginals_match_brute_force(seed):
    from naive_segment import naive_marginals

    rng = random.Random(100 + seed)
    words, counts = random_lexicon(rng, n_words=25)
    theta = [1.0, 0.5, 2.0][seed % 3]
    seg = Segmenter(words, counts, unknown_score=None if seed % 2 else -9.0)
    scores, total = naive_scores(words, counts)
    for _ in range(8):
        text = random_text(rng, rng.randint(0, 14))
        want = naive_marginals(text, scores, seg.unknown_score, theta)
        have = seg.marginals(text, temperature=theta)
        assert have.shape == (len(text),)
        assert have.tolist() == pytest.approx(want, abs=1e-9)


def test_marginals_anchor_and_viterbi_limit():
    """ALGORITHMS-2 §5.1 anchor; θ → 0 gives the Viterbi cuts; a lattice of two readings."""
    seg = Segmenter(["研究", "研究生", "生命", "命", "的", "起源", "生", "研", "究", "起", "源"],
                    [100, 20, 50, 10, 500, 30, 20, 1, 1, 5, 5])
    text = "研究生命的起源"
    p = seg.marginals(text)
    assert p.round(3).tolist() == [0.0, 0.962, 0.043, 1.0, 1.0, 0.001, 1.0]
    cold = seg.marginals(text, temperature=1e-3)
    cuts = [i for i, v in enumerate(cold) if v > 0.5]
    ends = [sum(map(len, seg.cut(text)[:k + 1])) - 1 for k in range(len(seg.cut(text)))]
    assert cuts == ends and all(v < 1e-9 or v > 1 - 1e-9 for v in cold)  # scores x 1000: rounding ~1e-12
    # three segmentations: 中国|人, 中|国人 and 中|国|人 (国 is no word: the unknown score 1/total)
    seg = Segmenter(["中国", "人", "中", "国人"], [3, 1, 1, 1])
    q = 1 / 6.0
    w1, w2, w3 = 3 * q * q, q * q, q ** 3
    z = w1 + w2 + w3
    assert seg.marginals("中国人").tolist() == pytest.approx([(w2 + w3) / z, (w1 + w3) / z, 1.0], rel=1e-12)


def test_marginals_lines_jobs_and_symbols():
    rng = random.Random(7)
    words, counts = random_lexicon(rng)
    seg = Segmenter(words, counts)
    lines = [random_text(rng, rng.randint(0, 30)) for _ in range(50)]
    one = seg.marginals_lines(lines, n_jobs=1, batch_size=7)
    two = seg.marginals_lines(lines, n_jobs=2, batch_size=3)
    assert len(one) == len(lines) and all(np.array_equal(a, b) for a, b in zip(one, two))
    assert all(np.array_equal(a, seg.marginals(ln)) for a, ln in zip(one, lines))
    # a repeated symbol run is one token, whitespace is a boundary on both sides
    assert seg.marginals("——， 中").tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    with pytest.raises(TextmineError, match="temperature"):
        seg.marginals("中", temperature=0)


def test_user_dict_marginals_keep_forced_words_whole():
    from textmine.segment import UserDict

    seg = Segmenter(["研究", "研究生", "生命", "命", "的", "起源", "生"], [100, 20, 50, 10, 500, 30, 20])
    ud = UserDict([("生命的", None), ("C++", None)])
    lines = ["研究生命的起源", "用C++研究", "", "起源"]
    got = ud.apply_marginals(lines, seg.marginals_lines)
    assert got[0].tolist() == pytest.approx(seg.marginals("研究").tolist() + [0, 0, 1] + seg.marginals("起源").tolist())
    assert got[1].tolist() == pytest.approx([1, 0, 0, 1] + seg.marginals("研究").tolist())
    assert got[2].shape == (0,) and np.array_equal(got[3], seg.marginals("起源"))
    # the words the marginals call certain are the words apply() writes
    for line, p, words in zip(lines, got, ud.apply(lines, seg.segment_lines)):
        assert [i for i, v in enumerate(p) if v > 0.5] == list(np.cumsum([len(w) for w in words], dtype=int) - 1)


def test_ambiguity_review_ranks_and_aggregates():
    from textmine.segment import AmbiguityReview

    rv = AmbiguityReview(confident=0.95, max_len=4, context=2)
    lines = ["甲乙丙丁", "甲乙丙丁", "戊己庚辛壬", "ab"]
    probs = [np.array([0.5, 0.99, 0.3, 1.0]),     # 甲乙 (0.5: ambiguity 1) | 丙丁 (0.3: 0.6)
             np.array([0.9, 1.0, 0.01, 1.0]),     # 甲乙 (0.9: 0.2) | 丙丁 (0.01: certain, not listed)
             np.array([0.2, 0.2, 0.2, 0.2, 1.0]),  # 5 characters > max_len: not listed
             np.array([0.5, 1.0])]
    rv.add(lines, probs)
    top = rv.top(10)
    assert [t[:2] for t in top] == [("甲乙", 2), ("ab", 1), ("丙丁", 1)]
    assert top[0][2] == pytest.approx(0.6) and top[1][2] == pytest.approx(1.0) and top[2][2] == pytest.approx(0.6)
    assert top[0][3] == "甲 乙" and top[2][3] == "丙丁" and top[0][4] == "[甲乙]丙丁" and top[2][4] == "甲乙[丙丁]"
    assert rv.top(1) == top[:1]


def _review_lexicon(tmp_path):
    lex = tmp_path / "amb.txt"
    lex.write_text("和尚 12\n尚未 10\n和 10\n未 10\n结婚 30\n他 30\n的 30\n说 30\n", encoding="utf-8")
    return str(lex)


def test_cli_marginals_and_review_with_dict(tmp_path):
    lex = _review_lexicon(tmp_path)
    text = "他说和尚未结婚\n和尚未的\n他说\n\n和尚未结婚\n"
    inp = tmp_path / "in.txt"
    inp.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(cli, ["segment", "-q", "--dict", lex, "--marginals", str(inp)])
    assert r.exit_code == 0, r.output
    seg = load_lexicon(lex)
    rows = r.stdout.split("\n")[:-1]
    assert len(rows) == 5
    for row, line in zip(rows, text.split("\n")):
        words, probs = row.split("\t")
        assert words.split() == seg.cut(line)
        want = seg.marginals(line)
        assert len(probs.split()) == len(line)
        assert [float(v) for v in probs.split()] == pytest.approx(want.tolist(), abs=5e-5)
    assert rows[3] == "\t"
    r = CliRunner().invoke(cli, ["segment", "-q", "--dict", lex, "--review", "5", str(inp)])
    assert r.exit_code == 0, r.output
    rows = [row.split("\t") for row in r.stdout.splitlines()]
    assert rows[0][:2] == ["和尚未", "3"] and rows[0][4] == "他说[和尚未]结婚" and len(rows[0]) == 5
    # 和尚|未 weighs 12 x 10, 和|尚未 10 x 10, 和|尚|未 10 x 1 x 10 / 162 (尚 unknown; 162 = total)
    z = 120 + 100 + 100 / 162
    p1, p2 = (100 + 100 / 162) / z, (120 + 100 / 162) / z
    assert rows[0][2] == f"{max(1 - abs(2 * p1 - 1), 1 - abs(2 * p2 - 1)):.3f}" and rows[0][3] == "和尚 未"
    # adding the string to a user dictionary takes it off the list
    user = tmp_path / "user.txt"
    user.write_text("和尚未\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["segment", "-q", "--dict", lex, "--user-dict", str(user), "--review", "5", str(inp)])
    assert r.exit_code == 0 and "和尚未" not in r.stdout
    # a sharper temperature makes the lattice surer
    r = CliRunner().invoke(cli, ["segment", "-q", "--dict", lex, "--review", "5", "--temperature", "0.01", str(inp)])
    assert r.exit_code == 0 and r.stdout == ""


def test_cli_marginals_with_model(tmp_path):
    from textmine.tagger import load_model, train_segmenter_gold

    sents = [["中国", "人民", "的", "银行"], ["人民", "的", "中国"], ["银行", "和", "尚未", "结婚"]] * 10
    train_segmenter_gold(sents, epochs=2, nbits=14).save(str(tmp_path / "m.model"))
    train_segmenter_gold(sents, epochs=2, nbits=14, dev_fraction=0).save(str(tmp_path / "raw.model"))
    inp = tmp_path / "in.txt"
    lines = ["中国人民的银行", "和尚未结婚 OK"]
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["segment", "-q", "--model", str(tmp_path / "m.model"), "--marginals",
                                 "--temperature", "20", str(inp)])
    assert r.exit_code == 0, r.output
    m = load_model(str(tmp_path / "m.model"))
    for row, line, want in zip(r.stdout.splitlines(), lines, m.marginals_lines(lines, temperature=20)):
        assert [float(v) for v in row.split("\t")[1].split()] == pytest.approx(want.tolist(), abs=5e-5)
    r2 = CliRunner().invoke(cli, ["segment", "-q", "--model", str(tmp_path / "m.model"), "--marginals", "-j", "2",
                                  "--batch-lines", "1", "--temperature", "20", str(inp)])
    assert r2.exit_code == 0 and r2.stdout == r.stdout
    out = tmp_path / "out.txt"
    r = CliRunner().invoke(cli, ["segment", "-q", "--model", str(tmp_path / "raw.model"), "--marginals",
                                 "-o", str(out), str(inp)])
    assert r.exit_code == 1 and "no fitted temperature" in r.stderr and not out.exists()
    r = CliRunner().invoke(cli, ["segment", "-q", "--model", str(tmp_path / "raw.model"), "--review", "3",
                                 "--temperature", "5", str(inp)])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("args", [["--marginals", "--review", "3"], ["--temperature", "2"],
                                  ["--marginals", "--sep", "\t"], ["--review", "0"], ["--marginals", "--temperature", "0"]])
def test_cli_marginals_usage_errors(tmp_path, args):
    inp = tmp_path / "in.txt"
    inp.write_text("和尚未\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["segment", "-q", "--dict", _review_lexicon(tmp_path), *args, str(inp)])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_cli_marginals_reject_tables(tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text('text\n和尚未\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["segment", "-q", "--dict", _review_lexicon(tmp_path), "--marginals", str(inp)])
    assert r.exit_code == 2 and "--marginals applies to text and jsonl input" in r.output
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"text": "和尚未"}\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["segment", "-q", "--dict", _review_lexicon(tmp_path), "--marginals", str(inp)])
    assert r.exit_code == 0, r.output
    for extra in (["--marginals-field", "text"], ["--output-field", "seg", "--marginals-field", "seg"]):
        r = CliRunner().invoke(cli, ["segment", "-q", "--dict", _review_lexicon(tmp_path), "--marginals", *extra,
                                     str(inp)])
        assert r.exit_code == 2 and "--marginals-field" in r.output


def _marginals_records():
    import json

    texts = ["他说和尚未结婚", "和尚未的\r\n他说", "", "和尚未结婚\n\n他说 和尚"]
    recs = []
    for i, t in enumerate(texts * 3):
        recs.append({"id": i, "meta": {"doc": {"body": t if i % 4 != 1 or i > 8 else t.split("\r\n")}, "lang": "zh"},
                     "tags": ["a", i]})
    return texts, "".join(json.dumps(r, ensure_ascii=bool(i % 2)) + "\n" for i, r in enumerate(recs)), recs


@pytest.mark.parametrize("out_field", [None, "meta.seg"])
def test_cli_marginals_jsonl_nested_field(tmp_path, out_field):
    import json

    lex = _review_lexicon(tmp_path)
    seg = load_lexicon(lex)
    _, data, recs = _marginals_records()
    inp = tmp_path / "in.jsonl"
    inp.write_text(data, encoding="utf-8")
    extra = ["--output-field", out_field] if out_field else []
    args = ["segment", "-q", "--dict", lex, "--field", "meta.doc.body", "--marginals", "--marginals-field",
            "meta.p", *extra, "--batch-lines", "2", str(inp)]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == len(recs)
    for row, rec in zip(rows, recs):
        body = rec["meta"]["doc"]["body"]
        # every other key kept, in order; the probabilities placed under meta.p
        assert row["id"] == rec["id"] and row["tags"] == rec["tags"] and row["meta"]["lang"] == "zh"
        assert list(row) == ["id", "meta", "tags"]
        if out_field:
            assert row["meta"]["doc"]["body"] == body and list(row["meta"]) == ["doc", "lang", "seg", "p"]
            segd = row["meta"]["seg"]
        else:
            assert list(row["meta"]) == ["doc", "lang", "p"]
            segd = row["meta"]["doc"]["body"]
        items, probs = ([body], [row["meta"]["p"]]) if type(body) is str else (body, row["meta"]["p"])
        assert type(row["meta"]["p"]) is list and len(items) == len(probs)
        for item, p, s in zip(items, probs, [segd] if type(body) is str else segd):
            assert len(p) == len(item) and all(type(v) is float for v in p)
            lines = item.split("\n")
            assert s == "\n".join(" ".join(seg.cut(line.rstrip("\r"))) for line in lines)
            want = []
            for k, line in enumerate(lines):
                want += seg.marginals(line.rstrip("\r")).tolist() + [1.0] * line.endswith("\r")
                want += [1.0] if k < len(lines) - 1 else []
            assert p == pytest.approx(want, abs=5e-5)
    r2 = CliRunner().invoke(cli, [*args[:-1], "-j", "2", "--batch-lines", "1", str(inp)])
    assert r2.exit_code == 0 and r2.stdout == r.stdout


def test_cli_marginals_jsonl_model_jobs(tmp_path):
    import json

    from textmine.tagger import load_model, train_segmenter_gold

    sents = [["中国", "人民", "的", "银行"], ["人民", "的", "中国"], ["银行", "和", "尚未", "结婚"]] * 10
    train_segmenter_gold(sents, epochs=2, nbits=14).save(str(tmp_path / "m.model"))
    m = load_model(str(tmp_path / "m.model"))
    texts, data, recs = _marginals_records()
    inp = tmp_path / "in.jsonl"
    inp.write_text(data.replace("body", "text"), encoding="utf-8")
    base = ["segment", "-q", "--model", str(tmp_path / "m.model"), "--field", "meta.doc.text", "--marginals"]
    r1 = CliRunner().invoke(cli, [*base, "-j", "1", str(inp)])
    r2 = CliRunner().invoke(cli, [*base, "-j", "2", "--batch-lines", "1", str(inp)])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    assert r1.stdout == r2.stdout
    rows = [json.loads(x) for x in r1.stdout.splitlines()]
    first = rows[0]["boundary_prob"]
    assert first == pytest.approx(m.marginals_lines([texts[0]])[0].tolist(), abs=5e-5)
    assert rows[2]["boundary_prob"] == []


@pytest.mark.parametrize("seed", range(3))
def test_marginals_reverse_with_text_and_lexicon(seed):
    """ALGORITHMS-2 §5.1: reversing the string and every lexicon word reverses the marginals."""
    rng = random.Random(300 + seed)
    words, counts = random_lexicon(rng, n_words=30)
    words, counts = words[:30], counts[:30]  # Han words only: a Latin run reads differently reversed
    fwd = Segmenter(words, counts)
    bwd = Segmenter([w[::-1] for w in words], counts)
    for _ in range(5):
        text = "".join(rng.choice(CHARS) for _ in range(rng.randint(2, 40)))
        p, q = fwd.marginals(text), bwd.marginals(text[::-1])
        assert p[-1] == q[-1] == 1.0
        assert q[:-1].tolist() == pytest.approx(p[:-1][::-1].tolist(), abs=1e-9)


def _naive_review_add(rv, lines, marginals):
    """The per-span Python loop AmbiguityReview.add replaced (its slow, obvious twin)."""
    hi, lo = rv.confident, 1 - rv.confident
    for line, p in zip(lines, marginals):
        if len(line) < 2:
            continue
        cuts = [k + 1 for k in range(len(line) - 1) if p[k] >= hi]
        for a, b in zip([0] + cuts, cuts + [len(line)]):
            if b - a < 2 or b - a > rv.max_len:
                continue
            inner = [float(x) for x in p[a:b - 1]]
            span = line[a:b]
            if not any(x > lo for x in inner) or any(ch.isspace() for ch in span):
                continue
            amb = max(1 - abs(2 * x - 1) for x in inner)
            rec = rv.stats_.get(span)
            if rec is None:
                cut = "".join(ch + (" " if k < b - a - 1 and inner[k] >= 0.5 else "") for k, ch in enumerate(span))
                ctx = line[max(0, a - rv.context):a] + "[" + span + "]" + line[b:b + rv.context]
                rv.stats_[span] = [1, amb, cut, " ".join(ctx.split())]
            else:
                rec[0] += 1
                rec[1] += amb


@pytest.mark.parametrize("seed", range(8))
def test_review_add_matches_naive(seed):
    from textmine.segment import AmbiguityReview

    rng = random.Random(700 + seed)
    alphabet = "和尚未结婚他说的 \u3000\t中文"
    levels = [0.0, 0.01, 0.05, 0.0500001, 0.3, 0.5, 0.7, 0.95, 0.9499999, 0.99, 1.0]
    kw = dict(confident=rng.choice([0.9, 0.95]), max_len=rng.choice([3, 12]), context=rng.choice([2, 12]))
    fast, slow = AmbiguityReview(**kw), AmbiguityReview(**kw)
    for _ in range(4):  # several batches: counts and sums accumulate across calls
        lines = ["".join(rng.choice(alphabet[:4] if rng.random() < 0.5 else alphabet)
                         for _ in range(rng.choice([0, 1, 2, rng.randint(3, 40)]))) for _ in range(rng.randint(0, 30))]
        probs = [np.array([rng.choice(levels) if rng.random() < 0.7 else rng.random() for _ in line])
                 for line in lines]
        fast.add(lines, probs)
        _naive_review_add(slow, lines, probs)
    assert fast.stats_ == slow.stats_
    assert fast.top(20) == slow.top(20)
