"""The sandbox's Canvas LMS: deterministic synthetic courses and the Canvas REST API over them.

The canvas code location must run with no credentials, so the sandbox serves the Canvas endpoints
it uses with their real paths, payload shapes and behaviours: bearer tokens, `Link`-header
pagination (`per_page` up to 100, page numbers or opaque bookmarks), a leaky-bucket rate limit
answering `403 Forbidden (Rate Limit Exceeded)` with `X-Request-Cost` / `X-Rate-Limit-Remaining`
headers, permission-denied 403s, and the asynchronous Common Cartridge export workflow producing a
real `.imscc` zip whose manifest timestamps change per export while its content does not.

Data comes from an `Institution`'s seed and size knobs (`courses`, `learners`, `days`, `anchor`)
through private RNGs (one per course, one for users), never the wall clock: course ids are stable
(`10001`, `10002`, ...) so a course registry file can name them. `CanvasApi` holds the knobs tests
turn (`export_polls`, `failed_export_courses`, `forbidden_courses`, `content_revisions`, the rate
limit bucket, `inline_items_limit`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import random
import re
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlencode
from xml.sax.saxutils import escape

from ol_sandbox.data import Institution, iso_z

CANVAS_PREFIX = "canvas"
# SANDBOX-ONLY API token (also in dg_deployments/local/secrets.yaml under canvas/api).
CANVAS_SANDBOX_TOKEN = "sandbox-canvas-token"  # noqa: S105 - grants access to the sandbox only
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
ROOT_ACCOUNT_ID = 1
FIRST_COURSE_ID = 10001
STRING_IDS_MEDIA_TYPE = "application/json+canvas-string-ids"
# What Canvas's request throttle middleware answers (text/plain, not JSON).
THROTTLE_BODY = b"403 Forbidden (Rate Limit Exceeded)\n"
EXPORT_TYPES = ("common_cartridge", "qti", "zip")

ACCOUNTS: tuple[tuple[int, str, int | None], ...] = (
    (ROOT_ACCOUNT_ID, "Massachusetts Institute of Technology", None),
    (2, "Open Learning", ROOT_ACCOUNT_ID),
    (3, "Residential", ROOT_ACCOUNT_ID),
    (4, "MITx Online Pilots", 2),
)
_COURSE_ACCOUNTS = (2, 3, 3, 4)
ROLE_IDS = {
    "StudentEnrollment": 3,
    "TeacherEnrollment": 4,
    "TaEnrollment": 5,
    "DesignerEnrollment": 6,
    "ObserverEnrollment": 7,
}
CUSTOM_ROLE = ("Grader", 21, "TaEnrollment")  # a custom role based on TaEnrollment
_SUBJECTS = (
    ("6.0001", "Introduction to Computer Science Programming in Python"),
    ("18.06", "Linear Algebra"),
    ("8.01", "Classical Mechanics"),
    ("15.390", "New Enterprises"),
    ("21M.301", "Harmony and Counterpoint I"),
    ("2.008", "Design and Manufacturing II"),
    ("7.012", "Introductory Biology"),
    ("14.01", "Principles of Microeconomics"),
    ("11.S938", "Urban Data Ethics"),
    ("CMS.611", "Créer des jeux: Game Design"),
)
_FIRST = (
    "Ana", "Bo", "Chen", "Dara", "Élodie", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kemi", "Lars", "Mei", "Nikolai", "Olu", "Priya", "Quinn", "Rosa", "Søren", "Zoë",
)  # fmt: skip
_LAST = (
    "Abara", "Becker", "Castillo", "Dubois", "Eriksen", "Fujita", "García", "Haddad",
    "Ivanova", "Jensen", "Kim", "López", "Müller", "Nguyen", "O'Brien", "Patel",
)  # fmt: skip
_TOPICS = ("Foundations", "Modeling", "Estimation", "Optimization", "Applications", "Review")
_GROUPS = (("Problem Sets", 40.0), ("Quizzes", 20.0), ("Exams", 40.0))
_GRADING_TYPES = ("points", "points", "points", "percent", "letter_grade", "pass_fail")
_SUBMISSION_TYPES = (
    ("online_upload",),
    ("online_text_entry", "online_upload"),
    ("online_quiz",),
    ("none",),
    ("external_tool",),
)
_FILE_KINDS = (
    ("lecture-{n:02d}.pdf", "application/pdf"),
    ("problem-set-{n:02d}.pdf", "application/pdf"),
    ("dataset-{n:02d}.csv", "text/csv"),
    ("slides-{n:02d}.pptx",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("diagram-{n:02d}.png", "image/png"),
)  # fmt: skip
_FOLDERS = ("Lectures", "Readings", "Problem Sets", "Media")


# -- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    parent_account_id: int | None
    root_account_id: int | None


@dataclass(frozen=True)
class Term:
    id: int
    name: str
    start_at: str | None
    end_at: str | None


@dataclass(frozen=True)
class CanvasUser:
    id: int
    name: str
    sortable_name: str
    short_name: str
    login_id: str
    email: str
    sis_user_id: str | None
    created_at: str


@dataclass(frozen=True)
class Section:
    id: int
    name: str
    sis_section_id: str | None
    start_at: str | None
    end_at: str | None
    restrict_enrollments_to_section_dates: bool
    created_at: str


@dataclass(frozen=True)
class CanvasEnrollment:
    id: int
    user_id: int
    section_id: int
    type: str
    role: str
    role_id: int
    enrollment_state: str
    created_at: str
    updated_at: str
    last_activity_at: str | None
    total_activity_time: int
    current_score: float | None = None
    final_score: float | None = None
    current_grade: str | None = None
    final_grade: str | None = None


@dataclass(frozen=True)
class AssignmentGroup:
    id: int
    name: str
    position: int
    group_weight: float


@dataclass(frozen=True)
class Assignment:
    id: int
    assignment_group_id: int
    name: str
    position: int
    points_possible: float
    grading_type: str
    submission_types: tuple[str, ...]
    due_at: str | None
    unlock_at: str | None
    lock_at: str | None
    published: bool
    omit_from_final_grade: bool
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Submission:
    id: int
    assignment_id: int
    user_id: int
    attempt: int | None
    score: float | None
    grade: str | None
    submitted_at: str | None
    graded_at: str | None
    late: bool
    missing: bool
    excused: bool | None
    workflow_state: str
    submission_type: str | None
    seconds_late: int
    late_policy_status: str | None


@dataclass(frozen=True)
class ModuleItem:
    id: int
    module_id: int
    position: int
    title: str
    type: str
    content_id: int | None
    page_url: str | None
    external_url: str | None
    indent: int
    published: bool


@dataclass(frozen=True)
class Module:
    id: int
    name: str
    position: int
    unlock_at: str | None
    require_sequential_progress: bool
    published: bool
    items: tuple[ModuleItem, ...]


@dataclass(frozen=True)
class Page:
    id: int
    url: str
    title: str
    body: str
    created_at: str
    updated_at: str
    published: bool
    front_page: bool
    editing_roles: str


@dataclass(frozen=True)
class Folder:
    id: int
    parent_folder_id: int | None
    name: str
    full_name: str
    position: int | None
    created_at: str
    updated_at: str
    locked: bool
    hidden: bool


@dataclass(frozen=True)
class CanvasFile:
    id: int
    uuid: str
    folder_id: int
    display_name: str
    filename: str
    content_type: str
    size: int
    created_at: str
    updated_at: str
    modified_at: str
    locked: bool
    hidden: bool

    def content(self) -> bytes:
        """The file's bytes (deterministic; `size` long)."""
        seed = hashlib.sha256(f"{self.uuid}".encode()).digest()
        return (seed * (self.size // len(seed) + 1))[: self.size]


@dataclass(frozen=True)
class CanvasCourse:
    id: int
    name: str
    course_code: str
    sis_course_id: str | None
    uuid: str
    workflow_state: str
    account_id: int
    enrollment_term_id: int
    start_at: str | None
    end_at: str | None
    created_at: str
    time_zone: str
    default_view: str
    is_public: bool
    sections: tuple[Section, ...]
    enrollments: tuple[CanvasEnrollment, ...]
    assignment_groups: tuple[AssignmentGroup, ...]
    assignments: tuple[Assignment, ...]
    submissions: tuple[Submission, ...]
    modules: tuple[Module, ...]
    pages: tuple[Page, ...]
    folders: tuple[Folder, ...]
    files: tuple[CanvasFile, ...]

    @property
    def students(self) -> tuple[CanvasEnrollment, ...]:
        return tuple(e for e in self.enrollments if e.type == "StudentEnrollment")


@dataclass(frozen=True)
class CanvasData:
    """Everything the sandbox's Canvas instance serves."""

    accounts: tuple[Account, ...]
    terms: tuple[Term, ...]
    users: Mapping[int, CanvasUser]
    courses: tuple[CanvasCourse, ...]
    now: datetime  # the sandbox's "today": the end of the institution's activity window

    @classmethod
    def for_institution(cls, institution: Institution) -> CanvasData:
        """The Canvas data of `institution` (same seed and knobs → identical data; cached)."""
        return _generate(
            institution.seed,
            institution.courses,
            institution.learners,
            institution.days,
            institution.anchor,
        )

    @property
    def course_ids(self) -> list[str]:
        return [str(course.id) for course in self.courses]

    def course(self, course_id: int | str) -> CanvasCourse | None:
        for course in self.courses:
            if str(course.id) == str(course_id):
                return course
        return None

    def account(self, account_id: int | str) -> Account | None:
        for account in self.accounts:
            if str(account.id) == str(account_id):
                return account
        return None

    def term(self, term_id: int) -> Term:
        return next(t for t in self.terms if t.id == term_id)

    def account_and_descendants(self, account_id: int) -> set[int]:
        found = {account_id}
        changed = True
        while changed:
            changed = False
            for account in self.accounts:
                if account.parent_account_id in found and account.id not in found:
                    found.add(account.id)
                    changed = True
        return found


def _terms(anchor: date) -> tuple[Term, ...]:
    year = anchor.year

    def at(y: int, m: int, d: int) -> str:
        return iso_z(datetime(y, m, d, 5, 0, tzinfo=UTC))

    return (
        Term(1, "Default Term", None, None),
        Term(101, f"Fall {year - 1}", at(year - 1, 9, 1), at(year, 1, 1)),
        Term(102, f"Spring {year}", at(year, 1, 1), at(year, 6, 1)),
        Term(103, f"Summer {year}", at(year, 6, 1), at(year, 9, 1)),
    )


def _term_for(terms: tuple[Term, ...], start: datetime) -> Term:
    stamp = iso_z(start)
    for term in terms[1:]:
        if term.start_at and term.end_at and term.start_at <= stamp < term.end_at:
            return term
    return terms[0]


@cache
def _generate(seed: int, courses: int, learners: int, days: int, anchor: date) -> CanvasData:
    accounts = tuple(
        Account(aid, name, parent, None if parent is None else ROOT_ACCOUNT_ID)
        for aid, name, parent in ACCOUNTS
    )
    terms = _terms(anchor)
    day0 = datetime.combine(anchor, dtime(0, 0), tzinfo=UTC)
    now = day0 + timedelta(days=days)
    users = _users(random.Random(f"{seed}:canvas:users"), learners, day0)
    staff = [u for u in users.values() if u.id < 2000]
    learner_ids = sorted(u.id for u in users.values() if u.id >= 2000)
    built = tuple(
        _course(
            random.Random(f"{seed}:canvas:course:{index}"),
            index,
            courses,
            learner_ids,
            staff,
            terms,
            day0,
            now,
            days,
        )
        for index in range(courses)
    )
    return CanvasData(accounts, terms, users, built, now)


def _users(rng: random.Random, learners: int, day0: datetime) -> dict[int, CanvasUser]:
    users: dict[int, CanvasUser] = {}
    staff_count = max(2, learners // 20)
    ids = [1001 + i for i in range(staff_count)] + [2001 + i for i in range(learners)]
    for user_id in ids:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        login = f"{first[0]}{re.sub(r'[^a-z]', '', last.lower())}{user_id}".lower()
        login = login.encode("ascii", "ignore").decode() or f"user{user_id}"
        created = day0 - timedelta(days=rng.randint(30, 900), seconds=rng.randrange(86_400))
        users[user_id] = CanvasUser(
            id=user_id,
            name=f"{first} {last}",
            sortable_name=f"{last}, {first}",
            short_name=first,
            login_id=f"{login}@example.edu",
            email=f"{login}@example.edu",
            sis_user_id=None if rng.random() < 0.1 else f"9{user_id:08d}",
            created_at=iso_z(created),
        )
    return users


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _letter(percent: float) -> str:
    for floor, letter in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
        if percent >= floor:
            return letter
    return "F"


def _course(
    rng: random.Random,
    index: int,
    count: int,
    learner_ids: list[int],
    staff: list[CanvasUser],
    terms: tuple[Term, ...],
    day0: datetime,
    now: datetime,
    days: int,
) -> CanvasCourse:
    course_id = FIRST_COURSE_ID + index
    base = course_id * 1000  # per-course id block: ids stay stable when courses are added
    counter = iter(range(base + 1, base + 1000))

    def next_id() -> int:
        return next(counter)

    code, title = _SUBJECTS[index % len(_SUBJECTS)]
    start = day0 + timedelta(days=rng.randint(-100, max(0, days - 1)), hours=rng.choice((5, 14)))
    term = _term_for(terms, start) if rng.random() >= 0.1 else terms[0]
    end = start + timedelta(days=rng.randint(42, 110))
    created = start - timedelta(days=rng.randint(20, 60))
    workflow_state = "available"
    if end < now and rng.random() < 0.5:
        workflow_state = "completed"
    elif rng.random() < 0.08:
        workflow_state = "unpublished"
    season = (term.name.split() or ["NA"])[0][:2].upper()
    sis = None if rng.random() < 0.15 else f"{start.year}{season}-{code}-{index + 1}"

    sections = [
        Section(next_id(), f"{code} {title}", sis, None, None, False, iso_z(created)),
    ]
    if rng.random() < 0.4:
        sections.append(
            Section(
                next_id(),
                f"{code} Recitation {chr(65 + index % 3)}",
                f"{sis}-R" if sis else None,
                iso_z(start),
                iso_z(end),
                True,
                iso_z(created + timedelta(days=2)),
            )
        )

    # assignments
    groups = [
        AssignmentGroup(next_id(), name, position, weight)
        for position, (name, weight) in enumerate(_GROUPS, start=1)
    ]
    assignments: list[Assignment] = []
    for position in range(1, rng.randint(4, 9) + 1):
        group = groups[0] if position % 3 else groups[rng.randint(1, 2)]
        grading_type = rng.choice(_GRADING_TYPES)
        points = 0.0 if grading_type == "pass_fail" else float(rng.choice((10, 20, 25, 50, 100)))
        due = start + timedelta(days=7 * position, hours=23 - start.hour, minutes=59)
        no_due = rng.random() < 0.1
        assignments.append(
            Assignment(
                id=next_id(),
                assignment_group_id=group.id,
                name=f"{group.name.rstrip('s')} {position}",
                position=position,
                points_possible=points if points else 1.0,
                grading_type=grading_type,
                submission_types=rng.choice(_SUBMISSION_TYPES),
                due_at=None if no_due else iso_z(due),
                unlock_at=None if no_due else iso_z(due - timedelta(days=10)),
                lock_at=None if no_due or rng.random() < 0.5 else iso_z(due + timedelta(days=3)),
                published=rng.random() < 0.92,
                omit_from_final_grade=rng.random() < 0.05,
                created_at=iso_z(created + timedelta(days=1, minutes=position)),
                updated_at=iso_z(min(now, due - timedelta(days=3))),
            )
        )

    # enrollments: staff, then students from the institution's learners
    enrollments: list[CanvasEnrollment] = []
    teachers = rng.sample(staff, min(len(staff), rng.randint(1, 2)))
    for position, teacher in enumerate(teachers):
        etype = "TeacherEnrollment" if position == 0 else "TaEnrollment"
        role, role_id = (etype, ROLE_IDS[etype])
        if etype == "TaEnrollment" and rng.random() < 0.5:
            role, role_id = CUSTOM_ROLE[0], CUSTOM_ROLE[1]
        enrollments.append(
            CanvasEnrollment(
                next_id(), teacher.id, sections[0].id, etype, role, role_id, "active",
                iso_z(created), iso_z(created), iso_z(min(now, end)), rng.randint(3600, 360_000),
            )
        )  # fmt: skip
    wanted = min(len(learner_ids), max(1, len(learner_ids) * 2 // max(1, count)))
    students = sorted(rng.sample(learner_ids, rng.randint(max(1, wanted // 2), wanted)))
    submissions: list[Submission] = []
    for user_id in students:
        section = rng.choice(sections)
        joined = start - timedelta(days=rng.randint(0, 20), seconds=rng.randrange(86_400))
        state = rng.choices(
            ("active", "inactive", "invited", "completed"),
            weights=(85, 5, 3, 7 if end < now else 0),
        )[0]
        user_subs = _submissions(rng, next_id, user_id, assignments, now, state)
        submissions.extend(user_subs)
        graded = [
            (s, a)
            for s, a in zip(user_subs, assignments, strict=True)
            if s.score is not None and not a.omit_from_final_grade
        ]
        due_past = [
            (s, a)
            for s, a in zip(user_subs, assignments, strict=True)
            if a.due_at and a.due_at < iso_z(now) and not s.excused and not a.omit_from_final_grade
        ]
        earned = sum(s.score or 0.0 for s, _ in graded)
        current = (
            round(100 * earned / sum(a.points_possible for _, a in graded), 2) if graded else None
        )
        possible = sum(a.points_possible for _, a in due_past)
        final = round(100 * earned / possible, 2) if possible else (0.0 if graded else None)
        last_activity = (
            None if state == "invited" else iso_z(now - timedelta(hours=rng.randint(1, 400)))
        )
        enrollments.append(
            CanvasEnrollment(
                next_id(), user_id, section.id, "StudentEnrollment", "StudentEnrollment",
                ROLE_IDS["StudentEnrollment"], state, iso_z(joined),
                iso_z(joined + timedelta(hours=1)),
                last_activity, 0 if state == "invited" else rng.randint(60, 200_000),
                current, final, _letter(current) if current is not None else None,
                _letter(final) if final is not None else None,
            )
        )  # fmt: skip
    if rng.random() < 0.3 and staff:
        observer = rng.choice(staff)
        enrollments.append(
            CanvasEnrollment(
                next_id(), observer.id, sections[0].id, "ObserverEnrollment", "ObserverEnrollment",
                ROLE_IDS["ObserverEnrollment"], "active", iso_z(created), iso_z(created), None, 0,
            )
        )  # fmt: skip

    pages = _pages(rng, next_id, title, created, now)
    folders, files = _files(rng, next_id, created, now)
    modules = _modules(rng, next_id, start, assignments, pages, files)
    return CanvasCourse(
        id=course_id,
        name=title,
        course_code=code,
        sis_course_id=sis,
        uuid=hashlib.sha1(
            f"course:{course_id}:{title}".encode(), usedforsecurity=False
        ).hexdigest()[:40],
        workflow_state=workflow_state,
        account_id=_COURSE_ACCOUNTS[index % len(_COURSE_ACCOUNTS)],
        enrollment_term_id=term.id,
        start_at=iso_z(start),
        end_at=None if rng.random() < 0.1 else iso_z(end),
        created_at=iso_z(created),
        time_zone="America/New_York",
        default_view=rng.choice(("modules", "wiki", "syllabus", "assignments")),
        is_public=rng.random() < 0.2,
        sections=tuple(sections),
        enrollments=tuple(enrollments),
        assignment_groups=tuple(groups),
        assignments=tuple(assignments),
        submissions=tuple(submissions),
        modules=modules,
        pages=pages,
        folders=folders,
        files=files,
    )


def _submissions(
    rng: random.Random,
    next_id: Callable[[], int],
    user_id: int,
    assignments: Sequence[Assignment],
    now: datetime,
    enrollment_state: str,
) -> list[Submission]:
    rows = []
    now_iso = iso_z(now)
    for assignment in assignments:
        due = datetime.fromisoformat(assignment.due_at) if assignment.due_at else None
        past_due = due is not None and assignment.due_at is not None and assignment.due_at < now_iso
        roll = rng.random()
        engaged = enrollment_state in ("active", "completed")
        excused = engaged and roll < 0.02
        submitted = engaged and not excused and (roll < 0.82 if past_due else roll < 0.12)
        submitted_at: datetime | None = None
        late = False
        seconds_late = 0
        if submitted:
            anchor = due or now - timedelta(days=3)
            if rng.random() < 0.15 and due is not None:
                submitted_at = anchor + timedelta(seconds=rng.randint(600, 4 * 86_400))
            else:
                submitted_at = anchor - timedelta(seconds=rng.randint(60, 5 * 86_400))
            submitted_at = min(submitted_at, now - timedelta(minutes=5))
            if due is not None and submitted_at > due:
                late = True
                seconds_late = int((submitted_at - due).total_seconds())
        missing = past_due and not submitted and not excused
        graded = submitted and past_due and rng.random() < 0.85
        score: float | None = None
        grade: str | None = None
        graded_at: str | None = None
        late_policy_status: str | None = None
        if graded and submitted_at is not None:
            fraction = min(1.0, max(0.0, rng.gauss(0.8, 0.15)))
            score = round(assignment.points_possible * fraction, 1)
            grade = _grade(assignment, score)
            graded_at = iso_z(min(now, submitted_at + timedelta(days=rng.randint(1, 6))))
        if missing and rng.random() < 0.3:  # a "missing" late policy zeroes the score
            score, grade, late_policy_status = 0.0, _grade(assignment, 0.0), "missing"
        elif late and rng.random() < 0.2:
            late_policy_status = "late"
        if excused or graded:
            workflow_state = "graded"
        elif submitted:
            workflow_state = "pending_review" if rng.random() < 0.05 else "submitted"
        else:
            workflow_state = "unsubmitted"
        rows.append(
            Submission(
                id=next_id(),
                assignment_id=assignment.id,
                user_id=user_id,
                attempt=1 if submitted else None,
                score=score,
                grade=grade,
                submitted_at=iso_z(submitted_at) if submitted_at else None,
                graded_at=graded_at,
                late=late,
                missing=missing,
                excused=True if excused else (None if rng.random() < 0.5 else False),
                workflow_state=workflow_state,
                submission_type=(
                    assignment.submission_types[0]
                    if submitted and assignment.submission_types[0] != "none"
                    else None
                ),
                seconds_late=seconds_late,
                late_policy_status=late_policy_status,
            )
        )
    return rows


def _grade(assignment: Assignment, score: float) -> str:
    percent = 100 * score / assignment.points_possible if assignment.points_possible else 0.0
    if assignment.grading_type == "percent":
        return f"{round(percent, 2)}%"
    if assignment.grading_type == "letter_grade":
        return _letter(percent)
    if assignment.grading_type == "pass_fail":
        return "complete" if percent >= 60 else "incomplete"
    return f"{score:g}"


def _pages(
    rng: random.Random, next_id: Callable[[], int], title: str, created: datetime, now: datetime
) -> tuple[Page, ...]:
    titles = ["Home", "Syllabus"] + [
        f"Week {n} Overview: {rng.choice(_TOPICS)}" for n in range(1, rng.randint(1, 5) + 1)
    ]
    pages = []
    for position, page_title in enumerate(titles):
        made = created + timedelta(days=position, minutes=rng.randint(0, 600))
        pages.append(
            Page(
                id=next_id(),
                url=_slug(page_title),
                title=page_title,
                body=f"<h2>{escape(page_title)}</h2><p>{escape(title)}: notes for this week.</p>",
                created_at=iso_z(made),
                updated_at=iso_z(min(now, made + timedelta(days=rng.randint(0, 30)))),
                published=position == 0 or rng.random() < 0.9,
                front_page=position == 0,
                editing_roles="teachers",
            )
        )
    return tuple(pages)


def _files(
    rng: random.Random, next_id: Callable[[], int], created: datetime, now: datetime
) -> tuple[tuple[Folder, ...], tuple[CanvasFile, ...]]:
    root = Folder(
        next_id(), None, "course files", "course files", None, iso_z(created), iso_z(created),
        False, False,
    )  # fmt: skip
    folders = [root]
    for position, name in enumerate(rng.sample(_FOLDERS, rng.randint(1, 3)), start=1):
        folders.append(
            Folder(
                next_id(), root.id, name, f"course files/{name}", position,
                iso_z(created + timedelta(hours=position)),
                iso_z(created + timedelta(hours=position)), False, rng.random() < 0.1,
            )
        )  # fmt: skip
    files = []
    for n in range(1, rng.randint(2, 7) + 1):
        pattern, content_type = rng.choice(_FILE_KINDS)
        filename = pattern.format(n=n)
        folder = rng.choice(folders)
        made = created + timedelta(days=n, minutes=rng.randint(0, 900))
        file_id = next_id()
        files.append(
            CanvasFile(
                id=file_id,
                uuid=hashlib.sha1(f"file:{file_id}".encode(), usedforsecurity=False).hexdigest(),
                folder_id=folder.id,
                display_name=filename,
                filename=filename,
                content_type=content_type,
                size=rng.randint(200, 4000),
                created_at=iso_z(made),
                updated_at=iso_z(min(now, made + timedelta(days=1))),
                modified_at=iso_z(made),
                locked=rng.random() < 0.05,
                hidden=rng.random() < 0.05,
            )
        )
    return tuple(folders), tuple(files)


def _modules(
    rng: random.Random,
    next_id: Callable[[], int],
    start: datetime,
    assignments: Sequence[Assignment],
    pages: Sequence[Page],
    files: Sequence[CanvasFile],
) -> tuple[Module, ...]:
    modules = []
    count = rng.randint(2, 5)
    for position in range(1, count + 1):
        module_id = next_id()
        items: list[ModuleItem] = []

        def add(
            kind: str,
            title: str,
            indent: int = 0,
            *,
            items: list[ModuleItem] = items,
            module_id: int = module_id,
            **refs: Any,
        ) -> None:
            items.append(
                ModuleItem(
                    id=next_id(),
                    module_id=module_id,
                    position=len(items) + 1,
                    title=title,
                    type=kind,
                    content_id=refs.get("content_id"),
                    page_url=refs.get("page_url"),
                    external_url=refs.get("external_url"),
                    indent=indent,
                    published=rng.random() < 0.95,
                )
            )

        add("SubHeader", f"Week {position}")
        for page in pages[position - 1 :: count]:
            add("Page", page.title, 1, page_url=page.url)
        for assignment in assignments[position - 1 :: count]:
            add("Assignment", assignment.name, 1, content_id=assignment.id)
        for file in files[position - 1 :: count]:
            add("File", file.display_name, 1, content_id=file.id)
        if rng.random() < 0.3:
            add("ExternalUrl", "MIT OpenCourseWare", 1, external_url="https://ocw.mit.edu/")
        modules.append(
            Module(
                id=module_id,
                name=f"Week {position}: {rng.choice(_TOPICS)}",
                position=position,
                unlock_at=(
                    iso_z(start + timedelta(days=7 * (position - 1)))
                    if rng.random() < 0.3
                    else None
                ),
                require_sequential_progress=rng.random() < 0.2,
                published=rng.random() < 0.9,
                items=tuple(items),
            )
        )
    return tuple(modules)


# -- payloads ----------------------------------------------------------------------------------


def _course_json(
    data: CanvasData, course: CanvasCourse, include: set[str], origin: str
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": course.id,
        "name": course.name,
        "account_id": course.account_id,
        "uuid": course.uuid,
        "start_at": course.start_at,
        "grading_standard_id": None,
        "is_public": course.is_public,
        "created_at": course.created_at,
        "course_code": course.course_code,
        "default_view": course.default_view,
        "root_account_id": ROOT_ACCOUNT_ID,
        "enrollment_term_id": course.enrollment_term_id,
        "license": "private",
        "grade_passback_setting": None,
        "end_at": course.end_at,
        "public_syllabus": False,
        "public_syllabus_to_auth": False,
        "storage_quota_mb": 500,
        "is_public_to_auth_users": False,
        "homeroom_course": False,
        "course_color": None,
        "friendly_name": None,
        "apply_assignment_group_weights": True,
        "calendar": {"ics": f"{origin}/{CANVAS_PREFIX}/feeds/calendars/course_{course.uuid}.ics"},
        "time_zone": course.time_zone,
        "blueprint": False,
        "template": False,
        "sis_course_id": course.sis_course_id,
        "integration_id": None,
        "hide_final_grades": False,
        "workflow_state": course.workflow_state,
        "restrict_enrollments_to_course_dates": False,
    }
    if "term" in include:
        term = data.term(course.enrollment_term_id)
        payload["term"] = {
            "id": term.id,
            "name": term.name,
            "start_at": term.start_at,
            "end_at": term.end_at,
            "created_at": "2019-06-01T12:00:00Z",
            "workflow_state": "active",
            "grading_period_group_id": None,
        }
    if "account" in include:
        account = data.account(course.account_id)
        assert account is not None
        payload["account"] = {
            "id": account.id,
            "name": account.name,
            "workflow_state": "active",
            "parent_account_id": account.parent_account_id,
            "root_account_id": account.root_account_id,
            "uuid": hashlib.sha1(
                f"account:{account.id}".encode(), usedforsecurity=False
            ).hexdigest()[:40],
            "default_time_zone": "America/New_York",
        }
    return payload


def _section_json(course: CanvasCourse, section: Section) -> dict[str, Any]:
    return {
        "id": section.id,
        "course_id": course.id,
        "name": section.name,
        "start_at": section.start_at,
        "end_at": section.end_at,
        "created_at": section.created_at,
        "restrict_enrollments_to_section_dates": section.restrict_enrollments_to_section_dates,
        "nonxlist_course_id": None,
        "sis_section_id": section.sis_section_id,
        "sis_course_id": course.sis_course_id,
        "integration_id": None,
        "sis_import_id": None,
    }


def _user_json(user: CanvasUser, include: set[str]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "created_at": user.created_at,
        "sortable_name": user.sortable_name,
        "short_name": user.short_name,
        "sis_user_id": user.sis_user_id,
        "integration_id": None,
        "root_account": "canvas.example.edu",
        "login_id": user.login_id,
    }
    if "email" in include:
        payload["email"] = user.email
    return payload


def _enrollment_json(
    data: CanvasData, course: CanvasCourse, enrollment: CanvasEnrollment, origin: str
) -> dict[str, Any]:
    user = data.users[enrollment.user_id]
    payload: dict[str, Any] = {
        "id": enrollment.id,
        "user_id": enrollment.user_id,
        "course_id": course.id,
        "type": enrollment.type,
        "created_at": enrollment.created_at,
        "updated_at": enrollment.updated_at,
        "associated_user_id": None,
        "start_at": None,
        "end_at": None,
        "course_section_id": enrollment.section_id,
        "root_account_id": ROOT_ACCOUNT_ID,
        "limit_privileges_to_course_section": False,
        "enrollment_state": enrollment.enrollment_state,
        "role": enrollment.role,
        "role_id": enrollment.role_id,
        "last_activity_at": enrollment.last_activity_at,
        "last_attended_at": None,
        "total_activity_time": enrollment.total_activity_time,
        "sis_account_id": None,
        "sis_course_id": course.sis_course_id,
        "course_integration_id": None,
        "sis_section_id": None,
        "section_integration_id": None,
        "sis_user_id": user.sis_user_id,
        "html_url": f"{origin}/{CANVAS_PREFIX}/courses/{course.id}/users/{user.id}",
        "user": {
            "id": user.id,
            "name": user.name,
            "created_at": user.created_at,
            "sortable_name": user.sortable_name,
            "short_name": user.short_name,
            "sis_user_id": user.sis_user_id,
            "integration_id": None,
            "login_id": user.login_id,
        },
    }
    if enrollment.type == "StudentEnrollment":
        payload["grades"] = {
            "html_url": f"{origin}/{CANVAS_PREFIX}/courses/{course.id}/grades/{user.id}",
            "current_grade": enrollment.current_grade,
            "current_score": enrollment.current_score,
            "final_grade": enrollment.final_grade,
            "final_score": enrollment.final_score,
            "unposted_current_score": enrollment.current_score,
            "unposted_final_score": enrollment.final_score,
        }
    return payload


def _assignment_json(course: CanvasCourse, a: Assignment, origin: str) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "description": f"<p>{escape(a.name)} for {escape(course.course_code)}.</p>",
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "due_at": a.due_at,
        "lock_at": a.lock_at,
        "unlock_at": a.unlock_at,
        "has_overrides": False,
        "course_id": course.id,
        "html_url": f"{origin}/{CANVAS_PREFIX}/courses/{course.id}/assignments/{a.id}",
        "submissions_download_url": (
            f"{origin}/{CANVAS_PREFIX}/courses/{course.id}/assignments/{a.id}/submissions?zip=1"
        ),
        "assignment_group_id": a.assignment_group_id,
        "due_date_required": False,
        "allowed_extensions": [],
        "max_name_length": 255,
        "turnitin_enabled": False,
        "grade_group_students_individually": False,
        "peer_reviews": False,
        "automatic_peer_reviews": False,
        "group_category_id": None,
        "position": a.position,
        "post_to_sis": False,
        "points_possible": a.points_possible,
        "submission_types": list(a.submission_types),
        "has_submitted_submissions": True,
        "grading_type": a.grading_type,
        "grading_standard_id": None,
        "published": a.published,
        "unpublishable": False,
        "only_visible_to_overrides": False,
        "locked_for_user": False,
        "omit_from_final_grade": a.omit_from_final_grade,
        "workflow_state": "published" if a.published else "unpublished",
        "muted": False,
        "anonymous_grading": False,
    }


def _submission_json(course: CanvasCourse, s: Submission, origin: str) -> dict[str, Any]:
    assignment = next(a for a in course.assignments if a.id == s.assignment_id)
    return {
        "id": s.id,
        "body": None,
        "url": None,
        "grade": s.grade,
        "score": s.score,
        "submitted_at": s.submitted_at,
        "assignment_id": s.assignment_id,
        "user_id": s.user_id,
        "submission_type": s.submission_type,
        "workflow_state": s.workflow_state,
        "grade_matches_current_submission": True,
        "graded_at": s.graded_at,
        "grader_id": None if s.graded_at is None else course.enrollments[0].user_id,
        "attempt": s.attempt,
        "cached_due_date": assignment.due_at,
        "excused": s.excused,
        "late_policy_status": s.late_policy_status,
        "points_deducted": None,
        "grading_period_id": None,
        "extra_attempts": None,
        "posted_at": s.graded_at,
        "redo_request": False,
        "late": s.late,
        "missing": s.missing,
        "seconds_late": s.seconds_late,
        "entered_grade": s.grade,
        "entered_score": s.score,
        "preview_url": (
            f"{origin}/{CANVAS_PREFIX}/courses/{course.id}/assignments/{s.assignment_id}"
            f"/submissions/{s.user_id}?preview=1&version=1"
        ),
    }


def _module_item_json(course: CanvasCourse, item: ModuleItem, origin: str) -> dict[str, Any]:
    api = f"{origin}/{CANVAS_PREFIX}/api/v1/courses/{course.id}"
    payload: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "position": item.position,
        "indent": item.indent,
        "quiz_lti": False,
        "type": item.type,
        "module_id": item.module_id,
        "html_url": f"{origin}/{CANVAS_PREFIX}/courses/{course.id}/modules/items/{item.id}",
        "published": item.published,
        "unpublishable": True,
    }
    if item.content_id is not None:
        payload["content_id"] = item.content_id
        kind = "assignments" if item.type == "Assignment" else "files"
        payload["url"] = f"{api}/{kind}/{item.content_id}"
    if item.page_url is not None:
        payload["page_url"] = item.page_url
        payload["url"] = f"{api}/pages/{item.page_url}"
    if item.external_url is not None:
        payload["external_url"] = item.external_url
        payload["new_tab"] = True
    return payload


def _module_json(
    course: CanvasCourse, module: Module, include: set[str], inline_limit: int, origin: str
) -> dict[str, Any]:
    api = f"{origin}/{CANVAS_PREFIX}/api/v1/courses/{course.id}"
    payload: dict[str, Any] = {
        "id": module.id,
        "name": module.name,
        "position": module.position,
        "unlock_at": module.unlock_at,
        "require_sequential_progress": module.require_sequential_progress,
        "requirement_type": "all",
        "publish_final_grade": False,
        "prerequisite_module_ids": [],
        "published": module.published,
        "items_count": len(module.items),
        "items_url": f"{api}/modules/{module.id}/items",
    }
    # Like Canvas: items come inline only when asked for and "not too numerous".
    if "items" in include and len(module.items) <= inline_limit:
        payload["items"] = [_module_item_json(course, item, origin) for item in module.items]
    return payload


def _page_json(course: CanvasCourse, page: Page, origin: str) -> dict[str, Any]:
    return {
        "page_id": page.id,
        "url": page.url,
        "title": page.title,
        "created_at": page.created_at,
        "updated_at": page.updated_at,
        "hide_from_students": not page.published,
        "editing_roles": page.editing_roles,
        "last_edited_by": None,
        "published": page.published,
        "front_page": page.front_page,
        "html_url": f"{origin}/{CANVAS_PREFIX}/courses/{course.id}/pages/{page.url}",
        "todo_date": None,
        "publish_at": None,
        "locked_for_user": False,
    }


def _folder_json(course: CanvasCourse, folder: Folder, origin: str) -> dict[str, Any]:
    api = f"{origin}/{CANVAS_PREFIX}/api/v1/folders/{folder.id}"
    return {
        "id": folder.id,
        "name": folder.name,
        "full_name": folder.full_name,
        "context_id": course.id,
        "context_type": "Course",
        "parent_folder_id": folder.parent_folder_id,
        "created_at": folder.created_at,
        "updated_at": folder.updated_at,
        "lock_at": None,
        "unlock_at": None,
        "position": folder.position,
        "locked": folder.locked,
        "folders_url": f"{api}/folders",
        "files_url": f"{api}/files",
        "files_count": sum(1 for f in course.files if f.folder_id == folder.id),
        "folders_count": sum(1 for f in course.folders if f.parent_folder_id == folder.id),
        "hidden": folder.hidden,
        "locked_for_user": False,
        "hidden_for_user": False,
        "for_submissions": False,
        "can_upload": True,
    }


def _file_json(course: CanvasCourse, file: CanvasFile, origin: str) -> dict[str, Any]:
    return {
        "id": file.id,
        "uuid": file.uuid,
        "folder_id": file.folder_id,
        "display_name": file.display_name,
        "filename": file.filename,
        "upload_status": "success",
        "content-type": file.content_type,
        "url": (
            f"{origin}/{CANVAS_PREFIX}/files/{file.id}/download?download_frd=1"
            f"&verifier={file.uuid[:20]}"
        ),
        "size": file.size,
        "created_at": file.created_at,
        "updated_at": file.updated_at,
        "unlock_at": None,
        "locked": file.locked,
        "hidden": file.hidden,
        "lock_at": None,
        "hidden_for_user": False,
        "thumbnail_url": None,
        "modified_at": file.modified_at,
        "mime_class": file.content_type.split("/")[-1][:10],
        "media_entry_id": None,
        "category": "uncategorized",
        "locked_for_user": False,
    }


def stringify_ids(payload: Any) -> Any:
    """What `Accept: application/json+canvas-string-ids` does: every id becomes a string."""
    if isinstance(payload, list):
        return [stringify_ids(item) for item in payload]
    if isinstance(payload, dict):
        out: dict[str, Any] = {}
        for key, value in payload.items():
            is_id = key == "id" or key.endswith("_id")
            if is_id and isinstance(value, int) and not isinstance(value, bool):
                out[key] = str(value)
            elif key.endswith("_ids") and isinstance(value, list):
                out[key] = [str(v) if isinstance(v, int) else v for v in value]
            else:
                out[key] = stringify_ids(value)
        return out
    return payload


# -- the Common Cartridge export -----------------------------------------------------------------


def build_imscc(course: CanvasCourse, exported_at: datetime, revision: int = 0) -> bytes:
    """A Common Cartridge 1.1 zip of `course`, as Canvas exports it (much abridged).

    Only the manifest's metadata dates and the zip entries' timestamps depend on `exported_at`:
    exporting an unchanged course twice gives different bytes but the same content. `revision`
    stands for edits to the course (a higher revision changes the course settings).
    """
    stamp = iso_z(exported_at)
    ident = f"g{hashlib.md5(str(course.id).encode(), usedforsecurity=False).hexdigest()}"
    members: list[tuple[str, bytes]] = []
    resources: list[str] = []

    settings = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<course identifier="{ident}" xmlns="http://canvas.instructure.com/xsd/cccv1p0">\n'
        f"  <title>{escape(course.name)}</title>\n"
        f"  <course_code>{escape(course.course_code)}</course_code>\n"
        f"  <start_at>{course.start_at or ''}</start_at>\n"
        f"  <conclude_at>{course.end_at or ''}</conclude_at>\n"
        f"  <default_view>{course.default_view}</default_view>\n"
        f"  <revision>{revision}</revision>\n"
        "</course>\n"
    )
    members.append(("course_settings/course_settings.xml", settings.encode()))
    module_meta = "".join(
        f'  <module identifier="m{m.id}"><title>{escape(m.name)}</title>'
        f"<position>{m.position}</position><items>"
        + "".join(
            f'<item identifier="i{i.id}"><content_type>{i.type}</content_type>'
            f"<title>{escape(i.title)}</title><position>{i.position}</position></item>"
            for i in m.items
        )
        + "</items></module>\n"
        for m in course.modules
    )
    members.append(
        ("course_settings/module_meta.xml", f"<modules>\n{module_meta}</modules>\n".encode())
    )
    resources.append(
        f'<resource identifier="{ident}_settings" type="associatedcontent/imscc_xmlv1p1/'
        'learning-application-resource" href="course_settings/canvas_export.txt">'
        '<file href="course_settings/course_settings.xml"/>'
        '<file href="course_settings/module_meta.xml"/></resource>'
    )
    for page in course.pages:
        href = f"wiki_content/{page.url}.html"
        members.append((href, f"<html><body>{page.body}</body></html>\n".encode()))
        resources.append(
            f'<resource identifier="p{page.id}" type="webcontent" href="{href}">'
            f'<file href="{href}"/></resource>'
        )
    for assignment in course.assignments:
        folder = f"a{assignment.id}"
        xml = (
            f'<assignment identifier="{folder}"><title>{escape(assignment.name)}</title>'
            f"<due_at>{assignment.due_at or ''}</due_at>"
            f"<points_possible>{assignment.points_possible}</points_possible>"
            f"<grading_type>{assignment.grading_type}</grading_type></assignment>\n"
        )
        members.append((f"{folder}/assignment_settings.xml", xml.encode()))
        resources.append(
            f'<resource identifier="{folder}" type="associatedcontent/imscc_xmlv1p1/'
            f'learning-application-resource" href="{folder}/assignment_settings.xml">'
            f'<file href="{folder}/assignment_settings.xml"/></resource>'
        )
    folders = {f.id: f for f in course.folders}
    for file in course.files:
        prefix = folders[file.folder_id].full_name.removeprefix("course files").strip("/")
        href = "/".join(p for p in ("web_resources", prefix, file.filename) if p)
        members.append((href, file.content()))
        resources.append(
            f'<resource identifier="f{file.id}" type="webcontent" href="{href}">'
            f'<file href="{href}"/></resource>'
        )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<manifest identifier="{ident}" '
        'xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1" '
        'xmlns:lom="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource" '
        'xmlns:lomimscc="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest">\n'
        "  <metadata>\n    <schema>IMS Common Cartridge</schema>\n"
        "    <schemaversion>1.1.0</schemaversion>\n    <lomimscc:lom>\n"
        "      <lomimscc:general><lomimscc:title><lomimscc:string>"
        f"{escape(course.name)}</lomimscc:string></lomimscc:title></lomimscc:general>\n"
        "      <lomimscc:lifeCycle><lomimscc:contribute><lomimscc:date>"
        f"<lomimscc:dateTime>{stamp[:10]}</lomimscc:dateTime>"
        "</lomimscc:date></lomimscc:contribute></lomimscc:lifeCycle>\n"
        "      <lomimscc:rights><lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes"
        "</lomimscc:value></lomimscc:copyrightAndOtherRestrictions><lomimscc:description>"
        "<lomimscc:string>Private (Copyrighted) - http://en.wikipedia.org/wiki/Copyright"
        "</lomimscc:string></lomimscc:description></lomimscc:rights>\n"
        "    </lomimscc:lom>\n  </metadata>\n"
        f'  <organizations><organization identifier="org_1" structure="rooted-hierarchy">'
        f'<item identifier="LearningModules"/></organization></organizations>\n'
        f"  <resources>\n    {chr(10).join('    ' + r for r in resources).strip()}\n"
        "  </resources>\n"
        f"  <!-- exported {stamp} -->\n"
        "</manifest>\n"
    )
    buffer = io.BytesIO()
    zip_time = exported_at.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [("imsmanifest.xml", manifest.encode()), *members]:
            info = zipfile.ZipInfo(name, date_time=zip_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


@dataclass
class _Export:
    id: int
    course_id: int
    export_type: str
    created_at: str
    polls: int = 0
    workflow_state: str = "created"
    attachment_id: int | None = None
    data: bytes | None = None


# -- the API -----------------------------------------------------------------------------------


@dataclass
class CanvasResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> CanvasResponse:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(
            status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )


def throttle_response() -> CanvasResponse:
    """Canvas's answer when the token's bucket is full (also the `canvas_throttle` fault)."""
    return CanvasResponse(
        403,
        THROTTLE_BODY,
        {
            "Content-Type": "text/plain; charset=utf-8",
            "X-Rate-Limit-Remaining": "0.0",
            "X-Request-Cost": "0",
        },
    )


def _errors(http_status: int, message: str, **extra: Any) -> CanvasResponse:
    return CanvasResponse.json(http_status, {**extra, "errors": [{"message": message}]})


def _not_found() -> CanvasResponse:
    return _errors(404, "The specified resource does not exist.")


def _forbidden() -> CanvasResponse:
    return _errors(403, "user not authorized to perform that action", status="unauthorized")


_Handler = Callable[["_Call"], CanvasResponse]


@dataclass
class _Call:
    method: str
    path: str  # below /canvas, e.g. "/api/v1/courses/10001"
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    origin: str
    args: tuple[str, ...] = ()

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def params(self, name: str) -> list[str]:
        values = self.query.get(name) or self.query.get(name.removesuffix("[]")) or []
        return [v for value in values for v in value.split(",") if v]

    def form(self) -> dict[str, list[str]]:
        content_type = self.headers.get("content-type", "")
        if "json" in content_type:
            try:
                payload = json.loads(self.body or b"{}")
            except ValueError:
                return {}
            return {k: [str(v)] for k, v in payload.items()} if isinstance(payload, dict) else {}
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)


class CanvasApi:
    """The Canvas REST API of the sandbox, served under `<sandbox>/canvas/`.

    Knobs (plain attributes, change them in tests): `export_polls` (GETs of an export before it
    finishes; 0 = finished at the first poll), `failed_export_courses` (course ids whose exports
    end `failed`), `forbidden_courses` (course ids every endpoint answers with a permission-denied
    403), `content_revisions` (course id → revision: bump it to "edit" a course so its export
    content changes), `inline_items_limit` (modules with more items omit `items`), and the leaky
    bucket: `rate_limit_capacity`, `rate_limit_leak_per_second`, `preflight_penalty`,
    `request_cost`.
    """

    def __init__(self, institution: Institution, *, clock: Callable[[], float] = time.monotonic):
        self.institution = institution
        self._clock = clock
        self._lock = threading.RLock()
        self._data: CanvasData | None = None
        self.token = CANVAS_SANDBOX_TOKEN
        self.export_polls = 2
        self.failed_export_courses: set[str] = set()
        self.forbidden_courses: set[str] = set()
        self.content_revisions: dict[str, int] = {}
        self.inline_items_limit = 6
        self.rate_limit_capacity = 700.0
        self.rate_limit_leak_per_second = 10.0
        self.preflight_penalty = 50.0
        self.request_cost = 0.5
        self._bucket = 0.0
        self._bucket_at = clock()
        self._exports: dict[int, _Export] = {}
        self._next_export = 1
        self.exports_started = 0
        self._routes: list[tuple[str, re.Pattern[str], _Handler]] = [
            ("GET", re.compile(r"/api/v1/accounts/([^/]+)/courses"), self._account_courses),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)"), self._course),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/sections"), self._sections),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/enrollments"), self._enrollments),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/users"), self._users),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/assignments"), self._assignments),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/assignment_groups"), self._groups),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/students/submissions"), self._submissions),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/modules"), self._modules),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/modules/([^/]+)/items"), self._items),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/pages"), self._pages),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/files"), self._files),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/folders"), self._folders),
            ("POST", re.compile(r"/api/v1/courses/([^/]+)/content_exports"), self._start_export),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/content_exports"), self._list_exports),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/content_exports/([^/]+)"), self._export),
            ("GET", re.compile(r"/api/v1/progress/([^/]+)"), self._progress),
        ]

    @property
    def data(self) -> CanvasData:
        with self._lock:
            if self._data is None:  # generated on first use: Open edX-only tests never pay
                self._data = CanvasData.for_institution(self.institution)
            return self._data

    # -- dispatch -----------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        origin: str,
    ) -> CanvasResponse:
        """Answer one request; `path` is below the `/canvas` prefix, `headers` lower-cased."""
        call = _Call(method.upper(), "/" + path.strip("/"), query, headers, body, origin)
        download = re.fullmatch(r"/files/([^/]+)/download", call.path)
        if download:
            return self._download(call, download.group(1))
        found = self._match(call)
        if isinstance(found, CanvasResponse):  # unknown path (404) or method (405)
            return found
        header = headers.get("authorization", "").strip()
        scheme, _, token = header.partition(" ")
        if not header:
            return _errors(401, "user authorization required", status="unauthenticated")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            response = _errors(401, "Invalid access token.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="canvas-lms"'
            return response
        if not self._admit():
            return throttle_response()
        response = self._dispatch(call, found)
        if STRING_IDS_MEDIA_TYPE in headers.get("accept", "") and response.headers.get(
            "Content-Type", ""
        ).startswith("application/json"):
            response.body = json.dumps(
                stringify_ids(json.loads(response.body)), ensure_ascii=False
            ).encode()
        self._charge(response)
        return response

    def _match(self, call: _Call) -> _Handler | CanvasResponse:
        allowed: list[str] = []
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(call.path)
            if not match:
                continue
            if method != call.method:
                allowed.append(method)
                continue
            call.args = match.groups()
            return handler
        if allowed:
            return _errors(405, f"{call.method} not allowed", allowed=allowed)
        return _not_found()

    def _dispatch(self, call: _Call, handler: _Handler) -> CanvasResponse:
        if "/courses/" in call.path:
            course = self.data.course(call.args[0])
            if course is None:
                return _not_found()
            if str(course.id) in self.forbidden_courses:
                return _forbidden()
        return handler(call)

    # -- the leaky bucket (per token; the sandbox has one token) -------------------------------

    def _leak(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._bucket_at)
        self._bucket = max(0.0, self._bucket - elapsed * self.rate_limit_leak_per_second)
        self._bucket_at = now

    def _admit(self) -> bool:
        with self._lock:
            self._leak()
            return self._bucket + self.preflight_penalty <= self.rate_limit_capacity

    def _charge(self, response: CanvasResponse) -> None:
        with self._lock:
            self._leak()
            self._bucket += self.request_cost
            remaining = max(0.0, self.rate_limit_capacity - self._bucket)
        response.headers["X-Request-Cost"] = repr(float(self.request_cost))
        response.headers["X-Rate-Limit-Remaining"] = repr(round(remaining, 4))

    @property
    def rate_limit_remaining(self) -> float:
        with self._lock:
            self._leak()
            return max(0.0, self.rate_limit_capacity - self._bucket)

    def drain(self, amount: float) -> None:
        """Fill the bucket by `amount` (as if other clients of the token had been busy)."""
        with self._lock:
            self._leak()
            self._bucket = min(self.rate_limit_capacity, self._bucket + amount)

    # -- pagination ---------------------------------------------------------------------------

    def _paginate(
        self, call: _Call, items: Sequence[Any], *, bookmarks: bool = False
    ) -> tuple[Sequence[Any], dict[str, str]] | CanvasResponse:
        """One page of `items` and its `Link` header (Canvas's page numbers or bookmarks)."""
        try:
            per_page = int(call.param("per_page") or DEFAULT_PER_PAGE)
        except ValueError:
            per_page = DEFAULT_PER_PAGE
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        raw = call.param("page") or ("first" if bookmarks else "1")
        if bookmarks and raw.startswith("bookmark:"):
            offset = _decode_bookmark(raw.removeprefix("bookmark:"))
            if offset is None:
                return _errors(400, "invalid bookmark")
        elif bookmarks and raw == "first":
            offset = 0
        else:
            try:
                number = max(1, int(raw))
            except ValueError:
                number = 1
            offset = (number - 1) * per_page
        chunk = items[offset : offset + per_page]
        url = f"{call.origin}/{CANVAS_PREFIX}{call.path}"

        def link(page: str) -> str:
            params = [(k, v) for k, values in call.query.items() if k not in ("page", "per_page")
                      for v in values]  # fmt: skip
            params += [("page", page), ("per_page", str(per_page))]
            return f"{url}?{urlencode(params)}"

        def page_token(position: int) -> str:
            if bookmarks:
                return "first" if position == 0 else f"bookmark:{_encode_bookmark(position)}"
            return str(position // per_page + 1)

        links = [f'<{link(page_token(offset))}>; rel="current"']
        if offset + per_page < len(items):
            links.append(f'<{link(page_token(offset + per_page))}>; rel="next"')
        if offset > 0 and not bookmarks:
            links.append(f'<{link(page_token(max(0, offset - per_page)))}>; rel="prev"')
        links.append(f'<{link(page_token(0))}>; rel="first"')
        if not bookmarks:  # Canvas omits "last" when it paginates with bookmarks
            last = max(0, (len(items) - 1) // per_page) * per_page
            links.append(f'<{link(page_token(last))}>; rel="last"')
        return chunk, {"Link": ",".join(links)}

    def _list(
        self, call: _Call, items: Sequence[Any], render: Callable[[Any], Any], **kwargs: Any
    ) -> CanvasResponse:
        page = self._paginate(call, items, **kwargs)
        if isinstance(page, CanvasResponse):
            return page
        chunk, headers = page
        return CanvasResponse.json(200, [render(item) for item in chunk], headers)

    def _course_of(self, call: _Call) -> CanvasCourse:
        course = self.data.course(call.args[0])
        assert course is not None  # checked by _route
        return course

    # -- endpoints ----------------------------------------------------------------------------

    def _account_courses(self, call: _Call) -> CanvasResponse:
        account = self.data.account(call.args[0])
        if account is None:
            return _not_found()
        scope = self.data.account_and_descendants(account.id)
        courses = [c for c in self.data.courses if c.account_id in scope]
        term = call.param("enrollment_term_id")
        if term:
            courses = [c for c in courses if str(c.enrollment_term_id) == term]
        states = call.params("state[]")
        if states and "all" not in states:
            courses = [c for c in courses if c.workflow_state in states]
        include = set(call.params("include[]"))
        return self._list(call, courses, lambda c: _course_json(self.data, c, include, call.origin))

    def _course(self, call: _Call) -> CanvasResponse:
        include = set(call.params("include[]"))
        return CanvasResponse.json(
            200, _course_json(self.data, self._course_of(call), include, call.origin)
        )

    def _sections(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        return self._list(call, course.sections, lambda s: _section_json(course, s))

    def _enrollments(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        states = set(call.params("state[]")) or {"active", "invited"}
        types = set(call.params("type[]"))
        rows = [
            e
            for e in course.enrollments
            if e.enrollment_state in states and (not types or e.type in types)
        ]
        return self._list(
            call,
            rows,
            lambda e: _enrollment_json(self.data, course, e, call.origin),
            bookmarks=True,
        )

    def _users(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        states = set(call.params("enrollment_state[]")) or {"active", "invited"}
        ids = sorted({e.user_id for e in course.enrollments if e.enrollment_state in states})
        users = sorted((self.data.users[i] for i in ids), key=lambda u: (u.sortable_name, u.id))
        include = set(call.params("include[]"))
        return self._list(call, users, lambda u: _user_json(u, include))

    def _assignments(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        return self._list(
            call, course.assignments, lambda a: _assignment_json(course, a, call.origin)
        )

    def _groups(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        include = set(call.params("include[]"))

        def render(group: AssignmentGroup) -> dict[str, Any]:
            payload: dict[str, Any] = {
                "id": group.id,
                "name": group.name,
                "position": group.position,
                "group_weight": group.group_weight,
                "sis_source_id": None,
                "integration_data": {},
                "rules": {},
            }
            if "assignments" in include:
                payload["assignments"] = [
                    _assignment_json(course, a, call.origin)
                    for a in course.assignments
                    if a.assignment_group_id == group.id
                ]
            return payload

        return self._list(call, course.assignment_groups, render)

    def _submissions(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        wanted = call.params("student_ids[]")
        if "all" in wanted:
            rows: Sequence[Submission] = course.submissions
        else:  # an admin token asking without student_ids gets its own (no) submissions
            ids = {str(i) for i in wanted}
            rows = [s for s in course.submissions if str(s.user_id) in ids]
        assignment_ids = set(call.params("assignment_ids[]"))
        if assignment_ids:
            rows = [s for s in rows if str(s.assignment_id) in assignment_ids]
        state = call.param("workflow_state")
        if state:
            rows = [s for s in rows if s.workflow_state == state]
        return self._list(
            call, rows, lambda s: _submission_json(course, s, call.origin), bookmarks=True
        )

    def _modules(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        include = set(call.params("include[]"))
        return self._list(
            call,
            course.modules,
            lambda m: _module_json(course, m, include, self.inline_items_limit, call.origin),
        )

    def _items(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        module = next((m for m in course.modules if str(m.id) == call.args[1]), None)
        if module is None:
            return _not_found()
        return self._list(call, module.items, lambda i: _module_item_json(course, i, call.origin))

    def _pages(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        return self._list(call, course.pages, lambda p: _page_json(course, p, call.origin))

    def _files(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        return self._list(call, course.files, lambda f: _file_json(course, f, call.origin))

    def _folders(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        return self._list(call, course.folders, lambda f: _folder_json(course, f, call.origin))

    # -- content exports ----------------------------------------------------------------------

    def _export_json(self, export: _Export, origin: str) -> dict[str, Any]:
        api = f"{origin}/{CANVAS_PREFIX}/api/v1"
        payload: dict[str, Any] = {
            "id": export.id,
            "created_at": export.created_at,
            "export_type": export.export_type,
            "attachment": None,
            "progress_url": f"{api}/progress/{export.id}",
            "user_id": 1001,
            "workflow_state": export.workflow_state,
        }
        if (
            export.workflow_state == "exported"
            and export.data is not None
            and export.attachment_id is not None
        ):
            course = self.data.course(export.course_id)
            assert course is not None
            name = f"{_slug(course.course_code)}-export.imscc"
            payload["attachment"] = {
                "id": export.attachment_id,
                "uuid": hashlib.sha1(
                    f"attachment:{export.attachment_id}".encode(), usedforsecurity=False
                ).hexdigest(),
                "display_name": name,
                "filename": name,
                "content-type": "application/zip",
                "url": (
                    f"{origin}/{CANVAS_PREFIX}/files/{export.attachment_id}/download"
                    f"?download_frd=1&verifier={_verifier(export.attachment_id)}"
                ),
                "size": len(export.data),
                "created_at": export.created_at,
                "updated_at": export.created_at,
            }
        return payload

    def _start_export(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        export_type = (call.form().get("export_type") or [""])[0]
        if export_type not in EXPORT_TYPES:
            return _errors(400, f"invalid export_type; expected one of {', '.join(EXPORT_TYPES)}")
        with self._lock:
            export_id = 50_000 + self._next_export
            self._next_export += 1
            self.exports_started += 1
            # Deterministic, but different for every export: the manifest's dates change.
            created = self.data.now + timedelta(minutes=export_id - 50_000)
            export = _Export(export_id, course.id, export_type, iso_z(created))
            self._exports[export_id] = export
        return CanvasResponse.json(200, self._export_json(export, call.origin))

    def _poll(self, export: _Export) -> None:
        with self._lock:
            if export.workflow_state in ("exported", "failed"):
                return
            export.polls += 1
            if export.polls < self.export_polls:
                export.workflow_state = "exporting"
                return
            if str(export.course_id) in self.failed_export_courses:
                export.workflow_state = "failed"
                return
            course = self.data.course(export.course_id)
            assert course is not None
            revision = self.content_revisions.get(str(course.id), 0)
            exported_at = datetime.fromisoformat(export.created_at)
            export.data = build_imscc(course, exported_at, revision)
            export.attachment_id = 60_000 + export.id - 50_000
            export.workflow_state = "exported"

    def _find_export(self, call: _Call, raw_id: str) -> _Export | None:
        export = self._exports.get(int(raw_id)) if raw_id.isdigit() else None
        if export is None or (call.args and str(export.course_id) != call.args[0]):
            return None
        return export

    def _export(self, call: _Call) -> CanvasResponse:
        export = self._find_export(call, call.args[1])
        if export is None:
            return _not_found()
        self._poll(export)
        return CanvasResponse.json(200, self._export_json(export, call.origin))

    def _list_exports(self, call: _Call) -> CanvasResponse:
        course = self._course_of(call)
        exports = [e for e in self._exports.values() if e.course_id == course.id]
        return self._list(call, exports, lambda e: self._export_json(e, call.origin))

    def _progress(self, call: _Call) -> CanvasResponse:
        export = self._exports.get(int(call.args[0])) if call.args[0].isdigit() else None
        if export is None:
            return _not_found()
        self._poll(export)
        state = {"created": "queued", "exporting": "running", "exported": "completed"}.get(
            export.workflow_state, "failed"
        )
        return CanvasResponse.json(
            200,
            {
                "id": export.id,
                "context_id": export.course_id,
                "context_type": "Course",
                "user_id": 1001,
                "tag": "content_export",
                "completion": 100.0 if state == "completed" else (50.0 if export.polls else 0.0),
                "workflow_state": state,
                "created_at": export.created_at,
                "updated_at": export.created_at,
                "message": None,
                "url": f"{call.origin}/{CANVAS_PREFIX}/api/v1/progress/{export.id}",
            },
        )

    def _download(self, call: _Call, raw_id: str) -> CanvasResponse:
        """File downloads are served with a `verifier` (no token needed), like Canvas."""
        if call.method != "GET":
            return _errors(405, f"{call.method} not allowed", allowed=["GET"])
        if not raw_id.isdigit():
            return _not_found()
        attachment_id = int(raw_id)
        with self._lock:
            export = next(
                (e for e in self._exports.values() if e.attachment_id == attachment_id), None
            )
        if export is None or export.data is None:
            return _not_found()
        if call.param("verifier") != _verifier(attachment_id):
            return _errors(401, "Invalid verifier.")
        return CanvasResponse(
            200,
            export.data,
            {
                "Content-Type": "application/zip",
                "Content-Disposition": f'attachment; filename="export-{export.id}.imscc"',
            },
        )


def _verifier(attachment_id: int) -> str:
    return hashlib.sha1(f"verifier:{attachment_id}".encode(), usedforsecurity=False).hexdigest()[
        :24
    ]


def _encode_bookmark(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset]).encode()).decode().rstrip("=")


def _decode_bookmark(token: str) -> int | None:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None
    if isinstance(payload, list) and payload and isinstance(payload[0], int) and payload[0] >= 0:
        return int(payload[0])
    return None
