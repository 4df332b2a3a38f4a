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
