"""Distance covariance and correlation of 1-D samples in O(n log n) time and O(n) memory.

``hsic(x, y, kernel="distance")`` uses the distance-induced kernel
``k(x, x') = ||x|| + ||x'|| - ||x - x'||`` (Sejdinovic, Sriperumbudur, Gretton & Fukumizu, Ann.
Stat. 41, 2013, with the factor 2 that makes HSIC equal distance covariance): its H-centred
Gram matrix is minus the double-centred distance matrix, so the ``biased`` estimator is the
V-statistic ``V_n^2`` (``dcor.distance_covariance_sqr``), ``unbiased`` is ``Omega_n``
(``dcor.u_distance_covariance_sqr``) and ``normalized`` is the bias-corrected distance
correlation ``R*`` (``dcor.u_distance_correlation_sqr``). For general dimensions that is the
O(n^2) exact path of :mod:`textmine.hsic`; this module computes the same three statistics of
scalar x and y from three sums without forming a matrix:

``S1 = sum_{i != j} a_ij b_ij``, ``S2 = sum_i a_i. b_i.``, ``S3 = a.. b..`` with
``a_ij = |x_i - x_j|``, and

``V_n^2 = S1/n^2 - 2 S2/n^3 + S3/n^4``,
``Omega_n = S1/(n(n-3)) - 2 S2/(n(n-2)(n-3)) + S3/(n(n-1)(n-2)(n-3))``.

Notes
-----
ALGORITHMS-2.md section 2. Huo & Szekely, Technometrics 58, 2016 (O(n log n) with an AVL tree);
Chaudhuri & Hu, CSDA 135, 2019 (merge sort). Here: row sums from sorted prefix sums, and ``S1``
from a Fenwick tree over the ranks of y, visiting the rows in the order of x.
"""
import math

import numpy as np

from textmine._numba import njit
from textmine.errors import TextmineError


@njit
def _dcov_row_sums(v, order, out):
    """Row sums ``out[i] = sum_j |v_i - v_j|`` from sorted prefix sums, O(n).

    Parameters
    ----------
    v : float64[n]
    order : int64[n]
        ``argsort(v)``.
    out : float64[n]

    Notes
    -----
    With 1-based rank r, inclusive prefix sum P and total S,
    ``a_(r). = (2r - n) v_(r) + S - 2 P_r`` (ties contribute 0 either way).
    """
    n = v.shape[0]
    total = 0.0
    for k in range(n):
        total += v[order[k]]
    pre = 0.0
    for k in range(n):
        i = order[k]
        pre += v[i]
        out[i] = (2.0 * (k + 1) - n) * v[i] + total - 2.0 * pre


@njit
def _dcov_cross_1d(x, y, ox, oy):
    """``S1 = sum_{i != j} |x_i - x_j| |y_i - y_j|`` in O(n log n).

    Parameters
    ----------
    x, y : float64[n]
        Finite; best centred (the sums of products lose digits to a large common offset).
    ox, oy : int64[n]
        ``argsort(x)`` and ``argsort(y)``.

    Returns
    -------
    float

    Notes
    -----
    ``S1 = 2 sum_{i<j} (x_j - x_i)(y_j - y_i) s_ij`` over pairs in x order, ``s_ij`` the sign of
    ``y_j - y_i``. For each j, the pairs with ``y_i < y_j`` are a prefix query of a Fenwick tree
    over the dense ranks of y holding the count and the sums of x, y and xy (one row of four per
    node), and the others are the running totals minus that; pairs tied in y contribute 0
    whatever their sign, and so do pairs tied in x. Serial.
    """
    n = x.shape[0]
    rank = np.empty(n, dtype=np.int64)
    r = 0
    for k in range(n):
        if k == 0 or y[oy[k]] != y[oy[k - 1]]:
            r += 1
        rank[oy[k]] = r
    m = r
    f = np.zeros((m + 1, 4))
    tc = 0.0
    tx = 0.0
    ty = 0.0
    tz = 0.0
    s = 0.0
    for k in range(n):
        j = ox[k]
        xj = x[j]
        yj = y[j]
        c = 0.0
        sx = 0.0
        sy = 0.0
        sz = 0.0
        q = rank[j] - 1
        while q > 0:
            c += f[q, 0]
            sx += f[q, 1]
            sy += f[q, 2]
            sz += f[q, 3]
            q -= q & (-q)
        dc = c - (tc - c)
        dx = sx - (tx - sx)
        dy = sy - (ty - sy)
        dz = sz - (tz - sz)
        s += dc * xj * yj - xj * dy - yj * dx + dz
        zj = xj * yj
        q = rank[j]
        while q <= m:
            f[q, 0] += 1.0
            f[q, 1] += xj
            f[q, 2] += yj
            f[q, 3] += zj
            q += q & (-q)
        tc += 1.0
        tx += xj
        ty += yj
        tz += zj
    return 2.0 * s


def _vector(a, name):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise TextmineError(f"{name}: the O(n log n) distance covariance is for one column, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise TextmineError(f"{name} has a non-finite value")
    return np.ascontiguousarray(a - np.median(a)) if a.size else a


def _terms(x, y):
    """``(S1, S2, S3)`` of x and y, and the row sums and orders (see the module docstring)."""
    n = x.shape[0]
    ox = np.argsort(x, kind="stable")
    oy = np.argsort(y, kind="stable")
    ra = np.empty(n)
    rb = np.empty(n)
    _dcov_row_sums(x, ox, ra)
    _dcov_row_sums(y, oy, rb)
    s1 = _dcov_cross_1d(x, y, ox, oy)
    return (s1, float(ra @ rb), float(ra.sum()) * float(rb.sum())), ra, rb


def _self_terms(x, ra):
    """``(S1, S2, S3)`` of x with itself; ``S1 = sum_{i != j} (x_i - x_j)^2`` in closed form."""
    n = x.shape[0]
    s1 = 2.0 * n * float(x @ x) - 2.0 * float(x.sum()) ** 2
    return s1, float(ra @ ra), float(ra.sum()) ** 2


def _combine(terms, n, unbiased):
    s1, s2, s3 = terms
    if unbiased:
        return s1 / (n * (n - 3)) - 2.0 * s2 / (n * (n - 2) * (n - 3)) + s3 / (n * (n - 1) * (n - 2) * (n - 3))
    return s1 / n ** 2 - 2.0 * s2 / n ** 3 + s3 / n ** 4


def distance_covariance_1d(x, y, estimator="biased"):
    """Distance covariance / correlation of scalar samples in O(n log n).

    Parameters
    ----------
    x, y : array (n,)
    estimator : {"biased", "unbiased", "normalized"}
        ``biased``: ``V_n^2`` (``dcor.distance_covariance_sqr``); ``unbiased``: ``Omega_n``
        (``dcor.u_distance_covariance_sqr``); ``normalized``: ``Omega(x,y) / sqrt(Omega(x,x)
        Omega(y,y))``, 0 when a variance is not positive (``dcor.u_distance_correlation_sqr``).

    Returns
    -------
    float

    Examples
    --------
    >>> round(distance_covariance_1d([1, 2, 3, 4, 5, 6], [1, 7, 5, 5, 6, 2], "unbiased"), 5)
    -0.88889
    """
    x = _vector(x, "x")
    y = _vector(y, "y")
    n = x.shape[0]
    if y.shape[0] != n:
        raise TextmineError(f"x has {n} rows but y has {y.shape[0]}")
    if n < 4:
        raise TextmineError(f"distance covariance needs at least 4 samples, got {n}")
    if estimator not in ("biased", "unbiased", "normalized"):
        raise TextmineError(f"estimator {estimator!r}: the distance kernel's fast path has biased, unbiased and "
                            "normalized")
    terms, ra, rb = _terms(x, y)
    if estimator != "normalized":
        return _combine(terms, n, estimator == "unbiased")
    vx = _combine(_self_terms(x, ra), n, True)
    vy = _combine(_self_terms(y, rb), n, True)
    if not (vx > 0 and vy > 0):
        return 0.0
    return _combine(terms, n, True) / math.sqrt(vx * vy)
