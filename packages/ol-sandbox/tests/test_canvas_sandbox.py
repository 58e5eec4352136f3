"""The sandbox's Canvas serves the real paths, auth, pagination, throttling and export workflow."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ol_sandbox.canvas import (
    CANVAS_SANDBOX_TOKEN,
    FIRST_COURSE_ID,
    THROTTLE_BODY,
    CanvasData,
    build_imscc,
)
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

AUTH = {"Authorization": f"Bearer {CANVAS_SANDBOX_TOKEN}"}
COURSE = str(FIRST_COURSE_ID)


def api(server: SandboxServer, path: str) -> str:
    return f"{server.canvas_url}/api/v1/{path.lstrip('/')}"


def links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="([a-z]+)"', header)}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- data --------------------------------------------------------------------------------------


def test_data_is_deterministic_with_stable_course_ids(institution: Institution) -> None:
    first = CanvasData.for_institution(institution)
    again = CanvasData.for_institution(Institution.generate(seed=42, **SIZES["small"]))
    assert first == again
    assert first.course_ids == [str(FIRST_COURSE_ID + i) for i in range(institution.courses)]
    other_seed = CanvasData.for_institution(Institution.generate(seed=7, **SIZES["small"]))
    assert other_seed.course_ids == first.course_ids  # ids stable, content not
    assert other_seed.courses != first.courses
    # adding courses does not change the existing ones
    bigger = CanvasData.for_institution(
        Institution.generate(seed=42, **{**SIZES["small"], "courses": 6})
    )
    assert bigger.courses[0].assignments == first.courses[0].assignments


def test_submissions_are_consistent(institution: Institution) -> None:
    data = CanvasData.for_institution(institution)
    for course in data.courses:
        assert len(course.submissions) == len(course.students) * len(course.assignments)
        for submission in course.submissions:
            assert not (submission.late and submission.submitted_at is None)
            assert not (submission.missing and submission.submitted_at is not None)
            if submission.excused:
                assert submission.score is None
            if submission.late:
                assert submission.seconds_late > 0


# -- auth, routing, pagination -------------------------------------------------------------------


def test_bearer_token_is_required(server: SandboxServer, call: Any) -> None:
    missing = call(api(server, f"courses/{COURSE}"))
    assert missing.status == 401
    assert missing.json()["errors"][0]["message"] == "user authorization required"
    wrong = call(api(server, f"courses/{COURSE}"), headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    assert wrong.json() == {"errors": [{"message": "Invalid access token."}]}
    assert call(api(server, "courses/99999"), headers=AUTH).status == 404
    assert call(api(server, "nothing/here"), headers=AUTH).status == 404
    ok = call(api(server, f"courses/{COURSE}"), headers=AUTH)
    assert ok.status == 200
    assert ok.json()["id"] == FIRST_COURSE_ID


def test_course_includes_term_and_account(server: SandboxServer, call: Any) -> None:
    reply = call(api(server, f"courses/{COURSE}?include[]=term&include[]=account"), headers=AUTH)
    body = reply.json()
    assert body["term"]["id"] == body["enrollment_term_id"]
    assert body["account"]["id"] == body["account_id"]
    plain = call(api(server, f"courses/{COURSE}"), headers=AUTH).json()
    assert "term" not in plain
    assert "account" not in plain


def test_link_pagination_with_per_page(server: SandboxServer, call: Any) -> None:
    course = server.canvas.data.courses[0]
    url: str | None = api(server, f"courses/{COURSE}/students/submissions")
    url += "?student_ids[]=all&per_page=7"
    seen: list[int] = []
    pages = 0
    while url:
        reply = call(url, headers=AUTH)
        assert reply.status == 200
        page_links = links(reply.headers["Link"])
        assert {"current", "first"} <= set(page_links)
        assert "last" not in page_links  # bookmarks: Canvas does not know the last page
        seen.extend(item["id"] for item in reply.json())
        url = page_links.get("next")
        if url:
            query = parse_qs(urlsplit(url).query)
            assert query["page"][0].startswith("bookmark:")
            assert query["student_ids[]"] == ["all"]
        pages += 1
    assert seen == [s.id for s in course.submissions]
    assert pages == -(-len(course.submissions) // 7)


def test_numbered_pages_have_last_and_per_page_is_capped(server: SandboxServer, call: Any) -> None:
    reply = call(api(server, f"courses/{COURSE}/sections?per_page=500"), headers=AUTH)
    page_links = links(reply.headers["Link"])
    assert parse_qs(urlsplit(page_links["last"]).query)["per_page"] == ["100"]
    assert "next" not in page_links
    reply = call(api(server, "accounts/1/courses?per_page=1&page=2"), headers=AUTH)
    page_links = links(reply.headers["Link"])
    assert [c["id"] for c in reply.json()] == [FIRST_COURSE_ID + 1]
    assert parse_qs(urlsplit(page_links["prev"]).query)["page"] == ["1"]
    assert parse_qs(urlsplit(page_links["next"]).query)["page"] == ["3"]


def test_account_courses_filter_by_subaccount_and_term(server: SandboxServer, call: Any) -> None:
    data = server.canvas.data
    everything = call(api(server, "accounts/1/courses?per_page=100"), headers=AUTH).json()
    assert [c["id"] for c in everything] == [c.id for c in data.courses]
    open_learning = call(api(server, "accounts/2/courses?per_page=100"), headers=AUTH).json()
    assert {c["account_id"] for c in open_learning} <= {2, 4}  # 4 is a sub-account of 2
    term = data.courses[0].enrollment_term_id
    in_term = call(
        api(server, f"accounts/1/courses?per_page=100&enrollment_term_id={term}"), headers=AUTH
    ).json()
    assert in_term
    assert {c["enrollment_term_id"] for c in in_term} == {term}
    assert call(api(server, "accounts/999/courses"), headers=AUTH).status == 404


def test_enrollments_and_users_default_to_active_and_invited(
    server: SandboxServer, call: Any
) -> None:
    course = server.canvas.data.courses[0]
    default = call(api(server, f"courses/{COURSE}/enrollments?per_page=100"), headers=AUTH)
    assert {e["enrollment_state"] for e in default.json()} <= {"active", "invited"}
    states = "&".join(
        f"state[]={s}" for s in ("active", "invited", "inactive", "completed", "rejected")
    )
    every = call(api(server, f"courses/{COURSE}/enrollments?per_page=100&{states}"), headers=AUTH)
    assert len(every.json()) == len(course.enrollments)
    users = call(api(server, f"courses/{COURSE}/users?per_page=100&include[]=email"), headers=AUTH)
    assert all("email" in user for user in users.json())


def test_string_ids_on_request(server: SandboxServer, call: Any) -> None:
    headers = {**AUTH, "Accept": "application/json+canvas-string-ids"}
    body = call(api(server, f"courses/{COURSE}/enrollments"), headers=headers).json()
    assert isinstance(body[0]["id"], str)
    assert isinstance(body[0]["user_id"], str)
    assert isinstance(body[0]["user"]["id"], str)


def test_modules_inline_items_unless_too_numerous(server: SandboxServer, call: Any) -> None:
    server.canvas.inline_items_limit = 2
    modules = call(
        api(server, f"courses/{COURSE}/modules?include[]=items&per_page=100"), headers=AUTH
    ).json()
    for module in modules:
        assert ("items" in module) == (module["items_count"] <= 2)
    big = next(m for m in modules if "items" not in m)
    items = call(big["items_url"] + "?per_page=100", headers=AUTH).json()
    assert len(items) == big["items_count"]


# -- throttling and permissions ------------------------------------------------------------------


def test_every_response_reports_cost_and_remaining(server: SandboxServer, call: Any) -> None:
    first = call(api(server, f"courses/{COURSE}"), headers=AUTH)
    second = call(api(server, f"courses/{COURSE}"), headers=AUTH)
    assert float(first.headers["X-Request-Cost"]) > 0
    assert float(second.headers["X-Rate-Limit-Remaining"]) < float(
        first.headers["X-Rate-Limit-Remaining"]
    )


def test_leaky_bucket_throttles_with_403_and_recovers(institution: Institution, call: Any) -> None:
    clock = FakeClock()
    with SandboxServer(institution, fault_config=FaultConfig(), clock=clock) as server:
        server.canvas.rate_limit_capacity = 10.0
        server.canvas.preflight_penalty = 2.0
        server.canvas.request_cost = 3.0
        url = api(server, f"courses/{COURSE}")
        statuses = [call(url, headers=AUTH).status for _ in range(4)]
        assert statuses == [200, 200, 200, 403]
        throttled = call(url, headers=AUTH)
        assert throttled.status == 403
        assert throttled.body == THROTTLE_BODY
        assert throttled.headers["X-Rate-Limit-Remaining"] == "0.0"
        clock.now += 1.0  # leaks 10 units per second
        assert call(url, headers=AUTH).status == 200


def test_canvas_throttle_fault(server: SandboxServer, call: Any) -> None:
    server.faults.inject("/canvas/api/v1/courses", "canvas_throttle", count=2)
    url = api(server, f"courses/{COURSE}/sections")
    replies = [call(url, headers=AUTH) for _ in range(3)]
    assert [r.status for r in replies] == [403, 403, 200]
    assert b"Rate Limit Exceeded" in replies[0].body
    assert replies[0].headers["X-Rate-Limit-Remaining"] == "0.0"
    assert [r.fault for r in server.requests[-3:]] == ["canvas_throttle", "canvas_throttle", None]


def test_generic_faults_apply_to_canvas(server: SandboxServer, call: Any) -> None:
    server.faults.inject("/canvas/", "server_error", status=503)
    assert call(api(server, f"courses/{COURSE}"), headers=AUTH).status == 503
    assert call(api(server, f"courses/{COURSE}"), headers=AUTH).status == 200


def test_forbidden_course_answers_permission_denied(server: SandboxServer, call: Any) -> None:
    server.canvas.forbidden_courses.add(COURSE)
    reply = call(api(server, f"courses/{COURSE}/users"), headers=AUTH)
    assert reply.status == 403
    assert reply.json()["errors"][0]["message"] == "user not authorized to perform that action"
    assert b"Rate Limit" not in reply.body


# -- content exports ---------------------------------------------------------------------------


def _start(server: SandboxServer, call: Any, course: str = COURSE) -> dict[str, Any]:
    reply = call(
        api(server, f"courses/{course}/content_exports"),
        "POST",
        form={"export_type": "common_cartridge"},
        headers=AUTH,
    )
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.json()
    return body


def test_export_workflow_produces_a_cartridge(server: SandboxServer, call: Any) -> None:
    server.canvas.export_polls = 3
    started = _start(server, call)
    assert started["workflow_state"] == "created"
    assert started["attachment"] is None
    url = api(server, f"courses/{COURSE}/content_exports/{started['id']}")
    states = [call(url, headers=AUTH).json()["workflow_state"] for _ in range(4)]
    assert states == ["exporting", "exporting", "exported", "exported"]
    export = call(url, headers=AUTH).json()
    download = call(export["attachment"]["url"])  # the verifier stands in for the token
    assert download.status == 200
    assert len(download.body) == export["attachment"]["size"]
    with zipfile.ZipFile(io.BytesIO(download.body)) as archive:
        names = archive.namelist()
        manifest = archive.read("imsmanifest.xml").decode()
    assert names[0] == "imsmanifest.xml"
    assert "<lomimscc:dateTime>" in manifest
    assert any(name.startswith("wiki_content/") for name in names)
    progress = call(started["progress_url"], headers=AUTH).json()
    assert progress["workflow_state"] == "completed"
    tampered = export["attachment"]["url"].replace("verifier=", "verifier=x")
    assert call(tampered).status == 401


def test_export_can_fail_and_rejects_bad_types(server: SandboxServer, call: Any) -> None:
    server.canvas.export_polls = 1
    server.canvas.failed_export_courses.add(COURSE)
    started = _start(server, call)
    url = api(server, f"courses/{COURSE}/content_exports/{started['id']}")
    assert call(url, headers=AUTH).json()["workflow_state"] == "failed"
    bad = call(
        api(server, f"courses/{COURSE}/content_exports"),
        "POST",
        form={"export_type": "pdf"},
        headers=AUTH,
    )
    assert bad.status == 400
    other_course = api(server, f"courses/{FIRST_COURSE_ID + 1}/content_exports/{started['id']}")
    assert call(other_course, headers=AUTH).status == 404


def test_exports_differ_in_timestamps_only(institution: Institution) -> None:
    data = CanvasData.for_institution(institution)
    course = data.courses[0]
    first = build_imscc(course, data.now)
    later = build_imscc(course, data.now.replace(year=data.now.year + 1))
    assert first != later

    def members(blob: bytes) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    a, b = members(first), members(later)
    assert a.keys() == b.keys()
    assert [n for n in a if a[n] != b[n]] == ["imsmanifest.xml"]
    edited = members(build_imscc(course, data.now, revision=1))
    assert edited["course_settings/course_settings.xml"] != a["course_settings/course_settings.xml"]


@pytest.mark.parametrize("size", ["small", "default"])
def test_course_count_follows_the_size_knob(size: str) -> None:
    data = CanvasData.for_institution(Institution.from_size(size))
    assert len(data.courses) == SIZES[size]["courses"]
    assert all(course.students for course in data.courses)
