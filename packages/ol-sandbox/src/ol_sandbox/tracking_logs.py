"""Synthetic Open edX tracking logs: realistic days of events, gzipped into the lake's landing area.

For every day of the institution's activity window and every deployment this writes what the LMS
workers of that deployment would have shipped: one JSON event per line, one or two gzipped files
per day (one per LMS worker), under

    <lake_root>/landing/openedx/<deployment>/tracking_logs/<YYYY-MM-DD>/tracking.log-<YYYYMMDD>-<n>.gz

Events come from the institution's course runs (their block trees), learners and enrollments:
server page views and problem checks, browser video and sequence-navigation events, mobile video
events, task-sourced grade events, enrollment and forum events (~35 event types). The shapes follow
what the LMS really logs, including its inconsistencies: `event` as an object, a JSON-encoded
string, a URL-encoded non-JSON string, `""` or a list; `user_id` as an int, a numeric string or
null; timestamps with `+00:00` and microseconds or `Z` and milliseconds; events with no course.

A small, fixed share of lines is malformed on purpose so the normalizer's quarantine is exercised
(about one line in `MALFORMED_EVERY`): a JSON line cut short, a line behind a syslog header, a
blank line and a `#` comment line. `TrackingLogDay.malformed` says exactly which were written.

Everything is derived from the institution's seed (one `random.Random` per deployment and day), so
the same institution always gives byte-identical files; writing is idempotent.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote

from ol_sandbox.data import Block, CourseRun, DeploymentData, Institution

# Bump when the generator's output changes, so provisioned landing areas are regenerated.
GENERATOR_VERSION = 1
# Per deployment, beside the day folders: what the last provisioning wrote (hidden, so ingestion
# never lists it), letting an unchanged landing area be recognized without regenerating it.
MANIFEST_NAME = ".sandbox-tracking-logs.json"

# One malformed line per this many well-formed lines (on average, per file): ~0.25%.
MALFORMED_EVERY = 400
MALFORMED_KINDS = ("truncated_json", "syslog_prefix", "blank", "comment")

# The probability that an enrolled learner is active in a course on a given weekday (weekends:
# `_WEEKEND_FACTOR` of it).
_DAILY_ACTIVITY = 0.12
_WEEKEND_FACTOR = 0.6

_HOSTS = {
    "mitxonline": "courses.mitxonline.mit.edu",
    "xpro": "courses.xpro.mit.edu",
    "edxorg": "courses.edx.org",
}
_BROWSER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
)
_MOBILE_AGENTS = (
    "edX/org.edx.mobile (5.1.2; OS Version 17.5 (Build 21F79))",
    "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 7 Build/AP2A.240805.005) edX/org.edx.mobile/4.2.0",
)
_LANGUAGES = ("en-US,en;q=0.9", "es-ES,es;q=0.8,en;q=0.5", "zh-CN,zh;q=0.9", "fr-FR,fr;q=0.9")
_FORUM_TITLES = (
    "Question about problem set 2",
    "Where can I find the lecture slides?",
    "Résumé of week 1 — notes in English & español",
    "Stuck on the recursion exercise",
    "证明 question in lecture 3",
)


@dataclass(frozen=True)
class TrackingLogDay:
    """One day of one deployment's tracking logs: file name -> lines (no trailing newlines)."""

    deployment: str
    day: date
    files: dict[str, list[str]]
    events: int  # well-formed event lines (syslog-prefixed lines included)
    malformed: dict[str, int] = field(default_factory=dict)  # kind -> lines

    @property
    def lines(self) -> int:
        return sum(len(lines) for lines in self.files.values())

    def file_bytes(self, name: str) -> bytes:
        """The gzipped file, byte-identical for the same content (no timestamp in the header)."""
        body = "".join(line + "\n" for line in self.files[name]).encode("utf-8")
        return gzip.compress(body, compresslevel=6, mtime=0)


def landing_dir(lake_root: str | Path, deployment: str) -> Path:
    """The landing folder of one deployment's tracking logs (one sub-folder per day)."""
    return Path(lake_root) / "landing" / "openedx" / deployment / "tracking_logs"


def file_name(day: date, worker: int) -> str:
    return f"tracking.log-{day:%Y%m%d}-{worker}.gz"


def tracking_log_days(institution: Institution, deployment: str) -> Iterator[TrackingLogDay]:
    """Every day of the activity window of `deployment`, in date order."""
    yield from deployment_days(institution, institution.deployment(deployment))


def deployment_days(institution: Institution, data: DeploymentData) -> Iterator[TrackingLogDay]:
    """Every day of the activity window of the LMS `data` describes (an institution's deployment,
    or another platform's courses such as edX.org's, `ol_sandbox.edxorg`), in date order."""
    user_ids = {name: 1000 + index for index, name in enumerate(data.usernames)}
    for offset in range(institution.days):
        day = institution.anchor + timedelta(days=offset)
        rng = random.Random(f"{institution.seed}:{data.name}:tracking_logs:{day.isoformat()}")
        yield _generate_day(rng, data, user_ids, day)


def write_tracking_logs(institution: Institution, lake_root: str) -> list[str]:
    """Write every deployment's tracking-log days below `lake_root`/landing; return paths written.

    Files whose content is already there are left alone (not rewritten, so their modification
    time, which the ingestion sensor fingerprints, does not change); sandbox files of days the
    institution does not have (a previous, longer or differently seeded run) are removed. A
    manifest per deployment records what was written, so provisioning the same institution
    again is a few `stat` calls rather than a regeneration.
    """
    if "://" in lake_root and not lake_root.startswith("file://"):
        msg = f"the sandbox writes tracking logs to a local lake only, got {lake_root!r}"
        raise ValueError(msg)
    root = lake_root.removeprefix("file://")
    written: list[str] = []
    for deployment in institution.deployments:
        base = landing_dir(root, deployment)
        manifest_path = base / MANIFEST_NAME
        key = _manifest_key(institution, deployment)
        if _manifest_matches(manifest_path, key):
            continue  # this exact institution's files are all there: skip generating them
        expected: set[Path] = set()
        for tracking_day in tracking_log_days(institution, deployment):
            folder = base / tracking_day.day.isoformat()
            for name in tracking_day.files:
                path = folder / name
                expected.add(path)
                data = tracking_day.file_bytes(name)
                if path.is_file() and path.read_bytes() == data:
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                # A unique temporary name: two writers never share one (and a crash leaves
                # nothing the next run trips over).
                tmp = path.with_name(f".{name}.{uuid.uuid4().hex}.tmp")
                tmp.write_bytes(data)
                tmp.replace(path)
                written.append(str(path))
        if base.is_dir():
            for stale in sorted(base.glob("*/tracking.log-*.gz")):
                if stale not in expected:
                    stale.unlink()
                    if not any(stale.parent.iterdir()):
                        stale.parent.rmdir()
        files = {str(p.relative_to(base)): p.stat().st_size for p in sorted(expected)}
        manifest_tmp = manifest_path.with_name(f".{MANIFEST_NAME}.{uuid.uuid4().hex}.tmp")
        manifest_tmp.write_text(json.dumps({"key": key, "files": files}, indent=1) + "\n")
        manifest_tmp.replace(manifest_path)
    return written


def _manifest_key(institution: Institution, deployment: str) -> str:
    return (
        f"{GENERATOR_VERSION}:{institution.seed}:{institution.courses}:{institution.learners}:"
        f"{institution.days}:{institution.anchor.isoformat()}:{deployment}"
    )


def _manifest_matches(manifest_path: Path, key: str) -> bool:
    """The landing folder holds exactly what the manifest says this institution wrote."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("key") != key:
        return False
    base = manifest_path.parent
    for name, size in manifest.get("files", {}).items():
        path = base / name
        if not path.is_file() or path.stat().st_size != size:
            return False
    present = {str(p.relative_to(base)) for p in base.glob("*/tracking.log-*.gz")}
    return present == set(manifest.get("files", {}))


# -- generation --------------------------------------------------------------------------------


# `tick(low, high)`: advance the session clock by a random number of seconds, return it.
_Tick = Callable[..., datetime]


@dataclass
class _Event:
    at: datetime
    worker: int
    line: str


class _DayWriter:
    """Collects the events of one day and renders them as log lines."""

    def __init__(self, rng: random.Random, deployment: str, day: date, workers: int) -> None:
        self.rng = rng
        self.deployment = deployment
        self.day = day
        self.workers = workers
        self.host = _HOSTS.get(deployment, f"{deployment}.example.edu")
        self.events: list[_Event] = []

    def emit(
        self,
        session: _Session,
        at: datetime,
        event_type: str,
        event_source: str,
        event: object,
        *,
        course_id: str | None,
        path: str,
        page: str | None = None,
        name: str | None = None,
        extra_context: dict | None = None,
    ) -> None:
        course = session.course
        context: dict[str, object] = {
            "course_id": course_id if course_id is not None else "",
            "org_id": course.org if (course_id and course is not None) else "",
            "path": path,
            "user_id": session.user_id_value(),
        }
        if event_source == "mobile":
            context["application"] = {"name": "edx.mobileapp.android", "version": "4.2.0"}
            context["client"] = {"device": {"model": "Pixel 7"}}
        if extra_context:
            context.update(extra_context)
        record: dict[str, object] = {
            "name": name or event_type,
            "context": context,
            "username": session.username,
            "session": session.session_id if event_source != "mobile" else "",
            "ip": session.ip,
            "agent": session.agent,
            "host": self.host,
            "referer": session.referer,
            "accept_language": session.language,
            "event": event,
            "time": _format_time(at, event_source),
            "event_type": event_type,
            "event_source": event_source,
            "page": page,
        }
        if name is None:
            del record["name"]
        self.events.append(_Event(at, session.worker, json.dumps(record, ensure_ascii=False)))

    def files(self) -> tuple[dict[str, list[str]], int, dict[str, int]]:
        ordered = sorted(self.events, key=lambda e: e.at)
        per_worker: dict[int, list[str]] = {w: [] for w in range(1, self.workers + 1)}
        for item in ordered:
            per_worker[item.worker].append(item.line)
        malformed: dict[str, int] = {}
        files: dict[str, list[str]] = {}
        for worker, lines in per_worker.items():
            files[file_name(self.day, worker)] = self._with_malformed(lines, malformed)
        return files, len(ordered), malformed

    def _with_malformed(self, lines: list[str], counts: dict[str, int]) -> list[str]:
        out: list[str] = []
        for line in lines:
            if self.rng.random() < 1 / MALFORMED_EVERY:
                kind = self.rng.choice(MALFORMED_KINDS)
                counts[kind] = counts.get(kind, 0) + 1
                if kind == "truncated_json":
                    out.append(line[: self.rng.randint(10, max(11, len(line) - 5))])
                elif kind == "syslog_prefix":
                    # An event the logger shipped behind its syslog header: the JSON is complete.
                    stamp = f"{self.day:%b} {self.day.day:>2} 03:14:15"
                    out.append(f"{stamp} lms-{self.rng.randint(1, 2)} tracking[2417]: {line}")
                    continue  # replaces the line (it is still an event)
                elif kind == "blank":
                    out.append("")
                else:
                    out.append(f"# logrotate: tracking.log reopened on {self.day.isoformat()}")
            out.append(line)
        return out


@dataclass
class _Session:
    rng: random.Random
    username: str
    user_id: int | None
    course: CourseRun | None
    session_id: str
    ip: str
    agent: str
    language: str
    worker: int
    mobile: bool
    referer: str = ""

    def user_id_value(self) -> object:
        if self.user_id is None:
            return None
        # Mobile events of some app versions carry the id as a string.
        return str(self.user_id) if self.mobile else self.user_id


def _format_time(at: datetime, event_source: str) -> str:
    if event_source == "mobile":
        # The apps stamp events themselves: `Z` and milliseconds.
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return at.isoformat()  # `+00:00`, microseconds when non-zero (as the LMS logs them)


def _generate_day(
    rng: random.Random, data: DeploymentData, user_ids: dict[str, int], day: date
) -> TrackingLogDay:
    workers = 2 if rng.random() < 0.5 else 1
    writer = _DayWriter(rng, data.name, day, workers)
    day_start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    day_end = day_start + timedelta(days=1)
    activity = _DAILY_ACTIVITY * (_WEEKEND_FACTOR if day.weekday() >= 5 else 1.0)

    for course in data.course_runs:
        for enrollment in data.enrollments.get(course.course_id, ()):
            created = datetime.fromisoformat(enrollment.created.replace("Z", "+00:00"))
            user_id = user_ids[enrollment.username]
            if day_start <= created < day_end:
                session = _new_session(rng, enrollment.username, user_id, course, workers)
                _enrollment_activated(writer, session, created, enrollment.mode)
                _course_session(writer, session, created + timedelta(seconds=30), day_end)
                continue
            if created >= day_start:
                continue
            if not enrollment.is_active:
                # Inactive enrollments end a few days after they began (deterministic per learner).
                days_active = 1 + _stable_int(f"{course.course_id}:{enrollment.username}") % 5
                unenrolled = created.date() + timedelta(days=days_active)
                if unenrolled == day:
                    session = _new_session(rng, enrollment.username, user_id, course, workers)
                    at = day_start + timedelta(seconds=rng.randrange(86_000))
                    _enrollment_deactivated(writer, session, at, enrollment.mode)
                if unenrolled <= day:
                    continue
            if rng.random() < activity:
                session = _new_session(rng, enrollment.username, user_id, course, workers)
                start = day_start + timedelta(seconds=rng.randrange(80_000))
                _course_session(writer, session, start, day_end)

    # Traffic outside any course: dashboards, and visitors who are not logged in.
    for username in rng.sample(data.usernames, k=min(len(data.usernames), 3 + rng.randrange(5))):
        session = _new_session(rng, username, user_ids[username], None, workers)
        at = day_start + timedelta(seconds=rng.randrange(86_000))
        writer.emit(
            session,
            at,
            "/dashboard",
            "server",
            json.dumps({"POST": {}, "GET": {}}),
            course_id=None,
            path="/dashboard",
            page=None,
        )
    for _ in range(1 + rng.randrange(3)):
        if not data.course_runs:
            break
        course = rng.choice(data.course_runs)
        session = _new_session(rng, "", None, course, workers)
        at = day_start + timedelta(seconds=rng.randrange(86_000))
        about = f"/courses/{course.course_id}/about"
        writer.emit(
            session,
            at,
            about,
            "server",
            json.dumps({"POST": {}, "GET": {}}),
            course_id=course.course_id,
            path=about,
        )

    files, events, malformed = writer.files()
    return TrackingLogDay(data.name, day, files, events, malformed)


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _new_session(
    rng: random.Random,
    username: str,
    user_id: int | None,
    course: CourseRun | None,
    workers: int,
) -> _Session:
    mobile = (
        user_id is not None
        and course is not None
        and course.mobile_available
        and rng.random() < 0.15
    )
    return _Session(
        rng=rng,
        username=username,
        user_id=user_id,
        course=course,
        session_id=f"{rng.getrandbits(128):032x}",
        ip=".".join(str(n) for n in (rng.randint(11, 223), *rng.choices(range(256), k=2), 7)),
        agent=rng.choice(_MOBILE_AGENTS if mobile else _BROWSER_AGENTS),
        language=rng.choice(_LANGUAGES),
        worker=rng.randint(1, workers),
        mobile=mobile,
    )


def _enrollment_activated(writer: _DayWriter, session: _Session, at: datetime, mode: str) -> None:
    assert session.course is not None
    course_id = session.course.course_id
    writer.emit(
        session,
        at,
        "edx.course.enrollment.activated",
        "server",
        {"course_id": course_id, "user_id": session.user_id, "mode": mode},
        course_id=course_id,
        path="/api/enrollment/v1/enrollment",
        name="edx.course.enrollment.activated",
    )
    if mode == "verified" and writer.rng.random() < 0.5:
        writer.emit(
            session,
            at + timedelta(seconds=2),
            "edx.course.enrollment.mode_changed",
            "server",
            {"course_id": course_id, "user_id": session.user_id, "mode": mode},
            course_id=course_id,
            path="/api/enrollment/v1/enrollment",
            name="edx.course.enrollment.mode_changed",
        )


def _enrollment_deactivated(writer: _DayWriter, session: _Session, at: datetime, mode: str) -> None:
    assert session.course is not None
    course_id = session.course.course_id
    writer.emit(
        session,
        at,
        "edx.course.enrollment.deactivated",
        "server",
        {"course_id": course_id, "user_id": session.user_id, "mode": mode},
        course_id=course_id,
        path="/change_enrollment",
        name="edx.course.enrollment.deactivated",
    )


def _course_session(writer: _DayWriter, session: _Session, start: datetime, end: datetime) -> None:
    """A learner's visit to a course: navigation, videos, problems, now and then the forum."""
    rng = session.rng
    course = session.course
    assert course is not None
    sequentials = [b for b in course.blocks if b.block_type == "sequential"]
    if not sequentials:
        return
    by_key = {b.usage_key: b for b in course.blocks}
    chapter_of = {
        child: b for b in course.blocks if b.block_type == "chapter" for child in b.children
    }
    clock = [start]

    def tick(low: float = 2, high: float = 90) -> datetime:
        clock[0] = clock[0] + timedelta(seconds=rng.uniform(low, high))
        return min(clock[0], end - timedelta(microseconds=1))

    course_url = f"/courses/{course.course_id}"
    courseware = f"https://{writer.host}{course_url}/courseware"
    session.referer = f"https://{writer.host}/dashboard"
    if not session.mobile:
        writer.emit(
            session,
            tick(0, 1),
            f"{course_url}/course/",
            "server",
            json.dumps({"POST": {}, "GET": {}}),
            course_id=course.course_id,
            path=f"{course_url}/course/",
        )
    index = rng.randrange(len(sequentials))
    for visit in range(1 + rng.randrange(3)):
        sequential = sequentials[(index + visit) % len(sequentials)]
        chapter = chapter_of.get(sequential.usage_key)
        seq_path = (
            f"{course_url}/courseware/{chapter.block_id if chapter else 'x'}/{sequential.block_id}/"
        )
        # The learning micro-frontend's URL of the same place.
        page = (
            f"https://apps.{writer.host}/learning/course/{course.course_id}/{sequential.usage_key}"
        )
        if not session.mobile:
            if visit == 0 and rng.random() < 0.5:
                writer.emit(
                    session,
                    tick(),
                    "edx.ui.lms.outline.selected",
                    "browser",
                    json.dumps(
                        {"target_name": sequential.display_name, "target_url": seq_path},
                        ensure_ascii=False,
                    ),
                    course_id=course.course_id,
                    path=f"{course_url}/course/",
                    page=f"https://{writer.host}{course_url}/course/",
                )
            writer.emit(
                session,
                tick(),
                seq_path,
                "server",
                json.dumps({"POST": {}, "GET": {}}),
                course_id=course.course_id,
                path=seq_path,
            )
            if visit > 0:
                nav = "edx.ui.lms.sequence.next_selected"
                if rng.random() < 0.2:
                    nav = "edx.ui.lms.sequence.previous_selected"
                writer.emit(
                    session,
                    tick(1, 5),
                    nav,
                    "browser",
                    json.dumps(
                        {
                            "current_tab": 1,
                            "id": sequential.usage_key,
                            "tab_count": len(sequential.children),
                            "target_tab": 1,
                            "widget_placement": rng.choice(("top", "bottom")),
                        }
                    ),
                    course_id=course.course_id,
                    path=seq_path,
                    page=page,
                    name=nav,
                )
        for position, vertical_key in enumerate(sequential.children, start=1):
            vertical = by_key[vertical_key]
            if position > 1 and not session.mobile:
                event_type = rng.choice(
                    ("edx.ui.lms.sequence.tab_selected", "seq_goto")
                    if rng.random() < 0.1
                    else ("edx.ui.lms.sequence.tab_selected",)
                )
                writer.emit(
                    session,
                    tick(1, 10),
                    event_type,
                    "browser",
                    json.dumps(
                        {
                            "current_tab": position - 1,
                            "id": sequential.usage_key,
                            "tab_count": len(sequential.children),
                            "target_tab": position,
                        }
                    ),
                    course_id=course.course_id,
                    path=seq_path,
                    page=page,
                )
            for leaf_key in vertical.children:
                leaf = by_key[leaf_key]
                if leaf.block_type == "video":
                    _watch_video(writer, session, leaf, tick, seq_path, page)
                elif leaf.block_type == "problem" and not session.mobile:
                    _attempt_problem(writer, session, leaf, tick, seq_path, page)
                elif leaf.block_type == "html" and not session.mobile and rng.random() < 0.1:
                    writer.emit(
                        session,
                        tick(),
                        "edx.ui.lms.link_clicked",
                        "browser",
                        {"current_url": page, "target_url": "https://ocw.mit.edu/"},
                        course_id=course.course_id,
                        path=seq_path,
                        page=page,
                    )
            if rng.random() < 0.03 and not session.mobile:
                writer.emit(
                    session,
                    tick(),
                    "edx.bookmark.added",
                    "server",
                    {
                        "bookmark_id": f"{session.username},{vertical.usage_key}",
                        "component_type": "vertical",
                        "component_usage_id": vertical.usage_key,
                        "course_id": course.course_id,
                    },
                    course_id=course.course_id,
                    path="/api/bookmarks/v1/bookmarks/",
                    name="edx.bookmark.added",
                )
    if not session.mobile and rng.random() < 0.12:
        _forum(writer, session, tick, course_url)
    if not session.mobile and rng.random() < 0.6:
        writer.emit(
            session,
            tick(),
            "page_close",
            "browser",
            "",
            course_id=course.course_id,
            path=f"{course_url}/courseware/",
            page=courseware,
        )


def _video_duration(block: Block) -> float:
    return 120.0 + _stable_int(block.usage_key) % 780


def _watch_video(
    writer: _DayWriter, session: _Session, block: Block, tick: _Tick, seq_path: str, page: str
) -> None:
    rng = session.rng
    course = session.course
    assert course is not None
    duration = _video_duration(block)
    if session.mobile:
        # The apps log the usage key, `event` as an object, and newer event names.
        def mobile(event_type: str, name: str, **payload: object) -> None:
            writer.emit(
                session,
                tick(1, 20),
                event_type,
                "mobile",
                {"id": block.usage_key, "code": "mobile", **payload},
                course_id=course.course_id,
                path=f"/courses/{course.course_id}/",
                name=name,
                extra_context={"module": {"display_name": block.display_name}},
            )

        mobile("load_video", "edx.video.loaded")
        mobile("play_video", "edx.video.played", currentTime=0.0)
        watched = round(rng.uniform(0.2, 1.0) * duration, 3)
        clock_jump = min(watched, 600)
        tick(clock_jump * 0.9, clock_jump)
        mobile("pause_video", "edx.video.paused", currentTime=watched)
        return

    def browser(event_type: str, **payload: object) -> None:
        writer.emit(
            session,
            tick(1, 8),
            event_type,
            "browser",
            json.dumps({"id": block.usage_key, "code": "html5", **payload}),
            course_id=course.course_id,
            path=seq_path,
            page=page,
        )

    browser("load_video", duration=duration)
    if rng.random() < 0.15:
        return  # loaded, never played
    if rng.random() < 0.2:
        writer.emit(
            session,
            tick(1, 3),
            "edx.video.closed_captions.shown",
            "browser",
            json.dumps({"id": block.usage_key, "code": "html5", "current_time": 0}),
            course_id=course.course_id,
            path=seq_path,
            page=page,
            name="edx.video.closed_captions.shown",
        )
    position = 0.0
    for _ in range(1 + rng.randrange(3)):
        browser("play_video", currentTime=round(position, 3), duration=duration)
        watched = rng.uniform(0.1, 0.7) * (duration - position)
        tick(min(watched, 600) * 0.9, min(watched, 600))
        position = min(duration, position + watched)
        if rng.random() < 0.25:
            target = round(rng.uniform(0, duration), 3)
            browser(
                "seek_video",
                old_time=round(position, 3),
                new_time=target,
                type="onSlideSeek",
                duration=duration,
            )
            position = target
        if rng.random() < 0.08:
            browser(
                "speed_change_video",
                current_time=round(position, 3),
                old_speed="1.0",
                new_speed="1.5",
            )
        if position >= duration - 1:
            break
        browser("pause_video", currentTime=round(position, 3), duration=duration)
    if position >= duration * 0.9 or rng.random() < 0.1:
        browser("stop_video", currentTime=round(min(position, duration), 3), duration=duration)


def _attempt_problem(
    writer: _DayWriter, session: _Session, block: Block, tick: _Tick, seq_path: str, page: str
) -> None:
    rng = session.rng
    course = session.course
    assert course is not None
    usage_key = block.usage_key
    short = block.block_id
    if rng.random() < 0.3:
        return  # looked at it, did not answer
    writer.emit(
        session,
        tick(),
        "problem_show",
        "browser",
        json.dumps({"problem": usage_key}),
        course_id=course.course_id,
        path=seq_path,
        page=page,
    )
    max_grade = 1 + _stable_int(usage_key) % 3
    correct_choice = f"choice_{_stable_int(usage_key + ':answer') % 4}"
    input_id = f"{short}_2_1"
    module = {"display_name": block.display_name, "usage_key": usage_key}
    for attempt in range(1, 4):
        choice = f"choice_{rng.randrange(4)}"
        success = choice == correct_choice or rng.random() < 0.35
        choice = correct_choice if success else choice
        grade = max_grade if success else 0
        encoded = f"input_{input_id}={choice}"
        # The browser logs the form it posted, URL-encoded: not JSON.
        writer.emit(
            session,
            tick(5, 120),
            "problem_check",
            "browser",
            encoded,
            course_id=course.course_id,
            path=seq_path,
            page=page,
        )
        at = tick(0.1, 0.5)
        writer.emit(
            session,
            at,
            "problem_check",
            "server",
            {
                "answers": {input_id: choice},
                "attempts": attempt,
                "correct_map": {
                    input_id: {
                        "correctness": "correct" if success else "incorrect",
                        "hint": "",
                        "hintmode": None,
                        "msg": "",
                        "npoints": None,
                        "queuestate": None,
                    }
                },
                "grade": grade,
                "max_grade": max_grade,
                "problem_id": usage_key,
                "state": {"done": attempt > 1, "seed": 1, "student_answers": {}},
                "submission": {
                    input_id: {
                        "answer": choice,
                        "correct": success,
                        "input_type": "choicegroup",
                        "question": "Which of these is right?",
                        "response_type": "multiplechoiceresponse",
                        "variant": "",
                    }
                },
                "success": "correct" if success else "incorrect",
            },
            course_id=course.course_id,
            path=f"/courses/{course.course_id}/xblock/{usage_key}/handler/xmodule_handler/problem_check",
            extra_context={"module": module, "asides": {}},
        )
        writer.emit(
            session,
            at + timedelta(milliseconds=3),
            "edx.grades.problem.submitted",
            "server",
            {
                "problem_id": usage_key,
                "weighted_earned": grade,
                "weighted_possible": max_grade,
                "event_transaction_id": f"{rng.getrandbits(128):032x}",
                "event_transaction_type": "edx.grades.problem.submitted",
            },
            course_id=course.course_id,
            path=f"/courses/{course.course_id}/xblock/{usage_key}/handler/xmodule_handler/problem_check",
            name="edx.grades.problem.submitted",
            extra_context={"module": module},
        )
        # The browser's `problem_graded`: `event` is a list [answers, rendered html].
        writer.emit(
            session,
            tick(0.2, 1),
            "problem_graded",
            "browser",
            [encoded, f'<div class="problem"><p>{"Correct" if success else "Incorrect"}</p></div>'],
            course_id=course.course_id,
            path=seq_path,
            page=page,
        )
        # The grade recalculation runs in a celery task.
        writer.emit(
            session,
            at + timedelta(seconds=rng.uniform(1, 5)),
            "edx.grades.subsection.grade_calculated",
            "task",
            {
                "user_id": str(session.user_id),
                "course_id": course.course_id,
                "block_id": usage_key,
                "weighted_total_earned": grade,
                "weighted_total_possible": max_grade,
                "event_transaction_type": "edx.grades.problem.submitted",
            },
            course_id=course.course_id,
            path="",
            name="edx.grades.subsection.grade_calculated",
        )
        if success:
            break
        if rng.random() < 0.25:
            writer.emit(
                session,
                tick(),
                "showanswer",
                "server",
                {"problem_id": usage_key},
                course_id=course.course_id,
                path=f"/courses/{course.course_id}/xblock/{usage_key}/handler/xmodule_handler/problem_show",
                extra_context={"module": module},
            )
            break
        if rng.random() < 0.3:
            writer.emit(
                session,
                tick(),
                "problem_reset",
                "browser",
                quote(f"input_{input_id}={choice}", safe="=_"),
                course_id=course.course_id,
                path=seq_path,
                page=page,
            )
            writer.emit(
                session,
                tick(0.1, 0.4),
                "reset_problem",
                "server",
                {"problem_id": usage_key, "old_state": {}, "new_state": {}},
                course_id=course.course_id,
                path=f"/courses/{course.course_id}/xblock/{usage_key}/handler/xmodule_handler/problem_reset",
                extra_context={"module": module},
            )
        elif rng.random() < 0.2:
            writer.emit(
                session,
                tick(),
                "problem_save",
                "server",
                {"problem_id": usage_key, "answers": {input_id: choice}, "state": {}},
                course_id=course.course_id,
                path=f"/courses/{course.course_id}/xblock/{usage_key}/handler/xmodule_handler/problem_save",
                extra_context={"module": module},
            )


def _forum(writer: _DayWriter, session: _Session, tick: _Tick, course_url: str) -> None:
    rng = session.rng
    course = session.course
    assert course is not None
    thread_id = f"{rng.getrandbits(96):024x}"
    discussion = f"{course_url}/discussion/forum/"
    writer.emit(
        session,
        tick(),
        "edx.forum.thread.viewed",
        "server",
        {"id": thread_id, "commentable_id": "course", "title": rng.choice(_FORUM_TITLES)},
        course_id=course.course_id,
        path=f"{discussion}course/threads/{thread_id}",
        name="edx.forum.thread.viewed",
    )
    kind = rng.choice(("thread", "response", "comment"))
    body = "Thanks — this helped a lot! " * rng.randint(1, 4)
    writer.emit(
        session,
        tick(30, 300),
        f"edx.forum.{kind}.created",
        "server",
        {
            "id": f"{rng.getrandbits(96):024x}",
            "commentable_id": "course",
            "discussion": {"id": thread_id},
            "body": body.strip(),
            "truncated": False,
            "title": rng.choice(_FORUM_TITLES) if kind == "thread" else None,
            "anonymous": False,
            "user_forums_roles": ["Student"],
        },
        course_id=course.course_id,
        path=f"{discussion}course/threads/create",
        name=f"edx.forum.{kind}.created",
    )
