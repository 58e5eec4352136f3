"""The platform-health rows, read from a Dagster instance: runs, check evaluations, assets.

Failed runs are described exactly as the run-failure alerts describe them (location, step, error
type and first line, code error or interruption), so the marts and the alerts agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster._core.events import DagsterEventType

from data_platform.tables import DAGSTER_ASSET_CHECKS, DAGSTER_ASSETS, DAGSTER_RUNS
from ol_orchestrate.lib.alerts import (
    describe_check_evaluation,
    describe_run_failure,
    fetch_check_evaluations,
    run_location,
)
from ol_orchestrate.lib.raw_tables import Row, format_retrieved_at

FRESHNESS_CHECK_NAME = "freshness_check"  # the name of Dagster's last-update freshness checks


def iso(timestamp: float | None) -> str | None:
    """A Unix timestamp as the raw tables write times (ISO-8601 UTC, `Z`)."""
    if timestamp is None:
        return None
    return format_retrieved_at(datetime.fromtimestamp(timestamp, UTC))


def run_rows(
    instance: dg.DagsterInstance, *, since: datetime, limit: int, retrieved_at: str
) -> list[Row]:
    """One row per run created since `since` (newest first, at most `limit`)."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(created_after=since),
        limit=limit,
        order_by="create_timestamp",
        ascending=False,
    )
    rows = []
    for record in records:
        run = record.dagster_run
        failure = None
        if run.status == dg.DagsterRunStatus.FAILURE:
            entries = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
            failure = describe_run_failure(instance, run, entries[-1] if entries else None)
        start, end = record.start_time, record.end_time
        rows.append(
            DAGSTER_RUNS.row(
                run_id=run.run_id,
                job_name=run.job_name,
                location=run_location(run),
                run_status=run.status.value,
                partition_key=run.tags.get("dagster/partition"),
                retry_number=int(run.tags.get("dagster/retry_number") or 0),
                root_run_id=run.root_run_id,
                parent_run_id=run.parent_run_id,
                created_at=iso(record.create_timestamp.timestamp()),
                started_at=iso(start),
                ended_at=iso(end),
                duration_seconds=round(end - start, 3) if start and end else None,
                failed_step_key=failure.step_key if failure else None,
                error_class=failure.error_class.value if failure else None,
                error_type=failure.error_type if failure else None,
                error_message=failure.error_message if failure else None,
                will_retry=failure.retry.will_retry if failure else None,
                retrieved_at=retrieved_at,
            )
        )
    return rows


def check_rows(
    instance: dg.DagsterInstance, *, since: datetime, limit: int, retrieved_at: str
) -> list[Row]:
    """One row per asset check evaluation since `since` (the newest `limit`)."""
    records = fetch_check_evaluations(instance, after_time=since, limit=limit, ascending=False)
    rows = []
    for record in reversed(records):
        check = describe_check_evaluation(record.storage_id, record.event_log_entry)
        if check is None:
            continue
        rows.append(
            DAGSTER_ASSET_CHECKS.row(
                asset_key=check.asset_key_string,
                check_name=check.check_name,
                passed=check.passed,
                severity=check.severity,
                run_id=check.run_id or None,
                partition_key=check.partition_key,
                evaluated_at=iso(check.evaluated_at),
                is_dbt_test=check.is_dbt_test,
                failed_row_count=check.failed_row_count,
                overdue_seconds=check.overdue_seconds,
                retrieved_at=retrieved_at,
            )
        )
    return rows


def _timestamp(record: Any) -> float | None:
    return record.timestamp if record is not None else None


def asset_rows(instance: dg.DagsterInstance, *, retrieved_at: str) -> list[Row]:
    """One row per asset the instance has events for: its last materialization and failure, and
    the latest evaluation of its freshness check."""
    records = sorted(
        instance.get_asset_records(), key=lambda r: r.asset_entry.asset_key.to_user_string()
    )
    check_keys = [dg.AssetCheckKey(r.asset_entry.asset_key, FRESHNESS_CHECK_NAME) for r in records]
    freshness = (
        instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
        if check_keys
        else {}
    )
    rows = []
    for record, check_key in zip(records, check_keys, strict=True):
        entry = record.asset_entry
        path = entry.asset_key.path
        last = entry.last_materialization_record
        evaluation = freshness.get(check_key)
        check = (
            describe_check_evaluation(evaluation.id, evaluation.event)
            if evaluation is not None and evaluation.event is not None
            else None
        )
        rows.append(
            DAGSTER_ASSETS.row(
                asset_key="/".join(path),
                source_system=path[0],
                asset_layer=path[1] if len(path) >= 3 else None,
                asset_name=path[-1],
                last_materialized_at=iso(_timestamp(last)),
                last_materialization_run_id=last.run_id if last is not None else None,
                last_failed_at=iso(_timestamp(entry.last_failed_to_materialize_record)),
                freshness_checked_at=iso(check.evaluated_at) if check else None,
                freshness_passed=check.passed if check else None,
                overdue_seconds=check.overdue_seconds if check else None,
                retrieved_at=retrieved_at,
            )
        )
    return rows


def location_counts(rows: Iterable[Row]) -> dict[str, int]:
    """Failed runs per location (asset metadata)."""
    counts: dict[str, int] = {}
    for row in rows:
        if row["run_status"] == dg.DagsterRunStatus.FAILURE.value:
            counts[row["location"]] = counts.get(row["location"], 0) + 1
    return dict(sorted(counts.items()))
