"""The raw Canvas tables: one declaration per table, and the row builders from API payloads.

Each table is a `RawTable` (ol_orchestrate.lib.raw_tables), the one place its columns are
written: the Arrow schema, the rows, the dbt source's columns (tested) and the column list of
docs/contracts.md ("Raw Canvas tables", generated) all come from it. `course_id` (the partition)
is first, `retrieved_at` last; ids are strings whatever type Canvas sent; timestamps are kept as
the API sent them. A value that cannot be read as its column's type is passed through unchanged
so that `land_rows` quarantines the record instead of silently nulling it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ol_orchestrate.lib.raw_tables import (
    RETRIEVED_AT,
    Column,
    RawTable,
    bool_,
    float64,
    int64,
    string,
    text,
)
from ol_orchestrate.lib.raw_tables import retrieved_now as retrieved_now

Row = dict[str, Any]
Payload = Mapping[str, Any]


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


def _comma_joined(value: Any) -> Any:
    return ",".join(str(v) for v in value) if isinstance(value, list) else text(value)


def _id(name: str, path: str | tuple[str, ...] | None = None, **options: Any) -> Column:
    """An id column: a string read with `canvas_id`."""
    return string(name, path, read=canvas_id, **options)


COURSE_ID = Column("course_id", nullable=False, given=True, description="the partition")


def _table(name: str, *columns: Column, description: str = "") -> RawTable:
    return RawTable(name, (COURSE_ID, *columns, RETRIEVED_AT), description=description)


COURSES = _table(
    "courses",
    string("course_name", "name"),
    string("course_code"),
    string("sis_course_id"),
    string("course_uuid", "uuid"),
    string("workflow_state", description="available, completed, unpublished, deleted"),
    _id("account_id", ("account_id", "account.id")),
    string("account_name", "account.name"),
    _id("root_account_id", ("root_account_id", "account.root_account_id")),
    _id("enrollment_term_id", ("enrollment_term_id", "term.id")),
    string("term_name", "term.name"),
    string("term_start_at", "term.start_at"),
    string("term_end_at", "term.end_at"),
    string("start_at"),
    string("end_at"),
    string("created_at"),
    string("time_zone"),
    string("default_view"),
    bool_("is_public"),
    description="one row per course",
)
SECTIONS = _table(
    "sections",
    _id("section_id", "id"),
    string("section_name", "name"),
    string("sis_section_id"),
    string("start_at"),
    string("end_at"),
    bool_("restrict_enrollments_to_section_dates"),
    string("created_at"),
)
ENROLLMENTS = _table(
    "enrollments",
    _id("enrollment_id", "id"),
    _id("user_id", ("user_id", "user.id")),
    _id("section_id", "course_section_id"),
    string(
        "enrollment_type",
        "type",
        description=(
            "StudentEnrollment, TeacherEnrollment, TaEnrollment, DesignerEnrollment, "
            "ObserverEnrollment"
        ),
    ),
    string("role", description="the role name: the base type or a custom role such as Grader"),
    _id("role_id"),
    string(
        "enrollment_state",
        description="active, invited, creation_pending, inactive, completed, rejected",
    ),
    string("created_at"),
    string("updated_at"),
    string("last_activity_at"),
    int64("total_activity_time_seconds", "total_activity_time"),
    float64("current_score", "grades.current_score", description="percent"),
    float64("final_score", "grades.final_score", description="percent"),
    string("current_grade", "grades.current_grade"),
    string("final_grade", "grades.final_grade"),
    description="scores and grades only on student enrollments",
)
USERS = _table(
    "users",
    _id("user_id", "id"),
    string("user_name", "name", pii=True),
    string("sortable_name", pii=True),
    string("user_email", "email", pii=True),
    string("login_id", pii=True),
    string("sis_user_id", pii=True),
    string("created_at"),
)
ASSIGNMENTS = _table(
    "assignments",
    _id("assignment_id", "id"),
    _id("assignment_group_id"),
    string("assignment_name", "name"),
    int64("assignment_position", "position"),
    float64("points_possible"),
    string(
        "grading_type",
        description="points, percent, letter_grade, gpa_scale, pass_fail, not_graded",
    ),
    string(
        "submission_types",
        read=_comma_joined,
        description="comma-separated, e.g. online_upload,online_text_entry",
    ),
    string("due_at"),
    string("unlock_at"),
    string("lock_at"),
    bool_("published"),
    bool_("omit_from_final_grade"),
    string("created_at"),
    string("updated_at"),
    string("html_url"),
)
ASSIGNMENT_GROUPS = _table(
    "assignment_groups",
    _id("assignment_group_id", "id"),
    string("assignment_group_name", "name"),
    int64("assignment_group_position", "position"),
    float64("group_weight", description="percent"),
)
SUBMISSIONS = _table(
    "submissions",
    _id("submission_id", "id"),
    _id("assignment_id"),
    _id("user_id"),
    int64("attempt"),
    float64("score"),
    string("grade"),
    string("submitted_at"),
    string("graded_at"),
    bool_("late"),
    bool_("missing"),
    bool_("excused", description="often null meaning not excused"),
    string("workflow_state", description="unsubmitted, submitted, graded, pending_review"),
    string("submission_type"),
    int64("seconds_late"),
    string("late_policy_status", description="late, missing, extended, none, or null"),
    description="one row per student and assignment, unsubmitted placeholders included",
)
MODULES = _table(
    "modules",
    _id("module_id", "id"),
    string("module_name", "name"),
    int64("module_position", "position"),
    string("unlock_at"),
    bool_("require_sequential_progress"),
    bool_("published"),
    int64("items_count"),
)
MODULE_ITEMS = _table(
    "module_items",
    _id("module_id", given=True, description="the item's module_id, else its module's id"),
    _id("module_item_id", "id"),
    int64("module_item_position", "position"),
    string("item_title", "title"),
    string(
        "item_type",
        "type",
        description=(
            "Assignment, Page, File, Discussion, Quiz, ExternalUrl, ExternalTool, SubHeader"
        ),
    ),
    _id(
        "content_id",
        description=(
            "id of the assignment, file, ... it points to; null for SubHeader, ExternalUrl and Page"
        ),
    ),
    string("page_url", description="Page items"),
    string("external_url"),
    int64("indent"),
    bool_("published"),
)
PAGES = _table(
    "pages",
    _id("page_id"),
    string("page_url", "url", description="the page's slug"),
    string("page_title", "title"),
    string("created_at"),
    string("updated_at"),
    bool_("published"),
    bool_("front_page"),
    string("editing_roles"),
)
FILES = _table(
    "files",
    _id("file_id", "id"),
    _id("folder_id"),
    string("display_name"),
    string("filename"),
    string("content_type", ("content-type", "content_type")),
    int64("size_bytes", "size"),
    string("created_at"),
    string("updated_at"),
    string("modified_at"),
    bool_("locked"),
    bool_("hidden"),
)
FOLDERS = _table(
    "folders",
    _id("folder_id", "id"),
    _id("parent_folder_id", description="null for the root folder"),
    string("folder_name", "name"),
    string("full_name", description="e.g. course files/Lectures"),
    int64("folder_position", "position"),
    int64("files_count"),
    int64("folders_count"),
    string("created_at"),
    string("updated_at"),
    bool_("locked"),
    bool_("hidden"),
)
CONTENT_EXPORTS = _table(
    "content_exports",
    _id("export_id", "id"),
    string("export_type", description="common_cartridge"),
    string("workflow_state", description="exported"),
    string(
        "content_hash",
        given=True,
        description="sha256 hex of the .imscc ignoring the manifest's timestamps",
    ),
    string("lake_path", given=True, description="where the stored .imscc is"),
    int64("size_bytes", given=True, description="of the downloaded .imscc"),
    string("exported_at", "created_at", description="the export's created_at as the API sent it"),
    bool_(
        "skipped_unchanged",
        given=True,
        description="true when an .imscc with this hash was already stored, so nothing was written",
    ),
    description="one row: this run's export",
)

# Every raw Canvas table, in the order docs/contracts.md lists them.
TABLES: tuple[RawTable, ...] = (
    COURSES,
    SECTIONS,
    ENROLLMENTS,
    USERS,
    ASSIGNMENTS,
    ASSIGNMENT_GROUPS,
    SUBMISSIONS,
    MODULES,
    MODULE_ITEMS,
    PAGES,
    FILES,
    FOLDERS,
    CONTENT_EXPORTS,
)

COURSES_SCHEMA = COURSES.schema
SECTIONS_SCHEMA = SECTIONS.schema
ENROLLMENTS_SCHEMA = ENROLLMENTS.schema
USERS_SCHEMA = USERS.schema
ASSIGNMENTS_SCHEMA = ASSIGNMENTS.schema
ASSIGNMENT_GROUPS_SCHEMA = ASSIGNMENT_GROUPS.schema
SUBMISSIONS_SCHEMA = SUBMISSIONS.schema
MODULES_SCHEMA = MODULES.schema
MODULE_ITEMS_SCHEMA = MODULE_ITEMS.schema
PAGES_SCHEMA = PAGES.schema
FILES_SCHEMA = FILES.schema
FOLDERS_SCHEMA = FOLDERS.schema
CONTENT_EXPORTS_SCHEMA = CONTENT_EXPORTS.schema


# -- row builders ------------------------------------------------------------------------------
# `(course_id, payloads, retrieved_at) -> rows`: the partition and the run's time on every row,
# every other column read from the payload as its declaration says.


def course_rows(course_id: str, course: Payload, retrieved_at: str) -> list[Row]:
    return [COURSES.row(course, course_id=course_id, retrieved_at=retrieved_at)]


def section_rows(course_id: str, sections: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return SECTIONS.rows(sections, course_id=course_id, retrieved_at=retrieved_at)


def enrollment_rows(course_id: str, enrollments: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return ENROLLMENTS.rows(enrollments, course_id=course_id, retrieved_at=retrieved_at)


def user_rows(course_id: str, users: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return USERS.rows(users, course_id=course_id, retrieved_at=retrieved_at)


def assignment_rows(course_id: str, assignments: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return ASSIGNMENTS.rows(assignments, course_id=course_id, retrieved_at=retrieved_at)


def assignment_group_rows(
    course_id: str, groups: Iterable[Payload], retrieved_at: str
) -> list[Row]:
    return ASSIGNMENT_GROUPS.rows(groups, course_id=course_id, retrieved_at=retrieved_at)


def submission_rows(course_id: str, submissions: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return SUBMISSIONS.rows(submissions, course_id=course_id, retrieved_at=retrieved_at)


def module_rows(course_id: str, modules: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return MODULES.rows(modules, course_id=course_id, retrieved_at=retrieved_at)


def module_item_rows(course_id: str, modules: Iterable[Payload], retrieved_at: str) -> list[Row]:
    """Rows of `module_items` from modules carrying their `items`."""
    return [
        MODULE_ITEMS.row(
            item,
            course_id=course_id,
            module_id=canvas_id(item.get("module_id") or module.get("id")),
            retrieved_at=retrieved_at,
        )
        for module in modules
        for item in module.get("items") or ()
    ]


def page_rows(course_id: str, pages: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return PAGES.rows(pages, course_id=course_id, retrieved_at=retrieved_at)


def file_rows(course_id: str, files: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return FILES.rows(files, course_id=course_id, retrieved_at=retrieved_at)


def folder_rows(course_id: str, folders: Iterable[Payload], retrieved_at: str) -> list[Row]:
    return FOLDERS.rows(folders, course_id=course_id, retrieved_at=retrieved_at)


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
    return CONTENT_EXPORTS.row(
        export,
        course_id=course_id,
        content_hash=content_hash,
        lake_path=lake_path,
        size_bytes=size_bytes,
        skipped_unchanged=skipped_unchanged,
        retrieved_at=retrieved_at,
    )
