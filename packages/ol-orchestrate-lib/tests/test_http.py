"""ApiClient against the real sandbox server: retries, auth, pagination and safe errors."""

from __future__ import annotations

import email.utils
import json
import logging
import random
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ol_orchestrate.lib.http import (
    ApiClient,
    ApiError,
    BearerTokenAuth,
    OAuth2ClientCredentialsAuth,
    RetryBudgetExhaustedError,
    parse_retry_after,
    redact_url,
)
from ol_sandbox.data import Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

DEPLOYMENT = "mitxonline"
CLIENT_ID = f"sandbox-{DEPLOYMENT}"
CLIENT_SECRET = f"sandbox-secret-{DEPLOYMENT}"
COURSES = "/api/courses/v1/courses/"
ENROLLMENTS = "/api/enrollment/v1/enrollments/"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_auth(server: SandboxServer, secret: str = CLIENT_SECRET, **kwargs: Any) -> Any:
    return OAuth2ClientCredentialsAuth(
        f"{server.openedx_url(DEPLOYMENT)}/oauth2/access_token",
        CLIENT_ID,
        secret,
        scheme="JWT",
        extra_params={"token_type": "jwt"},
        **kwargs,
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sandbox: SandboxServer, sleeps: list[float]) -> Iterator[Callable[..., ApiClient]]:
    clients: list[ApiClient] = []

    def build(auth: Any = None, **kwargs: Any) -> ApiClient:
        kwargs.setdefault("sleep", sleeps.append)
        kwargs.setdefault("rng", random.Random(0))  # noqa: S311
        kwargs.setdefault("timeout", 5.0)
        client = ApiClient(
            sandbox.openedx_url(DEPLOYMENT),
            make_auth(sandbox) if auth is None else auth,
            **kwargs,
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def statuses(server: SandboxServer, path_part: str) -> list[int | None]:
    return [r.status for r in server.requests if path_part in r.path]


# -- happy path and auth -------------------------------------------------------------------------


def test_oauth_token_is_fetched_once_and_reused(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient]
) -> None:
    client = make_client()
    for _ in range(3):
        assert client.get_json(COURSES)["pagination"]["count"] == 4
    assert sandbox.tokens_issued == 1
    assert [(r.method, r.status) for r in sandbox.requests] == [
        ("POST", 200),
        ("GET", 200),
        ("GET", 200),
        ("GET", 200),
    ]


def test_bearer_token_auth(sandbox: SandboxServer, make_client: Callable[..., ApiClient]) -> None:
    token_client = make_client()
    token = token_client.post_json(
        "/oauth2/access_token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
              "client_secret": CLIENT_SECRET},
        authenticated=False,
    )["access_token"]  # fmt: skip
    client = make_client(BearerTokenAuth(token))
    assert client.get_json(COURSES)["results"]
    bad = make_client(BearerTokenAuth("sandbox-not-a-real-token"))
    with pytest.raises(ApiError) as excinfo:
        bad.get_json(COURSES)
    assert excinfo.value.status == 401
    assert "sandbox-not-a-real-token" not in str(excinfo.value)
    assert statuses(sandbox, COURSES)[-1:] == [401]  # not retried


def test_token_refresh_after_server_side_expiry(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    client = make_client()
    client.get_json(COURSES)
    sandbox.expire_tokens()
    assert client.get_json(COURSES)["results"]
    assert [(r.method, r.status) for r in sandbox.requests] == [
        ("POST", 200),
        ("GET", 200),
        ("GET", 401),
        ("POST", 200),
        ("GET", 200),
    ]
    assert sleeps == []  # a refresh is not a backoff


def test_token_refreshed_before_it_expires(
    sandbox_institution: Institution, sleeps: list[float]
) -> None:
    clock = Clock()
    with SandboxServer(
        sandbox_institution, token_ttl=120, fault_config=FaultConfig(), clock=clock
    ) as server:
        auth = make_auth(server, clock=clock, refresh_margin=30)
        with ApiClient(server.openedx_url(DEPLOYMENT), auth, sleep=sleeps.append) as client:
            client.get_json(COURSES)
            clock.now += 89  # still 31s to go: reuse
            client.get_json(COURSES)
            assert auth.tokens_fetched == 1
            clock.now += 2  # within the 30s margin: refresh first, never see a 401
            client.get_json(COURSES)
            clock.now += 1000
            client.get_json(COURSES)
        assert auth.tokens_fetched == 3
        assert 401 not in [r.status for r in server.requests]


def test_persistent_401_is_refreshed_once_then_fails(
    sandbox_institution: Institution, sleeps: list[float]
) -> None:
    with SandboxServer(sandbox_institution, token_ttl=0, fault_config=FaultConfig()) as server:
        auth = make_auth(server)
        with ApiClient(server.openedx_url(DEPLOYMENT), auth, sleep=sleeps.append) as client:
            with pytest.raises(ApiError) as excinfo:
                client.get_json(COURSES)
            tokens = [t for t in auth.secrets() if t != CLIENT_SECRET]
        assert excinfo.value.status == 401
        assert "Token has expired" in str(excinfo.value)
        assert all(t not in str(excinfo.value) for t in tokens)
        assert [(r.method, r.status) for r in server.requests] == [
            ("POST", 200),
            ("GET", 401),
            ("POST", 200),
            ("GET", 401),
        ]


def test_bad_credentials_fail_fast_without_leaking_the_secret(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    secret = "sup3r-s3cret-value"
    client = make_client(make_auth(sandbox, secret=secret))
    with pytest.raises(ApiError) as excinfo:
        client.get_json(COURSES)
    error = excinfo.value
    assert not isinstance(error, RetryBudgetExhaustedError)
    assert error.status == 401
    assert error.method == "POST"
    assert error.endpoint.endswith("/openedx/mitxonline/oauth2/access_token")
    message = str(error)
    assert message.startswith("POST http://127.0.0.1:")
    assert "HTTP 401" in message
    assert "invalid_client" in message
    assert secret not in message
    assert secret not in repr(client)
    assert secret not in repr(client.auth)
    assert [(r.method, r.status) for r in sandbox.requests] == [("POST", 401)]
    assert sleeps == []


def test_basic_client_credentials(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient]
) -> None:
    client = make_client(make_auth(sandbox, credentials_in="basic"))
    assert client.get_json(COURSES)["results"]


# -- retries -------------------------------------------------------------------------------------


def test_recovers_from_429_honouring_retry_after(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    client = make_client()
    sandbox.faults.inject("courses", "rate_limit", count=2, retry_after=7)
    assert client.get_json(COURSES)["pagination"]["count"] == 4
    assert sleeps == [7.0, 7.0]
    assert statuses(sandbox, COURSES) == [429, 429, 200]


def test_retry_after_http_date(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    client = make_client()
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    sandbox.faults.inject("courses", "rate_limit", retry_after=when)
    client.get_json(COURSES)
    assert len(sleeps) == 1
    assert 17 <= sleeps[0] <= 20


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Mon, 05 Jan 2026 12:01:30 GMT", now) == 90.0
    assert parse_retry_after("Mon, 05 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("-5", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_retry_after_is_capped(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    client = make_client(max_retry_after=10)
    sandbox.faults.inject("courses", "rate_limit", retry_after=3600)
    client.get_json(COURSES)
    assert sleeps == [10]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_recovers_from_server_errors_with_exponential_backoff(
    sandbox: SandboxServer,
    make_client: Callable[..., ApiClient],
    sleeps: list[float],
    status: int,
) -> None:
    client = make_client(backoff_initial=1.0, backoff_max=3.0)
    sandbox.faults.inject("courses", "server_error", count=4, status=status)
    assert client.get_json(COURSES)["results"]
    assert statuses(sandbox, COURSES) == [status] * 4 + [200]
    ceilings = [1.0, 2.0, 3.0, 3.0]  # doubling, capped at backoff_max
    assert len(sleeps) == 4
    for slept, ceiling in zip(sleeps, ceilings, strict=True):
        assert ceiling / 2 <= slept <= ceiling


def test_recovers_from_timeouts(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    client = make_client(timeout=0.3)
    client.get_json(COURSES)  # token first, so only the GET is slow
    sandbox.faults.inject("courses", "slow", seconds=2.0)
    assert client.get_json(COURSES)["results"]
    assert len(sleeps) == 1
    assert [kind for kind, _ in sandbox.faults.fired] == ["slow"]
    # the slow answer is still pending on the server: only the retry has been answered
    assert statuses(sandbox, COURSES) == [200, 200]


@pytest.mark.parametrize("mode", ["length", "json"])
def test_recovers_from_truncated_bodies(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float], mode: str
) -> None:
    client = make_client()
    sandbox.faults.inject("courses", "truncate", count=2, mode=mode)
    assert client.get_json(COURSES)["pagination"]["count"] == 4
    assert len(sleeps) == 2


def test_recovers_from_connection_resets(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    client = make_client()
    sandbox.faults.inject("courses", "reset", count=2)
    assert client.get_json(COURSES)["results"]
    assert statuses(sandbox, COURSES) == [None, None, 200]
    assert len(sleeps) == 2


def test_token_endpoint_is_retried_too(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    client = make_client()
    sandbox.faults.inject("access_token", "server_error", status=503)
    sandbox.faults.inject("access_token", "reset")
    assert client.get_json(COURSES)["results"]
    assert statuses(sandbox, "access_token") == [503, None, 200]


def test_retry_budget_exhausted_names_the_request_not_the_token(
    sandbox: SandboxServer,
    make_client: Callable[..., ApiClient],
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(max_retries=2)
    sandbox.faults.inject("enrollments", "server_error", count=5, status=503)
    caplog.set_level(logging.DEBUG, logger="ol_orchestrate.lib.http")
    with pytest.raises(RetryBudgetExhaustedError) as excinfo:
        client.get_json(ENROLLMENTS, {"course_id": "course-v1:MITx+1.01x+1T2026", "page_size": 5})
    error = excinfo.value
    message = str(error)
    assert error.status == 503
    assert error.attempts == 3
    assert error.method == "GET"
    assert "/openedx/mitxonline/api/enrollment/v1/enrollments/" in error.endpoint
    assert message.startswith("GET http://127.0.0.1:")
    assert "failed after 3 attempts" in message
    assert "HTTP 503" in message
    assert "course_id=course-v1%3AMITx%2B1.01x%2B1T2026" in message
    assert len(sleeps) == 2
    assert statuses(sandbox, "enrollments") == [503, 503, 503]
    secrets = client.auth.secrets() if client.auth else ()
    assert len(secrets) == 2  # the client secret and the cached token
    retry_logs = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(retry_logs) == 2
    assert "retrying" in retry_logs[0].getMessage()
    for secret in secrets:
        assert secret not in message
        assert secret not in caplog.text


def test_retry_budget_exhausted_on_resets(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient]
) -> None:
    client = make_client(max_retries=1)
    client.get_json(COURSES)
    sandbox.faults.inject("courses", "reset", count=2)
    with pytest.raises(
        RetryBudgetExhaustedError, match=r"failed after 2 attempts; last error: \w+"
    ):
        client.get_json(COURSES)


def test_client_errors_are_not_retried(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    client = make_client()
    with pytest.raises(ApiError) as excinfo:
        client.get_json("/api/courses/v2/blocks/", {"course_id": "course-v1:No+Such+Course",
                                                     "all_blocks": "true"})  # fmt: skip
    assert excinfo.value.status == 404
    assert "Course course-v1:No+Such+Course not found." in str(excinfo.value)
    assert sleeps == []
    assert statuses(sandbox, "blocks") == [404]


def test_sensitive_query_parameters_are_redacted(
    sandbox: SandboxServer, make_client: Callable[..., ApiClient]
) -> None:
    client = make_client()
    params = {
        "access_token": "tok-123",
        "api_key": "k-456",
        "password": "pw-789",
        "verifier": "v-000",  # Canvas file download links carry one
        "page": "2",
    }
    with pytest.raises(ApiError) as excinfo:
        client.get_json("/api/nothing/", params)
    message = str(excinfo.value)
    for value in ("tok-123", "k-456", "pw-789", "v-000"):
        assert value not in message
        assert value not in excinfo.value.endpoint
    assert "page=2" in message
    assert "access_token=REDACTED" in message
    assert redact_url("https://u:p@h.example/x?client_secret=s&course_key=c&sig=z") == (
        "https://h.example/x?client_secret=REDACTED&course_key=c&sig=REDACTED"
    )


def test_canvas_style_throttling_via_is_throttled_hook(sleeps: list[float]) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) <= 2:
            return httpx.Response(403, text="403 Forbidden (Rate Limit Exceeded)")
        return httpx.Response(200, json={"ok": True})

    class ThrottleAware(ApiClient):
        def is_throttled(self, response: httpx.Response) -> bool:
            return super().is_throttled(response) or (
                response.status_code == 403 and "Rate Limit Exceeded" in response.text
            )

    transport = httpx.MockTransport(handler)
    with ThrottleAware("https://canvas.example", transport=transport, sleep=sleeps.append) as c:
        assert c.get_json("/api/v1/courses") == {"ok": True}
    assert len(sleeps) == 2
    calls.clear()
    plain = ApiClient("https://canvas.example", transport=transport, sleep=sleeps.append)
    with plain, pytest.raises(ApiError, match="HTTP 403: 403 Forbidden"):
        plain.get_json("/api/v1/courses")
    assert len(calls) == 1


# -- pagination ----------------------------------------------------------------------------------


def test_next_url_pagination_in_pagination_object(
    sandbox: SandboxServer, sandbox_institution: Institution, make_client: Callable[..., ApiClient]
) -> None:
    client = make_client()
    pages = list(client.iter_pages(COURSES, {"page_size": 3}, style="next_url"))
    assert [len(p.records) for p in pages] == [3, 1]
    ids = [c["id"] for p in pages for c in p.records]
    expected = [c.course_id for c in sandbox_institution.deployment(DEPLOYMENT).course_runs]
    assert ids == expected


def test_next_url_pagination_at_top_level(
    sandbox: SandboxServer, sandbox_institution: Institution, make_client: Callable[..., ApiClient]
) -> None:
    client = make_client()
    rows = list(client.paginate(ENROLLMENTS, {"page_size": 9}, style="next_url"))
    expected = sandbox_institution.deployment(DEPLOYMENT).all_enrollments()
    assert [(r["user"], r["course_id"]) for r in rows] == [
        (e.username, e.course_id) for e in expected
    ]


def test_cursor_pagination_from_next_url(
    sandbox: SandboxServer, sandbox_institution: Institution, make_client: Callable[..., ApiClient]
) -> None:
    client = make_client()
    data = sandbox_institution.deployment(DEPLOYMENT)
    course = data.course_runs[0]
    expected = data.enrollments[course.course_id]
    sandbox.faults.inject("cursor=", "rate_limit", retry_after=1)  # a retry mid-walk
    rows = list(
        client.paginate(
            ENROLLMENTS, {"course_id": course.course_id, "page_size": 4}, style="cursor"
        )
    )
    assert [r["user"] for r in rows] == [e.username for e in expected]
    gets = [r for r in sandbox.requests if "enrollments" in r.path and r.status == 200]
    assert len(gets) == -(-len(expected) // 4)
    for record in gets[1:]:
        assert "cursor=" in record.query
        assert "page_size=4" in record.query
        assert "course_id=" in record.query


def test_cursor_pagination_from_a_body_field(sleeps: list[float]) -> None:
    pages = {None: (["a", "b"], "c1"), "c1": (["c"], "c2"), "c2": (["d"], None)}
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        records, next_cursor = pages[request.url.params.get("after")]
        return httpx.Response(200, json={"data": records, "meta": {"next_cursor": next_cursor}})

    with ApiClient("https://api.example/v2", transport=httpx.MockTransport(handler)) as client:
        records = list(
            client.paginate(
                "/items", {"limit": 2}, style="cursor", results_key="data",
                next_key="meta.next_cursor", cursor_param="after",
            )
        )  # fmt: skip
    assert records == ["a", "b", "c", "d"]
    assert [str(u) for u in seen] == [
        "https://api.example/v2/items?limit=2",
        "https://api.example/v2/items?limit=2&after=c1",
        "https://api.example/v2/items?limit=2&after=c2",
    ]


def link_transport(pages: Mapping[str, tuple[list[Any], str | None]], seen: list[str]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        records, next_link = pages[str(request.url)]
        headers = {}
        if next_link:
            headers["Link"] = (
                f'<{next_link}>; rel="next", <https://lms.example/x?page=1>; rel="first"'
            )
        return httpx.Response(200, content=json.dumps(records), headers=headers)

    return httpx.MockTransport(handler)


def test_link_header_pagination_follows_links_exactly(sleeps: list[float]) -> None:
    first = "https://lms.example/api/v1/courses/1/users?per_page=2"
    second = "https://lms.example/api/v1/courses/1/users?page=bookmark:WzJd&per_page=2"
    third = "https://lms.example/api/v1/courses/1/users?page=bookmark:WzRd&per_page=2"
    relative = "/api/v1/courses/1/users?page=bookmark:WzRd&per_page=2"  # resolved, else as is
    pages = {first: ([1, 2], second), second: ([3, 4], relative), third: ([5], None)}
    seen: list[str] = []
    with ApiClient("https://lms.example", transport=link_transport(pages, seen)) as client:
        records = list(client.paginate("/api/v1/courses/1/users", {"per_page": 2}))
    assert records == [1, 2, 3, 4, 5]
    assert seen == [first, second, third]


def test_link_pagination_refuses_other_hosts_and_loops(sleeps: list[float]) -> None:
    start = "https://lms.example/items"
    seen: list[str] = []
    evil = {start: ([1], "https://evil.example/items?page=2")}
    client = ApiClient("https://lms.example", transport=link_transport(evil, seen))
    with client, pytest.raises(ApiError, match="another host"):
        list(client.paginate("/items"))
    page2 = "https://lms.example/items?page=2"
    loop = {start: ([1], page2), page2: ([2], page2)}
    client = ApiClient("https://lms.example", transport=link_transport(loop, seen))
    with client, pytest.raises(ApiError, match="repeats a page"):
        list(client.paginate("/items"))


def test_next_link_is_never_downgraded_to_http(sleeps: list[float]) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json={"results": [2], "next": None})
        return httpx.Response(200, json={"results": [1], "next": "http://lms.example/api/?page=2"})

    with ApiClient("https://lms.example", transport=httpx.MockTransport(handler)) as client:
        assert list(client.paginate("/api/", style="next_url")) == [1, 2]
    assert seen == ["https://lms.example/api/", "https://lms.example/api/?page=2"]


def test_unknown_pagination_style(make_client: Callable[..., ApiClient]) -> None:
    with pytest.raises(ValueError, match="pagination style"):
        list(make_client().paginate(COURSES, style="offset"))  # type: ignore[arg-type]
