"""Course runs of an Open edX deployment, from the course list API (`/api/courses/v1/courses/`)."""

import dagster as dg
import pyarrow as pa

from ol_orchestrate.lib.automation import Cadence, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.lib.raw_tables import retrieved_now
from ol_orchestrate.resources.openedx import (
    COURSE_RUNS_SCHEMA,
    OpenEdxApiClientFactory,
    course_run_rows,
    openedx_resource_key,
)


def course_runs_key(deployment: str) -> dg.AssetKey:
    return dg.AssetKey(["openedx", "raw", f"{deployment}_course_runs"])


def build_course_runs_asset(deployment: str, cadence: Cadence) -> dg.AssetsDefinition:
    api_key = openedx_resource_key(deployment)

    @dg.asset(
        key=course_runs_key(deployment),
        group_name=f"openedx_{deployment}",
        kinds={"openedx", "parquet"},
        description=(
            f"Every course run listed by the {deployment} course API, one row per run, "
            "as the API sent it (timestamps as ISO-8601 strings)."
        ),
        required_resource_keys={api_key},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
        **raw_asset_automation(cadence),
    )
    def course_runs(context: dg.AssetExecutionContext) -> pa.Table:
        retrieved_at = retrieved_now()
        api: OpenEdxApiClientFactory = getattr(context.resources, api_key)
        with api.get_client() as client:
            courses = list(client.iter_course_runs())
        rows = course_run_rows(deployment, courses, retrieved_at)
        context.add_output_metadata({"courses_listed": len(courses)})
        return land_rows(context, rows, COURSE_RUNS_SCHEMA, ["course_id"], get_settings().lake_root)

    return course_runs
