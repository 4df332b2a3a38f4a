"""Counting short strings as packed integer keys: sort, run-length code, merge.

Most n-grams a user counts are short: a string of 1..4 code points, each in 1..0xFFFF (the Basic
Multilingual Plane, which holds nearly all Chinese text), is packed left-aligned into the 16-bit
slots of a ``uint64`` (see :data:`textmine._spantable.PACK16_MAX`). Such keys are counted without
a hash table: a map task buffers them, sorts each full buffer in place (numpy's vectorised sort)
and run-length codes it into a sorted *run* ``(keys uint64[n], counts int64[n])``; runs merge
linearly. Packed order is the code-point order of the strings, so runs split by key range for the
reduce, and the output order (count descending, then code points) is one stable counting sort of
a key-sorted array by count.
"""
import numpy as np

from textmine._numba import njit

_EMPTY = (np.empty(0, np.uint64), np.empty(0, np.int64))


def run_lengths(keys):
    """The distinct values of the sorted ``keys uint64[n]`` and how often each occurs.

    Returns ``(distinct uint64[m], counts int64[m])``, both in key order. numpy: a few vector
    passes, next to the sort before it, cost less than compiling a kernel in every cold start.
    """
    n = keys.shape[0]
    first = np.empty(n, bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    del first
    cnt = np.empty(starts.shape[0], np.int64)
    cnt[:-1] = starts[1:] - starts[:-1]
    cnt[-1:] = n - starts[-1:]
    return keys[starts], cnt


@njit
def _merged_size(k1, k2):
    n1, n2 = k1.shape[0], k2.shape[0]
    i = j = m = 0
    while i < n1 and j < n2:
        a, b = k1[i], k2[j]
        i += a <= b
        j += b <= a
        m += 1
    return m + (n1 - i) + (n2 - j)


# up to this many entries numpy merges two runs, and orders runs by count (no kernel to compile;
# numpy's sorts take at most a few milliseconds there)
_SMALL_MERGE = 1 << 14
_SMALL_SORT = 1 << 17


def merge_counts(k1, c1, k2, c2):
    """Merge two runs (sorted distinct keys with counts); the counts of a key in both add up.

    Returns ``(keys[m], counts int64[m])``, sorted; the keys have the dtype of ``k1`` (uint64
    packed keys here, int64 n-gram keys in discover-words). Large runs go through a linear merge
    kernel; small ones (at most :data:`_SMALL_MERGE` entries in all) through numpy's stable sort, which
    takes about as long there and spares a short run the kernel's compile.
    """
    if k1.shape[0] + k2.shape[0] > _SMALL_MERGE:
        return _merge_counts(k1, c1, k2, c2)
    keys = np.concatenate((k1, k2)).astype(k1.dtype, copy=False)
    cnt = np.concatenate((c1, c2)).astype(np.int64, copy=False)
    order = np.argsort(keys, kind="stable")
    keys, cnt = keys[order], cnt[order]
    if not keys.shape[0]:
        return keys, cnt
    first = np.empty(keys.shape[0], bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return keys[starts], np.add.reduceat(cnt, starts)


@njit
def _merge_counts(k1, c1, k2, c2):
    """:func:`merge_counts` of large runs: a linear merge, sized exactly by a first pass."""
    n1, n2 = k1.shape[0], k2.shape[0]
    size = _merged_size(k1, k2)
    keys = np.empty(size, k1.dtype)
    cnt = np.empty(size, np.int64)
    i = j = m = 0
    while i < n1 and j < n2:
        a, b = k1[i], k2[j]
        if a < b:
            keys[m] = a
            cnt[m] = c1[i]
            i += 1
        elif b < a:
            keys[m] = b
            cnt[m] = c2[j]
            j += 1
        else:
            keys[m] = a
            cnt[m] = c1[i] + c2[j]
            i += 1
            j += 1
        m += 1
    while i < n1:
        keys[m] = k1[i]
        cnt[m] = c1[i]
        i += 1
        m += 1
    while j < n2:
        keys[m] = k2[j]
        cnt[m] = c2[j]
        j += 1
        m += 1
    return keys, cnt


_CAP = 1 << 16  # counts from here on share the first bucket of the counting sort


@njit
def count_histogram(counts, hist):
    """Add the bucket sizes of ``counts int64[n]`` to ``hist int64[2**16 + 1]`` (bucket
    ``min(count, 2**16)``)."""
    cap = hist.shape[0] - 1
    for i in range(counts.shape[0]):
        c = counts[i]
        hist[c if c < cap else cap] += 1


@njit
def count_scatter(keys, counts, start, out_keys, out_counts):
    """Scatter entries to their buckets: ``start[b]`` is the next free position of bucket ``b``
    (buckets ordered by count descending) and advances."""
    cap = start.shape[0] - 1
    for i in range(counts.shape[0]):
        c = counts[i]
        b = c if c < cap else cap
        d = start[b]
        out_keys[d] = keys[i]
        out_counts[d] = c
        start[b] = d + 1


def count_sort(parts, out_keys, out_counts):
    """Write the entries of ``parts`` (a list of ``(keys uint64[n], counts int64[n])``) into
    ``out_keys`` and ``out_counts`` ordered by count descending; entries of equal count keep
    their order (part by part, then within a part).

    Up to :data:`_SMALL_SORT` entries, numpy's stable sort by count; beyond, a counting sort over
    ``min(count, 2**16)`` (one pass to count, one to scatter); the few
    entries with counts of 2**16 and more come first and are then ordered exactly by a stable
    merge sort.
    """
    n = sum(int(c.shape[0]) for _, c in parts)
    if n <= _SMALL_SORT:  # few entries: numpy's stable sort, no kernel to compile
        if n:
            counts = np.concatenate([c for _, c in parts])
            order = np.argsort(-counts, kind="stable")
            out_keys[:n] = np.concatenate([k for k, _ in parts])[order]
            out_counts[:n] = counts[order]
        return
    hist = np.zeros(_CAP + 1, np.int64)
    for _, c in parts:
        count_histogram(c, hist)
    start = np.empty_like(hist)  # first position of each bucket: the larger counts come first
    start[_CAP] = 0
    start[:_CAP] = np.cumsum(hist[::-1])[:-1][::-1]
    for k, c in parts:
        count_scatter(k, c, start, out_keys, out_counts)
    nbig = int(hist[_CAP])
    if nbig > 1:
        sub = np.argsort(-out_counts[:nbig], kind="stable")
        out_keys[:nbig] = out_keys[:nbig][sub]
        out_counts[:nbig] = out_counts[:nbig][sub]


@njit(inline="always")
def slot(key, j):
    """Code point ``j`` (0-based) of a packed key, 0 past its end."""
    return np.int64((key >> np.uint64(48 - 16 * j)) & np.uint64(0xFFFF))


def merge_runs(runs, empty=None):
    """Merge a list of runs into one (pairwise, smallest first); ``empty`` (default: no packed
    keys) when every run is empty."""
    runs = [r for r in runs if r[0].shape[0]]
    if not runs:
        return _EMPTY if empty is None else empty
    while len(runs) > 1:
        runs.sort(key=lambda r: r[0].shape[0])
        a, b = runs.pop(0), runs.pop(0)
        runs.append(merge_counts(a[0], a[1], b[0], b[1]))
    return runs[0]


def pack(strings):
    """Packed keys of strings that can be packed (tests and small inputs)."""
    out = []
    for s in strings:
        k = 0
        for j, ch in enumerate(s):
            k |= ord(ch) << (48 - 16 * j)
        out.append(k)
    return np.array(out, np.uint64)


class PackedCounter:
    """Counts of packed keys, in a buffer of at most ``capacity`` keys and a few sorted runs.

    Memory: 8 bytes per buffered key, and 16 bytes per distinct key seen since the last
    :meth:`result` (the runs).
    """

    def __init__(self, capacity=1 << 24):
        self.capacity = max(1, int(capacity))
        self.buf = np.empty(0, np.uint64)
        self.fill = 0
        self.runs = []

    @property
    def nbytes(self):
        """Bytes in use: the buffered keys and the runs (the buffer is reserved at full size at
        the first key, but its pages are only touched as it fills)."""
        return 8 * self.fill + sum(k.nbytes + c.nbytes for k, c in self.runs)

    @property
    def n_entries(self):
        return self.fill + sum(k.shape[0] for k, _ in self.runs)

    def add(self, keys):
        """Count every key of ``keys uint64[n]`` once."""
        if self.buf.shape[0] < self.capacity:
            self.buf = np.empty(self.capacity, np.uint64)
        i, n = 0, keys.shape[0]
        while i < n:
            if self.fill == self.capacity:
                self._compact()
            take = min(self.capacity - self.fill, n - i)
            self.buf[self.fill:self.fill + take] = keys[i:i + take]
            self.fill += take
            i += take

    def room(self, n):
        """An array and a start offset where a kernel may write ``n`` keys: the buffer (compacted
        first if it lacks room), or a new array when ``n`` exceeds the capacity. Pass both to
        :meth:`commit` with the number of keys written."""
        if n > self.capacity:
            return np.empty(n, np.uint64), 0
        if self.buf.shape[0] < self.capacity:
            self.buf = np.empty(self.capacity, np.uint64)
        if self.fill + n > self.capacity:
            self._compact()
        return self.buf, self.fill

    def commit(self, buf, at, n):
        """Count the ``n`` keys written at ``buf[at:]`` (see :meth:`room`)."""
        if buf is self.buf:
            self.fill = at + n
        else:
            self.add(buf[at:at + n])

    def _compact(self):
        if not self.fill:
            return
        chunk = self.buf[:self.fill]
        chunk.sort()
        self.runs.append(run_lengths(chunk))
        self.fill = 0
        # merge while the newest run is at least half the size of the one before: O(log) runs
        while len(self.runs) > 1 and 2 * self.runs[-1][0].shape[0] >= self.runs[-2][0].shape[0]:
            b, a = self.runs.pop(), self.runs.pop()
            self.runs.append(merge_counts(a[0], a[1], b[0], b[1]))

    def result(self):
        """All counts as one run ``(keys, counts)``; the counter is empty afterwards."""
        self._compact()
        out = merge_runs(self.runs)
        self.runs = []
        self.buf = np.empty(0, np.uint64)
        return out
