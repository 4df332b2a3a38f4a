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
