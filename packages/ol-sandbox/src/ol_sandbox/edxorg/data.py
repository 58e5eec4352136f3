"""edX.org's side of the sandbox institution: MITx courses on edx.org and edge.edx.org.

Deterministic from the institution's seed and size (its own `random.Random`, never the wall
clock). Courses mix every kind edX.org has delivered over the years: legacy `MITx/6.002x/2012_Fall`
ids (whose blocks have `i4x://` keys), `course-v1:` runs, an edge.edx.org run and a CCX of a
`course-v1:` run (a course with its own learners and no content of its own). Learner ids match
those of the sandbox's edX.org tracking logs (1000 + the learner's index).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from ol_sandbox.data import (
    Block,
    CourseRun,
    DeploymentData,
    Enrollment,
    Institution,
    _blocks,
    _enrollments,
    _usernames,
    iso_z,
)

ORG = "MITx"
DELIVERY_ORG = "mitx"  # the archives' and tracking logs' prefix
DEPLOYMENT = "edxorg"
ARCHIVE_EVERY_DAYS = 7
_NUMBERS = ("6.002x", "8.01x", "6.00.1x", "18.01.1x", "15.071x", "14.73x", "7.00x", "2.01x")
_LEGACY_RUNS = ("2012_Fall", "2013_Spring", "2013_Fall", "2014_Spring")
_TITLES = (
    "Circuits and Electronics",
    "Classical Mechanics",
    "Introduction to Computer Science and Programming Using Python",
    "Calculus 1A: Differentiation",
    "The Analytics Edge",
    "The Challenges of Global Poverty",
    "Introduction to Biology - The Secret of Life",
    "Fundamentals of Engineering Mechanics",
)


@dataclass(frozen=True)
class EdxorgCourse:
    """One course edX.org delivers data for. `run` holds its block tree with this course's keys."""

    course_id: str  # as edX writes it: legacy ids stay legacy
    legacy: bool
    site: str  # "prod" (edx.org) or "edge" (edge.edx.org)
    run: CourseRun
    ccx_of: str | None = None  # a CCX's parent course id

    @property
    def slug(self) -> str:
        """The course part of the archive's file names (`/`, `+`, `:` as `-`; a CCX `-ccx-N`)."""
        if self.ccx_of is not None:
            number = self.course_id.rpartition("@")[2]
            parent = self.ccx_of.replace(":", "-").replace("+", "-")
            return f"{parent}-ccx-{number}"
        return self.course_id.replace("/", "-").replace(":", "-").replace("+", "-")

    @property
    def has_content(self) -> bool:
        return self.ccx_of is None


@dataclass(frozen=True)
class EdxorgData:
    """Everything the sandbox's edX.org delivers: courses, learners, enrollments, archive dates."""

    institution: Institution
    courses: tuple[EdxorgCourse, ...]
    usernames: tuple[str, ...]
    enrollments: dict[str, tuple[Enrollment, ...]]  # course id -> by (created, username)

    @classmethod
    def for_institution(cls, institution: Institution) -> EdxorgData:
        return _for_knobs(institution)

    def user_id(self, username: str) -> int:
        return 1000 + self.usernames.index(username)

    @property
    def archive_dates(self) -> tuple[date, ...]:
        """One weekly archive per 7 days of the activity window (the first a week in)."""
        count = max(1, self.institution.days // ARCHIVE_EVERY_DAYS)
        return tuple(
            self.institution.anchor + timedelta(days=ARCHIVE_EVERY_DAYS * (n + 1))
            for n in range(count)
        )

    def deployment(self) -> DeploymentData:
        """The courses with content as an LMS deployment (for the tracking-log generator)."""
        runs = tuple(course.run for course in self.courses if course.has_content)
        return DeploymentData(
            DEPLOYMENT,
            runs,
            self.usernames,
            {run.course_id: self.enrollments.get(run.course_id, ()) for run in runs},
        )


def stable_int(text: str, modulo: int = 1 << 31) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % modulo


@cache
def _cached(seed: int, courses: int, learners: int, days: int, anchor: date) -> tuple:
    rng = random.Random(f"{seed}:edxorg")
    built: list[EdxorgCourse] = []
    count = max(2, courses)
    legacy_count = max(1, count // 2)
    day0 = anchor
    for index in range(count):
        number = _NUMBERS[index % len(_NUMBERS)]
        if index >= len(_NUMBERS):
            number = f"{index}.{number}"
        title = _TITLES[index % len(_TITLES)]
        legacy = index < legacy_count
        if legacy:
            run = _LEGACY_RUNS[index % len(_LEGACY_RUNS)]
            course_id = f"{ORG}/{number}/{run}"
        else:
            run = f"{1 + index % 3}T{anchor.year}"
            course_id = f"course-v1:{ORG}+{number}+{run}"
        site = "edge" if (not legacy and index == count - 1 and count > 2) else "prod"
        start = datetime.combine(day0, time(15, 0), tzinfo=UTC) - timedelta(days=rng.randint(7, 60))
        end = start + timedelta(days=rng.randint(60, 120))
        blocks = _blocks(rng, ORG, number, run, title, start)
        if legacy:
            blocks = tuple(_legacy_block(block, number, run) for block in blocks)
        built.append(
            EdxorgCourse(
                course_id,
                legacy,
                site,
                CourseRun(
                    course_id=course_id,
                    org=ORG,
                    number=number,
                    run=run,
                    name=title,
                    short_description=f"{title}, on edX.",
                    start=iso_z(start),
                    end=iso_z(end),
                    enrollment_start=iso_z(start - timedelta(days=30)),
                    enrollment_end=None,
                    pacing="instructor" if legacy else "self",
                    hidden=False,
                    invitation_only=False,
                    mobile_available=not legacy,
                    blocks=blocks,
                ),
            )
        )
    usernames = _usernames(rng, learners)
    runs = tuple(course.run for course in built)
    enrollments = _enrollments(rng, runs, usernames, days, anchor)
    # A CCX of the first course-v1 run: its own key, a few of the run's learners, no content.
    parent = next((c for c in built if not c.legacy), None)
    if parent is not None:
        ccx_id = f"ccx-v1:{ORG}+{parent.run.number}+{parent.run.run}+ccx@3"
        ccx_run = CourseRun(
            ccx_id,
            ORG,
            parent.run.number,
            parent.run.run,
            f"{parent.run.name} (CCX)",
            parent.run.short_description,
            parent.run.start,
            parent.run.end,
            None,
            None,
            "instructor",
            True,
            True,
            False,
            (),
        )
        built.append(EdxorgCourse(ccx_id, False, "prod", ccx_run, ccx_of=parent.course_id))
        enrollments[ccx_id] = tuple(
            Enrollment(ccx_id, e.username, "honor", e.is_active, e.created)
            for e in enrollments.get(parent.course_id, ())[::3]
        )
    return tuple(built), usernames, enrollments


def _for_knobs(institution: Institution) -> EdxorgData:
    courses, usernames, enrollments = _cached(
        institution.seed,
        institution.courses,
        institution.learners,
        institution.days,
        institution.anchor,
    )
    return EdxorgData(institution, courses, usernames, dict(enrollments))


def _legacy_block(block: Block, number: str, run: str) -> Block:
    def key(usage_key: str) -> str:
        block_type = usage_key.split("+type@")[1].split("+block@")[0]
        block_id = usage_key.split("+block@")[1]
        if block_type == "course":
            block_id = run
        return f"i4x://{ORG}/{number}/{block_type}/{block_id}"

    return Block(
        key(block.usage_key),
        run if block.block_type == "course" else block.block_id,
        block.block_type,
        block.display_name,
        tuple(key(child) for child in block.children),
        block.graded,
        block.format,
        block.due,
    )
