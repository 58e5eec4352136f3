"""Users of one Canvas course (`GET /api/v1/courses/:id/users?include[]=email`)."""

from canvas.factory import course_table_asset
from canvas.tables import USERS_SCHEMA, user_rows

users = course_table_asset(
    "users",
    fetch=lambda client, course_id, retrieved_at: user_rows(
        course_id, client.iter_users(course_id), retrieved_at
    ),
    schema=USERS_SCHEMA,
    required=["user_id"],
    description=(
        "The users enrolled in the course. Names, emails, login and SIS ids are personal "
        "data: staging hashes them and marts never carry them."
    ),
)
