"""Slow, obviously correct twins of the counting kernels and tokenizers."""
from collections import Counter


def char_tokens(line):
    return [ch for ch in line if not ch.isspace()]


def space_tokens(line):
    return line.split()


def word_runs(line):
    """Maximal runs of letters and digits (str.isalnum)."""
    runs, cur = [], []
    for ch in line:
        if ch.isalnum():
            cur.append(ch)
        elif cur:
            runs.append("".join(cur))
            cur = []
    if cur:
        runs.append("".join(cur))
    return runs


def count_naive(lines, tokenizer, min_n=1, max_n=1, jieba_cut=None):
    c = Counter()
    for line in lines:
        if tokenizer == "ngram":
            for run in word_runs(line):
                for n in range(min_n, max_n + 1):
                    for i in range(len(run) - n + 1):
                        c[run[i:i + n]] += 1
            continue
        if tokenizer == "char":
            toks = char_tokens(line)
        elif tokenizer == "space":
            toks = space_tokens(line)
        else:
            toks = [t for t in jieba_cut(line) if not t.isspace()]
        for n in range(min_n, max_n + 1):
            for i in range(len(toks) - n + 1):
                c[" ".join(toks[i:i + n])] += 1
    return c


def sorted_items(counter, min_count=1, top=None):
    items = sorted(((t, n) for t, n in counter.items() if n >= min_count), key=lambda x: (-x[1], x[0]))
    return items[:top] if top is not None else items


def as_tsv(items):
    return "".join(f"{t}\t{n}\n" for t, n in items)


def packable(s):
    """Whether a string goes to the packed path: 1..4 code points, each in 1..0xFFFF."""
    return 1 <= len(s) <= 4 and all(0 < ord(ch) < 0x10000 for ch in s)


def unpack(key):
    """The string of a packed key (16-bit slots, first code point in the top slot)."""
    key = int(key)
    return "".join(chr((key >> (48 - 16 * j)) & 0xFFFF) for j in range(4) if (key >> (48 - 16 * j)) & 0xFFFF)


def run_lengths_naive(sorted_keys):
    c = Counter(int(k) for k in sorted_keys)
    ks = sorted(c)
    return ks, [c[k] for k in ks]


def merge_counts_naive(k1, c1, k2, c2):
    d = Counter()
    for k, c in list(zip(k1, c1)) + list(zip(k2, c2)):
        d[int(k)] += int(c)
    ks = sorted(d)
    return ks, [d[k] for k in ks]


def count_sort_naive(keys, counts):
    """Stable sort by count descending."""
    pairs = sorted(zip((int(k) for k in keys), (int(c) for c in counts)), key=lambda p: -p[1])
    return [k for k, _ in pairs], [c for _, c in pairs]
