"""`dbt build --target ci` over a small raw lake: every model, data test and unit test passes,
and the marts hold the expected rows and no personal data."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from types import ModuleType
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from .conftest import DuckDbBuild

MARTS = (
    "dim_openedx__course_run",
    "fct_openedx__daily_enrollments",
    # Canvas marts (their rows: test_canvas_models.py)
    "dim_canvas__course",
    "fct_canvas__enrollment",
    "fct_canvas__assignment_submission",
    # tracking-log marts (their rows: test_tracking_log_models.py)
    "fct_openedx__user_activity",
    "fct_openedx__daily_active_learners",
    "fct_openedx__weekly_active_learners",
    "fct_openedx__video_engagement",
    "fct_openedx__problem_attempts",
    # edX.org marts (their rows: test_edxorg_models.py)
    "dim_edxorg__course_run",
    "fct_edxorg__enrollment",
    "fct_edxorg__problem_submission",
    "fct_edxorg__forum_post",
    # platform-health marts (their rows: test_platform_models.py)
    "fct_platform__run_outcome",
    "fct_platform__asset_freshness",
    # residential MITx marts (the legacy LMS database)
    "dim_residential__course_run",
    "fct_residential__enrollment",
    "fct_residential__problem_submission",
    "fct_residential__forum_post",
    # learning resources for MIT Learn (their rows: test_learning_resources_models.py)
    "integrations__learn__mit_climate",
    "integrations__learn__mitpe",
    "integrations__learn__oll",
    "integrations__learn__sloan",
    "integrations__learn__ovs",
    "integrations__learn__mit_edx",
    "fct_learning_resources__catalog",
    # MITx Online and xPro application databases (their rows: test_mitx_app_models.py)
    "fct_mitxonline__course_enrollment",
    "fct_mitxonline__program_progress",
    "fct_mitxonline__order_line",
    "fct_xpro__course_enrollment",
    "fct_xpro__program_progress",
    "fct_xpro__order_line",
    # one learner across every platform (their rows: test_combined_models.py)
    "dim_combined__learner",
    "fct_combined__course_enrollment",
    "fct_combined__course_engagement",
)


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    result = connection.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_build_passes_every_node(duckdb_build: DuckDbBuild) -> None:
    invocation = duckdb_build.invocation
    assert invocation.returncode == 0, invocation.output[-6000:]
    results = invocation.run_results["results"]
    failed = [r["unique_id"] for r in results if r["status"] not in ("success", "pass")]
    assert not failed, failed
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "unit_test"} <= kinds
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 4
    built = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}
    assert set(MARTS) <= built


def test_marts_are_tables_in_the_marts_schema(warehouse: duckdb.DuckDBPyConnection) -> None:
    tables = _rows(
        warehouse,
        "select table_schema, table_name, table_type from information_schema.tables",
    )
    by_name = {(t["table_schema"], t["table_name"]): t["table_type"] for t in tables}
    for mart in MARTS:
        assert by_name[("marts", mart)] == "BASE TABLE"
    assert by_name[("staging", "stg_openedx__enrollments")] == "VIEW"


def test_dim_course_run(warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType) -> None:
    rows = {
        (r["openedx_deployment"], r["courserun_readable_id"]): r
        for r in _rows(warehouse, "select * from marts.dim_openedx__course_run")
    }
    assert set(rows) == {
        ("mitxonline", raw_fixture.MITX_600),
        ("mitxonline", raw_fixture.MITX_1801),
        ("xpro", raw_fixture.XPRO_DS),
    }

    python = rows[("mitxonline", raw_fixture.MITX_600)]
    assert python["courserun_title"].startswith("Introduction to Computer Science")
    assert python["courserun_org"] == "MITxT"
    assert python["course_number"] == "6.00.1x"
    assert python["courserun_tag"] == "1T2024"
    assert python["courserun_is_self_paced"] is False
    assert python["courserun_start_on"] == datetime(2024, 1, 15)
    assert python["courserun_enrollment_start_on"] == datetime(2023, 12, 1)  # `+00:00` offset
    assert python["courserun_enrollment_end_on"] is None
    assert (
        python["block_count"],
        python["chapter_count"],
        python["sequential_count"],
        python["vertical_count"],
        python["problem_count"],
        python["video_count"],
        python["graded_sequential_count"],
        python["graded_block_count"],
    ) == (16, 2, 3, 3, 4, 2, 2, 8)
    # alice's enrollment appears twice in the raw table and counts once
    assert python["enrollment_count"] == 3
    assert python["active_enrollment_count"] == 2
    assert python["verified_enrollment_count"] == 2
    assert python["first_enrollment_on"] == datetime(2024, 1, 10, 8)
    assert python["latest_enrollment_on"] == datetime(2024, 1, 12, 9)

    calculus = rows[("mitxonline", raw_fixture.MITX_1801)]
    assert calculus["courserun_end_on"] is None  # open-ended run
    assert calculus["courserun_start_on"] == datetime(2024, 9, 1, 12, 0, 0, 123456)
    assert calculus["courserun_is_self_paced"] is True
    assert calculus["courserun_is_hidden"] is True
    assert calculus["courserun_title"] == "Calculus 1A: Différentiation"
    assert (calculus["block_count"], calculus["video_count"], calculus["problem_count"]) == (
        5,
        1,
        0,
    )
    assert calculus["enrollment_count"] == 1

    data_science = rows[("xpro", raw_fixture.XPRO_DS)]
    assert data_science["courserun_is_invitation_only"] is True
    assert data_science["courserun_retrieved_at"] == datetime(2024, 1, 13, 7)
    assert (data_science["enrollment_count"], data_science["active_enrollment_count"]) == (2, 2)
    assert data_science["graded_sequential_count"] == 1


def test_daily_enrollments(warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType) -> None:
    rows = _rows(
        warehouse,
        """
        select *
        from marts.fct_openedx__daily_enrollments
        order by openedx_deployment, courserun_readable_id, enrollment_date
        """,
    )
    # each run from its first enrollment to the deployment's latest extract (2024-01-13)
    assert len(rows) == 4 + 2 + 3
    python = [
        (
            r["enrollment_date"],
            r["new_enrollment_count"],
            r["new_audit_enrollment_count"],
            r["new_verified_enrollment_count"],
            r["cumulative_enrollment_count"],
            r["cumulative_verified_enrollment_count"],
            r["active_enrollment_count"],
        )
        for r in rows
        if r["courserun_readable_id"] == raw_fixture.MITX_600
    ]
    assert python == [
        (date(2024, 1, 10), 2, 1, 1, 2, 1, 2),
        (date(2024, 1, 11), 0, 0, 0, 2, 1, 2),
        (date(2024, 1, 12), 1, 0, 1, 3, 2, 2),
        (date(2024, 1, 13), 0, 0, 0, 3, 2, 2),
    ]
    xpro = [
        (r["enrollment_date"], r["new_honor_enrollment_count"], r["cumulative_enrollment_count"])
        for r in rows
        if r["openedx_deployment"] == "xpro"
    ]
    # erin enrolled at 23:30 UTC (`+00:00`) on the 12th
    assert xpro == [(date(2024, 1, 11), 0, 1), (date(2024, 1, 12), 1, 2), (date(2024, 1, 13), 0, 2)]

    totals = _rows(
        warehouse,
        """
        select openedx_deployment, sum(new_enrollment_count) as enrollments
        from marts.fct_openedx__daily_enrollments
        group by openedx_deployment
        order by openedx_deployment
        """,
    )
    assert [(t["openedx_deployment"], t["enrollments"]) for t in totals] == [
        ("mitxonline", 4),
        ("xpro", 2),
    ]


def test_usernames_are_salted_hashes(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    hashes = {
        r["user_username_hash"]
        for r in _rows(
            warehouse, "select user_username_hash from intermediate.int_openedx__enrollments"
        )
    }
    # DuckDB's sha256() over the UTF-8 bytes equals Python's (and Trino's to_utf8 + sha256)
    expected = {
        hashlib.sha256((raw_fixture.PII_SALT + username).encode()).hexdigest()
        for username in raw_fixture.USERNAMES
    }
    assert hashes == expected


def test_no_raw_username_in_any_mart(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    columns = _rows(
        warehouse,
        """
        select table_name, column_name
        from information_schema.columns
        where table_schema = 'marts'
        """,
    )
    assert {c["table_name"] for c in columns} == set(MARTS)
    assert not [c for c in columns if "username" in c["column_name"] or "email" in c["column_name"]]
    for mart in MARTS:
        mart_columns = [c["column_name"] for c in columns if c["table_name"] == mart]
        as_text = " || '|' || ".join(
            f"coalesce(cast({name} as varchar), '')" for name in mart_columns
        )
        values = [
            r["row_text"]
            for r in _rows(warehouse, f"select {as_text} as row_text from marts.{mart}")
        ]
        assert values
        for username in raw_fixture.USERNAMES:
            assert not [v for v in values if username in v], (mart, username)
