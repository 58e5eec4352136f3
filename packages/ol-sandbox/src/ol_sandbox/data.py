"""A deterministic synthetic institution for the source sandbox.

Everything is derived from `seed` and the size knobs through private `random.Random` instances
(never the global RNG) and from a fixed anchor date (never the wall clock), so the same inputs
always give identical data: tests can assert exact counts and a dev lake can be rebuilt.

Each Open edX deployment gets its own RNG stream (seeded from `seed` and the deployment name), so
adding a deployment does not change the data of the others.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict

# Duplicated from `ol_orchestrate.lib.environment.OPENEDX_DEPLOYMENT_NAMES`: the sandbox must not
# import production code (and production code must never need the sandbox).
DEFAULT_DEPLOYMENTS: tuple[str, ...] = ("mitxonline", "xpro")

# Day 0 of every synthetic institution. Enrollment activity falls in [ANCHOR_DATE, +days);
# `Institution.from_size(..., days=N)` moves day 0 back so a longer window ends where the size's
# does (a year: from 2025-01-19 for the default size). The platform's local daily partitions start
# at LOCAL_START_DATE (openedx, edxorg), a year before ANCHOR_DATE.
ANCHOR_DATE = date(2026, 1, 5)


class SizeKnobs(TypedDict):
    """`courses` and `learners` are per deployment; `days` is the activity window."""

    courses: int
    learners: int
    days: int


# Size knobs for `Institution.generate(seed=..., **SIZES[name])`.
SIZES: dict[str, SizeKnobs] = {
    "small": {"courses": 4, "learners": 40, "days": 14},
    # Sized so that `ol-platform materialize` runs end to end in about a minute on 2 cores.
    "default": {"courses": 6, "learners": 200, "days": 14},
    "large": {"courses": 60, "learners": 2000, "days": 140},
}

_ORGS: Mapping[str, tuple[str, ...]] = {
    "mitxonline": ("MITx",),
    "xpro": ("xPRO", "MITxPRO"),
    # Residential MITx: the LMS database legacy_openedx reads (ol_sandbox.edxapp).
    "mitx": ("MITx",),
}
_XPRO_PROGRAMS = ("DgtlTF", "AMx", "QCF", "SysEngx", "CSx", "LASERx")
_SUBJECTS = (
    "Circuits and Electronics",
    "Introduction to Computer Science",
    "Probability",
    "Supply Chain Analytics",
    "Quantum Computing Fundamentals",
    "Machine Learning",
    "Thermodynamics",
    "Data Analysis for Social Scientists",
    "Digital Transformation",
    "Systems Engineering",
    "Cybersecurity",
    "Linear Algebra",
    "Entrepreneurship 101",
    "Biochemistry",
    "Différential Equations",
)
_TOPICS = (
    "Foundations",
    "Modeling",
    "Estimation",
    "Optimization",
    "Applications",
    "Review",
    "Case Studies",
    "Advanced Topics",
)
_FIRST_NAMES = (
    "alex",
    "maria",
    "wei",
    "fatima",
    "john",
    "priya",
    "kenji",
    "olga",
    "samuel",
    "aisha",
    "lucas",
    "emma",
    "josé",
    "zoë",
    "łukasz",
    "søren",
    "ngọc",
    "李明",
    "анна",
    "müller",
)
_LAST_INITIALS = "abcdefghijklmnoprstvwz"
_GRADED_FORMATS = ("Homework", "Homework", "Lab", "Exam", "Midterm Exam", "Final Exam")
_LEAF_TYPES = ("problem", "video", "html")
_MODES = ("audit", "verified", "honor")
_MODE_WEIGHTS = (60, 30, 10)


def iso_z(value: datetime, *, microseconds: bool = False) -> str:
    """Format a datetime as UTC ISO-8601 with a `Z` suffix, as Open edX APIs do.

    Course dates come without fractions ("2026-01-05T15:00:00Z"); enrollment `created` values
    carry microseconds ("2026-01-07T08:12:03.123456Z"), like the real enrollment API.
    """
    value = value.astimezone(UTC)
    if microseconds:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Block:
    """One node of a course's block tree (an XBlock usage)."""

    usage_key: str
    block_id: str
    block_type: str
    display_name: str
    children: tuple[str, ...] = ()
    graded: bool = False
    format: str | None = None
    due: str | None = None


@dataclass(frozen=True)
class CourseRun:
    course_id: str
    org: str
    number: str
    run: str
    name: str
    short_description: str
    start: str
    end: str | None
    enrollment_start: str | None
    enrollment_end: str | None
    pacing: str  # "self" | "instructor"
    hidden: bool
    invitation_only: bool
    mobile_available: bool
    blocks: tuple[Block, ...]  # depth-first, root first

    @property
    def root_key(self) -> str:
        return self.blocks[0].usage_key


@dataclass(frozen=True)
class Enrollment:
    course_id: str
    username: str
    mode: str
    is_active: bool
    created: str


@dataclass(frozen=True)
class DeploymentData:
    """Everything one Open edX deployment serves."""

    name: str
    course_runs: tuple[CourseRun, ...]
    usernames: tuple[str, ...]
    enrollments: Mapping[str, tuple[Enrollment, ...]]  # course_id -> ordered by (created, username)

    def course_run(self, course_id: str) -> CourseRun | None:
        for course in self.course_runs:
            if course.course_id == course_id:
                return course
        return None

    def all_enrollments(self) -> tuple[Enrollment, ...]:
        """Every enrollment, course by course in course order."""
        return tuple(e for c in self.course_runs for e in self.enrollments.get(c.course_id, ()))

    @property
    def block_count(self) -> int:
        return sum(len(c.blocks) for c in self.course_runs)


@dataclass(frozen=True)
class Institution:
    seed: int
    courses: int
    learners: int
    days: int
    anchor: date
    deployments: Mapping[str, DeploymentData] = field(default_factory=dict)

    @classmethod
    def generate(
        cls,
        seed: int = 42,
        courses: int = SIZES["default"]["courses"],
        learners: int = SIZES["default"]["learners"],
        days: int = SIZES["default"]["days"],
        *,
        deployments: Iterable[str] = DEFAULT_DEPLOYMENTS,
        anchor: date = ANCHOR_DATE,
    ) -> Institution:
        """Build the institution; same arguments give identical data."""
        if courses < 0 or learners < 0 or days < 1:
            msg = f"need courses >= 0, learners >= 0, days >= 1 (got {courses}, {learners}, {days})"
            raise ValueError(msg)
        generated = {
            name: _generate_deployment(
                random.Random(f"{seed}:{name}"), name, courses, learners, days, anchor
            )
            for name in deployments
        }
        return cls(seed, courses, learners, days, anchor, generated)

    @classmethod
    def from_size(
        cls, size: str = "default", seed: int = 42, days: int | None = None
    ) -> Institution:
        """The institution of a named size; `days` replaces the size's activity window, which
        then ends where the size's own does (it grows into the past: every day of it stays in
        the past for the platform's daily partitions, whatever the length)."""
        try:
            knobs = SIZES[size]
        except KeyError:
            msg = f"unknown sandbox size {size!r}; expected one of: {', '.join(SIZES)}"
            raise ValueError(msg) from None
        if days is None or days == knobs["days"]:
            return cls.generate(seed=seed, **knobs)
        if days < 1:
            msg = f"need days >= 1, got {days}"
            raise ValueError(msg)
        anchor = ANCHOR_DATE + timedelta(days=knobs["days"] - days)
        return cls.generate(
            seed=seed,
            courses=knobs["courses"],
            learners=knobs["learners"],
            days=days,
            anchor=anchor,
        )

    def deployment(self, name: str) -> DeploymentData:
        try:
            return self.deployments[name]
        except KeyError:
            known = ", ".join(self.deployments)
            msg = f"unknown deployment {name!r}; sandbox serves: {known}"
            raise KeyError(msg) from None

    @property
    def start(self) -> datetime:
        """First instant of the activity window (enrollment `created` lies in [start, end))."""
        return datetime.combine(self.anchor, time(0, 0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


def _generate_deployment(
    rng: random.Random, name: str, courses: int, learners: int, days: int, anchor: date
) -> DeploymentData:
    runs = _course_runs(rng, name, courses, days, anchor)
    usernames = _usernames(rng, learners)
    enrollments = _enrollments(rng, runs, usernames, days, anchor)
    return DeploymentData(name, runs, usernames, enrollments)


def _course_runs(
    rng: random.Random, deployment: str, count: int, days: int, anchor: date
) -> tuple[CourseRun, ...]:
    orgs = _ORGS.get(deployment, (deployment.upper()[:8] or "ORG",))
    day0 = datetime.combine(anchor, time(0, 0), tzinfo=UTC)
    seen: set[str] = set()
    runs: list[CourseRun] = []
    while len(runs) < count:
        org = rng.choice(orgs)
        if deployment == "xpro":
            number = f"{rng.choice(_XPRO_PROGRAMS)}{rng.randint(1, 9)}"
        else:
            number = f"{rng.randint(1, 24)}.{rng.randint(1, 999):03d}x"
        start = day0 + timedelta(days=rng.randint(-90, days - 1), hours=rng.choice((0, 12, 15)))
        run = f"{(start.month - 1) // 4 + 1}T{start.year}"  # 1T/2T/3T: the term it starts in
        course_id = f"course-v1:{org}+{number}+{run}"
        if course_id in seen:
            continue
        seen.add(course_id)

        end = None if rng.random() < 0.2 else start + timedelta(days=rng.randint(42, 120))
        enrollment_start = (
            None if rng.random() < 0.1 else start - timedelta(days=rng.randint(14, 45))
        )
        enrollment_end = end if (end is not None and rng.random() < 0.7) else None
        subject = rng.choice(_SUBJECTS)
        runs.append(
            CourseRun(
                course_id=course_id,
                org=org,
                number=number,
                run=run,
                name=subject,
                short_description=f"An introduction to {subject.lower()}.",
                start=iso_z(start),
                end=iso_z(end) if end else None,
                enrollment_start=iso_z(enrollment_start) if enrollment_start else None,
                enrollment_end=iso_z(enrollment_end) if enrollment_end else None,
                pacing="self" if rng.random() < 0.4 else "instructor",
                hidden=rng.random() < 0.1,
                invitation_only=rng.random() < 0.1,
                mobile_available=rng.random() < 0.8,
                blocks=_blocks(rng, org, number, run, subject, start),
            )
        )
    return tuple(runs)


def _blocks(
    rng: random.Random, org: str, number: str, run: str, title: str, start: datetime
) -> tuple[Block, ...]:
    prefix = f"block-v1:{org}+{number}+{run}"

    def key(block_type: str, block_id: str) -> str:
        return f"{prefix}+type@{block_type}+block@{block_id}"

    blocks: list[Block] = []
    chapter_keys: list[str] = []
    root_index = len(blocks)
    blocks.append(Block(key("course", "course"), "course", "course", title))  # children set below
    for c in range(rng.randint(2, 4)):
        chapter_id = f"{rng.getrandbits(128):032x}"
        chapter_index = len(blocks)
        chapter_keys.append(key("chapter", chapter_id))
        blocks.append(Block(chapter_keys[-1], chapter_id, "chapter", ""))
        sequential_keys: list[str] = []
        for s in range(rng.randint(1, 3)):
            seq_id = f"{rng.getrandbits(128):032x}"
            graded = rng.random() < 0.5
            fmt = rng.choice(_GRADED_FORMATS) if graded else None
            due = None
            if graded and rng.random() < 0.85:
                due = iso_z(start + timedelta(days=7 * (c + 1) + s, hours=23, minutes=59))
            seq_index = len(blocks)
            sequential_keys.append(key("sequential", seq_id))
            blocks.append(
                Block(sequential_keys[-1], seq_id, "sequential", "", (), graded, fmt, due)
            )
            vertical_keys: list[str] = []
            for v in range(rng.randint(1, 3)):
                vert_id = f"{rng.getrandbits(128):032x}"
                vert_index = len(blocks)
                vertical_keys.append(key("vertical", vert_id))
                blocks.append(Block(vertical_keys[-1], vert_id, "vertical", f"Unit {v + 1}"))
                leaf_keys: list[str] = []
                for n in range(rng.randint(1, 3)):
                    leaf_type = rng.choice(_LEAF_TYPES)
                    leaf_id = f"{rng.getrandbits(128):032x}"
                    leaf_keys.append(key(leaf_type, leaf_id))
                    leaf_name = {"problem": "Problem", "video": "Video", "html": "Reading"}
                    blocks.append(
                        Block(
                            leaf_keys[-1],
                            leaf_id,
                            leaf_type,
                            f"{leaf_name[leaf_type]} {n + 1}",
                            (),
                            graded and leaf_type == "problem",
                            None,
                            due if leaf_type == "problem" else None,
                        )
                    )
                blocks[vert_index] = _with_children(blocks[vert_index], leaf_keys)
            seq_name = f"{fmt} {s + 1}" if fmt else f"Lecture {s + 1}"
            blocks[seq_index] = _with_children(blocks[seq_index], vertical_keys, seq_name)
        chapter_name = f"Week {c + 1}: {rng.choice(_TOPICS)}"
        blocks[chapter_index] = _with_children(blocks[chapter_index], sequential_keys, chapter_name)
    blocks[root_index] = _with_children(blocks[root_index], chapter_keys)
    return tuple(blocks)


def _with_children(block: Block, children: list[str], display_name: str | None = None) -> Block:
    return Block(
        block.usage_key,
        block.block_id,
        block.block_type,
        display_name if display_name is not None else block.display_name,
        tuple(children),
        block.graded,
        block.format,
        block.due,
    )


def _usernames(rng: random.Random, count: int) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    for i in range(count):
        base = f"{rng.choice(_FIRST_NAMES)}_{rng.choice(_LAST_INITIALS)}"
        name = base if base not in seen else f"{base}{i}"
        seen.add(name)
        names.append(name)
    return tuple(names)


def _enrollments(
    rng: random.Random,
    runs: tuple[CourseRun, ...],
    usernames: tuple[str, ...],
    days: int,
    anchor: date,
) -> dict[str, tuple[Enrollment, ...]]:
    day0 = datetime.combine(anchor, time(0, 0), tzinfo=UTC)
    window = days * 86_400
    by_course: dict[str, list[Enrollment]] = {c.course_id: [] for c in runs}
    if not runs:
        return {}
    for username in usernames:
        wanted = rng.choices((1, 2, 3, 4), weights=(40, 30, 20, 10))[0]
        for course in rng.sample(runs, min(wanted, len(runs))):
            created = day0 + timedelta(
                seconds=rng.randrange(window), microseconds=rng.randrange(1_000_000)
            )
            by_course[course.course_id].append(
                Enrollment(
                    course_id=course.course_id,
                    username=username,
                    mode=rng.choices(_MODES, weights=_MODE_WEIGHTS)[0],
                    is_active=rng.random() < 0.9,
                    created=iso_z(created, microseconds=True),
                )
            )
    return {
        course_id: tuple(sorted(rows, key=lambda e: (e.created, e.username)))
        for course_id, rows in by_course.items()
    }
