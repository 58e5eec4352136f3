"""The `.sql` members of edX.org archives: tab-separated tables with a header row (not SQL).

They are `mysql --batch` output: one row per line, fields separated by tabs, the literal `NULL`
for a null, and tabs, newlines, carriage returns, NUL bytes and backslashes inside values
written as `\\t`, `\\n`, `\\r`, `\\0` and `\\\\` (so a physical newline always ends a row).
Dates are naive UTC (`2013-02-14 09:12:33`). A row whose field count differs from the
header's, or that is not UTF-8, cannot be read as a row: it is reported with its reason instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

NULL = "NULL"
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPED = {"t": "\t", "n": "\n", "r": "\r", "0": "\0", "Z": "\x1a", "b": "\b"}
# Reasons a line is not a row.
FIELD_COUNT = "field_count"
INVALID_UTF8 = "invalid_utf8"


def unescape(value: str) -> str | None:
    """One field's value: `NULL` is None; backslash escapes are decoded (`\\x` is `x` for any other
    character, as MySQL writes it)."""
    if value == NULL:
        return None
    if "\\" not in value:
        return value
    return _ESCAPE.sub(lambda match: _UNESCAPED.get(match[1], match[1]), value)


@dataclass(frozen=True)
class TsvRow:
    """A line that is a row (`values`, by header name) or not (`reason`, `raw`)."""

    line_number: int  # 1-based, the header is line 1
    values: dict[str, str | None] | None
    reason: str | None = None
    raw: str | None = None


@dataclass
class TsvTable:
    """The header of a table and an iterator over its rows."""

    header: list[str]
    rows: Iterator[TsvRow]


def _lines(data: bytes | Iterable[bytes]) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        body = bytes(data)
        if not body:
            return
        parts = body.split(b"\n")
        if parts and parts[-1] == b"":
            parts.pop()
        yield from parts
        return
    for line in data:
        yield line[:-1] if line.endswith(b"\n") else line


def read_tsv(data: bytes | Iterable[bytes]) -> TsvTable:
    """The header and rows of one member (its bytes, or an iterable of its lines).

    An empty member has no header and no rows. A trailing `\\r` (a file that went through
    Windows) is dropped from every line.
    """
    lines = _lines(data)
    header_line = next(lines, None)
    if header_line is None:
        return TsvTable([], iter(()))
    header_text = header_line.rstrip(b"\r").decode("utf-8", "replace").lstrip("\ufeff")
    header = [unescape(name) or "" for name in header_text.split("\t")]
    return TsvTable(header, _rows(header, lines))


def _rows(header: list[str], lines: Iterator[bytes]) -> Iterator[TsvRow]:
    width = len(header)
    for offset, line in enumerate(lines, start=2):
        line = line.rstrip(b"\r")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield TsvRow(offset, None, INVALID_UTF8, line.decode("utf-8", "backslashreplace"))
            continue
        fields = text.split("\t")
        if len(fields) != width:
            reason = "blank_line" if text.strip() == "" and width > 1 else FIELD_COUNT
            yield TsvRow(offset, None, reason, text)
            continue
        yield TsvRow(
            offset, {name: unescape(value) for name, value in zip(header, fields, strict=True)}
        )
