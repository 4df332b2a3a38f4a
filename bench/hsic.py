"""Benchmark ``textmine.hsic`` against hyppo 0.5.2 (``Hsic``) and a plain numpy reference, side by side.

    PYTHONPATH=. python bench/hsic.py                 # everything (about 15 minutes on 2 shared cores)
    PYTHONPATH=. python bench/hsic.py --only speed    # one part: correctness, calibration, power, speed

Parts
-----
correctness  statistics vs the textbook formulas (O(n^3) numpy ``trace(KHLH)``, Song's unbiased form,
             Gretton's ``hsicTestGamma.m``) and vs hyppo under hyppo's conventions.
calibration  rejection rate at alpha = 0.05 under independence over ``--trials`` (2000) trials, for every
             p-value method (the permutation test with B = 200 per trial).
power        rejection rate at alpha = 0.05 on linear, quadratic, sinusoidal and circular dependence
             (hyppo's ``indep_sim`` with noise), textmine's default test vs hyppo's default test.
aggregated   level and power of the aggregated test (HSICAgg) against the median-heuristic gamma and
             permutation tests, hyppo and the best single bandwidth pair in hindsight, same data.
agg_inc      the incomplete-U-statistic aggregated test (``--pvalue aggregated-inc``) at n = 2000 and
             10^4 against the median-heuristic gamma and rff tests, same data.
dcor_speed   1-D bias-corrected distance correlation at n = 10^5, 10^6 vs the dcor package (avl, mergesort).
speed        permutation test n = 500, B = 1000 (hyppo timed with B = 100 and scaled x10; textmine's
             low-rank first pass and its direct float32 pass); gamma test
             vs numpy and hyppo's chi2 at n = 1000/2000/5000; the linear-time tests at n = 10^6.
"""
import argparse
import math
import os
import statistics
import sys
import time
import warnings

import numpy as np
from scipy import stats

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from textmine.hsic import hsic, hsic_test, median_bandwidth  # noqa: E402

warnings.filterwarnings("ignore")


# ----------------------------------------------------------------- plain numpy reference (O(n^3), as in the papers)

def np_gram(x, sigma):
    x = x.reshape(len(x), -1)
    g = np.sum(x * x, axis=1)
    d2 = np.maximum(g[:, None] + g[None, :] - 2 * x @ x.T, 0)
    return np.exp(-d2 / (2 * sigma * sigma))


def np_gretton_sigma(x):
    x = x.reshape(len(x), -1)[:100]
    g = np.sum(x * x, axis=1)
    d = g[:, None] + g[None, :] - 2 * x @ x.T
    d = d - np.tril(d)
    d = d.ravel()
    return math.sqrt(0.5 * np.median(d[d > 0]))


def np_hsic_biased(k, l):
    n = len(k)
    h = np.eye(n) - 1.0 / n
    return np.trace(k @ h @ l @ h) / n ** 2


def np_hsic_unbiased(k, l):
    n = len(k)
    kt = k - np.diag(np.diag(k))
    lt = l - np.diag(np.diag(l))
    one = np.ones(n)
    return (np.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
            - 2.0 / (n - 2) * (one @ kt @ lt @ one)) / (n * (n - 3))


def np_gamma_test(x, y):
    """Gretton's hsicTestGamma.m in numpy: bandwidths, statistic n*HSIC_b, gamma p-value."""
    m = len(x)
    k = np_gram(x, np_gretton_sigma(x))
    l = np_gram(y, np_gretton_sigma(y))
    h = np.eye(m) - 1.0 / m
    kc = h @ k @ h
    lc = h @ l @ h
    stat = np.sum(kc.T * lc) / m
    v = (kc * lc / 6) ** 2
    v = (v.sum() - np.trace(v)) / m / (m - 1)
    v = 72 * (m - 4) * (m - 5) / m / (m - 1) / (m - 2) / (m - 3) * v
    mux = (k.sum() - np.trace(k)) / m / (m - 1)
    muy = (l.sum() - np.trace(l)) / m / (m - 1)
    mean = (1 + mux * muy - mux - muy) / m
    return stat, stats.gamma.sf(stat, mean ** 2 / v, scale=v * m / mean)


# ----------------------------------------------------------------- helpers

def timed(f, repeat=1):
    ts = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def table(header, rows):
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "| " + " | ".join(str(h).ljust(w[i]) for i, h in enumerate(header)) + " |"
    print(line)
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        print("| " + " | ".join(str(v).ljust(w[i]) for i, v in enumerate(r)) + " |")
    print(flush=True)


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def sample(kind, n, rng):
    x = rng.normal(size=n)
    if kind == "independent":
        return x, rng.normal(size=n)
    if kind == "linear":
        return x, x + 0.1 * rng.normal(size=n)
    return x, x ** 2 + 0.5 * rng.normal(size=n)


# ----------------------------------------------------------------- parts

def correctness(args):
    from hyppo.independence import Hsic
    print("## Correctness (n = 500, 1-D, seed 0; reference values of ALGORITHMS.md 5.6)\n")
    rng = np.random.default_rng(0)
    rows = []
    worst = 0.0
    for kind in ("independent", "linear", "quadratic"):
        x, y = sample(kind, 500, rng)
        sx, sy = np_gretton_sigma(x), np_gretton_sigma(y)
        k, l = np_gram(x, sx), np_gram(y, sy)
        ref_b, ref_u = np_hsic_biased(k, l), np_hsic_unbiased(k, l)
        ref_stat, ref_p = np_gamma_test(x, y)
        tb = hsic(x, y, bandwidth="gretton")
        tu = hsic(x, y, bandwidth="gretton", estimator="unbiased")
        tg = hsic_test(x, y, bandwidth="gretton", method="gamma")
        hy_stat, hy_p = Hsic().test(x, y)
        tn = hsic_test(x, y, bandwidth="hyppo", estimator="normalized", method="chi2")
        err = max(rel(tb, ref_b), rel(tu, ref_u), rel(500 * tg.statistic, ref_stat), rel(tn.statistic, hy_stat))
        worst = max(worst, err)
        rows.append((kind, f"{tb:.5f}", f"{tu:.5f}", f"{tg.pvalue:.3g}", f"{ref_p:.3g}", f"{tn.statistic:.4f}",
                     f"{hy_stat:.4f}", f"{tn.pvalue:.3g}", f"{hy_p:.3g}", f"{err:.1e}"))
    table(["data", "HSIC_b", "HSIC_u", "gamma p", "numpy gamma p", "normalized", "hyppo stat", "chi2 p",
           "hyppo p", "max rel. err"], rows)

    print("Estimators against the textbook formulas (O(n^3) numpy), 20 seeded data sets, n = 200, "
          "p = 2, q = 3, per-variable sigma:\n")
    errs = {e: 0.0 for e in ("biased", "unbiased", "normalized", "gamma p")}
    herrs = {"stat": 0.0, "pvalue": 0.0, "stat_fixed_sigma": 0.0}
    for s in range(20):
        r = np.random.default_rng(100 + s)
        x = r.normal(size=(200, 2))
        y = r.normal(size=(200, 3)) * 3
        y[:, 0] += np.sin(3 * x[:, 0]) * (s % 2)
        sx, sy = median_bandwidth(x), median_bandwidth(y)
        k, l = np_gram(x, sx), np_gram(y, sy)
        errs["biased"] = max(errs["biased"], rel(hsic(x, y), np_hsic_biased(k, l)))
        errs["unbiased"] = max(errs["unbiased"], rel(hsic(x, y, estimator="unbiased"), np_hsic_unbiased(k, l)))
        nz = np_hsic_unbiased(k, l) / math.sqrt(np_hsic_unbiased(k, k) * np_hsic_unbiased(l, l))
        errs["normalized"] = max(errs["normalized"], rel(hsic(x, y, estimator="normalized"), nz))
        g = hsic_test(x, y, bandwidth="gretton", method="gamma")
        errs["gamma p"] = max(errs["gamma p"], rel(g.pvalue, np_gamma_test(x, y)[1]))
        hs, hp = Hsic().test(x, y)
        t = hsic_test(x, y, bandwidth="hyppo", estimator="normalized", method="chi2")
        herrs["stat"] = max(herrs["stat"], rel(t.statistic, hs))
        herrs["pvalue"] = max(herrs["pvalue"], rel(t.pvalue, hp))
        herrs["stat_fixed_sigma"] = max(herrs["stat_fixed_sigma"],
                                        rel(hsic(x, y, bandwidth=1.0, estimator="normalized"),
                                            Hsic(gamma=0.5).statistic(x, y)))
    table(["quantity", "max relative error"], [(k, f"{v:.1e}") for k, v in errs.items()])
    print("hyppo's `Hsic` (unbiased dcorr of D = 1 - K/max K; sigma = median distance of x, reused for y) "
          "= textmine `--estimator normalized --pvalue chi2 --bandwidth-rule hyppo`:\n")
    table(["quantity", "max relative error"], [(k, f"{v:.1e}") for k, v in herrs.items()])
    r = np.random.default_rng(7)
    x = r.normal(size=300)
    y = 10 * (x + r.normal(size=300))
    print("Shared vs per-variable bandwidth (x ~ N(0,1), y = 10 (x + e), n = 300): "
          f"hyppo rule sigma_x = sigma_y = {median_bandwidth(x, 'hyppo'):.3f}; median rule sigma_x = "
          f"{median_bandwidth(x):.3f}, sigma_y = {median_bandwidth(y):.3f}; normalized statistic "
          f"{hsic(x, y, bandwidth='hyppo', estimator='normalized'):.4f} (hyppo's) vs "
          f"{hsic(x, y, estimator='normalized'):.4f} (per variable).\n")
    return worst


def calibration(args):
    from hyppo.independence import Hsic
    trials = args.trials
    print(f"## Calibration under independence: rejection rate at alpha = 0.05 over {trials} trials "
          "(x, y ~ N(0, 1) independent, 1-D; target [0.035, 0.065])\n")
    specs = [
        ("textmine gamma (biased)", 200, dict(method="gamma")),
        ("textmine gamma, Gretton sigma", 200, dict(method="gamma", bandwidth="gretton")),
        ("textmine permutation (biased, B = 200)", 200, dict(method="permutation", n_permutations=200)),
        ("textmine permutation (unbiased, B = 200)", 200,
         dict(method="permutation", estimator="unbiased", n_permutations=200)),
        ("textmine chi2 (normalized)", 200, dict(method="chi2")),
        ("textmine rff (D = 100)", 2000, dict(method="rff")),
        ("textmine block (B = 50)", 10000, dict(method="block")),
        ("hyppo Hsic chi2 (default)", 200, None),
    ]
    if args.methods:
        specs = [s for s in specs if any(m in s[0] for m in args.methods)]
    rows = []
    for name, n, kw in specs:
        rng = np.random.default_rng(2026)
        rej = 0
        t0 = time.perf_counter()
        for t in range(trials):
            x = rng.normal(size=n)
            y = rng.normal(size=n)
            p = Hsic().test(x, y)[1] if kw is None else hsic_test(x, y, seed=t, **kw).pvalue
            rej += p < 0.05
        rate = rej / trials
        se = math.sqrt(0.05 * 0.95 / trials)
        ok = "yes" if 0.035 <= rate <= 0.065 else "NO"
        rows.append((name, n, f"{rate:.4f}", f"{se:.4f}", ok, f"{time.perf_counter() - t0:.1f}"))
        print(f"  {name}: {rate:.4f}", file=sys.stderr, flush=True)
    table(["method", "n", "rejection rate", "s.e. under exact 0.05", "in [0.035, 0.065]", "seconds"], rows)


def power(args):
    from hyppo.independence import Hsic
    from hyppo.tools import indep_sim
    shapes = ("linear", "quadratic", "sin_four_pi", "circle")
    ns = (50, 100, 200, 500, 1000)
    print(f"## Power at alpha = 0.05 ({args.power_trials} trials per cell; hyppo `indep_sim(shape, n, 1, "
          "noise=True)`; the same data for both; textmine default = gamma test, per-variable median sigma; "
          "hyppo default = `Hsic().test` (chi2))\n")
    rows = []
    for shape in shapes:
        for n in ns:
            np.random.seed(1000 + n)
            tm = hy = tp = 0
            trials = args.power_trials
            for t in range(trials):
                x, y = indep_sim(shape, n, 1, noise=True)
                tm += hsic_test(x, y).pvalue < 0.05
                hy += Hsic().test(x, y)[1] < 0.05
                if n <= 200:
                    tp += hsic_test(x, y, method="permutation", n_permutations=200, seed=t).pvalue < 0.05
            rows.append((shape, n, f"{tm / trials:.3f}", f"{tp / trials:.3f}" if n <= 200 else "",
                         f"{hy / trials:.3f}", "yes" if tm >= hy else "no"))
            print(f"  {shape} {n}: {tm / trials:.3f} vs {hy / trials:.3f}", file=sys.stderr, flush=True)
    table(["shape", "n", "textmine gamma", "textmine perm. B=200", "hyppo chi2", "textmine >= hyppo"], rows)


def speed(args):
    from hyppo.independence import Hsic
    import numba
    print(f"## Speed (numba threads: {numba.get_num_threads()}; os.cpu_count() = {os.cpu_count()}; "
          "medians after a warm-up)\n")
    rng = np.random.default_rng(3)
    x, y = sample("quadratic", 500, rng)
    hsic_test(x[:50], y[:50], method="permutation", n_permutations=10)      # compile
    hsic_test(x, y, method="permutation", n_permutations=10)
    runs = args.runs
    t_tm, r = timed(lambda: hsic_test(x, y, method="permutation", n_permutations=1000, seed=1), runs)
    t_tm1, _ = timed(lambda: hsic_test(x, y, method="permutation", n_permutations=1000, seed=1, n_jobs=1), runs)
    # the direct float32 first pass (the path taken when the Gram matrices are not of low rank)
    import textmine.hsic as H
    keep = H.LOWRANK_MAX_BOUND
    H.LOWRANK_MAX_BOUND = -1.0
    t_dir1, r_dir = timed(lambda: hsic_test(x, y, method="permutation", n_permutations=1000, seed=1, n_jobs=1),
                          runs)
    H.LOWRANK_MAX_BOUND = keep
    assert r_dir.pvalue == r.pvalue
    Hsic().test(x[:30], y[:30], reps=10, auto=False)                          # compile hyppo
    reps = args.hyppo_reps
    t_hy, _ = timed(lambda: Hsic().test(x, y, reps=reps, workers=1, auto=False), 3)
    t_hy_full = t_hy * 1000 / reps
    print(f"Permutation test, n = 500, B = 1000 (quadratic dependence; textmine p = {r.pvalue:.4g}; "
          f"medians of {runs} runs, hyppo of 3):\n")
    table(["implementation", "seconds", "ratio vs textmine -j 2", "hyppo / this"],
          [("textmine -j 2", f"{t_tm:.4f}", "1", f"{t_hy_full / t_tm:.0f}x"),
           ("textmine -j 1", f"{t_tm1:.4f}", f"{t_tm1 / t_tm:.2f}", f"{t_hy_full / t_tm1:.0f}x"),
           ("textmine -j 1, direct float32 pass (low-rank pass off)", f"{t_dir1:.4f}", f"{t_dir1 / t_tm:.2f}",
            f"{t_hy_full / t_dir1:.0f}x"),
           (f"hyppo Hsic.test(auto=False, workers=1), measured with reps={reps}, x{1000 // reps}",
            f"{t_hy_full:.1f}", f"{t_hy_full / t_tm:.0f}x", "1")])

    rows = []
    for n in args.gamma_ns:
        x, y = sample("quadratic", n, np.random.default_rng(n))
        t_tm, r = timed(lambda: hsic_test(x, y, bandwidth="gretton", method="gamma"), 3)
        t_np, ref = timed(lambda: np_gamma_test(x, y), 1 if n > 2000 else 3)
        t_hy, _ = timed(lambda: Hsic().test(x, y), 1 if n > 2000 else 3)
        rows.append((n, f"{t_tm:.3f}", f"{t_np:.3f}", f"{t_hy:.3f}", f"{t_np / t_tm:.1f}x", f"{t_hy / t_tm:.1f}x",
                     f"{rel(r.pvalue, ref[1]) if ref[1] > 0 else 0:.1e}"))
    print("Gamma test (textmine, Gretton sigma) vs the numpy transcription of hsicTestGamma.m and hyppo's "
          "default chi2 test:\n")
    table(["n", "textmine s", "numpy s", "hyppo chi2 s", "numpy / textmine", "hyppo / textmine",
           "p-value rel. diff vs numpy"], rows)

    n = args.large_n
    rng = np.random.default_rng(5)
    x = rng.normal(size=n)
    y = np.cos(2 * x) + 0.8 * rng.normal(size=n)
    yi = rng.normal(size=n)
    hsic_test(x[:20000], y[:20000], method="rff")
    hsic_test(x[:20000], y[:20000], method="block")
    rows = []
    for meth in ("rff", "block"):
        t, r = timed(lambda: hsic_test(x, y, method=meth), 1)
        t1, _ = timed(lambda: hsic_test(x, y, method=meth, n_jobs=1), 1)
        ri = hsic_test(x, yi, method=meth)
        rows.append((meth, f"{n:,}", f"{t:.2f}", f"{t1:.2f}", f"{r.pvalue:.3g}", f"{ri.pvalue:.3g}"))
    print(f"Linear-time tests at n = {n:,} (y = cos 2x + 0.8 e; and an independent y; one run each, "
          "bandwidths included):\n")
    table(["method", "n", "seconds -j 2", "seconds -j 1", "p (dependent)", "p (independent)"], rows)


def dep_sample(shape, n, rng):
    """Data of the aggregated-test benchmark (ALGORITHMS-2.md 1; issue 15's cells)."""
    if shape == "null":
        return rng.normal(size=n), rng.normal(size=n)
    if shape in ("sin4", "sin8"):
        x = rng.normal(size=n)
        return x, np.sin((4 if shape == "sin4" else 8) * x) + 0.5 * rng.normal(size=n)
    if shape == "quadratic":
        x = rng.uniform(-1, 1, size=n)
        return x, x ** 2 + 0.3 * rng.normal(size=n)
    if shape == "circle":
        t = rng.uniform(-math.pi, math.pi, size=n)
        return np.cos(t) + 0.3 * rng.normal(size=n), np.sin(t) + 0.3 * rng.normal(size=n)
    if shape == "sign":                     # 2-D Gaussian sign: y = |z| sign(x1 x2)
        x = rng.normal(size=(n, 2))
        return x, np.abs(rng.normal(size=n)) * np.sign(x[:, 0] * x[:, 1])
    raise ValueError(shape)


def aggregated(args):
    """Level and power of the aggregated test against the median-heuristic tests and hyppo, same data."""
    from hyppo.independence import Hsic
    from textmine.hsic_agg import hsic_agg_test
    alpha = 0.05
    hsic_agg_test(np.arange(30.0), np.arange(30.0) ** 2, n_permutations=10)      # compile
    ns = args.agg_ns
    coll = tuple(args.agg_collection)
    side = int(coll[2]) - int(coll[1]) + 1
    print(f"## Aggregated test (HSICAgg, {side} x {side} bandwidths 2^i m / sqrt 2, i = {int(coll[1])}..{int(coll[2])}, "
          f"B = {args.agg_b}): rejection rate at alpha = 0.05\n")
    print(f"Same data for every column. `agg` = textmine aggregated (one set of B permutations, {args.agg_combine} "
          "combination of the pairs' p-values); `agg, min rule` = the same with MMDAgg's min-p rule (--agg-min); "
          "`gamma` = median-heuristic gamma test; `perm` = median-heuristic permutation test (B = 200); "
          "`hyppo` = `Hsic().test` (chi2); `best single` = the best of the bandwidth pairs' own uncorrected "
          "permutation tests in hindsight (the same permutations as `agg`), and its sigma pair.\n")
    rows = []
    for shape in args.agg_shapes:
        for n in ns:
            trials = args.agg_null_trials if shape == "null" else args.agg_trials
            if n >= 500:
                trials = args.agg_null_trials_500 if shape == "null" else args.agg_trials_500
            rng = np.random.default_rng(2026 + n)
            rej = {"agg": 0, "gamma": 0, "perm": 0, "hyppo": 0}
            single = None
            paired = []                     # (agg rejects, each pair rejects) per trial: paired differences
            t_agg = []
            mins = []
            t0 = time.perf_counter()
            for t in range(trials):
                x, y = dep_sample(shape, n, rng)
                if t < args.agg_skip_trials:        # the data of trials run elsewhere (a split run)
                    continue
                ts = time.perf_counter()
                r = hsic_agg_test(x, y, n_permutations=args.agg_b, seed=t, alpha=alpha,
                                  collection=(coll[0], int(coll[1]), int(coll[2])), combine=args.agg_combine)
                t_agg.append(time.perf_counter() - ts)
                rej["agg"] += r.pvalue <= alpha
                if args.agg_min:            # MMDAgg's min rule on the same permutations (same seed)
                    rm = hsic_agg_test(x, y, n_permutations=args.agg_b, seed=t, alpha=alpha,
                                       collection=(coll[0], int(coll[1]), int(coll[2])), combine="min")
                    rej["min"] = rej.get("min", 0) + (rm.pvalue <= alpha)
                    mins.append(rm.pvalue <= alpha)
                ps = np.array([k.pvalue for k in r.kernels])
                single = (ps <= alpha).astype(int) if single is None else single + (ps <= alpha)
                paired.append((r.pvalue <= alpha, ps <= alpha))
                if not args.agg_skip_peers:
                    rej["gamma"] += hsic_test(x, y, method="gamma").pvalue <= alpha
                    rej["perm"] += hsic_test(x, y, method="permutation", n_permutations=200, seed=t).pvalue <= alpha
                    rej["hyppo"] += Hsic().test(x, y)[1] <= alpha
                if args.agg_progress and (t + 1) % args.agg_progress == 0:
                    print(f"    {shape} n={n} after {t + 1} trials: rejections {rej}, single pairs "
                          f"{single.tolist()} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
            trials -= args.agg_skip_trials
            best = int(np.argmax(single))
            bk = r.kernels[best]
            rate = {k: v / trials for k, v in rej.items()}
            se = math.sqrt(alpha * (1 - alpha) / trials)
            rows.append((shape, n, trials, f"{rate['agg']:.3f}", f"{rate['min']:.3f}" if "min" in rate else "",
                         *("-" if args.agg_skip_peers else f"{rate[k]:.3f}" for k in ("gamma", "perm", "hyppo")),
                         f"{single[best] / trials:.3f}",
                         f"{bk.bandwidth_x:.3g}, {bk.bandwidth_y:.3g}",
                         f"{se:.4f}" if shape == "null" else "", f"{statistics.median(t_agg):.3f}"))
            print(f"  {shape} n={n} trials={trials}: agg {rate['agg']:.3f} gamma {rate['gamma']:.3f} "
                  f"perm {rate['perm']:.3f} hyppo {rate['hyppo']:.3f} best {single[best] / trials:.3f} "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
            a = np.array([p[0] for p in paired])
            if mins:
                d = np.array(mins, dtype=float) - a
                print(f"    min rule: {np.mean(mins):.3f}; minus agg {d.mean():+.3f} (paired s.e. "
                      f"{d.std(ddof=1) / math.sqrt(trials):.4f})", file=sys.stderr, flush=True)
            for j, (k, c) in enumerate(zip(r.kernels, single)):
                s_j = np.array([p[1][j] for p in paired])
                d = s_j.astype(float) - a          # paired difference pair - agg, per trial
                print(f"    single pair ({k.bandwidth_x:.3g}, {k.bandwidth_y:.3g}): {c / trials:.3f}; minus agg "
                      f"{d.mean():+.3f} (paired s.e. {d.std(ddof=1) / math.sqrt(trials):.4f}; pair only "
                      f"{int((s_j & ~a).sum())}, agg only {int((a & ~s_j).sum())})", file=sys.stderr, flush=True)
    table(["data", "n", "trials", "agg", "agg, min rule", "gamma", "perm", "hyppo", "best single", "best sigma pair",
           "s.e. at 0.05", "agg s (median)"], rows)


def agg_inc(args):
    """The incomplete-U-statistic aggregated test at large n against gamma and rff, same data."""
    alpha = 0.05
    hsic_test(np.arange(40.0), np.arange(40.0) ** 2, method="aggregated-inc", n_permutations=10)    # compile
    rows = []
    for shape in args.inc_shapes:
        for n in args.inc_ns:
            rng = np.random.default_rng(3026 + n)
            rej = {"inc": 0, "gamma": 0, "rff": 0}
            secs = {"inc": [], "gamma": [], "rff": []}
            trials = args.inc_trials if n <= 2000 else 1
            for t in range(trials):
                x, y = dep_sample(shape, n, rng)
                for key, kw in (("inc", dict(method="aggregated-inc", n_permutations=args.inc_b, seed=t)),
                                ("gamma", dict(method="gamma")), ("rff", dict(method="rff", seed=t))):
                    ts = time.perf_counter()
                    p = hsic_test(x, y, **kw).pvalue
                    secs[key].append(time.perf_counter() - ts)
                    rej[key] += p <= alpha
            rows.append((shape, n, trials) + tuple(f"{rej[k] / trials:.2f}" for k in ("inc", "gamma", "rff"))
                        + tuple(f"{statistics.median(secs[k]):.2f}" for k in ("inc", "gamma", "rff")))
            print(f"  {shape} n={n}: {rows[-1]}", file=sys.stderr, flush=True)
    print(f"Incomplete-U aggregated test (R = 200, B = {args.inc_b} wild-bootstrap draws, 3 x 3 bandwidths) "
          "against the median-heuristic gamma and rff (D = 100) tests: rejection rate at 0.05 and median seconds "
          "(one trial: the p-value decides 0 or 1)\n")
    table(["data", "n", "trials", "agg-inc", "gamma", "rff", "agg-inc s", "gamma s", "rff s"], rows)


def agg_speed(args):
    """Aggregated test at n = 500 (B = 1000) against hyppo's permutation test (B = 1000), same data."""
    from hyppo.independence import Hsic
    from textmine.hsic_agg import hsic_agg_test
    x, y = dep_sample("sin4", 500, np.random.default_rng(12))
    hsic_agg_test(x[:30], y[:30], n_permutations=10)
    hsic_agg_test(x[:30], y[:30], n_permutations=10, n_jobs=1)
    t2, r = timed(lambda: hsic_agg_test(x, y, n_permutations=1000), 3)
    t1, r1 = timed(lambda: hsic_agg_test(x, y, n_permutations=1000, n_jobs=1), 3)
    assert r.pvalue == r1.pvalue and r.kernels == r1.kernels
    tg, g = timed(lambda: hsic_test(x, y, method="gamma"), 3)
    Hsic().test(x[:30], y[:30], reps=10, auto=False)
    reps = args.hyppo_reps
    th, hp = timed(lambda: Hsic().test(x, y, reps=reps, workers=1, auto=False), 1)
    th *= 1000 / reps
    print(f"## Aggregated test speed, n = 500, sin(4x) data, B = 1000 (medians of 3; hyppo measured with "
          f"reps = {reps}, scaled to 1000)\n")
    L = len(r.kernels)
    table(["implementation", "seconds", "hyppo / this", "p-value"],
          [(f"textmine aggregated, {L} pairs, -j 2", f"{t2:.2f}", f"{th / t2:.1f}x", f"{r.pvalue:.4g}"),
           (f"textmine aggregated, {L} pairs, -j 1", f"{t1:.2f}", f"{th / t1:.1f}x", f"{r1.pvalue:.4g}"),
           ("textmine gamma, median heuristic", f"{tg:.4f}", f"{th / tg:.0f}x", f"{g.pvalue:.4g}"),
           ("hyppo Hsic permutation, one kernel", f"{th:.1f}", "1", f"{hp[1]:.4g}")])


def dcor_speed(args):
    """1-D bias-corrected distance correlation: textmine's O(n log n) path vs the dcor package."""
    import dcor
    rng = np.random.default_rng(11)
    hsic(np.arange(10.0), np.arange(10.0) ** 2, kernel="distance", estimator="normalized")     # compile
    dcor.u_distance_correlation_sqr(np.arange(10.0), np.arange(10.0) ** 2, method="avl")
    dcor.u_distance_correlation_sqr(np.arange(10.0), np.arange(10.0) ** 2, method="mergesort")
    rows = []
    for n in args.dcor_ns:
        x = rng.normal(size=n)
        y = np.sin(3 * x) + rng.normal(size=n)
        reps = 3 if n <= 10 ** 5 else 1
        t_tm, a = timed(lambda: hsic(x, y, kernel="distance", estimator="normalized"), reps)
        t_avl, b = timed(lambda: dcor.u_distance_correlation_sqr(x, y, method="avl"), reps)
        t_ms, c = timed(lambda: dcor.u_distance_correlation_sqr(x, y, method="mergesort"), reps)
        rows.append((f"{n:,}", f"{t_tm:.3f}", f"{t_avl:.3f}", f"{t_ms:.3f}", f"{t_avl / t_tm:.1f}x",
                     f"{t_ms / t_tm:.1f}x", f"{abs(a - b):.1e}", f"{abs(a - c):.1e}"))
    print(f"## 1-D distance correlation (u_distance_correlation_sqr), dcor {dcor.__version__}; medians\n")
    table(["n", "textmine s", "dcor avl s", "dcor mergesort s", "avl / textmine", "mergesort / textmine",
           "|diff| avl", "|diff| mergesort"], rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["correctness", "calibration", "power", "speed", "aggregated", "agg_speed",
                                          "dcor_speed", "agg_inc"],
                    action="append")
    ap.add_argument("--dcor-ns", type=int, nargs="+", default=[10 ** 5, 10 ** 6])
    ap.add_argument("--agg-ns", type=int, nargs="+", default=[100, 200, 500])
    ap.add_argument("--agg-shapes", nargs="+", default=["null", "sin4", "sin8", "quadratic", "circle", "sign"])
    ap.add_argument("--agg-b", type=int, default=1000, help="aggregated: permutations per trial")
    ap.add_argument("--agg-trials", type=int, default=200, help="aggregated: trials per power cell (n < 500)")
    ap.add_argument("--agg-trials-500", type=int, default=100, help="aggregated: trials per power cell, n >= 500")
    ap.add_argument("--agg-null-trials", type=int, default=1000, help="aggregated: null trials (n < 500)")
    ap.add_argument("--agg-null-trials-500", type=int, default=1000, help="aggregated: null trials, n >= 500")
    ap.add_argument("--agg-collection", type=float, nargs=3, default=[2, -2, 0], metavar=("BASE", "LO", "HI"),
                    help="aggregated: the bandwidth collection")
    ap.add_argument("--agg-progress", type=int, default=0, metavar="K",
                    help="aggregated: print the running rejection counts every K trials (stderr)")
    ap.add_argument("--agg-skip-peers", action="store_true", help="aggregated: without the peers (gamma, perm, hyppo)")
    ap.add_argument("--agg-skip-trials", type=int, default=0, metavar="K",
                    help="aggregated: draw but do not test the first K trials of each cell (to split a long run "
                         "over processes: the trials are the same data and seeds as in one run)")
    ap.add_argument("--agg-combine", choices=["harmonic", "min"], default="harmonic",
                    help="aggregated: the combination of the pairs' p-values (`agg` column)")
    ap.add_argument("--agg-min", action="store_true",
                    help="aggregated: also run the min rule on the same permutations (`agg, min rule` column)")
    ap.add_argument("--inc-ns", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--inc-shapes", nargs="+", default=["sin8", "circle"])
    ap.add_argument("--inc-trials", type=int, default=20, help="agg_inc: trials per cell up to n = 2000 (1 above)")
    ap.add_argument("--inc-b", type=int, default=200, help="agg_inc: wild-bootstrap draws")
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--methods", nargs="+", help="calibration: only the rows whose name contains one of these")
    ap.add_argument("--runs", type=int, default=5, help="speed: runs per permutation-test timing (median)")
    ap.add_argument("--power-trials", type=int, default=200)
    ap.add_argument("--hyppo-reps", type=int, default=100)
    ap.add_argument("--gamma-ns", type=int, nargs="+", default=[1000, 2000, 5000])
    ap.add_argument("--large-n", type=int, default=1_000_000)
    args = ap.parse_args()
    parts = args.only or ["correctness", "calibration", "power", "speed", "aggregated", "agg_speed", "dcor_speed",
                          "agg_inc"]
    print(f"textmine bench/hsic.py; python {sys.version.split()[0]}, numpy {np.__version__}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n")
    for part in parts:
        t = time.perf_counter()
        globals()[part](args)
        print(f"({part}: {time.perf_counter() - t:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
