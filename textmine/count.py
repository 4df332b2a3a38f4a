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

Memory: partials held by the parent beyond half of ``memory_limit`` are spilled to a temporary
directory and read back by memory map; a worker flushes its key buffer (a quarter of its budget),
runs and tables at ``memory_limit / (4 * n_jobs)``. What still grows is the distinct keys of one
hash partition or key range during its reduce, and the output itself (sorted runs and the ordered
packed keys beyond half of ``memory_limit`` are kept on disk too).

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
from textmine.corpus import ReadOptions, Shard, STDIN, iter_batches, iter_lines, make_shards, splittable
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
    pack_capacity: int = 1 << 24  # packed keys buffered before a sort (8 bytes each)


@dataclass
class MapResult:
    partials: list
    lines: int
    chars: int
    nbytes: int


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


def _map_task(task):
    """Map one shard (``Shard``) or batch of lines (``list``) to partials."""
    source, cfg = task
    tok = _tokenizer(cfg.tokenizer)
    table = st.PartitionedTable(cfg.n_parts, cfg.pack_capacity)
    partials = []
    lines = chars = 0
    if isinstance(source, Shard):
        batches = iter_batches(source, cfg.read, cfg.batch_chars, cfg.doc_per_file)
        if source.path == STDIN or not splittable(source.path):
            nbytes = 0
        else:
            end = source.end if source.end is not None else os.path.getsize(source.path)
            nbytes = end - source.start
    else:
        batches = [source]
        nbytes = sum(len(x.encode("utf-8", "surrogatepass")) + 1 for x in source)
    for batch in batches:
        lines += len(batch)
        chars += count_batch(batch, tok, table, cfg.min_n, cfg.max_n)
        if table.nbytes > cfg.table_bytes:
            partials.append(_partial(table))
            table = st.PartitionedTable(cfg.n_parts, cfg.pack_capacity)
    if table.n_entries:
        partials.append(_partial(table))
    if cfg.spool_dir is not None:
        partials = [_save_partial(p, cfg.spool_dir) for p in partials]
    return MapResult(partials, lines, chars, nbytes)


def _partial(table):
    """A map task's partial: ``(pieces, keys, counts)``, the per-partition pieces of the tables
    and one sorted run of the packed keys."""
    return (table.pieces(),) + tuple(table.packed_run())


_PARTIAL_NAMES = ("codes", "offsets", "counts", "hashes", "parts")
_PACKED_NAMES = ("pkeys", "pcounts")


def _save_partial(partial, directory):
    """Write a partial as ``.npy`` files in a new subdirectory; returns its path."""
    d = tempfile.mkdtemp(prefix="p", dir=directory)
    for name, a in zip(_PARTIAL_NAMES + _PACKED_NAMES, _concat_pieces(partial[0]) + tuple(partial[1:])):
        save_npy(os.path.join(d, name + ".npy"), a)
    return d


def _load(d, name):
    return np.load(os.path.join(d, name + ".npy"), mmap_mode="r")


def _key_slice(keys, counts, lo, hi):
    """The entries of a sorted run with ``lo <= key < hi`` (``None``: unbounded)."""
    a = 0 if lo is None else int(np.searchsorted(keys, np.uint64(lo)))
    b = keys.shape[0] if hi is None else int(np.searchsorted(keys, np.uint64(hi)))
    return keys[a:b], counts[a:b]


class PartialStore:
    """Partials from the map phase: in memory up to ``budget`` bytes, then spilled to ``directory``.

    An in-memory partial is ``(pieces, keys, counts)``: a list of per-partition pieces
    ``(codes, offsets, counts, hashes)`` and a sorted run of packed keys; one on disk is a
    directory of ``.npy`` files (written here, or by a worker), read back by memory map.
    """

    def __init__(self, budget, directory):
        self.budget = budget
        self.items = []
        self.in_memory = 0
        self._dir = directory
        self.spilled = 0

    def add(self, partial):
        if isinstance(partial, str):  # already on disk (written by a worker)
            self.items.append(partial)
            return
        size = sum(a.nbytes for piece in partial[0] for a in piece) + partial[1].nbytes + partial[2].nbytes
        if self.in_memory + size <= self.budget:
            self.items.append(partial)
            self.in_memory += size
            return
        self.items.append(_save_partial(partial, self._dir))
        self.spilled += size

    def refs(self, p0, p1, lo, hi):
        """What a reduce task over partitions ``[p0, p1)`` and packed keys ``[lo, hi)`` needs from
        every partial: the slices themselves, or (for a partial on disk) its directory and the
        ranges, small to pickle."""
        return [(item, p0, p1, lo, hi) if isinstance(item, str)
                else (item[0][p0:p1],) + _key_slice(item[1], item[2], lo, hi) for item in self.items]

    def key_bounds(self, n_groups, samples=64):
        """``n_groups + 1`` packed-key bounds (``None`` at both ends) splitting the keys of all
        partials into ranges of about equal size, from evenly spaced samples of each."""
        picks = []
        for item in self.items:
            keys = _load(item, "pkeys") if isinstance(item, str) else item[1]
            if keys.shape[0]:
                idx = np.linspace(0, keys.shape[0] - 1, min(keys.shape[0], samples * n_groups)).astype(np.int64)
                picks.append(np.asarray(keys[idx]))
        if not picks:  # no packed keys anywhere: every range is empty
            return [None] * (n_groups + 1)
        allk = np.sort(np.concatenate(picks))
        return [None] + [int(allk[len(allk) * g // n_groups]) for g in range(1, n_groups)] + [None]

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
        d, p0, p1, lo, hi = ref
        arrays = [_load(d, n) for n in _PARTIAL_NAMES]
        pieces = [[np.ascontiguousarray(a) for a in _slice(arrays, p, p + 1)] for p in range(p0, p1)]
        keys, counts = _key_slice(_load(d, "pkeys"), _load(d, "pcounts"), lo, hi)
        return pieces, np.ascontiguousarray(keys), np.ascontiguousarray(counts)
    return ref


def _merge_partition(pieces, min_count):
    """Exact counts of one hash partition from its pieces in every partial."""
    pieces = [x for x in pieces if x[2].shape[0]]
    if not pieces:
        return None
    if len(pieces) == 1:  # keys of one partial are already distinct
        codes, offsets, counts, _ = pieces[0]
        return st.filter_min_count(codes, offsets, counts, min_count)
    # sized for the sum of the pieces (an upper bound on the distinct keys): no rehash while merging
    table = st.SpanTable(entries=sum(x[2].shape[0] for x in pieces),
                         arena=sum(x[0].shape[0] for x in pieces) + 64)
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
        return group, _save_runs(runs, spool_dir), _save_arrays(packed, _PACKED_NAMES, spool_dir)
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
    return _load_arrays(d, _RUN_NAMES)


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
        c0, c1 = int(offsets[a]), int(offsets[b])
        runs.append((codes[c0:c1], offsets[a:b + 1] - c0, counts[a:b], pref[a:b], pref2[a:b]))
    return runs


@dataclass
class CountResult:
    """Sorted runs (one per hash partition) and the packed keys in output order, plus corpus
    statistics; iterate or :meth:`write`.

    The runs may live in a scratch directory: it is removed by :meth:`close`, on leaving a
    ``with`` block, when the result is garbage-collected, or at interpreter exit, whichever
    comes first.
    """

    runs: list
    pkeys: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    pcounts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    lines: int = 0
    chars: int = 0
    nbytes: int = 0
    seconds: float = 0.0
    spilled_bytes: int = 0
    top: object = None
    _tmp: object = None
    runs_spilled: bool = False

    def __post_init__(self):
        self._cleanup = None
        if self._tmp is not None:
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def n_keys(self):
        n = sum(int(r[2].shape[0]) for r in self.runs) + int(self.pkeys.shape[0])
        return n if self.top is None else min(n, self.top)

    def write(self, out, chunk_bytes=1 << 22):
        """Write ``token<TAB>count`` lines in output order to the binary stream ``out``.

        Returns the number of lines written.
        """
        runs = [r for r in self.runs if r[2].shape[0]]
        n_packed = int(self.pkeys.shape[0])
        if not runs and not n_packed:
            return 0
        codes, offsets, counts, run_starts = _concat_runs(runs, self._tmp if self.runs_spilled else None)
        pref = np.concatenate([r[3] for r in runs] or [np.empty(0, np.int64)])
        pref2 = np.concatenate([r[4] for r in runs] or [np.empty(0, np.int64)])
        heads = run_starts[:-1].copy()
        run_ends = run_starts[1:].copy()
        keys = (counts, pref, pref2, offsets, codes)
        heap, n_heap, hkey = st.heap_init(heads, run_ends, *keys)
        longest = int(np.max(np.diff(offsets))) if runs else 0
        buf = np.empty(max(chunk_bytes, 4 * longest + 64), np.uint8)
        remaining = self.top if self.top is not None else 1 << 62
        written = 0
        pnext = np.zeros(1, np.int64)
        while (n_heap > 0 or pnext[0] < n_packed) and remaining > 0:
            nb, nl, n_heap = st.merge_emit(heap, n_heap, hkey, heads, run_ends, *keys, self.pkeys,
                                           self.pcounts, pnext, buf, remaining)
            out.write(memoryview(buf)[:nb])
            remaining -= nl
            written += nl
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
        self.pkeys = np.empty(0, np.uint64)
        self.pcounts = np.empty(0, np.int64)


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


def _array(n, dtype, path):
    """An empty array of ``n`` items: in memory, or a ``.npy`` memory map at ``path``."""
    if path is None:
        return np.empty(n, dtype)
    return open_npy_memmap(path, dtype, n)


def _order_packed(parts, top, directory, budget):
    """The packed keys of all key ranges (``parts``, in key order) put in output order: count
    descending, then key. Kept in memory up to ``budget`` bytes, else memory-mapped in
    ``directory``."""
    n = sum(int(p[0].shape[0]) for p in parts)
    on_disk = 16 * n > budget
    out_k = _array(n, np.uint64, os.path.join(directory, "pk.npy") if on_disk else None)
    out_c = _array(n, np.int64, os.path.join(directory, "pc.npy") if on_disk else None)
    pk.count_sort(parts, out_k, out_c)
    if top is not None:
        out_k, out_c = out_k[:top], out_c[:top]
    return out_k, out_c


def default_memory_limit():
    """A quarter of physical memory (at least 256 MiB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 << 30
    return max(256 << 20, total // 4)


def _stdin_tasks(cfg, batch_bytes=4 << 20):
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
    n_groups = 4 * n_jobs
    table_bytes = max(1 << 20, memory_limit // (4 * n_jobs))
    cfg = CountConfig(tokenizer, min_n, max_n, n_parts, table_bytes, 1 << 18, read, doc_per_file,
                      pack_capacity=int(min(1 << 26, max(1 << 12, table_bytes // 32))))
    t0 = time.perf_counter()
    files = [p for p in paths if p != STDIN]
    total = sum(os.path.getsize(p) for p in files if splittable(p))
    if shard_bytes is None:  # one job: whole files (the table flushes itself when full); else two
        # shards per job: each extra partial costs a merge of its keys in the reduce
        shard_bytes = 1 << 40 if n_jobs == 1 else int(min(64 << 20, max(1 << 20, total // (2 * n_jobs) + 1)))
    shards = make_shards(files, 1 << 62 if doc_per_file else shard_bytes, read)
    tasks = [(s, cfg) for s in shards]
    if STDIN in paths:
        import itertools

        tasks = itertools.chain(tasks, _stdin_tasks(cfg))

    # compile every kernel (and load the tokenizer) in the parent before any worker starts
    tok = _tokenizer(tokenizer)
    if hasattr(tok, "warmup"):
        tok.warmup()
    k = max_n + 1
    warm = _map_task((["预热文本" * k + "\U00020000文本", " ".join(["预热"] * k) + " ab 1"], cfg))
    if warm.partials:  # two copies of one partial: both merges compile
        ref = (warm.partials[0][0],) + tuple(warm.partials[0][1:])
        _reduce_task((0, [ref, ref], 1, None, None))

    from textmine.mapreduce import make_engine

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total or None, unit="B", unit_scale=True, file=sys.stderr, desc="count")
    # one working directory: spilled partials, worker spools (local processes write their results
    # there instead of pickling them back) and the sorted runs until the output is written
    work = tempfile.mkdtemp(prefix="textmine-count-", dir=tmpdir)
    spool = work if engine == "local" and n_jobs > 1 else None
    if spool is not None:
        cfg = dataclasses.replace(cfg, spool_dir=spool)
        tasks = ((source, cfg) for source, _ in tasks)
    store = PartialStore(memory_limit // 2, work)
    lines = chars = nbytes = 0
    runs = []
    try:
        with make_engine(engine, n_jobs, scheduler) as eng:
            for res in eng.map_unordered(_map_task, tasks):
                lines += res.lines
                chars += res.chars
                nbytes += res.nbytes
                for p in res.partials:
                    store.add(p)
                if bar is not None:
                    bar.update(res.nbytes)
            if chars == 0:
                where = ", ".join(paths[:3]) + (" ..." if len(paths) > 3 else "")
                raise TextmineError(f"no text to count in {where} (empty input)")
            # reduce tasks over contiguous groups of partitions and ranges of packed keys: one
            # sorted run per partition, and the packed keys of the range in key order
            bounds = np.linspace(0, n_parts, n_groups + 1).astype(int)
            kb = store.key_bounds(n_groups)
            red_tasks = [(g, store.refs(int(bounds[g]), int(bounds[g + 1]), kb[g], kb[g + 1]), min_count, top, spool)
                         for g in range(n_groups)]
            kept = 0
            runs_spilled = False
            packed_parts = [None] * n_groups
            for g, group_runs, packed in eng.map_unordered(_reduce_task, red_tasks):
                packed_parts[g] = _load_arrays(packed, _PACKED_NAMES) if isinstance(packed, str) else packed
                if isinstance(group_runs, str):  # spooled by a worker
                    runs.extend(_load_runs(group_runs))
                    continue
                for run in group_runs:
                    size = sum(a.nbytes for a in run)
                    if kept + size > memory_limit // 2:
                        run = _load_run(_save_run(run, work))
                        runs_spilled = True
                    else:
                        kept += size
                    runs.append(run)
            pkeys, pcounts = _order_packed(packed_parts, top, work, max(0, memory_limit // 2 - kept))
        spilled = store.spilled
        store.close()
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    return CountResult(runs, pkeys, pcounts, lines, chars, nbytes, time.perf_counter() - t0, spilled, top, work,
                       runs_spilled)


class _CountModule(types.ModuleType):
    """``textmine.count`` names this module and the facade function ``tm.count``: importing the
    module makes it the package attribute, so a call of the module is the facade's call."""

    def __call__(self, *args, **kwargs):
        from textmine.api import count as facade

        return facade(*args, **kwargs)


sys.modules[__name__].__class__ = _CountModule
