"""Slow, obviously correct twins of the HSIC kernels in textmine/hsic.py (written from the formulas)."""
import math

import numpy as np
from scipy import stats

M64 = (1 << 64) - 1


def gaussian_gram(x, sigma):
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    n = len(x)
    k = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            k[i, j] = math.exp(-sum((x[i] - x[j]) ** 2) / (2 * sigma * sigma))
    return k


def linear_gram(x):
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    return x @ x.T


def centring(n):
    return np.eye(n) - np.ones((n, n)) / n


def h_centre(k):
    h = centring(len(k))
    return h @ k @ h


def u_centre(k):
    """Szekely & Rizzo (2014) U-centring, zero diagonal, written out entry by entry."""
    n = len(k)
    kz = k - np.diag(np.diag(k))
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                out[i, j] = (kz[i, j] - kz[i].sum() / (n - 2) - kz[:, j].sum() / (n - 2)
                             + kz.sum() / ((n - 1) * (n - 2)))
    return out


def hsic_biased(k, l):
    n = len(k)
    h = centring(n)
    return np.trace(k @ h @ l @ h) / n ** 2


def hsic_gretton2005(k, l):
    n = len(k)
    h = centring(n)
    return np.trace(k @ h @ l @ h) / (n - 1) ** 2


def hsic_unbiased(k, l):
    """Song et al. (2012), Theorem 2, with zeroed diagonals."""
    n = len(k)
    kt = k - np.diag(np.diag(k))
    lt = l - np.diag(np.diag(l))
    one = np.ones(n)
    return (np.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
            - 2.0 / (n - 2) * (one @ kt @ lt @ one)) / (n * (n - 3))


def hsic_normalized(k, l):
    vx = hsic_unbiased(k, k)
    vy = hsic_unbiased(l, l)
    if vx <= 0 or vy <= 0:
        return 0.0
    return hsic_unbiased(k, l) / math.sqrt(vx * vy)


def gretton_sigma(x):
    """``hsicTestGamma.m``'s bandwidth: sqrt(0.5 median(dists(dists>0))) over the first 100 rows."""
    x = np.asarray(x, dtype=float).reshape(len(x), -1)[:100]
    d = [sum((x[i] - x[j]) ** 2) for i in range(len(x)) for j in range(i + 1, len(x))]
    d = [v for v in d if v > 0]
    return math.sqrt(0.5 * float(np.median(d)))


def median_sigma(x):
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    d = [math.sqrt(sum((x[i] - x[j]) ** 2)) for i in range(len(x)) for j in range(i + 1, len(x))]
    return float(np.median(d))


def gamma_test(k, l):
    """Transcription of Gretton's ``hsicTestGamma.m`` (test statistic and p-value)."""
    m = len(k)
    h = centring(m)
    kc = h @ k @ h
    lc = h @ l @ h
    stat = 1.0 / m * np.sum(kc.T * lc)
    var = (1.0 / 6 * kc * lc) ** 2
    var = 1.0 / m / (m - 1) * (var.sum() - np.trace(var))
    var = 72 * (m - 4) * (m - 5) / m / (m - 1) / (m - 2) / (m - 3) * var
    k0 = k - np.diag(np.diag(k))
    l0 = l - np.diag(np.diag(l))
    one = np.ones(m)
    mux = 1.0 / m / (m - 1) * (one @ k0 @ one)
    muy = 1.0 / m / (m - 1) * (one @ l0 @ one)
    mean = 1.0 / m * (1 + mux * muy - mux - muy)
    al = mean ** 2 / var
    bet = var * m / mean
    return stat, stats.gamma.sf(stat, al, scale=bet)


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def stream_state(seed, stream):
    _, z1 = splitmix64(seed & M64)
    s2 = z1 ^ ((stream * 0x94D049BB133111EB) & M64)
    _, z2 = splitmix64(s2)
    return z2


def permutation(n, state):
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        state, z = splitmix64(state)
        j = int((z >> 11) / 2.0 ** 53 * (i + 1))
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def permutation_null(a, b, seed, n_perm):
    out = []
    for t in range(n_perm):
        p = permutation(len(a), stream_state(seed, t))
        out.append(np.sum(a * b[np.ix_(p, p)]))
    return np.array(out)


def block_hsic(x, y, sx, sy, block):
    """Song's unbiased HSIC on consecutive blocks of Gaussian Gram matrices."""
    out = []
    for t in range(len(x) // block):
        xs = x[t * block:(t + 1) * block]
        ys = y[t * block:(t + 1) * block]
        out.append(hsic_unbiased(gaussian_gram(xs, sx), gaussian_gram(ys, sy)))
    return np.array(out)


def rff_hsic(x, y, omega_x, b_x, omega_y, b_y):
    """Biased HSIC of the random-feature kernel: ||(1/n) Phi_x^T H Phi_y||_F^2 and the gamma p-value."""
    n = len(x)
    px = math.sqrt(2.0 / omega_x.shape[1]) * np.cos(x @ omega_x + b_x)
    py = math.sqrt(2.0 / omega_y.shape[1]) * np.cos(y @ omega_y + b_y)
    h = centring(n)
    cxy = px.T @ h @ py / n
    cxx = px.T @ h @ px / n
    cyy = py.T @ h @ py / n
    stat = np.sum(cxy ** 2)
    lx = np.linalg.eigvalsh(cxx)
    ly = np.linalg.eigvalsh(cyy)
    w = np.outer(lx, ly).ravel()          # null: sum w z^2
    mean, var = w.sum(), 2 * (w ** 2).sum()
    return stat, stats.gamma.sf(n * stat, mean ** 2 / var, scale=var / mean)


def lowrank_null(gat, gb, seed, idx):
    """``||Ga^T Gb[pi_t]||_F^2`` = ``sum_ij (Ga Ga^T)_ij (Gb Gb^T)_{pi(i) pi(j)}`` for each t in idx."""
    a = gat.T @ gat
    b = gb @ gb.T
    out = []
    for t in idx:
        p = permutation(len(a), stream_state(seed, int(t)))
        out.append(np.sum(a * b[np.ix_(p, p)]))
    return np.array(out)


def residual_norms(a, gt):
    """Row sums of ``(A - G G^T)^2`` and of ``(G G^T)^2``."""
    low = gt.T @ gt
    return np.stack([np.sum((a - low) ** 2, axis=1), np.sum(low ** 2, axis=1)], axis=1)


# ---------------------------------------------------------------- aggregated test (textmine/hsic_agg.py)

def agg_gram(x, sigmas):
    """Stacked Gaussian Gram matrices, one slice per sigma."""
    return np.stack([gaussian_gram(x, s) for s in sigmas], axis=2)


def agg_centre(k):
    """``H K_a H`` for every slice."""
    return np.stack([h_centre(k[:, :, a]) for a in range(k.shape[2])], axis=2)


def agg_null(ka, kb, seed, n_perm):
    """Row 0: the identity; row t: permutation ``t - 1`` of the single-kernel test's streams."""
    n = ka.shape[0]
    out = []
    for t in range(n_perm + 1):
        p = list(range(n)) if t == 0 else permutation(n, stream_state(seed, t - 1))
        out.append([np.sum(ka[:, :, a] * kb[np.ix_(p, p, [b])][:, :, 0])
                    for a in range(ka.shape[2]) for b in range(kb.shape[2])])
    return np.array(out)


def agg_rank_counts(vals):
    """``#{c : vals[c, l] >= vals[t, l]}`` by double loop."""
    m, L = vals.shape
    return np.array([[sum(vals[c, l] >= vals[t, l] for c in range(m)) for l in range(L)] for t in range(m)])


def agg_harmonic_pvalue(vals):
    """The harmonic-mean combination, exactly: each row's per-pair p-values are its ranks among
    the rows (:func:`agg_rank_counts` / m); a row is at least as extreme as the observed row 0
    when the harmonic mean of its p-values is at most row 0's (compared as fractions)."""
    from fractions import Fraction
    c = agg_rank_counts(vals)
    m, L = c.shape
    hmp = [Fraction(L) / sum(Fraction(m, int(c[t, l])) for l in range(L)) for t in range(m)]
    return sum(h <= hmp[0] for h in hmp) / m


def mmdagg_decision(vals, alpha, steps=60):
    """MMDAgg's rule with uniform weights, as published (Schrab et al. 2023, Algorithm 1), with the
    same permutations in both roles (B1 = B2 = the B + 1 rows, the observed one included):
    quantile ``q_l(1 - u/L)`` = element ``ceil((B+1)(1 - u/L))`` of the sorted values of pair l;
    ``u_alpha`` = sup{u : #{t : exists l, vals[t, l] > q_l(1 - u/L)} / (B+1) <= alpha}, found by
    bisection on (0, L); pair l rejects iff its observed value exceeds its quantile at ``u_alpha``.
    Returns the per-pair decisions (the test rejects iff any is true)."""
    m, L = vals.shape
    srt = np.sort(vals, axis=0)

    def quantiles(u):
        k = int(math.ceil(m * (1 - u / L)))
        k = min(max(k, 1), m)
        return srt[k - 1]

    def rate(u):
        q = quantiles(u)
        return np.mean(np.any(vals > q, axis=1))

    lo, hi = 0.0, float(L)
    for _ in range(steps):
        mid = (lo + hi) / 2
        if rate(mid) <= alpha:
            lo = mid
        else:
            hi = mid
    return vals[0] > quantiles(lo)


# ---------------------------------------------------------------- distance covariance (textmine/dcor.py)

def distance_gram(x):
    """``-||x_i - x_j||`` entry by entry."""
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    n = len(x)
    return np.array([[-math.sqrt(sum((x[i] - x[j]) ** 2)) for j in range(n)] for i in range(n)])


def dcov_row_sums(v):
    return np.array([sum(abs(a - b) for b in v) for a in v])


def dcov_cross(x, y):
    """``sum_{i != j} |x_i - x_j| |y_i - y_j|`` by double loop."""
    n = len(x)
    return sum(abs(x[i] - x[j]) * abs(y[i] - y[j]) for i in range(n) for j in range(n) if i != j)


def dcov_sqr(x, y):
    """Double-centred V_n^2 (Szekely, Rizzo & Bakirov 2007), from the distance matrices."""
    a = -distance_gram(x)
    b = -distance_gram(y)
    return np.mean(h_centre(a) * h_centre(b))


def u_dcor_sqr(x, y):
    """Bias-corrected distance correlation from U-centred distance matrices (Szekely & Rizzo 2014)."""
    a = u_centre(-distance_gram(x))
    b = u_centre(-distance_gram(y))
    vx, vy = np.sum(a * a), np.sum(b * b)
    return 0.0 if vx <= 0 or vy <= 0 else np.sum(a * b) / math.sqrt(vx * vy)


def delta_gram(labels):
    """Delta kernel of a list of labels: 1 where two labels are equal, else 0 (entry by entry)."""
    n = len(labels)
    return np.array([[1.0 if labels[i] == labels[j] else 0.0 for j in range(n)] for i in range(n)])


def block_hsic_grams(k, l, block):
    """Song's unbiased HSIC on consecutive diagonal blocks of two full Gram matrices."""
    return np.array([hsic_unbiased(k[t * block:(t + 1) * block, t * block:(t + 1) * block],
                                   l[t * block:(t + 1) * block, t * block:(t + 1) * block])
                     for t in range(len(k) // block)])


def inc_h(x, half, ii, jj, sigmas):
    """Split-sample kernel differences h(i, j) of the incomplete U-statistic, from the formula."""
    x = np.asarray(x, dtype=float).reshape(len(x), -1)

    def k(a, b, s):
        if s is None:
            return 1.0 if x[a, 0] == x[b, 0] else 0.0
        return math.exp(-sum((x[a] - x[b]) ** 2) / (2 * s * s))
    return np.array([[k(i, j, s) - k(i, j + half, s) - k(i + half, j, s) + k(i + half, j + half, s)
                      for s in sigmas] for i, j in zip(ii, jj)])


def inc_boot(hx, hy, ii, jj, signs):
    """sum_d eps_i eps_j hx[d, a] hy[d, b] for each sign row, pair by pair."""
    out = np.zeros((len(signs), hx.shape[1] * hy.shape[1]))
    for t, eps in enumerate(signs):
        for a in range(hx.shape[1]):
            for b in range(hy.shape[1]):
                out[t, a * hy.shape[1] + b] = sum(eps[i] * eps[j] * hx[d, a] * hy[d, b]
                                                  for d, (i, j) in enumerate(zip(ii, jj)))
    return out
