"""File formats shared by the stages: atomic output, TSV, jieba dictionaries and lexicons.

Every file textmine writes is written to ``path + '.tmp'`` and moved into place with
``os.replace`` when complete, so an error or Ctrl-C never leaves a half-written file.
``-`` means standard output. Output is UTF-8 with ``\\n`` line ends.
"""
import contextlib
import io
import os
import re
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


def read_word_counts(path, encoding="utf-8", read=None):
    """Read a word list with frequencies: a textmine lexicon or count TSV (``word<TAB>count[...]``)
    or a jieba dictionary (``word freq [tag]``, space separated).

    Returns ``(words, counts)`` lists. Raises :class:`TextmineError` naming ``file:line`` on a
    malformed line, and on an empty dictionary. A BOM and CRLF are tolerated; ``#`` lines and
    blank lines are skipped. Later duplicates add to earlier ones. ``read`` (a
    :class:`~textmine.corpus.ReadOptions`) replaces ``encoding`` and names the caller's option in
    decoding hints; without it a hint says to convert the file to UTF-8.
    """
    from textmine.corpus import ReadOptions, Shard, iter_lines, resolve_inputs

    resolve_inputs([path])
    words, counts, index = [], [], {}
    read = read or ReadOptions(encoding, option="", errors_option="")
    for lineno, line in enumerate(iter_lines(Shard(path), read), 1):
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


def _read_all(path):
    """The bytes of ``path`` (``'-'``: all of standard input), decompressed by extension."""
    from textmine.corpus import STDIN, _open_binary

    if path == STDIN:
        return sys.stdin.buffer.read()
    try:
        with _open_binary(path) as f:  # .gz, .bz2 and .xz by extension
            return f.read()
    except (OSError, EOFError) as e:
        raise TextmineError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None


def _looks_like_text_record(line, d):
    """Whether the first record after the header is a text record: a word and then numbers only.

    A binary record is a word, a space and ``4 * d`` raw float32 bytes; those bytes practically
    never split into ASCII numbers, whatever encoding the words are in (so a GBK or Latin-1 text
    file is still recognised as text and then decoded under ``--encoding``)."""
    parts = line.split()  # any whitespace: a TAB-separated file is text (and then a clear error)
    if len(parts) < 2:
        return False
    for p in parts[1:]:
        if not re.fullmatch(rb"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(nan|inf|infinity)", p,
                                     re.IGNORECASE):
            return False
    return True


def read_word2vec(path, binary=None, encoding="utf-8"):
    """Read a word2vec file (text or binary), ``'-'`` for standard input.

    Parameters
    ----------
    path : str
        The file (``.gz``, ``.bz2``, ``.xz``: decompressed), or ``'-'``.
    binary : bool or None
        ``None`` decides from the first record: a word followed by numbers is text, anything
        else binary (a word, a space and ``4 * D`` float32 bytes).
    encoding : str
        Encoding of the words (and of the whole file in text format). A UTF-8 BOM is dropped;
        a codec such as UTF-16 whose text is not ASCII-compatible implies the text format.

    Returns
    -------
    words : list of str
    vectors : ndarray of float32, shape (V, D)

    Raises
    ------
    TextmineError
        Naming the file (and ``file:line`` or the byte offset) on a malformed header, a header
        that promises more vectors than the file can hold, a record of the wrong length, a word
        that does not decode under ``encoding``, and a NaN or infinite value.
    """
    import codecs

    import numpy as np

    from textmine.corpus import ReadOptions, display, resolve_inputs

    resolve_inputs([path])
    name = display(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise TextmineError(f"unknown encoding {encoding!r}; try utf-8 or gb18030") from None
    data = _read_all(path)
    if not ReadOptions(encoding).ascii_compatible:  # UTF-16/32: decode the whole file, text format
        if binary:
            raise TextmineError(f"{name}: a binary word2vec file cannot be read as {encoding}")
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as e:
            raise TextmineError(f"{name}: cannot decode as {encoding} ({e.reason} at byte offset {e.start}); "
                                "try another --encoding") from None
        data = text.lstrip("\ufeff").encode("utf-8", "surrogatepass")
        encoding = "utf-8"
    offset = 3 if data.startswith(codecs.BOM_UTF8) else 0
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise TextmineError(f"{name}: looks like UTF-16 (it starts with a UTF-16 byte-order mark); "
                            "try --encoding utf-16")
    eol = data.find(b"\n", offset)
    header = data[offset:] if eol < 0 else data[offset:eol]
    if b"\x00" in header:  # UTF-16/32 without a byte-order mark, or not text at all
        from textmine.corpus import _binary_error

        raise _binary_error(name, data[:1 << 16], 0, data.index(b"\x00"), ReadOptions(encoding))
    try:
        n, d = (int(x) for x in header.split())
    except ValueError:
        if not data:
            raise TextmineError(f"{name}: empty file, expected a word2vec 'V D' header") from None
        raise TextmineError(f"{name}:1: expected a word2vec 'V D' header, got {header[:60]!r}") from None
    if n < 0 or d <= 0:
        raise TextmineError(f"{name}:1: bad word2vec header {header.strip()!r}: V must be >= 0 and D >= 1")
    body_start = len(data) if eol < 0 else eol + 1
    body_bytes = len(data) - body_start
    # the smallest record is a 1-byte word, a space and D one-character numbers with separators
    # (text) or D float32 values (binary): never allocate what the file cannot hold
    if n * (2 * d + 1) > body_bytes:
        raise TextmineError(f"{name}:1: the header promises {n} vectors of {d} values, but the file holds only "
                            f"{body_bytes} bytes after it (at least {n * (2 * d + 1)} needed); "
                            "not a word2vec file, or truncated")
    if binary is None:
        first_end = data.find(b"\n", body_start)
        first = data[body_start:] if first_end < 0 else data[body_start:first_end]
        binary = n > 0 and not _looks_like_text_record(first, d)
    vecs = np.empty((n, d), dtype=np.float32)
    words = []
    where = []  # per vector: its line (text) or byte offset (binary), for messages
    if binary:
        pos = body_start
        for i in range(n):
            while data[pos:pos + 1] in (b"\n", b"\r"):
                pos += 1
            sp = data.find(b" ", pos)
            if sp < 0 or sp + 1 + 4 * d > len(data):
                raise TextmineError(f"{name}: truncated binary vector {i + 1} of {n} (byte offset {pos})")
            try:
                words.append(data[pos:sp].decode(encoding))
            except UnicodeDecodeError as e:
                raise TextmineError(f"{name}: cannot decode the word of binary vector {i + 1} as {encoding} "
                                    f"(byte offset {pos + e.start}); try --encoding") from None
            vecs[i] = np.frombuffer(data, dtype="<f4", count=d, offset=sp + 1)
            where.append(f"byte offset {sp + 1}")
            pos = sp + 1 + 4 * d
        rest = data[pos:].strip(b"\r\n")
        if rest:
            raise TextmineError(f"{name}: {len(rest)} bytes after the {n} binary vectors of the header")
    else:
        try:
            text = data[body_start:].decode(encoding)
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, body_start + e.start) + 1
            raise TextmineError(f"{name}:{line}: cannot decode byte 0x{data[body_start + e.start]:02x} at byte "
                                f"offset {body_start + e.start} as {encoding}; try --encoding gb18030 (or another "
                                "codec)") from None
        i = 0
        rows = []
        with np.errstate(all="ignore"):
            for lineno, line in enumerate(text.split("\n"), 2):
                parts = line.rstrip().split(" ")
                if parts == [""]:
                    continue
                if i >= n:
                    raise TextmineError(f"{name}:{lineno}: more vectors than the header's {n}")
                if len(parts) != d + 1:
                    raise TextmineError(f"{name}:{lineno}: expected a word and {d} numbers, got "
                                        f"{len(parts) - 1} values")
                try:
                    rows.append(np.asarray(parts[1:], dtype=np.float64))
                except ValueError:
                    raise TextmineError(f"{name}:{lineno}: non-numeric value in the vector of "
                                        f"{parts[0]!r}") from None
                words.append(parts[0])
                where.append(lineno)
                i += 1
                if len(rows) >= 4096:
                    vecs[i - len(rows):i] = _finite32(rows, name, where[i - len(rows):i], words[i - len(rows):])
                    rows = []
            if rows:
                vecs[i - len(rows):i] = _finite32(rows, name, where[i - len(rows):i], words[i - len(rows):])
        if i != n:
            raise TextmineError(f"{name}: the header says {n} vectors, found {i}")
        return words, vecs
    bad = np.flatnonzero(~np.isfinite(vecs).all(axis=1))
    if bad.size:
        b = int(bad[0])
        raise TextmineError(f"{name}: vector {b + 1} ({words[b]!r}, {where[b]}) has a NaN or infinite value")
    return words, vecs


def _finite32(rows, name, lines, words):
    """Stack parsed float64 rows into float32, rejecting NaN, infinity and values beyond float32."""
    import numpy as np

    a = np.vstack(rows)
    ok = np.isfinite(a).all(axis=1) & (np.abs(a) <= np.finfo(np.float32).max).all(axis=1)
    if not ok.all():
        b = int(np.flatnonzero(~ok)[0])
        raise TextmineError(f"{name}:{lines[b]}: the vector of {words[b]!r} has a NaN, infinite or "
                            "out-of-range value")
    return a.astype(np.float32)
