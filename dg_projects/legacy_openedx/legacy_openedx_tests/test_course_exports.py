"""The day's OLX course exports from Studio (the sandbox's): every course started, polled and
downloaded through the shared ApiClient (throttling, 5xx, cut bodies retried), parsed with the
OLX parser and landed; a failed or timed-out export leaves nothing and the next run completes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest

from legacy_openedx.components import LEGACY_DAILY
from legacy_openedx.course_exports import (
    build_course_exports_asset,
    exports_folder,
    tarball_name,
)
from legacy_openedx.extraction import build_lms_tables_asset
from ol_orchestrate.lib.olx import parse_olx
from ol_orchestrate.testing import environment, lake_temp_files, persistent_instance
from ol_sandbox.data import CourseRun, Institution
from ol_sandbox.edxapp import edxapp_deployment
from ol_sandbox.server import SandboxServer
from ol_sandbox.studio import course_export

DAY = "2026-01-20"
PARTITIONS = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")
CHECK = "0b5e1e43-1111-4a7b-9d1e-2b7c0c5e9f10"


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "lake"
    with environment("ci", {"OL_LAKE_ROOT": str(root)}):
        yield root


def courses(institution: Institution) -> list[CourseRun]:
    return sorted(
        edxapp_deployment(institution, "mitx").course_runs, key=lambda course: course.course_id
    )


def run(
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    *,
    with_extraction: bool = False,
) -> dg.ExecuteInProcessResult:
    assets = [build_course_exports_asset("mitx", PARTITIONS, LEGACY_DAILY, retry_policy=None)]
    if with_extraction:
        assets.insert(0, build_lms_tables_asset("mitx", PARTITIONS, LEGACY_DAILY))
    return dg.materialize(
        assets,
        instance=instance,
        partition_key=DAY,
        resources=resources,
        raise_on_error=False,
    )


def landed_tarballs(lake: Path) -> list[str]:
    folder = Path(exports_folder(str(lake), "mitx", DAY).path)
    return sorted(path.name for path in folder.glob("*.tar.gz")) if folder.exists() else []


def test_the_sandbox_export_parses_into_the_courses_blocks(institution: Institution) -> None:
    for course in courses(institution):
        parsed = parse_olx(course_export(course))
        assert parsed.course_key == course.course_id
        assert parsed.problems == ()
        assert parsed.draft_files == 0
        root, *blocks = parsed.blocks
        assert (root.block_type, root.display_name) == ("course", course.name)
        assert root.usage_key == course.blocks[0].usage_key  # Open edX's `...+block@course`
        assert parsed.settings["start"] == course.start
        # Every other block, depth-first, is the course's own: key, type, name and parent.
        expected = course.blocks[1:]
        assert [b.usage_key for b in blocks] == [b.usage_key for b in expected]
        assert [b.block_type for b in blocks] == [b.block_type for b in expected]
        assert [b.display_name for b in blocks] == [b.display_name or None for b in expected]
        parents = {child: b.usage_key for b in course.blocks[1:] for child in b.children}
        for block in blocks:
            assert block.parent_usage_key == parents.get(block.usage_key, root.usage_key)
        graded = {
            b.usage_key: (b.graded, b.format) for b in expected if b.block_type == "sequential"
        }
        for block in blocks:
            if block.block_type == "sequential":
                assert (block.graded, block.format) == graded[block.usage_key]


def test_every_course_is_exported_through_retries_parsed_and_landed(
    lake: Path,
    institution: Institution,
    sandbox: SandboxServer,
    mitx_resources: Callable[..., dict[str, Any]],
) -> None:
    expected = courses(institution)
    # Throttled once when starting, a gateway error on a poll, a download cut short.
    sandbox.faults.inject("/api/courses/v0/export/", "rate_limit", method="POST", retry_after=0)
    sandbox.faults.inject("task_id=", "server_error", status=503)
    sandbox.faults.inject(".tar.gz", "truncate")
    with persistent_instance() as instance:
        result = run(instance, mitx_resources(), with_extraction=True)
    assert result.success
    assert landed_tarballs(lake) == sorted(tarball_name(c.course_id) for c in expected)
    folder = Path(exports_folder(str(lake), "mitx", DAY).path)
    for course in expected:
        assert (folder / tarball_name(course.course_id)).read_bytes() == course_export(course)
    rows = pq.read_table(folder / "data.parquet").to_pylist()
    assert [row["course_id"] for row in rows] == [c.course_id for c in expected]
    for row, course in zip(rows, expected, strict=True):
        assert row["block_count"] == len(course.blocks)
        assert row["problem_count"] == sum(b.block_type == "problem" for b in course.blocks)
        assert row["course_title"] == course.name
        assert row["deployment"] == "mitx"
    faults = {record.fault for record in sandbox.requests if record.fault}
    assert faults == {"rate_limit", "server_error", "truncate"}
    assert sandbox.studio.exports_started == len(expected)
    assert lake_temp_files(lake) == []


def test_a_failed_export_leaves_nothing_and_the_next_run_completes(
    lake: Path,
    institution: Institution,
    sandbox: SandboxServer,
    mitx_resources: Callable[..., dict[str, Any]],
) -> None:
    expected = courses(institution)
    with persistent_instance() as instance:
        assert run(instance, mitx_resources(), with_extraction=True).success
        folder = Path(exports_folder(str(lake), "mitx", DAY).path)
        for path in folder.iterdir():
            path.unlink()  # start the day over: only the course list stays
        sandbox.studio.fail_exports(expected[-1].course_id)
        sandbox.healthchecks.clear()
        failed = run(instance, mitx_resources())
        assert not failed.success
        assert landed_tarballs(lake) == []  # the courses that did export were not landed
        assert not (folder / "data.parquet").exists()
        assert lake_temp_files(lake) == []
        (ping,) = sandbox.healthchecks.pings_for(CHECK)
        assert ping.kind == "fail"
        assert f"Studio export of {expected[-1].course_id}" in ping.body
        assert "'Failed'" in ping.body

        retried = run(instance, mitx_resources())
    assert retried.success
    assert landed_tarballs(lake) == sorted(tarball_name(c.course_id) for c in expected)


def test_a_stalled_export_times_out_clean(
    lake: Path,
    institution: Institution,
    sandbox: SandboxServer,
    mitx_resources: Callable[..., dict[str, Any]],
) -> None:
    stalled = courses(institution)[0].course_id
    with persistent_instance() as instance:
        sandbox.studio.stalled_courses.add(stalled)
        timed_out = run(
            instance, mitx_resources(studio_export_timeout_seconds=0.3), with_extraction=True
        )
        assert not timed_out.success
        assert landed_tarballs(lake) == []
        (ping,) = [p for p in sandbox.healthchecks.pings_for(CHECK) if p.kind == "fail"]
        assert f"Studio export of {stalled}" in ping.body
        assert "did not finish within 0.3s" in ping.body
        assert "'In Progress'" in ping.body

        sandbox.studio.stalled_courses.clear()
        assert run(instance, mitx_resources()).success
    assert len(landed_tarballs(lake)) == len(courses(institution))
