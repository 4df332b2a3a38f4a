"""Benchmark: ``discover-words --exclude`` (new words only) and ``--reference`` (keyness).

* ``--exclude`` with jieba's own dictionary (``dict.txt`` inside the installed jieba package,
  349,046 entries) on the bundled Song ci sample (``data/song_ci_sample.txt``) and on People's Daily
  1998-01 raw text (``../shared/data/cws/199801_raw.utf8``): how many discovered words are new, the
  top new words by count, and the time of the exclusion step against discovery itself.
* ``--reference``: the Song ci sample against 1998-01 (the reference segmented with the discovered
  lexicon, textmine's DP): the top keyness rows and the time of the scoring step, with, side by side
  in the same run, the obvious peer for the counting step: jieba (HMM off) loaded with the same
  lexicon as its only dictionary, cutting the reference, ``collections.Counter`` over the tokens.
  Its counts are compared with textmine's (jieba's DAG differs on non-Han runs and ties).

Timings are in process (``textmine.api.discover_words``, ``textmine.keyness.select``), medians of
``--repeat`` runs; the CLI prints the same rows (``textmine discover-words ... --exclude ...``).

Usage::

    PYTHONPATH=. python bench/keyness.py --repeat 3 --top 20

Figures go to bench/RESULTS.md (## keyness).
"""
import argparse
import collections
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "cws")


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def show(result, table, top, columns=False):
    for k, i in enumerate(table.rows[:top]):
        extra = ""
        if columns:
            extra = "\t" + "\t".join([str(table.columns["ref_count"][k]), f"{table.columns['llr'][k]:.1f}",
                                      f"{table.columns['log_ratio'][k]:.2f}"])
        print(f"  {result.words[i]}\t{result.counts[i]}{extra}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--no-jieba", action="store_true", help="skip the jieba peer for reference counting")
    args = ap.parse_args()

    import jieba

    from textmine import api
    from textmine import keyness as km

    jdict = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    song = os.path.join(ROOT, "data", "song_ci_sample.txt")
    pd = os.path.join(DATA, "199801_raw.utf8")
    api.discover_words(text=["热身运动热身运动热身运动"] * 5)  # compile once

    for name, path in (("song_ci_sample", song), ("199801_raw", pd)):
        t_disc, res = timed(lambda: api.discover_words([path]), args.repeat)
        t_ex, table = timed(lambda: km.select(res, exclude=[jdict]), args.repeat)
        n = len(res.words)
        multi = sum(1 for i in table.rows if len(res.words[i]) > 1)
        print(f"\n== --exclude jieba dict.txt on {name}: {n} discovered, {n - len(table.rows)} in jieba's "
              f"dictionary, {len(table.rows)} new ({multi} of 2+ characters)")
        print(f"   discovery {t_disc:.2f} s, exclusion step {t_ex:.2f} s (median of {args.repeat}; "
              f"{t_ex / t_disc:.2f}x of discovery)")
        print(f"   top {args.top} new words of 2+ characters (word, count):")
        multi_rows = [i for i in table.rows if len(res.words[i]) > 1]
        show(res, km.Table(multi_rows, {}, []), args.top)

    t_disc, res = timed(lambda: api.discover_words([song]), args.repeat)
    t_ref, table = timed(lambda: km.select(res, reference=pd), args.repeat)
    print(f"\n== --reference: song_ci_sample against 199801_raw: {len(table.rows)} of {len(res.words)} words "
          f"over-represented with llr >= {km.LLR_P001}")
    print(f"   discovery {t_disc:.2f} s, keyness step (segment + count the reference, score) {t_ref:.2f} s "
          f"(median of {args.repeat}; {t_ref / t_disc:.2f}x of discovery)")
    print(f"   top {args.top} rows (word, count, ref_count, llr, log_ratio):")
    show(res, table, args.top, columns=True)
    multi = [k for k, i in enumerate(table.rows) if len(res.words[i]) > 1]
    print(f"   top {args.top} rows of 2+ characters:")
    sub = km.Table([table.rows[k] for k in multi],
                   {c: [table.columns[c][k] for k in multi] for c in table.columns}, [])
    show(res, sub, args.top, columns=True)

    if not args.no_jieba:
        t_tm, ref = timed(lambda: km.count_reference(res.words, res.counts, pd), 1)
        with tempfile.TemporaryDirectory() as d:
            lex = os.path.join(d, "lex.txt")
            with open(lex, "w", encoding="utf-8") as f:
                f.writelines(f"{w} {c}\n" for w, c in zip(res.words, res.counts))

            def peer():
                tok = jieba.Tokenizer(dictionary=lex)
                tok.initialize()
                tally = collections.Counter()
                with open(pd, encoding="utf-8") as f:
                    for line in f:
                        tally.update(tok.cut(line.rstrip("\n"), HMM=False))
                return tally

            import logging
            jieba.setLogLevel(logging.WARNING)
            t_j, tally = timed(peer, 1)
        same = sum(1 for w, b in zip(res.words, ref.counts.tolist()) if tally.get(w, 0) == b)
        print(f"\n== counting the reference (199801_raw, {os.path.getsize(pd)} bytes) with the discovered lexicon: "
              f"textmine {t_tm:.2f} s, jieba (HMM off, same lexicon) {t_j:.2f} s: ratio {t_j / t_tm:.1f}x; "
              f"{same} of {len(res.words)} words get the same count from both")


if __name__ == "__main__":
    sys.exit(main())
