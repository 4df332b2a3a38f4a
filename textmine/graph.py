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
a negative, non-finite or non-numeric weight, a link line with fewer than two or more than
three fields, a Pajek link to an undeclared vertex, an unsupported section (``*Bipartite``...),
and a graph with no link. State networks (``*States``) and multilayer networks (``*Multilayer``,
``*Intra``/``*Inter``, reduced to states as Infomap does) give a Graph with ``phys``.

Notes
-----
Formats follow Infomap 2.16 ``src/io/NetworkInputParser.h`` (see docs/algorithms.md §7.4), with one
deliberate difference so that no node name is lost: a file is Pajek only when its first line
that is neither blank nor starts with ``#``/``%`` is a Pajek section header (``*Vertices [N]``,
``*Edges``, ``*Arcs``, ``*Links``, ``*States``...; :func:`is_pajek_header`). Anything else is a
link list ``source target [weight]`` separated by TABs or spaces, in which ``*`` means nothing
(``***`` and ``**zg`` are node names) and a comment is a line whose first field starts with ``#``
or ``%`` and is alone or followed by a space (:func:`is_comment`): ``# text`` and ``#text`` are
comments, ``#b<TAB>c`` and ``#b c 2`` are links, so every TAB-separated line of 2-3 fields is a
link. (A node named exactly ``#`` or ``%`` at the start of a line needs a TAB after it.)
``*Arcs`` does **not** imply directed flow (as in Infomap); pass ``directed=True``.
"""
import math
import re
import sys
from dataclasses import dataclass, field

import numpy as np

from textmine._numba import njit
from textmine.errors import TextmineError

_MULTILAYER = ("*multilayer", "*intra", "*inter")
_UNSUPPORTED = ("*bipartite", "*3grams", "*multiplex")


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
    objects: list = None
    phys: np.ndarray = None
    phys_ids: list = None
    phys_names: list = None
    layers: list = None  # multilayer input: the layer id of each state node

    @property
    def is_state_network(self):
        """Whether the nodes are state nodes (``*States``) of physical nodes ``phys_ids[phys[i]]``."""
        return self.phys is not None

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
        self.comments = 0
        self.vertex_names = {}  # Pajek *Vertices: id -> name (graph nodes unless *States follows)
        self.state_phys = {}  # *States: state id -> physical id
        self.state_where = {}  # state id -> "file:line" of its declaration
        self.layer_state = {}  # multilayer: (layer, physical id) -> state id (1, 2, ... in order of creation)
        self.intra = {}  # *Intra: layer -> {source: {target: weight}}
        self.inter = {}  # *Inter: (layer, physical id) -> {layer: weight}
        self.multilayer_where = None

    def state_of(self, layer, phys, where):
        """The state node of physical node ``phys`` in ``layer`` (created on first use)."""
        sid = self.layer_state.get((layer, phys))
        if sid is None:
            sid = self.layer_state[(layer, phys)] = str(len(self.layer_state) + 1)
            self.state_phys[sid] = phys
            self.state_where[sid] = where
            self.node(sid)
        return sid

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


def read_graph(paths, directed=False, encoding="utf-8", relax_rate=0.15, relax_limit=-1, relax_limit_up=-1,
               relax_limit_down=-1):
    """Read one or more link-list or Pajek files into a :class:`Graph`.

    Parameters
    ----------
    paths : sequence of str
        Files or ``'-'`` for standard input; their links are concatenated (node ids are shared).
    directed : bool
        Keep link direction (``a b`` and ``b a`` stay two links). Otherwise links are undirected.
    encoding : str
        Input encoding (any Python codec, UTF-16 included).
    relax_rate : float
        Multilayer ``*Intra`` input without ``*Inter`` links: the rate r at which the walker may
        follow the links of the same physical node in any layer (Infomap's
        ``--multilayer-relax-rate``, 0.15).
    relax_limit, relax_limit_up, relax_limit_down : int
        With ``relax_rate``: the walker relaxes only to layers whose (integer) id differs by at most
        ``relax_limit`` (both ways), ``relax_limit_up`` (to higher ids) and ``relax_limit_down`` (to lower
        ids); negative: no limit (Infomap's ``--multilayer-relax-limit[-up|-down]``, -1).

    Returns
    -------
    Graph
        ``stats['comments']`` counts the comment lines skipped. Multilayer input (``*Multilayer``,
        ``*Intra``/``*Inter``) gives a state network with one state per (layer, physical node),
        ``layers`` naming each state's layer; ``*Intra`` input is directed (as Infomap turns it).

    Raises
    ------
    TextmineError
        With ``file:line`` for a malformed line or bad weight, and for an empty graph.

    Notes
    -----
    A file is Pajek only when its first line that is neither blank nor starts with ``#``/``%`` is a
    Pajek section header (:func:`is_pajek_header`). Otherwise it is a link list, where ``*``, ``{``
    and everything else are ordinary node-name characters, and a comment is a line whose first
    field starts with ``#`` or ``%`` and is either alone on the line or followed by a **space**
    (``# text``, ``#``, ``#text``); ``#b<TAB>c`` and ``#b c 2`` are links, so a TAB-separated line
    of 2 or 3 fields is always a link. Other lines need 2 or 3 fields. A TAB-separated link line
    with an empty field (``a<TAB><TAB>2``: no target) is an error, not a link ``a``-``2``.

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
    if b.intra:
        if not 0 <= relax_rate <= 1:
            raise TextmineError(f"the multilayer relax rate must be in [0, 1], got {relax_rate}")
        links = _expand_intra_inter(b, directed, relax_rate, (relax_limit, relax_limit_up, relax_limit_down))
        b.add_chunk([b.index[x] for x, _, _ in links], [b.index[y] for _, y, _ in links], [w for _, _, w in links])
        directed = True
    elif b.inter:
        raise TextmineError(f"{b.multilayer_where}: *Inter links need *Intra links to connect")
    g = _finish(b, directed)
    g.stats["comments"] = b.comments
    if b.layer_state:
        layer_of = {sid: lay for (lay, _), sid in b.layer_state.items()}
        g.layers = [layer_of[x] for x in g.ids]
    return g


_PAJEK_SECTIONS = ("*vertices", "*states", "*edges", "*arcs", "*links") + _MULTILAYER + _UNSUPPORTED


def is_pajek_header(line):
    """Whether ``line`` is a Pajek section header: ``*Vertices``, ``*Edges``, ``*Arcs``, ``*Links``,
    ``*States``, ``*Multilayer``... (case-insensitive), alone on the line or followed by one integer
    (``*Vertices 34``). ``*Vertices<TAB>b<TAB>1`` and ``*Vertices b`` are links between nodes.
    """
    parts = _split_ascii(line.strip(" \t\r\v\f"))
    if not parts or parts[0].lower() not in _PAJEK_SECTIONS:
        return False
    return len(parts) == 1 or (len(parts) == 2 and re.fullmatch(r"[0-9]+", parts[1]) is not None)


def is_comment(fields, line):
    """The link-list comment rule: first field starts with ``#``/``%`` and is alone or followed by a space.

    ``fields`` are the line's whitespace-separated fields, ``line`` the line stripped on the left.
    """
    return fields[0][0] in "#%" and (len(fields) == 1 or line[1] == " ")


def _iter_blocks(path, encoding, block_bytes=16 << 20):
    """Yield (first line number, bytes or None, text or None, byte offset) blocks of whole lines.

    ASCII-compatible encodings give bytes (decoded later, the byte scanner reads them); others
    (UTF-16, UTF-32) are decoded incrementally here and give text. NUL is checked on what the
    encoding means: a NUL byte in UTF-8 text, a U+0000 character after decoding otherwise.
    """
    import codecs

    from textmine.corpus import ReadOptions, _open_binary, display

    shown = display(path)
    ascii_ok = ReadOptions(encoding).ascii_compatible
    dec = None if ascii_ok else codecs.getincrementaldecoder(encoding)("strict")
    f = _open_binary(path)
    lineno, offset, rest, first = 1, 0, b"", True
    trest = ""
    try:
        while True:
            raw = f.read(block_bytes)
            if dec is not None:
                try:
                    text = trest + dec.decode(raw, final=not raw)
                except UnicodeDecodeError as e:
                    at = offset + len(raw) - len(e.object) + e.start
                    raise TextmineError(f"{shown}: cannot decode byte 0x{e.object[e.start]:02x} at offset {at} "
                                        f"as {encoding}; check --encoding") from None
                offset += len(raw)
                cut = len(text) if not raw else text.rfind("\n") + 1
                chunk, trest = text[:cut], text[cut:]
                if first and chunk:
                    first = False
                    if chunk.startswith("\ufeff"):
                        chunk = chunk[1:]
                if "\x00" in chunk:
                    bad = lineno + chunk[:chunk.index("\x00")].count("\n")
                    raise TextmineError(f"{shown}:{bad}: NUL character; is this a binary file?")
                if chunk:
                    yield lineno, None, chunk, offset
                    lineno += chunk.count("\n")
                if not raw:
                    break
                continue
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
                raise TextmineError(f"{shown}: looks like a binary file (NUL byte at offset "
                                    f"{offset + chunk.index(0)})")
            if first:
                first = False
                if chunk.startswith(b"\xef\xbb\xbf") and encoding.lower().replace("-", "").replace("_", "") in (
                        "utf8", "utf8sig"):
                    chunk = chunk[3:]
            yield lineno, chunk, None, offset
            lineno += chunk.count(b"\n")
            offset += len(chunk)
            if not raw:
                break
    finally:
        if f is not getattr(sys.stdin, "buffer", None):
            f.close()


def _decode(chunk, shown, offset, encoding):
    try:
        return chunk.decode(encoding)
    except UnicodeDecodeError as e:
        raise TextmineError(f"{shown}: cannot decode byte 0x{chunk[e.start]:02x} at offset {offset + e.start} "
                            f"as {encoding}; try --encoding gb18030") from None


def _fast_links(chunk, b, encoding):
    """Parse a block of link-list lines with the byte scanner; False asks for the line-by-line parser."""
    buf = np.frombuffer(chunk, dtype=np.uint8)
    status, src, dst, w, wflag, wspan, uniq, n_comments = _scan_links(buf, _POW10)
    if status:
        return False
    try:
        names = [chunk[a:e].decode(encoding) for a, e in uniq.tolist()]
    except UnicodeDecodeError:
        return False
    flagged = np.flatnonzero(wflag)
    for i, (a, e) in zip(flagged.tolist(), wspan[flagged].tolist()):
        try:
            x = float(chunk[a:e])
        except ValueError:
            return False
        if not math.isfinite(x) or x < 0:
            return False
        w[i] = x
    index = b.index
    for t in names:
        if t not in index:
            b.node(t)
    local = np.fromiter(map(index.__getitem__, names), dtype=np.int64, count=len(names))
    b.src.append(local[src])
    b.dst.append(local[dst])
    b.w.append(w)
    b.comments += int(n_comments)
    return True


def _detect_mode(text, shown, lineno):
    """'pajek' or 'links' from the first line that is not blank and does not start with #/%; None if none."""
    for i, line in enumerate(text.split("\n")):
        t = line.strip(" \t\r\v\f")
        if not t or t[0] in "#%":
            continue
        if t[0] == "{" and (t == "{" or t.startswith('{"')):
            raise TextmineError(f"{shown}:{lineno + i}: JSON networks are not supported; give a link list "
                                "'source<TAB>target[<TAB>weight]' or a Pajek .net file")
        return "pajek" if is_pajek_header(t) else "links"
    return None


def _read_one(path, shown, b, encoding):
    state = {"mode": None, "vertex_ids": {}}
    for lineno, chunk, text, offset in _iter_blocks(path, encoding):
        if state["mode"] is None:  # None: only blank and #/% lines so far
            whole = text if text is not None else chunk
            for part in (whole[:1 << 16], whole):  # the first 64 KB nearly always decide
                complete = len(part) == len(whole)
                head = part.decode(encoding, errors="replace") if isinstance(part, bytes) else part
                if not complete:  # leave out the cut line
                    head = head.rsplit("\n", 1)[0]
                state["mode"] = _detect_mode(head, shown, lineno)
                if state["mode"] is not None or complete:
                    break
        if chunk is not None and state["mode"] == "links" and _fast_links(chunk, b, encoding):
            continue
        if text is None:
            text = _decode(chunk, shown, offset, encoding)
        if lineno == 1 and text.startswith("\ufeff"):
            text = text[1:]
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        _read_lines_slow(enumerate(lines, lineno), shown, b, state)


def _read_lines_slow(numbered_lines, shown, b, state):
    mode = state["mode"]  # None: only blank/comment lines so far; "links"; "pajek", "vertices", "edges"
    vertex_ids = state["vertex_ids"]  # Pajek: token -> builder index
    s, d, w = [], [], []
    node = b.node
    for lineno, line in numbered_lines:
        t = line.strip(" \t\r\v\f")
        if not t:
            continue
        if mode in (None, "links"):
            parts = _split_ascii(t)
            if is_comment(parts, t):
                b.comments += 1
                continue
            mode = "links"
            if "\t" in line:
                _no_empty_tsv_field(line, shown, lineno)
        elif t[0] == "#" or t[0] == "%":
            b.comments += 1
            continue
        elif t[0] == "*":
            head = t.split(None, 1)[0].lower()
            if not is_pajek_header(t):
                raise TextmineError(f"{shown}:{lineno}: unknown section {t.split()[0]!r}; expected *Vertices [N], "
                                    "*Edges, *Arcs or *Links")
            if head == "*vertices":
                mode = "vertices"
            elif head == "*states":
                mode = "states"
            elif head in ("*edges", "*arcs", "*links"):
                mode = "edges"
            elif head in _MULTILAYER:
                mode = head[1:]
                if b.multilayer_where is None:
                    b.multilayer_where = f"{shown}:{lineno}"
            else:
                raise TextmineError(f"{shown}:{lineno}: section {t.split()[0]!r} (bipartite/n-gram networks) is "
                                    "not supported; give a link list, *Vertices/*Edges/*Arcs, *Vertices/*States/*Links "
                                    "or a multilayer network (*Multilayer, *Intra/*Inter)")
            continue
        elif mode == "pajek":
            raise TextmineError(f"{shown}:{lineno}: expected a Pajek section header, got {t[:60]!r}")
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
            vertex_ids[vid] = None
            b.vertex_names[vid] = name
            continue
        if mode == "states":
            # state_id physical_id ["name"]
            parts = t.split(None, 2)
            if len(parts) < 2:
                raise TextmineError(f"{shown}:{lineno}: expected 'state_id physical_id [\"name\"]', got {t[:60]!r}")
            sid, pid = parts[0], parts[1]
            if sid in b.state_phys:
                raise TextmineError(f"{shown}:{lineno}: state {sid!r} declared twice")
            if vertex_ids and pid not in vertex_ids:
                raise TextmineError(f"{shown}:{lineno}: state {sid!r} names physical node {pid!r} that *Vertices "
                                    "does not declare")
            if len(parts) > 2:
                rest = parts[2].strip()
                if rest.startswith('"'):
                    end = rest.find('"', 1)
                    if end < 0:
                        raise TextmineError(f"{shown}:{lineno}: unterminated quoted state name")
                    b.names[sid] = rest[1:end]
                else:
                    b.names[sid] = rest.split()[0]
            b.state_phys[sid] = pid
            b.state_where[sid] = f"{shown}:{lineno}"
            node(sid)
            continue
        if mode in ("multilayer", "intra", "inter"):
            _multilayer_line(b, mode, t, shown, lineno, vertex_ids)
            continue
        if mode == "edges":
            parts = _split_ascii(t)
        if not 2 <= len(parts) <= 3:
            raise TextmineError(f"{shown}:{lineno}: expected 'source target [weight]' (2 or 3 fields), "
                                f"got {len(parts)} field{'s' if len(parts) != 1 else ''}: {t[:60]!r}")
        if mode == "edges" and b.state_phys:
            for v in parts[:2]:
                if v not in b.state_phys:
                    raise TextmineError(f"{shown}:{lineno}: link to state {v!r} that *States does not declare")
        elif mode == "edges" and vertex_ids:
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


_MULTILAYER_FIELDS = {"multilayer": "layer_id node_id layer_id node_id [weight]",
                      "intra": "layer_id node_id node_id [weight]", "inter": "layer_id node_id layer_id [weight]"}


def _multilayer_line(b, mode, t, shown, lineno, vertex_ids):
    """One line of a *Multilayer, *Intra or *Inter section (Infomap's multilayer formats)."""
    where = f"{shown}:{lineno}"
    parts = _split_ascii(t)
    n_fields = 4 if mode == "multilayer" else 3
    if not n_fields <= len(parts) <= n_fields + 1:
        raise TextmineError(f"{where}: expected '{_MULTILAYER_FIELDS[mode]}', got {len(parts)} fields: {t[:60]!r}")
    w = _parse_weight(parts[n_fields], where) if len(parts) > n_fields else 1.0
    nodes = (parts[1], parts[3]) if mode == "multilayer" else (parts[1], parts[2]) if mode == "intra" else (parts[1],)
    for v in nodes:
        if vertex_ids and v not in vertex_ids:
            raise TextmineError(f"{where}: physical node {v!r} that *Vertices does not declare")
    if mode == "multilayer":
        b.src.append(np.array([b.index[b.state_of(parts[0], parts[1], where)]], dtype=np.int64))
        b.dst.append(np.array([b.index[b.state_of(parts[2], parts[3], where)]], dtype=np.int64))
        b.w.append(np.array([w]))
    elif mode == "intra":
        out = b.intra.setdefault(parts[0], {}).setdefault(parts[1], {})
        out[parts[2]] = out.get(parts[2], 0.0) + w
        b.intra[parts[0]].setdefault(parts[2], {})
    else:
        if parts[0] == parts[2]:
            raise TextmineError(f"{where}: an inter-layer link needs two different layers, got {parts[0]!r} twice")
        to = b.inter.setdefault((parts[0], parts[1]), {})
        to[parts[2]] = to.get(parts[2], 0.0) + w


def _num_key(x):
    """Sort key: numeric when ``x`` is an integer (Infomap's ids are), then by code point."""
    try:
        return (0, int(x), "")
    except ValueError:
        return (1, 0, x)


def _relax_allowed(layers, limits, where):
    """Infomap's relax limits (``Network.cpp``, ``withinRelaxLimit``): a function (α, β) -> whether the walker
    may relax from layer α to layer β, by the difference of their integer ids; None when nothing is limited."""
    limit, up, down = (int(x) for x in limits)
    if limit < 0 and up < 0 and down < 0:
        return None
    try:
        num = {lay: int(lay) for lay in layers}
    except ValueError:
        bad = next(lay for lay in layers if not lay.lstrip("+-").isdigit())
        raise TextmineError(f"{where}: a multilayer relax limit needs integer layer ids, got layer {bad!r}") from None
    inf = float("inf")
    sym = inf if limit < 0 else limit
    up = sym if up < 0 else min(sym, up)
    down = sym if down < 0 else min(sym, down)
    return lambda l1, l2: (num[l1] - num[l2] <= down) if num[l1] >= num[l2] else (num[l2] - num[l1] <= up)


def _expand_intra_inter(b, directed, relax_rate, limits=(-1, -1, -1)):
    """The state network of *Intra (+ *Inter) input, as Infomap 2.16 builds it (``src/io/Network.cpp``,
    ``generateStateNetworkFromMultilayer*``): one state per (layer, physical node). Undirected input
    gets each intra-layer link in both directions (self-links once), and the result is directed.
    With *Inter links, a state keeps its intra-layer links and an inter-layer link (α, i, β, w)
    leads from (α, i) to every out-neighbour j of i in β with weight w · w_ij^β / s_i^β (undirected:
    also from (β, i) into α). Without them, the walker relaxes to any layer at rate r: (α, i) links
    to (β, j) with weight w_ij^β (r / S_i + [α = β] (1 − r) / s_i^α), S_i = Σ_β s_i^β (Infomap's
    ``--multilayer-relax-rate``); with relax ``limits`` (limit, up, down; :func:`_relax_allowed`) β and the
    sum S_i range over the layers within them (Infomap's ``--multilayer-relax-limit[-up|-down]``; they do
    nothing with *Inter links, as in Infomap)."""
    where = b.multilayer_where
    layers = sorted(b.intra, key=_num_key)
    out = {}  # layer -> {i: {j: w}} (directed)
    for lay in layers:
        o = {i: dict(nb) for i, nb in b.intra[lay].items()}
        if not directed:
            for i, nb in b.intra[lay].items():
                for j, x in nb.items():
                    if i != j:
                        o.setdefault(j, {})[i] = o.setdefault(j, {}).get(i, 0.0) + x
        out[lay] = o
    strength = {lay: {i: sum(nb.values()) for i, nb in o.items()} for lay, o in out.items()}
    links = []

    def link(l1, i, l2, j, x):
        if x >= 1e-16:
            links.append((b.state_of(l1, i, where), b.state_of(l2, j, where), x))

    if b.inter:
        for lay in layers:
            for i in sorted(out[lay], key=_num_key):
                for j in sorted(out[lay][i], key=_num_key):
                    link(lay, i, lay, j, out[lay][i][j])
        pairs = [((l1, i), l2, x) for (l1, i), to in sorted(b.inter.items(), key=lambda kv: (_num_key(kv[0][0]),
                 _num_key(kv[0][1]))) for l2, x in sorted(to.items(), key=lambda kv: _num_key(kv[0]))]
        for (l1, i), l2, x in pairs + ([((l2, i), l1, x) for (l1, i), l2, x in pairs] if not directed else []):
            s_i = strength.get(l2, {}).get(i, 0.0)
            for j, y in sorted(out.get(l2, {}).get(i, {}).items(), key=lambda kv: _num_key(kv[0])):
                link(l1, i, l2, j, x * y / s_i if s_i else 0.0)
        return links
    allowed = _relax_allowed(layers, limits, where)
    for l1 in layers:
        near = layers if allowed is None else [l2 for l2 in layers if allowed(l1, l2)]
        for i in sorted(out[l1], key=_num_key):
            total = sum(strength[l2].get(i, 0.0) for l2 in near)
            if total <= 0:
                continue
            for l2 in near:
                own = strength[l1].get(i, 0.0) if l2 == l1 else 0.0  # 0: i has no out-links in l1 either
                factor = relax_rate / total + ((1.0 - relax_rate) / own if own > 0 else 0.0)
                for j, y in sorted(out[l2].get(i, {}).items(), key=lambda kv: _num_key(kv[0])):
                    link(l1, i, l2, j, factor * y)
    return links


_ASCII_WS = re.compile(r"[ \t\r\v\f]+")


def _no_empty_tsv_field(line, shown, lineno):
    """A TAB-separated link line with an empty field (``a<TAB><TAB>2``, ``<TAB>b<TAB>1``) names an
    empty node: whitespace splitting would shift its fields (target ``2``, weight 1), so it is an
    error. Trailing TABs are allowed."""
    fields = line.rstrip("\r\n").rstrip("\t").split("\t")
    for i, f in enumerate(fields):
        if not f.strip(" \v\f\r"):
            raise TextmineError(f"{shown}:{lineno}: field {i + 1} of this TAB-separated line is empty (an empty node "
                                f"name?): {line.rstrip(chr(10))[:60]!r}")


def _split_ascii(t):
    """Fields of a line separated by ASCII whitespace (not U+3000 and the like, which may be in ids)."""
    return [x for x in _ASCII_WS.split(t) if x]


def _sort_key_order(ids):
    """Permutation putting ``ids`` in canonical order: numeric when all are integers."""
    try:
        nums = np.array([int(x) for x in ids], dtype=np.int64)
        return np.argsort(nums, kind="stable")
    except (ValueError, OverflowError):
        return np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)


def _finish(b, directed):
    if not b.state_phys:
        for vid in b.vertex_names:  # *Vertices without *States: every vertex is a node
            b.node(vid)
            b.names[vid] = b.vertex_names[vid]
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
    if b.state_phys:
        linked = np.zeros(n, dtype=bool)
        linked[src] = True
        linked[dst] = True
        if not linked.all():
            sid = ids[int(np.flatnonzero(~linked)[0])]
            raise TextmineError(f"{b.state_where[sid]}: state {sid!r} has no links (a state network needs every "
                                "state on a link)")
        pids = sorted(set(b.state_phys.values()) | set(b.vertex_names), key=str)
        try:
            pids = sorted(pids, key=int)
        except ValueError:
            pass
        pidx = {p: i for i, p in enumerate(pids)}
        g.phys = np.array([pidx[b.state_phys[x]] for x in ids], dtype=np.int64)
        g.phys_ids = pids
        g.phys_names = [b.vertex_names.get(p, p) for p in pids]
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


def graph_from_networkx(G, weight="weight"):
    """A :class:`Graph` from a networkx ``Graph``/``DiGraph`` (or an igraph ``Graph``).

    Parameters
    ----------
    G : networkx.Graph, networkx.DiGraph or igraph.Graph
        Multigraphs have their parallel links summed. Isolated nodes are kept.
    weight : str or None
        Edge attribute holding the weight (missing: 1); None ignores weights.

    Returns
    -------
    Graph
        ``objects`` holds the original node objects in canonical order (``objects[i]`` is node
        ``i``), so results map back to them; ``ids`` are their ``str()``.

    Raises
    ------
    TextmineError
        Two different nodes with the same ``str()``, or a bad weight.
    """
    if hasattr(G, "get_edgelist") and hasattr(G, "vs"):  # igraph
        names = G.vs["name"] if "name" in G.vs.attributes() else list(range(G.vcount()))
        ws = G.es[weight] if weight and weight in G.es.attributes() else [1.0] * G.ecount()
        edges = [(names[a], names[b], w) for (a, b), w in zip(G.get_edgelist(), ws)]
        nodes, directed = names, G.is_directed()
    else:
        nodes, directed = list(G.nodes), G.is_directed()
        edges = [(a, b, (d.get(weight, 1.0) if weight else 1.0)) for a, b, d in G.edges(data=True)]
    by_str = {}
    for v in nodes:
        if by_str.setdefault(str(v), v) is not v and by_str[str(v)] != v:
            raise TextmineError(f"nodes {by_str[str(v)]!r} and {v!r} print the same; relabel them")
    g = graph_from_edges(edges, directed=directed, nodes=nodes)
    g.objects = [by_str[x] for x in g.ids]
    return g


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


# ---------------------------------------------------------------------------------------------
# byte-level link-list scanner (numba): no Python object per line
# ---------------------------------------------------------------------------------------------

_POW10 = np.array([10.0 ** i for i in range(23)])


@njit
def _is_space(c):
    return c == 32 or c == 9 or c == 13 or c == 11 or c == 12


@njit
def _parse_decimal(buf, s, e, pow10):
    """Parse ``buf[s:e]`` as a plain non-negative decimal (``12``, ``0.5``, ``3e-2``).

    Returns (value, ok); ``ok`` is False when Python's ``float`` must decide (sign, nan, inf,
    too many digits): the fast path is exact (correctly rounded) whenever it answers.
    """
    mant = np.int64(0)
    nd = 0
    exp10 = 0
    i = s
    seen_digit = False
    while i < e and 48 <= buf[i] <= 57:
        if nd < 18:
            mant = mant * 10 + (buf[i] - 48)
            if mant > 0:
                nd += 1
        else:
            return 0.0, False
        seen_digit = True
        i += 1
    if i < e and buf[i] == 46:  # '.'
        i += 1
        while i < e and 48 <= buf[i] <= 57:
            if nd < 18:
                mant = mant * 10 + (buf[i] - 48)
                if mant > 0:
                    nd += 1
                exp10 -= 1
            else:
                return 0.0, False
            seen_digit = True
            i += 1
    if not seen_digit:
        return 0.0, False
    if i < e and (buf[i] == 101 or buf[i] == 69):  # e/E
        i += 1
        neg = False
        if i < e and (buf[i] == 45 or buf[i] == 43):
            neg = buf[i] == 45
            i += 1
        if i >= e:
            return 0.0, False
        x = 0
        while i < e and 48 <= buf[i] <= 57:
            x = x * 10 + (buf[i] - 48)
            if x > 400:
                return 0.0, False
            i += 1
        exp10 += -x if neg else x
    if i != e:
        return 0.0, False
    if mant == 0:
        return 0.0, True
    if mant >= np.int64(1) << 53:
        return 0.0, False
    if exp10 == 0:
        return float(mant), True
    if 0 < exp10 <= 22:
        return float(mant) * pow10[exp10], True
    if -22 <= exp10 < 0:
        return float(mant) / pow10[-exp10], True
    return 0.0, False


@njit
def _scan_links(buf, pow10):
    """Tokenise a block of link-list lines (``source target [weight] ...``) given as bytes.

    Parameters
    ----------
    buf : ndarray of uint8, shape (b,)
        Whole lines; fields separated by ASCII spaces/TABs; blank lines and comment lines skipped
        (first field starts with ``#``/``%`` and is alone or followed by a space, see :func:`is_comment`).
    pow10 : ndarray of float64, shape (23,)
        Exact powers of ten.

    Returns
    -------
    status : int
        0 if every line parsed; otherwise the 1-based line number (within the block) of the first
        line with fewer than two or more than three fields, or with an empty TAB-separated field
        (:func:`_no_empty_tsv_field`), for the line-by-line parser to report.
    src, dst : ndarray of int64, shape (m,)
        Block-local ids of the two endpoints (in order of first appearance).
    weight : ndarray of float64, shape (m,)
    wflag : ndarray of uint8, shape (m,)
        1 where the weight field must be parsed by Python (its span is ``wspan[i]``).
    wspan : ndarray of int64, shape (m, 2)
    uniq : ndarray of int64, shape (u, 2)
        Byte span of the first occurrence of each distinct id.
    n_comments : int
        Comment lines skipped.
    """
    nl = 1
    for i in range(buf.shape[0]):
        if buf[i] == 10:
            nl += 1
    src = np.empty(nl, dtype=np.int64)
    dst = np.empty(nl, dtype=np.int64)
    weight = np.ones(nl, dtype=np.float64)
    wflag = np.zeros(nl, dtype=np.uint8)
    wspan = np.zeros((nl, 2), dtype=np.int64)
    cap = 1 << 12
    table = np.full(cap, -1, dtype=np.int64)
    uhash = np.empty(cap // 2, dtype=np.uint64)
    uniq = np.empty((cap // 2, 2), dtype=np.int64)
    nu = 0
    m = 0
    pos = 0
    line = 0
    n = buf.shape[0]
    ts = np.empty(4, dtype=np.int64)
    te = np.empty(4, dtype=np.int64)
    n_comments = 0
    while pos < n:
        line += 1
        end = pos
        while end < n and buf[end] != 10:
            end += 1
        # fields
        nf = 0
        i = pos
        while i < end and nf < 4:
            while i < end and _is_space(buf[i]):
                i += 1
            if i >= end:
                break
            s = i
            while i < end and not _is_space(buf[i]):
                i += 1
            ts[nf] = s
            te[nf] = i
            nf += 1
        next_pos = end + 1
        if nf == 0:
            pos = next_pos
            continue
        if (buf[ts[0]] == 35 or buf[ts[0]] == 37) and (nf == 1 or buf[ts[0] + 1] == 32):  # '#', '%' comment
            n_comments += 1
            pos = next_pos
            continue
        if nf < 2 or nf > 3:
            return line, src[:0], dst[:0], weight[:0], wflag[:0], wspan[:0], uniq[:0], n_comments
        seen = False  # an empty TAB-separated field before the last field: the line parser reports it
        for j in range(pos, te[nf - 1]):
            if buf[j] == 9:
                if not seen:
                    return line, src[:0], dst[:0], weight[:0], wflag[:0], wspan[:0], uniq[:0], n_comments
                seen = False
            elif not _is_space(buf[j]):
                seen = True
        for f in range(2):
            h = np.uint64(14695981039346656037)
            for j in range(ts[f], te[f]):
                h = (h ^ np.uint64(buf[j])) * np.uint64(1099511628211)
            h ^= h >> np.uint64(33)
            h *= np.uint64(0xFF51AFD7ED558CCD)
            h ^= h >> np.uint64(33)
            slot = np.int64(h & np.uint64(cap - 1))
            found = -1
            while table[slot] >= 0:
                u = table[slot]
                if uhash[u] == h and uniq[u, 1] - uniq[u, 0] == te[f] - ts[f]:
                    same = True
                    a0 = uniq[u, 0]
                    for j in range(te[f] - ts[f]):
                        if buf[a0 + j] != buf[ts[f] + j]:
                            same = False
                            break
                    if same:
                        found = u
                        break
                slot = (slot + 1) & (cap - 1)
            if found < 0:
                found = nu
                table[slot] = nu
                uhash[nu] = h
                uniq[nu, 0] = ts[f]
                uniq[nu, 1] = te[f]
                nu += 1
                if 2 * nu >= cap:  # grow and rehash
                    cap *= 2
                    table = np.full(cap, -1, dtype=np.int64)
                    uh2 = np.empty(cap // 2, dtype=np.uint64)
                    un2 = np.empty((cap // 2, 2), dtype=np.int64)
                    for u in range(nu):
                        uh2[u] = uhash[u]
                        un2[u, 0] = uniq[u, 0]
                        un2[u, 1] = uniq[u, 1]
                        sl = np.int64(uhash[u] & np.uint64(cap - 1))
                        while table[sl] >= 0:
                            sl = (sl + 1) & (cap - 1)
                        table[sl] = u
                    uhash = uh2
                    uniq = un2
            if f == 0:
                src[m] = found
            else:
                dst[m] = found
        if nf >= 3:
            x, ok = _parse_decimal(buf, ts[2], te[2], pow10)
            if ok:
                weight[m] = x
            else:
                wflag[m] = 1
                wspan[m, 0] = ts[2]
                wspan[m, 1] = te[2]
        m += 1
        pos = next_pos
    return 0, src[:m], dst[:m], weight[:m], wflag[:m], wspan[:m], uniq[:nu], n_comments
