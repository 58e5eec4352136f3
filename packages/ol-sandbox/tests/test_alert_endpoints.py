"""The sandbox's Slack and Sentry answer like the real services and record what they receive."""

from __future__ import annotations

import gzip
import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from ol_sandbox.sentry import SENTRY_SANDBOX_KEY, parse_envelope
from ol_sandbox.server import SandboxServer
from ol_sandbox.slack import SLACK_SANDBOX_TOKEN

BEARER = {"Authorization": f"Bearer {SLACK_SANDBOX_TOKEN}"}
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}}


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _send(
    url: str,
    method: str = "GET",
    *,
    json: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request on a fresh connection, with a JSON or raw body."""
    parts = urlsplit(url)
    all_headers = dict(headers or {})
    if json is not None:
        data = _json.dumps(json).encode()
        all_headers["Content-Type"] = "application/json; charset=utf-8"
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=data, headers=all_headers)
        response = conn.getresponse()
        return Reply(response.status, response.read())
    finally:
        conn.close()


_json = json


@pytest.fixture
def call() -> Any:
    return _send


def post_message(call: Any, server: SandboxServer, body: Any, headers: Any = None) -> Any:
    return call(
        f"{server.slack_api_url}/chat.postMessage",
        "POST",
        json=body,
        headers=BEARER if headers is None else headers,
    )


def test_chat_post_message_records_the_message(server: SandboxServer, call: Any) -> None:
    reply = post_message(call, server, {"channel": "#alerts", "text": "hi", "blocks": [SECTION]})
    assert reply.status == 200
    body = reply.json()
    assert body["ok"] is True
    assert body["channel"] == "#alerts"
    [message] = server.slack.messages
    assert (message.channel, message.text, list(message.blocks), message.via) == (
        "#alerts",
        "hi",
        [SECTION],
        "api",
    )
    assert message.ts == body["ts"]
    history = call(
        f"{server.slack_api_url}/conversations.history?channel=%23alerts", headers=BEARER
    )
    assert [m["text"] for m in history.json()["messages"]] == ["hi"]
    assert call(f"{server.url}/slack/messages").json()[0]["blocks"] == [SECTION]


def test_slack_errors_come_back_as_slack_sends_them(server: SandboxServer, call: Any) -> None:
    def error(body: Any, headers: Any = None) -> Any:
        reply = post_message(call, server, body, headers)
        assert reply.status == 200  # the Web API reports errors in the body
        assert reply.json()["ok"] is False
        return reply.json()

    assert error({"channel": "#a", "text": "x"}, headers={})["error"] == "not_authed"
    assert (
        error({"channel": "#a", "text": "x"}, {"Authorization": "Bearer xoxb-wrong"})["error"]
        == "invalid_auth"
    )
    assert error({"text": "x"})["error"] == "channel_not_found"
    assert error({"channel": "#a"})["error"] == "no_text"
    too_many = error({"channel": "#a", "text": "x", "blocks": [SECTION] * 51})
    assert too_many["error"] == "invalid_blocks"
    assert too_many["errors"] == ["must provide at most 50 items [json-pointer:/blocks]"]
    long_header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert error({"channel": "#a", "text": "x", "blocks": [long_header]})["error"] == (
        "invalid_blocks"
    )
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}
    assert error({"channel": "#a", "text": "x", "blocks": [long_section]})["error"] == (
        "invalid_blocks"
    )
    assert server.slack.messages == []
    reply = post_message(call, server, {"channel": "#a", "text": "x", "blocks": [SECTION] * 50})
    assert reply.json()["ok"] is True


def test_incoming_webhook(server: SandboxServer, call: Any) -> None:
    reply = call(server.slack_webhook_url, "POST", json={"text": "from a webhook"})
    assert (reply.status, reply.body) == (200, b"ok")
    wrong = call(f"{server.url}/slack/webhook/services/T/B/wrong", "POST", json={"text": "x"})
    assert (wrong.status, wrong.body) == (404, b"no_service")
    [message] = server.slack.messages
    assert (message.via, message.text) == ("webhook", "from a webhook")


def _envelope(event: dict[str, Any]) -> bytes:
    payload = json.dumps(event).encode()
    return b"\n".join(
        [
            json.dumps({"event_id": event["event_id"]}).encode(),
            json.dumps({"type": "event", "length": len(payload)}).encode(),
            payload,
            json.dumps({"type": "client_report"}).encode(),
            b"{}",
        ]
    )


def test_sentry_envelopes_are_recorded(server: SandboxServer, call: Any) -> None:
    event = {"event_id": "a" * 32, "message": "boom", "fingerprint": ["x", "y"], "tags": {"k": "v"}}
    auth = {"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={SENTRY_SANDBOX_KEY}"}
    url = f"{server.url}/sentry/api/1/envelope/"
    reply = call(
        url,
        "POST",
        data=gzip.compress(_envelope(event)),
        headers={**auth, "Content-Encoding": "gzip"},
    )
    assert (reply.status, reply.json()) == (200, {"id": "a" * 32})
    [recorded] = server.sentry.events
    assert (recorded.event_id, recorded.fingerprint, recorded.tags) == (
        "a" * 32,
        ["x", "y"],
        {"k": "v"},
    )
    assert call(f"{server.url}/sentry/events").json()[0]["message"] == "boom"

    wrong = {"X-Sentry-Auth": "Sentry sentry_version=7, sentry_key=nope"}
    assert call(url, "POST", data=_envelope(event), headers=wrong).status == 401
    other_project = f"{server.url}/sentry/api/2/envelope/?sentry_key={SENTRY_SANDBOX_KEY}"
    assert call(other_project, "POST", data=_envelope(event)).status == 404
    assert server.sentry_dsn == f"http://{SENTRY_SANDBOX_KEY}@127.0.0.1:{server.port}/sentry/1"


def test_parse_envelope_reads_items_with_and_without_length() -> None:
    body = b'{"event_id":"e"}\n{"type":"event","length":7}\n{"a":1}\n{"type":"event"}\n{"b":2}\n'
    header, items = parse_envelope(body)
    assert header == {"event_id": "e"}
    assert [(h["type"], json.loads(p)) for h, p in items] == [
        ("event", {"a": 1}),
        ("event", {"b": 2}),
    ]
