"""The Python face of textmine: one call per command, on paths or in-memory text.

``import textmine as tm`` gives these names lazily (the package itself imports nothing heavy)::

    >>> import textmine as tm
    >>> tm.count(text=["春风又绿江南岸", "明月何时照我还，春风"], tokenizer="char", top=3)
    [('春', 2), ('风', 2), ('何', 1)]

Each function takes either ``paths`` (a file, a directory or a list of them; ``'-'`` is stdin),
or ``text`` (a string or an iterable of lines), never both. Results are plain Python values:
lists of tuples, dicts and the library's own result objects. Errors in the input raise
:class:`textmine.errors.TextmineError` with the same one-line message the CLI prints.

The classes (:class:`Segmenter`, :class:`JoSE`) and the test (:func:`hsic_test`) are the
library's own, re-exported unchanged: segment with ``tm.load_lexicon(path).cut(text)`` or
``tm.Segmenter(result.words, result.counts).segment_lines(lines)``.

``textmine.count`` is also the name of the counting module; importing it would replace the
function ``tm.count`` by the module, so that module is callable and its call is :func:`count`.
"""
import contextlib
import os
import tempfile

from textmine.errors import TextmineError

__all__ = ["count", "discover_words", "Segmenter", "load_lexicon", "cluster", "hsic_test", "JoSE"]


@contextlib.contextmanager
def _corpus_files(paths, text, glob="*"):
    """Resolved input files for ``paths``, or one temporary UTF-8 file holding ``text``."""
    from textmine.corpus import resolve_inputs

    if (paths is None) == (text is None):
        raise TextmineError("give either paths or text")
    if paths is not None:
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        yield resolve_inputs([os.fspath(p) for p in paths], glob)
        return
    lines = [text] if isinstance(text, str) else list(text)
    fd, name = tempfile.mkstemp(prefix="textmine-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                if not isinstance(line, str):
                    raise TextmineError(f"text must be a string or strings, got {type(line).__name__}")
                f.write(line if line.endswith("\n") else line + "\n")
        yield [name]
    finally:
        os.unlink(name)


def _read_options(encoding, errors, input_format=None, field=None):
    from textmine.corpus import ReadOptions

    opts = ReadOptions(encoding, errors, input_format, field)
    opts.check()
    return opts


def count(paths=None, *, text=None, tokenizer="jieba", n=None, min_n=1, min_count=1, top=None, jobs=1,
          memory_limit=None, glob="*", encoding="utf-8", errors="strict", input_format=None, field=None):
    """Token or n-gram counts, as ``textmine count``.

    Returns a list of ``(token, count)`` in the command's order: count descending, then code
    point. ``tokenizer`` is ``jieba``, ``jieba:nohmm``, ``char``, ``ngram``, ``space`` or
    ``lexicon:FILE``; ``n`` defaults to 4 for ``ngram`` and 1 otherwise; ``memory_limit`` is in
    bytes. ``input_format`` (``text``, ``jsonl``, ``csv``, ``tsv``; default: by the extension)
    and ``field`` choose the records' text as ``--input-format`` and ``--field`` do.
    """
    from textmine.count import count as run

    max_n = n if n is not None else (4 if tokenizer == "ngram" else 1)
    with _corpus_files(paths, text, glob) as files:
        with run(files, tokenizer=tokenizer, min_n=min_n, max_n=max_n, min_count=min_count, top=top,
                 n_jobs=jobs, memory_limit=memory_limit,
                 read=_read_options(encoding, errors, input_format, field)) as result:
            return list(result.items())


def discover_words(paths=None, *, text=None, min_count=None, max_n=None, min_pmi=None,
                   redundancy=None, jobs=1, memory_limit=2 << 30, glob="*", encoding="utf-8",
                   errors="strict", input_format=None, field=None, units="chars", joiner=" "):
    """Minimum-entropy word discovery, as ``textmine discover-words``.

    Returns a :class:`textmine.discover.DiscoverResult` (``words``, ``counts``, ``cohesion``,
    ``pmi``, ``gain`` lists and corpus ``stats``); ``memory_limit`` is in bytes; ``input_format``
    and ``field`` as for :func:`count`. ``units="tokens"`` finds phrases of whitespace-separated
    tokens (English, segmented Chinese), joined by ``joiner``. Thresholds left at None take the
    defaults of the unit type (characters: ``min_count=3, max_n=4, min_pmi="1,3,5",
    redundancy="3.5*(len-1)"``; tokens: ``5, 3, "4.5,5.5", "len-1"``).
    """
    from textmine.discover import discover_words as run

    opts = _read_options(encoding, errors, input_format, field)
    with _corpus_files(paths, text, glob) as files:
        return run(paths=files, read=opts, min_count=min_count, max_n=max_n, min_pmi=min_pmi,
                   redundancy=redundancy, n_jobs=jobs, memory_limit=memory_limit, units=units,
                   joiner=joiner)


def load_lexicon(path, encoding="utf-8"):
    """A :class:`Segmenter` from a textmine lexicon (``discover-words`` output) or jieba dictionary."""
    from textmine.segment import load_lexicon as load

    return load(os.fspath(path), encoding=encoding)


def _edges_of(graph):
    """``(source, target, weight)`` triples and the node list of a networkx or igraph graph, or
    of an iterable of ``(source, target[, weight])`` tuples."""
    if hasattr(graph, "edges") and hasattr(graph, "nodes") and hasattr(graph, "is_directed"):  # networkx
        edges = [(u, v, d.get("weight", 1.0)) for u, v, d in graph.edges(data=True)]
        return edges, list(graph.nodes()), bool(graph.is_directed())
    if hasattr(graph, "get_edgelist") and hasattr(graph, "vs"):  # igraph
        names = graph.vs["name"] if "name" in graph.vs.attributes() else list(range(graph.vcount()))
        weights = graph.es["weight"] if "weight" in graph.es.attributes() else [1.0] * graph.ecount()
        edges = [(names[u], names[v], w) for (u, v), w in zip(graph.get_edgelist(), weights)]
        return edges, list(names), bool(graph.is_directed())
    return list(graph), None, None


def cluster(graph, *, directed=None, trials=1, seed=1, multilevel=False, **options):
    """InfoMap communities, as ``textmine cluster``.

    ``graph`` is a networkx or igraph graph, or an iterable of ``(source, target[, weight])``
    tuples (any hashable node ids). ``directed`` defaults to the graph's own (undirected for
    tuples). Other keywords go to :func:`textmine.infomap.infomap` (``teleport_prob``, ...).

    Returns ``(modules, result)``: a dict node -> module number (1 = the module of most flow,
    the numbering of the TSV output) and the :class:`textmine.infomap.InfomapResult`, whose
    ``codelength`` is in bits.
    """
    from textmine.graph import graph_from_edges
    from textmine.infomap import infomap

    edges, nodes, graph_directed = _edges_of(graph)
    if directed is None:
        directed = bool(graph_directed)
    original = {}
    for e in edges:
        original.setdefault(str(e[0]), e[0])
        original.setdefault(str(e[1]), e[1])
    for v in nodes or ():
        original.setdefault(str(v), v)
    if len(original) != len({str(v) for v in original.values()}) or not original:
        raise TextmineError("the graph has no links" if not original else "two node ids print the same")
    g = graph_from_edges(edges, directed=directed, nodes=nodes)
    result = infomap(g, directed=directed, trials=trials, seed=seed, multilevel=multilevel, **options)
    modules = {original[name]: int(m) + 1 for name, m in zip(g.ids, result.modules.tolist())}
    return modules, result


def __getattr__(name):
    if name in ("Segmenter",):
        from textmine import segment as module
    elif name == "JoSE":
        from textmine import jose as module
    elif name == "hsic_test":
        from textmine import hsic as module
    else:
        raise AttributeError(name)
    return getattr(module, name)
