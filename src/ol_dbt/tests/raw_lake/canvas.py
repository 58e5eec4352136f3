"""Small, realistic raw Canvas tables (docs/contracts.md, "Raw Canvas tables") as Parquet.

One object per course at raw/canvas/<table>/dt=<course_id>/data.parquet. Edge cases on purpose: a
sharded user id too large for a 32-bit integer and a non-numeric assignment id (ids are strings),
null timestamps, `Z`, offset (`-05:00`, `+01:00`) and fractional-second timestamps, an enrollment
and a submission row repeated verbatim (Canvas paging), a student in two sections, late, missing
(by Canvas's flag and by the due date alone), excused and extended submissions, a zero-points and
a null-points assignment, non-ASCII names, and a course whose module/page/file tables landed
empty. The schemas are the location's own declarations (canvas.tables).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from canvas.tables import TABLES

CANVAS_PHYSICS = "10001"
CANVAS_SPANISH = "10002"
CANVAS_PHYSICS_RETRIEVED = "2024-03-15T06:00:00Z"
CANVAS_SPANISH_RETRIEVED = "2024-03-15T06:05:00Z"
CANVAS_SHARDED_USER = "170000000000042"
CANVAS_ZERO_POINTS_ASSIGNMENT = "quiz_lti_7"


CANVAS_SCHEMAS: dict[str, pa.Schema] = {table.name: table.schema for table in TABLES}

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
