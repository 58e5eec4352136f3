"""Enrollments in every course run of a deployment (`/api/enrollment/v1/enrollments/`)."""

from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa

from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.resources.openedx import (
    ENROLLMENTS_SCHEMA,
    enrollment_rows,
    openedx_resource_key,
)
from openedx.assets.course_runs import course_runs_key


def build_enrollments_asset(deployment: str) -> dg.AssetsDefinition:
    api_key = openedx_resource_key(deployment)

    @dg.asset(
        key=["openedx", "raw", f"{deployment}_enrollments"],
        group_name=f"openedx_{deployment}",
        kinds={"openedx", "parquet"},
        description=(
            f"Every enrollment (learner, mode, active flag, created time) in every {deployment} "
            "course run. Usernames are personal data: staging hashes them."
        ),
        ins={"course_runs": dg.AssetIn(key=course_runs_key(deployment))},
        required_resource_keys={api_key},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
    )
    def enrollments(context: dg.AssetExecutionContext, course_runs: pa.Table) -> pa.Table:
        retrieved_at = datetime.now(UTC).isoformat()
        rows: list[dict] = []
        with getattr(context.resources, api_key).client() as client:
            for course_id in course_runs.column("course_id").to_pylist():
                rows.extend(
                    enrollment_rows(deployment, client.iter_enrollments(course_id), retrieved_at)
                )
        return land_rows(
            context,
            rows,
            ENROLLMENTS_SCHEMA,
            ["course_id", "username"],
            get_settings().lake_root,
        )

    return enrollments
