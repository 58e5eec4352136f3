"""Daily tracking-log assets for any source of Open edX tracking logs, built by one factory.

`build_tracking_log_assets` returns, for one source (an Open edX deployment, edX.org, ...), a
daily-partitioned asset that normalizes each day of raw log files from the landing area into one
Parquet partition, its asset checks (line accounting, quarantine rate) and a sensor that requests
the days whose raw files appeared or changed. Days run as ranges: one run normalizes a range of
consecutive days (`BackfillPolicy.single_run()`, and the sensor requests ranges), recording each
day's materialization, with its own counts, as soon as that day is written; a day that fails does
not stop the others, and the run fails afterwards naming it, so the next tick re-requests only the
failed days (`ol_orchestrate.lib.partition_health`). The day's raw files live under

    <landing prefix>/<YYYY-MM-DD>/<any file name>       (hidden files ignored)

with the landing prefix relative to the lake root (``landing/openedx/mitxonline/tracking_logs``)
or a full URL (``s3://other-bucket/tracking``); the normalized events land at
`lake_path_for(lake_root, key, day)` (``raw/<source>/<name>/dt=<day>/data.parquet``) and the
quarantined lines next to it under ``quarantine/<source>/<name>/dt=<day>/rejects.parquet``.
"""

# No `from __future__ import annotations`: Dagster reads the asset function's annotations.
import hashlib
import json
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from upath import UPath

from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.automation import DAILY_FILES, default_sensor_status
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.partition_health import MISSING, assess_partitions, healing_run_key
from ol_orchestrate.lib.quarantine import quarantine_path_for

DEFAULT_MAX_QUARANTINE_RATE = 0.01
ACCOUNTING_CHECK_NAME = "lines_accounted_for"
QUARANTINE_RATE_CHECK_NAME = "quarantine_rate_below_threshold"
QUARANTINE_FILE_NAME = "rejects.parquet"
# Metadata key (on every materialization) of the fingerprint of the files it read.
FINGERPRINT_METADATA_KEY = "landing_fingerprint"
DEFAULT_SENSOR_INTERVAL_SECONDS = 300
# The longest range of days one sensor-requested run normalizes: a month, so a backfill of years
# is a few dozen runs (each recording its days as they finish) rather than one run of days.
DEFAULT_MAX_DAYS_PER_RUN = 31
FILES_CHANGED = "files changed"

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class LandingFile:
    """One raw file of a day in the landing area."""

    day: str
    name: str
    path: UPath
    size: int
    version: str  # ETag on S3, modification time locally: changes when the file is replaced

    @property
    def fingerprint(self) -> str:
        return f"{self.name}:{self.size}:{self.version}"


@dataclass(frozen=True)
class TrackingLogAssets:
    """What `build_tracking_log_assets` returns for one source."""

    asset: dg.AssetsDefinition
    check_keys: tuple[dg.AssetCheckKey, ...]
    sensor: dg.SensorDefinition

    @property
    def key(self) -> dg.AssetKey:
        return self.asset.key


def tracking_log_asset_key(source_system: str, deployment: str) -> dg.AssetKey:
    return dg.AssetKey([source_system, "raw", f"{deployment}_tracking_logs"])


def resolve_landing_prefix(lake_root: str | UPath, landing_prefix: str) -> UPath:
    """`landing_prefix` as a path: relative prefixes live under the lake root."""
    if "://" in landing_prefix or landing_prefix.startswith("/"):
        return UPath(landing_prefix)
    root = lake_root if isinstance(lake_root, UPath) else UPath(str(lake_root))
    return root.joinpath(*[part for part in landing_prefix.split("/") if part])


def _version(info: Mapping[str, Any]) -> str:
    for key in ("ETag", "etag", "mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if value is not None:
            return str(value).strip('"')
    return ""


def list_landing_files(prefix: UPath, day: str | None = None) -> dict[str, list[LandingFile]]:
    """The raw files under `prefix` (or under its `day` folder), by day, in name order.

    One recursive listing (one paginated LIST on S3) rather than one per day, so a sensor tick
    costs the same whatever the number of days.
    """
    base = prefix / day if day else prefix
    fs = base.fs
    root = base.path.rstrip("/")
    try:
        found = fs.find(root, detail=True, maxdepth=1 if day else 2)
    except FileNotFoundError:
        return {}
    days: dict[str, list[LandingFile]] = {}
    for found_path, info in sorted(found.items()):
        if info.get("type") == "directory":
            continue
        relative = found_path[len(root) :].lstrip("/").split("/")
        if day:
            if len(relative) != 1:
                continue
            file_day, name = day, relative[0]
        else:
            if len(relative) != 2:
                continue
            file_day, name = relative
        if name.startswith(".") or not _DAY.match(file_day):
            continue
        days.setdefault(file_day, []).append(
            LandingFile(
                day=file_day,
                name=name,
                path=prefix / file_day / name,
                size=int(info.get("size") or 0),
                version=_version(info),
            )
        )
    return days


def landing_fingerprint(files: Sequence[LandingFile]) -> str:
    """A short digest of a day's file set: changes when a file is added, removed or replaced."""
    text = "\n".join(sorted(f.fingerprint for f in files))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def accounting_check_result(
    lines_read: int, events_written: int, quarantined_by_reason: Mapping[str, int]
) -> dg.AssetCheckResult:
    """Passes when every line read was either written as an event or quarantined."""
    quarantined = sum(quarantined_by_reason.values())
    unaccounted = lines_read - events_written - quarantined
    return dg.AssetCheckResult(
        check_name=ACCOUNTING_CHECK_NAME,
        passed=unaccounted == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            "every line read was written or quarantined"
            if unaccounted == 0
            else f"{unaccounted} line(s) neither written nor quarantined"
        ),
        metadata={
            "lines_read": lines_read,
            "events_written": events_written,
            "lines_quarantined": quarantined,
            "lines_unaccounted": unaccounted,
        },
    )


def quarantine_rate_check_result(
    lines_read: int, rejected: int, max_rate: float
) -> dg.AssetCheckResult:
    """Passes when the share of rejected lines (blank and comment lines excluded) is at most
    `max_rate`."""
    rate = rejected / lines_read if lines_read else 0.0
    return dg.AssetCheckResult(
        check_name=QUARANTINE_RATE_CHECK_NAME,
        passed=rate <= max_rate,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{rate:.4%} of lines rejected (threshold {max_rate:.4%})",
        metadata={
            "lines_rejected": rejected,
            "quarantine_rate": float(rate),
            "max_quarantine_rate": float(max_rate),
        },
    )


@dataclass(frozen=True)
class DayCounts:
    """The line accounting of one normalized day."""

    day: str
    lines_read: int
    events_written: int
    rejected: int
    quarantined_by_reason: Mapping[str, int] = field(default_factory=dict)

    @property
    def unaccounted(self) -> int:
        return self.lines_read - self.events_written - sum(self.quarantined_by_reason.values())


def check_results_for_days(
    days: Sequence[DayCounts], max_quarantine_rate: float
) -> list[dg.AssetCheckResult]:
    """The two checks over the days one run normalized, judged day by day: accounting passes
    when every day accounts for every line (totals could hide a day's loss behind another's
    surplus), the quarantine rate when no day is above the threshold."""
    if len(days) == 1:
        (day,) = days
        return [
            accounting_check_result(day.lines_read, day.events_written, day.quarantined_by_reason),
            quarantine_rate_check_result(day.lines_read, day.rejected, max_quarantine_rate),
        ]
    by_reason: dict[str, int] = {}
    for day in days:
        for reason, count in day.quarantined_by_reason.items():
            by_reason[reason] = by_reason.get(reason, 0) + count
    totals = accounting_check_result(
        sum(day.lines_read for day in days), sum(day.events_written for day in days), by_reason
    )
    unaccounted = {day.day: day.unaccounted for day in days if day.unaccounted}
    accounting = dg.AssetCheckResult(
        check_name=ACCOUNTING_CHECK_NAME,
        passed=not unaccounted,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"every line of the {len(days)} days was written or quarantined"
            if not unaccounted
            else f"{len(unaccounted)} of {len(days)} day(s) with lines neither written nor "
            f"quarantined: {', '.join(sorted(unaccounted))}"
        ),
        metadata={
            **(totals.metadata or {}),
            "days": len(days),
            "days_unaccounted": dg.MetadataValue.json(unaccounted),
        },
    )
    rates = {day.day: day.rejected / day.lines_read if day.lines_read else 0.0 for day in days}
    worst = max(rates, key=lambda key: rates[key])
    above = sorted(day for day, rate in rates.items() if rate > max_quarantine_rate)
    quarantine = dg.AssetCheckResult(
        check_name=QUARANTINE_RATE_CHECK_NAME,
        passed=not above,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{rates[worst]:.4%} of lines rejected on {worst}, the highest of {len(days)} days "
            f"(threshold {max_quarantine_rate:.4%})"
            + (f"; above it: {', '.join(above)}" if above else "")
        ),
        metadata={
            "lines_rejected": sum(day.rejected for day in days),
            "quarantine_rate": float(rates[worst]),
            "max_quarantine_rate": float(max_quarantine_rate),
            "days": len(days),
            "days_above_threshold": dg.MetadataValue.json(above),
        },
    )
    return [accounting, quarantine]


def build_tracking_log_assets(
    source_system: str,
    deployment: str,
    landing_prefix: str,
    partitions_def: dg.TimeWindowPartitionsDefinition,
    *,
    group_name: str | None = None,
    kinds: set[str] | None = None,
    max_quarantine_rate: float = DEFAULT_MAX_QUARANTINE_RATE,
    lake_root: str | UPath | None = None,
    sensor_interval_seconds: int = DEFAULT_SENSOR_INTERVAL_SECONDS,
    sensor_default_status: dg.DefaultSensorStatus | None = None,
    max_days_per_run: int = DEFAULT_MAX_DAYS_PER_RUN,
) -> TrackingLogAssets:
    """The daily tracking-log asset of one source, its checks and its sensor.

    `landing_prefix` is relative to the lake root (or a full URL); `lake_root` (a path, URL or a
    `UPath` carrying storage options) defaults to the environment's lake, read when the asset or
    sensor runs (never at load time).
    `max_quarantine_rate` is the quarantine-rate check's threshold: the share of lines read that
    were rejected (blank and `#` comment lines do not count). The sensor's default status is the
    platform's (`ol_orchestrate.lib.automation.default_sensor_status`) unless given; it requests
    ranges of at most `max_days_per_run` consecutive days.
    """
    if not 0 <= max_quarantine_rate <= 1:
        msg = f"max_quarantine_rate must be within [0, 1], got {max_quarantine_rate}"
        raise ValueError(msg)
    if max_days_per_run < 1:
        msg = f"max_days_per_run must be at least 1, got {max_days_per_run}"
        raise ValueError(msg)
    key = tracking_log_asset_key(source_system, deployment)
    name = f"{source_system}_{deployment}_tracking_logs"
    check_specs = [
        dg.AssetCheckSpec(
            ACCOUNTING_CHECK_NAME,
            asset=key,
            description="lines read == events written + lines quarantined, on every day of the run",
            blocking=True,
        ),
        dg.AssetCheckSpec(
            QUARANTINE_RATE_CHECK_NAME,
            asset=key,
            description=(
                f"at most {max_quarantine_rate:.2%} of each day's lines are rejected "
                "(blank and comment lines excluded)"
            ),
        ),
    ]

    def _lake_root() -> str | UPath:
        return lake_root if lake_root is not None else get_settings().lake_root

    with warnings.catch_warnings():
        # `backfill_policy` is a beta parameter of @asset in this Dagster; ranges are the point.
        warnings.simplefilter("ignore", dg.BetaWarning)
        as_asset = dg.asset(
            key=key,
            partitions_def=partitions_def,
            # A backfill of many days is one run over the range, not one run per day.
            backfill_policy=dg.BackfillPolicy.single_run(),
            group_name=group_name or f"{source_system}_{deployment}",
            kinds=kinds or {source_system, "parquet"},
            description=(
                f"{deployment} tracking-log events, one Parquet partition per day "
                f"(`dt=YYYY-MM-DD`): the day's raw log files from `{landing_prefix}/<day>/` "
                'normalized (one row per event, see docs/contracts.md "Tracking logs"); lines that '
                "are not events are quarantined with their reason and position. A run normalizes "
                "a range of days and records each day as it is written."
            ),
            check_specs=check_specs,
            metadata={"landing_prefix": landing_prefix, **DAILY_FILES.metadata()},
            retry_policy=dg.RetryPolicy(max_retries=1, delay=10),
            # Each day's materialization is logged when the day is written (below), not from a
            # return value, so a day that fails leaves the others recorded.
            output_required=False,
        )

    @as_asset
    def tracking_logs(context: dg.AssetExecutionContext) -> Iterator[dg.AssetCheckResult]:
        root = _lake_root()
        prefix = resolve_landing_prefix(root, landing_prefix)
        days = list(context.partition_keys)
        # One listing for a range (one paginated LIST on S3), the day's folder for one day.
        landing = (
            list_landing_files(prefix) if len(days) > 1 else list_landing_files(prefix, days[0])
        )
        span = days[0] if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} days)"
        # One log line per run, not per day: each event is a write to the instance's storage,
        # and a day's own record is its materialization (files, paths, counts).
        context.log.info(f"normalizing {span} from {prefix} into {lake_path_for(root, key).parent}")
        counted: list[DayCounts] = []
        failed: dict[str, str] = {}
        errors: list[BaseException] = []
        for day in days:
            files = landing.get(day, [])
            if not files:
                failed[day] = (
                    f"no tracking-log files for {day} under {prefix / day} "
                    f"(source {source_system}/{deployment}); nothing to normalize"
                )
                continue
            try:
                counts, metadata = _normalize_day(context, root, prefix, day, files)
            except Exception as error:  # the other days still run; this one fails the run
                context.log.exception(f"{day}: normalizing failed")
                failed[day] = f"{type(error).__name__}: {error}"
                errors.append(error)
                continue
            counted.append(counts)
            if counts.unaccounted:
                failed[day] = f"{counts.unaccounted} line(s) neither written nor quarantined"
                continue
            context.log_event(
                dg.AssetMaterialization(asset_key=key, partition=day, metadata=metadata)
            )
        quarantined = {d.day: d.quarantined_by_reason for d in counted if d.quarantined_by_reason}
        if quarantined:
            # Blank and comment lines are expected; only rejected events deserve a warning.
            log = context.log.warning if any(d.rejected for d in counted) else context.log.info
            folder = quarantine_path_for(root, key, days[0], QUARANTINE_FILE_NAME).parent.parent
            log(f"lines quarantined (under {folder}), by day and reason: {quarantined}")
        if counted:
            yield from check_results_for_days(counted, max_quarantine_rate)
        if failed:
            written = len(days) - len(failed)
            description = (
                f"{len(failed)} of {len(days)} day(s) failed ({written} written and recorded; "
                "the failed days run again on the next sensor tick): "
                + "; ".join(f"{day}: {why}" for day, why in sorted(failed.items()))
            )
            # A retry would run every day again: only when nothing was written and an error
            # (rather than missing files or lost lines) may be transient.
            raise dg.Failure(
                description=description, allow_retries=bool(errors) and not written
            ) from (errors[0] if errors else None)

    def _normalize_day(
        context: dg.AssetExecutionContext,
        root: str | UPath,
        prefix: UPath,
        day: str,
        files: Sequence[LandingFile],
    ) -> tuple[DayCounts, dict[str, Any]]:
        # Imported here: the normalizer's dependencies are only needed when a day runs.
        from ol_orchestrate.lib.tracking_logs import normalize_files

        day_prefix = prefix / day
        output = lake_path_for(root, key, day)
        quarantine_output = quarantine_path_for(root, key, day, QUARANTINE_FILE_NAME)
        summary = normalize_files(
            [f.path for f in files], output, quarantine_output, source_name=deployment
        )
        quarantined = sum(summary.quarantined_by_reason.values())
        rejected = summary.rejected
        seconds = max(float(summary.seconds), 1e-9)
        counts = DayCounts(
            day=day,
            lines_read=summary.lines_read,
            events_written=summary.events_written,
            rejected=rejected,
            quarantined_by_reason=dict(summary.quarantined_by_reason),
        )
        metadata = {
            "path": dg.MetadataValue.path(str(output)),
            "quarantine_path": dg.MetadataValue.path(str(quarantine_output)),
            "landing_prefix": dg.MetadataValue.path(str(day_prefix)),
            "files": dg.MetadataValue.json([f.name for f in files]),
            FINGERPRINT_METADATA_KEY: landing_fingerprint(files),
            "lines_read": summary.lines_read,
            "events_written": summary.events_written,
            "dagster/row_count": summary.events_written,
            "lines_quarantined": quarantined,
            "lines_rejected": rejected,
            "quarantined_by_reason": dg.MetadataValue.json(
                dict(sorted(summary.quarantined_by_reason.items()))
            ),
            "bytes_in": summary.bytes_in,
            "bytes_out": summary.bytes_out,
            "seconds": float(summary.seconds),
            "events_per_second": float(round(summary.events_written / seconds, 1)),
            "mb_in_per_second": float(round(summary.bytes_in / seconds / 1e6, 3)),
            "event_types": len(summary.event_types_seen),
        }
        return counts, metadata

    @dg.sensor(
        name=f"{name}_sensor",
        asset_selection=[key],
        minimum_interval_seconds=sensor_interval_seconds,
        default_status=sensor_default_status or default_sensor_status(),
        description=(
            f"Requests the days whose raw {deployment} tracking logs appeared under "
            f"`{landing_prefix}` and are not materialized yet, whose last run failed, whose "
            "Parquet file is gone, or whose files changed since: one run per range of "
            f"consecutive days (at most {max_days_per_run})."
        ),
    )
    def tracking_log_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        root = _lake_root()
        prefix = resolve_landing_prefix(root, landing_prefix)
        return evaluate_landing(
            context,
            key,
            prefix,
            partitions_def,
            cursor=context.cursor,
            lake_root=root,
            max_days_per_run=max_days_per_run,
        )

    return TrackingLogAssets(
        asset=tracking_logs,
        check_keys=tuple(spec.key for spec in check_specs),
        sensor=tracking_log_sensor,
    )


@dataclass(frozen=True)
class _DayRequest:
    day: str
    fingerprint: str
    reason: str

    @property
    def first_attempt(self) -> bool:
        return self.reason in (MISSING, FILES_CHANGED)


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make a run materialize the partitions `first`..`last` (inclusive)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def request_partition_keys(
    request: dg.RunRequest, partitions_def: dg.PartitionsDefinition
) -> list[str]:
    """The partition keys a run request targets: its key, or its range tags' keys."""
    if request.partition_key is not None:
        return [request.partition_key]
    first = request.tags.get(ASSET_PARTITION_RANGE_START_TAG)
    last = request.tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if first is None or last is None:
        return []
    return list(partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(first, last)))


def _consecutive_runs(
    requests: Sequence[_DayRequest],
    partitions_def: dg.TimeWindowPartitionsDefinition,
    max_days: int,
) -> list[list[_DayRequest]]:
    """`requests` (in day order) cut into runs of consecutive partitions of the same kind (first
    attempts, retries), each at most `max_days` long: a day that needs no run breaks a range."""
    ranges: list[list[_DayRequest]] = []
    for request in requests:
        current = ranges[-1] if ranges else None
        if (
            current is not None
            and len(current) < max_days
            and current[-1].first_attempt == request.first_attempt
            and partitions_def.get_next_partition_key(current[-1].day) == request.day
        ):
            current.append(request)
        else:
            ranges.append([request])
    return ranges


def _run_request(asset_key: dg.AssetKey, days: Sequence[_DayRequest]) -> dg.RunRequest:
    first, last = days[0].day, days[-1].day
    reasons = ",".join(sorted({d.reason for d in days}))
    name = asset_key.to_user_string()
    if len(days) == 1:
        fingerprint = days[0].fingerprint
    else:
        text = "\n".join(f"{d.day}={d.fingerprint}" for d in days)
        fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
    span = first if len(days) == 1 else f"{first}..{last}"
    # First attempts: one run per range and set of files, ever; retries: one per retry window.
    run_key = (
        f"{name}:{span}:{fingerprint}"
        if days[0].first_attempt
        else healing_run_key(name, span, reasons.replace(",", "+"))
    )
    tags = {"ol/landing_fingerprint": fingerprint, "ol/rerun_reason": reasons}
    if len(days) == 1:
        return dg.RunRequest(
            run_key=run_key, partition_key=first, asset_selection=[asset_key], tags=tags
        )
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=[asset_key],
        tags={**tags, **partition_range_tags(first, last), "ol/days": str(len(days))},
    )


def evaluate_landing(
    context: dg.SensorEvaluationContext,
    asset_key: dg.AssetKey,
    prefix: UPath,
    partitions_def: dg.TimeWindowPartitionsDefinition,
    *,
    cursor: str | None,
    lake_root: str | UPath | None = None,
    max_days_per_run: int = DEFAULT_MAX_DAYS_PER_RUN,
) -> dg.SensorResult:
    """One sensor tick: a run request per range of consecutive days that need (re)processing.

    A day with files is requested when (a) it is not materialized, its last run failed, or its
    Parquet file is gone from the lake (`lake_root`; see `ol_orchestrate.lib.partition_health`),
    or (b) its files' fingerprint differs from the one this sensor last saw for it, or (for a day
    materialized but unknown to the cursor: a new sensor, a reset cursor) from the one its latest
    materialization recorded. A day with a run in progress is not requested again; days outside
    the partitions (before the start, or not yet complete) are skipped. Consecutive days of the
    same kind (first attempts: missing or changed; retries: failed or lost) share one run of at
    most `max_days_per_run` days, so a failed day of a range is retried alone. The cursor maps
    day -> fingerprint.
    """
    seen: dict[str, str] = json.loads(cursor) if cursor else {}
    landing = list_landing_files(prefix)
    days = [day for day in sorted(landing) if partitions_def.has_partition_key(day)]
    outside = [day for day in sorted(landing) if not partitions_def.has_partition_key(day)]
    health = assess_partitions(context.instance, [asset_key], days, partitions_def, lake_root)
    wanted: list[_DayRequest] = []
    next_cursor: dict[str, str] = dict(seen)
    for day in days:
        fingerprint = landing_fingerprint(landing[day])
        next_cursor[day] = fingerprint
        if day in health.in_progress:
            continue
        reason = health.needs_run.get(day)
        if reason is None and day in seen and seen[day] != fingerprint:
            reason = FILES_CHANGED
        elif reason is None and day not in seen:
            recorded = _recorded_fingerprint(context.instance, asset_key, day)
            if recorded is not None and recorded != fingerprint:
                reason = FILES_CHANGED
        if reason is not None:
            wanted.append(_DayRequest(day, fingerprint, reason))
    requests = [
        _run_request(asset_key, run)
        for run in _consecutive_runs(wanted, partitions_def, max_days_per_run)
    ]
    if outside:
        context.log.info(
            f"{len(outside)} day(s) with files outside the partitions, skipped: "
            f"{outside[0]} .. {outside[-1]}"
        )
    skip_reason = None if requests else f"no new, changed, failed or lost days under {prefix}"
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(next_cursor, sort_keys=True, separators=(",", ":")),
        skip_reason=skip_reason,
    )


def _recorded_fingerprint(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, day: str
) -> str | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[day]), limit=1
    ).records
    if not records:
        return None
    materialization = records[0].asset_materialization
    if materialization is None:
        return None
    value = materialization.metadata.get(FINGERPRINT_METADATA_KEY)
    if value is None:
        return None
    return str(getattr(value, "value", value))
