"""Slow, obviously-correct twins of textmine.segment (plain Python dicts and strings)."""
import itertools
import math

from naive_discover import naive_class, naive_fold


def naive_scores(words, counts):
    """{folded word: log-probability}, jieba-style (a zero count counts 1; the best duplicate wins)."""
    counts = [max(float(c), 1.0) for c in counts]
    total = sum(counts)
    out = {}
    for w, c in zip(words, counts):
        f = naive_fold(w)
        out[f] = max(out.get(f, -math.inf), math.log(c) - math.log(total))
    return out, total


def _blocks(text):
    """(start, end, kind) blocks: kind 'word' for Han/Latin/digit runs, 'sym' for a run of one symbol."""
    cls = [naive_class(text, i) for i in range(len(text))]
    i, out = 0, []
    while i < len(text):
        if cls[i] == 3:
            i += 1
        elif cls[i] == 0:
            j = i + 1
            while j < len(text) and text[j] == text[i]:
                j += 1
            out.append((i, j, "sym"))
            i = j
        else:
            j = i
            while j < len(text) and cls[j] in (1, 2):
                j += 1
            out.append((i, j, "word"))
            i = j
    return out, cls


def naive_segment(text, scores, unknown):
    """Tokens of ``text``: forward DP, start positions ascending, ends ascending, strict improvement."""
    blocks, cls = _blocks(text)
    folded = naive_fold(text)
    tokens = []
    for a, b, kind in blocks:
        if kind == "sym":
            tokens.append(text[a:b])
            continue
        best = {a: 0.0}
        back = {}
        for s in range(a, b):
            if s not in best:
                continue
            ue = s + 1
            if cls[s] == 2:
                while ue < b and cls[ue] == 2:
                    ue += 1
            unit_is_word = False
            for e in range(ue, b + 1):
                if e < b and cls[e - 1] == 2 and cls[e] == 2:
                    continue
                lp = scores.get(folded[s:e])
                if lp is None:
                    continue
                if e == ue:
                    unit_is_word = True
                v = best[s] + lp
                if e not in best or v > best[e]:
                    best[e], back[e] = v, s
            if not unit_is_word:
                v = best[s] + unknown
                if ue not in best or v > best[ue]:
                    best[ue], back[ue] = v, s
        out, e = [], b
        while e > a:
            s = back[e]
            out.append(text[s:e])
            e = s
        tokens.extend(out[::-1])
    return tokens


def naive_best_score(text, scores, unknown):
    """Brute force: the best total score over every segmentation of a single word block (short text)."""
    n = len(text)
    folded = naive_fold(text)
    cls = [naive_class(text, i) for i in range(n)]
    best = -math.inf
    for mask in itertools.product([0, 1], repeat=n - 1):
        cuts = [0] + [i + 1 for i, m in enumerate(mask) if m] + [n]
        if any(0 < c < n and cls[c - 1] == 2 and cls[c] == 2 for c in cuts):
            continue
        total = 0.0
        for s, e in zip(cuts, cuts[1:]):
            lp = scores.get(folded[s:e])
            if lp is None:
                unit = (e - s == 1 and cls[s] == 1) or (all(cls[k] == 2 for k in range(s, e)))
                if not unit:
                    total = -math.inf
                    break
                lp = unknown
            total += lp
        best = max(best, total)
    return best


def user_spans(line, forced):
    """Every occurrence of every forced word, taken longest first, then leftmost, skipping overlaps."""
    occ = [(s, s + len(w)) for w in forced for s in range(len(line) - len(w) + 1) if line[s:s + len(w)] == w]
    occ.sort(key=lambda se: (-(se[1] - se[0]), se[0]))
    used, out = set(), []
    for s, e in occ:
        if not used & set(range(s, e)):
            used |= set(range(s, e))
            out.append((s, e))
    return sorted(set(out))


def _segmentations(text, cls):
    """Every cut list ``[0, ..., n]`` of a word block that keeps Latin/digit runs whole."""
    n = len(text)
    for mask in itertools.product([0, 1], repeat=n - 1):
        cuts = [0] + [i + 1 for i, m in enumerate(mask) if m] + [n]
        if not any(0 < c < n and cls[c - 1] == 2 and cls[c] == 2 for c in cuts):
            yield cuts


def _seg_score(text, folded, cls, cuts, scores, unknown):
    total = 0.0
    for s, e in zip(cuts, cuts[1:]):
        lp = scores.get(folded[s:e])
        if lp is None:
            if not ((e - s == 1 and cls[s] == 1) or all(cls[k] == 2 for k in range(s, e))):
                return None
            lp = unknown
        total += lp
    return total


def naive_marginals(text, scores, unknown, theta=1.0, max_len=None):
    """Brute force: P(boundary after each character) = the weight of the segmentations with a cut
    there over the weight of all, every segmentation of every word block enumerated (short blocks).
    ``max_len``: words longer than this are not in the lattice (the kernel's trie depth)."""
    blocks, cls = _blocks(text)
    folded = naive_fold(text)
    p = [1.0] * len(text)
    for a, b, kind in blocks:
        if kind == "sym":
            for k in range(a, b - 1):
                p[k] = 0.0
            continue
        sub, subf, subc = text[a:b], folded[a:b], cls[a:b]
        weights = []
        for cuts in _segmentations(sub, subc):
            if max_len is not None and any(e - s > max_len and subf[s:e] in scores for s, e in zip(cuts, cuts[1:])):
                continue
            sc = _seg_score(sub, subf, subc, cuts, scores, unknown)
            if sc is not None:
                weights.append((cuts, sc / theta))
        top = max(sc for _, sc in weights)
        z = sum(math.exp(sc - top) for _, sc in weights)
        for k in range(1, b - a):
            p[a + k - 1] = sum(math.exp(sc - top) for cuts, sc in weights if k in cuts) / z
    return p
