"""Raw legacy Open edX LMS tables (docs/contracts.md, "legacy_openedx") as Parquet, written by
the location's own extraction code from the sandbox's LMS databases (SQLite): residential MITx,
MITx Online and xPro (the same LMS ids in every deployment: users from 1000, enrollments from 1),
two daily partitions, the second an incremental studentmodule read after two rows changed; and
each course's forum posts and OLX export row (from the sandbox's forum and Studio, through the
location's row builders). xPro's forum and exports are not extracted yet: its staging reads no
row of them.

raw/legacy_openedx/<deployment>_<table>/dt=<day>/data.parquet, as the legacy_openedx location
lands them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import create_engine

from legacy_openedx.extraction import table_key
from legacy_openedx.tables import COURSE_EXPORTS, FORUM_POSTS, LMS_TABLES
from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.olx import parse_olx
from ol_orchestrate.lib.sql_extract import read_snapshot, stage_table
from ol_orchestrate.resources.openedx_forum import forum_post_rows
from ol_sandbox.data import Institution
from ol_sandbox.edxapp import edxapp_deployment, edxapp_tables, write_sqlite
from ol_sandbox.forum import forum_threads
from ol_sandbox.forum.routes import comment_payload, thread_payload
from ol_sandbox.studio import course_export

RESIDENTIAL_DAYS = ("2026-01-19", "2026-01-20")
RESIDENTIAL_DEPLOYMENTS = ("mitx", "mitxonline", "xpro")
# Deployments whose forum and OLX exports the fixture lands (xpro's are not extracted yet).
RESIDENTIAL_FORUM_DEPLOYMENTS = ("mitx", "mitxonline")
# The studentmodule rows changed between the two extractions, and their new grade.
RESIDENTIAL_CHANGED_MODULES = {1: 0.25, 2: 0.25}


def _institution() -> Institution:
    return Institution.generate(seed=7, courses=2, learners=12, days=7, deployments=())


def _write(table: object, lake_root: Path, deployment: str, name: str, day: str) -> None:
    path = Path(lake_path_for(str(lake_root), table_key(deployment, name), day).path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)  # type: ignore[arg-type]


def _write_lms_tables(lake_root: Path, institution: Institution, deployment: str) -> None:
    tables = edxapp_tables(institution, deployment)
    with tempfile.TemporaryDirectory(prefix="raw-lake-edxapp-") as scratch:
        database = write_sqlite(Path(scratch) / "edxapp.sqlite", tables)
        engine = create_engine(f"sqlite:///{database}")
        try:
            for index, day in enumerate(RESIDENTIAL_DAYS):
                if index:
                    with sqlite3.connect(database) as connection:
                        for module_id, grade in RESIDENTIAL_CHANGED_MODULES.items():
                            connection.execute(
                                "UPDATE courseware_studentmodule SET grade = ?, "
                                "modified = '2026-02-01 00:00:00.000000' WHERE id = ?",
                                (grade, module_id),
                            )
                with read_snapshot(engine) as snapshot:
                    for table in LMS_TABLES:
                        since = (
                            "2026-01-31 00:00:00.000000" if index and table.incremental else None
                        )
                        target = lake_path_for(
                            str(lake_root), table_key(deployment, table.name), day
                        )
                        stage_table(
                            snapshot,
                            table.query,
                            table.raw,
                            target,
                            values={"deployment": deployment, "retrieved_at": f"{day}T06:00:00Z"},
                            since=since,
                        ).commit()
        finally:
            engine.dispose()


def _write_forum_and_exports(lake_root: Path, institution: Institution, deployment: str) -> None:
    day = RESIDENTIAL_DAYS[-1]
    retrieved_at = f"{day}T06:30:00Z"
    posts = []
    for threads in forum_threads(institution, deployment).values():
        for thread in threads:
            payload = thread_payload(thread)
            payload["responses"] = [comment_payload(r, thread, 0) for r in thread.responses]
            posts.extend(forum_post_rows(deployment, payload, retrieved_at))
    _write(FORUM_POSTS.to_table(posts), lake_root, deployment, FORUM_POSTS.name, day)
    exports = []
    for course in edxapp_deployment(institution, deployment).course_runs:
        data = course_export(course)
        olx = parse_olx(data)
        counts = olx.block_counts()
        exports.append(
            COURSE_EXPORTS.row(
                deployment=deployment,
                course_id=course.course_id,
                task_id=f"task-{course.number}",
                export_path=f"raw/legacy_openedx/{deployment}_course_exports/dt={day}/x.tar.gz",
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                course_title=olx.display_name,
                block_count=len(olx.blocks),
                problem_count=counts.get("problem", 0),
                video_count=counts.get("video", 0),
                retrieved_at=retrieved_at,
            )
        )
    _write(COURSE_EXPORTS.to_table(exports), lake_root, deployment, COURSE_EXPORTS.name, day)


def write_legacy_openedx_raw_lake(lake_root: Path) -> None:
    institution = _institution()
    for deployment in RESIDENTIAL_DEPLOYMENTS:
        _write_lms_tables(lake_root, institution, deployment)
    for deployment in RESIDENTIAL_FORUM_DEPLOYMENTS:
        _write_forum_and_exports(lake_root, institution, deployment)
