"""Minimum-entropy new-word discovery: exact n-gram cohesion, cutting, backtracking, de-redundancy.

The corpus is turned into *units*: a Han character, or a whole run of Latin letters and digits
(full-width forms folded to ASCII). Punctuation, symbols and whitespace split the text and never
belong to an n-gram. Units become ``int32`` ids by descending frequency; units rarer than
``min_count`` become the separator 0, because no n-gram that contains them can reach ``min_count``.
All 1..n-gram counts are then exact: the packed ``int64`` keys of every n-gram of the corpus are
sorted in place (numpy's SIMD sort) and run-length counted, one order per thread; the cut pieces
are counted the same way (long pieces by a hash table). A corpus of more than
``memory_limit / 12`` units is counted batch by batch instead, with exact merges of sorted runs
(partitioned by hash bucket in the counting threads, spilled to disk and merged bucket by bucket,
so that counting holds about ``memory_limit`` bytes besides the 4-byte unit ids).

Pipeline (ALGORITHMS.md §2.2 and §2.4):

1. cohesion ``coh(w) = min_j ln(N #w / (#w[:j] #w[j:]))`` of every kept 2..n-gram; the set ``G``
   holds the grams whose cohesion reaches a threshold that grows with the length;
2. cut: a boundary between two units survives unless a gram of ``G`` spans it; pieces are counted
   exactly and those below ``min_count`` dropped;
3. backtrack: pieces of 3..n units must be in ``G``, longer pieces need every n-unit window in ``G``;
4. de-redundancy: longest first, re-segment each candidate with the rest of the lexicon by unigram
   DP; drop it (its count goes to its parts) when ``ln p(w) - sum ln p(parts)`` is below the
   redundancy threshold.
"""
import collections
import math
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from textmine._numba import njit
from textmine._packed import merge_runs
from textmine.errors import TextmineError
from textmine.formats import save_npy

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
    keys = np.sort(_pack_ngrams(ids, n, bits))
    return _sorted_rle(keys, np.ones(keys.shape[0], dtype=np.int64))


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
    counts: (keys, counts), int64 arrays."""
    k = keys.shape[0]
    ukeys = np.empty(k, dtype=np.int64)
    ucounts = np.empty(k, dtype=np.int64)
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
    return ukeys[:u].copy(), ucounts[:u].copy()


def _merge_counts(parts):
    """Exact merge of (sorted distinct int64 keys, int64 counts) partials: linear merges of two
    runs at a time, the smallest first (:func:`textmine._packed.merge_runs`)."""
    if len(parts) == 1:
        return parts[0]
    return merge_runs([(np.ascontiguousarray(k), np.ascontiguousarray(c)) for k, c in parts],
                      empty=(np.empty(0, np.int64), np.empty(0, np.int64)))


class _OrderCounter:
    """Accumulates exact partial counts of one order; spills hash-partitioned sorted runs to disk
    when the partials outgrow ``limit_bytes``, and merges bucket by bucket at the end.

    Memory stays near ``limit_bytes``: partials come partitioned by bucket (:func:`_partition`,
    best done by the thread that counted them), so a spill merges one bucket, 1/64 of them, at a
    time and then drops them; the result is merged from disk bucket by bucket too, unless the
    partials stayed under a quarter of the limit (then they are merged in memory, bucket by
    bucket, by linear merges of two sorted runs at a time).
    """

    N_BUCKETS = 64

    def __init__(self, limit_bytes, tmpdir_factory):
        self.parts, self.size, self.limit = [], 0, limit_bytes
        self.tmpdir_factory, self.spilled = tmpdir_factory, 0

    def add(self, keys, counts, offsets=None):
        """Add partial counts (sorted keys), or the three arrays of :func:`_partition` of them."""
        if offsets is None:
            keys, counts, offsets = _partition(keys, counts, self.N_BUCKETS)
        self.parts.append((keys, counts, offsets))
        self.size += keys.nbytes + counts.nbytes
        if self.size > self.limit:
            self._spill()

    def _bucket(self, b):
        """Bucket ``b`` of every part in memory, merged: (sorted keys, counts)."""
        return _merge_counts([(k[o[b]:o[b + 1]], c[o[b]:o[b + 1]]) for k, c, o in self.parts])

    def _spill(self):
        d = self.tmpdir_factory()
        for b in range(self.N_BUCKETS):
            keys, counts = self._bucket(b)
            save_npy(os.path.join(d, f"{id(self)}-{b}-{self.spilled}.npy"), np.stack([keys, counts]))
        self.parts, self.size = [], 0
        self.spilled += 1

    def result(self, min_count):
        if not self.spilled and self.size <= self.limit // 4:
            # a part is sorted within each bucket only: merge bucket by bucket, then the buckets
            merged = [self._bucket(b) for b in range(self.N_BUCKETS)]
            self.parts = []
            keys, counts = _merge_counts(merged)
            del merged
            keep = counts >= min_count
            return keys[keep], counts[keep]
        if self.parts:
            self._spill()
        d = self.tmpdir_factory()
        out = []
        for b in range(self.N_BUCKETS):
            runs = []
            for s in range(self.spilled):
                p = os.path.join(d, f"{id(self)}-{b}-{s}.npy")
                a = np.load(p)
                os.unlink(p)
                runs.append((a[0], a[1]))
            keys, counts = _merge_counts(runs)
            keep = counts >= min_count
            out.append((keys[keep], counts[keep]))
        return _merge_counts(out)


@njit
def _partition(keys, counts, n_buckets):
    """Stable partition of partial counts by the hash bucket of their key (a counting sort).

    Parameters
    ----------
    keys, counts : ndarray of int64, shape (k,)
        Non-negative keys and their counts.
    n_buckets : int
        Number of buckets, 1..64.

    Returns
    -------
    keys, counts : ndarray of int64, shape (k,)
        Reordered: bucket 0 first, then 1, ...; the original order within a bucket (so sorted
        keys stay sorted within each bucket).
    offsets : ndarray of int64, shape (n_buckets + 1,)
        Bucket ``b`` is ``[offsets[b], offsets[b + 1])``. The bucket of a key is the top 6 bits of
        ``key * 0x9E3779B97F4A7C15`` (mod 2**64), modulo ``n_buckets``.
    """
    k = keys.shape[0]
    bucket = np.empty(k, dtype=np.uint8)
    offsets = np.zeros(n_buckets + 1, dtype=np.int64)
    for i in range(k):
        b = np.int64(((np.uint64(keys[i]) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(58)) % np.uint64(n_buckets))
        bucket[i] = b
        offsets[b + 1] += 1
    for b in range(n_buckets):
        offsets[b + 1] += offsets[b]
    pos = offsets[:-1].copy()
    out_keys = np.empty(k, dtype=np.int64)
    out_counts = np.empty(k, dtype=np.int64)
    for i in range(k):
        j = pos[bucket[i]]
        out_keys[j] = keys[i]
        out_counts[j] = counts[i]
        pos[bucket[i]] = j + 1
    return out_keys, out_counts, offsets


def _count_whole(ids, n, bits, min_count):
    """Exact counts of the n-grams of ``ids`` kept at ``min_count``: (sorted keys, counts), int64."""
    keys = _pack_ngrams(ids, n, bits)
    keys.sort()  # in place; numpy's SIMD sort, no GIL
    return _sorted_runs(keys, min_count)


def _map_ahead(pool, fn, items, ahead):
    """``pool.map(fn, items)`` in order, with at most ``ahead`` results computed but not yet taken
    (``Executor.map`` submits every item at once, so its finished results pile up in memory while
    the consumer is busy, e.g. spilling)."""
    pending = collections.deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) > max(1, ahead):
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _count_batches(id_batches, max_n, bits, min_count, n_jobs, memory_limit, tmpdir):
    """Exact n-gram counts of orders 2..max_n batch by batch, spilling sorted runs beyond ``memory_limit``."""
    tmp_holder = []

    def tmpdir_factory():
        if not tmp_holder:
            tmp_holder.append(tempfile.mkdtemp(prefix="textmine-discover-", dir=tmpdir))
        return tmp_holder[0]

    grams = {}
    try:
        with ThreadPoolExecutor(max(1, n_jobs)) as pool:
            for n in range(2, max_n + 1):
                counter = _OrderCounter(memory_limit, tmpdir_factory)
                def count_part(a):
                    return _partition(*_count_ngrams(a, n, bits), _OrderCounter.N_BUCKETS)

                for part in _map_ahead(pool, count_part, id_batches, 2 * max(1, n_jobs)):
                    counter.add(*part)
                part = None  # the last partial is the counter's alone
                grams[n] = counter.result(min_count)
    finally:
        for d in tmp_holder:
            shutil.rmtree(d, ignore_errors=True)
    return grams


# ---------------------------------------------------------------------------------------------
# cutting and pieces

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
def _piece_hashes(ids, join):
    """Pieces of a cut unit array and a 64-bit content hash of each.

    Returns
    -------
    starts, lengths : ndarray of int64, shape (p,)
    hashes : ndarray of int64, shape (p,)
        Polynomial hash of the ids and the length (verified for collisions by the caller).
    """
    m = ids.shape[0]
    starts = np.empty(m, dtype=np.int64)
    lengths = np.empty(m, dtype=np.int64)
    hashes = np.empty(m, dtype=np.int64)
    p = 0
    i = 0
    while i < m:
        if ids[i] == 0:
            i += 1
            continue
        s = i
        h = np.uint64(1469598103934665603)
        while True:
            h = (h ^ np.uint64(ids[i])) * np.uint64(1099511628211)
            h = h ^ (h >> np.uint64(29))
            i += 1
            if not join[i - 1] or i >= m or ids[i] == 0:
                break
        starts[p] = s
        lengths[p] = i - s
        h = (h ^ np.uint64(i - s)) * np.uint64(0x9E3779B97F4A7C15)
        hashes[p] = np.int64(h)
        p += 1
    return starts[:p].copy(), lengths[:p].copy(), hashes[:p].copy()


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


def _count_pieces(ids, join):
    """Exact counts of the distinct pieces of one batch: (hashes, counts, content, offsets)."""
    starts, lengths, hashes = _piece_hashes(ids, join)
    uh, cnt, content, offsets, ok = _piece_table(ids, starts, lengths, hashes, np.ones(hashes.shape[0], np.int64))
    if not ok:
        raise RuntimeError("64-bit piece hash collision; please report")
    return uh, cnt, content, offsets


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


def _count_pieces_whole(id_batches, max_n, bits, good_set, n_jobs, pairs=None, side=0, filt=None):
    """Exact counts of the pieces of every batch: short pieces by one sort of packed keys, long ones
    by hash tables. Returns (number of distinct pieces, counts, content, offsets)."""
    max_len = 63 // bits

    def cut_keys(ids):
        join = _cut_bm(ids, max_n, bits, good_set, pairs, side, filt) if side else _cut(ids, max_n, bits, good_set)
        keys, starts, lengths, hashes = _piece_keys(ids, join, bits, max_len)
        long = _piece_table(ids, starts, lengths, hashes, np.ones(hashes.shape[0], np.int64))
        if not long[4]:
            raise RuntimeError("64-bit piece hash collision; please report")
        return keys, long[:4]

    with ThreadPoolExecutor(max(1, n_jobs)) as pool:
        out = list(pool.map(cut_keys, id_batches))
    keys = np.concatenate([o[0] for o in out]) if len(out) != 1 else out[0][0]
    keys.sort()
    ukeys, ucounts = _sorted_runs(keys, 1)
    del keys
    content, offsets = _unpack_keys(ukeys, bits)
    _, lc, lcontent, loffsets = _merge_piece_parts([o[1] for o in out])
    n = ukeys.shape[0] + lc.shape[0]
    return (n, np.concatenate([ucounts, lc]), np.concatenate([content, lcontent]),
            np.concatenate([offsets, offsets[-1] + loffsets[1:]]))


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


def discover_words(batches, min_count=3, max_n=4, min_pmi="1,3,5", redundancy="3.5*(len-1)",
                   n_jobs=1, memory_limit=2 << 30, tmpdir=None, progress=None):
    """Build a lexicon from raw text by minimum-entropy word discovery.

    Parameters
    ----------
    batches : iterable of list of str
        The corpus, as batches of lines (e.g. :func:`textmine.corpus.iter_batches`).
    min_count : int
        Minimum count of an n-gram and of a word (``>= 1``).
    max_n : int
        Longest n-gram counted (2..6); words may be longer (backtracking checks their windows).
    min_pmi : str or sequence of float
        Cohesion thresholds in nats for 2-, 3-, ... grams (``ln(N #w / (#a #b)) >= t``); a short
        list is extended by its last step. Default ``1,3,5``.
    redundancy : str or float
        De-redundancy threshold: a word of ``n`` units is dropped when ``ln p(w) - sum ln p(parts)``
        is below it. ``'len-1'`` is nlp-zero's ``n - 1``; ``'K*(len-1)'`` scales it (default
        ``3.5*(len-1)``, chosen on the PKU benchmark); a number is a constant; ``'none'`` skips the step.
    n_jobs : int
        Threads for the counting and cutting kernels; the result does not depend on it.
    memory_limit : int
        Bytes for n-gram counting. The corpus is counted whole when 12 bytes per unit fit;
        otherwise batch by batch, with about this many bytes of partial counts kept in memory
        before sorted runs spill to disk (hash-partitioned, merged bucket by bucket). The unit
        ids, 4 bytes per unit, are held besides.
    tmpdir : str, optional
        Where to spill (default: the system temporary directory).
    progress : callable, optional
        Called with the number of characters of each batch as it is encoded.

    Returns
    -------
    DiscoverResult

    Notes
    -----
    Su Jianlin, "最小熵原理（二）：决策成本最小化" (kexue.fm 5476, §2.2 of ALGORITHMS.md) for the
    criterion and de-redundancy; "重新写了之前的新词发现算法" (kexue.fm 6920, ``bojone/word-discovery``,
    §2.4) for cohesion, cutting and backtracking. Unlike the reference, every order is counted exactly.
    """
    if not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise TextmineError(f"min_count must be an integer >= 1, not {min_count!r}")
    if not 2 <= max_n <= 6:
        raise TextmineError(f"max_n must be between 2 and 6, not {max_n!r}")
    thr = _parse_thresholds(min_pmi, max_n)
    redundancy = parse_redundancy(redundancy)

    clock = [time.perf_counter(), None]
    timings = {}

    def _tick(name):
        now = time.perf_counter()
        if clock[1] is not None:
            timings[clock[1]] = now - clock[0]
        clock[0], clock[1] = now, name

    # 1. encode every batch to unit keys (sequential: keys of Latin runs follow first appearance)
    _tick('encode')
    enc = _Encoder()
    unit_batches, n_chars = [], 0
    for lines in batches:
        keys, nc = enc.encode(lines)
        n_chars += nc
        if keys.shape[0]:
            unit_batches.append(keys.astype(np.int32))  # keys < 2**31: code points and run numbers
        if progress is not None:
            progress(nc)
    run_strings = sorted(enc.runs, key=enc.runs.get)
    n_keys = RUN_BASE + len(run_strings)
    unit_counts = np.zeros(n_keys, dtype=np.int64)
    for keys in unit_batches:
        unit_counts += np.bincount(keys[keys >= 0], minlength=n_keys)
    n_units = int(unit_counts.sum())
    if n_units == 0:
        raise TextmineError("the corpus is empty: no Chinese characters, letters or digits to discover words in")
    if not unit_counts[:RUN_BASE].any():
        raise TextmineError("the corpus has no Chinese characters; discover-words finds the words of unsegmented "
                            "text (for space-separated text, count its tokens with textmine count)")

    def key_string(k):
        return chr(k) if k < RUN_BASE else run_strings[k - RUN_BASE]

    present = np.flatnonzero(unit_counts)
    key_len = np.array([1 if k < RUN_BASE else len(run_strings[k - RUN_BASE]) for k in present.tolist()])
    h0, l0, L0 = _entropy_per_char(unit_counts[present], key_len)
    # ids by descending count, ties by key (code point, then Latin runs in string order)
    run_rank = np.zeros(max(1, len(run_strings)), dtype=np.int64)
    run_rank[np.argsort(np.array(run_strings + [""] * (not run_strings), dtype=object), kind="stable")] = \
        np.arange(max(1, len(run_strings)))
    tiebreak = np.where(present < RUN_BASE, present, RUN_BASE + run_rank[np.maximum(present - RUN_BASE, 0)])
    order = np.lexsort((tiebreak, -unit_counts[present]))
    frequent = present[order][unit_counts[present][order] >= min_count]
    n_freq = int(frequent.shape[0])
    if n_freq == 0:
        raise TextmineError(f"no unit occurs {min_count} times; lower --min-count")
    bits = max(1, int(n_freq).bit_length())
    if bits * max_n > 63:
        raise TextmineError(f"{n_freq} distinct units occur >= {min_count} times, too many to pack "
                            f"{max_n}-grams in 64 bits; raise --min-count or lower --max-n")
    key_to_id = np.zeros(n_keys, dtype=np.int32)
    key_to_id[frequent] = np.arange(1, n_freq + 1, dtype=np.int32)
    id_to_key = np.concatenate([[0], frequent]).astype(np.int64)
    for k, keys in enumerate(unit_batches):  # in place, so that memory holds one copy of the corpus
        unit_batches[k] = np.where(keys >= 0, key_to_id[np.maximum(keys, 0)], 0).astype(np.int32)
    id_batches = unit_batches
    id_count = np.zeros(n_freq + 1, dtype=np.int64)
    id_count[1:] = unit_counts[frequent]

    # 2. exact n-gram counts, orders 2..max_n (order 1 is id_count)
    _tick('count')
    grams = {1: (np.arange(1, n_freq + 1, dtype=np.int64), id_count[1:].copy())}
    n_ids = sum(a.shape[0] for a in id_batches)
    if n_ids * 12 <= memory_limit:
        # the whole corpus at once: one pack, one in-place sort and one run-length pass per order
        # (a batch ends with a split, so no gram crosses batches); orders run side by side
        whole = np.concatenate(id_batches) if len(id_batches) != 1 else id_batches[0]
        n_par = max(1, min(n_jobs, max_n - 1, memory_limit // max(1, n_ids * 8)))
        with ThreadPoolExecutor(n_par) as pool:
            for n, kc in zip(range(2, max_n + 1),
                             pool.map(lambda n: _count_whole(whole, n, bits, min_count), range(2, max_n + 1))):
                grams[n] = kc
        del whole
    else:
        grams.update(_count_batches(id_batches, max_n, bits, min_count, n_jobs, memory_limit, tmpdir))

    # 3. cohesion and the cohesive set G
    _tick('cohesion')
    coh = _cohesion_all(grams, max_n, bits, float(n_units), n_jobs)
    good = {n: grams[n][0][coh[n] >= thr[n]] for n in range(2, max_n + 1)}
    good_keys = np.concatenate([good[n] for n in range(2, max_n + 1)])
    good_set = _key_set(good_keys)

    # 4. cut and count pieces exactly
    _tick('cut')
    if n_ids * 12 <= memory_limit:
        side = min(n_freq + 1, PAIR_SIDE)
        pairs = _pair_bitmap(good[2], bits, side)
        filt = _key_filter(good_keys)
        n_pieces, uc, content, offsets = _count_pieces_whole(id_batches, max_n, bits, good_set, n_jobs, pairs, side,
                                                             filt)
    else:
        def cut_count(ids):
            return _count_pieces(ids, _cut(ids, max_n, bits, good_set))

        # merge the per-batch piece tables when they pass a quarter of the limit (a merge needs about
        # twice their size), or twice the merged table once that alone is larger
        parts, size, merge_at = [], 0, memory_limit // 4
        with ThreadPoolExecutor(max(1, n_jobs)) as pool:
            for part in _map_ahead(pool, cut_count, id_batches, 2 * max(1, n_jobs)):
                parts.append(part)
                size += sum(a.nbytes for a in part)
                if size > merge_at and len(parts) > 1:
                    parts = [_merge_piece_parts(parts)]
                    size = sum(a.nbytes for a in parts[0])
                    merge_at = max(memory_limit // 4, 2 * size)
            part = None
        uh, uc, content, offsets = _merge_piece_parts(parts)
        n_pieces = int(uh.shape[0])
        del uh

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
    unit_str = [""] + [key_string(int(k)) for k in id_to_key[1:].tolist()]
    # one join of every unit string, then one slice per candidate (character offsets from unit lengths)
    unit_len = np.array([len(u) for u in unit_str], dtype=np.int64)
    char_end = np.cumsum(unit_len[cand_content])
    char_off = np.concatenate([[0], char_end])[cand_offsets].tolist()
    text = "".join([unit_str[v] for v in cand_content.tolist()])
    strings = [text[char_off[k]:char_off[k + 1]] for k in range(len(char_off) - 1)]
    del text
    lens = np.diff(cand_offsets)

    # 6. de-redundancy, longest first
    _tick('deredundancy')
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
    gk = np.concatenate([grams[n][0] for n in range(2, max_n + 1)])
    gc = np.concatenate([coh[n] for n in range(2, max_n + 1)])
    g_off = np.zeros(max_n + 2, dtype=np.int64)
    for n in range(2, max_n + 1):
        g_off[n + 1] = g_off[n] + grams[n][0].shape[0]
    coh_all = _word_cohesion(cand_content, cand_offsets, max_n, bits, gk, gc, g_off)
    live = np.flatnonzero(alive)
    tot = float(cand_counts[live].sum())
    live = live[np.lexsort((str_rank[live], -cand_counts[live]))]
    words = [strings[k] for k in live.tolist()]
    counts = cand_counts[live].tolist()
    pmi_arr = pmi_all[live] if live.shape[0] else np.empty(0)
    with np.errstate(invalid="ignore"):
        gain_arr = cand_counts[live] / tot * (pmi_arr - 1.0)
    cohesion, pmi, gain = coh_all[live].tolist(), pmi_arr.tolist(), gain_arr.tolist()
    _tick(None)
    lengths = [len(w) for w in words]
    h1, l1, L1 = _entropy_per_char(counts, lengths)
    stats = dict(characters=n_chars, units=n_units, distinct_units=int(present.shape[0]),
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
    ln2 = math.log(2)
    lines = [
        f"characters {stats['characters']:,}; units {stats['units']:,} ({stats['distinct_units']:,} distinct, "
        f"{stats['frequent_units']:,} frequent)",
        "n-grams kept: " + ", ".join(f"{n}: {c:,}" for n, c in stats["ngrams"].items())
        + "; cohesive: " + ", ".join(f"{n}: {c:,}" for n, c in stats["cohesive"].items()),
        f"pieces {stats['distinct_pieces']:,} distinct; after truncation {stats['after_truncation']:,}; "
        f"after backtracking {stats['after_backtracking']:,}; removed as redundant {stats['removed_redundant']:,}; "
        f"words {stats['words']:,}",
        f"per-character information L = H/l: before {b0['L'] / ln2:.3f} bits (H {b0['H'] / ln2:.3f} bits, "
        f"l {b0['l']:.3f}); after {b1['L'] / ln2:.3f} bits (H {b1['H'] / ln2:.3f} bits/word, l {b1['l']:.3f} chars)",
    ]
    return "\n".join(lines)
