"""A character-tagging word segmenter (B/M/E/S, averaged perceptron), trained from a
word-frequency dictionary alone (kexue.fm 4245, :func:`train_segmenter`) or from gold segmented
text (:func:`train_segmenter_gold`, ``train-segmenter --gold``).

Gold training (Xue 2003; Ng & Low 2004; Tseng et al. 2005; ALGORITHMS-2 §7): each gold sentence
is cut into the pieces the decoder tags (at whitespace and punctuation, see below) and the
perceptron visits the pieces in a fresh shuffled order in each pass, with ``features=
"ngram+dict+type"``: the character n-grams, dictionary features from the training words (plus
any ``--dict``; ``dropout`` of them hidden in each pass) and character types/reduplication.

Dictionary training:
Training text is synthesised by drawing words in proportion to their frequency (1-16 words per
sample, samples longer than 48 characters dropped), each character is labelled ``B``/``M``/``E``/``S``
and an averaged structured perceptron over hashed character n-gram features learns to tag it.
Decoding is first-order Viterbi over the allowed tag pairs (be, bm, eb, es, me, mm, sb, ss).

With ``features="ngram+dict"`` (the hybrid mode) the tagger also sees *dictionary features*: the
longest dictionary word that begins, ends or strictly covers the character, and the character's
tag in the unigram maximum-probability segmentation (docs/algorithms.md §3.1). While training, a random
share of the dictionary (``dropout``) is hidden from these features, so the model also learns to
find words the dictionary lacks from their characters: the "hybrid" of the issue, learnt rather
than hand-wired. The default, ``features="ngram"``, is the plain character tagger of the post; it
cannot memorise long dictionary entries, so it segments finer (better on PKU with jieba's coarse
dictionary; the hybrid is better with a dictionary of the target's own standard, see
bench/RESULTS.md).

Input handling: characters are folded (full-width ASCII to ASCII, every digit to ``0``, every
Latin letter to ``A``), so a model trained on People's Daily (full-width) segments ASCII text; the
n-gram features also see every numeral (digits and 〇一二…十百千万亿两) as one symbol, so that
``一九九八年`` in a dictionary teaches ``1998年``. Whitespace runs and punctuation are words of
their own (a run of one repeated punctuation mark, e.g. ``——``, is one word). A run of
digits/Latin letters is never split.

Confidence (:meth:`SegmenterModel.marginals_lines`, ``segment --marginals``): the probability of
a boundary after each character is the forward–backward marginal P(y_i ∈ {E, S}) of the linear
chain whose path scores are the perceptron's scores divided by a temperature θ (ALGORITHMS-2
§5.2). The perceptron's scores are no log-probabilities, so θ is fitted on held-out data when
the model is trained (:func:`fit_temperature`: the last ``dev_fraction`` of the gold sentences,
or ``dev_sentences``; fresh synthetic samples for a dictionary-trained model) and stored in the
model; the segmentation (Viterbi) does not depend on θ.

Model file: a zip archive in ``.npz`` layout (``numpy.load(path, allow_pickle=False)`` reads the
arrays), never a pickle. Members:

* ``meta.json``: ``format`` (``"textmine-segmenter"``), ``format_version`` (1), ``textmine_version``,
  ``tags`` (``"BMES"``), ``features``, ``nbits``, ``unk_logp``, ``n_words``, ``maxw``, ``cap``,
  ``temperature`` (θ of the boundary marginals, fitted on held-out data, see :func:`fit_temperature`;
  ``null`` in a model written before marginals existed), ``params`` (training parameters and seed),
  ``stats`` (per-pass samples and error rates; ``calibration``: the held-out data θ was fitted on) and
  ``arrays`` (dtype and shape of each member below);
* ``rows.npy`` int64 (k,) and ``weights.npy`` float32 (k, 4): the nonzero rows of the
  ``2**nbits``-row hashed weight table (columns B, M, E, S; buckets by :func:`_fhash`);
* ``trans.npy`` float32 (4, 4): transition weights, row = previous tag;
* ``dict_text.npy`` uint8: the normalised dictionary words, UTF-8, joined by ``\n``;
  ``dict_logp.npy`` float64 (n_words,): their log-probabilities.

Notes
-----
Su Jianlin, "中文分词系列：7. 深度学习分词？只需一个词典！", kexue.fm/archives/4245 (§3.2 of
docs/algorithms.md); the averaged structured perceptron is Collins (2002), "Discriminative training
methods for hidden Markov models"; §3.1 of docs/algorithms.md for the dictionary DP.
"""
import json
import math
import os
import unicodedata
import zipfile

import numpy as np

from textmine import __version__
from textmine._numba import njit, prange, serial_and_parallel, set_num_threads
from textmine.errors import TextmineError

FORMAT = "textmine-segmenter"
FORMAT_VERSION = 1
TAGS = "BMES"
B, M, E, S = 0, 1, 2, 3
MAXW = 16          # longest dictionary word used by the DP and the features
CAP = 8            # dictionary match lengths are capped at CAP in the features
MAXLEN = 48        # longest synthetic sample (characters)
MAXWORDS = 16      # words per synthetic sample: uniform on 1..MAXWORDS
N_NGRAM = 12       # feature templates 0..11 are character n-grams
N_MATCH = 6        # templates 12..17: dictionary match lengths
N_DICT = 9         # templates 12..20 use the dictionary (match lengths, then the DP tag)
N_TYPE = 5         # templates 21..25: character types and reduplication (gold-trained models)
FEATURE_SETS = {"ngram": N_NGRAM, "ngram+match": N_NGRAM + N_MATCH, "ngram+dict": N_NGRAM + N_DICT,
                "ngram+dict+type": N_NGRAM + N_DICT + N_TYPE}
MAX_GOLD_WORD = 64  # longest word accepted in a gold segmented training file (characters)
LEFT_PAD = 0x110001
RIGHT_PAD = 0x110002
PREFIX = 1.0       # value of a table entry that is only a prefix (log-probabilities are <= 0)

# transitions allowed in BMES: row = previous tag, column = next tag
ALLOWED = np.array([[0, 1, 1, 0],   # B -> M, E
                    [0, 1, 1, 0],   # M -> M, E
                    [1, 0, 0, 1],   # E -> B, S
                    [1, 0, 0, 1]],  # S -> B, S
                   dtype=np.bool_)

# characters kept inside tagger pieces although they are punctuation or symbols
_ALWAYS_GLUE = "·○〇"
_NUMBER_GLUE = ".．%％－-/／℃‰:：+＋"
_KIND_TEXT, _KIND_SPACE, _KIND_PUNCT, _KIND_NEWLINE, _KIND_GLUE = 0, 1, 2, 3, 4

_TABLE_CACHE = {}


# ----------------------------------------------------------------------------------------------
# character classes


def _char_kinds():
    """uint8[0x10000]: kind of each BMP code point (0 text, 1 space, 2 punct, 3 newline, 4 glue)."""
    if "kinds" not in _TABLE_CACHE:
        kinds = np.zeros(0x10000, dtype=np.uint8)
        for cp in range(0x10000):
            ch = chr(cp)
            cat = unicodedata.category(ch)
            if ch.isspace():
                kinds[cp] = _KIND_SPACE
            elif cat[0] in "PS":
                kinds[cp] = _KIND_PUNCT
        for ch in _ALWAYS_GLUE:
            kinds[ord(ch)] = _KIND_TEXT
        for ch in _NUMBER_GLUE:
            kinds[ord(ch)] = _KIND_GLUE
        kinds[ord("\n")] = _KIND_NEWLINE
        _TABLE_CACHE["kinds"] = kinds
    return _TABLE_CACHE["kinds"]


def normalize_codes(raw):
    """Fold code points for the features: full-width ASCII to ASCII, digits to ``0``, Latin to ``A``.

    Parameters
    ----------
    raw : ndarray of uint32 or int, shape (n,)
        Unicode code points.

    Returns
    -------
    ndarray of int32, shape (n,)
    """
    x = np.asarray(raw).astype(np.int32, copy=True)
    fw = (x >= 0xFF01) & (x <= 0xFF5E)
    x[fw] -= 0xFEE0
    x[x == 0x3000] = 0x20
    x[(x >= 0x30) & (x <= 0x39)] = 0x30
    x[((x >= 0x41) & (x <= 0x5A)) | ((x >= 0x61) & (x <= 0x7A))] = 0x41
    return x


def _codes(text):
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _classify(raw, x):
    """Kinds (uint8, glue resolved) and the continuation mask (bool: no word boundary before i)."""
    kinds_bmp = _char_kinds()
    kind = np.zeros(len(raw), dtype=np.uint8)
    bmp = raw < 0x10000
    kind[bmp] = kinds_bmp[raw[bmp]]
    alnum = (x == 0x30) | (x == 0x41)
    glue = kind == _KIND_GLUE
    if glue.any():
        near = np.zeros(len(raw), dtype=bool)
        near[1:] |= alnum[:-1]
        near[:-1] |= alnum[1:]
        kind[glue & near] = _KIND_TEXT
        kind[glue & ~near] = _KIND_PUNCT
    cont = np.zeros(len(raw), dtype=np.bool_)
    if len(raw) > 1:
        cont[1:] = alnum[1:] & alnum[:-1]
        # 3.5 / ３．５: a decimal point between digits
        dot = (x[1:-1] == 0x2E) & (x[:-2] == 0x30) & (x[2:] == 0x30)
        cont[1:-1] |= dot
        cont[2:] |= dot
    return kind, cont


# ----------------------------------------------------------------------------------------------
# hashing


@njit
def _mix(z):
    """splitmix64 finaliser of a uint64."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit
def _fhash(t, a, b, c):
    """Hash of feature template ``t`` with values ``a, b, c`` (non-negative ints) as uint64."""
    h = _mix(np.uint64(t) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(a))
    h = _mix(h ^ (np.uint64(b) * np.uint64(0xD6E8FEB86659FD93)))
    return _mix(h ^ (np.uint64(c) + np.uint64(0x2545F4914F6CDD1D)))


@njit
def _step(h, c):
    """Extend the hash ``h`` of a code-point sequence by one code point ``c`` (FNV-1a style)."""
    return _mix((h ^ np.uint64(c)) * np.uint64(0x100000001B3) + np.uint64(0x2545F4914F6CDD1D))


H0 = np.uint64(0xCBF29CE484222325)


@njit
def _lookup(keys, h):
    """Slot of key ``h`` in the open-addressing table ``keys`` (uint64, 0 = empty), or -1."""
    mask = np.uint64(keys.shape[0] - 1)
    k = h | np.uint64(1)
    i = k & mask
    while True:
        cur = keys[i]
        if cur == k:
            return np.int64(i)
        if cur == np.uint64(0):
            return np.int64(-1)
        i = (i + np.uint64(1)) & mask


@njit
def _build_table(codes, offsets, logp, keys, vals):
    """Insert every word and every prefix of it into the hash table.

    Parameters
    ----------
    codes : int32 (total,) normalised code points of the words, concatenated.
    offsets : int64 (n_words + 1,) CSR offsets into ``codes``.
    logp : float64 (n_words,) log-probability of each word (<= 0).
    keys : uint64 (size,) zeroed, size a power of two >= 2 * entries; filled in place.
    vals : float64 (size,) filled in place: the word's log-probability, or ``PREFIX`` (1.0) for
        a sequence that is only a prefix of longer words.
    """
    mask = np.uint64(keys.shape[0] - 1)
    for w in range(offsets.shape[0] - 1):
        s, e = offsets[w], offsets[w + 1]
        if e - s > MAXW or e == s:
            continue
        h = H0
        for j in range(s, e):
            h = _step(h, codes[j])
            k = h | np.uint64(1)
            i = k & mask
            while keys[i] != np.uint64(0) and keys[i] != k:
                i = (i + np.uint64(1)) & mask
            if keys[i] == np.uint64(0):
                keys[i] = k
                vals[i] = PREFIX
            if j == e - 1:
                if vals[i] == PREFIX or logp[w] > vals[i]:
                    vals[i] = logp[w]


def build_table(words_codes, offsets, logp):
    """Hash table of a normalised dictionary (see :func:`_build_table`); returns ``(keys, vals)``."""
    entries = int(np.minimum(np.diff(offsets), MAXW).sum()) + 1
    size = 1 << max(4, int(math.ceil(math.log2(2 * entries))))
    keys = np.zeros(size, dtype=np.uint64)
    vals = np.zeros(size, dtype=np.float64)
    _build_table(words_codes, offsets, logp, keys, vals)
    return keys, vals


# ----------------------------------------------------------------------------------------------
# dictionary features and the unigram DP


@njit
def _dict_features(x, s, e, keys, vals, unk, cont, c0, lb, le, lm, dp, best, back):
    """Dictionary features of the piece ``x[s:e]``.

    Parameters
    ----------
    x : int32 (n,) normalised code points.
    s, e : int, the piece is ``x[s:e]``.
    keys, vals : the dictionary hash table (:func:`build_table`).
    unk : float, log-probability of a character that is not a dictionary word.
    cont : bool (N,), ``cont[c0 + i]`` True when no word may start at character i (inside a run
        of digits/Latin letters). Such a run that is no dictionary word is one unknown word.
    c0 : int, offset of the piece in ``cont``.
    lb, le, lm : int8 (>= e - s,) output: length (capped at ``CAP``) of the longest dictionary word
        that begins at / ends at / strictly covers each character; 0 if none.
    dp : int8 (>= e - s,) output: the B/M/E/S tag of each character in the maximum-probability
        segmentation, ties going to the first word found scanning starts then ends left to right.
    best : float64 (>= e - s + 1,), back : int64 (>= e - s + 1,) scratch.

    Notes
    -----
    kexue.fm 5476/3908 (docs/algorithms.md §3.1): best(j) = max_i best(i) + ln p(x[i:j]).
    """
    n = e - s
    for i in range(n):
        lb[i] = 0
        le[i] = 0
        lm[i] = 0
    best[0] = 0.0
    for j in range(1, n + 1):
        best[j] = -np.inf
        back[j] = j - 1
    for i in range(n):
        if i > 0 and cont[c0 + i]:
            continue  # not a word boundary
        # the next boundary after i: an unknown character, or a whole digit/Latin run
        nxt = i + 1
        while nxt < n and cont[c0 + nxt]:
            nxt += 1
        h = H0
        single = False
        for j in range(i, min(n, i + MAXW)):
            h = _step(h, x[s + j])
            slot = _lookup(keys, h)
            if slot < 0:
                break
            v = vals[slot]
            if v == PREFIX:
                continue
            ln = j - i + 1
            c = ln if ln < CAP else CAP
            if c > lb[i]:
                lb[i] = c
            if c > le[j]:
                le[j] = c
            for k in range(i + 1, j):
                if c > lm[k]:
                    lm[k] = c
            if j + 1 < n and cont[c0 + j + 1]:
                continue  # would split a digit/Latin run
            if j + 1 == nxt:
                single = True
            sc = best[i] + v
            if sc > best[j + 1]:
                best[j + 1] = sc
                back[j + 1] = i
        if not single:
            sc = best[i] + unk
            if sc > best[nxt]:
                best[nxt] = sc
                back[nxt] = i
    j = n
    while j > 0:
        i = back[j]
        if j - i == 1:
            dp[i] = S
        else:
            dp[i] = B
            for k in range(i + 1, j - 1):
                dp[k] = M
            dp[j - 1] = E
        j = i


NUMERALS = np.array(sorted(ord(c) for c in "0〇○零一二三四五六七八九十百千万亿两"), dtype=np.int32)
NUM = 0x110003
DATE_CHARS = np.array(sorted(ord(c) for c in "年月日时分秒点号"), dtype=np.int32)
GLUE_CHARS = np.array(sorted(set(normalize_codes(_codes(_NUMBER_GLUE)).tolist())),
                      dtype=np.int32)


@njit
def _member_of(table, c):
    """True when ``c`` is in the sorted int32 array ``table``."""
    lo, hi = 0, table.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if table[mid] < c:
            lo = mid + 1
        else:
            hi = mid
    return lo < table.shape[0] and table[lo] == c


@njit
def _ctype(c):
    """Character type of a normalised code point (Tseng et al. 2005): 1 numeral, 2 Latin letter,
    3 date/time unit (年月日时分秒点号), 4 number glue (``.%-/:+`` ...), 5 padding, 0 other."""
    if c == LEFT_PAD or c == RIGHT_PAD:
        return 5
    if c == 0x41:
        return 2
    if _fold(c) == NUM:
        return 1
    if _member_of(DATE_CHARS, c):
        return 3
    if _member_of(GLUE_CHARS, c):
        return 4
    return 0


@njit
def _fold(c):
    """The n-gram features see every numeral (digits, 〇一二…十百千万亿两) as one symbol ``NUM``."""
    lo, hi = 0, NUMERALS.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if NUMERALS[mid] < c:
            lo = mid + 1
        else:
            hi = mid
    if lo < NUMERALS.shape[0] and NUMERALS[lo] == c:
        return NUM
    return c


@njit
def _features(x, s, e, lb, le, lm, dp, n_feat, nbits, out):
    """Hashed feature buckets of the piece ``x[s:e]``.

    Parameters
    ----------
    x : int32 (n,) normalised code points; lb, le, lm, dp : int8 piece-local dictionary features.
    n_feat : int, ``N_NGRAM`` (n-grams only) or ``N_NGRAM + N_DICT``.
    nbits : int, the weight table has ``2**nbits`` rows.
    out : int64 (>= e - s, n_feat) output bucket indices.

    Notes
    -----
    Templates: 0 bias; 1-5 unigrams c-2..c+2; 6-9 bigrams c-2c-1, c-1c0, c0c+1, c+1c+2; 10 c-1c+1;
    11 c-1c0c+1; then with ``n_feat > N_NGRAM`` the match lengths: 12 begin; 13 end; 14 inner;
    15 (begin, end, inner); 16 (begin, c0); 17 (end, c0); and with ``n_feat > N_NGRAM + N_MATCH``
    the DP tag: 18 tag; 19 (tag, c0); 20 (tag, begin, end); and with ``n_feat > N_NGRAM + N_DICT``
    the character types of :func:`_ctype` (Tseng et al. 2005): 21 type(c0); 22 types of c-1..c+1;
    23 types of c-2..c+2; 24 reduplication (c0 = c-1, c0 = c+1, c-1 = c+1, c-2 = c0 as 4 bits);
    25 (DP tag, types of c-1..c+1). Numerals are folded by :func:`_fold`.
    """
    n = e - s
    mask = np.uint64((1 << nbits) - 1)
    for i in range(n):
        cm2 = _fold(x[s + i - 2]) if i >= 2 else LEFT_PAD
        cm1 = _fold(x[s + i - 1]) if i >= 1 else LEFT_PAD
        c0 = _fold(x[s + i])
        cp1 = _fold(x[s + i + 1]) if i + 1 < n else RIGHT_PAD
        cp2 = _fold(x[s + i + 2]) if i + 2 < n else RIGHT_PAD
        out[i, 0] = np.int64(_fhash(0, 0, 0, 0) & mask)
        out[i, 1] = np.int64(_fhash(1, cm2, 0, 0) & mask)
        out[i, 2] = np.int64(_fhash(2, cm1, 0, 0) & mask)
        out[i, 3] = np.int64(_fhash(3, c0, 0, 0) & mask)
        out[i, 4] = np.int64(_fhash(4, cp1, 0, 0) & mask)
        out[i, 5] = np.int64(_fhash(5, cp2, 0, 0) & mask)
        out[i, 6] = np.int64(_fhash(6, cm2, cm1, 0) & mask)
        out[i, 7] = np.int64(_fhash(7, cm1, c0, 0) & mask)
        out[i, 8] = np.int64(_fhash(8, c0, cp1, 0) & mask)
        out[i, 9] = np.int64(_fhash(9, cp1, cp2, 0) & mask)
        out[i, 10] = np.int64(_fhash(10, cm1, cp1, 0) & mask)
        out[i, 11] = np.int64(_fhash(11, cm1, c0, cp1) & mask)
        if n_feat > N_NGRAM:
            b, en, m, t = lb[i], le[i], lm[i], dp[i]
            out[i, 12] = np.int64(_fhash(12, b, 0, 0) & mask)
            out[i, 13] = np.int64(_fhash(13, en, 0, 0) & mask)
            out[i, 14] = np.int64(_fhash(14, m, 0, 0) & mask)
            out[i, 15] = np.int64(_fhash(15, b, en, m) & mask)
            out[i, 16] = np.int64(_fhash(16, b, c0, 0) & mask)
            out[i, 17] = np.int64(_fhash(17, en, c0, 0) & mask)
        if n_feat > N_NGRAM + N_MATCH:
            out[i, 18] = np.int64(_fhash(18, t, 0, 0) & mask)
            out[i, 19] = np.int64(_fhash(19, t, c0, 0) & mask)
            out[i, 20] = np.int64(_fhash(20, t, b, en) & mask)
        if n_feat > N_NGRAM + N_DICT:
            tm2, tm1, t0, tp1, tp2 = _ctype(cm2), _ctype(cm1), _ctype(c0), _ctype(cp1), _ctype(cp2)
            out[i, 21] = np.int64(_fhash(21, t0, 0, 0) & mask)
            out[i, 22] = np.int64(_fhash(22, tm1, t0, tp1) & mask)
            out[i, 23] = np.int64(_fhash(23, tm2 * 8 + tm1, t0, tp1 * 8 + tp2) & mask)
            # reduplication: c0 equals c-1, c+1; c-1 equals c+1 (AXA); c-2 equals c0 (ABAB)
            red = (c0 == cm1) * 1 + (c0 == cp1) * 2 + (cm1 == cp1) * 4 + (cm2 == c0) * 8
            out[i, 24] = np.int64(_fhash(24, red, 0, 0) & mask)
            # the dictionary-DP tag with the types around c0
            out[i, 25] = np.int64(_fhash(25, t, tm1 * 8 + t0, tp1) & mask)


@njit
def _viterbi(feats, n, W, trans, cont, c0, score, back, tags):
    """First-order Viterbi over B/M/E/S.

    Parameters
    ----------
    feats : int64 (>= n, n_feat) feature buckets; n : int, piece length.
    W : float (n_buckets, 4) weights; trans : float (4, 4) transition weights (prev, next).
    cont : bool (N,) with ``cont[c0 + i]`` True when character i may not start a word (it must be
        tagged M or E); ignored at i = 0. Pass an all-False array to disable.
    c0 : int, offset of the piece in ``cont``.
    score : float64 (>= n, 4), back : int8 (>= n, 4) scratch; tags : int8 (>= n,) output.

    Notes
    -----
    Allowed pairs: be, bm, eb, es, me, mm, sb, ss; the first tag is B or S, the last E or S.
    Ties go to the lowest tag index.
    """
    nf = feats.shape[1]
    for i in range(n):
        for t in range(4):
            acc = 0.0
            for k in range(nf):
                acc += W[feats[i, k], t]
            if i == 0:
                score[i, t] = acc if (t == B or t == S) else -np.inf
                back[i, t] = -1
            else:
                if cont[c0 + i] and (t == B or t == S):
                    score[i, t] = -np.inf
                    back[i, t] = 0
                    continue
                bs = -np.inf
                bp = 0
                for p in range(4):
                    if ALLOWED[p, t]:
                        v = score[i - 1, p] + trans[p, t]
                        if v > bs:
                            bs = v
                            bp = p
                score[i, t] = bs + acc
                back[i, t] = bp
    t = E if score[n - 1, E] > score[n - 1, S] else S
    for i in range(n - 1, -1, -1):
        tags[i] = t
        t = back[i, t]


# ----------------------------------------------------------------------------------------------
# training


@njit
def _sample_stream(word_codes, word_off, idx, starts, x, gold):
    """Concatenate sampled words into one code stream with B/M/E/S gold tags.

    Parameters
    ----------
    word_codes : int32 (total,), word_off : int64 (n_words + 1,) the normalised words (CSR).
    idx : int64 (n_tokens,) sampled word ids, in order; starts : int64 (n_tokens,) where each
        token starts in ``x``.
    x : int32 (n_chars,), gold : int8 (n_chars,) outputs.
    """
    for t in range(idx.shape[0]):
        w = idx[t]
        s, e = word_off[w], word_off[w + 1]
        p = starts[t]
        ln = e - s
        for j in range(ln):
            x[p + j] = word_codes[s + j]
            if ln == 1:
                gold[p + j] = S
            elif j == 0:
                gold[p + j] = B
            elif j == ln - 1:
                gold[p + j] = E
            else:
                gold[p + j] = M


def _dict_features_all_impl(x, offsets, keys, vals, unk, lb, le, lm, dp):
    cont = np.zeros(x.shape[0] + 1, dtype=np.bool_)
    for q in prange(offsets.shape[0] - 1):
        s, e = offsets[q], offsets[q + 1]
        n = e - s
        best = np.empty(n + 1, dtype=np.float64)
        back = np.empty(n + 1, dtype=np.int64)
        _dict_features(x, s, e, keys, vals, unk, cont, s, lb[s:e], le[s:e], lm[s:e], dp[s:e], best, back)


_dict_features_all, _dict_features_all_par = serial_and_parallel(_dict_features_all_impl)
_dict_features_all.__doc__ = _dict_features_all_par.__doc__ = """Dictionary features of every piece
``x[offsets[q]:offsets[q+1]]`` into the int8 (n,) arrays lb, le, lm, dp (see :func:`_dict_features`)."""


@njit
def _train_pass(x, offsets, gold, lb, le, lm, dp, n_feat, nbits, W, U, trans, transU, step):
    """One averaged-perceptron pass over the samples ``x[offsets[q]:offsets[q+1]]``, in order.

    Parameters
    ----------
    x : int32 (n,), gold : int8 (n,) gold tags; lb, le, lm, dp : int8 (n,) dictionary features.
    offsets : int64 (n_samples + 1,).
    n_feat, nbits : see :func:`_features`.
    W : int32 (2**nbits, 4), trans : int32 (4, 4) current weights, updated in place.
    U : int64 (2**nbits, 4), transU : int64 (4, 4) step-weighted update sums (averaging trick).
    step : int64, the number of samples seen before this pass.

    Returns
    -------
    (step, mistakes) : int64, the new step count and the number of samples decoded wrongly.

    Notes
    -----
    Collins (2002) structured perceptron; averaged weights are ``W - U / step`` (Daumé's trick).
    """
    maxn = 0
    for q in range(offsets.shape[0] - 1):
        maxn = max(maxn, offsets[q + 1] - offsets[q])
    feats = np.empty((maxn, n_feat), dtype=np.int64)
    score = np.empty((maxn, 4), dtype=np.float64)
    back = np.empty((maxn, 4), dtype=np.int8)
    tags = np.empty(maxn, dtype=np.int8)
    cont_any = np.zeros(maxn + 1, dtype=np.bool_)
    mistakes = 0
    for q in range(offsets.shape[0] - 1):
        s, e = offsets[q], offsets[q + 1]
        n = e - s
        step += 1
        if n == 0:
            continue
        _features(x, s, e, lb[s:e], le[s:e], lm[s:e], dp[s:e], n_feat, nbits, feats)
        _viterbi(feats, n, W, trans, cont_any, 0, score, back, tags)
        wrong = False
        for i in range(n):
            g = gold[s + i]
            p = tags[i]
            if g != p:
                wrong = True
                for k in range(n_feat):
                    f = feats[i, k]
                    W[f, g] += 1
                    W[f, p] -= 1
                    U[f, g] += step
                    U[f, p] -= step
            if i > 0:
                g0 = gold[s + i - 1]
                p0 = tags[i - 1]
                if g0 != p0 or g != p:
                    trans[g0, g] += 1
                    trans[p0, p] -= 1
                    transU[g0, g] += step
                    transU[p0, p] -= step
        if wrong:
            mistakes += 1
    return step, mistakes


# ----------------------------------------------------------------------------------------------
# decoding


@njit
def _piece_features(x, s, e, cont, keys, vals, unk, n_feat, nbits):
    """The int64 (e - s, n_feat) feature ids of the piece ``x[s:e]``: the dictionary features
    (when ``n_feat`` has them) and the hashed n-grams, as training computes them."""
    n = e - s
    lb = np.empty(n, dtype=np.int8)
    le = np.empty(n, dtype=np.int8)
    lm = np.empty(n, dtype=np.int8)
    dp = np.empty(n, dtype=np.int8)
    if n_feat > N_NGRAM:
        best = np.empty(n + 1, dtype=np.float64)
        back = np.empty(n + 1, dtype=np.int64)
        _dict_features(x, s, e, keys, vals, unk, cont, s, lb, le, lm, dp, best, back)
    feats = np.empty((n, n_feat), dtype=np.int64)
    _features(x, s, e, lb, le, lm, dp, n_feat, nbits, feats)
    return feats


def _decode_impl(x, offsets, cont, keys, vals, unk, n_feat, nbits, W, trans, tags):
    for q in prange(offsets.shape[0] - 1):
        s, e = offsets[q], offsets[q + 1]
        n = e - s
        if n == 0:
            continue
        feats = _piece_features(x, s, e, cont, keys, vals, unk, n_feat, nbits)
        score = np.empty((n, 4), dtype=np.float64)
        bk = np.empty((n, 4), dtype=np.int8)
        _viterbi(feats, n, W, trans, cont, s, score, bk, tags[s:e])


_decode, _decode_par = serial_and_parallel(_decode_impl)
_decode.__doc__ = _decode_par.__doc__ = """Tag every piece ``x[offsets[q]:offsets[q+1]]`` into the int8
(n,) array ``tags`` with the dictionary features, the hashed n-grams and Viterbi (``cont`` as in
:func:`_viterbi`, indexed globally). The parallel build gives the same tags: each piece writes
only its own slice."""


def _emissions_impl(x, offsets, cont, keys, vals, unk, n_feat, nbits, W, em):
    for q in prange(offsets.shape[0] - 1):
        s, e = offsets[q], offsets[q + 1]
        n = e - s
        if n == 0:
            continue
        feats = _piece_features(x, s, e, cont, keys, vals, unk, n_feat, nbits)
        for i in range(n):
            for t in range(4):
                acc = 0.0
                for k in range(n_feat):
                    acc += np.float64(W[feats[i, k], t])  # float64 sums with the JIT off too
                em[s + i, t] = acc


_emissions, _emissions_par = serial_and_parallel(_emissions_impl)
_emissions.__doc__ = _emissions_par.__doc__ = """Emission scores ``em[i, t]`` (float64 (n, 4), filled in place):
the summed weights of character i's features for tag t, per piece ``x[offsets[q]:offsets[q+1]]``, the
same sums :func:`_viterbi` adds up (arguments as :func:`_decode`)."""


@njit
def _lse(a, b):
    """ln(e^a + e^b), exact when either is -inf."""
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + np.log1p(np.exp(b - a))
    return b + np.log1p(np.exp(a - b))


@njit
def _forward_backward(em, s, n, trans, cont, inv_theta, alpha, beta, out):
    """Boundary marginals of one piece under the BMES linear chain with scores divided by θ.

    Parameters
    ----------
    em : float64 (N, 4) emission scores; the piece is rows ``s .. s+n-1``.
    trans : float (4, 4) transition weights (previous, next).
    cont : bool (N,) ``cont[s + i]`` True: character i may not start a word (tag M or E), i > 0.
    inv_theta : float, 1/θ.
    alpha, beta : float64 (>= n, 4) scratch.
    out : float64 (N,) output: ``out[s + i]`` = P(y_i ∈ {E, S}), the probability of a boundary after
        character i (1 for the last character).

    Returns
    -------
    float, log Z (of the scaled scores).

    Notes
    -----
    ALGORITHMS-2 §5.2: α_1 = π + U_1, α_i(y) = U_i(y) + LSE_{y'} α_{i-1}(y') + T(y', y);
    β_n(y) = 0 for E, S (−inf for B, M), β_i(y) = LSE_{y'} T(y, y') + U_{i+1}(y') + β_{i+1}(y').
    Forbidden pairs, a start in M/E, an end in B/M and B/S on a ``cont`` character get −inf,
    exactly the paths :func:`_viterbi` maximises over.
    """
    for t in range(4):
        alpha[0, t] = em[s, t] * inv_theta if (t == B or t == S) else -np.inf
    for i in range(1, n):
        for t in range(4):
            if cont[s + i] and (t == B or t == S):
                alpha[i, t] = -np.inf
                continue
            acc = -np.inf
            for p in range(4):
                if ALLOWED[p, t]:
                    acc = _lse(acc, alpha[i - 1, p] + trans[p, t] * inv_theta)
            alpha[i, t] = acc + em[s + i, t] * inv_theta
    for t in range(4):
        beta[n - 1, t] = 0.0 if (t == E or t == S) else -np.inf
    for i in range(n - 2, -1, -1):
        for t in range(4):
            acc = -np.inf
            for nx in range(4):
                if ALLOWED[t, nx] and not (cont[s + i + 1] and (nx == B or nx == S)):
                    acc = _lse(acc, trans[t, nx] * inv_theta + em[s + i + 1, nx] * inv_theta + beta[i + 1, nx])
            beta[i, t] = acc
    logz = _lse(alpha[n - 1, E], alpha[n - 1, S])
    for i in range(n):
        pe = alpha[i, E] + beta[i, E] - logz
        ps = alpha[i, S] + beta[i, S] - logz
        v = (np.exp(pe) if pe > -np.inf else 0.0) + (np.exp(ps) if ps > -np.inf else 0.0)
        out[s + i] = min(1.0, v)
    return logz


def _marginals_impl(em, offsets, cont, trans, inv_theta, out):
    for q in prange(offsets.shape[0] - 1):
        s, e = offsets[q], offsets[q + 1]
        n = e - s
        if n == 0:
            continue
        alpha = np.empty((n, 4), dtype=np.float64)
        beta = np.empty((n, 4), dtype=np.float64)
        _forward_backward(em, s, n, trans, cont, inv_theta, alpha, beta, out)


_marginals, _marginals_par = serial_and_parallel(_marginals_impl)
_marginals.__doc__ = _marginals_par.__doc__ = """Boundary marginals (float64 (n,) ``out``, in place) of every
piece ``offsets[q]:offsets[q+1]`` from the emissions ``em`` (see :func:`_forward_backward`). Each piece
writes only its own slice, so the parallel build gives the same numbers."""


def _dp_impl(x, offsets, cont, keys, vals, unk, tags):
    for q in prange(offsets.shape[0] - 1):
        s, e = offsets[q], offsets[q + 1]
        n = e - s
        if n == 0:
            continue
        lb = np.empty(n, dtype=np.int8)
        le = np.empty(n, dtype=np.int8)
        lm = np.empty(n, dtype=np.int8)
        best = np.empty(n + 1, dtype=np.float64)
        back = np.empty(n + 1, dtype=np.int64)
        _dict_features(x, s, e, keys, vals, unk, cont, s, lb, le, lm, tags[s:e], best, back)


_dp, _dp_par = serial_and_parallel(_dp_impl)
_dp.__doc__ = _dp_par.__doc__ = """Dictionary-only (unigram DP) tags of every piece, for comparison."""


# ----------------------------------------------------------------------------------------------
# dictionaries


def _pack(words):
    """Normalised code points of ``words`` as CSR ``(codes int32, offsets int64)``."""
    lens = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    raw = _codes("".join(words))
    return normalize_codes(raw), offsets, raw


def prepare_dictionary(words, counts):
    """Clean and normalise a word-frequency dictionary for training.

    Words with whitespace or punctuation (which the segmenter never tags) are dropped; words that
    fold to the same normalised form (``１９９８年`` and ``2001年`` -> ``0000年``) are merged,
    adding their counts. Returns ``(norm_words, counts)`` sorted by normalised word.
    """
    if len(words) == 0:
        raise TextmineError("the dictionary is empty")
    codes, offsets, raw = _pack(list(words))
    kinds = np.zeros(len(raw), dtype=np.uint8)
    bmp = raw < 0x10000
    kinds[bmp] = _char_kinds()[raw[bmp]]
    bad_char = (kinds == _KIND_SPACE) | (kinds == _KIND_PUNCT) | (kinds == _KIND_NEWLINE)
    bad_word = np.zeros(len(words), dtype=bool)
    if bad_char.any():
        owner = np.searchsorted(offsets, np.flatnonzero(bad_char), side="right") - 1
        bad_word[owner] = True
    norm_text = codes.astype(np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    merged = {}
    for w, (a, b), c, bad in zip(words, zip(offsets[:-1], offsets[1:]), counts, bad_word):
        if bad or a == b:
            continue
        key = norm_text[a:b]
        merged[key] = merged.get(key, 0.0) + float(c)
    if not merged:
        raise TextmineError("the dictionary has no usable word (every entry is punctuation or whitespace)")
    keys = sorted(merged)
    vals = np.array([merged[k] for k in keys], dtype=np.float64)
    if not (vals > 0).any():
        raise TextmineError("every frequency in the dictionary is 0; a frequency dictionary is needed")
    return keys, vals


def _logp(counts):
    pos = counts[counts > 0]
    total = float(counts.sum())
    floor = float(pos.min())
    logp = np.log(np.maximum(counts, floor) / total)
    return logp, math.log(floor / total)


def synthesize(words, counts, n_samples, rng, maxlen=MAXLEN, maxwords=MAXWORDS):
    """Draw synthetic training text from a dictionary (kexue.fm 4245).

    Parameters
    ----------
    words : list of str (normalised); counts : float64 (n_words,) sampling weights.
    n_samples : int, samples to draw before dropping those longer than ``maxlen``.
    rng : numpy.random.Generator.

    Returns
    -------
    (x, gold, offsets) : int32 (n,) codes, int8 (n,) B/M/E/S tags, int64 (n_kept + 1,) sample offsets.
    """
    codes, woff, _ = _pack(words)
    wlen = np.diff(woff)
    cum = np.cumsum(counts, dtype=np.float64)
    nw = rng.integers(1, maxwords + 1, size=n_samples)
    total = int(nw.sum())
    idx = np.searchsorted(cum, rng.random(total) * cum[-1], side="right")
    idx = np.minimum(idx, len(words) - 1).astype(np.int64)
    sample_of = np.repeat(np.arange(n_samples), nw)
    slen = np.bincount(sample_of, weights=wlen[idx], minlength=n_samples).astype(np.int64)
    keep = slen <= maxlen
    tok_keep = keep[sample_of]
    idx = idx[tok_keep]
    slen = slen[keep]
    starts = np.zeros(len(idx), dtype=np.int64)
    if len(idx):
        np.cumsum(wlen[idx][:-1], out=starts[1:])
    offsets = np.zeros(len(slen) + 1, dtype=np.int64)
    np.cumsum(slen, out=offsets[1:])
    x = np.empty(int(offsets[-1]), dtype=np.int32)
    gold = np.empty(int(offsets[-1]), dtype=np.int8)
    _sample_stream(codes, woff, idx, starts, x, gold)
    return x, gold, offsets


# ----------------------------------------------------------------------------------------------
# the model


class SegmenterModel:
    """A trained dictionary-only segmenter: weights, transitions and the (normalised) dictionary.

    Use :func:`train_segmenter` to make one and :func:`load_model` to read one; ``cut`` and
    ``segment_lines`` segment text.
    """

    def __init__(self, weights, trans, words, logp, unk, features="ngram", nbits=22,
                 params=None, stats=None, n_jobs=1, temperature=None):
        self.weights_ = np.ascontiguousarray(weights, dtype=np.float32)
        self.trans_ = np.ascontiguousarray(trans, dtype=np.float32)
        self.words_ = list(words)
        self.logp_ = np.ascontiguousarray(logp, dtype=np.float64)
        self.unk_ = float(unk)
        self.features = features
        self.nbits = int(nbits)
        self.params = dict(params or {})
        self.stats = dict(stats or {})
        self.n_jobs = n_jobs
        self.temperature_ = None if temperature is None else float(temperature)
        codes, off, _ = _pack(self.words_)
        self._keys, self._vals = build_table(codes, off, self.logp_)
        self._n_feat = FEATURE_SETS[features]

    # -- segmentation -------------------------------------------------------------------------
    @staticmethod
    def _split(text):
        """``text`` cut for the tagger: ``(raw, x, kind, cont, brk, text_k, starts, ends)``, with
        ``brk`` the token-start mask outside the tagger pieces, ``text_k`` the mask of characters
        the tagger decides, and ``[starts[q], ends[q])`` its pieces (maximal runs of them)."""
        raw = _codes(text)
        x = normalize_codes(raw)
        kind, cont = _classify(raw, x)
        n = len(raw)
        brk = np.ones(n, dtype=bool)
        if n > 1:
            # whitespace runs and runs of one repeated punctuation mark are single tokens
            k0, k1 = kind[:-1], kind[1:]
            brk[1:] = (k1 != k0) | (k1 == _KIND_NEWLINE) | ((k1 == _KIND_PUNCT) & (raw[1:] != raw[:-1]))
        text_k = kind == _KIND_TEXT
        prev_text = np.concatenate(([False], text_k[:-1]))
        next_text = np.concatenate((text_k[1:], [False]))
        starts = np.flatnonzero(text_k & ~prev_text)
        ends = np.flatnonzero(text_k & ~next_text) + 1
        return raw, x, kind, cont, brk, text_k, starts, ends

    def _tag(self, text, mode="model"):
        """Token-start mask (bool, one per character), character kinds and code points of ``text``."""
        raw, x, kind, cont, brk, text_k, starts, ends = self._split(text)
        if len(starts):
            tags = np.full(len(raw), S, dtype=np.int8)
            self._decode_csr(x, starts, ends, cont, tags, mode)
            t = tags[text_k]
            brk[text_k] = (t == B) | (t == S)
        return brk, kind, raw

    @staticmethod
    def _compact(x, starts, ends, cont):
        """A compact CSR copy of the pieces ``[starts[q], ends[q])``: ``(sel, off, px, pc)``."""
        lens = ends - starts
        off = np.zeros(len(starts) + 1, dtype=np.int64)
        np.cumsum(lens, out=off[1:])
        sel = np.repeat(starts - off[:-1], lens) + np.arange(off[-1], dtype=np.int64)
        return sel, off, np.ascontiguousarray(x[sel]), np.ascontiguousarray(cont[sel])

    def _decode_csr(self, x, starts, ends, cont, tags, mode):
        # build a compact copy of the pieces so the kernel sees a plain CSR list
        sel, off, px, pc = self._compact(x, starts, ends, cont)
        pt = np.empty(len(px), dtype=np.int8)
        parallel = self.n_jobs > 1 and len(starts) > 1
        if parallel:
            set_num_threads(self.n_jobs)
        if mode == "dict":
            (_dp_par if parallel else _dp)(px, off, pc, self._keys, self._vals, self.unk_, pt)
        else:
            (_decode_par if parallel else _decode)(px, off, pc, self._keys, self._vals, self.unk_,
                                                   self._n_feat, self.nbits, self.weights_, self.trans_, pt)
        tags[sel] = pt

    def segment_text(self, text, mode="model"):
        """Tokens of ``text`` (a string, newlines allowed); they concatenate back to ``text``."""
        if not text:
            return []
        brk, _, raw = self._tag(text, mode)
        return _split_tokens(text, raw, np.flatnonzero(brk))

    def segment_lines(self, lines, mode="model"):
        """Segment each line; returns one word list per line (the words concatenate to the line).

        Whitespace runs are returned as tokens of their own (as jieba does); a line must not contain
        a newline. ``mode="dict"`` uses the dictionary DP alone (for comparison).
        """
        lines = list(lines)
        if not lines:
            return []
        text = "\n".join(lines)
        if text.count("\n") != len(lines) - 1:
            raise TextmineError("segment_lines: a line contains a newline character")
        if mode not in ("model", "dict"):
            raise TextmineError(f"unknown mode {mode!r}; use 'model' or 'dict'")
        if not text:
            return [[] for _ in lines]
        brk, kind, raw = self._tag(text, mode)
        starts = np.flatnonzero(brk)
        toks = _split_tokens(text, raw, starts)
        out, prev = [], 0
        for k in np.flatnonzero(kind[starts] == _KIND_NEWLINE).tolist():
            out.append(toks[prev:k])
            prev = k + 1
        out.append(toks[prev:])
        return out

    def cut(self, line):
        """Words of one line (list of str)."""
        return self.segment_text(line)

    # -- confidence ---------------------------------------------------------------------------
    def _piece_emissions(self, text):
        """Emission scores of the tagger pieces of ``text``: ``(sel, off, pc, em, brk)`` with ``sel``
        the text position of each piece character, ``em`` float64 (len(sel), 4) and ``brk`` the
        token-start mask outside the pieces (as :meth:`_tag`)."""
        _, x, _, cont, brk, _, starts, ends = self._split(text)
        sel, off, px, pc = self._compact(x, starts, ends, cont)
        em = np.zeros((len(px), 4), dtype=np.float64)
        parallel = self.n_jobs > 1 and len(starts) > 1
        if parallel:
            set_num_threads(self.n_jobs)
        if len(px):
            (_emissions_par if parallel else _emissions)(px, off, pc, self._keys, self._vals, self.unk_,
                                                         self._n_feat, self.nbits, self.weights_, em)
        return sel, off, pc, em, brk

    def _piece_marginals(self, off, pc, em, temperature):
        out = np.ones(len(pc), dtype=np.float64)
        if len(pc):
            parallel = self.n_jobs > 1 and len(off) > 2
            (_marginals_par if parallel else _marginals)(em, off, pc, self.trans_.astype(np.float64),
                                                         1.0 / temperature, out)
        return out

    def _temperature(self, temperature):
        t = self.temperature_ if temperature is None else temperature
        if t is None:
            raise TextmineError("the model has no fitted temperature, so its scores are no probabilities: "
                                "retrain it with this textmine (train-segmenter fits one on held-out data) "
                                "or give --temperature")
        if not (t > 0 and math.isfinite(t)):
            raise TextmineError(f"the temperature must be a finite number > 0, not {t!r}")
        return float(t)

    def marginals_lines(self, lines, temperature=None):
        """Probability of a token boundary after each character of each line (one float64 array
        of ``len(line)`` per line).

        Inside a tagger piece it is P(y_i ∈ {E, S}) under the linear chain whose path scores are
        the perceptron's scores divided by the temperature θ (:func:`_forward_backward`); outside
        (whitespace, punctuation) it is the fixed 0/1 of :meth:`segment_lines`. ``temperature``
        defaults to the model's fitted ``temperature_`` (see :func:`fit_temperature`).
        """
        theta = self._temperature(temperature)
        lines = list(lines)
        if not lines:
            return []
        text = "\n".join(lines)
        if text.count("\n") != len(lines) - 1:
            raise TextmineError("marginals_lines: a line contains a newline character")
        if not text:
            return [np.zeros(0) for _ in lines]
        sel, off, pc, em, brk = self._piece_emissions(text)
        p = np.ones(len(text), dtype=np.float64)
        p[:-1] = brk[1:]
        p[sel] = self._piece_marginals(off, pc, em, theta)
        out, pos = [], 0
        for ln in lines:
            out.append(p[pos:pos + len(ln)].copy())
            pos += len(ln) + 1
        return out

    def marginals(self, line, temperature=None):
        """Boundary marginals of one line (see :meth:`marginals_lines`)."""
        return self.marginals_lines([line], temperature)[0]

    @property
    def uses_dictionary(self):
        """True when the model has dictionary features (a user word's frequency can tune it)."""
        return self._n_feat > N_NGRAM

    def with_words(self, weighted):
        """A copy whose dictionary also holds the words of ``weighted`` (word -> frequency > 0),
        a frequency of 1 meaning the probability of the dictionary's rarest word; a word already
        there takes the new value. Words with whitespace or punctuation are skipped (the tagger
        never sees them inside a piece)."""
        if not weighted:
            return self
        floor = float(self.logp_.min()) if len(self.logp_) else self.unk_
        words, freqs = list(weighted), np.asarray(list(weighted.values()), dtype=np.float64)
        try:
            norm, counts = prepare_dictionary(words, freqs)
        except TextmineError:  # every word holds punctuation: nothing for the dictionary features
            return self
        merged = dict(zip(self.words_, self.logp_.tolist()))
        for w, c in zip(norm, counts.tolist()):
            merged[w] = min(0.0, floor + math.log(c))
        keys = sorted(merged)
        return SegmenterModel(self.weights_, self.trans_, keys, np.array([merged[k] for k in keys]), self.unk_,
                              self.features, self.nbits, self.params, self.stats, n_jobs=self.n_jobs,
                              temperature=self.temperature_)

    # -- persistence --------------------------------------------------------------------------
    def save(self, path):
        """Write the model as a zip archive in ``.npz`` layout with a ``meta.json`` member."""
        from textmine.formats import atomic_output

        rows = np.flatnonzero(np.any(self.weights_ != 0, axis=1)).astype(np.int64)
        arrays = {
            "rows": rows,
            "weights": self.weights_[rows],
            "trans": self.trans_,
            "dict_text": np.frombuffer("\n".join(self.words_).encode("utf-8"), dtype=np.uint8),
            "dict_logp": self.logp_,
        }
        meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "textmine_version": __version__,
            "tags": TAGS, "features": self.features, "nbits": self.nbits, "unk_logp": self.unk_,
            "n_words": len(self.words_), "maxw": MAXW, "cap": CAP, "temperature": self.temperature_,
            "params": self.params, "stats": _strip_timings(self.stats),
            "arrays": {k: [str(v.dtype), list(v.shape)] for k, v in arrays.items()},
        }
        with atomic_output(path, "wb") as f:
            # not ``with ZipFile``: after a failed write (a full disk) its close would write the
            # central directory on top, and fail again with an error that hides the first one
            z = zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED)
            try:
                # fixed member dates, so that the same training gives the same bytes
                z.writestr(_member("meta.json"), json.dumps(meta, ensure_ascii=False, indent=1))
                for k, v in arrays.items():
                    with z.open(_member(k + ".npy"), "w", force_zip64=True) as m:
                        np.lib.format.write_array(m, np.ascontiguousarray(v), allow_pickle=False)
            except BaseException:
                z.fp = None  # its close (also from __del__) then writes nothing
                raise
            z.close()
        return path


def _split_tokens(text, raw, starts):
    """``text`` cut before each index in ``starts`` (sorted, ``starts[0] == 0``).

    Fast path: a NUL is inserted before each token and the string is split in C; a text that itself
    contains NUL is sliced in Python instead.
    """
    if "\x00" in text:
        bounds = starts.tolist() + [len(text)]
        return [text[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    buf = np.insert(raw, starts[1:], np.uint32(0))
    return buf.tobytes().decode("utf-32-le", "surrogatepass").split("\x00")


def _member(name):
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _strip_timings(stats):
    """Statistics without wall-clock times (which would make saved models differ run to run)."""
    if isinstance(stats, dict):
        return {k: _strip_timings(v) for k, v in stats.items() if "seconds" not in k}
    if isinstance(stats, list):
        return [_strip_timings(v) for v in stats]
    return stats


def load_model(path, n_jobs=1):
    """Read a model written by :meth:`SegmenterModel.save`.

    Raises :class:`TextmineError` for a missing, corrupt or foreign file and for a model of
    another format version.
    """
    if not os.path.exists(path):
        raise TextmineError(f"{path}: model file does not exist")
    if os.path.isdir(path):
        raise TextmineError(f"{path}: is a directory, not a model file")
    try:
        with zipfile.ZipFile(path) as z:
            try:
                meta = json.loads(z.read("meta.json").decode("utf-8"))
            except KeyError:
                raise TextmineError(f"{path}: not a textmine segmenter model (no meta.json)") from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise TextmineError(f"{path}: not a textmine segmenter model")
            if meta.get("format_version") != FORMAT_VERSION:
                raise TextmineError(
                    f"{path}: model format version {meta.get('format_version')} (textmine "
                    f"{meta.get('textmine_version')}); this textmine reads version {FORMAT_VERSION}: "
                    "retrain it with 'textmine train-segmenter'")
            arrays = {}
            for k in ("rows", "weights", "trans", "dict_text", "dict_logp"):
                with z.open(k + ".npy") as m:
                    arrays[k] = np.lib.format.read_array(m, allow_pickle=False)
    except TextmineError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, UnicodeDecodeError,
            json.JSONDecodeError) as e:
        raise TextmineError(f"{path}: corrupt or unreadable model file ({type(e).__name__}: {e})") from None
    try:
        nbits = int(meta["nbits"])
        features = meta["features"]
        rows, w = arrays["rows"], arrays["weights"]
        if features not in FEATURE_SETS or not 8 <= nbits <= 30 or w.shape != (len(rows), 4) \
                or arrays["trans"].shape != (4, 4) or (len(rows) and (rows.min() < 0 or rows.max() >= 1 << nbits)):
            raise ValueError("inconsistent arrays")
        weights = np.zeros((1 << nbits, 4), dtype=np.float32)
        weights[rows] = w
        words = arrays["dict_text"].tobytes().decode("utf-8").split("\n")
        if len(words) != len(arrays["dict_logp"]) or len(words) != meta["n_words"]:
            raise ValueError("dictionary size mismatch")
        temperature = meta.get("temperature")
        if temperature is not None and not (isinstance(temperature, (int, float)) and temperature > 0
                                            and math.isfinite(temperature)):
            raise ValueError(f"temperature {temperature!r}")
        return SegmenterModel(weights, arrays["trans"], words, arrays["dict_logp"], meta["unk_logp"],
                              features, nbits, meta.get("params"), meta.get("stats"), n_jobs=n_jobs,
                              temperature=temperature)
    except (KeyError, ValueError, TypeError, UnicodeDecodeError) as e:
        raise TextmineError(f"{path}: corrupt model file ({e})") from None


def _kept_dictionary(norm_words, norm_counts, logp, unk, keep, kept_logp):
    """Hash table ``(keys, vals)`` and unknown-word log-probability of the words where ``keep``.

    ``kept_logp`` picks the arithmetic (both kept, so that models stay bit for bit what they were):
    ``"logp"`` renormalises ``exp(logp)`` over the kept words (a zero count keeps its floored
    log-probability) and floors ``unk`` at the least positive kept count; ``"counts"`` takes
    ``log(count / kept total)`` and the least kept count (gold training; a zero count, possible in
    an extra dictionary, is floored at the least positive kept count). The two agree up to
    rounding (about 1e-15) when every count is positive.
    """
    kd = norm_counts[keep]
    if kept_logp == "logp":
        sub_logp = logp[keep]
        sub_logp = np.log(np.exp(sub_logp) / np.exp(sub_logp).sum()) if keep.any() else sub_logp
        sub_unk = math.log(float(kd[kd > 0].min()) / float(kd.sum())) if (kd > 0).any() else unk
    else:
        pos = kd > 0
        if pos.any():
            # a zero count (an extra dictionary word) is floored at the least positive kept count,
            # as _logp floors; with every count > 0 this is exactly log(kd / kd.sum())
            floor = kd[pos].min()
            sub_logp = np.log(np.maximum(kd, floor) / kd.sum())
            sub_unk = math.log(float(floor) / float(kd.sum()))
        else:
            sub_logp, sub_unk = logp[keep], unk
    kcodes, koff, _ = _pack([w for w, k in zip(norm_words, keep) if k])
    keys, vals = build_table(kcodes, koff, sub_logp)
    return keys, vals, sub_unk


def _train_perceptron(draw, norm_words, norm_counts, logp, unk, epochs, dropout, features, nbits,
                      random_state, n_jobs, progress, params, kept_logp):
    """The averaged-perceptron training loop shared by :func:`train_segmenter` and
    :func:`train_segmenter_gold`.

    Each epoch takes its pieces from ``draw(rng)`` -> ``(x, gold, offsets)`` (synthetic samples or
    the gold pieces shuffled), then, for dictionary features, hides a ``dropout`` share of the words
    (one ``rng.random`` draw per word, after ``draw``) and runs one perceptron pass. ``kept_logp``:
    see :func:`_kept_dictionary`. Returns the :class:`SegmenterModel` with the averaged weights.
    """
    import time

    rng = np.random.default_rng(random_state)
    n_feat = FEATURE_SETS[features]
    W = np.zeros((1 << nbits, 4), dtype=np.int32)
    U = np.zeros((1 << nbits, 4), dtype=np.int64)
    trans = np.zeros((4, 4), dtype=np.int32)
    transU = np.zeros((4, 4), dtype=np.int64)
    step = 0
    parallel = n_jobs > 1
    if parallel:
        set_num_threads(n_jobs)
    stats = {"epochs": []}
    t_start = time.perf_counter()
    for ep in range(epochs):
        t0 = time.perf_counter()
        x, gold, off = draw(rng)
        n = len(x)
        lb = np.zeros(n, dtype=np.int8)
        le = np.zeros(n, dtype=np.int8)
        lm = np.zeros(n, dtype=np.int8)
        dp = np.zeros(n, dtype=np.int8)
        if n_feat > N_NGRAM:
            keep = rng.random(len(norm_words)) >= dropout
            keys, vals, sub_unk = _kept_dictionary(norm_words, norm_counts, logp, unk, keep, kept_logp)
            (_dict_features_all_par if parallel else _dict_features_all)(
                x, off, keys, vals, sub_unk, lb, le, lm, dp)
        step, mistakes = _train_pass(x, off, gold, lb, le, lm, dp, n_feat, nbits, W, U, trans, transU, step)
        info = {"epoch": ep + 1, "samples": len(off) - 1, "chars": n,
                "sample_error_rate": mistakes / max(1, len(off) - 1),
                "seconds": round(time.perf_counter() - t0, 2)}
        stats["epochs"].append(info)
        if progress is not None:
            progress(ep + 1, info)
    avg = (W - U / float(max(step, 1))).astype(np.float32)
    avg_trans = (trans - transU / float(max(step, 1))).astype(np.float32)
    stats["train_seconds"] = round(time.perf_counter() - t_start, 2)
    return SegmenterModel(avg, avg_trans, norm_words, logp, unk, features, nbits, params, stats, n_jobs=n_jobs)


def train_segmenter(words, counts, epochs=5, n_samples=400_000, dropout=0.15, features="ngram",
                    nbits=22, random_state=1, n_jobs=1, progress=None):
    """Train a segmenter from a word-frequency dictionary alone.

    Parameters
    ----------
    words : list of str; counts : sequence of float, the frequencies (at least one > 0).
    epochs : int, passes; each pass draws ``n_samples`` fresh synthetic samples.
    n_samples : int, samples drawn per pass (those longer than 48 characters are dropped).
    dropout : float in [0, 1), share of dictionary words hidden from the dictionary features in
        each pass (a fresh draw per pass), so that the tagger learns to find unknown words.
    features : ``"ngram"`` (character n-grams only; default), ``"ngram+dict"`` (the hybrid:
        n-grams, dictionary match lengths and the dictionary-DP tag) or ``"ngram+match"``
        (n-grams and match lengths). The hybrid follows the dictionary's own word boundaries
        more closely (best when the dictionary shares the target's segmentation standard); the
        n-gram tagger cannot memorise long dictionary entries and segments finer.
    nbits : int, the hashed weight table has ``2**nbits`` rows.
    random_state : int seed; the model depends only on it and the other parameters, not on
        ``n_jobs``.
    n_jobs : int, threads for the dictionary features (the perceptron pass is serial).
    progress : callable(epoch, stats) or None.

    Returns
    -------
    SegmenterModel

    Notes
    -----
    kexue.fm 4245 (docs/algorithms.md §3.2) for the synthesis; averaged structured perceptron
    (Collins 2002) instead of the post's BiLSTM, so that training runs on a CPU in minutes.

    Examples
    --------
    >>> m = train_segmenter(["中国", "人民", "的"], [5, 3, 8], epochs=1, n_samples=500, nbits=12)
    >>> m.cut("中国人民的")
    ['中国', '人民', '的']
    """
    if features not in FEATURE_SETS:
        raise TextmineError(f"features must be one of {', '.join(FEATURE_SETS)}, not {features!r}")
    if not 0 <= dropout < 1:
        raise TextmineError(f"dropout must be in [0, 1), got {dropout}")
    if epochs < 1 or n_samples < 1:
        raise TextmineError("epochs and the number of samples must be >= 1")
    if not 8 <= nbits <= 30:
        raise TextmineError("nbits must be between 8 and 30")
    if len(words) != len(counts):
        raise TextmineError("words and counts differ in length")
    norm_words, norm_counts = prepare_dictionary(words, np.asarray(counts, dtype=np.float64))
    logp, unk = _logp(norm_counts)
    params = {"epochs": epochs, "n_samples": n_samples, "dropout": dropout, "features": features,
              "nbits": nbits, "seed": random_state, "maxlen": MAXLEN, "maxwords": MAXWORDS}
    model = _train_perceptron(lambda rng: synthesize(norm_words, norm_counts, n_samples, rng),
                              norm_words, norm_counts, logp, unk, epochs, dropout, features, nbits,
                              random_state, n_jobs, progress, params, kept_logp="logp")
    # the marginals' temperature, fitted on fresh synthetic samples (the weights are unchanged)
    rng = np.random.default_rng(None if random_state is None else [random_state, 1])
    calib = _fit_synthetic(model, norm_words, norm_counts, min(max(n_samples // 10, 2_000), 20_000), rng)
    model.temperature_ = calib["temperature"]
    model.stats["calibration"] = calib
    return model


# ----------------------------------------------------------------------------------------------
# training from gold segmented text


def read_gold(path, encoding="utf-8", lines=None):
    """Sentences of a gold segmented file: one sentence per line, words separated by whitespace
    (spaces, tabs, U+3000 full-width spaces); an empty line is skipped.

    Parameters
    ----------
    path : str, the file (``-`` for stdin); used in messages when ``lines`` is given.
    encoding : str; a UTF-8 BOM is dropped; CRLF line ends are accepted.
    lines : iterable of str or None, the file's lines when already read.

    Returns
    -------
    list of list of str

    Raises
    ------
    TextmineError
        ``FILE:LINE`` for a line that holds only whitespace (a broken separator) and for a word
        longer than ``MAX_GOLD_WORD`` characters; also for an unreadable or empty file.
    """
    if lines is None:
        import codecs
        import sys

        from textmine.corpus import ReadOptions, _binary_error, _encoding_hint, split_lines

        opts = ReadOptions(encoding, errors_option="")  # train-segmenter has no --errors
        opts.check()
        try:
            if path == "-":
                raw = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as f:
                    raw = f.read()
        except FileNotFoundError:
            raise TextmineError(f"{path}: gold file does not exist") from None
        except IsADirectoryError:
            raise TextmineError(f"{path}: is a directory, not a gold file") from None
        except OSError as e:
            raise TextmineError(f"{path}: cannot read ({e.strerror or e})") from None
        if opts.ascii_compatible and b"\x00" in raw:  # UTF-16/32 or not text at all
            raise _binary_error(path, raw, 0, raw.index(b"\x00"), opts)
        bom = 3 if codecs.lookup(encoding).name == "utf-8" and raw.startswith(codecs.BOM_UTF8) else 0
        try:
            lines = split_lines(raw[bom:].decode(encoding))  # line numbers as the error below counts them
        except UnicodeDecodeError as e:
            e.start += bom
            line = raw.count(b"\n", 0, e.start) + 1
            raise TextmineError(f"{path}:{line}: cannot decode byte 0x{raw[e.start]:02x} at offset {e.start} "
                                f"as {encoding}; " + _encoding_hint(opts)) from None
        del raw
    out = []
    for k, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line:
            continue
        words = line.split()
        if not words:
            raise TextmineError(f"{path}:{k}: the line holds only whitespace (spaces, tabs or full-width "
                                "spaces); a gold line needs at least one word (remove the line)")
        for w in words:
            if len(w) > MAX_GOLD_WORD:
                raise TextmineError(f"{path}:{k}: word {w[:20]!r}... is {len(w)} characters long; the tagger "
                                    f"learns words of at most {MAX_GOLD_WORD} characters (split it)")
        out.append(words)
    if not out:
        raise TextmineError(f"{path}: the gold file has no sentence")
    return out


def gold_pieces(sentences):
    """The text pieces the decoder tags, with their gold B/M/E/S tags.

    Each sentence is joined and cut as :meth:`SegmenterModel.segment_text` cuts text before tagging
    (at whitespace and punctuation); inside a piece a character is B/S where a gold word starts (or
    the piece starts) and E/S where a gold word ends (or the piece ends).

    Returns
    -------
    (x, gold, offsets) : int32 (n,) normalised codes, int8 (n,) tags, int64 (n_pieces + 1,).
    """
    words = [w for sent in sentences for w in sent]
    lens = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    # one newline between sentences: a word start at every word and after every newline
    per_sent = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
    text = "\n".join("".join(s) for s in sentences)
    raw = _codes(text)
    x = normalize_codes(raw)
    kind, _ = _classify(raw, x)
    start = np.zeros(len(raw) + 1, dtype=bool)
    # position of each word: cumulative lengths plus one per preceding newline
    sent_of = np.repeat(np.arange(len(sentences)), per_sent)
    wstart = np.zeros(len(words), dtype=np.int64)
    if len(words) > 1:
        np.cumsum(lens[:-1], out=wstart[1:])
    wstart += sent_of
    start[wstart] = True
    start[len(raw)] = True
    text_k = kind == _KIND_TEXT
    n = len(raw)
    prev_text = np.concatenate(([False], text_k[:-1]))
    next_text = np.concatenate((text_k[1:], [False]))
    pstart = np.flatnonzero(text_k & ~prev_text)
    pend = np.flatnonzero(text_k & ~next_text) + 1
    begins = start[:n] | ~prev_text
    ends = start[1:n + 1] | ~next_text
    tags = np.where(begins, np.where(ends, S, B), np.where(ends, E, M)).astype(np.int8)
    lens_p = pend - pstart
    offsets = np.zeros(len(pstart) + 1, dtype=np.int64)
    np.cumsum(lens_p, out=offsets[1:])
    sel = np.flatnonzero(text_k)
    return np.ascontiguousarray(x[sel]), np.ascontiguousarray(tags[sel]), offsets


def _shuffled(x, gold, offsets, order):
    """The pieces of ``(x, gold, offsets)`` in the order ``order``."""
    lens = np.diff(offsets)[order]
    off = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(lens, out=off[1:])
    sel = np.repeat(offsets[:-1][order] - off[:-1], lens) + np.arange(off[-1], dtype=np.int64)
    return x[sel], gold[sel], off


def train_segmenter_gold(sentences, dict_words=None, dict_counts=None, epochs=10, dropout=0.15,
                         features="ngram+dict+type", nbits=22, random_state=1, n_jobs=1, progress=None,
                         dev_sentences=None, dev_fraction=0.1, refit=True):
    """Train the tagger on gold segmented sentences (supervised; Xue 2003, Collins 2002).

    Parameters
    ----------
    sentences : list of list of str, the gold words of each sentence (see :func:`read_gold`).
    dict_words, dict_counts : optional extra lexicon (words and frequencies); it is merged with the
        training words (counts added) into the model's dictionary, which feeds the dictionary
        features (ngram+dict, ngram+dict+type).
    epochs : int, passes over the sentences, each in a fresh shuffled order (from the seed).
    dropout : float in [0, 1), share of dictionary words hidden from the dictionary features in
        each pass, so that the model also learns to tag words it has never seen.
    features : ``"ngram+dict+type"`` (default: n-grams, dictionary features and character types),
        ``"ngram+dict"`` or ``"ngram"``.
    nbits, random_state, n_jobs, progress : as :func:`train_segmenter`; ``progress`` also receives
        ``stage`` in its info: ``"held-out"`` (the model trained without the held-out sentences)
        or ``"final"``.
    dev_sentences : list of list of str or None, held-out gold sentences on which the temperature
        of the boundary marginals is fitted (:func:`fit_temperature`); the model is trained once, on
        all of ``sentences``.
    dev_fraction : float in [0, 1), without ``dev_sentences``: hold out the last ``dev_fraction``
        of the sentences (at least one), train on the rest, score the held-out part (``stats["dev"]``: F, OOV
        recall against the remaining training words) and fit the temperature on it; then, with
        ``refit``, train again on all the sentences (same seed and options: the model is the one
        ``dev_fraction=0`` gives) and keep that temperature. 0: no temperature (the model has no
        calibrated marginals).
    refit : bool, see ``dev_fraction``; False keeps the model trained without the held-out part.

    Returns
    -------
    SegmenterModel

    Examples
    --------
    >>> m = train_segmenter_gold([["中国", "人民", "的"], ["人民", "银行"]] * 20, epochs=3, nbits=14)
    >>> m.cut("中国人民银行")
    ['中国', '人民', '银行']
    """
    if features not in FEATURE_SETS:
        raise TextmineError(f"features must be one of {', '.join(FEATURE_SETS)}, not {features!r}")
    if not 0 <= dropout < 1:
        raise TextmineError(f"dropout must be in [0, 1), got {dropout}")
    if epochs < 1:
        raise TextmineError("epochs must be >= 1")
    if not 8 <= nbits <= 30:
        raise TextmineError("nbits must be between 8 and 30")
    if not sentences:
        raise TextmineError("no gold sentence to learn from")
    if not 0 <= dev_fraction < 1:
        raise TextmineError(f"the held-out fraction must be in [0, 1), got {dev_fraction}")
    args = dict(dict_words=dict_words, dict_counts=dict_counts, epochs=epochs, dropout=dropout, features=features,
                nbits=nbits, random_state=random_state, n_jobs=n_jobs)

    def stage(name):
        if progress is None:
            return None
        return lambda ep, info: progress(ep, dict(info, stage=name))

    if dev_sentences is not None:
        model = _train_gold(sentences, progress=stage("final"), **args)
        calib = fit_temperature(model, dev_sentences)
    elif dev_fraction > 0:
        k = len(sentences) - max(1, int(round(len(sentences) * dev_fraction)))
        if k < 1:
            raise TextmineError(f"{len(sentences)} sentence is too few to hold out {dev_fraction:g} of them "
                                "(give more, or no held-out part: --dev-fraction 0)")
        held = _train_gold(sentences[:k], progress=stage("held-out"), **args)
        calib = fit_temperature(held, sentences[k:])
        dev = sentences[k:]
        from textmine.evaluate import score_segmentation

        iv = {w for s in sentences[:k] for w in s}
        sc = score_segmentation(dev, held.segment_lines(["".join(s) for s in dev]), iv)
        calib["dev"] = {"f1": sc.f1, "oov_recall": sc.oov_recall, "iv_recall": sc.iv_recall,
                        "oov_rate": sc.oov_rate, "train_sentences": k}
        model = _train_gold(sentences, progress=stage("final"), **args) if refit else held
    else:
        return _train_gold(sentences, progress=stage("final"), **args)
    model.temperature_ = calib["temperature"]
    model.stats["calibration"] = calib
    model.params["dev_fraction"] = dev_fraction if dev_sentences is None else None
    model.params["refit"] = refit
    return model


def _train_gold(sentences, dict_words, dict_counts, epochs, dropout, features, nbits, random_state, n_jobs,
                progress):
    """One perceptron training on gold ``sentences`` (see :func:`train_segmenter_gold`)."""
    from collections import Counter

    counts = Counter(w for s in sentences for w in s)
    if dict_words is not None:
        if len(dict_words) != len(dict_counts):
            raise TextmineError("words and counts differ in length")
        for w, c in zip(dict_words, dict_counts):
            counts[w] += float(c)
    norm_words, norm_counts = prepare_dictionary(list(counts), np.asarray(list(counts.values()), np.float64))
    logp, unk = _logp(norm_counts)
    x0, gold0, off0 = gold_pieces(sentences)
    params = {"source": "gold", "epochs": epochs, "dropout": dropout, "features": features, "nbits": nbits,
              "seed": random_state, "sentences": len(sentences), "extra_dict_words": len(dict_words or ())}
    return _train_perceptron(lambda rng: _shuffled(x0, gold0, off0, rng.permutation(len(off0) - 1)),
                             norm_words, norm_counts, logp, unk, epochs, dropout, features, nbits,
                             random_state, n_jobs, progress, params, kept_logp="counts")


# ----------------------------------------------------------------------------------------------
# calibration of the boundary marginals


def _inner_gaps(off, pc):
    """Mask of the piece characters that are followed by a free gap: not the last of their piece
    and the next character may start a word (``pc`` False)."""
    inner = np.ones(len(pc), dtype=bool)
    if len(pc):
        inner[off[1:] - 1] = False
        inner[:-1] &= ~pc[1:]
    return inner


def _fit_theta(model, off, pc, em, boundary):
    """θ minimising the mean binary cross-entropy of the boundary marginals at the free gaps
    (bounded Brent search over ln θ in [ln 1e-3, ln 1e4]). Returns ``(theta, loss, n_gaps)``."""
    from scipy.optimize import minimize_scalar

    inner = _inner_gaps(off, pc)
    y = boundary[inner]
    if not len(y):
        raise TextmineError("no gap inside a word piece in the held-out data: cannot fit a temperature")

    def loss(log_theta):
        p = model._piece_marginals(off, pc, em, math.exp(log_theta))[inner]
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return float(-np.mean(np.where(y, np.log(p), np.log1p(-p))))

    res = minimize_scalar(loss, bounds=(math.log(1e-3), math.log(1e4)), method="bounded",
                          options={"xatol": 1e-4})
    return float(math.exp(res.x)), float(res.fun), int(len(y))


def fit_temperature(model, sentences):
    """Fit the temperature θ of ``model``'s boundary marginals on held-out gold sentences.

    The perceptron's path scores are no log-probabilities; divided by θ they define a linear-chain
    distribution (CRF-style) whose boundary marginals (:meth:`SegmenterModel.marginals_lines`) are
    calibrated by choosing the θ that minimises their mean binary cross-entropy (log loss) against
    the gold boundaries at every free gap of the held-out text (inside a tagger piece, not inside a
    digit/Latin run): temperature scaling (Guo et al., ICML 2017) with one parameter, so the
    segmentation itself is unchanged.

    Parameters
    ----------
    model : SegmenterModel
    sentences : list of list of str, gold words (not used in training).

    Returns
    -------
    dict with ``temperature``, ``log_loss`` (at that θ), ``gaps`` (free gaps scored) and
    ``sentences``. The model is not changed; set ``model.temperature_`` to use θ.
    """
    text, boundary = _gold_text(sentences)
    sel, off, pc, em, _ = model._piece_emissions(text)
    theta, loss, n = _fit_theta(model, off, pc, em, boundary[sel])
    return {"temperature": theta, "log_loss": loss, "gaps": n, "sentences": len(sentences)}


def _gold_text(sentences):
    """The sentences joined by newlines, and a bool mask of the characters that end a gold word."""
    lines = ["".join(s) for s in sentences]
    text = "\n".join(lines)
    boundary = np.zeros(len(text), dtype=bool)
    pos = 0
    for s in sentences:
        for w in s:
            pos += len(w)
            boundary[pos - 1] = True
        pos += 1
    return text, boundary


def _fit_synthetic(model, norm_words, norm_counts, n_samples, rng):
    """θ fitted on fresh synthetic samples (dictionary-trained models, which have no gold text)."""
    x, gold, off = synthesize(norm_words, norm_counts, n_samples, rng)
    pc = np.zeros(len(x), dtype=np.bool_)
    em = np.zeros((len(x), 4), dtype=np.float64)
    if len(x):
        _emissions(x, off, pc, model._keys, model._vals, model.unk_, model._n_feat, model.nbits,
                   model.weights_, em)
    theta, loss, n = _fit_theta(model, off, pc, em, (gold == E) | (gold == S))
    return {"temperature": theta, "log_loss": loss, "gaps": n, "source": "synthetic", "samples": len(off) - 1}
