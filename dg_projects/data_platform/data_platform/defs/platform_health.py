"""`platform_health`: the Dagster instance's own health, landed in the lake for the marts.

One multi-asset, refreshed daily (07:00 UTC, after the sources' morning refreshes) and on demand,
reads the instance it runs in — runs of the lookback window with their failures by location and
error class, asset check evaluations, and per asset its last materialization and freshness — into
`platform/raw/dagster_runs`, `dagster_asset_checks` and `dagster_assets`. The dbt models
`fct_platform__run_outcome` and `fct_platform__asset_freshness` are built from them.
"""

# No `from __future__ import annotations`: Dagster reads the asset function's annotations.
from datetime import UTC, datetime, timedelta

import dagster as dg
import pyarrow as pa

from data_platform.health import asset_rows, check_rows, location_counts, run_rows
from data_platform.tables import DAGSTER_ASSET_CHECKS, DAGSTER_ASSETS, DAGSTER_RUNS, SOURCE
from ol_orchestrate.lib.automation import Cadence, observes_instance_tags, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.lib.raw_tables import RawTable, retrieved_now

GROUP = "platform_health"
# After the Open edX (05:00) and Canvas (06:00) refreshes, so a day's snapshot shows them.
HEALTH_CADENCE = Cadence(cron="0 7 * * *", max_lag=timedelta(hours=2))
DESCRIPTIONS = {
    DAGSTER_RUNS.name: (
        "Every run the Dagster instance created in the lookback window: job, code location, "
        "status, times, retry number, and for failed runs the failed step, error class "
        "(code_error or interruption), error type and first line (secrets redacted)."
    ),
    DAGSTER_ASSET_CHECKS.name: (
        "Every asset check evaluation in the lookback window (dbt tests, freshness checks, "
        "tracking-log checks): asset, check, passed, severity, run, failing rows of dbt tests."
    ),
    DAGSTER_ASSETS.name: (
        "Every asset the instance has events for: its last materialization and failure, and "
        "the latest result of its freshness check."
    ),
}


class PlatformHealthConfig(dg.Config):
    """How far back the snapshot reads, and its bounds (the newest rows are kept)."""

    lookback_days: int = 30
    max_runs: int = 20_000
    max_check_evaluations: int = 50_000


def health_key(table: RawTable) -> dg.AssetKey:
    return dg.AssetKey([SOURCE, "raw", table.name])


@dg.multi_asset(
    name="platform_health",
    outs={
        health_key(table).to_python_identifier(): dg.AssetOut(
            key=health_key(table),
            group_name=GROUP,
            kinds={"dagster", "parquet"},
            description=DESCRIPTIONS[table.name],
            tags=observes_instance_tags(),
            **raw_asset_automation(HEALTH_CADENCE),
        )
        for table in (DAGSTER_RUNS, DAGSTER_ASSET_CHECKS, DAGSTER_ASSETS)
    },
    can_subset=False,
)
def platform_health(
    context: dg.AssetExecutionContext, config: PlatformHealthConfig
) -> tuple[pa.Table, pa.Table, pa.Table]:
    instance = context.instance
    retrieved_at = retrieved_now()
    since = datetime.now(UTC) - timedelta(days=config.lookback_days)
    lake_root = get_settings().lake_root

    runs = run_rows(instance, since=since, limit=config.max_runs, retrieved_at=retrieved_at)
    checks = check_rows(
        instance, since=since, limit=config.max_check_evaluations, retrieved_at=retrieved_at
    )
    assets = asset_rows(instance, retrieved_at=retrieved_at)
    failed_checks = sum(1 for row in checks if not row["passed"])
    context.log.info(
        f"{len(runs)} run(s), {len(checks)} check evaluation(s) ({failed_checks} failed), "
        f"{len(assets)} asset(s) since {since:%Y-%m-%d}"
    )
    context.add_output_metadata(
        {"failed_runs_by_location": dg.MetadataValue.json(location_counts(runs))},
        output_name=health_key(DAGSTER_RUNS).to_python_identifier(),
    )
    return (
        land_rows(
            context,
            runs,
            DAGSTER_RUNS.schema,
            DAGSTER_RUNS.required,
            lake_root,
            asset_key=health_key(DAGSTER_RUNS),
        ),
        land_rows(
            context,
            checks,
            DAGSTER_ASSET_CHECKS.schema,
            DAGSTER_ASSET_CHECKS.required,
            lake_root,
            asset_key=health_key(DAGSTER_ASSET_CHECKS),
        ),
        land_rows(
            context,
            assets,
            DAGSTER_ASSETS.schema,
            DAGSTER_ASSETS.required,
            lake_root,
            asset_key=health_key(DAGSTER_ASSETS),
        ),
    )
