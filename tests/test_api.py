"""The Python facade (``import textmine as tm``) gives what the commands give."""
import doctest
import random
import subprocess
import sys

import pytest

import textmine as tm
from conftest import ROOT, SAMPLE
from textmine.errors import TextmineError


def _cli(*args, stdin=None):
    p = subprocess.run([sys.executable, "-m", "textmine", *args, "-q"], capture_output=True, text=True,
                       input=stdin, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_import_is_light_and_names_resolve():
    code = ("import sys, textmine as tm\n"
            "assert 'numba' not in sys.modules and 'numpy' not in sys.modules\n"
            "assert set(tm.__all__) >= {'count', 'discover_words', 'Segmenter', 'cluster', 'hsic_test', 'JoSE'}\n"
            "tm.Segmenter\n"
            "print('ok')\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)})
    assert p.stdout == "ok\n", p.stderr
    with pytest.raises(AttributeError):
        tm.no_such_thing  # noqa: B018


def test_docstring_examples_run():
    from textmine import api

    failures, tried = doctest.testmod(api, raise_on_error=False)
    assert tried >= 1 and failures == 0


def test_count_on_paths_and_text_equals_the_command(tmp_path):
    lines = ["春风又绿江南岸", "明月何时照我还", "", "春风 得意 马蹄疾"]
    f = tmp_path / "c.txt"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    want = [tuple(x.split("\t")) for x in _cli("count", "-t", "ngram", "--n", "2", str(f)).splitlines()]
    want = [(t, int(c)) for t, c in want]
    assert tm.count(f, tokenizer="ngram", n=2) == want
    assert tm.count(text=lines, tokenizer="ngram", n=2) == want
    assert tm.count(text="\n".join(lines), tokenizer="ngram", n=2) == want
    assert tm.count([str(tmp_path)], tokenizer="ngram", n=2, top=3) == want[:3]
    # the counting module is imported by now and is the package attribute: still the same call
    import textmine.count
    assert tm.count is textmine.count and tm.count(f, tokenizer="ngram", n=2) == want
    jsonl = tmp_path / "c.jsonl"
    import json
    jsonl.write_text("".join(json.dumps({"id": i, "body": {"text": t}}) + "\n" for i, t in enumerate(lines)),
                     encoding="utf-8")
    assert tm.count(jsonl, tokenizer="ngram", n=2, field="body.text") == want
    with pytest.raises(TextmineError, match="either paths or text"):
        tm.count(f, text="x")
    with pytest.raises(TextmineError):
        tm.count(tmp_path / "missing.txt")


def test_discover_and_segment_equal_the_commands(tmp_path):
    lex = _cli("discover-words", str(SAMPLE))
    result = tm.discover_words(SAMPLE)
    assert [line.split("\t")[0] for line in lex.splitlines()] == result.words
    path = tmp_path / "lex.tsv"
    path.write_text(lex, encoding="utf-8")
    text = SAMPLE.read_text(encoding="utf-8").splitlines()[:50]
    seg = _cli("segment", "--dict", str(path), stdin="\n".join(text) + "\n")
    want = [line.split(" ") if line else [] for line in seg.splitlines()]
    assert tm.load_lexicon(path).segment_lines(text) == want
    assert tm.Segmenter(result.words, result.counts).segment_lines(text) == want
    assert tm.load_lexicon(path).cut(text[0]) == want[0]


def test_discover_phrases_equal_the_command():
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(40)]
    lines = []
    for i in range(2000):
        toks = [rng.choice(vocab) for _ in range(8)]
        if i % 20 == 0:
            at = rng.randrange(7)
            toks[at:at + 2] = ["new", "york"]
        lines.append(" ".join(toks))
    text = "\n".join(lines) + "\n"
    lex = _cli("discover-words", "--units", "tokens", "--joiner", "_", "-", stdin=text)
    result = tm.discover_words(text=text, units="tokens", joiner="_")
    assert [line.split("\t")[0] for line in lex.splitlines()] == result.words
    assert "new_york" in result.words


def test_cluster_on_networkx_and_tuples_equals_the_command(tmp_path):
    nx = pytest.importorskip("networkx")
    g = nx.Graph()
    edges = [(1, 2), (2, 3), (3, 1), (4, 5), (5, 6), (6, 4), (1, 4), (7, 8), (8, 9), (9, 7), (7, 1)]
    g.add_edges_from(edges)
    modules, result = tm.cluster(g)
    assert set(modules) == set(g.nodes()) and all(isinstance(k, int) for k in modules)
    out = _cli("cluster", stdin="".join(f"{u}\t{v}\n" for u, v in edges))
    cli = {int(line.split("\t")[0]): int(line.split("\t")[1]) for line in out.splitlines()}
    assert modules == cli
    assert tm.cluster(edges)[0] == cli
    assert result.codelength > 0 and result.n_modules == len(set(cli.values()))
    d = nx.DiGraph(edges)
    dm, dres = tm.cluster(d)
    assert dres.flow_model.startswith("directed") and set(dm) == set(d.nodes())
    with pytest.raises(TextmineError):
        tm.cluster([])


def test_hsic_and_jose_are_the_library_objects():
    import numpy as np

    from textmine.hsic import hsic_test
    from textmine.jose import JoSE

    assert tm.hsic_test is hsic_test and tm.JoSE is JoSE
    x = np.random.default_rng(0).normal(size=(80, 1))
    assert tm.hsic_test(x, x ** 2, seed=1).pvalue < 0.01
