"""Speed of textmine.jiebacut.JiebaTokenizer against jieba 0.42.1 on the same lines, HMM on and off.

    PYTHONPATH=. python bench/jiebacut.py [--input FILE] [--mb 2] [--repeat 3] [--verify-all]

Rows (each a median of ``--repeat`` runs, all on the same lines in one process):

* ``jieba naive count``: ``for t in jieba.cut(line): d[t] = d.get(t, 0) + 1`` (the issue's baseline);
* ``jieba.lcut per line``;
* ``textmine spans``: ``JiebaTokenizer.spans`` on all lines at once (encoding to code points included);
* ``textmine spans + count``: the same, then a dict count of the token strings (what ``count`` does
  at least);
* ``textmine lcut per line``: the list-of-str API, one call per line.

Every run checks that textmine's tokens equal jieba's. ``--verify-all`` also compares every line of
every file in ``../shared/data/raw`` and ``../shared/data/cws/*_raw.utf8``/``pku_test.utf8``.
"""
import argparse
import os
import pathlib
import statistics
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = pathlib.Path(os.environ.get("TEXTMINE_SHARED_DATA", ROOT.parent / "shared" / "data"))

from textmine.jiebacut import JiebaTokenizer  # noqa: E402


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def read_lines(path, mb):
    text = path.read_text(encoding="utf-8")
    if mb:
        text = text[: int(mb * 1e6 / 3)]  # ~3 UTF-8 bytes per Chinese character
        text = text[: text.rfind("\n") + 1] or text
    return text.splitlines()


def spans_tokens(tok, lines):
    text = "".join(lines)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    lens = np.fromiter(map(len, lines), np.int64, len(lines))
    ends = np.cumsum(lens)
    return text, tok.spans(codes, ends - lens, ends)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", type=pathlib.Path, default=SHARED / "cws" / "199801_raw.utf8")
    ap.add_argument("--mb", type=float, default=2.0, help="first N MB of the input (0 = all)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--verify-all", action="store_true")
    args = ap.parse_args()

    import jieba

    jieba.setLogLevel(60)
    t = time.perf_counter()
    jieba.initialize()
    t_jieba_init = time.perf_counter() - t
    t = time.perf_counter()
    toks = {h: JiebaTokenizer(hmm=h).warmup() for h in (True, False)}
    t_ours_init = time.perf_counter() - t
    print(f"start-up: jieba.initialize {t_jieba_init:.2f} s; JiebaTokenizer load + warm-up "
          f"(cached dictionary arrays and kernels) {t_ours_init:.2f} s", file=sys.stderr)

    lines = read_lines(args.input, args.mb)
    nbytes = sum(len(x.encode("utf-8")) for x in lines)
    print(f"input: {args.input.name}, {len(lines)} lines, {nbytes / 1e6:.2f} MB; "
          f"median of {args.repeat}", file=sys.stderr)
    print(f"| HMM | method | seconds | MB/s | speed-up vs jieba.lcut |")
    print("|---|---|---|---|---|")
    for hmm in (True, False):
        tok = toks[hmm]

        def naive_count():
            d = {}
            for line in lines:
                for t in jieba.cut(line, HMM=hmm):
                    d[t] = d.get(t, 0) + 1
            return d

        def jieba_lcut():
            return [jieba.lcut(line, HMM=hmm) for line in lines]

        def ours_spans():
            return spans_tokens(tok, lines)

        def ours_count():
            text, (starts, ends) = spans_tokens(tok, lines)
            d = {}
            for s, e in zip(starts.tolist(), ends.tolist()):
                t = text[s:e]
                d[t] = d.get(t, 0) + 1
            return d

        def ours_lcut():
            return [tok.lcut(line) for line in lines]

        rows = []
        t_ref, ref = timed(jieba_lcut, args.repeat)
        t_naive, ref_counts = timed(naive_count, args.repeat)
        t_spans, (text, (starts, ends)) = timed(ours_spans, args.repeat)
        t_count, counts = timed(ours_count, args.repeat)
        t_lcut, ours = timed(ours_lcut, args.repeat)
        flat = [t for toks_ in ref for t in toks_]
        assert ours == ref, "lcut differs from jieba"
        assert [text[s:e] for s, e in zip(starts.tolist(), ends.tolist())] == flat
        assert counts == ref_counts
        rows = [("jieba naive count", t_naive), ("jieba.lcut per line", t_ref),
                ("textmine spans", t_spans), ("textmine spans + count", t_count),
                ("textmine lcut per line", t_lcut)]
        for name, secs in rows:
            print(f"| {'on' if hmm else 'off'} | {name} | {secs:.3f} | {nbytes / 1e6 / secs:.2f} | "
                  f"{t_ref / secs:.1f}x |")
        sys.stdout.flush()

    if args.verify_all:
        files = sorted((SHARED / "raw").glob("*.txt")) + [SHARED / "cws" / "199801_raw.utf8",
                                                           SHARED / "cws" / "pku_test.utf8"]
        total = 0
        for path in files:
            lines = read_lines(path, 0)
            total += path.stat().st_size
            for hmm in (True, False):
                text, (starts, ends) = spans_tokens(toks[hmm], lines)
                ours = [text[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
                ref = [t for line in lines for t in jieba.lcut(line, HMM=hmm)]
                status = "equal" if ours == ref else "DIFFERENT"
                print(f"verify {path.name} HMM={hmm}: {len(ref)} tokens, {status}", file=sys.stderr)
                assert ours == ref
        print(f"verified {total / 1e6:.1f} MB token for token, HMM on and off", file=sys.stderr)


if __name__ == "__main__":
    main()
