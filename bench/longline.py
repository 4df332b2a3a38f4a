#!/usr/bin/env python3
"""Peak memory of ``textmine count`` on one very long line, by the way it arrives.

A single line of N MB (``gen_corpus.py oneline``: ../shared/data/raw without its line ends) is
counted (``count -t ngram --n 4 -j J -q``) as it comes on standard input (``- < file``), as a
UTF-16 file (``--encoding utf-16``, with BOM) and as a ``.gz`` file, at each ``--memory-limit``.
Peak RSS is the process tree's (``bench/peakrss.py``: the larger of the largest summed RSS at one
poll and the sum of each process's own peak). Every tree given with ``--trees`` (a checkout whose
``textmine`` is put first on ``PYTHONPATH``) is run on the same inputs, and the outputs of every
run of one size are checked byte-identical (by SHA-256).

Usage: python bench/longline.py --sizes 50,200 --limits default,64M --trees /work/main,. [--jobs 1]
"""
import argparse
import gzip
import hashlib
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_corpus  # noqa: E402
import peakrss  # noqa: E402


def inputs(mb, work):
    line = os.path.join(work, f"line{mb}.txt")
    gen_corpus.generate("oneline", mb, line)
    u16 = line + ".u16"
    with open(line, "rb") as f, open(u16, "wb") as g:
        g.write(f.read().decode("utf-8").encode("utf-16"))
    gz = line + ".gz"
    with open(line, "rb") as f, gzip.open(gz, "wb", compresslevel=1) as g:
        shutil.copyfileobj(f, g, 1 << 20)
    return {"stdin": (line, ["-"], True), "UTF-16 file": (u16, [u16, "--encoding", "utf-16"], False),
            ".gz": (gz, [gz], False)}


def run(tree, args, stdin_path, limit, jobs, out):
    limit_args = [] if limit == "default" else ["--memory-limit", limit]
    cmd = [sys.executable, "-m", "textmine", "count", "-t", "ngram", "--n", "4", "-j", str(jobs), "-q", "-o", out,
           *limit_args, *args]
    if stdin_path:
        cmd = ["sh", "-c", 'exec "$@" < "$0"', stdin_path, *cmd]
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    r = peakrss.measure(cmd, env=env, cwd=tempfile.gettempdir())
    if r["status"] != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r['stderr']}")
    with open(out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return max(r["peak_sum"], r["hwm_sum"]) / 2 ** 20, r["seconds"], digest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="50")
    ap.add_argument("--limits", default="default,64M")
    ap.add_argument("--trees", default=".")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--skip", default="", help="TREE:MB pairs not to run (e.g. a tree that would need GBs)")
    a = ap.parse_args()
    trees = a.trees.split(",")
    skip = set(a.skip.split(",")) if a.skip else set()
    work = tempfile.mkdtemp(prefix="longline-")
    print("| line | input | --memory-limit | " + " | ".join(f"{t}: peak (MiB), wall (s)" for t in trees) + " |")
    print("|---|---|---|" + "---|" * len(trees))
    try:
        for mb in map(int, a.sizes.split(",")):
            digests = set()
            for kind, (path, args, stdin) in inputs(mb, work).items():
                for limit in a.limits.split(","):
                    cells = []
                    for tree in trees:
                        if f"{tree}:{mb}" in skip:
                            cells.append("not run")
                            continue
                        peak, secs, digest = run(tree, args, path if stdin else None, limit, a.jobs,
                                                 os.path.join(work, "out.tsv"))
                        digests.add(digest)
                        cells.append(f"{peak:.0f}, {secs:.1f}")
                    print(f"| {mb} MB | {kind} | {limit} | " + " | ".join(cells) + " |", flush=True)
            assert len(digests) == 1, f"{mb} MB: outputs differ"
            for name in os.listdir(work):
                os.remove(os.path.join(work, name))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
