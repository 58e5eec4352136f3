"""The legacy LMSes' Studio (course export API, OLX tarballs) and discussion forum
(cs_comments_service) of the sandbox, on the wire."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import pytest

from ol_sandbox.data import SIZES, Institution
from ol_sandbox.edxapp import LEGACY_DEPLOYMENTS, edxapp_deployment
from ol_sandbox.forum import api_key_for, forum_threads
from ol_sandbox.server import SandboxServer
from ol_sandbox.studio import course_export

EXPORT = "api/courses/v0/export"


def _json_call(call: Any, url: str, method: str = "GET", **options: Any) -> Any:
    reply = call(url, method, **options)
    return reply.status, (json.loads(reply.body) if reply.body else None)


def _studio_token(call: Any, server: SandboxServer, deployment: str) -> str:
    reply = call(
        f"{server.studio_url(deployment)}/oauth2/access_token",
        "POST",
        form={
            "grant_type": "client_credentials",
            "client_id": f"sandbox-{deployment}",
            "client_secret": f"sandbox-secret-{deployment}",
            "token_type": "jwt",
        },
    )
    assert reply.status == 200, reply.body
    return str(reply.json()["access_token"])


def _start(server: SandboxServer, token: str, deployment: str, courses: list[str]) -> Any:
    import httpx

    return httpx.post(
        f"{server.studio_url(deployment)}/{EXPORT}/",
        json={"courses": courses},
        headers={"Authorization": f"JWT {token}"},
    )


@pytest.mark.parametrize("deployment", LEGACY_DEPLOYMENTS)
def test_a_course_export_is_started_polled_and_downloaded(
    server: SandboxServer, institution: Institution, call: Any, deployment: str
) -> None:
    course = edxapp_deployment(institution, deployment).course_runs[0]
    token = _studio_token(call, server, deployment)
    started = _start(server, token, deployment, [course.course_id])
    assert started.status_code == 200
    body = started.json()
    assert body["failed_uploads"] == {}
    task_id = body["upload_task_ids"][course.course_id]
    url = body["upload_urls"][course.course_id]
    assert url.endswith(f"/exports/{course.course_id}.tar.gz")
    assert call(url).status == 404  # not in the bucket before the task succeeded
    auth = {"Authorization": f"JWT {token}"}
    status_url = f"{server.studio_url(deployment)}/{EXPORT}/{course.course_id}/"
    states = [
        _json_call(call, status_url, params={"task_id": task_id}, headers=auth)[1]["state"]
        for _ in range(3)
    ]
    assert states == ["In Progress", "Succeeded", "Succeeded"]
    download = call(url)
    assert download.status == 200
    assert download.headers["Content-Type"] == "application/x-tgz"
    assert download.body == course_export(course)  # deterministic bytes
    with tarfile.open(fileobj=io.BytesIO(download.body), mode="r:gz") as archive:
        names = archive.getnames()
    assert "course/course.xml" in names
    assert f"course/course/{course.run}.xml" in names
    assert f"course/policies/{course.run}/policy.json" in names
    for folder in ("chapter", "sequential", "vertical"):
        assert any(name.startswith(f"course/{folder}/") for name in names), folder
    assert server.studio.downloads == 1


def test_export_errors_failures_and_stalls(
    server: SandboxServer, institution: Institution, call: Any
) -> None:
    first, second = edxapp_deployment(institution, "mitx").course_runs[:2]
    token = _studio_token(call, server, "mitx")
    auth = {"Authorization": f"JWT {token}"}
    # No token, an unknown course, an empty request.
    status, _ = _json_call(call, f"{server.studio_url('mitx')}/{EXPORT}/", "POST")
    assert status == 401
    refused = _start(server, token, "mitx", [first.course_id, "course-v1:MITx+Nope+1T2026"])
    assert refused.status_code == 400
    assert "course-v1:MITx+Nope+1T2026" in refused.json()["failed_uploads"]
    assert _start(server, token, "mitx", []).status_code == 400
    # A failing export, then a stalled one.
    server.studio.fail_exports(first.course_id)
    server.studio.stalled_courses.add(second.course_id)
    tasks = _start(server, token, "mitx", [first.course_id, second.course_id]).json()
    ids = tasks["upload_task_ids"]
    for _ in range(4):
        failed = _json_call(
            call,
            f"{server.studio_url('mitx')}/{EXPORT}/{first.course_id}/",
            params={"task_id": ids[first.course_id]},
            headers=auth,
        )[1]
        stalled = _json_call(
            call,
            f"{server.studio_url('mitx')}/{EXPORT}/{second.course_id}/",
            params={"task_id": ids[second.course_id]},
            headers=auth,
        )[1]
    assert failed == {"state": "Failed"}
    assert stalled == {"state": "In Progress"}
    unknown = _json_call(
        call,
        f"{server.studio_url('mitx')}/{EXPORT}/{first.course_id}/",
        params={"task_id": "not-a-task"},
        headers=auth,
    )
    assert unknown == (404, {"detail": "Task not found"})
    # The next export of the course succeeds (one failure was asked for).
    again = _start(server, token, "mitx", [first.course_id]).json()["upload_task_ids"]
    states = [
        _json_call(
            call,
            f"{server.studio_url('mitx')}/{EXPORT}/{first.course_id}/",
            params={"task_id": again[first.course_id]},
            headers=auth,
        )[1]["state"]
        for _ in range(2)
    ]
    assert states[-1] == "Succeeded"


def test_forum_threads_are_paged_and_read_with_their_responses(
    server: SandboxServer, institution: Institution, call: Any
) -> None:
    course = edxapp_deployment(institution, "mitx").course_runs[0]
    threads = forum_threads(institution, "mitx")[course.course_id]
    assert len(threads) > 3
    base = f"{server.forum_url('mitx')}/api/v1/threads"
    key = {"X-Edx-Api-Key": api_key_for("mitx")}
    assert call(base, params={"course_id": course.course_id}).status == 401
    wrong = {"X-Edx-Api-Key": api_key_for("xpro")}
    assert call(base, params={"course_id": course.course_id}, headers=wrong).status == 401
    seen: list[str] = []
    page = 1
    while True:
        status, body = _json_call(
            call, base, params={"course_id": course.course_id, "page": page, "per_page": 3},
            headers=key,
        )  # fmt: skip
        assert status == 200
        seen.extend(thread["id"] for thread in body["collection"])
        if page >= body["num_pages"]:
            break
        page += 1
    assert sorted(seen) == sorted(thread.id for thread in threads)
    assert body["thread_count"] == len(threads)
    question = next(thread for thread in threads if thread.thread_type == "question")
    status, detail = _json_call(
        call, f"{base}/{question.id}", params={"recursive": "true"}, headers=key
    )
    assert status == 200
    assert "children" not in detail  # questions answer in endorsed / non-endorsed responses
    responses = detail["endorsed_responses"] + detail["non_endorsed_responses"]
    assert len(responses) == len(question.responses)
    assert detail["non_endorsed_resp_total"] == len(detail["non_endorsed_responses"])
    assert all(r["endorsed"] for r in detail["endorsed_responses"])
    discussion = next(
        thread
        for thread in threads
        if thread.thread_type == "discussion" and len(thread.responses) > 1
    )
    status, first = _json_call(
        call,
        f"{base}/{discussion.id}",
        params={"recursive": "true", "resp_skip": 0, "resp_limit": 1},
        headers=key,
    )
    assert len(first["children"]) == 1
    assert first["resp_total"] == len(discussion.responses)
    assert first["user_id"] == str(discussion.author_id)  # the service's ids are text
    assert call(f"{base}/ffffffffffffffffffffffff", headers=key).status == 404


def test_forums_are_deterministic_and_awkward() -> None:
    institution = Institution.generate(seed=42, **SIZES["small"])
    again = Institution.generate(seed=42, **SIZES["small"])
    for deployment in LEGACY_DEPLOYMENTS:
        assert forum_threads(institution, deployment) == forum_threads(again, deployment)
    threads = [t for ts in forum_threads(institution, "mitx").values() for t in ts]
    assert any(not thread.title.isascii() for thread in threads)
    assert any("\n" in thread.body and "\t" in thread.body for thread in threads)
    assert any(thread.anonymous for thread in threads)
    assert any(response.children for thread in threads for response in thread.responses)
    assert any(not thread.responses for thread in threads)
