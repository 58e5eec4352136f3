"""Each fault kind does what it says on the wire; random faults are seeded and deterministic."""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any

import pytest

from ol_sandbox.data import Institution
from ol_sandbox.faults import ENV_VAR, FaultConfig, FaultInjector
from ol_sandbox.server import SandboxServer

COURSES = "/api/courses/v1/courses/"


def courses_url(server: SandboxServer) -> str:
    return f"{server.openedx_url('mitxonline')}{COURSES}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"JWT {token}"}


def raw_get(server: SandboxServer, path: str, token: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", path, headers=auth(token))
    return conn.getresponse()


def test_rate_limit_sends_retry_after_then_recovers(
    server: SandboxServer, call: Any, token: str
) -> None:
    server.faults.inject("courses", "rate_limit", count=2, retry_after=3)
    for _ in range(2):
        reply = call(courses_url(server), headers=auth(token))
        assert reply.status == 429
        assert reply.headers["Retry-After"] == "3"
        assert "throttled" in reply.json()["detail"]
    assert call(courses_url(server), headers=auth(token)).status == 200
    assert server.faults.pending == []
    assert [r.status for r in server.requests[-3:]] == [429, 429, 200]
    assert [r.fault for r in server.requests[-3:]] == ["rate_limit", "rate_limit", None]


def test_rate_limit_with_http_date(server: SandboxServer, call: Any, token: str) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    server.faults.inject("courses", "rate_limit", retry_after=date)
    assert call(courses_url(server), headers=auth(token)).headers["Retry-After"] == date


def test_faults_only_hit_matching_paths_and_methods(
    server: SandboxServer, call: Any, token: str
) -> None:
    server.faults.inject("enrollments", "server_error")
    server.faults.inject("access_token", "server_error", method="GET")
    assert call(courses_url(server), headers=auth(token)).status == 200
    token_url = f"{server.openedx_url('mitxonline')}/oauth2/access_token"
    assert call(token_url, "POST", form={"grant_type": "x"}).status == 400  # POST: not matched
    enrollments = f"{server.openedx_url('mitxonline')}/api/enrollment/v1/enrollments/"
    assert call(enrollments, headers=auth(token)).status == 500
    assert call(enrollments, headers=auth(token)).status == 200
    assert len(server.faults.pending) == 1


def test_faults_match_the_query_string(server: SandboxServer, call: Any, token: str) -> None:
    server.faults.inject("page=2", "server_error", status=502)
    assert (
        call(courses_url(server), params={"page": 1, "page_size": 2}, headers=auth(token)).status
        == 200
    )
    assert (
        call(courses_url(server), params={"page": 2, "page_size": 2}, headers=auth(token)).status
        == 502
    )


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(server: SandboxServer, call: Any, token: str, status: int) -> None:
    server.faults.inject("courses", "server_error", status=status, retry_after=2)
    reply = call(courses_url(server), headers=auth(token))
    assert reply.status == status
    assert reply.headers["Retry-After"] == "2"
    if status == 500:
        assert reply.json() == {"detail": "A server error occurred."}
    else:
        assert reply.body.startswith(b"<html>")  # what a gateway sends


def test_slow_answers_late_but_correctly(server: SandboxServer, call: Any, token: str) -> None:
    server.faults.inject("courses", "slow", seconds=0.4)
    started = time.perf_counter()
    reply = call(courses_url(server), headers=auth(token))
    assert time.perf_counter() - started >= 0.4
    assert reply.status == 200
    assert len(reply.json()["results"]) == 4


def test_slow_does_not_block_stop(institution: Institution, call: Any, get_token: Any) -> None:
    server = SandboxServer(institution, fault_config=FaultConfig()).start()
    token = get_token(server)
    server.faults.inject("courses", "slow", seconds=30)
    with pytest.raises(TimeoutError):
        call(courses_url(server), headers=auth(token), timeout=0.2)
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 5


def test_truncate_announces_more_than_it_sends(server: SandboxServer, token: str) -> None:
    server.faults.inject("courses", "truncate")
    response = raw_get(server, f"/openedx/mitxonline{COURSES}", token)
    assert response.status == 200
    announced = int(response.headers["Content-Length"])
    with pytest.raises(http.client.IncompleteRead) as excinfo:
        response.read()
    assert 0 < len(excinfo.value.partial) < announced
    assert server.requests[-1].fault == "truncate"


def test_truncate_json_mode_sends_valid_http_but_broken_json(
    server: SandboxServer, call: Any, token: str
) -> None:
    server.faults.inject("courses", "truncate", mode="json")
    reply = call(courses_url(server), headers=auth(token))
    assert reply.status == 200
    assert len(reply.body) == int(reply.headers["Content-Length"])
    with pytest.raises(json.JSONDecodeError):
        reply.json()
    assert call(courses_url(server), headers=auth(token)).json()["results"]


def test_reset_closes_without_a_response(server: SandboxServer, call: Any, token: str) -> None:
    server.faults.inject("courses", "reset")
    with pytest.raises((ConnectionError, http.client.BadStatusLine)):
        call(courses_url(server), headers=auth(token))
    assert server.requests[-1].status is None
    assert server.requests[-1].fault == "reset"
    assert call(courses_url(server), headers=auth(token)).status == 200


def test_reset_sends_a_tcp_rst(server: SandboxServer, token: str) -> None:
    server.faults.inject("courses", "reset")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        request = (
            f"GET /openedx/mitxonline{COURSES} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: JWT {token}\r\n\r\n"
        )
        sock.sendall(request.encode())

        def drain() -> None:
            while sock.recv(1024):
                pass

        with pytest.raises(ConnectionResetError):
            drain()


def test_inject_validates_its_arguments() -> None:
    faults = FaultInjector()
    with pytest.raises(ValueError, match="rate_limit, server_error, slow, truncate, reset"):
        faults.inject("x", "explode")
    with pytest.raises(ValueError, match="count"):
        faults.inject("x", "slow", count=0)
    with pytest.raises(ValueError, match="status"):
        faults.inject("x", "server_error", status=404)
    with pytest.raises(ValueError, match="mode"):
        faults.inject("x", "truncate", mode="half")


def test_fault_config_from_env() -> None:
    config = FaultConfig.from_env({ENV_VAR: "rate_limit=0.05, server_error=0.02,seed=7"})
    assert config == FaultConfig(rate_limit_rate=0.05, error_rate=0.02, seed=7)
    assert config.enabled
    assert FaultConfig.from_env({}) == FaultConfig()
    assert not FaultConfig.from_env({ENV_VAR: ""}).enabled
    with pytest.raises(ValueError, match=r"expected key=value"):
        FaultConfig.parse("lightning=0.5")
    with pytest.raises(ValueError, match="number"):
        FaultConfig.parse("reset=often")
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultConfig.parse("reset=2")


def test_server_reads_random_faults_from_env(
    institution: Institution, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, "server_error=0.5,seed=3")
    assert SandboxServer(institution).faults.config == FaultConfig(error_rate=0.5, seed=3)


def statuses(institution: Institution, config: FaultConfig, call: Any) -> list[int]:
    with SandboxServer(institution, fault_config=config) as server:
        return [call(f"{server.url}/health").status for _ in range(30)]


def test_random_faults_are_seeded(institution: Institution, call: Any) -> None:
    config = FaultConfig(rate_limit_rate=0.3, error_rate=0.2, seed=7)
    first = statuses(institution, config, call)
    assert first == statuses(institution, config, call)
    assert {200, 429, 503} <= set(first)
    assert first != statuses(
        institution, FaultConfig(rate_limit_rate=0.3, error_rate=0.2, seed=8), call
    )
