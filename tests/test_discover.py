import itertools
import math
import random
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import JIT_DISABLED, shared_file
from naive_discover import (naive_class, naive_discover, naive_join, naive_keys_to_ids, naive_ngrams, naive_pack,
                            naive_pieces, naive_segments)
from textmine import discover as dm
from textmine.cli import cli
from textmine.errors import TextmineError

HAN = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感"


def make_corpus(seed, n_lines=300, vocab_size=60):
    """Lines made of a Zipf-distributed vocabulary of 1-4 character words, with punctuation and numbers."""
    rng = random.Random(seed)
    vocab = []
    while len(vocab) < vocab_size:
        w = "".join(rng.choice(HAN) for _ in range(rng.choice([1, 2, 2, 2, 3, 3, 4])))
        if w not in vocab:
            vocab.append(w)
    weights = [1.0 / (k + 1) for k in range(vocab_size)]
    lines = []
    for _ in range(n_lines):
        parts = []
        for _ in range(rng.randint(3, 15)):
            r = rng.random()
            if r < 0.05:
                parts.append(rng.choice(["，", "。", "、", " ", "——"]))
            elif r < 0.08:
                parts.append(rng.choice(["2001年", "１９９８", "3.5％", "AK47", "ｗｗｗ"]))
            else:
                parts.append(rng.choices(vocab, weights)[0])
        lines.append("".join(parts))
    return lines, vocab


def batches_of(lines, size=37):
    return [lines[i:i + size] for i in range(0, len(lines), size)]


# ------------------------------------------------------------------------------------- kernels

def test_classify_matches_naive():
    rng = random.Random(1)
    alphabet = "的一是Aa0９ｚＺ.．%％，。 \u3000\t○〇-—…" + chr(0x20001) + "x"
    for _ in range(50):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        got = dm._classify(cps).tolist()
        assert got == [naive_class(text, i) for i in range(len(text))], text


def test_units_match_naive_segments():
    rng = random.Random(2)
    alphabet = "的一是了AB12３４.%，。 —"
    for _ in range(50):
        lines = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for _ in range(3)]
        enc = dm._Encoder()
        keys, _ = enc.encode(lines)
        inv = {v: k for k, v in enc.runs.items()}
        segs, cur = [], []
        for k in keys.tolist():
            if k == -1:
                segs.append(cur)
                cur = []
            else:
                cur.append(chr(k) if k < dm.RUN_BASE else inv[k])
        assert not cur
        assert segs == [s for line in lines for s in naive_segments(line)]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_count_ngrams_matches_naive(n):
    rng = np.random.default_rng(n)
    for trial in range(10):
        ids = rng.integers(0, 6, size=rng.integers(0, 200)).astype(np.int32)
        keys, counts = dm._count_ngrams(ids, n, 3)
        expect = Counter(naive_pack(ids.tolist(), n, 3))
        assert dict(zip(keys.tolist(), counts.tolist())) == dict(expect)
        assert np.all(np.diff(keys) > 0)


def test_sorted_runs_matches_naive():
    rng = np.random.default_rng(13)
    for trial in range(40):
        keys = np.sort(rng.integers(0, int(rng.integers(1, 30)), int(rng.integers(0, 200)))).astype(np.int64)
        for min_count in (1, 2, 4):
            k, c = dm._sorted_runs(keys, min_count)
            expect = sorted((a, b) for a, b in Counter(keys.tolist()).items() if b >= min_count)
            assert list(zip(k.tolist(), c.tolist())) == expect


def test_unit_histogram_and_ids_match_naive():
    rng = np.random.default_rng(12)
    for trial in range(20):
        n_runs = int(rng.integers(0, 5))
        keys = rng.choice(np.array([-1, 3, 7, 0x4E00, 0x4E01, 0x2A6D6] + [dm.RUN_BASE + k for k in range(n_runs)]),
                          size=int(rng.integers(0, 100)))
        han = np.zeros(dm.RUN_BASE, np.int64)
        runs = np.zeros(n_runs + 2, np.int64)
        dm._unit_histogram(keys, han, runs)
        expect = Counter(keys.tolist())
        assert {k: int(han[k]) for k in np.flatnonzero(han).tolist()} == \
            {k: c for k, c in expect.items() if 0 <= k < dm.RUN_BASE}
        assert runs.tolist() == [expect[dm.RUN_BASE + k] for k in range(n_runs + 2)]
        han_to_id = rng.integers(0, 9, dm.RUN_BASE).astype(np.int32)
        run_to_id = rng.integers(0, 9, n_runs + 1).astype(np.int32)
        ids = dm._keys_to_ids(keys.astype(rng.choice([np.int32, np.int64])), han_to_id, run_to_id)
        assert ids.dtype == np.int32
        assert ids.tolist() == naive_keys_to_ids(keys.tolist(), han_to_id.tolist(), run_to_id.tolist(), dm.RUN_BASE)


def naive_cohesion(ids, n, bits, min_count, total):
    """min over splits of ln N + ln #w - ln #left - ln #right, from Counters of tuples of units."""
    runs = [r for r in "".join(chr(48 + v) if v else " " for v in ids).split()]
    grams = {m: Counter(r[i:i + m] for r in runs for i in range(len(r) - m + 1)) for m in range(1, n + 1)}
    out = {}
    for w, c in grams[n].items():
        if c < min_count:
            continue
        key = 0
        for ch in w:
            key = (key << bits) | (ord(ch) - 48)
        out[key] = min(math.log(total) + math.log(c) - math.log(grams[j][w[:j]]) - math.log(grams[n - j][w[j:]])
                       for j in range(1, n))
    return out


def test_cohesion_matches_naive_and_is_independent_of_jobs():
    rng = np.random.default_rng(5)
    for trial in range(8):
        ids = rng.integers(0, 7, size=rng.integers(50, 400)).astype(np.int32)
        min_count = int(rng.integers(1, 3))
        max_n = int(rng.integers(2, 5))
        grams = {}
        for n in range(1, max_n + 1):
            keys, counts = dm._count_ngrams(ids, n, 3)
            grams[n] = keys[counts >= min_count], counts[counts >= min_count]
        total = float(np.count_nonzero(ids))
        coh = dm._cohesion_all(grams, max_n, 3, total, 1)
        for n in range(2, max_n + 1):
            expect = naive_cohesion(ids.tolist(), n, 3, min_count, total)
            assert sorted(expect) == grams[n][0].tolist()
            assert coh[n].tolist() == pytest.approx([expect[k] for k in grams[n][0].tolist()], rel=1e-12, abs=1e-12)
        for jobs in (2, 3):
            other = dm._cohesion_all(grams, max_n, 3, total, jobs, min_chunk=5)
            assert all(np.array_equal(other[n], coh[n]) for n in coh)


def test_key_filter_has_no_false_negatives():
    rng = np.random.default_rng(4)
    for n in (0, 1, 100, 5000):
        keys = rng.integers(0, 1 << 60, n)
        filt = dm._key_filter(keys)
        shift = dm._table_shift(filt) - 3
        bit = [dm._bloom_bit(int(k), shift) for k in keys]
        assert all((filt[i >> 3] >> (i & 7)) & 1 for i in bit)
        assert filt.shape[0] >= 1024 and (filt.shape[0] & (filt.shape[0] - 1)) == 0
    others = rng.integers(0, 1 << 60, 2000)
    shift = dm._table_shift(filt) - 3
    rejected = sum(not (filt[i >> 3] >> (i & 7)) & 1 for i in (dm._bloom_bit(int(k), shift) for k in others))
    assert rejected > 1500  # about 16 bits per key: most absent keys are rejected


def test_key_set():
    rng = np.random.default_rng(3)
    keys = np.unique(rng.integers(0, 1 << 40, 300))
    table = dm._key_set(keys)
    assert all(dm._in_set(table, int(k)) for k in keys)
    others = set(rng.integers(0, 1 << 40, 300).tolist()) - set(keys.tolist())
    assert not any(dm._in_set(table, k) for k in others)
    assert not dm._in_set(dm._key_set(np.empty(0, np.int64)), 5)


def test_piece_table_merges_weights():
    ids = np.array([1, 2, 3, 1, 2, 4, 4], dtype=np.int32)
    starts = np.array([0, 3, 2, 5, 6], dtype=np.int64)
    lengths = np.array([2, 2, 1, 1, 1], dtype=np.int64)
    hashes = np.array([10, 10, 30, 40, 40], dtype=np.int64)
    uh, cnt, content, offs, ok = dm._piece_table(ids, starts, lengths, hashes, np.array([1, 2, 3, 4, 5]))
    assert ok and uh.tolist() == [10, 30, 40] and cnt.tolist() == [3, 3, 9]
    assert content.tolist() == [1, 2, 3, 4] and offs.tolist() == [0, 2, 3, 4]
    hashes[2] = 10  # a collision between different pieces is detected
    assert not dm._piece_table(ids, starts, lengths, hashes, np.ones(5, np.int64))[4]


def _random_ngram_parts(rng, n_parts, n_units, length, lo, hi):
    """``n_parts`` n-gram count partials of random unit sequences, and their summed counts."""
    parts = [dm._count_ngrams(rng.integers(0, n_units, length).astype(np.int32), lo, hi) for _ in range(n_parts)]
    expect = Counter()
    for k, c in parts:
        for a, b in zip(k.tolist(), c.tolist()):
            expect[a] += b
    return parts, expect


def test_merge_counts_and_spill_are_exact(tmp_path):
    parts, expect = _random_ngram_parts(np.random.default_rng(5), 7, 9, 500, 2, 4)
    keys, counts = dm._merge_counts(parts)
    assert dict(zip(keys.tolist(), counts.tolist())) == dict(expect)
    counter = dm._OrderCounter(limit_bytes=1000, tmpdir_factory=lambda: str(tmp_path))  # forces spills
    for k, c in parts:
        counter.add(k, c)
    assert counter.spilled > 0
    keys, counts = counter.result(min_count=3)
    assert dict(zip(keys.tolist(), counts.tolist())) == {k: c for k, c in expect.items() if c >= 3}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n_bounds", [0, 1, 5, 40])
def test_order_counter_is_exact_by_key_range_in_memory_and_on_disk(tmp_path, n_bounds):
    parts, expect = _random_ngram_parts(np.random.default_rng(6 + n_bounds), 5, 30, 400, 3, 5)
    size = sum(k.nbytes + c.nbytes for k, c in parts)
    rng = np.random.default_rng(n_bounds)
    bounds = np.unique(rng.integers(0, 30 << 10, n_bounds)).astype(np.int64)  # some ranges empty
    for limit in (size // 3, size * 8):
        counter = dm._OrderCounter(limit, lambda: str(tmp_path), bounds)
        for k, c in parts:
            counter.add(k, c)
        assert (counter.spilled > 0) == (limit < size)
        keys, counts = counter.result(min_count=2)
        assert np.all(np.diff(keys) > 0)
        assert dict(zip(keys.tolist(), counts.tolist())) == {k: c for k, c in expect.items() if c >= 2}
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n_bounds", [0, 7])
def test_order_counter_merges_in_memory_fixed_keys_never_spill(tmp_path, n_bounds):
    # the same distinct keys again and again (a repeated corpus): 20 partials, 5 times the limit in
    # all, are merged as they come and never spilled; growing keys spill; both exact, and the bytes
    # held never pass the limit plus one partial
    rng = np.random.default_rng(11)
    parts, expect = _random_ngram_parts(rng, 4, 40, 3000, 3, 6)
    size = max(k.nbytes + c.nbytes for k, c in parts)
    bounds = np.unique(rng.integers(0, 40 << 12, n_bounds)).astype(np.int64)
    total = sum(k.nbytes + c.nbytes for k, c in parts)
    for stream, limit, spills in ((parts * 10, 2 * total, False), (parts, 3 * size // 2, True)):
        counter = dm._OrderCounter(limit, lambda: str(tmp_path), bounds)
        for k, c in stream:
            counter.add(k, c)
            assert counter.size <= limit + size
        assert (counter.spilled > 0) == spills
        keys, counts = counter.result(min_count=1)
        times = len(stream) // len(parts)
        assert dict(zip(keys.tolist(), counts.tolist())) == {k: times * c for k, c in expect.items()}
        assert list(tmp_path.iterdir()) == []


def test_range_bounds_split_by_first_unit():
    b = dm._range_bounds(np.array([0] + [10] * 8, np.int64), 3, 4, n_ranges=4)
    assert np.all(b % (1 << 8) == 0)  # bounds fall between first units
    assert (b >> 8).tolist() == [3, 5, 7]  # a quarter of the mass each
    b = dm._range_bounds(np.array([0, 50, 30, 10, 5, 5], np.int64), 3, 4, n_ranges=4)
    assert (b >> 8).tolist() == [2]  # unit 1 holds half the mass: no bound inside it


def test_cut_and_pieces_match_naive():
    rng = np.random.default_rng(7)
    bits, max_n = 3, 4
    for trial in range(20):
        ids = rng.integers(0, 5, size=rng.integers(1, 150)).astype(np.int32)
        good = {n: set(rng.choice(naive_pack(ids.tolist(), n, bits) or [0], size=3).tolist()) for n in range(2, 5)}
        table = dm._key_set(np.array(sorted(set().union(*good.values())), dtype=np.int64))
        join = dm._cut(ids, max_n, bits, table)
        assert join.tolist() == naive_join(ids.tolist(), max_n, bits, good)
        for side in (1, 3, 8):  # the pair bitmap covers no, some or all 2-grams
            pairs = dm._pair_bitmap(np.array(sorted(good[2]), dtype=np.int64), bits, side)
            keys = np.array(sorted(set().union(*good.values())), dtype=np.int64)
            for filt in (np.zeros(0, np.uint8), dm._key_filter(keys), np.full(1024, 255, np.uint8)):
                assert dm._cut_bm(ids, max_n, bits, table, pairs, side, filt).tolist() == join.tolist()
        assert _pieces_counter(*dm._count_pieces(ids, join, bits), bits) == naive_pieces(ids.tolist(), join.tolist())


def _pieces_counter(short, long, bits):
    """Counter of id tuples of :func:`textmine.discover._count_pieces`' two tables."""
    content, offs = dm._unpack_keys(short[0], bits)
    got = Counter({tuple(content[offs[k]:offs[k + 1]].tolist()): c for k, c in enumerate(short[1].tolist())})
    _, cnt, content, offs = long
    for k, c in enumerate(cnt.tolist()):
        t = tuple(content[offs[k]:offs[k + 1]].tolist())
        assert t not in got
        got[t] = c
    return got


@pytest.mark.parametrize("bits,max_n", [(3, 4), (20, 3)])  # 20 bits: pieces of > 3 units are long (hashed)
def test_piece_keys_and_whole_count_match_naive(bits, max_n):
    rng = np.random.default_rng(bits)
    for trial in range(20):
        batches = [rng.integers(0, 5, size=rng.integers(1, 150)).astype(np.int32) for _ in range(3)]
        for b in batches:
            b[-1] = 0  # a batch ends with a split, as the encoder makes it
        good = {n: set(rng.choice(sum((naive_pack(b.tolist(), n, bits) for b in batches), []) or [0],
                                  size=4).tolist()) for n in range(2, max_n + 1)}
        table = dm._key_set(np.array(sorted(set().union(*good.values())), dtype=np.int64))
        expect = Counter()
        for b in batches:
            expect.update(naive_pieces(b.tolist(), naive_join(b.tolist(), max_n, bits, good)))
        # the short pieces unpack to themselves, the long ones come out as spans
        ids = batches[0]
        keys, starts, lengths, _ = dm._piece_keys(ids, dm._cut(ids, max_n, bits, table), bits, 63 // bits)
        content, offs = dm._unpack_keys(keys, bits)
        short = [tuple(content[offs[k]:offs[k + 1]].tolist()) for k in range(keys.shape[0])]
        long = [tuple(ids[a:a + n].tolist()) for a, n in zip(starts.tolist(), lengths.tolist())]
        assert all(len(p) <= 63 // bits for p in short) and all(len(p) > 63 // bits for p in long)
        assert Counter(short + long) == naive_pieces(ids.tolist(), dm._cut(ids, max_n, bits, table).tolist())
        parts = [dm._count_pieces(b, dm._cut(b, max_n, bits, table), bits) for b in batches]
        for order in (parts, parts[::-1]):  # merged in any order: the same table
            short = dm._merge_counts([p[0] for p in order])
            long = dm._sorted_pieces([p[1] for p in order])
            assert _pieces_counter(short, long, bits) == expect
            assert np.all(long[0][1:] > long[0][:-1])  # ordered by hash


# ------------------------------------------------------------------------------------- driver

@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_n,min_pmi,redundancy", [(4, "1,3,5", "3.5*(len-1)"), (3, "0.5,2", "len-1"),
                                                      (2, "1", "none"), (4, "1,2,3", "2.0")])
def test_discover_matches_naive(seed, max_n, min_pmi, redundancy):
    lines, _ = make_corpus(seed)
    r = dm.discover_words(batches_of(lines), min_count=3, max_n=max_n, min_pmi=min_pmi, redundancy=redundancy)
    thr = dm._parse_thresholds(min_pmi, max_n)
    words, counts = naive_discover(lines, 3, max_n, thr, dm.parse_redundancy(redundancy))
    assert r.words == words
    assert r.counts == counts


def test_discover_finds_the_vocabulary():
    lines, vocab = make_corpus(12, n_lines=2000, vocab_size=300)
    r = dm.discover_words(batches_of(lines, 200), min_count=3)
    found = set(r.words)
    frequent_multi = [w for w in vocab[:60] if len(w) > 1]
    hit = sum(w in found for w in frequent_multi)
    assert hit >= 0.75 * len(frequent_multi), (hit, frequent_multi)
    # minimum entropy: the lexicon describes the corpus with less information per character
    assert r.stats["entropy_after"]["L"] < r.stats["entropy_before"]["L"]


def test_discover_independent_of_jobs_and_batches():
    lines, _ = make_corpus(3, n_lines=400)
    a = dm.discover_words(batches_of(lines, 13), n_jobs=1)
    b = dm.discover_words(batches_of(lines, 200), n_jobs=3)
    c = dm.discover_words(batches_of(lines, 20), n_jobs=2, memory_limit=3000)  # spills and merges
    assert (a.words, a.counts) == (b.words, b.counts) == (c.words, c.counts)
    assert np.allclose(np.nan_to_num(a.pmi, nan=-9), np.nan_to_num(b.pmi, nan=-9))


def test_group_tasks_that_fill_their_room_leave_sources_to_another_round(monkeypatch, tmp_path):
    """Passes 2 and 3 merge groups of shards in the workers; a group whose merged counts pass
    the room returns early and its other shards go to another round: the same lexicon."""
    lines, _ = make_corpus(5, n_lines=500)
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ref = _table(dm.discover_words(paths=[str(path)], shard_bytes=2000))
    left = {}
    for name in ("_ngram_group_task", "_cut_group_task"):
        def spy(task, fn=getattr(dm, name), name=name):
            out = fn(task)
            left.setdefault(name, []).append((len(task[0]), len(out[-1])))
            return out
        monkeypatch.setattr(dm, name, spy)
    monkeypatch.setattr(dm, "_ROOM_FLOOR", 0)
    got = dm.discover_words(paths=[str(path)], shard_bytes=2000, memory_limit=1)  # room 0: one shard a task
    assert _table(got) == ref
    for name, tasks in left.items():
        assert tasks[0][0] > 1 and tasks[0][1] == tasks[0][0] - 1  # a group of several, left after one
        assert sum(n - k for n, k in tasks) == tasks[0][0] + tasks[1][0]  # every shard read once
        assert all(t == (1, 0) for t in tasks[2:])  # then groups of one (what fitted): one more round
    assert set(left) == {"_ngram_group_task", "_cut_group_task"}
    monkeypatch.undo()
    groups = []
    monkeypatch.setattr(dm, "_ngram_group_task",
                        lambda task, fn=dm._ngram_group_task: groups.append(len(task[0])) or fn(task))
    assert _table(dm.discover_words(paths=[str(path)], shard_bytes=2000, n_jobs=1)) == ref
    assert len(groups) == 2 and sum(groups) > 2  # two groups per worker, one round


def _table(r):
    return [(w, c, f"{a:.12g}", f"{b:.12g}", f"{g:.12g}") for w, c, a, b, g in zip(r.words, r.counts, r.cohesion,
                                                                             r.pmi, r.gain)]


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_discover_on_shards_is_independent_of_shards_jobs_and_engine(tmp_path, engine):
    """Each pass re-reads the file in byte-range shards; the lexicon is the same as from the lines in memory."""
    if engine == "dask":
        pytest.importorskip("distributed")
    lines, _ = make_corpus(4, n_lines=500)
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    ref = _table(dm.discover_words(batches_of(lines, 50)))
    runs = [dict(n_jobs=1), dict(n_jobs=2, shard_bytes=3000), dict(n_jobs=2, shard_bytes=2000, memory_limit=3000)]
    if engine == "dask":
        runs = runs[1:2]
    for kw in runs:
        got = dm.discover_words(paths=[str(path)], engine=engine, tmpdir=str(work), batch_chars=1000, **kw)
        assert _table(got) == ref
        assert list(work.iterdir()) == []  # spooled unit ids and spilled runs are removed


def test_units_tokenizer_matches_naive_segments():
    """count -t units: groups are the naive segments, units their (width-folded) strings."""
    from textmine.tokenizers import make_tokenizer

    tok = make_tokenizer("units")
    for seed in range(5):
        lines, _ = make_corpus(seed, n_lines=30)
        codes, us, ue, go, joined = tok.units(lines)
        text = codes.tobytes().decode("utf-32-le")
        got = [[text[us[u]:ue[u]] for u in range(go[g], go[g + 1])] for g in range(len(go) - 1)]
        assert not joined and got == [seg for line in lines for seg in naive_segments(line)]


def test_saved_key_kernels_match_naive():
    """_key_units and _pack_han_keys against the naive segmentation of random unit n-gram keys."""
    from textmine.countfile import Counts

    rng = random.Random(9)
    lines, _ = make_corpus(7, n_lines=60)
    grams = Counter()
    for line in lines:
        for seg in naive_segments(line):
            for n in range(1, 5):
                grams.update("".join(g) for g in naive_ngrams([seg], n))
    grams["中，国"] = 1  # punctuation: no unit sequence
    c = Counts.from_items(grams.items(), {})
    text = bytes(c.data).decode("utf-8")
    cps = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    char_off = dm._char_offsets(c.data, c.offsets)
    assert char_off.tolist() == [0] + list(itertools.accumulate(len(k) for k, _ in c.items()))  # naive twin
    n_units, has_run = dm._key_units(dm._classify(cps), char_off)
    keys = [k for k, _ in c.items()]
    for k, key in enumerate(keys):
        segs = naive_segments(key)
        assert n_units[k] == (len(segs[0]) if len(segs) == 1 and "".join(segs[0]) == key else -1)
        assert has_run[k] == (n_units[k] != -1 and any(naive_class(u, 0) == 2 for u in segs[0]))
    han_to_id = np.zeros(dm.RUN_BASE, np.int32)
    for ch in set("".join(keys)):
        han_to_id[ord(ch)] = rng.choice([0, 1, 2, 3, 5])
    for n in (2, 3):
        sel = np.flatnonzero((n_units == n) & ~has_run)
        got = dm._pack_han_keys(cps, char_off, sel, n, han_to_id, 3)
        for q, k in enumerate(sel.tolist()):
            ids = [int(han_to_id[ord(ch)]) for ch in keys[k]]
            assert got[q] == (-1 if 0 in ids else naive_pack(ids, n, 3)[0])


@pytest.fixture
def saved_units(tmp_path):
    lines, _ = make_corpus(6, n_lines=500)
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def save(name, *args):
        res = CliRunner().invoke(cli, ["count", str(path), "-q", "-o", str(tmp_path / "x.tsv"),
                                       "--save", str(tmp_path / name), *args])
        assert res.exit_code == 0, res.output
        return str(tmp_path / name)

    return path, save


def test_counts_reuse_gives_the_same_lexicon(saved_units):
    path, save = saved_units
    counts = save("u4", "-t", "units", "--n", "4", "-j", "2")
    for kw in (dict(), dict(max_n=3, min_count=2), dict(max_n=2, redundancy="none", n_jobs=2)):
        ref = _table(dm.discover_words(paths=[str(path)], **kw))
        assert _table(dm.discover_words(paths=[str(path)], counts=counts, **kw)) == ref
    res = CliRunner().invoke(cli, ["discover-words", str(path), "-q", "--counts", counts])
    assert res.exit_code == 0 and res.stdout == CliRunner().invoke(cli, ["discover-words", str(path), "-q"]).stdout


def test_counts_that_do_not_fit_are_a_clear_error(saved_units, tmp_path):
    path, save = saved_units
    cases = [(save("ng", "-t", "ngram", "--n", "4"), {}, "units tokenizer"),
             (save("u3", "-t", "units", "--n", "3"), {}, "needs 1..4-grams"),
             (save("m2", "-t", "units", "--n", "4", "--min-count", "2"), {}, "--min-count 1"),
             (save("u4", "-t", "units", "--n", "4"), dict(extra="甲乙丙\n"), "bytes of input")]
    for counts, change, message in cases:
        if change:
            other = tmp_path / "other.txt"
            other.write_text(path.read_text(encoding="utf-8") + change["extra"], encoding="utf-8")
            target = other
        else:
            target = path
        with pytest.raises(TextmineError, match=message):
            dm.discover_words(paths=[str(target)], counts=counts)
        res = CliRunner().invoke(cli, ["discover-words", str(target), "--counts", counts])
        assert res.exit_code == 1 and message in res.output and "Traceback" not in res.output
    with open(tmp_path / "u4" / "counts.npy", "r+b") as f:  # damaged: never a lexicon
        f.seek(-8, 2)
        f.write(b"\x01" * 8)
    res = CliRunner().invoke(cli, ["discover-words", str(path), "--counts", str(tmp_path / "u4")])
    assert res.exit_code == 1 and "sha256" in res.output and res.stdout == ""


def test_scores_are_consistent():
    lines, _ = make_corpus(4, n_lines=500)
    r = dm.discover_words(batches_of(lines), min_count=3)
    total = sum(r.counts)
    for w, c, coh, pmi, gain in zip(r.words, r.counts, r.cohesion, r.pmi, r.gain):
        if len(naive_segments(w)[0]) == 1:  # one unit: a character or a Latin/digit run
            assert math.isnan(coh) and math.isnan(pmi)
        else:
            assert math.isclose(gain, c / total * (pmi - 1), rel_tol=1e-9, abs_tol=1e-15)
            assert coh >= 1.0 - 1e-9 or len(w) > 4  # the default 2-gram threshold is the smallest


def test_latin_runs_stay_whole_and_punctuation_splits():
    lines = ["AK47步枪，AK47步枪。", "用AK47步枪", "ＡＫ47步枪"] * 5
    r = dm.discover_words([lines], min_count=2, redundancy="none")
    assert "AK47" in r.words
    assert not any("，" in w or "。" in w for w in r.words)
    assert not any(w in ("A", "K", "4", "7") for w in r.words)


def test_bad_arguments():
    with pytest.raises(TextmineError, match="empty"):
        dm.discover_words([["...", "!!"]])
    with pytest.raises(TextmineError, match="empty"):
        dm.discover_words([])
    with pytest.raises(TextmineError, match="no Chinese"):
        dm.discover_words([["hello world"] * 10])
    with pytest.raises(TextmineError, match="min_count"):
        dm.discover_words([["中国"]], min_count=0)
    with pytest.raises(TextmineError, match="max_n"):
        dm.discover_words([["中国"]], max_n=9)
    with pytest.raises(TextmineError, match="min-pmi"):
        dm.discover_words([["中国"]], min_pmi="a,b")
    with pytest.raises(TextmineError, match="redundancy"):
        dm.discover_words([["中国"]], redundancy="often")
    with pytest.raises(TextmineError, match="lower --min-count"):
        dm.discover_words([["中国"]], min_count=5)


# ------------------------------------------------------------------------------------- CLI

@pytest.fixture
def corpus_file(tmp_path):
    lines, _ = make_corpus(5, n_lines=600)
    p = tmp_path / "corpus.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_cli_tsv_and_stats(corpus_file):
    res = CliRunner().invoke(cli, ["discover-words", str(corpus_file), "-j", "1", "--header"])
    assert res.exit_code == 0, res.output
    rows = res.stdout.splitlines()
    assert rows[0] == "word\tcount\tcohesion\tpmi\tgain"
    counts = [int(r.split("\t")[1]) for r in rows[1:]]
    assert counts == sorted(counts, reverse=True)
    assert all(len(r.split("\t")) == 5 for r in rows)
    assert "L = H/l: before" in res.stderr and "after" in res.stderr


def test_cli_jobs_identical_and_stdin(corpus_file):
    a = CliRunner().invoke(cli, ["discover-words", str(corpus_file), "-j", "1", "-q"])
    b = CliRunner().invoke(cli, ["discover-words", str(corpus_file), "-j", "2", "-q", "--batch-chars", "2000"])
    c = CliRunner().invoke(cli, ["discover-words", "-", "-q"], input=corpus_file.read_text(encoding="utf-8"))
    assert a.exit_code == b.exit_code == c.exit_code == 0
    assert a.stdout == b.stdout == c.stdout
    assert a.stderr == ""


def test_cli_jieba_format_loads_in_jieba(corpus_file, tmp_path):
    jieba = pytest.importorskip("jieba")
    out = tmp_path / "dict.txt"
    res = CliRunner().invoke(cli, ["discover-words", str(corpus_file), "--format", "jieba", "--top", "50",
                                   "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 50 and all(len(ln.split(" ")) == 2 for ln in lines)
    tk = jieba.Tokenizer(str(out))
    text = corpus_file.read_text(encoding="utf-8").splitlines()[0]
    assert "".join(tk.lcut(text, HMM=False)) == text


@pytest.mark.parametrize("content,message", [("", "empty"), ("hello, world!\n... ---\n" * 9, "no Chinese"),
                                             ("!!! ,,, ...\n", "empty"), ("中国\n", "lower --min-count")])
def test_cli_bad_corpus(tmp_path, content, message):
    p = tmp_path / "c.txt"
    p.write_text(content, encoding="utf-8")
    out = tmp_path / "lex.tsv"
    res = CliRunner().invoke(cli, ["discover-words", str(p), "-o", str(out)])
    assert res.exit_code == 1
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


@pytest.mark.parametrize("args,code", [(["--min-pmi", "x"], 1), (["--max-n", "9"], 2), (["--min-count", "0"], 2),
                                       (["--redundancy", "sometimes"], 1), (["--min-pmi", "nan"], 1)])
def test_cli_bad_thresholds(corpus_file, args, code):
    res = CliRunner().invoke(cli, ["discover-words", str(corpus_file), *args])
    assert res.exit_code == code
    assert res.stdout == "" and "Traceback" not in res.stderr


@pytest.mark.parametrize("command", ["discover-words", "segment"])
def test_cli_help(command):
    res = CliRunner().invoke(cli, [command, "--help"])
    assert res.exit_code == 0 and "Usage:" in res.stdout


def test_pku_smoke():
    """On the real raw text (when present): a few well-known words are found."""
    if JIT_DISABLED:
        pytest.skip("slow without the JIT")
    path = shared_file("cws", "pku_test.utf8")
    lines = path.read_text(encoding="utf-8").splitlines()
    r = dm.discover_words(batches_of(lines, 500), n_jobs=2)
    top = set(r.words[:3000])
    for w in ("中国", "经济", "发展", "世纪"):
        assert w in top


def test_memory_limit_below_the_kept_ngrams_is_said_once(tmp_path):
    """What stays after the n-gram pass counts against --memory-limit; past it, one warning gives
    its size, and the lexicon is the same."""
    lines, _ = make_corpus(8, n_lines=3000, vocab_size=400)
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok = CliRunner().invoke(cli, ["discover-words", str(path), "-q", "--min-count", "1"])
    low = CliRunner().invoke(cli, ["discover-words", str(path), "-q", "--min-count", "1", "--memory-limit", "1M"])
    assert ok.exit_code == low.exit_code == 0 and low.stdout == ok.stdout
    assert "warning" not in ok.stderr
    warned = [ln for ln in low.stderr.splitlines() if "warning" in ln]
    assert len(warned) == 1 and "over --memory-limit 1 MB" in warned[0], low.stderr
    r = dm.discover_words(paths=[str(path)], min_count=1)
    n_kept = sum(r.stats["ngrams"][n] for n in range(2, 5))
    need = float(warned[0].split(" need ")[1].split(" MB")[0].replace(",", ""))
    assert f"the {n_kept:,} n-grams kept" in warned[0] and need >= 24 * n_kept / 2**20 - 0.5
