"""``textmine discover-words``: build a lexicon from raw text by minimum-entropy word discovery."""
import sys

import click

from textmine.cli._options import (absolute, engine_options, format_options, header_option, input_options,
                                   jobs_option, memory_limit_option, output_option, quiet_option, read_options,
                                   record_options, resolve, show_progress, top_option)


@click.command("discover-words")
@input_options(doc_per_file=False)
@format_options()
@jobs_option
@output_option
@click.option("--units", type=click.Choice(["chars", "tokens"]), default="chars", show_default=True,
              help="chars: a Han character or a whole Latin/digit run (unsegmented Chinese); tokens: a "
                   "whitespace-separated token (English, segmented Chinese), so that words are phrases.")
@click.option("--joiner", default=" ", show_default="one space", metavar="TEXT",
              help="--units tokens: written between the tokens of a phrase.")
@click.option("--min-count", type=click.IntRange(min=1), default=None, show_default="3; tokens 5",
              help="Minimum count of an n-gram and of a word.")
@click.option("--max-n", type=click.IntRange(2, 6), default=None, show_default="4; tokens 3",
              help="Longest n-gram counted (units); longer words need every MAX_N-window cohesive.")
@click.option("--min-pmi", default=None, show_default="1,3,5; tokens 4.5,5.5", metavar="T2,T3,...",
              help="Cohesion thresholds (nats) for 2-, 3-, ...-grams: min over splits of "
                   "ln(N·#w/(#left·#right)) must reach them; a short list grows by its last step.")
@click.option("--redundancy", default=None, show_default="3.5*(len-1); tokens len-1",
              metavar="K*(len-1)|len-1|FLOAT|none",
              help="De-redundancy: drop a word of n units when ln p(w) - Σ ln p(parts) of its best "
                   "re-segmentation is below K·(n-1) (len-1 is nlp-zero's K=1), below FLOAT, or never (none).")
@top_option
@click.option("--format", "fmt", type=click.Choice(["tsv", "jieba"]), default="tsv", show_default=True,
              help="tsv: word, count and scores; jieba: 'word freq' lines for jieba.set_dictionary.")
@header_option("word, count, cohesion, pmi, gain (tsv only), then ref_count, llr, log_ratio with --reference")
@memory_limit_option("2G", "the partial counts and map tasks of all processes together, besides a fixed 200 MB "
                     "per process (the parent and each of -j workers); what the kept n-grams and pieces "
                     "need counts against it (a warning says when they alone pass it). Each map task "
                     "reads about SIZE/32/JOBS of text (1 to 32 MB); sorted runs spill to disk beyond it.",
                     minimum=1 << 20)
@click.option("--batch-chars", type=click.IntRange(min=1000), default=1 << 20, show_default=True,
              help="Characters per batch within a map task.")
@engine_options
@click.option("--counts", metavar="DIR", default=None, type=click.Path(file_okay=False),
              help="Reuse the unit and n-gram counts of this corpus saved by textmine count -t units "
                   "--n MAX_N --save DIR (same result, one pass over the text instead of three).")
# --exclude / --reference / --sort / --min-llr: textmine/keyness.py
@click.option("--exclude", multiple=True, metavar="DICT", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write only words not in DICT (a jieba dictionary, textmine lexicon or plain word list, "
                   "one word per line), after discovery on the whole corpus; repeatable.")
@click.option("--reference", metavar="CORPUS_OR_COUNTS", type=click.Path(allow_dash=True),
              help="Keyness against a reference: raw text (segmented with the discovered lexicon) or "
                   "'textmine count' output (token<TAB>count); adds ref_count, llr (Dunning's G2) and "
                   "log_ratio (log2 of the relative-frequency ratio) and keeps over-represented words.")
@click.option("--sort", type=click.Choice(["count", "llr", "log_ratio"]), default=None,
              show_default="llr with --reference, else count",
              help="Row order: count (discovery's), llr or log_ratio (descending; these need --reference).")
@click.option("--min-llr", type=click.FloatRange(min=0), default=None, show_default="10.83, p < 0.001",
              help="With --reference: keep words whose llr reaches this (3.84 p<.05, 6.63 p<.01, 15.13 p<.0001).")
@quiet_option
def discover_words(paths, glob, encoding, decode_errors, input_format, field, jobs, output, units, joiner, min_count,
                   max_n, min_pmi, redundancy, top, fmt, header, memory_limit, batch_chars, engine, scheduler, counts,
                   exclude, reference, sort, min_llr, quiet):
    """Discover the words of raw Chinese text, or (--units tokens) the phrases of tokenised text.

    Units are Han characters and whole Latin/digit runs by default; with --units tokens they are
    the whitespace-separated tokens of English or segmented Chinese, and words are phrases.

    Three passes (unit counts, n-gram counts, cutting), each a map-reduce over byte-range
    shards on -j processes or Dask workers, as in textmine count; the output
    does not depend on -j or the engine. Memory, summed over the processes: at most about
    --memory-limit plus 200 MB per process (the parent and each of -j workers), not growing
    with the corpus length; the kept n-grams and pieces count against the limit, and if they
    alone pass it a warning on stderr gives their size. With the local engine the unit
    keys of the text (4 bytes per character) wait in $TMPDIR between passes, and standard input
    is copied there first.

    \b
    Output (UTF-8 TSV, no header unless --header), sorted by count descending, then code point:
      word       the word
      count      how often it is a piece after cutting, plus the counts of the longer words
                 removed as redundant that it is a part of (1 for a unit never alone)
      cohesion   min over splits of ln(N·#w/(#left·#right)) from exact n-gram counts (nats;
                 min over MAX_N-windows for longer words; empty for a single unit:
                 one character or one Latin/digit run)
      pmi        ln p(w) - Σ ln p(parts) against its best re-segmentation without it (nats;
                 empty for a single unit)
      gain       p(w)·(pmi - 1), the first-order drop of per-character entropy (minimum
                 entropy; empty for a single unit)
      ref_count, llr, log_ratio   with --reference only: the word's count in the reference,
                 Dunning's G2 of its 2x2 table and log2 of its frequency ratio (target/reference);
                 only words over-represented with llr >= --min-llr, sorted by --sort (llr)

    --units tokens runs the same steps with whitespace-separated tokens as units (as written: no
    case folding; a token without a letter, digit or Han character splits like punctuation);
    phrases join their tokens with --joiner; the defaults become --min-count 5 --max-n 3
    --min-pmi 4.5,5.5 --redundancy len-1 (chosen on the dev half of bench/data/collocations_en.txt
    and the labelled precision samples, bench/phrases.py).
    --counts and --reference take character units only.

    Steps: exact 1..MAX_N-gram counts; a boundary survives unless a cohesive gram spans it;
    pieces below --min-count are dropped; longer pieces must be cohesive in every window;
    redundant words (beaten by their own parts) are dropped, longest first.
    Corpus statistics, including the per-character information L = H/l before and after,
    go to stderr.

    \b
      textmine discover-words corpus/ > lex.tsv
      textmine discover-words corpus/ --top 50000 --format jieba -o dict.txt
      textmine discover-words --units tokens english.txt | grep ' ' | head   # phrases only
    """
    from textmine.discover import discover_words as run, format_stats
    from textmine.formats import atomic_output, check_token

    opts = read_options(encoding, decode_errors)
    if units == "tokens":
        for flag, value in (("--counts", counts), ("--reference", reference)):
            if value is not None:
                raise click.UsageError(f"{flag} takes character units; it cannot be used with --units tokens")
        if fmt == "jieba" and (not joiner or any(ch.isspace() for ch in joiner)):
            raise click.UsageError("--format jieba needs phrases without spaces: give --joiner a non-space "
                                   "separator (e.g. --joiner _)")
        if "\t" in joiner or "\n" in joiner or "\r" in joiner:
            raise click.BadParameter("must not hold a TAB, CR or LF", param_hint="--joiner")
    elif joiner != " ":
        raise click.UsageError("--joiner joins tokens: it needs --units tokens")
    if reference is None and (sort in ("llr", "log_ratio") or min_llr is not None):
        raise click.UsageError(f"{'--min-llr' if min_llr is not None else '--sort ' + sort} needs --reference")
    files = resolve(paths, glob)
    opts = record_options(opts, input_format, field, files)
    if exclude or reference is not None:  # bad --exclude files and a missing --reference stop before the work
        from textmine.keyness import check_reference, load_excludes
        exclude = load_excludes(exclude, opts) if exclude else exclude
        if reference is not None:
            check_reference(reference)
    progress = None
    bar = None
    if show_progress(quiet):
        from tqdm import tqdm

        bar = tqdm(unit="char", unit_scale=True, file=sys.stderr, desc="reading")
        progress = bar.update

    if engine == "dask":  # workers may run elsewhere, in another directory (stdin is read here)
        files = [absolute(p) for p in files]
    try:
        result = run(paths=files, read=opts, batch_chars=batch_chars, engine=engine, scheduler=scheduler,
                     min_count=min_count, max_n=max_n, min_pmi=min_pmi, redundancy=redundancy,
                     n_jobs=jobs, memory_limit=memory_limit, progress=progress, counts=counts, units=units,
                     joiner=joiner, warn=lambda m: click.echo(f"textmine: warning: {m}", err=True))
    finally:
        if bar is not None:
            bar.close()
    extra = None
    if exclude or reference is not None:  # textmine/keyness.py: new words only, keyness
        from textmine.keyness import format_columns, select, take
        extra = select(result, exclude, reference, sort, min_llr, read=opts, n_jobs=jobs)
        result = take(result, extra.rows)
    n = len(result.words) if top is None else min(top, len(result.words))
    with atomic_output(output) as out:
        if fmt == "jieba":
            out.write("".join(f"{check_token(w)} {c}\n" for w, c in zip(result.words[:n], result.counts[:n])))
        else:
            if header:
                out.write("word\tcount\tcohesion\tpmi\tgain" + ("\tref_count\tllr\tlog_ratio" if reference else "")
                          + "\n")
            words = [check_token(w) for w in result.words[:n]]
            cols = [[format(x, ".4g") if x == x else "" for x in col[:n]]
                    for col in (result.cohesion, result.pmi, result.gain)]
            more = format_columns(extra, 0, n) if extra is not None else [""] * n
            out.write("".join([f"{w}\t{c}\t{a}\t{b}\t{g}{m}\n"
                               for w, c, a, b, g, m in zip(words, result.counts[:n], *cols, more)]))
    if not quiet:
        click.echo("\n".join("textmine discover-words: " + x for x in format_stats(result.stats).split("\n")), err=True)
        for line in (extra.messages if extra is not None else ()):
            click.echo("textmine discover-words: " + line, err=True)
