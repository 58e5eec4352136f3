"""The synthetic institution is deterministic, realistic in shape and independent of globals."""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from datetime import datetime

import pytest

from ol_sandbox.data import ANCHOR_DATE, DEFAULT_DEPLOYMENTS, SIZES, Enrollment, Institution

COURSE_KEY = re.compile(r"^course-v1:(?P<org>[^+]+)\+(?P<number>[^+]+)\+(?P<run>[^+]+)$")
USAGE_KEY = re.compile(
    r"^block-v1:(?P<org>[^+]+)\+(?P<number>[^+]+)\+(?P<run>[^+]+)"
    r"\+type@(?P<type>[a-z]+)\+block@(?P<id>[0-9a-f]{32}|course)$"
)
CHILD_TYPES = {
    "course": {"chapter"},
    "chapter": {"sequential"},
    "sequential": {"vertical"},
    "vertical": {"problem", "video", "html"},
}


def parse_z(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def default() -> Institution:
    return Institution.generate(seed=42, **SIZES["default"])


def test_same_seed_and_knobs_give_identical_data() -> None:
    assert Institution.generate(seed=7, **SIZES["small"]) == Institution.generate(
        seed=7, **SIZES["small"]
    )


def test_other_seed_gives_other_data() -> None:
    one = Institution.generate(seed=1, **SIZES["small"])
    two = Institution.generate(seed=2, **SIZES["small"])
    assert one.deployment("mitxonline").course_runs != two.deployment("mitxonline").course_runs


def test_global_random_state_is_neither_used_nor_changed() -> None:
    random.seed(1)
    state = random.getstate()
    first = Institution.generate(seed=3, **SIZES["small"])
    assert random.getstate() == state
    random.seed(999)
    assert Institution.generate(seed=3, **SIZES["small"]) == first


def test_deployments_have_independent_streams() -> None:
    both = Institution.generate(seed=5, **SIZES["small"])
    only = Institution.generate(seed=5, **SIZES["small"], deployments=("mitxonline",))
    assert list(only.deployments) == ["mitxonline"]
    assert only.deployment("mitxonline") == both.deployment("mitxonline")


def test_default_deployments_and_sizes(institution: Institution) -> None:
    assert tuple(institution.deployments) == DEFAULT_DEPLOYMENTS == ("mitxonline", "xpro")
    for data in institution.deployments.values():
        assert len(data.course_runs) == SIZES["small"]["courses"]
        assert len(data.usernames) == SIZES["small"]["learners"]
        assert len(set(data.usernames)) == len(data.usernames)
    assert SIZES["large"]["courses"] == 10 * SIZES["default"]["courses"]
    assert SIZES["large"]["learners"] == 10 * SIZES["default"]["learners"]


def test_unknown_deployment_and_size_are_clear_errors(institution: Institution) -> None:
    with pytest.raises(KeyError, match="mitxonline, xpro"):
        institution.deployment("mitx")
    with pytest.raises(ValueError, match="small, default, large"):
        Institution.from_size("huge")


def test_default_size_generates_quickly() -> None:
    started = time.perf_counter()
    Institution.from_size("default", seed=11)
    assert time.perf_counter() - started < 2.0


def test_course_runs_look_like_open_edx(default: Institution) -> None:
    runs = [c for d in default.deployments.values() for c in d.course_runs]
    assert len({c.course_id for c in runs}) == len(runs)
    for course in runs:
        match = COURSE_KEY.match(course.course_id)
        assert match, course.course_id
        assert (course.org, course.number, course.run) == (
            match["org"],
            match["number"],
            match["run"],
        )
        assert course.pacing in {"self", "instructor"}
        start = parse_z(course.start)
        for value in (course.end, course.enrollment_start, course.enrollment_end):
            if value is not None:
                parse_z(value)
        if course.end is not None:
            assert parse_z(course.end) > start
    assert any(c.end is None for c in runs)
    assert {c.pacing for c in runs} == {"self", "instructor"}
    assert any(c.hidden for c in runs) or any(c.invitation_only for c in runs)
    assert {c.org for c in default.deployment("xpro").course_runs} <= {"xPRO", "MITxPRO"}


def test_block_trees_are_well_formed(default: Institution) -> None:
    formats: Counter[str | None] = Counter()
    for course in (c for d in default.deployments.values() for c in d.course_runs):
        blocks = {b.usage_key: b for b in course.blocks}
        assert len(blocks) == len(course.blocks)
        root = course.blocks[0]
        assert root.block_type == "course"
        assert root.usage_key == course.root_key
        assert root.display_name == course.name
        parents = Counter(child for b in course.blocks for child in b.children)
        assert set(parents) == set(blocks) - {root.usage_key}
        assert set(parents.values()) == {1}
        for block in course.blocks:
            match = USAGE_KEY.match(block.usage_key)
            assert match, block.usage_key
            assert (match["org"], match["number"], match["run"]) == (
                course.org,
                course.number,
                course.run,
            )
            assert match["type"] == block.block_type
            assert match["id"] == block.block_id
            for child in block.children:
                assert blocks[child].block_type in CHILD_TYPES[block.block_type]
            if block.block_type == "sequential":
                assert (block.format is not None) == block.graded
                formats[block.format] += 1
            if block.due is not None:
                parse_z(block.due)
            if block.graded and block.block_type not in ("sequential", "problem"):
                pytest.fail(f"unexpected graded {block.block_type}")
    assert formats[None] > 0
    assert {"Homework", "Exam"} <= set(formats)


def test_enrollments_are_spread_over_the_window(default: Institution) -> None:
    assert default.start.date() == ANCHOR_DATE
    all_rows: list[Enrollment] = []
    for data in default.deployments.values():
        known_courses = {c.course_id for c in data.course_runs}
        for course_id, rows in data.enrollments.items():
            assert course_id in known_courses
            assert list(rows) == sorted(rows, key=lambda e: (e.created, e.username))
            assert len({e.username for e in rows}) == len(rows)
            assert all(e.course_id == course_id for e in rows)
        all_rows.extend(data.all_enrollments())
        assert {e.username for e in data.all_enrollments()} <= set(data.usernames)
    created = [parse_z(e.created) for e in all_rows]
    assert min(created) >= default.start
    assert max(created) < default.end
    assert (max(created) - min(created)).days >= default.days - 3
    assert {e.mode for e in all_rows} == {"audit", "verified", "honor"}
    assert {e.is_active for e in all_rows} == {True, False}
    assert any(not e.username.isascii() for e in all_rows)


def test_a_longer_window_ends_where_the_size_ends() -> None:
    default = Institution.from_size("default")
    year = Institution.from_size("default", days=365)
    assert year.days == 365
    assert year.end == default.end  # it grows into the past
    assert year.start.date() < ANCHOR_DATE
    assert Institution.from_size("default", days=default.days) == default
    with pytest.raises(ValueError, match="days >= 1"):
        Institution.from_size("default", days=0)
