"""The archive assets and sensor against the sandbox's delivery bucket: every archive becomes a
partition and lands; a re-delivered archive runs again and rewrites only what changed; a missing
or truncated archive fails clean, leaving nothing partial, and runs again on the next tick."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from edxorg.defs.archives import ALL_KEYS, ARCHIVES, MEMBERS_KEY, TABLE_KEYS
from ol_sandbox.edxorg import ARCHIVE_PREFIX, EdxorgData

from .conftest import INSTITUTION, Location

SENSOR = "edxorg_archive_sensor"
DATES = [day.isoformat() for day in EdxorgData.for_institution(INSTITUTION).archive_dates]


def archive_key(day: str) -> str:
    return f"{ARCHIVE_PREFIX}mitx-{day}.tar.gz"


def partition_files(lake: Path, day: str) -> list[Path]:
    return sorted(
        path
        for folder in ("raw", "quarantine")
        for path in (lake / folder / "edxorg").glob(f"*/dt={day}/*")
    )


def check_results(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    return {
        (event.asset_key.path[-1], event.check_name): event.passed
        for event in result.get_asset_check_evaluations()
    }


def test_every_archive_becomes_a_partition_and_lands(location: Location) -> None:
    tick = location.tick(SENSOR)
    assert [r.partition_key for r in tick.run_requests] == DATES
    assert location.instance.get_dynamic_partitions(ARCHIVES.name) == DATES
    for request in tick.run_requests:
        result = location.run(request)
        assert result.success
        assert all(check_results(result).values()), check_results(result)
    lake = location.lake
    members = pq.read_table(
        lake / "raw" / "edxorg" / "archive_members" / f"dt={DATES[0]}" / "data.parquet"
    )
    statuses = set(members.column("status").to_pylist())
    assert statuses == {"written", "undeclared", "unknown"}
    enrollment_files = sorted(
        (lake / "raw" / "edxorg" / "student_courseenrollment" / f"dt={DATES[0]}").iterdir()
    )
    assert "MITx-6.002x-2012_Fall-prod.parquet" in [p.name for p in enrollment_files]
    blocks = pq.read_table(
        lake
        / "raw"
        / "edxorg"
        / "course_blocks"
        / f"dt={DATES[0]}"
        / "MITx-6.002x-2012_Fall-prod.parquet"
    )
    assert blocks.column("block_id")[0].as_py() == "i4x://MITx/6.002x/course/2012_Fall"
    # accounted for: rows read == written + quarantined, and some were quarantined
    materializations = {
        event.asset_key: event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    enrollments = materializations[TABLE_KEYS["student_courseenrollment"]]
    assert enrollments["rows_read"].value == (
        enrollments["rows_written"].value + enrollments["rows_quarantined"].value
    )
    assert materializations[MEMBERS_KEY]["archive_etag"].value
    # nothing new: the next tick requests nothing
    assert location.tick(SENSOR).run_requests == []


def _redeliver_with_a_changed_member(location: Location, day: str) -> str:
    """The same archive delivered again with one course's enrollments changed; its member name."""
    bucket = location.sandbox.delivery_bucket
    assert bucket is not None
    original = bucket.get(archive_key(day))
    with tarfile.open(fileobj=io.BytesIO(original), mode="r:gz") as archive:
        files = {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}  # type: ignore[union-attr]
    changed = next(
        name
        for name in files
        if name.endswith("MITx-6.002x-2012_Fall-student_courseenrollment-prod-analytics.sql")
    )
    files[changed] = files[changed].replace(b"\taudit\n", b"\thonor\n")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    bucket.put(archive_key(day), gzip.compress(raw.getvalue(), mtime=0))
    return changed


def test_a_redelivered_archive_runs_again_and_rewrites_only_what_changed(
    location: Location,
) -> None:
    for request in location.tick(SENSOR).run_requests:
        assert location.run(request).success
    day = DATES[0]
    folder = location.lake / "raw" / "edxorg"
    enrollments = (
        folder / "student_courseenrollment" / f"dt={day}" / "MITx-6.002x-2012_Fall-prod.parquet"
    )
    users = folder / "auth_user" / f"dt={day}" / "MITx-6.002x-2012_Fall-prod.parquet"
    before = {path: path.stat().st_mtime_ns for path in (enrollments, users)}

    _redeliver_with_a_changed_member(location, day)
    tick = location.tick(SENSOR)
    assert [(r.partition_key, r.tags["ol/rerun_reason"]) for r in tick.run_requests] == [
        (day, "re-delivered")
    ]
    result = location.run(tick.run_requests[0])
    assert result.success
    assert users.stat().st_mtime_ns == before[users]  # unchanged: not rewritten
    assert enrollments.stat().st_mtime_ns != before[enrollments]
    modes = pq.read_table(enrollments).column("mode").to_pylist()
    assert "audit" not in modes
    members = pq.read_table(folder / "archive_members" / f"dt={day}" / "data.parquet").to_pylist()
    by_table = {(m["table_name"], m["archive_course_id"]): m["status"] for m in members}
    assert by_table[("student_courseenrollment", "MITx/6.002x/2012_Fall")] == "written"
    assert by_table[("auth_user", "MITx/6.002x/2012_Fall")] == "unchanged"
    assert location.tick(SENSOR).run_requests == []


def test_a_missing_archive_fails_clean_and_runs_again(location: Location) -> None:
    tick = location.tick(SENSOR)
    bucket = location.sandbox.delivery_bucket
    assert bucket is not None
    body = bucket.get(archive_key(DATES[0]))
    bucket.delete(archive_key(DATES[0]))  # gone between the listing and the run
    result = location.run(tick.run_requests[0])
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None
    assert "is not in the delivery bucket" in failure.message
    assert partition_files(location.lake, DATES[0]) == []
    bucket.put(archive_key(DATES[0]), body)
    again = location.tick(SENSOR)
    assert [(r.partition_key, r.tags["ol/rerun_reason"]) for r in again.run_requests] == [
        (DATES[0], "failed"),
        (DATES[1], "missing"),  # never run in this test
    ]
    assert location.run(again.run_requests[0]).success


def test_a_truncated_archive_fails_clean_and_nothing_is_partial(location: Location) -> None:
    bucket = location.sandbox.delivery_bucket
    assert bucket is not None
    bucket.truncate(archive_key(DATES[0]))
    tick = location.tick(SENSOR)
    result = location.run(tick.run_requests[0])
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None
    assert "truncated or corrupt" in failure.message
    assert partition_files(location.lake, DATES[0]) == []
    assert not any(path.name.endswith(".tmp") for path in location.lake.rglob("*"))
    status = location.instance.get_status_by_partition(MEMBERS_KEY, [DATES[0]], ARCHIVES)
    assert status == {DATES[0]: dg.AssetPartitionStatus.FAILED}
    # The complete archive delivered again (a new ETag): it runs and lands.
    bucket.reset()
    again = location.tick(SENSOR)
    assert DATES[0] in [r.partition_key for r in again.run_requests]
    assert location.run(next(r for r in again.run_requests if r.partition_key == DATES[0])).success
    assert partition_files(location.lake, DATES[0])


def test_a_lost_member_list_runs_the_archive_again(location: Location) -> None:
    for request in location.tick(SENSOR).run_requests:
        assert location.run(request).success
    manifest = (
        location.lake / "raw" / "edxorg" / "archive_members" / f"dt={DATES[1]}" / "data.parquet"
    )
    manifest.unlink()
    tick = location.tick(SENSOR)
    assert [(r.partition_key, r.tags["ol/rerun_reason"]) for r in tick.run_requests] == [
        (DATES[1], "output lost")
    ]
    assert sorted(str(k) for k in tick.run_requests[0].asset_selection or []) == sorted(
        str(k) for k in ALL_KEYS
    )
