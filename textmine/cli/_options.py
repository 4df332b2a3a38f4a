"""Option decorators shared by the subcommands, so a flag means the same thing everywhere.

One name, one meaning: ``--top K`` is always the first K lines of the output, ``-k/--k`` the
number of neighbours per word, ``--memory-limit SIZE`` a size such as ``512M`` or ``2G``,
``--encoding`` the encoding of the text a command reads, ``--seed`` the random seed (default 1).
Each option's help starts with the sentence in :data:`MEANINGS`; ``tests/test_interface.py``
checks every command against it.

An old spelling stays for a while as a hidden option made by :func:`deprecated_alias`: it still
works and says on stderr what to write instead.
"""
import math
import os
import re
import sys

import click

#: The first sentence of the help of every option that more than one command has.
MEANINGS = {
    "--glob": "Only files whose name matches PATTERN when walking directories.",
    "--encoding": "Input encoding (any Python codec, e.g. gb18030)",
    "--errors": "What to do with undecodable bytes;",
    "--doc-per-file": "Treat each file as one document",
    "--jobs": "Worker processes (or threads).",
    "--output": None,  # output_option's text, or the command's own (embed, train-segmenter); always a path
    "--seed": "Random seed;",
    "--quiet": "No progress bar, statistics or compile notice on stderr.",
    "--top": "Write only the first K lines of the output.",
    "--k": "Neighbours per word (at most K).",
    "--memory-limit": "Memory budget, a SIZE such as 512M or 2G",
    "--header": "Write a line of column names first",
    "--dict": "Word-frequency dictionary:",
    "--min-count": None,  # per command: what is counted differs, always an integer >= 1
    "--format": None,  # per command: the output formats differ, always a Choice
    "--input-format": "text: one document per line; jsonl: one JSON object per line;",
    "--field": "The record's text:",
    "--engine": "local: multiprocessing on this machine; dask: Dask distributed",
    "--scheduler": "With --engine dask: join this cluster",
    "--json": "Write JSON",
    "--limit": "Read only the first N vectors of VECTORS",
}


def warn_deprecated(message):
    """One line on stderr for an old spelling that still works."""
    click.echo(f"textmine: warning: {message}", err=True)


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
        encoding_option(),
        click.option("--errors", "decode_errors", default="strict", show_default=True,
                     type=click.Choice(["strict", "replace", "ignore", "surrogateescape", "skip"]),
                     help="What to do with undecodable bytes; strict stops with the file and byte offset; "
                          "skip drops any record (line) that cannot be read and counts them on stderr."),
    ]
    if doc_per_file:
        decorators.append(click.option("--doc-per-file", is_flag=True,
                                       help="Treat each file as one document (default: each line is one)."))
    return _compose(*decorators)


def encoding_option(name="--encoding", what="; a UTF-8 BOM is dropped."):
    """``--encoding`` (the text a command reads); ``name`` for a second input (``--dict-encoding``).
    ``what`` continues the help sentence (" of the --dict dictionary.")."""
    return click.option(name, default="utf-8", show_default=True, metavar="CODEC",
                        help=MEANINGS["--encoding"] + what)


def vector_options(f=None, *, limit_names=("--limit",), limit_callback=None):
    """How a command reads its word2vec VECTORS: --encoding, --errors strict|replace, --limit N.

    ``limit_names`` adds older spellings (neighbors' --max-vectors); ``limit_callback`` is the
    callback of the --limit option (:func:`alias_target` where a deprecated alias sets it)."""
    decorators = [
        encoding_option(what=" of the words of VECTORS (text or binary); a UTF-8 BOM is dropped."),
        click.option("--errors", "decode_errors", default="strict", show_default=True,
                     type=click.Choice(["strict", "replace"]),
                     help="What to do with undecodable bytes; strict stops with FILE:LINE (text) or the byte "
                          "offset (binary) and a hint; replace decodes them as U+FFFD and counts them on stderr."),
        click.option(*limit_names, "limit", cls=AliasedOption, type=click.IntRange(min=1), default=None,
                     metavar="N", callback=limit_callback,
                     help=MEANINGS["--limit"] + " (word2vec files list the most frequent words first), like "
                          "gensim's limit; the rest of the file is not read, so memory grows with N. "
                          "Default: all."),
    ]
    return _compose(*decorators) if f is None else _compose(*decorators)(f)


def read_vectors(path, encoding="utf-8", decode_errors="strict", limit=None, quiet=False, command="textmine"):
    """The ``(words, vectors)`` of a word2vec file for a command with :func:`vector_options`: an empty
    file is an error, replaced bytes are counted on stderr (unless ``quiet``); of a word that comes
    again only its first vector is kept, and the dropped ones are counted on stderr."""
    from textmine.corpus import display
    from textmine.errors import TextmineError
    from textmine.formats import read_word2vec

    stats = {}
    words, vecs = read_word2vec(path, encoding=encoding, limit=limit, errors=decode_errors, stats=stats)
    if not words:
        raise TextmineError(f"{display(path)}: no vectors (empty input)")
    if stats["replaced"] and not quiet:
        k = stats["replaced"]
        click.echo(f"{command}: {display(path)}: {k} undecodable byte sequence{'s' if k != 1 else ''} replaced by "
                   "U+FFFD (--errors replace)", err=True)
    if len(set(words)) != len(words):  # gensim's rule: the first vector of a word wins
        import numpy as np

        first, keep, example = {}, [], None
        for i, w in enumerate(words):
            if w in first:
                example = example or (w, first[w] + 1, i + 1)
                continue
            first[w] = i
            keep.append(i)
        k = len(words) - len(keep)
        words, vecs = [words[i] for i in keep], np.ascontiguousarray(vecs[keep])
        click.echo(f"{command}: {display(path)}: {k} repeated word{'s' if k != 1 else ''} dropped, the first vector "
                   f"of each kept (e.g. {example[0]!r}: vectors {example[1]} and {example[2]})", err=True)
    return words, vecs


def _top_callback(ctx, param, value):
    if value == 0:
        warn_deprecated("--top 0 is deprecated; leave --top out to write every line")
        return None
    return value


def top_option(f):
    """``--top K``: the first K lines of the output (0, deprecated, means all)."""
    return click.option("--top", type=click.IntRange(min=0), default=None, metavar="K", callback=_top_callback,
                        help=MEANINGS["--top"] + " Default: all.")(f)


def k_option(default):
    """``-k/--k K``: neighbours per word."""
    return click.option("-k", "--k", "k", cls=AliasedOption, type=click.IntRange(min=1), default=default,
                        show_default=True, metavar="K", callback=alias_target("k"), help=MEANINGS["--k"])


def header_option(columns):
    """``--header``: a line of column names (``columns``, as written) before the data."""
    return click.option("--header", is_flag=True, help=f"{MEANINGS['--header']}: {columns}.")


def dict_option(required=False, what=""):
    """``--dict DICT``: a word-frequency dictionary, textmine lexicon or jieba format."""
    return click.option("--dict", "dict_path", required=required, metavar="DICT",
                        type=click.Path(dir_okay=False, allow_dash=True),
                        help=MEANINGS["--dict"] + " a textmine lexicon (word<TAB>count...) or a jieba dictionary "
                             "(word freq [tag]); - is stdin." + (" " + what if what else ""))


# --------------------------------------------------------------------------------------------- sizes
_SIZE_UNITS = {"": 1 << 20, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
#: No machine has this much memory: a larger size is a typo.
MAX_SIZE = 1 << 50


def parse_size(value, minimum=16 << 20, warn=warn_deprecated):
    """Bytes of a SIZE such as ``512M``, ``1.5G``, ``2GiB``, ``800k`` or ``20000000B`` (powers of 1024).

    A bare number is MB, as discover-words' old ``--memory-limit MB`` was; it still works, with a
    warning to write the unit. Raises :class:`click.BadParameter` (exit 2) for anything that is
    not a size, below ``minimum`` or above :data:`MAX_SIZE`.
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*(?:([kmgt])(?:i?b)?|(b))?\s*", str(value), re.IGNORECASE)
    if m is None:
        raise click.BadParameter(f"{value!r} is not a size such as 512M or 4G")
    number, unit = float(m.group(1)), (m.group(2) or "").lower()
    if not math.isfinite(number):
        raise click.BadParameter(f"{value!r} is not a size such as 512M or 4G")
    n = number * (1 if m.group(3) else _SIZE_UNITS[unit])  # 2048B: bytes
    unit = unit or (m.group(3) or "").lower()
    if n < minimum:
        raise click.BadParameter(f"{value!r} is too small: at least {_show_size(minimum)}"
                                 + (" (a bare number is MB)" if unit == "" else ""))
    if n > MAX_SIZE:
        raise click.BadParameter(f"{value!r} is larger than any machine's memory (at most {_show_size(MAX_SIZE)})"
                                 + (" (a bare number is MB)" if unit == "" else ""))
    if unit == "" and warn is not None:
        warn(f"--memory-limit {value}: a bare number is read as MB; write {m.group(1)}M (the unitless "
             "form is deprecated)")
    return int(n)


def _show_size(n):
    for unit, size in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return f"{n} bytes"


class Size(click.ParamType):
    """A SIZE option: ``512M``, ``2G`` (a bare number is MB, deprecated)."""

    name = "size"

    def __init__(self, minimum=16 << 20):
        self.minimum = minimum

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return parse_size(value, self.minimum)
        except click.BadParameter as e:
            self.fail(e.message, param, ctx)


def engine_options(f):
    """--engine local|dask and --scheduler (the map-reduce engines of count and discover-words)."""
    return _compose(
        click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                     help=MEANINGS["--engine"] + " (pip install textmine[dask]). Output does not depend on it."),
        click.option("--scheduler", metavar="tcp://HOST:PORT", envvar="DASK_SCHEDULER_ADDRESS",
                     help=MEANINGS["--scheduler"] + " (its workers must see the same files under the same "
                          "absolute paths; relative ones are made absolute); without it a local cluster of -j "
                          "workers starts. A cluster left without workers for TEXTMINE_DASK_NO_WORKER_TIMEOUT "
                          "seconds (default 60) stops the run with an error."),
    )(f)


def memory_limit_option(default, what, minimum=16 << 20, show_default=True):
    """``--memory-limit SIZE``: ``default`` is a SIZE string or None (``show_default`` then says what)."""
    return click.option("--memory-limit", type=Size(minimum), default=default, show_default=show_default,
                        metavar="SIZE",
                        help=f"{MEANINGS['--memory-limit']} (at least {_show_size(minimum)}), for {what}")


# ---------------------------------------------------------------------------- deprecated spellings
_ALIASES = "textmine.aliases"


class AliasedOption(click.Option):
    """An option with a :func:`deprecated_alias`: records where its value came from before its
    callback runs (Click records the source only after), so the alias knows if it was given."""

    def consume_value(self, ctx, opts):
        value, source = super().consume_value(ctx, opts)
        ctx.meta.setdefault(_ALIASES, {}).setdefault(self.name, {})["source"] = source
        return value, source


def _given(state):
    return state.get("source") in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)


def deprecated_alias(old, target, type, instead):
    """A hidden option ``old`` that sets the parameter ``target`` and warns to write ``instead``.

    The option of ``target`` needs ``cls=AliasedOption, callback=alias_target(target)``. Giving
    both is a usage error."""

    def callback(ctx, param, value):
        if value is None:
            return
        state = ctx.meta.setdefault(_ALIASES, {}).setdefault(target, {})
        if _given(state):
            raise click.UsageError(f"{old} is the old spelling of {instead}; give one of them")
        warn_deprecated(f"{old} is deprecated here; write {instead} {value}")
        state["alias"] = (old, value, instead)
        if "source" in state:  # the target's callback ran first and wrote its default
            ctx.params[target] = value

    return click.option(old, type=type, default=None, hidden=True, expose_value=False, callback=callback)


def alias_target(target):
    """The callback of the :class:`AliasedOption` ``target``: takes the alias's value unless given."""

    def callback(ctx, param, value):
        state = ctx.meta.setdefault(_ALIASES, {}).setdefault(target, {})
        if "alias" in state:
            if _given(state):
                raise click.UsageError(f"{state['alias'][0]} is the old spelling of {state['alias'][2]}; "
                                       "give one of them")
            return state["alias"][1]
        return value
    return callback


def max_jobs():
    """The most workers -j may ask for: 4 per CPU, at least 32. Beyond that a run only starts
    processes (each with its own start-up memory) that wait for a CPU; -j 100000 would try to
    fork 100000 of them."""
    return max(32, 4 * (os.cpu_count() or 1))


def _check_jobs(ctx, param, value):
    if value is not None and value > max_jobs() and not ctx.resilient_parsing:
        raise click.BadParameter(f"{value} workers is more than {max_jobs()} (4 per CPU of this machine's "
                                 f"{os.cpu_count() or 1}, at least 32)",
                                 ctx=ctx, param=param)
    return value


def jobs_option(f):
    return click.option("-j", "--jobs", type=click.IntRange(min=1), default=lambda: os.cpu_count() or 1,
                        envvar="TEXTMINE_JOBS", show_default="number of CPUs", callback=_check_jobs,
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


def check_output_dir(ctx, param, value):
    """Click callback of an option naming a folder to write (count --save, merge -o): its parent
    must exist and be writable, and it must not be a file."""
    if value is None or ctx.resilient_parsing:
        return value
    parent = os.path.dirname(os.path.abspath(value))
    problem = None
    if os.path.exists(value) and not os.path.isdir(value):
        problem = f"{value}: exists and is not a folder"
    elif not os.path.isdir(parent):
        problem = f"{value}: folder {parent} does not exist"
    elif not os.access(parent, os.W_OK | os.X_OK):
        problem = f"{value}: folder {parent} is not writable"
    if problem:
        raise click.BadParameter(problem, ctx=ctx, param_hint="/".join(param.opts))
    return value


def output_option(f):
    return click.option("-o", "--output", default="-", show_default=True, type=click.Path(allow_dash=True),
                        callback=check_output, help="Output file, written atomically; - is stdout.")(f)


def seed_option(f):
    """``--seed N`` (N >= 0, default 1) for every command with randomness."""
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


def read_options(encoding, decode_errors="strict", option="--encoding", errors_option="--errors"):
    """Checked :class:`~textmine.corpus.ReadOptions`; ``option``/``errors_option`` name the command's
    options in error hints (``""`` where the command has none)."""
    from textmine.corpus import ReadOptions
    opts = ReadOptions(encoding, decode_errors, option=option, errors_option=errors_option)
    opts.check()
    return opts


def read_dictionary(path, encoding="utf-8", option="--encoding"):
    """A word-frequency dictionary as ``(words, counts)``, validated the same for every command:
    a malformed line, an empty dictionary and one whose frequencies are all 0 are errors that name
    the file. ``option`` is the command's option for the dictionary's encoding."""
    from textmine.corpus import display
    from textmine.errors import TextmineError
    from textmine.formats import read_word_counts

    words, counts = read_word_counts(path, read=read_options(encoding, "strict", option, ""))
    if not any(c > 0 for c in counts):
        raise TextmineError(f"{display(path)}: every frequency in the dictionary is 0; "
                            "a word-frequency dictionary is needed")
    return words, counts


def absolute(path):
    """``path`` made absolute (``-`` and ``None`` kept): for tasks run by workers elsewhere."""
    if path in (None, "-"):
        return path
    return os.path.abspath(path)


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
                          "a line break inside it ends a line for count and discover-words, as in jq's raw "
                          "output of the field. Reading .zst needs pip install 'textmine[zstd]'."),
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
