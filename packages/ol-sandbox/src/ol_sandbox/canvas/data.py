"""Canvas sandbox data: deterministic synthetic accounts, terms, users and courses.

Generated from an `Institution`'s seed and size knobs through private RNGs, never the wall clock.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from ol_sandbox.data import Institution, iso_z

ROOT_ACCOUNT_ID = 1
FIRST_COURSE_ID = 10001

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


def slug(title: str) -> str:
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
                url=slug(page_title),
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
