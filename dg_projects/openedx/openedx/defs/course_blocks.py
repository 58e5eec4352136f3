"""Course structure (blocks) of every course run of a deployment (`/api/courses/v2/blocks/`)."""

import dagster as dg

from ol_orchestrate.lib.automation import Cadence
from ol_orchestrate.resources.openedx import COURSE_BLOCKS_SCHEMA, course_block_rows
from openedx.defs.per_course import build_per_course_asset


def build_course_blocks_asset(deployment: str, cadence: Cadence) -> dg.AssetsDefinition:
    return build_per_course_asset(
        deployment,
        "course_blocks",
        description=(
            f"The block tree (chapters, sequentials, verticals, problems, videos...) of every "
            f"{deployment} course run, one row per block in depth-first order."
        ),
        fetch_rows=lambda client, name, course_id, retrieved_at: course_block_rows(
            name, course_id, client.get_course_blocks(course_id), retrieved_at
        ),
        schema=COURSE_BLOCKS_SCHEMA,
        cadence=cadence,
        required=["course_id", "block_id", "block_type"],
    )
