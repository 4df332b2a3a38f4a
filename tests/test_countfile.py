import json
import os
import random

import numpy as np
import pytest
from click.testing import CliRunner

from naive_countfile import naive_merge, naive_strictly_sorted
from textmine import countfile as cf
from textmine.cli import cli
from textmine.errors import TextmineError

META = dict(tokenizer="ngram", min_n=1, max_n=2, min_count=1, doc_per_file=False)
ALPHABET = ["a", "b", "ab", "中", "国", "\U00020000", "é", ""]


def random_run(rng, n):
    """{bytes key: count}: keys share prefixes, mix 1- to 4-byte UTF-8 characters."""
    keys = {"".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4))) or "x" for _ in range(n)}
    return {k.encode("utf-8"): rng.randint(1, 9) for k in keys}


def as_counts(run):
    keys = sorted(run)
    return cf.Counts.from_sorted_bytes(keys, [run[k] for k in keys], META)


def as_list(c):
    return [(k.encode("utf-8"), n) for k, n in c.items()]


def test_merge_sorted_matches_naive():
    rng = random.Random(1)
    for trial in range(200):
        a, b = random_run(rng, rng.randint(0, 30)), random_run(rng, rng.randint(0, 30))
        ca, cb = as_counts(a), as_counts(b)
        got = cf.Counts(*cf.merge_sorted(ca.data, ca.offsets, ca.counts, cb.data, cb.offsets, cb.counts), META)
        assert as_list(got) == naive_merge(a, b)
        assert cf._strictly_sorted(got.data, got.offsets) == naive_strictly_sorted([k for k, _ in as_list(got)])


def test_strictly_sorted_matches_naive():
    rng = random.Random(2)
    for trial in range(200):
        words = (rng.choice(ALPHABET[:-1]) * rng.randint(1, 2) for _ in range(rng.randint(0, 6)))
        keys = [k.encode("utf-8") for k in words]
        c = cf.Counts.from_sorted_bytes(keys, [1] * len(keys), META)
        assert cf._strictly_sorted(c.data, c.offsets) == naive_strictly_sorted(keys)


def test_merge_is_associative_and_exact():
    rng = random.Random(3)
    for trial in range(30):
        runs = [random_run(rng, rng.randint(0, 40)) for _ in range(3)]
        a, b, c = map(as_counts, runs)
        left = cf.merge([cf.merge([a, b]), c])
        right = cf.merge([a, cf.merge([b, c])])
        flat = cf.merge([c, a, b])
        assert as_list(left) == as_list(right) == as_list(flat) == naive_merge(*runs)


def test_save_load_round_trip(tmp_path):
    c = cf.Counts.from_items([("中国", 3), ("a", 1), ("国", 7), ("\U00020000x", 2)], META)
    c.save(tmp_path / "c")
    d = cf.load(tmp_path / "c")
    assert list(d.items()) == sorted(c.items()) == [("a", 1), ("中国", 3), ("国", 7), ("\U00020000x", 2)]
    meta = json.loads((tmp_path / "c" / "meta.json").read_text(encoding="utf-8"))
    assert meta["format"] == "textmine-counts" and meta["version"] == 1 and meta["keys"] == 4
    assert meta["total_count"] == 13 and set(meta["files"]) == {"keys.bin", "offsets.npy", "counts.npy"}
    c.save(tmp_path / "c")  # replaces a count directory
    assert sorted(os.listdir(tmp_path)) == ["c"]


def _damage(path, how):
    if how == "truncate":
        with open(path / "counts.npy", "r+b") as f:
            f.truncate(os.path.getsize(path / "counts.npy") - 8)
    elif how == "flip":
        b = bytearray((path / "keys.bin").read_bytes())
        b[0] ^= 1
        (path / "keys.bin").write_bytes(bytes(b))
    elif how == "no-meta":
        os.unlink(path / "meta.json")
    elif how == "version":
        m = json.loads((path / "meta.json").read_text())
        m["version"] = 99
        (path / "meta.json").write_text(json.dumps(m))
    elif how == "bad-json":
        (path / "meta.json").write_text("{")
    elif how == "unsorted":  # consistent checksums, but keys out of order
        np.save(path / "offsets.npy", np.array([0, 3, 4], np.int64))
        (path / "keys.bin").write_bytes("中a".encode())
        m = json.loads((path / "meta.json").read_text())
        for name in ("keys.bin", "offsets.npy"):
            m["files"][name] = {"bytes": os.path.getsize(path / name), "sha256": cf._sha256(path / name)}
        (path / "meta.json").write_text(json.dumps(m))


@pytest.mark.parametrize("how,message", [("truncate", "counts.npy has"), ("flip", "keys.bin does not match"),
                                         ("no-meta", "meta.json is missing"), ("version", "version 99"),
                                         ("bad-json", "does not parse"), ("unsorted", "increasing order")])
def test_damaged_count_directory_is_a_clear_error(tmp_path, how, message):
    cf.Counts.from_items([("a", 1), ("中", 2)], META).save(tmp_path / "c")
    _damage(tmp_path / "c", how)
    with pytest.raises(TextmineError, match=message):
        cf.load(tmp_path / "c")
    res = CliRunner().invoke(cli, ["merge", str(tmp_path / "c"), "-o", str(tmp_path / "m")])
    assert res.exit_code == 1 and message.split()[0] in res.output and "Traceback" not in res.output


def test_merge_refuses_what_would_not_be_exact():
    a = cf.Counts.from_items([("a", 1)], META)
    with pytest.raises(TextmineError, match="tokenizer"):
        cf.merge([a, cf.Counts.from_items([("a", 1)], dict(META, tokenizer="char"))])
    with pytest.raises(TextmineError, match="min-count 2"):
        cf.merge([a, cf.Counts.from_items([("a", 3)], dict(META, min_count=2))])


def _write(path, lines):
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return str(path)


def test_cli_count_save_halves_merge_to_the_whole(tmp_path):
    rng = random.Random(4)
    chars = "天地玄黄宇宙洪荒日月ab 1，。"
    lines = ["".join(rng.choice(chars) for _ in range(rng.randint(0, 40))) for _ in range(400)]
    a, b, whole = _write(tmp_path / "a.txt", lines[:150]), _write(tmp_path / "b.txt", lines[150:]), \
        _write(tmp_path / "w.txt", lines)
    run = CliRunner()
    for src, name, jobs in ((a, "ca", "1"), (b, "cb", "2"), (whole, "cw", "1")):
        res = run.invoke(cli, ["count", "-t", "ngram", "--n", "3", src, "-j", jobs, "--save", str(tmp_path / name),
                               "-o", str(tmp_path / (name + ".tsv")), "-q"])
        assert res.exit_code == 0, res.output
    res = run.invoke(cli, ["merge", str(tmp_path / "ca"), str(tmp_path / "cb"), "-o", str(tmp_path / "cm"),
                           "--tsv", str(tmp_path / "cm.tsv"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cm.tsv").read_bytes() == (tmp_path / "cw.tsv").read_bytes()
    w, m = cf.load(tmp_path / "cw"), cf.load(tmp_path / "cm")
    assert list(w.items()) == list(m.items())
    assert m.meta["input_bytes"] == w.meta["input_bytes"] and m.meta["lines"] == 400
    res = run.invoke(cli, ["count", whole, "--top", "3", "--save", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--top" in res.output
