"""edX.org tracking logs (copied from the delivery bucket to the landing area, normalized by the
shared factory, legacy course keys kept) and the catalog API assets."""

from __future__ import annotations

import dagster as dg
import pyarrow.parquet as pq

from edxorg.defs.tracking_logs import DELIVERIES_KEY, tracking_log_partitions
from ol_orchestrate.lib.tracking_log_assets import request_partition_keys
from ol_sandbox.edxorg import EdxorgData

from .conftest import INSTITUTION, Location

CATALOG_KEYS = [
    dg.AssetKey(["edxorg", "raw", name])
    for name in ("catalog_programs", "catalog_courses", "catalog_course_runs")
]
TRACKING_LOGS = dg.AssetKey(["edxorg", "raw", "edxorg_tracking_logs"])


def test_delivered_logs_are_copied_once_and_normalized(location: Location) -> None:
    first = location.run(asset_selection=[DELIVERIES_KEY])
    assert first.success
    landing = location.lake / "landing" / "edxorg" / "tracking_logs"
    days = sorted(path.name for path in landing.iterdir())
    assert len(days) == INSTITUTION.days
    deliveries = pq.read_table(
        location.lake / "raw" / "edxorg" / "tracking_log_deliveries" / "data.parquet"
    )
    assert all(deliveries.column("copied").to_pylist())
    again = location.run(asset_selection=[DELIVERIES_KEY])
    assert again.success
    deliveries = pq.read_table(
        location.lake / "raw" / "edxorg" / "tracking_log_deliveries" / "data.parquet"
    )
    assert not any(deliveries.column("copied").to_pylist())  # unchanged ETags: nothing copied

    tick = location.tick("edxorg_edxorg_tracking_logs_sensor")
    # every landed day in one run (a range of consecutive days), each day recorded on its own
    partitions = tracking_log_partitions()
    assert [request_partition_keys(r, partitions) for r in tick.run_requests] == [days]
    result = location.run(tick.run_requests[0])
    assert result.success
    assert location.instance.get_materialized_partitions(TRACKING_LOGS) == set(days)
    events = pq.read_table(
        location.lake / "raw" / "edxorg" / "edxorg_tracking_logs" / f"dt={days[0]}" / "data.parquet"
    )
    legacy = {c.course_id for c in EdxorgData.for_institution(INSTITUTION).courses if c.legacy}
    keys = set(events.column("course_key").to_pylist())
    assert legacy & keys  # a legacy course keeps its legacy key
    assert not {k for k in keys if k and k.startswith("course-v1:MITx+6.002x+2012_Fall")}


def test_catalog_assets_land_programs_courses_and_runs(location: Location) -> None:
    result = location.run(asset_selection=CATALOG_KEYS)
    assert result.success
    folder = location.lake / "raw" / "edxorg"
    runs = pq.read_table(folder / "catalog_course_runs" / "data.parquet").to_pylist()
    data = EdxorgData.for_institution(INSTITUTION)
    assert [r["course_run_key"] for r in runs] == [
        c.course_id for c in data.courses if c.ccx_of is None
    ]
    assert runs[0]["retrieved_at"].endswith("Z")
    programs = pq.read_table(folder / "catalog_programs" / "data.parquet").to_pylist()
    assert programs
    assert all(p["course_keys"] for p in programs)
    courses = pq.read_table(folder / "catalog_courses" / "data.parquet")
    assert courses.num_rows >= 1
