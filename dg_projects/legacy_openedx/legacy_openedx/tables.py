"""The raw tables the legacy_openedx location lands: one declaration each (and for the LMS
tables, how each is read).

Each `LmsTable` pairs the raw table's columns (a `RawTable`: the Arrow schema, the dbt source's
columns and types — tested — and the column list of docs/contracts.md come from it) with the
query that reads it from the LMS database (`TableQuery`: the columns, the integer key it is
paginated by, a filter, and for `courseware_studentmodule` the `modified` watermark of its
incremental read). Column names are the LMS's; every table starts with `deployment` and ends
with `retrieved_at`. `DATETIME`s become ISO-8601 UTC text with microseconds and `Z` (MySQL's zero
dates become null), `tinyint(1)` booleans, `decimal` floats. `password` is never read.

Beside the LMS tables: `FORUM_POSTS` (the forum's threads and comments, declared with its row
builder in `ol_orchestrate.resources.openedx_forum`) and `COURSE_EXPORTS` (one row per course
whose OLX export a run downloaded from Studio; the tarballs sit beside the table's file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ol_orchestrate.lib.raw_tables import (
    RETRIEVED_AT,
    Column,
    RawTable,
    bool_,
    float64,
    int64,
    string,
)
from ol_orchestrate.lib.sql_extract import (
    TableQuery,
    sql_boolean,
    sql_float,
    sql_integer,
    sql_text,
    sql_timestamp,
)
from ol_orchestrate.resources.openedx_forum import FORUM_POSTS

DEPLOYMENT = Column(
    "deployment", nullable=False, given=True, description="the LMS deployment (e.g. mitx)"
)
# Users the extraction reads: learners enrolled in a course, and course staff.
COURSE_USERS = (
    "id IN (SELECT user_id FROM student_courseenrollment) "
    "OR id IN (SELECT user_id FROM student_courseaccessrole)"
)


def _id(name: str, *, nullable: bool = False, description: str = "") -> Column:
    return Column(name, pa.int64(), nullable=nullable, read=sql_integer, description=description)


def _text(name: str, **options: Any) -> Column:
    return string(name, read=sql_text, **options)


def _timestamp(name: str, *, nullable: bool = True, description: str = "") -> Column:
    detail = "ISO-8601 UTC, `...Z`; zero dates null"
    return string(
        name,
        read=sql_timestamp,
        nullable=nullable,
        description=f"{description}, {detail}" if description else detail,
    )


def _bool(name: str, *, nullable: bool = False, description: str = "") -> Column:
    return bool_(name, read=sql_boolean, nullable=nullable, description=description)


def _float(name: str, description: str = "") -> Column:
    return float64(name, read=sql_float, description=description)


@dataclass(frozen=True)
class LmsTable:
    """A raw table and the query that reads it from the LMS."""

    raw: RawTable
    query: TableQuery

    @property
    def name(self) -> str:
        return self.raw.name

    @property
    def incremental(self) -> bool:
        return self.query.watermark is not None


def _lms_table(
    name: str,
    *columns: Column,
    description: str,
    where: str | None = None,
    watermark: str | None = None,
) -> LmsTable:
    raw = RawTable(name, (DEPLOYMENT, *columns, RETRIEVED_AT), description=description)
    query = TableQuery(
        table=name,
        columns=tuple(column.name for column in columns),
        where=where,
        watermark=watermark,
    )
    return LmsTable(raw, query)


COURSE_OVERVIEWS = _lms_table(
    "course_overviews_courseoverview",
    _text("id", nullable=False, description="the course key, as the LMS stores it"),
    _text("display_name"),
    _text("display_number_with_default"),
    _text("display_org_with_default"),
    _text("org"),
    _timestamp("start"),
    _timestamp("end"),
    _timestamp("enrollment_start"),
    _timestamp("enrollment_end"),
    _bool("self_paced"),
    _bool("invitation_only"),
    _bool("mobile_available"),
    _float("lowest_passing_grade", "share of the grade needed to pass"),
    _text("catalog_visibility"),
    _text("language"),
    _timestamp("created"),
    _timestamp("modified"),
    description="the course list (what the LMS's course list API serves) — one row per course",
)
AUTH_USER = _lms_table(
    "auth_user",
    _id("id"),
    _text("username", nullable=False, pii=True),
    _text("first_name", pii=True),
    _text("last_name", pii=True),
    _text("email", pii=True),
    _bool("is_staff"),
    _bool("is_superuser"),
    _bool("is_active"),
    _timestamp("last_login"),
    _timestamp("date_joined"),
    description="users enrolled in a course or on a course's staff (never the password)",
    where=COURSE_USERS,
)
AUTH_USERPROFILE = _lms_table(
    "auth_userprofile",
    _id("id"),
    _id("user_id"),
    _text("name", pii=True),
    _text("language"),
    _text("location", pii=True),
    Column("year_of_birth", pa.int64(), read=sql_integer),
    _text("gender"),
    _text("level_of_education"),
    _text("mailing_address", pii=True),
    _text("city", pii=True),
    _text("country"),
    _text("goals", pii=True),
    _bool("allow_certificate"),
    description="the profiles of those users (some learners have none)",
    where=COURSE_USERS.replace("id IN", "user_id IN"),
)
STUDENT_COURSEENROLLMENT = _lms_table(
    "student_courseenrollment",
    _id("id"),
    _id("user_id"),
    _text("course_id", nullable=False),
    _timestamp("created"),
    _bool("is_active"),
    _text("mode"),
    description="every enrollment",
)
COURSEWARE_STUDENTMODULE = _lms_table(
    "courseware_studentmodule",
    _id("id"),
    _text("module_type"),
    _text("module_id", nullable=False, description="the block's usage key"),
    _id("student_id"),
    _text("course_id", nullable=False),
    _text("state", description="the block's learner state, JSON text"),
    _float("grade"),
    _float("max_grade"),
    _timestamp("created"),
    _timestamp("modified", nullable=False),
    description=(
        "learner state per block, incremental: each partition holds the rows modified since the "
        "previous extraction's watermark (minus an overlap), or every row on a full reload"
    ),
    watermark="modified",
)
STUDENT_COURSEACCESSROLE = _lms_table(
    "student_courseaccessrole",
    _id("id"),
    _id("user_id"),
    _text("org"),
    _text("course_id"),
    _text("role"),
    description="course staff roles (instructor, staff, data_researcher, ...)",
)
DJANGO_COMMENT_CLIENT_ROLE = _lms_table(
    "django_comment_client_role",
    _id("id"),
    _text("name", description="Administrator, Moderator, Community TA, Student"),
    _text("course_id"),
    description="forum roles per course",
)
DJANGO_COMMENT_CLIENT_ROLE_USERS = _lms_table(
    "django_comment_client_role_users",
    _id("id"),
    _id("role_id"),
    _id("user_id"),
    description="who holds each forum role",
)

# In extraction order (all in one snapshot).
LMS_TABLES: tuple[LmsTable, ...] = (
    COURSE_OVERVIEWS,
    AUTH_USER,
    AUTH_USERPROFILE,
    STUDENT_COURSEENROLLMENT,
    COURSEWARE_STUDENTMODULE,
    STUDENT_COURSEACCESSROLE,
    DJANGO_COMMENT_CLIENT_ROLE,
    DJANGO_COMMENT_CLIENT_ROLE_USERS,
)
COURSE_EXPORTS = RawTable(
    "course_exports",
    (
        DEPLOYMENT,
        string("course_id", nullable=False),
        string("task_id", description="Studio's export task"),
        string(
            "export_path",
            nullable=False,
            description="the tarball in the lake (`dt=<day>/<course_id>.tar.gz` beside this table)",
        ),
        int64("size_bytes", nullable=False),
        string("sha256", nullable=False, description="of the tarball"),
        string("course_title", description="the course's display name in its OLX"),
        int64("block_count", nullable=False, description="published blocks of the OLX"),
        int64("problem_count", nullable=False, description="published problem blocks"),
        int64("video_count", nullable=False, description="published video blocks"),
        RETRIEVED_AT,
    ),
    description=(
        "one row per course of the day's course list whose OLX export was downloaded from Studio "
        "and parsed"
    ),
)

TABLES: tuple[RawTable, ...] = (
    *(table.raw for table in LMS_TABLES),
    FORUM_POSTS,
    COURSE_EXPORTS,
)
