"""`materialize_location`: unpartitioned assets, then one sensor tick driving partitioned runs."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from rich.console import Console

from ol_orchestrate.lib.tracking_log_assets import partition_range_tags
from ol_orchestrate.testing import persistent_instance
from ol_platform.materialize import (
    MAX_DAYS,
    MaterializeError,
    materialize_all,
    materialize_location,
)
from ol_platform.sensors import request_span

COURSES = dg.DynamicPartitionsDefinition(name="demo_courses")
REGISTRY = ["course-a", "course-b"]


@dg.asset(key=["demo", "raw", "catalog"])
def catalog() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"courses": len(REGISTRY)})


@dg.asset(key=["demo", "raw", "course_detail"], partitions_def=COURSES)
def course_detail(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"course": context.partition_key})


@dg.sensor(asset_selection=[course_detail])
def registry_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    known = set(context.instance.get_dynamic_partitions(COURSES.name))
    new = [course for course in REGISTRY if course not in known]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=course) for course in new],
        dynamic_partitions_requests=[COURSES.build_add_request(new)] if new else [],
        cursor=",".join(REGISTRY),
    )


DEFS = dg.Definitions(assets=[catalog, course_detail], sensors=[registry_sensor])


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    # A persistent (temporary) instance, like the local one `ol-platform` uses.
    with persistent_instance() as instance:
        yield instance


def test_first_pass_adds_partitions_and_runs_each(instance: dg.DagsterInstance, tmp_path: Path):
    result = materialize_location("demo", DEFS, instance, Console(file=None), tmp_path)
    assert result.success
    assert instance.get_dynamic_partitions(COURSES.name) == REGISTRY
    # One run for the unpartitioned asset, one per course partition.
    assert len(result.runs) == 3
    materialized = instance.get_materialized_partitions(
        dg.AssetKey(["demo", "raw", "course_detail"])
    )
    assert materialized == set(REGISTRY)
    assert result.skipped_partitioned == []


def test_second_pass_with_nothing_new_runs_no_partition(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    materialize_location("demo", DEFS, instance, Console(file=None), tmp_path)
    again = materialize_location("demo", DEFS, instance, Console(file=None), tmp_path)
    assert again.success
    assert len(again.runs) == 1  # the unpartitioned asset only
    assert again.skipped_partitioned == [dg.AssetKey(["demo", "raw", "course_detail"])]
    key = "ol-platform/sensor-cursor/demo/registry_sensor"
    assert instance.run_storage.get_cursor_values({key}) == {key: "course-a,course-b"}


def test_a_range_request_is_labelled_by_its_span() -> None:
    assert request_span(dg.RunRequest(partition_key="2026-01-05")) == "2026-01-05"
    ranged = dg.RunRequest(tags=partition_range_tags("2026-01-05", "2026-01-18"))
    assert request_span(ranged) == "2026-01-05..2026-01-18"
    assert request_span(dg.RunRequest()) is None


def test_days_beyond_the_local_partitions_are_refused() -> None:
    with pytest.raises(MaterializeError, match="--days must be between 1 and"):
        materialize_all(days=MAX_DAYS + 1, console=Console(quiet=True))
