"""edX.org's weekly research data archives: one dynamic partition per archive, exploded into raw
tables (`edxorg/raw/<table>`), one Parquet file per table and course.

The sensor lists the archives in edX's delivery bucket and turns each into a partition (key: the
archive's date); it requests a run for an archive that is new, re-delivered (its ETag, the data
version, changed), failed, or whose member list is gone from the lake. A run downloads the archive
(boto3), explodes it with `ol_orchestrate.lib.edxorg.explode_archive` — the whole archive is read
before anything is written, so a truncated archive fails clean — and writes

    raw/edxorg/<table>/dt=<archive date>/<course slug>-<prod|edge>.parquet
    quarantine/edxorg/<table>/dt=<archive date>/<course slug>-<prod|edge>.jsonl
    raw/edxorg/archive_members/dt=<archive date>/data.parquet      (what became of every member)

A member whose content did not change since the partition's last run is not rewritten.
"""

import io
import json
import tempfile
from datetime import timedelta

import dagster as dg
import pyarrow.parquet as pq

from edxorg.components import DELIVERY_RESOURCE_KEY
from edxorg.delivery import EdxorgDeliveryBucket
from ol_orchestrate.io_managers import lake_path_for, write_bytes_atomic
from ol_orchestrate.lib.automation import Cadence, default_sensor_status, raw_asset_automation
from ol_orchestrate.lib.edxorg import (
    ARCHIVE_MEMBERS,
    ARCHIVE_TABLES,
    ArchiveReadError,
    TableOutcome,
    explode_archive,
    manifest_rows,
    previous_outputs,
    read_manifest,
)
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.partition_health import (
    MISSING,
    PartitionHealth,
    assess_partitions,
    healing_run_key,
)
from ol_orchestrate.lib.quarantine import quarantine_path_for
from ol_orchestrate.lib.raw_tables import retrieved_now

GROUP = "edxorg"
KINDS = {"edxorg", "parquet"}
ARCHIVES_NAME = "edxorg_archives"
ARCHIVES = dg.DynamicPartitionsDefinition(name=ARCHIVES_NAME)
# Archives arrive weekly, through the sensor; one more than a few days late is overdue.
ARCHIVE_CADENCE = Cadence(cron=None, max_lag=timedelta(days=9))
SENSOR_INTERVAL_SECONDS = 3600
MEMBERS_KEY = dg.AssetKey(["edxorg", "raw", ARCHIVE_MEMBERS.name])
TABLE_KEYS = {table.name: dg.AssetKey(["edxorg", "raw", table.name]) for table in ARCHIVE_TABLES}
ALL_KEYS = [MEMBERS_KEY, *TABLE_KEYS.values()]
ACCOUNTING_CHECK = "rows_accounted_for"
QUARANTINE_RATE_CHECK = "quarantine_rate_below_threshold"
MAX_QUARANTINE_RATE = 0.05
ETAG_METADATA_KEY = "archive_etag"
REDELIVERED = "re-delivered"

_DESCRIPTIONS = {table.name: table.description for table in ARCHIVE_TABLES}


def _spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        group_name=GROUP,
        kinds=KINDS,
        description=description,
        **raw_asset_automation(ARCHIVE_CADENCE),
    )


def _specs() -> list[dg.AssetSpec]:
    """One spec per table and the member list (built in a function: the defs loader would
    collect module-level specs as assets of their own)."""
    return [
        _spec(
            MEMBERS_KEY,
            "Every member of each edX.org archive (one partition per archive): its kind, course, "
            "site, table, size, content hash, rows read/written/quarantined and status (written, "
            "unchanged, undeclared, unknown).",
        ),
        *(
            _spec(
                key,
                f"edX.org `{name}` "
                f"({_DESCRIPTIONS[name] or 'a table of the research data archives'}): one "
                "Parquet file per course and archive (`dt=<archive date>`), columns as declared "
                "in ol_orchestrate.lib.edxorg.tables; rows that cannot land are quarantined.",
            )
            for name, key in TABLE_KEYS.items()
        ),
    ]


CHECK_SPECS = [
    spec
    for key in TABLE_KEYS.values()
    for spec in (
        dg.AssetCheckSpec(
            ACCOUNTING_CHECK,
            asset=key,
            blocking=True,
            description="rows read == rows written + rows quarantined",
        ),
        dg.AssetCheckSpec(
            QUARANTINE_RATE_CHECK,
            asset=key,
            description=f"at most {MAX_QUARANTINE_RATE:.0%} of the rows read are quarantined",
        ),
    )
]


def _table_result(
    key: dg.AssetKey, outcome: TableOutcome, etag: str, folder: str
) -> dg.MaterializeResult:
    unaccounted = outcome.rows_read - outcome.rows_written - outcome.rows_quarantined
    rate = outcome.rows_quarantined / outcome.rows_read if outcome.rows_read else 0.0
    return dg.MaterializeResult(
        asset_key=key,
        data_version=dg.DataVersion(etag),
        metadata={
            "path": dg.MetadataValue.path(folder),
            ETAG_METADATA_KEY: etag,
            "rows_read": outcome.rows_read,
            "rows_written": outcome.rows_written,
            "rows_quarantined": outcome.rows_quarantined,
            "quarantined_by_reason": dg.MetadataValue.json(outcome.quarantined_by_reason),
            "files_written": outcome.files_written,
            "files_unchanged": outcome.files_unchanged,
            "courses": dg.MetadataValue.json(outcome.courses),
            "dagster/row_count": outcome.rows_written,
        },
        check_results=[
            dg.AssetCheckResult(
                asset_key=key,
                check_name=ACCOUNTING_CHECK,
                passed=unaccounted == 0,
                severity=dg.AssetCheckSeverity.ERROR,
                description=(
                    "every row read was written or quarantined"
                    if unaccounted == 0
                    else f"{unaccounted} row(s) neither written nor quarantined"
                ),
                metadata={
                    "rows_read": outcome.rows_read,
                    "rows_written": outcome.rows_written,
                    "rows_quarantined": outcome.rows_quarantined,
                },
            ),
            dg.AssetCheckResult(
                asset_key=key,
                check_name=QUARANTINE_RATE_CHECK,
                passed=rate <= MAX_QUARANTINE_RATE,
                severity=dg.AssetCheckSeverity.ERROR,
                description=f"{rate:.2%} of rows quarantined (threshold {MAX_QUARANTINE_RATE:.0%})",
                metadata={"quarantine_rate": float(rate)},
            ),
        ],
    )


@dg.multi_asset(
    name="edxorg_archive",
    specs=_specs(),
    check_specs=CHECK_SPECS,
    partitions_def=ARCHIVES,
    required_resource_keys={DELIVERY_RESOURCE_KEY},
    retry_policy=dg.RetryPolicy(max_retries=1, delay=30),
)
def edxorg_archive(context: dg.AssetExecutionContext):
    archive_date = context.partition_key
    delivery: EdxorgDeliveryBucket = getattr(context.resources, DELIVERY_RESOURCE_KEY)
    root = get_settings().lake_root
    retrieved_at = retrieved_now()
    key = delivery.archive_key(archive_date)
    manifest_path = lake_path_for(root, MEMBERS_KEY, archive_date)

    def table_path(table: str, stem: str):
        return lake_path_for(root, TABLE_KEYS[table], archive_date).parent / f"{stem}.parquet"

    def quarantine_path(table: str, stem: str):
        return quarantine_path_for(root, TABLE_KEYS[table], archive_date, f"{stem}.jsonl")

    with tempfile.TemporaryFile(prefix="edxorg-archive-") as handle:
        etag = delivery.download(key, handle)
        size = handle.tell()
        handle.seek(0)
        context.log.info(f"exploding s3://{delivery.bucket}/{key} ({size:,} bytes, ETag {etag})")
        try:
            summary = explode_archive(
                handle,
                table_path,
                quarantine_path,
                archive_date=archive_date,
                retrieved_at=retrieved_at,
                previous=previous_outputs(read_manifest(manifest_path)),
                log=context.log.warning,
            )
        except ArchiveReadError as error:
            raise dg.Failure(
                description=f"s3://{delivery.bucket}/{key}: {error}", allow_retries=False
            ) from None
    manifest = ARCHIVE_MEMBERS.to_table(manifest_rows(summary, key, etag, retrieved_at))
    buffer = io.BytesIO()
    pq.write_table(manifest, buffer, compression="zstd")
    write_bytes_atomic(manifest_path, buffer.getvalue())
    for name, outcome in summary.tables().items():
        folder = str(table_path(name, "x").parent)
        yield _table_result(TABLE_KEYS[name], outcome, etag, folder)
    statuses: dict[str, int] = {}
    for member in summary.members:
        statuses[member.status] = statuses.get(member.status, 0) + 1
    yield dg.MaterializeResult(
        asset_key=MEMBERS_KEY,
        data_version=dg.DataVersion(etag),
        metadata={
            "path": dg.MetadataValue.path(str(manifest_path)),
            "archive": f"s3://{delivery.bucket}/{key}",
            ETAG_METADATA_KEY: etag,
            "archive_bytes": size,
            "members": len(summary.members),
            "members_by_status": dg.MetadataValue.json(statuses),
            "dagster/row_count": manifest.num_rows,
        },
    )


def build_archive_sensor(
    default_status: dg.DefaultSensorStatus | None = None,
) -> dg.SensorDefinition:
    """The sensor turning the bucket's archives into partitions and runs (see the module doc)."""
    return dg.sensor(
        name="edxorg_archive_sensor",
        asset_selection=ALL_KEYS,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=default_status or default_sensor_status(),
        required_resource_keys={DELIVERY_RESOURCE_KEY},
        description=(
            "Turns each archive in edX's delivery bucket into an `edxorg_archives` partition and "
            "requests a run for archives that are new, re-delivered (new ETag), failed, or whose "
            "member list is gone from the lake."
        ),
    )(evaluate_archives)


def evaluate_archives(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """One tick of `edxorg_archive_sensor`."""
    delivery: EdxorgDeliveryBucket = getattr(context.resources, DELIVERY_RESOURCE_KEY)
    archives = delivery.list_archives()
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    existing = set(context.instance.get_dynamic_partitions(ARCHIVES_NAME))
    keys = [archive.partition_key for archive in archives]
    new = [key for key in keys if key not in existing]
    known = [key for key in keys if key in existing]
    # Every asset's status (a run can fail after some of its assets materialized), and the lake
    # check on the member list, the one file every archive partition has.
    statuses = assess_partitions(context.instance, ALL_KEYS, known, ARCHIVES, None)
    lost = assess_partitions(
        context.instance, [MEMBERS_KEY], known, ARCHIVES, get_settings().lake_root
    )
    health = PartitionHealth(
        needs_run={**lost.needs_run, **statuses.needs_run},
        in_progress=statuses.in_progress | lost.in_progress,
    )
    requests = []
    for archive in archives:
        partition = archive.partition_key
        if partition in health.in_progress:
            continue
        reason = MISSING if partition in new else health.needs_run.get(partition)
        if reason is None:
            last = seen.get(partition) or _recorded_etag(context.instance, partition)
            if last is not None and last != archive.etag:
                reason = REDELIVERED
        if reason is None:
            continue
        first_attempt = reason in (MISSING, REDELIVERED)
        requests.append(
            dg.RunRequest(
                run_key=(
                    f"edxorg_archive:{partition}:{archive.etag}"
                    if first_attempt
                    else healing_run_key("edxorg_archive", partition, reason)
                ),
                partition_key=partition,
                asset_selection=ALL_KEYS,
                tags={"ol/archive_etag": archive.etag, "ol/rerun_reason": reason},
            )
        )
    cursor = json.dumps(
        {**seen, **{archive.partition_key: archive.etag for archive in archives}}, sort_keys=True
    )
    if not requests and not new:
        return dg.SensorResult(
            skip_reason=f"{len(archives)} archive(s), none new, re-delivered, failed or lost",
            cursor=cursor,
        )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[ARCHIVES.build_add_request(new)] if new else [],
        cursor=cursor,
    )


def _recorded_etag(instance: dg.DagsterInstance, partition: str) -> str | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=MEMBERS_KEY, asset_partitions=[partition]), limit=1
    ).records
    materialization = records[0].asset_materialization if records else None
    if materialization is None:
        return None
    value = materialization.metadata.get(ETAG_METADATA_KEY)
    return None if value is None else str(getattr(value, "value", value))


@dg.definitions
def archive_defs() -> dg.Definitions:
    """The archive assets and their sensor (whose default status depends on the environment)."""
    return dg.Definitions(assets=[edxorg_archive], sensors=[build_archive_sensor()])
