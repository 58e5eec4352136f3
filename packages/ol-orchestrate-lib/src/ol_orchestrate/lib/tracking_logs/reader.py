"""Streaming reader: tracking-log files as chunks of complete lines, with exact line numbers.

Input is read and decompressed in bounded blocks (gzip is detected by its magic bytes, and
concatenated gzip members -- common after log rotation appends -- are all read), cut at the last
newline, and handed out as `LineChunk`s: memory depends on the chunk size and the maximum line
size, never on the file size or on how well it compresses. Each chunk becomes an Arrow string
array of its lines without copying the text (the offsets are the line ends found while cutting),
which is what the vectorized normalizer scans.

A bad file never raises: a line longer than `max_line_bytes` is never held whole (the reader keeps
its first bytes, counts the rest and hands out a `RejectedLine`), and a gzip stream that ends
early or cannot be decompressed ends with one `RejectedLine` for the partial line at that point
(`truncated_file` / `corrupt_gzip`), after the complete lines before it.
"""

from __future__ import annotations

import array
import codecs
import itertools
import logging
import zlib as stdlib_zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import xxhash
from upath import UPath

from ol_orchestrate.lib.tracking_logs.schema import (
    QUARANTINE_RAW_LINE_MAX,
    REASON_CORRUPT_GZIP,
    REASON_LINE_TOO_LONG,
    REASON_TRUNCATED_FILE,
)

try:  # ISA-L's gunzip is about twice as fast as zlib's, with the same API.
    from isal import isal_zlib as zlib
except ImportError:  # pragma: no cover - a platform without isal wheels
    import zlib  # type: ignore[no-redef]

# isal's stub types `error` as an instance; it is the exception class.
_GZIP_ERROR = cast("type[Exception]", zlib.error)

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
READ_SIZE = 1 << 20  # bytes read from storage at a time
FIRST_CHUNK_BYTES = 4 << 20
# The most bytes one decompression step hands out: a highly compressible file (a "gzip bomb", a
# megabyte that inflates to a gigabyte of one byte) is inflated piece by piece. Above what a read
# of real logs (~10x compression) inflates to, so the normal path never splits a block (smaller
# caps measured ~40 MB more peak memory, from allocator fragmentation).
DECOMPRESSED_BLOCK = 16 << 20
# After a decompression error the file is decompressed again this many compressed bytes at a
# time, to keep what comes before the bad spot.
SALVAGE_PIECE = 1024
# The longest line (bytes, without its terminator) that is normalized; a longer one is quarantined
# as `line_too_long` without ever being held whole. Open edX caps an event's payload at
# `TRACK_MAX_EVENT` (50,000 bytes by default), so a real event line is far below this; a line of
# 30 MiB of nested JSON is past what the normalizer's DuckDB (1 GB memory limit) can parse.
DEFAULT_MAX_LINE_BYTES = 8 << 20
# Bytes kept of a line rejected by the reader: enough for `QUARANTINE_RAW_LINE_MAX` characters.
REJECTED_HEAD_BYTES = 4 * QUARANTINE_RAW_LINE_MAX


def line_id(line: bytes | memoryview) -> str:
    """The event id of a raw line (its bytes without the line terminator)."""
    return xxhash.xxh3_128_hexdigest(line)


@dataclass(frozen=True)
class LineChunk:
    """Complete lines of one file: line `first_line + i` is ``data[ends[i]:ends[i + 1]]``,
    ending with its ``\n``. `ends` holds `count + 1` offsets into `data`, which may be shared
    with other chunks of the same file."""

    source_file: str
    first_line: int
    data: bytes
    ends: array.array[int]

    @property
    def count(self) -> int:
        return len(self.ends) - 1

    def line_array(self) -> tuple[pa.LargeStringArray, pa.Array]:
        """The lines as one Arrow string array sharing `data`'s memory, and their ids.

        Each string still ends with its ``\n`` (or ``\r\n``): JSON parsing ignores it, and
        copying every line to drop it would cost more than it is worth. The id of a line is the
        XXH3-128 hash (hex) of its bytes without the terminator: stable across runs, files and
        engines, so a line logged twice dedups. Raises `pyarrow.ArrowInvalid` when a line is
        not valid UTF-8.
        """
        ends = self.ends
        view = memoryview(self.data)
        if self.data.find(b"\r", ends[0], ends[-1]) >= 0:
            ids = [
                line_id(view[a : b - 2] if b >= 2 + a and view[b - 2] == 13 else view[a : b - 1])
                for a, b in itertools.pairwise(ends)
            ]
        else:
            ids = [line_id(view[a : b - 1]) for a, b in itertools.pairwise(ends)]
        lines = pa.LargeStringArray.from_buffers(
            self.count, pa.py_buffer(ends), pa.py_buffer(self.data)
        )
        lines.validate(full=True)
        return lines, pa.array(ids, pa.string())

    def lines_bytes(self) -> list[bytes]:
        """The lines as bytes, without their ``\n`` and a ``\r`` before it."""
        data = self.data
        return [strip_terminator(data[a:b]) for a, b in itertools.pairwise(self.ends)]


@dataclass(frozen=True)
class RejectedLine:
    """One line the reader quarantines itself: too long to hold, or cut by a broken gzip stream.

    `head` is the line's first bytes (at most `REJECTED_HEAD_BYTES`), `size` its full length in
    bytes without the terminator.
    """

    source_file: str
    line_number: int
    reason: str
    head: bytes
    size: int

    @property
    def count(self) -> int:
        return 1

    def text(self) -> str:
        """`head` as text: invalid UTF-8 as ``\\xNN``, a character cut by the head's end dropped."""
        whole = len(self.head) >= self.size
        decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")
        return str(decoder.decode(self.head, final=whole))


def strip_terminator(line: bytes) -> bytes:
    """A line without its ``\n`` / ``\r\n``."""
    if line.endswith(b"\n"):
        line = line[:-1]
    return line[:-1] if line.endswith(b"\r") else line


class _StreamEnd:
    """How a file's byte stream ended: `problem` is None, or the reason for its last line."""

    problem: str | None = None


def _gunzip(
    fh: IO[bytes], raw: bytes, module: Any, piece_size: int
) -> Generator[bytes, None, bool]:
    """Decompressed blocks (at most `DECOMPRESSED_BLOCK` bytes each) of every gzip member of
    `raw` and the rest of `fh`, fed `piece_size` compressed bytes at a time; returns whether the
    last member was complete. Raises `module.error` on data that cannot be decompressed.
    NUL padding after a member is ignored."""
    decompressor = module.decompressobj(wbits=31)
    offset = 0  # of the next piece in `raw`
    while offset < len(raw):
        piece = raw[offset : offset + piece_size]  # `raw` itself when it is one piece
        offset += len(piece)
        while True:
            out = decompressor.decompress(piece, DECOMPRESSED_BLOCK)
            if out:
                yield out
            piece = decompressor.unconsumed_tail
            if decompressor.eof or (not piece and len(out) < DECOMPRESSED_BLOCK):
                break
        if decompressor.eof:
            # End of one gzip member: another may follow (`cat a.gz b.gz`), or padding.
            raw, offset = decompressor.unused_data + raw[offset:], 0
            while not raw.strip(b"\x00"):
                raw = fh.read(READ_SIZE)
                if not raw:
                    return True
            decompressor = module.decompressobj(wbits=31)
        elif offset == len(raw):
            raw, offset = fh.read(READ_SIZE), 0
    tail = decompressor.flush()
    if tail:
        yield tail
    return False


def _decompressed_blocks(fh: IO[bytes], source: str, end: _StreamEnd) -> Iterator[bytes]:
    """The file's content in blocks: gunzipped (every member) when it starts with the gzip magic.

    A gzip stream that stops before its end (a file cut short) sets `end.problem` to
    `truncated_file`; data that cannot be decompressed (a bad block, a wrong checksum, a
    non-gzip file starting with the magic bytes) to `corrupt_gzip`. Neither raises: what was
    decompressed before stands (after an error the file is decompressed again in small pieces,
    so at most `SALVAGE_PIECE` compressed bytes before the bad spot are lost).
    """
    first = fh.read(READ_SIZE)
    if not first.startswith(GZIP_MAGIC):
        block = first
        while block:
            yield block
            block = fh.read(READ_SIZE)
        return
    produced = 0
    blocks = _gunzip(fh, first, zlib, READ_SIZE)
    try:
        while True:
            try:
                block = next(blocks)
            except StopIteration as stop:
                complete = bool(stop.value)
                break
            produced += len(block)
            yield block
    except _GZIP_ERROR as error:
        logger.warning("%s: gzip data cannot be decompressed past this point: %s", source, error)
        end.problem = REASON_CORRUPT_GZIP
        yield from _salvage(fh, produced)
        return
    if not complete:
        logger.warning("%s: gzip stream ends early; the file is truncated", source)
        end.problem = REASON_TRUNCATED_FILE


def _salvage(fh: IO[bytes], produced: int) -> Iterator[bytes]:
    """What a corrupt gzip file holds after its first `produced` bytes, up to the bad spot."""
    if not fh.seekable():
        return
    fh.seek(0)
    skip = produced
    try:
        for block in _gunzip(fh, fh.read(READ_SIZE), stdlib_zlib, SALVAGE_PIECE):
            if skip >= len(block):
                skip -= len(block)
                continue
            yield block[skip:] if skip else block
            skip = 0
    except stdlib_zlib.error:
        return


class _LongLine:
    """A line being skipped because it is longer than the limit: its head and its length."""

    def __init__(self, head: bytes, size: int, last_byte: int) -> None:
        self.head = head
        self.size = size
        self.last_byte = last_byte

    def add(self, block: bytes | memoryview) -> None:
        if block:
            self.size += len(block)
            self.last_byte = block[-1]

    def rejected(self, source_file: str, line_number: int, reason: str) -> RejectedLine:
        # A `\r` before the `\n` (or at the end of the file) is part of the terminator.
        size = self.size - 1 if self.last_byte == 13 else self.size
        return RejectedLine(source_file, line_number, reason, self.head, size)


def iter_line_chunks(
    path: UPath,
    source_file: str,
    *,
    chunk_bytes: int,
    chunk_lines: int,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[LineChunk | RejectedLine]:
    """`path` as chunks of at most `chunk_lines` lines and up to about `chunk_bytes` bytes each,
    and the lines the reader rejects itself, in line order.

    A last line without a newline still counts. A line longer than `max_line_bytes` (without its
    terminator) is a `RejectedLine` (`line_too_long`) and is never held whole; a gzip stream that
    is cut short or corrupt ends with a `RejectedLine` (`truncated_file`, `corrupt_gzip`) holding
    the partial line at that point (empty when the stream broke on a line boundary). Memory is
    bounded by `chunk_bytes`, `max_line_bytes` and `DECOMPRESSED_BLOCK`, whatever the input.
    """
    next_line = 1
    pending: list[bytes] = []
    pending_size = 0
    tail = 0  # bytes of `pending` after its last newline: the line being read
    skipping: _LongLine | None = None
    end = _StreamEnd()
    # The first chunks are small so the pipeline fills quickly; then they double to `chunk_bytes`.
    target = min(chunk_bytes, FIRST_CHUNK_BYTES)

    def lines(
        data: bytes, stop: int, most_lines: int = chunk_lines
    ) -> Iterator[LineChunk | RejectedLine]:
        nonlocal next_line
        for item in _split_lines(source_file, next_line, data, stop, most_lines, max_line_bytes):
            next_line += item.count
            yield item

    with path.open("rb") as fh:
        for block in _decompressed_blocks(fh, source_file, end):
            if not block:
                continue
            if skipping is not None:
                newline = block.find(b"\n")
                if newline < 0:
                    skipping.add(block)
                    continue
                skipping.add(memoryview(block)[:newline])
                yield skipping.rejected(source_file, next_line, REASON_LINE_TOO_LONG)
                next_line += 1
                skipping = None
                block = block[newline + 1 :]
                if not block:
                    continue
            pending.append(block)
            pending_size += len(block)
            newline = block.rfind(b"\n")
            tail = tail + len(block) if newline < 0 else len(block) - newline - 1
            # + 1: the line may yet end with `\r\n`, and the `\r` is not part of the line.
            if tail > max_line_bytes + 1:
                data = pending[0] if len(pending) == 1 else b"".join(pending)
                cut = len(data) - tail
                yield from lines(data, cut)
                skipping = _LongLine(data[cut : cut + REJECTED_HEAD_BYTES], tail, data[-1])
                pending, pending_size, tail = [], 0, 0
                del data
                continue
            if pending_size < target or tail == pending_size:
                continue  # not enough yet, or no complete line yet
            target = min(chunk_bytes, target * 2)
            data = pending[0] if len(pending) == 1 else b"".join(pending)
            cut = len(data) - tail
            rest = data[cut:]
            pending, pending_size = ([rest], len(rest)) if rest else ([], 0)
            yield from lines(data, cut)
    if skipping is not None:
        # The stream ended inside a line too long to hold: if the stream broke, that matters more.
        yield skipping.rejected(source_file, next_line, end.problem or REASON_LINE_TOO_LONG)
        return
    data = b"".join(pending)
    if end.problem is not None:
        cut = len(data) - tail
        yield from lines(data, cut)
        yield RejectedLine(
            source_file, next_line, end.problem, data[cut : cut + REJECTED_HEAD_BYTES], tail
        )
        return
    if data:
        if not data.endswith(b"\n"):
            data += b"\n"
        # The end of the file, when large, in two halves: the consumer normalizes chunks two at a
        # time, so the last one does not run alone while a core idles.
        most_lines = chunk_lines
        if len(data) > FIRST_CHUNK_BYTES:
            most_lines = min(chunk_lines, (data.count(b"\n") + 1) // 2)
        yield from lines(data, len(data), most_lines)


def _line_ends(data: bytes, stop: int) -> array.array[int]:
    """0, then the offset after each ``\n`` in ``data[:stop]`` (which ends with one)."""
    ends = array.array("q", [0])
    find, position = data.find, 0
    append = ends.append
    while position < stop:
        position = find(b"\n", position, stop) + 1
        append(position)
    return ends


def _line_size(data: bytes, start: int, stop: int) -> int:
    """The length of the line ``data[start:stop]`` without its ``\n`` and a ``\r`` before it."""
    size = stop - start - 1
    return size - 1 if size and data[stop - 2] == 13 else size


def _too_long(data: bytes, ends: array.array[int], max_line_bytes: int) -> list[int]:
    """Indices of the lines (in `ends`) longer than `max_line_bytes` without their terminator."""
    if ends[-1] - ends[0] <= max_line_bytes + 1:
        return []  # data shorter than the limit: no line can be that long
    offsets = pa.Array.from_buffers(pa.int64(), len(ends), [None, pa.py_buffer(ends)])
    lengths = pc.subtract(offsets.slice(1), offsets.slice(0, len(ends) - 1))
    over = pc.greater(lengths, max_line_bytes + 1)  # bytes with the `\n` > limit + 1
    if not pc.any(over).as_py():
        return []
    return [
        index
        for index in pc.indices_nonzero(over).to_pylist()
        if _line_size(data, ends[index], ends[index + 1]) > max_line_bytes
    ]


def _split_lines(
    source_file: str,
    first_line: int,
    data: bytes,
    stop: int,
    chunk_lines: int,
    max_line_bytes: int,
) -> Iterator[LineChunk | RejectedLine]:
    """The lines of ``data[:stop]`` (complete, ending with ``\n``) as chunks of at most
    `chunk_lines` lines, sharing `data`; the lines over `max_line_bytes` as `RejectedLine`s."""
    if stop <= 0:
        return
    ends = _line_ends(data, stop)
    count = len(ends) - 1
    segments: list[tuple[int, int]] = []  # [start, stop) line indices of kept lines
    start = 0
    for index in _too_long(data, ends, max_line_bytes):
        segments.append((start, index))
        segments.append((index, -1))  # a rejected line
        start = index + 1
    segments.append((start, count))
    for a, b in segments:
        if b < 0:
            begin, finish = ends[a], ends[a + 1]
            size = _line_size(data, begin, finish)
            head = data[begin : begin + min(size, REJECTED_HEAD_BYTES)]
            yield RejectedLine(source_file, first_line + a, REASON_LINE_TOO_LONG, head, size)
            continue
        if a == 0 and b == count and count <= chunk_lines:
            yield LineChunk(source_file, first_line, data, ends)  # the common case
            continue
        for i in range(a, b, chunk_lines):
            j = min(i + chunk_lines, b)
            yield LineChunk(source_file, first_line + i, data, ends[i : j + 1])
