"""Course registries and their sensors: partitions follow the registry, runs follow new courses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster import DagsterInstance

from canvas.components import CanvasCourseRegistry
from canvas.registry import (
    AccountFilter,
    CourseRegistry,
    CourseRegistryError,
    build_registry_sensor,
    sort_course_ids,
)
from ol_orchestrate.resources.canvas import CanvasApiClientFactory, CanvasClient
from ol_orchestrate.testing import load_definitions
from ol_sandbox.canvas import CANVAS_SANDBOX_TOKEN, FIRST_COURSE_ID
from ol_sandbox.data import SIZES
from ol_sandbox.server import SandboxServer

PARTITIONS = "canvas_courses"
DEFS = Path(__file__).resolve().parents[1] / "canvas" / "defs"
REGISTRY_YAML = DEFS / "course_registries" / "mit" / "defs.yaml"
# The tests run the "small" sandbox: its courses are 10001 .. 10004.
ALL_COURSES = [str(FIRST_COURSE_ID + i) for i in range(SIZES["small"]["courses"])]


class Registry:
    """A registry under test: change `section` between ticks, the cursor carries over."""

    def __init__(
        self, instance: DagsterInstance, resource: CanvasApiClientFactory, defs: dg.Definitions
    ) -> None:
        self.instance = instance
        self.resource = resource
        self.defs = defs
        self.cursor: str | None = None
        self.section: dict[str, Any] = {"courses": []}

    def tick(self, resource: CanvasApiClientFactory | None = None) -> dg.SensorResult:
        """One sensor tick, applying its partition requests like the daemon (and ol-platform)."""
        registry = CourseRegistry.parse(self.section, default_account_id="1", source="test")
        sensor = build_registry_sensor("test", registry)
        with dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"canvas_api": resource or self.resource},
            definitions=self.defs,
        ) as context:
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or ():
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                self.instance.add_dynamic_partitions(
                    request.partitions_def_name, request.partition_keys
                )
            else:
                for key in request.partition_keys:
                    self.instance.delete_dynamic_partition(request.partitions_def_name, key)
        self.cursor = result.cursor
        return result


@pytest.fixture
def registry(
    lake: Path, instance: DagsterInstance, canvas_factory: Callable[..., CanvasApiClientFactory]
) -> Registry:
    return Registry(instance, canvas_factory(), load_definitions("canvas.definitions"))


def requested(result: dg.SensorResult) -> set[str]:
    """The course partitions the tick requests a run of (each run: the sensor's target, every
    canvas asset)."""
    keys = set()
    for run in result.run_requests or ():
        assert run.partition_key is not None
        assert not run.asset_selection
        keys.add(run.partition_key)
    return keys


def test_first_tick_registers_every_course_and_runs_all_assets(
    registry: Registry, instance: DagsterInstance
) -> None:
    registry.section = {"accounts": [{"account_id": 1}]}
    result = registry.tick()
    assert instance.get_dynamic_partitions(PARTITIONS) == ALL_COURSES
    assert requested(result) == set(ALL_COURSES)

    # Nothing ran in between (a crash, say): the next tick asks for every course again.
    again = registry.tick()
    assert not again.dynamic_partitions_requests
    assert requested(again) == set(ALL_COURSES)
    assert {r.tags["ol/rerun_reason"] for r in again.run_requests or ()} == {"missing"}


def test_courses_that_failed_or_lost_their_data_run_again(
    registry: Registry,
    instance: DagsterInstance,
    sandbox: SandboxServer,
    lake: Path,
    resources: dict[str, Any],
) -> None:
    """A Canvas course that did not land is retried; so is one whose file was deleted."""
    registry.section = {"courses": ["10001", "10002"]}
    registry.tick()
    assets = [a for a in registry.defs.assets or () if isinstance(a, dg.AssetsDefinition)]
    for course in ("10001", "10002"):
        assert dg.materialize(assets, partition_key=course, instance=instance, resources=resources)
    settled = registry.tick()
    assert not settled.run_requests
    assert "every course landed" in str(settled.skip_reason)

    (lake / "raw" / "canvas" / "submissions" / "dt=10002" / "data.parquet").unlink()
    sandbox.faults.inject("/courses/10001/students/submissions", "server_error", count=100)
    failed = dg.materialize(
        assets, partition_key="10001", instance=instance, resources=resources, raise_on_error=False
    )
    assert not failed.success
    healing = registry.tick()
    assert {r.partition_key: r.tags["ol/rerun_reason"] for r in healing.run_requests or ()} == {
        "10001": "failed",
        "10002": "output lost",
    }


def test_added_and_removed_courses(
    registry: Registry, instance: DagsterInstance, lake: Path
) -> None:
    registry.section = {"courses": [10001, "10002"]}
    registry.tick()
    assert instance.get_dynamic_partitions(PARTITIONS) == ["10001", "10002"]
    landed = lake / "raw" / "canvas" / "courses" / "dt=10001" / "data.parquet"
    landed.parent.mkdir(parents=True)
    landed.write_bytes(b"already landed")

    registry.section = {"courses": [10002, 10003]}
    result = registry.tick()
    assert instance.get_dynamic_partitions(PARTITIONS) == ["10002", "10003"]
    # The new course runs; 10002 never ran (nothing ran in this test), so it is asked for again;
    # the course taken off is not.
    reasons = {r.partition_key: r.tags.get("ol/rerun_reason") for r in result.run_requests or ()}
    assert reasons == {"10002": "missing", "10003": None}
    assert landed.read_bytes() == b"already landed"  # taking a course off keeps its data


def test_a_registry_never_deletes_another_registrys_courses(
    registry: Registry, instance: DagsterInstance
) -> None:
    instance.add_dynamic_partitions(PARTITIONS, ["10004"])  # registered by another registry
    registry.section = {"courses": ["10001"]}
    registry.tick()
    registry.section = {"courses": []}
    registry.tick()
    assert instance.get_dynamic_partitions(PARTITIONS) == ["10004"]


def test_explicit_courses_and_filters_combine(
    registry: Registry, instance: DagsterInstance, sandbox: SandboxServer
) -> None:
    data = sandbox.canvas.data
    in_account_3 = [str(c.id) for c in data.courses if c.account_id == 3]
    outside = next(str(c.id) for c in data.courses if c.account_id != 3)
    registry.section = {"courses": [outside, in_account_3[0]], "accounts": [{"account_id": 3}]}
    registry.tick()
    assert instance.get_dynamic_partitions(PARTITIONS) == sort_course_ids([outside, *in_account_3])


def test_explicit_registry_needs_no_token(
    registry: Registry,
    sandbox: SandboxServer,
    canvas_factory: Callable[..., CanvasApiClientFactory],
) -> None:
    registry.section = {"courses": ["10004"]}
    result = registry.tick(canvas_factory(secret_path="none"))
    assert requested(result) == {"10004"}
    assert not [r for r in sandbox.requests if r.path.startswith("/canvas/")]


def test_a_failing_api_changes_nothing(
    registry: Registry, instance: DagsterInstance, sandbox: SandboxServer
) -> None:
    instance.add_dynamic_partitions(PARTITIONS, ["10001"])
    registry.section = {"accounts": [{"account_id": 1}]}
    sandbox.faults.inject("/accounts/", "server_error", count=100)
    with pytest.raises(Exception, match="HTTP 500"):
        registry.tick()
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


def _repository_registry() -> CanvasCourseRegistry:
    return CanvasCourseRegistry(**yaml.safe_load(REGISTRY_YAML.read_text())["attributes"])


def test_the_repository_registry_registers_the_sandbox(sandbox: SandboxServer, lake: Path) -> None:
    component = _repository_registry()
    with CanvasClient(sandbox.canvas_url, CANVAS_SANDBOX_TOKEN) as client:
        assert component.registry("dev").resolve(client) == ALL_COURSES
        assert component.registry("ci").resolve(client) == ALL_COURSES
    for env in ("qa", "production"):
        assert component.registry(env).resolve(None) == []


def test_the_location_gets_one_sensor_per_registry(lake: Path) -> None:
    defs = load_definitions("canvas.definitions")
    assert "canvas_mit_course_registry_sensor" in {sensor.name for sensor in defs.sensors or ()}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ([1, 2], "expected a mapping"),
        ({"course": [1]}, "unknown key"),
        ({"courses": 10001}, "must be a list"),
        ({"accounts": [{"account": 1}]}, r"accounts\[0\]"),
    ],
)
def test_malformed_registry_names_the_registry_and_environment(section: Any, message: str) -> None:
    component = CanvasCourseRegistry(name="mit", environments={"production": section})
    with pytest.raises(CourseRegistryError, match=message) as caught:
        component.build_defs(None)  # type: ignore[arg-type]
    assert "'mit' [production]" in str(caught.value)


def test_unknown_environment_in_a_registry_is_an_error() -> None:
    component = CanvasCourseRegistry(name="mit", environments={"staging": {"courses": [1]}})
    with pytest.raises(ValueError, match="staging"):
        component.build_defs(None)  # type: ignore[arg-type]


def test_missing_section_is_an_empty_registry() -> None:
    component = CanvasCourseRegistry(name="mit", environments={"dev": {"courses": [1]}})
    assert component.registry("production") == CourseRegistry()
    assert component.registry("production").resolve(None) == []
    defaulted = CourseRegistry.parse({"accounts": [{}]}, default_account_id="7", source="x")
    assert defaulted.accounts == (AccountFilter("7"),)
