"""edX.org's daily tracking logs: copied from edX's delivery bucket into the lake's landing area,
then normalized by the shared tracking-log asset factory (deployment `edxorg`).

edX delivers one gzipped log per day (`<prefix>YYYY/<org>-edx-events-YYYY-MM-DD.log.gz`). The
`tracking_log_deliveries` asset (daily) lists them with boto3 and copies each new or re-delivered
one (a new ETag) to `landing/edxorg/tracking_logs/<YYYY-MM-DD>/<file>`, the layout every
tracking-log source shares; from there `edxorg/raw/edxorg_tracking_logs` (one partition per day)
and its sensor work exactly as the openedx deployments' (`ol_orchestrate.lib.tracking_log_assets`).
Delivered files whose ETag is unchanged are not copied again.
"""

import tempfile
from datetime import timedelta

import dagster as dg
import pyarrow as pa

from edxorg.components import DELIVERY_RESOURCE_KEY
from edxorg.delivery import EdxorgDeliveryBucket
from edxorg.tables import DELIVERIES
from ol_orchestrate.io_managers import lake_path_for, write_bytes_atomic
from ol_orchestrate.lib.automation import Cadence, raw_asset_automation
from ol_orchestrate.lib.environment import PlatformSettings, get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.lib.raw_tables import retrieved_now
from ol_orchestrate.lib.tracking_log_assets import build_tracking_log_assets, resolve_landing_prefix

DEPLOYMENT = "edxorg"
LANDING_PREFIX = "landing/edxorg/tracking_logs"
# The sandbox's days: from its anchor (ol_sandbox.data.ANCHOR_DATE, 2026-01-05), or up to a year
# before it with `ol-platform materialize --days 365`; edX.org's logs for MITx go back to the
# first courses.
LOCAL_START_DATE = "2025-01-01"
DEPLOYED_START_DATE = "2012-09-01"
DELIVERIES_KEY = dg.AssetKey(["edxorg", "raw", "tracking_log_deliveries"])
# edX delivers a day's log the next morning: copy at 07:00 UTC, overdue after three hours.
DELIVERIES_CADENCE = Cadence(cron="0 7 * * *", max_lag=timedelta(hours=3))


def tracking_log_partitions(
    settings: PlatformSettings | None = None,
) -> dg.DailyPartitionsDefinition:
    settings = settings or get_settings()
    start = LOCAL_START_DATE if settings.is_local else DEPLOYED_START_DATE
    return dg.DailyPartitionsDefinition(start_date=start, timezone="UTC")


@dg.asset(
    key=DELIVERIES_KEY,
    group_name="edxorg",
    kinds={"edxorg", "parquet"},
    description=DELIVERIES.description.capitalize()
    + "; new or re-delivered files are copied to landing/edxorg/tracking_logs/<day>/.",
    required_resource_keys={DELIVERY_RESOURCE_KEY},
    retry_policy=dg.RetryPolicy(max_retries=1, delay=30),
    **raw_asset_automation(DELIVERIES_CADENCE),
)
def tracking_log_deliveries(context: dg.AssetExecutionContext) -> pa.Table:
    delivery: EdxorgDeliveryBucket = getattr(context.resources, DELIVERY_RESOURCE_KEY)
    root = get_settings().lake_root
    retrieved_at = retrieved_now()
    landing = resolve_landing_prefix(root, LANDING_PREFIX)
    previous = _previous_etags(root)
    client = delivery.client()
    rows = []
    copied = 0
    for log in delivery.list_tracking_logs(client):
        target = landing / log.day / log.file_name
        fresh = previous.get(log.key) != log.etag or not target.exists()
        if fresh:
            with tempfile.TemporaryFile() as handle:
                delivery.download(log.key, handle, client)
                handle.seek(0)
                write_bytes_atomic(target, handle.read())
            copied += 1
        rows.append(
            DELIVERIES.row(
                day=log.day,
                object_key=log.key,
                etag=log.etag,
                size_bytes=log.size,
                landing_path=str(target),
                copied=fresh,
                retrieved_at=retrieved_at,
            )
        )
    context.add_output_metadata({"files_delivered": len(rows), "files_copied": copied})
    return land_rows(context, rows, DELIVERIES.schema, DELIVERIES.required, root)


def _previous_etags(root: str) -> dict[str, str]:
    path = lake_path_for(root, DELIVERIES_KEY)
    try:
        import pyarrow.parquet as pq

        with path.open("rb") as handle:
            table = pq.read_table(handle, columns=["object_key", "etag"])
    except (FileNotFoundError, OSError, pa.ArrowInvalid):
        return {}
    return dict(zip(table["object_key"].to_pylist(), table["etag"].to_pylist(), strict=True))


@dg.definitions
def tracking_log_defs() -> dg.Definitions:
    """The factory's daily asset, checks and sensor (their partitions depend on the settings)."""
    built = build_tracking_log_assets(
        "edxorg",
        DEPLOYMENT,
        LANDING_PREFIX,
        tracking_log_partitions(),
        group_name="edxorg",
        kinds={"edxorg", "parquet"},
    )
    # A module with a @dg.definitions function contributes only what the function returns.
    return dg.Definitions(assets=[tracking_log_deliveries, built.asset], sensors=[built.sensor])
