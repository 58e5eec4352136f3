"""Raw edX.org tables (docs/contracts.md, "Raw edX.org tables") as the edxorg location lands them.

Written by the location's own code over the sandbox's edX.org: both weekly archives of the small
institution exploded with `explode_archive` (so every TSV quirk, the doubly encoded state JSON,
the changed header, legacy `MITx/6.002x/2012_Fall` and `course-v1:` courses, an edge.edx.org run
and a CCX reach dbt exactly as in production), the catalog tables from the sandbox catalog's
payloads through the row builders, and one day of edX.org tracking logs through the normalizer.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow.parquet as pq
from upath import UPath

from ol_orchestrate.lib.edxorg import explode_archive
from ol_orchestrate.resources.edxorg_catalog import (
    COURSE_RUNS,
    COURSES,
    PROGRAMS,
    course_rows,
    course_run_rows,
    program_rows,
)
from ol_sandbox.data import Institution
from ol_sandbox.edxorg import EdxorgData, build_archive
from ol_sandbox.edxorg.catalog import course_payloads, course_run_payload, program_payloads
from ol_sandbox.tracking_logs import deployment_days

EDXORG_INSTITUTION = Institution.from_size("small")
EDXORG_DATA = EdxorgData.for_institution(EDXORG_INSTITUTION)
EDXORG_LEGACY_COURSE = next(c.course_id for c in EDXORG_DATA.courses if c.legacy)
EDXORG_USERNAMES = EDXORG_DATA.usernames
EDXORG_RETRIEVED = "2026-01-20T07:00:00Z"


def write_edxorg_raw_lake(lake_root: Path) -> None:
    """Write the archive tables, the catalog tables and a day of tracking logs."""
    root = UPath(lake_root)
    for day in EDXORG_DATA.archive_dates:
        archive = lake_root / f"mitx-{day.isoformat()}.tar.gz"
        archive.write_bytes(build_archive(EDXORG_DATA, day))
        explode_archive(
            archive,
            lambda table, stem, day=day: (
                root / "raw" / "edxorg" / table / f"dt={day}" / f"{stem}.parquet"
            ),
            lambda table, stem, day=day: (
                root / "quarantine" / "edxorg" / table / f"dt={day}" / f"{stem}.jsonl"
            ),
            archive_date=day.isoformat(),
            retrieved_at=EDXORG_RETRIEVED,
        )
        archive.unlink()
    runs = [course_run_payload(c) for c in EDXORG_DATA.courses if c.ccx_of is None]
    for table, rows in (
        (PROGRAMS, program_rows(program_payloads(EDXORG_DATA), EDXORG_RETRIEVED)),
        (COURSES, course_rows(course_payloads(EDXORG_DATA), EDXORG_RETRIEVED)),
        (COURSE_RUNS, course_run_rows(runs, EDXORG_RETRIEVED)),
    ):
        folder = lake_root / "raw" / "edxorg" / table.name
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.to_table(rows), folder / "data.parquet")
    _write_tracking_log_day(lake_root)


def _write_tracking_log_day(lake_root: Path) -> None:
    from ol_orchestrate.lib.tracking_logs import normalize_files

    first = next(deployment_days(EDXORG_INSTITUTION, EDXORG_DATA.deployment()))
    day = first.day.isoformat()
    source = (
        lake_root / "landing" / "edxorg" / "tracking_logs" / day / f"mitx-edx-events-{day}.log.gz"
    )
    source.parent.mkdir(parents=True, exist_ok=True)
    lines = [line for name in sorted(first.files) for line in first.files[name]]
    source.write_bytes(gzip.compress("".join(f"{line}\n" for line in lines).encode(), mtime=0))
    folder = lake_root / "raw" / "edxorg" / "edxorg_tracking_logs" / f"dt={day}"
    normalize_files(
        [source],
        folder / "data.parquet",
        lake_root
        / "quarantine"
        / "edxorg"
        / "edxorg_tracking_logs"
        / f"dt={day}"
        / "rejects.parquet",
        source_name="edxorg",
    )
