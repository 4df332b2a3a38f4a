"""``textmine similar``: nearest words by cosine in a word2vec file."""
import click


@click.command("similar")
@click.argument("vectors", type=click.Path(dir_okay=False))
@click.argument("word")
@click.option("-k", "--top", "k", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many neighbours.")
@click.option("--header", is_flag=True, help="Write a 'word<TAB>cosine' name line first.")
def similar(vectors, word, k, header):
    """The K words nearest to WORD by cosine in VECTORS (word2vec text or binary).

    Output: 'word<TAB>cosine' lines, best first, WORD itself left out.

    Memory: the whole vector file (V x D float32).

    \b
      textmine embed corpus.txt -o words.vec && textmine similar words.vec king -k 5
    """
    from textmine.formats import atomic_output, read_word2vec
    from textmine.jose import most_similar

    words, vecs = read_word2vec(vectors)
    pairs = most_similar(words, vecs, word, k)
    with atomic_output("-") as out:
        if header:
            out.write("word\tcosine\n")
        out.write("".join(f"{w}\t{s:.6f}\n" for w, s in pairs))
