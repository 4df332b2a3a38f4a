#!/usr/bin/env python3
"""Benchmark corpus formats: JSON Lines against plain text, in one run.

1. identity: People's Daily 1998-01 (``cws/199801_raw.utf8``) as plain text, as JSON Lines
   (``{"id": n, "text": line}``, UTF-8 unescaped) and as gzipped JSON Lines must give
   byte-identical output for ``count`` (jieba), ``count -t ngram --n 4`` and ``discover-words``,
   with -j 1 and -j 2 (sha256 of stdout compared; the run fails on any difference).
2. overhead: the corpus repeated to about --mb megabytes of text, in the three forms: wall time of
   reading alone (every shard through ``iter_batches``, one process) and of ``count -t char -j 2``,
   median of --repeat runs, the three forms interleaved; ratios against plain text.

Usage: python bench/formats.py [--mb 100] [--repeat 3] [--skip-identity] [--skip-overhead]
Files are written to a temporary directory and removed at the end (never committed).
"""
import argparse
import gzip
import hashlib
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("TEXTMINE_SHARED_DATA", ROOT.parent / "shared" / "data"))
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))

READ_ONLY = r'''
import sys
from textmine.corpus import ReadOptions, iter_batches, make_shards
opts = ReadOptions(input_format=None)
n = chars = 0
for shard in make_shards([sys.argv[1]], 8 << 20, opts):
    for batch in iter_batches(shard, opts, 1 << 20):
        n += len(batch)
        chars += sum(map(len, batch))
print(n, chars)
'''


def lines_of(path):
    data = path.read_text(encoding="utf-8")
    lines = data.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [x[:-1] if x.endswith("\r") else x for x in lines]


def write_forms(lines, directory, stem, repeat=1):
    txt, jl, gz = (directory / f"{stem}.txt", directory / f"{stem}.jsonl", directory / f"{stem}.jsonl.gz")
    with open(txt, "w", encoding="utf-8", newline="\n") as t, open(jl, "w", encoding="utf-8", newline="\n") as j:
        n = 0
        for _ in range(repeat):
            t.write("".join(x + "\n" for x in lines))
            recs = []
            for x in lines:
                recs.append(json.dumps({"id": n, "text": x}, ensure_ascii=False) + "\n")
                n += 1
            j.write("".join(recs))
    with open(jl, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return {"plain": txt, "jsonl": jl, "jsonl.gz": gz}


def run(args, out=None):
    t = time.perf_counter()
    p = subprocess.run([sys.executable, *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, args))}\n{p.stderr.decode()[-2000:]}")
    return seconds, p.stdout


def identity(directory):
    raw = SHARED / "cws" / "199801_raw.utf8"
    if not raw.exists():
        print(f"skip identity: {raw} not found")
        return True
    forms = write_forms(lines_of(raw), directory, "p199801")
    forms["plain"] = raw  # the original file itself
    commands = {"count (jieba)": ["count", "-q"], "count -t ngram --n 4": ["count", "-q", "-t", "ngram", "--n", "4"],
                "discover-words": ["discover-words", "-q"]}
    ok = True
    print(f"## identity: 199801 ({raw.stat().st_size / 1e6:.1f} MB plain, "
          f"{forms['jsonl'].stat().st_size / 1e6:.1f} MB JSONL, {forms['jsonl.gz'].stat().st_size / 1e6:.1f} MB gz)")
    print("| command | -j | plain sha256 | jsonl | jsonl.gz | keys |")
    print("|---|---|---|---|---|---|")
    for name, cmd in commands.items():
        for jobs in ("1", "2"):
            digests = {}
            for form, path in forms.items():
                _, out = run(["-m", "textmine", *cmd, "-j", jobs, str(path)])
                digests[form] = hashlib.sha256(out).hexdigest()
                keys = out.count(b"\n")
            same = len(set(digests.values())) == 1
            ok &= same
            marks = ["identical" if digests[f] == digests["plain"] else "DIFFERENT" for f in ("jsonl", "jsonl.gz")]
            print(f"| {name} | {jobs} | {digests['plain'][:12]} | {marks[0]} | {marks[1]} | {keys} |")
    return ok


def overhead(directory, mb, repeat):
    raw = SHARED / "cws" / "199801_raw.utf8"
    lines = lines_of(raw)
    size = sum(len(x.encode()) + 1 for x in lines)
    reps = max(1, round(mb * 1e6 / size))
    forms = write_forms(lines, directory, "big", reps)
    sizes = {f: p.stat().st_size / 1e6 for f, p in forms.items()}
    print(f"\n## overhead: 199801 x {reps} = {sizes['plain']:.1f} MB plain text, {sizes['jsonl']:.1f} MB JSONL, "
          f"{sizes['jsonl.gz']:.1f} MB JSONL gz; median of {repeat}, forms interleaved")
    tasks = {"read only (iter_batches, 1 process)": lambda p: ["-c", READ_ONLY, str(p)],
             "count -t char -j 2": lambda p: ["-m", "textmine", "count", "-q", "-t", "char", "-j", "2", str(p)]}
    print("| task | plain s | jsonl s | jsonl.gz s | jsonl / plain | jsonl.gz / plain |")
    print("|---|---|---|---|---|---|")
    for name, make in tasks.items():
        times = {f: [] for f in forms}
        outs = {}
        for _ in range(repeat):
            for form, path in forms.items():
                seconds, out = run(make(path))
                times[form].append(seconds)
                outs[form] = hashlib.sha256(out).hexdigest()
        if len(set(outs.values())) != 1:
            sys.exit(f"{name}: outputs differ between forms: {outs}")
        med = {f: statistics.median(t) for f, t in times.items()}
        print(f"| {name} | {med['plain']:.2f} | {med['jsonl']:.2f} | {med['jsonl.gz']:.2f} | "
              f"{med['jsonl'] / med['plain']:.2f} | {med['jsonl.gz'] / med['plain']:.2f} |")
        print("  all runs: " + "; ".join(f"{f} " + ", ".join(f"{x:.2f}" for x in t) for f, t in times.items()),
              file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-identity", action="store_true")
    ap.add_argument("--skip-overhead", action="store_true")
    a = ap.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    directory = pathlib.Path(tempfile.mkdtemp(prefix="textmine-bench-formats-"))
    try:
        ok = True if a.skip_identity else identity(directory)
        if not a.skip_overhead:
            overhead(directory, a.mb, a.repeat)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if not ok:
        sys.exit("identity: outputs differ")


if __name__ == "__main__":
    main()
