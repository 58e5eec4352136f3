"""The course registry and its sensor: partitions follow the registry, runs follow new courses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster import DagsterInstance

from canvas.assets import CANVAS_ASSET_KEYS
from canvas.registry import (
    AccountFilter,
    CourseRegistry,
    CourseRegistryError,
    load_registry,
    sort_course_ids,
)
from canvas.schedules import canvas_refresh_schedule
from canvas.sensors import canvas_course_registry_sensor
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.canvas import CanvasApiResource, CanvasClient
from ol_orchestrate.testing import environment, persistent_instance
from ol_sandbox.canvas import CANVAS_SANDBOX_TOKEN, FIRST_COURSE_ID
from ol_sandbox.data import SIZES
from ol_sandbox.server import SandboxServer

PARTITIONS = "canvas_courses"
# The tests run the "small" sandbox: its courses are 10001 .. 10004.
ALL_COURSES = [str(FIRST_COURSE_ID + i) for i in range(SIZES["small"]["courses"])]


@pytest.fixture
def registry_file(tmp_path: Path, lake: Path) -> Iterator[Path]:
    path = tmp_path / "registry.yaml"
    path.write_text("ci:\n  courses: []\n")
    with environment("ci", {"CANVAS_COURSE_REGISTRY": str(path)}):
        yield path


def tick(instance: DagsterInstance, resource: CanvasApiResource) -> dg.SensorResult:
    """One sensor tick, applying its partition requests like the daemon (and ol-platform) do."""
    with dg.build_sensor_context(instance=instance, resources={"canvas_api": resource}) as context:
        result = canvas_course_registry_sensor(context)
    assert isinstance(result, dg.SensorResult)
    for request in result.dynamic_partitions_requests or ():
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result


def requested(result: dg.SensorResult) -> dict[str, set[dg.AssetKey]]:
    runs: dict[str, set[dg.AssetKey]] = {}
    for run in result.run_requests or ():
        assert run.partition_key is not None
        runs[run.partition_key] = set(run.asset_selection or ())
    return runs


def test_first_tick_registers_every_course_and_runs_all_assets(
    registry_file: Path,
    instance: DagsterInstance,
    sandbox: SandboxServer,
    canvas_resource: Callable[..., CanvasApiResource],
) -> None:
    registry_file.write_text("ci:\n  accounts:\n    - account_id: 1\n")
    result = tick(instance, canvas_resource())
    assert instance.get_dynamic_partitions(PARTITIONS) == ALL_COURSES
    assert requested(result) == {course: set(CANVAS_ASSET_KEYS) for course in ALL_COURSES}

    again = tick(instance, canvas_resource())
    assert not again.run_requests
    assert not again.dynamic_partitions_requests
    assert again.skip_reason is not None
    assert "unchanged" in str(again.skip_reason)


def test_added_and_removed_courses(
    registry_file: Path,
    instance: DagsterInstance,
    sandbox: SandboxServer,
    lake: Path,
    canvas_resource: Callable[..., CanvasApiResource],
) -> None:
    registry_file.write_text("ci:\n  courses: [10001, '10002']\n")
    tick(instance, canvas_resource())
    assert instance.get_dynamic_partitions(PARTITIONS) == ["10001", "10002"]
    landed = lake / "raw" / "canvas" / "courses" / "dt=10001" / "data.parquet"
    landed.parent.mkdir(parents=True)
    landed.write_bytes(b"already landed")

    registry_file.write_text("ci:\n  courses: [10002, 10003]\n")
    result = tick(instance, canvas_resource())
    assert instance.get_dynamic_partitions(PARTITIONS) == ["10002", "10003"]
    assert set(requested(result)) == {"10003"}  # runs only for the new course
    assert landed.read_bytes() == b"already landed"  # taking a course off keeps its data


def test_explicit_courses_and_filters_combine(
    registry_file: Path,
    instance: DagsterInstance,
    sandbox: SandboxServer,
    canvas_resource: Callable[..., CanvasApiResource],
) -> None:
    data = sandbox.canvas.data
    in_account_3 = [str(c.id) for c in data.courses if c.account_id == 3]
    outside = next(str(c.id) for c in data.courses if c.account_id != 3)
    registry_file.write_text(
        f"ci:\n  courses: [{outside}, {in_account_3[0]}]\n  accounts:\n    - account_id: 3\n"
    )
    tick(instance, canvas_resource())
    assert instance.get_dynamic_partitions(PARTITIONS) == sort_course_ids([outside, *in_account_3])


def test_explicit_registry_needs_no_token(
    registry_file: Path,
    instance: DagsterInstance,
    sandbox: SandboxServer,
    canvas_resource: Callable[..., CanvasApiResource],
) -> None:
    registry_file.write_text("ci:\n  courses: ['10004']\n")
    with dg.build_sensor_context(
        instance=instance, resources={"canvas_api": canvas_resource(secret_path="none")}
    ) as context:
        result = canvas_course_registry_sensor(context)
    assert isinstance(result, dg.SensorResult)
    assert requested(result).keys() == {"10004"}
    assert not [r for r in sandbox.requests if r.path.startswith("/canvas/")]


def test_a_failing_api_changes_nothing(
    registry_file: Path,
    instance: DagsterInstance,
    sandbox: SandboxServer,
    canvas_resource: Callable[..., CanvasApiResource],
) -> None:
    instance.add_dynamic_partitions(PARTITIONS, ["10001"])
    registry_file.write_text("ci:\n  accounts:\n    - account_id: 1\n")
    sandbox.faults.inject("/accounts/", "server_error", count=100)
    with pytest.raises(Exception, match="HTTP 500"):
        tick(instance, canvas_resource())
    assert instance.get_dynamic_partitions(PARTITIONS) == ["10001"]


def test_filters_by_term_and_subaccounts(sandbox: SandboxServer) -> None:
    data = sandbox.canvas.data
    term = data.courses[0].enrollment_term_id
    with CanvasClient(sandbox.canvas_url, CANVAS_SANDBOX_TOKEN) as client:
        by_term = CourseRegistry(accounts=(AccountFilter("1", str(term)),)).resolve(client)
        only_2 = CourseRegistry(accounts=(AccountFilter("2", include_subaccounts=False),))
        with_subaccounts = CourseRegistry(accounts=(AccountFilter("2"),))
        assert by_term == [str(c.id) for c in data.courses if c.enrollment_term_id == term]
        assert only_2.resolve(client) == [str(c.id) for c in data.courses if c.account_id == 2]
        assert with_subaccounts.resolve(client) == [
            str(c.id) for c in data.courses if c.account_id in (2, 4)
        ]


def test_the_repository_registry_registers_the_sandbox(sandbox: SandboxServer, lake: Path) -> None:
    settings = get_settings()
    registry = load_registry(
        settings.canvas_course_registry, "dev", default_account_id=settings.canvas_account_id
    )
    with CanvasClient(sandbox.canvas_url, CANVAS_SANDBOX_TOKEN) as client:
        assert registry.resolve(client) == ALL_COURSES
    for env in ("qa", "production"):
        load_registry(settings.canvas_course_registry, env, default_account_id="1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ci: [1, 2]", "expected a mapping"),
        ("ci:\n  course: [1]\n", "unknown key"),
        ("ci:\n  courses: 10001\n", "must be a list"),
        ("ci:\n  accounts:\n    - account: 1\n", r"accounts\[0\]"),
        ("ci: [unclosed", "not valid YAML"),
    ],
)
def test_malformed_registry_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(text)
    with pytest.raises(CourseRegistryError, match=message) as caught:
        load_registry(path, "ci", default_account_id="1")
    assert str(path) in str(caught.value)
    with pytest.raises(CourseRegistryError, match="does not exist"):
        load_registry(tmp_path / "missing.yaml", "ci", default_account_id="1")


def test_missing_section_is_an_empty_registry(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text("dev:\n  courses: [1]\n")
    registry = load_registry(path, "production", default_account_id="1")
    assert registry == CourseRegistry()
    assert registry.resolve(None) == []
    defaulted = CourseRegistry.parse({"accounts": [{}]}, default_account_id="7", source="x")
    assert defaulted.accounts == (AccountFilter("7"),)


def test_schedule_refreshes_every_registered_course() -> None:
    with persistent_instance() as instance:  # schedule contexts need a persistent instance
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 1, 20, 6, tzinfo=UTC)
        )
        assert isinstance(canvas_refresh_schedule(context), dg.SkipReason)
        instance.add_dynamic_partitions(PARTITIONS, ["10001", "10002"])
        runs: Any = canvas_refresh_schedule(context)
    assert [r.partition_key for r in runs] == ["10001", "10002"]
    assert all(set(r.asset_selection) == set(CANVAS_ASSET_KEYS) for r in runs)
    assert [r.run_key for r in runs] == [
        "canvas-refresh-10001-2026-01-20T06:00",
        "canvas-refresh-10002-2026-01-20T06:00",
    ]
