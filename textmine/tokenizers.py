"""Tokenizers for ``textmine count``: a batch of lines in, code-point units out.

Every tokenizer returns ``(codes, ustart, uend, goff, joined)``: ``codes`` is a ``uint32`` array of
code points, unit ``u`` is ``codes[ustart[u]:uend[u]]``, group ``g`` (a line, or for ``ngram`` a
run of word characters) holds units ``goff[g]:goff[g+1]``. ``joined`` says whether n-grams of
units must be joined by spaces (word n-grams) or are plain substrings (character n-grams).

Names (``--tokenizer``):

* ``jieba``: exactly ``jieba.lcut(line)`` (HMM on; ``jieba:nohmm`` for HMM off), whitespace tokens dropped;
  ``jieba:dict=FILE`` / ``jieba:nohmm:dict=FILE`` with FILE as jieba's main dictionary
  (``jieba.set_dictionary(FILE)``).
* ``char``: every character except whitespace.
* ``ngram``: character n-grams that do not cross punctuation, symbols or whitespace.
* ``space``: runs of non-whitespace (``str.split()``).
* ``lexicon:FILE``: maximum-probability segmentation with a textmine lexicon or jieba dictionary.
"""
import os

import numpy as np

from textmine.errors import TextmineError

NAMES = ("jieba", "char", "ngram", "space", "lexicon:FILE")
_CLS = None


def char_classes():
    """``uint8[0x110000]``: 1 for letters and digits (``str.isalnum``), 2 for whitespace, else 0."""
    global _CLS
    if _CLS is None:
        import re

        chars = np.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
        cls = np.zeros(0x110000, np.uint8)
        # for str patterns, [^\W_] is exactly str.isalnum and \s exactly str.isspace
        for m in re.finditer(r"[^\W_]+", chars):
            cls[m.start():m.end()] = 1
        for m in re.finditer(r"\s+", chars):
            cls[m.start():m.end()] = 2
        _CLS = cls
    return _CLS


def encode_lines(lines):
    """Code points of the lines concatenated, with ``line_starts`` and ``line_ends`` (int64)."""
    text = "".join(lines)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lens = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    ends = np.cumsum(lens)
    return codes, ends - lens, ends


class CharTokenizer:
    """``char`` (mode 1), ``ngram`` (mode 0) and ``space`` (mode 2) in one numba kernel."""

    def __init__(self, name):
        self.name = name
        self.mode = {"ngram": 0, "char": 1, "space": 2}[name]

    def units(self, lines):
        from textmine._spantable import char_units

        codes, starts, ends = encode_lines(lines)
        ustart, uend, goff = char_units(codes, starts, ends, char_classes(), self.mode)
        return codes, ustart, uend, goff, self.mode != 0


def _spans_to_units(codes, starts, ends, line_starts):
    """Drop whitespace-only tokens and group the token spans by line."""
    cls = char_classes()
    if len(starts):
        first = codes[starts]
        keep = cls[first] != 2
        starts, ends = starts[keep], ends[keep]
    goff = np.searchsorted(starts, line_starts, side="left").astype(np.int64)
    goff = np.append(goff, len(starts)).astype(np.int64)
    return codes, starts.astype(np.int64), ends.astype(np.int64), goff, True


class JiebaTokenizer:
    """jieba's tokens, computed by :mod:`textmine.jiebacut` (numba, token-for-token equal)."""

    def __init__(self, hmm=True, dictionary=None):
        self.hmm = hmm
        self.dictionary = dictionary
        self._tok = None

    def _impl(self):
        if self._tok is None:
            from textmine.jiebacut import JiebaTokenizer as Fast

            self._tok = Fast(hmm=self.hmm, dictionary=self.dictionary)
        return self._tok

    def warmup(self):
        self._impl().warmup()

    def units(self, lines):
        codes, line_starts, line_ends = encode_lines(lines)
        starts, ends = self._impl().spans(codes, line_starts, line_ends)
        return _spans_to_units(codes, np.asarray(starts, np.int64), np.asarray(ends, np.int64), line_starts)


class LexiconTokenizer:
    """``lexicon:FILE``: the max-probability segmenter of :mod:`textmine.segment`."""

    def __init__(self, path):
        self.path = path
        self._seg = None

    def _impl(self):
        if self._seg is None:
            from textmine.segment import load_lexicon

            self._seg = load_lexicon(self.path)
        return self._seg

    def warmup(self):
        self._impl().segment_lines(["预热"])

    def units(self, lines):
        words = self._impl().segment_lines(lines)
        flat = [w for ws in words for w in ws]
        codes, _, _ = encode_lines(["".join(flat)])
        lens = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
        ends = np.cumsum(lens)
        starts = ends - lens
        per_line = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        first_tok = np.concatenate([[0], np.cumsum(per_line)])[:-1]
        line_starts = np.append(starts, codes.shape[0])[first_tok] if len(flat) else np.zeros(len(lines), np.int64)
        return _spans_to_units(codes, starts, ends, line_starts)

    def __getstate__(self):
        return {"path": self.path, "_seg": None}


def make_tokenizer(spec):
    """Build a tokenizer from its ``--tokenizer`` name (see module docstring)."""
    if spec in ("char", "ngram", "space"):
        return CharTokenizer(spec)
    if spec == "units":  # discover-words' units, for discover-words --counts
        from textmine.discover import UnitTokenizer

        return UnitTokenizer()
    if spec == "jieba" or spec.startswith(("jieba:nohmm", "jieba:dict=")):
        rest, hmm, dictionary = spec[len("jieba"):], True, None
        if rest.startswith(":nohmm"):
            rest, hmm = rest[len(":nohmm"):], False
        if rest.startswith(":dict="):
            rest, dictionary = "", rest[len(":dict="):]
            if not dictionary:
                raise TextmineError("--tokenizer jieba:dict=FILE needs a file")
            from textmine.corpus import resolve_inputs

            resolve_inputs([dictionary])
            dictionary = os.path.abspath(dictionary)
        if not rest:
            return JiebaTokenizer(hmm=hmm, dictionary=dictionary)
    if spec.startswith("lexicon:"):
        path = spec[len("lexicon:"):]
        if not path:
            raise TextmineError("--tokenizer lexicon:FILE needs a file, e.g. lexicon:lex.tsv")
        from textmine.corpus import resolve_inputs

        resolve_inputs([path])
        return LexiconTokenizer(path)
    raise TextmineError(f"unknown tokenizer {spec!r}; choose one of {', '.join(NAMES)}")
