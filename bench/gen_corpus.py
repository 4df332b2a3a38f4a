#!/usr/bin/env python3
"""Generate test corpora of a given size, deterministically (for memory and speed benchmarks).

Modes:

* ``repeat``: ``../shared/data/raw/*.txt`` concatenated, repeated and cut to N MB (at a line end).
  The distinct keys stay fixed as the size grows (the counts grow).
* ``markov``: text sampled from a character bigram model of the same sources (seeded), so the
  distinct n-grams keep growing with the size, as in a real corpus.

Every file is valid UTF-8, ends with a line break, holds at most MB·10**6 bytes (less by at most a
line), and is the same bytes for the same arguments (``--seed`` only matters for ``markov``).
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


def _repeat(data, target, f, whole_lines=True):
    """``data`` again and again up to ``target`` bytes; the last piece ends at a line end (or, if
    not ``whole_lines``, before a character; a target within the first line: whole characters and
    a line end)."""
    written = 0
    while written < target:
        chunk = data[:target - written]
        if written + len(chunk) >= target:  # the last piece
            cut = chunk.rfind(b"\n") + 1 if whole_lines else 0
            if not cut and not (whole_lines and written):  # whole characters (and a line end)
                cut = len(chunk) - whole_lines
                while 0 < cut < len(data) and 0x80 <= data[cut] < 0xC0:  # data[cut] continues a character
                    cut -= 1
                chunk = chunk[:cut] + b"\n" * whole_lines
            else:
                chunk = chunk[:cut]
            f.write(chunk)
            return written + len(chunk)
        f.write(chunk)
        written += len(chunk)
    return written


def _markov(target, f, seed):
    """Characters sampled from the bigram model of the sources (seeded), in blocks of 65,536; lines
    end where the model samples a line break. Every block is whole characters; the last one is cut
    at its last line break within the target (or, with none, at a character boundary and given a
    line break), so the file is valid UTF-8, ends with a line break and is at most ``target`` bytes."""
    text = source_text(8 << 20).decode("utf-8")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.fromiter((index[c] for c in text), np.int64, len(text))
    # successors of each character, in order: sample one uniformly = sample from the bigram model
    order = np.argsort(ids[:-1], kind="stable")
    succ = ids[1:][order].tolist()
    starts = np.searchsorted(ids[:-1][order], np.arange(len(chars) + 1)).tolist()
    rng = np.random.default_rng(seed)
    nl = index.get("\n")
    last = len(ids) - 1
    id_list = ids.tolist()
    cur = id_list[0]
    written = 0
    while written < target:
        out = [0] * (1 << 16)
        for i, u in enumerate(rng.random(len(out)).tolist()):
            a, b = starts[cur], starts[cur + 1]
            if b == a:  # no successor (the last character): restart anywhere
                cur = id_list[int(u * last)]
            else:
                cur = succ[a + int(u * (b - a))]
            out[i] = cur
        s = "".join([chars[k] for k in out])
        if nl is None:
            s = s.replace("。", "。\n")
        blob = s.encode("utf-8")
        room = target - written
        if len(blob) >= room:  # the last block
            cut = blob.rfind(b"\n", 0, room) + 1
            if not cut:  # no line break within the target: whole characters, then one
                cut = room - 1
                while cut > 0 and 0x80 <= blob[cut] < 0xC0:  # blob[cut] would start the next character
                    cut -= 1
                blob = blob[:cut] + b"\n"
            else:
                blob = blob[:cut]
            f.write(blob)
            written += len(blob)
            break
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
            n = _repeat(data, target - 1, f, whole_lines=False)
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
