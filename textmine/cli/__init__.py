"""The ``textmine`` command: a lazy Click group over one module per subcommand.

Subcommand modules are imported only when used, and they import numba-backed library code only
inside the command function, so ``textmine --help`` stays fast.

Exit codes: 0 success, 1 runtime or data error (one line ``Error: ...``), 2 usage error,
130 interrupted (Ctrl-C). A broken pipe (``textmine count ... | head``) exits 1 quietly.

A console run that succeeds ends with :func:`_fast_exit`: the exit handlers run and the streams are
flushed, but the interpreter's teardown (freeing every module, numba's compiled libraries and the
corpus-sized arrays one object at a time) is skipped; it took 0.2-0.4 s per run on 2-11 M
characters.
"""
import importlib
import os
import sys

import click

from textmine import __version__
from textmine.errors import TextmineError

# name -> "module:attribute"; one module per subcommand under textmine.cli
COMMANDS = {
    "count": "textmine.cli.count:count",
    "cluster": "textmine.cli.cluster:cluster",
    "neighbors": "textmine.cli.neighbors:neighbors",
    "discover-words": "textmine.cli.discover_words:discover_words",
    "segment": "textmine.cli.segment:segment",
    "train-segmenter": "textmine.cli.train_segmenter:train_segmenter",
    "hsic": "textmine.cli.hsic:hsic",
    "embed": "textmine.cli.embed:embed",
    "similar": "textmine.cli.similar:similar",
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when the subcommand is asked for."""

    def __init__(self, *args, lazy_commands=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx, name):
        if name in self.lazy_commands:
            module, attr = self.lazy_commands[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TextmineError as e:
            if (ctx.obj or {}).get("traceback"):
                raise
            raise click.ClickException(str(e)) from e
        except EOFError as e:  # Click would report it as "Interrupted" (130): it is a data error
            if (ctx.obj or {}).get("traceback"):
                raise
            raise click.ClickException(f"unexpected end of input ({e or 'no data'})") from e
        except MemoryError:
            if (ctx.obj or {}).get("traceback"):
                raise
            raise click.ClickException("out of memory; lower --memory-limit or -j, or raise --min-count") from None


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="textmine")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of an error (for bug reports).")
@click.pass_context
def cli(ctx, traceback):
    """Mine large raw text corpora without annotation.

    Every subcommand reads its input from files (directories, for a corpus) or stdin (-),
    UTF-8 unless told otherwise, and writes headerless UTF-8 TSV to stdout (embed: word2vec
    text; train-segmenter: a model file), so stages chain with pipes:

    \b
      textmine count corpus/ -j 8 | head
      textmine discover-words corpus/ > lex.tsv
      textmine segment --dict lex.tsv corpus/ | textmine count --tokenizer space | head
    """
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback


def _silence_stdout():
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _fast_exit(code):
    """End the process now with ``code`` after running the :mod:`atexit` handlers and flushing
    stdout and stderr; the interpreter's teardown is skipped (every output is already complete:
    files are closed and renamed into place, pools and threads joined, temporary directories
    removed by the code that made them). Falls back to :func:`sys.exit` where the interpreter has
    no ``atexit._run_exitfuncs``."""
    import atexit

    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_handlers is None:
        sys.exit(code)
    run_handlers()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        code = code or 1
    except (OSError, ValueError):
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


def main(argv=None):
    """Console entry point: run :data:`cli` with textmine's exit-code conventions.

    With ``argv=None`` (the ``textmine`` command, ``python -m textmine``) a successful run ends
    the process through :func:`_fast_exit`; with an explicit ``argv`` it raises ``SystemExit``
    like any Click program, so a caller in the same process can go on."""
    if os.environ.get("TEXTMINE_COMPILE_NOTICE") != "0":
        os.environ["TEXTMINE_COMPILE_NOTICE"] = "1"  # say when kernels compile, unless -q
    try:
        rv = cli.main(args=argv, prog_name="textmine", standalone_mode=False)
        sys.stdout.flush()
    except click.exceptions.Abort:
        sys.stderr.write("\nInterrupted\n")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.stderr.write("\nInterrupted\n")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(1)
    code = rv if isinstance(rv, int) else 0
    if argv is None:
        _fast_exit(code)
    sys.exit(code)
