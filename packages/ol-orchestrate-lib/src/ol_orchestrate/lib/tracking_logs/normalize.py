"""The tracking-log normalizer: raw log files in, one Parquet file of events and one of rejects out.

Why it is built this way: a day of tracking logs is millions of JSON lines, and parsing them one by
one in Python is the bottleneck. A reader thread decompresses (ISA-L) and cuts the input into
chunks of complete lines -- exact line numbers, an XXH3 id per line, bounded memory -- handed over
as Arrow arrays without copying the text. DuckDB then does the per-line work over each chunk in
vectorized C++, two chunks at a time so both cores stay busy: strips syslog headers, validates and
parses the JSON once, pulls the fields (from `context` and `event` too), decodes `event` when it
is a JSON-encoded string, casts timestamps, drops zero-width characters from types and names and
picks course and block candidates. Only rare odd lines (invalid JSON, `context` as a JSON string,
invalid UTF-8) go through Python, which rejects them with a reason or repairs them into the common
shape and sends them through the same SQL, so every column has one definition; bad rows are cut
out and repaired rows put back with zero-copy slices, never a sort or a copy of the chunk. Course
and block keys are parsed by `edx-opaque-keys` once per distinct value. A writer thread streams
events and rejects into temporary Parquet files (one row group per chunk) that replace the targets
only once every line is accounted for. (DuckDB's own Parquet writer was measured too: it costs
more CPU than the Arrow export plus pyarrow's writer, and cannot append chunks to one file.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from upath import UPath

from ol_orchestrate.lib.tracking_logs.course_keys import (
    course_keys_and_orgs,
    map_distinct,
    normalize_block_key,
)
from ol_orchestrate.lib.tracking_logs.reader import (
    DEFAULT_MAX_LINE_BYTES,
    LineChunk,
    RejectedLine,
    iter_line_chunks,
    line_id,
)
from ol_orchestrate.lib.tracking_logs.schema import (
    BENIGN_REASONS,
    NORMALIZED_SCHEMA,
    QUARANTINE_RAW_LINE_MAX,
    QUARANTINE_SCHEMA,
    REASON_BLANK,
    REASON_COMMENT,
    REASON_INVALID_JSON,
    REASON_INVALID_TIME,
    REASON_INVALID_UTF8,
    REASON_MISSING_EVENT_TYPE,
    REASON_NOT_AN_OBJECT,
    REASON_NUL_BYTES,
    REASON_TOO_LARGE_TO_PARSE,
    REASON_TRUNCATED_JSON,
)

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_LINES = 200_000
DEFAULT_CHUNK_BYTES = 32 << 20
PARQUET_COMPRESSION = "zstd"
# The normalizer's DuckDB memory limit. A chunk whose JSON needs more is normalized in halves (see
# `_ChunkNormalizer._run`), so this bounds memory without failing on large events.
DUCKDB_MEMORY_LIMIT = "1GB"
_QUEUE_DEPTH = 2  # chunks read, or encoded, ahead of the one being shaped: bounds memory
_SQL_AHEAD = 2  # chunks whose SQL runs (at once) while the one before them is shaped
_BATCH_ROWS = 8192
# Columns with few distinct values per row group; dictionary-encoding the others (ids, payloads,
# sessions) costs time and saves nothing.
_DICTIONARY_COLUMNS = frozenset(
    {
        "event_type", "event_name", "event_source", "course_id", "course_key", "org_id",
        "block_key", "agent", "host", "page", "referer", "path", "username", "ip",
        "source_name", "source_file", "reason",
    }
)  # fmt: skip
_ODD = "odd"  # internal: the line needs the Python path

# Zero-width characters dropped from event types and names (SQL `translate` deletes them).
_ZERO_WIDTH = "".join(map(chr, (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)))
# A course id in a URL: the classic LMS `/courses/<id>/...` and the learning MFE `/course/<id>/...`.
_COURSE_IN_URL = (
    r"/courses?/((?:course-v1|ccx-v1)(?::|%3A)[^/?#&\s\"]+|[^/?#&\s\"]+/[^/?#&\s\"]+/[^/?#&\s\"]+)"
)
_BLOCK_KEY = (
    r"(?:block-v1|asset-v1)(?::|%3A)[^/?#&\s\"]+"
    r"|i4x://[^/?#&\s\"]+/[^/?#&\s\"]+/[^/?#&\s\"]+/[^/?#&\s\"]+"
)
_TOP_LEVEL_FIELDS = (
    "event_type", "name", "event_source", "time", "username", "user_id", "session", "page",
    "referer", "agent", "ip", "host",
)  # fmt: skip
_TOP_LEVEL_SPEC = json.dumps(
    dict.fromkeys(_TOP_LEVEL_FIELDS, "VARCHAR")
    | {
        "event": "JSON",
        "context": "JSON",
    }
)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# The lines of a chunk (`line_number`, `raw`: the line, still ending with its `\n`, `event_id`)
# as the SQL's source: `body` is the JSON text from the first `{` on (a syslog/logger header
# dropped), NULL when there is no `{`.
_LINES_SOURCE = """(
    SELECT line_number, raw, event_id, false AS repaired,
        CASE WHEN starts_with(raw, '{') THEN raw
            WHEN strpos(raw, '{') > 0 THEN substr(raw, strpos(raw, '{')) END AS body
    FROM lines
)"""
_MACROS = f"""
CREATE MACRO is_usage_key(x) AS starts_with(x, 'block-v1:') OR starts_with(x, 'asset-v1:')
    OR starts_with(x, 'i4x://') OR starts_with(x, 'block-v1%3A') OR starts_with(x, 'asset-v1%3A');
-- `translate` costs a character-by-character rewrite; `contains` finds the rare value it changes.
CREATE MACRO without_zero_width(x) AS CASE
    WHEN {" OR ".join(f"contains(x, {_sql_literal(c)})" for c in _ZERO_WIDTH)}
    THEN translate(x, {_sql_literal(_ZERO_WIDTH)}, '') ELSE x END;
"""
# Repaired odd lines: `line_number`, `raw`, `event_id`, `body` (the repaired JSON), `repaired`.
_REPAIRED_SOURCE = "repaired_lines"

# One SQL over a source (`line_number`, `raw`, `event_id`, `body`, `repaired`). `reason` is NULL
# for an event, a quarantine reason, or 'odd' for the Python path. Layered CTEs so each JSON
# document is parsed once.
_NORMALIZE_SQL = f"""
WITH parsed AS (
    SELECT line_number, raw, event_id, repaired, body,
        body IS NOT NULL AND json_valid(body) AS ok,
        CASE WHEN body IS NOT NULL AND json_valid(body)
            THEN from_json(body, {_sql_literal(_TOP_LEVEL_SPEC)}) END AS j
    FROM {{source}}
), fields AS (
    SELECT *,
        json_extract_string(j.context, ['$.course_id', '$.user_id', '$.org_id', '$.path',
            '$.module.usage_key', '$.username']) AS cx,
        starts_with(j.event, '"') AS ev_is_str,
        CASE WHEN starts_with(j.event, '"') THEN json_extract_string(j.event, '$') END AS ev_str,
        -- `context` logged as a JSON-encoded string: Python decodes it.
        starts_with(j.context, '"') AS context_is_string
    FROM parsed
), events AS (
    SELECT *,
        ev_is_str AND (starts_with(ltrim(ev_str), '{{') OR starts_with(ltrim(ev_str), '['))
            AND json_valid(ev_str) AS ev_str_json
    FROM fields
), payloads AS (
    SELECT *,
        CASE WHEN ev_str_json THEN ev_str ELSE j.event END AS payload,
        json_extract_string(CASE WHEN ev_str_json THEN ev_str WHEN NOT ev_is_str THEN j.event END,
            ['$.id', '$.problem_id', '$.usage_key', '$.module_id', '$.block_id', '$.user_id',
             '$.course_id']) AS ex,
        try_cast(j.time AS TIMESTAMPTZ) AS ts,
        -- Server events of page views are logged with the URL path as their type.
        CASE WHEN starts_with(j.event_type, '/') THEN j.event_type END AS url_event_type,
        without_zero_width(j.event_type) AS clean_type,
        without_zero_width(j.name) AS clean_name
    FROM events
)
SELECT
    line_number,
    CASE
        WHEN NOT ok THEN CASE
            WHEN regexp_matches(raw, '^\\s*$') THEN '{REASON_BLANK}'
            WHEN regexp_matches(raw, '^\\s*#') THEN '{REASON_COMMENT}'
            WHEN repaired THEN '{REASON_INVALID_JSON}'
            ELSE '{_ODD}' END
        WHEN NOT repaired AND context_is_string THEN '{_ODD}'
        WHEN j.event_type IS NULL OR j.event_type = '' THEN '{REASON_MISSING_EVENT_TYPE}'
        WHEN ts IS NULL THEN '{REASON_INVALID_TIME}'
        -- A type made only of zero-width characters is no type.
        WHEN clean_type = '' THEN '{REASON_MISSING_EVENT_TYPE}'
    END AS reason,
    event_id,
    clean_type AS event_type,
    -- The name only where it says more than the type.
    CASE WHEN clean_name <> clean_type AND clean_name <> '' THEN clean_name END AS event_name,
    j.event_source AS event_source,
    ts AS event_time,
    coalesce(j.username, cx[6]) AS username,
    coalesce(try_cast(cx[2] AS BIGINT), try_cast(j.user_id AS BIGINT),
        try_cast(ex[6] AS BIGINT)) AS user_id,
    cx[1] AS course_id,
    coalesce(
        nullif(cx[1], ''),
        nullif(ex[7], ''),
        CASE WHEN coalesce(cx[1], '') = '' AND coalesce(ex[7], '') = ''
            THEN nullif(regexp_extract(
                concat_ws(' ', cx[4], j.page, url_event_type),
                {_sql_literal(_COURSE_IN_URL)}, 1), '') END
    ) AS course_candidate,
    nullif(cx[3], '') AS org_logged,
    CASE
        WHEN is_usage_key(cx[5]) THEN cx[5]
        WHEN is_usage_key(ex[1]) THEN ex[1]
        WHEN is_usage_key(ex[2]) THEN ex[2]
        WHEN is_usage_key(ex[3]) THEN ex[3]
        WHEN is_usage_key(ex[4]) THEN ex[4]
        WHEN is_usage_key(ex[5]) THEN ex[5]
        ELSE nullif(regexp_extract(
            concat_ws(' ', cx[4], url_event_type, j.page),
            {_sql_literal(_BLOCK_KEY)}, 0), '')
    END AS block_candidate,
    j.session AS session,
    j.page AS page,
    j.referer AS referer,
    j.agent AS agent,
    j.ip AS ip,
    j.host AS host,
    cx[4] AS path,
    payload AS event_payload,
    j.context AS context_payload
FROM payloads
"""


@dataclass
class NormalizeSummary:
    """What a normalization did: every line read is an event written or a quarantined line."""

    lines_read: int = 0
    events_written: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    event_types_seen: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def rejected(self) -> int:
        """Quarantined lines other than blank and comment lines (for quarantine-rate checks)."""
        return sum(n for r, n in self.quarantined_by_reason.items() if r not in BENIGN_REASONS)

    @property
    def balanced(self) -> bool:
        return self.lines_read == self.events_written + self.quarantined

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "lines_read": self.lines_read,
            "events_written": self.events_written,
            "quarantined": self.quarantined,
            "rejected": self.rejected,
            "quarantined_by_reason": dict(sorted(self.quarantined_by_reason.items())),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_written / self.seconds)
            if self.seconds
            else None,
            "event_types_seen": dict(
                sorted(self.event_types_seen.items(), key=lambda item: (-item[1], item[0]))
            ),
        }


# -- the Python path for odd lines -----------------------------------------------------------------


def _loads(text: str) -> Any:
    # Like DuckDB's reader (yyjson), this accepts NaN and Infinity; both reject control characters.
    return json.loads(text)


def classify_odd_line(raw: str) -> tuple[str | None, str | None]:
    """(quarantine reason, None) for a line that is no event, or (None, repaired JSON body).

    Repairs: a syslog/logger header before the JSON is dropped (the JSON starts at the first
    ``{``); `context` logged as a JSON-encoded string is decoded into an object. JSON nested
    deeper than Python's parser goes is `invalid_json`.
    """
    text = raw.strip()
    if not text:
        return REASON_BLANK, None
    if text.startswith("#"):
        return REASON_COMMENT, None
    if "\x00" in text and not text.replace("\x00", "").strip():
        return REASON_NUL_BYTES, None
    try:
        return _classify_json(text)
    except RecursionError:
        return REASON_INVALID_JSON, None


def _classify_json(text: str) -> tuple[str | None, str | None]:
    try:
        record = _loads(text)
    except ValueError as first_error:
        start = text.find("{")
        error: ValueError = first_error
        if start > 0:
            text = text[start:]
            try:
                record = _loads(text)
            except ValueError as second_error:
                error = second_error
            else:
                error = None  # type: ignore[assignment]
        if error is not None:
            return _json_failure(error, text), None
    if not isinstance(record, dict):
        return REASON_NOT_AN_OBJECT, None
    context = record.get("context")
    if isinstance(context, str):
        try:
            decoded = _loads(context)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            record["context"] = decoded
    return None, json.dumps(record, ensure_ascii=False)


def _json_failure(error: ValueError, text: str) -> str:
    """`truncated_json` when the text is a JSON prefix that stops early, else `invalid_json`."""
    if isinstance(error, json.JSONDecodeError) and (
        error.pos >= len(text) or error.msg.startswith("Unterminated string")
    ):
        return REASON_TRUNCATED_JSON
    return REASON_INVALID_JSON


# -- output files ----------------------------------------------------------------------------------


class _AtomicParquet:
    """A Parquet file written to a temporary file and moved to `target` only by `commit()`.

    Local targets: a hidden sibling, fsynced and `os.replace`d. Object stores: a local temporary
    file uploaded whole (`put_file`; S3 exposes an object only once its upload is complete).
    """

    def __init__(self, target: UPath, schema: pa.Schema) -> None:
        self.target = target
        self.local = target.protocol in ("", "file", "local")
        if self.local:
            final = Path(target.path)
            final.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        else:
            fd, name = tempfile.mkstemp(prefix="ol-tracking-logs-", suffix=".parquet.tmp")
            os.close(fd)
            self.tmp = Path(name)
        self.writer: pq.ParquetWriter | None = pq.ParquetWriter(
            self.tmp,
            schema,
            compression=PARQUET_COMPRESSION,
            use_dictionary=[name for name in schema.names if name in _DICTIONARY_COLUMNS],
        )
        self.schema = schema
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows and self.writer is not None:
            self.writer.write_table(table)
            self.rows += table.num_rows

    def commit(self) -> int:
        assert self.writer is not None
        if self.rows == 0:
            # A correctly typed empty file (a writer with no row group writes no columns' stats).
            self.writer.write_table(self.schema.empty_table())
        self.writer.close()
        self.writer = None
        size = self.tmp.stat().st_size
        if self.local:
            with self.tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            self.tmp.replace(Path(self.target.path))
        else:
            self.target.fs.put_file(str(self.tmp), self.target.path)
            self.tmp.unlink(missing_ok=True)
        return size

    def abort(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
            self.writer = None
        self.tmp.unlink(missing_ok=True)


# -- the chunk pipeline ----------------------------------------------------------------------------


_LINES_SCHEMA = pa.schema(
    [("line_number", pa.int64()), ("raw", pa.large_string()), ("event_id", pa.string())]
)
# Bytes of an invalid-UTF-8 line decoded for its `raw_line` (enough for QUARANTINE_RAW_LINE_MAX
# characters: a character is at most 4 bytes).
_INVALID_UTF8_HEAD_BYTES = 4 * QUARANTINE_RAW_LINE_MAX + 4


@dataclass
class _PreparedChunk:
    """Lines ready for SQL (`source`, maybe none), plus lines already quarantined (bad UTF-8,
    or rejected by the reader); `count` lines of `source_file` in all."""

    source_file: str
    count: int
    source: pa.Table
    rejects: list[tuple[int, str, str, int]]  # (line_number, reason, raw_line, raw_bytes)
    # The SQL's result over `source`, when it was started ahead (see `normalize_files`).
    parsed: Future[pa.Table] | None = None


def _prepare(item: LineChunk | RejectedLine) -> _PreparedChunk:
    if isinstance(item, RejectedLine):
        reject = (item.line_number, item.reason, item.text(), item.size)
        return _PreparedChunk(item.source_file, 1, _LINES_SCHEMA.empty_table(), [reject])
    chunk = item
    numbers = pa.array(range(chunk.first_line, chunk.first_line + chunk.count), pa.int64())
    rejects: list[tuple[int, str, str, int]] = []
    try:
        lines, ids = chunk.line_array()
    except pa.ArrowInvalid:
        kept_numbers: list[int] = []
        kept: list[str] = []
        kept_ids: list[str] = []
        for offset, raw in enumerate(chunk.lines_bytes()):
            number = chunk.first_line + offset
            try:
                kept.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                text = raw[:_INVALID_UTF8_HEAD_BYTES].decode("utf-8", "backslashreplace")
                rejects.append((number, REASON_INVALID_UTF8, text, len(raw)))
            else:
                kept_numbers.append(number)
                kept_ids.append(line_id(raw))
        numbers = pa.array(kept_numbers, pa.int64())
        lines = pa.array(kept, pa.large_string())
        ids = pa.array(kept_ids, pa.string())
    table = pa.table({"line_number": numbers, "raw": lines, "event_id": ids}, schema=_LINES_SCHEMA)
    # Record batches are DuckDB's unit of parallelism over an Arrow table.
    table = pa.Table.from_batches(table.to_batches(max_chunksize=_BATCH_ROWS), schema=_LINES_SCHEMA)
    return _PreparedChunk(chunk.source_file, chunk.count, table, rejects)


def _read_ahead(
    paths: Sequence[tuple[UPath, str]], chunk_bytes: int, chunk_lines: int, max_line_bytes: int
) -> Iterator[_PreparedChunk]:
    """Chunks prepared by a background thread (decompression overlaps the SQL of the last one)."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=_QUEUE_DEPTH)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for path, name in paths:
                for chunk in iter_line_chunks(
                    path,
                    name,
                    chunk_bytes=chunk_bytes,
                    chunk_lines=chunk_lines,
                    max_line_bytes=max_line_bytes,
                ):
                    prepared = _prepare(chunk)
                    while not stop.is_set():
                        try:
                            handoff.put(prepared, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            handoff.put(done)
        except BaseException as error:  # handed to the consumer, which re-raises it
            handoff.put(error)

    thread = threading.Thread(target=produce, name="tracking-log-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                handoff.get_nowait()
        thread.join()


class _ChunkNormalizer:
    """Runs the SQL on chunks and shapes the results into the two output tables."""

    def __init__(self, source_name: str | None) -> None:
        self.source_name = source_name
        # `_SQL_AHEAD` chunks' SQL runs at once: each gets its share of the cores (on two cores,
        # two single-threaded queries use less CPU than two-threaded ones, and overlap as well).
        threads = max((os.cpu_count() or 1) // _SQL_AHEAD, 1)
        self.connection = duckdb.connect(config={"threads": threads})
        self.connection.execute("SET TimeZone = 'UTC'")
        self.connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        self.connection.execute(_MACROS)
        # One cursor (a connection to the same database: one memory limit, one thread pool) per
        # thread, so the SQL of several chunks can run at once.
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()

    def close(self) -> None:
        for cursor in self._cursors:
            cursor.close()
        self.connection.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._cursors_lock:
                cursor = self.connection.cursor()
                self._cursors.append(cursor)
            self._local.cursor = cursor
        return cursor

    def _query(self, name: str, table: pa.Table, source_sql: str) -> pa.Table:
        cursor = self._cursor()
        cursor.register(name, table)
        try:
            sql = _NORMALIZE_SQL.replace("{source}", source_sql)
            return cursor.sql(sql).to_arrow_table()
        finally:
            cursor.unregister(name)

    def parse(self, prepared: _PreparedChunk) -> pa.Table:
        """The SQL over a chunk's lines (`normalize` runs it unless it was started ahead)."""
        return self._run("lines", prepared.source, _LINES_SOURCE)

    def _run(self, name: str, table: pa.Table, source_sql: str) -> pa.Table:
        """The SQL over `table`; when DuckDB runs out of memory (parsing large, densely nested
        JSON takes many times its size, per line processed at once), over each half in turn, and
        a line that does not fit on its own comes back with reason `too_large_to_parse`."""
        try:
            return self._query(name, table, source_sql)
        except duckdb.OutOfMemoryException:
            if table.num_rows > 1:
                half = table.num_rows // 2
                first = self._run(name, table.slice(0, half), source_sql)
                second = self._run(name, table.slice(half), source_sql)
                return pa.concat_tables([first, second.cast(first.schema)])
        [number] = table.column("line_number").to_pylist()
        logger.warning(
            "line %d: parsing it exceeds DuckDB's memory limit (%s); quarantined as %s",
            number,
            DUCKDB_MEMORY_LIMIT,
            REASON_TOO_LARGE_TO_PARSE,
        )
        schema = self._query(name, table.slice(0, 0), source_sql).schema
        row = {
            "line_number": number,
            "reason": REASON_TOO_LARGE_TO_PARSE,
            "event_id": table.column("event_id")[0].as_py(),
        }
        return pa.Table.from_pylist([row], schema=schema)

    def normalize(self, prepared: _PreparedChunk) -> tuple[pa.Table, pa.Table]:
        """The chunk's event rows and quarantine rows (both in line order)."""
        rejects = list(prepared.rejects)
        if not prepared.source.num_rows:  # every line already quarantined: no SQL to run
            rejects.sort()
            return NORMALIZED_SCHEMA.empty_table(), self._rejects(rejects, prepared.source_file)
        result = prepared.parsed.result() if prepared.parsed else self.parse(prepared)
        odd = _positions(pc.equal(result.column("reason"), _ODD))
        if odd:
            result = self._repair(prepared, result, odd, rejects)
        not_events = _positions(pc.is_valid(result.column("reason")))
        if not_events:
            # Only the small columns: `take` on a chunked string column copies all of it.
            quarantined = result.select(["line_number", "reason"]).take(not_events)
            numbers = quarantined.column("line_number").to_pylist()
            texts = _raw_lines(prepared.source, numbers)
            for number, why in zip(numbers, quarantined.column("reason").to_pylist(), strict=True):
                rejects.append((number, why, texts[number], len(texts[number].encode("utf-8"))))
            result = _without_rows(result, not_events)
        rejects.sort()
        return (
            self._events(result, prepared.source_file),
            self._rejects(rejects, prepared.source_file),
        )

    def _repair(
        self,
        prepared: _PreparedChunk,
        result: pa.Table,
        odd: list[int],
        rejects: list[tuple[int, str, str, int]],
    ) -> pa.Table:
        """Odd lines through Python: rejected with a reason, or repaired and run through SQL
        again; the repaired rows take the odd rows' places, so the result stays in line order."""
        odd_rows = result.select(["line_number", "event_id"]).take(odd)
        numbers = odd_rows.column("line_number").to_pylist()
        texts = _raw_lines(prepared.source, numbers)
        repaired: dict[str, list[Any]] = {"line_number": [], "raw": [], "event_id": [], "body": []}
        for number, event_id in zip(numbers, odd_rows.column("event_id").to_pylist(), strict=True):
            text = texts[number]
            reason, fixed = classify_odd_line(text)
            if reason is not None or fixed is None:
                rejects.append((number, reason or REASON_INVALID_JSON, text, len(text.encode())))
                continue
            for name, value in zip(repaired, (number, text, event_id, fixed), strict=True):
                repaired[name].append(value)
        if not repaired["line_number"]:
            return _without_rows(result, odd)
        source = pa.table(
            {
                "line_number": pa.array(repaired["line_number"], pa.int64()),
                "raw": pa.array(repaired["raw"], pa.large_string()),
                "event_id": pa.array(repaired["event_id"], pa.string()),
                "body": pa.array(repaired["body"], pa.large_string()),
                "repaired": pa.repeat(True, len(repaired["line_number"])),
            }
        )
        second = self._run(_REPAIRED_SOURCE, source, _REPAIRED_SOURCE).cast(result.schema)
        again = dict(
            zip(second.column("line_number").to_pylist(), range(second.num_rows), strict=True)
        )
        pieces, start = [], 0
        for index, number in zip(odd, numbers, strict=True):
            pieces.append(result.slice(start, index - start))
            if number in again:
                pieces.append(second.slice(again[number], 1))
            start = index + 1
        pieces.append(result.slice(start))
        return pa.concat_tables(pieces)

    def _events(self, rows: pa.Table, source_file: str) -> pa.Table:
        """The event rows as `NORMALIZED_SCHEMA`: keys parsed, without copying the other columns."""
        n = rows.num_rows
        course_key, key_org = course_keys_and_orgs(rows.column("course_candidate"))
        org_logged = rows.column("org_logged").combine_chunks()
        columns: dict[str, Any] = {
            "course_key": course_key,
            "org_id": pc.coalesce(org_logged, key_org),
            "block_key": map_distinct(rows.column("block_candidate"), normalize_block_key),
            "source_name": pa.repeat(pa.scalar(self.source_name, pa.string()), n),
            "source_file": pa.repeat(pa.scalar(source_file, pa.string()), n),
        }
        arrays = [
            _as_type(columns[f.name] if f.name in columns else rows.column(f.name), f.type)
            for f in NORMALIZED_SCHEMA
        ]
        return pa.Table.from_arrays(arrays, schema=NORMALIZED_SCHEMA)

    def _rejects(self, rejects: list[tuple[int, str, str, int]], source_file: str) -> pa.Table:
        return pa.Table.from_pydict(
            {
                "source_file": [source_file] * len(rejects),
                "line_number": [r[0] for r in rejects],
                "reason": [r[1] for r in rejects],
                "raw_line": [r[2][:QUARANTINE_RAW_LINE_MAX] for r in rejects],
                "raw_line_bytes": [r[3] for r in rejects],
                "source_name": [self.source_name] * len(rejects),
            },
            schema=QUARANTINE_SCHEMA,
        )


def _positions(mask: pa.ChunkedArray | pa.Array) -> list[int]:
    """The row indices where `mask` is true (null counts as false)."""
    if not pc.any(mask).as_py():
        return []
    return list(pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist())


def _without_rows(table: pa.Table, positions: list[int]) -> pa.Table:
    """`table` without the rows at `positions` (sorted). A few rows (the usual case: a few bad
    lines in a chunk) are cut out with zero-copy slices; many with a filter."""
    if len(positions) * 64 > table.num_rows:
        drop = pc.is_in(
            pa.array(range(table.num_rows), pa.int64()), pa.array(positions, pa.int64())
        )
        return table.filter(pc.invert(drop))
    pieces, start = [], 0
    for index in positions:
        if index > start:
            pieces.append(table.slice(start, index - start))
        start = index + 1
    pieces.append(table.slice(start))
    return pa.concat_tables(pieces)


def _raw_lines(source: pa.Table, numbers: list[int]) -> dict[int, str]:
    """The text (without terminator) of some lines of a chunk, by line number."""
    wanted = source.filter(pc.is_in(source.column("line_number"), pa.array(numbers, pa.int64())))
    return {
        number: _strip_terminator(text)
        for number, text in zip(
            wanted.column("line_number").to_pylist(), wanted.column("raw").to_pylist(), strict=True
        )
    }


def _strip_terminator(text: str) -> str:
    if text.endswith("\n"):
        text = text[:-1]
    return text[:-1] if text.endswith("\r") else text


def _write_both(
    events_file: _AtomicParquet, events: pa.Table, rejects_file: _AtomicParquet, rejects: pa.Table
) -> None:
    events_file.write(events)
    rejects_file.write(rejects)


def _as_type(values: Any, type_: pa.DataType) -> pa.Array | pa.ChunkedArray:
    # DuckDB's Arrow types are the schema's already: a cast here is the rare exception (a column
    # of the too-large-to-parse row); chunks are kept as they come (no copy).
    return values if values.type == type_ else values.cast(type_)


# -- the public entry point ------------------------------------------------------------------------


PathLike = str | os.PathLike[str] | UPath


def _upath(path: PathLike) -> UPath:
    return path if isinstance(path, UPath) else UPath(os.fspath(path))


def normalize_files(
    paths: Sequence[PathLike],
    output: PathLike,
    quarantine_output: PathLike,
    *,
    source_name: str | None = None,
    chunk_lines: int = DEFAULT_CHUNK_LINES,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> NormalizeSummary:
    """Normalize the tracking-log files `paths` (a day) into `output` and `quarantine_output`.

    Both outputs are Parquet (`NORMALIZED_SCHEMA`, `QUARANTINE_SCHEMA`), written atomically: on
    any failure neither target is touched and no temporary file is left. Files are read in the
    order given; `source_file` is each path as given (`str`). Paths are local paths or fsspec
    URLs (`s3://...`; pass a `UPath` to give storage options). Memory is bounded by the chunk
    size and `max_line_bytes`, not by the size of the input.

    A bad file does not raise: every line of it is quarantined with a reason (a line longer
    than `max_line_bytes` bytes as `line_too_long`, the partial last line of a gzip stream cut
    short or corrupt as `truncated_file` / `corrupt_gzip`), and the other files are normalized.
    """
    if max_line_bytes < 1:
        msg = f"max_line_bytes must be positive, got {max_line_bytes}"
        raise ValueError(msg)
    start = time.perf_counter()
    inputs = [(_upath(p), str(p)) for p in paths]
    summary = NormalizeSummary(files=[name for _, name in inputs])
    summary.bytes_in = sum(path.stat().st_size for path, _ in inputs)
    event_types: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    events_file = _AtomicParquet(_upath(output), NORMALIZED_SCHEMA)
    rejects_file = _AtomicParquet(_upath(quarantine_output), QUARANTINE_SCHEMA)
    normalizer = _ChunkNormalizer(source_name)
    # Three overlapping stages besides the reader thread: the SQL of the next `_SQL_AHEAD` chunks
    # runs in their own threads (DuckDB releases the GIL) while this thread shapes the current
    # chunk, and Parquet encoding runs in its own thread (pyarrow releases the GIL). Chunks are
    # shaped and written in order; at most `_QUEUE_DEPTH` wait to be written.
    writes: deque[Future[None]] = deque()
    ahead: deque[_PreparedChunk] = deque()
    try:
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracking-log-writer") as pool,
            ThreadPoolExecutor(
                max_workers=_SQL_AHEAD, thread_name_prefix="tracking-log-sql"
            ) as sql,
        ):

            def shape_and_write(prepared: _PreparedChunk) -> None:
                events, rejects = normalizer.normalize(prepared)
                summary.lines_read += prepared.count
                summary.events_written += events.num_rows
                while len(writes) >= _QUEUE_DEPTH:
                    writes.popleft().result()
                writes.append(pool.submit(_write_both, events_file, events, rejects_file, rejects))
                if rejects.num_rows:
                    reasons.update(rejects.column("reason").to_pylist())
                if events.num_rows:
                    counts = pc.value_counts(events.column("event_type")).to_pylist()
                    for item in counts:
                        event_types[item["values"]] += item["counts"]

            try:
                for prepared in _read_ahead(inputs, chunk_bytes, chunk_lines, max_line_bytes):
                    if prepared.source.num_rows:
                        prepared.parsed = sql.submit(normalizer.parse, prepared)
                    ahead.append(prepared)
                    if len(ahead) > _SQL_AHEAD:
                        shape_and_write(ahead.popleft())
                while ahead:
                    shape_and_write(ahead.popleft())
            finally:
                for prepared in ahead:  # after a failure: SQL not yet started is not run
                    if prepared.parsed is not None:
                        prepared.parsed.cancel()
                while writes:
                    writes.popleft().result()
        if summary.lines_read != summary.events_written + sum(reasons.values()):
            msg = (
                f"line accounting failed: {summary.lines_read} read != {summary.events_written} "
                f"written + {sum(reasons.values())} quarantined"
            )
            raise AssertionError(msg)
        summary.bytes_out = events_file.commit() + rejects_file.commit()
    except BaseException:
        events_file.abort()
        rejects_file.abort()
        raise
    finally:
        normalizer.close()
    summary.quarantined_by_reason = dict(reasons)
    summary.event_types_seen = dict(event_types)
    summary.seconds = time.perf_counter() - start
    return summary
