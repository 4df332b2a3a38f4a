"""``textmine neighbors``: a directed cosine kNN link list from word vectors."""
import click

from textmine.cli._options import (AliasedOption, alias_target, deprecated_alias, encoding_option, k_option,
                                   output_option, quiet_option)


@click.command("neighbors")
@click.argument("vectors", type=click.Path(allow_dash=True, dir_okay=False))
@k_option(50)
@click.option("--min-sim", type=click.FloatRange(-1, 1), default=0.6, show_default=True,
              help="Minimum cosine similarity of a link.")
@click.option("--max-vectors", cls=AliasedOption, type=click.IntRange(min=1), default=None, metavar="N",
              callback=alias_target("max_vectors"),
              help="Use only the first N vectors (word2vec files list the most frequent words first).")
@deprecated_alias("--top", "max_vectors", click.IntRange(min=1), "--max-vectors")
@encoding_option(what=" of the words of VECTORS (text or binary); a UTF-8 BOM is dropped.")
@output_option
@quiet_option
def neighbors(vectors, k, min_sim, max_vectors, encoding, output, quiet):
    """Link each word to its K most similar words (cosine >= MIN_SIM) for `textmine cluster --directed`.

    VECTORS is a word2vec file (text or binary, e.g. from `textmine embed` or gensim), - for
    stdin. Output columns: word, neighbour, cosine; one line per directed link, by word then
    decreasing cosine.

    Memory: the whole file, the vectors (V x D float32) and up to K links per word.

    \b
      textmine neighbors vectors.txt --max-vectors 10000 -k 50 --min-sim 0.6 | textmine cluster --directed
    """
    from textmine.corpus import display
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output, read_word2vec
    from textmine.neighbors import knn_graph

    words, vecs = read_word2vec(vectors, encoding=encoding)
    if not words:
        raise TextmineError(f"{display(vectors)}: no vectors (empty input)")
    if max_vectors is not None:
        words, vecs = words[:max_vectors], vecs[:max_vectors]
    for w in words:
        if any(ch.isspace() for ch in w):
            raise TextmineError(f"{display(vectors)}: word {w!r} contains whitespace and cannot be a node id")
    src, dst, sim = knn_graph(vecs, k=k, min_sim=min_sim)
    with atomic_output(output) as out:
        chunk = []
        for s, d, c in zip(src.tolist(), dst.tolist(), sim.tolist()):
            chunk.append(f"{words[s]}\t{words[d]}\t{c:.6g}\n")
            if len(chunk) >= 8192:
                out.write("".join(chunk))
                chunk = []
        out.write("".join(chunk))
    if not quiet:
        linked = len(set(src.tolist()))
        click.echo(f"{len(words)} words, {src.size} links, {linked} words with a neighbour "
                   f"(k {k}, min cosine {min_sim})", err=True)
