"""Synthetic tracking logs: deterministic, realistic in shape, a small known share of malformed
lines, written idempotently into the landing area's documented layout."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from ol_sandbox.data import Institution
from ol_sandbox.landing import PROVISIONERS, provision_landing
from ol_sandbox.tracking_logs import (
    MALFORMED_EVERY,
    landing_dir,
    tracking_log_days,
    write_tracking_logs,
)

LAYOUT = re.compile(
    r"landing/openedx/(?P<deployment>[a-z]+)/tracking_logs/(?P<day>\d{4}-\d{2}-\d{2})/"
    r"tracking\.log-(?P<compact>\d{8})-(?P<worker>[12])\.gz$"
)


@pytest.fixture(scope="module")
def events(institution: Institution) -> list[dict]:
    parsed = []
    for deployment in institution.deployments:
        for day in tracking_log_days(institution, deployment):
            for lines in day.files.values():
                for line in lines:
                    try:
                        parsed.append(json.loads(line))
                    except ValueError:
                        continue
    return parsed


def test_same_institution_gives_identical_files(institution: Institution) -> None:
    first = [d.file_bytes(n) for d in tracking_log_days(institution, "xpro") for n in d.files]
    again = [d.file_bytes(n) for d in tracking_log_days(institution, "xpro") for n in d.files]
    assert first == again
    other = Institution.generate(seed=7, courses=4, learners=40, days=14)
    assert [d.file_bytes(n) for d in tracking_log_days(other, "xpro") for n in d.files] != first


def test_every_day_of_every_deployment_lands_in_the_documented_layout(
    institution: Institution, tmp_path: Path
) -> None:
    written = write_tracking_logs(institution, str(tmp_path))
    assert written
    days_by_deployment: dict[str, set[str]] = {}
    for path in written:
        match = LAYOUT.search(Path(path).relative_to(tmp_path).as_posix())
        assert match, path
        assert match["compact"] == match["day"].replace("-", "")
        days_by_deployment.setdefault(match["deployment"], set()).add(match["day"])
        assert gzip.decompress(Path(path).read_bytes())  # a real gzip file
    assert set(days_by_deployment) == set(institution.deployments)
    for days in days_by_deployment.values():
        assert len(days) == institution.days
    files_per_day = Counter(Path(p).parent for p in written)
    assert set(files_per_day.values()) <= {1, 2}


def test_writing_again_leaves_files_alone_and_removes_stale_days(
    institution: Institution, tmp_path: Path
) -> None:
    write_tracking_logs(institution, str(tmp_path))
    base = landing_dir(tmp_path, "mitxonline")
    stamps = {p: p.stat().st_mtime_ns for p in base.rglob("*.gz")}
    stale = base / "2030-01-01" / "tracking.log-20300101-1.gz"
    stale.parent.mkdir()
    stale.write_bytes(b"")
    assert write_tracking_logs(institution, str(tmp_path)) == []
    assert {p: p.stat().st_mtime_ns for p in base.rglob("*.gz")} == stamps
    assert not stale.parent.exists()


def test_provisioning_the_landing_area_writes_the_tracking_logs(
    institution: Institution, tmp_path: Path
) -> None:
    assert write_tracking_logs in PROVISIONERS
    written = provision_landing(institution, str(tmp_path))
    assert any("/tracking_logs/" in path for path in written)
    assert provision_landing(institution, str(tmp_path)) == []


def test_events_are_realistic_in_shape(institution: Institution, events: list[dict]) -> None:
    types = Counter(e["event_type"] for e in events if not e["event_type"].startswith("/"))
    assert len(types) >= 30, sorted(types)
    for expected in (
        "play_video",
        "pause_video",
        "seek_video",
        "load_video",
        "problem_check",
        "problem_graded",
        "showanswer",
        "edx.course.enrollment.activated",
        "edx.course.enrollment.deactivated",
        "edx.forum.thread.created",
        "edx.forum.response.created",
        "edx.ui.lms.sequence.next_selected",
        "edx.ui.lms.sequence.tab_selected",
    ):
        assert types[expected], expected
    assert any(e["event_type"].startswith("/courses/") for e in events)  # server page views
    assert {e["event_source"] for e in events} == {"server", "browser", "mobile", "task"}
    assert {e["event_source"] for e in events if e["event_type"] == "problem_check"} == {
        "server",
        "browser",
    }

    payload_kinds = Counter(type(e["event"]).__name__ for e in events)
    assert {"dict", "str", "list"} <= set(payload_kinds)
    json_strings = [e for e in events if isinstance(e["event"], str) and e["event"][:1] == "{"]
    url_encoded = [
        e
        for e in events
        if isinstance(e["event"], str) and "=" in e["event"] and not e["event"].startswith("{")
    ]
    assert json_strings
    assert url_encoded
    assert any(e["event"] == "" for e in events)
    share = len(json_strings) / len(events)
    assert 0.2 < share < 0.8

    user_ids = Counter(type(e["context"]["user_id"]).__name__ for e in events)
    assert {"int", "str", "NoneType"} <= set(user_ids)
    assert any(e["context"]["course_id"] == "" for e in events)
    assert any(e["time"].endswith("Z") for e in events)
    assert any(e["time"].endswith("+00:00") for e in events)
    assert all({"course_id", "org_id", "path", "user_id"} <= set(e["context"]) for e in events)

    # everything refers to the institution: its courses, its blocks, its learners
    data = institution.deployment("mitxonline")
    courses = {c.course_id for c in data.course_runs}
    blocks = {b.usage_key for c in data.course_runs for b in c.blocks}
    mitx = [e for e in events if e["host"] == "courses.mitxonline.mit.edu"]
    assert {e["context"]["course_id"] for e in mitx} - {""} <= courses
    checks = [
        e for e in mitx if e["event_type"] == "problem_check" and e["event_source"] == "server"
    ]
    assert checks
    assert {e["event"]["problem_id"] for e in checks} <= blocks
    assert {e["username"] for e in mitx} - {""} <= set(data.usernames)


def test_malformed_lines_are_a_small_known_share(institution: Institution) -> None:
    kinds: Counter[str] = Counter()
    lines = events = 0
    for deployment in institution.deployments:
        for day in tracking_log_days(institution, deployment):
            assert day.lines == sum(len(v) for v in day.files.values())
            all_lines = [line for v in day.files.values() for line in v]
            assert sum(1 for line in all_lines if line == "") == day.malformed.get("blank", 0)
            assert sum(1 for line in all_lines if line.startswith("#")) == day.malformed.get(
                "comment", 0
            )
            kinds.update(day.malformed)
            lines += day.lines
            events += day.events
    assert set(kinds) == {"truncated_json", "syslog_prefix", "blank", "comment"}
    not_events = lines - events
    assert not_events == kinds["truncated_json"] + kinds["blank"] + kinds["comment"]
    assert not_events / lines < 2 / MALFORMED_EVERY
