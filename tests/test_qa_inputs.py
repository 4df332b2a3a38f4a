"""Awkward but real inputs, as a demanding new user gives them (found by exercising the CLI):
closed standard streams, undecodable and unencodable text, model writes that fail, word2vec
words with spaces, absurd -j, UTF-16 without a byte-order mark."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX descriptors")

ENV = dict(os.environ, PYTHONPATH=str(ROOT))
TEXT = "中文分词没有那么难。\n我们今天去北京。\n" * 20


def textmine(*args, stdin=None, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(), timeout=120):
    return subprocess.run([sys.executable, "-m", "textmine", *map(str, args)], stdin=stdin, stdout=stdout,
                          stderr=stderr, env=ENV, timeout=timeout, pass_fds=pass_fds)


def closing(fd):
    """A shell-style ``N<&-``: run the child with descriptor ``fd`` closed."""
    return ["sh", "-c", f'exec "$@" {fd}<&-', "sh", sys.executable, "-m", "textmine"]


def one_error_line(stderr):
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    lines = [x for x in text.splitlines() if x.strip()]
    assert lines and lines[-1].startswith("Error: "), text
    return lines[-1]


@pytest.fixture
def corpus(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text(TEXT, encoding="utf-8")
    return p


# -- closed standard streams ---------------------------------------------------------------------

def test_closed_stdin_is_empty_input_not_a_traceback(tmp_path):
    p = subprocess.run(closing(0) + ["count", "-q", "-j", "1"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=120)
    assert p.returncode == 1
    assert "empty input" in one_error_line(p.stderr)


def test_closed_stdout_is_a_write_error_and_a_file_output_still_works(corpus, tmp_path):
    p = subprocess.run(closing(1) + ["count", "-q", "-j", "1", corpus], stderr=subprocess.PIPE,
                       env=ENV, timeout=120)
    assert p.returncode == 1
    assert one_error_line(p.stderr).startswith("Error: stdout: cannot write")
    out = tmp_path / "o.tsv"
    p = subprocess.run(closing(1) + ["count", "-q", "-j", "1", "-o", out, corpus], stderr=subprocess.PIPE,
                       env=ENV, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "我们\t20" in out.read_text(encoding="utf-8").splitlines()


def test_closed_stderr_does_not_fail_a_successful_run(corpus):
    # without -q the summary goes to stderr: losing the log must not fail the run
    p = subprocess.run(closing(2) + ["count", "-j", "1", "--top", "1", corpus], stdout=subprocess.PIPE,
                       env=ENV, timeout=120)
    assert p.returncode == 0
    assert p.stdout.decode().count("\n") == 1
