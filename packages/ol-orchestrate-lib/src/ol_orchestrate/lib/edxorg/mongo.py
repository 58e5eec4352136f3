"""The `.mongo` members of edX.org archives: a course's forum, one JSON document per line.

Documents are `CommentThread`s and `Comment`s (the `_type` field) in Mongo extended JSON:
`{"$oid": "..."}` is an id, `{"$date": ...}` a time (ISO-8601 text, epoch milliseconds, or
`{"$numberLong": "..."}`), `{"$numberLong"|"$numberInt"|"$numberDouble"|"$numberDecimal": "..."}`
a number. `decode_extended_json` turns them into plain JSON values (ids as hex text, times as
ISO-8601 UTC text with a `Z`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
INVALID_UTF8 = "invalid_utf8"


def _iso(value: datetime) -> str:
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def _date(value: Any) -> Any:
    if isinstance(value, dict) and "$numberLong" in value:
        value = value["$numberLong"]
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _iso(_EPOCH + timedelta(milliseconds=value))
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return _iso(parsed)
    return value


def decode_extended_json(value: Any) -> Any:
    """`value` with every extended-JSON wrapper replaced by its plain value."""
    if isinstance(value, list):
        return [decode_extended_json(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$oid":
            return str(inner)
        if key == "$date":
            return _date(inner)
        if key in ("$numberLong", "$numberInt"):
            try:
                return int(inner)
            except (TypeError, ValueError):
                return inner
        if key in ("$numberDouble", "$numberDecimal"):
            try:
                return float(inner)
            except (TypeError, ValueError):
                return inner
    return {key: decode_extended_json(inner) for key, inner in value.items()}


@dataclass(frozen=True)
class MongoDocument:
    """A line that is a document (`document`, decoded) or not (`reason`, `raw`)."""

    line_number: int
    document: dict[str, Any] | None
    reason: str | None = None
    raw: str | None = None


def read_mongo(data: bytes | Iterable[bytes]) -> Iterator[MongoDocument]:
    """Every line of a `.mongo` member; blank lines are skipped (they are no document)."""
    lines = data.split(b"\n") if isinstance(data, bytes) else data
    for number, line in enumerate(lines, start=1):
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield MongoDocument(
                number, None, INVALID_UTF8, line.decode("utf-8", "backslashreplace")
            )
            continue
        try:
            parsed = json.loads(text)
        except ValueError:
            yield MongoDocument(number, None, INVALID_JSON, text)
            continue
        if not isinstance(parsed, dict):
            yield MongoDocument(number, None, NOT_AN_OBJECT, text)
            continue
        yield MongoDocument(number, decode_extended_json(parsed))
