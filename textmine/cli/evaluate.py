"""``textmine evaluate``: word-pair similarity and analogy accuracy of word vectors."""
import click

from textmine.cli._options import output_option, quiet_option, vector_options


@click.command("evaluate", context_settings={"allow_extra_args": True})
@click.argument("vectors", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--pairs", "pair_files", multiple=True, metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True),
              help="Word-pair file (word1 word2 score ..., TAB- or space-separated; '#' lines and a header "
                   "skipped); repeatable.")
@click.option("--score-column", type=click.IntRange(min=3), default=3, show_default=True,
              help="Column (1-based) of the human score in the --pairs files.")
@click.option("--analogies", "analogy_files", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Analogy file in word2vec's questions-words format (': section' lines, then 'a b c d'); "
                   "repeatable.")
@click.option("--method", type=click.Choice(["3cosadd", "3cosmul"]), multiple=True,
              help="Analogy method; repeatable (default: 3cosadd).")
@click.option("--restrict-vocab", type=click.IntRange(min=1), default=None, metavar="N",
              help="Only the first N words of VECTORS (the most frequent) count as known and as answers, "
                   "like gensim's restrict_vocab (default: all).")
@click.option("--ignore-case", is_flag=True,
              help="Match words case-insensitively (gensim's case_insensitive=True).")
@click.option("--json", "as_json", is_flag=True, help="Write JSON (one object) instead of TSV.")
@vector_options
@output_option
@quiet_option
@click.pass_context
def evaluate(ctx, vectors, pair_files, score_column, analogy_files, method, restrict_vocab, ignore_case, as_json, encoding,
             decode_errors, limit, output, quiet):
    """Score the word vectors in VECTORS (word2vec text or binary, GloVe text without the
    header, also gzip, bzip2 or xz compressed, - for stdin) on word-pair
    similarity sets (Spearman's rho of cosine against the human scores) and on analogy
    questions (accuracy per section and overall).

    Output (TSV): 'pairs<TAB>FILE<TAB>spearman<TAB>pearson<TAB>used<TAB>oov' per --pairs file;
    'analogy<TAB>FILE<TAB>METHOD<TAB>SECTION<TAB>accuracy<TAB>correct<TAB>answered<TAB>oov' per section,
    SECTION 'total' last. Pairs or questions with a word outside the vocabulary are skipped and
    counted (oov). The numbers equal gensim's evaluate_word_pairs and evaluate_word_analogies.
    --encoding also applies to the --pairs and --analogies files.

    \b
      textmine evaluate words.vec --pairs wordsim353.tsv --pairs simlex999.txt
      textmine evaluate words.vec --analogies questions-words.txt --restrict-vocab 30000 --json
    """
    import json

    from textmine.cli._options import read_vectors
    from textmine.corpus import display
    from textmine.errors import TextmineError
    from textmine.evaluate import evaluate_analogies, evaluate_word_pairs, read_analogies, read_word_pairs
    from textmine.formats import atomic_output

    if ctx.args:  # 'evaluate words.vec simlex999.txt': say how to pass the file rather than Click's bare refusal
        raise click.UsageError(f"unexpected argument {ctx.args[0]!r}: give word-pair files with --pairs FILE and "
                               "analogy files with --analogies FILE")
    if not pair_files and not analogy_files:
        raise click.UsageError("nothing to evaluate: give --pairs FILE and/or --analogies FILE")
    methods = list(dict.fromkeys(method or ("3cosadd",)))
    if [vectors, *pair_files, *analogy_files].count("-") > 1:
        raise click.UsageError("only one of VECTORS, --pairs and --analogies can be stdin")
    pair_sets, headers = [], []
    for p in pair_files:
        stats = {}
        pair_sets.append((p, read_word_pairs(p, score_column, encoding, stats=stats)))
        headers.append(stats["header"])
    for (path, pairs), header in zip(pair_sets, headers):  # before reading VECTORS, which may be large
        if not pairs:
            raise TextmineError(f"{display(path)}: no usable pairs (no line with two words and a score)")
        if header is not None and not quiet:
            click.echo(f"textmine evaluate: {display(path)}:{header[0]}: skipped as a header (its column "
                       f"{score_column} is not a number): {header[1][:60]!r}", err=True)
    analogy_sets = [(p, read_analogies(p, encoding)) for p in analogy_files]
    words, vecs = read_vectors(vectors, encoding, decode_errors, limit, quiet, "textmine evaluate")
    result = {"vectors": display(vectors), "words": len(words), "dim": int(vecs.shape[1]), "pairs": [],
              "analogies": []}
    for path, pairs in pair_sets:
        try:
            r = evaluate_word_pairs(words, vecs, pairs, restrict_vocab, ignore_case)
        except TextmineError as e:
            raise TextmineError(f"{display(path)}: {e}") from None
        result["pairs"].append(dict(file=display(path), **r))
    for path, sections in analogy_sets:
        for m in methods:
            r = evaluate_analogies(words, vecs, sections, m, restrict_vocab, ignore_case)
            if r["total"] == 0:
                raise TextmineError(f"{display(path)}: no usable questions: none of the {r['oov']} has its four "
                                    "words in the vocabulary" + (" (see --restrict-vocab)" if restrict_vocab else ""))
            result["analogies"].append(dict(file=display(path), method=m, **r))
    with atomic_output(output) as out:
        if as_json:
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
        else:
            for r in result["pairs"]:
                out.write(f"pairs\t{r['file']}\t{r['spearman']:.6f}\t{r['pearson']:.6f}\t{r['used']}\t{r['oov']}\n")
            for r in result["analogies"]:
                for s in r["sections"] + [dict(r, section="total")]:
                    out.write(f"analogy\t{r['file']}\t{r['method']}\t{s['section']}\t{s['accuracy']:.6f}\t"
                              f"{s['correct']}\t{s['total']}\t{s['oov']}\n")
    if not quiet:
        for r in result["pairs"]:
            click.echo(f"textmine evaluate: {r['file']}: rho {r['spearman']:.3f} on {r['used']} of {r['pairs']} pairs "
                       f"({r['oov']} out of vocabulary)", err=True)
        for r in result["analogies"]:
            click.echo(f"textmine evaluate: {r['file']} ({r['method']}): {r['correct']}/{r['total']} correct "
                       f"({r['accuracy']:.3f}), {r['oov']} questions out of vocabulary", err=True)
