"""Modules of one Canvas course (`GET /api/v1/courses/:id/modules`)."""

from canvas.factory import course_table_asset
from canvas.tables import MODULES_SCHEMA, module_rows

modules = course_table_asset(
    "modules",
    fetch=lambda client, course_id, retrieved_at: module_rows(
        course_id, client.iter_modules(course_id, include_items=False), retrieved_at
    ),
    schema=MODULES_SCHEMA,
    required=["module_id"],
    description=(
        "The course's modules: name, position, unlock date, sequential progress, "
        "published, item count."
    ),
)
