"""Raw-table declarations: each table's columns written once, as `Column`s of a `RawTable`.

From one declaration come the table's Arrow schema, its rows built from API payloads, its
warehouse column types (which the dbt sources are tested against) and its column list in
docs/contracts.md. Rows are built leniently: a value that cannot be read as its column's type is
passed through unchanged, so that `land_rows` quarantines the record instead of nulling it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any

import pyarrow as pa

Payload = Mapping[str, Any]
Row = dict[str, Any]
# A reader turns the value found in a payload into the column's value (or passes it through).
Reader = Callable[[Any], Any]


# -- retrieved_at ------------------------------------------------------------------------------


def format_retrieved_at(value: datetime | str) -> str:
    """`retrieved_at` text: ISO-8601 in UTC with a `Z` suffix (`2026-01-20T06:00:00.123456Z`).

    A naive datetime is taken as UTC. A string ending in `Z` is kept as it is; another ISO-8601
    string with an offset (`+00:00`, `-05:00`) is converted; any other string is kept unchanged.
    """
    if isinstance(value, str):
        if value.endswith("Z"):
            return value
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is None:
            return value
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def retrieved_now() -> str:
    """The `retrieved_at` of a run: now, as `format_retrieved_at` writes it."""
    return format_retrieved_at(datetime.now(UTC))


# -- lenient readers ---------------------------------------------------------------------------


def text(value: Any) -> Any:
    """A string column's value: strings and None as they are, numbers as text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def integer(value: Any) -> Any:
    """An int64 column's value: ints, integral floats and digit strings; "" is None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def number(value: Any) -> Any:
    """A float64 column's value: numbers and numeric strings; "" is None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def boolean(value: Any) -> Any:
    """A bool column's value: booleans and the strings "true"/"false" (any case)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


LENIENT_READERS: Mapping[pa.DataType, Reader] = MappingProxyType(
    {pa.string(): text, pa.int64(): integer, pa.float64(): number, pa.bool_(): boolean}
)


# -- warehouse types ---------------------------------------------------------------------------


def warehouse_type(arrow_type: pa.DataType) -> str:
    """The SQL type a dbt source declares for an Arrow type; one spelling DuckDB and Trino share."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "varchar"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp with time zone" if arrow_type.tz else "timestamp"
    names = {
        pa.bool_(): "boolean",
        pa.int16(): "smallint",
        pa.int32(): "integer",
        pa.int64(): "bigint",
        pa.float32(): "real",
        pa.float64(): "double",
        pa.date32(): "date",
    }
    if arrow_type in names:
        return names[arrow_type]
    raise ValueError(f"no warehouse type for Arrow type {arrow_type}")


# -- declarations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a raw table.

    `path` is where the value is in the API payload: a key, a dotted path into nested objects
    (`grades.current_score`), or several of them tried in turn until one gives a truthy value
    (like `a or b`); by default the column's name. `read` converts the value found (default: the
    table's reader for the column's type). A `given` column is never read from a payload: the
    row builder supplies it (the partition, `retrieved_at`, values computed from several fields).
    `pii` marks personal data, which staging must hash (`hash_pii`).
    """

    name: str
    type: pa.DataType = field(default_factory=pa.string)
    nullable: bool = True
    description: str = ""
    path: str | tuple[str, ...] | None = None
    read: Reader | None = None
    given: bool = False
    pii: bool = False

    @property
    def arrow_field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable)

    @property
    def paths(self) -> tuple[str, ...]:
        if self.path is None:
            return (self.name,)
        return (self.path,) if isinstance(self.path, str) else self.path

    @property
    def warehouse_type(self) -> str:
        return warehouse_type(self.type)

    def find(self, payload: Payload) -> Any:
        """The raw value at the column's path(s) in `payload` (None where a level is missing)."""
        value: Any = None
        for path in self.paths:
            value = payload
            for key in path.split("."):
                value = value.get(key) if isinstance(value, Mapping) else None
            if value:
                break
        return value


def string(name: str, path: str | tuple[str, ...] | None = None, **options: Any) -> Column:
    return Column(name, pa.string(), path=path, **options)


def int64(name: str, path: str | tuple[str, ...] | None = None, **options: Any) -> Column:
    return Column(name, pa.int64(), path=path, **options)


def float64(name: str, path: str | tuple[str, ...] | None = None, **options: Any) -> Column:
    return Column(name, pa.float64(), path=path, **options)


def bool_(name: str, path: str | tuple[str, ...] | None = None, **options: Any) -> Column:
    return Column(name, pa.bool_(), path=path, **options)


RETRIEVED_AT = Column(
    "retrieved_at",
    nullable=False,
    given=True,
    description="when the run read the API: ISO-8601 UTC with a Z suffix (retrieved_now())",
)


@dataclass(frozen=True)
class RawTable:
    """The declaration of one raw table: its columns in order, and how rows are read."""

    name: str
    columns: tuple[Column, ...]
    description: str = ""
    readers: Mapping[pa.DataType, Reader] = LENIENT_READERS

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for column in self.columns:
            if column.name in seen:
                raise ValueError(f"raw table {self.name}: column {column.name} declared twice")
            seen.add(column.name)

    @cached_property
    def schema(self) -> pa.Schema:
        """The Arrow schema every landed file of the table has (also when it has no rows)."""
        return pa.schema([column.arrow_field for column in self.columns])

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required(self) -> list[str]:
        """The columns that may not be null."""
        return [column.name for column in self.columns if not column.nullable]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"raw table {self.name} has no column {name}")

    def read(self, payload: Payload, name: str) -> Any:
        """The value of column `name` read from `payload` as a row would have it."""
        column = self.column(name)
        reader = column.read or self.readers.get(column.type)
        value = column.find(payload)
        return reader(value) if reader else value

    def row(self, payload: Payload | None = None, /, **values: Any) -> Row:
        """One row, in column order: keyword `values` as they are, every other column read from
        `payload`. A `given` column missing from `values` is a TypeError, as is an unknown name."""
        unknown = set(values).difference(self.names)
        if unknown:
            raise TypeError(f"raw table {self.name} has no column(s) {sorted(unknown)}")
        row: Row = {}
        for column in self.columns:
            if column.name in values:
                row[column.name] = values[column.name]
            elif column.given:
                raise TypeError(f"raw table {self.name}: {column.name} must be given")
            else:
                row[column.name] = self.read(payload or {}, column.name)
        return row

    def rows(self, payloads: Iterable[Payload], /, **values: Any) -> list[Row]:
        """`row(payload, **values)` for each payload: the same given values on every row."""
        return [self.row(payload, **values) for payload in payloads]

    def problems(self, row: Mapping[str, Any]) -> list[str]:
        """What keeps `row` from landing as is: missing or unknown columns, nulls in not-null
        columns, values of the wrong type. Empty for a good row."""
        found = [f"unknown column {name}" for name in row if name not in self.names]
        for column in self.columns:
            if column.name not in row:
                found.append(f"missing column {column.name}")
                continue
            value = row[column.name]
            if value is None:
                if not column.nullable:
                    found.append(f"{column.name} is null")
                continue
            try:
                pa.array([value], type=column.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                found.append(f"{column.name}: {value!r} is not {column.type}")
        return found

    def to_table(self, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
        """The rows as a table of `schema` (no quarantine: see `land_rows` for ingestion)."""
        return pa.Table.from_pylist(list(rows), schema=self.schema)


# -- docs --------------------------------------------------------------------------------------


def _type_label(arrow_type: pa.DataType) -> str | None:
    if pa.types.is_string(arrow_type):
        return None
    return "float64" if arrow_type == pa.float64() else str(arrow_type)


def column_summary(column: Column) -> str:
    """`` `name` (type, not null, personal data, description) `` as docs/contracts.md lists it."""
    notes = [
        note
        for note in (
            _type_label(column.type),
            None if column.nullable else "not null",
            "personal data" if column.pii else None,
            column.description or None,
        )
        if note
    ]
    return f"`{column.name}`" + (f" ({', '.join(notes)})" if notes else "")


def markdown_table(
    tables: Sequence[RawTable], *, leading: Sequence[str] = (), trailing: Sequence[str] = ()
) -> str:
    """A Markdown table of the tables' columns, one line per table, for docs/contracts.md.

    The columns named in `leading` and `trailing` (those every table starts or ends with) are
    left out of the lines and named in the header instead.
    """
    bounds = [
        f"{word} {', '.join(f'`{name}`' for name in names)}"
        for word, names in (("after", leading), ("before", trailing))
        if names
    ]
    header = f"columns ({', '.join(bounds)})" if bounds else "columns"
    lines = [f"| table | {header} |", "| --- | --- |"]
    for table in tables:
        shown = [c for c in table.columns if c.name not in (*leading, *trailing)]
        cells = ", ".join(column_summary(column) for column in shown)
        note = f" — {table.description}" if table.description else ""
        lines.append(f"| `{table.name}` | {cells}{note} |")
    return "\n".join(lines) + "\n"
