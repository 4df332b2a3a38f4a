"""Corpus formats: JSON Lines, CSV and TSV inputs for every command that reads a corpus.

The reference for a record file is the plain text file ``jq -r .FIELD`` would print (each record's
text, then a line end): the line readers must give exactly its lines, on any shards.
"""
import bz2
import csv
import gzip
import io
import json
import random
import sys

import pytest
from click.testing import CliRunner

from conftest import SAMPLE
from naive_count import as_tsv, count_naive, sorted_items
from textmine.cli import cli
from textmine.corpus import (ReadOptions, Shard, format_skipped, input_format, iter_batches, iter_documents,
                             iter_line_blocks, iter_lines, iter_records, make_shards, take_skipped)
from textmine.count import count
from textmine.errors import TextmineError

AUTO = ReadOptions(input_format=None)
PIECES = ["中", "文", "a", "b", " ", "\n", "\r\n", "\r", "\t", '"', "\\", ",", "é", "\U00020000", "\u2028", "{}"]


def lines_of(path, opts=AUTO, shard_bytes=None, block=1 << 20):
    shards = [Shard(str(path))] if shard_bytes is None else make_shards([str(path)], shard_bytes, opts)
    return [x for s in shards for b in iter_line_blocks(s, opts, block) for x in b]


def text_lines(texts):
    """The naive reference: the lines of the text file that ``jq -r .text`` prints."""
    data = "".join(t + "\n" for t in texts)
    out = data.split("\n")[:-1]
    return [x[:-1] if x.endswith("\r") else x for x in out]


def random_texts(rng, n):
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12))) for _ in range(n)]


def write_jsonl(path, texts, ensure_ascii=True, **extra):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": i, "text": t, **extra}, ensure_ascii=ensure_ascii) + "\n")
    return str(path)


@pytest.mark.parametrize("name, fmt", [("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"), ("a.JSONL.gz", "jsonl"),
                                       ("a.csv", "csv"), ("a.csv.bz2", "csv"), ("a.tsv", "tsv"),
                                       ("a.tsv.zst", "tsv"), ("a.txt", "text"), ("a.gz", "text"),
                                       ("jsonl", "text"), ("-", "text")])
def test_format_by_extension(name, fmt):
    assert input_format(name) == fmt
    assert input_format(name, ReadOptions()) == "text"  # the library default: plain text
    assert input_format(name, ReadOptions(input_format="csv")) == "csv"


@pytest.mark.parametrize("seed", range(3))
def test_jsonl_lines_equal_the_text_jq_prints_on_any_shards(tmp_path, seed):
    rng = random.Random(seed)
    texts = random_texts(rng, 300)
    ref = text_lines(texts)
    for ascii_ in (True, False):
        p = write_jsonl(tmp_path / f"c{ascii_}.jsonl", texts, ensure_ascii=ascii_)
        assert lines_of(p) == ref
        for size in (7, 100, 2000):
            for block in (5, 1 << 20):
                assert lines_of(p, shard_bytes=size, block=block) == ref, (size, block)
    # one document per record, with its line breaks
    assert list(iter_documents([p], AUTO)) == texts
    assert list(iter_documents([p], AUTO, doc_per_file=True)) == ["\n".join(texts)]


def test_jsonl_bom_crlf_escapes_nested_lists_and_blank_lines(tmp_path):
    p = tmp_path / "e.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"id": 1, "text": "\\u4e2d\\u6587", "meta": {"body": "x\\ny"}}\r\n'
                  b'\r\n   \n'
                  b'{"id": 2, "text": "", "meta": {"body": ["p1", "p2\\r\\nq"]}, "meta.body": "literal"}\r\n'
                  b'{"text": "\\ud840\\udc00!", "meta": {"body": "last"}}')
    assert lines_of(p) == ["中文", "", "\U00020000!"]
    assert lines_of(p, ReadOptions(input_format="jsonl", field="meta.body")) == ["x", "y", "literal", "last"]
    recs = [r for b in iter_records(Shard(str(p)), AUTO) for r in b]
    assert [v for v, _ in recs] == ["中文", "", "\U00020000!"]
    assert list(recs[1][1]) == ["id", "text", "meta", "meta.body"]  # the whole record, keys in order
    p.write_bytes(b'{"meta": {"body": ["p1", "p2\\r\\nq"]}}\n')
    opts = ReadOptions(input_format="jsonl", field="meta.body")
    assert lines_of(p, opts) == ["p1", "p2", "q"]
    assert list(iter_documents([str(p)], opts)) == ["p1\np2\r\nq"]


def test_empty_files_and_stdin(tmp_path, monkeypatch):
    for name in ("e.jsonl", "e.csv", "e.tsv"):
        (tmp_path / name).write_bytes(b"")
        assert lines_of(tmp_path / name) == []
    (tmp_path / "h.csv").write_text("id,text\n", encoding="utf-8")
    assert lines_of(tmp_path / "h.csv") == []
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"text": "a"}\n{"text": "b"}\n')))
    assert list(iter_lines(Shard("-"), ReadOptions(input_format="jsonl"))) == ["a", "b"]


@pytest.mark.parametrize("shard_bytes", [None, 40])
def test_bad_records_name_file_and_line(tmp_path, shard_bytes):
    good = '{"text": "a"}\n'
    cases = [('{"text": "a",}\n', "invalid JSON"), ('{"body": "a", "id": 3}\n', "no field 'text' .*'body', 'id'"),
             ('{"text": 5}\n', "field 'text' is a number"), ('{"text": null}\n', "field 'text' is null"),
             ('{"text": ["a", 1]}\n', "field 'text' is an array with items that are not strings"),
             ('["a"]\n', "the record is an array, not a JSON object")]
    for k, (bad, message) in enumerate(cases):
        p = tmp_path / f"b{k}.jsonl"
        p.write_text(good * 7 + bad + good * 3, encoding="utf-8")
        with pytest.raises(TextmineError, match=f"b{k}.jsonl:8: {message}"):
            lines_of(p, shard_bytes=shard_bytes)
    p = tmp_path / "u.jsonl"
    p.write_bytes(good.encode() * 2 + b'{"text": "\xff"}\n')
    with pytest.raises(TextmineError, match="u.jsonl: cannot decode byte 0xff at offset 38"):
        lines_of(p)


def test_skip_counts_each_reason(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_bytes(b'{"text": "a"}\nnot json\n{"x": 1}\n{"text": 2}\n[1]\n{"text": "\xff"}\n{"text": "b"}\n')
    take_skipped()
    assert lines_of(p, ReadOptions(input_format=None, errors="skip")) == ["a", "b"]
    counts = take_skipped()
    assert counts == {"bad JSON": 1, "missing field": 1, "not text": 1, "not an object": 1, "undecodable": 1}
    assert format_skipped(counts) == ("skipped 5 records (undecodable: 1, bad JSON: 1, not an object: 1, "
                                      "missing field: 1, not text: 1)")
    assert take_skipped() == {}
    t = tmp_path / "s.txt"
    t.write_bytes(b"a\nb\xffc\nd\n")
    assert lines_of(t, ReadOptions(errors="skip")) == ["a", "d"] and take_skipped() == {"undecodable": 1}


def write_csv(path, rows, **kw):
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, **kw).writerows(rows)
    return str(path)


@pytest.mark.parametrize("seed", range(3))
def test_csv_and_tsv_against_the_csv_module(tmp_path, seed):
    rng = random.Random(seed)
    texts = random_texts(rng, 200)
    one_line = [t.replace("\n", " ").replace("\r", " ") for t in texts]
    rows = [["id", "text", "n"]] + [[str(i), t, "1"] for i, t in enumerate(one_line)]
    p = write_csv(tmp_path / "a.csv", rows, lineterminator="\r\n")
    ref = text_lines(one_line)
    assert lines_of(p) == ref
    assert make_shards([p], 100, AUTO) != [Shard(p)]
    for size in (50, 333):
        assert lines_of(p, shard_bytes=size) == ref
    assert lines_of(p, ReadOptions(input_format=None, field="1")) == [r[0] for r in rows[1:]]
    # quoted line breaks: the file is read whole, each record one document
    q = write_csv(tmp_path / "q.csv", [["text"]] + [[t] for t in texts])
    assert make_shards([q], 50, AUTO) == [Shard(q)]
    with open(q, encoding="utf-8", newline="") as f:
        assert [row[0] for row in csv.reader(f)][1:] == texts
    # the line reader under the CSV parser ends lines at LF and CRLF alike: a quoted CRLF reads as LF
    assert lines_of(q, shard_bytes=50) == text_lines([t.replace("\r\n", "\n") for t in texts])
    # TSV has no quoting: a quote is a character like any other
    tabless = [t.replace("\t", " ") for t in one_line]
    tsv = tmp_path / "a.tsv"
    tsv.write_text("\ufeffid\ttext\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(tabless)), encoding="utf-8")
    assert lines_of(tsv) == lines_of(tsv, shard_bytes=64) == text_lines(tabless)


def test_csv_columns_by_name_and_number_and_errors(tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes('\ufeffid,body\r\n1,"a, ""b"""\r\n2,c\r\n3\r\n'.encode())
    with pytest.raises(TextmineError, match=r"c.csv: no column 'text' \(the header's columns: 'id', 'body'\)"):
        lines_of(p)
    opts = ReadOptions(input_format=None, field="body")
    with pytest.raises(TextmineError, match="c.csv:4: the row has 1 column, the field is column 2"):
        lines_of(p, opts)
    assert lines_of(p, ReadOptions(input_format=None, field="body", errors="skip")) == ['a, "b"', "c"]
    assert take_skipped() == {"missing field": 1}
    assert lines_of(p, ReadOptions(input_format=None, field="1")) == ["1", "2", "3"]
    with pytest.raises(TextmineError, match="column numbers start at 1"):
        ReadOptions(input_format="csv", field="0").check()
    with pytest.raises(TextmineError, match="--field needs a record format"):
        ReadOptions(field="body").check()


def test_compressed_records(tmp_path, monkeypatch):
    texts = ["甲乙", "a\nb", ""]
    plain = write_jsonl(tmp_path / "c.jsonl", texts)
    data = open(plain, "rb").read()
    with gzip.open(tmp_path / "c.jsonl.gz", "wb") as f:
        f.write(data)
    with bz2.open(tmp_path / "c.csv.bz2", "wt", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["text"]] + [[t] for t in texts])
    assert make_shards([str(tmp_path / "c.jsonl.gz")], 1, AUTO) == [Shard(str(tmp_path / "c.jsonl.gz"))]
    for name in ("c.jsonl", "c.jsonl.gz", "c.csv.bz2"):
        assert lines_of(tmp_path / name) == text_lines(texts), name
    z = tmp_path / "c.jsonl.zst"
    z.write_bytes(b"\x28\xb5\x2f\xfd")
    monkeypatch.setitem(sys.modules, "zstandard", None)  # as if not installed
    with pytest.raises(TextmineError, match=r"c.jsonl.zst: reading .zst files needs the zstandard package: "
                                            r"pip install 'textmine\[zstd\]'"):
        lines_of(z)


def test_zstd_multi_frame(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    texts = [f"第{i}行" for i in range(5000)]
    data = open(write_jsonl(tmp_path / "c.jsonl", texts), "rb").read()
    c = zstandard.ZstdCompressor()
    (tmp_path / "c.jsonl.zst").write_bytes(c.compress(data[:30001]) + c.compress(data[30001:]))
    assert lines_of(tmp_path / "c.jsonl.zst") == texts


def test_count_on_jsonl_matches_naive_for_any_jobs_and_shards(tmp_path):
    from test_count import random_lines

    lines = random_lines(random.Random(3), 1500)
    p = write_jsonl(tmp_path / "c.jsonl", lines, ensure_ascii=False)
    ref = as_tsv(sorted_items(count_naive(text_lines(lines), "ngram", 1, 3)))
    outs = []
    for jobs, shard_bytes in ((1, None), (2, 4096), (2, 50000)):
        res = count([p], tokenizer="ngram", max_n=3, n_jobs=jobs, read=AUTO, shard_bytes=shard_bytes)
        buf = io.BytesIO()
        res.write(buf)
        res.close()
        outs.append(buf.getvalue().decode())
    assert outs == [ref] * 3


def test_cli_count_jsonl_equals_text_and_jobs(tmp_path):
    rng = random.Random(5)
    alphabet = "的一是了我不人在他有这个上们来到时大地为子中，。ab1"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    texts[10] = "第一段\n第二段"
    txt = tmp_path / "c.txt"
    txt.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    jl = write_jsonl(tmp_path / "c.jsonl", texts)
    runner = CliRunner()
    for args in (["-t", "char"], ["-t", "ngram", "--n", "4"], ["-t", "space", "--doc-per-file"]):
        ref = runner.invoke(cli, ["count", "-q", *args, str(txt)])
        assert ref.exit_code == 0, ref.output
        for extra in (["-j", "1", jl], ["-j", "2", jl], ["--input-format", "jsonl", "-"]):
            r = runner.invoke(cli, ["count", "-q", *args, *extra], input=open(jl, "rb").read())
            assert r.exit_code == 0, r.output
            assert r.stdout == ref.stdout, (args, extra)
    r = runner.invoke(cli, ["count", "-q", "--field", "body", str(txt)])
    assert r.exit_code == 2 and "--input-format jsonl, csv or tsv" in r.stderr


def test_cli_errors_and_skip_summary(tmp_path):
    p = tmp_path / "b.jsonl"
    p.write_text('{"text": "甲"}\n{"text": "乙"\n{"body": "丙"}\n{"text": "丁"}\n', encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(cli, ["count", "-q", "-t", "char", str(p)])
    assert r.exit_code == 1
    assert r.stderr == (f"Error: {p}:2: invalid JSON (Expecting ',' delimiter at column 13); "
                        "--errors skip skips such records\n")
    r = runner.invoke(cli, ["count", "-q", "-t", "char", "-j", "1", "--errors", "skip", str(p)])
    assert r.exit_code == 0
    assert r.stdout == "丁\t1\n甲\t1\n"
    assert r.stderr == "textmine: skipped 2 records (bad JSON: 1, missing field: 1)\n"
    r = runner.invoke(cli, ["count", "-q", "-t", "char", "--field", "body", "--errors", "skip", str(p)])
    assert r.stdout == "丙\t1\n" and "skipped 3 records (bad JSON: 1, missing field: 2)" in r.stderr


def test_cli_discover_words_jsonl_equals_text(tmp_path):
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:1500]
    txt = tmp_path / "s.txt"
    txt.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    jl = write_jsonl(tmp_path / "s.jsonl", lines)
    runner = CliRunner()
    ref = runner.invoke(cli, ["discover-words", "-q", "-j", "1", str(txt)])
    assert ref.exit_code == 0, ref.output
    assert len(ref.stdout.splitlines()) > 100
    for args in (["-j", "1", jl], ["-j", "2", jl]):
        r = runner.invoke(cli, ["discover-words", "-q", *args])
        assert r.exit_code == 0 and r.stdout == ref.stdout


LEX = "中文\t5\n文本\t3\n分词\t4\n"


@pytest.fixture
def lexicon(tmp_path):
    p = tmp_path / "lex.tsv"
    p.write_text(LEX, encoding="utf-8")
    return str(p)


def test_cli_segment_jsonl_keeps_every_key(tmp_path, lexicon):
    p = tmp_path / "s.jsonl"
    p.write_text('{"id": 1, "text": "中文分词", "meta": {"src": "a", "body": "文本中文"}, "z": [1, 2.5]}\n'
                 '{"text": "中文\\n分词文本", "id": 2}\n'
                 '{"id": 3, "text": ["中文文本", "分词"]}\n', encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(cli, ["segment", "-q", "--dict", lexicon, str(p)])
    assert r.exit_code == 0, r.output
    assert r.stdout == ('{"id":1,"text":"中文 分词","meta":{"src":"a","body":"文本中文"},"z":[1,2.5]}\n'
                        '{"text":"中文\\n分词 文本","id":2}\n'
                        '{"id":3,"text":["中文 文本","分词"]}\n')
    r = runner.invoke(cli, ["segment", "-q", "--dict", lexicon, "--sep", "/", "--field", "meta.body",
                            "--output-field", "meta.seg", "--errors", "skip", str(p)])
    assert r.exit_code == 0, r.output
    assert r.stdout == ('{"id":1,"text":"中文分词","meta":{"src":"a","body":"文本中文","seg":"文本/中文"},'
                        '"z":[1,2.5]}\n')
    assert r.stderr == "textmine: skipped 2 records (missing field: 2)\n"
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps({"id": i, "text": "中文分词文本" * (i % 5)}) + "\n" for i in range(3000)),
                   encoding="utf-8")
    one = runner.invoke(cli, ["segment", "--dict", lexicon, "-j", "1", "--batch-lines", "7", str(big)])
    two = runner.invoke(cli, ["segment", "-q", "--dict", lexicon, "-j", "2", "--batch-lines", "7", str(big)])
    assert one.exit_code == 0 and one.stdout == two.stdout and len(one.stdout.splitlines()) == 3000
    assert json.loads(one.stdout.splitlines()[4]) == {"id": 4, "text": " ".join(["中文 分词 文本"] * 4)}
    assert one.stderr.startswith("textmine segment: 3000 records, ")
    r = runner.invoke(cli, ["segment", "-q", "--dict", lexicon, "--output-field", "seg", "--input-format", "jsonl",
                            "-"], input='{"text": "分词中文"}\n')
    assert r.stdout == '{"text":"分词中文","seg":"分词 中文"}\n'


def test_cli_segment_csv_and_tsv_tables(tmp_path, lexicon):
    a = write_csv(tmp_path / "a.csv", [["id", "text", "note"], ["1", "中文分词", "x,y"],
                                       ["2", "文本\n中文", ""]])
    b = write_csv(tmp_path / "b.csv", [["id", "text", "note"], ["3", "分词", "z"]])
    runner = CliRunner()
    r = runner.invoke(cli, ["segment", "-q", "--dict", lexicon, a, b])
    assert r.exit_code == 0, r.output
    assert list(csv.reader(io.StringIO(r.stdout))) == [["id", "text", "note"], ["1", "中文 分词", "x,y"],
                                                       ["2", "文本\n中文", ""], ["3", "分词", "z"]]
    r = runner.invoke(cli, ["segment", "-q", "--dict", lexicon, "--field", "2", "--output-field", "seg", a])
    assert list(csv.reader(io.StringIO(r.stdout)))[:2] == [["id", "text", "note", "seg"],
                                                          ["1", "中文分词", "x,y", "中文 分词"]]
    t = tmp_path / "t.tsv"
    t.write_text('id\ttext\n1\t"中文"文本\n', encoding="utf-8")
    r = runner.invoke(cli, ["segment", "-q", "--dict", lexicon, str(t)])
    assert r.stdout == 'id\ttext\n1\t" 中文 " 文本\n'
    c = write_csv(tmp_path / "c.csv", [["id", "body"], ["1", "中文"]])
    r = runner.invoke(cli, ["segment", "-q", "--dict", lexicon, "--errors", "skip", a, c])
    assert r.exit_code == 1 and "no column 'text'" in r.stderr
    r = runner.invoke(cli, ["segment", "-q", "--dict", lexicon, a, str(t)])
    assert r.exit_code == 2 and "mix formats" in r.stderr


def test_cli_embed_one_document_per_record(tmp_path):
    texts = ["a b c a", "b c\nd a", "", "c d b a"] * 5
    p = write_jsonl(tmp_path / "e.jsonl", texts)
    out, docs = tmp_path / "w.vec", tmp_path / "d.vec"
    r = CliRunner().invoke(cli, ["embed", "-q", "-j", "1", "--dim", "4", "--iter", "1", "--min-count", "1",
                                 p, "-o", str(out), "--doc-output", str(docs)])
    assert r.exit_code == 0, r.output
    assert docs.read_text().splitlines()[0] == f"{len(texts)} 4"
    assert out.read_text().splitlines()[0] == "4 4"


def test_batches_keep_record_lines_together(tmp_path):
    texts = [f"{i}\n{i}" for i in range(3000)]
    p = write_jsonl(tmp_path / "b.jsonl", texts)
    got = list(iter_batches(Shard(p), AUTO, batch_chars=5000))
    assert [x for b in got for x in b] == text_lines(texts) and len(got) > 1
    assert all(b[0].isdigit() and b[0] == b[1] for b in got[1:])  # a record's lines stay in one batch


def test_dask_engine_reads_jsonl(tmp_path):
    pytest.importorskip("distributed")
    from test_count import random_lines

    lines = random_lines(random.Random(4), 800)
    p = write_jsonl(tmp_path / "c.jsonl", lines)
    got = list(count([p], tokenizer="ngram", max_n=2, n_jobs=2, engine="dask", shard_bytes=4096, read=AUTO).items())
    assert got == sorted_items(count_naive(text_lines(lines), "ngram", 1, 2))


def test_cli_usage_errors(tmp_path):
    p = write_jsonl(tmp_path / "u.jsonl", ["中文"])
    runner = CliRunner()
    for args, message in ((["count", "--input-format", "text", "--field", "x", p], "--field needs a record format"),
                          (["count", "--input-format", "csv", "--field", "0", p], "column numbers start at 1"),
                          (["count", "--field", "x", "-"], "stdin is plain text by extension"),
                          (["segment", "--dict", p, "--output-field", "x", "-"], "--output-field applies to jsonl")):
        r = runner.invoke(cli, args, input="")
        assert r.exit_code == 2 and message in r.stderr, (args, r.stderr)


def test_csv_quoted_line_break_in_a_byte_range_is_an_error(tmp_path):
    # without ReadOptions, make_shards cannot know that a .txt file is CSV: its reader then refuses
    p = tmp_path / "q.txt"
    p.write_text("text\n" + 'a\n"b\nc"\n' * 20, encoding="utf-8")
    opts = ReadOptions(input_format="csv")
    shards = make_shards([str(p)], 30)
    assert len(shards) > 1
    with pytest.raises(TextmineError, match=r"q.txt:3: a quoted CSV field spans lines"):
        [x for s in shards for x in iter_lines(s, opts)]
    assert lines_of(p, opts, shard_bytes=30) == ["a", "b", "c"] * 20


def test_skips_in_worker_processes_are_reported_per_shard(tmp_path, capfd):
    texts = [f"第{i}" for i in range(3000)]
    p = tmp_path / "w.jsonl"
    recs = [json.dumps({"text": t}) for t in texts]
    bad = [5, 1500, 2999]
    for i in bad:
        recs[i] = '{"text": '
    p.write_text("\n".join(recs) + "\n", encoding="utf-8")
    res = count([str(p)], tokenizer="char", n_jobs=2, read=ReadOptions(input_format=None, errors="skip"),
                shard_bytes=8000)
    got = dict(res.items())
    res.close()
    kept = [t for i, t in enumerate(texts) if i not in bad]
    assert got == count_naive(kept, "char", 1, 1)
    err = capfd.readouterr().err
    reported = [int(x.split("skipped ")[1].split()[0]) for x in err.splitlines() if "skipped" in x]
    assert sum(reported) == len(bad) and all("w.jsonl (bytes " in x for x in err.splitlines() if "skipped" in x)
