"""Corpus input: one reader for every stage.

A corpus is any number of files, directories (walked recursively in sorted order, filtered by a
glob on the file name) and ``-`` for standard input. Files are read as bytes and decoded line by
line under an explicit encoding, so that an undecodable byte is reported with its file and byte
offset. A UTF-8 BOM and CRLF line ends are handled. ``.gz``, ``.bz2`` and ``.xz`` files are opened
by extension (``.zst`` too, with the optional ``zstandard`` package). Memory does not grow with
corpus size: everything here streams.

Besides plain text, a corpus may be JSON Lines, CSV or TSV (:data:`FORMATS`, chosen by
``ReadOptions.input_format`` or the file extension): the *record readers* at the end of this module
turn each record's field into text, so every reader above (lines, line blocks, batches, documents)
yields the same text it would for the file ``jq -r .text`` prints. See :func:`iter_records`.

Large plain files are cut into byte-range :class:`Shard` s for the map-reduce workers: a shard
owns every line that *starts* inside ``[start, end)``.
"""
import bz2
import codecs
import collections
import csv
import dataclasses
import fnmatch
import gzip
import io
import json
import lzma
import multiprocessing
import os
import re
import sys
import tempfile
from dataclasses import dataclass

from textmine.errors import TextmineError

STDIN = "-"
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_ERRORS = ("strict", "replace", "ignore", "surrogateescape", "skip")
_COMPRESSED = tuple(_OPENERS) + (".zst",)


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
    """How to decode: ``encoding`` (any Python codec), ``errors`` (strict/replace/.../skip), and
    which records to read: ``input_format`` (one of :data:`FORMATS`, default ``text``; ``None``: by
    the file's extension, as the command line does) and
    ``field`` (JSON key, dotted for nested keys, or CSV/TSV column name or 1-based number; ``None``:
    ``text``). ``errors='skip'`` decodes strictly but skips a record that cannot be read.

    ``option`` and ``errors_option`` name the command-line options that set ``encoding`` and
    ``errors``, for the hints of error messages (``""``: the command has no such option, and no
    hint names one).
    """

    encoding: str = "utf-8"
    errors: str = "strict"
    input_format: object = "text"
    field: object = None
    option: str = "--encoding"
    errors_option: str = "--errors"
    cr_lines: bool = True  # a file whose lines end with a bare CR is read as such (:func:`cr_line_ends`)

    def check(self):
        try:
            info = codecs.lookup(self.encoding)
        except LookupError:
            raise TextmineError(f"unknown encoding {self.encoding!r}; try utf-8 or gb18030") from None
        if self.errors not in _ERRORS:
            raise TextmineError(f"--errors must be one of {', '.join(_ERRORS)}, not {self.errors!r}")
        if self.input_format is not None and self.input_format not in FORMATS:
            raise TextmineError(f"--input-format must be one of {', '.join(FORMATS)}, not {self.input_format!r}")
        if self.field is not None:
            if self.input_format == "text":
                raise TextmineError("--field needs a record format: --input-format jsonl, csv or tsv")
            if not self.field or self.field.strip() != self.field:
                raise TextmineError(f"--field {self.field!r}: give a key or column name without surrounding spaces")
            if self.field.isdigit() and int(self.field) < 1 and self.input_format in ("csv", "tsv"):
                raise TextmineError("--field: column numbers start at 1")
        return info

    @property
    def codec_errors(self):
        """The codec error handler: ``skip`` decodes with ``surrogateescape`` and drops the records
        that hold an undecodable byte."""
        return "surrogateescape" if self.errors == "skip" else self.errors

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
            raise _missing(p)
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
            raise _missing(p) if not os.path.exists(p) else TextmineError(f"{p}: permission denied")
    return out


def _missing(p):
    """The error for a path that is not there: a symbolic link to nothing says so."""
    if os.path.islink(p):
        try:
            target = os.readlink(p)
        except OSError:
            target = "?"
        return TextmineError(f"{p}: broken symbolic link (to {target}, which does not exist)")
    return TextmineError(f"{p}: no such file or directory")


def _open_binary(path):
    if path == STDIN:
        return sys.stdin.buffer
    ext = os.path.splitext(path)[1].lower()
    if ext == ".zst":
        return _open_zstd(path)
    try:
        if ext in _OPENERS:
            return _OPENERS[ext](path, "rb")
        return open(path, "rb")
    except OSError as e:
        raise TextmineError(f"{path}: {e.strerror or e}") from None


_CR_HEAD = 1 << 16
_cr_seen = {}  # (path, size, mtime) -> whether the file ends its lines with a bare CR


def _cr_only(head):
    """Whether ``head`` (bytes or str, the start of a text) ends its lines with a bare CR."""
    cr, lf = ("\r", "\n") if isinstance(head, str) else (b"\r", b"\n")
    return cr in head and lf not in head


def split_lines(text):
    """The lines of a whole decoded text as every textmine reader cuts them: at ``\\n`` (a ``\\r``
    before it dropped), or at a bare ``\\r`` in a text whose start has no ``\\n``
    (:func:`cr_line_ends`); never at the other characters ``str.splitlines`` breaks at (form
    feed, U+2028, ...). A last line end ends the last line, not an empty one."""
    if _cr_only(text[:_CR_HEAD]):
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    else:
        lines = [x[:-1] if x.endswith("\r") else x for x in text.split("\n")]
    if lines and not lines[-1]:
        lines.pop()
    return lines


def cr_line_ends(path):
    """Whether ``path`` ends its lines with a bare ``\\r`` (classic Mac OS): its first 64 KiB hold
    a ``\\r`` and no ``\\n``. Such a file is read with universal newlines and kept whole (byte ranges
    are cut at ``\\n``); decided once per file, before it is cut into shards. Standard input is
    peeked at without being consumed."""
    if path == STDIN:
        try:
            head = sys.stdin.buffer.peek(_CR_HEAD)[:_CR_HEAD]
        except (AttributeError, OSError, ValueError):
            return False
        return _cr_only(head)
    try:
        st = os.stat(path)
    except OSError:
        return False
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _cr_seen:
        try:
            f = _open_binary(path)
            try:
                head = f.read(_CR_HEAD)
            finally:
                f.close()
        except (OSError, TextmineError, EOFError, ValueError):
            head = b""  # the reader reports what is wrong with the file
        _cr_seen[key] = _cr_only(head)
    return _cr_seen[key]


def splittable(path):
    """Whether ``path`` can be cut into byte ranges (a plain, seekable file)."""
    return path != STDIN and os.path.splitext(path)[1].lower() not in _COMPRESSED


def make_shards(paths, shard_bytes=8 << 20, opts=None):
    """Cut files into byte-range shards of about ``shard_bytes`` (compressed files and stdin whole).

    A CSV file (by ``opts`` or its extension) with a quoted field that spans lines is kept whole:
    a byte range cannot tell where its records start; so is every file of an encoding in which
    ``b"\\n"`` is not a line end (UTF-16, UTF-32: ``opts.ascii_compatible`` is false), and every
    file whose lines end with a bare ``\\r`` (:func:`cr_line_ends`)."""
    shards = []
    whole = opts is not None and not opts.ascii_compatible
    for p in paths:
        if whole or not splittable(p) or ((opts is None or opts.cr_lines) and cr_line_ends(p)):
            shards.append(Shard(p))
            continue
        size = os.path.getsize(p)
        csv_file = input_format(p, opts or ReadOptions(input_format=None)) == "csv"
        if size <= shard_bytes or (csv_file and _csv_spans_lines(p)):
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


def _guess_utf16(sample):
    """``'utf-16-le'`` or ``'utf-16-be'`` when ``sample`` (starting at an even file offset) reads as
    text in that byte order, else ``None``. Chinese text has NUL bytes at both parities (U+4E00
    is ``00 4E`` in UTF-16-LE), so the test is what the bytes decode to: text has line ends and
    hardly any control, unassigned or private-use characters; the other byte order of the same
    bytes (``\\n`` read as U+0A00) or a binary file does not."""
    import unicodedata

    sample = sample[:len(sample) // 2 * 2]
    best, best_bad = None, None
    for guess in ("utf-16-le", "utf-16-be"):
        text = sample.decode(guess, "replace")
        if text.endswith("\ufffd"):  # a surrogate pair cut by the sample's end
            text = text[:-1]
        if "\n" not in text:  # a line end, read in this byte order: no guess from a few bytes
            continue
        bad = sum(1 for ch in text if ch not in "\t\n\r" and
                  unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") or ch == "\ufffd")
        if bad <= len(text) // 100 and (best_bad is None or bad < best_bad):
            best, best_bad = guess, bad
    return best


def _binary_error(path, raw, pos, nul, opts):
    """The error for a NUL byte: UTF-16/32 text (a byte-order mark, or NUL bytes all at even or all
    at odd offsets) gets a hint to the right codec; anything else is called binary."""
    utf = None
    if pos == 0 and raw[:4] in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):
        utf = "utf-32"
    elif pos == 0 and raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        utf = "utf-16"
    else:
        utf = _guess_utf16(raw[(pos % 2):(pos % 2) + (1 << 16)])
    if utf is None:
        return TextmineError(f"{display(path)}: looks like a binary file (NUL byte at offset {pos + nul})")
    hint = f"try {opts.option} {utf}" if opts.option else f"convert it to UTF-8 (e.g. iconv -f {utf} -t utf-8)"
    return TextmineError(f"{display(path)}: looks like {utf.upper()} text, not {opts.encoding} "
                         f"(NUL byte at offset {pos + nul}); {hint}")


def iter_lines(shard, opts=ReadOptions()):
    """Yield the decoded lines of a shard, without their line ends.

    A BOM at the start of a file is dropped (for UTF-8 and UTF-8-SIG alike), ``\\r\\n`` and
    ``\\n`` both end a line (and a bare ``\\r`` in a file that has no ``\\n``: :func:`cr_line_ends`),
    and a NUL byte means a binary file (an error).
    """
    for lines in iter_line_blocks(shard, opts):
        yield from lines


def iter_line_blocks(shard, opts=ReadOptions(), block_bytes=1 << 20):
    """Yield the lines of a shard in lists, one list per block of about ``block_bytes`` bytes.

    The same lines as :func:`iter_lines`; a shard owns the lines that start in its byte range.
    Each block is read, checked for NUL bytes and decoded at once.
    """
    for lines, _ in _line_blocks(shard, opts, block_bytes):
        yield lines


def iter_line_pieces(shard, opts=ReadOptions(), block_bytes=1 << 20, max_line_bytes=1 << 20):
    """Like :func:`iter_line_blocks`, but a line longer than ``max_line_bytes`` comes in pieces:
    yields ``(lines, open_end)``, where ``open_end`` says that the last line of the list goes on
    as the first line of the next list (a block then holds at most ``block_bytes +
    max_line_bytes`` bytes). Pieces are cut between characters. In encodings where ``\\n`` is
    not a byte of its own (UTF-16/32) a piece holds at most ``max_line_bytes // 4`` characters;
    records (JSONL, CSV, TSV) and ``errors='skip'`` lines still come whole.
    """
    return _line_blocks(shard, opts, block_bytes, max_line_bytes)


def _line_blocks(shard, opts, block_bytes, max_line=None):
    if opts.errors == "skip" or input_format(shard.path, opts) != "text":
        for lines in _record_line_blocks(shard, opts, block_bytes):
            yield lines, False
        return
    if not opts.ascii_compatible or (opts.cr_lines and cr_line_ends(shard.path)):
        if shard.start:  # byte offsets mean nothing here: the shard at 0 reads the whole file
            return
        yield from _wide_blocks(shard, opts, block_bytes, max_line)
        return
    path = shard.path
    f = _open_binary(path)
    try:
        pos = shard.start
        if pos:
            f.seek(pos - 1)
            while True:  # finish the line that the previous shard owns
                skipped = f.readline(max_line or -1)
                pos += len(skipped)
                if not skipped or skipped.endswith(b"\n"):
                    break
            pos -= 1
        end = shard.end
        enc, errs = opts.encoding, opts.errors
        first = pos == 0
        read = getattr(f, "read1", f.read)  # a pipe: what has arrived, not a full block
        # with max_line, a block may end inside a line: bytes of a character cut there wait in
        # an incremental decoder
        dec = codecs.getincrementaldecoder(enc)(errs) if max_line else None
        open_end = False
        while end is None or pos < end or open_end:
            try:
                if open_end:  # the rest of a long line (that started inside the range)
                    raw = f.readline(max_line)
                else:
                    raw = read(block_bytes if end is None else min(block_bytes, end - pos))
                    if raw and not raw.endswith(b"\n"):
                        raw += f.readline(max_line or -1)  # complete the last line: it starts inside the range
                open_end = max_line is not None and len(raw) > 0 and not raw.endswith(b"\n")
                if open_end and raw.endswith(b"\r"):  # keep a CRLF whole
                    raw += f.readline(1)
                    open_end = not raw.endswith(b"\n")
            except OSError as e:
                raise TextmineError(f"{display(path)}: {e}") from None
            if not raw:
                if dec is not None:
                    dec.decode(b"", final=True) if errs != "strict" else _finish(dec, path, pos, opts)
                break
            nul = raw.find(b"\x00")
            if nul >= 0:
                raise _binary_error(path, raw, pos, nul, opts)
            try:
                if dec is None:
                    text = raw.decode(enc, errs)
                else:
                    held = len(dec.getstate()[0])
                    text = dec.decode(raw)
            except UnicodeDecodeError as e:
                if dec is None:
                    raise _decode_error(path, pos + e.start, raw[e.start], opts) from None
                raise _decode_error(path, pos - held + e.start, e.object[e.start], opts) from None
            if first:
                first = False
                if text.startswith("\ufeff"):
                    text = text[1:]
            pos += len(raw)
            lines = text.split("\n")
            if not open_end and not lines[-1]:  # else the file's last line has no line end
                lines.pop()
            if "\r" in text:
                lines = [x[:-1] if x.endswith("\r") and (i < len(lines) - 1 or not open_end) else x
                         for i, x in enumerate(lines)]
            yield lines, open_end
    finally:
        if f is not sys.stdin.buffer:
            f.close()


def _finish(dec, path, pos, opts):
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError as e:
        raise _decode_error(path, pos - len(e.object) + e.start, e.object[e.start], opts) from None


def _wide_blocks(shard, opts, block_bytes, max_line=None):
    """``(lines, open_end)`` of a whole file in an encoding where ``b"\\n"`` is not a line end
    (UTF-16/32): blocks of about ``block_bytes`` bytes decoded incrementally; ``\\r\\n``, ``\\r``
    and ``\\n`` end a line (universal newlines, as :class:`io.TextIOWrapper` reads). With
    ``max_line`` a line longer than ``max_line // 4`` characters comes in pieces (cut between
    characters), as in :func:`iter_line_pieces`; without it lines come whole."""
    path = shard.path
    f = _open_binary(path)
    enc, errs = opts.encoding, opts.errors
    dec = codecs.getincrementaldecoder(enc)(errs)
    read = getattr(f, "read1", f.read)  # a pipe: what has arrived, not a full block
    max_chars = None if max_line is None else max(1, max_line // 4)
    carry = ""  # the line under way (the rest of it, when a piece of it has gone)
    first, pos = True, 0
    try:
        while True:
            try:
                raw = read(block_bytes)
            except OSError as e:
                raise TextmineError(f"{display(path)}: {e}") from None
            held = len(dec.getstate()[0])
            try:
                text = dec.decode(raw, final=not raw)
            except UnicodeDecodeError as e:
                raise TextmineError(
                    f"{display(path)}: cannot decode as {enc} ({e.reason} at byte offset {pos - held + e.start}); "
                    + (f"try another {opts.option}" if opts.option else "convert the file to UTF-8")
                ) from None
            pos += len(raw)
            if first and text:
                first = False
                if text.startswith("\ufeff"):
                    text = text[1:]
            if "\x00" in text:
                raise TextmineError(f"{display(path)}: looks like a binary file (NUL character)")
            text = carry + text
            if raw and text.endswith("\r"):  # a \r\n may be cut between blocks: the \r waits
                carry, text = "\r", text[:-1]
            else:
                carry = ""
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            lines = text.split("\n")
            rest = lines.pop() + carry
            if not raw:  # the end: a last line without a line end
                if rest:
                    lines.append(rest)
                if lines:
                    yield lines, False
                return
            if max_chars is not None and len(rest) > max_chars and not rest.endswith("\r"):
                lines.append(rest)
                carry = ""
                yield lines, True
            else:
                carry = rest
                if lines:
                    yield lines, False
    finally:
        if f is not sys.stdin.buffer:
            f.close()


def iter_documents(paths, opts=ReadOptions(), doc_per_file=False):
    """Yield documents: one per line, or one per file with ``doc_per_file`` (lines joined by ``\\n``).

    A JSON Lines, CSV or TSV file gives one document per record (its line breaks kept)."""
    for p in paths:
        if input_format(p, opts) != "text":
            docs = (_as_text(v) for batch in iter_records(Shard(p), opts) for v, _ in batch)
            if doc_per_file:
                yield "\n".join(docs)
            else:
                yield from docs
        elif doc_per_file:
            yield "\n".join(iter_lines(Shard(p), opts))
        else:
            yield from iter_lines(Shard(p), opts)


def iter_batch_pieces(shard, opts=ReadOptions(), batch_chars=1 << 20, doc_per_file=False, max_line_chars=1 << 18):
    """Like :func:`iter_batches` in bounded memory: yields ``(documents, open_end)``, where
    ``open_end`` says that the last document of the list goes on as the first one of the next
    list. A line longer than about ``max_line_chars`` comes in pieces (cut between characters);
    with ``doc_per_file`` a file is one document in pieces, each piece its lines joined by
    ``\\n`` and, but for the last, ending with ``\\n``.
    """
    batch, size = [], 0
    max_line = 4 * max_line_chars
    for lines, open_end in iter_line_pieces(shard, opts, max(1 << 12, min(batch_chars, 1 << 20)), max_line):
        if doc_per_file:
            yield ["\n".join(lines) + ("" if open_end else "\n")], True
            continue
        batch.extend(lines)
        size += sum(map(len, lines)) + len(lines)
        if size >= batch_chars or open_end:
            yield batch, open_end
            batch, size = [], 0
    if doc_per_file:
        yield [""], False  # the end of the document
    elif batch:
        yield batch, False


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


#: How to read a file written by :func:`spool_long_lines` (UTF-8; a lone surrogate that
#: ``surrogateescape`` decoding made is written and read back as itself).
SPOOL_READ = ReadOptions(encoding="utf-8", errors="surrogatepass", input_format="text", cr_lines=False)  # one line


def spool_long_lines(shard, opts, batch_bytes, directory, whole=False):
    """The lines of ``shard`` (standard input, read once, in order) in lists of about
    ``batch_bytes`` bytes, with each line longer than ``batch_bytes`` written to a new file in
    ``directory`` as it arrives and yielded as a :class:`Shard` of that file in its place, to be
    read (in pieces) with :data:`SPOOL_READ`: memory holds about two batches, whatever the line
    lengths. With ``whole``, all of the input goes to one file (one document read in pieces).

    A spooled file holds its line as read with ``opts`` (decoded, line end dropped) and a line end;
    a BOM when the line starts with U+FEFF and ``\\r\\n`` when it ends with ``\\r``, so that the
    reader gives back the same line. Records (JSONL, CSV, TSV) and ``errors='skip'`` lines are
    read whole (see :func:`iter_line_pieces`) and never spooled."""
    block = max(1 << 12, min(batch_bytes, 1 << 20))
    batch, size = [], 0
    out = None  # the spool file being written
    cont = False  # the first line of the next list goes on with the line being written
    try:
        if whole:
            out = _Spool(directory)
            for lines, open_end in iter_line_pieces(shard, opts, block, batch_bytes):
                for i, line in enumerate(lines):
                    if i or not cont:
                        out.new_line()
                    out.write(line)
                cont = open_end
            yield out.close(eof=cont)
            out = None
            return
        for lines, open_end in iter_line_pieces(shard, opts, block, batch_bytes):
            i = 0
            if cont:  # the rest of a spooled line (all of it, if this list is one open piece)
                out.write(lines[0])
                i = 1
                if len(lines) > 1 or not open_end:
                    yield out.close()
                    out = None
            if open_end and (len(lines) > 1 or not cont):
                out = _Spool(directory)
                out.new_line()
                out.write(lines[-1])
                rest = lines[i:-1]
            else:
                rest = lines[i:]
            cont = open_end
            for line in rest:
                batch.append(line)
                size += len(line) + 1
                if size >= batch_bytes:
                    yield batch
                    batch, size = [], 0
        if out is not None:  # the input ended inside a long line
            yield out.close(eof=True)
            out = None
        if batch:
            yield batch
    finally:
        if out is not None:
            out.f.close()


class _Spool:
    """A file of lines written in pieces, for :func:`spool_long_lines`."""

    def __init__(self, directory):
        fd, self.name = tempfile.mkstemp(prefix="stdin-", suffix=".txt", dir=directory)
        self.f = os.fdopen(fd, "wb")
        self.started = False  # any byte written
        self.last = None  # the last character of the line being written ("" none yet; None: no line)

    def new_line(self):
        if self.last is not None:
            self._end()
        self.last = ""

    def _end(self, eof=False):
        # a line's own last \r is kept (\r\r\n), but not at the end of the input (as the reader does)
        self.f.write(b"\r\n" if self.last == "\r" and not eof else b"\n")
        self.started = True

    def write(self, text):
        if not text:
            return
        if not self.started and text[0] == "\ufeff":  # the reader drops a BOM: give it one to drop
            self.f.write(codecs.BOM_UTF8)
        self.f.write(text.encode("utf-8", "surrogatepass"))
        self.started = True
        self.last = text[-1]

    def close(self, eof=False):
        if self.last is not None:
            self._end(eof)
        self.f.close()
        return Shard(self.name)


def total_bytes(paths):
    """Sum of file sizes (compressed files count as stored; stdin as 0): for progress bars."""
    return sum(os.path.getsize(p) for p in paths if p != STDIN)


# ---- record formats: JSON Lines, CSV, TSV ---------------------------------------------------------
#
# A record format is read through the plain line reader above (same decoding, BOM, CRLF, shards),
# and each record then gives its field's text. One JSON value per line (blank lines are ignored);
# CSV follows RFC 4180 (Python's csv module: quoted fields may hold commas, quotes and line breaks);
# TSV is tab-separated with no quoting (IANA text/tab-separated-values, what textmine writes). The
# first row of a CSV or TSV file is its header. A field's value is a string, or a list of strings
# (JSON; its items are the paragraphs of one document, joined by line breaks); anything else (a
# number, an object, null) is a bad record, as are invalid JSON and a missing field: an error that
# names FILE:LINE, or skipped and counted with ``errors='skip'``.

FORMATS = ("text", "jsonl", "csv", "tsv")
_FORMAT_EXTS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
_SKIP_REASONS = ("undecodable", "bad JSON", "not an object", "missing field", "not text")
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # \ud83d in JSON text: a surrogate, maybe lone
_MISSING = object()
_skipped = collections.Counter()  # this process's skipped records, by reason (see take_skipped)


def input_format(path, opts=ReadOptions(input_format=None)):
    """The format of ``path``: ``opts.input_format``, or when that is ``None`` by extension
    (``.jsonl``, ``.ndjson``, ``.csv``, ``.tsv``, also before ``.gz``/``.bz2``/``.xz``/``.zst``),
    else ``text``; stdin is ``text`` unless ``opts.input_format`` says otherwise."""
    if opts.input_format is not None:
        return opts.input_format
    if path == STDIN:
        return "text"
    root, ext = os.path.splitext(path.lower())
    if ext in _COMPRESSED:
        ext = os.path.splitext(root)[1]
    return _FORMAT_EXTS.get(ext, "text")


def _open_zstd(path):
    try:
        import zstandard
    except ImportError:
        raise TextmineError(f"{path}: reading .zst files needs the zstandard package: "
                            "pip install 'textmine[zstd]' (or decompress it: zstd -d)") from None
    try:
        raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), read_across_frames=True, closefd=True)
        return io.BufferedReader(raw, 1 << 20)  # readline and read1; every frame of a multi-frame file
    except OSError as e:
        raise TextmineError(f"{path}: {e.strerror or e}") from None


def take_skipped():
    """Return and reset the counts of records this process skipped (``errors='skip'``), by reason."""
    out = dict(_skipped)
    _skipped.clear()
    return out


def format_skipped(counts):
    """``'skipped 3 records (bad JSON: 2, missing field: 1)'``, or ``''`` for none."""
    total = sum(counts.values())
    if not total:
        return ""
    parts = ", ".join(f"{r}: {counts[r]}" for r in _SKIP_REASONS if counts.get(r))
    return f"skipped {total} record{'s' if total != 1 else ''} ({parts})"


class RecordBatch(list):
    """A list of ``(value, row)`` pairs read from one shard: ``value`` is the field's text (``str``,
    or a ``list`` of ``str`` from a JSON array), ``row`` the parsed record (a ``dict`` for JSON
    Lines, a ``list`` of cells for CSV/TSV). ``format`` is the shard's format; ``header`` the CSV or
    TSV header row (``None`` for JSON Lines) and ``column`` the field's 0-based column."""

    format = "jsonl"
    header = None
    column = None


class _Where:
    """``FILE:LINE`` for a line of a shard; a shard that starts inside a file counts the lines
    before it only when an error needs them."""

    def __init__(self, shard, opts):
        self.shard, self.opts, self._base = shard, opts, None

    def __call__(self, i):
        if self._base is None:
            self._base = 0
            if self.shard.start and splittable(self.shard.path) and self.opts.ascii_compatible:
                self._base = _lines_before(self.shard.path, self.shard.start)
        return f"{display(self.shard.path)}:{self._base + i}"


def _lines_before(path, start):
    """How many lines start before the first line a shard at byte ``start`` owns."""
    n = 0
    with open(path, "rb") as f:
        left = start - 1
        while left > 0:
            raw = f.read(min(left, 1 << 20))
            if not raw:
                break
            n += raw.count(b"\n")
            left -= len(raw)
        return n + (1 if f.readline().endswith(b"\n") else 0)


def _csv_spans_lines(path):
    """Whether a CSV file has a quoted field with a line break (an odd count of quotes before a
    line end: each quote opens or closes a quoted field, and ``""`` inside one does both)."""
    odd = False
    with open(path, "rb") as f:
        while True:
            raw = f.read(1 << 22)
            if not raw:
                return False
            if b'"' not in raw:
                if odd and b"\n" in raw:
                    return True
                continue
            pieces = raw.split(b"\n")
            for piece in pieces[:-1]:
                odd ^= piece.count(b'"') & 1
                if odd:
                    return True
            odd ^= pieces[-1].count(b'"') & 1


def _json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, dict):
        return "an object"
    return "an array" if isinstance(v, list) else type(v).__name__


def _get_field(obj, field, keys):
    """``obj[field]``, else ``obj[k1][k2]...`` for a dotted field; :data:`_MISSING` when absent."""
    v = obj.get(field, _MISSING)
    if v is _MISSING and len(keys) > 1:
        v = obj
        for k in keys:
            if not isinstance(v, dict):
                return _MISSING
            v = v.get(k, _MISSING)
            if v is _MISSING:
                break
    return v


def set_field(obj, field, value):
    """Set ``field`` of a JSON object (the key itself when present, else a dotted path, made as needed)."""
    if field in obj or "." not in field:
        obj[field] = value
        return
    *path, last = field.split(".")
    cur = obj
    for k in path:
        nxt = cur.get(k)
        if nxt is None:
            nxt = cur[k] = {}
        elif not isinstance(nxt, dict):
            raise TextmineError(f"cannot write field {field!r}: {k!r} is {_json_type(nxt)}, not an object")
        cur = nxt
    cur[last] = value


def _has_surrogate(v):
    return _SURROGATE.search(v) is not None if type(v) is str else any(_SURROGATE.search(x) for x in v)


def _drop_surrogates(v, by):
    if type(v) is str:
        return _SURROGATE.sub(by, v)
    return [_SURROGATE.sub(by, x) for x in v]


def _is_text(v):
    return type(v) is str or (type(v) is list and all(type(x) is str for x in v))


def _as_text(v):
    """A field value as one document: a list's items joined by line breaks."""
    return v if type(v) is str else "\n".join(v)


def _skip_or_raise(skips, skip, reason, where, message):
    if not skip:
        raise TextmineError(f"{where}: {message}" + ("" if reason == "undecodable" else
                                                      "; --errors skip skips such records"))
    skips[reason] += 1


def _text_opts(opts):
    return dataclasses.replace(opts, input_format="text", errors=opts.codec_errors)


def _jsonl_records(shard, opts, block_bytes, skips, as_lines=False):
    field = opts.field or "text"
    keys = field.split(".")
    skip = opts.errors == "skip"
    where = _Where(shard, opts)
    scan = json.JSONDecoder().scan_once  # the C scanner, without json.loads' checks: about 2x faster
    n = 0
    for lines in iter_line_blocks(shard, _text_opts(opts), block_bytes):
        batch = [] if as_lines else RecordBatch()
        append = batch.append
        for i, line in enumerate(lines, n + 1):
            if skip and _UNDECODABLE.search(line):
                skips["undecodable"] += 1
                continue
            try:
                obj, end = scan(line, 0)
                if end != len(line) and not line[end:].isspace():
                    raise ValueError
            except (StopIteration, ValueError):
                if not line or line.isspace():
                    continue
                try:
                    obj = json.loads(line)  # leading whitespace, or the decoder's own message
                except ValueError as e:
                    _skip_or_raise(skips, skip, "bad JSON", where(i),
                                   f"invalid JSON ({getattr(e, 'msg', e)} at column {getattr(e, 'colno', '?')})")
                    continue
            if type(obj) is not dict:
                _skip_or_raise(skips, skip, "not an object", where(i), f"the record is {_json_type(obj)}, "
                               "not a JSON object")
                continue
            v = obj.get(field, _MISSING)
            if type(v) is not str:
                if v is _MISSING and len(keys) > 1:
                    v = _get_field(obj, field, keys)
                if v is _MISSING:
                    have = ", ".join(map(repr, list(obj)[:20])) or "none"
                    _skip_or_raise(skips, skip, "missing field", where(i), f"no field {field!r} "
                                   f"(the record's keys: {have}); choose one with --field")
                    continue
                if not _is_text(v):
                    what = "an array with items that are not strings" if type(v) is list else _json_type(v)
                    _skip_or_raise(skips, skip, "not text", where(i), f"field {field!r} is {what}, "
                                   "not a string or an array of strings")
                    continue
            if "\\u" in line and _SURROGATE_ESCAPE.search(line) and _has_surrogate(v):
                # JSON's \ud83d without its pair decodes to a lone surrogate: not text, no UTF-8
                if opts.errors in ("strict", "skip"):
                    bad = _SURROGATE.search(v if type(v) is str else "".join(v)).group()
                    _skip_or_raise(skips, skip, "undecodable", where(i),
                                   f"field {field!r} holds the lone surrogate \\u{ord(bad):04x} (an escape "
                                   "without its pair: not Unicode text); --errors replace replaces it with "
                                   "U+FFFD, --errors skip skips such records")
                    continue
                v = _drop_surrogates(v, "" if opts.errors == "ignore" else "\ufffd")
            if not as_lines:
                append((v, obj))
            elif type(v) is str and "\n" not in v and not v.endswith("\r"):
                append(v)
            else:
                for x in ([v] if type(v) is str else v):
                    batch.extend(_split_lines(x))
        n += len(lines)
        yield batch


def _table_rows(shard, opts, fmt, block_bytes, where, skips):
    """Yield ``(line_number, row)`` lists, one per block of lines (CSV rows may span lines)."""
    skip = opts.errors == "skip"
    if fmt == "tsv":
        n = 0
        for lines in iter_line_blocks(shard, _text_opts(opts), block_bytes):
            out = []
            for i, line in enumerate(lines, n + 1):
                if not line:
                    continue
                if skip and _UNDECODABLE.search(line):
                    skips["undecodable"] += 1
                    continue
                out.append((i, line.split("\t")))
            n += len(lines)
            yield out
        return
    csv.field_size_limit(min(sys.maxsize, 1 << 40))  # a document may be long
    whole = not shard.start and shard.end is None
    blocks = iter_line_blocks(shard, _text_opts(opts), block_bytes)
    pending = collections.deque()

    def feed():
        for lines in blocks:
            pending.append(None)  # a block boundary
            for line in lines:
                yield line + "\n"

    reader = csv.reader(feed())
    out, last = [], 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise TextmineError(f"{where(reader.line_num)}: bad CSV ({e})") from None
        first = last + 1
        last = reader.line_num
        if last > first and not whole:
            raise TextmineError(f"{where(first)}: a quoted CSV field spans lines, so this file cannot be read "
                                "in byte ranges (make_shards keeps it whole when given the ReadOptions)")
        if not row:
            continue
        if skip and any(_UNDECODABLE.search(c) for c in row):
            skips["undecodable"] += 1
            continue
        out.append((first, row))
        if pending:
            pending.clear()
            yield out
            out = []
    if out:
        yield out


def _column(header, field, where):
    field = field or "text"
    if field.isdigit():
        return int(field) - 1
    try:
        return header.index(field)
    except ValueError:
        have = ", ".join(map(repr, header[:30]))
        raise TextmineError(f"{where}: no column {field!r} (the header's columns: {have}); choose one with "
                            "--field NAME or a 1-based column number") from None


def _read_header(path, opts, fmt, where):
    for rows in _table_rows(Shard(path), opts, fmt, 1 << 16, where, collections.Counter()):
        if rows:
            return rows[0][1]
    return None


def _table_records(shard, opts, fmt, block_bytes, skips):
    skip = opts.errors == "skip"
    where = _Where(shard, opts)
    header = None if not shard.start else _read_header(shard.path, opts, fmt, where)
    column = None if header is None else _column(header, opts.field, display(shard.path))
    for rows in _table_rows(shard, opts, fmt, block_bytes, where, skips):
        batch = RecordBatch()
        batch.format = fmt
        for i, row in rows:
            if header is None:
                header = row
                column = _column(header, opts.field, display(shard.path))
                continue
            if column >= len(row):
                _skip_or_raise(skips, skip, "missing field", where(i), f"the row has {len(row)} column"
                               f"{'s' if len(row) != 1 else ''}, the field is column {column + 1}")
                continue
            batch.append((row[column], row))
        batch.header, batch.column = header, column
        yield batch


def iter_records(shard, opts=ReadOptions(input_format=None), block_bytes=1 << 20):
    """Yield the records of a JSON Lines, CSV or TSV shard as :class:`RecordBatch` lists.

    The format is ``opts.input_format``, by default the file's extension (:func:`input_format`).
    Each record is one JSON line or CSV/TSV row (the header row excluded). A bad record (invalid
    JSON, a missing field, a value that is not text, an undecodable byte) raises
    :class:`TextmineError` naming ``FILE:LINE``; with ``opts.errors == 'skip'`` it is counted instead
    (see :func:`take_skipped`; a worker process reports its own shard's count on stderr).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "c.jsonl")
    >>> _ = open(p, "w", encoding="utf-8").write('{"id": 1, "text": "\\\\u4e2d\\\\u6587"}\\n')
    >>> [v for batch in iter_records(Shard(p)) for v, row in batch]
    ['中文']
    """
    return _iter_records(shard, opts, block_bytes)


def _iter_records(shard, opts, block_bytes, as_lines=False):
    fmt = input_format(shard.path, opts)
    if fmt == "text":
        raise TextmineError(f"{display(shard.path)}: not a record format (give --input-format jsonl, csv or tsv)")
    skips = collections.Counter()
    try:
        if fmt == "jsonl":
            yield from _jsonl_records(shard, opts, block_bytes, skips, as_lines)
        elif as_lines:
            for batch in _table_records(shard, opts, fmt, block_bytes, skips):
                yield [x for v, _ in batch for x in _split_lines(v)]
        else:
            yield from _table_records(shard, opts, fmt, block_bytes, skips)
    finally:
        if skips:
            _skipped.update(skips)
            if multiprocessing.parent_process() is not None:  # a worker: the parent never sees its counts
                where = "" if not shard.start and shard.end is None else f" (bytes {shard.start}-{shard.end or ''})"
                sys.stderr.write(f"textmine: {display(shard.path)}{where}: {format_skipped(skips)}\n")
                sys.stderr.flush()


def _split_lines(text):
    if "\n" not in text:
        return [text[:-1] if text.endswith("\r") else text]
    return [x[:-1] if x.endswith("\r") else x for x in text.split("\n")]


def _record_line_blocks(shard, opts, block_bytes):
    """The lines of a record shard (each record's text split at its line breaks, as the plain text
    reader splits a file), or of a plain text shard with ``errors='skip'``."""
    if input_format(shard.path, opts) == "text":  # errors='skip': drop the undecodable lines
        skips = collections.Counter()
        try:
            for lines in iter_line_blocks(shard, _text_opts(opts), block_bytes):
                bad = [x for x in lines if _UNDECODABLE.search(x)]
                if bad:
                    skips["undecodable"] += len(bad)
                    lines = [x for x in lines if not _UNDECODABLE.search(x)]
                yield lines
        finally:
            if skips:
                _skipped.update(skips)
                if multiprocessing.parent_process() is not None:
                    sys.stderr.write(f"textmine: {display(shard.path)}: {format_skipped(skips)}\n")
        return
    yield from _iter_records(shard, opts, block_bytes, as_lines=True)


def format_header(batch, output_field=None):
    """The CSV/TSV header line to write before ``batch``'s records (``output_field`` appended as a new
    column); ``''`` for JSON Lines."""
    if batch.header is None:
        return ""
    return _format_rows(batch.format, [batch.header + ([output_field] if output_field else [])])


def format_records(batch, values, field=None, output_field=None):
    """``batch``'s records written back in their own format with the field's value replaced by
    ``values`` (one per record), or put in a new ``output_field``; every other key or column is kept,
    in order. JSON Lines are written compactly with UTF-8 characters unescaped."""
    if batch.format == "jsonl":
        name = output_field or field or "text"
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        out = []
        for (_, obj), v in zip(batch, values):
            set_field(obj, name, v)
            line = dumps(obj)
            if _SURROGATE.search(line):  # a lone surrogate in another key: kept as its \\u escape
                line = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
            out.append(line)
        out.append("")
        return "\n".join(out)
    rows = []
    width = len(batch.header)
    for (_, row), v in zip(batch, values):
        if output_field:
            row = row + [""] * (width - len(row)) + [v]
        else:
            row[batch.column] = v
        rows.append(row)
    return _format_rows(batch.format, rows)


def _format_rows(fmt, rows):
    if fmt == "tsv":
        for row in rows:
            for cell in row:
                if "\t" in cell or "\n" in cell or "\r" in cell:
                    raise TextmineError(f"a TSV cell cannot hold a tab or a line break: {cell[:40]!r}")
        return "".join("\t".join(row) + "\n" for row in rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()
