"""Slack HTTP routes: `SlackApi`, the Web API methods and incoming webhooks served under `/slack/`.

Like Slack, Web API methods answer HTTP 200 with `{"ok": false, "error": "<code>"}` for a missing
or wrong token (`not_authed`, `invalid_auth`), an unknown channel, no text, or blocks Slack would
refuse (`invalid_blocks`, with the reasons in `errors`); webhooks answer 404 `no_service` for an
unknown URL and 400 `invalid_blocks`. Accepted messages are recorded in order.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from ol_sandbox.routing import Request, Response

SLACK_PREFIX = "slack"
# SANDBOX-ONLY bot token and webhook path (also in dg_deployments/local/secrets.yaml, slack/api).
SLACK_SANDBOX_TOKEN = "xoxb-sandbox-token"  # noqa: S105 - grants access to the sandbox only
SLACK_SANDBOX_WEBHOOK_PATH = "services/TSANDBOX/BSANDBOX/sandbox-webhook-secret"
# Slack's limits on one message (https://api.slack.com/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_FIELD_TEXT = 2_000
MAX_SECTION_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
BLOCK_TYPES = frozenset(
    {"header", "section", "context", "divider", "actions", "image", "rich_text"}
)
# The channel id every channel name resolves to in the sandbox's one workspace.
TEAM_ID = "TSANDBOX"


@dataclass(frozen=True)
class SlackMessage:
    """One message the sandbox accepted: where it went, its text and blocks, and how it came."""

    channel: str
    text: str
    blocks: tuple[Mapping[str, Any], ...]
    ts: str
    via: str  # "api" (chat.postMessage) or "webhook"

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "text": self.text,
            "blocks": list(self.blocks),
            "ts": self.ts,
            "via": self.via,
        }


def _text_of(obj: Any) -> str:
    return str(obj.get("text") or "") if isinstance(obj, Mapping) else ""


def block_problems(blocks: Sequence[Any]) -> list[str]:
    """Why Slack would refuse these blocks (empty when it would accept them)."""
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"must provide at most {MAX_BLOCKS} items [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}]"
        if not isinstance(block, Mapping):
            problems.append(f"must be an object {where}")
            continue
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            problems.append(f"unsupported type {kind!r} {where}")
        elif kind == "header":
            text = block.get("text")
            if not isinstance(text, Mapping) or text.get("type") != "plain_text":
                problems.append(f"header text must be plain_text {where}")
            elif len(_text_of(text)) > MAX_HEADER_TEXT:
                problems.append(f"must be less than {MAX_HEADER_TEXT + 1} characters {where}/text")
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields") or []
            if not text and not fields:
                problems.append(f"section needs text or fields {where}")
            if len(_text_of(text)) > MAX_SECTION_TEXT:
                problems.append(f"must be less than {MAX_SECTION_TEXT + 1} characters {where}/text")
            if len(fields) > MAX_SECTION_FIELDS:
                problems.append(f"must provide at most {MAX_SECTION_FIELDS} items {where}/fields")
            for n, item in enumerate(fields):
                if len(_text_of(item)) > MAX_FIELD_TEXT:
                    problems.append(
                        f"must be less than {MAX_FIELD_TEXT + 1} characters {where}/fields/{n}"
                    )
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
                problems.append(f"must provide 1 to {MAX_CONTEXT_ELEMENTS} elements {where}")
    return problems


def _ok(payload: Mapping[str, Any] | None = None) -> Response:
    return Response.json(200, {"ok": True, **(payload or {})})


def _error(code: str, **extra: Any) -> Response:
    # Slack's Web API reports failures in the body with HTTP 200.
    return Response.json(200, {"ok": False, "error": code, **extra})


@dataclass
class SlackApi:
    """The emulated Slack workspace: one bot token, one webhook, any channel name."""

    token: str = SLACK_SANDBOX_TOKEN
    webhook_path: str = SLACK_SANDBOX_WEBHOOK_PATH
    webhook_channel: str = "#sandbox-webhook"
    _messages: list[SlackMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sequence: int = 0

    # -- what tests read --------------------------------------------------------------------

    @property
    def messages(self) -> list[SlackMessage]:
        with self._lock:
            return list(self._messages)

    def messages_in(self, channel: str) -> list[SlackMessage]:
        return [message for message in self.messages if message.channel == channel]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def _record(self, channel: str, text: str, blocks: Sequence[Any], via: str) -> SlackMessage:
        with self._lock:
            self._sequence += 1
            message = SlackMessage(
                channel, text, tuple(blocks), f"1767225600.{self._sequence:06d}", via
            )
            self._messages.append(message)
            return message

    # -- HTTP -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        segments = [s for s in request.path.split("/") if s]
        if segments == ["messages"] and request.method == "GET":
            return Response.json(200, [m.to_json() for m in self.messages])
        if segments[:1] == ["webhook"] and request.method == "POST":
            return self._webhook("/".join(segments[1:]), request)
        if len(segments) == 2 and segments[0] == "api":
            return self._api(segments[1], request)
        return Response.json(404, {"ok": False, "error": "unknown_method"})

    def _api(self, method: str, request: Request) -> Response:
        params = _params(request)
        if params is None:
            return _error("invalid_json")
        authorization = request.headers.get("authorization", "")
        token = authorization.removeprefix("Bearer ").strip() or str(params.get("token") or "")
        if not token:
            return _error("not_authed")
        if token != self.token:
            return _error("invalid_auth")
        if method == "auth.test":
            return _ok({"team": "ol-sandbox", "team_id": TEAM_ID, "user": "ol-data-platform"})
        if method == "chat.postMessage":
            return self._post_message(params)
        if method == "conversations.history":
            channel = str(params.get("channel") or "")
            if not channel:
                return _error("channel_not_found")
            history = [m.to_json() for m in reversed(self.messages_in(channel))]
            return _ok({"messages": history, "has_more": False})
        return _error("unknown_method")

    def _post_message(self, params: Mapping[str, Any]) -> Response:
        channel = str(params.get("channel") or "").strip()
        if not channel:
            return _error("channel_not_found")
        text = str(params.get("text") or "")
        blocks = params.get("blocks") or []
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return _error("invalid_blocks_format")
        if not isinstance(blocks, list):
            return _error("invalid_blocks_format")
        if not text and not blocks:
            return _error("no_text")
        if len(text) > MAX_TEXT:
            return _error("msg_too_long")
        problems = block_problems(blocks)
        if problems:
            return _error("invalid_blocks", errors=problems)
        message = self._record(channel, text, blocks, "api")
        return _ok({"channel": channel, "ts": message.ts, "message": {"text": text}})

    def _webhook(self, path: str, request: Request) -> Response:
        if path != self.webhook_path:
            return Response(404, b"no_service", {"Content-Type": "text/html"})
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return Response(400, b"invalid_payload", {"Content-Type": "text/html"})
        text, blocks = str(payload.get("text") or ""), payload.get("blocks") or []
        if not text and not blocks:
            return Response(400, b"no_text", {"Content-Type": "text/html"})
        if block_problems(blocks) or len(text) > MAX_TEXT:
            return Response(400, b"invalid_blocks", {"Content-Type": "text/html"})
        self._record(self.webhook_channel, text, blocks, "webhook")
        return Response(200, b"ok", {"Content-Type": "text/html"})


def _params(request: Request) -> dict[str, Any] | None:
    """A Web API call's arguments: the query, then a JSON or form body (None: bad JSON)."""
    params: dict[str, Any] = {name: values[0] for name, values in request.query.items() if values}
    content_type = request.headers.get("content-type", "")
    if not request.body:
        return params
    if content_type.startswith("application/json"):
        try:
            body = json.loads(request.body)
        except ValueError:
            return None
        if isinstance(body, dict):
            params.update(body)
        return params
    form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    params.update({name: values[0] for name, values in form.items() if values})
    return params
