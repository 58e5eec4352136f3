"""Pages of one Canvas course (`GET /api/v1/courses/:id/pages`)."""

from canvas.factory import course_table_asset
from canvas.tables import PAGES_SCHEMA, page_rows

pages = course_table_asset(
    "pages",
    fetch=lambda client, course_id, retrieved_at: page_rows(
        course_id, client.iter_wiki_pages(course_id), retrieved_at
    ),
    schema=PAGES_SCHEMA,
    required=["page_id"],
    description=(
        "The course's pages (metadata: slug, title, dates, published, front page; not the body)."
    ),
)
