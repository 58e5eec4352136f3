"""The OLX export of every course of the day, from the deployment's Studio, into the lake.

For the courses of the day's course list (the extracted `course_overviews_courseoverview`),
the asset starts one Studio export per course, polls the tasks within a bounded wait, downloads
each tarball as its task succeeds (every request through the shared `ApiClient`: throttling,
5xx, resets and cut bodies are retried) and parses it with the OLX parser (`ol_orchestrate.lib
.olx`): a tarball that is not the course's export fails the run like a failed task. The tarballs
are staged in a temporary folder and written to the lake only when every course's export is in,

    raw/legacy_openedx/<deployment>_course_exports/dt=<YYYY-MM-DD>/<course_id>.tar.gz

beside the table of what was exported (`data.parquet`, `COURSE_EXPORTS`). A failed or
timed-out export leaves nothing of the run; the next run starts every export again.
"""

import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
from upath import UPath

from legacy_openedx.extraction import SOURCE, group_name, healthcheck_resource_key, table_key
from legacy_openedx.tables import COURSE_EXPORTS, COURSE_OVERVIEWS
from ol_orchestrate.io_managers import lake_path_for, read_table_at, write_bytes_atomic
from ol_orchestrate.lib.automation import Cadence, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.olx import OlxError, parse_olx
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.lib.raw_tables import retrieved_now
from ol_orchestrate.resources.healthchecks import HealthcheckResource
from ol_orchestrate.resources.openedx_studio import (
    CourseExportError,
    ExportTask,
    OpenEdxStudioResource,
)

TARBALL_SUFFIX = ".tar.gz"
DEFAULT_RETRY = dg.RetryPolicy(max_retries=1, delay=30)


def course_exports_key(deployment: str) -> dg.AssetKey:
    return table_key(deployment, COURSE_EXPORTS.name)


def studio_resource_key(deployment: str) -> str:
    return f"legacy_openedx_{deployment}_studio"


def tarball_name(course_id: str) -> str:
    """The tarball's file name: the course id (`%` and `/` escaped, so a legacy
    `Org/Num/Run` id stays one file)."""
    return course_id.replace("%", "%25").replace("/", "%2F") + TARBALL_SUFFIX


def exports_folder(lake_root: str, deployment: str, partition: str) -> UPath:
    """The day's folder of tarballs (and of the table's `data.parquet`)."""
    return lake_path_for(lake_root, course_exports_key(deployment), partition).parent


def course_ids_of_day(lake_root: str, deployment: str, partition: str) -> list[str]:
    """The day's course list: the distinct ids of the extracted course overviews."""
    key = table_key(deployment, COURSE_OVERVIEWS.name)
    table = read_table_at(lake_path_for(lake_root, key, partition), key)
    return sorted({str(value) for value in table.column("id").to_pylist() if value})


def _export_row(
    deployment: str, task: ExportTask, data: bytes, target: UPath, retrieved_at: str
) -> dict[str, Any]:
    """The course's `COURSE_EXPORTS` row; a tarball that is not the course's OLX export is a
    `CourseExportError`."""
    try:
        course = parse_olx(data)
    except OlxError as error:
        msg = f"Studio export of {task.course_id} is not an OLX course export: {error}"
        raise CourseExportError(
            msg, course_id=task.course_id, task_id=task.task_id, state="Succeeded"
        ) from None
    if task.course_id.startswith("course-v1:") and course.course_key != task.course_id:
        msg = f"Studio export of {task.course_id} (task {task.task_id}) is of {course.course_key}"
        raise CourseExportError(
            msg, course_id=task.course_id, task_id=task.task_id, state="Succeeded"
        )
    counts = course.block_counts()
    return COURSE_EXPORTS.row(
        deployment=deployment,
        course_id=task.course_id,
        task_id=task.task_id,
        export_path=str(target),
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        course_title=course.display_name,
        block_count=len(course.blocks),
        problem_count=counts.get("problem", 0),
        video_count=counts.get("video", 0),
        retrieved_at=retrieved_at,
    )


def export_courses(
    context: dg.AssetExecutionContext,
    deployment: str,
    studio: OpenEdxStudioResource,
    course_ids: Sequence[str],
    folder: UPath,
) -> list[dict[str, Any]]:
    """Export every course, then write every tarball under `folder`; the table's rows."""
    retrieved_at = retrieved_now()
    rows: dict[str, dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix=f"ol-olx-{deployment}-") as scratch,
        studio.client() as client,
    ):
        staged: dict[str, Path] = {}

        def downloaded(task: ExportTask) -> None:
            data = client.download(task)
            target = folder / tarball_name(task.course_id)
            rows[task.course_id] = _export_row(deployment, task, data, target, retrieved_at)
            staged[task.course_id] = Path(scratch) / f"{len(staged)}{TARBALL_SUFFIX}"
            staged[task.course_id].write_bytes(data)

        tasks = client.start_exports(course_ids)
        context.log.info(f"{len(tasks)} Studio export(s) started")
        client.wait_for_exports(
            tasks.values(),
            timeout_s=studio.export_timeout_seconds,
            poll_interval_s=studio.export_poll_interval_seconds,
            on_done=downloaded,
            log=context.log,
        )
        # Every export is in: only now does the lake see the run's tarballs.
        for course_id in course_ids:
            write_bytes_atomic(folder / tarball_name(course_id), staged[course_id].read_bytes())
    keep = {tarball_name(course_id) for course_id in course_ids}
    if folder.exists():
        for path in folder.iterdir():
            if path.name.endswith(TARBALL_SUFFIX) and path.name not in keep:
                path.unlink()  # a course no longer in the list (an earlier run of the day)
    return [rows[course_id] for course_id in course_ids]


def build_course_exports_asset(
    deployment: str,
    partitions_def: dg.PartitionsDefinition,
    cadence: Cadence,
    *,
    retry_policy: dg.RetryPolicy | None = DEFAULT_RETRY,
) -> dg.AssetsDefinition:
    """`legacy_openedx/raw/<deployment>_course_exports`: the day's OLX export of every course."""
    studio_key = studio_resource_key(deployment)
    healthcheck_key = healthcheck_resource_key(deployment)

    @dg.asset(
        key=course_exports_key(deployment),
        group_name=group_name(deployment),
        kinds={"openedx", "parquet"},
        description=(
            f"The OLX export of every {deployment} course of the day from Studio's course export "
            f"API: the tarballs under raw/{SOURCE}/{deployment}_course_exports/dt=<day>/"
            "<course_id>.tar.gz, and one row per course (task, size, sha256, its blocks)."
        ),
        partitions_def=partitions_def,
        deps=[table_key(deployment, COURSE_OVERVIEWS.name)],
        required_resource_keys={studio_key, healthcheck_key},
        retry_policy=retry_policy,
        **raw_asset_automation(cadence),
    )
    def course_exports(context: dg.AssetExecutionContext) -> pa.Table:
        studio: OpenEdxStudioResource = getattr(context.resources, studio_key)
        healthcheck: HealthcheckResource = getattr(context.resources, healthcheck_key)
        lake_root = get_settings().lake_root
        day = context.partition_key
        try:
            course_ids = course_ids_of_day(lake_root, deployment, day)
            folder = exports_folder(lake_root, deployment, day)
            rows = export_courses(context, deployment, studio, course_ids, folder)
            table = land_rows(
                context, rows, COURSE_EXPORTS.schema, COURSE_EXPORTS.required, lake_root
            )
        except Exception as error:
            healthcheck.ping("fail", f"{deployment} OLX exports {day} failed: {error}", context.log)
            raise
        context.add_output_metadata(
            {
                "courses": len(course_ids),
                "bytes": sum(row["size_bytes"] for row in rows),
                "blocks": sum(row["block_count"] for row in rows),
                "folder": str(folder),
            }
        )
        return table

    return course_exports
