"""Submissions of every student of one Canvas course.

`GET /api/v1/courses/:id/students/submissions?student_ids[]=all`.
"""

from canvas.factory import course_table_asset
from canvas.tables import SUBMISSIONS_SCHEMA, submission_rows

submissions = course_table_asset(
    "submissions",
    fetch=lambda client, course_id, retrieved_at: submission_rows(
        course_id, client.iter_submissions(course_id), retrieved_at
    ),
    schema=SUBMISSIONS_SCHEMA,
    required=["assignment_id", "user_id"],
    description=(
        "Every student's submission of every assignment (unsubmitted placeholders "
        "included): score, grade, submitted/graded times, late, missing and excused "
        "flags, workflow state."
    ),
)
