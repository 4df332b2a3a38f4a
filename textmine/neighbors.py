"""Cosine k-nearest-neighbour graphs from word vectors, for word clustering with InfoMap.

Notes
-----
Su Jianlin, 最小熵原理（五）："层次分解"下的词语聚类 (kexue.fm/archives/7006) and
``bojone/infomap/word_cluster.py``: take the most frequent words, L2-normalise their vectors, link
each word to up to 50 neighbours with cosine >= 0.6 as directed links weighted by the cosine, and
run two-level directed Infomap. docs/algorithms.md §4.4.
"""
import numpy as np

from textmine.errors import TextmineError


def knn_graph(vectors, k=50, min_sim=0.6, batch_size=2048):
    """Directed cosine kNN links: each row to its ``k`` most similar other rows with cosine >= ``min_sim``.

    Parameters
    ----------
    vectors : ndarray, shape (V, D)
        One vector per word (any scale; rows are L2-normalised here; zero rows get no links).
    k : int
        Neighbours per word (at most).
    min_sim : float
        Minimum cosine similarity.
    batch_size : int
        Rows per matrix product (memory is ``batch_size * V`` floats).

    Returns
    -------
    src, dst : ndarray of int32, shape (m,)
        Links, grouped by source in row order, neighbours by decreasing cosine (ties: lower index).
    sim : ndarray of float32, shape (m,)
        Cosine of each link.

    Examples
    --------
    >>> v = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    >>> s, d, c = knn_graph(v, k=1, min_sim=0.5)
    >>> s.tolist(), d.tolist()
    ([0, 1], [1, 0])
    """
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise TextmineError(f"vectors must be a 2-d array, got shape {v.shape}")
    if k < 1:
        raise TextmineError(f"k must be >= 1, got {k}")
    if not -1.0 <= min_sim <= 1.0:
        raise TextmineError(f"min_sim must be in [-1, 1], got {min_sim}")
    n = v.shape[0]
    norms = np.linalg.norm(v, axis=1)
    ok = norms > 0
    u = np.zeros_like(v)
    u[ok] = v[ok] / norms[ok, None]
    kk = min(k, n - 1)
    srcs, dsts, sims = [], [], []
    if kk <= 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        s = u[start:stop] @ u.T
        rows = np.arange(stop - start)
        s[rows, rows + start] = -np.inf
        s[:, ~ok] = -np.inf
        if kk < n - 1:
            part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
            kth = np.take_along_axis(s, part, axis=1).min(axis=1)
        else:
            kth = np.full(stop - start, -np.inf, dtype=s.dtype)
        for r in range(stop - start):
            if not ok[start + r]:
                continue
            row = s[r]
            c = np.flatnonzero((row >= max(kth[r], min_sim)) & (row > -np.inf))
            x = row[c]
            o = np.lexsort((c, -x))[:kk]
            srcs.append(np.full(o.size, start + r, dtype=np.int32))
            dsts.append(c[o].astype(np.int32))
            sims.append(x[o].astype(np.float32))
    if not srcs:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
    return np.concatenate(srcs), np.concatenate(dsts), np.concatenate(sims)


def unit_rows(vectors, block=65536):
    """float32 copies of the rows of ``vectors`` scaled to unit length (a zero row stays zero),
    ``block`` rows at a time, as gensim's ``get_vector(norm=True)``."""
    v = np.asarray(vectors)
    if v.ndim != 2:
        raise TextmineError(f"vectors must be a 2-d array, got shape {v.shape}")
    out = np.empty(v.shape, dtype=np.float32)
    for start in range(0, v.shape[0], block):
        b = np.asarray(v[start:start + block], dtype=np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", b, b, dtype=np.float64)).astype(np.float32)
        norms[norms == 0] = 1.0
        np.divide(b, norms[:, None], out=out[start:start + block])
    return out


METHODS = ("3cosadd", "3cosmul")


def most_similar_many(words, vectors, queries, k=10, method="3cosadd", cache_size=64):
    """The ``k`` nearest words of each query ``(positive, negative)`` (analogies such as
    ``king - man + woman``), as gensim's ``most_similar`` (3CosAdd) or ``most_similar_cosmul``
    (3CosMul).

    Parameters
    ----------
    words : list of str
        Vocabulary, one word per row of ``vectors``.
    vectors : ndarray, shape (V, D)
    queries : list of (list of str, list of str)
        Positive and negative words of each query; at least one positive. Every word must be in
        ``words`` (the first row of a repeated word is used).
    k : int
        Answers per query (fewer when the vocabulary is smaller).
    method : {"3cosadd", "3cosmul"}
        3CosAdd ranks by ``cos(x, m)`` with ``m`` the mean of the unit positive vectors and the
        negated unit negative ones; 3CosMul by ``∏ₚ c(x, p) / (∏ₙ c(x, n) + 1e-6)`` with
        ``c = (1 + cos) / 2``.
    cache_size : int
        3CosMul: the shifted cosines of up to this many query words are kept for the next
        queries (memory ``8 * cache_size * V`` bytes).

    Returns
    -------
    list of list of (str, float)
        Per query, best first, the query's own words left out; equal scores by vocabulary order.

    Notes
    -----
    Mikolov et al., "Linguistic Regularities in Continuous Space Word Representations", NAACL 2013
    (3CosAdd); Levy and Goldberg, "Linguistic Regularities in Sparse and Explicit Word
    Representations", CoNLL 2014, eq. 4 and footnote 7 (3CosMul with cosines shifted to [0, 1]).

    Examples
    --------
    >>> w = ["king", "queen", "man", "woman", "apple"]
    >>> v = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1], [1, -1, -1.0]])
    >>> [x for x, _ in most_similar_many(w, v, [(["king", "woman"], ["man"])], k=1)[0]]
    ['queen']
    """
    if method not in METHODS:
        raise TextmineError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    if k < 1:
        raise TextmineError(f"k must be >= 1, got {k}")
    index = {}
    for i, w in enumerate(words):
        index.setdefault(w, i)
    rows = []
    for positive, negative in queries:
        if not positive:
            raise TextmineError("a query needs at least one positive word")
        missing = [w for w in list(positive) + list(negative) if w not in index]
        if missing:
            raise TextmineError(f"{missing[0]!r} is not in the vocabulary ({len(words)} words)")
        rows.append(([index[w] for w in positive], [index[w] for w in negative]))
    unit = unit_rows(vectors)
    n = unit.shape[0]
    out = []
    # one matrix-vector product per query (3CosAdd) or per query word (3CosMul), never a product
    # over a batch of queries: BLAS rounds those differently, and a query's scores would depend on
    # the other queries of the file
    shifted = {}
    for p, q in rows:
        if method == "3cosadd":
            mean = unit[p].sum(axis=0, dtype=np.float64) - unit[q].sum(axis=0, dtype=np.float64)
            norm = np.linalg.norm(mean)
            s = (unit @ (mean / (norm if norm > 0 else 1.0)).astype(np.float32)).astype(np.float64)
        else:
            new = [i for i in dict.fromkeys(p + q) if i not in shifted]
            if len(shifted) + len(new) > cache_size:
                shifted = {i: shifted[i] for i in p + q if i in shifted}
            for i in new:
                shifted[i] = (1.0 + (unit @ unit[i]).astype(np.float64)) / 2.0
            s = np.prod([shifted[i] for i in p], axis=0)
            s = s / ((np.prod([shifted[i] for i in q], axis=0) if q else 1.0) + 0.000001)
        s[p + q] = -np.inf
        kk = min(k, n - len(set(p + q)))
        if kk <= 0:
            out.append([])
            continue
        if kk < n // 4:
            part = np.argpartition(-s, kk - 1)[:kk]
            kth = s[part].min()
            cand = np.flatnonzero(s >= kth)
        else:
            cand = np.arange(n)
        order = cand[np.lexsort((cand, -s[cand]))][:kk]
        out.append([(words[i], float(s[i])) for i in order])
    return out


class Query:
    """One line of a query file: ``positive`` and ``negative`` words, its ``line`` number, and
    ``text`` (the words joined by single spaces, negatives as ``-word``)."""

    __slots__ = ("positive", "negative", "line", "text")

    def __init__(self, positive, negative, line):
        self.positive, self.negative, self.line = positive, negative, line
        self.text = " ".join([("+" + w if w[:1] in "-+" else w) for w in positive] + ["-" + w for w in negative])


def parse_query(text, where="query"):
    """``(positive, negative)`` from whitespace-separated words; ``-word`` is negative and ``+word``
    positive (for a word that starts with ``-`` or ``+``). ``where`` names the line in errors.

    >>> parse_query("king woman -man")
    (['king', 'woman'], ['man'])
    """
    positive, negative = [], []
    for token in text.split():
        if token[0] in "-+" and len(token) > 1:
            (negative if token[0] == "-" else positive).append(token[1:])
        elif token in ("-", "+"):
            raise TextmineError(f"{where}: a lone {token!r}; write -WORD or +WORD without a space")
        else:
            positive.append(token)
    if not positive:
        raise TextmineError(f"{where}: a query needs at least one positive word (no leading -)")
    return positive, negative


def read_queries(path, encoding="utf-8"):
    """The queries of a file (``'-'``: standard input), one per non-blank line (:func:`parse_query`).

    Returns a list of :class:`Query`; raises :class:`TextmineError` naming ``FILE:LINE`` for a line
    without a positive word or a line that does not decode."""
    from textmine.corpus import display
    from textmine.evaluate import _open_text

    name = display(path)
    out = []
    with _open_text(path, encoding) as f:
        for lineno, line in enumerate(f, 1):
            if lineno == 1:
                line = line.lstrip("\ufeff")
            if line.strip():
                out.append(Query(*parse_query(line, f"{name}:{lineno}"), lineno))
    return out
