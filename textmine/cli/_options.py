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
                     type=click.Choice(["strict", "replace", "ignore", "surrogateescape", "skip"]),
                     help="What to do with undecodable bytes; strict stops with the file and byte offset; "
                          "skip drops any record (line) that cannot be read and counts them on stderr."),
    ]
    if doc_per_file:
        decorators.append(click.option("--doc-per-file", is_flag=True,
                                       help="Treat each file as one document (default: each line is one)."))
    return _compose(*decorators)


def jobs_option(f):
    return click.option("-j", "--jobs", type=click.IntRange(min=1), default=lambda: os.cpu_count() or 1,
                        envvar="TEXTMINE_JOBS", show_default="number of CPUs",
                        help="Worker processes (or threads). Output does not depend on it.")(f)


def output_option(f):
    return click.option("-o", "--output", default="-", show_default=True, type=click.Path(allow_dash=True),
                        help="Output file, written atomically; - is stdout.")(f)


def seed_option(f):
    return click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
                        help="Random seed; the same seed gives the same output.")(f)


def _quiet_callback(ctx, param, quiet):
    """-q silences the compile notice too; without it, a run that will compile kernels into an
    empty cache says so before it starts (workers compile where the main process cannot see)."""
    if quiet:
        os.environ["TEXTMINE_COMPILE_NOTICE"] = "0"
    elif os.environ.get("TEXTMINE_COMPILE_NOTICE") == "1":
        from textmine import _cache

        if not _cache.kernels_cached():
            where = _cache.numba_cache_dir()
            click.echo("textmine: compiling numba kernels on first use (10-20 s, once per install"
                       + (f"; kept in {where})" if where else ")"), err=True)
            os.environ["TEXTMINE_COMPILE_NOTICE"] = "said"
    return quiet


def quiet_option(f):
    return click.option("-q", "--quiet", is_flag=True, callback=_quiet_callback,
                        help="No progress bar, statistics or compile notice on stderr.")(f)


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


def format_options(output_field=False):
    """--input-format, --field[, --output-field] (records: JSON Lines, CSV, TSV). The command also
    reports on stderr the records that --errors skip skipped (one line at the end)."""
    decorators = [
        click.option("--input-format", type=click.Choice(["text", "jsonl", "csv", "tsv"]), default=None,
                     show_default="by extension: .jsonl, .ndjson, .csv, .tsv, also compressed; else text",
                     help="text: one document per line; jsonl: one JSON object per line; csv (RFC 4180) or tsv "
                          "(no quoting), the first row naming the columns. Each record's field is one document; "
                          "a line break inside it ends a line for count and discover-words, as in the output "
                          "of `jq -r .text`. Reading .zst needs pip install 'textmine[zstd]'."),
        click.option("--field", metavar="NAME",
                     help="The record's text: a JSON key (dotted for nested keys, e.g. meta.body) or a "
                          "CSV/TSV column name or 1-based number (default: text). A JSON list of strings "
                          "is one document, its items joined by line breaks; null, a number or an object "
                          "is a bad record, as are invalid JSON and a missing field (see --errors)."),
    ]
    if output_field:
        decorators.append(click.option(
            "--output-field", metavar="NAME",
            help="Records only: write the result into this new field (key or column) instead of replacing "
                 "--field; every other key and column is kept, in order."))
    return _compose(*decorators, _report_skipped)


def _report_skipped(f):
    import functools

    @functools.wraps(f)
    def run(*args, **kwargs):
        from textmine.corpus import format_skipped, take_skipped

        take_skipped()
        rv = f(*args, **kwargs)
        summary = format_skipped(take_skipped())
        if summary:
            click.echo(f"textmine: {summary}", err=True)
        return rv
    return run


def record_options(opts, input_format, field, files=None):
    """ReadOptions with the record format and field; --field with only plain text inputs is a usage error."""
    import dataclasses

    from textmine.corpus import STDIN
    from textmine.corpus import input_format as format_of

    opts = dataclasses.replace(opts, input_format=input_format, field=field)
    if field is not None and input_format is None and files and all(format_of(p) == "text" for p in files):
        where = "stdin is" if files == [STDIN] else "the inputs are"
        raise click.UsageError(f"--field: {where} plain text by extension; give --input-format jsonl, csv or tsv")
    from textmine.errors import TextmineError

    try:
        opts.check()
    except TextmineError as e:  # the encoding was checked before: what is left is --input-format/--field
        raise click.UsageError(str(e)) from None
    return opts
