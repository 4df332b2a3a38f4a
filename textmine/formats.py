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
    # surrogateescape: the raw bytes that --errors surrogateescape read come back out unchanged
    return io.TextIOWrapper(buffered, encoding=encoding, errors="surrogateescape", newline="\n",
                            write_through=False, line_buffering=False)


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
                f.write(w.encode("utf-8", "surrogateescape") + b" " + row.tobytes() + b"\n")
        else:
            lines = []
            for w, row in zip(words, vectors):
                if any(ch.isspace() for ch in w):
                    raise TextmineError(f"token {w!r} contains whitespace and cannot be written in word2vec format")
                lines.append(w + " " + " ".join(f"{x:.6g}" for x in row) + "\n")
                if len(lines) >= 4096:
                    f.write("".join(lines).encode("utf-8", "surrogateescape"))
                    lines = []
            f.write("".join(lines).encode("utf-8", "surrogateescape"))


#: Leading bytes of the compressed formats the vector reader recognises, whatever the name.
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))


class _Prefixed(io.RawIOBase):
    """``prefix`` (bytes already read from ``stream``), then the rest of ``stream``."""

    def __init__(self, prefix, stream):
        self._prefix, self._stream = prefix, stream

    def readable(self):
        return True

    def readinto(self, b):
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n], self._prefix = self._prefix[:n], self._prefix[n:]
            return n
        data = self._stream.read(len(b))
        b[:len(data)] = data
        return len(data)


def open_compressed(path):
    """``path`` (``'-'``: standard input) as a binary stream, decompressed when its first bytes are
    those of gzip, bzip2, xz or zstd (whatever its name), and the format's name (``"plain"``,
    ``"gzip"``, ...). Only what is read is decompressed and held."""
    import bz2
    import gzip
    import lzma

    from textmine.corpus import STDIN, display

    if path == STDIN:
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(path, "rb")
        except OSError as e:
            raise TextmineError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        head = stream.read(6)
        while len(head) < 6:
            more = stream.read(6 - len(head))
            if not more:
                break
            head += more
    except OSError as e:
        raise TextmineError(f"{display(path)}: cannot read ({e.strerror or e})") from None
    kind = next((k for magic, k in _MAGIC if head.startswith(magic)), "plain")
    if path != STDIN:
        stream.seek(0)
    else:
        stream = io.BufferedReader(_Prefixed(head, stream), 1 << 16)
    if kind in ("gzip", "bz2", "xz"):
        opener = {"gzip": gzip.GzipFile, "bz2": bz2.BZ2File, "xz": lzma.LZMAFile}[kind]
        if path == STDIN:
            return opener(fileobj=stream, mode="rb") if kind == "gzip" else opener(stream, "rb"), kind
        stream.close()  # the decompressor opens (and closes) the file itself
        try:
            return opener(path, "rb"), kind
        except OSError as e:
            raise TextmineError(f"{path}: cannot read ({e.strerror or e})") from None
    if kind == "zstd":
        try:
            import zstandard
        except ImportError:
            raise TextmineError(f"{display(path)}: zstd-compressed; reading it needs the zstandard package: "
                                "pip install 'textmine[zstd]' (or decompress it: zstd -d)") from None
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True),
                                 1 << 20), kind
    return stream, kind


def _read_errors():
    """What reading a damaged compressed stream raises: I/O errors, a premature end, and the
    decompressors' own errors."""
    import lzma
    import zlib

    errors = [OSError, EOFError, lzma.LZMAError, zlib.error]
    try:
        import zstandard
        errors.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errors)


def _read_all(path):
    """The bytes of ``path`` (``'-'``: all of standard input), decompressed by their first bytes."""
    from textmine.corpus import display

    f, _ = open_compressed(path)
    try:
        return f.read()
    except _read_errors() as e:
        raise TextmineError(f"{display(path)}: cannot read ({getattr(e, 'strerror', None) or e}); corrupt or "
                            "truncated") from None
    finally:
        if f is not sys.stdin.buffer:
            f.close()


class _Buffer:
    """A window on a (decompressed) byte stream: ``buf[pos:]`` is unread, ``base`` is the offset of
    ``buf[0]`` in the stream, for messages. Holds only what the caller has asked to see."""

    def __init__(self, stream, name, chunk=1 << 20):
        self.stream, self.name, self.chunk = stream, name, chunk
        self.buf, self.pos, self.base, self.eof = b"", 0, 0, False

    @property
    def offset(self):
        return self.base + self.pos

    def fill(self, need):
        """Make ``need`` unread bytes available if the stream has them; ``False`` at the end."""
        if len(self.buf) - self.pos >= need:
            return True
        if self.eof:
            return False
        parts = [self.buf[self.pos:]]
        self.base += self.pos
        self.pos = 0
        have = len(parts[0])
        while have < need:
            try:
                data = self.stream.read(min(max(self.chunk, need - have), 1 << 24))
            except _read_errors() as e:
                raise TextmineError(f"{self.name}: cannot read past byte offset {self.base + have} of the "
                                    f"decompressed data ({getattr(e, 'strerror', None) or e}); corrupt or "
                                    "truncated") from None
            if not data:
                self.eof = True
                break
            parts.append(data)
            have += len(data)
        self.buf = b"".join(parts)
        return have >= need

    def find(self, sep, limit):
        """Position of ``sep`` in the unread bytes (searching at most ``limit`` bytes), or -1."""
        searched = 0  # bytes after pos known not to start sep
        while True:
            k = self.buf.find(sep, self.pos + searched, self.pos + limit)
            if k >= 0:
                return k - self.pos
            avail = len(self.buf) - self.pos
            if avail >= limit:
                return -1
            searched = max(0, avail - len(sep) + 1)
            if not self.fill(avail + self.chunk):
                k = self.buf.find(sep, self.pos + searched, self.pos + limit)
                return k - self.pos if k >= 0 else -1

    def take(self, n):
        out = self.buf[self.pos:self.pos + n]
        self.pos += len(out)
        return out


def _decode_replacing(data, encoding):
    """``data`` decoded with each undecodable sequence replaced by U+FFFD, and their number."""
    out, n, start = [], 0, 0
    while True:
        try:
            out.append(data[start:].decode(encoding))
            return "".join(out), n
        except UnicodeDecodeError as e:
            out.append(data[start:start + e.start].decode(encoding))
            out.append("\ufffd")
            n += 1
            start += max(e.end, e.start + 1)


def _looks_like_text_record(line, d):
    """Whether the first record after the header is a text record: a word and then numbers (its
    last D fields).

    A binary record is a word, a space and ``4 * d`` raw float32 bytes; those bytes practically
    never split into ASCII numbers, whatever encoding the words are in (so a GBK or Latin-1 text
    file is still recognised as text and then decoded under ``--encoding``)."""
    parts = line.split()  # any whitespace: a TAB-separated file is text (and then a clear error)
    if len(parts) < 2:
        return False
    # only the last D fields: a word with a space ('new york 0.1 ...') is a text record too (and
    # then an error naming FILE:LINE), not a binary one
    for p in parts[max(1, len(parts) - d):]:
        if not re.fullmatch(rb"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(nan|inf|infinity)", p,
                                     re.IGNORECASE):
            return False
    return True


def read_word2vec(path, binary=None, encoding="utf-8", limit=None, errors="strict", stats=None):
    """Read a word2vec file (text or binary), ``'-'`` for standard input.

    Parameters
    ----------
    path : str
        The file or ``'-'``; gzip, bzip2, xz (and, with the zstandard package, zstd) data is
        recognised by its first bytes and decompressed as it is read.
    binary : bool or None
        ``None`` decides from the first record: a word followed by numbers is text, anything
        else binary (a word, a space and ``4 * D`` float32 bytes).
    encoding : str
        Encoding of the words (and of the whole file in text format). A UTF-8 BOM is dropped;
        a codec such as UTF-16 whose text is not ASCII-compatible implies the text format.
    limit : int, optional
        Read only the first ``limit`` vectors (gensim's ``limit``); the rest of the file is neither
        read nor checked. Memory then grows with ``limit``, not with the file.
    errors : {"strict", "replace"}
        ``strict``: an undecodable word is an error naming ``FILE:LINE`` (text) or its byte
        offset (binary); ``replace``: its undecodable bytes become U+FFFD.
    stats : dict, optional
        Filled with ``"replaced"`` (undecodable sequences replaced), ``"header"`` (the header's
        ``(V, D)``) and ``"compression"`` (``"plain"``, ``"gzip"``, ``"bz2"``, ``"xz"``, ``"zstd"``).

    Returns
    -------
    words : list of str
    vectors : ndarray of float32, shape (V, D)

    Raises
    ------
    TextmineError
        Naming the file (and ``file:line`` or the byte offset) on a malformed header, a header
        that promises more vectors than the file holds, a record of the wrong length (vectors of
        mixed dimension), a word that does not decode under ``encoding``, and a NaN or infinite
        value. Offsets count bytes of the decompressed data.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "v.vec")
    >>> write_word2vec(p, ["a", "b", "c"], [[1, 0], [0, 1], [1, 1]])
    >>> words, x = read_word2vec(p, limit=2)
    >>> words, x.shape
    (['a', 'b'], (2, 2))
    """
    import codecs

    from textmine.corpus import ReadOptions, display, resolve_inputs

    resolve_inputs([path])
    name = display(path)
    if limit is not None and int(limit) < 1:
        raise TextmineError(f"limit must be at least 1, not {limit}")
    if errors not in ("strict", "replace"):
        raise TextmineError(f"errors must be 'strict' or 'replace', not {errors!r}")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise TextmineError(f"unknown encoding {encoding!r}; try utf-8 or gb18030") from None
    stream, kind = open_compressed(path)
    opened = stream
    info = {"replaced": 0, "header": None, "compression": kind}
    try:
        size = os.fstat(stream.fileno()).st_size if kind == "plain" and path != "-" else None
        if size is not None and not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            size = None
        if not ReadOptions(encoding).ascii_compatible:  # UTF-16/32: decode the whole file, text format
            if binary:
                raise TextmineError(f"{name}: a binary word2vec file cannot be read as {encoding}")
            data = _Buffer(stream, name)
            while data.fill(len(data.buf) + (1 << 24)):
                pass
            try:
                text = data.buf.decode(encoding)
            except UnicodeDecodeError as e:
                if errors == "replace":
                    text, info["replaced"] = _decode_replacing(data.buf, encoding)
                else:
                    raise TextmineError(f"{name}: cannot decode as {encoding} ({e.reason} at byte offset "
                                        f"{e.start}); try another --encoding or --errors replace") from None
            stream = io.BytesIO(text.lstrip("\ufeff").encode("utf-8", "surrogatepass"))
            encoding, size = "utf-8", None
        result = _read_word2vec_stream(_Buffer(stream, name, 1 << 16), name, size, binary, encoding, limit, errors, info)
    finally:
        if opened is not sys.stdin.buffer:
            opened.close()
    if stats is not None:
        stats.update(info)
    return result


def _word2vec_header(buf, name, encoding, size):
    """``(V, D)`` from the header line; ``buf`` is left at the first record. A file without the
    header whose first line is a vector (GloVe's text format) gives ``(None, D)``, ``D`` from that
    line, which is left unread."""
    import codecs

    from textmine.corpus import ReadOptions

    buf.fill(1 << 12)
    if buf.buf.startswith(codecs.BOM_UTF8):
        buf.take(3)
    if buf.buf[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise TextmineError(f"{name}: looks like UTF-16 (it starts with a UTF-16 byte-order mark); "
                            "try --encoding utf-16")
    eol = buf.find(b"\n", 1 << 16)
    header = buf.buf[buf.pos:] if eol < 0 else buf.buf[buf.pos:buf.pos + eol]
    if b"\x00" in header:  # UTF-16/32 without a byte-order mark, or not text at all
        from textmine.corpus import _binary_error

        raise _binary_error(name, buf.buf[:1 << 16], 0, buf.buf.index(b"\x00"), ReadOptions(encoding))
    try:
        n, d = (int(x) for x in header.split())
    except ValueError:
        if not buf.buf:
            raise TextmineError(f"{name}: empty file, expected a word2vec 'V D' header") from None
        fields = header.rstrip().split(b" ")
        if len(fields) >= 2 and _looks_like_text_record(header, len(fields) - 1):
            return None, len(fields) - 1  # GloVe's text format: no header, D from the first record
        shown = header[:60].decode(encoding, "replace")
        raise TextmineError(f"{name}:1: expected a word2vec 'V D' header or a first vector (a word and "
                            f"numbers), got {shown!r}") from None
    if n < 0 or d <= 0:
        raise TextmineError(f"{name}:1: bad word2vec header {header.strip()!r}: V must be >= 0 and D >= 1")
    buf.take(len(header) + (eol >= 0))
    if size is not None:
        body_bytes = size - buf.offset
        # the smallest record is a 1-byte word, a space and D one-character numbers with separators
        # (text) or D float32 values (binary): never allocate what the file cannot hold
        if n * (2 * d + 1) > body_bytes:
            raise TextmineError(f"{name}:1: the header promises {n} vectors of {d} values, but the file holds only "
                                f"{body_bytes} bytes after it (at least {n * (2 * d + 1)} needed); "
                                "not a word2vec file, or truncated")
    return n, d


class _Rows:
    """A float32 table grown in place as rows arrive (a header's V is not trusted for compressed
    data and stdin, whose size is unknown)."""

    def __init__(self, n, d):
        import numpy as np

        self.n, self.d, self.i = n, d, 0
        self.x = np.empty((min(n, 1 << 16), d), dtype=np.float32)

    def room(self, k):
        if self.i + k > self.x.shape[0]:
            self.x.resize((min(self.n, max(self.i + k, 2 * self.x.shape[0])), self.d), refcheck=False)

    def done(self):
        if self.x.shape[0] != self.i:
            self.x.resize((self.i, self.d), refcheck=False)
        return self.x


def _read_word2vec_stream(buf, name, size, binary, encoding, limit, errors, info):
    import numpy as np

    n, d = _word2vec_header(buf, name, encoding, size)
    headerless = n is None
    info["header"] = None if headerless else (n, d)
    if headerless:
        if binary:
            raise TextmineError(f"{name}:1: a binary word2vec file starts with a 'V D' header; this one starts "
                                "with a vector in text")
        binary = False
        n = sys.maxsize if limit is None else int(limit)
    want = n if limit is None else min(n, int(limit))
    # read (and decompress) about what the wanted records need: a text record of D values is
    # rarely over 16 D + 64 bytes, a binary one is 4 D bytes and its word
    window = min(1 << 20, max(1 << 16, want * (16 * d + 64)))
    buf.chunk = window
    if binary is None:
        cap = (1 << 16) + 32 * d
        eol = buf.find(b"\n", cap)
        buf.fill(1)
        first = buf.buf[buf.pos:buf.pos + (cap if eol < 0 else eol)]
        binary = n > 0 and not _looks_like_text_record(first, d)
    rows = _Rows(want, d)
    words = []
    hint = f"try --encoding gb18030 (or another codec){'' if errors == 'replace' else ' or --errors replace'}"

    def ended(i):
        return TextmineError(f"{name}: the header promises {n} vectors of {d} values, but the file ends after "
                             f"{i}; truncated, or not a word2vec file")

    if binary:
        where = []
        row_bytes = 4 * d
        data, pos = buf.buf, buf.pos
        while rows.i < want:
            i = rows.i
            # the fast path: a whole record in the window
            while pos < len(data) and data[pos] in (10, 13):
                pos += 1
            sp = data.find(b" ", pos, pos + (1 << 16))
            if sp >= 0 and sp + 1 + row_bytes <= len(data):
                try:
                    word = data[pos:sp].decode(encoding)
                except UnicodeDecodeError:
                    pass  # the slow path says where
                else:
                    if i >= rows.x.shape[0]:
                        rows.room(1)
                    rows.x[i] = np.frombuffer(data, dtype="<f4", count=d, offset=sp + 1)
                    words.append(word)
                    where.append(buf.base + sp + 1)
                    pos = sp + 1 + row_bytes
                    rows.i += 1
                    continue
            buf.pos = pos
            while buf.fill(1) and buf.buf[buf.pos:buf.pos + 1] in (b"\n", b"\r"):
                buf.take(1)
            if not buf.fill(1):
                raise ended(i)
            start = buf.offset
            sp = buf.find(b" ", 1 << 16)
            if sp < 0:
                if buf.eof and len(buf.buf) - buf.pos < 1 << 16:
                    raise TextmineError(f"{name}: truncated binary vector {i + 1} of {n} (byte offset {start}): "
                                        "no space after its word")
                raise TextmineError(f"{name}: binary vector {i + 1} of {n} (byte offset {start}): no space within "
                                    f"{1 << 16} bytes after it; not a binary word2vec file")
            raw_word = buf.take(sp)
            buf.take(1)
            if not buf.fill(row_bytes):
                raise TextmineError(f"{name}: truncated binary vector {i + 1} of {n} (byte offset {start}): "
                                    f"{len(buf.buf) - buf.pos} of its {row_bytes} bytes of values")
            try:
                word = raw_word.decode(encoding)
            except UnicodeDecodeError as e:
                if errors != "replace":
                    raise TextmineError(f"{name}: cannot decode the word of binary vector {i + 1} as {encoding} "
                                        f"(byte 0x{raw_word[e.start]:02x} at byte offset {start + e.start}); "
                                        f"{hint}") from None
                word, k = _decode_replacing(raw_word, encoding)
                info["replaced"] += k
            rows.room(1)
            rows.x[i] = np.frombuffer(buf.take(row_bytes), dtype="<f4")
            words.append(word)
            where.append(buf.offset - row_bytes)
            rows.i += 1
            data, pos = buf.buf, buf.pos
        buf.pos = pos
        if limit is None:
            while buf.fill(1) and buf.buf[buf.pos:buf.pos + 1] in (b"\n", b"\r"):
                buf.take(1)
            if buf.fill(1):
                buf.fill(1 << 16)
                rest = len(buf.buf) - buf.pos
                raise TextmineError(f"{name}: {'more than ' if not buf.eof else ''}{rest} bytes after the {n} "
                                    f"binary vectors of the header (byte offset {buf.offset})")
        vecs = rows.done()
        bad = np.flatnonzero(~np.isfinite(vecs).all(axis=1))
        if bad.size:
            b = int(bad[0])
            raise TextmineError(f"{name}: vector {b + 1} ({words[b]!r}, byte offset {where[b]}) has a NaN or "
                                "infinite value")
        return words, vecs

    lineno = 0 if headerless else 1  # the header
    dim_from = "the first line's dimension" if headerless else "the header's dimension"
    done = False
    while not done:
        if limit is not None and rows.i >= want:
            break
        eol = buf.find(b"\n", window)
        while eol < 0 and not buf.eof:  # a line longer than the window: widen it
            buf.fill(len(buf.buf) - buf.pos + window)
            eol = buf.find(b"\n", len(buf.buf) - buf.pos)
        # every complete line in the window (all that is left at the end of the data)
        chunk_end = len(buf.buf) if buf.eof else buf.buf.rfind(b"\n", buf.pos) + 1
        if chunk_end <= buf.pos:
            break
        chunk_start = buf.offset
        chunk = buf.buf[buf.pos:chunk_end]
        buf.pos = chunk_end
        try:
            text = chunk.decode(encoding)
        except UnicodeDecodeError as e:
            if errors != "replace":
                line = lineno + chunk.count(b"\n", 0, e.start) + 1
                raise TextmineError(f"{name}:{line}: cannot decode byte 0x{chunk[e.start]:02x} at byte offset "
                                    f"{chunk_start + e.start} as {encoding}; {hint}") from None
            text, k = _decode_replacing(chunk, encoding)
            info["replaced"] += k
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for b0 in range(0, len(lines), 4096):
            batch = lines[b0:b0 + 4096]
            values, batch_words, batch_lines = [], [], []
            for off, line in enumerate(batch):
                ln = lineno + b0 + off + 1
                parts = line.rstrip().split(" ")
                if parts == [""]:
                    continue
                if rows.i + len(batch_words) >= want:
                    if limit is not None:
                        done = True
                        break
                    raise TextmineError(f"{name}:{ln}: more vectors than the header's {n}")
                if len(parts) != d + 1:
                    raise TextmineError(f"{name}:{ln}: expected a word and {d} numbers ({dim_from}), "
                                        f"got {len(parts) - 1} values; vectors of mixed dimension, or a word "
                                        "with a space")
                batch_words.append(parts[0])
                batch_lines.append(ln)
                values.extend(parts[1:])
            if batch_words:
                with np.errstate(all="ignore"):
                    try:
                        a = np.array(values, dtype=np.float64).reshape(len(batch_words), d)
                    except ValueError:
                        for w, ln, k in zip(batch_words, batch_lines, range(len(batch_words))):
                            try:
                                np.array(values[k * d:(k + 1) * d], dtype=np.float64)
                            except ValueError:
                                raise TextmineError(f"{name}:{ln}: non-numeric value in the vector of "
                                                    f"{w!r}") from None
                        raise
                    rows.room(len(batch_words))
                    rows.x[rows.i:rows.i + len(batch_words)] = _finite32([a], name, batch_lines, batch_words)
                rows.i += len(batch_words)
                words.extend(batch_words)
            if done:
                break
        lineno += len(lines)
    if headerless:
        if not words:
            raise TextmineError(f"{name}: no vectors")
        return words, rows.done()
    if rows.i != want:
        raise ended(rows.i) if rows.i < n else TextmineError(f"{name}: the header says {n} vectors, found {rows.i}")
    return words, rows.done()


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
