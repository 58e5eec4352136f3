"""The daily refresh: one run of every canvas asset for every registered course."""

import dagster as dg

from canvas.assets import CANVAS_ASSET_KEYS
from canvas.partitions import CANVAS_COURSES_NAME


@dg.schedule(
    name="canvas_refresh_schedule",
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    target=list(CANVAS_ASSET_KEYS),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refreshes every registered Canvas course (one run per course partition) daily.",
)
def canvas_refresh_schedule(
    context: dg.ScheduleEvaluationContext,
) -> list[dg.RunRequest] | dg.SkipReason:
    courses = context.instance.get_dynamic_partitions(CANVAS_COURSES_NAME)
    if not courses:
        return dg.SkipReason(
            "no Canvas course is registered yet (see canvas_course_registry_sensor)"
        )
    stamp = context.scheduled_execution_time.strftime("%Y-%m-%dT%H:%M")
    return [
        dg.RunRequest(
            run_key=f"canvas-refresh-{course_id}-{stamp}",
            partition_key=course_id,
            asset_selection=list(CANVAS_ASSET_KEYS),
            tags={"canvas/refresh": stamp},
        )
        for course_id in courses
    ]
