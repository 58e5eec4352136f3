"""Sections of one Canvas course (`GET /api/v1/courses/:id/sections`)."""

from canvas.factory import course_table_asset
from canvas.tables import SECTIONS_SCHEMA, section_rows

sections = course_table_asset(
    "sections",
    fetch=lambda client, course_id, retrieved_at: section_rows(
        course_id, client.iter_sections(course_id), retrieved_at
    ),
    schema=SECTIONS_SCHEMA,
    required=["section_id"],
    description=("The course's sections (name, SIS id, dates)."),
)
