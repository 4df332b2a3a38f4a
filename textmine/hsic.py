"""Hilbert-Schmidt independence criterion (HSIC): statistics and independence tests.

Public API
----------
* :func:`hsic` -- the statistic alone (biased, Gretton-2005, unbiased or normalised estimator).
* :func:`hsic_test` -- statistic and p-value (gamma, permutation, chi-square, random Fourier
  features, block HSIC, the aggregated test over bandwidths of :mod:`textmine.hsic_agg` -- the
  default for single tests up to n = 500); returns an :class:`HsicResult`.
* :func:`fdr_adjust` -- Benjamini-Hochberg / Benjamini-Yekutieli q-values (``hsic_pairwise(fdr=)``).
* :func:`hsic_pairwise` -- all-pairs dependence over the columns of a table.
* :func:`median_bandwidth` -- the bandwidth rules (``median``, ``gretton``, ``hyppo``).
* :func:`read_table` -- TSV / CSV / ``.npy`` reader with ``file:line`` errors.

Every exact statistic costs O(n^2) time and memory: the Gram matrices are centred in place from
their row means (``K~_ij = K_ij - r_i - r_j + m``), never by the O(n^3) product ``HKH``.
The permutation test centres once and then permutes the index of the second matrix, so each
permutation is an O(n^2) sum -- or O(n r_x r_y) with low-rank factors of the centred matrices
(smooth kernels on low-dimensional data), with a rigorous error bound and a float64 recomputation
of every permutation within the bound of the observed value, so the p-value is the exact one;
permutations run in parallel, each with its own seeded random stream, so the p-value does not
depend on the number of threads.

Notes
-----
docs/algorithms.md section 5. Gretton, Bousquet, Smola & Schoelkopf, ALT 2005 (definition);
Gretton et al., NIPS 2007 / ``hsicTestGamma.m`` (gamma approximation); Song et al., JMLR 13,
2012, Theorem 2 (unbiased estimator); Shen, Panda & Vogelstein, "The chi-square test of distance
correlation", JCGS 2022 (hyppo's chi-square test); Zhang, Filippi, Gretton & Sejdinovic,
Stat. Comput. 28:113, 2018 (block HSIC and random Fourier features); Harbrecht, Peters &
Schneider, Appl. Numer. Math. 62, 2012 (pivoted Cholesky); Su Jianlin, post 6910.
"""
import dataclasses
import math
import os

import numpy as np

from textmine._numba import njit, prange, serial_and_parallel, set_num_threads
from textmine.errors import TextmineError

ESTIMATORS = ("biased", "unbiased", "gretton2005", "normalized")
METHODS = ("auto", "gamma", "permutation", "chi2", "rff", "block", "aggregated", "aggregated-inc")
BANDWIDTH_RULES = ("median", "gretton", "hyppo")
MISSING = ("error", "drop")
KERNELS = ("gaussian", "linear", "distance", "precomputed")
LARGE_N = 10_000            # method="auto" switches to the linear-time test from here
AGG_AUTO_MAX_N = 500        # method="auto" runs the aggregated test up to here (single tests, median rule)
MEDIAN_SUBSAMPLE = 1000     # rows used by the "median" rule (evenly strided) when n is larger
GRETTON_SUBSAMPLE = 100     # hsicTestGamma.m uses the first 100 rows
_CHUNK = 8192               # rows per chunk in the random-feature accumulation


# --------------------------------------------------------------------------- kernels (numba)

@njit
def sq_dist(x, i, j):
    """``||x_i - x_j||^2`` of two rows (the same floats in the same order for every kernel)."""
    d = 0.0
    for k in range(x.shape[1]):
        t = x[i, k] - x[j, k]
        d += t * t
    return d


def _gaussian_gram(x, inv_two_sigma2, out):
    """Gaussian Gram matrix ``out[i, j] = exp(-||x_i - x_j||^2 * inv_two_sigma2)``.

    Parameters
    ----------
    x : float64[n, p], C-contiguous
    inv_two_sigma2 : float
        ``1 / (2 sigma^2)``.
    out : float64[n, n]
        Written in full; exactly symmetric, with ones on the diagonal.

    Notes
    -----
    Each pair is computed once (``j >= i``) and written to both halves: ``(x_i - x_j)^2`` and
    ``(x_j - x_i)^2`` are the same floats, so this equals the entry-by-entry matrix.
    """
    n, p = x.shape
    for i in prange(n):
        for j in range(i, n):
            v = math.exp(-sq_dist(x, i, j) * inv_two_sigma2)
            out[i, j] = v
            out[j, i] = v


def _distance_gram(x, out):
    """Minus the Euclidean distance matrix, ``out[i, j] = -||x_i - x_j||``.

    Parameters
    ----------
    x : float64[n, p], C-contiguous
    out : float64[n, n]
        Written in full; exactly symmetric, zero diagonal.

    Notes
    -----
    The distance-induced kernel ``k(x, x') = ||x|| + ||x'|| - ||x - x'||`` differs from ``-D`` by
    terms constant along rows or columns, which H- and U-centring remove: the centred matrices,
    hence every estimator, are those of the kernel (ALGORITHMS-2.md section 2; Sejdinovic et al.,
    Ann. Stat. 41, 2013). The Gamma test's moments use only the difference of the mean diagonal
    and the mean off-diagonal entries, which is also the same.
    """
    n, p = x.shape
    for i in prange(n):
        for j in range(i, n):
            v = -math.sqrt(sq_dist(x, i, j))
            out[i, j] = v
            out[j, i] = v


@njit
def _pair_sqdists(x, out):
    """Condensed squared Euclidean distances ``||x_i - x_j||^2`` for ``i < j``.

    Parameters
    ----------
    x : float64[m, p]
    out : float64[m (m - 1) / 2]
        Row-major over the upper triangle (the order of ``scipy.spatial.distance.pdist``).
    """
    m, p = x.shape
    t = 0
    for i in range(m):
        for j in range(i + 1, m):
            out[t] = sq_dist(x, i, j)
            t += 1


def _centre(k, unbiased):
    """Centre a symmetric Gram matrix in place; return its row sums, total and trace.

    Parameters
    ----------
    k : float64[n, n]
        Symmetric; overwritten with ``H K H`` (``unbiased=False``) or with the U-centred matrix
        of Szekely & Rizzo (2014), zero diagonal (``unbiased=True``; needs n > 3).
    unbiased : bool

    Returns
    -------
    rows : float64[n]
        Row sums of the original matrix (diagonal included).
    total, trace : float
        Sum of all entries and of the diagonal of the original matrix.

    Notes
    -----
    O(n^2): ``K~_ij = K_ij - r_i - r_j + m`` with row means ``r`` and grand mean ``m``
    (docs/algorithms.md 5.1, "Cost"). U-centring: for ``i != j``,
    ``K_ij - R_i/(n-2) - R_j/(n-2) + S/((n-1)(n-2))`` with ``R``, ``S`` the row sums and total
    of ``K`` with its diagonal zeroed.
    """
    n = k.shape[0]
    rows = np.empty(n)
    diag = np.empty(n)
    for i in prange(n):
        s = 0.0
        for j in range(n):
            s += k[i, j]
        rows[i] = s
        diag[i] = k[i, i]
    total = 0.0
    trace = 0.0
    for i in range(n):
        total += rows[i]
        trace += diag[i]
    if unbiased:
        a = np.empty(n)
        for i in range(n):
            a[i] = (rows[i] - diag[i]) / (n - 2)
        c = (total - trace) / ((n - 1) * (n - 2))
        for i in prange(n):
            for j in range(n):
                if i == j:
                    k[i, j] = 0.0
                else:
                    k[i, j] = k[i, j] - a[i] - a[j] + c
    else:
        a = np.empty(n)
        for i in range(n):
            a[i] = rows[i] / n
        c = total / (n * n)
        for i in prange(n):
            for j in range(n):
                k[i, j] = k[i, j] - a[i] - a[j] + c
    return rows, total, trace


def _frob(a, b):
    """Frobenius inner product and the off-diagonal sum of squared products.

    Parameters
    ----------
    a, b : float64[n, n]

    Returns
    -------
    dot : float
        ``sum_ij a_ij b_ij``.
    sq_offdiag : float
        ``sum_{i != j} (a_ij b_ij)^2`` (the variance term of the gamma test).

    Notes
    -----
    Per-row partial sums in parallel, then a serial sum: the result does not depend on the
    number of threads.
    """
    n = a.shape[0]
    r1 = np.empty(n)
    r2 = np.empty(n)
    for i in prange(n):
        s1 = 0.0
        s2 = 0.0
        for j in range(n):
            t = a[i, j] * b[i, j]
            s1 += t
            if j != i:
                s2 += t * t
        r1[i] = s1
        r2[i] = s2
    dot = 0.0
    sq = 0.0
    for i in range(n):
        dot += r1[i]
        sq += r2[i]
    return dot, sq


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0


@njit
def _splitmix64(state):
    """One step of SplitMix64 (Steele, Lea & Flood 2014).

    Parameters
    ----------
    state : uint64

    Returns
    -------
    state, value : uint64, uint64
    """
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return state, z ^ (z >> _S31)


@njit
def _stream_state(seed, stream):
    """Initial uint64 state of random stream ``stream`` (a permutation index) under ``seed``."""
    s = np.uint64(seed)
    s, z1 = _splitmix64(s)
    s2 = z1 ^ (np.uint64(stream) * _MIX2)
    s2, z2 = _splitmix64(s2)
    return z2


@njit
def _permutation(n, state, perm):
    """Fisher-Yates shuffle of ``perm = 0..n-1`` driven by SplitMix64.

    Parameters
    ----------
    n : int
    state : uint64
    perm : int64[n]
        Overwritten with the permutation.

    Returns
    -------
    state : uint64
        The advanced state.
    """
    st = np.uint64(state)
    for i in range(n):
        perm[i] = i
    for i in range(n - 1, 0, -1):
        st, z = _splitmix64(st)
        u = float(z >> _S11) * _TWO_M53
        j = int(u * (i + 1))
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
    return st


@njit
def _permuted_dot(a, b, perm):
    """``sum_ij a_ij b_{perm[i], perm[j]}`` for symmetric ``a`` and ``b`` (upper triangle, doubled).

    Parameters
    ----------
    a, b : float64[n, n], symmetric
    perm : int64[n]

    Notes
    -----
    Four interleaved accumulators per row break the floating-point add chain; the order of
    the sum is fixed, so the result is deterministic.
    """
    n = a.shape[0]
    diag = 0.0
    off = 0.0
    for i in range(n):
        pi = perm[i]
        arow = a[i]
        brow = b[pi]
        diag += arow[i] * brow[pi]
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        j = i + 1
        while j + 3 < n:
            s0 += arow[j] * brow[perm[j]]
            s1 += arow[j + 1] * brow[perm[j + 1]]
            s2 += arow[j + 2] * brow[perm[j + 2]]
            s3 += arow[j + 3] * brow[perm[j + 3]]
            j += 4
        while j < n:
            s0 += arow[j] * brow[perm[j]]
            j += 1
        off += (s0 + s1) + (s2 + s3)
    return diag + 2.0 * off


def _permutation_null(a, b, seed, out):
    """Permutation null of ``T(pi) = sum_ij a_ij b_{pi(i) pi(j)}``.

    Parameters
    ----------
    a, b : float64[n, n] or float32[n, n]
        Symmetric centred Gram matrices (centred once, before the permutations); sums are float64.
    seed : int
        Non-negative; permutation ``t`` uses its own stream ``_stream_state(seed, t)``, so the
        result does not depend on the number of threads.
    out : float64[B]
        Receives ``T(pi_t)`` for ``t = 0..B-1``.

    Notes
    -----
    docs/algorithms.md 5.3: centre once, permute the y index, O(n^2) per permutation.
    """
    n = a.shape[0]
    for t in prange(out.shape[0]):
        perm = np.empty(n, dtype=np.int64)
        _permutation(n, _stream_state(seed, t), perm)
        out[t] = _permuted_dot(a, b, perm)


@njit
def _permutation_null_at(a, b, seed, idx, out):
    """``T(pi_t)`` for the permutations ``t`` in ``idx`` only (serial; see :func:`_permutation_null`).

    Parameters
    ----------
    a, b : float64[n, n]
    seed : int
    idx : int64[m]
    out : float64[m]
    """
    n = a.shape[0]
    perm = np.empty(n, dtype=np.int64)
    for k in range(idx.shape[0]):
        _permutation(n, _stream_state(seed, idx[k]), perm)
        out[k] = _permuted_dot(a, b, perm)


def _lowrank_null(gat, gb, seed, idx, out):
    """Low-rank null ``T_r(pi_t) = ||Ga^T Gb[pi_t]||_F^2`` for the permutations ``t`` in ``idx``.

    Parameters
    ----------
    gat : float64[ra, n]
        Transposed factor of ``A_r = Ga Ga^T``.
    gb : float64[n, rb]
        Factor of ``B_r = Gb Gb^T``.
    seed : int
        As in :func:`_permutation_null` (the same permutations).
    idx : int64[m]
        Permutation numbers ``t``.
    out : float64[m]
        Receives ``sum_ij (A_r)_ij (B_r)_{pi_t(i) pi_t(j)}`` for each ``t`` in ``idx``.

    Notes
    -----
    ``tr(A_r P B_r P^T) = ||Ga^T P Gb||_F^2``: O(n ra rb) per permutation on contiguous rows
    instead of O(n^2) gathered reads. The rows of ``Gb`` are gathered once per permutation into
    a transposed buffer, so every entry of ``Ga^T P Gb`` is a dot product of two contiguous
    vectors, computed two by two (fastmath build: SIMD lanes). Each permutation is summed by the
    same code whatever the threads; the caller's error bound covers any summation order.
    """
    ra, n = gat.shape
    rb = gb.shape[1]
    rb2 = rb + (rb & 1)
    for k in prange(idx.shape[0]):
        perm = np.empty(n, dtype=np.int64)
        _permutation(n, _stream_state(seed, idx[k]), perm)
        hpt = np.zeros((rb2, n))        # an odd last column is paired with a zero column
        for i in range(n):
            src = gb[perm[i]]
            for c in range(rb):
                hpt[c, i] = src[c]
        s = 0.0
        for r in range(0, ra, 2):
            r1 = min(r + 1, ra - 1)     # an odd last row is paired with itself, counted once
            w = 1.0 if r1 != r else 0.0
            g0 = gat[r]
            g1 = gat[r1]
            for c in range(0, rb2, 2):
                h0 = hpt[c]
                h1 = hpt[c + 1]
                d00 = 0.0
                d01 = 0.0
                d10 = 0.0
                d11 = 0.0
                for i in range(n):
                    d00 += g0[i] * h0[i]
                    d01 += g0[i] * h1[i]
                    d10 += g1[i] * h0[i]
                    d11 += g1[i] * h1[i]
                s += (d00 * d00 + d01 * d01) + w * (d10 * d10 + d11 * d11)
        out[k] = s


def _residual_norms(a, gt, rows):
    """Per-row squared norms of ``A - G G^T`` and of ``G G^T``.

    Parameters
    ----------
    a : float64[n, n]
    gt : float64[r, n]
        The transposed factor ``G^T``.
    rows : float64[n, 2]
        Receives ``sum_j (a_ij - (G G^T)_ij)^2`` and ``sum_j (G G^T)_ij^2`` of each row ``i``;
        the caller sums them serially, so the totals do not depend on the threads.
    """
    r, n = gt.shape
    for i in prange(n):
        low = np.zeros(n)
        for k in range(r):
            u = gt[k, i]
            g = gt[k]
            for j in range(n):
                low[j] += u * g[j]
        s_res = 0.0
        s_low = 0.0
        for j in range(n):
            e = a[i, j] - low[j]
            s_res += e * e
            s_low += low[j] * low[j]
        rows[i, 0] = s_res
        rows[i, 1] = s_low


def _block_hsic(x, y, gx, gy, block, out):
    """Unbiased HSIC of each block of ``block`` consecutive rows.

    Parameters
    ----------
    x : float64[n, p]
    y : float64[n, q]
    gx, gy : float
        ``1 / (2 sigma^2)`` of a Gaussian kernel, or a negative number for the linear kernel.
    block : int
        Block size B >= 4; ``out.shape[0] * block <= n`` rows are used.
    out : float64[n_blocks]
        Song et al.'s unbiased HSIC of each block.

    Notes
    -----
    Block HSIC (Zhang, Filippi, Gretton & Sejdinovic, Stat. Comput. 2018); O(n B).
    """
    for t in prange(out.shape[0]):
        o = t * block
        k = np.empty((block, block))
        l = np.empty((block, block))
        for i in range(block):
            for j in range(block):
                if i == j:
                    k[i, j] = 0.0
                    l[i, j] = 0.0
                    continue
                k[i, j] = _kernel_value(x, o + i, o + j, gx)
                l[i, j] = _kernel_value(y, o + i, o + j, gy)
        out[t] = _song_unbiased(k, l)


@njit(inline="always")
def _kernel_value(x, a, b, g):
    """Kernel of rows ``a`` and ``b`` of ``x``: the dot product when ``g < 0`` (linear), else
    ``exp(-g ||x_a - x_b||^2)`` (Gaussian with ``g = 1 / (2 sigma^2)``)."""
    d = 0.0
    for c in range(x.shape[1]):
        if g < 0:
            d += x[a, c] * x[b, c]
        else:
            u = x[a, c] - x[b, c]
            d += u * u
    return d if g < 0 else math.exp(-d * g)


@njit
def _song_unbiased(k, l):
    """Song et al. (2012) unbiased HSIC of Gram matrices with zeroed diagonals.

    Parameters
    ----------
    k, l : float64[n, n]
        Symmetric, zero diagonal, n > 3.
    """
    n = k.shape[0]
    tr = 0.0
    sk = 0.0
    sl = 0.0
    cross = 0.0
    for i in range(n):
        rk = 0.0
        rl = 0.0
        for j in range(n):
            tr += k[i, j] * l[i, j]
            rk += k[i, j]
            rl += l[i, j]
        sk += rk
        sl += rl
        cross += rk * rl
    return (tr + sk * sl / ((n - 1) * (n - 2)) - 2.0 * cross / (n - 2)) / (n * (n - 3))


@njit
def _feature_rows(a, w, b, lo, hi, out):
    """Feature rows ``lo..hi-1`` of one variable into ``out[:hi-lo]``.

    Parameters
    ----------
    a : float64[n, p]
    w : float64[p, D]
        Random frequencies (``omega``); with ``D == 0`` the features are the data (linear kernel).
    b : float64[D]
        Random phases.
    lo, hi : int
    out : float64[rows, D or p]

    Notes
    -----
    ``phi(x) = sqrt(2/D) cos(omega^T x + b)`` (Rahimi & Recht 2007), docs/algorithms.md 5.4.
    """
    p = a.shape[1]
    d = w.shape[1]
    if d == 0:
        for r in range(hi - lo):
            for c in range(p):
                out[r, c] = a[lo + r, c]
        return
    norm = math.sqrt(2.0 / d)
    for r in range(hi - lo):
        for f in range(d):
            z = b[f]
            for c in range(p):
                z += a[lo + r, c] * w[c, f]
            out[r, f] = norm * math.cos(z)


def _feature_moments(x, wx, bx, y, wy, by, chunk, mx, my, cxy, cxx, cyy):
    """Per-chunk sums of the features and of their outer products.

    Parameters
    ----------
    x : float64[n, p]; y : float64[n, q]
    wx, bx, wy, by
        Random Fourier frequencies and phases (see :func:`_feature_rows`).
    chunk : int
        Rows per chunk; chunk ``t`` covers rows ``t*chunk .. (t+1)*chunk - 1``.
    mx : float64[n_chunks, Dx]; my : float64[n_chunks, Dy]
        Receive the feature sums of each chunk.
    cxy : float64[n_chunks, Dx, Dy]; cxx : float64[n_chunks, Dx, Dx]; cyy : float64[n_chunks, Dy, Dy]
        Receive ``sum_r phi_x phi_y^T`` etc. of each chunk (cxx, cyy: upper triangle only).

    Notes
    -----
    Each chunk is summed in a fixed order and owns its output slices, so the caller's serial sum
    over chunks gives the same result for any number of threads. O(n (Dx + Dy)^2).
    """
    n = x.shape[0]
    dx = mx.shape[1]
    dy = my.shape[1]
    for t in prange(mx.shape[0]):
        lo = t * chunk
        hi = min(n, lo + chunk)
        fx = np.empty((hi - lo, dx))
        fy = np.empty((hi - lo, dy))
        _feature_rows(x, wx, bx, lo, hi, fx)
        _feature_rows(y, wy, by, lo, hi, fy)
        _outer_sums(fx, fy, mx[t], my[t], cxy[t], cxx[t], cyy[t])


@njit
def _outer_sums(fx, fy, sx, sy, axy, axx, ayy):
    """Add the column sums and the outer-product sums of one chunk of features.

    Parameters
    ----------
    fx : float64[m, Dx]; fy : float64[m, Dy]
    sx : float64[Dx]; sy : float64[Dy]
        Column sums, added to.
    axy : float64[Dx, Dy]; axx : float64[Dx, Dx]; ayy : float64[Dy, Dy]
        ``fx^T fy``, ``fx^T fx`` and ``fy^T fy`` (the last two: upper triangle only), added to.

    Notes
    -----
    Rows are taken four at a time, so each accumulator entry is loaded and stored once per four
    rows; the inner loops run over contiguous memory and vectorise without reassociation.
    """
    m = fx.shape[0]
    dx = fx.shape[1]
    dy = fy.shape[1]
    r = 0
    while r < m:
        k = min(4, m - r)
        x0 = fx[r]
        y0 = fy[r]
        x1 = fx[r + 1] if k > 1 else x0
        y1 = fy[r + 1] if k > 1 else y0
        x2 = fx[r + 2] if k > 2 else x0
        y2 = fy[r + 2] if k > 2 else y0
        x3 = fx[r + 3] if k > 3 else x0
        y3 = fy[r + 3] if k > 3 else y0
        w1 = 1.0 if k > 1 else 0.0
        w2 = 1.0 if k > 2 else 0.0
        w3 = 1.0 if k > 3 else 0.0
        for a in range(dx):
            u0 = x0[a]
            u1 = w1 * x1[a]
            u2 = w2 * x2[a]
            u3 = w3 * x3[a]
            sx[a] += ((u0 + u1) + u2) + u3
            row = axy[a]
            for c in range(dy):
                row[c] += ((u0 * y0[c] + u1 * y1[c]) + u2 * y2[c]) + u3 * y3[c]
            row = axx[a]
            for c in range(a, dx):
                row[c] += ((u0 * x0[c] + u1 * x1[c]) + u2 * x2[c]) + u3 * x3[c]
        for a in range(dy):
            u0 = y0[a]
            u1 = w1 * y1[a]
            u2 = w2 * y2[a]
            u3 = w3 * y3[a]
            sy[a] += ((u0 + u1) + u2) + u3
            row = ayy[a]
            for c in range(a, dy):
                row[c] += ((u0 * y0[c] + u1 * y1[c]) + u2 * y2[c]) + u3 * y3[c]
        r += k


# Both builds of every parallel kernel, made once at import; the driver picks one (see _build).
# Serial: prange runs as range. Small inputs run serially because waking threads costs more than
# the work, especially on a loaded machine; the result is the same either way.
_KERNELS = {f.__name__: serial_and_parallel(f)[::-1]
            for f in (_gaussian_gram, _distance_gram, _centre, _frob, _permutation_null, _residual_norms, _block_hsic,
                      _feature_moments)}
_KERNELS["_lowrank_null"] = serial_and_parallel(_lowrank_null, fast=True)[::-1]
PARALLEL_WORK = 2_000_000   # estimated inner-loop steps from which the parallel build is used


def _build(name, work):
    """The parallel build of kernel ``name`` when ``work`` is large and more than one thread is set."""
    import numba
    par, ser = _KERNELS[name]
    return par if work >= PARALLEL_WORK and numba.get_num_threads() > 1 else ser


# --------------------------------------------------------------------------- special functions

def _gamma_sf(x, shape, scale):
    """Survival function of the gamma distribution, ``1 - F(x; shape, scale)``.

    Regularised upper incomplete gamma ``Q(a, x/scale)``: series for ``x < a + 1``, modified
    Lentz continued fraction otherwise (Numerical Recipes, section 6.2), in log space so that
    p-values down to 1e-300 keep their digits.
    """
    a = float(shape)
    z = float(x) / float(scale)
    if not (a > 0 and math.isfinite(a)) or not math.isfinite(z):
        return float("nan")
    if z <= 0:
        return 1.0
    log_front = -z + a * math.log(z) - math.lgamma(a)
    if z < a + 1:
        ap = a
        term = total = 1.0 / a
        for _ in range(1_000_000):
            ap += 1.0
            term *= z / ap
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        return max(0.0, 1.0 - math.exp(log_front) * total)
    tiny = 1e-300
    b = z + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 1_000_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return min(1.0, math.exp(log_front + math.log(h)))


def _chi2_1_sf(x):
    """Survival function of chi-square with one degree of freedom."""
    return 1.0 if x <= 0 else math.erfc(math.sqrt(x / 2.0))


def _normal_sf(z):
    """Survival function of the standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


# --------------------------------------------------------------------------- input checks

def _as_data(a, name, allow_nan=False):
    a = np.asarray(a)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TextmineError(f"{name} must be numeric, got dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise TextmineError(f"{name} must be an n x p matrix (or a vector), got {a.ndim} dimensions")
    if a.shape[1] == 0:
        raise TextmineError(f"{name} has no columns")
    bad = np.isinf(a) if allow_nan else ~np.isfinite(a)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise TextmineError(f"{name} has a non-finite value ({a[i, j]}) at row {i + 1}, column {j + 1}; "
                            "drop or impute missing values first (missing=\"drop\" drops rows with NaN)")
    return a


def _is_text(a):
    """True for arrays of labels -- strings, bytes, or objects other than numbers and None --
    which are categorical."""
    a = np.asarray(a)
    if a.dtype.kind in "US":
        return True
    if a.dtype.kind != "O":
        return False
    return any(not (v is None or (isinstance(v, (int, float, np.number)) and not isinstance(v, bool)))
               for v in a.ravel())


def encode_labels(a, name="x"):
    """Integer codes of a categorical variable, for the delta kernel.

    Parameters
    ----------
    a : array (n,) or (n, 1)
        Labels: strings, numbers or any hashable objects. Missing labels -- None, NaN and the
        strings ``""``, ``NA``, ``NaN``, ``N/A``, ``null``, ``none`` (any case, surrounding space
        ignored) -- are NaN codes, so ``missing="drop"`` drops them (a missing cell is not a level).
    name : str
        Used in error messages.

    Returns
    -------
    codes : float64[n, 1]
        ``0 .. L-1`` in the order of the sorted distinct labels (by their text), NaN where missing.
    levels : list of str
        The label of each code.

    Examples
    --------
    >>> c, lv = encode_labels(["b", "a", "NA", "b"])
    >>> c.ravel().tolist(), lv
    ([1.0, 0.0, nan, 1.0], ['a', 'b'])
    """
    a = np.asarray(a, dtype=object)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise TextmineError(f"categorical {name} must be one column of labels, got shape {a.shape}")
    keys = []
    for v in a:
        if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
            keys.append(None)
            continue
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)                    # 1.0 and 1 are the same level
        k = str(v).strip()
        keys.append(None if k.lower() in _NA_CELLS else k)
    levels = sorted({k for k in keys if k is not None})
    index = {k: i for i, k in enumerate(levels)}
    codes = np.array([math.nan if k is None else float(index[k]) for k in keys], dtype=np.float64)
    return codes.reshape(-1, 1), levels


def _categorical_flags(categorical, x, y):
    """(cat_x, cat_y) from the ``categorical`` argument; label (text) arrays are always categorical."""
    if categorical is None:
        flags = (False, False)
    elif isinstance(categorical, str):
        if categorical not in ("x", "y", "both"):
            raise TextmineError(f"categorical must be 'x', 'y', 'both' or a pair of booleans, got {categorical!r}")
        flags = (categorical in ("x", "both"), categorical in ("y", "both"))
    else:
        try:
            cx, cy = categorical
        except (TypeError, ValueError):
            raise TextmineError(f"categorical must be 'x', 'y', 'both' or a pair of booleans, got "
                                f"{categorical!r}") from None
        flags = (bool(cx), bool(cy))
    return flags[0] or _is_text(x), flags[1] or _is_text(y)


def _check_levels(codes, name):
    """A categorical variable needs two levels among the rows used."""
    c = codes[:, 0]
    if c.size and np.all(c == c[0]):
        raise TextmineError(f"categorical {name} has one level among the {c.size} rows used: the delta kernel "
                            "matrix is constant and HSIC is 0 whatever the other variable; drop it")


def _drop_missing(x, y, missing, names=("x", "y")):
    """Rows of x and y without NaN, and how many were dropped (``missing="drop"``).

    With ``missing="error"`` the arrays pass unchanged (the checks that follow reject NaN).
    """
    if missing not in MISSING:
        raise TextmineError(f"unknown missing-value policy {missing!r}; choose one of {', '.join(MISSING)}")
    if missing == "error":
        return x, y, 0
    x = _as_data(x, names[0], allow_nan=True)
    y = _as_data(y, names[1], allow_nan=True)
    if x.shape[0] != y.shape[0]:
        raise TextmineError(f"{names[0]} has {x.shape[0]} rows but {names[1]} has {y.shape[0]}; "
                            "the samples must be paired row by row")
    keep = ~(np.isnan(x).any(axis=1) | np.isnan(y).any(axis=1))
    k = int(keep.size - np.count_nonzero(keep))
    if keep.sum() < 4:
        raise TextmineError(f"{names[0]} and {names[1]}: {int(keep.sum())} complete rows after dropping {k} with "
                            "missing values; HSIC needs at least 4")
    if k:
        x, y = np.ascontiguousarray(x[keep]), np.ascontiguousarray(y[keep])
    return x, y, k


def _check_pair(x, y, kernel):
    if kernel not in KERNELS:
        raise TextmineError(f"unknown kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
    x = _as_data(x, "x")
    y = _as_data(y, "y")
    if x.shape[0] != y.shape[0]:
        raise TextmineError(f"x has {x.shape[0]} rows but y has {y.shape[0]}; the samples must be paired row by row")
    n = x.shape[0]
    if n < 4:
        raise TextmineError(f"HSIC needs at least 4 samples (the unbiased estimator divides by n(n-3)), got {n}")
    if kernel == "precomputed":
        for a, name in ((x, "x"), (y, "y")):
            if a.shape[0] != a.shape[1]:
                raise TextmineError(f"precomputed kernel {name} must be square n x n, got {a.shape[0]} x {a.shape[1]}")
            if not np.allclose(a, a.T, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(a).max()))):
                raise TextmineError(f"precomputed kernel {name} is not symmetric")
    return x, y


def _estimator(estimator):
    if estimator not in ESTIMATORS:
        raise TextmineError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
    return estimator


# --------------------------------------------------------------------------- bandwidths

def _subsample(a, m):
    n = a.shape[0]
    if n <= m:
        return a
    idx = np.linspace(0, n - 1, m).round().astype(np.int64)
    return np.ascontiguousarray(a[idx])


def _sqdists(a):
    m = a.shape[0]
    out = np.empty(m * (m - 1) // 2)
    _pair_sqdists(np.ascontiguousarray(a, dtype=np.float64), out)
    return out


def median_bandwidth(a, rule="median", name="x"):
    """Gaussian bandwidth sigma of one variable by a median rule.

    Parameters
    ----------
    a : array (n,) or (n, p)
    rule : {"median", "gretton", "hyppo"}
        ``median`` (textmine's default): the median Euclidean distance over the pairs ``i < j``
        (over an evenly strided subsample of 1000 rows when n is larger; positive distances
        only if more than half the pairs are ties). ``gretton``: ``sqrt(0.5 median d^2)`` over the
        positive squared distances among the first 100 rows (``hsicTestGamma.m``). ``hyppo``: the
        median of all off-diagonal distances, 1 when that is 0 (``hyppo.tools.compute_kern``;
        hyppo uses x's value for y as well, see :func:`hsic`).
    name : str
        Used in error messages.

    Returns
    -------
    float

    Notes
    -----
    docs/algorithms.md 5.2. The kernel is ``exp(-||x - x'||^2 / (2 sigma^2))``.

    Examples
    --------
    >>> median_bandwidth([0.0, 1.0, 3.0])
    2.0
    """
    a = _as_data(a, name)
    if rule == "hyppo":
        d = np.sqrt(_sqdists(a))
        med = float(np.median(d)) if d.size else 0.0
        return med if med else 1.0
    if rule == "gretton":
        d2 = _sqdists(a[:GRETTON_SUBSAMPLE])
        d2 = d2[d2 > 0]
        if not d2.size:
            raise TextmineError(_constant_msg(name))
        return math.sqrt(0.5 * float(np.median(d2)))
    if rule != "median":
        raise TextmineError(f"unknown bandwidth rule {rule!r}; choose one of {', '.join(BANDWIDTH_RULES)} "
                            "or give a number")
    d = np.sqrt(_sqdists(_subsample(a, MEDIAN_SUBSAMPLE)))
    med = float(np.median(d)) if d.size else 0.0
    if med == 0.0:
        d = d[d > 0]
        if not d.size:
            raise TextmineError(_constant_msg(name))
        med = float(np.median(d))
    return med


def _constant_msg(name):
    return (f"{name} is constant (all rows equal): the median bandwidth is zero and HSIC is 0 "
            "whatever the other variable; drop it")


def _bandwidths(x, y, kernel, bandwidth, names=("x", "y")):
    """Resolve ``bandwidth`` (rule or numbers) into (sigma_x, sigma_y); None for non-Gaussian kernels.

    ``kernel`` is one kernel name or a pair (x's, y's; a categorical variable's is ``"delta"``).
    """
    kx, ky = (kernel, kernel) if isinstance(kernel, str) else kernel
    gx, gy = kx == "gaussian", ky == "gaussian"
    if not (gx or gy):
        return None, None
    if isinstance(bandwidth, str):
        if bandwidth == "hyppo":
            s = median_bandwidth(x if gx else y, "hyppo", names[0] if gx else names[1])
            for a, nm, g in ((x, names[0], gx), (y, names[1], gy)):
                if g and np.all(a == a[0]):
                    raise TextmineError(_constant_msg(nm))
            return (s if gx else None), (s if gy else None)
        return (median_bandwidth(x, bandwidth, names[0]) if gx else None,
                median_bandwidth(y, bandwidth, names[1]) if gy else None)
    if np.ndim(bandwidth) == 0:
        sx = sy = bandwidth
    else:
        if len(bandwidth) != 2:
            raise TextmineError("bandwidth must be a rule, one number or a pair (sigma_x, sigma_y)")
        sx, sy = bandwidth
    sx, sy = float(sx), float(sy)
    if not (sx > 0 and sy > 0 and math.isfinite(sx) and math.isfinite(sy)):
        raise TextmineError(f"bandwidths must be positive and finite, got {sx}, {sy}")
    return (sx if gx else None), (sy if gy else None)


# --------------------------------------------------------------------------- exact path

@dataclasses.dataclass
class _Gram:
    """A centred Gram matrix and the moments of the uncentred one."""
    c: np.ndarray          # centred (H or U) matrix
    mu: float              # mean off-diagonal entry of the uncentred matrix
    diag: float            # mean diagonal entry of the uncentred matrix
    unbiased: bool


def _gram(a, kernel, sigma, unbiased):
    n = a.shape[0]
    if kernel == "precomputed":
        k = np.array(a, dtype=np.float64, order="C", copy=True)
    elif kernel == "delta":
        k = _delta_gram(a)
    elif kernel == "distance":
        k = np.empty((n, n))
        _build("_distance_gram", n * n * (a.shape[1] + 8))(a, k)
    elif kernel == "linear":
        k = np.ascontiguousarray(a @ a.T)
        k = 0.5 * (k + k.T)    # exactly symmetric
    else:
        k = np.empty((n, n))
        _build("_gaussian_gram", n * n * (a.shape[1] + 8))(a, 1.0 / (2.0 * sigma * sigma), k)
    rows, total, trace = _build("_centre", 2 * n * n)(k, unbiased)
    return _Gram(k, (total - trace) / (n * (n - 1)), trace / n, unbiased)


def _delta_gram(codes):
    """Delta kernel matrix of a categorical variable, ``K_ij = 1`` if ``codes_i == codes_j`` else 0."""
    c = codes[:, 0]
    return np.ascontiguousarray(c[:, None] == c[None, :], dtype=np.float64)


def _one_hot(codes):
    """Indicator columns of the levels present: the delta kernel is the linear kernel on them."""
    _, inv = np.unique(codes[:, 0], return_inverse=True)
    out = np.zeros((codes.shape[0], int(inv.max()) + 1))
    out[np.arange(codes.shape[0]), inv.ravel()] = 1.0
    return out


def _frob_any(a, b):
    """:func:`_frob` with the build chosen by size."""
    return _build("_frob", a.size)(a, b)


def _scale(estimator, n, gx, gy):
    """Map the raw inner product of the centred matrices to the estimator's statistic."""
    if estimator == "biased":
        return 1.0 / (n * n)
    if estimator == "gretton2005":
        return 1.0 / ((n - 1) * (n - 1))
    if estimator == "unbiased":
        return 1.0 / (n * (n - 3))
    vx = _frob_any(gx.c, gx.c)[0]
    vy = _frob_any(gy.c, gy.c)[0]
    if vx <= 0 or vy <= 0:
        return 0.0
    return 1.0 / math.sqrt(vx * vy)


@dataclasses.dataclass
class HsicResult:
    """Result of :func:`hsic_test`.

    Attributes
    ----------
    statistic : float
        The estimator's value (for ``rff`` the biased HSIC of the approximate kernel, for
        ``block`` the mean unbiased HSIC over blocks).
    pvalue : float
    estimator, method : str
    bandwidth_x, bandwidth_y : float or None
        Gaussian sigma of each variable (None for linear or precomputed kernels).
    n : int
    n_permutations : int or None
        Permutations (``permutation``), random features per variable (``rff``) or the block
        size (``block``); None for the analytic tests.
    seed : int or None
        Seed of the random method, None for the analytic ones.
    null : ndarray or None
        Null statistics of the permutation test, when asked for.
    kernels : list of KernelPair or None
        The aggregated test's bandwidth pairs (see :mod:`textmine.hsic_agg`).
    alpha : float or None
        The level at which the aggregated test's pairs are marked ``rejected``.
    qvalue : float or None
        FDR-adjusted p-value (pairwise runs with an FDR method).
    dropped : int or None
        Rows left out for missing values (``missing="drop"``); ``n`` counts the rows used.
    """
    statistic: float
    pvalue: float
    estimator: str
    method: str
    bandwidth_x: object
    bandwidth_y: object
    n: int
    n_permutations: object = None
    seed: object = None
    null: object = dataclasses.field(default=None, repr=False)
    kernels: object = dataclasses.field(default=None, repr=False)
    alpha: object = None
    qvalue: object = None
    dropped: object = None

    def to_dict(self):
        """The result as a JSON-ready dict (without the null sample; the aggregated test's
        ``kernels`` and ``alpha`` and the ``qvalue`` only when set)."""
        d = dataclasses.asdict(self)
        d.pop("null")
        d["permutations"] = d.pop("n_permutations")
        for k in ("kernels", "alpha", "qvalue", "dropped"):
            if d[k] is None:
                d.pop(k)
        return d


def hsic(x, y, kernel="gaussian", bandwidth="median", estimator="biased", categorical=None):
    """HSIC statistic of paired samples, in O(n^2) time and memory.

    Parameters
    ----------
    x : array (n,) or (n, p)
    y : array (n,) or (n, q)
        With ``kernel="precomputed"``, x and y are n x n kernel matrices.
    kernel : {"gaussian", "linear", "distance", "precomputed"}
        ``distance``: the distance-induced kernel ``||x|| + ||x'|| - ||x - x'||``, for which
        ``biased`` is the distance covariance ``V_n^2`` (``dcor.distance_covariance_sqr``),
        ``unbiased`` its bias-corrected form and ``normalized`` the bias-corrected distance
        correlation (``dcor.u_distance_correlation_sqr``); for 1-D x and y it is computed in
        O(n log n) time and O(n) memory (:mod:`textmine.dcor`).
    bandwidth : {"median", "gretton", "hyppo"}, float or (float, float)
        Gaussian sigma: a rule applied to each variable (see :func:`median_bandwidth`; ``hyppo``
        reuses x's sigma for y, as hyppo does), one sigma for both, or a pair. Ignored by the
        other kernels.
    estimator : {"biased", "unbiased", "gretton2005", "normalized"}
        ``biased``: V-statistic ``tr(KHLH)/n^2``; ``gretton2005``: ``tr(KHLH)/(n-1)^2`` (post
        6910's estimator, still O(1/n)-biased); ``unbiased``: Song et al. (2012), may be negative;
        ``normalized``: ``HSIC_u(K,L) / sqrt(HSIC_u(K,K) HSIC_u(L,L))``, 0 when a variance is
        not positive -- hyppo's ``Hsic`` statistic (see Notes).
    categorical : {None, "x", "y", "both"} or (bool, bool)
        Variables that are labels, compared by the delta kernel ``k(a, b) = 1 if a == b else 0``
        (:func:`encode_labels`); arrays of strings or objects are always categorical. ``kernel``
        is then the other variable's.

    Returns
    -------
    float

    Notes
    -----
    docs/algorithms.md 5.1. hyppo 0.5.2 computes the unbiased distance correlation of
    ``D = 1 - K/max K``; U-centring removes the constant, so that equals the ``normalized``
    estimator with hyppo's shared bandwidth (``bandwidth="hyppo"``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> round(hsic(x, x + 0.1 * rng.normal(size=200), estimator="normalized"), 2)
    0.98
    """
    x, y, kernels = _prepare_categorical(x, y, kernel, categorical)
    x, y = _check_pair(x, y, kernel)
    _check_categorical(x, y, kernels)
    estimator = _estimator(estimator)
    if _fast_distance(x, y, kernels):
        return _distance_1d(x, y, estimator)
    sx, sy = _bandwidths(x, y, kernels, bandwidth)
    unb = estimator in ("unbiased", "normalized")
    gx = _gram(x, kernels[0], sx, unb)
    gy = _gram(y, kernels[1], sy, unb)
    return _scale(estimator, x.shape[0], gx, gy) * _frob_any(gx.c, gy.c)[0]


def _prepare_categorical(x, y, kernel, categorical):
    """Encode the categorical variables as codes; return (x, y, (kernel_x, kernel_y))."""
    cat = _categorical_flags(categorical, x, y)
    if any(cat) and kernel == "precomputed":
        raise TextmineError("a categorical variable needs its labels, not a precomputed kernel matrix")
    if cat[0]:
        x = encode_labels(x, "x")[0]
    if cat[1]:
        y = encode_labels(y, "y")[0]
    return x, y, ("delta" if cat[0] else kernel, "delta" if cat[1] else kernel)


def _check_categorical(x, y, kernels, names=("x", "y")):
    for a, k, nm in ((x, kernels[0], names[0]), (y, kernels[1], names[1])):
        if k == "delta":
            _check_levels(a, nm)


def _fast_distance(x, y, kernel):
    """True when the O(n log n) 1-D distance covariance applies (``kernel``: a name or a pair)."""
    kx, ky = (kernel, kernel) if isinstance(kernel, str) else kernel
    return kx == ky == "distance" and x.shape[1] == 1 and y.shape[1] == 1


def _distance_1d(x, y, estimator):
    """Estimator of the distance kernel for 1-D x and y in O(n log n) (:mod:`textmine.dcor`)."""
    from textmine.dcor import distance_covariance_1d
    n = x.shape[0]
    if estimator == "gretton2005":
        return distance_covariance_1d(x[:, 0], y[:, 0], "biased") * n * n / ((n - 1) * (n - 1))
    return distance_covariance_1d(x[:, 0], y[:, 0], estimator)


def _gamma_pvalue(gx, gy, dot, sq, n):
    """Gretton's gamma approximation of the null of ``n HSIC_b`` (``hsicTestGamma.m``).

    The mean is written for any kernel, ``(dk - mu_x)(dl - mu_y)/n`` with ``dk``, ``dl`` the mean
    diagonal entries; with unit diagonals (Gaussian) it is Gretton's ``(1 + mu_x mu_y - mu_x - mu_y)/n``.
    """
    if n < 6:
        raise TextmineError(f"the gamma approximation needs n >= 6 (its variance has a factor (n-4)(n-5)), got {n}; "
                            "use the permutation test")
    stat = dot / n
    mean = (gx.diag - gx.mu) * (gy.diag - gy.mu) / n
    var = 2.0 * (n - 4) * (n - 5) / (n * (n - 1) * (n - 2) * (n - 3)) * sq / (n * (n - 1))
    if not (mean > 0 and var > 0):
        return 1.0
    shape = mean * mean / var
    scale = n * var / mean
    return _gamma_sf(stat, shape, scale)


F32_MARGIN = 1e-6   # relative bound on the float32 pass's error, times ||A||_F ||B||_F
LOWRANK_TOL = 1e-6         # pivoted Cholesky stops at a residual trace below this times ||A||_F
LOWRANK_TRUNC = 1e-5       # then the factor is compressed, dropping at most this times ||A||_F
LOWRANK_MAX_BOUND = 1e-4   # low-rank pass only when its error bound is below this times ||A||_F ||B||_F
LOWRANK_MAX_RANK = 64      # rank cap per matrix; and ra * rb <= n (else the direct pass is cheaper)


def _pivoted_cholesky(a, rmax, tol):
    """Greedy pivoted Cholesky factor ``G`` (n x r, r <= rmax) with ``a ~ G G^T``.

    Each step takes the largest remaining diagonal entry of the residual as pivot; it stops when
    the residual's trace is at most ``tol``, the largest residual diagonal entry is not positive,
    or ``rmax`` columns are made. O(n r^2). For a positive semi-definite ``a`` (an H-centred Gram
    matrix) the residual is PSD, so its trace bounds its Frobenius norm; the caller measures the
    residual exactly anyway, so the factor need not be exact or ``a`` PSD.

    Notes
    -----
    Harbrecht, Peters & Schneider, "On the low-rank approximation by the pivoted Cholesky
    decomposition", Appl. Numer. Math. 62, 2012 (Algorithm 1).
    """
    n = a.shape[0]
    d = np.diag(a).copy()
    g = np.zeros((n, rmax))
    for r in range(rmax):
        if d.sum() <= tol:
            return g[:, :r]
        piv = int(np.argmax(d))
        if not d[piv] > 0:
            return g[:, :r]
        col = a[:, piv] - g[:, :r] @ g[piv, :r]
        col /= math.sqrt(d[piv])
        g[:, r] = col
        d -= col * col
        d[piv] = 0.0
    return g


def _compress(g, tol):
    """Fewer columns for ``G G^T``: rotate ``G`` onto the eigenvectors of ``G^T G`` and drop the
    weakest columns while the dropped part ``sqrt(sum w_k^2)`` stays at most ``tol``.

    The rotated columns are orthogonal, so ``G G^T = sum_k u_k u_k^T`` with
    ``||u_k u_k^T||_F = w_k``: the truncated SVD of the factor, which needs fewer columns than
    the pivoted Cholesky factor for the same error.
    """
    if g.shape[1] < 2:
        return g
    w, v = np.linalg.eigh(g.T @ g)              # ascending
    drop = np.sqrt(np.cumsum(np.maximum(w, 0.0) ** 2))
    k = int(np.searchsorted(drop, tol, side="right"))
    return g @ v[:, k:][:, ::-1]


def _lowrank_factors(a, b, norm_a, norm_b):
    """Low-rank factors of ``a`` and ``b`` with a rigorous bound on ``|T(pi) - T_r(pi)|``.

    Returns ``(Ga^T, Gb, bound)``, or None when the ranks or the bound are too large to pay off.
    ``T(pi) - T_r(pi) = tr(E_a P B P^T) + tr(A_r P E_b P^T)`` with ``E = A - A_r``, so by
    Cauchy-Schwarz (a permutation keeps Frobenius norms) it is at most
    ``||E_a|| ||B|| + ||A_r|| ||E_b||``; the residual norms are measured on the explicit
    residual matrices, and a term for the rounding of the low-rank sums is added.
    """
    n = a.shape[0]
    if not (norm_a > 0 and norm_b > 0):
        return None
    ga = _pivoted_cholesky(a, min(n, LOWRANK_MAX_RANK), LOWRANK_TOL * norm_a)
    ra = max(ga.shape[1], 1)
    gb = _pivoted_cholesky(b, min(n // ra, LOWRANK_MAX_RANK), LOWRANK_TOL * norm_b)
    ga = _compress(ga, LOWRANK_TRUNC * norm_a)
    gb = _compress(gb, LOWRANK_TRUNC * norm_b)
    if ga.shape[1] == 0 or gb.shape[1] == 0 or ga.shape[1] * gb.shape[1] > n:
        return None
    gat = np.ascontiguousarray(ga.T)
    gb = np.ascontiguousarray(gb)
    bound = _lowrank_bound(a, b, gat, gb, norm_a, norm_b)
    if bound > LOWRANK_MAX_BOUND * norm_a * norm_b:
        return None
    return gat, gb, bound


def _lowrank_bound(a, b, gat, gb, norm_a, norm_b):
    """Bound on ``|T(pi) - ||Ga^T Gb[pi]||_F^2|`` as computed (see :func:`_lowrank_factors`)."""
    n = a.shape[0]
    rows = np.empty((n, 2))
    _build("_residual_norms", n * n)(a, gat, rows)
    err_a = math.sqrt(float(np.sum(rows[:, 0])))
    norm_ar = math.sqrt(float(np.sum(rows[:, 1])))
    _build("_residual_norms", n * n)(b, np.ascontiguousarray(gb.T), rows)
    err_b = math.sqrt(float(np.sum(rows[:, 0])))
    bound = err_a * norm_b + norm_ar * err_b
    # rounding: of the residual norms (relative ~1e-13) and of the float64 sums of both passes
    eps = np.finfo(np.float64).eps
    trace_a = float(np.sum(gat * gat))
    trace_b = float(np.sum(gb * gb))
    return (1.0 + 1e-8) * bound + 8.0 * (n + 2) * eps * gat.shape[0] * gb.shape[1] * trace_a * trace_b \
        + 1e-9 * norm_a * norm_b


def _permutation_values(a, b, observed, seed, n_permutations, exact=False, unbiased=False, norms=None):
    """Null statistics ``T(pi_t)``, ``t = 0..B-1``, of the centred matrices ``a`` and ``b``.

    A first pass gives every value to within a known margin; every permutation whose value lies
    within that margin of ``observed`` is recomputed in float64, so the count ``#{T_b >= T}``,
    hence the p-value, is the one the float64 computation gives. The first pass is the low-rank
    pass (:func:`_lowrank_factors`, :func:`_lowrank_null`) when the H-centred matrices have a
    small numerical rank (smooth kernels on low-dimensional data), else a direct pass on float32
    copies (half the memory traffic; sums in float64; margin ``F32_MARGIN ||a||_F ||b||_F``, well
    above its error). ``exact=True`` computes every value in float64 (for the returned null sample).
    U-centred matrices (``unbiased``) have a zero diagonal and no useful pivoted Cholesky factor.
    ``norms``: ``(||a||_F, ||b||_F)`` when the caller has them.
    """
    n = a.shape[0]
    raw = np.empty(n_permutations)
    with np.errstate(over="ignore"):
        if exact:
            _build("_permutation_null", n * n * n_permutations // 2)(a, b, seed, raw)
            return raw
        norm_a, norm_b = norms if norms is not None else (math.sqrt(_frob_any(a, a)[0]),
                                                           math.sqrt(_frob_any(b, b)[0]))
        low = None if unbiased else _lowrank_factors(a, b, norm_a, norm_b)
        if low is not None:
            gat, gb, margin = low
            _build("_lowrank_null", n * gat.shape[0] * gb.shape[1] * n_permutations)(
                gat, gb, seed, np.arange(n_permutations, dtype=np.int64), raw)
        else:
            _build("_permutation_null", n * n * n_permutations // 2)(
                a.astype(np.float32), b.astype(np.float32), seed, raw)
            margin = F32_MARGIN * norm_a * norm_b
        near = np.flatnonzero(np.abs(raw - observed) <= margin)
        if near.size:
            fix = np.empty(near.size)
            _permutation_null_at(a, b, seed, near.astype(np.int64), fix)
            raw[near] = fix
    return raw


def _exact_test(gx, gy, n, estimator, method, n_permutations, seed, return_null):
    """Test on prepared Gram matrices; returns (statistic, pvalue, null)."""
    dot, sq = _frob_any(gx.c, gy.c)
    scale = _scale(estimator, n, gx, gy)
    stat = scale * dot
    null = None
    if method == "gamma":
        p = _gamma_pvalue(gx, gy, dot, sq, n)
    elif method == "chi2":
        p = _chi2_1_sf(n * stat + 1.0)
    else:
        norms = (math.sqrt(_frob_any(gx.c, gx.c)[0]), math.sqrt(_frob_any(gy.c, gy.c)[0]))
        raw = _permutation_values(gx.c, gy.c, dot, seed, n_permutations, exact=return_null,
                                  unbiased=gx.unbiased, norms=norms)
        # identity-like permutations give the observed value up to rounding
        tol = 1e-12 * norms[0] * norms[1]
        p = (1.0 + np.count_nonzero(raw >= dot - tol)) / (1.0 + n_permutations)
        if return_null:
            null = scale * raw
    return stat, float(p), null


# --------------------------------------------------------------------------- large n

def _features(a, kernel, sigma, n_features, rng):
    """Random Fourier frequencies and phases of one variable; empty for the linear kernel."""
    if kernel == "linear":
        return np.empty((a.shape[1], 0)), np.empty(0)
    omega = rng.standard_normal((a.shape[1], n_features)) / sigma
    shift = rng.uniform(0.0, 2.0 * math.pi, n_features)
    return omega, shift


def _rff_test(x, y, kernel, sx, sy, n_features, seed):
    """Random-Fourier-feature HSIC, ``||C_xy||_F^2``, with a moment-matched gamma null.

    Under independence ``n ||C_xy||^2`` tends to ``sum_ij lambda_i eta_j z_ij^2`` with ``lambda``,
    ``eta`` the eigenvalues of the feature covariances; its mean is ``tr C_xx tr C_yy`` and its
    variance ``2 ||C_xx||_F^2 ||C_yy||_F^2`` (Zhang et al. 2018, section 3.2). For the linear
    kernel the features are the data and the statistic is the exact biased HSIC.
    """
    n = x.shape[0]
    kx, ky = (kernel, kernel) if isinstance(kernel, str) else kernel
    # the delta kernel is the linear kernel on indicator columns: exact features
    if kx == "delta":
        x, kx = _one_hot(x), "linear"
    if ky == "delta":
        y, ky = _one_hot(y), "linear"
    rng = np.random.default_rng(seed)
    wx, bx = _features(x, kx, sx, n_features, rng)
    wy, by = _features(y, ky, sy, n_features, rng)
    dx = wx.shape[1] or x.shape[1]
    dy = wy.shape[1] or y.shape[1]
    nch = -(-n // _CHUNK)
    mx = np.zeros((nch, dx))
    my = np.zeros((nch, dy))
    cxy = np.zeros((nch, dx, dy))
    cxx = np.zeros((nch, dx, dx))
    cyy = np.zeros((nch, dy, dy))
    _build("_feature_moments", n * (dx + dy) ** 2)(x, wx, bx, y, wy, by, _CHUNK, mx, my, cxy, cxx, cyy)
    mx = mx.sum(axis=0) / n
    my = my.sum(axis=0) / n
    cxy = cxy.sum(axis=0) / n - np.outer(mx, my)
    cxx = np.triu(cxx.sum(axis=0))
    cxx = (cxx + np.triu(cxx, 1).T) / n - np.outer(mx, mx)
    cyy = np.triu(cyy.sum(axis=0))
    cyy = (cyy + np.triu(cyy, 1).T) / n - np.outer(my, my)
    stat = float(np.sum(cxy * cxy))
    mean = float(np.trace(cxx) * np.trace(cyy))
    var = 2.0 * float(np.sum(cxx * cxx)) * float(np.sum(cyy * cyy))
    if not (mean > 0 and var > 0):
        return stat, 1.0
    return stat, _gamma_sf(n * stat, mean * mean / var, var / mean)


def _block_test(x, y, kernel, sx, sy, block, seed):
    """Block HSIC with a normal null: ``Z = mean / sqrt(var / n_blocks)`` over the block statistics.

    Rows are shuffled (seeded) first, so sorted input does not make blocks of similar rows.
    The block statistics are unbiased (mean 0 under independence); their sample variance
    estimates the variance of the mean, as in the B-test (Zaremba, Gretton & Blaschko 2013).
    """
    n = x.shape[0]
    nb = n // block
    if nb < 2:
        raise TextmineError(f"block HSIC needs at least two blocks of {block} rows, got n = {n}; "
                            "use a smaller --block-size or an exact test")
    order = np.random.default_rng(seed).permutation(n)
    kx, ky = (kernel, kernel) if isinstance(kernel, str) else kernel
    # the delta kernel is the linear kernel on indicator columns
    xs = np.ascontiguousarray((_one_hot(x) if kx == "delta" else x)[order])
    ys = np.ascontiguousarray((_one_hot(y) if ky == "delta" else y)[order])
    gx = -1.0 if kx in ("linear", "delta") else 1.0 / (2.0 * sx * sx)
    gy = -1.0 if ky in ("linear", "delta") else 1.0 / (2.0 * sy * sy)
    out = np.empty(nb)
    _build("_block_hsic", n * block * 4)(xs, ys, gx, gy, block, out)
    mean = float(np.mean(out))
    sd = float(np.std(out, ddof=1))
    if sd == 0.0:
        return mean, 1.0
    return mean, _normal_sf(mean / (sd / math.sqrt(nb)))


# --------------------------------------------------------------------------- public tests

def _resolve_method(method, estimator, n, kernel, bandwidth="median", single=False):
    if method not in METHODS:
        raise TextmineError(f"unknown p-value method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "auto" and single and estimator is None and kernel == "gaussian" \
            and isinstance(bandwidth, str) and bandwidth == "median" and n <= AGG_AUTO_MAX_N:
        method = "aggregated"
    if method in ("aggregated", "aggregated-inc"):
        if kernel != "gaussian":
            raise TextmineError(f"the aggregated test is over Gaussian bandwidths; the {kernel} kernel has none "
                                "(use --pvalue permutation)")
        if estimator not in (None, "biased"):
            raise TextmineError(f"the aggregated test uses the biased statistic, not {estimator}")
        if not (isinstance(bandwidth, str) and bandwidth == "median"):
            raise TextmineError("the aggregated test picks its bandwidths around the median distance "
                                "(see --collection); do not give a bandwidth or another rule with it")
        return ("biased" if method == "aggregated" else "incomplete"), method
    if method in ("rff", "block"):
        if kernel == "distance":
            raise TextmineError(f"the {method} test is for the Gaussian and linear kernels; with --kernel distance "
                                "use --pvalue chi2 (O(n log n) for one column each), gamma or permutation")
        if estimator is not None:
            raise TextmineError(f"the {method} test has its own statistic; do not give an estimator with it")
        if kernel == "precomputed":
            raise TextmineError(f"the {method} test needs the data, not a precomputed kernel matrix")
        return method, method
    if method == "auto":
        if estimator is None and n >= LARGE_N and kernel == "distance":
            return "normalized", "chi2"
        if estimator is None and n >= LARGE_N and kernel != "precomputed":
            return "rff", "rff"
        estimator = estimator or "biased"
        method = {"biased": "gamma", "gretton2005": "gamma", "normalized": "chi2",
                  "unbiased": "permutation"}[_estimator(estimator)]
        return estimator, method
    estimator = _estimator(estimator or {"chi2": "normalized"}.get(method, "biased"))
    if method == "gamma" and estimator not in ("biased", "gretton2005"):
        raise TextmineError(f"the gamma approximation is for the biased statistic n*HSIC_b, not {estimator}; "
                            "use --estimator biased or --pvalue permutation")
    if method == "chi2" and estimator != "normalized":
        raise TextmineError(f"the chi-square test (hyppo) is for the normalized statistic, not {estimator}; "
                            "use --estimator normalized or --pvalue permutation")
    return estimator, method


def _check_method_args(method, n_permutations, n_features, block_size, seed):
    if method in ("permutation", "aggregated", "aggregated-inc") and (int(n_permutations) < 1):
        raise TextmineError(f"n_permutations must be at least 1, got {n_permutations}")
    if method == "rff" and int(n_features) < 1:
        raise TextmineError(f"n_features must be at least 1, got {n_features}")
    if method == "block" and int(block_size) < 4:
        raise TextmineError(f"block_size must be at least 4 (unbiased HSIC per block), got {block_size}")
    if int(seed) < 0:
        raise TextmineError(f"seed must be non-negative, got {seed}")


class _Threads:
    """Run with ``n_jobs`` numba threads, restoring the previous count afterwards."""

    def __init__(self, n_jobs):
        self.n_jobs = n_jobs

    def __enter__(self):
        import numba
        self.old = numba.get_num_threads()
        if self.n_jobs is not None:
            set_num_threads(self.n_jobs)

    def __exit__(self, *exc):
        import numba
        numba.set_num_threads(self.old)


def hsic_test(x, y, kernel="gaussian", bandwidth="median", estimator=None, method="auto",
              n_permutations=1000, seed=1, n_jobs=None, n_features=100, block_size=50,
              return_null=False, alpha=0.05, collection=None, missing="error", categorical=None):
    """HSIC independence test of paired samples x (n x p) and y (n x q).

    Parameters
    ----------
    x, y, kernel, bandwidth
        As in :func:`hsic`.
    estimator : {"biased", "unbiased", "gretton2005", "normalized"} or None
        None picks the method's own (``biased`` for gamma and permutation, ``normalized`` for
        chi2); rff and block have their own statistics and take no estimator.
    method : {"auto", "gamma", "permutation", "chi2", "rff", "block", "aggregated"}
        ``gamma``: Gretton's gamma approximation of ``n HSIC_b``; ``permutation``:
        ``p = (1 + #{T_b >= T}) / (1 + B)``; ``chi2``: hyppo's ``1 - F_chi2_1(n stat + 1)``;
        ``rff``: linear-time test on random Fourier features (the data itself for the linear
        kernel); ``block``: linear-time block HSIC; ``aggregated-inc``: the aggregated test on
        agginc's incomplete U-statistic with a wild bootstrap, linear in n
        (:func:`textmine.hsic_agg.hsic_agg_inc_test`, R = 200, B = ``n_permutations``);
        ``aggregated``: HSICAgg over 3 x 3 Gaussian
        bandwidths around the median distance, one set of B permutations
        (:func:`textmine.hsic_agg.hsic_agg_test`). ``auto``: with no estimator, the Gaussian
        kernel and the median rule, ``aggregated`` up to n = 500, ``gamma`` up to 10^4 and
        ``rff`` from there; with an estimator, its natural test.
    n_permutations : int
        B for the permutation test.
    seed : int
        Seeds the permutations, the random features or the block shuffle; the result does not
        depend on ``n_jobs``.
    n_jobs : int or None
        Numba threads (None: numba's current setting).
    n_features : int
        Random Fourier features per variable (``rff``).
    block_size : int
        Rows per block (``block``; kerpy's default 50).
    return_null : bool
        Keep the permutation null statistics in ``result.null``.
    alpha : float
        ``aggregated``: the level at which each bandwidth pair is marked rejected.
    collection : (base, lo, hi) or None
        ``aggregated``: the bandwidth collection (None: ``(2, -2, 0)``, see
        :data:`textmine.hsic_agg.COLLECTION`).
    missing : {"error", "drop"}
        ``drop``: leave out the rows where x or y has a NaN (``result.dropped`` says how many;
        at least 4 complete rows must remain); ``error``: NaN is an error.
    categorical : {None, "x", "y", "both"} or (bool, bool)
        Variables that are labels (one column each), compared by the delta kernel
        ``k(a, b) = 1 if a == b else 0`` (:func:`encode_labels`; a missing label is missing, not a
        level); arrays of strings or objects are always categorical. ``kernel`` and ``bandwidth``
        are the other variable's. Every method applies; the aggregated test runs over the other
        variable's bandwidths only (the delta kernel has none), and rff and block use the exact
        indicator features of the delta kernel. The result's bandwidth of a categorical variable
        is None.

    Returns
    -------
    HsicResult

    Notes
    -----
    docs/algorithms.md 5.3-5.4. ``estimator="biased", method="gamma", bandwidth="gretton"``
    reproduces ``hsicTestGamma.m``; ``estimator="normalized", method="chi2",
    bandwidth="hyppo"`` reproduces ``hyppo.independence.Hsic().test``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=300)
    >>> r = hsic_test(x, x ** 2 + 0.5 * rng.normal(size=300), method="gamma")
    >>> r.method, r.pvalue < 1e-6
    ('gamma', True)
    """
    if missing == "drop" and kernel == "precomputed":
        raise TextmineError("missing values cannot be dropped from precomputed kernel matrices")
    x, y, kernels = _prepare_categorical(x, y, kernel, categorical)
    x, y, dropped = _drop_missing(x, y, missing)
    r = _hsic_test(x, y, kernel, bandwidth, estimator, method, n_permutations, seed, n_jobs, n_features,
                   block_size, return_null, alpha, collection, kernels)
    if missing == "drop":
        r.dropped = dropped
    return r


def _hsic_test(x, y, kernel, bandwidth, estimator, method, n_permutations, seed, n_jobs, n_features,
               block_size, return_null, alpha, collection, kernels=None, names=("x", "y")):
    kernels = kernels or (kernel, kernel)
    x, y = _check_pair(x, y, kernel)
    _check_categorical(x, y, kernels, names)
    n = x.shape[0]
    estimator, method = _resolve_method(method, estimator, n, kernel, bandwidth, single=True)
    _check_method_args(method, n_permutations, n_features, block_size, seed)
    if method == "aggregated":
        if return_null:
            raise TextmineError("the aggregated test has one null per bandwidth pair; no single null to return")
        from textmine.hsic_agg import COLLECTION, hsic_agg_test
        return hsic_agg_test(x, y, n_permutations, seed, alpha, collection or COLLECTION, n_jobs=n_jobs,
                             categorical=(kernels[0] == "delta", kernels[1] == "delta"))
    if method == "aggregated-inc":
        if return_null:
            raise TextmineError("the aggregated test has one null per bandwidth pair; no single null to return")
        from textmine.hsic_agg import COLLECTION, INC_R, hsic_agg_inc_test
        return hsic_agg_inc_test(x, y, INC_R, n_permutations, seed, alpha, collection or COLLECTION, n_jobs=n_jobs,
                                 categorical=(kernels[0] == "delta", kernels[1] == "delta"))
    if method == "chi2" and _fast_distance(x, y, kernels):
        stat = _distance_1d(x, y, estimator)
        return HsicResult(float(stat), float(_chi2_1_sf(n * stat + 1.0)), estimator, method, None, None, n)
    sx, sy = _bandwidths(x, y, kernels, bandwidth, names)
    random_method = method in ("permutation", "rff", "block")
    with _Threads(n_jobs):
        if method == "rff":
            stat, p = _rff_test(x, y, kernels, sx, sy, int(n_features), int(seed))
            null, reps = None, (x.shape[1] if kernel == "linear" else int(n_features))
        elif method == "block":
            stat, p = _block_test(x, y, kernels, sx, sy, int(block_size), int(seed))
            null, reps = None, int(block_size)
        else:
            unb = estimator in ("unbiased", "normalized")
            gx = _gram(x, kernels[0], sx, unb)
            gy = _gram(y, kernels[1], sy, unb)
            stat, p, null = _exact_test(gx, gy, n, estimator, method, int(n_permutations), int(seed),
                                        return_null)
            reps = int(n_permutations) if method == "permutation" else None
    return HsicResult(float(stat), float(p), estimator, method, sx, sy, n, reps,
                      int(seed) if random_method else None, null)


def hsic_pairwise(x, y=None, names_x=None, names_y=None, kernel="gaussian", bandwidth="median",
                  estimator=None, method="auto", n_permutations=1000, seed=1, n_jobs=None,
                  n_features=100, block_size=50, memory_limit=2 ** 30, alpha=0.05, collection=None, fdr=None,
                  missing="error", categorical=None):
    """HSIC test between every pair of columns.

    Parameters
    ----------
    x : array (n, p)
    y : array (n, q) or None
        None: every pair ``i < j`` of x's columns; else every x column against every y column.
    names_x, names_y : list of str or None
        Column names (default ``"1"``, ``"2"``, ...).
    memory_limit : int
        Bytes of cached centred Gram matrices (one per column) in the exact tests; beyond it
        they are rebuilt per pair.
    missing : {"error", "drop"}
        ``drop``: each pair leaves out its own incomplete rows (``result.dropped``).
    fdr : {"bh", "by"} or None
        Set each result's ``qvalue`` to the FDR-adjusted p-value over all the pairs
        (:func:`fdr_adjust`).
    categorical : (collection of int, collection of int) or None
        0-based indices of x's and of y's columns that are labels (delta kernel, see
        :func:`hsic_test`); columns of strings or objects are categorical in any case.
    Other parameters
        As in :func:`hsic_test`; each pair is tested with the same seed.

    Returns
    -------
    list of (str, str, HsicResult)
    """
    if kernel == "precomputed":
        raise TextmineError("pairwise tests need data columns, not precomputed kernel matrices")
    if fdr is not None and fdr not in FDR_METHODS:
        raise TextmineError(f"unknown FDR method {fdr!r}; choose one of {', '.join(FDR_METHODS)}")
    if missing not in MISSING:
        raise TextmineError(f"unknown missing-value policy {missing!r}; choose one of {', '.join(MISSING)}")
    cat_x, cat_y = (set(), set()) if categorical is None else (set(categorical[0]), set(categorical[1]))
    cols_x, kern_x = _pairwise_columns(x, "x", cat_x, kernel, missing)
    names_x = list(names_x) if names_x is not None else [str(j + 1) for j in range(len(cols_x))]
    n = cols_x[0].shape[0]
    if y is None:
        if len(cols_x) < 2:
            raise TextmineError("pairwise needs at least two columns")
        pairs = [(i, j) for i in range(len(cols_x)) for j in range(i + 1, len(cols_x))]
        cols, names, kerns = cols_x, names_x, kern_x
        index_y = 0
    else:
        cols_y, kern_y = _pairwise_columns(y, "y", cat_y, kernel, missing)
        if cols_y[0].shape[0] != n:
            raise TextmineError(f"x has {n} rows but y has {cols_y[0].shape[0]}; "
                                "the samples must be paired row by row")
        names_y = list(names_y) if names_y is not None else [str(j + 1) for j in range(len(cols_y))]
        cols, names, kerns = cols_x + cols_y, names_x + names_y, kern_x + kern_y
        index_y = len(cols_x)
        pairs = [(i, index_y + j) for i in range(len(cols_x)) for j in range(len(cols_y))]
    if n < 4:
        raise TextmineError(f"HSIC needs at least 4 samples (the unbiased estimator divides by n(n-3)), got {n}")
    est, meth = _resolve_method(method, estimator, n, kernel, bandwidth)
    _check_method_args(meth, n_permutations, n_features, block_size, seed)
    has_nan = missing == "drop" and any(np.isnan(c).any() for c in cols)
    hyppo_rule = isinstance(bandwidth, str) and bandwidth == "hyppo"
    if meth in ("rff", "block", "aggregated", "aggregated-inc") or hyppo_rule or has_nan:
        out = []
        for i, j in pairs:
            xi, yj, k = _drop_missing(cols[i], cols[j], missing, (names[i], names[j]))
            try:
                r = _hsic_test(xi, yj, kernel, bandwidth, estimator, meth, n_permutations, seed, n_jobs,
                               n_features, block_size, False, alpha, collection, (kerns[i], kerns[j]))
            except TextmineError as e:
                raise TextmineError(f"columns {names[i]} and {names[j]}: {e}") from None
            if missing == "drop":
                r.dropped = k
            out.append((names[i], names[j], r))
        return _with_fdr(out, fdr)
    for c, k, nm in zip(cols, kerns, names):
        if k == "delta":
            _check_levels(c, f"column {nm}")
    sigmas = [_bandwidths(c, c, (k, k), bandwidth, (nm, nm))[0] for c, k, nm in zip(cols, kerns, names)]
    unb = est in ("unbiased", "normalized")
    cache = {}
    cache_ok = len(cols) * n * n * 8 <= memory_limit
    out = []
    with _Threads(n_jobs):
        for i, j in pairs:
            grams = []
            for c in (i, j):
                g = cache.get(c)
                if g is None:
                    g = _gram(cols[c], kerns[c], sigmas[c], unb)
                    if cache_ok:
                        cache[c] = g
                grams.append(g)
            stat, p, _ = _exact_test(grams[0], grams[1], n, est, meth, int(n_permutations), int(seed), False)
            reps = int(n_permutations) if meth == "permutation" else None
            out.append((names[i], names[j],
                        HsicResult(float(stat), float(p), est, meth, sigmas[i], sigmas[j], n, reps,
                                   int(seed) if meth == "permutation" else None,
                                   dropped=0 if missing == "drop" else None)))
    return _with_fdr(out, fdr)


def _pairwise_columns(a, name, cat, kernel, missing):
    """Split a table into (n, 1) float columns (codes for categorical ones) and their kernels."""
    a = np.asarray(a)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2 or a.shape[1] == 0:
        raise TextmineError(f"{name} must be an n x p table with at least one column, got shape {a.shape}")
    bad = [j for j in cat if not 0 <= j < a.shape[1]]
    if bad:
        raise TextmineError(f"categorical column index {bad[0]} is outside {name}'s 0..{a.shape[1] - 1}")
    cols, kerns = [], []
    for j in range(a.shape[1]):
        if j in cat or _is_text(a[:, j]):
            codes = encode_labels(a[:, j], f"{name} column {j + 1}")[0]
            if missing == "error" and np.isnan(codes).any():
                i = int(np.flatnonzero(np.isnan(codes[:, 0]))[0])
                raise TextmineError(f"{name} column {j + 1} has a missing label at row {i + 1}; drop or impute "
                                    "missing values first (missing=\"drop\" drops rows with missing values)")
            cols.append(codes)
            kerns.append("delta")
        else:
            col = a[:, [j]]
            if col.dtype == object:         # numbers (and None for missing) in an object table
                col = np.array([[math.nan if v is None else float(v)] for v in col[:, 0]])
            cols.append(_as_data(col, name, allow_nan=missing == "drop"))
            kerns.append(kernel)
    return cols, kerns


def _with_fdr(rows, fdr):
    """Set the q-values of ``(name, name, HsicResult)`` rows over all of them."""
    if fdr is not None:
        q = fdr_adjust([r.pvalue for _, _, r in rows], fdr)
        for (_, _, r), v in zip(rows, q):
            r.qvalue = float(v)
    return rows


# --------------------------------------------------------------------------- many tests at once

FDR_METHODS = ("bh", "by")


def fdr_adjust(pvalues, method="bh"):
    """Benjamini-Hochberg or Benjamini-Yekutieli adjusted p-values (q-values).

    Parameters
    ----------
    pvalues : array (m,)
        NaN entries stay NaN and are left out of the ranking, but m counts them (R's
        ``p.adjust``; statsmodels would turn every value into NaN).
    method : {"bh", "by"}

    Returns
    -------
    float64[m]
        ``q_(i) = min_{j >= i} min(1, m c(m) p_(j) / j)`` with ``c(m) = 1`` (BH) or
        ``sum_{k <= m} 1/k`` (BY): equal to statsmodels' ``multipletests(p, method="fdr_bh" /
        "fdr_by")[1]``; reject at FDR q iff ``q_i <= q``.

    Notes
    -----
    ALGORITHMS-2.md section 3. Benjamini & Hochberg, JRSS-B 57, 1995; Benjamini & Yekutieli,
    Ann. Stat. 29, 2001 (BY holds under any dependence; tests that share a column are dependent).

    Examples
    --------
    >>> fdr_adjust([0.01, 0.04, 0.03, 0.005, 0.20, 0.50]).round(4).tolist()
    [0.03, 0.06, 0.06, 0.03, 0.24, 0.5]
    """
    if method not in FDR_METHODS:
        raise TextmineError(f"unknown FDR method {method!r}; choose one of {', '.join(FDR_METHODS)}")
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    out = np.full(p.shape, np.nan)
    m = p.size
    ok = np.flatnonzero(~np.isnan(p))
    if not ok.size:
        return out
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise TextmineError("p-values must lie in [0, 1]")
    c = 1.0 if method == "bh" else float(np.sum(1.0 / np.arange(1, m + 1)))
    order = ok[np.argsort(p[ok], kind="stable")]
    ranks = np.arange(1, order.size + 1)
    q = np.minimum(1.0, m * c * p[order] / ranks)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out[order] = q
    return out


# --------------------------------------------------------------------------- reading tables

_NA_CELLS = frozenset(("", "na", "nan", "n/a", "null", "none", "-nan"))


def _split_cells(path, lines, delimiter, first_line):
    """Cells of each non-blank line, and the line numbers; ragged rows are an error naming ``file:line``."""
    rows, linenos = [], []
    width = None
    for k, line in enumerate(lines):
        lineno = first_line + k
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        cells = line.split(delimiter) if delimiter else line.split()
        if width is None:
            width = len(cells)
        elif len(cells) != width:
            raise TextmineError(f"{path}:{lineno}: {len(cells)} columns, expected {width} as on the first data line")
        rows.append(cells)
        linenos.append(lineno)
    if not rows:
        raise TextmineError(f"{path}: no data rows")
    return rows, linenos


def _is_missing_cell(cell):
    return cell.strip().lower() in _NA_CELLS


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _text_columns(rows):
    """Columns whose non-missing cells are all non-numeric text (read as labels); at least one cell."""
    out = set()
    for c in range(len(rows[0])):
        seen = False
        for r in rows:
            cell = r[c]
            if _is_missing_cell(cell):
                continue
            if _is_number(cell):
                break
            seen = True
        else:
            if seen:
                out.add(c)
    return out


def _parse_cells(path, rows, linenos, missing="error", categorical=()):
    """Parse split cells into a float matrix; errors name ``file:line``.

    ``missing="drop"`` reads missing cells (empty, ``NA``, ``NaN``, ``N/A``, ``null``) as NaN;
    ``"error"`` reports the first one. Columns in ``categorical`` hold labels: their cells are
    kept as text here (``labels[c]``) and coded by the caller.
    """
    out = np.empty((len(rows), len(rows[0])))
    labels = {c: [] for c in categorical}
    for r, (cells, lineno) in enumerate(zip(rows, linenos)):
        for c, cell in enumerate(cells):
            if _is_missing_cell(cell):
                if missing == "drop":
                    out[r, c] = math.nan
                    if c in labels:
                        labels[c].append(None)
                    continue
                what = repr(cell.strip()) if cell.strip() else "empty cell"
                raise TextmineError(f"{path}:{lineno}: column {c + 1}: {what} is a missing value; "
                                    "use --missing drop to leave out incomplete rows")
            if c in labels:
                labels[c].append(cell.strip())
                continue
            try:
                v = float(cell)
            except ValueError:
                hint = "; is the first line a header? use --column-names" if not r else ""
                raise TextmineError(f"{path}:{lineno}: column {c + 1}: cannot read {cell.strip()!r} as a number"
                                    + hint + "; a label column must hold text only, or be named by --categorical"
                                    ) from None
            if not math.isfinite(v):
                raise TextmineError(f"{path}:{lineno}: column {c + 1}: {cell.strip()!r} is not a finite number; "
                                    "drop or impute missing values first")
            out[r, c] = v
    levels = {}
    for c, lab in labels.items():
        codes, levels[c] = encode_labels(np.array(lab, dtype=object), f"column {c + 1}")
        out[:, c] = codes[:, 0]
    return out, levels


def read_table(path, delimiter=None, header=False, encoding="utf-8", missing="error", categorical=None,
               return_levels=False):
    """Read a numeric table: TSV (default), CSV (``.csv``) or NumPy ``.npy``; ``-`` is stdin.

    Parameters
    ----------
    path : str
    delimiter : str or None
        None: ``,`` for ``.csv`` files, TAB otherwise (``"ws"`` splits on any whitespace).
    header : bool
        The first line holds column names.
    encoding : str
    missing : {"error", "drop"}
        ``drop``: missing cells (empty, ``NA``, ``NaN``, ``N/A``, ``null``; NaN in ``.npy``) are
        read as NaN, for :func:`hsic_test` and :func:`hsic_pairwise` to drop per test;
        ``error``: the first one is reported with ``file:line`` and its column.
    categorical : collection of int, callable or None
        0-based columns to read as labels, or a function of the column names returning them.
        Text columns -- every non-missing cell non-numeric -- are labels in any case.
    return_levels : bool
        Also return the label columns.

    Returns
    -------
    data : float64[n, p]
        A label column holds its codes ``0 .. L-1`` (:func:`encode_labels`; NaN where missing).
    names : list of str
        Column names (header) or ``"1"``, ``"2"``, ...
    levels : dict of int to list of str
        With ``return_levels``: each label column's labels, indexed by code.

    Raises
    ------
    TextmineError
        With ``file:line`` and the column for a cell that is not a finite number, a ragged row,
        an unreadable file or an empty table.
    """
    import sys
    if path != "-" and path.endswith(".npy"):
        try:
            a = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as e:  # an empty file: EOFError
            raise TextmineError(f"{path}: cannot read as .npy ({e})") from None
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        if a.ndim != 2:
            raise TextmineError(f"{path}: expected a 1-D or 2-D array, got shape {a.shape}")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise TextmineError(f"{path}: array of dtype {a.dtype} is not numeric")
        a = np.ascontiguousarray(a, dtype=np.float64)
        bad = ~np.isfinite(a) if missing == "error" else np.isinf(a)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            hint = "; use --missing drop to leave out incomplete rows" if np.isnan(a[i, j]) else ""
            raise TextmineError(f"{path}: row {i + 1}, column {j + 1}: {a[i, j]} is not a finite number" + hint)
        names = [str(j + 1) for j in range(a.shape[1])]
        levels = {}
        for c in sorted(_label_columns(categorical, names, path)):
            codes, levels[c] = encode_labels(a[:, c], f"column {c + 1}")
            a[:, c] = codes[:, 0]
        return (a, names, levels) if return_levels else (a, names)
    if delimiter is None:
        delimiter = "," if path.lower().endswith(".csv") else "\t"
    if delimiter == "ws":
        delimiter = None
    try:
        if path == "-":
            raw = sys.stdin.buffer.read()
        else:
            if os.path.isdir(path):
                raise TextmineError(f"{path}: is a directory, not a table")
            with open(path, "rb") as f:
                raw = f.read()
    except OSError as e:
        raise TextmineError(f"{path}: cannot read ({e.strerror or e})") from None
    name = "<stdin>" if path == "-" else path
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise TextmineError(f"{name}: cannot decode byte offset {e.start} as {encoding}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines()
    names = None
    first = 1
    if header:
        while lines and not lines[0].strip():
            lines.pop(0)
            first += 1
        if not lines:
            raise TextmineError(f"{name}: empty file, expected a header line")
        names = [c.strip() for c in (lines[0].split(delimiter) if delimiter else lines[0].split())]
        lines = lines[1:]
        first += 1
    rows, linenos = _split_cells(name, lines, delimiter, first)
    width = len(rows[0])
    if names is None:
        names = [str(j + 1) for j in range(width)]
    elif len(names) != width:
        raise TextmineError(f"{name}: the header has {len(names)} names but the rows have {width} columns")
    cats = _label_columns(categorical, names, name) | _text_columns(rows)
    data, levels = _parse_cells(name, rows, linenos, missing, cats)
    return (data, names, levels) if return_levels else (data, names)


def _label_columns(categorical, names, path):
    """0-based label columns from ``read_table``'s ``categorical`` argument."""
    if categorical is None:
        return set()
    cols = set(categorical(names) if callable(categorical) else categorical)
    bad = [c for c in cols if not 0 <= c < len(names)]
    if bad:
        raise TextmineError(f"{path}: categorical column {bad[0] + 1} is outside 1-{len(names)}")
    return cols


def select_columns(data, names, spec, path="input"):
    """Pick columns by a spec like ``"1,3-5"`` (1-based) or header names ``"age,income"``.

    Returns
    -------
    data : float64[n, k], names : list of str
    """
    idx = column_indices(names, spec, path)
    return np.ascontiguousarray(data[:, idx]), [names[i] for i in idx]


def column_indices(names, spec, path="input", lenient=False):
    """0-based indices of the columns a spec like ``"1,3-5"`` or ``"age,income"`` names.

    ``lenient``: header names that are not in ``names`` are skipped instead of being an error
    (for a spec that may name the columns of either of two tables).
    """
    idx = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if part in names and not part.isdigit():
            idx.append(names.index(part))
            continue
        lo, sep, hi = part.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            if part in names:
                idx.append(names.index(part))
                continue
            if lenient:
                continue
            raise TextmineError(f"{path}: no column {part!r}; give 1-based numbers, ranges (2-4) "
                                "or header names") from None
        if not (1 <= a <= b <= len(names)):
            raise TextmineError(f"{path}: column range {part!r} is outside 1-{len(names)}")
        idx.extend(range(a - 1, b))
    if not idx and not lenient:
        raise TextmineError(f"{path}: empty column selection {spec!r}")
    return idx
