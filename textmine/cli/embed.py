"""``textmine embed``: JoSE spherical word and document embeddings (word2vec text output)."""
import os
import sys

import click

from textmine.cli._options import (_check_jobs, format_options, input_options, quiet_option, read_options,
                                   record_options, resolve, seed_option, show_progress)

_TRAIN_ONLY = ("doc_output", "context_output", "save_model", "dim", "window", "negative", "margin", "min_count",
               "sample", "update", "loss", "lowercase", "doc_weight", "doc_idf", "neg_margin",
               "neg_weight", "init", "warm", "neg_smooth", "freq_smooth")


def _check_writable(path, option):
    """Fail before training, not after it, when an output cannot be written."""
    from textmine.errors import TextmineError
    from textmine.formats import check_output_path

    try:
        check_output_path(path)
    except TextmineError as e:
        raise TextmineError(f"{option} {e}") from None


@click.command("embed")
@input_options(doc_per_file=True)
@format_options()
@click.option("-o", "--output", default="-", show_default=True, type=click.Path(allow_dash=True),
              help="Word vectors u (with --infer: the document vectors), word2vec text format; - is stdout.")
@click.option("--doc-output", type=click.Path(), metavar="PATH",
              help="Also write one vector per input document (token = 0-based document number).")
@click.option("--context-output", type=click.Path(), metavar="PATH", help="Also write the context vectors v.")
@click.option("--save-model", type=click.Path(), metavar="MODEL.npz",
              help="Save the model (MODEL.npz arrays + MODEL.json sidecar, no pickle) for --infer.")
@click.option("--infer", "infer_model", type=click.Path(), metavar="MODEL.npz",
              help="Embed the input documents with a saved model: u and v frozen, only d optimised.")
@click.option("--init", type=click.Path(dir_okay=False, allow_dash=True), metavar="VECTORS",
              help="Start from these pretrained word vectors (word2vec text or binary, or GloVe text without the header; also .gz/.bz2/.xz; words "
                   "under --encoding), normalised to the unit sphere, as jose.c's load-emb option does: vocabulary words "
                   "missing from VECTORS get the usual random start (the same as without --init for the same "
                   "--seed), words of VECTORS outside the vocabulary are ignored, context and document vectors "
                   "start as usual. Their dimension must equal --dim.")
@click.option("--dim", type=click.IntRange(min=1), default=100, show_default=True, help="Dimension.")
@click.option("--window", type=click.IntRange(min=1), default=5, show_default=True, help="Maximum context distance.")
@click.option("--negative", type=click.IntRange(min=1), default=2, show_default=True,
              help="Negative samples per positive pair.")
@click.option("--margin", type=click.FloatRange(min=0, min_open=True), default=None,
              show_default="contrastive 0.4, split and joint 0.25",
              help="Hinge margin on cosines; for --loss contrastive the cosine a positive pair is pulled up to "
                   "(jose.c: 0.15; the defaults were chosen on half of SimLex-999, bench/RESULTS.md).")
@click.option("--neg-margin", type=click.FloatRange(min=-1, max=1, max_open=True), default=-0.1, show_default=True,
              help="Contrastive loss only: negatives are pushed while their cosine is above this.")
@click.option("--neg-weight", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True,
              help="Contrastive loss only: total weight of the --negative negative terms (each weighs "
                   "neg-weight/negative), so that more negatives sample the push better instead of pushing harder.")
@click.option("--warm", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Contrastive loss only: a word or context vector's n-th step is at least warm/n (times "
                   "--doc-weight in the document hinge), so that rare words converge within their own first "
                   "occurrences, however few the epochs; 0: the plain decaying rate.")
@click.option("--neg-smooth", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Contrastive loss only: smooth each negative term to softplus(k (cos - neg-margin)) / k, "
                   "k this value, so that frequent words do not end up each other's nearest neighbours "
                   "(10 is a good value; it costs some SimLex-999, bench/RESULTS.md); 0: the hinge.")
@click.option("--freq-smooth", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Contrastive loss only: --neg-smooth's k for the sub-sampled words alone (count above about "
                   "2.6 x --sample x tokens): the words whose pulls sub-sampling thins while their pushes do not, "
                   "which the hinge parks together (their nearest neighbours are each other: punctuation, "
                   "particles, a novel's main character); 0: --neg-smooth for them too.")
@click.option("--doc-weight", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Weight of the document hinge against the word-context hinge (jose.c: 1).")
@click.option("--doc-idf", type=click.FloatRange(min=0), default=0.5, show_default=True, metavar="P",
              help="Contrastive loss only: weight each word's pull towards its document by its normalised "
                   "inverse document frequency to the power P, so that words found in many documents are "
                   "pulled less and the vectors lean towards similarity (SimLex-style) rather than "
                   "relatedness; the words that sub-sampling thins keep the full pull (bench/RESULTS.md). "
                   "0: the plain document hinge; 1: leans further towards similarity.")
@click.option("--alpha", type=click.FloatRange(min=0, min_open=True), default=None, show_default="0.4/--iter",
              help="Starting learning rate (linear decay). The default, 0.4 divided by --iter (0.04 at 10 "
                   "epochs, 0.08 at 5), gives every word the same total step at any epoch count.")
@click.option("--iter", "n_iter", type=click.IntRange(min=1), default=10, show_default=True, help="Epochs.")
@click.option("--min-count", type=click.IntRange(min=1), default=5, show_default=True,
              help="Drop words rarer than this.")
@click.option("--sample", type=click.FloatRange(min=0), default=1e-3, show_default=True,
              help="Sub-sampling threshold of frequent words (0: off).")
@click.option("--update", type=click.Choice(["paper", "reference"]), default="paper", show_default=True,
              help="Riemannian step multipliers of the paper, or of jose.c (reference; weaker on small corpora).")
@click.option("--loss", type=click.Choice(["contrastive", "split", "joint"]), default="contrastive",
              show_default=True,
              help="One hinge per positive and per negative (contrastive: cos(u,v) pulled up to --margin, each "
                   "negative pushed down to --neg-margin), jose.c's word and document hinges (split), or the "
                   "paper's joint hinge.")
@click.option("--lowercase", is_flag=True, help="Lowercase the input first.")
@click.option("--binary", is_flag=True, help="Write binary word2vec files instead of text.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=lambda: os.cpu_count() or 1, envvar="TEXTMINE_JOBS",
              show_default="number of CPUs", callback=_check_jobs,
              help="Worker processes (or threads). Here Hogwild training threads: only -j 1 is reproducible; "
                   "--infer is reproducible for any -j.")
@seed_option
@quiet_option
@click.pass_context
def embed(ctx, paths, glob, encoding, decode_errors, doc_per_file, input_format, field, output, doc_output, context_output, save_model,
          infer_model, init, dim, window, negative, margin, neg_margin, neg_weight, warm, neg_smooth, freq_smooth,
          doc_weight, doc_idf, alpha, n_iter, min_count, sample,
          update,
          loss, lowercase, binary, jobs, seed, quiet):
    """Train JoSE spherical embeddings on PATHS (one document per line, whitespace-tokenised).

    Words, contexts and documents are unit vectors trained with a max-margin loss on cosines
    (Meng et al., NeurIPS 2019). Output is word2vec text (a 'V D' header, then 'token x1 .. xD'),
    loadable by gensim's KeyedVectors.load_word2vec_format.

    Memory grows with the corpus by 4 bytes per token and 8 + 4 x dim bytes per document (the
    integer-coded corpus and the document vectors, also without --doc-output), and with the
    vocabulary by 8 x dim + 40 bytes per word plus the word itself (word and context vectors,
    sampling tables, per-word push and pull weights); while reading, every distinct word, rare
    ones included, is held once.
    Chinese must be segmented first:

    \b
      textmine segment corpus.txt | textmine embed - -o words.vec
      textmine embed corpus.txt -o words.vec --save-model m.npz
      textmine embed --infer m.npz new_docs.txt -o new_docs.vec
    """
    from click.core import ParameterSource

    from textmine.formats import write_word2vec
    from textmine.jose import JoSE

    def given(name):
        return ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)

    if infer_model is not None:
        bad = [n for n in _TRAIN_ONLY if given(n)]
        if bad:
            raise click.UsageError(f"--{bad[0].replace('_', '-')} cannot be used with --infer "
                                   "(the model fixes it)")
    _check_writable(output, "-o")
    for path, name in ((doc_output, "--doc-output"), (context_output, "--context-output"),
                       (save_model, "--save-model")):
        _check_writable(path, name)
    if save_model:
        from textmine.jose import sidecar_path
        _check_writable(sidecar_path(save_model), "--save-model")
    opts = read_options(encoding, decode_errors)
    pretrained = None
    if init is not None:
        from textmine.formats import read_word2vec

        if init == "-" and (not paths or "-" in paths):
            raise click.UsageError("--init and the corpus cannot both be stdin")
        pretrained = read_word2vec(init, encoding=encoding)  # fit checks its dimension before reading PATHS
    files = resolve(paths, glob)
    opts = record_options(opts, input_format, field, files)
    from textmine.corpus import iter_documents
    docs = iter_documents(files, opts, doc_per_file)

    if infer_model is not None:
        model = JoSE.load(infer_model)
        vecs = model.infer(docs, n_iter=n_iter if given("n_iter") else None, alpha=alpha if given("alpha") else None,
                           random_state=seed if given("seed") else None, n_jobs=jobs)
        if len(vecs) == 0:
            from textmine.corpus import display
            from textmine.errors import TextmineError
            raise TextmineError(f"no documents to embed in {', '.join(map(display, files[:3]))}"
                                f"{' ...' if len(files) > 3 else ''} (empty input)")
        write_word2vec(output, [str(i) for i in range(len(vecs))], vecs, binary=binary)
        if not quiet:
            click.echo(f"textmine embed --infer: {len(vecs)} documents, {model.infer_known_tokens_} of "
                       f"{model.infer_raw_tokens_} tokens in the vocabulary", err=True)
        return

    bar = None
    if show_progress(quiet):
        from tqdm import tqdm
        bar = tqdm(total=n_iter, unit="epoch", file=sys.stderr, desc="embed")

    def progress(done, total):
        if bar is not None:
            bar.update(1)

    model = JoSE(dim=dim, window=window, negative=negative, margin=margin, alpha=alpha, n_iter=n_iter,
                 min_count=min_count, sample=sample, n_jobs=jobs, random_state=seed, update=update, loss=loss,
                 lowercase=lowercase, doc_weight=doc_weight, doc_idf=doc_idf, neg_margin=neg_margin,
                 neg_weight=neg_weight, warm=warm, neg_smooth=neg_smooth,
                 freq_smooth=freq_smooth)
    try:
        model.fit(docs, progress=progress, init=pretrained)
    finally:
        if bar is not None:
            bar.close()
    from textmine.formats import outputs_together

    with outputs_together():  # every output, or none of them (an existing file is kept)
        write_word2vec(output, model.words_, model.word_vectors_, binary=binary)
        if context_output:
            write_word2vec(context_output, model.words_, model.context_vectors_, binary=binary)
        if doc_output:
            write_word2vec(doc_output, [str(i) for i in range(model.n_docs_)], model.doc_vectors_, binary=binary)
        if save_model:
            model.save(save_model)
    if not quiet:
        wps = model.n_tokens_ * n_iter / max(model.train_seconds_, 1e-9) / jobs
        click.echo(f"textmine embed: {model.n_docs_} documents, {model.n_raw_tokens_} tokens, "
                   f"{len(model.words_)} words (--min-count {min_count}), dim {dim}, {n_iter} epochs, -j {jobs}: "
                   f"{model.train_seconds_:.1f} s, {wps:,.0f} words/s/thread, final hinge "
                   f"{model.epoch_loss_[-1]:.4f}", err=True)
        if init is not None:
            from textmine.corpus import display
            click.echo(f"textmine embed: {model.n_init_words_} of {len(model.words_)} words started from "
                       f"{display(init)} ({len(pretrained[0])} vectors)", err=True)
