"""Assignment groups of one Canvas course (`GET /api/v1/courses/:id/assignment_groups`)."""

from canvas.factory import course_table_asset
from canvas.tables import ASSIGNMENT_GROUPS_SCHEMA, assignment_group_rows

assignment_groups = course_table_asset(
    "assignment_groups",
    fetch=lambda client, course_id, retrieved_at: assignment_group_rows(
        course_id, client.iter_assignment_groups(course_id), retrieved_at
    ),
    schema=ASSIGNMENT_GROUPS_SCHEMA,
    required=["assignment_group_id"],
    description=("The course's assignment groups with their position and weight."),
)
