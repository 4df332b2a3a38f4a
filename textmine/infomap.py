"""InfoMap: community detection by minimising the map equation.

The public entry points are :func:`compute_flow` (the random walk's node and link flows),
:func:`codelength` (the two-level map equation of a partition) and :func:`infomap` (the search).
The search follows Infomap 2.x (``src/core/InfomapBase.cpp``, ``InfomapOptimizer.h``): node moves in
random order to the best neighbouring module, aggregation of modules into nodes, repeated; then
alternating fine-tune and coarse-tune; ``trials`` independent trials (seeds ``seed + k``) keep the
lowest codelength. Kernels take arrays only; the driver orchestrates levels and trials, and runs
trials in threads (the kernels release the GIL), so results do not depend on ``n_jobs``.

Notes
-----
Rosvall & Bergstrom, "Maps of random walks on complex networks reveal community structure",
PNAS 105:1118 (2008); Rosvall & Bergstrom, "Multilevel compression of random walks on networks
reveals hierarchical organization in large integrated systems", PLoS ONE 6:e18209 (2011);
Lambiotte & Rosvall, "Ranking and clustering of nodes in networks with smart teleportation",
PRE 85:056107 (2012). docs/algorithms.md §4.1–4.3 gives the formulas implemented here.
"""
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from textmine._numba import njit, njit_fast
from textmine.errors import TextmineError

ALPHA = 0.15
CORE_LOOP_LIMIT = 10
AGGREGATED_LOOP_LIMIT = 20
MIN_IMPROVEMENT = 1e-10
MIN_SINGLE_MOVE = 1e-16
MIN_RELATIVE_TUNE = 1e-5
# core loop: when a node whose module has other members is left where it is
SKIP_NONE, SKIP_FIRST_SWEEP, SKIP_ALL_SWEEPS = 0, 1, 2
MAX_TUNE_ITERATIONS = 100


def _plogp_py(x):
    return x * math.log2(x) if x > 0 else 0.0


# ---------------------------------------------------------------------------------------------
# random numbers (splitmix64), explicit state
# ---------------------------------------------------------------------------------------------

@njit
def _rand_next(state):
    """Advance a splitmix64 state (uint64[1]) and return the next 64-bit value."""
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit
def _rand_below(state, n):
    """Uniform integer in [0, n) (n >= 1) from the state."""
    return np.int64(_rand_next(state) % np.uint64(n))


@njit
def _shuffle(a, n, state):
    """Fisher–Yates shuffle of the first ``n`` entries of the int array ``a`` in place."""
    for i in range(n - 1, 0, -1):
        j = _rand_below(state, i + 1)
        t = a[i]
        a[i] = a[j]
        a[j] = t


def _seed_state(seed):
    s = np.zeros(1, dtype=np.uint64)
    s[0] = np.uint64((int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF)
    return s


# ---------------------------------------------------------------------------------------------
# flow
# ---------------------------------------------------------------------------------------------

@njit_fast
def _plogp(x):
    """x log2 x, 0 for x <= 0."""
    if x > 0.0:
        return x * np.log2(x)
    return 0.0


@njit
def _renormalise_into(tmp, p):
    """``p = tmp / sum(tmp)``; returns the L1 change (the end of one power-iteration step)."""
    s = 0.0
    for i in range(tmp.shape[0]):
        s += tmp[i]
    diff = 0.0
    for i in range(tmp.shape[0]):
        v = tmp[i] / s
        diff += abs(v - p[i])
        p[i] = v
    return diff


@njit
def _pagerank(n, src, dst, trans, dangling, tele_w, alpha, max_iter, min_iter, tol):
    """Power iteration for PageRank with teleportation.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : ndarray of int32, shape (m,)
        Links (self-loops allowed).
    trans : ndarray of float64, shape (m,)
        Transition probability of each link (weight / source out-weight).
    dangling : ndarray of bool, shape (n,)
        Nodes without out-links (they always teleport).
    tele_w : ndarray of float64, shape (n,)
        Teleportation target distribution (sums to 1).
    alpha : float
        Teleportation probability τ.
    max_iter, min_iter : int
        Iteration bounds (Infomap: 200 and 50).
    tol : float
        Stop when the L1 change is below ``tol`` (after ``min_iter``).

    Returns
    -------
    ndarray of float64, shape (n,)
        Stationary distribution (sums to 1).

    Notes
    -----
    Infomap ``src/utils/FlowCalculator.cpp`` (``calcDirectedFlow``), docs/algorithms.md §4.2.
    """
    beta = 1.0 - alpha
    p = np.full(n, 1.0 / n)
    tmp = np.empty(n)
    it = 0
    while True:
        dr = 0.0
        for i in range(n):
            if dangling[i]:
                dr += p[i]
        tf = alpha + beta * dr
        for i in range(n):
            tmp[i] = tf * tele_w[i]
        for e in range(src.shape[0]):
            tmp[dst[e]] += beta * trans[e] * p[src[e]]
        diff = _renormalise_into(tmp, p)
        it += 1
        if it >= max_iter or (diff <= tol and it >= min_iter):
            break
    return p


@njit
def _build_csr(n, src, dst, flow):
    """CSR by source of the links with ``src != dst``.

    Parameters
    ----------
    n : int
    src, dst : ndarray of int32, shape (m,)
    flow : ndarray of float64, shape (m,)

    Returns
    -------
    ptr : ndarray of int64, shape (n + 1,)
    idx : ndarray of int32, shape (k,)
        Targets, in input order within a row.
    val : ndarray of float64, shape (k,)
    """
    cnt = np.zeros(n + 1, dtype=np.int64)
    for e in range(src.shape[0]):
        if src[e] != dst[e]:
            cnt[src[e] + 1] += 1
    for i in range(n):
        cnt[i + 1] += cnt[i]
    ptr = cnt.copy()
    idx = np.empty(ptr[n], dtype=np.int32)
    val = np.empty(ptr[n], dtype=np.float64)
    pos = ptr[:n].copy()
    for e in range(src.shape[0]):
        if src[e] != dst[e]:
            k = pos[src[e]]
            idx[k] = dst[e]
            val[k] = flow[e]
            pos[src[e]] += 1
    return ptr, idx, val


@dataclass
class FlowNetwork:
    """Flow on a graph, as the optimiser sees it.

    Attributes
    ----------
    node_flow : ndarray of float64, shape (n,)
        Visit rates (sum to 1).
    out_ptr, out_idx, out_flow : CSR (int64, int32, float64)
        Link flow ``a -> b`` per step for ``a != b``; for undirected flow, each link in both rows.
    in_ptr, in_idx, in_flow : CSR
        The transpose (the same arrays as ``out_*`` for undirected flow).
    tele_src : ndarray of float64, shape (n,)
        Recorded teleportation only: flow leaving each node by teleportation (``τ p + (1-τ) d``);
        zeros otherwise.
    tele_w : ndarray of float64, shape (n,)
        Recorded teleportation only: teleportation target weights; zeros otherwise.
    model : str
        ``undirected``, ``directed`` (+ ``recorded``, ``to-nodes`` qualifiers).
    """

    node_flow: np.ndarray
    out_ptr: np.ndarray
    out_idx: np.ndarray
    out_flow: np.ndarray
    in_ptr: np.ndarray
    in_idx: np.ndarray
    in_flow: np.ndarray
    tele_src: np.ndarray
    tele_w: np.ndarray
    symmetric: bool
    recorded: bool
    model: str

    @property
    def n_nodes(self):
        return self.node_flow.shape[0]


def compute_flow(graph, directed=None, teleport_to="links", recorded=False, teleport_prob=ALPHA, markov_time=1.0,
                 regularized=False, regularization_strength=1.0):
    """Node and link flows of the random walk on ``graph``, as Infomap computes them.

    Parameters
    ----------
    graph : textmine.graph.Graph
    directed : bool, optional
        Directed flow (PageRank); default ``graph.directed``.
    teleport_to : {'links', 'nodes'}
        Teleportation targets: proportional to link weight (Infomap's default: out-weight when
        unrecorded, in-weight when recorded) or uniform over nodes (``--to-nodes``).
    recorded : bool
        Code teleportation steps (``-e``); otherwise one step without teleportation gives the
        flows ("smart teleportation").
    teleport_prob : float
        τ (Infomap ``-p``, 0.15).
    markov_time : float
        Scale every link flow (not the node visit rates, not teleportation) by this factor
        (Infomap ``--markov-time``, > 0): above 1 fewer, larger modules; below 1 more.
    regularized : bool
        Infomap's ``--regularized`` flow: a Bayesian prior of weak links between all nodes,
        recorded as teleportation (``teleport_to`` and ``recorded`` are then ignored).
    regularization_strength : float
        C in the prior's strength λ = C ln N / N (Infomap ``--regularization-strength``).

    Returns
    -------
    FlowNetwork

    Notes
    -----
    Infomap 2.16 ``src/utils/FlowCalculator.cpp``; docs/algorithms.md §4.2, ALGORITHMS-2.md §6.1-6.2.
    Undirected: node flow is strength / total (a self-loop counted once, other links twice in
    the total), link flow ``w / total`` each way. The 2008 formulation is ``recorded=True,
    teleport_to='nodes'``. Markov time multiplies the link flows after they are computed
    (``InfomapBase::initNetwork``). Regularized (Smiljanić, Edler & Rosvall, PRE 102:012302,
    2020): with u_i = s_i / k_i (mean link weight; nodes without links get the smallest u),
    u_t = Σs / Σk and λ = C ln N / N, node i gains prior weight t_i = (λ / u_t) u_i Σ_j u_j
    towards nodes chosen ∝ u_j (directed: u_out of the source, u_in of the target); a fraction
    α_i = t_i / (s_i + t_i) of its steps follows the prior and is coded as teleportation.
    """
    if directed is None:
        directed = graph.directed
    if teleport_to not in ("links", "nodes"):
        raise TextmineError(f"teleport_to must be 'links' or 'nodes', not {teleport_to!r}")
    if not 0 < teleport_prob < 1:
        raise TextmineError(f"teleportation probability must be in (0, 1), got {teleport_prob}")
    if not (markov_time > 0 and math.isfinite(markov_time)):
        raise TextmineError(f"Markov time must be a finite number > 0, got {markov_time}")
    if regularized and not (regularization_strength > 0 and math.isfinite(regularization_strength)):
        raise TextmineError(f"regularization strength must be a finite number > 0, got {regularization_strength}")
    if regularized:
        fn = _regularized_flow(graph, directed, regularization_strength)
    else:
        fn = _plain_flow(graph, directed, teleport_to, recorded, teleport_prob)
    if markov_time != 1.0:
        fn.out_flow = fn.out_flow * markov_time
        fn.in_flow = fn.out_flow if fn.symmetric else fn.in_flow * markov_time
        fn.model += f" markov-time {markov_time:g}"
    return fn


def _link_arrays(graph, directed):
    """(src, dst, w) of ``graph`` for the flow model: undirected merges a->b with b->a, directed
    flow on an undirected graph makes each link two arcs."""
    src = np.ascontiguousarray(graph.src, dtype=np.int32)
    dst = np.ascontiguousarray(graph.dst, dtype=np.int32)
    w = np.ascontiguousarray(graph.weight, dtype=np.float64)
    if not directed and graph.directed:
        from textmine.graph import as_undirected
        g2 = as_undirected(graph)
        src, dst, w = g2.src, g2.dst, g2.weight
    elif directed and not graph.directed:
        loop = src == dst
        src, dst = np.concatenate([src, dst[~loop]]), np.concatenate([dst, src[~loop]])
        w = np.concatenate([w, w[~loop]])
    return src, dst, w


def _plain_flow(graph, directed, teleport_to, recorded, teleport_prob):
    n = graph.n_nodes
    src, dst, w = _link_arrays(graph, directed)
    zeros = np.zeros(n)
    if not directed:
        self_loop = src == dst
        total = 2.0 * w.sum() - w[self_loop].sum()
        node_flow = (np.bincount(src, weights=w, minlength=n) + np.bincount(dst[~self_loop], weights=w[~self_loop],
                                                                              minlength=n)) / total
        f = w / total
        s2 = np.concatenate([src, dst])
        d2 = np.concatenate([dst, src])
        f2 = np.concatenate([f, f])
        ptr, idx, val = _build_csr(n, s2, d2, f2)
        del s2, d2, f2
        return FlowNetwork(node_flow, ptr, idx, val, ptr, idx, val, zeros, zeros, True, False, "undirected")
    beta = 1.0 - teleport_prob
    out_w = np.bincount(src, weights=w, minlength=n)
    dangling = out_w == 0
    if teleport_to == "nodes":
        tele_w = np.full(n, 1.0 / n)
    else:
        tele_w = np.bincount(dst if recorded else src, weights=w, minlength=n) / w.sum()
    trans = w / out_w[src]
    p = _pagerank(n, src, dst, trans, dangling, tele_w, teleport_prob, 200, 50, 1e-15)
    model = "directed" + (" recorded" if recorded else "") + (" to-nodes" if teleport_to == "nodes" else "")
    if recorded:
        link_flow = beta * trans * p[src]
        node_flow = p
        tele_src = teleport_prob * p + beta * np.where(dangling, p, 0.0)
        tw = tele_w
    else:
        dr = p[dangling].sum()
        s = 1.0 - dr
        link_flow = trans * p[src] / s
        node_flow = np.bincount(dst, weights=link_flow, minlength=n)
        tele_src = zeros
        tw = zeros
    ptr, idx, val = _build_csr(n, src, dst, link_flow)
    iptr, iidx, ival = _build_csr(n, dst, src, link_flow)
    return FlowNetwork(node_flow, ptr, idx, val, iptr, iidx, ival, tele_src, tw, False, bool(recorded), model)


def _mean_link_weight(s, k):
    """u = s / k per node; nodes without links get the smallest u of the others."""
    u = np.zeros(s.shape[0])
    has = k > 0
    u[has] = s[has] / k[has]
    u[~has] = u[has].min() if has.any() else 1.0
    return u


@njit
def _pagerank_prior(n, src, dst, trans, alpha, tele_w, max_iter, min_iter, tol):
    """Power iteration of the regularized directed walk: node i teleports with its own rate α_i.

    Parameters
    ----------
    n : int
    src, dst : ndarray of int32, shape (m,)
    trans : ndarray of float64, shape (m,)
        w / (source out-weight).
    alpha : ndarray of float64, shape (n,)
        Prior (teleportation) rate of each node (1 for nodes without out-links).
    tele_w : ndarray of float64, shape (n,)
        Prior target distribution (sums to 1).
    max_iter, min_iter : int
    tol : float

    Returns
    -------
    ndarray of float64, shape (n,)

    Notes
    -----
    Infomap 2.16 ``FlowCalculator::calcDirectedRegularizedFlow``: p'_i = w_i Σ_j α_j p_j +
    Σ_{j→i} (1 − α_j) trans_{ji} p_j, renormalised each step.
    """
    p = np.full(n, 1.0 / n)
    tmp = np.empty(n)
    it = 0
    while True:
        tele = 0.0
        for i in range(n):
            tele += alpha[i] * p[i]
        for i in range(n):
            tmp[i] = tele * tele_w[i]
        for e in range(src.shape[0]):
            tmp[dst[e]] += (1.0 - alpha[src[e]]) * trans[e] * p[src[e]]
        diff = _renormalise_into(tmp, p)
        it += 1
        if it >= max_iter or (diff <= tol and it >= min_iter):
            break
    return p


def _regularized_flow(graph, directed, strength):
    n = graph.n_nodes
    src, dst, w = _link_arrays(graph, directed)
    loop = src == dst
    sum_s = 2.0 * w.sum() - w[loop].sum()
    sum_k = 2.0 * w.shape[0] - np.count_nonzero(loop)
    u_t = sum_s / sum_k
    lam = strength * math.log(n) / n
    if not directed:
        k = np.bincount(src, minlength=n) + np.bincount(dst[~loop], minlength=n)
        s = np.bincount(src, weights=w, minlength=n) + np.bincount(dst[~loop], weights=w[~loop], minlength=n)
        u = _mean_link_weight(s, k)
        t = lam / u_t * u * u.sum()
        z = s.sum() + t.sum()
        node_flow = (s + t) / z
        alpha = t / (s + t)
        f = w / z  # (1 - α_i) p_i w / s_i, the same both ways
        ptr, idx, val = _build_csr(n, np.concatenate([src, dst]), np.concatenate([dst, src]), np.concatenate([f, f]))
        return FlowNetwork(node_flow, ptr, idx, val, ptr, idx, val, node_flow * alpha, u / u.sum(), True, True,
                           "undirected regularized")
    k_out = np.bincount(src, minlength=n)
    k_in = np.bincount(dst, minlength=n)
    s_out = np.bincount(src, weights=w, minlength=n)
    s_in = np.bincount(dst, weights=w, minlength=n)
    u_out = _mean_link_weight(s_out, k_out)
    u_in = _mean_link_weight(s_in, k_in)
    tele_w = u_in / u_in.sum()
    t = lam / u_t * u_out * u_in.sum()
    alpha = t / (s_out + t)
    trans = w / s_out[src]
    p = _pagerank_prior(n, src, dst, trans, alpha, tele_w, 200, 50, 1e-15)
    link_flow = (1.0 - alpha[src]) * trans * p[src]
    ptr, idx, val = _build_csr(n, src, dst, link_flow)
    iptr, iidx, ival = _build_csr(n, dst, src, link_flow)
    return FlowNetwork(p, ptr, idx, val, iptr, iidx, ival, p * alpha, tele_w, False, True, "directed regularized")


# ---------------------------------------------------------------------------------------------
# codelength
# ---------------------------------------------------------------------------------------------

def module_enter_exit(fn, modules):
    """Per-module flow, enter and exit rates of a partition.

    Parameters
    ----------
    fn : FlowNetwork
    modules : ndarray of int, shape (n,)
        Module of each node, values in ``[0, k)``.

    Returns
    -------
    flow, enter, exit : ndarray of float64, shape (k,)
    """
    modules = np.asarray(modules, dtype=np.int64)
    k = int(modules.max()) + 1 if modules.size else 0
    n = fn.n_nodes
    flow = np.bincount(modules, weights=fn.node_flow, minlength=k)
    rows = np.repeat(np.arange(n), np.diff(fn.out_ptr))
    ms, md = modules[rows], modules[fn.out_idx]
    cross = ms != md
    exit_ = np.bincount(ms[cross], weights=fn.out_flow[cross], minlength=k)
    enter = np.bincount(md[cross], weights=fn.out_flow[cross], minlength=k)
    if fn.recorded:
        tsrc = np.bincount(modules, weights=fn.tele_src, minlength=k)
        tw = np.bincount(modules, weights=fn.tele_w, minlength=k)
        exit_ = exit_ + tsrc * (1.0 - tw)
        enter = enter + (fn.tele_src.sum() - tsrc) * tw
    return flow, enter, exit_


def one_level_codelength(fn):
    """Entropy of the node visit rates in bits: the codelength of the one-module solution."""
    return -sum(_plogp_py(x) for x in fn.node_flow.tolist())


def codelength(fn, modules):
    """Two-level map equation of a partition, in bits.

    Parameters
    ----------
    fn : FlowNetwork
    modules : array-like of int, shape (n,)

    Returns
    -------
    (total, index, module) : tuple of float
        ``L = index + module`` codelengths in bits.

    Notes
    -----
    The form of docs/algorithms.md §4.1 (Infomap ``src/core/MapEquation.h``):
    L = plogp(Σq↶) − Σ plogp(q↶) − Σ plogp(q↷) + Σ plogp(q↷ + p_i) − Σ plogp(p_α).
    """
    _, inverse = np.unique(np.asarray(modules), return_inverse=True)
    flow, enter, exit_ = module_enter_exit(fn, inverse)
    pl = np.vectorize(_plogp_py, otypes=[float])
    nodes = float(pl(fn.node_flow).sum()) if fn.n_nodes else 0.0
    index = _plogp_py(float(enter.sum())) - float(pl(enter).sum())
    module = -float(pl(exit_).sum()) + float(pl(exit_ + flow).sum()) - nodes
    return index + module, index, module


def state_codelength(fn, modules, phys):
    """Two-level map equation of a partition of a state (memory) network, in bits.

    Parameters
    ----------
    fn : FlowNetwork
        Flow on the state nodes.
    modules : array-like of int, shape (n,)
        Module of each state node.
    phys : ndarray of int, shape (n,)
        Physical node of each state node.

    Returns
    -------
    (total, index, module) : tuple of float

    Notes
    -----
    ALGORITHMS-2.md §6.4 (Infomap's ``MemMapEquation``): as :func:`codelength`, but a module's
    codebook names physical nodes, with rate p_{i∩m} = Σ_{α∈i, α∈m} p_α, so the node term is
    Σ_m Σ_i plogp(p_{i∩m}) instead of Σ_α plogp(p_α).
    """
    _, inverse = np.unique(np.asarray(modules), return_inverse=True)
    flow, enter, exit_ = module_enter_exit(fn, inverse)
    pl = np.vectorize(_plogp_py, otypes=[float])
    key = inverse.astype(np.int64) * (int(phys.max()) + 1) + phys
    _, kinv = np.unique(key, return_inverse=True)
    pm = np.bincount(kinv, weights=fn.node_flow)
    index = _plogp_py(float(enter.sum())) - float(pl(enter).sum())
    module = -float(pl(exit_).sum()) + float(pl(exit_ + flow).sum()) - float(pl(pm).sum())
    return index + module, index, module


def physical_one_level_codelength(fn, phys):
    """Entropy of the physical nodes' visit rates: the one-module codelength of a state network."""
    return -sum(_plogp_py(x) for x in np.bincount(phys, weights=fn.node_flow).tolist())


def _merge_modules(fn, phys, mod, preferred=0, max_all_pairs=300):
    """Greedily merge linked modules (or modules sharing a physical node) while a union shortens
    :func:`state_codelength`: each round merges the best disjoint improving pairs at once when
    that beats the single best merge, else the single best. Returns the new module labels.

    With ``preferred`` = M* > 0 (``phys`` = one physical node per node gives the plain map
    equation), the objective includes |M − M*| and, up to ``max_all_pairs`` modules, every pair
    is a candidate, so modules with no link between them can merge (as Infomap reaches M* on a
    disconnected graph)."""
    mod = _renumber(np.asarray(mod))[0].astype(np.int64)
    k = int(mod.max()) + 1

    def objective(m):
        return state_codelength(fn, m, phys)[0] + module_count_cost(len(np.unique(m)), preferred)
    rows = np.repeat(np.arange(fn.n_nodes), np.diff(fn.out_ptr))
    while k > 1:
        flow = np.bincount(mod, weights=fn.node_flow, minlength=k)
        ms, md = mod[rows], mod[fn.out_idx]
        cross = ms != md
        F = {}
        for a, b, x in zip(ms[cross].tolist(), md[cross].tolist(), fn.out_flow[cross].tolist()):
            F[(a, b)] = F.get((a, b), 0.0) + x
        lexit = np.bincount(ms[cross], weights=fn.out_flow[cross], minlength=k)
        lenter = np.bincount(md[cross], weights=fn.out_flow[cross], minlength=k)
        tsrc = np.bincount(mod, weights=fn.tele_src, minlength=k)
        tw = np.bincount(mod, weights=fn.tele_w, minlength=k)
        t_total = float(fn.tele_src.sum())
        pm = [dict() for _ in range(k)]
        for m, ph, x in zip(mod.tolist(), phys.tolist(), fn.node_flow.tolist()):
            pm[m][ph] = pm[m].get(ph, 0.0) + x
        pairs = {(min(a, b), max(a, b)) for a, b in F}
        if preferred and k > preferred and k <= max_all_pairs:
            pairs = {(a, b) for a in range(k) for b in range(a + 1, k)}
        pair_cost = module_count_cost(k - 1, preferred) - module_count_cost(k, preferred)
        by_phys = {}
        for m in range(k):
            for ph in pm[m]:
                by_phys.setdefault(ph, []).append(m)
        for ms_ in by_phys.values():
            for i in range(len(ms_)):
                for j in range(i + 1, len(ms_)):
                    pairs.add((ms_[i], ms_[j]))
        if len(pairs) > 20000:
            break

        def ee(le, lx, ts, tws):
            if fn.recorded:
                return le + (t_total - ts) * tws, lx + ts * (1.0 - tws)
            return le, lx

        en = np.empty(k)
        ex = np.empty(k)
        for m in range(k):
            en[m], ex[m] = ee(lenter[m], lexit[m], tsrc[m], tw[m])
        sum_enter = float(en.sum())
        base_terms = [(-_plogp_py(en[m]) - _plogp_py(ex[m]) + _plogp_py(ex[m] + flow[m])) for m in range(k)]
        good = []
        for a, b in pairs:
            fab = F.get((a, b), 0.0) + F.get((b, a), 0.0)
            e2, x2 = ee(lenter[a] + lenter[b] - fab, lexit[a] + lexit[b] - fab, tsrc[a] + tsrc[b], tw[a] + tw[b])
            se = sum_enter - en[a] - en[b] + e2
            delta = (_plogp_py(se) - _plogp_py(sum_enter) - _plogp_py(e2) - _plogp_py(x2)
                     + _plogp_py(x2 + flow[a] + flow[b]) - base_terms[a] - base_terms[b] + pair_cost)
            small, large = (pm[a], pm[b]) if len(pm[a]) < len(pm[b]) else (pm[b], pm[a])
            for ph, x in small.items():
                y = large.get(ph)
                if y is not None:
                    delta -= _plogp_py(x + y) - _plogp_py(x) - _plogp_py(y)
            if delta < -MIN_IMPROVEMENT:
                good.append((delta, a, b))
        if not good:
            break
        good.sort()
        # merge the best disjoint pairs at once; keep the batch only if it beats the single best merge
        target = np.arange(k)
        used = set()
        for _, a, b in good:
            if a not in used and b not in used:
                used.update((a, b))
                target[b] = a
        single = np.arange(k)
        single[good[0][2]] = good[0][1]
        batch_mod, single_mod = target[mod], single[mod]
        if len(used) > 2 and objective(batch_mod) < objective(single_mod):
            mod = batch_mod
        else:
            mod = single_mod
        mod = _renumber(mod)[0].astype(np.int64)
        k = int(mod.max()) + 1
    return mod


# ---------------------------------------------------------------------------------------------
# search kernels
# ---------------------------------------------------------------------------------------------

@njit
def _node_link_sums(ptr, val):
    """Row sums of a CSR matrix: ndarray of float64, shape (n,)."""
    n = ptr.shape[0] - 1
    s = np.zeros(n)
    for i in range(n):
        for k in range(ptr[i], ptr[i + 1]):
            s[i] += val[k]
    return s


@njit
def _mod_exit(lexit, tsrc, tw, recorded):
    if recorded:
        return lexit + tsrc * (1.0 - tw)
    return lexit


@njit
def _mod_enter(lenter, tsrc, tw, t_total, recorded):
    if recorded:
        return lenter + (t_total - tsrc) * tw
    return lenter



@njit(inline="always")
def _link_flow_to_modules(a, ptr, idx, flow, acc, module, mark, stamp, d_out, d_in, d_phys, parent, pa, cand, nc):
    """Add the flow on node ``a``'s links (``ptr/idx/flow``, out- or in-links) to ``acc`` per
    module of the other end. A module seen for the first time this ``stamp`` gets its ``d_out``,
    ``d_in`` and ``d_phys`` zeroed and, if it has the parent ``pa``, joins the ``nc`` candidates.
    Returns the new ``nc``."""
    for k in range(ptr[a], ptr[a + 1]):
        m = module[idx[k]]
        if mark[m] != stamp:
            mark[m] = stamp
            d_out[m] = 0.0
            d_in[m] = 0.0
            d_phys[m] = 0.0
            if parent[m] == pa:
                cand[nc] = m
                nc += 1
        acc[m] += flow[k]
    return nc


@njit(inline="always")
def _phys_slot(seg_start, seg_len, tab_mod, ph, m):
    """Slot of module ``m`` in physical node ``ph``'s segment of the module table, -1 if absent."""
    for k in range(seg_start[ph], seg_start[ph] + seg_len[ph]):
        if tab_mod[k] == m:
            return k
    return -1


@njit
def _phys_table(n, module, ph_ptr, ph_idx, ph_flow, n_phys):
    """The physical-node x module flow table of a state network's partition (Infomap's
    ``MemMapEquation::m_physToModuleToMemNodes``).

    Parameters
    ----------
    n : int
        Number of nodes at this level.
    module : ndarray of int32, shape (n,)
    ph_ptr, ph_idx, ph_flow : CSR (int64 (n+1,), int32, float64)
        Each node's physical nodes and its flow on each (a leaf state: one entry; an aggregated
        node: every physical node with a state inside it).
    n_phys : int

    Returns
    -------
    seg_start : ndarray of int64, shape (n_phys + 1,)
        Physical node ``i`` owns slots ``seg_start[i] .. seg_start[i + 1]`` (as many as nodes carry
        ``i``, an upper bound on the modules that can hold it).
    seg_len : ndarray of int64, shape (n_phys,)
        Slots in use.
    tab_mod, tab_cnt, tab_flow : ndarray (int32, int64, float64)
        Per slot: the module, how many of its nodes carry the physical node, their summed flow.
    """
    e_total = ph_idx.shape[0]
    seg_start = np.zeros(n_phys + 1, dtype=np.int64)
    for e in range(e_total):
        seg_start[ph_idx[e] + 1] += 1
    for i in range(n_phys):
        seg_start[i + 1] += seg_start[i]
    seg_len = np.zeros(n_phys, dtype=np.int64)
    tab_mod = np.empty(e_total, dtype=np.int32)
    tab_cnt = np.zeros(e_total, dtype=np.int64)
    tab_flow = np.zeros(e_total)
    if n_phys == 0:  # an ordinary network (``ph_ptr`` is a placeholder)
        return seg_start, seg_len, tab_mod, tab_cnt, tab_flow
    # slot of (physical node, module) through a stamp per module: linear in the entries
    slot = np.full(n, -1, dtype=np.int64)
    slot_ph = np.full(n, -1, dtype=np.int64)
    # visit entries grouped by physical node (counting sort)
    pos = seg_start[:n_phys].copy()
    by_ph = np.empty(e_total, dtype=np.int64)
    owner = np.empty(e_total, dtype=np.int64)
    for a in range(n):
        for e in range(ph_ptr[a], ph_ptr[a + 1]):
            by_ph[pos[ph_idx[e]]] = e
            owner[pos[ph_idx[e]]] = a
            pos[ph_idx[e]] += 1
    for j in range(e_total):
        e = by_ph[j]
        ph = ph_idx[e]
        m = module[owner[j]]
        if slot_ph[m] != ph:
            slot_ph[m] = ph
            k = seg_start[ph] + seg_len[ph]
            seg_len[ph] += 1
            slot[m] = k
            tab_mod[k] = m
        k = slot[m]
        tab_cnt[k] += 1
        tab_flow[k] += ph_flow[e]
    return seg_start, seg_len, tab_mod, tab_cnt, tab_flow


@njit(inline="always")
def _module_terms(m, members, mod_flow, mod_lexit, mod_lenter, mod_tsrc, mod_tw, t_total, recorded,
                  mod_en, mod_ex, mod_pen, mod_pex, mod_pxf):
    """Cache module ``m``'s enter and exit flow and its plogp terms (zeros for an empty module)."""
    if members[m] > 0:
        en = _mod_enter(mod_lenter[m], mod_tsrc[m], mod_tw[m], t_total, recorded)
        ex = _mod_exit(mod_lexit[m], mod_tsrc[m], mod_tw[m], recorded)
        mod_en[m] = en
        mod_ex[m] = ex
        mod_pen[m] = _plogp(en)
        mod_pex[m] = _plogp(ex)
        mod_pxf[m] = _plogp(ex + mod_flow[m])
    else:
        mod_en[m] = 0.0
        mod_ex[m] = 0.0
        mod_pen[m] = 0.0
        mod_pex[m] = 0.0
        mod_pxf[m] = 0.0

@njit(inline="always")
def _module_count_cost(n_mods, preferred):
    """|M − M*| bits for M modules when a number M* > 0 is preferred (Infomap's biased map equation)."""
    if preferred > 0:
        return float(abs(n_mods - preferred))
    return 0.0


@njit_fast
def _core_loop(out_ptr, out_idx, out_flow, in_ptr, in_idx, in_flow, symmetric,
               node_flow, tele_src, tele_w, recorded, nodes_plogp,
               module, constraint, skip_first, loop_limit, min_improvement, state, preferred,
               ph_ptr, ph_idx, ph_flow, n_phys):
    """Move nodes to their best neighbouring module until no move helps (Infomap's core loop).

    Parameters
    ----------
    out_ptr, out_idx, out_flow : int64 (n+1,), int32 (k,), float64 (k,)
        Out-link flows of the current level (no self-links).
    in_ptr, in_idx, in_flow : same
        In-link flows (the same arrays when ``symmetric``).
    symmetric : bool
        Undirected flow: the flow ``a -> M`` equals ``M -> a``.
    node_flow, tele_src, tele_w : ndarray of float64, shape (n,)
        Node visit rates; recorded-teleportation source flow and target weight (zeros if unused).
    recorded : bool
        Teleportation steps are coded (``-e``).
    nodes_plogp : float
        Σ plogp(p_α) over the leaf nodes (a constant of the map equation).
    module : ndarray of int32, shape (n,)
        Initial module of each node (values in [0, n)); updated in place.
    constraint : ndarray of int32, shape (n,)
        A node may only join modules whose members share its constraint value (all zeros: free).
    skip_first : int
        A node whose module already has other members stays: never (``SKIP_NONE``), in the first
        sweep (``SKIP_FIRST_SWEEP``) or in every sweep (``SKIP_ALL_SWEEPS``, Infomap's first pass).
    loop_limit : int
        Maximum number of sweeps.
    min_improvement : float
        Stop when a sweep gains less.
    state : ndarray of uint64, shape (1,)
        Random state (advanced).
    preferred : int
        Preferred number of modules M* (0: off): the objective adds |M − M*| bits for a
        partition into M modules (Infomap ``--preferred-number-of-modules``).
    ph_ptr, ph_idx, ph_flow : CSR (int64 (n+1,), int32, float64)
        State networks (``n_phys`` > 0): each node's physical nodes and its flow on each. The
        module codebooks then name physical nodes (the state-network map equation,
        :func:`state_codelength`) and ``nodes_plogp`` is unused. Ignored when ``n_phys`` is 0.
    n_phys : int
        Number of physical nodes (0: an ordinary network).

    Returns
    -------
    n_moved : int
        Total number of moves.
    L : float
        Two-level codelength of the final partition (bits), the |M − M*| term included.

    Notes
    -----
    Infomap 2.16 ``InfomapOptimizer.h::tryMoveEachNodeIntoBestModule`` and
    ``MapEquation.h::getDeltaCodelengthOnMovingNode``; docs/algorithms.md §4.3 step 3. Nodes are visited
    in a fresh random order per sweep, only if dirty; candidates are the neighbours' modules and one
    empty module, evaluated in random order; ties go to the most strongly connected module.
    State networks (``MemMapEquation::addMemoryContributions``): the modules that hold one of
    the node's physical nodes are candidates too, and a move changes the codebook term
    −Σ_m Σ_i plogp(p_{i∩m}) by the physical-node flows leaving the old module and joining the new
    one, read from the physical node x module table (:func:`_phys_table`).
    """
    n = node_flow.shape[0]
    mod_flow = np.zeros(n)
    mod_lexit = np.zeros(n)
    mod_lenter = np.zeros(n)
    mod_tsrc = np.zeros(n)
    mod_tw = np.zeros(n)
    members = np.zeros(n, dtype=np.int64)
    parent = np.zeros(n, dtype=np.int32)
    t_total = 0.0
    for a in range(n):
        m = module[a]
        mod_flow[m] += node_flow[a]
        mod_tsrc[m] += tele_src[a]
        mod_tw[m] += tele_w[a]
        members[m] += 1
        parent[m] = constraint[a]
        t_total += tele_src[a]
        for k in range(out_ptr[a], out_ptr[a + 1]):
            if module[out_idx[k]] != m:
                mod_lexit[m] += out_flow[k]
                mod_lenter[module[out_idx[k]]] += out_flow[k]
    node_lexit = _node_link_sums(out_ptr, out_flow)
    if symmetric:
        node_lenter = node_lexit
    else:
        node_lenter = _node_link_sums(in_ptr, in_flow)
    empty = np.empty(n, dtype=np.int32)
    n_empty = 0
    for m in range(n - 1, -1, -1):
        if members[m] == 0:
            empty[n_empty] = m
            n_empty += 1
    # cached per-module enter, exit and their plogp terms
    mod_en = np.zeros(n)
    mod_ex = np.zeros(n)
    mod_pen = np.zeros(n)
    mod_pex = np.zeros(n)
    mod_pxf = np.zeros(n)
    sum_enter = 0.0
    sum_plogp_enter = 0.0
    sum_plogp_exit = 0.0
    sum_plogp_exit_flow = 0.0
    for m in range(n):
        if members[m] > 0:
            _module_terms(m, members, mod_flow, mod_lexit, mod_lenter, mod_tsrc, mod_tw, t_total, recorded,
                          mod_en, mod_ex, mod_pen, mod_pex, mod_pxf)
            sum_enter += mod_en[m]
            sum_plogp_enter += mod_pen[m]
            sum_plogp_exit += mod_pex[m]
            sum_plogp_exit_flow += mod_pxf[m]
    n_mods = 0
    for m in range(n):
        if members[m] > 0:
            n_mods += 1
    memory = n_phys > 0
    seg_start, seg_len, tab_mod, tab_cnt, tab_flow = _phys_table(n, module, ph_ptr, ph_idx, ph_flow, n_phys)
    # the nodes carrying each physical node (a move changes their deltas: they become dirty)
    carriers = np.empty(ph_idx.shape[0], dtype=np.int32)
    fill = seg_start[:n_phys].copy()
    for a in range(n if memory else 0):
        for e in range(ph_ptr[a], ph_ptr[a + 1]):
            carriers[fill[ph_idx[e]]] = a
            fill[ph_idx[e]] += 1
    if memory:
        nodes_plogp = 0.0  # Σ_m Σ_i plogp(p_{i∩m}), kept up to date below
        for i in range(n_phys):
            for k in range(seg_start[i], seg_start[i] + seg_len[i]):
                nodes_plogp += _plogp(tab_flow[k])
    L = (_plogp(sum_enter) - sum_plogp_enter - sum_plogp_exit + sum_plogp_exit_flow - nodes_plogp
         + _module_count_cost(n_mods, preferred))
    same_enter_exit = symmetric and not recorded

    order = np.arange(n).astype(np.int32)
    dirty = np.ones(n, dtype=np.bool_)
    d_out = np.zeros(n)  # flow node -> module
    d_in = np.zeros(n)  # flow module -> node
    d_phys = np.zeros(n)  # state networks: Σ plogp(y + x) - plogp(y) - plogp(x) over shared physical nodes
    mark = np.full(n, -1, dtype=np.int64)
    cand = np.empty(n + 1, dtype=np.int32)
    total_moved = 0
    stamp = 0
    for sweep in range(loop_limit):
        L_old = L
        _shuffle(order, n, state)
        moved = 0
        for oi in range(n):
            a = order[oi]
            # teleportation links every node to every module; the module count is global
            if not dirty[a] and not recorded and preferred == 0:
                continue
            old = module[a]
            if (skip_first == SKIP_ALL_SWEEPS or (skip_first == SKIP_FIRST_SWEEP and sweep == 0)) and members[old] > 1:
                continue
            stamp += 1
            nc = 0
            mark[old] = stamp
            d_out[old] = 0.0
            d_in[old] = 0.0
            pa = constraint[a]
            nc = _link_flow_to_modules(a, out_ptr, out_idx, out_flow, d_out, module, mark, stamp, d_out, d_in,
                                       d_phys, parent, pa, cand, nc)
            if symmetric:
                for i in range(nc):
                    d_in[cand[i]] = d_out[cand[i]]
                d_in[old] = d_out[old]
            else:
                nc = _link_flow_to_modules(a, in_ptr, in_idx, in_flow, d_in, module, mark, stamp, d_out, d_in,
                                           d_phys, parent, pa, cand, nc)
            # state networks: the change of Σ plogp(p_{i∩m}) when a's physical flows leave ``old``
            # (phys_old) and join a module without them (phys_new); d_phys[m] corrects phys_new
            # for a module m that already holds some of them, and makes m a candidate
            phys_old = 0.0
            phys_new = 0.0
            if memory:
                for e in range(ph_ptr[a], ph_ptr[a + 1]):
                    ph = ph_idx[e]
                    x = ph_flow[e]
                    px = _plogp(x)
                    phys_new += px
                    for k in range(seg_start[ph], seg_start[ph] + seg_len[ph]):
                        m = tab_mod[k]
                        y = tab_flow[k]
                        if m == old:
                            phys_old += (_plogp(y - x) if tab_cnt[k] > 1 else 0.0) - _plogp(y)
                            continue
                        if mark[m] != stamp:
                            mark[m] = stamp
                            d_out[m] = 0.0
                            d_in[m] = 0.0
                            d_phys[m] = 0.0
                            if parent[m] == pa:
                                cand[nc] = m
                                nc += 1
                        d_phys[m] += _plogp(y + x) - _plogp(y) - px
            use_empty = -1
            if members[old] > 1 and n_empty > 0:
                use_empty = empty[n_empty - 1]
                d_out[use_empty] = 0.0
                d_in[use_empty] = 0.0
                d_phys[use_empty] = 0.0
                cand[nc] = use_empty
                nc += 1
            if nc == 0:
                dirty[a] = False
                continue
            _shuffle(cand, nc, state)
            # old module without a: constant terms for every candidate
            fa = node_flow[a]
            ta = tele_src[a]
            wa = tele_w[a]
            o_flow = mod_flow[old] - fa
            o_lexit = mod_lexit[old] - node_lexit[a] + d_out[old] + d_in[old]
            o_lenter = mod_lenter[old] - node_lenter[a] + d_out[old] + d_in[old]
            o_tsrc = mod_tsrc[old] - ta
            o_tw = mod_tw[old] - wa
            en_old2 = _mod_enter(o_lenter, o_tsrc, o_tw, t_total, recorded)
            ex_old2 = _mod_exit(o_lexit, o_tsrc, o_tw, recorded)
            p_ex_old2 = _plogp(ex_old2)
            p_en_old2 = p_ex_old2 if same_enter_exit else _plogp(en_old2)
            p_xf_old2 = _plogp(ex_old2 + o_flow)
            base_enter = sum_enter - mod_en[old] + en_old2
            const = (-_plogp(sum_enter) - p_en_old2 + mod_pen[old] - p_ex_old2 + mod_pex[old]
                     + p_xf_old2 - mod_pxf[old] - phys_old - phys_new)
            cost_now = _module_count_cost(n_mods, preferred)
            lose_old = 1 if members[old] == 1 else 0
            best = old
            best_delta = 0.0
            strongest = old
            strongest_out = d_out[old]
            strongest_delta = 0.0
            nlx = node_lexit[a]
            nle = node_lenter[a]
            for ci in range(nc):
                m = cand[ci]
                if m == old:
                    continue
                dd = d_out[m] + d_in[m]
                if recorded:
                    en_new2 = _mod_enter(mod_lenter[m] + nle - dd, mod_tsrc[m] + ta, mod_tw[m] + wa, t_total, True)
                    ex_new2 = _mod_exit(mod_lexit[m] + nlx - dd, mod_tsrc[m] + ta, mod_tw[m] + wa, True)
                else:
                    en_new2 = mod_lenter[m] + nle - dd
                    ex_new2 = mod_lexit[m] + nlx - dd
                p_ex_new2 = _plogp(ex_new2)
                p_en_new2 = p_ex_new2 if same_enter_exit else _plogp(en_new2)
                delta = (const + _plogp(base_enter - mod_en[m] + en_new2)
                         - p_en_new2 + mod_pen[m] - p_ex_new2 + mod_pex[m]
                         + _plogp(ex_new2 + mod_flow[m] + fa) - mod_pxf[m] - d_phys[m])
                if preferred > 0:
                    d_mods = (1 if members[m] == 0 else 0) - lose_old
                    delta += _module_count_cost(n_mods + d_mods, preferred) - cost_now
                if delta < best_delta - MIN_SINGLE_MOVE:
                    best = m
                    best_delta = delta
                if d_out[m] > strongest_out:
                    strongest = m
                    strongest_out = d_out[m]
                    strongest_delta = delta
            if strongest != best and strongest_delta <= best_delta + MIN_SINGLE_MOVE:
                best = strongest
                best_delta = strongest_delta
            if best == old:
                dirty[a] = False
                continue
            m = best
            if memory:
                nodes_plogp += phys_old + phys_new + d_phys[m]
                for e in range(ph_ptr[a], ph_ptr[a + 1]):
                    ph = ph_idx[e]
                    x = ph_flow[e]
                    k = _phys_slot(seg_start, seg_len, tab_mod, ph, old)
                    tab_cnt[k] -= 1
                    if tab_cnt[k] == 0:  # the physical node leaves the old module: move the last slot here
                        last = seg_start[ph] + seg_len[ph] - 1
                        tab_mod[k] = tab_mod[last]
                        tab_cnt[k] = tab_cnt[last]
                        tab_flow[k] = tab_flow[last]
                        seg_len[ph] -= 1
                    else:
                        tab_flow[k] -= x
                    k = _phys_slot(seg_start, seg_len, tab_mod, ph, m)
                    if k < 0:
                        k = seg_start[ph] + seg_len[ph]
                        seg_len[ph] += 1
                        tab_mod[k] = m
                        tab_cnt[k] = 0
                        tab_flow[k] = 0.0
                    tab_cnt[k] += 1
                    tab_flow[k] += x
            n_mods += (1 if members[m] == 0 else 0) - lose_old
            if m == use_empty:
                n_empty -= 1
                parent[m] = pa
            dd = d_out[m] + d_in[m]
            sum_enter -= mod_en[old] + mod_en[m]
            sum_plogp_enter -= mod_pen[old] + mod_pen[m]
            sum_plogp_exit -= mod_pex[old] + mod_pex[m]
            sum_plogp_exit_flow -= mod_pxf[old] + mod_pxf[m]
            mod_lexit[m] += nlx - dd
            mod_lenter[m] += nle - dd
            mod_flow[m] += fa
            mod_tsrc[m] += ta
            mod_tw[m] += wa
            members[old] -= 1
            members[m] += 1
            if members[old] == 0:
                empty[n_empty] = old
                n_empty += 1
                mod_flow[old] = 0.0
                mod_lexit[old] = 0.0
                mod_lenter[old] = 0.0
                mod_tsrc[old] = 0.0
                mod_tw[old] = 0.0
            else:
                mod_flow[old] = o_flow
                mod_lexit[old] = o_lexit
                mod_lenter[old] = o_lenter
                mod_tsrc[old] = o_tsrc
                mod_tw[old] = o_tw
            for mm in (old, m):
                _module_terms(mm, members, mod_flow, mod_lexit, mod_lenter, mod_tsrc, mod_tw, t_total, recorded,
                              mod_en, mod_ex, mod_pen, mod_pex, mod_pxf)
                sum_enter += mod_en[mm]
                sum_plogp_enter += mod_pen[mm]
                sum_plogp_exit += mod_pex[mm]
                sum_plogp_exit_flow += mod_pxf[mm]
            module[a] = m
            moved += 1
            dirty[a] = True
            for k in range(out_ptr[a], out_ptr[a + 1]):
                dirty[out_idx[k]] = True
            if not symmetric:
                for k in range(in_ptr[a], in_ptr[a + 1]):
                    dirty[in_idx[k]] = True
            if memory:
                for e in range(ph_ptr[a], ph_ptr[a + 1]):
                    for k in range(seg_start[ph_idx[e]], seg_start[ph_idx[e] + 1]):
                        dirty[carriers[k]] = True
        total_moved += moved
        L = (_plogp(sum_enter) - sum_plogp_enter - sum_plogp_exit + sum_plogp_exit_flow - nodes_plogp
             + _module_count_cost(n_mods, preferred))
        if moved == 0 or L_old - L < min_improvement:
            break
    return total_moved, L



@njit
def _aggregate(ptr, idx, val, module, m):
    """Sum a CSR matrix over a node partition, dropping links inside a part.

    Parameters
    ----------
    ptr, idx, val : int64 (n+1,), int32 (k,), float64 (k,)
    module : ndarray of int32, shape (n,)
        Part of each node, values in [0, m).
    m : int

    Returns
    -------
    ptr2, idx2, val2 : CSR of the m x m quotient (targets in first-seen order per row).
    """
    n = ptr.shape[0] - 1
    cnt = np.zeros(m + 1, dtype=np.int64)
    for a in range(n):
        cnt[module[a] + 1] += 1
    for i in range(m):
        cnt[i + 1] += cnt[i]
    members = np.empty(n, dtype=np.int32)
    pos = cnt[:m].copy()
    for a in range(n):
        members[pos[module[a]]] = a
        pos[module[a]] += 1
    idx2 = np.empty(idx.shape[0], dtype=np.int32)
    val2 = np.empty(idx.shape[0], dtype=np.float64)
    ptr2 = np.zeros(m + 1, dtype=np.int64)
    slot = np.full(m, -1, dtype=np.int64)
    w = 0
    for r in range(m):
        start = w
        for j in range(cnt[r], cnt[r + 1]):
            a = members[j]
            for k in range(ptr[a], ptr[a + 1]):
                t = module[idx[k]]
                if t == r:
                    continue
                s = slot[t]
                if s < start:
                    slot[t] = w
                    idx2[w] = t
                    val2[w] = val[k]
                    w += 1
                else:
                    val2[s] += val[k]
        ptr2[r + 1] = w
    return ptr2, idx2[:w].copy(), val2[:w].copy()


# ---------------------------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------------------------

_NO_PHYS = (np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0))


@dataclass
class _Level:
    out_ptr: np.ndarray
    out_idx: np.ndarray
    out_flow: np.ndarray
    in_ptr: np.ndarray
    in_idx: np.ndarray
    in_flow: np.ndarray
    node_flow: np.ndarray
    tele_src: np.ndarray
    tele_w: np.ndarray
    # state networks: each node's physical nodes and its flow on each (CSR); empty otherwise
    ph_ptr: np.ndarray = field(default_factory=lambda: _NO_PHYS[0])
    ph_idx: np.ndarray = field(default_factory=lambda: _NO_PHYS[1])
    ph_flow: np.ndarray = field(default_factory=lambda: _NO_PHYS[2])

    @property
    def n(self):
        return self.node_flow.shape[0]


def _leaf_level(fn, phys=None):
    lv = _Level(fn.out_ptr, fn.out_idx, fn.out_flow, fn.in_ptr, fn.in_idx, fn.in_flow, fn.node_flow,
                fn.tele_src, fn.tele_w)
    if phys is not None:
        lv.ph_ptr = np.arange(fn.n_nodes + 1, dtype=np.int64)
        lv.ph_idx = np.asarray(phys, dtype=np.int32)
        lv.ph_flow = fn.node_flow
    return lv


def _renumber(module):
    """Relabel module ids to 0..m-1 in increasing order of the old id; returns (labels int32, m)."""
    uniq, inv = np.unique(module, return_inverse=True)
    return inv.astype(np.int32), int(uniq.shape[0])


def _aggregate_phys(lv, module, m):
    """The physical-node lists of the aggregated nodes: (module, physical node) -> summed flow, as
    CSR sorted by module then physical node (Infomap ``MemMapEquation::consolidateModules``)."""
    rows = np.repeat(np.arange(lv.n), np.diff(lv.ph_ptr))
    n_phys = int(lv.ph_idx.max()) + 1
    key = module[rows].astype(np.int64) * n_phys + lv.ph_idx
    uk, inv = np.unique(key, return_inverse=True)
    flow = np.bincount(inv, weights=lv.ph_flow)
    mod, ph = np.divmod(uk, n_phys)
    ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(mod, minlength=m), out=ptr[1:])
    return ptr, ph.astype(np.int32), flow


def _aggregate_level(lv, module, m, symmetric):
    p, i, v = _aggregate(lv.out_ptr, lv.out_idx, lv.out_flow, module, m)
    if symmetric:
        ip, ii, iv = p, i, v
    else:
        ip, ii, iv = _aggregate(lv.in_ptr, lv.in_idx, lv.in_flow, module, m)
    sums = lambda x: np.bincount(module, weights=x, minlength=m)  # noqa: E731
    agg = _Level(p, i, v, ip, ii, iv, sums(lv.node_flow), sums(lv.tele_src), sums(lv.tele_w))
    if lv.ph_idx.shape[0]:
        agg.ph_ptr, agg.ph_idx, agg.ph_flow = _aggregate_phys(lv, module, m)
    return agg


class _Search:
    """One trial's state: the leaf network and the search steps of Infomap's two-level partition."""

    def __init__(self, fn, seed, fixed=None, nodes_plogp=None, preferred=0, phys=None):
        self.fn = fn
        self.preferred = int(preferred)
        self.leaf = _leaf_level(fn, phys)
        self.n_phys = 0 if phys is None else int(np.max(phys)) + 1
        self.sym = fn.symmetric
        self.rec = fn.recorded
        if phys is not None:  # the search's relative stopping threshold uses the physical one-level code
            nodes_plogp = -physical_one_level_codelength(fn, phys)
        self.nodes_plogp = -one_level_codelength(fn) if nodes_plogp is None else nodes_plogp
        self.state = _seed_state(seed)
        # nodes with different values never share a module (the stand-in for the outside of a module)
        self.fixed = np.zeros(fn.n_nodes, dtype=np.int32) if fixed is None else fixed.astype(np.int32)

    def core(self, lv, module, constraint, skip_first, limit, preferred=None):
        return _core_loop(lv.out_ptr, lv.out_idx, lv.out_flow, lv.in_ptr, lv.in_idx, lv.in_flow, self.sym,
                          lv.node_flow, lv.tele_src, lv.tele_w, self.rec, self.nodes_plogp,
                          module, constraint, skip_first, limit, MIN_IMPROVEMENT, self.state,
                          self.preferred if preferred is None else preferred,
                          lv.ph_ptr, lv.ph_idx, lv.ph_flow, self.n_phys)

    def merge_repeatedly(self, lv, init=None, first_limit=CORE_LOOP_LIMIT, fixed=None):
        """Core loop and aggregation, repeated; returns (module of each node of ``lv``, L)."""
        n = lv.n
        to_node = np.arange(n, dtype=np.int32)
        module = np.arange(n, dtype=np.int32) if init is None else np.asarray(init, dtype=np.int32).copy()
        # the first pass from singletons: nodes that others joined stay put in the first sweep, or, with a
        # preferred number of modules, in every sweep (Infomap's rule, InfomapOptimizer.h: there only
        # singletons move, so the |M − M*| term steers the merges; measured in bench/RESULTS.md)
        skip = (SKIP_ALL_SWEEPS if self.preferred else SKIP_FIRST_SWEEP) if init is None else SKIP_NONE
        limit = first_limit
        free = self.fixed if fixed is None else fixed
        L = None
        while True:
            moved, L = self.core(lv, module, free, skip, limit)
            labels, m = _renumber(module)
            to_node = labels[to_node]
            if moved == 0 or m == 1 or m == lv.n:
                break
            lv = _aggregate_level(lv, labels, m, self.sym)
            module = np.arange(m, dtype=np.int32)
            agg = np.zeros(m, dtype=np.int32)
            agg[labels] = free
            free = agg
            skip = SKIP_FIRST_SWEEP
            limit = AGGREGATED_LOOP_LIMIT
        return to_node, L

    def fine_tune(self, modules):
        return self.merge_repeatedly(self.leaf, init=modules)

    def coarse_tune(self, modules):
        leaf = self.leaf
        sub = np.arange(leaf.n, dtype=np.int32)
        # submodules: a core loop inside each module
        self.core(leaf, sub, modules.astype(np.int32), SKIP_FIRST_SWEEP, AGGREGATED_LOOP_LIMIT, preferred=0)
        sub, s = _renumber(sub)
        subnet = _aggregate_level(leaf, sub, s, self.sym)
        parent = np.empty(s, dtype=np.int32)
        parent[sub] = modules
        fixed = np.zeros(s, dtype=np.int32)
        fixed[sub] = self.fixed
        mods, L = self.merge_repeatedly(subnet, init=parent, first_limit=AGGREGATED_LOOP_LIMIT, fixed=fixed)
        return mods[sub], L

    def run(self):
        modules, L = self.merge_repeatedly(self.leaf)
        one = -self.nodes_plogp
        do_fine = True
        coarse_done = False
        for _ in range(MAX_TUNE_ITERATIONS):
            if modules.max() == 0:
                break
            L_prev = L
            if do_fine:
                modules, L = self.fine_tune(modules)
            else:
                modules, L = self.coarse_tune(modules)
                coarse_done = True
            if coarse_done and L_prev - L < max(MIN_IMPROVEMENT, MIN_RELATIVE_TUNE * one):
                break
            do_fine = not do_fine
        return modules, L


@dataclass
class InfomapResult:
    """Result of :func:`infomap`.

    Attributes
    ----------
    modules : ndarray of int64, shape (n,)
        Top module of each node, numbered 0.. by decreasing module flow.
    codelength : float
        Codelength in bits (two-level map equation).
    index_codelength, module_codelength : float
    one_level_codelength : float
    n_modules : int
    node_flow : ndarray of float64
    module_flow : ndarray of float64, shape (n_modules,)
    trial_codelengths : list of float
    best_trial : int
    flow_model : str
    seed, trials : int
    """

    modules: np.ndarray
    codelength: float
    index_codelength: float
    module_codelength: float
    one_level_codelength: float
    n_modules: int
    node_flow: np.ndarray
    module_flow: np.ndarray
    trial_codelengths: list
    best_trial: int
    flow_model: str
    seed: int
    trials: int
    module_enter: np.ndarray = None
    module_exit: np.ndarray = None
    elapsed: float = 0.0
    levels: int = 2
    paths: list = None
    flow_network: "FlowNetwork" = None
    nodes: list = None
    phys: np.ndarray = None
    phys_ids: list = None
    phys_names: list = None
    layers: list = None  # multilayer input: each state's layer id

    def physical_memberships(self):
        """State networks: (physical index, module, flow) rows, one per physical node and module it
        has flow in (overlapping clusters), by module then decreasing flow then index."""
        key = self.modules * (int(self.phys.max()) + 1) + self.phys
        uk, inv = np.unique(key, return_inverse=True)
        flow = np.bincount(inv, weights=self.node_flow)
        mods, ph = np.divmod(uk, int(self.phys.max()) + 1)
        order = np.lexsort((ph, -flow, mods))
        return [(int(ph[i]), int(mods[i]), float(flow[i])) for i in order.tolist()]

    @property
    def membership(self):
        """{node: module} with modules numbered 1.. by decreasing flow (as Infomap's ``get_modules``);
        the nodes are the input's node objects (networkx/igraph) or ids."""
        return dict(zip(self.nodes, (self.modules + 1).tolist()))

    @property
    def relative_savings(self):
        return 1.0 - self.codelength / self.one_level_codelength if self.one_level_codelength > 0 else 0.0


def module_count_cost(n_modules, preferred):
    """|M − M*| bits: the biased map equation's term for M modules when M* > 0 is preferred, else 0.

    Notes
    -----
    Infomap 2.16 ``BiasedMapEquation::calcNumModuleCost`` (ALGORITHMS-2.md §6.3); the codelength
    Infomap prints includes it, so a solution with M = M* shows none.
    """
    return float(abs(int(n_modules) - int(preferred))) if preferred > 0 else 0.0


def _order_modules(modules, node_flow):
    """Renumber modules 0.. by decreasing flow (ties: smallest first node)."""
    labels, m = _renumber(modules)
    flow = np.bincount(labels, weights=node_flow, minlength=m)
    first = np.full(m, labels.shape[0], dtype=np.int64)
    np.minimum.at(first, labels, np.arange(labels.shape[0]))
    order = np.lexsort((first, -flow))
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    return rank[labels], flow[order]


def _run_trial(fn, seed, preferred=0, phys=None):
    return _Search(fn, seed, preferred=preferred, phys=phys).run()


def infomap(graph_or_flow, directed=None, teleport_to="links", recorded=False, teleport_prob=ALPHA,
            trials=1, seed=1, n_jobs=1, prefer_modular=False, multilevel=False, markov_time=1.0,
            regularized=False, regularization_strength=1.0, preferred_modules=0, phys=None):
    """Find the two-level partition that minimises the map equation, as Infomap does.

    Parameters
    ----------
    graph_or_flow : textmine.graph.Graph, FlowNetwork, networkx.Graph/DiGraph or igraph.Graph
        A networkx or igraph graph is read with :func:`textmine.graph.graph_from_networkx`
        (``weight`` attribute; directed flow for a directed graph unless ``directed`` says
        otherwise); ``result.membership`` then maps its node objects to modules.
    directed, teleport_to, recorded, teleport_prob, markov_time, regularized, regularization_strength
        Flow model, see :func:`compute_flow` (ignored when a FlowNetwork is given).
    trials : int
        Independent trials; trial ``k`` uses seed ``seed + k``; the lowest codelength wins
        (ties: the earliest trial).
    seed : int
        Base seed (the result depends on it and on nothing else).
    n_jobs : int
        Threads running trials in parallel; the result does not depend on it.
    prefer_modular : bool
        Keep the modular solution even when it is longer than the one-level code.
    phys : array-like of int, shape (n,), optional
        Physical node of each node, making the graph a state (memory) network: the search then
        minimises :func:`state_codelength` and the result reports physical nodes per module
        (overlapping). Taken from ``graph.phys`` for a ``*States`` file. Two-level only. The
        search is the one for ordinary networks (moves, aggregation, fine- and coarse-tune) on
        the state-network objective: aggregated nodes carry their physical nodes' flows, and
        the core loop keeps a physical node x module table (Infomap's ``MemMapEquation``).
    preferred_modules : int
        Preferred number of modules M* (0: none): the search minimises L + |M − M*| bits and the
        codelength reported includes that term, as Infomap's ``--preferred-number-of-modules``.
        Two-level only. The first pass then moves only nodes still alone in their module, as
        Infomap's first pass does.
    multilevel : bool
        Grow the best two-level partition into a module tree (:func:`multilevel_paths`); the
        codelength is then the multilevel map equation, ``modules`` the top level and ``paths``
        each node's full module path (1-based ranks by decreasing flow, as in Infomap's ``.tree``).

    Returns
    -------
    InfomapResult

    Notes
    -----
    docs/algorithms.md §4.3: core loop (up to 10 sweeps, 20 at aggregated levels), aggregation
    repeated while nodes move, then alternate fine-tune (re-run the core loop on the leaves from
    the current modules) and coarse-tune (split each module into the submodules a constrained core
    loop finds, move submodules as units), stopping when a tune round after a coarse-tune gains
    less than max(1e-10, 1e-5 L₁). A solution longer than the one-level code is replaced by one
    module unless ``prefer_modular`` or ``preferred_modules`` (Infomap ``InfomapBase::partition``).

    Examples
    --------
    >>> from textmine.graph import graph_from_edges
    >>> g = graph_from_edges([(1, 2), (1, 3), (2, 3), (3, 4), (4, 5), (4, 6), (5, 6)])
    >>> r = infomap(g)
    >>> r.n_modules, round(r.codelength, 5)
    (2, 2.32073)
    >>> import networkx as nx
    >>> r = infomap(nx.karate_club_graph(), trials=10, markov_time=1.5)  # weighted
    >>> r.n_modules, round(r.codelength, 6), r.membership[0] == r.membership[1]
    (3, 4.381199, True)
    """
    if trials < 1:
        raise TextmineError(f"trials must be >= 1, got {trials}")
    if preferred_modules < 0:
        raise TextmineError(f"preferred number of modules must be >= 1 (0: no preference), got {preferred_modules}")
    if preferred_modules and multilevel:
        raise TextmineError("a preferred number of modules applies to the two-level partition only; "
                            "drop --multilevel or the preference")
    t0 = time.perf_counter()
    node_names = None
    phys_ids = phys_names = layers = None
    if not isinstance(graph_or_flow, FlowNetwork) and not hasattr(graph_or_flow, "src"):
        from textmine.graph import graph_from_networkx
        graph_or_flow = graph_from_networkx(graph_or_flow)
    if getattr(graph_or_flow, "phys", None) is not None:
        phys = graph_or_flow.phys
        phys_ids, phys_names = graph_or_flow.phys_ids, graph_or_flow.phys_names
        layers = getattr(graph_or_flow, "layers", None)
        if layers is not None and graph_or_flow.directed:
            directed = True  # *Intra input: Infomap switches to directed flow
    if phys is not None:
        phys = np.asarray(phys, dtype=np.int64)
        if phys_ids is None:
            phys_ids = [str(i) for i in range(int(phys.max()) + 1)]
            phys_names = phys_ids
        if multilevel or preferred_modules:
            raise TextmineError("state networks are partitioned in two levels without a preferred number of "
                                "modules; drop --multilevel / --preferred-number-of-modules")
    if isinstance(graph_or_flow, FlowNetwork):
        fn = graph_or_flow
    else:
        node_names = graph_or_flow.objects if graph_or_flow.objects is not None else graph_or_flow.ids
        fn = compute_flow(graph_or_flow, directed=directed, teleport_to=teleport_to, recorded=recorded,
                          teleport_prob=teleport_prob, markov_time=markov_time, regularized=regularized,
                          regularization_strength=regularization_strength)
    n = fn.n_nodes
    if n == 0:
        raise TextmineError("the graph has no nodes")
    one = one_level_codelength(fn)
    seeds = [seed + k for k in range(trials)]
    if phys is not None:
        one = physical_one_level_codelength(fn, phys)
    one += 0.0  # -0.0 (one node: -1 log 1) reads as 0 in every output
    if n_jobs > 1 and trials > 1:
        # load the kernels once before threads start, on a small piece of the network of the same kind (a full
        # trial here cost as much as the parallel trials themselves: bench/RESULTS.md, Infomap options at 100k)
        if phys is None:
            _run_trial(_subnetwork(fn, np.arange(min(n, 64))), seed, preferred_modules)
        else:
            _run_trial(fn, seed, preferred_modules, phys)
        with ThreadPoolExecutor(max_workers=min(n_jobs, trials)) as ex:
            results = list(ex.map(lambda s: _run_trial(fn, s, preferred_modules, phys), seeds))
    else:
        results = [_run_trial(fn, s, preferred_modules, phys) for s in seeds]
    lengths = [float(r[1]) for r in results]
    best = int(np.argmin(lengths))
    modules = results[best][0]
    if preferred_modules and phys is None and len(np.unique(modules)) > preferred_modules:
        # merges the core loop cannot see (modules without a link between them), as Infomap reaches M*
        merged = _merge_modules(fn, np.arange(n), modules, preferred=preferred_modules)
        before = codelength(fn, modules)[0] + module_count_cost(len(np.unique(modules)), preferred_modules)
        if codelength(fn, merged)[0] + module_count_cost(len(np.unique(merged)), preferred_modules) < before:
            modules = merged
    L, index, module = codelength(fn, modules) if phys is None else state_codelength(fn, modules, phys)
    penalty = module_count_cost(len(np.unique(modules)), preferred_modules)
    L += penalty
    module += penalty
    if L > one and not prefer_modular and not preferred_modules:  # Infomap: no fallback with a preference
        modules = np.zeros(n, dtype=np.int64)
        L, index, module = one, 0.0, one
    paths = None
    levels = 2
    if multilevel and n > 1:
        raw, L_ml = multilevel_paths(fn, modules, seed)
        if True:  # the hierarchy only keeps changes that shorten the code
            top = {}
            modules = np.array([top.setdefault(p[0], len(top)) for p in raw], dtype=np.int64)
            paths = _rank_paths(raw, fn.node_flow)
            levels = max(len(p) for p in paths)
            L, index = L_ml, float("nan")
            module = float("nan")
    ranks, mflow = _order_modules(modules, fn.node_flow)
    _, menter, mexit = module_enter_exit(fn, ranks)
    if phys is not None:
        fn.model += " states"
    return InfomapResult(phys=phys, phys_ids=phys_ids, phys_names=phys_names, layers=layers, module_enter=menter, module_exit=mexit, elapsed=time.perf_counter() - t0,
                         modules=ranks, codelength=L, index_codelength=index, module_codelength=module,
                         one_level_codelength=one, n_modules=int(mflow.shape[0]), node_flow=fn.node_flow,
                         module_flow=mflow, trial_codelengths=lengths, best_trial=best, flow_model=fn.model,
                         seed=seed, trials=trials, levels=levels, paths=paths, flow_network=fn,
                         nodes=node_names if node_names is not None else list(range(n)))


# ---------------------------------------------------------------------------------------------
# output in Infomap's file formats
# ---------------------------------------------------------------------------------------------

def _rank_paths(raw, node_flow):
    """Turn module paths with arbitrary labels into Infomap's 1-based ranks by decreasing flow,
    each ending with the node's own rank among its siblings."""
    flow, first_node = {}, {}
    for a, (p, f) in enumerate(zip(raw, node_flow.tolist())):
        for d in range(1, len(p) + 1):
            flow[tuple(p[:d])] = flow.get(tuple(p[:d]), 0.0) + f
            first_node.setdefault(tuple(p[:d]), a)
    children = {}
    for a, p in enumerate(raw):
        for d in range(len(p)):
            children.setdefault(tuple(p[:d]), set()).add(("m", tuple(p[:d + 1])))
        children.setdefault(tuple(p), set()).add(("n", a))

    def key(item):
        kind, x = item
        f = flow[x] if kind == "m" else float(node_flow[x])
        first = x if kind == "n" else first_node[x]
        return (-f, first)

    rank = {}
    for parent, items in children.items():
        for r, item in enumerate(sorted(items, key=key), 1):
            rank[item] = r
    out = []
    for a, p in enumerate(raw):
        out.append([rank[("m", tuple(p[:d + 1]))] for d in range(len(p))] + [rank[("n", a)]])
    return out


def node_order(result):
    """Node indices in Infomap's tree order: by module, then decreasing flow, then node index."""
    n = result.modules.shape[0]
    if result.paths is not None:
        return np.array(sorted(range(n), key=lambda a: result.paths[a]), dtype=np.int64)
    return np.lexsort((np.arange(n), -result.node_flow, result.modules))


def _fmt(x):
    return f"{x + 0.0:.6g}"  # + 0.0: -0.0 (a one-node graph's codelength) prints as 0


def write_result(out, result, ids, names=None, fmt="tsv", header=None, state_level=False):
    """Write a partition as textmine TSV or Infomap ``.clu`` / ``.tree`` / JSON.

    Parameters
    ----------
    out : text file
    result : InfomapResult
    ids : list of str
        Node ids (``Graph.ids``).
    names : list of str, optional
        Display names for ``tree`` and ``json`` (``Graph.names``); default ``ids``.
    fmt : {'tsv', 'clu', 'tree', 'ftree', 'csv', 'json'}
        ``tsv``: ``node<TAB>module<TAB>flow``, no header. The others follow Infomap 2.16
        ``src/io/Output.cpp`` (docs/algorithms.md §7.4), with its ``#`` header lines: ``ftree`` is the
        tree plus a ``*Links`` section per module (:func:`module_links`), ``csv`` the tree's rows
        as ``path,flow,name,node_id`` with a column-name line and no ``#`` lines.
    header : list of str, optional
        Extra lines (without ``#``) for the top of the Infomap header (version, command line).
    state_level : bool
        State networks: one row per state node, ``state module flow physical`` (Infomap's
        ``_states.clu``), instead of one per physical node and module (tsv and clu only).
    """
    import json

    names = ids if names is None else names
    if result.phys is not None:
        if state_level:
            _write_states(out, result, ids, fmt, header)
        else:
            _write_physical(out, result, fmt, header)
        return
    order = node_order(result)
    mods = result.modules
    flow = result.node_flow
    if fmt == "json":
        rank = np.zeros(len(ids), dtype=np.int64)
        counts = np.zeros(result.n_modules, dtype=np.int64)
        for i in order.tolist():
            counts[mods[i]] += 1
            rank[i] = counts[mods[i]]
        doc = {
            "version": (header or ["textmine"])[0],
            "codelength": result.codelength,
            "indexCodelength": result.index_codelength,
            "moduleCodelength": result.module_codelength,
            "oneLevelCodelength": result.one_level_codelength,
            "seed": result.seed,
            "numTrials": result.trials,
            "numLevels": result.levels,
            "numTopModules": result.n_modules,
            "relativeCodelengthSavings": result.relative_savings,
            "directed": result.flow_model.startswith("directed"),
            "flowModel": result.flow_model,
            "nodes": [{"path": (list(result.paths[i]) if result.paths is not None
                                else [int(mods[i]) + 1, int(rank[i])]),
                       "modules": [int(mods[i]) + 1], "name": names[i],
                       "flow": float(flow[i]), "id": ids[i]} for i in order.tolist()],
            "modules": [{"path": [k + 1], "flow": float(result.module_flow[k]),
                         "enterFlow": float(result.module_enter[k]), "exitFlow": float(result.module_exit[k]),
                         "numChildren": int(counts[k])} for k in range(result.n_modules)],
        }
        out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return
    lines = []
    if fmt == "csv":
        _write_csv(out, result, ids, names, order)
        return
    if fmt in ("clu", "tree", "ftree"):
        lines += [f"# {h}" for h in (header or [])]
        lines += [f"# completed in {result.elapsed:.6g} s",
                  f"# trials {result.trials} of {result.trials}",
                  f"# seed {result.seed}",
                  f"# partitioned into {result.levels} levels with {result.n_modules} top modules",
                  f"# codelength {_fmt(result.codelength)} bits",
                  f"# relative codelength savings {100 * result.relative_savings:.6g}%",
                  f"# flow model {result.flow_model}"]
        if fmt == "clu":
            lines += ["# module level 1", "# node_id module flow"]
        else:
            lines += ["# path flow name node_id"]
    out.write("".join(x + "\n" for x in lines))
    chunk = []
    if fmt in ("tree", "ftree"):
        prev, r = -1, 0
        for i in order.tolist():
            m = int(mods[i])
            r = r + 1 if m == prev else 1
            prev = m
            path = ":".join(map(str, result.paths[i])) if result.paths is not None else f"{m + 1}:{r}"
            chunk.append(f'{path} {_fmt(flow[i])} "{names[i]}" {ids[i]}\n')
            if len(chunk) >= 8192:
                out.write("".join(chunk))
                chunk = []
        if fmt == "ftree":
            out.write("".join(chunk))
            chunk = []
            _write_ftree_links(out, result)
    else:
        sep = "\t" if fmt == "tsv" else " "
        ffmt = ".9g" if fmt == "tsv" else ".6g"
        for i in order.tolist():
            chunk.append(f"{ids[i]}{sep}{int(mods[i]) + 1}{sep}{flow[i]:{ffmt}}\n")
            if len(chunk) >= 8192:
                out.write("".join(chunk))
                chunk = []
    out.write("".join(chunk))


def tree_paths(result):
    """Each node's Infomap tree path (1-based ranks from the top, ending with its own rank)."""
    if result.paths is not None:
        return [list(p) for p in result.paths]
    out = [None] * result.modules.shape[0]
    prev, r = -1, 0
    for i in node_order(result).tolist():
        m = int(result.modules[i])
        r = r + 1 if m == prev else 1
        prev = m
        out[i] = [m + 1, r]
    return out


def module_links(result):
    """The module-level link sections of Infomap's ``.ftree``.

    Returns
    -------
    list of (path, enter, exit, n_children, rows)
        One entry per module, root first (path ``()``), then depth first; ``rows`` is a list of
        ``(child, child, flow)`` with 1-based child ranks local to the module and the leaf-link
        flow between the two subtrees summed, sorted by the ranks. Undirected flow: one row per
        pair (smaller rank first), both directions combined. Self-links are left out.

    Notes
    -----
    Infomap 2.16 ``src/io/Output.cpp`` (``writeTreeLinks``), ALGORITHMS-2.md §6.5.
    """
    fn = result.flow_network
    paths = tree_paths(result)
    n = len(paths)
    depth = max(len(p) for p in paths)
    P = np.zeros((n, depth), dtype=np.int64)
    for a, p in enumerate(paths):
        P[a, :len(p)] = p
    prefixes = {}
    modid = np.zeros((n, depth), dtype=np.int64)
    for a, p in enumerate(paths):
        for d in range(len(p)):
            modid[a, d] = prefixes.setdefault(tuple(p[:d]), len(prefixes))
    children = {}
    for p in paths:
        for d in range(len(p)):
            children.setdefault(tuple(p[:d]), set()).add(p[d])
    rows_of = {key: [] for key in prefixes}
    src = np.repeat(np.arange(n), np.diff(fn.out_ptr))
    dst = fn.out_idx.astype(np.int64)
    flow = fn.out_flow
    if src.size:
        eq = P[src] == P[dst]
        c = np.argmin(eq, axis=1)  # first level where the two paths part
        ca = P[src, c]
        cb = P[dst, c]
        if fn.symmetric:  # the CSR holds each link both ways with the same flow: keep a < b, doubled
            keep = ca < cb
            src, c, ca, cb, flow = src[keep], c[keep], ca[keep], cb[keep], 2.0 * flow[keep]
        mid = modid[src, c]
        big = int(P.max()) + 1
        key = (mid * big + ca) * big + cb
        uk, inv = np.unique(key, return_inverse=True)
        sums = np.bincount(inv, weights=flow, minlength=uk.size)
        inv_prefix = {v: k for k, v in prefixes.items()}
        for k, x in zip(uk.tolist(), sums.tolist()):
            m, rest = divmod(k, big * big)
            a, b = divmod(rest, big)
            rows_of[inv_prefix[m]].append((a, b, x))
    enter_exit = {(): (0.0, 0.0)}
    for d in range(1, depth):
        lab = np.full(n, -1, dtype=np.int64)
        keys = {}
        for a, p in enumerate(paths):
            if len(p) > d:
                lab[a] = keys.setdefault(tuple(p[:d]), len(keys))
        if not keys:
            continue
        extra = np.flatnonzero(lab < 0)
        lab[extra] = len(keys) + np.arange(extra.size)
        _, enter, exit_ = module_enter_exit(fn, lab)
        for key, i in keys.items():
            enter_exit[key] = (float(enter[i]), float(exit_[i]))
    out = []
    for key in sorted(prefixes):
        en, ex = enter_exit[key]
        out.append((key, en, ex, len(children[key]), sorted(rows_of[key])))
    return out


def _write_ftree_links(out, result):
    fn = result.flow_network
    kind = "undirected" if fn.symmetric else "directed"
    lines = [f"*Links {kind}"]
    if fn.symmetric:
        lines.append("# link flow is both directions combined, one row per module pair")
    lines.append("#*Links path enterFlow exitFlow numEdges numChildren")
    for key, en, ex, nch, rows in module_links(result):
        name = ":".join(map(str, key)) if key else "root"
        lines.append(f"*Links {name} {_fmt(en)} {_fmt(ex)} {len(rows)} {nch}")
        lines.extend(f"{a} {b} {_fmt(x)}" for a, b, x in rows)
        if len(lines) >= 8192:
            out.write("".join(x + "\n" for x in lines))
            lines = []
    out.write("".join(x + "\n" for x in lines))


def _infomap_header(result, header):
    return ([f"# {h}" for h in (header or [])] +
            [f"# completed in {result.elapsed:.6g} s",
             f"# trials {result.trials} of {result.trials}",
             f"# seed {result.seed}",
             f"# partitioned into {result.levels} levels with {result.n_modules} top modules",
             f"# codelength {_fmt(result.codelength)} bits",
             f"# relative codelength savings {100 * result.relative_savings:.6g}%",
             f"# flow model {result.flow_model}"])


def _write_states(out, result, ids, fmt, header):
    """State networks at state level: ``state module flow physical`` by module, then flow."""
    if fmt not in ("tsv", "clu"):
        raise TextmineError(f"--state-level writes tsv or clu, not {fmt}")
    lines = []
    if fmt == "clu":
        lines = _infomap_header(result, header) + ["# higher order", "# state level", "# module level 1",
                                                    "# state_id module flow node_id"
                                                    + (" layer_id" if result.layers is not None else "")]
    sep, ffmt = ("\t", ".9g") if fmt == "tsv" else (" ", ".6g")
    for i in node_order(result).tolist():
        lines.append(f"{ids[i]}{sep}{int(result.modules[i]) + 1}{sep}{result.node_flow[i]:{ffmt}}{sep}"
                     f"{result.phys_ids[result.phys[i]]}" + (f"{sep}{result.layers[i]}" if result.layers is not None
                                                              else ""))
    out.write("".join(x + "\n" for x in lines))


def _write_physical(out, result, fmt, header):
    """State networks: one row per physical node and module (a node may be in several)."""
    if fmt not in ("tsv", "clu", "tree"):
        raise TextmineError(f"--format {fmt} is not available for state networks yet; use tsv, clu or tree")
    rows = result.physical_memberships()
    ids, names = result.phys_ids, result.phys_names
    lines = []
    if fmt != "tsv":
        lines = _infomap_header(result, header) + ["# higher order", "# physical level"]
        lines.append("# module level 1\n# node_id module flow" if fmt == "clu" else "# path flow name node_id")
    prev, r = -1, 0
    for ph, m, f in rows:
        if fmt == "tsv":
            lines.append(f"{ids[ph]}\t{m + 1}\t{f:.9g}")
        elif fmt == "clu":
            lines.append(f"{ids[ph]} {m + 1} {_fmt(f)}")
        else:
            r = r + 1 if m == prev else 1
            prev = m
            lines.append(f'{m + 1}:{r} {_fmt(f)} "{names[ph]}" {ids[ph]}')
    out.write("".join(x + "\n" for x in lines))


def _csv_field(x):
    return '"' + x.replace('"', '""') + '"' if any(c in x for c in ',"\r\n') else x


def _write_csv(out, result, ids, names, order):
    """Infomap's ``.csv``: ``path,flow,name,node_id``, the name always quoted, the id when needed."""
    paths = tree_paths(result)
    flow = result.node_flow
    chunk = ["path,flow,name,node_id\n"]
    for i in order.tolist():
        name = '"' + names[i].replace('"', '""') + '"'
        chunk.append(f"{':'.join(map(str, paths[i]))},{_fmt(flow[i])},{name},{_csv_field(ids[i])}\n")
        if len(chunk) >= 8192:
            out.write("".join(chunk))
            chunk = []
    out.write("".join(chunk))


# ---------------------------------------------------------------------------------------------
# multilevel (hierarchical map equation)
# ---------------------------------------------------------------------------------------------

def _csr_rows(ptr, idx, val, rows):
    """Entries of the CSR rows ``rows``: (row position in ``rows``, column, value)."""
    starts = ptr[rows]
    counts = ptr[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    offsets = np.cumsum(counts) - counts
    pos = np.repeat(starts - offsets, counts) + np.arange(total)
    return np.repeat(np.arange(rows.shape[0]), counts), idx[pos].astype(np.int64), val[pos]


def _subnetwork(fn, leaves):
    """The flow network of ``leaves`` plus one last node that stands for the rest of the network.

    Links to and from the outside go to and from that node, and for recorded teleportation it
    carries the outside's teleportation source and target weight, so the two-level map equation
    of a partition of the sub-network (the outside node alone in its module) equals the
    description length of the module split into those submodules, plus a constant.
    """
    k = leaves.shape[0]
    loc = np.full(fn.n_nodes, k, dtype=np.int64)
    loc[leaves] = np.arange(k)
    r, c, f = _csr_rows(fn.out_ptr, fn.out_idx, fn.out_flow, leaves)
    c = loc[c]
    src, dst, flw = [r], [c], [f]
    if fn.symmetric:
        ext = c == k
        src.append(np.full(int(ext.sum()), k, np.int64))
        dst.append(r[ext])
        flw.append(f[ext])
    else:
        ri, ci, fi = _csr_rows(fn.in_ptr, fn.in_idx, fn.in_flow, leaves)
        ext = loc[ci] == k
        src.append(np.full(int(ext.sum()), k, np.int64))
        dst.append(ri[ext])
        flw.append(fi[ext])
    src = np.concatenate(src).astype(np.int32)
    dst = np.concatenate(dst).astype(np.int32)
    flw = np.concatenate(flw)
    ptr, idx, val = _build_csr(k + 1, src, dst, flw)
    if fn.symmetric:
        iptr, iidx, ival = ptr, idx, val
    else:
        iptr, iidx, ival = _build_csr(k + 1, dst, src, flw)
    node_flow = np.append(fn.node_flow[leaves], 0.0)
    if fn.recorded:
        tsrc = np.append(fn.tele_src[leaves], fn.tele_src.sum() - fn.tele_src[leaves].sum())
        tw = np.append(fn.tele_w[leaves], 1.0 - fn.tele_w[leaves].sum())
    else:
        tsrc = tw = np.zeros(k + 1)
    return FlowNetwork(node_flow, ptr, idx, val, iptr, iidx, ival, tsrc, tw, fn.symmetric, fn.recorded, fn.model)


def _codebook_cost(rates):
    t = float(sum(rates))
    return _plogp_py(t) - sum(_plogp_py(x) for x in rates)


def _split_cost(sub, labels, m):
    """Description length of a module (the sub-network's nodes but the last) split into ``labels``.

    A part with one node is no submodule: the node stays directly in the module's codebook.
    """
    k = labels.shape[0]
    full = np.append(labels, m).astype(np.int64)
    flow, enter, exit_ = module_enter_exit(sub, full)
    _, _, whole_exit = module_enter_exit(sub, np.append(np.zeros(k, np.int64), 1))
    size = np.bincount(labels, minlength=m)
    rates = [float(whole_exit[0])]
    cost = 0.0
    p = sub.node_flow
    for j in range(m):
        members = np.flatnonzero(labels == j)
        if size[j] == 1:
            rates.append(float(p[members[0]]))
        else:
            rates.append(float(enter[j]))
            cost += _codebook_cost([float(exit_[j])] + p[members].tolist())
    return cost + _codebook_cost(rates)


def _split_module(fn, leaves, seed, depth, max_depth=20):
    """Recursively partition a module's leaves; returns a list of sub-paths (one list per leaf)."""
    k = leaves.shape[0]
    if k <= 2 or depth >= max_depth:
        return [[] for _ in range(k)]
    sub = _subnetwork(fn, leaves)
    fixed = np.zeros(k + 1, dtype=np.int32)
    fixed[k] = 1
    mods, _ = _Search(sub, seed, fixed=fixed, nodes_plogp=0.0).run()
    labels, m = _renumber(mods[:k])
    if m <= 1 or m == k:
        return [[] for _ in range(k)]
    _, _, whole_exit = module_enter_exit(sub, np.append(np.zeros(k, np.int64), 1))
    whole = _codebook_cost([float(whole_exit[0])] + sub.node_flow[:k].tolist())
    if _split_cost(sub, labels, m) >= whole - MIN_IMPROVEMENT:
        return [[] for _ in range(k)]
    out = [None] * k
    for j in range(m):
        members = np.flatnonzero(labels == j)
        if members.shape[0] == 1:
            out[members[0]] = []
            continue
        deeper = _split_module(fn, leaves[members], seed, depth + 1, max_depth)
        for i, p in zip(members.tolist(), deeper):
            out[i] = [("s", depth, j)] + p
    return out


def _super_modules(fn, paths, units, seed, max_levels=20):
    """Add levels above the top while they shorten the code; ``units`` labels each node's top item."""
    L = hierarchical_codelength(fn, paths)
    for level in range(max_levels):
        k = int(units.max()) + 1
        if k <= 2:
            break
        lv = _leaf_level(fn)
        agg = _aggregate_level(lv, units.astype(np.int32), k, fn.symmetric)
        _, enter, _ = module_enter_exit(fn, units)
        modnet = FlowNetwork(enter, agg.out_ptr, agg.out_idx, agg.out_flow, agg.in_ptr, agg.in_idx, agg.in_flow,
                             agg.tele_src, agg.tele_w, fn.symmetric, fn.recorded, fn.model)
        sup, _ = _Search(modnet, seed + 1000 * (level + 1)).run()
        sup, m = _renumber(sup)
        if m <= 1 or m >= k:
            break
        size = np.bincount(sup, minlength=m)
        new_paths = [([("S", level, int(sup[u]))] if size[sup[u]] > 1 else []) + p
                     for u, p in zip(units.tolist(), paths)]
        L_new = hierarchical_codelength(fn, new_paths)
        # a super-module may cost more than it saves: dissolve those whose removal shortens the code
        groups = sorted({p[0] for p in new_paths if p[0][0] == "S" and p[0][1] == level})
        if len(groups) <= 64:
            for grp in groups:
                trial = [p[1:] if p[0] == grp else p for p in new_paths]
                L_try = hierarchical_codelength(fn, trial)
                if L_try < L_new - MIN_IMPROVEMENT:
                    new_paths, L_new = trial, L_try
        if L_new >= L - MIN_IMPROVEMENT:
            break
        paths, L = new_paths, L_new
        top = {}
        units = np.array([top.setdefault(p[0], len(top)) for p in paths], dtype=np.int64)
    return paths, L


def hierarchical_codelength(fn, paths):
    """Multilevel map equation of a module tree, in bits.

    Parameters
    ----------
    fn : FlowNetwork
    paths : list of sequence of int
        For each node, its module path from the top (without the node itself), e.g. ``[0, 2]``.

    Returns
    -------
    float

    Notes
    -----
    Rosvall & Bergstrom, PLoS ONE 6:e18209 (2011); docs/algorithms.md §4.1. Every module's codebook holds its
    exit and the enter rates of its submodules (the root: enter rates only) plus the visit rates of
    the nodes directly in it; its cost is T log T − Σ t log t over those rates t, T = Σ t.
    """
    n = fn.n_nodes
    depth = max(len(p) for p in paths)
    terms = {}  # module prefix -> list of rates in its codebook
    for d in range(depth + 1):
        keys = {}
        lab = np.empty(n, dtype=np.int64)
        for a, p in enumerate(paths):
            if len(p) >= d + 1:
                lab[a] = keys.setdefault(tuple(p[:d + 1]), len(keys))
            else:
                lab[a] = -1
        if not keys:
            continue
        extra = np.flatnonzero(lab < 0)
        lab[extra] = len(keys) + np.arange(extra.shape[0])
        _, enter, exit_ = module_enter_exit(fn, lab)
        for key, i in keys.items():
            terms.setdefault(key, []).append(float(exit_[i]))
            terms.setdefault(key[:-1], []).append(float(enter[i]))
    for a, p in enumerate(paths):
        terms.setdefault(tuple(p), []).append(float(fn.node_flow[a]))
    total = 0.0
    for t in terms.values():
        total += _plogp_py(sum(t)) - sum(_plogp_py(x) for x in t)
    return total + 0.0


def multilevel_paths(fn, top, seed=1):
    """Grow a two-level partition into a module tree: submodules below, super-modules above.

    Parameters
    ----------
    fn : FlowNetwork
    top : ndarray of int, shape (n,)
        Two-level modules (values 0..K-1).
    seed : int

    Returns
    -------
    paths : list of list
        For each node its module path from the root (hashable labels, without the node itself).
    L : float
        Multilevel codelength (bits).

    Notes
    -----
    docs/algorithms.md §4.3 step 7 (Infomap ``InfomapBase::findHierarchicalSuperModules`` and the
    recursive sub-module partition). Each module with more than two nodes is partitioned with the
    two-level search on its sub-network, where one extra node stands for the rest of the network,
    so the search minimises that module's true description length; the split is kept if it is
    shorter, and parts are split recursively. Super-modules come from the two-level search on the
    module network with enter rates as node visit rates; a level is kept while the codelength
    shrinks. Modules with a single child are not formed (a lone node or module stays in its parent).
    """
    top = np.asarray(top, dtype=np.int64)
    paths = [[("M", int(x))] for x in top.tolist()]
    for j in range(int(top.max()) + 1):
        leaves = np.flatnonzero(top == j)
        for a, p in zip(leaves.tolist(), _split_module(fn, leaves, seed, 0)):
            paths[a].extend(p)
    return _super_modules(fn, paths, top, seed)
