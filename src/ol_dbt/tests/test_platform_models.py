"""The platform-health marts over the fixture snapshot (raw_lake/platform.py): run outcomes count
only a failed last attempt as failed; asset freshness reads each check's latest result."""

from __future__ import annotations

from types import ModuleType

import duckdb


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    result = connection.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_run_outcomes(warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType) -> None:
    rows = _rows(warehouse, "select * from marts.fct_platform__run_outcome order by run_id")
    assert {row["run_id"]: row["run_outcome"] for row in rows} == raw_fixture.PLATFORM_RUN_OUTCOMES
    by_id = {row["run_id"]: row for row in rows}
    last = by_id["run-b3"]
    assert (last["attempt_number"], last["is_final_attempt"], last["root_run_id"]) == (
        4,
        True,
        "run-b0",
    )
    assert last["error_class"] == "code_error"
    assert last["error_type"] == "RetryBudgetExhaustedError"
    assert by_id["run-c0"]["error_class"] == "interruption"
    # the run created a microsecond before midnight UTC belongs to the day before
    assert str(by_id["run-c0"]["run_date"]) == "2026-01-05"
    assert by_id["run-a1"]["run_duration_seconds"] == 90.5
    failures = _rows(
        warehouse,
        "select code_location, error_class, count(*) as failures "
        "from marts.fct_platform__run_outcome where run_outcome = 'failed' "
        "group by 1, 2 order by 1, 2",
    )
    assert failures == [
        {"code_location": "canvas", "error_class": "interruption", "failures": 1},
        {"code_location": "openedx", "error_class": "code_error", "failures": 1},
    ]


def test_asset_freshness(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = {
        row["asset_key"]: row
        for row in _rows(warehouse, "select * from marts.fct_platform__asset_freshness")
    }
    assert set(rows) == {
        "canvas/raw/courses",
        "openedx/raw/xpro_course_runs",
        "openedx/marts/dim_openedx__course_run",
        "platform/raw/dagster_runs",
    }
    courses = rows["canvas/raw/courses"]
    assert (courses["freshness_status"], courses["hours_since_materialization"]) == ("fresh", 0.5)
    late = rows["openedx/raw/xpro_course_runs"]
    assert (late["freshness_status"], late["overdue_hours"], late["is_last_attempt_failed"]) == (
        "overdue",
        1.5,
        True,
    )
    assert (late["check_count"], late["failing_check_count"]) == (1, 1)
    model = rows["openedx/marts/dim_openedx__course_run"]
    # unique_course_id failed, then passed: only not_null_course_id is failing now
    assert (model["check_count"], model["failing_check_count"]) == (2, 1)
    assert model["failing_dbt_test_count"] == 1
    assert model["freshness_status"] == "not_checked"
    never = rows["platform/raw/dagster_runs"]
    assert never["last_materialized_at"] is None
    assert never["is_last_attempt_failed"] is True
    assert never["check_count"] == 0
