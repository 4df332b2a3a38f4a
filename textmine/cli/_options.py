"""Option decorators shared by the subcommands, so a flag means the same thing everywhere."""
import os
import sys

import click


def _compose(*decorators):
    def apply(f):
        for d in reversed(decorators):
            f = d(f)
        return f
    return apply


def input_options(doc_per_file=True):
    """PATHS (files, directories, '-'), --glob, --encoding, --errors[, --doc-per-file]."""
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path(allow_dash=True)),
        click.option("--glob", default="*", show_default=True, metavar="PATTERN",
                     help="Only files whose name matches PATTERN when walking directories."),
        click.option("--encoding", default="utf-8", show_default=True,
                     help="Input encoding (any Python codec, e.g. gb18030). A UTF-8 BOM is dropped."),
        click.option("--errors", "decode_errors", default="strict", show_default=True,
                     type=click.Choice(["strict", "replace", "ignore", "surrogateescape"]),
                     help="What to do with undecodable bytes; strict stops with the file and byte offset."),
    ]
    if doc_per_file:
        decorators.append(click.option("--doc-per-file", is_flag=True,
                                       help="Treat each file as one document (default: each line is one)."))
    return _compose(*decorators)


def jobs_option(f):
    return click.option("-j", "--jobs", type=click.IntRange(min=1), default=lambda: os.cpu_count() or 1,
                        envvar="TEXTMINE_JOBS", show_default="number of CPUs",
                        help="Worker processes (or threads). Output does not depend on it.")(f)


def check_output(ctx, param, value):
    """Click callback of every option naming a file to write: fail before the work when it
    cannot be written (a directory, a missing or read-only directory, an unwritable file)."""
    if value is None or value == "-" or ctx.resilient_parsing:
        return value
    from textmine.errors import TextmineError
    from textmine.formats import check_output_path

    try:
        check_output_path(value)
    except TextmineError as e:
        raise click.BadParameter(str(e), ctx=ctx, param_hint="/".join(param.opts)) from None
    return value


def output_option(f):
    return click.option("-o", "--output", default="-", show_default=True, type=click.Path(allow_dash=True),
                        callback=check_output, help="Output file, written atomically; - is stdout.")(f)


def seed_option(f):
    return click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
                        help="Random seed; the same seed gives the same output.")(f)


def quiet_option(f):
    return click.option("-q", "--quiet", is_flag=True, help="No progress bar or statistics on stderr.")(f)


def read_options(encoding, decode_errors):
    from textmine.corpus import ReadOptions
    opts = ReadOptions(encoding, decode_errors)
    opts.check()
    return opts


def resolve(paths, glob="*"):
    """Resolve PATHS; say on stderr when about to wait on a terminal."""
    from textmine.corpus import STDIN, resolve_inputs
    files = resolve_inputs(paths, glob)
    if STDIN in files and sys.stdin is not None and sys.stdin.isatty():
        click.echo("textmine: reading from the terminal (no PATH given); end with Ctrl-D", err=True)
    return files


def show_progress(quiet):
    """Progress bars only when stderr is a terminal and not --quiet."""
    return not quiet and sys.stderr.isatty()
