"""The LMS tables of one deployment, extracted as one daily-partitioned multi-asset.

Every table is read in ONE consistent snapshot (a `REPEATABLE READ`, read-only transaction), by
keyset pagination in bounded chunks, each checked against `count(*)` in that snapshot, with the
database credentials leased from Vault for the run (renewed while it runs, revoked at the end).
`courseware_studentmodule` is read incrementally: rows whose `modified` is at or after the
previous extraction's watermark minus an overlap (late commits), the watermark kept in the asset's
materialization metadata (`ol/watermark`); run config `full_reload: true` reads every row. Every
table is staged to a temporary file first and committed to the lake only when all of them were
read in full and the lease is still alive: a failure leaves no file of the run behind.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
from upath import UPath

from legacy_openedx.tables import LMS_TABLES, LmsTable
from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.automation import Cadence, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.raw_tables import retrieved_now
from ol_orchestrate.lib.sql_extract import StagedTable, abort_all, stage_table, watermark_text
from ol_orchestrate.resources.healthchecks import HealthcheckResource
from ol_orchestrate.resources.sql_database import SqlDatabaseResource

SOURCE = "legacy_openedx"
WATERMARK_KEY = "ol/watermark"
# Rows committed late (a long transaction) can carry a `modified` older than the last watermark:
# each incremental read goes back this far; staging keeps the latest version of each row.
DEFAULT_WATERMARK_OVERLAP = timedelta(hours=1)


class LmsExtractConfig(dg.Config):
    """Run config of the extraction."""

    full_reload: bool = False  # read every courseware_studentmodule row, ignoring the watermark


def table_key(deployment: str, table: str) -> dg.AssetKey:
    return dg.AssetKey([SOURCE, "raw", f"{deployment}_{table}"])


def database_resource_key(deployment: str) -> str:
    return f"legacy_openedx_{deployment}_database"


def healthcheck_resource_key(deployment: str) -> str:
    return f"legacy_openedx_{deployment}_healthcheck"


def group_name(deployment: str) -> str:
    return f"legacy_openedx_{deployment}"


def previous_watermark(
    context: dg.AssetExecutionContext, key: dg.AssetKey, partition_key: str
) -> str | None:
    """The watermark of the latest earlier extraction whose file is still in the lake (None: read
    everything, e.g. the first run or after its file was lost)."""
    records = context.instance.fetch_materializations(key, limit=20).records
    for record in records:
        materialization = record.asset_materialization
        if materialization is None or (materialization.partition or "") >= partition_key:
            continue
        metadata = materialization.metadata
        watermark = metadata.get(WATERMARK_KEY)
        path = metadata.get("path")
        if watermark is None or path is None:
            return None
        if not UPath(str(path.value)).exists():
            return None
        return str(watermark.value) or None
    return None


def read_since(watermark: str | None, overlap: timedelta) -> str | None:
    if not watermark:
        return None
    moment = datetime.fromisoformat(watermark) - overlap
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def build_lms_tables_asset(
    deployment: str,
    partitions_def: dg.PartitionsDefinition,
    cadence: Cadence,
    *,
    watermark_overlap: timedelta = DEFAULT_WATERMARK_OVERLAP,
) -> dg.AssetsDefinition:
    """The deployment's raw LMS tables: `legacy_openedx/raw/<deployment>_<table>`."""
    automation = raw_asset_automation(cadence)
    specs = [
        dg.AssetSpec(
            key=table_key(deployment, table.name),
            group_name=group_name(deployment),
            kinds={"mysql", "parquet"},
            description=f"{deployment} LMS `{table.name}`: {table.raw.description}.",
            partitions_def=partitions_def,
            automation_condition=automation["automation_condition"],
            metadata=automation["metadata"],
        )
        for table in LMS_TABLES
    ]
    database_key = database_resource_key(deployment)
    healthcheck_key = healthcheck_resource_key(deployment)

    @dg.multi_asset(
        name=f"{deployment}_lms_tables",
        specs=specs,
        can_subset=False,
        required_resource_keys={database_key, healthcheck_key},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=30),
    )
    def lms_tables(
        context: dg.AssetExecutionContext, config: LmsExtractConfig
    ) -> Iterator[dg.MaterializeResult]:
        database: SqlDatabaseResource = getattr(context.resources, database_key)
        healthcheck: HealthcheckResource = getattr(context.resources, healthcheck_key)
        healthcheck.ping("start", log=context.log)
        try:
            results = extract_lms_tables(
                context, deployment, database, config, watermark_overlap=watermark_overlap
            )
        except Exception as error:
            healthcheck.ping(
                "fail", f"{deployment} LMS extraction failed: {error}", log=context.log
            )
            raise
        yield from results

    return lms_tables


def extract_lms_tables(
    context: dg.AssetExecutionContext,
    deployment: str,
    database: SqlDatabaseResource,
    config: LmsExtractConfig,
    *,
    watermark_overlap: timedelta = DEFAULT_WATERMARK_OVERLAP,
) -> list[dg.MaterializeResult]:
    """Read every LMS table in one snapshot, then commit them all to the lake."""
    lake_root = get_settings().lake_root
    partition = context.partition_key
    retrieved_at = retrieved_now()
    values = {"deployment": deployment, "retrieved_at": retrieved_at}
    staged: dict[str, StagedTable] = {}
    since: dict[str, str | None] = {}
    with database.open(context.log) as opened:
        try:
            with opened.snapshot() as snapshot:
                for table in LMS_TABLES:
                    key = table_key(deployment, table.name)
                    since[table.name] = _since(
                        context, table, key, partition, config, watermark_overlap
                    )
                    if table.incremental:
                        context.log.info(
                            f"{table.name}: "
                            + (
                                f"rows modified since {since[table.name]}"
                                if since[table.name]
                                else "full reload"
                            )
                        )
                    staged[table.name] = stage_table(
                        snapshot,
                        table.query,
                        table.raw,
                        lake_path_for(lake_root, key, partition),
                        values=values,
                        since=since[table.name],
                    )
            # The lease must still be alive: the user read everything it was granted to read.
            opened.check_lease()
        except BaseException:
            abort_all(list(staged.values()))
            raise
        renewals = opened.lease.renewals if opened.lease is not None else 0
        results: list[dg.MaterializeResult] = []
        try:
            for table in LMS_TABLES:
                item = staged[table.name]
                key = table_key(deployment, table.name)
                size = item.commit()
                quarantine_path = item.quarantine.write(lake_root, key, partition)
                metadata: dict[str, Any] = {
                    **item.metadata(),
                    "path": str(item.target),
                    "bytes": size,
                    "database": database.describe(),
                    "lease_renewals": renewals,
                }
                if quarantine_path:
                    metadata["quarantine_path"] = quarantine_path
                if table.incremental:
                    previous = _previous_mark(since[table.name], watermark_overlap)
                    mark = watermark_text(item.max_watermark) or previous or ""
                    metadata[WATERMARK_KEY] = mark
                    metadata["read_since"] = since[table.name] or "full reload"
                results.append(dg.MaterializeResult(asset_key=key, metadata=metadata))
        except BaseException:
            abort_all([item for item in staged.values() if not item.committed])
            raise
    return results


def _since(
    context: dg.AssetExecutionContext,
    table: LmsTable,
    key: dg.AssetKey,
    partition: str,
    config: LmsExtractConfig,
    overlap: timedelta,
) -> str | None:
    if not table.incremental or config.full_reload:
        return None
    return read_since(previous_watermark(context, key, partition), overlap)


def _previous_mark(since: str | None, overlap: timedelta) -> str | None:
    """The watermark an incremental read started from (when it read no new rows)."""
    if since is None:
        return None
    return (datetime.fromisoformat(since) + overlap).strftime("%Y-%m-%d %H:%M:%S.%f")
