"""The docs/ pages against the code: algorithm citations, the CLI reference, the API page, shell
completion through the real entry point, and the licence."""
import importlib
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

DOCS = ROOT / "docs"
ALGORITHMS_MD = DOCS / "algorithms.md"
SPEC = ROOT.parent / "shared" / "docs" / "ALGORITHMS.md"  # the notes algorithms.md was written from


def _gen(name):
    if str(DOCS) not in sys.path:
        sys.path.insert(0, str(DOCS))
    return importlib.import_module(name)


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("COLUMNS", None)
    env.update(extra)
    return env


# ---------------------------------------------------------------------------------------------
# docs/algorithms.md: every "ALGORITHMS.md §N.M" / "docs/algorithms.md §N.M" cited in the code
# has its section

_NUM = r"\d+(?:\.\d+)?"
_FILE = r"(?:docs/)?algorithms\.md"
# "ALGORITHMS.md §4.1–4.3", "ALGORITHMS.md 5.3-5.4", "ALGORITHMS.md section 5", "ALGORITHMS.md §2.2 and §2.4"
_AFTER = re.compile(rf"{_FILE}\)?,?\s+(?:§|sections?\s+)?({_NUM}(?:\s*(?:[-–]|,|and)\s*§?{_NUM})*)", re.I)
# "§3.2 of ALGORITHMS.md", "section 5 of docs/algorithms.md"
_BEFORE = re.compile(rf"(?:§|sections?\s+)({_NUM})\s+of\s+{_FILE}", re.I)


def cited_sections(text):
    """Section numbers cited next to ALGORITHMS.md / docs/algorithms.md in ``text``; a range
    ``4.1–4.3`` cites 4.1, 4.2 and 4.3."""
    found = set()
    for m in _AFTER.finditer(text):
        nums = re.findall(_NUM, m.group(1))
        seps = re.findall(r"[-–]|,|and", re.sub(_NUM, " ", m.group(1)))
        found.update(nums)
        for (a, b), sep in zip(zip(nums, nums[1:]), seps):
            if sep in "-–" and "." in a and "." in b and a.split(".")[0] == b.split(".")[0]:
                major, lo, hi = a.split(".")[0], int(a.split(".")[1]), int(b.split(".")[1])
                found.update(f"{major}.{k}" for k in range(lo, hi + 1))
    found.update(m.group(1) for m in _BEFORE.finditer(text))
    return found


def headings(text):
    """``{number: title}`` of the numbered ``##``/``###`` headings of a Markdown page."""
    out = {}
    for m in re.finditer(rf"^#{{2,3}} ({_NUM})\.?\s+(.+?)\s*$", text, re.M):
        assert m.group(1) not in out, f"section {m.group(1)} twice"
        out[m.group(1)] = m.group(2)
    return out


def test_citation_parser():
    text = ("see ALGORITHMS.md §4.1–4.3 and (§3.2 of\n    ALGORITHMS.md); docs/algorithms.md 5.3-5.4,\n"
            "ALGORITHMS.md section 5. Pipeline (ALGORITHMS.md §2.2 and §2.4): ALGORITHMS.md §6.\n"
            "ALGORITHMS-2.md §9.9 is another file; ALGORITHMS.md) for the criterion")
    assert cited_sections(text) == {"4.1", "4.2", "4.3", "3.2", "5.3", "5.4", "5", "2.2", "2.4", "6"}


def test_every_cited_section_exists():
    page = headings(ALGORITHMS_MD.read_text(encoding="utf-8"))
    cites = {}
    files = sorted((ROOT / "textmine").rglob("*.py")) + sorted((ROOT / "bench").glob("*.py"))
    for path in files:
        for sec in cited_sections(path.read_text(encoding="utf-8")):
            cites.setdefault(sec, []).append(path.relative_to(ROOT).as_posix())
    assert len(cites) >= 10, "the citation scan found almost nothing: is the pattern still right?"
    missing = {sec: where for sec, where in cites.items() if sec not in page}
    assert not missing, f"cited but not in docs/algorithms.md: {missing}"


def test_algorithms_md_keeps_the_numbering_of_the_notes():
    page = headings(ALGORITHMS_MD.read_text(encoding="utf-8"))
    assert {"1", "2", "3", "4", "5", "6", "7"} <= set(page)
    keys = [tuple(int(p) for p in k.split(".")) for k in page]
    assert keys == sorted(keys), "sections out of order"
    if not SPEC.exists():
        pytest.skip(f"{SPEC} not available")
    spec = headings(SPEC.read_text(encoding="utf-8"))
    assert set(spec) <= set(page), sorted(set(spec) - set(page))
    for num, title in spec.items():
        assert page[num] == title, (num, title, page[num])


# ---------------------------------------------------------------------------------------------
# docs/cli.md: generated from --help, current, complete


def _words(text):
    # Click versions wrap and pad help differently: compare the words, not the layout
    return re.sub(r"\s+", " ", text).strip()


def test_cli_md_is_current(capsys):
    """Fails when an option or help text changed without ``python docs/gen_cli.py``."""
    gen = _gen("gen_cli")
    if _words(gen.render()) != _words((DOCS / "cli.md").read_text(encoding="utf-8")):
        gen.main(["--check"])
        pytest.fail("docs/cli.md is stale: run python docs/gen_cli.py\n" + capsys.readouterr().out[:4000])


def test_cli_md_check_detects_a_changed_option(monkeypatch):
    gen = _gen("gen_cli")
    from textmine.cli import cli

    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    cmd = cli.get_command(None, "count")
    option = next(p for p in cmd.params if p.name == "min_count")
    monkeypatch.setattr(option, "help", option.help + " CHANGED-HELP")
    changed = gen.render()
    assert "CHANGED-HELP" in changed and changed != committed


def test_every_command_is_in_cli_md():
    from textmine.cli import COMMANDS

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"\n## textmine {name}\n" in text, name
        assert f"Usage: textmine {name} " in text, name


@pytest.mark.parametrize("name", [""] + sorted(__import__("textmine.cli", fromlist=["COMMANDS"]).COMMANDS))
def test_help_runs_and_matches_the_generator(name):
    """``textmine CMD --help`` exits 0 through the real entry point, and prints what gen_cli renders."""
    args = [name, "--help"] if name else ["--help"]
    p = subprocess.run([sys.executable, "-m", "textmine", *args], capture_output=True, text=True,
                       env=_env(COLUMNS="100"), timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == _gen("gen_cli").help_text([name] if name else [])


def test_gen_cli_check_exit_status(tmp_path, monkeypatch):
    gen = _gen("gen_cli")
    target = tmp_path / "cli.md"
    monkeypatch.setattr(gen, "CLI_MD", target)
    assert gen.main(["--check"]) == 1  # missing file is stale
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0
    target.write_text(target.read_text(encoding="utf-8").replace("--min-count", "--min-cnt"), encoding="utf-8")
    assert gen.main(["--check"]) == 1


# ---------------------------------------------------------------------------------------------
# docs/api.md: every name of textmine.api.__all__ documented, every documented name real


def _api():
    """textmine.api of this checkout, or skip (an editable install elsewhere could supply another)."""
    if not (ROOT / "textmine" / "api.py").exists():
        pytest.skip("textmine/api.py is not in this checkout")
    return pytest.importorskip("textmine.api")


def test_api_md_matches_the_facade():
    api = _api()
    import textmine as tm

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = re.findall(r"^## tm\.(\w+)\s*$", text, re.M)
    assert sorted(documented) == sorted(api.__all__)
    for name in documented:
        assert hasattr(tm, name), name
        assert f"tm.{name}(" in text, name


def test_api_md_is_current(capsys):
    _api()
    rc = _gen("gen_api").main(["--check"])
    assert rc == 0, "docs/api.md is stale: run python docs/gen_api.py\n" + capsys.readouterr().out[:4000]


def test_rst_to_md():
    gen = _gen("gen_api")
    doc = "Use :class:`textmine.errors.TextmineError` and ``x``::\n\n    >>> f(1)\n    2\n\nEnd."
    assert gen.rst_to_md(doc) == ("Use `textmine.errors.TextmineError` and `x`:\n\n"
                                  "```pycon\n>>> f(1)\n2\n```\n\nEnd.")
    summary, sections = gen.split_sections("Sum.\n\nParameters\n----------\na : int\n    The a.\n")
    assert summary == "Sum." and gen.param_list(sections["Parameters"]) == "* `a` (int): The a."


# ---------------------------------------------------------------------------------------------
# shell completion through the real entry point (textmine.cli:main, as the console script)


def _complete(words, cword, shell="bash"):
    env = _env(COMP_WORDS=words, COMP_CWORD=str(cword), _TEXTMINE_COMPLETE=f"{shell}_complete")
    p = subprocess.run([sys.executable, "-c", "from textmine.cli import main; main()"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_completion_of_a_subcommand_name():
    assert _complete("textmine cou", 1).split() == ["plain,count"]
    every = _complete("textmine ", 1).split()
    from textmine.cli import COMMANDS

    assert sorted(every) == sorted(f"plain,{n}" for n in COMMANDS)


def test_completion_of_an_option_name_and_value():
    assert _complete("textmine count --mem", 2).split() == ["plain,--memory-limit"]
    assert "plain,--min-sim" in _complete("textmine neighbors --", 2).split()
    values = _complete("textmine cluster --format ", 3).split()
    assert values and all(v.startswith("plain,") for v in values) and "plain,tsv" in values


def test_completion_scripts_for_each_shell():
    for shell, marker in [("bash", "complete -o nosort -F _textmine_completion textmine"),
                          ("zsh", "compdef _textmine_completion textmine"),
                          ("fish", "complete --no-files --command textmine")]:
        env = _env(_TEXTMINE_COMPLETE=f"{shell}_source")
        p = subprocess.run([sys.executable, "-c", "from textmine.cli import main; main()"],
                           capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 0 and marker in p.stdout, (shell, p.stderr)


def test_bash_completion_end_to_end(tmp_path):
    """Source the generated bash script and run its completion function, with ``textmine`` on
    PATH as a launcher of ``textmine.cli:main``."""
    bash = __import__("shutil").which("bash")
    if bash is None:
        pytest.skip("no bash")
    launcher = tmp_path / "textmine"
    launcher.write_text(f"#!/bin/sh\nexec '{sys.executable}' -c 'from textmine.cli import main; main()' \"$@\"\n")
    launcher.chmod(0o755)
    script = ('eval "$(_TEXTMINE_COMPLETE=bash_source textmine)"\n'
              'COMP_WORDS=(textmine discover-w); COMP_CWORD=1; _textmine_completion textmine\n'
              'echo "${COMPREPLY[@]}"\n'
              'COMPREPLY=(); COMP_WORDS=(textmine segment --di); COMP_CWORD=2; _textmine_completion textmine\n'
              'echo "${COMPREPLY[@]}"\n')
    env = _env(PATH=str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    p = subprocess.run([bash, "--norc", "--noprofile", "-c", script], capture_output=True, text=True,
                       env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ["discover-words", "--dict --dict-encoding"]


# ---------------------------------------------------------------------------------------------


def test_license_matches_the_metadata():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the textmine authors" in text
    cfg = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert re.search(r"^license = MIT$", cfg, re.M) and re.search(r"^license_files = LICENSE$", cfg, re.M)


def test_the_code_cites_the_notes_in_the_repository():
    """Docstrings cite docs/algorithms.md (in the repository), never the spec outside it."""
    bare = []
    for path in (ROOT / "textmine").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        bare += [f"{path.name}:{m.start()}" for m in re.finditer(r"(?<!docs/)ALGORITHMS\.md", text)]
    assert not bare, bare
