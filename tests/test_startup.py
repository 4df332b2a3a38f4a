"""Start-up of the ``textmine`` process (no timings: what a command imports)."""
import os
import subprocess
import sys

from conftest import ROOT, SAMPLE


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_discover_words_process_output_is_complete_and_light():
    """The whole lexicon reaches a pipe from a separate process, equal to the in-process CLI's;
    with -q neither tqdm nor jieba (nor another command's module) is imported."""
    from click.testing import CliRunner

    from textmine.cli import cli

    corpus = SAMPLE
    p = _run("import atexit, sys\n"
             "from textmine.cli import main\n"
             "atexit.register(lambda: sys.stderr.write('loaded ' + ' '.join(sorted(\n"
             "    m for m in ('tqdm', 'jieba', 'textmine.count', 'textmine.segment') if m in sys.modules)) + '\\n'))\n"
             f"main(['discover-words', {str(corpus)!r}, '-q'])\n")
    assert p.returncode == 0, p.stderr
    r = CliRunner().invoke(cli, ["discover-words", str(corpus), "-q"])
    assert r.exit_code == 0, r.output
    assert p.stdout == r.stdout and p.stdout.count("\n") > 10
    assert "loaded \n" in p.stderr, p.stderr


def test_console_run_ends_fast_with_complete_output_and_exit_handlers(tmp_path):
    """``main()`` as the console script (no argv) skips the interpreter's teardown: the output
    on stdout and in an -o file is complete, atexit handlers still run, and the exit code is the
    command's; with an explicit argv it raises SystemExit so the caller goes on."""
    from click.testing import CliRunner

    from textmine.cli import cli

    out = tmp_path / "lex.tsv"
    handler = ("import atexit, sys\n"
               "from textmine.cli import main\n"
               "atexit.register(lambda: sys.stderr.write('handler ran\\n'))\n")
    # an object alive at exit whose finaliser would run in the interpreter's teardown
    teardown = ("class T:\n    def __del__(self):\n        sys.stderr.write('teardown\\n')\n"
                "kept = T()\n")
    p = _run(handler + teardown + f"sys.argv = ['textmine', 'discover-words', {str(SAMPLE)!r}, '-q']\nmain()\n"
             "sys.stderr.write('not reached\\n')\n")
    q = _run(handler + f"sys.argv = ['textmine', 'discover-words', {str(SAMPLE)!r}, '-q', '-o', {str(out)!r}]\n"
             "main()\n")
    r = CliRunner().invoke(cli, ["discover-words", str(SAMPLE), "-q"])
    assert p.returncode == 0 and q.returncode == 0, p.stderr + q.stderr
    assert p.stdout == r.stdout and out.read_text(encoding="utf-8") == r.stdout and r.stdout.count("\n") > 10
    assert p.stderr == "handler ran\n" and q.stderr == "handler ran\n"
    assert sorted(os.listdir(tmp_path)) == ["lex.tsv"]
    # an error takes the ordinary exit: message, code 1, handlers
    e = _run(handler + f"sys.argv = ['textmine', 'discover-words', {str(tmp_path / 'missing.txt')!r}, '-q']\n"
             "main()\n")
    assert e.returncode == 1 and "Error:" in e.stderr and e.stderr.endswith("handler ran\n")
    t = _run(handler + teardown + f"main(['discover-words', {str(SAMPLE)!r}, '-q'])\n")
    assert t.returncode == 0 and t.stderr.endswith("handler ran\nteardown\n"), t.stderr
    # an explicit argv returns control through SystemExit
    k = _run("from textmine.cli import main\n"
             "try:\n"
             f"    main(['discover-words', {str(SAMPLE)!r}, '-q'])\n"
             "except SystemExit as x:\n"
             "    print('exit', x.code)\n")
    assert k.returncode == 0 and k.stdout.endswith("exit 0\n")
