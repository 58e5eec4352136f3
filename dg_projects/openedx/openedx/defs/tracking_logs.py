"""Daily tracking logs of every Open edX deployment, from the shared tracking-log asset factory.

Each deployment's LMS ships its gzipped tracking logs to the lake's landing area
(`landing/openedx/<deployment>/tracking_logs/<YYYY-MM-DD>/`; the sandbox writes synthetic days
there locally); the asset normalizes each day into
`raw/openedx/<deployment>_tracking_logs/dt=<day>/data.parquet`, a range of days per run.
"""

import dagster as dg

from ol_orchestrate.lib.environment import PlatformSettings, get_settings
from ol_orchestrate.lib.tracking_log_assets import (
    DEFAULT_MAX_DAYS_PER_RUN,
    DEFAULT_MAX_QUARANTINE_RATE,
    TrackingLogAssets,
    build_tracking_log_assets,
)

# Local lakes hold the sandbox's days: from its anchor date (ol_sandbox.data.ANCHOR_DATE,
# 2026-01-05; production code does not import the sandbox), or up to a year before it with
# `ol-platform materialize --days 365`. Deployed lakes hold the deployments' history.
LOCAL_START_DATE = "2025-01-01"
DEPLOYED_START_DATE = "2021-01-01"


def tracking_log_partitions(
    settings: PlatformSettings | None = None,
) -> dg.DailyPartitionsDefinition:
    settings = settings or get_settings()
    start = LOCAL_START_DATE if settings.is_local else DEPLOYED_START_DATE
    return dg.DailyPartitionsDefinition(start_date=start, timezone="UTC")


def landing_prefix(deployment: str) -> str:
    """Where a deployment's raw tracking logs land, relative to the lake root."""
    return f"landing/openedx/{deployment}/tracking_logs"


def build_tracking_logs(
    deployment: str,
    settings: PlatformSettings | None = None,
    *,
    max_quarantine_rate: float = DEFAULT_MAX_QUARANTINE_RATE,
    max_days_per_run: int = DEFAULT_MAX_DAYS_PER_RUN,
) -> TrackingLogAssets:
    """The tracking-log asset, checks and sensor of one deployment (days run as ranges of at
    most `max_days_per_run`)."""
    return build_tracking_log_assets(
        "openedx",
        deployment,
        landing_prefix(deployment),
        tracking_log_partitions(settings),
        group_name=f"openedx_{deployment}",
        kinds={"openedx", "parquet"},
        max_quarantine_rate=max_quarantine_rate,
        max_days_per_run=max_days_per_run,
    )
