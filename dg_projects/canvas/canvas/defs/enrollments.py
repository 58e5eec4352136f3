"""Enrollments in one Canvas course, in every state (`GET /api/v1/courses/:id/enrollments`)."""

from canvas.factory import course_table_asset
from canvas.tables import ENROLLMENTS_SCHEMA, enrollment_rows

enrollments = course_table_asset(
    "enrollments",
    fetch=lambda client, course_id, retrieved_at: enrollment_rows(
        course_id, client.iter_enrollments(course_id), retrieved_at
    ),
    schema=ENROLLMENTS_SCHEMA,
    required=["enrollment_id", "user_id"],
    description=(
        "Every enrollment in the course in every state: user, section, type and role, "
        "state, activity, and the student's current/final score and grade."
    ),
)
