"""``textmine similar``: nearest words by cosine in a word2vec file."""
import click

from textmine.cli._options import deprecated_alias, encoding_option, header_option, k_option, output_option, quiet_option


@click.command("similar")
@click.argument("vectors", type=click.Path(allow_dash=True, dir_okay=False))
@click.argument("word")
@k_option(10)
@deprecated_alias("--top", "k", click.IntRange(min=1), "-k")
@header_option("word<TAB>cosine")
@encoding_option(what=" of the words of VECTORS (text or binary); a UTF-8 BOM is dropped.")
@output_option
@quiet_option
def similar(vectors, word, k, header, encoding, output, quiet):
    """The K words nearest to WORD by cosine in VECTORS (word2vec text or binary, - for stdin).

    Output: 'word<TAB>cosine' lines, best first, WORD itself left out.

    Memory: the whole vector file (V x D float32).

    \b
      textmine embed corpus.txt -o words.vec && textmine similar words.vec king -k 5
    """
    from textmine.corpus import display
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output, read_word2vec
    from textmine.jose import most_similar

    words, vecs = read_word2vec(vectors, encoding=encoding)
    if not words:
        raise TextmineError(f"{display(vectors)}: no vectors (empty input)")
    pairs = most_similar(words, vecs, word, k)
    with atomic_output(output) as out:
        if header:
            out.write("word\tcosine\n")
        out.write("".join(f"{w}\t{s:.6f}\n" for w, s in pairs))
    if not quiet:
        click.echo(f"textmine similar: {len(words)} words of {vecs.shape[1]} dimensions; "
                   f"the {len(pairs)} nearest to {word!r}", err=True)
