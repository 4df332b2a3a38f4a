"""``textmine train-segmenter``: train a segmenter from a word-frequency dictionary alone."""
import os
import sys

import click

from textmine.cli._options import (check_output, dict_option, encoding_option, jobs_option, quiet_option,
                                   read_dictionary, seed_option)


@click.command("train-segmenter")
@dict_option(required=True, what="The words to learn, drawn in proportion to their frequency.")
@encoding_option(what=" of the --dict dictionary; a UTF-8 BOM is dropped.")
@click.option("-o", "--output", required=True, type=click.Path(allow_dash=False), metavar="MODEL",
              callback=check_output,
              help="Model file to write (zip of meta.json + .npy arrays), written atomically.")
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True,
              help="Training passes; each draws fresh synthetic samples.")
@click.option("--samples", type=click.IntRange(min=1), default=400_000, show_default=True,
              help="Synthetic samples (1-16 words, at most 48 characters) drawn per pass.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.15, show_default=True,
              help="With ngram+dict/ngram+match: share of dictionary words hidden from the dictionary "
                   "features in each pass, so the model learns to find unknown words.")
@click.option("--features", type=click.Choice(["ngram", "ngram+dict", "ngram+match"]), default="ngram",
              show_default=True,
              help="ngram: character n-grams only (the tagger of kexue.fm 4245; segments finer); "
                   "ngram+dict: the hybrid, n-grams plus dictionary-match and dictionary-DP features (follows "
                   "the dictionary's word boundaries; best when it shares the target's standard); "
                   "ngram+match: n-grams plus match lengths.")
@click.option("--bits", type=click.IntRange(12, 26), default=22, show_default=True,
              help="log2 of the number of hashed feature rows.")
@seed_option
@jobs_option
@quiet_option
def train_segmenter(dict_path, encoding, output, epochs, samples, dropout, features, bits, seed, jobs, quiet):
    """Train a word segmenter from a word-frequency dictionary alone (kexue.fm 4245).

    Synthetic text is drawn by sampling words in proportion to their frequency, every character is
    labelled B/M/E/S, and an averaged structured perceptron learns to tag it;
    `textmine segment --model MODEL` then decodes with Viterbi. The model depends on --seed and
    the options, not on -j. DICT may be - (stdin). Training statistics go to stderr.

    Memory: grows with the dictionary, the synthetic training text (--samples) and the hashed
    weight table (2^--bits rows of 4 tags, with its averaging copy).

    \b
      textmine train-segmenter --dict dict.txt -o seg.model
      textmine segment --model seg.model corpus.txt > corpus.seg
    """
    if output == "-":
        raise click.BadParameter("the model is a binary file; give a file name", param_hint="-o/--output")
    out_dir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(out_dir):  # fail before training, not after
        raise click.BadParameter(f"directory {out_dir} does not exist", param_hint="-o/--output")
    from textmine.cli._options import read_options
    from textmine.tagger import train_segmenter as train

    read_options(encoding)  # an unknown codec is an error before anything is read
    words, counts = read_dictionary(dict_path, encoding)
    verbose = not quiet

    def progress(epoch, info):
        if verbose:
            click.echo(f"epoch {epoch}/{epochs}: {info['samples']} samples, {info['chars']} chars, "
                       f"{info['sample_error_rate']:.3f} of samples mis-tagged, {info['seconds']:.1f} s", err=True)

    model = train(words, counts, epochs=epochs, n_samples=samples, dropout=dropout, features=features,
                  nbits=bits, random_state=seed, n_jobs=jobs, progress=progress)
    model.save(output)
    if verbose:
        click.echo(f"trained on {len(model.words_)} dictionary words in {model.stats['train_seconds']:.1f} s; "
                   f"model written to {output}", err=True)
    sys.stderr.flush()
