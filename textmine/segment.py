"""Maximum-probability (unigram) segmentation with a lexicon, by dynamic programming in numba.

A line is split into blocks first: whitespace is dropped, every other non-word character
(punctuation, symbols) is a token of its own, and a run of one repeated symbol (``——``, ``……``)
stays whole. A block of word characters (Han, Latin letters and digits) is segmented by

    best(i) = max_{j < i, c[j:i] in D} best(j) + ln p(c[j:i]),   best(0) = 0,

where a Latin/digit run is never cut inside and a character or run that starts no dictionary word
stands alone with ``unknown_score`` (default ``ln(1 / total)``, jieba's choice). Full-width letters and
digits match their ASCII forms; the output keeps the original characters.

:meth:`Segmenter.marginals_lines` gives the probability of a boundary after each character under
the same unigram model (forward–backward over the same lattice, ALGORITHMS-2 §5.1), and
:class:`AmbiguityReview` turns those probabilities into the list of a corpus's most ambiguous
strings (``segment --review``).

The dictionary is an open-addressing hash table of 2 × 64-bit polynomial hashes of every word and
every prefix (a prefix that is not a word stops nothing but scores nothing), so the DP from a start
position stops at the first string that is not a prefix of any word.
"""
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from textmine._numba import njit
from textmine.discover import _classify
from textmine.errors import TextmineError
from textmine.tagger import _lse  # ln(e^a + e^b), shared by both forward-backward passes

_NEG = -1e300


@njit
def _fold(c):
    if 0xFF10 <= c <= 0xFF19 or 0xFF21 <= c <= 0xFF3A or 0xFF41 <= c <= 0xFF5A or c == 0xFF05 or c == 0xFF0E:
        return c - 0xFEE0
    return c


@njit
def _hash_step(h1, h2, c):
    h1 = (h1 ^ np.uint64(c)) * np.uint64(1099511628211)
    h1 = h1 ^ (h1 >> np.uint64(31))
    h2 = h2 * np.uint64(0x100000001B3) + np.uint64(c) + np.uint64(0x9E3779B97F4A7C15)
    h2 = h2 ^ (h2 >> np.uint64(27))
    return h1, h2


_H1 = 1469598103934665603
_H2 = 7


@njit
def _home(h1, shift):
    """Home slot of a hash: Fibonacci hashing, the top bits of ``h1 * 2**64 / phi``."""
    return np.int64((h1 * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(shift))


@njit
def _table_find(k1, k2, h1, h2, shift):
    """Slot of (h1, h2) in the table or -1 (an empty slot has k1 == 0); ``shift = 64 - log2(size)``."""
    mask = k1.shape[0] - 1
    key = np.int64(h1 | np.uint64(1))
    chk = np.int64(h2)
    s = _home(h1, shift)
    while True:
        if k1[s] == 0:
            return -1
        if k1[s] == key and k2[s] == chk:
            return s
        s = (s + 1) & mask


@njit
def _build_table(cps, offsets, scores, bits):
    """Hash table of words and their prefixes.

    Parameters
    ----------
    cps : ndarray of uint32
        Folded code points of all words, concatenated.
    offsets : ndarray of int64, shape (W + 1,)
        Word ``w`` is ``cps[offsets[w]:offsets[w + 1]]``.
    scores : ndarray of float64, shape (W,)
        Log-probability of each word.
    bits : int
        log2 of the table size, which must exceed the number of distinct prefixes.

    Returns
    -------
    k1, k2 : ndarray of int64, shape (size,)
        The two hashes (``k1 == 0``: empty slot).
    val : ndarray of float64, shape (size,)
        Score of a word, ``-1e300`` for a prefix that is not a word.
    """
    size = 1 << bits
    shift = 64 - bits
    k1 = np.zeros(size, dtype=np.int64)
    k2 = np.zeros(size, dtype=np.int64)
    val = np.full(size, _NEG)
    mask = size - 1
    for w in range(offsets.shape[0] - 1):
        h1 = np.uint64(_H1)
        h2 = np.uint64(_H2)
        for p in range(offsets[w], offsets[w + 1]):
            h1, h2 = _hash_step(h1, h2, cps[p])
            key = np.int64(h1 | np.uint64(1))
            chk = np.int64(h2)
            s = _home(h1, shift)
            while k1[s] != 0 and not (k1[s] == key and k2[s] == chk):
                s = (s + 1) & mask
            k1[s] = key
            k2[s] = chk
            if p == offsets[w + 1] - 1 and scores[w] > val[s]:
                val[s] = scores[w]
    return k1, k2, val


@njit
def _segment(cps, k1, k2, val, shift, unknown, max_len):
    """Segment a text into tokens.

    Parameters
    ----------
    cps : ndarray of uint32, shape (n,)
        Code points of the text (lines joined by ``\\n``).
    k1, k2, val : ndarray
        Dictionary table from :func:`_build_table`.
    shift : int
        64 minus log2 of the table size.
    unknown : float
        Score of a character or Latin/digit run that is not a word.
    max_len : int
        Longest word in code points.

    Returns
    -------
    starts, ends : ndarray of int64, shape (t,)
        Token spans, in text order; whitespace belongs to no token.
    """
    n = cps.shape[0]
    cls = _classify(cps)
    starts = np.empty(n, dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    t = 0
    best = np.empty(n + 1, dtype=np.float64)
    back = np.empty(n + 1, dtype=np.int64)
    i = 0
    while i < n:
        c = cls[i]
        if c == 3:
            i += 1
            continue
        if c == 0:
            j = i + 1
            while j < n and cps[j] == cps[i]:
                j += 1
            starts[t] = i
            ends[t] = j
            t += 1
            i = j
            continue
        j = i
        while j < n and (cls[j] == 1 or cls[j] == 2):
            j += 1
        # DP over the block [i, j); best[k] refers to position i + k
        m = j - i
        for k in range(m + 1):
            best[k] = -np.inf
            back[k] = -1
        best[0] = 0.0
        for s in range(i, j):
            b0 = best[s - i]
            if b0 == -np.inf:
                continue
            # the unit starting at s: one Han character or a whole Latin/digit run
            ue = s + 1
            if cls[s] == 2:
                while ue < j and cls[ue] == 2:
                    ue += 1
            h1 = np.uint64(_H1)
            h2 = np.uint64(_H2)
            unit_scored = False
            lim = min(j, s + max_len)
            for e in range(s + 1, lim + 1):
                h1, h2 = _hash_step(h1, h2, _fold(cps[e - 1]))
                slot = _table_find(k1, k2, h1, h2, shift)
                if slot < 0:
                    break
                if val[slot] > _NEG and (e == j or not (cls[e - 1] == 2 and cls[e] == 2)) and e >= ue:
                    v = b0 + val[slot]
                    if e == ue:
                        unit_scored = True
                    if v > best[e - i]:
                        best[e - i] = v
                        back[e - i] = s
            if not unit_scored:
                v = b0 + unknown
                if v > best[ue - i]:
                    best[ue - i] = v
                    back[ue - i] = s
        # backtrack, then emit in order
        k = m
        cnt = 0
        while k > 0:
            k = back[k] - i
            cnt += 1
        k = m
        pos = t + cnt - 1
        while k > 0:
            s = back[k]
            starts[pos] = s
            ends[pos] = i + k
            pos -= 1
            k = s - i
        t += cnt
        i = j
    return starts[:t].copy(), ends[:t].copy()


@njit
def _edges_from(cps, cls, s, j, k1, k2, val, shift, unknown, max_len, ends, scores):
    """The lattice edges (words) that start at ``s`` in the word block ending at ``j``: the same
    edges :func:`_segment` scores. Writes their ends and log-scores into ``ends``/``scores``
    (length >= ``max_len + 1``) and returns how many there are."""
    ue = s + 1
    if cls[s] == 2:
        while ue < j and cls[ue] == 2:
            ue += 1
    h1 = np.uint64(_H1)
    h2 = np.uint64(_H2)
    unit_scored = False
    cnt = 0
    lim = min(j, s + max_len)
    for e in range(s + 1, lim + 1):
        h1, h2 = _hash_step(h1, h2, _fold(cps[e - 1]))
        slot = _table_find(k1, k2, h1, h2, shift)
        if slot < 0:
            break
        if val[slot] > _NEG and (e == j or not (cls[e - 1] == 2 and cls[e] == 2)) and e >= ue:
            if e == ue:
                unit_scored = True
            ends[cnt] = e
            scores[cnt] = val[slot]
            cnt += 1
    if not unit_scored:
        ends[cnt] = ue
        scores[cnt] = unknown
        cnt += 1
    return cnt


@njit
def _marginals(cps, k1, k2, val, shift, unknown, max_len, inv_theta):
    """Boundary marginals of the unigram word lattice (forward–backward in log space).

    Parameters
    ----------
    cps : ndarray of uint32, shape (n,)
        Code points of the text (lines joined by ``\\n``).
    k1, k2, val, shift, unknown, max_len :
        As :func:`_segment`; the lattice is exactly the one :func:`_segment` maximises over.
    inv_theta : float
        ``1 / θ``: every word score is multiplied by it (θ = 1: the posterior of the unigram
        model; θ → 0: the Viterbi segmentation's 0/1 boundaries).

    Returns
    -------
    ndarray of float64, shape (n,)
        ``p[i]``: probability of a token boundary after character ``i``, i.e. that character
        ``i`` ends a token. It is 1 after a whitespace character, before one, at the end of a
        word block and after a symbol run; 0 inside a run of one repeated symbol.

    Notes
    -----
    ALGORITHMS-2 §5.1: α_0 = 0, α_j = LSE_k α_{j-k} + s(c_{j-k+1..j}); β_m = 0,
    β_i = LSE_k s(c_{i+1..i+k}) + β_{i+k}; P(boundary at gap j) = exp(α_j + β_j − Z), Z = α_m,
    per word block of length m (blocks are independent: their gaps are fixed boundaries).
    sentencepiece ``Lattice::ForwardAlgorithm`` / ``BackwardAlgorithm`` for the shape.
    """
    n = cps.shape[0]
    cls = _classify(cps)
    p = np.ones(n, dtype=np.float64)
    alpha = np.empty(n + 1, dtype=np.float64)
    beta = np.empty(n + 1, dtype=np.float64)
    ends = np.empty(max_len + 1, dtype=np.int64)
    scores = np.empty(max_len + 1, dtype=np.float64)
    i = 0
    while i < n:
        c = cls[i]
        if c == 3:
            i += 1
            continue
        if c == 0:
            j = i + 1
            while j < n and cps[j] == cps[i]:
                p[j - 1] = 0.0
                j += 1
            i = j
            continue
        j = i
        while j < n and (cls[j] == 1 or cls[j] == 2):
            j += 1
        m = j - i
        for k in range(m + 1):
            alpha[k] = -np.inf
            beta[k] = -np.inf
        alpha[0] = 0.0
        for s in range(i, j):
            a = alpha[s - i]
            if a == -np.inf:
                continue
            cnt = _edges_from(cps, cls, s, j, k1, k2, val, shift, unknown, max_len, ends, scores)
            for q in range(cnt):
                k = ends[q] - i
                alpha[k] = _lse(alpha[k], a + scores[q] * inv_theta)
        beta[m] = 0.0
        for s in range(j - 1, i - 1, -1):
            cnt = _edges_from(cps, cls, s, j, k1, k2, val, shift, unknown, max_len, ends, scores)
            b = -np.inf
            for q in range(cnt):
                b = _lse(b, scores[q] * inv_theta + beta[ends[q] - i])
            beta[s - i] = b
        z = alpha[m]
        for k in range(1, m):
            v = alpha[k] + beta[k] - z
            p[i + k - 1] = min(1.0, np.exp(v)) if v > -np.inf else 0.0
        i = j
    return p


def _codepoints(text):
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


class Segmenter:
    """Unigram maximum-probability segmenter over a word list with counts.

    Parameters
    ----------
    words : sequence of str
    counts : sequence of float
        Frequencies (``> 0``; a zero counts as 1, as in jieba).
    unknown_score : float, optional
        Log-score of a character (or Latin/digit run) that is no word; default ``ln(1 / total)``.

    Notes
    -----
    Su Jianlin, kexue.fm 5476 and 3908 (docs/algorithms.md §3.1); jieba's scoring of unknown and
    zero-frequency entries.

    Examples
    --------
    >>> seg = Segmenter(["中国", "人民", "中国人"], [10, 10, 1])
    >>> seg.cut("中国人民，AK47")
    ['中国', '人民', '，', 'AK47']
    >>> seg.segment_lines(["中国人民", ""])
    [['中国', '人民'], []]
    """

    def __init__(self, words, counts, unknown_score=None):
        words = list(words)
        counts = np.asarray(counts, dtype=np.float64)
        if len(words) != counts.shape[0]:
            raise TextmineError(f"{len(words)} words but {counts.shape[0]} counts")
        if not words:
            raise TextmineError("the lexicon is empty")
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise TextmineError("lexicon counts must be finite and >= 0")
        counts = np.maximum(counts, 1.0)
        keep = [i for i, w in enumerate(words) if w and not any(ch.isspace() for ch in w)]
        words = [words[i] for i in keep]
        counts = counts[keep]
        self.words_ = words
        self.total_ = float(counts.sum())
        self.unknown_score = float(math.log(1.0 / self.total_) if unknown_score is None else unknown_score)
        if not math.isfinite(self.unknown_score):
            raise TextmineError(f"unknown score must be finite, not {unknown_score!r}")
        from textmine.discover import fold_width

        folded = [fold_width(w) for w in words]
        lens = np.array([len(w) for w in folded], dtype=np.int64)
        offsets = np.zeros(len(folded) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        cps = _codepoints("".join(folded))
        self.max_len_ = int(lens.max()) if lens.size else 1
        bits = max(4, int(2 * int(lens.sum()) + 1).bit_length())
        scores = np.log(counts) - math.log(self.total_)
        self._table = _build_table(cps, offsets, scores, bits) + (64 - bits,)

    def _spans(self, text):
        cps = _codepoints(text)
        k1, k2, val, shift = self._table
        return _segment(cps, k1, k2, val, shift, self.unknown_score, self.max_len_)

    def cut(self, line):
        """Words of one line (whitespace dropped)."""
        starts, ends = self._spans(line)
        return [line[s:e] for s, e in zip(starts.tolist(), ends.tolist())]

    def segment_lines(self, lines, n_jobs=1, batch_size=2000):
        """Words of each line: a list of lists, in input order (the same for any ``n_jobs``)."""
        lines = list(lines)
        if not lines:
            return []
        chunks = [lines[i:i + batch_size] for i in range(0, len(lines), batch_size)]
        if n_jobs > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(n_jobs) as pool:
                parts = list(pool.map(self._segment_chunk, chunks))
        else:
            parts = [self._segment_chunk(c) for c in chunks]
        return [words for part in parts for words in part]

    def marginals(self, line, temperature=1.0):
        """Probability of a token boundary after each character of ``line`` (float64, ``len(line)``);
        see :func:`_marginals`. ``temperature`` θ scales the word scores by ``1/θ`` (θ = 1: the
        unigram model's own posterior)."""
        return self.marginals_lines([line], temperature=temperature)[0]

    def marginals_lines(self, lines, n_jobs=1, batch_size=2000, temperature=1.0):
        """Boundary marginals of each line: one float64 array per line, in input order (the same for
        any ``n_jobs``).

        Examples
        --------
        >>> seg = Segmenter(["研究", "研究生", "生命", "命", "的", "起源", "生", "研", "究", "起", "源"],
        ...                 [100, 20, 50, 10, 500, 30, 20, 1, 1, 5, 5])
        >>> seg.marginals("研究生命的起源").round(3).tolist()
        [0.0, 0.962, 0.043, 1.0, 1.0, 0.001, 1.0]
        """
        if not (temperature > 0 and math.isfinite(temperature)):
            raise TextmineError(f"the temperature must be a finite number > 0, not {temperature!r}")
        lines = list(lines)
        if not lines:
            return []
        chunks = [lines[i:i + batch_size] for i in range(0, len(lines), batch_size)]
        work = [(c, 1.0 / temperature) for c in chunks]
        if n_jobs > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(n_jobs) as pool:
                parts = list(pool.map(lambda a: self._marginals_chunk(*a), work))
        else:
            parts = [self._marginals_chunk(*a) for a in work]
        return [p for part in parts for p in part]

    def _marginals_chunk(self, lines, inv_theta):
        text = "\n".join(lines)
        k1, k2, val, shift = self._table
        p = _marginals(_codepoints(text), k1, k2, val, shift, self.unknown_score, self.max_len_, inv_theta)
        out, pos = [], 0
        for ln in lines:
            out.append(p[pos:pos + len(ln)].copy())
            pos += len(ln) + 1
        return out

    def _segment_chunk(self, lines):
        text = "\n".join(lines)
        starts, ends = self._spans(text)
        line_start = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum(np.array([len(ln) + 1 for ln in lines], dtype=np.int64), out=line_start[1:])
        which = np.searchsorted(line_start, starts, side="right") - 1
        bounds = np.searchsorted(which, np.arange(len(lines) + 1))
        toks = [text[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
        b = bounds.tolist()
        return [toks[b[k]:b[k + 1]] for k in range(len(lines))]


def load_lexicon(path, encoding="utf-8", unknown_score=None):
    """A :class:`Segmenter` from a textmine lexicon TSV or a jieba dictionary.

    Raises :class:`TextmineError` with ``file:line`` on a malformed line.
    """
    from textmine.formats import read_word_counts

    words, counts = read_word_counts(path, encoding=encoding)
    return Segmenter(words, counts, unknown_score=unknown_score)


# ----------------------------------------------------------------------------------------------
# user dictionaries


@njit
def _forced_spans(cps, k1, k2, val, shift, max_len):
    """Non-overlapping occurrences of the words of a table, chosen longest first, then leftmost.

    Parameters
    ----------
    cps : ndarray of uint32, shape (n,)
        Code points of the text (exact; no folding).
    k1, k2, val, shift : the table of :func:`_build_table` (a word has ``val > -1e300``).
    max_len : int
        Longest word.

    Returns
    -------
    starts, ends : ndarray of int64, the chosen spans in text order.
    """
    n = cps.shape[0]
    cnt = 0
    for p in range(2):  # count, then fill
        if p == 1:
            cs = np.empty(cnt, dtype=np.int64)
            ce = np.empty(cnt, dtype=np.int64)
            cnt = 0
        for i in range(n):
            h1 = np.uint64(_H1)
            h2 = np.uint64(_H2)
            for e in range(i + 1, min(n, i + max_len) + 1):
                h1, h2 = _hash_step(h1, h2, cps[e - 1])
                slot = _table_find(k1, k2, h1, h2, shift)
                if slot < 0:
                    break
                if val[slot] > _NEG:
                    if p == 1:
                        cs[cnt] = i
                        ce[cnt] = e
                    cnt += 1
    if cnt == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    key = (max_len - (ce - cs)) * np.int64(n + 1) + cs  # unique: one word per (start, length)
    order = np.argsort(key)
    taken = np.zeros(n, dtype=np.bool_)
    chosen = np.zeros(n, dtype=np.int64)  # chosen[s] = end of the span chosen at s, 0 if none
    for k in order:
        s, e = cs[k], ce[k]
        free = True
        for j in range(s, e):
            if taken[j]:
                free = False
                break
        if free:
            for j in range(s, e):
                taken[j] = True
            chosen[s] = e
    m = 0
    for s in range(n):
        if chosen[s] > 0:
            m += 1
    starts = np.empty(m, dtype=np.int64)
    ends = np.empty(m, dtype=np.int64)
    m = 0
    for s in range(n):
        if chosen[s] > 0:
            starts[m] = s
            ends[m] = chosen[s]
            m += 1
    return starts, ends


class UserDict:
    """Words a user wants kept whole, and words whose frequency a user sets.

    Each line of a user dictionary is ``word`` or ``word freq`` or ``word freq tag`` (jieba's
    ``load_userdict`` layout; fields separated by spaces or tabs; blank and ``#`` lines skipped):

    * ``word`` alone is **forced**: it comes out as one token wherever it occurs in the text,
      punctuation, digits and Latin letters included (``C++``, ``AT&T``, ``iPhone14``). Where
      occurrences of forced words overlap, the longest wins, then the leftmost (every occurrence
      of every forced word is a candidate; they are taken longest first, then leftmost, skipping
      any that overlaps one already taken). Matching is on the exact characters (no full-width
      folding). The text between forced words is segmented as pieces of its own.
    * ``word freq`` **tunes**: the word joins the lexicon (``--dict``) or the model's dictionary
      (``--model``) with that frequency, and the segmenter still decides. For a model, 1 means the
      probability of its dictionary's rarest word. A model without dictionary features
      (``--features ngram``) cannot use frequencies; there such words are forced.

    Several dictionaries merge in the order given: for a word in more than one, the later file's
    line wins (as calling jieba's ``load_userdict`` in turn); within a file, the later line wins.

    Parameters
    ----------
    entries : list of (word, freq or None), in precedence order (later wins).
    """

    def __init__(self, entries=()):
        merged = {}
        for w, f in entries:
            if not isinstance(w, str) or not w or any(ch.isspace() for ch in w):
                raise TextmineError(f"a user word cannot be empty or hold whitespace: {w!r}")
            merged[w] = f
        self.forced = {w for w, f in merged.items() if f is None}
        self.weighted = {w: f for w, f in merged.items() if f is not None}
        self._table = None  # the forced words' hash table, built on first use
        self._lengths = sorted({len(w) for w in self.forced}, reverse=True)

    @classmethod
    def load(cls, paths, encoding="utf-8"):
        """Read user dictionaries (``-`` is stdin); ``FILE:LINE`` errors for a malformed line."""
        entries = []
        for path in paths:
            entries += read_user_dict(path, encoding)
        return cls(entries)

    def __bool__(self):
        return bool(self.forced or self.weighted)

    def _table_of(self):
        if self._table is None:
            words = sorted(self.forced)
            lens = np.array([len(w) for w in words], dtype=np.int64)
            offsets = np.zeros(len(words) + 1, dtype=np.int64)
            np.cumsum(lens, out=offsets[1:])
            bits = max(4, int(2 * int(lens.sum()) + 1).bit_length())
            table = _build_table(_codepoints("".join(words)), offsets, np.zeros(len(words)), bits)
            self._table = table + (64 - bits, int(lens.max()))
        return self._table

    def spans(self, line):
        """Forced-word spans ``[(start, end), ...]`` of ``line``, sorted, non-overlapping."""
        if not self.forced or not line:
            return []
        starts, ends = _forced_spans(_codepoints(line), *self._table_of())
        return list(zip(starts.tolist(), ends.tolist()))

    def apply(self, lines, segment_lines):
        """Segment ``lines`` with ``segment_lines`` (a function of a list of strings returning word
        lists), keeping every forced word whole: the text between forced words is segmented as
        pieces of its own."""
        if not self.forced:
            return segment_lines(lines)
        lines = list(lines)
        text = "\n".join(lines)  # a forced word holds no newline: one scan for the batch
        starts, ends = _forced_spans(_codepoints(text), *self._table_of()) if text else (np.zeros(0, np.int64),) * 2
        line_start = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum(np.array([len(ln) + 1 for ln in lines], dtype=np.int64), out=line_start[1:])
        which = np.searchsorted(line_start, starts, side="right") - 1
        bounds = np.searchsorted(which, np.arange(len(lines) + 1)).tolist()
        starts, ends = starts.tolist(), ends.tolist()
        pieces, plan = [], []
        for k, line in enumerate(lines):
            off = int(line_start[k])
            spans = [(a - off, b - off) for a, b in zip(starts[bounds[k]:bounds[k + 1]], ends[bounds[k]:bounds[k + 1]])]
            items, pos = [], 0
            for s, e in spans:
                if s > pos:
                    items.append(len(pieces))
                    pieces.append(line[pos:s])
                items.append(line[s:e])
                pos = e
            if pos < len(line) or not spans:
                items.append(len(pieces))
                pieces.append(line[pos:])
            plan.append(items)
        done = segment_lines(pieces) if pieces else []
        return [[w for it in items for w in ((it,) if isinstance(it, str) else done[it])] for items in plan]


    def apply_marginals(self, lines, marginals_lines):
        """Boundary marginals of ``lines`` (one float64 array per line) with every forced word kept
        whole: 0 inside a forced word, 1 at its end and before it; the text between forced words is
        given to ``marginals_lines`` (a function of a list of strings returning arrays) as pieces of
        its own, as :meth:`apply` segments them."""
        lines = list(lines)
        if not self.forced:
            return marginals_lines(lines)
        pieces, plan = [], []
        for line in lines:
            spans = self.spans(line)
            p = np.ones(len(line), dtype=np.float64)
            todo, pos = [], 0
            for s, e in spans + [(len(line), len(line))]:
                if s > pos:
                    todo.append((pos, len(pieces)))
                    pieces.append(line[pos:s])
                p[s:e - 1] = 0.0
                pos = e
            plan.append((p, todo))
        done = marginals_lines(pieces) if pieces else []
        out = []
        for p, todo in plan:
            for pos, k in todo:
                p[pos:pos + len(pieces[k])] = done[k]
            out.append(p)
        return out


def symbol_words(words):
    """The words of a lexicon that hold punctuation or symbols (Unicode categories P*, S*), e.g.
    ``C++``, ``AT&T``, ``糖类抗原19-9``, ``《留守女士》``: the DP splits text at such characters
    before it looks words up, so ``segment --dict`` keeps these words whole as forced words."""
    import unicodedata

    return [w for w in words if len(w) > 1 and any(unicodedata.category(ch)[0] in "PS" for ch in w)
            and not any(ch.isspace() for ch in w)]


def read_user_dict(path, encoding="utf-8"):
    """Entries ``(word, freq or None)`` of a user dictionary (see :class:`UserDict`)."""
    from textmine.corpus import ReadOptions, Shard, iter_lines, resolve_inputs

    resolve_inputs([path])
    out = []
    for lineno, line in enumerate(iter_lines(Shard(path), ReadOptions(encoding, option="", errors_option="")), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if line[:1].isspace():
            raise TextmineError(f"{path}:{lineno}: the line starts with whitespace, so its word is empty "
                                f"({line[:40]!r}); write the word first (a user word cannot be empty or hold "
                                "whitespace)")
        parts = s.split()
        if len(parts) > 3:
            raise TextmineError(f"{path}:{lineno}: expected 'word', 'word freq' or 'word freq tag', got {s[:60]!r} "
                                "(a user word cannot hold whitespace)")
        freq = None
        if len(parts) >= 2:
            try:
                freq = float(parts[1])
            except ValueError:
                raise TextmineError(f"{path}:{lineno}: frequency {parts[1]!r} of {parts[0]!r} is not a number "
                                    "(a user word cannot hold whitespace)") from None
            if not (freq > 0 and math.isfinite(freq)):
                raise TextmineError(f"{path}:{lineno}: frequency {parts[1]!r} of {parts[0]!r} must be a "
                                    "finite number > 0")
        out.append((parts[0], freq))
    return out


# ----------------------------------------------------------------------------------------------
# review: the most ambiguous strings of a corpus


# the characters str.isspace accepts (none is above U+3000)
_SPACE_CPS = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)


class AmbiguityReview:
    """The strings of a corpus whose segmentation the segmenter is least sure of.

    Each line is cut at its *confident* boundaries (``p >= confident``; whitespace and punctuation
    are always boundaries); a resulting span of 2 to ``max_len`` characters with an inner gap of
    ``p > 1 - confident`` is an ambiguous occurrence, scored by the ambiguity of its least sure
    gap, ``1 - |2p - 1|`` (1 at p = 0.5, 0 at p = 0 or 1). Occurrences are aggregated by string;
    strings rank by total ambiguity (occurrences × mean ambiguity), then by count, then by string.
    Memory grows with the number of distinct ambiguous strings (not with the corpus).

    Parameters
    ----------
    confident : float in (0.5, 1), a boundary at least this probable ends a span.
    max_len : int, longer spans are not listed (they are no dictionary candidates).
    context : int, characters of context kept on each side of the first occurrence.
    """

    def __init__(self, confident=0.95, max_len=12, context=12):
        if not 0.5 < confident < 1:
            raise TextmineError(f"confident must be in (0.5, 1), not {confident}")
        self.confident = confident
        self.max_len = max_len
        self.context = context
        self.stats_ = {}  # string -> [count, sum of ambiguity, cut, context]

    def add(self, lines, marginals):
        """Count the ambiguous spans of ``lines`` given their boundary ``marginals`` (arrays).

        Vectorised over the whole batch: the lines are joined (each line's last character made a
        certain boundary, so no span crosses lines) and the spans, their lengths, their least sure
        gap and their whitespace are found with numpy; only the ambiguous spans reach Python."""
        lines = list(lines)
        marginals = list(marginals)
        if not lines:
            return
        hi, lo = self.confident, 1 - self.confident
        lens = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
        if lens.max(initial=0) < 2:
            return
        p = np.concatenate([np.asarray(m, dtype=np.float64) for m in marginals])
        if len(p) != lens.sum():
            raise TextmineError("the marginals do not match the lines")
        line_end = np.cumsum(lens)  # exclusive ends of the lines in the joined text
        nonempty = line_end[lens > 0] - 1
        cut = p >= hi
        cut[nonempty] = True
        ends = np.flatnonzero(cut) + 1
        starts = np.concatenate(([0], ends[:-1]))
        width = ends - starts
        keep = (width >= 2) & (width <= self.max_len)
        if not keep.any():
            return
        a, b = starts[keep], ends[keep]
        # the inner gaps of a span are p[a:b-1]: reduce over [a0, b0-1, a1, b1-1, ...], keep even slots
        idx = np.empty(2 * len(a), dtype=np.int64)
        idx[0::2], idx[1::2] = a, b - 1
        pmax = np.maximum.reduceat(p, idx)[0::2]
        amb = np.maximum.reduceat(1 - np.abs(2 * p - 1), idx)[0::2]
        text = "".join(lines)
        cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        space = np.concatenate(([0], np.cumsum(np.isin(cps, _SPACE_CPS))))
        ok = (pmax > lo) & (space[b] == space[a])
        a, b, amb = a[ok], b[ok], amb[ok]
        k = np.searchsorted(line_end, a, side="right")  # the line of each span
        s0 = np.maximum(line_end[k] - lens[k], a - self.context).tolist()
        s1 = np.minimum(line_end[k], b + self.context).tolist()
        half = (p >= 0.5).tolist()
        stats = self.stats_
        for x, y, am, c0, c1 in zip(a.tolist(), b.tolist(), amb.tolist(), s0, s1):
            span = text[x:y]
            rec = stats.get(span)
            if rec is None:
                cut = "".join([ch + " " if half[x + q] else ch for q, ch in enumerate(span[:-1])]) + span[-1]
                ctx = text[c0:x] + "[" + span + "]" + text[y:c1]
                stats[span] = [1, am, cut, " ".join(ctx.split())]
            else:
                rec[0] += 1
                rec[1] += am

    def top(self, n):
        """The ``n`` most ambiguous strings: ``(string, count, mean ambiguity, likely cut, context)``."""
        items = sorted(self.stats_.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))[:n]
        return [(w, c, a / c, cut, ctx) for w, (c, a, cut, ctx) in items]
