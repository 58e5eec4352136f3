"""The serving copy: the published marts in a DuckDB file of their own that a local Superset reads.

DuckDB allows one writer process per file, and a reader holds a lock too: if Superset read the
warehouse dbt builds, a dashboard open in a browser during a build would fail the build (or the
build would fail the dashboard). So Superset never opens the warehouse. After each successful
build the published marts are copied into a new file that replaces the serving copy atomically
(`os.replace`): a query that is running keeps reading the file it opened, the next one opens the
new file (Superset opens a connection per query), and dbt never waits on Superset. Only the
published marts are copied, so Superset sees exactly what is published.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb

# A concurrent dbt build holds the warehouse for seconds at a time: wait for it this long.
LOCK_WAIT_SECONDS = 120.0
# The warehouse's name inside the copying connection (not "warehouse": DuckDB names the new file's
# own catalog after its file name, which starts with the warehouse's).
SOURCE = "ol_build_warehouse"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _attached_read_only(
    connection: duckdb.DuckDBPyConnection, path: Path, alias: str, wait: float
) -> Iterator[None]:
    """ATTACH the warehouse read-only, waiting while a writer (a dbt build) holds it."""
    deadline = time.monotonic() + wait
    delay = 0.2
    while True:
        try:
            connection.execute(f"ATTACH {_literal(str(path))} AS {alias} (READ_ONLY)")
            break
        except duckdb.IOException:
            if time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    try:
        yield
    finally:
        connection.execute(f"DETACH {alias}")


def publish_serving_copy(
    warehouse: Path,
    serving: Path,
    tables: Sequence[tuple[str, str]],
    *,
    wait: float = LOCK_WAIT_SECONDS,
) -> tuple[dict[str, int], list[str]]:
    """Copy `tables` (schema, table) of `warehouse` into a new file that replaces `serving`.

    Returns the rows copied per `schema.table` and the tables that do not exist in the
    warehouse (not built yet); those are left out. Either the whole new copy replaces the old
    one or, on any error, the old one stays as it was and no temporary file is left.
    """
    if not warehouse.exists():
        msg = f"the warehouse {warehouse} does not exist yet: build the dbt models first"
        raise FileNotFoundError(msg)
    serving.parent.mkdir(parents=True, exist_ok=True)
    temporary = serving.with_name(f".{serving.name}.{uuid.uuid4().hex}.tmp")
    rows: dict[str, int] = {}
    missing: list[str] = []
    try:
        with duckdb.connect(str(temporary)) as connection:
            with _attached_read_only(connection, warehouse, SOURCE, wait):
                existing = {
                    (schema, name)
                    for schema, name in connection.execute(
                        "select schema_name, table_name from duckdb_tables() "
                        f"where database_name = {_literal(SOURCE)}"
                    ).fetchall()
                }
                for schema, table in tables:
                    if (schema, table) not in existing:
                        missing.append(f"{schema}.{table}")
                        continue
                    target = f"{_quote(schema)}.{_quote(table)}"
                    connection.execute(f"create schema if not exists {_quote(schema)}")
                    connection.execute(f"create table {target} as select * from {SOURCE}.{target}")
                    count = connection.execute(f"select count(*) from {target}").fetchone()
                    rows[f"{schema}.{table}"] = int(count[0]) if count else 0
            connection.execute("checkpoint")
        _fsync(temporary)
        temporary.replace(serving)
        _fsync(serving.parent)
    finally:
        temporary.unlink(missing_ok=True)
        temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)
    return rows, missing
