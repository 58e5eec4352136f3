"""The course content export (.imscc) of one Canvas course, stored once per distinct content.

Starts a Common Cartridge export, polls it with a bounded wait, downloads the file and stores it
at `raw/canvas/course_exports/<course_id>/<content_hash>.imscc`. The hash ignores the
manifest's timestamps, so re-exporting an unchanged course finds its file already there and
stores nothing (`skipped_unchanged`). A `failed` or timed-out export fails the partition with the
export's own workflow_state in the message.
"""

import dagster as dg
import pyarrow as pa
from upath import UPath

from canvas.factory import CANVAS_CADENCE, GROUP, KINDS, raw_key
from canvas.partitions import CANVAS_COURSES
from canvas.tables import CONTENT_EXPORTS_SCHEMA, content_export_row, retrieved_now
from ol_orchestrate.io_managers import lake_path_for, write_bytes_atomic
from ol_orchestrate.lib.automation import raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.resources.canvas import CanvasApiClientFactory, imscc_content_hash

EXPORTS_KEY = ("canvas", "raw", "course_exports")


def export_path(lake_root: str, course_id: str, content_hash: str) -> UPath:
    """`<lake_root>/raw/canvas/course_exports/<course_id>/<content_hash>.imscc`."""
    folder = lake_path_for(lake_root, EXPORTS_KEY).parent
    safe_course = course_id.replace("%", "%25").replace("/", "%2F")
    return folder / safe_course / f"{content_hash}.imscc"


@dg.asset(
    key=raw_key("content_exports"),
    group_name=GROUP,
    kinds=KINDS,
    partitions_def=CANVAS_COURSES,
    description=(
        "The course's Common Cartridge content export: one row for this run's export (id, "
        "content hash, where the .imscc is stored, size, whether an identical export was "
        "already stored). The .imscc itself is kept at "
        "raw/canvas/course_exports/<course_id>/<content_hash>.imscc."
    ),
    **raw_asset_automation(CANVAS_CADENCE),
)
def content_exports(
    context: dg.AssetExecutionContext, canvas_api: CanvasApiClientFactory
) -> pa.Table:
    course_id = context.partition_key
    lake_root = get_settings().lake_root
    retrieved_at = retrieved_now()
    with canvas_api.get_client() as client:
        completed = client.export_course(
            course_id,
            timeout_s=canvas_api.export_timeout_seconds,
            poll_interval_s=canvas_api.export_poll_interval_seconds,
        )
    content_hash = imscc_content_hash(completed.data)
    path = export_path(lake_root, course_id, content_hash)
    skipped = path.exists()
    if skipped:
        context.log.info(
            f"course {course_id}: content unchanged ({content_hash}); not stored again"
        )
    else:
        write_bytes_atomic(path, completed.data)
    context.add_output_metadata(
        {
            "export_id": completed.export_id,
            "content_hash": content_hash,
            "export_path": dg.MetadataValue.path(str(path)),
            "export_bytes": len(completed.data),
            "skipped_unchanged": skipped,
        }
    )
    row = content_export_row(
        course_id,
        completed.export,
        content_hash=content_hash,
        lake_path=str(path),
        size_bytes=len(completed.data),
        skipped_unchanged=skipped,
        retrieved_at=retrieved_at,
    )
    return land_rows(
        context, [row], CONTENT_EXPORTS_SCHEMA, ["export_id", "content_hash"], lake_root
    )
