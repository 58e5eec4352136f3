"""The daily tracking-log asset over the sandbox's synthetic days: counts, idempotence, the sensor
and its ranges of days, the checks, a missing day and a failed day inside a range."""

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from ol_orchestrate.lib import tracking_logs as normalizer
from ol_orchestrate.lib.tracking_log_assets import (
    ACCOUNTING_CHECK_NAME,
    QUARANTINE_RATE_CHECK_NAME,
    TrackingLogAssets,
    accounting_check_result,
    partition_range_tags,
    quarantine_rate_check_result,
    request_partition_keys,
)
from ol_orchestrate.testing import environment, persistent_instance
from ol_sandbox.data import Institution
from ol_sandbox.tracking_logs import (
    TrackingLogDay,
    landing_dir,
    tracking_log_days,
    write_tracking_logs,
)
from openedx.defs.tracking_logs import build_tracking_logs, tracking_log_partitions

DEPLOYMENT = "mitxonline"
INSTITUTION = Institution.generate(seed=42, courses=2, learners=15, days=4)
DAYS: dict[str, TrackingLogDay] = {
    d.day.isoformat(): d for d in tracking_log_days(INSTITUTION, DEPLOYMENT)
}
FIRST_DAY = min(DAYS)


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Path]:
    write_tracking_logs(INSTITUTION, str(tmp_path))
    with environment("ci", {"OL_LAKE_ROOT": str(tmp_path)}):
        yield tmp_path


@pytest.fixture
def logs(lake: Path) -> TrackingLogAssets:
    return build_tracking_logs(DEPLOYMENT)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with persistent_instance() as test_instance:
        yield test_instance


def _materialize(
    logs: TrackingLogAssets, day: str, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize([logs.asset], partition_key=day, instance=instance, raise_on_error=False)


def _run(
    logs: TrackingLogAssets, request: dg.RunRequest, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """Execute a sensor's run request (one day, or a range of days through its tags)."""
    return dg.materialize(
        [logs.asset],
        partition_key=request.partition_key,
        tags=dict(request.tags),
        instance=instance,
        raise_on_error=False,
    )


def _days(requests: list[dg.RunRequest] | None) -> list[list[str]]:
    """The days of each run request, in request order."""
    partitions = tracking_log_partitions()
    return [request_partition_keys(r, partitions) for r in requests or []]


def _partition(lake: Path, day: str) -> Path:
    return lake / "raw" / "openedx" / f"{DEPLOYMENT}_tracking_logs" / f"dt={day}" / "data.parquet"


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = result.get_asset_materialization_events()
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def _tick(
    logs: TrackingLogAssets, instance: dg.DagsterInstance, cursor: str | None = None
) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = logs.sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_a_day_materializes_with_the_right_counts(lake: Path, logs: TrackingLogAssets) -> None:
    result = _materialize(logs, FIRST_DAY)
    assert result.success
    day = DAYS[FIRST_DAY]
    table = pq.read_table(_partition(lake, FIRST_DAY))
    metadata = _metadata(result)

    assert metadata["lines_read"] == day.lines
    # every well-formed sandbox event (syslog-prefixed ones included) is written, nothing else
    assert metadata["events_written"] == table.num_rows == day.events
    quarantined = metadata["quarantined_by_reason"]
    assert sum(quarantined.values()) == metadata["lines_quarantined"]
    assert metadata["lines_read"] == metadata["events_written"] + metadata["lines_quarantined"]
    assert metadata["lines_quarantined"] == day.lines - day.events
    assert quarantined.get("blank", 0) == day.malformed.get("blank", 0)
    assert quarantined.get("comment", 0) == day.malformed.get("comment", 0)
    assert metadata["bytes_in"] == sum(
        (landing_dir(lake, DEPLOYMENT) / FIRST_DAY / name).stat().st_size for name in day.files
    )
    assert metadata["bytes_out"] > 0
    assert metadata["events_per_second"] > 0
    assert metadata["files"] == sorted(day.files)
    assert Path(metadata["quarantine_path"]).is_file()
    assert "quarantine/openedx/mitxonline_tracking_logs/dt=" in metadata["quarantine_path"]

    assert set(table.column("source_name").to_pylist()) == {DEPLOYMENT}
    assert len(set(table.column("event_id").to_pylist())) == table.num_rows
    assert len(set(table.column("event_type").to_pylist())) >= 20

    checks = _checks(result)
    assert checks[ACCOUNTING_CHECK_NAME].passed
    assert checks[QUARANTINE_RATE_CHECK_NAME].passed


def test_rerun_replaces_the_day_exactly(lake: Path, logs: TrackingLogAssets) -> None:
    assert _materialize(logs, FIRST_DAY).success
    first = pq.read_table(_partition(lake, FIRST_DAY))
    assert _materialize(logs, FIRST_DAY).success
    second = pq.read_table(_partition(lake, FIRST_DAY))
    assert second.equals(first)
    folder = _partition(lake, FIRST_DAY).parent
    assert [p.name for p in folder.iterdir()] == ["data.parquet"]
    assert not list(lake.rglob("*.tmp"))


def test_first_tick_requests_every_day_as_one_range_and_the_run_records_each_day(
    lake: Path, logs: TrackingLogAssets, instance: dg.DagsterInstance
) -> None:
    tick = _tick(logs, instance)
    (request,) = tick.run_requests or []
    assert _days(tick.run_requests) == [sorted(DAYS)]
    assert request.asset_selection == [logs.key]
    assert request.partition_key is None  # a range, through the run's range tags

    result = _run(logs, request, instance)
    assert result.success
    assert instance.get_materialized_partitions(logs.key) == set(DAYS)
    for day in DAYS:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=logs.key, asset_partitions=[day]), limit=10
        ).records
        assert len(records) == 1, day
        # each day carries its own counts, not the range's
        metadata = records[0].asset_materialization.metadata  # type: ignore[union-attr]
        assert metadata["events_written"].value == DAYS[day].events
        assert metadata["lines_read"].value == DAYS[day].lines
        assert pq.read_table(_partition(lake, day)).num_rows == DAYS[day].events
    checks = _checks(result)
    assert checks[ACCOUNTING_CHECK_NAME].passed
    assert checks[ACCOUNTING_CHECK_NAME].metadata["days"].value == len(DAYS)
    assert checks[ACCOUNTING_CHECK_NAME].metadata["lines_read"].value == sum(
        d.lines for d in DAYS.values()
    )
    assert checks[QUARANTINE_RATE_CHECK_NAME].passed

    # nothing new: the next tick requests nothing, with or without the cursor
    assert not _tick(logs, instance, tick.cursor).run_requests
    assert not _tick(logs, instance).run_requests


def test_a_range_equals_its_days_run_one_by_one(
    lake: Path, logs: TrackingLogAssets, tmp_path_factory: pytest.TempPathFactory
) -> None:
    days = sorted(DAYS)
    assert dg.materialize([logs.asset], tags=partition_range_tags(days[0], days[-1])).success
    ranged = {day: pq.read_table(_partition(lake, day)) for day in days}
    for day in days:
        assert _materialize(logs, day).success
        assert pq.read_table(_partition(lake, day)).equals(ranged[day]), day


def test_ranges_break_at_days_without_a_run_and_at_the_longest_range(
    lake: Path, instance: dg.DagsterInstance
) -> None:
    days = sorted(DAYS)
    two_day_runs = build_tracking_logs(DEPLOYMENT, max_days_per_run=2)
    assert _days(_tick(two_day_runs, instance).run_requests) == [days[:2], days[2:]]
    assert _materialize(two_day_runs, days[1], instance).success  # a day in the middle: done
    assert _days(_tick(two_day_runs, instance).run_requests) == [[days[0]], days[2:]]


def test_a_failed_day_in_a_range_keeps_the_others_and_only_it_runs_again(
    lake: Path,
    logs: TrackingLogAssets,
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    days = sorted(DAYS)
    bad = days[1]
    real = normalizer.normalize_files

    def failing_on_one_day(paths, *args, **kwargs):  # type: ignore[no-untyped-def]
        if any(f"/{bad}/" in str(path) for path in paths):
            raise OSError(f"unreadable file of {bad}")
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(normalizer, "normalize_files", failing_on_one_day)
    tick = _tick(logs, instance)
    (request,) = tick.run_requests or []
    result = _run(logs, request, instance)

    assert not result.success
    [failure] = result.get_step_failure_events()
    message = str(failure.step_failure_data.error)
    assert f"1 of {len(days)} day(s) failed" in message
    assert f"{bad}: OSError: unreadable file of {bad}" in message
    # the good days are written and recorded with their own counts; the bad one is failed
    assert instance.get_materialized_partitions(logs.key) == set(days) - {bad}
    for day in set(days) - {bad}:
        assert pq.read_table(_partition(lake, day)).num_rows == DAYS[day].events
    assert not _partition(lake, bad).exists()
    status = instance.get_status_by_partition(logs.key, days, tracking_log_partitions())
    assert status is not None
    assert status[bad] == dg.AssetPartitionStatus.FAILED
    assert {status[d] for d in days if d != bad} == {dg.AssetPartitionStatus.MATERIALIZED}

    # the next tick re-requests the failed day alone, as a retry
    monkeypatch.setattr(normalizer, "normalize_files", real)
    retry = _tick(logs, instance, tick.cursor)
    (request,) = retry.run_requests or []
    assert (request.partition_key, request.tags["ol/rerun_reason"]) == (bad, "failed")
    assert _run(logs, request, instance).success
    assert instance.get_materialized_partitions(logs.key) == set(days)
    assert not _tick(logs, instance, retry.cursor).run_requests


def test_sensor_requests_only_new_or_changed_days(
    lake: Path, logs: TrackingLogAssets, instance: dg.DagsterInstance, tmp_path_factory
) -> None:
    landing = landing_dir(lake, DEPLOYMENT)
    held_back = sorted(DAYS)[2:]
    parking = tmp_path_factory.mktemp("parking")
    for day in held_back:
        shutil.move(landing / day, parking / day)

    tick = _tick(logs, instance)
    assert _days(tick.run_requests) == [sorted(DAYS)[:2]]
    for request in tick.run_requests or []:
        assert _run(logs, request, instance).success

    for day in held_back:
        shutil.move(parking / day, landing / day)
    tick = _tick(logs, instance, tick.cursor)
    assert _days(tick.run_requests) == [held_back]
    for request in tick.run_requests or []:
        assert _run(logs, request, instance).success

    # a day whose files are replaced is requested again; the others are not
    changed = sorted(DAYS)[1]
    target = next((landing / changed).glob("*.gz"))
    stat = target.stat()  # same bytes, new modification time: a re-delivered file
    os.utime(target, (stat.st_atime, stat.st_mtime + 60))
    tick = _tick(logs, instance, tick.cursor)
    assert [r.partition_key for r in tick.run_requests or []] == [changed]


def test_a_failed_day_is_requested_again_after_the_cursor_moved_on(
    lake: Path, logs: TrackingLogAssets, instance: dg.DagsterInstance
) -> None:
    """A day whose run failed is not forgotten because the sensor already saw its files."""
    tick = _tick(logs, instance)
    for request in tick.run_requests or []:
        assert _run(logs, request, instance).success
    day = sorted(DAYS)[1]
    # The day's files change (a re-delivery) and its run fails (here: the files are unreadable
    # to the run, which fails the step).
    target = next((landing_dir(lake, DEPLOYMENT) / day).glob("*.gz"))
    stat = target.stat()
    os.utime(target, (stat.st_atime, stat.st_mtime + 60))
    tick = _tick(logs, instance, tick.cursor)
    assert [r.partition_key for r in tick.run_requests or []] == [day]
    saved = target.read_bytes()
    target.unlink()
    (target.parent / "unreadable.gz").mkdir()  # a directory where a file is expected
    failed = dg.materialize(
        [logs.asset], partition_key=day, instance=instance, raise_on_error=False
    )
    assert not failed.success
    (target.parent / "unreadable.gz").rmdir()
    target.write_bytes(saved)
    os.utime(target, (stat.st_atime, stat.st_mtime + 60))

    retry = _tick(logs, instance, tick.cursor)
    (request,) = retry.run_requests or []
    assert request.partition_key == day
    assert request.tags["ol/rerun_reason"] == "failed"
    assert _materialize(logs, day, instance).success
    assert not _tick(logs, instance, retry.cursor).run_requests


def test_a_deleted_day_is_restored_by_the_next_run(
    lake: Path, logs: TrackingLogAssets, instance: dg.DagsterInstance
) -> None:
    tick = _tick(logs, instance)
    for request in tick.run_requests or []:
        assert _run(logs, request, instance).success
    day = sorted(DAYS)[2]
    _partition(lake, day).unlink()

    (request,) = _tick(logs, instance, tick.cursor).run_requests or []
    assert (request.partition_key, request.tags["ol/rerun_reason"]) == (day, "output lost")
    assert _materialize(logs, day, instance).success
    assert pq.read_table(_partition(lake, day)).num_rows == DAYS[day].events


def test_sensor_skips_days_outside_the_partitions(
    lake: Path, logs: TrackingLogAssets, instance: dg.DagsterInstance
) -> None:
    landing = landing_dir(lake, DEPLOYMENT)
    for folder in ("2020-01-01", "2999-01-01", "not-a-day"):
        (landing / folder).mkdir()
        (landing / folder / "tracking.log-1.gz").write_bytes(b"")
    assert _days(_tick(logs, instance).run_requests) == [sorted(DAYS)]


def test_check_results_fail_on_bad_accounting_or_a_high_quarantine_rate() -> None:
    assert accounting_check_result(10, 7, {"blank": 3}).passed
    bad = accounting_check_result(10, 7, {"blank": 2})
    assert not bad.passed
    assert bad.metadata["lines_unaccounted"].value == 1
    assert quarantine_rate_check_result(1000, 10, 0.01).passed
    assert not quarantine_rate_check_result(1000, 11, 0.01).passed
    assert quarantine_rate_check_result(0, 0, 0.0).passed


def test_the_asset_fails_its_accounting_check_when_lines_go_missing(
    lake: Path, logs: TrackingLogAssets, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = normalizer.normalize_files

    def losing_a_line(*args, **kwargs):  # type: ignore[no-untyped-def]
        summary = real(*args, **kwargs)
        return dataclasses.replace(summary, events_written=summary.events_written - 1)

    monkeypatch.setattr(normalizer, "normalize_files", losing_a_line)
    result = _materialize(logs, FIRST_DAY)
    checks = _checks(result)
    assert not checks[ACCOUNTING_CHECK_NAME].passed
    # the accounting check blocks: the step fails rather than passing a lossy partition on
    assert not result.success


def test_the_quarantine_rate_check_fails_above_its_threshold(lake: Path) -> None:
    day = sorted(DAYS)[0]
    folder = landing_dir(lake, DEPLOYMENT) / day
    (folder / "tracking.log-extra.log").write_text('{"event_type": "x", "time": "nope"\n' * 50)
    strict = build_tracking_logs(DEPLOYMENT, max_quarantine_rate=0.001)
    result = _materialize(strict, day)
    assert result.success  # the rate check reports; it does not block the partition
    checks = _checks(result)
    assert checks[ACCOUNTING_CHECK_NAME].passed
    assert not checks[QUARANTINE_RATE_CHECK_NAME].passed


def test_a_day_without_files_fails_naming_the_prefix(lake: Path, logs: TrackingLogAssets) -> None:
    result = _materialize(logs, "2026-02-20")
    assert not result.success
    [failure] = result.get_step_failure_events()
    message = str(failure.step_failure_data.error)
    assert "no tracking-log files for 2026-02-20" in message
    assert str(landing_dir(lake, DEPLOYMENT) / "2026-02-20") in message
    assert not _partition(lake, "2026-02-20").exists()
