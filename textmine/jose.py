"""JoSE: joint spherical embedding of words, contexts and documents.

Words (``u``, ``syn0``), contexts (``v``, ``syn1``) and documents (``d``) live on the unit sphere
and are trained with a max-margin loss on cosines, Riemannian SGD and the retraction
``R_x(z) = (x + z) / ||x + z||`` (Meng et al., "Spherical Text Embedding", NeurIPS 2019; post 7063).

Two choices of docs/algorithms.md §6.1–6.2, and one loss of our own:

* ``loss="split"`` (the reference ``jose.c``): one hinge ``max(0, m - cos(u, v) + cos(u', v))``
  per (window word ``u``, current word ``v``, negative ``u'``), and separately
  ``max(0, m - cos(u, d) + cos(u', d))`` per (current word ``u``, document ``d``, negative ``u'``).
  ``loss="joint"``: the paper's single hinge
  ``max(0, m - cos(v, u) - cos(u, d) + cos(v, u') + cos(u', d))`` per (centre ``u``, context ``v``,
  negative ``u'``).
  ``loss="contrastive"`` (default): the same pairs as ``split`` (word-context and word-document,
  the same rows, draws and steps), but one hinge per term instead of one per (positive, negative)
  pair: ``max(0, m₊ - cos(u, v)) + (W/k) Σ max(0, cos(u', v) - m₋)``, ``m₊ = 0.4``, ``m₋ = -0.1``,
  ``k`` negatives of total weight ``W = 2`` (``neg_weight``). A
  negative is pushed away whenever its cosine exceeds ``m₋``, however well the positive pair is
  already placed, as word2vec's logistic loss does. On English it raised SimLex-999 from 0.17 to
  0.20 (level with gensim's skip-gram), on Chinese it kept wordsim-240/297 far above gensim
  (bench/RESULTS.md "embed"). Unweighted (``W = k``), the push grew with ``--negative`` while
  the pull did not, and the model collapsed at word2vec's usual ``--negative 5``/``10``; the
  weight keeps the push of the default ``k = 2`` at any ``k``.
  Step size: the rate decays linearly over ``n_iter`` epochs as in word2vec, from ``alpha``;
  by default (``alpha=None``) from ``0.4 / n_iter`` (:data:`ALPHA_BUDGET`), i.e. ``jose.c``'s
  0.04 at its 10 epochs. On the sphere a row moves at most about its rate (in radians) per
  step, so the total movement a word can make is its number of steps times the mean rate; with
  a fixed starting rate it shrinks with the epoch count, and at word2vec's 5 epochs the model
  was still under-trained (``--negative 5 --iter 5``, one thread, seeds 1-2: English
  SimLex-999 0.174 at 0.04 against 0.210 with the 10-epoch budget, WS353 0.338 against 0.377;
  averaging the last epochs' vectors made it worse, so it was not noise). The default keeps
  that budget at any ``--iter``; at 10 epochs it is the old default, bit for bit.
  ``warm > 0``
  (contrastive loss, off by default) adds a per-row floor ``warm / (n + 1)`` to a word or context
  row's ``(n+1)``-th step (documents have none): on the sphere a row moves at most about
  ``alpha`` radians a step from its random start, so a rare word's step budget is tied to the
  epoch count, while in word2vec a rare word's vector is short and its first updates set its
  direction. At ``--negative 5 --iter 5 -j 2`` it raised English SimLex-999 from 0.162 to 0.192
  (``warm = 3``, two seeds; gensim 0.212) but it also pulls the words towards one common direction
  (a two-topic toy corpus: within-topic cosine 0.75 to 0.87, across 0.54 to 0.70), so it is
  not the default (bench/RESULTS.md "embed").
  ``neg_smooth = κ > 0`` (contrastive loss, off by default) replaces each negative term's hinge by
  ``softplus(κ (cos(u', v) - m₋)) / κ``: the push weighs ``σ(κ (cos - m₋))`` instead of ``[cos > m₋]``.
  With the hinge a word that is drawn as a negative more often than its co-occurrences pull it
  (a frequent word with mild associations: ， 。 了, the) is pushed until its cosine with every
  context sits at ``m₋`` (measured: the count-weighted mean cosine of ， 。 了 with the contexts is
  -0.100 to -0.102), the same place for all such words, so the most frequent words are each
  other's nearest neighbours (金瓶梅: 西门庆 → ” 。 ， 了). A push that fades below ``m₋`` lets each
  pair settle where its pull and push balance, as word2vec's logistic loss does. It lowers that
  frequent-word club from 0.44 to 0.06 (金瓶梅), 0.25 to 0.13 (Brown) and 0.11 to 0.05 (People's Daily)
  but costs 0.026 of SimLex-999 on Brown and 0.02 of wordsim-240, so it is not the default for every word
  (bench/RESULTS.md "embed", "Frequent words as neighbours"). ``freq_smooth = κ`` (default 10) smooths the
  push of the sub-sampled words alone (keep probability below 1), the words whose pulls sub-sampling
  thins while their pushes, drawn from the unigram^0.75 counts, are not: the club falls from 0.44 to 0.10
  (金瓶梅) and 0.126 to 0.058 (People's Daily, wordsim-240/297 unchanged), 0.18 to 0.14 (Brown +
  Gutenberg, SimLex-999 -0.009 over four seeds).
  ``doc_idf = p`` (contrastive loss, default 0.5) weighs a word's pull towards its document by
  ``idf(w) ** p`` (normalised idf, :func:`idf_pull`), except for the sub-sampled words, which keep
  the full pull (without it they would be parked together again: their idf is near 0). The pull
  towards the document is the loss's relatedness term (a word found in every line says little
  about any one of them); weakening it for such words lifted English SimLex-999 at
  ``--negative 10 --iter 5 -j 2`` from 0.198 to 0.218 (gensim 0.232), at a small cost to WS353 and
  the Chinese sets (bench/RESULTS.md "embed", "Eleventh round").
* ``update="paper"`` (default): the paper's step multiplier ``1 + x·∇f / ||∇f||`` for every vector.
  ``update="reference"``: ``jose.c``'s multipliers (``1 - cos`` for positives, ``2 cos(u', v)`` for a
  negative, which turns into a step *towards* ``v`` when ``cos(u', v) < 0``). On Brown the reference
  rule reproduces ``jose.c``'s near-zero WordSim-353 ρ (0.07 here, 0.085 published in
  ``shared/data/README``); the paper rule reaches 0.40 (bench/RESULTS.md).

The corpus is integer-coded once (``int32`` ids, ``int64`` CSR offsets per document), then numba
kernels run the epochs. Memory: 4 bytes per token, ``8 + 4 dim`` per document (offsets and ``d``),
``8 dim + 40`` per vocabulary word (``u``, ``v``, counts, sub-sampling and alias tables, push and pull weights) plus the
words themselves; nothing corpus- or table-sized is copied on the way (in-place id compaction,
blockwise initialisation, Walker's alias tables instead of word2vec's unigram table).
Randomness is a 64-bit LCG (word2vec's ``next_random``) whose state the driver seeds per epoch and
per thread, so ``n_jobs=1`` with a seed is deterministic. ``n_jobs > 1``
runs Hogwild threads that take blocks of about 16k tokens in turn, so that they train neighbouring
parts of the corpus at the same time and the rate follows the corpus position, as on one thread
(lock-free, races tolerated as in ``jose.c``),
so it is not reproducible bit for bit. Inference (:meth:`JoSE.infer`) freezes ``u`` and ``v``
and optimises each new document on its own: it is deterministic for any ``n_jobs``.
"""
import json
import logging
import math
import os
import time
from array import array

import numpy as np

from textmine._numba import njit, njit_fast, prange, serial_and_parallel, set_num_threads
from textmine.errors import TextmineError

log = logging.getLogger(__name__)

UPDATES = ("reference", "paper")
LOSSES = ("split", "joint", "contrastive")
_SPLIT, _JOINT, _CONTRAST = 0, 1, 2  # kernel codes of LOSSES
DEFAULT_MARGIN = {"split": 0.25, "joint": 0.25, "contrastive": 0.4}  # bench/RESULTS.md "embed"
ALPHA_BUDGET = 0.4  # default starting rate = ALPHA_BUDGET / n_iter: the paper's 0.04 over 10 epochs
NEG_SMOOTH = 0.0  # κ of the contrastive loss's negative terms (0: the hinge); bench/RESULTS.md "embed"
FREQ_SMOOTH = 10.0  # κ of the negative terms of the sub-sampled (most frequent) words; bench/RESULTS.md "embed"
DOC_IDF = 0.5  # power of the idf weight of a word's pull towards its document; bench/RESULTS.md "Eleventh round"
MODEL_FORMAT = "textmine-jose"
MODEL_VERSION = 1

_LCG_A = np.uint64(25214903917)
_LCG_C = np.uint64(11)
_U11 = np.uint64(11)
_U16 = np.uint64(16)
_MASK64 = (1 << 64) - 1


# --------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------

@njit(inline="always")
def _lcg(s):
    """Advance the 64-bit LCG state ``s`` (uint64): ``s * 25214903917 + 11 mod 2**64``."""
    return s * _LCG_A + _LCG_C


@njit(inline="always")
def _uniform(s):
    """A float64 in [0, 1) from the top 53 bits of the uint64 state ``s``."""
    return np.float64(s >> _U11) * (1.0 / 9007199254740992.0)


@njit(inline="always")
def _draw(s, prob, alias):
    """Draw a negative word id with Walker's alias method from the uint64 LCG state ``s``.

    ``x = V u`` with ``u`` the top 53 bits of ``s`` as a float in [0, 1): slot ``i = floor(x)`` is
    kept when ``x - i < prob[i]``, else ``alias[i]`` is drawn. ``prob`` (float32, shape (V,)) and
    ``alias`` (int32, shape (V,)) come from :func:`negative_table`: word ``w`` is drawn with
    probability ``count[w] ** 0.75 / sum`` (word2vec's unigram^0.75 distribution), exactly up to float
    rounding, from 8 bytes per word (word2vec's table takes 400 MB at any vocabulary).
    """
    n = prob.shape[0]
    x = np.float64(s >> _U11) * (n * (1.0 / 9007199254740992.0))
    i = np.int64(x)
    if i >= n:
        i = n - 1
    if x - i < prob[i]:
        return i
    return np.int64(alias[i])


@njit_fast(inline="always")
def _dot(x, y):
    """Dot product of two float32 vectors of shape (D,), accumulated in float32."""
    acc = np.float32(0.0)
    for c in range(x.shape[0]):
        acc += x[c] * y[c]
    return acc



@njit_fast(inline="always")
def _multiplier(xg, gg, paper, negative_term):
    """The step multiplier ``k`` of :func:`_sphere_step` from ``xᵀ∇f`` and ``||∇f||²``:
    ``1 + xᵀ∇f / ||∇f||`` (paper), ``2 xᵀ∇f`` (``jose.c``, negative term) or ``1 + xᵀ∇f``.
    Returns ``(take the step, k)``; the paper's rule takes no step for a zero gradient."""
    if paper:
        if gg <= 0.0:
            return False, 0.0
        return True, 1.0 + xg / math.sqrt(gg)
    if negative_term:
        return True, 2.0 * xg
    return True, 1.0 + xg

@njit_fast
def _sphere_step(x, g, eta, paper, negative_term):
    """One Riemannian SGD step on the unit sphere, in place, then the retraction.

    Parameters
    ----------
    x : ndarray, float32, shape (D,)
        A unit vector (a row of a table); overwritten with the updated unit vector.
    g : ndarray, float32, shape (D,)
        Euclidean gradient ``∇f`` of the loss at ``x``.
    eta : float
        Learning rate.
    paper : bool
        Step multiplier ``1 + xᵀ∇f / ||∇f||`` (paper, eq. of §6.1); otherwise ``jose.c``'s
        ``1 + xᵀ∇f`` for a positive term and ``2 xᵀ∇f`` for a negative one.
    negative_term : bool
        Whether ``x`` is a negative sample (only matters when ``paper`` is false).

    Notes
    -----
    ``x ← (x - η k (∇f - (xᵀ∇f) x)) / ||·||`` with the multiplier ``k`` above; docs/algorithms.md §6.1
    and the table of §6.2 (Meng et al. 2019, §4.3).
    """
    d = x.shape[0]
    xg = np.float32(0.0)
    gg = np.float32(0.0)
    for c in range(d):
        xg += x[c] * g[c]
        gg += g[c] * g[c]
    ok, k = _multiplier(xg, gg, paper, negative_term)
    if not ok:
        return
    step = np.float32(eta * k)
    for c in range(d):
        x[c] -= step * (g[c] - xg * x[c])
    nn = _dot(x, x)
    if nn > 0.0:
        inv = np.float32(1.0 / math.sqrt(nn))
        for c in range(d):
            x[c] *= inv


@njit_fast
def _retract_step(x, g, sgn, xg, gg, eta, paper, negative_term):
    """One Riemannian SGD step and retraction for a unit ``x``, with ``xᵀ∇f`` already known.

    Parameters
    ----------
    x : ndarray, float32, shape (D,)
        Unit vector, overwritten.
    g : ndarray, float32, shape (D,)
        ``sgn * g`` is the Euclidean gradient ``∇f``.
    sgn : float
        +1 or -1.
    xg, gg : float
        ``xᵀ∇f`` and ``||∇f||²``, known to the caller.
    eta : float
    paper, negative_term : bool
        As in :func:`_sphere_step`.

    Notes
    -----
    With ``s = η k``: ``x ← (1 + s xᵀ∇f) x - s ∇f``, then ``x ← x / ||x||`` (the retraction).
    Same step as :func:`_sphere_step`, without copying the gradient into a buffer.
    """
    ok, k = _multiplier(xg, gg, paper, negative_term)
    if not ok:
        return
    st = eta * k
    a = np.float32(1.0 + st * xg)
    b = np.float32(st * sgn)
    for c in range(x.shape[0]):
        x[c] = a * x[c] - b * g[c]
    nn = _dot(x, x)
    if nn > 0.0:
        inv = np.float32(1.0 / math.sqrt(nn))
        for c in range(x.shape[0]):
            x[c] *= inv


@njit_fast
def _split_pair(u, v, un, f, alpha, margin, paper, gv):
    """The reference hinge ``max(0, m - cos(u, v) + cos(u', v))`` and its updates of u, u', v.

    Parameters
    ----------
    u, v, un : ndarray, float32, shape (D,)
        Unit rows: positive ``u`` (syn0), target ``v`` (syn1 row or document), negative ``u'``
        (syn0); updated in place when the hinge is active.
    f : float
        ``u · v`` (the caller keeps it across negatives while ``u`` and ``v`` do not move).
    alpha, margin : float
    paper : bool
    gv : ndarray, float32, shape (D,)
        Scratch buffer.

    Returns
    -------
    float
        The hinge value before the update (> 0 exactly when ``u`` and ``v`` moved).

    Notes
    -----
    Gradients ``∇u = -v``, ``∇u' = v``, ``∇v = -(u - u')``, all taken at the old values (as
    ``jose.c`` does), then ``u``, ``u'``, ``v`` are stepped in this order (docs/algorithms.md §6.2).
    """
    h = _dot(un, v)
    if f - h >= margin:
        return 0.0
    for c in range(u.shape[0]):
        gv[c] = un[c] - u[c]
    gg = _dot(gv, gv)  # a separate pass: a store and a reduction in one loop do not vectorise
    _retract_step(u, v, -1.0, -f, 1.0, alpha, paper, False)
    _retract_step(un, v, 1.0, h, 1.0, alpha, paper, True)
    _retract_step(v, gv, 1.0, h - f, gg, alpha, paper, False)
    return margin - (f - h)


@njit_fast
def _split_negatives(u, v, word, syn0, prob, alias, negative, s, hinge, alpha, margin, paper, gv):
    """Every negative of one split hinge of ``u`` against target ``v`` (a context row or a
    document): draws ``negative`` words (skipping ``word``) and applies :func:`_split_pair`.

    Returns the hinge total (``hinge`` plus the active hinges, in order) and the RNG state.
    """
    f = _dot(u, v)
    for _ in range(negative):
        s = _lcg(s)
        t = _draw(s, prob, alias)
        if t == word:
            continue
        e = _split_pair(u, v, syn0[t], f, alpha, margin, paper, gv)
        if e > 0.0:
            hinge += e
            f = _dot(u, v)
    return hinge, s


@njit_fast
def _contrast_terms(u, v, word, syn0, prob, alias, negative, s, hinge, alpha, m_pos, m_neg, wneg, paper, gv, picks,
                    scale, warm, hits0, iu, hitsv, iv, warm_v, kneg, pull_w):
    """The contrastive hinges of ``u`` against target ``v`` (a context row or a document):
    ``max(0, m₊ - cos(u, v)) + Σ max(0, cos(u', v) - m₋)`` over ``negative`` draws (a draw equal
    to ``word`` is skipped).

    Parameters
    ----------
    u, v : ndarray, float32, shape (D,)
        Positive row (syn0) and target; updated in place.
    word : int
        The draw to skip.
    syn0, prob, alias : the word table and the negative-sampling alias tables.
    negative : int
    s : uint64
        LCG state.
    hinge : float
        Running hinge total.
    alpha, m_pos, m_neg : float
        Learning rate, positive margin ``m₊`` and negative margin ``m₋``.
    wneg : float
        Weight of each negative term (``neg_weight / negative``): a negative steps with
        ``wneg * scale * alpha`` and enters the target's gradient as ``wneg * u'``.
    paper : bool
    gv : ndarray, float32, shape (D,)
        Scratch buffer.
    picks : ndarray, int32, shape (>= negative,)
        Scratch buffer for the draws.
    scale : float
        Weight of the whole term (1 for the word hinge, ``doc_weight`` for the document hinge):
        every step is ``scale * alpha`` (negatives: times ``wneg``).
    warm : float
        With ``warm > 0`` a row's ``(n+1)``-th step is at least ``scale * warm / (n + 1)``
        (:func:`_row_rate`; ``n`` counted in ``hits0`` for ``syn0`` rows, ``hitsv`` for ``v``'s
        table); 0: no floor and no counting.
    hits0, iu, hitsv, iv : int32 arrays and ints
        Step counts of the rows of ``syn0`` and of ``v``'s table; ``u`` is ``syn0[iu]``, ``v`` is
        row ``iv`` of its table.
    warm_v : float
        The floor's ``warm`` for ``v`` (``warm`` for a context row, 0 for a document, whose
        vector would otherwise keep a large rate to the end and follow its last words).
    kneg : ndarray, float64, shape (V,)
        ``κ`` of the smoothed negative terms, per word: negative ``u' = syn0[t]``'s step and
        gradient share are weighted by ``σ(kneg[t] (cos(u', v) - m₋))`` (:func:`_push_weight`); 0:
        the hinge's ``[cos > m₋]`` (:meth:`JoSE.push_smoothing`).
    pull_w : float
        Factor of ``u``'s own step (1 for the word hinge; the document hinge: the word's
        :func:`idf_pull` weight); the targets' and the negatives' steps do not take it.

    Returns
    -------
    (hinge, s)
        The hinge total with the active terms added (values before the updates) and the state.

    Notes
    -----
    Unlike the split hinge, each term is a hinge of its own: a positive pair is pulled until its
    cosine reaches ``m₊`` and every negative is pushed until its cosine falls to ``m₋``, whatever
    the other terms are. All the draws come first; then each active negative ``u'`` steps
    (``∇u' = v``), then ``u`` (``∇u = -v``), then ``v`` with ``∇v = -[pos] u + Σ[active] u'``, every
    gradient taken at the values before this call's steps (``u'`` rows are read when their turn
    comes, so a word drawn twice is read after its first step).
    """
    n = 0
    for _ in range(negative):
        s = _lcg(s)
        t = _draw(s, prob, alias)
        if t == word:
            continue
        picks[n] = t
        n += 1
    f = _dot(u, v)
    pull = f < m_pos
    for c in range(u.shape[0]):
        gv[c] = -u[c] if pull else 0.0
    if pull:
        hinge += m_pos - f
    base = scale * alpha
    for i in range(n):
        t = picks[i]
        un = syn0[t]
        h = _dot(un, v)
        wt = _push_weight(h - m_neg, kneg[t])
        if wt > 0.0:
            if h > m_neg:
                hinge += wneg * (h - m_neg)
            wt *= wneg
            for c in range(u.shape[0]):
                gv[c] += wt * un[c]
            _retract_step(un, v, 1.0, h, 1.0, wt * _row_rate(base, scale, warm, hits0, t), paper, True)
    if pull:
        _retract_step(u, v, -1.0, -f, 1.0, pull_w * _row_rate(base, scale, warm, hits0, iu), paper, False)
    gg = _dot(gv, gv)
    if gg > 0.0:
        _retract_step(v, gv, 1.0, _dot(v, gv), gg, _row_rate(base, scale, warm_v, hitsv, iv), paper, False)
    return hinge, s


@njit(inline="always")
def _push_weight(z, kappa):
    """Weight of a contrastive negative term at ``z = cos(u', v) - m₋``: the hinge's ``[z > 0]``
    for ``kappa == 0``, else ``σ(kappa z)`` (the gradient of ``softplus(kappa z) / kappa``)."""
    if kappa <= 0.0:
        return 1.0 if z > 0.0 else 0.0
    return 1.0 / (1.0 + math.exp(-kappa * z))


@njit(inline="always")
def _row_rate(base, scale, warm, hits, row):
    """The step of ``row``'s next update: ``base``, or with ``warm > 0`` at least
    ``scale * warm / (n + 1)`` for a row that has taken ``n`` steps so far (``hits[row]``, then
    counted up)."""
    if warm <= 0.0:
        return base
    n = hits[row]
    hits[row] = n + 1
    r = scale * warm / (n + 1.0)
    return r if r > base else base


@njit(inline="always")
def _window_span(s, pos, n, window):
    """word2vec's shrunk window around ``pos`` in a sentence of ``n`` words: draws the shrink ``b``
    in ``[0, window)`` from the LCG state ``s`` and returns ``(state, c0, c1)``, the context
    positions being ``c0 <= cpos < c1`` (``cpos != pos``), at most ``window - b`` on each side."""
    s = _lcg(s)
    half = window - np.int64((s >> _U16) % np.uint64(window))
    return s, max(0, pos - half), min(n, pos + half + 1)


@njit(inline="always")
def _subsample(ids, a0, a1, keep, sen, s):
    """Copy the words ``ids[a0:a1]`` into ``sen``, dropping word ``w`` unless a uniform draw is at
    most ``keep[w]`` (frequent-word subsampling). Returns ``(words kept, rng state)``."""
    n = 0
    for k in range(a0, a1):
        w = ids[k]
        if keep[w] < 1.0:
            s = _lcg(s)
            if keep[w] < _uniform(s):
                continue
        sen[n] = w
        n += 1
    return n, s


@njit_fast
def _joint_pair(u, v, d, un, alpha, margin, lam, paper, update_doc, gu, gn, gv):
    """The paper's joint hinge ``max(0, m - cos(v,u) - λ cos(u,d) + cos(v,u') + λ cos(u',d))``.

    Parameters
    ----------
    u, v, d, un : ndarray, float32, shape (D,)
        Centre word (syn0), context (syn1), document, negative centre word (syn0).
    alpha, margin : float
    lam : float
        Weight ``λ`` of the document terms (1 in the paper).
    paper : bool
        Paper multiplier on the summed gradient; otherwise ``jose.c``'s multipliers, one step
        per term (``-v`` then ``-d`` for ``u``; ``v`` then ``d`` for ``u'``).
    update_doc : bool
        False during inference only: then ``u``, ``v``, ``u'`` are frozen and only ``d`` moves.
    gu, gn, gv : ndarray, float32, shape (D,)
        Scratch buffers.

    Returns
    -------
    float
        The hinge value before the update.

    Notes
    -----
    ``∇u = -(v + λd)``, ``∇u' = v + λd``, ``∇v = -(u - u')``, ``∇d = -λ(u - u')`` (Meng et al.
    2019, eq. 4 with λ = 1; §6.1).
    """
    fv = _dot(u, v)
    fd = _dot(u, d)
    hv = _dot(un, v)
    hd = _dot(un, d)
    gap = fv - hv + lam * (fd - hd)
    if gap >= margin:
        return 0.0
    n = u.shape[0]
    for c in range(n):
        gv[c] = un[c] - u[c]
    if update_doc:
        if paper:
            for c in range(n):
                gu[c] = -(v[c] + lam * d[c])
                gn[c] = v[c] + lam * d[c]
            _sphere_step(u, gu, alpha, True, False)
            _sphere_step(un, gn, alpha, True, True)
        else:
            for c in range(n):
                gu[c] = -v[c]
                gn[c] = v[c]
            _sphere_step(u, gu, alpha, False, False)
            _sphere_step(un, gn, alpha, False, True)
            for c in range(n):
                gu[c] = -lam * d[c]
                gn[c] = lam * d[c]
            _sphere_step(u, gu, alpha, False, False)
            _sphere_step(un, gn, alpha, False, True)
        _sphere_step(v, gv, alpha, paper, False)
    for c in range(n):
        gv[c] *= lam
    _sphere_step(d, gv, alpha, paper, False)
    return margin - gap


def _jose_epoch(syn0, syn1, syndoc, ids, offsets, bounds, keep, prob, alias, window, negative, margin, m_neg,
                wneg, lam, alpha0, words_before, total_words, seeds, paper, kind, loss_out, warm, hits0, hits1, kneg,
                dpull):
    """One training epoch over every document (serial, or Hogwild threads over interleaved blocks).

    Parameters
    ----------
    syn0, syn1 : ndarray, float32, shape (V, D)
        Word (``u``) and context (``v``) tables, unit rows; updated in place.
    syndoc : ndarray, float32, shape (N, D)
        Document table, unit rows (zero rows for documents with no known word).
    ids : ndarray, int32, shape (T,)
        Word ids of all documents, concatenated.
    offsets : ndarray, int64, shape (N + 1,)
        Document ``i`` is ``ids[offsets[i]:offsets[i+1]]``.
    bounds : ndarray, int64, shape (B + 1,)
        Block ``b`` is documents ``bounds[b]:bounds[b+1]`` (:func:`block_bounds`). Thread ``t`` of
        ``C = len(seeds)`` takes blocks ``t, t + C, t + 2C, ...`` in order, so the threads work
        side by side through the corpus in its order, as one thread does.
    keep : ndarray, float64, shape (V,)
        Sub-sampling keep probability of each word (>= 1: always kept).
    prob, alias : ndarray, float32 and int32, shape (V,)
        Alias tables of the unigram^0.75 distribution for negative sampling (:func:`negative_table`).
    window, negative : int
    margin, alpha0 : float
        Hinge margin (contrastive loss: the positive margin ``m₊``) and starting learning rate.
    m_neg : float
        Negative margin ``m₋`` of the contrastive loss (unused by the others).
    wneg : float
        Weight of each negative term of the contrastive loss (unused by the others).
    lam : float
        Weight of the document hinge (split and contrastive: the document step uses ``lam * alpha``;
        joint: ``λ`` of :func:`_joint_pair`).
    words_before, total_words : int
        Words trained before this epoch and ``n_iter * T`` (for the linear learning-rate decay).
    seeds : ndarray, uint64, shape (C,)
        LCG state of each thread (carried from one of its blocks to the next).
    paper : bool
        Update rule (see the module docstring).
    kind : int
        Loss: ``_SPLIT``, ``_JOINT`` or ``_CONTRAST`` (see the module docstring).
    loss_out : ndarray, float64, shape (C,)
        Receives the summed hinge of each thread.
    warm : float
        Contrastive loss: the per-row floor of the rate, ``warm / (n + 1)`` for a row's
        ``(n+1)``-th step (0: off).
    hits0, hits1 : ndarray, int32, shape (V,)
        Steps taken so far by each row of ``syn0`` and ``syn1`` (counted up; only read with
        ``warm > 0``, else they may have length 1). Kept across epochs. Document rows have no
        floor.
    kneg : ndarray, float64, shape (V,)
        Contrastive loss: ``κ`` of the smoothed negative terms, per word (:func:`_contrast_terms`; 0:
        the hinge).
    dpull : ndarray, float64, shape (V,)
        Contrastive loss: the factor of each word's pull towards its document (:func:`idf_pull`;
        all 1: the plain document hinge).

    Notes
    -----
    Per position: draw a window shrink ``b`` in ``[0, window)``; for each context position within
    ``window - b`` and each of ``negative`` draws (a draw equal to the current word is skipped) apply
    the word hinge (contrastive: one set of draws per context position); then (split and
    contrastive) the document hinge with ``negative`` fresh draws. The learning
    rate decays linearly to ``1e-4 * alpha0`` (docs/algorithms.md §6.2) with the position in the
    corpus, ``words_before + offsets[doc] + pos``, whichever thread trains it. With one thread the
    result does not depend on the blocks. (Threads over contiguous halves, as before, trained two
    distant parts of an ordered corpus at once: English SimLex-999 0.186 at ``-j 2`` against 0.205
    on one thread; 0.198 on shuffled lines and 0.198 with the blocks; bench/RESULTS.md "embed".)
    """
    n_threads = seeds.shape[0]
    n_blocks = bounds.shape[0] - 1
    dim = syn0.shape[1]
    floor = alpha0 * 1e-4
    for th in prange(n_threads):
        s = seeds[th]
        maxlen = 0
        for b in range(th, n_blocks, n_threads):
            for doc in range(bounds[b], bounds[b + 1]):
                ln = offsets[doc + 1] - offsets[doc]
                if ln > maxlen:
                    maxlen = ln
        sen = np.empty(maxlen, np.int32)
        gu = np.empty(dim, np.float32)
        gn = np.empty(dim, np.float32)
        gv = np.empty(dim, np.float32)
        picks = np.empty(negative, np.int32)
        hinge = 0.0
        for b in range(th, n_blocks, n_threads):
            for doc in range(bounds[b], bounds[b + 1]):
                a0 = offsets[doc]
                a1 = offsets[doc + 1]
                n, s = _subsample(ids, a0, a1, keep, sen, s)
                dvec = syndoc[doc]
                for pos in range(n):
                    progress = (words_before + a0 + pos) / (total_words + 1.0)
                    alpha = alpha0 * (1.0 - progress)
                    if alpha < floor:
                        alpha = floor
                    word = sen[pos]
                    s, c0, c1 = _window_span(s, pos, n, window)
                    for cpos in range(c0, c1):
                        if cpos == pos:
                            continue
                        ctx = sen[cpos]
                        if kind == _JOINT:
                            for _ in range(negative):
                                s = _lcg(s)
                                t = _draw(s, prob, alias)
                                if t == word:
                                    continue
                                hinge += _joint_pair(syn0[word], syn1[ctx], dvec, syn0[t], alpha, margin, lam,
                                                     paper, True, gu, gn, gv)
                        elif kind == _CONTRAST:
                            hinge, s = _contrast_terms(syn0[ctx], syn1[word], word, syn0, prob, alias, negative, s,
                                                       hinge, alpha, margin, m_neg, wneg, paper, gv, picks,
                                                       1.0, warm, hits0, ctx, hits1, word, warm, kneg, 1.0)
                        else:
                            hinge, s = _split_negatives(syn0[ctx], syn1[word], word, syn0, prob, alias, negative, s,
                                                        hinge, alpha, margin, paper, gv)
                    if kind == _CONTRAST:
                        hinge, s = _contrast_terms(syn0[word], dvec, word, syn0, prob, alias, negative, s,
                                                   hinge, alpha, margin, m_neg, wneg, paper, gv, picks,
                                                   lam, warm, hits0, word, hits1, 0, 0.0, kneg, dpull[word])
                    elif kind == _SPLIT:
                        hinge, s = _split_negatives(syn0[word], dvec, word, syn0, prob, alias, negative, s,
                                                    hinge, lam * alpha, margin, paper, gv)
        loss_out[th] = hinge


def _jose_infer(syn0, syn1, ids, offsets, keep, prob, alias, window, negative, margin, m_neg, wneg, lam, alpha0,
                n_iter, seeds, paper, kind, out, kneg):
    """Optimise one vector per new document with the word tables frozen.

    Parameters
    ----------
    syn0, syn1 : ndarray, float32, shape (V, D)
        Trained word and context tables (read only).
    ids : ndarray, int32, shape (T,)
    offsets : ndarray, int64, shape (N + 1,)
    keep : ndarray, float64, shape (V,)
    prob, alias : ndarray, float32 and int32, shape (V,)
    window, negative : int
    margin, m_neg, wneg, alpha0 : float
        As in :func:`_jose_epoch`.
    lam : float
        Weight of the document terms, as in training (it scales the document step).
    n_iter : int
        Passes over each document; the rate decays linearly over ``n_iter * len(doc)``.
    seeds : ndarray, uint64, shape (N,)
        LCG state of each document (documents are independent, so any thread count gives the
        same result).
    paper : bool
    kind : int
        ``_SPLIT``, ``_JOINT`` or ``_CONTRAST``.
    out : ndarray, float32, shape (N, D)
        Receives unit document vectors (a zero row for a document with no known word).
    kneg : ndarray, float64, shape (V,)
        As in :func:`_jose_epoch`.

    Notes
    -----
    The training hinge of the chosen loss with only ``d`` free: split loss
    ``max(0, m - cos(u, d) + cos(u', d))``; contrastive loss ``max(0, m₊ - cos(u, d)) +
    Σ max(0, cos(u', d) - m₋)`` with one step of ``d`` on the summed gradient per word; joint loss
    the full hinge (docs/algorithms.md §6.2,
    "infer"; Spherical-Text-Embedding#4). ``d`` starts uniform in ``(-0.5/D, 0.5/D)``, normalised.
    """
    n_docs = offsets.shape[0] - 1
    dim = syn0.shape[1]
    floor = alpha0 * 1e-4
    for doc in prange(n_docs):
        s = seeds[doc]
        a0 = offsets[doc]
        a1 = offsets[doc + 1]
        d = out[doc]
        if a1 == a0:
            for c in range(dim):
                d[c] = 0.0
            continue
        nn = 0.0
        for c in range(dim):
            s = _lcg(s)
            d[c] = (_uniform(s) - 0.5) / dim
            nn += d[c] * d[c]
        inv = 1.0 / math.sqrt(nn)
        for c in range(dim):
            d[c] *= inv
        sen = np.empty(a1 - a0, np.int32)
        gu = np.empty(dim, np.float32)
        gn = np.empty(dim, np.float32)
        gv = np.empty(dim, np.float32)
        total = n_iter * (a1 - a0) + 1.0
        for it in range(n_iter):
            n, s = _subsample(ids, a0, a1, keep, sen, s)
            for pos in range(n):
                alpha = alpha0 * (1.0 - (it * (a1 - a0) + pos) / total)
                if alpha < floor:
                    alpha = floor
                word = sen[pos]
                u = syn0[word]
                if kind == _JOINT:
                    s, c0, c1 = _window_span(s, pos, n, window)
                    for cpos in range(c0, c1):
                        if cpos == pos:
                            continue
                        for _ in range(negative):
                            s = _lcg(s)
                            t = _draw(s, prob, alias)
                            if t == word:
                                continue
                            _joint_pair(u, syn1[sen[cpos]], d, syn0[t], alpha, margin, lam, paper, False, gu, gn, gv)
                elif kind == _CONTRAST:
                    pull = _dot(u, d) < margin
                    for c in range(dim):
                        gv[c] = -u[c] if pull else 0.0
                    for _ in range(negative):
                        s = _lcg(s)
                        t = _draw(s, prob, alias)
                        if t == word:
                            continue
                        un = syn0[t]
                        wt = _push_weight(_dot(un, d) - m_neg, kneg[t])
                        if wt > 0.0:
                            wt *= wneg
                            for c in range(dim):
                                gv[c] += wt * un[c]
                    if _dot(gv, gv) > 0.0:
                        _sphere_step(d, gv, lam * alpha, paper, False)
                else:
                    for _ in range(negative):
                        s = _lcg(s)
                        t = _draw(s, prob, alias)
                        if t == word:
                            continue
                        un = syn0[t]
                        f = _dot(u, d)
                        h = _dot(un, d)
                        if f - h < margin:
                            for c in range(dim):
                                gv[c] = un[c] - u[c]
                            _sphere_step(d, gv, lam * alpha, paper, False)


# Both builds once, at import (compiled lazily on first call; cached on disk under distinct names).
# fastmath on both training builds: without it the float32 dot products inlined into the kernel do
# not vectorise; no fastmath for inference, so that serial and parallel give the same numbers.
_jose_epoch_serial, _jose_epoch_parallel = serial_and_parallel(_jose_epoch, fast=True)
_jose_infer_serial, _jose_infer_parallel = serial_and_parallel(_jose_infer)


# --------------------------------------------------------------------------------------------
# driver helpers
# --------------------------------------------------------------------------------------------

def splitmix64(*keys):
    """A well-mixed uint64 (as a Python int) from integer keys: the per-thread LCG seeds."""
    z = 0x9E3779B97F4A7C15
    for k in keys:
        z = (z + (int(k) & _MASK64) + 0x9E3779B97F4A7C15) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        z ^= z >> 31
    return z


def keep_probabilities(counts, sample):
    """word2vec sub-sampling: keep a word of count ``f`` with ``(sqrt(f/(sN)) + 1) sN / f``.

    ``N = sum(counts)``; ``sample <= 0`` keeps everything (probability 2).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0 or counts.size == 0:
        return np.full(counts.shape, 2.0)
    sn = sample * counts.sum()
    return (np.sqrt(counts / sn) + 1.0) * sn / counts


@njit
def _build_alias(w, prob, alias):
    """Vose's construction of Walker's alias tables, in place.

    Parameters
    ----------
    w : ndarray, float64, shape (V,)
        Non-negative weights with a positive sum.
    prob : ndarray, float32, shape (V,)
        Receives the probability of keeping slot ``i`` (1 for a slot that never aliases).
    alias : ndarray, int32, shape (V,)
        Receives the other word of slot ``i``.

    Notes
    -----
    Slot ``i`` gets mass ``1 / V`` split between ``i`` (``prob[i]``) and ``alias[i]``; a word whose
    scaled weight ``V w / sum`` is below 1 fills its own slot and takes the rest from a word above 1
    (Vose, IEEE TSE 17(9), 1991). Stacks are processed last in, first out, so the result is fixed.
    """
    n = w.shape[0]
    scaled = w * (n / w.sum())
    small = np.empty(n, np.int64)
    large = np.empty(n, np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        alias[i] = i
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        lo = small[ns]
        hi = large[nl - 1]
        prob[lo] = scaled[lo]
        alias[lo] = hi
        scaled[hi] = (scaled[hi] + scaled[lo]) - 1.0
        if scaled[hi] < 1.0:
            nl -= 1
            small[ns] = hi
            ns += 1
    for k in range(nl):
        prob[large[k]] = 1.0
    for k in range(ns):
        prob[small[k]] = 1.0  # rounding leftovers: a full slot of its own


def negative_table(counts, power=0.75):
    """word2vec's unigram^0.75 negative-sampling distribution as alias tables.

    Parameters
    ----------
    counts : array of int, shape (V,)
    power : float

    Returns
    -------
    prob : ndarray, float32, shape (V,)
    alias : ndarray, int32, shape (V,)
        :func:`_draw` returns word ``w`` with probability ``counts[w] ** power / sum``: 8 bytes per
        word, where word2vec's table of ``1e8`` ids takes 400 MB whatever the vocabulary.
    """
    w = np.asarray(counts, dtype=np.float64) ** power
    prob = np.empty(len(w), dtype=np.float32)
    alias = np.empty(len(w), dtype=np.int32)
    _build_alias(w, prob, alias)
    return prob, alias


@njit
def _doc_freq(ids, offsets, n_words):
    """Number of documents holding each word id (one pass, a last-seen document per word)."""
    df = np.zeros(n_words, np.int64)
    last = np.full(n_words, -1, np.int64)
    for doc in range(offsets.shape[0] - 1):
        for k in range(offsets[doc], offsets[doc + 1]):
            w = ids[k]
            if last[w] != doc:
                last[w] = doc
                df[w] += 1
    return df


def idf_pull(ids, offsets, n_words, power):
    """Factor of each word's pull towards its document: ``idf(w) ** power``, with the normalised
    ``idf(w) = log(N / df(w)) / log(N)`` over the ``N`` non-empty documents (1 for a word found in
    one document, 0 for a word found in every one; all 1 with ``power == 0`` or ``N <= 1``).

    A word found in a large share of the documents says little about any one of them, so its pull
    towards each document's vector mostly adds relatedness (the reasoning of frequent-word
    sub-sampling, applied to documents); bench/RESULTS.md "embed", "Tenth round". Memory: two
    int64 per word; time: one pass over the ids.
    """
    if power == 0:
        return np.ones(n_words, np.float64)
    n = int(np.count_nonzero(np.diff(offsets)))
    if n <= 1:
        return np.ones(n_words, np.float64)
    df = _doc_freq(ids, offsets, n_words)
    idf = np.log(n / np.maximum(df, 1)) / math.log(n)
    return np.clip(idf, 0.0, 1.0) ** power


def chunk_bounds(offsets, n_chunks):
    """Cut documents into ``n_chunks`` contiguous ranges of about equal token counts (int64)."""
    n_docs = len(offsets) - 1
    n_chunks = max(1, min(int(n_chunks), max(n_docs, 1)))
    targets = np.linspace(0, offsets[-1], n_chunks + 1)
    b = np.searchsorted(offsets, targets, side="left").astype(np.int64)
    b[0], b[-1] = 0, n_docs
    return np.maximum.accumulate(np.clip(b, 0, n_docs))


EPOCH_BLOCK = 1 << 14  # tokens per block of an epoch; threads take blocks in turn (:func:`_jose_epoch`)


def block_bounds(offsets, n_threads, block=EPOCH_BLOCK):
    """Cut documents into contiguous blocks of about ``block`` tokens, at least ``n_threads`` of
    them (fewer only with fewer documents), for :func:`_jose_epoch`'s threads to take in turn."""
    return chunk_bounds(offsets, max(int(n_threads), -(-int(offsets[-1]) // int(block))))


def random_unit_rows(n, dim, rng, block=8192):
    """``n`` float32 unit rows drawn uniform in ``(-0.5/dim, 0.5/dim)`` and normalised (jose.c).

    Drawn in place, ``block`` rows at a time: no temporary of the table's size.
    """
    x = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, block):
        b = x[start:start + block]
        rng.random(out=b, dtype=np.float32)
        b -= np.float32(0.5)
        b /= np.float32(dim)
    return normalize_rows(x, block)


def init_word_vectors(syn0, words, init_words, init_vectors):
    """Overwrite the rows of ``syn0`` whose word has a pretrained vector with that vector, normalised
    (jose.c's ``-load-emb``).

    Parameters
    ----------
    syn0 : ndarray of float32, shape (V, D)
        The randomly started word table, changed in place; rows of words without a pretrained
        vector (or with an all-zero one, which has no direction) keep their random start.
    words : list of str
        The vocabulary of ``syn0``.
    init_words : list of str
        Words of the pretrained file; the first of repeated words wins, words outside ``words`` are
        ignored.
    init_vectors : ndarray, shape (M, D)

    Returns
    -------
    int
        Rows overwritten.

    Raises :class:`TextmineError` when the dimensions differ.
    """
    init_vectors = _check_init(init_words, init_vectors, syn0.shape[1])
    row = {}
    for i, w in enumerate(init_words):
        row.setdefault(w, i)
    dst = np.array([i for i, w in enumerate(words) if w in row], dtype=np.int64)
    src = np.array([row[words[i]] for i in dst], dtype=np.int64)
    for start in range(0, dst.size, 8192):
        b = np.asarray(init_vectors[src[start:start + 8192]], dtype=np.float64)
        norms = np.linalg.norm(b, axis=1)
        ok = norms > 0
        syn0[dst[start:start + 8192][ok]] = (b[ok] / norms[ok, None]).astype(np.float32)
        dst[start:start + 8192][~ok] = -1
    return int((dst >= 0).sum())


def _check_init(init_words, init_vectors, dim):
    init_vectors = np.asarray(init_vectors)
    if init_vectors.ndim != 2 or init_vectors.shape[0] != len(init_words):
        raise TextmineError(f"--init: {len(init_words)} words but vectors of shape {init_vectors.shape}")
    if init_vectors.shape[1] != dim:
        raise TextmineError(f"--init vectors have {init_vectors.shape[1]} dimensions but --dim is {dim}; "
                            f"give --dim {init_vectors.shape[1]}")
    return init_vectors


def normalize_rows(x, block=8192):
    """Scale the rows of ``x`` (float32, shape (n, D)) to unit norm in place; zero rows stay zero.

    Works ``block`` rows at a time, so the float64 temporaries stay small.
    """
    for start in range(0, x.shape[0], block):
        b = x[start:start + block]
        norms = np.sqrt(np.einsum("ij,ij->i", b, b, dtype=np.float64))
        norms[norms == 0] = 1.0
        b /= norms[:, None].astype(np.float32)
    return x


class EncodedCorpus:
    """A corpus as ``int32`` word ids with ``int64`` CSR document offsets.

    Attributes
    ----------
    words : list of str
        The vocabulary, by count descending, then code point.
    counts : ndarray, int64, shape (V,)
    ids : ndarray, int32, shape (T,)
    offsets : ndarray, int64, shape (N + 1,)
    n_raw_tokens : int
        Tokens read, out-of-vocabulary ones included.
    """

    def __init__(self, words, counts, ids, offsets, n_raw_tokens):
        self.words, self.counts, self.ids, self.offsets = words, counts, ids, offsets
        self.n_raw_tokens = n_raw_tokens

    @property
    def n_docs(self):
        return len(self.offsets) - 1


def _read_ids(documents, lowercase, lookup=None):
    """Stream documents into provisional ids; ``lookup`` fixed (inference) or grown (training)."""
    ids = array("i")
    offsets = array("q", [0])
    raw = 0
    if lookup is None:
        index = {}
        setdefault = index.setdefault
        for doc in documents:
            if lowercase:
                doc = doc.lower()
            toks = doc.split()
            raw += len(toks)
            ids.extend([setdefault(w, len(index)) for w in toks])
            offsets.append(len(ids))
        return index, ids, offsets, raw
    get = lookup.get
    for doc in documents:
        if lowercase:
            doc = doc.lower()
        toks = doc.split()
        raw += len(toks)
        ids.extend([i for i in (get(w, -1) for w in toks) if i >= 0])
        offsets.append(len(ids))
    return lookup, ids, offsets, raw


@njit
def _compact_ids(ids, offsets, remap):
    """Map provisional ids to final ones and drop the unknown, in place.

    Parameters
    ----------
    ids : ndarray, int32, shape (T,)
        Provisional ids of all documents, concatenated; the first ``n`` entries are overwritten
        with the kept final ids.
    offsets : ndarray, int64, shape (N + 1,)
        CSR offsets into ``ids``; overwritten with the offsets into the compacted ids.
    remap : ndarray, int32, shape (V0,)
        Final id of each provisional id, -1 for a dropped word.

    Returns
    -------
    int
        ``n``, the number of kept tokens.

    Notes
    -----
    Writes never overtake reads (``n <= k``), so no second corpus-sized array is needed.
    """
    n = 0
    start = offsets[0]
    for doc in range(offsets.shape[0] - 1):
        stop = offsets[doc + 1]
        for k in range(start, stop):
            w = remap[ids[k]]
            if w >= 0:
                ids[n] = w
                n += 1
        offsets[doc + 1] = n
        start = stop
    offsets[0] = 0
    return n


def encode_corpus(documents, min_count=5, lowercase=False):
    """Build the vocabulary and integer-code a stream of documents in one pass.

    Parameters
    ----------
    documents : iterable of str
        One document per item, whitespace-tokenised. Read once (stdin works).
    min_count : int
        Drop words that occur fewer times.
    lowercase : bool
        Lowercase every document first.

    Returns
    -------
    EncodedCorpus

    Raises
    ------
    TextmineError
        No token at all, or no word reaching ``min_count``.

    Notes
    -----
    Memory: one ``str`` and a dict slot per distinct word while reading, 4 bytes per token and 8 per
    document; the ids are remapped and compacted in place (:func:`_compact_ids`), and the vocabulary
    is sorted with numpy on object arrays (no per-word tuples).
    """
    index, ids, offsets, raw = _read_ids(documents, lowercase)
    if raw == 0:
        raise TextmineError("the corpus is empty: no tokens in the input")
    ids = np.frombuffer(ids, dtype=np.int32)
    offsets = np.frombuffer(offsets, dtype=np.int64)
    words = np.empty(len(index), dtype=object)
    words[:] = list(index)
    del index
    counts = np.bincount(ids, minlength=len(words)).astype(np.int64)
    kept = np.flatnonzero(counts >= min_count)
    if kept.size == 0:
        raise TextmineError(
            f"the vocabulary is empty: no word occurs {min_count} times (the most frequent occurs "
            f"{int(counts.max())} times); lower --min-count")
    order = kept[np.argsort(words[kept], kind="stable")]  # by code point ...
    order = order[np.argsort(-counts[order], kind="stable")]  # ... within count descending
    remap = np.full(len(words), -1, dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    n = _compact_ids(ids, offsets, remap)
    return EncodedCorpus(words[order].tolist(), counts[order], ids[:n], offsets, raw)


# --------------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------------

class JoSE:
    """Joint spherical embedding of words and documents (JoSE).

    Parameters
    ----------
    dim : int
        Dimension ``p`` of the sphere ``S^{p-1}``.
    window : int
        Maximum context distance (shrunk at random per position, as in word2vec).
    negative : int
        Negative samples per positive pair (>= 1).
    margin : float or None
        Hinge margin ``m``; for the contrastive loss the positive margin ``m₊``. None: the loss's
        default, :data:`DEFAULT_MARGIN` (contrastive 0.4, split and joint 0.25, chosen on the
        even-numbered SimLex-999 pairs, bench/RESULTS.md; ``jose.c``: 0.15).
    neg_margin : float
        Negative margin ``m₋`` of the contrastive loss (a negative is pushed while its cosine is
        above it); ignored by the other losses.
    neg_weight : float
        Contrastive loss only: the total weight of the ``negative`` negative terms of one hinge;
        each weighs ``neg_weight / negative`` (its step and its share of the target's gradient).
        The push on the word vectors then does not grow with ``negative``; 2 reproduces the
        unweighted loss at the default ``negative=2`` (bench/RESULTS.md "embed", fifth round).
    neg_smooth : float
        Contrastive loss only: ``κ`` of the smoothed negative terms ``softplus(κ (cos(u', v) - m₋)) / κ``
        (a push of weight ``σ(κ (cos - m₋))``, in training and in :meth:`infer`); 0 (default) is the
        hinge ``max(0, cos(u', v) - m₋)``. 10 stops the most frequent words from gathering as each
        other's nearest neighbours (module docstring).
    freq_smooth : float
        Contrastive loss only: ``κ`` of the negative terms of the sub-sampled words (those whose
        keep probability is below 1, count above about ``2.6 sample N``; the others use
        ``neg_smooth``): the words whose pulls sub-sampling thins while their pushes are not, which
        the hinge parks together at ``m₋`` (:meth:`push_smoothing`). 0: ``neg_smooth`` for them too.
    doc_weight : float
        Weight ``λ`` of the document part of the loss against the word-context part (``jose.c``
        and the paper: 1). Split loss: the document hinge's step is ``λ alpha``; joint loss:
        ``cos(u, d)`` and ``cos(u', d)`` enter the hinge times ``λ``.
    doc_idf : float
        Contrastive loss: a word's step towards its document's vector is weighted by its normalised
        inverse document frequency to the power ``p`` (:meth:`pull_weights`), so words found in many
        documents are pulled less; the words that sub-sampling thins keep the full pull, and the
        pushes and the document's own step are unchanged. 0: the plain document hinge (the default
        before 0.5). 0.5 (default) trades relatedness for similarity (bench/RESULTS.md "embed",
        "Eleventh round"); 1 leans further towards similarity.
    alpha : float or None
        Starting learning rate; decays linearly to ``1e-4 * alpha``. None (default):
        ``0.4 / n_iter`` (:data:`ALPHA_BUDGET`; 0.04 at 10 epochs, 0.08 at 5), the same total
        step budget at every epoch count (see the module docstring).
    n_iter : int
        Epochs.
    min_count : int
        Words rarer than this are dropped.
    sample : float
        Sub-sampling threshold (0 disables).
    n_jobs : int
        Hogwild threads; 1 is deterministic for a given ``random_state``.
    random_state : int
        Seed.
    update : {"paper", "reference"}
        Step multipliers of the paper (default) or of ``jose.c``.
    loss : {"split", "joint", "contrastive"}
        ``jose.c``'s two hinges, the paper's single joint hinge, or one hinge per term (see the
        module docstring).
    lowercase : bool
        Lowercase documents before tokenising (also applied by :meth:`infer`).

    Attributes
    ----------
    words_ : list of str
    counts_ : ndarray, int64, shape (V,)
    word_vectors_ : ndarray, float32, shape (V, D)
        ``u`` (``syn0``), unit rows: the vectors to use for word similarity.
    context_vectors_ : ndarray, float32, shape (V, D)
        ``v`` (``syn1neg``), unit rows.
    doc_vectors_ : ndarray, float32, shape (N, D)
        ``d``, unit rows; a zero row for a document without a known word.
    n_tokens_ : int
        In-vocabulary tokens of the training corpus.
    train_seconds_, train_cpu_seconds_ : float
        Wall and CPU (all threads) time of the epochs alone.
    epoch_loss_ : list of float
        Mean hinge per trained (position, negative) draw in each epoch.

    Notes
    -----
    Meng et al., "Spherical Text Embedding", NeurIPS 2019, §3–4 (model, Riemannian update,
    retraction); ``yumeng5/Spherical-Text-Embedding`` ``src/jose.c`` for the reference behaviour;
    Su, kexue.fm 7063. See docs/algorithms.md §6.

    Examples
    --------
    >>> docs = ["a b c a b c"] * 20 + ["x y z x y z"] * 20
    >>> m = JoSE(dim=8, min_count=1, n_iter=2, n_jobs=1, random_state=0).fit(docs)
    >>> m.word_vectors_.shape, m.doc_vectors_.shape
    ((6, 8), (40, 8))
    """

    def __init__(self, dim=100, window=5, negative=2, margin=None, alpha=None, n_iter=10, min_count=5,
                 sample=1e-3, n_jobs=1, random_state=1, update="paper", loss="contrastive", lowercase=False,
                 doc_weight=1.0, neg_margin=-0.1, neg_weight=2.0, warm=0.0, neg_smooth=NEG_SMOOTH,
                 freq_smooth=FREQ_SMOOTH, doc_idf=DOC_IDF):
        self.neg_smooth = neg_smooth
        self.freq_smooth = freq_smooth
        self.dim = dim
        self.window = window
        self.negative = negative
        self.margin = margin
        self.alpha = alpha
        self.n_iter = n_iter
        self.min_count = min_count
        self.sample = sample
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.update = update
        self.loss = loss
        self.lowercase = lowercase
        self.doc_weight = doc_weight
        self.doc_idf = doc_idf
        self.neg_margin = neg_margin
        self.neg_weight = neg_weight
        self.warm = warm

    def get_params(self):
        return {k: getattr(self, k) for k in ("dim", "window", "negative", "margin", "alpha", "n_iter",
                                               "min_count", "sample", "n_jobs", "random_state", "update",
                                               "loss", "lowercase", "doc_weight", "doc_idf", "neg_margin", "neg_weight", "warm", "neg_smooth",
                                               "freq_smooth")}

    def _check(self):
        def need(ok, msg):
            if not ok:
                raise TextmineError(msg)
        need(int(self.dim) >= 1, f"--dim must be at least 1, not {self.dim}")
        need(int(self.window) >= 1, f"--window must be at least 1, not {self.window}")
        need(int(self.negative) >= 1, f"--negative must be at least 1, not {self.negative}")
        need(int(self.n_iter) >= 1, f"--iter must be at least 1, not {self.n_iter}")
        need(int(self.min_count) >= 1, f"--min-count must be at least 1, not {self.min_count}")
        need(int(self.n_jobs) >= 1, f"-j must be at least 1, not {self.n_jobs}")
        need(self.loss in LOSSES, f"loss must be one of {LOSSES}, not {self.loss!r}")
        margin = self.margin_
        need(math.isfinite(margin) and margin > 0, f"--margin must be > 0, not {margin}")
        need(math.isfinite(self.neg_margin) and -1 <= self.neg_margin < 1,
             f"--neg-margin must be in [-1, 1), not {self.neg_margin}")
        need(self.loss != "contrastive" or self.neg_margin < margin,
             f"--neg-margin ({self.neg_margin}) must be below --margin ({margin}) for the contrastive loss")
        need(self.alpha is None or (math.isfinite(self.alpha) and self.alpha > 0),
             f"--alpha must be > 0, not {self.alpha}")
        need(math.isfinite(self.doc_weight) and self.doc_weight > 0,
             f"--doc-weight must be > 0, not {self.doc_weight}")
        need(math.isfinite(self.doc_idf) and self.doc_idf >= 0, f"--doc-idf must be a finite number >= 0, not {self.doc_idf}")
        need(math.isfinite(self.neg_weight) and self.neg_weight > 0,
             f"--neg-weight must be > 0, not {self.neg_weight}")
        need(math.isfinite(self.sample) and self.sample >= 0, f"--sample must be >= 0, not {self.sample}")
        need(math.isfinite(self.warm) and self.warm >= 0, f"--warm must be >= 0, not {self.warm}")
        need(math.isfinite(self.neg_smooth) and self.neg_smooth >= 0,
             f"neg_smooth must be >= 0, not {self.neg_smooth}")
        need(math.isfinite(self.freq_smooth) and self.freq_smooth >= 0,
             f"freq_smooth must be >= 0, not {self.freq_smooth}")
        need(self.update in UPDATES, f"update must be one of {UPDATES}, not {self.update!r}")

    @property
    def margin_(self):
        """The margin in use: ``margin``, or the loss's default (:data:`DEFAULT_MARGIN`) when None."""
        return float(DEFAULT_MARGIN[self.loss] if self.margin is None else self.margin)

    @property
    def alpha_(self):
        """The starting rate in use: ``alpha``, or ``ALPHA_BUDGET / n_iter`` when None."""
        return rate_for(self.alpha, self.n_iter)

    def push_smoothing(self, counts):
        """``κ`` of each word's negative terms (float64, shape (V,)): ``freq_smooth`` for the words
        that sub-sampling thins (keep probability below 1), when it is above 0, else ``neg_smooth``.

        Such a word's pulls come at its kept rate, its pushes as a negative at the full
        unigram^0.75 rate, so with the hinge it is pushed against every context until the cosine
        sits at ``m₋`` and all such words meet there (bench/RESULTS.md "Frequent words as
        neighbours"); the smoothed push lets each pair settle by how often it co-occurs.
        """
        kappa = np.full(len(counts), float(self.neg_smooth), np.float64)
        if float(self.freq_smooth) > 0 and len(counts):
            kappa[keep_probabilities(counts, float(self.sample)) < 1.0] = float(self.freq_smooth)
        return kappa

    def pull_weights(self, corpus):
        """Factor of each word's step towards its document's vector (float64, shape (V,)):
        :func:`idf_pull` with ``doc_idf`` as the power, but 1 for the words that sub-sampling thins
        (keep probability below 1, as in :meth:`push_smoothing`).

        Those words are in many documents, so their idf is near 0; their pulls already come at
        the kept rate while their pushes do not, and without the document pull too they would be
        parked together at the negative margin (each other's nearest neighbours; the test corpus
        of tests/test_jose_hubs.py: top-word share 0.99 instead of 0.24).
        """
        weights = idf_pull(corpus.ids, corpus.offsets, len(corpus.words), float(self.doc_idf))
        if float(self.doc_idf) > 0 and len(weights):
            weights[keep_probabilities(corpus.counts, float(self.sample)) < 1.0] = 1.0
        return weights

    @property
    def neg_step_(self):
        """Weight of each negative term of the contrastive loss: ``neg_weight / negative``."""
        return float(self.neg_weight) / int(self.negative)

    def fit(self, documents, progress=None, init=None):
        """Train on an iterable of documents (one string per document, whitespace-tokenised).

        Parameters
        ----------
        documents : iterable of str
            Read once; empty and all-unknown documents are allowed (they get zero vectors).
        progress : callable, optional
            ``progress(epoch_done, n_iter)`` after every epoch.
        init : (list of str, ndarray of shape (M, dim)), optional
            Pretrained word vectors to start from (:func:`init_word_vectors`); the number of
            vocabulary words started from them is ``n_init_words_``.

        Returns
        -------
        self
        """
        self._check()
        if init is not None:
            _check_init(*init, int(self.dim))
        corpus = documents if isinstance(documents, EncodedCorpus) else encode_corpus(
            documents, int(self.min_count), bool(self.lowercase))
        return self._fit_encoded(corpus, progress, init)

    def _fit_encoded(self, corpus, progress=None, init=None):
        self._check()
        dim, n_iter = int(self.dim), int(self.n_iter)
        v, n_docs = len(corpus.words), corpus.n_docs
        rng = np.random.default_rng(int(self.random_state))
        syn0 = random_unit_rows(v, dim, rng)
        syn1 = random_unit_rows(v, dim, rng)
        syndoc = random_unit_rows(n_docs, dim, rng)
        self.n_init_words_ = 0 if init is None else init_word_vectors(syn0, corpus.words, *init)
        syndoc[np.diff(corpus.offsets) == 0] = 0.0
        keep = keep_probabilities(corpus.counts, float(self.sample))
        prob, alias = negative_table(corpus.counts)
        kappa = self.push_smoothing(corpus.counts)
        dpull = self.pull_weights(corpus)
        jobs = int(self.n_jobs)
        bounds = block_bounds(corpus.offsets, jobs)
        n_threads = max(1, min(jobs, len(bounds) - 1))
        total = n_iter * int(corpus.offsets[-1])
        # the parallel build even for one thread: its loop body, outlined by numba's parfor pass, runs
        # 1.5x faster than the serial build's (Chinese bench corpus, 3 epochs: 6.9 s against 10.4 s),
        # with the same numbers bit for bit (tested)
        set_num_threads(jobs)
        kernel = _jose_epoch_parallel
        warm = float(self.warm) if self.loss == "contrastive" else 0.0
        hits0, hits1 = (np.zeros(v if warm > 0 else 1, np.int32) for _ in range(2))
        self.epoch_loss_ = []
        seconds = cpu = 0.0
        for epoch in range(n_iter):
            seeds = np.array([splitmix64(self.random_state, epoch, t) for t in range(n_threads)], dtype=np.uint64)
            loss = np.zeros(n_threads)
            t0, c0 = time.perf_counter(), time.process_time()
            with np.errstate(over="ignore"):
                kernel(syn0, syn1, syndoc, corpus.ids, corpus.offsets, bounds, keep, prob, alias, int(self.window),
                       int(self.negative), self.margin_, float(self.neg_margin), self.neg_step_, float(self.doc_weight),
                       self.alpha_, epoch * int(corpus.offsets[-1]), total, seeds, self.update == "paper",
                       LOSSES.index(self.loss), loss, warm, hits0, hits1, kappa, dpull)
            for table_ in (syn0, syn1, syndoc):
                normalize_rows(table_)
            seconds += time.perf_counter() - t0
            cpu += time.process_time() - c0
            pairs = max(1, int(corpus.offsets[-1]) * int(self.negative) * (int(self.window) + 1))
            self.epoch_loss_.append(float(loss.sum()) / pairs)
            log.info("epoch %d/%d: hinge %.5f", epoch + 1, n_iter, self.epoch_loss_[-1])
            if progress is not None:
                progress(epoch + 1, n_iter)
        self.words_ = corpus.words
        self.counts_ = corpus.counts
        self.word_vectors_ = syn0
        self.context_vectors_ = syn1
        self.doc_vectors_ = syndoc
        self.n_tokens_ = int(corpus.offsets[-1])
        self.n_raw_tokens_ = corpus.n_raw_tokens
        self.n_docs_ = n_docs
        self.train_seconds_ = seconds
        self.train_cpu_seconds_ = cpu
        return self

    def infer(self, documents, n_iter=None, alpha=None, random_state=None, n_jobs=None):
        """Vectors for unseen documents, with the trained word tables frozen.

        Parameters
        ----------
        documents : iterable of str
        n_iter, alpha, random_state, n_jobs : optional
            Override the training values (a model trained with the default ``alpha=None`` infers
            from ``0.4 / n_iter``, with this call's ``n_iter``).

        Returns
        -------
        ndarray, float32, shape (N, D)
            Unit rows; a zero row for a document with no known word.
        """
        if not hasattr(self, "word_vectors_"):
            raise TextmineError("the model is not trained")
        n_iter = int(self.n_iter if n_iter is None else n_iter)
        alpha = rate_for(self.alpha if alpha is None else alpha, n_iter)
        seed = int(self.random_state if random_state is None else random_state)
        jobs = int(self.n_jobs if n_jobs is None else n_jobs)
        if n_iter < 1:
            raise TextmineError(f"--iter must be at least 1, not {n_iter}")
        if not (math.isfinite(alpha) and alpha > 0):
            raise TextmineError(f"--alpha must be > 0, not {alpha}")
        lookup = {w: i for i, w in enumerate(self.words_)}
        _, ids, offsets, raw = _read_ids(documents, bool(self.lowercase), lookup)
        ids = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, np.int32)
        offsets = np.frombuffer(offsets, dtype=np.int64)
        n_docs = len(offsets) - 1
        self.infer_raw_tokens_, self.infer_known_tokens_ = raw, int(offsets[-1])
        out = np.zeros((n_docs, self.word_vectors_.shape[1]), dtype=np.float32)
        if n_docs == 0:
            return out
        seeds = np.array([splitmix64(seed, 0x1F, i) for i in range(n_docs)], dtype=np.uint64)
        keep = keep_probabilities(self.counts_, float(self.sample))
        prob, alias = negative_table(self.counts_)
        # the parallel build even for one thread, as in training: 1.1-1.2x faster than the serial
        # build on one thread (Chinese bench corpus, 39k documents: 1.32-1.47 s against 1.59-1.60 s),
        # the same numbers bit for bit (no fastmath in either build; tested)
        set_num_threads(jobs)
        with np.errstate(over="ignore"):
            _jose_infer_parallel(self.word_vectors_, self.context_vectors_, ids, offsets, keep, prob, alias, int(self.window),
                   int(self.negative), self.margin_, float(self.neg_margin), self.neg_step_, float(self.doc_weight),
                   alpha,
                   n_iter, seeds, self.update == "paper", LOSSES.index(self.loss), out,
                   self.push_smoothing(self.counts_))
        return out

    # ---- persistence: .npz arrays + .json sidecar, no pickles ----

    def save(self, path):
        """Save the trained model: ``path`` (``.npz``: u, v, counts) and its ``.json`` sidecar
        (format, version, parameters, vocabulary). Both are written atomically."""
        from textmine import __version__
        from textmine.formats import atomic_output, outputs_together

        if not hasattr(self, "word_vectors_"):
            raise TextmineError("the model is not trained")
        side = sidecar_path(path)
        meta = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "textmine": __version__,
                "params": dict(self.get_params(), margin=self.margin_), "n_tokens": self.n_tokens_, "words": list(self.words_)}
        with outputs_together():  # both files or neither
            with atomic_output(path, "wb") as f:
                np.savez(f, word_vectors=self.word_vectors_, context_vectors=self.context_vectors_,
                         counts=self.counts_)
            with atomic_output(side, "w") as f:
                json.dump(meta, f, ensure_ascii=False)
                f.write("\n")
        return self

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save` (``path`` is the ``.npz``)."""
        side = sidecar_path(path)
        for p in (path, side):
            if not os.path.exists(p):
                raise TextmineError(f"{p}: no such file (a model is the .npz and .json written by --save-model)")
        try:
            with open(side, encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError) as e:
            raise TextmineError(f"{side}: not a textmine JoSE model sidecar ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
            raise TextmineError(f"{side}: not a textmine JoSE model sidecar")
        if meta.get("version") != MODEL_VERSION:
            raise TextmineError(f"{side}: model version {meta.get('version')} is not supported")
        try:
            with np.load(path, allow_pickle=False) as z:
                u, v, counts = z["word_vectors"], z["context_vectors"], z["counts"]
        except (OSError, ValueError, KeyError) as e:
            raise TextmineError(f"{path}: not a textmine JoSE model ({e})") from None
        words = meta["words"]
        if not (u.shape == v.shape and u.ndim == 2 and len(words) == u.shape[0] == counts.shape[0]):
            raise TextmineError(f"{path}: arrays do not match the vocabulary of {side}")
        params = {k: val for k, val in meta["params"].items() if k in cls().get_params()}
        params.setdefault("neg_weight", params.get("negative", 2))  # before neg_weight: weight 1 per negative
        params.setdefault("warm", 0.0)  # trained before --warm (inference does not use it)
        params.setdefault("neg_smooth", 0.0)  # trained before neg_smooth: the hinge
        params.setdefault("freq_smooth", 0.0)  # trained before freq_smooth: the hinge
        params.setdefault("doc_idf", 0.0)  # trained before doc_idf: the plain document pull
        m = cls(**params)
        try:
            m._check()
        except TextmineError as e:
            raise TextmineError(f"{side}: bad parameters ({e})") from None
        m.words_, m.counts_ = words, counts.astype(np.int64)
        m.word_vectors_ = np.ascontiguousarray(u, dtype=np.float32)
        m.context_vectors_ = np.ascontiguousarray(v, dtype=np.float32)
        m.n_tokens_ = meta.get("n_tokens")
        return m


def rate_for(alpha, n_iter):
    """The starting learning rate: ``alpha``, or when it is None ``ALPHA_BUDGET / n_iter``.

    Examples
    --------
    >>> rate_for(None, 10), rate_for(None, 5), rate_for(0.03, 5)
    (0.04, 0.08, 0.03)
    """
    return float(ALPHA_BUDGET / int(n_iter) if alpha is None else alpha)


def sidecar_path(path):
    """The JSON sidecar of a model file: ``model.npz`` -> ``model.json``."""
    root, ext = os.path.splitext(path)
    return (root if ext == ".npz" else path) + ".json"


def train_jose(documents, **params):
    """Function API: ``JoSE(**params).fit(documents)``."""
    return JoSE(**params).fit(documents)


def most_similar(words, vectors, query, k=10):
    """The ``k`` nearest words to ``query`` by cosine.

    Parameters
    ----------
    words : list of str
    vectors : ndarray, shape (V, D)
    query : str
    k : int

    Returns
    -------
    list of (str, float)
        Best first, the query itself excluded; ties by vocabulary order.

    Examples
    --------
    >>> most_similar(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1.0]]), "a", k=1)
    [('b', 0.9938837346736189)]
    """
    try:
        qi = words.index(query)
    except ValueError:
        raise TextmineError(f"{query!r} is not in the vocabulary ({len(words)} words)") from None
    if k < 1:
        raise TextmineError(f"-k must be at least 1, not {k}")
    x = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1)
    norms[norms == 0] = 1.0
    sims = (x @ x[qi]) / (norms * norms[qi])
    sims[qi] = -np.inf
    k = min(k, len(words) - 1)
    order = np.argsort(-sims, kind="stable")[:k]
    return [(words[i], float(sims[i])) for i in order]
