"""The course registry sensor: keeps the `canvas_courses` partitions equal to the registry.

Each tick resolves the registry (the file, plus its account filters through the Canvas API),
adds a partition for every newly registered course and requests a run of every canvas asset for
it, and deletes the partitions of courses taken off the registry. Deleting a partition only
forgets it: the data already landed for that course stays in the lake. A tick where nothing
changed requests nothing.
"""

from collections.abc import Iterable

import dagster as dg

from canvas.assets import CANVAS_ASSET_KEYS
from canvas.partitions import CANVAS_COURSES, CANVAS_COURSES_NAME
from canvas.registry import load_registry, sort_course_ids
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.canvas import CanvasApiResource


def plan_registry_tick(existing: Iterable[str], registered: Iterable[str]) -> dg.SensorResult:
    """The partitions to add and delete, and a run for every added course."""
    existing_set, registered_set = set(existing), set(registered)
    added = sort_course_ids(registered_set - existing_set)
    removed = sort_course_ids(existing_set - registered_set)
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if added:
        requests.append(CANVAS_COURSES.build_add_request(added))
    if removed:
        requests.append(CANVAS_COURSES.build_delete_request(removed))
    if not requests:
        return dg.SensorResult(
            skip_reason=f"course registry unchanged ({len(registered_set)} course(s))"
        )
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=course_id, asset_selection=list(CANVAS_ASSET_KEYS))
            for course_id in added
        ],
        dynamic_partitions_requests=requests,
    )


@dg.sensor(
    name="canvas_course_registry_sensor",
    target=list(CANVAS_ASSET_KEYS),
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Turns the Canvas course registry into `canvas_courses` partitions: adds new courses "
        "(and runs every canvas asset for them), deletes courses taken off the registry "
        "without deleting their landed data."
    ),
)
def canvas_course_registry_sensor(
    context: dg.SensorEvaluationContext, canvas_api: CanvasApiResource
) -> dg.SensorResult:
    settings = get_settings()
    registry = load_registry(
        settings.canvas_course_registry,
        settings.environment.value,
        default_account_id=settings.canvas_account_id,
    )
    if registry.needs_api:
        with canvas_api.client() as client:
            registered = registry.resolve(client)
    else:
        registered = registry.resolve(None)
    existing = context.instance.get_dynamic_partitions(CANVAS_COURSES_NAME)
    result = plan_registry_tick(existing, registered)
    context.log.info(
        f"course registry: {len(registered)} course(s) registered, {len(existing)} partition(s) "
        f"before this tick"
    )
    return result
