"""The sandbox serves the Open edX APIs with their real paths, auth, shapes and pagination."""

from __future__ import annotations

import base64
import signal
import socket
import subprocess
import sys
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from ol_sandbox.data import Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

TOKEN_PATH = "oauth2/access_token"
BLOCK_FIELDS = "children,display_name,type,graded,format,due,lms_web_url"


def auth(token: str, scheme: str = "JWT") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def test_start_stop_and_url(institution: Institution, call: Any) -> None:
    server = SandboxServer(institution, fault_config=FaultConfig())
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        reply = call(f"{server.url}/health")
        assert reply.status == 200
        assert reply.json() == {"status": "ok", "openedx": ["mitxonline", "xpro"]}
        port = server.port
    with socket.socket() as sock:
        sock.settimeout(1)
        with pytest.raises(OSError):
            sock.connect(("127.0.0.1", port))


# -- OAuth2 ------------------------------------------------------------------------------------


def test_token_endpoint_issues_jwt_tokens(server: SandboxServer, call: Any) -> None:
    url = f"{server.openedx_url('xpro')}/{TOKEN_PATH}"
    form = {"grant_type": "client_credentials", "client_id": "sandbox-xpro"}
    reply = call(url, "POST", form={**form, "client_secret": "sandbox-secret-xpro"})
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    jwt = call(
        url, "POST", form={**form, "client_secret": "sandbox-secret-xpro", "token_type": "jwt"}
    )
    assert jwt.json()["token_type"] == "JWT"
    assert jwt.json()["access_token"] != body["access_token"]
    assert server.tokens_issued == 2


def test_token_endpoint_accepts_basic_auth(server: SandboxServer, call: Any) -> None:
    basic = base64.b64encode(b"sandbox-mitxonline:sandbox-secret-mitxonline").decode()
    reply = call(
        f"{server.openedx_url('mitxonline')}/{TOKEN_PATH}",
        "POST",
        form={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert reply.status == 200


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [
        ("sandbox-mitxonline", "wrong"),
        ("sandbox-xpro", "sandbox-secret-xpro"),  # another deployment's credentials
        ("", ""),
    ],
)
def test_wrong_credentials_are_invalid_client(
    server: SandboxServer, call: Any, client_id: str, secret: str
) -> None:
    reply = call(
        f"{server.openedx_url('mitxonline')}/{TOKEN_PATH}",
        "POST",
        form={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert reply.status == 401
    assert reply.json() == {"error": "invalid_client"}


def test_unsupported_grant_type(server: SandboxServer, call: Any) -> None:
    reply = call(
        f"{server.openedx_url('mitxonline')}/{TOKEN_PATH}",
        "POST",
        form={"grant_type": "password", "client_id": "sandbox-mitxonline"},
    )
    assert reply.status == 400
    assert reply.json() == {"error": "unsupported_grant_type"}


def test_api_requires_a_valid_token(server: SandboxServer, call: Any, get_token: Any) -> None:
    url = f"{server.openedx_url('mitxonline')}/api/courses/v1/courses/"
    assert call(url).status == 401
    assert call(url, headers={"Authorization": "JWT"}).status == 401
    assert call(url, headers={"Authorization": "Token abc"}).status == 401
    assert call(url, headers=auth("not-a-token")).status == 401
    other = get_token(server, "xpro")
    assert call(url, headers=auth(other)).status == 401
    token = get_token(server, "mitxonline")
    assert call(url, headers=auth(token)).status == 200
    assert call(url, headers=auth(token, "Bearer")).status == 200
    unauthorized = call(url)
    assert "WWW-Authenticate" in unauthorized.headers
    assert unauthorized.json()["detail"]


def test_tokens_expire(institution: Institution, call: Any, get_token: Any) -> None:
    now = [1000.0]
    with SandboxServer(
        institution, token_ttl=30, fault_config=FaultConfig(), clock=lambda: now[0]
    ) as server:
        token = get_token(server)
        url = f"{server.openedx_url('mitxonline')}/api/courses/v1/courses/"
        assert call(url, headers=auth(token)).status == 200
        now[0] += 30
        expired = call(url, headers=auth(token))
        assert expired.status == 401
        assert expired.json()["error_code"] == "token_expired"
        assert call(url, headers=auth(get_token(server))).status == 200


def test_expire_tokens_revokes_every_token(server: SandboxServer, call: Any, token: str) -> None:
    url = f"{server.openedx_url('mitxonline')}/api/courses/v1/courses/"
    assert call(url, headers=auth(token)).status == 200
    server.expire_tokens()
    assert call(url, headers=auth(token)).status == 401


# -- routing -----------------------------------------------------------------------------------


def test_unknown_deployment_path_and_method(server: SandboxServer, call: Any, token: str) -> None:
    unknown = call(f"{server.url}/openedx/mitx/api/courses/v1/courses/", headers=auth(token))
    assert unknown.status == 404
    assert "mitx" in unknown.json()["detail"]
    assert unknown.headers["Content-Type"] == "application/json"
    missing = call(f"{server.openedx_url('mitxonline')}/api/nope/", headers=auth(token))
    assert missing.status == 404
    assert missing.json() == {"detail": "Not found."}
    assert call(f"{server.url}/canvas/api/v1/courses").status == 404
    wrong = call(f"{server.openedx_url('mitxonline')}/api/courses/v1/courses/", "POST", form={})
    assert wrong.status == 405
    assert wrong.headers["Allow"] == "GET"


def test_request_log(server: SandboxServer, call: Any, token: str) -> None:
    server.clear_requests()
    call(f"{server.openedx_url('mitxonline')}/api/courses/v1/courses/", params={"page": 1})
    call(
        f"{server.openedx_url('mitxonline')}/api/courses/v1/courses/",
        params={"page": 1},
        headers=auth(token),
    )
    log = server.requests
    assert [(r.method, r.path, r.query, r.status, r.fault) for r in log] == [
        ("GET", "/openedx/mitxonline/api/courses/v1/courses/", "page=1", 401, None),
        ("GET", "/openedx/mitxonline/api/courses/v1/courses/", "page=1", 200, None),
    ]


# -- courses -----------------------------------------------------------------------------------


def test_course_list_walk_sees_every_course_once(
    server: SandboxServer, institution: Institution, call: Any, token: str
) -> None:
    url: str | None = f"{server.openedx_url('mitxonline')}/api/courses/v1/courses/?page_size=3"
    seen: Counter[str] = Counter()
    pages = 0
    while url:
        reply = call(url, headers=auth(token))
        assert reply.status == 200
        body = reply.json()
        assert set(body) == {"results", "pagination"}
        assert set(body["pagination"]) == {"next", "previous", "count", "num_pages"}
        assert body["pagination"]["count"] == 4
        assert body["pagination"]["num_pages"] == 2
        assert (body["pagination"]["previous"] is None) == (pages == 0)
        seen.update(course["id"] for course in body["results"])
        url = body["pagination"]["next"]
        if url:
            assert url.startswith(f"{server.url}/openedx/mitxonline/api/courses/v1/courses/?")
            assert parse_qs(urlsplit(url).query)["page_size"] == ["3"]
        pages += 1
    expected = {c.course_id for c in institution.deployment("mitxonline").course_runs}
    assert set(seen) == expected
    assert set(seen.values()) == {1}
    assert pages == 2


def test_course_list_default_page_size_is_10(call: Any, get_token: Any) -> None:
    big = Institution.generate(seed=1, courses=12, learners=5, days=3)
    with SandboxServer(big, fault_config=FaultConfig()) as server:
        url = f"{server.openedx_url('xpro')}/api/courses/v1/courses/"
        body = call(url, headers=auth(get_token(server, "xpro"))).json()
        assert len(body["results"]) == 10
        assert body["pagination"]["num_pages"] == 2
        assert parse_qs(urlsplit(body["pagination"]["next"]).query) == {"page": ["2"]}


def test_course_payload_shape(
    server: SandboxServer, institution: Institution, call: Any, token: str
) -> None:
    body = call(
        f"{server.openedx_url('mitxonline')}/api/courses/v1/courses/", headers=auth(token)
    ).json()
    course = body["results"][0]
    expected = institution.deployment("mitxonline").course_runs[0]
    assert course["id"] == course["course_id"] == expected.course_id
    assert course["name"] == expected.name
    assert (course["org"], course["number"]) == (expected.org, expected.number)
    assert (course["start"], course["end"]) == (expected.start, expected.end)
    assert course["pacing"] == expected.pacing
    assert course["hidden"] is expected.hidden
    assert course["invitation_only"] is expected.invitation_only
    assert isinstance(course["mobile_available"], bool)
    assert course["blocks_url"].startswith(
        f"{server.url}/openedx/mitxonline/api/courses/v2/blocks/?course_id="
    )


def test_invalid_course_page(server: SandboxServer, call: Any, token: str) -> None:
    url = f"{server.openedx_url('mitxonline')}/api/courses/v1/courses/"
    for page in ("0", "3", "x"):
        reply = call(url, params={"page": page, "page_size": 3}, headers=auth(token))
        assert reply.status == 404
        assert reply.json() == {"detail": "Invalid page."}


# -- blocks ------------------------------------------------------------------------------------


def blocks_params(course_id: str, **extra: str) -> dict[str, str]:
    return {
        "course_id": course_id,
        "all_blocks": "true",
        "depth": "all",
        "requested_fields": BLOCK_FIELDS,
        **extra,
    }


def test_course_blocks_shape(
    server: SandboxServer, institution: Institution, call: Any, token: str
) -> None:
    course = institution.deployment("mitxonline").course_runs[1]
    reply = call(
        f"{server.openedx_url('mitxonline')}/api/courses/v2/blocks/",
        params=blocks_params(course.course_id),
        headers=auth(token),
    )
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"root", "blocks"}
    assert body["root"] == course.root_key
    assert list(body["blocks"]) == [b.usage_key for b in course.blocks]
    for block in course.blocks:
        payload = body["blocks"][block.usage_key]
        base = {"id", "block_id", "type", "display_name", "graded", "format", "due"}
        base |= {"lms_web_url", "student_view_url"}
        assert set(payload) == (base | {"children"} if block.children else base)
        assert payload["id"] == block.usage_key
        assert payload["block_id"] == block.block_id
        assert payload["type"] == block.block_type
        assert payload["display_name"] == block.display_name
        assert payload.get("children", []) == list(block.children)
        assert payload["graded"] is block.graded
        assert (payload["format"], payload["due"]) == (block.format, block.due)
        assert payload["lms_web_url"].endswith(
            f"/courses/{course.course_id}/jump_to/{block.usage_key}"
        )


def test_course_blocks_depth_and_fields(
    server: SandboxServer, institution: Institution, call: Any, token: str
) -> None:
    course = institution.deployment("mitxonline").course_runs[0]
    body = call(
        f"{server.openedx_url('mitxonline')}/api/courses/v2/blocks/",
        params={"course_id": course.course_id, "all_blocks": "true", "depth": "1"},
        headers=auth(token),
    ).json()
    assert {b["type"] for b in body["blocks"].values()} == {"course", "chapter"}
    assert all("children" not in b and "graded" not in b for b in body["blocks"].values())


def test_course_blocks_errors(server: SandboxServer, call: Any, token: str) -> None:
    url = f"{server.openedx_url('mitxonline')}/api/courses/v2/blocks/"
    unknown = call(url, params=blocks_params("course-v1:MITx+0.000x+1T2020"), headers=auth(token))
    assert unknown.status == 404
    assert "course-v1:MITx+0.000x+1T2020" in unknown.json()["detail"]
    assert call(url, params={"all_blocks": "true"}, headers=auth(token)).status == 400
    assert call(url, params=blocks_params("not-a-key"), headers=auth(token)).status == 400
    no_all = {"course_id": "course-v1:MITx+0.000x+1T2020"}
    assert call(url, params=no_all, headers=auth(token)).status == 400
    assert call(url, params=blocks_params("course-v1:a+b+c")).status == 401


# -- enrollments -------------------------------------------------------------------------------


def walk_enrollments(call: Any, first_url: str, token: str) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    url: str | None = first_url
    pages = 0
    while url:
        reply = call(url, headers=auth(token))
        assert reply.status == 200, reply.body
        body = reply.json()
        assert set(body) == {"next", "previous", "results"}
        assert (body["previous"] is None) == (pages == 0)
        rows.extend(body["results"])
        url = body["next"]
        pages += 1
    return rows, pages


def test_enrollment_cursor_walk_sees_every_enrollment_once(
    server: SandboxServer, institution: Institution, call: Any, token: str
) -> None:
    data = institution.deployment("mitxonline")
    course = max(data.course_runs, key=lambda c: len(data.enrollments[c.course_id]))
    expected = data.enrollments[course.course_id]
    assert len(expected) > 7
    base = f"{server.openedx_url('mitxonline')}/api/enrollment/v1/enrollments/"
    first = call(base, params={"course_id": course.course_id, "page_size": 7}, headers=auth(token))
    next_url = first.json()["next"]
    assert next_url.startswith(f"{server.url}/openedx/mitxonline/api/enrollment/v1/enrollments/?")
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    assert not cursor.isdigit()  # opaque, not a page number
    query = urlencode({"course_id": course.course_id, "page_size": 7})
    rows, pages = walk_enrollments(call, f"{base}?{query}", token)
    assert pages == -(-len(expected) // 7)
    assert rows == [
        {
            "created": e.created,
            "mode": e.mode,
            "is_active": e.is_active,
            "user": e.username,
            "course_id": e.course_id,
        }
        for e in expected
    ]
    assert len({(r["user"], r["course_id"]) for r in rows}) == len(rows)


def test_enrollments_without_course_filter(
    server: SandboxServer, institution: Institution, call: Any, get_token: Any
) -> None:
    token = get_token(server, "xpro")
    rows, _ = walk_enrollments(
        call, f"{server.openedx_url('xpro')}/api/enrollment/v1/enrollments/?page_size=50", token
    )
    assert len(rows) == len(institution.deployment("xpro").all_enrollments())
    expected_users = {e.username for e in institution.deployment("xpro").all_enrollments()}
    assert {r["user"] for r in rows} == expected_users  # non-ASCII names survive the wire
    assert {r["course_id"] for r in rows} <= {
        c.course_id for c in institution.deployment("xpro").course_runs
    }


def test_enrollments_default_page_size_and_bad_cursor(
    server: SandboxServer, institution: Institution, call: Any, token: str
) -> None:
    url = f"{server.openedx_url('mitxonline')}/api/enrollment/v1/enrollments/"
    body = call(url, headers=auth(token)).json()
    total = len(institution.deployment("mitxonline").all_enrollments())
    assert len(body["results"]) == min(total, 100)
    bad = call(url, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=auth(token))
    assert bad.status == 404
    assert bad.json() == {"detail": "Invalid cursor"}
    unknown = call(url, params={"course_id": "course-v1:X+Y+Z"}, headers=auth(token))
    assert unknown.json() == {"next": None, "previous": None, "results": []}


# -- command line ------------------------------------------------------------------------------


def test_cli_serves_until_interrupted(call: Any) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ol_sandbox", "serve", "--size", "small", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONUNBUFFERED": "1", "PATH": ""},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "serving at http://127.0.0.1:" in first, first + (
            process.stderr.read() if process.stderr else ""
        )
        url = first.rsplit(" ", 1)[-1].strip()
        assert call(f"{url}/health").json()["status"] == "ok"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
