"""Awkward but real inputs, as a demanding new user gives them (found by exercising the CLI):
closed standard streams, undecodable and unencodable text, model writes that fail, word2vec
words with spaces, absurd -j, UTF-16 without a byte-order mark."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from test_robust_io import one_error_line

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX descriptors")

ENV = dict(os.environ, PYTHONPATH=str(ROOT))
TEXT = "中文分词没有那么难。\n我们今天去北京。\n" * 20


def textmine(*args, stdin=None, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(), timeout=120):
    return subprocess.run([sys.executable, "-m", "textmine", *map(str, args)], stdin=stdin, stdout=stdout,
                          stderr=stderr, env=ENV, timeout=timeout, pass_fds=pass_fds)


def closing(fd):
    """A shell-style ``N<&-``: run the child with descriptor ``fd`` closed."""
    return ["sh", "-c", f'exec "$@" {fd}<&-', "sh", sys.executable, "-m", "textmine"]


@pytest.fixture
def corpus(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text(TEXT, encoding="utf-8")
    return p


# -- closed standard streams ---------------------------------------------------------------------

def test_closed_stdin_is_empty_input_not_a_traceback(tmp_path):
    p = subprocess.run(closing(0) + ["count", "-q", "-j", "1"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=120)
    assert p.returncode == 1
    assert "empty input" in one_error_line(p.stderr)


def test_closed_stdout_is_a_write_error_and_a_file_output_still_works(corpus, tmp_path):
    p = subprocess.run(closing(1) + ["count", "-q", "-j", "1", corpus], stderr=subprocess.PIPE,
                       env=ENV, timeout=120)
    assert p.returncode == 1
    assert one_error_line(p.stderr).startswith("Error: stdout: cannot write")
    out = tmp_path / "o.tsv"
    p = subprocess.run(closing(1) + ["count", "-q", "-j", "1", "-o", out, corpus], stderr=subprocess.PIPE,
                       env=ENV, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "我们\t20" in out.read_text(encoding="utf-8").splitlines()


def test_closed_stderr_does_not_fail_a_successful_run(corpus):
    # without -q the summary goes to stderr: losing the log must not fail the run
    p = subprocess.run(closing(2) + ["count", "-j", "1", "--top", "1", corpus], stdout=subprocess.PIPE,
                       env=ENV, timeout=120)
    assert p.returncode == 0
    assert p.stdout.decode().count("\n") == 1


# -- text that is not Unicode: lone surrogates from JSON escapes, raw bytes kept by surrogateescape ---

@pytest.fixture
def dict_tsv(tmp_path):
    p = tmp_path / "d.tsv"
    p.write_text("中文\t10\n分词\t8\n我们\t5\n北京\t5\n", encoding="utf-8")
    return p


@pytest.fixture
def lone(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_bytes(b'{"text": "lone \\ud83d sur", "k": "\\udc00x"}\n{"text": "ok \\ud83d\\ude00 \\u4e2d\\u6587"}\n')
    return p


@pytest.mark.parametrize("command", ["count", "segment"])
def test_a_lone_surrogate_escape_in_json_is_a_file_line_error(command, lone, dict_tsv):
    extra = ["--dict", dict_tsv] if command == "segment" else ["-t", "char"]
    p = textmine(command, "-q", "-j", "1", *extra, lone)
    assert p.returncode == 1
    line = one_error_line(p.stderr)
    assert f"{lone.name}:1:" in line and "\\ud83d" in line
    assert p.stdout == b""


@pytest.mark.parametrize("command", ["count", "segment"])
@pytest.mark.parametrize("errors", ["skip", "replace", "ignore"])
def test_a_lone_surrogate_never_reaches_the_output(command, errors, lone, dict_tsv):
    extra = ["--dict", dict_tsv] if command == "segment" else ["-t", "char"]
    p = textmine(command, "-q", "-j", "1", "--errors", errors, *extra, lone)
    assert p.returncode == 0, p.stderr
    text = p.stdout.decode("utf-8")  # strict: the output is UTF-8
    assert "😀" in text  # the escaped pair on line 2 is a real character
    if errors == "skip":
        assert "skipped 1 record (undecodable: 1)" in p.stderr.decode()
        assert "lone" not in text
    else:
        assert ("l\t1" in text or "lone" in text)
        assert ("\ufffd" in text or "\\ufffd" in text) == (errors == "replace")
    if command == "segment":  # the other key's lone surrogate is written back as its escape
        import json
        records = [json.loads(x) for x in text.splitlines()]
        if errors != "skip":
            assert records[0]["k"] == "\udc00x"


def test_segment_surrogateescape_writes_the_undecodable_bytes_back(tmp_path, dict_tsv):
    p = tmp_path / "gb.txt"
    raw = "中文分词".encode("gb18030")
    p.write_bytes(raw + b"\n")
    r = textmine("segment", "-q", "-j", "1", "--dict", dict_tsv, "--errors", "surrogateescape", "--sep", "", p)
    assert r.returncode == 0, r.stderr
    assert r.stdout == raw + b"\n"


# -- a model write that fails --------------------------------------------------------------------

@pytest.fixture
def gold(tmp_path):
    p = tmp_path / "gold.txt"
    p.write_text("中文 分词 没有 那么 难 。\n我们 今天 去 北京 。\n" * 10, encoding="utf-8")
    return p


def _fsize_limit():
    import resource
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


@pytest.mark.parametrize("where", ["dev_full", "fsize"])
def test_train_segmenter_write_failure_is_exactly_one_line(where, gold, tmp_path):
    if where == "dev_full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    out = "/dev/full" if where == "dev_full" else tmp_path / "m.model"
    p = subprocess.run([sys.executable, "-m", "textmine", "train-segmenter", "-q", "-j", "1", "--gold", str(gold),
                        "--epochs", "1", "--bits", "12", "-o", str(out)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=120,
                       preexec_fn=_fsize_limit if where == "fsize" else None)
    assert p.returncode == 1
    text = p.stderr.decode()
    assert "Exception ignored" not in text and "Traceback" not in text, text
    assert len(text.strip().splitlines()) == 1 and "cannot write" in text, text
    if where == "fsize":
        assert os.listdir(tmp_path) == ["gold.txt"]  # no model, no temporary file


# -- word2vec text whose first word holds a space --------------------------------------------------

@pytest.mark.parametrize("command", [["neighbors", "-k", "1"], ["similar", "-k", "1"], ["evaluate", "--pairs"]])
def test_a_word_with_a_space_in_a_vectors_file_names_the_line(command, tmp_path):
    vec = tmp_path / "v.vec"
    vec.write_text("3 2\nnew york 1 2\nb 3 4\nc 5 6\n", encoding="utf-8")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("b\tc\t1\n", encoding="utf-8")
    args = {"neighbors": [vec], "similar": [vec, "b"], "evaluate": [pairs, vec]}[command[0]]
    p = textmine(*command, *args)
    assert p.returncode == 1
    line = one_error_line(p.stderr)
    assert f"{vec.name}:2:" in line and "word with a space" in line, line
    assert "binary" not in line


# -- an absurd -j ------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["count", "segment", "embed"])
def test_an_absurd_jobs_is_a_usage_error_not_a_fork_bomb(command, corpus, dict_tsv):
    from textmine.cli._options import max_jobs

    extra = ["--dict", dict_tsv] if command == "segment" else []
    p = textmine(command, "-q", "-j", max_jobs() + 1, *extra, corpus, timeout=60)
    assert p.returncode == 2
    assert "more than" in p.stderr.decode() and "Traceback" not in p.stderr.decode()
    env = dict(ENV, TEXTMINE_JOBS="100000")
    p = subprocess.run([sys.executable, "-m", "textmine", command, "-q", *map(str, extra), str(corpus)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    assert p.returncode == 2 and b"100000 workers" in p.stderr


# -- UTF-16 without a byte-order mark -----------------------------------------------------------------

@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("command", ["count", "segment"])
def test_chinese_utf16_without_bom_gets_the_right_codec_hint(codec, command, tmp_path, dict_tsv):
    # "一" is 00 4E: NUL bytes at both parities, which a parity test calls binary
    p = tmp_path / "u16.txt"
    p.write_bytes(("一二三，中文分词。\n" * 30 + "我们去北京\n" * 30).encode(codec))
    extra = ["--dict", dict_tsv] if command == "segment" else []
    r = textmine(command, "-q", "-j", "1", *extra, p)
    assert r.returncode == 1
    line = one_error_line(r.stderr)
    assert f"try --encoding {codec}" in line and "binary" not in line, line
    r = textmine(command, "-q", "-j", "1", "--encoding", codec, *extra, p)
    assert r.returncode == 0, r.stderr
    assert "北京" in r.stdout.decode("utf-8")


def test_binary_files_stay_binary(tmp_path):
    import random

    rng = random.Random(3)
    for name, data in [("r.bin", bytes(rng.randrange(256) for _ in range(70000))),
                       ("z.bin", b"\x7fELF\x02\x01\x01" + bytes(200) + b"abc" * 100)]:
        p = tmp_path / name
        p.write_bytes(data)
        r = textmine("count", "-q", "-j", "1", p)
        assert r.returncode == 1
        assert "looks like a binary file" in one_error_line(r.stderr)


# -- a directory with a broken symbolic link ------------------------------------------------------

@pytest.mark.parametrize("inside", [True, False])
def test_a_broken_symlink_is_named_as_such_not_permission_denied(inside, tmp_path):
    from textmine.corpus import resolve_inputs
    from textmine.errors import TextmineError

    d = tmp_path / "corpus"
    d.mkdir()
    (d / "a.txt").write_text("中文\n", encoding="utf-8")
    (d / "gone.txt").symlink_to("nowhere.txt")
    with pytest.raises(TextmineError, match="broken symbolic link \\(to nowhere.txt"):
        resolve_inputs([str(d)] if inside else [str(d / "gone.txt")])
    r = textmine("count", "-q", "-j", "1", d)
    assert r.returncode == 1 and "broken symbolic link" in one_error_line(r.stderr)


# -- a vectors file with a repeated word --------------------------------------------------------

@pytest.mark.parametrize("command", ["neighbors", "similar"])
def test_a_repeated_word_in_vectors_keeps_the_first_and_says_so(command, tmp_path):
    vec = tmp_path / "v.vec"
    vec.write_text("3 2\na 1 0\nb 1 0.1\na 0 1\n", encoding="utf-8")
    args = [vec, "-k", "1"] + (["a"] if command == "similar" else [])
    p = textmine(command, "-q", *args)
    assert p.returncode == 0, p.stderr
    rows = [x.split("\t") for x in p.stdout.decode().splitlines()]
    if command == "similar":
        assert rows == [["b", "0.995037"]]  # the first 'a' (1, 0); never 'a' itself
    else:
        assert rows == [["a", "b", "0.995037"], ["b", "a", "0.995037"]]
    assert "1 repeated word dropped" in p.stderr.decode() and "vectors 1 and 3" in p.stderr.decode()


@pytest.mark.parametrize("binary", [False, True])
def test_write_word2vec_writes_surrogateescape_bytes_back(binary, tmp_path):
    from textmine.formats import read_word2vec, write_word2vec

    raw = "气和".encode("gb18030")
    word = raw.decode("utf-8", "surrogateescape")  # what embed --errors surrogateescape reads
    p = tmp_path / "v.vec"
    write_word2vec(str(p), [word, "b"], [[1, 2], [3, 4]], binary=binary)
    assert raw + b" " in p.read_bytes()
    words, _ = read_word2vec(str(p), encoding="gb18030")
    assert words == ["气和", "b"]


# -- classic Mac OS line ends (a bare CR) --------------------------------------------------------

CR_LINES = ["我们 今天 去 北京", "中文 分词 没有 那么 难", "我们 是 中国 人"] * 30


def test_bare_cr_line_ends_are_line_ends_in_every_reader(tmp_path, dict_tsv):
    from textmine.corpus import ReadOptions, iter_lines, make_shards

    cr, lf = tmp_path / "cr.txt", tmp_path / "lf.txt"
    cr.write_bytes("\r".join(CR_LINES).encode("utf-8") + b"\r")
    lf.write_bytes("\n".join(CR_LINES).encode("utf-8") + b"\n")
    shards = make_shards([str(cr)], shard_bytes=64)  # cut at \n, a byte range could not find the lines
    assert len(shards) == 1
    assert [x for s in shards for x in iter_lines(s, ReadOptions())] == CR_LINES
    assert len(make_shards([str(lf)], shard_bytes=64)) > 1
    bigrams = ["count", "--tokenizer", "space", "--n", "2", "--min-n", "2", "-j", "2"]
    for args in (bigrams, ["segment", "--dict", dict_tsv, "-j", "2"]):
        outs = [textmine(*args, "-q", f) for f in (cr, lf)]
        assert outs[0].returncode == 0, outs[0].stderr
        assert outs[0].stdout == outs[1].stdout  # the same lines, so the same bigrams and segments
    p = textmine("segment", "--dict", dict_tsv, "-q", "-", stdin=open(cr, "rb"))
    assert p.stdout.decode().count("\n") == len(CR_LINES)
    p = textmine("embed", "--min-count", "1", "--iter", "1", "--dim", "8", "-o", tmp_path / "v.txt", cr)
    assert p.returncode == 0 and f" {len(CR_LINES)} documents" in p.stderr.decode(), p.stderr


def test_a_stray_cr_in_a_file_with_lf_line_ends_stays_inside_its_line(tmp_path):
    from textmine.corpus import ReadOptions, Shard, iter_lines

    p = tmp_path / "mixed.txt"
    p.write_bytes(b"a\rb c\r\nd e\n")
    assert list(iter_lines(Shard(str(p)), ReadOptions())) == ["a\rb c", "d e"]


# -- every line a command writes to stderr says which command wrote it -------------------------------

def test_every_summary_line_names_its_command(tmp_path, corpus, dict_tsv):
    # in a pipeline (discover-words | segment | count; embed | neighbors | cluster) the stderr of every
    # stage lands on one terminal: a bare "codelength ..." or "epoch 2/5: ..." does not say whose it is
    seg = tmp_path / "seg.txt"
    seg.write_text("\n".join(CR_LINES) + "\n", encoding="utf-8")
    gold = tmp_path / "gold.txt"
    gold.write_text("\n".join(CR_LINES[:3]) + "\n", encoding="utf-8")
    vec, links, model = tmp_path / "v.txt", tmp_path / "links.tsv", tmp_path / "m.seg"
    runs = [("count", corpus), ("discover-words", "--min-count", "2", corpus), ("segment", "--dict", dict_tsv, corpus),
            ("embed", "--min-count", "1", "--iter", "1", "--dim", "8", "-o", vec, seg),
            ("neighbors", "-k", "3", "--min-sim", "-1", "-o", links, vec), ("cluster", "--directed", links),
            ("similar", vec, "我们"), ("train-segmenter", "--gold", gold, "--epochs", "1", "-o", model)]
    for args in runs:
        p = textmine(*args, "-j", "1") if args[0] not in ("neighbors", "similar") else textmine(*args)
        assert p.returncode == 0, (args, p.stderr)
        lines = p.stderr.decode().splitlines()
        assert lines, args
        for line in lines:
            assert line.startswith(f"textmine {args[0]}: ") or line.startswith("textmine: "), (args, line)


def test_a_spooled_long_line_with_a_stray_cr_comes_back_whole(tmp_path):
    # a spool file holds one line (its own LF far past the first 64 KiB): never read with CR line ends
    from textmine.corpus import SPOOL_READ, Shard, iter_lines

    line = "中" * 10000 + "\r" + "文" * 20000  # the CR at byte 30,000, the LF at 90,001
    p = tmp_path / "spool"
    p.write_bytes(line.encode("utf-8") + b"\n")
    assert list(iter_lines(Shard(str(p)), SPOOL_READ)) == [line]


def test_gold_lines_are_cut_as_every_reader_cuts_them(tmp_path):
    # str.splitlines also breaks at U+2028, form feeds, ...: the FILE:LINE of an error was then off
    from textmine.errors import TextmineError
    from textmine.tagger import read_gold

    p = tmp_path / "gold.txt"
    p.write_text("我们 是\u2028中国 人\n \n", encoding="utf-8")
    with pytest.raises(TextmineError, match=r"gold\.txt:2: the line holds only whitespace"):
        read_gold(str(p))
    p.write_bytes("我们 是\r中国 人\r".encode("utf-8"))  # classic Mac OS line ends
    assert read_gold(str(p)) == [["我们", "是"], ["中国", "人"]]
