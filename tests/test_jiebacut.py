"""textmine.jiebacut: token-for-token equality with jieba 0.42.1, and kernels against naive twins."""
import os
import pickle
import random
import re

import numpy as np
import pytest

from conftest import JIT_DISABLED, shared_file
from naive_jiebacut import (MIN_FLOAT, naive_cut, naive_prefix_dict, naive_route, naive_viterbi)
from textmine import jiebacut as J
from textmine.errors import TextmineError

jieba = pytest.importorskip("jieba")
from jieba import finalseg  # noqa: E402
from jieba.finalseg import prob_emit, prob_start, prob_trans  # noqa: E402

jieba.setLogLevel(60)  # jieba's own "Building prefix dict" chatter, in the reference only

heavy = pytest.mark.skipif(JIT_DISABLED, reason="too slow with the JIT off")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Every test builds/loads the dictionary cache in a private directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg"))


@pytest.fixture(scope="module")
def toks():
    return {True: J.JiebaTokenizer(hmm=True), False: J.JiebaTokenizer(hmm=False)}


def codes_of(text):
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)


def cut_lines(tok, lines):
    """Tokens of each line through ``spans`` on the concatenation, regrouped per line."""
    text = "".join(lines)
    lens = np.array([len(x) for x in lines], np.int64)
    ends = np.cumsum(lens)
    starts, stops = tok.spans(codes_of(text), ends - lens, ends)
    assert np.all(stops > starts)
    out = [[] for _ in lines]
    line_of = np.searchsorted(ends, starts, side="right")
    for k, s, e in zip(line_of.tolist(), starts.tolist(), stops.tolist()):
        out[k].append(text[s:e])
    return out


def assert_same(ours, ref, what):
    if ours != ref:
        for i, (a, b) in enumerate(zip(ours, ref)):
            if a != b:
                break
        else:
            i = min(len(ours), len(ref))
        raise AssertionError(f"{what}: first difference at token {i}: "
                             f"{ours[max(0, i - 3):i + 3]} != {ref[max(0, i - 3):i + 3]}")


# -- the constants and character classes are jieba's --------------------------------------------

def test_patterns_and_constants_are_jieba_s():
    assert J.RE_HAN_DEFAULT == jieba.re_han_default.pattern
    assert J.RE_SKIP_DEFAULT == jieba.re_skip_default.pattern
    assert J.RE_ENG == jieba.re_eng.pattern
    assert J.RE_FINALSEG_HAN == finalseg.re_han.pattern
    assert J.RE_FINALSEG_SKIP == finalseg.re_skip.pattern
    assert J.MIN_FLOAT == finalseg.MIN_FLOAT
    assert J.PREV_STATUS == finalseg.PrevStatus
    assert os.path.samefile(J.default_dictionary(), jieba.get_dict_file().name)


def test_char_classes_match_str_semantics():
    """\\s is str.isspace, \\d is str.isdecimal; the block class is the listed set (all code points)."""
    cls = J.char_classes()
    assert cls.shape == (0x110000,) and cls.dtype == np.uint8
    block = set(range(0x4E00, 0x9FD6)) | {ord(c) for c in
                                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789+#&._%-"}
    alnum = {ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}
    for c in range(0x110000):
        ch = chr(c)
        bits = cls[c]
        assert bool(bits & J.C_SPACE) == ch.isspace(), hex(c)
        assert bool(bits & J.C_DIGIT) == ch.isdecimal(), hex(c)
        assert bool(bits & J.C_BLOCK) == (c in block), hex(c)
        assert bool(bits & J.C_ALNUM) == (c in alnum), hex(c)
        assert bool(bits & J.C_HAN) == (0x4E00 <= c <= 0x9FD5), hex(c)
    assert cls[0x3000] & J.C_SPACE and cls[0xFF10] & J.C_DIGIT and not cls[0xFF10] & J.C_BLOCK


# -- jieba itself is the reference ---------------------------------------------------------------

EXAMPLES = [
    "", " ", "\r\n", "\r\r\n\n", "\t \u3000\u00a0x", "我来到北京清华大学", "他来到了网易杭研大厦",
    "小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
    "工信处女干事每月经过下属科室都要亲口交代24口交换机等技术性器件的安装工作",
    "AT&T和C++以及3.14%的增长, v2.0版本 ２０２６年１１月", "结婚的和尚未结婚的",
    "abc123 def.45% x.y ..--##", "\U0001F600表情\U00020000𠀀汉字\ud800",
    "Ａｐｐｌｅ公司发布ｉＰｈｏｎｅ１５", "中华人民共和国万岁！！！",
    "李小福是创新办主任也是云计算方面的专家", "石墨烯一二三四五六七八九十", "9.5%的人说“好的”。",
]


@pytest.mark.parametrize("hmm", [True, False])
def test_examples_equal_jieba(toks, hmm):
    for text in EXAMPLES:
        assert_same(toks[hmm].lcut(text), jieba.lcut(text, HMM=hmm), repr(text))


@pytest.mark.parametrize("hmm", [True, False])
def test_long_blocks_equal_jieba(toks, dict_words, hmm):
    """Blocks far longer than the kernel's initial scratch (64), one line and many."""
    rng = random.Random(4)
    for n in (65, 300, 2000):
        text = "".join(rng.choice(dict_words) if rng.random() < 0.7
                       else chr(rng.randint(0x4E00, 0x9FD5)) for _ in range(n))
        assert_same(toks[hmm].lcut(text), jieba.lcut(text, HMM=hmm), f"{n} pieces")
        lines = [text[:100], text, text[50:]]
        assert cut_lines(toks[hmm], lines) == [jieba.lcut(x, HMM=hmm) for x in lines]


def test_bytes_are_decoded_as_jieba_does(toks):
    text = "我来到北京清华大学"
    for raw in [text.encode("utf-8"), text.encode("gbk"), b"\xff\xfeab"]:
        assert toks[True].lcut(raw) == jieba.lcut(raw)


def _random_text(rng, words, n_pieces):
    pool = ["\t", " ", "  ", "\u3000", "\r\n", "\r", "\n", "\u00a0", "\x1c", "\u2028", "\x85",
            "０", "１", "９", "Ａ", "ａ", "。", "，", "！", "—", "“", "”",
            ".", "%", "+", "#", "&", "_", "-", "3.14", "x.1", "12%", "1.5.3%",
            "\U0001F600", "\U00020000", "\ud800", "é", "٣",
            "\u0663.\u0664", "\u4e00", "\u9fd5", "\u9fd6", "\u3400", "\uff0e"]
    pieces = []
    for _ in range(n_pieces):
        r = rng.random()
        if r < 0.4:
            pieces.append(rng.choice(words))
        elif r < 0.7:
            pieces.append(chr(rng.randint(0x4E00, 0x9FD5)))
        elif r < 0.8:
            pieces.append("".join(rng.choice("abcXYZ0123456789.%") for _ in range(rng.randint(1, 6))))
        else:
            pieces.append(rng.choice(pool))
    return "".join(pieces)


@pytest.fixture(scope="module")
def dict_words():
    with open(J.default_dictionary(), encoding="utf-8") as f:
        return [line.split(" ")[0] for line in f]


@pytest.mark.parametrize("hmm", [True, False])
def test_random_strings_equal_jieba(toks, dict_words, hmm):
    rng = random.Random(20261121 + hmm)
    n = 200 if JIT_DISABLED else 3000
    for _ in range(n):
        text = _random_text(rng, dict_words, rng.randint(0, 40))
        assert_same(toks[hmm].lcut(text), jieba.lcut(text, HMM=hmm), repr(text))


@pytest.mark.parametrize("hmm", [True, False])
def test_spans_cut_each_line_independently(toks, dict_words, hmm):
    rng = random.Random(7)
    lines = [_random_text(rng, dict_words, rng.randint(0, 25)) for _ in range(300)] + ["", "a"]
    got = cut_lines(toks[hmm], lines)
    for line, tokens in zip(lines, got):
        assert_same(tokens, jieba.lcut(line, HMM=hmm), repr(line))
    # lines in any order, with gaps, share nothing
    text = "".join(lines[:50])
    lens = np.array([len(x) for x in lines[:50]], np.int64)
    ends = np.cumsum(lens)
    order = np.arange(50)[::-2].copy()
    starts, stops = toks[hmm].spans(codes_of(text), (ends - lens)[order], ends[order])
    assert [text[s:e] for s, e in zip(starts.tolist(), stops.tolist())] == \
        [t for k in order for t in got[k]]


def test_spans_empty_and_bad_input(toks):
    s, e = toks[True].spans(np.zeros(0, np.uint32), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert s.dtype == np.int64 and e.dtype == np.int64 and s.size == 0 and e.size == 0
    codes = codes_of("我来到北京")
    with pytest.raises(TextmineError, match="line spans"):
        toks[True].spans(codes, np.array([0]), np.array([9]))
    with pytest.raises(TextmineError, match="line spans"):
        toks[True].spans(codes, np.array([3]), np.array([2]))
    with pytest.raises(TextmineError, match="equal length"):
        toks[True].spans(codes, np.array([0, 1]), np.array([2]))
    with pytest.raises(TextmineError, match="code points"):
        toks[True].spans(np.array([0x110000], np.uint32), np.array([0]), np.array([1]))


@heavy
@pytest.mark.parametrize("hmm", [True, False])
def test_199801_all_lines_equal_jieba(toks, hmm):
    lines = shared_file("cws", "199801_raw.utf8").read_text(encoding="utf-8").splitlines()
    got = cut_lines(toks[hmm], lines)
    for k, line in enumerate(lines):
        assert_same(got[k], jieba.lcut(line, HMM=hmm), f"199801_raw.utf8:{k + 1}")


@heavy
@pytest.mark.parametrize("hmm", [True, False])
def test_pku_test_whole_file_equals_jieba(toks, hmm):
    text = shared_file("cws", "pku_test.utf8").read_text(encoding="utf-8")
    assert_same(toks[hmm].lcut(text), jieba.lcut(text, HMM=hmm), "pku_test.utf8")
    crlf = text.replace("\n", "\r\n")
    assert_same(toks[hmm].lcut(crlf), jieba.lcut(crlf, HMM=hmm), "pku_test.utf8 with CRLF")


RAW = ["hongloumeng.txt", "jinpingmei.txt", "sanguo_yanyi.txt", "shuihu_zhuan.txt",
       "song_ci_simp.txt", "tang_poems_trad.txt", "xiyouji.txt"]


@heavy
@pytest.mark.parametrize("hmm", [True, False])
def test_raw_novels_equal_jieba(toks, hmm):
    """150,000 characters from the middle of each raw text (ASCII debris, full-width, odd spaces)."""
    for name in RAW:
        text = shared_file("raw", name).read_text(encoding="utf-8")
        mid = len(text) // 2
        chunk = text[mid:mid + 150_000]
        assert_same(toks[hmm].lcut(chunk), jieba.lcut(chunk, HMM=hmm), name)


# -- other dictionaries: a random one against a set_dictionary-style jieba -------------------------

ALPHABET = "甲乙丙丁戊己庚辛天地人和ab1.%-"


def _random_dictionary(rng, n_words=60):
    entries = []
    for _ in range(n_words):
        w = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
        entries.append((w, rng.choice([0, 1, 2, 3, 5, 8])))
    entries.append(("\U00020000丁", 3))  # an astral character inside a word
    entries.append(("甲", 4))
    return entries


def _write_dictionary(path, entries):
    with open(path, "w", encoding="utf-8") as f:
        for w, c in entries:
            f.write(f"{w} {c} n\n" if c % 2 else f"{w} {c}\n")


def _random_sentence(rng, n):
    return "".join(rng.choice(ALPHABET + "子丑寅卯 ，\U00020000") for _ in range(n))


@pytest.mark.parametrize("seed", range(8))
def test_random_dictionary_equals_jieba(tmp_path, seed):
    rng = random.Random(seed)
    entries = _random_dictionary(rng)
    path = tmp_path / f"dict{seed}.txt"
    _write_dictionary(path, entries)
    ref = jieba.Tokenizer(str(path))
    ref.tmp_dir = str(tmp_path)
    for hmm in (True, False):
        tok = J.JiebaTokenizer(hmm=hmm, dictionary=str(path))
        for _ in range(150):
            text = _random_sentence(rng, rng.randint(0, 30))
            assert_same(tok.lcut(text), ref.lcut(text, HMM=hmm), repr(text))


def test_prefix_dictionary_is_jieba_s(tmp_path):
    rng = random.Random(3)
    path = tmp_path / "d.txt"
    _write_dictionary(path, _random_dictionary(rng, 200))
    freq, total = J.read_prefix_dictionary(str(path))
    ref = jieba.Tokenizer(str(path))
    ref.tmp_dir = str(tmp_path)
    ref.initialize()
    assert list(freq.items()) == list(ref.FREQ.items()) and total == ref.total


# -- kernels against the naive twins --------------------------------------------------------------

def _route_of(model, text):
    codes = codes_of(text)
    n = codes.shape[0]
    val = np.empty(n + 1, np.float64)
    idx = np.empty(max(n, 1), np.int64)
    J._jiebacut_route(codes, 0, n, model.root_child, model.keys, model.vals, model.shift,
                      model.logp, model.isword, model.unk, val, idx)
    return val.tolist(), idx[:n].tolist()


@pytest.mark.parametrize("seed", range(6))
def test_route_kernel_equals_naive(tmp_path, seed):
    """Exact float64 route values and ends, ties included (few distinct frequencies)."""
    rng = random.Random(100 + seed)
    entries = _random_dictionary(rng, 80)
    path = tmp_path / "d.txt"
    _write_dictionary(path, entries)
    model = J.JiebaTokenizer(dictionary=str(path))._load()
    freq, total = naive_prefix_dict(entries)
    for _ in range(150):
        text = "".join(rng.choice(ALPHABET + "子") for _ in range(rng.randint(1, 25)))
        assert _route_of(model, text) == naive_route(text, freq, total), text


def test_route_kernel_on_jieba_dictionary(toks, dict_words):
    model = toks[True]._load()
    freq, total = J.read_prefix_dictionary(J.default_dictionary())
    rng = random.Random(11)
    for _ in range(100):
        text = "".join(rng.choice(dict_words) for _ in range(rng.randint(1, 6)))
        text = "".join(c if rng.random() < 0.9 else chr(rng.randint(0x4E00, 0x9FD5)) for c in text)
        assert _route_of(model, text) == naive_route(text, freq, total), text


def _random_hmm(rng, chars):
    values = [-0.5, -1.0, -2.0, -1.0, MIN_FLOAT]  # few values: exact ties are common

    start = {s: rng.choice(values) for s in "BMES"}
    trans = {a: {b: rng.choice(values) for b in "BMES" if rng.random() < 0.9} for a in "BMES"}
    emit = {s: {c: rng.choice(values) for c in chars if rng.random() < 0.7} for s in "BMES"}
    return start, trans, emit


def _viterbi_of(arrays, text):
    codes = codes_of(text)
    n = codes.shape[0]
    prev = np.array([["BEMS".index(p) for p in J.PREV_STATUS[s]] for s in "BEMS"], np.int64)
    vit = np.empty((n, 4))
    ptr = np.zeros((n, 4), np.int8)
    states = np.empty(n, np.int8)
    J._jiebacut_viterbi(codes, 0, n, arrays["start_p"], arrays["trans_p"], arrays["emit_p"], prev,
                        vit, ptr, states)
    return "".join("BEMS"[s] for s in states)


def test_viterbi_kernel_equals_naive_random_models():
    rng = random.Random(5)
    chars = "甲乙丙丁戊己"
    for _ in range(60):
        start, trans, emit = _random_hmm(rng, chars)
        arrays = J.hmm_arrays(start, trans, emit)
        for _ in range(20):
            text = "".join(rng.choice(chars) for _ in range(rng.randint(1, 12)))
            assert _viterbi_of(arrays, text) == naive_viterbi(text, start, trans, emit), text


def test_viterbi_kernel_equals_naive_jieba_model():
    arrays = J.hmm_arrays(prob_start.P, prob_trans.P, prob_emit.P)
    rng = random.Random(6)
    for _ in range(300):
        text = "".join(chr(rng.randint(0x4E00, 0x9FD5)) for _ in range(rng.randint(1, 15)))
        assert _viterbi_of(arrays, text) == naive_viterbi(text, prob_start.P, prob_trans.P,
                                                          prob_emit.P), text


@pytest.mark.parametrize("seed", range(4))
def test_whole_kernel_equals_naive_with_random_hmm(tmp_path, seed):
    """The full pipeline on a random dictionary and a random tie-prone HMM, against naive_cut."""
    rng = random.Random(200 + seed)
    entries = _random_dictionary(rng, 40)
    path = tmp_path / "d.txt"
    _write_dictionary(path, entries)
    freq, total = naive_prefix_dict(entries)
    start, trans, emit = _random_hmm(rng, ALPHABET + "子丑寅卯")
    for hmm in (True, False):
        tok = J.JiebaTokenizer(hmm=hmm, dictionary=str(path))
        arrays = J.hmm_arrays(start, trans, emit)
        tok._arrays = tok._load()._replace(**arrays)
        for _ in range(100):
            text = _random_sentence(rng, rng.randint(0, 30)) + rng.choice(["", "a1.5%子", "1.x"])
            assert_same(tok.lcut(text), naive_cut(text, freq, total, hmm, start, trans, emit),
                         repr(text))


def test_skip_split_equals_re():
    cls = J.char_classes()
    rng = random.Random(9)
    for _ in range(500):
        text = "".join(rng.choice("ab1.%-#_09+&\u0663") for _ in range(rng.randint(1, 15)))
        codes = codes_of(text)
        s = np.empty(len(text), np.int64)
        e = np.empty(len(text), np.int64)
        n = J._jiebacut_skip_split(codes, 0, len(text), cls, s, e, 0)
        got = [text[a:b] for a, b in zip(s[:n].tolist(), e[:n].tolist())]
        assert got == [x for x in re.split(J.RE_FINALSEG_SKIP, text) if x], text


# -- dictionary file handling, cache, pickling ------------------------------------------------------

@pytest.mark.parametrize("content, msg", [
    ("甲 1\n乙\n", ":2: invalid"),
    ("甲 1\n\n", ":2: invalid"),
    ("甲 x n\n", ":1: invalid"),
    ("甲  1\n", ":1: invalid"),
    ("甲 -3\n", ":1: invalid dictionary entry: negative frequency"),
    ("甲 0\n", "no word with a positive frequency"),
])
def test_bad_dictionary(tmp_path, content, msg):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TextmineError, match=msg) as err:
        J.JiebaTokenizer(dictionary=str(path)).lcut("甲乙")
    assert str(path) in str(err.value)


def test_dictionary_with_bom_and_crlf(tmp_path):
    """A UTF-8 BOM and CRLF line ends do not change the dictionary (jieba keeps the BOM in the
    first word, so that entry never matches)."""
    plain, marked = tmp_path / "plain.txt", tmp_path / "bom.txt"
    plain.write_bytes("甲乙 3\n丙丁 2\n".encode("utf-8"))
    marked.write_bytes(b"\xef\xbb\xbf" + "甲乙 3\r\n丙丁 2\r\n".encode("utf-8"))
    assert J.read_prefix_dictionary(str(marked)) == J.read_prefix_dictionary(str(plain))
    assert J.JiebaTokenizer(hmm=False, dictionary=str(marked)).lcut("甲乙丙丁") == ["甲乙", "丙丁"]


def test_bad_dictionary_encoding_and_missing(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("甲乙 3\n".encode("gbk"))
    with pytest.raises(TextmineError, match=":1: invalid"):
        J.JiebaTokenizer(dictionary=str(path)).lcut("甲乙")
    with pytest.raises(TextmineError, match="cannot read dictionary"):
        J.JiebaTokenizer(dictionary=str(tmp_path / "missing.txt")).lcut("甲乙")


def test_cache_is_keyed_atomic_and_silent(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "d.txt"
    path.write_text("甲乙 3\n丙 2\n", encoding="utf-8")
    assert J.JiebaTokenizer(dictionary=str(path)).lcut("甲乙丙") == ["甲乙", "丙"]
    files = sorted((tmp_path / "xdg" / "textmine").iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"
    # a second tokenizer loads the cache (same answer)
    assert J.JiebaTokenizer(dictionary=str(path)).lcut("甲乙丙") == ["甲乙", "丙"]
    # an edited dictionary (new size and mtime) gets its own entry
    path.write_text("甲乙丙 30\n丙 2\n", encoding="utf-8")
    os.utime(path, ns=(1, 10**18))
    assert J.JiebaTokenizer(dictionary=str(path)).lcut("甲乙丙") == ["甲乙丙"]
    assert len(list((tmp_path / "xdg" / "textmine").iterdir())) == 2
    # a corrupt cache file is rebuilt, not trusted
    for f in (tmp_path / "xdg" / "textmine").iterdir():
        f.write_bytes(b"garbage")
    assert J.JiebaTokenizer(dictionary=str(path)).lcut("甲乙丙") == ["甲乙丙"]
    assert not [f for f in (tmp_path / "xdg" / "textmine").iterdir() if f.suffix != ".npz"]
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_unwritable_cache_still_works(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = tmp_path / "d.txt"
    path.write_text("甲乙 3\n", encoding="utf-8")
    assert J.JiebaTokenizer(dictionary=str(path)).lcut("甲乙") == ["甲乙"]


def test_pickle_is_small_and_lazy(toks):
    tok = toks[False]
    tok.warmup()
    blob = pickle.dumps(tok)
    assert len(blob) < 300
    clone = pickle.loads(blob)
    assert clone._arrays is None and clone.hmm is False and clone.dictionary is None
    text = "他来到了网易杭研大厦 abc 3.5%"
    assert clone.lcut(text) == jieba.lcut(text, HMM=False)
    assert repr(clone) == "JiebaTokenizer(hmm=False, dictionary=None)"


def test_pickle_resolves_a_relative_dictionary(tmp_path, monkeypatch):
    (tmp_path / "d.txt").write_text("甲乙 3\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    tok = J.JiebaTokenizer(dictionary="d.txt")
    clone = pickle.loads(pickle.dumps(tok))
    assert tok.dictionary == "d.txt" and clone.dictionary == str(tmp_path / "d.txt")
    monkeypatch.chdir(tmp_path.parent)
    assert clone.lcut("甲乙丙") == ["甲乙", "丙"]
