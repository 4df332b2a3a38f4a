"""Benchmark: segmenter trained from a dictionary alone (textmine.tagger) against jieba on SIGHAN 2005 PKU.

For each dictionary (jieba's bundled dict.txt; word counts of People's Daily 1998-01) it trains a
model on synthetic text drawn from the dictionary only (the test text is used for scoring only),
then scores on the PKU test set (span P/R/F, OOV recall against pku_training_words) next to:
the hybrid mode (--features ngram+dict), textmine's dictionary DP alone (the same
dictionary, §3.1), and jieba with HMM on and off loaded with the same dictionary. Speeds are measured
side by side on the same text in one run.

    PYTHONPATH=. python bench/segment.py [--epochs 5] [--samples 400000] [-j 2]

``--gold`` mode: models trained on gold segmented text (199801_seg.utf8 alone, closed-track
conditions: the training words are the only lexicon) with ``--features ngram+dict+type`` (the
default of ``train-segmenter --gold``) and ``ngram``, scored on PKU test next to jieba (its own
dict.txt, HMM on and off) and pkuseg's default model when ``import pkuseg`` works; training time,
model size and MB/s per core (-j 1) in the same run.

    PYTHONPATH=. python bench/segment.py --gold [--gold-epochs 10]
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


def main_gold(args):
    import jieba

    from textmine.evaluate import read_training_words
    from textmine.tagger import load_model, read_gold, train_segmenter_gold

    test = (CWS / "pku_test.utf8").read_text(encoding="utf-8").split("\n")
    gold = (CWS / "pku_test_gold.utf8").read_text(encoding="utf-8").split("\n")
    iv = read_training_words(CWS / "pku_training_words.utf8")
    test_mb = sum(len(s.encode("utf-8")) + 1 for s in test) / 1e6
    sents = read_gold(str(CWS / "199801_seg.utf8"))
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tm-bench-seg-"))
    print(f"# PKU test: {len(test)} lines, {test_mb:.2f} MB; training: 199801_seg.utf8, {len(sents)} sentences; "
          f"{args.gold_epochs} epochs, dropout {args.dropout}, seed {args.seed}; speeds at -j 1, median of 3")
    rows = []
    for feats in ("ngram+dict+type", "ngram"):
        t = time.perf_counter()
        model = train_segmenter_gold(sents, epochs=args.gold_epochs, dropout=args.dropout, features=feats,
                                     random_state=args.seed, n_jobs=args.jobs)
        train_s = time.perf_counter() - t
        mpath = tmp / f"gold.{feats}.model"
        model.save(str(mpath))
        size = mpath.stat().st_size / 1e6
        model = load_model(str(mpath), n_jobs=1)
        model.segment_lines(test[:20])
        out, sec = timed(model.segment_lines, test, repeat=3)
        f1, oov, ivr = score(gold, out, iv)
        rows.append((f"textmine train-segmenter --gold, --features {feats}", f1, oov, ivr, test_mb / sec,
                     f"train {train_s:.0f} s (-j {args.jobs}), model {size:.1f} MB"))
        if feats == "ngram+dict+type":
            best_model, best_out = model, out
    # user dictionary: the PKU gold words this model splits, given back as forced user words
    from textmine.segment import UserDict

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
    rows.append((f"  ngram+dict+type model + --user-dict of the {len(ud.forced)} gold words it splits",
                 f1, oov, ivr, test_mb / sec,
                 f"{whole}/{total} = {whole / max(total, 1):.1%} of their occurrences whole"))
    tk = jieba_tokenizer(pathlib.Path(jieba.__file__).parent / "dict.txt")
    for hmm in (True, False):
        jieba_segment(tk, test[:20], hmm)
        out, sec = timed(jieba_segment, tk, test, hmm, repeat=3)
        f1, oov, ivr = score(gold, out, iv)
        rows.append((f"jieba 0.42.1 (dict.txt), HMM {'on' if hmm else 'off'}", f1, oov, ivr, test_mb / sec,
                     "open lexicon"))
    try:
        import pkuseg
    except ImportError:
        rows.append(("pkuseg default model", None, None, None, None,
                     "not run: pip install pkuseg 0.0.25 fails to build here (no wheel; its setup needs numpy/wheel)"))
    else:
        seg = pkuseg.pkuseg()
        out, sec = timed(lambda: [seg.cut(line) for line in test], repeat=1)
        f1, oov, ivr = score(gold, out, iv)
        rows.append(("pkuseg default model", f1, oov, ivr, test_mb / sec, "trained on more than the closed track"))
    print("\n| system | F | OOV-R | IV-R | MB/s (-j 1) | notes |")
    print("|---|---|---|---|---|---|")
    for label, f1, oov, ivr, mbs, note in rows:
        if f1 is None:
            print(f"| {label} | | | | | {note} |")
        else:
            print(f"| {label} | {f1:.3f} | {oov:.3f} | {ivr:.3f} | {mbs:.2f} | {note} |")


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
    args = ap.parse_args()
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
