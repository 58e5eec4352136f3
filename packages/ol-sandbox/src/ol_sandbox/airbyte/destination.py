"""Airbyte's S3 destination, writing into the lake's folder the way it writes to the bucket.

Parquet (Snappy), one folder per destination table under the destination's bucket path and the
connection's namespace, files named by the S3 path format
`${NAMESPACE}/${STREAM_NAME}/${YEAR}_${MONTH}_${DAY}_${EPOCH}_` plus the part number:

    <lake_root>/raw/ol_warehouse_raw_data/raw__mitxonline__app__postgres__users_user/
        2026_01_19_1768825440123_0.parquet

Each record carries Airbyte's metadata columns before the data columns: `_airbyte_raw_id` (a
UUID per record), `_airbyte_extracted_at` (when the sync read it), `_airbyte_meta`
(`{sync_id, changes: [{field, change, reason}]}`: a value the destination had to null is listed
there) and `_airbyte_generation_id` (incremented by every full-refresh sync of the connection).
A full refresh (overwrite) writes the new generation's files, then removes the older files of
the same tables once every stream of the sync is written, as the destination does on commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ol_sandbox.airbyte.apps import Columns, ColumnType
from ol_sandbox.airbyte.workspace import BUCKET_PATH

_ARROW_TYPES: Mapping[ColumnType, pa.DataType] = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "string": pa.string(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}
AIRBYTE_META_TYPE = pa.struct(
    [
        pa.field("sync_id", pa.int64()),
        pa.field(
            "changes",
            pa.list_(
                pa.struct(
                    [
                        pa.field("field", pa.string()),
                        pa.field("change", pa.string()),
                        pa.field("reason", pa.string()),
                    ]
                )
            ),
        ),
    ]
)
AIRBYTE_COLUMNS: tuple[pa.Field, ...] = (
    pa.field("_airbyte_raw_id", pa.string(), nullable=False),
    pa.field("_airbyte_extracted_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("_airbyte_meta", AIRBYTE_META_TYPE, nullable=False),
    pa.field("_airbyte_generation_id", pa.int64(), nullable=False),
)


class DestinationNotConfiguredError(RuntimeError):
    """The sandbox was started without a lake to write to."""


@dataclass(frozen=True)
class WrittenStream:
    table_name: str
    path: Path
    records: int
    bytes: int


def arrow_schema(columns: Columns) -> pa.Schema:
    return pa.schema([*AIRBYTE_COLUMNS, *(pa.field(n, _ARROW_TYPES[t]) for n, t in columns)])


def table_folder(lake_root: str, namespace: str, table_name: str) -> Path:
    if "://" in lake_root and not lake_root.startswith("file://"):
        msg = f"the sandbox's S3 destination writes a local lake only, got {lake_root!r}"
        raise DestinationNotConfiguredError(msg)
    return Path(lake_root.removeprefix("file://")) / BUCKET_PATH / namespace / table_name


def write_stream(
    lake_root: str,
    namespace: str,
    table_name: str,
    columns: Columns,
    rows: Sequence[Mapping[str, Any]],
    *,
    extracted_at: datetime,
    sync_id: int,
    generation_id: int,
    nulled: Mapping[int, Sequence[str]] | None = None,
) -> WrittenStream:
    """One stream of one sync: a new Parquet file in the table's folder (atomically renamed)."""
    folder = table_folder(lake_root, namespace, table_name)
    folder.mkdir(parents=True, exist_ok=True)
    epoch_ms = int(extracted_at.timestamp() * 1000)
    name = f"{extracted_at:%Y_%m_%d}_{epoch_ms}_0.parquet"
    nulled = nulled or {}
    meta = [
        {
            "sync_id": sync_id,
            "changes": [
                {"field": column, "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"}
                for column in nulled.get(index, ())
            ],
        }
        for index in range(len(rows))
    ]
    data: dict[str, list[Any]] = {
        "_airbyte_raw_id": [str(uuid.uuid4()) for _ in rows],
        "_airbyte_extracted_at": [extracted_at] * len(rows),
        "_airbyte_meta": meta,
        "_airbyte_generation_id": [generation_id] * len(rows),
    }
    for column, _kind in columns:
        data[column] = [row.get(column) for row in rows]
    table = pa.Table.from_pydict(data, schema=arrow_schema(columns))
    path = folder / name
    temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(table, temporary, compression="snappy")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return WrittenStream(table_name, path, len(rows), path.stat().st_size)


def commit_overwrite(written: Iterable[WrittenStream]) -> None:
    """Remove every older file of the written tables: the new generation replaces them."""
    for stream in written:
        for old in stream.path.parent.glob("*.parquet"):
            if old != stream.path:
                old.unlink(missing_ok=True)
