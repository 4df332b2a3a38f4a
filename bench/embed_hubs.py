"""Frequent words as each other's neighbours in ``textmine embed`` (bench/RESULTS.md "embed",
"Frequent words as neighbours"): textmine JoSE with the hinge on the negative terms
(``neg_smooth=0, freq_smooth=0``), with its default (the push of the sub-sampled words smoothed,
``freq_smooth=10``; the pull towards the documents weighted by idf, ``doc_idf=0.5``), with the default
but the plain document pull (``doc_idf=0``) and with the smoothed push for every word (``neg_smooth=κ``) against gensim Word2Vec sg, same
token lists, same shared settings (dim 100, window 5, negative 2, sample 1e-3, min-count 5, 10
epochs, one thread), seeds 1..N.

freqclub: the fraction of the 10 nearest neighbours (cosine, among the 5000 most frequent words) of
the 50 most frequent words that are themselves among the 50 most frequent (lower: frequency no
longer decides who is whose neighbour). Spearman ρ on the similarity sets (all pairs, and the even
(dev) / odd (held-out) halves for the English sets), and the 8 nearest neighbours of a probe word.

    python bench/embed_hubs.py --seeds 2                         # English (Brown + Gutenberg) and Chinese (199801)
    python bench/embed_hubs.py --corpus /tmp/jseg.txt --probe 西门庆 --zh   # any one-line-per-document file
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import embed as B  # noqa: E402  (the bench's corpora, pair files and Spearman)
from textmine.jose import JoSE  # noqa: E402


def freqclub(vectors, k=10, top=5000, club=50):
    x = vectors[:top] / np.maximum(np.linalg.norm(vectors[:top], axis=1, keepdims=True), 1e-12)
    s = x[:club] @ x.T
    s[np.arange(club), np.arange(club)] = -2.0
    nn = np.argpartition(-s, k, axis=1)[:, :k]
    return float((nn < club).mean())


def by_count(words, counts, vectors):
    order = np.argsort(-np.asarray(counts), kind="stable")
    return [words[i] for i in order], np.asarray(vectors)[order]


def neighbours(words, vectors, probe, k=8):
    if probe not in words:
        return "-"
    x = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    i = words.index(probe)
    s = x @ x[i]
    s[i] = -2.0
    return " ".join(words[j] for j in np.argsort(-s)[:k])


def evaluate(words, counts, vectors, sets, lower, probe):
    words, vectors = by_count(words, counts, vectors)
    index = {w: i for i, w in enumerate(words)}
    row = {"club": freqclub(vectors)}
    for name in sets:
        pairs = B.read_pairs(name, lower)
        if pairs is None:
            continue
        row[name] = B.spearman(index, vectors, pairs)[0]
        if lower:
            row[name + " even"] = B.spearman(index, vectors, pairs[0::2])[0]
            row[name + " odd"] = B.spearman(index, vectors, pairs[1::2])[0]
    return row, neighbours(words, vectors, probe)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--smooth", type=float, default=10.0, help="κ of the smoothed push (compared with the hinge)")
    ap.add_argument("--corpus", help="a text file, one document per line, instead of the bench's corpora")
    ap.add_argument("--zh", action="store_true", help="--corpus is Chinese (the Chinese sets, no lowercasing)")
    ap.add_argument("--probe", help="word whose neighbours are printed")
    ap.add_argument("--corpora", default="en,zh")
    args = ap.parse_args()
    from gensim.models import Word2Vec

    runs = []
    if args.corpus:
        with open(args.corpus, encoding="utf-8") as fh:
            lines = [x if args.zh else x.lower() for x in fh.read().split("\n") if x.strip()]
        runs.append((os.path.basename(args.corpus), lines, not args.zh))
    else:
        if "en" in args.corpora:
            runs.append(("English", B.load_english(), True))
        if "zh" in args.corpora:
            runs.append(("Chinese", B.load_chinese(), False))
    for name, lines, lower in runs:
        if lines is None:
            continue
        sets = ["wordsim353.tsv", "simlex999.txt"] if lower else ["zh_wordsim240.tsv", "zh_wordsim297.tsv"]
        probe = args.probe or ("the" if lower else "的")
        toks = [x.split() for x in lines]
        table = {}
        for seed in range(1, args.seeds + 1):
            for label, kw in (("textmine hinge push (--freq-smooth 0)", dict(neg_smooth=0.0, freq_smooth=0.0)),
                              ("textmine default (sub-sampled words smoothed, --freq-smooth 10)", {}),
                              ("textmine default but the plain document pull (--doc-idf 0)", dict(doc_idf=0.0)),
                              (f"textmine smooth push for every word, --neg-smooth {args.smooth:g}",
                               dict(neg_smooth=args.smooth, freq_smooth=0.0))):
                t = time.process_time()
                m = JoSE(dim=100, window=5, negative=2, n_iter=10, min_count=5, sample=1e-3, n_jobs=1,
                         random_state=seed, **kw).fit(lines)
                row, nn = evaluate(m.words_, m.counts_, m.word_vectors_, sets, lower, probe)
                table.setdefault(label, []).append(row)
                print(f"{name} seed {seed} {label}: " + " ".join(f"{k} {v:.3f}" for k, v in row.items())
                      + f" | {probe}: {nn} | cpu {time.process_time() - t:.0f}s", flush=True)
            t = time.process_time()
            g = Word2Vec(toks, vector_size=100, window=5, min_count=5, negative=2, sg=1, sample=1e-3, epochs=10,
                         workers=1, seed=seed)
            words = list(g.wv.index_to_key)
            row, nn = evaluate(words, [g.wv.get_vecattr(w, "count") for w in words], g.wv.vectors, sets, lower, probe)
            table.setdefault("gensim sg", []).append(row)
            print(f"{name} seed {seed} gensim sg: " + " ".join(f"{k} {v:.3f}" for k, v in row.items())
                  + f" | {probe}: {nn} | cpu {time.process_time() - t:.0f}s", flush=True)
        keys = list(next(iter(table.values()))[0])
        print(f"\n{name}, mean over {args.seeds} seed(s) [per seed]:")
        print("| model | " + " | ".join(keys) + " |")
        print("|---" * (len(keys) + 1) + "|")
        for label, rows in table.items():
            cells = [f"{np.mean([r[k] for r in rows]):.3f} [" + ", ".join(f"{r[k]:.3f}" for r in rows) + "]"
                     for k in keys]
            print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
