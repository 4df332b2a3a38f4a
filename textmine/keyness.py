"""New words only (``--exclude``) and keyness against a reference corpus (``--reference``).

Both act on a finished :class:`~textmine.discover.DiscoverResult`: the discovery statistics are
computed on the whole corpus first, then rows are dropped, scored and re-sorted.

**Exclusion lists** (:func:`read_exclude`): each file is a jieba dictionary (``word freq [tag]``,
space separated), a textmine lexicon or count TSV (``word<TAB>count...``), or a plain word list (one
word per line, spaces allowed inside a word). The kind is read off the first line that is not blank
and not a ``#`` comment: a TAB makes it a lexicon, a number after the first space a jieba
dictionary, anything else a word list; every later line must be of the same kind, or the error
names ``FILE:LINE``. Words are compared after folding full-width letters and digits, as discovery
does.

**Keyness** (ALGORITHMS-2.md §4.3; Dunning 1993; Hardie 2014). A discovered word occurs ``a``
times in the target, whose size is ``c``, and ``b`` times in the reference, of size ``d``:

* target: ``a`` is the word's ``count`` column (its occurrences in the target's segmentation into
  discovered words: pieces after cutting plus the redundant longer words re-segmented into it) and
  ``c`` the sum of that column over every discovered word, so ``c`` is the number of word tokens of
  the target;
* reference text: the reference is segmented by maximum probability with the discovered lexicon
  (its words scored by their target counts; textmine's :class:`~textmine.segment.Segmenter`, the
  ``segment`` command's DP), so it is cut into the same kind of tokens as the target; ``b`` is the
  exact number of tokens equal to the word and ``d`` the number of tokens made of word characters
  (Han, Latin letters, digits; punctuation and symbols are no tokens on either side). Every line
  of the reference is segmented: no sampling. Substring counting was rejected: it counts 中国 inside
  every 中国人 on the reference side but not on the target side, where discovery's counts are
  token counts, so the two sides would measure different things;
* reference counts (``textmine count`` output, ``token<TAB>count``, with or without its
  ``--header`` line; recognised by its first line): ``b`` is the count of the token equal to the
  word and ``d`` the sum of the counts of tokens with a word character (as for text).

Exclusion and count files are read as lines whatever their extension; a reference corpus is read
like the input (``--encoding``, ``--errors``, ``--input-format``, ``--field``).

``llr`` is the 2x2 log-likelihood ratio G² of the table ``[[a, b], [c - a, d - b]]`` (Dunning's
four cells; scipy's ``chi2_contingency(..., correction=False, lambda_="log-likelihood")``),
``log_ratio`` is ``log2((a/c) / (b/d))`` with a zero ``b`` replaced by 0.5 (Hardie's Log Ratio).
Only over-represented words (``a/c > b/d``) with ``llr >= min_llr`` are kept.
"""
import math
import re
from dataclasses import dataclass, field

import numpy as np

from textmine.errors import TextmineError

#: chi²(1) critical value for p < 0.001, the default --min-llr.
LLR_P001 = 10.83

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")


# --------------------------------------------------------------------------------------------- exclude
def read_exclude(path, read=None):
    """The set of words (width-folded) of one exclusion file; see the module docstring for the kinds.

    ``read`` is a :class:`~textmine.corpus.ReadOptions`. Raises :class:`TextmineError` naming
    ``FILE:LINE`` on a line that does not fit the file's kind, and naming the file when it holds
    no word.
    """
    from textmine.corpus import ReadOptions, Shard, display, iter_line_blocks, resolve_inputs
    from textmine.discover import fold_width

    files = resolve_inputs([path])
    read = _as_text(read or ReadOptions("utf-8", option="", errors_option=""))
    words = set()
    for f in files:
        name = display(f)
        kind = None
        lineno = 0
        for lines in iter_line_blocks(Shard(f), read):
            for line in lines:
                lineno += 1
                s = line.strip()
                if not s or s.startswith("#"):
                    continue
                if kind is None:
                    if "\t" in s:
                        kind = "lexicon"
                    else:
                        parts = s.split()
                        kind = "jieba" if len(parts) >= 2 and _NUMBER.fullmatch(parts[1]) else "list"
                w = _exclude_word(s, kind, name, lineno)
                words.add(fold_width(w) if _WIDE.search(w) else w)
    if not words:
        raise TextmineError(f"{path}: the --exclude file holds no word")
    return words


_WIDE = re.compile("[\uff05\uff0e\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")  # what fold_width changes


def _exclude_word(s, kind, name, lineno):
    """The word of the stripped, non-comment line ``s`` of an exclusion file of ``kind``."""
    if kind == "lexicon":
        parts = s.split("\t")
        if len(parts) < 2 or not parts[0].strip() or not _is_count(parts[1].strip()):
            raise TextmineError(f"{name}:{lineno}: expected 'word<TAB>count' as in the first line of this "
                                f"textmine lexicon, got {s[:60]!r}")
        return parts[0].strip()
    if kind == "jieba":
        parts = s.split()
        if not 2 <= len(parts) <= 3 or not _NUMBER.fullmatch(parts[1]):
            raise TextmineError(f"{name}:{lineno}: expected 'word freq [tag]' as in the first line of this "
                                f"jieba dictionary, got {s[:60]!r}")
        return parts[0]
    if "\t" in s:
        raise TextmineError(f"{name}:{lineno}: a TAB in a plain word list (one word per line; the "
                            f"first line had no TAB), got {s[:60]!r}")
    return s


def _as_text(read):
    """``read`` for a file of lines whatever its extension (a .tsv word list is no record file)."""
    import dataclasses
    return dataclasses.replace(read, input_format="text")


def _is_count(text):
    if not _NUMBER.fullmatch(text):
        return False
    x = float(text)
    return math.isfinite(x) and x >= 0


def exclude_mask(words, excluded):
    """Boolean list: True for each word (width-folded) not in ``excluded``."""
    from textmine.discover import fold_width
    return [fold_width(w) not in excluded for w in words]


# --------------------------------------------------------------------------------------------- statistics
def _xlogx_over(o, e):
    """o * ln(o / e), 0 where o == 0 (elementwise)."""
    o = np.asarray(o, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    out = np.zeros(np.broadcast(o, e).shape)
    pos = o > 0
    np.multiply(o, np.log(np.divide(o, e, out=np.ones_like(out), where=pos)), out=out, where=pos)
    return out


def log_likelihood(a, b, c, d):
    """Dunning's G² of the 2x2 tables ``[[a, b], [c - a, d - b]]`` (arrays or scalars).

    ``a`` of ``c`` target tokens, ``b`` of ``d`` reference tokens; ``0 ln 0 = 0``. Unsigned.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    c, d = np.asarray(c, dtype=np.float64), np.asarray(d, dtype=np.float64)
    n = c + d
    k = a + b
    g = (_xlogx_over(a, c * k / n) + _xlogx_over(b, d * k / n)
         + _xlogx_over(c - a, c * (n - k) / n) + _xlogx_over(d - b, d * (n - k) / n))
    return np.maximum(2.0 * g, 0.0)


def log_ratio(a, b, c, d):
    """Hardie's Log Ratio ``log2((a/c) / (b/d))``, a zero count replaced by 0.5."""
    a = np.where(np.asarray(a, dtype=np.float64) == 0, 0.5, a)
    b = np.where(np.asarray(b, dtype=np.float64) == 0, 0.5, b)
    return np.log2((a / np.asarray(c, dtype=np.float64)) / (b / np.asarray(d, dtype=np.float64)))


# --------------------------------------------------------------------------------------------- reference
@dataclass
class Reference:
    """Counts of the discovered words in a reference: ``counts[i]`` for ``words[i]``, ``size`` = d."""

    counts: np.ndarray
    size: int
    kind: str  # "text" or "counts"
    info: dict = field(default_factory=dict)


def _looks_like_counts(path, read):
    """True when ``path`` is one file whose first non-blank line is ``token<TAB>integer``."""
    import os

    from textmine.corpus import Shard, iter_lines
    if path == "-" or not os.path.isfile(path):
        return False
    for line in iter_lines(Shard(path), read):
        if not line.strip():
            continue
        parts = line.split("\t")
        return len(parts) == 2 and (parts[1].strip().isdigit() or line.strip() == _COUNT_HEADER)
    return False


#: The line ``textmine count --header`` writes first.
_COUNT_HEADER = "token\tcount"


def _read_reference_counts(path, read):
    from textmine.corpus import Shard, iter_lines
    from textmine.discover import fold_width
    counts, total, first = {}, 0, True
    for lineno, line in enumerate(iter_lines(Shard(path), read), 1):
        if not line.strip():
            continue
        if first and line.strip() == _COUNT_HEADER:
            first = False
            continue
        first = False
        parts = line.split("\t")
        if len(parts) != 2 or not parts[1].strip().isdigit():
            raise TextmineError(f"{path}:{lineno}: expected 'token<TAB>count' as in the first line of these "
                                f"reference counts, got {line[:60]!r}")
        n = int(parts[1])
        if not _word_char_token(parts[0]):  # punctuation is no token, as in a segmented reference
            continue
        w = fold_width(parts[0])
        counts[w] = counts.get(w, 0) + n
        total += n
    return counts, total


def _word_char_token(tok):
    return any(ch.isalnum() for ch in tok)


def count_reference(words, counts, path, read=None, n_jobs=1, is_counts=None):
    """Exact counts of ``words`` in the reference at ``path`` (text or counts TSV; see the module docstring).

    ``counts`` are the target counts (the segmentation's word scores). Raises :class:`TextmineError`
    when the reference is empty or shares no discovered word.
    """
    from textmine.corpus import ReadOptions, display, iter_line_blocks, make_shards, resolve_inputs
    from textmine.discover import fold_width

    read = read or ReadOptions("utf-8", option="", errors_option="")
    if is_counts is None:
        is_counts = _looks_like_counts(path, _as_text(read))
    folded = [fold_width(w) for w in words]
    if is_counts:
        table, size = _read_reference_counts(path, _as_text(read))
        kind = "counts"
    else:
        from textmine.segment import Segmenter
        files = resolve_inputs([path])
        seg = Segmenter(words, counts)
        from collections import Counter
        from itertools import chain
        raw = Counter()  # every token, as written; punctuation and folding are settled per distinct token
        for shard in make_shards(files, opts=read):
            for lines in iter_line_blocks(shard, read, 1 << 20):
                raw.update(chain.from_iterable(seg.segment_lines(lines, n_jobs=n_jobs)))
        table, size = {}, 0
        for t, k in raw.items():
            if _word_char_token(t):
                t = fold_width(t)
                table[t] = table.get(t, 0) + k
                size += k
        kind = "text"
    if size == 0:
        raise TextmineError(f"--reference {display(path)}: the reference is empty (no "
                            f"{'counts' if is_counts else 'word characters'}); keyness needs a reference corpus")
    ref = np.array([table.get(w, 0) for w in folded], dtype=np.int64)
    if not ref.any():
        raise TextmineError(f"--reference {display(path)}: the reference shares no word with the "
                            f"{len(words)} discovered words; is it in the same language and encoding?")
    return Reference(ref, size, kind)


# --------------------------------------------------------------------------------------------- the table
@dataclass
class Table:
    """The rows to write: ``rows`` are indices into the :class:`DiscoverResult`, in output order;
    ``columns`` the extra columns (name -> list aligned with ``rows``), empty without a reference."""

    rows: list
    columns: dict
    messages: list


@dataclass
class Excludes:
    """The words of the ``--exclude`` files (width-folded) and how many files they came from."""

    words: set
    files: int

    def __len__(self):
        return self.files


def load_excludes(paths, read=None):
    """:class:`Excludes` of the files ``paths``: read before discovery, so a bad file stops at once."""
    words = set()
    for path in paths:
        words |= read_exclude(path, read)
    return Excludes(words, len(paths))


def check_reference(path):
    """Raise :class:`TextmineError` now, before discovery, when the reference cannot be found."""
    from textmine.corpus import resolve_inputs
    resolve_inputs([path])


def select(result, exclude=(), reference=None, sort=None, min_llr=None, read=None, n_jobs=1):
    """Rows of ``result`` after ``--exclude`` and ``--reference`` (see the module docstring).

    ``exclude``: paths or :class:`Excludes`. ``sort``: ``None`` (``llr`` with a reference, else
    discovery's order), ``count``, ``llr`` or ``log_ratio``. Returns a :class:`Table`; its ``messages`` are lines for stderr.
    """
    words, counts = result.words, result.counts
    n = len(words)
    keep = np.ones(n, dtype=bool)
    messages = []
    if exclude:
        excluded = exclude.words if isinstance(exclude, Excludes) else load_excludes(exclude, read).words
        keep &= np.array(exclude_mask(words, excluded), dtype=bool)
        messages.append(f"--exclude: {n - int(keep.sum())} of {n} discovered words are in the "
                        f"{len(exclude)} exclusion file(s) ({len(excluded)} words); {int(keep.sum())} new words left")
    columns = {}
    a = np.asarray(counts, dtype=np.int64)
    if reference is not None:
        ref = count_reference(words, counts, reference, read=read, n_jobs=n_jobs)
        c, d = int(a.sum()), int(ref.size)
        llr = log_likelihood(a, ref.counts, c, d)
        lr = log_ratio(a, ref.counts, c, d)
        over = a.astype(np.float64) * d > ref.counts.astype(np.float64) * c  # no int64 overflow
        threshold = LLR_P001 if min_llr is None else min_llr
        before = int(keep.sum())
        keep &= over & (llr >= threshold)
        messages.append(f"--reference: target {c} word tokens, reference {d} tokens ({ref.kind}); "
                        f"{int(keep.sum())} of {before} words over-represented with llr >= {threshold:g}")
        columns = {"ref_count": ref.counts, "llr": llr, "log_ratio": lr}
        sort = sort or "llr"
    rows = np.flatnonzero(keep)
    if sort in ("llr", "log_ratio"):
        key = columns[sort][rows]
        # descending score, then descending count, then discovery's order (count, code point)
        order = np.lexsort((rows, -a[rows], -key))
        rows = rows[order]
    elif sort not in (None, "count"):
        raise ValueError(f"unknown sort {sort!r}")
    rows = rows.tolist()
    out = {name: [col[i] for i in rows] for name, col in columns.items()}
    return Table(rows, out, messages)


def format_columns(table, start, stop):
    """TSV text of the extra columns of rows ``start:stop`` (each with a leading TAB), or ``[""]``s."""
    k = stop - start
    if not table.columns:
        return [""] * k
    rc = table.columns["ref_count"][start:stop]
    ll = table.columns["llr"][start:stop]
    lr = table.columns["log_ratio"][start:stop]
    return [f"\t{r}\t{x:.4f}\t{y:.4f}" for r, x, y in zip(rc, ll, lr)]


def take(result, rows):
    """A copy of the :class:`~textmine.discover.DiscoverResult` with only ``rows``, in that order."""
    import dataclasses
    pick = lambda col: [col[i] for i in rows]  # noqa: E731
    return dataclasses.replace(result, words=pick(result.words), counts=pick(result.counts),
                               cohesion=pick(result.cohesion), pmi=pick(result.pmi), gain=pick(result.gain))
