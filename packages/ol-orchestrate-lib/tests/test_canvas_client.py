"""CanvasClient against the sandbox: pagination, throttling, permissions, ids, exports, hashes."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from ol_orchestrate.lib.http import RetryBudgetExhaustedError
from ol_orchestrate.resources.canvas import (
    CanvasClient,
    CanvasExportError,
    CanvasExportTimeoutError,
    CanvasPermissionError,
    imscc_content_hash,
    normalize_manifest,
)
from ol_sandbox.canvas import CANVAS_SANDBOX_TOKEN, FIRST_COURSE_ID, build_imscc
from ol_sandbox.data import Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

COURSE = str(FIRST_COURSE_ID)


class FakeTime:
    """A clock and a sleep that advances it: waits take no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_client(server: SandboxServer, fake_time: FakeTime, **kwargs: Any) -> CanvasClient:
    return CanvasClient(
        server.canvas_url,
        CANVAS_SANDBOX_TOKEN,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        rng=random.Random(0),  # noqa: S311
        **kwargs,
    )


@pytest.fixture
def client(sandbox: SandboxServer, fake_time: FakeTime) -> Iterator[CanvasClient]:
    with make_client(sandbox, fake_time) as api:
        yield api


def canvas_requests(server: SandboxServer, fragment: str = "") -> list[Any]:
    return [r for r in server.requests if r.path.startswith("/canvas/") and fragment in r.path]


# -- pagination and ids ------------------------------------------------------------------------


def test_pagination_follows_next_links_with_per_page_100(
    sandbox: SandboxServer, client: CanvasClient
) -> None:
    course = sandbox.canvas.data.courses[0]
    submissions = list(client.iter_submissions(COURSE))
    assert [s["id"] for s in submissions] == [s.id for s in course.submissions]
    first = canvas_requests(sandbox, "submissions")[0]
    assert parse_qs(first.query) == {"student_ids[]": ["all"], "per_page": ["100"]}


def test_small_pages_follow_bookmarks_exactly(sandbox: SandboxServer, fake_time: FakeTime) -> None:
    course = sandbox.canvas.data.courses[0]
    with make_client(sandbox, fake_time, per_page=5) as api:
        submissions = list(api.iter_submissions(COURSE))
    assert len(submissions) == len(course.submissions)
    pages = canvas_requests(sandbox, "submissions")
    assert len(pages) == -(-len(course.submissions) // 5)
    for page in pages[1:]:  # every later page is exactly the server's next link
        query = parse_qs(page.query)
        assert query["page"][0].startswith("bookmark:")
        assert query["per_page"] == ["5"]
        assert query["student_ids[]"] == ["all"]


def test_per_page_is_capped_at_100(sandbox: SandboxServer, fake_time: FakeTime) -> None:
    with make_client(sandbox, fake_time, per_page=1000) as api:
        assert api.per_page == 100
        list(api.iter_sections(COURSE))
    assert parse_qs(canvas_requests(sandbox, "sections")[0].query)["per_page"] == ["100"]


def test_string_ids_are_accepted(sandbox: SandboxServer, fake_time: FakeTime) -> None:
    with make_client(sandbox, fake_time, string_ids=True) as api:
        enrollments = list(api.iter_enrollments(COURSE))
        modules = list(api.iter_modules_with_items(COURSE))
        course = api.get_course(COURSE)
    assert all(isinstance(e["id"], str) for e in enrollments)
    assert isinstance(course["id"], str)
    assert isinstance(course["term"]["id"], str)
    assert all(isinstance(i["module_id"], str) for m in modules for i in m["items"])


def test_module_items_are_fetched_when_not_inlined(
    sandbox: SandboxServer, client: CanvasClient
) -> None:
    sandbox.canvas.inline_items_limit = 0
    course = sandbox.canvas.data.courses[0]
    modules = list(client.iter_modules_with_items(COURSE))
    assert [len(m["items"]) for m in modules] == [len(m.items) for m in course.modules]
    assert len(canvas_requests(sandbox, "/items")) == len(course.modules)


def test_enrollments_and_users_in_every_state(sandbox: SandboxServer, client: CanvasClient) -> None:
    course = sandbox.canvas.data.courses[0]
    assert len(list(client.iter_enrollments(COURSE))) == len(course.enrollments)
    users = list(client.iter_users(COURSE))
    assert {u["id"] for u in users} == {e.user_id for e in course.enrollments}
    assert all(u["email"] for u in users)


def test_account_courses_with_term_filter(sandbox: SandboxServer, client: CanvasClient) -> None:
    data = sandbox.canvas.data
    assert [c["id"] for c in client.iter_account_courses(1)] == [c.id for c in data.courses]
    term = data.courses[0].enrollment_term_id
    in_term = list(client.iter_account_courses("1", enrollment_term_id=term))
    assert [c["id"] for c in in_term] == [
        c.id for c in data.courses if c.enrollment_term_id == term
    ]


# -- throttling and permissions ------------------------------------------------------------------


def test_403_rate_limit_exceeded_is_retried(
    sandbox: SandboxServer, client: CanvasClient, fake_time: FakeTime
) -> None:
    sandbox.faults.inject("/sections", "canvas_throttle", count=3)
    sections = list(client.iter_sections(COURSE))
    assert len(sections) == len(sandbox.canvas.data.courses[0].sections)
    assert [r.status for r in canvas_requests(sandbox, "sections")] == [403, 403, 403, 200]
    assert len(fake_time.sleeps) == 3  # backed off before each retry
    assert fake_time.sleeps[1] > fake_time.sleeps[0] / 2


def test_429_is_retried(sandbox: SandboxServer, client: CanvasClient, fake_time: FakeTime) -> None:
    sandbox.faults.inject("/pages", "rate_limit", count=2, retry_after=7)
    assert list(client.iter_wiki_pages(COURSE))
    assert fake_time.sleeps == [7, 7]


def test_throttling_without_end_exhausts_the_retry_budget(
    sandbox: SandboxServer, fake_time: FakeTime
) -> None:
    sandbox.faults.inject("/folders", "canvas_throttle", count=50)
    with (
        make_client(sandbox, fake_time, max_retries=2) as api,
        pytest.raises(RetryBudgetExhaustedError, match=r"after 3 attempts.*throttled"),
    ):
        list(api.iter_folders(COURSE))


def test_the_real_bucket_throttles_and_the_client_recovers(
    sandbox_institution: Institution, fake_time: FakeTime
) -> None:
    # The sandbox's bucket leaks on the same fake clock the client sleeps on.
    with SandboxServer(sandbox_institution, fault_config=FaultConfig(), clock=fake_time.clock) as s:
        s.canvas.rate_limit_capacity = 8.0
        s.canvas.preflight_penalty = 2.0
        s.canvas.request_cost = 3.0
        with make_client(s, fake_time, per_page=3, rate_limit_threshold=0) as api:
            submissions = list(api.iter_submissions(COURSE))
        assert len(submissions) == len(s.canvas.data.courses[0].submissions)
        assert 403 in [r.status for r in canvas_requests(s)]


def test_client_slows_down_before_the_bucket_runs_dry(
    sandbox_institution: Institution, fake_time: FakeTime
) -> None:
    with SandboxServer(sandbox_institution, fault_config=FaultConfig(), clock=fake_time.clock) as s:
        s.canvas.rate_limit_capacity = 150.0
        s.canvas.request_cost = 20.0  # remaining after each call: 130, 110, 90, ...
        with make_client(s, fake_time) as api:
            api.get_course(COURSE)
            api.get_course(COURSE)
            assert api.slowdowns == []
            api.get_course(COURSE)  # 90 left: 10 under the threshold of 100
            assert api.rate_limit_remaining == pytest.approx(90.0)
            assert api.slowdowns == [pytest.approx(1.0)]  # deficit / 10 units per second
            for _ in range(5):
                api.get_course(COURSE)
            assert api.last_request_cost == 20.0
        # Each pause lets the bucket leak what the next call costs: it never runs dry.
        assert api.slowdowns[-3:] == [pytest.approx(2.0)] * 3
        assert fake_time.sleeps == api.slowdowns
        assert {r.status for r in canvas_requests(s)} == {200}


def test_other_403_is_a_permission_error_and_not_retried(
    sandbox: SandboxServer, client: CanvasClient
) -> None:
    sandbox.canvas.forbidden_courses.add(COURSE)
    with pytest.raises(CanvasPermissionError) as caught:
        list(client.iter_users(COURSE))
    error = caught.value
    assert error.status == 403
    assert f"/api/v1/courses/{COURSE}/users" in error.endpoint
    assert f"/api/v1/courses/{COURSE}/users" in str(error)
    assert "user not authorized to perform that action" in str(error)
    assert CANVAS_SANDBOX_TOKEN not in str(error)
    assert len(canvas_requests(sandbox, "/users")) == 1


def test_not_found_is_not_a_permission_error(client: CanvasClient) -> None:
    with pytest.raises(Exception, match="HTTP 404") as caught:
        client.get_course("424242")
    assert not isinstance(caught.value, CanvasPermissionError)


# -- content exports ---------------------------------------------------------------------------


def test_export_workflow_success(
    sandbox: SandboxServer, client: CanvasClient, fake_time: FakeTime
) -> None:
    sandbox.canvas.export_polls = 4
    completed = client.export_course(COURSE, timeout_s=60, poll_interval_s=2)
    assert completed.export["workflow_state"] == "exported"
    assert len(completed.data) == completed.export["attachment"]["size"]
    with zipfile.ZipFile(io.BytesIO(completed.data)) as archive:
        assert "imsmanifest.xml" in archive.namelist()
    polls = [r for r in canvas_requests(sandbox, "/content_exports/") if r.method == "GET"]
    assert len(polls) == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]  # growing intervals, capped at poll_interval_s


def test_failed_export_names_its_state(sandbox: SandboxServer, client: CanvasClient) -> None:
    sandbox.canvas.failed_export_courses.add(COURSE)
    with pytest.raises(CanvasExportError, match="workflow_state 'failed'") as caught:
        client.export_course(COURSE, timeout_s=60, poll_interval_s=1)
    assert caught.value.workflow_state == "failed"
    assert caught.value.course_id == COURSE
    assert not isinstance(caught.value, CanvasExportTimeoutError)


def test_export_wait_is_bounded(
    sandbox: SandboxServer, client: CanvasClient, fake_time: FakeTime
) -> None:
    sandbox.canvas.export_polls = 10_000
    started = client.start_content_export(COURSE)
    assert started["workflow_state"] == "created"
    with pytest.raises(CanvasExportTimeoutError, match=r"within 30s.*'exporting'") as caught:
        client.wait_for_export(COURSE, started["id"], timeout_s=30, poll_interval_s=5)
    assert caught.value.workflow_state == "exporting"
    assert caught.value.export_id == str(started["id"])
    assert sum(fake_time.sleeps) == pytest.approx(30)
    assert max(fake_time.sleeps) <= 5


def test_download_survives_a_server_error(sandbox: SandboxServer, client: CanvasClient) -> None:
    sandbox.faults.inject("/download", "server_error", status=502)
    completed = client.export_course(COURSE, timeout_s=60, poll_interval_s=1)
    assert imscc_content_hash(completed.data)


# -- content hash ------------------------------------------------------------------------------


def test_unchanged_course_hashes_the_same(sandbox: SandboxServer, client: CanvasClient) -> None:
    first = client.export_course(COURSE, timeout_s=60, poll_interval_s=1)
    second = client.export_course(COURSE, timeout_s=60, poll_interval_s=1)
    assert first.data != second.data  # new manifest dates and zip entry times
    assert imscc_content_hash(first.data) == imscc_content_hash(second.data)
    sandbox.canvas.content_revisions[COURSE] = 1
    edited = client.export_course(COURSE, timeout_s=60, poll_interval_s=1)
    assert imscc_content_hash(edited.data) != imscc_content_hash(first.data)


def test_content_hash_sees_every_member(sandbox_institution: Institution) -> None:
    from ol_sandbox.canvas import CanvasData

    data = CanvasData.for_institution(sandbox_institution)
    blob = build_imscc(data.courses[0], data.now)
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}

    def rezip(items: dict[str, bytes]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name in reversed(list(items)):  # member order does not matter
                archive.writestr(name, items[name])
        return out.getvalue()

    assert imscc_content_hash(rezip(members)) == imscc_content_hash(blob)
    page = next(name for name in members if name.startswith("wiki_content/"))
    assert imscc_content_hash(rezip({**members, page: b"changed"})) != imscc_content_hash(blob)
    renamed = {("x" + k if k == page else k): v for k, v in members.items()}
    assert imscc_content_hash(rezip(renamed)) != imscc_content_hash(blob)
    manifest = members["imsmanifest.xml"].decode()
    changed_manifest = manifest.replace("<resources>", '<resources><resource identifier="new"/>')
    assert imscc_content_hash(
        rezip({**members, "imsmanifest.xml": changed_manifest.encode()})
    ) != imscc_content_hash(blob)
    with pytest.raises(ValueError, match="not a Common Cartridge"):
        imscc_content_hash(b"not a zip")


def test_normalize_manifest_drops_timestamps_only() -> None:
    a = (
        '<manifest identifier="g1"><lomimscc:date><lomimscc:dateTime>2026-01-19'
        '</lomimscc:dateTime></lomimscc:date><item modified="2026-01-19T10:00:00Z">A</item>'
        "<!-- exported 2026-01-19T10:00:00Z --></manifest>"
    )
    b = a.replace("2026-01-19", "2027-03-02").replace("10:00:00Z", "11:30:00+02:00")
    assert normalize_manifest(a) == normalize_manifest(b)
    assert normalize_manifest(a) != normalize_manifest(a.replace(">A<", ">B<"))
    assert "dateTime" not in normalize_manifest(a)
