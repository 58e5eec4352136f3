"""Items of the modules of one Canvas course.

`GET /api/v1/courses/:id/modules?include[]=items`, and `.../modules/:id/items` for the modules
whose items Canvas does not inline.
"""

from canvas.factory import course_table_asset
from canvas.tables import MODULE_ITEMS_SCHEMA, module_item_rows

module_items = course_table_asset(
    "module_items",
    fetch=lambda client, course_id, retrieved_at: module_item_rows(
        course_id, client.iter_modules_with_items(course_id), retrieved_at
    ),
    schema=MODULE_ITEMS_SCHEMA,
    required=["module_id", "module_item_id"],
    description=(
        "Every item of every module: its type (page, assignment, file, URL, ...), what it "
        "points to, position and indent."
    ),
)
