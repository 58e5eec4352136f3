"""Course structure (blocks) of every course run of a deployment (`/api/courses/v2/blocks/`)."""

from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa

from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.resources.openedx import (
    COURSE_BLOCKS_SCHEMA,
    course_block_rows,
    openedx_resource_key,
)
from openedx.assets.course_runs import course_runs_key


def build_course_blocks_asset(deployment: str) -> dg.AssetsDefinition:
    api_key = openedx_resource_key(deployment)

    @dg.asset(
        key=["openedx", "raw", f"{deployment}_course_blocks"],
        group_name=f"openedx_{deployment}",
        kinds={"openedx", "parquet"},
        description=(
            f"The block tree (chapters, sequentials, verticals, problems, videos...) of every "
            f"{deployment} course run, one row per block in depth-first order."
        ),
        ins={"course_runs": dg.AssetIn(key=course_runs_key(deployment))},
        required_resource_keys={api_key},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
    )
    def course_blocks(context: dg.AssetExecutionContext, course_runs: pa.Table) -> pa.Table:
        retrieved_at = datetime.now(UTC).isoformat()
        rows: list[dict] = []
        with getattr(context.resources, api_key).client() as client:
            for course_id in course_runs.column("course_id").to_pylist():
                payload = client.get_course_blocks(course_id)
                rows.extend(course_block_rows(deployment, course_id, payload, retrieved_at))
        context.add_output_metadata({"courses": course_runs.num_rows})
        return land_rows(
            context,
            rows,
            COURSE_BLOCKS_SCHEMA,
            ["course_id", "block_id", "block_type"],
            get_settings().lake_root,
        )

    return course_blocks
