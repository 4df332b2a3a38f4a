"""Corpus input: one reader for every stage.

A corpus is any number of files, directories (walked recursively in sorted order, filtered by a
glob on the file name) and ``-`` for standard input. Files are read as bytes and decoded line by
line under an explicit encoding, so that an undecodable byte is reported with its file and byte
offset. A UTF-8 BOM and CRLF line ends are handled. ``.gz``, ``.bz2`` and ``.xz`` files are opened
by extension. Memory does not grow with corpus size: everything here streams.

Large plain files are cut into byte-range :class:`Shard` s for the map-reduce workers: a shard
owns every line that *starts* inside ``[start, end)``.
"""
import bz2
import codecs
import fnmatch
import gzip
import io
import lzma
import os
import sys
from dataclasses import dataclass

from textmine.errors import TextmineError

STDIN = "-"
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_ERRORS = ("strict", "replace", "ignore", "surrogateescape")


@dataclass(frozen=True)
class Shard:
    """A unit of map work: ``path`` from byte ``start`` up to ``end`` (``None``: to the end).

    ``path == '-'`` or a compressed file is always one whole shard.
    """

    path: str
    start: int = 0
    end: object = None


@dataclass(frozen=True)
class ReadOptions:
    """How to decode: ``encoding`` (any Python codec), ``errors`` (strict/replace/...).

    ``option`` and ``errors_option`` name the command-line options that set them, for the hints of
    error messages (``""``: the command has no such option, and no hint names one).
    """

    encoding: str = "utf-8"
    errors: str = "strict"
    option: str = "--encoding"
    errors_option: str = "--errors"

    def check(self):
        try:
            info = codecs.lookup(self.encoding)
        except LookupError:
            raise TextmineError(f"unknown encoding {self.encoding!r}; try utf-8 or gb18030") from None
        if self.errors not in _ERRORS:
            raise TextmineError(f"--errors must be one of {', '.join(_ERRORS)}, not {self.errors!r}")
        return info

    @property
    def ascii_compatible(self):
        try:
            return "a\n".encode(self.encoding) == b"a\n"
        except LookupError:
            return False


def display(path):
    return "<stdin>" if path == STDIN else path


def resolve_inputs(paths, glob="*"):
    """Expand files and directories into a sorted list of file paths (``'-'`` kept as is).

    Parameters
    ----------
    paths : sequence of str
        Files, directories or ``'-'``; empty means standard input.
    glob : str
        ``fnmatch`` pattern that files found inside directories must match (by name).

    Raises
    ------
    TextmineError
        A path that does not exist, is unreadable, or a directory with no matching files.
    """
    if not paths:
        return [STDIN]
    out = []
    for p in paths:
        if p == STDIN:
            out.append(STDIN)
            continue
        if not os.path.exists(p):
            raise TextmineError(f"{p}: no such file or directory")
        if os.path.isdir(p):
            found = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith(".") or not fnmatch.fnmatch(name, glob):
                        continue
                    found.append(os.path.join(root, name))
            if not found:
                raise TextmineError(f"{p}: directory has no files matching {glob!r}")
            out.extend(found)
        else:
            out.append(p)
    for p in out:
        if p != STDIN and not os.access(p, os.R_OK):
            raise TextmineError(f"{p}: permission denied")
    return out


def _open_binary(path):
    if path == STDIN:
        return sys.stdin.buffer
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in _OPENERS:
            return _OPENERS[ext](path, "rb")
        return open(path, "rb")
    except OSError as e:
        raise TextmineError(f"{path}: {e.strerror or e}") from None


def splittable(path):
    """Whether ``path`` can be cut into byte ranges (a plain, seekable file)."""
    return path != STDIN and os.path.splitext(path)[1].lower() not in _OPENERS


def make_shards(paths, shard_bytes=8 << 20):
    """Cut files into byte-range shards of about ``shard_bytes`` (compressed files and stdin whole)."""
    shards = []
    for p in paths:
        if not splittable(p):
            shards.append(Shard(p))
            continue
        size = os.path.getsize(p)
        if size <= shard_bytes:
            shards.append(Shard(p, 0, None))
            continue
        start = 0
        while start < size:
            end = min(start + shard_bytes, size)
            shards.append(Shard(p, start, None if end >= size else end))
            start = end
    return shards


def _encoding_hint(opts, codec="gb18030"):
    """How the user can change the encoding: the option, or converting the file."""
    hints = []
    if opts.option:
        hints.append(f"try {opts.option} {codec} (or another codec)")
    else:
        hints.append(f"convert the file to UTF-8 (e.g. iconv -f {codec} -t utf-8)")
    if opts.errors_option:
        hints.append(f"{opts.errors_option} replace")
    return " or ".join(hints)


def _decode_error(path, offset, raw, opts):
    return TextmineError(
        f"{display(path)}: cannot decode byte 0x{raw:02x} at offset {offset} as {opts.encoding}; "
        + _encoding_hint(opts)
    )


def _binary_error(path, raw, pos, nul, opts):
    """The error for a NUL byte: UTF-16/32 text (a byte-order mark, or NUL bytes all at even or all
    at odd offsets) gets a hint to the right codec; anything else is called binary."""
    utf = None
    if pos == 0 and raw[:4] in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):
        utf = "utf-32"
    elif pos == 0 and raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        utf = "utf-16"
    else:
        sample = raw[:1 << 16]
        parities = {(pos + i) % 2 for i, b in enumerate(sample) if b == 0}
        if len(parities) == 1 and b"\x00\x00" not in sample:
            # ASCII in UTF-16-LE is 'a\0': its NUL bytes sit at odd offsets
            utf = "utf-16-le" if parities == {1} else "utf-16-be"
    if utf is None:
        return TextmineError(f"{display(path)}: looks like a binary file (NUL byte at offset {pos + nul})")
    hint = f"try {opts.option} {utf}" if opts.option else f"convert it to UTF-8 (e.g. iconv -f {utf} -t utf-8)"
    return TextmineError(f"{display(path)}: looks like {utf.upper()} text, not {opts.encoding} "
                         f"(NUL byte at offset {pos + nul}); {hint}")


def iter_lines(shard, opts=ReadOptions()):
    """Yield the decoded lines of a shard, without their line ends.

    A BOM at the start of a file is dropped (for UTF-8 and UTF-8-SIG alike), ``\\r\\n`` and
    ``\\n`` both end a line, and a NUL byte means a binary file (an error).
    """
    for lines in iter_line_blocks(shard, opts):
        yield from lines


def iter_line_blocks(shard, opts=ReadOptions(), block_bytes=1 << 20):
    """Yield the lines of a shard in lists, one list per block of about ``block_bytes`` bytes.

    The same lines as :func:`iter_lines`; a shard owns the lines that start in its byte range.
    Each block is read, checked for NUL bytes and decoded at once.
    """
    if not opts.ascii_compatible:
        yield list(_iter_lines_wide(shard, opts))
        return
    path = shard.path
    f = _open_binary(path)
    try:
        pos = shard.start
        if pos:
            f.seek(pos - 1)
            skipped = f.readline()  # finish the line that the previous shard owns
            pos = pos - 1 + len(skipped)
        end = shard.end
        enc, errs = opts.encoding, opts.errors
        first = pos == 0
        read = getattr(f, "read1", f.read)  # a pipe: what has arrived, not a full block
        while end is None or pos < end:
            try:
                raw = read(block_bytes if end is None else min(block_bytes, end - pos))
                if raw and not raw.endswith(b"\n"):
                    raw += f.readline()  # complete the last line: it starts inside the range
            except OSError as e:
                raise TextmineError(f"{display(path)}: {e}") from None
            if not raw:
                break
            nul = raw.find(b"\x00")
            if nul >= 0:
                raise _binary_error(path, raw, pos, nul, opts)
            try:
                text = raw.decode(enc, errs)
            except UnicodeDecodeError as e:
                raise _decode_error(path, pos + e.start, raw[e.start], opts) from None
            if first:
                first = False
                if text.startswith("\ufeff"):
                    text = text[1:]
            pos += len(raw)
            lines = text.split("\n")
            if not lines[-1]:  # else the file's last line has no line end
                lines.pop()
            if "\r" in text:
                lines = [x[:-1] if x.endswith("\r") else x for x in lines]
            yield lines
    finally:
        if f is not sys.stdin.buffer:
            f.close()


def _iter_lines_wide(shard, opts):
    # UTF-16/32 and other codecs where b"\n" is not a line end: no byte offsets, whole file.
    f = _open_binary(shard.path)
    text = io.TextIOWrapper(f, encoding=opts.encoding, errors=opts.errors, newline=None)
    try:
        for i, line in enumerate(text):
            if i == 0 and line.startswith("\ufeff"):
                line = line[1:]
            if "\x00" in line:
                raise TextmineError(f"{display(shard.path)}: looks like a binary file (NUL character)")
            yield line.rstrip("\n")
    except UnicodeDecodeError as e:
        raise TextmineError(
            f"{display(shard.path)}: cannot decode as {opts.encoding} ({e.reason}); "
            + (f"try another {opts.option}" if opts.option else "convert the file to UTF-8")
        ) from None
    finally:
        text.detach()
        if f is not sys.stdin.buffer:
            f.close()


def iter_documents(paths, opts=ReadOptions(), doc_per_file=False):
    """Yield documents: one per line, or one per file with ``doc_per_file`` (lines joined by ``\\n``)."""
    for p in paths:
        if doc_per_file:
            yield "\n".join(iter_lines(Shard(p), opts))
        else:
            yield from iter_lines(Shard(p), opts)


def iter_batches(shard, opts=ReadOptions(), batch_chars=1 << 20, doc_per_file=False):
    """Yield lists of documents from one shard, each list holding about ``batch_chars`` characters."""
    if doc_per_file:
        yield ["\n".join(iter_lines(shard, opts))]
        return
    batch, size = [], 0
    for lines in iter_line_blocks(shard, opts, max(1 << 12, min(batch_chars, 1 << 20))):
        batch.extend(lines)
        size += sum(map(len, lines)) + len(lines)
        if size >= batch_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def total_bytes(paths):
    """Sum of file sizes (compressed files count as stored; stdin as 0): for progress bars."""
    return sum(os.path.getsize(p) for p in paths if p != STDIN)
