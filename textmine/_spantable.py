"""Numba kernels behind ``textmine count``: an interning hash table of code-point strings.

Text is handled as ``uint32`` arrays of Unicode code points; a token or n-gram is a span
``codes[s:e]``. The table stores each distinct key once in an arena with its count, and is grown
by the Python driver (:class:`SpanTable`) when a kernel reports it is full, so kernels never
allocate. Keys carry a 64-bit hash: its low bits pick the slot, its high bits the hash partition
used by the reduce phase, so the partition of a key is the same in every worker.

Partials (what a map task returns) are compact arrays sorted by partition:
``codes uint32[total_len]``, ``offsets int64[n+1]``, ``counts int64[n]``, ``hashes uint64[n]`` and
``part_offsets int64[P+1]``.
"""
import numpy as np

from textmine import _packed
from textmine._numba import njit
from textmine._packed import PackedCounter, slot



@njit(inline="always")
def _mix(h):
    """splitmix64 finaliser: spreads the bits of an FNV hash over all 64 bits."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


@njit(inline="always")
def _fnv_step(h, c):
    return (h ^ np.uint64(c)) * np.uint64(0x100000001B3)


@njit
def hash_span(codes, s, e):
    """64-bit hash of ``codes[s:e]`` (uint32 code points)."""
    h = np.uint64(0xCBF29CE484222325)
    for i in range(s, e):
        h = _fnv_step(h, codes[i])
    return _mix(h)


@njit(inline="always")
def partition_of(h, n_parts):
    return np.int64((h >> np.uint64(40)) % np.uint64(n_parts))


# A table row (int64[4]): hash bits, key length, key (<= 3 code points packed 21 bits each, else
# the arena offset of its code points), count. count == 0 marks an empty row.
_H, _LEN, _KEY, _CNT = 0, 1, 2, 3
PACK_MAX = 3


@njit(inline="always")
def _pack(codes, s, e):
    v = np.int64(0)
    for i in range(s, e):
        v = (v << 21) | np.int64(codes[i])
    return v


@njit(inline="always")
def _find_or_add(codes, s, e, h, w, rows, arena, meta):
    """Add ``w`` to the count of key ``codes[s:e]`` (hash ``h``), inserting it if new.

    ``meta[0]`` counts keys, ``meta[1]`` the arena fill. The caller guarantees room.
    """
    mask = rows.shape[0] - 1
    hv = np.int64(h)
    i = np.int64(h & np.uint64(mask))
    n = e - s
    packed = n <= PACK_MAX
    key = _pack(codes, s, e) if packed else np.int64(0)
    while True:
        if rows[i, _CNT] == 0:
            rows[i, _H] = hv
            rows[i, _LEN] = n
            rows[i, _CNT] = w
            if packed:
                rows[i, _KEY] = key
            else:
                a = meta[1]
                rows[i, _KEY] = a
                for j in range(n):
                    arena[a + j] = codes[s + j]
                meta[1] = a + n
            meta[0] += 1
            return
        if rows[i, _H] == hv and rows[i, _LEN] == n:
            if packed:
                if rows[i, _KEY] == key:
                    rows[i, _CNT] += w
                    return
            else:
                a = rows[i, _KEY]
                same = True
                for j in range(n):
                    if arena[a + j] != codes[s + j]:
                        same = False
                        break
                if same:
                    rows[i, _CNT] += w
                    return
        i = (i + 1) & mask


@njit
def add_keys(codes, hashes, starts, ends, weights, k0, k1, rows, arena, meta):
    """Add keys ``k0..k1`` to the table: key ``k`` is ``codes[starts[k]:ends[k]]`` with hash
    ``hashes[k]``, counted ``weights[k]`` times (once when ``weights`` is empty). One kernel for
    the spans of a batch and for the entries of a partial (``starts``/``ends`` are then its
    offsets): each copy of the inlined probe loop costs about 0.5 s of a cold start.

    Returns the first key not added (the table needs growing when it is below ``k1``).
    """
    limit = rows.shape[0] // 2
    once = weights.shape[0] == 0
    for k in range(k0, k1):
        s, e = starts[k], ends[k]
        if meta[0] + 1 > limit or meta[1] + (e - s) > arena.shape[0]:
            return k
        _find_or_add(codes, s, e, hashes[k], np.int64(1) if once else weights[k], rows, arena, meta)
    return k1


_ONCE = np.empty(0, np.int64)


def _readonly(a):
    """A read-only view of ``a``: numba compiles a kernel again for a writable array where it had
    a read-only one (tokenized text is read-only), so the code points always come read-only."""
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


# A packed key: a string of 1..4 code points, each in 1..0xFFFF, left-aligned in 16-bit slots of a
# uint64 (first code point in the top slot, missing ones 0). Since no code point is 0, the length is
# implicit and unsigned order of packed keys is the code-point (``LC_ALL=C``) order of the strings.
PACK16_MAX = 4


@njit
def ngram_total(goff, min_n, max_n):
    """How many n-grams (orders ``min_n..max_n``) the groups ``goff`` hold."""
    total = 0
    for g in range(goff.shape[0] - 1):
        m = goff[g + 1] - goff[g]
        for k in range(min_n, max_n + 1):
            if m >= k:
                total += m - k + 1
    return total


@njit
def _grown(a):  # int64 arrays only
    new = np.empty(2 * a.shape[0] + 16, np.int64)
    for i in range(a.shape[0]):  # a loop, not a slice assignment: numba compiles the latter's
        new[i] = a[i]            # error message formatting (about 2 s of a cold start)
    return new


@njit
def ngram_descriptors(codes, ustart, uend, goff, min_n, max_n, n_parts, pack_buf, pack_at):
    """Every n-gram of a batch, as a packed key or as ``(hash, start, end)`` grouped by partition.

    A unit is a span ``codes[ustart[u]:uend[u]]`` (a character, or a token in an array where tokens
    are joined by single spaces); group ``g`` holds units ``goff[g]:goff[g+1]`` (a run of word
    characters, or a line). The n-gram of units ``i..j`` is the contiguous span
    ``codes[ustart[i]:uend[j]]``, for ``min_n <= j - i + 1 <= max_n``. When ``pack_buf uint64[B]``
    is not empty, a span of at most 4 code points in 1..0xFFFF is written as a packed key (see
    ``PACK16_MAX``) to ``pack_buf[pack_at:]``, which must have room for every n-gram of the batch
    (:func:`ngram_total`); every other span gets a descriptor. Returns ``hashes uint64[N]``,
    ``starts int64[N]``, ``ends int64[N]`` (partition by partition),
    ``part_offsets int64[n_parts + 1]`` and the number of packed keys written. Counting a batch
    one partition at a time keeps each partition's table in cache.
    """
    pack = pack_buf.shape[0] > 0
    total = ngram_total(goff, min_n, max_n)
    if pack and pack_buf.shape[0] - pack_at < total:
        raise ValueError("ngram_descriptors: no room for the packed keys")
    cap = min(total, 1024) if pack else total  # descriptors are few when most keys pack
    h_all = np.empty(cap, np.int64)  # the hashes' bits: one dtype, one build of _grown
    s_all = np.empty(cap, np.int64)
    e_all = np.empty(cap, np.int64)
    part = np.zeros(n_parts + 1, np.int64)
    q = 0
    npk = pack_at
    for g in range(goff.shape[0] - 1):
        a, b = goff[g], goff[g + 1]
        for i in range(a, b):
            h = np.uint64(0xCBF29CE484222325)
            pk = np.uint64(0)
            ok = pack
            s = ustart[i]
            pos = s
            top = i + max_n
            if top > b:
                top = b
            for j in range(i, top):
                e = uend[j]
                while pos < e:
                    c = codes[pos]
                    h = _fnv_step(h, c)
                    if ok:
                        if pos - s < PACK16_MAX and 0 < c < 0x10000:
                            pk |= np.uint64(c) << np.uint64(48 - 16 * (pos - s))
                        else:
                            ok = False
                    pos += 1
                if j - i + 1 >= min_n:
                    if ok:
                        pack_buf[npk] = pk
                        npk += 1
                    else:
                        if q == h_all.shape[0]:
                            h_all = _grown(h_all)
                            s_all = _grown(s_all)
                            e_all = _grown(e_all)
                        hm = _mix(h)
                        h_all[q] = np.int64(hm)
                        s_all[q] = s
                        e_all[q] = e
                        part[partition_of(hm, n_parts) + 1] += 1
                        q += 1
    for p in range(n_parts):
        part[p + 1] += part[p]
    nxt = part[:n_parts].copy()
    hs = np.empty(q, np.uint64)
    ss = np.empty(q, np.int64)
    es = np.empty(q, np.int64)
    for r in range(q):
        h = np.uint64(h_all[r])
        p = partition_of(h, n_parts)
        d = nxt[p]
        nxt[p] = d + 1
        hs[d] = h
        ss[d] = s_all[r]
        es[d] = e_all[r]
    return hs, ss, es, part, npk - pack_at


@njit
def rehash(new_rows, rows):
    """Insert every row of ``rows`` into the empty table ``new_rows``."""
    mask = new_rows.shape[0] - 1
    for r in range(rows.shape[0]):
        if rows[r, _CNT] != 0:
            i = np.int64(np.uint64(rows[r, _H]) & np.uint64(mask))
            while new_rows[i, _CNT] != 0:
                i = (i + 1) & mask
            for c in range(4):
                new_rows[i, c] = rows[r, c]


@njit
def extract(rows, arena, n_parts, min_count):
    """Copy the keys with count >= ``min_count`` out, grouped by hash partition.

    Returns ``codes, offsets, counts, hashes, part_offsets`` (see module docstring).
    """
    part_n = np.zeros(n_parts + 1, np.int64)
    keep = 0
    total = 0
    for r in range(rows.shape[0]):
        if rows[r, _CNT] >= min_count:
            p = partition_of(np.uint64(rows[r, _H]), n_parts)
            part_n[p + 1] += 1
            keep += 1
            total += rows[r, _LEN]
    for p in range(n_parts):
        part_n[p + 1] += part_n[p]
    order = np.empty(keep, np.int64)
    nxt = part_n[:n_parts].copy()
    for r in range(rows.shape[0]):
        if rows[r, _CNT] >= min_count:
            p = partition_of(np.uint64(rows[r, _H]), n_parts)
            order[nxt[p]] = r
            nxt[p] += 1
    codes = np.empty(total, np.uint32)
    offsets = np.empty(keep + 1, np.int64)
    counts = np.empty(keep, np.int64)
    hashes = np.empty(keep, np.uint64)
    offsets[0] = 0
    for q in range(keep):
        r = order[q]
        n = rows[r, _LEN]
        counts[q] = rows[r, _CNT]
        hashes[q] = np.uint64(rows[r, _H])
        o = offsets[q]
        offsets[q + 1] = o + n
        if n <= PACK_MAX:
            v = rows[r, _KEY]
            for j in range(n - 1, -1, -1):
                codes[o + j] = np.uint32(v & 0x1FFFFF)
                v >>= 21
        else:
            a = rows[r, _KEY]
            for j in range(n):
                codes[o + j] = arena[a + j]
    return codes, offsets, counts, hashes, part_n


@njit
def filter_min_count(codes, offsets, counts, min_count):
    """Keep the entries with count >= ``min_count``: returns ``codes, offsets, counts``."""
    keep = 0
    total = 0
    for k in range(counts.shape[0]):
        if counts[k] >= min_count:
            keep += 1
            total += offsets[k + 1] - offsets[k]
    nc = np.empty(total, np.uint32)
    no = np.empty(keep + 1, np.int64)
    nn = np.empty(keep, np.int64)
    no[0] = 0
    q = 0
    for k in range(counts.shape[0]):
        if counts[k] >= min_count:
            s = offsets[k]
            L = offsets[k + 1] - s
            for j in range(L):
                nc[no[q] + j] = codes[s + j]
            no[q + 1] = no[q] + L
            nn[q] = counts[k]
            q += 1
    return nc, no, nn


@njit(inline="always")
def _less(a, b, counts, offsets, codes):
    """Output order: count descending, then code points ascending (``LC_ALL=C sort``)."""
    if counts[a] != counts[b]:
        return counts[a] > counts[b]
    sa, ea, sb, eb = offsets[a], offsets[a + 1], offsets[b], offsets[b + 1]
    la, lb = ea - sa, eb - sb
    m = la if la < lb else lb
    for j in range(m):
        ca, cb = codes[sa + j], codes[sb + j]
        if ca != cb:
            return ca < cb
    return la < lb


def prefix_keys(offsets, codes, skip):
    """Code points ``skip..skip+2`` of each key packed into an int64 (missing ones as 0), 21 bits
    each. numpy (three vector passes over the keys): not worth a kernel's compile."""
    starts, ends = offsets[:-1] + skip, offsets[1:]
    out = np.zeros(starts.shape[0], np.int64)
    for j in range(3):
        at = starts + j
        ok = at < ends
        out <<= 21
        out[ok] |= codes[at[ok]].astype(np.int64)
    return out


@njit
def fix_ties(order, counts, pref, pref2, offsets, codes):
    """Sort, with the full comparison, each run of ``order`` whose count and first 6 code points
    are equal (only keys longer than 6 code points can tie)."""
    n = order.shape[0]
    i = 0
    while i < n:
        j = i + 1
        oi = order[i]
        while j < n and counts[order[j]] == counts[oi] and pref[order[j]] == pref[oi] \
                and pref2[order[j]] == pref2[oi]:
            j += 1
        if j - i > 1:
            for a in range(i + 1, j):  # insertion sort: runs are short
                x = order[a]
                b = a - 1
                while b >= i and _less(x, order[b], counts, offsets, codes):
                    order[b + 1] = order[b]
                    b -= 1
                order[b + 1] = x
        i = j


def sort_keys(counts, offsets, codes):
    """Indices of the entries in output order (count descending, then code points ascending),
    and the packed first and second three code points of every entry."""
    pref = prefix_keys(offsets, codes, 0)
    pref2 = prefix_keys(offsets, codes, 3)
    order = np.lexsort((pref2, pref, -counts))
    c, p, q = counts[order], pref[order], pref2[order]
    if np.any((c[1:] == c[:-1]) & (p[1:] == p[:-1]) & (q[1:] == q[:-1])):  # compiled only when needed
        fix_ties(order, counts, pref, pref2, offsets, codes)
    return order, pref, pref2


def sort_order(counts, offsets, codes):
    """Indices of the entries in output order: count descending, then code points ascending."""
    return sort_keys(counts, offsets, codes)[0]


def gather(order, codes, offsets, counts):
    """Reorder entries by ``order``: returns new ``codes, offsets, counts`` (numpy: the keys of
    the tables are few, and a kernel's compile costs more than this takes)."""
    lens = (offsets[1:] - offsets[:-1])[order]
    new_off = np.zeros(order.shape[0] + 1, np.int64)
    np.cumsum(lens, out=new_off[1:])
    at = np.repeat(offsets[:-1][order] - new_off[:-1], lens) + np.arange(new_off[-1], dtype=np.int64)
    return codes[at], new_off, counts[order]


@njit
def _utf8(c, buf, o):
    if c < 0x80:
        buf[o] = c
        return o + 1
    if c < 0x800:
        buf[o] = 0xC0 | (c >> 6)
        buf[o + 1] = 0x80 | (c & 0x3F)
        return o + 2
    if 0xDC80 <= c <= 0xDCFF:  # surrogateescape: the original undecodable byte
        buf[o] = c - 0xDC00
        return o + 1
    if c < 0x10000:
        buf[o] = 0xE0 | (c >> 12)
        buf[o + 1] = 0x80 | ((c >> 6) & 0x3F)
        buf[o + 2] = 0x80 | (c & 0x3F)
        return o + 3
    buf[o] = 0xF0 | (c >> 18)
    buf[o + 1] = 0x80 | ((c >> 12) & 0x3F)
    buf[o + 2] = 0x80 | ((c >> 6) & 0x3F)
    buf[o + 3] = 0x80 | (c & 0x3F)
    return o + 4


@njit(inline="always")
def _heap_less(x, y, hkey, heads, counts, offsets, codes):
    # compare the heads of runs x and y: the cached (-count, prefix, prefix2) keys, then all code points
    for c in range(3):
        if hkey[x, c] != hkey[y, c]:
            return hkey[x, c] < hkey[y, c]
    a, b = heads[x], heads[y]
    if _less(a, b, counts, offsets, codes):
        return True
    if _less(b, a, counts, offsets, codes):
        return False
    return x < y


@njit(inline="always")
def _sift_down(heap, n, i, hkey, heads, counts, offsets, codes):
    while True:
        left = 2 * i + 1
        if left >= n:
            return
        m = left
        r = left + 1
        if r < n and _heap_less(heap[r], heap[left], hkey, heads, counts, offsets, codes):
            m = r
        if _heap_less(heap[m], heap[i], hkey, heads, counts, offsets, codes):
            heap[m], heap[i] = heap[i], heap[m]
            i = m
        else:
            return


@njit(inline="always")
def _load_head(hkey, r, k, counts, pref, pref2):
    hkey[r, 0] = -counts[k]
    hkey[r, 1] = pref[k]
    hkey[r, 2] = pref2[k]


def heap_init(heads, run_ends, counts, pref, pref2, offsets, codes):
    """A heap of the non-empty sorted runs by their current heads (for :func:`merge_emit`).

    Run ``r`` holds entries ``heads[r]:run_ends[r]`` of the concatenated arrays; ``pref`` and
    ``pref2`` are the packed code points 0-2 and 3-5 of every entry (see :func:`prefix_keys`).
    Returns the heap, its size and the cached head keys ``int64[n_runs, 3]``. Plain Python (a
    sort of the heads, once per output; a sorted array is a heap): as a kernel it cost about
    1.5 s of compiling in every cold start.
    """
    n_runs = heads.shape[0]
    hkey = np.zeros((n_runs, 3), np.int64)
    live = np.flatnonzero(heads < run_ends)
    k = heads[live]
    hkey[live, 0] = -counts[k]
    hkey[live, 1] = pref[k]
    hkey[live, 2] = pref2[k]
    # the order of _heap_less: count descending, code points ascending, then the run
    order = sorted(live.tolist(), key=lambda r: (-int(counts[heads[r]]),
                                                 codes[offsets[heads[r]]:offsets[heads[r] + 1]].tolist(), r))
    heap = np.zeros(n_runs, np.int64)
    heap[:len(order)] = order
    return heap, len(order), hkey


@njit(inline="always")
def _packed_first(key, cnt, k, counts, offsets, codes):
    """Whether the packed key ``key`` (count ``cnt``) comes before entry ``k`` in output order.

    The two strings differ: a packable string is never counted in the tables.
    """
    if cnt != counts[k]:
        return cnt > counts[k]
    s, e = offsets[k], offsets[k + 1]
    for j in range(PACK16_MAX):
        c = slot(key, j)
        if c == 0:
            return True  # the packed string ended first (a prefix of the other)
        if s + j >= e:
            return False
        d = np.int64(codes[s + j])
        if c != d:
            return c < d
    return True


@njit(inline="always")
def _emit_count(c, buf, o, digits):
    """``<TAB>count<LF>`` at ``buf[o:]``; returns the new end."""
    buf[o] = 9
    o += 1
    nd = 0
    while True:
        digits[nd] = 48 + c % 10
        nd += 1
        c //= 10
        if c == 0:
            break
    for j in range(nd - 1, -1, -1):
        buf[o] = digits[j]
        o += 1
    buf[o] = 10
    return o + 1


@njit
def merge_emit(heap, n_heap, hkey, heads, run_ends, counts, pref, pref2, offsets, codes,
               pkeys, pcounts, pnext, buf, max_lines):
    """Merge the sorted runs and the packed entries, writing ``token<TAB>count<LF>`` lines as
    UTF-8 into ``buf``.

    The runs (in the heap) hold the strings counted in tables; ``pkeys uint64[m]`` and
    ``pcounts int64[m]`` hold the packed strings, already in output order, from ``pnext[0]`` on.
    Stops before ``buf`` could overflow or after ``max_lines`` lines. Returns
    ``(bytes written, lines written, heap size)``; ``pnext[0]`` advances. Call again while the
    heap is not empty or packed entries remain.
    """
    o = 0
    lines = 0
    digits = np.empty(20, np.uint8)
    cap = buf.shape[0]
    pi = pnext[0]
    npk = pkeys.shape[0]
    while (n_heap > 0 or pi < npk) and lines < max_lines:
        if pi < npk and (n_heap == 0 or _packed_first(pkeys[pi], pcounts[pi], heads[heap[0]],
                                                      counts, offsets, codes)):
            if o + 4 * PACK16_MAX + 24 > cap:
                break
            key = pkeys[pi]
            for j in range(PACK16_MAX):
                c = slot(key, j)
                if c == 0:
                    break
                o = _utf8(np.int64(c), buf, np.int64(o))
            o = _emit_count(pcounts[pi], buf, o, digits)
            pi += 1
            lines += 1
            continue
        r = heap[0]
        k = heads[r]
        s, e = offsets[k], offsets[k + 1]
        if o + 4 * (e - s) + 24 > cap:
            break
        for j in range(s, e):
            o = _utf8(np.int64(codes[j]), buf, np.int64(o))
        o = _emit_count(counts[k], buf, o, digits)
        lines += 1
        heads[r] = k + 1
        if heads[r] >= run_ends[r]:
            n_heap -= 1
            heap[0] = heap[n_heap]
        else:
            _load_head(hkey, r, k + 1, counts, pref, pref2)
        _sift_down(heap, n_heap, 0, hkey, heads, counts, offsets, codes)
    pnext[0] = pi
    return o, lines, n_heap


@njit
def char_units(codes, line_starts, line_ends, cls, mode):
    """Units and groups for the character tokenizers.

    ``cls[c]`` is 1 for a word character (letter or digit), 2 for whitespace, 0 otherwise.
    mode 0 (``ngram``): units are word characters, groups are maximal runs of them.
    mode 1 (``char``): units are the non-whitespace characters, groups are lines.
    mode 2 (``space``): units are maximal non-whitespace runs, groups are lines.
    Returns ``ustart, uend, goff``.
    """
    n = codes.shape[0]
    ustart = np.empty(n, np.int64)
    uend = np.empty(n, np.int64)
    goff = np.empty(n + line_starts.shape[0] + 1, np.int64)
    nu = 0
    ng = 0
    goff[0] = 0
    ncls = cls.shape[0]
    for li in range(line_starts.shape[0]):
        a, b = line_starts[li], line_ends[li]
        if mode == 0:
            inrun = False
            for i in range(a, b):
                c = codes[i]
                w = c < ncls and cls[c] == 1
                if w:
                    ustart[nu] = i
                    uend[nu] = i + 1
                    nu += 1
                    inrun = True
                elif inrun:
                    ng += 1
                    goff[ng] = nu
                    inrun = False
            if inrun:
                ng += 1
                goff[ng] = nu
        elif mode == 1:
            for i in range(a, b):
                c = codes[i]
                if not (c < ncls and cls[c] == 2):
                    ustart[nu] = i
                    uend[nu] = i + 1
                    nu += 1
            ng += 1
            goff[ng] = nu
        else:
            i = a
            while i < b:
                c = codes[i]
                if c < ncls and cls[c] == 2:
                    i += 1
                    continue
                j = i
                while j < b and not (codes[j] < ncls and cls[codes[j]] == 2):
                    j += 1
                ustart[nu] = i
                uend[nu] = j
                nu += 1
                i = j
            ng += 1
            goff[ng] = nu
    return ustart[:nu], uend[:nu], goff[:ng + 1]


@njit
def join_units(codes, ustart, uend, goff):
    """Copy the units of each group into a new array, separated by single spaces (U+0020).

    Word n-grams are then contiguous spans of the new array ("w1 w2 w3"). Returns
    ``new_codes, new_ustart, new_uend`` (groups unchanged).
    """
    total = 0
    for u in range(ustart.shape[0]):
        total += uend[u] - ustart[u] + 1
    out = np.empty(total, np.uint32)
    ns = np.empty(ustart.shape[0], np.int64)
    ne = np.empty(ustart.shape[0], np.int64)
    o = 0
    for g in range(goff.shape[0] - 1):
        for u in range(goff[g], goff[g + 1]):
            if u > goff[g]:
                out[o] = 32
                o += 1
            ns[u] = o
            for i in range(ustart[u], uend[u]):
                out[o] = codes[i]
                o += 1
            ne[u] = o
    return out[:o], ns, ne


class SpanTable:
    """A growable interning table of code-point strings with counts (driver for the kernels).

    Memory: 64 bytes per key (32-byte rows at most half full) plus 4 bytes per code point of
    keys longer than 3 code points.
    """

    def __init__(self, entries=1 << 15, arena=1 << 16):
        n_rows = 16
        while n_rows < 2 * entries:
            n_rows *= 2
        self.rows = np.zeros((n_rows, 4), np.int64)
        self.arena = np.zeros(max(arena, 64), np.uint32)
        self.meta = np.zeros(2, np.int64)

    @property
    def n_entries(self):
        return int(self.meta[0])

    @property
    def nbytes(self):
        return self.rows.nbytes + self.arena.nbytes

    def arrays(self):
        return self.rows, self.arena, self.meta

    def grow(self, more_entries, more_arena):
        """Make room for ``more_entries`` keys and ``more_arena`` code points (doubling)."""
        want = self.n_entries + more_entries
        if 2 * want > self.rows.shape[0]:
            n_rows = self.rows.shape[0]
            while n_rows < 2 * want + 2:
                n_rows *= 2
            new = np.zeros((n_rows, 4), np.int64)
            rehash(new, self.rows)
            self.rows = new
        used = int(self.meta[1])
        if used + more_arena > self.arena.shape[0]:
            size = self.arena.shape[0]
            while size < used + more_arena:
                size *= 2
            new = np.zeros(size, np.uint32)
            new[:used] = self.arena[:used]
            self.arena = new

    def _room_for(self, n_codes):
        # called when a kernel stopped: the rows or the arena are full
        rows_full = self.n_entries + 1 > self.rows.shape[0] // 2
        self.grow(max(1, self.n_entries // 2) if rows_full else 0, n_codes)  # rows x2

    def add(self, codes, offsets, counts, hashes):
        """Add a partial's keys with their counts."""
        k = 0
        n = counts.shape[0]
        codes, starts, ends = _readonly(codes), offsets[:-1], offsets[1:]
        while k < n:
            k = add_keys(codes, hashes, starts, ends, counts, k, n, *self.arrays())
            if k < n:
                self._room_for(int(offsets[k + 1] - offsets[k]))

    def extract(self, n_parts=1, min_count=1):
        """The entries as a partial ``(codes, offsets, counts, hashes, part_offsets)``."""
        return extract(self.rows, self.arena, n_parts, min_count)


    def add_spans(self, codes, hashes, starts, ends, k0, k1):
        """Count the spans ``k0..k1`` of a descriptor list (see :func:`ngram_descriptors`)."""
        k = k0
        codes = _readonly(codes)
        while k < k1:
            k = add_keys(codes, hashes, starts, ends, _ONCE, k, k1, *self.arrays())
            if k < k1:
                self._room_for(int(ends[k] - starts[k]))


_NO_PACK = np.empty(0, np.uint64)


class PartitionedTable:
    """One :class:`SpanTable` per hash partition; a batch is counted partition by partition so
    each table stays small enough for the cache ("batched local counting"). With ``pack_capacity``,
    short keys that pack into a ``uint64`` skip the tables and go to a
    :class:`~textmine._packed.PackedCounter` with a buffer of that many keys."""

    def __init__(self, n_parts, pack_capacity=None):
        self.tables = [SpanTable(entries=1 << 12, arena=1 << 14) for _ in range(n_parts)]
        self.packed = PackedCounter(pack_capacity) if pack_capacity else None

    @property
    def n_entries(self):
        n = sum(t.n_entries for t in self.tables)
        return n + (self.packed.n_entries if self.packed is not None else 0)

    @property
    def nbytes(self):
        n = sum(t.nbytes for t in self.tables)
        return n + (self.packed.nbytes if self.packed is not None else 0)

    def count_ngrams(self, codes, ustart, uend, goff, min_n=1, max_n=1):
        buf, at = _NO_PACK, 0
        codes = _readonly(codes)
        if self.packed is not None:
            buf, at = self.packed.room(ngram_total(goff, min_n, max_n))
        hs, ss, es, part, n_packed = ngram_descriptors(codes, ustart, uend, goff, min_n, max_n,
                                                       len(self.tables), buf, at)
        if self.packed is not None:
            self.packed.commit(buf, at, n_packed)
        for p, t in enumerate(self.tables):
            a, b = int(part[p]), int(part[p + 1])
            if b > a:
                t.add_spans(codes, hs, ss, es, a, b)

    def pieces(self, min_count=1):
        """The partitions' keys: a list of ``(codes, offsets, counts, hashes)``, one per partition."""
        return [t.extract(1, min_count)[:4] for t in self.tables]

    def packed_run(self):
        """The packed keys counted so far, as one sorted run ``(keys, counts)``."""
        return self.packed.result() if self.packed is not None else _packed._EMPTY
