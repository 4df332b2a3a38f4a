"""Saved counts: exact key counts on disk, for merging and for reuse (``count --save``, ``merge``,
``discover-words --counts``).

Format ``textmine-counts`` version 1: a directory of four files.

* ``keys.bin``: every key as UTF-8 bytes, concatenated, no separator, in strictly increasing byte
  order (for UTF-8, byte order is code-point order, the order of ``LC_ALL=C sort``);
* ``offsets.npy``: ``int64[n + 1]``, key ``i`` is ``keys.bin[offsets[i]:offsets[i + 1]]``,
  ``offsets[0] == 0``;
* ``counts.npy``: ``int64[n]``, the exact count of key ``i``;
* ``meta.json``: ``format``, ``version``, ``textmine`` (the version that wrote it), what was
  counted (``tokenizer``, ``min_n``, ``max_n``, ``min_count``, ``doc_per_file``), totals
  (``keys``, ``total_count``, ``lines``, ``chars``, ``input_bytes``, ``inputs``) and, for each of
  the three array files, its ``bytes`` and ``sha256``.

Why this format: the keys are sorted, so two count sets merge by one linear pass (no hash table,
memory and time linear in their sizes); ``.npy`` and raw UTF-8 open in any language (numpy,
``numpy.load``-compatible readers in Julia/R/Rust, or ``mmap``) without a dependency such as
pyarrow, and memory-map straight into arrays; the checksums catch a truncated or altered file
before any count is used, and the version lets the format evolve.
"""
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np

from textmine._numba import njit
from textmine.errors import TextmineError

FORMAT = "textmine-counts"
VERSION = 1
_ARRAYS = ("keys.bin", "offsets.npy", "counts.npy")
_SETTINGS = ("tokenizer", "min_n", "max_n", "doc_per_file")


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Counts:
    """Exact counts of string keys: ``data`` (uint8, UTF-8 of the keys concatenated), ``offsets``
    (int64, n + 1), ``counts`` (int64, n), keys in strictly increasing byte order; ``meta``: what
    was counted (see the module doc)."""

    def __init__(self, data, offsets, counts, meta):
        self.data, self.offsets, self.counts, self.meta = data, offsets, counts, meta

    def __len__(self):
        return int(self.counts.shape[0])

    def key(self, i):
        return bytes(self.data[self.offsets[i]:self.offsets[i + 1]]).decode("utf-8", "surrogatepass")

    def items(self):
        """``(key, count)`` pairs in key order."""
        raw = bytes(self.data)
        off = self.offsets.tolist()
        for i, c in enumerate(self.counts.tolist()):
            yield raw[off[i]:off[i + 1]].decode("utf-8", "surrogatepass"), c

    @classmethod
    def from_items(cls, items, meta):
        """From ``(key str, count)`` pairs with distinct keys, in any order."""
        pairs = sorted((k.encode("utf-8", "surrogatepass"), int(c)) for k, c in items)
        return cls.from_sorted_bytes([k for k, _ in pairs], [c for _, c in pairs], meta)

    @classmethod
    def from_sorted_bytes(cls, keys, counts, meta):
        lens = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        data = np.frombuffer(b"".join(keys), dtype=np.uint8)
        return cls(data, offsets, np.asarray(counts, dtype=np.int64), dict(meta))

    def save(self, path):
        """Write the count directory ``path`` (replaced as a whole: written next to it, then renamed)."""
        path = os.path.abspath(path)
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            raise TextmineError(f"{path}: directory {parent} does not exist")
        if os.path.exists(path) and not os.path.isfile(os.path.join(path, "meta.json")):
            raise TextmineError(f"{path}: exists and is not a count directory; choose a new name")
        tmp = tempfile.mkdtemp(prefix=".counts-", dir=parent)
        try:
            with open(os.path.join(tmp, "keys.bin"), "wb") as f:
                f.write(memoryview(np.ascontiguousarray(self.data)))
            np.save(os.path.join(tmp, "offsets.npy"), np.ascontiguousarray(self.offsets, dtype=np.int64))
            np.save(os.path.join(tmp, "counts.npy"), np.ascontiguousarray(self.counts, dtype=np.int64))
            from textmine import __version__

            meta = dict(self.meta, format=FORMAT, version=VERSION, textmine=__version__, keys=len(self),
                        total_count=int(self.counts.sum()))
            meta["files"] = {name: {"bytes": os.path.getsize(os.path.join(tmp, name)),
                                    "sha256": _sha256(os.path.join(tmp, name))} for name in _ARRAYS}
            with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as f:
                json.dump(meta, f, ensure_ascii=False, indent=1, sort_keys=True)
                f.write("\n")
            if os.path.exists(path):
                old = tempfile.mkdtemp(prefix=".counts-old-", dir=parent)
                os.replace(path, os.path.join(old, "c"))
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.meta = meta


def load(path, verify=True):
    """Read a count directory; any damage is a :class:`TextmineError` naming ``path`` and what is wrong.

    ``verify``: check the sha256 of every array file (reads them once more).
    """
    def bad(what):
        return TextmineError(f"{path}: not a valid textmine count directory: {what}")

    mpath = os.path.join(path, "meta.json")
    if not os.path.isdir(path):
        raise TextmineError(f"{path}: no such count directory (write one with textmine count --save)")
    try:
        with open(mpath, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise bad("meta.json is missing") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise bad(f"meta.json does not parse ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise bad(f"meta.json has format {meta.get('format') if isinstance(meta, dict) else None!r}, "
                  f"not {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise TextmineError(f"{path}: count format version {meta.get('version')!r}; this textmine reads "
                            f"version {VERSION} (recount, or use the textmine that wrote it)")
    files = meta.get("files")
    if not isinstance(files, dict):
        raise bad("meta.json lists no files")
    for name in _ARRAYS:
        p = os.path.join(path, name)
        info = files.get(name) or {}
        if not os.path.isfile(p):
            raise bad(f"{name} is missing")
        size = os.path.getsize(p)
        if size != info.get("bytes"):
            raise bad(f"{name} has {size} bytes, meta.json says {info.get('bytes')} (truncated or replaced?)")
        if verify and _sha256(p) != info.get("sha256"):
            raise bad(f"{name} does not match its sha256 in meta.json (corrupted or replaced?)")
    try:
        data = np.fromfile(os.path.join(path, "keys.bin"), dtype=np.uint8)
        offsets = np.load(os.path.join(path, "offsets.npy"), allow_pickle=False)
        counts = np.load(os.path.join(path, "counts.npy"), allow_pickle=False)
    except (ValueError, OSError) as e:
        raise bad(f"an array does not load ({e})") from None
    n = counts.shape[0] if counts.ndim == 1 else -1
    if (counts.dtype != np.int64 or offsets.dtype != np.int64 or offsets.ndim != 1
            or offsets.shape[0] != n + 1 or n != meta.get("keys")):
        raise bad("offsets.npy and counts.npy must be int64 arrays of n + 1 and n items, n = keys in meta.json")
    if offsets[0] != 0 or offsets[-1] != data.shape[0] or np.any(np.diff(offsets) <= 0):
        raise bad("offsets.npy does not cut keys.bin into non-empty keys")
    if n and counts.min() < 1:
        raise bad("counts.npy holds a count below 1")
    if not _strictly_sorted(data, offsets):
        raise bad("keys.bin is not in strictly increasing order")
    return Counts(data, offsets, counts, meta)


@njit
def _compare(a, a0, a1, b, b0, b1):
    """-1, 0 or 1: the byte string ``a[a0:a1]`` against ``b[b0:b1]`` (lexicographic, a prefix first)."""
    la, lb = a1 - a0, b1 - b0
    for i in range(min(la, lb)):
        x, y = a[a0 + i], b[b0 + i]
        if x != y:
            return -1 if x < y else 1
    if la == lb:
        return 0
    return -1 if la < lb else 1


@njit
def _strictly_sorted(data, offsets):
    """Whether the keys of ``(data, offsets)`` are in strictly increasing byte order."""
    for i in range(offsets.shape[0] - 2):
        if _compare(data, offsets[i], offsets[i + 1], data, offsets[i + 1], offsets[i + 2]) >= 0:
            return False
    return True


@njit
def merge_sorted(d1, o1, c1, d2, o2, c2):
    """Linear merge of two sorted runs of byte-string keys with counts; a key in both adds up.

    Parameters
    ----------
    d1, d2 : ndarray of uint8
        Concatenated keys.
    o1, o2 : ndarray of int64, shape (n1 + 1,), (n2 + 1,)
        Key offsets.
    c1, c2 : ndarray of int64, shape (n1,), (n2,)
        Counts.

    Returns
    -------
    data : ndarray of uint8
    offsets : ndarray of int64, shape (m + 1,)
    counts : ndarray of int64, shape (m,)
        The merged run, keys strictly increasing when both inputs were.
    """
    n1, n2 = c1.shape[0], c2.shape[0]
    data = np.empty(d1.shape[0] + d2.shape[0], dtype=np.uint8)
    offsets = np.zeros(n1 + n2 + 1, dtype=np.int64)
    counts = np.empty(n1 + n2, dtype=np.int64)
    i = j = m = 0
    w = 0
    while i < n1 or j < n2:
        if i >= n1:
            cmp = 1
        elif j >= n2:
            cmp = -1
        else:
            cmp = _compare(d1, o1[i], o1[i + 1], d2, o2[j], o2[j + 1])
        if cmp <= 0:
            src, s0, s1 = d1, o1[i], o1[i + 1]
            c = c1[i]
            i += 1
            if cmp == 0:
                c += c2[j]
                j += 1
        else:
            src, s0, s1 = d2, o2[j], o2[j + 1]
            c = c2[j]
            j += 1
        for k in range(s0, s1):
            data[w] = src[k]
            w += 1
        counts[m] = c
        m += 1
        offsets[m] = w
    return data[:w].copy(), offsets[:m + 1].copy(), counts[:m].copy()


def check_mergeable(parts, names):
    """Raise a :class:`TextmineError` unless the count sets count the same things, exactly."""
    first = parts[0].meta
    for p, name in zip(parts, names):
        if p.meta.get("min_count", 1) != 1:
            raise TextmineError(f"{name}: saved with --min-count {p.meta['min_count']}, so the keys counted fewer "
                                "times are missing and a merge would not be exact; count with --min-count 1")
        if p.meta.get("top") is not None:
            raise TextmineError(f"{name}: saved with --top, so keys are missing; a merge would not be exact")
        for k in _SETTINGS:
            if p.meta.get(k) != first.get(k):
                raise TextmineError(f"{name}: counted with {k} {p.meta.get(k)!r}, {names[0]} with "
                                    f"{first.get(k)!r}; only counts of the same kind merge")


def merge(parts, names=None):
    """The exact sum of several :class:`Counts` of the same kind (linear merges, smallest first)."""
    names = names or [f"input {i + 1}" for i in range(len(parts))]
    if not parts:
        raise TextmineError("nothing to merge")
    check_mergeable(parts, names)
    meta = {k: parts[0].meta.get(k) for k in _SETTINGS}
    meta["min_count"] = 1
    for k in ("lines", "chars", "input_bytes"):
        meta[k] = sum(int(p.meta.get(k) or 0) for p in parts)
    meta["inputs"] = [x for p in parts for x in p.meta.get("inputs", [])]
    runs = sorted(((p.data, p.offsets, p.counts) for p in parts), key=lambda r: r[2].shape[0], reverse=True)
    while len(runs) > 1:  # the two smallest first: each key is copied O(log k) times
        a, b = runs.pop(), runs.pop()
        runs.append(merge_sorted(*a, *b))
        runs.sort(key=lambda r: r[2].shape[0], reverse=True)
    return Counts(*runs[0], meta)
