"""One factory for the per-course raw tables: fetch a course's records, land them as rows.

Every table asset of the location is the same shape (one API listing per course partition, a
pure row builder, `land_rows` for the quarantine and the counts), so only the table name, the
fetch and the description differ from one asset file to the next.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import dagster as dg
import pyarrow as pa

from canvas.partitions import CANVAS_COURSES
from canvas.tables import retrieved_now
from ol_orchestrate.lib.automation import Cadence, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.resources.canvas import CanvasApiClientFactory, CanvasClient

GROUP = "canvas"
KINDS = {"canvas", "parquet"}
RESOURCE_KEY = "canvas_api"
# Every registered course is refreshed each morning (after the Open edX APIs); a course added to
# a registry runs at once through the registry's sensor.
CANVAS_CADENCE = Cadence(cron="0 6 * * *", max_lag=timedelta(hours=3))

# fetch(client, course_id, retrieved_at) -> rows of the table
Fetch = Callable[[CanvasClient, str, str], Iterable[Mapping[str, Any]]]


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["canvas", "raw", table])


def course_table_asset(
    table: str,
    *,
    fetch: Fetch,
    schema: pa.Schema,
    required: Sequence[str],
    description: str,
) -> dg.AssetsDefinition:
    """A course-partitioned asset landing `fetch`'s rows as `raw/canvas/<table>`."""

    @dg.asset(
        key=raw_key(table),
        group_name=GROUP,
        kinds=KINDS,
        description=description,
        partitions_def=CANVAS_COURSES,
        **raw_asset_automation(CANVAS_CADENCE),
    )
    def _table(context: dg.AssetExecutionContext, canvas_api: CanvasApiClientFactory) -> pa.Table:
        course_id = context.partition_key
        retrieved_at = retrieved_now()
        with canvas_api.get_client() as client:
            rows = list(fetch(client, course_id, retrieved_at))
        return land_rows(context, rows, schema, required, get_settings().lake_root)

    return _table
