"""The ``textmine`` command: a lazy Click group over one module per subcommand.

Subcommand modules are imported only when used, and they import numba-backed library code only
inside the command function, so ``textmine --help`` stays fast.

Exit codes: 0 success, 1 runtime or data error (one line ``Error: ...``), 2 usage error,
128 + the signal when interrupted: 130 (``Interrupted``) for Ctrl-C, 143 for SIGTERM and 129 for
SIGHUP (quietly), after the same clean-up (see :mod:`textmine._signals`). A broken pipe
(``textmine count ... | head``) exits 1 quietly. A write error (full disk, ``ulimit -f``) is one
line ``Error: OUTPUT: cannot write (REASON)``.

A console run that succeeds ends with :func:`_fast_exit`: the exit handlers run and the streams are
flushed, but the interpreter's teardown (freeing every module, numba's compiled libraries and the
corpus-sized arrays one object at a time) is skipped; it took 0.2-0.4 s per run on 2-11 M
characters.
"""
import errno
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
    "merge": "textmine.cli.merge:merge",
    "evaluate": "textmine.cli.evaluate:evaluate",
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
        from textmine import _signals

        try:
            return super().invoke(ctx)
        except BaseException as e:
            if isinstance(e, (SystemExit, click.exceptions.Exit)):
                raise
            if _signals.interrupted(e):  # also a SystemError around an interrupt (numba)
                raise _signals.Stop(_signals.signal_of(e)) from None
            if (ctx.obj or {}).get("traceback") or isinstance(e, click.ClickException):
                raise
            if isinstance(e, TextmineError):
                raise click.ClickException(str(e)) from e
            if isinstance(e, EOFError):  # Click would report it as "Interrupted" (130): a data error
                raise click.ClickException(f"unexpected end of input ({e or 'no data'})") from e
            if isinstance(e, MemoryError):
                cmd = self.get_command(ctx, ctx.invoked_subcommand) if ctx.invoked_subcommand else None
                raise click.ClickException(memory_hint(cmd)) from None
            if isinstance(e, UnicodeEncodeError):  # a lone surrogate from some input, on its way out
                bad = e.object[e.start:e.end][:8] if isinstance(e.object, str) else ""
                raise click.ClickException(f"output: cannot write {bad!r} as {e.encoding} ({e.reason}); "
                                           "an input holds text that is not Unicode") from None
            if isinstance(e, OSError) and e.errno in _WRITE_ERRNOS:
                what, hint = _written_by(e)
                raise click.ClickException(f"{what}: cannot write ({e.strerror or e}){hint}") from None
            raise


# errors that only writing can give: a full disk, a quota, a file-size limit (ulimit -f)
_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}

def _written_by(e):
    """What a write error that no textmine writer caught was writing (its file name, numba's
    cache of compiled kernels, or else 'output'), and a hint."""
    if e.filename:
        return e.filename, ""
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") == "numba.core.caching":
            return "numba cache", "; set NUMBA_CACHE_DIR to a disk with room, or TEXTMINE_NUMBA_CACHE=0"
        tb = tb.tb_next
    return "output", ""


# what lowers the memory of a run, by parameter name; a hint names only the command's own options
_MEMORY_HINTS = (("memory_limit", "lower"), ("jobs", "lower"), ("min_count", "raise"), ("batch_lines", "lower"),
                 ("batch_chars", "lower"), ("dim", "lower"), ("samples", "lower"), ("bits", "lower"))


def memory_hint(cmd):
    """``out of memory; lower --memory-limit or -j, ...`` with only the options that the
    subcommand ``cmd`` has."""
    params = {p.name: p for p in getattr(cmd, "params", ()) if isinstance(p, click.Option)}
    hints = []
    for name, verb in _MEMORY_HINTS:
        if name in params:
            opts = params[name].opts
            short = [o for o in opts if not o.startswith("--")]
            flag = short[0] if name == "jobs" and short else next((o for o in opts if o.startswith("--")), opts[0])
            hints.append(f"{verb} {flag}")
    method = params.get("method")  # hsic: approximate tests hold no n x n matrix
    if method is not None and "rff" in getattr(method.type, "choices", ()):
        hints.append(f"use {method.opts[0]} rff or block")
    if not hints:
        return "out of memory"
    return "out of memory; " + (", ".join(hints[:-1]) + " or " + hints[-1] if len(hints) > 1 else hints[0])


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


def _say(text):
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _flush_stdout():
    """Flush stdout; returns the exit code its failure calls for (0 if none)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except (OSError, ValueError) as e:
        _silence_stdout()
        _say(f"Error: stdout: cannot write ({getattr(e, 'strerror', None) or e})\n")
        return 1
    return 0


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
    code = _flush_stdout() or code
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


def _exit_interrupted(signum):
    """Exit ``128 + signum``; only Ctrl-C says ``Interrupted`` (SIGTERM and SIGHUP end quietly)."""
    import signal

    _flush_stdout()
    if signum == signal.SIGINT:
        _say("\nInterrupted\n")
    sys.exit(128 + signum)


def _writable(fd):
    try:
        import fcntl

        return fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY
    except (ImportError, OSError):
        return True


def _reopen_closed_std():
    """Give a closed stdin, stdout or stderr (``<&-``, ``>&-``, ``2>&-``) a stand-in, so that no
    file textmine opens later takes its descriptor number (an output written as "stdout") and
    ``sys.stdin``/``sys.stdout`` are never ``None``: stdin reads as empty input, stderr is
    discarded (also when it is open only for reading, as a closed one can be once a launcher
    such as a pyenv shim has reused the number), and stdout is ``/dev/null`` opened read-only, so writing data there fails as on
    a closed descriptor (``Error: stdout: cannot write (Bad file descriptor)``, exit 1)."""
    for fd, flags, name, mode in ((0, os.O_RDONLY, "stdin", "r"), (1, os.O_RDONLY, "stdout", "w"),
                                  (2, os.O_WRONLY, "stderr", "w")):
        try:
            os.fstat(fd)
            if fd != 2 or _writable(fd):
                continue
        except OSError:
            pass
        try:
            got = os.open(os.devnull, flags)
        except OSError:
            continue
        if got != fd:  # a lower descriptor was closed too and took it; it gets its own turn
            os.dup2(got, fd)
            os.close(got)
        setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False,
                                errors="backslashreplace" if fd == 2 else "strict"))


def main(argv=None):
    """Console entry point: run :data:`cli` with textmine's exit-code conventions.

    With ``argv=None`` (the ``textmine`` command, ``python -m textmine``) a successful run ends
    the process through :func:`_fast_exit`; with an explicit ``argv`` it raises ``SystemExit``
    like any Click program, so a caller in the same process can go on."""
    if argv is None:
        _reopen_closed_std()
    if os.environ.get("TEXTMINE_COMPILE_NOTICE") != "0":
        os.environ["TEXTMINE_COMPILE_NOTICE"] = "1"  # say when kernels compile, unless -q
    from textmine import _signals

    previous = _signals.install()
    try:
        return _main(argv)
    finally:
        if argv is not None:  # a caller in this process keeps its own signal handling
            _signals.restore(previous)


def _main(argv):
    from textmine import _signals

    try:
        rv = cli.main(args=argv, prog_name="textmine", standalone_mode=False)
        code = _flush_stdout()
        if _signals.received is not None:  # an interrupt that something swallowed still counts
            raise _signals.Stop(_signals.received)
    except SystemExit:
        raise
    except BaseException as e:
        if _signals.interrupted(e):
            _exit_interrupted(_signals.signal_of(e))
        if isinstance(e, click.exceptions.Abort):  # Click's word for an EOFError
            cause = e.__cause__ or e.__context__
            _say(f"Error: unexpected end of input{f' ({cause})' if str(cause or '') else ''}\n")
            sys.exit(1)
        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if isinstance(e, BrokenPipeError):
            _silence_stdout()
            sys.exit(1)
        raise
    code = code or (rv if isinstance(rv, int) else 0)
    if argv is None:
        _fast_exit(code)
    sys.exit(code)
