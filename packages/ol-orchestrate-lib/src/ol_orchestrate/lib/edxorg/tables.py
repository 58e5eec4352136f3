"""The raw tables the edxorg location lands from edX.org archives, declared once.

Every table starts with the archive and member it came from (`archive_date`, `source_system`,
`archive_course_id`) and ends with `extra_columns`, `source_line` and `retrieved_at`.

The TSV tables' contract: a declared table lands exactly its declared columns, matched to the
member's header **by name** (so a header that changed order between deliveries lands the same);
a declared column missing from a member's header is null (a not-null one quarantines the row);
header columns the declaration does not name are kept, losslessly, as one JSON object in
`extra_columns` (`{"column": "value", ...}`, null when there are none) — it may hold personal
data, so it is marked as such and staging never selects it. A `password` column is never kept.
A `.sql` member of a table that is not declared here is not landed (the archive member list,
`archive_members`, records it as `undeclared`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pyarrow as pa

from ol_orchestrate.lib.raw_tables import (
    LENIENT_READERS,
    RETRIEVED_AT,
    Column,
    RawTable,
    bool_,
    float64,
    int64,
    string,
)

# Never landed, whatever the header says (edX blanks it; a value would still be a secret).
DROPPED_COLUMNS = frozenset({"password"})


def mysql_boolean(value: Any) -> Any:
    """A MySQL tinyint(1) as a bool: `0`/`1` (and `true`/`false`); anything else passes through."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    return value


READERS: Mapping[pa.DataType, Any] = MappingProxyType(
    {**LENIENT_READERS, pa.bool_(): mysql_boolean}
)

ARCHIVE_DATE = Column(
    "archive_date", nullable=False, given=True, description="the archive's date (YYYY-MM-DD)"
)
SOURCE_SYSTEM = Column(
    "source_system",
    nullable=False,
    given=True,
    description="prod (edx.org) or edge (edge.edx.org), from the member's name",
)
ARCHIVE_COURSE_ID = Column(
    "archive_course_id",
    nullable=False,
    given=True,
    description="the course the member holds, as edX writes it (legacy ids stay legacy)",
)
EXTRA_COLUMNS = Column(
    "extra_columns",
    given=True,
    pii=True,
    description="header columns not declared here, as a JSON object (null when none)",
)
SOURCE_LINE = Column(
    "source_line", pa.int64(), given=True, description="line (or document) in the member, 1-based"
)
LEADING = (ARCHIVE_DATE, SOURCE_SYSTEM, ARCHIVE_COURSE_ID)
TRAILING = (EXTRA_COLUMNS, SOURCE_LINE, RETRIEVED_AT)


def archive_table(name: str, description: str, *columns: Column) -> RawTable:
    return RawTable(name, (*LEADING, *columns, *TRAILING), description, readers=READERS)


def _id(name: str = "id", **options: Any) -> Column:
    return int64(name, nullable=False, **options)


# -- TSV tables (`.sql` members) ---------------------------------------------------------------

AUTH_USER = archive_table(
    "auth_user",
    "the course's learners and staff",
    _id(),
    string("username", pii=True),
    string("first_name", pii=True),
    string("last_name", pii=True),
    string("email", pii=True),
    bool_("is_staff"),
    bool_("is_active"),
    bool_("is_superuser"),
    string("last_login", description="naive UTC"),
    string("date_joined", description="naive UTC"),
)
AUTH_USERPROFILE = archive_table(
    "auth_userprofile",
    "",
    _id(),
    int64("user_id", nullable=False),
    string("name", pii=True),
    string("gender"),
    int64("year_of_birth"),
    string("level_of_education"),
    string("country"),
    string("city", pii=True),
    string("language"),
    string("goals", pii=True),
)
STUDENT_COURSEENROLLMENT = archive_table(
    "student_courseenrollment",
    "",
    _id(),
    int64("user_id", nullable=False),
    string("course_id", nullable=False, description="as edX writes it"),
    string("created", description="naive UTC"),
    bool_("is_active"),
    string("mode"),
)
CERTIFICATES_GENERATEDCERTIFICATE = archive_table(
    "certificates_generatedcertificate",
    "",
    _id(),
    int64("user_id", nullable=False),
    string("course_id", nullable=False),
    string("grade", description="the final grade as text, e.g. 0.87"),
    string("status", description="downloadable, notpassing, unavailable, ..."),
    string("mode"),
    bool_("distinction"),
    string("name", pii=True),
    string("created_date", description="naive UTC"),
    string("modified_date", description="naive UTC"),
)
COURSEWARE_STUDENTMODULE = archive_table(
    "courseware_studentmodule",
    "",
    _id(),
    string("module_type"),
    string("module_id", description="the block's usage key"),
    int64("student_id", nullable=False),
    string("state", description="JSON text, sometimes JSON-encoded twice"),
    float64("grade"),
    float64("max_grade"),
    string("done"),
    string("course_id"),
    string("created", description="naive UTC"),
    string("modified", description="naive UTC"),
)
GRADES_PERSISTENTCOURSEGRADE = archive_table(
    "grades_persistentcoursegrade",
    "",
    _id(),
    int64("user_id", nullable=False),
    string("course_id", nullable=False),
    float64("percent_grade"),
    string("letter_grade"),
    string("passed_timestamp", description="naive UTC"),
    string("created", description="naive UTC"),
    string("modified", description="naive UTC"),
)
GRADES_PERSISTENTSUBSECTIONGRADE = archive_table(
    "grades_persistentsubsectiongrade",
    "",
    _id(),
    int64("user_id", nullable=False),
    string("course_id", nullable=False),
    string("usage_key"),
    float64("earned_all"),
    float64("possible_all"),
    float64("earned_graded"),
    float64("possible_graded"),
    string("first_attempted", description="naive UTC"),
    string("created", description="naive UTC"),
    string("modified", description="naive UTC"),
)
USER_ID_MAP = archive_table(
    "user_id_map",
    "",
    string("hash_id", nullable=False, description="the learner's research id"),
    int64("id", nullable=False, description="the user id"),
    string("username", pii=True),
)
STUDENT_ANONYMOUSUSERID = archive_table(
    "student_anonymoususerid",
    "",
    _id(),
    int64("user_id", nullable=False),
    string("anonymous_user_id"),
    string("course_id"),
)
TEAMS = archive_table(
    "teams",
    "",
    _id(),
    string("team_id"),
    string("name"),
    string("course_id"),
    string("topic_id"),
    string("date_created", description="naive UTC"),
    string("description"),
    string("country"),
    string("language"),
    string("last_activity_at", description="naive UTC"),
    int64("team_size"),
)
TEAMS_MEMBERSHIP = archive_table(
    "teams_membership",
    "",
    _id(),
    int64("user_id", nullable=False),
    int64("team_id"),
    string("date_joined", description="naive UTC"),
    string("last_activity_at", description="naive UTC"),
)
WIKI_ARTICLE = archive_table(
    "wiki_article",
    "",
    _id(),
    int64("current_revision_id"),
    string("created", description="naive UTC"),
    string("modified", description="naive UTC"),
    int64("owner_id"),
    int64("group_id"),
    bool_("group_read"),
    bool_("group_write"),
    bool_("other_read"),
    bool_("other_write"),
)
WIKI_ARTICLEREVISION = archive_table(
    "wiki_articlerevision",
    "",
    _id(),
    int64("revision_number"),
    string("user_message"),
    string("automatic_log"),
    string("ip_address", pii=True),
    int64("user_id"),
    string("modified", description="naive UTC"),
    string("created", description="naive UTC"),
    int64("previous_revision_id"),
    bool_("deleted"),
    bool_("locked"),
    int64("article_id"),
    string("content"),
    string("title"),
)
USER_API_USERCOURSETAG = archive_table(
    "user_api_usercoursetag",
    "",
    int64("user_id", nullable=False),
    string("key"),
    string("course_id"),
    string("value"),
)
STUDENT_LANGUAGEPROFICIENCY = archive_table(
    "student_languageproficiency",
    "",
    _id(),
    int64("user_profile_id"),
    string("code"),
)
VERIFY_STUDENT_VERIFICATIONSTATUS = archive_table(
    "verify_student_verificationstatus",
    "",
    _id(),
    string("status"),
    string("timestamp", description="naive UTC"),
    int64("checkpoint_id"),
    int64("user_id"),
    string("response"),
    string("error"),
)

TSV_TABLES: tuple[RawTable, ...] = (
    AUTH_USER,
    AUTH_USERPROFILE,
    STUDENT_COURSEENROLLMENT,
    CERTIFICATES_GENERATEDCERTIFICATE,
    COURSEWARE_STUDENTMODULE,
    GRADES_PERSISTENTCOURSEGRADE,
    GRADES_PERSISTENTSUBSECTIONGRADE,
    USER_ID_MAP,
    STUDENT_ANONYMOUSUSERID,
    TEAMS,
    TEAMS_MEMBERSHIP,
    WIKI_ARTICLE,
    WIKI_ARTICLEREVISION,
    USER_API_USERCOURSETAG,
    STUDENT_LANGUAGEPROFICIENCY,
    VERIFY_STUDENT_VERIFICATIONSTATUS,
)
TSV_TABLES_BY_NAME: Mapping[str, RawTable] = MappingProxyType({t.name: t for t in TSV_TABLES})

# -- the forum (`.mongo` members) --------------------------------------------------------------

FORUM_POSTS = archive_table(
    "forum_posts",
    "one row per forum document (thread or comment)",
    string("post_id", path="_id", nullable=False, description="the document's ObjectId (hex)"),
    string("post_type", path="_type", description="CommentThread or Comment"),
    string("course_id"),
    string("commentable_id", description="the discussion the thread is in"),
    string("thread_id", given=True, description="the thread: its own id for a thread"),
    string("parent_id", description="the comment replied to (nested comments)"),
    int64("author_id"),
    string("author_username", pii=True),
    string("title"),
    string("body", description="the post's text (markdown)"),
    string("thread_type", description="discussion or question"),
    bool_("anonymous"),
    bool_("anonymous_to_peers"),
    string("created_at", description="ISO-8601 UTC (`Z`)"),
    string("updated_at", description="ISO-8601 UTC (`Z`)"),
    string("last_activity_at", description="ISO-8601 UTC (`Z`)"),
    int64("votes_up", path="votes.up_count"),
    int64("votes_down", path="votes.down_count"),
    int64("votes_point", path="votes.point"),
    int64("comment_count"),
    bool_("endorsed"),
    bool_("closed"),
)
# Document fields the columns read (the others go to `extra_columns`).
FORUM_MAPPED_FIELDS = frozenset(
    {
        "_id",
        "_type",
        "course_id",
        "commentable_id",
        "comment_thread_id",
        "parent_id",
        "author_id",
        "author_username",
        "title",
        "body",
        "thread_type",
        "anonymous",
        "anonymous_to_peers",
        "created_at",
        "updated_at",
        "last_activity_at",
        "votes",
        "comment_count",
        "endorsed",
        "closed",
    }
)

# -- course structure (`-course_structure-` JSON) and OLX (`-course-...xml.tar.gz`) ------------

_BLOCK_COLUMNS = (
    string("block_id", nullable=False, description="usage key (i4x:// for legacy courses)"),
    string("block_type", nullable=False),
    string("display_name"),
    string("parent_block_id"),
    int64("block_index", nullable=False, description="depth-first position, the course is 0"),
    int64("block_depth", nullable=False, description="0 for the course"),
    bool_("graded"),
    string("block_format", description="the assignment type of a graded subsection"),
    string("due"),
    string("start"),
)
COURSE_STRUCTURE = archive_table(
    "course_structure",
    "one row per block of the course structure JSON (published blocks)",
    *_BLOCK_COLUMNS,
    string("metadata", description="the block's metadata as JSON"),
)
COURSE_BLOCKS = archive_table(
    "course_blocks",
    "one row per published block of the course's OLX export (drafts never)",
    *_BLOCK_COLUMNS[:4],
    string("url_name", nullable=False),
    *_BLOCK_COLUMNS[4:],
    int64("block_position", nullable=False, description="0-based order among its siblings"),
    string("attributes", description="XML attributes with policy.json overrides, as JSON"),
)

# -- the archive's member list -------------------------------------------------------------

ARCHIVE_MEMBERS = RawTable(
    "archive_members",
    (
        ARCHIVE_DATE,
        string("archive_key", nullable=False, description="the archive's object key"),
        string("archive_etag", description="the archive object's ETag (its data version)"),
        string("member", nullable=False, description="path inside the archive"),
        string(
            "kind",
            nullable=False,
            description="table, forum, course_structure, course_xml, unknown",
        ),
        string("source_system"),
        string("archive_course_id"),
        string("table_name", description="the raw table it landed in"),
        int64("size_bytes", nullable=False),
        string(
            "content_sha256", nullable=False, description="of the member and its table's schema"
        ),
        int64("rows_read", nullable=False),
        int64("rows_written", nullable=False),
        int64("rows_quarantined", nullable=False),
        string("status", nullable=False, description="written, unchanged, undeclared, unknown"),
        string("output_path"),
        RETRIEVED_AT,
    ),
    "one row per member of the archive: what it is and what became of it",
)

ARCHIVE_TABLES: tuple[RawTable, ...] = (*TSV_TABLES, FORUM_POSTS, COURSE_STRUCTURE, COURSE_BLOCKS)
TABLES: tuple[RawTable, ...] = (*ARCHIVE_TABLES, ARCHIVE_MEMBERS)
