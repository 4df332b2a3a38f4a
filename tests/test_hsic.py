"""HSIC: kernels against their naive twins, estimators against the formulas, tests against the references."""
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import naive_hsic as naive
from conftest import JIT_DISABLED
from textmine import hsic as H
from textmine.cli import cli
from textmine.errors import TextmineError
from textmine.hsic import hsic, hsic_pairwise, hsic_test, median_bandwidth, read_table


def data(n=40, p=2, q=3, seed=0, dep=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    y = rng.normal(size=(n, q))
    if dep:
        y[:, 0] += x[:, 0] ** 2
    return x, y


def rel(a, b):
    return abs(a - b) / max(1e-300, abs(b))


BUILDS = ["parallel", "serial"]


def build(name, which):
    """The parallel or the serial build of a kernel."""
    return H._KERNELS[name][BUILDS.index(which)]


# ---------------------------------------------------------------- kernels vs naive twins

@pytest.mark.parametrize("which", BUILDS)
def test_gaussian_gram_matches_naive(which):
    x, _ = data(n=25, p=3)
    k = np.empty((25, 25))
    build("_gaussian_gram", which)(x, 1.0 / (2 * 0.7 ** 2), k)
    np.testing.assert_allclose(k, naive.gaussian_gram(x, 0.7), rtol=1e-13, atol=1e-15)
    assert np.array_equal(k, k.T) and np.all(np.diag(k) == 1.0)


@pytest.mark.parametrize("which", BUILDS)
@pytest.mark.parametrize("unbiased", [False, True])
def test_centre_matches_naive(unbiased, which):
    x, _ = data(n=17, p=2, seed=3)
    k = naive.gaussian_gram(x, 1.3)
    c = k.copy()
    rows, total, trace = build("_centre", which)(c, unbiased)
    want = naive.u_centre(k) if unbiased else naive.h_centre(k)
    np.testing.assert_allclose(c, want, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(rows, k.sum(axis=1), rtol=1e-13)
    assert math.isclose(total, k.sum(), rel_tol=1e-13) and math.isclose(trace, np.trace(k), rel_tol=1e-13)


@pytest.mark.parametrize("which", BUILDS)
def test_frob_and_pair_sqdists(which):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 13, 13))
    dot, sq = build("_frob", which)(a, b)
    assert math.isclose(dot, np.sum(a * b), rel_tol=1e-12)
    off = (a * b) ** 2
    assert math.isclose(sq, off.sum() - np.trace(off), rel_tol=1e-12)
    x = rng.normal(size=(9, 3))
    want = [np.sum((x[i] - x[j]) ** 2) for i in range(9) for j in range(i + 1, 9)]
    np.testing.assert_allclose(H._sqdists(x), want, rtol=1e-14)


def test_splitmix_and_permutation_match_python_twin():
    for seed, stream in [(0, 0), (1, 5), (2 ** 40 + 7, 999)]:
        with np.errstate(over="ignore"):      # uint64 arithmetic wraps (NUMBA_DISABLE_JIT runs numpy scalars)
            s = H._stream_state(seed, stream)
        assert int(s) == naive.stream_state(seed, stream)
        perm = np.empty(31, dtype=np.int64)
        with np.errstate(over="ignore"):
            H._permutation(31, np.uint64(s), perm)
        assert perm.tolist() == naive.permutation(31, int(s))
        assert sorted(perm.tolist()) == list(range(31))


@pytest.mark.parametrize("which", BUILDS)
def test_permutation_null_matches_naive(which):
    x, y = data(n=14, p=1, q=1, seed=5)
    a = naive.h_centre(naive.gaussian_gram(x, 1.0))
    b = naive.h_centre(naive.gaussian_gram(y, 1.2))
    out = np.empty(25)
    with np.errstate(over="ignore"):
        build("_permutation_null", which)(a, b, 7, out)
    np.testing.assert_allclose(out, naive.permutation_null(a, b, 7, 25), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("which", BUILDS)
def test_block_hsic_matches_naive(which):
    x, y = data(n=60, p=2, q=1, seed=6)
    out = np.empty(3)
    build("_block_hsic", which)(x, y, 1 / (2 * 0.9 ** 2), 1 / (2 * 1.1 ** 2), 20, out)
    np.testing.assert_allclose(out, naive.block_hsic(x, y, 0.9, 1.1, 20), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("which", BUILDS)
def test_rff_matches_naive(which, monkeypatch):
    monkeypatch.setattr(H, "PARALLEL_WORK", 0 if which == "parallel" else 10 ** 18)
    x, y = data(n=300, p=2, q=1, seed=8)
    stat, p = H._rff_test(x, y, "gaussian", 0.8, 1.1, 20, 3)
    rng = np.random.default_rng(3)
    wx, bx = H._features(x, "gaussian", 0.8, 20, rng)
    wy, by = H._features(y, "gaussian", 1.1, 20, rng)
    want_stat, want_p = naive.rff_hsic(x, y, wx, bx, wy, by)
    assert rel(stat, want_stat) < 1e-10 and rel(p, want_p) < 1e-8


def test_rff_linear_kernel_is_exact_biased_hsic():
    x, y = data(n=200, p=3, q=2, seed=9)
    stat, _ = H._rff_test(x, y, "linear", None, None, 100, 0)
    assert rel(stat, naive.hsic_biased(naive.linear_gram(x), naive.linear_gram(y))) < 1e-10


def test_rff_chunks_do_not_change_the_result(monkeypatch):
    x, y = data(n=700, p=1, q=1, seed=10)
    a = H._rff_test(x, y, "gaussian", 1.0, 1.0, 30, 1)
    monkeypatch.setattr(H, "_CHUNK", 64)
    b = H._rff_test(x, y, "gaussian", 1.0, 1.0, 30, 1)
    assert rel(a[0], b[0]) < 1e-12 and rel(a[1], b[1]) < 1e-9


def test_gamma_sf_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    for a in (0.3, 1.0, 2.5, 17.0, 400.0):
        for z in (1e-3, 0.5, 1.0, 3.0, 20.0, 150.0, 900.0, 5000.0):
            want = stats.gamma.sf(z, a)
            got = H._gamma_sf(z, a, 1.0)
            assert abs(got - want) <= 1e-12 + 1e-9 * want, (a, z, got, want)
    assert H._gamma_sf(-1.0, 2.0, 1.0) == 1.0


# ---------------------------------------------------------------- estimators vs formulas

@pytest.mark.parametrize("kernel", ["gaussian", "linear", "precomputed"])
@pytest.mark.parametrize("estimator,formula", [("biased", naive.hsic_biased), ("unbiased", naive.hsic_unbiased),
                                               ("gretton2005", naive.hsic_gretton2005),
                                               ("normalized", naive.hsic_normalized)])
def test_estimators_match_formulas(kernel, estimator, formula):
    x, y = data(n=30, seed=11)
    if kernel == "gaussian":
        k, l = naive.gaussian_gram(x, 1.1), naive.gaussian_gram(y, 0.9)
        got = hsic(x, y, bandwidth=(1.1, 0.9), estimator=estimator)
    elif kernel == "linear":
        k, l = naive.linear_gram(x), naive.linear_gram(y)
        got = hsic(x, y, kernel="linear", estimator=estimator)
    else:
        k, l = naive.gaussian_gram(x, 0.5), naive.linear_gram(y)
        got = hsic(k, l, kernel="precomputed", estimator=estimator)
    assert rel(got, formula(k, l)) < 1e-10


def test_default_bandwidth_is_per_variable_median():
    x, y = data(n=50, p=1, q=2, seed=12)
    y *= 10
    r = hsic_test(x, y, method="gamma")
    assert rel(r.bandwidth_x, naive.median_sigma(x)) < 1e-12
    assert rel(r.bandwidth_y, naive.median_sigma(y)) < 1e-12
    want = naive.hsic_biased(naive.gaussian_gram(x, r.bandwidth_x), naive.gaussian_gram(y, r.bandwidth_y))
    assert rel(r.statistic, want) < 1e-10


def test_bandwidth_rules():
    x, _ = data(n=150, p=2, seed=13)
    assert rel(median_bandwidth(x, "gretton"), naive.gretton_sigma(x)) < 1e-12
    assert median_bandwidth([0.0, 1.0, 3.0]) == 2.0
    # median over ties falls back to positive distances; hyppo's rule gives 1 for a zero median
    assert median_bandwidth([0, 0, 0, 0, 0, 1.0]) == 1.0
    assert median_bandwidth([0, 0, 0, 0, 0, 2.0], "hyppo") == 1.0
    big = np.arange(5000.0)
    assert abs(median_bandwidth(big) / naive.median_sigma(big[::10]) - 1) < 0.05


def test_gamma_test_reproduces_hsicTestGamma():
    x, y = data(n=80, p=1, q=1, seed=14)
    y = 0.3 * y + np.sin(2 * x)
    r = hsic_test(x, y, bandwidth="gretton", method="gamma")
    k = naive.gaussian_gram(x, naive.gretton_sigma(x))
    l = naive.gaussian_gram(y, naive.gretton_sigma(y))
    stat, p = naive.gamma_test(k, l)
    assert rel(r.statistic * 80, stat) < 1e-10
    assert rel(r.pvalue, p) < 1e-8 and r.estimator == "biased"


def test_normalized_chi2_reproduces_hyppo():
    hyppo = pytest.importorskip("hyppo.independence")
    x, y = data(n=60, p=1, q=1, seed=15)
    y = y + x
    r = hsic_test(x, y, bandwidth="hyppo", estimator="normalized", method="chi2")
    stat, p = hyppo.Hsic().test(x, y)
    assert rel(r.statistic, stat) < 1e-10 and rel(r.pvalue, p) < 1e-8
    # with an explicit shared sigma the statistic is the same too
    s = 0.7
    assert rel(hsic(x, y, bandwidth=s, estimator="normalized"),
               hyppo.Hsic(gamma=1 / (2 * s * s)).statistic(x, y)) < 1e-10


# ---------------------------------------------------------------- p-values

def test_permutation_pvalue_definition_and_threads():
    x, y = data(n=40, p=1, q=1, seed=16, dep=False)
    r = hsic_test(x, y, method="permutation", n_permutations=99, seed=3, return_null=True)
    count = np.count_nonzero(r.null >= r.statistic - 1e-15)
    assert r.pvalue == pytest.approx((1 + count) / 100)
    if not JIT_DISABLED:
        r2 = hsic_test(x, y, method="permutation", n_permutations=99, seed=3, n_jobs=1)
        r3 = hsic_test(x, y, method="permutation", n_permutations=99, seed=3, n_jobs=2)
        assert r.pvalue == r2.pvalue == r3.pvalue
    r4 = hsic_test(x, y, method="permutation", n_permutations=99, seed=4)
    assert r4.statistic == r.statistic


def test_float32_pass_gives_the_float64_pvalue(monkeypatch):
    monkeypatch.setattr(H, "LOWRANK_MAX_BOUND", -1.0)     # the direct float32 pass only
    rng = np.random.default_rng(24)
    for t in range(6):
        x = rng.normal(size=(45, 1))
        y = rng.normal(size=(45, 1)) + (t % 3) * 0.3 * x
        gx = H._gram(x, "gaussian", 1.0, t % 2 == 1)
        gy = H._gram(y, "gaussian", 1.0, t % 2 == 1)
        dot = H._frob_any(gx.c, gy.c)[0]
        exact = H._permutation_values(gx.c, gy.c, dot, t, 300, exact=True)
        fast = H._permutation_values(gx.c, gy.c, dot, t, 300)
        assert np.count_nonzero(fast >= dot) == np.count_nonzero(exact >= dot)
        assert np.max(np.abs(fast - exact)) <= 1e-6 * np.sqrt(np.sum(gx.c ** 2) * np.sum(gy.c ** 2))
        # a margin wide enough to recompute everything gives the float64 values exactly
        monkeypatch.setattr(H, "F32_MARGIN", 1e9)
        assert np.array_equal(H._permutation_values(gx.c, gy.c, dot, t, 300), exact)
        monkeypatch.setattr(H, "F32_MARGIN", 1e-6)
        # the observed value itself is in the null (identity-like draws) to rounding: recomputed
        at = H._permutation_values(gx.c, gy.c, exact[7], t, 300)
        assert at[7] == exact[7]


@pytest.mark.parametrize("which", BUILDS)
def test_lowrank_null_matches_naive(which):
    rng = np.random.default_rng(30)
    gat = rng.normal(size=(3, 17))
    gb = rng.normal(size=(17, 5))
    idx = np.array([0, 1, 2, 19, 7, 7, 400], dtype=np.int64)
    out = np.empty(idx.size)
    with np.errstate(over="ignore"):
        build("_lowrank_null", which)(gat, gb, 9, idx, out)
    np.testing.assert_allclose(out, naive.lowrank_null(gat, gb, 9, idx), rtol=1e-11)


@pytest.mark.parametrize("which", BUILDS)
def test_residual_norms_matches_naive(which):
    rng = np.random.default_rng(31)
    a = rng.normal(size=(19, 19))
    gt = rng.normal(size=(4, 19))
    rows = np.empty((19, 2))
    build("_residual_norms", which)(a, gt, rows)
    np.testing.assert_allclose(rows, naive.residual_norms(a, gt), rtol=1e-12)


def test_pivoted_cholesky_recovers_a_low_rank_matrix():
    rng = np.random.default_rng(32)
    g = rng.normal(size=(30, 4))
    a = g @ g.T
    f = H._pivoted_cholesky(a, 30, 1e-9)
    assert f.shape[1] == 4
    np.testing.assert_allclose(f @ f.T, a, atol=1e-10)
    assert H._pivoted_cholesky(a, 2, 0.0).shape[1] == 2            # the rank cap
    assert H._pivoted_cholesky(np.zeros((5, 5)), 5, 0.0).shape[1] == 0


def test_compress_drops_only_what_the_tolerance_allows():
    rng = np.random.default_rng(37)
    g = rng.normal(size=(40, 6)) * np.array([3.0, 2.0, 1.0, 1e-3, 1e-4, 1e-5])
    full = g @ g.T
    for tol in (0.0, 1e-6, 1e-4, 1e-2, 10.0):
        c = H._compress(g, tol)
        assert np.sqrt(np.sum((c @ c.T - full) ** 2)) <= tol + 1e-12
    assert H._compress(g, 0.0).shape[1] == 6
    assert H._compress(g, 1e-6).shape[1] == 4       # the two weakest directions go (w ~ 4e-7, 4e-9)
    assert H._compress(g, 1e-4).shape[1] < H._compress(g, 1e-9).shape[1]


@pytest.mark.parametrize("tol", [1e-6, 1e-3, 3e-2])
def test_lowrank_bound_holds(tol, monkeypatch):
    # whatever the truncation, every low-rank value is within the bound of the float64 value
    monkeypatch.setattr(H, "LOWRANK_TOL", tol)
    monkeypatch.setattr(H, "LOWRANK_MAX_BOUND", 1.0)
    rng = np.random.default_rng(33)
    nperm = 40 if JIT_DISABLED else 200              # plain Python is slow
    for kind in range(3):
        n = 150
        x = rng.normal(size=(n, 1 + kind % 2))
        y = rng.normal(size=(n, 1)) + (kind == 2) * x[:, :1] ** 2
        gx = H._gram(x, "gaussian", 1.0, False)
        gy = H._gram(y, "gaussian", 0.8, False)
        na = math.sqrt(np.sum(gx.c ** 2))
        nb = math.sqrt(np.sum(gy.c ** 2))
        low = H._lowrank_factors(gx.c, gy.c, na, nb)
        assert low is not None
        gat, gb, bound = low
        approx = np.empty(nperm)
        with np.errstate(over="ignore"):
            build("_lowrank_null", "serial")(gat, gb, 5, np.arange(nperm), approx)
        exact = H._permutation_values(gx.c, gy.c, 0.0, 5, nperm, exact=True)
        assert np.max(np.abs(approx - exact)) <= bound
        if tol >= 1e-3:
            assert np.max(np.abs(approx - exact)) > 1e-3 * bound       # the bound is not vacuous
        # any factor gets a valid bound: here the leading half of the columns
        cgat = np.ascontiguousarray(gat[:(gat.shape[0] + 1) // 2])
        cgb = np.ascontiguousarray(gb[:, :(gb.shape[1] + 1) // 2])
        cbound = H._lowrank_bound(gx.c, gy.c, cgat, cgb, na, nb)
        with np.errstate(over="ignore"):
            build("_lowrank_null", "parallel")(cgat, cgb, 5, np.arange(nperm), approx)
        assert np.max(np.abs(approx - exact)) <= cbound
        assert cbound >= bound


def test_lowrank_pass_gives_the_float64_pvalue():
    rng = np.random.default_rng(34)
    nperm = 100 if JIT_DISABLED else 300             # plain Python is slow
    for t in range(2 if JIT_DISABLED else 6):
        n = 200
        x = rng.normal(size=(n, 1))
        y = rng.normal(size=(n, 1)) + (t % 3) * 0.2 * np.sin(3 * x)
        gx = H._gram(x, "gaussian", H.median_bandwidth(x), False)
        gy = H._gram(y, "gaussian", H.median_bandwidth(y), False)
        assert H._lowrank_factors(gx.c, gy.c, math.sqrt(np.sum(gx.c ** 2)),
                                  math.sqrt(np.sum(gy.c ** 2))) is not None
        dot = H._frob_any(gx.c, gy.c)[0]
        exact = H._permutation_values(gx.c, gy.c, dot, t, nperm, exact=True)
        fast = H._permutation_values(gx.c, gy.c, dot, t, nperm)
        assert np.count_nonzero(fast >= dot) == np.count_nonzero(exact >= dot)
        # an observed value taken from the null itself is recomputed in float64
        for k in (7, int(np.argsort(exact)[nperm // 2])):
            at = H._permutation_values(gx.c, gy.c, exact[k], t, nperm)
            assert at[k] == exact[k]
            assert np.count_nonzero(at >= exact[k]) == np.count_nonzero(exact >= exact[k])


def test_lowrank_pass_falls_back_when_it_does_not_pay():
    rng = np.random.default_rng(35)
    x = rng.normal(size=(60, 8))                    # high rank: the direct pass is cheaper
    gx = H._gram(x, "gaussian", 1.0, False)
    assert H._lowrank_factors(gx.c, gx.c, 1.0, 1.0) is None
    zero = np.zeros((10, 10))
    assert H._lowrank_factors(zero, zero, 0.0, 0.0) is None


@pytest.mark.skipif(JIT_DISABLED, reason="thread counts need the JIT")
def test_permutation_pvalue_is_the_same_on_every_path(monkeypatch):
    x, y = data(n=300, p=1, q=1, seed=36, dep=False)
    y[:, 0] += 0.15 * np.cos(2 * x[:, 0])
    want = hsic_test(x, y, method="permutation", n_permutations=400, seed=2, return_null=True)
    count = np.count_nonzero(want.null >= want.statistic * (1 - 1e-12))
    assert want.pvalue == (1 + count) / 401
    assert 0.01 < want.pvalue < 0.99                # a case where the count matters
    for work in (0, 10 ** 18):                      # parallel builds / serial builds
        monkeypatch.setattr(H, "PARALLEL_WORK", work)
        for jobs in (1, 2):
            for max_bound in (1e-4, -1.0):          # low-rank pass / float32 pass
                monkeypatch.setattr(H, "LOWRANK_MAX_BOUND", max_bound)
                r = hsic_test(x, y, method="permutation", n_permutations=400, seed=2, n_jobs=jobs)
                assert r.pvalue == want.pvalue


def test_permutation_strong_dependence_hits_the_floor():
    x, _ = data(n=50, p=1, q=1, seed=17)
    for est in ("biased", "unbiased", "normalized"):
        r = hsic_test(x, x + 0.05 * np.cos(7 * x), estimator=est, method="permutation", n_permutations=49)
        assert r.pvalue == pytest.approx(1 / 50)


def test_pvalues_are_roughly_uniform_under_independence():
    # a cheap sanity check (the 2000-trial calibration is in bench/hsic.py)
    rng = np.random.default_rng(18)
    ps = {m: [] for m in ("gamma", "chi2", "permutation")}
    for t in range(60):
        x = rng.normal(size=40)
        y = rng.normal(size=40)
        for m in ps:
            ps[m].append(hsic_test(x, y, method=m, n_permutations=50, seed=t).pvalue)
    for m, v in ps.items():
        v = np.array(v)
        assert 0.25 < v.mean() < 0.75 and (v < 0.05).mean() < 0.2, m


@pytest.mark.skipif(JIT_DISABLED, reason="n = 12000 is too slow without the JIT")
def test_large_n_methods_detect_dependence_and_accept_independence():
    rng = np.random.default_rng(19)
    n = 12000
    x = rng.normal(size=n)
    y = rng.normal(size=n)
    z = np.cos(2 * x) + 0.5 * y
    r = hsic_test(x, z)
    assert r.method == "rff" and r.estimator == "rff" and r.pvalue < 1e-6 and r.n_permutations == 100
    assert hsic_test(x, y).pvalue > 1e-3
    b = hsic_test(x, z, method="block")
    assert b.pvalue < 1e-6 and b.n_permutations == 50
    assert hsic_test(x, y, method="block").pvalue > 1e-3
    if not JIT_DISABLED:
        r1 = hsic_test(x, z, n_jobs=1)
        r2 = hsic_test(x, z, n_jobs=2)
        assert (r1.statistic, r1.pvalue) == (r2.statistic, r2.pvalue)


def test_method_estimator_combinations():
    x, y = data(n=30, seed=20)
    assert hsic_test(x, y, n_permutations=9).method == "aggregated"        # the default up to n = 500
    assert hsic_test(x, y, bandwidth="gretton").method == "gamma"           # a bandwidth rule: one kernel
    assert hsic_test(x, y, bandwidth=1.0).method == "gamma"
    assert hsic_test(x, y, estimator="biased").method == "gamma"
    assert hsic_test(x, y, kernel="linear").method == "gamma"
    big = data(n=H.AGG_AUTO_MAX_N + 1, seed=20)
    assert hsic_test(*big).method == "gamma"
    assert hsic_pairwise(x[:, :2]).__getitem__(0)[2].method == "gamma"     # many tests: the fast analytic one
    assert hsic_test(x, y, estimator="normalized").method == "chi2"
    assert hsic_test(x, y, estimator="unbiased", n_permutations=9).method == "permutation"
    assert hsic_test(x, y, method="chi2").estimator == "normalized"
    with pytest.raises(TextmineError, match="gamma approximation"):
        hsic_test(x, y, estimator="unbiased", method="gamma")
    with pytest.raises(TextmineError, match="chi-square"):
        hsic_test(x, y, estimator="biased", method="chi2")
    with pytest.raises(TextmineError, match="own statistic"):
        hsic_test(x, y, estimator="biased", method="rff")


# ---------------------------------------------------------------- bad input (library)

@pytest.mark.parametrize("x,y,msg", [
    (np.zeros((10, 1)) + np.arange(10)[:, None], np.arange(9.0), "x has 10 rows but y has 9"),
    (np.arange(3.0), np.arange(3.0), "at least 4 samples"),
    (np.r_[np.arange(9.0), np.nan], np.arange(10.0), "non-finite value.*row 10"),
    (np.arange(10.0), np.r_[np.arange(9.0), np.inf], "non-finite"),
    (np.ones(10), np.arange(10.0), "x is constant"),
    (np.arange(10.0), np.full(10, 2.5), "y is constant"),
    (np.array(["a"] * 10), np.arange(10.0), "categorical x has one level"),
    (np.arange(10.0), np.array(["k"] * 10), "categorical y has one level"),
    (np.arange(10.0), np.array(list("ababababa") + [None], dtype=object), "y has a non-finite value.*row 10"),
])
def test_bad_input_errors(x, y, msg):
    with pytest.raises(TextmineError, match=msg):
        hsic_test(x, y)


def test_bad_precomputed_kernel():
    with pytest.raises(TextmineError, match="square"):
        hsic(np.ones((5, 4)), np.ones((5, 4)), kernel="precomputed")
    k = np.arange(25.0).reshape(5, 5)
    with pytest.raises(TextmineError, match="symmetric"):
        hsic(k, k, kernel="precomputed")


def test_pairwise_equals_single_tests():
    x, y = data(n=35, p=3, q=1, seed=21)
    table = np.c_[x, y]
    rows = hsic_pairwise(table, names_x=list("abcd"))
    assert [(a, b) for a, b, _ in rows] == [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d")]
    for a, b, r in rows:
        single = hsic_test(table[:, "abcd".index(a)], table[:, "abcd".index(b)], method="gamma")
        assert (r.statistic, r.pvalue) == (single.statistic, single.pvalue)
    rows = hsic_pairwise(x, y, method="permutation", n_permutations=19)
    assert len(rows) == 3
    assert rows[0][2].pvalue == hsic_test(x[:, 0], y[:, 0], method="permutation", n_permutations=19).pvalue


# ---------------------------------------------------------------- reading tables

def test_read_table_formats(tmp_path):
    a = np.arange(12.0).reshape(6, 2) ** 1.5
    (tmp_path / "t.tsv").write_text("".join(f"{float(r[0])!r}\t{float(r[1])!r}\n" for r in a))
    (tmp_path / "t.csv").write_text("u,v\r\n" + "".join(f"{float(r[0])!r},{float(r[1])!r}\r\n" for r in a))
    np.save(tmp_path / "t.npy", a)
    for name, header in (("t.tsv", False), ("t.csv", True), ("t.npy", False)):
        got, names = read_table(str(tmp_path / name), header=header)
        assert np.array_equal(got, a)
        assert names == (["u", "v"] if header else ["1", "2"])


@pytest.mark.parametrize("text,msg", [
    ("1\t2\n3\tx\n", r"t.tsv:2: column 2: cannot read 'x' as a number"),
    ("a\tb\n1\t2\n", r"t.tsv:1: column 1: cannot read 'a'.*--column-names"),
    ("1\t2\n3\tnan\n", r"t.tsv:2: column 2: 'nan' is a missing value; use --missing drop"),
    ("1\t2\n3\t-inf\n", r"t.tsv:2: column 2: '-inf' is not a finite number"),
    ("1\t2\n3\n", r"t.tsv:2: 1 columns, expected 2"),
    ("\n\n", r"t.tsv: no data rows"),
])
def test_read_table_errors(tmp_path, text, msg):
    (tmp_path / "t.tsv").write_text(text)
    with pytest.raises(TextmineError, match=msg):
        read_table(str(tmp_path / "t.tsv"))


# ---------------------------------------------------------------- CLI

@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(22)
    x = rng.normal(size=60)
    t = np.c_[x, x ** 2 + 0.3 * rng.normal(size=60), rng.normal(size=60)]
    path = tmp_path / "t.tsv"
    path.write_text("".join("\t".join(repr(float(v)) for v in r) + "\n" for r in t))
    return path, t


def run(args, **kw):
    return CliRunner().invoke(cli, ["hsic", *args], catch_exceptions=False, **kw)


def test_cli_tsv_row_and_json(table):
    path, t = table
    res = run([str(path), "--x-cols", "1", "--y-cols", "2"])
    assert res.exit_code == 0, res.stderr
    fields = res.stdout.rstrip("\n").split("\t")
    r = hsic_test(t[:, 0], t[:, 1])
    assert fields == [repr(r.statistic), "biased", repr(r.pvalue), "aggregated", repr(r.bandwidth_x),
                      repr(r.bandwidth_y), "60", "1000", "1"]
    res = run([str(path), "--x-cols", "1", "--y-cols", "2", "--pvalue", "gamma"])
    r = hsic_test(t[:, 0], t[:, 1], method="gamma")
    assert res.stdout.rstrip("\n").split("\t") == [repr(r.statistic), "biased", repr(r.pvalue), "gamma",
                                                    repr(r.bandwidth_x), repr(r.bandwidth_y), "60", "-", "-"]
    res = run([str(path), "--x-cols", "1", "--y-cols", "2", "--json", "--pvalue", "permutation", "-B", "99",
               "--seed", "5"])
    d = json.loads(res.stdout)
    assert list(d) == ["statistic", "estimator", "pvalue", "method", "bandwidth_x", "bandwidth_y", "n",
                       "permutations", "seed"]
    assert d["permutations"] == 99 and d["seed"] == 5 and d["method"] == "permutation"
    assert d["pvalue"] == hsic_test(t[:, 0], t[:, 1], method="permutation", n_permutations=99, seed=5).pvalue


@pytest.mark.parametrize("mode", ["two files", "npy", "stdin", "csv header", "rest columns"])
def test_cli_input_modes(table, tmp_path, mode):
    path, t = table
    want = hsic_test(t[:, 0], t[:, 2]).statistic
    if mode == "two files":
        np.savetxt(tmp_path / "a.tsv", t[:, 0])
        np.savetxt(tmp_path / "b.tsv", t[:, 2])
        res = run([str(tmp_path / "a.tsv"), str(tmp_path / "b.tsv"), "--json"])
    elif mode == "npy":
        np.save(tmp_path / "a.npy", t[:, [0, 2]])
        res = run([str(tmp_path / "a.npy"), "--json"])
    elif mode == "stdin":
        res = run(["-", "--x-cols", "1", "--y-cols", "3", "--json"], input=path.read_text())
    elif mode == "csv header":
        (tmp_path / "a.csv").write_text("p,q,r\n" + "".join(",".join(repr(float(v)) for v in r) + "\n" for r in t))
        res = run([str(tmp_path / "a.csv"), "--column-names", "--x-cols", "p", "--y-cols", "r", "--json"])
    else:
        res = run([str(path), "--x-cols", "2", "--json"])
        want = hsic_test(t[:, 1], t[:, [0, 2]]).statistic
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["statistic"] == want


def test_cli_pairwise_and_jobs(table, tmp_path):
    path, t = table
    res = run([str(path), "--pairwise", "--header", "-j", "1"])
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "x\ty\tstatistic\tpvalue" and [ln.split("\t")[:2] for ln in lines[1:]] == [
        ["1", "2"], ["1", "3"], ["2", "3"]]
    assert float(lines[1].split("\t")[3]) < 1e-4 < float(lines[3].split("\t")[3])
    a = run([str(path), "--pairwise", "--pvalue", "permutation", "-B", "49", "-j", "1"]).stdout
    b = run([str(path), "--pairwise", "--pvalue", "permutation", "-B", "49", "-j", "2"]).stdout
    assert a == b


def test_cli_output_file_and_null(table, tmp_path):
    path, t = table
    out = tmp_path / "r.tsv"
    res = run([str(path), "--x-cols", "1", "--y-cols", "3", "--pvalue", "permutation", "-B", "20",
               "--null", str(tmp_path / "null.npy"), "-o", str(out)])
    assert res.exit_code == 0 and res.stdout == ""
    assert np.load(tmp_path / "null.npy").shape == (20,) and out.read_text().count("\t") == 8


def test_cli_precomputed(tmp_path):
    x, y = data(n=20, p=1, q=1, seed=23)
    k, l = naive.gaussian_gram(x, 1.0), naive.gaussian_gram(y, 1.0)
    np.save(tmp_path / "k.npy", k)
    np.save(tmp_path / "l.npy", l)
    res = run([str(tmp_path / "k.npy"), str(tmp_path / "l.npy"), "--kernel", "precomputed", "--json"])
    d = json.loads(res.stdout)
    assert rel(d["statistic"], naive.hsic_biased(k, l)) < 1e-10 and d["bandwidth_x"] is None


@pytest.mark.parametrize("content,args,msg", [
    ("1\t2\n2\t3\n3\t5\n4\tx\n5\t1\n", [], "t.tsv:4: column 2: cannot read 'x' as a number"),
    ("1\t2\n2\t3\n3\t5\n4\tnan\n5\t1\n", [], "t.tsv:4: column 2: 'nan' is a missing value; use --missing drop"),
    ("1\t2\n2\t3\n3\t\n4\t1\n5\t1\n", [], "t.tsv:3: column 2: empty cell is a missing value"),
    ("1\t2\nNA\t3\n3\t5\n4\t1\n5\t1\n", [], "t.tsv:2: column 1: 'NA' is a missing value"),
    ("1\t2\nNA\t3\n3\tNA\n4\t1\n5\t1\n", ["--missing", "drop"], "3 complete rows after dropping 2"),
    ("1\t2\nNA\t3\n3\t5\n4\t1\n5\t1\n", ["--missing", "drop", "--pvalue", "gamma"], "needs n >= 6"),
    ("1\t2\n2\t3\n3\t5\n4\tinf\n5\t1\n", [], "t.tsv:4: column 2: 'inf' is not a finite number"),
    ("1\t2\n2\t2\n3\t2\n4\t2\n5\t2\n", [], "y is constant"),
    ("1\t2\n2\t3\n3\t5\n", [], "at least 4 samples"),
    ("1\t2\n2\t3\n3\t5\n4\t1\n5\t1\n", ["--pvalue", "gamma", "--estimator", "unbiased"], "gamma approximation"),
])
def test_cli_bad_input(tmp_path, content, args, msg):
    path = tmp_path / "t.tsv"
    path.write_text(content)
    out = tmp_path / "out.tsv"
    res = run([str(path), "-o", str(out), *args])
    assert res.exit_code == 1
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("Error: ") and msg in res.stderr
    assert "Traceback" not in res.stderr and not out.exists() and res.stdout == ""


def test_cli_mismatched_files_and_usage_errors(tmp_path):
    (tmp_path / "a.tsv").write_text("1\n2\n3\n4\n5\n")
    (tmp_path / "b.tsv").write_text("1\n2\n3\n4\n")
    (tmp_path / "c.tsv").write_text("1\t2\t3\n2\t3\t1\n3\t1\t2\n4\t4\t4\n5\t0\t1\n")
    res = run([str(tmp_path / "a.tsv"), str(tmp_path / "b.tsv")])
    assert res.exit_code == 1 and "has 5 rows but" in res.stderr and "has 4" in res.stderr
    res = run([str(tmp_path / "c.tsv")])
    assert res.exit_code == 2 and "--x-cols" in res.stderr
    res = run([str(tmp_path / "c.tsv"), "--x-cols", "9", "--y-cols", "1"])
    assert res.exit_code == 1 and "outside 1-3" in res.stderr
    res = run([str(tmp_path / "c.tsv"), "--pairwise", "--bandwidth", "-1"])
    assert res.exit_code == 2
    res = run([str(tmp_path / "c.tsv"), "--pairwise", "--bandwidth-rule", "fixed"])
    assert res.exit_code == 2 and "needs --bandwidth" in res.stderr
    res = run([str(tmp_path / "nope.tsv"), str(tmp_path / "a.tsv")])
    assert res.exit_code == 1 and "cannot read" in res.stderr


def test_cli_help():
    res = run(["--help"])
    assert res.exit_code == 0 and "--pairwise" in res.stdout and "hsicTestGamma" in res.stdout


# ---------------------------------------------------------------- aggregated test (HSICAgg)

from textmine import hsic_agg as A  # noqa: E402


def agg_build(name, which):
    return A._KERNELS[name][BUILDS.index(which)]


@pytest.mark.parametrize("which", BUILDS)
def test_agg_gram_and_centre_match_naive(which):
    x, _ = data(n=17, p=2, seed=31)
    sig = [0.3, 1.0, 2.5]
    k = np.empty((17, 17, 3))
    agg_build("_agg_gram", which)(x, np.array([1 / (2 * s * s) for s in sig]), k)
    np.testing.assert_allclose(k, naive.agg_gram(x, sig), rtol=1e-13, atol=1e-15)
    agg_build("_agg_centre", which)(k)
    np.testing.assert_allclose(k, naive.agg_centre(naive.agg_gram(x, sig)), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("which", BUILDS)
def test_agg_null_matches_naive(which):
    x, y = data(n=13, p=1, q=2, seed=32)
    ka = naive.agg_centre(naive.agg_gram(x, [0.5, 1.5]))
    kb = naive.agg_centre(naive.agg_gram(y, [0.4, 1.0, 3.0]))
    out = np.empty((31, 6))
    with np.errstate(over="ignore"):
        agg_build("_agg_null", which)(ka, kb, 9, out)
    np.testing.assert_allclose(out, naive.agg_null(ka, kb, 9, 30), rtol=1e-10, atol=1e-12)


def test_agg_rank_counts_and_decision_match_mmdagg():
    rng = np.random.default_rng(33)
    for trial in range(40):
        m, L = int(rng.integers(5, 60)), int(rng.integers(1, 6))
        vals = rng.normal(size=(m, L))
        if trial % 3 == 0:                       # ties, and a strong first row
            vals = np.round(vals, 1)
            vals[0] += rng.uniform(0, 2)
        counts = A._counts(vals, np.zeros(L))
        assert (counts == naive.agg_rank_counts(vals)).all()
        for alpha in (0.05, 0.1, 0.3):
            p, rej = A._aggregate(counts, alpha, "min")
            want = naive.mmdagg_decision(vals, alpha)
            assert (rej == want).all() and rej.any() == (p <= alpha)
            low = naive.agg_rank_counts(vals).min(axis=1)
            assert p == np.mean(low <= low[0])
            # the harmonic mean of the same rank p-values: exact fractions in the twin; a pair
            # rejects only if the min rule marks it and the harmonic test rejects
            ph, rejh = A._aggregate(counts, alpha, "harmonic")
            assert ph == naive.agg_harmonic_pvalue(vals)
            assert (rejh == (want & (ph <= alpha))).all()


def test_agg_harmonic_combination_sees_several_moderate_pairs():
    """Rows 1.. are a null sample of 4 correlated pairs; row 0 sits at about the 97th percentile
    in every pair. No single pair survives the min-p correction, and the min combination does
    not reject; the harmonic one does (the four moderate p-values together), and a lone strong
    pair is still seen by both."""
    rng = np.random.default_rng(39)
    z = rng.normal(size=(400, 1))
    vals = 0.8 * z + 0.6 * rng.normal(size=(400, 4))
    vals[0] = np.quantile(vals[1:], 0.97, axis=0)
    counts = A._counts(vals, np.zeros(4))
    pm, rm = A._aggregate(counts, 0.05, "min")
    ph, rh = A._aggregate(counts, 0.05, "harmonic")
    assert pm > 0.05 and not rm.any() and ph <= 0.05 and not rh.any()
    vals[0] = np.quantile(vals[1:], 0.5, axis=0)
    vals[0, 2] = vals[1:, 2].max() + 1.0
    counts = A._counts(vals, np.zeros(4))
    for combine in ("min", "harmonic"):
        p, rej = A._aggregate(counts, 0.05, combine)
        assert p <= 0.05 and rej.tolist() == [False, False, True, False]


def test_agg_one_pair_is_the_permutation_test():
    x, y = data(n=40, p=1, q=1, seed=34)
    r = A.hsic_agg_test(x, y, n_permutations=199, seed=3, bandwidths=([0.7], [1.3]))
    s = hsic_test(x, y, bandwidth=(0.7, 1.3), method="permutation", n_permutations=199, seed=3)
    assert r.pvalue == s.pvalue == r.kernels[0].pvalue
    assert rel(r.statistic, s.statistic) < 1e-12 and r.method == "aggregated"


def test_agg_collection_statistics_and_threads():
    x, y = data(n=60, p=2, q=1, seed=35)
    y[:, 0] += 2 * x[:, 0] ** 2
    r = hsic_test(x, y, method="aggregated", n_permutations=299, seed=4, n_jobs=1)
    r2 = hsic_test(x, y, method="aggregated", n_permutations=299, seed=4, n_jobs=2)
    assert r == r2 and r.kernels == r2.kernels
    mx, my = naive.median_sigma(x), naive.median_sigma(y)
    assert len(r.kernels) == 9
    want = [(2.0 ** i * mx / math.sqrt(2), 2.0 ** j * my / math.sqrt(2)) for i in range(-2, 1) for j in range(-2, 1)]
    for k, (sx, sy) in zip(r.kernels, want):
        assert rel(k.bandwidth_x, sx) < 1e-12 and rel(k.bandwidth_y, sy) < 1e-12
        assert rel(k.statistic, naive.hsic_biased(naive.gaussian_gram(x, sx), naive.gaussian_gram(y, sy))) < 1e-10
    assert r.pvalue <= 0.05 and any(k.rejected for k in r.kernels)
    m = A.hsic_agg_test(x, y, n_permutations=299, seed=4, combine="min")
    assert [k.pvalue for k in m.kernels] == [k.pvalue for k in r.kernels]    # same permutations
    assert min(k.pvalue for k in m.kernels) <= m.pvalue            # the min-p correction never lowers a p-value
    with pytest.raises(TextmineError, match="combine must be"):
        A.hsic_agg_test(x, y, n_permutations=9, combine="fisher")
    d = r.to_dict()
    assert d["method"] == "aggregated" and d["alpha"] == 0.05 and len(d["kernels"]) == 9


def test_agg_level_under_independence():
    """Rejection rate at 0.05 over 300 seeded null data sets within 2 binomial s.e."""
    rng = np.random.default_rng(36)
    rej = {"harmonic": 0, "min": 0}
    trials = 300
    for t in range(trials):
        x, y = rng.normal(size=30), rng.normal(size=30)
        for combine in rej:
            r = A.hsic_agg_test(x, y, n_permutations=99, seed=t, combine=combine)
            rej[combine] += r.pvalue <= 0.05
            if combine == "min":
                assert any(k.rejected for k in r.kernels) == (r.pvalue <= 0.05)
            else:
                assert not any(k.rejected for k in r.kernels) or r.pvalue <= 0.05
    se = math.sqrt(0.05 * 0.95 / trials)
    assert all(v / trials <= 0.05 + 2 * se for v in rej.values()), rej


def test_agg_power_where_the_median_heuristic_fails():
    rng = np.random.default_rng(37)
    x = rng.normal(size=200)
    y = np.sin(4 * x) + 0.5 * rng.normal(size=200)
    assert hsic_test(x, y, method="gamma").pvalue > 0.05
    r = hsic_test(x, y, method="aggregated", n_permutations=199)
    assert r.pvalue <= 0.05
    # the pairs that reject have a sigma_x below the median-heuristic one
    assert min(k.bandwidth_x for k in r.kernels if k.rejected) < median_bandwidth(x) / 2


@pytest.mark.parametrize("kw,msg", [
    (dict(kernel="linear"), "has none"),
    (dict(estimator="unbiased"), "biased statistic"),
    (dict(bandwidth=1.0), "do not give a bandwidth"),
    (dict(return_null=True), "no single null"),
    (dict(collection=(1, 0, 2)), "base > 1"),
])
def test_agg_bad_arguments(kw, msg):
    x, y = data(n=20, p=1, q=1, seed=38)
    with pytest.raises(TextmineError, match=msg):
        hsic_test(x, y, method="aggregated", n_permutations=9, **kw)


def test_cli_aggregated_json_and_jobs(table):
    path, t = table
    args = [str(path), "--x-cols", "1", "--y-cols", "2", "--pvalue", "aggregated", "-B", "99", "--seed", "2"]
    res = run(args + ["--json", "-j", "1"])
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    r = hsic_test(t[:, 0], t[:, 1], method="aggregated", n_permutations=99, seed=2)
    assert d["pvalue"] == r.pvalue and d["method"] == "aggregated" and d["alpha"] == 0.05
    assert [k["rejected"] for k in d["kernels"]] == [k.rejected for k in r.kernels] and len(d["kernels"]) == 9
    assert run(args + ["-j", "1"]).stdout == run(args + ["-j", "2"]).stdout
    res = run(args + ["--collection", "2,-2,2", "--json"])
    assert len(json.loads(res.stdout)["kernels"]) == 25
    res = run(args + ["--collection", "1,0,1"])
    assert res.exit_code == 2 and "BASE > 1" in res.stderr
    res = run([str(path), "--x-cols", "1", "--y-cols", "2", "--collection", "2,-1,1"])
    assert res.exit_code == 2 and "--pvalue aggregated" in res.stderr
    res = run(args + ["--kernel", "linear"])
    assert res.exit_code == 1 and res.stderr.startswith("Error: the aggregated test") and "Traceback" not in res.stderr


def test_cli_num_features_and_deprecated_alias(table):
    path, t = table
    base = [str(path), "--x-cols", "1", "--y-cols", "2", "--pvalue", "rff"]
    new = run(base + ["--num-features", "20"])
    old = run(base + ["--features", "20"])
    assert new.exit_code == old.exit_code == 0 and new.stdout == old.stdout and new.stderr == ""
    assert old.stderr == "textmine hsic: --features is deprecated, use --num-features\n"
    assert new.stdout.split("\t")[7] == "20"
    res = run(base + ["--features", "20", "--num-features", "30"])
    assert res.exit_code == 2 and "disagree" in res.stderr
    assert "--features " not in run(["--help"]).stdout


# ---------------------------------------------------------------- distance kernel and 1-D dCor

from textmine import dcor as D  # noqa: E402


@pytest.mark.parametrize("which", BUILDS)
def test_distance_gram_matches_naive(which):
    x, _ = data(n=15, p=3, seed=40)
    out = np.empty((15, 15))
    build("_distance_gram", which)(x, out)
    np.testing.assert_allclose(out, naive.distance_gram(x), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("ties", [False, True])
def test_dcov_kernels_match_naive(ties):
    rng = np.random.default_rng(41)
    for n in (4, 5, 17, 60):
        x = rng.normal(size=n)
        y = x ** 2 + rng.normal(size=n)
        if ties:
            x, y = np.round(x), np.round(y)
        ox, oy = np.argsort(x, kind="stable"), np.argsort(y, kind="stable")
        ra = np.empty(n)
        D._dcov_row_sums(x, ox, ra)
        np.testing.assert_allclose(ra, naive.dcov_row_sums(x), rtol=1e-12, atol=1e-12)
        assert rel(D._dcov_cross_1d(x, y, ox, oy), naive.dcov_cross(x, y)) < 1e-12


def test_distance_estimators_match_formulas_any_dimension():
    rng = np.random.default_rng(42)
    for p in (1, 2):
        x = rng.normal(size=(30, p))
        y = x[:, :1] ** 2 + 0.5 * rng.normal(size=(30, 1))
        assert rel(hsic(x, y, kernel="distance"), naive.dcov_sqr(x, y)) < 1e-11
        assert abs(hsic(x, y, kernel="distance", estimator="normalized") - naive.u_dcor_sqr(x, y)) < 1e-11


def test_distance_reference_values():
    """ALGORITHMS-2.md 2: dcor's test data, x = 1..6, y = (1, 7, 5, 5, 6, 2); 500 zeros + 500 ones."""
    x, y = np.arange(1.0, 7.0), np.array([1.0, 7, 5, 5, 6, 2])
    assert round(hsic(x, y, kernel="distance", estimator="unbiased"), 5) == -0.88889
    assert round(hsic(x, y, kernel="distance", estimator="normalized"), 5) == -0.41613
    assert round(hsic(x, x, kernel="distance", estimator="unbiased"), 4) == 1.5556
    assert round(hsic(x, y, kernel="distance"), 6) == 0.685185
    z = np.r_[np.zeros(500), np.ones(500)]
    assert round(hsic(z, z, kernel="distance", estimator="unbiased"), 5) == 0.25050


def test_distance_matches_dcor_package():
    dcor = pytest.importorskip("dcor")
    rng = np.random.default_rng(43)
    for n, ties in ((7, False), (200, False), (200, True), (3000, False)):
        x = rng.normal(size=n) * 5 + 100
        y = np.sin(x) + rng.normal(size=n)
        if ties:
            x, y = np.round(x), np.round(y, 1)
        assert abs(hsic(x, y, kernel="distance", estimator="normalized") - dcor.u_distance_correlation_sqr(x, y)) < 1e-9
        assert rel(hsic(x, y, kernel="distance"), dcor.distance_covariance_sqr(x, y)) < 1e-9
        assert rel(hsic(x, y, kernel="distance", estimator="unbiased"), dcor.u_distance_covariance_sqr(x, y)) < 1e-9
    x = rng.normal(size=(40, 3))
    y = rng.normal(size=(40, 2)) + x[:, :2]
    assert abs(hsic(x, y, kernel="distance", estimator="normalized") - dcor.u_distance_correlation_sqr(x, y)) < 1e-9


def test_distance_tests():
    x, y = data(n=60, p=1, q=1, seed=44, dep=False)
    y += x ** 2 + x
    r = hsic_test(x, y, kernel="distance", method="chi2")
    assert r.estimator == "normalized" and r.bandwidth_x is None
    assert r.pvalue == pytest.approx(1 - __import__("scipy").stats.chi2.cdf(60 * r.statistic + 1, 1), rel=1e-10)
    xi, yi = data(n=60, p=1, q=1, seed=45, dep=False)
    for m in ("gamma", "permutation", "chi2"):
        assert hsic_test(x, y, kernel="distance", method=m, n_permutations=199).pvalue < 0.05
        assert hsic_test(xi, yi, kernel="distance", method=m, n_permutations=199).pvalue > 0.05
    a = hsic_test(x, y, kernel="distance", method="permutation", n_permutations=99, n_jobs=1)
    b = hsic_test(x, y, kernel="distance", method="permutation", n_permutations=99, n_jobs=2)
    assert a == b
    with pytest.raises(TextmineError, match="Gaussian and linear"):
        hsic_test(x, y, kernel="distance", method="rff")
    rng = np.random.default_rng(46)
    big = rng.normal(size=20_000)          # O(n log n): no 20000 x 20000 matrix
    r = hsic_test(big, big ** 2 + rng.normal(size=20_000), kernel="distance", method="chi2")
    assert r.pvalue < 1e-10 and r.n == 20_000


def test_cli_distance_kernel(table):
    path, t = table
    res = run([str(path), "--x-cols", "1", "--y-cols", "2", "--kernel", "distance", "--estimator", "normalized",
               "--json"])
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["statistic"] == hsic(t[:, 0], t[:, 1], kernel="distance", estimator="normalized")
    assert d["method"] == "chi2" and d["bandwidth_x"] is None
    res = run([str(path), "--x-cols", "1", "--y-cols", "2", "--kernel", "distance", "--bandwidth", "1"])
    assert res.exit_code == 2 and "no bandwidth" in res.stderr


# ---------------------------------------------------------------- FDR

def test_fdr_anchor_and_statsmodels():
    p = [0.01, 0.04, 0.03, 0.005, 0.20, 0.50]
    np.testing.assert_allclose(H.fdr_adjust(p, "bh"), [0.03, 0.06, 0.06, 0.03, 0.24, 0.50], rtol=1e-12)
    np.testing.assert_allclose(H.fdr_adjust(p, "by"), [0.0735, 0.147, 0.147, 0.0735, 0.588, 1.0], rtol=1e-3)
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(50)
    cases = [rng.uniform(size=m) for m in (1, 2, 7, 100, 1000)]
    cases += [np.round(rng.uniform(size=50), 1), np.ones(9), np.sort(rng.uniform(size=30)),
              np.r_[rng.uniform(0, 1e-4, 20), rng.uniform(size=80)]]
    for p in cases:
        for meth in ("bh", "by"):
            want = multitest.multipletests(p, method="fdr_" + meth)[1]
            got = H.fdr_adjust(p, meth)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
            perm = rng.permutation(p.size)                 # invariant to the input order
            np.testing.assert_allclose(H.fdr_adjust(p[perm], meth), got[perm], rtol=1e-12, atol=1e-15)
            o = np.argsort(p, kind="stable")               # monotone in p
            assert (np.diff(got[o]) >= -1e-15).all()


def test_fdr_nan_kept_and_counted():
    q = H.fdr_adjust([0.01, np.nan, 0.02], "bh")
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.03) and q[2] == pytest.approx(0.03)
    with pytest.raises(TextmineError, match="unknown FDR"):
        H.fdr_adjust([0.1], "holm")


def test_pairwise_and_cli_fdr(table):
    path, t = table
    rows = hsic_pairwise(t, fdr="by")
    q = H.fdr_adjust([r.pvalue for _, _, r in rows], "by")
    assert [r.qvalue for _, _, r in rows] == q.tolist()
    res = run([str(path), "--pairwise", "--fdr", "bh", "--header"])
    assert res.exit_code == 0, res.stderr
    lines = [ln.split("\t") for ln in res.stdout.splitlines()]
    assert lines[0] == ["x", "y", "statistic", "pvalue", "qvalue"]
    want = H.fdr_adjust([float(r[3]) for r in lines[1:]], "bh")
    assert [float(r[4]) for r in lines[1:]] == want.tolist()
    d = [json.loads(ln) for ln in run([str(path), "--pairwise", "--fdr", "bh", "--json"]).stdout.splitlines()]
    assert [x["qvalue"] for x in d] == want.tolist()
    res = run([str(path), "--pairwise", "--fdr", "holm"])
    assert res.exit_code == 2 and "holm" in res.stderr
    res = run([str(path), "--x-cols", "1", "--y-cols", "2", "--fdr", "bh"])
    assert res.exit_code == 2 and "--pairwise" in res.stderr


# ---------------------------------------------------------------- missing values

def test_missing_drop_library():
    x, y = data(n=40, p=1, q=2, seed=60)
    xm, ym = x.copy(), y.copy()
    xm[3, 0] = np.nan
    ym[7, 1] = np.nan
    ym[3, 0] = np.nan
    keep = np.ones(40, bool)
    keep[[3, 7]] = False
    r = hsic_test(xm, ym, missing="drop", method="permutation", n_permutations=99)
    want = hsic_test(x[keep], y[keep], method="permutation", n_permutations=99)
    assert r.dropped == 2 and r.n == 38 and r.statistic == want.statistic and r.pvalue == want.pvalue
    with pytest.raises(TextmineError, match="non-finite"):
        hsic_test(xm, ym)
    xm[5, 0] = np.inf
    with pytest.raises(TextmineError, match="non-finite"):
        hsic_test(xm, ym, missing="drop")                 # inf is not missing


def test_missing_drop_pairwise_per_pair(tmp_path):
    rng = np.random.default_rng(61)
    t = rng.normal(size=(30, 3))
    t[:, 1] += t[:, 0] ** 2
    t[2, 0] = np.nan
    t[5, 2] = np.nan
    rows = hsic_pairwise(t, missing="drop", method="permutation", n_permutations=99)
    assert [(a, b, r.dropped, r.n) for a, b, r in rows] == [("1", "2", 1, 29), ("1", "3", 2, 28), ("2", "3", 1, 29)]
    for (a, b, r), (i, j) in zip(rows, [(0, 1), (0, 2), (1, 2)]):
        ok = ~np.isnan(t[:, i]) & ~np.isnan(t[:, j])
        assert r.pvalue == hsic_test(t[ok, i], t[ok, j], method="permutation", n_permutations=99).pvalue
    path = tmp_path / "m.tsv"
    path.write_text("".join("\t".join("NA" if np.isnan(v) else repr(float(v)) for v in r) + "\n" for r in t))
    res = run([str(path), "--pairwise", "--missing", "drop", "--pvalue", "permutation", "-B", "99"])
    assert res.exit_code == 0, res.stderr
    assert [float(ln.split("\t")[3]) for ln in res.stdout.splitlines()] == [r.pvalue for _, _, r in rows]
    assert "dropped incomplete rows in 3 of 3 pairs" in res.stderr
    assert run([str(path), "--pairwise", "--missing", "drop", "-q"]).stderr == ""
    res = run([str(path), "--x-cols", "1", "--y-cols", "2", "--missing", "drop", "--json"])
    assert json.loads(res.stdout)["dropped"] == 1 and res.stderr == "textmine hsic: dropped 1 incomplete rows of 30\n"


def test_missing_constant_after_drop_names_the_pair(tmp_path):
    path = tmp_path / "c.tsv"
    path.write_text("1\t2\t\n2\t3\t1\n3\t5\t1\n4\t1\t1\n5\t2\t1\n6\t3\t1\n")
    res = run([str(path), "--pairwise", "--missing", "drop"])
    assert res.exit_code == 1 and res.stderr.startswith("Error: columns 1 and 3: y is constant")
    assert "Traceback" not in res.stderr


# ---------------------------------------------------------------- categorical variables (delta kernel)

def labelled(n=48, shift=1.0, seed=50, levels=("ham", "spam", "eggs")):
    """A label and a numeric feature whose mean depends on the label."""
    rng = np.random.default_rng(seed)
    lab = rng.choice(np.array(levels), size=n)
    y = rng.normal(size=n) + shift * (lab == levels[0])
    return lab, y


def test_encode_labels_levels_and_missing():
    codes, levels = H.encode_labels(np.array(["b", " a", "NA", "b", "", "c", "null"], dtype=object))
    assert levels == ["a", "b", "c"]
    assert np.isnan(codes[[2, 4, 6], 0]).all() and codes[[0, 1, 3, 5], 0].tolist() == [1, 0, 1, 2]
    codes, levels = H.encode_labels([1.0, 2, np.nan, 1, None])
    assert levels == ["1", "2"] and codes[[0, 1, 3], 0].tolist() == [0, 1, 0] and np.isnan(codes[[2, 4], 0]).all()
    with pytest.raises(TextmineError, match="one column"):
        H.encode_labels(np.zeros((4, 2)))


def test_delta_gram_matches_naive():
    lab, _ = labelled(n=30, seed=51)
    codes, _ = H.encode_labels(lab)
    np.testing.assert_array_equal(H._gram(codes, "delta", None, False).c.shape, (30, 30))
    k = H._delta_gram(codes)
    np.testing.assert_array_equal(k, naive.delta_gram(list(lab)))


@pytest.mark.parametrize("estimator,formula", [("biased", naive.hsic_biased), ("unbiased", naive.hsic_unbiased),
                                               ("normalized", naive.hsic_normalized)])
def test_categorical_statistic_matches_formula(estimator, formula):
    lab, y = labelled(n=35, seed=52)
    sy = naive.median_sigma(y)
    want = formula(naive.delta_gram(list(lab)), naive.gaussian_gram(y, sy))
    assert rel(hsic(lab, y, estimator=estimator), want) < 1e-10
    # the label is symmetric: y's side, or both labels
    assert rel(hsic(y, lab, estimator=estimator), want) < 1e-10
    lab2, _ = labelled(n=35, seed=53)
    both = formula(naive.delta_gram(list(lab)), naive.delta_gram(list(lab2)))
    assert rel(hsic(lab, lab2, estimator=estimator), both) < 1e-10 or abs(both) < 1e-15
    # numeric codes named categorical give the same value as the text labels
    codes = np.unique(lab, return_inverse=True)[1].ravel() * 7 + 3
    assert hsic(codes, y, estimator=estimator, categorical="x") == hsic(lab, y, estimator=estimator)


def test_categorical_every_method_matches_naive():
    lab, y = labelled(n=60, seed=54)
    k = naive.delta_gram(list(lab))
    sy = naive.median_sigma(y)
    l = naive.gaussian_gram(y, sy)
    r = hsic_test(lab, y, method="gamma")
    stat, p = naive.gamma_test(k, l)
    assert r.bandwidth_x is None and rel(r.bandwidth_y, sy) < 1e-12
    assert rel(r.statistic, stat / 60) < 1e-10 and rel(r.pvalue, p) < 1e-8
    r = hsic_test(lab, y, method="permutation", n_permutations=99, seed=5)
    null = naive.permutation_null(naive.h_centre(k), naive.h_centre(l), 5, 99)
    obs = np.sum(naive.h_centre(k) * naive.h_centre(l))
    assert r.pvalue == (1 + np.sum(null >= obs - 1e-9 * abs(obs))) / 100
    r = hsic_test(lab, y, method="chi2")
    assert rel(r.statistic, naive.hsic_normalized(k, l)) < 1e-10
    # block: Song's unbiased HSIC of each block of the shuffled rows
    r = hsic_test(lab, y, method="block", block_size=10, seed=3)
    order = np.random.default_rng(3).permutation(60)
    blocks = naive.block_hsic_grams(k[np.ix_(order, order)], l[np.ix_(order, order)], 10)
    assert rel(r.statistic, blocks.mean()) < 1e-10
    # rff: the label's features are its exact indicator columns
    r = hsic_test(lab, y, method="rff", n_features=30, seed=4)
    rng = np.random.default_rng(4)
    wy, by = H._features(y.reshape(-1, 1), "gaussian", sy, 30, rng)
    py = math.sqrt(2.0 / 30) * np.cos(y.reshape(-1, 1) @ wy + by)
    onehot = (lab[:, None] == np.unique(lab)[None, :]).astype(float)
    h = naive.centring(60)
    assert rel(r.statistic, np.sum((onehot.T @ h @ py / 60) ** 2)) < 1e-10


def test_categorical_aggregated_runs_over_the_other_bandwidths():
    lab, y = labelled(n=50, seed=55)
    r = hsic_test(lab, y, method="aggregated", n_permutations=199, seed=2, n_jobs=1)
    assert r == hsic_test(lab, y, method="aggregated", n_permutations=199, seed=2, n_jobs=2)
    my = naive.median_sigma(y)
    assert [k.bandwidth_x for k in r.kernels] == [None] * 3
    k = naive.delta_gram(list(lab))
    for kp, i in zip(r.kernels, range(-2, 1)):
        assert rel(kp.bandwidth_y, 2.0 ** i * my / math.sqrt(2)) < 1e-12
        assert rel(kp.statistic, naive.hsic_biased(k, naive.gaussian_gram(y, kp.bandwidth_y))) < 1e-10
        # each pair's own p-value is the permutation test of that pair (same permutations)
        s = hsic_test(lab, y, method="permutation", bandwidth=kp.bandwidth_y, n_permutations=199, seed=2)
        assert kp.pvalue == s.pvalue
    # two labels: one pair, the permutation test of the delta kernels
    lab2 = np.where(y > 0, "pos", "neg")
    r = hsic_test(lab, lab2, method="aggregated", n_permutations=199, seed=2)
    s = hsic_test(lab, lab2, method="permutation", n_permutations=199, seed=2)
    assert len(r.kernels) == 1 and r.pvalue == s.pvalue
    # auto picks the aggregated test for a label too
    assert hsic_test(lab, y, n_permutations=99).method == "aggregated"


def test_categorical_power_and_level():
    """Label vs a feature whose mean depends on it: rejected; vs an independent feature: level.
    The thresholds were set with MMDAgg's min rule, which this checks through the label path of
    the aggregated test (the default harmonic combination rejects 35 of the 40 dependent sets:
    bench/RESULTS.md, "third pass")."""
    rej_dep = rej_null = def_dep = def_null = 0
    for t in range(40):
        lab, y = labelled(n=40, shift=1.5, seed=100 + t)
        r = hsic_test(lab, y, n_permutations=199, seed=t)
        assert r.method == "aggregated"
        def_dep += r.pvalue <= 0.05
        codes = H.encode_labels(lab)[0]
        rej_dep += A.hsic_agg_test(codes, y, n_permutations=199, seed=t, categorical=(True, False),
                                   combine="min").pvalue <= 0.05
        lab, y = labelled(n=40, shift=0.0, seed=200 + t)
        def_null += hsic_test(lab, y, n_permutations=199, seed=t).pvalue <= 0.05
        codes = H.encode_labels(lab)[0]
        rej_null += A.hsic_agg_test(codes, y, n_permutations=199, seed=t, categorical=(True, False),
                                    combine="min").pvalue <= 0.05
    assert rej_dep >= 36 and rej_null <= 6
    # the default (harmonic) path: its power here is about 0.77 (309 of 400 seeded sets, RESULTS),
    # so 40 sets give 31 ± 2.7; below 28 would be a real loss, and the level bound is the same
    assert def_dep >= 28 and def_null <= 6


def test_categorical_missing_and_pairwise():
    lab, y = labelled(n=40, seed=56)
    lab = lab.astype(object)
    lab[[3, 9]] = None
    lab[5] = "NA"
    y[7] = np.nan
    with pytest.raises(TextmineError, match="non-finite"):
        hsic_test(lab, y, method="gamma")
    r = hsic_test(lab, y, method="gamma", missing="drop")
    keep = np.array([i not in (3, 5, 7, 9) for i in range(40)])
    want = hsic_test(lab[keep].astype(str), y[keep], method="gamma")
    assert r.dropped == 4 and r.n == 36 and r.pvalue == want.pvalue and r.statistic == want.statistic
    # pairwise over an object table: the text column is a label, per-pair drops
    t = np.empty((40, 3), dtype=object)
    t[:, 0], t[:, 1], t[:, 2] = lab, y, np.arange(40.0) ** 0.5
    rows = hsic_pairwise(t, names_x=["lab", "y", "z"], method="gamma", missing="drop")
    assert rows[0][2].pvalue == want.pvalue and rows[0][2].dropped == 4
    assert rows[1][2].dropped == 3 and rows[2][2].dropped == 1
    # numeric labels by index
    codes = np.where(lab == None, np.nan, 0.0)  # noqa: E711
    codes[lab == "ham"] = 1
    codes[lab == "spam"] = 2
    codes[lab == "NA"] = np.nan
    u = np.c_[codes, y]
    rows2 = hsic_pairwise(u, method="gamma", missing="drop", categorical=([0], []))
    assert rows2[0][2].pvalue == want.pvalue
    with pytest.raises(TextmineError, match="missing label at row 4"):
        hsic_pairwise(t, method="gamma")


def test_categorical_errors():
    lab, y = labelled(n=20, seed=57)
    with pytest.raises(TextmineError, match="categorical x has one level"):
        hsic_test(np.array(["a"] * 19 + ["NA"]), y, missing="drop")
    with pytest.raises(TextmineError, match="not a precomputed"):
        hsic_test(lab, np.eye(20), kernel="precomputed")
    with pytest.raises(TextmineError, match="categorical must be"):
        hsic_test(lab, y, categorical="z")
    with pytest.raises(TextmineError, match="column 2 has one level"):
        hsic_pairwise(np.c_[y, np.ones(20)], categorical=([1], []))


def test_cli_categorical(tmp_path):
    lab, y = labelled(n=40, seed=58)
    z = np.random.default_rng(1).normal(size=40)
    path = tmp_path / "lab.tsv"
    path.write_text("label\tscore\tcode\n" + "".join(
        f"{a}\t{float(b)!r}\t{int(c > 0)}\n" for a, b, c in zip(lab, y, z)))
    res = run([str(path), "--column-names", "--x-cols", "label", "--y-cols", "score", "--json", "-B", "199"])
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    r = hsic_test(lab, y, n_permutations=199)
    assert d["pvalue"] == r.pvalue and d["bandwidth_x"] is None and len(d["kernels"]) == 3
    # a numeric code column named by --categorical (number or name) is the delta kernel
    want = hsic_test((z > 0).astype(int), y, categorical="x", method="gamma")
    for spec in ("3", "code"):
        res = run([str(path), "--column-names", "--x-cols", "code", "--y-cols", "score", "--pvalue", "gamma",
                   "--categorical", spec])
        assert res.exit_code == 0 and float(res.stdout.split("\t")[2]) == want.pvalue
    plain = run([str(path), "--column-names", "--x-cols", "code", "--y-cols", "score", "--pvalue", "gamma"])
    assert float(plain.stdout.split("\t")[4]) > 0         # numeric without --categorical: it has a bandwidth
    res = run([str(path), "--column-names", "--pairwise", "--fdr", "bh"])
    assert res.exit_code == 0 and res.stdout.splitlines()[0].startswith("label\tscore\t")
    res = run([str(path), "--column-names", "--x-cols", "label,code", "--y-cols", "score"])
    assert res.exit_code == 1 and "tested alone" in res.stderr and "Traceback" not in res.stderr
    res = run([str(path), "--column-names", "--x-cols", "label", "--y-cols", "score", "--categorical", "nope"])
    assert res.exit_code == 1 and "no column 'nope'" in res.stderr
    one = tmp_path / "one.tsv"
    one.write_text("".join(f"a\t{float(v)!r}\n" for v in y))
    res = run([str(one)])
    assert res.exit_code == 1 and res.stderr.startswith("Error: categorical x has one level")
    # two tables: a header name of Y
    py = tmp_path / "y.tsv"
    py.write_text("code\n" + "".join(f"{int(c > 0)}\n" for c in z))
    px = tmp_path / "x.tsv"
    px.write_text("score\n" + "".join(f"{float(v)!r}\n" for v in y))
    res = run([str(px), str(py), "--column-names", "--categorical", "code", "--pvalue", "gamma"])
    assert res.exit_code == 0 and float(res.stdout.split("\t")[2]) == \
        hsic_test(y, (z > 0).astype(int), categorical="y", method="gamma").pvalue


# ---------------------------------------------------------------- incomplete U-statistic aggregated test

def test_inc_design_counts():
    for half, r in ((10, 3), (10, 9), (10, 50), (7, 1)):
        ii, jj = A.inc_design(half, r)
        want = [(i, j) for i in range(half) for j in range(i + 1, min(half, i + r + 1))]
        assert list(zip(ii.tolist(), jj.tolist())) == want


@pytest.mark.parametrize("which", BUILDS)
def test_inc_kernels_match_naive(which):
    x, y = data(n=24, p=2, q=1, seed=60)
    half = 12
    ii, jj = A.inc_design(half, 4)
    sig = [0.4, 1.0, 2.2]
    hx = np.empty((ii.size, 3))
    agg_build("_inc_h", which)(x, half, ii, jj, np.array([1 / (2 * s * s) for s in sig]), False, hx)
    np.testing.assert_allclose(hx, naive.inc_h(x, half, ii, jj, sig), rtol=1e-12, atol=1e-14)
    codes = np.floor(np.abs(y) * 2)                      # label codes: the delta kernel
    hy = np.empty((ii.size, 1))
    agg_build("_inc_h", which)(codes, half, ii, jj, np.zeros(1), True, hy)
    np.testing.assert_array_equal(hy, naive.inc_h(codes, half, ii, jj, [None]))
    signs = np.ones((6, half))
    signs[1:] = np.random.default_rng(1).integers(0, 2, size=(5, half)) * 2.0 - 1
    out = np.empty((6, 3))
    agg_build("_inc_boot", which)(hx, hy, ii, jj, signs, out)
    np.testing.assert_allclose(out, naive.inc_boot(hx, hy, ii, jj, signs), rtol=1e-10, atol=1e-13)


def test_inc_test_statistic_threads_and_sign_flip_is_a_swap():
    x, y = data(n=80, p=1, q=1, seed=61)
    r = hsic_test(x, y, method="aggregated-inc", n_permutations=199, seed=3, n_jobs=1)
    assert r == hsic_test(x, y, method="aggregated-inc", n_permutations=199, seed=3, n_jobs=2)
    assert r.method == "aggregated-inc" and r.estimator == "incomplete" and len(r.kernels) == 9
    # the statistic is the mean of h^X h^Y over the design, rows shuffled by the seed
    order = np.random.default_rng(3).permutation(80)
    ii, jj = A.inc_design(40, A.INC_R)
    k = r.kernels[4]
    want = np.mean(naive.inc_h(x[order], 40, ii, jj, [k.bandwidth_x])[:, 0]
                   * naive.inc_h(y[order], 40, ii, jj, [k.bandwidth_y])[:, 0])
    assert rel(k.statistic, want) < 1e-10
    # flipping the sign of pair i is swapping y_i and y_{i+N}: h^Y changes sign where one end is i
    ys = y[order].copy()
    ys[[5, 45]] = ys[[45, 5]]
    hy0 = naive.inc_h(y[order], 40, ii, jj, [1.0])[:, 0]
    hy1 = naive.inc_h(ys, 40, ii, jj, [1.0])[:, 0]
    sign = np.where((ii == 5) ^ (jj == 5), -1.0, 1.0)
    np.testing.assert_allclose(hy1, sign * hy0, rtol=1e-12, atol=1e-15)
    with pytest.raises(TextmineError, match="design pairs; use --pvalue rff"):
        A.hsic_agg_inc_test(x, y, memory_limit=10 ** 4)
    with pytest.raises(TextmineError, match="at least 8 samples"):
        A.hsic_agg_inc_test(x[:7], y[:7])


def test_inc_level_and_power():
    rng = np.random.default_rng(62)
    rej = 0
    trials = 200
    for t in range(trials):
        r = A.hsic_agg_inc_test(rng.normal(size=60), rng.normal(size=60), r=10, n_bootstrap=99, seed=t)
        rej += r.pvalue <= 0.05
        assert not any(k.rejected for k in r.kernels) or r.pvalue <= 0.05
    assert rej / trials <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / trials)
    x = rng.normal(size=3000)
    y = np.sin(8 * x) + 0.5 * rng.normal(size=3000)
    r = hsic_test(x, y, method="aggregated-inc", n_permutations=199)
    assert r.pvalue <= 0.05 and min(k.bandwidth_x for k in r.kernels if k.rejected) < median_bandwidth(x) / 2
    lab = np.where(x > 0.5, "hi", "lo")
    r = hsic_test(lab, y + (lab == "hi"), method="aggregated-inc", n_permutations=99)
    assert r.pvalue <= 0.05 and len(r.kernels) == 3 and r.kernels[0].bandwidth_x is None


def test_cli_aggregated_inc(table):
    path, t = table
    args = [str(path), "--x-cols", "1", "--y-cols", "2", "--pvalue", "aggregated-inc", "-B", "99", "--json"]
    res = run(args)
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    r = hsic_test(t[:, 0], t[:, 1], method="aggregated-inc", n_permutations=99)
    assert d["pvalue"] == r.pvalue and d["estimator"] == "incomplete" and len(d["kernels"]) == 9
    res = run(args + ["--kernel", "linear"])
    assert res.exit_code == 1 and res.stderr.startswith("Error: the aggregated test")
