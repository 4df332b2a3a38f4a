"""``textmine train-segmenter``: train a segmenter from gold segmented text or a word-frequency dictionary."""
import os
import sys

import click

from textmine.cli._options import (check_output, dict_option, encoding_option, jobs_option, quiet_option,
                                   read_dictionary, seed_option)


@click.command("train-segmenter")
@click.option("--gold", "gold_paths", multiple=True, metavar="SEGMENTED",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Gold segmented text to learn from: one sentence per line, words separated by whitespace "
                   "(spaces, tabs, full-width spaces; CRLF accepted; empty lines skipped). Repeat for several "
                   "files; - is stdin.")
@click.option("--dev", "dev_paths", multiple=True, metavar="SEGMENTED",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="With --gold: held-out gold text (same layout, never trained on) on which the temperature of "
                   "the boundary marginals (segment --marginals) is fitted. Repeatable.")
@click.option("--dev-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.1, show_default=True,
              help="With --gold and no --dev: hold out the last part of the gold sentences, train on the rest, "
                   "report its F and fit the temperature of the marginals on it; then train again on all "
                   "sentences (the model --dev-fraction 0 gives; about twice the training time) unless "
                   "--no-refit. 0: no held-out part and no temperature (segment --marginals then needs "
                   "--temperature).")
@click.option("--refit/--no-refit", default=True, show_default=True,
              help="With --dev-fraction > 0: train the final model on all gold sentences (default), or keep "
                   "the one trained without the held-out part.")
@dict_option(what="Without --gold: the words to learn, drawn in proportion to their frequency. With --gold: "
                  "extra words for the dictionary features (counts added to the training words').")
@encoding_option(what=" of the --dict dictionary and the --gold files; a UTF-8 BOM is dropped.")
@click.option("-o", "--output", required=True, type=click.Path(allow_dash=False), metavar="MODEL",
              callback=check_output,
              help="Model file to write (zip of meta.json + .npy arrays), written atomically.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Training passes; each draws fresh synthetic samples (--dict alone) or visits the gold "
                   "sentences in a fresh shuffled order (--gold). Default: 5 (--dict), 10 (--gold).")
@click.option("--samples", type=click.IntRange(min=1), default=None,
              help="--dict alone: synthetic samples (1-16 words, at most 48 characters) drawn per pass. "
                   "Default: 400000.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.15, show_default=True,
              help="With ngram+dict/ngram+match: share of dictionary words hidden from the dictionary "
                   "features in each pass, so the model learns to find unknown words.")
@click.option("--features", type=click.Choice(["ngram", "ngram+dict", "ngram+match", "ngram+dict+type"]),
              default=None,
              help="ngram: character n-grams only (the tagger of kexue.fm 4245; segments finer); "
                   "ngram+dict: the hybrid, n-grams plus dictionary-match and dictionary-DP features (follows "
                   "the dictionary's word boundaries; best when it shares the target's standard); "
                   "ngram+match: n-grams plus match lengths; ngram+dict+type: ngram+dict plus character types "
                   "and reduplication (Tseng et al. 2005). Default: ngram (--dict alone), ngram+dict+type "
                   "(--gold, whose dictionary is the training words plus --dict).")
@click.option("--bits", type=click.IntRange(12, 26), default=22, show_default=True,
              help="log2 of the number of hashed feature rows.")
@seed_option
@jobs_option
@quiet_option
def train_segmenter(gold_paths, dev_paths, dev_fraction, refit, dict_path, encoding, output, epochs, samples, dropout,
                    features, bits, seed, jobs, quiet):
    """Train a word segmenter from gold segmented text (--gold) or a word-frequency dictionary alone
    (--dict, kexue.fm 4245).

    With --gold, an averaged structured perceptron learns B/M/E/S tags of the characters of real
    sentences (character n-grams C-2..C2, bigrams, C-1C1; character types; dictionary features
    from the training words, some hidden in each pass by --dropout). A gold line that holds only
    whitespace, or a word longer than 64 characters, is an error naming FILE:LINE. The
    temperature of the boundary marginals (segment --marginals, --review) is fitted on held-out
    gold text: --dev files, or the last --dev-fraction of the sentences (then the model is
    trained twice, see --dev-fraction); the held-out F is reported on stderr. A model trained
    with --dict alone fits it on fresh synthetic samples.

    With --dict alone, synthetic text is drawn by sampling words in proportion to their frequency, every character is
    labelled B/M/E/S, and an averaged structured perceptron learns to tag it;
    `textmine segment --model MODEL` then decodes with Viterbi. The model depends on --seed and
    the options, not on -j. DICT may be - (stdin). Training statistics go to stderr.

    Memory: grows with the dictionary, the synthetic training text (--samples) and the hashed
    weight table (2^--bits rows of 4 tags, with its averaging copy).

    \b
      textmine train-segmenter --gold pku_training.utf8 -o pku.model
      textmine train-segmenter --dict dict.txt -o seg.model
      textmine segment --model seg.model corpus.txt > corpus.seg
    """
    if not gold_paths and dict_path is None:
        raise click.UsageError("give --gold SEGMENTED (gold segmented text) or --dict DICT (a dictionary)")
    if gold_paths and samples is not None:
        raise click.UsageError("--samples applies to training from --dict alone, not --gold")
    if dev_paths and not gold_paths:
        raise click.UsageError("--dev applies to --gold")
    if sum(p == "-" for p in (*gold_paths, *dev_paths, dict_path)) > 1:
        raise click.UsageError("only one of --gold, --dev and --dict can be - (stdin)")
    if output == "-":
        raise click.BadParameter("the model is a binary file; give a file name", param_hint="-o/--output")
    out_dir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(out_dir):  # fail before training, not after
        raise click.BadParameter(f"directory {out_dir} does not exist", param_hint="-o/--output")
    from textmine.cli._options import read_options
    from textmine.tagger import read_gold, train_segmenter_gold
    from textmine.tagger import train_segmenter as train

    read_options(encoding)  # an unknown codec is an error before anything is read
    words = counts = None
    if dict_path is not None:
        words, counts = read_dictionary(dict_path, encoding)
    sentences = [s for p in gold_paths for s in read_gold(p, encoding)]
    dev = [s for p in dev_paths for s in read_gold(p, encoding)] or None
    verbose = not quiet
    if epochs is None:
        epochs = 10 if gold_paths else 5

    def progress(epoch, info):
        if verbose:
            stage = "held-out run, " if info.get("stage") == "held-out" else ""
            click.echo(f"textmine train-segmenter: {stage}epoch {epoch}/{epochs}: {info['samples']} samples, {info['chars']} chars, "
                       f"{info['sample_error_rate']:.3f} of samples mis-tagged, {info['seconds']:.1f} s", err=True)

    if gold_paths:
        model = train_segmenter_gold(sentences, words, counts, epochs=epochs, dropout=dropout,
                                     features=features or "ngram+dict+type", nbits=bits, random_state=seed,
                                     n_jobs=jobs, progress=progress, dev_sentences=dev, dev_fraction=dev_fraction,
                                     refit=refit)
        what = f"{len(sentences)} gold sentences ({len(model.words_)} dictionary words)"
    else:
        model = train(words, counts, epochs=epochs, n_samples=samples or 400_000, dropout=dropout,
                      features=features or "ngram", nbits=bits, random_state=seed, n_jobs=jobs, progress=progress)
        what = f"{len(model.words_)} dictionary words"
    model.save(output)
    calib = model.stats.get("calibration")
    if verbose and calib:
        dev_score = calib.get("dev")
        held = (f"held-out F {dev_score['f1']:.4f}, OOV-R {dev_score['oov_recall']:.3f} on the last "
                f"{calib['sentences']} sentences; " if dev_score else "")
        source = "synthetic samples" if calib.get("source") == "synthetic" else "held-out gold"
        click.echo(f"textmine train-segmenter: {held}marginals temperature {calib['temperature']:.4g} (log loss {calib['log_loss']:.4f} "
                   f"over {calib['gaps']:,} gaps of {source})", err=True)
    if verbose:
        click.echo(f"textmine train-segmenter: trained on {what} in {model.stats['train_seconds']:.1f} s; "
                   f"model written to {output} ({os.path.getsize(output) / 1e6:.1f} MB)", err=True)
    sys.stderr.flush()
