"""``textmine discover-words``: build a lexicon from raw text by minimum-entropy word discovery."""
import sys

import click

from textmine.cli._options import (format_options, header_option, input_options, jobs_option, memory_limit_option,
                                   output_option, quiet_option, read_options, record_options, resolve, show_progress,
                                   top_option)


@click.command("discover-words")
@input_options(doc_per_file=False)
@format_options()
@jobs_option
@output_option
@click.option("--min-count", type=click.IntRange(min=1), default=3, show_default=True,
              help="Minimum count of an n-gram and of a word.")
@click.option("--max-n", type=click.IntRange(2, 6), default=4, show_default=True,
              help="Longest n-gram counted (units); longer words need every MAX_N-window cohesive.")
@click.option("--min-pmi", default="1,3,5", show_default=True, metavar="T2,T3,...",
              help="Cohesion thresholds (nats) for 2-, 3-, ...-grams: min over splits of "
                   "ln(N·#w/(#left·#right)) must reach them; a short list grows by its last step.")
@click.option("--redundancy", default="3.5*(len-1)", show_default=True, metavar="K*(len-1)|len-1|FLOAT|none",
              help="De-redundancy: drop a word of n units when ln p(w) - Σ ln p(parts) of its best "
                   "re-segmentation is below K·(n-1) (len-1 is nlp-zero's K=1), below FLOAT, or never (none).")
@top_option
@click.option("--format", "fmt", type=click.Choice(["tsv", "jieba"]), default="tsv", show_default=True,
              help="tsv: word, count and scores; jieba: 'word freq' lines for jieba.set_dictionary.")
@header_option("word, count, cohesion, pmi, gain (tsv only), then ref_count, llr, log_ratio with --reference")
@memory_limit_option("2G", "n-gram counting. A corpus of at most SIZE/12 units (87 M units for 1G) is counted "
                     "whole; a larger one batch by batch, holding about SIZE of "
                     "partial counts before sorted runs spill to disk (the unit ids, 4 bytes per character, are "
                     "held besides).", minimum=1 << 20)
@click.option("--batch-chars", type=click.IntRange(min=1000), default=1 << 20, show_default=True,
              help="Characters per counting batch (the unit of -j parallelism).")
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
def discover_words(paths, glob, encoding, decode_errors, input_format, field, jobs, output, min_count, max_n, min_pmi,
                   redundancy, top, fmt, header, memory_limit, batch_chars, exclude, reference, sort, min_llr,
                   quiet):
    """Discover the words of a raw-text corpus (Chinese; Latin/digit runs are kept whole).

    Memory: 4 bytes per character for the unit ids, plus about --memory-limit for counting
    (beyond it, sorted runs of partial counts spill to disk), plus what grows with the distinct
    pieces and the lexicon. 1 GB of Chinese text (357 M characters) ran in a 4.1 GB peak RSS
    at the default limit, 2.5 GB at --memory-limit 512.

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

    Steps: exact 1..MAX_N-gram counts; a boundary survives unless a cohesive gram spans it;
    pieces below --min-count are dropped; longer pieces must be cohesive in every window;
    redundant words (beaten by their own parts) are dropped, longest first.
    Corpus statistics, including the per-character information L = H/l before and after,
    go to stderr.

    \b
      textmine discover-words corpus/ > lex.tsv
      textmine discover-words corpus/ --top 50000 --format jieba -o dict.txt
    """
    from textmine.corpus import iter_batches, make_shards
    from textmine.discover import discover_words as run, format_stats
    from textmine.formats import atomic_output, check_token

    opts = read_options(encoding, decode_errors)
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

    def batches():
        for shard in make_shards(files, opts=opts):
            yield from iter_batches(shard, opts, batch_chars=batch_chars)

    try:
        result = run(batches(), min_count=min_count, max_n=max_n, min_pmi=min_pmi, redundancy=redundancy,
                     n_jobs=jobs, memory_limit=memory_limit, progress=progress)
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
        click.echo(format_stats(result.stats), err=True)
        for line in (extra.messages if extra is not None else ()):
            click.echo(line, err=True)
