"""JoSE: kernels against their naive twins, model invariants, persistence and the CLI."""
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import naive_jose as nj
from conftest import JIT_DISABLED
from textmine import jose
from textmine._numba import set_num_threads
from textmine.cli import cli
from textmine.errors import TextmineError

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
slow_without_jit = pytest.mark.skipif(JIT_DISABLED, reason="too slow without the JIT")


def topic_docs(n=300, seed=0, length=30):
    """Two topics (words a*, b*) plus shared filler c*; even documents are topic a."""
    rng = np.random.default_rng(seed)
    docs = []
    for i in range(n):
        t = "ab"[i % 2]
        words = [f"{t}{rng.integers(20)}" for _ in range(length)] + [f"c{rng.integers(10)}" for _ in range(5)]
        rng.shuffle(words)
        docs.append(" ".join(words))
    return docs


def random_corpus(seed, n_docs=6, vocab=9, dim=6):
    rng = np.random.default_rng(seed)
    docs = [list(rng.integers(0, vocab, size=rng.integers(0, 12))) for _ in range(n_docs)]
    counts = np.bincount(np.concatenate([np.asarray(d, dtype=np.int64) for d in docs] + [np.arange(vocab)]),
                         minlength=vocab)
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(d) for d in docs])
    ids = np.array([w for d in docs for w in d], dtype=np.int32)
    tables = [jose.random_unit_rows(k, dim, rng) for k in (vocab, vocab, n_docs)]
    return docs, counts, ids, offsets, tables


# ---------------------------------------------------------------- primitives

def test_lcg_uniform_draw_match_naive():
    prob, alias = jose.negative_table(np.array([5, 3, 1, 1]))
    s, t = np.uint64(12345), 12345
    for _ in range(200):
        s, t = np.uint64(jose._lcg(s)), nj.lcg(t)  # from Python numba returns an int: keep it uint64
        assert int(s) == t
        assert jose._uniform(s) == nj.uniform(t)
        assert jose._draw(s, prob, alias) == nj.draw(t, prob, alias)
    # the top state gives the last slot, never one past it
    assert jose._draw(np.uint64(2**64 - 1), prob, alias) == nj.draw(2**64 - 1, prob, alias) in (3, int(alias[3]))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_alias_tables_match_naive_and_the_unigram_power(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, [2, 50, 5000][seed % 3], size=[1, 7, 40, 300][seed])
    if seed == 3:
        counts[:3] = [10 ** 6, 10 ** 5, 1]  # very uneven weights
    prob, alias = jose.negative_table(counts)
    want_prob, want_alias = nj.alias_tables(counts ** 0.75)
    assert prob.dtype == np.float32 and alias.dtype == np.int32 and prob.shape == alias.shape == counts.shape
    np.testing.assert_array_equal(alias, want_alias)
    np.testing.assert_allclose(prob, want_prob, rtol=1e-6)
    assert np.all((prob >= 0) & (prob <= 1)) and np.all((alias >= 0) & (alias < len(counts)))
    p = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(nj.alias_masses(prob, alias), p, rtol=1e-5, atol=1e-7)


@slow_without_jit
def test_draws_follow_the_unigram_power():
    counts = np.array([1000, 100, 10, 1, 1, 50])
    prob, alias = jose.negative_table(counts)
    n = 200_000
    s, got = np.uint64(7), np.zeros(len(counts))
    for _ in range(n):
        s = np.uint64(jose._lcg(s))
        got[jose._draw(s, prob, alias)] += 1
    p = counts ** 0.75 / (counts ** 0.75).sum()
    assert np.all(np.abs(got / n - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compact_ids_matches_naive(seed):
    rng = np.random.default_rng(seed)
    lens = rng.integers(0, 6, size=9)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    ids = rng.integers(0, 8, size=offsets[-1]).astype(np.int32)
    remap = rng.permutation(8).astype(np.int32)
    remap[rng.random(8) < 0.4] = -1
    want_ids, want_off = nj.compact(ids, offsets, remap)
    n = jose._compact_ids(ids, offsets, remap)
    assert n == len(want_ids) and list(ids[:n]) == want_ids and list(offsets) == want_off


def test_random_unit_rows_are_unit_and_blocked_like_one_draw():
    a = jose.random_unit_rows(1000, 7, np.random.default_rng(3), block=64)
    b = jose.random_unit_rows(1000, 7, np.random.default_rng(3), block=5000)
    assert a.dtype == np.float32 and np.array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-6)
    x = np.random.default_rng(3).random((1000, 7), dtype=np.float32) - 0.5
    np.testing.assert_allclose(a, x / np.linalg.norm(x, axis=1, keepdims=True), atol=1e-6)


def test_keep_probabilities_match_naive():
    counts = [5000, 300, 20, 1]
    for sample in (0.0, 1e-3, 1e-2):
        assert np.allclose(jose.keep_probabilities(counts, sample), nj.keep_probabilities(counts, sample))


def test_encode_corpus_matches_naive():
    docs = ["the cat sat on the mat", "", "the dog", "zz the cat", "   ", "dog dog cat"]
    c = jose.encode_corpus(iter(docs), min_count=2)
    words, counts, enc = nj.encode(docs, 2)
    assert c.words == words and list(c.counts) == counts
    assert [list(c.ids[c.offsets[i]:c.offsets[i + 1]]) for i in range(len(docs))] == enc
    assert c.n_docs == len(docs) and c.n_raw_tokens == sum(len(d.split()) for d in docs)
    low = jose.encode_corpus(["The THE the"], min_count=3, lowercase=True)
    assert low.words == ["the"] and list(low.counts) == [3]


def test_encode_corpus_errors():
    with pytest.raises(TextmineError, match="empty"):
        jose.encode_corpus(["", "  ", ""])
    with pytest.raises(TextmineError, match="lower --min-count"):
        jose.encode_corpus(["a b c a"], min_count=3)


def test_chunk_bounds_cover_all_documents():
    offsets = np.array([0, 5, 5, 9, 30, 31, 40], dtype=np.int64)
    for k in (1, 2, 3, 6, 10):
        b = jose.chunk_bounds(offsets, k)
        assert b[0] == 0 and b[-1] == 6 and np.all(np.diff(b) >= 0)
    assert list(jose.chunk_bounds(np.array([0]), 4)) == [0, 0]


def test_block_bounds_give_every_thread_blocks_of_about_the_block_size():
    offsets = np.concatenate([[0], np.cumsum(np.full(1000, 7))]).astype(np.int64)  # 7000 tokens
    b = jose.block_bounds(offsets, 2, block=100)
    sizes = np.diff(offsets[b])
    assert b[0] == 0 and b[-1] == 1000 and len(b) - 1 == 70 and sizes.max() <= 105
    assert len(jose.block_bounds(offsets, 4, block=10 ** 6)) - 1 == 4  # at least one block per thread
    assert len(jose.block_bounds(offsets[:3], 4, block=1)) - 1 == 2  # no more blocks than documents


@pytest.mark.parametrize("loss", jose.LOSSES)
def test_one_thread_epoch_does_not_depend_on_the_blocks(loss):
    # the rate follows the corpus position and the thread's RNG state runs on across its blocks
    docs, counts, ids, offsets, tables = random_corpus(3, n_docs=12)
    keep = jose.keep_probabilities(counts, 0.05)
    prob, alias = jose.negative_table(counts)
    outs = []
    for block in (len(ids), 10, 1):
        u, v, d = (t.copy() for t in tables)
        loss_out = np.zeros(1)
        jose._jose_epoch_serial(u, v, d, ids, offsets, jose.block_bounds(offsets, 1, block=block), keep, prob, alias,
                                3, 2, 0.15, -0.1, 1.0, 1.0, 0.05, 3, 2 * len(ids), np.array([7], np.uint64), True,
                                jose.LOSSES.index(loss), loss_out, 0.0, np.zeros(1, np.int32), np.zeros(1, np.int32),
                                np.zeros(len(u)), np.ones(len(u)))
        outs.append((u, v, d, loss_out))
    assert outs[0][3][0] > 0
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            assert np.array_equal(a, b)


# ---------------------------------------------------------------- kernels vs naive twins

@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("power", [0.0, 0.5, 1.0])
def test_idf_pull_matches_naive(seed, power):
    docs, counts, ids, offsets, (u, _, _) = random_corpus(seed)
    docs = list(docs) + [[]]  # an empty document is not counted
    offsets = np.append(offsets, offsets[-1])
    got = jose.idf_pull(ids, offsets, len(u), power)
    np.testing.assert_allclose(got, nj.idf_pull(docs, len(u), power), rtol=1e-12)
    assert got.dtype == np.float64 and (got.min() < 1.0) == (power > 0)
    # a word in every document gets no pull, one in a single document the full pull
    every = jose.idf_pull(np.array([0, 1, 0, 2, 0], np.int32), np.array([0, 2, 4, 5]), 3, 1.0)
    assert every.tolist() == [0.0, 1.0, 1.0]
    assert jose.idf_pull(np.array([0, 1], np.int32), np.array([0, 2]), 2, 1.0).tolist() == [1.0, 1.0]  # one document


@pytest.mark.parametrize("power", [0.0, 0.5, 1.0])
def test_pull_weights_spare_the_sub_sampled_words(power):
    # w0 is in every document and frequent enough to be sub-sampled: it keeps the full pull; w1, also in
    # every document but rare enough to be kept whole, gets idf 0; the others their idf ** power
    docs = [f"w0 w0 w0 w0 w0 w0 w0 w0 w1 w{2 + i % 5} w{7 + i % 2}" for i in range(20)]
    corpus = jose.encode_corpus(docs, 1)
    model = jose.JoSE(sample=0.1, doc_idf=power)  # sub-samples the words counted above about 58 of 220
    got = model.pull_weights(corpus)
    keep = jose.keep_probabilities(corpus.counts, 0.1)
    idf = nj.idf_pull([list(corpus.ids[a:b]) for a, b in zip(corpus.offsets[:-1], corpus.offsets[1:])],
                      len(corpus.words), power)
    want = [1.0 if (power > 0 and k < 1) else idf[i] for i, k in enumerate(keep)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    row = {w: i for i, w in enumerate(corpus.words)}
    assert keep[row["w0"]] < 1 <= keep[row["w1"]]
    assert got[row["w0"]] == 1.0 and got[row["w1"]] == (1.0 if power == 0 else 0.0)
    assert got[row["w2"]] == pytest.approx((math.log(20 / 4) / math.log(20)) ** power)


def test_doc_idf_defaults_to_half_and_changes_the_pull():
    docs = [" ".join(f"w{(i * 7 + j) % 23}" for j in range(9)) + " the" for i in range(40)]
    kw = dict(dim=8, min_count=1, n_iter=2, random_state=3, sample=0.0)  # no word sub-sampled, so none spared
    base = jose.JoSE(**kw).fit(docs)
    half = jose.JoSE(doc_idf=0.5, **kw).fit(docs)
    off = jose.JoSE(doc_idf=0.0, **kw).fit(docs)
    assert base.get_params()["doc_idf"] == jose.DOC_IDF == 0.5
    assert np.array_equal(base.word_vectors_, half.word_vectors_)
    assert not np.array_equal(base.word_vectors_, off.word_vectors_)


@pytest.mark.parametrize("update", ["reference", "paper"])
@pytest.mark.parametrize("loss", jose.LOSSES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_epoch_kernel_matches_naive(update, loss, seed):
    lam = (1.0, 0.3, 2.0)[seed]
    docs, counts, ids, offsets, (u, v, d) = random_corpus(seed)
    keep = jose.keep_probabilities(counts, 0.05 if seed else 0.0)
    prob, alias = jose.negative_table(counts)
    n_threads = 1 + seed % 2
    bounds = jose.block_bounds(offsets, n_threads, block=(len(ids), 9, 5)[seed])  # 1-2 threads, 1 to ~10 blocks
    seeds = np.array([jose.splitmix64(seed, c) for c in range(n_threads)], dtype=np.uint64)
    paper = update == "paper"
    args = (ids, offsets, bounds, keep, prob, alias, 3, 2, 0.15, -0.1, (1.0, 0.7, 1.6)[seed], lam, 0.05, 7, 3 * len(ids), seeds, paper)
    warm = (0.0, 0.5, 2.0)[seed] if loss == "contrastive" else 0.0  # per-row warm rate (contrastive only)
    hits = [np.zeros(n if warm else 1, np.int32) for n in (len(u), len(v))]
    want_hits = [h.copy() for h in hits]
    kneg = np.zeros(len(u)) + (0.0, 10.0, 5.0)[seed]  # smoothed negative terms (contrastive only), per word
    kneg[::3] = (7.0, 0.0, 0.0)[seed]  # some words smoothed and some not
    dpull = np.random.default_rng(seed).uniform(0.0, 1.0, len(u))  # per-word document pull (contrastive only)
    dpull[::4] = (1.0, 0.0, 1.0)[seed]
    want_u, want_v, want_d, want_loss = nj.jose_epoch(u, v, d, docs, bounds, *args[3:], loss, warm, want_hits, kneg,
                                                      dpull)
    args += (jose.LOSSES.index(loss),)
    loss_out = np.zeros(n_threads)
    tables = [x.copy() for x in (u, v, d)]
    hits0 = [h.copy() for h in hits]
    jose._jose_epoch_serial(u, v, d, *args, loss_out, warm, *hits, kneg, dpull)
    # the build that fit() runs, on one thread (its "threads" then run one after the other), gives
    # the serial build's numbers bit for bit
    set_num_threads(1)
    pu, pv, pd = tables
    ploss = np.zeros(n_threads)
    jose._jose_epoch_parallel(pu, pv, pd, *args, ploss, warm, *hits0, kneg, dpull)
    for a, b in zip((u, v, d, loss_out, *hits), (pu, pv, pd, ploss, *hits0)):
        assert np.array_equal(a, b)
    for h, want in zip(hits, want_hits):
        assert np.array_equal(h, want) and (h.sum() > 0) == (warm > 0)
    np.testing.assert_allclose(u, want_u, atol=2e-5)
    np.testing.assert_allclose(v, want_v, atol=2e-5)
    np.testing.assert_allclose(d, want_d, atol=2e-5)
    np.testing.assert_allclose(loss_out, want_loss, atol=1e-4)
    assert sum(want_loss) > 0  # the hinge was active: updates were exercised


@pytest.mark.skipif(JIT_DISABLED, reason="no numba dispatchers without the JIT")
def test_builds_have_distinct_cache_names():
    # numba's disk cache is keyed by qualified name: one name for two builds makes both load one of them
    builds = (jose._jose_epoch_serial, jose._jose_epoch_parallel, jose._jose_infer_serial, jose._jose_infer_parallel)
    assert len({b.py_func.__qualname__ for b in builds}) == 4
    assert jose._jose_epoch_parallel.targetoptions.get("parallel") and not jose._jose_epoch_serial.targetoptions.get(
        "parallel")


@pytest.mark.parametrize("kind, warm", [(0, 0.0), (2, 1.0)])
def test_parallel_epoch_kernel_matches_serial_on_one_chunk(kind, warm):
    docs, counts, ids, offsets, tables = random_corpus(5, n_docs=10)
    keep = jose.keep_probabilities(counts, 0.0)
    prob, alias = jose.negative_table(counts)
    bounds = jose.chunk_bounds(offsets, 1)
    seeds = np.array([99], dtype=np.uint64)
    outs = []
    for kernel in (jose._jose_epoch_serial, jose._jose_epoch_parallel):
        u, v, d = (t.copy() for t in tables)
        loss = np.zeros(1)
        kernel(u, v, d, ids, offsets, bounds, keep, prob, alias, 2, 2, 0.15, -0.1, 0.8, 0.5, 0.04, 0, len(ids) + 1, seeds,
               False, kind, loss, warm, np.zeros(len(u), np.int32), np.zeros(len(v), np.int32), np.full(len(u), warm * 10),
               np.ones(len(u)))
        outs.append((u, v, d, loss))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("update", ["reference", "paper"])
@pytest.mark.parametrize("loss", jose.LOSSES)
@pytest.mark.parametrize("kneg", [0.0, 10.0])
def test_infer_kernel_matches_naive(update, loss, kneg):
    docs, counts, ids, offsets, (u, v, _) = random_corpus(3, n_docs=8)
    keep = jose.keep_probabilities(counts, 0.05)
    prob, alias = jose.negative_table(counts)
    seeds = np.array([jose.splitmix64(7, i) for i in range(len(docs))], dtype=np.uint64)
    paper = update == "paper"
    kneg = np.full(len(u), kneg)
    kneg[1::2] = 0.0  # per word: half of them keep the hinge
    want = nj.jose_infer(u, v, docs, keep, prob, alias, 3, 2, 0.15, -0.1, 0.6, 0.7, 0.05, 3, seeds, paper, loss, kneg)
    u0, v0 = u.copy(), v.copy()
    outs = []
    for kernel, threads in ((jose._jose_infer_serial, 1), (jose._jose_infer_parallel, 1), (jose._jose_infer_parallel, 2)):
        set_num_threads(threads)
        out = np.full((len(docs), u.shape[1]), np.nan, dtype=np.float32)
        kernel(u, v, ids, offsets, keep, prob, alias, 3, 2, 0.15, -0.1, 0.6, 0.7, 0.05, 3, seeds, paper,
               jose.LOSSES.index(loss), out, kneg)
        np.testing.assert_allclose(out, want, atol=2e-5)
        outs.append(out)
    # infer() runs the parallel build at any -j: on one thread or two, the serial build's numbers bit for bit
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
    assert np.array_equal(u, u0) and np.array_equal(v, v0)  # frozen
    assert any(len(x) == 0 for x in docs) and np.all(want[[len(x) == 0 for x in docs]] == 0)


# ---------------------------------------------------------------- model

@slow_without_jit
@pytest.mark.parametrize("jobs", [1, 2])
def test_fit_learns_topics_and_keeps_unit_norm(jobs):
    docs = topic_docs()
    # jose.c's configuration (its update rule, loss and fixed starting rate)
    m = jose.JoSE(dim=20, min_count=1, n_iter=5, n_jobs=jobs, random_state=0, update="reference",
                  loss="split", alpha=0.04).fit(docs)
    assert np.allclose(np.linalg.norm(m.word_vectors_, axis=1), 1, atol=1e-5)
    assert np.allclose(np.linalg.norm(m.context_vectors_, axis=1), 1, atol=1e-5)
    assert np.allclose(np.linalg.norm(m.doc_vectors_, axis=1), 1, atol=1e-5)
    a = [i for i, w in enumerate(m.words_) if w[0] == "a"]
    b = [i for i, w in enumerate(m.words_) if w[0] == "b"]
    s = m.word_vectors_ @ m.word_vectors_.T
    within, across = s[np.ix_(a, a)][~np.eye(len(a), dtype=bool)].mean(), s[np.ix_(a, b)].mean()
    assert within > across + 0.5
    dv = m.doc_vectors_
    ds = dv @ dv.T
    assert ds[0::2, 0::2].mean() > ds[0::2, 1::2].mean() + 0.1
    assert m.epoch_loss_[-1] < m.epoch_loss_[0]


@slow_without_jit
@pytest.mark.parametrize("update,loss", [("paper", "split"), ("reference", "joint"), ("paper", "joint"),
                                         ("paper", "contrastive"), ("reference", "contrastive")])
def test_other_variants_learn_topics(update, loss):
    # the variants at the fixed rate 0.04 (the default before 0.4/n_iter); at 5 epochs the default rate 0.08
    # puts the contrastive loss's toy words where 10 epochs at 0.04 put them: within 0.93, across 0.84 (0.91, 0.81)
    m = jose.JoSE(dim=20, min_count=1, n_iter=5, n_jobs=1, random_state=0, update=update, loss=loss,
                  alpha=0.04).fit(topic_docs())
    a = [i for i, w in enumerate(m.words_) if w[0] == "a"]
    b = [i for i, w in enumerate(m.words_) if w[0] == "b"]
    s = m.word_vectors_ @ m.word_vectors_.T
    assert s[np.ix_(a, a)].mean() > s[np.ix_(a, b)].mean() + 0.1
    ds = m.doc_vectors_ @ m.doc_vectors_.T  # documents alternate between the two topics
    assert ds[0::2, 0::2].mean() > ds[0::2, 1::2].mean() + 0.05


@slow_without_jit
def test_seeded_serial_runs_repeat():
    docs = topic_docs(80)
    kw = dict(dim=10, min_count=1, n_iter=2, n_jobs=1)
    m1 = jose.JoSE(random_state=3, **kw).fit(docs)
    m2 = jose.JoSE(random_state=3, **kw).fit(iter(docs))
    m3 = jose.JoSE(random_state=4, **kw).fit(docs)
    assert np.array_equal(m1.word_vectors_, m2.word_vectors_)
    assert np.array_equal(m1.doc_vectors_, m2.doc_vectors_)
    assert not np.allclose(m1.word_vectors_, m3.word_vectors_)


@slow_without_jit
def test_empty_and_unknown_lines_get_zero_vectors():
    docs = topic_docs(60) + ["", "   ", "neverseen words only"]
    m = jose.JoSE(dim=8, min_count=2, n_iter=2, n_jobs=1).fit(docs)
    assert m.n_docs_ == 63
    assert np.all(m.doc_vectors_[-3:] == 0)
    assert np.allclose(np.linalg.norm(m.doc_vectors_[:-3], axis=1), 1, atol=1e-5)
    inf = m.infer(["", "neverseen", docs[0]])
    assert np.all(inf[:2] == 0) and abs(np.linalg.norm(inf[2]) - 1) < 1e-5


@slow_without_jit
def test_infer_places_new_documents_near_their_topic(tmp_path):
    m = jose.JoSE(dim=20, min_count=1, n_iter=5, n_jobs=1, random_state=0).fit(topic_docs())
    new = topic_docs(40, seed=9)
    d1 = m.infer(new, n_jobs=1)
    d2 = m.infer(new, n_jobs=2)
    assert np.array_equal(d1, d2)  # documents are independent: -j does not matter
    dv = m.doc_vectors_
    same = np.array([(d1[i] @ dv[i % 2::2].T).mean() for i in range(len(new))])
    other = np.array([(d1[i] @ dv[1 - i % 2::2].T).mean() for i in range(len(new))])
    assert np.mean(same > other) >= 0.9
    # persistence: .npz + .json, no pickle; the loaded model infers the same vectors
    path = str(tmp_path / "m.npz")
    m.save(path)
    meta = json.load(open(tmp_path / "m.json", encoding="utf-8"))
    assert meta["format"] == "textmine-jose" and meta["params"]["dim"] == 20 and len(meta["words"]) == len(m.words_)
    assert meta["params"]["margin"] == m.margin_  # the margin in use, not None: later defaults cannot change it
    m2 = jose.JoSE.load(path)
    assert m2.words_ == m.words_ and np.array_equal(m2.word_vectors_, m.word_vectors_)
    assert np.array_equal(m2.infer(new), d1)


def test_bad_parameters():
    for kw in ({"dim": 0}, {"window": 0}, {"negative": 0}, {"n_iter": 0}, {"min_count": 0}, {"margin": 0},
               {"alpha": float("nan")}, {"sample": -1}, {"update": "x"}, {"loss": "y"}, {"doc_weight": 0},
               {"doc_idf": -0.5}, {"doc_idf": float("nan")},
               {"doc_weight": float("inf")}, {"neg_margin": 1}, {"neg_margin": -1.5}, {"neg_weight": 0},
               {"neg_weight": float("nan")},
               {"loss": "contrastive", "margin": 0.1, "neg_margin": 0.1}):
        with pytest.raises(TextmineError):
            jose.JoSE(**kw).fit(["a b"])
    # the margin defaults with the loss; an explicit one wins
    assert [jose.JoSE(loss=k).margin_ for k in jose.LOSSES] == [jose.DEFAULT_MARGIN[k] for k in jose.LOSSES]
    assert jose.JoSE(loss="contrastive", margin=0.3).margin_ == 0.3
    with pytest.raises(TextmineError, match="not trained"):
        jose.JoSE().infer(["a"])


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(TextmineError, match="no such file"):
        jose.JoSE.load(str(tmp_path / "none.npz"))
    np.savez(tmp_path / "x.npz", a=np.zeros(2))
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(TextmineError, match="not a textmine JoSE"):
        jose.JoSE.load(str(tmp_path / "x.npz"))
    np.savez(tmp_path / "y.npz", word_vectors=np.ones((1, 2), np.float32), context_vectors=np.ones((1, 2), np.float32),
             counts=np.ones(1, np.int64))
    (tmp_path / "y.json").write_text('{"format": "textmine-jose", "version": 1, "words": ["a"], '
                                     '"params": {"loss": "bogus"}}')
    with pytest.raises(TextmineError, match="y.json: bad parameters .*loss must be one of"):
        jose.JoSE.load(str(tmp_path / "y.npz"))


def test_negative_terms_share_one_weight(tmp_path):
    # each of the k negatives weighs neg_weight / k: the default 2 is the unweighted loss at k = 2
    assert [jose.JoSE(negative=k).neg_step_ for k in (1, 2, 5, 10)] == [2.0, 1.0, 0.4, 0.2]
    assert jose.JoSE(negative=4, neg_weight=1).neg_step_ == 0.25
    # a model saved before neg_weight existed was trained with weight 1 per negative
    np.savez(tmp_path / "old.npz", word_vectors=np.ones((1, 2), np.float32),
             context_vectors=np.ones((1, 2), np.float32), counts=np.ones(1, np.int64))
    (tmp_path / "old.json").write_text('{"format": "textmine-jose", "version": 1, "words": ["a"], '
                                       '"params": {"loss": "contrastive", "negative": 5}}')
    assert jose.JoSE.load(str(tmp_path / "old.npz")).neg_step_ == 1.0


@slow_without_jit
def test_warm_floor_moves_rows_whatever_the_decaying_rate():
    # with a vanishing --alpha, only the per-row floor warm/(n+1) moves the vectors: off, they stay at their start
    docs = topic_docs(n=40)
    start = jose.random_unit_rows(len(jose.encode_corpus(docs, 1).words), 8, np.random.default_rng(0))
    moved = {}
    for warm in (0.0, 3.0):
        m = jose.JoSE(dim=8, min_count=1, n_iter=1, n_jobs=1, random_state=0, alpha=1e-7, warm=warm).fit(docs)
        moved[warm] = float(np.min(np.sum(m.word_vectors_ * start, axis=1)))  # the lowest cosine to the start
    assert moved[0.0] > 0.999
    assert moved[3.0] < 0.9
    with pytest.raises(TextmineError, match="--warm"):
        jose.JoSE(warm=-1).fit(docs)
    # the reference losses keep their schedule: --warm does not change them
    for loss in ("split", "joint"):
        a, b = (jose.JoSE(dim=8, min_count=1, n_iter=1, n_jobs=1, loss=loss, warm=w).fit(docs).word_vectors_
                for w in (0.0, 3.0))
        assert np.array_equal(a, b)


@slow_without_jit
def test_default_rate_keeps_the_ten_epoch_step_budget(tmp_path):
    # alpha=None starts the linear decay at 0.4 / n_iter: the same summed rate (budget) at any epoch count
    assert [jose.rate_for(None, n) for n in (1, 4, 5, 10, 20)] == [0.4, 0.1, 0.08, 0.04, 0.02]
    assert jose.rate_for(0.03, 5) == 0.03 and jose.JoSE(n_iter=5).alpha_ == 0.08 and jose.JoSE().alpha_ == 0.04
    docs = topic_docs(n=40)
    kw = dict(dim=8, min_count=1, n_jobs=1, random_state=0)

    def vectors(**extra):
        return jose.JoSE(**kw, **extra).fit(docs).word_vectors_
    assert np.array_equal(vectors(n_iter=5), vectors(n_iter=5, alpha=0.08))
    assert not np.allclose(vectors(n_iter=5), vectors(n_iter=5, alpha=0.04))
    assert np.array_equal(vectors(n_iter=10), vectors(n_iter=10, alpha=0.04))  # the old default, bit for bit
    # inference follows its own epoch count; the sidecar keeps "default" (null), not the number
    m = jose.JoSE(n_iter=5, **kw).fit(docs)
    assert np.array_equal(m.infer(docs[:6], n_iter=4), m.infer(docs[:6], n_iter=4, alpha=0.1))
    assert not np.allclose(m.infer(docs[:6], n_iter=4), m.infer(docs[:6], n_iter=4, alpha=0.08))
    m.save(str(tmp_path / "m.npz"))
    assert json.load(open(tmp_path / "m.json", encoding="utf-8"))["params"]["alpha"] is None
    m2 = jose.JoSE.load(str(tmp_path / "m.npz"))
    assert m2.alpha is None and m2.alpha_ == 0.08
    assert np.array_equal(m2.infer(docs[:6]), m.infer(docs[:6]))
    with pytest.raises(TextmineError, match="--alpha"):
        jose.JoSE(alpha=-0.1).fit(docs)


def test_most_similar_matches_brute_force():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 5))
    x[7] = 0
    words = [f"w{i}" for i in range(30)]
    got = jose.most_similar(words, x, "w3", k=5)
    n = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)
    sims = [(float(n[i] @ n[3]), words[i]) for i in range(30) if i != 3]
    want = sorted(sims, key=lambda p: -p[0])[:5]
    assert [w for w, _ in got] == [w for _, w in want]
    assert np.allclose([s for _, s in got], [s for s, _ in want])
    with pytest.raises(TextmineError, match="not in the vocabulary"):
        jose.most_similar(words, x, "nope")


# ---------------------------------------------------------------- CLI

def run(args, input=None):
    return CliRunner().invoke(cli, args, input=input)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("jose") / "corpus.txt"
    p.write_text("\n".join(topic_docs(120)) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("cmd", ["embed", "similar"])
def test_help(cmd):
    r = run([cmd, "--help"])
    assert r.exit_code == 0 and "Usage" in r.stdout


@slow_without_jit
@pytest.mark.parametrize("mode", ["file", "stdin"])
def test_cli_embed_similar_infer(tmp_path, corpus_file, mode):
    out, docs, model = tmp_path / "w.vec", tmp_path / "d.vec", tmp_path / "m.npz"
    base = ["embed", "-o", str(out), "--doc-output", str(docs), "--save-model", str(model), "--dim", "16",
            "--iter", "3", "--min-count", "2", "-j", "1", "--seed", "5"]
    if mode == "file":
        r = run(base + [str(corpus_file)])
    else:
        r = run(base + ["-"], input=corpus_file.read_text(encoding="utf-8"))
    assert r.exit_code == 0, r.output
    assert "120 documents" in r.stderr and r.stdout == ""
    head = out.read_text().split("\n", 1)[0]
    assert head == "50 16"
    assert docs.read_text().split("\n", 2)[:2][0] == "120 16"
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(out))
    assert len(kv) == 50 and kv.vector_size == 16
    assert np.allclose(np.linalg.norm(kv.vectors, axis=1), 1, atol=1e-4)
    r = run(["similar", str(out), "a3", "-k", "5"])
    assert r.exit_code == 0
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    assert len(lines) == 5 and all(len(x) == 2 for x in lines)
    assert [w for w, _ in lines] == [w for w, _ in kv.most_similar("a3", topn=5)]
    assert sum(w.startswith("a") for w, _ in lines) >= 4
    new = tmp_path / "new.txt"
    new.write_text("\n".join(topic_docs(6, seed=3)) + "\n\nunknown words\n", encoding="utf-8")
    inf = tmp_path / "inf.vec"
    r = run(["embed", "--infer", str(model), str(new), "-o", str(inf), "-j", "2"])
    assert r.exit_code == 0, r.output
    rows = inf.read_text().splitlines()
    assert rows[0] == "8 16" and rows[1].startswith("0 ") and rows[8].startswith("7 ")
    r2 = run(["embed", "--infer", str(model), str(new), "-o", "-", "-j", "1", "-q"])
    assert r2.exit_code == 0 and r2.stdout == inf.read_text()


def test_cli_bad_input(tmp_path, corpus_file):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n")
    out = tmp_path / "w.vec"
    r = run(["embed", str(empty), "-o", str(out)])
    assert r.exit_code == 1 and r.stderr == "Error: the corpus is empty: no tokens in the input\n"
    assert not out.exists()
    r = run(["embed", str(corpus_file), "-o", str(out), "--min-count", "100000"])
    assert r.exit_code == 1 and "lower --min-count" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    r = run(["embed", str(corpus_file), "-o", str(out), "--dim", "0"])
    assert r.exit_code == 2 and "--dim" in r.stderr
    r = run(["embed", str(corpus_file), "-o", str(out), "--doc-weight", "0"])
    assert r.exit_code == 2 and "--doc-weight" in r.stderr
    r = run(["embed", str(corpus_file), "-o", str(out), "--loss", "contrastive", "--margin", "0.2",
             "--neg-margin", "0.3"])
    assert r.exit_code == 1 and "--neg-margin (0.3) must be below --margin (0.2)" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    r = run(["embed", str(corpus_file), "-o", str(tmp_path / "no" / "w.vec")])
    assert r.exit_code == 1 and "does not exist" in r.stderr
    r = run(["embed", str(corpus_file), "-o", str(out), "--doc-output", str(tmp_path)])
    assert r.exit_code == 1 and "is a directory" in r.stderr
    r = run(["embed", str(tmp_path / "missing.txt"), "-o", str(out)])
    assert r.exit_code == 1 and "no such file" in r.stderr
    r = run(["embed", "--infer", str(tmp_path / "m.npz"), str(corpus_file), "--dim", "5"])
    assert r.exit_code == 2 and "--dim cannot be used with --infer" in r.stderr
    r = run(["embed", "--infer", str(tmp_path / "m.npz"), str(corpus_file), "--doc-weight", "0.5"])
    assert r.exit_code == 2 and "--doc-weight cannot be used with --infer" in r.stderr
    r = run(["embed", "--infer", str(tmp_path / "m.npz"), str(corpus_file), "-o", str(out)])
    assert r.exit_code == 1 and "no such file" in r.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []


def test_cli_similar_errors(tmp_path):
    vec = tmp_path / "v.vec"
    vec.write_text("2 2\na 1 0\nb 0 1\n")
    r = run(["similar", str(vec), "zzz"])
    assert r.exit_code == 1 and r.stderr == "Error: 'zzz' is not in the vocabulary (2 words)\n"
    r = run(["similar", str(vec), "a", "--header"])
    assert r.exit_code == 0 and r.stdout == "word\tcosine\nb\t0.000000\n"
    r = run(["similar", str(tmp_path / "nope.vec"), "a"])
    assert r.exit_code == 1 and "no such file" in r.stderr
    bad = tmp_path / "bad.vec"
    bad.write_text("x y\n")
    r = run(["similar", str(bad), "a"])
    assert r.exit_code == 1 and "header" in r.stderr
