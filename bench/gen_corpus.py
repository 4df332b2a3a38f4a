#!/usr/bin/env python3
"""Generate test corpora of a given size, deterministically (for memory and speed benchmarks).

Modes:

* ``repeat``: ``../shared/data/raw/*.txt`` concatenated, repeated and cut to N MB (at a line end).
  The distinct keys stay fixed as the size grows (the counts grow).
* ``markov``: text sampled from a character bigram model of the same sources (seeded), so the
  distinct n-grams keep growing with the size, as in a real corpus.
* ``oneline``: like ``repeat`` with every line end removed: one line of N MB.

Usage: python bench/gen_corpus.py MODE MB OUT [--seed 1]
As a module: ``generate(mode, mb, path, seed=1)``; ``source_text()`` gives the sources.
"""
import argparse
import os
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("TEXTMINE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def source_text(max_bytes=None):
    """The raw sources as bytes, each ending with one line end (``max_bytes``: cut there)."""
    srcs = sorted((SHARED / "raw").glob("*.txt"))
    if not srcs:
        sys.exit(f"benchmark data missing: {SHARED / 'raw'}")
    data = b"".join(s.read_bytes().rstrip(b"\n") + b"\n" for s in srcs)
    if max_bytes is not None and len(data) > max_bytes:
        data = data[:data.rfind(b"\n", 0, max_bytes) + 1]
    return data


def _repeat(data, target, f):
    written = 0
    while written < target:
        chunk = data[:target - written]
        if written + len(chunk) >= target:  # the last piece: cut at a line end
            cut = chunk.rfind(b"\n") + 1
            if not cut:  # no line end: cut before a UTF-8 lead byte
                cut = len(chunk)
                while cut and cut < len(data) and 0x80 <= data[cut] < 0xC0:
                    cut -= 1
            chunk = chunk[:cut]
            f.write(chunk)
            return written + len(chunk)
        f.write(chunk)
        written += len(chunk)
    return written


def _markov(target, f, seed):
    """Characters sampled from the bigram model of the sources; a line every ~200 characters."""
    text = source_text(8 << 20).decode("utf-8")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.fromiter((index[c] for c in text), np.int64, len(text))
    # successors of each character, in order: sample one uniformly = sample from the bigram model
    order = np.argsort(ids[:-1], kind="stable")
    succ = ids[1:][order]
    starts = np.searchsorted(ids[:-1][order], np.arange(len(chars) + 1))
    rng = np.random.default_rng(seed)
    table = np.array(chars)
    nl = index.get("\n")
    cur = ids[0]
    written = 0
    while written < target:
        out = np.empty(1 << 16, np.int64)
        u = rng.random(out.shape[0])
        for i in range(out.shape[0]):
            a, b = starts[cur], starts[cur + 1]
            if b == a:  # no successor (the last character): restart anywhere
                cur = ids[int(u[i] * (len(ids) - 1))]
            else:
                cur = succ[a + int(u[i] * (b - a))]
            out[i] = cur
        s = "".join(table[out].tolist())
        if nl is None:
            s = s.replace("。", "。\n")
        blob = s.encode("utf-8")
        blob = blob[:max(0, target - written)]
        cut = blob.rfind(b"\n") + 1
        if written + len(blob) >= target and cut:
            blob = blob[:cut]
        elif written + len(blob) >= target:
            blob += b"\n"
        f.write(blob)
        written += len(blob)
    return written


def generate(mode, mb, path, seed=1):
    """Write a corpus of about ``mb`` megabytes (10**6 bytes) to ``path``; returns its size."""
    target = int(mb * 1e6)
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        if mode == "repeat":
            n = _repeat(source_text(), target, f)
        elif mode == "oneline":
            data = source_text().replace(b"\n", b"")
            n = _repeat(data, target - 1, f)
            f.write(b"\n")
            n += 1
        elif mode == "markov":
            n = _markov(target, f, seed)
        else:
            raise ValueError(f"unknown mode {mode!r}")
    os.replace(tmp, path)
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["repeat", "markov", "oneline"])
    ap.add_argument("mb", type=float)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    n = generate(a.mode, a.mb, a.out, a.seed)
    print(f"{a.out}: {n / 1e6:.1f} MB ({a.mode})", file=sys.stderr)


if __name__ == "__main__":
    main()
