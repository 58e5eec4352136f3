"""Each fault kind does what it says on the wire; random faults are seeded and deterministic;
payload faults change the JSON of a normal answer the way an API changes under its clients."""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any
from urllib.parse import quote

import pytest

from ol_sandbox.canvas import CANVAS_SANDBOX_TOKEN
from ol_sandbox.data import Institution
from ol_sandbox.faults import (
    DEFAULT_ADDED_VALUE,
    DEFAULT_MALFORMED_RECORD,
    ENV_VAR,
    PAYLOAD_KINDS,
    FaultConfig,
    FaultInjector,
    mutate_payload,
    payload_records,
    retype,
)
from ol_sandbox.server import SandboxServer

COURSES = "/api/courses/v1/courses/"
CANVAS_AUTH = {"Authorization": f"Bearer {CANVAS_SANDBOX_TOKEN}"}


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
    with pytest.raises(ValueError, match="add_field, drop_field, change_type, malformed_record"):
        faults.inject("x", "explode")
    for kind in ("add_field", "drop_field", "change_type"):
        with pytest.raises(ValueError, match="needs field"):
            faults.inject("x", kind)
    with pytest.raises(ValueError, match="change_type to must be one of object, string"):
        faults.inject("x", "change_type", field="id", to="date")
    with pytest.raises(ValueError, match="record index"):
        faults.inject("x", "malformed_record", record="first")
    with pytest.raises(ValueError, match="non-empty string"):
        faults.inject("x", "malformed_record", field=3)
    faults.inject("x", "change_type", field="id", value=[1])  # an explicit value needs no `to`
    faults.inject("x", "malformed_record")  # no field: the whole record is broken


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


# -- payload faults ------------------------------------------------------------------------------


def call_json(call: Any, url: str, headers: dict[str, str]) -> Any:
    reply = call(url, headers=headers)
    assert reply.status == 200, reply.body
    return reply.json()


def courses(call: Any, server: SandboxServer, token: str) -> list[dict[str, Any]]:
    return list(call_json(call, courses_url(server), auth(token))["results"])


def test_add_field_adds_to_every_record_of_one_answer(
    server: SandboxServer, call: Any, token: str
) -> None:
    clean = courses(call, server, token)
    server.faults.inject("courses/v1", "add_field", field="x_added", value={"nested": [1]})
    changed = courses(call, server, token)
    assert [{k: v for k, v in c.items() if k != "x_added"} for c in changed] == clean
    assert [c["x_added"] for c in changed] == [{"nested": [1]}] * len(clean)
    assert courses(call, server, token) == clean  # count=1: the next answer is normal again
    assert server.requests[-2].fault == "add_field"
    assert server.requests[-2].status == 200


def test_drop_field_removes_it_from_every_record(
    server: SandboxServer, call: Any, token: str
) -> None:
    server.faults.inject("courses/v1", "drop_field", field="name")
    changed = courses(call, server, token)
    assert changed
    assert all("name" not in c and c["id"] for c in changed)


def test_change_type_on_every_record(server: SandboxServer, call: Any, token: str) -> None:
    clean = courses(call, server, token)
    server.faults.inject("courses/v1", "change_type", field="id")  # default: to an object
    server.faults.inject("courses/v1", "change_type", field="hidden", to="string")
    assert [c["id"] for c in courses(call, server, token)] == [{"id": c["id"]} for c in clean]
    assert [c["hidden"] for c in courses(call, server, token)] == [
        "true" if c["hidden"] else "false" for c in clean
    ]


def test_malformed_record_breaks_one_record(server: SandboxServer, call: Any, token: str) -> None:
    clean = courses(call, server, token)
    server.faults.inject("courses/v1", "malformed_record")
    server.faults.inject("courses/v1", "malformed_record", record=1, field="course_id")
    server.faults.inject("courses/v1", "malformed_record", record=-1, field="start", value=[7])
    first, second, third = (courses(call, server, token) for _ in range(3))
    assert first == [DEFAULT_MALFORMED_RECORD, *clean[1:]]
    assert "course_id" not in second[1]
    assert [c for i, c in enumerate(second) if i != 1] == [c for i, c in enumerate(clean) if i != 1]
    assert third[-1]["start"] == [7]
    assert third[:-1] == clean[:-1]


def test_payload_faults_reach_canvas_lists_and_nested_fields(
    server: SandboxServer, call: Any
) -> None:
    url = f"{server.canvas_url}/api/v1/courses/10001/enrollments?per_page=100"
    clean = call_json(call, url, CANVAS_AUTH)
    server.faults.inject("/enrollments", "change_type", field="grades.current_score", to="string")
    changed = call_json(call, url, CANVAS_AUTH)
    students = [i for i, e in enumerate(clean) if e.get("grades", {}).get("current_score")]
    assert students
    for index in students:
        assert changed[index]["grades"]["current_score"] == str(
            clean[index]["grades"]["current_score"]
        )
    assert all("grades" not in changed[i] for i, e in enumerate(clean) if "grades" not in e)


def test_payload_faults_reach_course_blocks_and_single_objects(
    server: SandboxServer, call: Any, token: str
) -> None:
    course = server.institution.deployment("mitxonline").course_runs[0].course_id
    blocks_url = (
        f"{server.openedx_url('mitxonline')}/api/courses/v2/blocks/?course_id={quote(course)}"
        "&all_blocks=true&depth=all&requested_fields=children,type"
    )
    server.faults.inject("blocks", "drop_field", field="type")
    blocks = call_json(call, blocks_url, auth(token))["blocks"]
    assert blocks
    assert all("type" not in block for block in blocks.values())

    server.faults.inject("courses/10001", "add_field", field="term.x_new", value=1)
    canvas_course = call_json(call, f"{server.canvas_url}/api/v1/courses/10001", CANVAS_AUTH)
    assert canvas_course["id"] == 10001
    assert canvas_course["term"]["x_new"] == 1


def test_payload_faults_leave_error_answers_alone(server: SandboxServer, call: Any) -> None:
    server.faults.inject("courses/v1", "malformed_record")
    reply = call(courses_url(server))  # no token: 401
    assert reply.status == 401
    assert "detail" in reply.json()
    assert server.requests[-1].fault == "malformed_record"


def test_mutate_payload_is_pure() -> None:
    payload: dict[str, Any] = {
        "results": [{"id": 1, "flag": True}, {"id": 2, "flag": None}],
        "next": None,
    }
    changed = mutate_payload(payload, "change_type", {"field": "flag", "to": "string"})
    assert changed["results"] == [{"id": 1, "flag": "true"}, {"id": 2, "flag": None}]
    assert payload["results"][0]["flag"] is True  # the input is not changed
    assert mutate_payload(payload, "malformed_record", {"record": 5}) == payload  # out of range
    assert mutate_payload({"id": 3}, "drop_field", {"field": "id"}) == {}
    assert mutate_payload([{"a": 1}], "add_field", {"field": "b.c"}) == [
        {"a": 1, "b": {"c": DEFAULT_ADDED_VALUE}}
    ]
    assert mutate_payload([{"b": 1}], "add_field", {"field": "b.c"}) == [{"b": 1}]  # no clobber
    assert mutate_payload([{"a": 1}, {"a": 2}], "drop_field", {"field": "a", "record": 1}) == [
        {"a": 1},
        {},
    ]
    assert payload_records({"root": "r", "blocks": {"r": {"id": "r"}}}) == [{"id": "r"}]
    assert payload_records({"id": 1}) == [{"id": 1}]
    assert payload_records({"results": []}) == []
    with pytest.raises(ValueError, match="not a payload fault"):
        mutate_payload({}, "reset")
    assert set(PAYLOAD_KINDS) == {"add_field", "drop_field", "change_type", "malformed_record"}


@pytest.mark.parametrize(
    ("value", "to", "expected"),
    [
        (7, "object", {"id": 7}),
        (7, "list", [7]),
        (7, "string", "7"),
        (9.5, "string", "9.5"),
        (False, "string", "false"),
        ({"a": 1}, "string", '{"a": 1}'),
        ("12", "number", 12),
        ("9.5", "number", 9.5),
        ("abc", "number", 0),
        (True, "number", 1),
        (3, "number", 3.0),
    ],
)
def test_retype(value: Any, to: str, expected: Any) -> None:
    result = retype(value, to)
    assert result == expected
    assert type(result) is type(expected)
