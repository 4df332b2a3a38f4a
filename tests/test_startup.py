"""Start-up and shutdown of the ``textmine`` process (no timings: what is imported, what is frozen)."""
import os
import subprocess
import sys

from conftest import ROOT, SAMPLE


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_main_freezes_the_gc_at_exit_but_cli_in_process_does_not():
    """``main`` (the console entry point) ends with ``gc.freeze()``; ``cli`` run in-process
    (``CliRunner``, library use) leaves the collector alone; atexit handlers still run."""
    p = _run("import atexit, gc, sys\n"
             "from click.testing import CliRunner\n"
             "from textmine.cli import cli, main\n"
             "r = CliRunner().invoke(cli, ['--version'])\n"
             "assert r.exit_code == 0 and gc.get_freeze_count() == 0, (r.output, gc.get_freeze_count())\n"
             "atexit.register(lambda: sys.stderr.write(f'atexit frozen={gc.get_freeze_count() > 0}\\n'))\n"
             "main(['--version'])\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("textmine, version")
    assert "atexit frozen=True" in p.stderr


def test_main_freezes_on_the_error_path_too():
    p = _run("import atexit, gc, sys\n"
             "from textmine.cli import main\n"
             "atexit.register(lambda: sys.stderr.write(f'atexit frozen={gc.get_freeze_count() > 0}\\n'))\n"
             "main(['discover-words', '/nonexistent/corpus.txt'])\n")
    assert p.returncode == 1
    assert "Error: " in p.stderr and "Traceback" not in p.stderr
    assert "atexit frozen=True" in p.stderr


def test_discover_words_process_output_is_complete_and_light():
    """The whole lexicon reaches a pipe from a separate process (nothing lost at the frozen exit),
    equal to the in-process CLI's; with -q neither tqdm nor jieba is imported."""
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
