"""``textmine count``: token and n-gram frequencies."""
import click

from textmine.cli._options import (absolute, check_output_dir, engine_options, format_options, header_option, input_options, jobs_option,
                                   memory_limit_option, output_option, quiet_option, read_options, record_options,
                                   resolve, show_progress, top_option)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@input_options(doc_per_file=True)
@format_options()
@click.option("-t", "--tokenizer", default="jieba", show_default=True, metavar="NAME",
              help="jieba (jieba's exact tokens, HMM on), char, ngram (character n-grams not crossing "
                   "punctuation or whitespace), space (whitespace-separated) or lexicon:FILE "
                   "(max-probability segmentation with a textmine lexicon or jieba dictionary).")
@click.option("--no-hmm", is_flag=True, help="With --tokenizer jieba: HMM off (jieba.cut(HMM=False)).")
@click.option("--jieba-dict", metavar="FILE", type=click.Path(dir_okay=False),
              help="With --tokenizer jieba: FILE ('word freq [tag]' lines, e.g. from discover-words "
                   "--format jieba) replaces jieba's dictionary, as jieba.set_dictionary(FILE).")
@click.option("-n", "--n", "max_n", type=click.IntRange(1, 64), default=None,
              help="Count n-grams up to this order: character n-grams for ngram (default 4), "
                   "otherwise token n-grams joined by one space (default 1).")
@click.option("--min-n", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Lowest n-gram order to count.")
@click.option("--min-count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Drop keys seen fewer times (after the exact merge).")
@top_option
@jobs_option
@engine_options
@memory_limit_option(None, "counting, merging and ordering, split among the -j workers; beyond it, partial "
                     "counts spill to a temporary directory. Peak memory is about SIZE plus a fixed start-up "
                     "cost of about 300 MB per process (Python, numba kernels, jieba's dictionary), for the "
                     "parent and each worker.", show_default="a quarter of RAM")
@click.option("--tmpdir", type=click.Path(exists=True, file_okay=False, writable=True), default=None,
               help="Where to spill (default: $TMPDIR).")
@header_option("token<TAB>count")
@click.option("--save", metavar="DIR", type=click.Path(file_okay=False), default=None, callback=check_output_dir,
              help="Also write the exact counts to the count directory DIR (sorted keys, .npy counts, "
                   "meta.json), for textmine merge and discover-words --counts.")
@output_option
@quiet_option
def count(paths, glob, encoding, decode_errors, doc_per_file, input_format, field, tokenizer, no_hmm, jieba_dict, max_n,
          min_n, min_count, top, jobs, engine, scheduler, memory_limit, tmpdir, header, save, output, quiet):
    """Count tokens or n-grams of a corpus: writes token<TAB>count.

    PATHS are files, directories (walked recursively, --glob filters names) or - for stdin;
    with no PATH stdin is read. Lines are sorted by count descending, then by code point
    (the order of LC_ALL=C sort), so the output is the same for any -j and any engine.

    Without -j, one worker per CPU, but no more than one per 4 MB of input.

    Work is a map-reduce: each worker counts its own byte range of the input and returns
    compact sorted arrays. Keys of at most 4 characters (of the Basic Multilingual Plane) are
    packed into 64-bit integers and counted by sorting; longer ones go to small per-partition
    hash tables. The merge runs per key range and hash partition. Memory grows with the number
    of distinct keys of one hash partition (keys over 4 characters) and is otherwise bounded by
    --memory-limit, whatever the corpus length; long lines are read in pieces. Whitespace tokens
    are never counted.

    \b
    Examples:
      textmine count corpus/ -j 8 --top 20
      textmine count --tokenizer ngram --n 4 --min-count 5 corpus/ > ngrams.tsv
      textmine count --tokenizer space --n 2 --min-n 2 seg.txt | head
    """
    from textmine.count import count as run_count
    from textmine.formats import atomic_output

    opts = read_options(encoding, decode_errors)
    if (no_hmm or jieba_dict) and tokenizer != "jieba":
        raise click.UsageError(f"{'--no-hmm' if no_hmm else '--jieba-dict'} applies to --tokenizer jieba only")
    if no_hmm:
        tokenizer = "jieba:nohmm"
    if jieba_dict:
        tokenizer += ":dict=" + jieba_dict
    if max_n is None:
        max_n = 4 if tokenizer == "ngram" else 1
    if min_n > max_n:
        raise click.UsageError(f"--min-n {min_n} is larger than --n {max_n}")
    if save and top:
        raise click.UsageError("--save keeps every key; drop --top")
    files = resolve(paths, glob)
    opts = record_options(opts, input_format, field, files)
    if engine == "dask":  # workers may run elsewhere, in another directory (stdin is read here)
        files = [absolute(p) for p in files]
        tmpdir = absolute(tmpdir)
        if tokenizer.startswith("lexicon:"):
            tokenizer = "lexicon:" + absolute(tokenizer[len("lexicon:"):])
        elif ":dict=" in tokenizer:
            head, _, path = tokenizer.partition(":dict=")
            tokenizer = head + ":dict=" + absolute(path)
    if click.get_current_context().get_parameter_source("jobs") == click.core.ParameterSource.DEFAULT:
        jobs = None  # no -j given: the CPUs, but no more workers than the input is worth
    result = run_count(files, tokenizer=tokenizer, min_n=min_n, max_n=max_n, min_count=min_count, top=top,
                       n_jobs=jobs, engine=engine, scheduler=scheduler, memory_limit=memory_limit, read=opts,
                       progress=show_progress(quiet), tmpdir=tmpdir, doc_per_file=doc_per_file)
    try:
        with atomic_output(output, "wb") as out:
            if header:
                out.write(b"token\tcount\n")
            n = result.write(out)
        if save:
            import os

            result.save(save, dict(tokenizer=tokenizer, min_n=min_n, max_n=max_n, min_count=min_count,
                                   doc_per_file=doc_per_file,
                                   inputs=[dict(path=os.path.abspath(p), bytes=os.path.getsize(p))
                                           for p in files if p != "-"]))
    finally:
        result.close()
    if not quiet:
        mb = result.nbytes / 1e6
        click.echo(f"textmine count: {result.lines} lines, {mb:.1f} MB, {n} keys written, "
                   f"{result.seconds:.2f} s ({mb / max(result.seconds, 1e-9):.1f} MB/s)"
                   + (f", {result.spilled_bytes / 1e6:.0f} MB spilled" if result.spilled_bytes else ""),
                   err=True)
