"""``textmine neighbors``: a directed cosine kNN link list from word vectors."""
import click

from textmine.cli._options import output_option, quiet_option


@click.command("neighbors")
@click.argument("vectors", type=click.Path(allow_dash=False))
@click.option("-k", "--k", "k", type=click.IntRange(min=1), default=50, show_default=True,
              help="Neighbours per word (at most).")
@click.option("--min-sim", type=click.FloatRange(-1, 1), default=0.6, show_default=True,
              help="Minimum cosine similarity of a link.")
@click.option("--top", type=click.IntRange(min=1), default=None,
              help="Use only the first N vectors (word2vec files list the most frequent words first).")
@output_option
@quiet_option
def neighbors(vectors, k, min_sim, top, output, quiet):
    """Link each word to its K most similar words (cosine >= MIN_SIM) for `textmine cluster --directed`.

    VECTORS is a word2vec file (text or binary, e.g. from `textmine embed` or gensim). Output
    columns: word, neighbour, cosine; one line per directed link, by word then decreasing cosine.

    Memory: the vectors of the words kept (V x D float32) and up to K links per word.

    \b
      textmine neighbors vectors.txt --top 10000 --k 50 --min-sim 0.6 | textmine cluster --directed
    """
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output, read_word2vec
    from textmine.neighbors import knn_graph

    words, vecs = read_word2vec(vectors)
    if top is not None:
        words, vecs = words[:top], vecs[:top]
    for w in words:
        if any(ch.isspace() for ch in w):
            raise TextmineError(f"{vectors}: word {w!r} contains whitespace and cannot be a node id")
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
