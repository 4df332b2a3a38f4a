"""Benchmark ``discover-words --units tokens`` (phrases) against gensim ``Phrases``, side by side.

English: Brown + the 17 Gutenberg texts lowercased (bench/embed.py's loader, about 2.76M tokens).
Each tool lists phrases, and each list is ranked by how often the phrase occurs as one unit:

* textmine: ``discover_words(paths=[file], units="tokens")`` rows with more than one token, in
  output order (count descending: occurrences as a piece after cutting);
* gensim 4.4 ``Phrases``, two passes (pass 2 is trained on pass 1's output, so trigrams and
  4-grams appear), min_count 5, ``connector_words=ENGLISH_CONNECTOR_WORDS`` (the docstring's
  advice for English), at its documented thresholds: the default scorer at threshold 10 (the
  default) and npmi at 0.5 (the threshold of gensim's own npmi tests); its list is the merged
  tokens of the corpus after both passes, by frequency there (``--gensim-order score`` ranks
  them by their pass score instead).

Quality: recall of bench/data/collocations_en.txt (proper collocations, each >= 10 times in the
corpus; a dev half, on which textmine's token thresholds were chosen, and a test half) in each
tool's first ``--top`` (2000) multi-token entries; precision from a seeded random sample of 100
of those entries per tool, labelled by hand in bench/data/phrases_labels.tsv (1: a proper
collocation or term: a name, place, institution, fixed term or fixed expression; 0: a free
combination). Unlabelled sampled entries are printed and the precision left open.
Speed: wall time of the whole run on the same lines (textmine from a file, with -j 1 and -j
``--jobs``; gensim from pre-split token lists, splitting not timed), medians of ``--repeat``.
Segmented Chinese: the same on People's Daily 1998-01 (``199801_seg.utf8``), top phrases shown.

    PYTHONPATH=. python bench/phrases.py                      # English and Chinese, everything
    PYTHONPATH=. python bench/phrases.py --corpora en --grid   # the dev-half threshold grid

Data are read from ../shared/data (never copied into the repository); figures go to
bench/RESULTS.md (## phrases).
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "bench", "data")


def load_list(path=os.path.join(HERE, "collocations_en.txt")):
    """{'dev': [...], 'test': [...]} from the collocation list (``## dev`` / ``## test`` markers)."""
    out, part = {"dev": [], "test": []}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("## "):
                part = line[3:].strip()
            elif line and not line.startswith("#"):
                out[part].append(line.split("\t")[0])
    return out


def load_labels(path=os.path.join(HERE, "phrases_labels.tsv")):
    labels = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    p, lab = line.rstrip("\n").split("\t")[:2]
                    labels[p] = int(lab)
    return labels


def run_textmine(path, jobs, **kw):
    from textmine.discover import discover_words

    t = time.perf_counter()
    r = discover_words(paths=[path], units="tokens", n_jobs=jobs, **kw)
    wall = time.perf_counter() - t
    return [(w, c) for w, c in zip(r.words, r.counts) if " " in w], wall, r


def run_gensim(sents, scoring, threshold, passes=2, connectors=True):
    """Phrases trained and applied ``passes`` times; the merged tokens of the output by frequency,
    with the score of the pass that made them."""
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    t = time.perf_counter()
    scores = {}
    cur = sents
    for _ in range(passes):
        model = Phrases(cur, min_count=5, threshold=threshold, scoring=scoring,
                        connector_words=ENGLISH_CONNECTOR_WORDS if connectors else frozenset())
        for p, s in model.export_phrases().items():
            scores[p] = s
        cur = [model[s] for s in cur]
    wall = time.perf_counter() - t
    freq = Counter(tok for s in cur for tok in s if tok in scores)  # merged tokens only (not "_" as written)
    return freq, scores, wall


def gensim_list(freq, scores, order):
    def score(tok):  # a token merged in pass 2 holds a pass-2 phrase (its parts joined)
        return scores.get(tok, float("-inf"))

    key = (lambda kv: (-kv[1], kv[0])) if order == "count" else (lambda kv: (-score(kv[0]), -kv[1], kv[0]))
    return [(w.replace("_", " "), c) for w, c in sorted(freq.items(), key=key)]


def recall(entries, gold):
    got = {w for w, _ in entries}
    return sum(g in got for g in gold), len(gold)


def precision(entries, labels, seed, n=100):
    rng = random.Random(seed)
    sample = rng.sample([w for w, _ in entries], min(n, len(entries)))
    missing = [w for w in sample if w not in labels]
    good = sum(labels.get(w, 0) for w in sample)
    return good, len(sample), missing


def median_time(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        out = fn()
        times.append(out[-1] if isinstance(out, tuple) else out)
    return statistics.median(times), out


def english(args):
    from embed import load_english

    lines = load_english()
    if lines is None:
        print("English corpus missing; skipped")
        return
    gold = load_list()
    everything = gold["dev"] + gold["test"]
    labels = load_labels()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "en.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        sents = [line.split() for line in lines]
        n_tokens = sum(map(len, sents))
        print(f"\n### English: Brown + Gutenberg lowercased, {len(lines):,} lines, {n_tokens:,} tokens; "
              f"first {args.top} multi-token entries; list: {len(gold['dev'])} dev + {len(gold['test'])} test\n")
        run_textmine(path, 1, min_count=3)  # compile or load the kernels before timing
        if args.grid:
            grid(path, gold, args)
            return
        rows = []
        tm_times = [run_textmine(path, 1) for _ in range(args.repeat)]
        tm = tm_times[-1][0]
        tm_wall = statistics.median(t[1] for t in tm_times)
        tmj_wall = statistics.median(run_textmine(path, args.jobs)[1] for _ in range(args.repeat))
        rows.append(("textmine --units tokens (defaults)", tm, tm_wall))
        for scoring, thr in (("default", 10.0), ("npmi", 0.5)):
            runs = [run_gensim(sents, scoring, thr) for _ in range(args.repeat)]
            freq, scores, _ = runs[-1]
            wall = statistics.median(r[2] for r in runs)
            rows.append((f"gensim Phrases {scoring} (threshold {thr:g}, 2 passes)",
                         gensim_list(freq, scores, "count"), wall))
            if args.gensim_order == "score":
                rows.append((f"gensim Phrases {scoring}, ranked by score", gensim_list(freq, scores, "score"), wall))
        print("| tool | multi-token entries | recall all | recall dev | recall test | precision (sample of 100) | "
              "wall s |")
        print("|---|---|---|---|---|---|---|")
        unlabelled = set()
        for label, entries, wall in rows:
            top = entries[:args.top]
            ra, n = recall(top, everything)
            rd, nd = recall(top, gold["dev"])
            rt, nt = recall(top, gold["test"])
            good, m, missing = precision(top, labels, args.seed)
            unlabelled.update(missing)
            prec = f"{good}/{m}" if not missing else f"open ({len(missing)} unlabelled)"
            print(f"| {label} | {len(entries):,} | {ra}/{n} ({ra / n:.0%}) | {rd}/{nd} | {rt}/{nt} | {prec} | "
                  f"{wall:.1f} |")
        print(f"\nspeed, same lines: textmine -j 1 {tm_wall:.1f} s, -j {args.jobs} {tmj_wall:.1f} s; "
              + "; ".join(f"{label.split(' (')[0]} {wall:.1f} s ({wall / tm_wall:.1f}x textmine -j 1)"
                          for label, _, wall in rows[1:]))
        for label, entries, _ in rows:
            top = set(w for w, _ in entries[:args.top])
            miss = [g for g in everything if g not in top]
            print(f"\n{label}: top 15: " + ", ".join(f"{w} {c}" for w, c in entries[:15]))
            print(f"  missed ({len(miss)}): " + ", ".join(miss))
        if unlabelled:
            print(f"\n{len(unlabelled)} sampled entries have no label in bench/data/phrases_labels.tsv:",
                  file=sys.stderr)
            for w in sorted(unlabelled):
                print(f"{w}\t?", file=sys.stderr)


def grid(path, gold, args):
    """Dev-half recall over a grid of token thresholds (the test half is not looked at)."""
    print("| min-count | max-n | min-pmi | redundancy | multi-token entries | recall dev |")
    print("|---|---|---|---|---|---|")
    configs = [(mc, 3, pmi, red) for mc in (3, 5) for pmi in ("2,4", "3,5", "4,6", "5,7", "6,8")
               for red in ("none", "len-1", "3.5*(len-1)")]  # the first, coarse grid
    configs += [(5, 3, pmi, "len-1") for pmi in ("4,4", "4,5", "4,5.5", "3.5,5", "4.5,5.5", "4.5,6")]
    configs += [(5, 2, pmi, "len-1") for pmi in ("3.5", "4", "4.5", "5")]
    configs += [(5, 4, pmi, "len-1") for pmi in ("4,5", "4,6", "4,5,6")]
    configs += [(mc, 3, "4,5", "len-1") for mc in (3, 4, 7, 10)]
    for min_count, max_n, min_pmi, red in configs[args.grid_from:]:
        entries, _, _ = run_textmine(path, args.jobs, min_count=min_count, max_n=max_n, min_pmi=min_pmi,
                                     redundancy=red)
        rd, nd = recall(entries[:args.top], gold["dev"])
        print(f"| {min_count} | {max_n} | {min_pmi} | {red} | {len(entries):,} | {rd}/{nd} |", flush=True)


def chinese(args):
    from embed import load_chinese

    lines = load_chinese()
    if lines is None:
        print("199801_seg.utf8 missing; skipped")
        return
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "zh.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        sents = [line.split() for line in lines]
        print(f"\n### Segmented Chinese: People's Daily 1998-01, {len(lines):,} lines, "
              f"{sum(map(len, sents)):,} tokens\n")
        run_textmine(path, 1, min_count=3)
        tm = [run_textmine(path, 1) for _ in range(args.repeat)]
        tm_wall = statistics.median(t[1] for t in tm)
        tmj_wall = statistics.median(run_textmine(path, args.jobs)[1] for _ in range(args.repeat))
        runs = [run_gensim(sents, "default", 10.0, connectors=False) for _ in range(args.repeat)]
        g_wall = statistics.median(r[2] for r in runs)
        g = gensim_list(runs[-1][0], runs[-1][1], "count")
        entries = tm[-1][0]
        print(f"textmine --units tokens: {len(entries):,} phrases; top {args.show}: "
              + ", ".join(f"{w.replace(' ', '·')} {c}" for w, c in entries[:args.show]))
        print(f"\ngensim Phrases default (threshold 10, 2 passes, no connector words): {len(g):,} phrases; "
              f"top {args.show}: " + ", ".join(f"{w.replace(' ', '·')} {c}" for w, c in g[:args.show]))
        print(f"\nspeed, same lines: textmine -j 1 {tm_wall:.1f} s, -j {args.jobs} {tmj_wall:.1f} s; gensim "
              f"{g_wall:.1f} s ({g_wall / tm_wall:.1f}x textmine -j 1)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", default="en,zh")
    ap.add_argument("--top", type=int, default=2000, help="multi-token entries per tool that are scored")
    ap.add_argument("--seed", type=int, default=0, help="of the precision samples")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; wall times are medians")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=30, help="Chinese phrases shown")
    ap.add_argument("--grid", action="store_true", help="English: the dev-half threshold grid only")
    ap.add_argument("--grid-from", type=int, default=0, help="skip the first grid rows")
    ap.add_argument("--gensim-order", choices=["count", "score"], default="count",
                    help="score: also rank gensim's phrases by their score")
    args = ap.parse_args()
    corpora = args.corpora.split(",")
    if "en" in corpora:
        english(args)
    if "zh" in corpora and not args.grid:
        chinese(args)


if __name__ == "__main__":
    main()
