"""Reading a production database the way a DBA allows, into raw lake tables.

One SQLAlchemy code path for MariaDB/MySQL (PyMySQL) and SQLite (the embedded default):

- `read_snapshot(engine)`: one read-only transaction at `REPEATABLE READ` (MySQL: `START
  TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`; SQLite: one deferred read transaction), so
  every table read inside it sees the same instant; each statement is bounded by a timeout
  (MariaDB `max_statement_time`, MySQL `max_execution_time`, SQLite a progress handler).
- `SqlSnapshot.chunks(query)`: keyset pagination — `WHERE key > :last ORDER BY key LIMIT n`, or,
  for an incremental read, `ORDER BY watermark, key` from a lower bound — so memory stays bounded
  by the chunk size whatever the table's size, and no statement scans past its chunk.
- `stage_table(...)`: the chunks become rows of a `RawTable` (lenient readers: a value that does
  not fit is quarantined, not coerced), written to a local temporary Parquet file; the rows read
  must equal `count(*)` in the same snapshot. Nothing reaches the lake until `StagedTable.commit()`
  (a local rename, or one upload of the complete file), so a failure at any point leaves no
  partial file and a retry starts clean.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from ol_orchestrate.lib.quarantine import DEFAULT_MAX_QUARANTINE_SHARE, Quarantine, rows_to_table
from ol_orchestrate.lib.raw_tables import RawTable

DEFAULT_CHUNK_SIZE = 10_000
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 600.0
PARQUET_COMPRESSION = "zstd"
# MySQL's "no date": what `DATETIME` columns of rows written before strict SQL modes hold.
ZERO_DATES = ("0000-00-00", "0000-00-00 00:00:00")


class RowCountMismatchError(dg.Failure):
    """The rows read from a table differ from its `count(*)` in the same snapshot."""


class SqlTimeoutError(RuntimeError):
    """A statement ran longer than the extraction's statement timeout."""


# -- value readers (RawTable `read=`): one representation whatever the engine returned ------------


def sql_timestamp(value: Any) -> Any:
    """A `DATETIME` as ISO-8601 UTC with microseconds and `Z` (the LMS stores UTC). MySQL zero
    dates are NULL; a datetime (PyMySQL) and its text (SQLite) give the same string."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped or stripped.split(".")[0] in ZERO_DATES:
            return None
        try:
            value = datetime.fromisoformat(stripped)
        except ValueError:
            return value  # not a datetime: quarantined
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%dT00:00:00.000000Z")
    return value


def sql_boolean(value: Any) -> Any:
    """A `tinyint(1)` as a boolean (0/1 from both engines)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return value


def sql_float(value: Any) -> Any:
    """A `double`/`decimal` as a float (PyMySQL gives `Decimal`, SQLite int or float)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    return value


def sql_integer(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def sql_text(value: Any) -> Any:
    """Text columns: strings as they are (bytes decoded as UTF-8, else quarantined)."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


# -- queries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableQuery:
    """What to read of one table: its columns, its integer key, an optional filter and, for an
    incremental read, the watermark column (`modified`) read in `(watermark, key)` order."""

    table: str
    columns: tuple[str, ...]
    key: str = "id"
    where: str | None = None  # a fixed SQL condition (declared in code, never user input)
    params: Mapping[str, Any] = field(default_factory=dict)
    watermark: str | None = None


class SqlSnapshot:
    """One consistent, read-only snapshot of a database (see `read_snapshot`)."""

    def __init__(
        self,
        connection: Connection,
        *,
        chunk_size: int,
        before_statement: Callable[[], None],
    ) -> None:
        self.connection = connection
        self.chunk_size = chunk_size
        self._before_statement = before_statement
        self._quote = connection.dialect.identifier_preparer.quote

    def _conditions(self, query: TableQuery, since: Any) -> tuple[list[str], dict[str, Any]]:
        conditions = [f"({query.where})"] if query.where else []
        params = dict(query.params)
        if since is not None:
            if query.watermark is None:
                raise ValueError(f"{query.table}: an incremental read needs a watermark column")
            conditions.append(f"{self._quote(query.watermark)} >= :ol_since")
            params["ol_since"] = since
        return conditions, params

    def _execute(self, sql: str, params: Mapping[str, Any]) -> Any:
        self._before_statement()
        return self.connection.execute(text(sql), dict(params))

    def count(self, query: TableQuery, since: Any = None) -> int:
        """`count(*)` of the rows `chunks(query, since)` reads, in this snapshot."""
        conditions, params = self._conditions(query, since)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        result = self._execute(f"SELECT COUNT(*) FROM {self._quote(query.table)}{where}", params)
        return int(result.scalar_one())

    def chunks(self, query: TableQuery, since: Any = None) -> Iterator[list[dict[str, Any]]]:
        """The rows in keyset-paginated chunks of at most `chunk_size` (key order; for an
        incremental read — `since` given — `(watermark, key)` order from `watermark >= since`)."""
        quote = self._quote
        key = quote(query.key)
        columns = list(query.columns)
        for needed in (query.key, query.watermark if since is not None else None):
            if needed and needed not in columns:
                columns.append(needed)
        select = ", ".join(quote(column) for column in columns)
        base, params = self._conditions(query, since)
        incremental = since is not None
        order = f"{quote(query.watermark or '')}, {key}" if incremental else key
        last: tuple[Any, ...] | None = None
        while True:
            conditions = list(base)
            if last is not None and incremental:
                mark = quote(query.watermark or "")
                conditions.append(
                    f"({mark} > :ol_last_mark OR ({mark} = :ol_last_mark AND {key} > :ol_last_key))"
                )
                params.update(ol_last_mark=last[0], ol_last_key=last[1])
            elif last is not None:
                conditions.append(f"{key} > :ol_last_key")
                params["ol_last_key"] = last[1]
            where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
            sql = (
                f"SELECT {select} FROM {quote(query.table)}{where} "
                f"ORDER BY {order} LIMIT {int(self.chunk_size)}"
            )
            rows = [dict(row) for row in self._execute(sql, params).mappings()]
            if not rows:
                return
            yield [{name: row[name] for name in query.columns} | _keys(row, query) for row in rows]
            if len(rows) < self.chunk_size:
                return
            tail = rows[-1]
            last = (tail.get(query.watermark or "") if incremental else None, tail[query.key])


def _keys(row: Mapping[str, Any], query: TableQuery) -> dict[str, Any]:
    extra = {query.key: row[query.key]}
    if query.watermark and query.watermark in row:
        extra[query.watermark] = row[query.watermark]
    return extra


@contextlib.contextmanager
def read_snapshot(
    engine: Engine,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    statement_timeout_seconds: float = DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    before_statement: Callable[[], None] | None = None,
) -> Iterator[SqlSnapshot]:
    """A read-only, consistent snapshot on one connection; rolled back (nothing to commit) and
    closed on exit. `before_statement` runs before each statement (a lease check)."""
    check = before_statement or (lambda: None)
    with engine.connect() as connection:
        dialect = connection.dialect.name
        deadline = _Deadline(statement_timeout_seconds)
        if dialect == "sqlite":
            raw = connection.connection.driver_connection
            raw.set_progress_handler(deadline.expired, 10_000)  # type: ignore[union-attr]
            connection.exec_driver_sql("PRAGMA query_only = ON")
            connection.exec_driver_sql("BEGIN")
        elif dialect in ("mysql", "mariadb"):
            version = str(connection.exec_driver_sql("SELECT VERSION()").scalar_one())
            if "mariadb" in version.lower():
                connection.exec_driver_sql(
                    f"SET SESSION max_statement_time = {float(statement_timeout_seconds):.3f}"
                )
            else:
                milliseconds = int(statement_timeout_seconds * 1000)
                connection.exec_driver_sql(f"SET SESSION max_execution_time = {milliseconds}")
            connection.exec_driver_sql("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            connection.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        else:
            raise ValueError(f"unsupported database dialect {dialect!r} (MySQL/MariaDB, SQLite)")

        def before() -> None:
            check()
            deadline.restart()

        try:
            yield SqlSnapshot(connection, chunk_size=chunk_size, before_statement=before)
        except Exception as error:
            if _is_timeout(error):
                raise SqlTimeoutError(
                    f"a statement ran longer than the {statement_timeout_seconds:g} s statement "
                    f"timeout ({type(error).__name__})"
                ) from error
            raise
        finally:
            with contextlib.suppress(Exception):
                connection.rollback()


class _Deadline:
    """SQLite's statement timeout: the progress handler interrupts a statement past it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until = time.monotonic() + seconds

    def restart(self) -> None:
        self.until = time.monotonic() + self.seconds

    def expired(self) -> int:
        return 1 if time.monotonic() > self.until else 0


def _is_timeout(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        message = str(cause).lower()
        if "interrupted" in message or "max_statement_time" in message:
            return True
        if "maximum statement execution time exceeded" in message:
            return True
        args = getattr(cause, "orig", None)
        code = getattr(args, "args", (None,))[0] if args is not None else None
        if code in (1969, 3024):  # MariaDB / MySQL: statement time exceeded
            return True
        cause = cause.__cause__ or cause.__context__
    return False


# -- staging into the lake -----------------------------------------------------------------------


@dataclass
class StagedTable:
    """A raw table read in full and written to a local temporary Parquet file, not yet in the
    lake. `commit()` moves it into place (`abort()` drops it); the counts are its metadata."""

    target: Any  # UPath of the lake file
    tmp: Path
    rows_read: int
    rows_written: int
    count_at_snapshot: int
    quarantine: Quarantine
    max_watermark: Any = None
    committed: bool = False

    @property
    def bytes(self) -> int:
        return self.tmp.stat().st_size if self.tmp.exists() else 0

    def commit(self) -> int:
        """Replace the lake file with the staged one; its size in bytes."""
        size = self.tmp.stat().st_size
        if _is_local(self.target):
            # Staged as a hidden sibling of the target: fsync, then one rename.
            with self.tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            self.tmp.replace(Path(self.target.path))
        else:
            # One upload of the complete file: an object store never shows a partial object.
            self.target.fs.put_file(str(self.tmp), self.target.path)
            self.tmp.unlink(missing_ok=True)
        self.committed = True
        return size

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)

    def metadata(self) -> dict[str, Any]:
        return {
            **self.quarantine.metadata(),
            "rows_read": self.rows_read,
            "count_at_snapshot": self.count_at_snapshot,
            "dagster/row_count": self.rows_written,
        }


def _is_local(target: Any) -> bool:
    return getattr(target, "protocol", "") in ("", "file", "local")


def _staging_file(target: Any, table: str) -> Path:
    """A local temporary file for `target`: a hidden sibling for a local lake (so committing is
    one rename), else a file in the temporary folder (uploaded whole)."""
    if _is_local(target):
        final = Path(target.path)
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
    fd, name = tempfile.mkstemp(prefix=f"ol-sql-{table}-", suffix=".parquet.tmp")
    os.close(fd)
    return Path(name)


def stage_table(
    snapshot: SqlSnapshot,
    query: TableQuery,
    table: RawTable,
    target: Any,
    *,
    values: Mapping[str, Any],
    since: Any = None,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
    after_chunk: Callable[[int], None] | None = None,
) -> StagedTable:
    """Read `query` in the snapshot into a temporary Parquet file of `table`'s schema.

    Each database row becomes `table.row(row, **values)` (the given columns, e.g. `deployment`
    and `retrieved_at`); rows that do not fit are quarantined (`Quarantine`). The rows read must
    equal the snapshot's `count(*)` (`RowCountMismatchError`), and more than
    `max_quarantine_share` quarantined is a `Failure` like `land_rows`. On any error the
    temporary file is removed and nothing is staged. `after_chunk(rows_so_far)` runs after each
    chunk (tests use it to act mid-extraction).
    """
    expected = snapshot.count(query, since)
    tmp = _staging_file(target, query.table)
    quarantine = Quarantine()
    rows_read = 0
    max_mark: Any = None
    writer = pq.ParquetWriter(tmp, table.schema, compression=PARQUET_COMPRESSION)
    try:
        for chunk in snapshot.chunks(query, since):
            rows_read += len(chunk)
            if query.watermark:
                marks = [row[query.watermark] for row in chunk if row[query.watermark] is not None]
                if marks:
                    top = max(marks, key=_mark_order)
                    max_mark = top if max_mark is None else max(max_mark, top, key=_mark_order)
            rows = [
                table.row({k: row[k] for k in row if k in table.names}, **values) for row in chunk
            ]
            landed = rows_to_table(rows, table.schema, table.required, quarantine)
            if landed.num_rows:
                writer.write_table(landed)
            if after_chunk is not None:
                after_chunk(rows_read)
        if rows_read == 0 or quarantine.accepted == 0:
            writer.write_table(table.schema.empty_table())
        writer.close()
        if rows_read != expected:
            raise RowCountMismatchError(
                description=(
                    f"{query.table}: read {rows_read} rows but count(*) in the same snapshot is "
                    f"{expected}; nothing was written"
                ),
                allow_retries=True,
            )
        total = quarantine.accepted + len(quarantine.rejected)
        if total and len(quarantine.rejected) / total > max_quarantine_share:
            raise dg.Failure(
                description=(
                    f"{query.table}: {len(quarantine.rejected)} of {total} rows do not fit the raw "
                    f"table ({quarantine.counts_by_reason}); nothing was written"
                ),
                allow_retries=False,
            )
    except BaseException:
        with contextlib.suppress(Exception):
            writer.close()
        tmp.unlink(missing_ok=True)
        raise
    return StagedTable(
        target=target,
        tmp=tmp,
        rows_read=rows_read,
        rows_written=quarantine.accepted,
        count_at_snapshot=expected,
        quarantine=quarantine,
        max_watermark=max_mark,
    )


def _mark_order(value: Any) -> Any:
    """Watermarks compare as the engine's values: datetimes (PyMySQL) or their text (SQLite)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return str(value)


def watermark_text(value: Any) -> str | None:
    """A watermark as the text both engines compare a `DATETIME` with
    (`YYYY-MM-DD HH:MM:SS.ffffff`)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return str(value)


def abort_all(staged: Sequence[StagedTable]) -> None:
    for item in staged:
        item.abort()
