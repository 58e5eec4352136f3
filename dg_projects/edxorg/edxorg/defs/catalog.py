"""edX.org's catalog (the Discovery API): MIT's programs, courses and course runs, daily.

Through the shared API client (`ol_orchestrate.resources.edxorg_catalog`: OAuth2 client
credentials, `next`-link pagination, retries); one raw table each, landed with `land_rows`.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import dagster as dg
import pyarrow as pa

from edxorg.components import CATALOG_RESOURCE_KEY
from ol_orchestrate.lib.automation import DAILY_API, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.lib.raw_tables import RawTable, retrieved_now
from ol_orchestrate.resources.edxorg_catalog import (
    COURSE_RUNS,
    COURSES,
    PROGRAMS,
    EdxorgCatalogClient,
    EdxorgCatalogResource,
    course_rows,
    course_run_rows,
    program_rows,
)

Rows = Callable[[EdxorgCatalogClient, str, str], Iterable[Mapping[str, Any]]]


def catalog_asset(table: RawTable, fetch: Rows, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["edxorg", "raw", table.name],
        group_name="edxorg",
        kinds={"edxorg", "parquet"},
        description=description,
        required_resource_keys={CATALOG_RESOURCE_KEY},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
        **raw_asset_automation(DAILY_API),
    )
    def _catalog(context: dg.AssetExecutionContext) -> pa.Table:
        catalog: EdxorgCatalogResource = getattr(context.resources, CATALOG_RESOURCE_KEY)
        with catalog.client() as client:
            rows = list(fetch(client, catalog.org, retrieved_now()))
        return land_rows(context, rows, table.schema, table.required, get_settings().lake_root)

    return _catalog


catalog_programs = catalog_asset(
    PROGRAMS,
    lambda client, org, at: program_rows(client.iter_programs(org), at),
    "The org's programs in edX.org's catalog (MicroMasters, XSeries, ...), one row each.",
)
catalog_courses = catalog_asset(
    COURSES,
    lambda client, org, at: course_rows(client.iter_courses(org), at),
    "The org's courses in edX.org's catalog (key `MITx+6.002x`), one row each.",
)
catalog_course_runs = catalog_asset(
    COURSE_RUNS,
    lambda client, org, at: course_run_rows(client.iter_course_runs(org), at),
    "The org's course runs in edX.org's catalog, keyed by the course id as edX writes it "
    "(legacy `MITx/6.002x/2012_Fall` ids stay legacy).",
)
