"""Raw-table declarations: schema, rows read from payloads, validation, warehouse types, docs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
import pytest

from ol_orchestrate.lib.quarantine import Quarantine, rows_to_table
from ol_orchestrate.lib.raw_tables import (
    RETRIEVED_AT,
    Column,
    RawTable,
    bool_,
    column_summary,
    float64,
    format_retrieved_at,
    int64,
    markdown_table,
    retrieved_now,
    string,
    warehouse_type,
)

THINGS = RawTable(
    "things",
    (
        Column("source", nullable=False, given=True),
        string("thing_id", "id", nullable=False, read=lambda v: None if v is None else str(v)),
        string("thing_name", "name", description="what it is called"),
        string("owner_email", ("owner.email", "email"), pii=True),
        int64("position"),
        float64("score", "grades.score"),
        bool_("published"),
        RETRIEVED_AT,
    ),
    description="one row per thing",
)


def test_the_declaration_gives_the_schema() -> None:
    assert THINGS.schema == pa.schema(
        [
            pa.field("source", pa.string(), nullable=False),
            pa.field("thing_id", pa.string(), nullable=False),
            pa.field("thing_name", pa.string()),
            pa.field("owner_email", pa.string()),
            pa.field("position", pa.int64()),
            pa.field("score", pa.float64()),
            pa.field("published", pa.bool_()),
            pa.field("retrieved_at", pa.string(), nullable=False),
        ]
    )
    assert THINGS.required == ["source", "thing_id", "retrieved_at"]
    assert THINGS.to_table([]).schema == THINGS.schema
    with pytest.raises(ValueError, match="declared twice"):
        RawTable("twice", (string("a"), int64("a")))


def test_rows_read_payload_paths_in_column_order() -> None:
    payload = {
        "id": 7,
        "name": "Widget",
        "owner": {"email": ""},  # falsy: the next path is tried, like `a or b`
        "email": "a@example.org",
        "position": "3",
        "grades": {"score": "9.5"},
        "published": "TRUE",
        "ignored": "not a column",
    }
    row = THINGS.row(payload, source="s", retrieved_at="2026-01-20T06:00:00Z")
    assert row == {
        "source": "s",
        "thing_id": "7",
        "thing_name": "Widget",
        "owner_email": "a@example.org",
        "position": 3,
        "score": 9.5,
        "published": True,
        "retrieved_at": "2026-01-20T06:00:00Z",
    }
    assert list(row) == THINGS.names
    assert THINGS.problems(row) == []
    # a missing level of a dotted path, or a level that is not an object, reads as None
    sparse = THINGS.row({"id": 1, "grades": 4}, source="s", retrieved_at="t")
    assert (sparse["score"], sparse["owner_email"], sparse["position"]) == (None, None, None)
    # keyword values win over the payload and are taken as they are
    assert THINGS.row(payload, source="s", retrieved_at="t", position="x")["position"] == "x"
    assert [
        r["thing_id"] for r in THINGS.rows([{"id": 1}, {"id": 2}], source="s", retrieved_at="t")
    ] == [
        "1",
        "2",
    ]
    assert THINGS.read(payload, "score") == 9.5


def test_a_given_column_must_be_given_and_unknown_names_are_refused() -> None:
    with pytest.raises(TypeError, match="source must be given"):
        THINGS.row({"id": 1}, retrieved_at="t")
    with pytest.raises(TypeError, match="no column"):
        THINGS.row({"id": 1}, source="s", retrieved_at="t", colour="red")
    with pytest.raises(KeyError, match="no column colour"):
        THINGS.column("colour")


def test_values_that_do_not_fit_are_passed_through_for_the_quarantine() -> None:
    rows = THINGS.rows(
        [
            {"id": 1, "position": "first", "grades": {"score": "n/a"}, "published": "yes"},
            {"id": 2, "position": 2.0, "grades": {"score": 3}, "published": False},
            {"id": None},
        ],
        source="s",
        retrieved_at="t",
    )
    assert (rows[0]["position"], rows[0]["score"], rows[0]["published"]) == ("first", "n/a", "yes")
    assert THINGS.problems(rows[0]) == [
        "position: 'first' is not int64",
        "score: 'n/a' is not double",
        "published: 'yes' is not bool",
    ]
    assert THINGS.problems(rows[1]) == []
    assert THINGS.problems(rows[2]) == ["thing_id is null"]
    assert THINGS.problems({"thing_id": "1", "extra": 1}) == [
        "unknown column extra",
        "missing column source",
        *(f"missing column {name}" for name in THINGS.names[2:]),
    ]
    quarantine = Quarantine()
    landed = rows_to_table(rows, THINGS.schema, THINGS.required, quarantine)
    assert landed.column("thing_id").to_pylist() == ["2"]
    assert quarantine.counts_by_reason == {
        "missing thing_id": 1,
        "does not fit schema: ArrowInvalid": 1,
    }


def test_warehouse_types_are_one_spelling_for_duckdb_and_trino() -> None:
    assert [column.warehouse_type for column in THINGS.columns] == [
        "varchar",
        "varchar",
        "varchar",
        "varchar",
        "bigint",
        "double",
        "boolean",
        "varchar",
    ]
    assert warehouse_type(pa.timestamp("us", tz="UTC")) == "timestamp with time zone"
    assert warehouse_type(pa.timestamp("us")) == "timestamp"
    assert warehouse_type(pa.date32()) == "date"
    with pytest.raises(ValueError, match="no warehouse type"):
        warehouse_type(pa.list_(pa.string()))


def test_markdown_lists_the_columns() -> None:
    assert column_summary(THINGS.column("owner_email")) == "`owner_email` (personal data)"
    assert column_summary(THINGS.column("thing_id")) == "`thing_id` (not null)"
    assert column_summary(THINGS.column("score")) == "`score` (float64)"
    assert markdown_table([THINGS], leading=["source"], trailing=["retrieved_at"]) == (
        "| table | columns (after `source`, before `retrieved_at`) |\n"
        "| --- | --- |\n"
        "| `things` | `thing_id` (not null), `thing_name` (what it is called), `owner_email` "
        "(personal data), `position` (int64), `score` (float64), `published` (bool) "
        "— one row per thing |\n"
    )


def test_retrieved_at_is_utc_with_a_z_suffix() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", retrieved_now())
    assert format_retrieved_at(datetime(2026, 1, 5, tzinfo=UTC)) == "2026-01-05T00:00:00Z"
    assert format_retrieved_at(datetime(2026, 1, 5, 6, 30)) == "2026-01-05T06:30:00Z"
    eastern = timezone(timedelta(hours=-5))
    assert format_retrieved_at(datetime(2026, 1, 5, 1, tzinfo=eastern)) == "2026-01-05T06:00:00Z"
    assert format_retrieved_at("2026-01-05T06:00:00.123456+00:00") == "2026-01-05T06:00:00.123456Z"
    assert format_retrieved_at("2026-01-05T01:00:00-05:00") == "2026-01-05T06:00:00Z"
    assert format_retrieved_at("2026-01-05T06:00:00.5Z") == "2026-01-05T06:00:00.5Z"
    assert format_retrieved_at("not a time") == "not a time"
    assert format_retrieved_at("2026-01-05T06:00:00") == "2026-01-05T06:00:00"
