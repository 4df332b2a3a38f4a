"""bench/gen_corpus.py: valid UTF-8 ending with a line break, reproducible, and the distinct
n-grams fixed (repeat) or growing (markov) with the size. Sources: a slice of the sample."""
import sys

import pytest

from conftest import ROOT, SAMPLE

sys.path.insert(0, str(ROOT / "bench"))
import gen_corpus  # noqa: E402


@pytest.fixture
def sources(tmp_path, monkeypatch):
    raw = tmp_path / "shared" / "raw"
    raw.mkdir(parents=True)
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    (raw / "a.txt").write_text("\n".join(lines[:150]) + "\n", encoding="utf-8")
    (raw / "b.txt").write_text("\n".join(lines[150:300]), encoding="utf-8")  # no final line end
    monkeypatch.setattr(gen_corpus, "SHARED", tmp_path / "shared")
    return gen_corpus.source_text()


def _gen(tmp_path, mode, mb, seed=1, name="c.txt"):
    path = tmp_path / name
    n = gen_corpus.generate(mode, mb, path, seed)
    data = path.read_bytes()
    assert n == len(data) <= int(mb * 1e6)
    text = data.decode("utf-8")  # strict: a character cut in two fails here
    assert text.endswith("\n")
    return data


def _distinct(data, n=4):
    return {ln[i:i + n] for ln in data.decode("utf-8").split("\n") for i in range(len(ln) - n + 1)}


@pytest.mark.parametrize("mode", ["repeat", "markov", "oneline"])
def test_valid_utf8_line_end_and_reproducible(tmp_path, sources, mode):
    # sizes that end anywhere: within a line, a character, a block of the sampler
    for mb in (0.000011, 0.000173, 0.0137, 0.2, 0.4123):
        a = _gen(tmp_path, mode, mb, name="a.txt")
        assert a == _gen(tmp_path, mode, mb, name="b.txt")
        if mb >= 0.2:  # whole lines but the last: within one line of the target
            assert len(a) > mb * 1e6 - 1000
    if mode == "markov":
        assert _gen(tmp_path, mode, 0.2, seed=2) != _gen(tmp_path, mode, 0.2, seed=1)


def test_repeat_keeps_the_distinct_ngrams_markov_grows_them(tmp_path, sources):
    size = len(sources) / 1e6
    small, big = _gen(tmp_path, "repeat", 2.5 * size, name="s"), _gen(tmp_path, "repeat", 5 * size, name="b")
    assert len(big) > 1.9 * len(small)
    assert _distinct(small) == _distinct(big) == _distinct(sources)
    small, big = _gen(tmp_path, "markov", 0.3, name="s"), _gen(tmp_path, "markov", 0.6, name="b")
    assert big.startswith(small[:small.rfind(b"\n", 0, len(small) - 1)])  # the same chain, sampled further
    assert len(_distinct(big)) > 1.5 * len(_distinct(small))
