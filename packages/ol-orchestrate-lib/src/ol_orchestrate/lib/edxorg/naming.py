"""The names edX.org gives its deliveries: weekly archives and the files inside them.

An archive is `<org>-YYYY-MM-DD.tar.gz` (edx-analytics-exporter output). Each member is one file
per course and kind, `{course}-{name}-{prod|edge}-analytics.{ext}`, where `{course}` is the course
id with `/`, `+` and `:` turned into `-` (`MITx-6.002x-2012_Fall`, `course-v1-MITx-6.002x-2T2026`,
a CCX ending `-ccx-N`). Hyphens are ambiguous inside `{course}`, so names are parsed from the
right: extension, `-analytics`, the site (`prod` = edx.org, `edge` = edge.edx.org), the name (a
table for `.sql`, `course_structure` for `.json`, `course` for the OLX `.xml.tar.gz`; none for the
forum's `.mongo`), and the course id is what is left, rebuilt and validated with edx-opaque-keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from opaque_keys.edx.locator import CourseLocator

SITES = ("prod", "edge")
# Member kinds.
TABLE = "table"  # a `.sql` file: a tab-separated table with a header row (not SQL)
FORUM = "forum"  # a `.mongo` file: one forum document per line, Mongo extended JSON
COURSE_STRUCTURE = "course_structure"  # the course's block tree as JSON
COURSE_XML = "course_xml"  # the course's OLX export (.xml.tar.gz)
UNKNOWN = "unknown"

_ARCHIVE = re.compile(r"^(?P<org>[A-Za-z0-9_.]+)-(?P<day>\d{4}-\d{2}-\d{2})\.tar\.gz$")
_NAME_TOKEN = re.compile(r"^[a-z][a-z0-9_]*$")
_EXTENSIONS = (
    (".xml.tar.gz", COURSE_XML),
    (".sql", TABLE),
    (".mongo", FORUM),
    (".json", COURSE_STRUCTURE),
)
_CCX_PREFIX = "ccx-v1:"


@dataclass(frozen=True)
class ArchiveName:
    """`mitx-2026-01-12.tar.gz`: the delivering org and the archive's date."""

    file_name: str
    org: str
    archive_date: str  # YYYY-MM-DD

    @property
    def stem(self) -> str:
        return self.file_name.removesuffix(".tar.gz")


def parse_archive_name(name: str) -> ArchiveName | None:
    """The org and date of an archive name (a key's last segment is used), else None."""
    file_name = PurePosixPath(name).name
    match = _ARCHIVE.match(file_name)
    if not match:
        return None
    try:
        date.fromisoformat(match["day"])
    except ValueError:
        return None
    return ArchiveName(file_name, match["org"].lower(), match["day"])


@dataclass(frozen=True)
class MemberName:
    """What a member's name says: its kind, course, site and (for tables) table name."""

    member: str  # the path inside the archive, as found
    kind: str  # TABLE, FORUM, COURSE_STRUCTURE, COURSE_XML or UNKNOWN
    course_id: str | None  # the course id as edX writes it (legacy ids stay legacy)
    course_slug: str | None  # the `{course}` part of the file name, as written
    source_system: str | None  # "prod" or "edge"
    name: str | None  # the table name of a TABLE, else the name token if any

    @property
    def table(self) -> str | None:
        return self.name if self.kind == TABLE else None

    @property
    def file_stem(self) -> str | None:
        """`<course slug>-<site>`: the file name of this course's part of a raw table."""
        if self.course_slug is None or self.source_system is None:
            return None
        return f"{self.course_slug}-{self.source_system}"


def parse_member_name(member: str) -> MemberName:
    """Parse a member's file name (directories are ignored); UNKNOWN when it does not fit."""
    file_name = PurePosixPath(member).name
    unknown = MemberName(member, UNKNOWN, None, None, None, None)
    found = next(((ext, kind) for ext, kind in _EXTENSIONS if file_name.endswith(ext)), None)
    if found is None:
        return unknown
    extension, kind = found
    stem = file_name[: -len(extension)]
    tokens = stem.split("-")
    if tokens and tokens[-1] == "analytics":
        tokens.pop()
    if not tokens or tokens[-1] not in SITES:
        return unknown
    site = tokens.pop()
    name: str | None = None
    if kind in (TABLE, COURSE_STRUCTURE) or (
        kind == COURSE_XML and tokens and tokens[-1] == "course"
    ):
        if not tokens or not _NAME_TOKEN.match(tokens[-1]):
            return unknown
        name = tokens.pop()
        if kind == COURSE_STRUCTURE and name != "course_structure":
            kind = UNKNOWN
    course_id = course_id_from_slug("-".join(tokens))
    if course_id is None:
        return unknown
    return MemberName(member, kind, course_id, "-".join(tokens), site, name)


def course_id_from_slug(slug: str) -> str | None:
    """The course id a file-name slug stands for (`MITx-6.002x-2012_Fall` ->
    `MITx/6.002x/2012_Fall`; `course-v1-MITx-6.002x-2T2026` -> `course-v1:MITx+6.002x+2T2026`;
    a trailing `-ccx-N` -> `ccx-v1:Org+Num+Run+ccx@N`), in edx-opaque-keys' canonical form, or
    None when it is not one. The org and run hold no hyphen; the course number may."""
    tokens = slug.split("-") if slug else []
    new_style = False
    if tokens[:2] in (["course", "v1"], ["ccx", "v1"]):
        new_style = True
        tokens = tokens[2:]
    ccx: str | None = None
    if len(tokens) >= 2 and tokens[-2] == "ccx" and tokens[-1].isdigit():
        ccx, tokens = tokens[-1], tokens[:-2]
    elif tokens and tokens[-1].startswith("ccx@") and tokens[-1][4:].isdigit():
        ccx, tokens = tokens[-1][4:], tokens[:-1]
    if len(tokens) < 3:
        return None
    org, number, run = tokens[0], "-".join(tokens[1:-1]), tokens[-1]
    try:
        key = CourseLocator(org, number, run, deprecated=not (new_style or ccx))
    except (InvalidKeyError, ValueError, TypeError):
        return None
    if ccx is not None:
        return f"{_CCX_PREFIX}{org}+{number}+{run}+ccx@{ccx}"
    return canonical_course_id(str(key))


def canonical_course_id(value: str | None) -> str | None:
    """A course id in edx-opaque-keys' canonical form, keeping the form its source wrote: a
    legacy `Org/Num/Run` stays legacy, a `course-v1:` key stays one. None if it is not a key."""
    if not value:
        return None
    text = value.strip()
    if text.startswith(_CCX_PREFIX):
        course_part, _, ccx = text[len(_CCX_PREFIX) :].rpartition("+ccx@")
        canonical = canonical_course_id(f"course-v1:{course_part}") if ccx.isdigit() else None
        return f"{_CCX_PREFIX}{canonical[len('course-v1:') :]}+ccx@{ccx}" if canonical else None
    try:
        key = CourseKey.from_string(text)
    except (InvalidKeyError, TypeError, ValueError):
        return None
    if not isinstance(key, CourseLocator) or key.branch or key.version_guid:
        return None
    return str(key)
