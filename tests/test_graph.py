import random

import numpy as np
import pytest
from click.testing import CliRunner
from naive_infomap import naive_link_list, naive_pairs

from textmine.cli import cli

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
    ("*States\n1 1\n*Links\n1 2\n", "g.txt:4: link to state '2' that *States does not declare"),
    ('*Vertices 2\n1 "a"\n2 "b"\n*States\n1 1\n2 3\n', "g.txt:6: state '2' names physical node '3' that "
                                                         "*Vertices does not declare"),
    ("*States\n1 1\n2 1\n3 2\n*Links\n1 2\n", "g.txt:4: state '3' has no links"),
    ("*States\n1 1\n1 2\n", "g.txt:3: state '1' declared twice"),
    ("*States\n1\n", "g.txt:2: expected 'state_id physical_id"),
    ("*Bipartite 2\n1 2\n", "g.txt:1: section '*Bipartite'"),
    ("*Multilayer\n1 1 2\n", "g.txt:2: expected 'layer_id node_id layer_id node_id [weight]', got 3 fields"),
    ("*Intra\n1 1 2 3 4\n", "g.txt:2: expected 'layer_id node_id node_id [weight]', got 5 fields"),
    ("*Intra\n1 1 2 -1\n", "g.txt:2: weight '-1' must be a finite number >= 0"),
    ("*Intra\n1 1 2\n*Inter\n1 1 1\n", "g.txt:4: an inter-layer link needs two different layers"),
    ('*Vertices 2\n1 "a"\n2 "b"\n*Intra\n1 1 3\n', "g.txt:5: physical node '3' that *Vertices does not declare"),
    ("*Inter\n1 1 2\n", "g.txt:1: *Inter links need *Intra links"),
    ("*Foo\n1 2\n", "g.txt:1: expected 'source target [weight]' (2 or 3 fields), got 1 field"),
    ("a b 1 2\n", "g.txt:1: expected 'source target [weight]' (2 or 3 fields), got 4 fields"),
    ("# c\na\tb\t1\n#b\tc\t1\textra\n", "g.txt:3: expected 'source target [weight]' (2 or 3 fields), got 4"),
    ("*Vertices 2\n1 a\n*Foo\n", "g.txt:3: unknown section '*Foo'"),
    ("*Vertices 2\n1 a\n2 b\n*Edges\n1 2 1 5\n", "g.txt:5: expected 'source target [weight]' (2 or 3"),
    ('{"format": "infomap-network"}\n', "g.txt:1: JSON networks are not supported"),
    ('*Vertices 2\n1 "a"\n2 "b"\n*Edges\n1 3\n', "g.txt:5: link to vertex '3'"),
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


# ------------------------------------------------------------------------------------------------
# issue #16: node names that look like Pajek sections or comments are nodes in a link list

NAMES = ["a", "*x", "**zg", "***", "#x", "%x", "*Vertices", "*edges", "{", '{"k"', "b#", "词", "#", "%"]


def _random_link_text(rng, tab_only):
    lines = []
    for _ in range(120):
        r = rng.random()
        if r < 0.1:
            lines.append(rng.choice(["# a comment", "#comment", "%", "#", "% 2 3", "  # indented comment", ""]))
            continue
        a, b = rng.choice(NAMES), rng.choice(NAMES)
        if not tab_only and a in ("#", "%"):
            a = "z"  # documented: a node named exactly # or % at a line start needs a TAB after it
        sep = "\t" if tab_only else rng.choice(["\t", " ", "  ", "\t "])
        w = rng.choice([None, "1", "0.5", "2e0", "3"])
        lines.append(sep.join([a, b] + ([w] if w else [])) + rng.choice(["", "\r"]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])  # utf-8: byte scanner; utf-16: line parser
@pytest.mark.parametrize("tab_only", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_odd_node_names_match_naive_reader(tmp_path, encoding, tab_only, seed):
    rng = random.Random(seed)
    text = "a\tb\n" + _random_link_text(rng, tab_only)  # a first line '{"k" ...' would read as JSON
    p = tmp_path / "g.txt"
    p.write_bytes(text.encode(encoding))
    g = read_graph([str(p)], directed=True, encoding=encoding)
    links, comments = naive_link_list(text)
    want = naive_pairs(links, True)
    assert as_pairs(g) == pytest.approx(want)
    assert g.stats["comments"] == comments
    if tab_only:  # every TAB-separated line of 2-3 fields is a link: no name is lost
        assert sum(1 for line in text.split("\n") if line.count("\t") in (1, 2)) == len(links)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])  # utf-8: byte scanner; utf-16: line parser
@pytest.mark.parametrize("bad, field", [("\tb\t1", 1), ("a\t\t1", 2), ("a\t \tb", 2), ("#\t\tb", 2),
                                        ("a\tb\t\t1", 3)])
def test_an_empty_tab_field_is_an_error_not_a_shifted_link(tmp_path, encoding, bad, field):
    """'a<TAB><TAB>1' has no target: split on whitespace it read as the link a-1 (weight 1)."""
    p = tmp_path / "g.txt"
    p.write_bytes(("x\ty\n" * 3 + bad + "\nx\tz\n").encode(encoding))
    with pytest.raises(TextmineError, match=f"g.txt:4: field {field} of this TAB-separated line is empty"):
        read_graph([str(p)], encoding=encoding)
    # trailing TABs, spaces around a name and space-separated lines stay links
    p.write_bytes("a\tb\t\nb\tc\t2\t\n  c\td\nd e 3\n".encode(encoding))
    g = read_graph([str(p)], directed=True, encoding=encoding)
    assert as_pairs(g) == {("a", "b"): 1.0, ("b", "c"): 2.0, ("c", "d"): 1.0, ("d", "e"): 3.0}


def test_one_node_graph_codelength_is_not_negative_zero(tmp_path):
    g = write(tmp_path, "a\ta\t1\n")
    r = CliRunner().invoke(cli, ["cluster", g])
    assert r.exit_code == 0 and "codelength 0.000000 bits (one-level 0.000000," in r.stderr, r.stderr
    r = CliRunner().invoke(cli, ["cluster", g, "--format", "json", "-q"])
    assert r.exit_code == 0 and '"oneLevelCodelength": 0.0,' in r.stdout, r.stdout


def test_star_hash_percent_names_are_nodes(tmp_path):
    text = "a\t#b\t1\n#b\tc\t1\n***\t**zg\t2\n*x\t%x\n*Vertices\ta\t0.5\n"
    for name, data in [("g.txt", text), ("h.txt", "# header comment\n" + text)]:
        g = read_graph([write(tmp_path, data, name)], directed=True)
        assert as_pairs(g) == {("a", "#b"): 1.0, ("#b", "c"): 1.0, ("***", "**zg"): 2.0, ("*x", "%x"): 1.0,
                               ("*Vertices", "a"): 0.5}
        assert g.stats["comments"] == (name == "h.txt")


@pytest.mark.parametrize("first", ["*Vertices 3", "*vertices", "*VERTICES 3", "  *Vertices\t3"])
def test_pajek_only_with_a_section_header_first(tmp_path, first):
    text = f"# a comment\n%another\n{first}\n1 \"x\"\n2 \"y\"\n3 \"z\"\n*arcs\n1 2\n2 3 2\n"
    g = read_graph([write(tmp_path, text, "g.net")], directed=True)
    assert g.names == ["x", "y", "z"]
    assert as_pairs(g) == {("1", "2"): 1.0, ("2", "3"): 2.0}
    assert g.stats["comments"] == 2


def test_comment_rule():
    from textmine.graph import is_comment, is_pajek_header

    def fields(line):
        return [f for f in line.replace("\t", " ").split(" ") if f]

    for line in ["# note", "#note", "#", "%", "% 1 2", "#\u3000x"]:  # U+3000 is not a separator
        assert is_comment(fields(line), line)
    for line in ["#b\tc", "#b c", "#b c 2", "%x\ty\t1", "#\tb"]:
        assert not is_comment(fields(line), line)
    for line in ["*Vertices", "*Vertices 12", "*edges", "*Arcs", "*LINKS", "*States", "*Vertices\t3"]:
        assert is_pajek_header(line)
    for line in ["*Vertices\tb\t1", "*Vertices b", "***", "**zg a", "*Edges 1 2", "*Vertices 1.5"]:
        assert not is_pajek_header(line)


def test_utf16_input(tmp_path):
    text = "# c\n词\t*x\t2\n*x\tb\n"
    for enc in ["utf-16", "utf-16-le", "utf-32"]:
        p = tmp_path / f"g-{enc}.txt"
        p.write_bytes(text.encode(enc))
        g = read_graph([str(p)], directed=True, encoding=enc)
        assert as_pairs(g) == {("词", "*x"): 2.0, ("*x", "b"): 1.0}
        assert g.stats["comments"] == 1
    p = tmp_path / "nul.txt"
    p.write_bytes("a\tb\nc\x00\td\n".encode("utf-16"))
    with pytest.raises(TextmineError, match=r"nul.txt:2: NUL character"):
        read_graph([str(p)], encoding="utf-16")
    p.write_bytes("a\tb\n".encode("utf-16")[:-1])
    with pytest.raises(TextmineError, match="cannot decode"):
        read_graph([str(p)], encoding="utf-16")


def test_cli_link_list_names_and_comment_count(tmp_path):
    res = CliRunner().invoke(cli, ["cluster", "-"], input="a\t#b\t1\n#b\tc\t1\n# note\n#note\n")
    assert res.exit_code == 0, res.output
    assert sorted(line.split("\t")[0] for line in res.stdout.splitlines()) == ["#b", "a", "c"]
    assert "3 nodes, 2 links (2 comment lines skipped)" in res.stderr
    res = CliRunner().invoke(cli, ["cluster", "-"], input="a\tb\t1\tx\n")
    assert res.exit_code == 1 and res.stderr == ("Error: <stdin>:1: expected 'source target [weight]' (2 or 3 "
                                                 "fields), got 4 fields: 'a\\tb\\t1\\tx'\n")
    p = tmp_path / "g16.txt"
    p.write_bytes("a\tb\nb\tc\n".encode("utf-16"))
    res = CliRunner().invoke(cli, ["cluster", "--encoding", "utf-16", str(p)])
    assert res.exit_code == 0, res.output
    assert "3 nodes, 2 links" in res.stderr


def test_cli_seed_option_matches_other_commands(tmp_path):
    res = CliRunner().invoke(cli, ["cluster", "--help"])
    assert "--seed INTEGER RANGE" in res.stdout and "[default: 1; x>=0]" in res.stdout
    text = "".join(f"{a}\t{b}\n" for a, b in [(1, 2), (1, 3), (2, 3), (3, 4), (4, 5), (4, 6), (5, 6)])
    res = CliRunner().invoke(cli, ["cluster", "--seed", "0", "-"], input=text)
    assert res.exit_code == 0 and "2 modules" in res.stderr


def test_readme_recipe_neighbors_to_cluster_with_odd_words(tmp_path):
    """`textmine neighbors words.vec ... | textmine cluster --directed` with words like ***, **zg, #x, %x."""
    from textmine.formats import write_word2vec
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 8))
    vecs = np.concatenate([c + 0.1 * rng.normal(size=(5, 8)) for c in centers])
    odd = ["***", "**zg", "#x", "%x", "*Vertices"]
    words = [f"{odd[i]}{g}" if i < len(odd) else f"w{g}_{i}" for g in range(3) for i in range(5)]
    words[0] = "***"  # a bare *** (Brown has it) is the first word of the first row
    vp = tmp_path / "words.vec"
    write_word2vec(str(vp), words, vecs)
    res = CliRunner().invoke(cli, ["neighbors", str(vp), "--k", "4", "--min-sim", "0.6"])
    assert res.exit_code == 0, res.output
    res2 = CliRunner().invoke(cli, ["cluster", "--directed", "-"], input=res.stdout)
    assert res2.exit_code == 0, res2.output
    got = {line.split("\t")[0]: line.split("\t")[1] for line in res2.stdout.splitlines()}
    assert sorted(got) == sorted(words)
    groups = {}
    for i, w in enumerate(words):
        groups.setdefault(i // 5, set()).add(got[w])
    assert all(len(s) == 1 for s in groups.values()) and len({min(s) for s in groups.values()}) == 3


def test_state_network_reader(shared):
    g = read_graph([str(shared("graphs", "infomap", "states.net"))], directed=True)
    assert g.is_state_network and g.ids == ["1", "2", "3", "4", "5", "6"]
    assert g.phys.tolist() == [0, 1, 2, 0, 3, 4] and g.phys_ids == ["1", "2", "3", "4", "5"]
    assert g.phys_names == ["i", "j", "k", "l", "m"] and g.names[3] == "δ~_i"
    assert g.n_links == 16 and g.stats["comments"] == 5


def test_pajek_detected_past_64k_of_comments_and_without_final_newline(tmp_path):
    text = "# 注释 comment line\n" * 5000 + '*Vertices 2\n1 "a"\n2 "b"\n*Edges\n1 2 3'
    g = read_graph([write(tmp_path, text, "g.net")])
    assert g.names == ["a", "b"] and g.weight.tolist() == [3.0] and g.stats["comments"] == 5000
    p = tmp_path / "h.txt"
    p.write_bytes("# 注释\n*Vertices\tb".encode())  # a link *Vertices -> b, decided on the last line
    assert as_pairs(read_graph([str(p)], directed=True)) == {("*Vertices", "b"): 1.0}
