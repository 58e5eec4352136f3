"""Course details of one Canvas course.

`GET /api/v1/courses/:id?include[]=term&include[]=account`.
"""

from canvas.factory import course_table_asset
from canvas.tables import COURSES_SCHEMA, course_rows

courses = course_table_asset(
    "courses",
    fetch=lambda client, course_id, retrieved_at: course_rows(
        course_id, client.get_course(course_id), retrieved_at
    ),
    schema=COURSES_SCHEMA,
    required=["course_id"],
    description=(
        "The course's details (name, code, SIS id, state, dates), with its enrollment "
        "term and account. One row per course partition."
    ),
)
