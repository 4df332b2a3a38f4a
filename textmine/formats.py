"""File formats shared by the stages: atomic output, TSV, jieba dictionaries and lexicons.

Every file textmine writes is written to a temporary file beside it (``name.tmpPID``) and moved
into place with ``os.replace`` when complete, so an error, Ctrl-C or SIGTERM never leaves a
half-written file or a temporary one. ``-`` means standard output. Output is UTF-8 with ``\\n``
line ends.

Writes go through :class:`_Sink`, which writes everything or fails loudly: a short write (a full
disk, ``ulimit -f``, or an unbuffered stdout under ``PYTHONUNBUFFERED=1``) is retried until the
data is written or the system reports an error, and an error becomes one :class:`TextmineError`
``OUTPUT: cannot write (No space left on device)``. A broken pipe stays a
:class:`BrokenPipeError` (the CLI exits 1 quietly).
"""
import contextlib
import errno
import io
import os
import re
import select
import stat
import sys

from textmine.errors import TextmineError


class _Sink(io.RawIOBase):
    """A raw binary writer over a file descriptor (or, where there is none, a binary stream such
    as a test runner's stdout) whose :meth:`write` writes every byte or raises.

    No ``fileno()``: numpy then writes arrays through :meth:`write` rather than C ``fwrite``,
    whose errors lose their errno.
    """

    def __init__(self, label, fd=None, stream=None, closefd=False):
        super().__init__()
        self.label, self._fd, self._stream, self._closefd = label, fd, stream, closefd
        self.discard = False  # after a failure: drop what a closing buffer still flushes

    def writable(self):
        return True

    def seekable(self):
        if self._fd is None:
            return False
        try:
            os.lseek(self._fd, 0, os.SEEK_CUR)
            return True
        except OSError:
            return False

    def seek(self, pos, whence=0):
        if self._fd is None:
            raise io.UnsupportedOperation("seek")
        return os.lseek(self._fd, pos, whence)

    def tell(self):
        return self.seek(0, os.SEEK_CUR)

    def _write_some(self, view):
        if self._fd is not None:
            try:
                return os.write(self._fd, view)
            except BlockingIOError:  # a non-blocking descriptor (inherited stdout): wait, retry
                select.select([], [self._fd], [])
                return 0
        n = self._stream.write(view)
        return len(view) if n is None else n

    def write(self, b):
        if self.discard:
            return len(b)
        view = memoryview(b).cast("B")
        done, total, idle = 0, len(view), 0
        try:
            while done < total:
                n = self._write_some(view[done:])
                if n > 0:
                    done, idle = done + n, 0
                    continue
                idle += 1
                if idle > 1000:
                    raise OSError(errno.EIO, "no progress writing")
        except BrokenPipeError:
            raise
        except OSError as e:
            self.discard = True
            raise TextmineError(f"{self.label}: cannot write ({e.strerror or e})") from None
        return total

    def close(self):
        if not self.closed and self._closefd and self._fd is not None:
            try:
                os.close(self._fd)
            except OSError as e:
                if not self.discard:
                    super().close()
                    raise TextmineError(f"{self.label}: cannot write ({e.strerror or e})") from None
        super().close()


def _writer(sink, binary, encoding):
    """The buffered binary (or text) stream over ``sink`` that callers write to."""
    buffered = io.BufferedWriter(sink, 1 << 16)
    if binary:
        return buffered
    return io.TextIOWrapper(buffered, encoding=encoding, newline="\n", write_through=False,
                            line_buffering=False)


def _abandon(f, sink):
    """Close ``f`` after a failure without writing more or raising."""
    sink.discard = True
    with contextlib.suppress(Exception):
        f.close()


def _std_fd(path):
    """1 or 2 when ``path`` (``/dev/stdout``, ``/proc/self/fd/1``, ...) is this process's
    stdout or stderr, so it is written as such, never replaced or reopened; else ``None``."""
    if not (path.startswith("/dev/") or path.startswith("/proc/")):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    for fd in (1, 2):
        try:
            if os.path.samestat(st, os.fstat(fd)):
                return fd
        except OSError:
            pass
    return None


def output_target(path):
    """Where writing ``path`` really goes: ``None`` for stdout (``-``, ``/dev/stdout``), the fd
    for stderr, else the real path with symbolic links followed (a link stays a link; its
    target is written). Raises :class:`TextmineError` when it cannot be written: a directory,
    a missing or unwritable directory, an unwritable file. Creates nothing."""
    if path in (None, "-"):
        return None
    path = os.fspath(path)
    fd = _std_fd(path)
    if fd is not None:
        return None if fd == 1 else fd
    real = os.path.realpath(path)
    if os.path.isdir(real):
        raise TextmineError(f"{path}: is a directory, not a file")
    if os.path.lexists(real):
        if not os.access(real, os.W_OK):
            raise TextmineError(f"{path}: cannot write (permission denied)")
        if not stat.S_ISREG(os.stat(real).st_mode):
            return real  # a device or FIFO: written in place
    directory = os.path.dirname(real)
    if not os.path.isdir(directory):
        raise TextmineError(f"{path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise TextmineError(f"{path}: cannot write in directory {directory} (permission denied)")
    return real


def check_output_path(path):
    """Raise :class:`TextmineError` now when ``path`` could not be written (see
    :func:`output_target`), so a typo in ``-o`` fails before the work, not after it."""
    output_target(path)


def _open_fd(path, flags, label):
    try:
        return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as e:
        raise TextmineError(f"{label}: cannot write ({e.strerror or e})") from None


@contextlib.contextmanager
def atomic_output(path, mode="w", encoding="utf-8"):
    """Open ``path`` for writing atomically; ``'-'`` or ``None`` writes to stdout.

    Yields a file object (binary for ``mode='wb'``, else text). On success the temporary file
    (in the real directory of the target, so the rename is atomic; a symbolic link is followed
    and kept) replaces the target, keeping its permission bits; on any exception (including
    ``KeyboardInterrupt`` and the :class:`~textmine._signals.Terminated` of SIGTERM) it is
    removed and the target is left as it was. A device or FIFO is written in place, and
    ``/dev/stdout`` is stdout. Any write error raises :class:`TextmineError`
    ``PATH: cannot write (REASON)``; a broken pipe raises :class:`BrokenPipeError`.
    """
    binary = "b" in mode
    target = output_target(path)
    if target is None or isinstance(target, int):
        fd = 1 if target is None else target
        stream = sys.stdout if fd == 1 else sys.stderr
        label = "stdout" if fd == 1 else "stderr"
        try:
            stream.flush()  # what was printed before comes first
        except BrokenPipeError:
            raise
        except OSError as e:
            raise TextmineError(f"{label}: cannot write ({e.strerror or e})") from None
        try:
            stream.fileno()
            sink = _Sink(label, fd=fd)
        except (AttributeError, OSError, ValueError):  # replaced by a test runner: no descriptor
            sink = _Sink(label, stream=stream.buffer)
        f = _writer(sink, binary, encoding)
        try:
            yield f
            f.close()  # flushes; the sink does not own the descriptor
        except BaseException:
            _abandon(f, sink)
            raise
        return
    if not stat.S_ISREG(os.stat(target).st_mode if os.path.exists(target) else stat.S_IFREG):
        sink = _Sink(path, fd=_open_fd(target, os.O_WRONLY, path), closefd=True)
        f = _writer(sink, binary, encoding)
        try:
            yield f
            f.close()
        except BaseException:
            _abandon(f, sink)
            raise
        return
    tmp = f"{target}.tmp{os.getpid()}"
    f = sink = None
    try:
        sink = _Sink(path, fd=_open_fd(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, path), closefd=True)
        f = _writer(sink, binary, encoding)
        with contextlib.suppress(OSError):  # keep the permission bits of the file replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        yield f
        f.close()
        if _GROUPS:  # inside outputs_together(): renamed into place with the others
            _GROUPS[-1].append((tmp, target, path))
            return
        try:
            os.replace(tmp, target)
        except OSError as e:
            raise TextmineError(f"{path}: cannot write ({e.strerror or e})") from None
    except BaseException:
        if f is not None:
            _abandon(f, sink)
        elif sink is not None:
            sink.discard = True
            sink.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_GROUPS = []


@contextlib.contextmanager
def outputs_together():
    """The files written by :func:`atomic_output` inside the block appear together when it ends
    without error, or none of them does: a command with several outputs (embed's vectors and
    model) never replaces one and then fails on the next, and an existing file is never deleted.
    Nested blocks join the outermost one."""
    if _GROUPS:
        yield
        return
    staged = []
    _GROUPS.append(staged)
    try:
        yield
    except BaseException:
        for tmp, _, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    finally:
        _GROUPS.remove(staged)
    for i, (tmp, target, path) in enumerate(staged):
        try:
            os.replace(tmp, target)
        except OSError as e:
            for rest, _, _ in staged[i:]:
                with contextlib.suppress(OSError):
                    os.unlink(rest)
            raise TextmineError(f"{path}: cannot write ({e.strerror or e})") from None


def open_scratch(path):
    """A buffered binary file for scratch data (spools, spills) whose write errors are one
    :class:`TextmineError` naming the file, as for outputs. Close it (or use ``with``)."""
    sink = _Sink(path, fd=_open_fd(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, path), closefd=True)
    return io.BufferedWriter(sink, 1 << 16)


def save_npy(path, array):
    """``np.save(path, array)`` with the write errors of :class:`_Sink` (for scratch files:
    a full temporary directory is one line naming the file, not a traceback)."""
    import numpy as np

    f = open_scratch(path)
    sink = f.raw
    try:
        np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)
        f.close()
    except BaseException:
        _abandon(f, sink)
        raise


def open_npy_memmap(path, dtype, n):
    """A new ``.npy`` file of ``n`` items mapped for writing, its disk space reserved first: a
    full disk is a :class:`TextmineError` now, not a SIGBUS when a page is first touched."""
    import numpy as np
    from numpy.lib.format import open_memmap

    try:
        a = open_memmap(path, "w+", dtype, (n,))
    except OSError as e:
        raise TextmineError(f"{path}: cannot write ({e.strerror or e})") from None
    fd = _open_fd(path, os.O_RDWR, path)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            del a
            raise TextmineError(f"{path}: cannot write ({e.strerror or e})") from None
    except AttributeError:  # no posix_fallocate on this platform
        pass
    finally:
        os.close(fd)
    return a.view(np.ndarray)


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
