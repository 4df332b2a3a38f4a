import json
import random
import re

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import JIT_DISABLED
from naive_infomap import (naive_aggregate, naive_best_move_gain, naive_best_state_move_gain, naive_codelength,
                          naive_flow, naive_hierarchical_codelength, naive_module_links, naive_optimum,
                          naive_regularized_flow, naive_state_codelength)

from textmine.cli import cli
from textmine.errors import TextmineError
from textmine.graph import graph_from_edges, read_graph
from textmine.infomap import (_NO_PHYS, SKIP_ALL_SWEEPS, _aggregate, _aggregate_level, _core_loop, _leaf_level,
                              _renumber,
                              _seed_state, codelength, compute_flow, hierarchical_codelength, infomap, module_links,
                              multilevel_paths, one_level_codelength, physical_one_level_codelength,
                              state_codelength, tree_paths)
from textmine.neighbors import knn_graph

VARIANTS = [
    dict(directed=False),
    dict(directed=True),
    dict(directed=True, recorded=True),
    dict(directed=True, teleport_to="nodes"),
    dict(directed=True, recorded=True, teleport_to="nodes"),
]
ARCS = [(1, 2), (2, 3), (3, 1), (4, 5), (5, 6), (6, 4), (3, 4)]


def random_graph(seed, n=14, m=30, directed=False, self_loops=True):
    rng = random.Random(seed)
    links = {}
    while len(links) < m:
        a, b = rng.randrange(n), rng.randrange(n)
        if a == b and not self_loops:
            continue
        key = (a, b) if directed else (min(a, b), max(a, b))
        links[key] = float(rng.randint(1, 4))
    return links


def flow_dicts(fn):
    n = fn.n_nodes
    f = {}
    for a in range(n):
        for k in range(fn.out_ptr[a], fn.out_ptr[a + 1]):
            f[(a, int(fn.out_idx[k]))] = float(fn.out_flow[k])
    return f


def graph_of(links, directed, n):
    return graph_from_edges([(a, b, w) for (a, b), w in links.items()], directed=directed, nodes=range(n))


# ------------------------------------------------------------------------------------------ flow


@pytest.mark.parametrize("kw", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flow_matches_naive(kw, seed):
    n = 14
    links = random_graph(seed, n=n, directed=kw["directed"])
    g = graph_of(links, kw["directed"], n)
    fn = compute_flow(g, **kw)
    # graph ids are canonical ("0".."13" numerically sorted) so node i is i
    assert g.ids == [str(i) for i in range(n)]
    p, f, tsrc, tw = naive_flow(n, links, directed=kw["directed"], teleport_to=kw.get("teleport_to", "links"),
                                recorded=kw.get("recorded", False))
    assert np.allclose(fn.node_flow, p, atol=1e-12)
    assert fn.node_flow.sum() == pytest.approx(1.0)
    got = flow_dicts(fn)
    assert got.keys() == f.keys()
    for k in f:
        assert got[k] == pytest.approx(f[k], abs=1e-12)
    if kw.get("recorded"):
        assert np.allclose(fn.tele_src, tsrc) and np.allclose(fn.tele_w, tw)


@pytest.mark.parametrize("flags, kw", [
    ("-d", dict(directed=True)),
    ("-d -e", dict(directed=True, recorded=True)),
    ("-d --to-nodes", dict(directed=True, teleport_to="nodes")),
    ("-d -e --to-nodes", dict(directed=True, recorded=True, teleport_to="nodes")),
])
def test_directed_flow_equals_infomap_package(shared, flags, kw):
    im_mod = pytest.importorskip("infomap")
    g = read_graph([str(shared("graphs", "infomap", "modular_wd.net"))], directed=True)
    fn = compute_flow(g, **kw)
    im = im_mod.Infomap(f"{flags} --two-level --silent --num-trials 1")
    for a, b, w in zip(g.src.tolist(), g.dst.tolist(), g.weight.tolist()):
        im.add_link(int(g.ids[a]), int(g.ids[b]), w)
    im.run()
    pos = {int(x): i for i, x in enumerate(g.ids)}
    for node in im.get_nodes():
        assert fn.node_flow[pos[node.node_id]] == pytest.approx(node.flow, abs=1e-9)
    mine = flow_dicts(fn)
    for a, b, x in im.get_links(data="flow"):
        if a != b:
            assert mine[(pos[a], pos[b])] == pytest.approx(x, abs=1e-9)


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("strength", [1.0, 0.3])
def test_regularized_flow_matches_naive(directed, seed, strength):
    n = 12
    links = random_graph(seed + 30, n=n, m=28, directed=directed)
    fn = compute_flow(graph_of(links, directed, n + 2), directed=directed, regularized=True,
                      regularization_strength=strength)  # two isolated nodes
    p, f, tsrc, tw = naive_regularized_flow(n + 2, links, directed, strength)
    assert fn.recorded and fn.node_flow.sum() == pytest.approx(1.0)
    assert fn.node_flow.tolist() == pytest.approx(p, abs=1e-12)
    assert fn.tele_src.tolist() == pytest.approx(tsrc, abs=1e-12)
    assert fn.tele_w.tolist() == pytest.approx(tw, abs=1e-12)
    mine = flow_dicts(fn)
    assert mine.keys() == f.keys()
    for k in f:
        assert mine[k] == pytest.approx(f[k], abs=1e-12)
    mods = [random.Random(seed).randrange(3) for _ in range(n + 2)]
    assert codelength(fn, mods)[0] == pytest.approx(naive_codelength(p, f, mods, tsrc, tw), abs=1e-9)


@pytest.mark.parametrize("kw", VARIANTS[:3])
@pytest.mark.parametrize("t", [0.5, 2.0])
def test_markov_time_scales_link_flow_only(kw, t):
    n = 14
    links = random_graph(5, n=n, directed=kw["directed"])
    g = graph_of(links, kw["directed"], n)
    base = compute_flow(g, **kw)
    fn = compute_flow(g, markov_time=t, **kw)
    assert np.array_equal(fn.node_flow, base.node_flow) and np.array_equal(fn.tele_src, base.tele_src)
    assert np.allclose(fn.out_flow, t * base.out_flow) and np.allclose(fn.in_flow, t * base.in_flow)
    p, f, tsrc, tw = naive_flow(n, links, **{k: v for k, v in kw.items()})
    mods = [i % 3 for i in range(n)]
    assert codelength(fn, mods)[0] == pytest.approx(
        naive_codelength(p, {k: t * v for k, v in f.items()}, mods, tsrc if kw.get("recorded") else None, tw),
        abs=1e-9)
    assert one_level_codelength(fn) == one_level_codelength(base)


@pytest.mark.parametrize("bad", [dict(markov_time=0), dict(markov_time=-1), dict(markov_time=float("nan")),
                                 dict(regularized=True, regularization_strength=0)])
def test_flow_options_rejected(bad):
    with pytest.raises(TextmineError, match="must be a finite number > 0"):
        compute_flow(graph_from_edges(ARCS), **bad)


# ------------------------------------------------------------------------------------------ codelength


@pytest.mark.parametrize("kw", VARIANTS)
def test_codelength_matches_naive_entropy_form(kw):
    rng = np.random.default_rng(5)
    for seed in range(3):
        n = 14
        links = random_graph(seed, n=n, directed=kw["directed"])
        fn = compute_flow(graph_of(links, kw["directed"], n), **kw)
        f = flow_dicts(fn)
        for k in (1, 2, 3, 5, n):
            modules = rng.integers(0, k, n)
            L, index, module = codelength(fn, modules)
            assert L == pytest.approx(naive_codelength(fn.node_flow.tolist(), f, modules.tolist(),
                                                       fn.tele_src.tolist(), fn.tele_w.tolist()), abs=1e-10)
            assert L == pytest.approx(index + module)
        one = codelength(fn, np.zeros(n, int))[0]
        assert one == pytest.approx(one_level_codelength(fn))


# ------------------------------------------------------------------------------------------ kernels


def run_core(fn, module=None, constraint=None, limit=1000, seed=1, preferred=0):
    n = fn.n_nodes
    module = np.arange(n, dtype=np.int32) if module is None else module.astype(np.int32)
    constraint = np.zeros(n, dtype=np.int32) if constraint is None else constraint.astype(np.int32)
    moved, L = _core_loop(fn.out_ptr, fn.out_idx, fn.out_flow, fn.in_ptr, fn.in_idx, fn.in_flow, fn.symmetric,
                          fn.node_flow, fn.tele_src, fn.tele_w, fn.recorded, -one_level_codelength(fn),
                          module, constraint, False, limit, 0.0, _seed_state(seed), preferred, *_NO_PHYS, 0)
    return module, moved, L


@pytest.mark.parametrize("kw", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1])
def test_core_loop_bookkeeping_and_local_optimum(kw, seed):
    n = 16
    links = random_graph(seed + 10, n=n, m=34, directed=kw["directed"])
    fn = compute_flow(graph_of(links, kw["directed"], n), **kw)
    module, moved, L = run_core(fn, seed=seed)
    assert moved > 0
    f = flow_dicts(fn)
    p = fn.node_flow.tolist()
    naive = naive_codelength(p, f, module.tolist(), fn.tele_src.tolist(), fn.tele_w.tolist())
    assert L == pytest.approx(naive, abs=1e-10)
    assert L <= one_level_codelength(fn) + 1e-12 or module.max() > 0
    for a in range(n):  # no single move to a neighbouring module or a new one helps
        assert naive_best_move_gain(p, f, module.tolist(), a, fn.tele_src.tolist(), fn.tele_w.tolist()) < 1e-9


@pytest.mark.parametrize("kw", VARIANTS[:3] + [dict(directed=False, regularized=True)])
@pytest.mark.parametrize("preferred", [2, 5, 12])
def test_core_loop_preferred_modules_matches_naive(kw, preferred):
    """The biased objective L + |M − M*|: bookkeeping and a local optimum against the naive form."""
    n = 16
    links = random_graph(preferred + 40, n=n, m=34, directed=kw["directed"])
    fn = compute_flow(graph_of(links, kw["directed"], n), **kw)
    module, _, L = run_core(fn, seed=preferred, preferred=preferred)
    f = flow_dicts(fn)
    p = fn.node_flow.tolist()
    tsrc, tw = fn.tele_src.tolist(), fn.tele_w.tolist()
    assert L == pytest.approx(naive_codelength(p, f, module.tolist(), tsrc, tw, preferred), abs=1e-10)
    for a in range(n):
        assert naive_best_move_gain(p, f, module.tolist(), a, tsrc, tw, preferred) < 1e-9


@pytest.mark.parametrize("preferred", [0, 5])
def test_core_loop_skip_all_sweeps_moves_only_singletons(preferred):
    """Infomap's first pass (SKIP_ALL_SWEEPS): a node that others joined never leaves, so every move
    empties a singleton module and the final count of modules is n minus the moves."""
    n = 30
    links = random_graph(12, n=n, m=70)
    fn = compute_flow(graph_of(links, False, n))
    module = np.arange(n, dtype=np.int32)
    moved, L = _core_loop(fn.out_ptr, fn.out_idx, fn.out_flow, fn.in_ptr, fn.in_idx, fn.in_flow, fn.symmetric,
                          fn.node_flow, fn.tele_src, fn.tele_w, fn.recorded, -one_level_codelength(fn), module,
                          np.zeros(n, dtype=np.int32), SKIP_ALL_SWEEPS, 10, 0.0, _seed_state(3), preferred,
                          *_NO_PHYS, 0)
    assert 0 < moved == n - len(np.unique(module))
    assert L == pytest.approx(naive_codelength(fn.node_flow.tolist(), flow_dicts(fn), module.tolist(),
                                               preferred=preferred), abs=1e-10)


def test_core_loop_respects_constraint():
    n = 16
    links = random_graph(3, n=n, m=40)
    fn = compute_flow(graph_of(links, False, n))
    constraint = np.array([i % 3 for i in range(n)])
    module, _, L = run_core(fn, constraint=constraint)
    for m in set(module.tolist()):
        assert len({int(constraint[a]) for a in range(n) if module[a] == m}) == 1
    assert L == pytest.approx(codelength(fn, module)[0], abs=1e-10)


def test_core_loop_from_given_partition_never_worse():
    n = 20
    links = random_graph(4, n=n, m=45)
    fn = compute_flow(graph_of(links, False, n))
    start = np.random.default_rng(0).integers(0, 4, n)
    before = codelength(fn, start)[0]
    module, _, L = run_core(fn, module=start.copy())
    assert L <= before + 1e-12
    assert L == pytest.approx(codelength(fn, module)[0], abs=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aggregate_matches_naive(seed):
    n = 30
    rng = np.random.default_rng(seed)
    links = random_graph(seed, n=n, m=80, directed=True, self_loops=False)
    fn = compute_flow(graph_of(links, True, n), directed=True)
    module = rng.integers(0, 6, n)
    _, module = np.unique(module, return_inverse=True)
    m = int(module.max()) + 1
    ptr, idx, val = _aggregate(fn.out_ptr, fn.out_idx, fn.out_flow, module.astype(np.int32), m)
    got = {}
    for r in range(m):
        for k in range(ptr[r], ptr[r + 1]):
            assert (r, int(idx[k])) not in got
            got[(r, int(idx[k]))] = float(val[k])
    want = naive_aggregate(n, flow_dicts(fn), module.tolist())
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-15)


# ------------------------------------------------------------------------------------------ search


@pytest.mark.parametrize("kw", VARIANTS)
def test_search_finds_exhaustive_optimum_on_tiny_graphs(kw):
    # a heuristic: it may miss, but rarely (Infomap 2.16 -N 10 hits 96 of these 100 graphs x variants, we 99)
    hits = 0
    for seed in range(10):
        n = 7
        links = random_graph(seed + 20, n=n, m=10, directed=kw["directed"], self_loops=False)
        fn = compute_flow(graph_of(links, kw["directed"], n), **kw)
        best, _ = naive_optimum(fn.node_flow.tolist(), flow_dicts(fn), fn.tele_src.tolist(), fn.tele_w.tolist())
        r = infomap(fn, trials=10, seed=123)
        assert r.codelength >= best - 1e-9
        hits += abs(r.codelength - best) < 1e-9
    assert hits >= 9


def karate(weighted):
    nx = pytest.importorskip("networkx")
    G = nx.karate_club_graph()
    return graph_from_edges([(a, b, d["weight"] if weighted else 1) for a, b, d in G.edges(data=True)])


# ALGORITHMS.md §4.5 (Infomap 2.16.0, -N 10 --seed 123)
@pytest.mark.parametrize("name, kw, expected, n_modules", [
    ("karate", {}, (4.311793, 6), 3),
    ("karate-w", {}, (4.087423, 6), 3),
    ("twotriangles.net", {}, (2.32073, 5), 2),
    ("ninetriangles.net", {}, (3.51775, 5), 9),
    ("arcs", dict(directed=True), (1.77308, 5), 2),
    ("arcs", dict(directed=True, recorded=True), (2.14547, 5), 2),
    ("arcs", dict(directed=True, teleport_to="nodes"), (1.74612, 5), 2),
    ("arcs", dict(directed=True, recorded=True, teleport_to="nodes"), (2.20309, 5), 2),
    ("arcs", {}, (2.32073, 5), 2),
])
def test_parity_anchors(shared, name, kw, expected, n_modules):
    if name == "karate":
        g = karate(False)
    elif name == "karate-w":
        g = karate(True)
    elif name == "arcs":
        g = graph_from_edges(ARCS, directed=kw.get("directed", False))
    else:
        g = read_graph([str(shared("graphs", "infomap", name))])
    r = infomap(g, trials=10, seed=123, **kw)
    assert round(r.codelength, expected[1]) == expected[0]
    assert r.n_modules == n_modules


OPTION_CASES = [
    ("--markov-time 0.5", dict(markov_time=0.5)),
    ("--markov-time 2", dict(markov_time=2.0)),
    ("--regularized", dict(regularized=True)),
    ("--regularized --regularization-strength 0.3", dict(regularized=True, regularization_strength=0.3)),
    ("--regularized --markov-time 0.7", dict(regularized=True, markov_time=0.7)),
]


@pytest.mark.parametrize("flags, opts", OPTION_CASES)
@pytest.mark.parametrize("name, directed", [("karate.net", False), ("karate.net", True),
                                            ("infomap/VII_network_incomplete_30.dat", False),
                                            ("infomap/modular_wd.net", True)])
def test_flow_options_codelength_equals_infomap_package(shared, flags, opts, name, directed):
    """Infomap's partition scores the same under our flow, and our search is no worse (+0.1 %)."""
    im_mod = pytest.importorskip("infomap")
    path = str(shared("graphs", *name.split("/")))
    g = read_graph([path], directed=directed)
    im = im_mod.Infomap(("-d " if directed else "") + f"--two-level --silent --num-trials 5 --seed 123 {flags}")
    im.read_file(path)
    res = im.run()
    theirs = dict(im.get_modules())
    fn = compute_flow(g, directed=directed, **opts)
    part = np.array([theirs[int(x)] for x in g.ids])
    assert codelength(fn, part)[0] == pytest.approx(res.codelength, abs=1e-9)
    assert one_level_codelength(fn) == pytest.approx(res.one_level_codelength, abs=1e-9)
    r = infomap(g, directed=directed, trials=5, seed=123, **opts)
    assert r.codelength <= res.codelength * 1.001
    assert r.codelength == pytest.approx(codelength(fn, r.modules)[0])


@pytest.mark.parametrize("k", [2, 4, 5, 20])
@pytest.mark.parametrize("name, directed", [("karate.net", False), ("karate.net", True),
                                            ("infomap/VII_network_incomplete_30.dat", False)])
def test_preferred_modules_equals_infomap_package(shared, k, name, directed):
    """The codelength includes |M − M*| as Infomap prints it; we reach Infomap's number of modules."""
    im_mod = pytest.importorskip("infomap")
    path = str(shared("graphs", *name.split("/")))
    g = read_graph([path], directed=directed)
    im = im_mod.Infomap(("-d " if directed else "") + f"--two-level --silent -N 5 --seed 123 "
                        f"--preferred-number-of-modules {k}")
    im.read_file(path)
    res = im.run()
    theirs = dict(im.get_modules())
    part = np.array([theirs[int(x)] for x in g.ids])
    fn = compute_flow(g, directed=directed)
    assert codelength(fn, part)[0] + abs(len(set(theirs.values())) - k) == pytest.approx(res.codelength, abs=1e-9)
    r = infomap(g, directed=directed, trials=5, seed=123, preferred_modules=k)
    assert r.n_modules == im.num_top_modules
    assert r.codelength == pytest.approx(codelength(fn, r.modules)[0] + abs(r.n_modules - k))
    assert r.codelength <= res.codelength * 1.01  # within 1 %: the biased search is Infomap's, not identical


@pytest.mark.parametrize("k", [1, 2, 3])
def test_preferred_modules_merges_disconnected_modules(k):
    """Four disjoint triangles: M* < 4 needs merges between modules with no link (Infomap does them)."""
    im_mod = pytest.importorskip("infomap")
    tri = [(a + 3 * t, b + 3 * t) for t in range(4) for a, b in [(0, 1), (1, 2), (2, 0)]]
    r = infomap(graph_from_edges(tri), trials=3, preferred_modules=k)
    im = im_mod.Infomap(f"--two-level --silent -N 3 --seed 123 --preferred-number-of-modules {k}")
    for a, b in tri:
        im.add_link(a, b)
    res = im.run()
    assert r.codelength <= res.codelength + 1e-9
    fn = compute_flow(graph_from_edges(tri))
    assert r.codelength == pytest.approx(codelength(fn, r.modules)[0] + abs(r.n_modules - k))


def test_preferred_modules_rejected_with_multilevel():
    with pytest.raises(TextmineError, match="two-level partition only"):
        infomap(graph_from_edges(ARCS), preferred_modules=2, multilevel=True)


# ALGORITHMS-2.md §6.1 (Infomap 2.16.0, -N 10 --seed 123)
@pytest.mark.parametrize("t, expected, n_modules", [(0.75, 4.035919, 6), (1.5, 4.654933, 2), (2.0, 4.704423, 1),
                                                    (0.5, 3.448642, 17)])
def test_markov_time_karate_anchors(t, expected, n_modules):
    r = infomap(karate(False), trials=10, markov_time=t)
    assert r.codelength <= expected + 5e-7  # Infomap's figure or shorter
    if r.codelength > expected - 5e-7:
        assert r.n_modules == n_modules


def test_karate_file_one_level(shared):
    r = infomap(read_graph([str(shared("graphs", "karate.net"))]), trials=10)
    assert round(r.codelength, 4) == 4.0874 and r.n_modules == 3
    assert round(r.one_level_codelength, 6) == 4.634008


@pytest.mark.parametrize("name, directed", [("jazz.net", False), ("modular_w.net", False),
                                            ("modular_wd.net", True), ("VII_network_incomplete_30.dat", False),
                                            ("VII_network_complete.dat", False)])
def test_codelength_not_worse_than_infomap_package(shared, name, directed):
    im_mod = pytest.importorskip("infomap")
    path = str(shared("graphs", "infomap", name))
    g = read_graph([path], directed=directed)
    r = infomap(g, directed=directed, trials=5, seed=123)
    im = im_mod.Infomap(("-d " if directed else "") + "--two-level --silent --num-trials 5 --seed 123")
    for a, b, w in zip(g.src.tolist(), g.dst.tolist(), g.weight.tolist()):
        im.add_link(a, b, w)
    im.run()
    assert r.codelength <= im.codelength * 1.001
    assert r.codelength == pytest.approx(codelength(compute_flow(g, directed=directed), r.modules)[0])


def test_deterministic_parallel_and_relabelled(tmp_path):
    links = random_graph(9, n=60, m=200)
    lines = [f"n{a}\tn{b}\t{w}\n" for (a, b), w in links.items()]
    p1 = tmp_path / "a.tsv"
    p1.write_text("".join(lines))
    random.Random(1).shuffle(lines)
    p2 = tmp_path / "b.tsv"
    p2.write_text("".join(lines))
    g1, g2 = read_graph([str(p1)]), read_graph([str(p2)])
    r1 = infomap(g1, trials=4, seed=7, n_jobs=1)
    r2 = infomap(g1, trials=4, seed=7, n_jobs=2)
    r3 = infomap(g2, trials=4, seed=7, n_jobs=1)
    assert np.array_equal(r1.modules, r2.modules) and r1.codelength == r2.codelength
    assert r1.trial_codelengths == r2.trial_codelengths
    assert np.array_equal(r1.modules, r3.modules) and r1.codelength == r3.codelength
    assert r1.codelength <= min(infomap(g1, trials=1, seed=7 + k).codelength for k in range(4)) + 1e-12


def test_random_graph_gives_one_module_unless_preferred():
    rng = random.Random(2)
    edges = {(min(a, b), max(a, b)) for a, b in ((rng.randrange(40), rng.randrange(40)) for _ in range(400))
             if a != b}
    g = graph_from_edges(sorted(edges))
    r = infomap(g, trials=3)
    assert r.n_modules == 1 and r.codelength == pytest.approx(r.one_level_codelength)
    assert r.relative_savings == pytest.approx(0.0)
    r2 = infomap(g, trials=3, prefer_modular=True)
    assert r2.codelength >= r.codelength - 1e-12
    for s in range(10):  # never longer than the one-level code
        rng = random.Random(s)
        g = graph_from_edges([(rng.randrange(30), rng.randrange(30)) for _ in range(50)])
        r = infomap(g, trials=2, seed=s + 1)
        assert r.codelength <= r.one_level_codelength + 1e-12


def test_disconnected_graph_separates_components():
    g = graph_from_edges([(1, 2), (2, 3), (3, 1), (4, 5), (5, 6), (6, 4)])
    r = infomap(g)
    assert r.n_modules == 2
    assert len(set(r.modules[:3].tolist())) == 1 and r.modules[0] != r.modules[3]


@pytest.mark.skipif(JIT_DISABLED, reason="slow without the JIT")
def test_lfr_planted_partition(shared):
    nx = pytest.importorskip("networkx")
    from sklearn.metrics import normalized_mutual_info_score
    G = nx.read_gml(str(shared("graphs", "lfr", "mu-0.3.gml")), label="id")
    g = graph_from_edges(list(G.edges()), nodes=G.nodes())
    r = infomap(g, trials=2)
    truth = {v: min(d["community"]) for v, d in G.nodes(data=True)}
    assert normalized_mutual_info_score([truth[int(x)] for x in g.ids], r.modules) > 0.99


# ------------------------------------------------------------------------------------------ multilevel


@pytest.mark.parametrize("kw", [dict(directed=False), dict(directed=True)])
def test_hierarchical_codelength_matches_naive(kw):
    rng = random.Random(4)
    n = 14
    links = random_graph(7, n=n, m=32, directed=kw["directed"])
    fn = compute_flow(graph_of(links, kw["directed"], n), **kw)
    f = flow_dicts(fn)
    for _ in range(5):
        paths = [tuple(rng.randrange(2) for _ in range(rng.randrange(0, 3))) for _ in range(n)]
        assert hierarchical_codelength(fn, [list(x) for x in paths]) == pytest.approx(
            naive_hierarchical_codelength(fn.node_flow.tolist(), f, paths), abs=1e-10)
    two = np.random.default_rng(1).integers(0, 3, n)
    assert hierarchical_codelength(fn, [[int(x)] for x in two]) == pytest.approx(codelength(fn, two)[0])


# ALGORITHMS.md §4.5 and data/README (Infomap 2.16.0, multilevel)
@pytest.mark.parametrize("name, directed, expected, levels, top", [
    ("ninetriangles.net", False, 3.37188, 3, 5),
    ("modular_wd.net", True, 2.85227, 3, 2),
    ("twotriangles.net", False, 2.32073, 2, 2),
])
def test_multilevel_anchors(shared, name, directed, expected, levels, top):
    g = read_graph([str(shared("graphs", "infomap", name))], directed=directed)
    r = infomap(g, trials=10, multilevel=True)
    assert round(r.codelength, 5) == expected
    assert r.levels == levels and r.n_modules == top
    fn = compute_flow(g)
    assert r.codelength == pytest.approx(hierarchical_codelength(fn, [p[:-1] for p in r.paths]))


def test_multilevel_karate_stays_two_level():
    r = infomap(karate(False), trials=10, multilevel=True)
    assert round(r.codelength, 6) == 4.311793 and r.levels == 2 and r.n_modules == 3


def test_multilevel_never_longer_than_two_level(shared):
    for name in ("jazz.net", "modular_w.net"):
        g = read_graph([str(shared("graphs", "infomap", name))])
        two = infomap(g, trials=3)
        ml = infomap(g, trials=3, multilevel=True)
        assert ml.codelength <= two.codelength + 1e-9
        fn = compute_flow(g)
        paths, L = multilevel_paths(fn, two.modules)
        assert L == pytest.approx(ml.codelength)


def test_cli_multilevel_tree(shared):
    net = str(shared("graphs", "infomap", "ninetriangles.net"))
    res = CliRunner().invoke(cli, ["cluster", net, "--multilevel", "-N", "10", "--format", "tree"])
    assert res.exit_code == 0, res.output
    assert "# partitioned into 3 levels with 5 top modules\n" in res.stdout
    assert "# codelength 3.37188 bits\n" in res.stdout
    body = [line.split()[0] for line in res.stdout.splitlines() if not line.startswith("#")]
    assert sum(p.count(":") == 2 for p in body) == 18 and sum(p.count(":") == 1 for p in body) == 9
    assert "5 modules in 3 levels" in res.stderr


# ------------------------------------------------------------------------------------------ neighbors


def naive_knn(v, k, min_sim):
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    out = []
    for i in range(len(u)):
        sims = sorted(((float(u[i] @ u[j]), j) for j in range(len(u)) if j != i), key=lambda t: (-t[0], t[1]))
        out += [(i, j, s) for s, j in sims[:k] if s >= min_sim]
    return out


@pytest.mark.parametrize("k, min_sim", [(1, 0.0), (3, 0.2), (5, -1.0), (50, 0.5)])
def test_knn_graph_matches_naive(k, min_sim):
    v = np.random.default_rng(k).normal(size=(40, 6)).astype(np.float32)
    s, d, c = knn_graph(v, k=k, min_sim=min_sim, batch_size=7)
    want = naive_knn(v.astype(np.float64), k, min_sim)
    assert list(zip(s.tolist(), d.tolist())) == [(a, b) for a, b, _ in want]
    assert np.allclose(c, [x for _, _, x in want], atol=1e-5)


# ------------------------------------------------------------------------------------------ CLI


TRI = "1 2\n1 3\n2 3\n3 4\n4 5\n4 6\n5 6\n"


@pytest.mark.parametrize("mode", ["file", "stdin"])
def test_cli_cluster_tsv(tmp_path, mode):
    p = tmp_path / "g.txt"
    p.write_text(TRI)
    runner = CliRunner()
    if mode == "file":
        res = runner.invoke(cli, ["cluster", str(p)])
    else:
        res = runner.invoke(cli, ["cluster", "-"], input=TRI)
    assert res.exit_code == 0, res.output
    rows = [line.split("\t") for line in res.stdout.splitlines()]
    assert [r[0] for r in rows] == ["3", "1", "2", "4", "5", "6"]
    assert [r[1] for r in rows] == ["1", "1", "1", "2", "2", "2"]
    assert float(rows[0][2]) == pytest.approx(3 / 14)
    assert "codelength 2.320730 bits (one-level 2.556657" in res.stderr
    assert "2 modules" in res.stderr


@pytest.mark.parametrize("fmt", ["clu", "tree", "json"])
def test_cli_cluster_infomap_formats(tmp_path, fmt, shared):
    out = tmp_path / f"out.{fmt}"
    net = str(shared("graphs", "infomap", "twotriangles.net"))
    res = CliRunner().invoke(cli, ["cluster", net, "--format", fmt, "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    text = out.read_text()
    if fmt == "json":
        doc = json.loads(text)
        assert doc["numTopModules"] == 2 and round(doc["codelength"], 5) == 2.32073
        assert doc["nodes"][0] == {"path": [1, 1], "modules": [1], "name": "C", "flow": pytest.approx(3 / 14),
                                   "id": "3"}
        return
    assert "# codelength 2.32073 bits\n" in text
    assert "# partitioned into 2 levels with 2 top modules\n" in text
    assert "# relative codelength savings 9.22792%\n" in text
    body = [line for line in text.splitlines() if not line.startswith("#")]
    if fmt == "clu":
        assert "# node_id module flow\n" in text
        assert body[:3] == ["3 1 0.214286", "1 1 0.142857", "2 1 0.142857"]
    else:
        assert body[:2] == ['1:1 0.214286 "C" 3', '1:2 0.142857 "A" 1']


@pytest.mark.parametrize("multilevel", [False, True])
@pytest.mark.parametrize("kw", VARIANTS[:3] + [dict(directed=False, markov_time=0.5)])
def test_module_links_match_naive(shared, kw, multilevel):
    g = read_graph([str(shared("graphs", "infomap", "ninetriangles.net"))], directed=kw["directed"])
    r = infomap(g, trials=3, multilevel=multilevel, **kw)
    paths = tree_paths(r)
    want = naive_module_links(paths, flow_dicts(r.flow_network), r.flow_network.symmetric)
    got = {}
    sections = module_links(r)
    assert [s[0] for s in sections] == sorted({tuple(p[:d]) for p in paths for d in range(len(p))})
    for key, enter, exit_, n_children, rows in sections:
        assert n_children == len({p[len(key)] for p in paths if tuple(p[:len(key)]) == key})
        assert rows == sorted(rows)
        for a, b, x in rows:
            got[(key, a, b)] = x
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-12)
    assert sections[0][1:3] == (0.0, 0.0)


@pytest.mark.parametrize("name, flags", [("twotriangles.net", ["-2"]), ("modular_wd.net", ["-2", "-d"]),
                                         ("twotriangles.net", ["-2", "--markov-time", "0.7"])])
def test_cli_ftree_and_csv_equal_infomap(tmp_path, shared, name, flags):
    im_mod = pytest.importorskip("infomap")
    net = str(shared("graphs", "infomap", name))
    im = im_mod.Infomap(" ".join(f for f in flags if f != "-2") + " --two-level --silent -N 5 --seed 123")
    im.read_file(net)
    im.run()
    for fmt, writer in [("ftree", im.write_flow_tree), ("csv", im.write_csv)]:
        theirs = tmp_path / f"theirs.{fmt}"
        writer(str(theirs))
        res = CliRunner().invoke(cli, ["cluster", net, "-N", "5", "--format", fmt, "-q"] + flags)
        assert res.exit_code == 0, res.output

        def body(text):
            return [x for x in text.splitlines() if not x.startswith("# ") or "link flow" in x or "*Links" in x]
        mine, ref = body(res.stdout), body(theirs.read_text())
        assert len(mine) == len(ref)
        for a, b in zip(mine, ref):  # numbers to 5 digits: Infomap prints 6 significant digits
            if a != b:
                fa, fb = a.replace(",", " ").split(), b.replace(",", " ").split()
                assert len(fa) == len(fb) and all(x == y or float(x) == pytest.approx(float(y), rel=1e-5)
                                                  for x, y in zip(fa, fb)), (a, b)


def test_cli_csv_quotes_names_and_ids(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text('a,1\tb"x\na,1\tc\nb"x\tc\n')
    res = CliRunner().invoke(cli, ["cluster", str(p), "--format", "csv", "-q"])
    assert res.exit_code == 0, res.output
    import csv
    import io
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["path", "flow", "name", "node_id"]
    assert sorted(r[3] for r in rows[1:]) == ["a,1", 'b"x', "c"] and sorted(r[2] for r in rows[1:]) == sorted(
        r[3] for r in rows[1:])


def test_cli_flow_options(tmp_path, shared):
    net = str(shared("graphs", "karate.net"))
    for args, opts in [(["--markov-time", "0.5"], dict(markov_time=0.5)),
                       (["--regularized", "--regularization-strength", "0.3"],
                        dict(regularized=True, regularization_strength=0.3)),
                       (["--preferred-number-of-modules", "5"], dict(preferred_modules=5)),
                       (["-d", "--markov-time", "2", "--multilevel"], dict(directed=True, markov_time=2.0,
                                                                              multilevel=True))]:
        res = CliRunner().invoke(cli, ["cluster", net, "-N", "3"] + args)
        assert res.exit_code == 0, res.output
        r = infomap(read_graph([net], directed=opts.get("directed", False)), trials=3, **opts)
        assert f"codelength {r.codelength:.6f} bits" in res.stderr and f"{r.n_modules} modules" in res.stderr


def test_cli_cluster_directed_and_trials(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("".join(f"{a} {b}\n" for a, b in ARCS))
    res = CliRunner().invoke(cli, ["cluster", str(p), "-d", "-e", "--teleport-to", "nodes", "-N", "3", "-j", "2"])
    assert res.exit_code == 0, res.output
    assert "codelength 2.203093 bits" in res.stderr and "best of 3 trials" in res.stderr


@pytest.mark.parametrize("text, args, code, message", [
    ("a b -2\n", [], 1, "g.txt:1: weight '-2' must be a finite number >= 0"),
    ("a b\nc\n", [], 1, "g.txt:2: expected 'source target [weight]'"),
    ("", [], 1, "Error: the graph has no links"),
    ("*Bipartite\n", [], 1, "g.txt:1: section '*Bipartite'"),
    ("*Intra\n1 1 2\n", ["--regularized"], 2, "not available for multilayer networks"),
    ("*Intra\n1 1 2\n", ["--multilayer-relax-rate", "1.5"], 2, "Invalid value for '--multilayer-relax-rate'"),
    ("a b\n", ["--multilevel", "-2"], 2, "exclude each other"),
    ("a b\n", ["--seed", "-1"], 2, "Invalid value for '--seed'"),
    ("a b\n", ["--format", "xml"], 2, "Invalid value for '--format'"),
    ("a b\n", ["--markov-time", "0"], 2, "Invalid value for '--markov-time'"),
    ("a b\n", ["--markov-time", "-1"], 2, "Invalid value for '--markov-time'"),
    ("a b\n", ["--preferred-number-of-modules", "0"], 2, "Invalid value for '--preferred-number-of-modules'"),
    ("a b\n", ["--regularization-strength", "2"], 2, "needs --regularized"),
    ("a b\n", ["--regularized", "-e"], 2, "own (recorded) teleportation"),
    ("a b\n", ["--preferred-number-of-modules", "2", "--multilevel"], 2, "two-level partition"),
])
def test_cli_cluster_bad_input(tmp_path, text, args, code, message):
    p = tmp_path / "g.txt"
    p.write_text(text)
    out = tmp_path / "out.tsv"
    res = CliRunner().invoke(cli, ["cluster", str(p), "-o", str(out)] + args)
    assert res.exit_code == code
    assert message in res.stderr
    assert res.stderr.startswith("Error: " if code == 1 else "Usage: ")
    assert len(res.stderr.strip().splitlines()) == 1 or code == 2
    assert "Traceback" not in res.output
    assert not out.exists()


def test_cli_cluster_self_loops_and_duplicates_reported(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("a a 2\na b\nb a\nb c\n")
    res = CliRunner().invoke(cli, ["cluster", str(p)])
    assert res.exit_code == 0
    assert "1 duplicate links summed, 1 self-loops" in res.stderr


def test_cli_neighbors_to_cluster(tmp_path):
    from textmine.formats import write_word2vec
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 8))
    vecs = np.concatenate([c + 0.1 * rng.normal(size=(6, 8)) for c in centers])
    words = [f"w{g}_{i}" for g in range(3) for i in range(6)]
    vp = tmp_path / "v.txt"
    write_word2vec(str(vp), words, vecs)
    res = CliRunner().invoke(cli, ["neighbors", str(vp), "--k", "4", "--min-sim", "0.6"])
    assert res.exit_code == 0, res.output
    rows = [line.split("\t") for line in res.stdout.splitlines()]
    assert len(rows) == 18 * 4
    assert all(r[0].split("_")[0] == r[1].split("_")[0] for r in rows)
    assert "18 words, 72 links" in res.stderr
    res2 = CliRunner().invoke(cli, ["cluster", "--directed", "-"], input=res.stdout)
    assert res2.exit_code == 0, res2.output
    mods = {}
    for line in res2.stdout.splitlines():
        w, m, _ = line.split("\t")
        mods.setdefault(w.split("_")[0], set()).add(m)
    assert all(len(s) == 1 for s in mods.values()) and len({next(iter(s)) for s in mods.values()}) == 3


def test_cli_neighbors_bad_file(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("2 3\na 1 2 3\nb 1 x 3\n")
    res = CliRunner().invoke(cli, ["neighbors", str(p)])
    assert res.exit_code == 1 and "Error:" in res.stderr and "non-numeric" in res.stderr


@pytest.mark.parametrize("cmd", ["cluster", "neighbors"])
def test_help(cmd):
    res = CliRunner().invoke(cli, [cmd, "--help"])
    assert res.exit_code == 0 and "Usage:" in res.stdout


# ------------------------------------------------------------------------------------------ Python API


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("opts, flags", [({}, ""), (dict(markov_time=1.5), "--markov-time 1.5"),
                                         (dict(regularized=True, regularization_strength=0.3),
                                          "--regularized --regularization-strength 0.3"),
                                         (dict(preferred_modules=4), "--preferred-number-of-modules 4")])
def test_networkx_graph_equals_infomap_package(directed, opts, flags):
    nx = pytest.importorskip("networkx")
    im_mod = pytest.importorskip("infomap")
    G = nx.karate_club_graph()
    if directed:
        G = nx.DiGraph((a, b, d) for a, b, d in G.edges(data=True) if (a * 7 + b) % 3)  # some arcs one way
    G = nx.relabel_nodes(G, {v: (f"n{v}" if v % 2 else v) for v in G})  # mixed node types
    r = infomap(G, trials=10, seed=123, **opts)
    assert r.flow_model.startswith("directed" if directed else "undirected")
    assert set(r.membership) == set(G.nodes)
    im = im_mod.Infomap(("-d " if directed else "") + f"--two-level --silent -N 10 --seed 123 {flags}")
    ids = {v: i for i, v in enumerate(G.nodes)}
    for a, b, d in G.edges(data=True):
        im.add_link(ids[a], ids[b], d["weight"])
    res = im.run()
    mods = dict(im.get_modules())
    theirs = {v: mods[ids[v]] for v in G.nodes}
    g = r.flow_network
    order = [v for v in sorted(G.nodes, key=str)]
    part = np.array([theirs[v] for v in order])
    assert codelength(g, part)[0] + (abs(len(set(part)) - 4) if opts.get("preferred_modules") else 0) == \
        pytest.approx(res.codelength, abs=1e-9)  # the same objective as Infomap on the same graph
    edges = [(str(a), str(b), d["weight"]) for a, b, d in G.edges(data=True)]
    r2 = infomap(graph_from_edges(edges, directed=directed), trials=10, seed=123, **opts)
    assert r2.codelength == r.codelength  # the same search as on a link list


def test_networkx_and_igraph_nodes_map_back():
    nx = pytest.importorskip("networkx")
    G = nx.Graph()
    G.add_edges_from([("a", "b"), ("b", "c"), ("c", "a"), ("c", 4), (4, 5), (5, 6), (6, 4)])
    G.add_node("lonely")
    r = infomap(G, trials=3)
    m = r.membership
    assert set(m) == {"a", "b", "c", 4, 5, 6, "lonely"}
    assert m["a"] == m["b"] == m["c"] != m[4] == m[5] == m[6]
    H = nx.Graph([(1, 2), ("1", 3)])
    with pytest.raises(TextmineError, match="print the same"):
        infomap(H)
    ig = pytest.importorskip("igraph")
    I = ig.Graph.TupleList([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "d")])
    r2 = infomap(I, trials=3)
    assert set(r2.membership) == set("abcdef") and r2.membership["a"] != r2.membership["d"]
    assert r2.codelength == pytest.approx(infomap(graph_from_edges(I.get_edgelist()), trials=3).codelength)


# ------------------------------------------------------------------------------------------ state networks


def random_state_network(seed, n_phys=12, n_states=24, m=60, groups=0):
    """Random states of random physical nodes; with ``groups``, states fall in planted groups and
    90 % of the links stay inside a group (the physical nodes are shared across groups)."""
    rng = random.Random(seed)
    phys = [i % n_phys for i in range(n_states)]
    rng.shuffle(phys)
    links = {}
    while len(links) < m:
        a, b = rng.randrange(n_states), rng.randrange(n_states)
        if groups and a % groups != b % groups and rng.random() < 0.9:
            continue
        if a != b:
            links[(a, b)] = float(rng.randint(1, 4))
    for a in range(n_states):  # every state on a link
        if not any(a in k for k in links):
            links[(a, (a + 1) % n_states)] = 1.0
    lines = ["*Vertices %d" % n_phys] + [f'{i + 1} "p{i + 1}"' for i in range(n_phys)] + ["*States"]
    lines += [f"{a + 1} {phys[a] + 1}" for a in range(n_states)] + ["*Links"]
    lines += [f"{a + 1} {b + 1} {w}" for (a, b), w in links.items()]
    return "\n".join(lines) + "\n", phys, links


def run_state_core(fn, phys, module=None, seed=1, level=None):
    """The core loop on a state network (``level``: an aggregated _Level instead of the leaves)."""
    lv = _leaf_level(fn, phys) if level is None else level
    module = np.arange(lv.n, dtype=np.int32) if module is None else module.astype(np.int32)
    moved, L = _core_loop(lv.out_ptr, lv.out_idx, lv.out_flow, lv.in_ptr, lv.in_idx, lv.in_flow, fn.symmetric,
                          lv.node_flow, lv.tele_src, lv.tele_w, fn.recorded, 0.0, module,
                          np.zeros(lv.n, dtype=np.int32), False, 1000, 0.0, _seed_state(seed), 0,
                          lv.ph_ptr, lv.ph_idx, lv.ph_flow, int(max(phys)) + 1)
    return module, moved, L


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_core_loop_matches_naive(directed, seed):
    """The kernel's state-network objective (physical-node codebooks) against the entropy form, from
    singletons and from a given partition, and a local optimum of single-state moves."""
    _, phys, links = random_state_network(seed)
    n = len(phys)
    g = graph_of(links, directed, n)
    fn = compute_flow(g, directed=directed)
    ph = np.array(phys)
    p, f = fn.node_flow.tolist(), flow_dicts(fn)
    mods = [random.Random(seed).randrange(4) for _ in range(n)]
    assert state_codelength(fn, mods, ph)[0] == pytest.approx(naive_state_codelength(p, f, mods, phys), abs=1e-12)
    out, moved, L = run_state_core(fn, ph, seed=seed)
    assert moved > 0
    assert L == pytest.approx(naive_state_codelength(p, f, out.tolist(), phys), abs=1e-10)
    for a in range(n):
        assert naive_best_state_move_gain(p, f, out.tolist(), a, phys) < 1e-9
    start = np.array(mods)
    before = naive_state_codelength(p, f, mods, phys)
    out, _, L = run_state_core(fn, ph, module=start.copy(), seed=seed)
    assert L == pytest.approx(naive_state_codelength(p, f, out.tolist(), phys), abs=1e-10)
    assert L <= before + 1e-12


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_core_loop_on_aggregated_nodes_matches_naive(directed, seed):
    """At an aggregated level each node carries several physical nodes (a physical node may sit in
    several aggregated nodes): the objective of the induced leaf partition matches the entropy form."""
    _, phys, links = random_state_network(seed + 20, n_phys=10, n_states=30, m=70)
    n = len(phys)
    fn = compute_flow(graph_of(links, directed, n), directed=directed)
    ph = np.array(phys)
    p, f = fn.node_flow.tolist(), flow_dicts(fn)
    labels = np.array([random.Random(seed).randrange(9) for _ in range(n)])
    labels, k = _renumber(labels)
    lv = _aggregate_level(_leaf_level(fn, ph), labels, k, fn.symmetric)
    assert lv.ph_idx.shape[0] > k  # some aggregated node carries more than one physical node
    out, _, L = run_state_core(fn, ph, level=lv, seed=seed)
    leaf = out[labels].tolist()
    assert L == pytest.approx(naive_state_codelength(p, f, leaf, phys), abs=1e-10)
    assert L <= naive_state_codelength(p, f, labels.tolist(), phys) + 1e-12
    start = np.array([random.Random(seed + 1).randrange(3) for _ in range(k)])
    out, _, L = run_state_core(fn, ph, module=start, level=lv, seed=seed)
    assert L == pytest.approx(naive_state_codelength(p, f, out[labels].tolist(), phys), abs=1e-10)


def test_state_network_anchor_and_cli(shared):
    net = str(shared("graphs", "infomap", "states.net"))
    r = infomap(read_graph([net], directed=True), directed=True, trials=5)
    assert round(r.codelength, 6) == 2.011405 and round(r.one_level_codelength, 6) == 2.251629
    assert r.n_modules == 2
    rows = r.physical_memberships()
    assert sorted((ph, f) for ph, m, f in rows if ph == 0) == [(0, pytest.approx(1 / 6)), (0, pytest.approx(1 / 6))]
    res = CliRunner().invoke(cli, ["cluster", "-d", net])
    assert res.exit_code == 0, res.output
    got = [line.split("\t") for line in res.stdout.splitlines()]
    assert len(got) == 6 and sorted(x[0] for x in got) == ["1", "1", "2", "3", "4", "5"]
    assert {x[1] for x in got if x[0] == "1"} == {"1", "2"}  # physical node i in both modules
    assert "6 state nodes of 5 physical nodes, 16 links" in res.stderr and "codelength 2.011405 bits" in res.stderr
    res = CliRunner().invoke(cli, ["cluster", "-d", net, "--format", "clu", "-q"])
    assert "# physical level" in res.stdout and res.stdout.count("\n1 ") == 2
    res = CliRunner().invoke(cli, ["cluster", "-d", net, "--format", "ftree"])
    assert res.exit_code == 2 and "not available for state networks" in res.stderr
    res = CliRunner().invoke(cli, ["cluster", "-d", net, "--state-level", "--format", "clu", "-q"])
    assert res.exit_code == 0 and "# state level\n# module level 1\n# state_id module flow node_id\n" in res.stdout
    body = [x.split() for x in res.stdout.splitlines() if not x.startswith("#")]
    assert sorted((x[0], x[3]) for x in body) == [("1", "1"), ("2", "2"), ("3", "3"), ("4", "1"), ("5", "4"),
                                                   ("6", "5")]
    assert {x[1] for x in body if x[0] in "123"} != {x[1] for x in body if x[0] in "456"}  # Infomap's split
    res = CliRunner().invoke(cli, ["cluster", str(shared("graphs", "karate.net")), "--state-level"])
    assert res.exit_code == 2 and "needs a state network" in res.stderr


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("seed", [3, 4, 5, 6, 7, 8])
def test_state_network_equals_infomap_package(tmp_path, directed, seed):
    im_mod = pytest.importorskip("infomap")
    text, phys, links = random_state_network(seed, n_phys=30, n_states=60, m=160, groups=4)
    p = tmp_path / "s.net"
    p.write_text(text)
    im = im_mod.Infomap(("-d " if directed else "") + "--two-level --silent -N 5 --seed 123")
    im.read_file(str(p))
    res = im.run()
    g = read_graph([str(p)], directed=directed)
    fn = compute_flow(g, directed=directed)
    theirs = im.get_modules(states=True)
    part = np.array([theirs[int(x)] for x in g.ids])
    assert state_codelength(fn, part, g.phys)[0] == pytest.approx(res.codelength, abs=1e-9)
    r = infomap(g, directed=directed, trials=5, seed=123)
    assert r.one_level_codelength == pytest.approx(im.one_level_codelength, abs=1e-9)
    assert r.codelength == pytest.approx(state_codelength(fn, r.modules, g.phys)[0])
    assert r.codelength <= res.codelength * 1.001  # the target: within +0.1 % of Infomap's


@pytest.mark.parametrize("opts", [dict(markov_time=0.6), dict(regularized=True, regularization_strength=0.5),
                                  dict(preferred_modules=3), dict(phys=[i % 7 for i in range(14)])])
def test_new_options_do_not_depend_on_jobs(opts):
    links = random_graph(9, n=14, m=34, directed=True)
    g = graph_of(links, True, 14)
    r1 = infomap(g, directed=True, trials=4, seed=5, n_jobs=1, **opts)
    r2 = infomap(g, directed=True, trials=4, seed=5, n_jobs=2, **opts)
    assert np.array_equal(r1.modules, r2.modules) and r1.codelength == r2.codelength


# ------------------------------------------------------------------------------------------ multilayer


def random_multilayer(seed, inter):
    """20 physical nodes in 3 layers, 90 random intra-layer links (self-links, repeats, nodes with
    only in-links), and with ``inter`` 15 random inter-layer links."""
    rng = random.Random(seed)
    lines = ["*Vertices 20"] + [f'{i} "n{i}"' for i in range(1, 21)] + ["*Intra"]
    lines += [f"{rng.randint(1, 3)} {rng.randint(1, 20)} {rng.randint(1, 20)} {rng.randint(1, 5)}" for _ in range(90)]
    if inter:
        lines.append("*Inter")
        for _ in range(15):
            l1, l2 = rng.sample([1, 2, 3], 2)
            lines.append(f"{l1} {rng.randint(1, 20)} {l2} {rng.random():.3f}")
    return "\n".join(lines) + "\n"


def their_multilayer(path, directed, relax_rate, g, extra=""):
    im_mod = pytest.importorskip("infomap")
    im = im_mod.Infomap(("-d " if directed else "") + f"--two-level --silent -N 5 --seed 123 "
                        f"--multilayer-relax-rate {relax_rate} {extra}")
    im.read_file(str(path))
    res = im.run()
    theirs = {(str(x.layer_id), str(x.node_id)): x.module_id for x in im.nodes}
    part = np.array([theirs[(g.layers[i], g.phys_ids[g.phys[i]])] for i in range(g.n_nodes)])
    return im, res, part


@pytest.mark.parametrize("name", ["multilayer.net", "multilayer_intra.net", "multilayer_intra_inter.net"])
@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("relax_rate", [0.15, 0.4])
def test_multilayer_examples_equal_infomap_package(shared, name, directed, relax_rate):
    """Infomap's multilayer examples (*Multilayer; *Intra with the relax rate; *Intra/*Inter): the
    same state network and flow (their partition has their codelength under ours), and the same
    two-module solution."""
    path = shared("graphs", "infomap", name)
    g = read_graph([str(path)], directed=directed, relax_rate=relax_rate)
    im, res, part = their_multilayer(path, directed, relax_rate, g)
    fn = compute_flow(g, directed=g.directed)
    assert state_codelength(fn, part, g.phys)[0] == pytest.approx(res.codelength, abs=1e-9)
    r = infomap(g, directed=g.directed, trials=5, seed=123)
    assert r.one_level_codelength == pytest.approx(res.one_level_codelength, abs=1e-9)
    assert r.codelength == pytest.approx(res.codelength, abs=1e-9) and r.n_modules == res.num_top_modules
    assert g.directed == (directed or name != "multilayer.net")  # *Intra input turns directed, as in Infomap


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("inter", [False, True])
@pytest.mark.parametrize("directed", [False, True])
def test_random_multilayer_flow_equals_infomap_package(tmp_path, seed, inter, directed):
    p = tmp_path / "m.net"
    p.write_text(random_multilayer(seed, inter))
    g = read_graph([str(p)], directed=directed)
    im, res, part = their_multilayer(p, directed, 0.15, g)
    fn = compute_flow(g, directed=g.directed)
    assert state_codelength(fn, part, g.phys)[0] == pytest.approx(res.codelength, abs=1e-9)
    assert physical_one_level_codelength(fn, g.phys) == pytest.approx(res.one_level_codelength, abs=1e-9)


def test_multilayer_cli_state_level(shared):
    """A physical node in two layers lands in two modules; --state-level adds the layer column."""
    net = str(shared("graphs", "infomap", "multilayer.net"))
    res = CliRunner().invoke(cli, ["cluster", net, "--state-level", "--format", "clu", "-q"])
    assert res.exit_code == 0, res.output
    assert "# state_id module flow node_id layer_id\n" in res.stdout
    rows = [x.split() for x in res.stdout.splitlines() if not x.startswith("#")]
    assert sorted((x[3], x[4]) for x in rows) == [("1", "1"), ("1", "2"), ("2", "2"), ("3", "2"), ("4", "1"),
                                                  ("5", "1")]
    by_layer = {lay: {x[1] for x in rows if x[4] == lay} for lay in ("1", "2")}
    assert len(by_layer["1"]) == len(by_layer["2"]) == 1 and by_layer["1"] != by_layer["2"]
    res = CliRunner().invoke(cli, ["cluster", net, "-q"])
    assert sorted(x.split("\t")[0] for x in res.stdout.splitlines()) == ["1", "1", "2", "3", "4", "5"]


RELAX_LIMITS = [(0, -1, -1), (1, -1, -1), (-1, 0, -1), (-1, -1, 0), (-1, 1, 0), (2, 0, 1), (-1, -1, -1)]


def _limit_flags(lim):
    return " ".join(f"--multilayer-relax-limit{s} {x}" for s, x in zip(("", "-up", "-down"), lim))


@pytest.mark.parametrize("lim", RELAX_LIMITS)
@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("gap", [1, 4])
def test_multilayer_relax_limits_equal_infomap_package(shared, tmp_path, lim, directed, gap):
    """--multilayer-relax-limit[-up|-down] on Infomap's *Intra example, its layers 1 and 2 or (gap 4) 1
    and 5: the same one-level and two-level codelength and modules as the infomap package."""
    p = tmp_path / "m.net"
    head, intra = shared("graphs", "infomap", "multilayer_intra.net").read_text().split("\n*Intra")
    p.write_text(head + "\n*Intra" + re.sub(r"(?m)^2 ", f"{1 + gap} ", intra))
    g = read_graph([str(p)], directed=directed, relax_limit=lim[0], relax_limit_up=lim[1], relax_limit_down=lim[2])
    im, res, part = their_multilayer(p, directed, 0.15, g, _limit_flags(lim))
    fn = compute_flow(g, directed=g.directed)
    assert state_codelength(fn, part, g.phys)[0] == pytest.approx(res.codelength, abs=1e-9)
    r = infomap(g, directed=g.directed, trials=5, seed=123)
    assert r.one_level_codelength == pytest.approx(res.one_level_codelength, abs=1e-9)
    assert r.codelength == pytest.approx(res.codelength, abs=1e-9) and r.n_modules == res.num_top_modules


@pytest.mark.parametrize("lim", RELAX_LIMITS[:-1])
@pytest.mark.parametrize("seed", [0, 1])
def test_random_multilayer_relax_limits_flow_equals_infomap_package(tmp_path, lim, seed):
    """Three layers (ids 1-3), random *Intra links: with relax limits, Infomap's partition has
    Infomap's codelength under our flow, and the physical one-level codelength agrees; a limit
    changes the network (the codelength differs from the unlimited one)."""
    p = tmp_path / "m.net"
    p.write_text(random_multilayer(seed, False))
    g = read_graph([str(p)], relax_limit=lim[0], relax_limit_up=lim[1], relax_limit_down=lim[2])
    im, res, part = their_multilayer(p, False, 0.15, g, _limit_flags(lim))
    fn = compute_flow(g, directed=g.directed)
    assert state_codelength(fn, part, g.phys)[0] == pytest.approx(res.codelength, abs=1e-9)
    assert physical_one_level_codelength(fn, g.phys) == pytest.approx(res.one_level_codelength, abs=1e-9)
    free = compute_flow(read_graph([str(p)]), directed=True)
    assert abs(state_codelength(free, part, g.phys)[0] - res.codelength) > 1e-6


def test_multilayer_relax_limit_needs_integer_layers(tmp_path):
    p = tmp_path / "m.net"
    p.write_text("*Intra\na 1 2\nb 2 1\n")
    res = CliRunner().invoke(cli, ["cluster", str(p), "--multilayer-relax-limit", "1", "-q"])
    assert res.exit_code == 1 and "integer layer ids, got layer 'a'" in res.output
    assert "Traceback" not in res.output and res.output.count("\n") == 1
    assert CliRunner().invoke(cli, ["cluster", str(p), "-q"]).exit_code == 0  # no limit: any layer ids
