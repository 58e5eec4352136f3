"""The raw Canvas tables: their Arrow schemas and the pure row builders from API payloads.

The columns are exactly docs/contracts.md ("Raw Canvas tables"): `course_id` (the partition)
first, `retrieved_at` last, ids as strings whatever type Canvas sent, timestamps as the API sent
them. A value that cannot be read as its column's type is passed through unchanged so that
`land_rows` quarantines the record instead of silently nulling it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

Row = dict[str, Any]
Payload = Mapping[str, Any]


def _schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema(
        [
            pa.field("course_id", pa.string(), nullable=False),
            *(pa.field(name, kind) for name, kind in columns),
            pa.field("retrieved_at", pa.string(), nullable=False),
        ]
    )


S, B, N, F = pa.string(), pa.bool_(), pa.int64(), pa.float64()  # N: int64 numbers

COURSES_SCHEMA = _schema(
    ("course_name", S), ("course_code", S), ("sis_course_id", S), ("course_uuid", S),
    ("workflow_state", S), ("account_id", S), ("account_name", S), ("root_account_id", S),
    ("enrollment_term_id", S), ("term_name", S), ("term_start_at", S), ("term_end_at", S),
    ("start_at", S), ("end_at", S), ("created_at", S), ("time_zone", S), ("default_view", S),
    ("is_public", B),
)  # fmt: skip
SECTIONS_SCHEMA = _schema(
    ("section_id", S), ("section_name", S), ("sis_section_id", S), ("start_at", S), ("end_at", S),
    ("restrict_enrollments_to_section_dates", B), ("created_at", S),
)  # fmt: skip
ENROLLMENTS_SCHEMA = _schema(
    ("enrollment_id", S), ("user_id", S), ("section_id", S), ("enrollment_type", S), ("role", S),
    ("role_id", S), ("enrollment_state", S), ("created_at", S), ("updated_at", S),
    ("last_activity_at", S), ("total_activity_time_seconds", N), ("current_score", F),
    ("final_score", F), ("current_grade", S), ("final_grade", S),
)  # fmt: skip
USERS_SCHEMA = _schema(
    ("user_id", S), ("user_name", S), ("sortable_name", S), ("user_email", S), ("login_id", S),
    ("sis_user_id", S), ("created_at", S),
)  # fmt: skip
ASSIGNMENTS_SCHEMA = _schema(
    ("assignment_id", S), ("assignment_group_id", S), ("assignment_name", S),
    ("assignment_position", N), ("points_possible", F), ("grading_type", S),
    ("submission_types", S), ("due_at", S), ("unlock_at", S), ("lock_at", S), ("published", B),
    ("omit_from_final_grade", B), ("created_at", S), ("updated_at", S), ("html_url", S),
)  # fmt: skip
ASSIGNMENT_GROUPS_SCHEMA = _schema(
    ("assignment_group_id", S), ("assignment_group_name", S), ("assignment_group_position", N),
    ("group_weight", F),
)  # fmt: skip
SUBMISSIONS_SCHEMA = _schema(
    ("submission_id", S), ("assignment_id", S), ("user_id", S), ("attempt", N), ("score", F),
    ("grade", S), ("submitted_at", S), ("graded_at", S), ("late", B), ("missing", B),
    ("excused", B), ("workflow_state", S), ("submission_type", S), ("seconds_late", N),
    ("late_policy_status", S),
)  # fmt: skip
MODULES_SCHEMA = _schema(
    ("module_id", S), ("module_name", S), ("module_position", N), ("unlock_at", S),
    ("require_sequential_progress", B), ("published", B), ("items_count", N),
)  # fmt: skip
MODULE_ITEMS_SCHEMA = _schema(
    ("module_id", S), ("module_item_id", S), ("module_item_position", N), ("item_title", S),
    ("item_type", S), ("content_id", S), ("page_url", S), ("external_url", S), ("indent", N),
    ("published", B),
)  # fmt: skip
PAGES_SCHEMA = _schema(
    ("page_id", S), ("page_url", S), ("page_title", S), ("created_at", S), ("updated_at", S),
    ("published", B), ("front_page", B), ("editing_roles", S),
)  # fmt: skip
FILES_SCHEMA = _schema(
    ("file_id", S), ("folder_id", S), ("display_name", S), ("filename", S), ("content_type", S),
    ("size_bytes", N), ("created_at", S), ("updated_at", S), ("modified_at", S), ("locked", B),
    ("hidden", B),
)  # fmt: skip
FOLDERS_SCHEMA = _schema(
    ("folder_id", S), ("parent_folder_id", S), ("folder_name", S), ("full_name", S),
    ("folder_position", N), ("files_count", N), ("folders_count", N), ("created_at", S),
    ("updated_at", S), ("locked", B), ("hidden", B),
)  # fmt: skip
CONTENT_EXPORTS_SCHEMA = _schema(
    ("export_id", S), ("export_type", S), ("workflow_state", S), ("content_hash", S),
    ("lake_path", S), ("size_bytes", N), ("exported_at", S), ("skipped_unchanged", B),
)  # fmt: skip


# -- value readers -----------------------------------------------------------------------------


def retrieved_now() -> str:
    """The `retrieved_at` of a run: now, ISO-8601 UTC with a Z suffix."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def canvas_id(value: Any) -> Any:
    """A Canvas id as a string (ints and numeric strings alike); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value  # not an id: let the schema check quarantine it
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return value


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _int(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def _float(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _bool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _stamp(course_id: str, retrieved_at: str, row: Row) -> Row:
    return {"course_id": course_id, **row, "retrieved_at": retrieved_at}


# -- row builders ------------------------------------------------------------------------------


def course_rows(course_id: str, course: Payload, retrieved_at: str) -> list[Row]:
    term: Payload = course.get("term") or {}
    account: Payload = course.get("account") or {}
    return [
        _stamp(
            course_id,
            retrieved_at,
            {
                "course_name": _text(course.get("name")),
                "course_code": _text(course.get("course_code")),
                "sis_course_id": _text(course.get("sis_course_id")),
                "course_uuid": _text(course.get("uuid")),
                "workflow_state": _text(course.get("workflow_state")),
                "account_id": canvas_id(course.get("account_id") or account.get("id")),
                "account_name": _text(account.get("name")),
                "root_account_id": canvas_id(
                    course.get("root_account_id") or account.get("root_account_id")
                ),
                "enrollment_term_id": canvas_id(course.get("enrollment_term_id") or term.get("id")),
                "term_name": _text(term.get("name")),
                "term_start_at": _text(term.get("start_at")),
                "term_end_at": _text(term.get("end_at")),
                "start_at": _text(course.get("start_at")),
                "end_at": _text(course.get("end_at")),
                "created_at": _text(course.get("created_at")),
                "time_zone": _text(course.get("time_zone")),
                "default_view": _text(course.get("default_view")),
                "is_public": _bool(course.get("is_public")),
            },
        )
    ]


def section_rows(course_id: str, sections: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return [
        _stamp(
            course_id,
            retrieved_at,
            {
                "section_id": canvas_id(s.get("id")),
                "section_name": _text(s.get("name")),
                "sis_section_id": _text(s.get("sis_section_id")),
                "start_at": _text(s.get("start_at")),
                "end_at": _text(s.get("end_at")),
                "restrict_enrollments_to_section_dates": _bool(
                    s.get("restrict_enrollments_to_section_dates")
                ),
                "created_at": _text(s.get("created_at")),
            },
        )
        for s in sections
    ]


def enrollment_rows(course_id: str, enrollments: Iterable[Payload], retrieved_at: str) -> list[Row]:
    rows = []
    for e in enrollments:
        grades: Payload = e.get("grades") or {}
        rows.append(
            _stamp(
                course_id,
                retrieved_at,
                {
                    "enrollment_id": canvas_id(e.get("id")),
                    "user_id": canvas_id(e.get("user_id") or (e.get("user") or {}).get("id")),
                    "section_id": canvas_id(e.get("course_section_id")),
                    "enrollment_type": _text(e.get("type")),
                    "role": _text(e.get("role")),
                    "role_id": canvas_id(e.get("role_id")),
                    "enrollment_state": _text(e.get("enrollment_state")),
                    "created_at": _text(e.get("created_at")),
                    "updated_at": _text(e.get("updated_at")),
                    "last_activity_at": _text(e.get("last_activity_at")),
                    "total_activity_time_seconds": _int(e.get("total_activity_time")),
                    "current_score": _float(grades.get("current_score")),
                    "final_score": _float(grades.get("final_score")),
                    "current_grade": _text(grades.get("current_grade")),
                    "final_grade": _text(grades.get("final_grade")),
                },
            )
        )
    return rows


def user_rows(course_id: str, users: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return [
        _stamp(
            course_id,
            retrieved_at,
            {
                "user_id": canvas_id(u.get("id")),
                "user_name": _text(u.get("name")),
                "sortable_name": _text(u.get("sortable_name")),
                "user_email": _text(u.get("email")),
                "login_id": _text(u.get("login_id")),
                "sis_user_id": _text(u.get("sis_user_id")),
                "created_at": _text(u.get("created_at")),
            },
        )
        for u in users
    ]


def assignment_rows(course_id: str, assignments: Iterable[Payload], retrieved_at: str) -> list[Row]:
    rows = []
    for a in assignments:
        types = a.get("submission_types")
        rows.append(
            _stamp(
                course_id,
                retrieved_at,
                {
                    "assignment_id": canvas_id(a.get("id")),
                    "assignment_group_id": canvas_id(a.get("assignment_group_id")),
                    "assignment_name": _text(a.get("name")),
                    "assignment_position": _int(a.get("position")),
                    "points_possible": _float(a.get("points_possible")),
                    "grading_type": _text(a.get("grading_type")),
                    "submission_types": (
                        ",".join(str(t) for t in types) if isinstance(types, list) else _text(types)
                    ),
                    "due_at": _text(a.get("due_at")),
                    "unlock_at": _text(a.get("unlock_at")),
                    "lock_at": _text(a.get("lock_at")),
                    "published": _bool(a.get("published")),
                    "omit_from_final_grade": _bool(a.get("omit_from_final_grade")),
                    "created_at": _text(a.get("created_at")),
                    "updated_at": _text(a.get("updated_at")),
                    "html_url": _text(a.get("html_url")),
                },
            )
        )
    return rows


def assignment_group_rows(
    course_id: str, groups: Iterable[Payload], retrieved_at: str
) -> list[Row]:
    return [
        _stamp(
            course_id,
            retrieved_at,
            {
                "assignment_group_id": canvas_id(g.get("id")),
                "assignment_group_name": _text(g.get("name")),
                "assignment_group_position": _int(g.get("position")),
                "group_weight": _float(g.get("group_weight")),
            },
        )
        for g in groups
    ]


def submission_rows(course_id: str, submissions: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return [
        _stamp(
            course_id,
            retrieved_at,
            {
                "submission_id": canvas_id(s.get("id")),
                "assignment_id": canvas_id(s.get("assignment_id")),
                "user_id": canvas_id(s.get("user_id")),
                "attempt": _int(s.get("attempt")),
                "score": _float(s.get("score")),
                "grade": _text(s.get("grade")),
                "submitted_at": _text(s.get("submitted_at")),
                "graded_at": _text(s.get("graded_at")),
                "late": _bool(s.get("late")),
                "missing": _bool(s.get("missing")),
                "excused": _bool(s.get("excused")),
                "workflow_state": _text(s.get("workflow_state")),
                "submission_type": _text(s.get("submission_type")),
                "seconds_late": _int(s.get("seconds_late")),
                "late_policy_status": _text(s.get("late_policy_status")),
            },
        )
        for s in submissions
    ]


def module_rows(course_id: str, modules: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return [
        _stamp(
            course_id,
            retrieved_at,
            {
                "module_id": canvas_id(m.get("id")),
                "module_name": _text(m.get("name")),
                "module_position": _int(m.get("position")),
                "unlock_at": _text(m.get("unlock_at")),
                "require_sequential_progress": _bool(m.get("require_sequential_progress")),
                "published": _bool(m.get("published")),
                "items_count": _int(m.get("items_count")),
            },
        )
        for m in modules
    ]


def module_item_rows(course_id: str, modules: Iterable[Payload], retrieved_at: str) -> list[Row]:
    """Rows of `module_items` from modules carrying their `items`."""
    rows = []
    for module in modules:
        for item in module.get("items") or ():
            rows.append(
                _stamp(
                    course_id,
                    retrieved_at,
                    {
                        "module_id": canvas_id(item.get("module_id") or module.get("id")),
                        "module_item_id": canvas_id(item.get("id")),
                        "module_item_position": _int(item.get("position")),
                        "item_title": _text(item.get("title")),
                        "item_type": _text(item.get("type")),
                        "content_id": canvas_id(item.get("content_id")),
                        "page_url": _text(item.get("page_url")),
                        "external_url": _text(item.get("external_url")),
                        "indent": _int(item.get("indent")),
                        "published": _bool(item.get("published")),
                    },
                )
            )
    return rows


def page_rows(course_id: str, pages: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return [
        _stamp(
            course_id,
            retrieved_at,
            {
                "page_id": canvas_id(p.get("page_id")),
                "page_url": _text(p.get("url")),
                "page_title": _text(p.get("title")),
                "created_at": _text(p.get("created_at")),
                "updated_at": _text(p.get("updated_at")),
                "published": _bool(p.get("published")),
                "front_page": _bool(p.get("front_page")),
                "editing_roles": _text(p.get("editing_roles")),
            },
        )
        for p in pages
    ]


def file_rows(course_id: str, files: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return [
        _stamp(
            course_id,
            retrieved_at,
            {
                "file_id": canvas_id(f.get("id")),
                "folder_id": canvas_id(f.get("folder_id")),
                "display_name": _text(f.get("display_name")),
                "filename": _text(f.get("filename")),
                "content_type": _text(f.get("content-type") or f.get("content_type")),
                "size_bytes": _int(f.get("size")),
                "created_at": _text(f.get("created_at")),
                "updated_at": _text(f.get("updated_at")),
                "modified_at": _text(f.get("modified_at")),
                "locked": _bool(f.get("locked")),
                "hidden": _bool(f.get("hidden")),
            },
        )
        for f in files
    ]


def folder_rows(course_id: str, folders: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return [
        _stamp(
            course_id,
            retrieved_at,
            {
                "folder_id": canvas_id(f.get("id")),
                "parent_folder_id": canvas_id(f.get("parent_folder_id")),
                "folder_name": _text(f.get("name")),
                "full_name": _text(f.get("full_name")),
                "folder_position": _int(f.get("position")),
                "files_count": _int(f.get("files_count")),
                "folders_count": _int(f.get("folders_count")),
                "created_at": _text(f.get("created_at")),
                "updated_at": _text(f.get("updated_at")),
                "locked": _bool(f.get("locked")),
                "hidden": _bool(f.get("hidden")),
            },
        )
        for f in folders
    ]


def content_export_row(
    course_id: str,
    export: Payload,
    *,
    content_hash: str,
    lake_path: str,
    size_bytes: int,
    skipped_unchanged: bool,
    retrieved_at: str,
) -> Row:
    return _stamp(
        course_id,
        retrieved_at,
        {
            "export_id": canvas_id(export.get("id")),
            "export_type": _text(export.get("export_type")),
            "workflow_state": _text(export.get("workflow_state")),
            "content_hash": content_hash,
            "lake_path": lake_path,
            "size_bytes": size_bytes,
            "exported_at": _text(export.get("created_at")),
            "skipped_unchanged": skipped_unchanged,
        },
    )
