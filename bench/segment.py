"""Benchmark: segmenter trained from a dictionary alone (textmine.tagger) against jieba on SIGHAN 2005 PKU.

For each dictionary (jieba's bundled dict.txt; word counts of People's Daily 1998-01) it trains a
model on synthetic text drawn from the dictionary only (the test text is used for scoring only),
then scores on the PKU test set (span P/R/F, OOV recall against pku_training_words) next to:
the hybrid mode (--features ngram+dict), textmine's dictionary DP alone (the same
dictionary, §3.1), and jieba with HMM on and off loaded with the same dictionary. Speeds are measured
side by side on the same text in one run.

    PYTHONPATH=. python bench/segment.py [--epochs 5] [--samples 400000] [-j 2]

``--gold`` mode: models trained on gold segmented text (199801_seg.utf8 alone, closed-track
conditions: the training words are the only lexicon) with each feature set, first on all but the
last 10 % of the sentences (the development split: its F picks the feature set, and the
temperature of the marginals is fitted on it), then on all of them; scored on PKU test next to
jieba (its own dict.txt, HMM on and off) and, with ``--pkuseg``, pkuseg's CRF (``spacy_pkuseg``,
the maintained fork; its pretrained models are downloaded from GitHub, so it is trained here on the
same 199801 file, ``--pkuseg-iter`` iterations, and scored without and with its bundled dictionary);
training time, model size and MB/s per core (-j 1) in the same run. Then: a user
dictionary of the PKU gold words the chosen model splits; the reliability table (predicted vs
observed boundary rate, ECE) of the marginals of the chosen model and of the dictionary
segmenter on the PKU gold test; the ``--review`` list of a raw novel.

    PYTHONPATH=. python bench/segment.py --gold [--gold-epochs 10] [--pkuseg [--pkuseg-iter 20]]
"""
import argparse
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = pathlib.Path(os.environ.get("TEXTMINE_SHARED_DATA", ROOT.parent / "shared" / "data"))
CWS = SHARED / "cws"


def score(gold, out, iv):
    from textmine.evaluate import score_segmentation

    s = score_segmentation(gold, out, iv)
    return s.f1, s.oov_recall, s.iv_recall


def jieba_tokenizer(dict_path):
    import jieba

    tk = jieba.Tokenizer(dictionary=str(dict_path))
    tk.tmp_dir = tempfile.mkdtemp(prefix="tm-jieba-")
    import logging
    jieba.setLogLevel(logging.WARNING)
    tk.initialize()
    return tk


def jieba_segment(tk, lines, hmm):
    return [tk.lcut(line, HMM=hmm) for line in lines]


def timed(f, *a, repeat=1, **k):
    best, out = float("inf"), None
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*a, **k)
        times.append(time.perf_counter() - t)
    times.sort()
    return out, times[len(times) // 2]


def reliability(lines, gold_lines, probs, bins=10):
    """Predicted vs observed boundary rate at the gaps between two Han characters (the gaps the
    segmenters decide; punctuation and whitespace gaps are fixed boundaries and left out).
    Returns (rows, ece, log_loss, n) with rows (lo, hi, gaps, mean predicted, observed rate)."""
    import numpy as np

    from textmine.discover import _classify

    ps, ys = [], []
    for line, g, p in zip(lines, gold_lines, probs):
        if len(line) < 2:
            continue
        words = g.split()
        if "".join(words) != line.replace(" ", "").replace("\u3000", ""):
            raise SystemExit("gold and test lines differ")
        # gold boundary after each character of the (space-free) line
        cls = _classify(np.frombuffer(line.encode("utf-32-le"), dtype=np.uint32))
        ends = set(np.cumsum([len(w) for w in words]) - 1)
        pos = [i for i, ch in enumerate(line) if not ch.isspace()]
        for k in range(len(pos) - 1):
            i, j = pos[k], pos[k + 1]
            if j == i + 1 and cls[i] == 1 and cls[j] == 1:
                ps.append(p[i])
                ys.append(k in ends)
    ps, ys = np.array(ps), np.array(ys, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.minimum((ps * bins).astype(int), bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            rows.append((edges[b], edges[b + 1], int(m.sum()), float(ps[m].mean()), float(ys[m].mean())))
            ece += m.sum() / len(ps) * abs(ps[m].mean() - ys[m].mean())
        else:
            rows.append((edges[b], edges[b + 1], 0, None, None))
    q = np.clip(ps, 1e-12, 1 - 1e-12)
    ll = float(-np.mean(ys * np.log(q) + (1 - ys) * np.log1p(-q)))
    return rows, float(ece), ll, len(ps)


def train_pkuseg(savedir, iters):
    """Train spacy_pkuseg's CRF (pkuseg's own algorithm and features, ADF, one process) on 199801_seg.utf8,
    saving the model after every iteration (pkuseg itself saves only at the end) with a log line
    ``iteration  seconds since the start  pkuseg's F on the PKU gold test`` in ``savedir/bench_log.tsv``:
    a run cut short still leaves a model. pkuseg needs a test file to report F on after each iteration;
    the PKU gold test is given, for reporting only (the last iteration's model is kept, none is picked)."""
    import contextlib
    import io

    import numpy as np
    import spacy_pkuseg
    from spacy_pkuseg import trainer as pk_trainer
    from spacy_pkuseg.config import config as pk_config

    savedir = pathlib.Path(savedir)
    savedir.mkdir(parents=True, exist_ok=True)
    log = savedir / "bench_log.tsv"
    log.write_text("", encoding="utf-8")
    start = time.perf_counter()
    original = pk_trainer.Trainer.test

    def test_and_save(self, testset, iteration):
        scores = original(self, testset, iteration)
        m = self.model
        with open(savedir / "weights.tmp.npz", "wb") as f:
            np.savez(f, sizes=np.array([m.n_tag, m.n_feature]), w=m.w)
        os.replace(savedir / "weights.tmp.npz", savedir / "weights.npz")
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{iteration + 1}\t{time.perf_counter() - start:.1f}\t{scores[0]:.2f}\n")
        print(f"pkuseg iteration {iteration + 1}: {time.perf_counter() - start:.0f} s, F {scores[0]:.2f} % "
              "(pkuseg's scorer, PKU test)", file=sys.stderr, flush=True)
        return scores

    pk_trainer.Trainer.test = test_and_save
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its per-word-length tables and progress
            spacy_pkuseg.train(str(CWS / "199801_seg.utf8"), str(CWS / "pku_test_gold.utf8"), str(savedir),
                               train_iter=iters)
    finally:
        pk_trainer.Trainer.test = original
        pk_config.modelDir = str(savedir)


def read_pkuseg_log(savedir):
    """[(iteration, seconds since the start, F %)] of a train_pkuseg run."""
    rows = []
    for line in (pathlib.Path(savedir) / "bench_log.tsv").read_text(encoding="utf-8").splitlines():
        i, sec, f = line.split("\t")
        rows.append((int(i), float(sec), float(f)))
    return rows


def pkuseg_rows(args, test, gold, iv, test_mb, tmp):
    """Rows for spacy_pkuseg trained on 199801 (closed track, no dictionary) and with its bundled
    dictionary in the post-processing (user_dict="default", open lexicon)."""
    from importlib.metadata import version

    try:
        import spacy_pkuseg
    except ImportError:
        return [("pkuseg (spacy_pkuseg)", None, None, None, None,
                 "not run: spacy_pkuseg is not installed (pip install textmine[bench])")], []
    if args.pkuseg_model:
        savedir = pathlib.Path(args.pkuseg_model)
        how = f"trained before this run by `--pkuseg-train-only {savedir.name}`"
    else:
        savedir = tmp / "pkuseg"
        train_pkuseg(savedir, args.pkuseg_iter)
        how = "trained in this run"
    log = read_pkuseg_log(savedir)
    if not log:
        raise SystemExit(f"{savedir}: no pkuseg iteration finished")
    size = sum(f.stat().st_size for f in savedir.iterdir() if f.name in ("weights.npz", "features.msgpack")) / 1e6
    rows = []
    for user_dict, note in ((None, "no dictionary (closed track)"),
                            ("default", "+ its bundled dictionary (`user_dict='default'`, open lexicon)")):
        seg = spacy_pkuseg.pkuseg(model_name=str(savedir), user_dict=user_dict)
        cut = lambda: [seg.cut(line) for line in test]  # noqa: E731
        out, sec = timed(cut, repeat=3 if user_dict is None else 1)
        f1, oov, ivr = score(gold, out, iv)
        iters = f"{log[-1][0]} iteration{'s' * (log[-1][0] > 1)}"
        rows.append((f"pkuseg's CRF (spacy_pkuseg {version('spacy_pkuseg')}) trained on 199801, {iters}, {note}",
                     f1, oov, ivr, test_mb / sec,
                     f"train {log[-1][1]:.0f} s ({how}, 1 process), model {size:.1f} MB"))
    return rows, log


def review_loop_add(rv, lines, marginals):
    """AmbiguityReview.add as it was before it was vectorised: a Python loop over the spans of each line
    (kept here to time against; tests/test_segment.py holds the same loop as the naive twin)."""
    import numpy as np

    hi, lo = rv.confident, 1 - rv.confident
    for line, p in zip(lines, marginals):
        if len(line) < 2:
            continue
        cuts = np.flatnonzero(p[:-1] >= hi) + 1
        for a, b in zip(np.concatenate(([0], cuts)).tolist(), np.concatenate((cuts, [len(line)])).tolist()):
            if b - a < 2 or b - a > rv.max_len:
                continue
            inner = p[a:b - 1]
            span = line[a:b]
            if not (inner > lo).any() or any(ch.isspace() for ch in span):
                continue
            amb = float((1 - np.abs(2 * inner - 1)).max())
            rec = rv.stats_.get(span)
            if rec is None:
                cut = "".join(ch + (" " if k < b - a - 1 and inner[k] >= 0.5 else "") for k, ch in enumerate(span))
                ctx = line[max(0, a - rv.context):a] + "[" + span + "]" + line[b:b + rv.context]
                rv.stats_[span] = [1, amb, cut, " ".join(ctx.split())]
            else:
                rec[0] += 1
                rec[1] += amb


def main_review_speed(args):
    """--review's counting step (AmbiguityReview.add) against the per-span loop, on the same marginals."""
    from textmine.segment import AmbiguityReview
    from textmine.tagger import load_model

    model = load_model(args.review_speed, n_jobs=1)
    path = pathlib.Path(args.review_corpus)
    lines = path.read_text(encoding="utf-8").split("\n")
    batches = [(lines[i:i + 2000], model.marginals_lines(lines[i:i + 2000])) for i in range(0, len(lines), 2000)]
    n = sum(map(len, lines))
    res = {}
    for _ in range(3):
        for name, add in (("numpy", AmbiguityReview.add), ("loop", review_loop_add)):
            rv = AmbiguityReview()
            t = time.perf_counter()
            for b, p in batches:
                add(rv, b, p)
            res.setdefault(name, []).append(time.perf_counter() - t)
            res[name + " stats"] = rv.stats_
    if res["numpy stats"] != res["loop stats"]:
        raise SystemExit("the two counts differ")
    med = {k: sorted(res[k])[1] for k in ("numpy", "loop")}
    print(f"# --review counting on {path.name} ({n:,} characters, {len(res['numpy stats']):,} distinct strings, "
          f"identical): AmbiguityReview.add {n / med['numpy'] / 1e6:.2f} M chars/s, per-span loop "
          f"{n / med['loop'] / 1e6:.2f} M chars/s ({med['loop'] / med['numpy']:.1f}x; medians of 3)")


def main_gold(args):
    import jieba

    from textmine.evaluate import read_training_words
    from textmine.segment import AmbiguityReview, Segmenter, UserDict
    from textmine.formats import read_word_counts
    from textmine.tagger import load_model, read_gold, train_segmenter_gold

    test = (CWS / "pku_test.utf8").read_text(encoding="utf-8").split("\n")
    gold = (CWS / "pku_test_gold.utf8").read_text(encoding="utf-8").split("\n")
    iv = read_training_words(CWS / "pku_training_words.utf8")
    test_mb = sum(len(s.encode("utf-8")) + 1 for s in test) / 1e6
    sents = read_gold(str(CWS / "199801_seg.utf8"))
    if args.gold_sentences:
        sents = sents[:args.gold_sentences]  # a quick look; the figures in RESULTS use them all
    n_dev = max(1, round(len(sents) * args.dev_fraction))
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tm-bench-seg-"))
    print(f"# PKU test: {len(test)} lines, {test_mb:.2f} MB; training: 199801_seg.utf8, {len(sents)} sentences, the "
          f"last {n_dev} held out as the development split; {args.gold_epochs} epochs, dropout {args.dropout}, "
          f"seed {args.seed}; speeds at -j 1, median of 3")
    rows, dev_rows, models = [], [], {}
    for feats in args.feature_sets.split(","):
        t = time.perf_counter()
        # dev_fraction: trained on the first part, scored and calibrated on the held-out part, then
        # trained again on everything (the temperature kept)
        model = train_segmenter_gold(sents, epochs=args.gold_epochs, dropout=args.dropout, features=feats,
                                     random_state=args.seed, n_jobs=args.jobs, dev_fraction=args.dev_fraction)
        train_s = time.perf_counter() - t
        calib = model.stats["calibration"]
        dev = calib["dev"]
        dev_rows.append((feats, dev["f1"], dev["oov_recall"], dev["iv_recall"], dev["oov_rate"], calib["temperature"],
                         calib["log_loss"]))
        mpath = tmp / f"gold.{feats}.model"
        model.save(str(mpath))
        size = mpath.stat().st_size / 1e6
        model = load_model(str(mpath), n_jobs=1)
        model.segment_lines(test[:20])
        out, sec = timed(model.segment_lines, test, repeat=3)
        f1, oov, ivr = score(gold, out, iv)
        rows.append((f"`train-segmenter --gold --features {feats}`", f1, oov, ivr, test_mb / sec,
                     f"train {train_s:.0f} s (held-out run + final, -j {args.jobs}), model {size:.1f} MB"))
        models[feats] = (model, out, mpath)
    chosen = max(dev_rows, key=lambda r: r[1])[0]
    print(f"\n## Feature set chosen on the development split (the last {n_dev} sentences of 199801, not trained on)\n")
    print("| features | dev F | dev OOV-R | dev IV-R | dev OOV rate | fitted θ | dev log loss |")
    print("|---|---|---|---|---|---|---|")
    for feats, f1, oov, ivr, rate, theta, ll in dev_rows:
        mark = " (chosen)" if feats == chosen else ""
        print(f"| {feats}{mark} | {f1:.4f} | {oov:.3f} | {ivr:.3f} | {rate:.3f} | {theta:.3g} | {ll:.4f} |")
    best_model, best_out, best_path = models[chosen]
    # user dictionary: the PKU gold words this model splits, given back as forced user words
    split_words = set()
    for g, o in zip(gold, best_out):
        spans = set()
        pos = 0
        for w in o:
            spans.add((pos, pos + len(w)))
            pos += len(w)
        pos = 0
        for w in g.split():
            if (pos, pos + len(w)) not in spans:
                split_words.add(w)
            pos += len(w)
    # only the words the model cuts inside (not those it merges with a neighbour)
    ud = UserDict([(w, None) for w in sorted(split_words) if len(w) > 1])
    out, sec = timed(lambda: ud.apply(test, best_model.segment_lines), repeat=3)
    f1, oov, ivr = score(gold, out, iv)
    whole = total = 0
    for g, o in zip(gold, out):
        have = set()
        pos = 0
        for w in o:
            have.add((pos, pos + len(w)))
            pos += len(w)
        pos = 0
        for w in g.split():
            if w in ud.forced:
                total += 1
                whole += (pos, pos + len(w)) in have
            pos += len(w)
    rows.append((f"  {chosen} model + --user-dict of the {len(ud.forced)} gold words it splits",
                 f1, oov, ivr, test_mb / sec,
                 f"{whole}/{total} = {whole / max(total, 1):.1%} of their occurrences whole"))
    tk = jieba_tokenizer(pathlib.Path(jieba.__file__).parent / "dict.txt")
    for hmm in (True, False):
        jieba_segment(tk, test[:20], hmm)
        out, sec = timed(jieba_segment, tk, test, hmm, repeat=3)
        f1, oov, ivr = score(gold, out, iv)
        rows.append((f"jieba 0.42.1 (dict.txt), HMM {'on' if hmm else 'off'}", f1, oov, ivr, test_mb / sec,
                     "open lexicon"))
    pk_log = []
    if args.pkuseg:
        pk, pk_log = pkuseg_rows(args, test, gold, iv, test_mb, tmp)
        rows += pk
    print("\n## PKU test\n")
    print("| system | F | OOV-R | IV-R | MB/s (-j 1) | notes |")
    print("|---|---|---|---|---|---|")
    for label, f1, oov, ivr, mbs, note in rows:
        if f1 is None:
            print(f"| {label} | | | | | {note} |")
        else:
            print(f"| {label} | {f1:.3f} | {oov:.3f} | {ivr:.3f} | {mbs:.2f} | {note} |")
    if pk_log:
        print("\npkuseg's own F on the PKU test after each iteration (its scorer, no post-processing): "
              + "; ".join(f"{i}: {f:.2f} % at {sec:.0f} s" for i, sec, f in pk_log))
    if args.tables_only:
        print(f"\n(models kept in {tmp})")
        return

    # calibration of the boundary marginals on the PKU gold test
    words, counts = read_word_counts(str(CWS / "199801_words.tsv"))
    dseg = Segmenter(words, counts)
    dseg.marginals_lines(test[:20])
    systems = [(f"tagger {chosen}, fitted θ = {best_model.temperature_:.3g}",
                lambda: best_model.marginals_lines(test)),
               (f"tagger {chosen}, θ = 1 (raw perceptron scores)",
                lambda: best_model.marginals_lines(test, temperature=1.0)),
               ("`segment --dict 199801_words.tsv` (unigram posterior, θ = 1)", lambda: dseg.marginals_lines(test))]
    results = []
    for label, f in systems:
        probs, sec = timed(f, repeat=3)
        results.append((label, *reliability(test, gold, probs), test_mb / sec))
    print("\n## Reliability of the boundary marginals on the PKU gold test (gaps between two Han characters)\n")
    print("| predicted | " + " | ".join(f"{r[0]}: gaps, mean p, observed" for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for b in range(10):
        cells = []
        for r in results:
            lo, hi, n, mp, obs = r[1][b]
            cells.append(f"{n:,}, {mp:.3f}, {obs:.3f}" if n else "0")
        lo, hi = results[0][1][b][:2]
        print(f"| {lo:.1f}-{hi:.1f} | " + " | ".join(cells) + " |")
    print("| ECE | " + " | ".join(f"{r[2]:.4f}" for r in results) + " |")
    print("| log loss | " + " | ".join(f"{r[3]:.4f}" for r in results) + " |")
    print("| gaps | " + " | ".join(f"{r[4]:,}" for r in results) + " |")
    print("| marginals MB/s (-j 1) | " + " | ".join(f"{r[5]:.2f}" for r in results) + " |")

    # review on a real corpus
    if args.review_corpus:
        path = pathlib.Path(args.review_corpus)
        lines = path.read_text(encoding="utf-8").split("\n")
        rv = AmbiguityReview()
        for i in range(0, len(lines), 2000):
            rv.add(lines[i:i + 2000], best_model.marginals_lines(lines[i:i + 2000]))
        print(f"\n## segment --model (gold {chosen}) --review 15 {path.name}: {len(lines)} lines, "
              f"{len(rv.stats_):,} distinct ambiguous strings\n")
        print("```")
        for w, c, a, cut, ctx in rv.top(15):
            print(f"{w}\t{c}\t{a:.3f}\t{cut}\t{ctx}")
        print("```")
    print(f"\n(models kept in {tmp})")


def main():
    import jieba
    import numpy as np  # noqa: F401

    from textmine.evaluate import read_training_words
    from textmine.formats import read_word_counts
    from textmine.tagger import load_model, train_segmenter

    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--samples", type=int, default=400_000)
    ap.add_argument("--dropout", type=float, default=0.15)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--speed-mb", type=float, default=2.0, help="MB of 199801_raw for the speed test")
    ap.add_argument("--gold", action="store_true", help="models trained on 199801_seg.utf8 (gold text)")
    ap.add_argument("--gold-epochs", type=int, default=10)
    ap.add_argument("--gold-sentences", type=int, default=0, help="--gold: the first N sentences only (0: all)")
    ap.add_argument("--dev-fraction", type=float, default=0.1, help="--gold: held-out share of 199801 (its end)")
    ap.add_argument("--review-corpus", default=str(SHARED / "raw" / "sanguo_yanyi.txt"),
                    help="--gold: a raw text whose most ambiguous strings are listed ('' to skip)")
    ap.add_argument("--feature-sets", default="ngram,ngram+dict,ngram+dict+type",
                    help="--gold: the feature sets to train, comma-separated")
    ap.add_argument("--pkuseg", action="store_true",
                    help="--gold: also train and score spacy_pkuseg (pkuseg's CRF) on 199801 (skipped when absent)")
    ap.add_argument("--pkuseg-iter", type=int, default=20, help="--pkuseg: training iterations (pkuseg's default 20)")
    ap.add_argument("--pkuseg-model", default="",
                    help="--pkuseg: score the model a --pkuseg-train-only run left in DIR instead of training")
    ap.add_argument("--pkuseg-train-only", default="", metavar="DIR",
                    help="train spacy_pkuseg into DIR (saved after every iteration) and stop")
    ap.add_argument("--tables-only", action="store_true",
                    help="--gold: stop after the PKU test table (no calibration, no review)")
    ap.add_argument("--review-speed", default="", metavar="MODEL",
                    help="time --review's counting (numpy) against the per-span loop on --review-corpus, and stop")
    args = ap.parse_args()
    if args.review_speed:
        return main_review_speed(args)
    if args.pkuseg_train_only:
        return train_pkuseg(args.pkuseg_train_only, args.pkuseg_iter)
    if args.gold:
        return main_gold(args)
    for f in ("pku_test.utf8", "pku_test_gold.utf8", "pku_training_words.utf8", "199801_words.tsv"):
        if not (CWS / f).exists():
            sys.exit(f"missing {CWS / f}")
    test = (CWS / "pku_test.utf8").read_text(encoding="utf-8").split("\n")
    gold = (CWS / "pku_test_gold.utf8").read_text(encoding="utf-8").split("\n")
    iv = read_training_words(CWS / "pku_training_words.utf8")
    test_mb = sum(len(s.encode("utf-8")) + 1 for s in test) / 1e6
    raw = (CWS / "199801_raw.utf8").read_text(encoding="utf-8")
    speed_lines = raw.encode("utf-8")[: int(args.speed_mb * 1e6)].decode("utf-8", "ignore").split("\n")[:-1]
    speed_mb = sum(len(s.encode("utf-8")) + 1 for s in speed_lines) / 1e6

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tm-bench-seg-"))
    jieba_dict = pathlib.Path(jieba.__file__).parent / "dict.txt"
    pd_jieba = tmp / "199801_jieba.txt"  # the 199801 counts in jieba's format, for jieba
    words, counts = read_word_counts(str(CWS / "199801_words.tsv"))
    with open(pd_jieba, "w", encoding="utf-8") as f:
        for w, c in zip(words, counts):
            if " " not in w:
                f.write(f"{w} {int(c)}\n")
    print(f"# PKU test: {len(test)} lines, {test_mb:.2f} MB; speed text: {speed_mb:.2f} MB of 199801_raw; "
          f"epochs {args.epochs} x {args.samples} samples, dropout {args.dropout}, -j {args.jobs}, seed {args.seed}")
    rows = []
    for name, dpath, jpath in (("jieba dict.txt", jieba_dict, jieba_dict),
                               ("199801_words.tsv", CWS / "199801_words.tsv", pd_jieba)):
        w, c = read_word_counts(str(dpath))
        variants = [("ngram", args.dropout), ("ngram+dict", args.dropout)]
        for feats, drop in variants:
            t = time.perf_counter()
            model = train_segmenter(w, c, epochs=args.epochs, n_samples=args.samples, dropout=drop,
                                    features=feats, random_state=args.seed, n_jobs=args.jobs)
            train_s = time.perf_counter() - t
            mpath = tmp / f"{name}.{feats}.model"
            model.save(str(mpath))
            size = mpath.stat().st_size / 1e6
            model = load_model(str(mpath), n_jobs=args.jobs)
            model.segment_lines(test[:20])  # compile / warm
            out, sec = timed(model.segment_lines, test, repeat=3)
            f1, oov, ivr = score(gold, out, iv)
            label = "textmine tagger, " + ("hybrid (--features ngram+dict)" if feats == "ngram+dict"
                                           else "n-grams (default)")
            rows.append((name, label, f1, oov, ivr, sec, f"train {train_s:.0f} s, model {size:.1f} MB"))
            # throughput on a larger text, -j 1 and -j N
            for j in sorted({1, args.jobs}):
                model.n_jobs = j
                _, s = timed(model.segment_lines, speed_lines, repeat=3)
                rows.append((name, f"  speed, {feats}, -j {j}", None, None, None, s, f"{speed_mb / s:.2f} MB/s"))
            model.n_jobs = args.jobs
            if feats == "ngram+dict":
                out, sec_dp = timed(model.segment_lines, test, repeat=3, mode="dict")
                f1, oov, ivr = score(gold, out, iv)
                rows.append((name, "textmine dictionary DP alone (§3.1)", f1, oov, ivr, sec_dp, ""))
        tk = jieba_tokenizer(jpath)
        for hmm in (True, False):
            jieba_segment(tk, test[:20], hmm)
            out, sec = timed(jieba_segment, tk, test, hmm, repeat=3)
            f1, oov, ivr = score(gold, out, iv)
            rows.append((name, f"jieba 0.42.1, HMM {'on' if hmm else 'off'}", f1, oov, ivr, sec, ""))
        _, s = timed(jieba_segment, tk, speed_lines, False, repeat=1)
        rows.append((name, "  speed jieba HMM off", None, None, None, s, f"{speed_mb / s:.2f} MB/s"))

    print(f"\n| dictionary | system | F | OOV-R | IV-R | seconds (PKU test) | notes |")
    print("|---|---|---|---|---|---|---|")
    for name, label, f1, oov, ivr, sec, note in rows:
        if f1 is None:
            print(f"| {name} | {label} | | | | {sec:.2f} | {note} |")
        else:
            print(f"| {name} | {label} | {f1:.3f} | {oov:.3f} | {ivr:.3f} | {sec:.2f} | {note} |")


if __name__ == "__main__":
    main()
