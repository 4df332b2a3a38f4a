"""Tests of the dictionary-trained segmenter (textmine.tagger, textmine train-segmenter)."""
import json
import os
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

import naive_tagger as naive
from conftest import JIT_DISABLED
from textmine import tagger
from textmine.cli import cli
from textmine.errors import TextmineError

CHARS = "中国人民银行的和尚未结婚"
rng0 = np.random.default_rng(0)


def random_dictionary(rng, n_words, alphabet=CHARS, maxlen=4):
    words = {}
    while len(words) < n_words:
        ln = int(rng.integers(1, maxlen + 1))
        w = "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), ln))
        words[w] = float(rng.integers(1, 50))
    return list(words), list(words.values())


def table_of(words, logp):
    codes, off, _ = tagger._pack(words)
    return tagger.build_table(codes, off, np.asarray(logp, dtype=np.float64))


# ---------------------------------------------------------------------------------------------
# character handling


def test_normalize_matches_naive():
    text = "２００１年ＷＴＯ和abc，Ｚ９z中　a"
    got = tagger.normalize_codes(tagger._codes(text)).tolist()
    assert got == naive.normalize(text)


def test_classify_kinds_and_continuation():
    text = "在3.5％和WTO，——好"
    raw = tagger._codes(text)
    x = tagger.normalize_codes(raw)
    kind, cont = tagger._classify(raw, x)
    # '.' and '％' next to digits stay in the text; '，' and '—' are punctuation
    assert kind.tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 0]
    assert cont.tolist() == [False, False, True, True, False, False, False, True, True, False, False, False, False]


# ---------------------------------------------------------------------------------------------
# kernels against their naive twins


@pytest.mark.parametrize("seed", range(6))
def test_dict_features_match_naive(seed):
    rng = np.random.default_rng(seed)
    words, counts = random_dictionary(rng, 12)
    logp = list(np.log(np.asarray(counts) / sum(counts)) + rng.random(len(counts)) * 1e-3)  # no ties
    keys, vals = table_of(words, logp)
    unk = -9.5
    wdict = {tuple(naive.normalize(w)): lp for w, lp in zip(words, logp)}
    for trial in range(8):
        n = int(rng.integers(1, 9))
        text = "".join(CHARS[int(i)] for i in rng.integers(0, len(CHARS), n))
        if trial % 3 == 2:  # a digit/Latin run in the middle
            k = int(rng.integers(0, n))
            text = text[:k] + "12a" + text[k:]
        raw = tagger._codes(text)
        x = tagger.normalize_codes(raw)
        _, cont = tagger._classify(raw, x)
        n = len(x)
        lb, le, lm, dp = (np.zeros(n, np.int8) for _ in range(4))
        best, back = np.zeros(n + 1), np.zeros(n + 1, np.int64)
        tagger._dict_features(x, 0, n, keys, vals, unk, cont, 0, lb, le, lm, dp, best, back)
        want = naive.dict_features(x.tolist(), wdict, unk, cont.tolist())
        assert [lb.tolist(), le.tolist(), lm.tolist(), dp.tolist()] == [list(v) for v in want], text


def test_dict_features_ambiguity():
    # 结婚的和尚未结婚的: the frequencies decide between 和尚/未 and 和/尚未
    words = ["结婚", "的", "和尚", "和", "尚未", "未", "尚"]
    counts = np.array([100, 1000, 10, 500, 80, 50, 5], dtype=float)
    keys, vals = table_of(words, np.log(counts / counts.sum()))
    text = "结婚的和尚未结婚的"
    x = tagger.normalize_codes(tagger._codes(text))
    n = len(x)
    lb, le, lm, dp = (np.zeros(n, np.int8) for _ in range(4))
    tagger._dict_features(x, 0, n, keys, vals, -20.0, np.zeros(n, bool), 0, lb, le, lm, dp,
                          np.zeros(n + 1), np.zeros(n + 1, np.int64))
    assert "".join("BMES"[t] for t in dp) == "BESSBEBES"  # 结婚/的/和/尚未/结婚/的
    assert lb.tolist()[3] == 2 and le.tolist()[5] == 2


@pytest.mark.parametrize("with_dict", ["ngram", "match", "dict", "type"])
def test_features_match_naive(with_dict):
    rng = np.random.default_rng(3)
    x = rng.integers(0x4E00, 0x4E20, 7).astype(np.int32)
    x[2], x[3] = ord("一"), ord("0")  # numerals are folded into one symbol
    lb, le, lm, dp = (rng.integers(0, 5, 7).astype(np.int8) for _ in range(4))
    nf = {"ngram": tagger.N_NGRAM, "match": tagger.N_NGRAM + tagger.N_MATCH, "dict": tagger.N_NGRAM + tagger.N_DICT,
          "type": tagger.FEATURE_SETS["ngram+dict+type"]}[with_dict]
    out = np.zeros((7, nf), np.int64)
    tagger._features(x, 0, 7, lb, le, lm, dp, nf, 16, out)
    want = naive.features(x.tolist(), lb.tolist(), le.tolist(), lm.tolist(), dp.tolist(), with_dict, 16)
    assert out.tolist() == want


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    nb = 64
    W = rng.normal(size=(nb, 4)).astype(np.float32)
    trans = rng.normal(size=(4, 4)).astype(np.float32)
    for n in (1, 2, 3, 5, 6):
        feats = rng.integers(0, nb, (n, 5)).astype(np.int64)
        cont = rng.random(n) < 0.3
        for c in (np.zeros(n, bool), cont):
            tags = np.zeros(n, np.int8)
            tagger._viterbi(feats, n, W, trans, c, 0, np.zeros((n, 4)), np.zeros((n, 4), np.int8), tags)
            want = naive.brute_viterbi(feats.tolist(), W.astype(float).tolist(), trans.astype(float).tolist(),
                                       c.tolist())
            assert tags.tolist() == want


def test_train_pass_matches_naive():
    rng = np.random.default_rng(5)
    words, counts = random_dictionary(rng, 10)
    x, gold, off = tagger.synthesize(words, np.asarray(counts), 40, rng, maxlen=12, maxwords=4)
    n = len(x)
    lb, le, lm, dp = (rng.integers(0, 3, n).astype(np.int8) for _ in range(4))
    nbits = 10
    nf = tagger.N_NGRAM + tagger.N_DICT
    W = np.zeros((1 << nbits, 4), np.int32)
    U = np.zeros((1 << nbits, 4), np.int64)
    T = np.zeros((4, 4), np.int32)
    TU = np.zeros((4, 4), np.int64)
    step, mistakes = tagger._train_pass(x, off, gold, lb, le, lm, dp, nf, nbits, W, U, T, TU, 0)
    step, mistakes = tagger._train_pass(x, off, gold, lb, le, lm, dp, nf, nbits, W, U, T, TU, step)

    nW = [[0] * 4 for _ in range(1 << nbits)]
    nU = [[0] * 4 for _ in range(1 << nbits)]
    nT, nTU = [[0] * 4 for _ in range(4)], [[0] * 4 for _ in range(4)]
    samples = [(a, b) for a, b in zip(off[:-1], off[1:])]

    def feats_of(ab):
        a, b = ab
        return naive.features(x[a:b].tolist(), lb[a:b].tolist(), le[a:b].tolist(), lm[a:b].tolist(),
                              dp[a:b].tolist(), True, nbits)

    golds = [gold[a:b].tolist() for a, b in samples]
    s2, m1 = naive.train_pass(samples, golds, feats_of, 1 << nbits, nW, nU, nT, nTU, 0)
    s2, m2 = naive.train_pass(samples, golds, feats_of, 1 << nbits, nW, nU, nT, nTU, s2)
    assert step == s2 and mistakes == m2 and m1 > 0
    assert W.tolist() == nW and U.tolist() == nU and T.tolist() == nT and TU.tolist() == nTU


def test_synthesize_stream_is_consistent():
    rng = np.random.default_rng(7)
    words, counts = random_dictionary(rng, 30, maxlen=6)
    x, gold, off = tagger.synthesize(words, np.asarray(counts), 500, rng)
    assert len(off) - 1 > 0 and np.diff(off).max() <= tagger.MAXLEN
    wset = {tuple(naive.normalize(w)) for w in words}
    for a, b in zip(off[:-1], off[1:]):
        tags = gold[a:b].tolist()
        assert naive.valid_tags(tags)
        # the words marked by the tags are dictionary words
        start = a
        for i in range(a, b):
            if gold[i] in (tagger.E, tagger.S):
                assert tuple(x[start:i + 1].tolist()) in wset
                start = i + 1
    # sampling follows the frequencies: the most frequent word is drawn most often
    big = tagger.synthesize(words, np.asarray(counts), 4000, np.random.default_rng(1))
    seqs = {}
    for a, b in zip(big[2][:-1], big[2][1:]):
        start = a
        for i in range(a, b):
            if big[1][i] in (tagger.E, tagger.S):
                k = tuple(big[0][start:i + 1].tolist())
                seqs[k] = seqs.get(k, 0) + 1
                start = i + 1
    top = max(zip(counts, words))[1]
    assert max(seqs, key=seqs.get) == tuple(naive.normalize(top))


def test_parallel_decode_equals_serial():
    m = _small_model()
    lines = ["中国人民银行的和尚未结婚", "结婚的和尚", "人民的银行2001年", ""] * 30
    m.n_jobs = 1
    a = m.segment_lines(lines)
    m.n_jobs = 2
    assert m.segment_lines(lines) == a


# ---------------------------------------------------------------------------------------------
# end to end

_WORDS = ["中国", "人民", "银行", "中国人民银行", "的", "和尚", "和", "尚未", "未", "结婚", "年", "我们",
          "喜欢", "吃", "苹果", "香蕉", "今天", "天气", "很", "好", "北京", "大学", "北京大学", "学生"]
_COUNTS = [900, 800, 300, 50, 5000, 20, 2000, 300, 100, 400, 700, 900, 300, 400, 100, 80, 600, 300, 2000,
           1500, 600, 500, 100, 400]


# without the JIT (coverage job) the kernels run as Python: train on fewer samples there, and skip
# the tests that need a well-trained model
_SAMPLES = 150 if JIT_DISABLED else 3000
needs_jit = pytest.mark.skipif(JIT_DISABLED, reason="needs a well-trained model; slow without the JIT")


def _small_model(seed=1, n_jobs=1, features="ngram+dict", epochs=2):
    return tagger.train_segmenter(_WORDS, _COUNTS, epochs=epochs, n_samples=_SAMPLES, nbits=16,
                                  random_state=seed, n_jobs=n_jobs, features=features)


@needs_jit
def test_train_and_segment_small_dictionary():
    m = _small_model()
    assert m.cut("我们喜欢吃苹果和香蕉") == ["我们", "喜欢", "吃", "苹果", "和", "香蕉"]
    assert m.cut("结婚的和尚未结婚的") == ["结婚", "的", "和", "尚未", "结婚", "的"]
    out = m.segment_lines(["今天天气很好。", "", "  北京大学的学生，2001年ＷＴＯ"])
    assert out[0] == ["今天", "天气", "很", "好", "。"]
    assert out[1] == []
    assert out[2][:1] == ["  "] and "".join(out[2]) == "  北京大学的学生，2001年ＷＴＯ"
    assert "2001" in "".join(out[2]) and all("20" != w for w in out[2])  # digit runs stay whole
    assert "ＷＴＯ" in out[2]


@needs_jit
def test_ngram_only_model_trains():
    m = _small_model(features="ngram", epochs=3)
    assert m.cut("我们喜欢吃苹果") == ["我们", "喜欢", "吃", "苹果"]


def test_words_concatenate_back():
    m = _small_model()
    rng = np.random.default_rng(2)
    alphabet = "中国人民的和尚未结婚年我们 ，。a1Ｂ２—·"
    lines = ["".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), int(rng.integers(0, 30))))
             for _ in range(50)]
    out = m.segment_lines(lines)
    assert len(out) == len(lines)
    for line, words in zip(lines, out):
        assert "".join(words) == line and all(words)
    assert m.segment_lines([]) == []
    assert m.segment_lines([""]) == [[]] and m.segment_lines(["", ""]) == [[], []]
    nul = m.segment_lines(["中国\x00人民", "和"])  # the slow path, for text that contains NUL
    assert "".join(nul[0]) == "中国\x00人民" and nul[1] == ["和"]
    assert "".join(m.segment_text("中国\n人民")) == "中国\n人民" and "\n" in m.segment_text("中国\n人民")
    with pytest.raises(TextmineError):
        m.segment_lines(["a\nb"])


def test_training_is_deterministic_and_independent_of_jobs(tmp_path):
    a = _small_model(seed=3, n_jobs=1)
    b = _small_model(seed=3, n_jobs=2)
    c = _small_model(seed=4, n_jobs=1)
    assert np.array_equal(a.weights_, b.weights_) and np.array_equal(a.trans_, b.trans_)
    assert not np.array_equal(a.weights_, c.weights_)
    a.save(tmp_path / "a.model")
    b.save(tmp_path / "b.model")
    assert (tmp_path / "a.model").read_bytes() == (tmp_path / "b.model").read_bytes()


def test_save_load_roundtrip(tmp_path):
    m = _small_model()
    p = str(tmp_path / "m.model")
    m.save(p)
    with zipfile.ZipFile(p) as z:
        names = set(z.namelist())
        meta = json.loads(z.read("meta.json"))
    assert "meta.json" in names and all(n.endswith(".npy") for n in names - {"meta.json"})
    assert meta["format"] == tagger.FORMAT and meta["format_version"] == tagger.FORMAT_VERSION
    arrays = np.load(p, allow_pickle=False)  # an ordinary npz reader sees the arrays
    assert arrays["trans"].shape == (4, 4)
    m2 = tagger.load_model(p)
    assert np.array_equal(m2.weights_, m.weights_) and m2.words_ == m.words_
    lines = ["中国人民银行的和尚未结婚", "今天天气很好"]
    assert m2.segment_lines(lines) == m.segment_lines(lines)


def test_prepare_dictionary_errors():
    with pytest.raises(TextmineError, match="empty"):
        tagger.train_segmenter([], [])
    with pytest.raises(TextmineError, match="no usable word"):
        tagger.train_segmenter(["，", " "], [1, 2])
    with pytest.raises(TextmineError, match="frequency"):
        tagger.train_segmenter(["中国"], [0])
    words, counts = tagger.prepare_dictionary(["１９９８年", "2001年", "中国"], [2, 3, 1])
    assert dict(zip(words, counts)) == {"0000年": 5.0, "中国": 1.0}


# ---------------------------------------------------------------------------------------------
# CLI


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_cli_train_and_load(tmp_path):
    d = _write(tmp_path / "dict.txt", "".join(f"{w} {c} n\n" for w, c in zip(_WORDS, _COUNTS)))
    out = str(tmp_path / "seg.model")
    r = CliRunner().invoke(cli, ["train-segmenter", "--dict", d, "-o", out, "--epochs", "2",
                                 "--samples", str(_SAMPLES), "--bits", "16", "-j", "1"])
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert "epoch 2/2" in r.stderr and "model written" in r.stderr
    m = tagger.load_model(out)
    assert "".join(m.cut("我们喜欢吃苹果")) == "我们喜欢吃苹果"
    if not JIT_DISABLED:
        assert m.cut("我们喜欢吃苹果") == ["我们", "喜欢", "吃", "苹果"]
    # a textmine lexicon (TSV) works too, and -q silences stderr
    t = _write(tmp_path / "lex.tsv", "".join(f"{w}\t{c}\n" for w, c in zip(_WORDS, _COUNTS)))
    out2 = str(tmp_path / "seg2.model")
    r = CliRunner().invoke(cli, ["train-segmenter", "--dict", t, "-o", out2, "--epochs", "2",
                                 "--samples", str(_SAMPLES), "--bits", "16", "-j", "2", "-q"])
    assert r.exit_code == 0 and r.stderr == ""
    assert open(out, "rb").read() == open(out2, "rb").read()


@pytest.mark.parametrize("content, message", [
    ("", "dictionary is empty"),
    ("# only a comment\n\n", "dictionary is empty"),
    ("中国 12\n人民 many\n", "dict.txt:2: frequency 'many' of '人民' is not a number"),
    ("中国\n", "dict.txt:1: expected"),
])
def test_cli_bad_dictionary(tmp_path, content, message):
    d = _write(tmp_path / "dict.txt", content)
    out = tmp_path / "seg.model"
    r = CliRunner().invoke(cli, ["train-segmenter", "--dict", d, "-o", str(out)])
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: ") and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists() and os.listdir(tmp_path) == ["dict.txt"]


def test_cli_missing_dictionary_and_usage(tmp_path):
    r = CliRunner().invoke(cli, ["train-segmenter", "--dict", str(tmp_path / "nope.txt"), "-o",
                                 str(tmp_path / "m")])
    assert r.exit_code == 1 and "Error:" in r.stderr and "Traceback" not in r.stderr
    r = CliRunner().invoke(cli, ["train-segmenter", "-o", str(tmp_path / "m")])
    assert r.exit_code == 2
    d = _write(tmp_path / "dict.txt", "中国 3\n")
    for bad in ("-", str(tmp_path / "no" / "such" / "m.model")):
        r = CliRunner().invoke(cli, ["train-segmenter", "--dict", d, "-o", bad])
        assert r.exit_code == 2 and "-o/--output" in r.stderr and "Traceback" not in r.stderr
    r = CliRunner().invoke(cli, ["train-segmenter", "--help"])
    assert r.exit_code == 0 and "--dict" in r.stdout


def _bad_model(tmp_path, kind):
    p = tmp_path / f"{kind}.model"
    if kind == "garbage":
        p.write_bytes(b"this is not a zip file")
    elif kind == "truncated":
        m = _small_model()
        m.save(str(p))
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])
    elif kind == "foreign":
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("meta.json", json.dumps({"format": "something-else"}))
    elif kind == "npz":
        np.savez(p, a=np.zeros(3))
        os.replace(str(p) + ".npz", p)
    elif kind == "version":
        m = _small_model()
        m.save(str(p))
        with zipfile.ZipFile(p) as z:
            items = {n: z.read(n) for n in z.namelist()}
        meta = json.loads(items["meta.json"])
        meta["format_version"] = 99
        items["meta.json"] = json.dumps(meta).encode()
        with zipfile.ZipFile(p, "w") as z:
            for n, b in items.items():
                z.writestr(n, b)
    return str(p)


@pytest.mark.parametrize("kind, message", [
    ("garbage", "corrupt or unreadable model file"),
    ("truncated", "corrupt or unreadable model file"),
    ("foreign", "not a textmine segmenter model"),
    ("npz", "not a textmine segmenter model"),
    ("version", "model format version 99"),
])
def test_load_model_errors(tmp_path, kind, message):
    p = _bad_model(tmp_path, kind)
    with pytest.raises(TextmineError, match=message):
        tagger.load_model(p)


def test_load_model_missing(tmp_path):
    with pytest.raises(TextmineError, match="does not exist"):
        tagger.load_model(str(tmp_path / "missing.model"))
    with pytest.raises(TextmineError, match="is a directory"):
        tagger.load_model(str(tmp_path))


@needs_jit
def test_pku_quality_from_199801_counts():
    """A quick model from People's Daily word counts segments the PKU test well, and finds far
    more out-of-vocabulary words than dictionary lookup (the full-size figures are in the bench)."""
    from textmine.evaluate import read_training_words, score_segmentation
    from textmine.formats import read_word_counts

    from conftest import shared_file

    words, counts = read_word_counts(str(shared_file("cws", "199801_words.tsv")))
    test = shared_file("cws", "pku_test.utf8").read_text(encoding="utf-8").split("\n")
    gold = shared_file("cws", "pku_test_gold.utf8").read_text(encoding="utf-8").split("\n")
    iv = read_training_words(shared_file("cws", "pku_training_words.utf8"))
    m = tagger.train_segmenter(words, counts, epochs=1, n_samples=100_000, nbits=20, random_state=1, n_jobs=2)
    tagged = score_segmentation(gold, m.segment_lines(test), iv)
    lookup = score_segmentation(gold, m.segment_lines(test, mode="dict"), iv)
    assert tagged.f1 >= 0.89 and tagged.oov_recall >= 0.65
    assert lookup.f1 >= 0.92 and lookup.oov_recall < tagged.oov_recall - 0.2


# ---------------------------------------------------------------------------------------------
# training from gold segmented text

TYPE_ALPHABET = "中国人一二年月日A0.%-好好"


@pytest.mark.parametrize("seed", range(4))
def test_type_features_match_naive_on_random_text(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    text = "".join(TYPE_ALPHABET[int(i)] for i in rng.integers(0, len(TYPE_ALPHABET), n))
    x = tagger.normalize_codes(tagger._codes(text))
    lb, le, lm, dp = (rng.integers(0, 5, n).astype(np.int8) for _ in range(4))
    nf = tagger.FEATURE_SETS["ngram+dict+type"]
    out = np.zeros((n, nf), np.int64)
    tagger._features(x, 0, n, lb, le, lm, dp, nf, 18, out)
    want = naive.features(x.tolist(), lb.tolist(), le.tolist(), lm.tolist(), dp.tolist(), "type", 18)
    assert out.tolist() == want
    assert len({tuple(r[21:]) for r in want}) >= 1


@pytest.mark.parametrize("seed", range(5))
def test_gold_pieces_match_naive(seed):
    rng = np.random.default_rng(seed)
    alphabet = "中国人民，。ab12.好、"
    sents = []
    for _ in range(int(rng.integers(1, 6))):
        sent = ["".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), int(rng.integers(1, 5))))
                for _ in range(int(rng.integers(1, 6)))]
        sents.append(sent)
    x, gold, off = tagger.gold_pieces(sents)
    masks = []  # which characters the decoder tags (the glue rule looks at neighbours: ask _classify)
    for s in sents:
        raw = tagger._codes("".join(s))
        kind, _ = tagger._classify(raw, tagger.normalize_codes(raw))
        masks.append((kind == tagger._KIND_TEXT).tolist())
    want = [(tagger.normalize_codes(tagger._codes(p)).tolist(), t) for p, t in naive.gold_pieces(sents, masks)]
    have = [(x[a:b].tolist(), gold[a:b].tolist()) for a, b in zip(off[:-1], off[1:])]
    assert have == want and len(have) > 0


def test_gold_training_learns_and_is_deterministic():
    sents = [["中国", "人民", "的", "银行"], ["人民", "的", "中国"], ["银行", "和", "尚未", "结婚"]] * 30
    m1 = tagger.train_segmenter_gold(sents, epochs=4, nbits=14, random_state=3)
    m2 = tagger.train_segmenter_gold(sents, epochs=4, nbits=14, random_state=3, n_jobs=2)
    assert m1.cut("中国人民的银行") == ["中国", "人民", "的", "银行"]
    assert np.array_equal(m1.weights_, m2.weights_)
    assert m1.stats["epochs"][-1]["sample_error_rate"] <= m1.stats["epochs"][0]["sample_error_rate"]


def test_read_gold_errors(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("中国 人民\r\n\r\n银行\u3000的\r\n", encoding="utf-8")
    assert tagger.read_gold(str(p)) == [["中国", "人民"], ["银行", "的"]]
    for bad, line in (("中国 人民\n \t\u3000\n", 2), ("中 " + "长" * (tagger.MAX_GOLD_WORD + 1) + "\n", 1)):
        p.write_text(bad, encoding="utf-8")
        with pytest.raises(TextmineError, match=f"g.txt:{line}:"):
            tagger.read_gold(str(p))
    p.write_text("\n\n", encoding="utf-8")
    with pytest.raises(TextmineError, match="no sentence"):
        tagger.read_gold(str(p))
    # a bad byte: the line and the byte offset in the file (counting a UTF-8 BOM), no --errors hint
    p.write_bytes("\ufeff中国 人民\n银".encode() + b"\xff" + " 的\n".encode())
    with pytest.raises(TextmineError, match=r"g.txt:2: cannot decode byte 0xff at offset 20 as utf-8; try --encoding") as e:
        tagger.read_gold(str(p))
    assert "--errors" not in str(e.value)
    p.write_text("中国 人民\n", encoding="utf-16")
    with pytest.raises(TextmineError, match="looks like UTF-16 text.*try --encoding utf-16"):
        tagger.read_gold(str(p))
    assert tagger.read_gold(str(p), "utf-16") == [["中国", "人民"]]


def test_cli_train_from_gold(tmp_path):
    g = tmp_path / "gold.txt"
    g.write_text("中国 人民 的 银行\n人民 的 中国\n银行 和 尚未 结婚\n" * 30, encoding="utf-8")
    out = tmp_path / "m.model"
    r = CliRunner().invoke(cli, ["train-segmenter", "--gold", str(g), "--gold", str(g), "-o", str(out),
                                 "--epochs", "3", "--bits", "14", "-q"])
    assert r.exit_code == 0, r.output
    m = tagger.load_model(str(out))
    assert m.features == "ngram+dict+type" and m.params["sentences"] == 180
    assert m.cut("中国人民的银行") == ["中国", "人民", "的", "银行"]
    bad = tmp_path / "bad.txt"
    bad.write_text("中国 人民\n\u3000 \t\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["train-segmenter", "--gold", str(bad), "-o", str(tmp_path / "b.model")])
    assert r.exit_code == 1 and "bad.txt:2:" in r.output and not (tmp_path / "b.model").exists()
    bad.write_text("中国 人民\n中 " + "长" * (tagger.MAX_GOLD_WORD + 1) + "\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["train-segmenter", "--gold", str(g), "--gold", str(bad), "-o", str(tmp_path / "b.model")])
    assert r.exit_code == 1 and "bad.txt:2: word" in r.output and "at most 64 characters" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "b.model").exists()
    r = CliRunner().invoke(cli, ["train-segmenter", "--gold", str(g), "--dev", str(bad), "-o", str(tmp_path / "b.model")])
    assert r.exit_code == 1 and "bad.txt:2: word" in r.output and not (tmp_path / "b.model").exists()
    r = CliRunner().invoke(cli, ["train-segmenter", "-o", str(tmp_path / "b.model")])
    assert r.exit_code == 2
    r = CliRunner().invoke(cli, ["train-segmenter", "--gold", str(g), "--samples", "5",
                                 "-o", str(tmp_path / "b.model")])
    assert r.exit_code == 2 and "--samples" in r.output


@needs_jit
def test_pku_quality_from_gold_subset():
    """A quick model from a fifth of People's Daily 1998-01 gold text (3 passes) already segments the
    PKU test well (the full 199801 model, 10 passes, is in bench/RESULTS.md: F 0.955)."""
    from textmine.evaluate import read_training_words, score_segmentation

    from conftest import shared_file

    sents = tagger.read_gold(str(shared_file("cws", "199801_seg.utf8")))
    test = shared_file("cws", "pku_test.utf8").read_text(encoding="utf-8").split("\n")
    gold = shared_file("cws", "pku_test_gold.utf8").read_text(encoding="utf-8").split("\n")
    iv = read_training_words(shared_file("cws", "pku_training_words.utf8"))
    m = tagger.train_segmenter_gold(sents[:len(sents) // 5], epochs=3, random_state=1, n_jobs=2)
    s = score_segmentation(gold, m.segment_lines(test), iv)
    assert s.f1 >= 0.92 and s.oov_recall >= 0.65


def test_gold_training_with_extra_dictionary():
    sents = [["中国", "人民", "的", "银行"], ["人民", "的", "中国"]] * 10
    m = tagger.train_segmenter_gold(sents, ["尚未", "结婚"], [3, 4], epochs=2, nbits=14)
    assert {"尚未", "结婚", "中国", "人民"} <= set(m.words_)
    plain = tagger.train_segmenter_gold(sents, epochs=2, nbits=14)
    assert "尚未" not in plain.words_
    with pytest.raises(TextmineError, match="features"):
        tagger.train_segmenter_gold(sents, features="nope")


# ---------------------------------------------------------------------------------------------
# the shared training loop reproduces the two loops it replaced, bit for bit


def _reference_training(norm_words, norm_counts, draw, epochs, dropout, n_feat, nbits, seed, n_jobs, gold_style):
    """The per-epoch loops of train_segmenter (``gold_style`` False) and train_segmenter_gold (True)
    as they were written before they were merged into ``tagger._train_perceptron``, kept here
    verbatim in their arithmetic: averaged weights and transitions, and the per-epoch error rates."""
    import math

    logp, unk = tagger._logp(norm_counts)
    rng = np.random.default_rng(seed)
    W = np.zeros((1 << nbits, 4), dtype=np.int32)
    U = np.zeros((1 << nbits, 4), dtype=np.int64)
    trans = np.zeros((4, 4), dtype=np.int32)
    transU = np.zeros((4, 4), dtype=np.int64)
    step, rates = 0, []
    for _ in range(epochs):
        x, gold, off = draw(rng)
        n = len(x)
        lb, le, lm, dp = (np.zeros(n, dtype=np.int8) for _ in range(4))
        if n_feat > tagger.N_NGRAM:
            if gold_style:
                keep = rng.random(len(norm_words)) >= dropout
                kd = norm_counts[keep]
                sub_logp = np.log(kd / kd.sum()) if keep.any() else logp[keep]
                sub_unk = math.log(float(kd.min()) / float(kd.sum())) if keep.any() else unk
            else:
                drop = rng.random(len(norm_words)) < dropout
                keep = ~drop
                sub_logp = logp.copy()[keep]
                sub_logp = np.log(np.exp(sub_logp) / np.exp(sub_logp).sum()) if keep.any() else sub_logp
                kd = norm_counts[keep]
                sub_unk = math.log(float(kd[kd > 0].min()) / float(kd.sum())) if (kd > 0).any() else unk
            kcodes, koff, _ = tagger._pack([w for w, k in zip(norm_words, keep) if k])
            keys, vals = tagger.build_table(kcodes, koff, sub_logp)
            (tagger._dict_features_all_par if n_jobs > 1 else tagger._dict_features_all)(
                x, off, keys, vals, sub_unk, lb, le, lm, dp)
        step, mistakes = tagger._train_pass(x, off, gold, lb, le, lm, dp, n_feat, nbits, W, U, trans, transU, step)
        rates.append(mistakes / max(1, len(off) - 1))
    avg = (W - U / float(max(step, 1))).astype(np.float32)
    avg_trans = (trans - transU / float(max(step, 1))).astype(np.float32)
    return avg, avg_trans, rates


def _recording(monkeypatch):
    """Record the dictionary table and unknown-word score of every call to the dictionary-feature
    kernels (``(keys, vals, unk)``, copied), so that the per-epoch dictionaries can be compared bit
    for bit: the models alone rarely show a last-bit difference in the log-probabilities."""
    seen = []
    for name in ("_dict_features_all", "_dict_features_all_par"):
        def spy(x, off, keys, vals, unk, lb, le, lm, dp, _kernel=getattr(tagger, name)):
            seen.append((keys.copy(), vals.copy(), unk))
            return _kernel(x, off, keys, vals, unk, lb, le, lm, dp)
        monkeypatch.setattr(tagger, name, spy)
    return seen


def _same_tables(a, b):
    assert len(a) == len(b)
    for (ka, va, ua), (kb, vb, ub) in zip(a, b):
        assert np.array_equal(ka, kb) and va.tobytes() == vb.tobytes() and ua == ub


def _same_model(m, ref):
    import hashlib

    avg, avg_trans, rates = ref
    digest = [hashlib.sha256(a.tobytes()).hexdigest() for a in (m.weights_, m.trans_)]
    assert digest == [hashlib.sha256(a.tobytes()).hexdigest() for a in (avg, avg_trans)]
    assert np.array_equal(m.weights_, avg) and np.array_equal(m.trans_, avg_trans)
    assert [e["sample_error_rate"] for e in m.stats["epochs"]] == rates
    assert np.abs(avg).sum() > 0  # it learned something


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("features", ["ngram", "ngram+match", "ngram+dict"])
def test_dictionary_training_equals_the_unmerged_loop(features, n_jobs, monkeypatch):
    seen = _recording(monkeypatch)
    words, counts = _WORDS + ["零次"], _COUNTS + [0]  # a zero count: the floored log-probability path
    norm_words, norm_counts = tagger.prepare_dictionary(words, np.asarray(counts, dtype=np.float64))
    m = tagger.train_segmenter(words, counts, epochs=2, n_samples=_SAMPLES, nbits=14, random_state=5,
                               n_jobs=n_jobs, features=features, dropout=0.3)
    ref = _reference_training(norm_words, norm_counts,
                              lambda rng: tagger.synthesize(norm_words, norm_counts, _SAMPLES, rng),
                              2, 0.3, tagger.FEATURE_SETS[features], 14, 5, n_jobs, gold_style=False)
    _same_model(m, ref)
    n = len(seen) // 2
    assert n == (2 if features != "ngram" else 0)
    _same_tables(seen[:n], seen[n:])


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("features", ["ngram", "ngram+dict", "ngram+dict+type"])
def test_gold_training_equals_the_unmerged_loop(features, n_jobs, monkeypatch):
    from collections import Counter

    seen = _recording(monkeypatch)
    rng = np.random.default_rng(8)
    sents = [[w for w in rng.choice(_WORDS, int(rng.integers(1, 8)))] for _ in range(60)]
    extra_words, extra_counts = ["尚未结婚", "中国人民"], [3.0, 7.0]
    m = tagger.train_segmenter_gold(sents, extra_words, extra_counts, epochs=3, nbits=14, random_state=6,
                                    n_jobs=n_jobs, features=features, dropout=0.3, dev_fraction=0)
    counts = Counter(w for s in sents for w in s)
    for w, c in zip(extra_words, extra_counts):
        counts[w] += c
    norm_words, norm_counts = tagger.prepare_dictionary(list(counts), np.asarray(list(counts.values())))
    x0, gold0, off0 = tagger.gold_pieces(sents)
    ref = _reference_training(norm_words, norm_counts,
                              lambda rng: tagger._shuffled(x0, gold0, off0, rng.permutation(len(off0) - 1)),
                              3, 0.3, tagger.FEATURE_SETS[features], 14, 6, n_jobs, gold_style=True)
    _same_model(m, ref)
    n = len(seen) // 2
    assert n == (3 if features != "ngram" else 0)
    _same_tables(seen[:n], seen[n:])


def test_kept_dictionary_arithmetics():
    # the dictionary-only and the gold arithmetic agree up to rounding on positive counts; they
    # are both kept (not unified) because they differ in the last bits, which changes the models
    counts = np.random.default_rng(1).integers(1, 5000, 300).astype(np.float64)
    words = [chr(0x4E00 + i) + chr(0x4E00 + 7 * i % 300) for i in range(300)]
    logp, unk = tagger._logp(counts)
    keep = np.random.default_rng(2).random(300) >= 0.2
    a = tagger._kept_dictionary(words, counts, logp, unk, keep, "logp")
    b = tagger._kept_dictionary(words, counts, logp, unk, keep, "counts")
    assert np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1], rtol=0, atol=1e-12)
    assert a[1].tobytes() != b[1].tobytes()  # last-bit differences: merging them would change models
    assert a[2] == pytest.approx(b[2], abs=1e-12)
    kd = counts[keep]
    assert b[2] == np.log(kd.min() / kd.sum())


def _word_hashes(words):
    out = []
    for w in words:
        h = tagger.H0
        for c in tagger.normalize_codes(tagger._codes(w)):
            h = np.uint64(tagger._step(np.uint64(h), c))
        out.append(h)
    return out


def test_gold_training_with_zero_count_extra_words(tmp_path):
    # an extra dictionary word of count 0 (not in the gold text) was a math domain error
    sents = [["中国", "人民", "的", "银行"], ["人民", "的", "中国"]] * 10
    m1 = tagger.train_segmenter_gold(sents, ["尚未", "结婚"], [0, 4], epochs=2, nbits=14, dropout=0.2)
    m2 = tagger.train_segmenter_gold(sents, ["尚未", "结婚"], [0, 4], epochs=2, nbits=14, dropout=0.2, n_jobs=2)
    assert np.array_equal(m1.weights_, m2.weights_) and "尚未" in m1.words_
    counts = np.array([0.0, 4.0, 2.0, 0.0])
    words = ["尚未", "结婚", "中国", "银行"]
    logp, unk = tagger._logp(counts)
    keys, vals, sub_unk = tagger._kept_dictionary(words, counts, logp, unk, np.array([True, True, True, False]),
                                                  "counts")
    assert sub_unk == np.log(2.0 / 6.0)
    got = {w: vals[tagger._lookup(keys, np.uint64(h))] for w, h in zip(words[:3], _word_hashes(words[:3]))}
    assert got == {"尚未": np.log(2.0 / 6.0), "结婚": np.log(4.0 / 6.0), "中国": np.log(2.0 / 6.0)}
    # every kept count zero: the full dictionary's floored log-probabilities
    _, vals0, unk0 = tagger._kept_dictionary(words, counts, logp, unk, np.array([True, False, False, True]),
                                             "counts")
    assert unk0 == unk and np.isfinite(vals0).all()
    g, d = tmp_path / "g.txt", tmp_path / "d.tsv"
    g.write_text("中国 人民 的 银行\n人民 的 中国\n", encoding="utf-8")
    d.write_text("尚未\t0\n结婚\t4\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["train-segmenter", "--gold", str(g), "--dict", str(d), "-o",
                                 str(tmp_path / "m.model"), "--epochs", "2", "--bits", "14", "-q"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "m.model").stat().st_size > 0


# ---------------------------------------------------------------------------------------------
# boundary marginals (forward-backward over B/M/E/S) and their temperature


@pytest.mark.parametrize("seed", range(5))
def test_forward_backward_matches_brute_force(seed):
    rng = np.random.default_rng(40 + seed)
    lens = [int(v) for v in rng.integers(1, 8, 6)]
    off = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    n = int(off[-1])
    em = rng.normal(0, 3, (n, 4))
    trans = rng.normal(0, 2, (4, 4)).astype(np.float32)
    cont = rng.random(n) < 0.2
    theta = float(rng.choice([0.3, 1.0, 4.0]))
    for kernel in (tagger._marginals, tagger._marginals_par):
        out = np.full(n, -1.0)
        kernel(em, off, cont, trans.astype(np.float64), 1 / theta, out)
        for a, b in zip(off[:-1], off[1:]):
            c = [False] + cont[a + 1:b].tolist()
            ends, starts, logz = naive.brute_marginals(em[a:b].tolist(), trans.tolist(), theta, c)
            assert out[a:b].tolist() == pytest.approx(ends, abs=1e-12)
            assert ends[:-1] == pytest.approx(starts, abs=1e-12)  # the two forms of §5.2 agree
            alpha, beta = np.empty((b - a, 4)), np.empty((b - a, 4))
            got = tagger._forward_backward(em, a, b - a, trans.astype(np.float64), cont, 1 / theta, alpha, beta,
                                           np.empty(n))
            assert got == pytest.approx(logz, abs=1e-9)


def test_emissions_match_naive_features():
    rng = np.random.default_rng(3)
    words, counts = random_dictionary(rng, 20)
    m = tagger.train_segmenter_gold([[w] for w in words] * 3, epochs=1, nbits=12, dev_fraction=0)
    text = "".join(CHARS[int(i)] for i in rng.integers(0, len(CHARS), 12))
    sel, off, pc, em, _ = m._piece_emissions(text)
    x = tagger.normalize_codes(tagger._codes(text)).tolist()
    lb, le, lm, dp = naive.dict_features(x, {tuple(tagger.normalize_codes(tagger._codes(w)).tolist()): v
                                            for w, v in zip(m.words_, m.logp_)}, m.unk_)
    feats = naive.features(x, lb, le, lm, dp, "type", 12)
    want = [[sum(float(m.weights_[f, t]) for f in fs) for t in range(4)] for fs in feats]
    np.testing.assert_allclose(em, np.array(want), rtol=0, atol=1e-9)  # float32 weights summed in float64, same order


def _gold_model(dev_fraction=0.1, **kw):
    rng = np.random.default_rng(11)
    words = ["中国", "人民", "银行", "的", "和", "尚未", "结婚", "和尚", "未", "国人", "民"]
    sents = [[words[int(i)] for i in rng.integers(0, len(words), int(rng.integers(2, 9)))] for _ in range(150)]
    return tagger.train_segmenter_gold(sents, epochs=2, nbits=14, dev_fraction=dev_fraction, **kw), sents


def test_marginals_cold_limit_is_viterbi_and_jobs_agree():
    m, sents = _gold_model()
    lines = ["".join(s) for s in sents[:40]] + ["中国 人民，银行AB12结婚", ""]
    cold = m.marginals_lines(lines, temperature=1e-4)
    for line, p, words in zip(lines, cold, m.segment_lines(lines)):
        ends = np.cumsum([len(w) for w in words], dtype=np.int64) - 1
        want = np.zeros(len(line))
        want[ends] = 1
        assert p.shape == want.shape and (len(p) == 0 or np.abs(p - want).max() < 1e-9)
    warm = m.marginals_lines(lines, temperature=100.0)
    assert any(((p > 0.01) & (p < 0.99)).any() for p in warm)
    m.n_jobs = 2
    assert all(np.array_equal(a, b) for a, b in zip(warm, m.marginals_lines(lines, temperature=100.0)))
    assert all(np.array_equal(a, b) for a, b in zip(m.marginals_lines(lines), m.marginals_lines(lines[::-1])[::-1]))


def test_fitted_temperature_minimises_held_out_log_loss(tmp_path):
    m, sents = _gold_model()
    calib = m.stats["calibration"]
    assert m.temperature_ == calib["temperature"] and calib["sentences"] == 15 and calib["gaps"] > 0
    held, _ = _gold_model(refit=False)
    text, boundary = tagger._gold_text(sents[135:])
    sel, off, pc, em, _ = held._piece_emissions(text)
    inner = tagger._inner_gaps(off, pc)
    y = boundary[sel][inner]

    def loss(theta):
        p = np.clip(held._piece_marginals(off, pc, em, theta)[inner], 1e-12, 1 - 1e-12)
        return -np.mean(np.where(y, np.log(p), np.log1p(-p)))

    t = held.temperature_
    assert t == m.temperature_ and loss(t) == pytest.approx(calib["log_loss"], rel=1e-9)
    assert loss(t) <= min(loss(t * 1.5), loss(t / 1.5)) + 1e-12
    # refit: the final model is the one trained on everything, without a held-out part
    plain, _ = _gold_model(dev_fraction=0)
    assert np.array_equal(plain.weights_, m.weights_) and plain.temperature_ is None
    assert not np.array_equal(held.weights_, m.weights_)
    with pytest.raises(TextmineError, match="no fitted temperature"):
        plain.marginals("中国")
    # the temperature is saved and read back
    m.save(tmp_path / "m.model")
    assert tagger.load_model(str(tmp_path / "m.model")).temperature_ == m.temperature_
    with pytest.raises(TextmineError, match="too few"):
        tagger.train_segmenter_gold(sents[:1], epochs=1, nbits=12, dev_fraction=0.1)


def test_dictionary_model_has_a_synthetic_temperature():
    m = _small_model()
    assert m.temperature_ > 0 and m.stats["calibration"]["source"] == "synthetic"
    p = m.marginals("中国人民银行的和尚未结婚")
    assert p.shape == (12,) and p[-1] == 1.0 and ((p >= 0) & (p <= 1)).all()


def test_cli_train_with_dev_and_fraction(tmp_path):
    g, d = tmp_path / "gold.txt", tmp_path / "dev.txt"
    g.write_text("中国 人民 的 银行\n人民 的 中国\n银行 和 尚未 结婚\n" * 10, encoding="utf-8")
    d.write_text("中国 的 银行\n和 尚未 结婚\n", encoding="utf-8")
    base = ["train-segmenter", "--gold", str(g), "--epochs", "2", "--bits", "14"]
    r = CliRunner().invoke(cli, [*base, "--dev", str(d), "-o", str(tmp_path / "a.model")])
    assert r.exit_code == 0, r.output
    a = tagger.load_model(str(tmp_path / "a.model"))
    assert a.temperature_ > 0 and a.stats["calibration"]["sentences"] == 2 and "held-out F" not in r.stderr
    plain = tagger.train_segmenter_gold(tagger.read_gold(str(g)), epochs=2, nbits=14, dev_fraction=0)
    assert np.array_equal(a.weights_, plain.weights_)  # --dev: trained once, on all of --gold
    assert a.temperature_ == tagger.fit_temperature(plain, tagger.read_gold(str(d)))["temperature"]
    r = CliRunner().invoke(cli, [*base, "-o", str(tmp_path / "b.model")])
    assert r.exit_code == 0 and "held-out F 1.0000" in r.stderr and "on the last 3 sentences" in r.stderr
    assert "held-out run, epoch 2/2" in r.stderr
    r = CliRunner().invoke(cli, [*base, "--dev-fraction", "0", "-q", "-o", str(tmp_path / "c.model")])
    assert r.exit_code == 0 and tagger.load_model(str(tmp_path / "c.model")).temperature_ is None
    r = CliRunner().invoke(cli, ["train-segmenter", "--dict", str(d), "--dev", str(d), "-o", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--dev applies to --gold" in r.output
