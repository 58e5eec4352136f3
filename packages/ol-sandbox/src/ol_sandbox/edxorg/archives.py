"""The weekly research data archives of the sandbox's edX.org (edx-analytics-exporter's shape).

`mitx-YYYY-MM-DD.tar.gz` holds, under a `mitx-YYYY-MM-DD/` folder, one file per course and kind:
`{course}-{table}-{prod|edge}-analytics.sql` (tab-separated tables with a header row: `NULL` for
null, backslash-escaped tabs, newlines and backslashes, naive UTC dates, `courseware_studentmodule
.state` JSON sometimes JSON-encoded twice), `{course}-{prod|edge}.mongo` (the forum in Mongo
extended JSON), `{course}-course_structure-{site}-analytics.json` and
`{course}-course-{site}-analytics.xml.tar.gz` (the OLX export: pointer and inline blocks, a
retired block type, policy overrides, drafts). Each archive is the courses as of its date.

Quirks on purpose: a row with a missing field, a row with a null id and one with a grade that is
not a number (each quarantined), a forum line cut short, an undeclared table and a README member,
and `auth_userprofile`'s header changes between the first archive and the later ones (a column
added, two swapped, one new undeclared column). Deterministic: the same institution gives
byte-identical archives (tar and gzip without timestamps).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ol_sandbox.data import Block, Enrollment
from ol_sandbox.edxorg.data import DELIVERY_ORG, EdxorgCourse, EdxorgData, stable_int

_DATETIME = "%Y-%m-%d %H:%M:%S"


def archive_name(day: date) -> str:
    return f"{DELIVERY_ORG}-{day.isoformat()}.tar.gz"


def escape(value: Any) -> str:
    """One TSV field as `mysql --batch` writes it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    return (
        text.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\0", "\\0")
    )


def tsv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    lines = ["\t".join(header)]
    lines.extend("\t".join(escape(value) for value in row) for row in rows)
    return ("\n".join(lines) + "\n").encode("utf-8")


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A deterministic .tar.gz of `files` (in the given order)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _naive(at: datetime, legacy: bool) -> str:
    """MySQL's naive UTC text: datetime(6) with microseconds, older tables without."""
    at = at.astimezone(UTC)
    return at.strftime(_DATETIME) if legacy else at.strftime(_DATETIME) + f".{at.microsecond:06d}"


class _Archive:
    def __init__(self, data: EdxorgData, day: date, index: int) -> None:
        self.data = data
        self.day = day
        self.index = index
        self.cutoff = datetime.combine(day, time(0, 0), tzinfo=UTC)
        self.folder = f"{DELIVERY_ORG}-{day.isoformat()}"
        self.files: dict[str, bytes] = {}

    def add(self, course: EdxorgCourse, name: str | None, extension: str, body: bytes) -> None:
        middle = f"-{name}" if name else ""
        suffix = "" if extension == "mongo" else "-analytics"
        self.files[f"{self.folder}/{course.slug}{middle}-{course.site}{suffix}.{extension}"] = body

    def enrollments(self, course: EdxorgCourse) -> list[Enrollment]:
        return [
            e
            for e in self.data.enrollments.get(course.course_id, ())
            if _at(e.created) < self.cutoff
        ]

    def build(self) -> bytes:
        self.files[f"{self.folder}/README.txt"] = (
            f"MITx research data package {self.day.isoformat()} (sandbox).\n".encode()
        )
        for position, course in enumerate(self.data.courses):
            self.course(course, first=position == 0)
        return tar_gz(self.files)

    # -- one course -----------------------------------------------------------------------

    def course(self, course: EdxorgCourse, *, first: bool) -> None:
        enrollments = self.enrollments(course)
        users = sorted({e.username for e in enrollments}, key=self.data.user_id)
        legacy = course.legacy
        self.add(course, "auth_user", "sql", self.auth_user(users, course))
        self.add(course, "auth_userprofile", "sql", self.auth_userprofile(users, course, first))
        self.add(
            course,
            "student_courseenrollment",
            "sql",
            self.enrollment_table(course, enrollments, first),
        )
        self.add(
            course,
            "user_id_map",
            "sql",
            tsv(
                ["hash_id", "id", "username"],
                ([hashlib.sha1(u.encode()).hexdigest(), self.data.user_id(u), u] for u in users),  # noqa: S324
            ),
        )
        self.add(
            course,
            "student_anonymoususerid",
            "sql",
            tsv(
                ["id", "user_id", "anonymous_user_id", "course_id"],
                (
                    [
                        stable_int(f"anon:{course.course_id}:{u}"),
                        self.data.user_id(u),
                        hashlib.md5(f"{course.course_id}:{u}".encode()).hexdigest(),  # noqa: S324
                        course.course_id,
                    ]
                    for u in users
                ),
            ),
        )
        grades = {e.username: self.final_grade(course, e) for e in enrollments}
        self.add(
            course,
            "grades_persistentcoursegrade",
            "sql",
            self.course_grades(course, enrollments, grades),
        )
        self.add(
            course,
            "certificates_generatedcertificate",
            "sql",
            self.certificates(course, enrollments, grades),
        )
        self.add(
            course,
            "user_api_usercoursetag",
            "sql",
            tsv(
                ["user_id", "key", "course_id", "value"],
                (
                    [self.data.user_id(u), "cohort", course.course_id, "Default Group"]
                    for u in users[::4]
                ),
            ),
        )
        if not course.has_content:
            return
        self.add(
            course,
            "courseware_studentmodule",
            "sql",
            self.studentmodule(course, enrollments, first),
        )
        self.add(
            course,
            "grades_persistentsubsectiongrade",
            "sql",
            self.subsection_grades(course, enrollments),
        )
        self.add(
            course,
            "teams",
            "sql",
            tsv(
                [
                    "id",
                    "team_id",
                    "name",
                    "course_id",
                    "topic_id",
                    "date_created",
                    "description",
                    "country",
                    "language",
                    "discussion_topic_id",
                    "last_activity_at",
                    "team_size",
                ],
                [
                    [
                        stable_int(f"team:{course.course_id}"),
                        "study-group-1",
                        "Study group\t1",
                        course.course_id,
                        "topic-1",
                        _naive(self.cutoff - timedelta(days=6), legacy),
                        "Meet on Tuesdays\nand Fridays",
                        "US",
                        "en",
                        "dt1",
                        None,
                        min(3, len(users)),
                    ]
                ],
            ),
        )
        self.add(
            course,
            "teams_membership",
            "sql",
            tsv(
                ["id", "user_id", "team_id", "date_joined", "last_activity_at"],
                (
                    [
                        stable_int(f"member:{course.course_id}:{u}"),
                        self.data.user_id(u),
                        stable_int(f"team:{course.course_id}"),
                        _naive(self.cutoff - timedelta(days=5), legacy),
                        None,
                    ]
                    for u in users[:3]
                ),
            ),
        )
        article = stable_int(f"wiki:{course.course_id}")
        self.add(
            course,
            "wiki_article",
            "sql",
            tsv(
                [
                    "id",
                    "current_revision_id",
                    "created",
                    "modified",
                    "owner_id",
                    "group_id",
                    "group_read",
                    "group_write",
                    "other_read",
                    "other_write",
                ],
                [
                    [
                        article,
                        article + 1,
                        _naive(self.cutoff - timedelta(days=30), legacy),
                        _naive(self.cutoff - timedelta(days=2), legacy),
                        None,
                        None,
                        1,
                        1,
                        1,
                        0,
                    ]
                ],
            ),
        )
        self.add(
            course,
            "wiki_articlerevision",
            "sql",
            tsv(
                [
                    "id",
                    "revision_number",
                    "user_message",
                    "automatic_log",
                    "ip_address",
                    "user_id",
                    "modified",
                    "created",
                    "previous_revision_id",
                    "deleted",
                    "locked",
                    "article_id",
                    "content",
                    "title",
                ],
                [
                    [
                        article + 1,
                        1,
                        "",
                        "",
                        "10.0.0.7",
                        None,
                        _naive(self.cutoff - timedelta(days=2), legacy),
                        _naive(self.cutoff - timedelta(days=2), legacy),
                        None,
                        0,
                        0,
                        article,
                        "= Course wiki =\n\nWelcome!\tUse C:\\path only in examples.",
                        course.run.name,
                    ]
                ],
            ),
        )
        self.add(
            course,
            "student_languageproficiency",
            "sql",
            tsv(
                ["id", "user_profile_id", "code"],
                ([stable_int(f"lang:{u}"), self.data.user_id(u), "en"] for u in users[:2]),
            ),
        )
        self.add(
            course,
            "verify_student_verificationstatus",
            "sql",
            tsv(
                ["id", "status", "timestamp", "checkpoint_id", "user_id", "response", "error"],
                [],
            ),
        )
        if first:
            # A table this platform does not declare: listed in archive_members, not landed.
            self.add(
                course, "courseware_studentmodulehistory", "sql", tsv(["id", "state"], [[1, "{}"]])
            )
        self.add(course, None, "mongo", self.forum(course, enrollments, first))
        self.add(course, "course_structure", "json", self.course_structure(course))
        self.add(course, "course", "xml.tar.gz", olx_export(course, self.index))

    def auth_user(self, users: list[str], course: EdxorgCourse) -> bytes:
        header = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "password",
            "is_staff",
            "is_active",
            "is_superuser",
            "last_login",
            "date_joined",
            "status",
            "email_key",
        ]
        rows = []
        for username in users:
            first, _, last = username.partition("_")
            joined = self.cutoff - timedelta(days=200 + stable_int(username) % 300)
            rows.append(
                [
                    self.data.user_id(username),
                    username,
                    first.title(),
                    last.upper(),
                    f"{username}@example.com",
                    "",
                    0,
                    1,
                    0,
                    _naive(
                        self.cutoff - timedelta(hours=stable_int(username + "login") % 90),
                        course.legacy,
                    ),
                    _naive(joined, course.legacy),
                    "",
                    None,
                ]
            )
        return tsv(header, rows)

    def auth_userprofile(self, users: list[str], course: EdxorgCourse, first: bool) -> bytes:
        if self.index == 0:
            header = [
                "id",
                "user_id",
                "name",
                "language",
                "location",
                "meta",
                "courseware",
                "gender",
                "mailing_address",
                "year_of_birth",
                "level_of_education",
                "country",
                "city",
            ]
        else:  # the exporter's query changed: goals added, two columns swapped, one new column
            header = [
                "id",
                "user_id",
                "name",
                "language",
                "location",
                "meta",
                "courseware",
                "year_of_birth",
                "gender",
                "mailing_address",
                "level_of_education",
                "goals",
                "country",
                "city",
                "phone_number",
            ]
        rows = []
        for number, username in enumerate(users):
            first_name, _, last = username.partition("_")
            values = {
                "id": stable_int(f"profile:{username}"),
                "user_id": self.data.user_id(username),
                "name": f"{first_name.title()} O'{last.upper()}\\{number}",  # a backslash in a name
                "language": "en",
                "location": None,
                "meta": json.dumps({"session_id": None}),
                "courseware": "course.xml",
                "gender": ("f", "m", "o", None)[stable_int(username) % 4],
                "mailing_address": None,
                "year_of_birth": 1960 + stable_int(username + "yob") % 45,
                "level_of_education": ("b", "m", "hs", "p", None)[stable_int(username) % 5],
                "goals": "Learn the material\tand\nearn a certificate" if number % 3 == 0 else None,
                "country": ("US", "IN", "BR", "CN", "FR")[stable_int(username) % 5],
                "city": "Cambridge",
                "phone_number": None,
            }
            rows.append([values[name] for name in header])
        body = tsv(header, rows)
        if first and rows:
            body += b"999999\t1000\tcut short\ten\n"  # a row with missing fields: quarantined
        return body

    def enrollment_table(
        self, course: EdxorgCourse, enrollments: list[Enrollment], first: bool
    ) -> bytes:
        rows: list[list[Any]] = [
            [
                stable_int(f"enroll:{course.course_id}:{e.username}"),
                self.data.user_id(e.username),
                course.course_id,
                _naive(_at(e.created), course.legacy),
                e.is_active,
                e.mode,
            ]
            for e in enrollments
        ]
        if first:
            rows.append([None, 1000, course.course_id, None, 1, "audit"])  # a null id: quarantined
        return tsv(["id", "user_id", "course_id", "created", "is_active", "mode"], rows)

    def final_grade(self, course: EdxorgCourse, enrollment: Enrollment) -> float:
        return round((stable_int(f"grade:{course.course_id}:{enrollment.username}") % 101) / 100, 2)

    def course_grades(
        self, course: EdxorgCourse, enrollments: list[Enrollment], grades: dict[str, float]
    ) -> bytes:
        rows = []
        for e in enrollments:
            grade = grades[e.username]
            passed = (
                _naive(self.cutoff - timedelta(days=1), course.legacy) if grade >= 0.5 else None
            )
            rows.append(
                [
                    stable_int(f"pcg:{course.course_id}:{e.username}"),
                    self.data.user_id(e.username),
                    course.course_id,
                    None,
                    "",
                    "",
                    grade,
                    "Pass" if grade >= 0.5 else "",
                    passed,
                    _naive(_at(e.created) + timedelta(days=1), course.legacy),
                    _naive(self.cutoff - timedelta(hours=3), course.legacy),
                ]
            )
        return tsv(
            [
                "id",
                "user_id",
                "course_id",
                "course_edited_timestamp",
                "course_version",
                "grading_policy_hash",
                "percent_grade",
                "letter_grade",
                "passed_timestamp",
                "created",
                "modified",
            ],
            rows,
        )

    def certificates(
        self, course: EdxorgCourse, enrollments: list[Enrollment], grades: dict[str, float]
    ) -> bytes:
        rows = []
        for e in enrollments:
            if e.mode != "verified":
                continue
            grade = grades[e.username]
            rows.append(
                [
                    stable_int(f"cert:{course.course_id}:{e.username}"),
                    self.data.user_id(e.username),
                    course.course_id,
                    "",
                    f"{grade:.2f}",
                    hashlib.md5(e.username.encode()).hexdigest(),  # noqa: S324
                    0,
                    "downloadable" if grade >= 0.5 else "notpassing",
                    "",
                    "",
                    e.username.replace("_", " ").title(),
                    _naive(self.cutoff - timedelta(days=2), course.legacy),
                    _naive(self.cutoff - timedelta(days=1), course.legacy),
                    "",
                    e.mode,
                ]
            )
        return tsv(
            [
                "id",
                "user_id",
                "course_id",
                "download_url",
                "grade",
                "key",
                "distinction",
                "status",
                "verify_uuid",
                "download_uuid",
                "name",
                "created_date",
                "modified_date",
                "error_reason",
                "mode",
            ],
            rows,
        )

    def studentmodule(
        self, course: EdxorgCourse, enrollments: list[Enrollment], first: bool
    ) -> bytes:
        problems = [b for b in course.run.blocks if b.block_type == "problem"]
        rows = []
        for e in enrollments:
            rng = random.Random(f"sm:{course.course_id}:{e.username}:{self.index}")
            for block in problems:
                if rng.random() < 0.35:
                    continue
                created = _at(e.created) + timedelta(hours=rng.randint(1, 100))
                if created >= self.cutoff:
                    continue
                max_grade = 1 + stable_int(block.usage_key) % 3
                attempts = rng.randint(0, 3)
                answer_key = f"{block.block_id}_2_1"
                state: Any = {"seed": 1}
                grade: Any = None
                if attempts:
                    grade = float(rng.randint(0, max_grade))
                    state = {
                        "attempts": attempts,
                        "done": True,
                        "seed": 1,
                        "correct_map": {
                            answer_key: {
                                "correctness": "correct" if grade == max_grade else "incorrect",
                                "npoints": None,
                                "msg": "",
                            }
                        },
                        "student_answers": {answer_key: f"choice_{rng.randint(0, 3)}"},
                        "input_state": {answer_key: {}},
                    }
                text = json.dumps(state)
                if stable_int(f"{block.usage_key}:{e.username}") % 5 == 0:
                    text = json.dumps(text)  # doubly escaped: a JSON string holding the JSON
                rows.append(
                    [
                        stable_int(f"sm:{course.course_id}:{e.username}:{block.usage_key}"),
                        "problem",
                        block.usage_key,
                        self.data.user_id(e.username),
                        text,
                        grade,
                        float(max_grade) if attempts else None,
                        "na",
                        course.course_id,
                        _naive(created, course.legacy),
                        _naive(created + timedelta(minutes=5), course.legacy),
                    ]
                )
            sequential = next((b for b in course.run.blocks if b.block_type == "sequential"), None)
            if sequential is not None:
                rows.append(
                    [
                        stable_int(f"sm:{course.course_id}:{e.username}:{sequential.usage_key}"),
                        "sequential",
                        sequential.usage_key,
                        self.data.user_id(e.username),
                        json.dumps({"position": 1}),
                        None,
                        None,
                        "na",
                        course.course_id,
                        _naive(_at(e.created), course.legacy),
                        _naive(_at(e.created), course.legacy),
                    ]
                )
        if first and rows:
            bad = list(rows[0])
            bad[0], bad[5] = 888888, "n/a"  # a grade that is not a number: quarantined
            rows.append(bad)
        return tsv(
            [
                "id",
                "module_type",
                "module_id",
                "student_id",
                "state",
                "grade",
                "max_grade",
                "done",
                "course_id",
                "created",
                "modified",
            ],
            rows,
        )

    def subsection_grades(self, course: EdxorgCourse, enrollments: list[Enrollment]) -> bytes:
        graded = [b for b in course.run.blocks if b.block_type == "sequential" and b.graded]
        rows = []
        for e in enrollments:
            for block in graded:
                possible = float(1 + stable_int(block.usage_key) % 5)
                earned = float(stable_int(f"{block.usage_key}:{e.username}") % (int(possible) + 1))
                rows.append(
                    [
                        stable_int(f"psg:{course.course_id}:{e.username}:{block.usage_key}"),
                        self.data.user_id(e.username),
                        course.course_id,
                        block.usage_key,
                        None,
                        "",
                        earned,
                        possible,
                        earned,
                        possible,
                        "",
                        None,
                        _naive(_at(e.created) + timedelta(days=1), course.legacy),
                        _naive(self.cutoff - timedelta(hours=2), course.legacy),
                    ]
                )
        return tsv(
            [
                "id",
                "user_id",
                "course_id",
                "usage_key",
                "subtree_edited_timestamp",
                "course_version",
                "earned_all",
                "possible_all",
                "earned_graded",
                "possible_graded",
                "visible_blocks_hash",
                "first_attempted",
                "created",
                "modified",
            ],
            rows,
        )

    def forum(self, course: EdxorgCourse, enrollments: list[Enrollment], first: bool) -> bytes:
        lines: list[str] = []
        for position, e in enumerate(enrollments[::3]):
            rng = random.Random(f"forum:{course.course_id}:{e.username}")
            created = _at(e.created) + timedelta(hours=rng.randint(2, 48))
            if created >= self.cutoff:
                continue
            thread_id = f"{stable_int(f'thread:{course.course_id}:{e.username}', 1 << 62):024x}"[
                -24:
            ]
            author = str(self.data.user_id(e.username))
            # Both spellings of a date edX's dumps use: ISO text and epoch milliseconds.
            stamp: Any = (
                {
                    "$date": created.strftime("%Y-%m-%dT%H:%M:%S.")
                    + f"{created.microsecond // 1000:03d}Z"
                }
                if position % 2 == 0
                else {"$date": {"$numberLong": str(int(created.timestamp() * 1000))}}
            )
            replies = rng.randint(0, 3)
            lines.append(
                json.dumps(
                    {
                        "_id": {"$oid": thread_id},
                        "_type": "CommentThread",
                        "course_id": course.course_id,
                        "commentable_id": f"discussion-{stable_int(course.course_id) % 1000}",
                        "author_id": author,
                        "author_username": e.username,
                        "title": (
                            "Question about problem set 2",
                            "Résumé des notes",
                            "证明 question",
                        )[position % 3],
                        "body": "I tried this:\n\n    x = 1\t# why?\n\nThanks!",
                        "thread_type": ("discussion", "question")[position % 2],
                        "anonymous": False,
                        "anonymous_to_peers": position % 5 == 4,
                        "closed": False,
                        "pinned": False,
                        "created_at": stamp,
                        "updated_at": stamp,
                        "last_activity_at": stamp,
                        "votes": {
                            "up": [],
                            "down": [],
                            "up_count": {"$numberInt": str(replies)},
                            "down_count": 0,
                            "count": replies,
                            "point": replies,
                        },
                        "comment_count": replies,
                        "at_position_list": [],
                        "visible": True,
                        "abuse_flaggers": [],
                    },
                    ensure_ascii=False,
                )
            )
            first_comment: str | None = None
            for reply in range(replies):
                at = created + timedelta(hours=reply + 1)
                responder = enrollments[(position + reply + 1) % len(enrollments)].username
                comment_id = f"{stable_int(f'comment:{thread_id}:{reply}', 1 << 62):024x}"[-24:]
                lines.append(
                    json.dumps(
                        {
                            "_id": {"$oid": comment_id},
                            "_type": "Comment",
                            "course_id": course.course_id,
                            "comment_thread_id": {"$oid": thread_id},
                            # the third reply answers the first (a nested comment)
                            "parent_id": {"$oid": first_comment} if reply == 2 else None,
                            "author_id": str(self.data.user_id(responder)),
                            "author_username": responder,
                            "body": f"Reply {reply + 1}: try the hint.",
                            "anonymous": False,
                            "anonymous_to_peers": False,
                            "endorsed": reply == 0,
                            "created_at": {"$date": at.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
                            "updated_at": {"$date": at.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
                            "votes": {"up_count": 0, "down_count": 0, "point": 0},
                            "sk": f"{thread_id}-{comment_id}",
                            "at_position_list": [],
                            "visible": True,
                        },
                        ensure_ascii=False,
                    )
                )
                first_comment = first_comment or comment_id
        if first and lines:
            lines.append(lines[0][: len(lines[0]) // 2])  # a document cut short: quarantined
        return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""

    def course_structure(self, course: EdxorgCourse) -> bytes:
        blocks: dict[str, Any] = {}
        for block in course.run.blocks:
            metadata: dict[str, Any] = {"display_name": block.display_name}
            if block.graded:
                metadata["graded"] = True
            if block.format:
                metadata["format"] = block.format
            if block.due:
                metadata["due"] = block.due
            if block.block_type == "course":
                metadata["start"] = course.run.start
                metadata["end"] = course.run.end
            blocks[block.usage_key] = {
                "category": block.block_type,
                "children": list(block.children),
                "metadata": metadata,
            }
        return json.dumps(blocks, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _xml_attr(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def olx_export(course: EdxorgCourse, revision: int = 0) -> bytes:
    """The course's OLX export as a .tar.gz (`course/` folder), as Studio writes it: chapters and
    sequentials as pointers to their own files, verticals inline, problems inline with their
    markup, videos and html as pointers; one retired block type, a policy override, and a draft."""
    run = course.run
    by_key = {block.usage_key: block for block in run.blocks}
    files: dict[str, bytes] = {}

    def url_name(block: Block) -> str:
        return run.run if block.block_type == "course" else block.block_id

    def attrs(block: Block, **extra: str | None) -> str:
        values: dict[str, str | None] = {"display_name": block.display_name or None, **extra}
        if block.graded:
            values["graded"] = "true"
        if block.format:
            values["format"] = block.format
        if block.due:
            values["due"] = block.due
        return "".join(f' {k}="{_xml_attr(v)}"' for k, v in values.items() if v)

    def leaf(block: Block) -> str:
        if block.block_type == "problem":
            return (
                f'<problem url_name="{block.block_id}"{attrs(block)}><multiplechoiceresponse>'
                '<choicegroup><choice correct="true">A</choice><choice correct="false">B</choice>'
                "</choicegroup></multiplechoiceresponse></problem>"
            )
        files[f"course/{block.block_type}/{block.block_id}.xml"] = (
            f"<{block.block_type}{attrs(block)}"
            + (' filename="' + block.block_id + '"' if block.block_type == "html" else "")
            + (
                ">" + '<source src="https://example.com/v.mp4"/></video>'
                if block.block_type == "video"
                else "/>"
            )
        ).encode()
        return f'<{block.block_type} url_name="{block.block_id}"/>'

    chapters = []
    for chapter_key in run.blocks[0].children:
        chapter = by_key[chapter_key]
        sequentials = []
        for sequential_key in chapter.children:
            sequential = by_key[sequential_key]
            verticals = []
            for vertical_key in sequential.children:
                vertical = by_key[vertical_key]
                children = "".join(leaf(by_key[child]) for child in vertical.children)
                opening = f'<vertical url_name="{vertical.block_id}"{attrs(vertical)}>'
                verticals.append(f"{opening}{children}</vertical>")
            files[f"course/sequential/{sequential.block_id}.xml"] = (
                f"<sequential{attrs(sequential)}>{''.join(verticals)}</sequential>"
            ).encode()
            sequentials.append(f'<sequential url_name="{sequential.block_id}"/>')
        files[f"course/chapter/{chapter.block_id}.xml"] = (
            f"<chapter{attrs(chapter)}>{''.join(sequentials)}</chapter>"
        ).encode()
        chapters.append(f'<chapter url_name="{chapter.block_id}"/>')
    if chapters and course.legacy:
        # A retired block type from the early courses, kept with its type.
        first_chapter = run.blocks[0].children[0]
        chapter_file = f"course/chapter/{by_key[first_chapter].block_id}.xml"
        files[chapter_file] = files[chapter_file].replace(
            b"</chapter>",
            b'<poll_question url_name="early_poll" display_name="Which topic?">'
            b'<answer id="a">Circuits</answer></poll_question></chapter>',
        )
    files["course/course.xml"] = (
        f'<course url_name="{run.run}" org="{run.org}" course="{run.number}"/>'
    ).encode()
    files[f"course/course/{run.run}.xml"] = (
        f'<course display_name="{_xml_attr(run.name)}">{"".join(chapters)}</course>'
    ).encode()
    policy: dict[str, Any] = {
        f"course/{run.run}": {
            "display_name": run.name,
            "start": run.start,
            "end": run.end,
            "tabs": [{"type": "courseware"}, {"type": "discussion"}],
            "revision": revision,
        }
    }
    if run.blocks[0].children:
        first = by_key[run.blocks[0].children[0]]
        policy[f"chapter/{first.block_id}"] = {"display_name": f"{first.display_name} (revised)"}
    files[f"course/policies/{run.run}/policy.json"] = json.dumps(policy, sort_keys=True).encode()
    files[f"course/policies/{run.run}/grading_policy.json"] = json.dumps(
        {
            "GRADER": [{"type": "Homework", "weight": 0.5}, {"type": "Final Exam", "weight": 0.5}],
            "GRADE_CUTOFFS": {"Pass": 0.5},
        }
    ).encode()
    files["course/drafts/vertical/draft_unit.xml"] = (
        b'<vertical display_name="Unpublished unit"><problem url_name="draft_problem"/></vertical>'
    )
    return tar_gz(files)


def build_archive(data: EdxorgData, day: date) -> bytes:
    """The archive of `day` (one of `data.archive_dates`)."""
    index = data.archive_dates.index(day)
    return _Archive(data, day, index).build()
