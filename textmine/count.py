"""Token and n-gram counting with a map-reduce layer (post 7031, "when can a multi-process
speed-up exceed 1?").

Map: each task reads its own shard (a byte range of a file, or a batch of stdin lines) and
tokenises it batch by batch. A key (token or n-gram) of at most 4 code points of the Basic
Multilingual Plane, which is most keys of Chinese text, is packed into a ``uint64``
(:mod:`textmine._packed`): packed keys are buffered, sorted and run-length coded into sorted runs,
with no hash table at all. Longer keys are bucketed by hash partition and each bucket is counted
into that partition's small local table (:class:`~textmine._spantable.PartitionedTable`), so the
table being updated fits in cache. When the buffer, runs and tables pass their memory budget they
are flushed as a compact *partial* (per-partition arrays and one sorted packed run) and fresh ones
start. Reduce: tasks over groups of partitions and ranges of packed keys merge the pieces of every
partial exactly and filter by ``min_count``; table keys are sorted into one *run* per partition;
the packed ranges, concatenated in key order, are put in output order by one counting sort on the
count. The runs and the packed keys are merged straight into UTF-8 output. No step goes through
one ever-growing dict.

Memory (``memory_limit``, split among the ``n_jobs`` workers; a fixed start-up cost of about
300 MB per process comes on top): a map task counts in a quarter of its share and flushes a partial
when its table, packed runs and buffered keys reach it; partials beyond a quarter of the limit (one
job) or all of them (several local jobs) are written to a scratch directory as they are made.
Batches hold a bounded number of characters and a long line is read in pieces, cut where the
tokenizer's units do not change (anywhere for ``ngram``/``char``, after whitespace for ``space``,
after a character outside jieba's blocks for ``jieba``, between blocks for ``lexicon``); the n-grams
across a cut are counted once from the units on both sides. The reduce uses as many key ranges and
partition groups as it takes for each task to read at most a sixth of its share (slices of the
partials are read, not memory-mapped, so their pages do not count in the resident set). The packed
keys are put in output order in chunks of at most ``memory_limit / 64`` entries (a histogram of
the counts, then one pass over the reduce results per group of counts), so the output is written
in bounded memory however many distinct keys there are. What is not bounded: the distinct long
keys (over 4 code points, or outside the BMP) of one hash partition during its merge, and the
sorted runs of those keys, memory-mapped while the output is written.

Output order is count descending, then code point ascending (``LC_ALL=C sort``), so the result
does not depend on ``n_jobs``, the shard size or the engine: ``-j 1`` and ``-j N`` are byte-identical.
"""
import dataclasses
import os
import shutil
import sys
import tempfile
import time
import types
import weakref
from dataclasses import dataclass, field

import numpy as np

from textmine import _packed as pk
from textmine import _spantable as st
from textmine.corpus import (SPOOL_READ, ReadOptions, Shard, STDIN, iter_batch_pieces, iter_batches, iter_lines,
                             make_shards, splittable, spool_long_lines)
from textmine.errors import TextmineError
from textmine.formats import open_npy_memmap, save_npy
from textmine.tokenizers import make_tokenizer


@dataclass(frozen=True)
class CountConfig:
    """What a map task needs (it is pickled to the workers)."""

    tokenizer: str = "jieba"
    min_n: int = 1
    max_n: int = 1
    n_parts: int = 256
    table_bytes: int = 256 << 20
    batch_chars: int = 1 << 18
    read: ReadOptions = field(default_factory=ReadOptions)
    doc_per_file: bool = False
    spool_dir: object = None  # workers write partials and runs here instead of pickling them back
    keep_bytes: int = 0  # with spool_dir: partials kept in memory up to this size, the rest spilled there
    pack_capacity: int = 1 << 24  # packed keys buffered before a sort (8 bytes each)


@dataclass
class MapResult:
    partials: list
    lines: int
    chars: int
    nbytes: int
    spilled: int = 0


_TOKENIZERS = {}


def _tokenizer(spec):
    tok = _TOKENIZERS.get(spec)
    if tok is None:
        tok = _TOKENIZERS[spec] = make_tokenizer(spec)
    return tok


def count_batch(lines, tokenizer, table, min_n=1, max_n=1):
    """Count the n-grams (orders ``min_n..max_n``) of one batch of lines into ``table``."""
    codes, us, ue, go, joined = tokenizer.units(lines)
    if joined and max_n > 1:
        codes, us, ue = st.join_units(codes, us, ue, go)
    table.count_ngrams(codes, us, ue, go, min_n, max_n)
    return codes.shape[0]


_JIEBA_BLOCK = None


def _safe_split(tokenizer):
    """``split(text) -> p``: a position where ``text`` may be cut without changing its units, the
    last one found (``len(text)``: anywhere; 0: none), or None when the tokenizer must see whole
    lines."""
    kind = tokenizer.split(":")[0]
    if kind in ("ngram", "char"):  # units are single characters
        return len
    if kind == "space":  # after whitespace
        from textmine.tokenizers import char_classes

        cls = char_classes()

        def after_space(text, window=1 << 16):
            for i in range(len(text) - 1, max(-1, len(text) - 1 - window), -1):
                if cls[ord(text[i])] == 2:
                    return i + 1
            return 0
        return after_space
    if kind == "jieba":  # after a character outside jieba's blocks (re_han_default): it is a token
        import re

        from textmine.jiebacut import RE_HAN_DEFAULT

        block = re.compile(RE_HAN_DEFAULT[1:-2]).match  # the character class alone

        def after_nonblock(text, window=1 << 16):
            for i in range(len(text) - 1, max(-1, len(text) - 1 - window), -1):
                if not block(text[i]):
                    return i + 1
            return 0
        return after_nonblock
    if kind == "lexicon":
        return _after_lexicon_block
    return None


_NUMBER_SIGNS = np.array([0x2E, 0xFF0E, 0x25, 0xFF05], np.uint32)  # may join a number (segment's classes)


def _after_lexicon_block(text, window=1 << 16):
    """The last position of ``text`` where :mod:`textmine.segment` may cut: after its whitespace,
    or between a symbol and a different character (a run of one symbol is one token; a ``.`` or
    ``%`` is excluded: it may belong to a number). 0: none."""
    lo = max(0, len(text) - window)
    c = np.frombuffer(text[lo:].encode("utf-32-le", "surrogatepass"), np.uint32)
    if not c.shape[0]:
        return 0
    space = (c == 32) | (c == 9) | (c == 10) | (c == 13) | (c == 0x3000) | (c == 0xA0) | ((c >= 0x2000) & (c <= 0x200B))
    word = ((c >= 0x4E00) & (c <= 0x9FFF)) | ((c >= 0x3400) & (c <= 0x4DBF)) | ((c >= 0xF900) & (c <= 0xFAFF)) | (
        (c >= 0x20000) & (c <= 0x2FA1F)) | (c == 0x3007) | (c == 0x25CB) | ((c >= 48) & (c <= 57)) | (
        (c >= 65) & (c <= 90)) | ((c >= 97) & (c <= 122)) | ((c >= 0xFF10) & (c <= 0xFF19)) | (
        (c >= 0xFF21) & (c <= 0xFF3A)) | ((c >= 0xFF41) & (c <= 0xFF5A))
    symbol = ~space & ~word & ~np.isin(c, _NUMBER_SIGNS)
    # safe[k]: a cut after c[k]
    safe = space.copy()
    safe[:-1] |= symbol[:-1] & (c[1:] != c[:-1])
    k = np.flatnonzero(safe)
    return lo + int(k[-1]) + 1 if k.shape[0] else 0


def _safe_batches(pieces, split):
    """Batches of documents from :func:`textmine.corpus.iter_batch_pieces`, cut only where
    ``split`` allows: yields ``(docs, first_continues, last_continues)``. The text of an open
    document after its last safe position waits for the next piece (it grows only while no safe
    position comes)."""
    pending = ""
    cont = False  # the next document yielded goes on from the last one yielded
    for docs, open_end in pieces:
        if pending:
            docs[0] = pending + docs[0]
            pending = ""
        first = cont
        if open_end:
            last = docs[-1]
            p = split(last)
            pending = last[p:]
            if p == 0:  # nothing safe to cut at: all of it waits
                docs.pop()
                if not docs:
                    continue
                cont = False  # the last document yielded is a whole line; the waiting one is new
                yield docs, first, False
                continue
            docs[-1] = last[:p]
        cont = open_end
        yield docs, first, open_end
    if pending:
        yield [pending], cont, False


def _unit_strings(codes, us, ue, a, b):
    return [codes[us[u]:ue[u]].tobytes().decode("utf-32-le", "surrogatepass") for u in range(a, b)]


def _edges(docs, tok, units, max_n):
    """The first and last ``max_n - 1`` units of a batch's first and last documents (as strings),
    and whether the last document is a single group (its units go on from the previous ones)."""
    k = max_n - 1
    codes, us, ue, goff, joined = units
    if joined:  # one group per document
        g0a, g0b = int(goff[0]), int(goff[1])
        gla, glb = int(goff[-2]), int(goff[-1])
        return (_unit_strings(codes, us, ue, g0a, min(g0b, g0a + k)), _unit_strings(codes, us, ue, max(gla, glb - k), glb),
                True)
    from textmine.tokenizers import char_classes  # ngram: groups are runs of word characters

    cls = char_classes()
    first, last = docs[0], docs[-1]
    head = []
    for ch in first[:k]:
        if cls[ord(ch)] != 1:
            break
        head.append(ch)
    tail = []
    for ch in reversed(last[-k:] if k else ""):
        if cls[ord(ch)] != 1:
            break
        tail.append(ch)
    whole = len(tail) == len(last)
    return head, tail[::-1], whole


def _cross_keys(tail, head, min_n, max_n, sep):
    """The n-grams that start in ``tail`` and end in ``head`` (lists of unit strings)."""
    keys = []
    for i in range(len(tail)):
        for j in range(len(head)):
            n = len(tail) - i + j + 1
            if min_n <= n <= max_n:
                keys.append(sep.join(tail[i:] + head[:j + 1]))
    return keys


def _count_keys(table, keys):
    """Count each string of ``keys`` once (as a one-unit group)."""
    if not keys:
        return
    codes = np.frombuffer("".join(keys).encode("utf-32-le", "surrogatepass"), np.uint32)
    lens = np.fromiter(map(len, keys), np.int64, len(keys))
    ends = np.cumsum(lens)
    table.count_ngrams(codes, ends - lens, ends, np.arange(len(keys) + 1, dtype=np.int64), 1, 1)


class _Table(st.PartitionedTable):
    """A :class:`~textmine._spantable.PartitionedTable` whose partition tables start small (a few
    KB each, grown by doubling), so that an empty table costs little of a small budget."""

    def __init__(self, n_parts, pack_capacity=None):
        self.tables = [st.SpanTable(entries=1 << 6, arena=1 << 8) for _ in range(n_parts)]
        self.packed = pk.PackedCounter(pack_capacity) if pack_capacity else None


def _used_bytes(table):
    """Memory a map task's table holds or will need to flush: the partition tables, the packed
    runs and the buffered packed keys at 16 bytes each (what run-length coding them may take)."""
    n = sum(t.nbytes for t in table.tables)
    p = table.packed
    if p is not None:
        n += 16 * p.fill + sum(k.nbytes + c.nbytes for k, c in p.runs)
    return n


def _map_task(task):
    """Map one shard (``Shard``) or batch of lines (``list``) to partials."""
    source, cfg = task
    tok = _tokenizer(cfg.tokenizer)
    table = _Table(cfg.n_parts, cfg.pack_capacity)
    partials = []
    lines = chars = 0
    kept = [0, 0]  # bytes of partials kept in memory, and spilled beyond keep_bytes

    def flush(table):
        p = _partial(table)
        if cfg.spool_dir is None:
            return p
        size = _partial_bytes(p)
        if kept[0] + size <= cfg.keep_bytes:
            kept[0] += size
            return p
        if cfg.keep_bytes:
            kept[1] += size
        return _save_partial(p, cfg.spool_dir)

    if isinstance(source, Shard):
        split = _safe_split(cfg.tokenizer)
        if split is None:
            batches = ((b, False, False) for b in iter_batches(source, cfg.read, cfg.batch_chars, cfg.doc_per_file))
        else:
            batches = _safe_batches(iter_batch_pieces(source, cfg.read, cfg.batch_chars, cfg.doc_per_file,
                                                      cfg.batch_chars), split)
        if source.path == STDIN or not splittable(source.path):
            nbytes = 0
        else:
            end = source.end if source.end is not None else os.path.getsize(source.path)
            nbytes = end - source.start
    else:
        batches = [(source, False, False)]
        nbytes = sum(len(x.encode("utf-8", "surrogatepass")) + 1 for x in source)
    tail = []  # the last max_n - 1 units of an open document: n-grams across a cut start there
    for batch, first_cont, last_cont in batches:
        lines += len(batch) - first_cont
        if cfg.max_n == 1 or not (first_cont or last_cont):
            chars += count_batch(batch, tok, table, cfg.min_n, cfg.max_n)
        else:
            units = tok.units(batch)
            head, last, whole = _edges(batch, tok, units, cfg.max_n)
            codes, us, ue, go, joined = units
            if joined:
                codes, us, ue = st.join_units(codes, us, ue, go)
            table.count_ngrams(codes, us, ue, go, cfg.min_n, cfg.max_n)
            chars += codes.shape[0]
            del units, codes, us, ue, go
            if first_cont:
                _count_keys(table, _cross_keys(tail, head, cfg.min_n, cfg.max_n, " " if joined else ""))
            if last_cont:
                tail = ((tail if first_cont and len(batch) == 1 and whole else []) + last)[-(cfg.max_n - 1):]
            else:
                tail = []
        if _used_bytes(table) > cfg.table_bytes:
            partials.append(flush(table))
            table = _Table(cfg.n_parts, cfg.pack_capacity)
    if table.n_entries:
        partials.append(flush(table))
    return MapResult(partials, lines, chars, nbytes, kept[1])


def _partial_bytes(partial):
    return sum(a.nbytes for piece in partial[0] for a in piece) + partial[1].nbytes + partial[2].nbytes


def _partial(table):
    """A map task's partial: ``(pieces, keys, counts)``, the per-partition pieces of the tables
    and one sorted run of the packed keys."""
    return (table.pieces(),) + tuple(table.packed_run())


_PARTIAL_NAMES = ("codes", "offsets", "counts", "hashes", "parts")
_PACKED_NAMES = ("pkeys", "pcounts")
_RAW = {"pkeys": np.dtype(np.uint64), "pcounts": np.dtype(np.int64), "psample": np.dtype(np.uint64)}


def _save_raw(d, name, a):
    """Packed keys, counts and samples are raw ``.bin`` files: read by slices, many times, with no
    header to parse."""
    path = os.path.join(d, name + ".bin")
    try:
        np.ascontiguousarray(a, _RAW[name]).tofile(path)
    except OSError as e:  # a full scratch directory: one line naming the file, as save_npy
        raise TextmineError(f"{path}: cannot write ({e.strerror or e})") from None


def _len_raw(d, name):
    return os.path.getsize(os.path.join(d, name + ".bin")) // _RAW[name].itemsize


def _read_raw(d, name, a=0, b=None):
    """Items ``a:b`` of a raw array, read into memory (not mapped: a mapped file's pages, and the
    pages the kernel maps around each one touched, would count in the resident memory)."""
    dt = _RAW[name]
    path = os.path.join(d, name + ".bin")
    n = os.path.getsize(path) // dt.itemsize
    b = n if b is None else min(b, n)
    a = min(a, b)
    return np.fromfile(path, dt, b - a, offset=a * dt.itemsize)


def _save_packed(packed, directory):
    d = tempfile.mkdtemp(prefix="k", dir=directory)
    for name, a in zip(_PACKED_NAMES, packed):
        _save_raw(d, name, a)
    return d


_STRIDE = 256  # one packed key in this many is kept as a sample (to choose the reduce ranges)


def _save_partial(partial, directory):
    """Write a partial as ``.npy`` files in a new subdirectory; returns its path. Besides the
    arrays, ``psample.bin`` holds every ``_STRIDE``-th packed key (read to choose key ranges
    without reading the keys)."""
    d = tempfile.mkdtemp(prefix="p", dir=directory)
    pieces = partial[0]
    partial = (None,) + tuple(partial[1:])
    for name, a in zip(_PARTIAL_NAMES, _concat_pieces(pieces)):
        save_npy(os.path.join(d, name + ".npy"), a)
    del pieces
    for name, a in zip(_PACKED_NAMES, partial[1:]):
        _save_raw(d, name, a)
    _save_raw(d, "psample", partial[1][::_STRIDE])
    return d


def _load(d, name):
    return np.load(os.path.join(d, name + ".npy"), mmap_mode="r")


def _read(d, name, a=0, b=None):
    """Items ``a:b`` of a saved 1-D array, read into memory (not mapped: a mapped file's pages, and
    the pages the kernel maps around each one touched, would count in the resident memory)."""
    from numpy.lib import format as npf

    with open(os.path.join(d, name + ".npy"), "rb") as f:
        version = npf.read_magic(f)
        read_header = npf.read_array_header_1_0 if version == (1, 0) else npf.read_array_header_2_0
        shape, _, dtype = read_header(f)
        n = shape[0]
        b = n if b is None else min(b, n)
        a = min(a, b)
        return np.fromfile(f, dtype, b - a, offset=a * dtype.itemsize)


def _key_slice(keys, counts, lo, hi):
    """The entries of a sorted run with ``lo <= key < hi`` (``None``: unbounded)."""
    a = 0 if lo is None else int(np.searchsorted(keys, np.uint64(lo)))
    b = keys.shape[0] if hi is None else int(np.searchsorted(keys, np.uint64(hi)))
    return keys[a:b], counts[a:b]


def _shape(d, name):
    """The length of a saved array (its header only is read)."""
    return int(_load(d, name).shape[0])


class PartialStore:
    """Partials from the map phase: in memory up to ``budget`` bytes, then spilled to ``directory``.

    An in-memory partial is ``(pieces, keys, counts)``: a list of per-partition pieces
    ``(codes, offsets, counts, hashes)`` and a sorted run of packed keys; one on disk is a
    directory of ``.npy`` files (written here, or by a worker), read back by memory map, slice by
    slice. ``packed_bytes`` and ``table_bytes`` sum the sizes of the two kinds of key, which size
    the reduce.
    """

    def __init__(self, budget, directory):
        self.budget = budget
        self.items = []
        self.in_memory = 0
        self._dir = directory
        self.spilled = 0
        self.packed_bytes = 0
        self.table_bytes = 0

    def add(self, partial):
        if isinstance(partial, str):  # already on disk (written by a worker)
            self.items.append(partial)
            self.packed_bytes += 16 * _len_raw(partial, "pkeys")
            self.table_bytes += os.path.getsize(os.path.join(partial, "codes.npy")) + 24 * _shape(partial, "counts")
            return
        size = _partial_bytes(partial)
        tsize = size - partial[1].nbytes - partial[2].nbytes
        self.packed_bytes += partial[1].nbytes + partial[2].nbytes
        self.table_bytes += tsize
        if self.in_memory + size <= self.budget:
            self.items.append(partial)
            self.in_memory += size
            return
        self.items.append(_save_partial(partial, self._dir))
        self.spilled += size

    def refs(self, p0, p1, g):
        """What a reduce task over partitions ``[p0, p1)`` and packed-key range ``g`` (of
        :meth:`key_bounds`; ``None``: no packed keys) needs from every partial: the slices
        themselves, or (for a partial on disk) its directory and the positions, small to pickle."""
        lo, hi = (self.bounds[g], self.bounds[g + 1]) if g is not None else (0, 0)
        out = []
        for item in self.items:
            if isinstance(item, str):
                pos = self._pos[item]
                out.append((item, p0, p1) + ((int(pos[g]), int(pos[g + 1])) if g is not None else (0, 0)))
            else:
                keys, counts = _key_slice(item[1], item[2], lo, hi) if g is not None else pk._EMPTY
                out.append(([piece for piece in item[0][p0:p1]], keys, counts))
        return out

    def key_bounds(self, n_groups):
        """Split the packed keys of all partials into ``n_groups`` ranges of about equal size,
        from every ``_STRIDE``-th key of each, and find the ranges' positions in the partials on
        disk (one read of each partial's keys)."""
        picks = []
        for item in self.items:
            keys = _read_raw(item, "psample") if isinstance(item, str) else item[1][::_STRIDE]
            if keys.shape[0]:
                picks.append(np.asarray(keys))
        if not picks:  # no packed keys anywhere: every range is empty
            bounds = [None] + [0] * (n_groups - 1) + [None]
        else:
            allk = np.sort(np.concatenate(picks))
            bounds = [None] + [int(allk[len(allk) * g // n_groups]) for g in range(1, n_groups)] + [None]
        del picks
        self.bounds = bounds
        inner = np.array(bounds[1:-1], np.uint64)
        self._pos = {}
        for item in self.items:
            if isinstance(item, str):
                keys = _read_raw(item, "pkeys")
                self._pos[item] = np.concatenate([[0], np.searchsorted(keys, inner), [keys.shape[0]]])
                del keys
        return bounds

    def close(self):
        for item in self.items:
            if isinstance(item, str):
                shutil.rmtree(item, ignore_errors=True)
        self.items = []


def _concat_pieces(pieces):
    """Per-partition pieces as one partial ``(codes, offsets, counts, hashes, part_offsets)``."""
    codes, offsets, counts, parts = _concat_runs([p[:3] for p in pieces], None)
    return codes, offsets, counts, np.concatenate([p[3] for p in pieces]), parts


def _slice(partial, p0, p1):
    codes, offsets, counts, hashes, parts = partial
    k0, k1 = int(parts[p0]), int(parts[p1])
    c0, c1 = int(offsets[k0]), int(offsets[k1])
    return codes[c0:c1], offsets[k0:k1 + 1] - c0, counts[k0:k1], hashes[k0:k1]


def _pieces(ref):
    """``(pieces, keys, counts)``: what a reduce task asked for of one partial (see
    :meth:`PartialStore.refs`), from memory or from a spilled partial."""
    if isinstance(ref[0], str):
        d, p0, p1, a, b = ref
        pieces = []
        if p1 > p0:
            parts = _read(d, "parts")
            k0, k1 = int(parts[p0]), int(parts[p1])
            offsets = _read(d, "offsets", k0, k1 + 1)
            c0 = int(offsets[0])
            # the group's entries only, rebased: then sliced partition by partition
            arrays = (_read(d, "codes", c0, int(offsets[-1])), offsets - c0, _read(d, "counts", k0, k1),
                      _read(d, "hashes", k0, k1), parts[p0:p1 + 1] - k0)
            pieces = [list(_slice(arrays, p, p + 1)) for p in range(p1 - p0)]
        return pieces, _read_raw(d, "pkeys", a, b), _read_raw(d, "pcounts", a, b)
    return ref


def _merge_partition(pieces, min_count):
    """Exact counts of one hash partition from its pieces in every partial."""
    pieces = [x for x in pieces if x[2].shape[0]]
    if not pieces:
        return None
    if len(pieces) == 1:  # keys of one partial are already distinct
        codes, offsets, counts, _ = pieces[0]
        return st.filter_min_count(codes, offsets, counts, min_count)
    # sized for twice the largest piece, grown by doubling: not for the sum of the pieces, which
    # grows with the corpus when the distinct keys do not
    table = st.SpanTable(entries=min(sum(x[2].shape[0] for x in pieces), 2 * max(x[2].shape[0] for x in pieces)),
                         arena=min(sum(x[0].shape[0] for x in pieces), 2 * max(x[0].shape[0] for x in pieces)) + 64)
    for codes, offsets, counts, hashes in pieces:
        table.add(codes, offsets, counts, hashes)
    return table.extract(1, min_count)[:3]


def _reduce_task(task):
    """Merge a group of hash partitions and a range of packed keys.

    Returns ``(group, runs, packed)``: one sorted run per partition,
    ``(codes, offsets, counts, pref, pref2)`` (``pref*``: packed code points, for fast merging),
    and the packed keys of the range with their counts, in key order (a directory on disk when
    ``spool_dir`` is set).
    """
    group, refs, min_count, top, spool_dir = task
    per_partial = [_pieces(r) for r in refs]
    keys, counts = pk.merge_runs([p[1:] for p in per_partial])
    if min_count > 1:
        keep = counts >= min_count
        keys, counts = keys[keep], counts[keep]
    packed = (keys, counts)
    runs = []
    for pieces in zip(*(p[0] for p in per_partial)):
        m = _merge_partition(pieces, min_count)
        if m is None or not m[2].shape[0]:
            continue
        codes, offsets, counts = m
        order, pref, pref2 = st.sort_keys(counts, offsets, codes)
        if top is not None:
            order = order[:top]
        runs.append(st.gather(order, codes, offsets, counts) + (pref[order], pref2[order]))
    if spool_dir is not None:
        return group, _save_runs(runs, spool_dir), _save_packed(packed, spool_dir)
    return group, runs, packed


_RUN_NAMES = ("c", "o", "n", "p", "q")


def _save_arrays(arrays, names, directory):
    d = tempfile.mkdtemp(prefix="r", dir=directory)
    for name, a in zip(names, arrays):
        save_npy(os.path.join(d, name + ".npy"), a)
    return d


def _load_arrays(d, names):
    return tuple(_load(d, n).view(np.ndarray) for n in names)


def _save_run(run, directory):
    return _save_arrays(run, _RUN_NAMES, directory)


def _load_run(d):
    """A run saved by :func:`_save_run`: views of memory maps (for their lengths) and, last, where
    :class:`_RunReader` reads it from, ``(directory, first entry, entries)``."""
    arrays = _load_arrays(d, _RUN_NAMES)
    return arrays + ((d, 0, int(arrays[2].shape[0])),)


def _save_runs(runs, directory):
    """Several runs in one directory (concatenated, with their boundaries)."""
    codes, offsets, counts, starts = _concat_runs(runs, None)
    pref = np.concatenate([r[3] for r in runs] or [np.empty(0, np.int64)])
    pref2 = np.concatenate([r[4] for r in runs] or [np.empty(0, np.int64)])
    return _save_arrays((codes, offsets, counts, pref, pref2, starts), _RUN_NAMES + ("s",), directory)


def _load_runs(d):
    """The runs saved by :func:`_save_runs` (views of memory maps, offsets rebased)."""
    codes, offsets, counts, pref, pref2, starts = _load_arrays(d, _RUN_NAMES + ("s",))
    runs = []
    for a, b in zip(starts[:-1].tolist(), starts[1:].tolist()):
        # nothing is read here (the offsets are not rebased): :class:`_RunReader` reads the run
        # window by window from ``(d, a, b - a)``
        runs.append((codes, offsets[a:b + 1], counts[a:b], pref[a:b], pref2[a:b], (d, a, b - a)))
    return runs


_NPY_HEADERS = {}


def _npy_at(path, a, b):
    """Items ``a:b`` of the 1-D ``.npy`` file ``path``, read into memory (header cached)."""
    h = _NPY_HEADERS.get(path)
    if h is None:
        from numpy.lib import format as npf

        with open(path, "rb") as f:
            version = npf.read_magic(f)
            read_header = npf.read_array_header_1_0 if version == (1, 0) else npf.read_array_header_2_0
            _, _, dtype = read_header(f)
            h = _NPY_HEADERS[path] = (dtype, f.tell())
    dtype, start = h
    return np.fromfile(path, dtype, max(0, b - a), offset=start + a * dtype.itemsize)


class _RunReader:
    """Slices of one sorted run (``(codes, offsets, counts, pref, pref2)`` in memory, or with a
    sixth item ``(directory, first entry, entries)`` on disk), read into memory: a run on disk is
    never mapped, so that reading it through does not leave its pages resident."""

    def __init__(self, run):
        self.disk = run[5] if len(run) > 5 else None
        self.run = None if self.disk else run
        self.n = self.disk[2] if self.disk else int(run[2].shape[0])

    def _get(self, i, name, a, b):
        if self.disk is None:
            return np.asarray(self.run[i][a:b])
        d, e0, _ = self.disk
        if name == "c":
            return _npy_at(os.path.join(d, "c.npy"), a, b)
        return _npy_at(os.path.join(d, name + ".npy"), e0 + a, e0 + b)

    def offsets(self, a, b):
        """Offsets of entries ``a:b`` and of the end of ``b - 1`` (``b - a + 1`` values)."""
        return self._get(1, "o", a, b + 1)

    def codes(self, c0, c1):
        return self._get(0, "c", c0, c1)

    def counts(self, a, b):
        return self._get(2, "n", a, b)

    def pref(self, a, b):
        return self._get(3, "p", a, b), self._get(4, "q", a, b)

    def longest(self, block=1 << 16):
        m = 0
        for a in range(0, self.n, block):
            o = self.offsets(a, min(a + block, self.n))
            m = max(m, int(np.max(np.diff(o))))
        return m

    def before(self, key, cnt, lo, hi):
        """The first entry in ``[lo, hi)`` that the packed key precedes (binary search)."""
        while lo < hi:
            mid = (lo + hi) // 2
            o = self.offsets(mid, mid + 1)
            c = self.counts(mid, mid + 1)
            codes = self.codes(int(o[0]), int(o[1]))
            if _packed_before(key, cnt, 0, c, np.array([0, codes.shape[0]]), codes):
                hi = mid
            else:
                lo = mid + 1
        return lo


class _RunWindows:
    """The heads of sorted runs, ``window`` entries of each (and at most ``slot`` code points) in
    slots of buffers shaped as :func:`textmine._spantable.merge_emit` reads them: run ``r``
    holds entries ``heads[r]:run_ends[r]`` of the buffers. A run whose window is half used is
    read on from where it stands (:meth:`refill`); :meth:`safe` lines can then be merged without
    any window running out before its run does (a slot holds at least two entries). Memory:
    about 64 bytes per window entry, and twice its longest key for each run, whatever the runs'
    length."""

    def __init__(self, readers, window, slots):
        self.readers, self.w = readers, window
        self.slot = np.asarray(slots, np.int64)  # code points of each run's slot
        self.cstart = np.concatenate([[0], np.cumsum(self.slot)])
        n_runs = len(readers)
        size = n_runs * (window + 1)
        self.counts = np.zeros(size, np.int64)
        self.pref = np.zeros(size, np.int64)
        self.pref2 = np.zeros(size, np.int64)
        self.offsets = np.zeros(size, np.int64)
        self.codes = np.zeros(max(1, int(self.cstart[-1])), np.uint32)
        self.heads = np.zeros(n_runs, np.int64)
        self.run_ends = np.zeros(n_runs, np.int64)
        self.start = np.zeros(n_runs, np.int64)  # the run entry at the start of each slot
        self.loaded = np.ones(n_runs, np.int64)
        self.final = np.zeros(n_runs, bool)
        for r in range(n_runs):
            self.load(r, 0)

    @property
    def keys(self):
        return self.counts, self.pref, self.pref2, self.offsets, self.codes

    def pos(self, r):
        """The run entry at the head of run ``r``."""
        return int(self.start[r] + self.heads[r] - r * (self.w + 1))

    def load(self, r, p):
        rd = self.readers[r]
        b = min(p + self.w, rd.n)
        off = rd.offsets(p, b)
        m = int(np.searchsorted(off, off[0] + self.slot[r], side="right")) - 1  # entries that fit the slot
        m = max(1, min(m, b - p))
        base, cb = r * (self.w + 1), int(self.cstart[r])
        c0 = int(off[0])
        self.codes[cb:cb + int(off[m]) - c0] = rd.codes(c0, int(off[m]))
        self.offsets[base:base + m + 1] = off[:m + 1] - c0 + cb
        self.counts[base:base + m] = rd.counts(p, p + m)
        self.pref[base:base + m], self.pref2[base:base + m] = rd.pref(p, p + m)
        self.heads[r], self.run_ends[r], self.start[r] = base, base + m, p
        self.loaded[r] = m
        self.final[r] = p + m >= rd.n

    def refill(self):
        """Read on the runs whose window is half used; return how many lines can be merged safely."""
        left = self.run_ends - self.heads
        low = np.flatnonzero((left > 0) & ~self.final & (2 * left <= self.loaded))
        for r in low.tolist():
            self.load(r, self.pos(r))
        left = self.run_ends - self.heads
        open_ = (left > 0) & ~self.final
        return int(left[open_].min()) - 1 if open_.any() else 1 << 62

    def entries_before(self, key, cnt):
        """How many entries left in the runs come before the packed key ``key`` (count ``cnt``)."""
        n = 0
        for r, rd in enumerate(self.readers):
            lo, hi = int(self.heads[r]), int(self.run_ends[r])
            if lo >= hi:
                continue
            if self.final[r] or _packed_before(key, cnt, hi - 1, self.counts, self.offsets, self.codes):
                a = lo
                while lo < hi:
                    mid = (lo + hi) // 2
                    if _packed_before(key, cnt, mid, self.counts, self.offsets, self.codes):
                        hi = mid
                    else:
                        lo = mid + 1
                n += lo - a
            else:  # after the window: search the rest of the run on disk
                p_end = int(self.start[r] + self.loaded[r])
                n += (hi - lo) + rd.before(key, cnt, p_end, rd.n) - p_end
        return n


@dataclass
class CountResult:
    """Sorted runs (one per hash partition) and the packed keys (a :class:`PackedOutput`, put in
    output order as they are written), plus corpus statistics; iterate or :meth:`write`.

    The runs and packed keys may live in a scratch directory: it is removed by :meth:`close`, on
    leaving a ``with`` block, when the result is garbage-collected, or at interpreter exit,
    whichever comes first.
    """

    runs: list
    packed: object = None
    lines: int = 0
    chars: int = 0
    nbytes: int = 0
    seconds: float = 0.0
    spilled_bytes: int = 0
    top: object = None
    _tmp: object = None
    runs_spilled: bool = False
    window_bytes: int = 1 << 24  # the merge windows of the runs in write()

    def __post_init__(self):
        self._cleanup = None
        if self._tmp is not None:
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def n_packed(self):
        return self.packed.n if self.packed is not None else 0

    @property
    def n_keys(self):
        n = sum(int(r[2].shape[0]) for r in self.runs) + self.n_packed
        return n if self.top is None else min(n, self.top)

    def write(self, out, chunk_bytes=1 << 22):
        """Write ``token<TAB>count`` lines in output order to the binary stream ``out``.

        Returns the number of lines written.
        """
        runs = [r for r in self.runs if r[2].shape[0]]
        if not runs and not self.n_packed:
            return 0
        if _small_output(runs, self.n_packed, self.n_keys):
            return _write_small(out, runs, self.packed, self.n_keys)
        # the runs are merged through windows of a bounded size: memory does not follow the
        # number of keys, and a run on disk is read (not mapped) window by window
        _NPY_HEADERS.clear()  # scratch paths may be reused
        readers = [_RunReader(r) for r in runs]
        longest = [rd.longest() for rd in readers]
        # no window longer than the longest run: the buffers are allocated (and zeroed) at full size
        window = self.window_bytes // (64 * max(1, len(readers)))
        window = int(max(64, min(window, max([rd.n for rd in readers], default=0))))
        wins = _RunWindows(readers, window, [8 * window + 2 * m + 8 for m in longest])
        longest = max(longest or [0])
        heads, run_ends = wins.heads, wins.run_ends
        heap, n_heap, hkey = st.heap_init(heads, run_ends, *wins.keys)
        buf = np.empty(max(chunk_bytes, 4 * longest + 64), np.uint8)
        remaining = self.top if self.top is not None else 1 << 62
        written = 0
        chunks = self.packed.chunks() if self.n_packed else iter(())
        empty = (np.empty(0, np.uint64), np.empty(0, np.int64))
        cur, nxt = next(chunks, empty), next(chunks, None)
        while True:
            pkeys, pcounts = cur
            pnext = np.zeros(1, np.int64)
            # lines to write before the next chunk: this chunk and the run entries before its first key
            todo = remaining
            if nxt is not None:
                todo = min(todo, pkeys.shape[0] + wins.entries_before(int(nxt[0][0]), int(nxt[1][0])))
            while todo > 0 and (n_heap > 0 or pnext[0] < pkeys.shape[0]):
                # a packed line needs no window: at least one line can be written
                step = max(1, min(todo, wins.refill()))
                nb, nl, n_heap = st.merge_emit(heap, n_heap, hkey, heads, run_ends, *wins.keys, pkeys, pcounts, pnext,
                                               buf, step)
                out.write(memoryview(buf)[:nb])
                remaining -= nl
                written += nl
                todo -= nl
            if nxt is None or remaining <= 0:
                break
            cur, nxt = nxt, next(chunks, None)
        return written

    def save(self, path, meta):
        """Write every key and count to the count directory ``path`` (:mod:`textmine.countfile`);
        ``meta``: what was counted (tokenizer, orders, min_count, inputs)."""
        import io

        from textmine.countfile import Counts

        if self.top is not None:
            raise TextmineError("--save keeps every key; drop --top")
        b = io.BytesIO()
        self.write(b)
        pairs = [line.rsplit(b"\t", 1) for line in b.getvalue().split(b"\n")[:-1]]
        del b
        pairs.sort(key=lambda p: p[0])
        meta = dict(meta, lines=self.lines, chars=self.chars, input_bytes=self.nbytes)
        Counts.from_sorted_bytes([p[0] for p in pairs], [int(p[1]) for p in pairs], meta).save(path)

    def items(self):
        """``(token, count)`` pairs in output order (for tests and small results)."""
        import io

        b = io.BytesIO()
        self.write(b)
        for line in b.getvalue().decode("utf-8", "surrogateescape").splitlines():
            t, c = line.rsplit("\t", 1)
            yield t, int(c)

    def close(self):
        """Remove the scratch directory (idempotent); the result is empty afterwards."""
        if self._cleanup is not None:
            self._cleanup()
        self._tmp = None
        self.runs = []
        self.packed = None


_SMALL_OUTPUT = 1 << 14  # entries to compare at most for the output to be written in Python


def _small_output(runs, n_packed, n):
    """Whether the first ``n`` lines come from at most :data:`_SMALL_OUTPUT` entries (the first
    ``n`` of each run and of the packed keys): few lines (``--top``) or a small result."""
    return sum(min(int(r[2].shape[0]), n) for r in runs) + min(n_packed, n) <= _SMALL_OUTPUT


def _emit_errors(e):
    """Encoding as :func:`textmine._spantable._utf8` does: U+DC80..U+DCFF (an undecodable byte
    read with ``surrogateescape``) as that byte, any other surrogate as three bytes."""
    b = bytearray()
    for ch in e.object[e.start:e.end]:
        c = ord(ch)
        b += bytes([c - 0xDC00]) if 0xDC80 <= c <= 0xDCFF else ch.encode("utf-8", "surrogatepass")
    return bytes(b), e.end


def _strings(codes, offsets):
    """The code-point strings ``codes[offsets[k]:offsets[k+1]]`` as Python strings."""
    text = np.ascontiguousarray(codes, np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    o = (np.asarray(offsets) - offsets[0]).tolist()
    return [text[a:b] for a, b in zip(o[:-1], o[1:])]


def _write_small(out, runs, packed, n):
    """What :meth:`CountResult.write` writes, for a small output (:func:`_small_output`): the first
    ``n`` entries of every run and of the packed keys sorted in Python, with no merge kernel to
    compile (the merge's kernels are a large part of a cold start, and ``--top`` writes few lines)."""
    import codecs

    items = []
    for run in runs:
        rd = _RunReader(run)
        m = min(rd.n, n)
        o = rd.offsets(0, m)
        items += zip((-rd.counts(0, m)).tolist(), _strings(rd.codes(int(o[0]), int(o[-1])), o))
    got = 0
    for keys, counts in packed.chunks() if packed is not None and packed.n else ():
        keys, counts = keys[:n - got], counts[:n - got]
        got += keys.shape[0]
        cps = (keys[:, None] >> np.array([48, 32, 16, 0], np.uint64)) & np.uint64(0xFFFF)
        lens = np.count_nonzero(cps, axis=1)  # code points are never 0: the first 0 ends a key
        items += zip((-counts).tolist(), _strings(cps[cps != 0], np.concatenate([[0], np.cumsum(lens)])))
        if got >= n:
            break
    items.sort()  # count descending, then code points ascending (Python compares str by code point)
    del items[n:]
    try:
        codecs.lookup_error("textmine.count")
    except LookupError:
        codecs.register_error("textmine.count", _emit_errors)
    out.write("".join([f"{k}\t{-c}\n" for c, k in items]).encode("utf-8", "textmine.count"))
    return len(items)


def _concat_runs(runs, tmpdir):
    """One array of each kind for all runs (memory-mapped on disk when the runs were spilled)."""
    n = sum(int(r[2].shape[0]) for r in runs)
    total = sum(int(r[0].shape[0]) for r in runs)
    if tmpdir is not None:
        codes = open_npy_memmap(os.path.join(tmpdir, "all_c.npy"), np.uint32, total)
    else:
        codes = np.empty(total, np.uint32)
    offsets = np.empty(n + 1, np.int64)
    counts = np.empty(n, np.int64)
    run_starts = np.zeros(len(runs) + 1, np.int64)
    k = c = 0
    offsets[0] = 0
    for i, (rc, ro, rn) in enumerate(r[:3] for r in runs):
        m = rn.shape[0]
        codes[c:c + rc.shape[0]] = rc
        offsets[k + 1:k + m + 1] = np.asarray(ro[1:]) + c
        counts[k:k + m] = rn
        k += m
        c += rc.shape[0]
        run_starts[i + 1] = k
    return codes, offsets, counts, run_starts


def _packed_before(key, cnt, k, counts, offsets, codes):
    """Whether the packed key ``key`` (count ``cnt``) comes before table entry ``k`` in output
    order (the Python twin of ``_spantable._packed_first``, for a few binary searches)."""
    c_k = int(counts[k])
    if cnt != c_k:
        return cnt > c_k
    s, e = int(offsets[k]), int(offsets[k + 1])
    for j in range(st.PACK16_MAX):
        c = (key >> (48 - 16 * j)) & 0xFFFF
        if c == 0:
            return True
        if s + j >= e:
            return False
        d = int(codes[s + j])
        if c != d:
            return c < d
    return True


class PackedOutput:
    """The packed keys of all key ranges (``parts``, each ``(keys, counts)`` in key order, in
    memory or a directory of ``.npy`` files), put in output order (count descending, then key)
    chunk by chunk, in about ``budget`` bytes.

    When all of them fit, one counting sort (:func:`textmine._packed.count_sort`) orders them at
    once. Otherwise the counts are first histogrammed (one pass over the parts), then cut, from
    the largest down, into groups of at most ``budget / 64`` entries; each group is read back from
    the parts (one pass each) and counting-sorted. A single count held by more entries than that
    is streamed: its entries come in key order already.
    """

    def __init__(self, parts, budget):
        self.parts = parts
        self.budget = budget
        self.n = sum(_len_raw(p, "pkeys") if isinstance(p, str) else int(p[0].shape[0]) for p in parts)
        self.passes = 0

    @property
    def capacity(self):
        """Entries ordered at once: 16 bytes read and 16 written for each, with room to spare."""
        return max(1 << 12, self.budget // 64)

    def _blocks(self, part, block):
        if not isinstance(part, str):
            yield part
            return
        for i in range(0, _len_raw(part, "pkeys"), block):
            yield _read_raw(part, "pkeys", i, i + block), _read_raw(part, "pcounts", i, i + block)

    def _scan(self):
        self.passes += 1
        block = max(1 << 12, self.capacity // 4)
        for part in self.parts:
            yield from self._blocks(part, block)

    def chunks(self):
        """Yield ``(keys, counts)`` arrays whose concatenation is every packed key in output order."""
        n, cap = self.n, self.capacity
        if not n:
            return
        if n <= cap:
            self.passes += 1
            parts = [(_read_raw(p, "pkeys"), _read_raw(p, "pcounts")) if isinstance(p, str) else p for p in self.parts]
            out_k, out_c = np.empty(n, np.uint64), np.empty(n, np.int64)
            pk.count_sort(parts, out_k, out_c)
            del parts
            yield out_k, out_c
            return
        top = pk._CAP
        hist = np.zeros(top + 1, np.int64)
        for _, c in self._scan():
            pk.count_histogram(c, hist)
        group, size = [], 0
        for b in np.flatnonzero(hist)[::-1].tolist():  # buckets by count, largest first
            h = int(hist[b])
            if group and size + h > cap:
                yield self._group(group[-1], group[0])
                group, size = [], 0
            if h > cap and b != top:
                yield from self._stream(b, cap)
                continue
            group.append(b)
            size += h
        if group:
            yield self._group(group[-1], group[0])

    def _group(self, lo, hi):
        """The entries whose bucket ``min(count, 2**16)`` is in ``[lo, hi]``, in output order."""
        top = pk._CAP
        parts = []
        for k, c in self._scan():
            b = np.minimum(c, top)
            m = (b >= lo) & (b <= hi)
            if m.any():
                parts.append((k[m], c[m]))
        n = sum(int(x[0].shape[0]) for x in parts)
        out_k, out_c = np.empty(n, np.uint64), np.empty(n, np.int64)
        pk.count_sort(parts, out_k, out_c)
        return out_k, out_c

    def _stream(self, count, cap):
        """The entries with this count, in key order, in pieces of about ``cap``."""
        ks, cs, size = [], [], 0
        for k, c in self._scan():
            m = c == count
            if m.any():
                ks.append(k[m])
                cs.append(c[m])
                size += ks[-1].shape[0]
                if size >= cap:
                    yield np.concatenate(ks), np.concatenate(cs)
                    ks, cs, size = [], [], 0
        if ks:
            yield np.concatenate(ks), np.concatenate(cs)


def default_memory_limit():
    """A quarter of physical memory (at least 256 MiB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 << 30
    return max(256 << 20, total // 4)


def _stdin_tasks(cfg, batch_bytes=4 << 20, spool=None):
    """Batches of about ``batch_bytes`` of stdin lines, as map tasks; with a ``spool`` directory,
    a line longer than that (all of stdin with ``doc_per_file``) is written there as it is read
    and counted as a file, in pieces (:func:`textmine.corpus.spool_long_lines`)."""
    if spool is not None:
        read = dataclasses.replace(cfg, read=SPOOL_READ)
        for item in spool_long_lines(Shard(STDIN), cfg.read, batch_bytes, spool, cfg.doc_per_file):
            yield (item, read) if isinstance(item, Shard) else (item, cfg)
        return
    if cfg.doc_per_file:
        yield ["\n".join(iter_lines(Shard(STDIN), cfg.read))], cfg
        return
    batch, size = [], 0
    for line in iter_lines(Shard(STDIN), cfg.read):
        batch.append(line)
        size += len(line) + 1
        if size >= batch_bytes:
            yield batch, cfg
            batch, size = [], 0
    if batch:
        yield batch, cfg


_BATCH_CHARS = (1 << 12, 1 << 18)  # bounds on the characters of a batch (and of a piece of a long line)
_MIN_JOB_BYTES = 4 << 20  # the least input worth a worker process of its own


def auto_jobs(paths, engine="local", cpus=None):
    """Workers when none are asked for: the CPUs, but with the local engine and plain files no
    more than one per 4 MB of input (a worker costs more to start than counting a few MB)."""
    n = cpus or os.cpu_count() or 1
    if engine == "local" and STDIN not in paths and all(splittable(p) for p in paths):
        n = max(1, min(n, sum(os.path.getsize(p) for p in paths) // _MIN_JOB_BYTES))
    return n


def count(paths, tokenizer="jieba", min_n=1, max_n=1, min_count=1, top=None, n_jobs=1,
          engine="local", scheduler=None, memory_limit=None, read=ReadOptions(), progress=False,
          shard_bytes=None, tmpdir=None, doc_per_file=False):
    """Count tokens or n-grams of a corpus with map-reduce.

    Parameters
    ----------
    paths : list of str
        Files (already resolved, see :func:`textmine.corpus.resolve_inputs`); ``'-'`` is stdin.
    tokenizer : str
        ``jieba``, ``jieba:nohmm``, ``char``, ``ngram``, ``space`` or ``lexicon:FILE``.
    min_n, max_n : int
        n-gram orders to count: character n-grams for ``ngram``, otherwise token n-grams joined
        by one space.
    min_count : int
        Drop keys counted fewer times (applied after the exact merge, so counts are unbiased).
    top : int or None
        Keep only the first ``top`` keys of the output order.
    n_jobs : int or None
        Worker processes; the result does not depend on it. ``None``: the CPUs, but (local engine,
        files only) no more than one per 4 MB of input.
    engine, scheduler : str
        ``local`` (multiprocessing) or ``dask`` (with an optional ``tcp://`` scheduler address).
    memory_limit : int or None
        Bytes for tables and partials (default :func:`default_memory_limit`); beyond it partials
        spill to disk.
    doc_per_file : bool
        Each file is one document, so token n-grams run across its lines (default: each line).

    Returns
    -------
    CountResult

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.txt")
    >>> _ = open(p, "w", encoding="utf-8").write("a b a\\nb a\\n")
    >>> list(count([p], tokenizer="space").items())
    [('a', 3), ('b', 2)]
    """
    if not 1 <= min_n <= max_n:
        raise TextmineError(f"n-gram orders must satisfy 1 <= min-n <= n, got {min_n} and {max_n}")
    if max_n > 64:
        raise TextmineError(f"--n {max_n} is too large (at most 64)")
    if min_count < 1:
        raise TextmineError("--min-count must be at least 1")
    if top is not None and top < 1:
        raise TextmineError("--top must be at least 1")
    if n_jobs is None:
        n_jobs = auto_jobs(paths, engine)
    if n_jobs < 1:
        raise TextmineError("-j must be at least 1")
    read.check()
    make_tokenizer(tokenizer)  # validate early, in the parent
    memory_limit = memory_limit or default_memory_limit()
    n_parts = 256 * max(1, (n_jobs + 3) // 4)
    # the budget: with one job, a quarter of the limit for the table being filled and a quarter for
    # the partials kept in memory; with N, each worker process counts in a quarter of its share
    # (limit / N) and its partials go to disk. The reduce tasks read at most a sixth of that share,
    # the parent keeps at most a quarter of the limit of their results, and orders the output in
    # half of it once the workers are gone.
    share = memory_limit if n_jobs == 1 else memory_limit // n_jobs
    table_bytes = max(1 << 18, share // 4)
    reduce_bytes = max(1 << 18, (memory_limit // 16) if n_jobs == 1 else share // 6)
    n_orders = max_n - min_n + 1
    pack_capacity = int(min(1 << 26, max(1 << 12, table_bytes // 32)))
    batch_chars = int(min(_BATCH_CHARS[1], max(_BATCH_CHARS[0], pack_capacity // (2 * n_orders))))
    cfg = CountConfig(tokenizer, min_n, max_n, n_parts, table_bytes, batch_chars, read, doc_per_file,
                      pack_capacity=pack_capacity)
    t0 = time.perf_counter()
    files = [p for p in paths if p != STDIN]
    total = sum(os.path.getsize(p) for p in files if splittable(p))
    if shard_bytes is None:  # one job: whole files (the table flushes itself when full); else two
        # shards per job: each extra partial costs a merge of its keys in the reduce
        shard_bytes = 1 << 40 if n_jobs == 1 else int(min(64 << 20, max(1 << 20, total // (2 * n_jobs) + 1)))
    shards = make_shards(files, 1 << 62 if doc_per_file else shard_bytes, read)
    tasks = [(s, cfg) for s in shards]

    # compile every kernel (and load the tokenizer) in the parent before any worker starts
    tok = _tokenizer(tokenizer)
    if hasattr(tok, "warmup"):
        tok.warmup()
    k = max_n + 1
    warm = _map_task((["预热文本" * k + "\U00020000文本", " ".join(["预热"] * k) + " ab 1"], cfg))
    if warm.partials:  # two copies of one partial: both merges compile
        ref = (warm.partials[0][0],) + tuple(warm.partials[0][1:])
        _reduce_task((0, [ref, ref], 1, None, None))
    del warm

    from textmine.mapreduce import make_engine

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total or None, unit="B", unit_scale=True, file=sys.stderr, desc="count")
    # one working directory: spilled partials, worker spools (local processes write their results
    # there instead of pickling them back) and the sorted runs until the output is written
    work = tempfile.mkdtemp(prefix="textmine-count-", dir=tmpdir)
    spool = work if engine == "local" and n_jobs > 1 else None
    if engine == "local":  # one job: partials past a quarter of the limit go to disk as they are made
        cfg = dataclasses.replace(cfg, spool_dir=work, keep_bytes=memory_limit // 4 if n_jobs == 1 else 0)
        tasks = [(source, cfg) for source, _ in tasks]
    if STDIN in paths:  # read by the parent; long lines spooled to disk for the local engine
        import itertools

        stdin_bytes = int(min(4 << 20, max(1 << 16, table_bytes // 8)))
        tasks = itertools.chain(tasks, _stdin_tasks(cfg, stdin_bytes, work if engine == "local" else None))
    store = PartialStore(memory_limit // 4, work)
    lines = chars = nbytes = 0
    runs = []
    try:
        with make_engine(engine, n_jobs, scheduler) as eng:
            for res in eng.map_unordered(_map_task, tasks):
                lines += res.lines
                chars += res.chars
                nbytes += res.nbytes
                store.spilled += res.spilled
                for p in res.partials:
                    store.add(p)
                del res
                if bar is not None:
                    bar.update(nbytes - bar.n)
            if chars == 0:
                where = ", ".join(paths[:3]) + (" ..." if len(paths) > 3 else "")
                raise TextmineError(f"no text to count in {where} (empty input)")
            # reduce tasks over contiguous groups of partitions and ranges of packed keys: one
            # sorted run per partition, and the packed keys of the range in key order; as many as
            # it takes for each to read at most reduce_bytes
            n_ranges = max(4 * n_jobs, -(-store.packed_bytes // reduce_bytes))
            n_groups = min(n_parts, max(4 * n_jobs, -(-store.table_bytes // reduce_bytes)))
            bounds = np.linspace(0, n_parts, n_groups + 1).astype(int)
            store.key_bounds(n_ranges)

            def red_tasks():  # made as they are needed: a task holds views of in-memory partials
                for g in range(max(n_ranges, n_groups)):
                    p0, p1 = (int(bounds[g]), int(bounds[g + 1])) if g < n_groups else (0, 0)
                    yield g, store.refs(p0, p1, g if g < n_ranges else None), min_count, top, spool

            kept = 0
            runs_spilled = False
            packed_parts = [None] * max(n_ranges, n_groups)
            for g, group_runs, packed in eng.map_unordered(_reduce_task, red_tasks()):
                if not isinstance(packed, str) and packed[0].shape[0]:
                    size = packed[0].nbytes + packed[1].nbytes
                    if kept + size > memory_limit // 4:
                        packed = _save_packed(packed, work)
                    else:
                        kept += size
                packed_parts[g] = packed
                if isinstance(group_runs, str):  # spooled by a worker
                    runs.extend(_load_runs(group_runs))
                    continue
                for run in group_runs:
                    size = sum(a.nbytes for a in run)
                    if kept + size > memory_limit // 4:
                        run = _load_run(_save_run(run, work))
                        runs_spilled = True
                    else:
                        kept += size
                    runs.append(run)
                del group_runs, packed
        spilled = store.spilled
        store.close()
        packed = PackedOutput(packed_parts, memory_limit // 2)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    return CountResult(runs, packed, lines, chars, nbytes, time.perf_counter() - t0, spilled, top, work,
                       runs_spilled, max(1 << 18, memory_limit // 8))


class _CountModule(types.ModuleType):
    """``textmine.count`` names this module and the facade function ``tm.count``: importing the
    module makes it the package attribute, so a call of the module is the facade's call."""

    def __call__(self, *args, **kwargs):
        from textmine.api import count as facade

        return facade(*args, **kwargs)


sys.modules[__name__].__class__ = _CountModule
