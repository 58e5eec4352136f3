"""Assignments of one Canvas course (`GET /api/v1/courses/:id/assignments`)."""

from canvas.factory import course_table_asset
from canvas.tables import ASSIGNMENTS_SCHEMA, assignment_rows

assignments = course_table_asset(
    "assignments",
    fetch=lambda client, course_id, retrieved_at: assignment_rows(
        course_id, client.iter_assignments(course_id), retrieved_at
    ),
    schema=ASSIGNMENTS_SCHEMA,
    required=["assignment_id"],
    description=(
        "The course's assignments: group, points possible, grading type, submission "
        "types, due/unlock/lock dates, published."
    ),
)
