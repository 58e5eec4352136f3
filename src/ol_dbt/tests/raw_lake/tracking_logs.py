"""Normalized Open edX tracking-log partitions (docs/contracts.md, "Tracking logs") as Parquet.

One object per day at raw/openedx/<deployment>_tracking_logs/dt=<day>/data.parquet. Edge cases on
purpose: a line delivered again in the next day's files (same event id), an event logged just
before midnight in the next day's partition, task and enrollment events (not activity), a page view
whose course comes only from the URL (not activity by the Insights definition), a visitor without
a user id, browser and mobile `play_video`, `event` as an object, a JSON-decoded string and a plain
string, and non-ASCII usernames (none may reach a mart). The schema is the normalizer's own
(`NORMALIZED_SCHEMA`).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ol_orchestrate.lib.tracking_logs import NORMALIZED_SCHEMA

from .openedx import MITX_600, XPRO_DS

MITX_600_VIDEO = "block-v1:MITxT+6.00.1x+1T2024+type@video+block@v1"
MITX_600_PROBLEM = "block-v1:MITxT+6.00.1x+1T2024+type@problem+block@p1"
MITX_600_SEQUENTIAL = "block-v1:MITxT+6.00.1x+1T2024+type@sequential+block@s1"
XPRO_DS_VIDEO = "block-v1:xPRO+DSx+R1+type@video+block@dv1"
XPRO_DS_PROBLEM = "block-v1:xPRO+DSx+R1+type@problem+block@dp1"
# LMS user ids of the fixture's learners (usernames are in openedx.USERNAMES).
TRACKING_USER_IDS = {"alice": 11, "bob_verified": 12, "josé_ñúñez": 13, "дмитрий": 21}
TRACKING_IPS = ("203.0.113.7", "198.51.100.23")


def _tracking_event(
    deployment: str,
    day: str,
    line_number: int,
    event_type: str,
    event_source: str,
    time: str,
    username: str | None,
    course_id: str | None,
    *,
    course_key: str | None = None,
    event: object = None,
    event_name: str | None = None,
    block_key: str | None = None,
    event_id: str | None = None,
) -> dict:
    import hashlib
    import json
    from datetime import datetime

    user_id = TRACKING_USER_IDS.get(username or "")
    org = (course_key or course_id or "course-v1:?+").removeprefix("course-v1:").split("+")[0]
    payload = None if event is None else json.dumps(event, ensure_ascii=False)
    source_file = f"landing/openedx/{deployment}/tracking_logs/{day}/tracking.log-{day}-1.gz"
    return {
        "event_id": event_id or hashlib.md5(f"{source_file}:{line_number}".encode()).hexdigest(),  # noqa: S324
        "event_type": event_type,
        "event_name": event_name,
        "event_source": event_source,
        "event_time": datetime.fromisoformat(time.replace("Z", "+00:00")),
        "username": username,
        "user_id": user_id,
        "course_id": course_id,
        "course_key": course_key if course_key is not None else (course_id or None),
        "org_id": org or None,
        "block_key": block_key,
        "session": "0123456789abcdef0123456789abcdef",
        "page": None,
        "referer": None,
        "agent": "Mozilla/5.0",
        "ip": TRACKING_IPS[line_number % 2],
        "host": f"courses.{deployment}.example.edu",
        "path": None,
        "event_payload": payload,
        "context_payload": json.dumps({"course_id": course_id or "", "user_id": user_id}),
        "source_name": deployment,
        "source_file": source_file,
        "line_number": line_number,
    }


def tracking_log_partitions() -> dict[str, dict[str, list[dict]]]:
    """Rows of each tracking-log table by partition day: `{<table>: {day: rows}}`."""
    m, x = "mitxonline", "xpro"
    c = MITX_600
    video, problem = MITX_600_VIDEO, MITX_600_PROBLEM
    alice_play = _tracking_event(
        m,
        "2024-01-10",
        1,
        "play_video",
        "browser",
        "2024-01-10T10:00:00.123456+00:00",
        "alice",
        c,
        event={"id": video, "currentTime": 0, "duration": 100},
        block_key=video,
    )
    redelivered = dict(alice_play, source_file="tracking.log-2024-01-11-2.gz", line_number=1)
    day_10 = [
        alice_play,
        _tracking_event(
            m,
            "2024-01-10",
            2,
            "pause_video",
            "browser",
            "2024-01-10T10:01:35Z",
            "alice",
            c,
            event={"id": video, "currentTime": 95, "duration": 100},
            block_key=video,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            3,
            "problem_check",
            "server",
            "2024-01-10T10:05:00Z",
            "alice",
            c,
            event={
                "problem_id": problem,
                "attempts": 1,
                "success": "incorrect",
                "grade": 0,
                "max_grade": 2,
            },
            block_key=problem,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            4,
            "problem_check",
            "server",
            "2024-01-10T10:07:00Z",
            "alice",
            c,
            event={
                "problem_id": problem,
                "attempts": 2,
                "success": "correct",
                "grade": 2,
                "max_grade": 2,
            },
            block_key=problem,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            5,
            "problem_check",
            "browser",
            "2024-01-10T10:06:59Z",
            "alice",
            c,
            event="input_p1_2_1=choice_2",
        ),
        _tracking_event(
            m,
            "2024-01-10",
            6,
            "edx.grades.subsection.grade_calculated",
            "task",
            "2024-01-10T10:07:03Z",
            "alice",
            c,
            event={"block_id": problem},
        ),
        _tracking_event(
            m,
            "2024-01-10",
            7,
            "play_video",
            "mobile",
            "2024-01-10T11:00:00.250Z",
            "bob_verified",
            c,
            event={"id": video, "currentTime": 0},
            event_name="edx.video.played",
            block_key=video,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            8,
            "problem_check",
            "server",
            "2024-01-10T11:10:00Z",
            "bob_verified",
            c,
            event={
                "problem_id": problem,
                "attempts": 1,
                "success": "correct",
                "grade": 2,
                "max_grade": 2,
            },
            block_key=problem,
        ),
        _tracking_event(
            m,
            "2024-01-10",
            9,
            "edx.course.enrollment.activated",
            "server",
            "2024-01-10T09:00:00Z",
            "bob_verified",
            c,
            event={"course_id": c, "mode": "verified"},
            event_name="edx.course.enrollment.activated",
        ),
        _tracking_event(
            m,
            "2024-01-10",
            10,
            "edx.forum.thread.created",
            "server",
            "2024-01-10T11:30:00Z",
            "bob_verified",
            c,
            event={"title": "Привет — a question", "body": "…"},
            event_name="edx.forum.thread.created",
        ),
        _tracking_event(
            m,
            "2024-01-10",
            11,
            f"/courses/{c}/about",
            "server",
            "2024-01-10T12:00:00Z",
            None,
            c,
            event={"POST": {}, "GET": {}},
        ),
        _tracking_event(
            m,
            "2024-01-10",
            12,
            f"/courses/{c}/courseware/",
            "server",
            "2024-01-10T12:30:00Z",
            "alice",
            "",
            course_key=c,
            event={"POST": {}, "GET": {}},
        ),
    ]
    day_11 = [
        redelivered,
        # logged before midnight, shipped in the next day's file
        _tracking_event(
            m,
            "2024-01-11",
            2,
            "seek_video",
            "browser",
            "2024-01-10T23:59:59Z",
            "alice",
            c,
            event={"id": video, "old_time": 10, "new_time": 30, "duration": 100},
            block_key=video,
        ),
        _tracking_event(
            m,
            "2024-01-11",
            3,
            "play_video",
            "browser",
            "2024-01-11T00:30:00Z",
            "josé_ñúñez",
            c,
            event={"id": video, "currentTime": 5},
            block_key=video,
        ),
        _tracking_event(
            m,
            "2024-01-11",
            4,
            "edx.ui.lms.sequence.next_selected",
            "browser",
            "2024-01-11T00:40:00Z",
            "josé_ñúñez",
            c,
            event={"id": MITX_600_SEQUENTIAL, "current_tab": 1, "target_tab": 2},
            event_name="edx.ui.lms.sequence.next_selected",
        ),
    ]
    day_15 = [
        _tracking_event(
            m,
            "2024-01-15",
            1,
            "play_video",
            "browser",
            "2024-01-15T08:00:00Z",
            "alice",
            c,
            event={"id": video, "currentTime": 40, "duration": 100},
            block_key=video,
        ),
    ]
    xpro_12 = [
        _tracking_event(
            x,
            "2024-01-12",
            1,
            "play_video",
            "browser",
            "2024-01-12T14:00:00",
            "дмитрий",
            XPRO_DS,
            event={"id": XPRO_DS_VIDEO, "currentTime": 0, "duration": 60},
            block_key=XPRO_DS_VIDEO,
        ),
        _tracking_event(
            x,
            "2024-01-12",
            2,
            "problem_check",
            "server",
            "2024-01-12T14:10:00Z",
            "дмитрий",
            XPRO_DS,
            event={
                "problem_id": XPRO_DS_PROBLEM,
                "attempts": 1,
                "success": "correct",
                "grade": 1,
                "max_grade": 1,
            },
            block_key=XPRO_DS_PROBLEM,
        ),
    ]
    return {
        f"{m}_tracking_logs": {"2024-01-10": day_10, "2024-01-11": day_11, "2024-01-15": day_15},
        f"{x}_tracking_logs": {"2024-01-12": xpro_12},
    }


def write_tracking_logs_raw_lake(lake_root: Path) -> dict[str, list[Path]]:
    """Write the tracking-log partitions under `raw/openedx/<table>/dt=<day>/`."""
    written: dict[str, list[Path]] = {}
    for name, by_day in tracking_log_partitions().items():
        for day, rows in by_day.items():
            folder = lake_root / "raw" / "openedx" / name / f"dt={day}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "data.parquet"
            pq.write_table(pa.Table.from_pylist(rows, schema=NORMALIZED_SCHEMA), path)
            written.setdefault(name, []).append(path)
    return written
