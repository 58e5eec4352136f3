"""The shape shared by every Open edX asset fetched course run by course run.

Course blocks and enrollments are both read once per course run listed in the deployment's
`course_runs` asset; only the API call, the row mapping and the schema differ.
"""

from collections.abc import Callable, Iterable
from typing import Any

import dagster as dg
import pyarrow as pa

from ol_orchestrate.lib.automation import Cadence, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.lib.raw_tables import retrieved_now
from ol_orchestrate.resources.openedx import (
    OpenEdxApiClientFactory,
    OpenEdxClient,
    openedx_resource_key,
)
from openedx.defs.course_runs import course_runs_key

# (client, deployment, course_id, retrieved_at) -> the rows of one course run
FetchRows = Callable[[OpenEdxClient, str, str, str], Iterable[dict[str, Any]]]


def build_per_course_asset(
    deployment: str,
    table: str,
    *,
    description: str,
    fetch_rows: FetchRows,
    schema: pa.Schema,
    required: list[str],
    cadence: Cadence,
) -> dg.AssetsDefinition:
    api_key = openedx_resource_key(deployment)

    @dg.asset(
        key=["openedx", "raw", f"{deployment}_{table}"],
        group_name=f"openedx_{deployment}",
        kinds={"openedx", "parquet"},
        description=description,
        ins={"course_runs": dg.AssetIn(key=course_runs_key(deployment))},
        required_resource_keys={api_key},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
        **raw_asset_automation(cadence),
    )
    def per_course(context: dg.AssetExecutionContext, course_runs: pa.Table) -> pa.Table:
        retrieved_at = retrieved_now()
        rows: list[dict[str, Any]] = []
        api: OpenEdxApiClientFactory = getattr(context.resources, api_key)
        with api.get_client() as client:
            for course_id in course_runs.column("course_id").to_pylist():
                rows.extend(fetch_rows(client, deployment, course_id, retrieved_at))
        context.add_output_metadata({"courses": course_runs.num_rows})
        return land_rows(context, rows, schema, required, get_settings().lake_root)

    return per_course
