"""Files of one Canvas course (`GET /api/v1/courses/:id/files`)."""

from canvas.factory import course_table_asset
from canvas.tables import FILES_SCHEMA, file_rows

files = course_table_asset(
    "files",
    fetch=lambda client, course_id, retrieved_at: file_rows(
        course_id, client.iter_files(course_id), retrieved_at
    ),
    schema=FILES_SCHEMA,
    required=["file_id"],
    description=(
        "Metadata of the course's files: folder, names, content type, size, dates, locked/hidden."
    ),
)
