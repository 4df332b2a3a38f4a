import os
import random
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import ROOT, SAMPLE, shared_file
from naive_count import (as_tsv, count_naive, count_sort_naive, merge_counts_naive, packable, run_lengths_naive,
                         sorted_items, unpack)
from textmine import _packed as pk
from textmine import _spantable as st
from textmine.cli import cli
from textmine.count import count

ALPHABET = list("的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会") + \
    list("abcAB01９Ｚ") + list("，。！？、 \t\u3000-_.%") + ["\U00020000", "\U0002A6A5", "é"]


def random_lines(rng, n_lines=60, max_len=40):
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, max_len))) for _ in range(n_lines)]


def write(tmp_path, name, lines, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return str(p)


@pytest.mark.parametrize("tokenizer,min_n,max_n", [
    ("char", 1, 1), ("char", 1, 3), ("space", 1, 1), ("space", 2, 3), ("ngram", 1, 4), ("ngram", 2, 6),
])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_count_matches_naive_counter(tmp_path, tokenizer, min_n, max_n, seed):
    rng = random.Random(seed)
    lines = random_lines(rng)
    path = write(tmp_path, "c.txt", lines)
    got = list(count([path], tokenizer=tokenizer, min_n=min_n, max_n=max_n).items())
    assert got == sorted_items(count_naive(lines, tokenizer, min_n, max_n))


def test_min_count_and_top(tmp_path):
    lines = random_lines(random.Random(5), 200)
    path = write(tmp_path, "c.txt", lines)
    ref = count_naive(lines, "ngram", 1, 3)
    assert list(count([path], tokenizer="ngram", max_n=3, min_count=3).items()) == sorted_items(ref, 3)
    assert list(count([path], tokenizer="ngram", max_n=3, top=17).items()) == sorted_items(ref, top=17)


def test_jieba_tokenizer_equals_naive_loop(tmp_path):
    import jieba

    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:300] + ["Python3.11 与 jieba 的 AK47 测试 4.55%"]
    path = write(tmp_path, "j.txt", lines)
    tk = jieba.Tokenizer()
    for hmm, spec in ((True, "jieba"), (False, "jieba:nohmm")):
        ref = count_naive(lines, "jieba", jieba_cut=lambda s: tk.lcut(s, HMM=hmm))
        assert list(count([path], tokenizer=spec).items()) == sorted_items(ref)


def test_jieba_dict_equals_jieba_with_that_dictionary(tmp_path):
    """--jieba-dict FILE counts jieba.Tokenizer(FILE)'s tokens, HMM on and off, for any -j; a
    missing or malformed dictionary is a one-line error (file:line)."""
    import jieba

    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:300]
    path = write(tmp_path, "j.txt", lines)
    lex = tmp_path / "dict.txt"
    r = CliRunner().invoke(cli, ["discover-words", "-q", str(path), "--format", "jieba", "-o", str(lex)])
    assert r.exit_code == 0, r.output
    tk = jieba.Tokenizer(str(lex))
    for hmm, extra in ((True, []), (False, ["--no-hmm"])):
        ref = count_naive(lines, "jieba", jieba_cut=lambda s: tk.lcut(s, HMM=hmm))
        expect = "".join(f"{w}\t{c}\n" for w, c in sorted_items(ref))
        for jobs in ("1", "2"):
            r = CliRunner().invoke(cli, ["count", "-q", "-j", jobs, "--jieba-dict", str(lex), str(path)] + extra)
            assert r.exit_code == 0, r.output
            assert r.stdout == expect
    default = CliRunner().invoke(cli, ["count", "-q", str(path)])
    assert default.stdout != expect  # the dictionary made a difference
    bad = tmp_path / "bad.txt"
    bad.write_text("好 1\n坏\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["count", "-q", "--jieba-dict", str(bad), str(path)])
    assert r.exit_code == 1 and f"{bad}:2: invalid dictionary entry '坏'" in r.stderr and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["count", "-q", "--jieba-dict", str(tmp_path / "missing.txt"), str(path)])
    assert r.exit_code == 1 and "missing.txt" in r.stderr
    r = CliRunner().invoke(cli, ["count", "-q", "-t", "char", "--jieba-dict", str(lex), str(path)])
    assert r.exit_code == 2 and "--jieba-dict applies to --tokenizer jieba only" in r.stderr


def test_word_ngrams_are_joined_by_one_space(tmp_path):
    path = write(tmp_path, "w.txt", ["a  b\tc", "a b"])
    assert dict(count([path], tokenizer="space", min_n=2, max_n=2).items()) == {"a b": 2, "b c": 1}
    # one document per file: n-grams run across lines
    got = dict(count([path], tokenizer="space", min_n=2, max_n=2, doc_per_file=True).items())
    assert got == {"a b": 2, "b c": 1, "c a": 1}


def test_partitions_jobs_and_shards_do_not_change_output(tmp_path):
    lines = random_lines(random.Random(7), 3000)
    path = write(tmp_path, "big.txt", lines)
    ref = list(count([path], tokenizer="ngram", max_n=3).items())
    got = list(count([path], tokenizer="ngram", max_n=3, n_jobs=2, shard_bytes=4096).items())
    assert got == ref == sorted_items(count_naive(lines, "ngram", 1, 3))


def test_spill_to_disk_gives_identical_counts(tmp_path):
    lines = random_lines(random.Random(11), 6000, 60)
    path = write(tmp_path, "big.txt", lines)
    ref = list(count([path], tokenizer="ngram", max_n=4).items())
    res = count([path], tokenizer="ngram", max_n=4, memory_limit=1 << 20, shard_bytes=16384, tmpdir=str(tmp_path))
    assert res.spilled_bytes > 0
    assert res.packed.n > res.packed.capacity  # the packed keys are put in output order out of core
    assert list(res.items()) == ref
    assert res.packed.passes > 2  # a histogram pass, then one pass per group of counts
    res.close()
    for j in (1, 2):  # one bucket (count 1) larger than a chunk is streamed; the rest grouped
        with count([path], tokenizer="ngram", max_n=4, memory_limit=1 << 19, n_jobs=j, shard_bytes=16384,
                   tmpdir=str(tmp_path)) as res:
            assert list(res.items()) == ref
    assert not [p for p in os.listdir(tmp_path) if p.startswith("textmine-")]


def test_scratch_directory_goes_with_the_result(tmp_path):
    # an API caller who never calls close() must not leave the scratch directory behind
    import gc

    path = write(tmp_path, "a.txt", random_lines(random.Random(5), 200))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    res = count([path], tokenizer="ngram", max_n=2, tmpdir=str(scratch))
    assert len(os.listdir(scratch)) == 1
    ref = list(res.items())
    del res
    gc.collect()
    assert os.listdir(scratch) == []
    assert list(count([path], tokenizer="ngram", max_n=2, tmpdir=str(scratch)).items()) == ref
    gc.collect()
    assert os.listdir(scratch) == []
    with count([path], tokenizer="ngram", max_n=2, tmpdir=str(scratch)) as res:
        assert list(res.items()) == ref
    assert os.listdir(scratch) == [] and list(res.items()) == []
    res.close()  # idempotent


def test_span_table_growth_and_add_match_counter():
    rng = np.random.default_rng(3)
    codes = rng.integers(0x4E00, 0x4E40, 5000).astype(np.uint32)
    ustart = np.arange(5000, dtype=np.int64)
    uend = ustart + 1
    goff = np.array([0, 1000, 1000, 5000], np.int64)
    t = st.SpanTable(entries=16, arena=64)
    hs, ss, es, part, n_packed = st.ngram_descriptors(codes, ustart, uend, goff, 1, 5, 1, st._NO_PACK, 0)
    assert n_packed == 0 and len(hs) == st.ngram_total(goff, 1, 5)
    t.add_spans(codes, hs, ss, es, 0, len(hs))
    text = "".join(map(chr, codes))
    ref = {}
    for a, b in ((0, 1000), (1000, 5000)):
        for n in range(1, 6):
            for i in range(a, b - n + 1):
                ref[text[i:i + n]] = ref.get(text[i:i + n], 0) + 1
    c, o, n, h, parts = t.extract(4)
    got = {"".join(map(chr, c[o[k]:o[k + 1]])): int(n[k]) for k in range(len(n))}
    assert got == ref
    assert parts[-1] == len(n) and np.all(np.diff(parts) >= 0)
    t2 = st.SpanTable(entries=16, arena=64)
    t2.add(c, o, n, h)
    t2.add(c, o, n, h)
    c2, o2, n2, _, _ = t2.extract(1)
    got2 = {"".join(map(chr, c2[o2[k]:o2[k + 1]])): int(n2[k]) for k in range(len(n2))}
    assert got2 == {k: 2 * v for k, v in ref.items()}


def test_sort_and_emit_match_python_sort():
    rng = random.Random(4)
    keys = list({"".join(rng.choice("ab的一\U00020000") for _ in range(rng.randint(1, 9))) for _ in range(3000)})
    counts = np.array([rng.randint(1, 4) for _ in keys], np.int64)
    codes = np.frombuffer("".join(keys).encode("utf-32-le"), np.uint32)
    offsets = np.concatenate([[0], np.cumsum([len(k) for k in keys])]).astype(np.int64)
    order = st.sort_order(counts, offsets, codes)
    assert [keys[i] for i in order] == [k for k, _ in sorted(zip(keys, counts), key=lambda x: (-x[1], x[0]))]


def test_cli_jobs_identical_bytes_and_stdin(tmp_path):
    lines = random_lines(random.Random(9), 2000)
    path = write(tmp_path, "c.txt", lines)
    runner = CliRunner()
    r1 = runner.invoke(cli, ["count", "-t", "ngram", "-j", "1", "-q", path])
    r2 = runner.invoke(cli, ["count", "-t", "ngram", "-j", "2", "-q", path])
    assert r1.exit_code == 0 and r2.exit_code == 0
    assert r1.stdout == r2.stdout == as_tsv(sorted_items(count_naive(lines, "ngram", 1, 4)))
    data = open(path, "rb").read()
    for args in (["count", "-t", "ngram", "-q"], ["count", "-t", "ngram", "-q", "-"]):
        r = runner.invoke(cli, args, input=data)
        assert r.exit_code == 0 and r.stdout == r1.stdout


def test_cli_output_file_header_and_stats(tmp_path):
    path = write(tmp_path, "c.txt", ["a b a"])
    out = tmp_path / "o.tsv"
    r = CliRunner().invoke(cli, ["count", "-t", "space", "--header", "-o", str(out), path])
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8") == "token\tcount\na\t2\nb\t1\n"
    assert "1 lines" in r.stderr and "2 keys written" in r.stderr


def test_encodings_bom_crlf_and_directories(tmp_path):
    d = tmp_path / "corpus"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_bytes("\ufeff中文 中文\r\n测试".encode("utf-8"))
    (d / "sub" / "b.txt").write_bytes("中文 测试\n".encode("gb18030"))
    (d / "sub" / "skip.dat").write_bytes(b"\xff\xfe")
    r = CliRunner().invoke(cli, ["count", "-t", "space", "-q", "--glob", "*.txt", str(d / "a.txt")])
    assert r.stdout == "中文\t2\n测试\t1\n"
    r = CliRunner().invoke(cli, ["count", "-t", "space", "-q", "--encoding", "gb18030", str(d / "sub" / "b.txt")])
    assert r.stdout == "中文\t1\n测试\t1\n"
    # a GB18030 file read as UTF-8: file and byte offset named
    r = CliRunner().invoke(cli, ["count", "-t", "space", "-q", "--glob", "*.txt", str(d)])
    assert r.exit_code == 1
    assert "b.txt: cannot decode byte 0xd6 at offset 0 as utf-8" in r.stderr and "--encoding gb18030" in r.stderr
    r = CliRunner().invoke(cli, ["count", "-t", "space", "-q", "--errors", "replace", "--glob", "*.txt", str(d)])
    assert r.exit_code == 0 and "中文\t2\n" in r.stdout


@pytest.mark.parametrize("make,args,message,code", [
    (None, ["/nonexistent/x.txt"], "/nonexistent/x.txt: no such file or directory", 1),
    ("emptydir", [], "directory has no files matching", 1),
    ("emptyfile", [], "no text to count", 1),
    ("binary", [], "looks like a binary file (NUL byte at offset 3)", 1),
    ("text", ["-j", "0"], "Invalid value for '-j' / '--jobs': 0 is not in the range x>=1", 2),
    ("text", ["-t", "nosuch"], "unknown tokenizer 'nosuch'", 1),
    ("text", ["--encoding", "nosuch"], "unknown encoding 'nosuch'", 1),
    ("text", ["--min-n", "3", "-n", "2"], "--min-n 3 is larger than --n 2", 2),
    ("text", ["--engine", "local", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --engine dask", 1),
])
def test_bad_input_one_line_error_no_output_file(tmp_path, make, args, message, code):
    target = []
    if make == "emptydir":
        (tmp_path / "d").mkdir()
        target = [str(tmp_path / "d")]
    elif make == "emptyfile":
        (tmp_path / "e.txt").write_bytes(b"")
        target = [str(tmp_path / "e.txt")]
    elif make == "binary":
        (tmp_path / "b.bin").write_bytes(b"abc\x00\x01\x02")
        target = [str(tmp_path / "b.bin")]
    elif make == "text":
        (tmp_path / "t.txt").write_text("a b\n", encoding="utf-8")
        target = [str(tmp_path / "t.txt")]
    out = tmp_path / "out.tsv"
    r = CliRunner().invoke(cli, ["count", "-t", "space", "-o", str(out)] + args + target)
    assert r.exit_code == code, r.output
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert [ln for ln in r.stderr.splitlines() if ln.startswith("Error:")] == [r.stderr.strip().splitlines()[-1]]
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if ".tmp" in p]


def _run(args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "textmine"] + args, capture_output=True, env=env, **kw)


def test_broken_pipe_exits_quietly(tmp_path):
    path = write(tmp_path, "c.txt", random_lines(random.Random(1), 20000))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run(f"{sys.executable} -m textmine count -t ngram -q {path} | head -n 1",
                       shell=True, capture_output=True, env=env)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 1
    assert b"Traceback" not in p.stderr and b"Error" not in p.stderr


def test_help_is_fast_and_imports_no_numba():
    code = ("import sys, textmine.cli as c\n"
            "try:\n    c.cli.main(['--help'], standalone_mode=False)\nexcept SystemExit: pass\n"
            "try:\n    c.cli.main(['count', '--help'], standalone_mode=False)\nexcept SystemExit: pass\n"
            "assert 'numba' not in sys.modules and 'numpy' not in sys.modules, 'heavy import'\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert p.returncode == 0, p.stderr
    assert b"count" in p.stdout


def test_dask_engine_on_a_local_cluster(tmp_path):
    pytest.importorskip("distributed")
    lines = random_lines(random.Random(2), 1500)
    path = write(tmp_path, "c.txt", lines)
    got = list(count([path], tokenizer="ngram", max_n=2, n_jobs=2, engine="dask", shard_bytes=8192).items())
    assert got == sorted_items(count_naive(lines, "ngram", 1, 2))


def test_real_corpus_jobs_identical(tmp_path):
    src = shared_file("cws", "199801_raw.utf8")
    ref = list(count([str(src)], tokenizer="ngram", max_n=2, top=2000).items())
    got = list(count([str(src)], tokenizer="ngram", max_n=2, top=2000, n_jobs=2, shard_bytes=1 << 20).items())
    assert got == ref
    text = src.read_text(encoding="utf-8")
    assert ref[0] == ("的", text.count("的"))
    assert dict(ref)["人民"] == text.count("人民")


def test_char_classes_equal_str_methods():
    from textmine.tokenizers import char_classes

    cls = char_classes()
    chars = "".join(map(chr, range(0x110000)))
    alnum = np.fromiter(map(str.isalnum, chars), dtype=bool, count=0x110000)
    space = np.fromiter(map(str.isspace, chars), dtype=bool, count=0x110000)
    assert np.array_equal(cls == 1, alnum) and np.array_equal(cls == 2, space)


def test_partitioned_table_matches_counter_and_partition_function():
    rng = np.random.default_rng(8)
    codes = rng.integers(0x4E00, 0x4E30, 4000).astype(np.uint32)
    ustart = np.arange(4000, dtype=np.int64)
    goff = np.array([0, 2500, 4000], np.int64)
    t = st.PartitionedTable(16)
    for _ in range(2):  # two batches into the same tables
        t.count_ngrams(codes, ustart, ustart + 1, goff, 2, 4)
    text = "".join(map(chr, codes))
    ref = {}
    for a, b in ((0, 2500), (2500, 4000)):
        for n in range(2, 5):
            for i in range(a, b - n + 1):
                ref[text[i:i + n]] = ref.get(text[i:i + n], 0) + 2
    from textmine.count import _concat_pieces

    c, o, n, h, parts = _concat_pieces(t.pieces())
    keys = ["".join(map(chr, c[o[k]:o[k + 1]])) for k in range(len(n))]
    assert dict(zip(keys, n.tolist())) == ref
    for p in range(16):
        for k in range(parts[p], parts[p + 1]):
            assert st.partition_of(h[k], 16) == p
            assert h[k] == st.hash_span(c, o[k], o[k + 1])


def test_lexicon_tokenizer_equals_segment_then_space_count(tmp_path):
    lex = tmp_path / "lex.tsv"
    lex.write_text("中国\t100\n人民\t80\n银行\t50\n的\t200\n", encoding="utf-8")
    lines = ["中国人民银行的人民", "", "ABC 中国 123，人民"]
    path = write(tmp_path, "c.txt", lines)
    from textmine.segment import load_lexicon

    words = [w for ws in load_lexicon(str(lex)).segment_lines(lines) for w in ws]
    ref = sorted_items(count_naive([" ".join(words)], "space"))
    assert list(count([path], tokenizer=f"lexicon:{lex}").items()) == ref
    r = CliRunner().invoke(cli, ["count", "-q", "-t", "lexicon:" + str(tmp_path / "none.tsv"), path])
    assert r.exit_code == 1 and "none.tsv: no such file or directory" in r.stderr


@pytest.mark.parametrize("tokenizer", ["ngram", "space", "char", "jieba"])
def test_high_orders_and_inputs_without_such_ngrams(tmp_path, tokenizer):
    path = write(tmp_path, "s.txt", ["中 文", "ab"])
    r = CliRunner().invoke(cli, ["count", "-q", "-t", tokenizer, "--n", "5", "--min-n", "5", path])
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    lines = random_lines(random.Random(3), 50)
    path = write(tmp_path, "r.txt", lines)
    if tokenizer != "jieba":
        got = list(count([path], tokenizer=tokenizer, min_n=3, max_n=5).items())
        assert got == sorted_items(count_naive(lines, tokenizer, 3, 5))


@pytest.mark.parametrize("small", [0, 1 << 30], ids=["kernels", "numpy"])
@pytest.mark.parametrize("seed", range(3))
def test_packed_kernels_match_naive(seed, small, monkeypatch):
    # small runs are merged and ordered with numpy (no kernel to compile), large ones by kernels
    monkeypatch.setattr(pk, "_SMALL_MERGE", small)
    monkeypatch.setattr(pk, "_SMALL_SORT", small)
    rng = np.random.default_rng(seed)
    keys = np.sort(rng.integers(1, 50, rng.integers(0, 400)).astype(np.uint64) << np.uint64(40))
    u, c = pk.run_lengths(keys)
    assert (u.tolist(), c.tolist()) == run_lengths_naive(keys)
    k2 = np.unique(rng.integers(1, 80, 60).astype(np.uint64))
    c2 = rng.integers(1, 5, k2.shape[0]).astype(np.int64)
    m = pk.merge_counts(u, c, k2, c2)
    assert (m[0].tolist(), m[1].tolist()) == merge_counts_naive(u, c, k2, c2)
    # counts on both sides of the counting sort's cap (2**16), with ties
    counts = rng.choice([1, 2, 3, 65535, 65536, 65537, 10 ** 6], 500).astype(np.int64)
    kk = np.sort(rng.integers(0, 1 << 60, 500).astype(np.uint64))
    ok, oc = np.empty_like(kk), np.empty_like(counts)
    pk.count_sort([(kk[:0], counts[:0]), (kk[:123], counts[:123]), (kk[123:], counts[123:])], ok, oc)
    assert (ok.tolist(), oc.tolist()) == count_sort_naive(kk, counts)


@pytest.mark.parametrize("capacity", [1, 7, 1000])
def test_packed_counter_matches_counter(capacity):
    rng = np.random.default_rng(capacity)
    pc = pk.PackedCounter(capacity)
    ref = {}
    for i in range(20):
        keys = rng.integers(1, 300, rng.integers(0, 200)).astype(np.uint64)
        if i % 2:
            pc.add(keys)
        else:  # the way a kernel writes: into the room the counter gives
            buf, at = pc.room(len(keys))
            buf[at:at + len(keys)] = keys
            pc.commit(buf, at, len(keys))
        for k in keys.tolist():
            ref[k] = ref.get(k, 0) + 1
    u, c = pc.result()
    assert dict(zip(u.tolist(), c.tolist())) == ref and np.all(np.diff(u.astype(np.float64)) > 0)
    assert pc.result()[0].shape[0] == 0  # empty after result()


def test_ngram_descriptors_split_packable_spans():
    rng = np.random.default_rng(8)
    alphabet = np.array([0x61, 0x4E2D, 0xFFFF, 0x10000, 0x20000, 0xDC80, 0x3000], np.uint32)
    codes = rng.choice(alphabet, 3000).astype(np.uint32)
    ustart = np.arange(3000, dtype=np.int64)
    uend = ustart + 1
    goff = np.array([0, 1000, 1000, 2999, 3000], np.int64)
    text = "".join(map(chr, codes))
    for min_n, max_n in ((1, 4), (2, 6), (5, 5)):
        total = st.ngram_total(goff, min_n, max_n)
        buf = np.zeros(total + 10, np.uint64)
        hs, ss, es, part, n_packed = st.ngram_descriptors(codes, ustart, uend, goff, min_n, max_n, 4, buf, 7)
        packed = buf[7:7 + n_packed]
        assert not buf[:7].any() and not buf[7 + n_packed:].any()
        assert n_packed + len(hs) == total
        spans = [text[i:i + n] for a, b in zip(goff[:-1], goff[1:]) for n in range(min_n, max_n + 1)
                 for i in range(a, b - n + 1)]
        assert sorted(unpack(k) for k in packed) == sorted(x for x in spans if packable(x))
        assert sorted(text[s:e] for s, e in zip(ss, es)) == sorted(x for x in spans if not packable(x))
        assert all(st.hash_span(codes, s, e) == h for s, e, h in zip(ss, es, hs))
        assert part[-1] == len(hs)


def test_packed_and_table_strings_interleave_in_output_order(tmp_path):
    # "ab" (packed) and "ab\U00020000" (a table key) tie on count; prefixes and ties across both paths
    lines = ["ab\U00020000", "ab", "abcde", "abcd", "\U00020000", "abcd"]
    path = write(tmp_path, "mix.txt", lines)
    for j in (1, 2):
        got = list(count([path], tokenizer="space", n_jobs=j, shard_bytes=8).items())
        assert got == sorted_items(count_naive(lines, "space")), j


def test_auto_jobs_follow_input_size(tmp_path):
    from textmine.count import auto_jobs

    small, big = tmp_path / "s.txt", tmp_path / "b.txt"
    small.write_text("一二三\n", encoding="utf-8")
    with open(big, "wb") as f:
        f.truncate(9 << 20)  # 9 MB: worth two workers
    assert auto_jobs([str(small)], cpus=16) == 1
    assert auto_jobs([str(big)], cpus=16) == 2 and auto_jobs([str(big)], cpus=1) == 1
    assert auto_jobs([str(big), str(big)], cpus=16) == 4
    assert auto_jobs(["-"], cpus=16) == 16 and auto_jobs([str(small)], "dask", cpus=16) == 16
    lines = random_lines(random.Random(3))
    path = write(tmp_path, "c.txt", lines)
    assert list(count([path], tokenizer="char", n_jobs=None).items()) == sorted_items(count_naive(lines, "char"))


def test_count_compiles_one_specialisation_per_kernel(tmp_path):
    """A jieba count (with the output merge) leaves one compiled signature per kernel: constants
    passed from numba code must not add literal specialisations (each one costs a cold start
    about as much as the kernel itself)."""
    code = (
        "import sys\n"
        "from numba.core.registry import CPUDispatcher\n"
        "from textmine.cli import main\n"
        "try:\n"
        "    main(['count', sys.argv[1], '-j', '1', '-q', '-o', sys.argv[2]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "for m in list(sys.modules.values()):\n"
        "    if getattr(m, '__name__', '').startswith('textmine'):\n"
        "        for k, v in vars(m).items():\n"
        "            if isinstance(v, CPUDispatcher) and len(v.signatures) > 1:\n"
        "                print(m.__name__ + '.' + k, len(v.signatures))\n")
    text = tmp_path / "t.txt"
    text.write_text("我来到北京清华大学, 他来到了网易杭研大厦 abc 3.5% 十二\n" * 3 + "𠀀文本 long1 a\n",
                    encoding="utf-8")
    # an empty cache: a kernel loaded from the cache does not compile its callees, so only a
    # cold run shows their specialisations
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-c", code, str(text), str(tmp_path / "o.tsv")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o.tsv").read_text(encoding="utf-8").count("\n") > 10
    assert r.stdout == ""


@pytest.mark.parametrize("top", [None, 1, 9, 500])
def test_small_output_writer_equals_merge_kernels(tmp_path, monkeypatch, top):
    """Small outputs (few lines, or few keys) are written in Python, without the merge kernels:
    the same bytes as the kernels' heap merge, for packed and table keys, ties on long prefixes,
    characters outside the BMP and undecodable bytes (``surrogateescape``)."""
    import io

    import textmine.count as tc
    from textmine.corpus import ReadOptions

    rng = random.Random(13)
    lines = random_lines(rng, 300) + ["abcdefgh" + rng.choice("xyz") * rng.randint(1, 3) for _ in range(40)]
    path = tmp_path / "s.txt"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8") + b"ab\xff \xfe\x80 \xed\xa0\x80 ab\n")
    outs = []
    for small in (-1, 1 << 30):
        monkeypatch.setattr(tc, "_SMALL_OUTPUT", small)
        for j in (1, 2):
            with count([str(path)], tokenizer="space", max_n=2, top=top, n_jobs=j, shard_bytes=2048,
                       read=ReadOptions(errors="surrogateescape")) as res:
                assert res.runs and res.n_packed  # both kinds of key are merged
                b = io.BytesIO()
                assert res.write(b) == res.n_keys
                outs.append(b.getvalue())
    assert outs[0] == outs[1] == outs[2] == outs[3]
    if top:
        assert outs[0].count(b"\n") == top
    else:  # the undecodable bytes come back as they were read
        assert b"ab\xff\t1\n" in outs[0] and b"\xed\xa0\x80\t1\n" in outs[0]


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the peak RSS from /proc")
def test_long_stdin_line_is_read_in_pieces_with_one_job(tmp_path):
    """One 16 MB line on stdin (-j 1) is read in pieces as a file is: the peak resident memory
    stays near that of a tiny input (held whole, its code points and units alone take 400 MB)."""
    code = ("import atexit, sys\n"
            "from textmine.cli import main\n"
            "atexit.register(lambda: sys.stderr.write([x for x in open('/proc/self/status')\n"
            "                                          if x.startswith('VmHWM')][0]))\n"
            "main(['count', '-j', '1', '-t', 'char', '-q', '-o', sys.argv[1], '-'])\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    peaks, outs = [], []
    for reps in (1, 1 << 21):
        data = ("中文ab c。" * reps).encode("utf-8")  # 8 characters; no line end at all
        out = tmp_path / f"o{reps}.tsv"
        r = subprocess.run([sys.executable, "-c", code, str(out)], input=data, capture_output=True, env=env)
        assert r.returncode == 0, r.stderr
        peaks.append(int(r.stderr.decode().split()[-2]) << 10)
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[1] == outs[0].replace("\t1\n", f"\t{1 << 21}\n")
    assert peaks[1] - peaks[0] < 150 << 20, [p >> 20 for p in peaks]
