"""Slow, obviously-correct twins of textmine.discover (plain Python: str, tuple, Counter)."""
import math
from collections import Counter


def naive_class(text, i):
    """Character class of text[i]: 1 Han, 2 Latin letter/digit (number marks included), 3 space, 0 other."""
    c = ord(text[i])
    if 0x4E00 <= c <= 0x9FFF or 0x3400 <= c <= 0x4DBF or 0xF900 <= c <= 0xFAFF or 0x20000 <= c <= 0x2FA1F \
            or c in (0x3007, 0x25CB):
        return 1
    if naive_alnum(c):
        return 2
    if c in (32, 9, 10, 13, 0x3000, 0xA0) or 0x2000 <= c <= 0x200B:
        return 3
    if i > 0 and naive_digit(ord(text[i - 1])):
        if c in (0x2E, 0xFF0E) and i + 1 < len(text) and naive_digit(ord(text[i + 1])):
            return 2
        if c in (0x25, 0xFF05):
            return 2
    return 0


def naive_digit(c):
    return 48 <= c <= 57 or 0xFF10 <= c <= 0xFF19


def naive_alnum(c):
    return (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or 0xFF10 <= c <= 0xFF19
            or 0xFF21 <= c <= 0xFF3A or 0xFF41 <= c <= 0xFF5A)


def naive_fold(s):
    out = []
    for ch in s:
        c = ord(ch)
        if 0xFF10 <= c <= 0xFF19 or 0xFF21 <= c <= 0xFF3A or 0xFF41 <= c <= 0xFF5A or c in (0xFF05, 0xFF0E):
            ch = chr(c - 0xFEE0)
        out.append(ch)
    return "".join(out)


def naive_segments(line):
    """Split a line into segments (lists of unit strings, width-folded) at every other character."""
    segs, cur, i = [], [], 0
    cls = [naive_class(line, k) for k in range(len(line))]
    while i < len(line):
        if cls[i] == 1:
            cur.append(line[i])
            i += 1
        elif cls[i] == 2:
            j = i
            while j < len(line) and cls[j] == 2:
                j += 1
            cur.append(naive_fold(line[i:j]))
            i = j
        else:
            if cur:
                segs.append(cur)
            cur = []
            i += 1
    if cur:
        segs.append(cur)
    return segs


def naive_token_segments(line):
    """``--units tokens``: split a line at whitespace; a token with no letter, digit or Han
    character (punctuation, symbols) splits it like a line end; tokens are kept as written."""
    segs, cur = [], []
    for tok in line.split():
        if any(ch.isalnum() for ch in tok):
            cur.append(tok)
        else:
            if cur:
                segs.append(cur)
            cur = []
    if cur:
        segs.append(cur)
    return segs


def naive_ngrams(segments, n):
    c = Counter()
    for seg in segments:
        for i in range(len(seg) - n + 1):
            c[tuple(seg[i:i + n])] += 1
    return c


def naive_discover(lines, min_count, max_n, thresholds, redundancy, units="chars", joiner=" "):
    """The whole pipeline on unit strings. ``thresholds``: {n: t}; ``redundancy``: None or (a, b);
    ``units``: ``chars`` (:func:`naive_segments`) or ``tokens`` (:func:`naive_token_segments`,
    phrases written with ``joiner``, ties ordered by the tokens joined with one space).

    Returns ``(words, counts)`` sorted by count descending, then code point.
    """
    segmenter, sep, out = (naive_token_segments, " ", joiner) if units == "tokens" else (naive_segments, "", "")
    segments = [s for line in lines for s in segmenter(line)]
    units = Counter(u for s in segments for u in s)
    total = sum(units.values())
    # rare units split the text like punctuation
    split = []
    for s in segments:
        cur = []
        for u in s:
            if units[u] >= min_count:
                cur.append(u)
            else:
                if cur:
                    split.append(cur)
                cur = []
        if cur:
            split.append(cur)
    grams = {n: {g: c for g, c in naive_ngrams(split, n).items() if c >= min_count} for n in range(1, max_n + 1)}
    good = {}
    for n in range(2, max_n + 1):
        good[n] = set()
        for g, c in grams[n].items():
            coh = min(math.log(total) + math.log(c) - math.log(grams[j][g[:j]]) - math.log(grams[n - j][g[j:]])
                      for j in range(1, n))
            if coh >= thresholds[n]:
                good[n].add(g)
    pieces = Counter()
    for s in split:
        join = [False] * len(s)
        for n in range(2, max_n + 1):
            for i in range(len(s) - n + 1):
                if tuple(s[i:i + n]) in good[n]:
                    for j in range(n - 1):
                        join[i + j] = True
        cur = [s[0]]
        for i in range(1, len(s)):
            if join[i - 1]:
                cur.append(s[i])
            else:
                pieces[tuple(cur)] += 1
                cur = [s[i]]
        pieces[tuple(cur)] += 1
    cands = {}
    for p, c in pieces.items():
        if c < min_count:
            continue
        if 3 <= len(p) <= max_n and p not in good[len(p)]:
            continue
        if len(p) > max_n and any(tuple(p[i:i + max_n]) not in good[max_n] for i in range(len(p) - max_n + 1)):
            continue
        cands[p] = c
    for u, c in units.items():
        if c >= min_count and (u,) not in cands:
            cands[(u,)] = 1
    if redundancy is not None:
        total_c = float(sum(cands.values()))
        for w in sorted([w for w in cands if len(w) > 1], key=lambda w: (-len(w), -cands[w], sep.join(w))):
            c = cands.pop(w)
            total_c -= c
            lp, parts = naive_best_split(w, cands, total_c)
            if math.log(c) - math.log(total_c) - lp < redundancy[0] * (len(w) - 1) + redundancy[1]:
                for p in parts:
                    cands[p] = cands.get(p, 0) + c
                    total_c += c
            else:
                cands[w] = c
                total_c += c
    items = sorted(cands.items(), key=lambda kv: (-kv[1], sep.join(kv[0])))
    return [out.join(w) for w, _ in items], [c for _, c in items]


def naive_best_split(w, cands, total):
    """Best split of tuple ``w`` into >= 2 words by unigram DP (first found wins ties); a unit that is
    not a candidate counts 1."""
    n = len(w)
    best = [-math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    lt = math.log(total)
    for i in range(1, n + 1):
        for j in range(i):
            if j == 0 and i == n:
                continue
            c = cands.get(w[j:i])
            if c is None:
                if i - j != 1:
                    continue
                c = 1
            v = best[j] + math.log(c) - lt
            if v > best[i]:
                best[i], back[i] = v, j
    parts, i = [], n
    while i > 0:
        parts.append(w[back[i]:i])
        i = back[i]
    return best[n], parts[::-1]


def naive_pack(ids, n, bits):
    """Packed keys of every n-gram of an id list that contains no 0."""
    out = []
    for i in range(len(ids) - n + 1):
        g = ids[i:i + n]
        if 0 in g:
            continue
        k = 0
        for v in g:
            k = (k << bits) | int(v)
        out.append(k)
    return out


def naive_join(ids, max_n, bits, good):
    """join[i] of the cutting step, with ``good`` = {n: set of packed keys}."""
    join = [False] * len(ids)
    for n in range(2, max_n + 1):
        for i in range(len(ids) - n + 1):
            g = ids[i:i + n]
            if 0 in g:
                continue
            k = 0
            for v in g:
                k = (k << bits) | int(v)
            if k in good.get(n, ()):
                for j in range(n - 1):
                    join[i + j] = True
    return join


def naive_pieces(ids, join):
    """Counter of the pieces (tuples of ids) of a cut id list."""
    c = Counter()
    cur = []
    for i, v in enumerate(ids):
        if v == 0:
            if cur:
                c[tuple(cur)] += 1
            cur = []
            continue
        cur.append(int(v))
        if not join[i] or i + 1 == len(ids) or ids[i + 1] == 0:
            c[tuple(cur)] += 1
            cur = []
    return c


def naive_keys_to_ids(keys, han_to_id, run_to_id, run_base):
    """Twin of discover._keys_to_ids."""
    return [0 if k < 0 else run_to_id[k - run_base] if k >= run_base else han_to_id[k] for k in keys]
