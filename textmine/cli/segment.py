"""``textmine segment``: write the input line for line with its words separated."""
import sys
import time

import click

from textmine.cli._options import (dict_option, encoding_option, format_options, input_options, jobs_option,
                                   output_option, quiet_option, read_dictionary, read_options, record_options, resolve,
                                   show_progress)


@click.command("segment")
@input_options(doc_per_file=False)
@format_options(output_field=True)
@dict_option(what="Segment by maximum probability over its words.")
@encoding_option("--dict-encoding", " of the --dict and --user-dict dictionaries (--encoding is the corpus').")
@click.option("--model", metavar="MODEL", type=click.Path(),
              help="A trained character tagger (textmine.tagger) instead of a lexicon.")
@click.option("--user-dict", "user_dicts", multiple=True, metavar="USERDICT",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="User dictionary, with --dict or --model; repeatable. A line 'word' keeps the word whole "
                   "wherever it occurs (punctuation, digits and Latin letters included, e.g. C++; overlapping "
                   "user words: the longest, then the leftmost wins); 'word freq [tag]' (jieba's load_userdict) "
                   "adds the word with that frequency to the lexicon or the model's dictionary (for a model, 1 = "
                   "its rarest word), so it tunes rather than forces. For a word in several files the last "
                   "file wins. Blank and # lines are skipped; a malformed line is an error naming FILE:LINE.")
@click.option("--marginals", is_flag=True,
              help="Text and JSON Lines input: the probability of a word boundary after each character of "
                   "the input (4 decimals at most; 1 after the last character, after whitespace and "
                   "punctuation). Text: after each line's words a tab and one space-separated number per "
                   "character of the input line. JSON Lines: the record gets a list of numbers, one per "
                   "character of the field's original value (1 at its line breaks; a list of strings "
                   "gets a list of lists), under --marginals-field. Forward-backward in log space over "
                   "the --dict lattice (the unigram model's posterior) or the --model tagger (its scores "
                   "divided by the temperature it fitted on held-out data when trained).")
@click.option("--marginals-field", default="boundary_prob", show_default=True, metavar="NAME",
              help="With --marginals on JSON Lines: the key (or dotted path, made as needed) that receives "
                   "the probabilities; it must differ from --field and --output-field.")
@click.option("--review", type=click.IntRange(min=1), default=None, metavar="N",
              help="Text input only: instead of the text, list the N strings of the corpus whose "
                   "segmentation is least certain, the candidates for a --user-dict: columns string, "
                   "occurrences, mean ambiguity (1 - |2p - 1| of its least certain inner boundary; 1 = "
                   "a coin toss), its likely cut, and the first occurrence in context with the string "
                   "in [ ]. A string is a span of 2-12 characters between boundaries of probability "
                   ">= 0.95 with an inner boundary of probability > 0.05; ranked by occurrences x mean "
                   "ambiguity.")
@click.option("--temperature", type=click.FloatRange(min=0, min_open=True), default=None, metavar="THETA",
              help="With --marginals or --review: divide the path scores by this θ (default: the model's "
                   "fitted temperature; 1 with --dict). Smaller is sharper; the segmentation is unchanged.")
@click.option("--sep", default=" ", show_default=True, help="Separator written between words.")
@click.option("--unknown-score", type=float, default=None,
              help="Log-score of a character that is no word (default ln(1/total); nlp-zero uses -100).")
@click.option("--batch-lines", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Lines per batch (the unit of -j parallelism).")
@jobs_option
@output_option
@quiet_option
def segment(paths, glob, encoding, decode_errors, input_format, field, output_field, dict_path, dict_encoding, model,
            user_dicts, marginals, marginals_field, review, temperature, sep, unknown_score, batch_lines, jobs, output,
            quiet):
    """Segment text into words, line for line: maximum-probability DP over a lexicon (--dict),
    or a character tagger trained from a dictionary (--model, see train-segmenter).

    Each output line holds the words of the input line separated by SEP; whitespace is
    dropped, punctuation stands alone, Latin/digit runs stay whole, and a character that
    starts no lexicon word stands alone. A --dict word with punctuation or symbols (C++,
    AT&T, 《留守女士》) is kept whole wherever it occurs, as a --user-dict word without a
    frequency is (see --user-dict; a user dictionary's line for the same word wins).

    JSON Lines, CSV and TSV inputs are written back in their own format, record for record,
    with the field replaced by its segmented text (or put in --output-field): every other key
    and column flows through, in order. A document's line breaks are kept.

    Confidence: --marginals adds each character's boundary probability to every output line
    (text) or record (JSON Lines); --review N lists the N most ambiguous strings of the corpus
    (what to add to a --user-dict next). Both keep --user-dict words whole (probability 0
    inside them).

    Memory: the lexicon or model, plus one batch of lines per job (--batch-lines); it does not
    grow with the corpus. A progress bar (on a terminal) and a summary line go to stderr
    unless -q.

    \b
      textmine discover-words corpus/ > lex.tsv
      textmine segment --dict lex.tsv corpus/ | textmine count --tokenizer space
    """
    if (dict_path is None) == (model is None):
        raise click.UsageError("give exactly one of --dict DICT and --model MODEL")
    if dict_path == "-" and (not paths or "-" in paths):
        raise click.UsageError("--dict - and the corpus cannot both be stdin")
    if "-" in user_dicts and (not paths or "-" in paths or dict_path == "-" or user_dicts.count("-") > 1):
        raise click.UsageError("a --user-dict - and the corpus or --dict cannot both be stdin")
    if "\n" in sep or "\r" in sep:
        raise click.BadParameter("the separator cannot contain a line break", param_hint="--sep")
    if marginals and review is not None:
        raise click.UsageError("give one of --marginals and --review")
    if marginals and "\t" in sep:
        raise click.BadParameter("with --marginals a tab separates the words from the probabilities",
                                 param_hint="--sep")
    if temperature is not None and not (marginals or review):
        raise click.UsageError("--temperature applies to --marginals and --review")
    from textmine.corpus import iter_batches, make_shards
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output

    opts = read_options(encoding, decode_errors)
    files = resolve(paths, glob)
    opts = record_options(opts, input_format, field, files)
    from textmine.corpus import input_format as format_of

    formats = sorted({format_of(p, opts) for p in files})
    if len(formats) > 1:
        raise click.UsageError(f"the inputs mix formats ({', '.join(formats)}); segment them separately")
    if output_field is not None and formats == ["text"]:
        raise click.UsageError("--output-field applies to jsonl, csv and tsv inputs")
    if review and formats != ["text"]:
        raise click.UsageError("--review applies to text input")
    if marginals and formats not in (["text"], ["jsonl"]):
        raise click.UsageError("--marginals applies to text and jsonl input")
    if marginals and formats == ["jsonl"]:
        if not marginals_field or marginals_field in (opts.field or "text", output_field):
            raise click.BadParameter("give a name other than --field and --output-field",
                                     param_hint="--marginals-field")
    if formats == ["tsv"] and "\t" in sep:
        raise click.BadParameter("a TSV cell cannot hold a tab", param_hint="--sep")
    from textmine.segment import UserDict, read_user_dict

    read_options(dict_encoding, "strict", "--dict-encoding", "")  # an unknown codec fails before reading
    entries = [e for p in user_dicts for e in read_user_dict(p, dict_encoding)]
    user = UserDict(entries)
    if dict_path is not None:
        from textmine.segment import Segmenter, symbol_words

        words, counts = read_dictionary(dict_path, dict_encoding, "--dict-encoding")
        sym = symbol_words(words)
        if sym:  # lexicon words with punctuation (C++, AT&T) stay whole; user dictionaries still win
            user = UserDict([(w, None) for w in sym] + entries)
        if user.weighted:  # a user frequency replaces the lexicon's
            index = {w: i for i, w in enumerate(words)}
            words, counts = list(words), list(counts)
            for w, f in user.weighted.items():
                if w in index:
                    counts[index[w]] = f
                else:
                    words.append(w)
                    counts.append(f)
        seg = Segmenter(words, counts, unknown_score=unknown_score)

        def base(lines):
            return seg.segment_lines(lines, n_jobs=jobs, batch_size=max(1, batch_lines // max(1, jobs)))

        def run(lines):
            return user.apply(lines, base)

        def base_marg(lines):
            return seg.marginals_lines(lines, n_jobs=jobs, batch_size=max(1, batch_lines // max(1, jobs)),
                                       temperature=1.0 if temperature is None else temperature)
    else:
        if unknown_score is not None:
            raise click.UsageError("--unknown-score applies to --dict only")
        from textmine.tagger import load_model

        tagger = load_model(model, n_jobs=jobs)
        if user.weighted and not tagger.uses_dictionary:
            if not quiet:
                click.echo("textmine segment: the model has no dictionary features (--features ngram); user words "
                           "with a frequency are kept whole instead", err=True)
            user = UserDict([(w, None) for w in sorted(user.forced | set(user.weighted))])
        tagger = tagger.with_words(user.weighted)

        def run(lines):  # the tagger keeps whitespace runs as tokens; --dict drops them
            return [[w for w in words if not w.isspace()] for words in user.apply(lines, tagger.segment_lines)]

        if marginals or review:
            tagger._temperature(temperature)  # a model without a fitted temperature fails before reading

        def base_marg(lines):
            return tagger.marginals_lines(lines, temperature)

    def run_marg(lines):
        return user.apply_marginals(lines, base_marg)

    reviewer = None
    if review is not None:
        from textmine.segment import AmbiguityReview

        reviewer = AmbiguityReview()

    bar = None
    if show_progress(quiet):
        from tqdm import tqdm

        bar = tqdm(unit="char", unit_scale=True, file=sys.stderr, desc="segmenting")
    start, n_lines, n_words, n_chars = time.perf_counter(), 0, 0, 0
    try:
        with atomic_output(output) as out:
            if formats != ["text"]:
                n_lines, n_words, n_chars = _segment_records(files, opts, run, sep, output_field, out, bar,
                                                             batch_lines * 100 * max(1, jobs),
                                                             run_marg if marginals else None, marginals_field)
            for shard in make_shards(files, opts=opts) if formats == ["text"] else ():
                for lines in iter_batches(shard, opts, batch_chars=batch_lines * 100 * max(1, jobs)):
                    if reviewer is not None:
                        reviewer.add(lines, run_marg(lines))
                        segmented = ()
                    elif marginals:
                        segmented = run(lines)
                        out.write("".join(sep.join(words) + "\t" + _probabilities(p) + "\n"
                                          for words, p in zip(segmented, run_marg(lines))))
                    else:
                        segmented = run(lines)
                        out.write("".join(sep.join(words) + "\n" for words in segmented))
                    chars = sum(map(len, lines))
                    n_lines, n_chars = n_lines + len(lines), n_chars + chars
                    n_words += sum(map(len, segmented))
                    if bar is not None:
                        bar.update(chars)
            if n_chars == 0:  # raised inside: an -o file is not written
                from textmine.corpus import display
                raise TextmineError(f"no text to segment in {', '.join(map(display, files[:3]))}"
                                    f"{' ...' if len(files) > 3 else ''} (empty input)")
            if reviewer is not None:
                out.write("".join(f"{w}\t{c}\t{a:.3f}\t{cut}\t{ctx}\n" for w, c, a, cut, ctx in reviewer.top(review)))
    finally:
        if bar is not None:
            bar.close()
    sys.stdout.flush()
    if not quiet:
        seconds = time.perf_counter() - start
        unit = "lines" if formats == ["text"] else "records"
        if reviewer is not None:
            n_words = len(reviewer.stats_)
        click.echo(f"textmine segment: {n_lines} {unit}, {n_chars:,} characters, {n_words:,} "
                   f"{'distinct ambiguous strings' if reviewer is not None else 'words'}, "
                   f"{seconds:.2f} s ({n_chars / max(seconds, 1e-9) / 1e6:.2f} M chars/s)", err=True)


def _segment_records(files, opts, run, sep, output_field, out, bar, block_bytes, run_marg=None,
                     marginals_field=None):
    """Segment the field of every JSON Lines, CSV or TSV record and write the records back; with
    ``run_marg`` (JSON Lines) each record also gets its boundary probabilities under ``marginals_field``.

    Returns the records, words and characters seen."""
    from textmine.corpus import format_header, format_records, iter_records, make_shards, set_field

    n_records = n_words = n_chars = 0
    header = first = None
    for shard in make_shards(files, opts=opts):
        for k, batch in enumerate(iter_records(shard, opts, block_bytes)):
            if k == 0 and not shard.start and batch.header is not None:
                if header is None:
                    header, first = batch.header, shard.path
                    out.write(format_header(batch, output_field))
                elif batch.header != header:
                    raise click.ClickException(f"{shard.path}: its columns differ from those of {first}; "
                                               "segment the files separately")
            pieces = [[v] if type(v) is str else v for v, _ in batch]
            lines = [line[:-1] if line.endswith("\r") else line
                     for items in pieces for item in items for line in item.split("\n")]
            segmented = run(lines)
            n_words += sum(map(len, segmented))
            segmented = iter(segmented)
            values = []
            for v, items in zip(batch, pieces):
                done = ["\n".join(sep.join(next(segmented)) for _ in item.split("\n")) for item in items]
                values.append(done[0] if type(v[0]) is str else done)
            if run_marg is not None:
                probs = iter(run_marg(lines))
                name = output_field or opts.field or "text"
                for (v, obj), items, value in zip(batch, pieces, values):
                    set_field(obj, name, value)  # the text first: a new output field precedes the numbers
                    done = [_item_probabilities(item, probs) for item in items]
                    set_field(obj, marginals_field, done[0] if type(v) is str else done)
            out.write(format_records(batch, values, opts.field, output_field))
            chars = sum(map(len, lines))
            n_records, n_chars = n_records + len(batch), n_chars + chars
            if bar is not None:
                bar.update(chars)
    return n_records, n_words, n_chars


def _probabilities(p):
    """Space-separated probabilities, at most 4 decimals, trailing zeros dropped (1, 0, 0.25)."""
    return " ".join(("%.4f" % v).rstrip("0").rstrip(".") for v in p.tolist())


def _item_probabilities(item, probs):
    """One number per character of ``item`` (a field value) from the marginals of its lines, taken
    from ``probs`` in order: 1 at each line break (and at the ``\\r`` of a ``\\r\\n``)."""
    out = []
    parts = item.split("\n")
    for k, part in enumerate(parts):
        out.extend(float("%.4f" % x) for x in next(probs).tolist())
        if part.endswith("\r"):
            out.append(1.0)
        if k < len(parts) - 1:
            out.append(1.0)
    return out
