"""Streaming reader: tracking-log files as chunks of complete lines, with exact line numbers.

Input is read and decompressed in bounded blocks (gzip is detected by its magic bytes, and
concatenated gzip members -- common after log rotation appends -- are all read), cut at the last
newline, and handed out as `LineChunk`s: memory depends on the chunk size, never on the file size.
Each chunk becomes an Arrow string array of its lines without copying the text (the offsets are
computed from the line lengths), which is what the vectorized normalizer scans.
"""

from __future__ import annotations

import array
import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import pyarrow as pa
import xxhash
from upath import UPath

try:  # ISA-L's gunzip is about twice as fast as zlib's, with the same API.
    from isal import isal_zlib as zlib
except ImportError:  # pragma: no cover - a platform without isal wheels
    import zlib  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
READ_SIZE = 1 << 20  # bytes read from storage at a time
FIRST_CHUNK_BYTES = 4 << 20


def line_id(line: bytes | memoryview) -> str:
    """The event id of a raw line (its bytes without the line terminator)."""
    return xxhash.xxh3_128_hexdigest(line)


@dataclass(frozen=True)
class LineChunk:
    """Complete lines of one file: ``data[:end]`` is `count` lines, each ending with ``\n``."""

    source_file: str
    first_line: int
    count: int
    data: bytes
    end: int

    def line_ends(self) -> array.array[int]:
        """Offsets into `data`: 0, then the end (after its ``\n``) of each line."""
        ends = array.array("q", [0])
        find, data, position, stop = self.data.find, self.data, 0, self.end
        append = ends.append
        while position < stop:
            position = find(b"\n", position, stop) + 1
            append(position)
        del data
        return ends

    def line_array(self) -> tuple[pa.LargeStringArray, pa.Array]:
        """The lines as one Arrow string array sharing `data`'s memory, and their ids.

        Each string still ends with its ``\n`` (or ``\r\n``): JSON parsing ignores it, and
        copying every line to drop it would cost more than it is worth. The id of a line is the
        XXH3-128 hash (hex) of its bytes without the terminator: stable across runs, files and
        engines, so a line logged twice dedups. Raises `pyarrow.ArrowInvalid` when a line is
        not valid UTF-8.
        """
        ends = self.line_ends()
        view = memoryview(self.data)
        if self.data.find(b"\r", 0, self.end) >= 0:
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
        return [strip_terminator(line) for line in self.data[: self.end].split(b"\n")[:-1]]


def strip_terminator(line: bytes) -> bytes:
    """A line without its ``\n`` / ``\r\n``."""
    if line.endswith(b"\n"):
        line = line[:-1]
    return line[:-1] if line.endswith(b"\r") else line


def _decompressed_blocks(fh: IO[bytes], source: str) -> Iterator[bytes]:
    """The file's content in blocks: gunzipped (every member) when it starts with the gzip magic."""
    first = fh.read(READ_SIZE)
    if not first.startswith(GZIP_MAGIC):
        block = first
        while block:
            yield block
            block = fh.read(READ_SIZE)
        return
    decompressor = zlib.decompressobj(wbits=31)
    raw = first
    while raw:
        while raw:
            yield decompressor.decompress(raw)
            if not decompressor.eof:
                break
            # End of one gzip member: another may follow (`cat a.gz b.gz`), or padding.
            raw = decompressor.unused_data
            if not raw.strip(b"\x00"):
                raw = b""
                break
            decompressor = zlib.decompressobj(wbits=31)
        raw = fh.read(READ_SIZE)
    if not decompressor.eof:
        logger.warning("%s: gzip stream ends early; its last line is probably truncated", source)
    tail = decompressor.flush()
    if tail:
        yield tail


def iter_line_chunks(
    path: UPath, source_file: str, *, chunk_bytes: int, chunk_lines: int
) -> Iterator[LineChunk]:
    """`path` as chunks of at most `chunk_lines` lines and up to about `chunk_bytes` bytes each.

    A last line without a newline still counts (one is added). A line longer than `chunk_bytes`
    makes a chunk of its own.
    """
    next_line = 1
    pending: list[bytes] = []
    pending_size = 0
    # The first chunks are small so the pipeline fills quickly; then they double to `chunk_bytes`.
    target = min(chunk_bytes, FIRST_CHUNK_BYTES)
    with path.open("rb") as fh:
        for block in _decompressed_blocks(fh, source_file):
            if not block:
                continue
            pending.append(block)
            pending_size += len(block)
            if pending_size < target:
                continue
            target = min(chunk_bytes, target * 2)
            data = pending[0] if len(pending) == 1 else b"".join(pending)
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                pending, pending_size = [data], len(data)
                continue
            rest = data[cut:]
            pending, pending_size = ([rest], len(rest)) if rest else ([], 0)
            for chunk in _split_lines(source_file, next_line, data, cut, chunk_lines):
                next_line += chunk.count
                yield chunk
    if pending:
        data = b"".join(pending)
        if not data.endswith(b"\n"):
            data += b"\n"
        yield from _split_lines(source_file, next_line, data, len(data), chunk_lines)


def _split_lines(
    source_file: str, first_line: int, data: bytes, end: int, chunk_lines: int
) -> Iterator[LineChunk]:
    count = data.count(b"\n", 0, end)
    if count <= chunk_lines:
        yield LineChunk(source_file, first_line, count, data, end)
        return
    start = 0
    while start < end:
        stop = start
        taken = 0
        while taken < chunk_lines and stop < end:
            stop = data.index(b"\n", stop, end) + 1
            taken += 1
        yield LineChunk(source_file, first_line, taken, data[start:stop], stop - start)
        first_line += taken
        start = stop
