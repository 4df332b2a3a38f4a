import random

import numpy as np
import pytest
from naive_infomap import naive_pairs

from textmine.errors import TextmineError
from textmine.graph import as_undirected, graph_from_edges, read_graph


def write(tmp_path, text, name="g.txt"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def as_pairs(g):
    return {(g.ids[a], g.ids[b]): w for a, b, w in zip(g.src.tolist(), g.dst.tolist(), g.weight.tolist())}


@pytest.mark.parametrize("directed", [False, True])
def test_link_list_matches_naive_on_random_input(tmp_path, directed):
    rng = random.Random(7)
    names = ["a", "b", "词", "x1", "中文", "zz", "q"]
    edges = [(rng.choice(names), rng.choice(names), rng.choice([1, 2, 0.5, 0])) for _ in range(200)]
    text = "# comment\n" + "".join(f"{a}{rng.choice([chr(9), ' ', '  '])}{b}\t{w}\n" for a, b, w in edges)
    g = read_graph([write(tmp_path, text)], directed=directed)
    want = naive_pairs(edges, directed)
    got = as_pairs(g)
    if not directed:  # naive keys sorted by string; ours by canonical node order
        got = {tuple(sorted(k)): v for k, v in got.items()}
        want = {tuple(sorted(k)): v for k, v in want.items()}
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k])
    assert g.ids == sorted(g.ids)
    assert g.n_self_loops == sum(1 for a, b in want if a == b)


def test_line_order_does_not_matter(tmp_path):
    rng = random.Random(3)
    lines = [f"{rng.randrange(50)}\t{rng.randrange(50)}\t{rng.randrange(1, 5)}\n" for _ in range(300)]
    g1 = read_graph([write(tmp_path, "".join(lines), "a.txt")])
    rng.shuffle(lines)
    g2 = read_graph([write(tmp_path, "".join(lines), "b.txt")])
    assert g1.ids == g2.ids
    assert np.array_equal(g1.src, g2.src) and np.array_equal(g1.dst, g2.dst)
    assert np.allclose(g1.weight, g2.weight)


def test_numeric_ids_sort_numerically_and_strings_by_code_point(tmp_path):
    g = read_graph([write(tmp_path, "10 2\n2 1\n")])
    assert g.ids == ["1", "2", "10"]
    g = read_graph([write(tmp_path, "b a\nB c\n")])
    assert g.ids == ["B", "a", "b", "c"]


def test_duplicates_summed_both_directions_when_undirected(tmp_path):
    p = write(tmp_path, "a b 1\nb a 2\na b 3\n")
    g = read_graph([p])
    assert g.n_links == 1 and g.weight.tolist() == [6.0] and g.n_duplicates == 2
    g = read_graph([p], directed=True)
    assert as_pairs(g) == {("a", "b"): 4.0, ("b", "a"): 2.0}
    u = as_undirected(g)
    assert u.weight.tolist() == [6.0]


def test_pajek_vertices_names_and_arcs(shared):
    g = read_graph([str(shared("graphs", "infomap", "twotriangles.net"))])
    assert g.ids == ["1", "2", "3", "4", "5", "6"]
    assert g.names == ["A", "B", "C", "D", "E", "F"]
    assert g.n_links == 7


def test_pajek_inline(tmp_path):
    text = '*Vertices 3\n1 "one node"\n2 "two"\n3 "three"\n*Arcs\n1 2 2\n2 3\n# note\n*Edges\n3 1 0.5\n'
    g = read_graph([write(tmp_path, text, "g.net")], directed=True)
    assert g.names == ["one node", "two", "three"]
    assert as_pairs(g) == {("1", "2"): 2.0, ("2", "3"): 1.0, ("3", "1"): 0.5}


def test_isolated_vertex_is_kept(tmp_path):
    g = read_graph([write(tmp_path, '*Vertices 3\n1 "a"\n2 "b"\n3 "c"\n*Edges\n1 2\n', "g.net")])
    assert g.n_nodes == 3 and g.n_links == 1


def test_stdin_and_several_files(tmp_path, monkeypatch):
    import io
    import sys
    p = write(tmp_path, "a b\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"b c 2\n")))
    g = read_graph([p, "-"])
    assert as_pairs(g) == {("a", "b"): 1.0, ("b", "c"): 2.0}


@pytest.mark.parametrize("text, message", [
    ("a b 1\nb c -1\n", "g.txt:2: weight '-1' must be a finite number >= 0"),
    ("a b 1\nb c x\n", "g.txt:2: weight 'x' is not a number"),
    ("a b 1\nb c nan\n", "g.txt:2: weight 'nan' must be a finite number >= 0"),
    ("a b\nlonely\n", "g.txt:2: expected 'source target [weight]'"),
    ("", "the graph has no links"),
    ("# only a comment\n", "the graph has no links"),
    ("a b 0\n", "the graph has no links"),
    ("*States\n1 1\n", "g.txt:1: section '*States'"),
    ("*Foo\n1 2\n", "g.txt:1: unknown section '*Foo'"),
    ('{"format": "infomap-network"}\n', "g.txt:1: JSON networks are not supported"),
    ('*Vertices 2\n1 "a"\n2 "b"\n*Edges\n1 3\n', "g.txt:5: link to vertex '3'"),
    ('*Vertices x\n', "g.txt:1: '*Vertices' must be followed by a count"),
])
def test_bad_input(tmp_path, text, message):
    with pytest.raises(TextmineError) as e:
        read_graph([write(tmp_path, text)])
    assert message in str(e.value)


def test_binary_and_missing_file(tmp_path):
    p = tmp_path / "b.bin"
    p.write_bytes(b"a b\n\x00\x01\n")
    with pytest.raises(TextmineError, match="binary"):
        read_graph([str(p)])
    with pytest.raises(TextmineError):
        read_graph([str(tmp_path / "missing.txt")])


def test_graph_from_edges_rejects_negative():
    with pytest.raises(TextmineError, match="weight"):
        graph_from_edges([(1, 2, -1)])
