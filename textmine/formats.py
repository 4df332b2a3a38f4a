"""File formats shared by the stages: atomic output, TSV, jieba dictionaries and lexicons.

Every file textmine writes is written to ``path + '.tmp'`` and moved into place with
``os.replace`` when complete, so an error or Ctrl-C never leaves a half-written file.
``-`` means standard output. Output is UTF-8 with ``\\n`` line ends.
"""
import contextlib
import io
import os
import sys

from textmine.errors import TextmineError


@contextlib.contextmanager
def atomic_output(path, mode="w", encoding="utf-8"):
    """Open ``path`` for writing atomically; ``'-'`` or ``None`` writes to stdout.

    Yields a file object. On success the temporary file replaces ``path``; on any exception
    (including ``KeyboardInterrupt``) it is removed and ``path`` is left as it was.
    """
    binary = "b" in mode
    if path in (None, "-"):
        if binary:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        else:
            out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n",
                                   write_through=False, line_buffering=False)
            try:
                yield out
                out.flush()
            finally:
                out.detach()
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise TextmineError(f"{path}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise TextmineError(f"{path}: is a directory, not a file")
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        f = open(tmp, mode, **({} if binary else {"encoding": encoding, "newline": "\n"}))
    except OSError as e:
        raise TextmineError(f"{path}: cannot write ({e.strerror or e})") from None
    try:
        with f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_token(token):
    """Reject tokens that would break a TSV line."""
    if "\t" in token or "\n" in token or "\r" in token:
        raise TextmineError(f"token {token!r} contains a TAB, CR or LF and cannot be written as TSV")
    return token


def write_counts(out, tokens, counts, header=None):
    """Write ``token<TAB>count`` lines (already sorted) through a buffered writer."""
    if header:
        out.write("\t".join(header) + "\n")
    write = out.write
    chunk = []
    for t, c in zip(tokens, counts):
        chunk.append(f"{t}\t{c}\n")
        if len(chunk) >= 8192:
            write("".join(chunk))
            chunk = []
    if chunk:
        write("".join(chunk))


def read_word_counts(path, encoding="utf-8"):
    """Read a word list with frequencies: a textmine lexicon or count TSV (``word<TAB>count[...]``)
    or a jieba dictionary (``word freq [tag]``, space separated).

    Returns ``(words, counts)`` lists. Raises :class:`TextmineError` naming ``file:line`` on a
    malformed line, and on an empty dictionary. A BOM and CRLF are tolerated; ``#`` lines and
    blank lines are skipped. Later duplicates add to earlier ones.
    """
    from textmine.corpus import ReadOptions, Shard, iter_lines, resolve_inputs

    resolve_inputs([path])
    words, counts, index = [], [], {}
    for lineno, line in enumerate(iter_lines(Shard(path), ReadOptions(encoding)), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split("\t") if "\t" in s else s.split(" ")
        parts = [p for p in parts if p != ""]
        if len(parts) < 2:
            raise TextmineError(f"{path}:{lineno}: expected 'word<TAB>count' or 'word freq [tag]', got {s[:60]!r}")
        w, c = parts[0], parts[1]
        try:
            n = float(c)
        except ValueError:
            raise TextmineError(f"{path}:{lineno}: frequency {c!r} of {w!r} is not a number") from None
        if not n >= 0 or n != n or n == float("inf"):
            raise TextmineError(f"{path}:{lineno}: frequency {c!r} of {w!r} must be a finite number >= 0")
        if w in index:
            counts[index[w]] += n
        else:
            index[w] = len(words)
            words.append(w)
            counts.append(n)
    if not words:
        raise TextmineError(f"{path}: dictionary is empty")
    return words, counts
