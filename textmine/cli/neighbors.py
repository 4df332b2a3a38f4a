"""``textmine neighbors``: a directed cosine kNN link list from word vectors."""
import click

from textmine.cli._options import alias_target, deprecated_alias, k_option, output_option, quiet_option, vector_options


@click.command("neighbors")
@click.argument("vectors", type=click.Path(allow_dash=True, dir_okay=False))
@k_option(50)
@click.option("--min-sim", type=click.FloatRange(-1, 1), default=0.6, show_default=True,
              help="Minimum cosine similarity of a link.")
@vector_options(limit_names=("--limit", "--max-vectors"), limit_callback=alias_target("limit"))
@deprecated_alias("--top", "limit", click.IntRange(min=1), "--max-vectors")
@output_option
@quiet_option
def neighbors(vectors, k, min_sim, encoding, decode_errors, limit, output, quiet):
    """Link each word to its K most similar words (cosine >= MIN_SIM) for `textmine cluster --directed`.

    VECTORS is a word2vec file (text or binary, e.g. from `textmine embed` or gensim; or GloVe
    text, without the header; also gzip, bzip2 or xz compressed), - for stdin. Output columns: word, neighbour, cosine; one line per directed link, by word then
    decreasing cosine.

    Memory: the vectors up to --limit (V x D float32) and up to K links per word.

    \b
      textmine neighbors vectors.txt.gz --limit 10000 -k 50 --min-sim 0.6 | textmine cluster --directed
    """
    from textmine.cli._options import read_vectors
    from textmine.corpus import display
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output
    from textmine.neighbors import knn_graph

    words, vecs = read_vectors(vectors, encoding, decode_errors, limit, quiet, "textmine neighbors")
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
        click.echo(f"textmine neighbors: {len(words)} words, {src.size} links, {linked} words with a neighbour "
                   f"(k {k}, min cosine {min_sim})", err=True)
