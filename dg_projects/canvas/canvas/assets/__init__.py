"""Canvas raw assets, one file per table (`canvas/raw/<table>` lives in `assets/<table>.py`)."""

import dagster as dg

from canvas.assets.assignment_groups import assignment_groups
from canvas.assets.assignments import assignments
from canvas.assets.content_exports import content_exports
from canvas.assets.courses import courses
from canvas.assets.enrollments import enrollments
from canvas.assets.files import files
from canvas.assets.folders import folders
from canvas.assets.module_items import module_items
from canvas.assets.modules import modules
from canvas.assets.pages import pages
from canvas.assets.sections import sections
from canvas.assets.submissions import submissions
from canvas.assets.users import users

CANVAS_ASSETS: tuple[dg.AssetsDefinition, ...] = (
    courses,
    sections,
    enrollments,
    users,
    assignments,
    assignment_groups,
    submissions,
    modules,
    module_items,
    pages,
    files,
    folders,
    content_exports,
)
# What a course partition's run materializes (the sensor's and the schedule's run requests).
CANVAS_ASSET_KEYS: tuple[dg.AssetKey, ...] = tuple(asset.key for asset in CANVAS_ASSETS)
