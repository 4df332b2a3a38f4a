"""Scoring of word segmentation against a gold standard (SIGHAN bakeoff style).

A word is its ``(start, end)`` character span within its line. With ``G`` the gold spans and
``S`` the system's, ``P = |G ∩ S| / |S|``, ``R = |G ∩ S| / |G|`` and ``F = 2PR / (P + R)``.
OOV words are gold words absent from the training word list; OOV recall is the recall on them,
IV recall the recall on the rest. This reproduces the official ``score`` script to the printed
precision (jieba 0.42.1 default on PKU: F 0.818, OOV-R 0.583).
"""
from dataclasses import dataclass

from textmine.errors import TextmineError


@dataclass
class SegmentationScore:
    precision: float
    recall: float
    f1: float
    oov_rate: float
    oov_recall: float
    iv_recall: float
    gold_words: int
    test_words: int

    def as_dict(self):
        return dict(self.__dict__)


def _spans(words):
    out, pos = [], 0
    for w in words:
        out.append((pos, pos + len(w)))
        pos += len(w)
    return out


def score_segmentation(gold_lines, test_lines, iv_words=()):
    """Score segmented ``test_lines`` against ``gold_lines`` (each a list of words or a string
    whose words are separated by whitespace runs).

    Raises :class:`TextmineError` when the line counts differ or a line's characters differ.
    """
    iv = set(iv_words)
    gold_lines, test_lines = list(gold_lines), list(test_lines)
    if len(gold_lines) != len(test_lines):
        raise TextmineError(f"gold has {len(gold_lines)} lines but the output has {len(test_lines)}")
    n_gold = n_test = n_match = n_oov = n_oov_match = n_iv_match = 0
    for lineno, (g, t) in enumerate(zip(gold_lines, test_lines), 1):
        gw = g.split() if isinstance(g, str) else [w for w in g if w.strip()]
        tw = t.split() if isinstance(t, str) else [w for w in t if w.strip()]
        if "".join(gw) != "".join(tw):
            raise TextmineError(f"line {lineno}: output characters differ from the gold line")
        gs, ts = _spans(gw), set(_spans(tw))
        n_gold += len(gs)
        n_test += len(ts)
        for w, span in zip(gw, gs):
            hit = span in ts
            n_match += hit
            if w in iv:
                n_iv_match += hit
            else:
                n_oov += 1
                n_oov_match += hit
    p = n_match / n_test if n_test else 0.0
    r = n_match / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    n_iv = n_gold - n_oov
    return SegmentationScore(p, r, f, n_oov / n_gold if n_gold else 0.0,
                             n_oov_match / n_oov if n_oov else 0.0,
                             n_iv_match / n_iv if n_iv else 0.0, n_gold, n_test)


def read_training_words(path):
    """The PKU training word list, without the sentence-id entries (``19980117-01-004-009``)."""
    import re

    pat = re.compile(r"^\d{8}-\d{2}-\d{3}-\d{3}$")
    with open(path, encoding="utf-8-sig") as f:
        return {w.strip() for w in f if w.strip() and not pat.match(w.strip())}


# --------------------------------------------------------------------------------------------
# word vectors: word-pair similarity and analogies (``textmine evaluate``)
# --------------------------------------------------------------------------------------------

def _unit_rows(vectors):
    """float32 unit rows (a zero row stays zero), as gensim's ``get_vector(norm=True)``."""
    import numpy as np

    x = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1)
    norms[norms == 0] = 1.0
    return (x / norms[:, None]).astype(np.float32)


def vocabulary_index(words, restrict_vocab=None, ignore_case=False):
    """``word -> row`` over the first ``restrict_vocab`` words (all when None); with
    ``ignore_case`` the keys are upper-cased and the first (most frequent) spelling wins, as in
    gensim's ``evaluate_word_pairs`` / ``evaluate_word_analogies``."""
    n = len(words) if restrict_vocab is None else min(int(restrict_vocab), len(words))
    index = {}
    for i in range(n):
        key = words[i].upper() if ignore_case else words[i]
        index.setdefault(key, i)
    return index


def read_word_pairs(path, score_column=3, encoding="utf-8", stats=None):
    """Word pairs with a human score from a WordSim/SimLex/MEN/COS960-style file.

    Columns are TAB-separated when the line has a TAB, else separated by runs of spaces; the two
    words are the first two columns and the score is column ``score_column`` (1-based). Blank
    lines and lines starting with ``#`` are skipped, and so is a first line whose score is not a
    number (a header). Returns a list of ``(word1, word2, score, line_number)``; ``stats`` (a
    dict), if given, receives ``"header"``: the skipped header line as ``(line_number, text)``, or
    None.

    Raises :class:`TextmineError` naming ``FILE:LINE`` for a line with too few columns, an empty
    word or score column (``a<TAB><TAB>b<TAB>3``: the columns would shift), or a score that is not
    a number (after the first line).
    """
    from textmine.corpus import display

    name = display(path)
    pairs = []
    first = True
    if stats is not None:
        stats["header"] = None
    with _open_text(path, encoding) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if lineno == 1:
                line = line.lstrip("\ufeff")
            if not line.strip() or line.startswith("#"):
                continue
            cols = [c.strip() for c in line.split("\t")] if "\t" in line else line.split()
            is_first, first = first, False
            if len(cols) < max(3, score_column):
                raise TextmineError(f"{name}:{lineno}: {len(cols)} columns, need two words and a score "
                                    f"in column {score_column}")
            for k in sorted({0, 1, score_column - 1}):
                if not cols[k]:
                    raise TextmineError(f"{name}:{lineno}: column {k + 1} is empty ({'a word' if k < 2 else 'the score'}); "
                                        f"got {line[:60]!r}")
            try:
                score = float(cols[score_column - 1])
            except ValueError:
                if is_first:
                    if stats is not None:
                        stats["header"] = (lineno, line)
                    continue  # a header line
                raise TextmineError(f"{name}:{lineno}: score {cols[score_column - 1]!r} is not a number "
                                    f"(column {score_column}; see --score-column)") from None
            if score != score:
                raise TextmineError(f"{name}:{lineno}: score is NaN")
            pairs.append((cols[0], cols[1], score, lineno))
    return pairs


def _open_text(path, encoding):
    import io

    from textmine.formats import _read_all

    data = _read_all(path)
    try:
        return io.StringIO(data.decode(encoding))
    except UnicodeDecodeError as e:
        from textmine.corpus import display
        line = data.count(b"\n", 0, e.start) + 1
        raise TextmineError(f"{display(path)}:{line}: cannot decode as {encoding} ({e.reason} at byte offset "
                            f"{e.start}); try another --encoding") from None
    except LookupError:
        raise TextmineError(f"unknown encoding {encoding!r}; try utf-8 or gb18030") from None


def evaluate_word_pairs(words, vectors, pairs, restrict_vocab=None, ignore_case=False):
    """Spearman's ρ between the cosines and the human scores of ``pairs``.

    Parameters
    ----------
    words : list of str
        Vocabulary, most frequent first (as written by ``embed``).
    vectors : ndarray, shape (V, D)
    pairs : list of (str, str, float[, ...])
    restrict_vocab : int, optional
        Only the first N words count as known.
    ignore_case : bool
        Match case-insensitively (gensim's ``case_insensitive=True``).

    Returns
    -------
    dict
        ``spearman``, ``pearson``, ``pairs`` (all), ``used`` (both words known), ``oov`` (the rest).
        Equal to gensim's ``KeyedVectors.evaluate_word_pairs`` with the same ``restrict_vocab`` and
        ``case_insensitive``.

    Raises :class:`TextmineError` when fewer than two pairs have both words in the vocabulary.
    """
    import numpy as np
    from scipy import stats

    index = vocabulary_index(words, restrict_vocab, ignore_case)
    unit = _unit_rows(vectors)
    model, human = [], []
    for p in pairs:
        a, b = (p[0].upper(), p[1].upper()) if ignore_case else (p[0], p[1])
        if a in index and b in index:
            model.append(float(np.dot(unit[index[a]], unit[index[b]])))
            human.append(float(p[2]))
    used = len(model)
    if used < 2:
        raise TextmineError(f"no usable pairs: {used} of {len(pairs)} have both words in the vocabulary")
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = float(stats.spearmanr(human, model)[0])
        r = float(stats.pearsonr(human, model)[0]) if np.ptp(model) > 0 and np.ptp(human) > 0 else float("nan")
    return {"spearman": rho, "pearson": r, "pairs": len(pairs), "used": used, "oov": len(pairs) - used}


def read_analogies(path, encoding="utf-8"):
    """Analogy questions in word2vec's ``questions-words.txt`` format.

    ``: section`` lines open a section; every other non-blank line is four words ``a b c d``
    (``a`` is to ``b`` as ``c`` is to ``d``). Returns a list of ``(section, [(a, b, c, d,
    line_number), ...])``.

    Raises :class:`TextmineError` naming ``FILE:LINE`` for a question before any section line or
    a line that is not four words, and when the file holds no question.
    """
    from textmine.corpus import display

    name = display(path)
    sections = []
    with _open_text(path, encoding) as f:
        for lineno, line in enumerate(f, 1):
            if lineno == 1:
                line = line.lstrip("\ufeff")
            if line.startswith(": "):
                sections.append((line.lstrip(": ").strip(), []))
                continue
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise TextmineError(f"{name}:{lineno}: an analogy line is four words (a b c d), "
                                    f"not {len(parts)}")
            if not sections:
                raise TextmineError(f"{name}:{lineno}: a question before the first ': section' line")
            sections[-1][1].append((*parts, lineno))
    if not any(qs for _, qs in sections):
        raise TextmineError(f"{name}: no analogy questions")
    return sections


def evaluate_analogies(words, vectors, sections, method="3cosadd", restrict_vocab=None, ignore_case=False):
    """Accuracy on analogy questions ``a : b :: c : ?``, per section and overall.

    The answer is the best-scoring word among the first ``restrict_vocab`` words, the three
    question words (and, with ``ignore_case``, their other spellings) excluded; a question with a
    word outside those words is skipped and counted as out of vocabulary. 3CosAdd scores
    ``cos(x, b - a + c)`` over unit vectors (gensim's ``most_similar``); 3CosMul scores
    ``cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-6)`` with ``cos' = (1 + cos) / 2`` (Levy and
    Goldberg 2014; gensim's ``most_similar_cosmul``).

    Returns
    -------
    dict
        ``sections``: a list of ``{"section", "correct", "total", "oov", "accuracy"}``;
        ``correct``, ``total`` (questions answered), ``oov``, ``accuracy`` overall. With
        ``method="3cosadd"`` equal to gensim's ``evaluate_word_analogies``.
    """
    import numpy as np

    if method not in ("3cosadd", "3cosmul"):
        raise TextmineError(f"unknown analogy method {method!r}")
    index = vocabulary_index(words, restrict_vocab, ignore_case)
    n = len(words) if restrict_vocab is None else min(int(restrict_vocab), len(words))
    unit = _unit_rows(vectors)[:n]
    keys = [w.upper() if ignore_case else w for w in words[:n]]
    out = []
    for name, questions in sections:
        correct = total = oov = 0
        for q in questions:
            a, b, c, d = (w.upper() for w in q[:4]) if ignore_case else q[:4]
            if a not in index or b not in index or c not in index or d not in index:
                oov += 1
                continue
            ia, ib, ic = index[a], index[b], index[c]
            if method == "3cosadd":
                mean = unit[ib] + unit[ic] - unit[ia]
                mean = mean / 3.0
                mean = (mean / np.linalg.norm(mean)).astype(np.float32)
                scores = unit @ mean
            else:
                sa, sb, sc = ((1 + unit @ unit[i]) / 2 for i in (ia, ib, ic))
                scores = sb * sc / (sa + 0.000001)
            scores = np.asarray(scores, dtype=np.float64)
            scores[[ia, ib, ic]] = -np.inf
            ignore = {a, b, c}
            best = np.argsort(-scores, kind="stable")[:5]
            predicted = None
            for i in best:
                predicted = keys[i]
                if predicted not in ignore:
                    break
            correct += predicted == d
            total += 1
        out.append({"section": name, "correct": correct, "total": total, "oov": oov,
                    "accuracy": correct / total if total else 0.0})
    correct = sum(s["correct"] for s in out)
    total = sum(s["total"] for s in out)
    return {"sections": out, "correct": correct, "total": total, "oov": sum(s["oov"] for s in out),
            "accuracy": correct / total if total else 0.0}
