"""``textmine similar``: nearest words by cosine in a word2vec file, analogies, query lists."""
import click

from textmine.cli._options import deprecated_alias, header_option, k_option, output_option, quiet_option, vector_options


@click.command("similar")
@click.argument("vectors", type=click.Path(allow_dash=True, dir_okay=False))
@click.argument("words", nargs=-1)
@click.option("--minus", "--negative", "minus", multiple=True, metavar="WORD",
              help="Subtract WORD (an analogy: similar V king woman --minus man); repeatable. --negative is the "
                   "same option under gensim's name (most_similar's negative=).")
@click.option("--cosmul", is_flag=True,
              help="Rank by 3CosMul (Levy and Goldberg 2014; gensim's most_similar_cosmul) instead of 3CosAdd, "
                   "the cosine to the sum of the unit vectors (gensim's most_similar); the score is then not a "
                   "cosine.")
@click.option("--queries", type=click.Path(allow_dash=True, dir_okay=False), metavar="FILE",
              help="Read the queries from FILE (- for stdin), one per line: words separated by whitespace, "
                   "'-WORD' subtracts WORD, '+WORD' adds it (for a word that starts with - or +). Blank lines are "
                   "skipped; a query with a word outside the vocabulary is skipped and counted on stderr.")
@k_option(10)
@deprecated_alias("--top", "k", click.IntRange(min=1), "-k")
@header_option("word<TAB>cosine; with --queries query<TAB>word<TAB>cosine; 'score' for 'cosine' with --cosmul")
@vector_options
@output_option
@quiet_option
def similar(vectors, words, minus, cosmul, queries, k, header, encoding, decode_errors, limit, output, quiet):
    """The K words nearest to WORDS by cosine in VECTORS (word2vec text or binary, GloVe text without
    the header, also gzip, bzip2 or xz compressed, - for stdin).

    With one WORD, its nearest words. With several, and with --minus, the nearest words to
    their sum (each as a unit vector, negatives subtracted), the query words left out: an
    analogy, as gensim's most_similar(positive, negative), or most_similar_cosmul with --cosmul.

    Output: 'word<TAB>cosine' lines, best first. With --queries, one block of K lines per
    query, in input order: 'query<TAB>word<TAB>cosine', where query is the line's words joined
    by single spaces (negatives written '-WORD').

    Memory: the vector file up to --limit (V x D float32, twice while ranking).

    \b
      textmine embed corpus.txt -o words.vec && textmine similar words.vec king -k 5
      textmine similar words.vec king woman --minus man -k 1
      textmine similar words.vec --queries analogies.txt -k 3
    """
    from textmine.cli._options import read_vectors
    from textmine.corpus import display
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output
    from textmine.neighbors import most_similar_many, read_queries

    if queries is not None and (words or minus):
        raise click.UsageError("give WORD... (and --minus) or --queries FILE, not both")
    if queries is None and not words:
        raise click.UsageError("give the query: WORD... (and --minus WORD) or --queries FILE")
    if queries == "-" and vectors == "-":
        raise click.UsageError("VECTORS and --queries cannot both be stdin")
    method = "3cosmul" if cosmul else "3cosadd"
    query_list = None if queries is None else read_queries(queries, encoding)
    vocab, vecs = read_vectors(vectors, encoding, decode_errors, limit, quiet, "textmine similar")
    score = "score" if cosmul else "cosine"
    if query_list is None:
        result = most_similar_many(vocab, vecs, [(list(words), list(minus))], k, method)[0]
        with atomic_output(output) as out:
            if header:
                out.write(f"word\t{score}\n")
            out.write("".join(f"{w}\t{s:.6f}\n" for w, s in result))
        if not quiet:
            what = " ".join(list(words) + [f"-{w}" for w in minus])
            click.echo(f"textmine similar: {len(vocab)} words of {vecs.shape[1]} dimensions; "
                       f"the {len(result)} nearest to {what!r}", err=True)
        return
    known = set(vocab)
    usable, skipped = [], []
    for q in query_list:
        missing = [w for w in q.positive + q.negative if w not in known]
        (skipped if missing else usable).append((q, missing))
    if not usable:
        q, missing = skipped[0] if skipped else (None, None)
        raise TextmineError(f"{display(queries)}: no query to answer" + (
            f": every query has a word outside the vocabulary (line {q.line}: {missing[0]!r})" if q else
            " (empty input)"))
    results = most_similar_many(vocab, vecs, [(q.positive, q.negative) for q, _ in usable], k, method)
    with atomic_output(output) as out:
        if header:
            out.write(f"query\tword\t{score}\n")
        for (q, _), result in zip(usable, results):
            out.write("".join(f"{q.text}\t{w}\t{s:.6f}\n" for w, s in result))
    if not quiet:
        click.echo(f"textmine similar: {len(vocab)} words of {vecs.shape[1]} dimensions; {len(usable)} queries "
                   f"answered", err=True)
    if skipped:  # said even under -q: a skipped query is missing from the output
        q, missing = skipped[0]
        click.echo(f"textmine similar: {len(skipped)} quer{'ies' if len(skipped) != 1 else 'y'} skipped, a word "
                   f"outside the vocabulary (first: {display(queries)}:{q.line}: {missing[0]!r})", err=True)
