"""Slow, obviously correct twins of the JoSE kernels in textmine/jose.py.

Plain Python loops over numpy float64 rows; the random stream (word2vec's 64-bit LCG) is consumed
in exactly the kernel's order, so a seeded run must give the same vectors up to float32 rounding.
"""
import math

import numpy as np

MASK = (1 << 64) - 1


def lcg(s):
    return (s * 25214903917 + 11) & MASK


def uniform(s):
    return (s >> 11) / 9007199254740992.0


def draw(s, prob, alias):
    """Walker's alias draw from the top 53 bits of s: slot floor(V u), kept with prob[slot]."""
    n = len(prob)
    x = float(s >> 11) * (n * (1.0 / 9007199254740992.0))
    i = min(int(x), n - 1)
    return i if x - i < float(prob[i]) else int(alias[i])


def alias_tables(w):
    """Vose's alias construction with Python lists (same stack order as the kernel)."""
    n = len(w)
    total = float(np.sum(np.asarray(w, dtype=np.float64)))
    scaled = [float(x) * (n / total) for x in w]
    prob, alias = [0.0] * n, list(range(n))
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        lo, hi = small.pop(), large[-1]
        prob[lo], alias[lo] = scaled[lo], hi
        scaled[hi] = (scaled[hi] + scaled[lo]) - 1.0
        if scaled[hi] < 1.0:
            small.append(large.pop())
    for i in large + small:
        prob[i] = 1.0
    return np.array(prob, dtype=np.float32), np.array(alias, dtype=np.int32)


def alias_masses(prob, alias):
    """The distribution an alias table draws from: slot i gives prob[i]/V to i, the rest to alias[i]."""
    n = len(prob)
    p = np.zeros(n)
    for i in range(n):
        p[i] += float(prob[i]) / n
        p[int(alias[i])] += (1.0 - float(prob[i])) / n
    return p


def compact(ids, offsets, remap):
    """Remapped ids with the dropped (-1) removed, and the new CSR offsets."""
    docs = [[int(remap[w]) for w in ids[offsets[i]:offsets[i + 1]] if remap[w] >= 0] for i in range(len(offsets) - 1)]
    new = [0]
    for d in docs:
        new.append(new[-1] + len(d))
    return [w for d in docs for w in d], new


def step(x, g, eta, paper, negative, xg=None):
    """Riemannian step + retraction: x <- normalise(x - eta k (g - (x.g) x)); x.g may be given (old value)."""
    if xg is None:
        xg = float(x @ g)
    if paper:
        gn = float(np.linalg.norm(g))
        if gn == 0:
            return x
        k = 1 + xg / gn
    else:
        k = 2 * xg if negative else 1 + xg
    y = x - eta * k * (g - xg * x)
    return y / np.linalg.norm(y)


def split_hinge(U, i, V, j, ti, alpha, margin, paper):
    """max(0, m - U[i].V[j] + U[ti].V[j]); all gradients at the old values; u, u', v in order."""
    u, v, un = U[i].copy(), V[j].copy(), U[ti].copy()
    f, h = float(u @ v), float(un @ v)
    if f - h >= margin:
        return 0.0
    U[i] = step(U[i], -v, alpha, paper, False, xg=-f)
    U[ti] = step(U[ti], v, alpha, paper, True, xg=h)
    V[j] = step(V[j], un - u, alpha, paper, False, xg=h - f)
    return margin - (f - h)


def joint_hinge(U, i, V, j, D, k, ti, alpha, margin, lam, paper, update_words=True):
    """The paper's joint hinge over (u=U[i], v=V[j], d=D[k], u'=U[ti]), document terms weighted by lam."""
    u, v, d, un = U[i].copy(), V[j].copy(), D[k].copy(), U[ti].copy()
    gap = u @ v - un @ v + lam * (u @ d - un @ d)
    if gap >= margin:
        return 0.0
    if update_words:
        if paper:
            U[i] = step(U[i], -(v + lam * d), alpha, True, False)
            U[ti] = step(U[ti], v + lam * d, alpha, True, True)
        else:
            U[i] = step(U[i], -v, alpha, False, False)
            U[ti] = step(U[ti], v, alpha, False, True)
            U[i] = step(U[i], -lam * d, alpha, False, False)
            U[ti] = step(U[ti], lam * d, alpha, False, True)
        V[j] = step(V[j], un - u, alpha, paper, False)
    D[k] = step(D[k], lam * (un - u), alpha, paper, False)
    return margin - gap


def row_rate(base, scale, warm, hits, row):
    """base, or with warm > 0 at least scale * warm / (n + 1) for a row's (n+1)-th step (n counted up)."""
    if warm <= 0:
        return base
    n = int(hits[row])
    hits[row] += 1
    return max(base, scale * warm / (n + 1.0))


def push_weight(z, kappa):
    """[z > 0] (the hinge) for kappa == 0, else the logistic sigmoid of kappa z."""
    return float(z > 0) if kappa == 0 else 1.0 / (1.0 + math.exp(-kappa * z))


def contrast_terms(U, i, V, j, word, prob, alias, negative, s, alpha, m_pos, m_neg, wneg, paper, scale=1.0, warm=0.0,
                   hits_u=None, hits_v=None, warm_v=None, kneg=None, pull_w=1.0):
    """max(0, m+ - U[i].V[j]) + wneg * sum over the draws t of max(0, U[t].V[j] - m-); returns (hinge, s).

    Draws first; then each active negative row steps (read when its turn comes), then U[i], then
    V[j] on the summed gradient -[pull] u + sum of the active u', all gradients at the old values.
    Every step is scale * alpha (negatives: times wneg), or with warm > 0 at least
    scale * warm / (n + 1) for a row's (n+1)-th step (hits_u counts U's rows, hits_v V's; V's rows use
    warm_v, default warm). kneg: kappa of each word's push (None: the hinge for every word). pull_w: factor
    of U[i]'s own step."""
    base = scale * alpha
    warm_v = warm if warm_v is None else warm_v
    picks = []
    for _ in range(negative):
        s = lcg(s)
        t = draw(s, prob, alias)
        if t != word:
            picks.append(t)
    u, v = U[i].copy(), V[j].copy()
    f = float(u @ v)
    hinge = 0.0
    grad_v = np.zeros_like(v)
    if f < m_pos:
        hinge += m_pos - f
        grad_v -= u
    for t in picks:
        un = U[t].copy()
        h = float(un @ v)
        if h > m_neg:
            hinge += wneg * (h - m_neg)
        wt = wneg * push_weight(h - m_neg, 0.0 if kneg is None else kneg[t])
        if wt > 0:
            grad_v += wt * un
            U[t] = step(U[t], v, wt * row_rate(base, scale, warm, hits_u, t), paper, True, xg=h)
    if f < m_pos:
        U[i] = step(U[i], -v, pull_w * row_rate(base, scale, warm, hits_u, i), paper, False, xg=-f)
    if grad_v @ grad_v > 0:
        V[j] = step(V[j], grad_v, row_rate(base, scale, warm_v, hits_v, j), paper, False)
    return hinge, s


def subsample(doc, keep, s):
    sen = []
    for w in doc:
        if keep[w] < 1.0:
            s = lcg(s)
            if keep[w] < uniform(s):
                continue
        sen.append(int(w))
    return sen, s


def jose_epoch(syn0, syn1, syndoc, docs, bounds, keep, prob, alias, window, negative, margin, m_neg, wneg, lam, alpha0,
               words_before, total_words, seeds, paper, loss, warm=0.0, hits=None, kneg=None, dpull=None):
    """One epoch, the threads one after the other (thread t of len(seeds) takes blocks t, t + len(seeds), ...
    of bounds); returns the float64 tables and the hinge per thread.

    hits: the step counts of the rows of (syn0, syn1), updated in place (warm > 0 only); documents have no floor."""
    U, V, D = (np.array(x, dtype=np.float64) for x in (syn0, syn1, syndoc))
    h0, h1 = hits if hits is not None else (None, None)
    n_threads = len(seeds)
    starts = np.concatenate([[0], np.cumsum([len(x) for x in docs])])  # corpus position of each document
    losses = []
    for th in range(n_threads):
        s = int(seeds[th])
        hinge = 0.0
        mine = [doc for b in range(th, len(bounds) - 1, n_threads) for doc in range(bounds[b], bounds[b + 1])]
        for doc in mine:
            sen, s = subsample(docs[doc], keep, s)
            for pos, word in enumerate(sen):
                alpha = max(alpha0 * (1 - (words_before + starts[doc] + pos) / (total_words + 1.0)), alpha0 * 1e-4)
                s = lcg(s)
                half = window - (s >> 16) % window
                for cpos in range(max(0, pos - half), min(len(sen), pos + half + 1)):
                    if cpos == pos:
                        continue
                    if loss == "contrastive":
                        h, s = contrast_terms(U, sen[cpos], V, word, word, prob, alias, negative, s, alpha, margin,
                                              m_neg, wneg, paper, 1.0, warm, h0, h1, kneg=kneg)
                        hinge += h
                        continue
                    for _ in range(negative):
                        s = lcg(s)
                        t = draw(s, prob, alias)
                        if t == word:
                            continue
                        if loss == "joint":
                            hinge += joint_hinge(U, word, V, sen[cpos], D, doc, t, alpha, margin, lam, paper)
                        else:
                            hinge += split_hinge(U, sen[cpos], V, word, t, alpha, margin, paper)
                if loss == "contrastive":
                    h, s = contrast_terms(U, word, D, doc, word, prob, alias, negative, s, alpha, margin, m_neg,
                                          wneg, paper, lam, warm, h0, None, 0.0, kneg=kneg,
                                          pull_w=1.0 if dpull is None else float(dpull[word]))
                    hinge += h
                elif loss == "split":
                    for _ in range(negative):
                        s = lcg(s)
                        t = draw(s, prob, alias)
                        if t == word:
                            continue
                        hinge += split_hinge(U, word, D, doc, t, lam * alpha, margin, paper)
        losses.append(hinge)
    return U, V, D, losses


def jose_infer(syn0, syn1, docs, keep, prob, alias, window, negative, margin, m_neg, wneg, lam, alpha0, n_iter, seeds,
               paper, loss, kneg=None):
    """Document vectors with u, v frozen, one document at a time."""
    U, V = np.array(syn0, dtype=np.float64), np.array(syn1, dtype=np.float64)
    dim = U.shape[1]
    out = np.zeros((len(docs), dim))
    for k, doc in enumerate(docs):
        if len(doc) == 0:
            continue
        s = int(seeds[k])
        d = np.empty(dim)
        for c in range(dim):
            s = lcg(s)
            d[c] = (uniform(s) - 0.5) / dim
        D = (d / np.linalg.norm(d))[None, :].copy()
        total = n_iter * len(doc) + 1.0
        for it in range(n_iter):
            sen, s = subsample(doc, keep, s)
            for pos, word in enumerate(sen):
                alpha = max(alpha0 * (1 - (it * len(doc) + pos) / total), alpha0 * 1e-4)
                if loss == "contrastive":
                    u, d = U[word], D[0].copy()
                    grad = -u if u @ d < margin else np.zeros_like(d)
                    for _ in range(negative):
                        s = lcg(s)
                        t = draw(s, prob, alias)
                        if t != word:
                            grad = grad + wneg * push_weight(U[t] @ d - m_neg, 0.0 if kneg is None else kneg[t]) * U[t]
                    if grad @ grad > 0:
                        D[0] = step(D[0], grad, lam * alpha, paper, False)
                elif loss == "joint":
                    s = lcg(s)
                    half = window - (s >> 16) % window
                    for cpos in range(max(0, pos - half), min(len(sen), pos + half + 1)):
                        if cpos == pos:
                            continue
                        for _ in range(negative):
                            s = lcg(s)
                            t = draw(s, prob, alias)
                            if t == word:
                                continue
                            joint_hinge(U, word, V, sen[cpos], D, 0, t, alpha, margin, lam, paper, update_words=False)
                else:
                    for _ in range(negative):
                        s = lcg(s)
                        t = draw(s, prob, alias)
                        if t == word:
                            continue
                        u, un = U[word], U[t]
                        if u @ D[0] - un @ D[0] < margin:
                            D[0] = step(D[0], un - u, lam * alpha, paper, False)
        out[k] = D[0]
    return out


def keep_probabilities(counts, sample):
    n = sum(counts)
    if sample <= 0:
        return [2.0] * len(counts)
    return [(math.sqrt(c / (sample * n)) + 1) * (sample * n) / c for c in counts]


def encode(documents, min_count):
    """Vocabulary by (count desc, word) and the id lists of each document (unknown words dropped)."""
    from collections import Counter
    cnt = Counter(w for d in documents for w in d.split())
    words = sorted((w for w in cnt if cnt[w] >= min_count), key=lambda w: (-cnt[w], w))
    index = {w: i for i, w in enumerate(words)}
    return words, [cnt[w] for w in words], [[index[w] for w in d.split() if w in index] for d in documents]


def idf_pull(docs, n_words, power):
    """idf(w) ** power, idf(w) = log(N / df(w)) / log(N) over the N non-empty documents (all 1 for power 0
    or N <= 1), df counted with one set per document."""
    n = sum(1 for doc in docs if len(doc))
    if power == 0 or n <= 1:
        return np.ones(n_words)
    df = [0] * n_words
    for doc in docs:
        for w in set(int(x) for x in doc):
            df[w] += 1
    return np.array([min(1.0, max(0.0, math.log(n / max(c, 1)) / math.log(n))) ** power for c in df])
