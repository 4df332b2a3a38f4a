"""Benchmark ``textmine embed`` (JoSE) against gensim 4.4 Word2Vec skip-gram, side by side.

Quality: Spearman rho of cosine similarity against human scores, pairs with an out-of-vocabulary
word skipped and counted: WordSim-353 and SimLex-999 (also its even-numbered pairs, on which
textmine's defaults were chosen, and the held-out odd-numbered ones) on English (Brown + the 17
Gutenberg texts, lowercased, about 2.8M tokens), wordsim-240/297 on Chinese (People's Daily
1998-01, segmented). With --seeds N each model is trained N times and ρ is the mean.
Speed: words per second per thread of the training epochs alone (wall and CPU time), both tools
in the same process on the same token lists. Memory: peak RSS for a 1M-word vocabulary at 100
dimensions, each tool in its own subprocess.

    python bench/embed.py                       # everything, -j 1, 10 epochs, one seed
    python bench/embed.py --corpora en --seeds 3 --no-memory
    python bench/embed.py --corpora en --iter 5 --jobs 2 --variants
    python bench/embed.py --memory-only
    python bench/embed.py --seeds 5 --also-loss split --no-memory   # the default loss against jose.c's
    python bench/embed.py --grid --seeds 2 --no-memory   # issue #14's grid: word2vec's usual settings
    python bench/embed.py --grid --cells '5,5,100,2' --corpora en --also-alpha 0.04   # against the old fixed rate

Data are read from ../shared/data (never copied into the repository); a missing file skips its corpus.
"""
import argparse
import glob
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
DATA = os.environ.get("TEXTMINE_SHARED_DATA", os.path.join(ROOT, os.pardir, "shared", "data"))


def load_english():
    files = [os.path.join(DATA, "english", "brown_tokens.txt")] + sorted(
        glob.glob(os.path.join(DATA, "english", "gutenberg", "*.txt")))
    if not os.path.exists(files[0]):
        return None
    lines = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            lines.extend(line.lower() for line in fh.read().split("\n") if line.strip())
    return lines


def load_chinese():
    f = os.path.join(DATA, "cws", "199801_seg.utf8")
    if not os.path.exists(f):
        return None
    with open(f, encoding="utf-8") as fh:
        return [line for line in fh.read().split("\n") if line.strip()]


def read_pairs(name, lower):
    path = os.path.join(DATA, "similarity", name)
    if not os.path.exists(path):
        return None
    pairs = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            a, b, s = (x.strip() for x in line.rstrip("\n").split("\t")[:3])
            pairs.append((a.lower() if lower else a, b.lower() if lower else b, float(s)))
    return pairs


def spearman(index, vectors, pairs):
    from scipy.stats import spearmanr

    x = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    model, human = [], []
    for a, b, s in pairs:
        if a in index and b in index:
            model.append(float(x[index[a]] @ x[index[b]]))
            human.append(s)
    rho = spearmanr(model, human).correlation if len(model) > 2 else float("nan")
    return rho, len(model), len(pairs)


def run_textmine(lines, args, seed, **options):
    from textmine.jose import JoSE

    JoSE(dim=8, min_count=1, n_iter=1, n_jobs=args.jobs).fit(["warm up the kernels", "warm up"])  # compile/load
    t0 = time.perf_counter()
    m = JoSE(dim=args.dim, window=args.window, negative=args.negative, n_iter=args.iter, min_count=args.min_count,
             sample=1e-3, n_jobs=args.jobs, random_state=seed, **options).fit(lines)
    total = time.perf_counter() - t0
    return {"words": m.words_, "vectors": m.word_vectors_, "raw_tokens": m.n_raw_tokens_,
            "train_wall": m.train_seconds_, "train_cpu": m.train_cpu_seconds_, "total_wall": total}


def run_gensim(lines, args, seed):
    from gensim.models import Word2Vec

    sents = [line.split() for line in lines]
    t0 = time.perf_counter()
    w = Word2Vec(vector_size=args.dim, window=args.window, negative=args.negative, sg=1, min_count=args.min_count,
                 sample=1e-3, epochs=args.iter, workers=args.jobs, seed=seed)
    w.build_vocab(sents)
    t1, c1 = time.perf_counter(), time.process_time()
    w.train(sents, total_examples=w.corpus_count, epochs=args.iter)
    t2, c2 = time.perf_counter(), time.process_time()
    return {"words": list(w.wv.index_to_key), "vectors": w.wv.vectors, "raw_tokens": w.corpus_total_words,
            "train_wall": t2 - t1, "train_cpu": c2 - c1, "total_wall": t2 - t0}


def bench_corpus(name, lines, sets, args):
    """Each model once per seed (1..--seeds, the tools alternating); ρ is the mean over seeds, times the sum."""
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    print(f"\n### {name}: {len(lines):,} lines, {sum(len(x.split()) for x in lines):,} tokens; "
          f"dim {args.dim}, window {args.window}, negative {args.negative}, {args.iter} epochs, "
          f"min-count {args.min_count}, -j {args.jobs}, seeds {seeds[0]}..{seeds[-1]}\n", flush=True)
    runs = [("textmine JoSE", lambda seed: run_textmine(lines, args, seed))]
    for loss in filter(None, args.also_loss.split(",")):  # one more row per named loss, its default margin
        runs.append((f"textmine JoSE --loss {loss}", lambda seed, loss=loss: run_textmine(lines, args, seed, loss=loss)))
    for alpha in filter(None, args.also_alpha.split(",")):  # one more row per explicit --alpha
        runs.append((f"textmine JoSE --alpha {alpha}",
                     lambda seed, alpha=float(alpha): run_textmine(lines, args, seed, alpha=alpha)))
    for warm in filter(None, args.also_warm.split(",")):  # one more row per --warm value
        runs.append((f"textmine JoSE --warm {warm}",
                     lambda seed, warm=float(warm): run_textmine(lines, args, seed, warm=warm)))
    if args.variants:
        runs += [("textmine JoSE --loss split --update reference (jose.c's rule)",
                  lambda seed: run_textmine(lines, args, seed, loss="split", update="reference")),
                 ("textmine JoSE --loss joint", lambda seed: run_textmine(lines, args, seed, loss="joint")),
                 ("textmine JoSE --loss split --margin 0.15 (jose.c's loss and margin)",
                  lambda seed: run_textmine(lines, args, seed, loss="split", margin=0.15))]
    runs.append(("gensim Word2Vec sg", lambda seed: run_gensim(lines, args, seed)))
    results = [{"label": label, "rho": {s: [] for s in sets}, "train_wall": 0.0, "train_cpu": 0.0,
                "total_wall": 0.0} for label, _ in runs]
    for seed in seeds:
        for (label, fn), res in zip(runs, results):
            r = fn(seed)
            index = {w: i for i, w in enumerate(r["words"])}
            for s, pairs in sets.items():
                res["rho"][s].append(spearman(index, r["vectors"], pairs))
            for k in ("train_wall", "train_cpu", "total_wall"):
                res[k] += r[k]
            res["raw_tokens"], res["vocabulary"] = r["raw_tokens"], len(r["words"])
            print(f"  seed {seed} {label}: {r['train_wall']:.1f} s train ({r['total_wall']:.1f} s total); " +
                  ", ".join(f"{s} {res['rho'][s][-1][0]:.3f}" for s in sets), file=sys.stderr, flush=True)
    for res in results:
        res["mean"] = {s: float(np.mean([x[0] for x in v])) for s, v in res["rho"].items()}
    gensim = results[-1]
    head = "| model | vocabulary | " + " | ".join(f"{s} ρ (pairs used)" for s in sets) + \
        " | words/s/thread (wall) | words/s per CPU-s | train s |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in results:
        n = r["raw_tokens"] * args.iter * len(seeds)
        wall = n / r["train_wall"] / args.jobs
        cpu = n / r["train_cpu"]
        cells = []
        for s, v in r["rho"].items():
            spread = f" [{min(x[0] for x in v):.3f}–{max(x[0] for x in v):.3f}]" if len(v) > 1 else ""
            cells.append(f"{r['mean'][s]:.3f}{spread} ({v[0][1]}/{v[0][2]})")
        print(f"| {r['label']} | {r['vocabulary']:,} | " + " | ".join(cells) +
              f" | {wall:,.0f} | {cpu:,.0f} | {r['train_wall'] / len(seeds):.1f} |")
    ours = results[0]
    ratio_wall = gensim["train_wall"] / ours["train_wall"]
    ratio_cpu = gensim["train_cpu"] / ours["train_cpu"]
    deltas = ", ".join(f"{s} {ours['mean'][s] - gensim['mean'][s]:+.3f}" for s in sets)
    print(f"\nratio textmine/gensim: speed {ratio_wall:.2f}x (wall), {ratio_cpu:.2f}x (CPU); "
          f"mean ρ difference: {deltas}" + (" ([min–max] over seeds)" if len(seeds) > 1 else ""))
    return results


def proc_status_mb(field):
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MB, from /proc/self/status.

    Not ``getrusage``: its ``ru_maxrss`` survives fork and exec, so a child started by a large
    parent reports the parent's peak.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(tool, n_words, dim):
    """Peak RSS of training one epoch on a synthetic corpus with ``n_words`` types (each seen twice)."""
    rng = np.random.default_rng(0)
    ids = np.concatenate([np.arange(n_words), np.arange(n_words)])
    rng.shuffle(ids)
    lines = [" ".join(f"w{i}" for i in ids[k:k + 20]) for k in range(0, len(ids), 20)]
    del ids
    base = proc_status_mb("VmRSS")
    if tool == "textmine":
        from textmine.jose import JoSE
        m = JoSE(dim=dim, min_count=2, n_iter=1, n_jobs=1, sample=1e-3).fit(lines)
        v = len(m.words_)
    else:
        from gensim.models import Word2Vec
        sents = [line.split() for line in lines]
        w = Word2Vec(sents, vector_size=dim, min_count=2, epochs=1, workers=1, sg=1, negative=2, window=5)
        v = len(w.wv)
    peak = proc_status_mb("VmHWM")
    print(f"{v} {base:.0f} {peak:.0f}")


def bench_memory(args):
    print(f"\n### memory: 1,000,000-word vocabulary, {args.dim} dimensions, 2,000,000 tokens "
          "(each word twice, lines of 20), one epoch\n", flush=True)
    print("| tool | vocabulary | RSS after building the corpus (MB) | peak RSS (MB) | peak − corpus (MB) |")
    print("|---|---|---|---|---|")
    for tool in ("textmine", "gensim"):
        out = subprocess.run([sys.executable, __file__, "--_memory-child", tool, "--dim", str(args.dim)],
                             capture_output=True, text=True, check=True).stdout.split()
        v, base, peak = int(out[0]), float(out[1]), float(out[2])
        print(f"| {tool} | {v:,} | {base:,.0f} | {peak:,.0f} | {peak - base:,.0f} |", flush=True)
    print(f"\n(u and v alone: 2 × 1M × {args.dim} × 4 bytes = {2 * 4 * args.dim:,} MB; textmine adds one "
          f"{args.dim}-float row per document, 100,000 here)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpora", default="en,zh")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=2)
    p.add_argument("--iter", type=int, default=10)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--seeds", type=int, default=1, help="train each model with seeds 1..N; report the mean ρ")
    p.add_argument("--first-seed", type=int, default=1, help="seeds FIRST..FIRST+N-1 (to run seeds in parallel)")
    p.add_argument("--also-alpha", default="", metavar="A[,A]",
                   help="also train textmine with these fixed --alpha values (default: 0.4 / --iter)")
    p.add_argument("--also-warm", default="", metavar="W[,W]", help="also train textmine with these --warm values")
    p.add_argument("--variants", action="store_true",
                   help="also --loss split --update reference, --loss joint and --loss split --margin 0.15")
    p.add_argument("--also-loss", default="", metavar="LOSS[,LOSS]",
                   help="also train textmine with these --loss values (e.g. split, jose.c's loss)")
    p.add_argument("--grid", action="store_true",
                   help="issue #14's grid instead of one setting: (negative, iter, dim, jobs) = (5, 5, 100, 2), "
                        "(10, 5, 100, 2), (5, 5, 300, 2), (2, 10, 100, 1); see --cells")
    p.add_argument("--cells", default="", metavar="N,I,D,J[;...]",
                   help="with --grid: only these cells (negative,iter,dim,jobs), e.g. '5,5,100,2;2,10,100,1'")
    p.add_argument("--memory-only", action="store_true")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--_memory-child", dest="memory_child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, 1_000_000, args.dim)
        return
    if args.grid:
        cells = [tuple(int(x) for x in c.split(",")) for c in args.cells.split(";") if c.strip()] or \
            [(5, 5, 100, 2), (10, 5, 100, 2), (5, 5, 300, 2), (2, 10, 100, 1)]
        summary = []
        for neg, it, dim, jobs in cells:
            args.negative, args.iter, args.dim, args.jobs = neg, it, dim, jobs
            summary += [((neg, it, dim, jobs), name, res) for name, res in run_corpora(args)]
        print("\n### grid summary: mean ρ over the seeds [lowest–highest seed], textmine / gensim (difference); "
              "other textmine rows (--also-loss) in the last column; speed: textmine/gensim words per CPU-second\n")
        print("| negative, iter, dim, -j | corpus | set | textmine | gensim | difference | others | speed |")
        print("|---|---|---|---|---|---|---|---|")

        def cell_text(r, s):
            v = [x[0] for x in r["rho"][s]]
            return f"{r['mean'][s]:.3f}" + (f" [{min(v):.3f}–{max(v):.3f}]" if len(v) > 1 else "")
        for cell, name, res in summary:
            ours, gensim = res[0], res[-1]
            speed = f"{gensim['train_cpu'] / ours['train_cpu']:.2f}x"
            for s in ours["mean"]:
                others = "; ".join(f"{r['label'].replace('textmine JoSE ', '')} {cell_text(r, s)}" for r in res[1:-1])
                print(f"| {', '.join(map(str, cell))} | {name} | {s} | {cell_text(ours, s)} | {cell_text(gensim, s)} | "
                      f"{ours['mean'][s] - gensim['mean'][s]:+.3f} | {others} | {speed} |", flush=True)
                speed = ""
            means = [np.mean([r["mean"][s] for s in ours["mean"] if "(" not in s]) for r in (ours, gensim)]
            print(f"| {', '.join(map(str, cell))} | {name} | mean of the sets | {means[0]:.3f} | {means[1]:.3f} | "
                  f"{means[0] - means[1]:+.3f} | | |", flush=True)
        return
    if not args.memory_only:
        run_corpora(args)
    if not args.no_memory:
        bench_memory(args)


def run_corpora(args):
    """bench_corpus on each corpus of --corpora; returns [(corpus, results)]."""
    done = []
    wanted = args.corpora.split(",")
    if "en" in wanted:
        lines = load_english()
        sets = {k: v for k, v in (("WS353", read_pairs("wordsim353.tsv", True)),
                                  ("SimLex-999", read_pairs("simlex999.txt", True))) if v}
        if "SimLex-999" in sets:  # the defaults were chosen on the even pairs: the odd ones are held out
            sets["SimLex even (dev)"] = sets["SimLex-999"][0::2]
            sets["SimLex odd (held out)"] = sets["SimLex-999"][1::2]
        if lines is None or not sets:
            print("English data missing: skipped")
        else:
            done.append(("English", bench_corpus("English: Brown + Gutenberg, lowercased", lines, sets, args)))
    if "zh" in wanted:
        lines = load_chinese()
        sets = {k: v for k, v in (("wordsim-240", read_pairs("zh_wordsim240.tsv", False)),
                                  ("wordsim-297", read_pairs("zh_wordsim297.tsv", False))) if v}
        if lines is None or not sets:
            print("Chinese data missing: skipped")
        else:
            done.append(("Chinese", bench_corpus("Chinese: People's Daily 1998-01 (gold segmentation)", lines,
                                                 sets, args)))
    return done


if __name__ == "__main__":
    main()
