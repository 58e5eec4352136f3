"""edX.org deliveries: archive and member names, the TSV and Mongo readers, the raw tables and
the archive exploder, shared by the edxorg code location and `ol-platform edxorg explode`."""

from ol_orchestrate.lib.edxorg.explode import (
    ArchiveReadError,
    ExplodeSummary,
    MemberOutcome,
    TableOutcome,
    explode_archive,
    iter_members,
    manifest_rows,
    previous_outputs,
    read_manifest,
)
from ol_orchestrate.lib.edxorg.naming import (
    ArchiveName,
    MemberName,
    canonical_course_id,
    course_id_from_slug,
    parse_archive_name,
    parse_member_name,
)
from ol_orchestrate.lib.edxorg.tables import ARCHIVE_MEMBERS, ARCHIVE_TABLES, TABLES, TSV_TABLES

__all__ = [
    "ARCHIVE_MEMBERS",
    "ARCHIVE_TABLES",
    "TABLES",
    "TSV_TABLES",
    "ArchiveName",
    "ArchiveReadError",
    "ExplodeSummary",
    "MemberName",
    "MemberOutcome",
    "TableOutcome",
    "canonical_course_id",
    "course_id_from_slug",
    "explode_archive",
    "iter_members",
    "manifest_rows",
    "parse_archive_name",
    "parse_member_name",
    "previous_outputs",
    "read_manifest",
]
