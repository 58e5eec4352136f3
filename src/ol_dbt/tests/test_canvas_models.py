"""The Canvas models: built on DuckDB over the raw Canvas lake of raw_lake.py (one object per
course under `dt=<course_id>/`), the marts' rows, no personal data past raw, an empty lake, and
the Trino compile and manifest of the Canvas nodes."""

from __future__ import annotations

import hashlib
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

if TYPE_CHECKING:
    from .conftest import DbtInvocation, DuckDbBuild

CANVAS_TABLES = (
    "courses",
    "sections",
    "enrollments",
    "users",
    "assignments",
    "assignment_groups",
    "submissions",
    "modules",
    "module_items",
    "pages",
    "files",
    "folders",
    "content_exports",
)
CANVAS_MARTS = ("dim_canvas__course", "fct_canvas__enrollment", "fct_canvas__assignment_submission")
CANVAS_INTERMEDIATE = (
    "int_canvas__courses",
    "int_canvas__sections",
    "int_canvas__enrollments",
    "int_canvas__assignments",
    "int_canvas__submissions",
)


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    result = connection.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _user_hash(raw_fixture: ModuleType, value: str) -> str:
    return hashlib.sha256((raw_fixture.PII_SALT + value).encode()).hexdigest()


def test_every_canvas_node_builds_and_passes(duckdb_build: DuckDbBuild) -> None:
    results = duckdb_build.invocation.run_results["results"]
    canvas = {r["unique_id"]: r["status"] for r in results if "canvas" in r["unique_id"]}
    assert not {uid: status for uid, status in canvas.items() if status not in ("success", "pass")}
    models = {uid.split(".")[-1] for uid in canvas if uid.startswith("model.")}
    assert models == {
        *(f"stg_canvas__{table}" for table in CANVAS_TABLES),
        *CANVAS_INTERMEDIATE,
        *CANVAS_MARTS,
    }
    assert len([uid for uid in canvas if uid.startswith("unit_test.")]) >= 5


def test_dim_canvas_course(warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType) -> None:
    rows = {r["course_id"]: r for r in _rows(warehouse, "select * from marts.dim_canvas__course")}
    assert set(rows) == {raw_fixture.CANVAS_PHYSICS, raw_fixture.CANVAS_SPANISH}

    physics = rows[raw_fixture.CANVAS_PHYSICS]
    assert (physics["course_name"], physics["course_code"]) == ("Classical Mechanics", "8.01")
    assert (physics["term_name"], physics["account_name"]) == (
        "Spring 2024",
        "Department of Physics",
    )
    assert physics["course_workflow_state"] == "available"
    assert physics["course_start_at"] == datetime(2024, 2, 6, 14)  # 09:00-05:00
    assert physics["course_end_at"] is None
    assert physics["course_created_at"] == datetime(2023, 12, 1, 15, 30, 0, 123456)
    assert physics["term_start_at"] == datetime(2024, 2, 5, 5)
    counts = (
        "section_count",
        "enrollment_count",
        "active_enrollment_count",
        "student_enrollment_count",
        "student_count",
        "active_student_count",
        "teacher_count",
        "assignment_count",
        "published_assignment_count",
        "module_count",
        "page_count",
        "file_count",
    )
    # 7 enrollments (one repeated by paging counts once); José is in two sections: one student
    assert tuple(physics[c] for c in counts) == (2, 7, 5, 5, 4, 3, 1, 4, 3, 2, 1, 1)
    assert physics["course_content_hash"] == "a" * 64
    assert physics["course_retrieved_at"] == datetime(2024, 3, 15, 6)

    spanish = rows[raw_fixture.CANVAS_SPANISH]
    assert spanish["course_name"] == "Introducción a la Programación"
    assert spanish["term_start_at"] is None
    assert spanish["course_end_at"] == datetime(2024, 6, 30, 23, 59, 59)
    # its modules, pages and files landed as empty tables
    assert tuple(spanish[c] for c in counts) == (1, 2, 1, 2, 2, 1, 0, 1, 1, 0, 0, 0)
    assert spanish["course_content_exported_at"] == datetime(2024, 3, 15, 6, 4)  # 07:04+01:00


def test_fct_canvas_enrollment(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    rows = {
        r["enrollment_id"]: r
        for r in _rows(warehouse, "select * from marts.fct_canvas__enrollment")
    }
    assert len(rows) == 9
    assert set(rows) == {"30001", "30002", "30003", "30004", "30005", "30006", "30007"} | {
        "30101",
        "30102",
    }
    alice = rows["30001"]
    assert alice["user_id_hash"] == _user_hash(raw_fixture, "501")
    assert (alice["section_id"], alice["section_name"]) == ("20001", "Lecture L01")
    assert alice["enrollment_last_activity_at"] == datetime(2024, 3, 15, 2, 15)  # 22:15-04:00
    assert (alice["enrollment_current_score"], alice["enrollment_final_score"]) == (85.5, 60.25)
    assert (alice["enrollment_current_grade"], alice["enrollment_final_grade"]) == ("B", "D")
    assert alice["enrollment_is_student"] is True
    assert alice["enrollment_is_active"] is True

    # the sharded user id, far beyond a 32-bit integer, keeps every digit
    assert rows["30004"]["user_id_hash"] == _user_hash(raw_fixture, raw_fixture.CANVAS_SHARDED_USER)
    # José's two sections of one course, and his enrollment in the other course: one user key
    assert rows["30002"]["user_id_hash"] == rows["30003"]["user_id_hash"]
    assert rows["30003"]["user_id_hash"] == rows["30101"]["user_id_hash"]
    assert rows["30003"]["section_name"] == "Recitation R02"
    assert rows["30101"]["section_name"] == "Sección única"

    grader = rows["30007"]
    assert (grader["enrollment_type"], grader["enrollment_role"], grader["enrollment_role_id"]) == (
        "TaEnrollment",
        "Grader",
        "17",
    )
    assert (grader["enrollment_state"], grader["enrollment_is_active"]) == ("invited", False)
    assert grader["enrollment_current_score"] is None
    assert rows["30006"]["enrollment_is_student"] is False
    assert rows["30005"]["enrollment_state"] == "inactive"


def test_fct_canvas_assignment_submission(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    user_by_hash = {
        _user_hash(raw_fixture, user_id): user_id for user_id in raw_fixture.CANVAS_USERS
    }
    rows = {
        (r["assignment_id"], user_by_hash[r["user_id_hash"]]): r
        for r in _rows(warehouse, "select * from marts.fct_canvas__assignment_submission")
    }
    dmitry = raw_fixture.CANVAS_SHARDED_USER
    zero_points = raw_fixture.CANVAS_ZERO_POINTS_ASSIGNMENT
    # Alice's Problem Set 1 submission, repeated by Canvas paging, is one row
    assert len(rows) == 12
    statuses = {key: row["submission_status"] for key, row in rows.items()}
    assert statuses == {
        ("50001", "501"): "on_time",  # 20:00-05:00 = 01:00 UTC, due 04:59 UTC
        ("50001", "502"): "late",  # Canvas's late flag
        ("50001", dmitry): "missing",  # Canvas's missing flag
        ("50001", "503"): "excused",
        ("50002", "501"): "on_time",  # after the due date, but extended (Canvas: not late)
        ("50002", "502"): "missing",  # no flags: nothing submitted, past due at the extract
        ("50002", dmitry): "on_time",  # no flags: 12:00+01:00 is before 04:59 UTC next day
        ("50002", "503"): "not_submitted",  # Canvas: not missing
        (zero_points, "501"): "on_time",
        ("50004", "501"): "not_submitted",  # due after the extract
        ("50101", "502"): "on_time",  # no due date
        ("50101", "702"): "not_submitted",
    }
    for row in rows.values():
        flags = (
            row["submission_is_on_time"],
            row["submission_is_late"],
            row["submission_is_missing"],
            row["submission_is_excused"],
        )
        assert sum(flags) == (0 if row["submission_status"] == "not_submitted" else 1)

    extended = rows[("50002", "501")]
    assert extended["submission_is_after_due_at"] is True
    assert extended["submission_late_policy_status"] == "extended"
    assert extended["submitted_at"] == datetime(2024, 3, 1, 5, 30)
    assert extended["assignment_due_at"] == datetime(2024, 3, 1, 4, 59)

    on_time = rows[("50001", "501")]
    assert on_time["submitted_at"] == datetime(2024, 2, 17, 1)
    assert on_time["assignment_due_at"] == datetime(2024, 2, 17, 4, 59)
    assert (on_time["submission_score"], on_time["assignment_points_possible"]) == (9.0, 10.0)
    assert on_time["submission_score_fraction"] == pytest.approx(0.9)
    assert on_time["assignment_group_name"] == "Problem Sets"

    late = rows[("50001", "502")]
    assert (late["submission_seconds_late"], late["submission_grade"]) == (104_460, "7")
    assert late["submission_score_fraction"] == pytest.approx(0.7)

    excused = rows[("50001", "503")]
    assert (excused["submission_is_excused"], excused["submission_score"]) == (True, None)

    zero = rows[(zero_points, "501")]
    assert zero["assignment_points_possible"] == 0.0
    assert zero["submission_score_fraction"] is None
    assert zero["submission_grade"] == "complete"

    no_points = rows[("50101", "502")]
    assert no_points["assignment_points_possible"] is None
    assert no_points["submission_score"] == 5.0
    assert no_points["submission_score_fraction"] is None
    assert no_points["assignment_name"] == "Tarea 1: ¡Hola, mundo!"


def test_users_are_salted_hashes(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    rows = _rows(
        warehouse,
        "select user_id_hash, user_email_hash, user_login_id_hash from staging.stg_canvas__users",
    )
    # DuckDB's sha256() over the UTF-8 bytes equals Python's (and Trino's to_utf8 + sha256)
    expected = {
        (
            _user_hash(raw_fixture, user_id),
            _user_hash(raw_fixture, email.strip().lower()),
            _user_hash(raw_fixture, login),
        )
        for user_id, (_, _, email, login, _) in raw_fixture.CANVAS_USERS.items()
    }
    assert {(r["user_id_hash"], r["user_email_hash"], r["user_login_id_hash"]) for r in rows} == (
        expected
    )


def test_no_canvas_personal_data_after_raw(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    """No name, sortable name, email, login or SIS id in any staging, intermediate or mart
    relation (not only the Canvas ones), and no column that could carry one in a mart."""
    columns = _rows(
        warehouse,
        """
        select table_schema, table_name, column_name
        from information_schema.columns
        where table_schema in ('staging', 'intermediate', 'marts')
        """,
    )
    mart_columns = [c for c in columns if c["table_schema"] == "marts"]
    forbidden = ("email", "login", "sortable", "user_name", "username", "sis_user")
    assert not [c for c in mart_columns if any(word in c["column_name"] for word in forbidden)]
    canvas_user_columns = {
        (c["table_name"], c["column_name"])
        for c in mart_columns
        if c["table_name"] in CANVAS_MARTS and "user" in c["column_name"]
    }
    assert canvas_user_columns == {
        ("fct_canvas__enrollment", "user_id_hash"),
        ("fct_canvas__assignment_submission", "user_id_hash"),
    }

    personal = [value.lower() for value in raw_fixture.CANVAS_PERSONAL_VALUES]
    relations = sorted({(c["table_schema"], c["table_name"]) for c in columns})
    assert ("marts", "fct_canvas__assignment_submission") in relations
    for schema, table in relations:
        names = [
            c["column_name"]
            for c in columns
            if c["table_schema"] == schema and c["table_name"] == table
        ]
        as_text = " || '|' || ".join(f"coalesce(cast(\"{name}\" as varchar), '')" for name in names)
        values = [
            r["row_text"].lower()
            for r in _rows(warehouse, f'select {as_text} as row_text from {schema}."{table}"')
        ]
        leaked = {value for value in personal for row in values if value in row}
        assert not leaked, (schema, table, leaked)


def test_canvas_models_build_empty_before_any_course_lands(
    canvas_empty_lake_build: DuckDbBuild,
) -> None:
    invocation = canvas_empty_lake_build.invocation
    assert invocation.returncode == 0, invocation.output[-6000:]
    assert "canvas_source: no raw file matches" in invocation.output
    with duckdb.connect(str(canvas_empty_lake_build.warehouse_path), read_only=True) as connection:
        for mart in CANVAS_MARTS:
            assert connection.execute(f"select count(*) from marts.{mart}").fetchone() == (0,)
        # the empty relation keeps the contract's types
        types = dict(
            connection.execute(
                """
                select column_name, data_type
                from information_schema.columns
                where table_schema = 'staging' and table_name = 'stg_canvas__submissions'
                """
            ).fetchall()
        )
    assert types["submission_score"] == "DOUBLE"
    assert types["submission_attempt"] == "BIGINT"
    assert types["submission_is_excused"] == "BOOLEAN"
    assert types["submitted_at"].startswith("TIMESTAMP")


@pytest.fixture(scope="module")
def production(trino_compile: DbtInvocation) -> dict[str, Any]:
    assert trino_compile.returncode == 0, trino_compile.output[-6000:]
    return trino_compile.manifest


def test_canvas_sources_resolve_to_the_raw_catalog_tables(production: dict[str, Any]) -> None:
    models = {n["name"]: n for n in production["nodes"].values() if n["resource_type"] == "model"}
    for table in CANVAS_TABLES:
        sql = models[f"stg_canvas__{table}"]["compiled_code"]
        assert f'"ol_data_lake"."ol_warehouse_raw__canvas"."{table}"' in sql, table
    users = models["stg_canvas__users"]["compiled_code"]
    # the user id and every personal column appear only inside a hash
    assert users.count("lower(to_hex(sha256(to_utf8(") == 6
    personal = (
        "user_name",
        "sortable_name",
        "nullif(lower(trim(user_email)), '')",
        "login_id",
        "sis_user_id",
    )
    for column in ("user_id", *personal):
        assert f"|| cast({column} as varchar)))))" in users, column
    assert "from_iso8601_timestamp(" in models["stg_canvas__submissions"]["compiled_code"]


def test_canvas_sources_carry_the_raw_dagster_asset_keys(production: dict[str, Any]) -> None:
    sources = {s["name"]: s for s in production["sources"].values() if s["source_name"] == "canvas"}
    assert set(sources) == set(CANVAS_TABLES)
    for name, source in sources.items():
        assert source["config"]["meta"]["dagster"]["asset_key"] == ["canvas", "raw", name]
        assert source["description"]
        columns = list(source["columns"].values())
        assert columns[0]["name"] == "course_id"
        assert columns[-1]["name"] == "retrieved_at"
        assert all(column["description"] and column["data_type"] for column in columns), name
