import os
import subprocess
import sys

from conftest import ROOT
from textmine.cli import COMMANDS


def test_every_subcommand_help_is_light():
    """`--help` of the group and of every subcommand works and imports neither numba nor numpy."""
    code = ("import sys, textmine.cli as c\n"
            "names = sorted(c.COMMANDS)\n"
            "for args in [['--help']] + [[n, '--help'] for n in names]:\n"
            "    try:\n        c.cli.main(args, standalone_mode=False)\n    except SystemExit:\n        pass\n"
            "heavy = [m for m in ('numba', 'numpy', 'jieba', 'scipy') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert p.returncode == 0, p.stderr
    for name in COMMANDS:
        assert "Usage: " in p.stdout and name in p.stdout


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"### textmine {name}" in readme, name


def test_version_and_unknown_command():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "textmine", "--version"], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and p.stdout.startswith("textmine, version")
    p = subprocess.run([sys.executable, "-m", "textmine", "nosuch"], capture_output=True, text=True, env=env)
    assert p.returncode == 2 and "No such command 'nosuch'" in p.stderr and "Traceback" not in p.stderr
