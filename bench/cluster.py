"""Benchmark `textmine cluster` against Infomap 2.16 (PyPI `infomap`) and igraph's `community_infomap`.

Every tool runs in its own child process on the same file with the same number of trials, one after
the other in one run; the parent prints codelength, modules, NMI to the planted partition, wall time
and peak RSS side by side, with ratios against Infomap.

* Parity: karate and Infomap's example networks (../shared/data/graphs).
* Ground truth: football / polbooks / dolphins / citeseer and lfr/mu-0.*.gml (../shared/data/graphs).
* LFR (networkx `LFR_benchmark_graph`, τ₁ = 3, τ₂ = 1.5, ⟨k⟩ = 20, k_max = 50, communities 20–100,
  self-loops removed) with n = 1k and 10k over μ = 0.1…0.8 and n = 100k at μ = 0.3, generated once
  and cached under bench/out/ (git-ignored).

Wall time counts reading the file and the search (textmine: its numba cache is loaded by a warm-up
call before the clock starts; that load is reported apart). Peak RSS is the child's VmHWM;
"B/link" is (peak RSS − RSS after imports) / links.

Usage::

    PYTHONPATH=. python bench/cluster.py                 # everything (about 10 min on 2 shared cores)
    PYTHONPATH=. python bench/cluster.py --quick         # small graphs only
    PYTHONPATH=. python bench/cluster.py --sizes 100000 --mus 0.3 --trials 5 --tools textmine,infomap
    PYTHONPATH=. python bench/cluster.py --options --trials 5          # Infomap options vs the executable
    PYTHONPATH=. python bench/cluster.py --options --skip-shared --sizes 100000 --big-mus 0.3 --trials 2 --only regularized
    PYTHONPATH=. python bench/cluster.py --states --trials 5           # state networks vs the executable
    PYTHONPATH=. python bench/cluster.py --options --sizes 1000 --lfr-seeds 110,120,130 --only preferred  # mean ± se

``--options`` runs the options users tune (``--markov-time`` 0.5/1/2, ``--regularized``,
``--preferred-number-of-modules`` 4/20) on the shared LFR graphs (lfr/mu-0.3.gml, mu-0.5.gml) and
generated LFR 10k graphs, against the ``infomap`` 2.16 **executable** on the same link-list file
with the same seed and trials: codelength (Infomap's own, from its ``.clu`` header; ours from the
same objective), modules, NMI to the planted partition, and time (Infomap's "completed in", i.e.
without its process start; textmine's read + search after a warm-up), with medians.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SHARED = pathlib.Path(os.environ.get("TEXTMINE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "graphs"


# ------------------------------------------------------------------------------------------ inputs

def lfr(n, mu, seed=42):
    """Generate (once) an LFR graph; returns (edge list path, truth path) or None if networkx gives up.
    Generator seeds other than 42 are cached under their own names (``lfr-N-MU-sSEED``)."""
    OUT.mkdir(parents=True, exist_ok=True)
    stem = f"lfr-{n}-{mu}" if seed == 42 else f"lfr-{n}-{mu}-s{seed}"
    path, truth = OUT / f"{stem}.tsv", OUT / f"{stem}.truth"
    if path.exists() and truth.exists():
        return path, truth
    import networkx as nx
    for s in range(seed, seed + 5):
        try:
            t = time.perf_counter()
            G = nx.LFR_benchmark_graph(n, 3, 1.5, mu, average_degree=20, max_degree=50, min_community=20,
                                       max_community=100, seed=s)
            break
        except nx.ExceededMaxIterations:
            continue
    else:
        return None
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    with open(str(path) + ".tmp", "w") as f:
        f.write(f"# networkx LFR_benchmark_graph(n={n}, tau1=3, tau2=1.5, mu={mu}, average_degree=20, max_degree=50, "
                f"min_community=20, max_community=100, seed={s}); self-loops removed\n")
        f.writelines(f"{a}\t{b}\n" for a, b in G.edges())
    with open(truth, "w") as f:
        f.writelines(f"{v}\t{min(d['community'])}\n" for v, d in sorted(G.nodes(data=True)))
    os.replace(str(path) + ".tmp", path)
    print(f"# generated LFR n={n} mu={mu} seed={s}: {G.number_of_edges()} links in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)
    return path, truth


def gml(name, attr):
    """Convert a GML graph with ground truth to an edge list + truth file under bench/out."""
    src = SHARED / name
    if not src.exists():
        return None
    OUT.mkdir(parents=True, exist_ok=True)
    stem = name.replace("/", "-").replace(".gml", "")
    path, truth = OUT / f"{stem}.tsv", OUT / f"{stem}.truth"
    if not path.exists():
        import networkx as nx
        G = nx.read_gml(str(src), label="id")
        with open(path, "w") as f:
            f.writelines(f"{a}\t{b}\n" for a, b in G.edges())
        with open(truth, "w") as f:
            for v, d in sorted(G.nodes(data=True)):
                c = d[attr]
                f.write(f"{v}\t{min(c) if isinstance(c, list) else c}\n")
    return path, truth


# ------------------------------------------------------------------------------------------ child runs

def _status_mb(key):
    """VmHWM (peak) or VmRSS (current) of this process in MB (ru_maxrss would include the parent's peak)."""
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb():
    return _status_mb("VmRSS")


MULTILEVEL = os.environ.get("TEXTMINE_BENCH_MULTILEVEL") == "1"


def run_one(tool, path, trials, directed, jobs):
    """Child process: run one tool, print one JSON line."""
    import numpy as np
    warm = 0.0
    if tool == "textmine":
        from textmine.graph import graph_from_edges, read_graph
        from textmine.infomap import infomap
        t = time.perf_counter()
        infomap(graph_from_edges([(1, 2), (2, 3), (3, 1), (3, 4), (4, 5), (5, 6), (6, 4)]), trials=2, n_jobs=2)
        infomap(graph_from_edges([(1, 2), (2, 3), (3, 1)], directed=True), directed=True)
        warm = time.perf_counter() - t
        base = _rss_mb()
        t = time.perf_counter()
        g = read_graph([str(path)], directed=directed)
        t_read = time.perf_counter() - t
        r = infomap(g, directed=directed, trials=trials, seed=123, n_jobs=jobs, multilevel=MULTILEVEL)
        wall = time.perf_counter() - t
        labels = dict(zip(g.ids, (r.modules + 1).tolist()))
        L, k, links = r.codelength, f"{r.n_modules}/{r.levels}" if MULTILEVEL else r.n_modules, g.n_links
    elif tool == "infomap":
        from infomap import Infomap
        base = _rss_mb()
        t = time.perf_counter()
        im = Infomap(("--directed " if directed else "") + ("" if MULTILEVEL else "--two-level ")
                     + f"--silent --num-trials {trials} --seed 123")
        im.read_file(str(path))
        t_read = time.perf_counter() - t
        im.run()
        wall = time.perf_counter() - t
        labels = {str(k): v for k, v in im.get_modules().items()}
        L, k, links = im.codelength, (f"{im.num_top_modules}/{im.max_depth}" if MULTILEVEL
                                      else im.num_top_modules), im.num_links
    elif tool == "igraph":
        import igraph
        base = _rss_mb()
        t = time.perf_counter()
        rows, take = [], True
        for line in open(path):
            if line.startswith("*"):  # Pajek: only the link sections
                take = line.split()[0].lower() in ("*edges", "*arcs", "*links")
            elif take and line.strip() and not line.startswith("#"):
                rows.append(line.split())
        names = sorted({x for r in rows for x in r[:2]}, key=lambda x: (len(x), x))
        index = {x: i for i, x in enumerate(names)}
        g = igraph.Graph(n=len(names), edges=[(index[r[0]], index[r[1]]) for r in rows], directed=directed)
        w = [float(r[2]) for r in rows] if rows and len(rows[0]) > 2 else None
        t_read = time.perf_counter() - t
        c = g.community_infomap(edge_weights=w, trials=trials)
        wall = time.perf_counter() - t
        labels = {x: m + 1 for x, m in zip(names, c.membership)}
        L, k, links = c.codelength, len(c), g.ecount()
    else:
        raise SystemExit(f"unknown tool {tool}")
    peak = _status_mb("VmHWM")
    print(json.dumps({"tool": tool, "codelength": L, "modules": k, "wall": wall, "read": t_read, "warm": warm,
                      "peak_mb": peak, "delta_mb": peak - base, "links": int(links), "labels": labels}))
    _ = np


OPTION_SETS = [
    ("markov 0.5", "--markov-time 0.5", dict(markov_time=0.5)),
    ("markov 1", "--markov-time 1", dict(markov_time=1.0)),
    ("markov 2", "--markov-time 2", dict(markov_time=2.0)),
    ("regularized", "--regularized", dict(regularized=True)),
    ("preferred 4", "--preferred-number-of-modules 4", dict(preferred_modules=4)),
    ("preferred 20", "--preferred-number-of-modules 20", dict(preferred_modules=20)),
]


def run_options_child(path, trials, opts_json, jobs, seed=123):
    """Child process: textmine with the given options, warm, one JSON line."""
    from textmine.graph import graph_from_edges, read_graph
    from textmine.infomap import infomap
    opts = json.loads(opts_json)
    infomap(graph_from_edges([(1, 2), (2, 3), (3, 1), (3, 4), (4, 5), (5, 6), (6, 4)]), trials=2, n_jobs=2, **opts)
    t = time.perf_counter()
    g = read_graph([str(path)])
    r = infomap(g, trials=trials, seed=seed, n_jobs=jobs, **opts)
    wall = time.perf_counter() - t
    print(json.dumps({"codelength": r.codelength, "modules": r.n_modules, "wall": wall,
                      "labels": dict(zip(g.ids, (r.modules + 1).tolist()))}))


def infomap_exe(path, trials, flags, jobs, timeout, seed=123):
    """The infomap executable on ``path``: codelength and time from its .clu header, labels."""
    import shutil
    import tempfile
    exe = shutil.which("infomap") or shutil.which("Infomap")
    if not exe:
        return {"error": "no infomap executable"}
    d = tempfile.mkdtemp(prefix="bench-infomap-")
    try:
        cmd = [exe, str(path), d, "--two-level", "--silent", "-N", str(trials), "--seed", str(seed), "-o", "clu",
               "--out-name", "out"] + flags.split()
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, OMP_NUM_THREADS=str(jobs)))
        wall = time.perf_counter() - t
        if p.returncode != 0:
            return {"error": (p.stderr.strip().splitlines() or ["?"])[-1][:80]}
        labels, L, inner, mods = {}, None, None, set()
        for line in open(os.path.join(d, "out.clu")):
            if line.startswith("# codelength"):
                L = float(line.split()[2])
            elif line.startswith("# completed in"):
                inner = float(line.split()[3])
            elif not line.startswith("#") and line.strip():
                node, mod = line.split()[:2]
                labels[node] = int(mod)
                mods.add(int(mod))  # a state network's physical .clu lists a node once per module
        return {"codelength": L, "modules": len(mods), "wall": inner, "wall_process": wall,
                "labels": labels}
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout}s"}
    finally:
        shutil.rmtree(d, ignore_errors=True)


def bench_options(name, path, truth, trials, jobs, timeout, stats, only="", seed=123, cell=None):
    for label, flags, opts in OPTION_SETS:
        if only and not any(x in label for x in only.split(",")):
            continue
        cmd = [sys.executable, __file__, "--options-child", str(path), str(trials), json.dumps(opts), str(jobs),
               str(seed)]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        if p.returncode != 0:
            print(f"| {name} | {label} | textmine error: {(p.stderr.strip().splitlines() or ['?'])[-1][:80]} |")
            continue
        t = json.loads(p.stdout.strip().splitlines()[-1])
        im = infomap_exe(path, trials, flags, jobs, timeout, seed)
        if "error" in im:
            print(f"| {name} | {label} | infomap error: {im['error']} |")
            continue
        dl = 100 * (t["codelength"] / im["codelength"] - 1)
        ratio = t["wall"] / max(im["wall"], 1e-9)
        nt, ni = nmi(t["labels"], truth), nmi(im["labels"], truth)
        stats.append((label, dl, ratio, nt - ni, t["modules"] == im["modules"], cell or name, nt, ni))
        print(f"| {name} | {label} | {t['codelength']:.6f} | {im['codelength']:.6f} | {dl:+.3f}% | "
              f"{t['modules']} / {im['modules']} | {nt:.4f} / {ni:.4f} | {t['wall']:.2f} / {im['wall']:.2f} s | "
              f"{ratio:.2f}× |", flush=True)


def options_main(a):
    import statistics
    print(f"# --options: trials {a.trials}, seed 123, two-level, -j {a.jobs} / OMP_NUM_THREADS={a.jobs}; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print("| graph | option | textmine L | Infomap L | ΔL | modules (t / I) | NMI (t / I) | time (t / I) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    stats = []
    graphs = []
    for mu in [] if a.skip_shared else a.mus.split(","):
        got = gml(f"lfr/mu-{mu}.gml", "community")
        if got:
            graphs.append((f"LFR 1k μ={mu} (shared)", f"LFR 1k μ={mu}", got))
    lfr_seeds = [int(x) for x in a.lfr_seeds.split(",")]
    # generated 1k graphs only when several generator seeds are asked for (the shared 1k graphs are the default)
    for n in [int(x) for x in a.sizes.split(",") if int(x) > 1000 or (int(x) == 1000 and a.lfr_seeds != "42")]:
        for mu in (a.big_mus if n >= 100000 else a.mus).split(","):
            for gs in lfr_seeds:
                got = lfr(n, float(mu), gs)
                if got:
                    cell = f"LFR {n // 1000}k μ={mu}" if n == 1000 else f"LFR n={n} μ={mu}"
                    graphs.append((cell if gs == 42 else f"{cell} (LFR seed {gs})", cell, got))
    for name, cell, (path, truth) in graphs:
        for seed in [int(x) for x in a.run_seeds.split(",")]:
            label = name if a.run_seeds == "123" else f"{name}, seed {seed}"
            bench_options(label, path, truth, a.trials, a.jobs, a.timeout, stats, a.only, seed, cell)
    print()
    print("| option | runs | median ΔL | worst ΔL | median time ratio | median ΔNMI | same #modules |")
    print("|---|---|---|---|---|---|---|")
    for label, _, _ in OPTION_SETS + [("all", None, None)]:
        rows = [x for x in stats if label == "all" or x[0] == label]
        if rows:
            print(f"| {label} | {len(rows)} | {statistics.median(r[1] for r in rows):+.3f}% | "
                  f"{max(r[1] for r in rows):+.3f}% | {statistics.median(r[2] for r in rows):.2f}× | "
                  f"{statistics.median(r[3] for r in rows):+.4f} | {sum(r[4] for r in rows)}/{len(rows)} |")
    if len(stats) > len({(r[0], r[5]) for r in stats}):  # several graphs or seeds per cell: means with se
        print()
        print("| cell | option | runs | NMI textmine | NMI Infomap | ΔNMI (paired) | mean ΔL | worst ΔL | same #modules |")
        print("|---|---|---|---|---|---|---|---|---|")
        for cell in dict.fromkeys(r[5] for r in stats):
            for label, _, _ in OPTION_SETS:
                rows = [r for r in stats if r[5] == cell and r[0] == label]
                if rows:
                    print(f"| {cell} | {label} | {len(rows)} | {_mean_se([r[6] for r in rows])} | "
                          f"{_mean_se([r[7] for r in rows])} | {_mean_se([r[3] for r in rows], '+')} | "
                          f"{statistics.mean(r[1] for r in rows):+.3f}% | {max(r[1] for r in rows):+.3f}% | "
                          f"{sum(r[4] for r in rows)}/{len(rows)} |", flush=True)


def _mean_se(xs, sign=""):
    """'mean ± standard error' of a list (se 0 for one value)."""
    import statistics
    m = statistics.mean(xs)
    se = statistics.stdev(xs) / len(xs) ** 0.5 if len(xs) > 1 else 0.0
    return f"{m:{sign}.4f} ± {se:.4f}"


def corpus_knn(max_vectors=2000, k=10, min_sim=0.5):
    """`textmine embed` on the Brown corpus (../shared/data/english/brown_tokens.txt; dim 50, 5 epochs)
    then `textmine neighbors`: the kNN link list (word, neighbour, cosine), cached under bench/out/."""
    corpus = SHARED.parent / "english" / "brown_tokens.txt"
    vec = OUT / "brown-d50.vec"
    knn = OUT / f"brown-knn-{max_vectors}-{k}-{min_sim}.tsv"
    if knn.exists():
        return knn
    if not corpus.exists():
        return None
    OUT.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-c", "from textmine.cli import cli; cli()"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if not vec.exists():
        subprocess.run(cli + ["embed", str(corpus), "-o", str(vec), "--dim", "50", "--iter", "5", "-j", "2", "-q"],
                       check=True, env=env)
    subprocess.run(cli + ["neighbors", str(vec), "--max-vectors", str(max_vectors), "-k", str(k),
                          "--min-sim", str(min_sim), "-q", "-o", str(knn)], check=True, env=env)
    return knn


def knn_state_network(knn, out, delta=0.1):
    """A second-order (memory) state network from a `neighbors` link list: one state per kNN link
    i→j ("at word j, arrived from i", physical node j), and a memory link from state i→j to each
    state j→k (k ≠ i) weighted c_jk (δ + c_ik), c_ik the cosine when i and k are neighbours (either
    way) and 0 otherwise: a walk that reached a polysemous word from one sense's neighbour goes on
    into that sense. States without any link are left out. Writes Infomap's *Vertices/*States/*Links
    format; returns (states, memory links)."""
    words, cos, out_links = {}, {}, {}
    for line in open(knn, encoding="utf-8"):
        a, b, c = line.rstrip("\n").split("\t")
        i, j = words.setdefault(a, len(words) + 1), words.setdefault(b, len(words) + 1)
        cos[(i, j)] = float(c)
        out_links.setdefault(i, []).append(j)
    sim = dict(cos)
    for (i, j), c in cos.items():
        sim[(j, i)] = max(c, sim.get((j, i), 0.0))
    state = {ij: n + 1 for n, ij in enumerate(cos)}
    links = []
    for (i, j), s_ij in state.items():
        for k in out_links.get(j, ()):
            if k != i:
                links.append((s_ij, state[(j, k)], cos[(j, k)] * (delta + max(sim.get((i, k), 0.0), 0.0))))
    used = {x for a, b, _ in links for x in (a, b)}
    with open(out, "w", encoding="utf-8") as f:
        f.write(f"*Vertices {len(words)}\n")
        for w, i in words.items():
            f.write(f'{i} "{w.replace(chr(34), chr(39))}"\n')
        f.write("*States\n")
        for (i, j), s_ij in state.items():
            if s_ij in used:
                f.write(f"{s_ij} {j}\n")
        f.write("*Links\n")
        for a, b, w in links:
            f.write(f"{a} {b} {w:.6g}\n")
    return len(used), len(links)


def planted_multilayer(seed, inter, n=1000, layers=3, groups=20, m=5000):
    """*Intra (+ *Inter) multilayer network: ``n`` physical nodes in ``layers`` layers, each layer
    with its own planted partition into ``groups`` groups (90 % of its ``m`` links inside a group),
    so a node's communities differ by layer; with ``inter``, 2,000 inter-layer links of weight 1."""
    import random
    rng = random.Random(seed)
    lines = [f"*Vertices {n}"] + [f'{i} "v{i}"' for i in range(1, n + 1)] + ["*Intra"]
    for lay in range(1, layers + 1):
        group = [rng.randrange(groups) for _ in range(n)]
        members = [[i for i in range(n) if group[i] == g] for g in range(groups)]
        for _ in range(m):
            a = rng.randrange(n)
            b = rng.choice(members[group[a]]) if rng.random() < 0.9 else rng.randrange(n)
            if a != b:
                lines.append(f"{lay} {a + 1} {b + 1} 1")
    if inter:
        lines.append("*Inter")
        for _ in range(2000):
            l1, l2 = rng.sample(range(1, layers + 1), 2)
            lines.append(f"{l1} {rng.randrange(n) + 1} {l2} 1")
    return "\n".join(lines) + "\n"


def states_main(a):
    """State networks: Infomap's states.net, planted random state networks (tests/test_infomap.py's
    generator) and a second-order network from `neighbors` output of a corpus, against the infomap
    executable, two-level, same trials and seed."""
    import statistics
    import tempfile
    sys.path.insert(0, str(ROOT / "tests"))
    from test_infomap import random_state_network

    from textmine.graph import read_graph
    from textmine.infomap import infomap
    infomap(read_graph([str(SHARED / "infomap" / "states.net")], directed=True), directed=True)  # warm-up
    cases = [("states.net", SHARED / "infomap" / "states.net", True)]
    d = pathlib.Path(tempfile.mkdtemp(prefix="bench-states-"))
    for seed in range(3, 9):
        text, _, _ = random_state_network(seed, n_phys=30, n_states=60, m=160, groups=4)
        (d / f"planted-{seed}.net").write_text(text)
        cases += [(f"planted seed {seed}", d / f"planted-{seed}.net", False),
                  (f"planted seed {seed}", d / f"planted-{seed}.net", True)]
    for label, seed, n_phys, n_states, m, groups in [("planted 1k states", 99, 400, 1000, 3000, 10),
                                                      ("planted 10k states", 98, 4000, 10000, 30000, 50)]:
        text, _, _ = random_state_network(seed, n_phys=n_phys, n_states=n_states, m=m, groups=groups)
        f = d / f"planted-{n_states}.net"
        f.write_text(text)
        cases += [(label, f, False), (label, f, True)]
    for name in ["multilayer.net", "multilayer_intra.net", "multilayer_intra_inter.net"]:
        cases.append((name, SHARED / "infomap" / name, False))
    for label, inter in [("planted multilayer 3×1k (relax 0.15)", False), ("planted multilayer 3×1k (*Inter)", True)]:
        f = d / f"multilayer-{int(inter)}.net"
        f.write_text(planted_multilayer(7, inter))
        cases.append((label, f, False))
    # --multilayer-relax-limit[-up|-down] (limit, up, down) on *Intra input with the relax rate
    for label, f, lim in [("multilayer_intra.net, relax limit 0", SHARED / "infomap" / "multilayer_intra.net", (0, -1, -1)),
                          ("planted multilayer 3×1k, relax limit 1", d / "multilayer-0.net", (1, -1, -1)),
                          ("planted multilayer 3×1k, relax limit up 0", d / "multilayer-0.net", (-1, 0, -1)),
                          ("planted multilayer 3×1k, relax limit up 1 down 0", d / "multilayer-0.net", (-1, 1, 0))]:
        cases.append((label, f, False, lim))
    knn = corpus_knn() if not a.only or "kNN" in a.only else None
    if knn:
        n_states, n_links = knn_state_network(knn, d / "knn2.net")
        cases.append((f"Brown kNN 2nd order ({n_states} states, {n_links} links)", d / "knn2.net", True))
    if a.only:  # --only: the networks whose label contains one of these comma-separated words
        cases = [c for c in cases if any(x in c[0] for x in a.only.split(","))]
    print(f"# --states: trials {a.trials}, seed 123, two-level; load {os.getloadavg()[0]:.1f}")
    print("| network | flow | textmine L | Infomap L | ΔL | modules (t / I) | time (t / I) | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    deltas, ratios = [], []
    for name, path, directed, *lim in cases:
        lim = lim[0] if lim else (-1, -1, -1)
        flags = " ".join(f"--multilayer-relax-limit{s} {x}" for s, x in zip(("", "-up", "-down"), lim) if x >= 0)
        t = time.perf_counter()
        g = read_graph([str(path)], directed=directed, relax_limit=lim[0], relax_limit_up=lim[1], relax_limit_down=lim[2])
        r = infomap(g, directed=directed, trials=a.trials, seed=123)
        wall = time.perf_counter() - t
        im = infomap_exe(path, a.trials, ("-d " if directed else "") + flags, 1, a.timeout)
        if "error" in im:
            print(f"| {name} | infomap error: {im['error']} |")
            continue
        dl = 100 * (r.codelength / im["codelength"] - 1)
        deltas.append(dl)
        ratios.append(wall / max(im["wall"], 1e-9))
        print(f"| {name} | {'directed' if directed else 'undirected'} | {r.codelength:.6f} | {im['codelength']:.6f} | "
              f"{dl:+.3f}% | {r.n_modules} / {im['modules']} | {wall:.2f} / {im['wall']:.2f} s | "
              f"{ratios[-1]:.2f}× |", flush=True)
    print(f"\nmedian ΔL {statistics.median(deltas):+.3f}%, worst {max(deltas):+.3f}%, "
          f"{sum(x <= 0.1 for x in deltas)}/{len(deltas)} within +0.1%; median time ratio "
          f"{statistics.median(ratios):.2f}×")


def child(tool, path, trials, directed, jobs, timeout):
    cmd = [sys.executable, __file__, "--child", tool, str(path), str(trials), str(int(directed)), str(jobs)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(jobs))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "error": f"timeout {timeout}s"}
    if p.returncode != 0:
        return {"tool": tool, "error": (p.stderr.strip().splitlines() or ["?"])[-1][:80]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def nmi(labels, truth_path):
    from sklearn.metrics import normalized_mutual_info_score
    truth = dict(line.split() for line in open(truth_path))
    keys = sorted(truth)
    return normalized_mutual_info_score([truth[k] for k in keys], [labels.get(k, -1) for k in keys])


# ------------------------------------------------------------------------------------------ table

def bench(name, path, truth, tools, trials, directed, jobs, timeout, rows):
    res = {}
    for tool in tools:
        r = child(tool, path, trials, directed, jobs, timeout)
        if "error" not in r and truth is not None:
            r["nmi"] = nmi(r["labels"], truth)
        r.pop("labels", None)
        res[tool] = r
    ref = res.get("infomap", {})
    for tool in tools:
        r = res[tool]
        if "error" in r:
            line = f"| {name} | {tool} | error: {r['error']} | | | | | | |"
        else:
            dl = (f"{100 * (r['codelength'] / ref['codelength'] - 1):+.3f}%"
                  if "codelength" in ref and tool != "infomap" else "")
            tr = f"{r['wall'] / ref['wall']:.2f}×" if "wall" in ref and tool != "infomap" else ""
            bpl = 1e6 * r["delta_mb"] / max(1, r["links"])
            line = (f"| {name} | {tool} | {r['codelength']:.6f} {dl} | {r['modules']} | "
                    f"{r['nmi']:.4f} | " if "nmi" in r else
                    f"| {name} | {tool} | {r['codelength']:.6f} {dl} | {r['modules']} | – | ")
            line += f"{r['wall']:.2f} s {tr} | {r['read']:.2f} s | {r['peak_mb']:.0f} MB | {bpl:.0f} |"
        print(line, flush=True)
        rows.append(line)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--options-child":
        path, trials, opts, jobs = sys.argv[2:6]
        run_options_child(path, int(trials), opts, int(jobs), int(sys.argv[6]) if len(sys.argv) > 6 else 123)
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        tool, path, trials, directed, jobs = sys.argv[2:7]
        run_one(tool, path, int(trials), bool(int(directed)), int(jobs))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shared small graphs and 1k LFR only")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--mus", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8")
    ap.add_argument("--big-mus", default="0.3", help="μ values for n >= 100000")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--tools", default="textmine,infomap,igraph")
    ap.add_argument("--igraph-max", type=int, default=10000, help="skip igraph above this many nodes")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--skip-shared", action="store_true")
    ap.add_argument("--multilevel", action="store_true",
                    help="hierarchical map equation (textmine --multilevel vs Infomap's default); no igraph")
    ap.add_argument("--options", action="store_true",
                    help="Infomap options (markov time, regularized, preferred modules) vs the infomap executable "
                         "on LFR μ in --mus (default here 0.3,0.5; --big-mus for n >= 100000) at 1k (shared, "
                         "unless --skip-shared) and --sizes > 1k")
    ap.add_argument("--only", default="", help="--options: only the option sets whose label contains one of "
                                               "these comma-separated words (e.g. preferred); --states: only the "
                                               "networks whose label contains one (e.g. 'relax limit')")
    ap.add_argument("--lfr-seeds", default="42",
                    help="--options: generator seeds of the LFR graphs (one graph per seed, n and μ); with more "
                         "than the default, 1k graphs are generated too, and a table of mean ± se per cell follows")
    ap.add_argument("--run-seeds", default="123", help="--options: search seeds (both tools), one run per seed")
    ap.add_argument("--states", action="store_true",
                    help="state networks (Infomap's states.net, planted random ones) vs the infomap executable")
    a = ap.parse_args()
    if a.states:
        states_main(a)
        return
    if a.options:
        if a.mus == ap.get_default("mus"):
            a.mus = "0.3,0.5"
        if a.sizes == ap.get_default("sizes"):
            a.sizes = "1000,10000"
        options_main(a)
        return
    tools = a.tools.split(",")
    if a.multilevel:
        os.environ["TEXTMINE_BENCH_MULTILEVEL"] = "1"
        tools = [t for t in tools if t != "igraph"]
    mode = "multilevel (modules = top/levels)" if a.multilevel else "two-level"
    print(f"# trials {a.trials}, jobs {a.jobs} (textmine -j, Infomap OMP_NUM_THREADS), seed 123, {mode}; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print("| graph | tool | codelength (vs Infomap) | modules | NMI | wall (vs Infomap) | read | peak RSS | B/link |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    if not a.skip_shared:
        for name in ["karate.net", "infomap/twotriangles.net", "infomap/ninetriangles.net", "infomap/modular_w.net",
                     "infomap/jazz.net", "infomap/VII_network_complete.dat"]:
            if (SHARED / name).exists():
                bench(name, SHARED / name, None, tools, a.trials, False, a.jobs, a.timeout, rows)
        if (SHARED / "infomap/modular_wd.net").exists():
            bench("modular_wd.net -d", SHARED / "infomap/modular_wd.net", None,
                  [t for t in tools if t != "igraph"], a.trials, True, a.jobs, a.timeout, rows)
        for name, attr in [("football.gml", "value"), ("polbooks.gml", "value"), ("dolphins.gml", "group"),
                           ("citeseer.gml", "community")] + [(f"lfr/mu-0.{i}.gml", "community") for i in range(1, 9)]:
            got = gml(name, attr)
            if got:
                bench(name, got[0], got[1], tools, a.trials, False, a.jobs, a.timeout, rows)
    sizes = [1000] if a.quick else [int(x) for x in a.sizes.split(",")]
    for n in sizes:
        mus = a.big_mus if n >= 100000 else a.mus
        for mu in (float(x) for x in mus.split(",")):
            got = lfr(n, mu)
            if not got:
                print(f"| LFR n={n} μ={mu} | networkx could not generate it | | | | | | | |")
                continue
            tl = [t for t in tools if t != "igraph" or n <= a.igraph_max]
            bench(f"LFR n={n} μ={mu}", got[0], got[1], tl, a.trials, False, a.jobs, a.timeout, rows)


if __name__ == "__main__":
    main()
