"""Every canvas asset materializes one course partition against the sandbox, with its declared
schema (canvas.tables); content exports are stored once per content; failures fail only that
partition."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import DagsterInstance

from canvas.tables import (
    COURSES_SCHEMA,
    ENROLLMENTS_SCHEMA,
    SUBMISSIONS_SCHEMA,
    TABLES,
    canvas_id,
    course_rows,
    enrollment_rows,
    submission_rows,
)
from ol_orchestrate.lib.quarantine import Quarantine, rows_to_table
from ol_orchestrate.resources.canvas import CanvasApiClientFactory, CanvasClient
from ol_orchestrate.testing import environment, load_definitions
from ol_sandbox.canvas import CANVAS_SANDBOX_TOKEN
from ol_sandbox.server import SandboxServer

COURSE = "10001"
DECLARED = {table.name: table for table in TABLES}

with environment("ci"):
    # The 13 table assets, as the location's defs folder declares them.
    CANVAS_ASSETS = [
        asset
        for asset in load_definitions("canvas.definitions").assets or ()
        if isinstance(asset, dg.AssetsDefinition)
    ]


def materialize(
    instance: DagsterInstance,
    resources: dict[str, Any],
    course: str = COURSE,
    assets: Any = CANVAS_ASSETS,
) -> dg.ExecuteInProcessResult:
    if course not in instance.get_dynamic_partitions("canvas_courses"):
        instance.add_dynamic_partitions("canvas_courses", [course])
    return dg.materialize(
        list(assets), partition_key=course, instance=instance, resources=resources,
        raise_on_error=False,
    )  # fmt: skip


def table(lake: Path, name: str, course: str = COURSE) -> pa.Table:
    return pq.read_table(lake / "raw" / "canvas" / name / f"dt={course}" / "data.parquet")


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    return {
        event.asset_key.path[-1]: {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def test_every_asset_lands_its_table(
    lake: Path, instance: DagsterInstance, resources: dict[str, Any], sandbox: SandboxServer
) -> None:
    result = materialize(instance, resources)
    assert result.success
    course = sandbox.canvas.data.course(COURSE)
    assert course is not None
    expected = {
        "courses": 1,
        "sections": len(course.sections),
        "enrollments": len(course.enrollments),
        "users": len({e.user_id for e in course.enrollments}),
        "assignments": len(course.assignments),
        "assignment_groups": len(course.assignment_groups),
        "submissions": len(course.submissions),
        "modules": len(course.modules),
        "module_items": sum(len(m.items) for m in course.modules),
        "pages": len(course.pages),
        "files": len(course.files),
        "folders": len(course.folders),
        "content_exports": 1,
    }
    meta = metadata(result)
    assert set(expected) == set(DECLARED)
    for name, rows in expected.items():
        landed = table(lake, name)
        assert landed.num_rows == rows, name
        assert landed.schema.equals(DECLARED[name].schema), name
        assert set(landed.column("course_id").to_pylist()) == {COURSE}
        assert all(stamp.endswith("Z") for stamp in landed.column("retrieved_at").to_pylist())
        assert meta[name]["records_quarantined"] == 0
        assert meta[name]["records_written"] == rows

    submissions = table(lake, "submissions").to_pylist()
    by_id = {str(s.id): s for s in course.submissions}
    for row in submissions:
        source = by_id[row["submission_id"]]
        assert (row["late"], row["missing"], row["score"]) == (
            source.late,
            source.missing,
            source.score,
        )
    courses = table(lake, "courses").to_pylist()[0]
    assert courses["term_name"]
    assert courses["account_name"]
    users = table(lake, "users")
    assert all(users.column("user_email").to_pylist())


def test_content_export_is_stored_once_per_content(
    lake: Path, instance: DagsterInstance, resources: dict[str, Any], sandbox: SandboxServer
) -> None:
    exports = [a for a in CANVAS_ASSETS if a.key.path[-1] == "content_exports"]
    first = materialize(instance, resources, assets=exports)
    assert first.success
    row = table(lake, "content_exports").to_pylist()[0]
    stored = Path(row["lake_path"])
    assert (
        stored
        == lake / "raw" / "canvas" / "course_exports" / COURSE / f"{row['content_hash']}.imscc"
    )
    assert stored.stat().st_size == row["size_bytes"]
    assert row["skipped_unchanged"] is False
    assert row["workflow_state"] == "exported"

    second = materialize(instance, resources, assets=exports)
    again = table(lake, "content_exports").to_pylist()[0]
    assert again["export_id"] != row["export_id"]
    assert again["content_hash"] == row["content_hash"]
    assert again["skipped_unchanged"] is True
    assert metadata(second)["content_exports"]["skipped_unchanged"] is True
    assert sorted(p.name for p in stored.parent.iterdir()) == [stored.name]

    sandbox.canvas.content_revisions[COURSE] = 1  # the course was edited
    assert materialize(instance, resources, assets=exports).success
    edited = table(lake, "content_exports").to_pylist()[0]
    assert edited["skipped_unchanged"] is False
    assert len(list(stored.parent.glob("*.imscc"))) == 2
    assert not list(stored.parent.glob(".*.tmp"))


def test_failed_export_fails_the_partition_with_its_state(
    lake: Path, instance: DagsterInstance, resources: dict[str, Any], sandbox: SandboxServer
) -> None:
    sandbox.canvas.failed_export_courses.add("10002")
    result = materialize(instance, resources, course="10002")
    assert not result.success
    failures = {e.step_key: e.event_specific_data for e in result.get_step_failure_events()}
    assert list(failures) == ["canvas__raw__content_exports"]
    message = str(failures["canvas__raw__content_exports"].error)  # type: ignore[union-attr]
    assert "workflow_state 'failed'" in message
    assert table(lake, "submissions", "10002").num_rows > 0  # the other tables still landed
    assert not (lake / "raw" / "canvas" / "course_exports" / "10002").exists()


def test_export_timeout_fails_with_the_last_state(
    lake: Path,
    instance: DagsterInstance,
    sandbox: SandboxServer,
    resources: dict[str, Any],
    canvas_factory: Callable[..., CanvasApiClientFactory],
) -> None:
    sandbox.canvas.export_polls = 10_000
    exports = [a for a in CANVAS_ASSETS if a.key.path[-1] == "content_exports"]
    quick = {**resources, "canvas_api": canvas_factory(export_timeout_seconds=0.05)}
    result = materialize(instance, quick, assets=exports)
    assert not result.success
    message = str(result.get_step_failure_events()[0].event_specific_data.error)  # type: ignore[union-attr]
    assert "did not finish" in message
    assert "'exporting'" in message


def test_permission_denied_course_fails_without_retrying(
    lake: Path, instance: DagsterInstance, resources: dict[str, Any], sandbox: SandboxServer
) -> None:
    sandbox.canvas.forbidden_courses.add("10003")
    users = [a for a in CANVAS_ASSETS if a.key.path[-1] == "users"]
    result = materialize(instance, resources, course="10003", assets=users)
    assert not result.success
    message = str(result.get_step_failure_events()[0].event_specific_data.error)  # type: ignore[union-attr]
    assert "CanvasPermissionError" in message
    assert "/api/v1/courses/10003/users" in message
    assert len([r for r in sandbox.requests if r.path.endswith("/10003/users")]) == 1


def test_throttling_is_survived(
    lake: Path, instance: DagsterInstance, resources: dict[str, Any], sandbox: SandboxServer
) -> None:
    sandbox.faults.inject("/students/submissions", "canvas_throttle", count=2)
    sandbox.faults.inject("/enrollments", "rate_limit", count=1, retry_after=0)
    assert materialize(instance, resources).success
    course = sandbox.canvas.data.course(COURSE)
    assert course is not None
    assert table(lake, "submissions").num_rows == len(course.submissions)


def test_string_ids_give_the_same_rows(sandbox: SandboxServer) -> None:
    stamp = "2026-01-20T06:00:00Z"
    with (
        CanvasClient(sandbox.canvas_url, CANVAS_SANDBOX_TOKEN) as ints,
        CanvasClient(sandbox.canvas_url, CANVAS_SANDBOX_TOKEN, string_ids=True) as strings,
    ):
        for build, fetch in (
            (enrollment_rows, lambda c: list(c.iter_enrollments(COURSE))),
            (submission_rows, lambda c: list(c.iter_submissions(COURSE))),
        ):
            assert build(COURSE, fetch(ints), stamp) == build(COURSE, fetch(strings), stamp)
        assert course_rows(COURSE, ints.get_course(COURSE), stamp) == course_rows(
            COURSE, strings.get_course(COURSE), stamp
        )


def test_malformed_records_are_quarantined_not_dropped() -> None:
    stamp = "2026-01-20T06:00:00Z"
    rows = submission_rows(
        COURSE,
        [
            {"id": 1, "assignment_id": 2, "user_id": 3, "score": "9.5", "late": "true"},
            {"id": 4, "assignment_id": 2, "user_id": 5, "score": "n/a"},
            {"id": 6, "assignment_id": None, "user_id": 5},
        ],
        stamp,
    )
    quarantine = Quarantine()
    landed = rows_to_table(rows, SUBMISSIONS_SCHEMA, ["assignment_id", "user_id"], quarantine)
    assert landed.to_pylist()[0]["score"] == 9.5
    assert landed.to_pylist()[0]["late"] is True
    assert landed.num_rows == 1
    reasons = {item["record"]["submission_id"]: item["reason"] for item in quarantine.rejected}
    assert reasons["6"] == "missing assignment_id"
    assert reasons["4"].startswith("does not fit schema")
    assert quarantine.accepted == 1
    assert canvas_id(12.0) == "12"
    assert canvas_id(" 77 ") == "77"
    assert rows_to_table([], ENROLLMENTS_SCHEMA, [], Quarantine()).schema == ENROLLMENTS_SCHEMA
    assert COURSES_SCHEMA.names[0] == "course_id"
