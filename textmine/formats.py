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
    if os.path.exists(path) and not os.path.isfile(path):
        # a device or FIFO (/dev/null, a named pipe): write to it directly, never replace it
        kwargs = {} if binary else {"encoding": encoding, "newline": "\n"}
        try:
            f = open(path, mode, **kwargs)
        except OSError as e:
            raise TextmineError(f"{path}: cannot write ({e.strerror or e})") from None
        with f:
            yield f
        return
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


def write_word2vec(path, words, vectors, binary=False):
    """Write vectors in word2vec format (``V D`` header), text or binary, atomically.

    Parameters
    ----------
    path : str
        Output file or ``'-'``.
    words : sequence of str
        Tokens; a token with whitespace cannot be written.
    vectors : ndarray, shape (V, D)
        One row per word; written as float32 in binary mode, ``%.6g`` text otherwise.
    """
    import numpy as np

    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise TextmineError(f"{len(words)} words but vectors of shape {vectors.shape}")
    with atomic_output(path, "wb") as f:
        f.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode())
        if binary:
            v32 = np.ascontiguousarray(vectors, dtype="<f4")
            for w, row in zip(words, v32):
                f.write(w.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            lines = []
            for w, row in zip(words, vectors):
                if any(ch.isspace() for ch in w):
                    raise TextmineError(f"token {w!r} contains whitespace and cannot be written in word2vec format")
                lines.append(w + " " + " ".join(f"{x:.6g}" for x in row) + "\n")
                if len(lines) >= 4096:
                    f.write("".join(lines).encode("utf-8"))
                    lines = []
            f.write("".join(lines).encode("utf-8"))


def read_word2vec(path, binary=None):
    """Read a word2vec file (text or binary; ``binary=None`` guesses from the content).

    Returns ``(words, vectors)`` with vectors as a float32 array of shape (V, D). Raises
    :class:`TextmineError` with ``file:line`` on a malformed line.
    """
    import numpy as np

    from textmine.corpus import resolve_inputs

    resolve_inputs([path])
    with open(path, "rb") as f:
        header = f.readline()
        try:
            n, d = (int(x) for x in header.split())
        except ValueError:
            raise TextmineError(f"{path}:1: expected a 'V D' word2vec header, got {header[:60]!r}") from None
        if n < 0 or d <= 0:
            raise TextmineError(f"{path}:1: bad word2vec header {header.strip()!r}")
        body = f.read()
    if binary is None:
        try:
            body.decode("utf-8")
            binary = False
        except UnicodeDecodeError:
            binary = True
    words, vecs = [], np.empty((n, d), dtype=np.float32)
    if binary:
        pos = 0
        for i in range(n):
            sp = body.find(b" ", pos)
            if sp < 0 or sp + 4 * d > len(body):
                raise TextmineError(f"{path}: truncated binary vector {i + 1} of {n}")
            words.append(body[pos:sp].decode("utf-8", "replace").lstrip("\n"))
            vecs[i] = np.frombuffer(body, dtype="<f4", count=d, offset=sp + 1)
            pos = sp + 1 + 4 * d
            if pos < len(body) and body[pos:pos + 1] == b"\n":
                pos += 1
        return words, vecs
    lines = body.decode("utf-8").split("\n")
    i = 0
    for lineno, line in enumerate(lines, 2):
        parts = line.rstrip().split(" ")
        if parts == [""]:
            continue
        if i >= n:
            raise TextmineError(f"{path}:{lineno}: more vectors than the header's {n}")
        if len(parts) != d + 1:
            raise TextmineError(f"{path}:{lineno}: expected a word and {d} numbers, got {len(parts) - 1} values")
        try:
            vecs[i] = np.asarray(parts[1:], dtype=np.float32)
        except ValueError:
            raise TextmineError(f"{path}:{lineno}: non-numeric value in the vector of {parts[0]!r}") from None
        words.append(parts[0])
        i += 1
    if i != n:
        raise TextmineError(f"{path}: header says {n} vectors, found {i}")
    return words, vecs
