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
    """Generate (once) an LFR graph; returns (edge list path, truth path) or None if networkx gives up."""
    OUT.mkdir(parents=True, exist_ok=True)
    path, truth = OUT / f"lfr-{n}-{mu}.tsv", OUT / f"lfr-{n}-{mu}.truth"
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
    a = ap.parse_args()
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
