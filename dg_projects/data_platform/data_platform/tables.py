"""The platform-health raw tables, declared once: what `platform_health` lands from the instance.

`dagster_runs` (one row per run created in the lookback window), `dagster_asset_checks` (one
row per asset check evaluation in the window) and `dagster_assets` (one row per asset the
instance knows: last materialization, latest freshness check). Asset key
`["platform", "raw", <table>]`, lake path `raw/platform/<table>/data.parquet`; each run of the
asset replaces the snapshot. Times are ISO-8601 UTC strings (`Z`), like every raw table.
"""

from __future__ import annotations

import pyarrow as pa

from ol_orchestrate.lib.raw_tables import RETRIEVED_AT, Column, RawTable

SOURCE = "platform"


def _column(name: str, type_: pa.DataType, description: str = "", *, null: bool = True) -> Column:
    # Every value comes from the instance, none from an API payload: all columns are given.
    return Column(name, type_, nullable=null, description=description, given=True)


def _text(name: str, description: str = "", *, null: bool = True) -> Column:
    return _column(name, pa.string(), description, null=null)


DAGSTER_RUNS = RawTable(
    "dagster_runs",
    (
        _text("run_id", null=False),
        _text("job_name", null=False),
        _text(
            "location",
            "code location (the run's origin, else its ol-platform/location tag)",
            null=False,
        ),
        _text("run_status", "SUCCESS, FAILURE, CANCELED, STARTED, QUEUED, ...", null=False),
        _text("partition_key"),
        _column("retry_number", pa.int64(), "0 for a first attempt", null=False),
        _text("root_run_id", "the first attempt of a retried run"),
        _text("parent_run_id", "the attempt this one retried"),
        _text("created_at", null=False),
        _text("started_at"),
        _text("ended_at"),
        _column("duration_seconds", pa.float64()),
        _text("failed_step_key", "failed runs: the first failed (or interrupted) step"),
        _text("error_class", "failed runs: code_error or interruption"),
        _text("error_type", "failed runs: the exception class, or the kind of interruption"),
        _text("error_message", "failed runs: the error's first line, secrets redacted"),
        _column("will_retry", pa.bool_(), "failed runs: Dagster will retry it"),
        RETRIEVED_AT,
    ),
    description="one row per run created in the lookback window",
)

DAGSTER_ASSET_CHECKS = RawTable(
    "dagster_asset_checks",
    (
        _text("asset_key", "the key's parts joined with /", null=False),
        _text("check_name", null=False),
        _column("passed", pa.bool_(), null=False),
        _text("severity", "ERROR or WARN", null=False),
        _text("run_id"),
        _text("partition_key"),
        _text("evaluated_at", null=False),
        _column("is_dbt_test", pa.bool_(), "a dbt test reported by dagster-dbt", null=False),
        _column("failed_row_count", pa.int64(), "dbt tests: the failing rows"),
        _column("overdue_seconds", pa.float64(), "freshness checks: how late the asset is"),
        RETRIEVED_AT,
    ),
    description="one row per asset check evaluation in the lookback window",
)

DAGSTER_ASSETS = RawTable(
    "dagster_assets",
    (
        _text("asset_key", "the key's parts joined with /", null=False),
        _text("source_system", "the key's first part", null=False),
        _text("asset_layer", "the second part of a three-part key (raw, staging, marts)"),
        _text("asset_name", "the key's last part", null=False),
        _text("last_materialized_at"),
        _text("last_materialization_run_id"),
        _text("last_failed_at", "the latest failed materialization"),
        _text("freshness_checked_at", "the latest evaluation of its freshness check"),
        _column("freshness_passed", pa.bool_(), "null when never checked"),
        _column("overdue_seconds", pa.float64(), "how late, when the freshness check failed"),
        RETRIEVED_AT,
    ),
    description="one row per asset the instance has events for",
)

TABLES: tuple[RawTable, ...] = (DAGSTER_RUNS, DAGSTER_ASSET_CHECKS, DAGSTER_ASSETS)
