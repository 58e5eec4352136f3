"""Open edX tracking logs: a lossless, streaming, vectorized normalizer into one Parquet file a day.

`normalize_files` is the whole API (the Dagster asset and `ol-platform tracking-logs normalize`
both call it); `NORMALIZED_SCHEMA` and `QUARANTINE_SCHEMA` are the tables it writes. See
docs/contracts.md ("Tracking logs") for the columns and the quarantine reasons.
"""

from ol_orchestrate.lib.tracking_logs.course_keys import normalize_block_key, normalize_course_key
from ol_orchestrate.lib.tracking_logs.normalize import (
    DEFAULT_CHUNK_BYTES,
    DEFAULT_CHUNK_LINES,
    NormalizeSummary,
    classify_odd_line,
    normalize_files,
)
from ol_orchestrate.lib.tracking_logs.reader import DEFAULT_MAX_LINE_BYTES
from ol_orchestrate.lib.tracking_logs.schema import (
    ALL_REASONS,
    BENIGN_REASONS,
    NORMALIZED_SCHEMA,
    QUARANTINE_RAW_LINE_MAX,
    QUARANTINE_SCHEMA,
)

__all__ = [
    "ALL_REASONS",
    "BENIGN_REASONS",
    "DEFAULT_CHUNK_BYTES",
    "DEFAULT_CHUNK_LINES",
    "DEFAULT_MAX_LINE_BYTES",
    "NORMALIZED_SCHEMA",
    "QUARANTINE_RAW_LINE_MAX",
    "QUARANTINE_SCHEMA",
    "NormalizeSummary",
    "classify_odd_line",
    "normalize_block_key",
    "normalize_course_key",
    "normalize_files",
]
