"""The rows of an Open edX LMS database, from the institution's deterministic data.

One deployment's course runs, learners and enrollments become what the LMS stores: `auth_user`
(ids `1000 + index`, as the tracking logs use), `auth_userprofile`, `student_courseenrollment`,
`course_overviews_courseoverview`, `courseware_studentmodule` (problem, video and sequence state
per enrolled learner), course staff (`student_courseaccessrole`) and forum roles
(`django_comment_client_role[_users]`). The awkward values a real LMS holds are there on purpose:
non-ASCII names, learners with no profile row and profiles of NULLs, JSON state with escaped
quotes, backslashes and newlines, `NaN`-free doubles, and MySQL zero dates
(`0000-00-00 00:00:00`) where old rows have them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from ol_sandbox.data import DeploymentData, Institution, iso_z

# The LMS databases legacy_openedx reads: residential MITx (the original Open edX, served by no
# API of the sandbox), MITx Online and xPro (the same course runs and learners their APIs serve).
LEGACY_DEPLOYMENTS: tuple[str, ...] = ("mitx", "mitxonline", "xpro")
# Every user's password hash (never extracted; the column is NOT NULL).
PASSWORD_HASH = "pbkdf2_sha256$260000$sandbox$Zm9yIHRlc3RzIG9ubHk="  # noqa: S105  # pragma: allowlist secret
ZERO_DATE = "0000-00-00 00:00:00"
FIRST_LEARNER_ID = 1000
_STAFF = (("edx_staff", "Staff Member", 7), ("ir_analyst", "Ana Lýtics", 8))
_FORUM_ROLES = ("Administrator", "Moderator", "Community TA", "Student")
_COUNTRIES = ("US", "IN", "CN", "BR", "DE", "NG", "MX", "FR", None)
_EDUCATION = ("p", "m", "b", "a", "hs", "jhs", "none", "other", None)
_GENDERS = ("m", "f", "o", None)
_LANGUAGES = ("en", "es", "zh-cn", "fr", "")


@dataclass(frozen=True)
class EdxappTables:
    """Every table's rows, as tuples in the DDL's column order."""

    deployment: str
    columns: dict[str, tuple[str, ...]]
    rows: dict[str, list[tuple[Any, ...]]]

    def count(self, table: str) -> int:
        return len(self.rows[table])


def db_datetime(value: datetime) -> str:
    """A `datetime(6)` value as MySQL writes it (UTC, microseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _from_iso(value: str | None) -> str | None:
    if value is None:
        return None
    return db_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))


def edxapp_deployment(institution: Institution, name: str) -> DeploymentData:
    """The deployment's data: the institution's own, or generated with the institution's knobs
    (residential MITx is served by no API, so `Institution` does not carry it by default)."""
    if name in institution.deployments:
        return institution.deployments[name]
    return _generated(
        institution.seed, institution.courses, institution.learners, institution.days,
        institution.anchor, name,
    )  # fmt: skip


@cache
def _generated(
    seed: int, courses: int, learners: int, days: int, anchor: Any, name: str
) -> DeploymentData:
    generated = Institution.generate(
        seed, courses, learners, days, deployments=(name,), anchor=anchor
    )
    return generated.deployment(name)


def _state_json(rng: random.Random, block_type: str, username: str, attempts: int) -> str | None:
    if block_type == "problem":
        answer = rng.choice(
            (
                "42",
                'he said "yes"',
                "C:\\Users\\résumé",
                "line one\nline two",
                'x^2 + "y" ≤ 3',
            )
        )
        state: dict[str, Any] = {
            "attempts": attempts,
            "correct_map": {
                "i4x-answer_2_1": {"correctness": rng.choice(("correct", "incorrect"))}
            },
            "student_answers": {"i4x-answer_2_1": answer},
            "input_state": {"i4x-answer_2_1": {}},
            "seed": rng.randint(1, 1000),
            "done": True,
        }
        if rng.random() < 0.1:
            state["last_submission_note"] = f'{username} wrote "{answer}"'
        return json.dumps(state, ensure_ascii=rng.random() < 0.5)
    if block_type == "video":
        return json.dumps({"saved_video_position": f"00:0{rng.randint(0, 9)}:{rng.randint(10, 59)}",
                           "speed": rng.choice((1.0, 1.25, 1.5))})  # fmt: skip
    if block_type == "sequential":
        return json.dumps({"position": rng.randint(1, 3)})
    return None


def edxapp_tables(institution: Institution, deployment: str) -> EdxappTables:
    """The LMS tables of `deployment` (deterministic; cached per institution knobs)."""
    return _tables(
        institution.seed, institution.courses, institution.learners, institution.days,
        institution.anchor, deployment,
    )  # fmt: skip


@cache
def _tables(
    seed: int, courses: int, learners: int, days: int, anchor: Any, name: str
) -> EdxappTables:
    institution = Institution.generate(seed, courses, learners, days, deployments=(), anchor=anchor)
    return _build(institution, name)


def _build(institution: Institution, name: str) -> EdxappTables:
    data = edxapp_deployment(institution, name)
    rng = random.Random(f"{institution.seed}:edxapp:{name}")
    start = institution.start
    columns: dict[str, tuple[str, ...]] = {
        "auth_user": (
            "id", "password", "last_login", "is_superuser", "username", "first_name", "last_name",
            "email", "is_staff", "is_active", "date_joined",
        ),
        "auth_userprofile": (
            "id", "name", "meta", "courseware", "language", "location", "year_of_birth", "gender",
            "level_of_education", "mailing_address", "city", "country", "goals",
            "allow_certificate", "bio", "profile_image_uploaded_at", "user_id", "phone_number",
            "state",
        ),
        "course_overviews_courseoverview": (
            "created", "modified", "version", "id", "_location", "display_name",
            "display_number_with_default", "display_org_with_default", "start", "end",
            "advertised_start", "course_image_url", "social_sharing_url",
            "end_of_course_survey_url", "certificates_display_behavior",
            "certificates_show_before_end", "cert_html_view_enabled",
            "has_any_active_web_certificate", "cert_name_short", "cert_name_long",
            "lowest_passing_grade", "days_early_for_beta", "mobile_available",
            "visible_to_staff_only", "_pre_requisite_courses_json", "enrollment_start",
            "enrollment_end", "enrollment_domain", "invitation_only",
            "max_student_enrollments_allowed", "announcement", "catalog_visibility",
            "course_video_url", "effort", "short_description", "org", "self_paced",
            "marketing_url", "eligible_for_financial_aid", "language",
            "certificate_available_date",
        ),
        "student_courseenrollment": ("id", "course_id", "created", "is_active", "mode", "user_id"),
        "courseware_studentmodule": (
            "id", "module_type", "module_id", "course_id", "state", "grade", "max_grade", "done",
            "created", "modified", "student_id",
        ),
        "student_courseaccessrole": ("id", "org", "course_id", "role", "user_id"),
        "django_comment_client_role": ("id", "name", "course_id"),
        "django_comment_client_role_users": ("id", "role_id", "user_id"),
    }  # fmt: skip
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in columns}

    user_ids = {username: FIRST_LEARNER_ID + i for i, username in enumerate(data.usernames)}
    first_enrolled: dict[str, str] = {}
    for enrollment in data.all_enrollments():
        seen = first_enrolled.get(enrollment.username)
        if seen is None or enrollment.created < seen:
            first_enrolled[enrollment.username] = enrollment.created

    # -- users and profiles -------------------------------------------------------------------
    for username, display, user_id in _STAFF:
        joined = db_datetime(start - timedelta(days=400 + user_id))
        rows["auth_user"].append(
            (
                user_id,
                PASSWORD_HASH,
                joined,
                0,
                username,
                "",
                "",
                f"{username}@mit.edu",
                1,
                1,
                joined,
            )
        )
        rows["auth_userprofile"].append(
            (
                user_id,
                display,
                "",
                "course.xml",
                "en",
                "",
                None,
                None,
                None,
                None,
                None,
                "US",
                None,
                1,
                None,
                None,
                user_id,
                None,
                "MA",
            )
        )
    profile_id = 100
    for index, username in enumerate(data.usernames):
        user_id = user_ids[username]
        enrolled = first_enrolled.get(username)
        joined_at = (
            datetime.fromisoformat(enrolled.replace("Z", "+00:00"))
            if enrolled
            else start + timedelta(hours=index)
        ) - timedelta(days=rng.randint(0, 30), seconds=rng.randint(0, 86_399))
        roll = rng.random()
        if roll < 0.1:
            last_login: str | None = None  # never logged in again
        elif roll < 0.15:
            last_login = ZERO_DATE  # rows older than NO_ZERO_DATE
        else:
            last_login = db_datetime(joined_at + timedelta(days=rng.randint(1, 40)))
        first, _, last = username.partition("_")
        rows["auth_user"].append(
            (user_id, PASSWORD_HASH, last_login, 0, username,
             first.capitalize() if rng.random() < 0.5 else "",
             last.upper() if rng.random() < 0.3 else "", f"{username}@example.com", 0,
             int(rng.random() < 0.97), db_datetime(joined_at))
        )  # fmt: skip
        if rng.random() < 0.08:
            continue  # a learner with no profile row (accounts created before profiles were)
        profile_id += 1
        if rng.random() < 0.1:
            # A profile of NULLs and blanks: everything optional left empty.
            rows["auth_userprofile"].append(
                (
                    profile_id,
                    "",
                    "",
                    "course.xml",
                    "",
                    "",
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    1,
                    None,
                    None,
                    user_id,
                    None,
                    None,
                )
            )
            continue
        full_name = (
            f"{first.capitalize()} {last.upper()}. {rng.choice(('', 'Ñúñez', "O'Brien", '王'))}"
        )
        meta = json.dumps({"session_id": f"{rng.getrandbits(32):08x}", "note": 'said "hi"'})
        rows["auth_userprofile"].append(
            (profile_id, full_name.strip(), meta, "course.xml", rng.choice(_LANGUAGES),
             rng.choice(("", "Cambridge, MA", "São Paulo", "Zürich")),
             rng.choice((None, rng.randint(1950, 2008))), rng.choice(_GENDERS),
             rng.choice(_EDUCATION), rng.choice((None, "77 Massachusetts Ave\nCambridge")),
             rng.choice((None, "", "Boston", "Kraków")), rng.choice(_COUNTRIES),
             rng.choice((None, "Learn 'quantum' things", "")), 1, None, None, user_id, None,
             rng.choice((None, "MA", "CA")))
        )  # fmt: skip

    # -- course overviews, staff and forum roles ----------------------------------------------
    role_id = 0
    role_user_id = 0
    access_id = 0
    for course in data.course_runs:
        created = _from_iso(course.start) or db_datetime(start)
        created_at = datetime.fromisoformat(created) - timedelta(days=60)
        end = _from_iso(course.end)
        if end is None and rng.random() < 0.3:
            end = ZERO_DATE
        rows["course_overviews_courseoverview"].append(
            (db_datetime(created_at), db_datetime(created_at + timedelta(days=5)), 17,
             course.course_id, course.root_key, course.name, course.number, course.org,
             _from_iso(course.start), end, None,
             f"/asset-v1:{course.course_id[10:]}+type@asset+block@images_course_image.jpg",
             None, None, "end", 0, 1, int(rng.random() < 0.5), "", "",
             rng.choice(("0.50", "0.60", "0.70", None)), None, int(course.mobile_available), 0,
             "[]", _from_iso(course.enrollment_start), _from_iso(course.enrollment_end), None,
             int(course.invitation_only), None, None, "both", None, None,
             course.short_description, course.org, int(course.pacing == "self"), None, 1,
             "en", None)
        )  # fmt: skip
        for username, _display, user_id in _STAFF:
            for role in (
                ("instructor", "staff") if username == "edx_staff" else ("data_researcher",)
            ):
                access_id += 1
                rows["student_courseaccessrole"].append(
                    (access_id, course.org, course.course_id, role, user_id)
                )
        roles: dict[str, int] = {}
        for role_name in _FORUM_ROLES:
            role_id += 1
            roles[role_name] = role_id
            rows["django_comment_client_role"].append((role_id, role_name, course.course_id))
        for role_name, (_username, _display, user_id) in (
            ("Administrator", _STAFF[0]),
            ("Moderator", _STAFF[1]),
        ):
            role_user_id += 1
            rows["django_comment_client_role_users"].append(
                (role_user_id, roles[role_name], user_id)
            )
        for enrollment in data.enrollments.get(course.course_id, ()):
            role_user_id += 1
            role_name = "Community TA" if rng.random() < 0.03 else "Student"
            rows["django_comment_client_role_users"].append(
                (role_user_id, roles[role_name], user_ids[enrollment.username])
            )

    # -- enrollments and student module state ------------------------------------------------
    module_id = 0
    for enrollment_id, enrollment in enumerate(data.all_enrollments(), start=1):
        user_id = user_ids[enrollment.username]
        enrolled = _from_iso(enrollment.created)
        rows["student_courseenrollment"].append(
            (enrollment_id, enrollment.course_id, enrolled, int(enrollment.is_active),
             enrollment.mode, user_id)
        )  # fmt: skip
        run = data.course_run(enrollment.course_id)
        if run is None or enrolled is None:
            continue
        enrolled_at = datetime.fromisoformat(enrolled).replace(tzinfo=UTC)
        for block in run.blocks:
            if block.block_type not in ("problem", "video", "sequential"):
                continue
            if rng.random() > 0.45:
                continue
            module_id += 1
            first_seen = enrolled_at + timedelta(minutes=rng.randint(5, 60 * 24 * 10))
            attempts = rng.randint(1, 3)
            modified = first_seen + timedelta(minutes=rng.randint(0, 60 * 24 * 5))
            grade = max_grade = None
            if block.block_type == "problem":
                max_grade = float(rng.choice((1, 2, 5, 10)))
                grade = rng.choice((None, 0.0, max_grade, round(max_grade * rng.random(), 2)))
            rows["courseware_studentmodule"].append(
                (module_id, block.block_type, block.usage_key, run.course_id,
                 _state_json(rng, block.block_type, enrollment.username, attempts), grade,
                 max_grade, "na", db_datetime(first_seen), db_datetime(modified), user_id)
            )  # fmt: skip
    return EdxappTables(name, columns, rows)


def iter_rows(tables: EdxappTables) -> Iterator[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
    """(table, columns, rows) in creation order (parents first)."""
    from ol_sandbox.edxapp.schema import TABLES

    for table in TABLES:
        yield table, tables.columns[table], tables.rows[table]


__all__ = [
    "FIRST_LEARNER_ID",
    "LEGACY_DEPLOYMENTS",
    "ZERO_DATE",
    "EdxappTables",
    "db_datetime",
    "edxapp_deployment",
    "edxapp_tables",
    "iso_z",
    "iter_rows",
]
