"""The normalized tracking-log tables: one row per event, one row per quarantined line.

These schemas are the contract between the normalizer, the Dagster asset that lands a day of
tracking logs and the dbt sources that read it (see docs/contracts.md, "Tracking logs").
"""

from __future__ import annotations

import pyarrow as pa

NORMALIZED_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("event_name", pa.string()),
        pa.field("event_source", pa.string()),
        pa.field("event_time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("username", pa.string()),
        pa.field("user_id", pa.int64()),
        pa.field("course_id", pa.string()),
        pa.field("course_key", pa.string()),
        pa.field("org_id", pa.string()),
        pa.field("block_key", pa.string()),
        pa.field("session", pa.string()),
        pa.field("page", pa.string()),
        pa.field("referer", pa.string()),
        pa.field("agent", pa.string()),
        pa.field("ip", pa.string()),
        pa.field("host", pa.string()),
        pa.field("path", pa.string()),
        pa.field("event_payload", pa.string()),
        pa.field("context_payload", pa.string()),
        pa.field("source_name", pa.string()),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw_line", pa.string(), nullable=False),
        pa.field("raw_line_bytes", pa.int64(), nullable=False),
        pa.field("source_name", pa.string()),
    ]
)

# Characters of a quarantined line kept in `raw_line` (`raw_line_bytes` keeps the full length).
QUARANTINE_RAW_LINE_MAX = 65536

# Quarantine reasons. Blank and comment lines are expected in real logs: counted (so every line is
# accounted for) but not "rejected", so a quarantine-rate check should use the others.
REASON_BLANK = "blank"
REASON_COMMENT = "comment"
REASON_INVALID_UTF8 = "invalid_utf8"
REASON_INVALID_JSON = "invalid_json"
REASON_TRUNCATED_JSON = "truncated_json"
REASON_NOT_AN_OBJECT = "not_an_object"
REASON_MISSING_EVENT_TYPE = "missing_event_type"
REASON_INVALID_TIME = "invalid_time"
REASON_NUL_BYTES = "nul_bytes"
# Found by the reader, not by parsing: a line too long to normalize (never held whole), and the
# partial last line of a gzip stream that is cut short or cannot be decompressed.
REASON_LINE_TOO_LONG = "line_too_long"
REASON_TRUNCATED_FILE = "truncated_file"
REASON_CORRUPT_GZIP = "corrupt_gzip"
# A line under the size limit whose JSON alone needs more than the normalizer's DuckDB memory.
REASON_TOO_LARGE_TO_PARSE = "too_large_to_parse"
BENIGN_REASONS = frozenset({REASON_BLANK, REASON_COMMENT})
ALL_REASONS = (
    REASON_BLANK,
    REASON_COMMENT,
    REASON_INVALID_UTF8,
    REASON_INVALID_JSON,
    REASON_TRUNCATED_JSON,
    REASON_NOT_AN_OBJECT,
    REASON_MISSING_EVENT_TYPE,
    REASON_INVALID_TIME,
    REASON_NUL_BYTES,
    REASON_LINE_TOO_LONG,
    REASON_TRUNCATED_FILE,
    REASON_CORRUPT_GZIP,
    REASON_TOO_LARGE_TO_PARSE,
)
