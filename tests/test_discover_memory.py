"""discover-words's peak memory, summed over its processes, in a subprocess: flat in the corpus
length when the distinct n-grams are fixed, and within --memory-limit plus the stated constant
per process (textmine.discover.PROCESS_BYTES)."""
import os
import subprocess
import sys
import time

import pytest

from test_discover import make_corpus
from textmine import discover as dm

psutil = pytest.importorskip("psutil")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _peak_rss(cmd):
    """Largest RSS summed over the process tree of ``cmd`` (polled every 20 ms), and its stderr."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root, peak = psutil.Process(p.pid), 0
    while p.poll() is None:
        total = 0
        try:
            for q in [root] + root.children(recursive=True):
                try:
                    total += q.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total)
        time.sleep(0.02)
    err = p.stderr.read().decode()
    assert p.returncode == 0, err
    return peak, err


def test_peak_is_flat_in_corpus_length_and_within_the_stated_bound(tmp_path):
    lines, _ = make_corpus(21, n_lines=4000, vocab_size=500)
    text = ("\n".join(lines) + "\n").encode("utf-8")
    limit, jobs = 32 << 20, 2
    peaks = []
    for times in (4, 16):  # the same distinct n-grams, every one counted >= 4 times: the same kept set
        path = tmp_path / f"x{times}.txt"
        path.write_bytes(text * times)
        peak, err = _peak_rss([sys.executable, "-m", "textmine", "discover-words", str(path), "-q", "-j", str(jobs),
                               "--memory-limit", "32M", "-o", str(tmp_path / "out.tsv")])
        assert "warning" not in err  # what stays fits in the limit: the stated bound applies
        assert peak <= limit + (jobs + 1) * dm.PROCESS_BYTES, (times, peak)
        peaks.append(peak)
    assert peaks[1] <= 1.25 * peaks[0], peaks
