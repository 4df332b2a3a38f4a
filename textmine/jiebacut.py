"""jieba-exact Chinese word segmentation with Numba kernels over jieba's own dictionary.

:class:`JiebaTokenizer` gives, token for token, what ``jieba.lcut(text, HMM=hmm)`` (jieba 0.42.1,
accurate mode) gives, several times faster and without jieba's global state, log messages or
shared cache file.  The driver turns the dictionary into a trie (a hash table keyed by
``(node, code point)``, plus a direct table for the root), turns jieba's regular expressions into
per-code-point class bits computed with the same patterns by Python's ``re``, and calls one kernel
that cuts many lines at once and returns token spans.

The pipeline the kernel reproduces (``jieba/__init__.py``, ``Tokenizer.cut``):

1. ``re_han_default`` splits a line into *blocks* of ``[\\u4E00-\\u9FD5a-zA-Z0-9+#&._%-]`` and
   the rest; every other character is one token, except ``\\r\\n`` which is one token.
2. A block is cut by the maximum-probability route over the DAG of dictionary words
   (``get_DAG``/``calc``): ``log(freq or 1) - log(total)`` summed right to left, ties broken by
   the larger end index.
3. HMM on (``__cut_DAG``): runs of single characters that are not a dictionary word go to
   ``finalseg.cut`` (Han runs: BMES Viterbi; the rest: split by ``[a-zA-Z0-9]+(?:\\.\\d+)?%?``),
   runs that are a word are yielded character by character.
   HMM off (``__cut_DAG_NO_HMM``): consecutive single ``[a-zA-Z0-9]`` characters are merged.
"""
import hashlib
import importlib.util
import logging
import math
import os
import re
import tempfile
import unicodedata
from typing import NamedTuple

import numpy as np

from textmine._numba import njit
from textmine.errors import TextmineError

__all__ = ["JiebaTokenizer"]

log = logging.getLogger(__name__)

# jieba 0.42.1's patterns, verbatim (tests check them against the installed jieba).
RE_HAN_DEFAULT = "([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)"
RE_SKIP_DEFAULT = "(\r\n|\\s)"
RE_ENG = "[a-zA-Z0-9]"
RE_FINALSEG_HAN = "([\u4E00-\u9FD5]+)"
RE_FINALSEG_SKIP = "([a-zA-Z0-9]+(?:\\.\\d+)?%?)"
MIN_FLOAT = -3.14e100
PREV_STATUS = {"B": "ES", "M": "MB", "S": "SE", "E": "BM"}
STATES = "BEMS"  # alphabetical: jieba breaks Viterbi ties by the larger state letter

# class bits of the per-code-point table
C_BLOCK = 1  # re_han_default's class: a jieba block character
C_SPACE = 2  # \s (Unicode), re_skip_default
C_HAN = 4  # finalseg.re_han's class [\u4E00-\u9FD5]
C_ALNUM = 8  # [a-zA-Z0-9] (re_eng, finalseg.re_skip)
C_DIGIT = 16  # \d (Unicode), finalseg.re_skip

N_CODES = 0x110000
HAN_LO = 0x4E00
HAN_HI = 0x9FD5  # inclusive
_CP_BITS = 21  # code points < 2**21: trie key = node << 21 | code point
_FORMAT = "textmine-jiebacut-2"  # 2: the trie's edge table is kept too
_ZERO = np.zeros(1, np.int64)  # line_starts of a one-line call (never written)


# ----------------------------------------------------------------------------------------------
# character classes

_CLASS_TABLE = None


def char_classes():
    """Class bits of every code point, computed with jieba's patterns by Python's ``re``.

    Returns
    -------
    numpy.ndarray
        ``uint8`` of shape ``(0x110000,)``: ``C_BLOCK | C_SPACE | C_HAN | C_ALNUM | C_DIGIT`` bits.

    Notes
    -----
    Python's ``\\s`` and ``\\d`` are Unicode-aware (U+3000 is ``\\s``, U+FF10 is ``\\d``); running
    the patterns themselves over all code points keeps those semantics exactly.
    """
    global _CLASS_TABLE
    if _CLASS_TABLE is None:
        every = "".join(map(chr, range(N_CODES)))
        table = np.zeros(N_CODES, np.uint8)
        classes = [
            (RE_HAN_DEFAULT[1:-2] + "+", C_BLOCK),  # "([...]+)" -> "[...]+"
            (r"\s+", C_SPACE),
            (RE_FINALSEG_HAN[1:-2] + "+", C_HAN),
            (RE_ENG + "+", C_ALNUM),
            (r"\d+", C_DIGIT),
        ]
        for pattern, bit in classes:
            for m in re.finditer(pattern, every):
                table[m.start():m.end()] |= bit
        han = np.flatnonzero(table & C_HAN)
        if han.size and (han[0] < HAN_LO or han[-1] > HAN_HI):  # pragma: no cover - constants
            raise AssertionError("finalseg Han class outside the emission table")
        _CLASS_TABLE = table
    return _CLASS_TABLE


# ----------------------------------------------------------------------------------------------
# kernels


@njit
def _jiebacut_hash(node, c, shift):
    """Slot of trie edge ``(node, c)`` in a table of ``2**(32 - shift)`` slots.

    Multiplicative mixing kept below 2**63 (``node < 2**31``, ``c < 2**21``), so the JIT and the
    plain-Python run (``NUMBA_DISABLE_JIT=1``) agree and nothing overflows.
    """
    h = (node * 2654435761) & 0xFFFFFFFF
    h = ((h ^ c) * 0x7FEB352D) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x7FEB352D) & 0xFFFFFFFF
    return h >> shift


@njit
def _jiebacut_build_table(parent, cp, bits):
    """Open-addressing hash table of trie edges.

    Parameters
    ----------
    parent, cp : numpy.ndarray
        ``int64`` of shape ``(n_nodes,)``: node ``i + 1`` is the child of node ``parent[i]``
        (0 = root) along code point ``cp[i]``.
    bits : int
        The table has ``2**bits`` slots (load factor at most 1/2), ``bits <= 30``.

    Returns
    -------
    keys : numpy.ndarray
        ``int64`` of shape ``(2**bits,)``: ``parent << 21 | cp``, or -1 for an empty slot.
    vals : numpy.ndarray
        ``int32`` of shape ``(2**bits,)``: the child node id.
    """
    size = 1 << bits
    mask = size - 1
    shift = 32 - bits
    keys = np.full(size, -1, np.int64)
    vals = np.zeros(size, np.int32)
    for i in range(parent.shape[0]):
        key = (parent[i] << _CP_BITS) | cp[i]
        h = _jiebacut_hash(parent[i], cp[i], shift)
        while keys[h] != -1:
            h = (h + 1) & mask
        keys[h] = key
        vals[h] = i + 1
    return keys, vals


@njit
def _jiebacut_child(node, c, root_child, keys, vals, shift):
    """Child of trie ``node`` along code point ``c``, or -1 (scalars; tables as built above)."""
    if node == 0:
        return root_child[c]
    key = (np.int64(node) << _CP_BITS) | c
    mask = keys.shape[0] - 1
    h = _jiebacut_hash(np.int64(node), np.int64(c), shift)
    while True:
        k = keys[h]
        if k == key:
            return vals[h]
        if k == -1:
            return -1
        h = (h + 1) & mask


@njit
def _jiebacut_route(codes, lo, hi, root_child, keys, vals, shift, logp, isword, unk,
                    route_val, route_idx):
    """Maximum-probability route over the dictionary DAG of ``codes[lo:hi]`` (jieba's ``calc``).

    Parameters
    ----------
    codes : numpy.ndarray
        ``uint32`` code points.
    lo, hi : int
        The block ``codes[lo:hi]``.
    root_child, keys, vals, shift
        The trie: ``int32`` root table of shape ``(0x110000,)``, hash table of edges.
    logp : numpy.ndarray
        ``float64`` of shape ``(n_nodes + 1,)``: ``log(freq or 1) - log(total)`` per node.
    isword : numpy.ndarray
        ``uint8`` of shape ``(n_nodes + 1,)``: 1 where the node's frequency is non-zero.
    unk : float
        ``log(1) - log(total)``, the score of a character that starts no word.
    route_val, route_idx : numpy.ndarray
        Outputs, ``float64`` of shape ``>= (hi - lo + 1,)`` and ``int64`` of shape ``>= (hi - lo,)``:
        best log-probability of the suffix from ``i`` and the (block-relative, inclusive) end of
        the first word on its route.

    Notes
    -----
    ``route[i] = max((log(FREQ.get(s[i:x+1]) or 1) - logtotal + route[x+1][0], x) for x in DAG[i])``
    in jieba 0.42.1 (``Tokenizer.calc``); the tuple order breaks ties by the larger ``x``.
    """
    n = hi - lo
    route_val[n] = 0.0
    for idx in range(n - 1, -1, -1):
        node = root_child[codes[lo + idx]]
        best_v = 0.0
        best_x = -1
        i = idx
        while node >= 0:
            if isword[node]:
                v = logp[node] + route_val[i + 1]
                if best_x < 0 or v >= best_v:
                    best_v = v
                    best_x = i
            i += 1
            if i >= n:
                break
            node = _jiebacut_child(np.int64(node), codes[lo + i], root_child, keys, vals, shift)
        if best_x < 0:
            best_v = unk + route_val[idx + 1]
            best_x = idx
        route_val[idx] = best_v
        route_idx[idx] = best_x


@njit
def _jiebacut_viterbi(codes, lo, hi, start_p, trans_p, emit_p, prev, vit, ptr, states):
    """BMES Viterbi of ``codes[lo:hi]`` (jieba's ``finalseg.viterbi``).

    Parameters
    ----------
    codes : numpy.ndarray
        ``uint32`` code points; ``codes[lo:hi]`` all in ``[0x4E00, 0x9FD5]``.
    start_p : numpy.ndarray
        ``float64`` of shape ``(4,)``, states in the order ``B E M S``.
    trans_p : numpy.ndarray
        ``float64`` of shape ``(4, 4)``, ``MIN_FLOAT`` where jieba has no entry.
    emit_p : numpy.ndarray
        ``float64`` of shape ``(4, 0x9FD6 - 0x4E00)``, ``MIN_FLOAT`` where jieba has no entry.
    prev : numpy.ndarray
        ``int64`` of shape ``(4, 2)``: the two allowed previous states (``PrevStatus``).
    vit, ptr : numpy.ndarray
        Scratch, ``float64`` and ``int8`` of shape ``>= (hi - lo, 4)``.
    states : numpy.ndarray
        Output, ``int8`` of shape ``>= (hi - lo,)``: the best state path.

    Notes
    -----
    Same float64 operations in the same order as jieba: ``V[t-1][y0] + trans + emit``, maxima over
    ``(prob, state)`` tuples (ties to the later letter), last state chosen among ``E``, ``S``.
    """
    n = hi - lo
    c = codes[lo] - HAN_LO
    for y in range(4):
        vit[0, y] = start_p[y] + emit_p[y, c]
    for t in range(1, n):
        c = codes[lo + t] - HAN_LO
        for y in range(4):
            em = emit_p[y, c]
            a = prev[y, 0]
            b = prev[y, 1]
            pa = vit[t - 1, a] + trans_p[a, y] + em
            pb = vit[t - 1, b] + trans_p[b, y] + em
            if pa > pb or (pa == pb and a > b):
                vit[t, y] = pa
                ptr[t, y] = a
            else:
                vit[t, y] = pb
                ptr[t, y] = b
    s = 3 if vit[n - 1, 3] >= vit[n - 1, 1] else 1  # max((V[E], 'E'), (V[S], 'S'))
    for t in range(n - 1, -1, -1):
        states[t] = s
        s = ptr[t, s]


@njit
def _jiebacut_skip_split(codes, lo, hi, cls, out_starts, out_ends, n_out):
    """``re.split('([a-zA-Z0-9]+(?:\\.\\d+)?%?)', s)`` of ``codes[lo:hi]``, empty pieces dropped.

    Appends spans to ``out_starts``/``out_ends`` (``int64``) from ``n_out`` on; returns the new count.
    """
    seg = lo
    i = lo
    while i < hi:
        if cls[codes[i]] & C_ALNUM:
            j = i + 1
            while j < hi and cls[codes[j]] & C_ALNUM:
                j += 1
            if j + 1 < hi and codes[j] == 46 and cls[codes[j + 1]] & C_DIGIT:  # '.'
                j += 2
                while j < hi and cls[codes[j]] & C_DIGIT:
                    j += 1
            if j < hi and codes[j] == 37:  # '%'
                j += 1
            if seg < i:
                out_starts[n_out] = seg
                out_ends[n_out] = i
                n_out += 1
            out_starts[n_out] = i
            out_ends[n_out] = j
            n_out += 1
            i = j
            seg = j
        else:
            i += 1
    if seg < hi:
        out_starts[n_out] = seg
        out_ends[n_out] = hi
        n_out += 1
    return n_out


@njit
def _jiebacut_finalseg(codes, lo, hi, cls, start_p, trans_p, emit_p, prev, vit, ptr, states,
                       out_starts, out_ends, n_out):
    """jieba's ``finalseg.cut`` of ``codes[lo:hi]``: Han runs by Viterbi, the rest by regex split.

    Appends spans from ``n_out`` on and returns the new count (arrays as in the callees).
    """
    p = lo
    while p < hi:
        if cls[codes[p]] & C_HAN:
            q = p + 1
            while q < hi and cls[codes[q]] & C_HAN:
                q += 1
            _jiebacut_viterbi(codes, p, q, start_p, trans_p, emit_p, prev, vit, ptr, states)
            begin = 0
            for i in range(q - p):
                s = states[i]
                if s == 0:  # B
                    begin = i
                elif s == 1:  # E
                    out_starts[n_out] = p + begin
                    out_ends[n_out] = p + i + 1
                    n_out += 1
                elif s == 3:  # S
                    out_starts[n_out] = p + i
                    out_ends[n_out] = p + i + 1
                    n_out += 1
            # jieba's trailing ``sentence[nexti:]`` never fires: the path ends in E or S
        else:
            q = p + 1
            while q < hi and not cls[codes[q]] & C_HAN:
                q += 1
            n_out = _jiebacut_skip_split(codes, p, q, cls, out_starts, out_ends, n_out)
        p = q
    return n_out


@njit
def _jiebacut_flush(codes, lo, hi, cls, root_child, keys, vals, shift, isword,
                    start_p, trans_p, emit_p, prev, vit, ptr, states, out_starts, out_ends, n_out):
    """Emit a buffered run of single characters ``codes[lo:hi]`` as jieba's ``__cut_DAG`` does.

    One character: itself. A dictionary word (non-zero frequency): character by character.
    Otherwise: :func:`_jiebacut_finalseg`. Returns the new token count.
    """
    if hi - lo == 1:
        out_starts[n_out] = lo
        out_ends[n_out] = hi
        return n_out + 1
    node = 0
    for i in range(lo, hi):
        node = _jiebacut_child(np.int64(node), codes[i], root_child, keys, vals, shift)
        if node < 0:
            break
    if node >= 0 and isword[node]:
        for i in range(lo, hi):
            out_starts[n_out] = i
            out_ends[n_out] = i + 1
            n_out += 1
        return n_out
    return _jiebacut_finalseg(codes, lo, hi, cls, start_p, trans_p, emit_p, prev, vit, ptr,
                              states, out_starts, out_ends, n_out)



@njit(inline="always")
def _jiebacut_singles(hmm, codes, a, b, cls, root_child, keys, vals, shift, isword,
                      start_p, trans_p, emit_p, prev, vit, ptr, states, out_starts, out_ends, n_out):
    """The buffered run ``codes[a:b]`` of single characters: re-cut by the HMM (``hmm``), else
    one token (a run of single letters and digits). Returns the new ``n_out``."""
    if hmm:
        # int64 arguments (np.int64: not literals) so that one specialisation serves every call
        return _jiebacut_flush(codes, np.int64(a), np.int64(b), cls, root_child, keys, vals, shift, isword,
                               start_p, trans_p, emit_p, prev, vit, ptr, states, out_starts, out_ends,
                               np.int64(n_out))
    out_starts[n_out] = a
    out_ends[n_out] = b
    return n_out + 1

@njit
def _jiebacut_spans(codes, line_starts, line_ends, cls, root_child, keys, vals, shift, logp,
                    isword, unk, hmm, start_p, trans_p, emit_p, prev, out_starts, out_ends):
    """Cut every line ``codes[line_starts[k]:line_ends[k]]`` as ``jieba.cut(line, HMM=hmm)``.

    Parameters
    ----------
    codes : numpy.ndarray
        ``uint32`` code points (all ``< 0x110000``) of the concatenated lines.
    line_starts, line_ends : numpy.ndarray
        ``int64`` of shape ``(n_lines,)``.
    cls : numpy.ndarray
        ``uint8`` of shape ``(0x110000,)``, from :func:`char_classes`.
    root_child, keys, vals, shift, logp, isword, unk
        The dictionary (see :func:`_jiebacut_route`).
    hmm : bool
        jieba's ``HMM`` flag.
    start_p, trans_p, emit_p, prev
        The finalseg model (see :func:`_jiebacut_viterbi`).
    out_starts, out_ends : numpy.ndarray
        Outputs, ``int64`` with room for one token per code point of the lines.

    Returns
    -------
    int
        The number of tokens written.
    """
    n_out = 0
    cap = 64
    route_val = np.empty(cap + 1, np.float64)
    route_idx = np.empty(cap, np.int64)
    vit = np.empty((cap, 4), np.float64)
    ptr = np.empty((cap, 4), np.int8)
    states = np.empty(cap, np.int8)
    for li in range(line_starts.shape[0]):
        pos = line_starts[li]
        end = line_ends[li]
        while pos < end:
            c = codes[pos]
            if cls[c] & C_BLOCK:
                q = pos + 1
                while q < end and cls[codes[q]] & C_BLOCK:
                    q += 1
                n = q - pos
                if n > cap:
                    while cap < n:
                        cap *= 2
                    route_val = np.empty(cap + 1, np.float64)
                    route_idx = np.empty(cap, np.int64)
                    vit = np.empty((cap, 4), np.float64)
                    ptr = np.empty((cap, 4), np.int8)
                    states = np.empty(cap, np.int8)
                _jiebacut_route(codes, pos, q, root_child, keys, vals, shift, logp, isword, unk,
                                route_val, route_idx)
                x = pos
                buf = -1
                while x < q:
                    y = pos + route_idx[x - pos] + 1
                    if hmm:
                        single = y - x == 1
                    else:
                        single = y - x == 1 and (cls[codes[x]] & C_ALNUM) != 0
                    if single:
                        if buf < 0:
                            buf = x
                    else:
                        if buf >= 0:
                            n_out = _jiebacut_singles(
                                hmm, codes, buf, x, cls, root_child, keys, vals, shift, isword,
                                start_p, trans_p, emit_p, prev, vit, ptr, states, out_starts, out_ends, n_out)
                            buf = -1
                        out_starts[n_out] = x
                        out_ends[n_out] = y
                        n_out += 1
                    x = y
                if buf >= 0:
                    n_out = _jiebacut_singles(
                        hmm, codes, buf, q, cls, root_child, keys, vals, shift, isword,
                        start_p, trans_p, emit_p, prev, vit, ptr, states, out_starts, out_ends, n_out)
                pos = q
            else:
                out_starts[n_out] = pos
                if c == 13 and pos + 1 < end and codes[pos + 1] == 10:  # "\r\n"
                    pos += 2
                else:
                    pos += 1
                out_ends[n_out] = pos
                n_out += 1
    return n_out


# ----------------------------------------------------------------------------------------------
# dictionary and model


def _jieba_dir():
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise TextmineError("jieba is not installed: pip install jieba==0.42.1, "
                            "or pass a dictionary file")
    return list(spec.submodule_search_locations)[0]


def default_dictionary():
    """Path of jieba's bundled ``dict.txt``."""
    return os.path.join(_jieba_dir(), "dict.txt")


def read_prefix_dictionary(path):
    """jieba's ``gen_pfdict``: word frequencies plus every word prefix at frequency 0.

    Parameters
    ----------
    path : str
        A jieba main dictionary, ``word freq [tag]`` per line, UTF-8.

    Returns
    -------
    freq : dict
        ``{string: int}`` in jieba's insertion order (words, and their prefixes with 0).
    total : int
        Sum of the listed frequencies (duplicates included, as in jieba).
    """
    lfreq = {}
    ltotal = 0
    try:
        f = open(path, "rb")
    except OSError as e:
        raise TextmineError(f"cannot read dictionary {path}: {e.strerror}") from None
    with f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.strip().decode("utf-8-sig" if lineno == 1 else "utf-8")  # a BOM is dropped
                word, freq = line.split(" ")[:2]
                freq = int(freq)
            except ValueError:  # UnicodeDecodeError included
                shown = raw.strip().decode("utf-8", "replace")
                raise TextmineError(
                    f"{path}:{lineno}: invalid dictionary entry {shown!r} "
                    "(expected 'word freq [tag]', UTF-8)") from None
            if freq < 0:
                raise TextmineError(f"{path}:{lineno}: invalid dictionary entry: negative frequency {freq}")
            lfreq[word] = freq
            ltotal += freq
            for ch in range(len(word)):
                wfrag = word[:ch + 1]
                if wfrag not in lfreq:
                    lfreq[wfrag] = 0
    if ltotal <= 0:
        raise TextmineError(f"dictionary {path} has no word with a positive frequency")
    return lfreq, ltotal


def _build_dictionary_arrays(path):
    """Flat trie arrays of a jieba dictionary (node 0 is the root; nodes are FREQ's keys)."""
    lfreq, total = read_prefix_dictionary(path)
    ids = {}
    n = len(lfreq)
    parent = np.empty(n, np.int64)
    cp = np.empty(n, np.int64)
    for i, s in enumerate(lfreq):
        ids[s] = i + 1
    for i, s in enumerate(lfreq):  # a word comes before its prefixes in jieba's order
        parent[i] = ids[s[:-1]] if len(s) > 1 else 0
        cp[i] = ord(s[-1])
    logtotal = math.log(total)
    logp = np.array([0.0] + [math.log(f or 1) - logtotal for f in lfreq.values()], np.float64)
    isword = np.array([0] + [1 if f else 0 for f in lfreq.values()], np.uint8)
    return {"parent": parent, "cp": cp, "logp": logp, "isword": isword,
            "unk": np.float64(math.log(1) - logtotal), "total": np.int64(total)}


def hmm_arrays(start_p, trans_p, emit_p):
    """A finalseg model (jieba's ``prob_start.P``, ``prob_trans.P``, ``prob_emit.P``) as arrays.

    Parameters
    ----------
    start_p : dict
        ``{state: log p}`` for states ``B M E S``.
    trans_p : dict
        ``{state: {state: log p}}``; absent transitions become ``MIN_FLOAT``.
    emit_p : dict
        ``{state: {character: log p}}``; absent characters become ``MIN_FLOAT``.

    Returns
    -------
    dict
        ``start_p`` ``float64 (4,)``, ``trans_p`` ``float64 (4, 4)``, ``emit_p``
        ``float64 (4, 0x9FD6 - 0x4E00)``, states in the order ``B E M S``.
    """
    start = np.array([start_p[s] for s in STATES], np.float64)
    trans = np.array([[trans_p[a].get(b, MIN_FLOAT) for b in STATES] for a in STATES],
                     np.float64)
    emit = np.full((4, HAN_HI + 1 - HAN_LO), MIN_FLOAT, np.float64)
    for k, s in enumerate(STATES):
        for ch, p in emit_p[s].items():
            c = ord(ch)
            if HAN_LO <= c <= HAN_HI:  # finalseg only ever looks up characters of this range
                emit[k, c - HAN_LO] = p
    return {"start_p": start, "trans_p": trans, "emit_p": emit}


def _build_hmm_arrays():
    """jieba's bundled finalseg model as arrays."""
    from jieba.finalseg import prob_emit, prob_start, prob_trans  # noqa: PLC0415

    return hmm_arrays(prob_start.P, prob_trans.P, prob_emit.P)


def _cache_dir():
    from textmine._cache import cache_root

    return cache_root()


def _source_key(path):
    st = os.stat(path)
    return f"{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}"


def _table_bits(n, path):
    bits = max(4, int(2 * n - 1).bit_length())  # 2**bits >= 2 n
    if bits > 30:
        raise TextmineError(f"dictionary {path} is too large ({n} prefixes)")
    return bits


def _build_all(path):
    arrays = _build_dictionary_arrays(path)
    arrays.update(_build_hmm_arrays())
    arrays["cls"] = char_classes()
    # the edge table too: a cached dictionary then needs no kernel compiled to load
    arrays["keys"], arrays["vals"] = _jiebacut_build_table(arrays["parent"], arrays["cp"],
                                                           _table_bits(arrays["parent"].shape[0], path))
    return arrays


def _load_or_build(path):
    """Dictionary + HMM arrays, from the per-user cache when its key matches, else built and cached."""
    prob = os.path.join(_jieba_dir(), "finalseg", "prob_emit.py")
    try:
        # the class table follows Python's Unicode database (\s, \d): part of the key
        key = "|".join([_FORMAT, unicodedata.unidata_version, _source_key(path),
                        _source_key(prob)])
    except OSError as e:
        raise TextmineError(f"cannot read dictionary {path}: {e.strerror}") from None
    root = _cache_dir()
    if root is None:  # nowhere to keep it: build every time
        return _build_all(path)
    cache = os.path.join(root, "jiebacut-" + hashlib.sha256(key.encode()).hexdigest()[:24]
                         + ".npz")
    try:
        with np.load(cache, allow_pickle=False) as z:
            if str(z["key"]) == key:
                return {k: z[k] for k in z.files if k != "key"}
    except Exception:  # noqa: BLE001 - missing, stale or corrupt: rebuild
        pass
    arrays = _build_all(path)
    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(cache), suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, key=np.array(key), **arrays)
            os.replace(tmp, cache)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:  # an unwritable cache only costs time
        log.debug("jiebacut: cannot write cache %s: %s", cache, e)
    return arrays


# ----------------------------------------------------------------------------------------------
# driver


class _Model(NamedTuple):
    """Every array the kernel reads, in :func:`_jiebacut_spans`'s argument order."""

    cls: np.ndarray
    root_child: np.ndarray
    keys: np.ndarray
    vals: np.ndarray
    shift: int
    logp: np.ndarray
    isword: np.ndarray
    unk: float
    start_p: np.ndarray
    trans_p: np.ndarray
    emit_p: np.ndarray
    prev: np.ndarray


class JiebaTokenizer:
    """jieba 0.42.1's accurate-mode ``cut``, token for token, in Numba.

    Parameters
    ----------
    hmm : bool, default True
        jieba's ``HMM`` flag: resegment runs of unknown single characters with finalseg's HMM.
    dictionary : str or None
        A main dictionary in jieba's ``word freq [tag]`` format (as ``jieba.set_dictionary``);
        None for jieba's bundled ``dict.txt``.

    Notes
    -----
    Only ``hmm`` and ``dictionary`` are pickled; the arrays are loaded on first use, from a
    per-user cache (:func:`textmine._cache.cache_root`) keyed by the
    dictionary's path, mtime and size, written atomically. Nothing is printed.
    Algorithm: ``Tokenizer.cut``, ``get_DAG``, ``calc``, ``__cut_DAG``, ``__cut_DAG_NO_HMM`` in
    ``jieba/__init__.py`` and ``viterbi``/``cut`` in ``jieba/finalseg/__init__.py`` (fxsjy/jieba
    0.42.1).

    Examples
    --------
    >>> JiebaTokenizer().lcut("我来到北京清华大学")
    ['我', '来到', '北京', '清华大学']
    """

    def __init__(self, hmm=True, dictionary=None):
        self.hmm = hmm
        self.dictionary = dictionary
        self._arrays = None

    def __getstate__(self):
        path = self.dictionary
        if path is not None:  # a worker may run elsewhere
            path = os.path.abspath(os.fspath(path))
        return {"hmm": self.hmm, "dictionary": path}

    def __setstate__(self, state):
        self.hmm = state["hmm"]
        self.dictionary = state["dictionary"]
        self._arrays = None

    def __repr__(self):
        return f"JiebaTokenizer(hmm={self.hmm!r}, dictionary={self.dictionary!r})"

    def _load(self):
        if self._arrays is None:
            path = self.dictionary if self.dictionary is not None else default_dictionary()
            a = _load_or_build(os.fspath(path))
            keys, vals = a["keys"], a["vals"]
            bits = keys.shape[0].bit_length() - 1  # 2**bits slots
            root_child = np.full(N_CODES, -1, np.int32)
            top = np.flatnonzero(a["parent"] == 0)
            root_child[a["cp"][top]] = (top + 1).astype(np.int32)
            prev = np.array([[STATES.index(p) for p in PREV_STATUS[s]] for s in STATES], np.int64)
            self._arrays = _Model(a["cls"], root_child, keys, vals, 32 - bits, a["logp"],
                                  a["isword"], float(a["unk"]), a["start_p"], a["trans_p"],
                                  a["emit_p"], prev)
        return self._arrays

    def spans(self, codes, line_starts, line_ends):
        """Token spans of many lines, each cut independently as ``jieba.cut(line, HMM=hmm)``.

        Parameters
        ----------
        codes : numpy.ndarray
            ``uint32`` of shape ``(n,)``: code points of the concatenated lines, e.g.
            ``np.frombuffer("".join(lines).encode("utf-32-le"), np.uint32)``.
        line_starts, line_ends : numpy.ndarray
            ``int64`` of shape ``(n_lines,)``: line ``k`` is ``codes[line_starts[k]:line_ends[k]]``.

        Returns
        -------
        starts, ends : numpy.ndarray
            ``int64`` of shape ``(n_tokens,)``: global offsets into ``codes``, in line order.
        """
        codes = np.ascontiguousarray(codes, np.uint32)
        line_starts = np.ascontiguousarray(line_starts, np.int64)
        line_ends = np.ascontiguousarray(line_ends, np.int64)
        if line_starts.shape != line_ends.shape or line_starts.ndim != 1:
            raise TextmineError("line_starts and line_ends must be 1-d arrays of equal length")
        if line_starts.size:
            if (line_starts < 0).any() or (line_ends > codes.shape[0]).any() \
                    or (line_ends < line_starts).any():
                raise TextmineError("line spans must satisfy 0 <= start <= end <= len(codes)")
        if codes.size and codes.max() >= N_CODES:
            raise TextmineError("codes must be Unicode code points (< 0x110000)")
        if codes.flags.writeable:  # one compiled specialization: read-only, as np.frombuffer gives
            codes = codes.view()
            codes.flags.writeable = False
        n, out_starts, out_ends = self._cut(codes, line_starts, line_ends,
                                            int((line_ends - line_starts).sum()))
        return out_starts[:n].copy(), out_ends[:n].copy()

    def _cut(self, codes, line_starts, line_ends, room):
        """Call the kernel on checked arrays; ``room`` >= the number of code points in the lines."""
        out_starts = np.empty(room, np.int64)
        out_ends = np.empty(room, np.int64)
        m = self._arrays if self._arrays is not None else self._load()
        n = _jiebacut_spans(codes, line_starts, line_ends, m.cls, m.root_child, m.keys, m.vals,
                            m.shift, m.logp, m.isword, m.unk, bool(self.hmm), m.start_p,
                            m.trans_p, m.emit_p, m.prev, out_starts, out_ends)
        return n, out_starts, out_ends

    def lcut(self, text):
        """Tokens of ``text``, equal to ``jieba.lcut(text, HMM=hmm)``.

        Parameters
        ----------
        text : str or bytes
            Bytes are decoded as jieba's ``strdecode`` does: UTF-8, else GBK ignoring errors.

        Returns
        -------
        list of str
        """
        if isinstance(text, (bytes, bytearray)):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError:
                text = bytes(text).decode("gbk", "ignore")
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
        size = codes.shape[0]
        n, starts, ends = self._cut(codes, _ZERO, np.array([size], np.int64), size)
        return [text[s:e] for s, e in zip(starts[:n].tolist(), ends[:n].tolist())]

    def warmup(self):
        """Load the dictionary and compile the kernels on a tiny input; returns ``self``."""
        self.lcut("我来到北京清华大学, 他来到了网易杭研大厦 abc 3.5% 十二")
        return self
