"""Minimum-entropy new-word discovery: exact n-gram cohesion, cutting, backtracking, de-redundancy.

The corpus is turned into *units*: a Han character, or a whole run of Latin letters and digits
(full-width forms folded to ASCII). Punctuation, symbols and whitespace split the text and never
belong to an n-gram. Units become ``int32`` ids by descending frequency; units rarer than
``min_count`` become the separator 0, because no n-gram that contains them can reach ``min_count``.
With ``units="tokens"`` (:class:`_TokenEncoder`) a unit is a whitespace-separated token instead
(English, segmented Chinese; words are then phrases): a map task interns its tokens as keys in
order of first appearance, exactly as it does Latin/digit runs, and the ids come from the merged
token counts, so nothing below the encoder knows which units it counts.
All counts are exact and come from three map-reduce passes over the corpus, on the engines of
:mod:`textmine.mapreduce` (``n_jobs`` local processes, or Dask workers), each map task reading
its own byte-range shard of the files (a line never spans shards, and no n-gram or piece spans
lines, so per-shard counts add up exactly):

* pass 1, unit counts: summed in the parent; they give the ids;
* pass 2, n-gram counts: a task packs every 2..n-gram of a shard into an ``int64`` key, sorts
  them in place (numpy's SIMD sort) and run-length codes them; a task takes a group of
  consecutive shards (about two groups per worker, :func:`_grouped`) and merges their partial
  counts itself (batched local counting, as ``count``), so the parent merges a few partials per
  worker, not one per shard; it cuts each into key ranges (by first unit, of about equal mass),
  merges range by range by linear merges of sorted runs, and spills the ranges to disk beyond
  its share of ``memory_limit``;
* pass 3, cutting: a task cuts its shards with the cohesive grams and counts their pieces (short
  ones as sorted packed keys, long ones in a hash table), merged in the task, then in the parent.

Memory grows with the distinct n-grams and pieces, never with the corpus length. With the local
engine, pass 1 keeps the unit keys of each shard in the temporary directory (4 bytes per unit,
on disk), so that passes 2 and 3 need not decode the text again; Dask workers
re-read the text. Saved counts of ``textmine count -t units --save`` (:class:`UnitTokenizer`) can
replace passes 1 and 2 (:func:`check_counts`).

Pipeline (docs/algorithms.md §2.2 and §2.4):

1. cohesion ``coh(w) = min_j ln(N #w / (#w[:j] #w[j:]))`` of every kept 2..n-gram; the set ``G``
   holds the grams whose cohesion reaches a threshold that grows with the length;
2. cut: a boundary between two units survives unless a gram of ``G`` spans it; pieces are counted
   exactly and those below ``min_count`` dropped;
3. backtrack: pieces of 3..n units must be in ``G``, longer pieces need every n-unit window in ``G``;
4. de-redundancy: longest first, re-segment each candidate with the rest of the lexicon by unigram
   DP; drop it (its count goes to its parts) when ``ln p(w) - sum ln p(parts)`` is below the
   redundancy threshold.
"""
import dataclasses
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from textmine._numba import njit
from textmine._packed import merge_runs
from textmine.corpus import STDIN, ReadOptions, Shard, iter_batches, make_shards, splittable
from textmine.errors import TextmineError
from textmine.formats import open_scratch, save_npy

# ---------------------------------------------------------------------------------------------
# character classes
CLS_OTHER, CLS_HAN, CLS_ALNUM, CLS_SPACE = 0, 1, 2, 3
_FOLD = {c: c - 0xFEE0 for c in [0xFF05, 0xFF0E] + list(range(0xFF10, 0xFF1A)) + list(range(0xFF21, 0xFF3B))
         + list(range(0xFF41, 0xFF5B))}
_FOLD_TABLE = str.maketrans(_FOLD)


def fold_width(text):
    """Fold full-width ASCII letters and digits to ASCII (one character to one character)."""
    return text.translate(_FOLD_TABLE)


@njit
def _classify(cps):
    """Character class of each code point.

    Parameters
    ----------
    cps : ndarray of uint32, shape (n,)
        Code points (full-width letters and digits already folded or not).

    Returns
    -------
    ndarray of int8, shape (n,)
        1 Han (CJK ideographs, extensions, 〇 and ○), 2 Latin letter or digit (ASCII or
        full-width), 3 whitespace, 0 anything else (punctuation, symbols).
    """
    out = np.zeros(cps.shape[0], dtype=np.int8)
    for i in range(cps.shape[0]):
        c = cps[i]
        if (0x4E00 <= c <= 0x9FFF or 0x3400 <= c <= 0x4DBF or 0xF900 <= c <= 0xFAFF
                or 0x20000 <= c <= 0x2FA1F or c == 0x3007 or c == 0x25CB):
            out[i] = 1
        elif (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or 0xFF10 <= c <= 0xFF19
              or 0xFF21 <= c <= 0xFF3A or 0xFF41 <= c <= 0xFF5A):
            out[i] = 2
        elif c == 32 or c == 9 or c == 10 or c == 13 or c == 0x3000 or c == 0xA0 or 0x2000 <= c <= 0x200B:
            out[i] = 3
    # numbers stay whole: a decimal point between digits, a percent sign after a digit
    for i in range(1, cps.shape[0]):
        c = cps[i]
        if out[i] == 0 and _is_digit(cps[i - 1]):
            if (c == 0x2E or c == 0xFF0E) and i + 1 < cps.shape[0] and _is_digit(cps[i + 1]):
                out[i] = 2
            elif c == 0x25 or c == 0xFF05:
                out[i] = 2
    return out


@njit
def _is_digit(c):
    return 48 <= c <= 57 or 0xFF10 <= c <= 0xFF19


@njit
def _run_spans(cls):
    """Start and end (int64 arrays) of each maximal run of class 2 (Latin letters and digits)."""
    n = cls.shape[0]
    starts = np.empty(n, dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    r = 0
    i = 0
    while i < n:
        if cls[i] == 2:
            j = i
            while j < n and cls[j] == 2:
                j += 1
            starts[r] = i
            ends[r] = j
            r += 1
            i = j
        else:
            i += 1
    return starts[:r].copy(), ends[:r].copy()


@njit
def _units(cps, cls, run_keys):
    """Unit sequence of a text: Han characters by code point, Latin/digit runs by ``run_keys``.

    Parameters
    ----------
    cps : ndarray of uint32, shape (n,)
    cls : ndarray of int8, shape (n,)
        From :func:`_classify`.
    run_keys : ndarray of int64, shape (r,)
        Key of the k-th Latin/digit run of the text, in order of appearance.

    Returns
    -------
    ndarray of int64, shape (m,)
        Unit keys, with ``-1`` for each split (a run of other characters); never two ``-1`` in a row.
    """
    out = np.empty(cps.shape[0] + 1, dtype=np.int64)
    m = 0
    k = 0
    i = 0
    n = cps.shape[0]
    while i < n:
        c = cls[i]
        if c == 1:
            out[m] = cps[i]
            m += 1
            i += 1
        elif c == 2:
            out[m] = run_keys[k]
            k += 1
            m += 1
            while i < n and cls[i] == 2:
                i += 1
        else:
            if m > 0 and out[m - 1] != -1:
                out[m] = -1
                m += 1
            i += 1
    if m > 0 and out[m - 1] != -1:
        out[m] = -1
        m += 1
    return out[:m]


RUN_BASE = 0x110000


@njit
def _unit_spans(cls):
    """Units of classified text for ``count -t units``: a Han character, or a maximal Latin/digit run.

    Returns ``(ustart, uend, goff)`` (int64): unit ``u`` is ``[ustart[u], uend[u])``; group ``g``
    (a run of units with no split between them) holds units ``goff[g]:goff[g + 1]``.
    """
    n = cls.shape[0]
    ustart = np.empty(n, dtype=np.int64)
    uend = np.empty(n, dtype=np.int64)
    goff = np.empty(n + 1, dtype=np.int64)
    u = 0
    g = 0
    i = 0
    open_group = False
    while i < n:
        c = cls[i]
        if c == 1 or c == 2:
            if not open_group:
                goff[g] = u
                g += 1
                open_group = True
            j = i + 1
            if c == 2:
                while j < n and cls[j] == 2:
                    j += 1
            ustart[u] = i
            uend[u] = j
            u += 1
            i = j
        else:
            open_group = False
            i += 1
    goff[g] = u
    return ustart[:u].copy(), uend[:u].copy(), goff[:g + 1].copy()


class UnitTokenizer:
    """``--tokenizer units`` of ``textmine count``: the units of discover-words (a Han character, or
    a whole Latin/digit run with full-width forms folded), n-grams within runs of units; its
    ``count --n MAX_N --save`` counts are what ``discover-words --counts`` reuses."""

    name = "units"

    def units(self, lines):
        text = "\n".join(lines)
        cls = _classify(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32))
        codes = np.frombuffer(fold_width(text).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ustart, uend, goff = _unit_spans(cls)
        return codes, ustart, uend, goff, False
PAIR_SIDE = 2048  # 2-grams of the 2048 most frequent units are looked up in a 512 kB bitmap


class _Encoder:
    """Text to unit keys; Latin/digit runs get keys ``RUN_BASE + k`` in order of first appearance."""

    def __init__(self):
        self.runs = {}  # folded run -> key
        self.raw = {}  # run as written -> key

    def encode(self, lines):
        text = "\n".join(lines)
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        cls = _classify(cps)
        runs, raw = self.runs, self.raw
        keys = []
        rs, re_ = _run_spans(cls)
        for a, b in zip(rs.tolist(), re_.tolist()):
            r = text[a:b]
            k = raw.get(r)
            if k is None:
                f = fold_width(r)
                k = runs.get(f)
                if k is None:
                    k = runs[f] = RUN_BASE + len(runs)
                raw[r] = k
            keys.append(k)
        return _units(cps, cls, np.array(keys, dtype=np.int64)), len(text) - text.count("\n")


class _TokenEncoder:
    """Text to unit keys for ``units="tokens"``: every whitespace-separated token is one unit.

    A token (as written, no case or width folding) with a letter, digit or Han character
    (``str.isalnum`` of one of its characters) gets the key ``RUN_BASE + k``, ``k`` in order of
    first appearance, as a Latin/digit run does in character mode; a token of punctuation or
    symbols only ("," "--" "，" "——") splits the text as punctuation does there, and so does a
    line end. ``runs``, the keys and the spool are shared with :class:`_Encoder`, so the passes do
    not know which units they count. ``gaps`` counts the places where two tokens of a line
    stand side by side (none means the text was not segmented).
    """

    def __init__(self):
        self.runs = {}  # unit token -> key
        self._local = {}  # any token seen -> index into _key
        self._key = np.full(1, -1, dtype=np.int64)  # index -> key or -1; the last entry (-1) is the line end
        self.gaps = 0

    def encode(self, lines):
        local = self._local
        idx = []
        n_chars = 0
        gaps = 0
        for line in lines:
            n_chars += len(line)
            toks = line.split()
            if toks:
                idx.extend([local.setdefault(t, len(local)) for t in toks])
                idx.append(-1)  # the line end: the last entry of _key
                gaps += len(toks) - 1
        self.gaps += gaps
        if len(local) + 1 > self._key.shape[0]:
            runs = self.runs
            new = []
            for t in itertools.islice(local, self._key.shape[0] - 1, None):
                if any(ch.isalnum() for ch in t):
                    new.append(runs.setdefault(t, RUN_BASE + len(runs)))
                else:
                    new.append(-1)
            self._key = np.concatenate([self._key[:-1], np.array(new, dtype=np.int64), [-1]])
        keys = self._key[np.array(idx, dtype=np.int64)]
        if keys.shape[0]:  # never two splits in a row, none first
            split = keys == -1
            drop = np.empty_like(split)
            drop[0] = split[0]
            drop[1:] = split[1:] & split[:-1]
            keys = keys[~drop]
        return keys, n_chars


def _encoder(job):
    """A fresh text-to-unit-keys encoder for ``job.units``."""
    return _TokenEncoder() if job.units == "tokens" else _Encoder()


# ---------------------------------------------------------------------------------------------
# counting kernels

@njit
def _pack_ngrams(ids, n, bits):
    """Packed keys of every n-gram of units in one id array (in text order).

    Parameters
    ----------
    ids : ndarray of int32, shape (m,)
        Unit ids >= 1; 0 is a split that no n-gram crosses.
    n : int
        Order.
    bits : int
        Bits per id; ``n * bits <= 63``.

    Returns
    -------
    ndarray of int64, shape (k,)
        One key per n-gram occurrence, first unit in the high bits.
    """
    m = ids.shape[0]
    buf = np.empty(max(m - n + 1, 0), dtype=np.int64)
    mask = (np.int64(1) << (bits * n)) - 1
    k = 0
    key = np.int64(0)
    run = 0  # units since the last split
    for i in range(m):  # rolling key of the last n units
        v = ids[i]
        if v == 0:
            run = 0
            key = 0
            continue
        key = ((key << bits) | v) & mask
        run += 1
        if run >= n:
            buf[k] = key
            k += 1
    return buf[:k]  # a view: no copy of a corpus-sized array


def _count_ngrams(ids, n, bits):
    """Exact counts of the n-grams of one id array: (sorted distinct keys, counts), int64."""
    keys = _pack_ngrams(ids, n, bits)
    keys.sort()  # in place; numpy's SIMD sort
    return _sorted_runs(keys, 1)


@njit
def _unit_histogram(keys, han, runs):
    """Add the unit keys of one batch to the counts ``han`` (by code point, int64[RUN_BASE]) and
    ``runs`` (by ``key - RUN_BASE``, int64, long enough); splits (-1) are skipped."""
    for k in keys:
        if k >= RUN_BASE:
            runs[k - RUN_BASE] += 1
        elif k >= 0:
            han[k] += 1


@njit
def _keys_to_ids(keys, han_to_id, run_to_id):
    """Unit ids (int32) of unit keys: ``han_to_id[key]`` for a code point, ``run_to_id[key -
    RUN_BASE]`` for a Latin/digit run, 0 for a split (-1)."""
    out = np.zeros(keys.shape[0], dtype=np.int32)
    for i in range(keys.shape[0]):
        k = keys[i]
        if k >= RUN_BASE:
            out[i] = run_to_id[k - RUN_BASE]
        elif k >= 0:
            out[i] = han_to_id[k]
    return out


@njit
def _sorted_rle(keys, weights):
    """Sum ``weights`` over runs of equal values of sorted ``keys`` (int64 arrays of equal length)."""
    k = keys.shape[0]
    ukeys = np.empty(k, dtype=np.int64)
    ucounts = np.empty(k, dtype=np.int64)
    u = -1
    for i in range(k):
        if u < 0 or keys[i] != ukeys[u]:
            u += 1
            ukeys[u] = keys[i]
            ucounts[u] = weights[i]
        else:
            ucounts[u] += weights[i]
    return ukeys[:u + 1].copy(), ucounts[:u + 1].copy()


@njit
def _sorted_runs(keys, min_count):
    """Distinct values of sorted int64 ``keys`` occurring at least ``min_count`` times, and their
    counts: (keys, counts), int64 arrays sized exactly (a first pass counts them)."""
    k = keys.shape[0]
    if min_count <= 1:  # every run: one comparison per key
        m = 1 if k else 0
        for i in range(1, k):
            m += keys[i] != keys[i - 1]
        ukeys = np.empty(m, dtype=np.int64)
        ucounts = np.empty(m, dtype=np.int64)
        u = -1
        for i in range(k):
            if i == 0 or keys[i] != keys[i - 1]:
                u += 1
                ukeys[u] = keys[i]
                ucounts[u] = 1
            else:
                ucounts[u] += 1
        return ukeys, ucounts
    m = 0
    i = 0
    while i < k:
        j = i + 1
        while j < k and keys[j] == keys[i]:
            j += 1
        m += j - i >= min_count
        i = j
    ukeys = np.empty(m, dtype=np.int64)
    ucounts = np.empty(m, dtype=np.int64)
    u = 0
    i = 0
    while i < k:
        j = i + 1
        while j < k and keys[j] == keys[i]:
            j += 1
        if j - i >= min_count:
            ukeys[u] = keys[i]
            ucounts[u] = j - i
            u += 1
        i = j
    return ukeys, ucounts


def _merge_counts(parts):
    """Exact merge of (sorted distinct int64 keys, int64 counts) partials: linear merges of two
    runs at a time, the smallest first (:func:`textmine._packed.merge_runs`)."""
    if len(parts) == 1:
        return parts[0]
    return merge_runs([(np.ascontiguousarray(k), np.ascontiguousarray(c)) for k, c in parts],
                      empty=(np.empty(0, np.int64), np.empty(0, np.int64)))


class _OrderCounter:
    """Accumulates exact partial counts of one order, merged in memory as they come and spilled as
    sorted runs to disk when the merged counts outgrow half of ``limit_bytes``.

    A partial (sorted keys and counts, from one map task) is cut at the ``bounds`` of the key
    ranges (a binary search each) and each range copied, so the partial itself can go. When the
    bytes held pass twice those of the last merge (and an eighth of the limit), every range is
    merged into one run (linear merges of two sorted runs at a time), range by range, freeing its
    inputs as it goes: with the distinct keys fixed, memory stays near twice their size however
    many partials come (a repeated corpus never spills). When the merged runs pass half the limit
    (distinct keys growing), they are written to disk, one file per range; the result merges each
    range from memory and disk, and the ranges are concatenated: they are in key order. Memory
    stays below ``limit_bytes`` plus one partial and one merged range.

    ``bounds``: increasing int64 keys, the first keys of ranges ``1..len(bounds)`` (range 0 starts
    at the smallest key); pick them so that the ranges hold about equal numbers of keys.
    """

    def __init__(self, limit_bytes, tmpdir_factory, bounds=()):
        self.limit, self.size, self.merged = limit_bytes, 0, 0
        self.tmpdir_factory, self.spilled = tmpdir_factory, 0
        self.bounds = np.asarray(bounds, dtype=np.int64)
        self.n_ranges = self.bounds.shape[0] + 1
        self.ranges = [[] for _ in range(self.n_ranges)]  # per key range: sorted runs (keys, counts)

    def add(self, keys, counts):
        """Add partial counts: sorted distinct int64 keys and their int64 counts."""
        offsets = np.concatenate([[0], np.searchsorted(keys, self.bounds), [keys.shape[0]]]).tolist()
        for b in range(self.n_ranges):
            lo, hi = offsets[b], offsets[b + 1]
            if hi > lo:
                self.ranges[b].append((keys[lo:hi].copy(), counts[lo:hi].copy()))
        self.size += keys.nbytes + counts.nbytes
        if self.size > max(2 * self.merged, self.limit // 8):
            self._compact()
            if self.size > self.limit // 2:
                self._spill()

    def _compact(self):
        """Merge the runs of every range into one (range by range: the inputs go as it goes)."""
        size = 0
        for b in range(self.n_ranges):
            runs = self.ranges[b]
            if len(runs) > 1:
                self.ranges[b] = runs = [_merge_counts(runs)]
            size += sum(k.nbytes + c.nbytes for k, c in runs)
        self.size = self.merged = size

    def _spill(self):
        d = self.tmpdir_factory()
        for b in range(self.n_ranges):
            runs = self.ranges[b]
            keys, counts = _merge_counts(runs) if runs else (np.empty(0, np.int64), np.empty(0, np.int64))
            self.ranges[b] = []
            save_npy(os.path.join(d, f"{id(self)}-{b}-{self.spilled}.npy"), np.stack([keys, counts]))
        self.size = self.merged = 0
        self.spilled += 1

    def result(self, min_count):
        """Sorted keys counted at least ``min_count`` times and their counts (int64 arrays)."""
        d = self.tmpdir_factory() if self.spilled else None
        out = []
        for b in range(self.n_ranges):
            runs, self.ranges[b] = self.ranges[b], []
            for s in range(self.spilled):
                p = os.path.join(d, f"{id(self)}-{b}-{s}.npy")
                a = np.load(p)
                os.unlink(p)
                runs.append((a[0], a[1]))
            keys, counts = _merge_counts(runs) if runs else (np.empty(0, np.int64), np.empty(0, np.int64))
            keep = counts >= min_count
            out.append((keys[keep], counts[keep]))
        if not out:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate([k for k, _ in out]), np.concatenate([c for _, c in out])


def _range_bounds(id_count, n, bits, n_ranges=64):
    """Key bounds (for :class:`_OrderCounter`) of ``n_ranges`` ranges of packed n-grams by their
    first unit, of about equal expected mass: a unit starts about as many n-grams as it occurs."""
    cum = np.cumsum(id_count[1:])
    if cum.shape[0] == 0 or cum[-1] == 0:
        return np.empty(0, np.int64)
    first = 1 + np.searchsorted(cum, cum[-1] * np.arange(1, n_ranges) / n_ranges, side="right")
    first = np.unique(first[(first > 1) & (first <= cum.shape[0])])
    return first.astype(np.int64) << np.int64(bits * (n - 1))


@njit
def _slot(key, shift):
    return np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(shift))


@njit
def _key_set(keys):
    """Open-addressing hash set of non-negative int64 keys.

    Parameters
    ----------
    keys : ndarray of int64, shape (k,)

    Returns
    -------
    ndarray of int64, shape (2**b,)
        The table, ``-1`` in empty slots; at most half full.
    """
    b = 4
    while (1 << b) < 2 * keys.shape[0] + 2:
        b += 1
    table = np.full(1 << b, -1, dtype=np.int64)
    mask = (1 << b) - 1
    for key in keys:
        s = _slot(key, 64 - b)
        while table[s] != -1 and table[s] != key:
            s = (s + 1) & mask
        table[s] = key
    return table


@njit
def _table_shift(table):
    """``64 - log2(len(table))``: the hash shift of a power-of-two table (computed once per kernel)."""
    b = 0
    while (1 << b) < table.shape[0]:
        b += 1
    return 64 - b


@njit
def _in_set(table, key):
    """Whether ``key`` is in a table from :func:`_key_set`."""
    return _in_set_s(table, _table_shift(table), key)


@njit
def _in_set_s(table, shift, key):
    """:func:`_in_set` with the table's :func:`_table_shift` precomputed."""
    mask = table.shape[0] - 1
    s = _slot(key, shift)
    while True:
        v = table[s]
        if v == key:
            return True
        if v == -1:
            return False
        s = (s + 1) & mask


def _cut(ids, max_n, bits, good):
    """:func:`_cut_bm` without a pair bitmap or filter (every lookup goes to the hash set)."""
    return _cut_bm(ids, max_n, bits, good, np.zeros(0, dtype=np.uint8), 0, np.zeros(0, dtype=np.uint8))


@njit
def _bloom_bit(key, shift):
    return np.int64((np.uint64(key) * np.uint64(0xC2B2AE3D27D4EB4F)) >> np.uint64(shift))


@njit
def _key_filter(keys):
    """One-hash Bloom filter of int64 keys: about 16 bits per key (a power of two, 1 kB to 2 MB).

    Returns
    -------
    ndarray of uint8
        Bit :func:`_bloom_bit` of every key is set; a clear bit proves a key absent.
    """
    b = 13
    while (1 << b) < 16 * keys.shape[0] and b < 24:
        b += 1
    out = np.zeros((1 << b) >> 3, dtype=np.uint8)
    for k in keys:
        i = _bloom_bit(k, 64 - b)
        out[i >> 3] |= np.uint8(1 << (i & 7))
    return out


@njit
def _pair_bitmap(keys2, bits, side):
    """Dense bitmap of the cohesive 2-grams of frequent units.

    Parameters
    ----------
    keys2 : ndarray of int64, shape (k,)
        Packed keys of the cohesive 2-grams.
    bits, side : int
        Bits per id; pairs ``(a, b)`` with ``a, b < side`` go in the bitmap.

    Returns
    -------
    ndarray of uint8, shape (ceil(side * side / 8),)
        Bit ``a * side + b`` is set when the 2-gram ``(a, b)`` is in ``keys2``.
    """
    bm = np.zeros((side * side + 7) // 8, dtype=np.uint8)
    mask = (np.int64(1) << bits) - 1
    for k in keys2:
        a = k >> bits
        b = k & mask
        if a < side and b < side:
            idx = a * side + b
            bm[idx >> 3] |= np.uint8(1 << (idx & 7))
    return bm


@njit
def _cut_bm(ids, max_n, bits, good, pairs, side, filt):
    """Mark which adjacent units a cohesive gram joins.

    Parameters
    ----------
    ids : ndarray of int32, shape (m,)
        Unit ids, 0 = split.
    max_n, bits : int
    good : ndarray of int64
        :func:`_key_set` of the packed keys of the cohesive grams of every order 2..max_n (keys of
        different orders never collide: the first id of a gram is >= 1).
    pairs, side : ndarray of uint8, int
        :func:`_pair_bitmap` of the cohesive 2-grams (answers for pairs of ids ``< side`` without a
        hash probe; ``side`` 0: none).
    filt : ndarray of uint8
        :func:`_key_filter` of the keys of ``good`` (most absent grams are rejected there, in a
        small array, before the hash probe); empty: none.

    Returns
    -------
    ndarray of bool, shape (m,)
        ``join[i]``: units ``i`` and ``i + 1`` are in one piece.
    """
    m = ids.shape[0]
    join = np.zeros(m, dtype=np.bool_)
    shift = _table_shift(good)
    fshift = _table_shift(filt) - 3  # the filter has 8 bits per byte
    use_filt = filt.shape[0] > 0
    # order by order, so that a longer gram is looked up only if it could still join something
    for n in range(2, max_n + 1):
        for i in range(m - n + 1):
            todo = False
            for j in range(n - 1):
                if not join[i + j]:
                    todo = True
                    break
            if not todo:
                continue
            key = np.int64(0)
            ok = True
            for j in range(n):
                v = ids[i + j]
                if v == 0:
                    ok = False
                    break
                key = (key << bits) | v
            if not ok:
                continue
            if n == 2 and ids[i] < side and ids[i + 1] < side:
                idx = np.int64(ids[i]) * side + ids[i + 1]
                hit = (pairs[idx >> 3] >> (idx & 7)) & 1 == 1
            elif use_filt:
                f = _bloom_bit(key, fshift)
                hit = (filt[f >> 3] >> (f & 7)) & 1 == 1 and _in_set_s(good, shift, key)
            else:
                hit = _in_set_s(good, shift, key)
            if hit:
                for j in range(n - 1):
                    join[i + j] = True
    return join


@njit
def _piece_table(ids, starts, lengths, hashes, weights):
    """Distinct pieces and their summed weights, by a hash table; verifies hash collisions.

    Parameters
    ----------
    ids : ndarray of int32
        Content store: piece ``i`` is ``ids[starts[i]:starts[i] + lengths[i]]``.
    starts, lengths, hashes, weights : ndarray of int64, shape (p,)

    Returns
    -------
    uhash, count : ndarray of int64, shape (u,)
        Distinct hashes in order of first appearance, and summed weights.
    content, offsets : ndarray of int32 (total length), int64 (u + 1)
        The ids of each distinct piece (CSR).
    ok : bool
        False if two different pieces share a hash.
    """
    p = hashes.shape[0]
    b = 4
    while (1 << b) < 2 * p + 2:
        b += 1
    mask = (1 << b) - 1
    table = np.full(1 << b, -1, dtype=np.int64)
    uhash = np.empty(p, dtype=np.int64)
    count = np.empty(p, dtype=np.int64)
    rep = np.empty(p, dtype=np.int64)
    u = 0
    ok = True
    for i in range(p):
        h = hashes[i]
        s = _slot(h & 0x7FFFFFFFFFFFFFFF, 64 - b)
        while True:
            r = table[s]
            if r == -1:
                table[s] = u
                uhash[u] = h
                count[u] = weights[i]
                rep[u] = i
                u += 1
                break
            if uhash[r] == h:
                count[r] += weights[i]
                q = rep[r]
                if lengths[q] != lengths[i]:
                    ok = False
                else:
                    for j in range(lengths[i]):
                        if ids[starts[q] + j] != ids[starts[i] + j]:
                            ok = False
                break
            s = (s + 1) & mask
    offsets = np.zeros(u + 1, dtype=np.int64)
    for k in range(u):
        offsets[k + 1] = offsets[k] + lengths[rep[k]]
    content = np.empty(offsets[u], dtype=np.int32)
    for k in range(u):
        st = starts[rep[k]]
        for j in range(lengths[rep[k]]):
            content[offsets[k] + j] = ids[st + j]
    return uhash[:u].copy(), count[:u].copy(), content, offsets, ok


def _merge_piece_parts(parts):
    """Merge per-batch piece tables (hashes, counts, content, offsets) into one, exactly."""
    if len(parts) == 1:
        return parts[0]
    hashes = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([p[1] for p in parts])
    content = np.concatenate([p[2] for p in parts])
    shift = np.cumsum([0] + [p[2].shape[0] for p in parts])
    starts = np.concatenate([p[3][:-1] + shift[k] for k, p in enumerate(parts)]).astype(np.int64)
    lengths = np.concatenate([np.diff(p[3]) for p in parts]).astype(np.int64)
    uh, uc, content, offsets, ok = _piece_table(content, starts, lengths, hashes, counts)
    if not ok:
        raise RuntimeError("64-bit piece hash collision; please report")
    return uh, uc, content, offsets


@njit
def _piece_keys(ids, join, bits, max_len):
    """Pieces of a cut unit array: packed keys of the short ones, spans and hashes of the long ones.

    Parameters
    ----------
    ids : ndarray of int32, shape (m,)
        Unit ids, 0 = split.
    join : ndarray of bool, shape (m,)
        From :func:`_cut`.
    bits, max_len : int
        Bits per id; pieces of at most ``max_len`` units (``max_len * bits <= 63``) are packed.

    Returns
    -------
    keys : ndarray of int64, shape (s,)
        Packed key of each short piece (first unit in the high bits; the length is the key's
        bit length rounded up to ``bits``, since ids are >= 1), in text order.
    starts, lengths, hashes : ndarray of int64, shape (l,)
        The long pieces, as :func:`_piece_hashes` gives them.
    """
    m = ids.shape[0]
    keys = np.empty(m, dtype=np.int64)
    starts = np.empty(0, dtype=np.int64)
    lengths = np.empty(0, dtype=np.int64)
    hashes = np.empty(0, dtype=np.int64)
    n_long = 0
    k = 0
    i = 0
    while i < m:
        if ids[i] == 0:
            i += 1
            continue
        s = i
        key = np.int64(0)
        while True:
            key = (key << bits) | ids[i]
            i += 1
            if not join[i - 1] or i >= m or ids[i] == 0 or i - s > max_len:
                break
        if i - s <= max_len and (i >= m or not join[i - 1] or ids[i] == 0):
            keys[k] = key
            k += 1
            continue
        # a long piece: finish it and hash it
        while i < m and join[i - 1] and ids[i] != 0:
            i += 1
        if n_long == starts.shape[0]:
            cap = max(16, 2 * n_long)
            st2 = np.empty(cap, dtype=np.int64)
            ln2 = np.empty(cap, dtype=np.int64)
            hs2 = np.empty(cap, dtype=np.int64)
            st2[:n_long] = starts[:n_long]
            ln2[:n_long] = lengths[:n_long]
            hs2[:n_long] = hashes[:n_long]
            starts, lengths, hashes = st2, ln2, hs2
        h = np.uint64(_SEQ_H0)
        for j in range(s, i):
            h = _seq_hash_step(h, ids[j])
        starts[n_long] = s
        lengths[n_long] = i - s
        hashes[n_long] = _seq_hash_final(h, i - s)
        n_long += 1
    return keys[:k], starts[:n_long].copy(), lengths[:n_long].copy(), hashes[:n_long].copy()


@njit
def _unpack_keys(keys, bits):
    """CSR (content int32, offsets int64) of the id sequences packed in ``keys`` (ids >= 1)."""
    p = keys.shape[0]
    offsets = np.zeros(p + 1, dtype=np.int64)
    mask = (np.int64(1) << bits) - 1
    for q in range(p):
        n = 0
        v = keys[q]
        while v > 0:
            v >>= bits
            n += 1
        offsets[q + 1] = offsets[q] + n
    out = np.empty(offsets[p], dtype=np.int32)
    for q in range(p):
        v = keys[q]
        for j in range(offsets[q + 1] - 1, offsets[q] - 1, -1):
            out[j] = v & mask
            v >>= bits
    return out, offsets


@njit
def _seq_hash_step(h, v):
    """One step of the 64-bit hash of an id sequence (uint64 state)."""
    h = (h ^ np.uint64(v)) * np.uint64(1099511628211)
    return h ^ (h >> np.uint64(29))


@njit
def _seq_hash_final(h, n):
    """The hash of a sequence of ``n`` ids from its state (int64)."""
    return np.int64((h ^ np.uint64(n)) * np.uint64(0x9E3779B97F4A7C15))


_SEQ_H0 = 1469598103934665603


@njit
def _backtrack(content, starts, lengths, max_n, bits, good):
    """Backtracking of long pieces against the cohesive grams.

    Parameters
    ----------
    content : ndarray of int32
        Piece ``q`` is ``content[starts[q]:starts[q] + lengths[q]]``.
    starts, lengths : ndarray of int64, shape (p,)
    max_n, bits : int
    good : ndarray of int64
        :func:`_key_set` of the cohesive grams of orders 2..max_n.

    Returns
    -------
    ndarray of bool, shape (p,)
        Pieces of < 3 units are kept; of 3..max_n units kept if cohesive themselves; longer ones kept
        if every window of ``max_n`` units is cohesive.
    """
    p = starts.shape[0]
    keep = np.ones(p, dtype=np.bool_)
    shift = _table_shift(good)
    for q in range(p):
        L = lengths[q]
        s = starts[q]
        if L < 3:
            continue
        w = min(L, max_n)
        for i in range(L - w + 1):
            key = np.int64(0)
            for j in range(w):
                key = (key << bits) | content[s + i + j]
            if not _in_set_s(good, shift, key):
                keep[q] = False
                break
    return keep


@njit
def _gather(content, starts, lengths):
    """CSR (content int32, offsets int64) of the slices ``content[starts[q]:starts[q] + lengths[q]]``."""
    p = starts.shape[0]
    offsets = np.zeros(p + 1, dtype=np.int64)
    for q in range(p):
        offsets[q + 1] = offsets[q] + lengths[q]
    out = np.empty(offsets[p], dtype=np.int32)
    for q in range(p):
        for j in range(lengths[q]):
            out[offsets[q] + j] = content[starts[q] + j]
    return out, offsets


@njit
def _seq_table(content, offsets):
    """Hash table of distinct id sequences (the candidate words).

    Returns
    -------
    table : ndarray of int64, shape (2**b,)
        Candidate index per slot, -1 when empty.
    hashes : ndarray of int64, shape (w,)
    ok : bool
        False on a 64-bit hash collision between two candidates.
    """
    p = offsets.shape[0] - 1
    b = 4
    while (1 << b) < 2 * p + 2:
        b += 1
    mask = (1 << b) - 1
    table = np.full(1 << b, -1, dtype=np.int64)
    hashes = np.empty(p, dtype=np.int64)
    ok = True
    for k in range(p):
        h = np.uint64(_SEQ_H0)
        for j in range(offsets[k], offsets[k + 1]):
            h = _seq_hash_step(h, content[j])
        hk = _seq_hash_final(h, offsets[k + 1] - offsets[k])
        hashes[k] = hk
        s = _slot(hk & 0x7FFFFFFFFFFFFFFF, 64 - b)
        while table[s] != -1:
            if hashes[table[s]] == hk:
                ok = False
            s = (s + 1) & mask
        table[s] = k
    return table, hashes, ok


@njit
def _find_seq(table, shift, hashes, content, offsets, seq, lo, hi, h):
    """Index of the candidate equal to ``seq[lo:hi]`` (whose hash is ``h``) or -1; ``shift`` is
    :func:`_table_shift` of ``table``."""
    mask = table.shape[0] - 1
    s = _slot(h & 0x7FFFFFFFFFFFFFFF, shift)
    while True:
        k = table[s]
        if k == -1:
            return -1
        if hashes[k] == h and offsets[k + 1] - offsets[k] == hi - lo:
            same = True
            for j in range(hi - lo):
                if content[offsets[k] + j] != seq[lo + j]:
                    same = False
                    break
            if same:
                return k
        s = (s + 1) & mask


@njit
def _best_split(w, content, offsets, counts, alive, table, hashes, total, back, backk):
    """Best unigram log-probability of candidate ``w`` split into >= 2 live candidates.

    Fills ``back``/``backk`` (start and candidate of the last part ending at each position). Ties go
    to the smallest start (the first found when scanning starts in ascending order).
    """
    lo = offsets[w]
    L = offsets[w + 1] - lo
    best = np.full(L + 1, -np.inf)
    best[0] = 0.0
    log_total = math.log(total)
    shift = _table_shift(table)
    for j in range(L):
        if best[j] == -np.inf:
            continue
        h = np.uint64(_SEQ_H0)
        for i in range(j + 1, L + 1):
            h = _seq_hash_step(h, content[lo + i - 1])
            if j == 0 and i == L:
                continue
            k = _find_seq(table, shift, hashes, content, offsets, content, lo + j, lo + i, _seq_hash_final(h, i - j))
            if k < 0 or not alive[k]:
                continue
            v = best[j] + math.log(counts[k]) - log_total
            if v > best[i]:
                best[i] = v
                back[i] = j
                backk[i] = k
    return best[L]


@njit
def _deredundancy_kernel(content, offsets, counts, order, table, hashes, a, b):
    """De-redundancy (kexue.fm 5476): visit ``order``; drop a word whose log-probability beats its best
    split by less than ``a * (len - 1) + b``, giving its count to its parts.

    Parameters
    ----------
    content, offsets : CSR of the candidates (int32, int64)
    counts : ndarray of int64, shape (w,)
        Updated in place.
    order : ndarray of int64
        Multi-unit candidates, longest first.
    table, hashes : from :func:`_seq_table`
    a, b : float

    Returns
    -------
    alive : ndarray of bool, shape (w,)
    removed : int
    """
    p = offsets.shape[0] - 1
    alive = np.ones(p, dtype=np.bool_)
    total = 0.0
    for k in range(p):
        total += counts[k]
    maxlen = 1
    for k in range(p):
        maxlen = max(maxlen, offsets[k + 1] - offsets[k])
    back = np.zeros(maxlen + 1, dtype=np.int64)
    backk = np.zeros(maxlen + 1, dtype=np.int64)
    removed = 0
    for w in order:
        c = counts[w]
        L = offsets[w + 1] - offsets[w]
        alive[w] = False
        total -= c
        lp = _best_split(w, content, offsets, counts, alive, table, hashes, total, back, backk)
        s = math.log(c) - math.log(total) - lp
        if s < a * (L - 1) + b:
            removed += 1
            i = L
            while i > 0:
                counts[backk[i]] += c
                total += c
                i = back[i]
        else:
            alive[w] = True
            total += c
    return alive, removed


@njit
def _split_scores(content, offsets, counts, alive, table, hashes):
    """``ln p(w) - best split`` of every live multi-unit candidate (NaN elsewhere), float64 (w,)."""
    p = offsets.shape[0] - 1
    total = 0.0
    maxlen = 1
    for k in range(p):
        if alive[k]:
            total += counts[k]
        maxlen = max(maxlen, offsets[k + 1] - offsets[k])
    back = np.zeros(maxlen + 1, dtype=np.int64)
    backk = np.zeros(maxlen + 1, dtype=np.int64)
    out = np.full(p, np.nan)
    for w in range(p):
        if alive[w] and offsets[w + 1] - offsets[w] > 1:
            lp = _best_split(w, content, offsets, counts, alive, table, hashes, total, back, backk)
            out[w] = math.log(counts[w] / total) - lp
    return out


@njit
def _word_cohesion(content, offsets, max_n, bits, gram_keys, gram_coh, gram_offsets):
    """Cohesion of each candidate: of the word itself (<= max_n units) or the minimum over its
    max_n-windows; NaN for one unit or a gram without a count.

    ``gram_keys``/``gram_coh``: sorted keys and cohesions of orders 2..max_n concatenated, order ``n`` at
    ``gram_offsets[n]:gram_offsets[n + 1]``.
    """
    p = offsets.shape[0] - 1
    out = np.full(p, np.nan)
    for w in range(p):
        L = offsets[w + 1] - offsets[w]
        if L < 2:
            continue
        n = min(L, max_n)
        ks = gram_keys[gram_offsets[n]:gram_offsets[n + 1]]
        cs = gram_coh[gram_offsets[n]:gram_offsets[n + 1]]
        m = np.inf
        for i in range(L - n + 1):
            key = np.int64(0)
            for j in range(n):
                key = (key << bits) | content[offsets[w] + i + j]
            idx = np.searchsorted(ks, key)
            if idx < ks.shape[0] and ks[idx] == key:
                m = min(m, cs[idx])
            else:
                m = np.nan
                break
        out[w] = m
    return out


# ---------------------------------------------------------------------------------------------
# the passes: map tasks over shards on an engine of textmine.mapreduce, exact reduces here

@dataclass(frozen=True)
class _Job:
    """What every map task of a pass needs besides its source (pickled to the workers).

    ``han``/``han_ids``: code points of the frequent Han units and their ids; ``runs``: frequent
    Latin/digit runs (folded) to ids; ``good``/``good2``: packed keys of the cohesive grams of
    every order and of order 2 (the cut pass). ``token`` names the tables a worker builds from
    them once (:func:`_tables`). ``spool``: a folder (local engine) where the first pass keeps the
    unit keys of each shard (int32, 4 bytes per unit, and its Latin runs), so that the later
    passes need not decode the text again. ``units``: ``chars`` (:class:`_Encoder`) or
    ``tokens`` (:class:`_TokenEncoder`), the one place where the passes differ.
    """

    read: ReadOptions = field(default_factory=ReadOptions)
    batch_chars: int = 1 << 20
    max_n: int = 0
    bits: int = 0
    n_freq: int = 0
    token: str = ""
    han: object = None
    han_ids: object = None
    runs: object = None
    good: object = None
    good2: object = None
    spool: object = None
    units: str = "chars"


_TABLES = {}


def _tables(job):
    """Lookup tables of a job, built once per worker process (the last job's only)."""
    t = _TABLES.get(job.token)
    if t is None:
        _TABLES.clear()
        han_to_id = np.zeros(RUN_BASE, dtype=np.int32)
        han_to_id[job.han] = job.han_ids
        t = dict(han_to_id=han_to_id)
        if job.good is not None:
            side = min(job.n_freq + 1, PAIR_SIDE)
            t.update(good=_key_set(job.good), pairs=_pair_bitmap(job.good2, job.bits, side), side=side,
                     filt=_key_filter(job.good))
        _TABLES[job.token] = t
    return t


def _source_batches(source, job):
    """Batches of lines of a task's source: a shard of a file, or a list of batches."""
    if isinstance(source, Shard):
        return iter_batches(source, job.read, job.batch_chars)
    return source


def _units_task(task):
    """Map of pass 1: unit counts of a source, ``(han code points, their counts, folded runs
    (tokens with ``units="tokens"``), their counts, characters, gaps between tokens)``."""
    source, job = task
    enc = _encoder(job)
    han = np.zeros(RUN_BASE, dtype=np.int64)
    runs = np.zeros(0, dtype=np.int64)
    n_chars = 0
    spool = _spool_path(source, job)
    out = open_scratch(spool + ".keys.tmp") if spool is not None else None
    try:
        for lines in _source_batches(source, job):
            keys, nc = enc.encode(lines)
            n_chars += nc
            if out is not None:
                out.write(keys.astype(np.int32).data)  # keys < 2**31: code points and run numbers
            if len(enc.runs) > runs.shape[0]:
                runs = np.concatenate([runs, np.zeros(max(len(enc.runs), 2 * runs.shape[0]) - runs.shape[0],
                                                      np.int64)])
            _unit_histogram(keys, han, runs)
    finally:
        if out is not None:
            out.close()
    cps = np.flatnonzero(han)
    if spool is not None:
        with open_scratch(spool + ".runs.json") as f:
            f.write(json.dumps(list(enc.runs)).encode("utf-8"))
        os.replace(spool + ".keys.tmp", spool + ".keys")  # complete: the later passes may use it
    return cps, han[cps], list(enc.runs), runs[:len(enc.runs)], n_chars, getattr(enc, "gaps", 0)


def _spool_path(source, job):
    """Where the spooled arrays of a shard go (their path without suffix), or None."""
    if job.spool is None or not isinstance(source, Shard):
        return None
    name = hashlib.sha1(repr((source.path, source.start, source.end)).encode("utf-8", "surrogatepass")).hexdigest()
    return os.path.join(job.spool, name)



def _source_ids(source, job, chars=False):
    """Unit ids of a whole source (int32, 0 = split; every batch ends with a split); with
    ``chars``, also the characters read (0 from the spool)."""
    han_to_id = _tables(job)["han_to_id"]
    spool = _spool_path(source, job)
    if spool is not None and os.path.exists(spool + ".keys"):  # unit keys kept by the first pass
        with open(spool + ".runs.json", encoding="utf-8") as f:
            local = np.array([job.runs.get(r, 0) for r in json.load(f)] or [0], dtype=np.int32)
        ids = _keys_to_ids(np.fromfile(spool + ".keys", dtype=np.int32), han_to_id, local)
        return (ids, 0) if chars else ids
    enc = _encoder(job)
    local = np.zeros(0, dtype=np.int32)  # local run key - RUN_BASE -> id
    out = []
    n_chars = 0
    for lines in _source_batches(source, job):
        keys, nc = enc.encode(lines)
        n_chars += nc
        if len(enc.runs) > local.shape[0]:
            new = [job.runs.get(s, 0) for s in itertools.islice(enc.runs, local.shape[0], None)]
            local = np.concatenate([local, np.array(new, dtype=np.int32)])
        out.append(_keys_to_ids(keys, han_to_id, local))
    ids = np.concatenate(out) if len(out) != 1 else out[0] if out else np.zeros(0, dtype=np.int32)
    return (ids, n_chars) if chars else ids


def _ngram_task(task):
    """Map of pass 2: exact counts of the 2..max_n-grams of a source, ``{n: (sorted keys, counts)}``."""
    source, job = task
    ids = _source_ids(source, job)
    return {n: _count_ngrams(ids, n, job.bits) for n in range(2, job.max_n + 1)}


def _cut_task(task):
    """Map of pass 3: cut a source and count its pieces exactly: ``((keys, counts), (hashes,
    counts, content, offsets), characters)``, the short pieces as sorted packed keys, the long ones
    as a table (characters: 0 when the ids came from the spool)."""
    source, job = task
    t = _tables(job)
    ids, n_chars = _source_ids(source, job, chars=True)
    return _count_pieces(ids, _cut_bm(ids, job.max_n, job.bits, t["good"], t["pairs"], t["side"], t["filt"]),
                         job.bits) + (n_chars,)


def _nbytes(arrays):
    return sum(a.nbytes for a in arrays)


def _ngram_group_task(task):
    """Map of pass 2 over a group of sources, merged here (batched local counting, kexue.fm 7031,
    as in ``count``): ``({n: (sorted keys, counts)}, the sources left)``. The merged partial
    counts grow until they pass ``room`` bytes; then the task returns with the sources it did not
    read, for another task, so a worker holds about ``room`` plus one source's counts."""
    sources, job, room = task
    acc = None
    for i, source in enumerate(sources):
        part = _ngram_task((source, job))
        acc = part if acc is None else {n: _merge_counts([acc[n], part[n]]) for n in part}
        part = None
        if _nbytes(a for p in acc.values() for a in p) > room:
            return acc, i + 1, sources[i + 1:]
    return acc, len(sources), ()


def _cut_group_task(task):
    """Map of pass 3 over a group of sources, merged here: ``((keys, counts), (hashes, counts,
    content, offsets), characters, the sources left)``, as :func:`_ngram_group_task`."""
    sources, job, room = task
    acc = None
    for i, source in enumerate(sources):
        short, long, nc = _cut_task((source, job))
        acc = (short, long, nc) if acc is None else \
            (_merge_counts([acc[0], short]), _merge_piece_parts([acc[1], long]), acc[2] + nc)
        short = long = None
        if _nbytes(acc[0] + acc[1]) > room:
            return acc + (i + 1, sources[i + 1:])
    return acc + (len(sources), ())


_ROOM_FLOOR = 1 << 20  # bytes: the least room of a group task


def _grouped(eng, fn, sources, job, room, workers):
    """Run a group task (:func:`_ngram_group_task`, :func:`_cut_group_task`) over ``sources`` on
    ``eng``: about two groups of consecutive sources per worker, so that the parent merges a few
    partials per worker instead of one per source; the sources a task left (its merged partial
    passed ``room`` after ``n`` sources) go to another round, in groups of at most the least
    such ``n`` (so that few rounds, each ending when its slowest task does, are needed). Yields
    the tasks' results without the count and the sources left. The result of an exact merge does
    not depend on the groups."""
    todo = list(sources)
    fit = len(todo)  # the most sources a group may hold
    while todo:
        k = max(min(len(todo), 2 * workers), -(-len(todo) // fit))
        cut = [len(todo) * i // k for i in range(k + 1)]
        tasks = [(tuple(todo[cut[i]:cut[i + 1]]), job, room) for i in range(k)]
        todo = []
        for res in eng.map_unordered(fn, tasks):
            if res[-1]:
                todo += res[-1]
                fit = min(fit, res[-2])
            yield res[:-2]


def _count_pieces(ids, join, bits):
    """Exact counts of the pieces of a cut id array: ``((keys, counts), (hashes, counts, content,
    offsets))``, the pieces of at most ``63 // bits`` units as sorted packed keys, the longer ones
    as a table (:func:`_piece_table`)."""
    keys, starts, lengths, hashes = _piece_keys(ids, join, bits, 63 // bits)
    keys.sort()
    long = _piece_table(ids, starts, lengths, hashes, np.ones(hashes.shape[0], np.int64))
    if not long[4]:
        raise RuntimeError("64-bit piece hash collision; please report")
    return _sorted_runs(keys, 1), long[:4]


def _sorted_pieces(parts):
    """Merged long-piece tables, ordered by hash (so the result does not depend on task order)."""
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32), np.zeros(1, np.int64)
    uh, uc, content, offsets = _merge_piece_parts(parts)
    o = np.argsort(uh, kind="stable")
    content, offsets = _gather(content, offsets[:-1][o], np.diff(offsets)[o])
    return uh[o], uc[o], content, offsets


def _tasks(sources, job):
    return [(s, job) for s in sources]


def _warmup():
    """Compile (or load) every map kernel in this process before worker processes fork."""
    job = _Job(batch_chars=1 << 12)
    src = [["预热文本ab 1.5%预热", "文本"]]
    _units_task((src, job))
    job = dataclasses.replace(job, max_n=3, bits=3, n_freq=4, token="warmup",
                              han=np.array([ord(c) for c in "预热文本"]), han_ids=np.arange(1, 5, dtype=np.int32),
                              runs={"ab": 5}, good=np.array([(1 << 3) | 2], np.int64),
                              good2=np.array([(1 << 3) | 2], np.int64))
    part = _ngram_task((src, job))
    _OrderCounter(1 << 20, None).add(*part[2])
    _sorted_pieces([_cut_task((src, job))[1]] * 2)
    _keys_to_ids(np.zeros(1, np.int32), np.zeros(1, np.int32), np.zeros(1, np.int32))
    _merge_counts([_cut_task((src, job))[0]] * 2)
    _TABLES.clear()


def _spool_stdin(tmpdir):
    """Standard input copied to a temporary file (the passes read the corpus more than once)."""
    fd, path = tempfile.mkstemp(prefix="textmine-discover-stdin-", dir=tmpdir)
    os.close(fd)
    try:
        with open_scratch(path) as f:
            shutil.copyfileobj(sys.stdin.buffer, f, 1 << 20)
    except BaseException:
        os.unlink(path)
        raise
    return path


def _sources(batches, paths, n_jobs, memory_limit, tmpdir, cleanup, shard_bytes=None):
    """The task sources: byte-range shards of the files (``paths``), or groups of the given batches."""
    if paths is not None:
        paths = list(paths)
        if STDIN in paths:
            spooled = _spool_stdin(tmpdir)
            cleanup.append(spooled)
            paths = [spooled if p == STDIN else p for p in paths]
        total = sum(os.path.getsize(p) for p in paths if splittable(p))
        # a map task holds about 16 bytes per byte of its shard (ids, packed keys, partial counts):
        # the shards of the workers take half of the limit (PROCESS_BYTES, :func:`_discover`)
        shard = max(1 << 20, min(32 << 20, memory_limit // (32 * max(1, n_jobs))))
        if n_jobs > 1:
            shard = min(shard, max(1 << 20, total // (2 * n_jobs) + 1))
        return make_shards(paths, shard_bytes or shard)
    groups, group, size = [], [], 0
    for lines in batches:
        group.append(lines)
        size += sum(map(len, lines))
        if size >= 1 << 22:
            groups.append(group)
            group, size = [], 0
    if group:
        groups.append(group)
    return groups


# ---------------------------------------------------------------------------------------------
# saved counts (textmine count -t units --n MAX_N --save) in place of the first two passes

@njit
def _key_units(cls, char_off):
    """Units per key of concatenated unit n-gram keys (classes ``cls``; key ``k`` is characters
    ``char_off[k]:char_off[k + 1]``): the number of units, -1 for a key with a character that is
    no unit's (punctuation, space), and whether it holds a Latin/digit run (bool)."""
    p = char_off.shape[0] - 1
    n_units = np.zeros(p, dtype=np.int64)
    has_run = np.zeros(p, dtype=np.bool_)
    for k in range(p):
        i = char_off[k]
        while i < char_off[k + 1]:
            c = cls[i]
            if c == 1:
                i += 1
            elif c == 2:
                has_run[k] = True
                while i < char_off[k + 1] and cls[i] == 2:
                    i += 1
            else:
                n_units[k] = -1
                break
            n_units[k] += 1
    return n_units, has_run


@njit
def _pack_han_keys(cps, char_off, sel, n, han_to_id, bits):
    """Packed ids of the Han-only n-gram keys ``sel`` (first unit in the high bits); -1 for a key
    with a unit that is not frequent (id 0)."""
    out = np.empty(sel.shape[0], dtype=np.int64)
    for q in range(sel.shape[0]):
        a = char_off[sel[q]]
        key = np.int64(0)
        for j in range(n):
            v = han_to_id[cps[a + j]]
            if v == 0:
                key = -1
                break
            key = (key << bits) | v
        out[q] = key
    return out


@njit
def _char_offsets(data, offsets):
    """Character offsets (int64) of the keys of UTF-8 ``data`` at byte ``offsets``: the bytes
    before each offset that start a character (not ``10xxxxxx``)."""
    out = np.zeros(offsets.shape[0], dtype=np.int64)
    n = 0
    k = 1
    for i in range(data.shape[0]):
        while k < offsets.shape[0] and offsets[k] == i:
            out[k] = n
            k += 1
        if data[i] & 0xC0 != 0x80:
            n += 1
    while k < offsets.shape[0]:
        out[k] = n
        k += 1
    return out


class _SavedCounts:
    """Unit and n-gram counts parsed from a count directory of ``count -t units``."""

    def __init__(self, counts, max_n):
        text = bytes(counts.data).decode("utf-8", "surrogatepass")
        self.cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        self.char_off = _char_offsets(counts.data, counts.offsets)
        self.cls = _classify(self.cps)
        self.n_units, self.has_run = _key_units(self.cls, self.char_off)
        if np.any(self.n_units < 1):
            k = int(np.flatnonzero(self.n_units < 1)[0])
            raise TextmineError(f"the saved counts hold the key {counts.key(k)!r}, which is not a sequence of "
                                "discover-words units; count with textmine count -t units")
        self.text, self.counts = text, counts.counts
        one = np.flatnonzero(self.n_units == 1)
        han1 = one[~self.has_run[one]]
        self.han = np.zeros(RUN_BASE, dtype=np.int64)
        self.han[self.cps[self.char_off[han1]]] = self.counts[han1]
        run1 = one[self.has_run[one]]
        self.runs = {text[a:b]: c for a, b, c in zip(self.char_off[run1].tolist(), self.char_off[run1 + 1].tolist(),
                                                     self.counts[run1].tolist())}

    def _units_of(self, k):
        """The unit strings of key ``k`` (Python; for keys with Latin/digit runs)."""
        a, b = int(self.char_off[k]), int(self.char_off[k + 1])
        cls, out, i = self.cls, [], a
        while i < b:
            j = i + 1
            if cls[i] == 2:
                while j < b and cls[j] == 2:
                    j += 1
            out.append((self.text[i:j], cls[i] == 2))
            i = j
        return out

    def grams(self, job, n, min_count):
        """``{n: (sorted packed keys, counts)}`` of the n-grams counted at least ``min_count`` times
        whose units are all frequent (the others would be dropped anyway)."""
        han_to_id = _tables(job)["han_to_id"]
        of_n = (self.n_units == n) & (self.counts >= min_count)
        sel = np.flatnonzero(of_n & ~self.has_run)
        keys = _pack_han_keys(self.cps, self.char_off, sel, n, han_to_id, job.bits)
        counts = self.counts[sel]
        extra_k, extra_c = [], []
        for k in np.flatnonzero(of_n & self.has_run).tolist():
            key = 0
            for u, is_run in self._units_of(k):
                v = job.runs.get(u, 0) if is_run else int(han_to_id[ord(u)])
                if v == 0:
                    key = -1
                    break
                key = (key << job.bits) | v
            if key >= 0:
                extra_k.append(key)
                extra_c.append(int(self.counts[k]))
        keys = np.concatenate([keys, np.array(extra_k, dtype=np.int64)])
        counts = np.concatenate([counts, np.array(extra_c, dtype=np.int64)])
        keep = keys >= 0
        keys, counts = keys[keep], counts[keep]
        o = np.argsort(keys, kind="stable")
        return {n: (keys[o], counts[o])}


def check_counts(meta, max_n, paths, where):
    """Raise a :class:`TextmineError` saying what differs unless saved counts can replace the
    first two passes of discover-words on ``paths``."""
    need = f"count them with: textmine count -t units --n {max_n} CORPUS --save {where} -o /dev/null"
    if meta.get("tokenizer") != "units":
        raise TextmineError(f"{where}: counted with --tokenizer {meta.get('tokenizer')}, discover-words needs "
                            f"the units tokenizer (Han characters and whole Latin/digit runs); {need}")
    if meta.get("min_n") != 1 or (meta.get("max_n") or 0) < max_n:
        raise TextmineError(f"{where}: holds {meta.get('min_n')}..{meta.get('max_n')}-grams, discover-words "
                            f"--max-n {max_n} needs 1..{max_n}-grams; {need}")
    if meta.get("min_count") != 1 or meta.get("top") is not None:
        raise TextmineError(f"{where}: saved with --min-count {meta.get('min_count')}; discover-words needs every "
                            f"count (--min-count 1); {need}")
    if meta.get("doc_per_file"):
        raise TextmineError(f"{where}: counted with --doc-per-file; {need}")
    if paths is not None and all(p != STDIN and splittable(p) for p in paths):
        size = sum(os.path.getsize(p) for p in paths)
        if meta.get("input_bytes") != size:
            raise TextmineError(f"{where}: counted from {meta.get('input_bytes')} bytes of input, the corpus has "
                                f"{size} bytes; the counts must be of the same corpus; {need}")


# ---------------------------------------------------------------------------------------------
# the driver

@dataclass
class DiscoverResult:
    """Lexicon and statistics of :func:`discover_words`.

    ``words`` (str), ``counts`` (int), ``cohesion`` (min split PMI of the word from n-gram counts,
    nats; NaN for a single unit), ``pmi`` (``ln p(w) - sum ln p(parts)`` against its best
    re-segmentation without it; NaN for a single unit) and ``gain`` (``p(w) (pmi - 1)``, the
    first-order drop of per-character entropy when the word is kept). Sorted by count descending,
    then code point.
    """

    words: list
    counts: list
    cohesion: list
    pmi: list
    gain: list
    stats: dict = field(default_factory=dict)


def parse_redundancy(value):
    """``'none'`` -> None; ``'len-1'`` -> (1.0, 0.0); ``'K*(len-1)'`` -> (K, 0.0); a number T -> (0.0, T).

    The threshold of a word of ``n`` units is ``a * (n - 1) + b`` for the returned ``(a, b)``.
    """
    if isinstance(value, tuple):
        return value
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise TextmineError(f"redundancy threshold must be finite, not {value!r}")
        return (0.0, float(value))
    text = str(value).strip().replace(" ", "")
    if text == "none":
        return None
    if text == "len-1":
        return (1.0, 0.0)
    m = re.fullmatch(r"([0-9]*\.?[0-9]+)\*\(?len-1\)?", text)
    if m:
        return (float(m.group(1)), 0.0)
    try:
        t = float(text)
    except ValueError:
        raise TextmineError(f"redundancy threshold must be 'none', 'len-1', 'K*(len-1)' or a number, "
                            f"not {value!r}") from None
    if not math.isfinite(t):
        raise TextmineError(f"redundancy threshold must be finite, not {value!r}")
    return (0.0, t)


def _parse_thresholds(value, max_n):
    if isinstance(value, str):
        try:
            vals = [float(x) for x in value.split(",") if x.strip()]
        except ValueError:
            raise TextmineError(f"--min-pmi {value!r}: expected comma-separated numbers, e.g. 1,3,5") from None
    elif isinstance(value, (int, float)):
        vals = [float(value)]
    else:
        vals = [float(x) for x in value]
    if not vals or any(not math.isfinite(v) for v in vals):
        raise TextmineError(f"--min-pmi {value!r}: expected finite numbers")
    while len(vals) < max_n - 1:  # extend by the last step
        step = vals[-1] - vals[-2] if len(vals) >= 2 else 0.0
        vals.append(vals[-1] + step)
    return {n: vals[n - 2] for n in range(2, max_n + 1)}


def _check_segmented(tokens, counts, gaps):
    """Raise a :class:`TextmineError` with a hint to segment first when whitespace-separated
    ``tokens`` (with their ``counts``) look like unsegmented text: no line holds two tokens
    (``gaps == 0``), or the tokens average more than 12 characters."""
    n = int(counts.sum())
    mean = float(np.dot(counts, np.array([len(t) for t in tokens], dtype=np.float64))) / max(n, 1)
    if gaps == 0 or mean > 12:
        why = "no line has two tokens" if gaps == 0 else f"its tokens average {mean:.0f} characters"
        raise TextmineError(f"--units tokens needs text segmented into space-separated words, but {why}; "
                            "segment it first (textmine segment, or jieba) or find the words of unsegmented "
                            "text with --units chars")


def _unit_strings(unit_str, content, offsets, sep):
    """The string of every unit sequence ``content[offsets[k]:offsets[k + 1]]`` (ids into
    ``unit_str``), its units joined by ``sep``: one join of every unit string, then one slice each."""
    step = np.array([len(u) + len(sep) for u in unit_str], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(step[content])])
    a = start[offsets[:-1]].tolist()
    b = (start[offsets[1:]] - len(sep)).tolist()
    text = sep.join([unit_str[v] for v in content.tolist()]) + sep
    return [text[i:j] for i, j in zip(a, b)]


def _entropy_per_char(counts, lengths):
    counts = np.asarray(counts, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return float("nan"), float("nan"), float("nan")
    p = counts[counts > 0] / total
    h = float(-(p * np.log(p)).sum())
    ell = float((counts * lengths).sum() / total)
    return h, ell, h / ell


UNITS = ("chars", "tokens")
# the fixed memory of each process (parent and workers): Python, numpy, the kernels (measured RSS,
# bench/RESULTS.md, "Corpus scale"); besides memory_limit
PROCESS_BYTES = 200 << 20
# defaults by unit: characters chosen on the PKU benchmark, tokens on the development half of
# bench/data/collocations_en.txt and the labelled precision samples (bench/phrases.py, RESULTS ## phrases)
DEFAULTS = {
    "chars": dict(min_count=3, max_n=4, min_pmi="1,3,5", redundancy="3.5*(len-1)"),
    "tokens": dict(min_count=5, max_n=3, min_pmi="4.5,5.5", redundancy="len-1"),
}


def discover_words(batches=None, min_count=None, max_n=None, min_pmi=None, redundancy=None,
                   n_jobs=1, memory_limit=2 << 30, tmpdir=None, progress=None, *, paths=None,
                   read=ReadOptions(), engine="local", scheduler=None, batch_chars=1 << 20, shard_bytes=None,
                   counts=None, units="chars", joiner=" ", warn=None):
    """Build a lexicon from raw text by minimum-entropy word discovery.

    Parameters
    ----------
    batches : iterable of list of str, optional
        The corpus, as batches of lines, held in memory (e.g. a small text); give ``paths``
        instead for a corpus of any size.
    min_count : int
        Minimum count of an n-gram and of a word (``>= 1``). Default 3 (characters), 5 (tokens).
    max_n : int
        Longest n-gram counted (2..6); words may be longer (backtracking checks their windows).
        Default 4 (characters), 3 (tokens).
    min_pmi : str or sequence of float
        Cohesion thresholds in nats for 2-, 3-, ... grams (``ln(N #w / (#a #b)) >= t``); a short
        list is extended by its last step. Default ``1,3,5`` (characters), ``4.5,5.5`` (tokens).
    redundancy : str or float
        De-redundancy threshold: a word of ``n`` units is dropped when ``ln p(w) - sum ln p(parts)``
        is below it. ``'len-1'`` is nlp-zero's ``n - 1``; ``'K*(len-1)'`` scales it (default
        ``3.5*(len-1)`` for characters, chosen on the PKU benchmark; ``len-1`` for tokens); a
        number is a constant; ``'none'`` skips the step.
    n_jobs : int
        Worker processes (or Dask workers) for the map tasks, threads for the cohesion kernel;
        the result does not depend on it.
    memory_limit : int
        Bytes, summed over the processes, besides :data:`PROCESS_BYTES` per process: half for the
        shards of the map tasks (about ``memory_limit / (32 n_jobs)`` bytes of text each, 1 to
        32 MB, 16 bytes per byte), an eighth for the partial counts that each worker merges
        (``memory_limit / (8 n_jobs)`` each), a quarter for the parent's merged n-gram counts (sorted
        runs spill to ``tmpdir`` beyond it). What stays after the n-gram pass (the kept n-grams,
        their cohesion and the cohesive set) counts against it: the partial piece counts get what
        is left, and when it alone passes the limit ``warn`` says so.
    tmpdir : str, optional
        Where to spill (default: the system temporary directory).
    progress : callable, optional
        Called with the number of characters of each map task of the first pass.
    paths : list of str, optional
        Files (resolved, see :func:`textmine.corpus.resolve_inputs`; ``'-'`` is standard input,
        copied to ``tmpdir`` first); read once per pass, in byte-range shards, with ``read``.
    engine, scheduler : str
        ``local`` (``n_jobs`` processes) or ``dask`` (see :mod:`textmine.mapreduce`).
    batch_chars : int
        Characters per batch within a map task.
    shard_bytes : int, optional
        Bytes of text per map task (default from ``memory_limit`` and ``n_jobs``, see above).
    counts : str, optional
        A count directory of this corpus from ``textmine count -t units --n MAX_N --save`` (with
        ``--min-count 1``): its unit and n-gram counts replace the first two passes, with the
        same result; anything else is a :class:`TextmineError` saying what differs (characters only).
    units : {"chars", "tokens"}
        ``chars``: a Han character or a whole Latin/digit run (unsegmented text); ``tokens``: a
        whitespace-separated token (segmented Chinese, English), so that words are phrases.
        In both, punctuation (a token without a letter, digit or Han character) and line ends split.
        Tokens are interned per map task in order of first appearance; the ids come, as for
        characters, from the merged counts (descending count, then the token's code points).
    joiner : str
        Between the tokens of a phrase in ``words`` (``units="tokens"``; ties are ordered by the
        tokens joined with one space whatever the joiner).
    warn : callable, optional
        Called once with a message when what grows with the distinct n-grams and pieces needs more
        than ``memory_limit``.

    Returns
    -------
    DiscoverResult

    Notes
    -----
    Su Jianlin, "最小熵原理（二）：决策成本最小化" (kexue.fm 5476, §2.2 of docs/algorithms.md) for the
    criterion and de-redundancy; "重新写了之前的新词发现算法" (kexue.fm 6920, ``bojone/word-discovery``,
    §2.4) for cohesion, cutting and backtracking. Unlike the reference, every order is counted exactly.

    The corpus is read three times, each a map-reduce over shards (lines never span shards, so
    every count is exact and the result does not depend on the shards, ``n_jobs`` or the engine):
    unit counts (which give the ids), n-gram counts, and cutting with piece counts. Memory grows
    with the distinct n-grams and pieces, not with the corpus.
    """
    if units not in UNITS:
        raise TextmineError(f"units must be one of {', '.join(UNITS)}, not {units!r}")
    if units == "tokens" and counts is not None:
        raise TextmineError("saved counts (--counts) hold character units; they cannot be reused with "
                            "units='tokens'")
    defaults = DEFAULTS[units]
    min_count = defaults["min_count"] if min_count is None else min_count
    max_n = defaults["max_n"] if max_n is None else max_n
    min_pmi = defaults["min_pmi"] if min_pmi is None else min_pmi
    redundancy = defaults["redundancy"] if redundancy is None else redundancy
    if not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise TextmineError(f"min_count must be an integer >= 1, not {min_count!r}")
    if not 2 <= max_n <= 6:
        raise TextmineError(f"max_n must be between 2 and 6, not {max_n!r}")
    if (batches is None) == (paths is None):
        raise TextmineError("give the corpus as batches of lines or as paths, not both or neither")
    thr = _parse_thresholds(min_pmi, max_n)
    redundancy = parse_redundancy(redundancy)
    n_jobs = max(1, int(n_jobs))
    read.check()

    clock = [time.perf_counter(), None]
    timings = {}

    def _tick(name):
        now = time.perf_counter()
        if clock[1] is not None:
            timings[clock[1]] = now - clock[0]
        clock[0], clock[1] = now, name

    cleanup, tmp_holder = [], []

    def tmpdir_factory():
        if not tmp_holder:
            tmp_holder.append(tempfile.mkdtemp(prefix="textmine-discover-", dir=tmpdir))
        return tmp_holder[0]

    from textmine.mapreduce import make_engine

    try:
        _tick('encode')
        saved = None
        if counts is not None:
            from textmine import countfile

            loaded = countfile.load(counts)
            check_counts(loaded.meta, max_n, paths, counts)
            saved = _SavedCounts(loaded, max_n)
            del loaded
        sources = _sources(batches, paths, n_jobs, memory_limit, tmpdir, cleanup, shard_bytes)
        _warmup()
        with make_engine(engine, n_jobs, scheduler) as eng:
            return _discover(eng, sources, read, batch_chars, min_count, max_n, thr, redundancy, n_jobs,
                             memory_limit, tmpdir_factory, progress, _tick, timings, saved, units, joiner, warn)
    finally:
        for d in tmp_holder:
            shutil.rmtree(d, ignore_errors=True)
        for p in cleanup:
            os.unlink(p)


def _over_limit(warn, need, memory_limit, what):
    """Say (``warn``, once) that ``need`` bytes of ``what`` pass ``memory_limit``; True if so."""
    if need <= memory_limit:
        return False
    if warn is not None:
        warn(f"{what} need {need / 2**20:,.0f} MB, over --memory-limit {memory_limit / 2**20:,.0f} MB, which they "
             "count against: memory will pass it; raise --memory-limit or --min-count")
    return True


def _discover(eng, sources, read, batch_chars, min_count, max_n, thr, redundancy, n_jobs, memory_limit,
              tmpdir_factory, progress, _tick, timings, counts=None, units="chars", joiner=" ", warn=None):
    # 1. unit counts; ids by descending count, ties by key (code point, then Latin runs in string order)
    spool = tmpdir_factory() if eng.name == "local" and counts is None else None
    tokens = units == "tokens"
    job = _Job(read, batch_chars, spool=spool, units=units)
    n_chars = 0
    n_gaps = 0
    if counts is None:
        han = np.zeros(RUN_BASE, dtype=np.int64)
        runs = {}
        for cps, hc, rstr, rc, nc, ng in eng.map_unordered(_units_task, _tasks(sources, job)):
            han[cps] += hc
            for s, c in zip(rstr, rc.tolist()):
                runs[s] = runs.get(s, 0) + c
            n_chars += nc
            n_gaps += ng
            if progress is not None:
                progress(nc)
    else:  # from saved counts (textmine count -t units --save)
        parsed = counts
        han, runs = parsed.han, parsed.runs
    run_strings = sorted(runs)
    han_present = np.flatnonzero(han)
    unit_counts = np.concatenate([han[han_present], np.array([runs[s] for s in run_strings], dtype=np.int64)])
    del han, runs
    n_han = han_present.shape[0]
    n_units = int(unit_counts.sum())
    if n_units == 0:
        raise TextmineError("the corpus is empty: no Chinese characters, letters or digits to discover words in")
    if tokens:
        _check_segmented(run_strings, unit_counts, n_gaps)
    elif n_han == 0:
        raise TextmineError("the corpus has no Chinese characters; discover-words finds the words of unsegmented "
                            "text by default; for space-separated text (English, segmented Chinese) find its "
                            "phrases with --units tokens")
    if tokens:  # entropy per token: every unit has length 1
        key_len = np.ones(unit_counts.shape[0], dtype=np.int64)
    else:
        key_len = np.concatenate([np.ones(n_han, dtype=np.int64),
                                  np.array([len(s) for s in run_strings], dtype=np.int64)])
    h0, l0, L0 = _entropy_per_char(unit_counts, key_len)
    tiebreak = np.concatenate([han_present, RUN_BASE + np.arange(len(run_strings), dtype=np.int64)])
    order = np.lexsort((tiebreak, -unit_counts))
    frequent = order[unit_counts[order] >= min_count]  # indices into the units present
    n_freq = int(frequent.shape[0])
    if n_freq == 0:
        raise TextmineError(f"no unit occurs {min_count} times; lower --min-count")
    bits = max(1, int(n_freq).bit_length())
    if bits * max_n > 63:
        raise TextmineError(f"{n_freq} distinct units occur >= {min_count} times, too many to pack "
                            f"{max_n}-grams in 64 bits; raise --min-count or lower --max-n")
    ids = np.arange(1, n_freq + 1, dtype=np.int32)
    is_han = frequent < n_han
    unit_str = [""] + [chr(int(han_present[k])) if k < n_han else run_strings[k - n_han] for k in frequent.tolist()]
    job = _Job(read, batch_chars, max_n, bits, n_freq, uuid.uuid4().hex, han_present[frequent[is_han]],
               ids[is_han], {unit_str[i]: i for i in ids[~is_han].tolist()}, spool=spool, units=units)
    id_count = np.zeros(n_freq + 1, dtype=np.int64)
    id_count[1:] = unit_counts[frequent]
    n_present = int(unit_counts.shape[0])
    del unit_counts, tiebreak, order, key_len, han_present, run_strings

    # 2. exact n-gram counts, orders 2..max_n (order 1 is id_count), summed over the map tasks
    _tick('count')
    grams = {1: (np.arange(1, n_freq + 1, dtype=np.int64), id_count[1:].copy())}
    limit = max(1 << 20, memory_limit // (4 * (max_n - 1)))
    counters = {n: _OrderCounter(limit, tmpdir_factory, _range_bounds(id_count, n, bits)) for n in range(2, max_n + 1)}
    workers = getattr(eng, "n_workers", None) or getattr(eng, "n_jobs", n_jobs)  # two groups each
    room = max(_ROOM_FLOOR, memory_limit // (8 * n_jobs))  # a worker's merged partial counts, every order
    parts = (r[0] for r in _grouped(eng, _ngram_group_task, sources, job, room, workers)) if counts is None else \
        [parsed.grams(job, n, min_count) for n in range(2, max_n + 1)]
    for part in parts:
        for n, p in part.items():
            counters[n].add(*p)
        part = p = None
    for n in range(2, max_n + 1):
        grams[n] = counters.pop(n).result(min_count)

    # 3. cohesion and the cohesive set G
    _tick('cohesion')
    coh = _cohesion_all(grams, max_n, bits, float(n_units), n_jobs)
    good = {n: grams[n][0][coh[n] >= thr[n]] for n in range(2, max_n + 1)}
    good_keys = np.concatenate([good[n] for n in range(2, max_n + 1)])
    good_set = _key_set(good_keys)
    # what stays (the kept n-grams, their cohesion, the cohesive set, its tables in each worker)
    # counts against the limit: the partial piece counts of pass 4 get what is left
    resident = _nbytes(a for n in range(2, max_n + 1) for a in grams[n] + (coh[n],)) \
        + (1 + n_jobs) * (good_keys.nbytes + good_set.nbytes)
    warned = _over_limit(warn, resident, memory_limit, "the {:,} n-grams kept (counts, cohesion, cohesive set)"
                         .format(sum(grams[n][0].shape[0] for n in range(2, max_n + 1))))

    # 4. cut and count pieces exactly: short pieces as sorted packed keys, long ones by hash tables,
    # merged in the workers (groups of shards, as pass 2), then here as they come: when the
    # partials held pass twice the last merged table, so that they stay near twice its size
    _tick('cut')
    job = dataclasses.replace(job, token=uuid.uuid4().hex, good=good_keys, good2=good[2])
    shorts, longs, size, merged = [], [], 0, 0
    cut_chars = 0
    room = max(_ROOM_FLOOR, (memory_limit - resident) // (8 * n_jobs))
    for short, long, nc in _grouped(eng, _cut_group_task, sources, job, room, workers):
        cut_chars += nc
        shorts.append(short)
        longs.append(long)
        size += _nbytes(short + long)
        if size > 2 * merged and len(shorts) > 1:
            shorts, longs = [_merge_counts(shorts)], [_merge_piece_parts(longs)]
            size = merged = _nbytes(shorts[0] + longs[0])
    short = long = None
    job = None
    _TABLES.clear()
    ukeys, ucounts = _merge_counts(shorts) if shorts else (np.empty(0, np.int64), np.empty(0, np.int64))
    _, lc, lcontent, loffsets = _sorted_pieces(longs)
    del shorts, longs
    content, offsets = _unpack_keys(ukeys, bits)
    n_pieces = int(ukeys.shape[0] + lc.shape[0])
    uc = np.concatenate([ucounts, lc])
    content = np.concatenate([content, lcontent])
    offsets = np.concatenate([offsets, offsets[-1] + loffsets[1:]])
    del ukeys, ucounts, lcontent, loffsets
    if not warned:
        _over_limit(warn, resident - (1 + n_jobs) * good_set.nbytes + _nbytes((uc, content, offsets)), memory_limit,
                    f"the {n_pieces:,} distinct pieces and the n-grams kept")

    # 5. truncate and backtrack
    _tick('backtrack')
    sel = np.flatnonzero(uc >= min_count)
    p_starts, p_lens, p_counts = offsets[:-1][sel], np.diff(offsets)[sel], uc[sel]
    n_trunc = int(sel.shape[0])
    keep = _backtrack(content, p_starts, p_lens, max_n, bits, good_set)
    p_starts, p_lens, p_counts = p_starts[keep], p_lens[keep], p_counts[keep]
    n_back = int(p_starts.shape[0])
    # every frequent unit is a candidate word (its count: how often it stood alone, at least 1)
    alone = content[p_starts[p_lens == 1]]
    missing = np.setdiff1d(np.arange(1, n_freq + 1, dtype=np.int32), alone)
    cand_content, cand_offsets = _gather(content, p_starts, p_lens)
    cand_content = np.concatenate([cand_content, missing])
    cand_offsets = np.concatenate([cand_offsets, cand_offsets[-1] + np.arange(1, missing.shape[0] + 1)])
    cand_counts = np.concatenate([p_counts, np.ones(missing.shape[0], dtype=np.int64)]).astype(np.int64)
    del content, offsets, uc
    strings = _unit_strings(unit_str, cand_content, cand_offsets, " " if tokens else "")
    lens = np.diff(cand_offsets)

    # 6. de-redundancy, longest first; the cohesion of the candidates meanwhile (on a thread)
    _tick('deredundancy')
    gk = np.concatenate([grams[n][0] for n in range(2, max_n + 1)])
    gc = np.concatenate([coh[n] for n in range(2, max_n + 1)])
    g_off = np.zeros(max_n + 2, dtype=np.int64)
    for n in range(2, max_n + 1):
        g_off[n + 1] = g_off[n] + grams[n][0].shape[0]
    word_coh = (_word_cohesion, cand_content, cand_offsets, max_n, bits, gk, gc, g_off)
    pool = ThreadPoolExecutor(1) if n_jobs > 1 else None
    if pool is not None:
        word_coh = pool.submit(*word_coh)
    table, seq_hashes, ok = _seq_table(cand_content, cand_offsets)
    if not ok:
        raise RuntimeError("64-bit candidate hash collision; please report")
    multi = np.flatnonzero(lens > 1)
    # code-point order of the strings (distinct candidates have distinct strings), as one rank
    str_rank = np.empty(len(strings), dtype=np.int64)
    str_rank[np.array(sorted(range(len(strings)), key=strings.__getitem__), dtype=np.int64)] = \
        np.arange(len(strings))
    order = multi[np.lexsort((str_rank[multi], -cand_counts[multi], -lens[multi]))].astype(np.int64)
    if redundancy is not None:
        alive, removed = _deredundancy_kernel(cand_content, cand_offsets, cand_counts, order, table, seq_hashes,
                                              float(redundancy[0]), float(redundancy[1]))
    else:
        alive, removed = np.ones(lens.shape[0], dtype=np.bool_), 0

    # 7. scores and output
    _tick('output')
    pmi_all = _split_scores(cand_content, cand_offsets, cand_counts, alive, table, seq_hashes)
    if pool is not None:
        coh_all = word_coh.result()
        pool.shutdown()
    else:
        coh_all = word_coh[0](*word_coh[1:])
    live = np.flatnonzero(alive)
    tot = float(cand_counts[live].sum())
    live = live[np.lexsort((str_rank[live], -cand_counts[live]))]
    words = [strings[k] for k in live.tolist()]
    if tokens and joiner != " ":
        words = [w.replace(" ", joiner) for w in words]
    counts = cand_counts[live].tolist()
    pmi_arr = pmi_all[live] if live.shape[0] else np.empty(0)
    with np.errstate(invalid="ignore"):
        gain_arr = cand_counts[live] / tot * (pmi_arr - 1.0)
    cohesion, pmi, gain = coh_all[live].tolist(), pmi_arr.tolist(), gain_arr.tolist()
    _tick(None)
    lengths = lens[live] if tokens else [len(w) for w in words]
    h1, l1, L1 = _entropy_per_char(counts, lengths)
    stats = dict(unit="token" if tokens else "character",
                 characters=n_chars or cut_chars, units=n_units, distinct_units=n_present,
                 frequent_units=n_freq,
                 ngrams={n: int(grams[n][0].shape[0]) for n in range(1, max_n + 1)},
                 cohesive={n: int(good[n].shape[0]) for n in range(2, max_n + 1)},
                 distinct_pieces=n_pieces, after_truncation=n_trunc, after_backtracking=n_back,
                 removed_redundant=removed, words=len(words),
                 entropy_before=dict(H=h0, l=l0, L=L0), entropy_after=dict(H=h1, l=l1, L=L1),
                 seconds=timings)
    return DiscoverResult(words, counts, cohesion, pmi, gain, stats)


@njit
def _cohesion(keys, log_counts, n, bits, sub_keys, sub_log, sub_off, log_unit, log_total, lo, hi, out):
    """Cohesion of the n-grams ``lo..hi-1``: ``min_j ln N + ln #w - ln #left_j - ln #right_j``.

    Parameters
    ----------
    keys, log_counts : ndarray of int64 / float64, shape (k,)
        Sorted packed n-grams (first unit in the high bits) and the logs of their counts.
    n, bits : int
        Order and bits per unit.
    sub_keys, sub_log : ndarray of int64 / float64
        Sorted keys and log counts of the orders ``2..n-1``, concatenated.
    sub_off : ndarray of int64, shape (n + 1,)
        Order ``j`` is ``sub_keys[sub_off[j]:sub_off[j + 1]]``.
    log_unit : ndarray of float64
        Log count of a unit by its id (``log_total`` where absent).
    log_total : float
        ``ln N``; also the log count taken for a sub-gram that is absent (never, when every order
        was pruned at the same minimum count).
    lo, hi : int
        The range of ``keys`` to score.
    out : ndarray of float64, shape (k,)
        Written at ``lo..hi-1``.

    Notes
    -----
    Left parts of sorted keys are sorted, so their search resumes where the last one ended
    (galloping); right parts are found by binary search.
    """
    at = np.empty(n, dtype=np.int64)  # where the last left part of each split was found
    for j in range(2, n):
        at[j] = sub_off[j]
    for i in range(lo, hi):
        best = np.inf
        for j in range(1, n):
            shift = bits * (n - j)
            left = keys[i] >> shift
            right = keys[i] & ((np.int64(1) << shift) - 1)
            if j == 1:
                ll = log_unit[left] if left < log_unit.shape[0] else log_total
            else:
                a = _gallop(sub_keys, at[j], sub_off[j + 1], left)
                at[j] = a
                ll = sub_log[a] if a < sub_off[j + 1] and sub_keys[a] == left else log_total
            if n - j == 1:
                lr = log_unit[right] if right < log_unit.shape[0] else log_total
            else:
                a = _gallop(sub_keys, sub_off[n - j], sub_off[n - j + 1], right)
                lr = sub_log[a] if a < sub_off[n - j + 1] and sub_keys[a] == right else log_total
            c = log_total + log_counts[i] - ll - lr
            if c < best:
                best = c
        out[i] = best


@njit
def _gallop(keys, lo, hi, key):
    """The first index in ``lo..hi`` whose sorted ``keys`` value is ``>= key``, searched from
    ``lo`` with doubling steps, then by bisection."""
    step = 1
    b = lo
    while b < hi and keys[b] < key:
        lo = b + 1
        b = lo + step
        step <<= 1
    if b > hi:
        b = hi
    while lo < b:
        m = (lo + b) >> 1
        if keys[m] < key:
            lo = m + 1
        else:
            b = m
    return lo


def _cohesion_all(grams, max_n, bits, total, n_jobs, min_chunk=1 << 16):
    """Cohesion of every counted 2..max_n-gram: {n: float64 array aligned with ``grams[n][0]``}.

    Logs are taken once per count with numpy; the kernel only adds and subtracts them, so the
    figures do not depend on ``n_jobs`` (key ranges scored on threads)."""
    log_total = math.log(total)
    logs = {n: np.log(grams[n][1].astype(np.float64)) for n in range(1, max_n + 1)}
    units = grams[1][0]
    log_unit = np.full(int(units.max()) + 1 if units.shape[0] else 1, log_total)
    log_unit[units] = logs[1]
    sub_keys = np.concatenate([np.empty(0, np.int64)] + [grams[n][0] for n in range(2, max_n)])
    sub_log = np.concatenate([np.empty(0)] + [logs[n] for n in range(2, max_n)])
    sub_off = np.zeros(max_n + 1, dtype=np.int64)
    for n in range(2, max_n):
        sub_off[n + 1] = sub_off[n] + grams[n][0].shape[0]
    tasks, coh = [], {}
    for n in range(2, max_n + 1):
        k = grams[n][0].shape[0]
        coh[n] = np.empty(k)
        step = max(min_chunk, -(-k // max(1, n_jobs)))
        tasks += [(n, a, min(k, a + step)) for a in range(0, k, step)]

    def run(task):
        n, a, b = task
        _cohesion(grams[n][0], logs[n], n, bits, sub_keys, sub_log, sub_off, log_unit, log_total, a, b, coh[n])

    if n_jobs > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(n_jobs) as pool:
            list(pool.map(run, tasks))
    else:
        for t in tasks:
            run(t)
    return coh


def format_stats(stats):
    """Human-readable corpus statistics (for stderr)."""
    b0, b1 = stats["entropy_before"], stats["entropy_after"]
    unit = stats.get("unit", "character")
    ln2 = math.log(2)
    lines = [
        f"characters {stats['characters']:,}; units {stats['units']:,} ({stats['distinct_units']:,} distinct, "
        f"{stats['frequent_units']:,} frequent)",
        "n-grams kept: " + ", ".join(f"{n}: {c:,}" for n, c in stats["ngrams"].items())
        + "; cohesive: " + ", ".join(f"{n}: {c:,}" for n, c in stats["cohesive"].items()),
        f"pieces {stats['distinct_pieces']:,} distinct; after truncation {stats['after_truncation']:,}; "
        f"after backtracking {stats['after_backtracking']:,}; removed as redundant {stats['removed_redundant']:,}; "
        f"words {stats['words']:,}",
        f"per-{unit} information L = H/l: before {b0['L'] / ln2:.3f} bits (H {b0['H'] / ln2:.3f} bits, "
        f"l {b0['l']:.3f}); after {b1['L'] / ln2:.3f} bits (H {b1['H'] / ln2:.3f} bits/word, l {b1['l']:.3f} {unit}s)",
    ]
    return "\n".join(lines)
