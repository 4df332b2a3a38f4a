"""Slow, obviously-correct twins of the kernels in textmine/infomap.py and textmine/graph.py.

Everything here uses dicts, loops and the map equation written in its entropy form
(Rosvall & Bergstrom 2008, ALGORITHMS.md §4.1).
"""
import math
from collections import defaultdict


def plogp(x):
    return x * math.log2(x) if x > 0 else 0.0


def naive_flow(n, links, directed=False, teleport_to="links", recorded=False, alpha=0.15, iters=1000):
    """Return (node_flow list, {(a, b): flow} for a != b, tele_src list, tele_w list).

    ``links`` is a dict {(a, b): weight}; for undirected flow the key order does not matter.
    """
    if not directed:
        total = sum(w if a == b else 2 * w for (a, b), w in links.items())
        p = [0.0] * n
        f = defaultdict(float)
        for (a, b), w in links.items():
            p[a] += w / total
            if a != b:
                p[b] += w / total
                f[(a, b)] += w / total
                f[(b, a)] += w / total
        return p, dict(f), [0.0] * n, [0.0] * n
    out = [0.0] * n
    inw = [0.0] * n
    for (a, b), w in links.items():
        out[a] += w
        inw[b] += w
    total = sum(links.values())
    if teleport_to == "nodes":
        tw = [1.0 / n] * n
    else:
        tw = [(inw[i] if recorded else out[i]) / total for i in range(n)]
    p = [1.0 / n] * n
    for _ in range(iters):
        dangling = sum(p[i] for i in range(n) if out[i] == 0)
        new = [(alpha + (1 - alpha) * dangling) * tw[i] for i in range(n)]
        for (a, b), w in links.items():
            new[b] += (1 - alpha) * w / out[a] * p[a]
        s = sum(new)
        p = [x / s for x in new]
    f = {}
    if recorded:
        for (a, b), w in links.items():
            if a != b:
                f[(a, b)] = (1 - alpha) * w / out[a] * p[a]
        tsrc = [alpha * p[i] + (1 - alpha) * (p[i] if out[i] == 0 else 0.0) for i in range(n)]
        return p, f, tsrc, tw
    s = 1 - sum(p[i] for i in range(n) if out[i] == 0)
    q = [0.0] * n
    for (a, b), w in links.items():
        q[b] += w / out[a] * p[a] / s
        if a != b:
            f[(a, b)] = w / out[a] * p[a] / s
    return q, f, [0.0] * n, [0.0] * n


def naive_regularized_flow(n, links, directed=False, strength=1.0, iters=1000):
    """Regularized flow (Infomap ``--regularized``) with loops: (node_flow, {(a, b): flow}, tele_src, tele_w).

    Written from ALGORITHMS-2.md §6.2: u_i = s_i / k_i (isolated: the smallest u), u_t = Σs / Σk,
    λ = C ln N / N, prior weight t_i = λ / u_t · u_i · Σ_j u_j; a step follows the prior with
    probability α_i = t_i / (s_i + t_i) to a node drawn ∝ u_j (directed: u_out and u_in).
    """
    lam = strength * math.log(n) / n
    n_loops = sum(1 for a, b in links if a == b)
    w_loops = sum(w for (a, b), w in links.items() if a == b)
    u_t = (2 * sum(links.values()) - w_loops) / (2 * len(links) - n_loops)

    def mean_weight(s, k):
        have = [s[i] / k[i] for i in range(n) if k[i] > 0]
        return [s[i] / k[i] if k[i] > 0 else min(have) for i in range(n)]

    if not directed:
        s, k = [0.0] * n, [0] * n
        for (a, b), w in links.items():
            s[a] += w
            k[a] += 1
            if a != b:
                s[b] += w
                k[b] += 1
        u = mean_weight(s, k)
        t = [lam / u_t * u[i] * sum(u) for i in range(n)]
        z = sum(s) + sum(t)
        p = [(s[i] + t[i]) / z for i in range(n)]
        alpha = [t[i] / (s[i] + t[i]) for i in range(n)]
        f = defaultdict(float)
        for (a, b), w in links.items():
            if a != b:
                f[(a, b)] += (1 - alpha[a]) * p[a] * w / s[a]
                f[(b, a)] += (1 - alpha[b]) * p[b] * w / s[b]
        return p, dict(f), [p[i] * alpha[i] for i in range(n)], [x / sum(u) for x in u]
    s_out, k_out, s_in, k_in = [0.0] * n, [0] * n, [0.0] * n, [0] * n
    for (a, b), w in links.items():
        s_out[a] += w
        k_out[a] += 1
        s_in[b] += w
        k_in[b] += 1
    u_out, u_in = mean_weight(s_out, k_out), mean_weight(s_in, k_in)
    tw = [x / sum(u_in) for x in u_in]
    t = [lam / u_t * u_out[i] * sum(u_in) for i in range(n)]
    alpha = [t[i] / (s_out[i] + t[i]) for i in range(n)]
    p = [1.0 / n] * n
    for _ in range(iters):
        tele = sum(alpha[i] * p[i] for i in range(n))
        new = [tele * tw[i] for i in range(n)]
        for (a, b), w in links.items():
            new[b] += (1 - alpha[a]) * w / s_out[a] * p[a]
        total = sum(new)
        p = [x / total for x in new]
    f = {(a, b): (1 - alpha[a]) * w / s_out[a] * p[a] for (a, b), w in links.items() if a != b}
    return p, f, [p[i] * alpha[i] for i in range(n)], tw


def naive_codelength(p, f, modules, tele_src=None, tele_w=None, preferred=0):
    """Two-level map equation in its entropy form: q↶ H(Q) + Σ p↻ⁱ H(Pⁱ).

    With ``tele_src``/``tele_w`` (recorded teleportation), teleportation between nodes counts as
    link flow ``tele_src[a] * tele_w[b]``. With ``preferred`` = M* > 0, plus |M − M*| bits.
    """
    n = len(p)
    mods = sorted(set(modules))
    exit_ = {m: 0.0 for m in mods}
    enter = {m: 0.0 for m in mods}
    for (a, b), x in f.items():
        if modules[a] != modules[b]:
            exit_[modules[a]] += x
            enter[modules[b]] += x
    if tele_src is not None and any(tele_src):
        for a in range(n):
            for b in range(n):
                if modules[a] != modules[b]:
                    x = tele_src[a] * tele_w[b]
                    exit_[modules[a]] += x
                    enter[modules[b]] += x
    q = sum(enter.values())
    L = 0.0
    if q > 0:
        L += q * -sum(e / q * math.log2(e / q) for e in enter.values() if e > 0)
    for m in mods:
        members = [p[a] for a in range(n) if modules[a] == m]
        pm = exit_[m] + sum(members)
        if pm <= 0:
            continue
        h = -plogp(exit_[m] / pm) - sum(plogp(x / pm) for x in members)
        L += pm * h
    if preferred:
        L += abs(len(mods) - preferred)
    return L


def naive_aggregate(n, rows, module):
    """{(A, B): summed value} over links between different parts; rows = {(a, b): value}."""
    out = defaultdict(float)
    for (a, b), v in rows.items():
        if module[a] != module[b]:
            out[(module[a], module[b])] += v
    return dict(out)


def naive_best_move_gain(p, f, modules, a, tele_src=None, tele_w=None, preferred=0):
    """The largest codelength decrease from moving node ``a`` alone to a neighbour's module or a new one."""
    base = naive_codelength(p, f, modules, tele_src, tele_w, preferred)
    neigh = {modules[b] for (x, b) in f if x == a} | {modules[x] for (x, b) in f if b == a}
    neigh.discard(modules[a])
    neigh.add(max(modules) + 1)
    best = 0.0
    for m in neigh:
        trial = list(modules)
        trial[a] = m
        best = max(best, base - naive_codelength(p, f, trial, tele_src, tele_w, preferred))
    return best


def set_partitions(n):
    """Every partition of range(n) as a list of module labels (restricted growth strings)."""
    def rec(i, labels, k):
        if i == n:
            yield list(labels)
            return
        for m in range(k + 1):
            labels.append(m)
            yield from rec(i + 1, labels, max(k, m + 1))
            labels.pop()
    yield from rec(0, [], 0)


def naive_optimum(p, f, tele_src=None, tele_w=None):
    """Exhaustive minimum of the two-level codelength over all partitions (tiny n only)."""
    best = None
    for labels in set_partitions(len(p)):
        L = naive_codelength(p, f, labels, tele_src, tele_w)
        if best is None or L < best[0]:
            best = (L, labels)
    return best


def naive_state_codelength(p, f, modules, phys):
    """State-network map equation in entropy form: the module codebooks name physical nodes, each
    with the summed visit rate of its state nodes in that module (ALGORITHMS-2.md §6.4)."""
    mods = sorted(set(modules))
    exit_ = {m: 0.0 for m in mods}
    enter = {m: 0.0 for m in mods}
    for (a, b), x in f.items():
        if modules[a] != modules[b]:
            exit_[modules[a]] += x
            enter[modules[b]] += x
    q = sum(enter.values())
    L = 0.0
    if q > 0:
        L += q * -sum(e / q * math.log2(e / q) for e in enter.values() if e > 0)
    for m in mods:
        rates = defaultdict(float)
        for a in range(len(p)):
            if modules[a] == m:
                rates[phys[a]] += p[a]
        pm = exit_[m] + sum(rates.values())
        if pm > 0:
            L += pm * (-plogp(exit_[m] / pm) - sum(plogp(x / pm) for x in rates.values()))
    return L



def naive_best_state_move_gain(p, f, modules, a, phys):
    """The largest decrease of :func:`naive_state_codelength` from moving state ``a`` alone to a
    neighbour's module, a module holding another state of its physical node, or a new module."""
    base = naive_state_codelength(p, f, modules, phys)
    cands = {modules[b] for (x, b) in f if x == a} | {modules[x] for (x, b) in f if b == a}
    cands |= {modules[b] for b in range(len(p)) if phys[b] == phys[a]}
    cands.discard(modules[a])
    cands.add(max(modules) + 1)
    best = 0.0
    for m in cands:
        trial = list(modules)
        trial[a] = m
        best = max(best, base - naive_state_codelength(p, f, trial, phys))
    return best

def naive_module_links(paths, f, symmetric):
    """{(module path, child, child): flow} of an ``.ftree``: each leaf link a→b lands in the deepest
    module holding both ends, between the two children whose subtrees hold them."""
    out = defaultdict(float)
    for (a, b), x in f.items():
        pa, pb = paths[a], paths[b]
        c = 0
        while pa[c] == pb[c]:
            c += 1
        key = (tuple(pa[:c]), pa[c], pb[c])
        if symmetric:
            key = (key[0], min(key[1], key[2]), max(key[1], key[2]))
        out[key] += x
    return dict(out)


def naive_pairs(edges, directed):
    """{(a, b): summed weight} with string ids; undirected pairs keyed by sorted ids."""
    out = defaultdict(float)
    for e in edges:
        a, b = str(e[0]), str(e[1])
        w = float(e[2]) if len(e) > 2 else 1.0
        if w == 0:
            continue
        if not directed and b < a:
            a, b = b, a
        out[(a, b)] += w
    return dict(out)


def naive_link_list(text):
    """Links of a link-list text by the documented rules, one line at a time.

    Fields are split on spaces and TABs; a blank line is skipped; a line whose first field starts
    with ``#`` or ``%`` and is alone or followed by a space is a comment; any other line is
    ``source target [weight]``. Returns (list of (a, b, weight), number of comment lines); raises
    ValueError(line number) for a line with another number of fields.
    """
    links, comments = [], 0
    for no, line in enumerate(text.split("\n"), 1):
        stripped = line.strip(" \t\r")
        fields = stripped.replace("\t", " ").replace("\r", " ").split(" ")
        fields = [f for f in fields if f]
        if not fields:
            continue
        if fields[0][0] in "#%" and (len(fields) == 1 or stripped[1] == " "):
            comments += 1
            continue
        if len(fields) not in (2, 3):
            raise ValueError(no)
        links.append((fields[0], fields[1], float(fields[2]) if len(fields) == 3 else 1.0))
    return links, comments


__all__ = [name for name in dir() if name.startswith("naive") or name in ("plogp", "set_partitions")]


def naive_hierarchical_codelength(p, f, paths):
    """Multilevel map equation (Rosvall & Bergstrom 2011) in entropy form, for a tree given as paths.

    ``paths[a]`` is node a's module path from the root (tuple of labels, without the node).
    """
    n = len(p)
    prefixes = {tuple(pa[:d]) for pa in paths for d in range(len(pa) + 1)}

    def inside(prefix, a):
        return tuple(paths[a][:len(prefix)]) == prefix and len(paths[a]) >= len(prefix)

    def enter_exit(prefix):
        members = {a for a in range(n) if inside(prefix, a)}
        ex = sum(x for (a, b), x in f.items() if a in members and b not in members)
        en = sum(x for (a, b), x in f.items() if b in members and a not in members)
        return en, ex

    L = 0.0
    for pre in prefixes:
        rates = []
        if pre:
            rates.append(enter_exit(pre)[1])
        for child in {q for q in prefixes if len(q) == len(pre) + 1 and q[:-1] == pre}:
            rates.append(enter_exit(child)[0])
        rates += [p[a] for a in range(n) if tuple(paths[a]) == pre]
        total = sum(rates)
        if total > 0:
            L += total * -sum(r / total * math.log2(r / total) for r in rates if r > 0)
    return L
