"""Small, realistic raw Open edX API tables (docs/contracts.md, "Raw Open edX tables") as Parquet.

Edge cases on purpose: a null end date, `...Z`, `...+00:00` and fractional-second timestamps (also
in `retrieved_at`: xpro's rows were landed before both sources wrote `...Z`), an enrollment row
repeated verbatim, non-ASCII usernames, and one table written under a hive-style `dt=` partition
folder (the dbt source's glob must read both layouts). The schemas are the location's own
declarations (ol_orchestrate.resources.openedx).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ol_orchestrate.resources.openedx import (
    COURSE_BLOCKS_SCHEMA,
    COURSE_RUNS_SCHEMA,
    ENROLLMENTS_SCHEMA,
)

MITX_600 = "course-v1:MITxT+6.00.1x+1T2024"
MITX_1801 = "course-v1:MITxT+18.01x+3T2024"
XPRO_DS = "course-v1:xPRO+DSx+R1"

MITXONLINE_RETRIEVED = "2024-01-13T06:00:00Z"
XPRO_RETRIEVED = "2024-01-13T07:00:00+00:00"  # as landed before `retrieved_now()` (...Z)

# Every username in the fixture: none may appear in any mart.
USERNAMES = ("alice", "bob_verified", "josé_ñúñez", "carol", "дмитрий", "erin")


def _course_run(deployment: str, retrieved_at: str, course_id: str, **fields: object) -> dict:
    org, number, run = course_id.removeprefix("course-v1:").split("+")
    base_url = f"http://127.0.0.1:8765/openedx/{deployment}"
    row: dict[str, object] = {
        "deployment": deployment,
        "retrieved_at": retrieved_at,
        "course_id": course_id,
        "org": org,
        "number": number,
        "run": run,
        "hidden": False,
        "invitation_only": False,
        "mobile_available": True,
        "blocks_url": f"{base_url}/api/courses/v2/blocks/?course_id={course_id}",
    }
    row.update(fields)
    return row


def _blocks(deployment: str, retrieved_at: str, course_id: str, tree: list[tuple]) -> list[dict]:
    """`tree`: (short id, block type, parent short id, graded, format) in depth-first order."""
    key = course_id.removeprefix("course-v1:")
    rows = []
    for index, (short_id, block_type, parent, graded, block_format) in enumerate(tree):
        usage_key = f"block-v1:{key}+type@{block_type}+block@{short_id}"
        parent_key = None
        if parent is not None:
            parent_type = next(t[1] for t in tree if t[0] == parent)
            parent_key = f"block-v1:{key}+type@{parent_type}+block@{parent}"
        rows.append(
            {
                "deployment": deployment,
                "retrieved_at": retrieved_at,
                "course_id": course_id,
                "block_id": usage_key,
                "block_type": block_type,
                "block_title": f"{block_type.title()} {short_id}",
                "parent_block_id": parent_key,
                "block_index": index,
                "graded": graded,
                "block_format": block_format,
                "due": "2024-03-01T23:59:00Z" if graded and block_type == "sequential" else None,
                "lms_web_url": f"http://127.0.0.1:8765/courses/{course_id}/jump_to/{usage_key}",
            }
        )
    return rows


def raw_tables() -> dict[str, tuple[pa.Schema, list[dict]]]:
    """Rows of each raw table, keyed `<deployment>_<table>`."""
    mitx_runs = [
        _course_run(
            "mitxonline",
            MITXONLINE_RETRIEVED,
            MITX_600,
            course_name="Introduction to Computer Science and Programming Using Python",
            start="2024-01-15T00:00:00Z",
            end="2024-05-15T23:59:00Z",
            enrollment_start="2023-12-01T00:00:00+00:00",
            enrollment_end=None,
            pacing="instructor",
            short_description="An introduction to computation.",
        ),
        _course_run(
            "mitxonline",
            MITXONLINE_RETRIEVED,
            MITX_1801,
            course_name="Calculus 1A: Différentiation",
            start="2024-09-01T12:00:00.123456Z",
            end=None,
            enrollment_start=None,
            enrollment_end=None,
            pacing="self",
            short_description=None,
            hidden=True,
        ),
    ]
    xpro_runs = [
        _course_run(
            "xpro",
            XPRO_RETRIEVED,
            XPRO_DS,
            course_name="Data Science and Big Data Analytics",
            start="2024-02-01T00:00:00+00:00",
            end="2024-04-30T00:00:00Z",
            enrollment_start="2024-01-01T00:00:00Z",
            enrollment_end="2024-02-15T00:00:00+00:00",
            pacing="instructor",
            short_description="Making data-driven decisions.",
            invitation_only=True,
            mobile_available=False,
        ),
    ]
    mitx_blocks = _blocks(
        "mitxonline",
        MITXONLINE_RETRIEVED,
        MITX_600,
        [
            ("course", "course", None, False, None),
            ("ch1", "chapter", "course", False, None),
            ("seq1", "sequential", "ch1", True, "Homework"),
            ("vert1", "vertical", "seq1", True, None),
            ("prob1", "problem", "vert1", True, None),
            ("prob2", "problem", "vert1", True, None),
            ("vid1", "video", "vert1", False, None),
            ("seq2", "sequential", "ch1", False, None),
            ("vert2", "vertical", "seq2", False, None),
            ("html1", "html", "vert2", False, None),
            ("vid2", "video", "vert2", False, None),
            ("ch2", "chapter", "course", False, None),
            ("seq3", "sequential", "ch2", True, "Exam"),
            ("vert3", "vertical", "seq3", True, None),
            ("prob3", "problem", "vert3", True, None),
            ("prob4", "problem", "vert3", True, None),
        ],
    ) + _blocks(
        "mitxonline",
        MITXONLINE_RETRIEVED,
        MITX_1801,
        [
            ("course", "course", None, False, None),
            ("ch1", "chapter", "course", False, None),
            ("seq1", "sequential", "ch1", False, None),
            ("vert1", "vertical", "seq1", False, None),
            ("vid1", "video", "vert1", False, None),
        ],
    )
    xpro_blocks = _blocks(
        "xpro",
        XPRO_RETRIEVED,
        XPRO_DS,
        [
            ("course", "course", None, False, None),
            ("ch1", "chapter", "course", False, None),
            ("seq1", "sequential", "ch1", True, "Assignment"),
            ("vert1", "vertical", "seq1", True, None),
            ("prob1", "problem", "vert1", True, None),
        ],
    )

    def enrollment(deployment, retrieved_at, course_id, username, mode, active, created):
        return {
            "deployment": deployment,
            "retrieved_at": retrieved_at,
            "course_id": course_id,
            "username": username,
            "mode": mode,
            "is_active": active,
            "created": created,
        }

    alice = enrollment(
        "mitxonline", MITXONLINE_RETRIEVED, MITX_600, "alice", "audit", True, "2024-01-10T08:00:00Z"
    )
    mitx_enrollments = [
        alice,
        enrollment(
            "mitxonline",
            MITXONLINE_RETRIEVED,
            MITX_600,
            "bob_verified",
            "verified",
            True,
            "2024-01-10T20:30:00.500000Z",
        ),
        enrollment(
            "mitxonline",
            MITXONLINE_RETRIEVED,
            MITX_600,
            "josé_ñúñez",
            "verified",
            False,
            "2024-01-12T09:00:00+00:00",
        ),
        dict(alice),  # the API paged over the same record twice
        enrollment(
            "mitxonline",
            MITXONLINE_RETRIEVED,
            MITX_1801,
            "carol",
            "audit",
            True,
            "2024-01-12T00:00:00Z",
        ),
    ]
    xpro_enrollments = [
        enrollment(
            "xpro", XPRO_RETRIEVED, XPRO_DS, "дмитрий", "audit", True, "2024-01-11T10:00:00Z"
        ),
        enrollment(
            "xpro", XPRO_RETRIEVED, XPRO_DS, "erin", "honor", True, "2024-01-12T23:30:00+00:00"
        ),
    ]
    return {
        "mitxonline_course_runs": (COURSE_RUNS_SCHEMA, mitx_runs),
        "xpro_course_runs": (COURSE_RUNS_SCHEMA, xpro_runs),
        "mitxonline_course_blocks": (COURSE_BLOCKS_SCHEMA, mitx_blocks),
        "xpro_course_blocks": (COURSE_BLOCKS_SCHEMA, xpro_blocks),
        "mitxonline_enrollments": (ENROLLMENTS_SCHEMA, mitx_enrollments),
        "xpro_enrollments": (ENROLLMENTS_SCHEMA, xpro_enrollments),
    }


# One table in a hive-style partition folder, the others at the contract's flat path.
PARTITIONED_TABLES = {"xpro_enrollments": "dt=2024-01-13"}


def write_openedx_raw_lake(lake_root: Path) -> dict[str, Path]:
    """Write every raw Open edX API table under `<lake_root>/raw/openedx/`; return its files."""
    written = {}
    for name, (schema, rows) in raw_tables().items():
        folder = lake_root / "raw" / "openedx" / name
        if name in PARTITIONED_TABLES:
            folder = folder / PARTITIONED_TABLES[name]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "data.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
        written[name] = path
    return written
