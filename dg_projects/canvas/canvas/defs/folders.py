"""Folders of one Canvas course (`GET /api/v1/courses/:id/folders`)."""

from canvas.factory import course_table_asset
from canvas.tables import FOLDERS_SCHEMA, folder_rows

folders = course_table_asset(
    "folders",
    fetch=lambda client, course_id, retrieved_at: folder_rows(
        course_id, client.iter_folders(course_id), retrieved_at
    ),
    schema=FOLDERS_SCHEMA,
    required=["folder_id"],
    description=(
        "The course's folder tree: parent, full name, position, file and folder counts, "
        "locked/hidden."
    ),
)
