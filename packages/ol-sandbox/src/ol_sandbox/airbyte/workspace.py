"""The sandbox's Airbyte workspace: its sources, its destination and the connections between them.

Two Postgres sources (the MITx Online and xPro application databases, `.apps`) and one S3
destination (the lake), connected as Airbyte names connections: `<source> → <destination>` with
U+2192. Every id is a UUID derived from a name, so the workspace is the same in every sandbox
(whatever its size, seed or port) and a prepared workspace state stays valid across runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ol_sandbox.airbyte.apps import (
    APPS,
    PRIMARY_KEYS,
    SELECTED_STREAMS,
    STREAM_COLUMNS,
    ColumnType,
)

_NAMESPACE = uuid.UUID("0c7f9a52-3e1d-4c55-9a8e-1b6f3d2a7e10")
ARROW = "\u2192"


def stable_uuid(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


WORKSPACE_ID = stable_uuid("workspace:ol-data-platform")
WORKSPACE_NAME = "MIT Open Learning"
# The sandbox's API application (client credentials) and basic-auth login: local secrets.
CLIENT_ID = "sandbox-airbyte-client"
CLIENT_SECRET = "sandbox-secret-airbyte"  # noqa: S105  # pragma: allowlist secret
USERNAME = "airbyte"
PASSWORD = "sandbox-airbyte-password"  # noqa: S105  # pragma: allowlist secret

DESTINATION_ID = stable_uuid("destination:s3-data-lake")
DESTINATION_NAME = "S3 Data Lake"
# Where the S3 destination writes inside the lake, and the namespace every connection writes to
# (the Trino schema of the raw Airbyte tables): <lake>/raw/ol_warehouse_raw_data/<table>/.
BUCKET_PATH = "raw"
NAMESPACE = "ol_warehouse_raw_data"
S3_PATH_FORMAT = "${NAMESPACE}/${STREAM_NAME}/${YEAR}_${MONTH}_${DAY}_${EPOCH}_"

_APP_NAMES = {"mitxonline": "MITx Online", "xpro": "xPro"}


@dataclass(frozen=True)
class Source:
    app: str
    id: str
    name: str
    database: str


@dataclass(frozen=True)
class Connection:
    app: str
    id: str
    name: str
    source_id: str
    prefix: str  # the destination table of stream s is `<prefix><s>`
    default_streams: tuple[str, ...]

    def table_name(self, stream: str) -> str:
        return f"{self.prefix}{stream}"


SOURCES: Mapping[str, Source] = {
    app: Source(
        app,
        stable_uuid(f"source:{app}"),
        f"{_APP_NAMES[app]} Production App DB",
        f"{app}_production",
    )
    for app in APPS
}
CONNECTIONS: Mapping[str, Connection] = {
    app: Connection(
        app,
        stable_uuid(f"connection:{app}"),
        f"{SOURCES[app].name} {ARROW} {DESTINATION_NAME}",
        SOURCES[app].id,
        f"raw__{app}__app__postgres__",
        SELECTED_STREAMS,
    )
    for app in APPS
}


def json_type(column_type: ColumnType) -> dict[str, Any]:
    """A column's JSON schema as Airbyte's Postgres source declares it (every column nullable)."""
    if column_type == "timestamp":
        return {
            "type": ["null", "string"],
            "format": "date-time",
            "airbyte_type": "timestamp_with_timezone",
        }
    if column_type == "date":
        return {"type": ["null", "string"], "format": "date"}
    return {"type": ["null", column_type]}


def stream_json_schema(stream: str) -> dict[str, Any]:
    return {
        "type": "object",
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {name: json_type(kind) for name, kind in STREAM_COLUMNS[stream]},
    }


def source_payload(source: Source) -> dict[str, Any]:
    return {
        "sourceId": source.id,
        "name": source.name,
        "sourceType": "postgres",
        "workspaceId": WORKSPACE_ID,
        "configuration": {
            "host": f"{source.app}-db.sandbox.invalid",
            "port": 5432,
            "database": source.database,
            "schemas": ["public"],
            "username": "airbyte_reader",
            "ssl_mode": {"mode": "require"},
            "replication_method": {"method": "Standard"},
        },
    }


def destination_payload(lake_root: str | None) -> dict[str, Any]:
    return {
        "destinationId": DESTINATION_ID,
        "name": DESTINATION_NAME,
        "destinationType": "s3",
        "workspaceId": WORKSPACE_ID,
        "configuration": {
            "s3_bucket_name": "ol-data-lake-local",
            "s3_bucket_path": BUCKET_PATH,
            "s3_bucket_region": "us-east-1",
            "s3_path_format": S3_PATH_FORMAT,
            "format": {"format_type": "Parquet", "compression_codec": "SNAPPY"},
            # The sandbox writes the lake's folder, not S3 (None: no lake given to the sandbox).
            "s3_endpoint": f"file://{lake_root}" if lake_root else None,
        },
    }


__all__ = [
    "ARROW",
    "BUCKET_PATH",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "CONNECTIONS",
    "DESTINATION_ID",
    "DESTINATION_NAME",
    "NAMESPACE",
    "PASSWORD",
    "PRIMARY_KEYS",
    "SOURCES",
    "USERNAME",
    "WORKSPACE_ID",
    "WORKSPACE_NAME",
    "Connection",
    "Source",
    "destination_payload",
    "source_payload",
    "stable_uuid",
    "stream_json_schema",
]
