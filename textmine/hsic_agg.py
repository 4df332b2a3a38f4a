"""Aggregated HSIC test over a collection of Gaussian bandwidths (HSICAgg).

One bandwidth from the median heuristic can miss dependence at a smaller scale (y = sin(4x): the
median-heuristic tests reject in a third of the trials at n = 200, a bandwidth five times smaller
in all of them). :func:`hsic_agg_test` tests every pair ``(sigma_x, sigma_y)`` of a collection
around the median-heuristic scale with the **same** permutations and combines the pairs'
p-values into one (their harmonic mean, calibrated by the same permutations), so the test keeps
level alpha and its power follows the best pair.

Notes
-----
ALGORITHMS-2.md section 1. Schrab, Kim, Guedj & Gretton, NeurIPS 2022 (HSICAgg); Schrab et al.,
"MMD Aggregated Two-Sample Test", JMLR 24, 2023 (section 3.5: the level correction ``u_alpha``);
Albert, Laurent, Marrel & Meynaoui, Ann. Stat. 50, 2022 (permutation aggregation of HSIC tests);
Pesarin & Salmaso, "Permutation Tests for Complex Data", Wiley 2010, ch. 4 (nonparametric
combination of dependent permutation tests); Wilson, PNAS 116:1195, 2019 (the harmonic mean
p-value).

The collection is agginc's form, ``lambda = base^i m`` for ``i = lo..hi`` per variable, ``m``
the median distance, for the kernel ``exp(-d^2 / lambda^2)``, i.e. ``sigma = lambda / sqrt(2)``
in textmine's ``exp(-d^2 / (2 sigma^2))``; but the default range is ``2^-2 .. 2^0`` (3 x 3 pairs),
not agginc's ``2^-2 .. 2^2`` (5 x 5). The bandwidths above the median distance did not carry
power in any benchmark cell (on the circle at n = 100 the 16 pairs with a ``lambda > m`` reject
in 1-38 % of trials, against 80 % at ``(m / 2, m / 2)``), but each pair in the collection makes
the combination harder to pass (bench/RESULTS.md, "## hsic").
``collection=(2, -2, 2)`` (``--collection 2,-2,2``) gives agginc's collection.

The statistic of each pair is the quadratic biased HSIC over all n rows (not agginc's
incomplete U-statistic on a split sample, which halves the effective n). One set of B
permutations serves every pair and the combination: the observed values and the B permuted ones
are exchangeable under independence, each value's per-pair p-value ``p_l(t)`` is its rank among
the B + 1, any symmetric combining function ``C`` applied to every row alike gives an exact
permutation p-value ``#{t : C(t) at least as extreme as C(obs)} / (B + 1)`` (level at most alpha
for any n; Pesarin's nonparametric combination).

* ``combine="min"``, ``C = min_l p_l`` (Tippett): MMDAgg's rule with uniform weights, which
  rejects iff some pair has ``p_l <= u_alpha / L``, ``u_alpha`` the largest threshold whose
  estimated family-wise rejection rate under the resampling null is at most alpha (Westfall &
  Young's min-p test). With the same B permutations in both of MMDAgg's roles (B1 and B2) it needs
  no bisection and rejects exactly when MMDAgg's rule does.
* ``combine="harmonic"`` (the default), ``C = sum_l 1 / p_l`` (the harmonic mean p-value, small
  is extreme). The min rule is made for one sensitive pair among many; but the power of a
  bandwidth pair varies smoothly with the bandwidths, so when the dependence is moderate several
  neighbouring pairs are each moderately significant, and the min rule pays the full correction
  for what they show together. On the circle at n = 100 (bench/RESULTS.md) the min rule rejected
  in 0.727 of trials against 0.831 for the best pair in hindsight; the harmonic mean gains most of
  that back, and still follows a single sensitive pair (sin(8x), where only the small sigma_x
  pairs see the dependence), where Fisher's ``sum -log p`` or a sum of the statistics lose half
  their power.

``kernels[k].rejected`` stays the min-p (Westfall-Young) decision for pair k alone -- a claim about
that bandwidth pair with family-wise error at most alpha -- and is only set when the test itself
rejects: a pair never rejects without the test, but the test can reject while no pair alone
survives the correction (the dependence shows in several pairs together).
"""
import dataclasses
import math

import numpy as np

from textmine._numba import prange, serial_and_parallel
from textmine.errors import TextmineError
from textmine.hsic import (HsicResult, _Threads, _as_data, _permutation, _stream_state, sq_dist,
                           median_bandwidth)

COLLECTION = (2.0, -2, 0)     # base, lo, hi: lambda = base^i * median distance, i = lo..hi
COMBINE = "harmonic"          # how the pairs' permutation p-values are combined (see _aggregate)
PARALLEL_WORK = 2_000_000


# --------------------------------------------------------------------------- kernels (numba)

def _agg_gram(x, inv_two_sigma2, out):
    """Stacked Gaussian Gram matrices ``out[i, j, a] = exp(-||x_i - x_j||^2 * inv_two_sigma2[a])``.

    Parameters
    ----------
    x : float64[n, p]
    inv_two_sigma2 : float64[L]
        ``1 / (2 sigma_a^2)`` of each bandwidth.
    out : float64[n, n, L]
        Written in full (symmetric in i, j; ones on the diagonal).
    """
    n, p = x.shape
    m = inv_two_sigma2.shape[0]
    for i in prange(n):
        for j in range(i, n):
            d = sq_dist(x, i, j)
            for a in range(m):
                v = math.exp(-d * inv_two_sigma2[a])
                out[i, j, a] = v
                out[j, i, a] = v


def _agg_centre(k):
    """H-centre each stacked Gram matrix in place: ``K~_ij = K_ij - r_i - r_j + m`` per slice.

    Parameters
    ----------
    k : float64[n, n, L]
        Symmetric in i, j; overwritten with ``H K_a H`` for every a.
    """
    n = k.shape[0]
    m = k.shape[2]
    rows = np.zeros((n, m))
    for i in prange(n):
        for j in range(n):
            for a in range(m):
                rows[i, a] += k[i, j, a]
    total = np.zeros(m)
    for i in range(n):
        for a in range(m):
            total[a] += rows[i, a]
    for i in range(n):
        for a in range(m):
            rows[i, a] /= n
    for a in range(m):
        total[a] /= n * n
    for i in prange(n):
        for j in range(n):
            for a in range(m):
                k[i, j, a] = k[i, j, a] - rows[i, a] - rows[j, a] + total[a]


def _agg_null(ka, kb, seed, out):
    """All-pairs permuted HSIC inner products, one permutation per row of ``out``.

    Parameters
    ----------
    ka : float64[n, n, La]; kb : float64[n, n, Lb]
        Stacked centred Gram matrices of x and y (symmetric in the first two axes).
    seed : int
        Row ``t >= 1`` uses the permutation of random stream ``t - 1`` (``_stream_state(seed,
        t - 1)``, the permutations of the single-kernel permutation test); row 0 is the identity.
    out : float64[B + 1, La * Lb]
        ``out[t, a * Lb + b] = sum_ij ka[i, j, a] kb[pi_t(i), pi_t(j), b]``.

    Notes
    -----
    The upper triangle is summed once and doubled. Each row is summed serially in a fixed order,
    so the result does not depend on the number of threads. O(n^2 La Lb) per permutation.
    """
    n = ka.shape[0]
    la = ka.shape[2]
    lb = kb.shape[2]
    for t in prange(out.shape[0]):
        perm = np.empty(n, dtype=np.int64)
        if t == 0:
            for i in range(n):
                perm[i] = i
        else:
            _permutation(n, _stream_state(seed, t - 1), perm)
        diag = np.zeros((la, lb))
        off = np.zeros((la, lb))
        row = np.empty((la, lb))
        for i in range(n):
            pi = perm[i]
            krow = ka[i]
            lrow = kb[pi]
            for a in range(la):
                for b in range(lb):
                    diag[a, b] += krow[i, a] * lrow[pi, b]
                    row[a, b] = 0.0
            for j in range(i + 1, n):
                kv = krow[j]
                lv = lrow[perm[j]]
                for a in range(la):
                    u = kv[a]
                    for b in range(lb):
                        row[a, b] += u * lv[b]
            for a in range(la):
                for b in range(lb):
                    off[a, b] += row[a, b]
        for a in range(la):
            for b in range(lb):
                out[t, a * lb + b] = diag[a, b] + 2.0 * off[a, b]



def _inc_h(x, half, ii, jj, inv_two_sigma2, codes, out):
    """Split-sample kernel differences of the incomplete U-statistic, one row per design pair.

    Parameters
    ----------
    x : float64[n, p]
        Rows ``0 .. half-1`` are paired with rows ``half .. 2 half - 1``.
    half : int
        N, the number of row pairs.
    ii, jj : int64[D]
        The design: pair indices ``i < j < N``.
    inv_two_sigma2 : float64[L]
        ``1 / (2 sigma^2)`` of each Gaussian bandwidth (ignored when ``codes``).
    codes : bool
        x holds label codes: the delta kernel (``L == 1``).
    out : float64[D, L]
        ``h(i, j) = k(x_i, x_j) - k(x_i, x_{j+N}) - k(x_{i+N}, x_j) + k(x_{i+N}, x_{j+N})``.
    """
    m = inv_two_sigma2.shape[0]
    for d in prange(ii.shape[0]):
        i = ii[d]
        j = jj[d]
        if codes:
            a = x[i, 0]
            b = x[i + half, 0]
            c = x[j, 0]
            e = x[j + half, 0]
            v = 0.0
            if a == c:
                v += 1.0
            if a == e:
                v -= 1.0
            if b == c:
                v -= 1.0
            if b == e:
                v += 1.0
            out[d, 0] = v
            continue
        d1 = sq_dist(x, i, j)
        d2 = sq_dist(x, i, j + half)
        d3 = sq_dist(x, i + half, j)
        d4 = sq_dist(x, i + half, j + half)
        for l in range(m):
            g = inv_two_sigma2[l]
            out[d, l] = ((math.exp(-d1 * g) - math.exp(-d2 * g)) - math.exp(-d3 * g)) + math.exp(-d4 * g)


def _inc_boot(hx, hy, ii, jj, signs, out):
    """Wild-bootstrap sums of the incomplete U-statistic for every bandwidth pair.

    Parameters
    ----------
    hx : float64[D, La]; hy : float64[D, Lb]
        :func:`_inc_h` of x and of y.
    ii, jj : int64[D]
    signs : float64[B + 1, N]
        Row 0 all ones (the observed statistic), then the Rademacher draws.
    out : float64[B + 1, La * Lb]
        ``out[t, a * Lb + b] = sum_d signs[t, i_d] signs[t, j_d] hx[d, a] hy[d, b]``.

    Notes
    -----
    Each row is summed serially in design order, so the result does not depend on the number
    of threads. O(B D La Lb).
    """
    la = hx.shape[1]
    lb = hy.shape[1]
    for t in prange(out.shape[0]):
        acc = np.zeros((la, lb))
        eps = signs[t]
        for d in range(ii.shape[0]):
            s = eps[ii[d]] * eps[jj[d]]
            for a in range(la):
                u = s * hx[d, a]
                for b in range(lb):
                    acc[a, b] += u * hy[d, b]
        for a in range(la):
            for b in range(lb):
                out[t, a * lb + b] = acc[a, b]


# Both builds of every parallel kernel, made once at import; the driver picks one by size.
_KERNELS = {f.__name__: serial_and_parallel(f)[::-1] for f in (_agg_gram, _agg_centre, _agg_null, _inc_h, _inc_boot)}


def _build(name, work):
    import numba
    par, ser = _KERNELS[name]
    return par if work >= PARALLEL_WORK and numba.get_num_threads() > 1 else ser


# --------------------------------------------------------------------------- driver

def bandwidth_collection(a, collection=COLLECTION, name="x"):
    """Gaussian sigmas of the aggregated test for one variable.

    Parameters
    ----------
    a : array (n,) or (n, p)
    collection : (base, lo, hi)
        ``lambda_i = base^i m`` for ``i = lo..hi``, ``m`` the median distance (textmine's
        ``median`` rule, :func:`textmine.hsic.median_bandwidth`); agginc's kernel
        ``exp(-d^2 / lambda^2)`` is textmine's Gaussian with ``sigma = lambda / sqrt(2)``.
    name : str
        Used in error messages (a constant variable has no median distance).

    Returns
    -------
    list of float
        Increasing sigmas.

    Examples
    --------
    >>> [round(s, 4) for s in bandwidth_collection([0.0, 1.0, 3.0], (2, -1, 1))]
    [0.7071, 1.4142, 2.8284]
    """
    base, lo, hi = _check_collection(collection)
    m = median_bandwidth(a, "median", name)
    return [base ** i * m / math.sqrt(2.0) for i in range(lo, hi + 1)]


def _check_collection(collection):
    try:
        base, lo, hi = collection
        base = float(base)
        lo, hi = int(lo), int(hi)
    except (TypeError, ValueError):
        raise TextmineError(f"collection must be (base, lo, hi), e.g. (2, -2, 2); got {collection!r}") from None
    if not (base > 1 and math.isfinite(base)) or lo > hi or hi - lo > 20:
        raise TextmineError(f"collection (base {base}, {lo}..{hi}): need base > 1 and lo <= hi, at most 21 "
                            "bandwidths per variable")
    return base, lo, hi


@dataclasses.dataclass
class KernelPair:
    """One bandwidth pair of the aggregated test: its statistic, its own permutation p-value
    (not corrected for the collection) and whether it rejects at the corrected level."""
    bandwidth_x: float
    bandwidth_y: float
    statistic: float
    pvalue: float
    rejected: bool


def hsic_agg_test(x, y, n_permutations=1000, seed=1, alpha=0.05, collection=COLLECTION, bandwidths=None,
                  n_jobs=None, memory_limit=2 ** 31, categorical=(False, False), combine=COMBINE):
    """Aggregated HSIC test over a collection of Gaussian bandwidth pairs (HSICAgg).

    Parameters
    ----------
    x : array (n,) or (n, p)
    y : array (n,) or (n, q)
    n_permutations : int
        B, shared by every bandwidth pair (and by the level correction).
    seed : int
        Permutation ``t`` is the one of the single-kernel permutation test with the same seed;
        the result does not depend on ``n_jobs``.
    alpha : float
        Level at which ``kernels[k].rejected`` is decided (the p-value does not depend on it).
    collection : (base, lo, hi)
        See :func:`bandwidth_collection`.
    bandwidths : (list of float, list of float) or None
        Explicit sigmas for x and for y instead of the collection.
    n_jobs : int or None
        Numba threads.
    memory_limit : int
        Bytes allowed for the stacked Gram matrices, ``8 n^2 (Lx + Ly)``.
    categorical : (bool, bool)
        x, y (one column of integer codes, see :func:`textmine.hsic.encode_labels`) is a label
        compared by the delta kernel: it has no bandwidth, so its side of the collection is the
        one delta kernel (its bandwidth is None in the result) and the aggregation runs over the
        other variable's bandwidths only.
    combine : {"harmonic", "min"}
        How the pairs' p-values are combined into the test's p-value (each calibrated by the
        same permutations, so both are exact): ``harmonic`` (default) their harmonic mean,
        ``min`` the smallest (MMDAgg's ``u_alpha`` rule). See the module docstring.

    Returns
    -------
    HsicResult
        ``method="aggregated"``; ``pvalue`` the aggregated p-value; ``statistic`` and the
        bandwidths those of the pair with the smallest single p-value (the first on ties);
        ``kernels`` a list of :class:`KernelPair` (x's sigma outer, y's inner).

    Notes
    -----
    See the module docstring. Cost O(Lx Ly B n^2 / 2) time, O((Lx + Ly) n^2) memory.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> r = hsic_agg_test(x, np.sin(4 * x) + 0.5 * rng.normal(size=200), n_permutations=200)
    >>> r.pvalue <= 0.05, len(r.kernels)
    (True, 9)
    """
    x = _as_data(x, "x")
    y = _as_data(y, "y")
    n = x.shape[0]
    if y.shape[0] != n:
        raise TextmineError(f"x has {n} rows but y has {y.shape[0]}; the samples must be paired row by row")
    if n < 4:
        raise TextmineError(f"HSIC needs at least 4 samples, got {n}")
    b = int(n_permutations)
    if b < 1:
        raise TextmineError(f"n_permutations must be at least 1, got {n_permutations}")
    if int(seed) < 0:
        raise TextmineError(f"seed must be non-negative, got {seed}")
    if not 0 < float(alpha) < 1:
        raise TextmineError(f"alpha must be in (0, 1), got {alpha}")
    _check_combine(combine)
    cx, cy = (bool(c) for c in categorical)
    if bandwidths is None:
        sx = [None] if cx else bandwidth_collection(x, collection, "x")
        sy = [None] if cy else bandwidth_collection(y, collection, "y")
    else:
        sx, sy = ([float(v) for v in np.atleast_1d(s)] for s in bandwidths)
        if not all(v > 0 and math.isfinite(v) for v in sx + sy) or not sx or not sy:
            raise TextmineError("bandwidths must be positive and finite")
        sx, sy = ([None] if cx else sx), ([None] if cy else sy)
    need = 8 * n * n * (len(sx) + len(sy))
    if need > memory_limit:
        raise TextmineError(f"the aggregated test at n = {n} needs {need / 2 ** 30:.1f} GiB for its "
                            f"{len(sx)} + {len(sy)} kernel matrices; use --pvalue rff or block, or fewer rows")
    with _Threads(n_jobs):
        ka = _stacked(x, sx)
        kb = _stacked(y, sy)
        vals = np.empty((b + 1, len(sx) * len(sy)))
        with np.errstate(over="ignore"):
            _build("_agg_null", n * n * len(sx) * len(sy) * (b + 1) // 2)(ka, kb, int(seed), vals)
    na = np.sqrt(np.einsum("ija,ija->a", ka, ka))
    nb = np.sqrt(np.einsum("ija,ija->a", kb, kb))
    tol = 1e-12 * np.outer(na, nb).ravel()
    counts = _counts(vals, tol)
    pval, reject = _aggregate(counts, alpha, combine)
    pairs = []
    for a in range(len(sx)):
        for c in range(len(sy)):
            k = a * len(sy) + c
            pairs.append(KernelPair(sx[a], sy[c], float(vals[0, k]) / (n * n), float(counts[0, k]) / (b + 1),
                                    bool(reject[k])))
    best = int(np.argmin(counts[0]))
    return HsicResult(pairs[best].statistic, pval, "biased", "aggregated", pairs[best].bandwidth_x,
                      pairs[best].bandwidth_y, n, b, int(seed), kernels=pairs, alpha=float(alpha))


def _stacked(a, sigmas):
    """Stacked H-centred Gram matrices, one slice per sigma; ``[None]``: the delta kernel of codes."""
    n = a.shape[0]
    if sigmas == [None]:
        c = a[:, 0]
        k = np.ascontiguousarray((c[:, None] == c[None, :])[:, :, None], dtype=np.float64)
        _build("_agg_centre", 2 * n * n)(k)
        return k
    g = np.ascontiguousarray([1.0 / (2.0 * s * s) for s in sigmas], dtype=np.float64)
    k = np.empty((n, n, len(sigmas)))
    _build("_agg_gram", n * n * (a.shape[1] + 8 * len(sigmas)))(a, g, k)
    _build("_agg_centre", 2 * n * n * len(sigmas))(k)
    return k


def _counts(vals, tol):
    """``counts[t, l] = #{c : vals[c, l] >= vals[t, l] - tol[l]}`` (the rank p-value times B + 1).

    Parameters
    ----------
    vals : float64[B + 1, L]
    tol : float64[L]
        Values within ``tol`` count as ties (rounding of permutations that only swap tied rows).
    """
    m = vals.shape[0]
    out = np.empty(vals.shape, dtype=np.int64)
    for l in range(vals.shape[1]):
        s = np.sort(vals[:, l])
        out[:, l] = m - np.searchsorted(s, vals[:, l] - tol[l], side="left")
    return out


def _aggregate(counts, alpha, combine=COMBINE):
    """Combine the per-pair rank counts into one p-value, and mark the pairs that reject.

    Parameters
    ----------
    counts : int64[B + 1, L]
        :func:`_counts`: row 0 the observed values, rows 1..B the permuted ones.
    alpha : float
    combine : {"harmonic", "min"}
        The combining function, applied to every row alike: ``harmonic`` the harmonic mean of
        the L p-values (small is extreme), ``min`` the smallest p-value (MMDAgg's rule).

    Returns
    -------
    pvalue : float
        ``min``: ``#{t : min_l counts[t, l] <= min_l counts[0, l]} / (B + 1)``; ``harmonic``:
        ``#{t : sum_l 1 / counts[t, l] >= sum_l 1 / counts[0, l]} / (B + 1)`` (ties, within a
        relative 1e-12 of rounding, count as at least as extreme).
    reject : bool[L]
        Pair l rejects iff ``counts[0, l] <= K*``, the largest count threshold with
        ``#{t : min_l counts[t, l] <= K*} <= alpha (B + 1)`` -- MMDAgg's ``u_alpha`` rule with
        uniform weights (``K* = (B + 1) u_alpha / L`` up to rounding) -- and, for ``harmonic``,
        ``pvalue <= alpha``. With ``min`` some pair rejects exactly when ``pvalue <= alpha``; with
        ``harmonic`` some pair rejecting implies ``pvalue <= alpha``, not the converse.
    """
    m = counts.shape[0]
    low = counts.min(axis=1)
    allowed = int(math.floor(alpha * m + 1e-9))
    kstar = m if allowed >= m else int(np.sort(low)[allowed]) - 1
    reject = counts[0] <= kstar
    if combine == "min":
        return float(np.count_nonzero(low <= low[0])) / m, reject
    h = (1.0 / counts).sum(axis=1)          # L / (harmonic mean of the p-values) / (B + 1): large is extreme
    pval = float(np.count_nonzero(h >= h[0] * (1.0 - 1e-12))) / m
    return pval, reject & (pval <= alpha)


def _check_combine(combine):
    if combine not in ("harmonic", "min"):
        raise TextmineError(f"combine must be 'harmonic' or 'min', got {combine!r}")
    return combine


# --------------------------------------------------------------------------- incomplete U-statistic (large n)

INC_R = 200        # agginc's default design: each row pair against the next R pairs


def inc_design(half, r):
    """Design pairs ``(i, i + s)``, ``1 <= s <= r``, ``i + s < half``, in row order (agginc's ``D_R``)."""
    r = min(int(r), half - 1)
    ii = np.repeat(np.arange(half, dtype=np.int64), r)
    jj = ii + np.tile(np.arange(1, r + 1, dtype=np.int64), half)
    keep = jj < half
    return np.ascontiguousarray(ii[keep]), np.ascontiguousarray(jj[keep])


def hsic_agg_inc_test(x, y, r=INC_R, n_bootstrap=500, seed=1, alpha=0.05, collection=COLLECTION, n_jobs=None,
                      categorical=(False, False), memory_limit=2 ** 31, combine=COMBINE):
    """Aggregated HSIC test on an incomplete U-statistic, in time linear in n (HSICAggInc).

    Parameters
    ----------
    x : array (n,) or (n, p); y : array (n,) or (n, q)
    r : int
        Design size R: each of the N = n // 2 row pairs is compared with the next R pairs
        (``R >= N - 1``: the complete U-statistic over the pairs).
    n_bootstrap : int
        B wild-bootstrap draws, shared by every bandwidth pair and by the level correction.
    seed : int
        Seeds the row shuffle and the Rademacher signs; the result does not depend on ``n_jobs``.
    alpha, collection, n_jobs, categorical, combine
        As in :func:`hsic_agg_test`.
    memory_limit : int
        Bytes allowed for the kernel differences, ``8 |D| (Lx + Ly)`` with ``|D| ~ R n / 2``.

    Returns
    -------
    HsicResult
        ``method="aggregated-inc"``, ``n_permutations`` = B; ``statistic`` the incomplete
        U-statistic of the pair with the smallest single p-value; ``kernels`` as in
        :func:`hsic_agg_test`.

    Notes
    -----
    ALGORITHMS-2.md section 1 (Schrab, Kim, Guedj & Gretton, NeurIPS 2022). Rows are shuffled
    (seeded) and row ``i`` is paired with row ``i + N``; ``h(i, j) = h^X(i, j) h^Y(i, j)`` with
    the kernel differences of :func:`_inc_h`; the statistic is the mean of h over the design.
    Flipping the sign of pair i is the swap of ``y_i`` and ``y_{i+N}``, under which h^Y changes
    sign in every design pair that holds i: the wild bootstrap is a random subgroup of the
    permutations, so the rank p-values and their combination as in :func:`hsic_agg_test` are
    exact here too. Cost O(|Lambda| B R n / 2) time, O(|Lambda| R n) memory.
    """
    from textmine.hsic import HsicResult, _as_data
    x = _as_data(x, "x")
    y = _as_data(y, "y")
    n = x.shape[0]
    if y.shape[0] != n:
        raise TextmineError(f"x has {n} rows but y has {y.shape[0]}; the samples must be paired row by row")
    if n < 8:
        raise TextmineError(f"the incomplete aggregated test needs at least 8 samples, got {n}")
    b = int(n_bootstrap)
    if b < 1 or int(r) < 1 or int(seed) < 0 or not 0 < float(alpha) < 1:
        raise TextmineError(f"need n_bootstrap >= 1, r >= 1, seed >= 0 and 0 < alpha < 1; got {n_bootstrap}, {r}, "
                            f"{seed}, {alpha}")
    _check_combine(combine)
    cx, cy = (bool(c) for c in categorical)
    sx = [None] if cx else bandwidth_collection(x, collection, "x")
    sy = [None] if cy else bandwidth_collection(y, collection, "y")
    half = n // 2
    rng = np.random.default_rng(int(seed))
    order = rng.permutation(n)[:2 * half]
    xs = np.ascontiguousarray(x[order])
    ys = np.ascontiguousarray(y[order])
    ii, jj = inc_design(half, r)
    need = 8 * ii.size * (len(sx) + len(sy)) + 8 * (b + 1) * half
    if need > memory_limit:
        raise TextmineError(f"the incomplete aggregated test at n = {n} needs {need / 2 ** 30:.1f} GiB for its "
                            f"{ii.size} design pairs; use --pvalue rff or block, or fewer rows")
    signs = np.ones((b + 1, half))
    signs[1:] = rng.integers(0, 2, size=(b, half)) * 2.0 - 1.0
    with _Threads(n_jobs):
        hx = _inc_side(xs, half, ii, jj, sx)
        hy = _inc_side(ys, half, ii, jj, sy)
        vals = np.empty((b + 1, len(sx) * len(sy)))
        _build("_inc_boot", ii.size * len(sx) * len(sy) * (b + 1))(hx, hy, ii, jj, signs, vals)
    scale = np.sqrt(np.outer((hx * hx).sum(axis=0), (hy * hy).sum(axis=0))).ravel()
    counts = _counts(vals, 1e-12 * scale)
    pval, reject = _aggregate(counts, alpha, combine)
    pairs = []
    for a in range(len(sx)):
        for c in range(len(sy)):
            k = a * len(sy) + c
            pairs.append(KernelPair(sx[a], sy[c], float(vals[0, k]) / ii.size, float(counts[0, k]) / (b + 1),
                                    bool(reject[k])))
    best = int(np.argmin(counts[0]))
    return HsicResult(pairs[best].statistic, pval, "incomplete", "aggregated-inc", pairs[best].bandwidth_x,
                      pairs[best].bandwidth_y, n, b, int(seed), kernels=pairs, alpha=float(alpha))


def _inc_side(a, half, ii, jj, sigmas):
    codes = sigmas == [None]
    g = np.ascontiguousarray([0.0] if codes else [1.0 / (2.0 * s * s) for s in sigmas], dtype=np.float64)
    out = np.empty((ii.size, g.size))
    _build("_inc_h", ii.size * (4 * a.shape[1] + 4 * g.size))(a, half, ii, jj, g, codes, out)
    return out
