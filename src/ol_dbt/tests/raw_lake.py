"""Small, realistic raw Open edX tables (docs/contracts.md, "Raw Open edX tables") as Parquet.

Edge cases on purpose: a null end date, `...Z`, `...+00:00` and fractional-second timestamps, an
enrollment row repeated verbatim, non-ASCII usernames, and one table written under a hive-style
`dt=` partition folder (the dbt source's glob must read both layouts).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

COURSE_RUNS_SCHEMA = pa.schema(
    [
        ("deployment", pa.string()),
        ("retrieved_at", pa.string()),
        ("course_id", pa.string()),
        ("course_name", pa.string()),
        ("org", pa.string()),
        ("number", pa.string()),
        ("run", pa.string()),
        ("start", pa.string()),
        ("end", pa.string()),
        ("enrollment_start", pa.string()),
        ("enrollment_end", pa.string()),
        ("pacing", pa.string()),
        ("short_description", pa.string()),
        ("hidden", pa.bool_()),
        ("invitation_only", pa.bool_()),
        ("mobile_available", pa.bool_()),
        ("blocks_url", pa.string()),
    ]
)

COURSE_BLOCKS_SCHEMA = pa.schema(
    [
        ("deployment", pa.string()),
        ("retrieved_at", pa.string()),
        ("course_id", pa.string()),
        ("block_id", pa.string()),
        ("block_type", pa.string()),
        ("block_title", pa.string()),
        ("parent_block_id", pa.string()),
        ("block_index", pa.int64()),
        ("graded", pa.bool_()),
        ("block_format", pa.string()),
        ("due", pa.string()),
        ("lms_web_url", pa.string()),
    ]
)

ENROLLMENTS_SCHEMA = pa.schema(
    [
        ("deployment", pa.string()),
        ("retrieved_at", pa.string()),
        ("course_id", pa.string()),
        ("username", pa.string()),
        ("mode", pa.string()),
        ("is_active", pa.bool_()),
        ("created", pa.string()),
    ]
)

MITX_600 = "course-v1:MITxT+6.00.1x+1T2024"
MITX_1801 = "course-v1:MITxT+18.01x+3T2024"
XPRO_DS = "course-v1:xPRO+DSx+R1"

MITXONLINE_RETRIEVED = "2024-01-13T06:00:00Z"
XPRO_RETRIEVED = "2024-01-13T07:00:00+00:00"

# The salt the test build hashes usernames with (OL_PII_SALT).
PII_SALT = "pytest-salt"

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


def write_raw_lake(lake_root: Path) -> dict[str, Path]:
    """Write every raw table under `<lake_root>/raw/openedx/` (and the Canvas ones under
    `raw/canvas/`, write_canvas_raw_lake); return the file of each Open edX table."""
    written = {}
    for name, (schema, rows) in raw_tables().items():
        folder = lake_root / "raw" / "openedx" / name
        if name in PARTITIONED_TABLES:
            folder = folder / PARTITIONED_TABLES[name]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "data.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
        written[name] = path
    write_canvas_raw_lake(lake_root)
    write_tracking_logs_raw_lake(lake_root)
    return written


# --- Canvas ------------------------------------------------------------------------------------
# Raw Canvas tables (docs/contracts.md, "Raw Canvas tables"), one object per course at
# raw/canvas/<table>/dt=<course_id>/data.parquet. Edge cases on purpose: a sharded user id too
# large for a 32-bit integer and a non-numeric assignment id (ids are strings), null timestamps,
# `Z`, offset (`-05:00`, `+01:00`) and fractional-second timestamps, an enrollment and a
# submission row repeated verbatim (Canvas paging), a student in two sections, late, missing
# (by Canvas's flag and by the due date alone), excused and extended submissions, a zero-points
# and a null-points assignment, non-ASCII names, and a course whose module/page/file tables
# landed empty.

CANVAS_PHYSICS = "10001"
CANVAS_SPANISH = "10002"
CANVAS_PHYSICS_RETRIEVED = "2024-03-15T06:00:00Z"
CANVAS_SPANISH_RETRIEVED = "2024-03-15T06:05:00Z"
CANVAS_SHARDED_USER = "170000000000042"
CANVAS_ZERO_POINTS_ASSIGNMENT = "quiz_lti_7"

_S, _B, _I, _F = pa.string(), pa.bool_(), pa.int64(), pa.float64()


def _canvas_schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([("course_id", _S), *columns, ("retrieved_at", _S)])


CANVAS_SCHEMAS: dict[str, pa.Schema] = {
    "courses": _canvas_schema(
        *[
            (name, _S)
            for name in (
                "course_name",
                "course_code",
                "sis_course_id",
                "course_uuid",
                "workflow_state",
                "account_id",
                "account_name",
                "root_account_id",
                "enrollment_term_id",
                "term_name",
                "term_start_at",
                "term_end_at",
                "start_at",
                "end_at",
                "created_at",
                "time_zone",
                "default_view",
            )
        ],
        ("is_public", _B),
    ),
    "sections": _canvas_schema(
        ("section_id", _S),
        ("section_name", _S),
        ("sis_section_id", _S),
        ("start_at", _S),
        ("end_at", _S),
        ("restrict_enrollments_to_section_dates", _B),
        ("created_at", _S),
    ),
    "enrollments": _canvas_schema(
        *[
            (name, _S)
            for name in (
                "enrollment_id",
                "user_id",
                "section_id",
                "enrollment_type",
                "role",
                "role_id",
                "enrollment_state",
                "created_at",
                "updated_at",
                "last_activity_at",
            )
        ],
        ("total_activity_time_seconds", _I),
        ("current_score", _F),
        ("final_score", _F),
        ("current_grade", _S),
        ("final_grade", _S),
    ),
    "users": _canvas_schema(
        *[
            (name, _S)
            for name in (
                "user_id",
                "user_name",
                "sortable_name",
                "user_email",
                "login_id",
                "sis_user_id",
                "created_at",
            )
        ]
    ),
    "assignments": _canvas_schema(
        ("assignment_id", _S),
        ("assignment_group_id", _S),
        ("assignment_name", _S),
        ("assignment_position", _I),
        ("points_possible", _F),
        ("grading_type", _S),
        ("submission_types", _S),
        ("due_at", _S),
        ("unlock_at", _S),
        ("lock_at", _S),
        ("published", _B),
        ("omit_from_final_grade", _B),
        ("created_at", _S),
        ("updated_at", _S),
        ("html_url", _S),
    ),
    "assignment_groups": _canvas_schema(
        ("assignment_group_id", _S),
        ("assignment_group_name", _S),
        ("assignment_group_position", _I),
        ("group_weight", _F),
    ),
    "submissions": _canvas_schema(
        ("submission_id", _S),
        ("assignment_id", _S),
        ("user_id", _S),
        ("attempt", _I),
        ("score", _F),
        ("grade", _S),
        ("submitted_at", _S),
        ("graded_at", _S),
        ("late", _B),
        ("missing", _B),
        ("excused", _B),
        ("workflow_state", _S),
        ("submission_type", _S),
        ("seconds_late", _I),
        ("late_policy_status", _S),
    ),
    "modules": _canvas_schema(
        ("module_id", _S),
        ("module_name", _S),
        ("module_position", _I),
        ("unlock_at", _S),
        ("require_sequential_progress", _B),
        ("published", _B),
        ("items_count", _I),
    ),
    "module_items": _canvas_schema(
        ("module_id", _S),
        ("module_item_id", _S),
        ("module_item_position", _I),
        ("item_title", _S),
        ("item_type", _S),
        ("content_id", _S),
        ("page_url", _S),
        ("external_url", _S),
        ("indent", _I),
        ("published", _B),
    ),
    "pages": _canvas_schema(
        ("page_id", _S),
        ("page_url", _S),
        ("page_title", _S),
        ("created_at", _S),
        ("updated_at", _S),
        ("published", _B),
        ("front_page", _B),
        ("editing_roles", _S),
    ),
    "files": _canvas_schema(
        ("file_id", _S),
        ("folder_id", _S),
        ("display_name", _S),
        ("filename", _S),
        ("content_type", _S),
        ("size_bytes", _I),
        ("created_at", _S),
        ("updated_at", _S),
        ("modified_at", _S),
        ("locked", _B),
        ("hidden", _B),
    ),
    "folders": _canvas_schema(
        ("folder_id", _S),
        ("parent_folder_id", _S),
        ("folder_name", _S),
        ("full_name", _S),
        ("folder_position", _I),
        ("files_count", _I),
        ("folders_count", _I),
        ("created_at", _S),
        ("updated_at", _S),
        ("locked", _B),
        ("hidden", _B),
    ),
    "content_exports": _canvas_schema(
        ("export_id", _S),
        ("export_type", _S),
        ("workflow_state", _S),
        ("content_hash", _S),
        ("lake_path", _S),
        ("size_bytes", _I),
        ("exported_at", _S),
        ("skipped_unchanged", _B),
    ),
}

# user_id -> (user_name, sortable_name, user_email, login_id, sis_user_id): every one of these
# values is personal data that must not appear in any model after raw.
CANVAS_USERS: dict[str, tuple[str, str, str, str, str | None]] = {
    "501": ("Alice Nguyen", "Nguyen, Alice", "alice.nguyen@example.edu", "anguyen", "MIT900001"),
    "502": ("José Ñúñez", "Ñúñez, José", "Jose.Nunez@Example.edu", "jnunez", "MIT900002"),
    CANVAS_SHARDED_USER: (
        "Дмитрий Иванов",
        "Иванов, Дмитрий",
        "dmitry@example.org",
        "divanov",
        None,
    ),
    "503": ("Carol Brown", "Brown, Carol", "carol.brown@example.edu", "cbrown", "MIT900003"),
    "601": ("Ada Lovelace", "Lovelace, Ada", "ada.lovelace@example.edu", "alovelace", "MIT100001"),
    "603": ("Grace Hopper", "Hopper, Grace", "grace.hopper@example.edu", "ghopper", "MIT100002"),
    "702": ("Zoë Ångström", "Ångström, Zoë", "zoe.angstrom@example.se", "zangstrom", "MIT900004"),
}
CANVAS_USERS_BY_COURSE = {
    CANVAS_PHYSICS: ("501", "502", CANVAS_SHARDED_USER, "503", "601", "603"),
    CANVAS_SPANISH: ("502", "702"),
}
CANVAS_PERSONAL_VALUES = tuple(
    value for fields in CANVAS_USERS.values() for value in fields if value is not None
)


def _canvas_rows(course_id: str, retrieved_at: str, rows: list[dict]) -> list[dict]:
    return [{"course_id": course_id, **row, "retrieved_at": retrieved_at} for row in rows]


def _canvas_enrollment(
    enrollment_id: str,
    user_id: str,
    section_id: str,
    enrollment_type: str,
    state: str,
    *,
    role: str | None = None,
    role_id: str = "3",
    last_activity_at: str | None = None,
    scores: tuple[float | None, float | None, str | None, str | None] = (None, None, None, None),
) -> dict:
    current_score, final_score, current_grade, final_grade = scores
    return {
        "enrollment_id": enrollment_id,
        "user_id": user_id,
        "section_id": section_id,
        "enrollment_type": enrollment_type,
        "role": role or enrollment_type,
        "role_id": role_id,
        "enrollment_state": state,
        "created_at": "2024-01-20T10:00:00Z",
        "updated_at": "2024-02-01T10:00:00Z",
        "last_activity_at": last_activity_at,
        "total_activity_time_seconds": 5400 if last_activity_at else 0,
        "current_score": current_score,
        "final_score": final_score,
        "current_grade": current_grade,
        "final_grade": final_grade,
    }


def _canvas_assignment(
    assignment_id: str,
    group_id: str,
    name: str,
    position: int,
    points: float | None,
    submission_types: str,
    due_at: str | None,
    *,
    grading_type: str = "points",
    published: bool = True,
) -> dict:
    return {
        "assignment_id": assignment_id,
        "assignment_group_id": group_id,
        "assignment_name": name,
        "assignment_position": position,
        "points_possible": points,
        "grading_type": grading_type,
        "submission_types": submission_types,
        "due_at": due_at,
        "unlock_at": None,
        "lock_at": None,
        "published": published,
        "omit_from_final_grade": False,
        "created_at": "2024-01-15T12:00:00Z",
        "updated_at": "2024-01-16T12:00:00.250Z",
        "html_url": f"http://127.0.0.1:8765/canvas/courses/assignments/{assignment_id}",
    }


def _canvas_submission(
    submission_id: str,
    assignment_id: str,
    user_id: str,
    submitted_at: str | None,
    *,
    score: float | None = None,
    grade: str | None = None,
    late: bool | None = False,
    missing: bool | None = False,
    excused: bool | None = False,
    workflow_state: str | None = None,
    seconds_late: int = 0,
    late_policy_status: str | None = None,
) -> dict:
    graded = score is not None
    return {
        "submission_id": submission_id,
        "assignment_id": assignment_id,
        "user_id": user_id,
        "attempt": 1 if submitted_at else None,
        "score": score,
        "grade": grade if grade is not None else (None if score is None else f"{score:g}"),
        "submitted_at": submitted_at,
        "graded_at": "2024-03-05T12:00:00Z" if graded else None,
        "late": late,
        "missing": missing,
        "excused": excused,
        "workflow_state": workflow_state
        or ("graded" if graded else "submitted" if submitted_at else "unsubmitted"),
        "submission_type": "online_upload" if submitted_at else None,
        "seconds_late": seconds_late,
        "late_policy_status": late_policy_status,
    }


def canvas_raw_tables() -> dict[str, tuple[pa.Schema, dict[str, list[dict]]]]:
    """Rows of each raw Canvas table, keyed table -> course_id -> rows."""
    physics, spanish = CANVAS_PHYSICS, CANVAS_SPANISH
    dmitry = CANVAS_SHARDED_USER
    courses = {
        physics: [
            {
                "course_name": "Classical Mechanics",
                "course_code": "8.01",
                "sis_course_id": "MIT-8.01-S24",
                "course_uuid": "c7a4f0d2-8.01",
                "workflow_state": "available",
                "account_id": "12",
                "account_name": "Department of Physics",
                "root_account_id": "1",
                "enrollment_term_id": "5",
                "term_name": "Spring 2024",
                "term_start_at": "2024-02-05T05:00:00Z",
                "term_end_at": "2024-05-20T04:00:00Z",
                "start_at": "2024-02-06T09:00:00-05:00",
                "end_at": None,
                "created_at": "2023-12-01T15:30:00.123456Z",
                "time_zone": "America/New_York",
                "default_view": "modules",
                "is_public": False,
            }
        ],
        spanish: [
            {
                "course_name": "Introducción a la Programación",
                "course_code": "6.0001-ES",
                "sis_course_id": None,
                "course_uuid": "e1b2-6.0001-es",
                "workflow_state": "unpublished",
                "account_id": "13",
                "account_name": "Open Learning",
                "root_account_id": "1",
                "enrollment_term_id": "1",
                "term_name": "Default Term",
                "term_start_at": None,
                "term_end_at": None,
                "start_at": "2024-03-01T00:00:00+00:00",
                "end_at": "2024-06-30T23:59:59Z",
                "created_at": "2024-01-02T08:00:00Z",
                "time_zone": "Europe/Madrid",
                "default_view": "wiki",
                "is_public": True,
            }
        ],
    }
    sections = {
        physics: [
            {
                "section_id": "20001",
                "section_name": "Lecture L01",
                "sis_section_id": "MIT-8.01-L01",
                "start_at": None,
                "end_at": None,
                "restrict_enrollments_to_section_dates": False,
                "created_at": "2023-12-01T15:30:00Z",
            },
            {
                "section_id": "20002",
                "section_name": "Recitation R02",
                "sis_section_id": None,
                "start_at": "2024-02-07T14:00:00Z",
                "end_at": "2024-05-15T21:00:00+00:00",
                "restrict_enrollments_to_section_dates": True,
                "created_at": "2023-12-02T15:30:00Z",
            },
        ],
        spanish: [
            {
                "section_id": "20003",
                "section_name": "Sección única",
                "sis_section_id": None,
                "start_at": None,
                "end_at": None,
                "restrict_enrollments_to_section_dates": False,
                "created_at": "2024-01-02T08:00:00Z",
            }
        ],
    }
    alice_enrollment = _canvas_enrollment(
        "30001",
        "501",
        "20001",
        "StudentEnrollment",
        "active",
        last_activity_at="2024-03-14T22:15:00-04:00",
        scores=(85.5, 60.25, "B", "D"),
    )
    enrollments = {
        physics: [
            alice_enrollment,
            _canvas_enrollment("30002", "502", "20001", "StudentEnrollment", "active"),
            # the same student in a second section: two enrollments, one student
            _canvas_enrollment("30003", "502", "20002", "StudentEnrollment", "active"),
            _canvas_enrollment("30004", dmitry, "20002", "StudentEnrollment", "active"),
            _canvas_enrollment("30005", "503", "20001", "StudentEnrollment", "inactive"),
            _canvas_enrollment("30006", "601", "20001", "TeacherEnrollment", "active", role_id="4"),
            _canvas_enrollment(
                "30007", "603", "20001", "TaEnrollment", "invited", role="Grader", role_id="17"
            ),
            dict(alice_enrollment),  # the API paged over the same record twice
        ],
        spanish: [
            _canvas_enrollment("30101", "502", "20003", "StudentEnrollment", "active"),
            _canvas_enrollment("30102", "702", "20003", "StudentEnrollment", "invited"),
        ],
    }
    users = {
        course_id: [
            {
                "user_id": user_id,
                "user_name": CANVAS_USERS[user_id][0],
                "sortable_name": CANVAS_USERS[user_id][1],
                "user_email": CANVAS_USERS[user_id][2],
                "login_id": CANVAS_USERS[user_id][3],
                "sis_user_id": CANVAS_USERS[user_id][4],
                "created_at": "2023-09-01T12:00:00Z",
            }
            for user_id in user_ids
        ]
        for course_id, user_ids in CANVAS_USERS_BY_COURSE.items()
    }
    assignment_groups = {
        physics: [
            {
                "assignment_group_id": "40001",
                "assignment_group_name": "Problem Sets",
                "assignment_group_position": 1,
                "group_weight": 60.0,
            },
            {
                "assignment_group_id": "40002",
                "assignment_group_name": "Exams",
                "assignment_group_position": 2,
                "group_weight": 40.0,
            },
        ],
        spanish: [
            {
                "assignment_group_id": "40101",
                "assignment_group_name": "Tareas",
                "assignment_group_position": 1,
                "group_weight": 100.0,
            }
        ],
    }
    assignments = {
        physics: [
            # due 2024-02-16 23:59 in Boston = 2024-02-17 04:59 UTC
            _canvas_assignment(
                "50001",
                "40001",
                "Problem Set 1",
                1,
                10.0,
                "online_upload",
                "2024-02-16T23:59:00-05:00",
            ),
            _canvas_assignment(
                "50002",
                "40001",
                "Problem Set 2",
                2,
                10.0,
                "online_text_entry,online_upload",
                "2024-03-01T04:59:00Z",
            ),
            _canvas_assignment(
                CANVAS_ZERO_POINTS_ASSIGNMENT,
                "40001",
                "Participation Survey",
                3,
                0.0,
                "external_tool",
                "2024-02-20T04:59:00Z",
                grading_type="pass_fail",
            ),
            _canvas_assignment(
                "50004",
                "40002",
                "Final Exam",
                1,
                100.0,
                "online_upload",
                "2024-05-15T18:00:00Z",
                published=False,
            ),
        ],
        spanish: [
            _canvas_assignment(
                "50101", "40101", "Tarea 1: ¡Hola, mundo!", 1, None, "online_text_entry", None
            ),
        ],
    }
    alice_ps1 = _canvas_submission("60001", "50001", "501", "2024-02-16T20:00:00-05:00", score=9.0)
    submissions = {
        physics: [
            # Problem Set 1, due 2024-02-17 04:59 UTC
            alice_ps1,
            dict(alice_ps1),  # repeated by Canvas paging
            _canvas_submission(
                "60002",
                "50001",
                "502",
                "2024-02-18T10:00:00Z",
                score=7.0,
                late=True,
                seconds_late=104_460,
            ),
            _canvas_submission("60003", "50001", dmitry, None, missing=True),
            _canvas_submission("60004", "50001", "503", None, excused=True),
            # Problem Set 2, due 2024-03-01 04:59 UTC
            _canvas_submission(
                "60011",
                "50002",
                "501",
                "2024-03-01T05:30:00Z",
                score=8.5,
                late_policy_status="extended",
            ),
            # no flags from Canvas: missing by the due date alone
            _canvas_submission(
                "60012", "50002", "502", None, late=None, missing=None, excused=None
            ),
            # no flags from Canvas: on time by the due date alone (11:00 UTC)
            _canvas_submission(
                "60013",
                "50002",
                dmitry,
                "2024-02-29T12:00:00+01:00",
                score=10.0,
                late=None,
                missing=None,
            ),
            _canvas_submission("60014", "50002", "503", None),
            # zero points possible
            _canvas_submission(
                "60021",
                CANVAS_ZERO_POINTS_ASSIGNMENT,
                "501",
                "2024-02-19T12:00:00Z",
                score=0.0,
                grade="complete",
            ),
            # the final exam is not due yet
            _canvas_submission("60031", "50004", "501", None),
        ],
        spanish: [
            # no due date, null points possible
            _canvas_submission("60101", "50101", "502", "2024-03-10T12:00:00Z", score=5.0),
            _canvas_submission("60102", "50101", "702", None),
        ],
    }
    modules = {
        physics: [
            {
                "module_id": "70001",
                "module_name": "Week 1: Kinematics",
                "module_position": 1,
                "unlock_at": None,
                "require_sequential_progress": False,
                "published": True,
                "items_count": 2,
            },
            {
                "module_id": "70002",
                "module_name": "Week 2: Newton's Laws",
                "module_position": 2,
                "unlock_at": "2024-02-12T05:00:00Z",
                "require_sequential_progress": True,
                "published": True,
                "items_count": 1,
            },
        ],
        spanish: [],
    }
    module_items = {
        physics: [
            {
                "module_id": "70001",
                "module_item_id": "71001",
                "module_item_position": 1,
                "item_title": "Welcome",
                "item_type": "Page",
                "content_id": None,
                "page_url": "welcome",
                "external_url": None,
                "indent": 0,
                "published": True,
            },
            {
                "module_id": "70001",
                "module_item_id": "71002",
                "module_item_position": 2,
                "item_title": "Problem Set 1",
                "item_type": "Assignment",
                "content_id": "50001",
                "page_url": None,
                "external_url": None,
                "indent": 1,
                "published": True,
            },
            {
                "module_id": "70002",
                "module_item_id": "71003",
                "module_item_position": 1,
                "item_title": "Lecture notes",
                "item_type": "File",
                "content_id": "80001",
                "page_url": None,
                "external_url": None,
                "indent": 0,
                "published": True,
            },
        ],
        spanish: [],
    }
    pages = {
        physics: [
            {
                "page_id": "90001",
                "page_url": "welcome",
                "page_title": "Welcome",
                "created_at": "2024-01-10T12:00:00Z",
                "updated_at": "2024-01-11T12:00:00Z",
                "published": True,
                "front_page": True,
                "editing_roles": "teachers",
            }
        ],
        spanish: [],
    }
    files = {
        physics: [
            {
                "file_id": "80001",
                "folder_id": "81002",
                "display_name": "Lecture 1 — notes.pdf",
                "filename": "lecture1.pdf",
                "content_type": "application/pdf",
                "size_bytes": 1_048_576,
                "created_at": "2024-01-12T12:00:00Z",
                "updated_at": "2024-01-12T12:00:00Z",
                "modified_at": "2024-01-12T12:00:00Z",
                "locked": False,
                "hidden": False,
            }
        ],
        spanish: [],
    }
    folders = {
        physics: [
            {
                "folder_id": "81001",
                "parent_folder_id": None,
                "folder_name": "course files",
                "full_name": "course files",
                "folder_position": None,
                "files_count": 0,
                "folders_count": 1,
                "created_at": "2023-12-01T15:30:00Z",
                "updated_at": "2023-12-01T15:30:00Z",
                "locked": False,
                "hidden": False,
            },
            {
                "folder_id": "81002",
                "parent_folder_id": "81001",
                "folder_name": "week 1",
                "full_name": "course files/week 1",
                "folder_position": 1,
                "files_count": 1,
                "folders_count": 0,
                "created_at": "2024-01-12T12:00:00Z",
                "updated_at": "2024-01-12T12:00:00Z",
                "locked": False,
                "hidden": False,
            },
        ],
        spanish: [],
    }
    content_exports = {
        physics: [
            {
                "export_id": "91001",
                "export_type": "common_cartridge",
                "workflow_state": "exported",
                "content_hash": "a" * 64,
                "lake_path": f"raw/canvas/course_exports/{physics}/{'a' * 64}.imscc",
                "size_bytes": 20_480,
                "exported_at": "2024-03-15T05:58:00Z",
                "skipped_unchanged": False,
            }
        ],
        spanish: [
            {
                "export_id": "91002",
                "export_type": "common_cartridge",
                "workflow_state": "exported",
                "content_hash": "b" * 64,
                "lake_path": f"raw/canvas/course_exports/{spanish}/{'b' * 64}.imscc",
                "size_bytes": 4_096,
                "exported_at": "2024-03-15T07:04:00+01:00",
                "skipped_unchanged": True,
            }
        ],
    }
    tables = {
        "courses": courses,
        "sections": sections,
        "enrollments": enrollments,
        "users": users,
        "assignments": assignments,
        "assignment_groups": assignment_groups,
        "submissions": submissions,
        "modules": modules,
        "module_items": module_items,
        "pages": pages,
        "files": files,
        "folders": folders,
        "content_exports": content_exports,
    }
    retrieved = {physics: CANVAS_PHYSICS_RETRIEVED, spanish: CANVAS_SPANISH_RETRIEVED}
    return {
        name: (
            CANVAS_SCHEMAS[name],
            {
                course_id: _canvas_rows(course_id, retrieved[course_id], rows)
                for course_id, rows in by_course.items()
            },
        )
        for name, by_course in tables.items()
    }


def write_canvas_raw_lake(lake_root: Path) -> dict[str, list[Path]]:
    """Write every raw Canvas table, one object per course under `dt=<course_id>/` (an empty
    but typed table where a course has no rows); return the files of each table."""
    written: dict[str, list[Path]] = {}
    for name, (schema, by_course) in canvas_raw_tables().items():
        for course_id, rows in by_course.items():
            folder = lake_root / "raw" / "canvas" / name / f"dt={course_id}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "data.parquet"
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
            written.setdefault(name, []).append(path)
    return written


# --- Open edX tracking logs --------------------------------------------------------------------
# Normalized tracking-log partitions (docs/contracts.md, "Tracking logs"), one object per day at
# raw/openedx/<deployment>_tracking_logs/dt=<day>/data.parquet. Edge cases on purpose: a line
# delivered again in the next day's files (same event id), an event logged just before midnight
# in the next day's partition, task and enrollment events (not activity), a page view whose
# course comes only from the URL (not activity by the Insights definition), a visitor without a
# user id, browser and mobile `play_video`, `event` as an object, a JSON-decoded string and a
# plain string, and non-ASCII usernames (none may reach a mart).

TRACKING_LOGS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("event_name", pa.string()),
        ("event_source", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("username", pa.string()),
        ("user_id", pa.int64()),
        ("course_id", pa.string()),
        ("course_key", pa.string()),
        ("org_id", pa.string()),
        ("block_key", pa.string()),
        ("session", pa.string()),
        ("page", pa.string()),
        ("referer", pa.string()),
        ("agent", pa.string()),
        ("ip", pa.string()),
        ("host", pa.string()),
        ("path", pa.string()),
        ("event_payload", pa.string()),
        ("context_payload", pa.string()),
        ("source_name", pa.string()),
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
    ]
)

MITX_600_VIDEO = "block-v1:MITxT+6.00.1x+1T2024+type@video+block@v1"
MITX_600_PROBLEM = "block-v1:MITxT+6.00.1x+1T2024+type@problem+block@p1"
MITX_600_SEQUENTIAL = "block-v1:MITxT+6.00.1x+1T2024+type@sequential+block@s1"
XPRO_DS_VIDEO = "block-v1:xPRO+DSx+R1+type@video+block@dv1"
XPRO_DS_PROBLEM = "block-v1:xPRO+DSx+R1+type@problem+block@dp1"
# LMS user ids of the fixture's learners (usernames are in USERNAMES).
TRACKING_USER_IDS = {"alice": 11, "bob_verified": 12, "josé_ñúñez": 13, "дмитрий": 21}
TRACKING_IPS = ("203.0.113.7", "198.51.100.23")


def _tracking_event(
    deployment: str,
    day: str,
    line_number: int,
    event_type: str,
    event_source: str,
    time: str,
    username: str | None,
    course_id: str | None,
    *,
    course_key: str | None = None,
    event: object = None,
    event_name: str | None = None,
    block_key: str | None = None,
    event_id: str | None = None,
) -> dict:
    import hashlib
    import json
    from datetime import datetime

    user_id = TRACKING_USER_IDS.get(username or "")
    org = (course_key or course_id or "course-v1:?+").removeprefix("course-v1:").split("+")[0]
    payload = None if event is None else json.dumps(event, ensure_ascii=False)
    source_file = f"landing/openedx/{deployment}/tracking_logs/{day}/tracking.log-{day}-1.gz"
    return {
        "event_id": event_id or hashlib.md5(f"{source_file}:{line_number}".encode()).hexdigest(),  # noqa: S324
        "event_type": event_type,
        "event_name": event_name,
        "event_source": event_source,
        "event_time": datetime.fromisoformat(time.replace("Z", "+00:00")),
        "username": username,
        "user_id": user_id,
        "course_id": course_id,
        "course_key": course_key if course_key is not None else (course_id or None),
        "org_id": org or None,
        "block_key": block_key,
        "session": "0123456789abcdef0123456789abcdef",
        "page": None,
        "referer": None,
        "agent": "Mozilla/5.0",
        "ip": TRACKING_IPS[line_number % 2],
        "host": f"courses.{deployment}.example.edu",
        "path": None,
        "event_payload": payload,
        "context_payload": json.dumps({"course_id": course_id or "", "user_id": user_id}),
        "source_name": deployment,
        "source_file": source_file,
        "line_number": line_number,
    }


def tracking_log_partitions() -> dict[str, dict[str, list[dict]]]:
    """Rows of each tracking-log table by partition day: `{<table>: {day: rows}}`."""
    m, x = "mitxonline", "xpro"
    c = MITX_600
    video, problem = MITX_600_VIDEO, MITX_600_PROBLEM
    alice_play = _tracking_event(
        m,
        "2024-01-10",
        1,
        "play_video",
        "browser",
        "2024-01-10T10:00:00.123456+00:00",
        "alice",
        c,
        event={"id": video, "currentTime": 0, "duration": 100},
        block_key=video,
    )
    redelivered = dict(alice_play, source_file="tracking.log-2024-01-11-2.gz", line_number=1)
    day_10 = [
        alice_play,
        _tracking_event(
            m,
            "2024-01-10",
            2,
            "pause_video",
            "browser",
            "2024-01-10T10:01:35Z",
            "alice",
            c,
            event={"id": video, "currentTime": 95, "duration": 100},
            block_key=video,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            3,
            "problem_check",
            "server",
            "2024-01-10T10:05:00Z",
            "alice",
            c,
            event={
                "problem_id": problem,
                "attempts": 1,
                "success": "incorrect",
                "grade": 0,
                "max_grade": 2,
            },
            block_key=problem,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            4,
            "problem_check",
            "server",
            "2024-01-10T10:07:00Z",
            "alice",
            c,
            event={
                "problem_id": problem,
                "attempts": 2,
                "success": "correct",
                "grade": 2,
                "max_grade": 2,
            },
            block_key=problem,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            5,
            "problem_check",
            "browser",
            "2024-01-10T10:06:59Z",
            "alice",
            c,
            event="input_p1_2_1=choice_2",
        ),
        _tracking_event(
            m,
            "2024-01-10",
            6,
            "edx.grades.subsection.grade_calculated",
            "task",
            "2024-01-10T10:07:03Z",
            "alice",
            c,
            event={"block_id": problem},
        ),
        _tracking_event(
            m,
            "2024-01-10",
            7,
            "play_video",
            "mobile",
            "2024-01-10T11:00:00.250Z",
            "bob_verified",
            c,
            event={"id": video, "currentTime": 0},
            event_name="edx.video.played",
            block_key=video,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            8,
            "problem_check",
            "server",
            "2024-01-10T11:10:00Z",
            "bob_verified",
            c,
            event={
                "problem_id": problem,
                "attempts": 1,
                "success": "correct",
                "grade": 2,
                "max_grade": 2,
            },
            block_key=problem,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            9,
            "edx.course.enrollment.activated",
            "server",
            "2024-01-10T09:00:00Z",
            "bob_verified",
            c,
            event={"course_id": c, "mode": "verified"},
            event_name="edx.course.enrollment.activated",
        ),
        _tracking_event(
            m,
            "2024-01-10",
            10,
            "edx.forum.thread.created",
            "server",
            "2024-01-10T11:30:00Z",
            "bob_verified",
            c,
            event={"title": "Привет — a question", "body": "…"},
            event_name="edx.forum.thread.created",
        ),
        _tracking_event(
            m,
            "2024-01-10",
            11,
            f"/courses/{c}/about",
            "server",
            "2024-01-10T12:00:00Z",
            None,
            c,
            event={"POST": {}, "GET": {}},
        ),
        _tracking_event(
            m,
            "2024-01-10",
            12,
            f"/courses/{c}/courseware/",
            "server",
            "2024-01-10T12:30:00Z",
            "alice",
            "",
            course_key=c,
            event={"POST": {}, "GET": {}},
        ),
    ]
    day_11 = [
        redelivered,
        # logged before midnight, shipped in the next day's file
        _tracking_event(
            m,
            "2024-01-11",
            2,
            "seek_video",
            "browser",
            "2024-01-10T23:59:59Z",
            "alice",
            c,
            event={"id": video, "old_time": 10, "new_time": 30, "duration": 100},
            block_key=video,
        ),
        _tracking_event(
            m,
            "2024-01-11",
            3,
            "play_video",
            "browser",
            "2024-01-11T00:30:00Z",
            "josé_ñúñez",
            c,
            event={"id": video, "currentTime": 5},
            block_key=video,
        ),
        _tracking_event(
            m,
            "2024-01-11",
            4,
            "edx.ui.lms.sequence.next_selected",
            "browser",
            "2024-01-11T00:40:00Z",
            "josé_ñúñez",
            c,
            event={"id": MITX_600_SEQUENTIAL, "current_tab": 1, "target_tab": 2},
            event_name="edx.ui.lms.sequence.next_selected",
        ),
    ]
    day_15 = [
        _tracking_event(
            m,
            "2024-01-15",
            1,
            "play_video",
            "browser",
            "2024-01-15T08:00:00Z",
            "alice",
            c,
            event={"id": video, "currentTime": 40, "duration": 100},
            block_key=video,
        ),
    ]
    xpro_12 = [
        _tracking_event(
            x,
            "2024-01-12",
            1,
            "play_video",
            "browser",
            "2024-01-12T14:00:00",
            "дмитрий",
            XPRO_DS,
            event={"id": XPRO_DS_VIDEO, "currentTime": 0, "duration": 60},
            block_key=XPRO_DS_VIDEO,
        ),
        _tracking_event(
            x,
            "2024-01-12",
            2,
            "problem_check",
            "server",
            "2024-01-12T14:10:00Z",
            "дмитрий",
            XPRO_DS,
            event={
                "problem_id": XPRO_DS_PROBLEM,
                "attempts": 1,
                "success": "correct",
                "grade": 1,
                "max_grade": 1,
            },
            block_key=XPRO_DS_PROBLEM,
        ),
    ]
    return {
        f"{m}_tracking_logs": {"2024-01-10": day_10, "2024-01-11": day_11, "2024-01-15": day_15},
        f"{x}_tracking_logs": {"2024-01-12": xpro_12},
    }


def write_tracking_logs_raw_lake(lake_root: Path) -> dict[str, list[Path]]:
    """Write the tracking-log partitions under `raw/openedx/<table>/dt=<day>/`."""
    written: dict[str, list[Path]] = {}
    for name, by_day in tracking_log_partitions().items():
        for day, rows in by_day.items():
            folder = lake_root / "raw" / "openedx" / name / f"dt={day}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "data.parquet"
            pq.write_table(pa.Table.from_pylist(rows, schema=TRACKING_LOGS_SCHEMA), path)
            written.setdefault(name, []).append(path)
    return written
