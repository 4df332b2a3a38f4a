"""Benchmark: word discovery evaluated by segmentation of the SIGHAN 2005 PKU test set.

Protocol (kexue.fm 6920, ALGORITHMS.md §2.6): build a lexicon from raw text, keep the top 50,000
words, segment the PKU test set, score against ``pku_test_gold.utf8`` with
``pku_training_words.utf8`` as the in-vocabulary list. The raw text is People's Daily 1998-01
(``199801_raw.utf8``) plus the raw PKU test text (its gold is never read for building).

Systems, all on the same corpus in the same run, each in its own child process (wall time includes
start-up; peak RSS from ``wait4``):

* textmine ``discover-words`` (CLI, ``-j J``), scored (a) with jieba, HMM off, loading the lexicon as its
  only dictionary, and (b) with ``textmine segment --dict``;
* (c) nlp-zero 0.1.6 ``Word_Finder`` at several ``min_proba`` (scored with jieba as in (a));
* (d) the n-gram word-discovery algorithm of ``bojone/word-discovery`` (cohesion thresholds
  ln 2/4/6 for 2/3/4-grams, cutting, backtracking), re-implemented here in pure Python with exact
  counts instead of KenLM, at ``min_count`` 4 (scored with jieba as in (a)).

Usage::

    python bench/discover.py                       # needs ../shared/data/cws
    python bench/discover.py --nlpzero 1e-6 -j 2   # fewer nlp-zero runs
    python bench/discover.py --startup --repeat 5  # fixed start-up cost of the CLI on 20 lines
    python bench/discover.py --startup --baseline /tmp/textmine-old  # and of another checkout, interleaved
    python bench/discover.py --synth /tmp/big.txt --synth-from F...   # 1 GB synthetic corpus (see synth())
    python bench/discover.py --scale 4,16 --baseline /tmp/textmine-old -j 2  # wall and summed peak RSS
        # on 199801_raw repeated 4 and 16 times, this checkout vs another, interleaved; --counts reuse
    python bench/discover.py --gen repeat:300,repeat:1200,markov:300 --repeat 1 --baseline /tmp/textmine-old \
        --workdir /big/tmp -j 2   # the same on bench/gen_corpus.py corpora

Figures go to bench/RESULTS.md (## discover).
"""
import argparse
import collections
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "cws")


# ------------------------------------------------------------------------------------------ children

def corpus_lines(files):
    for p in files:
        with open(p, encoding="utf-8") as f:
            for line in f:
                yield line.rstrip("\n")


def child_nlpzero(files, out, min_proba):
    import collections.abc

    collections.Iterable = collections.abc.Iterable  # nlp-zero 0.1.6 on Python >= 3.10
    import logging

    logging.disable(logging.INFO)
    import nlp_zero

    class Corpus:
        def __iter__(self):
            return (ln.strip() for ln in corpus_lines(files))

    f = nlp_zero.Word_Finder(min_proba=float(min_proba))
    f.train(Corpus())
    f.find(Corpus())
    write_lexicon(out, f.words.items())


def child_word_discovery(files, out, min_count, min_pmi=(0, 2, 4, 6), order=4):
    """bojone/word-discovery (6920) with exact counts: n-gram cohesion, cut, count, backtrack."""
    split = re.compile("[^\u4e00-\u9fa50-9a-zA-Z]+")
    ngrams = [collections.Counter() for _ in range(order)]
    texts = []
    for line in corpus_lines(files):
        for t in split.split(line):
            if t:
                texts.append(t)
                for n in range(1, order + 1):
                    c = ngrams[n - 1]
                    for i in range(len(t) - n + 1):
                        c[t[i:i + n]] += 1
    ngrams = [{g: c for g, c in cnt.items() if c >= min_count} for cnt in ngrams]
    total = float(sum(ngrams[0].values()))
    good = set()
    for i in range(order - 1, 0, -1):  # grams of length i + 1
        for w, v in ngrams[i].items():
            pmi = min(total * v / (ngrams[j].get(w[:j + 1], total) * ngrams[i - j - 1].get(w[j + 1:], total))
                      for j in range(i))
            if math.log(pmi) >= min_pmi[i]:
                good.add(w)
    words = collections.Counter()
    for t in texts:
        join = [False] * len(t)
        for n in range(2, order + 1):
            for i in range(len(t) - n + 1):
                if t[i:i + n] in good:
                    for j in range(n - 1):
                        join[i + j] = True
        start = 0
        for i in range(len(t)):
            if not join[i]:
                words[t[start:i + 1]] += 1
                start = i + 1

    def is_real(w):
        if len(w) >= 3:
            for n in range(3, order + 1):
                for j in range(len(w) - n + 1):
                    if w[j:j + n] not in good:
                        return False
        return True

    write_lexicon(out, ((w, c) for w, c in words.items() if c >= min_count and is_real(w)))


def write_lexicon(out, items):
    items = sorted(items, key=lambda kv: (-kv[1], kv[0]))
    with open(out, "w", encoding="utf-8") as f:
        f.write("".join(f"{w}\t{c}\n" for w, c in items if w and " " not in w))


# ------------------------------------------------------------------------------------------ parent

def _checkout_cwd(env):
    """The working directory for a child run with ``env``: its first ``PYTHONPATH`` entry (the
    checkout under test). ``python -m`` and ``-c`` put the working directory first on
    ``sys.path``, ahead of ``PYTHONPATH``, so run from another checkout's root they would import
    that one, and a baseline run from this repository's root would time this checkout."""
    first = (env or {}).get("PYTHONPATH", "").split(os.pathsep)[0]
    return os.path.abspath(first) if first else None


def run_child(argv, env=None):
    """Run a process; return (wall seconds, peak RSS in MB)."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, env=env, cwd=_checkout_cwd(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed:\n{err.decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024, err.decode("utf-8", "replace")


def top_words(path, top):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            w, c = line.rstrip("\n").split("\t")[:2]
            out.append((w, float(c)))
            if len(out) >= top:
                break
    return out


def score_jieba(words, test, gold, iv, tmp):
    import logging

    import jieba

    from textmine.evaluate import score_segmentation

    jieba.setLogLevel(logging.WARNING)
    d = os.path.join(tmp, "jieba_dict.txt")
    with open(d, "w", encoding="utf-8") as f:
        f.write("".join(f"{w} {max(int(round(c)), 1)}\n" for w, c in words))
    tk = jieba.Tokenizer(d)
    tk.initialize()
    t = time.perf_counter()
    out = [tk.lcut(ln, HMM=False) for ln in test]
    return score_segmentation(gold, out, iv), time.perf_counter() - t


def score_textmine(words, test, gold, iv):
    from textmine.evaluate import score_segmentation
    from textmine.segment import Segmenter

    seg = Segmenter([w for w, _ in words], [c for _, c in words])
    seg.segment_lines(test[:10])  # compile / load the kernels
    t = time.perf_counter()
    out = seg.segment_lines(test)
    return score_segmentation(gold, out, iv), time.perf_counter() - t


def segment_speed(words, lines, tmp, jobs):
    import logging

    import jieba

    from textmine.segment import Segmenter

    seg = Segmenter([w for w, _ in words], [c for _, c in words])
    seg.segment_lines(lines[:10])
    out = []
    for j in sorted({1, jobs}):
        t = time.perf_counter()
        n = sum(len(x) for x in seg.segment_lines(lines, n_jobs=j))
        out.append((f"textmine Segmenter.segment_lines -j {j}", time.perf_counter() - t, n))
    jieba.setLogLevel(logging.WARNING)
    d = os.path.join(tmp, "speed_dict.txt")
    with open(d, "w", encoding="utf-8") as f:
        f.write("".join(f"{w} {max(int(round(c)), 1)}\n" for w, c in words))
    tk = jieba.Tokenizer(d)
    tk.initialize()
    t = time.perf_counter()
    n = sum(len(tk.lcut(ln, HMM=False)) for ln in lines)
    out.append(("jieba 0.42.1 lcut(HMM=False), same lexicon", time.perf_counter() - t, n))
    return out


def in_process_seconds(files, args):
    """Median seconds of textmine.discover.discover_words in this process (kernels loaded, no start-up)."""
    from textmine.corpus import ReadOptions, iter_batches, make_shards
    from textmine.discover import discover_words

    def batches():
        for shard in make_shards(files):
            yield from iter_batches(shard, ReadOptions(), batch_chars=1 << 20)

    discover_words(batches(), n_jobs=args.jobs)
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        discover_words(batches(), n_jobs=args.jobs)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def speed_only(args):
    """Build time and peak RSS of textmine and nlp-zero on a larger corpus (no scoring).

    textmine: median wall of ``--repeat`` CLI runs after one warm-up run (numba cache loaded, not
    compiled), and the median in-process time; nlp-zero: one run per ``--nlpzero`` value. All in
    this one run, so the ratios compare the same machine state.
    """
    files = args.speed
    n_chars = sum(len(ln) for ln in corpus_lines(files))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        lex = os.path.join(tmp, "tm.tsv")
        cmd = [sys.executable, "-m", "textmine", "discover-words", *files, "-j", str(args.jobs), "-o", lex,
               *args.textmine_args.split()]
        run_child(cmd, env)
        runs = [run_child(cmd, env) for _ in range(args.repeat)]
        print(runs[0][2].strip(), file=sys.stderr)
        tm = (sorted(r[0] for r in runs)[len(runs) // 2], max(r[1] for r in runs))
        rows.append((f"textmine discover-words -j {args.jobs} (CLI, median of {args.repeat})", *tm))
        sys.path.insert(0, ROOT)
        inproc = in_process_seconds(files, args)
        rows.append((f"textmine discover_words() in process -j {args.jobs}", inproc, float("nan")))
        for mp in [x for x in args.nlpzero.split(",") if x.strip()]:
            nz = run_child([sys.executable, __file__, "--child", "nlpzero", os.path.join(tmp, "nz.tsv"), mp, *files])
            rows.append((f"nlp-zero min_proba={mp}", nz[0], nz[1]))
    print(f"corpus: {len(files)} files, {n_chars:,} characters")
    print(f"{'system':52} {'build s':>8} {'/ CLI':>6} {'/ in-proc':>9} {'Mchar/s':>8} {'RSS MB':>7}")
    for name, wall, rss in rows:
        print(f"{name:52} {wall:8.2f} {wall / tm[0]:6.1f} {wall / inproc:9.1f} {n_chars / wall / 1e6:8.2f} {rss:7.0f}")


BREAKDOWN = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
t1 = time.perf_counter()
import numba
t2 = time.perf_counter()
import click, textmine.cli
from textmine.corpus import ReadOptions, iter_batches, make_shards
import textmine.discover as d
t3 = time.perf_counter()
import numba.np.linalg, scipy.linalg.cython_blas  # what numba's BLAS check imports on the first dispatch
t4 = time.perf_counter()
d._classify(np.zeros(1, np.uint32))  # the rest of numba's one-time target initialisation + one cached kernel
t5 = time.perf_counter()
def batches():
    for s in make_shards([sys.argv[1]]):
        yield from iter_batches(s, ReadOptions(), batch_chars=1 << 20)
d.discover_words(batches())
t6 = time.perf_counter()
d.discover_words(batches())
t7 = time.perf_counter()
print(json.dumps({
    "import numpy": t1 - t0, "import numba": t2 - t1, "import click, textmine.cli, .corpus, .discover": t3 - t2,
    "first dispatch: numba.np.linalg + scipy.linalg (BLAS check)": t4 - t3,
    "first dispatch: rest of numba's target initialisation": t5 - t4,
    "first discover_words(): loading 17 more cached kernels": (t6 - t5) - (t7 - t6),
    "discover_words() itself (second call)": t7 - t6}))
"""


def startup(args):
    """Median wall and CPU time of CLI commands on a 20-line input: the fixed cost every command pays.

    Reference rows (empty interpreter, ``import numpy``, ``import numba``) show what part of the cost
    is outside textmine. With ``--baseline DIR`` (another checkout of textmine, e.g. from
    ``git archive``) its commands run interleaved with this tree's, so both see the same load.
    Every command runs once untimed first (numba cache written, not compiled).
    """
    src = os.path.join(args.data, "199801_raw.utf8")
    trees = [("", ROOT)] + ([("before: ", os.path.abspath(args.baseline))] if args.baseline else [])
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        tiny = os.path.join(tmp, "tiny.txt")
        with open(src, encoding="utf-8") as f, open(tiny, "w", encoding="utf-8") as g:
            g.writelines(ln for _, ln in zip(range(20), f))
        lex = os.path.join(tmp, "lex.tsv")
        env0 = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        subprocess.run([py, "-m", "textmine", "discover-words", tiny, "-q", "-o", lex], env=env0, cwd=ROOT, check=True)
        cases = [
            ("python -c pass", [py, "-c", "pass"], env0),
            ("python -c 'import numpy'", [py, "-c", "import numpy"], env0),
            ("python -c 'import numba'", [py, "-c", "import numba"], env0),
        ]
        for label, tree in trees:
            env = dict(os.environ, PYTHONPATH=tree + os.pathsep + os.environ.get("PYTHONPATH", ""))
            cases += [
                (label + "textmine --help", [py, "-m", "textmine", "--help"], env),
                (label + "textmine discover-words", [py, "-m", "textmine", "discover-words", tiny, "-q"], env),
                (label + "textmine count", [py, "-m", "textmine", "count", tiny, "-q"], env),
                (label + "textmine segment --dict", [py, "-m", "textmine", "segment", "--dict", lex, tiny], env),
            ]
        for _, argv, env in cases:
            run_child(argv, env)
        times = {name: [] for name, _, _ in cases}
        for _ in range(args.repeat):  # interleaved, so that load changes hit every row alike
            for name, argv, env in cases:
                t = os.times()
                wall = run_child(argv, env)[0]
                t1 = os.times()
                times[name].append((wall, t1.children_user - t.children_user + t1.children_system - t.children_system))
        parts = []
        for _ in range(args.repeat):
            p = subprocess.run([py, "-c", BREAKDOWN, tiny], env=env0, capture_output=True, text=True, check=True)
            parts.append(json.loads(p.stdout))
    print(f"input: the first 20 lines of 199801_raw.utf8; median and min of {args.repeat} runs")
    print(f"{'command':40} {'wall med':>9} {'wall min':>9} {'CPU med':>8}")
    for name, t in times.items():
        w = sorted(x[0] for x in t)
        c = sorted(x[1] for x in t)
        print(f"{name:40} {w[len(w) // 2]:9.3f} {w[0]:9.3f} {c[len(c) // 2]:8.3f}")
    print(f"\nwhere a discover-words process spends it (in one process, seconds, median of {args.repeat}):")
    for key in parts[0]:
        v = sorted(x[key] for x in parts)
        print(f"  {key:58} {v[len(v) // 2]:6.3f}")


def synth(args):
    """Write a large synthetic corpus (for the memory run; never inside the repository).

    The source lines (``--synth-from``, empty lines dropped) are written again and again until
    ``--synth-mb`` MB of UTF-8 are out. Repeat ``r`` uses ``numpy.random.default_rng(seed + r)``:
    the lines are shuffled; each line is split in two lines at a uniformly random offset; each Han
    character is replaced, with probability ``--synth-sub``, by a Han character drawn from the
    source's own character frequencies. Repetition alone would make every n-gram frequent; the
    substitutions give a long tail of new rare n-grams that grows with the size, as in real text.
    """
    import numpy as np

    lines = [ln for ln in corpus_lines(args.synth_from) if ln.strip()]
    cps = np.frombuffer("".join(lines).encode("utf-32-le"), dtype=np.uint32)
    han_cp, han_n = np.unique(cps[(cps >= 0x4E00) & (cps <= 0x9FFF)], return_counts=True)
    han_p = han_n / han_n.sum()
    target = args.synth_mb << 20
    written, r = 0, 0
    with open(args.synth, "wb") as f:
        while written < target:
            rng = np.random.default_rng(args.seed + r)
            order = rng.permutation(len(lines))
            cut = rng.random(len(lines))
            parts = []
            for i, c in zip(order.tolist(), cut.tolist()):
                ln = lines[i]
                k = int(c * len(ln))
                parts.append(ln[:k])
                parts.append(ln[k:])
            text = np.frombuffer("\n".join(parts).encode("utf-32-le"), dtype=np.uint32).copy()
            hit = np.flatnonzero((text >= 0x4E00) & (text <= 0x9FFF) & (rng.random(text.shape[0]) < args.synth_sub))
            text[hit] = rng.choice(han_cp, size=hit.shape[0], p=han_p)
            data = (text.tobytes().decode("utf-32-le") + "\n").encode("utf-8")
            if written + len(data) > target:  # the last repeat ends on a whole line at the target size
                data = data[:target - written]
                data = data[:data.rfind(b"\n") + 1]
                target = written + len(data)
            f.write(data)
            written += len(data)
            r += 1
            print(f"repeat {r}: {written / 2**20:,.0f} MB", file=sys.stderr)
    print(f"{args.synth}: {written:,} bytes, {r} repeats of {len(lines):,} lines, seed {args.seed}, "
          f"substitution rate {args.synth_sub}")


def tree_peak(cmd, env):
    """Run ``cmd``; (wall seconds, peak summed RSS, peak summed PSS of its process tree, in MB,
    polled every 50 ms). PSS counts a page shared by forked workers once in all, RSS once per process."""
    return tree_peak_cpu(cmd, env)[:3]


def tree_peak_cpu(cmd, env):
    """:func:`tree_peak` and the CPU seconds (user + system) of the command and the children it
    waited for (its worker processes): on a shared machine, a measure that the load does not inflate
    much, where wall time is."""
    import psutil

    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=_checkout_cwd(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root, peak, peak_pss = psutil.Process(p.pid), 0, 0
    err = []
    import threading

    reader = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
    reader.start()
    while True:
        try:
            total = pss = 0
            for q in [root] + root.children(recursive=True):
                try:
                    info = q.memory_full_info()
                    total += info.rss
                    pss += getattr(info, "pss", info.rss)
                except psutil.Error:
                    pass
            peak, peak_pss = max(peak, total), max(peak_pss, pss)
        except psutil.Error:
            pass
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{b''.join(err).decode()}")
    return wall, peak / 2**20, peak_pss / 2**20, usage.ru_utime + usage.ru_stime


def scale(args):
    """discover-words on 199801_raw repeated k times (same distinct n-grams, k times the text): this
    checkout vs ``--baseline``, interleaved, median wall and the largest summed peak RSS; then
    ``--counts`` reuse against counting from the text."""
    import statistics

    src = os.path.join(args.data, "199801_raw.utf8")
    data = open(src, "rb").read()
    n_chars = len(data.decode("utf-8")) - data.count(b"\n")
    checkouts = [("this", ROOT)] + ([("baseline", os.path.abspath(args.baseline))] if args.baseline else [])
    with tempfile.TemporaryDirectory() as tmp:
        for k in [int(x) for x in args.scale.split(",")]:
            corpus = os.path.join(tmp, f"x{k}.txt")
            with open(corpus, "wb") as f:
                for _ in range(k):
                    f.write(data)
            outs = {}
            res = {name: [] for name, _ in checkouts}
            for r in range(args.repeat + 1):  # the first round warms the numba caches
                for name, path in checkouts:
                    out = os.path.join(tmp, f"{name}.tsv")
                    env = dict(os.environ, PYTHONPATH=path)
                    got = tree_peak([sys.executable, "-m", "textmine", "discover-words", "-q", corpus, "-j",
                                     str(args.jobs), "-o", out, *args.textmine_args.split()], env)
                    if r:
                        res[name].append(got)
                    outs[name] = open(out, "rb").read()
            same = len(set(outs.values())) == 1
            for name, _ in checkouts:
                wall = statistics.median(w for w, _, _ in res[name])
                rss = max(m for _, m, _ in res[name])
                pss = max(m for _, _, m in res[name])
                print(f"x{k:<3} {os.path.getsize(corpus) / 1e6:7.1f} MB  {name:9} wall {wall:7.2f} s  "
                      f"{n_chars * k / wall / 1e6:5.2f} M chars/s  peak sum RSS {rss:5.0f} MB, PSS {pss:5.0f} MB"
                      + ("" if len(checkouts) == 1 else f"  lexicons identical: {same}"))
            if k == int(args.scale.split(",")[0]):
                env = dict(os.environ, PYTHONPATH=ROOT)
                saved = os.path.join(tmp, "units")
                c = tree_peak([sys.executable, "-m", "textmine", "count", "-q", "-t", "units", "--n", "4", corpus,
                               "-j", str(args.jobs), "--save", saved, "-o", os.devnull], env)
                walls = [tree_peak([sys.executable, "-m", "textmine", "discover-words", "-q", corpus, "-j",
                                    str(args.jobs), "--counts", saved, "-o", os.path.join(tmp, "c.tsv")], env)[0]
                         for _ in range(args.repeat)]
                same = open(os.path.join(tmp, "c.tsv"), "rb").read() == outs["this"]
                print(f"x{k:<3} count -t units --n 4 --save: {c[0]:.2f} s; discover-words --counts: "
                      f"{statistics.median(walls):.2f} s (median of {args.repeat}); lexicon identical: {same}")


def _chars(path):
    """Characters of a UTF-8 file, line breaks excluded (as discover-words counts them)."""
    import numpy as np

    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 26)
            if not b:
                return n
            a = np.frombuffer(b, dtype=np.uint8)
            n += int(np.count_nonzero((a & 0xC0) != 0x80)) - b.count(b"\n")


def gen_scale(args):
    """discover-words on corpora from ``bench/gen_corpus.py`` (``--gen repeat:300,markov:300``,
    MB): this checkout vs ``--baseline``, interleaved; wall, M chars/s, peak summed RSS and PSS,
    the load average before each run. The corpora go to ``--workdir`` and are deleted after."""
    import statistics

    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import gen_corpus

    checkouts = [("this", ROOT)] + ([("baseline", os.path.abspath(args.baseline))] if args.baseline else [])
    with tempfile.TemporaryDirectory(dir=args.workdir and os.path.abspath(args.workdir)) as tmp:
        warm = os.path.join(tmp, "warm.txt")  # load (or compile) the numba caches before timing
        gen_corpus.generate("repeat", 1, warm)
        for name, path in checkouts:
            tree_peak([sys.executable, "-m", "textmine", "discover-words", "-q", warm, "-j", str(args.jobs), "-o",
                       os.devnull], dict(os.environ, PYTHONPATH=path, TMPDIR=tmp))
        for spec in args.gen.split(","):
            mode, mb = spec.split(":")
            corpus = os.path.join(tmp, f"{mode}{mb}.txt")
            gen_corpus.generate(mode, float(mb), corpus)
            n_chars = _chars(corpus)
            outs, res = {}, {name: [] for name, _ in checkouts}
            for r in range(args.repeat):
                for name, path in checkouts:
                    out = os.path.join(tmp, f"{name}.tsv")
                    env = dict(os.environ, PYTHONPATH=path, TMPDIR=tmp)
                    load = os.getloadavg()[0]
                    got = tree_peak_cpu([sys.executable, "-m", "textmine", "discover-words", "-q", corpus, "-j",
                                         str(args.jobs), "-o", out, *args.textmine_args.split()], env)
                    res[name].append(got + (load,))
                    print(f"  {spec} {name} run {r + 1}: {got[0]:.1f} s, CPU {got[3]:.1f} s, RSS {got[1]:.0f} MB, "
                          f"PSS {got[2]:.0f} MB, load {load:.1f}", file=sys.stderr, flush=True)
                    with open(out, "rb") as f:
                        outs[name] = f.read()
            same = len(set(outs.values())) == 1
            for name, _ in checkouts:
                wall = statistics.median(x[0] for x in res[name])
                print(f"{mode:6} {os.path.getsize(corpus) / 1e9:6.3f} GB {n_chars / 1e6:7.1f} M chars  {name:9} "
                      f"wall {wall:7.1f} s  {n_chars / wall / 1e6:5.2f} M chars/s  "
                      f"CPU {statistics.median(x[3] for x in res[name]):7.1f} s  "
                      f"peak sum RSS {max(x[1] for x in res[name]):5.0f} MB, PSS {max(x[2] for x in res[name]):5.0f} MB"
                      f"  load {'/'.join(f'{x[4]:.1f}' for x in res[name])}"
                      + ("" if len(checkouts) == 1 else f"  lexicons identical: {same}"), flush=True)
            os.unlink(corpus)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--top", type=int, default=50000)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--nlpzero", default="1e-5,1e-6,1e-7", help="min_proba values for nlp-zero ('' to skip)")
    ap.add_argument("--wd-min-count", type=int, default=4)
    ap.add_argument("--textmine-args", default="", help="extra discover-words options")
    ap.add_argument("--repeat", type=int, default=3, help="timed textmine runs (median)")
    ap.add_argument("--speed", nargs="+", metavar="FILE",
                    help="only time textmine (-j J) and nlp-zero (every --nlpzero value) on these files")
    ap.add_argument("--startup", action="store_true", help="only time CLI start-up on a 20-line input")
    ap.add_argument("--baseline", metavar="DIR", help="with --startup or --scale: also time this other textmine "
                                                      "checkout")
    ap.add_argument("--synth", metavar="OUT", help="only write a synthetic corpus (see synth()) to OUT")
    ap.add_argument("--synth-mb", type=int, default=1024)
    ap.add_argument("--synth-sub", type=float, default=0.02)
    ap.add_argument("--synth-from", nargs="+", metavar="FILE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", metavar="K1,K2", help="only time discover-words on 199801_raw repeated K times")
    ap.add_argument("--gen", metavar="MODE:MB,...", help="only time discover-words on gen_corpus.py corpora "
                    "(e.g. repeat:300,repeat:1200,markov:300), vs --baseline")
    ap.add_argument("--workdir", help="with --gen: where the corpora and discover-words's spool go")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    files = [os.path.join(args.data, "199801_raw.utf8"), os.path.join(args.data, "pku_test.utf8")]
    if args.child:
        kind, out, param, *child_files = args.child
        {"nlpzero": child_nlpzero, "wd": child_word_discovery}[kind](child_files or files, out, float(param)
                                                                     if kind == "nlpzero" else int(param))
        return
    if args.speed:
        return speed_only(args)
    if args.startup:
        return startup(args)
    if args.synth:
        return synth(args)
    if args.scale:
        return scale(args)
    if args.gen:
        return gen_scale(args)
    for p in files:
        if not os.path.exists(p):
            raise SystemExit(f"{p} not found (../shared/data/cws)")
    sys.path.insert(0, ROOT)
    from textmine.evaluate import read_training_words

    test = [ln.rstrip("\n") for ln in open(os.path.join(args.data, "pku_test.utf8"), encoding="utf-8")]
    gold = [ln.rstrip("\n") for ln in open(os.path.join(args.data, "pku_test_gold.utf8"), encoding="utf-8")]
    iv = read_training_words(os.path.join(args.data, "pku_training_words.utf8"))
    n_chars = sum(len(ln) for ln in corpus_lines(files))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # warm the numba cache once so that the timed run measures loading, not compiling
        lex = os.path.join(tmp, "textmine.tsv")
        tm_cmd = [sys.executable, "-m", "textmine", "discover-words", *files, "-j", str(args.jobs), "-o", lex,
                  *args.textmine_args.split()]
        run_child(tm_cmd, env)
        runs = [run_child(tm_cmd, env) for _ in range(args.repeat)]
        wall = sorted(r[0] for r in runs)[len(runs) // 2]
        rss = max(r[1] for r in runs)
        err = runs[0][2]
        inproc = in_process_seconds(files, args)
        words = top_words(lex, args.top)
        sa, ta = score_jieba(words, test, gold, iv, tmp)
        sb, tb = score_textmine(words, test, gold, iv)
        rows.append(("(a) textmine discover-words + jieba (HMM off)", "", wall, rss, len(words), sa, ta))
        rows.append(("(b) textmine discover-words + textmine segment", "", wall, rss, len(words), sb, tb))
        tm_wall = wall
        print(err.strip(), file=sys.stderr)
        for mp in [x for x in args.nlpzero.split(",") if x.strip()]:
            out = os.path.join(tmp, f"nlpzero-{mp}.tsv")
            wall, rss, _ = run_child([sys.executable, __file__, "--data", args.data, "--child", "nlpzero", out, mp])
            words = top_words(out, args.top)
            s, ts = score_jieba(words, test, gold, iv, tmp)
            rows.append((f"(c) nlp-zero 0.1.6 Word_Finder + jieba", f"min_proba={mp}", wall, rss, len(words), s, ts))
        # segmentation speed on the whole raw corpus with textmine's lexicon
        speed = segment_speed(top_words(lex, args.top), list(corpus_lines(files)), tmp, args.jobs)
        out = os.path.join(tmp, "wd.tsv")
        wall, rss, _ = run_child([sys.executable, __file__, "--data", args.data, "--child", "wd", out,
                                  str(args.wd_min_count)])
        words = top_words(out, args.top)
        s, ts = score_jieba(words, test, gold, iv, tmp)
        rows.append(("(d) word-discovery, exact counts + jieba", f"min_count={args.wd_min_count}", wall, rss,
                     len(words), s, ts))
    print(f"corpus: {n_chars:,} characters (199801_raw + pku_test); top {args.top:,} words; "
          f"PKU test {sum(len(x) for x in test):,} characters")
    print(f"textmine discover-words: CLI wall {tm_wall:.1f} s (median of {args.repeat}, with Python and numba "
          f"start-up); discover_words() in process {inproc:.1f} s (median of {args.repeat})")
    print(f"{'system':48} {'params':36} {'build s':>8} {'x tm':>6} {'Mchar/s':>8} {'RSS MB':>7} "
          f"{'words':>7} {'P':>6} {'R':>6} {'F':>6} {'OOV-R':>6} {'seg s':>6}")
    for name, params, wall, rss, nw, s, ts in rows:
        if name.startswith("(c)") or name.startswith("(d)"):
            params = f"{params} [{wall / inproc:.1f}x in-process]"
        print(f"{name:48} {params:36} {wall:8.1f} {wall / tm_wall:6.1f} {n_chars / wall / 1e6:8.2f} {rss:7.0f} "
              f"{nw:7,} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.oov_recall:6.3f} {ts:6.2f}")
    print()
    print(f"segmentation speed, {n_chars:,} characters, textmine top-{args.top:,} lexicon "
          f"({n_chars * 3 / 1e6:.1f} MB as UTF-8):")
    for name, secs, n_words in speed:
        print(f"  {name:40} {secs:7.2f} s {n_chars * 3 / 1e6 / secs:7.2f} MB/s {n_words / secs / 1e6:6.2f} M words/s")
    print(json.dumps({name + (" " + params if params else ""): round(s.f1, 4) for name, params, *_x, s, _t in rows}))


if __name__ == "__main__":
    main()
