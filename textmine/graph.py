"""Graphs for ``textmine cluster``: link lists and Pajek files into a canonical CSR.

A :class:`Graph` keeps string node ids (the tokens of the input file), optional display names
(Pajek ``*Vertices`` labels) and one entry per distinct link as ``int32`` endpoints and ``float64``
weights. Nodes are numbered in **sorted id order** (numerically when every id is an integer,
by code point otherwise) and links are sorted by (source, target), so the same graph written in
any line order, with any id relabelling that keeps the order, gives the same arrays and the same
clustering.

Handling (documented, not errors): duplicate links are summed; for undirected use ``a b`` and
``b a`` are the same link and are summed too; self-loops are kept (they add to a node's flow as
Infomap counts them, once); weight-0 links are dropped; nodes that only appear in ``*Vertices``
are kept as isolated nodes. Errors (:class:`~textmine.errors.TextmineError`, with ``file:line``):
a negative, non-finite or non-numeric weight, a line with fewer than two fields, a Pajek link
to an undeclared vertex, an unsupported section (``*States``, ``*Multilayer``...), and a graph
with no link.

Notes
-----
Formats follow Infomap 2.16 ``src/io/NetworkInputParser.h`` (see ALGORITHMS.md §7.4): a file
whose first non-comment line starts with ``*`` is Pajek, anything else is a link list
``source target [weight]`` separated by TABs or spaces, ``#`` starting a comment line.
``*Arcs`` does **not** imply directed flow (as in Infomap); pass ``directed=True``.
"""
import math
import sys
from dataclasses import dataclass, field

import numpy as np

from textmine.errors import TextmineError

_UNSUPPORTED = ("*states", "*multilayer", "*intra", "*inter", "*bipartite", "*3grams", "*multiplex")


@dataclass
class Graph:
    """A weighted graph with string node ids.

    Attributes
    ----------
    ids : list of str
        Node ids in canonical (sorted) order; node ``i`` is ``ids[i]``.
    names : list of str
        Display names (Pajek labels; equal to ``ids`` for link lists).
    src, dst : ndarray of int32, shape (m,)
        Link endpoints, sorted by (src, dst). For an undirected graph ``src <= dst``.
    weight : ndarray of float64, shape (m,)
        Link weights (> 0; duplicates summed).
    directed : bool
        Whether ``src -> dst`` direction is kept.
    n_self_loops : int
        Number of self-loops among the links.
    n_duplicates : int
        Number of input links merged into an earlier one.
    """

    ids: list
    names: list
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    directed: bool = False
    n_self_loops: int = 0
    n_duplicates: int = 0
    stats: dict = field(default_factory=dict)

    @property
    def n_nodes(self):
        return len(self.ids)

    @property
    def n_links(self):
        return int(self.src.shape[0])


class _Builder:
    """Accumulates links chunk by chunk, mapping id tokens to provisional integers."""

    def __init__(self):
        self.index = {}
        self.ids = []
        self.names = {}
        self.src = []
        self.dst = []
        self.w = []

    def node(self, token):
        i = self.index.get(token)
        if i is None:
            i = self.index[token] = len(self.ids)
            self.ids.append(token)
        return i

    def add_chunk(self, s, d, w):
        if s:
            self.src.append(np.asarray(s, dtype=np.int64))
            self.dst.append(np.asarray(d, dtype=np.int64))
            self.w.append(np.asarray(w, dtype=np.float64))


def _parse_weight(tok, where):
    try:
        x = float(tok)
    except ValueError:
        raise TextmineError(f"{where}: weight {tok!r} is not a number") from None
    if not math.isfinite(x) or x < 0:
        raise TextmineError(f"{where}: weight {tok!r} must be a finite number >= 0")
    return x


def _read_lines(path, encoding):
    """Yield (lineno, line) from a file, '-' (stdin) or a compressed file, via the corpus reader."""
    from textmine.corpus import ReadOptions, Shard, iter_lines

    for lineno, line in enumerate(iter_lines(Shard(path), ReadOptions(encoding)), 1):
        yield lineno, line


def read_graph(paths, directed=False, encoding="utf-8"):
    """Read one or more link-list or Pajek files into a :class:`Graph`.

    Parameters
    ----------
    paths : sequence of str
        Files or ``'-'`` for standard input; their links are concatenated (node ids are shared).
    directed : bool
        Keep link direction (``a b`` and ``b a`` stay two links). Otherwise links are undirected.
    encoding : str
        Input encoding.

    Returns
    -------
    Graph

    Raises
    ------
    TextmineError
        With ``file:line`` for a malformed line or bad weight, and for an empty graph.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "g.tsv")
    >>> _ = open(p, "w").write("a\\tb\\nb\\tc\\t2\\n")
    >>> g = read_graph([p])
    >>> g.ids, g.weight.tolist()
    (['a', 'b', 'c'], [1.0, 2.0])
    """
    from textmine.corpus import display, resolve_inputs

    files = resolve_inputs(list(paths) or ["-"])
    b = _Builder()
    for path in files:
        _read_one(path, display(path), b, encoding)
    return _finish(b, directed)


def _iter_blocks(path, encoding, block_bytes=16 << 20):
    """Yield (first line number, text) blocks of whole lines from a file or stdin."""
    import codecs

    from textmine.corpus import ReadOptions, _open_binary, display

    if not ReadOptions(encoding).ascii_compatible:
        for lineno, line in _read_lines(path, encoding):
            yield lineno, line + "\n"
        return
    f = _open_binary(path)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lineno, offset, rest, first = 1, 0, b"", True
    try:
        while True:
            raw = f.read(block_bytes)
            data = rest + raw
            if not raw:
                cut = len(data)
            else:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
            chunk, rest = data[:cut], data[cut:]
            if not chunk:
                break
            if b"\x00" in chunk:
                raise TextmineError(f"{display(path)}: looks like a binary file (NUL byte at offset "
                                    f"{offset + chunk.index(0)})")
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as e:
                raise TextmineError(f"{display(path)}: cannot decode byte 0x{chunk[e.start]:02x} at offset "
                                    f"{offset + e.start} as {encoding}; try --encoding gb18030") from None
            if first:
                first = False
                if text.startswith("\ufeff"):
                    text = text[1:]
            yield lineno, text
            lineno += text.count("\n")
            offset += len(chunk)
            if not raw:
                break
    finally:
        if f is not getattr(sys.stdin, "buffer", None):
            f.close()


def _fast_links(text, b, vertex_ids):
    """Parse a block of plain link lines at once; returns False to ask for the line-by-line parser."""
    rows = [r for r in map(str.split, text.split("\n")) if r and r[0][0] not in "#%"]
    if not rows:
        return True
    lens = set(map(len, rows))
    if min(lens) < 2 or any(r[0][0] == "*" for r in rows):
        return False
    src = [r[0] for r in rows]
    dst = [r[1] for r in rows]
    index = b.index
    if vertex_ids:
        if not vertex_ids.keys() >= set(src) | set(dst):
            return False
    else:
        for t in set(src).union(dst).difference(index):
            b.node(t)
    get = index.__getitem__
    s = np.fromiter(map(get, src), dtype=np.int64, count=len(src))
    d = np.fromiter(map(get, dst), dtype=np.int64, count=len(dst))
    if lens == {2}:
        w = np.ones(len(rows))
    else:
        try:
            w = np.array([r[2] if len(r) > 2 else "1" for r in rows], dtype=np.float64)
        except ValueError:
            return False
        if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
            return False
    b.src.append(s)
    b.dst.append(d)
    b.w.append(w)
    return True


def _read_one(path, shown, b, encoding):
    state = {"mode": None, "vertex_ids": {}}
    for lineno, text in _iter_blocks(path, encoding):
        if state["mode"] in (None, "links", "edges") and "*" not in text and "{" not in text:
            if state["mode"] is None:
                state["mode"] = "links"
            if _fast_links(text, b, state["vertex_ids"] if state["mode"] == "edges" else None):
                continue
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        _read_lines_slow(enumerate(lines, lineno), shown, b, state)


def _read_lines_slow(numbered_lines, shown, b, state):
    mode = state["mode"]  # None: not decided; "links"; "vertices"; "edges"
    vertex_ids = state["vertex_ids"]  # Pajek: token -> builder index
    s, d, w = [], [], []
    node = b.node
    for lineno, line in numbered_lines:
        t = line.strip()
        if not t or t[0] == "#" or t[0] == "%":
            continue
        if t[0] == "*":
            head = t.split(None, 1)[0].lower()
            if head == "*vertices":
                mode = "vertices"
                rest = t.split()
                if len(rest) > 1:
                    try:
                        int(rest[1])
                    except ValueError:
                        raise TextmineError(f"{shown}:{lineno}: '*Vertices' must be followed by a count, "
                                            f"got {rest[1]!r}") from None
            elif head in ("*edges", "*arcs", "*links"):
                mode = "edges"
            elif head in _UNSUPPORTED:
                raise TextmineError(f"{shown}:{lineno}: section {t.split()[0]!r} (state/multilayer/bipartite "
                                    "networks) is not supported; give a plain link list or *Vertices/*Edges/*Arcs")
            else:
                raise TextmineError(f"{shown}:{lineno}: unknown section {t.split()[0]!r}; expected *Vertices, "
                                    "*Edges, *Arcs or *Links")
            continue
        if mode is None:
            if t[0] == "{":
                raise TextmineError(f"{shown}:{lineno}: JSON networks are not supported; give a link list "
                                    "'source<TAB>target[<TAB>weight]' or a Pajek .net file")
            mode = "links"
        if mode == "vertices":
            # id "name with spaces" [weight]  or  id name
            parts = t.split(None, 1)
            vid = parts[0]
            name = vid
            if len(parts) > 1:
                rest = parts[1].strip()
                if rest.startswith('"'):
                    end = rest.find('"', 1)
                    if end < 0:
                        raise TextmineError(f"{shown}:{lineno}: unterminated quoted vertex name")
                    name = rest[1:end]
                else:
                    name = rest.split()[0]
            if vid in vertex_ids:
                raise TextmineError(f"{shown}:{lineno}: vertex {vid!r} declared twice")
            vertex_ids[vid] = node(vid)
            b.names[vid] = name
            continue
        parts = t.split()
        if len(parts) < 2:
            raise TextmineError(f"{shown}:{lineno}: expected 'source target [weight]', got {t[:60]!r}")
        if mode == "edges" and vertex_ids:
            for v in parts[:2]:
                if v not in vertex_ids:
                    raise TextmineError(f"{shown}:{lineno}: link to vertex {v!r} that *Vertices does not declare")
        s.append(node(parts[0]))
        d.append(node(parts[1]))
        if len(parts) > 2:
            w.append(_parse_weight(parts[2], f"{shown}:{lineno}"))
        else:
            w.append(1.0)
        if len(s) >= 1 << 20:
            b.add_chunk(s, d, w)
            s, d, w = [], [], []
    state["mode"] = mode
    b.add_chunk(s, d, w)


def _sort_key_order(ids):
    """Permutation putting ``ids`` in canonical order: numeric when all are integers."""
    try:
        nums = np.array([int(x) for x in ids], dtype=np.int64)
        return np.argsort(nums, kind="stable")
    except (ValueError, OverflowError):
        return np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)


def _finish(b, directed):
    n = len(b.ids)
    if b.src:
        src = np.concatenate(b.src)
        dst = np.concatenate(b.dst)
        w = np.concatenate(b.w)
    else:
        src = dst = np.zeros(0, np.int64)
        w = np.zeros(0)
    order = _sort_key_order(b.ids)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    ids = [b.ids[i] for i in order]
    names = [b.names.get(x, x) for x in ids]
    src = rank[src]
    dst = rank[dst]
    keep = w > 0
    src, dst, w = src[keep], dst[keep], w[keep]
    if src.size == 0:
        raise TextmineError("the graph has no links (empty input, or every weight is 0)")
    if not directed:
        lo = np.minimum(src, dst)
        hi = np.maximum(src, dst)
        src, dst = lo, hi
    key = src * n + dst
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    wsum = np.add.reduceat(w[order], starts)
    ukey = key[starts]
    src = (ukey // n).astype(np.int32)
    dst = (ukey % n).astype(np.int32)
    g = Graph(ids=ids, names=names, src=src, dst=dst, weight=wsum.astype(np.float64), directed=directed,
              n_self_loops=int(np.count_nonzero(src == dst)), n_duplicates=int(key.size - starts.size))
    return g


def graph_from_edges(edges, directed=False, nodes=None):
    """Build a :class:`Graph` from ``(source, target[, weight])`` tuples of ids (any hashable printed as str).

    Parameters
    ----------
    edges : iterable of tuple
        Links; a missing weight is 1.
    directed : bool
        Keep direction.
    nodes : iterable, optional
        Extra node ids (isolated nodes allowed).
    """
    b = _Builder()
    for v in nodes or ():
        b.node(str(v))
    s, d, w = [], [], []
    for e in edges:
        s.append(b.node(str(e[0])))
        d.append(b.node(str(e[1])))
        x = float(e[2]) if len(e) > 2 else 1.0
        if not math.isfinite(x) or x < 0:
            raise TextmineError(f"link {e[0]!r} -> {e[1]!r}: weight {e[2]!r} must be a finite number >= 0")
        w.append(x)
    b.add_chunk(s, d, w)
    return _finish(b, directed)


def as_undirected(graph):
    """The undirected version of ``graph``: ``a -> b`` and ``b -> a`` merged into one link (weights summed)."""
    if not graph.directed:
        return graph
    n = graph.n_nodes
    src = np.minimum(graph.src, graph.dst).astype(np.int64)
    dst = np.maximum(graph.src, graph.dst).astype(np.int64)
    key = src * n + dst
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    w = np.add.reduceat(graph.weight[order], starts)
    ukey = key[starts]
    return Graph(ids=graph.ids, names=graph.names, src=(ukey // n).astype(np.int32),
                 dst=(ukey % n).astype(np.int32), weight=w, directed=False,
                 n_self_loops=graph.n_self_loops, n_duplicates=graph.n_duplicates)
