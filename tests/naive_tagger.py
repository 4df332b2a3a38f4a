"""Slow, obviously-correct twins of the kernels in ``textmine.tagger``."""
import itertools
import math

M64 = (1 << 64) - 1
B, M, E, S = 0, 1, 2, 3
ALLOWED = {(B, M), (B, E), (M, M), (M, E), (E, B), (E, S), (S, B), (S, S)}
LEFT_PAD, RIGHT_PAD = 0x110001, 0x110002


def normalize(text):
    """Fold one character at a time: full-width ASCII -> ASCII, digits -> '0', Latin -> 'A'."""
    out = []
    for ch in text:
        cp = ord(ch)
        if 0xFF01 <= cp <= 0xFF5E:
            cp -= 0xFEE0
        if cp == 0x3000:
            cp = 0x20
        if ord("0") <= cp <= ord("9"):
            cp = ord("0")
        elif ord("a") <= cp <= ord("z") or ord("A") <= cp <= ord("Z"):
            cp = ord("A")
        out.append(cp)
    return out


def mix(z):
    z &= M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def fhash(t, a, b, c):
    h = mix(t * 0x9E3779B97F4A7C15 + a)
    h = mix(h ^ ((b * 0xD6E8FEB86659FD93) & M64))
    return mix(h ^ ((c + 0x2545F4914F6CDD1D) & M64))


def tags_of(lengths):
    out = []
    for n in lengths:
        out += [S] if n == 1 else [B] + [M] * (n - 2) + [E]
    return out


def dict_features(x, words, unk, cont=None, maxw=16, cap=8):
    """Brute force: longest-match lengths by scanning substrings, the DP tag by scoring every
    segmentation. ``words`` maps a tuple of normalised code points to its log-probability.
    ``cont[i]`` True: no word boundary before character i. Returns (lb, le, lm, dp) lists."""
    n = len(x)
    cont = cont or [False] * n
    lb, le, lm = [0] * n, [0] * n, [0] * n
    for i in range(n):
        for j in range(i, min(n, i + maxw)):
            if tuple(x[i:j + 1]) in words:
                c = min(j - i + 1, cap)
                lb[i] = max(lb[i], c)
                le[j] = max(le[j], c)
                for k in range(i + 1, j):
                    lm[k] = max(lm[k], c)
    valid = [b for b in range(n + 1) if b == 0 or b == n or not cont[b]]

    def nxt(i):
        return min(b for b in valid if b > i)

    best, best_seg = -math.inf, None
    inner = valid[1:-1]
    for r in range(len(inner) + 1):
        for cuts in itertools.combinations(inner, r):
            bounds = [0, *cuts, n]
            score = 0.0
            for a, b in zip(bounds[:-1], bounds[1:]):
                w = tuple(x[a:b])
                if w in words and b - a <= maxw:
                    score += words[w]
                elif b == nxt(a):
                    score += unk
                else:
                    score = -math.inf
                    break
            if score > best:
                best, best_seg = score, bounds
    lengths = [b - a for a, b in zip(best_seg[:-1], best_seg[1:])]
    return lb, le, lm, tags_of(lengths)


NUMERALS = {ord(c) for c in "0〇○零一二三四五六七八九十百千万亿两"}
NUM = 0x110003


DATE = {ord(c) for c in "年月日时分秒点号"}
GLUE = {ord(c) for c in ".%-/:+℃‰"}  # the number glue characters after full-width folding


def ctype(c):
    """Character type, written as a chain of plain tests."""
    if c in (LEFT_PAD, RIGHT_PAD):
        return 5
    if c == ord("A"):
        return 2
    if c in NUMERALS or c == NUM:
        return 1
    if c in DATE:
        return 3
    if c in GLUE:
        return 4
    return 0


def gold_pieces(sentences, text_masks):
    """Pieces (strings) with tags, cut wherever the sentence's mask is False, character by
    character: a tag starts a word at a gold word start or a piece start, ends one at a gold word
    end or a piece end."""
    pieces = []
    for sent, mask in zip(sentences, text_masks):
        chars, starts, ends = [], [], []
        for w in sent:
            for k, ch in enumerate(w):
                chars.append(ch)
                starts.append(k == 0)
                ends.append(k == len(w) - 1)
        cur = []
        for i, ch in enumerate(chars):
            if mask[i]:
                cur.append(i)
            if cur and (not mask[i] or i == len(chars) - 1):
                tags = []
                for j, c in enumerate(cur):
                    b = starts[c] or j == 0
                    e = ends[c] or j == len(cur) - 1
                    tags.append(S if b and e else B if b else E if e else M)
                pieces.append(("".join(chars[c] for c in cur), tags))
                cur = []
    return pieces


def features(x, lb, le, lm, dp, with_dict, nbits):
    """Bucket lists per character, templates written out one by one (numerals folded to NUM)."""
    mask = (1 << nbits) - 1
    n = len(x)
    x = [NUM if c in NUMERALS else c for c in x]
    out = []
    for i in range(n):
        c = {k: (x[i + k] if 0 <= i + k < n else (LEFT_PAD if i + k < 0 else RIGHT_PAD)) for k in (-2, -1, 0, 1, 2)}
        keys = [(0, 0, 0, 0), (1, c[-2], 0, 0), (2, c[-1], 0, 0), (3, c[0], 0, 0), (4, c[1], 0, 0),
                (5, c[2], 0, 0), (6, c[-2], c[-1], 0), (7, c[-1], c[0], 0), (8, c[0], c[1], 0),
                (9, c[1], c[2], 0), (10, c[-1], c[1], 0), (11, c[-1], c[0], c[1])]
        b, e, m, t = lb[i], le[i], lm[i], dp[i]
        if with_dict in ("match", "dict", "type", True):
            keys += [(12, b, 0, 0), (13, e, 0, 0), (14, m, 0, 0), (15, b, e, m), (16, b, c[0], 0),
                     (17, e, c[0], 0)]
        if with_dict in ("dict", "type", True):
            keys += [(18, t, 0, 0), (19, t, c[0], 0), (20, t, b, e)]
        if with_dict == "type":
            ty = {k: ctype(v) for k, v in c.items()}
            red = (c[0] == c[-1]) + 2 * (c[0] == c[1]) + 4 * (c[-1] == c[1]) + 8 * (c[-2] == c[0])
            keys += [(21, ty[0], 0, 0), (22, ty[-1], ty[0], ty[1]),
                     (23, ty[-2] * 8 + ty[-1], ty[0], ty[1] * 8 + ty[2]), (24, red, 0, 0),
                     (25, t, ty[-1] * 8 + ty[0], ty[1])]
        out.append([fhash(*k) & mask for k in keys])
    return out


def seq_score(feats, W, trans, tags):
    s = sum(W[f][t] for fs, t in zip(feats, tags) for f in fs)
    return s + sum(trans[a][b] for a, b in zip(tags[:-1], tags[1:]))


def valid_tags(tags, cont=None):
    n = len(tags)
    if tags[0] not in (B, S) or tags[-1] not in (E, S):
        return False
    if any((a, b) not in ALLOWED for a, b in zip(tags[:-1], tags[1:])):
        return False
    if cont and any(cont[i] and tags[i] in (B, S) for i in range(1, n)):
        return False
    return True


def brute_viterbi(feats, W, trans, cont=None):
    """Best-scoring valid tag sequence by enumerating all 4**n of them."""
    best, arg = -math.inf, None
    for tags in itertools.product(range(4), repeat=len(feats)):
        if valid_tags(tags, cont):
            s = seq_score(feats, W, trans, tags)
            if s > best:
                best, arg = s, list(tags)
    return arg


def viterbi(feats, W, trans):
    """Plain Viterbi (lowest tag index wins ties), for the perceptron twin."""
    n = len(feats)
    emit = [[sum(W[f][t] for f in fs) for t in range(4)] for fs in feats]
    score = [[emit[0][t] if t in (B, S) else -math.inf for t in range(4)]]
    back = [[-1] * 4]
    for i in range(1, n):
        row, brow = [], []
        for t in range(4):
            cands = [(score[-1][p] + trans[p][t], p) for p in range(4) if (p, t) in ALLOWED]
            bs, bp = -math.inf, 0
            for v, p in cands:
                if v > bs:
                    bs, bp = v, p
            row.append(bs + emit[i][t])
            brow.append(bp)
        score.append(row)
        back.append(brow)
    t = E if score[-1][E] > score[-1][S] else S
    out = [0] * n
    for i in range(n - 1, -1, -1):
        out[i] = t
        t = back[i][t]
    return out


def train_pass(samples, golds, feats_of, nbuckets, W, U, trans, transU, step):
    """Averaged structured perceptron, one pass; W/U are lists of [4] lists (modified in place)."""
    mistakes = 0
    for x, gold in zip(samples, golds):
        step += 1
        feats = feats_of(x)
        pred = viterbi(feats, W, trans)
        if pred != gold:
            mistakes += 1
            for fs, g, p in zip(feats, gold, pred):
                if g != p:
                    for f in fs:
                        W[f][g] += 1
                        W[f][p] -= 1
                        U[f][g] += step
                        U[f][p] -= step
            for (g0, g1), (p0, p1) in zip(zip(gold[:-1], gold[1:]), zip(pred[:-1], pred[1:])):
                if (g0, g1) != (p0, p1):
                    trans[g0][g1] += 1
                    trans[p0][p1] -= 1
                    transU[g0][g1] += step
                    transU[p0][p1] -= step
    return step, mistakes


def brute_marginals(emit, trans, theta=1.0, cont=None):
    """Boundary marginals by enumerating every valid tag sequence: returns (P(y_i in {E, S}) per i,
    P(y_{i+1} in {B, S}) per i < n - 1, log Z), path scores divided by ``theta``."""
    n = len(emit)
    paths = []
    for tags in itertools.product(range(4), repeat=n):
        if valid_tags(tags, cont):
            s = sum(emit[i][t] for i, t in enumerate(tags)) + sum(trans[a][b] for a, b in zip(tags[:-1], tags[1:]))
            paths.append((tags, s / theta))
    top = max(s for _, s in paths)
    z = sum(math.exp(s - top) for _, s in paths)
    ends = [sum(math.exp(s - top) for t, s in paths if t[i] in (E, S)) / z for i in range(n)]
    starts = [sum(math.exp(s - top) for t, s in paths if t[i + 1] in (B, S)) / z for i in range(n - 1)]
    return ends, starts, top + math.log(z)
