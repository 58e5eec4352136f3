"""Small platform-health snapshot tables (docs/contracts.md, "Platform health") as Parquet.

One object per table at raw/platform/<table>/data.parquet, with the cases the marts distinguish:
a run retried until its retries ran out (three `retried` attempts, one `failed`), a run that
succeeded on retry, an interruption, a canceled and a running run; a dbt test failing then
passing, a failing freshness check; an asset never checked. The schemas are the location's own
declarations (data_platform.tables).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from data_platform.tables import DAGSTER_ASSET_CHECKS, DAGSTER_ASSETS, DAGSTER_RUNS

PLATFORM_SNAPSHOT_AT = "2026-01-06T07:00:00Z"
# run id -> the outcome fct_platform__run_outcome must give it
PLATFORM_RUN_OUTCOMES = {
    "run-a0": "retried",
    "run-a1": "succeeded",
    "run-b0": "retried",
    "run-b1": "retried",
    "run-b2": "retried",
    "run-b3": "failed",
    "run-c0": "failed",
    "run-d0": "canceled",
    "run-e0": "in_progress",
}


def _run(
    run_id: str,
    location: str,
    status: str,
    *,
    retry: int = 0,
    root: str | None = None,
    parent: str | None = None,
    error: tuple[str, str, str, str] | None = None,
    will_retry: bool | None = None,
    created_at: str = "2026-01-06T05:00:00Z",
) -> dict:
    step, error_class, error_type, message = error or (None, None, None, None)
    finished = status in ("SUCCESS", "FAILURE", "CANCELED")
    return DAGSTER_RUNS.row(
        run_id=run_id,
        job_name="__ASSET_JOB",
        location=location,
        run_status=status,
        partition_key="10001" if location == "canvas" else None,
        retry_number=retry,
        root_run_id=root,
        parent_run_id=parent,
        created_at=created_at,
        started_at=created_at,
        ended_at="2026-01-06T05:01:30.500000Z" if finished else None,
        duration_seconds=90.5 if finished else None,
        failed_step_key=step,
        error_class=error_class,
        error_type=error_type,
        error_message=message,
        will_retry=will_retry,
        retrieved_at=PLATFORM_SNAPSHOT_AT,
    )


def _check(
    asset_key: str,
    check_name: str,
    passed: bool,
    evaluated_at: str,
    *,
    dbt: bool = False,
    failed_rows: int | None = None,
    overdue: float | None = None,
) -> dict:
    return DAGSTER_ASSET_CHECKS.row(
        asset_key=asset_key,
        check_name=check_name,
        passed=passed,
        severity="ERROR",
        run_id="run-a1",
        partition_key=None,
        evaluated_at=evaluated_at,
        is_dbt_test=dbt,
        failed_row_count=failed_rows,
        overdue_seconds=overdue,
        retrieved_at=PLATFORM_SNAPSHOT_AT,
    )


def _asset(
    asset_key: str,
    last_materialized_at: str | None,
    *,
    failed_at: str | None = None,
    fresh: bool | None = None,
    overdue: float | None = None,
) -> dict:
    path = asset_key.split("/")
    return DAGSTER_ASSETS.row(
        asset_key=asset_key,
        source_system=path[0],
        asset_layer=path[1] if len(path) >= 3 else None,
        asset_name=path[-1],
        last_materialized_at=last_materialized_at,
        last_materialization_run_id="run-a1" if last_materialized_at else None,
        last_failed_at=failed_at,
        freshness_checked_at="2026-01-06T06:50:00Z" if fresh is not None else None,
        freshness_passed=fresh,
        overdue_seconds=overdue,
        retrieved_at=PLATFORM_SNAPSHOT_AT,
    )


SOURCE_DOWN = (
    "openedx__raw__xpro_course_runs",
    "code_error",
    "RetryBudgetExhaustedError",
    "GET failed",
)


def raw_tables() -> dict[str, list[dict]]:
    runs = [
        _run("run-a0", "canvas", "FAILURE", error=SOURCE_DOWN, will_retry=True),
        _run("run-a1", "canvas", "SUCCESS", retry=1, root="run-a0", parent="run-a0"),
        _run("run-b0", "openedx", "FAILURE", error=SOURCE_DOWN, will_retry=True),
        *(
            _run(
                f"run-b{n}",
                "openedx",
                "FAILURE",
                retry=n,
                root="run-b0",
                parent=f"run-b{n - 1}",
                error=SOURCE_DOWN,
                will_retry=n < 3,
            )
            for n in (1, 2, 3)
        ),
        _run(
            "run-c0",
            "canvas",
            "FAILURE",
            error=("canvas__raw__courses", "interruption", "RUN_WORKER_LOST", "worker lost"),
            will_retry=False,
            created_at="2026-01-05T23:59:59.999999Z",
        ),
        _run("run-d0", "lakehouse", "CANCELED"),
        _run("run-e0", "lakehouse", "STARTED"),
    ]
    model = "openedx/marts/dim_openedx__course_run"
    checks = [
        _check(model, "unique_course_id", False, "2026-01-06T05:10:00Z", dbt=True, failed_rows=2),
        _check(model, "unique_course_id", True, "2026-01-06T06:10:00Z", dbt=True, failed_rows=0),
        _check(model, "not_null_course_id", False, "2026-01-06T06:10:00Z", dbt=True, failed_rows=1),
        _check(
            "openedx/raw/xpro_course_runs",
            "freshness_check",
            False,
            "2026-01-06T06:50:00Z",
            overdue=5400.0,
        ),
        _check("canvas/raw/courses", "freshness_check", True, "2026-01-06T06:50:00Z"),
    ]
    assets = [
        _asset("canvas/raw/courses", "2026-01-06T06:30:00Z", fresh=True),
        _asset(
            "openedx/raw/xpro_course_runs",
            "2026-01-05T05:00:00Z",
            failed_at="2026-01-06T05:01:30Z",
            fresh=False,
            overdue=5400.0,
        ),
        _asset("openedx/marts/dim_openedx__course_run", "2026-01-06T06:00:00Z"),
        _asset("platform/raw/dagster_runs", None, failed_at="2026-01-06T06:59:00Z"),
    ]
    return {
        DAGSTER_RUNS.name: runs,
        DAGSTER_ASSET_CHECKS.name: checks,
        DAGSTER_ASSETS.name: assets,
    }


def write_platform_raw_lake(lake_root: Path) -> None:
    tables = {table.name: table for table in (DAGSTER_RUNS, DAGSTER_ASSET_CHECKS, DAGSTER_ASSETS)}
    for name, rows in raw_tables().items():
        path = lake_root / "raw" / "platform" / name / "data.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(tables[name].to_table(rows), path)
