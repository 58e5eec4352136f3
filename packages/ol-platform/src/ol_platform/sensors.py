"""One tick of a location's sensors, as the Dagster daemon would run it, for local runs.

Partitioned assets (a dynamic partition per Canvas course, a daily partition per tracking-log day)
are driven by sensors that add partitions and request runs (a tracking-log sensor requests a
range of days per run, through the run's partition-range tags). `ol-platform materialize` has no
daemon, so it evaluates every sensor once: it applies the tick's dynamic-partition requests, stores
its cursor in the instance, and returns its run requests for the caller to execute in-process.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.dynamic_partitions_request import (
    AddDynamicPartitionsRequest,
    DeleteDynamicPartitionsRequest,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from ol_orchestrate.lib.automation import is_policy_sensor


@dataclass(frozen=True)
class SensorTick:
    sensor: dg.SensorDefinition
    run_requests: list[dg.RunRequest]
    partitions_added: int
    partitions_deleted: int


def _cursor_key(location: str, sensor: str) -> str:
    return f"ol-platform/sensor-cursor/{location}/{sensor}"


def tickable_sensors(defs: dg.Definitions) -> list[dg.SensorDefinition]:
    """The sensors that add partitions and request their runs (a course registry, a landing
    area): plain sensors, not the platform's automation and freshness sensors or asset-event
    sensors, which the daemon alone drives."""
    repository = defs.get_repository_def()
    plain = (dg.SensorDefinition, dg.MultiAssetSensorDefinition)
    return [
        sensor
        for sensor in repository.sensor_defs
        if (type(sensor) in plain or isinstance(sensor, dg.MultiAssetSensorDefinition))
        and not is_policy_sensor(sensor)
    ]


def tick_sensor(
    location: str, defs: dg.Definitions, sensor: dg.SensorDefinition, instance: dg.DagsterInstance
) -> SensorTick:
    key = _cursor_key(location, sensor.name)
    cursor = instance.run_storage.get_cursor_values({key}).get(key)
    # With an instance ref, Dagster validates the tick's partitioned run requests against the
    # partitions as they will be after the tick's own add/delete requests (as the daemon does).
    with dg.build_sensor_context(
        instance_ref=instance.get_ref(),
        cursor=cursor,
        definitions=defs,
        sensor_name=sensor.name,
        resources=defs.resources,
    ) as context:
        data = sensor.evaluate_tick(context)

    added = deleted = 0
    for request in data.dynamic_partitions_requests or []:
        if isinstance(request, AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
            added += len(request.partition_keys)
        elif isinstance(request, DeleteDynamicPartitionsRequest):
            for partition_key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, partition_key)
            deleted += len(request.partition_keys)
    if data.cursor is not None:
        instance.run_storage.set_cursor_values({key: data.cursor})
    return SensorTick(sensor, list(data.run_requests or []), added, deleted)


def job_for_request(
    defs: dg.Definitions, sensor: dg.SensorDefinition, request: dg.RunRequest
) -> dg.JobDefinition:
    """The job a run request targets: its own job, the sensor's job, or the asset job."""
    if request.job_name:
        return defs.resolve_job_def(request.job_name)
    job_name = sensor.job_name if sensor.has_jobs and not sensor.has_anonymous_job else None
    if job_name:
        return defs.resolve_job_def(job_name)
    return defs.resolve_implicit_global_asset_job_def()


def request_span(request: dg.RunRequest) -> str | None:
    """What partitions a run request runs, for labels: its key, `first..last` for a range
    (the range tags a tracking-log sensor sets), or None."""
    if request.partition_key:
        return request.partition_key
    first = request.tags.get(ASSET_PARTITION_RANGE_START_TAG)
    last = request.tags.get(ASSET_PARTITION_RANGE_END_TAG)
    return f"{first}..{last}" if first and last else None


def assets_for_request(
    defs: dg.Definitions, sensor: dg.SensorDefinition, request: dg.RunRequest
) -> list[dg.AssetKey] | None:
    """The assets a run request materializes (None: the whole job)."""
    if request.asset_selection:
        return list(request.asset_selection)
    if sensor.asset_selection is not None:
        return sorted(sensor.asset_selection.resolve(defs.resolve_asset_graph()))
    return None
