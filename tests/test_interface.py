"""One meaning per option name, deprecated spellings, stdin for every command, the word2vec
reader's bad inputs, messages and exit codes, and the Dask engine's usability (issue 16)."""
import os
import re
import signal
import subprocess
import sys
import time

import click
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import ROOT
from textmine.cli import COMMANDS, cli
from textmine.cli import _options
from textmine.errors import TextmineError
from textmine.formats import read_word2vec, write_word2vec

# (command, option) pairs whose commands belong to other branches of issue 16 (cluster: --seed
# and --encoding through the shared decorators; hsic: --features renamed, --encoding and --header
# through the shared decorators). Empty this set when those branches are merged.
PENDING = set()


def run(args, input=None):
    return CliRunner().invoke(cli, args, input=input)


def commands():
    ctx = click.Context(cli)
    return {name: cli.get_command(ctx, name) for name in COMMANDS}


def long_name(p):
    longs = [o for o in p.opts if o.startswith("--")]
    return longs[0] if longs else p.opts[0]


# ------------------------------------------------------------------------- one meaning per name
def test_shared_option_names_mean_one_thing():
    seen = {}
    for cname, cmd in commands().items():
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.hidden:
                seen.setdefault(long_name(p), []).append((cname, p))
    problems = []
    for name, uses in sorted(seen.items()):
        uses = [(c, p) for c, p in uses if (c, name) not in PENDING]
        if len(uses) < 2:
            continue
        if name not in _options.MEANINGS:
            problems.append(f"{name} is used by {[c for c, _ in uses]} but has no entry in _options.MEANINGS")
            continue
        kinds = {(type(p.type).__name__, p.is_flag, p.multiple) for _, p in uses}
        if len(kinds) > 1:
            problems.append(f"{name} has different types: {sorted((c, type(p.type).__name__) for c, p in uses)}")
        meaning = _options.MEANINGS[name]
        for c, p in uses:
            if meaning is not None and not (p.help or "").startswith(meaning):
                problems.append(f"{c} {name}: help {p.help!r} does not start with {meaning!r}")
        if isinstance(uses[0][1].type, click.types.IntRange):
            ranges = {(p.type.min, p.type.max) for _, p in uses}
            if len(ranges) > 1:
                problems.append(f"{name} has different ranges: {ranges}")
    assert not problems, "\n".join(problems)


def test_short_flags_mean_one_thing():
    short = {}
    for cname, cmd in commands().items():
        for p in cmd.params:
            if isinstance(p, click.Option) and (cname, long_name(p)) not in PENDING:
                for o in p.opts:
                    if not o.startswith("--"):
                        short.setdefault(o, set()).add(long_name(p))
    assert {o: names for o, names in short.items() if len(names) > 1} == {}
    assert short["-k"] == {"--k"} and short["-o"] == {"--output"} and short["-j"] == {"--jobs"}


def test_seed_and_top_come_from_one_decorator():
    for cname, cmd in commands().items():
        for p in cmd.params:
            if p.name == "seed" and (cname, "--seed") not in PENDING:
                assert p.default == 1 and p.type.min == 0, cname
            if p.name == "top" and not p.hidden:
                assert p.help.startswith("Write only the first K lines"), cname


def _options_of(cmd):
    return {o for p in cmd.params for o in p.opts + p.secondary_opts if o.startswith("-")} | {"--help", "-h"}


def _help_texts(cmd):
    yield cmd.help or ""
    for p in cmd.params:
        if isinstance(p, click.Option) and not p.hidden:
            yield p.help or ""


def test_help_mentions_no_option_a_command_lacks():
    """Every option named in a command's help (docstring and option texts) exists: in that
    command, or in the command the line names (`textmine cluster --directed`, discover-words
    --format jieba, up to a closing backquote); options after a pipe into another program
    (| sort -k2) are not ours."""
    cmds = commands()
    names = "|".join(sorted(map(re.escape, cmds), key=len, reverse=True))
    token = re.compile(rf"(`)|(\|\s*(?!textmine\b))|(?:textmine ({names})\b|\b({names}) (?=-))"
                       rf"|(?<![\w.$'-])(--?[a-zA-Z][\w-]*)")
    texts = [(name, t) for name, cmd in cmds.items() for t in _help_texts(cmd)] + [(None, cli.help)]
    bad = []
    for owner, text in texts:
        for line in text.splitlines():
            current = owner
            for m in token.finditer(line):
                quote, pipe, named, bare, opt = m.groups()
                if quote:  # a `quoted command` ends here
                    current = owner
                elif pipe:
                    current = "external"
                elif named or bare:
                    current = named or bare
                elif current == "external":
                    continue
                elif current is None:
                    if opt not in ("--help", "-h", "--version", "--traceback"):
                        bad.append(f"textmine --help mentions {opt}: {line.strip()}")
                elif opt not in _options_of(cmds[current]):
                    bad.append(f"{owner} --help mentions {current} {opt}: {line.strip()}")
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------ renamed and deprecated spellings
@pytest.fixture
def vec(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("4 2\na 1 0\nb 0.9 0.1\nc 0 1\nd 0.1 0.9\n", encoding="utf-8")
    return p


def test_similar_k_and_deprecated_top(vec):
    ref = run(["similar", str(vec), "a", "-k", "2", "-q"])
    assert ref.exit_code == 0 and ref.stdout.splitlines()[0].startswith("b\t") and len(ref.stdout.splitlines()) == 2
    assert run(["similar", str(vec), "a", "--k", "2", "-q"]).stdout == ref.stdout
    old = run(["similar", str(vec), "a", "--top", "2", "-q"])
    assert old.exit_code == 0 and old.stdout == ref.stdout
    assert "--top is deprecated" in old.stderr and "-k 2" in old.stderr
    both = run(["similar", str(vec), "a", "--top", "2", "-k", "3"])
    assert both.exit_code == 2 and "old spelling" in both.stderr
    both = run(["similar", str(vec), "a", "-k", "3", "--top", "2"])
    assert both.exit_code == 2 and "old spelling" in both.stderr
    assert "--top" not in run(["similar", "--help"]).stdout


def test_similar_has_output_and_quiet(vec, tmp_path):
    out = tmp_path / "s.tsv"
    r = run(["similar", str(vec), "a", "-k", "1", "-o", str(out), "-q"])
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == ""
    assert out.read_text(encoding="utf-8").startswith("b\t0.99")
    r = run(["similar", str(vec), "a", "-k", "1"])
    assert "4 words" in r.stderr


def test_neighbors_max_vectors_and_deprecated_top(vec):
    ref = run(["neighbors", str(vec), "--max-vectors", "2", "--min-sim", "0", "-q"])
    assert ref.exit_code == 0 and {line.split("\t")[0] for line in ref.stdout.splitlines()} == {"a", "b"}
    old = run(["neighbors", str(vec), "--top", "2", "--min-sim", "0", "-q"])
    assert old.exit_code == 0 and old.stdout == ref.stdout and "write --max-vectors 2" in old.stderr
    assert run(["neighbors", str(vec), "--top", "2", "--max-vectors", "2"]).exit_code == 2
    k1 = run(["neighbors", str(vec), "-k", "1", "--min-sim", "0", "-q"])
    assert k1.stdout == run(["neighbors", str(vec), "--k", "1", "--min-sim", "0", "-q"]).stdout
    assert len(k1.stdout.splitlines()) == 4


def test_top_means_first_lines_and_zero_is_deprecated(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("甲乙 甲 丙\n甲乙\n" * 5, encoding="utf-8")
    full = run(["count", str(corpus), "-t", "space", "-j", "1", "-q"])
    assert full.exit_code == 0
    top2 = run(["count", str(corpus), "-t", "space", "-j", "1", "-q", "--top", "2"])
    assert top2.stdout.splitlines() == full.stdout.splitlines()[:2]
    zero = run(["count", str(corpus), "-t", "space", "-j", "1", "-q", "--top", "0"])
    assert zero.exit_code == 0 and zero.stdout == full.stdout and "--top 0 is deprecated" in zero.stderr


def test_discover_words_top_and_memory_limit(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"中国人民{i % 7}银行大学生活\n" for i in range(60)), encoding="utf-8")
    base = ["discover-words", str(corpus), "-j", "1", "-q", "--min-count", "2"]
    full = run(base)
    assert full.exit_code == 0 and len(full.stdout.splitlines()) > 3
    assert run(base + ["--top", "3"]).stdout.splitlines() == full.stdout.splitlines()[:3]
    zero = run(base + ["--top", "0"])
    assert zero.stdout == full.stdout and "deprecated" in zero.stderr
    sized = run(base + ["--memory-limit", "64M"])
    assert sized.exit_code == 0 and sized.stdout == full.stdout and sized.stderr == ""
    bare = run(base + ["--memory-limit", "64"])
    assert bare.exit_code == 0 and bare.stdout == full.stdout
    assert "a bare number is read as MB" in bare.stderr and "64M" in bare.stderr


@pytest.mark.parametrize("cmd", ["count", "discover-words"])
@pytest.mark.parametrize("size", ["0", "-1G", "abc", "1e400", "nan", "inf", "99999T", "2X", "0.5K", "512B", "2iB",
                                  "G", ""])
def test_impossible_memory_limits_are_usage_errors(tmp_path, cmd, size):
    corpus = tmp_path / "c.txt"
    corpus.write_text("中国\n", encoding="utf-8")
    r = run([cmd, str(corpus), "--memory-limit", size])
    assert r.exit_code == 2 and "--memory-limit" in r.stderr and "Traceback" not in r.stderr


def test_parse_size():
    assert _options.parse_size("512M") == 512 << 20
    assert _options.parse_size("2G") == _options.parse_size("2g") == _options.parse_size("2GiB") == 2 << 30
    assert _options.parse_size("1.5G") == 3 << 29
    assert _options.parse_size("64", warn=None) == 64 << 20
    assert _options.parse_size("33554432B") == _options.parse_size("33554432b", warn=None) == 32 << 20
    assert _options.parse_size("16384 KiB") == 16 << 20 and _options.parse_size("0.5t") == 1 << 39
    warned = []
    assert _options.parse_size("20", warn=warned.append) == 20 << 20 and "MB" in warned[0]
    with pytest.raises(click.BadParameter, match="too small"):
        _options.parse_size("1M")
    with pytest.raises(click.BadParameter, match="larger than any"):
        _options.parse_size("2048T")


def test_encoding_options_for_dictionaries(tmp_path):
    gbk = tmp_path / "gbk.dict"
    gbk.write_bytes("中国 30\n人民 20\n银行 5\n".encode("gbk"))
    # train-segmenter: its --encoding is the dictionary's; the hint names it
    r = run(["train-segmenter", "--dict", str(gbk), "-o", str(tmp_path / "m.model")])
    assert r.exit_code == 1 and "gbk.dict" in r.stderr and "try --encoding gb18030" in r.stderr
    r = run(["train-segmenter", "--dict", str(gbk), "--encoding", "gbk", "-o", str(tmp_path / "m.model"),
             "--samples", "200", "--epochs", "1", "--bits", "12", "-j", "1", "-q"])
    assert r.exit_code == 0, r.output
    # segment: --encoding is the corpus', --dict-encoding the dictionary's
    r = run(["segment", "--dict", str(gbk), "-q"], input="中国人民\n")
    assert r.exit_code == 1 and "try --dict-encoding gb18030" in r.stderr and "--errors" not in r.stderr
    r = run(["segment", "--dict", str(gbk), "--dict-encoding", "gbk", "-q", "-j", "1"], input="中国人民\n")
    assert r.exit_code == 0 and r.stdout == "中国 人民\n"
    # count's lexicon tokenizer has no option for its dictionary: the hint says so
    r = run(["count", "-t", f"lexicon:{gbk}", "-q", "-j", "1"], input="中国人民\n")
    assert r.exit_code == 1 and "convert the file to UTF-8" in r.stderr and "--encoding" not in r.stderr


# ----------------------------------------------------------------------------------- stdin (-)
def _stdin_cases(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"中国人民{i % 5}银行 a{i % 3} b\n" for i in range(40)), encoding="utf-8")
    words = tmp_path / "w.txt"
    words.write_text("".join(f"a{i % 7} b{i % 5} c{i % 3} a{i % 7}\n" for i in range(60)), encoding="utf-8")
    lex = tmp_path / "lex.tsv"
    lex.write_text("中国\t30\n人民\t20\n银行\t5\n", encoding="utf-8")
    vec = tmp_path / "v.txt"
    rng = np.random.default_rng(0)
    write_word2vec(str(vec), [f"w{i}" for i in range(12)], rng.normal(size=(12, 4)))
    links = tmp_path / "l.tsv"
    links.write_text("a\tb\t1\nb\tc\t1\nc\ta\t1\nd\te\t1\ne\tf\t1\nf\td\t1\nc\td\t0.1\n", encoding="utf-8")
    table = tmp_path / "t.tsv"
    table.write_text("".join(f"{i}\t{(i * 7) % 11}\n" for i in range(30)), encoding="utf-8")
    return {
        "count": (["count", "-j", "1", "-q"], corpus),
        "discover-words": (["discover-words", "-j", "1", "-q", "--min-count", "2"], corpus),
        "segment": (["segment", "--dict", str(lex), "-j", "1", "-q"], corpus),
        "embed": (["embed", "-j", "1", "-q", "--dim", "4", "--iter", "1", "--min-count", "1"], words),
        "neighbors": (["neighbors", "-q", "--min-sim", "0"], vec),
        "similar": (["similar", "-q", "{}", "w0"], vec),
        "cluster": (["cluster", "-q"], links),
        "hsic": (["hsic", "-q", "-B", "50"], table),
    }


@pytest.mark.parametrize("cmd", ["count", "discover-words", "segment", "embed", "neighbors", "similar", "cluster",
                                 "hsic"])
def test_dash_reads_stdin_like_the_file(tmp_path, cmd):
    args, path = _stdin_cases(tmp_path)[cmd]

    def with_input(name):
        if "{}" in args:
            return [name if a == "{}" else a for a in args]
        return args + [name]

    by_file = run(with_input(str(path)))
    assert by_file.exit_code == 0, by_file.output
    by_stdin = run(with_input("-"), input=path.read_bytes())
    assert by_stdin.exit_code == 0, by_stdin.output
    assert by_stdin.stdout == by_file.stdout and by_file.stdout != ""


def test_train_segmenter_dict_from_stdin(tmp_path):
    d = tmp_path / "d.txt"
    d.write_text("中国 30\n人民 20\n银行 5\n", encoding="utf-8")
    common = ["--samples", "200", "--epochs", "1", "--bits", "12", "-j", "1", "-q"]
    a, b = tmp_path / "a.model", tmp_path / "b.model"
    assert run(["train-segmenter", "--dict", str(d), "-o", str(a)] + common).exit_code == 0
    r = run(["train-segmenter", "--dict", "-", "-o", str(b)] + common, input=d.read_bytes())
    assert r.exit_code == 0, r.output
    assert a.read_bytes() == b.read_bytes()


def test_segment_dict_and_corpus_cannot_both_be_stdin(tmp_path):
    r = run(["segment", "--dict", "-", "-"], input="中国 3\n")
    assert r.exit_code == 2 and "both be stdin" in r.stderr


# ------------------------------------------------------------------------------ word2vec reader
def _vectors(n=5, d=3, seed=1):
    rng = np.random.default_rng(seed)
    return [f"词{i}" for i in range(n)], rng.normal(size=(n, d)).astype(np.float32)


def test_gbk_text_vectors_are_text_not_binary(tmp_path):
    words, x = _vectors()
    text = f"{len(words)} 3\n" + "".join(w + " " + " ".join(f"{v:.6g}" for v in row) + "\n"
                                          for w, row in zip(words, x))
    p = tmp_path / "gbk.vec"
    p.write_bytes(text.encode("gbk"))
    with pytest.raises(TextmineError, match=r"gbk\.vec:2: cannot decode byte 0x[0-9a-f]{2} at byte offset 4 "
                                            r"as utf-8; try --encoding"):
        read_word2vec(str(p))
    got_words, got = read_word2vec(str(p), encoding="gbk")
    assert got_words == words and np.allclose(got, x, atol=1e-5)
    r = run(["similar", str(p), "词0", "--encoding", "gbk", "-k", "2", "-q"])
    assert r.exit_code == 0 and r.stdout.startswith("词")
    r = run(["neighbors", str(p)])
    assert r.exit_code == 1 and "--encoding" in r.stderr and "Traceback" not in r.stderr


def test_binary_vectors_round_trip_and_bad_words(tmp_path):
    words, x = _vectors(n=6, d=4)
    p = tmp_path / "b.bin"
    write_word2vec(str(p), words, x, binary=True)
    got_words, got = read_word2vec(str(p))
    assert got_words == words and np.array_equal(got, x)
    # the same words in GBK: the record structure still says binary, the words do not decode
    data = p.read_bytes()
    for w in words:
        data = data.replace(w.encode("utf-8"), w.encode("gbk"))
    q = tmp_path / "gbk.bin"
    q.write_bytes(data)
    with pytest.raises(TextmineError, match="cannot decode the word of binary vector 1 as utf-8"):
        read_word2vec(str(q))
    assert read_word2vec(str(q), encoding="gbk")[0] == words


def test_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.vec"
    p.write_bytes(b"\xef\xbb\xbf2 2\na 1 0\nb 0 1\n")
    words, x = read_word2vec(str(p))
    assert words == ["a", "b"] and x.tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e39"])
def test_non_finite_vectors_are_rejected_with_the_line(tmp_path, value):
    p = tmp_path / "v.vec"
    p.write_text(f"3 2\na 1 0\nb 0 {value}\nc 0 1\n")
    r = run(["neighbors", str(p)])
    assert r.exit_code == 1 and r.stderr.startswith(f"Error: {p}:3: the vector of 'b' has a NaN")
    assert "Warning" not in r.stderr and len(r.stderr.splitlines()) == 1


def test_non_finite_binary_vectors_are_rejected(tmp_path):
    p = tmp_path / "v.bin"
    x = np.array([[1, 0], [np.nan, 1]], dtype=np.float32)
    write_word2vec(str(p), ["a", "b"], x, binary=True)
    with pytest.raises(TextmineError, match=r"vector 2 \('b', byte offset \d+\) has a NaN"):
        read_word2vec(str(p))


def test_huge_header_does_not_allocate(tmp_path):
    p = tmp_path / "huge.vec"
    p.write_text("99999999999 99999999\na 1 2\n")
    t = time.perf_counter()
    r = run(["similar", str(p), "a"])
    assert r.exit_code == 1 and "promises 99999999999 vectors" in r.stderr and "Traceback" not in r.stderr
    assert time.perf_counter() - t < 5


@pytest.mark.parametrize("cmd", [["neighbors", "-"], ["similar", "-", "a"]])
@pytest.mark.parametrize("binary", [False, True])
def test_vectors_from_stdin(tmp_path, cmd, binary):
    p = tmp_path / "v.vec"
    write_word2vec(str(p), ["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]]), binary=binary)
    by_file = run([cmd[0], str(p)] + cmd[2:] + ["-q"])
    by_stdin = run(cmd + ["-q"], input=p.read_bytes())
    assert by_stdin.exit_code == 0 and by_stdin.stdout == by_file.stdout != ""
    empty = run(cmd, input=b"")
    assert empty.exit_code == 1 and "<stdin>" in empty.stderr and "Traceback" not in empty.stderr


def test_utf16_vectors(tmp_path):
    p = tmp_path / "u16.vec"
    p.write_bytes("2 2\n甲 1 0\n乙 0 1\n".encode("utf-16"))
    r = run(["similar", str(p), "甲"])
    assert r.exit_code == 1 and "UTF-16" in r.stderr and "--encoding utf-16" in r.stderr
    r = run(["similar", str(p), "甲", "--encoding", "utf-16", "-q"])
    assert r.exit_code == 0 and r.stdout == "乙\t0.000000\n"


def test_utf16_vectors_without_bom_and_compressed_vectors(tmp_path):
    p = tmp_path / "le.vec"
    p.write_bytes("2 2\n甲 1 0\n乙 0 1\n".encode("utf-16-le"))
    r = run(["similar", str(p), "甲"])
    assert r.exit_code == 1 and "looks like UTF-16-LE text" in r.stderr and "--encoding utf-16-le" in r.stderr
    assert run(["similar", str(p), "甲", "--encoding", "utf-16-le", "-q"]).stdout == "乙\t0.000000\n"
    import gzip

    words, x = _vectors()
    for binary in (False, True):
        plain = tmp_path / f"v{binary}.vec"
        write_word2vec(str(plain), words, x, binary=binary)
        packed = tmp_path / f"v{binary}.vec.gz"
        packed.write_bytes(gzip.compress(plain.read_bytes()))
        got_words, got = read_word2vec(str(packed))
        assert got_words == words and np.array_equal(got, read_word2vec(str(plain))[1])


def test_header_and_record_errors_name_the_file(tmp_path):
    p = tmp_path / "v.vec"
    for content, message in [("", "empty file"), ("x y\n", ":1: expected a word2vec 'V D' header"),
                             ("2 2\na 1 0\n", "promises 2 vectors"), ("1 2\na 1 0 3\n", ":2: expected a word and 2"),
                             ("1 2\na 1 0\nb 0 1\n", ":3: more vectors"), ("0 -2\n", "bad word2vec header")]:
        p.write_text(content)
        with pytest.raises(TextmineError, match=re.escape(message)):
            read_word2vec(str(p))


# -------------------------------------------------------------------------- messages, exit codes
def test_empty_npy_is_a_data_error(tmp_path):
    p = tmp_path / "e.npy"
    p.write_bytes(b"")
    r = run(["hsic", str(p)])
    assert r.exit_code == 1 and "e.npy" in r.stderr and "Interrupted" not in r.stderr


def test_eof_error_is_not_an_interrupt(monkeypatch):
    import textmine.formats

    def boom(*a, **k):
        raise EOFError("No data left in file")

    monkeypatch.setattr(textmine.formats, "read_word2vec", boom)
    r = run(["similar", "x.vec", "a", "-q"])
    assert r.exit_code == 1 and r.stderr == "Error: unexpected end of input (No data left in file)\n"


@pytest.mark.parametrize("codec, name", [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16-LE"), ("utf-16-be", "UTF-16-BE"),
                                         ("utf-32", "UTF-32")])
def test_utf16_input_is_named(tmp_path, codec, name):
    p = tmp_path / "u.txt"
    p.write_bytes("hello world\n你好\n".encode(codec))
    r = run(["count", str(p), "-j", "1"])
    assert r.exit_code == 1 and f"looks like {name} text" in r.stderr and f"--encoding {codec}" in r.stderr
    assert "binary" not in r.stderr
    ok = run(["count", str(p), "-j", "1", "-q", "--encoding", codec, "-t", "space"])
    assert ok.exit_code == 0 and sorted(ok.stdout.splitlines()) == ["hello\t1", "world\t1", "你好\t1"]


def test_binary_input_is_still_binary(tmp_path):
    p = tmp_path / "b.txt"
    p.write_bytes(b"abc\x00\x00\x01\x02def\n")
    r = run(["count", str(p), "-j", "1"])
    assert r.exit_code == 1 and "looks like a binary file" in r.stderr


def _empty_cases(tmp_path):
    e = tmp_path / "empty.txt"
    e.write_bytes(b"")
    lex = tmp_path / "lex.tsv"
    lex.write_text("中国\t3\n", encoding="utf-8")
    return [["count", str(e)], ["discover-words", str(e)], ["segment", "--dict", str(lex), str(e)],
            ["embed", str(e)], ["neighbors", str(e)], ["similar", str(e), "a"], ["cluster", str(e)],
            ["hsic", str(e)], ["train-segmenter", "--dict", str(e), "-o", str(tmp_path / "m.model")]]


@pytest.mark.parametrize("i", range(9))
def test_empty_input_is_a_data_error_everywhere(tmp_path, i):
    args = _empty_cases(tmp_path)[i]
    r = run(args + ["-q"] + (["-j", "1"] if args[0] in ("count", "segment", "discover-words", "embed") else []))
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and "empty" in r.stderr, (args, r.output)
    assert len(r.stderr.splitlines()) == 1 and r.stdout == ""


def test_embed_infer_on_empty_input_is_a_data_error(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the quick fox\nthe lazy dog\n", encoding="utf-8")
    model = tmp_path / "m.npz"
    r = run(["embed", str(corpus), "--min-count", "1", "--dim", "4", "--iter", "1", "-j", "1", "-q",
             "-o", str(tmp_path / "w.vec"), "--save-model", str(model)])
    assert r.exit_code == 0, r.output
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = tmp_path / "d.vec"
    r = run(["embed", "--infer", str(model), str(empty), "-o", str(out), "-q"])
    assert r.exit_code == 1 and r.stderr == f"Error: no documents to embed in {empty} (empty input)\n"
    assert not out.exists()


def test_all_zero_dictionary_rejected_alike(tmp_path):
    d = tmp_path / "zero.dict"
    d.write_text("中国 0\n人民 0\n", encoding="utf-8")
    a = run(["segment", "--dict", str(d), "-", "-q"], input="中国人民\n")
    b = run(["train-segmenter", "--dict", str(d), "-o", str(tmp_path / "m.model"), "-q"])
    assert a.exit_code == b.exit_code == 1
    assert a.stderr == b.stderr == f"Error: {d}: every frequency in the dictionary is 0; a word-frequency " \
                                   "dictionary is needed\n"


# ------------------------------------------------------------------------------------------- Dask
def _scheduler_and_worker(cwd):
    """A scheduler in this process and one ``dask worker`` process started in ``cwd``."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1",
                                       dashboard_address=None, silence_logs=50)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
                               "--no-nanny", "--nthreads", "1", "--no-dashboard"], cwd=cwd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = distributed.Client(cluster.scheduler_address)
    client.wait_for_workers(1, timeout=60)
    client.close()
    return cluster, worker


def test_dask_relative_paths_reach_workers_elsewhere(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    here = tmp_path / "here"
    elsewhere.mkdir()
    (here / "corpus").mkdir(parents=True)
    (here / "corpus" / "c.txt").write_text("中国 人民\n中国\n", encoding="utf-8")
    (here / "lex.tsv").write_text("中国\t3\n人民\t2\n", encoding="utf-8")
    cluster, worker = _scheduler_and_worker(str(elsewhere))
    try:
        monkeypatch.chdir(here)
        for tok in ("space", "lexicon:lex.tsv"):
            r = run(["count", "corpus/c.txt", "--engine", "dask", "--scheduler", cluster.scheduler_address,
                     "-t", tok, "-q"])
            assert r.exit_code == 0, r.output
            assert r.stdout == "中国\t2\n人民\t1\n"
    finally:
        worker.kill()
        worker.wait()
        cluster.close()


def test_dask_engine_makes_shard_paths_absolute(tmp_path, monkeypatch):
    from textmine.corpus import Shard
    from textmine.mapreduce import _absolute_paths

    monkeypatch.chdir(tmp_path)
    task = (Shard("a/b.txt", 3, 9), ["line a/b.txt"], Shard("-"))
    got = _absolute_paths(task)
    assert got == (Shard(str(tmp_path / "a" / "b.txt"), 3, 9), ["line a/b.txt"], Shard("-"))


def _sleep(x):
    time.sleep(60)
    return x


def test_dask_cluster_without_workers_times_out(tmp_path):
    from textmine.mapreduce import DaskEngine

    cluster, worker = _scheduler_and_worker(str(tmp_path))
    try:
        eng = DaskEngine(scheduler=cluster.scheduler_address, no_worker_timeout=2)
        assert eng._workers_now() == 1
        it = eng.map_unordered(_sleep, [1, 2])
        time.sleep(0.5)
        worker.kill()  # the last worker dies while its task runs
        t = time.monotonic()
        with pytest.raises(TextmineError, match=r"no worker for 2 s with 2 tasks waiting; start workers, or set "
                                                r"TEXTMINE_DASK_NO_WORKER_TIMEOUT"):
            next(it)
        assert time.monotonic() - t < 30
        eng.close()
    finally:
        worker.wait()
        cluster.close()


def test_dask_timeout_setting_is_checked(monkeypatch):
    pytest.importorskip("distributed")
    from textmine.mapreduce import DaskEngine

    monkeypatch.setenv("TEXTMINE_DASK_NO_WORKER_TIMEOUT", "soon")
    with pytest.raises(TextmineError, match="not a number of seconds"):
        DaskEngine(scheduler="tcp://127.0.0.1:1")


def test_dask_ctrl_c_is_quiet(tmp_path):
    """SIGINT to the whole process group (a terminal's Ctrl-C) while the local cluster starts or
    works: exit 130 and one 'Interrupted' line, no worker tracebacks, no processes left."""
    pytest.importorskip("distributed")
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"中国人民{i % 97}银行{i % 89}大学\n" for i in range(1_000_000)), encoding="utf-8")
    mark = f"textmine-test-{os.getpid()}-{time.time_ns()}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               TEXTMINE_TEST_MARK=mark)
    p = subprocess.Popen([sys.executable, "-m", "textmine", "count", "--engine", "dask", "-j", "2", "-t", "ngram",
                          str(corpus), "-o", str(tmp_path / "out.tsv"), "-q"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(4)
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=120)
    if p.returncode == 0:
        pytest.skip("the run ended before the signal")
    assert p.returncode == 130, err.decode()
    assert err.decode().strip() == "Interrupted"
    assert not (tmp_path / "out.tsv").exists()
    deadline = time.monotonic() + 30  # the cluster and its workers are gone too (their shutdown may lag)
    while _processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_marked(mark) == []


def _processes_marked(mark):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if f"TEXTMINE_TEST_MARK={mark}".encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found
