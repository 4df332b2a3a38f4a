#!/usr/bin/env python3
"""Benchmark ``textmine count`` against the naive loops of post 7031 and collections.Counter.

Every variant runs as its own process on the same input, in one run; wall time and the peak RSS of
the variant's largest process (``wait4``) are reported, with speed-ups as ratios.

1. words: the naive loop ``for t in jieba.cut(line): d[t] = d.get(t, 0) + 1``; the batched single
   process of post 7031 (a local dict per 1000 lines, merged into the global one); textmine
   ``count -j 1`` and ``-j 2`` (jieba tokenizer, HMM on). Counts must be identical.
2. character 1-4-grams: ``collections.Counter`` over the same n-grams (runs of letters and
   digits, as ``--tokenizer ngram``) against textmine ``-j 1`` / ``-j 2``.

3. ``--memory``: peak memory of ``count -t ngram --n 4`` (summed over the parent and its workers,
   polled from /proc by ``bench/peakrss.py``) and wall time, for corpus sizes (``--sizes``, the
   sources repeated: the distinct keys stay fixed) x ``--memory-limit`` (``--limits``) x ``-j``
   (``--jobs``), then peak(largest) / peak(smallest) for each limit and ``-j``; ``--long-line MB``
   adds one line of that size. ``--compare DIR`` runs the same commands with another checkout
   (e.g. ``/work/main``) on ``PYTHONPATH`` as well. Outputs of one size must be byte-identical.

Usage: python bench/count.py [--mb 33] [--repeat 3] [--skip-naive]
       python bench/count.py --memory [--sizes 25,100,200] [--limits default,256M,64M] [--jobs 1,2]
Input: ../shared/data/cws/199801_raw.utf8 + ../shared/data/raw/*.txt (about 33 MB), repeated or
cut to --mb megabytes (repetition inflates counts but not distinct keys; it is said in the output).
"""
import argparse
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("TEXTMINE_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "bench" / "out"

NAIVE_WORDS = r'''
import sys, jieba, logging
jieba.setLogLevel(logging.WARNING)
d = {}
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        for t in jieba.cut(line.rstrip("\n")):
            d[t] = d.get(t, 0) + 1
items = sorted(((t, n) for t, n in d.items() if not t.isspace()), key=lambda x: (-x[1], x[0]))
with open(sys.argv[2], "w", encoding="utf-8") as o:
    o.writelines(f"{t}\t{n}\n" for t, n in items)
'''

BATCHED_WORDS = r'''
import sys, jieba, logging
jieba.setLogLevel(logging.WARNING)
d = {}
def flush(local):
    for t, n in local.items():
        d[t] = d.get(t, 0) + n
with open(sys.argv[1], encoding="utf-8") as f:
    local, k = {}, 0
    for line in f:
        for t in jieba.cut(line.rstrip("\n")):
            local[t] = local.get(t, 0) + 1
        k += 1
        if k == 1000:
            flush(local); local, k = {}, 0
    flush(local)
items = sorted(((t, n) for t, n in d.items() if not t.isspace()), key=lambda x: (-x[1], x[0]))
with open(sys.argv[2], "w", encoding="utf-8") as o:
    o.writelines(f"{t}\t{n}\n" for t, n in items)
'''

COUNTER_NGRAMS = r'''
import re, sys
from collections import Counter
split = re.compile(r"[\W_]+").split
c = Counter()
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        for run in split(line):
            n = len(run)
            for k in range(1, 5):
                c.update(run[i:i + k] for i in range(n - k + 1))
items = sorted(c.items(), key=lambda x: (-x[1], x[0]))
with open(sys.argv[2], "w", encoding="utf-8") as o:
    o.writelines(f"{t}\t{n}\n" for t, n in items)
'''


def build_input(mb):
    OUT.mkdir(parents=True, exist_ok=True)
    srcs = [SHARED / "cws" / "199801_raw.utf8"] + sorted((SHARED / "raw").glob("*.txt"))
    missing = [s for s in srcs if not s.exists()]
    if missing:
        sys.exit(f"benchmark data missing: {missing[0]}")
    data = b"".join(s.read_bytes().rstrip(b"\n") + b"\n" for s in srcs)
    target = int(mb * 1e6)
    reps = 1
    while len(data) * reps < target:
        reps += 1
    blob = (data * reps)[:target]
    blob = blob[: blob.rfind(b"\n") + 1]
    path = OUT / f"count_input_{mb:g}MB.txt"
    if not path.exists() or path.stat().st_size != len(blob):
        path.write_bytes(blob)
    return path, len(data), reps


def run(cmd, out_path):
    """Run a command; return (seconds, peak RSS in MB of its largest process)."""
    t = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        p = subprocess.Popen(cmd, stdout=devnull, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    err = p.stderr.read().decode()
    p.stderr.close()
    if status != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{err}")
    return dt, usage.ru_maxrss / 1024


def measure(name, cmd, out_path, repeat):
    times, rss = [], []
    for _ in range(repeat):
        dt, r = run(cmd, out_path)
        times.append(dt)
        rss.append(r)
    med = statistics.median(times)
    print(f"  {name:<34} {med:8.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})  peak RSS {max(rss):7.0f} MB",
          flush=True)
    return med, max(rss)


def textmine_cmd(path, out, jobs, *extra):
    return [sys.executable, "-m", "textmine", "count", str(path), "-j", str(jobs), "-q", "-o", str(out), *extra]


def memory(args):
    sys.path.insert(0, str(ROOT / "bench"))
    import gen_corpus
    import hashlib
    import peakrss

    OUT.mkdir(parents=True, exist_ok=True)
    sizes = [float(x) for x in args.sizes.split(",")]
    limits = args.limits.split(",")
    jobs = [int(x) for x in args.jobs.split(",")]
    roots = [("this", str(ROOT))] + ([("compare", args.compare)] if args.compare else [])
    inputs = []
    for mb in sizes:
        path = OUT / f"mem_repeat_{mb:g}MB.txt"
        if not path.exists():
            gen_corpus.generate("repeat", mb, path)
        inputs.append((f"{mb:g} MB", path))
    if args.long_line:
        path = OUT / f"mem_oneline_{args.long_line:g}MB.txt"
        if not path.exists():
            gen_corpus.generate("oneline", args.long_line, path)
        inputs.append((f"{args.long_line:g} MB, one line", path))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"count -t ngram --n 4, peak RSS summed over the process tree (MiB)")
    print("| checkout | corpus | --memory-limit | -j | peak RSS (MiB) | wall (s) |\n|---|---|---|---|---|---|")
    peaks = {}
    for tag, root in roots:
        env = dict(os.environ, PYTHONPATH=root)
        for label, path in inputs:
            digests = set()
            for lim in limits:
                for j in jobs:
                    out = OUT / "mem_out.tsv"
                    cmd = [sys.executable, "-m", "textmine", "count", "-t", "ngram", "--n", "4", "-j", str(j), "-q",
                           "-o", str(out), str(path)] + ([] if lim == "default" else ["--memory-limit", lim])
                    r = peakrss.measure(cmd, env=env, cwd=root)  # python -m imports from the working directory
                    if r["status"]:
                        sys.exit(f"failed: {' '.join(cmd)}\n{r['stderr']}")
                    digests.add(hashlib.sha1(out.read_bytes()).hexdigest())
                    peak = r["peak_sum"] / 2 ** 20
                    peaks[tag, label, lim, j] = peak
                    print(f"| {tag} | {label} | {lim} | {j} | {peak:.0f} | {r['seconds']:.1f} |", flush=True)
            print(f"<!-- {tag} {label}: outputs identical across limits and -j: {len(digests) == 1} -->")
            if len(digests) != 1:
                sys.exit("outputs differ")
    lo, hi = inputs[0][0], inputs[len(sizes) - 1][0]
    print(f"\npeak({hi}) / peak({lo}):")
    for tag, _ in roots:
        for lim in limits:
            for j in jobs:
                print(f"  {tag} --memory-limit {lim} -j {j}: {peaks[tag, hi, lim, j] / peaks[tag, lo, lim, j]:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--memory", action="store_true", help="the peak-memory table (section 3 of the docstring)")
    ap.add_argument("--sizes", default="25,100,200", help="--memory: corpus sizes in MB")
    ap.add_argument("--limits", default="default,256M,64M", help="--memory: --memory-limit values")
    ap.add_argument("--jobs", default="1,2", help="--memory: -j values")
    ap.add_argument("--long-line", type=float, default=0, help="--memory: also one line of this many MB")
    ap.add_argument("--compare", metavar="DIR", help="--memory: also run the checkout at DIR")
    ap.add_argument("--mb", type=float, default=33.0, help="input size in MB (default 33: the sources once)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each textmine variant (median reported)")
    ap.add_argument("--naive-repeat", type=int, default=1, help="runs of each slow Python baseline")
    ap.add_argument("--skip-naive", action="store_true", help="skip the slow jieba baselines")
    args = ap.parse_args()
    if args.memory:
        return memory(args)
    path, src_bytes, reps = build_input(args.mb)
    env_note = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"input: {path.name}, {path.stat().st_size / 1e6:.1f} MB "
          f"(sources {src_bytes / 1e6:.1f} MB, repeated x{reps} and cut)  machine: {env_note}")
    subprocess.run(textmine_cmd(path, OUT / "warm.tsv", 1, "--top", "1"), check=True)  # fill the numba cache

    print("\n1. word counts (jieba tokens, HMM on)")
    res = {}
    outs = {}
    if not args.skip_naive:
        outs["naive"] = OUT / "words_naive.tsv"
        res["naive"] = measure("naive loop, one global dict", [sys.executable, "-c", NAIVE_WORDS, str(path), str(outs["naive"])],
                               outs["naive"], args.naive_repeat)
        outs["batched"] = OUT / "words_batched.tsv"
        res["batched"] = measure("batched single process (7031)", [sys.executable, "-c", BATCHED_WORDS, str(path),
                                                                    str(outs["batched"])], outs["batched"], args.naive_repeat)
    for j in (1, 2):
        outs[f"j{j}"] = OUT / f"words_j{j}.tsv"
        res[f"j{j}"] = measure(f"textmine count -j {j}", textmine_cmd(path, outs[f"j{j}"], j), outs[f"j{j}"], args.repeat)
    same = len({outs[k].read_bytes() for k in outs}) == 1
    print(f"  identical counts across all variants: {same}")
    if not args.skip_naive:
        for j in (1, 2):
            print(f"  speed-up -j {j}: {res['naive'][0] / res[f'j{j}'][0]:.1f}x vs naive, "
                  f"{res['batched'][0] / res[f'j{j}'][0]:.1f}x vs batched")

    print("\n2. character 1-4-grams")
    outs2 = {"counter": OUT / "ngram_counter.tsv"}
    res2 = {"counter": measure("collections.Counter", [sys.executable, "-c", COUNTER_NGRAMS, str(path),
                                                      str(outs2["counter"])], outs2["counter"], args.naive_repeat)}
    for j in (1, 2):
        outs2[f"j{j}"] = OUT / f"ngram_j{j}.tsv"
        res2[f"j{j}"] = measure(f"textmine count -t ngram -n 4 -j {j}",
                                textmine_cmd(path, outs2[f"j{j}"], j, "-t", "ngram", "-n", "4"), outs2[f"j{j}"], args.repeat)
    same2 = len({outs2[k].read_bytes() for k in outs2}) == 1
    print(f"  identical counts: {same2}")
    for j in (1, 2):
        print(f"  speed-up -j {j}: {res2['counter'][0] / res2[f'j{j}'][0]:.1f}x vs Counter "
              f"({res2['counter'][0] / res2[f'j{j}'][0] / j:.1f}x per core)")
    if not (same and same2):
        sys.exit("outputs differ")


if __name__ == "__main__":
    main()
